"""The data dictionary parser: REDCap's conventions, and the instrument the project ships."""

from __future__ import annotations

import pandas as pd
import pytest

from ccanalysis.errors import ValidationError
from ccanalysis.instrument.decode import coordinator_items
from ccanalysis.instrument.dictionary import (
    API_COLUMNS,
    DICTIONARY_COLUMNS,
    checkbox_column,
    date_formats,
    parse_choices,
    parse_dictionary,
    read_dictionary,
)
from ccanalysis.paths import project_root

DICTIONARY = project_root() / "data" / "raw" / "cc_survey_dictionary.csv"


def _dictionary_text(rows: list[list[str]], header=DICTIONARY_COLUMNS) -> str:
    frame = pd.DataFrame([r + [""] * (18 - len(r)) for r in rows], columns=list(header))
    return frame.to_csv(index=False)


def test_choices_split_on_bar_then_first_comma() -> None:
    assert parse_choices("1, Yes | 0, No") == {"1": "Yes", "0": "No"}
    # missing space after the comma, stray spaces, a comma inside the label
    assert parse_choices("1,Always|2 ,  Mostly, or often |3, x") == {
        "1": "Always",
        "2": "Mostly, or often",
        "3": "x",
    }
    with pytest.raises(ValueError, match="no comma"):
        parse_choices("1 Yes | 0, No")


def test_checkbox_columns_follow_redcap() -> None:
    assert checkbox_column("services", "1") == "services___1"
    assert checkbox_column("race", "-99") == "race____99"
    assert checkbox_column("Meds", "ABC") == "Meds___abc"
    assert checkbox_column("x", "0") == "x___0"


def test_shipped_instrument_export_columns_and_items() -> None:
    inst = read_dictionary(DICTIONARY)
    cols = inst.export_columns()
    assert cols[0] == "record_id"
    assert inst.forms == ["identification", "coordinator", "care_model", "activities", "approaches"]
    # each form's status column follows its last field
    assert cols.index("identification_complete") == 3
    assert cols[cols.index("coordinator_complete") - 1] == "work_onsite"
    assert cols[-1] == "approaches_complete"
    assert [c for c in cols if c.startswith("services___")] == [
        f"services___{i}" for i in range(1, 14)
    ]
    items = inst.analysis_items()
    assert items["svc_social_needs"].name == "services"
    assert inst["pt_comm_phone"].level_order() == [
        "always",
        "mostly",
        "sometimes",
        "rarely",
        "never",
    ]
    assert inst["sw_on_team"].levels == {"1": "yes", "0": "no"}
    assert inst["hours_cc_week"].is_numeric and inst["hours_cc_week"].vmax == 80
    assert inst["degree"].single_order[0] == "msw_bsw"
    assert inst["sw_responsible"].branching == "[sw_on_team] = '1'"
    assert set(coordinator_items(inst)) == {
        "degree",
        "certified_cc",
        "years_cc_role",
        "multi_clinic",
        "years_study_clinics",
        "hours_week_study_clinics",
        "work_onsite",
    }


def test_every_published_item_is_in_the_dictionary() -> None:
    """The published item ids are the dictionary's analysis items (the tables' spec checks levels)."""
    spec = pd.read_csv(project_root() / "src" / "ccanalysis" / "specs" / "tables.csv")
    items = read_dictionary(DICTIONARY).analysis_items()
    derived = {"isw_model"}
    assert set(spec["item"]) - derived <= set(items)


def test_bom_crlf_and_api_header_are_accepted(tmp_path) -> None:
    rows = [
        ["record_id", "f", "", "text", "ID"],
        ["q1", "f", "", "radio", "Q", "1, A | 2, B", *[""] * 11, '@CC-LEVELS="1=a 2=b"'],
    ]
    web = _dictionary_text(rows)
    api = _dictionary_text(rows, header=API_COLUMNS)
    path = tmp_path / "d.csv"
    path.write_bytes(("\ufeff" + web).replace("\n", "\r\n").encode("utf-8"))
    a = read_dictionary(path)
    b = parse_dictionary(api)
    assert a.fields == b.fields
    assert a["q1"].levels == {"1": "a", "2": "b"}


