"""The p-value that inverts Newcombe's hybrid score interval.

A p-value and a confidence interval test the same hypothesis when the interval at level
``1 - alpha`` excludes the null exactly when ``p < alpha``. For Newcombe's interval
(:func:`ccanalysis.stats.newcombe_diff`, statsmodels) that p is ``alpha*``, the level at which
the bound nearest the null touches it. The bound moves monotonically in the critical value
``z = Phi^-1(1 - alpha / 2)``, so ``z*`` is unique and found by root bracketing in ``z``
(``scipy.optimize.brentq``; p = 2 Phi(-z*)). statsmodels has no such inversion.
"""

from __future__ import annotations

from scipy import optimize, special

from ccanalysis.stats.intervals import newcombe_bounds

__all__ = ["newcombe_p"]

_Z_MAX = 37.0  # 2 Phi(-37) is 1e-299: beyond it the p-value is 0 in floating point


def newcombe_p(k1: int, n1: int, k2: int, n2: int, null: float = 0.0) -> float:
    """Two-sided p of ``p1 - p2 = null`` matching Newcombe's hybrid score interval: the
    interval at level ``1 - alpha`` excludes ``null`` exactly when this p is below ``alpha``."""
    newcombe_bounds(k1, n1, k2, n2, 0.05)  # checks the counts
    d = k1 / n1 - k2 / n2
    if d == null:
        return 1.0
    side = 1 if d > null else 2  # the bound that approaches the null: lower (1) or upper (2)

    def gap(z: float) -> float:
        b = newcombe_bounds(k1, n1, k2, n2, 2.0 * special.ndtr(-z))[side - 1]
        return (b - null) if side == 1 else (null - b)

    if gap(1e-12) <= 0:
        return 1.0
    if gap(_Z_MAX) > 0:
        return 0.0
    z = optimize.brentq(gap, 1e-12, _Z_MAX, xtol=1e-13, rtol=4 * 2.220446049250313e-16)
    return float(min(1.0, 2.0 * special.ndtr(-z)))
