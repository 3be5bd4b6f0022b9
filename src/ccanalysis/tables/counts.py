"""One item's numbers by group and their long format (unrounded): ``n``, ``denom``, ``pct``
(0-100), ``mean``, ``sd``; ``p`` (group ``all``); ``diff, diff_lo, diff_hi`` on the comparison
group's rows; ``p_level``: a level against the other answers (:mod:`ccanalysis.stats`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccanalysis import stats
from ccanalysis.spec import CATEGORICAL_TESTS, CONTINUOUS_TESTS, SpecRow
from ccanalysis.tables.read import NUMERIC

#: The interface columns (docs/ARCHITECTURE.md), then the extra ones.
LONG_COLUMNS: tuple[str, ...] = ("table", "item", "level", "group", "measure", "value")
EXTRA_COLUMNS = ("diff", "diff_lo", "diff_hi", "q", "test", "note", "p_level", "test_level")
#: The note on the rows of an item nobody answered (kept, untested).
NO_ANSWERS = "no answers"
#: The group of a ``p`` row.
ALL = "all"
#: t-tests become ANOVAs with three groups or more, and back.
BY_GROUPS = {"student_t": "anova", "welch_t": "welch_anova"}

Record = dict[str, object]


def resolve_test(row: SpecRow, n_groups: int, override: str | Mapping[str, str] | None) -> str:
    """The test of ``row``'s item: its own or the override's (checked by ``add_p``: a test id
    replacing those of its kind, or ``{item: test}``); an ANOVA for a mean of 3+ groups."""
    test, continuous = row.test, row.continuous
    if isinstance(override, Mapping):
        test = override.get(row.item, test)
    elif override in (CONTINUOUS_TESTS if continuous else CATEGORICAL_TESTS) and test != "none":
        test = override
    if not continuous:
        return test
    return (BY_GROUPS if n_groups > 2 else {v: k for k, v in BY_GROUPS.items()}).get(test, test)


def tested(test: str, seed: int | None, *, table=None, samples=None) -> Record:
    """``p``, ``test`` and ``note`` of :func:`ccanalysis.stats.run_test` (NaN if it cannot run)."""
    try:
        res = stats.run_test(test, table=table, samples=samples, seed=seed)
    except ValueError as exc:
        return {"value": math.nan, "test": test, "note": f"test not computable: {exc}"}
    note = f"Monte Carlo p-value from {res.mc_samples} tables" if res.mc_samples else ""
    return {"value": res.p, "test": res.test, "note": note}


def record(table: str, item: str, level: str, group: str, measure: str, value: float, **extra):
    """One row of the long format."""
    keys = dict(table=table, item=item, level=level, group=group, measure=measure)
    return {**keys, "value": float(value), **extra}


@dataclass(frozen=True)
class ItemBlock:
    """One item's numbers by column (total, then groups): answer ``counts`` (levels x columns),
    ``n`` and ``denom`` per printed row (rows x columns), or a numeric item's ``samples``."""

    item: str
    rows: tuple[SpecRow, ...]
    columns: tuple[str, ...]
    counts: np.ndarray | None = None
    n: np.ndarray | None = None
    denom: np.ndarray | None = None
    samples: tuple[np.ndarray, ...] = ()

    @property
    def continuous(self) -> bool:
        return self.rows[0].continuous

    @property
    def answers(self) -> int:
        return len(self.samples[0]) if self.continuous else int(self.counts[:, 0].sum())

    def test(self, test: str, seed: int | None) -> Record | None:
        """The item's test on its whole answer distribution by group (``None``: no test)."""
        if test == "none":
            return None
        if self.answers == 0:
            return {"value": math.nan, "test": test, "note": NO_ANSWERS}
        if self.continuous:
            return tested(test, seed, samples=list(self.samples[1:]))
        return tested(test, seed, table=self.counts[:, 1:])

    def level_tests(self, test: str, groups: Sequence[str], seed: int | None) -> list[Record]:
        """Per printed row, its level(s) against the other answers in ``groups``."""
        if self.continuous or test == "none" or len(self.counts) <= 2 or self.answers == 0:
            return [{} for _ in self.rows]
        cols = sorted(self.columns.index(g) for g in groups)
        out = []
        for k, n in zip(self.n[:, cols], self.denom[:, cols], strict=True):
            res = tested(test, seed, table=np.stack([k, n - k]))
            out.append({"p_level": res["value"], "test_level": res["test"]})
        return out

    def differences(self, comparison: str, reference: str, *, equal_var: bool) -> list[Record]:
        """Per printed row, ``comparison`` minus ``reference`` with its 95% interval: Newcombe's
        in percentage points, or the t interval of the means."""
        c, r = self.columns.index(comparison), self.columns.index(reference)
        if self.continuous:
            x, y = self.samples[c], self.samples[r]
            if len(x) < 2 or len(y) < 2:
                return [{}]
            d, lo, hi = stats.mean_diff_ci(x, y, equal_var=equal_var)
            return [{"diff": d, "diff_lo": lo, "diff_hi": hi}]
        out: list[Record] = []
        for (k1, k2), (n1, n2) in zip(self.n[:, [c, r]], self.denom[:, [c, r]], strict=True):
            if n1 <= 0 or n2 <= 0:
                out.append({})
                continue
            d, lo, hi = stats.newcombe_diff(int(k1), int(n1), int(k2), int(n2))
            out.append({"diff": 100 * d, "diff_lo": 100 * lo, "diff_hi": 100 * hi})
        return out

    def records(
        self,
        table: str,
        p_row: Record | None,
        diffs: Sequence[Record],
        comparison: str | None,
        level_p: Sequence[Record],
    ) -> list[Record]:
        """The item's rows of the long format."""
        item, out = self.item, []
        none = {"note": NO_ANSWERS} if self.answers == 0 else {}
        p = [] if p_row is None else [record(table, item, "", ALL, "p", **p_row)]
        for i, r in enumerate(self.rows):
            own = level_p[i] if level_p else {}
            for j, g in enumerate(self.columns):
                diff = diffs[i] if diffs and g == comparison else {}
                for measure, value, extra in self.cell(i, j, diff | own):
                    out.append(record(table, item, r.level, g, measure, value, **extra, **none))
            if i == 0:
                out += p
        return out

    def cell(self, i: int, j: int, extra: Record) -> list[tuple[str, float, Record]]:
        """The numbers of row ``i`` in column ``j`` (``extra``: on its mean or percentage)."""
        if self.continuous:
            v = self.samples[j]
            mean = v.mean() if len(v) else math.nan
            sd = v.std(ddof=1) if len(v) > 1 else math.nan
            return [("mean", mean, extra), ("sd", sd, {}), ("denom", len(v), {})]
        n, denom = self.n[i, j], self.denom[i, j]
        pct = 100.0 * n / denom if denom else math.nan
        return [("n", n, {}), ("denom", denom, {}), ("pct", pct, extra)]


