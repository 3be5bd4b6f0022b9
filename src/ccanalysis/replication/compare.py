"""Every printed cell beside the reproduced value: ``equal`` inside the interval the printed text
stands for (``parse_printed``: ``"15.8"`` is [15.75, 15.85], ``"<x"`` [0, x)), else ``different``;
``missing`` without one."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ccanalysis.io import read_as_printed
from ccanalysis.printing import parse_printed
from ccanalysis.tables import read
from ccanalysis.tables.grid import anchor as read_anchor

#: The paper's printed numbers under the project root, and their files (named here and in
#: ``synth.targets``, the other reader: neither may import the other).
PUBLISHED = Path("data") / "published"
PUBLISHED_TABLES, STUDY_FACTS = "published_long.csv", "study_facts.csv"
#: The key of a cell in the long tables: a printed cell and its reproduction share it.
KEYS = list(read.KEYS)
COMPARISON_COLUMNS = [*KEYS, "published", "reproduced", "verdict", "difference"]
COMPARISON_COLUMNS += ["printed_low", "printed_high"]


def read_published(published_dir: str | Path) -> pd.DataFrame:
    """The printed tables (table, item, level, group, measure, value), as printed text."""
    return read_as_printed(Path(published_dir) / PUBLISHED_TABLES)


def read_study_facts(published_dir: str | Path) -> pd.DataFrame:
    """The facts of the paper's text (key, value, where_in_paper), as printed text."""
    return read_as_printed(Path(published_dir) / STUDY_FACTS)


def load_reproduced(tables_dir: str | Path) -> pd.DataFrame:
    """The reproduced ``table1.csv`` ... ``table4.csv``, concatenated; a missing one skipped."""
    paths = [Path(tables_dir) / f"table{i}.csv" for i in range(1, 5)]
    frames = [read.read_long(p) for p in paths if p.is_file()]
    return (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*KEYS, "value"])
    )


def compare(published_long: pd.DataFrame, reproduced_long: pd.DataFrame) -> pd.DataFrame:
    """Every printed cell beside the reproduced value: ``verdict``, ``difference`` (reproduced -
    printed; 0 when a bound holds), the printed interval ``printed_low``, ``printed_high``."""
    rep = read.as_long(reproduced_long[[*KEYS, "value"]]).drop_duplicates(KEYS)
    out = published_long[KEYS].assign(published=published_long["value"].astype(str))
    out = out.merge(rep.rename(columns={"value": "reproduced"}), on=KEYS, how="left")
    printed = [parse_printed(text) for text in out["published"]]
    out["verdict"] = [
        "missing" if pd.isna(x) else "equal" if pr.holds(x) else "different"
        for pr, x in zip(printed, out["reproduced"], strict=True)
    ]
    out["difference"] = [pr.difference(x) for pr, x in zip(printed, out["reproduced"], strict=True)]
    out["printed_low"] = [pr.low for pr in printed]
    out["printed_high"] = [pr.high for pr in printed]
    return out[COMPARISON_COLUMNS]


def summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Cells, compared, equal, different, missing and pct_equal per table, then ``"all"``."""
    rows = []
    for name, grp in [*comparison.groupby("table", sort=True), ("all", comparison)]:
        n = {v: int((grp["verdict"] == v).sum()) for v in ("equal", "different", "missing")}
        compared = len(grp) - n["missing"]
        pct_equal = round(100 * n["equal"] / compared, 1) if compared else math.nan
        rows.append(
            {"table": name, "cells": len(grp), "compared": compared, **n, "pct_equal": pct_equal}
        )
    return pd.DataFrame(rows)


def cell_anchor(table: str, item: str, level: str, group: str, measure: str) -> str:
    """The id of a cell's row in the replication report: ``r-t3-item[-level]-group-measure``."""
    return "-".join(["r", read_anchor(table, item, level), group, measure])


def differences(comparison: pd.DataFrame) -> pd.DataFrame:
    """The cells not reproduced as printed, with their anchors (``_id``)."""
    cols = ["table", "item", "level", "group", "measure", "published", "reproduced", "difference"]
    out = comparison.loc[comparison["verdict"] != "equal", cols]
    return out.assign(_id=[cell_anchor(*k) for k in out[KEYS].itertuples(index=False)])
