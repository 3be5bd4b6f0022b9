"""GEE on the difference scale (ccanalysis.stats.clustered): independence against clubSandwich's
CR3 (R values from ``tests/reference/stats.R`` in ``tests/reference/stats_results.csv``), the
t(K - 2) reference, and the rules of the working correlation; CR2 (its R check over 89 rows is in
test_gee_rows_against_r.py) against statsmodels' HC2 when every cluster is one unit."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from ccanalysis.stats.clustered import (
    cr2_difference,
    design_effects,
    gee_difference,
    newcombe_cr2,
)
from ccanalysis.stats.intervals import newcombe_bounds

R = pd.read_csv(Path(__file__).parent / "reference" / "stats_results.csv").set_index("name")[
    "value"
]

# the clustered frame of tests/reference/stats.R: 9 clusters of 1-8 units
CL = [1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 7]
CL += [8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9]
G = [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]
G += [1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1]
Y = [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1]
Y += [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0]
Z = [12, 30, 25, 8, 15, 40, 22, 35, 28, 31, 10, 14, 26, 9, 33, 18, 21, 12, 16, 29]
Z += [24, 38, 27, 11, 30, 36, 13, 25, 32, 28, 17, 26, 19, 34]


@pytest.mark.parametrize(("name", "y"), [("y", Y), ("z", Z)])
def test_independence_is_the_crude_difference_with_cr3_se(name: str, y: list[int]) -> None:
    fit = gee_difference(y, G, CL)
    assert fit.estimate == pytest.approx(R[f"gee_{name}_diff"], rel=1e-12)
    assert fit.se == pytest.approx(R[f"gee_{name}_se"], rel=1e-10)
    assert fit.df == 9 - 2 and fit.clusters == 9 and fit.working == "independence"
    q = stats.t.ppf(0.975, 7)
    assert fit.ci_low == pytest.approx(fit.estimate - q * fit.se, rel=1e-12)
    assert fit.p == pytest.approx(2 * stats.t.sf(abs(fit.estimate / fit.se), 7), rel=1e-12)


def test_exchangeable_is_a_fixed_point_of_the_moment_estimate() -> None:
    # at convergence the means are the GLS means given rho and rho the moment estimate given them
    fit = gee_difference(Y, G, CL, working="exchangeable")
    assert fit.working == "exchangeable" and -1 / 7 < fit.rho < 1
    z, g, cl = np.array(Y, float), np.array(G), np.array(CL)
    r = z - np.where(g == 1, fit.mean1, fit.mean0)
    scale = (r**2).sum() / (len(z) - 2)
    sizes = np.bincount(cl)
    pairs = (sizes * (sizes - 1) / 2).sum()
    cross = sum((r[cl == c].sum() ** 2 - (r[cl == c] ** 2).sum()) / 2 for c in set(CL))
    assert fit.rho == pytest.approx(cross / scale / (pairs - 2), rel=1e-9)


def test_rho_at_or_above_one_falls_back_to_independence() -> None:
    # 10 clusters of 2 units with equal answers: the moment estimate is 9/8 > 1, not a correlation
    y = [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]
    g = [0] * 10 + [1] * 10
    cl = [i // 2 for i in range(20)]
    fit = gee_difference(y, g, cl, working="exchangeable")
    assert fit.working == "independence" and math.isnan(fit.rho)
    assert "outside its valid range (rho 1.125; valid: -1.000 < rho < 1" in fit.note
    assert fit.se == gee_difference(y, g, cl).se


def test_degenerate_outcomes_give_nan_and_a_note() -> None:
    none = gee_difference([1, np.nan, 1, np.nan, 1], [0, 1, 0, 1, 0], list("ababc"))
    assert math.isnan(none.estimate) and "no answers in a group" in none.note
    one = gee_difference([0, 1, 1, 1, 0], [0, 1, 0, 1, 0], list("ababc"))
    assert one.estimate == pytest.approx(1 - 1 / 3) and math.isnan(one.se)
    assert "one cluster holds every answer of a group" in one.note
    flat = gee_difference([1, 0, 1, 0, 1, 0], [0, 1] * 3, list("aabbcc"))
    assert flat.estimate == -1 and math.isnan(flat.ci_low) and "no variation" in flat.note
    two = gee_difference([1, 0, 1, 0], [0, 1, 0, 1], list("aabb"))
    assert math.isnan(two.p) and "2 clusters" in two.note


@pytest.mark.parametrize("y", [Y, Z])
def test_cr2_with_one_unit_per_cluster_is_hc2(y: list[int]) -> None:
    x = sm.add_constant(np.array(G, float))
    hc2 = sm.OLS(np.array(y, float), x).fit(cov_type="HC2")
    fit = cr2_difference(y, G, range(len(y)))
    assert fit.estimate == pytest.approx(hc2.params[1], rel=1e-12)
    assert fit.se == pytest.approx(hc2.bse[1], rel=1e-12)
    assert fit.clusters == len(y) and 1 < fit.df < len(y) - 2


def test_cr2_degenerate_outcomes_give_nan_and_a_note() -> None:
    one = cr2_difference([0, 1, 1, 1, 0], [0, 1, 0, 1, 0], list("ababc"))
    assert one.estimate == pytest.approx(1 - 1 / 3) and math.isnan(one.se)
    assert "one cluster holds every answer of a group" in one.note
    flat = cr2_difference([1, 0, 1, 0, 1, 0], [0, 1] * 3, list("aabbcc"))
    assert flat.estimate == -1 and math.isnan(flat.p) and "no variation" in flat.note


def test_newcombe_cr2_against_the_published_formulas_in_r() -> None:
    """``tests/reference/newcombe_cr2.R``: clubSandwich's CR2 variance of each group's proportion
    over p (1 - p) / n, Wilson's interval of the adjusted counts at qt(0.975, Satterthwaite df),
    Newcombe's square-and-add, written out in R."""
    fit = newcombe_cr2(Y, G, CL)
    codes, g, y = np.array(CL) - 1, np.array(G), np.array(Y, dtype=float)
    m = np.stack([np.bincount(codes[g == v], minlength=9) for v in (0, 1)])
    s = np.stack([np.bincount(codes[g == v], y[g == v], minlength=9) for v in (0, 1)])
    assert design_effects(s, m) == pytest.approx([2.588344988344987, 1.117172015004833], rel=1e-12)
    assert fit.df == pytest.approx(5.839236519059182, rel=1e-12)
    assert fit.estimate == pytest.approx(0.2, abs=1e-15)
    assert fit.ci_low == pytest.approx(-0.263000811393332, abs=1e-12)
    assert fit.ci_high == pytest.approx(0.608122012193955, abs=1e-12)
    assert fit.se == cr2_difference(Y, G, CL).se
    # p inverts the interval: at level 1 - p the lower bound touches 0
    deff = design_effects(s, m)
    e, n = s.sum(axis=1) / deff, m.sum(axis=1) / deff
    alpha = 2 * stats.norm.sf(stats.t.isf(fit.p / 2, fit.df))
    assert newcombe_bounds(e[1], n[1], e[0], n[0], alpha)[0] == pytest.approx(0.0, abs=1e-9)


