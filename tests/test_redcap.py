"""Tests of the REDCap export reader: decoding, the labels export, and every bad input."""

from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.cc_exports import DICTIONARY, FIXTURES, RECORDS, export_options, export_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccanalysis.errors import ValidationError
from ccanalysis.instrument import (
    DELIMITERS,
    Instrument,
    coordinator_disagreements,
    read_dictionary,
    read_export,
    read_export_with_stats,
    split_frames,
)
from ccanalysis.instrument.decode import (
    coordinator_items,
    decode_checkbox_items,
    decode_checkbox_single,
)
from ccanalysis.instrument.dictionary import parse_dictionary as parse_dictionary_text
from ccanalysis.instrument.redcap import read_cells
from ccanalysis.paths import project_root

RAW = FIXTURES / "export_raw.csv"
LABELS = FIXTURES / "export_labels.csv"


@pytest.fixture(scope="module")
def inst() -> Instrument:
    return read_dictionary(DICTIONARY)


@pytest.fixture(scope="module")
def records(inst: Instrument) -> pd.DataFrame:
    return read_export(RAW, inst)


# ----------------------------------------------------------------------------------------------
# Helpers editing an export's CSV text


def _parse(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _unparse(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue()


def set_cell(text: str, record: str, column: str, value: str) -> str:
    rows = _parse(text)
    col = rows[0].index(column)
    for row in rows[1:]:
        if row[0] == record:
            row[col] = value
    return _unparse(rows)


def drop_column(text: str, column: str) -> str:
    rows = _parse(text)
    col = rows[0].index(column)
    return _unparse([r[:col] + r[col + 1 :] for r in rows])


def add_column(text: str, column: str, value: str = "x") -> str:
    rows = _parse(text)
    return _unparse([rows[0] + [column]] + [r + [value] for r in rows[1:]])


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def small_dictionary(tmp_path: Path, rows: str, name: str = "dict.csv") -> Instrument:
    """A hand-made dictionary: REDCap's header, then ``rows`` (CSV lines)."""
    header = DICTIONARY.read_text(encoding="utf-8").splitlines()[0]
    return read_dictionary(write(tmp_path, header + "\n" + rows, name))


def assert_names(
    err: ValidationError, path: Path, record: str | None, field: str | None, value: object
) -> None:
    """The error names file, record, field and value (as attributes and in its message)."""
    assert err.file == str(path)
    assert err.record == record
    assert err.field == field
    assert err.value == value
    msg = str(err)
    assert str(path) in msg
    for part in (record, field):
        if part is not None:
            assert part in msg
    if value is not None:
        assert repr(value) in msg


# ----------------------------------------------------------------------------------------------
# A valid export


EXPECTED = {
    # record: {column: value}; NaN = missing
    "001": {
        "coordinator_id": "C01",
        "care_system_id": "S1",
        "degree": "msw_bsw",
        "certified_cc": "yes",
        "years_cc_role": 3.5,
        "hours_week_study_clinics": 40.0,
        "work_onsite": "always",
        "sw_engage_ease": "somewhat_easy",
        "panel_size": 150.0,
        "panel_judgement": "too_many",
        "svc_disease_mgmt": "yes",
        "svc_pc_clinicians": "no",
        "svc_education": "yes",
        "svc_spiritual": "yes",
        "connect_name_phone": np.nan,
        "connect_call_with_patient": np.nan,
        "support_emr_prompts": "yes",
        "support_space": "no",
        "measure_none": np.nan,
        "ease_hospital_nh": "very_easy",
        "resource_satisfaction": "very_satisfied",
        "familiar_clinical": np.nan,
    },
    "002": {
        "coordinator_id": "C01",
        "degree": "msw_bsw",
        "years_cc_role": 4.0,
        "sw_on_team": "no",
        "sw_responsible": np.nan,
        "hours_cc_week": 0.0,
        "panel_size": 1500.0,
        "svc_disease_mgmt": "no",
        "svc_pc_clinicians": "yes",
        "connect_name_phone": "yes",
        "connect_contact_resource": "yes",
        "connect_call_with_patient": "yes",
        "ease_hospital_nh": "very_difficult",
    },
    "007": {
        "coordinator_id": "NA",
        "care_system_id": "S2",
        "degree": np.nan,
        "certified_cc": "no",
        "years_cc_role": np.nan,
        "work_onsite": "never",
        "sw_on_team": np.nan,
        "panel_size": 0.0,
        "svc_disease_mgmt": np.nan,
        "connect_name_phone": "no",
        "connect_call_with_patient": "yes",
    },
    "010": {
        "degree": "lpn_cma",
        "years_cc_role": 50.0,
        "work_onsite": "sometimes",
        "sw_interacts_clinicians": "no",
        "sw_engage_ease": "very_difficult",
        "clinicians_per_fte": 200.0,
    },
    "011": {
        "care_system_id": "S3",
        "degree": "msn_bsn",
        "years_cc_role": 0.5,
        "measure_none": "yes",
        "measure_patient_types": "no",
        "resource_chw": "yes",
        "resource_surg_specialists": "yes",
        "support_space": np.nan,
    },
}


def _same(a: object, b: object) -> bool:
    if isinstance(b, float) and math.isnan(b):
        return bool(pd.isna(a))
    return a == b


def test_valid_export_cell_by_cell(records: pd.DataFrame) -> None:
    assert records["record_id"].tolist() == ["001", "002", "007", "010", "011"]
    by_id = records.set_index("record_id")
    for record, cells in EXPECTED.items():
        for column, value in cells.items():
            assert _same(by_id.at[record, column], value), (record, column)


def test_columns_and_dtypes(records: pd.DataFrame, inst: Instrument) -> None:
    items = list(inst.analysis_items())
    assert list(records.columns) == ["record_id", "coordinator_id", "care_system_id", *items]
    for name in ("record_id", "coordinator_id", "care_system_id"):
        assert records[name].dtype == "str"
    for name in ("years_cc_role", "hours_cc_week", "panel_size", "clinicians_per_fte"):
        assert records[name].dtype == np.float64
    wo = records["work_onsite"].dtype
    assert isinstance(wo, pd.CategoricalDtype) and wo.ordered
    assert list(wo.categories) == ["always", "usually", "sometimes", "rarely", "never"]
    assert list(records["certified_cc"].cat.categories) == ["yes", "no"]
    assert list(records["degree"].cat.categories) == [
        "rn",
        "msn_bsn",
        "msw_bsw",
        "lpn_cma",
        "other_none",
    ]
    assert list(records["svc_cultural"].cat.categories) == ["yes", "no"]
    assert records.index.equals(pd.RangeIndex(5))


def test_missing_is_never_coded(records: pd.DataFrame) -> None:
    # every unanswered question of record 007 is NaN, not a code or an empty string
    row = records.set_index("record_id").loc["007"]
    assert pd.isna(row["pt_comm_phone"]) and pd.isna(row["multi_clinic"])
    assert not records.isin(["", "0", "1"]).to_numpy().any()


def test_bom_and_crlf_read_identically(
    tmp_path: Path, inst: Instrument, records: pd.DataFrame
) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + export_text(crlf=True).encode("utf-8"))
    assert b"\r\n" in path.read_bytes()
    pd.testing.assert_frame_equal(read_export(path, inst), records)


def test_labels_export_read_identically(inst: Instrument, records: pd.DataFrame) -> None:
    header = LABELS.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("Clinic record ID,") and "(choice=RN)" in header
    pd.testing.assert_frame_equal(read_export(LABELS, inst), records)
    _, stats = read_export_with_stats(LABELS, inst)
    assert stats.labels


def test_leading_zeros_and_na_text_kept(records: pd.DataFrame) -> None:
    assert "007" in records["record_id"].tolist()
    assert records.loc[records["record_id"].eq("007"), "coordinator_id"].item() == "NA"


def test_na_in_free_text_field_stays_text(tmp_path: Path) -> None:
    small = small_dictionary(
        tmp_path,
        "record_id,id,,text,Record,,,,,,y,,,,,,,\n"
        "comment,id,,text,A comment,,,,,,,,,,,,,\n"
        "score,id,,text,A score,,,integer,0,10,,,,,,,,\n",
    )
    export = write(tmp_path, "record_id,comment,score,id_complete\n1,NA,NA,2\n2,,,0\n")
    with pytest.raises(ValidationError) as exc:  # "NA" is text: not a number
        read_export(export, small)
    assert_names(exc.value, export, "1", "score", "NA")
    out = read_export(export, small, missing_codes=("NA",))
    assert out["comment"].isna().all()  # NA declared a missing code: missing everywhere
    export.write_text("record_id,comment,score,id_complete\n1,NA,3,2\n", encoding="utf-8")
    assert read_export(export, small)["comment"].tolist() == ["NA"]


def test_missing_codes_read_as_missing(tmp_path: Path, inst: Instrument) -> None:
    text = set_cell(export_text(), "001", "panel_size", "-999")
    text = set_cell(text, "002", "work_onsite", "-999")
    path = write(tmp_path, text)
    with pytest.raises(ValidationError):
        read_export(path, inst)
    out, stats = read_export_with_stats(path, inst, missing_codes=("-999",))
    assert pd.isna(out.at[0, "panel_size"]) and pd.isna(out.at[1, "work_onsite"])
    assert stats.missing_codes == 2


def test_extra_redcap_columns_allowed(
    tmp_path: Path, inst: Instrument, records: pd.DataFrame
) -> None:
    rows = _parse(export_text())
    rows = [
        [r[0], h, *r[1:]]
        for r, h in zip(rows, ["redcap_data_access_group"] + ["dag"] * 5, strict=True)
    ]
    rows = [
        [*r, t]
        for r, t in zip(rows, ["coordinator_timestamp"] + ["[not completed]"] * 5, strict=True)
    ]
    pd.testing.assert_frame_equal(read_export(write(tmp_path, _unparse(rows)), inst), records)


def test_cells_with_spaces_are_stripped(
    tmp_path: Path, inst: Instrument, records: pd.DataFrame
) -> None:
    path = write(tmp_path, set_cell(export_text(), "001", "work_onsite", " 1 "))
    pd.testing.assert_frame_equal(read_export(path, inst), records)


# ----------------------------------------------------------------------------------------------
# Checkboxes


def test_checkbox_items_expansion(inst: Instrument) -> None:
    f = inst["connect"]
    raw = pd.DataFrame(
        {
            "connect___1": ["1", "0", "0", ""],
            "connect___2": ["0", "0", "1", "1"],
            "connect___3": ["0", "0", "1", "0"],
        },
        dtype=object,
    )
    out = decode_checkbox_items(raw, f)
    assert list(out.columns) == [
        "connect_name_phone",
        "connect_contact_resource",
        "connect_call_with_patient",
    ]
    assert out.iloc[0].tolist() == ["yes", "no", "no"]
    assert out.iloc[1].isna().all()  # nothing checked: not answered
    assert out.iloc[2].tolist() == ["no", "yes", "yes"]
    assert pd.isna(out.iat[3, 0]) and out.iat[3, 1] == "yes"  # empty cell stays missing


def test_checkbox_single_takes_first_in_single_order(inst: Instrument) -> None:
    f = inst["degree"]
    boxes = {c: ["0"] * 4 for c in ["1", "2", "3", "4", "5"]}
    boxes["1"] = ["1", "1", "0", "0"]  # rn
    boxes["2"] = ["1", "0", "0", "0"]  # msn_bsn ranks before rn
    boxes["5"] = ["0", "0", "1", "0"]
    raw = pd.DataFrame({f"degree___{c}": v for c, v in boxes.items()}, dtype=object)
    out = decode_checkbox_single(raw, f)
    assert list(out[:3]) == ["msn_bsn", "rn", "other_none"]
    assert pd.isna(out[3])
    assert out.ordered


# ----------------------------------------------------------------------------------------------
# Coordinator frames


def test_split_frames(records: pd.DataFrame, inst: Instrument) -> None:
    clinics, coordinators = split_frames(records, inst)
    assert list(clinics.columns[:3]) == ["record_id", "coordinator_id", "care_system_id"]
    assert "sw_on_team" in clinics and "degree" not in clinics
    assert set(coordinator_items(inst)).isdisjoint(clinics.columns)
    assert coordinators["coordinator_id"].tolist() == ["C01", "NA", "C03", "C04"]
    assert coordinators["n_clinics"].tolist() == [2, 1, 1, 1]
    assert coordinators["n_clinics"].dtype == np.int64
    c01 = coordinators.set_index("coordinator_id").loc["C01"]
    assert c01["years_cc_role"] == 3.5  # from the first record, not the second's 4
    assert list(coordinators.columns[:3]) == ["coordinator_id", "care_system_id", "n_clinics"]
    dis = coordinator_disagreements(records, inst)
    assert dis["years_cc_role"] == 1 and dis.drop("years_cc_role").eq(0).all()


# ----------------------------------------------------------------------------------------------
# Bad inputs: one ValidationError naming file, record, field and value


def _raises(path: Path, inst: Instrument, **kw: object) -> ValidationError:
    with pytest.raises(ValidationError) as exc:
        read_export(path, inst, **kw)  # type: ignore[arg-type]
    return exc.value


def test_empty_file(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, "")
    err = _raises(path, inst)
    assert "empty" in err.problem and err.file == str(path)
    path.write_bytes(b"\xef\xbb\xbf\r\n")
    assert "empty" in _raises(path, inst).problem


def test_header_without_records(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, export_text().splitlines()[0] + "\n")
    assert "no records" in _raises(path, inst).problem


def test_missing_column(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, drop_column(export_text(), "panel_size"))
    err = _raises(path, inst)
    assert_names(err, path, None, "panel_size", None)
    assert "missing" in err.problem


def test_missing_checkbox_column_in_labels_export(tmp_path: Path, inst: Instrument) -> None:
    text = export_text(labels=True)
    header = _parse(text)[0]
    victim = next(h for h in header if h.endswith("(choice=Pharmacists)"))
    path = write(tmp_path, drop_column(text, victim))
    assert_names(_raises(path, inst), path, None, "resources___2", None)


def test_unexpected_column(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, add_column(export_text(), "favourite_colour"))
    err = _raises(path, inst)
    assert_names(err, path, None, "favourite_colour", "favourite_colour")
    assert "unexpected" in err.problem


def test_repeated_column(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, add_column(export_text(), "panel_size", "3"))
    assert "twice" in _raises(path, inst).problem


def test_record_id_not_first(tmp_path: Path, inst: Instrument) -> None:
    rows = [[r[1], r[0], *r[2:]] for r in _parse(export_text())]
    path = write(tmp_path, _unparse(rows))
    assert "first column" in _raises(path, inst).problem


def test_duplicate_record_id(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, set_cell(export_text(), "010", "record_id", "002"))
    err = _raises(path, inst)
    assert_names(err, path, "002", "record_id", "002")
    assert "duplicate" in err.problem and "line 5" in err.problem and "line 3" in err.problem


def test_empty_record_id(tmp_path: Path, inst: Instrument) -> None:
    path = write(tmp_path, set_cell(export_text(), "007", "record_id", ""))
    err = _raises(path, inst)
    assert_names(err, path, "(no id, line 4)", "record_id", "")
    assert "empty record id" in err.problem


@pytest.mark.parametrize(
    ("record", "column", "value", "problem"),
    [
        (
            "007",
            "work_onsite",
            "9",
            "unknown answer code for a radio field (allowed: 1, 2, 3, 4, 5)",
        ),
        ("011", "certified_cc", "yes", "unknown answer code for a yesno field"),
        ("002", "services___4", "2", "checkbox value must be 0, 1"),
        ("010", "years_cc_role", "three", "text in a number field"),
        ("001", "hours_cc_week", "20.5", "not an integer in an integer field"),
        ("007", "activities_complete", "3", "form status must be 0, 1, 2"),
        ("010", "coordinator_id", "", "empty value in a required identifier field"),
    ],
)
def test_one_bad_cell_names_its_record_field_and_value(
    tmp_path: Path, inst: Instrument, record: str, column: str, value: str, problem: str
) -> None:
    path = write(tmp_path, set_cell(export_text(), record, column, value))
    err = _raises(path, inst)
    assert_names(err, path, record, column, value)
    assert err.problem.startswith(problem)


def test_unknown_dropdown_code(tmp_path: Path) -> None:
    small = small_dictionary(
        tmp_path,
        "record_id,id,,text,Record,,,,,,y,,,,,,,\n"
        'size,id,,dropdown,Size,"1, Small | 2, Large",,,,,,,,,,,,'
        '"@CC-LEVELS=""1=small 2=large"""\n',
    )
    path = write(tmp_path, "record_id,size,id_complete\nA,2,2\nB,3,2\n")
    assert_names(_raises(path, small), path, "B", "size", "3")
    path.write_text("record_id,size,id_complete\nA,2,2\nB,1,2\n", encoding="utf-8")
    out = read_export(path, small)
    assert out["size"].tolist() == ["large", "small"]


def test_unknown_label_in_labels_export(tmp_path: Path, inst: Instrument) -> None:
    text = export_text(labels=True)
    rows = _parse(text)
    col = rows[0].index(inst["work_onsite"].label)
    rows[2][col] = "Sometimez"
    path = write(tmp_path, _unparse(rows))
    err = _raises(path, inst)
    assert_names(err, path, "002", "work_onsite", "Sometimez")
    assert "unknown answer label" in err.problem and "Usually" in err.problem


def test_number_out_of_range(tmp_path: Path, inst: Instrument) -> None:
    """REDCap's min/max is a soft check: kept and listed by default, missing or fatal on request."""
    path = write(tmp_path, set_cell(export_text(), "002", "panel_size", "1501"))
    err = _raises(path, inst, out_of_range="stop")
    assert_names(err, path, "002", "panel_size", "1501")
    assert "range 0 to 1500" in err.problem and "line 3" in err.problem
    kept, stats = read_export_with_stats(path, inst)
    assert kept.set_index("record_id").at["002", "panel_size"] == 1501
    assert stats.out_of_range.to_dict("records") == [
        {"line": 3, "record": "002", "field": "panel_size", "value": "1501", "action": "kept"}
    ]
    gone = read_export(path, inst, out_of_range="missing")
    assert math.isnan(gone.set_index("record_id").at["002", "panel_size"])
    path = write(tmp_path, set_cell(export_text(), "011", "years_cc_role", "-0.5"))
    assert_names(_raises(path, inst, out_of_range="stop"), path, "011", "years_cc_role", "-0.5")
    assert _raises(path, inst, out_of_range="stop").problem.startswith(
        "value outside the dictionary's range 0 to 50 (OUT_OF_RANGE=stop) on line 6"
    )


def test_dictionary_does_not_match(tmp_path: Path) -> None:
    other = small_dictionary(
        tmp_path,
        "study_id,demo,,text,Study ID,,,,,,y,,,,,,,\n"
        "age,demo,,text,Age,,,integer,0,120,,,,,,,,\n"
        'sex,demo,,radio,Sex,"1, F | 2, M",,,,,,,,,,,,"@CC-LEVELS=""1=f 2=m"""\n',
        "other_dict.csv",
    )
    path = write(tmp_path, export_text())
    err = _raises(path, other)
    assert "the export does not match the dictionary" in err.problem
    assert err.file == str(path) and err.field == "header"
    assert str(err.value).startswith("record_id,coordinator_id")


# ----------------------------------------------------------------------------------------------
# REDCap's export options: the delimiter and the decimal character

OPTIONS = [(d, name) for d, name in DELIMITERS.items()]


@pytest.mark.parametrize(("delimiter", "name"), OPTIONS)
@pytest.mark.parametrize("labels", [False, True])
def test_every_delimiter_reads_like_the_comma_export(
    tmp_path: Path, inst: Instrument, records: pd.DataFrame, delimiter: str, name: str, labels: bool
) -> None:
    text = export_options(export_text(labels=labels), inst, delimiter)
    if delimiter != ",":
        assert "3,5" in text and "3.5" not in text  # 001's years_cc_role with a decimal comma
    out, stats = read_export_with_stats(write(tmp_path, text), inst)
    pd.testing.assert_frame_equal(out, records)
    assert (stats.delimiter, stats.labels) == (delimiter, labels)
    assert records.at[0, "years_cc_role"] == 3.5 and records.at[4, "years_cc_role"] == 0.5


@pytest.fixture(scope="module")
def synthetic(inst: Instrument) -> tuple[str, pd.DataFrame]:
    """The synthetic stand-in's export (read, never written) and its frame."""
    path = project_root() / "data" / "raw" / "synthetic" / "cc_survey_export.csv"
    return path.read_text(encoding="utf-8"), read_export(path, inst)


@pytest.mark.parametrize("delimiter", [d for d in DELIMITERS if d != ","])
def test_synthetic_export_under_every_delimiter(
    tmp_path: Path, inst: Instrument, synthetic: tuple[str, pd.DataFrame], delimiter: str
) -> None:
    text, expected = synthetic
    variant = export_options(text, inst, delimiter)
    assert variant.count(",") > 300  # the decimals of the number fields
    out = read_export(write(tmp_path, variant), inst)
    pd.testing.assert_frame_equal(out, expected)
    assert len(out) == 317 and out["years_cc_role"].mod(1).gt(0).any()


def test_delimiter_found_from_the_dictionary_not_from_counts(tmp_path: Path) -> None:
    """Labels full of commas, delimited by semicolons: more commas than semicolons in the header,
    yet only the semicolon splits it into the dictionary's columns."""
    small = small_dictionary(
        tmp_path,
        "record_id,id,,text,Record,,,,,,y,,,,,,,\n"
        'age,id,,text,"Age, in years, at the visit",,,number,0,120,,,,,,,,\n'
        'sex,id,,text,"Sex, as recorded, at birth",,,,,,,,,,,,,\n',
    )
    header = "Record;Age, in years, at the visit;Sex, as recorded, at birth;Complete?"
    assert header.count(",") > header.count(";")
    export = write(tmp_path, header + "\nA;40,5;F;Complete\nB;;M;Incomplete\n")
    assert read_cells(export, small)[1] == ";"
    out = read_export(export, small)
    assert out["age"].tolist()[0] == 40.5 and pd.isna(out["age"].tolist()[1])
    assert out["sex"].tolist() == ["F", "M"]


def test_decimal_comma_and_point_in_one_semicolon_export(tmp_path: Path, inst: Instrument) -> None:
    text = set_cell(export_text(), "010", "years_cc_role", "4,25")  # the rest keep their points
    out = read_export(write(tmp_path, export_options(text, inst, ";").replace("0,5", "0.5")), inst)
    assert out["years_cc_role"].tolist()[:2] == [3.5, 4.0]
    assert out.set_index("record_id").at["010", "years_cc_role"] == 4.25
    assert out.set_index("record_id").at["011", "years_cc_role"] == 0.5


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("years_cc_role", "50,5", "range 0 to 50"),  # checked as 50.5, reported as written
        ("hours_cc_week", "20,5", "not an integer"),
        ("years_cc_role", "1,2,5", "text in a number field"),
        ("years_cc_role", "3,5.0", "text in a number field"),
    ],
)
def test_decimal_comma_values_checked_as_numbers(
    tmp_path: Path, inst: Instrument, column: str, value: str, problem: str
) -> None:
    text = _unparse(_parse(set_cell(export_text(), "002", column, value)), "\t")
    path = write(tmp_path, text)
    err = _raises(path, inst, out_of_range="stop")
    assert_names(err, path, "002", column, value)
    assert problem in err.problem


