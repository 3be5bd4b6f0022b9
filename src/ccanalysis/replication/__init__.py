"""Replication report: every printed number of Solberg et al. 2024 beside the reproduced one, and a
consistency check of the printed tables themselves.

This stage is one of the two that may read ``data/published/`` (docs/ARCHITECTURE.md). :func:`run` reads the
printed tables, the study facts and the text claims from ``paths.published`` and the reproduced
tables from ``paths.tables``, and writes there, atomically (:func:`ccanalysis.io.write_csv`):

* ``replication.csv``: every printed cell beside the reproduced value, with a verdict
  (:mod:`~ccanalysis.replication.compare`), and ``replication_summary.csv``, its counts per table;
* ``replication_consistency.csv``: the printed tables checked against themselves, independent of
  any data (:mod:`~ccanalysis.replication.consistency`): the p-values the printed numbers allow
  (:mod:`~ccanalysis.replication.pvalues`, :mod:`~ccanalysis.replication.means`), GRIM-type checks
  (:mod:`~ccanalysis.replication.grim`) and the numbers of the text against the tables
  (:mod:`~ccanalysis.replication.claims`, ``data/published/text_claims.csv``); a row per check
  with a worded ``explanation`` that can be redone by hand.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccanalysis.io import write_csv
from ccanalysis.paths import Paths
from ccanalysis.replication.claims import (
    COMPARES,
    FUNCTIONS,
    TextClaim,
    Values,
    check_text,
    claims_from_frame,
    claims_table,
    derivation,
    evaluate,
    load_text_claims,
    parse_expression,
)
from ccanalysis.replication.compare import COMPARISON_COLUMNS, compare, differences, summary
from ccanalysis.replication.consistency import (
    check_published,
    consistency_summary,
    describe,
    flagged,
)
from ccanalysis.replication.grim import INTEGER_ITEMS, check_grim, grim_mean_ok, grimmer_sd_ok
from ccanalysis.replication.load import (
    KEYS,
    load_published,
    load_reproduced,
    load_study_facts,
)
from ccanalysis.replication.means import mean_pvalue_range
from ccanalysis.replication.pvalues import check_consistency, group_candidates
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params

__all__ = [
    "COMPARES",
    "COMPARISON_COLUMNS",
    "CONSISTENCY_COLUMNS",
    "FUNCTIONS",
    "INTEGER_ITEMS",
    "KEYS",
    "TextClaim",
    "Values",
    "check_consistency",
    "check_grim",
    "check_published",
    "check_text",
    "claims_from_frame",
    "claims_table",
    "compare",
    "consistency_summary",
    "derivation",
    "describe",
    "differences",
    "evaluate",
    "flagged",
    "grim_mean_ok",
    "grimmer_sd_ok",
    "group_candidates",
    "load_published",
    "load_reproduced",
    "load_study_facts",
    "load_text_claims",
    "mean_pvalue_range",
    "parse_expression",
    "run",
    "summary",
    "write_outputs",
]


def write_outputs(
    comparison: pd.DataFrame | None, consistency: pd.DataFrame | None, outdir: str | Path
) -> list[Path]:
    """Write the replication report's CSVs atomically (``ccanalysis.io.write_csv``).

    * ``replication.csv``: the comparison (:data:`COMPARISON_COLUMNS`), one row per printed cell;
    * ``replication_summary.csv``: :func:`summary` of it;
    * ``replication_consistency.csv``: :func:`check_published` (:data:`CONSISTENCY_COLUMNS`, a
      ``section`` column: pvalue, grim, text).

    Either input may be None (then its files are not written). Returns the paths written.
    """
    outdir = Path(outdir)
    paths = []
    if comparison is not None:
        paths.append(
            write_csv(
                comparison[COMPARISON_COLUMNS], outdir / "replication.csv", float_format="%.6g"
            )
        )
        paths.append(write_csv(summary(comparison), outdir / "replication_summary.csv"))
    if consistency is not None:
        paths.append(
            write_csv(
                consistency[CONSISTENCY_COLUMNS],
                outdir / "replication_consistency.csv",
                float_format="%.6g",
            )
        )
    return paths


def run(paths: Paths, params: Params) -> Artifacts:
    """Compare the reproduced tables with the printed ones, check the printed tables, write both.

    Reads ``paths.published`` (printed tables, study facts, text claims) and ``paths.tables``
    (the reproduced ``table1.csv`` ... ``table4.csv``; a missing one is reported as missing cells),
    writes ``replication.csv``, ``replication_summary.csv`` and ``replication_consistency.csv``
    into ``paths.tables``. ``params`` carries no choice of this stage: the comparison is the same
    on synthetic and real data. ``results``: ``comparison``, ``summary``, ``differences``,
    ``consistency``, ``consistency_summary``, ``flagged`` (the checks to read) and
    ``text_claims`` (each claim's expression, derivation and value).
    """
    published = load_published(paths.published)
    facts = load_study_facts(paths.published)
    claims = load_text_claims(paths.published)
    spec = read_spec(paths.spec, instrument=paths.dictionary)
    comparison = compare(published, load_reproduced(paths.tables))
    consistency = check_published(published, spec, facts, claims)
    written = write_outputs(comparison, consistency, paths.tables)
    return Artifacts(
        {p.stem: p for p in written},
        comparison=comparison,
        summary=summary(comparison),
        differences=differences(comparison),
        consistency=consistency,
        consistency_summary=consistency_summary(consistency),
        flagged=flagged(consistency),
        text_claims=claims_table(claims, Values.of(published, facts)),
    )
