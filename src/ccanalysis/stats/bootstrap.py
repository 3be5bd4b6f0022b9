"""Bootstrap by clusters (``scipy.stats.bootstrap`` resamples observations): a replicate is each
cluster's multiplicity. The percentile interval ``(x_(k), x_(B + 1 - k))``, ``k = ceil(B (1 -
conf) / 2)``, excludes 0 exactly when :func:`bootstrap_p` ``= min(1, 2 min(#(d <= 0), #(d >= 0))
/ B)`` is below 1 - conf; with no replicate beyond 0 the p is the bound ``1/B``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

__all__ = ["BLOCK", "bootstrap_p", "percentile_interval", "resample", "uncertain"]

#: Replicates per random draw (the stream does not depend on the chunking).
BLOCK = 100


def resample(n_units: int, n: int, seed: int | None, chunk: int = 10) -> Iterator[NDArray]:
    """The first ``n`` replicates' multiplicities (b, n_units), in chunks of ``chunk`` blocks."""
    rng = np.random.default_rng(seed)
    offsets = (np.arange(BLOCK) * n_units)[:, None]
    for start in range(0, n, chunk * BLOCK):
        blocks = []
        for _ in range(math.ceil(min(chunk * BLOCK, n - start) / BLOCK)):
            idx = rng.integers(0, n_units, size=(BLOCK, n_units)) + offsets
            blocks.append(np.bincount(idx.ravel(), minlength=BLOCK * n_units))
        yield np.concatenate(blocks).reshape(-1, n_units)[: n - start].astype(float)


def _finite(boot: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    boot = np.asarray(boot, dtype=float)
    boot = boot[:, None] if boot.ndim == 1 else boot
    return boot, np.isfinite(boot)


def percentile_interval(
    boot: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """95% percentile interval of every column of ``boot`` (replicates x columns), NaN left out."""
    boot, finite = _finite(boot)
    lo, hi = np.full(boot.shape[1], np.nan), np.full(boot.shape[1], np.nan)
    for j in np.flatnonzero(finite.any(axis=0)):
        x = np.sort(boot[finite[:, j], j])
        k = max(1, math.ceil(len(x) * (1.0 - 0.95) / 2.0 - 1e-9))
        lo[j], hi[j] = x[k - 1], x[len(x) - k]
    return lo, hi


def _tail(boot: NDArray[np.float64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The smaller tail count ``min(#(d <= 0), #(d >= 0))`` and the finite replicates."""
    boot, finite = _finite(boot)
    c = np.minimum((finite & (boot <= 0)).sum(axis=0), (finite & (boot >= 0)).sum(axis=0))
    return c, finite.sum(axis=0)


def bootstrap_p(
    boot: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
    """Two-sided p of every column against 0, ``(p, bound, n)``: ``bound`` where p is ``1/B``."""
    c, n = _tail(boot)
    with np.errstate(invalid="ignore", divide="ignore"):
        bound = (c == 0) & (n > 0)
        p = np.where(bound, 1.0 / n, np.minimum(1.0, 2.0 * c / n))
    return np.where(n > 0, p, np.nan), bound, n.astype(np.int64)


def uncertain(boot: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Columns whose call ``p < 0.05`` is within 2.576 Monte Carlo SEs of flipping."""
    c, n = _tail(boot)
    q = 0.05 / 2.0
    return (n > 0) & (np.abs(c - q * n) < 2.576 * np.sqrt(n * q * (1.0 - q)))
