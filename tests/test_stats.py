"""ccanalysis.stats against R 4.2: the reference values are written by
``tests/reference/stats.R`` to ``tests/reference/stats_results.csv`` (the tests do not need R)."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccanalysis.stats import (
    anova,
    anova_from_summary,
    bh_qvalues,
    chisq,
    fisher,
    fisher_exact,
    mean_diff_ci,
    newcombe_diff,
    run_test,
    t_test,
    t_test_from_summary,
    welch_anova,
    welch_anova_from_moments,
)

R = pd.read_csv(Path(__file__).parent / "reference" / "stats_results.csv").set_index("name")[
    "value"
]


def rel(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


# the tables of tests/reference/stats.R, row by row
FISHER = {
    "TeaTasting": [[3, 1], [1, 3]],
    "Convictions": [[2, 15], [10, 3]],
    "Job": [[1, 3, 10, 6], [2, 3, 10, 7], [1, 6, 14, 12], [0, 1, 9, 11]],
    "2x2_317": [[120, 58], [80, 59]],
    "2x2_small": [[0, 5], [6, 1]],
    "2x3_317": [[90, 60, 28], [55, 50, 34]],
    "2x3_zeros": [[170, 6, 2], [125, 10, 4]],
    "2x4_317": [[40, 60, 50, 28], [25, 45, 40, 29]],
    "2x5_317a": [[20, 35, 50, 45, 28], [10, 25, 40, 34, 30]],
    "2x5_317b": [[5, 12, 40, 70, 51], [8, 20, 35, 45, 31]],
    "2x5_317c": [[2, 8, 30, 80, 58], [12, 25, 40, 40, 22]],
    "2x5_sym": [[10, 20, 30, 20, 10], [10, 20, 30, 20, 10]],
    "3x3": [[20, 15, 5], [10, 25, 12], [4, 9, 30]],
    "3x3_sparse": [[3, 0, 1], [1, 4, 0], [0, 1, 5]],
    "3x4": [[8, 12, 5, 3], [6, 9, 10, 7], [2, 5, 11, 14]],
    "2x5_317_ws1": [[33, 21, 41, 35, 48], [22, 10, 48, 51, 8]],
    "3x3_317_ws1": [[24, 21, 81], [56, 34, 30], [1, 67, 3]],
    "3x3_213_ws": [[29, 22, 28], [0, 31, 15], [43, 15, 30]],
    "nearTie": [[20, 38], [40, 106]],
    "BIG": [[51, 35, 2], [48, 25, 2], [0, 11, 3], [9, 10, 1], [9, 7, 0]],
}


@pytest.mark.parametrize("name", list(FISHER))
def test_fisher_matches_r(name: str) -> None:
    res = fisher_exact(FISHER[name])
    assert res.test == "fisher" and res.name == "Fisher's exact test"
    assert res.n == int(np.sum(FISHER[name]))
    assert rel(res.p, R[f"fisher_{name}"]) < 1e-9


def test_fisher_transpose_and_permutation_invariant() -> None:
    for name in ("3x4", "BIG"):
        t, p = np.array(FISHER[name]), R[f"fisher_{name}"]
        assert rel(fisher_exact(t.T).p, p) < 1e-9
        assert rel(fisher_exact(t[::-1][:, ::-1]).p, p) < 1e-9


def test_fisher_hand_computed() -> None:
    # [[1,2],[3,0]]: P(a) = C(4,a) C(2,3-a) / C(6,3) = 4/20, 12/20, 4/20 (a = 1..3); a = 1 -> 0.4
    assert rel(fisher_exact([[1, 2], [3, 0]]).p, 0.4) < 1e-12
    # [[5,0],[0,5]]: P = 1/C(10,5) at both extremes -> 2/252
    assert rel(fisher_exact([[5, 0], [0, 5]]).p, 2 / 252) < 1e-12


def _brute_force_fisher(table: np.ndarray) -> float:
    """Every table with the observed margins, P <= P(observed) (1 + 1e-7) summed."""
    rows, cols, n = table.sum(axis=1), table.sum(axis=0), int(table.sum())
    const = sum(math.lgamma(v + 1) for v in [*rows, *cols]) - math.lgamma(n + 1)

    def logp(t: list[list[int]]) -> float:
        return const - sum(math.lgamma(v + 1) for r in t for v in r)

    obs, total = logp(table.tolist()), 0.0

    def rec(i: int, colrem: list[int], acc: list[list[int]]) -> None:
        nonlocal total
        if i == len(rows) - 1:
            lp = logp([*acc, colrem])
            total += math.exp(lp) if lp <= obs + math.log1p(1e-7) else 0.0
            return
        for head in itertools.product(*[range(min(c, int(rows[i])) + 1) for c in colrem[:-1]]):
            last = int(rows[i]) - sum(head)
            if 0 <= last <= colrem[-1]:
                row = [*head, last]
                rec(i + 1, [c - x for c, x in zip(colrem, row, strict=True)], [*acc, row])

    rec(0, [int(c) for c in cols], [])
    return total


def test_fisher_against_brute_force_random_tables() -> None:
    rng = np.random.default_rng(7)
    for shape, n in [((2, 3), 30), ((3, 3), 18), ((2, 5), 16), ((3, 4), 14), ((4, 3), 15)]:
        t = rng.multinomial(n, rng.dirichlet(np.ones(shape[0] * shape[1]))).reshape(shape)
        t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
        if min(t.shape) >= 2:
            assert rel(fisher_exact(t).p, _brute_force_fisher(t)) < 1e-9, t


def test_fisher_degenerate_and_invalid_tables() -> None:
    assert fisher_exact([[5, 0, 3], [0, 0, 0]]).p == 1.0
    assert rel(fisher_exact([[3, 0, 1], [0, 0, 0], [1, 0, 3]]).p, R["fisher_TeaTasting"]) < 1e-9
    for bad in ([[1, -1], [2, 3]], [[1.5, 1], [2, 3]], [1, 2]):
        with pytest.raises(ValueError):
            fisher_exact(bad)


def test_fisher_over_budget_falls_back_to_monte_carlo(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(fisher, "MC_SAMPLES", 5_000)
    # 70,000 observations: the budget stops the enumeration before it is built (memory bounded)
    big = [[9000, 10200, 11000], [9100, 9900, 10600], [5000, 4000, 3000]]
    assert fisher_exact(big, seed=1).test == "fisher_mc"
    monkeypatch.setattr(fisher, "MAX_NODES", 1_000)
    res = fisher_exact(FISHER["BIG"], seed=3)
    assert res.test == "fisher_mc" and res.mc_samples == 5_000 and res.mc_se > 0
    assert abs(res.p - R["fisher_BIG"]) < 4 * res.mc_se + 1 / 5_001
    assert res == fisher_exact(FISHER["BIG"], seed=3)


SLEEP1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
PLANT = [
    [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14],
    [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69],
    [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26],
]


@pytest.mark.parametrize(("equal_var", "key"), [(True, "student"), (False, "welch")])
def test_t_tests_and_intervals_match_r(equal_var: bool, key: str) -> None:
    res = t_test([*SLEEP1, math.nan], SLEEP2, equal_var=equal_var)  # NaN dropped
    assert res.test == f"{key}_t" and res.n == 20
    assert rel(res.statistic, R[f"{key}_t"]) < 1e-12 and rel(res.df, R[f"{key}_df"]) < 1e-12
    assert rel(res.p, R[f"{key}_p"]) < 1e-10
    d, lo, hi = mean_diff_ci(SLEEP1, SLEEP2, equal_var=equal_var)
    assert math.isclose(d, -1.58) and rel(lo, R[f"{key}_lo"]) < 1e-10
    assert rel(hi, R[f"{key}_hi"]) < 1e-10
    m = [np.mean(SLEEP1), np.std(SLEEP1, ddof=1), 10, np.mean(SLEEP2), np.std(SLEEP2, ddof=1)]
    summ = t_test_from_summary(*m, 10, equal_var=equal_var)
    assert rel(summ.p, R[f"{key}_p"]) < 1e-10 and rel(summ.df, R[f"{key}_df"]) < 1e-12


def test_anova_and_welch_anova_match_r() -> None:
    res = anova(*PLANT)
    assert res.test == "anova" and res.n == 30 and res.df == 2
    assert rel(res.statistic, R["anova_F"]) < 1e-12 and res.df2 == R["anova_df2"]
    assert rel(res.p, R["anova_p"]) < 1e-10
    summ = anova_from_summary(
        [np.mean(g) for g in PLANT], [np.std(g, ddof=1) for g in PLANT], [10, 10, 10]
    )
    assert rel(summ.p, R["anova_p"]) < 1e-10
    res = welch_anova(*PLANT)
    assert res.test == "welch_anova" and rel(res.statistic, R["welch_anova_F"]) < 1e-12
    assert rel(res.df2, R["welch_anova_df2"]) < 1e-12 and rel(res.p, R["welch_anova_p"]) < 1e-10
    mom = welch_anova_from_moments(
        [np.mean(g) for g in PLANT], [np.var(g, ddof=1) for g in PLANT], [10, 10, 10]
    )
    assert rel(mom.p, R["welch_anova_p"]) < 1e-10
    with pytest.raises(ValueError, match="size >= 2"):
        welch_anova_from_moments([1.0, 2.0], [1.0, 1.0], [5, 1])


def test_chisq_matches_r() -> None:
    res = chisq([[762, 327, 468], [484, 239, 477]])
    assert res.test == "chisq" and res.df == 2
    assert rel(res.statistic, R["chisq_stat"]) < 1e-12 and rel(res.p, R["chisq_p"]) < 1e-10
    assert chisq([[762, 327, 468], [484, 239, 477]], correct=True).test == "chisq"  # 2 x 2 only
    yates = chisq([[12, 7], [5, 7]], correct=True)
    assert yates.test == "chisq_yates" and rel(yates.statistic, R["yates_stat"]) < 1e-12
    assert rel(yates.p, R["yates_p"]) < 1e-10
    assert rel(chisq([[12, 7], [5, 7]]).p, R["plain2x2_p"]) < 1e-10


def test_bh_matches_r() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.05, 0.5, 0.001, 0.9, 0.049]
    np.testing.assert_allclose(bh_qvalues(p), [R[f"bh_{i}"] for i in range(1, 10)], rtol=1e-12)
    q = bh_qvalues([0.01, np.nan, 0.04, 0.03, np.nan, 0.2])
    np.testing.assert_allclose(q, [R[f"bh_na_{i}"] for i in range(1, 7)], rtol=1e-12)


NEWCOMBE = [(56, 70, 48, 80), (9, 10, 3, 10), (6, 7, 2, 7), (5, 56, 0, 29), (0, 10, 0, 20)]
NEWCOMBE += [(10, 10, 0, 20)]


@pytest.mark.parametrize("i", range(len(NEWCOMBE)))
def test_newcombe_matches_method_10(i: int) -> None:
    k1, n1, k2, n2 = NEWCOMBE[i]
    d, lo, hi = newcombe_diff(k1, n1, k2, n2)
    assert d == k1 / n1 - k2 / n2
    assert lo == pytest.approx(R[f"newcombe_{i + 1}_lo"], abs=1e-12)
    assert hi == pytest.approx(R[f"newcombe_{i + 1}_hi"], abs=1e-12)
    if i == 0:  # Newcombe (1998), Table II: 56/70 - 48/80 -> 0.0524 to 0.3339
        assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_run_test_dispatches_by_id() -> None:
    assert rel(run_test("welch_t", samples=[SLEEP1, SLEEP2]).p, R["welch_p"]) < 1e-10
    assert rel(run_test("welch_anova", samples=PLANT).p, R["welch_anova_p"]) < 1e-10
    assert rel(run_test("chisq_yates", table=[[12, 7], [5, 7]]).p, R["yates_p"]) < 1e-10
    assert rel(run_test("fisher", table=FISHER["3x4"]).p, R["fisher_3x4"]) < 1e-9
    with pytest.raises(ValueError):
        run_test("student_t", samples=PLANT)