def item_block(
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    masks: Sequence[np.ndarray],
    rows: Sequence[SpecRow],
    where: str,
) -> ItemBlock:
    """Count (or collect) one item's answers by column (``masks``: its rows) for ``rows``."""
    first = rows[0]
    item = first.item
    col = frame[item]
    if first.continuous:
        x = pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(dtype=float)
        samples = tuple(x[m & ~np.isnan(x)] for m in masks)
        return ItemBlock(item, tuple(rows), columns, samples=samples)
    wanted = [lv for r in rows for lv in r.levels]
    col = col.astype("category")  # the answers of a decoded item are its levels, in order
    levels = [str(c) for c in col.cat.categories]
    unknown = [lv for lv in wanted if lv not in levels]
    if unknown:
        raise KeyError(f"{where}, {item}: levels {unknown} are not answers in the data ({levels})")
    codes = col.cat.codes.to_numpy(dtype=np.int64)
    counts = np.stack(
        [np.bincount(codes[m & (codes >= 0)], minlength=len(levels)) for m in masks], axis=1
    )
    sizes = np.array([m.sum() for m in masks])
    n = np.stack([counts[[levels.index(lv) for lv in r.levels]].sum(axis=0) for r in rows])
    denom = np.stack([sizes if first.all_denominator else counts.sum(axis=0) for _ in rows])
    return ItemBlock(item, tuple(rows), columns, counts, n, denom)


def long_frame(records: Sequence[Record]) -> pd.DataFrame:
    """The long frame of ``records``: the interface columns, then :data:`EXTRA_COLUMNS`."""
    long = pd.DataFrame(list(records)).reindex(columns=[*LONG_COLUMNS, *EXTRA_COLUMNS])
    text = [c for c in EXTRA_COLUMNS if c not in NUMERIC]
    long[text] = long[text].astype(object).fillna("")
    return long.astype(dict.fromkeys(NUMERIC, float))
