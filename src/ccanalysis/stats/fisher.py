"""Fisher's exact test for r x c tables
------------------------------------
``scipy.stats.fisher_exact`` is exact only for 2 x 2 tables; for larger tables
recent SciPy offers only a Monte Carlo / permutation approach, so it cannot
reproduce R's ``fisher.test``.  We therefore implement an exact test based on
the network algorithm of Mehta & Patel (1983, 1986):

* the table is oriented with rows <= columns and columns sorted by total
  (small first); columns are processed one at a time and a node is the
  multiset (sorted tuple) of the remaining row sums, so paths reaching
  permuted row sums merge;
* every node carries "past" path values (log of prod 1/n_ij!) with their
  multiplicities; at each stage the surviving (node, past) pairs whose values
  agree to ~1e-9 are merged (one int64 sort key), and children are created
  unmerged, since most of them are settled at once by the next stage;
* for each node a valid upper bound on the largest and a valid lower bound on
  the smallest achievable remaining value let whole sub-trees be settled at
  once: if every completion is at or below the threshold the node's total
  mass (closed form M!/(prod r! prod c!)) is added; if none is, it is pruned;
* when two columns remain, nodes reached by many past values enumerate their
  completions once (padded matrix, sorted per row, cumulative sums from the
  small end) and look every past value up by bisection; nodes reached by few
  past values split off the last two rows, whose share is a hypergeometric
  variable: each prefix is settled in closed form (Vandermonde) or, when the
  threshold cuts it, its two tails are summed with the pmf ratio recurrence;
* 2 x 2 tables are summed directly.

All sums add positive terms from the small end (no 1 - cdf cancellation).
Everything is in log space (``scipy.special.gammaln``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln

from ccanalysis.stats.counts import as_count_table, drop_empty
from ccanalysis.stats.result import FISHER_MC_NAME, FISHER_NAME, ExactTestBudgetError, TestResult

_MERGE_SCALE = 1e9  # past values equal to ~1e-9 (log scale) are merged
_SAFETY = 1e-9  # margin (log scale) before a bound settles a whole sub-tree
_MAX_CODE = 2**62
_CHUNK = 256  # nodes enumerated together


def _compositions_batch(
    total: int, caps: NDArray[np.int64]
) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """All vectors x with sum(x) == total and 0 <= x <= caps[k], for every row k of ``caps``.

    Returns ``(owner, x)``: ``x[m]`` is a composition for ``caps[owner[m]]``.
    """
    nb, r = caps.shape
    tail = np.concatenate(
        [np.cumsum(caps[:, ::-1], axis=1)[:, ::-1][:, 1:], np.zeros((nb, 1), np.int64)], axis=1
    )
    owner = np.arange(nb)
    parts = np.zeros((nb, 0), dtype=np.int64)
    rem = np.full(nb, total, dtype=np.int64)
    for i in range(r - 1):
        lo = np.maximum(0, rem - tail[owner, i])
        hi = np.minimum(caps[owner, i], rem)
        cnt = np.maximum(hi - lo + 1, 0)
        m = int(cnt.sum())
        idx = np.repeat(np.arange(len(rem)), cnt)
        start = np.cumsum(cnt) - cnt
        xi = lo[idx] + (np.arange(m) - start[idx])
        parts = np.column_stack([parts[idx], xi])
        rem = rem[idx] - xi
        owner = owner[idx]
    ok = rem <= caps[owner, r - 1]
    return owner[ok], np.column_stack([parts[ok], rem[ok]])


def _pairs(
    owner: NDArray[np.intp], qstart: NDArray[np.intp], qcount: NDArray[np.intp]
) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Cross every item with the queries of its owner.

    Item m belongs to group ``owner[m]`` whose queries are
    ``qstart[g] : qstart[g] + qcount[g]``; returns (item index, query index).
    """
    rep = qcount[owner]
    item = np.repeat(np.arange(len(owner)), rep)
    off = np.cumsum(rep) - rep
    query = qstart[owner][item] + (np.arange(int(rep.sum())) - off[item])
    return item, query


