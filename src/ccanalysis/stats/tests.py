"""Tests that compare groups, from scipy.stats and statsmodels, as R computes them;
:func:`run_test`, a test by its id."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from statsmodels.stats.oneway import anova_generic

from ccanalysis.stats.fisher import TestResult, count_table, fisher_exact


def chisq(table: ArrayLike, *, correct: bool = False) -> TestResult:
    """Pearson's chi-squared test, R's ``chisq.test``; Yates' correction on 2 x 2 tables only."""
    t = count_table(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError("chi-squared test needs at least 2 non-empty rows and columns")
    yates = correct and t.shape == (2, 2)
    res = stats.chi2_contingency(t, correction=yates)
    test, name = ("chisq", "Pearson's chi-squared test")
    if yates:
        test, name = "chisq_yates", f"{name} with Yates' continuity correction"
    return TestResult(
        test, name, float(res.statistic), float(res.dof), float(res.pvalue), int(t.sum())
    )


def _clean(x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def _moments(groups: Sequence[ArrayLike], keep_empty: bool = False) -> tuple[list, list, list]:
    """Means, SDs (0 for fewer than two) and sizes of the groups, NaN dropped."""
    gs = [g for g in map(_clean, groups) if len(g) or keep_empty]
    sds = [g.std(ddof=1) if len(g) > 1 else 0.0 for g in gs]
    return [g.mean() if len(g) else np.nan for g in gs], sds, [len(g) for g in gs]


def t_test_from_summary(
    m1: float, s1: float, n1: int, m2: float, s2: float, n2: int, *, equal_var: bool = True
) -> TestResult:
    """Two-sample t test (Student, else Welch) from means, SDs and sizes."""
    if n1 < 2 or n2 < 2:
        raise ValueError("each group needs at least two observations")
    res = stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
    v1, v2 = s1**2 / n1, s2**2 / n2
    if equal_var:
        df, test, name = float(n1 + n2 - 2), "student_t", "Student's t-test"
    else:
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        test, name = "welch_t", "Welch's t-test"
    return TestResult(test, name, float(res.statistic), df, float(res.pvalue), int(n1 + n2))


def t_test(x: ArrayLike, y: ArrayLike, *, equal_var: bool = True) -> TestResult:
    """Two-sample t test, R's ``t.test(x, y, var.equal=equal_var)``, NaN dropped."""
    (m1, m2), (s1, s2), (n1, n2) = _moments([x, y], keep_empty=True)
    return t_test_from_summary(m1, s1, n1, m2, s2, n2, equal_var=equal_var)


def anova_from_summary(means: ArrayLike, sds: ArrayLike, ns: ArrayLike) -> TestResult:
    """One-way ANOVA F test from group means, SDs and sizes; ``sds`` may stack candidate SDs
    (``(..., k)``, the synthesizer's search: ``anova_generic`` takes one table at a time)."""
    m, s, n = (np.asarray(a, dtype=float) for a in (means, sds, ns))
    k, total = n.size, n.sum()
    if k < 2 or total <= k:
        raise ValueError("ANOVA needs at least two groups and N > k")
    between = (n * (m - (n * m).sum() / total) ** 2).sum()
    f = (between / (k - 1)) / (((n - 1) * s**2).sum(axis=-1) / (total - k))
    p = stats.f.sf(f, k - 1, total - k)
    if np.ndim(f) == 0:
        f, p = float(f), float(p)
    return TestResult("anova", "One-way ANOVA", f, k - 1.0, p, int(total), df2=total - k)


def anova(*groups: ArrayLike) -> TestResult:
    """One-way ANOVA, R's ``oneway.test(var.equal=TRUE)``, NaN and empty groups dropped."""
    return anova_from_summary(*_moments(groups))


def welch_anova_from_moments(
    means: Sequence[float], variances: Sequence[float], ns: Sequence[int]
) -> TestResult:
    """Welch's one-way ANOVA from group means, variances (ddof=1) and sizes."""
    n = np.asarray(ns, dtype=float)
    if len(n) < 2 or np.any(n < 2):
        raise ValueError("Welch ANOVA needs at least two groups of size >= 2")
    m, v = np.asarray(means, dtype=float), np.asarray(variances, dtype=float)
    res = anova_generic(m, v, n, use_var="unequal")
    return TestResult(
        "welch_anova",
        "Welch's one-way ANOVA",
        float(res.statistic),
        float(res.df_num),
        float(res.pvalue),
        int(n.sum()),
        df2=float(res.df_denom),
    )


def welch_anova(*groups: ArrayLike) -> TestResult:
    """Welch's heteroscedastic one-way ANOVA, R's ``oneway.test(var.equal=FALSE)``."""
    means, sds, ns = _moments(groups)
    return welch_anova_from_moments(means, np.square(sds), ns)


def bh_qvalues(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg q-values, R's ``p.adjust(p, "BH")``; NaN is not counted as a test."""
    arr = np.asarray(p, dtype=float).ravel()
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    if ok.any():
        out[ok] = stats.false_discovery_control(arr[ok], method="bh")
    return out


def run_test(
    test: str,
    *,
    table: ArrayLike | None = None,
    samples: Sequence[ArrayLike] | None = None,
    seed: int | None = None,
) -> TestResult:
    """Run ``test`` (an id the spec checked) on a count ``table`` (levels x groups) or on the
    groups' ``samples``."""
    if test == "fisher":
        return fisher_exact(table, seed=seed)
    if test in ("chisq", "chisq_yates"):
        return chisq(table, correct=test == "chisq_yates")
    if test in ("student_t", "welch_t"):
        if len(samples) != 2:
            raise ValueError("a t test needs exactly two groups")
        return t_test(samples[0], samples[1], equal_var=test == "student_t")
    return anova(*samples) if test == "anova" else welch_anova(*samples)
