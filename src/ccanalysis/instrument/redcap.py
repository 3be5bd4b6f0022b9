"""Read a REDCap record export (raw or labels) and check it against the data dictionary.

The reader takes the data dictionary (:class:`ccanalysis.instrument.Instrument`) as the one
description of what the export must hold. It reads every cell as a string (record ids keep their
leading zeros, ``NA`` is text, an empty cell is missing), checks the header and every value against
the dictionary, and stops at the first problem with one :class:`ValidationError` naming the file,
the record, the field and the value. Only then does it decode the codes into analysis items
(:mod:`ccanalysis.instrument.decode`).

REDCap's export options are read as REDCap writes them:

* the delimiter: comma, semicolon, tab, pipe or caret (:data:`DELIMITERS`). It is found from the
  header, as the one under which the header's cells are the dictionary's export columns (never by
  counting characters: a label may hold any of them, a field name none);
* the decimal character: with any delimiter but the comma a number may have a decimal comma
  (``4,5`` is 4.5). REDCap writes no thousands separator, so a comma in a number is always the
  decimal one. In a comma-delimited file a number with a decimal comma is refused, with an error
  asking for another delimiter or the decimal point: a comma there is the delimiter.

The labels export (headers are field labels, values are choice labels) is mapped onto the raw
column names and codes first, then goes through the same path.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.instrument.decode import decode_codes
from ccanalysis.instrument.dictionary import (
    COMPLETE_CHOICES,
    Field,
    Instrument,
    checkbox_column,
)

#: Columns REDCap may add after the record id, by raw name and by labels-export header.
REDCAP_EXTRA_COLUMNS: dict[str, str] = {
    "redcap_event_name": "Event Name",
    "redcap_repeat_instrument": "Repeat Instrument",
    "redcap_repeat_instance": "Repeat Instance",
    "redcap_data_access_group": "Data Access Group",
    "redcap_survey_identifier": "Survey Identifier",
}
TIMESTAMP_LABEL = "Survey Timestamp"
COMPLETE_LABEL = "Complete?"
CHECKBOX_LABELS: dict[str, str] = {"Checked": "1", "Unchecked": "0"}
#: The delimiters REDCap's export offers (web dialog and the API's ``csvDelimiter``), by name; the
#: comma, REDCap's default, first.
DELIMITERS: dict[str, str] = {
    ",": "comma",
    ";": "semicolon",
    "\t": "tab",
    "|": "pipe",
    "^": "caret",
}
#: Below this share of the dictionary's columns found, the export is for another instrument.
MATCH_THRESHOLD = 0.5

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


# ----------------------------------------------------------------------------------------------
# Columns of the dictionary


@dataclass(frozen=True)
class Column:
    """One export column: the field it belongs to (``None`` for a form status) and its kind."""

    name: str
    #: record_id, identifier, text, numeric, choice, checkbox or complete
    kind: str
    field: Field | None = None
    code: str | None = None  # the checkbox choice code
    label: str = ""  # the labels-export header


def _norm(text: str) -> str:
    """Normalise a label as REDCap prints it in headers: no HTML tags, single spaces."""
    return _SPACES.sub(" ", _TAGS.sub("", text)).strip()


def _kind(f: Field, instrument: Instrument) -> str:
    if f.name == instrument.record_id:
        return "record_id"
    if f.identifier:
        return "identifier"
    if f.field_type == "checkbox":
        return "checkbox"
    if f.field_type in {"radio", "dropdown", "yesno", "truefalse"}:
        return "choice"
    if f.is_numeric:
        return "numeric"
    return "text"


def export_layout(instrument: Instrument) -> list[Column]:
    """Every column of a raw export of ``instrument``, in REDCap's order, described."""
    cols: list[Column] = []
    for form in instrument.forms:
        for f in instrument.form_fields(form):
            if f.field_type == "descriptive":
                continue
            if f.field_type == "checkbox":
                cols += [
                    Column(
                        checkbox_column(f.name, c),
                        "checkbox",
                        f,
                        c,
                        _norm(f"{f.label} (choice={label})"),
                    )
                    for c, label in f.choices.items()
                ]
            else:
                cols.append(Column(f.name, _kind(f, instrument), f, None, _norm(f.label)))
        cols.append(Column(f"{form}_complete", "complete", None, None, COMPLETE_LABEL))
    return cols


