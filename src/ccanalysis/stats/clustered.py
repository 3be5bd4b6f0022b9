"""Two-group differences with clustered units: GEE on the difference scale, robust SE with the
Mancl-DeRouen small-sample correction, t reference with K - 2 degrees of freedom.

The model is the marginal mean of one group each (identity link, cell-means coding: ``mu0`` for
group 0, ``mu1`` for group 1), the estimand their difference ``mu1 - mu0`` (a difference of
proportions for a 0/1 outcome, of means otherwise). The working covariance is Gaussian (constant
variance) with an independence or an exchangeable working correlation within clusters:

* ``independence``: the estimate *is* the crude difference of the group means, whatever the
  clusters; the clusters only enter the standard error. This is the primary clustered analysis.
* ``exchangeable``: generalized least squares with the within-cluster correlation ``rho``; the
  estimate weights a cluster's units less the larger the cluster (between "every unit counts
  once", rho = 0, and "every cluster counts once", rho -> 1): a cluster-weighted difference, not
  the crude one. ``rho`` is the moment estimate of statsmodels' ``Exchangeable`` (Pearson
  residuals, scale with N - 2 and pairs - 2 degrees of freedom), iterated with the means to a
  fixed point. It must lie inside its valid range ``(-1/(m - 1), 1)``, m the largest cluster;
  otherwise (or without convergence) the column falls back to independence with a note.

Everything is computed from per-cluster, per-group sums (count, sum of y, sum of y^2: see
:class:`ClusterSums`), so that a fit costs in the number of clusters, not of units, and many
outcomes (columns) are fitted at once. With two mean parameters the cluster's leverage has rank 2
and the corrections have closed forms:

* robust (sandwich, "CR0"): ``V = B^-1 (sum_i u_i u_i') B^-1`` with the bread
  ``B = sum_i G_i``, ``G_i = X_i' R_i^-1 X_i`` and the cluster score ``u_i = X_i' R_i^-1 r_i``;
* Mancl-DeRouen (2001, Biometrics 57:126-134): the residuals are replaced by
  ``(I - H_i)^-1 r_i``, ``H_i = X_i B^-1 X_i' R_i^-1``. By Woodbury,
  ``X_i' R_i^-1 (I - H_i)^-1 r_i = B (B - G_i)^-1 u_i``, hence
  ``V_MD = sum_i (B - G_i)^-1 u_i u_i' (B - G_i)^-1`` (undefined when one cluster holds all units
  of a group: then ``B - G_i`` is singular).

Reference distribution: t with ``K - 2`` degrees of freedom, K the clusters with at least one
answer and 2 the mean parameters (the t(K - p) reference usual for bias-corrected GEE tests with
few clusters; a z reference is too liberal there, Li and Redden 2015, Stat Med 34:281-296). K - 2
rather than K - 1 is the conservative choice; the two matter only with few clusters and their
p-values draw together as K grows. Mancl-DeRouen itself errs on the conservative side (it
over-corrects slightly where Kauermann-Carroll stays closer to the nominal size), so the test
does too.

statsmodels' ``GEE`` computes the same numbers (``cov_type="bias_reduced"`` is Mancl-DeRouen: its
``_bc_covmat`` forms ``(I - H_i)^-1 r_i`` per cluster), but loops over clusters in Python and
refits per outcome; the tests check this module against it, against R's geepack
(``geeglm``, rho fixed) and against a hand computation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import special

__all__ = ["ClusterSums", "DifferenceFit", "cluster_sums", "gee_difference"]

WORKING = ("independence", "exchangeable")
CORRECTIONS = ("mancl_derouen", "none")


@dataclass(frozen=True)
class ClusterSums:
    """Per cluster (K), group (2: 0 reference, 1 comparison) and outcome (J): the number of
    answers ``n``, their sum ``s`` and sum of squares ``q``; each of shape (K, 2, J)."""

    n: NDArray[np.float64]
    s: NDArray[np.float64]
    q: NDArray[np.float64]

    def __post_init__(self) -> None:
        if not (self.n.shape == self.s.shape == self.q.shape) or self.n.ndim != 3:
            raise ValueError("n, s and q must share one shape (clusters, 2, outcomes)")
        if self.n.shape[1] != 2:
            raise ValueError("the second axis must be the two groups")


def cluster_sums(
    y: ArrayLike,
    group: ArrayLike,
    clusters: ArrayLike,
    valid: ArrayLike | None = None,
) -> ClusterSums:
    """:class:`ClusterSums` of the outcomes ``y`` (n,) or (n, J) by cluster and group.

    ``group``: 0 or 1 per unit (other values are left out); ``clusters``: any ids (sorted);
    ``valid``: which answers count (default: the finite ones).
    """
    y = np.asarray(y, dtype=float)
    one = y.ndim == 1
    y2 = y[:, None] if one else y
    g = np.asarray(group)
    ok = np.isfinite(y2) if valid is None else np.asarray(valid, dtype=bool).reshape(y2.shape)
    codes, uniq = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)), sort=True)
    if (codes < 0).any():
        raise ValueError("missing cluster ids")
    keep = (g == 0) | (g == 1)
    k = len(uniq)
    cell = codes * 2 + np.where(keep, g, 0).astype(np.int64)
    out = np.zeros((3, 2 * k, y2.shape[1]))
    for j in range(y2.shape[1]):
        w = ok[:, j] & keep
        yj = np.where(w, y2[:, j], 0.0)
        out[0, :, j] = np.bincount(cell, weights=w.astype(float), minlength=2 * k)
        out[1, :, j] = np.bincount(cell, weights=yj, minlength=2 * k)
        out[2, :, j] = np.bincount(cell, weights=yj * yj, minlength=2 * k)
    n, s, q = (a.reshape(k, 2, -1) for a in out)
    return ClusterSums(n, s, q)


@dataclass(frozen=True)
class DifferenceFit:
    """Per outcome (arrays of length J): the group means, their difference with its robust SE,
    t interval and p, the degrees of freedom, the clusters with answers, the working correlation
    ``rho`` (NaN under independence), which working correlation was used and a note."""

    mean0: NDArray[np.float64]
    mean1: NDArray[np.float64]
    estimate: NDArray[np.float64]
    se: NDArray[np.float64]
    df: NDArray[np.float64]
    ci_low: NDArray[np.float64]
    ci_high: NDArray[np.float64]
    p: NDArray[np.float64]
    clusters: NDArray[np.int64]
    rho: NDArray[np.float64]
    working: tuple[str, ...]
    notes: tuple[str, ...]
    correction: str = "mancl_derouen"
    conf: float = 0.95

    def column(self, j: int) -> dict[str, object]:
        """Outcome ``j`` as a dict of Python values."""
        out: dict[str, object] = {}
        for name in ("mean0", "mean1", "estimate", "se", "df", "ci_low", "ci_high", "p", "rho"):
            out[name] = float(getattr(self, name)[j])
        out["clusters"] = int(self.clusters[j])
        out["working"] = self.working[j]
        out["note"] = self.notes[j]
        return out


def _solve2(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], v: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Solve [[a, b], [b, c]] x = v elementwise (v: (..., 2) on axis -2 as v[..., 0, :], v[..., 1,
    :]); returns (x0, x1, det)."""
    det = a * c - b * b
    with np.errstate(invalid="ignore", divide="ignore"):
        x0 = (c * v[..., 0, :] - b * v[..., 1, :]) / det
        x1 = (a * v[..., 1, :] - b * v[..., 0, :]) / det
    return x0, x1, det


