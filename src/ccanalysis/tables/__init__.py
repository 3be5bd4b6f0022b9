"""Tables 1-4 from the processed frames by ``specs/tables.csv`` and the summary API; :func:`run`
makes the calls ``notebooks/03_tables.ipynb`` shows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ccanalysis.instrument import read_dictionary
from ccanalysis.paths import Paths
from ccanalysis.spec import read_spec
from ccanalysis.stage import Artifacts, Params
from ccanalysis.tables.facts import text_facts
from ccanalysis.tables.paper import from_spec
from ccanalysis.tables.render import long_csv

__all__ = ["from_spec", "long_csv", "run", "text_facts"]


def run(paths: Paths, params: Params) -> Artifacts:
    """Tables 1-4 from ``data/processed`` into ``tables/`` in every format; ``.results``: ``spec``,
    ``summaries``, ``tables`` (their long frames) and ``facts`` (:func:`text_facts`)."""
    spec = read_spec(paths.spec, instrument=read_dictionary(paths.dictionary))
    clinics = pd.read_parquet(paths.processed / "clinics.parquet")
    coordinators = pd.read_parquet(paths.processed / "coordinators.parquet")
    data = {"clinics": clinics, "coordinators": coordinators}
    summaries = {
        t: from_spec(
            spec,
            data,
            t,
            seed=params.seed,
            synthetic=params.synthetic,
            export_dir=paths.export.parent,
        )
        for t in spec.tables
    }
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
