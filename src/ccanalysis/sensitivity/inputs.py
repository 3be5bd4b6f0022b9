"""What the sensitivity analyses read: the rows of Tables 3 and 4, each clinic's group (the care
model, or any two-valued ``by`` column), stratum and care system, and every row's answers, summed
per care system, stratum and group.

The two compared groups are a :class:`Groups`: by default the care models (:data:`CARE_MODEL_GROUPS`,
isw - mn); :func:`grouping_of` splits the clinics by any column as
:func:`ccanalysis.analysis.summarize` does (the same group names, order and labels), so that a
student's ``by`` means the same thing in a summary table and here.

Every analysis of the stage works on :class:`CellSums`: per care system, rurality state (urban,
rural, unknown) and care model, the number of clinics that answered each row, the sum of the row's
value (the 0/1 indicator of its level, or the numeric answer) and the sum of squares. The crude
comparison sums them over everything, the clustered one over rurality, the standardization keeps
the strata; so the clinics are read once and the analyses cost in care systems, not clinics.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ccanalysis.spec import Spec, SpecRow, default_instrument, from_frame, read_spec
from ccanalysis.tables.summary import grouping
from ccanalysis.vocab import (
    CARE_MODELS,
    CLINIC_COMPARISON,
    CLINIC_GROUPS,
    GROUP_LABELS,
    SHORT_LABELS,
    SYSTEM_SIZES,
)

__all__ = [
    "CARE_MODEL_GROUPS",
    "STRATA",
    "TABLES",
    "UNITS",
    "CellSums",
    "Clinics",
    "Groups",
    "analysis_rows",
    "cell_sums",
    "grouping_of",
    "groups_of_models",
    "prepare",
    "strata",
    "unit_of",
]

TABLES: tuple[str, ...] = ("table3", "table4")


def _no_names() -> Mapping[str, str]:
    """No names given: :class:`Groups` makes them from the labels."""
    return MappingProxyType({})


#: The 6 strata, in code order: urban small/medium/large, then rural small/medium/large.
STRATA: tuple[str, ...] = tuple(f"{r}/{s}" for r in ("urban", "rural") for s in SYSTEM_SIZES)
#: The unit of a difference of shares (percentage points).
PP = "pp"
#: The units of the numeric items of Tables 3 and 4 (the data dictionary has none); an item
#: missing here is reported in "units of <item>".
UNITS: dict[str, str] = {
    "hours_cc_week": "hours/week",
    "clinicians_per_fte": "clinicians per FTE coordinator",
    "panel_size": "patients per coordinator",
}


def unit_of(row: SpecRow) -> str:
    """``pp`` for a level row (differences of shares), the item's unit for a mean row."""
    return UNITS.get(row.item, f"units of {row.item}") if row.continuous else PP


def analysis_rows(
    spec: Spec | pd.DataFrame | Iterable[SpecRow] | None = None,
    tables: Sequence[str] = TABLES,
) -> tuple[SpecRow, ...]:
    """The rows of ``tables`` (default Tables 3 and 4) in printed order, from a :class:`Spec`, a
    frame with the specification's columns, typed rows, or (``None``) the package's spec."""
    if spec is None:
        spec = read_spec()
    elif isinstance(spec, pd.DataFrame):
        spec = from_frame(spec)
    rows = tuple(r for r in spec if r.table in set(tables))
    if not rows:
        raise ValueError(f"the specification has no rows of {list(tables)}")
    return rows


def groups_of_models(clinics: pd.DataFrame) -> NDArray[np.int8]:
    """0 = mn, 1 = isw, -1 = neither (left out), from ``group`` or else ``care_model``."""
    if "group" in clinics.columns:
        g = clinics["group"].astype("object")
        mapping = {grp: i for i, grp in enumerate(CLINIC_GROUPS)}
    elif "care_model" in clinics.columns:
        g = clinics["care_model"].astype("object")
        mapping = {m: i for i, m in enumerate(CARE_MODELS)}
    else:
        raise KeyError("the clinic frame has neither 'group' nor 'care_model' (run classify first)")
    return np.array([mapping.get(v, -1) if isinstance(v, str) else -1 for v in g], dtype=np.int8)


