"""Tables of counts as the tests take them: validated, with empty rows and columns dropped."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_count_table(table: ArrayLike) -> NDArray[np.int64]:
    """Validate a 2-D table of non-negative integer counts and return it as int64."""
    arr = np.asarray(table)
    if arr.ndim != 2:
        raise ValueError("table must be two-dimensional")
    if arr.dtype.kind in "iu":  # integer input (the usual case): only the sign needs checking
        if arr.size and arr.min() < 0:
            raise ValueError("table must contain non-negative finite counts")
        return arr.astype(np.int64)
    arr = arr.astype(float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("table must contain non-negative finite counts")
    if np.any(arr != np.round(arr)):
        raise ValueError("table must contain integer counts")
    return arr.astype(np.int64)


def drop_empty(t: NDArray[np.int64]) -> NDArray[np.int64]:
    """Remove all-zero rows and columns."""
    t = t[t.sum(axis=1) > 0]
    return t[:, t.sum(axis=0) > 0] if t.size else t
