"""Tests that compare groups, as R computes them: chi-squared, Student and Welch t, one-way ANOVA
(Fisher and Welch); :func:`run_test`, a test by its id (the one dispatch); and the DataFrame
conveniences that pick the test for a categorical or continuous answer."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ccanalysis.stats.counts import as_count_table, drop_empty
from ccanalysis.stats.distributions import chi2_sf, f_sf, t_sf
from ccanalysis.stats.fisher import fisher_exact
from ccanalysis.stats.result import TestResult

# ---------------------------------------------------------------------------
# Chi-squared test
# ---------------------------------------------------------------------------


def chisq(table: ArrayLike, *, correct: bool = False) -> TestResult:
    """Pearson's chi-squared test of independence, as R's ``chisq.test``.

    All-zero rows/columns are dropped (R would return NaN).  With
    ``correct=True`` Yates' continuity correction is applied only to 2 x 2
    tables, exactly as R: the statistic is sum((|O - E| - Y)^2 / E) with
    Y = min(0.5, min |O - E|).  (SciPy's ``chi2_contingency`` corrects each
    cell by min(0.5, |O - E|) when dof == 1, which is the same for 2 x 2
    because |O - E| is equal in all four cells; we compute it directly.)
    """
    t = drop_empty(as_count_table(table)).astype(float)
    n = int(t.sum())
    if t.shape[0] < 2 or t.shape[1] < 2:
        raise ValueError("chi-squared test needs at least 2 non-empty rows and columns")
    e = np.outer(t.sum(axis=1), t.sum(axis=0)) / t.sum()
    dev = np.abs(t - e)
    yates = correct and t.shape == (2, 2)
    y = min(0.5, float(dev.min())) if yates else 0.0
    stat = float((((dev - y) ** 2) / e).sum())
    df = float((t.shape[0] - 1) * (t.shape[1] - 1))
    if yates:
        return TestResult(
            "chisq_yates",
            "Pearson's chi-squared test with Yates' continuity correction",
            stat,
            df,
            chi2_sf(stat, df),
            n,
        )
    return TestResult("chisq", "Pearson's chi-squared test", stat, df, chi2_sf(stat, df), n)


# ---------------------------------------------------------------------------
# t tests and ANOVA
# ---------------------------------------------------------------------------


def _clean(x: ArrayLike) -> NDArray[np.float64]:
    arr = np.asarray(x, dtype=float).ravel()
    return arr[~np.isnan(arr)]


def _summary(x: NDArray[np.float64]) -> tuple[float, float, int]:
    n = len(x)
    return float(x.mean()) if n else math.nan, float(x.std(ddof=1)) if n > 1 else math.nan, n


def t_test_from_summary(
    m1: float, s1: float, n1: int, m2: float, s2: float, n2: int, *, equal_var: bool = True
) -> TestResult:
    """Two-sample t test from means, SDs and sizes (Student by default, else Welch).

    Used to check tests printed in tables that report only summary statistics.
    """
    if n1 < 2 or n2 < 2:
        raise ValueError("each group needs at least two observations")
    v1, v2 = s1**2 / n1, s2**2 / n2
    if equal_var:
        df = float(n1 + n2 - 2)
        sp2 = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / df
        se = math.sqrt(sp2 * (1 / n1 + 1 / n2))
        test, name = "student_t", "Student's t-test"
    else:
        se = math.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
        test, name = "welch_t", "Welch's t-test"
    stat = (m1 - m2) / se
    return TestResult(test, name, stat, df, 2 * t_sf(abs(stat), df), int(n1 + n2))


def t_test(x: ArrayLike, y: ArrayLike, *, equal_var: bool = True) -> TestResult:
    """Two-sample t test of mean(x) vs mean(y), as R's ``t.test`` (NaN dropped).

    ``equal_var=True`` (default) is Student's pooled test (R ``var.equal=TRUE``),
    otherwise Welch's test.
    """
    a, b = _clean(x), _clean(y)
    return t_test_from_summary(*_summary(a), *_summary(b), equal_var=equal_var)


def anova_from_summary(
    means: Sequence[float], sds: Sequence[float], ns: Sequence[int]
) -> TestResult:
    """One-way ANOVA F test from group means, SDs and sizes."""
    m = np.asarray(means, dtype=float)
    s = np.asarray(sds, dtype=float)
    k_n = np.asarray(ns, dtype=float)
    k = len(m)
    big_n = k_n.sum()
    if k < 2 or big_n - k < 1:
        raise ValueError("ANOVA needs at least two groups and N > k")
    grand = float((k_n * m).sum() / big_n)
    ssb = float((k_n * (m - grand) ** 2).sum())
    ssw = float(((k_n - 1) * s**2).sum())
    df1, df2 = float(k - 1), float(big_n - k)
    stat = (ssb / df1) / (ssw / df2)
    return TestResult(
        "anova", "One-way ANOVA", stat, df1, f_sf(stat, df1, df2), int(big_n), df2=df2
    )


def anova(*groups: ArrayLike) -> TestResult:
    """One-way ANOVA F test (equal variances), as R's ``aov`` / ``oneway.test(var.equal=TRUE)``."""
    gs = [_clean(g) for g in groups]
    gs = [g for g in gs if len(g) > 0]
    summ = [_summary(g) for g in gs]
    sds = [s if n > 1 else 0.0 for _, s, n in summ]
    return anova_from_summary([m for m, _, _ in summ], sds, [n for _, _, n in summ])


