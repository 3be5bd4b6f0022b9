"""Each row's verdict under each analysis: ``higher`` (95% interval above 0), ``lower``,
``no difference`` or ``not estimable`` (each p inverts its interval, so it agrees with
``p < 0.05``), and where it changes between the two analyses of a pair of :data:`PAIRS`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

KEY = ["table", "item", "level"]
#: The comparisons (before, after) whose changes of verdict the stage reports.
PAIRS: tuple[tuple[str, str], ...] = (
    ("unadjusted", "gee_care_system"),
    ("gee_care_system", "standardized_isw"),
    ("gee_care_system", "standardized_total"),
    ("gee_care_system", "gee_care_system_exchangeable"),
)


def changes(results: pd.DataFrame, pairs: Sequence[tuple[str, str]] = PAIRS) -> pd.DataFrame:
    """Per pair present and row in both: ``comparison``, verdicts ``before`` and ``after``,
    ``changed`` (never for a row not estimable in either)."""
    est, lo, hi = (results[c].to_numpy(float) for c in ("estimate", "ci_low", "ci_high"))
    finite = np.isfinite(est) & np.isfinite(lo) & np.isfinite(hi)
    verdict = np.select(
        [~finite, lo > 0, hi < 0], ["not estimable", "higher", "lower"], "no difference"
    )
    v = results[["analysis", *KEY]].assign(verdict=verdict)
    parts = []
    for a, b in pairs:
        before = v[v["analysis"] == a].drop(columns="analysis")
        after = v[v["analysis"] == b].drop(columns="analysis")
        both = before.merge(after, on=KEY, suffixes=("_a", "_b"))
        both.columns = [*KEY, "before", "after"]
        estimable = (both[["before", "after"]] != "not estimable").all(axis=1)
        both["changed"] = (both["before"] != both["after"]) & estimable
        if len(before) and len(after):
            parts.append(both.assign(comparison=f"{a} -> {b}"))
    cols = ["comparison", *KEY, "before", "after", "changed"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def changed_rows(changes: pd.DataFrame, labels: dict[tuple[str, str, str], str]) -> pd.DataFrame:
    """Per comparison: the rows compared, how many change verdict and which."""
    keyed = changes[[*KEY, "before", "after"]].to_numpy()
    named = changes.assign(row=[f"{labels.get(tuple(k), k[1])} ({b} -> {a})" for *k, b, a in keyed])
    out = named.groupby("comparison", sort=False).agg(
        rows=("changed", "size"),
        changed=("changed", "sum"),
        which=("row", lambda r: "; ".join(r[named.loc[r.index, "changed"]])),
    )
    return out.reset_index().set_axis(["Comparison", "Rows", "Changes", "Which"], axis=1)
