"""Stage 06: every printed number of Solberg et al. 2024 beside the reproduced one, and the printed
tables checked against themselves and the text, without data (``replication_consistency.csv``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from ccanalysis import results
from ccanalysis.io import write_csv
from ccanalysis.paths import Paths
from ccanalysis.replication.claims import beside_results, check_text, load_text_claims
from ccanalysis.replication.compare import (
    COMPARISON_COLUMNS,
    PUBLISHED,
    compare,
    differences,
    load_reproduced,
    read_published,
    read_study_facts,
    summary,
)
from ccanalysis.replication.grim import INTEGER_ITEMS, check_grim
from ccanalysis.replication.pvalues import check_pvalue
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS, items
from ccanalysis.spec import Spec, read_spec
from ccanalysis.stage import Artifacts, Params

__all__ = [
    "PUBLISHED",
    "beside_results",
    "check_published",
    "compare",
    "differences",
    "flagged",
    "load_reproduced",
    "load_text_claims",
    "run",
    "summary",
    "write_outputs",
]

#: Verdicts to look at: no test (or only another) explains the p; the text disagrees.
FLAGGED = ("inconsistent", "consistent_other_test", "disagree")


def check_published(
    published_long: pd.DataFrame,
    spec: Spec,
    facts: pd.DataFrame,
    claims: pd.DataFrame,
    *,
    max_missing: int | None = None,
    integer_items: Iterable[tuple[str, str]] = INTEGER_ITEMS,
) -> pd.DataFrame:
    """A row per check of the printed tables, sections ``pvalue``, ``grim`` and ``text``; item
    nonresponse allowed per group: :func:`~ccanalysis.replication.rows.limit`, capped by ``max_missing``."""
    pvalue, grim, pct_grim = [], [], []
    for it in items(published_long, spec):
        grim += check_grim(it, max_missing, integer_items)
        if it.test != "none":
            row, rows = check_pvalue(it, max_missing)
            pvalue.append(row)
            pct_grim += rows
    frames = [pd.DataFrame(r, columns=CONSISTENCY_COLUMNS) for r in (pvalue, grim, pct_grim)]
    text = check_text(published_long, facts, claims)
    return pd.concat([f for f in (*frames, text) if len(f)], ignore_index=True)


def flagged(consistency: pd.DataFrame) -> pd.DataFrame:
    """The checks a reader should look at (:data:`FLAGGED` verdicts), in report order."""
    return consistency[consistency["verdict"].isin(FLAGGED)]


def write_outputs(
    comparison: pd.DataFrame,
    consistency: pd.DataFrame,
    outdir: str | Path,
    claims: pd.DataFrame | None = None,
) -> list[Path]:
    """Write ``replication.csv``, ``_summary``, ``_consistency`` and (given) ``_claims``."""
    outdir, checks = Path(outdir), consistency[CONSISTENCY_COLUMNS]
    extra = [] if claims is None else [write_csv(claims, outdir / "replication_claims.csv")]
    return extra + [
        write_csv(comparison[COMPARISON_COLUMNS], outdir / "replication.csv", float_format="%.6g"),
        write_csv(summary(comparison), outdir / "replication_summary.csv"),
        write_csv(checks, outdir / "replication_consistency.csv", float_format="%.6g"),
    ]


def run(paths: Paths, params: Params) -> Artifacts:
    """Compare, check the printed tables, set the claims beside the Results, write them."""
    published = read_published(paths.root / PUBLISHED)
    comparison = compare(published, load_reproduced(paths.tables))
    spec = read_spec(paths.spec, instrument=paths.dictionary)
    facts = read_study_facts(paths.root / PUBLISHED)
    claims = load_text_claims(paths.root / PUBLISHED)
    consistency = check_published(published, spec, facts, claims)
    stated = None  # a partial run (a table missing) has no Results to set the claims beside
    if results.complete(paths.tables):
        ctx = results.read_context(paths.tables, spec, params.suppress_below, params.synthetic)
        stated = beside_results(claims, results.sentences(results.render(ctx, "plain")))
    written = write_outputs(comparison, consistency, paths.tables, stated)
    return Artifacts({p.stem: p for p in written}, comparison=comparison, consistency=consistency)
