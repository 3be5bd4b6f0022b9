"""Tables 1-4 of Solberg et al. 2024, built from the processed frames by one specification.

The specification (``specs/tables.csv``, read by :func:`load_spec`) is the one description of the
layout: one row per printed row, with its table, section header, item, level, label, statistic
(``n_pct`` | ``pct`` | ``mean_sd``), how the item is shown (``binary`` | ``full`` | ``collapsed`` |
``mean_sd``), which answer levels a collapsed row adds up (``combine``, e.g. ``always+mostly``), the
test behind its p-value (``fisher`` | ``anova`` | ``student_t`` | ``none``), the denominator rule
(``answered``: the answers given, the default; ``all``: every unit of the group, a missing answer
counting as not the level, as Table 2 does for the criteria asked only after a yes) and an optional
footnote.

:func:`build_table` computes one table in the long format of DESIGN.md
(``table,item,level,group,measure,value``) followed by ``diff, diff_lo, diff_hi, q, test, note``:

* ``n`` rows: the N row (``item == "n"``, units per group) and the count of answers at a level;
  ``denom``: the answers counted in the percentage (for a mean: the answers averaged);
  ``pct``: 0-100, unrounded; ``mean``, ``sd`` (n - 1 denominator);
* ``p`` rows (empty level, group ``all``, unrounded): one test per item, on the item's FULL answer
  distribution by group (a collapsed row's p refers to all levels, as the paper's do); ``test`` is
  the id of the test that ran (``fisher``, ``fisher_mc``, ``student_t``, ``anova`` ...), ``q`` the
  Benjamini-Hochberg q-value across the tests of the table, ``note`` anything unusual;
* ``diff``, ``diff_lo``, ``diff_hi`` on the ``pct`` / ``mean`` rows of the comparison group
  (``isw``; Table 1 ``isw_only``): that group minus the reference group (``mn``; ``mn_only``), in
  percentage points with Newcombe's hybrid score 95% interval, or as a mean difference with the t
  interval (Welch's when the test is Welch's).

:func:`render` lays a table out as the paper does (N row on top, section headers, indented rows
under them, p on the first row of an item) in HTML, Markdown, LaTeX (booktabs) or Word, with
footnotes for the tests, the denominators where answers are missing, the synthetic-data label and,
in privacy mode (``suppress_below=k``), counts of 1 to k - 1 printed as ``<k``.
:func:`write_table` writes all of them atomically. Output is deterministic byte for byte.

Rounding (documented rule): numbers are rounded half up on their shortest decimal representation
(``repr``), so 12.5 % prints as 13 and p = 0.0535 as 0.054. P-values (:func:`format_p`): below
0.001 ``<0.001``; above 0.9 ``>0.9``; otherwise two significant digits but at most three decimals,
trailing zeros dropped (0.12849 -> 0.13, 0.0072 -> 0.007, 0.40 -> 0.4, 0.9 -> 0.9).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ccanalysis import spec as spec_mod
from ccanalysis import stats, vocab
from ccanalysis.instrument import Instrument
from ccanalysis.io import write_bytes, write_text
from ccanalysis.printing import format_p, round_half_up
from ccanalysis.privacy import is_small
from ccanalysis.spec import CATEGORICAL_TESTS, CONTINUOUS_TESTS, TESTS
from ccanalysis.vocab import DEFAULT_SEED, GROUP_LABELS, SHORT_LABELS, SYNTHETIC_LABEL, TOTAL

if TYPE_CHECKING:
    import jinja2

# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

#: The interface columns of DESIGN.md, always first, in this order.
LONG_COLUMNS: tuple[str, ...] = ("table", "item", "level", "group", "measure", "value")
#: Extra columns after them.
EXTRA_COLUMNS: tuple[str, ...] = ("diff", "diff_lo", "diff_hi", "q", "test", "note")
SPEC_COLUMNS = spec_mod.COLUMNS
SPEC_OPTIONAL = spec_mod.OPTIONAL

#: The columns of a table of clinics (Tables 2-4) and of coordinators (Table 1), in order.
CLINIC_COLUMNS: tuple[str, ...] = (TOTAL, *vocab.CLINIC_GROUPS)
COORDINATOR_COLUMNS: tuple[str, ...] = (TOTAL, *vocab.COORDINATOR_GROUPS)
#: (comparison group, reference group) of the difference columns.
COMPARISONS: dict[tuple[str, ...], tuple[str, str]] = {
    CLINIC_COLUMNS: vocab.CLINIC_COMPARISON,
    COORDINATOR_COLUMNS: vocab.COORDINATOR_COMPARISON,
}
TITLES: dict[str, str] = {
    "table1": "Table 1. Descriptive Characteristics of the Responding Care Coordinators – "
    "N (%) Unless Stated Otherwise",
    "table2": "Table 2. Care Coordination Model Used by Clinics – N (%)",
    "table3": "Table 3. Care Coordination (CC) Activities Used by Clinic Care Model",
    "table4": "Table 4. Broad Approaches That Support Care Coordination Activities by Care Model",
}
#: Decimals of printed percentages (the paper: one in Tables 1 and 2, whole percent in 3 and 4).
PCT_DECIMALS: dict[str, int] = {"table1": 1, "table2": 1, "table3": 0, "table4": 0}
#: The note of a Monte Carlo p-value's row (and :data:`MC_NOTE_RE` reads it back for the footnote).
MC_NOTE = "Monte Carlo p-value from {samples} tables (SE {se:.2g})"
MC_NOTE_RE = re.compile(r"Monte Carlo p-value from (\d+) tables \(SE ([0-9.e+-]+)\)")
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
#: Fixed date written into Word files (their core properties and zip entries).
FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# The specification
# ---------------------------------------------------------------------------------------------


def _normalize_spec(spec: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in SPEC_COLUMNS if c not in spec.columns]
    if missing:
        raise ValueError(f"the table specification lacks the columns {missing}")
    out = spec.copy()
    for col, default in SPEC_OPTIONAL.items():
        if col not in out.columns:
            out[col] = default
    # element by element in Python: the pandas chain (astype, where, map, str.strip) costs several
    # times more on a spec of ~100 rows, and the spec is normalized on every build and render
    for col in out.columns:
        values = zip(out[col].tolist(), out[col].isna().to_numpy(), strict=True)
        out[col] = pd.Series(["" if na else str(v).strip() for v, na in values], index=out.index)
    out.loc[out["denominator"] == "", "denominator"] = SPEC_OPTIONAL["denominator"]
    return out.reset_index(drop=True)


def _items(spec: pd.DataFrame) -> dict[str, list[dict[str, str]]]:
    """The rows of a normalized specification as dicts, by item in order of first appearance.

    What ``spec.groupby("item", sort=False)`` iterates over, without a Series per row.
    """
    cols = list(spec.columns)
    items: dict[str, list[dict[str, str]]] = {}
    for values in zip(*(spec[c].tolist() for c in cols), strict=True):
        rec = dict(zip(cols, values, strict=True))
        items.setdefault(rec["item"], []).append(rec)
    return items


def _combined(row: Mapping[str, str]) -> list[str]:
    """The answer levels a spec row counts: the combined ones for collapsed rows, else its level."""
    if row["shown"] == "collapsed":
        return list(spec_mod.parse_combine(row["combine"]))
    return [row["level"]]


def validate_spec(spec: pd.DataFrame, instrument: Instrument | None = None) -> pd.DataFrame:
    """Check a specification frame (see :func:`ccanalysis.spec.from_records`); return it normalized."""
    return spec_mod.from_frame(spec, instrument=instrument).frame


def load_spec(
    path: str | Path | None = None, *, instrument: Instrument | str | Path | None = None
) -> pd.DataFrame:
    """The table specification, read and validated by :func:`ccanalysis.spec.read_spec`, as a frame."""
    return spec_mod.read_spec(path, instrument=instrument).frame


# ---------------------------------------------------------------------------------------------
# Building a table
# ---------------------------------------------------------------------------------------------


def _table_frame(data: pd.DataFrame | Mapping[str, pd.DataFrame], table_id: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    key = "coordinators" if table_id == "table1" else "clinics"
    return data[key]


def _groups_of(frame: pd.DataFrame, table_id: str) -> tuple[str, ...]:
    if "group" not in frame.columns:
        raise KeyError(
            f"{table_id}: the frame has no 'group' column (run ccanalysis.classify first)"
        )
    return COORDINATOR_COLUMNS if table_id == "table1" else CLINIC_COLUMNS


def _resolve_test(
    spec_test: str,
    item: str,
    continuous: bool,
    n_groups: int,
    override: str | Mapping[str, str] | None,
) -> str:
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


def _codes(col: pd.Series, wanted: list[str]) -> tuple[np.ndarray, list[str]]:
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


def _run_test(
    test: str,
    *,
    table: np.ndarray | None = None,
    samples: list[np.ndarray] | None = None,
    seed: int | None,
) -> stats.TestResult:
    if test == "fisher":
        return stats.fisher_exact(table, seed=seed)
    if test == "chisq":
        return stats.chisq(table)
    if test == "chisq_yates":
        return stats.chisq(table, correct=True)
    if test in ("student_t", "welch_t"):
        return stats.t_test(samples[0], samples[1], equal_var=test == "student_t")
    if test == "anova":
        return stats.anova(*samples)
    if test == "welch_anova":
        return stats.welch_anova(*samples)
    raise ValueError(f"unknown test {test!r}")


def _row(
    table: str, item: str, level: str, group: str, measure: str, value: float, **extra: object
) -> dict[str, object]:
    out: dict[str, object] = {
        "table": table,
        "item": item,
        "level": level,
        "group": group,
        "measure": measure,
        "value": float(value),
    }
    out.update(extra)
    return out


def build_table(
    spec: pd.DataFrame,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    table_id: str,
    *,
    test_override: str | Mapping[str, str] | None = None,
    seed: int | None = DEFAULT_SEED,
) -> pd.DataFrame:
    """One table in the long format (see the module doc).

    ``data``: the unit frame of the table (coordinators for Table 1, clinics otherwise) or a mapping
    with keys ``clinics`` and ``coordinators``; it must carry ``group`` (from ``ccanalysis.classify``).
    ``test_override``: a test id replacing the specification's tests of its kind (a categorical id
    for categorical items, a continuous one for means; ``student_t``/``welch_t`` become the ANOVAs
    with three groups), or a mapping ``{item: test}``. ``seed``: for a Monte Carlo Fisher p-value,
    used only when the exact enumeration would exceed its budget.
    """
    spec = _normalize_spec(spec)
    rows_spec = spec[spec["table"] == table_id]
    if rows_spec.empty:
        raise ValueError(f"the specification has no rows for {table_id!r}")
    frame = _table_frame(data, table_id)
    groups = _groups_of(frame, table_id)
    sub = groups[1:]
    comp, ref = COMPARISONS[groups]
    gvals = frame["group"].astype("object")
    gcode = np.full(len(frame), -1, dtype=np.int64)
    for k, g in enumerate(sub):
        gcode[(gvals == g).to_numpy()] = k
    masks = {"total": np.ones(len(frame), dtype=bool)}
    masks.update({g: gcode == k for k, g in enumerate(sub)})

    out: list[dict[str, object]] = [_row(table_id, "n", "", g, "n", masks[g].sum()) for g in groups]
    for item, irows in _items(rows_spec).items():
        first = irows[0]
        if item not in frame.columns:
            raise KeyError(f"{table_id}: the frame has no column {item!r}")
        continuous = first["stat"] == "mean_sd"
        test = _resolve_test(first["test"], item, continuous, len(sub), test_override)
        col = frame[item]
        p_row: dict[str, object] | None = None
        if continuous:
            x = pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(dtype=float)
            ok = ~np.isnan(x)
            samples = [x[masks[g] & ok] for g in sub]
            if test != "none":
                p_row = _test_row(table_id, item, test, samples=samples, seed=seed)
            label_level = first["level"]
            for g in groups:
                v = x[masks[g] & ok]
                extra: dict[str, object] = {}
                if g == comp:
                    extra = _mean_diff(
                        x[masks[comp] & ok],
                        x[masks[ref] & ok],
                        equal_var=test not in ("welch_t", "welch_anova"),
                    )
                out.append(
                    _row(
                        table_id,
                        item,
                        label_level,
                        g,
                        "mean",
                        v.mean() if len(v) else math.nan,
                        **extra,
                    )
                )
                out.append(
                    _row(
                        table_id,
                        item,
                        label_level,
                        g,
                        "sd",
                        v.std(ddof=1) if len(v) > 1 else math.nan,
                    )
                )
                out.append(_row(table_id, item, label_level, g, "denom", len(v)))
            if p_row is not None:
                out.append(p_row)
            continue
        wanted = [lv for r in irows for lv in _combined(r)]
        codes, levels = _codes(col, wanted)
        unknown = [lv for lv in wanted if lv not in levels]
        if unknown:
            raise KeyError(
                f"{table_id}, {item}: levels {unknown} are not answers in the data "
                f"(answers: {levels})"
            )
        # counts[level, group] for the total and each group
        counts = np.zeros((len(levels), len(groups)), dtype=np.int64)
        answered = codes >= 0
        for j, g in enumerate(groups):
            counts[:, j] = np.bincount(codes[masks[g] & answered], minlength=len(levels))
        if test != "none":
            p_row = _test_row(table_id, item, test, table=counts[:, 1:], seed=seed)
        every = first["denominator"] == "all"
        for k, r in enumerate(irows):
            idx = [levels.index(lv) for lv in _combined(r)]
            n = counts[idx, :].sum(axis=0)
            denom = np.array([masks[g].sum() for g in groups]) if every else counts.sum(axis=0)
            for j, g in enumerate(groups):
                pct = 100.0 * n[j] / denom[j] if denom[j] else math.nan
                extra = {}
                if g == comp:
                    extra = _pct_diff(
                        int(n[j]),
                        int(denom[j]),
                        int(n[groups.index(ref)]),
                        int(denom[groups.index(ref)]),
                    )
                out.append(_row(table_id, item, r["level"], g, "n", n[j]))
                out.append(_row(table_id, item, r["level"], g, "denom", denom[j]))
                out.append(_row(table_id, item, r["level"], g, "pct", pct, **extra))
            if k == 0 and p_row is not None:
                out.append(p_row)
    long = pd.DataFrame(out)
    for c in EXTRA_COLUMNS:
        if c not in long.columns:
            long[c] = math.nan if c not in ("test", "note") else ""
    long = long[list(LONG_COLUMNS + EXTRA_COLUMNS)]
    long["test"] = long["test"].fillna("").astype(object)
    long["note"] = long["note"].fillna("").astype(object)
    for c in ("value", "diff", "diff_lo", "diff_hi", "q"):
        long[c] = long[c].astype(float)
    is_p = (long["measure"] == "p").to_numpy()
    if is_p.any():
        long.loc[is_p, "q"] = stats.bh_qvalues(long.loc[is_p, "value"].to_numpy(dtype=float))
    return long


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


def _test_row(
    table_id: str,
    item: str,
    test: str,
    *,
    seed: int | None,
    table: np.ndarray | None = None,
    samples: list[np.ndarray] | None = None,
) -> dict[str, object]:
    note = ""
    try:
        res = _run_test(test, table=table, samples=samples, seed=seed)
        p, test_id = res.p, res.test
        if res.test == "fisher_mc":
            note = MC_NOTE.format(samples=res.mc_samples, se=res.mc_se)
    except ValueError as exc:
        p, test_id, note = math.nan, test, f"test not computable: {exc}"
    return _row(table_id, item, "", "all", "p", p, test=test_id, note=note)


def _pct_diff(k1: int, n1: int, k2: int, n2: int) -> dict[str, object]:
    if n1 <= 0 or n2 <= 0:
        return {}
    d, lo, hi = stats.newcombe_diff(k1, n1, k2, n2)
    return {"diff": 100 * d, "diff_lo": 100 * lo, "diff_hi": 100 * hi}


def _mean_diff(x: np.ndarray, y: np.ndarray, *, equal_var: bool) -> dict[str, object]:
    if len(x) < 2 or len(y) < 2:
        return {}
    d, lo, hi = stats.mean_diff_ci(x, y, equal_var=equal_var)
    return {"diff": d, "diff_lo": lo, "diff_hi": hi}


def build_tables(
    spec: pd.DataFrame,
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame,
    *,
    test_override: str | Mapping[str, str] | None = None,
    seed: int | None = DEFAULT_SEED,
) -> dict[str, pd.DataFrame]:
    """Every table of the specification, by id (``table1`` ... ``table4``)."""
    data = {"clinics": clinics, "coordinators": coordinators}
    return {
        t: build_table(spec, data, t, test_override=test_override, seed=seed)
        for t in dict.fromkeys(_normalize_spec(spec)["table"])
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


def _format_diff(d: float, lo: float, hi: float, decimals: int, unit: str) -> str:
    if math.isnan(d):
        return ""
    r = round_half_up
    return f"{r(d, decimals)}{unit} ({r(lo, decimals)} to {r(hi, decimals)})"


# ---------------------------------------------------------------------------------------------
# The display grid every renderer uses
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


def _display(
    table_long: pd.DataFrame,
    spec: pd.DataFrame,
    *,
    synthetic: bool,
    extras: bool,
    suppress_below: int | None,
) -> Display:
    if suppress_below is not None and suppress_below < 2:
        raise ValueError("suppress_below must be at least 2")
    tables = table_long["table"].unique()
    if len(tables) != 1:
        raise ValueError(f"render one table at a time, got {list(tables)}")
    table_id = str(tables[0])
    spec = _normalize_spec(spec)
    srows = spec[spec["table"] == table_id]
    groups = [
        g
        for g in (COORDINATOR_COLUMNS if table_id == "table1" else CLINIC_COLUMNS)
        if g in set(table_long["group"])
    ]
    comp, ref = COMPARISONS[COORDINATOR_COLUMNS if table_id == "table1" else CLINIC_COLUMNS]
    decimals = PCT_DECIMALS.get(table_id, 1)
    has_p = bool((table_long["measure"] == "p").any())
    k = suppress_below

    lookup: dict[tuple[str, str, str, str], tuple] = {
        (r.item, r.level, r.group, r.measure): r
        for r in table_long.fillna({"level": ""}).itertuples(index=False)
    }

    def val(item: str, level: str, group: str, measure: str) -> float:
        r = lookup.get((item, level, group, measure))
        return math.nan if r is None else float(r.value)

    header = ["Characteristic"] + [GROUP_LABELS.get(g, g) for g in groups]
    if has_p:
        header.append("P")
    n_extras = 0
    if extras:
        header += [f"Difference {SHORT_LABELS[comp]} – {SHORT_LABELS[ref]} (95% CI)", "q"]
        n_extras = 2
    rows: list[DisplayRow] = []
    suppressed = False
    n_cells = []
    for g in groups:
        n = val("n", "", g, "n")
        if is_small(n, k):
            suppressed = True
            n_cells.append(f"<{k}")
        else:
            n_cells.append(str(int(n)))
    rows.append(DisplayRow("n", "N", 0, n_cells, "", [""] * n_extras))
    tests_used: list[str] = []
    missing_notes: list[str] = []
    footnotes: list[str] = []
    n_total = val("n", "", "total", "n")
    section_now = None
    by_item = _items(srows)
    section_items: dict[str, set[str]] = {}
    for item, irows in by_item.items():
        for r in irows:
            section_items.setdefault(r["section"], set()).add(item)
    for item, irows in by_item.items():
        first = irows[0]
        section = first["section"]
        prow = lookup.get((item, "", "all", "p"))
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
                rows.append(
                    DisplayRow(
                        "section",
                        section,
                        0,
                        [""] * len(groups),
                        p_text if own_section else "",
                        ["", q_text if own_section else ""][:n_extras],
                    )
                )
        if first["footnote"] and first["footnote"] not in footnotes:
            footnotes.append(first["footnote"])
        continuous = first["stat"] == "mean_sd"
        for j, r in enumerate(irows):
            level = r["level"]
            cells = []
            for g in groups:
                if continuous:
                    d = val(item, level, g, "denom")
                    if is_small(d, k):
                        suppressed = True
                        cells.append(f"<{k}")
                    else:
                        cells.append(
                            format_mean_sd(val(item, level, g, "mean"), val(item, level, g, "sd"))
                        )
                    continue
                n, pct = val(item, level, g, "n"), val(item, level, g, "pct")
                if is_small(n, k):
                    suppressed = True
                    cells.append(f"<{k}")
                elif r["stat"] == "n_pct":
                    cells.append(format_n_pct(n, pct, decimals))
                else:
                    cells.append(round_half_up(pct, decimals) if not math.isnan(pct) else "–")
            first_row = j == 0 and not own_section
            ext: list[str] = []
            if extras:
                m = "mean" if continuous else "pct"
                cr = lookup.get((item, level, comp, m))
                diff = (
                    ""
                    if cr is None
                    else _format_diff(
                        float(cr.diff),
                        float(cr.diff_lo),
                        float(cr.diff_hi),
                        1,
                        "" if continuous else " pp",
                    )
                )
                ext = [diff, q_text if first_row else ""]
            rows.append(
                DisplayRow(
                    "row", r["label"], 1 if section else 0, cells, p_text if first_row else "", ext
                )
            )
            if j == 0:
                d = val(item, level, "total", "denom")
                if r["denominator"] != "all" and not math.isnan(d) and d < n_total:
                    missing_notes.append(f"{item}: {int(d)} answers")
    notes: list[str] = []
    if synthetic:
        notes.append(SYNTHETIC_LABEL)
    if table_id in ("table3", "table4"):
        notes.append("All numbers except N, P and mean (SD) are percentages.")
    for t in tests_used:
        notes.append(
            f"P: {TEST_TEXT.get(t, t)}{_mc_detail(table_long) if t == 'fisher_mc' else ''}."
        )
    notes.append(
        "Percentages are of the answers given (missing answers left out item by item)"
        + (
            ", except where a footnote says otherwise."
            if (srows["denominator"] == "all").any()
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
            f"Difference {SHORT_LABELS[comp]} – {SHORT_LABELS[ref]}: "
            f"{GROUP_LABELS[comp]} minus {GROUP_LABELS[ref]}; percentage "
            "points (pp) with Newcombe's hybrid score 95% CI, or mean difference with the "
            "t interval. q: Benjamini-Hochberg q-value across the tests of this table."
        )
    if k is not None:
        notes.append(
            f"<{k}: a count from 1 to {k - 1} (or a mean of fewer than {k} answers), "
            "withheld to protect respondents' privacy"
            + ("." if suppressed else "; none in this table.")
        )
    title = TITLES.get(table_id, table_id)
    return Display(table_id, title, header, rows, notes, synthetic, n_extras)


def _cells(row: DisplayRow, has_p: bool) -> list[str]:
    return row.cells + ([row.p] if has_p else []) + row.extras


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------

_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ d.title }}</title>
<style>
body { font-family: sans-serif; }
table { border-collapse: collapse; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.5em; }
th, td { padding: 2px 8px; text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
thead th { border-top: 2px solid black; border-bottom: 1px solid black; }
tbody tr:last-child td { border-bottom: 2px solid black; }
td.section { font-weight: bold; }
td.indent { padding-left: 2em; }
p.synthetic { color: #b00; font-weight: bold; }
ol.notes { font-size: small; }
</style>
</head>
<body>
{% if d.synthetic %}<p class="synthetic">{{ label }}</p>
{% endif %}<table id="{{ d.table }}">
<caption>{% if d.synthetic %}{{ label }}<br>{% endif %}{{ d.title }}</caption>
<thead>
<tr>{% for h in d.header %}<th>{{ h }}</th>{% endfor %}</tr>
</thead>
<tbody>
{% for r in d.rows %}<tr class="{{ r.kind }}"><td class="{{ 'section' if r.kind == 'section' else ('indent' if r.indent else '') }}">{{ r.label }}</td>{% for c in cells(r) %}<td>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</tbody>
</table>
<ol class="notes">
{% for n in d.notes %}<li>{{ n }}</li>
{% endfor %}</ol>
</body>
</html>
"""


