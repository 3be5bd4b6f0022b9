"""The printed tables item by item (:class:`Item`); the consistency report's columns and rows."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ccanalysis.printing import Printed
from ccanalysis.spec import Spec

#: The columns of the consistency report (``p_*``: the range of p-values a row allows).
CONSISTENCY_COLUMNS = (
    "section table item level group check test printed reference p_min p_max p_min_fewest_missing "
    "p_max_fewest_missing missing_needed candidates verdict other_tests explanation"
).split()
#: Names of the tests as the explanations spell them.
TEST_NAMES = {
    "fisher": "Fisher's exact",
    "chisq": "chi-square (no Yates)",
    "chisq_yates": "chi-square with Yates",
    "student_t": "Student's t",
    "welch_t": "Welch's t",
    "anova": "one-way ANOVA",
    "welch_anova": "Welch's ANOVA",
}
#: Slack when a computed number is compared with a closed end of an interval.
EPS = 1e-9


@dataclass
class Item:
    """The printed cells of one item as text; ``groups``: the tested ones (no total)."""

    table: str
    item: str
    levels: list[str]
    groups: list[str]
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
    """Every printed item but N, in order; unlisted in the spec: binary with Fisher's, or mean."""
    spec_by = {(r.table, r.item): r for r in spec}
    pub = published_long.sort_values("table", kind="stable")
    out = []
    for table, cells in pub.groupby("table", sort=False):
        n = {r.group: int(r.value) for r in cells[cells["item"] == "n"].itertuples()}
        for item, d in cells[cells["item"] != "n"].groupby("item", sort=False):
            val = {(r.level, r.group, r.measure): r.value for r in d.itertuples()}
            levels = [lv for lv in dict.fromkeys(d["level"]) if lv != ""]
            sr = spec_by.get((table, item))
            keys = [(lv, g) for lv in levels for g in n]
            out.append(
                Item(
                    table=table,
                    item=item,
                    levels=levels,
                    groups=[g for g in n if g != "total"],
                    n=n,
                    pct={k: val[*k, "pct"] for k in keys if (*k, "pct") in val},
                    count={k: val[*k, "n"] for k in keys if (*k, "n") in val},
                    mean={g: val["", g, "mean"] for g in n if ("", g, "mean") in val},
                    sd={g: val["", g, "sd"] for g in n if ("", g, "sd") in val},
                    p=val.get(("", "all", "p")),
                    shown=sr.shown if sr else ("binary" if levels else "mean_sd"),
                    test=sr.test if sr else "fisher",
                    combine="+".join(sr.combine) if sr else "",
                )
            )
    return out


def limit(n: int, max_missing: int | None) -> int:
    """Item nonresponse allowed in a group of N = n: a tenth of n (floor), capped by max_missing."""
    lim = math.floor(0.10 * n + 1e-9)
    return lim if max_missing is None else min(lim, max_missing)


def mean_box(means: Sequence[float], half: float) -> list[np.ndarray]:
    """True means of printed ones (+- half): the box's corners, and the means clamped to a grid
    of common values (as close together as the box allows)."""
    lo, hi = np.asarray(means, float) - half, np.asarray(means, float) + half
    corners = [np.array(c) for c in itertools.product(*zip(lo, hi, strict=True))]
    return corners + [np.clip(c, lo, hi) for c in np.linspace(lo.min(), hi.max(), 41)]


def check_row(section: str, it: Item | None = None, **kw: object) -> dict[str, object]:
    """A consistency row of ``section`` about ``it``: empty (NaN p, NA counts) but ``kw``."""
    row: dict[str, object] = dict.fromkeys(CONSISTENCY_COLUMNS, "")
    row.update(dict.fromkeys(CONSISTENCY_COLUMNS[9:13], math.nan))
    row |= {"section": section, "missing_needed": pd.NA, "candidates": pd.NA}
    return row | ({"table": it.table, "item": it.item} if it else {}) | kw


def grim_row(
    it: Item,
    check: str,
    ok: object,
    group: str,
    printed: object,
    reference: object,
    why: str,
    **kw: object,
) -> dict[str, object]:
    """A ``grim`` row, ``consistent`` when ``ok``, explained by ``why``; ``kw``: other cells."""
    cells = {
        "group": group,
        "printed": str(printed),
        "reference": str(reference),
        "explanation": why,
    }
    verdict = "consistent" if ok else "inconsistent"
    return check_row("grim", it, check=check, verdict=verdict, **cells, **kw)


def fmt_range(lo: float, hi: float) -> str:
    """A range of p-values as explained (``"0.0051-0.0072"``; two significant digits below 1e-4)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not computable"
    return "-".join(f"{p:.1e}" if p < 1e-4 else f"{p:.4f}" for p in (lo, hi))


def interval_text(pr: Printed) -> str:
    """What a printed p stands for: ``p < 0.001``, ``p > 0.9``, ``p in [0.375, 0.385]``."""
    if pr.kind == "lt":
        return f"p < {pr.value:g}"
    if pr.kind == "gt":
        return f"p > {pr.value:g}"
    return f"p in [{pr.low:.{pr.decimals + 1}f}, {pr.high:.{pr.decimals + 1}f}]"
