"""The printed grid of a table, as the paper lays it out, shared by every renderer.

:func:`display` turns a long table and its specification rows into a :class:`Display`: the header
(a column per group, ``P``, and with ``extras`` the difference and q columns), the N row, section
headers, indented rows under them, the p-value on the first row of an item (on the section header
when the section is that one item), and the footnotes: the tests, the denominators where answers
are missing, the specification's own footnotes, the synthetic-data label and, in privacy mode
(``suppress_below=k``), counts of 1 to k - 1 printed as ``<k``.

Rounding (documented rule): numbers are rounded half up on their shortest decimal representation
(``repr``), so 12.5 % prints as 13 and p = 0.0535 as 0.054; p-values as
:func:`ccanalysis.printing.format_p` prints them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ccanalysis.printing import format_p, round_half_up
from ccanalysis.privacy import is_small
from ccanalysis.spec import SpecRow
from ccanalysis.tables.build import ALL, MC_NOTE_RE, NO_ANSWERS
from ccanalysis.vocab import GROUP_LABELS, SHORT_LABELS, SYNTHETIC_LABEL, TOTAL

TEST_TEXT: dict[str, str] = {
    "fisher": "Fisher's exact test (two-sided, exact r x c as R's fisher.test) on the full answer "
    "distribution of the item by group; for rows that combine answer levels, P refers to all levels",
    "fisher_mc": "Fisher's exact test with a Monte Carlo p-value (exact enumeration too large) on "
    "the full answer distribution of the item by group",
    "chisq": "Pearson's chi-squared test on the full answer distribution of the item by group",
    "chisq_yates": "Pearson's chi-squared test with Yates' correction (2 x 2 tables) on the full "
    "answer distribution of the item by group",
    "student_t": "Student's t-test (equal variances)",
    "welch_t": "Welch's t-test",
    "anova": "one-way ANOVA (F test)",
    "welch_anova": "Welch's one-way ANOVA",
}


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


def format_n_pct(n: float, pct: float, decimals: int) -> str:
    """``"88 (41.3)"``."""
    if math.isnan(pct):
        return f"{int(n)} (–)"
    return f"{int(n)} ({round_half_up(pct, decimals)})"


def format_mean_sd(mean: float, sd: float, decimals: int = 1) -> str:
    """``"4.8 (4.4)"``; the SD part is omitted for a single answer."""
    if math.isnan(mean):
        return "–"
    if math.isnan(sd):
        return round_half_up(mean, decimals)
    return f"{round_half_up(mean, decimals)} ({round_half_up(sd, decimals)})"


def format_diff(d: float, lo: float, hi: float, decimals: int, unit: str) -> str:
    """``"12.3 pp (1.0 to 22.9)"``; empty when there is no difference."""
    if math.isnan(d):
        return ""
    r = round_half_up
    return f"{r(d, decimals)}{unit} ({r(lo, decimals)} to {r(hi, decimals)})"


# ---------------------------------------------------------------------------------------------
# The display grid
# ---------------------------------------------------------------------------------------------


@dataclass
class DisplayRow:
    kind: str  # "n" | "section" | "row"
    label: str
    indent: int = 0
    cells: list[str] = field(default_factory=list)
    p: str = ""
    extras: list[str] = field(default_factory=list)


@dataclass
class Display:
    table: str
    title: str
    header: list[str]
    rows: list[DisplayRow]
    notes: list[str]
    synthetic: bool
    n_extras: int


def cells(row: DisplayRow, has_p: bool) -> list[str]:
    """A row's cells after its label: the groups, P (when the table has one), the extras."""
    return row.cells + ([row.p] if has_p else []) + row.extras


