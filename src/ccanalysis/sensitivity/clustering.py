"""The clustered comparisons: ``gee_care_system`` (primary, the crude difference; a share's
interval ``newcombe_cr2``, nearest 93-97% in the coverage study; a mean's ``cr2_difference``),
``gee_care_system_md``, ``gee_care_system_exchangeable`` and ``gee_coordinator`` (when
coordinators work in more than one care system)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ccanalysis.sensitivity.crude import record
from ccanalysis.sensitivity.inputs import CellSums, Clinics
from ccanalysis.spec import SpecRow
from ccanalysis.stats.clustered import cr2_difference, gee_difference, newcombe_cr2

_MD = "Mancl-DeRouen robust SE; t(K - 2)"
_CR2 = "CR2 robust SE; t with Satterthwaite df"
_IND = "GEE, independence working correlation (the crude difference), clustered by"
METHODS: dict[str, str] = {
    "gee_care_system": "difference of proportions (pp), clustered by care system; Newcombe hybrid "
    "score interval on design-effect-adjusted counts (CR2 design effect, t with Satterthwaite df)",
    "gee_care_system/mean": "difference of means (item's unit), clustered by care system; GEE, "
    f"independence working correlation (the crude difference); {_CR2}",
    "gee_care_system_md": f"{_IND} care system; {_MD}",
    "gee_care_system_exchangeable": (
        "GEE, exchangeable working correlation within care systems, rho > 0 (cluster-weighted: "
        f"a clinic of a system of m weighs 1/(1 + (m - 1) rho)); {_MD}"
    ),
    "gee_care_system_exchangeable/fallback": (
        "GEE, independence weights (exchangeable rho truncated at 0 or not estimable, see "
        f"note), clustered by care system; {_MD}"
    ),
    "gee_coordinator": f"{_IND} coordinator; {_CR2}",
}


def coordinator_crossing(data: Clinics) -> tuple[int, int]:
    """(coordinators working in more than one care system, coordinators)."""
    if data.coordinator is None:
        return 0, 0
    ok = pd.notna(data.coordinator) & (data.group >= 0)
    per = pd.Series(data.system[ok]).groupby(data.coordinator[ok]).nunique()
    return int((per > 1).sum()), int(len(per))


def _records(
    analysis: str,
    data: Clinics,
    rows: Sequence[SpecRow],
    clusters: NDArray[np.object_],
    n_model: NDArray[np.float64],
    extra_note: str = "",
) -> list[dict[str, object]]:
    """One record per row: the difference of the clinics with an answer, by ``clusters``."""
    working = "exchangeable" if analysis.endswith("exchangeable") else "independence"
    out: list[dict[str, object]] = []
    for j, row in enumerate(rows):
        scale = 1.0 if row.continuous else 100.0
        y = np.where(data.valid[:, j] & pd.notna(clusters), data.y[:, j], np.nan)
        method = METHODS[analysis]
        if analysis == "gee_care_system" and not row.continuous:
            fit = newcombe_cr2(y, data.group, clusters)
        elif analysis in ("gee_care_system", "gee_coordinator"):
            fit = cr2_difference(y, data.group, clusters)
            method = METHODS.get(f"{analysis}/mean", method)
        else:
            fit = gee_difference(y, data.group, clusters, working=working)
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
                df=fit.df,
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
) -> tuple[list[dict[str, object]], list[str]]:
    """The GEE records of every row and the notes; by coordinator too when coordinators cross
    care systems."""
    n_model = cells.n.sum(axis=(0, 1))
    systems = data.system.astype(object)
    out = _records("gee_care_system", data, rows, systems, n_model)
    out += _records("gee_care_system_md", data, rows, systems, n_model)
    if exchangeable:
        out += _records("gee_care_system_exchangeable", data, rows, systems, n_model)
    crossing, n_coord = coordinator_crossing(data)
    notes = [
        "The clinic frame has no coordinator ids: no coordinator clustering."
        if data.coordinator is None
        else f"Coordinators working in more than one care system: {crossing} of {n_coord} "
        "(any: clustered by coordinator too, gee_coordinator)."
    ]
    if crossing:
        extra = f"{crossing} coordinators work in more than one care system"
        out += _records("gee_coordinator", data, rows, data.coordinator, n_model, extra)
    return out, notes
