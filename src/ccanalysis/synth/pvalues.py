"""The paper's tests on candidate answers, and how close a p-value comes to a printed one.

The calibration searches count tables and group moments whose p-value *prints* as the printed one
(:func:`ccanalysis.printing.printed_holds`). This module holds the tests as the tables compute them
(Fisher's exact test from :mod:`ccanalysis.stats`, cached, since the search revisits tables), the
cheap stand-ins that rank candidates before Fisher decides (chi-square without correction; the
one-way ANOVA vectorised over many SD choices at once), and the measures of "prints as printed".
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import fdtrc

from ccanalysis import stats
from ccanalysis.printing import parse_printed, printed_holds
from ccanalysis.stats.distributions import chi2_sf
from ccanalysis.vocab import DEFAULT_SEED

#: Relative margin by which a calibrated p-value must print as the printed one.
P_MARGIN = 1e-6

_FISHER_CACHE: dict[tuple[int, ...], float] = {}


def fisher_p(counts: dict[str, np.ndarray], groups: Sequence[str]) -> float:
    """Fisher's exact p of a levels x groups table, as the tables compute it (cached)."""
    t = np.array([counts[g] for g in groups], dtype=np.int64).T
    key = (*t.shape, *t.ravel().tolist())
    p = _FISHER_CACHE.get(key)
    if p is None:
        p = float(stats.fisher_exact(t, seed=DEFAULT_SEED).p)
        _FISHER_CACHE[key] = p
    return p


def p_holds(text: str, p: float) -> bool:
    """Does p print as ``text``, with a relative safety margin of P_MARGIN?"""
    return all(printed_holds(text, p * f) for f in (1 - P_MARGIN, 1.0, 1 + P_MARGIN))


def p_center(text: str) -> float:
    """A representative true value of a printed p (log-scale aim of the search)."""
    pr = parse_printed(text)
    if pr.kind == "lt":
        return pr.value / 3
    if pr.kind == "gt":
        return min(1.0, (1 + 2 * pr.value) / 3)
    return pr.value


def p_dist(text: str, p: float) -> float:
    """0 when p prints as ``text``, else the log10 distance to the printed interval (+1)."""
    if p_holds(text, p):
        return 0.0
    pr = parse_printed(text)
    lp = math.log10(max(p, 1e-300))
    lo = math.log10(max(pr.low, 1e-300))
    hi = math.log10(pr.high) if math.isfinite(pr.high) else 0.0
    return 1.0 + max(lo - lp, lp - hi, 0.0)


def chi2_fast(counts: dict[str, np.ndarray], groups: Sequence[str]) -> float:
    """Pearson's chi-square p (no correction) of a levels x groups table: ranks candidates."""
    t = np.array([counts[g] for g in groups], dtype=float)
    t = t[:, t.sum(axis=0) > 0]
    if t.shape[1] < 2:
        return 1.0
    e = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
    return chi2_sf(((t - e) ** 2 / e).sum(), (t.shape[0] - 1) * (t.shape[1] - 1))


def anova_p(ns: np.ndarray, means: np.ndarray, sds: np.ndarray) -> np.ndarray:
    """One-way ANOVA p (= Student's t with two groups) for SD rows ``sds`` (..., k).

    Vectorised over the SD rows with ``scipy.special.fdtrc`` (``F.sf``): the stats package's
    ``f_sf`` takes one number at a time.
    """
    big_n = ns.sum()
    k = len(ns)
    grand = (ns * means).sum() / big_n
    ssb = (ns * (means - grand) ** 2).sum()
    ssw = ((ns - 1) * sds**2).sum(axis=-1)
    return fdtrc(k - 1, big_n - k, (ssb / (k - 1)) / (ssw / (big_n - k)))
