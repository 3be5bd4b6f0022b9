"""Distribution tails and quantiles, from ``scipy.special``.

p-values and quantiles come from ``scipy.special`` (``chdtrc``, ``stdtr``, ``fdtrc``,
``ndtri``, ``stdtrit``), the very functions ``scipy.stats.chi2.sf``, ``t.sf``, ``f.sf``,
``norm.ppf`` and ``t.ppf`` call, so the numbers are bitwise the same; the frozen-distribution
machinery of ``scipy.stats`` costs ~50 us per scalar call and ~0.9 s to import, and this module
is imported by every process that builds a table.  ``scipy.stats`` is imported only by the Monte
Carlo p-value (``random_table``).
"""

from __future__ import annotations

from scipy.special import chdtrc, fdtrc, ndtri, stdtr, stdtrit


def chi2_sf(x: float, df: float) -> float:
    """``scipy.stats.chi2.sf(x, df)`` for df > 0 (1 at and below the support's lower end 0)."""
    return 1.0 if x <= 0 else float(chdtrc(df, x))


def t_sf(x: float, df: float) -> float:
    """``scipy.stats.t.sf(x, df)`` for df > 0."""
    return float(stdtr(df, -x))


def f_sf(x: float, df1: float, df2: float) -> float:
    """``scipy.stats.f.sf(x, df1, df2)`` for df1, df2 > 0 (1 at and below 0, where ``fdtrc``
    would give NaN for x < 0)."""
    return 1.0 if x <= 0 else float(fdtrc(df1, df2, x))


def norm_ppf(q: float) -> float:
    """``scipy.stats.norm.ppf(q)``."""
    return float(ndtri(q))


def t_ppf(q: float, df: float) -> float:
    """``scipy.stats.t.ppf(q, df)`` for 0 < q <= 1 and df > 0."""
    return float(stdtrit(df, q))
