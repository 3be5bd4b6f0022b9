"""Adjustment of p-values for the many comparisons of a table."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def bh_qvalues(p: ArrayLike) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values, as R's ``p.adjust(p, "BH")``.

    NaN entries stay NaN and do not count towards the number of tests
    (R's default ``n = length(p[!is.na(p)])``).
    """
    arr = np.asarray(p, dtype=float).ravel()
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(arr)
    pv = arr[ok]
    m = len(pv)
    if m == 0:
        return out
    order = np.argsort(pv)[::-1]  # decreasing
    ranks = np.arange(m, 0, -1)
    adj = np.minimum.accumulate(pv[order] * m / ranks)
    q = np.empty(m)
    q[order] = np.minimum(adj, 1.0)
    out[ok] = q
    return out
