"""End to end on a real-looking export: the reading parameters (OUT_OF_RANGE, MISSING_CODES, LABELS)
passed through make to 01_clean, in a copy of the checkout. The stage that reads the export is run
(`make reports/01_clean.ipynb`); the whole pipeline on a real export, privacy on, is
test_e2e.py's real-export test."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from test_e2e import ROOT, _make, spaced_checkout  # noqa: F401 (the copy of the checkout)

from ccanalysis.instrument import export_layout, read_dictionary

pytestmark = [pytest.mark.e2e, pytest.mark.own_checkout]


def labels_export(out: Path) -> tuple[str, str]:
    """The synthetic export as REDCapR returns it by default (labels under raw headers), with a
    panel of 1,600 (the dictionary's range is 0-1500) and REDCap's missing-data code ``UNK`` in a
    number field; returns the record ids of those two cells."""
    inst = read_dictionary(ROOT / "data/raw/cc_survey_dictionary.csv")
    text = (ROOT / "data/raw/synthetic/cc_survey_export.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    for col in export_layout(inst):
        if col.choices:
            pos = header.index(col.name)
            for row in rows[1:]:
                row[pos] = col.choices.get(row[pos], row[pos])
    rows[5][header.index("panel_size")] = "1600"
    rows[9][header.index("years_cc_role")] = "UNK"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    out.write_text(buffer.getvalue(), encoding="utf-8")
    return rows[5][0], rows[9][0]


def test_a_labels_export_with_a_soft_range_and_missing_codes_runs_through_make(
    spaced_checkout: Path,  # noqa: F811
) -> None:
    """Kept and listed in the cleaning log and in 01's page (record, line, value), counted only in
    privacy mode; the same export with OUT_OF_RANGE=stop stops on the record's line."""
    project = spaced_checkout
    export, frame = project.parent / "labels export.csv", project.parent / "frame.csv"
    panel, unk = labels_export(export)
    frame.write_bytes((ROOT / "data/raw/synthetic/clinic_frame.csv").read_bytes())
    inputs = [f"EXPORT={export}", f"FRAME={frame}", "DATA=redcap"]
    reading = ["MISSING_CODES=UNK,NASK", "LABELS=yes"]

    # 01_clean through make, privacy off: the log lists the record (in privacy mode it counts only)
    run = _make("reports/01_clean.ipynb", *inputs, *reading, "PRIVACY=False", cwd=project)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    params = (project / ".make/params").read_text(encoding="utf-8")
    assert "OUT_OF_RANGE=keep MISSING_CODES=UNK,NASK LABELS=yes EVENT=" in params
    log = pd.read_csv(project / "data/processed/cleaning_log.csv", keep_default_na=False)
    listed = f"kept: record {panel}, line 6, value 1600"
    assert log.tail(2).values.tolist() == [
        ["missing_code", "years_cc_role", "UNK", 1],
        ["out_of_range", "panel_size", listed, 1],
    ]
    clinics = pd.read_parquet(project / "data/processed/clinics_clean.parquet")
    assert clinics.set_index("clinic_id").at[panel, "panel_size"] == 1600
    assert listed in (project / "reports/01_clean.ipynb").read_text(encoding="utf-8")

    private = _make("reports/01_clean.ipynb", *inputs, *reading, cwd=project)
    assert private.returncode == 0, (private.stdout + private.stderr)[-3000:]
    page = (project / "reports/01_clean.ipynb").read_text(encoding="utf-8")
    assert "out_of_range" in page and "panel_size" in page and "kept" in page
    assert panel not in page and unk not in page

    stop = _make("all", *inputs, *reading, "OUT_OF_RANGE=stop", cwd=project)
    assert stop.returncode != 0
    assert re.search(
        r"value outside the dictionary's range 0 to 1500 \(OUT_OF_RANGE=stop\) on line 6 "
        rf"\(file [^)]*labels export\.csv, record {panel}, field panel_size, value '1600'\)",
        stop.stdout + stop.stderr,
    ), (stop.stdout + stop.stderr)[-3000:]
