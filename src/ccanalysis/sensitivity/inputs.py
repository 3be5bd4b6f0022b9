"""What the sensitivity analyses read: the rows of Tables 3 and 4, each clinic's group, stratum
and care system, and each row's sums per care system, rurality and group (:class:`CellSums`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse

from ccanalysis.spec import Spec, SpecRow, default_instrument
from ccanalysis.tables.summary import grouping
from ccanalysis.vocab import (
    CLINIC_COMPARISON,
    CLINIC_GROUPS,
    GROUP_LABELS,
    SHORT_LABELS,
    SYSTEM_SIZES,
)

TABLES: tuple[str, ...] = ("table3", "table4")
#: The 6 strata, in code order: urban small/medium/large, then rural small/medium/large.
STRATA: tuple[str, ...] = tuple(f"{r}/{s}" for r in ("urban", "rural") for s in SYSTEM_SIZES)


def unit_of(row: SpecRow) -> str:
    """``pp`` for a level row, else the item's ``@CC-UNIT`` (the run's dictionary, else ours)."""
    if not row.continuous:
        return "pp"
    field = default_instrument().analysis_items().get(row.item)
    return row.unit or (field.unit if field is not None else "") or f"units of {row.item}"


def analysis_rows(spec: Spec | Iterable[SpecRow]) -> tuple[SpecRow, ...]:
    """The rows of Tables 3 and 4 in printed order, from a spec or its rows."""
    rows = tuple(r for r in spec if r.table in TABLES)
    if not rows:
        raise ValueError(f"the specification has no rows of {list(TABLES)}")
    return rows


def groups_of_models(clinics: pd.DataFrame) -> NDArray[np.int8]:
    """0 = mn, 1 = isw, -1 = neither (left out), from ``group`` (made by classify)."""
    if "group" not in clinics.columns:
        raise KeyError("the clinic frame has no 'group' (run classify first)")
    return pd.Index(CLINIC_GROUPS).get_indexer(clinics["group"].astype("object")).astype(np.int8)


@dataclass(frozen=True)
class Groups:
    """The compared groups ``comparison`` - ``reference``, their labels, the column ``by``
    (``None``: the care models), the clinics left out and what the notes call a group."""

    comparison: str
    reference: str
    labels: Mapping[str, str]
    short: Mapping[str, str]
    by: str | None = None
    missing: int = 0
    other: int = 0
    kind: str = "group"

    @property
    def compare(self) -> tuple[str, str]:
        return (self.comparison, self.reference)

    @property
    def columns(self) -> dict[str, str]:
        """The records' group slots -> the output's columns (``value_ref`` -> ``value_mn``)."""
        pairs = (("ref", self.reference), ("cmp", self.comparison))
        return {f"{v}_{slot}": f"{v}_{g}" for v in ("value", "n") for slot, g in pairs}

    @property
    def notes(self) -> list[str]:
        other = f"in other groups of {self.by} than {self.comparison} and {self.reference}"
        left_out = ((self.missing, f"with no {self.by} value"), (self.other, other))
        return [f"{n} clinic{'s' * (n > 1)} {why} left out." for n, why in left_out if n]


#: The paper's comparison: integrated social worker minus medical/nursing clinics.
CARE_MODEL_GROUPS = Groups(
    *CLINIC_COMPARISON,
    labels=MappingProxyType({g: GROUP_LABELS[g] for g in CLINIC_COMPARISON}),
    short=MappingProxyType({g: SHORT_LABELS[g] for g in CLINIC_COMPARISON}),
    kind="care model",
)


def grouping_of(
    clinics: pd.DataFrame,
    by: str | None = None,
    groups: Sequence[object] | None = None,
    labels: Mapping[object, str] | None = None,
) -> tuple[NDArray[np.int8], Groups]:
    """Each clinic's group code (0 reference, 1 comparison, -1 left out) and the :class:`Groups`
    of ``by`` (``groups=(comparison, reference)``); default the care models."""
    if by is None:
        if groups is None and labels is None:
            return groups_of_models(clinics), CARE_MODEL_GROUPS
        by = "group"
    if by not in clinics.columns:
        raise KeyError(f"the clinic frame has no column {by!r} to group by")
    if groups is not None and len(groups) != 2:
        raise ValueError(f"groups must be (comparison, reference), not {list(groups)}")
    ref = None if groups is None else groups[1]
    chosen = None if groups is None else [groups[1], groups[0]]
    g = grouping(
        clinics, by, groups=chosen, labels=labels, reference=ref, instrument=default_instrument()
    )
    found = list(g.columns[1:])
    if len(found) != 2:
        raise ValueError(
            f"by={by!r} has {len(found)} groups {found}: name the two to compare with "
            "groups=(comparison, reference)"
        )
    (comparison,) = (x for x in found if x != g.reference)
    at_ref, at_cmp = g.codes == found.index(g.reference), g.codes == found.index(comparison)
    codes = np.select([at_ref, at_cmp], [0, 1], -1).astype(np.int8)
    missing = int(clinics[by].isna().sum())
    left_out = {"by": by, "missing": missing, "other": int((codes < 0).sum()) - missing}
    pair = (comparison, g.reference)
    if pair == CARE_MODEL_GROUPS.compare:  # the care models however selected: the study's words
        return codes, replace(CARE_MODEL_GROUPS, **left_out)
    named = (MappingProxyType({x: names[x] for x in pair}) for names in (g.labels, g.short))
    return codes, Groups(*pair, *named, **left_out)


@dataclass(frozen=True)
class Clinics:
    """The clinics as the analyses need them; ``urban`` 0 urban, 1 rural, 2 unknown; -1: unknown
    size class or group left out."""

    y: NDArray[np.float64]  # (n, J): 0/1 indicator or numeric answer, 0 where not answered
    valid: NDArray[np.bool_]  # (n, J)
    group: NDArray[np.int8]
    urban: NDArray[np.int64]
    system: NDArray[np.int64]
    systems: NDArray[np.object_]
    system_size: NDArray[np.int64]  # (K,)
    coordinator: NDArray[np.object_] | None


def _item_values(clinics: pd.DataFrame, row: SpecRow) -> tuple[NDArray, NDArray]:
    """A row's values (0/1 indicator or numeric answer) and answered flags."""
    if row.item not in clinics.columns:
        raise KeyError(f"the clinic frame lacks the item {row.item!r} ({row.table})")
    col = clinics[row.item]
    if row.continuous:
        y = pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(y)
    else:
        answered = col.notna().to_numpy()
        y = (answered & col.astype(str).isin(set(row.levels)).to_numpy()).astype(float)
        ok = np.ones(len(y), bool) if row.all_denominator else answered
    return np.where(ok, y, 0.0), ok