@dataclass(frozen=True)
class Groups:
    """The two compared groups, ``comparison`` - ``reference``: their names as the long format of
    a summary writes them (``isw``, ``True``, ``large``), their labels (``labels``, and ``short``
    for headers and axes), the column ``by`` they come from (``None``: the care models) and the
    clinics left out, ``missing`` (no ``by`` value) and ``other`` (another group of ``by``).

    How the texts speak of them (the paper's words in :data:`CARE_MODEL_GROUPS`; otherwise made
    from the labels): ``kind``, what one of the two is called in notes (``group``); ``word``, the
    short word (``group``); ``topic``, what the display titles call the differences; and per
    group ``ids``, its name in a difference ``a - b`` (default ``short``), ``described``, its
    name in the method notes (default ``Long (Short)``), ``clinics_text``, its clinics in a
    sentence (default ``<label> clinics``) and ``strata_text``, whose strata a standardization
    targets (default its clinics)."""

    comparison: str
    reference: str
    labels: Mapping[str, str]
    short: Mapping[str, str]
    by: str | None = None
    missing: int = 0
    other: int = 0
    kind: str = "group"
    word: str = "group"
    topic: str = "differences"
    ids: Mapping[str, str] = field(default_factory=_no_names)
    described: Mapping[str, str] = field(default_factory=_no_names)
    clinics_text: Mapping[str, str] = field(default_factory=_no_names)
    strata_text: Mapping[str, str] = field(default_factory=_no_names)

    @property
    def compare(self) -> tuple[str, str]:
        """(comparison, reference)."""
        return (self.comparison, self.reference)

    @property
    def columns(self) -> dict[str, str]:
        """The records' group slots -> the output's columns ``value_<group>``, ``n_<group>``
        (reference first: ``value_mn, value_isw, n_mn, n_isw`` for the care models)."""
        r, c = self.reference, self.comparison
        return {
            "value_ref": f"value_{r}",
            "value_cmp": f"value_{c}",
            "n_ref": f"n_{r}",
            "n_cmp": f"n_{c}",
        }

    def id(self, group: str) -> str:
        """A group's name in a difference: ``isw`` (``isw - mn``), ``Urban``."""
        return self.ids.get(group) or self.short[group]

    def description(self, group: str) -> str:
        """A group's name in the method notes: ``integrated social worker (ISW)``, ``Urban``,
        ``Large care systems (large)``."""
        if group in self.described:
            return self.described[group]
        long, short = self.labels[group], self.short[group]
        return long if long == short else f"{long} ({short})"

    def clinics(self, group: str) -> str:
        """A group's clinics in a sentence: ``integrated social worker clinics``, ``Urban
        clinics``."""
        return self.clinics_text.get(group) or f"{self.labels.get(group, group)} clinics"

    def strata_of(self, group: str) -> str:
        """Whose strata a standardization to ``group`` targets: ``integrated clinics``."""
        return self.strata_text.get(group) or self.clinics(group)

    @property
    def notes(self) -> list[str]:
        """What the grouping left out, for the stage's notes."""
        out = []
        if self.missing:
            n = self.missing
            out.append(f"{n} clinic{'s' if n > 1 else ''} with no {self.by} value left out.")
        if self.other:
            n = self.other
            out.append(
                f"{n} clinic{'s' if n > 1 else ''} in other groups of {self.by} than "
                f"{self.comparison} and {self.reference} left out."
            )
        return out


#: The paper's comparison: integrated social worker minus medical/nursing clinics, in the
#: study's words.
CARE_MODEL_GROUPS = Groups(
    *CLINIC_COMPARISON,
    labels=MappingProxyType({g: GROUP_LABELS[g] for g in CLINIC_COMPARISON}),
    short=MappingProxyType({g: SHORT_LABELS[g] for g in CLINIC_COMPARISON}),
    kind="care model",
    word="model",
    topic="care model differences",
    ids=MappingProxyType({g: g for g in CLINIC_COMPARISON}),
    described=MappingProxyType(
        {"isw": "integrated social worker (ISW)", "mn": "medical/nursing (MN)"}
    ),
    clinics_text=MappingProxyType(
        {"isw": "integrated social worker clinics", "mn": "medical/nursing clinics"}
    ),
    strata_text=MappingProxyType({"isw": "integrated clinics"}),
)
#: The wording fields of :class:`Groups` (the paper's are kept when ``by`` splits the care models).
_WORDING = ("kind", "word", "topic", "ids", "described", "clinics_text", "strata_text")