@functools.cache
def _html_template() -> jinja2.Template:
    """The compiled HTML template (compiling it takes longer than rendering a table)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, keep_trailing_newline=True)
    return env.from_string(_HTML)


def _render_html(d: Display, has_p: bool) -> str:
    return _html_template().render(d=d, label=SYNTHETIC_LABEL, cells=lambda r: _cells(r, has_p))


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _render_markdown(d: Display, has_p: bool) -> str:
    lines: list[str] = []
    if d.synthetic:
        lines += [f"**{SYNTHETIC_LABEL}**", ""]
    lines += [f"**{_md_escape(d.title)}**", ""]
    lines.append("| " + " | ".join(_md_escape(h) for h in d.header) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(d.header) - 1)) + "|")
    for r in d.rows:
        label = _md_escape(r.label)
        if r.kind == "section":
            label = f"**{label}**"
        elif r.indent:
            label = "\u2003" * r.indent + label
        lines.append("| " + " | ".join([label] + [_md_escape(c) for c in _cells(r, has_p)]) + " |")
    lines.append("")
    lines += [f"{i}. {_md_escape(n)}" for i, n in enumerate(d.notes, start=1)]
    return "\n".join(lines) + "\n"


_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "–": "--",
}


def tex_escape(text: str) -> str:
    """Escape LaTeX's special characters (and < > for OT1 fonts)."""
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in text)