def allowed_extra_columns(instrument: Instrument) -> set[str]:
    """REDCap's own columns an export may hold beside the dictionary's (events, timestamps ...)."""
    return set(REDCAP_EXTRA_COLUMNS) | {f"{form}_timestamp" for form in instrument.forms}


# ----------------------------------------------------------------------------------------------
# Reading the file


def _name(delimiter: str) -> str:
    return f"{DELIMITERS.get(delimiter, 'delimiter')} ({delimiter!r})"


def _excerpt(text: str, width: int = 60) -> str:
    line = text.split("\n", 1)[0].rstrip("\r")
    return line if len(line) <= width else line[:width] + "..."


def _split_line(raw_line: bytes, delimiter: str = ",") -> list[str]:
    text = raw_line.decode("utf-8", errors="replace").strip("\r\n")
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return []


def _decode_bytes(raw: bytes, source: str, instrument: Instrument | None = None) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_no = raw[: exc.start].count(b"\n") + 1
        start = raw.rfind(b"\n", 0, exc.start) + 1
        end = raw.find(b"\n", exc.start)
        first = raw.split(b"\n", 1)[0]
        delimiter = ","
        if instrument is not None:
            delimiter = _best_delimiter(first.decode("utf-8", errors="replace"), instrument)[0]
        cells = _split_line(raw[start : end if end >= 0 else len(raw)], delimiter)
        header = _split_line(first, delimiter)
        record = cells[0] or None if line_no > 1 and cells else None
        pos = next((i for i, c in enumerate(cells) if "\ufffd" in c), None)
        fld = header[pos] if pos is not None and pos < len(header) else None
        raise ValidationError(
            source,
            record,
            fld,
            raw[exc.start : exc.start + 8],
            f"the file is not UTF-8 (line {line_no}); export or save it as UTF-8",
        ) from None


def read_text(path: str | Path, instrument: Instrument | None = None) -> str:
    """The text of a CSV file (UTF-8, BOM removed).

    Raises ``ValidationError`` for an unreadable, empty or non-UTF-8 file; given the dictionary, the
    error for a non-UTF-8 byte names its record and field under the export's delimiter.
    """
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(
            source, None, None, None, f"cannot read the file: {exc.strerror}"
        ) from None
    text = _decode_bytes(raw, source, instrument)
    if not text.strip():
        raise ValidationError(source, None, None, None, "the file is empty")
    return text


def _ragged(
    values: list[str], header: list[str], line: int, delimiter: str, source: str
) -> ValidationError:
    """The error for a row whose length differs from the header's (mixed delimiters named)."""
    counts = f"line {line} has {len(values)} values but the header has {len(header)} columns"
    others = [d for d in DELIMITERS if d != delimiter]
    for pos, value in enumerate(values[: len(header)]):
        other = next((d for d in others if d in value), None)
        if other is not None:
            record = values[0].split(other)[0] if pos == 0 else values[0]
            return ValidationError(
                source,
                record or None,
                header[pos],
                _excerpt(value),
                f"{counts}, and this value holds a {_name(other)} where the header is split by a "
                f"{_name(delimiter)}: mixed delimiters (a file edited or joined by hand?); export "
                "it again from REDCap",
            )
    return ValidationError(
        source, values[0] or None, None, len(values), f"{counts} (a truncated or damaged file?)"
    )


