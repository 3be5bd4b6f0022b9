"""Direct standardization by rurality x care-system size, with a cluster bootstrap by care system.

For a level row the measure is the share of clinics answering that level (any of its combined
levels) among the clinics that answered the item; for a mean row it is the mean. The 6 strata are
urban/rural x small/medium/large care systems. When the compared groups are themselves one of the
two stratifying variables (``by="urban"`` or ``by="system_size"``), the strata are the other one
alone (:func:`stratification`): a comparison is never stratified on its own grouping.

* ``target="isw"`` (the paper's): the reference clinics (medical/nursing) are reweighted to the
  comparison clinics' (integrated) distribution over the strata, the weights being the stratum
  shares of the comparison clinics **that answered the item**; their standardized value is their
  crude value (over clinics with a stratum), only the reference value moves. (The id names the
  paper's comparison group; with another grouping it is the comparison group's strata.)
* ``target="total"``: both groups are reweighted to the distribution of all answering clinics.

The standardized difference is comparison - reference (isw - mn), in percentage points (level
rows) or the item's unit.

Interval: a cluster bootstrap. System size is an attribute of the care system and systems may
hold clinics of both models, so whole care systems are resampled with replacement (all their
clinics kept, :class:`~ccanalysis.stats.bootstrap.ResamplingPlan`), not clinics within models. A
replicate re-estimates the weights and the stratum values; it works on per-system sums (answers and
sums per system, rurality, model and row: :class:`~ccanalysis.sensitivity.inputs.CellSums`), one
matrix product per system size class, so that it costs in care systems, not clinics. The interval
is the percentile interval and ``p`` its inversion (:mod:`ccanalysis.stats.bootstrap`): a row's
interval excludes 0 exactly when its p is below 0.05. ``n_boot`` replicates (10,000 by default)
are drawn for every row; a row whose call could flip by Monte Carlo error (its tail count within
2.576 standard errors of the threshold) gets twice as many, again, up to ``max_boot``.

Sparse strata. A stratum that carries target weight but has fewer than ``min_stratum`` (default 5)
answering clinics of a model that must be reweighted into it (target isw: medical/nursing; target
total: both) is not standardized on its own. (``min_stratum`` is about the stability of a stratum
mean in the bootstrap, not privacy's ``MIN_CELL``.) With ``empty="collapse"`` (default) it is
merged with its nearest neighbour: the adjacent size within the same rurality (the one with more
answers of the short model), and only when a rurality is down to one block, with the other
rurality, until every block is filled (one block = the crude comparison). With ``empty="drop"`` it
is dropped from the weights, which are renormalized (the estimand changes: the note gives the
share of the target dropped). A cell of m clinics is missing from a replicate with probability
about exp(-m); such a replicate patches it: the cell borrows the model's mean over the cell's
rurality (all sizes; failing that, the model's overall mean), or under ``"drop"`` is left out and
the weights renormalized. The note counts such replicates. Clinics without rurality or system
size are left out of the standardized rows; the note counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from ccanalysis.sensitivity.inputs import CARE_MODEL_GROUPS, STRATA, CellSums, Groups, unit_of
from ccanalysis.spec import SpecRow
from ccanalysis.stats.bootstrap import (
    BLOCK,
    ResamplingPlan,
    bootstrap_p,
    percentile_interval,
    uncertain,
)
from ccanalysis.vocab import DEFAULT_SEED, SYSTEM_SIZES

__all__ = [
    "N_BOOT",
    "STRATIFIERS",
    "TARGETS",
    "Plan",
    "Stratification",
    "collapse",
    "replicate_strata",
    "standardize",
    "standardized_values",
    "stratification",
]

N_BOOT = 10_000
TARGETS: tuple[str, ...] = ("isw", "total")
_BOOT_TEXT = "cluster bootstrap by care system, percentile interval; p inverting it"
_K = len(STRATA)
#: The clinic frame's columns the strata cross: rurality, care-system size.
STRATIFIERS: tuple[str, ...] = ("urban", "system_size")
_STRATA_TEXT = {
    STRATIFIERS: ("rurality x system size", "rurality x care-system size"),
    ("system_size",): ("system size", "care-system size"),
    ("urban",): ("rurality", "rurality"),
}


@dataclass(frozen=True)
class Stratification:
    """The strata a standardization uses: ``variables``, both stratifiers (:data:`STRATIFIERS`)
    or one of them. The arithmetic always runs on the 6 strata of :data:`STRATA`; one variable
    alone makes ``blocks`` of them (``urban/small+rural/small`` = ``small``) that are
    standardized over as one stratum, and may be merged further when sparse (:func:`collapse`)."""

    variables: tuple[str, ...] = STRATIFIERS

    def __post_init__(self) -> None:
        if self.variables not in _STRATA_TEXT:
            raise ValueError(f"strata by {self.variables}: one or both of {STRATIFIERS}")

    @property
    def blocks(self) -> list[list[int]]:
        """The starting blocks of the 6 strata."""
        if self.variables == ("system_size",):
            return [[s, 3 + s] for s in range(3)]
        if self.variables == ("urban",):
            return [[0, 1, 2], [3, 4, 5]]
        return [[k] for k in range(_K)]

    @property
    def names(self) -> list[str]:
        """The starting blocks' names (``urban/small``; ``small``; ``urban``)."""
        if self.variables == ("system_size",):
            return list(SYSTEM_SIZES)
        if self.variables == ("urban",):
            return ["urban", "rural"]
        return list(STRATA)

    @property
    def text(self) -> str:
        """``rurality x system size`` (method texts, figure legends)."""
        return _STRATA_TEXT[self.variables][0]

    @property
    def long_text(self) -> str:
        """``rurality x care-system size`` (titles, conclusions)."""
        return _STRATA_TEXT[self.variables][1]

    def note(self, by: str | None) -> str:
        """What a row's note says of strata by one variable (nothing for both)."""
        if self.variables == STRATIFIERS:
            return ""
        return f"strata: {self.long_text} only (the grouping, {by}, is not stratified on)"


