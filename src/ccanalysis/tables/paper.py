"""The paper's four tables from the specification: each table's units, groups, title and decimals,
and the spec-driven entry point of the summary API (:func:`from_spec`) the tables stage uses.

Table 1 describes coordinators in three groups (by the models of the clinics they report on),
Tables 2-4 clinics in the two care models; the difference columns compare the integrated social
worker group with the medical/nursing one. A table id the paper does not have is laid out as a
clinic table with its id as title and one decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ccanalysis import vocab
from ccanalysis.spec import Spec, as_spec, default_instrument
from ccanalysis.tables.layout import Display, Layout, display
from ccanalysis.tables.render import render_display, write_display
from ccanalysis.tables.summary import Summary, add_q_across, summary_of_rows
from ccanalysis.vocab import DEFAULT_SEED, TOTAL

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
#: The note that opens the footnotes of the tables whose cells are bare percentages.
PCT_NOTE = "All numbers except N, P and mean (SD) are percentages."


@dataclass(frozen=True)
class PaperTable:
    """One table's layout: ``units`` (``clinics`` | ``coordinators``), ``columns`` (total first,
    then the groups), ``comparison`` (comparison group, reference group), ``title``,
    ``decimals`` of percentages and the ``notes`` that open its footnotes."""

    table: str
    units: str
    columns: tuple[str, ...]
    comparison: tuple[str, str]
    title: str
    decimals: int
    notes: tuple[str, ...]

    @property
    def groups(self) -> tuple[str, ...]:
        """The groups compared (the columns after the total)."""
        return self.columns[1:]


def paper_table(table_id: str) -> PaperTable:
    """The layout of ``table_id`` (``table1`` ... ``table4``; any other id: a clinic table)."""
    columns = COORDINATOR_COLUMNS if table_id == "table1" else CLINIC_COLUMNS
    return PaperTable(
        table=table_id,
        units="coordinators" if table_id == "table1" else "clinics",
        columns=columns,
        comparison=COMPARISONS[columns],
        title=TITLES.get(table_id, table_id),
        decimals=PCT_DECIMALS.get(table_id, 1),
        notes=(PCT_NOTE,) if table_id in ("table3", "table4") else (),
    )


def unit_frame(data: pd.DataFrame | Mapping[str, pd.DataFrame], table_id: str) -> pd.DataFrame:
    """The frame of a table's units: ``data`` itself, or its ``clinics`` / ``coordinators``."""
    if isinstance(data, pd.DataFrame):
        return data
    return data[paper_table(table_id).units]


# ---------------------------------------------------------------------------------------------
# The tables, through the summary API
# ---------------------------------------------------------------------------------------------


def from_spec(
    spec: Spec | pd.DataFrame,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    table_id: str,
    *,
    by: str = "group",
    labels: Mapping[object, str] | None = None,
    reference: object | None = None,
    test_override: str | Mapping[str, str] | None = None,
    seed: int | None = DEFAULT_SEED,
    synthetic: bool = False,
) -> Summary:
    """One table of the specification (its rows, title, decimals), tested, with differences and
    q-values: the paper's table with ``by="group"`` (the care models; Table 1 the coordinators'
    three groups), or the same rows by any other column of the units (``by="urban"``).

    ``data``: the table's unit frame or ``{"clinics": ..., "coordinators": ...}``, with ``group``
    (from ``ccanalysis.classify``) for the paper's groups; ``labels``, ``reference``: as
    :func:`ccanalysis.analysis.summarize`; ``test_override``, ``seed``: as
    :meth:`~ccanalysis.tables.summary.Summary.add_p`; ``synthetic``: the label on the rendered
    table. Differences are added with two groups (the paper's Table 1: ISW only minus MN only).
    """
    spec = as_spec(spec)
    rows = spec.of(table_id)
    if not rows:
        raise ValueError(f"the specification has no rows for {table_id!r}")
    paper = paper_table(table_id)
    frame = unit_frame(data, table_id)
    own = by == "group"
    if own and "group" not in frame.columns:
        raise KeyError(
            f"{table_id}: the frame has no 'group' column (run ccanalysis.classify first)"
        )
    s = summary_of_rows(
        frame,
        rows,
        by,
        table=table_id,
        groups=paper.groups if own else None,
        labels=labels,
        reference=paper.comparison[1] if own and reference is None else reference,
        instrument=None if own else default_instrument(),
        title=paper.title,
        decimals=paper.decimals,
        notes=paper.notes,
        synthetic=synthetic,
    )
    s = s.add_p(test_override, seed=seed)
    if own:
        s = s.add_difference(paper.comparison[0])
    elif len(s.groups) == 2:
        s = s.add_difference()
    return s.add_q()