def test_decimal_comma_under_comma_delimiter(tmp_path: Path, inst: Instrument) -> None:
    text = set_cell(export_text(), "010", "years_cc_role", "50,5")
    assert '"50,5"' in text  # quoted, as a CSV writer must
    path = write(tmp_path, text)
    out, stats = read_export_with_stats(path, inst)
    assert out.set_index("record_id").at["010", "years_cc_role"] == 50.5
    assert stats.out_of_range[["line", "record", "value"]].values.tolist() == [[5, "010", "50,5"]]


def test_unknown_delimiter(tmp_path: Path, inst: Instrument) -> None:
    text = _unparse(_parse(export_text()), "#")
    path = write(tmp_path, text)
    err = _raises(path, inst)
    assert_names(err, path, None, "header", text[:60] + "...")
    assert "the export does not match the dictionary" in err.problem
    assert "comma, semicolon, tab, pipe, caret" in err.problem and "at most 0 of" in err.problem


def test_mixed_delimiters_whole_row(tmp_path: Path, inst: Instrument) -> None:
    lines = export_options(export_text(), inst, ";").splitlines()
    lines[4] = export_text().splitlines()[4]  # record 010 delimited by commas
    path = write(tmp_path, "\n".join(lines) + "\n")
    err = _raises(path, inst)
    assert (err.file, err.record, err.field) == (str(path), "010", "record_id")
    assert "mixed delimiters" in err.problem and "comma (',')" in err.problem
    assert "semicolon (';')" in err.problem and "line 5 has 1 values" in err.problem
    assert all(part in str(err) for part in (str(path), "record 010", "field record_id"))


