"""Reading the replication's inputs: the printed tables, the study facts, the reproduced tables.

Printed numbers are kept as the text the paper prints (``"25.0"`` stays ``"25.0"``): the number of
printed decimals is part of what a printed cell means (:func:`ccanalysis.printing.parse_printed`).
The printed files are read by the synthesizer's readers (:mod:`ccanalysis.synth.targets`), the
reproduced tables by the tables stage's (:mod:`ccanalysis.tables.read`).
The folders come from :class:`ccanalysis.paths.Paths` (``paths.published``, ``paths.tables``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ccanalysis.published import read_published, read_study_facts
from ccanalysis.tables import read

#: The key of a cell in the long tables (docs/ARCHITECTURE.md): a printed cell and its reproduction share it.
KEYS = list(read.KEYS)
TABLES = ("table1", "table2", "table3", "table4")
#: The printed tables and the study facts, read as the synthesizer reads its targets.
load_published = read_published
load_study_facts = read_study_facts


def load_reproduced(tables_dir: str | Path, names: Sequence[str] = TABLES) -> pd.DataFrame:
    """The reproduced long tables ``<tables_dir>/table1.csv`` ... concatenated.

    A missing table is skipped: its printed cells are then reported as ``missing``, not an error.
    Each is read as the tables stage reads its own files (:func:`ccanalysis.tables.read.read_long`).
    """
    frames = []
    for name in names:
        path = Path(tables_dir) / f"{name}.csv"
        if path.is_file():
            frames.append(read.read_long(path))
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
