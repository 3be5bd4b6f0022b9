"""Tests of stage 01: the clinic frame, the join, the derivations, the log and the writer."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.cc_exports import (
    DICTIONARY,
    FIXTURES,
    FRAME_ROWS,
    export_options,
    export_text,
    frame_text,
)

from ccanalysis import clean as clean_mod
from ccanalysis.clean import (
    OUTPUT_FILES,
    clean,
    read_frame,
    run,
    size_category,
)
from ccanalysis.errors import ValidationError
from ccanalysis.instrument import (
    DELIMITERS,
    Instrument,
    read_dictionary,
    read_export_with_stats,
)
from ccanalysis.instrument.decode import coordinator_items
from ccanalysis.paths import Paths, project_root
from ccanalysis.stage import Params, context

RAW = FIXTURES / "export_raw.csv"
FRAME = FIXTURES / "clinic_frame.csv"


@pytest.fixture(scope="module")
def inst() -> Instrument:
    return read_dictionary(DICTIONARY)


def clean_files(
    export: Path, dictionary: Path, frame: Path, missing_codes: tuple[str, ...] = ()
) -> clean_mod.Cleaned:
    """The calls of stage 01's ``run`` on three input files, nothing written."""
    inst = read_dictionary(dictionary)
    records, stats = read_export_with_stats(export, inst, missing_codes=missing_codes)
    return clean(
        records,
        read_frame(frame),
        inst,
        export_name=str(export),
        frame_name=str(frame),
        stats=stats,
    )


@pytest.fixture(scope="module")
def cleaned(inst: Instrument) -> clean_mod.Cleaned:
    return clean_files(RAW, DICTIONARY, FRAME)


