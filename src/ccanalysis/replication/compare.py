"""Published vs reproduced: every printed cell beside the reproduced value, with a verdict.

A printed cell is a text (``"15.8"``, ``"100"``, ``"<0.001"``, ``">0.9"``) standing for an interval
of true values (:func:`ccanalysis.printing.parse_printed`): a plain number with ``d`` printed
decimals stands for ``[x - h, x + h]`` with ``h = 0.5 * 10**-d``, both ends included, so that either
half-rounding convention (R's ``round``/``sprintf`` or half up) is accepted; ``"<x"`` stands for
``[0, x)`` and ``">x"`` for ``(x, inf)``. For p-values below 1 this is also "at the printed number of
significant digits", because the paper prints p with leading zeros only.

A reproduced value is ``equal`` when it lies in the interval, else ``different``; ``missing`` when
the reproduction has no value for the cell. ``difference`` is reproduced - printed for plain numbers
(also when equal, so that near misses can be seen), and for ``<x`` / ``>x`` 0 when the bound holds,
else reproduced - x.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ccanalysis.printing import parse_printed
from ccanalysis.replication.load import KEYS, norm_keys

COMPARISON_COLUMNS = [
    *KEYS,
    "published",
    "reproduced",
    "verdict",
    "difference",
    "printed_low",
    "printed_high",
]


def compare(published_long: pd.DataFrame, reproduced_long: pd.DataFrame) -> pd.DataFrame:
    """Every printed cell beside the reproduced value, with a verdict.

    Parameters
    ----------
    published_long : ``published_long.csv`` (values as printed text; :func:`load_published`).
    reproduced_long : the reproduced long tables (long format of docs/ARCHITECTURE.md, ``value`` numeric and unrounded:
        pct 0-100, p unrounded), e.g. ``tables/table1.csv`` ... ``table4.csv`` concatenated.

    Returns
    -------
    One row per published cell: ``table, item, level, group, measure, published, reproduced,
    verdict, difference, printed_low, printed_high``; verdict is ``equal`` (the reproduced value
    prints as the published text), ``different`` or ``missing`` (no reproduced value).
    """
    pub = norm_keys(published_long)
    rep = norm_keys(reproduced_long)
    rep = rep.assign(reproduced=pd.to_numeric(rep["value"], errors="coerce"))
    rep = rep.drop_duplicates(KEYS, keep="first")[[*KEYS, "reproduced"]]
    pub = pub.assign(published=pub["value"].astype(str))[[*KEYS, "published"]]
    out = pub.merge(rep, on=KEYS, how="left", sort=False)
    verdicts, diffs, lows, highs = [], [], [], []
    for text, x in zip(out["published"], out["reproduced"], strict=True):
        pr = parse_printed(text)
        lows.append(pr.low)
        highs.append(pr.high)
        if x is None or pd.isna(x):
            verdicts.append("missing")
            diffs.append(math.nan)
            continue
        x = float(x)
        verdicts.append("equal" if pr.holds(x) else "different")
        diffs.append(pr.difference(x))
    out["reproduced"] = out["reproduced"].astype(float)
    out["verdict"] = verdicts
    out["difference"] = np.asarray(diffs, dtype=float)
    out["printed_low"] = np.asarray(lows, dtype=float)
    out["printed_high"] = np.asarray(highs, dtype=float)
    return out[COMPARISON_COLUMNS].reset_index(drop=True)


def summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Cells compared and matched, per table and in all (last row ``table == "all"``).

    Columns: table, cells, compared (a reproduced value exists), equal, different, missing,
    pct_equal (of the compared cells).
    """
    rows = []
    for name, grp in [*comparison.groupby("table", sort=True), ("all", comparison)]:
        v = grp["verdict"]
        compared = int((v != "missing").sum())
        equal = int((v == "equal").sum())
        rows.append(
            {
                "table": name,
                "cells": len(grp),
                "compared": compared,
                "equal": equal,
                "different": int((v == "different").sum()),
                "missing": int((v == "missing").sum()),
                "pct_equal": round(100 * equal / compared, 1) if compared else math.nan,
            }
        )
    return pd.DataFrame(rows)


def differences(comparison: pd.DataFrame) -> pd.DataFrame:
    """The cells whose reproduction does not print as the paper (different or missing)."""
    cols = ["table", "item", "level", "group", "measure", "published", "reproduced", "difference"]
    return comparison.loc[comparison["verdict"] != "equal", cols]
