"""The immutable :class:`Summary`: ``summarize(frame, items, by)`` then ``add_p``,
``add_difference``, ``add_q``, ``render``, ``write`` (public as :mod:`ccanalysis.analysis`)."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis import stats
from ccanalysis.classify import DEFAULT_DEFINITION, definition_of, describe
from ccanalysis.instrument import Instrument
from ccanalysis.io import read_uncalibrated, write_bytes, write_text
from ccanalysis.paths import Paths
from ccanalysis.spec import (
    CATEGORICAL_TESTS,
    CONTINUOUS_TESTS,
    TESTS,
    SpecRow,
    as_instrument,
    levels_of,
    parse_combine,
)
from ccanalysis.tables import render as formats
from ccanalysis.tables.counts import (
    ALL,
    ItemBlock,
    Record,
    item_block,
    long_frame,
    record,
    resolve_test,
)
from ccanalysis.tables.grid import grid
from ccanalysis.vocab import DEFAULT_SEED, GROUP_LABELS, MODEL_GROUP, SHORT_LABELS, TOTAL

#: The most groups a ``by`` column may make unless the caller raises ``max_groups``.
MAX_GROUPS = 10


def did_you_mean(name: str, known: Sequence[str]) -> str:
    """`` (did you mean 'a', 'b'?)`` for a misspelled ``name`` among ``known``, else empty."""
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=3, cutoff=0.6)
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def group_text(value: object) -> str:
    """A ``by`` value as the long format writes it: ``True``, ``2`` (not ``2.0``), ``urban``."""
    if isinstance(value, np.bool_ | np.integer):
        value = value.item()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Grouping:
    """A frame split by group: ``columns`` (the total, then the groups), a mask of rows for each;
    ``codes``: each row's position in the groups (-1: left out)."""

    columns: tuple[str, ...]
    masks: tuple[np.ndarray, ...]
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
    max_groups: int | None = None,
) -> Grouping:
    """Split ``frame`` by its column ``by``: ``groups`` in order (default: every value present),
    ``labels`` (default: the dictionary's, the study's, else the value), ``reference`` (default
    the first group). Without ``groups``, more than ``max_groups`` groups (default 10), or a
    numeric ``by`` of more than two values without ``max_groups``, stops."""
    if by not in frame.columns:
        raise KeyError(
            f"summarize: the frame has no column {by!r} to group by{did_you_mean(by, frame.columns)}"
        )
    found = [group_text(g) for g in groups] if groups is not None else []
    if groups is None:  # the values present, in a category's order, else sorted
        present = set(frame[by].dropna().astype("object"))
        cats = frame[by].cat.categories if frame[by].dtype == "category" else sorted(present)
        found = [group_text(v) for v in cats if v in present]
    numeric = pd.api.types.is_numeric_dtype(frame[by]) and not pd.api.types.is_bool_dtype(frame[by])
    limit = MAX_GROUPS if max_groups is None else max_groups
    if groups is None and (
        len(found) > limit or (numeric and len(found) > 2 and max_groups is None)
    ):
        kind = "a numeric column" if numeric else "a column"
        raise ValueError(
            f"summarize: by={by!r} is {kind} of {len(found)} distinct values; group it first, e.g. "
            f"frame.assign(band=pd.cut(frame[{by!r}], bins=[...])) and by='band', or pass "
            f"max_groups={len(found)} to compare every value"
        )
    if len(found) < 2:
        raise ValueError(
            f"summarize: by={by!r} has {len(found)} group(s) {found}; a comparison needs 2 or more"
        )
    if {TOTAL, ALL} & set(found):
        raise ValueError(f"summarize: by={by!r} has a group named total or all, reserved names")
    text = frame[by].astype("object").map(group_text, na_action="ignore")
    codes = text.map({g: k for k, g in enumerate(found)}).fillna(-1).to_numpy(dtype=np.int64)
    given = {group_text(k): v for k, v in (labels or {}).items()}
    if unknown := sorted(set(given) - set(found)):
        raise ValueError(f"summarize: labels for groups {unknown} that by={by!r} does not have")
    field = instrument.analysis_items().get(by) if instrument is not None else None
    choice = {}
    if field is not None and not field.items:  # a categorical item: by answer code and level id
        choice = dict(field.choices) | {field.levels[c]: lb for c, lb in field.choices.items()}
    study = {g: MODEL_GROUP.get(g, g) for g in found}  # a care model's value: its group's labels
    long = {g: given.get(g) or choice.get(g) or GROUP_LABELS.get(study[g], g) for g in found}
    short = {g: given.get(g) or choice.get(g) or SHORT_LABELS.get(study[g], g) for g in found}
    long[TOTAL], short[TOTAL] = GROUP_LABELS[TOTAL], SHORT_LABELS[TOTAL]
    ref = found[0] if reference is None else group_text(reference)
    if ref not in found:
        raise ValueError(f"summarize: reference {reference!r} is not a group of {by!r} {found}")
    keep = codes >= 0
    masks = (keep[keep], *(codes[keep] == k for k in range(len(found))))
    return Grouping((TOTAL, *found), masks, long, short, ref, int((~keep).sum()), codes)