#: Rurality x care-system size, the paper's strata.
FULL = Stratification()


def stratification(by: str | None) -> Stratification:
    """The strata of a comparison grouped by ``by``: rurality x care-system size, or the other
    variable when ``by`` is one of them."""
    if by in STRATIFIERS:
        return Stratification(tuple(v for v in STRATIFIERS if v != by))
    return FULL


def method_text(
    target: str, groups: Groups = CARE_MODEL_GROUPS, strata: Stratification = FULL
) -> str:
    """The method column of a standardized row."""
    whose = (
        "all clinics'" if target == "total" else f"the {groups.short[groups.comparison]} clinics'"
    )
    return f"direct standardization to {whose} strata ({strata.text}); " + _BOOT_TEXT


_CHUNK_CELLS = 16_000_000  # multiplicity-matrix entries per chunk of replicates (memory bound)
_CHUNK_STRATA = 2_000_000  # entries of a (replicates, model, stratum, row) array per chunk
_BLAS_MIN = 512  # systems of a size class from which the replicate product goes to BLAS
Mode = Literal["collapse", "drop"]


def _sparse_text(min_stratum: int, word: str = "model") -> str:
    if min_stratum <= 1:
        return f"without answers of a {word}"
    return f"with fewer than {min_stratum} answers of a {word}"


