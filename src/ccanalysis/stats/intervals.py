"""Intervals of a two-group difference: Newcombe's (statsmodels), t (scipy.stats); and the p that
inverts Newcombe's interval, which statsmodels lacks: the bound nearest the null moves
monotonically in ``z``, so ``z*`` touching it is found by ``brentq`` (p = 2 Phi(-z*))."""

from __future__ import annotations

import math

from numpy.typing import ArrayLike
from scipy import optimize, special, stats
from statsmodels.stats.proportion import confint_proportions_2indep

from ccanalysis.stats.tests import _clean


def newcombe_diff(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """p1 - p2 with Newcombe's hybrid score 95% interval (Newcombe 1998, method 10)."""
    return (k1 / n1 - k2 / n2, *newcombe_bounds(k1, n1, k2, n2, 1.0 - 0.95))


def newcombe_bounds(
    k1: float, n1: float, k2: float, n2: float, alpha: float
) -> tuple[float, float]:
    """:func:`newcombe_diff`'s bounds at ``1 - alpha`` (alpha may be < 1e-16), counts fractional."""
    if n1 <= 0 or n2 <= 0 or not (0 <= k1 <= n1) or not (0 <= k2 <= n2):
        raise ValueError("need 0 <= k <= n and n > 0")
    lo, hi = confint_proportions_2indep(
        k1, n1, k2, n2, method="newcomb", compare="diff", alpha=alpha
    )
    return float(lo), float(hi)


def mean_diff_ci(x: ArrayLike, y: ArrayLike, equal_var: bool = True) -> tuple[float, float, float]:
    """mean(x) - mean(y) with R's ``t.test(x, y, var.equal=...)$conf.int`` (95%), NaN dropped."""
    a, b = _clean(x), _clean(y)
    ci = stats.ttest_ind(a, b, equal_var=equal_var).confidence_interval(0.95)
    return float(a.mean() - b.mean()), float(ci.low), float(ci.high)


_Z_MAX = 37.0  # 2 Phi(-37) is 1e-299: beyond it the p-value is 0 in floating point


def newcombe_p(k1: float, n1: float, k2: float, n2: float, df: float = math.inf) -> float:
    """Two-sided p of ``p1 = p2``, below ``alpha`` exactly when Newcombe's interval excludes 0;
    ``df`` finite: Wilson at the t(df) quantile, p = 2 P(T_df > z*)."""
    newcombe_bounds(k1, n1, k2, n2, 0.05)  # checks the counts
    d = k1 / n1 - k2 / n2
    if d == 0:
        return 1.0
    side = 0 if d > 0 else 1  # the bound that approaches 0: the lower or the upper

    def gap(z: float) -> float:
        b = newcombe_bounds(k1, n1, k2, n2, 2.0 * special.ndtr(-z))[side]
        return b if side == 0 else -b

    if gap(1e-12) <= 0:
        return 1.0
    if gap(_Z_MAX) > 0:
        return 0.0
    z = optimize.brentq(gap, 1e-12, _Z_MAX, xtol=1e-13, rtol=4 * 2.220446049250313e-16)
    return float(min(1.0, 2.0 * (special.ndtr(-z) if math.isinf(df) else stats.t.sf(z, df))))