@pytest.mark.parametrize(
    ("rows", "message", "value"),
    [
        ([["q", "f", "", "radio", "Q", "1, A | 2, B"]], "@CC-LEVELS must give", "(empty)"),
        ([["q", "f", "", "radiobutton", "Q"]], "unknown REDCap field type", "radiobutton"),
        ([["q", "f", "", "text", "Q"], ["q", "f", "", "text", "Q"]], "defined twice", "q"),
        ([["q", "f", "", "text", "Q", "", "", "integer", "zero"]], "not a number", "zero/"),
        ([["q", "f", "", "radio", "Q", "1 A"]], "no comma", "1 A"),
    ],
)
def test_bad_dictionaries_name_the_file_line_field_and_value(rows, message, value) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        parse_dictionary(_dictionary_text(rows), "dict.csv")
    assert err.value.file == "dict.csv"
    assert err.value.record is not None and err.value.record.startswith("line ")
    assert err.value.value == value


def test_not_a_dictionary(tmp_path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("record_id,q1\n1,2\n")
    with pytest.raises(ValidationError, match="not a REDCap data dictionary") as err:
        read_dictionary(path)
    assert str(path) in str(err.value)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(ValidationError, match="empty"):
        read_dictionary(empty)


# ---- REDCap's own test data (tests/fixtures/redcap/README.md) -------------------------------------
REDCAP = project_root() / "tests" / "fixtures" / "redcap"


def test_min_max_may_be_dates_today_and_decimal_commas() -> None:
    """clinical-trial-1's ``dob`` range 1900-01-01/2029-12-31 stopped the dictionary; REDCap also
    writes ``today`` and, on European servers, a decimal comma."""
    rows = [
        ["record_id", "f", "", "text", "ID"],
        ["dob", "f", "", "text", "Born", "", "", "date_ymd", "1900-01-01", "2029-12-31"],
        ["seen", "f", "", "text", "Seen", "", "", "datetime_dmy", "", "now"],
        ["visit", "f", "", "text", "Visit", "", "", "date_mdy", "12-31-1999", "today"],
        ["dose", "f", "", "text", "Dose", "", "", "number", "0,5", "2,75"],
    ]
    inst = parse_dictionary(_dictionary_text(rows))
    assert (inst["dob"].vmin, inst["dob"].vmax) == (
        pd.Timestamp(1900, 1, 1),
        pd.Timestamp(2029, 12, 31),
    )
    assert inst["visit"].vmin == pd.Timestamp(1999, 12, 31)
    assert inst["visit"].vmax == pd.Timestamp.now().normalize()
    assert inst["seen"].vmax <= pd.Timestamp.now() and inst["seen"].vmin is None
    assert (inst["dose"].vmin, inst["dose"].vmax) == (0.5, 2.75)
    assert date_formats(inst["seen"].validation) == [
        "%Y-%m-%d %H:%M",
        "%d-%m-%Y %H:%M",
        "%d/%m/%Y %H:%M",
    ]
    bad = [
        ["record_id", "f", "", "text", "ID"],
        ["d", "f", "", "text", "D", "", "", "date_ymd", "5/13/1991"],
    ]
    with pytest.raises(ValidationError, match="not a date in the field's format or 'today'"):
        parse_dictionary(_dictionary_text(bad))


def test_a_dictionary_saved_with_semicolons_reads_as_the_original() -> None:
    """A European Excel re-save (";"), read like an export: by its header."""
    semicolon = read_dictionary(REDCAP / "gray" / "dictionary_semicolon.csv")
    assert semicolon.fields == read_dictionary(REDCAP / "gray" / "dictionary.csv").fields


def test_a_dictionary_not_utf8_names_line_field_and_column_without_the_text(tmp_path) -> None:
    """The byte on the second line of a two-line label: the line of the byte, the line where the
    row starts, its field and column; no bytes or text printed."""
    text = (REDCAP / "gray" / "dictionary.csv").read_text(encoding="utf-8")
    text = text.replace(",Date of birth,", ',"Fecha de\nnacimiento (año)",')
    path = tmp_path / "latin1.csv"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ValidationError) as err:
        read_dictionary(path)
    assert str(err.value) == (
        "the file is not UTF-8 (a byte on line 5, the record starting on line 4, in a text value "
        "of 25 characters); export or save it as UTF-8 "
        f"(file {path}, record dob, field Field Label)"
    )