def collapse(
    cnt: NDArray[np.float64],
    target: str,
    mode: str,
    min_stratum: int,
    strata: Stratification = FULL,
    word: str = "model",
) -> tuple[NDArray[np.int64], NDArray[np.bool_], str]:
    """Blocks of strata for one row: (block id per stratum, kept strata, note).

    ``cnt``: answers per group (0 reference, 1 comparison) and stratum, shape (2, 6); ``strata``:
    the starting blocks; ``word``: what the notes call a group.
    """
    tot = cnt.sum(axis=0)
    need = (cnt[1] if target == "isw" else tot) > 0
    short_models = (0,) if target == "isw" else (0, 1)
    blocks: list[list[int]] = strata.blocks
    start = {k: i for i, b in enumerate(blocks) for k in b}

    def deficient(b: list[int]) -> bool:
        return bool(need[b].any()) and any(cnt[g, b].sum() < min_stratum for g in short_models)

    def name(b: list[int]) -> str:
        return "+".join(strata.names[i] for i in sorted({start[k] for k in b}))

    notes: list[str] = []
    if mode == "drop":
        keep = np.ones(_K, dtype=bool)
        dropped = [b for b in blocks if deficient(b)]
        if dropped:
            gone = [k for b in dropped for k in b]
            keep[gone] = False
            base = cnt[1] if target == "isw" else tot
            share = 100.0 * base[gone].sum() / max(base.sum(), 1)
            notes.append(
                f"dropped stratum {', '.join(name(b) for b in dropped)} "
                f"({_sparse_text(min_stratum, word)}; {share:.1f}% of the target weight), "
                "weights renormalized"
            )
        block_of = np.empty(_K, dtype=np.int64)
        for b in blocks:
            block_of[b] = min(b)
        return block_of, keep, "; ".join(notes)
    if mode != "collapse":
        raise ValueError(f"empty must be 'collapse' or 'drop', not {mode!r}")
    while len(blocks) > 1:
        bad = [b for b in blocks if deficient(b)]
        if not bad:
            break
        b = bad[0]
        rural = {k // 3 for k in b}
        same = [o for o in blocks if o is not b and {k // 3 for k in o} == rural]
        pool = same if same else [o for o in blocks if o is not b]

        def distance(o: list[int], b: list[int] = b) -> tuple[int, float, int]:
            gap = min(abs(k % 3 - j % 3) + 3 * abs(k // 3 - j // 3) for k in b for j in o)
            short = min(cnt[g, o].sum() for g in short_models)
            return (gap, -float(short), min(o))

        other = min(pool, key=distance)
        merged = sorted(b + other)
        notes.append(f"merged {name(b)} with {name(other)}")
        blocks = [o for o in blocks if o is not b and o is not other] + [merged]
    block_of = np.empty(_K, dtype=np.int64)
    for b in blocks:
        block_of[b] = min(b)
    note = ""
    if notes:
        note = f"strata {_sparse_text(min_stratum, word)} collapsed: " + "; ".join(notes)
    return block_of, np.ones(_K, dtype=bool), note


@dataclass(frozen=True)
class Plan:
    """The standardization of every row for one target: ``same`` (J, 6, 6) is 1 where two strata
    share a block, ``keep`` (J, 6) the strata kept, ``notes`` one per row."""

    target: str
    mode: str
    same: NDArray[np.float64]
    keep: NDArray[np.bool_]
    notes: tuple[str, ...]

    def subset(self, cols: NDArray[np.int64]) -> Plan:
        return Plan(
            self.target,
            self.mode,
            self.same[cols],
            self.keep[cols],
            tuple(self.notes[j] for j in cols),
        )


def make_plan(
    counts: NDArray[np.float64],
    target: str,
    mode: str,
    min_stratum: int,
    strata: Stratification = FULL,
    word: str = "model",
) -> Plan:
    """:class:`Plan` from the answers per group, stratum and row, shape (2, 6, J)."""
    n_rows = counts.shape[-1]
    same = np.zeros((n_rows, _K, _K))
    keep = np.empty((n_rows, _K), dtype=bool)
    notes = []
    for j in range(n_rows):
        block_of, keep[j], note = collapse(counts[:, :, j], target, mode, min_stratum, strata, word)
        same[j] = block_of[:, None] == block_of[None, :]
        notes.append(note)
    return Plan(target, mode, same, keep, tuple(notes))


@dataclass(frozen=True)
class _Design:
    """The per-system sums a replicate multiplies, by size class (the systems of class s are
    ``index[s]``, positions in the resampling plan's units).

    ``exact[s]``: (K_s, 2 rurality, 2 models, E) integer-valued columns in float32 (the answer
    count of each distinct answered set, then the sums of integer-valued rows), exact in float32
    as long as a replicate's total stays below 2^24, which is checked; ``other[s]``: (K_s, 2, 2,
    F) the other rows' sums in float64. Row j's answers are ``exact`` column ``n_col[j]``, its sum
    column ``s_col[j]`` of ``exact`` (``s_exact[j]``) or ``other``.
    """

    index: tuple[NDArray[np.int64], ...]
    exact: tuple[NDArray[np.floating], ...]
    other: tuple[NDArray[np.float64], ...]
    n_col: NDArray[np.int64]
    s_col: NDArray[np.int64]
    s_exact: NDArray[np.bool_]
    n_systems: int
    dtype: type

    @property
    def n_rows(self) -> int:
        return len(self.n_col)


_EXACT_F32 = 2**24  # integers below it add exactly in float32


def _design(cells: CellSums) -> _Design:
    n_rows = cells.n.shape[-1]
    k = len(cells.system_size)
    n4, s4 = cells.n[:, :2], cells.s[:, :2]  # urban and rural cells (unknown rurality left out)
    # distinct answered sets (the rows of one item share their answer counts)
    flat_n = n4.reshape(k * 4, n_rows)
    _, first, n_col = np.unique(flat_n, axis=1, return_index=True, return_inverse=True)
    n_col = np.asarray(n_col).ravel()
    # a replicate's total is at most K x the largest cell: below 2^24 it is exact in float32
    bound = k * max(float(np.abs(flat_n).max(initial=0)), 1.0)
    s_abs = np.abs(s4.reshape(k * 4, n_rows)).max(axis=0, initial=0) if k else np.zeros(n_rows)
    integer = np.all(s4 == np.round(s4), axis=(0, 1, 2)) & (k * s_abs < _EXACT_F32)
    dtype = np.float32 if bound < _EXACT_F32 else np.float64
    s_exact = integer if dtype is np.float32 else np.ones(n_rows, dtype=bool)
    ex_rows, ot_rows = np.flatnonzero(s_exact), np.flatnonzero(~s_exact)
    n_count = len(first)
    s_col = np.empty(n_rows, dtype=np.int64)
    s_col[ex_rows] = n_count + np.arange(len(ex_rows))
    s_col[ot_rows] = np.arange(len(ot_rows))
    index, exact, other = [], [], []
    for size in range(len(SYSTEM_SIZES)):
        idx = np.flatnonzero(cells.system_size == size)
        index.append(idx)
        ex = np.concatenate([n4[idx][..., np.sort(first)], s4[idx][..., ex_rows]], axis=-1)
        exact.append(np.ascontiguousarray(ex, dtype=dtype))
        other.append(np.ascontiguousarray(s4[idx][..., ot_rows], dtype=np.float64))
    # np.unique sorts the distinct columns; n_col indexes them in that order, and ``first`` in
    # sorted order of first appearance: map each row to its set's position among np.sort(first)
    order = np.argsort(np.argsort(first))
    return _Design(tuple(index), tuple(exact), tuple(other), order[n_col], s_col, s_exact, k, dtype)


def _product(w: NDArray, a: NDArray) -> NDArray:
    """``w @ a``; with few systems numpy's own loop (BLAS threads cost 10x the product)."""
    return np.einsum("bk,kc->bc", w, a) if len(a) < _BLAS_MIN else w @ a


def replicate_strata(
    weights: NDArray[np.floating], design: _Design, cols: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Answers and sums per replicate, model, stratum and row, (b, 2, 6, J) each, for the system
    multiplicities ``weights`` (b, K); ``cols`` restricts the rows."""
    b = len(weights)
    rows = np.arange(design.n_rows) if cols is None else np.asarray(cols)
    ex, ot = design.s_exact[rows], ~design.s_exact[rows]
    e_need = np.unique(np.concatenate([design.n_col[rows], design.s_col[rows[ex]]]))
    o_need = np.unique(design.s_col[rows[ot]])
    all_e = len(e_need) == design.exact[0].shape[-1]
    pos_n = np.searchsorted(e_need, design.n_col[rows])
    pos_se = np.searchsorted(e_need, design.s_col[rows[ex]])
    pos_so = np.searchsorted(o_need, design.s_col[rows[ot]])
    n_str = np.zeros((b, 2, _K, len(rows)))
    s_str = np.zeros((b, 2, _K, len(rows)))
    for s, idx in enumerate(design.index):
        if not len(idx):
            continue
        w_s = weights[:, idx]
        a = design.exact[s] if all_e else design.exact[s][..., e_need]
        pe = _product(w_s.astype(design.dtype, copy=False), a.reshape(len(idx), -1))
        pe = pe.reshape(b, 2, 2, len(e_need)).astype(np.float64)
        po = None
        if len(o_need):
            ao = design.other[s][..., o_need].reshape(len(idx), -1)
            po = _product(w_s.astype(np.float64, copy=False), ao).reshape(b, 2, 2, len(o_need))
        for u in (0, 1):  # stratum u * 3 + s; axes: replicate, rurality, model, column
            n_str[:, :, u * 3 + s] = pe[:, u][..., pos_n]
            s_str[:, :, u * 3 + s, ex] = pe[:, u][..., pos_se]
            if po is not None:
                s_str[:, :, u * 3 + s, ot] = po[:, u][..., pos_so]
    return n_str, s_str


def standardized_values(
    n_str: NDArray[np.float64], s_str: NDArray[np.float64], plan: Plan
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Standardized values of both models, (b, J) each, from answers and sums per replicate,
    model, stratum and row (b, 2, 6, J); and which replicates had to patch a weighted stratum
    without answers of a model (see the module notes)."""
    n_blk, s_blk = n_str, s_str
    merged = np.flatnonzero((plan.same != np.eye(_K)[None]).any(axis=(1, 2)))
    if len(merged):  # block totals for the rows whose strata were merged (the others: as is)
        same = plan.same[merged]  # (Jm, 6, 6)
        n_blk, s_blk = n_str.copy(), s_str.copy()
        b = len(n_str)
        for full, blk in ((n_str, n_blk), (s_str, s_blk)):
            x = np.moveaxis(full[..., merged], -1, 0).reshape(len(merged), b * 2, _K)
            blk[..., merged] = np.moveaxis(np.matmul(x, same).reshape(-1, b, 2, _K), 0, -1)
    base = n_str[:, 1] if plan.target == "isw" else n_str[:, 0] + n_str[:, 1]
    w = base * plan.keep.T[None]
    w_pos = w > 0
    out = []
    patched = np.zeros((len(n_str), plan.same.shape[0]), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in (0, 1):
            nb = n_blk[:, g]
            has = nb > 0
            mean = s_blk[:, g] / nb  # NaN (0/0) where the block has no answers
            empty = w_pos & ~has
            if plan.mode == "drop":
                wg = np.where(has, w, 0.0)
                out.append(np.nansum(wg * mean, axis=1) / wg.sum(axis=1))
                patched |= empty.any(axis=1)
                continue
            if empty.any():
                # a cell without answers borrows the model's mean over its rurality, else overall
                patched |= empty.any(axis=1)
                rb, rk, rj = np.nonzero(empty)
                shape = (len(n_str), 2, 3, n_str.shape[-1])
                c_r = n_str[:, g].reshape(shape).sum(axis=2)
                s_r = s_str[:, g].reshape(shape).sum(axis=2)
                c_e, s_e = c_r[rb, rk // 3, rj], s_r[rb, rk // 3, rj]
                c_a = c_r[rb, 0, rj] + c_r[rb, 1, rj]
                s_a = s_r[rb, 0, rj] + s_r[rb, 1, rj]
                mean[rb, rk, rj] = np.where(c_e > 0, s_e / np.where(c_e > 0, c_e, 1.0), s_a / c_a)
            mean = np.where(w_pos, mean, 0.0)  # unweighted strata (possibly empty) add nothing
            out.append((w * mean).sum(axis=1) / w.sum(axis=1))
    return out[0], out[1], patched


@dataclass
class _Boot:
    """Replicates of the difference per row of one target, and counts of patched replicates."""

    first: NDArray[np.float64]  # (n_boot, J)
    extra: dict[int, list[NDArray[np.float64]]]
    patched: NDArray[np.int64]

    def column(self, j: int) -> NDArray[np.float64]:
        parts = [self.first[:, j], *self.extra.get(j, [])]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _uncertain_rows(bt: _Boot, alpha: float) -> NDArray[np.int64]:
    """Rows whose call could still flip: judged on all their replicates so far."""
    flags = uncertain(bt.first, alpha)
    for j in bt.extra:
        flags[j] = uncertain(bt.column(j), alpha)[0]
    return np.flatnonzero(flags)


def _chunk(n_systems: int, n_rows: int) -> int:
    """Replicates per chunk: the multiplicities (b x K) and the strata arrays (b x 12 x J) stay
    within a few MB (cache-friendly), in whole blocks."""
    by_k = _CHUNK_CELLS // max(n_systems, 1)
    by_rows = _CHUNK_STRATA // max(12 * n_rows, 1)
    return max(BLOCK, min(by_k, by_rows) // BLOCK * BLOCK)


def _bootstrap(
    design: _Design,
    plans: dict[str, Plan],
    *,
    n_boot: int,
    max_boot: int,
    seed: int | None,
    conf: float,
) -> dict[str, _Boot]:
    n_rows = design.n_rows
    resampler = ResamplingPlan(design.n_systems, seed, dtype=design.dtype)
    step = _chunk(design.n_systems, n_rows)
    boot = {
        t: _Boot(np.empty((n_boot, n_rows)), {}, np.zeros(n_rows, dtype=np.int64)) for t in plans
    }
    done = 0
    while done < n_boot:
        b = min(step, n_boot - done)
        n_str, s_str = replicate_strata(resampler.take(b), design)
        for t, plan in plans.items():
            v0, v1, patched = standardized_values(n_str, s_str, plan)
            boot[t].first[done : done + b] = v1 - v0
            boot[t].patched += patched.sum(axis=0)
        done += b
    total = n_boot
    alpha = 1.0 - conf
    while total < max_boot:
        wanted = {t: _uncertain_rows(bt, alpha) for t, bt in boot.items()}
        if not any(len(v) for v in wanted.values()):
            break
        cols = np.unique(np.concatenate(list(wanted.values())))
        add = min(total, max_boot - total)  # double the replicates of the rows near the line
        done = 0
        while done < add:
            b = min(step, add - done)
            n_str, s_str = replicate_strata(resampler.take(b), design, cols)
            for t, plan in plans.items():
                sel = np.flatnonzero(np.isin(cols, wanted[t]))
                if not len(sel):
                    continue
                sub = plan.subset(cols[sel])
                v0, v1, patched = standardized_values(n_str[..., sel], s_str[..., sel], sub)
                for i, j in enumerate(cols[sel]):
                    boot[t].extra.setdefault(int(j), []).append(v1[:, i] - v0[:, i])
                    boot[t].patched[j] += int(patched[:, i].sum())
            done += b
        # a row left out of a round is certain and stays so (its replicates do not change); a
        # row extended holds the first ``total + add`` replicates of the stream
        total += add
    return boot


def standardize(
    cells: CellSums,
    rows: Sequence[SpecRow],
    *,
    targets: Sequence[str] = TARGETS,
    n_boot: int = N_BOOT,
    max_boot: int | None = None,
    seed: int | None = DEFAULT_SEED,
    empty: Mode = "collapse",
    min_stratum: int = 5,
    conf: float = 0.95,
    groups: Groups = CARE_MODEL_GROUPS,
    strata: Stratification = FULL,
) -> list[dict[str, object]]:
    """Standardized comparison - reference (isw - mn) differences of every row, one record per
    target and row.

    ``max_boot`` (default 8 x ``n_boot``): the most replicates a row near the line gets;
    ``groups``: the compared groups (their names in the texts); ``strata``: the strata
    (:func:`stratification`). Records: ``analysis`` (``standardized_<target>``), estimate,
    interval and p (the bound 1/B when no replicate crosses 0, which the note says),
    ``value_ref``/``value_cmp`` (the standardized values), answers per group, the care systems
    resampled, the replicates B the interval used (finite ones), ``p_bound`` (the p is the bound
    1/B), ``method`` and ``note``.
    """
    for t in targets:
        if t not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {t!r}")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    max_boot = 8 * n_boot if max_boot is None else max(max_boot, n_boot)
    design = _design(cells)
    ones = np.ones((1, design.n_systems))
    n_pt, s_pt = replicate_strata(ones, design)
    word = groups.word
    plans = {t: make_plan(n_pt[0], t, empty, min_stratum, strata, word) for t in targets}
    boot = _bootstrap(design, plans, n_boot=n_boot, max_boot=max_boot, seed=seed, conf=conf)
    n_model = cells.by_model[0]  # answers per model and row, all clinics
    outside = n_model - n_pt[0].sum(axis=1)  # answering clinics without a stratum
    systems = int((cells.n.sum(axis=(1, 2, 3)) > 0).sum())
    out: list[dict[str, object]] = []
    for t, plan in plans.items():
        v0, v1, _ = standardized_values(n_pt, s_pt, plan)
        for j, row in enumerate(rows):
            reps = boot[t].column(j)
            lo, hi = percentile_interval(reps[:, None], conf)
            p, bound, n_ok = bootstrap_p(reps[:, None])
            scale = 1.0 if row.continuous else 100.0
            b_row = len(reps)
            notes = [x for x in (strata.note(groups.by), plan.notes[j]) if x]
            if outside[:, j].sum():
                notes.append(
                    f"{int(outside[:, j].sum())} answering clinics without rurality or "
                    "system size left out"
                )
            if boot[t].patched[j]:
                how = (
                    "its weight renormalized"
                    if empty == "drop"
                    else f"it borrowed the {word}'s mean over its rurality"
                )
                notes.append(
                    f"{boot[t].patched[j]} of {b_row} bootstrap replicates had a stratum "
                    f"without answers of a {word} ({how})"
                )
            if n_model[0, j] == 0 or n_model[1, j] == 0:
                notes.append(f"no answers in a {groups.kind}: not estimable")
            elif n_ok[0] < b_row:
                notes.append(
                    f"{b_row - int(n_ok[0])} of {b_row} replicates without answers of a "
                    f"{word} (left out of the interval)"
                )
            if b_row > n_boot:
                notes.append(f"p near {1 - conf:g}: {b_row:,} replicates")
            if bound[0]:
                notes.append(f"p < 1/B: no replicate on the other side of 0 (B = {int(n_ok[0]):,})")
            est = float(v1[0, j] - v0[0, j])
            ok = np.isfinite(est) and n_ok[0] > 0
            out.append(
                {
                    "table": row.table,
                    "item": row.item,
                    "level": row.level,
                    "analysis": f"standardized_{t}",
                    "estimate": est * scale,
                    "ci_low": float(lo[0]) * scale if ok else np.nan,
                    "ci_high": float(hi[0]) * scale if ok else np.nan,
                    "p": float(p[0]) if ok else np.nan,
                    "unit": unit_of(row),
                    "method": method_text(t, groups, strata),
                    "note": "; ".join(notes),
                    "label": row.label,
                    "value_ref": float(v0[0, j]) * scale,
                    "value_cmp": float(v1[0, j]) * scale,
                    "n_ref": int(n_model[0, j]),
                    "n_cmp": int(n_model[1, j]),
                    "clusters": systems,
                    "replicates": int(n_ok[0]),
                    "p_bound": bool(bound[0]) and ok,
                }
            )
    return out