def item_rows(
    items: Sequence[str],
    *,
    show: Mapping[str, str | Sequence[str]] | None = None,
    table: str = "summary",
    instrument: Instrument,
) -> tuple[SpecRow, ...]:
    """The printed rows of ``items`` as specification rows labelled from the dictionary: a mean
    (SD) row of a numeric item; of a categorical one, by ``show[item]``: ``"full"`` (a row per
    level), ``"binary"`` (``yes``), a level, ``"a+b"`` (levels added up) or a list of these
    (default: ``"binary"`` for a yes/no item, else ``"full"``)."""
    show = dict(show or {})
    if not items:
        raise ValueError("summarize: no items")
    if dupes := sorted({i for i in items if list(items).count(i) > 1}):
        raise ValueError(f"summarize: items {dupes} are given twice")
    if stray := sorted(set(show) - set(items)):
        raise ValueError(f"summarize: show names {stray}, which are not among the items")
    fields = instrument.analysis_items()
    rows: list[SpecRow] = []
    for item in items:
        found = levels_of(item, instrument)
        if found is None:
            raise ValueError(
                f"summarize: {item!r} is not an analysis item of the data dictionary "
                f"({instrument.source}){did_you_mean(item, list(fields))}"
            )
        levels, numeric = found
        f = fields.get(item)
        level_labels = {"yes": "Yes", "no": "No"}
        if f is None:  # a derived item
            label = item
        elif f.items:  # a box of a checkbox field: labelled by its choice
            label = f.choices[next(c for c, name in f.items.items() if name == item)]
        else:
            label = f.label
            level_labels = {f.levels[c]: lb for c, lb in f.choices.items() if c in f.levels}
        base = SpecRow(
            0, table, "", item, "", label, "n_pct", "full", (), "fisher", "answered", "", levels
        )
        how = show.get(item, "binary" if set(levels) == {"yes", "no"} else "full")
        if numeric:
            if item in show:
                raise ValueError(f"summarize: {item!r} is numeric (a mean): show does not apply")
            rows.append(
                replace(
                    base,
                    label=f"{label} – mean (SD)",
                    stat="mean_sd",
                    shown="mean_sd",
                    test="student_t",
                    unit=f.unit if f is not None else "",
                )
            )
        elif how == "full":
            rows += [
                replace(base, section=label, level=lv, label=level_labels[lv]) for lv in levels
            ]
        elif how == "binary":
            if "yes" not in levels:
                raise ValueError(f"summarize: {item!r} has no level 'yes' to show as binary")
            rows.append(replace(base, level="yes", shown="binary"))
        else:
            wanted = [how] if isinstance(how, str) else list(how)
            for w in wanted:
                parts = parse_combine(w)
                if (bad := [lv for lv in parts if lv not in levels]) or not parts:
                    raise ValueError(
                        f"summarize: show[{item!r}] = {w!r}: {bad or w!r} not among its levels "
                        f"{list(levels)} (or ['full', 'binary'])"
                    )
                text = " or ".join(level_labels[lv] for lv in parts)
                one = replace(base, level="_".join(parts), shown="collapsed", combine=parts)
                if len(wanted) == 1:
                    rows.append(replace(one, label=f"{label}: {text}"))
                else:
                    rows.append(replace(one, section=label, label=text))
    return tuple(rows)


