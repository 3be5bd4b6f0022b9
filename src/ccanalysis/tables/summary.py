"""A composable summary table: ``summarize(frame, items, by)`` then ``add_p``, ``add_difference``,
``add_q`` and ``render`` (public as :mod:`ccanalysis.analysis`; the paper's Tables 1-4 are built
through it by :func:`ccanalysis.tables.paper.from_spec`).

A :class:`Summary` is immutable: each ``add_*`` returns a new one. Its numbers come from
:mod:`~ccanalysis.tables.build` (the long format), its grid from :mod:`~ccanalysis.tables.layout`
and its files from :mod:`~ccanalysis.tables.render`, so a student's table and the paper's are
computed, laid out and printed by the same code.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from ccanalysis import stats
from ccanalysis.instrument import Instrument
from ccanalysis.spec import SpecRow, as_instrument, levels_of, parse_combine
from ccanalysis.tables.build import (
    ALL,
    ItemBlock,
    Record,
    Units,
    item_block,
    long_frame,
    n_records,
    resolve_test,
    units_of,
)
from ccanalysis.tables.layout import Display, Layout, display
from ccanalysis.tables.render import render_display, write_display
from ccanalysis.vocab import DEFAULT_SEED, GROUP_LABELS, SHORT_LABELS, TOTAL

#: What ``show`` may say of a categorical item besides levels and ``a+b`` combinations.
SHOW_WORDS = ("full", "binary")


# ---------------------------------------------------------------------------------------------
# The grouping
# ---------------------------------------------------------------------------------------------


def group_text(value: object) -> str:
    """A ``by`` value as the long format writes it: ``True``, ``2`` (not ``2.0``), ``urban``."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _groups_in(values: pd.Series) -> list[str]:
    """The groups of a ``by`` column in display order: a category's order, False before True,
    numbers ascending, text sorted."""
    present = values.dropna()
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = set(present.astype("object"))
        return [group_text(c) for c in values.cat.categories if c in seen]
    uniques = list(pd.unique(present.astype("object")))
    if all(
        isinstance(v, bool | np.bool_ | int | np.integer | float | np.floating) for v in uniques
    ):
        return [group_text(v) for v in sorted(uniques)]
    return sorted({group_text(v) for v in uniques})


def _choice_labels(by: str, instrument: Instrument | None) -> dict[str, str]:
    """Labels of a ``by`` column that is a categorical item: by level id and by answer code."""
    f = instrument.analysis_items().get(by) if instrument is not None else None
    if f is None or f.items:
        return {}
    out = {code: label for code, label in f.choices.items()}
    out.update({f.levels[c]: label for c, label in f.choices.items() if c in f.levels})
    return out


@dataclass(frozen=True)
class Grouping:
    """The rows kept (``keep``), their :class:`Units`, the group ``labels`` (long and ``short``),
    the ``reference`` group, how many rows were left out for want of a group, and ``codes``:
    each row's group, its position in ``units.groups`` (-1: left out)."""

    keep: np.ndarray
    units: Units
    labels: Mapping[str, str]
    short: Mapping[str, str]
    reference: str
    left_out: int
    codes: np.ndarray


def grouping(
    frame: pd.DataFrame,
    by: str,
    *,
    groups: Sequence[object] | None = None,
    labels: Mapping[object, str] | None = None,
    reference: object | None = None,
    instrument: Instrument | None = None,
) -> Grouping:
    """Split ``frame`` by its column ``by`` (bool, category, text or integer codes).

    ``groups``: the groups and their order (default: every value present, see
    :func:`_groups_in`); rows with a missing ``by`` value or one outside ``groups`` are left out.
    ``labels``: ``{value: label}`` (default: the dictionary's choice labels of a categorical item,
    the study's group labels, else the value); ``reference``: the group the others are compared
    with (default the first).
    """
    if by not in frame.columns:
        raise KeyError(f"summarize: the frame has no column {by!r} to group by")
    values = frame[by]
    found = [group_text(g) for g in groups] if groups is not None else _groups_in(values)
    if len(found) < 2:
        raise ValueError(
            f"summarize: by={by!r} has {len(found)} group(s) {found}; a comparison needs 2 or more"
        )
    for g in found:
        if g in (TOTAL, ALL):
            raise ValueError(f"summarize: by={by!r} has a group named {g!r}, a reserved name")
    text = values.astype("object").map(lambda v: None if pd.isna(v) else group_text(v))
    position = {g: k for k, g in enumerate(found)}
    codes = text.map(position).fillna(-1).to_numpy(dtype=np.int64)
    keep = codes >= 0
    units = units_of(codes[keep], found, TOTAL)
    given = {group_text(k): v for k, v in (labels or {}).items()}
    unknown = sorted(set(given) - set(found))
    if unknown:
        raise ValueError(f"summarize: labels for groups {unknown} that by={by!r} does not have")
    choice = _choice_labels(by, instrument)
    long = {g: given.get(g) or choice.get(g) or GROUP_LABELS.get(g, g) for g in found}
    short = {g: given.get(g) or choice.get(g) or SHORT_LABELS.get(g, g) for g in found}
    long[TOTAL], short[TOTAL] = GROUP_LABELS[TOTAL], SHORT_LABELS[TOTAL]
    ref = found[0] if reference is None else group_text(reference)
    if ref not in found:
        raise ValueError(f"summarize: reference {reference!r} is not a group of {by!r} {found}")
    return Grouping(
        keep,
        units,
        MappingProxyType(long),
        MappingProxyType(short),
        ref,
        int((~keep).sum()),
        codes,
    )