def grouping_of(
    clinics: pd.DataFrame,
    by: str | None = None,
    groups: Sequence[object] | None = None,
    labels: Mapping[object, str] | None = None,
) -> tuple[NDArray[np.int8], Groups]:
    """Each clinic's group code (0 reference, 1 comparison, -1 left out) and the :class:`Groups`.

    ``by``: any column (bool, category, text or integer codes), split as
    :func:`ccanalysis.analysis.summarize` splits it (:func:`ccanalysis.tables.summary.grouping`:
    same group names, order and labels, the labels of a categorical item from the data
    dictionary); ``groups``: the values compared, ``(comparison, reference)``, needed when ``by``
    has more than two; by default the first group in summarize's order (a category's order, False
    before True, numbers ascending, text sorted) is the reference. ``labels``: ``{value: label}``.
    Without ``by`` (and without ``groups``/``labels``) the care models, isw - mn (:func:`groups`);
    with them, ``by`` is the ``group`` column.
    """
    if by is None:
        if groups is None and labels is None:
            return groups_of_models(clinics), CARE_MODEL_GROUPS
        by = "group"
    if by not in clinics.columns:
        raise KeyError(f"the clinic frame has no column {by!r} to group by")
    if groups is not None and len(groups) != 2:
        raise ValueError(f"groups must be (comparison, reference), not {list(groups)}")
    try:
        g = grouping(
            clinics,
            by,
            groups=None if groups is None else [groups[1], groups[0]],
            labels=labels,
            reference=None if groups is None else groups[1],
            instrument=default_instrument(),
        )
    except ValueError as err:  # the summary's grouping speaks of summarize()
        raise ValueError(str(err).replace("summarize: ", "", 1)) from None
    found = list(g.units.groups)
    if len(found) != 2:
        raise ValueError(
            f"by={by!r} has {len(found)} groups {found}: name the two to compare with "
            "groups=(comparison, reference)"
        )
    reference = g.reference
    (comparison,) = (x for x in found if x != reference)
    # the summary's codes are positions in ``found``; here 0 reference, 1 comparison
    at_ref, at_cmp = g.codes == found.index(reference), g.codes == found.index(comparison)
    codes = np.select([at_ref, at_cmp], [0, 1], -1).astype(np.int8)
    for x, code in ((comparison, 1), (reference, 0)):
        if not (codes == code).any():
            raise ValueError(f"by={by!r}: no clinic in the group {x!r}")
    missing = int(clinics[by].isna().sum())
    # the care models' groups (by="group"), however selected, speak the study's words
    paper = (comparison, reference) == CARE_MODEL_GROUPS.compare
    wording = {f: getattr(CARE_MODEL_GROUPS, f) for f in _WORDING} if paper else {}
    return codes, Groups(
        comparison,
        reference,
        labels=MappingProxyType({x: g.labels[x] for x in (comparison, reference)}),
        short=MappingProxyType({x: g.short[x] for x in (comparison, reference)}),
        by=by,
        missing=missing,
        other=int(len(codes) - missing - (codes >= 0).sum()),
        **wording,
    )


def _urban_state(clinics: pd.DataFrame) -> NDArray[np.int64]:
    """0 urban, 1 rural, 2 unknown."""
    if "urban" not in clinics.columns:
        raise KeyError("the clinic frame lacks 'urban' (derived by ccanalysis.clean)")
    u = clinics["urban"].astype("object")
    return np.array([2 if pd.isna(v) else (0 if bool(v) else 1) for v in u], dtype=np.int64)


def _size_class(clinics: pd.DataFrame) -> NDArray[np.int64]:
    """0 small, 1 medium, 2 large, -1 unknown."""
    if "system_size" not in clinics.columns:
        raise KeyError("the clinic frame lacks 'system_size' (derived by ccanalysis.clean)")
    s = clinics["system_size"].astype("object")
    index = {name: i for i, name in enumerate(SYSTEM_SIZES)}
    return np.array([index.get(v, -1) if isinstance(v, str) else -1 for v in s], dtype=np.int64)


def strata(clinics: pd.DataFrame) -> NDArray[np.int64]:
    """Stratum code 0-5 of every clinic (see :data:`STRATA`), -1 when urban or size is missing."""
    u, s = _urban_state(clinics), _size_class(clinics)
    return np.where((u < 2) & (s >= 0), u * 3 + s, -1)


@dataclass(frozen=True)
class Clinics:
    """The clinics as the analyses need them: rows x clinics values and answered flags, the
    group (0 reference, 1 comparison, -1 left out), rurality state (0/1/2), care system (codes
    into ``systems``), the size class of each care system (-1 unknown) and the coordinator ids
    (for the nesting check)."""

    rows: tuple[SpecRow, ...]
    y: NDArray[np.float64]  # (n, J): 0/1 indicator or numeric answer, 0 where not answered
    valid: NDArray[np.bool_]  # (n, J)
    group: NDArray[np.int8]
    urban: NDArray[np.int64]
    system: NDArray[np.int64]
    systems: NDArray[np.object_]
    system_size: NDArray[np.int64]  # (K,)
    coordinator: NDArray[np.object_] | None