def check_tests(test: str | Mapping[str, str] | None, blocks: Sequence[ItemBlock]) -> None:
    """Stop on an unknown test, an item not in the table or a test of the other kind."""
    numeric = {b.item: b.rows[0].continuous for b in blocks}
    given = dict(test) if isinstance(test, Mapping) else {} if test is None else {None: test}
    if stray := sorted(set(given) - set(numeric) - {None}):
        hint = did_you_mean(stray[0], list(numeric))
        raise ValueError(f"add_p: tests for {stray}, which are not items of the table{hint}")
    for item, t in given.items():
        if t not in TESTS:
            valid = sorted(TESTS)
            raise ValueError(
                f"add_p: unknown test {t!r}{did_you_mean(t, valid)}; the tests: {', '.join(valid)}"
            )
        of_means = t in CONTINUOUS_TESTS
        if t == "none" or (item is None and of_means in numeric.values()):
            continue
        if item is None:
            kind = "numeric items (means)" if of_means else "categorical items (counts)"
            raise ValueError(f"add_p: {t!r} is a test of {kind}, and the table has none")
        if of_means != numeric[item]:
            kind = "a numeric item (a mean)" if numeric[item] else "a categorical item (counts)"
            fits = sorted(CONTINUOUS_TESTS if numeric[item] else CATEGORICAL_TESTS)
            raise ValueError(
                f"add_p: {t!r} does not fit {item!r}, {kind}; the tests that do: "
                f"{', '.join(fits)} (or 'none')"
            )


@dataclass(frozen=True, eq=False, repr=False)
class Summary:
    """Items summarized by group (each step returns a new summary); ``long``: the long format."""

    table: str
    by: str
    grouping: Grouping
    blocks: tuple[ItemBlock, ...]
    title: str = ""
    decimals: int = 1
    notes: tuple[str, ...] = ()
    synthetic: bool = False
    tests: tuple[Record | None, ...] | None = None
    seed: int | None = DEFAULT_SEED
    comparison: str | None = None
    q: tuple[float, ...] | None = None
    q_note: str = ""
    row_notes: tuple[tuple[tuple[str, ...], str], ...] = ()

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups compared, in column order."""
        return self.grouping.columns[1:]

    @property
    def reference(self) -> str:
        return self.grouping.reference

    @property
    def level_groups(self) -> tuple[str, ...]:
        """The groups a row's own test compares (of three or more: the difference's two)."""
        if self.comparison is None or len(self.groups) <= 2:
            return self.groups
        return tuple(g for g in self.groups if g in (self.comparison, self.reference))

    @functools.cached_property
    def long(self) -> pd.DataFrame:
        """The long format (:mod:`ccanalysis.tables.counts`)."""
        g = self.grouping
        out = [
            record(self.table, "n", "", c, "n", m.sum())
            for c, m in zip(g.columns, g.masks, strict=True)
        ]
        for i, b in enumerate(self.blocks):
            p_row = level_p = diffs = None
            if self.tests is not None:
                p_row = self.tests[i]
                test = str(p_row["test"]).removesuffix("_mc") if p_row is not None else "none"
                level_p = b.level_tests(test, self.level_groups, self.seed)
            if self.comparison is not None:
                welch = p_row is not None and p_row["test"] in ("welch_t", "welch_anova")
                diffs = b.differences(self.comparison, self.reference, equal_var=not welch)
            out += b.records(self.table, p_row, diffs or (), self.comparison, level_p or ())
        long = long_frame(out)
        if self.q:
            long.loc[long["measure"] == "p", "q"] = self.q
        return long

    def add_p(
        self, test: str | Mapping[str, str] | None = None, *, seed: int | None = DEFAULT_SEED
    ) -> Summary:
        """Test each item's answer distribution by group (Fisher's exact r x c; Student's t or
        one-way ANOVA) and each printed level of an item of more than two answers against its
        other answers (``p_level``). ``test``: a test id replacing those of its kind or
        ``{item: test}``; ``seed``: a Monte Carlo p-value's."""
        check_tests(test, self.blocks)
        n = len(self.groups)
        ids = [resolve_test(b.rows[0], n, test) for b in self.blocks]
        tests = tuple(b.test(t, seed) for b, t in zip(self.blocks, ids, strict=True))
        return replace(self, tests=tests, seed=seed, q=None, q_note="")

    def add_difference(self, group: object | None = None) -> Summary:
        """``group`` (needed among three or more) minus the reference on every row: points with
        Newcombe's hybrid score 95% CI, or the mean difference with the t interval (Welch's where
        the item's test is)."""
        others = [g for g in self.groups if g != self.reference]
        comp = others[0] if group is None and len(others) == 1 else group_text(group)
        if comp not in others:
            raise ValueError(
                f"add_difference: name the group to compare with the reference "
                f"{self.reference!r}, one of {others} (not {group!r})"
            )
        return replace(self, comparison=comp)

    def add_q(self, family: str | None = None) -> Summary:
        """Benjamini-Hochberg q-values across this table's tests (``family``: named in the note)."""
        return add_q_across(self, family=family)[0]

    def render(
        self, fmt: str = "html", *, extras: bool | None = None, suppress_below: int | None = None
    ) -> str | bytes:
        """The table as ``html``, ``md``, ``tex`` or ``docx`` (bytes); ``extras``: the difference,
        P (row) and q columns (default: when added); ``suppress_below=k``: counts below k
        withheld."""
        if fmt not in formats.FORMATS:
            raise ValueError(f"unknown format {fmt!r} ({', '.join(formats.FORMATS)})")
        return formats.FORMATS[fmt](grid(self, extras=extras, suppress_below=suppress_below))

    def write(
        self,
        outdir: str | Path,
        name: str,
        *,
        extras: bool | None = None,
        suppress_below: int | None = None,
    ) -> dict[str, Path]:
        """Write ``<name>.csv`` (long) and every format into ``outdir``; the paths by extension."""
        g = grid(self, extras=extras, suppress_below=suppress_below)
        csv = write_text(Path(outdir) / f"{name}.csv", formats.long_csv(self.long, suppress_below))
        files = {"csv": csv}
        for ext, fmt in formats.FORMATS.items():
            data, path = fmt(g), Path(outdir) / f"{name}.{ext}"
            files[ext] = (write_bytes if isinstance(data, bytes) else write_text)(path, data)
        return files

    def _repr_html_(self) -> str:
        return str(self.render("html"))

    def __repr__(self) -> str:  # in a terminal: what it is, not its arrays
        return f"<Summary {self.title!r}: {len(self.blocks)} items by {self.by!r}>"