# ---------------------------------------------------------------------------------------------
# Rows from items
# ---------------------------------------------------------------------------------------------


def _item_labels(item: str, instrument: Instrument) -> tuple[str, dict[str, str]]:
    """(label of the item, {level: label}) from the dictionary; a checkbox box is labelled by
    its choice."""
    f = instrument.analysis_items().get(item)
    if f is None:  # a derived item
        return item, {"yes": "Yes", "no": "No"}
    if f.items:
        code = next(c for c, name in f.items.items() if name == item)
        return f.choices[code], {"yes": "Yes", "no": "No"}
    return f.label, {f.levels[c]: label for c, label in f.choices.items() if c in f.levels}


def item_rows(
    items: Sequence[str],
    *,
    show: Mapping[str, str | Sequence[str]] | None = None,
    stat: str = "n_pct",
    table: str = "summary",
    instrument: Instrument,
) -> tuple[SpecRow, ...]:
    """The printed rows of ``items``, as specification rows, labelled from the dictionary.

    A numeric item is one mean (SD) row (Student's t / ANOVA); a categorical item shows, by
    ``show[item]``: ``"full"`` (default: a row per answer level, tested on the whole answer
    distribution), ``"binary"`` (one row, ``yes``), a level (one row), ``"a+b"`` (one row adding
    up levels) or a list of levels and combinations (a row each). ``stat``: ``n_pct`` (count and
    percentage) or ``pct``.
    """
    show = dict(show or {})
    if not items:
        raise ValueError("summarize: no items")
    dupes = sorted({i for i in items if list(items).count(i) > 1})
    if dupes:
        raise ValueError(f"summarize: items {dupes} are given twice")
    stray = sorted(set(show) - set(items))
    if stray:
        raise ValueError(f"summarize: show names {stray}, which are not among the items")
    if stat not in ("n_pct", "pct"):
        raise ValueError(f"summarize: stat must be 'n_pct' or 'pct', not {stat!r}")
    rows: list[SpecRow] = []
    for item in items:
        found = levels_of(item, instrument)
        if found is None:
            raise ValueError(
                f"summarize: {item!r} is not an analysis item of the data dictionary "
                f"({instrument.source})"
            )
        levels, numeric = found
        label, level_labels = _item_labels(item, instrument)
        base = SpecRow(
            0, table, "", item, "", label, stat, "full", (), "fisher", "answered", "", levels
        )
        if numeric:
            if item in show:
                raise ValueError(f"summarize: {item!r} is numeric (a mean): show does not apply")
            text = f"{label} – mean (SD)"
            rows.append(
                replace(base, label=text, stat="mean_sd", shown="mean_sd", test="student_t")
            )
            continue
        how = show.get(item, "full")
        if how == "full":
            rows += [
                replace(base, section=label, level=lv, label=level_labels[lv]) for lv in levels
            ]
            continue
        if how == "binary":
            if "yes" not in levels:
                raise ValueError(f"summarize: {item!r} has no level 'yes' to show as binary")
            rows.append(replace(base, level="yes", shown="binary"))
            continue
        wanted = [how] if isinstance(how, str) else list(how)
        for w in wanted:
            parts = parse_combine(w)
            bad = [lv for lv in parts if lv not in levels]
            if bad or not parts:
                raise ValueError(
                    f"summarize: show[{item!r}] = {w!r}: {bad or w!r} not among its levels "
                    f"{list(levels)} (or {list(SHOW_WORDS)})"
                )
            text = " or ".join(level_labels[lv] for lv in parts)
            one = replace(base, level="_".join(parts), shown="collapsed", combine=parts)
            if len(wanted) == 1:
                rows.append(replace(one, label=f"{label}: {text}"))
            else:
                rows.append(replace(one, section=label, label=text))
    return tuple(rows)


