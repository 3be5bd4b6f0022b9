"""The one reader of the long tables (``tables/tableN.csv``): keys as text (a level ``NA`` stays
``NA``), numbers as floats (empty or ``<11`` missing); :func:`as_long`: the same in memory.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

KEYS: tuple[str, ...] = ("table", "item", "level", "group", "measure")
NUMERIC: tuple[str, ...] = ("value", "diff", "diff_lo", "diff_hi", "q", "p_level")


def text(values: pd.Series) -> pd.Series:
    """Strings, missing values as ''."""
    return values.astype(object).fillna("").astype(str)


def as_long(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a long table with text keys and float numbers (the columns it has)."""
    out = frame.copy()
    for col in out.columns.intersection(KEYS):
        out[col] = text(out[col])
    for col in out.columns.intersection(NUMERIC):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def read_long(path: str | Path) -> pd.DataFrame:
    """``tables/tableN.csv`` (or any file of the long format) as :func:`as_long` frames it."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=dict.fromkeys(KEYS, str))
    return as_long(frame)


def group_sizes(long: pd.DataFrame) -> dict[str, int]:
    """The units of each group of a table (its N row; a withheld number left out)."""
    rows = long[(long["item"] == "n") & (long["measure"] == "n") & long["value"].notna()]
    return {str(g): int(v) for g, v in zip(rows["group"], rows["value"], strict=True)}
