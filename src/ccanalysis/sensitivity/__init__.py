"""Sensitivity analyses of Tables 3 and 4 (Solberg et al. 2024): isw - mn per row by every
analysis (:mod:`.crude`, :mod:`.clustering`, :mod:`.standardization`), in percentage points or
the item's unit, each p inverting its 95% interval. :func:`run` is the stage; :func:`analyze`
the same steps for any two groups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from ccanalysis.paths import Paths
from ccanalysis.sensitivity import definitions
from ccanalysis.sensitivity.clustering import clustered, coordinator_crossing
from ccanalysis.sensitivity.crude import unadjusted
from ccanalysis.sensitivity.inputs import (
    CARE_MODEL_GROUPS,
    Groups,
    analysis_rows,
    cell_sums,
    grouping_of,
    prepare,
    sparse_rows,
)
from ccanalysis.sensitivity.output import (
    ANALYSIS_NAMES,
    COLUMNS,
    analysis_names,
    collect,
    columns,
    comparison_tables,
    write,
)
from ccanalysis.sensitivity.standardization import (
    FULL,
    N_BOOT,
    TARGETS,
    check_strata,
    standardize,
    stratification,
)
from ccanalysis.sensitivity.verdicts import changed_rows, changes
from ccanalysis.spec import Spec, SpecRow, read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import CRITERIA, DEFAULT_SEED

# the public calls, in the order of the stage (and of the notebook), then the rest
__all__ = ["analysis_rows", "prepare", "cell_sums", "unadjusted", "clustered", "standardize"]
__all__ += ["sparse_rows"]
__all__ += ["collect", "changes", "changed_rows", "comparison_tables", "write"]
__all__ += ["definitions", "run", "analyze", "Sensitivity", "coordinator_crossing"]
__all__ += ["COLUMNS", "columns"]


@dataclass
class Sensitivity:
    """What :func:`analyze` computed; ``names``: the analyses' headers and legends."""

    results: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    changes: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    labels: dict[tuple[str, str, str], str] = field(default_factory=dict)
    groups: Groups = CARE_MODEL_GROUPS
    names: Mapping[str, tuple[str, str]] = field(default_factory=lambda: ANALYSIS_NAMES)


def analyze(
    clinics: pd.DataFrame,
    spec: Spec | Iterable[SpecRow],
    *,
    seed: int | None = DEFAULT_SEED,
    n_boot: int = N_BOOT,
    targets: Sequence[str] = TARGETS,
    min_stratum: int = 5,
    exchangeable: bool = True,
    by: str | None = None,
    groups: Sequence[object] | None = None,
    labels: Mapping[object, str] | None = None,
    strata: Sequence[str] = ("urban", "system_size"),
) -> Sensitivity:
    """Every analysis of every row of Tables 3 and 4, as :func:`run`, for the groups ``by``,
    ``groups``, ``labels`` (:func:`~.inputs.grouping_of`), standardized by the clinic columns
    ``strata``. Raises ``ValueError`` when a stratum holds one group only."""
    rows = analysis_rows(spec)
    if by is not None and by in {r.item for r in rows}:
        raise ValueError(f"by={by!r} is both an analysed item and the column to group by")
    codes, grp = grouping_of(clinics, by, groups, labels)
    strat = stratification(strata)
    data = prepare(clinics, rows, codes)
    if targets:
        check_strata(data, grp, strat)
    cells = cell_sums(data)
    records = unadjusted(data, cells, rows, grp)
    gee, notes = clustered(data, cells, rows, exchangeable=exchangeable)
    records += gee
    if targets:
        records += standardize(
            cells,
            rows,
            targets=targets,
            n_boot=n_boot,
            seed=seed,
            min_stratum=min_stratum,
            groups=grp,
            strata=strat,  # type: ignore[arg-type]
        )
    if strat != FULL:
        notes.append(f"Standardized by {strat.long_text} only (strata={tuple(strata)!r}).")
    results = collect(records, rows, grp, sparse_rows(cells, rows, grp))
    row_labels = {r.key: r.row_label for r in rows}
    names = analysis_names(grp.short[grp.comparison], strat.text)
    changed = changes(results)
    return Sensitivity(
        results=results,
        tables=comparison_tables(results, row_labels, changed, grp, names),
        changes=changed,
        notes=grp.notes + notes,
        labels=row_labels,
        groups=grp,
        names=names,
    )


def run(paths: Paths, params: Params, *, n_boot: int = N_BOOT) -> Artifacts:
    """The 04_sensitivity stage, as the notebook: ``tables/sensitivity.*``, ``definitions*``."""
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    spec = read_spec(paths.spec, instrument=paths.dictionary)
    rows = analysis_rows(spec)
    data = prepare(clinics, rows)
    cells = cell_sums(data)
    crude = unadjusted(data, cells, rows)
    gee, notes = clustered(data, cells, rows)
    std = standardize(cells, rows, seed=params.seed, n_boot=n_boot)
    results = collect(crude + gee + std, rows, sparse=sparse_rows(cells, rows))
    changed = changes(results)
    labels = {r.key: r.row_label for r in rows}
    per_comparison = changed_rows(changed, labels)
    tables = comparison_tables(results, labels, changed)
    tables["changes"] = per_comparison
    files = write(results, paths.tables, tables, notes, synthetic=params.synthetic)
    summary = def_rows = None
    if set(CRITERIA) <= set(clinics.columns):
        summary, def_rows = definitions.definition_sensitivity(
            clinics, spec, reference=params.definition, seed=params.seed
        )
        files |= definitions.write(
            summary,
            def_rows,
            paths.tables,
            reference=params.definition,
            synthetic=params.synthetic,
            labels=labels,
        )
    return Artifacts(
        files,
        results=results,
        definitions=summary,
        definition_rows=def_rows,
        notes=notes,
        **tables,
    )