def from_specs(
    spec: Spec | pd.DataFrame,
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame,
    *,
    test_override: str | Mapping[str, str] | None = None,
    seed: int | None = DEFAULT_SEED,
    synthetic: bool = False,
    q_family: str = "spec",
) -> dict[str, Summary]:
    """Every table of the specification (:func:`from_spec`), by id, with q-values across the
    specification's pre-specified families of tests (``q_family="spec"``: the ``family`` column,
    a table's own tests by default) or within each table (``q_family="table"``)."""
    if q_family not in ("spec", "table"):
        raise ValueError(f"q_family must be 'spec' or 'table', not {q_family!r}")
    spec = as_spec(spec)
    data = {"clinics": clinics, "coordinators": coordinators}
    out = {
        t: from_spec(spec, data, t, test_override=test_override, seed=seed, synthetic=synthetic)
        for t in spec.tables
    }
    if q_family == "table":
        return out
    families: dict[str, list[str]] = {}
    for t in spec.tables:
        families.setdefault(spec.of(t)[0].q_family, []).append(t)
    for name, tables in families.items():
        own = tables == [name]  # a table's own tests: the note says "this table"
        again = add_q_across(*(out[t] for t in tables), family=None if own else name)
        out.update(zip(tables, again, strict=True))
    return out


def build_table(
    spec: Spec | pd.DataFrame,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    table_id: str,
    *,
    test_override: str | Mapping[str, str] | None = None,
    seed: int | None = DEFAULT_SEED,
) -> pd.DataFrame:
    """One table of the specification in the long format (:func:`from_spec`'s ``long``; q-values
    across this table's tests: :func:`build_tables` adjusts across the specification's families).

    ``data``: the unit frame of the table (coordinators for Table 1, clinics otherwise) or a mapping
    with keys ``clinics`` and ``coordinators``; it must carry ``group`` (from ``ccanalysis.classify``).
    ``test_override``: a test id replacing the specification's tests of its kind (a categorical id
    for categorical items, a continuous one for means; ``student_t``/``welch_t`` become the ANOVAs
    with three groups), or a mapping ``{item: test}``. ``seed``: for a Monte Carlo Fisher p-value,
    used only when the exact enumeration would exceed its budget.
    """
    return from_spec(spec, data, table_id, test_override=test_override, seed=seed).long


def build_tables(
    spec: Spec | pd.DataFrame,
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame,
    *,
    test_override: str | Mapping[str, str] | None = None,
    seed: int | None = DEFAULT_SEED,
    q_family: str = "spec",
) -> dict[str, pd.DataFrame]:
    """Every table of the specification in the long format, by id (:func:`from_specs`)."""
    built = from_specs(
        spec, clinics, coordinators, test_override=test_override, seed=seed, q_family=q_family
    )
    return {t: s.long for t, s in built.items()}


# ---------------------------------------------------------------------------------------------
# A long table read back (a CSV), laid out as the paper's
# ---------------------------------------------------------------------------------------------


def paper_layout(table_id: str) -> Layout:
    """The grid frame of one of the paper's tables."""
    t = paper_table(table_id)
    return Layout(t.title, t.columns, t.comparison, t.decimals, t.notes)


def paper_display(
    table_long: pd.DataFrame,
    spec: Spec | pd.DataFrame,
    *,
    synthetic: bool,
    extras: bool,
    suppress_below: int | None,
) -> Display:
    """The grid of one of the specification's tables from its long frame."""
    tables = table_long["table"].unique()
    if len(tables) != 1:
        raise ValueError(f"render one table at a time, got {list(tables)}")
    table_id = str(tables[0])
    return display(
        table_long,
        as_spec(spec).of(table_id),
        paper_layout(table_id),
        synthetic=synthetic,
        extras=extras,
        suppress_below=suppress_below,
    )


def render(
    table_long: pd.DataFrame,
    spec: Spec | pd.DataFrame,
    *,
    fmt: str = "html",
    synthetic: bool,
    extras: bool = False,
    suppress_below: int | None = None,
) -> str | bytes:
    """Render one of the specification's tables (its long frame) as ``html``, ``markdown``,
    ``latex`` (str) or ``docx`` (bytes).

    ``synthetic``: print :data:`ccanalysis.vocab.SYNTHETIC_LABEL` first, in the caption and the notes.
    ``extras``: add the difference (95% CI) and q-value columns. ``suppress_below=k``: counts of
    1 to k - 1 (and means of fewer than k answers) are printed as ``<k`` (privacy mode).
    """
    d = paper_display(
        table_long, spec, synthetic=synthetic, extras=extras, suppress_below=suppress_below
    )
    return render_display(d, fmt)


def write_table(
    table_long: pd.DataFrame,
    spec: Spec | pd.DataFrame,
    outdir: str | Path,
    name: str,
    *,
    synthetic: bool,
    extras: bool = False,
    suppress_below: int | None = None,
) -> dict[str, Path]:
    """Write one of the specification's tables (its long frame) in every format: ``<name>.csv``,
    ``.html``, ``.md``, ``.tex``, ``.docx`` (one display grid for the four)."""
    d = paper_display(
        table_long, spec, synthetic=synthetic, extras=extras, suppress_below=suppress_below
    )
    return write_display(d, table_long, outdir, name, suppress_below=suppress_below)