def _render_latex(d: Display, has_p: bool) -> str:
    ncols = len(d.header)
    lines = []
    if d.synthetic:
        lines.append(f"% {SYNTHETIC_LABEL}")
    lines += ["% requires \\usepackage{booktabs}", "\\begin{table}[htbp]", "\\centering"]
    caption = tex_escape(d.title)
    if d.synthetic:
        caption = f"\\textbf{{{tex_escape(SYNTHETIC_LABEL)}}}\\\\ {caption}"
    lines += [
        f"\\caption{{{caption}}}",
        f"\\label{{tab:{d.table}}}",
        "\\small",
        "\\begin{tabular}{l" + "r" * (ncols - 1) + "}",
        "\\toprule",
    ]
    lines.append(" & ".join(tex_escape(h) for h in d.header) + " \\\\")
    lines.append("\\midrule")
    for r in d.rows:
        label = tex_escape(r.label)
        if r.kind == "section":
            label = f"\\textbf{{{label}}}"
        elif r.indent:
            label = "\\quad " * r.indent + label
        lines.append(" & ".join([label] + [tex_escape(c) for c in _cells(r, has_p)]) + " \\\\")
        if r.kind == "n":
            lines.append("\\midrule")
    lines += ["\\bottomrule", "\\end{tabular}", "", "\\smallskip", "\\footnotesize"]
    lines += [f"{i}. {tex_escape(n)}\\par" for i, n in enumerate(d.notes, start=1)]
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip (docx) with every entry dated :data:`FIXED_DATE` (byte-reproducible)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = zipfile.ZipInfo(info.filename, date_time=FIXED_DATE.timetuple()[:6])
            new.compress_type = zipfile.ZIP_DEFLATED
            new.external_attr = 0o644 << 16
            dst.writestr(new, src.read(info.filename))
    return buf.getvalue()


