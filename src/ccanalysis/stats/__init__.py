"""The study's statistics as R computes them, from scipy.stats and statsmodels; our own where they
lack the method (:mod:`.fisher`, :mod:`.bootstrap`, Newcombe's inverted p)."""

from __future__ import annotations

from ccanalysis.stats.fisher import fisher_2x2_many, fisher_exact
from ccanalysis.stats.intervals import mean_diff_ci, newcombe_diff
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
    "anova",
    "anova_from_summary",
    "bh_qvalues",
    "chisq",
    "fisher_2x2_many",
    "fisher_exact",
    "mean_diff_ci",
    "newcombe_diff",
    "run_test",
    "t_test",
    "t_test_from_summary",
    "welch_anova",
    "welch_anova_from_moments",
]