def _mc_detail(table_long: pd.DataFrame) -> str:
    """How the table's Monte Carlo p-values were drawn: tables, seed, largest standard error."""
    found = [
        MC_NOTE_RE.search(str(n)) for n in table_long.loc[table_long["test"] == "fisher_mc", "note"]
    ]
    found = [m for m in found if m]
    if not found:
        return ""
    samples = sorted({int(m.group(1)) for m in found})
    se = max(float(m.group(2)) for m in found)
    return (
        f"; {' or '.join(f'{n:,}' for n in samples)} random tables drawn from the run's seed "
        f"(the same p-values on every run), standard error at most {se:.1g}"
    )


@dataclass(frozen=True)
class Layout:
    """A table's layout beside its rows: the ``columns`` it may have (total first; those
    without a row in the long table are left out), their header ``labels`` and ``short`` labels,
    the ``comparison`` (group, reference) of the difference column, the ``title``, the
    ``decimals`` of percentages, the ``notes`` that open the footnotes, the ``q_note`` that says
    which family the q-values adjust for, ``row_notes``: ``(items, text)``, a footnote marked
    on the rows of those items, and ``level_groups``: the groups the level tests (P (row))
    compare when not every group (the two a difference compares among three or more)."""

    title: str
    columns: tuple[str, ...]
    comparison: tuple[str, str]
    decimals: int = 1
    notes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: GROUP_LABELS)
    short: Mapping[str, str] = field(default_factory=lambda: SHORT_LABELS)
    q_note: str = ""
    row_notes: tuple[tuple[tuple[str, ...], str], ...] = ()
    level_groups: tuple[str, ...] = ()


#: The signs of :attr:`Layout.row_notes`, in order.
MARKS = ("†", "‡", "§", "¶")
#: The extra columns after P (``extras``).
EXTRA_HEADERS = ("Difference {comp} – {ref} (95% CI)", "P (row)", "q")
DEFAULT_Q_NOTE = "q: Benjamini-Hochberg q-value across the tests of this table."
LEVEL_TEST_TEXT: dict[str, str] = {
    "fisher": "Fisher's exact test",
    "fisher_mc": "Fisher's exact test (Monte Carlo p-value)",
    "chisq": "Pearson's chi-squared test",
    "chisq_yates": "Pearson's chi-squared test with Yates' correction",
}


