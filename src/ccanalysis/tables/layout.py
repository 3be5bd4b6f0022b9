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
from ccanalysis.tables.build import ALL, MC_NOTE_RE
from ccanalysis.vocab import GROUP_LABELS, SHORT_LABELS, SYNTHETIC_LABEL

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
    ``decimals`` of percentages and the ``notes`` that open the footnotes."""

    title: str
    columns: tuple[str, ...]
    comparison: tuple[str, str]
    decimals: int = 1
    notes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: GROUP_LABELS)
    short: Mapping[str, str] = field(default_factory=lambda: SHORT_LABELS)


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
    present = set(table_long["group"])
    groups = [g for g in layout.columns if g in present]
    comp, ref = layout.comparison
    decimals = layout.decimals
    has_p = bool((table_long["measure"] == "p").any())
    k = suppress_below

    lookup: dict[tuple[str, str, str, str], tuple] = {
        (r.item, r.level, r.group, r.measure): r
        for r in table_long.fillna({"level": ""}).itertuples(index=False)
    }

    def val(item: str, level: str, group: str, measure: str) -> float:
        r = lookup.get((item, level, group, measure))
        return math.nan if r is None else float(r.value)

    header = ["Characteristic"] + [layout.labels.get(g, g) for g in groups]
    if has_p:
        header.append("P")
    n_extras = 0
    if extras:
        header += [f"Difference {layout.short[comp]} – {layout.short[ref]} (95% CI)", "q"]
        n_extras = 2
    out: list[DisplayRow] = []
    suppressed = False
    n_cells = []
    for g in groups:
        n = val("n", "", g, "n")
        if is_small(n, k):
            suppressed = True
            n_cells.append(f"<{k}")
        else:
            n_cells.append(str(int(n)))
    out.append(DisplayRow("n", "N", 0, n_cells, "", [""] * n_extras))
    tests_used: list[str] = []
    missing_notes: list[str] = []
    footnotes: list[str] = []
    n_total = val("n", "", "total", "n")
    section_now = None
    by_item: dict[str, list[SpecRow]] = {}
    for r in rows:
        by_item.setdefault(r.item, []).append(r)
    section_items: dict[str, set[str]] = {}
    for r in rows:
        section_items.setdefault(r.section, set()).add(r.item)
    for item, irows in by_item.items():
        first = irows[0]
        section = first.section
        prow = lookup.get((item, "", ALL, "p"))
        p_text = format_p(float(prow.value)) if prow is not None else ""
        q_text = format_p(float(prow.q)) if prow is not None and extras else ""
        if (
            prow is not None
            and isinstance(prow.test, str)
            and prow.test
            and prow.test not in tests_used
        ):
            tests_used.append(prow.test)
        own_section = bool(section) and len(section_items[section]) == 1 and len(irows) > 1
        if section != section_now:
            section_now = section
            if section:
                out.append(
                    DisplayRow(
                        "section",
                        section,
                        0,
                        [""] * len(groups),
                        p_text if own_section else "",
                        ["", q_text if own_section else ""][:n_extras],
                    )
                )
        if first.footnote and first.footnote not in footnotes:
            footnotes.append(first.footnote)
        continuous = first.continuous
        for j, r in enumerate(irows):
            level = r.level
            row_cells = []
            for g in groups:
                if continuous:
                    d = val(item, level, g, "denom")
                    if is_small(d, k):
                        suppressed = True
                        row_cells.append(f"<{k}")
                    else:
                        row_cells.append(
                            format_mean_sd(val(item, level, g, "mean"), val(item, level, g, "sd"))
                        )
                    continue
                n, pct = val(item, level, g, "n"), val(item, level, g, "pct")
                if is_small(n, k):
                    suppressed = True
                    row_cells.append(f"<{k}")
                elif r.stat == "n_pct":
                    row_cells.append(format_n_pct(n, pct, decimals))
                else:
                    row_cells.append(round_half_up(pct, decimals) if not math.isnan(pct) else "–")
            first_row = j == 0 and not own_section
            ext: list[str] = []
            if extras:
                m = "mean" if continuous else "pct"
                cr = lookup.get((item, level, comp, m))
                diff = (
                    ""
                    if cr is None
                    else format_diff(
                        float(cr.diff),
                        float(cr.diff_lo),
                        float(cr.diff_hi),
                        1,
                        "" if continuous else " pp",
                    )
                )
                ext = [diff, q_text if first_row else ""]
            out.append(
                DisplayRow(
                    "row", r.label, 1 if section else 0, row_cells, p_text if first_row else "", ext
                )
            )
            if j == 0:
                d = val(item, level, "total", "denom")
                if not r.all_denominator and not math.isnan(d) and d < n_total:
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
    notes += footnotes
    if extras:
        notes.append(
            f"Difference {layout.short[comp]} – {layout.short[ref]}: "
            f"{layout.labels[comp]} minus {layout.labels[ref]}; percentage "
            "points (pp) with Newcombe's hybrid score 95% CI, or mean difference with the "
            "t interval. q: Benjamini-Hochberg q-value across the tests of this table."
        )
    if k is not None:
        notes.append(
            f"<{k}: a count from 1 to {k - 1} (or a mean of fewer than {k} answers), "
            "withheld to protect respondents' privacy"
            + ("." if suppressed else "; none in this table.")
        )
    return Display(table_id, layout.title, header, out, notes, synthetic, n_extras)
