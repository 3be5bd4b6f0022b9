"""The printed grid of a summary as the paper lays a table out, which every format prints: N row,
sections, P on an item's first row, with ``extras`` the difference, P (row) and q columns, then
the footnotes. Numbers are rounded half up; with ``suppress_below=k`` counts below k print ``<k``."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ccanalysis.printing import format_p, round_half_up, signed
from ccanalysis.privacy import is_small
from ccanalysis.tables.counts import ALL
from ccanalysis.vocab import SYNTHETIC_LABEL, TOTAL

if TYPE_CHECKING:
    from ccanalysis.spec import SpecRow
    from ccanalysis.tables.summary import Summary

#: What the P footnote says of each test (P tests the item's whole answer distribution).
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
#: The signs of a summary's footnoted rows (four at most).
MARKS = ("†", "‡", "§", "¶")
#: The columns after P (``extras``).
EXTRA_HEADERS = ("Difference {comp} – {ref} (95% CI), pp or mean", "P (row)", "q")


@dataclass
class GridRow:
    """One printed row: ``kind`` (``n``, ``section`` or ``row``), label, indent, the cells after
    the label, its :func:`anchor` and each cell's counts (``n/N``, or empty)."""

    kind: str
    label: str
    indent: int
    cells: list[str]
    anchor: str = ""
    counts: list[str] = field(default_factory=list)


@dataclass
class Grid:
    """A table as printed: ``table`` (its id), ``title``, ``header``, ``rows`` and ``notes``."""

    table: str
    title: str
    header: list[str]
    rows: list[GridRow]
    notes: list[str]
    synthetic: bool
    keys: list[str] = field(default_factory=list)  # each column's group, "p", or an extra's name


def anchor(table: str, item: str, level: str = "") -> str:
    """The id of a table's row: ``t3-svc_social_needs`` (an item), ``t3-item-level`` (a level)."""
    return "-".join([re.sub(r"^table(?=\d)", "t", table), item] + [level] * bool(level))


#: The markers of the P column's tests in a table's footnotes, in their order.
TEST_MARKS = "abcdefgh"


def format_n_pct(n: float, pct: float, decimals: int) -> str:
    """``"88 (41.3)"``."""
    return f"{int(n)} ({'–' if math.isnan(pct) else round_half_up(pct, decimals)})"


def format_mean_sd(mean: float, sd: float, decimals: int = 1) -> str:
    """``"4.8 (4.4)"``; the SD is left out for a single answer."""
    if math.isnan(mean):
        return "–"
    if math.isnan(sd):
        return round_half_up(mean, decimals)
    return f"{round_half_up(mean, decimals)} ({round_half_up(sd, decimals)})"