# ---------------------------------------------------------------------------------------------
# The summary
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Summary:
    """Items summarized by group; immutable, each ``add_*`` returns a new summary.

    ``long``: the long format of ``tables/tableN.csv``; ``render(fmt)``: HTML, Markdown, LaTeX or
    Word; ``write(outdir, name)``: every format. See :mod:`ccanalysis.analysis` for an example.
    """

    table: str
    by: str
    grouping: Grouping
    blocks: tuple[ItemBlock, ...]
    title: str = ""
    decimals: int = 1
    notes: tuple[str, ...] = ()
    synthetic: bool = False
    tests: tuple[Record | None, ...] | None = None
    test_ids: tuple[str, ...] | None = None
    seed: int | None = DEFAULT_SEED
    level_tests: tuple[tuple[Record, ...], ...] | None = None
    comparison: str | None = None
    diffs: tuple[tuple[Record, ...], ...] | None = None
    q: tuple[float, ...] | None = None
    q_note: str = ""
    row_notes: tuple[tuple[tuple[str, ...], str], ...] = ()

    # ---- what it holds ----------------------------------------------------------------------

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups compared, in column order (the ``group`` values of :attr:`long`)."""
        return self.grouping.units.groups

    @property
    def reference(self) -> str:
        return self.grouping.reference

    @property
    def rows(self) -> tuple[SpecRow, ...]:
        """The printed rows, in order."""
        return tuple(r for b in self.blocks for r in b.rows)

    @functools.cached_property
    def long(self) -> pd.DataFrame:
        """The long format (``table,item,level,group,measure,value``, then ``diff, diff_lo,
        diff_hi, q, test, note``), as :mod:`ccanalysis.tables.build` describes it."""
        out = n_records(self.table, self.grouping.units)
        for i, b in enumerate(self.blocks):
            out += b.records(
                self.table,
                p_row=self.tests[i] if self.tests is not None else None,
                diffs=self.diffs[i] if self.diffs is not None else (),
                comparison=self.comparison,
                level_p=self.level_tests[i] if self.level_tests is not None else (),
            )
        long = long_frame(out, q=False)
        if self.q is not None and self.q:
            long.loc[(long["measure"] == "p").to_numpy(), "q"] = np.asarray(self.q, dtype=float)
        return long

    # ---- the steps --------------------------------------------------------------------------

    def add_p(
        self, test: str | Mapping[str, str] | None = None, *, seed: int | None = DEFAULT_SEED
    ) -> Summary:
        """Test each item on its whole answer distribution by group, and each printed level of an
        item with more than two answers on its own (that level against the other answers: the
        hypothesis its difference estimates; ``p_level`` in :attr:`long`).

        Defaults: Fisher's exact test (r x c, exact as R's ``fisher.test``) for categorical items,
        Student's t-test (two groups) or one-way ANOVA (more) for numeric ones. ``test``: a test id
        replacing the tests of its kind (``chisq``, ``chisq_yates``, ``welch_t``, ``welch_anova``
        ...), or ``{item: test}``. ``seed``: for a Monte Carlo Fisher p-value, used only where
        exact enumeration would exceed its budget.
        """
        if isinstance(test, Mapping):
            stray = sorted(set(test) - {b.item for b in self.blocks})
            if stray:
                raise ValueError(f"add_p: tests for {stray}, which are not items of the table")
        n_groups = len(self.groups)
        ids = tuple(
            resolve_test(b.rows[0].test, b.item, b.continuous, n_groups, test) for b in self.blocks
        )
        results = tuple(b.test(t, seed=seed) for b, t in zip(self.blocks, ids, strict=True))
        out = replace(self, tests=results, test_ids=ids, seed=seed, q=None, q_note="")
        return out._with_level_tests()

    def _level_groups(self) -> tuple[str, ...] | None:
        """The groups the level tests compare: the two a difference compares among three groups
        or more (``None``: every group)."""
        if self.comparison is None or len(self.groups) <= 2:
            return None
        return tuple(g for g in self.groups if g in (self.comparison, self.reference))

    def _with_level_tests(self) -> Summary:
        """The level tests of every block, of the groups :meth:`_level_groups` names."""
        groups = self._level_groups()
        levels = tuple(
            tuple(b.level_tests(t, seed=self.seed, groups=groups))
            for b, t in zip(self.blocks, self.test_ids or (), strict=True)
        )
        return replace(self, level_tests=levels)

    def add_difference(
        self, group: object | None = None, *, equal_var: bool | None = None
    ) -> Summary:
        """``group`` minus the reference group on every row: percentage points with Newcombe's
        hybrid score 95% interval, or the mean difference with the t interval.

        ``group``: the group compared with the reference (needed with three groups or more).
        ``equal_var``: the mean difference's interval; default Student's, Welch's where the item's
        test (from an earlier :meth:`add_p`) is Welch's.
        """
        others = [g for g in self.groups if g != self.reference]
        if group is None:
            if len(others) != 1:
                raise ValueError(
                    f"add_difference: {len(self.groups)} groups; name the group to compare with "
                    f"the reference {self.reference!r} (one of {others})"
                )
            comp = others[0]
        else:
            comp = group_text(group)
            if comp not in others:
                raise ValueError(
                    f"add_difference: {group!r} is not a group other than the reference "
                    f"{self.reference!r} (groups: {list(self.groups)})"
                )
        diffs = []
        for i, b in enumerate(self.blocks):
            welch = self.tests is not None and self.tests[i] is not None
            welch = welch and self.tests[i]["test"] in ("welch_t", "welch_anova")  # type: ignore[index]
            ev = (not welch) if equal_var is None else equal_var
            diffs.append(tuple(b.differences(comp, self.reference, equal_var=ev)))
        out = replace(self, comparison=comp, diffs=tuple(diffs))
        if out.test_ids is not None and len(self.groups) > 2:
            out = out._with_level_tests()  # now of the two groups the difference compares
        return out

    def add_q(self) -> Summary:
        """Benjamini-Hochberg q-values across this table's tests (for a family of tests over
        several tables, :func:`add_q_across`)."""
        return add_q_across(self)[0]

    def footnote(self, items: Sequence[str], text: str) -> Summary:
        """Mark the rows of ``items`` with a footnote (a sign after their label, ``text`` below
        the table); items not in the table are passed over."""
        own = tuple(i for i in items if i in {b.item for b in self.blocks})
        if not own:
            return self
        return replace(self, row_notes=(*self.row_notes, (own, text)))

    def note(self, text: str) -> Summary:
        """Add a note below the table (after its own notes)."""
        return replace(self, notes=(*self.notes, text))

    # ---- output -----------------------------------------------------------------------------

    def layout(self) -> Layout:
        """The table's layout beside its rows: title, columns, labels, comparison, decimals."""
        g = self.grouping
        others = [x for x in self.groups if x != g.reference]
        comp = self.comparison or others[0]
        notes = self.notes
        if g.left_out:
            rows = "row" if g.left_out == 1 else "rows"
            notes = (*notes, f"{g.left_out} {rows} with no {self.by} value left out.")
        return Layout(
            title=self.title,
            columns=g.units.columns,
            comparison=(comp, g.reference),
            decimals=self.decimals,
            notes=notes,
            labels=g.labels,
            short=g.short,
            q_note=self.q_note,
            row_notes=self.row_notes,
            level_groups=self._level_groups() or (),
        )

    def display(self, *, extras: bool | None = None, suppress_below: int | None = None) -> Display:
        """The printed grid (``extras``: the difference and q columns; default: when added)."""
        if extras is None:
            extras = self.diffs is not None or self.q is not None
        return display(
            self.long,
            self.rows,
            self.layout(),
            synthetic=self.synthetic,
            extras=extras,
            suppress_below=suppress_below,
        )

    def render(
        self, fmt: str = "html", *, extras: bool | None = None, suppress_below: int | None = None
    ) -> str | bytes:
        """The table as ``html``, ``md``, ``tex`` (text) or ``docx`` (bytes)."""
        return render_display(self.display(extras=extras, suppress_below=suppress_below), fmt)

    def write(
        self,
        outdir: str | Path,
        name: str,
        *,
        extras: bool | None = None,
        suppress_below: int | None = None,
    ) -> dict[str, Path]:
        """Write ``<name>.csv`` (long) and ``.html``, ``.md``, ``.tex``, ``.docx`` into ``outdir``."""
        d = self.display(extras=extras, suppress_below=suppress_below)
        return write_display(d, self.long, outdir, name, suppress_below=suppress_below)

    def _repr_html_(self) -> str:
        return str(self.render("html"))