def test_mixed_delimiters_within_a_row(tmp_path: Path, inst: Instrument) -> None:
    lines = export_options(export_text(), inst, "|").splitlines()
    assert lines[3].startswith("007|NA|S2|2|")
    lines[3] = lines[3].replace("007|NA|S2|2|", "007|NA|S2^2|", 1)
    path = write(tmp_path, "\n".join(lines) + "\n")
    err = _raises(path, inst)
    assert_names(err, path, "007", "care_system_id", None)
    assert "caret ('^')" in err.problem and "pipe ('|')" in err.problem


def test_ragged_row(tmp_path: Path, inst: Instrument) -> None:
    lines = export_text().splitlines()
    lines[3] = lines[3].rsplit(",", 2)[0]
    path = write(tmp_path, "\n".join(lines) + "\n")
    err = _raises(path, inst)
    assert err.record == "007" and "line 4" in err.problem


def test_not_utf8(tmp_path: Path, inst: Instrument) -> None:
    text = set_cell(export_text(), "010", "coordinator_id", "Zoë")
    path = tmp_path / "latin1.csv"
    path.write_bytes(text.encode("latin-1"))
    err = _raises(path, inst)
    assert err.record == "010" and err.field == "coordinator_id"
    assert "not UTF-8" in err.problem and "line 5" in err.problem


