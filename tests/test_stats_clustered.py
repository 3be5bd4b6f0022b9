"""GEE on the difference scale (ccanalysis.stats.clustered): against R's geepack, a hand-computed
Mancl-DeRouen correction, statsmodels' GEE, and the rules of the working correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ccanalysis.stats.clustered import ClusterSums, cluster_sums, gee_difference

# A small clustered frame: 9 clusters of 1-8 units, group g, a 0/1 outcome y and a count z.
CL = [1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7, 7]
CL += [8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9]
G = [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]
G += [1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1]
Y = [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1]
Y += [0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 0]
Z = [12, 30, 25, 8, 15, 40, 22, 35, 28, 31, 10, 14, 26, 9, 33, 18, 21, 12, 16, 29]
Z += [24, 38, 27, 11, 30, 36, 13, 25, 32, 28, 17, 26, 19, 34]

# R 4.2.2, geepack 1.3.9 (the outcome's coefficient of g is the difference mu1 - mu0):
#   d <- data.frame(cl, g, y, z)            # the vectors above
#   ind <- geeglm(y ~ g, id = cl, data = d, family = gaussian, corstr = "independence",
#                 std.err = "san.se");  coef(ind)[2]; sqrt(vcov(ind)[2, 2])
#   waves <- ave(cl, cl, FUN = seq_along)
#   zc <- fixed2Zcor(matrix(0.25, 8, 8) + diag(0.75, 8), id = cl, waves = waves)
#   fx <- geeglm(y ~ g, id = cl, data = d, family = gaussian, corstr = "fixed", zcor = zc,
#                std.err = "san.se");  coef(fx)[2]; sqrt(vcov(fx)[2, 2])
# (and the same for z). Mancl-DeRouen by hand in R, V = B^-1 M B^-1 with
#   B = sum_i X_i' R_i^-1 X_i,  M = sum_i s_i s_i',  s_i = X_i' R_i^-1 (I - H_i)^-1 r_i,
#   H_i = X_i B^-1 X_i' R_i^-1,  R_i = (1 - rho) I + rho 11',  X = cbind(1, g):
#   for (i in ids) { w <- cl == i; Xi <- X[w, , drop = FALSE]; Ri <- solve(R(sum(w)))
#     r <- yv[w] - Xi %*% beta; H <- Xi %*% Binv %*% t(Xi) %*% Ri
#     s <- t(Xi) %*% Ri %*% solve(diag(sum(w)) - H, r); M <- M + s %*% t(s) }
R_REF = {
    # (outcome, rho): (difference, geepack san.se, Mancl-DeRouen se by hand)
    ("y", 0.0): (0.20000000000000004, 0.17171404801504841, 0.22926430748180651),
    ("z", 0.0): (16.021428571428569, 1.411286015451656, 1.8144003073312525),
    ("y", 0.25): (0.19443551568816969, 0.13131467370093478, 0.16716488627930751),
    ("z", 0.25): (15.994228947219666, 1.4005792925964631, 1.802711670581796),
}


@pytest.fixture(scope="module")
def sums() -> ClusterSums:
    return cluster_sums(np.column_stack([Y, Z]).astype(float), G, CL)


@pytest.mark.parametrize(("outcome", "rho"), list(R_REF))
def test_against_geepack_and_hand_mancl_derouen(
    sums: ClusterSums, outcome: str, rho: float
) -> None:
    j = ("y", "z").index(outcome)
    working = "independence" if rho == 0 else "exchangeable"
    fixed = None if rho == 0 else rho
    diff, san_se, md_se = R_REF[(outcome, rho)]
    plain = gee_difference(sums, working=working, rho=fixed, correction="none")
    md = gee_difference(sums, working=working, rho=fixed)
    assert plain.estimate[j] == pytest.approx(diff, rel=1e-12)
    assert plain.se[j] == pytest.approx(san_se, rel=1e-10)
    assert md.estimate[j] == pytest.approx(diff, rel=1e-12)
    assert md.se[j] == pytest.approx(md_se, rel=1e-10)
    # t reference with K - 2 = 7 degrees of freedom: 2.3646 is qt(0.975, 7)
    assert md.df[j] == 7 and md.clusters[j] == 9
    assert md.ci_high[j] - md.estimate[j] == pytest.approx(2.364624251592785 * md_se, rel=1e-10)


def test_estimated_rho_and_geepack_with_rho_fixed_at_ours(sums: ClusterSums) -> None:
    # our moment estimate of rho (statsmodels' Exchangeable, iterated to a fixed point) for y is
    # 0.25496688288423414; geepack's own estimator differs (0.2627), so geepack is run with rho
    # fixed at ours:
    #   zc <- fixed2Zcor(matrix(rho, 8, 8) + diag(1 - rho, 8), id = cl, waves = waves)
    #   fx <- geeglm(y ~ g, id = cl, data = d, family = gaussian, corstr = "fixed", zcor = zc,
    #                std.err = "san.se")   # -> 0.19378697205790132, san.se 0.13082556981553911
    fit = gee_difference(sums, working="exchangeable", correction="none")
    assert fit.rho[0] == pytest.approx(0.25496688288423414, rel=1e-10)
    assert fit.estimate[0] == pytest.approx(0.19378697205790132, rel=1e-12)
    assert fit.se[0] == pytest.approx(0.13082556981553911, rel=1e-10)
    assert fit.working == ("exchangeable", "independence")  # z: rho -0.148 < -1/7, see the note
    assert "rho -0.148; valid: -0.143 < rho < 1 for clusters of up to 8" in fit.notes[1]


def test_independence_estimate_is_the_crude_difference(sums: ClusterSums) -> None:
    fit = gee_difference(sums)
    g, y, z = np.array(G), np.array(Y, float), np.array(Z, float)
    assert fit.estimate[0] == pytest.approx(y[g == 1].mean() - y[g == 0].mean(), abs=1e-14)
    assert fit.estimate[1] == pytest.approx(z[g == 1].mean() - z[g == 0].mean(), rel=1e-14)
    assert (fit.mean0[0], fit.mean1[0]) == pytest.approx((y[g == 0].mean(), y[g == 1].mean()))
    assert np.isnan(fit.rho).all() and fit.working == ("independence", "independence")


def test_mancl_derouen_by_hand_on_three_clusters() -> None:
    # clusters A: (g0 y1, g1 y1), B: (g0 y0, g1 y0, g1 y1), C: (g0 y0, g1 y1)
    # means: g0 1/3, g1 3/4; residual sums E_ig: A (2/3, 1/4), B (-1/3, -1/2), C (-1/3, 1/4)
    # n0 = 3, n1 = 4; m_i0 = 1, 1, 1; m_i1 = 1, 2, 1
    # CR0: var = sum (E_i1/n1 - E_i0/n0)^2 = (1/16 - 2/9)^2 + (-1/8 + 1/9)^2 + (1/16 + 1/9)^2
    # MD:  var = sum (E_i1/(n1 - m_i1) - E_i0/(n0 - m_i0))^2
    #          = (1/12 - 1/3)^2 + (-1/4 + 1/6)^2 + (1/12 + 1/6)^2 = 1/16 + 1/144 + 1/16
    y = [1, 1, 0, 0, 1, 0, 1]
    g = [0, 1, 0, 1, 1, 0, 1]
    cl = ["A", "A", "B", "B", "B", "C", "C"]
    s = cluster_sums(y, g, cl)
    cr0 = (1 / 16 - 2 / 9) ** 2 + (-1 / 8 + 1 / 9) ** 2 + (1 / 16 + 1 / 9) ** 2
    md = 1 / 16 + 1 / 144 + 1 / 16
    assert gee_difference(s, correction="none").se[0] == pytest.approx(math.sqrt(cr0), rel=1e-14)
    fit = gee_difference(s)
    assert fit.se[0] == pytest.approx(math.sqrt(md), rel=1e-14)
    assert fit.estimate[0] == pytest.approx(3 / 4 - 1 / 3)
    assert fit.df[0] == 1  # K - 2


def _statsmodels(y, x, cl, structure: str, cov_type: str) -> tuple[float, float, float]:
    from statsmodels.genmod.cov_struct import Exchangeable, Independence
    from statsmodels.genmod.families import Gaussian
    from statsmodels.genmod.generalized_estimating_equations import GEE

    exog = np.column_stack([1 - x, x]).astype(float)
    cs = Exchangeable() if structure == "exchangeable" else Independence()
    model = GEE(y, exog, groups=cl, family=Gaussian(), cov_struct=cs)
    res = model.fit(cov_type=cov_type, ctol=1e-12, maxiter=200)
    c = np.array([-1.0, 1.0])
    rho = float(cs.dep_params) if structure == "exchangeable" else math.nan
    return float(res.params[1] - res.params[0]), float(np.sqrt(c @ res.cov_params() @ c)), rho


@pytest.mark.parametrize("structure", ["independence", "exchangeable"])
def test_equals_statsmodels_gee_robust_and_bias_reduced(structure: str) -> None:
    # statsmodels' bias_reduced covariance is Mancl-DeRouen (its _bc_covmat solves (I - H_i) a = r_i
    # per cluster); this module computes the same from cluster sums, and rho as its Exchangeable
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 8, 15)
    cl = np.repeat(np.arange(15), sizes)
    n = len(cl)
    x = (rng.random(n) < 0.45).astype(int)
    u = rng.normal(0, 0.8, 15)[cl]
    y = (rng.random(n) < 1 / (1 + np.exp(-(u + 0.5 * x - 0.2)))).astype(float)
    s = cluster_sums(y, x, cl)
    for cov_type, correction in (("robust", "none"), ("bias_reduced", "mancl_derouen")):
        d, se, rho = _statsmodels(y, x, cl, structure, cov_type)
        fit = gee_difference(s, working=structure, correction=correction)
        assert fit.estimate[0] == pytest.approx(d, rel=1e-10)
        assert fit.se[0] == pytest.approx(se, rel=1e-9)
        assert fit.rho[0] == pytest.approx(rho, rel=1e-9, nan_ok=True)


def test_rho_at_or_above_one_falls_back_to_independence() -> None:
    # 10 clusters of 2 units with equal answers (each cluster one group): the residuals of a pair
    # are equal, so the moment estimate is (N/2 - 1) / (N/2 - 2) = 9/8 > 1 (N = 20): not a
    # correlation. statsmodels would carry on with it; here the fit falls back to independence.
    y = [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1]
    g = [0] * 10 + [1] * 10
    cl = [i // 2 for i in range(20)]
    fit = gee_difference(cluster_sums(y, g, cl), working="exchangeable")
    assert fit.working == ("independence",)
    assert "outside its valid range (rho 1.125; valid: -1.000 < rho < 1" in fit.notes[0]
    assert math.isnan(fit.rho[0])
    ind = gee_difference(cluster_sums(y, g, cl))
    assert fit.se[0] == ind.se[0] and fit.estimate[0] == pytest.approx(0.6 - 0.6)


def test_rho_below_the_bound_of_the_largest_cluster_falls_back() -> None:
    # one cluster of 40 g1 units (half 1) and 40 clusters of 2 (20 of each group; per group 16
    # pairs split 1/0, 2 pairs both 1, 2 both 0): 50% everywhere, residuals +-1/2, and the moment
    # estimate is sum of within-pair products / scale / (pairs - 2) = (-20 - 32 + 8) / (120/118)
    # / 818 = -0.053, below -1/39 = -0.026, the smallest correlation of a valid 40 x 40
    # exchangeable matrix
    pairs = [1.0, 0.0] * 16 + [1.0, 1.0] * 2 + [0.0, 0.0] * 2
    y = [1.0, 0.0] * 20 + pairs + pairs
    g = [1] * 40 + [1] * 40 + [0] * 40
    cl = ["big"] * 40 + [f"s{i // 2}" for i in range(80)]
    fit = gee_difference(cluster_sums(y, g, cl), working="exchangeable")
    assert "(rho -0.053; valid: -0.026 < rho < 1 for clusters of up to 40)" in fit.notes[0]
    assert fit.working == ("independence",)
    assert fit.estimate[0] == pytest.approx(0.0, abs=1e-15)


def test_degenerate_columns_give_nan_and_a_note() -> None:
    # column 0: group 1 without answers; column 1: cluster b holds every answer of group 1, so
    # B - G_b is singular and the Mancl-DeRouen correction undefined
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 1], [1, 0.0]])
    valid = np.ones_like(y, dtype=bool)
    valid[[1, 3], 0] = False
    fit = gee_difference(cluster_sums(y, [0, 1, 0, 1, 0], ["a", "b", "a", "b", "c"], valid=valid))
    assert math.isnan(fit.estimate[0]) and "no answers in a group" in fit.notes[0]
    assert fit.estimate[1] == pytest.approx(1 - 1 / 3)
    assert math.isnan(fit.se[1]) and "one cluster holds every answer of a group" in fit.notes[1]
    # no variation around the group means: the robust SE is 0, no interval
    flat = gee_difference(
        cluster_sums([1, 0, 1, 0, 1, 0], [0, 1] * 3, ["a", "a", "b", "b", "c", "c"])
    )
    assert flat.estimate[0] == -1 and math.isnan(flat.ci_low[0]) and "no variation" in flat.notes[0]
    # K - 2 degrees of freedom need 3 clusters
    two = gee_difference(cluster_sums([1, 0, 1, 0], [0, 1, 0, 1], ["a", "a", "b", "b"]))
    assert math.isnan(two.p[0]) and "2 clusters" in two.notes[0]


def test_bad_arguments() -> None:
    s = cluster_sums([1, 0], [0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="working"):
        gee_difference(s, working="ar1")
    with pytest.raises(ValueError, match="correction"):
        gee_difference(s, correction="kauermann")
    with pytest.raises(ValueError, match="missing cluster ids"):
        cluster_sums([1, 0], [0, 1], ["a", None])
