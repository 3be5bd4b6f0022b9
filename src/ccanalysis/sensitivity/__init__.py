"""Sensitivity analyses of the care model comparison (Tables 3 and 4 of Solberg et al. 2024).

One long table (``tables/sensitivity.csv``, :data:`COLUMNS`), one row per analysis and spec row,
every difference isw - mn on one scale: percentage points for a level row (the share of clinics
answering that level among those answering the item), the item's unit for a mean row.

=================================  =================================================================
analysis                           what it estimates, and how
=================================  =================================================================
``unadjusted``                     the crude difference; Newcombe interval (shares) or Student t
                                   (means), p inverting the interval (:mod:`.crude`)
``gee_care_system``                the same crude difference, clinics clustered by care system: GEE
                                   with independence working correlation, Mancl-DeRouen robust SE,
                                   t(K - 2) (the primary clustered analysis; :mod:`.clustering`)
``gee_care_system_exchangeable``   a cluster-weighted difference (exchangeable working correlation
                                   within care systems; secondary)
``gee_coordinator``                clustered by coordinator, only when coordinators cross care
                                   systems (decided from the data; a note says which)
``standardized_isw``,              directly standardized by rurality x care-system size to the
``standardized_total``             integrated clinics' strata or to all clinics'; cluster bootstrap
                                   by care system, percentile interval (:mod:`.standardization`)
=================================  =================================================================

Every row's p tests the row's own estimand and inverts its interval, so a row is significant at
0.05 exactly when its 95% interval excludes 0.

The same analyses compare any two groups of clinics: ``analyze(clinics, spec, by="urban",
labels={True: "Urban", False: "Rural"})`` splits the clinics by a column as
:func:`ccanalysis.analysis.summarize` does (``groups=(comparison, reference)`` picks two groups of
a column with more); the output's group columns are then ``value_<group>``/``n_<group>``
(``value_False, value_True``), and a grouping that is itself one of the stratifying variables is
standardized over the other one only. :mod:`.verdicts` writes what changes from the
methods the rows used; :mod:`.display` the CSV and the display tables. :func:`run` is the stage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ccanalysis.paths import Paths
from ccanalysis.sensitivity import definitions
from ccanalysis.sensitivity.analyses import ANALYSES, ANALYSIS_NAMES, analysis_names
from ccanalysis.sensitivity.clustering import clustered, coordinator_crossing
from ccanalysis.sensitivity.crude import unadjusted
from ccanalysis.sensitivity.display import (
    COLUMNS,
    columns,
    display_tables,
    frame,
    render,
    texts,
    write,
)
from ccanalysis.sensitivity.inputs import (
    CARE_MODEL_GROUPS,
    STRATA,
    TABLES,
    Groups,
    analysis_rows,
    cell_sums,
    grouping_of,
    groups_of_models,
    prepare,
    strata,
)
from ccanalysis.sensitivity.standardization import (
    FULL,
    N_BOOT,
    TARGETS,
    Stratification,
    standardize,
    stratification,
)
from ccanalysis.sensitivity.verdicts import changes, conclusions, pair_changes, verdict
from ccanalysis.spec import Spec, SpecRow, read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import CRITERIA, DEFAULT_SEED

__all__ = [
    "ANALYSES",
    "ANALYSIS_NAMES",
    "CARE_MODEL_GROUPS",
    "COLUMNS",
    "DEFAULT_SEED",
    "N_BOOT",
    "STRATA",
    "TABLES",
    "Groups",
    "Sensitivity",
    "Stratification",
    "analysis_names",
    "analysis_rows",
    "analyze",
    "changes",
    "columns",
    "conclusions",
    "coordinator_crossing",
    "display_tables",
    "grouping_of",
    "groups_of_models",
    "pair_changes",
    "render",
    "run",
    "strata",
    "stratification",
    "texts",
    "verdict",
    "write",
]


@dataclass
class Sensitivity:
    """What :func:`analyze` computed: the long ``results`` (:func:`columns` of its groups), the
    two display tables, the verdict changes of each comparison, the conclusions and the stage's
    notes, the rows' labels; the compared ``groups``, the ``strata`` of the standardization and
    the analyses' ``names`` (headers, legends) for this comparison."""

    results: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    changes: pd.DataFrame
    conclusions: list[str]
    notes: list[str] = field(default_factory=list)
    labels: dict[tuple[str, str, str], str] = field(default_factory=dict)
    groups: Groups = CARE_MODEL_GROUPS
    strata: Stratification = FULL
    names: Mapping[str, tuple[str, str]] = field(default_factory=lambda: ANALYSIS_NAMES)


def _sort(results: pd.DataFrame, rows: Sequence[SpecRow]) -> pd.DataFrame:
    order = {r.key: i for i, r in enumerate(rows)}
    a_order = {a: i for i, a in enumerate(ANALYSES)}
    keys = pd.DataFrame(
        {
            "r": [
                order.get(k, len(order))
                for k in zip(results["table"], results["item"], results["level"], strict=True)
            ],
            "a": [a_order.get(a, len(a_order)) for a in results["analysis"]],
        }
    )
    idx = keys.sort_values(["r", "a"], kind="stable").index
    return results.loc[idx].reset_index(drop=True)


