"""Small sampling rules shared by the calibration, the structure and the answers.

Largest-remainder apportionment turns shares into whole counts that add up exactly (the
synthesizer's marginals are exact, so counts are apportioned, never drawn); the Gumbel top-k trick
draws a weighted sample without replacement from one vector of keys (numpy's ``choice`` without
replacement has no vectorised weighted form that returns the order too).
"""

from __future__ import annotations

import numpy as np


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of ``total`` by ``weights``."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:rest]] += 1
    return base


def gumbel_top(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of a weighted sample without replacement of size k (Gumbel top-k)."""
    keys = logits + rng.gumbel(size=len(logits))
    return np.argsort(-keys, kind="stable")[:k]


def normalized(x: np.ndarray) -> np.ndarray:
    """Weights scaled to add up to one."""
    x = np.asarray(x, dtype=float)
    return x / x.sum()
