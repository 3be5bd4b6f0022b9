"""Largest-remainder apportionment and weighted sampling without replacement.

The synthesizer's marginals are exact, so counts are apportioned, never drawn. The Gumbel top-k
trick draws a weighted sample without replacement, in order, from one vector of keys.
"""

from __future__ import annotations

import numpy as np


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of ``total`` by ``weights`` (equal if they add up to 0)."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        base[np.argsort(-(quota - base), kind="stable")[:rest]] += 1
    return base


def gumbel_top(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of a weighted sample without replacement of size k (Gumbel top-k)."""
    keys = logits + rng.gumbel(size=len(logits))
    return np.argsort(-keys, kind="stable")[:k]
