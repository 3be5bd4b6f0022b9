"""p-values that match an interval, found by inverting it.

A p-value and a confidence interval test the same hypothesis when the interval at level
``1 - alpha`` excludes the null exactly when ``p < alpha``. For an interval given by a formula in
its critical value ``z`` (Newcombe's hybrid score interval of a difference of proportions) this p
is ``2 (1 - Phi(z*))``, ``z*`` the critical value at which the interval's bound nearest the null
touches it; the bound moves monotonically in ``z`` (the Wilson limits widen with ``z``), so ``z*``
is unique and found by root bracketing (``scipy.optimize.brentq``).
"""

from __future__ import annotations

from scipy import optimize, special

from ccanalysis.stats.intervals import _newcombe

__all__ = ["newcombe_p"]

_Z_MAX = 37.0  # 2 Phi(-37) underflows to 1e-299: beyond it the p-value is 0 in floating point


def newcombe_p(k1: int, n1: int, k2: int, n2: int, null: float = 0.0) -> float:
    """Two-sided p of ``p1 - p2 = null`` matching Newcombe's hybrid score interval
    (:func:`ccanalysis.stats.newcombe_diff`): the interval at level ``1 - alpha`` excludes
    ``null`` exactly when this p is below ``alpha``."""
    if n1 <= 0 or n2 <= 0 or not (0 <= k1 <= n1) or not (0 <= k2 <= n2):
        raise ValueError("need 0 <= k <= n and n > 0")
    d = k1 / n1 - k2 / n2
    if d == null:
        return 1.0
    side = 1 if d > null else 2  # the bound that approaches the null: lower (1) or upper (2)

    def gap(z: float) -> float:
        b = _newcombe(k1, n1, k2, n2, z)[side]
        return (b - null) if side == 1 else (null - b)

    if gap(1e-12) <= 0:  # the bound is on the null at z -> 0 (only d == null)
        return 1.0
    if gap(_Z_MAX) > 0:
        return 0.0
    z = optimize.brentq(gap, 1e-12, _Z_MAX, xtol=1e-13, rtol=4 * 2.220446049250313e-16)
    return float(min(1.0, 2.0 * special.ndtr(-z)))
