"""Two-group differences with clustered units: GEE (statsmodels) on the difference scale, robust
SE with the Mancl-DeRouen small-sample correction, t reference with K - 2 degrees of freedom.

The model is the marginal mean of each group (identity link, Gaussian working variance,
cell-means coding ``mu0``, ``mu1``); the estimand is ``mu1 - mu0`` (a difference of proportions
for a 0/1 outcome, of means otherwise). ``sm.GEE(...).fit(cov_type="bias_reduced")`` gives the
Mancl-DeRouen (2001, Biometrics 57:126-134) covariance; the t(K - 2) test and interval, K the
clusters with answers and 2 the mean parameters, are computed on top of it (statsmodels uses a
normal reference, too liberal with few clusters: Li and Redden 2015, Stat Med 34:281-296).

* ``independence``: the estimate *is* the crude difference of the group means; the clusters
  enter only the standard error (the primary clustered analysis).
* ``exchangeable``: the within-cluster correlation ``rho`` (statsmodels' moment estimate)
  weights a cluster's units less the larger the cluster: a cluster-weighted difference. A rho
  outside its valid range ``(-1/(m - 1), 1)`` (m the largest cluster) or no convergence falls
  back to independence, with a note.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

__all__ = ["DifferenceFit", "gee_difference"]

WORKING = ("independence", "exchangeable")
_CTOL = 1e-13  # statsmodels' convergence tolerance on the mean parameters (default 1e-6)
_MAXITER = 200


@dataclass(frozen=True)
class DifferenceFit:
    """One outcome's GEE fit: the group means, their difference with its robust SE, t interval
    and p, the degrees of freedom, the clusters with answers, the working correlation ``rho``
    (NaN under independence), the working correlation used and a note (why a value is NaN, or
    why exchangeable fell back)."""

    mean0: float
    mean1: float
    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p: float
    clusters: int
    rho: float
    working: str
    note: str


def _fit(y, x, codes, working: str) -> tuple[object, bool]:  # noqa: ANN001
    cov = (
        sm.cov_struct.Exchangeable() if working == "exchangeable" else sm.cov_struct.Independence()
    )
    model = sm.GEE(y, x, groups=codes, cov_struct=cov, family=sm.families.Gaussian())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = model.fit(cov_type="bias_reduced", ctol=_CTOL, maxiter=_MAXITER)
    return res, not any(issubclass(w.category, ConvergenceWarning) for w in caught)


def gee_difference(
    y: ArrayLike,
    group: ArrayLike,
    clusters: ArrayLike,
    *,
    working: str = "independence",
    df_adjust: int = 2,
    conf: float = 0.95,
) -> DifferenceFit:
    """GEE estimate of ``mu1 - mu0`` from the units' outcomes ``y``, ``group`` (0 reference, 1
    comparison; others and NaN outcomes left out) and cluster ids, with its Mancl-DeRouen SE and
    t(K - ``df_adjust``) interval. What cannot be estimated (a group without answers, too few
    clusters, one cluster holding a group's every answer, no variation) gets NaN and a note."""
    if working not in WORKING:
        raise ValueError(f"working must be one of {WORKING}, not {working!r}")
    y, g = np.asarray(y, dtype=float), np.asarray(group)
    keep = np.isfinite(y) & ((g == 0) | (g == 1))
    y, g = y[keep], g[keep].astype(float)
    codes = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)[keep]), sort=True)[0]
    k = len(np.unique(codes))
    nan = float("nan")
    m0 = float(y[g == 0].mean()) if (g == 0).any() else nan
    m1 = float(y[g == 1].mean()) if (g == 1).any() else nan
    fit = dict(
        mean0=m0,
        mean1=m1,
        estimate=m1 - m0,
        se=nan,
        df=nan,
        ci_low=nan,
        ci_high=nan,
        p=nan,
        clusters=k,
        rho=nan,
        working="independence",
        note="",
    )
    notes: list[str] = []
    if np.isnan(m0) or np.isnan(m1):
        return DifferenceFit(**{**fit, "note": "not estimable: no answers in a group"})
    if k <= df_adjust:
        return DifferenceFit(
            **{
                **fit,
                "note": (
                    f"not estimable: {k} clusters, a t reference with K - {df_adjust} degrees of "
                    f"freedom needs at least {df_adjust + 1}"
                ),
            }
        )
    if any(len(np.unique(codes[g == v])) == 1 for v in (0, 1)):
        return DifferenceFit(
            **{
                **fit,
                "note": (
                    "not estimable: one cluster holds every answer of a group (the Mancl-DeRouen "
                    "correction is undefined)"
                ),
            }
        )
    x = np.column_stack([1.0 - g, g])
    largest = int(np.bincount(codes).max())
    res = None
    if working == "exchangeable" and largest <= 1:
        notes.append(
            "exchangeable working correlation not estimable (no cluster with two answers): "
            "independence working correlation used"
        )
    elif working == "exchangeable":
        res, converged = _fit(y, x, codes, "exchangeable")
        rho, low = float(res.model.cov_struct.dep_params), -1.0 / (largest - 1.0)
        if not low < rho < 1.0:
            notes.append(
                f"exchangeable working correlation outside its valid range (rho {rho:.3f}; "
                f"valid: {low:.3f} < rho < 1 for clusters of up to {largest}): "
                "independence working correlation used"
            )
            res = None
        elif not converged:
            notes.append(
                f"exchangeable working correlation did not converge in {_MAXITER} "
                "iterations: independence working correlation used"
            )
            res = None
        else:
            fit["rho"], fit["working"] = rho, "exchangeable"
    if res is None:
        res = _fit(y, x, codes, "independence")[0]
    mu = np.asarray(res.params, dtype=float)
    c = np.array([-1.0, 1.0])
    se = float(np.sqrt(c @ np.asarray(res.cov_params()) @ c))
    est, df = float(mu[1] - mu[0]), float(k - df_adjust)
    fit.update(mean0=float(mu[0]), mean1=float(mu[1]), estimate=est)
    if not se > 0:
        notes.append("not estimable: no variation around the group means (robust SE 0)")
        return DifferenceFit(**{**fit, "note": "; ".join(notes)})
    q = stats.t.ppf(1.0 - (1.0 - conf) / 2.0, df)
    fit.update(
        se=se,
        df=df,
        ci_low=est - q * se,
        ci_high=est + q * se,
        p=float(min(1.0, 2.0 * stats.t.sf(abs(est / se), df))),
        note="; ".join(notes),
    )
    return DifferenceFit(**fit)
