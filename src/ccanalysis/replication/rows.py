"""The consistency report's rows: their columns, and the wording its three sections share.

The consistency check of the printed tables (sections ``pvalue``, ``grim`` and ``text``) is one long
frame, a row per check, each with a worded ``explanation`` that can be redone by hand. The columns,
the row constructor and the wording of p-values and printed intervals live here, so that the three
sections read alike.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ccanalysis.printing import Printed
from ccanalysis.replication.items import Item

CONSISTENCY_COLUMNS = [
    "section",
    "table",
    "item",
    "level",
    "group",
    "check",
    "test",
    "printed",
    "reference",
    "p_min",
    "p_max",
    "p_min_fewest_missing",
    "p_max_fewest_missing",
    "missing_needed",
    "candidates",
    "verdict",
    "other_tests",
    "explanation",
]
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


def check_row(**kw: object) -> dict[str, object]:
    """A consistency row: every column empty (NaN p-values, NA counts) except those given."""
    base: dict[str, object] = dict.fromkeys(CONSISTENCY_COLUMNS, "")
    for c in ("p_min", "p_max", "p_min_fewest_missing", "p_max_fewest_missing"):
        base[c] = math.nan
    base["missing_needed"] = pd.NA
    base["candidates"] = pd.NA
    base.update(kw)
    return base


def item_row(section: str, it: Item, **kw: object) -> dict[str, object]:
    """A consistency row of ``section`` about the printed item ``it``."""
    return check_row(section=section, table=it.table, item=it.item, **kw)


def fmt_p(p: float) -> str:
    """A computed p-value in an explanation: four decimals, or two significant digits below 1e-4."""
    if not np.isfinite(p):
        return "NA"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.4f}"


def fmt_range(lo: float, hi: float) -> str:
    """A range of p-values in an explanation (``"0.0051-0.0072"``)."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not computable"
    return f"{fmt_p(lo)}-{fmt_p(hi)}"


def interval_text(pr: Printed) -> str:
    """What a printed p stands for: ``p < 0.001``, ``p > 0.9``, ``p in [0.375, 0.385]``."""
    if pr.kind == "lt":
        return f"p < {pr.value:g}"
    if pr.kind == "gt":
        return f"p > {pr.value:g}"
    return f"p in [{pr.low:.{pr.decimals + 1}f}, {pr.high:.{pr.decimals + 1}f}]"
