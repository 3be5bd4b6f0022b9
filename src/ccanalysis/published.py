"""The paper's printed numbers, as printed: the one reader of ``data/published/``, imported only
by the synthesizer and the replication (``tests/test_architecture.py``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

#: The files of ``data/published/``: every number printed in the tables, and the facts of the text.
PUBLISHED_FILE = "published_long.csv"
FACTS_FILE = "study_facts.csv"


def read_printed(path: str | Path) -> pd.DataFrame:
    """A CSV of ``data/published/`` with every cell kept as the printed text (no NaN, no number):
    ``"25.0"`` stays ``"25.0"``, since the printed decimals are part of what a cell means."""
    return pd.read_csv(path, dtype=str, keep_default_na=False).astype(object)


def read_published(published_dir: str | Path) -> pd.DataFrame:
    """``published_long.csv`` of ``published_dir`` (table, item, level, group, measure, value),
    as printed text."""
    return read_printed(Path(published_dir) / PUBLISHED_FILE)


def read_study_facts(published_dir: str | Path) -> pd.DataFrame:
    """``study_facts.csv`` of ``published_dir`` (key, value, where_in_paper), as printed text."""
    return read_printed(Path(published_dir) / FACTS_FILE)