def add_q_across(*summaries: Summary, family: str | None = None) -> tuple[Summary, ...]:
    """Benjamini-Hochberg q-values across the tests of several tables at once (a pre-specified
    family of tests, named ``family``): the summaries again, in order, with their q-values.

    Without a name the family is the table's own tests (what :meth:`Summary.add_q` does). Every
    summary needs its p-values (:meth:`Summary.add_p`).
    """
    for s in summaries:
        if s.tests is None:
            raise ValueError(f"add_q: {s.table} has no p-values to adjust; call add_p() first")
    p = [float(t["p"]) for s in summaries for t in s.tests if t is not None]  # type: ignore[union-attr,arg-type]
    q = [float(v) for v in stats.bh_qvalues(p)] if p else []
    if family is None:
        note = "q: Benjamini-Hochberg q-value across the tests of this table."
    else:
        names = [re.sub(r"^table(\d+)$", r"Table \1", s.table) for s in summaries]
        tables = " and ".join(dict.fromkeys(names))
        note = (
            f"q: Benjamini-Hochberg q-value across the {len(p)} tests of the pre-specified family "
            f"{family!r} ({tables})."
        )
    out, start = [], 0
    for s in summaries:
        m = sum(t is not None for t in s.tests)  # type: ignore[union-attr]
        out.append(replace(s, q=tuple(q[start : start + m]), q_note=note))
        start += m
    return tuple(out)