def test_first_offending_record_reported_with_count(tmp_path: Path, inst: Instrument) -> None:
    text = set_cell(export_text(), "011", "work_onsite", "8")
    text = set_cell(text, "002", "sw_engage_ease", "7")
    text = set_cell(text, "010", "panel_judgement", "6")
    path = write(tmp_path, text)
    err = _raises(path, inst)
    assert_names(err, path, "002", "sw_engage_ease", "7")
    assert "2 other bad cells" in err.problem


def test_inputs_never_modified(tmp_path: Path, inst: Instrument) -> None:
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (RAW, LABELS, DICTIONARY)}
    read_export(RAW, inst)
    read_export(LABELS, inst)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before}
    assert before == after


def test_fixture_records_match_builder() -> None:
    assert RAW.read_text(encoding="utf-8") == export_text()
    assert len(RECORDS) == 5


# ----------------------------------------------------------------------------------------------
# Property: a damaged export gives a frame or a ValidationError, never another exception


def _corrupt(data: st.DataObject, text: str, delimiter: str = ",") -> bytes:
    kind = data.draw(st.sampled_from(["cell", "drop", "truncate", "latin1", "dupline", "bytes"]))
    rows = _parse(text, delimiter)
    if kind == "cell":
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, len(rows[0]) - 1))
        rows[r][c] = data.draw(st.text(st.characters(codec="utf-8"), max_size=12))
        return _unparse(rows, delimiter).encode("utf-8")
    if kind == "drop":
        c = data.draw(st.integers(0, len(rows[0]) - 1))
        return _unparse([r[:c] + r[c + 1 :] for r in rows], delimiter).encode("utf-8")
    if kind == "truncate":
        raw = text.encode("utf-8")
        return raw[: data.draw(st.integers(0, len(raw)))]
    if kind == "latin1":
        r = data.draw(st.integers(0, len(rows) - 1))
        c = data.draw(st.integers(0, len(rows[0]) - 1))
        rows[r][c] = data.draw(st.sampled_from(["Zoë", "Müller", "é", "1é"]))
        return _unparse(rows, delimiter).encode("latin-1")
    if kind == "dupline":
        lines = text.splitlines(keepends=True)
        i = data.draw(st.integers(0, len(lines) - 1))
        return "".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :]).encode("utf-8")
    raw = bytearray(text.encode("utf-8"))
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos : pos + 1] = data.draw(st.binary(min_size=0, max_size=4))
    return bytes(raw)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.slow
