"""Direct standardization by rurality x care-system size, with a cluster bootstrap by care system.

The isw - mn difference over the 6 strata, reweighted to the comparison clinics' strata
(``target="isw"``, the paper's) or all clinics' (``"total"``). Strata with fewer than
``min_stratum`` answers of a reweighted group are merged with their nearest neighbour; a replicate
missing a weighted cell borrows the group's mean over the cell's rurality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ccanalysis.sensitivity.crude import record
from ccanalysis.sensitivity.inputs import CARE_MODEL_GROUPS, STRATA, CellSums, Clinics, Groups
from ccanalysis.spec import SpecRow
from ccanalysis.stats.bootstrap import bootstrap_p, percentile_interval, resample, uncertain
from ccanalysis.vocab import DEFAULT_SEED, SYSTEM_SIZES

N_BOOT = 10_000
TARGETS: tuple[str, ...] = ("isw", "total")
_K = len(STRATA)


@dataclass(frozen=True)
class Stratification:
    """The strata of a standardization: ``blocks`` of the 6 :data:`STRATA` and their ``names``."""

    text: str
    long_text: str
    blocks: tuple[tuple[int, ...], ...]
    names: tuple[str, ...]


#: Rurality x care-system size, the paper's strata.
FULL = Stratification(
    "rurality x system size", "rurality x care-system size", tuple((k,) for k in range(_K)), STRATA
)
#: The stratifying columns of each stratification, the paper's first.
STRATA_COLUMNS: dict[tuple[str, ...], Stratification] = {
    ("urban", "system_size"): FULL,
    ("system_size",): Stratification(
        "system size", "care-system size", ((0, 3), (1, 4), (2, 5)), tuple(SYSTEM_SIZES)
    ),
    ("urban",): Stratification("rurality", "rurality", ((0, 1, 2), (3, 4, 5)), ("urban", "rural")),
}


def stratification(strata: Sequence[str] = ("urban", "system_size")) -> Stratification:
    """The :class:`Stratification` by the clinic columns ``strata`` (either order)."""
    for cols, strat in STRATA_COLUMNS.items():
        if sorted(cols) == sorted(strata):
            return strat
    raise ValueError(
        f"strata={tuple(strata)!r}: the standardization stratifies by "
        f"{' or '.join(repr(c) for c in STRATA_COLUMNS)}"
    )


def check_strata(data: Clinics, grp: Groups, strat: Stratification) -> None:
    """Raise ``ValueError`` when a stratum of ``strat`` holds clinics of one group only, naming
    why and the strata that would work."""
    size, urban = data.system_size[data.system], np.where(data.urban < 2, data.urban, -1)
    grouped = pd.DataFrame({"group": data.group, "urban": urban, "system_size": size})
    grouped = grouped[grouped["group"] >= 0]
    known = grouped[(grouped[["urban", "system_size"]] >= 0).all(axis=1)]
    stratum = known["urban"] * 3 + known["system_size"]

    def single(st: Stratification) -> list[str]:
        block = {k: i for i, b in enumerate(st.blocks) for k in b}
        n = known.groupby(stratum.map(block))["group"].nunique()
        return [st.names[b] for b in n.index[n == 1]]

    if not (names := single(strat)):
        return
    why = f"the {strat.long_text} strata {', '.join(names)} hold clinics of one group only"
    for col in ("urban", "system_size"):
        n = grouped[grouped[col] >= 0].groupby(col)["group"].nunique()
        if len(n) > 1 and (n == 1).all():
            why += f" (the grouping {grp.by or 'care model'} is a function of {col})"
    works = [c for c, st in STRATA_COLUMNS.items() if not single(st)]
    fix = (
        "strata that would work: " + ", ".join(f"strata={c!r}" for c in works)
        if works
        else "no stratification by rurality or care-system size would; pass targets=() to skip "
        "the standardization"
    )
    raise ValueError(
        f"cannot standardize {' - '.join(grp.short[x] for x in grp.compare)} by "
        f"{strat.long_text}: {why}, so the groups cannot be compared within them; {fix}"
    )


def collapse(
    cnt: NDArray[np.float64],
    target: str,
    min_stratum: int,
    strata: Stratification = FULL,
    word: str = "model",
) -> tuple[NDArray[np.int64], str, str]:
    """(block id per stratum, note, strata used) of one row from its answers ``cnt`` (2, 6); the
    strata used: ``strata.text``, with the blocks' names when some merged."""
    need = (cnt[1] if target == "isw" else cnt.sum(axis=0)) > 0
    short_models = (0,) if target == "isw" else (0, 1)
    blocks = [list(b) for b in strata.blocks]
    start = {k: i for i, b in enumerate(blocks) for k in b}

    def deficient(b: list[int]) -> bool:
        return bool(need[b].any()) and any(cnt[g, b].sum() < min_stratum for g in short_models)

    def name(b: list[int]) -> str:
        return "+".join(strata.names[i] for i in sorted({start[k] for k in b}))

    note, used, merges = "", strata.text, []
    while len(blocks) > 1 and (b := next((o for o in blocks if deficient(o)), None)) is not None:
        rural = {k // 3 for k in b}
        same = [o for o in blocks if o is not b and {k // 3 for k in o} == rural]
        pool = same if same else [o for o in blocks if o is not b]

        def distance(o: list[int], b: list[int] = b) -> tuple[int, float, int]:
            gap = min(abs(k % 3 - j % 3) + 3 * abs(k // 3 - j // 3) for k in b for j in o)
            short = min(cnt[g, o].sum() for g in short_models)
            return (gap, -float(short), min(o))

        other = min(pool, key=distance)
        merges.append(f"merged {name(b)} with {name(other)}")
        blocks = [o for o in blocks if o is not b and o is not other] + [sorted(b + other)]
    if merges:
        fewer = "without" if min_stratum <= 1 else f"with fewer than {min_stratum}"
        note = f"strata {fewer} answers of a {word} collapsed: " + "; ".join(merges)
        names = [name(b) for b in sorted(blocks, key=min)]
        used = f"{strata.text} ({len(names)} strata: {', '.join(names)})"
    block_of = np.array([min(b) for k in range(_K) for b in blocks if k in b], dtype=np.int64)
    return block_of, note, used


def replicate_strata(
    weights: NDArray[np.floating], cells: CellSums, cols: NDArray[np.int64] | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Answers and sums (b, 2, 6, J) for the system multiplicities ``weights`` (b, K)."""
    rows = slice(None) if cols is None else np.asarray(cols)
    size = np.eye(len(SYSTEM_SIZES))[cells.system_size] * (cells.system_size >= 0)[:, None]
    out = []
    for a in (cells.n, cells.s):  # unknown rurality and size left out
        by_size = np.einsum("ks,kugj->kgusj", size, a[:, :2][..., rows])
        out.append((weights @ by_size.reshape(len(size), -1)).reshape(len(weights), 2, _K, -1))
    return out[0], out[1]


def standardized_values(
    n_str: NDArray[np.float64], s_str: NDArray[np.float64], target: str, same: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Both models' standardized values (b, J) and which replicates patched an empty stratum."""
    # block totals: a stratum merged with others takes its block's (``same`` is 1 in a block)
    n_blk, s_blk = (np.einsum("bgkj,jkl->bglj", x, same) for x in (n_str, s_str))
    w = n_str[:, 1] if target == "isw" else n_str[:, 0] + n_str[:, 1]
    w_pos = w > 0
    out = []
    patched = np.zeros((len(n_str), same.shape[0]), dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in (0, 1):
            mean = s_blk[:, g] / n_blk[:, g]  # NaN (0/0) where the block has no answers
            empty = w_pos & ~(n_blk[:, g] > 0)
            # a cell without answers borrows the model's mean over its rurality, else overall
            c_r, s_r = (x[:, g].reshape(len(x), 2, 3, -1).sum(axis=2) for x in (n_str, s_str))
            borrow = np.where(c_r > 0, s_r / c_r, (s_r.sum(axis=1) / c_r.sum(axis=1))[:, None])
            mean = np.where(empty, np.repeat(borrow, 3, axis=1), mean)
            patched |= empty.any(axis=1)
            mean = np.where(w_pos, mean, 0.0)  # unweighted strata (possibly empty) add nothing
            out.append((w * mean).sum(axis=1) / w.sum(axis=1))
    return out[0], out[1], patched


def _bootstrap(
    cells: CellSums,
    plans: dict[str, tuple],
    n_boot: int,
    seed: int | None,
) -> dict[str, tuple[list[NDArray[np.float64]], NDArray[np.int64]]]:
    """Per target, every row's replicates and patched count: ``n_boot``, doubled while the call
    could flip (up to 8 x ``n_boot``); always the stream's first ones."""
    n_rows, total = cells.n.shape[-1], n_boot
    boot = {t: ([np.empty(0)] * n_rows, np.zeros(n_rows, dtype=np.int64)) for t in plans}
    wanted = dict.fromkeys(plans, np.arange(n_rows))
    while True:
        cols = np.unique(np.concatenate(list(wanted.values())))
        reps = {t: [] for t in plans}
        patched = {t: np.zeros(len(cols), dtype=np.int64) for t in plans}
        for w in resample(len(cells.system_size), total, seed):
            n_str, s_str = replicate_strata(w, cells, cols)
            for t, (same, _) in plans.items():
                v0, v1, patch = standardized_values(n_str, s_str, t, same[cols])
                reps[t].append(v1 - v0)
                patched[t] += patch.sum(axis=0)
        for t, d in reps.items():
            d = np.concatenate(d)
            for i in np.flatnonzero(np.isin(cols, wanted[t])):
                boot[t][0][cols[i]], boot[t][1][cols[i]] = d[:, i], patched[t][i]
            wanted[t] = np.array([j for j in wanted[t] if uncertain(boot[t][0][j])[0]], int)
        if total >= 8 * n_boot or not any(len(w) for w in wanted.values()):
            return boot
        total = min(2 * total, 8 * n_boot)


def standardize(
    cells: CellSums,
    rows: Sequence[SpecRow],
    *,
    targets: Sequence[str] = TARGETS,
    n_boot: int = N_BOOT,
    seed: int | None = DEFAULT_SEED,
    min_stratum: int = 5,
    groups: Groups = CARE_MODEL_GROUPS,
    strata: Stratification = FULL,
) -> list[dict[str, object]]:
    """One ``standardized_<target>`` record per target and row (``p_bound``: p at 1/B); a row
    near the 0.05 line gets up to 8 x ``n_boot`` replicates."""
    for t in targets:
        if t not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {t!r}")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    only = "" if strata == FULL else f"strata: {strata.long_text} only"
    n_pt, s_pt = replicate_strata(np.ones((1, len(cells.system_size))), cells)  # every system once
    word = groups.kind.split()[-1]  # "model" of the care models
    plans = {}
    for t in targets:  # per row (block of each stratum, note, strata used); same (J, 6, 6)
        plan = [collapse(c, t, min_stratum, strata, word) for c in np.moveaxis(n_pt[0], -1, 0)]
        plans[t] = np.array([b[:, None] == b[None, :] for b, _, _ in plan], dtype=float), plan
    boot = _bootstrap(cells, plans, n_boot, seed)
    n_model = cells.n.sum(axis=(0, 1))  # answers per model and row, all clinics
    outside = n_model - n_pt[0].sum(axis=1)  # answering clinics without a stratum
    systems = int((cells.n.sum(axis=(1, 2, 3)) > 0).sum())
    out: list[dict[str, object]] = []
    for t, (same, plan) in plans.items():
        v0, v1, _ = standardized_values(n_pt, s_pt, t, same)
        whose = (
            "all clinics'" if t == "total" else f"the {groups.short[groups.comparison]} clinics'"
        )
        for j, row in enumerate(rows):
            method = (
                f"direct standardization to {whose} strata ({plan[j][2]}); cluster bootstrap "
                "by care system, percentile interval; p inverting it"
            )
            reps = boot[t][0][j]
            lo, hi = percentile_interval(reps[:, None])
            p, bound, n_ok = bootstrap_p(reps[:, None])
            scale = 1.0 if row.continuous else 100.0
            b_row = len(reps)
            notes = [x for x in (only, plan[j][1]) if x]
            if outside[:, j].sum():
                notes.append(
                    f"{int(outside[:, j].sum())} answering clinics without rurality or "
                    "system size left out"
                )
            if boot[t][1][j]:
                notes.append(
                    f"{boot[t][1][j]} of {b_row} bootstrap replicates had a stratum without "
                    f"answers of a {word} (it borrowed the {word}'s mean over its rurality)"
                )
            if n_model[0, j] == 0 or n_model[1, j] == 0:
                notes.append(f"no answers in a {groups.kind}: not estimable")
            elif n_ok[0] < b_row:
                notes.append(
                    f"{b_row - int(n_ok[0])} of {b_row} replicates without answers of a "
                    f"{word} (left out of the interval)"
                )
            if b_row > n_boot:
                notes.append(f"p near 0.05: {b_row:,} replicates")
            if bound[0]:
                notes.append(f"p < 1/B: no replicate on the other side of 0 (B = {int(n_ok[0]):,})")
            est = float(v1[0, j] - v0[0, j])
            ok = np.isfinite(est) and n_ok[0] > 0
            out.append(
                record(
                    row,
                    f"standardized_{t}",
                    estimate=est * scale,
                    ci_low=float(lo[0]) * scale if ok else np.nan,
                    ci_high=float(hi[0]) * scale if ok else np.nan,
                    p=float(p[0]) if ok else np.nan,
                    method=method,
                    note="; ".join(notes),
                    value_ref=float(v0[0, j]) * scale,
                    value_cmp=float(v1[0, j]) * scale,
                    n_ref=int(n_model[0, j]),
                    n_cmp=int(n_model[1, j]),
                    clusters=systems,
                    replicates=int(n_ok[0]),
                    p_bound=bool(bound[0]) and ok,
                )
            )
    return out