class _Grid:
    """The cells of one table, looked up in its long frame (see :func:`display`)."""

    def __init__(
        self, table_long: pd.DataFrame, layout: Layout, extras: bool, k: int | None
    ) -> None:
        self.layout, self.extras, self.k = layout, extras, k
        present = set(table_long["group"])
        self.groups = [g for g in layout.columns if g in present]
        self.lookup: dict[tuple[str, str, str, str], tuple] = {
            (r.item, r.level, r.group, r.measure): r
            for r in table_long.fillna({"level": ""}).itertuples(index=False)
        }
        self.suppressed = False
        self.marks = {
            item: MARKS[i % len(MARKS)] * (1 + i // len(MARKS))
            for i, (items, _text) in enumerate(layout.row_notes)
            for item in items
        }

    def row(self, item: str, level: str, group: str, measure: str) -> tuple | None:
        return self.lookup.get((item, level, group, measure))

    def val(self, item: str, level: str, group: str, measure: str) -> float:
        r = self.row(item, level, group, measure)
        return math.nan if r is None else float(r.value)

    def small(self, n: float) -> bool:
        """A count withheld in privacy mode (noted once in the footnotes)."""
        if is_small(n, self.k):
            self.suppressed = True
            return True
        return False

    def empty(self, item: str, level: str) -> bool:
        """The item has no answers at all (its rows are kept, marked)."""
        r = self.row(item, level, TOTAL, "denom")
        return r is not None and getattr(r, "note", "") == NO_ANSWERS

    def n_cells(self) -> list[str]:
        return [
            f"<{self.k}" if self.small(n) else str(int(n))
            for n in (self.val("n", "", g, "n") for g in self.groups)
        ]

    def cells(self, r: SpecRow) -> list[str]:
        """A row's group cells: mean (SD), n (%) or %, ``<k`` where withheld."""
        item, level, out = r.item, r.level, []
        if self.empty(item, level):
            return ["no answers" if g == TOTAL else "–" for g in self.groups]
        for g in self.groups:
            if r.continuous:
                if self.small(self.val(item, level, g, "denom")):
                    out.append(f"<{self.k}")
                else:
                    mean, sd = self.val(item, level, g, "mean"), self.val(item, level, g, "sd")
                    out.append(format_mean_sd(mean, sd))
                continue
            n, pct = self.val(item, level, g, "n"), self.val(item, level, g, "pct")
            if self.small(n):
                out.append(f"<{self.k}")
            elif r.stat == "n_pct":
                out.append(format_n_pct(n, pct, self.layout.decimals))
            else:
                out.append(round_half_up(pct, self.layout.decimals) if not math.isnan(pct) else "–")
        return out

    def diff(self, r: SpecRow) -> str:
        """The row's difference with its interval (comparison group minus reference)."""
        cr = self.row(r.item, r.level, self.layout.comparison[0], "mean" if r.continuous else "pct")
        if cr is None:
            return ""
        unit = "" if r.continuous else " pp"
        return format_diff(float(cr.diff), float(cr.diff_lo), float(cr.diff_hi), 1, unit)

    def level_p(self, r: SpecRow) -> tuple[str, str]:
        """The row's own p-value as printed and the id of its test ('' where there is none)."""
        tr = None if r.continuous else self.row(r.item, r.level, TOTAL, "pct")
        p = float(getattr(tr, "p_level", math.nan)) if tr is not None else math.nan
        if math.isnan(p):
            return "", ""
        return format_p(p), str(getattr(tr, "test_level", ""))


def display(
    table_long: pd.DataFrame,
    rows: Sequence[SpecRow],
    layout: Layout,
    *,
    synthetic: bool,
    extras: bool,
    suppress_below: int | None,
) -> Display:
    """The grid of one table (its long frame and its specification rows, in printed order)."""
    if suppress_below is not None and suppress_below < 2:
        raise ValueError("suppress_below must be at least 2")
    tables = table_long["table"].unique()
    if len(tables) != 1:
        raise ValueError(f"render one table at a time, got {list(tables)}")
    table_id = str(tables[0])
    grid = _Grid(table_long, layout, extras, suppress_below)
    groups = grid.groups
    comp, ref = layout.comparison
    has_p = bool((table_long["measure"] == "p").any())
    header = ["Characteristic"] + [layout.labels.get(g, g) for g in groups]
    if has_p:
        header.append("P")
    n_extras = len(EXTRA_HEADERS) if extras else 0
    if extras:
        short = {"comp": layout.short[comp], "ref": layout.short[ref]}
        header += [h.format(**short) for h in EXTRA_HEADERS]
    out = [DisplayRow("n", "N", 0, grid.n_cells(), "", [""] * n_extras)]
    tests_used: list[str] = []
    level_tests: list[str] = []
    missing_notes: list[str] = []
    empty_notes: list[str] = []
    footnotes: list[str] = []
    n_total = grid.val("n", "", TOTAL, "n")
    section_now = None
    by_item: dict[str, list[SpecRow]] = {}
    section_items: dict[str, set[str]] = {}
    for r in rows:
        by_item.setdefault(r.item, []).append(r)
        section_items.setdefault(r.section, set()).add(r.item)
    for item, irows in by_item.items():
        first = irows[0]
        section = first.section
        prow = grid.row(item, "", ALL, "p")
        p_text = format_p(float(prow.value)) if prow is not None else ""
        q_text = format_p(float(prow.q)) if prow is not None and extras else ""
        if prow is not None and isinstance(prow.test, str) and prow.test not in ("", *tests_used):
            tests_used.append(prow.test)
        own_section = bool(section) and len(section_items[section]) == 1 and len(irows) > 1
        mark = grid.marks.get(item, "")
        if section != section_now:
            section_now = section
            if section:
                ext = ["", "", q_text if own_section else ""][:n_extras]
                label = section + (mark if own_section else "")
                p_cell = p_text if own_section else ""
                out.append(DisplayRow("section", label, 0, [""] * len(groups), p_cell, ext))
        if first.footnote and first.footnote not in footnotes:
            footnotes.append(first.footnote)
        for j, r in enumerate(irows):
            first_row = j == 0 and not own_section
            ext = []
            if extras:
                level_text, level_test = grid.level_p(r)
                if level_test and level_test not in level_tests:
                    level_tests.append(level_test)
                ext = [grid.diff(r), level_text, q_text if first_row else ""]
            label = r.label + ("" if own_section else mark)
            cells = grid.cells(r)
            p_cell = p_text if first_row else ""
            out.append(DisplayRow("row", label, 1 if section else 0, cells, p_cell, ext))
            if j == 0:
                d = grid.val(item, r.level, TOTAL, "denom")
                line = f", specification line {r.line}" if r.line else ""
                if grid.empty(item, r.level):
                    empty_notes.append(f"{item}{line}")
                elif not r.all_denominator and not math.isnan(d) and d < n_total:
                    missing_notes.append(f"{item}: {int(d)} answers")
    notes: list[str] = []
    if synthetic:
        notes.append(SYNTHETIC_LABEL)
    notes += layout.notes
    for t in tests_used:
        notes.append(
            f"P: {TEST_TEXT.get(t, t)}{_mc_detail(table_long) if t == 'fisher_mc' else ''}."
        )
    notes.append(
        "Percentages are of the answers given (missing answers left out item by item)"
        + (
            ", except where a footnote says otherwise."
            if any(r.all_denominator for r in rows)
            else "."
        )
    )
    if missing_notes:
        notes.append(
            f"Answers, where fewer than N = {int(n_total)}: " + "; ".join(missing_notes) + "."
        )
    if empty_notes:
        notes.append(
            "No answers in these data (the row is kept, with no percentage and no test): "
            + "; ".join(empty_notes)
            + "."
        )
    notes += footnotes
    for items, text in layout.row_notes:
        notes.append(f"{grid.marks[items[0]]} {text}")
    if extras:
        notes += _extras_notes(layout, level_tests)
    if suppress_below is not None:
        k = suppress_below
        notes.append(
            f"<{k}: a count from 1 to {k - 1} (or a mean of fewer than {k} answers), "
            "withheld to protect respondents' privacy"
            + ("." if grid.suppressed else "; none in this table.")
        )
    return Display(table_id, layout.title, header, out, notes, synthetic, n_extras)


def _extras_notes(layout: Layout, level_tests: Sequence[str]) -> list[str]:
    """What the difference, P (row) and q columns hold."""
    comp, ref = layout.comparison
    notes = [
        f"Difference {layout.short[comp]} – {layout.short[ref]}: "
        f"{layout.labels[comp]} minus {layout.labels[ref]}; percentage "
        "points (pp) with Newcombe's hybrid score 95% CI, or mean difference with the "
        "t interval."
    ]
    if level_tests:
        tests = " or ".join(LEVEL_TEST_TEXT.get(t, t) for t in level_tests)
        by = "by group"
        if layout.level_groups:
            pair = " and ".join(layout.short[g] for g in layout.level_groups)
            by = f"in the two groups the difference compares ({pair})"
        notes.append(
            f"P (row): {tests} of the row's answer level (or the levels it adds up) against all "
            f"other answers, {by}: the hypothesis the row's difference estimates (an exact test "
            "beside a score interval: near 0.05 the two can disagree). P tests the whole answer "
            "distribution of the item. P (row) is blank where the item has two answers (P is then "
            "that test) or is a mean."
        )
    notes.append(layout.q_note or DEFAULT_Q_NOTE)
    return notes