def summary_of_rows(
    frame: pd.DataFrame,
    rows: Sequence[SpecRow],
    by: str,
    *,
    table: str,
    groups: Sequence[object] | None,
    labels: Mapping[object, str] | None,
    reference: object | None,
    instrument: Instrument | None,
    title: str,
    decimals: int,
    notes: Sequence[str],
    synthetic: bool,
) -> Summary:
    """A summary of ``frame`` by ``by`` printing ``rows`` (specification rows, in order); the
    arguments as :func:`summarize` and :func:`grouping` take them."""
    if by in {r.item for r in rows}:
        raise ValueError(f"summarize: {by!r} is both an item and the column to group by")
    g = grouping(
        frame, by, groups=groups, labels=labels, reference=reference, instrument=instrument
    )
    kept = frame if g.left_out == 0 else frame.loc[g.keep].reset_index(drop=True)
    by_item: dict[str, list[SpecRow]] = {}
    for r in rows:
        by_item.setdefault(r.item, []).append(r)
    blocks = tuple(item_block(kept, g.units, rs, where=table) for rs in by_item.values())
    return Summary(
        table=table,
        by=by,
        grouping=g,
        blocks=blocks,
        title=title,
        decimals=decimals,
        notes=tuple(notes),
        synthetic=synthetic,
    )


def summarize(
    frame: pd.DataFrame,
    items: Sequence[str],
    by: str,
    *,
    labels: Mapping[object, str] | None = None,
    reference: object | None = None,
    groups: Sequence[object] | None = None,
    show: Mapping[str, str | Sequence[str]] | None = None,
    stat: str = "n_pct",
    instrument: Instrument | str | Path | None = None,
    title: str | None = None,
    table: str = "summary",
    decimals: int = 1,
    synthetic: bool = False,
) -> Summary:
    """Summarize ``items`` (analysis items of the data dictionary) of ``frame`` by its column
    ``by``; see :mod:`ccanalysis.analysis` for the whole story and an example.

    ``labels``/``reference``/``groups``: as :func:`grouping`; ``show``/``stat``: as
    :func:`item_rows`; ``instrument``: the data dictionary (default the project's); ``title``,
    ``table`` (the ``table`` column of the long format), ``decimals`` of percentages;
    ``synthetic``: print the synthetic-data label on the rendered table.
    """
    inst = as_instrument(instrument)
    rows = item_rows(items, show=show, stat=stat, table=table, instrument=inst)
    return summary_of_rows(
        frame,
        rows,
        by,
        table=table,
        groups=groups,
        labels=labels,
        reference=reference,
        instrument=inst,
        title=f"Summary by {by}" if title is None else title,
        decimals=decimals,
        notes=(),
        synthetic=synthetic,
    )
