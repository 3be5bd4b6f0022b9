"""Two-group differences ``mu1 - mu0`` with clustered units (identity link, cell-means coding).

:func:`gee_difference`: statsmodels' GEE, ``cov_type="bias_reduced"`` (Mancl-DeRouen 2001), with
our t(K - 2) reference (the normal one is too liberal with few clusters; Li and Redden 2015);
exchangeable: a clinic of a system of m weighs 1/(1 + (m - 1) rho), rho truncated at 0, else
independence. :func:`cr2_difference`: CR2 SE and Satterthwaite df as R's clubSandwich
(Pustejovsky and Tipton 2018), in closed form over clusters (:func:`sandwich`, vectorised: the
coverage study calls it on millions of data sets). :func:`newcombe_cr2`: Newcombe's interval on design-effect-adjusted
counts (Rao and Scott 1992), Wilson at the t(CR2 df) quantile. statsmodels has neither of these.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats
from statsmodels.genmod import cov_struct
from statsmodels.genmod.generalized_estimating_equations import GEE
from statsmodels.tools.sm_exceptions import ConvergenceWarning, IterationLimitWarning

from ccanalysis.stats.intervals import newcombe_bounds, newcombe_p

__all__ = [
    "DifferenceFit",
    "cr2_difference",
    "design_effects",
    "gee_difference",
    "newcombe_cr2",
    "sandwich",
    "satterthwaite_df",
]

# statsmodels stops when the score, a sum over the n units, is below ctol: ours is per unit (and
# per unit of the largest |y|), 1e-13 over the study's 317 clinics (rho to ~1e-13; the default
# leaves ~1e-7). A fixed ctol is below the rounding of a sum of 100,000 units: every fit ran to
# the iteration limit there and fell back to independence.
_CTOL_PER_UNIT = 1e-13 / 317
_MAXITER = 200
_NAN = float("nan")


@dataclass(frozen=True)
class DifferenceFit:
    """One outcome's fit; ``note``: why a value is NaN or exchangeable fell back."""

    mean0: float
    mean1: float
    clusters: int
    estimate: float = _NAN
    se: float = _NAN
    df: float = _NAN
    ci_low: float = _NAN
    ci_high: float = _NAN
    p: float = _NAN
    rho: float = _NAN
    working: str = "independence"
    note: str = ""


def _answers(y: ArrayLike, group: ArrayLike, clusters: ArrayLike) -> tuple:
    """Outcomes, groups, cluster codes, K and group means of the units with an outcome."""
    y, g = np.asarray(y, dtype=float), np.asarray(group)
    keep = np.isfinite(y) & ((g == 0) | (g == 1))
    y, g = y[keep], g[keep].astype(float)
    codes = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)[keep]), sort=True)[0]
    means = [float(y[g == v].mean()) if (g == v).any() else _NAN for v in (0, 1)]
    return y, g, codes, len(np.unique(codes)), means


def _t_inference(fit: DifferenceFit, se: float, df: float) -> DifferenceFit:
    """``fit`` with its SE, df, two-sided t(df) p and 95% interval; NaN and a note when SE is 0."""
    if not se > 0:
        why = "not estimable: no variation around the group means (robust SE 0)"
        return replace(fit, note="; ".join(x for x in (fit.note, why) if x))
    q = stats.t.ppf(0.975, df)
    p = float(min(1.0, 2.0 * stats.t.sf(abs(fit.estimate / se), df)))
    lo, hi = fit.estimate - q * se, fit.estimate + q * se
    return replace(fit, se=se, df=df, ci_low=lo, ci_high=hi, p=p)


def _fit(y, x, codes, means, working: str) -> tuple[object, bool]:  # noqa: ANN001
    """The statsmodels fit started at the group ``means`` and whether it converged."""
    independence = working == "independence"
    cov = cov_struct.Independence() if independence else cov_struct.Exchangeable()
    model = GEE(y, x, groups=codes, cov_struct=cov, update_dep=not independence)
    scale = len(y) * max(1.0, float(np.abs(y).max()))
    tol = {} if independence else {"ctol": _CTOL_PER_UNIT * scale}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(cov_type="bias_reduced", start_params=means, maxiter=_MAXITER, **tol)
    failed = (ConvergenceWarning, IterationLimitWarning)
    return res, not any(issubclass(w.category, failed) for w in caught)


