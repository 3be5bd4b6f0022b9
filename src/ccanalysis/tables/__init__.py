"""Tables 1-4 of Solberg et al. 2024, built from the processed frames by one specification.

The specification (``specs/tables.csv``, read by :func:`ccanalysis.spec.read_spec`) holds one
typed row per printed row: table, section, item, level, label, statistic, how the item is shown,
the levels a collapsed row adds up, the test, the denominator rule, a footnote, the q family.

* :mod:`~ccanalysis.tables.summary`: the composable summary (``summarize`` -> ``add_p`` ->
  ``add_difference`` -> ``add_q`` -> ``render``/``write``), public as :mod:`ccanalysis.analysis`;
* :mod:`~ccanalysis.tables.counts`: an item's counts by group and the long format;
* :mod:`~ccanalysis.tables.grid`: the printed grid (N row, sections, p-values, footnotes);
* :mod:`~ccanalysis.tables.render`: the grid as HTML, Markdown, LaTeX and Word, the long CSV;
* :mod:`~ccanalysis.tables.paper`: the paper's tables from the specification (:func:`from_spec`);
* :mod:`~ccanalysis.tables.facts`: the numbers the paper's text quotes;
* :mod:`~ccanalysis.tables.read`: the one reader of ``tables/tableN.csv``.

:func:`run` is the stage: the calls a reader sees in ``notebooks/03_tables.ipynb``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccanalysis.classify import DEFAULT_DEFINITION, definition_of
from ccanalysis.instrument import read_dictionary
from ccanalysis.io import read_uncalibrated
from ccanalysis.paths import Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.tables.counts import EXTRA_COLUMNS, LONG_COLUMNS
from ccanalysis.tables.facts import text_facts
from ccanalysis.tables.paper import add_q_families, from_spec
from ccanalysis.tables.render import long_csv
from ccanalysis.tables.summary import Summary

__all__ = [
    "EXTRA_COLUMNS",
    "LONG_COLUMNS",
    "annotate",
    "add_q_families",
    "from_spec",
    "long_csv",
    "run",
    "text_facts",
]

#: The footnote of the rows of items the synthesizer drew without a printed number to meet.
UNCALIBRATED_NOTE = "Synthetic answers not calibrated to a printed number"


def annotate(s: Summary, clinics: pd.DataFrame, params: Params, export_dir: Path) -> Summary:
    """The notes a run adds to a table: the care model definition when it is not the paper's,
    and, on the synthetic stand-in, a footnote on the items its synthesizer drew without a
    printed number to meet (``uncalibrated_items.csv`` beside the export)."""
    definition = definition_of(clinics)
    if definition.id != DEFAULT_DEFINITION:  # say which care models the columns compare
        s = s.note(
            f"Care models by an alternative definition ({definition.id}): {definition.label}."
        )
    if not params.synthetic:
        return s
    flagged = read_uncalibrated(export_dir).set_index("item")["distribution"]
    flagged.index = flagged.index.str.strip()
    items = [b.item for b in s.blocks if b.item in flagged.index]
    drawn = "; ".join(f"{i}: {flagged[i]}" if flagged[i] else i for i in items)
    return s.footnote(items, f"{UNCALIBRATED_NOTE} ({drawn}).") if items else s


def run(paths: Paths, params: Params) -> Artifacts:
    """The tables stage: Tables 1-4 from ``data/processed`` into ``tables/`` in every format.

    Returns the files written (``table1.csv`` ... ``table4.docx``); ``.results`` holds ``spec``,
    ``summaries`` (each table's :class:`~ccanalysis.tables.summary.Summary`), ``tables`` (their
    long frames) and ``facts`` (:func:`text_facts`).
    """
    spec = read_spec(paths.spec, instrument=read_dictionary(paths.dictionary))
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    coordinators = pd.read_parquet(paths.processed / "coordinators.parquet")
    data = {"clinics": clinics, "coordinators": coordinators}
    summaries = {
        t: from_spec(spec, data, t, seed=params.seed, synthetic=params.synthetic)
        for t in spec.tables
    }
    summaries = add_q_families(spec, summaries)
    summaries = {t: annotate(s, clinics, params, paths.export.parent) for t, s in summaries.items()}
    files: dict[str, Path] = {}
    for name, s in summaries.items():
        written = s.write(paths.tables, name, extras=False, suppress_below=params.suppress_below)
        files.update({f"{name}.{ext}": p for ext, p in written.items()})
    return Artifacts(
        files,
        spec=spec,
        summaries=summaries,
        tables={t: s.long for t, s in summaries.items()},
        facts=text_facts(clinics, coordinators),
    )