def write(tmp_path: Path, text: str, name: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def frame_with(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    return write(tmp_path, frame_text(rows), "frame.csv")


def checksums(*paths: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


# ----------------------------------------------------------------------------------------------
# The clinic frame


def test_read_frame(tmp_path: Path) -> None:
    frame = read_frame(FRAME)
    assert list(frame.columns) == ["clinic_id", "care_system_id", "ruca"]
    assert frame["ruca"].dtype == np.int64 and frame["clinic_id"].dtype == "str"
    assert frame["clinic_id"].iloc[:3].tolist() == ["001", "002", "007"]
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(b"\xef\xbb\xbf" + frame_text().replace("\n", "\r\n").encode())
    pd.testing.assert_frame_equal(read_frame(crlf), frame)


def test_read_frame_ignores_extra_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "clinic_id,name,care_system_id,ruca\n01,A,S1,2\n", "f.csv")
    assert read_frame(path).to_dict("list") == {
        "clinic_id": ["01"],
        "care_system_id": ["S1"],
        "ruca": [2],
    }


def _frame_error(path: Path) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        read_frame(path)
    return exc.value


def test_frame_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path, "clinic_id,care_system_id\n001,S1\n", "f.csv")
    err = _frame_error(path)
    assert err.file == str(path) and err.field == "ruca" and "lacks the column" in err.problem


def test_frame_ruca_not_integer(tmp_path: Path) -> None:
    for bad in ("4.5", "rural", ""):
        path = frame_with(tmp_path, [("001", "S1", "1"), ("002", "S1", bad)])
        err = _frame_error(path)
        assert (err.file, err.record, err.field, err.value) == (str(path), "002", "ruca", bad)
        assert "not an integer" in err.problem and "line 3" in err.problem
        assert repr(bad) in str(err)


@pytest.mark.parametrize("bad", ["0", "11", "-1"])
def test_frame_ruca_out_of_range(tmp_path: Path, bad: str) -> None:
    path = frame_with(tmp_path, [("001", "S1", bad), ("002", "S1", "12")])
    err = _frame_error(path)
    assert (err.file, err.record, err.field, err.value) == (str(path), "001", "ruca", bad)
    assert "outside 1-10" in err.problem and "1 other row" in err.problem


def test_frame_duplicate_clinic(tmp_path: Path) -> None:
    path = frame_with(tmp_path, [("001", "S1", "1"), ("002", "S1", "2"), ("001", "S1", "3")])
    err = _frame_error(path)
    assert (err.file, err.record, err.field, err.value) == (str(path), "001", "clinic_id", "001")
    assert "twice" in err.problem and "line 4" in err.problem


def test_frame_empty_clinic_id(tmp_path: Path) -> None:
    err = _frame_error(frame_with(tmp_path, [("001", "S1", "1"), ("", "S1", "2")]))
    assert err.field == "clinic_id" and "empty clinic id" in err.problem


def test_frame_empty_file(tmp_path: Path) -> None:
    assert "empty" in _frame_error(write(tmp_path, "", "f.csv")).problem


# ----------------------------------------------------------------------------------------------
# Derivations


def test_urban_in_clean_output(cleaned: clean_mod.Cleaned) -> None:
    c = cleaned.clinics.set_index("clinic_id")
    assert c.at["002", "ruca"] == 3 and bool(c.at["002", "urban"]) is True
    assert c.at["007", "ruca"] == 4 and bool(c.at["007", "urban"]) is False  # urban: RUCA 1-3
    assert c["urban"].dtype == bool


def test_size_category_boundaries() -> None:
    sizes = size_category(pd.Series([1, 2, 3, 9, 10, 40]))
    assert sizes.tolist() == ["small", "small", "medium", "medium", "large", "large"]
    assert sizes.dtype == pd.CategoricalDtype(["small", "medium", "large"], ordered=True)


def test_system_size_counts_clinics_in_frame(cleaned: clean_mod.Cleaned) -> None:
    # S1 has 2 clinics in the frame, S2 3 (one did not answer), S3 10 (nine did not answer)
    size = cleaned.clinics.set_index("clinic_id")["system_size"]
    assert size.astype(object).to_dict() == {
        "001": "small",
        "002": "small",
        "007": "medium",
        "010": "medium",
        "011": "large",
    }


# ----------------------------------------------------------------------------------------------
# The join and the output frames


def test_clinic_frame_columns(cleaned: clean_mod.Cleaned, inst: Instrument) -> None:
    c = cleaned.clinics
    items = [i for i, f in inst.analysis_items().items() if f.form != "coordinator"]
    assert list(c.columns) == [
        "clinic_id",
        "coordinator_id",
        "care_system_id",
        "ruca",
        "urban",
        "system_size",
        *items,
    ]
    assert c["clinic_id"].tolist() == ["001", "002", "007", "010", "011"]
    assert c["ruca"].dtype == np.int64 and c["urban"].dtype == bool
    assert c["system_size"].cat.ordered
    assert c["sw_on_team"].astype(object).tolist()[:2] == ["yes", "no"]
    assert c["coordinator_id"].tolist()[2] == "NA"


def test_coordinator_frame(cleaned: clean_mod.Cleaned, inst: Instrument) -> None:
    k = cleaned.coordinators
    assert list(k.columns) == [
        "coordinator_id",
        "care_system_id",
        "n_clinics",
        *coordinator_items(inst),
    ]
    assert k["coordinator_id"].tolist() == ["C01", "NA", "C03", "C04"]
    assert k["n_clinics"].tolist() == [2, 1, 1, 1]
    assert k.set_index("coordinator_id").at["C01", "years_cc_role"] == 3.5


def test_clinic_missing_from_frame(tmp_path: Path) -> None:
    rows = [r for r in FRAME_ROWS if r[0] != "010"]
    frame = frame_with(tmp_path, rows)
    with pytest.raises(ValidationError) as exc:
        clean_files(RAW, DICTIONARY, frame)
    err = exc.value
    assert (err.file, err.record, err.field, err.value) == (str(RAW), "010", "record_id", "010")
    assert "not in the clinic frame" in err.problem and str(frame) in str(err)


def test_care_system_mismatch(tmp_path: Path) -> None:
    rows = [(c, "S9" if c == "007" else s, r) for c, s, r in FRAME_ROWS]
    frame = frame_with(tmp_path, rows)
    with pytest.raises(ValidationError) as exc:
        clean_files(RAW, DICTIONARY, frame)
    err = exc.value
    assert (err.file, err.record, err.field, err.value) == (str(RAW), "007", "care_system_id", "S2")
    assert "'S9'" in err.problem and "disagrees" in err.problem


def test_clean_is_pure(inst: Instrument) -> None:
    records, stats = read_export_with_stats(RAW, inst)
    frame = read_frame(FRAME)
    before = (records.copy(), frame.copy())
    out = clean(records, frame, inst, stats=stats)
    pd.testing.assert_frame_equal(records, before[0])
    pd.testing.assert_frame_equal(frame, before[1])
    assert len(out.clinics) == len(records)


# ----------------------------------------------------------------------------------------------
# The cleaning log


def _log_value(log: pd.DataFrame, section: str, item: str, measure: str) -> int:
    hit = log[(log.section == section) & (log.item == item) & (log.measure == measure)]
    assert len(hit) == 1, (section, item, measure)
    return int(hit["value"].iloc[0])


def test_cleaning_log(cleaned: clean_mod.Cleaned) -> None:
    log = cleaned.log
    assert list(log.columns) == ["section", "item", "measure", "value"]
    assert log["value"].dtype == np.int64
    assert _log_value(log, "counts", "", "records_read") == 5
    assert _log_value(log, "counts", "", "clinics") == 5
    assert _log_value(log, "counts", "", "coordinators") == 4
    assert _log_value(log, "counts", "", "care_systems") == 3
    assert _log_value(log, "counts", "", "frame_clinics") == len(FRAME_ROWS)
    assert _log_value(log, "missing_answers", "sw_on_team", "missing") == 1
    assert _log_value(log, "missing_answers", "degree", "missing") == 1  # of 4 coordinators
    assert _log_value(log, "missing_answers", "svc_education", "missing") == 3
    assert _log_value(log, "checkbox_blank", "services", "records") == 3
    assert _log_value(log, "checkbox_blank", "connect", "records") == 3
    assert _log_value(log, "checkbox_blank", "degree", "records") == 1
    assert _log_value(log, "coordinator_disagreement", "years_cc_role", "coordinators") == 1
    assert _log_value(log, "coordinator_disagreement", "work_onsite", "coordinators") == 0
    assert _log_value(log, "validation", "", "values_rejected") == 0
    assert _log_value(log, "validation", "", "missing_codes_read_as_missing") == 0


# ----------------------------------------------------------------------------------------------
# run: all or nothing, inputs untouched


def run_paths(root: Path, export: Path = RAW, frame: Path = FRAME) -> Paths:
    """The paths of a run in ``root`` on the given inputs (the fixture's dictionary)."""
    return Paths.of(root, export=export, dictionary=DICTIONARY, frame=frame)


def test_run_writes_outputs(tmp_path: Path, cleaned: clean_mod.Cleaned) -> None:
    before = checksums(RAW, DICTIONARY, FRAME)
    paths = run_paths(tmp_path)
    out = run(paths, Params())
    assert checksums(RAW, DICTIONARY, FRAME) == before
    assert {k: p.name for k, p in out.items()} == OUTPUT_FILES
    assert sorted(p.name for p in paths.processed.iterdir()) == sorted(OUTPUT_FILES.values())
    pd.testing.assert_frame_equal(pd.read_parquet(out["clinics"]), cleaned.clinics)
    pd.testing.assert_frame_equal(pd.read_parquet(out["coordinators"]), cleaned.coordinators)
    log = pd.read_csv(out["log"], dtype={"item": str}, keep_default_na=False)
    assert log["value"].tolist() == cleaned.log["value"].tolist()


def test_run_results_for_display(tmp_path: Path) -> None:
    out = run(run_paths(tmp_path), Params())
    strata = out.results["strata"]
    # 001 (RUCA 1) and 002 (RUCA 3) urban in small S1; 007, 010 medium; 011 large; 2 urban, 3 rural
    assert strata.at["small", "urban"] == 2 and strata.at["medium", "rural"] == 2
    assert strata.at["All", "All"] == 5
    assert out.results["missing"].at["years_cc_role", "coordinator_disagreement"] == 1
    private = run(run_paths(tmp_path), Params(data_mode="redcap", privacy=True))
    assert private.results["strata"].at["All", "All"] == "<11"
    assert private.results["strata"].at["large", "urban"] == 0  # zero cells stay visible


def test_run_with_labels_export_and_missing_codes(tmp_path: Path) -> None:
    text = export_text(labels=True).replace(",40,", ",-999,", 1)
    export = write(tmp_path, text, "labels.csv")
    result = clean_files(export, DICTIONARY, FRAME, missing_codes=("-999",))
    assert _log_value(result.log, "validation", "", "missing_codes_read_as_missing") == 1


@pytest.mark.slow  # the stage, twice
def test_run_logs_what_reading_changed_and_shows_aggregates_in_privacy_mode(
    tmp_path: Path,
) -> None:
    """A panel of 1,600 (range 0-1500) is kept and listed with record, line and value; a missing
    code is counted by field and code; privacy mode shows counts only."""
    rows = list(csv.reader(io.StringIO(export_text())))
    rows[2][rows[0].index("panel_size")] = "1600"
    rows[3][rows[0].index("years_cc_role")] = "UNK"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    export = write(tmp_path, buffer.getvalue(), "export.csv")
    paths, params = context(
        export=export, dictionary=DICTIONARY, frame=FRAME, root=tmp_path, missing_codes="UNK,NASK"
    )
    out = run(paths, params)
    record = rows[2][0]
    log = out.results["log"]
    assert (
        _log_value(log, "out_of_range", "panel_size", f"kept: record {record}, line 3, value 1600")
        == 1
    )
    assert _log_value(log, "missing_code", "years_cc_role", "UNK") == 1
    assert out.results["clinics"].set_index("clinic_id").at[record, "panel_size"] == 1600
    assert pd.read_csv(out["log"]).tail(2)["section"].tolist() == ["missing_code", "out_of_range"]
    shown = run(paths, Params(privacy=True, missing_codes=("UNK",))).results["reading"]
    assert shown.values.tolist() == [
        ["missing_code", "years_cc_role", "UNK", "<11"],
        ["out_of_range", "panel_size", "kept", "<11"],
    ]
    paths, params = context(
        export=export,
        dictionary=DICTIONARY,
        frame=FRAME,
        root=tmp_path,
        missing_codes="UNK",
        out_of_range="missing",
    )
    gone = run(paths, params)
    assert pd.isna(gone.results["clinics"].set_index("clinic_id").at[record, "panel_size"])
    assert "made missing: record" in gone.results["reading"]["measure"].iloc[-1]
    with pytest.raises(ValueError, match="LABELS must be yes, no or empty"):
        context(labels="maybe")


@pytest.mark.parametrize("damage", ["export", "frame", "mismatch"])
def test_run_failure_writes_nothing(tmp_path: Path, damage: str) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    export = inputs / "export.csv"
    frame = inputs / "frame.csv"
    shutil.copy(RAW, export)
    shutil.copy(FRAME, frame)
    if damage == "export":
        export.write_text(export_text().replace("3.5", "3.5.5"), encoding="utf-8")
    elif damage == "frame":
        frame.write_text(frame_text().replace("S3,7", "S3,77"), encoding="utf-8")
    else:
        frame.write_text(frame_text().replace("007,S2", "007,S1"), encoding="utf-8")
    before = checksums(export, frame, DICTIONARY)
    paths = run_paths(tmp_path / "root", export, frame)
    with pytest.raises(ValidationError):
        run(paths, Params())
    assert not paths.processed.exists() or list(paths.processed.iterdir()) == []
    assert checksums(export, frame, DICTIONARY) == before


def test_run_failure_while_writing_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = run_paths(tmp_path)
    real = pd.DataFrame.to_csv

    def broken(self: pd.DataFrame, *args: object, **kwargs: object) -> None:
        real(self, *args, **kwargs)  # type: ignore[call-overload]
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(OSError):
        run(paths, Params())
    assert list(paths.processed.iterdir()) == []


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The bytes stage 01 writes from the synthetic stand-in (a comma export)."""
    root = project_root()
    paths = Paths.of(
        tmp_path_factory.mktemp("comma"),
        export=root / "data" / "raw" / "synthetic" / "cc_survey_export.csv",
        dictionary=DICTIONARY,
        frame=root / "data" / "raw" / "synthetic" / "clinic_frame.csv",
    )
    return {name: path.read_bytes() for name, path in run(paths, Params()).items()}


@pytest.mark.parametrize("delimiter", [d for d in DELIMITERS if d != ","])
def test_every_export_option_gives_the_same_outputs(
    tmp_path: Path, inst: Instrument, synthetic_run: dict[str, bytes], delimiter: str
) -> None:
    """The synthetic export saved with another delimiter and a decimal comma: byte-identical
    cleaned frames and log."""
    root = project_root()
    source = root / "data" / "raw" / "synthetic" / "cc_survey_export.csv"
    export = write(
        tmp_path, export_options(source.read_text(encoding="utf-8"), inst, delimiter), "x.csv"
    )
    frame = root / "data" / "raw" / "synthetic" / "clinic_frame.csv"
    out = run(Paths.of(tmp_path, export=export, dictionary=DICTIONARY, frame=frame), Params())
    assert {name: path.read_bytes() for name, path in out.items()} == synthetic_run