@given(data=st.data(), labels=st.booleans(), delimiter=st.sampled_from(list(DELIMITERS)))
def test_corrupted_export_never_crashes(
    tmp_path: Path, inst: Instrument, data: st.DataObject, labels: bool, delimiter: str
) -> None:
    path = tmp_path / "corrupt.csv"
    text = export_options(export_text(labels=labels), inst, delimiter)
    path.write_bytes(_corrupt(data, text, delimiter))
    try:
        out = read_export(path, inst)
    except ValidationError as err:
        assert err.file == str(path)
    else:
        assert isinstance(out, pd.DataFrame) and "record_id" in out


# ---- REDCap's own test data (tests/fixtures/redcap/README.md: REDCapR, MIT) ------------------------
REDCAP = FIXTURES / "redcap"
GRAY = read_dictionary(REDCAP / "gray" / "dictionary.csv")
CODES = ("UNK", "NA", "NASK")


def _gray(name: str, **kw: object) -> tuple[pd.DataFrame, object]:
    return read_export_with_stats(REDCAP / "gray" / name, GRAY, **kw)  # type: ignore[arg-type]


def _gray_error(name: str, **kw: object) -> str:
    with pytest.raises(ValidationError) as err:
        _gray(name, **kw)
    return str(err.value).replace(str(REDCAP), "R")