def _all_changes(changed: Mapping[tuple[str, str], pd.DataFrame]) -> pd.DataFrame:
    """Verdicts per row and comparison: clustering (crude vs clustered) and each standardization
    (clustered vs standardized), stacked with a ``comparison`` column; from
    :func:`~.verdicts.pair_changes`."""
    parts = []
    for (a, b), ch in changed.items():
        if b != "gee_care_system_exchangeable":
            ch = ch.rename(columns={a: "before", b: "after"})
            parts.append(ch.assign(comparison=f"{a} -> {b}"))
    cols = ["comparison", "table", "item", "level", "before", "after", "changed"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def analyze(
    clinics: pd.DataFrame,
    spec: Spec | pd.DataFrame | Iterable[SpecRow] | None = None,
    *,
    seed: int | None = DEFAULT_SEED,
    n_boot: int = N_BOOT,
    max_boot: int | None = None,
    targets: Sequence[str] = TARGETS,
    empty: str = "collapse",
    min_stratum: int = 5,
    exchangeable: bool = True,
    coordinator: bool | None = None,
    tables: Sequence[str] = TABLES,
    by: str | None = None,
    groups: Sequence[object] | None = None,
    labels: Mapping[object, str] | None = None,
) -> Sensitivity:
    """Every analysis of every row of ``tables`` (default Tables 3 and 4) of the clinic frame.

    ``n_boot``/``max_boot``: bootstrap replicates per row, and at most for a row near the line
    (default 8 x ``n_boot``); ``targets``, ``empty``, ``min_stratum``: the standardization
    (:mod:`.standardization`); ``exchangeable``: the secondary GEE; ``coordinator``: force the
    coordinator clustering on or off (default: when coordinators cross care systems).

    ``by``, ``groups``, ``labels``: the compared groups, as :func:`~.inputs.grouping_of` reads
    them (default the care models, isw - mn): ``by`` any column with two groups (or more, two of
    them named by ``groups=(comparison, reference)``), clinics without a ``by`` value left out
    and counted in the notes; ``by`` may not be an analysed item. When ``by`` is a stratifying
    variable (``urban``, ``system_size``) the standardization uses the other one alone.
    """
    rows = analysis_rows(spec, tables)
    if by is not None and by in {r.item for r in rows}:
        raise ValueError(f"by={by!r} is both an analysed item and the column to group by")
    codes, grp = grouping_of(clinics, by, groups, labels)
    strat = stratification(grp.by)
    data = prepare(clinics, rows, codes)
    cells = cell_sums(data)
    records = unadjusted(data, cells, rows, grp)
    gee, notes = clustered(data, cells, rows, exchangeable=exchangeable, coordinator=coordinator)
    notes = grp.notes + notes
    if strat != FULL:
        notes.append(
            f"Standardized by {strat.long_text} only: the grouping ({grp.by}) is one of the "
            "stratifying variables and is never stratified on."
        )
    records += gee
    if targets:
        std = standardize(
            cells,
            rows,
            targets=targets,
            n_boot=n_boot,
            max_boot=max_boot,
            seed=seed,
            empty=empty,  # type: ignore[arg-type]
            min_stratum=min_stratum,
            groups=grp,
            strata=strat,
        )
        records += std
    results = _sort(frame(records, grp), rows)
    row_labels = {r.key: r.row_label for r in rows}
    names = analysis_names(grp.short[grp.comparison], strat.text)
    changed = pair_changes(results)  # once, for the display, the conclusions and the changes
    sentences = conclusions(results, row_labels, notes, grp, strat, changed)
    return Sensitivity(
        results=results,
        tables=display_tables(results, row_labels, grp, names, changed),
        changes=_all_changes(changed),
        conclusions=sentences,
        notes=notes,
        labels=row_labels,
        groups=grp,
        strata=strat,
        names=names,
    )


def run(paths: Paths, params: Params, **options: object) -> Artifacts:
    """The 04_sensitivity stage: reads ``clinics.parquet`` and the table spec, runs
    :func:`analyze` (``options`` are its keywords; the seed is ``params.seed``) and writes
    ``tables/sensitivity.{csv,html,md}``, and the definition sensitivity
    (:mod:`.definitions`) to ``tables/definitions*``. ``results`` holds the :class:`Sensitivity`
    fields, ``definitions`` (the summary) and ``definition_rows``."""
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    spec = read_spec(paths.spec, instrument=paths.dictionary)
    out = analyze(clinics, spec, seed=params.seed, **options)  # type: ignore[arg-type]
    files = write(
        out.results,
        paths.tables,
        out.tables,
        out.conclusions,
        synthetic=params.synthetic,
        headings=texts(out.groups, out.strata),
        groups=out.groups,
    )
    # the care model definition: Tables 3 and 4 under every definition (needs the criteria)
    summary = rows = None
    if set(CRITERIA) <= set(clinics.columns):
        summary, rows = definitions.definition_sensitivity(
            clinics, spec, reference=params.definition, seed=params.seed
        )
        files |= definitions.write(
            summary, rows, paths.tables, reference=params.definition, synthetic=params.synthetic
        )
    else:
        out.notes.append("No care model criteria in the clinic frame: no definition sensitivity.")
    return Artifacts(
        files,
        definitions=summary,
        definition_rows=rows,
        results=out.results,
        clustering=out.tables.get("clustering"),
        standardization=out.tables.get("standardization"),
        changes=out.changes,
        conclusions=out.conclusions,
        notes=out.notes,
    )
