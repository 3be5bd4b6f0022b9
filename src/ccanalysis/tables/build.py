"""Computing a table's long format: counts, denominators, means, tests, differences, q-values.

The long format of docs/ARCHITECTURE.md (``table,item,level,group,measure,value``) followed by
``diff, diff_lo, diff_hi, q, test, note``:

* ``n`` rows: the N row (``item == "n"``, units per group) and the count of answers at a level;
  ``denom``: the answers counted in the percentage (for a mean: the answers averaged);
  ``pct``: 0-100, unrounded; ``mean``, ``sd`` (n - 1 denominator);
* ``p`` rows (empty level, group ``all``, unrounded): one test per item, on the item's FULL answer
  distribution by group (a collapsed row's p refers to all levels, as the paper's do); ``test`` is
  the id of the test that ran (``fisher``, ``fisher_mc``, ``student_t``, ``anova`` ...), ``q`` the
  Benjamini-Hochberg q-value across the tests of the table, ``note`` anything unusual;
* ``diff``, ``diff_lo``, ``diff_hi`` on the ``pct`` / ``mean`` rows of the comparison group: that
  group minus the reference group, in percentage points with Newcombe's hybrid score 95% interval,
  or as a mean difference with the t interval (Welch's when the test is Welch's);
* ``p_level``, ``test_level`` on every ``pct`` row of a printed level of an item with more than two
  answers: the test of that level (or the levels a collapsed row adds up) against all the other
  answers, by group (a 2 x groups table; the item's own kind of test; with a difference among
  three groups or more, of the two groups it compares), i.e. the hypothesis the row's difference
  estimates, where the ``p`` row tests the whole answer distribution;
* an item with no answers at all keeps its rows (counts 0, no percentage, no mean), ``note``
  :data:`NO_ANSWERS` on each, and no test (a ``p`` row with an empty value says so).

An item's numbers are computed once into an :class:`ItemBlock` (counts by level and group, or the
answers of each group); its test, its differences and the table's q-values are separate steps
over the blocks, and :func:`long_frame` lays the rows out in the order above.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccanalysis import stats
from ccanalysis.spec import CATEGORICAL_TESTS, CONTINUOUS_TESTS, TESTS, SpecRow

#: The interface columns of docs/ARCHITECTURE.md, always first, in this order.
LONG_COLUMNS: tuple[str, ...] = ("table", "item", "level", "group", "measure", "value")
#: Extra columns after them.
EXTRA_COLUMNS: tuple[str, ...] = (
    "diff",
    "diff_lo",
    "diff_hi",
    "q",
    "test",
    "note",
    "p_level",
    "test_level",
)
#: The numeric extra columns (the others are text).
FLOAT_COLUMNS: tuple[str, ...] = ("value", "diff", "diff_lo", "diff_hi", "q", "p_level")
#: The note on every row of an item nobody answered.
NO_ANSWERS = "no answers"
#: The note of a Monte Carlo p-value's row (and :data:`MC_NOTE_RE` reads it back for the footnote).
MC_NOTE = "Monte Carlo p-value from {samples} tables (SE {se:.2g})"
MC_NOTE_RE = re.compile(r"Monte Carlo p-value from (\d+) tables \(SE ([0-9.e+-]+)\)")
#: The group of a ``p`` row.
ALL = "all"

Record = dict[str, object]


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def resolve_test(
    spec_test: str,
    item: str,
    continuous: bool,
    n_groups: int,
    override: str | Mapping[str, str] | None,
) -> str:
    """The test an item gets: its spec's, or the override's (a test id replacing the tests of its
    kind, or ``{item: test}``); t-tests become ANOVAs with three groups or more, and back."""
    test = spec_test
    if isinstance(override, Mapping):
        test = override.get(item, spec_test)
    elif isinstance(override, str) and spec_test != "none":
        if (override in CATEGORICAL_TESTS and not continuous) or (
            override in CONTINUOUS_TESTS and continuous
        ):
            test = override
        elif override not in TESTS:
            raise ValueError(f"unknown test override {override!r}")
    if test not in TESTS:
        raise ValueError(f"{item}: unknown test {test!r}")
    if continuous and n_groups > 2:
        test = {"student_t": "anova", "welch_t": "welch_anova"}.get(test, test)
    if continuous and n_groups == 2:
        test = {"anova": "student_t", "welch_anova": "welch_t"}.get(test, test)
    return test


def record(
    table: str, item: str, level: str, group: str, measure: str, value: float, **extra: object
) -> Record:
    """One row of the long format."""
    out: Record = {
        "table": table,
        "item": item,
        "level": level,
        "group": group,
        "measure": measure,
        "value": float(value),
    }
    out.update(extra)
    return out


# ---------------------------------------------------------------------------------------------
# One item's numbers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Units:
    """The units of a table split into groups: ``columns`` (the total first, then the groups) and
    a boolean mask over the frame's rows for each column."""

    columns: tuple[str, ...]
    masks: tuple[np.ndarray, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        return self.columns[1:]

    def size(self, column: str) -> int:
        return int(self.masks[self.columns.index(column)].sum())


def units_of(codes: np.ndarray, groups: Sequence[str], total: str) -> Units:
    """:class:`Units` of rows coded by their group's position in ``groups`` (-1: in none); the
    total is every row."""
    masks = [np.ones(len(codes), dtype=bool)] + [codes == k for k in range(len(groups))]
    return Units((total, *groups), tuple(masks))


def _codes(col: pd.Series, wanted: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Integer codes (-1 = missing) of a categorical answer column and its levels in order."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in col.cat.categories]
        return col.cat.codes.to_numpy(dtype=np.int64), levels
    values = col.astype("object")
    seen = sorted({str(v) for v in values.dropna()} - set(wanted))
    levels = list(dict.fromkeys(wanted)) + seen
    index = {lv: k for k, lv in enumerate(levels)}
    codes = np.array([-1 if pd.isna(v) else index[str(v)] for v in values], dtype=np.int64)
    return codes, levels


@dataclass(frozen=True)
class ItemBlock:
    """The numbers of one item by column (total, then groups).

    A categorical item has ``levels`` (every answer, in order), ``counts`` (levels x columns) and,
    per printed row, ``n`` and ``denom`` (rows x columns); a continuous one the answers of each
    column in ``samples``.
    """

    item: str
    rows: tuple[SpecRow, ...]
    columns: tuple[str, ...]
    levels: tuple[str, ...] = ()
    counts: np.ndarray | None = None
    n: np.ndarray | None = None
    denom: np.ndarray | None = None
    samples: tuple[np.ndarray, ...] = ()

    @property
    def continuous(self) -> bool:
        return self.rows[0].continuous

    @property
    def answers(self) -> int:
        """Answers given in the total column."""
        if self.continuous:
            return len(self.samples[0])
        return int(self.counts[:, 0].sum())

    def test(self, test: str, *, seed: int | None) -> Record | None:
        """The ``p`` row of the item's test on its full answer distribution (``None`` for
        ``none``); a test that cannot run gives a NaN p with the reason in ``note``."""
        if test == "none":
            return None
        if self.answers == 0:
            return {"p": math.nan, "test": test, "note": NO_ANSWERS}
        if self.continuous:
            return _tested(test, samples=list(self.samples[1:]), seed=seed)
        return _tested(test, table=self.counts[:, 1:], seed=seed)

    def level_tests(
        self, test: str, *, seed: int | None, groups: Sequence[str] | None = None
    ) -> list[Record]:
        """Per printed row, the test of its level(s) against the other answers by group
        (``p_level``, ``test_level``); empty for a mean, an item of two answers or none.

        ``groups``: the groups tested (default every group; the two a difference compares when
        there are more, so that the test is of the hypothesis the difference estimates)."""
        if self.continuous or test == "none" or len(self.levels) <= 2 or self.answers == 0:
            return [{} for _ in self.rows]
        wanted = self.columns[1:] if groups is None else groups
        cols = sorted(self.columns.index(g) for g in wanted)
        out: list[Record] = []
        for i in range(len(self.rows)):
            k, n = self.n[i, cols], self.denom[i, cols]
            res = _tested(test, table=np.stack([k, n - k]), seed=seed)
            out.append({"p_level": res["p"], "test_level": res["test"]})
        return out

    def differences(self, comparison: str, reference: str, *, equal_var: bool) -> list[Record]:
        """Per printed row, ``comparison`` minus ``reference`` with its 95% interval (empty when a
        group has no answers, or fewer than two for a mean)."""
        c, r = self.columns.index(comparison), self.columns.index(reference)
        if self.continuous:
            x, y = self.samples[c], self.samples[r]
            if len(x) < 2 or len(y) < 2:
                return [{}]
            d, lo, hi = stats.mean_diff_ci(x, y, equal_var=equal_var)
            return [{"diff": d, "diff_lo": lo, "diff_hi": hi}]
        out: list[Record] = []
        for i in range(len(self.rows)):
            k1, n1 = int(self.n[i, c]), int(self.denom[i, c])
            k2, n2 = int(self.n[i, r]), int(self.denom[i, r])
            if n1 <= 0 or n2 <= 0:
                out.append({})
                continue
            d, lo, hi = stats.newcombe_diff(k1, n1, k2, n2)
            out.append({"diff": 100 * d, "diff_lo": 100 * lo, "diff_hi": 100 * hi})
        return out

    def records(
        self,
        table: str,
        *,
        p_row: Record | None = None,
        diffs: Sequence[Record] = (),
        comparison: str | None = None,
        level_p: Sequence[Record] = (),
    ) -> list[Record]:
        """The item's rows of the long format; the ``p`` row after the first printed row (a
        mean's after its three measures), differences on the comparison group's rows, a level's
        own test on each of its ``pct`` rows."""
        item, out = self.item, []
        p = None
        if p_row is not None:
            p = record(
                table, item, "", ALL, "p", p_row["p"], test=p_row["test"], note=p_row["note"]
            )
        none = {"note": NO_ANSWERS} if self.answers == 0 else {}
        if self.continuous:
            level = self.rows[0].level
            for j, g in enumerate(self.columns):
                v = self.samples[j]
                extra = diffs[0] if diffs and g == comparison else {}
                mean = v.mean() if len(v) else math.nan
                out.append(record(table, item, level, g, "mean", mean, **extra, **none))
                sd = v.std(ddof=1) if len(v) > 1 else math.nan
                out.append(record(table, item, level, g, "sd", sd, **none))
                out.append(record(table, item, level, g, "denom", len(v), **none))
            if p is not None:
                out.append(p)
            return out
        for i, r in enumerate(self.rows):
            n, denom = self.n[i], self.denom[i]
            own = level_p[i] if level_p else {}
            for j, g in enumerate(self.columns):
                pct = 100.0 * n[j] / denom[j] if denom[j] else math.nan
                extra = diffs[i] if diffs and g == comparison else {}
                out.append(record(table, item, r.level, g, "n", n[j], **none))
                out.append(record(table, item, r.level, g, "denom", denom[j], **none))
                out.append(record(table, item, r.level, g, "pct", pct, **extra, **own, **none))
            if i == 0 and p is not None:
                out.append(p)
        return out


def item_block(
    frame: pd.DataFrame, units: Units, rows: Sequence[SpecRow], *, where: str = "table"
) -> ItemBlock:
    """Count (or collect) one item's answers by column, for its printed ``rows`` (``where``: the
    table, for messages)."""
    first = rows[0]
    item = first.item
    if item not in frame.columns:
        line = f" (specification line {first.line})" if first.line else ""
        raise KeyError(f"{where}: the frame has no column {item!r}{line}")
    col = frame[item]
    if first.continuous:
        x = pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(dtype=float)
        ok = ~np.isnan(x)
        samples = tuple(x[m & ok] for m in units.masks)
        return ItemBlock(item, tuple(rows), units.columns, samples=samples)
    wanted = [lv for r in rows for lv in r.levels]
    codes, levels = _codes(col, wanted)
    unknown = [lv for lv in wanted if lv not in levels]
    if unknown:
        raise KeyError(
            f"{where}, {item}: levels {unknown} are not answers in the data (answers: {levels})"
        )
    answered = codes >= 0
    counts = np.zeros((len(levels), len(units.columns)), dtype=np.int64)
    for j, m in enumerate(units.masks):
        counts[:, j] = np.bincount(codes[m & answered], minlength=len(levels))
    every = first.all_denominator
    sizes = np.array([m.sum() for m in units.masks])
    n = np.stack([counts[[levels.index(lv) for lv in r.levels], :].sum(axis=0) for r in rows])
    denom = np.stack([sizes if every else counts.sum(axis=0) for _ in rows])
    return ItemBlock(item, tuple(rows), units.columns, tuple(levels), counts, n, denom)


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


def _tested(
    test: str,
    *,
    table: np.ndarray | None = None,
    samples: Sequence[np.ndarray] | None = None,
    seed: int | None,
) -> Record:
    """``p``, ``test`` (the id of the test that ran) and ``note`` of one test; a test that cannot
    run gives a NaN p with the reason in ``note``."""
    note = ""
    try:
        res = stats.run_test(test, table=table, samples=samples, seed=seed)
        p, test_id = res.p, res.test
        if res.test == "fisher_mc":
            note = MC_NOTE.format(samples=res.mc_samples, se=res.mc_se)
    except ValueError as exc:
        p, test_id, note = math.nan, test, f"test not computable: {exc}"
    return {"p": p, "test": test_id, "note": note}


def n_records(table: str, units: Units) -> list[Record]:
    """The N row: units per column."""
    return [
        record(table, "n", "", g, "n", m.sum())
        for g, m in zip(units.columns, units.masks, strict=True)
    ]


def long_frame(records: Sequence[Record], *, q: bool = True) -> pd.DataFrame:
    """The long frame of ``records``: the interface columns, then :data:`EXTRA_COLUMNS`; with
    ``q``, the Benjamini-Hochberg q-values of its ``p`` rows."""
    long = pd.DataFrame(list(records))
    for c in EXTRA_COLUMNS:
        if c not in long.columns:
            long[c] = math.nan if c in FLOAT_COLUMNS else ""
    long = long[list(LONG_COLUMNS + EXTRA_COLUMNS)]
    for c in EXTRA_COLUMNS:
        if c not in FLOAT_COLUMNS:
            long[c] = long[c].fillna("").astype(object)
    for c in FLOAT_COLUMNS:
        long[c] = long[c].astype(float)
    is_p = (long["measure"] == "p").to_numpy()
    if q and is_p.any():
        long.loc[is_p, "q"] = stats.bh_qvalues(long.loc[is_p, "value"].to_numpy(dtype=float))
    return long