def add_q_across(*summaries: Summary, family: str | None = None) -> tuple[Summary, ...]:
    """The summaries with Benjamini-Hochberg q-values across all their tests, a ``family``."""
    for s in summaries:
        if s.tests is None:
            raise ValueError(f"add_q: {s.table} has no p-values to adjust; call add_p() first")
    p = [[float(t["value"]) for t in s.tests if t is not None] for s in summaries]
    q = iter(stats.bh_qvalues(sum(p, [])) if any(p) else [])
    note = "q: Benjamini-Hochberg q-value across the tests of this table."
    if family is not None:
        names = [re.sub(r"^table(\d+)$", r"Table \1", s.table) for s in summaries]
        note = (
            f"q: Benjamini-Hochberg q-value across the {len(sum(p, []))} tests of the "
            f"pre-specified family {family!r} ({' and '.join(dict.fromkeys(names))})."
        )
    return tuple(
        replace(s, q=tuple(float(next(q)) for _ in ps), q_note=note)
        for s, ps in zip(summaries, p, strict=True)
    )


def check_answers(frame: pd.DataFrame, rows: Sequence[SpecRow], where: str) -> None:
    """Stop on an item ``frame`` lacks or a value outside an item's coded answers (or no number)."""
    for item, r in {r.item: r for r in rows}.items():
        if item not in frame.columns:
            line = f" (specification line {r.line})" if r.line else ""
            hint = did_you_mean(item, list(frame.columns))
            raise KeyError(f"{where}: the frame has no column {item!r}{line}{hint}")
        values = pd.Series(pd.unique(frame[item].dropna().astype("object")), dtype="object")
        if r.continuous:
            bad, expected = values[pd.to_numeric(values, errors="coerce").isna()], "numbers"
        elif r.item_levels:
            bad, expected = values[~values.map(str).isin(r.item_levels)], list(r.item_levels)
        else:
            continue
        if len(bad):
            found = sorted({str(v) for v in bad})
            n = int(frame[item].astype("object").isin(list(bad)).sum())
            raise ValueError(
                f"summarize: {item!r} has {n} values outside its coded answers: "
                f"{found[:5]}{' ...' if len(found) > 5 else ''}; expected {expected} (the data "
                "dictionary's; read the export with ccanalysis.instrument, or map the values back)"
            )