def _render_docx(d: Display, has_p: bool) -> bytes:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = docx.Document()
    props = doc.core_properties
    props.created = FIXED_DATE.replace(tzinfo=None)
    props.modified = FIXED_DATE.replace(tzinfo=None)
    props.last_printed = FIXED_DATE.replace(tzinfo=None)
    props.author = "ccanalysis"
    props.last_modified_by = "ccanalysis"
    props.revision = 1
    props.title = d.title
    props.comments = SYNTHETIC_LABEL if d.synthetic else ""
    if d.synthetic:
        para = doc.add_paragraph()
        run = para.add_run(SYNTHETIC_LABEL)
        run.bold = True
    doc.add_paragraph().add_run(d.title).bold = True
    table = doc.add_table(rows=1 + len(d.rows), cols=len(d.header))
    table.style = "Table Grid"
    # the cells row by row: Table.cell(i, j) rebuilds the whole grid on every call (quadratic)
    grid = [row.cells for row in table.rows]
    for cell, h in zip(grid[0], d.header, strict=True):
        cell.text = h
        cell.paragraphs[0].runs[0].bold = True
    for r, row_cells in zip(d.rows, grid[1:], strict=True):
        values = [r.label] + _cells(r, has_p)
        for j, (cell, v) in enumerate(zip(row_cells, values, strict=True)):
            cell.text = v
            para = cell.paragraphs[0]
            if j == 0:
                if r.kind == "section" and para.runs:
                    para.runs[0].bold = True
                if r.indent:
                    para.paragraph_format.left_indent = Pt(12 * r.indent)
            else:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for i, n in enumerate(d.notes, start=1):
        doc.add_paragraph(f"{i}. {n}").runs[0].font.size = Pt(8)
    buf = io.BytesIO()
    doc.save(buf)
    return _fixed_zip(buf.getvalue())