def _item_values(
    clinics: pd.DataFrame, row: SpecRow, cache: dict[str, tuple[NDArray, NDArray, list]]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    if row.item not in clinics.columns:
        raise KeyError(f"the clinic frame lacks the item {row.item!r} ({row.table})")
    col = clinics[row.item]
    if row.continuous:
        y = pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(y)
        return np.where(ok, y, 0.0), ok
    if row.item not in cache:
        # category codes once per item (the rows of a full-scale item share them)
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            cats = [str(c) for c in col.cat.categories]
        else:
            codes, uniq = pd.factorize(col.astype("object"))
            cats = [str(c) for c in uniq]
        cache[row.item] = (codes, codes >= 0, cats)
    codes, answered, cats = cache[row.item]
    wanted = [i for i, c in enumerate(cats) if c in set(row.levels)]
    y = np.isin(codes, wanted).astype(float)
    ok = np.ones(len(y), dtype=bool) if row.all_denominator else answered.copy()
    return np.where(ok, y, 0.0), ok


def prepare(
    clinics: pd.DataFrame, rows: Sequence[SpecRow], group: NDArray[np.int8] | None = None
) -> Clinics:
    """:class:`Clinics` from the clinic frame (``clinics.parquet``) and the analysed rows;
    ``group``: each clinic's group code (:func:`grouping_of`; default the care models).

    Raises ``KeyError`` naming a missing column, ``ValueError`` naming a care system whose
    clinics disagree on its size (system size is an attribute of the care system).
    """
    if "care_system_id" not in clinics.columns:
        raise KeyError("the clinic frame lacks 'care_system_id'")
    n, n_rows = len(clinics), len(rows)
    y = np.empty((n, n_rows))
    valid = np.empty((n, n_rows), dtype=bool)
    cache: dict[str, tuple[NDArray, NDArray, list]] = {}
    for j, row in enumerate(rows):
        y[:, j], valid[:, j] = _item_values(clinics, row, cache)
    ids = clinics["care_system_id"].astype("object")
    if ids.isna().any():
        first = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise ValueError(f"clinic row {first} has no care_system_id")
    system, systems = pd.factorize(ids, sort=True)
    size = _size_class(clinics)
    k = len(systems)
    lo = np.full(k, np.iinfo(np.int64).max)
    hi = np.full(k, -2)
    np.minimum.at(lo, system, size)
    np.maximum.at(hi, system, size)
    if (lo != hi).any():
        bad = int(np.flatnonzero(lo != hi)[0])
        found = sorted({SYSTEM_SIZES[s] if s >= 0 else "missing" for s in size[system == bad]})
        raise ValueError(
            f"care system {systems[bad]!r}: its clinics disagree on system_size ({found}); "
            "system size is an attribute of the care system"
        )
    coordinator = (
        clinics["coordinator_id"].astype("object").to_numpy()
        if "coordinator_id" in clinics.columns
        else None
    )
    return Clinics(
        rows=tuple(rows),
        y=y,
        valid=valid,
        group=groups_of_models(clinics) if group is None else np.asarray(group, dtype=np.int8),
        urban=_urban_state(clinics),
        system=system.astype(np.int64),
        systems=np.asarray(systems, dtype=object),
        system_size=np.where(hi >= 0, hi, -1).astype(np.int64) if k else np.zeros(0, np.int64),
        coordinator=coordinator,
    )


@dataclass(frozen=True)
class CellSums:
    """Per care system (K), rurality state (3: urban, rural, unknown), group (2: reference and
    comparison, mn and isw for the care models) and row (J): answers ``n``, sums ``s`` and sums
    of squares ``q``, each (K, 3, 2, J); and each system's size class (K,)."""

    n: NDArray[np.float64]
    s: NDArray[np.float64]
    q: NDArray[np.float64]
    system_size: NDArray[np.int64]

    @functools.cached_property
    def by_model(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(n, s, q) summed over systems and rurality: (2, J) each (computed once)."""
        return self.n.sum(axis=(0, 1)), self.s.sum(axis=(0, 1)), self.q.sum(axis=(0, 1))


def cell_sums(data: Clinics) -> CellSums:
    """Sum every row's answers per care system, rurality state and group (one sparse product)."""
    from scipy import sparse

    k = len(data.systems)
    n_rows = data.y.shape[1]
    keep = data.group >= 0
    cell = (data.system * 3 + data.urban) * 2 + np.maximum(data.group, 0)
    idx = np.flatnonzero(keep)
    onehot = sparse.csr_matrix(
        (np.ones(len(idx)), (cell[idx], idx)), shape=(k * 6, len(data.group))
    )
    shape = (k, 3, 2, n_rows)
    n = np.asarray(onehot @ data.valid.astype(float)).reshape(shape)
    s = np.asarray(onehot @ data.y).reshape(shape)
    q = s.copy()  # a 0/1 indicator is its own square
    cont = [j for j, r in enumerate(data.rows) if r.continuous]
    if cont:
        q[..., cont] = np.asarray(onehot @ data.y[:, cont] ** 2).reshape(*shape[:3], len(cont))
    return CellSums(n, s, q, data.system_size)