def test_soft_ranges_blank_for_gray_status() -> None:
    """REDCap's min/max warns at data entry and keeps the value: heights 7 and 6 cm, weights 1 kg
    (ranges 130-215, 35-200) are kept and listed, made missing, or stop the run, as chosen."""
    out, stats = _gray("data.csv")
    assert out["height"].tolist()[:3] == [7.0, 6.0, 180.0]
    assert stats.out_of_range.values.tolist() == [
        [2, "1", "height", "7", "kept"],
        [2, "1", "weight", "1", "kept"],
        [3, "2", "height", "6", "kept"],
        [3, "2", "weight", "1", "kept"],
    ]
    gone, stats = _gray("data.csv", out_of_range="missing")
    assert gone["height"].isna().tolist() == [True, True, False, False, False, True]
    assert set(stats.out_of_range["action"]) == {"made missing"}
    assert _gray_error("data.csv", out_of_range="stop") == (
        "value outside the dictionary's range 130 to 215 (OUT_OF_RANGE=stop) on line 2 (3 other "
        "bad cells too) (file R/gray/data.csv, record 1, field height, value '7')"
    )


def test_a_number_that_is_not_a_number_still_stops(tmp_path: Path) -> None:
    """On the line record 5 starts on (9), not on its multi-line comment's last line (11)."""
    text = (REDCAP / "gray" / "data.csv").read_text(encoding="utf-8").replace("193.04", "193 cm")
    path = write(tmp_path, text)
    with pytest.raises(ValidationError) as err:
        read_export(path, GRAY)
    assert err.value.problem == "text in a number field on line 9"
    assert (err.value.record, err.value.field, err.value.value) == ("5", "height", "193 cm")