#: Renderer of each format, called with the display grid and whether it has a P column.
_RENDERERS = {
    "html": _render_html,
    "markdown": _render_markdown,
    "latex": _render_latex,
    "docx": _render_docx,
}


def render(
    table_long: pd.DataFrame,
    spec: pd.DataFrame,
    *,
    fmt: str = "html",
    synthetic: bool,
    extras: bool = False,
    suppress_below: int | None = None,
) -> str | bytes:
    """Render one table (its long frame) as ``html``, ``markdown``, ``latex`` (str) or ``docx`` (bytes).

    ``synthetic``: print :data:`ccanalysis.vocab.SYNTHETIC_LABEL` first, in the caption and the notes.
    ``extras``: add the difference (95% CI) and q-value columns. ``suppress_below=k``: counts of
    1 to k - 1 (and means of fewer than k answers) are printed as ``<k`` (privacy mode).
    """
    d = _display(
        table_long, spec, synthetic=synthetic, extras=extras, suppress_below=suppress_below
    )
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown format {fmt!r} (html, markdown, latex, docx)")
    return _RENDERERS[fmt](d, "P" in d.header)


def _csv_value(v: float) -> str:
    if math.isnan(v):
        return ""
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def long_csv(table_long: pd.DataFrame, suppress_below: int | None = None) -> str:
    """The long CSV text: DESIGN columns first, integers without ``.0``, floats at full precision.

    With ``suppress_below=k`` the counts 1 to k - 1 and what they reveal (percentage, difference,
    a mean of fewer than k answers) are blanked and noted ``<k``.
    """
    frame = table_long.copy()
    if suppress_below is not None:
        k = suppress_below
        key = ["item", "level", "group"]
        cnt = frame[frame["measure"].isin(["n", "denom"]) & (frame["item"] != "n")]
        small_n = cnt[(cnt["measure"] == "n") & cnt["value"].between(1, k - 1)]
        small_d = cnt[(cnt["measure"] == "denom") & cnt["value"].between(1, k - 1)]
        mark = set(map(tuple, small_n[key].to_numpy())) | set(map(tuple, small_d[key].to_numpy()))
        hit = np.array([tuple(r) in mark for r in frame[key].to_numpy()], dtype=bool)
        hit &= frame["measure"].isin(["n", "pct", "mean", "sd"]).to_numpy()
        n_row = (frame["item"] == "n") & frame["value"].between(1, k - 1)
        hit |= n_row.to_numpy()
        frame.loc[hit, ["value", "diff", "diff_lo", "diff_hi"]] = math.nan
        frame.loc[hit, "note"] = f"<{k}"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = list(frame.columns)
    w.writerow(cols)
    numeric = {c for c in cols if pd.api.types.is_float_dtype(frame[c])}
    for rec in frame.itertuples(index=False):
        w.writerow(
            [
                _csv_value(v) if c in numeric else ("" if pd.isna(v) else str(v))
                for c, v in zip(cols, rec, strict=True)
            ]
        )
    return buf.getvalue()