def _not_estimable(g: NDArray, codes: NDArray, k: int, df_adjust: int) -> str:
    if not ((g == 0).any() and (g == 1).any()):
        return "not estimable: no answers in a group"
    if df_adjust and k <= df_adjust:
        return (
            f"not estimable: {k} clusters, a t reference with K - {df_adjust} degrees of freedom "
            f"needs at least {df_adjust + 1}"
        )
    if any(len(np.unique(codes[g == v])) == 1 for v in (0, 1)):
        return (
            "not estimable: one cluster holds every answer of a group (the small-sample "
            "correction is undefined)"
        )
    return ""


def _exchangeable(y, x, codes, means) -> tuple[object | None, float, str]:  # noqa: ANN001
    """The exchangeable fit and its rho, or None and the note why independence is used."""
    largest = int(np.bincount(codes).max())
    if largest <= 1:
        why = "exchangeable working correlation not estimable (no cluster with two answers)"
        return None, _NAN, why
    res, converged = _fit(y, x, codes, means, "exchangeable")
    rho, low = float(res.model.cov_struct.dep_params), -1.0 / (largest - 1.0)
    if low < rho <= 0.0:  # negative rho would weigh large systems' clinics more, not less
        return None, 0.0, f"exchangeable rho {rho:.4f} truncated at 0"
    if not low < rho < 1.0:
        why = (
            f"exchangeable working correlation outside its valid range (rho {rho:.3f}; valid: "
            f"{low:.3f} < rho < 1 for clusters of up to {largest})"
        )
        return None, rho, why
    if not converged:
        why = f"exchangeable working correlation did not converge in {_MAXITER} iterations"
        return None, rho, why
    return res, rho, ""


def gee_difference(
    y: ArrayLike, group: ArrayLike, clusters: ArrayLike, *, working: str = "independence"
) -> DifferenceFit:
    """GEE estimate of ``mu1 - mu0`` (``group`` 0 and 1; others and NaN left out) with its
    Mancl-DeRouen SE and t(K - 2) interval; NaN and a note where not estimable."""
    y, g, codes, k, means = _answers(y, group, clusters)
    note = _not_estimable(g, codes, k, 2)
    if note:
        return DifferenceFit(*means, k, estimate=means[1] - means[0], note=note)
    x = np.column_stack([1.0 - g, g])
    res, rho, note = (None, _NAN, "")
    if working == "exchangeable":
        res, rho, note = _exchangeable(y, x, codes, means)
    if note:
        note += ": independence working correlation used"
    used = "independence" if res is None else "exchangeable"
    res = _fit(y, x, codes, means, "independence")[0] if res is None else res
    mu, c = np.asarray(res.params, dtype=float), np.array([-1.0, 1.0])
    fit = DifferenceFit(
        float(mu[0]),
        float(mu[1]),
        k,
        estimate=float(mu[1] - mu[0]),
        rho=rho if used == "exchangeable" or rho == 0.0 else _NAN,
        working=used,
        note=note,
    )
    se = float(np.sqrt(c @ np.asarray(res.cov_params()) @ c))
    return _t_inference(fit, se, float(k - 2))


def sandwich(
    sums: NDArray, units: NDArray, kind: str = "cr2", weights: NDArray | float = 1.0
) -> tuple[NDArray, NDArray]:
    """``mu1 - mu0`` and its CR2 (or CR3, Mancl-DeRouen) SE from each cluster's outcome sums and
    units per group, (..., 2, K); ``weights`` per cluster (a bootstrap's counts). The cell-means
    design in closed form: H_jj is 1/n_g within each group's block, so ``(I - H_jj)^(-1/2)``
    scales a cluster's residual in group g by ``(1 - m_gj / n_g)^(-1/2)`` (CR3: ``^-1``)."""
    n = (weights * units).sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (weights * sums).sum(axis=-1, keepdims=True) / n
        scale = np.where(units > 0, (1.0 - units / n) ** -{"cr2": 0.5, "cr3": 1.0}[kind], 0.0)
        t = (sums - units * mean) * scale / n
    se = np.sqrt((weights * (t[..., 1:, :] - t[..., :1, :]) ** 2).sum(axis=-1))[..., 0]
    return mean[..., 1, 0] - mean[..., 0, 0], se


