"""What the figures read: the long tables of the tables stage, as lookups.

The tables stage writes ``tables/tableN.csv`` in the long format of docs/ARCHITECTURE.md (``table, item,
level, group, measure, value``). A figure looks values up by ``(item, level, group, measure)``; the
group sizes are the ``n`` rows of the item ``n``.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ccanalysis.errors import ValidationError

#: The columns of a long table that the figures use.
LONG_COLUMNS: tuple[str, ...] = ("item", "level", "group", "measure", "value")
#: Suffixes of a mean row's label that a figure leaves out (its axis says what is drawn).
STAT_SUFFIXES: tuple[str, ...] = (" – Mean (SD)", " - Mean (SD)", " mean (SD)", " (SD)")

Lookup = dict[tuple[str, str, str, str], float]


def read_table(path: str | Path) -> pd.DataFrame:
    """A CSV written by the tables or sensitivity stage: empty cells missing, ``NA`` kept as text."""
    return pd.read_csv(path, keep_default_na=False, na_values=[""])


def text(values: pd.Series) -> pd.Series:
    """Strings, missing values as ''."""
    obj = values.astype(object)
    return obj.where(obj.notna(), "").astype(str)


def long_table(table_long: pd.DataFrame, source: str = "the long table") -> pd.DataFrame:
    """The long table with text keys and float values; a missing column is an error naming it."""
    missing = [c for c in LONG_COLUMNS if c not in table_long]
    if missing:
        raise ValidationError(source, None, ", ".join(missing), None, "missing columns")
    out = table_long.copy()
    for c in ("item", "level", "group", "measure"):
        out[c] = text(out[c])
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    return out


def lookup(long: pd.DataFrame) -> Lookup:
    """``(item, level, group, measure) -> value`` of a :func:`long_table`."""
    return {
        (r.item, r.level, r.group, r.measure): float(r.value)
        for r in long[list(LONG_COLUMNS)].itertuples(index=False)
    }


def group_sizes(long: pd.DataFrame) -> dict[str, int]:
    """Units per group: the ``n`` rows of the item ``n`` (groups without a number left out)."""
    rows = long[(long["item"] == "n") & (long["measure"] == "n")]
    return {
        g: int(v) for g, v in zip(rows["group"], rows["value"], strict=True) if math.isfinite(v)
    }


def strip_stat(label: str) -> str:
    """A mean row's label without its statistic: ``"Hours/week – Mean (SD)"`` -> ``"Hours/week"``."""
    for suffix in STAT_SUFFIXES:
        if label.endswith(suffix):
            return label[: -len(suffix)]
    return label