def write_table(
    table_long: pd.DataFrame,
    spec: pd.DataFrame,
    outdir: str | Path,
    name: str,
    *,
    synthetic: bool,
    extras: bool = False,
    suppress_below: int | None = None,
) -> dict[str, Path]:
    """Write ``<name>.csv`` (long), ``.html``, ``.md``, ``.tex`` and ``.docx`` into ``outdir``
    atomically; return the paths by extension."""
    outdir = Path(outdir)
    out = {"csv": write_text(outdir / f"{name}.csv", long_csv(table_long, suppress_below))}
    # one display grid for the four formats (what render would compute four times)
    d = _display(
        table_long, spec, synthetic=synthetic, extras=extras, suppress_below=suppress_below
    )
    has_p = "P" in d.header
    for ext, fmt in (("html", "html"), ("md", "markdown"), ("tex", "latex")):
        out[ext] = write_text(outdir / f"{name}.{ext}", _RENDERERS[fmt](d, has_p))
    out["docx"] = write_bytes(outdir / f"{name}.docx", _render_docx(d, has_p))
    return out


# ---------------------------------------------------------------------------------------------
# The numbers quoted in the paper's text
# ---------------------------------------------------------------------------------------------


def _pct(k: float, n: float) -> float:
    return 100.0 * k / n if n else math.nan


