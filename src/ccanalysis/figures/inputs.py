"""The long tables as the figures read them: ``(item, level, group, measure) -> value``.

The files are read by :func:`ccanalysis.tables.read.read_long`; a table in memory gets the same
rules through :func:`ccanalysis.tables.read.as_long`.
"""

from __future__ import annotations

import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.tables.read import as_long

#: The columns of a long table that the figures use.
LONG_COLUMNS: tuple[str, ...] = ("item", "level", "group", "measure", "value")
#: Suffixes of a mean row's label that a figure leaves out (its axis says what is drawn).
STAT_SUFFIXES: tuple[str, ...] = (" – Mean (SD)", " - Mean (SD)", " mean (SD)", " (SD)")

Lookup = dict[tuple[str, str, str, str], float]


def lookup(table_long: pd.DataFrame, source: str = "the long table") -> Lookup:
    """``(item, level, group, measure) -> value`` of a long table; a missing column is an error."""
    missing = [c for c in LONG_COLUMNS if c not in table_long]
    if missing:
        raise ValidationError(source, None, ", ".join(missing), None, "missing columns")
    long = as_long(table_long)[list(LONG_COLUMNS)]
    return {(r.item, r.level, r.group, r.measure): float(r.value) for r in long.itertuples()}


def strip_stat(label: str) -> str:
    """A mean row's label without its statistic: ``"Hours/week – Mean (SD)"`` -> ``"Hours/week"``."""
    for suffix in STAT_SUFFIXES:
        if label.endswith(suffix):
            return label[: -len(suffix)]
    return label
