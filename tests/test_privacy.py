"""The privacy check finds record ids in outputs as whole tokens, and nothing else."""

from __future__ import annotations

import csv
import subprocess
import sys
import zipfile

import pytest

from ccanalysis.privacy import checkable_ids, export_ids, find_ids, main


def test_short_numeric_ids_are_not_checkable() -> None:
    assert checkable_ids(["7", "42", "123", "C7", "007", ""]) == ["007", "123", "C7"]


def test_ids_are_found_as_tokens_not_substrings(tmp_path) -> None:
    (tmp_path / "a.html").write_text("<td>C0012</td> and C00123 and xC0012")
    (tmp_path / "b.csv").write_text("item,value\nsvc,C0012_x\n")
    (tmp_path / "c.md").write_text("clinic 1234 answered")
    hits = find_ids(["C0012", "1234", "C0099"], [tmp_path])
    assert [(p.name, i) for p, i in hits] == [("a.html", "C0012"), ("c.md", "1234")]


def _dictionary(folder) -> object:
    """A data dictionary of three text fields: record_id, coordinator_id, q."""
    from ccanalysis.instrument.dictionary import DICTIONARY_COLUMNS

    path = folder / "dictionary.csv"
    rows = [
        [name, "survey", "", "text", label] + [""] * (len(DICTIONARY_COLUMNS) - 5)
        for name, label in [
            ("record_id", "Record ID"),
            ("coordinator_id", "Coordinator"),
            ("q", "Q"),
        ]
    ]
    with path.open("w", newline="") as f:
        csv.writer(f).writerows([list(DICTIONARY_COLUMNS), *rows])
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|", "^"])
def test_export_ids_under_every_redcap_delimiter(tmp_path, sep) -> None:
    export = tmp_path / "export.csv"
    rows = ["record_id,coordinator_id,q", "C0001,K01,1", "C0002,K02,2"]
    export.write_text("\ufeff" + "\r\n".join(r.replace(",", sep) for r in rows) + "\r\n")
    assert export_ids(export, _dictionary(tmp_path)) == ["C0001", "C0002", "K01", "K02"]


def test_export_ids_of_a_labels_export(tmp_path) -> None:
    """The delimiter is the one the dictionary's columns are found under, even where a label
    holds a comma; a labels export's coordinator column is found by its label."""
    export = tmp_path / "export.csv"
    export.write_text("Record ID;Coordinator;Q\r\nC0001;K01;1,5\r\nC0002;K02;2\r\n")
    assert export_ids(export, _dictionary(tmp_path)) == ["C0001", "C0002", "K01", "K02"]


def test_ids_inside_a_word_document_are_found(tmp_path) -> None:
    with zipfile.ZipFile(tmp_path / "t.docx", "w") as z:
        z.writestr("word/document.xml", "<w:t>K017</w:t>")
    assert [i for _, i in find_ids(["K017"], [tmp_path])] == ["K017"]


def test_command_fails_the_run_when_an_id_leaks(tmp_path, capsys) -> None:
    export = tmp_path / "export.csv"
    export.write_text("\ufeffrecord_id,coordinator_id,q\r\nC0001,K01,1\r\nC0002,K02,2\r\n")
    out = tmp_path / "reports"
    out.mkdir()
    (out / "ok.html").write_text("317 clinics")
    dictionary = ["--dictionary", str(_dictionary(tmp_path))]
    assert main([*dictionary, str(export), str(out)]) == 0
    (out / "leak.ipynb").write_text('{"text": "K02 answered"}')
    assert main([*dictionary, str(export), str(out)]) == 1
    assert "'K02'" in capsys.readouterr().err
    proc = subprocess.run(
        [sys.executable, "-m", "ccanalysis.privacy", *dictionary, str(export), str(out)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1


def _ignored(path: str) -> bool:
    from ccanalysis.paths import project_root

    proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=project_root())
    return proc.returncode == 0


def test_real_exports_and_everything_derived_are_ignored_by_git() -> None:
    for path in [
        "data/raw/CareCoordination_DATA_2022-06-01_1200.csv",
        "data/raw/real/clinic_frame.csv",
        "data/raw/CareCoordination_DataDictionary_2022-06-01.csv",
        "data/processed/clinics.parquet",
        "data/processed/cleaning_log.csv",
        "tables/table1.csv",
        "figures/flow.png",
        "reports/01_clean.ipynb",
        "reports/index.html",
    ]:
        assert _ignored(path), path
    for path in [
        "data/raw/cc_survey_dictionary.csv",
        "data/raw/synthetic/cc_survey_export.csv",
        "data/raw/synthetic/clinic_frame.csv",
        "src/ccanalysis/privacy.py",
    ]:
        assert not _ignored(path), path


def test_small_cells_are_suppressed_for_display() -> None:
    import pandas as pd

    from ccanalysis.privacy import suppress_small

    counts = pd.DataFrame({"urban": [0, 3, 10, 11, 240]}, index=list("abcde"))
    shown = suppress_small(counts, 11)
    assert shown["urban"].tolist() == [0, "<11", "<11", 11, 240]
    assert suppress_small(counts, None) is counts