def _gls(
    n: NDArray[np.float64], s: NDArray[np.float64], rho: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Group means given ``rho`` (J,), and the per-cluster shrinkage ``c_i`` (K, J) of
    ``R_i^-1 = (I - c_i 11') / (1 - rho)`` (the factor 1/(1 - rho) cancels everywhere and is
    left out). Returns (mu (2, J), c (K, J), the bread's entries stacked (3, J))."""
    m = n.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(m > 0, rho / (1.0 + (m - 1.0) * rho), 0.0)
    n0, n1 = n[:, 0], n[:, 1]
    b00 = (n0 - c * n0 * n0).sum(axis=0)
    b11 = (n1 - c * n1 * n1).sum(axis=0)
    b01 = (-c * n0 * n1).sum(axis=0)
    rhs = (s - c[:, None, :] * n * s.sum(axis=1, keepdims=True)).sum(axis=0)
    mu0, mu1, _ = _solve2(b00, b01, b11, rhs[None])
    return np.stack([mu0[0], mu1[0]]), c, np.stack([b00, b01, b11])


def _moment_rho(sums: ClusterSums, mu: NDArray[np.float64]) -> NDArray[np.float64]:
    """statsmodels' ``Exchangeable.update`` for a Gaussian family, from cluster sums."""
    n, s, q = sums.n, sums.s, sums.q
    e = s - n * mu[None]  # residual sums per cluster and group
    rr = (q - 2.0 * mu[None] * s + n * mu[None] ** 2).sum(axis=1)  # sum of squared residuals
    m = n.sum(axis=1)
    big_n = m.sum(axis=0)
    pairs = (m * (m - 1.0) / 2.0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = rr.sum(axis=0) / (big_n - 2.0)
        cross = ((e.sum(axis=1) ** 2 - rr) / 2.0).sum(axis=0) / scale
        return cross / (pairs - 2.0)


def gee_difference(
    sums: ClusterSums,
    *,
    working: str = "independence",
    correction: str = "mancl_derouen",
    rho: float | ArrayLike | None = None,
    df_adjust: int = 2,
    conf: float = 0.95,
    maxiter: int = 100,
    tol: float = 1e-10,
) -> DifferenceFit:
    """GEE estimate of ``mu1 - mu0`` for every outcome of ``sums``, with its robust SE and t interval.

    ``working``: ``"independence"`` (the estimate is the crude difference) or ``"exchangeable"``
    (rho estimated, or fixed by ``rho``; an estimate outside ``(-1/(m - 1), 1)`` or no convergence
    within ``maxiter`` falls back to independence, with a note). ``correction``:
    ``"mancl_derouen"`` or ``"none"`` (the plain sandwich, geepack's ``san.se``). The reference is
    t with ``K - df_adjust`` degrees of freedom. Outcomes that cannot be estimated (a group without
    answers, fewer than ``df_adjust + 1`` clusters, no variation, a correction that is undefined)
    get NaN and a note, never an exception.
    """
    if working not in WORKING:
        raise ValueError(f"working must be one of {WORKING}, not {working!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, not {correction!r}")
    n, s = sums.n, sums.s
    k_all, _, n_out = n.shape
    notes: list[list[str]] = [[] for _ in range(n_out)]
    m = n.sum(axis=1)
    n_clusters = (m > 0).sum(axis=0)
    largest = m.max(axis=0) if k_all else np.zeros(n_out)
    n_group = n.sum(axis=0)  # (2, J)
    usable = (n_group[0] > 0) & (n_group[1] > 0)
    for j in np.flatnonzero(~usable):
        notes[j].append("not estimable: no answers in a group")

    rho_used = np.zeros(n_out)
    exch = np.zeros(n_out, dtype=bool)
    # the valid range of rho, (-1/(m - 1), 1), m the largest cluster (no bound below without
    # clusters of two); computed once
    lower = np.where(largest > 1, -1.0 / np.maximum(largest - 1.0, 1.0), -np.inf)

    def valid(r: NDArray[np.float64]) -> NDArray[np.bool_]:
        return (r > lower) & (r < 1.0)  # NaN is not valid

    if working == "exchangeable":
        exch = usable.copy()
        if rho is not None:
            rho_used = np.broadcast_to(np.asarray(rho, dtype=float), (n_out,)).copy()
        else:
            mu, _, _ = _gls(n, s, rho_used)
            active = exch & (largest > 1)
            converged = np.zeros(n_out, dtype=bool)
            for _ in range(maxiter):
                new = _moment_rho(sums, mu)
                new = np.where(active, new, rho_used)
                mu_new, _, _ = _gls(n, s, new)
                step = np.maximum(np.abs(new - rho_used), np.abs(mu_new - mu).max(axis=0))
                rho_used, mu = new, mu_new
                done = active & (step < tol)
                converged |= done
                bad = active & ~valid(rho_used)
                active &= ~done & ~bad
                if not active.any():
                    break
            in_range = valid(rho_used)
            for j in np.flatnonzero(exch):
                if largest[j] <= 1:
                    notes[j].append(
                        "exchangeable working correlation not estimable (no cluster with two "
                        "answers): independence working correlation used"
                    )
                    exch[j] = False
                    continue
                r, low = rho_used[j], lower[j]
                if not in_range[j]:
                    notes[j].append(
                        f"exchangeable working correlation outside its valid range (rho {r:.3f}; "
                        f"valid: {low:.3f} < rho < 1 for clusters of up to {int(largest[j])}): "
                        "independence working correlation used"
                    )
                    exch[j] = False
                elif not converged[j]:
                    notes[j].append(
                        f"exchangeable working correlation did not converge in {maxiter} "
                        "iterations: independence working correlation used"
                    )
                    exch[j] = False
        if rho is not None:
            for j in np.flatnonzero(exch & ~valid(rho_used)):
                raise ValueError(f"fixed rho {rho_used[j]} is outside its valid range")
    rho_used = np.where(exch, rho_used, 0.0)
    mu, c, bread = _gls(n, s, rho_used)
    b00, b01, b11 = bread
    e = s - n * mu[None]
    u = e - c[:, None, :] * n * e.sum(axis=1, keepdims=True)  # cluster scores (K, 2, J)
    if correction == "mancl_derouen":
        n0, n1 = n[:, 0], n[:, 1]
        g00, g11, g01 = n0 - c * n0 * n0, n1 - c * n1 * n1, -c * n0 * n1
        a00, a01, a11 = b00[None] - g00, b01[None] - g01, b11[None] - g11
    else:
        a00, a01, a11 = (np.broadcast_to(x[None], u[:, 0].shape) for x in (b00, b01, b11))
    v0, v1, det = _solve2(a00, a01, a11, u)
    # a cluster holding every answer of a group makes B - G_i singular (its own residuals are then
    # fitted exactly); clusters without answers contribute nothing
    det_b = b00 * b11 - b01 * b01
    singular = ((np.abs(det) <= 1e-12 * np.abs(det_b)[None]) & (m > 0)).any(axis=0)
    contrib = np.where(m > 0, v1 - v0, 0.0)
    var = (contrib * contrib).sum(axis=0)
    est = mu[1] - mu[0]
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    df = n_clusters.astype(float) - df_adjust
    ok = usable.copy()
    for j in np.flatnonzero(usable):
        if n_clusters[j] <= df_adjust:
            notes[j].append(
                f"not estimable: {int(n_clusters[j])} clusters, a t reference with K - "
                f"{df_adjust} degrees of freedom needs at least {df_adjust + 1}"
            )
            ok[j] = False
        elif singular[j]:
            notes[j].append(
                "not estimable: one cluster holds every answer of a group (the Mancl-DeRouen "
                "correction is undefined)"
            )
            ok[j] = False
        elif not se[j] > 0:
            notes[j].append("not estimable: no variation around the group means (robust SE 0)")
            ok[j] = False
    with np.errstate(invalid="ignore", divide="ignore"):
        q = special.stdtrit(np.where(ok, df, 1.0), 1.0 - (1.0 - conf) / 2.0)
        t = est / se
        p = 2.0 * special.stdtr(np.where(ok, df, 1.0), -np.abs(t))
    nan = np.full(n_out, np.nan)
    est_out = np.where(usable, est, nan)
    return DifferenceFit(
        mean0=np.where(n_group[0] > 0, mu[0], nan),
        mean1=np.where(n_group[1] > 0, mu[1], nan),
        estimate=est_out,
        se=np.where(ok, se, nan),
        df=np.where(ok, df, nan),
        ci_low=np.where(ok, est - q * se, nan),
        ci_high=np.where(ok, est + q * se, nan),
        p=np.where(ok, np.minimum(p, 1.0), nan),
        clusters=n_clusters.astype(np.int64),
        rho=np.where(exch, rho_used, nan),
        working=tuple("exchangeable" if x else "independence" for x in exch),
        notes=tuple("; ".join(x) for x in notes),
        correction=correction,
        conf=conf,
    )
