"""What every test returns, the count table the table tests take, the exact test's budget error."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class TestResult:
    """A test's id, name, statistic (None for Fisher's), df (``df2``: an F test's denominator),
    p, observations, and a Monte Carlo p-value's tables and SE."""

    __test__ = False  # not a pytest test class despite the name

    test: str
    name: str
    statistic: float | None
    df: float | None
    p: float
    n: int
    mc_samples: int | None = None
    mc_se: float | None = None
    df2: float | None = None


class ExactTestBudgetError(RuntimeError):
    """Raised when exact enumeration would exceed its node budget."""


def count_table(table: ArrayLike) -> NDArray[np.int64]:
    """A 2-D table of non-negative integer counts as int64, all-zero rows and columns dropped."""
    arr = np.asarray(table)
    if arr.ndim != 2:
        raise ValueError("table must be two-dimensional")
    f = arr.astype(float)
    if not np.all(np.isfinite(f)) or np.any(f < 0):
        raise ValueError("table must contain non-negative finite counts")
    if np.any(f != np.round(f)):
        raise ValueError("table must contain integer counts")
    t = arr.astype(np.int64)[f.sum(axis=1) > 0]
    return t[:, t.sum(axis=0) > 0] if t.size else t
