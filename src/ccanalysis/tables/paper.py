"""What is particular to each of the paper's four tables: its units, groups, title and decimals.

Table 1 describes coordinators in three groups (by the models of the clinics they report on),
Tables 2-4 clinics in the two care models; the difference columns compare the integrated social
worker group with the medical/nursing one. A table id the paper does not have is laid out as a
clinic table with its id as title and one decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from ccanalysis import vocab
from ccanalysis.vocab import TOTAL

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
