"""Fisher's exact test for r x c tables, as R's ``fisher.test``: scipy's is exact for 2 x 2 only
and counts ties to P(observed) (1 + 1e-14), R to (1 + 1e-7) ([[20, 38], [40, 106]]: scipy 0.3136,
R 0.3944). The network algorithm of Mehta & Patel (1983, 1986) in log space; beyond a node budget
R's ``simulate.p.value`` (``test == "fisher_mc"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from scipy.special import gammaln

_MERGE_SCALE = 1e9  # past values equal to ~1e-9 (log scale) are merged
_SAFETY = 1e-9  # margin (log scale) before a bound settles a whole sub-tree
_MAX_CODE = 2**62
_CHUNK = 256  # nodes completed together: the padded matrix of their completions stays small
_BLOCK = 65_536  # nodes bounded together
#: Nodes the exact enumeration may visit before the Monte Carlo p (of so many tables) takes over.
MAX_NODES = 8_000_000
MC_SAMPLES = 100_000

FISHER_NAME = "Fisher's exact test"
FISHER_MC_NAME = "Fisher's exact test (Monte Carlo p-value)"
#: R's relative tolerance of a tie with the observed table's probability (``fisher.test``).
REL_TOL = 1e-7
_LOG_TOL = math.log1p(REL_TOL)


@dataclass(frozen=True)
class TestResult:
    """A test's id, name, statistic (None for Fisher's), df (``df2``: an F test's denominator),
    p, observations, and a Monte Carlo p-value's tables and SE."""

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


def _compositions(
    total: int, caps: NDArray[np.int64], room: int
) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """``(owner, x)``: every x with sum(x) == total, 0 <= x <= caps[owner]; at most ``room``."""
    nb, r = caps.shape
    tail = np.concatenate(
        [np.cumsum(caps[:, ::-1], axis=1)[:, ::-1][:, 1:], np.zeros((nb, 1), np.int64)], axis=1
    )
    owner = np.arange(nb)
    parts = np.zeros((nb, 0), dtype=np.int64)
    rem = np.full(nb, total, dtype=np.int64)
    for i in range(r - 1):
        lo = np.maximum(0, rem - tail[owner, i])
        cnt = np.maximum(np.minimum(caps[owner, i], rem) - lo + 1, 0)
        if int(cnt.sum()) > room:
            raise ExactTestBudgetError("exact enumeration exceeds its node budget")
        idx = np.repeat(np.arange(len(rem)), cnt)
        xi = lo[idx] + (np.arange(int(cnt.sum())) - (np.cumsum(cnt) - cnt)[idx])
        parts = np.column_stack([parts[idx], xi])
        rem, owner = rem[idx] - xi, owner[idx]
    ok = rem <= caps[owner, r - 1]
    return owner[ok], np.column_stack([parts[ok], rem[ok]])


def _queries(qstart: NDArray[np.intp], qsize: NDArray[np.intp]) -> tuple[NDArray, NDArray]:
    """(group, query index) of every query: group g's are ``qstart[g] : qstart[g] + qsize[g]``."""
    grp = np.repeat(np.arange(len(qsize)), qsize)
    return grp, qstart[grp] + (np.arange(len(grp)) - (np.cumsum(qsize) - qsize)[grp])


class _Network:
    """Exact two-sided Fisher p-value of an r x c table (rows <= columns)."""

    def __init__(self, t: NDArray[np.int64]) -> None:
        t = t.T if t.shape[0] > t.shape[1] else t
        self.t = t[:, np.argsort(t.sum(axis=0), kind="stable")]
        self.rows, self.cols = self.t.sum(axis=1), self.t.sum(axis=0)
        self.n, self.R = int(self.rows.sum()), self.t.shape[0]
        self.max_nodes, self.used = MAX_NODES, 0
        if (self.n + 1) ** self.R >= _MAX_CODE:
            raise ExactTestBudgetError("table too large for the exact network algorithm")
        self.powers = (self.n + 1) ** np.arange(self.R, dtype=np.int64)
        self.lf = lf = gammaln(np.arange(self.n + 2, dtype=float) + 1.0)  # log k!
        # a table's path value is -sum log n_ij!; P(table) = exp(const + value)
        self.const = float(lf[self.rows].sum() + lf[self.cols].sum() - lf[self.n])
        self.thr = float(-lf[self.t].sum()) + _LOG_TOL
        self.terms: list[NDArray[np.float64]] = []

    def _charge(self, k: int) -> None:
        self.used += k
        if self.used > self.max_nodes:
            raise ExactTestBudgetError(f"exact enumeration exceeds max_nodes={self.max_nodes}")

    def _bounds(self, rm: NDArray[np.int64], cs: NDArray[np.int64]) -> tuple[NDArray, ...]:
        """Per node (row sums ``rm``): log mass, and a bound of its largest completion's value."""
        lf, k, r = self.lf, len(cs), self.R
        m_tot = int(cs.sum())
        log_total = lf[m_tot] - lf[rm].sum(axis=1) - lf[cs].sum()
        rf, cf = rm.astype(float), cs.astype(float)
        # Largest: Lagrangian dual, inner max at n = floor(exp(-(a_i + b_j))), u = exp(-a),
        # v = exp(-b) from a few IPF steps.
        cap = np.minimum(rm[:, :, None], cs[None, None, :])
        v = np.broadcast_to(cf / max(m_tot, 1), (len(rm), k)).copy()
        best = np.full(len(rm), np.inf)
        for _ in range(4):
            u = (rf + 0.5 * k) / v.sum(axis=1, keepdims=True)
            v = (cf[None, :] + 0.5 * r) / u.sum(axis=1, keepdims=True)
            mu = u[:, :, None] * v[:, None, :]
            nstar = np.minimum(np.floor(mu), cap).astype(np.int64)
            inner = (-lf[nstar] + np.log(mu) * nstar).sum(axis=(1, 2))
            bound = inner - (np.log(u) * rf).sum(axis=1) - (np.log(v) * cf[None, :]).sum(axis=1)
            best = np.minimum(best, bound)
        return log_total, best

    def _settle(self, node, past, count, rm, cs) -> NDArray[np.bool_]:  # noqa: ANN001
        """Add the sub-trees entirely at or below the threshold; the entries left."""
        # in blocks of nodes: the bounds' work arrays are (nodes x rows x columns) wide
        parts = [self._bounds(rm[i : i + _BLOCK], cs) for i in range(0, len(rm), _BLOCK)]
        log_total, most = (np.concatenate(a) for a in zip(*parts, strict=True))
        lim = self.thr - past
        below = most[node] <= lim - _SAFETY
        self.terms.append(count[below] * np.exp(self.const + past[below] + log_total[node[below]]))
        return ~below

    @staticmethod
    def _groups(node, past, count) -> tuple[NDArray, ...]:  # noqa: ANN001
        """Entries (sorted by node, as :meth:`_merge` leaves them): past, count, the nodes, their
        first entry and entries."""
        starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
        return past, count, node[starts], starts, np.diff(np.r_[starts, len(node)])

    def _finish(self, node, past, count, rm) -> None:  # noqa: ANN001
        """Two columns left: each past value p adds the mass of its node's completions at or
        below ``thr - p`` (sorted, cumulated from the small end, found by bisection)."""
        lf, ca = self.lf, int(self.cols[-2])
        past, count, un, qstart, qsize = self._groups(node, past, count)
        for c0 in range(0, len(un), _CHUNK):
            g = slice(c0, c0 + _CHUNK)
            r = rm[un[g]]
            owner, x = _compositions(ca, r, self.max_nodes - self.used)
            self._charge(len(owner))
            nb = len(r)
            size = np.bincount(owner, minlength=nb)
            mat = np.full((nb, int(size.max())), np.inf)
            mat[owner, np.arange(len(owner)) - (np.cumsum(size) - size)[owner]] = -(
                lf[x] + lf[r[owner] - x]
            ).sum(axis=1)
            mat.sort(axis=1)
            top = mat[np.arange(nb), size - 1]
            cum = np.cumsum(np.exp(mat - top[:, None]), axis=1)  # the padding is never read
            row, q = _queries(qstart[g], qsize[g])
            self._charge(len(q))
            lim = self.thr - past[q]
            k, right = np.full(len(row), -1), size[row]  # bisect: the last k with mat <= lim
            while np.any(act := right - k > 1):
                mid = np.where(act, (k + right) // 2, k)
                ok = mat[row, np.maximum(mid, 0)] <= lim
                k, right = np.where(act & ok, mid, k), np.where(act & ~ok, mid, right)
            ok = k >= 0
            self.terms.append(
                count[q[ok]] * np.exp(self.const + past[q[ok]] + top[row[ok]]) * cum[row, k][ok]
            )

    @staticmethod
    def _merge(node, past, count) -> tuple[NDArray, ...]:  # noqa: ANN001
        """Merge a node's entries whose past values agree to ~1e-9, summing their counts."""
        vkey = np.rint(past * _MERGE_SCALE).astype(np.int64)
        o = np.lexsort((vkey, node))
        nd, vk = node[o], vkey[o]
        grp = np.flatnonzero(np.r_[True, (nd[1:] != nd[:-1]) | (vk[1:] != vk[:-1])])
        return node[o[grp]], past[o[grp]], np.add.reduceat(count[o], grp)

    def _expand(self, node, past, count, rm, c: int) -> tuple[NDArray, ...]:  # noqa: ANN001
        """Column total ``c`` over every node's rows: (child, past) pairs and child row sums."""
        past, count, un, qstart, qsize = self._groups(node, past, count)
        r = rm[un]
        owner, x = _compositions(c, r, self.max_nodes - self.used)
        self._charge(int(qsize[owner].sum()))
        item, q = _queries(qstart[owner], qsize[owner])
        ucodes, child = np.unique(np.sort(r[owner] - x, axis=1) @ self.powers, return_inverse=True)
        rows = (ucodes[:, None] // self.powers[None, :]) % (self.n + 1)
        node = child.ravel().astype(np.intp)[item]
        return node, -self.lf[x].sum(axis=1)[item] + past[q], count[q], rows

    def pvalue(self) -> float:
        """Walk the network column by column: settle, merge, expand; the sum of all terms."""
        rm = np.sort(self.rows)[None, :]
        node, past, count = np.zeros(1, dtype=np.intp), np.zeros(1), np.ones(1)
        for j in range(len(self.cols)):
            keep = self._settle(node, past, count, rm, self.cols[j:])
            if not keep.any():
                break
            node, past, count = self._merge(node[keep], past[keep], count[keep])
            if len(self.cols) - j == 2:
                self._finish(node, past, count, rm)
                break
            node, past, count, rm = self._expand(node, past, count, rm, int(self.cols[j]))
        return float(np.sum(np.concatenate(self.terms)))


def _monte_carlo(t: NDArray[np.int64], seed: int | None) -> TestResult:
    """R's ``fisher.test(simulate.p.value=TRUE)``: random tables with the observed margins
    (``scipy.stats.random_table``), p = (1 + #{P(table) <= P(obs)(1 + REL_TOL)}) / (B + 1)."""
    sims = stats.random_table(t.sum(axis=1), t.sum(axis=0), seed=np.random.default_rng(seed))
    sim_stat = -gammaln(sims.rvs(size=MC_SAMPLES) + 1.0).sum(axis=(1, 2))
    hits = int(np.count_nonzero(sim_stat <= -gammaln(t + 1.0).sum() + _LOG_TOL))
    phat = hits / MC_SAMPLES
    se = math.sqrt(max(phat * (1 - phat), 1.0 / MC_SAMPLES) / MC_SAMPLES)
    p = (1 + hits) / (MC_SAMPLES + 1)
    return TestResult("fisher_mc", FISHER_MC_NAME, None, None, p, int(t.sum()), MC_SAMPLES, se)


def fisher_2x2_many(tabs: NDArray[np.int64]) -> NDArray[np.float64]:
    """Fisher's two-sided p of many 2 x 2 tables (k, 2, 2) by :func:`fisher_exact`'s rule (scipy
    takes one table at a time and ties otherwise; ``scipy.stats.hypergeom`` is 30 times slower)."""
    r1, c1, n = tabs[:, 0, :].sum(axis=1), tabs[:, :, 0].sum(axis=1), tabs.sum(axis=(1, 2))
    lo, hi = np.maximum(0, r1 + c1 - n), np.minimum(r1, c1)
    lf = gammaln(np.arange(int(n.max()) + 2) + 1.0)  # log k!

    def logpmf(x: np.ndarray, n: np.ndarray, r1: np.ndarray, c1: np.ndarray) -> np.ndarray:
        x = np.clip(x, 0, np.minimum(r1, c1))
        margins = lf[r1] + lf[n - r1] + lf[c1] + lf[n - c1] - lf[n]
        return margins - lf[x] - lf[r1 - x] - lf[c1 - x] - lf[np.maximum(n - r1 - c1 + x, 0)]

    x = lo[:, None] + np.arange(int((hi - lo).max()) + 1)[None, :]
    logp = logpmf(x, n[:, None], r1[:, None], c1[:, None])
    obs = logpmf(tabs[:, 0, 0], n, r1, c1)
    keep = (x <= hi[:, None]) & (logp <= obs[:, None] + _LOG_TOL)
    return np.where(keep, np.exp(logp), 0.0).sum(axis=1)


def fisher_exact(table: ArrayLike, *, seed: int | None = None) -> TestResult:
    """Two-sided p: the tables with the observed margins and P <= P(observed) (1 + ``REL_TOL``);
    beyond :data:`MAX_NODES` (the paper's tables need 1.1 million) a Monte Carlo p."""
    t = count_table(table)
    n = int(t.sum())
    if t.shape[0] < 2 or t.shape[1] < 2:
        return TestResult("fisher", FISHER_NAME, None, None, 1.0, n)
    try:
        p = _Network(t).pvalue()
    except ExactTestBudgetError:
        return _monte_carlo(t, seed)
    return TestResult("fisher", FISHER_NAME, None, None, min(1.0, max(0.0, p)), n)
