"""Tests for ccanalysis.stats against reference values computed in R 4.2.2.

Reference p-values were computed once with R 4.2.2 (Debian r-base-core) and
printed with ``format(x, digits = 15)``; the tests themselves do not need R.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.stats as sps

import ccanalysis.stats.fisher as stats_mod
from ccanalysis.stats import (
    ExactTestBudgetError,
    TestResult,
    anova,
    anova_from_summary,
    bh_qvalues,
    chisq,
    compare_categorical,
    compare_continuous,
    counts,
    distributions,
    fisher_exact,
    mean_diff_ci,
    newcombe_diff,
    t_test,
    t_test_from_summary,
    welch_anova,
    welch_anova_from_moments,
)
from ccanalysis.stats.intervals import mean_diff_test


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# ---------------------------------------------------------------------------
# Fisher's exact test
# ---------------------------------------------------------------------------

# (table, p) with p from R 4.2.2: print(fisher.test(x)$p.value, digits = 15).
# Matrices are written row by row here.
R_FISHER = {
    # ?fisher.test examples
    "TeaTasting": ([[3, 1], [1, 3]], 0.485714285714286),
    "Convictions": ([[2, 15], [10, 3]], 0.000536724119143436),
    # Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4)
    "Job": ([[1, 3, 10, 6], [2, 3, 10, 7], [1, 6, 14, 12], [0, 1, 9, 11]], 0.782684938965639),
    # paper-sized tables (group sizes 178 / 139 for the n = 317 ones)
    "2x2_317": ([[120, 58], [80, 59]], 0.0790704173855343),
    "2x2_small": ([[0, 5], [6, 1]], 0.0151515151515152),
    "2x3_317": ([[90, 60, 28], [55, 50, 34]], 0.0742397160660532),
    "2x3_zeros": ([[170, 6, 2], [125, 10, 4]], 0.169514999886358),
    "2x4_317": ([[40, 60, 50, 28], [25, 45, 40, 29]], 0.583739962574479),
    "2x5_317a": ([[20, 35, 50, 45, 28], [10, 25, 40, 34, 30]], 0.575048523757187),
    "2x5_317b": ([[5, 12, 40, 70, 51], [8, 20, 35, 45, 31]], 0.0712981138524013),
    "2x5_317c": ([[2, 8, 30, 80, 58], [12, 25, 40, 40, 22]], 6.64525183405846e-09),
    "2x5_sym": ([[10, 20, 30, 20, 10], [10, 20, 30, 20, 10]], 1.0),
    "3x3": ([[20, 15, 5], [10, 25, 12], [4, 9, 30]], 4.77255397967168e-08),
    "3x3_sparse": ([[3, 0, 1], [1, 4, 0], [0, 1, 5]], 0.00245785960071675),
    "3x4": ([[8, 12, 5, 3], [6, 9, 10, 7], [2, 5, 11, 14]], 0.0116013100320079),
    # tables where R's default workspace (2e5) fails with FEXACT error 7 (LDSTP too
    # small); reference from fisher.test(x, workspace = 2e7)
    "2x5_317_ws1": ([[33, 21, 41, 35, 48], [22, 10, 48, 51, 8]], 2.71512265886240e-07),
    "2x5_317_ws2": ([[45, 26, 45, 39, 23], [71, 5, 11, 16, 36]], 2.32494568008232e-10),
    "3x3_317_ws1": ([[24, 21, 81], [56, 34, 30], [1, 67, 3]], 1.21004197406319e-35),
    "3x3_317_ws2": ([[15, 65, 49], [17, 47, 18], [38, 39, 29]], 6.37983504981929e-05),
    "3x3_213_ws": ([[29, 22, 28], [0, 31, 15], [43, 15, 30]], 3.81232131425564e-11),
    "3x3_317_ws3": ([[41, 7, 77], [28, 35, 12], [20, 37, 60]], 1.81558939772672e-15),
}

# 5 x 3, n = 213: rows RN, MSN/BSN, MSW/BSW, LPN/CMA, Other; cols 117, 88, 8.
# R 4.2.2, fisher.test(BIG) with the default workspace stops with:
#   FEXACT error 7(location). LDSTP=18630 is too small for this problem,
#   (pastp=35.5193, ipn_0:=ipoin[itp=82]=17, stp[ipn_0]=36.6249).
#   Increase workspace or consider using 'simulate.p.value=TRUE'
# fisher.test(BIG, workspace = 2e7)$p.value (also with 2e8) = 0.000206636845486423
BIG = [[51, 35, 2], [48, 25, 2], [0, 11, 3], [9, 10, 1], [9, 7, 0]]
BIG_P = 0.000206636845486423


@pytest.mark.parametrize("name", list(R_FISHER))
def test_fisher_matches_r(name: str) -> None:
    table, p_ref = R_FISHER[name]
    res = fisher_exact(table)
    assert res.test == "fisher"
    assert res.name == "Fisher's exact test"
    assert res.statistic is None and res.df is None
    assert res.n == int(np.sum(table))
    assert res.mc_samples is None and res.mc_se is None
    assert rel(res.p, p_ref) < 1e-9


def test_fisher_transpose_and_permutation_invariant() -> None:
    table = np.array(R_FISHER["3x4"][0])
    p = R_FISHER["3x4"][1]
    assert rel(fisher_exact(table.T).p, p) < 1e-9
    assert rel(fisher_exact(table[::-1, [2, 0, 3, 1]]).p, p) < 1e-9


def test_fisher_big_table_where_r_default_workspace_fails() -> None:
    res = fisher_exact(BIG, method="exact")
    assert res.test == "fisher" and res.n == 213
    assert rel(res.p, BIG_P) < 1e-9


def test_fisher_hand_computed_2x2() -> None:
    # [[3,1],[1,3]]: margins 4,4 / 4,4, n = 8.  P(x11 = a) = C(4,a) C(4,4-a) / C(8,4)
    #   = (1, 16, 36, 16, 1) / 70 for a = 0..4; observed a = 3 (16/70);
    #   tables with P <= 16/70: a = 0, 1, 3, 4 -> p = 34/70.
    assert rel(fisher_exact([[3, 1], [1, 3]]).p, 34 / 70) < 1e-12
    # [[1,2],[3,0]]: rows 3,3, cols 4,2, n = 6.  P(a) = C(4,a) C(2,3-a) / C(6,3), a = 1..3
    #   = 4/20, 12/20, 4/20; observed a = 1 -> p = 8/20 = 0.4.
    assert rel(fisher_exact([[1, 2], [3, 0]]).p, 0.4) < 1e-12
    # [[2,0],[0,2]]: P(a) = C(2,a) C(2,2-a) / C(4,2) = (1, 4, 1)/6; observed a = 2 -> 2/6.
    assert rel(fisher_exact([[2, 0], [0, 2]]).p, 1 / 3) < 1e-12
    # [[5,0],[0,5]]: P(a=5) = 1/C(10,5) = 1/252; tables as extreme: a = 0 and 5 -> 2/252.
    assert rel(fisher_exact([[5, 0], [0, 5]]).p, 2 / 252) < 1e-12


@pytest.mark.parametrize(
    "table",
    [
        [[3, 1], [1, 3]],
        [[2, 15], [10, 3]],
        [[120, 58], [80, 59]],
        [[0, 7], [9, 3]],
        [[25, 3], [11, 40]],
        [[1, 0], [0, 300]],
        [[60, 118], [47, 92]],
    ],
)
def test_fisher_2x2_equals_scipy(table: list[list[int]]) -> None:
    ref = sps.fisher_exact(table, alternative="two-sided").pvalue
    assert rel(fisher_exact(table).p, ref) < 1e-9


def test_fisher_degenerate_tables() -> None:
    # zero rows / columns are dropped; fewer than two non-empty rows or cols -> p = 1
    assert fisher_exact([[5, 0, 3], [0, 0, 0]]).p == 1.0
    assert fisher_exact([[4], [7]]).p == 1.0
    assert fisher_exact([[0, 0], [0, 0]]).p == 1.0
    p_ref = R_FISHER["TeaTasting"][1]
    assert rel(fisher_exact([[3, 0, 1], [0, 0, 0], [1, 0, 3]]).p, p_ref) < 1e-9
    with pytest.raises(ValueError):
        fisher_exact([[1, -1], [2, 3]])
    with pytest.raises(ValueError):
        fisher_exact([[1.5, 1], [2, 3]])


def _brute_force_fisher(table: np.ndarray) -> float:
    """Independent check: enumerate every table with the observed margins."""
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    n = int(table.sum())

    def logp(t: list[list[int]]) -> float:
        return (
            sum(math.lgamma(v + 1) for v in rows)
            + sum(math.lgamma(v + 1) for v in cols)
            - math.lgamma(n + 1)
            - sum(math.lgamma(v + 1) for r in t for v in r)
        )

    obs = logp(table.tolist())
    total = 0.0

    def rec(i: int, colrem: list[int], acc: list[list[int]]) -> None:
        nonlocal total
        if i == len(rows) - 1:
            t = [*acc, colrem]
            lp = logp(t)
            if lp <= obs + math.log1p(1e-7):
                total += math.exp(lp)
            return
        ranges = [range(min(c, int(rows[i])) + 1) for c in colrem[:-1]]
        for head in itertools.product(*ranges):
            last = int(rows[i]) - sum(head)
            if 0 <= last <= colrem[-1]:
                row = [*head, last]
                rec(i + 1, [c - x for c, x in zip(colrem, row, strict=True)], [*acc, row])

    rec(0, [int(c) for c in cols], [])
    return total


def test_fisher_against_brute_force_random_tables() -> None:
    rng = np.random.default_rng(7)
    for shape, n in [
        ((2, 3), 30),
        ((3, 3), 18),
        ((2, 5), 16),
        ((3, 4), 14),
        ((4, 3), 15),
        ((3, 3), 24),
        ((2, 4), 40),
    ]:
        t = rng.multinomial(n, rng.dirichlet(np.ones(shape[0] * shape[1]))).reshape(shape)
        t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
        if min(t.shape) < 2:
            continue
        assert rel(fisher_exact(t).p, _brute_force_fisher(t)) < 1e-9, t


# ---------------------------------------------------------------------------
# Monte Carlo fallback
# ---------------------------------------------------------------------------

MODERATE = R_FISHER["3x4"][0]


def test_monte_carlo_reproducible_and_close_to_exact() -> None:
    exact = fisher_exact(MODERATE).p
    a = fisher_exact(MODERATE, method="monte_carlo", mc_samples=20_000, seed=42)
    b = fisher_exact(MODERATE, method="monte_carlo", mc_samples=20_000, seed=42)
    assert a == b
    assert a.test == "fisher_mc" and a.mc_samples == 20_000 and a.mc_se is not None
    assert a.mc_se > 0
    assert abs(a.p - exact) < 4 * a.mc_se
    # p = (1 + hits) / (B + 1) is never 0
    tiny = fisher_exact(R_FISHER["3x3"][0], method="monte_carlo", mc_samples=999, seed=1)
    assert tiny.p >= 1 / 1000


def test_exact_over_budget_raises_and_auto_falls_back() -> None:
    with pytest.raises(ExactTestBudgetError):
        fisher_exact(BIG, method="exact", max_nodes=1_000)
    res = fisher_exact(BIG, method="auto", max_nodes=1_000, mc_samples=5_000, seed=3)
    assert res.test == "fisher_mc" and res.mc_samples == 5_000
    assert abs(res.p - BIG_P) < 4 * res.mc_se + 1 / 5_001


def test_large_n_auto_uses_monte_carlo() -> None:
    # n = 95,000: exact enumeration is far beyond the budget -> Monte Carlo
    table = [[9000, 10200, 11000, 9800, 7500], [9100, 9900, 10600, 10100, 7800]]
    res = fisher_exact(table, mc_samples=2_000, seed=11)
    assert res.test == "fisher_mc" and res.n == 95_000
    assert 0 < res.p <= 1 and res.mc_se is not None
    # the same table by chi-square gives a p-value of the same order
    assert abs(res.p - chisq(table).p) < 6 * res.mc_se + 0.01
    # the switch depends on n, not on luck: just below the threshold the exact test runs
    small = [[9, 10, 11, 9, 7], [9, 9, 10, 10, 7]]
    assert fisher_exact(small, max_exact_n=90).test == "fisher_mc"
    assert fisher_exact(small, max_exact_n=91).test == "fisher"
    assert fisher_exact([[9000, 10200], [9100, 9900]]).test == "fisher"  # 2 x 2 is always exact


# ---------------------------------------------------------------------------
# t tests and ANOVA (R's datasets typed in)
# ---------------------------------------------------------------------------

SLEEP1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
PLANT = {
    "ctrl": [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14],
    "trt1": [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
    "trt2": [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26],
}


def test_student_t_sleep() -> None:
    # R: t.test(extra ~ group, data = sleep, var.equal = TRUE)
    res = t_test(SLEEP1, SLEEP2)
    assert res.test == "student_t" and res.name == "Student's t-test" and res.n == 20
    assert rel(res.statistic, -1.8608134674868528) < 1e-12
    assert res.df == 18
    assert rel(res.p, 0.0791867142159382) < 1e-10


def test_welch_t_sleep() -> None:
    # R: t.test(extra ~ group, data = sleep)
    res = t_test(SLEEP1, SLEEP2, equal_var=False)
    assert res.test == "welch_t"
    assert rel(res.statistic, -1.8608134674868531) < 1e-12
    assert rel(res.df, 17.7764735161784984) < 1e-12
    assert rel(res.p, 0.0793941401873582) < 1e-10


def test_t_test_drops_nan_and_summary_agrees() -> None:
    x = [*SLEEP1, float("nan")]
    res = t_test(x, SLEEP2)
    assert res.n == 20 and rel(res.p, 0.0791867142159382) < 1e-10
    for ev in (True, False):
        raw = t_test(SLEEP1, SLEEP2, equal_var=ev)
        summ = t_test_from_summary(
            np.mean(SLEEP1),
            np.std(SLEEP1, ddof=1),
            10,
            np.mean(SLEEP2),
            np.std(SLEEP2, ddof=1),
            10,
            equal_var=ev,
        )
        assert rel(summ.p, raw.p) < 1e-12 and rel(summ.statistic, raw.statistic) < 1e-12


def test_anova_plantgrowth() -> None:
    # R: oneway.test(weight ~ group, PlantGrowth, var.equal = TRUE); summary(aov(...))
    res = anova(*PLANT.values())
    assert res.test == "anova" and res.name == "One-way ANOVA" and res.n == 30
    assert rel(res.statistic, 4.8460878623801369) < 1e-12
    assert res.df == 2 and res.df2 == 27
    assert rel(res.p, 0.0159099583256229) < 1e-10
    ref = sps.f_oneway(*PLANT.values())
    assert rel(res.statistic, ref.statistic) < 1e-12


def test_anova_from_summary_agrees() -> None:
    gs = list(PLANT.values())
    res = anova_from_summary(
        [np.mean(g) for g in gs], [np.std(g, ddof=1) for g in gs], [len(g) for g in gs]
    )
    assert rel(res.p, anova(*gs).p) < 1e-12


def test_welch_anova_plantgrowth() -> None:
    # R: oneway.test(weight ~ group, PlantGrowth)
    res = welch_anova(*PLANT.values())
    assert rel(res.statistic, 5.18097240811319) < 1e-12
    assert rel(res.df2, 17.12841861664413) < 1e-12
    assert rel(res.p, 0.01739282149017) < 1e-10


def test_welch_anova_from_moments_is_welch_anova() -> None:
    rng = np.random.default_rng(5)
    for gs in [list(PLANT.values())] + [
        [rng.normal(i, 1 + i, n) for i, n in enumerate(rng.integers(2, 40, k))] for k in (2, 3, 5)
    ]:
        res = welch_anova_from_moments(
            [np.mean(g) for g in gs], [np.var(g, ddof=1) for g in gs], [len(g) for g in gs]
        )
        assert res == welch_anova(*gs)  # the same numbers, bit for bit
    with pytest.raises(ValueError, match="size >= 2"):
        welch_anova_from_moments([1.0, 2.0], [1.0, 1.0], [5, 1])


# ---------------------------------------------------------------------------
# chi-squared
# ---------------------------------------------------------------------------


def test_chisq_r_example() -> None:
    # R: M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477))); chisq.test(M)
    res = chisq([[762, 327, 468], [484, 239, 477]])
    assert res.test == "chisq" and res.name == "Pearson's chi-squared test"
    assert rel(res.statistic, 30.0701490957547) < 1e-12
    assert res.df == 2
    assert rel(res.p, 2.95358918321176e-07) < 1e-10
    # Yates is only applied to 2 x 2 tables (as in R)
    assert chisq([[762, 327, 468], [484, 239, 477]], correct=True).test == "chisq"


def test_chisq_yates_2x2() -> None:
    # R: chisq.test(matrix(c(12, 5, 7, 7), 2)) and correct = FALSE
    yates = chisq([[12, 7], [5, 7]], correct=True)
    assert yates.test == "chisq_yates"
    assert yates.name == "Pearson's chi-squared test with Yates' continuity correction"
    assert rel(yates.statistic, 0.641120263895032) < 1e-12
    assert rel(yates.p, 0.423305424322418) < 1e-10
    plain = chisq([[12, 7], [5, 7]])
    assert rel(plain.statistic, 1.371646026831785) < 1e-12
    assert rel(plain.p, 0.241529274763687) < 1e-10
    # R: chisq.test(matrix(c(120, 80, 58, 59), 2))
    big = chisq([[120, 58], [80, 59]], correct=True)
    assert rel(big.statistic, 2.8500307675208165) < 1e-12
    assert rel(big.p, 0.0913721880739739) < 1e-10
    ref = sps.chi2_contingency([[120, 58], [80, 59]], correction=True)
    assert rel(big.statistic, ref.statistic) < 1e-12


# ---------------------------------------------------------------------------
# DataFrame helpers
# ---------------------------------------------------------------------------


def test_compare_categorical_crosstab() -> None:
    # Convictions table as long data with missing values and an unused level
    values = (
        ["Convicted"] * 2 + ["Not"] * 15 + ["Convicted"] * 10 + ["Not"] * 3 + [None, "Convicted"]
    )
    groups = ["Dizygotic"] * 17 + ["Monozygotic"] * 13 + ["Monozygotic", None]
    v = pd.Series(pd.Categorical(values, categories=["Convicted", "Not", "Unused"]))
    g = pd.Series(groups)
    res = compare_categorical(v, g)
    assert res.test == "fisher" and res.n == 30
    assert rel(res.p, R_FISHER["Convictions"][1]) < 1e-9
    assert compare_categorical(v, g, test="chisq").df == 1
    assert compare_categorical(v, g, test="chisq_yates").test == "chisq_yates"


def test_compare_continuous() -> None:
    df = pd.DataFrame({"v": SLEEP1 + SLEEP2 + [np.nan], "g": ["a"] * 10 + ["b"] * 10 + ["a"]})
    res = compare_continuous(df["v"], df["g"])
    assert res.test == "student_t" and rel(res.p, 0.0791867142159382) < 1e-10
    assert compare_continuous(df["v"], df["g"], test="welch_t").test == "welch_t"
    pg = pd.DataFrame([(w, k) for k, ws in PLANT.items() for w in ws], columns=["w", "g"])
    res = compare_continuous(pg["w"], pg["g"])
    assert res.test == "anova" and rel(res.p, 0.0159099583256229) < 1e-10
    with pytest.raises(ValueError):
        compare_continuous(pg["w"], pg["g"], test="student_t")


# ---------------------------------------------------------------------------
# Newcombe interval, mean difference CI, BH
# ---------------------------------------------------------------------------

# Newcombe (1998) Table II, method 10 (hybrid score, no continuity correction).
# Values recomputed from the definition (Wilson limits l_i, u_i;
# lo = d - sqrt((p1-l1)^2 + (u2-p2)^2), hi = d + sqrt((u1-p1)^2 + (p2-l2)^2)).
# For 6/7 - 2/7, by hand: l1 = 0.486873, u1 = 0.974319, l2 = 0.082221,
# u2 = 0.641059 -> lo = 0.571429 - sqrt(0.370270^2 + 0.355345^2) = 0.0582,
# hi = 0.571429 + sqrt(0.117176^2 + 0.203493^2) = 0.8062.
NEWCOMBE = [
    ((56, 70, 48, 80), (0.2000, 0.0524, 0.3339)),
    ((9, 10, 3, 10), (0.6000, 0.1705, 0.8090)),
    ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
    ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
    ((0, 10, 0, 20), (0.0000, -0.1611, 0.2775)),
    ((10, 10, 0, 20), (1.0000, 0.6791, 1.0000)),
]


@pytest.mark.parametrize(("args", "expected"), NEWCOMBE)
def test_newcombe_method10(
    args: tuple[int, int, int, int], expected: tuple[float, float, float]
) -> None:
    got = newcombe_diff(*args)
    assert np.allclose(got, expected, atol=5e-5)


def test_mean_diff_ci_matches_r() -> None:
    # R: t.test(x, y, var.equal = TRUE)$conf.int and Welch version (sleep data)
    d, lo, hi = mean_diff_ci(SLEEP1, SLEEP2)
    assert math.isclose(d, -1.58, rel_tol=1e-12)
    assert rel(lo, -3.3638740322875984) < 1e-10 and rel(hi, 0.2038740322875986) < 1e-10
    d, lo, hi = mean_diff_ci(SLEEP1, SLEEP2, equal_var=False)
    assert rel(lo, -3.3654832307117104) < 1e-10 and rel(hi, 0.2054832307117102) < 1e-10


def test_mean_diff_test_is_the_interval_and_its_t_test() -> None:
    # R: t.test(x, y, var.equal = TRUE) (sleep data): the interval above and p 0.0791867142159382
    d, lo, hi, res = mean_diff_test(SLEEP1, SLEEP2)
    assert (d, lo, hi) == mean_diff_ci(SLEEP1, SLEEP2)
    assert res.test == "student_t" and rel(res.p, 0.0791867142159382) < 1e-10
    assert res.p == t_test(SLEEP1, SLEEP2).p


def test_bh_matches_r() -> None:
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.001, 0.9, 0.049), "BH")
    p = [0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.001, 0.9, 0.049]
    ref = [
        0.045,
        0.06,
        0.0642857142857143,
        0.0642857142857143,
        0.0642857142857143,
        0.5625,
        0.009,
        0.9,
        0.0642857142857143,
    ]
    np.testing.assert_allclose(bh_qvalues(p), ref, rtol=1e-12)
    # R: set.seed(1); pp <- c(runif(10, 0, 0.05), runif(10)); p.adjust(pp, "BH")
    pp = [
        0.0132754331571049988,
        0.0186061949818395085,
        0.0286426681675948230,
        0.0454103894997388152,
        0.0100840965518727912,
        0.0449194842483848361,
        0.0472337634302675766,
        0.0330398896243423237,
        0.0314557021949440282,
        0.0030893135233782234,
        0.2059745748993009329,
        0.1765567525289952755,
        0.6870228466577827930,
        0.3841037182137370110,
        0.7698414199985563755,
        0.4976992420852184296,
        0.7176185082644224167,
        0.9919060948304831982,
        0.3800351794343441725,
        0.7774452213197946548,
    ]
    qq = [
        0.0885028877140333,
        0.0930309749091975,
        0.0943996846409781,
        0.0944675268605352,
        0.0885028877140333,
        0.0944675268605352,
        0.0944675268605352,
        0.0943996846409781,
        0.0943996846409781,
        0.0617862704675645,
        0.3432909581655016,
        0.3210122773254460,
        0.8183633908629417,
        0.5487195974481958,
        0.8183633908629417,
        0.6635989894469578,
        0.8183633908629417,
        0.9919060948304832,
        0.5487195974481958,
        0.8183633908629417,
    ]
    np.testing.assert_allclose(bh_qvalues(pp), qq, rtol=1e-12)


def test_bh_nan_tolerant() -> None:
    # R: p.adjust(c(0.01, NA, 0.04, 0.03, NA, 0.2), "BH")
    q = bh_qvalues([0.01, np.nan, 0.04, 0.03, np.nan, 0.2])
    np.testing.assert_allclose(
        q, [0.04, np.nan, 0.0533333333333333, 0.0533333333333333, np.nan, 0.2], rtol=1e-12
    )


def test_testresult_is_frozen() -> None:
    res = TestResult("fisher", "Fisher's exact test", None, None, 0.5, 10)
    with pytest.raises(AttributeError):
        res.p = 0.1  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Fisher internals: every code path agrees with R / direct sums
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("few_max", [0, 8, 10**9])
@pytest.mark.parametrize("name", ["3x3", "3x3_317_ws1", "3x3_213_ws", "3x4", "Job"])
def test_fisher_two_column_strategies_agree(
    name: str, few_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # few_max = 0: every node enumerates its completions (_finish_many);
    # 10**9: every node uses the hypergeometric tails per prefix (_finish_few)
    monkeypatch.setattr(stats_mod._Network, "few_max", few_max)
    table, p_ref = R_FISHER[name]
    assert rel(fisher_exact(table).p, p_ref) < 1e-9


@pytest.mark.parametrize("few_max", [0, 10**9])
def test_fisher_big_table_both_strategies(few_max: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stats_mod._Network, "few_max", few_max)
    assert rel(fisher_exact(BIG).p, BIG_P) < 1e-9


def test_fisher_orientation_and_order_invariant_big() -> None:
    big = np.array(BIG)
    for t in (big.T, big[::-1], big[:, ::-1], big[[2, 0, 4, 1, 3]].T):
        assert rel(fisher_exact(t).p, BIG_P) < 1e-9


@pytest.mark.parametrize(
    ("a", "b", "s"), [(40, 60, 30), (117, 88, 100), (5, 300, 20), (150, 160, 155), (3, 4, 5)]
)
def test_hypergeometric_tail_sums(a: int, b: int, s: int) -> None:
    # sum_{k <= y} pmf(k) / pmf(y) (lower) and sum_{k >= y} (upper) against scipy
    lo, hi = max(0, s - b), min(a, s)
    dist = sps.hypergeom(a + b, a, s)
    mode = int(np.argmax(dist.pmf(np.arange(lo, hi + 1)))) + lo
    for y in range(lo, mode + 1):
        got = stats_mod._Network._ratio_sum(
            np.array([y]), np.array([lo]), -1, np.array([a]), np.array([b]), np.array([s])
        )[0]
        assert rel(got, dist.cdf(y) / dist.pmf(y)) < 1e-10
    for y in range(mode, hi + 1):
        got = stats_mod._Network._ratio_sum(
            np.array([y]), np.array([hi]), 1, np.array([a]), np.array([b]), np.array([s])
        )[0]
        assert rel(got, dist.sf(y - 1) / dist.pmf(y)) < 1e-10


def test_merge_sums_multiplicities_of_equal_past_values() -> None:
    node = np.array([1, 0, 1, 1, 0], dtype=np.intp)
    past = np.array([-2.0, -1.0, -2.0 + 1e-13, -3.0, -1.0])
    count = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    n, p, c = stats_mod._Network._merge(node, past, count)
    got = sorted(zip(n.tolist(), np.round(p, 9).tolist(), c.tolist(), strict=True))
    assert got == [(0, -1.0, 7.0), (1, -3.0, 4.0), (1, -2.0, 4.0)]


# ---------------------------------------------------------------------------
# scipy.special instead of scipy.stats (same numbers, no import / per-call cost)
# ---------------------------------------------------------------------------


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_distribution_functions_are_scipy_stats_bit_for_bit() -> None:
    xs = [0.0, -0.5, 1e-300, 1e-8, 0.3, 1.0, 2.5, 7.9, 40.0, 800.0, math.inf, math.nan]
    dfs = [0.5, 1.0, 2.0, 3.0, 7.5, 27.0, 315.0, 1e6]
    for x, d in itertools.product(xs, dfs):
        assert _same(distributions.chi2_sf(x, d), float(sps.chi2.sf(x, d))), (x, d)
        assert _same(distributions.t_sf(x, d), float(sps.t.sf(x, d))), (x, d)
        for d2 in dfs:
            assert _same(distributions.f_sf(x, d, d2), float(sps.f.sf(x, d, d2))), (x, d, d2)
    for q in [1e-12, 0.025, 0.5, 0.9, 0.95, 0.975, 0.995, 1.0]:
        assert _same(distributions.norm_ppf(q), float(sps.norm.ppf(q))), q
        for d in dfs:
            assert _same(distributions.t_ppf(q, d), float(sps.t.ppf(q, d))), (q, d)


def test_scalar_tests_keep_scipy_stats_pvalues() -> None:
    rng = np.random.default_rng(9)
    for _ in range(50):
        t = rng.integers(0, 40, size=(int(rng.integers(2, 5)), int(rng.integers(2, 5))))
        for correct in (False, True):
            res = chisq(t, correct=correct)
            assert res.p == float(sps.chi2.sf(res.statistic, res.df))
        m1, m2, s1, s2 = rng.uniform(0.5, 9, 4)
        n1, n2 = (int(n) for n in rng.integers(2, 200, 2))
        for eq in (True, False):
            res = t_test_from_summary(m1, s1, n1, m2, s2, n2, equal_var=eq)
            assert res.p == float(2 * sps.t.sf(abs(res.statistic), res.df))
        res = anova_from_summary(rng.uniform(0, 9, 3), rng.uniform(0.5, 5, 3), [n1, n2, 9])
        assert res.p == float(sps.f.sf(res.statistic, res.df, res.df2))


def test_integer_tables_validated_like_float_tables() -> None:
    t = np.array([[3, 0], [5, 2]], dtype=np.int32)
    assert np.array_equal(counts.as_count_table(t), counts.as_count_table(t.astype(float)))
    assert counts.as_count_table(t).dtype == np.int64
    with pytest.raises(ValueError, match="non-negative"):
        counts.as_count_table(np.array([[1, -1], [2, 3]]))
    with pytest.raises(ValueError, match="two-dimensional"):
        counts.as_count_table(np.arange(4))
    with pytest.raises(ValueError, match="integer counts"):
        counts.as_count_table([[1.5, 2], [3, 4]])


def test_import_does_not_load_scipy_stats() -> None:
    # scipy.stats costs ~0.9 s to import in every process that builds a table
    code = "import sys, ccanalysis.stats; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