def parse_rows(text: str, source: str, delimiter: str = ",") -> tuple[list[str], pd.DataFrame]:
    """Parse CSV text as strings: the header and a frame of ``str`` cells indexed by line number.

    Skips blank lines. Raises ``ValidationError`` for a malformed file, and for a row whose length
    differs from the header's (naming a value that holds another of REDCap's delimiters, if any).
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        header = [h.strip() for h in next(reader)]
        for values in reader:
            if not values or values == [""]:
                continue
            if len(values) != len(header):
                raise _ragged(values, header, reader.line_num, delimiter, source)
            rows.append(values)
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise ValidationError(
            source, None, None, None, f"not a readable CSV file (line {reader.line_num}): {exc}"
        ) from None
    frame = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    frame.index = pd.Index(lines, name="line")
    return header, frame


def read_rows(path: str | Path, delimiter: str = ",") -> tuple[list[str], pd.DataFrame]:
    """Read a CSV file as strings: :func:`read_text`, then :func:`parse_rows`.

    Accepts a UTF-8 BOM and CRLF line ends; skips blank lines. Raises ``ValidationError`` for an
    unreadable, empty, non-UTF-8 or malformed file (a row whose length differs from the header's).
    """
    return parse_rows(read_text(path), str(path), delimiter)


# ----------------------------------------------------------------------------------------------
# Header


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return []


def header_matches(header: Sequence[str], instrument: Instrument) -> int:
    """How many cells of ``header`` are export columns of ``instrument`` (raw names or labels)."""
    layout = export_layout(instrument)
    names = {c.name for c in layout} | allowed_extra_columns(instrument)
    labels = {c.label for c in layout} | set(REDCAP_EXTRA_COLUMNS.values()) | {TIMESTAMP_LABEL}
    return sum(h.strip() in names or _norm(h) in labels for h in header)


def _best_delimiter(text: str, instrument: Instrument) -> tuple[str, int]:
    matches = {d: header_matches(_first_record(text, d), instrument) for d in DELIMITERS}
    best = max(matches, key=lambda d: matches[d])  # the first of equals: the comma
    return best, matches[best]


def detect_delimiter(text: str, instrument: Instrument, source: str = "<export>") -> str:
    """The delimiter of an export: the one of :data:`DELIMITERS` under which the most cells of the
    header are the dictionary's export columns (raw names or labels; a tie goes to the comma).

    Raises ``ValidationError`` when under none of them at least :data:`MATCH_THRESHOLD` of the
    dictionary's columns are in the header (another delimiter, dictionary or project).
    """
    delimiter, found = _best_delimiter(text, instrument)
    expected = len(export_layout(instrument))
    if found < MATCH_THRESHOLD * expected:
        names = ", ".join(DELIMITERS.values())
        raise ValidationError(
            source,
            None,
            "header",
            _excerpt(text),
            f"the export does not match the dictionary {instrument.source}: split by any of "
            f"REDCap's delimiters ({names}), its header holds at most {found} of the "
            f"dictionary's {expected} columns (wrong dictionary, project or delimiter?)",
        )
    return delimiter


def detect_labels(header: Sequence[str], instrument: Instrument) -> bool:
    """Whether ``header`` is a labels export (field labels) rather than a raw one (field names)."""
    layout = export_layout(instrument)
    first = header[0] if header else ""
    if first == instrument.record_id:
        return False
    if _norm(first) == layout[0].label:
        return True
    names = {c.name for c in layout}
    labels = {c.label for c in layout}
    return sum(_norm(h) in labels for h in header) > sum(h in names for h in header)


def map_label_header(header: Sequence[str], instrument: Instrument) -> list[str]:
    """Raw column names for a labels-export header; headers that match nothing are kept as they are.

    Labels can repeat (every status column is ``Complete?``), so the header is matched in
    dictionary order: a header matching a later column marks the columns in between as missing.
    """
    layout = export_layout(instrument)
    extras = {label: name for name, label in REDCAP_EXTRA_COLUMNS.items()}
    out: list[str] = []
    ptr = 0
    current_form = instrument.forms[0]
    for h in header:
        hn = _norm(h)
        nxt = next((j for j in range(ptr, len(layout)) if layout[j].label == hn), None)
        if nxt is not None:
            out.append(layout[nxt].name)
            ptr = nxt + 1
            if layout[nxt].field is not None:
                current_form = layout[nxt].field.form
        elif hn in extras:
            out.append(extras[hn])
        elif hn == TIMESTAMP_LABEL:
            out.append(f"{current_form}_timestamp")
        else:
            out.append(h)
    return out


def check_columns(columns: Sequence[str], instrument: Instrument, source: str) -> None:
    """Check an export's (raw) column names against the dictionary; raise on the first problem."""
    expected = [c.name for c in export_layout(instrument)]
    allowed = set(expected) | allowed_extra_columns(instrument)
    found = [c for c in expected if c in set(columns)]
    if len(found) < MATCH_THRESHOLD * len(expected):
        raise ValidationError(
            source,
            None,
            "header",
            ",".join(columns[:4]) + (",..." if len(columns) > 4 else ""),
            f"the export does not match the dictionary {instrument.source}: only {len(found)} of "
            f"its {len(expected)} columns are in the header "
            "(wrong dictionary, project or delimiter?)",
        )
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise ValidationError(source, None, c, c, "the column appears twice in the header")
        seen.add(c)
    unexpected = [c for c in columns if c not in allowed]
    if unexpected:
        raise ValidationError(
            source,
            None,
            unexpected[0],
            unexpected[0],
            "unexpected column: not in the dictionary" + _others(len(unexpected) - 1, "column"),
        )
    missing = [c for c in expected if c not in seen]
    if missing:
        raise ValidationError(
            source,
            None,
            missing[0],
            None,
            "expected column missing from the export" + _others(len(missing) - 1, "column"),
        )
    if columns[0] != instrument.record_id:
        raise ValidationError(
            source,
            None,
            columns[0],
            columns[0],
            f"the first column must be the record id {instrument.record_id!r}",
        )


def _others(n: int, what: str) -> str:
    return f" ({n} other {what}{'s' if n != 1 else ''} too)" if n > 0 else ""


# ----------------------------------------------------------------------------------------------
# Values


def strip_values(raw: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Strip surrounding spaces from every cell except free text (which is kept as typed)."""
    kinds = {c.name: c.kind for c in export_layout(instrument)}
    out = raw.copy()
    for col in out.columns:
        if kinds.get(col) != "text":
            out[col] = out[col].map(str.strip).astype(object)
    return out


def blank_missing_codes(raw: pd.DataFrame, missing_codes: Iterable[str]) -> pd.DataFrame:
    """Replace the project's missing-data codes (e.g. ``-999``, ``UNK``) by the empty string."""
    codes = {str(c) for c in missing_codes}
    if not codes:
        return raw.copy()
    return raw.map(lambda v: "" if v in codes else v).astype(object)


def count_missing_codes(raw: pd.DataFrame, missing_codes: Iterable[str]) -> int:
    """How many cells hold one of the missing-data codes."""
    codes = {str(c) for c in missing_codes}
    return int(raw.isin(codes).to_numpy().sum()) if codes else 0


def _record_name(raw: pd.DataFrame, rid: str, line: int) -> str:
    value = raw.at[line, rid]
    return str(value) if value else f"(no id, line {line})"


def check_record_ids(raw: pd.DataFrame, instrument: Instrument, source: str) -> None:
    """Raise on the first empty or repeated record id (the export has one row per record)."""
    rid = instrument.record_id
    if raw.empty:
        raise ValidationError(source, None, None, None, "the export has a header but no records")
    ids = raw[rid]
    empty = ids.eq("")
    if empty.any():
        line = int(ids.index[empty.to_numpy()][0])
        raise ValidationError(
            source,
            f"(no id, line {line})",
            rid,
            "",
            f"empty record id on line {line}" + _others(int(empty.sum()) - 1, "record"),
        )
    dup = ids.duplicated(keep="first")
    if dup.any():
        line = int(ids.index[dup.to_numpy()][0])
        value = ids.at[line]
        first = int(ids.index[ids.eq(value).to_numpy()][0])
        raise ValidationError(
            source,
            value,
            rid,
            value,
            f"duplicate record id on line {line} (first on line {first})"
            + _others(int(dup.sum()) - 1, "duplicate"),
        )


def _allowed_values(col: Column, labels: bool) -> list[str]:
    if col.kind == "checkbox":
        return list(CHECKBOX_LABELS) if labels else ["0", "1"]
    if col.kind == "complete":
        return list(COMPLETE_CHOICES.values()) if labels else list(COMPLETE_CHOICES)
    assert col.field is not None
    return list(col.field.choices.values()) if labels else list(col.field.choices)


PROBLEMS: dict[str, str] = {
    "code": "unknown answer {what} for a {ftype} field (allowed: {allowed})",
    "checkbox": "checkbox value must be {allowed}",
    "complete": "form status must be {allowed}",
    "number": "text in a number field",
    "decimal_comma": "a decimal comma in a comma-delimited export, where it cannot be told from the "
    "delimiter: export with another delimiter (semicolon, tab, pipe, caret) or a decimal point",
    "integer": "not an integer in an integer field",
    "range": "number outside the dictionary's range {lo} to {hi}",
    "required": "empty value in a required identifier field",
}


def decimal_comma_allowed(delimiter: str) -> bool:
    """Whether numbers may have a decimal comma: under any of REDCap's delimiters but the comma."""
    return delimiter != ","


def decimal_point(values: pd.Series) -> pd.Series:
    """Numbers written with a decimal comma (``4,5``) in the decimal-point form (``4.5``).

    A value with one comma and no point is a decimal comma (REDCap writes no thousands separator);
    any other value is returned as it is.
    """
    return values.map(lambda v: v.replace(",", ".") if v.count(",") == 1 and "." not in v else v)


def _numeric_problems(values: pd.Series, f: Field, delimiter: str = ",") -> pd.Series:
    out = pd.Series(None, index=values.index, dtype=object)
    filled = values.ne("")
    if decimal_comma_allowed(delimiter):
        values = decimal_point(values)
    is_num = values.map(lambda v: bool(_NUMBER.match(v)))
    out[filled & ~is_num] = "number"
    if not decimal_comma_allowed(delimiter):
        comma = ~is_num & decimal_point(values).map(lambda v: bool(_NUMBER.match(v)))
        out[filled & comma] = "decimal_comma"
    if f.validation == "integer":
        is_int = values.map(lambda v: bool(_INTEGER.match(v)))
        out[filled & is_num & ~is_int] = "integer"
    num = pd.to_numeric(values.where(is_num, None), errors="coerce")
    outside = pd.Series(False, index=values.index)
    if f.vmin is not None:
        outside |= num.lt(f.vmin).fillna(False)
    if f.vmax is not None:
        outside |= num.gt(f.vmax).fillna(False)
    out[out.isna() & outside] = "range"
    return out


def column_problems(
    values: pd.Series, col: Column, *, labels: bool = False, delimiter: str = ","
) -> pd.Series:
    """The problem key of every cell of one column (``None`` where the value is fine); numbers are
    read with a decimal comma where the export's ``delimiter`` allows one."""
    out = pd.Series(None, index=values.index, dtype=object)
    filled = values.ne("")
    if col.kind in {"choice", "checkbox", "complete"}:
        bad = filled & ~values.isin(_allowed_values(col, labels))
        out[bad] = {"choice": "code", "checkbox": "checkbox", "complete": "complete"}[col.kind]
    elif col.kind == "numeric":
        assert col.field is not None
        out = _numeric_problems(values, col.field, delimiter)
    elif col.kind == "identifier" and col.field is not None and col.field.required:
        out[~filled] = "required"
    return out


def _problem_text(key: str, col: Column, labels: bool) -> str:
    f = col.field
    coded = key in {"code", "checkbox", "complete"}
    allowed = ", ".join(_allowed_values(col, labels)) if coded else ""
    return PROBLEMS[key].format(
        what="label" if labels else "code",
        ftype=f.field_type if f else "",
        allowed=allowed,
        lo=_fmt(f.vmin) if f else "",
        hi=_fmt(f.vmax) if f else "",
    )


def _fmt(x: float | None) -> str:
    return "-inf" if x is None else f"{x:g}"


def check_values(
    raw: pd.DataFrame,
    instrument: Instrument,
    source: str,
    *,
    labels: bool = False,
    delimiter: str = ",",
) -> None:
    """Check every cell against the dictionary; raise on the first bad cell in file order.

    The message names the record, the field (the export column) and the value, and counts the
    other cells with the same problem. ``delimiter`` is the export's (see :func:`decimal_point`).
    """
    layout = {c.name: c for c in export_layout(instrument)}
    cols = [c for c in raw.columns if c in layout]
    if not cols:
        return
    problems = pd.DataFrame(
        {c: column_problems(raw[c], layout[c], labels=labels, delimiter=delimiter) for c in cols},
        index=raw.index,
    )
    keys = problems.to_numpy(dtype=object)
    bad = pd.notna(keys)
    if not bad.any():
        return
    row, pos = np.argwhere(bad)[0]
    key = keys[row, pos]
    line = int(raw.index[row])
    column = layout[cols[pos]]
    n_same = int((keys == key).sum()) - 1
    value = raw.at[line, column.name]
    raise ValidationError(
        source,
        _record_name(raw, instrument.record_id, line),
        column.name,
        value,
        f"{_problem_text(key, column, labels)} on line {line}" + _others(n_same, "bad cell"),
    )


def with_decimal_point(raw: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """The (checked) export with every number field in the decimal-point form."""
    out = raw.copy()
    for col in export_layout(instrument):
        if col.kind == "numeric" and col.name in out.columns:
            out[col.name] = decimal_point(out[col.name]).astype(object)
    return out


def labels_to_codes(raw: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Map a (checked) labels export's values to REDCap's raw codes; other values are kept."""
    layout = {c.name: c for c in export_layout(instrument)}
    out = raw.copy()
    for name in out.columns:
        col = layout.get(name)
        if col is None or col.kind not in {"choice", "checkbox", "complete"}:
            continue
        if col.kind == "checkbox":
            mapping = CHECKBOX_LABELS
        elif col.kind == "complete":
            mapping = {label: code for code, label in COMPLETE_CHOICES.items()}
        else:
            assert col.field is not None
            mapping = {label: code for code, label in col.field.choices.items()}
        out[name] = out[name].map(lambda v, m=mapping: m.get(v, v)).astype(object)
    return out


# ----------------------------------------------------------------------------------------------
# The reader


@dataclass(frozen=True)
class ReadStats:
    """What the reader saw, for the cleaning log."""

    records_read: int
    missing_codes: int
    labels: bool
    delimiter: str = ","


def read_export_with_stats(
    path: str | Path,
    instrument: Instrument,
    *,
    missing_codes: Iterable[str] = (),
    labels: bool | None = None,
) -> tuple[pd.DataFrame, ReadStats]:
    """:func:`read_export`, also returning what it read (records, missing codes recoded, whether a
    labels export, the delimiter)."""
    source = str(path)
    text = read_text(path, instrument)
    delimiter = detect_delimiter(text, instrument, source)
    header, rows = parse_rows(text, source, delimiter)
    if labels is None:
        labels = detect_labels(header, instrument)
    columns = map_label_header(header, instrument) if labels else list(header)
    check_columns(columns, instrument, source)
    rows.columns = columns
    raw = strip_values(rows, instrument)
    codes = list(missing_codes)
    n_missing = count_missing_codes(raw, codes)
    raw = blank_missing_codes(raw, codes)
    check_record_ids(raw, instrument, source)
    check_values(raw, instrument, source, labels=labels, delimiter=delimiter)
    if decimal_comma_allowed(delimiter):
        raw = with_decimal_point(raw, instrument)
    if labels:
        raw = labels_to_codes(raw, instrument)
    return decode_codes(raw, instrument), ReadStats(len(raw), n_missing, labels, delimiter)


def read_export(
    path: str | Path,
    instrument: Instrument,
    *,
    missing_codes: Iterable[str] = (),
    labels: bool | None = None,
) -> pd.DataFrame:
    """Read, validate and decode a REDCap record export (raw or labels).

    Parameters
    ----------
    path
        The CSV export (UTF-8, BOM and CRLF accepted; any of REDCap's delimiters, and a decimal
        comma unless the delimiter is the comma). Never modified.
    instrument
        The parsed data dictionary.
    missing_codes
        Project missing-data codes (e.g. ``"-999"``) read as missing wherever they appear.
    labels
        ``True`` for a labels export, ``False`` for raw, ``None`` to detect it from the header.

    Returns
    -------
    DataFrame
        One row per record, in file order: the identifier fields (strings; ``record_id`` first),
        then one column per analysis item (see :func:`decode_codes`).

    Raises
    ------
    ValidationError
        On the first problem, naming the file, the record, the field and the value.
    """
    frame, _ = read_export_with_stats(path, instrument, missing_codes=missing_codes, labels=labels)
    return frame