def test_dates_checked_against_their_format_excel_resave() -> None:
    """``2003-08-30`` in a date_ymd field became ``8/30/2003`` after Excel: named, not accepted."""
    assert _gray_error("data_excel.csv") == (
        "a date re-formatted (by Excel?), export it again from REDCap: not a date_ymd value, "
        "written like 1991-05-13 or 1991/05/13 on line 2 (4 other bad cells too) "
        "(file R/gray/data_excel.csv, record 1, field dob, value '8/30/2003')"
    )


def test_dates_outside_their_range_are_soft_too(tmp_path: Path) -> None:
    text = (
        (REDCAP / "gray" / "data.csv")
        .read_text(encoding="utf-8")
        .replace("1934-04-09", "1834-04-09")
    )
    _, stats = read_export_with_stats(write(tmp_path, text), GRAY)
    assert stats.out_of_range.values.tolist()[-1] == [4, "3", "dob", "1834-04-09", "kept"]
    mdy = parse_dictionary_text(
        (REDCAP / "longitudinal" / "dictionary.csv")
        .read_text(encoding="utf-8")
        .replace("date_ymd", "date_mdy")
    )
    text = (REDCAP / "longitudinal" / "data.csv").read_text(encoding="utf-8")
    text = text.replace("2001-01-01", "01-01-2001").replace("2001-02-01", "02/01/2001")
    out = read_export(write(tmp_path, text, "mdy.csv"), mdy, event="intake_arm_1")
    assert out["interview_date"].tolist() == [pd.Timestamp(f"2001-0{m}-01") for m in (1, 2, 3)]


def test_labels_under_raw_headers_are_told_from_the_values() -> None:
    """REDCapR's default (rawOrLabel=label, raw headers): ``Female`` decoded like ``0``."""
    raw, raw_stats = _gray("data.csv")
    labels, stats = _gray("data_labels.csv")
    assert stats.labels and not raw_stats.labels
    pd.testing.assert_frame_equal(labels, raw)
    assert "unknown answer code for a radio field (allowed: 0, 1)" in _gray_error(
        "data_labels.csv", labels=False
    )