def _is(col: pd.Series, *levels: str) -> pd.Series:
    return col.astype("object").isin(levels)


def text_facts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """The numbers the paper's text quotes, computed from the data: ``fact, value, statement``.

    Fact ids follow the names of the study facts (``care_systems_small_1_2_clinics``,
    ``urban_pct_ruca_1_3``, ``discussion_social_needs_pp_diff`` ...). Percentages are 0-100 of the
    answers given, differences integrated minus medical/nursing in percentage points, unrounded.
    """
    facts: list[tuple[str, float, str]] = []

    def add(fact: str, value: float, statement: str) -> None:
        facts.append((fact, float(value), statement))

    n_cl = len(clinics)
    add("clinics", n_cl, f"{n_cl} clinics")
    systems = clinics.groupby("care_system_id", sort=True)["system_size"].first()
    add("care_systems", len(systems), f"{len(systems)} care systems")
    for size, rule in (("small", "1_2"), ("medium", "3_9"), ("large", "over_9")):
        k = int(systems.astype("object").eq(size).sum())
        add(
            f"care_systems_{size}_{rule}_clinics",
            k,
            f"{k} of {len(systems)} care systems are {size}",
        )
    urban = clinics["urban"] if "urban" in clinics else pd.to_numeric(clinics["ruca"]) <= 3
    urban = urban.astype("boolean")
    n_u, n_known = int(urban.sum()), int(urban.notna().sum())
    add("urban_pct_ruca_1_3", _pct(n_u, n_known), f"{n_u} of {n_known} clinics urban (RUCA 1-3)")
    add(
        "rural_pct_ruca_4_10",
        _pct(n_known - n_u, n_known),
        f"{n_known - n_u} of {n_known} clinics rural or small town (RUCA 4-10)",
    )
    grp = clinics["group"].astype("object")
    n_isw, n_mn = int(grp.eq("isw").sum()), int(grp.eq("mn").sum())
    add(
        "isw_clinics", n_isw, f"{n_isw} ({_pct(n_isw, n_cl):.0f}%) clinics integrated social worker"
    )
    add("mn_clinics", n_mn, f"{n_mn} ({_pct(n_mn, n_cl):.0f}%) clinics medical/nursing")

    n_co = len(coordinators)
    add("coordinators", n_co, f"{n_co} care coordinators")
    per_coord = clinics.groupby("coordinator_id").size()
    multi = int((per_coord >= 2).sum())
    add(
        "coordinators_multi_clinic",
        multi,
        f"{multi} ({_pct(multi, n_co):.0f}%) coordinators report on 2 to {int(per_coord.max())} clinics",
    )
    add(
        "coordinators_multi_clinic_pct",
        _pct(multi, n_co),
        "share of coordinators on several clinics",
    )
    add(
        "coordinators_max_clinics",
        int(per_coord.max()),
        "most clinics reported on by one coordinator",
    )
    sw = coordinators.loc[_is(coordinators["degree"], "msw_bsw"), "coordinator_id"]
    n_sw_cl = int(clinics["coordinator_id"].isin(set(sw)).sum())
    add(
        "coordinators_social_work_degree",
        len(sw),
        f"{len(sw)} ({_pct(len(sw), n_co):.0f}%) coordinators with a social work degree, "
        f"reporting on {n_sw_cl} clinics",
    )
    add(
        "clinics_reported_by_sw_degree_coordinators", n_sw_cl, "clinics of social work coordinators"
    )
    cert = coordinators["certified_cc"]
    k, n = int(_is(cert, "yes").sum()), int(cert.notna().sum())
    add("coordinators_certified_pct", _pct(k, n), f"{k} of {n} answering coordinators certified")
    years = pd.to_numeric(coordinators["years_cc_role"].astype("object"), errors="coerce")
    add(
        "coordinators_years_mean",
        years.mean(),
        f"mean years as coordinator ({years.count()} answers)",
    )
    add("coordinators_years_sd", years.std(), "SD of years as coordinator")

    def num(name: str) -> pd.Series:
        return pd.to_numeric(clinics[name].astype("object"), errors="coerce")

    hours, panel, clin = num("hours_cc_week"), num("panel_size"), num("clinicians_per_fte")
    add(
        "fulltime_cc_hours_mean",
        hours.mean(),
        f"hours/week on care coordination, mean ({hours.count()})",
    )
    add("fulltime_cc_hours_sd", hours.std(), "hours/week on care coordination, SD")
    add("panel_patients_per_coordinator_mean", panel.mean(), f"panel size, mean ({panel.count()})")
    add(
        "clinicians_per_coordinator_mean",
        clin.mean(),
        f"clinicians per FTE coordinator, mean ({clin.count()})",
    )
    minutes = hours.mean() * 60 / panel.mean()
    add(
        "minutes_per_patient_week",
        minutes,
        f"{minutes:.0f} minutes per week per care coordination patient (mean hours x 60 / mean panel)",
    )

    mn = grp.eq("mn")
    isw = grp.eq("isw")
    mn_sw = mn & _is(clinics["sw_on_team"], "yes")
    n_mn_sw = int(mn_sw.sum())
    add(
        "mn_clinics_with_sw_on_team",
        n_mn_sw,
        f"{n_mn_sw} medical/nursing clinics report a social worker on the team",
    )
    ease = clinics["sw_engage_ease"]
    diff_k = int((mn_sw & _is(ease, "somewhat_difficult")).sum())
    diff_n = int((mn_sw & ease.notna()).sum())
    add(
        "mn_sw_on_team_difficult_to_engage",
        diff_k,
        f"{diff_k} of {diff_n} ({_pct(diff_k, diff_n):.0f}%) of them find it somewhat difficult "
        "to engage a social worker",
    )
    add("mn_sw_on_team_difficult_to_engage_pct", _pct(diff_k, diff_n), "share of those answering")
    easy_k = int((isw & _is(ease, "very_easy", "somewhat_easy")).sum())
    easy_n = int((isw & ease.notna()).sum())
    add(
        "isw_easy_to_engage_sw_pct",
        _pct(easy_k, easy_n),
        f"{easy_k} of {easy_n} integrated clinics find it easy to engage a social worker",
    )
    for fact, item, levels, text in (
        (
            "discussion_social_needs_pp_diff",
            "svc_social_needs",
            ("yes",),
            "social needs assessment/referral",
        ),
        (
            "discussion_social_complexity_pp_diff",
            "complexity_social",
            ("all", "most"),
            "social complexity assessed for all or most patients",
        ),
        (
            "discussion_refer_outside_pp_diff",
            "refer_outside",
            ("most_of_the_time",),
            "refer outside the care system most of the time",
        ),
    ):
        col = clinics[item]
        p_isw = _pct(int((isw & _is(col, *levels)).sum()), int((isw & col.notna()).sum()))
        p_mn = _pct(int((mn & _is(col, *levels)).sum()), int((mn & col.notna()).sum()))
        add(
            fact,
            p_isw - p_mn,
            f"{text}: {p_isw:.0f}% integrated vs {p_mn:.0f}% medical/nursing, "
            f"{p_isw - p_mn:+.0f} percentage points",
        )
    return pd.DataFrame(facts, columns=["fact", "value", "statement"])