def welch_anova(*groups: ArrayLike) -> TestResult:
    """Welch's heteroscedastic one-way ANOVA, as R's ``oneway.test(var.equal=FALSE)``."""
    gs = [g for g in (_clean(g) for g in groups) if len(g) > 0]
    if len(gs) < 2 or any(len(g) < 2 for g in gs):
        raise ValueError("Welch ANOVA needs at least two groups of size >= 2")
    return welch_anova_from_moments(
        [g.mean() for g in gs], [g.var(ddof=1) for g in gs], [len(g) for g in gs]
    )


def welch_anova_from_moments(
    means: Sequence[float], variances: Sequence[float], ns: Sequence[int]
) -> TestResult:
    """Welch's one-way ANOVA from group means, variances (ddof=1) and sizes.

    :func:`welch_anova` computes the moments from the samples and calls this; callers that
    test many configurations can compute each group's moments once.
    """
    n = np.asarray(ns, dtype=float)
    m = np.asarray(means, dtype=float)
    v = np.asarray(variances, dtype=float)
    k = len(n)
    if k < 2 or np.any(n < 2):
        raise ValueError("Welch ANOVA needs at least two groups of size >= 2")
    w = n / v
    sw = w.sum()
    mw = (w * m).sum() / sw
    tmp = (((1 - w / sw) ** 2) / (n - 1)).sum() / (k**2 - 1)
    stat = float(((w * (m - mw) ** 2).sum() / (k - 1)) / (1 + 2 * (k - 2) * tmp))
    df1, df2 = float(k - 1), float(1 / (3 * tmp))
    return TestResult(
        "welch_anova",
        "Welch's one-way ANOVA",
        stat,
        df1,
        f_sf(stat, df1, df2),
        int(n.sum()),
        df2=df2,
    )


# ---------------------------------------------------------------------------
# A test by name
# ---------------------------------------------------------------------------

#: Tests of a count table (levels x groups) and of the samples of groups, by id.
TABLE_TESTS = ("fisher", "chisq", "chisq_yates")
SAMPLE_TESTS = ("student_t", "welch_t", "anova", "welch_anova")


def run_test(
    test: str,
    *,
    table: ArrayLike | None = None,
    samples: Sequence[ArrayLike] | None = None,
    seed: int | None = None,
) -> TestResult:
    """Run the test named ``test`` on a count ``table`` (levels x groups: ``fisher``, ``chisq``,
    ``chisq_yates``) or on the ``samples`` of the groups (``student_t``, ``welch_t``: two;
    ``anova``, ``welch_anova``); ``seed``: a Monte Carlo Fisher p-value's."""
    if test in TABLE_TESTS:
        if table is None:
            raise ValueError(f"{test} needs a count table")
        if test == "fisher":
            return fisher_exact(table, seed=seed)
        return chisq(table, correct=test == "chisq_yates")
    if test not in SAMPLE_TESTS:
        raise ValueError(f"unknown test {test!r}")
    if samples is None:
        raise ValueError(f"{test} needs the samples of the groups")
    if test in ("student_t", "welch_t"):
        if len(samples) != 2:
            raise ValueError("a t test needs exactly two groups")
        return t_test(samples[0], samples[1], equal_var=test == "student_t")
    if test == "anova":
        return anova(*samples)
    return welch_anova(*samples)


# ---------------------------------------------------------------------------
# DataFrame convenience
# ---------------------------------------------------------------------------


def compare_categorical(
    values: pd.Series,
    groups: pd.Series,
    *,
    test: Literal["fisher", "chisq", "chisq_yates"] = "fisher",
    seed: int | None = None,
) -> TestResult:
    """Compare a categorical answer between groups.

    Builds the crosstab of rows where both the answer and the group are
    non-missing (answer levels / groups with zero count are dropped) and runs
    Fisher's exact test (default) or Pearson's chi-squared test.
    """
    if test not in TABLE_TESTS:
        raise ValueError(f"unknown test {test!r}")
    df = pd.DataFrame({"v": values, "g": groups}).dropna()
    return run_test(test, table=pd.crosstab(df["v"], df["g"]).to_numpy(), seed=seed)


def compare_continuous(
    values: pd.Series,
    groups: pd.Series,
    *,
    test: Literal["auto", "student_t", "welch_t", "anova", "welch_anova"] = "auto",
) -> TestResult:
    """Compare a continuous measure between groups (rows with NaN dropped).

    "auto" uses Student's t test for two groups and one-way ANOVA for more.
    Groups are taken in sorted order (the t statistic is first minus second).
    """
    df = pd.DataFrame({"v": pd.to_numeric(values), "g": groups}).dropna()
    samples = [grp["v"].to_numpy(dtype=float) for _, grp in df.groupby("g", sort=True)]
    if len(samples) < 2:
        raise ValueError("need at least two groups with data")
    if test == "auto":
        test = "student_t" if len(samples) == 2 else "anova"
    if test not in SAMPLE_TESTS:
        raise ValueError(f"unknown test {test!r}")
    return run_test(test, samples=samples)
