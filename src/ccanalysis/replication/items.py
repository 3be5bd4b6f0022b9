"""The printed tables read item by item, as the consistency checks need them.

An :class:`Item` gathers every printed cell of one item of one table (percentages, counts, means,
SDs, the p-value, the group sizes) with how the table specification shows and tests it, so that the
p-value and GRIM checks read plain dicts rather than filtering a frame per item.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ccanalysis.replication.load import norm_keys
from ccanalysis.spec import Spec


@dataclass
class Item:
    """The printed cells of one item: values keyed by (level, group) or group, as printed text."""

    table: str
    item: str
    levels: list[str]
    groups: list[str]  # tested groups (total excluded)
    n: dict[str, int]
    pct: dict[tuple[str, str], str]
    count: dict[tuple[str, str], str]
    mean: dict[str, str]
    sd: dict[str, str]
    p: str | None
    shown: str
    test: str
    combine: str


def items(published_long: pd.DataFrame, spec: Spec) -> list[Item]:
    """Every printed item but the group sizes, tables in order, items in printed order.

    An item the specification does not list is read as a binary row tested with Fisher's test, or
    as a mean row when it prints no levels (the paper's defaults).
    """
    pub = norm_keys(published_long)
    spec_by = {(r.table, r.item): r for r in spec}
    # rows grouped by table, then by item, in order of appearance: plain dicts of tuples
    # (pandas masks per item cost ~0.1 s per call on the paper's tables)
    by_table: dict[str, dict[str, list[tuple[str, str, str, object]]]] = {}
    cols = (pub[c] for c in ("table", "item", "level", "group", "measure", "value"))
    for table, item, level, group, measure, value in zip(*cols, strict=True):
        by_table.setdefault(table, {}).setdefault(item, []).append((level, group, measure, value))
    out: list[Item] = []
    for table in sorted(by_table):
        by_item = by_table[table]
        n = {g: int(v) for _, g, _, v in by_item.get("n", [])}
        groups = [g for g in n if g != "total"]
        for item, d in by_item.items():
            if item == "n":
                continue
            levels = [lv for lv in dict.fromkeys(r[0] for r in d) if lv != ""]
            sr = spec_by.get((table, item))
            vals = {(lv, g, ms): v for lv, g, ms, v in d}
            out.append(
                Item(
                    table=table,
                    item=item,
                    levels=levels,
                    groups=groups,
                    n=n,
                    pct={
                        (lv, g): vals[(lv, g, "pct")]
                        for lv in levels
                        for g in n
                        if (lv, g, "pct") in vals
                    },
                    count={
                        (lv, g): vals[(lv, g, "n")]
                        for lv in levels
                        for g in n
                        if (lv, g, "n") in vals
                    },
                    mean={g: vals[("", g, "mean")] for g in n if ("", g, "mean") in vals},
                    sd={g: vals[("", g, "sd")] for g in n if ("", g, "sd") in vals},
                    p=vals.get(("", "all", "p")),
                    shown=(sr.shown if sr is not None else ("mean_sd" if not levels else "binary")),
                    test=(sr.test if sr is not None else "fisher"),
                    combine=("+".join(sr.combine) if sr is not None else ""),
                )
            )
    return out


def limit(n: int, max_missing_frac: float, max_missing: int | None) -> int:
    """Item nonresponse allowed in a group of N = n: floor(frac * n), capped by max_missing."""
    lim = math.floor(max_missing_frac * n + 1e-9)
    return lim if max_missing is None else min(lim, max_missing)
