"""Statistical tests used to reproduce Solberg et al. 2024 (J Am Board Fam Med), as R computes
them (the paper used R 4.1.3), from scipy.stats and statsmodels.

Modules: :mod:`~ccanalysis.stats.tests` (chi-squared, t, ANOVA, Benjamini-Hochberg; one dispatch,
:func:`run_test`), :mod:`~ccanalysis.stats.fisher` (Fisher's exact r x c test: our network
algorithm, as scipy has no exact r x c test), :mod:`~ccanalysis.stats.intervals` (Newcombe and t
intervals of a difference and the p inverting Newcombe's), :mod:`~ccanalysis.stats.clustered` (GEE differences clustered by care system),
:mod:`~ccanalysis.stats.bootstrap` (the cluster bootstrap).
"""

from __future__ import annotations

from ccanalysis.stats.fisher import fisher_exact
from ccanalysis.stats.intervals import mean_diff_ci, newcombe_diff
from ccanalysis.stats.result import FISHER_MC_NAME, FISHER_NAME, ExactTestBudgetError, TestResult
from ccanalysis.stats.tests import (
    anova,
    anova_from_summary,
    bh_qvalues,
    chisq,
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
    "fisher_exact",
    "mean_diff_ci",
    "newcombe_diff",
    "run_test",
    "t_test",
    "t_test_from_summary",
    "welch_anova",
    "welch_anova_from_moments",
]