def mark_uncalibrated(s: Summary, export_dir: str | Path | None = None) -> Summary:
    """``s`` with a footnote (a sign on their rows) on its items the synthetic stand-in drew
    without a printed number."""
    folder = Paths.of().export.parent if export_dir is None else Path(export_dir)
    table = read_uncalibrated(folder).set_index("item")
    flagged = table["distribution"]
    items = [b.item for b in s.blocks if b.item in flagged.index]
    drawn = "; ".join(f"{i}: {flagged[i]}" if flagged[i] else i for i in items)
    note = f"Synthetic answers not calibrated to a printed number ({drawn})."
    if any(table.loc[i, "field"] not in ("", i) for i in items):  # a box of a checkbox question
        note += (
            " A check-all-that-apply question with no box checked counts as unanswered: a box's "
            "percentage is of those who checked at least one box, its declared probability of all."
        )
    return replace(s, row_notes=((tuple(items), note),)) if items else s


def from_rows(
    frame: pd.DataFrame,
    rows: Sequence[SpecRow],
    by: str,
    *,
    table: str,
    title: str | None = None,
    population: str | None = None,
    decimals: int = 1,
    notes: Sequence[str] = (),
    synthetic: bool = False,
    export_dir: str | Path | None = None,
    **split: object,
) -> Summary:
    """A summary of ``frame`` by ``by`` printing specification ``rows`` (``split``: to
    :func:`grouping`), noted with an alternative care model definition and, on synthetic data,
    the uncalibrated items (:func:`mark_uncalibrated`)."""
    if by in {r.item for r in rows}:
        raise ValueError(f"summarize: {by!r} is both an item and the column to group by")
    g = grouping(frame, by, **split)  # type: ignore[arg-type]
    check_answers(frame, rows, table)
    kept = frame.loc[g.codes >= 0].reset_index(drop=True) if g.left_out else frame
    by_item: dict[str, list[SpecRow]] = {}
    for r in rows:
        by_item.setdefault(r.item, []).append(r)
    blocks = tuple(item_block(kept, g.columns, g.masks, rs, table) for rs in by_item.values())
    if title is None:
        names = [g.labels[x] for x in g.columns[1:]]
        title = ("" if names != list(g.columns[1:]) else f"{by}: ") + " vs ".join(names)
    title = f"{title} – {population}" if population else title
    definition = definition_of(frame)
    if definition.id != DEFAULT_DEFINITION:  # say which care models the rows and columns are
        notes = (*notes, describe(definition))
    s = Summary(table, by, g, blocks, title, decimals, tuple(notes), synthetic)
    return mark_uncalibrated(s, export_dir) if synthetic else s


def summarize(
    frame: pd.DataFrame,
    items: Sequence[str],
    by: str,
    *,
    labels: Mapping[object, str] | None = None,
    reference: object | None = None,
    show: Mapping[str, str | Sequence[str]] | None = None,
    instrument: Instrument | str | Path | None = None,
    table: str = "summary",
    title: str | None = None,
    population: str | None = None,
    max_groups: int | None = None,
    synthetic: bool = False,
    export_dir: str | Path | None = None,
) -> Summary:
    """Summarize ``items`` (analysis items of the data dictionary, ``instrument``: the project's
    by default) of ``frame`` by its column ``by``. ``labels``, ``reference``, ``max_groups``: as
    :func:`grouping`; ``show``: as :func:`item_rows`; ``title``, else the groups, and
    ``population`` (``"rural clinics"``) title it; ``synthetic``: the label and footnote."""
    inst = as_instrument(instrument)
    rows = item_rows(items, show=show, table=table, instrument=inst)
    split = dict(labels=labels, reference=reference, instrument=inst, max_groups=max_groups)
    return from_rows(
        frame,
        rows,
        by,
        table=table,
        title=title,
        population=population,
        synthetic=synthetic,
        export_dir=export_dir,
        **split,
    )
