"""The paper's tables from the specification through the summary API: Table 1 the coordinators in
three groups, Tables 2-4 the clinics by care model; the difference is ISW minus MN."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ccanalysis import vocab
from ccanalysis.spec import Spec, as_spec, default_instrument
from ccanalysis.tables.summary import Summary, add_q_across, from_rows
from ccanalysis.vocab import DEFAULT_SEED

TITLES: dict[str, str] = {
    "table1": "Table 1. Descriptive Characteristics of the Responding Care Coordinators – "
    "N (%) Unless Stated Otherwise",
    "table2": "Table 2. Care Coordination Model Used by Clinics – N (%)",
    "table3": "Table 3. Care Coordination (CC) Activities Used by Clinic Care Model",
    "table4": "Table 4. Broad Approaches That Support Care Coordination Activities by Care Model",
}
#: Decimals of printed percentages (the paper: one in Tables 1 and 2, whole percent in 3 and 4).
PCT_DECIMALS: dict[str, int] = {"table1": 1, "table2": 1, "table3": 0, "table4": 0}
#: The first note of the tables whose cells are bare percentages.
PCT_NOTE = "All numbers except N, P and mean (SD) are percentages."


def summary(
    spec: Spec | pd.DataFrame,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    table_id: str,
    *,
    by: str = "group",
    labels: Mapping[object, str] | None = None,
    synthetic: bool = False,
    population: str | None = None,
    export_dir: str | Path | None = None,
) -> Summary:
    """One table of the specification, untested, by the paper's groups or another column ``by``.
    ``data``: the table's units or ``{"clinics": ..., "coordinators": ...}``; the other keywords
    as :func:`~ccanalysis.tables.summary.summarize`'s."""
    rows = as_spec(spec).of(table_id)
    if not rows:
        raise ValueError(f"the specification has no rows for {table_id!r}")
    if not isinstance(data, pd.DataFrame):
        data = data["coordinators" if table_id == "table1" else "clinics"]
    own = by == "group"
    groups = vocab.COORDINATOR_GROUPS if table_id == "table1" else vocab.CLINIC_GROUPS
    return from_rows(
        data,
        rows,
        by,
        table=table_id,
        title=TITLES.get(table_id, table_id),
        population=population,
        export_dir=export_dir,
        decimals=PCT_DECIMALS.get(table_id, 1),
        notes=(PCT_NOTE,) if table_id in ("table3", "table4") else (),
        synthetic=synthetic,
        groups=groups if own else None,
        labels=labels,
        reference=compared(table_id)[1] if own else None,
        instrument=None if own else default_instrument(),
    )


def compared(table_id: str) -> tuple[str, str]:
    """The (comparison, reference) groups of a paper's table: ISW - MN (Table 1: the only's)."""
    return vocab.COORDINATOR_COMPARISON if table_id == "table1" else vocab.CLINIC_COMPARISON


def from_spec(
    spec: Spec | pd.DataFrame,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    table_id: str,
    *,
    by: str = "group",
    labels: Mapping[object, str] | None = None,
    seed: int | None = DEFAULT_SEED,
    synthetic: bool = False,
    family: str = "spec",
    population: str | None = None,
    export_dir: str | Path | None = None,
) -> Summary:
    """:func:`summary` (by the paper's groups or ``by``) then ``add_p``, ``add_difference`` and the
    q-values across ``family``:
    ``"spec"`` (or its name) the specification's family of the table (Tables 3 and 4, built from
    ``data`` alike), or ``"table"``, the table's own tests."""
    spec = as_spec(spec)
    own = spec.of(table_id)[0].q_family if spec.of(table_id) else table_id
    if family not in ("spec", "table", own):
        raise ValueError(
            f"from_spec: family={family!r}; {table_id} takes 'spec' or {own!r} (the "
            "specification's family) or 'table' (its own tests)"
        )
    tables = [t for t in spec.tables if spec.of(t)[0].q_family == own]
    if family == "table" or tables == [table_id]:
        tables = [table_id]

    def tested(t: str) -> Summary:
        s = summary(
            spec, data, t, by=by, labels=labels, synthetic=synthetic, population=population,
            export_dir=export_dir,
        ).add_p(seed=seed)  # fmt: skip
        if by == "group":
            return s.add_difference(compared(t)[0])
        return s.add_difference() if len(s.groups) == 2 else s

    if len(tables) == 1:
        return tested(table_id).add_q()
    family_q = add_q_across(*(tested(t) for t in tables), family=own)
    return family_q[tables.index(table_id)]