def grid(s: Summary, *, extras: bool | None = None, suppress_below: int | None = None) -> Grid:
    """The printed grid of ``s`` (``extras`` by default when added)."""
    if extras is None:
        extras = s.comparison is not None or s.q is not None
    k = suppress_below
    if k is not None and k < 2:
        raise ValueError("suppress_below must be at least 2")
    long, g = s.long, s.grouping
    cell = {(r.item, r.level, r.group, r.measure): r for r in long.itertuples(index=False)}
    columns = g.columns
    ref = g.reference
    comp = s.comparison or next(x for x in s.groups if x != ref)
    suppressed = []
    # the extra columns a row fills (no P (row) of two-answer items, no q before add_q)
    shown = [extras and bool(long[c].notna().any()) for c in ("diff", "p_level", "q")]

    def extra(*cells: str) -> list[str]:
        return [c for c, on in zip(cells, shown, strict=True) if on]

    def val(item: str, level: str, group: str, measure: str) -> float:
        r = cell.get((item, level, group, measure))
        return math.nan if r is None else float(r.value)

    def small(n: float) -> bool:  # noted, for the footnote on withheld counts
        suppressed.append(is_small(n, k))
        return suppressed[-1]

    def counts(r: SpecRow) -> list[str]:
        """``n/N`` of each group's cell (empty for a mean or a withheld count)."""
        ns = [(val(r.item, r.level, c, "n"), val(r.item, r.level, c, "denom")) for c in columns]
        hidden = r.continuous or k is not None
        return ["" if hidden or math.isnan(n) else f"{int(n)}/{int(d)}" for n, d in ns]

    def group_cells(r: SpecRow, unanswered: bool) -> list[str]:
        if unanswered:
            return ["no answers" if c == TOTAL else "–" for c in columns]
        out = []
        for c in columns:
            n = val(r.item, r.level, c, "denom" if r.continuous else "n")
            pct = val(r.item, r.level, c, "pct")
            if small(n):
                out.append(f"<{k}")
            elif r.continuous:
                out.append(format_mean_sd(*(val(r.item, r.level, c, m) for m in ("mean", "sd"))))
            elif r.stat == "n_pct":
                out.append(format_n_pct(n, pct, s.decimals))
            else:
                out.append("–" if math.isnan(pct) else round_half_up(pct, s.decimals))
        return out

    def difference(r: SpecRow) -> str:
        row = cell.get((r.item, r.level, comp, "mean" if r.continuous else "pct"))
        if row is None or math.isnan(row.diff):
            return ""
        d, lo, hi = (signed(x) for x in (row.diff, row.diff_lo, row.diff_hi))
        return f"{d} ({lo} to {hi})"

    is_p = long["measure"] == "p"
    has_p = bool(is_p.any())
    tests = list(dict.fromkeys(long.loc[is_p & (long["test"] != ""), "test"]))  # marked a, b ...
    header = ["Characteristic"] + [g.labels.get(c, c) for c in columns] + ["P"] * has_p
    header += extra(*(h.format(comp=g.short[comp], ref=g.short[ref]) for h in EXTRA_HEADERS))
    ns = [val("n", "", c, "n") for c in columns]
    n_cells = [f"<{k}" if small(n) else str(int(n)) for n in ns] + [""] * has_p + extra("", "", "")
    rows = [GridRow("n", "N", 0, n_cells, anchor(s.table, "n"))]
    marks = {item: MARKS[i] for i, (items, _) in enumerate(s.row_notes) for item in items}
    missing, empties, footnotes = [], [], []
    n_total = ns[0]
    items_in = Counter(b.rows[0].section for b in s.blocks)
    section_now = None
    for b in s.blocks:
        first, item = b.rows[0], b.item
        prow = cell.get((item, "", ALL, "p"))
        q_text = format_p(float(prow.q)) if prow is not None else ""
        p_text = format_p(float(prow.value)) if prow is not None else ""
        if p_text and prow.test:  # the test's marker, its footnote's
            p_text += TEST_MARKS[tests.index(prow.test)]
        own_section = bool(first.section) and items_in[first.section] == 1 and len(b.rows) > 1
        mark = marks.get(item, "")
        if first.section != section_now:
            section_now = first.section
            if section_now:
                label = section_now + (mark if own_section else "")
                head = ["" for _ in columns] + [p_text if own_section else ""] * has_p
                head += extra("", "", q_text if own_section else "")
                own = anchor(s.table, item) if own_section else ""
                rows.append(GridRow("section", label, 0, head, own))
        if first.footnote and first.footnote not in footnotes:
            footnotes.append(first.footnote)
        for j, r in enumerate(b.rows):
            first_row = j == 0 and not own_section
            cells = group_cells(r, b.answers == 0) + [p_text if first_row else ""] * has_p
            tr = None if r.continuous else cell.get((r.item, r.level, TOTAL, "pct"))
            level_text = "" if tr is None else format_p(float(tr.p_level))
            cells += extra(difference(r), level_text, q_text if first_row else "")
            label = r.label + ("" if own_section else mark)
            level = r.level if len(b.rows) > 1 else ""
            indent = 1 if first.section else 0
            rows.append(
                GridRow("row", label, indent, cells, anchor(s.table, item, level), counts(r))
            )
        d = val(item, first.level, TOTAL, "denom")
        name = (first.section if own_section else first.label).rstrip(":")  # words, not the id
        if b.answers == 0:
            empties.append(name)
        elif not first.all_denominator and not math.isnan(d) and d < n_total:
            missing.append(f"{name}: {int(d)} answers")
    notes = [SYNTHETIC_LABEL] if s.synthetic else []
    notes += s.notes
    if g.left_out:
        notes.append(
            f"{g.left_out} {'row' if g.left_out == 1 else 'rows'} with no {s.by} value left out."
        )
    notes += [f"{TEST_MARKS[i]} P: {TEST_TEXT.get(t, t)}." for i, t in enumerate(tests)]
    every = any(b.rows[0].all_denominator for b in s.blocks)  # an item's rows agree on it
    notes.append(
        "Percentages are of the answers given (missing answers left out item by item)"
        + (", except where a footnote says otherwise." if every else ".")
    )
    if missing:
        notes.append(f"Answers, where fewer than N = {int(n_total)}: {'; '.join(missing)}.")
    if empties:
        notes.append(
            "No answers in these data (the row is kept, with no percentage and no test): "
            f"{'; '.join(empties)}."
        )
    notes += footnotes
    notes += [f"{marks[items[0]]} {text}" for items, text in s.row_notes]
    if extras:
        notes += extras_notes(s, comp)
    if k is not None:
        none = "." if any(suppressed) else "; none in this table."
        notes.append(
            f"<{k}: a count from 1 to {k - 1} (or a mean of fewer than {k} answers), "
            f"withheld to protect respondents' privacy{none}"
        )
    keys = ["", *columns, *["p"] * has_p, *extra("diff", "p_row", "q")]
    return Grid(s.table, s.title, header, rows, notes, s.synthetic, keys)


def extras_notes(s: Summary, comp: str) -> list[str]:
    """What the difference, P (row) and q columns hold."""
    g, ref = s.grouping, s.reference
    level_tests = dict.fromkeys(s.long.loc[s.long["p_level"].notna(), "test_level"])
    notes = [
        f"Difference {g.short[comp]} – {g.short[ref]}: {g.labels[comp]} minus {g.labels[ref]}; "
        "percentage points (pp) with Newcombe's hybrid score 95% CI, or mean difference with the "
        "t interval."
    ]
    if level_tests:
        # the test's name: its P footnote up to what it says of the whole answer distribution
        names = (TEST_TEXT.get(t, t).split(" (")[0].split(" on the full")[0] for t in level_tests)
        tests = " or ".join(names)
        by = "by group"
        if s.level_groups != s.groups:
            pair = " and ".join(g.short[x] for x in s.level_groups)
            by = f"in the two groups the difference compares ({pair})"
        notes.append(
            f"P (row): {tests} of the row's answer level (or the levels it adds up) against all "
            f"other answers, {by}: the hypothesis the row's difference estimates (an exact test "
            "beside a score interval: near 0.05 the two can disagree). P tests the whole answer "
            "distribution of the item. P (row) is blank where the item has two answers (P is then "
            "that test) or is a mean."
        )
    if s.q is not None:
        notes.append(s.q_note)
    return notes
