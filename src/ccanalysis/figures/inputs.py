"""What the figures read: the long tables of the tables stage, as lookups.

The tables stage writes ``tables/tableN.csv`` in the long format of docs/ARCHITECTURE.md (``table, item,
level, group, measure, value``) and reads it back (:func:`ccanalysis.tables.read.read_long`, whose
rules :func:`long_table` applies to a table in memory too). A figure looks values up by
``(item, level, group, measure)``; the group sizes are the ``n`` rows of the item ``n``
(:func:`ccanalysis.tables.read.group_sizes`).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.tables.read import as_long

#: The columns of a long table that the figures use.
LONG_COLUMNS: tuple[str, ...] = ("item", "level", "group", "measure", "value")
#: Suffixes of a mean row's label that a figure leaves out (its axis says what is drawn).
STAT_SUFFIXES: tuple[str, ...] = (" – Mean (SD)", " - Mean (SD)", " mean (SD)", " (SD)")

Lookup = dict[tuple[str, str, str, str], float]


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV written by the sensitivity stage: empty cells missing, ``NA`` kept as text (the rule
    of :func:`ccanalysis.tables.read.read_long`, which reads the tables)."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def long_table(table_long: pd.DataFrame, source: str = "the long table") -> pd.DataFrame:
    """The long table with text keys and float values (:func:`ccanalysis.tables.read.as_long`);
    a missing column is an error naming it."""
    missing = [c for c in LONG_COLUMNS if c not in table_long]
    if missing:
        raise ValidationError(source, None, ", ".join(missing), None, "missing columns")
    return as_long(table_long)


def lookup(long: pd.DataFrame) -> Lookup:
    """``(item, level, group, measure) -> value`` of a :func:`long_table`."""
    return {
        (r.item, r.level, r.group, r.measure): float(r.value)
        for r in long[list(LONG_COLUMNS)].itertuples(index=False)
    }


def strip_stat(label: str) -> str:
    """A mean row's label without its statistic: ``"Hours/week – Mean (SD)"`` -> ``"Hours/week"``."""
    for suffix in STAT_SUFFIXES:
        if label.endswith(suffix):
            return label[: -len(suffix)]
    return label
