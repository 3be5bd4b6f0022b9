"""Reading the replication's inputs: the printed tables, the study facts, the reproduced tables.

Printed numbers are kept as the text the paper prints (``"25.0"`` stays ``"25.0"``): the number of
printed decimals is part of what a printed cell means (:func:`ccanalysis.printing.parse_printed`).
The folders come from :class:`ccanalysis.paths.Paths` (``paths.published``, ``paths.tables``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ccanalysis.tables.read import read_long

#: The key of a cell in the long tables (docs/ARCHITECTURE.md): a printed cell and its reproduction share it.
KEYS = ["table", "item", "level", "group", "measure"]
PUBLISHED_FILE = "published_long.csv"
FACTS_FILE = "study_facts.csv"
TABLES = ("table1", "table2", "table3", "table4")


def read_text_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV keeping every cell as printed text (no NaN, no numeric conversion)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df.astype(object)


def load_published(published_dir: str | Path) -> pd.DataFrame:
    """``published_long.csv`` of ``published_dir``, every value kept as printed text."""
    return read_text_csv(Path(published_dir) / PUBLISHED_FILE)


def load_study_facts(published_dir: str | Path) -> pd.DataFrame:
    """``study_facts.csv`` of ``published_dir`` (key, value, where_in_paper) as text."""
    return read_text_csv(Path(published_dir) / FACTS_FILE)


def load_reproduced(tables_dir: str | Path, names: Sequence[str] = TABLES) -> pd.DataFrame:
    """The reproduced long tables ``<tables_dir>/table1.csv`` ... concatenated.

    A missing table is skipped: its printed cells are then reported as ``missing``, not an error.
    Each is read as the tables stage reads its own files (:func:`ccanalysis.tables.read.read_long`).
    """
    frames = []
    for name in names:
        path = Path(tables_dir) / f"{name}.csv"
        if path.is_file():
            frames.append(read_long(path))
    if not frames:
        return pd.DataFrame(columns=[*KEYS, "value"])
    return pd.concat(frames, ignore_index=True)


def norm_keys(df: pd.DataFrame) -> pd.DataFrame:
    """The key columns as text, a missing level or group as ``""`` (both files agree on keys)."""
    out = df.copy()
    for c in KEYS:
        if c not in out.columns:
            raise ValueError(f"long table lacks column {c!r}")
        out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
        out[c] = out[c].replace({"nan": "", "<NA>": "", "None": ""})
    return out
