"""Confidence intervals of a difference between two groups: Newcombe's hybrid score interval for
proportions (Wilson intervals combined) and the t interval for means."""

from __future__ import annotations

import math

from numpy.typing import ArrayLike

from ccanalysis.stats.distributions import norm_ppf, t_ppf
from ccanalysis.stats.result import TestResult
from ccanalysis.stats.tests import (
    _clean,
    _summary,
    t_test_from_summary,
)


def _wilson(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval without continuity correction."""
    p = k / n
    denom = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _newcombe(k1: int, n1: int, k2: int, n2: int, z: float) -> tuple[float, float, float]:
    """p1 - p2 and Newcombe's hybrid score interval at critical value ``z`` (no checks):
    :func:`newcombe_diff`, and :func:`ccanalysis.stats.inversion.newcombe_p`, which varies ``z``."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = _wilson(k1, n1, z)
    l2, u2 = _wilson(k2, n2, z)
    d = p1 - p2
    lo = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, lo, hi


def newcombe_diff(
    k1: int, n1: int, k2: int, n2: int, conf: float = 0.95
) -> tuple[float, float, float]:
    """Difference p1 - p2 with Newcombe's hybrid score interval.

    Method 10 of Newcombe (1998, Stat Med 17:873-890): combines the Wilson
    score intervals (l_i, u_i) of both proportions without continuity
    correction: lo = d - sqrt((p1 - l1)^2 + (u2 - p2)^2),
    hi = d + sqrt((u1 - p1)^2 + (p2 - l2)^2).
    """
    if n1 <= 0 or n2 <= 0 or not (0 <= k1 <= n1) or not (0 <= k2 <= n2):
        raise ValueError("need 0 <= k <= n and n > 0")
    return _newcombe(k1, n1, k2, n2, norm_ppf(1 - (1 - conf) / 2))


def mean_diff_test(
    x: ArrayLike, y: ArrayLike, conf: float = 0.95, equal_var: bool = True
) -> tuple[float, float, float, TestResult]:
    """:func:`mean_diff_ci` and the t test it inverts (R's ``t.test(x, y, var.equal=...)``),
    from one computation: ``(d, lo, hi, test)``."""
    a, b = _clean(x), _clean(y)
    m1, s1, n1 = _summary(a)
    m2, s2, n2 = _summary(b)
    res = t_test_from_summary(m1, s1, n1, m2, s2, n2, equal_var=equal_var)
    d = m1 - m2
    se = d / res.statistic if res.statistic else _se_direct(s1, n1, s2, n2, equal_var)
    q = t_ppf(1 - (1 - conf) / 2, res.df)
    return d, d - q * abs(se), d + q * abs(se), res


def mean_diff_ci(
    x: ArrayLike, y: ArrayLike, conf: float = 0.95, equal_var: bool = True
) -> tuple[float, float, float]:
    """Mean difference mean(x) - mean(y) with its t confidence interval (NaN dropped).

    Pooled-variance (Student) interval by default, Welch interval otherwise;
    matches R's ``t.test(x, y, var.equal=...)$conf.int``.
    """
    d, lo, hi, _ = mean_diff_test(x, y, conf, equal_var)
    return d, lo, hi


def _se_direct(s1: float, n1: int, s2: float, n2: int, equal_var: bool) -> float:
    if equal_var:
        sp2 = ((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2)
        return math.sqrt(sp2 * (1 / n1 + 1 / n2))
    return math.sqrt(s1**2 / n1 + s2**2 / n2)
