"""Statistical tests used to reproduce Solberg et al. 2024 (J Am Board Fam Med).

The paper compared continuous measures with t tests / one-way ANOVA and
categorical answers with Fisher's exact test (R 4.1.3).  This module provides
those tests with results that agree with R, plus a few extras (Newcombe
interval, t interval for a mean difference, Benjamini-Hochberg q-values).

Modules: :mod:`~ccanalysis.stats.fisher` (exact r x c Fisher, the network algorithm),
:mod:`~ccanalysis.stats.tests` (chi-squared, t, ANOVA), :mod:`~ccanalysis.stats.intervals`
(Newcombe, t intervals), :mod:`~ccanalysis.stats.multiplicity` (Benjamini-Hochberg),
:mod:`~ccanalysis.stats.distributions` (tails and quantiles from ``scipy.special``).
"""

from __future__ import annotations

from ccanalysis.stats.fisher import fisher_exact
from ccanalysis.stats.intervals import mean_diff_ci, newcombe_diff
from ccanalysis.stats.multiplicity import bh_qvalues
from ccanalysis.stats.result import FISHER_MC_NAME, FISHER_NAME, ExactTestBudgetError, TestResult
from ccanalysis.stats.tests import (
    anova,
    anova_from_summary,
    chisq,
    compare_categorical,
    compare_continuous,
    run_test,
    t_test,
    t_test_from_summary,
    welch_anova,
    welch_anova_from_moments,
)

__all__ = [
    "FISHER_MC_NAME",
    "FISHER_NAME",
    "ExactTestBudgetError",
    "TestResult",
    "anova",
    "anova_from_summary",
    "bh_qvalues",
    "chisq",
    "compare_categorical",
    "compare_continuous",
    "fisher_exact",
    "mean_diff_ci",
    "newcombe_diff",
    "run_test",
    "t_test",
    "t_test_from_summary",
    "welch_anova",
    "welch_anova_from_moments",
]
