"""The crude comparison (isw - mn), clinics independent: shares by Newcombe's hybrid score
interval and the p inverting it, means by Student's t."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ccanalysis.sensitivity.inputs import CARE_MODEL_GROUPS, CellSums, Clinics, Groups, unit_of
from ccanalysis.spec import SpecRow
from ccanalysis.stats import mean_diff_ci, newcombe_diff, t_test
from ccanalysis.stats.intervals import newcombe_p

METHOD_LEVEL = "crude difference; Newcombe hybrid score interval; p by inverting it"
METHOD_MEAN = "crude mean difference; Student t interval and test"


def record(row: SpecRow, analysis: str, **values: object) -> dict[str, object]:
    """A result record of ``row`` by ``analysis``."""
    keys = {"table": row.table, "item": row.item, "level": row.level, "label": row.label}
    return {**keys, "analysis": analysis, "unit": unit_of(row), **values}


def unadjusted(
    data: Clinics,
    cells: CellSums,
    rows: Sequence[SpecRow],
    groups: Groups = CARE_MODEL_GROUPS,
) -> list[dict[str, object]]:
    """One ``unadjusted`` record per row."""
    n, s = cells.n.sum(axis=(0, 1)), cells.s.sum(axis=(0, 1))  # (2, J) each
    out: list[dict[str, object]] = []
    for j, row in enumerate(rows):
        n0, n1 = int(n[0, j]), int(n[1, j])
        note = ""
        est = lo = hi = p = v0 = v1 = df = math.nan
        if n0 == 0 or n1 == 0:
            note = f"no answers in a {groups.kind}: not estimable"
        elif row.continuous:
            ok = data.valid[:, j]
            x1, x0 = data.y[ok & (data.group == 1), j], data.y[ok & (data.group == 0), j]
            v0, v1 = float(x0.mean()), float(x1.mean())
            if n0 < 2 or n1 < 2 or (np.ptp(x0) == 0 and np.ptp(x1) == 0):
                est, note = v1 - v0, "not estimable: too few answers or no variation for a t test"
            else:
                est, lo, hi = mean_diff_ci(x1, x0)
                p, df = t_test(x1, x0).p, float(n0 + n1 - 2)
        else:
            k0, k1 = int(round(s[0, j])), int(round(s[1, j]))
            v0, v1 = 100.0 * k0 / n0, 100.0 * k1 / n1
            est, lo, hi = (100.0 * x for x in newcombe_diff(k1, n1, k0, n0))
            p = newcombe_p(k1, n1, k0, n0)
        out.append(
            record(
                row,
                "unadjusted",
                estimate=float(est),
                ci_low=float(lo),
                ci_high=float(hi),
                p=float(p),
                df=df,
                method=METHOD_MEAN if row.continuous else METHOD_LEVEL,
                note=note,
                value_ref=v0,
                value_cmp=v1,
                n_ref=n0,
                n_cmp=n1,
                clusters=math.nan,  # clinics taken as independent
            )
        )
    return out
