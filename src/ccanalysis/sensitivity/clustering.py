"""The clustered comparisons: GEE on the difference scale, clinics clustered by care system.

* ``gee_care_system`` (the primary clustered analysis): independence working correlation, so the
  estimate is the crude difference (same estimand); robust SE with the Mancl-DeRouen small-sample
  correction; t reference with K - 2 degrees of freedom, K the care systems with answers
  (:func:`ccanalysis.stats.clustered.gee_difference`).
* ``gee_care_system_exchangeable`` (secondary): exchangeable working correlation within care
  systems. Its estimand differs: generalized least squares weights a system's clinics less the
  larger the system, a cluster-weighted difference between the crude one and the difference of
  system means. A rho outside its valid range, or no convergence, falls back to independence (the
  note says so, the method names what was used).
* ``gee_coordinator``: only when the data show coordinators working in more than one care system.
  Coordinators nested in care systems are accounted for by the care-system clustering (the robust
  SE allows any correlation within a system), so a separate analysis would add nothing; whether
  they are nested is decided from the data and said in the stage's notes.

Level rows are differences of shares in percentage points (the 0/1 indicator's mean), mean rows
mean differences in the item's unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ccanalysis.sensitivity.inputs import CellSums, Clinics, unit_of
from ccanalysis.spec import SpecRow
from ccanalysis.stats.clustered import ClusterSums, DifferenceFit, cluster_sums, gee_difference

__all__ = ["METHODS", "clustered", "coordinator_crossing"]

_MD = "Mancl-DeRouen robust SE; t(K - 2)"
METHODS: dict[str, str] = {
    "gee_care_system": f"GEE, independence working correlation, clustered by care system; {_MD}",
    "gee_care_system_exchangeable": (
        "GEE, exchangeable working correlation within care systems (cluster-weighted estimand); "
        f"{_MD}"
    ),
    "gee_care_system_exchangeable/fallback": (
        "GEE, independence working correlation (exchangeable fell back, see note), clustered "
        f"by care system; {_MD}"
    ),
    "gee_coordinator": f"GEE, independence working correlation, clustered by coordinator; {_MD}",
}


def coordinator_crossing(data: Clinics) -> tuple[int, int]:
    """(coordinators working in more than one care system, coordinators)."""
    if data.coordinator is None:
        return 0, 0
    ok = pd.notna(data.coordinator) & (data.group >= 0)
    pairs = pd.DataFrame({"c": data.coordinator[ok], "s": data.system[ok]}).drop_duplicates()
    per = pairs.groupby("c", sort=False)["s"].size()
    return int((per > 1).sum()), int(len(per))


def _by_system(cells: CellSums) -> ClusterSums:
    return ClusterSums(cells.n.sum(axis=1), cells.s.sum(axis=1), cells.q.sum(axis=1))


def _records(
    analysis: str,
    rows: Sequence[SpecRow],
    fit: DifferenceFit,
    method_of: Callable[[dict[str, object]], str],
    n_model: NDArray[np.float64],
    extra_note: str = "",
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for j, row in enumerate(rows):
        scale = 1.0 if row.continuous else 100.0
        col = fit.column(j)
        notes = [x for x in (col["note"], extra_note) if x]
        out.append(
            {
                "table": row.table,
                "item": row.item,
                "level": row.level,
                "analysis": analysis,
                "estimate": col["estimate"] * scale,
                "ci_low": col["ci_low"] * scale,
                "ci_high": col["ci_high"] * scale,
                "p": col["p"],
                "unit": unit_of(row),
                "method": method_of(col),
                "note": "; ".join(notes),
                "label": row.label,
                "value_ref": col["mean0"] * scale,
                "value_cmp": col["mean1"] * scale,
                "n_ref": int(n_model[0, j]),
                "n_cmp": int(n_model[1, j]),
                "clusters": col["clusters"],
                "rho": col["rho"],
            }
        )
    return out


def clustered(
    data: Clinics,
    cells: CellSums,
    rows: Sequence[SpecRow],
    *,
    exchangeable: bool = True,
    coordinator: bool | None = None,
) -> tuple[list[dict[str, object]], list[str]]:
    """The GEE records of every row (see the module notes) and the notes of the analysis.

    ``coordinator``: ``None`` (default) adds the coordinator clustering when the data show
    coordinators crossing care systems; ``True``/``False`` force it on or off.
    """
    n_model = cells.by_model[0]
    sums = _by_system(cells)
    out = _records(
        "gee_care_system",
        rows,
        gee_difference(sums, working="independence"),
        lambda col: METHODS["gee_care_system"],
        n_model,
    )
    if exchangeable:
        out += _records(
            "gee_care_system_exchangeable",
            rows,
            gee_difference(sums, working="exchangeable"),
            lambda col: METHODS[
                "gee_care_system_exchangeable"
                if col["working"] == "exchangeable"
                else "gee_care_system_exchangeable/fallback"
            ],
            n_model,
        )
    crossing, n_coord = coordinator_crossing(data)
    notes = []
    if data.coordinator is None:
        notes.append("The clinic frame has no coordinator ids: no coordinator clustering.")
    elif crossing:
        notes.append(
            f"{crossing} of {n_coord} coordinators work in more than one care system: the "
            "care-system clustering does not contain them, so a clustering by coordinator "
            "is reported too (gee_coordinator)."
        )
    else:
        notes.append(
            f"Coordinators are nested in care systems (none of the {n_coord} works in two): the "
            "care-system clustering accounts for them, and no separate coordinator analysis is "
            "reported."
        )
    if coordinator or (coordinator is None and crossing):
        ok = pd.notna(data.coordinator) if data.coordinator is not None else None
        if ok is None:
            raise KeyError("the clinic frame lacks 'coordinator_id'")
        ids = np.where(ok, data.coordinator, "")
        keep = data.group >= 0
        sums_c = cluster_sums(
            data.y[keep], data.group[keep], ids[keep], valid=data.valid[keep] & ok[keep, None]
        )
        extra = (
            f"{crossing} coordinators work in more than one care system"
            if crossing
            else "coordinators nested in care systems (shown on request)"
        )
        out += _records(
            "gee_coordinator",
            rows,
            gee_difference(sums_c, working="independence"),
            lambda col: METHODS["gee_coordinator"],
            n_model,
            extra,
        )
    return out, notes