def satterthwaite_df(units: NDArray) -> float:
    """Satterthwaite df of the CR2 variance from the units per group and cluster (2, K), as
    clubSandwich: ``tr(P)^2 / ||P||_F^2``, ``P_ij = u_i'(I - H)_ij u_j``, ``u_j = A_j X_j M c``.
    ``P = D - W'W`` (D diagonal, W 2 x K), so both norms are O(K): no K x K matrix."""
    n = units.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(units > 0, 1.0 / (n * np.sqrt(1.0 - units / n)), 0.0)
    w, d = units * beta / np.sqrt(n), (units * beta**2).sum(axis=0)
    gram = w @ w.T
    trace = d.sum() - np.trace(gram)
    frobenius = (d**2).sum() - 2.0 * (d * (w**2).sum(axis=0)).sum() + (gram**2).sum()
    return float(trace**2 / frobenius)


def _cluster_sums(y: NDArray, g: NDArray, codes: NDArray, k: int) -> tuple[NDArray, NDArray]:
    """Outcome sums and units per group and cluster, (2, K)."""
    sums = np.stack([np.bincount(codes[g == v], y[g == v], minlength=k) for v in (0, 1)])
    units = np.stack([np.bincount(codes[g == v], minlength=k) for v in (0, 1)]).astype(float)
    return sums, units


def _cr2(y: NDArray, g: NDArray, codes: NDArray, k: int, means: list) -> tuple:
    """The CR2 fit of answers :func:`_answers` read, and the cluster sums and units it used."""
    fit = DifferenceFit(*means, k, estimate=means[1] - means[0])
    note = _not_estimable(g, codes, k, 0)
    if note:
        return replace(fit, note=note), None, None
    sums, units = _cluster_sums(y, g, codes, k)
    fit = _t_inference(fit, float(sandwich(sums, units)[1]), satterthwaite_df(units))
    return fit, sums, units


def cr2_difference(y: ArrayLike, isw: ArrayLike, cluster: ArrayLike) -> DifferenceFit:
    """``mu1 - mu0`` with its CR2 SE and Satterthwaite df, as clubSandwich for ``lm(y ~ isw)``
    (:func:`sandwich`, :func:`satterthwaite_df`)."""
    return _cr2(*_answers(y, isw, cluster))[0]


def design_effects(events: NDArray, clinics: NDArray) -> NDArray:
    """Each group's design effect (..., 2) from events and clinics per system (..., 2, K): CR2
    variance ``sum_k r_k^2 / (1 - m_k / n) / n^2`` over ``p (1 - p) / n``, not floored at 1."""
    n = clinics.sum(axis=-1, keepdims=True)
    p = events.sum(axis=-1, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(clinics > 0, 1.0 / (1.0 - clinics / n), 0.0)
        var = ((events - clinics * p) ** 2 * scale).sum(axis=-1) / n[..., 0] ** 2
        deff = var / (p * (1.0 - p) / n)[..., 0]
    return np.where((p[..., 0] > 0) & (p[..., 0] < 1), deff, 1.0)


def newcombe_cr2(y: ArrayLike, isw: ArrayLike, cluster: ArrayLike) -> DifferenceFit:
    """``p1 - p0`` of a 0/1 outcome with Newcombe's interval on design-effect-adjusted counts at
    the t(:func:`cr2_difference` df) quantile, p inverting it; ``se`` the CR2 SE. The two groups'
    covariance within a cluster is left out: with many mixed clusters the interval is wider."""
    y, g, codes, k, means = _answers(y, isw, cluster)
    fit, s, m = _cr2(y, g, codes, k, means)  # the answers read and summed once for both
    if not np.isfinite(fit.p):
        return fit
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("newcombe_cr2 needs a 0/1 outcome")
    deff = design_effects(s, m)
    if not (deff > 0).all():
        return replace(fit, note="not estimable: a group's design effect is 0")
    n, e = m.sum(axis=1) / deff, s.sum(axis=1) / deff
    alpha = 2.0 * special.ndtr(-stats.t.ppf(0.975, fit.df))
    lo, hi = newcombe_bounds(e[1], n[1], e[0], n[0], alpha)
    return replace(fit, ci_low=lo, ci_high=hi, p=newcombe_p(e[1], n[1], e[0], n[0], df=fit.df))