@functools.lru_cache(maxsize=8)
def _vertices(r: int) -> tuple[NDArray[np.intp], NDArray[np.int64]]:
    """Vertices of :meth:`_Network._two_column_min` for r rows: the free coordinate f of each
    and the V x r indicators of the coordinates set at r_i (cached: they depend on r only)."""
    combos = []
    for f in range(r):
        others = [i for i in range(r) if i != f]
        for mask in range(2 ** (r - 1)):
            u = np.zeros(r, dtype=np.int64)
            for b, i in enumerate(others):
                u[i] = (mask >> b) & 1
            combos.append((f, u))
    fs = np.array([c[0] for c in combos])
    us = np.array([c[1] for c in combos])
    fs.flags.writeable = False
    us.flags.writeable = False
    return fs, us


class _Network:
    """Exact two-sided Fisher p-value of an r x c table (rows <= columns)."""

    #: with two columns left, nodes with at most this many past values use
    #: :meth:`_finish_few`, the others :meth:`_finish_many` (two-row tables: all)
    few_max = 8

    def __init__(self, t: NDArray[np.int64], log_tol: float, max_nodes: int) -> None:
        if t.shape[0] > t.shape[1]:
            t = t.T
        cols = t.sum(axis=0)
        order = np.argsort(cols, kind="stable")  # small columns first, large ones last
        self.t = t[:, order]
        self.rows = self.t.sum(axis=1)
        self.cols = self.t.sum(axis=0)
        self.n = int(self.rows.sum())
        self.R = self.t.shape[0]
        self.max_nodes = max_nodes
        self.used = 0
        base = self.n + 1
        if base**self.R >= _MAX_CODE:
            raise ExactTestBudgetError("table too large for the exact network algorithm")
        self.powers = base ** np.arange(self.R, dtype=np.int64)
        self.lf = gammaln(np.arange(self.n + 2, dtype=float) + 1.0)  # log k!
        lf = self.lf
        self.const = float(lf[self.rows].sum() + lf[self.cols].sum() - lf[self.n])
        # path value of a table = -sum log n_ij!; P(table) = exp(const + value)
        self.thr = float(-lf[self.t].sum()) + log_tol
        self.terms: list[NDArray[np.float64]] = []

    # -- bookkeeping ------------------------------------------------------
    def _charge(self, k: int) -> None:
        self.used += k
        if self.used > self.max_nodes:
            raise ExactTestBudgetError(
                f"exact enumeration exceeds the node budget (max_nodes={self.max_nodes})"
            )

    def _decode(self, codes: NDArray[np.int64]) -> NDArray[np.int64]:
        base = self.n + 1
        return (codes[:, None] // self.powers[None, :]) % base

    # -- bounds -------------------------------------------------------------
    def _bounds(
        self, rm: NDArray[np.int64], cs: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Log total mass, upper bound of max and lower bound of min remaining value.

        ``rm`` holds the remaining row sums of each node (nodes x R), ``cs`` the
        remaining column sums.  The value of a completion is -sum log n_ij!.
        """
        lf = self.lf
        m_tot = int(cs.sum())
        log_total = lf[m_tot] - lf[rm].sum(axis=1) - lf[cs].sum()
        k = len(cs)
        r = self.R
        rf = rm.astype(float)
        cf = cs.astype(float)
        # Upper bound of the max (most probable completion): Lagrangian dual.
        # For any multipliers a_i, b_j: max_table <= sum_i a_i r_i + sum_j b_j c_j
        #   + sum_ij max_{0<=n<=min(r_i,c_j)} (-log n! - (a_i + b_j) n),
        # the inner max attained at n = floor(exp(-(a_i + b_j))).  The multipliers
        # exp(-a_i) = u_i, exp(-b_j) = v_j come from a few IPF steps on n+1/2.
        cap = np.minimum(rm[:, :, None], cs[None, None, :])
        v = np.broadcast_to(cf / max(m_tot, 1), (len(rm), k)).copy()
        best = np.full(len(rm), np.inf)
        for _ in range(4):
            u = (rf + 0.5 * k) / v.sum(axis=1, keepdims=True)
            v = (cf[None, :] + 0.5 * r) / u.sum(axis=1, keepdims=True)
            mu = u[:, :, None] * v[:, None, :]
            nstar = np.minimum(np.floor(mu), cap).astype(np.int64)
            tij = -np.log(mu)
            inner = (-lf[nstar] - tij * nstar).sum(axis=(1, 2))
            bound = inner - (np.log(u) * rf).sum(axis=1) - (np.log(v) * cf[None, :]).sum(axis=1)
            best = np.minimum(best, bound)
        # Lower bound of the min (least probable completion): relax to rows only
        # (or columns only).  Under a sum constraint with caps the convex
        # sum log n! is maximised by filling the largest caps first (that vector
        # majorises every feasible one).
        cdesc = np.sort(cs)[::-1]
        cprev = np.concatenate([[0], np.cumsum(cdesc)[:-1]])
        fill = np.clip(rm[:, :, None] - cprev[None, None, :], 0, cdesc[None, None, :])
        row_relax = -lf[fill].sum(axis=(1, 2))
        rdesc = -np.sort(-rm, axis=1)
        rprev = np.concatenate([np.zeros((len(rm), 1), np.int64), np.cumsum(rdesc, 1)[:, :-1]], 1)
        fill = np.clip(cs[None, :, None] - rprev[:, None, :], 0, rdesc[:, None, :])
        col_relax = -lf[fill].sum(axis=(1, 2))
        sp = np.maximum(row_relax, col_relax)
        if k == 2 and r <= 8:
            sp = np.maximum(sp, self._two_column_min(rm, int(cs[0])))
        return log_total, best, sp

    def _two_column_min(self, rm: NDArray[np.int64], ca: int) -> NDArray[np.float64]:
        """Exact least probable completion when two columns remain.

        The completion is fixed by the first remaining column x (sum ca,
        0 <= x_i <= r_i); its value -sum(log x_i! + log (r_i - x_i)!) is concave,
        so its minimum lies at a vertex of that polytope: all coordinates but
        one (f) at a bound, 0 or r_i.  Enumerate all (f, set at r_i) pairs.
        """
        lf = self.lf
        fs, us = _vertices(self.R)
        x = us[None, :, :] * rm[:, None, :]  # nodes x V x R
        xf = ca - x.sum(axis=2)  # value of the free coordinate
        rf = rm[:, fs]  # nodes x V
        valid = (xf >= 0) & (xf <= rf)
        x[:, np.arange(len(fs)), fs] = np.clip(xf, 0, rf)
        vals = -(lf[x] + lf[rm[:, None, :] - x]).sum(axis=2)
        return np.where(valid, vals, np.inf).min(axis=1)

    def _settle(
        self,
        node: NDArray[np.intp],
        past: NDArray[np.float64],
        count: NDArray[np.float64],
        rm: NDArray[np.int64],
        cs: NDArray[np.int64],
    ) -> NDArray[np.bool_]:
        """Add sub-trees entirely below the threshold; return mask of undecided entries."""
        log_total, lp, sp = self._bounds(rm, cs)
        lim = self.thr - past
        all_below = lp[node] <= lim - _SAFETY
        none_below = sp[node] > lim + _SAFETY
        if np.any(all_below):
            self.terms.append(
                count[all_below] * np.exp(self.const + past[all_below] + log_total[node[all_below]])
            )
        return ~(all_below | none_below)

    # -- exact last two columns --------------------------------------------
    @staticmethod
    def _groups(
        node: NDArray[np.intp], past: NDArray[np.float64], count: NDArray[np.float64]
    ) -> tuple[
        NDArray[np.float64],
        NDArray[np.float64],
        NDArray[np.intp],
        NDArray[np.intp],
        NDArray[np.intp],
    ]:
        """Sort entries by node; return past, count, unique nodes, group starts and sizes."""
        order = np.argsort(node, kind="stable")
        node, past, count = node[order], past[order], count[order]
        starts = np.flatnonzero(np.r_[True, node[1:] != node[:-1]])
        sizes = np.diff(np.r_[starts, len(node)])
        return past, count, node[starts], starts, sizes

    def _finish_two(
        self,
        node: NDArray[np.intp],
        past: NDArray[np.float64],
        count: NDArray[np.float64],
        rm: NDArray[np.int64],
    ) -> None:
        """Resolve nodes with two columns left by enumerating their completions."""
        ca = int(self.cols[-2])  # the smaller of the two remaining columns
        past, count, un, qstart, qsize = self._groups(node, past, count)
        # Few past values per node: closed-form tails per prefix (_finish_few).
        # Many: enumerate the completions once and look every value up (_finish_many).
        # With two rows the completions are few (one free cell), so always enumerate.
        split = 0 if self.R == 2 else self.few_max
        few = np.flatnonzero(qsize <= split)
        many = np.flatnonzero(qsize > split)
        for c0 in range(0, len(few), _CHUNK):
            g = few[c0 : c0 + _CHUNK]
            self._finish_few(ca, rm[un[g]], qstart[g], qsize[g], past, count)
        for c0 in range(0, len(many), _CHUNK):
            g = many[c0 : c0 + _CHUNK]
            self._finish_many(ca, rm[un[g]], qstart[g], qsize[g], past, count)

    def _finish_many(
        self,
        ca: int,
        r: NDArray[np.int64],
        qstart: NDArray[np.intp],
        qsize: NDArray[np.intp],
        past: NDArray[np.float64],
        count: NDArray[np.float64],
    ) -> None:
        """Two columns left, many past values per node: sort all completions.

        The completion values of every node are put in one row of a padded
        matrix (+inf padding) and sorted; cumulative sums of exp(value - row max)
        run from the smallest value up, so every prefix sum has full relative
        accuracy.  Each past value p of the node then needs the number of
        completion values <= thr - p, found by a vectorised bisection per row.
        """
        lf = self.lf
        owner, x = _compositions_batch(ca, r)
        self._charge(len(owner))
        vals = -(lf[x] + lf[r[owner] - x]).sum(axis=1)
        nb = len(r)
        size = np.bincount(owner, minlength=nb)
        start = np.cumsum(size) - size
        width = int(size.max())
        mat = np.full((nb, width), np.inf)
        mat[owner, np.arange(len(owner)) - start[owner]] = vals
        mat.sort(axis=1)
        top = mat[np.arange(nb), size - 1]
        cum = np.cumsum(np.exp(mat - top[:, None]), axis=1)  # padding (inf) is never read
        row = np.repeat(np.arange(nb), qsize)
        q = qstart[row] + (np.arange(len(row)) - (np.cumsum(qsize) - qsize)[row])
        self._charge(len(q))
        lim = self.thr - past[q]
        flat = mat.ravel()
        base = row * width
        k = self._bisect(
            lambda k: flat[base + np.maximum(k, 0)] <= lim,
            np.full(len(row), -1, np.int64),
            size[row],
        )
        ok = k >= 0
        if np.any(ok):
            self.terms.append(
                count[q[ok]]
                * np.exp(self.const + past[q[ok]] + top[row[ok]])
                * cum.ravel()[base[ok] + k[ok]]
            )

    def _finish_few(
        self,
        ca: int,
        r: NDArray[np.int64],
        qstart: NDArray[np.intp],
        qsize: NDArray[np.intp],
        past: NDArray[np.float64],
        count: NDArray[np.float64],
    ) -> None:
        """Two columns left, few past values per node: split off the last two rows.

        The completion is the first remaining column x (sum ca, x_i <= r_i).  The
        first R-2 coordinates are enumerated; for each such prefix the last two
        rows (totals a, b) receive s = ca - sum(prefix) and only y = x_{R-1} is
        free.  As a function of y the value is a hypergeometric log-pmf (up to a
        constant): concave with mode floor((s+1)(a+1)/(a+b+2)), minimum at an
        end, and total mass C(a+b, s)/(a! b!) (Vandermonde).  So most prefixes
        are settled at once and only the undecided ones are enumerated in y.
        """
        lf = self.lf
        nr = r.shape[1]
        a_tot = r[:, nr - 2]
        b_tot = r[:, nr - 1]
        caps = np.column_stack([r[:, : nr - 2], a_tot + b_tot])
        owner, xo = _compositions_batch(ca, caps)
        self._charge(len(owner))
        pre = xo[:, : nr - 2]
        sv = xo[:, nr - 2]
        a = a_tot[owner]
        b = b_tot[owner]
        ro = r[owner, : nr - 2]
        outer = -(lf[pre] + lf[ro - pre]).sum(axis=1)
        lo = np.maximum(0, sv - b)
        hi = np.minimum(a, sv)

        def h(
            y: NDArray[np.int64], i: NDArray[np.intp] | slice = slice(None)
        ) -> NDArray[np.float64]:
            aa, bb, ss = a[i], b[i], sv[i]
            return -(lf[y] + lf[aa - y] + lf[ss - y] + lf[bb - ss + y])

        mode = ((sv + 1) * (a + 1)) // (a + b + 2)
        hmax = np.maximum.reduce([h(np.clip(mode + d, lo, hi)) for d in (-1, 0, 1)])
        hmin = np.minimum(h(lo), h(hi))
        logtot = lf[a + b] - lf[sv] - lf[a + b - sv] - lf[a] - lf[b]
        item, q = _pairs(owner, qstart, qsize)
        self._charge(len(item))
        lim = self.thr - past[q] - outer[item]
        all_below = hmax[item] <= lim - _SAFETY
        mixed = ~all_below & (hmin[item] <= lim + _SAFETY)
        if np.any(all_below):
            i, qq = item[all_below], q[all_below]
            self.terms.append(
                np.array([np.sum(count[qq] * np.exp(self.const + past[qq] + outer[i] + logtot[i]))])
            )
        if np.any(mixed):
            self._mixed_tails(
                item[mixed],
                q[mixed],
                lim[mixed],
                a_tot[owner],
                b_tot[owner],
                sv,
                outer,
                past,
                count,
            )

    def _mixed_tails(
        self,
        item: NDArray[np.intp],
        q: NDArray[np.intp],
        lim: NDArray[np.float64],
        a: NDArray[np.int64],
        b: NDArray[np.int64],
        sv: NDArray[np.int64],
        outer: NDArray[np.float64],
        past: NDArray[np.float64],
        count: NDArray[np.float64],
    ) -> None:
        """Undecided (prefix, past value) pairs of :meth:`_finish_few`.

        With a, b the last two row totals and s the amount they share, the
        value of the completion is h(y) = -(log y! + log (a-y)! + log (s-y)!
        + log (b-s+y)!), a hypergeometric log-pmf up to a constant.  It rises to
        its mode m and then falls, so the y with h(y) <= limit form a lower tail
        [lo, y1] and an upper tail [y2, hi] (y2 > m), found by bisection.

        Each tail is summed outwards from its inner end with the pmf ratio
        recurrence (terms relative to exp(h(y1)) resp. exp(h(y2))).  By
        log-concavity the ratios shrink further out, so once the current ratio
        rho < 1 the rest is at most term * rho / (1 - rho); summation stops when
        that is below 1e-17 of the partial sum.  All terms are positive, so the
        tails keep full relative accuracy (no 1 - cdf cancellation).
        """
        lf = self.lf
        self._charge(len(item))
        aa, bb, ss = a[item], b[item], sv[item]
        lo = np.maximum(0, ss - bb)
        hi = np.minimum(aa, ss)

        def h(y: NDArray[np.int64]) -> NDArray[np.float64]:
            return -(lf[y] + lf[aa - y] + lf[ss - y] + lf[bb - ss + y])

        # exact mode among the candidates around the closed-form one
        mode = ((ss + 1) * (aa + 1)) // (aa + bb + 2)
        cand = np.stack([np.clip(mode + d, lo, hi) for d in (-1, 0, 1)])
        m = cand[np.argmax(np.stack([h(c) for c in cand]), axis=0), np.arange(len(item))]
        y1 = self._bisect(lambda y: h(np.maximum(y, lo)) <= lim, lo - 1, m + 1)
        y2 = self._bisect(lambda y: h(np.minimum(y, hi)) > lim, m, hi + 1) + 1
        base = self.const + past[q] + outer[item]
        total = 0.0
        low = np.flatnonzero(y1 >= lo)
        if len(low):
            y = y1[low]
            s_low = self._ratio_sum(y, lo[low], -1, aa[low], bb[low], ss[low])
            total += float(np.sum(count[q[low]] * np.exp(base[low] + h(y1)[low]) * s_low))
        up = np.flatnonzero(y2 <= hi)
        if len(up):
            y = y2[up]
            s_up = self._ratio_sum(y, hi[up], 1, aa[up], bb[up], ss[up])
            total += float(
                np.sum(count[q[up]] * np.exp(base[up] + h(np.minimum(y2, hi))[up]) * s_up)
            )
        self.terms.append(np.array([total]))

    @staticmethod
    def _ratio_sum(
        y: NDArray[np.int64],
        end: NDArray[np.int64],
        step: Literal[-1, 1],
        a: NDArray[np.int64],
        b: NDArray[np.int64],
        s: NDArray[np.int64],
    ) -> NDArray[np.float64]:
        """sum_{k between y and end} pmf(k) / pmf(y) for hypergeometric pmfs, y on the tail side.

        pmf(k) is proportional to 1 / (k! (a-k)! (s-k)! (b-s+k)!); the walk goes
        from y towards ``end`` (step -1: down to the lower end, +1: up), one
        step at a time for all pairs at once, multiplying the current term by
        the pmf ratio rho.  By log-concavity the ratios shrink further out, so
        once rho < 1 the rest of the tail is at most term * rho / (1 - rho); a
        pair stops when that is below 1e-17 of its partial sum or at its end.
        Finished pairs are dropped from the arrays only when they are half of
        them (compaction costs more than a few idle lanes).  All terms are
        positive: full relative accuracy (no 1 - cdf cancellation).
        """
        res = np.ones(len(y))
        act = np.flatnonzero(y != end)
        yf, endf = y[act].astype(float), end[act].astype(float)
        af, bf, sf = a[act].astype(float), b[act].astype(float), s[act].astype(float)
        term, part = np.ones(len(act)), np.ones(len(act))
        alive = np.ones(len(act), dtype=bool)
        while len(act):
            if step < 0:  # pmf(y-1) / pmf(y)
                rho = yf * (bf - sf + yf) / ((af - yf + 1.0) * (sf - yf + 1.0))
            else:  # pmf(y+1) / pmf(y)
                rho = (af - yf) * (sf - yf) / ((yf + 1.0) * (bf - sf + yf + 1.0))
            rho = np.where(alive, rho, 0.0)
            term *= rho
            part += term
            yf += step * alive
            small = (rho < 1.0) & (term * rho <= 1e-17 * part * np.maximum(1.0 - rho, 1e-300))
            alive &= (yf != endf) & ~small
            if 2 * np.count_nonzero(alive) < len(alive):
                res[act] = part
                keep = np.flatnonzero(alive)
                act, yf, endf, af, bf, sf = (v[keep] for v in (act, yf, endf, af, bf, sf))
                term, part, alive = term[keep], part[keep], alive[keep]
        return res

    @staticmethod
    def _bisect(
        pred: Callable[[NDArray[np.int64]], NDArray[np.bool_]],
        left: NDArray[np.int64],
        right: NDArray[np.int64],
    ) -> NDArray[np.int64]:
        """Largest y in (left, right) with pred(y) true, pred true-then-false; else left."""
        left, right = left.copy(), right.copy()
        while True:
            act = right - left > 1
            if not np.any(act):
                return left
            mid = np.where(act, (left + right) // 2, left)
            ok = pred(np.maximum(mid, 0))
            left = np.where(act & ok, mid, left)
            right = np.where(act & ~ok, mid, right)

    # -- main loop ----------------------------------------------------------
    def pvalue(self) -> float:
        """Walk the network column by column; return the p-value (sum of all terms).

        Each stage settles what the bounds allow, merges equal past values of
        the surviving (node, past) pairs and expands them by the next column.
        """
        ncol = len(self.cols)
        if ncol == 2 and self.R == 2:
            return self._two_by_two()
        rm = np.sort(self.rows)[None, :]
        node = np.zeros(1, dtype=np.intp)
        past = np.zeros(1)
        count = np.ones(1)
        for j in range(ncol):
            cs = self.cols[j:]
            undecided = self._settle(node, past, count, rm, cs)
            node, past, count = node[undecided], past[undecided], count[undecided]
            if len(node) == 0:
                break
            node, past, count = self._merge(node, past, count)
            if len(cs) == 2:
                self._finish_two(node, past, count, rm)
                break
            node, past, count, rm = self._expand(node, past, count, rm, int(cs[0]))
        if not self.terms:
            return 0.0
        return float(np.sum(np.concatenate(self.terms)))

    def _two_by_two(self) -> float:
        """2 x 2 tables: sum the hypergeometric probabilities at or below the threshold.

        The table is fixed by its first cell x; the probabilities are summed in
        ascending order (small terms first).
        """
        lf = self.lf
        (r0, r1), c0 = self.rows, int(self.cols[0])
        x = np.arange(max(0, c0 - r1), min(c0, r0) + 1)
        vals = np.sort(-(lf[x] + lf[r0 - x] + lf[c0 - x] + lf[r1 - c0 + x]))
        vals = vals[vals <= self.thr]
        return float(np.sum(np.exp(self.const + vals)))

    @staticmethod
    def _merge(
        node: NDArray[np.intp], past: NDArray[np.float64], count: NDArray[np.float64]
    ) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
        """Merge pairs of the same node whose past values agree to ~1e-9 (log scale).

        Such values come from permuted paths and are equal up to rounding; the
        pairs become one with the summed multiplicity.  The result is sorted by
        node.  Sorting uses one int64 key (node, rounded value) when it fits,
        which is much faster than a two-key lexsort.
        """
        if len(node) < 2:
            return node, past, count
        vkey = np.rint(past * _MERGE_SCALE).astype(np.int64)
        vkey -= vkey.min()
        span = int(vkey.max()) + 1
        if span * (int(node.max()) + 1) < _MAX_CODE:
            key = node.astype(np.int64) * span + vkey
            o = np.argsort(key)
            key = key[o]
            first = np.r_[True, key[1:] != key[:-1]]
        else:
            o = np.lexsort((vkey, node))
            nd, vk = node[o], vkey[o]
            first = np.r_[True, (nd[1:] != nd[:-1]) | (vk[1:] != vk[:-1])]
        grp = np.flatnonzero(first)
        o_first = o[grp]
        return node[o_first], past[o_first], np.add.reduceat(count[o], grp)

    def _expand(
        self,
        node: NDArray[np.intp],
        past: NDArray[np.float64],
        count: NDArray[np.float64],
        rm: NDArray[np.int64],
        c: int,
    ) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
        """Distribute column total ``c`` over the rows of every node.

        Children are identified by their sorted remaining row sums (encoded in
        base n+1); the (child, past) pairs are returned unmerged, as most of
        them are settled by the next stage's bounds before any merging.
        """
        lf = self.lf
        past, count, un, qstart, qsize = self._groups(node, past, count)
        if self.R == 2:  # count the children first: fail fast on huge tables
            r = rm[un]
            n_child = np.maximum(np.minimum(c, r[:, 0]) - np.maximum(0, c - r[:, 1]) + 1, 0)
            if self.used + int((qsize * n_child).sum()) > self.max_nodes:
                self._charge(int((qsize * n_child).sum()))
        codes_l: list[NDArray[np.int64]] = []
        items_l: list[NDArray[np.intp]] = []
        vals_l: list[NDArray[np.float64]] = []
        cnts_l: list[NDArray[np.float64]] = []
        n_comp = 0
        for c0 in range(0, len(un), _CHUNK):
            g = np.arange(c0, min(c0 + _CHUNK, len(un)))
            r = rm[un[g]]
            owner, x = _compositions_batch(c, r)
            self._charge(int(qsize[g][owner].sum()))
            codes_l.append(np.sort(r[owner] - x, axis=1) @ self.powers)
            delta = -lf[x].sum(axis=1)
            item, q = _pairs(owner, qstart[g], qsize[g])
            items_l.append(item + n_comp)
            n_comp += len(owner)
            vals_l.append(delta[item] + past[q])
            cnts_l.append(count[q])
        ucodes, child = np.unique(np.concatenate(codes_l), return_inverse=True)
        new_node = child.astype(np.intp)[np.concatenate(items_l)]
        return new_node, np.concatenate(vals_l), np.concatenate(cnts_l), self._decode(ucodes)


def _fisher_log_stat(t: NDArray[np.int64]) -> float:
    """-sum log n_ij!, the part of log P(table) that varies with the table."""
    return float(-gammaln(t + 1.0).sum())


def _fisher_monte_carlo(
    t: NDArray[np.int64], log_tol: float, mc_samples: int, seed: int | np.random.Generator | None
) -> TestResult:
    """Monte Carlo p-value as R's ``fisher.test(simulate.p.value=TRUE)``.

    Random tables with the observed margins (``scipy.stats.random_table``);
    p = (1 + #{P(table) <= P(obs)(1 + rel_tol)}) / (B + 1).
    """
    from scipy.stats import random_table  # lazy: scipy.stats takes ~0.9 s to import

    rows = t.sum(axis=1)
    cols = t.sum(axis=0)
    rng = np.random.default_rng(seed)
    sims = random_table(rows, cols, seed=rng).rvs(size=mc_samples)
    sim_stat = -gammaln(sims + 1.0).sum(axis=(1, 2))
    hits = int(np.count_nonzero(sim_stat <= _fisher_log_stat(t) + log_tol))
    p = (1 + hits) / (mc_samples + 1)
    phat = hits / mc_samples
    se = math.sqrt(max(phat * (1 - phat), 1.0 / mc_samples) / mc_samples)
    return TestResult(
        test="fisher_mc",
        name=FISHER_MC_NAME,
        statistic=None,
        df=None,
        p=p,
        n=int(t.sum()),
        mc_samples=mc_samples,
        mc_se=se,
    )


def fisher_exact(
    table: ArrayLike,
    *,
    method: Literal["auto", "exact", "monte_carlo"] = "auto",
    rel_tol: float = 1e-7,
    max_nodes: int = 20_000_000,
    mc_samples: int = 100_000,
    seed: int | np.random.Generator | None = None,
    max_exact_n: int = 20_000,
) -> TestResult:
    """Two-sided Fisher's exact test for an r x c table of counts, as R's ``fisher.test``.

    The p-value is the total probability of all tables with the observed margins
    whose probability is <= P(observed) * (1 + rel_tol) (R: relErr = 1 + 1e-7).
    All-zero rows/columns are dropped; a table with fewer than two non-empty rows
    or columns has p = 1.

    Parameters
    ----------
    table : 2-D array of non-negative integer counts.
    method : "exact" (network algorithm; raises :class:`ExactTestBudgetError`
        when it exceeds ``max_nodes``), "monte_carlo", or "auto" (exact, and a
        seeded Monte Carlo p-value only when the exact budget is exceeded; the
        result then says ``test == "fisher_mc"``).
    rel_tol : relative tolerance for ties with the observed probability.
    max_nodes : budget of enumerated (node, past value) pairs for the exact method (the
        paper's tables need at most about 1.05 million).
    max_exact_n : with "auto", an r x c table (other than 2 x 2) with more observations than this
        goes straight to the Monte Carlo p-value: exact enumeration grows with n and would spend
        seconds filling the node budget first (benchmark scale, e.g. 95,000 clinics). The result
        says so (``test == "fisher_mc"``, with samples and standard error), never silently.
    mc_samples : number of random tables for the Monte Carlo p-value.
    seed : seed or Generator for the Monte Carlo p-value.

    Notes
    -----
    ``scipy.stats.fisher_exact`` is not used: it is exact only for 2 x 2 tables
    (for r x c it offers only a permutation / Monte Carlo p-value), whereas the
    paper used R's exact r x c test.
    """
    if method not in ("auto", "exact", "monte_carlo"):
        raise ValueError(f"unknown method {method!r}")
    t = drop_empty(as_count_table(table))
    n = int(t.sum())
    log_tol = math.log1p(rel_tol)
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        return TestResult("fisher", FISHER_NAME, None, None, 1.0, n)
    if method == "monte_carlo" or (method == "auto" and n > max_exact_n and t.shape != (2, 2)):
        return _fisher_monte_carlo(t, log_tol, mc_samples, seed)
    try:
        p = _Network(t, log_tol, max_nodes).pvalue()
    except ExactTestBudgetError:
        if method == "exact":
            raise
        return _fisher_monte_carlo(t, log_tol, mc_samples, seed)
    return TestResult("fisher", FISHER_NAME, None, None, min(1.0, max(0.0, p)), n)
