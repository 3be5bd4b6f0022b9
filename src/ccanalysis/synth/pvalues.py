"""The paper's tests on candidate count tables, and how close a p-value comes to a printed one.

The calibration searches count tables and group moments whose p-value *prints* as the printed one
(:meth:`ccanalysis.printing.Printed.holds`). The tests are :mod:`ccanalysis.stats`' own: Fisher's
exact test as the tables run it (cached, since the search revisits tables) and Pearson's chi-square,
which only ranks candidates before Fisher's test decides.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from ccanalysis import stats
from ccanalysis.printing import parse_printed, printed_holds
from ccanalysis.vocab import DEFAULT_SEED

#: Relative margin by which a calibrated p-value must print as the printed one.
P_MARGIN = 1e-6


def fisher_p(counts: dict[str, np.ndarray], groups: Sequence[str]) -> float:
    """Fisher's exact p of the levels x groups table of ``counts``, as the tables compute it."""
    t = np.array([counts[g] for g in groups], dtype=np.int64).T
    return _fisher_p(t.shape, tuple(t.ravel().tolist()))


@functools.cache
def _fisher_p(shape: tuple[int, int], cells: tuple[int, ...]) -> float:
    table = np.array(cells, dtype=np.int64).reshape(shape)
    return float(stats.run_test("fisher", table=table, seed=DEFAULT_SEED).p)


def chisq_p(counts: dict[str, np.ndarray], groups: Sequence[str]) -> float:
    """Pearson's chi-square p (no correction) of ``counts`` by group; 1 with one answered level."""
    t = np.array([counts[g] for g in groups], dtype=np.int64)
    t = t[:, t.sum(axis=0) > 0]
    return 1.0 if t.shape[1] < 2 else stats.chisq(t).p


def p_holds(text: str, p: float) -> bool:
    """Does p print as ``text``, with a relative safety margin of P_MARGIN?"""
    return all(printed_holds(text, p * f) for f in (1 - P_MARGIN, 1.0, 1 + P_MARGIN))


def p_center(text: str) -> float:
    """A representative true value of a printed p (the log-scale aim of the searches)."""
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