def prepare(
    clinics: pd.DataFrame, rows: Sequence[SpecRow], group: NDArray[np.int8] | None = None
) -> Clinics:
    """:class:`Clinics` of the analysed rows; ``group``: :func:`grouping_of`'s codes. Raises on a
    missing column or a care system whose clinics disagree on its size."""
    for name in ("care_system_id", "system_size", "urban"):
        if name not in clinics.columns:
            raise KeyError(f"the clinic frame lacks {name!r} (made by ccanalysis.clean)")
    ids = clinics["care_system_id"].astype("object")
    if ids.isna().any():
        raise ValueError(f"clinic row {int(np.flatnonzero(ids.isna())[0])} has no care_system_id")
    values = [_item_values(clinics, row) for row in rows]
    system, systems = pd.factorize(ids, sort=True)
    size = pd.Index(SYSTEM_SIZES).get_indexer(clinics["system_size"].astype("object"))  # -1: NA
    per_system = pd.Series(size).groupby(system).agg(["min", "max"])
    for k in np.flatnonzero(per_system["min"] != per_system["max"]):
        found = sorted({SYSTEM_SIZES[s] if s >= 0 else "missing" for s in size[system == k]})
        raise ValueError(
            f"care system {systems[k]!r}: its clinics disagree on system_size ({found}); "
            "system size is an attribute of the care system"
        )
    coordinator = clinics.get("coordinator_id")
    u = clinics["urban"].astype("object")
    urban = np.select([u.isna(), u.fillna(False).astype(bool)], [2, 0], 1)  # rural 1, unknown 2
    return Clinics(
        y=np.column_stack([v[0] for v in values]),
        valid=np.column_stack([v[1] for v in values]),
        group=groups_of_models(clinics) if group is None else np.asarray(group, dtype=np.int8),
        urban=urban.astype(np.int64),
        system=system.astype(np.int64),
        systems=np.asarray(systems, dtype=object),
        system_size=per_system["max"].clip(lower=-1).to_numpy(np.int64),
        coordinator=None if coordinator is None else coordinator.astype("object").to_numpy(),
    )


@dataclass(frozen=True)
class CellSums:
    """Answers ``n`` and sums ``s`` per system, rurality, group and row (K, 3, 2, J); sizes (K,)."""

    n: NDArray[np.float64]
    s: NDArray[np.float64]
    system_size: NDArray[np.int64]


def cell_sums(data: Clinics) -> CellSums:
    """Sum every row's answers per care system, rurality state and group (one sparse product)."""
    k, n_rows = len(data.systems), data.y.shape[1]
    idx = np.flatnonzero(data.group >= 0)
    cell = (data.system[idx] * 3 + data.urban[idx]) * 2 + data.group[idx]
    onehot = sparse.csr_matrix((np.ones(len(idx)), (cell, idx)), shape=(k * 6, len(data.group)))
    shape = (k, 3, 2, n_rows)
    n = np.asarray(onehot @ data.valid.astype(float)).reshape(shape)
    s = np.asarray(onehot @ data.y).reshape(shape)
    return CellSums(n, s, data.system_size)


def sparse_rows(
    cells: CellSums, rows: Sequence[SpecRow], groups: Groups = CARE_MODEL_GROUPS
) -> dict[tuple[str, str, str], str]:
    """The level rows too sparse for a sandwich or bootstrap interval, and why: a group with at
    most 2 events or non-events, or the events or non-events in fewer than 3 care systems."""
    n, s = cells.n.sum(axis=1), cells.s.sum(axis=1)  # (K, 2, J)
    labels = [groups.short[x] for x in (groups.reference, groups.comparison)]
    out = {}
    for j, row in enumerate(rows):
        why = []
        for name, x in (("events", s[:, :, j]), ("non-events", n[:, :, j] - s[:, :, j])):
            total, systems = np.round(x.sum(axis=0)).astype(int), int((x.sum(axis=1) > 0).sum())
            why += [
                f"{k} {name} among {label} clinics"
                for k, label in zip(total, labels, strict=True)
                if k <= 2
            ]
            why += [f"{name} in {systems} care systems"] if systems < 3 else []
        if why and not row.continuous:
            out[row.key] = ", ".join(why)
    return out
