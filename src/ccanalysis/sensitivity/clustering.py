"""The clustered comparisons, comparison - reference by GEE (:func:`ccanalysis.stats.clustered.
gee_difference`): ``gee_care_system`` (independence, the crude estimand), the secondary
``gee_care_system_exchangeable`` (cluster-weighted; falls back to independence with a note) and
``gee_coordinator``, only when coordinators work in more than one care system.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ccanalysis.sensitivity.crude import record
from ccanalysis.sensitivity.inputs import CellSums, Clinics
from ccanalysis.spec import SpecRow
from ccanalysis.stats.clustered import gee_difference

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


def _records(
    analysis: str,
    data: Clinics,
    rows: Sequence[SpecRow],
    clusters: NDArray[np.object_],
    n_model: NDArray[np.float64],
    *,
    working: str = "independence",
    extra_note: str = "",
) -> list[dict[str, object]]:
    """One record per row: the GEE difference (comparison - reference) of the clinics with an
    answer and a cluster, clustered by ``clusters``."""
    out: list[dict[str, object]] = []
    for j, row in enumerate(rows):
        scale = 1.0 if row.continuous else 100.0
        y = np.where(data.valid[:, j] & pd.notna(clusters), data.y[:, j], np.nan)
        fit = gee_difference(y, data.group, clusters, working=working)
        method = METHODS[analysis]
        if working == "exchangeable" and fit.working != "exchangeable":
            method = METHODS[f"{analysis}/fallback"]
        out.append(
            record(
                row,
                analysis,
                estimate=fit.estimate * scale,
                ci_low=fit.ci_low * scale,
                ci_high=fit.ci_high * scale,
                p=fit.p,
                method=method,
                note="; ".join(x for x in (fit.note, extra_note) if x),
                value_ref=fit.mean0 * scale,
                value_cmp=fit.mean1 * scale,
                n_ref=int(n_model[0, j]),
                n_cmp=int(n_model[1, j]),
                clusters=fit.clusters,
                rho=fit.rho,
            )
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
    """The GEE records of every row and the analysis' notes; ``coordinator``: force the
    coordinator clustering on or off (default: when coordinators cross care systems)."""
    n_model = cells.by_model[0]
    systems = data.system.astype(object)
    out = _records("gee_care_system", data, rows, systems, n_model)
    if exchangeable:
        out += _records(
            "gee_care_system_exchangeable", data, rows, systems, n_model, working="exchangeable"
        )
    crossing, n_coord = coordinator_crossing(data)
    notes = [
        "The clinic frame has no coordinator ids: no coordinator clustering."
        if data.coordinator is None
        else f"Coordinators working in more than one care system: {crossing} of {n_coord} "
        "(any: clustered by coordinator too, gee_coordinator)."
    ]
    if coordinator or (coordinator is None and crossing):
        if data.coordinator is None:
            raise KeyError("the clinic frame lacks 'coordinator_id'")
        extra = (
            f"{crossing} coordinators work in more than one care system"
            if crossing
            else "coordinators nested in care systems (shown on request)"
        )
        out += _records("gee_coordinator", data, rows, data.coordinator, n_model, extra_note=extra)
    return out, notes