def test_answers_that_are_both_codes_and_labels_ask_for_labels(tmp_path: Path) -> None:
    """A scale whose labels are its codes (``0, 0 | 1, 1``) and forms left gray (status blank):
    nothing tells codes from labels, so the run asks for LABELS; LABELS decides."""
    text = (REDCAP / "gray" / "dictionary.csv").read_text(encoding="utf-8")
    scale = parse_dictionary_text(text.replace("0, Female | 1, Male", "0, 0 | 1, 1"))
    export = "record_id,name_first,dob,sex,demographics_complete,height,weight,comments,health_complete\n"
    export += "1,A,2003-08-30,0,,180,80,,\n2,B,2003-03-10,1,,170,70,,\n"
    path = write(tmp_path, export)
    with pytest.raises(ValidationError) as err:
        read_export(path, scale)
    assert "both a code and a label" in err.value.problem and "LABELS=yes" in err.value.problem
    assert read_export(path, scale, labels=False)["sex"].tolist() == ["female", "male"]


def test_missing_data_codes_in_any_field_counted_by_field_and_code() -> None:
    assert "value 'UNK'" in _gray_error("data_codes.csv")
    out, stats = _gray("data_codes.csv", missing_codes=CODES)
    assert stats.codes.values.tolist() == [
        ["sex", "UNK", 1],
        ["weight", "UNK", 1],
        ["comments", "NA", 1],
        ["height", "NASK", 1],
    ]
    assert stats.missing_codes == 4
    assert pd.isna(out.at[1, "sex"]) and math.isnan(out.at[2, "weight"])


def test_quoted_decimal_commas_in_a_comma_delimited_export() -> None:
    """REDCapR's decimal-comma project (``"1,54"``, ``"52,3"`` quoted under commas)."""
    inst = read_dictionary(REDCAP / "decimal-comma" / "dictionary.csv")
    out = read_export(REDCAP / "decimal-comma" / "data.csv", inst)
    assert out["height"].tolist() == [1.54, 1.84, 1.95, 1.61]
    assert out["weight"].tolist() == [52.3, 92.3, 123.4, 45.9]


def test_events_stop_unless_one_is_chosen() -> None:
    inst = read_dictionary(REDCAP / "longitudinal" / "dictionary.csv")
    path = REDCAP / "longitudinal" / "data.csv"
    with pytest.raises(ValidationError) as err:
        read_export(path, inst)
    assert err.value.field == "redcap_event_name"
    assert err.value.problem.startswith(
        "a longitudinal or repeating export (event intake_arm_1 (3 rows), event dischage_arm_1 "
        "(3 rows), event follow_up_arm_1 (3 rows)): the survey has one row per record"
    )
    assert err.value.problem.endswith("choose the survey's event with EVENT=...")
    out, stats = read_export_with_stats(path, inst, event="follow_up_arm_1")
    assert out["record_id"].tolist() == ["1", "2", "3"] and out["weight"].tolist() == [
        "13",
        "23",
        "33",
    ]
    assert stats.other_events.to_dict() == {"intake_arm_1": 3, "dischage_arm_1": 3}
    with pytest.raises(ValidationError, match="EVENT='baseline' is not one of them"):
        read_export(path, inst, event="baseline")


def test_repeating_instruments_stop_naming_them() -> None:
    inst = read_dictionary(REDCAP / "repeating" / "dictionary.csv")
    with pytest.raises(ValidationError) as err:
        read_export(REDCAP / "repeating" / "data.csv", inst)
    assert err.value.field == "redcap_repeat_instrument, redcap_repeat_instance"
    assert "repeating blood_pressure (6 rows), repeating laboratory (4 rows)" in err.value.problem


def test_not_utf8_in_a_multiline_value_names_its_record_and_field_not_its_text() -> None:
    """The byte is on line 8, in record 4's comment, which starts on line 5."""
    message = _gray_error("data_latin1.csv")
    assert message == (
        "the file is not UTF-8 (a byte on line 8, the record starting on line 5, in a text value "
        "of 103 characters); export or save it as UTF-8 "
        "(file R/gray/data_latin1.csv, record 4, field comments)"
    )
    assert "lettre" not in message


def test_a_trailing_delimiter_is_named_an_excel_artefact() -> None:
    assert _gray_error("data_trailing_delimiter.csv") == (
        "an empty last column: a delimiter at the end of every line, as Excel leaves it; export "
        "the file again from REDCap (or delete that column) "
        "(file R/gray/data_trailing_delimiter.csv, field (column 10, no name))"
    )


def test_event_and_repeat_columns_left_empty_change_nothing(tmp_path: Path) -> None:
    """A classic project with repeating forms enabled, exported without any repeat: one row per
    record, nothing to merge or drop."""
    inst = read_dictionary(REDCAP / "repeating" / "dictionary.csv")
    lines = (REDCAP / "repeating" / "data.csv").read_text(encoding="utf-8").splitlines()
    path = write(
        tmp_path, "\n".join(line for line in lines if ",," in line[:4] or line == lines[0])
    )
    out, stats = read_export_with_stats(path, inst)
    assert out["record_id"].tolist() == ["1", "2"] and stats.other_events.empty
    with pytest.raises(ValidationError, match="no event found.*EVENT='x' is not one of them"):
        read_export(path, inst, event="x")
