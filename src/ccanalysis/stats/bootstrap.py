"""Bootstrap by clusters: the resampling plan, the percentile interval and its p-value.

A cluster bootstrap resamples whole clusters (care systems) with replacement and keeps all their
units; a replicate is then the vector of each cluster's multiplicity (how often it was drawn), and
any statistic built from per-cluster sums is a matrix product away (``W @ A``): the cost of a
replicate is the number of clusters, not of units.

* :class:`ResamplingPlan`: seeded multiplicities, drawn in blocks of :data:`BLOCK` replicates
  (``Generator.integers``, then ``np.bincount``), so replicate ``b`` is the same for every number
  of replicates >= b and however the caller chunks them (and extending a bootstrap continues the
  same stream).
* :func:`percentile_interval`: the percentile interval by order statistics,
  ``(x_(k), x_(B + 1 - k))`` with ``k = ceil(B (1 - conf) / 2)`` (the "inverted CDF", R's
  quantile type 1, on both tails): it excludes 0 exactly when :func:`bootstrap_p` is below
  ``1 - conf``, so a row's interval and its p never disagree.
* :func:`bootstrap_p`: ``min(1, 2 min(#(d <= 0), #(d >= 0)) / B)``, the p-value of the percentile
  interval's inversion; with no replicate on the far side of 0 the p-value is below ``1/B`` and is
  reported as that bound (``bound`` is set), never as 0.
* :func:`uncertain`: whether the call "p < alpha" could flip with more replicates (the Monte Carlo
  error of the tail count near its threshold), for adaptive extension.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

__all__ = ["BLOCK", "ResamplingPlan", "bootstrap_p", "percentile_interval", "uncertain"]

#: Replicates per random draw (keeps the stream independent of the chunking).
BLOCK = 100


class ResamplingPlan:
    """Multiplicities of ``n_units`` clusters in successive bootstrap replicates, seeded.

    ``take(b)`` returns the next ``b`` replicates as a (b, n_units) float array of counts
    (each row sums to ``n_units``). Draws are made ``BLOCK`` replicates at a time and buffered.
    """

    def __init__(self, n_units: int, seed: int | None, *, dtype: type = np.float64) -> None:
        if n_units < 0:
            raise ValueError("n_units must be non-negative")
        self.n_units = n_units
        self.rng = np.random.default_rng(seed)
        self.dtype = dtype
        self.drawn = 0
        self._buffer: NDArray = np.zeros((0, n_units), dtype=dtype)

    def _block(self) -> NDArray:
        n = self.n_units
        if n == 0:
            return np.zeros((BLOCK, 0), dtype=self.dtype)
        idx = self.rng.integers(0, n, size=(BLOCK, n))
        idx += (np.arange(BLOCK) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=BLOCK * n)
        return counts.reshape(BLOCK, n).astype(self.dtype)

    def take(self, b: int) -> NDArray:
        """The next ``b`` replicates."""
        parts = [self._buffer]
        have = len(self._buffer)
        while have < b:
            blk = self._block()
            parts.append(blk)
            have += len(blk)
        allw = np.concatenate(parts) if len(parts) > 1 else parts[0]
        out, self._buffer = allw[:b], allw[b:]
        self.drawn += b
        return out


def _rank(n: int, conf: float) -> int:
    """k of the lower order statistic ``x_(k)`` of the percentile interval (1-based)."""
    tail = (1.0 - conf) / 2.0
    return max(1, math.ceil(n * tail - 1e-9))


def percentile_interval(
    boot: NDArray[np.float64], conf: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Percentile interval of every column of ``boot`` (replicates x columns), NaN left out:
    ``(x_(k), x_(B + 1 - k))``, ``k = ceil(B (1 - conf) / 2)``, B the finite replicates."""
    boot = np.asarray(boot, dtype=float)
    if boot.ndim == 1:
        boot = boot[:, None]
    n_rep, n_col = boot.shape
    lo = np.full(n_col, np.nan)
    hi = np.full(n_col, np.nan)
    finite = np.isfinite(boot)
    n_ok = finite.sum(axis=0)
    full = np.flatnonzero(n_ok == n_rep)
    if len(full) and n_rep:
        k = _rank(n_rep, conf)
        part = np.partition(boot[:, full], [k - 1, n_rep - k], axis=0)
        lo[full], hi[full] = part[k - 1], part[n_rep - k]
    for j in np.flatnonzero((n_ok < n_rep) & (n_ok > 0)):
        x = np.sort(boot[finite[:, j], j])
        k = _rank(len(x), conf)
        lo[j], hi[j] = x[k - 1], x[len(x) - k]
    return lo, hi


def _tail(boot: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per column of ``boot`` (replicates x columns, or one column): the smaller tail count
    ``min(#(d <= 0), #(d >= 0))`` and the finite replicates B, NaN left out."""
    boot = np.asarray(boot, dtype=float)
    if boot.ndim == 1:
        boot = boot[:, None]
    finite = np.isfinite(boot)
    n = finite.sum(axis=0)
    c = np.minimum((finite & (boot <= 0)).sum(axis=0), (finite & (boot >= 0)).sum(axis=0))
    return c, n


def bootstrap_p(
    boot: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """Two-sided bootstrap p of every column against 0: ``min(1, 2 min(#(d <= 0), #(d >= 0)) / B)``.

    Returns ``(p, bound, n)``: ``bound`` marks columns with no replicate on the far side of 0,
    whose p is reported as the bound ``1/B`` (the true value is below it); ``n`` the finite
    replicates B of each column. Columns without finite replicates get NaN.
    """
    c, n = _tail(boot)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.minimum(1.0, 2.0 * c / n)
        bound = (c == 0) & (n > 0)
        p = np.where(bound, 1.0 / n, p)
    return np.where(n > 0, p, np.nan), bound, n.astype(np.int64)


def uncertain(
    boot: NDArray[np.float64], alpha: float = 0.05, z: float = 2.576
) -> NDArray[np.bool_]:
    """Columns whose call ``p < alpha`` is within ``z`` Monte Carlo standard errors of flipping:
    the smaller tail count is within ``z sqrt(B q (1 - q))`` of its threshold ``q B``,
    ``q = alpha / 2`` (binomial sampling of the tail count by the replicates)."""
    c, n = _tail(boot)
    q = alpha / 2.0
    return (n > 0) & (np.abs(c - q * n) < z * np.sqrt(n * q * (1.0 - q)))