def test_newcombe_cr2_design_effect_one_without_clustering_signal_and_its_limits() -> None:
    # a proportion of 0 or 1 has design effect 1; a non-0/1 outcome is refused
    assert design_effects(
        np.array([[0.0, 0.0], [2.0, 3.0]]), np.array([[2, 3], [2, 3]])
    ).tolist() == [
        1.0,
        1.0,
    ]
    with pytest.raises(ValueError, match="0/1"):
        newcombe_cr2([0.5, 1, 0, 1, 0, 1], [0, 0, 0, 1, 1, 1], [1, 2, 3, 1, 2, 3])
    one = newcombe_cr2([1, 0, 1, 0], [0, 0, 1, 1], [1, 1, 2, 2])
    assert math.isnan(one.p) and "one cluster" in one.note


def test_exchangeable_converges_on_twenty_thousand_clinics() -> None:
    """The score is a sum over the units: a fixed tolerance (1e-13) is below its rounding at
    21,233 clinics in 3,000 systems, where every fit ran 200 iterations and fell back to
    independence. Per unit it converges, to statsmodels' own fit at its default tolerance."""
    rng = np.random.default_rng(1)
    size = rng.integers(1, 14, 3000)
    system = np.repeat(np.arange(3000), size)
    shared = np.repeat(rng.normal(0, 0.5, 3000), size)
    isw = (rng.random(3000) < 0.45)[system].astype(int)
    y = (rng.random(len(system)) < 1 / (1 + np.exp(0.3 - shared - 0.4 * isw))).astype(float)
    fit = gee_difference(y, isw, system, working="exchangeable")
    assert (fit.working, fit.note) == ("exchangeable", "") and 0.04 < fit.rho < 0.07
    x = np.column_stack([1.0 - isw, isw])
    model = sm.GEE(y, x, groups=system, cov_struct=sm.cov_struct.Exchangeable())
    default = model.fit(start_params=[fit.mean0, fit.mean1])
    assert fit.estimate == pytest.approx(default.params[1] - default.params[0], abs=1e-6)
