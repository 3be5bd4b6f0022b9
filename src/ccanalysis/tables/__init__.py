"""Tables 1-4 of Solberg et al. 2024, built from the processed frames by one specification.

The specification (``specs/tables.csv``, read by :func:`ccanalysis.spec.read_spec`) is the one
description of the layout: one typed row per printed row (table, section header, item, level,
label, statistic, how the item is shown, the levels a collapsed row adds up, the test, the
denominator rule, a footnote).

* :mod:`~ccanalysis.tables.build`: a table's long format (docs/ARCHITECTURE.md's
  ``table,item,level,group,measure,value``, then ``diff, diff_lo, diff_hi, q, test, note,
  p_level, test_level``): counts, denominators, means, the test of each item on its full answer
  distribution and of each printed level on its own, differences with 95% intervals;
* :mod:`~ccanalysis.tables.summary`: the composable summary (``summarize`` -> ``add_p`` ->
  ``add_difference`` -> ``add_q`` -> ``render``), public as :mod:`ccanalysis.analysis`;
* :mod:`~ccanalysis.tables.layout`: the printed grid (N row, section headers, indented rows, p on
  the first row of an item, footnotes) every renderer prints;
* :mod:`~ccanalysis.tables.render`: HTML, Markdown, LaTeX (booktabs), Word and the long CSV,
  written atomically and byte for byte the same on every run (:func:`write_table`);
* :mod:`~ccanalysis.tables.paper`: what is particular to each of the paper's tables (units,
  groups, title, decimals) and the spec-driven entry point that builds them through the summary
  API, q-values across the specification's families (:func:`build_tables`);
  :mod:`~ccanalysis.tables.facts`: the numbers the paper's text quotes.

:func:`run` is the stage: it builds Tables 1-4 from ``data/processed``, writes every format into
``tables/`` and returns the files, with the built tables and the text's numbers in ``.results``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ccanalysis.classify import DEFAULT_DEFINITION, definition_of
from ccanalysis.instrument import read_dictionary
from ccanalysis.paths import Paths
from ccanalysis.spec import Spec, read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.io import read_uncalibrated
from ccanalysis.tables.build import EXTRA_COLUMNS, LONG_COLUMNS
from ccanalysis.tables.facts import text_facts
from ccanalysis.tables.layout import format_mean_sd, format_n_pct
from ccanalysis.tables.paper import (
    build_table,
    build_tables,
    from_spec,
    from_specs,
    paper_display,
    render,
    write_table,
)
from ccanalysis.tables.render import FIXED_DATE, long_csv, render_display, write_display
from ccanalysis.tables.summary import Summary

__all__ = [
    "EXTRA_COLUMNS",
    "FIXED_DATE",
    "LONG_COLUMNS",
    "build_table",
    "build_tables",
    "format_mean_sd",
    "format_n_pct",
    "from_spec",
    "from_specs",
    "paper_display",
    "long_csv",
    "render",
    "run",
    "text_facts",
    "uncalibrated_items",
    "write_table",
]


#: The footnote of the rows of items the synthesizer drew without a printed number to meet.
UNCALIBRATED_NOTE = "Synthetic answers not calibrated to a printed number"


def uncalibrated_items(folder: str | Path) -> dict[str, str]:
    """``item -> distribution`` of the synthetic items no printed number calibrates, as the
    synthesizer listed them in ``folder`` (:func:`ccanalysis.io.read_uncalibrated`); empty when
    it listed none."""
    frame = read_uncalibrated(folder)
    return dict(zip(frame["item"].str.strip(), frame["distribution"], strict=True))


def _uncalibrated_note(s: Summary, flagged: Mapping[str, str]) -> Summary:
    """Footnote the rows of ``s``'s uncalibrated items, saying what their answers are drawn from."""
    items = [b.item for b in s.blocks if b.item in flagged]
    if not items:
        return s
    drawn = "; ".join(f"{i}: {flagged[i]}" if flagged[i] else i for i in items)
    return s.footnote(items, f"{UNCALIBRATED_NOTE} ({drawn}).")


def run(paths: Paths, params: Params) -> Artifacts:
    """The tables stage: Tables 1-4 from ``data/processed`` into ``tables/`` in every format.

    Each table is built through the summary API (:func:`~ccanalysis.tables.paper.from_specs`),
    q-values across the specification's families of tests. In synthetic mode the rows of items
    the synthesizer did not calibrate (``uncalibrated_items.csv`` beside the export) are
    footnoted. Returns the files written (``table1.csv`` ... ``table4.docx``); ``.results`` holds
    ``spec`` (the :class:`~ccanalysis.spec.Spec`), ``summaries`` (the
    :class:`~ccanalysis.tables.summary.Summary` of each table), ``tables`` (their long frames),
    ``html`` and ``html_extras`` (each table rendered, without and with the difference, P (row)
    and q columns) and ``facts`` (:func:`text_facts`).
    """
    spec: Spec = read_spec(paths.spec, instrument=read_dictionary(paths.dictionary))
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    coordinators = pd.read_parquet(paths.processed / "coordinators.parquet")
    k = params.suppress_below
    summaries = from_specs(
        spec, clinics, coordinators, seed=params.seed, synthetic=params.synthetic
    )
    definition = definition_of(clinics)
    if definition.id != DEFAULT_DEFINITION:  # say which care models the columns compare
        note = f"Care models by an alternative definition ({definition.id}): {definition.label}."
        summaries = {t: s.note(note) for t, s in summaries.items()}
    if params.synthetic:
        flagged = uncalibrated_items(paths.export.parent)
        summaries = {t: _uncalibrated_note(s, flagged) for t, s in summaries.items()}
    files: dict[str, Path] = {}
    html: dict[str, str] = {}
    for name, s in summaries.items():
        d = s.display(extras=False, suppress_below=k)  # one grid for the files and the notebook
        written = write_display(d, s.long, paths.tables, name, suppress_below=k)
        files.update({f"{name}.{ext}": p for ext, p in written.items()})
        html[name] = str(render_display(d, "html"))
    return Artifacts(
        files,
        spec=spec,
        summaries=summaries,
        tables={t: s.long for t, s in summaries.items()},
        html=html,
        html_extras={t: str(s.render("html", suppress_below=k)) for t, s in summaries.items()},
        facts=text_facts(clinics, coordinators),
    )
