"""The one reader of the long tables this stage writes (``tables/tableN.csv``), for every later reader.

The figures, the replication and the landing page read the files through :func:`read_long`, so a
cell means the same to each of them. Its rules, once:

* the keys (``table, item, level, group, measure``) are text, an empty cell ``""``; any other text
  stays as written (a level may be called ``NA`` or ``None``: pandas' default would make it
  missing);
* the numbers (``value``, the difference and its interval, ``q``, ``p_level``) are floats, and a
  cell that is not a number is missing: an empty one, or a count suppressed in privacy mode
  (``<11``), so that nothing derived from it is shown;
* the other columns (``test``, ``note`` ...) are text, an empty cell missing.

:func:`as_long` applies the same rules to a long table in memory (a summary's ``.long``).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

#: The key of a cell (docs/ARCHITECTURE.md's long format).
KEYS: tuple[str, ...] = ("table", "item", "level", "group", "measure")
#: The columns of a long table that hold numbers.
NUMERIC: tuple[str, ...] = ("value", "diff", "diff_lo", "diff_hi", "q", "p_level")


def text(values: pd.Series) -> pd.Series:
    """Strings, missing values as ''."""
    obj = values.astype(object)
    return obj.where(obj.notna(), "").astype(str)


def as_long(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a long table with text keys and float numbers (the rules of this module); the
    columns it lacks are left out, those it does not know are kept as they are."""
    out = frame.copy()
    for col in KEYS:
        if col in out.columns:
            out[col] = text(out[col])
    for col in NUMERIC:
        if col in out.columns:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def read_long(path: str | Path) -> pd.DataFrame:
    """``tables/tableN.csv`` (or any file of the long format) as :func:`as_long` frames it."""
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=dict.fromkeys(KEYS, str))
    return as_long(frame)


def group_sizes(long: pd.DataFrame) -> dict[str, int]:
    """The units of each group of a table: the ``n`` rows of the item ``n`` (a group whose number
    is missing, suppressed say, is left out)."""
    rows = long[(long["item"] == "n") & (long["measure"] == "n")]
    return {
        str(g): int(v)
        for g, v in zip(rows["group"], rows["value"], strict=True)
        if not pd.isna(v) and math.isfinite(float(v))
    }
