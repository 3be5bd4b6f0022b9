"""Read a REDCap record export (raw or labels) and check every cell against the data dictionary.

Cells are read as text (record ids keep their leading zeros, ``NA`` is text); the first problem
raises one :class:`ValidationError` naming the file, the record, the field and the value. The
delimiter, any of REDCap's, is the one under which the header's cells are the dictionary's columns.
A decimal comma is read under any delimiter but the comma (REDCap writes no thousands separator).
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

from ccanalysis.errors import ValidationError, others
from ccanalysis.instrument.decode import decode_codes
from ccanalysis.instrument.dictionary import COMPLETE_CHOICES, Field, Instrument, checkbox_column

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
CHECKBOX_CHOICES: dict[str, str] = {"0": "Unchecked", "1": "Checked"}
#: The delimiters REDCap's export offers, by name; the comma, REDCap's default, first.
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


@dataclass(frozen=True)
class Column:
    """One export column: its kind, the field it belongs to (none for a form status), and its
    labels-export header. Kinds: record_id, identifier, text, numeric, choice, checkbox, complete."""

    name: str
    kind: str
    field: Field | None = None
    label: str = ""

    def choices(self) -> dict[str, str]:
        """``{code: label}`` of a coded column (choice, checkbox, form status); else empty."""
        if self.kind == "checkbox":
            return CHECKBOX_CHOICES
        if self.kind == "complete":
            return COMPLETE_CHOICES
        return self.field.choices if self.kind == "choice" and self.field else {}


def _norm(text: str) -> str:
    """A label as REDCap prints it in headers: no HTML tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def _kind(f: Field, instrument: Instrument) -> str:
    if f.name == instrument.record_id:
        return "record_id"
    if f.identifier:
        return "identifier"
    if f.field_type in {"radio", "dropdown", "yesno", "truefalse"}:
        return "choice"
    return "numeric" if f.is_numeric else "text"


def export_layout(instrument: Instrument) -> list[Column]:
    """Every column of a raw export of ``instrument``, in REDCap's order, described."""
    cols: list[Column] = []
    for form in instrument.forms:
        for f in instrument.form_fields(form):
            if f.field_type == "checkbox":
                cols += [
                    Column(
                        checkbox_column(f.name, c), "checkbox", f, _norm(f"{f.label} (choice={x})")
                    )
                    for c, x in f.choices.items()
                ]
            elif f.field_type != "descriptive":
                cols.append(Column(f.name, _kind(f, instrument), f, _norm(f.label)))
        cols.append(Column(f"{form}_complete", "complete", None, COMPLETE_LABEL))
    return cols


def allowed_extra_columns(instrument: Instrument) -> set[str]:
    """REDCap's own columns an export may hold beside the dictionary's (events, timestamps ...)."""
    return set(REDCAP_EXTRA_COLUMNS) | {f"{form}_timestamp" for form in instrument.forms}


def _excerpt(text: str, width: int = 60) -> str:
    line = text.split("\n", 1)[0].rstrip("\r")
    return line if len(line) <= width else line[:width] + "..."


def _matches(header: Sequence[str], instrument: Instrument) -> tuple[int, int]:
    """How many cells of ``header`` are export columns of ``instrument``: by name, and by label."""
    layout = export_layout(instrument)
    names = {c.name for c in layout} | allowed_extra_columns(instrument)
    labels = {c.label for c in layout} | set(REDCAP_EXTRA_COLUMNS.values()) | {TIMESTAMP_LABEL}
    return sum(h.strip() in names for h in header), sum(_norm(h) in labels for h in header)


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:  # e.g. a NUL byte
        return []


def detect_delimiter(text: str, instrument: Instrument, source: str = "<export>") -> str:
    """The delimiter under which most header cells are the dictionary's columns (a tie: the
    comma); raises if under none of them :data:`MATCH_THRESHOLD` of those columns are found."""
    found = {d: max(_matches(_first_record(text, d), instrument)) for d in DELIMITERS}
    delimiter = max(found, key=found.__getitem__)
    expected = len(export_layout(instrument))
    if found[delimiter] < MATCH_THRESHOLD * expected:
        raise ValidationError(
            source,
            None,
            "header",
            _excerpt(text),
            f"the export does not match the dictionary {instrument.source}: split by any of "
            f"REDCap's delimiters ({', '.join(DELIMITERS.values())}), its header holds at most "
            f"{found[delimiter]} of the dictionary's {expected} columns "
            "(wrong dictionary, project or delimiter?)",
        )
    return delimiter


def map_label_header(header: Sequence[str], instrument: Instrument) -> list[str]:
    """Raw column names for a labels-export header (others kept), matched in dictionary order since
    labels repeat (every status column is ``Complete?``)."""
    layout = export_layout(instrument)
    extras = {label: name for name, label in REDCAP_EXTRA_COLUMNS.items()}
    out: list[str] = []
    ptr, form = 0, instrument.forms[0]
    for h in header:
        hn = _norm(h)
        nxt = next((j for j in range(ptr, len(layout)) if layout[j].label == hn), None)
        if nxt is not None:
            out.append(layout[nxt].name)
            ptr = nxt + 1
            form = layout[nxt].field.form if layout[nxt].field else form
        elif hn == TIMESTAMP_LABEL:
            out.append(f"{form}_timestamp")
        else:
            out.append(extras.get(hn, h))
    return out


def check_columns(columns: Sequence[str], instrument: Instrument, source: str) -> None:
    """Check an export's (raw) column names against the dictionary; raise on the first problem."""
    expected = [c.name for c in export_layout(instrument)]
    allowed = set(expected) | allowed_extra_columns(instrument)
    rid, index = instrument.record_id, pd.Index(columns)
    checks = [
        (list(index[index.duplicated()]), "the column appears twice in the header"),
        ([c for c in columns if c not in allowed], "unexpected column: not in the dictionary"),
        ([c for c in expected if c not in set(columns)], "expected column missing from the export"),
        (
            [columns[0]] if columns[0] != rid else [],
            f"the first column must be the record id {rid!r}",
        ),
    ]
    for names, problem in checks:
        if names:
            value = None if problem.startswith("expected") else names[0]
            raise ValidationError(
                source, None, names[0], value, problem + others(len(names) - 1, "column")
            )


def _ragged(
    values: list[str], header: list[str], line: int, delimiter: str, source: str
) -> ValidationError:
    """The error for a row whose length differs from the header's (mixed delimiters named)."""
    counts = f"line {line} has {len(values)} values but the header has {len(header)} columns"
    for pos, value in enumerate(values[: len(header)]):
        other = next((d for d in DELIMITERS if d != delimiter and d in value), None)
        if other is not None:
            return ValidationError(
                source,
                (values[0].split(other)[0] if pos == 0 else values[0]) or None,
                header[pos],
                _excerpt(value),
                f"{counts}, and this value holds a {DELIMITERS[other]} ({other!r}) where the "
                f"header is split by a {DELIMITERS[delimiter]} ({delimiter!r}): mixed delimiters "
                "(a file edited or joined by hand?); export it again from REDCap",
            )
    return ValidationError(
        source, values[0] or None, None, len(values), f"{counts} (a truncated or damaged file?)"
    )


def parse_rows(text: str, source: str, delimiter: str = ",") -> tuple[list[str], pd.DataFrame]:
    """The header and a frame of ``str`` cells indexed by line number; blank lines skipped. (The
    csv module, not ``pd.read_csv``: pandas pads a short row silently and numbers no lines.)"""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        header = [h.strip() for h in next(reader)]
        for values in reader:
            if values and values != [""]:
                if len(values) != len(header):
                    raise _ragged(values, header, reader.line_num, delimiter, source)
                rows.append(values)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise ValidationError(
            source, None, None, None, f"not a readable CSV file (line {reader.line_num}): {exc}"
        ) from None
    frame = pd.DataFrame(rows, columns=range(len(header)), dtype=object)
    return header, frame.set_axis(pd.Index(lines, name="line"))


def read_cells(path: str | Path, instrument: Instrument) -> tuple[pd.DataFrame, str, bool]:
    """An export's cells as strings under its raw column names, its delimiter and whether it is a
    labels export; only the file's form (UTF-8, a CSV with the dictionary's header) is checked."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(
            source, None, None, None, f"cannot read the file: {exc.strerror}"
        ) from None
    text = raw.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise ValidationError(source, None, None, None, "the file is empty")
    try:
        raw.decode("utf-8-sig")
        bad_line = None
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
    if bad_line != 1:
        delimiter = detect_delimiter(text, instrument, source)
        header, rows = parse_rows(text, source, delimiter)
    if bad_line is not None:
        row = rows.loc[bad_line] if bad_line != 1 and bad_line in rows.index else None
        pos = None if row is None else next((i for i, v in enumerate(row) if "\ufffd" in v), None)
        raise ValidationError(
            source,
            (row.iloc[0] or None) if row is not None else None,
            header[pos] if pos is not None else None,
            None if pos is None else row.iloc[pos],
            f"the file is not UTF-8 (line {bad_line}); export or save it as UTF-8",
        )
    n_names, n_labels = _matches(header, instrument)
    labels = n_labels > n_names
    rows.columns = map_label_header(header, instrument) if labels else header
    return rows, delimiter, labels


def check_record_ids(raw: pd.DataFrame, instrument: Instrument, source: str) -> None:
    """Raise on the first empty or repeated record id (the export has one row per record)."""
    rid = instrument.record_id
    if raw.empty:
        raise ValidationError(source, None, None, None, "the export has a header but no records")
    ids = raw[rid]
    for bad, problem in (
        (ids.eq(""), "empty record id"),
        (ids.duplicated(), "duplicate record id"),
    ):
        if bad.any():
            line = int(ids.index[bad.to_numpy()][0])
            value = ids.at[line]
            first = f" (first on line {ids.index[ids.eq(value).to_numpy()][0]})" if value else ""
            raise ValidationError(
                source,
                value or f"(no id, line {line})",
                rid,
                value,
                f"{problem} on line {line}{first}" + others(int(bad.sum()) - 1, "record"),
            )


def decimal_point(values: pd.Series) -> pd.Series:
    """Numbers written with a decimal comma (``4,5``) in the decimal-point form (``4.5``): a value
    with one comma and no point (REDCap writes no thousands separator); others as they are."""
    comma = values.str.count(",").eq(1) & ~values.str.contains(".", regex=False)
    return values.where(~comma, values.str.replace(",", ".", regex=False))


def _numeric_problems(values: pd.Series, f: Field, delimiter: str) -> pd.Series:
    out = pd.Series(None, index=values.index, dtype=object)
    filled = values.ne("")
    if delimiter != ",":
        values = decimal_point(values)
    is_num = values.str.fullmatch(_NUMBER)
    out[filled & ~is_num] = "number"
    if delimiter == ",":
        out[filled & ~is_num & decimal_point(values).str.fullmatch(_NUMBER)] = "decimal_comma"
    if f.validation == "integer":
        out[filled & is_num & ~values.str.fullmatch(_INTEGER)] = "integer"
    num = pd.to_numeric(values.where(is_num), errors="coerce")
    outside = num.lt(-np.inf if f.vmin is None else f.vmin)
    outside |= num.gt(np.inf if f.vmax is None else f.vmax)
    out[out.isna() & outside] = "range"
    return out


def column_problems(values: pd.Series, col: Column, labels: bool, delimiter: str) -> pd.Series:
    """The problem key of every cell of one column (``None`` where the value is fine); numbers are
    read with a decimal comma where the export's ``delimiter`` allows one."""
    out = pd.Series(None, index=values.index, dtype=object)
    allowed = col.choices()
    if allowed:
        ok = values.isin(list(allowed.values()) if labels else list(allowed))
        out[values.ne("") & ~ok] = "code" if col.kind == "choice" else col.kind
    elif col.kind == "numeric":
        out = _numeric_problems(values, col.field, delimiter)
    elif col.kind == "identifier" and col.field.required:
        out[values.eq("")] = "required"
    return out


def check_values(
    raw: pd.DataFrame, instrument: Instrument, source: str, labels: bool, delimiter: str
) -> None:
    """Check every cell against the dictionary; raise on the first bad cell in file order, naming
    its record, field (export column) and value, and counting the other cells with that problem."""
    layout = {c.name: c for c in export_layout(instrument)}
    cols = [c for c in raw.columns if c in layout]
    keys = np.column_stack([column_problems(raw[c], layout[c], labels, delimiter) for c in cols])
    bad = pd.notna(keys)
    if not bad.any():
        return
    row, pos = np.argwhere(bad)[0]
    key, line, col = keys[row, pos], int(raw.index[row]), layout[cols[pos]]
    f = col.field
    allowed = col.choices()
    text = PROBLEMS[key].format(
        what="label" if labels else "code",
        ftype=f.field_type if f else "",
        allowed=", ".join(allowed.values() if labels else allowed),
        lo="-inf" if f is None or f.vmin is None else f"{f.vmin:g}",
        hi="inf" if f is None or f.vmax is None else f"{f.vmax:g}",
    )
    raise ValidationError(
        source,
        raw.iat[row, 0] or f"(no id, line {line})",
        col.name,
        raw.iat[row, raw.columns.get_loc(col.name)],
        f"{text} on line {line}" + others(int((keys == key).sum()) - 1, "bad cell"),
    )


@dataclass(frozen=True)
class ReadStats:
    """What the reader saw, for the cleaning log: missing codes recoded, labels export, delimiter."""

    missing_codes: int
    labels: bool
    delimiter: str = ","


def read_export_with_stats(
    path: str | Path, instrument: Instrument, *, missing_codes: Iterable[str] = ()
) -> tuple[pd.DataFrame, ReadStats]:
    """:func:`read_export`, also returning what it read (:class:`ReadStats`)."""
    source = str(path)
    rows, delimiter, labels = read_cells(path, instrument)
    check_columns(list(rows.columns), instrument, source)
    layout = export_layout(instrument)
    free_text = [c.name for c in layout if c.kind == "text"]
    raw = rows.apply(lambda col: col if col.name in free_text else col.str.strip())
    is_code = raw.isin({str(c) for c in missing_codes})
    raw = raw.mask(is_code, "")
    check_record_ids(raw, instrument, source)
    check_values(raw, instrument, source, labels, delimiter)
    for col in layout:
        if col.kind == "numeric" and delimiter != ",":
            raw[col.name] = decimal_point(raw[col.name])
        elif col.choices() and labels:
            raw[col.name] = raw[col.name].map({x: c for c, x in col.choices().items()}).fillna("")
    stats = ReadStats(int(is_code.to_numpy().sum()), labels, delimiter)
    return decode_codes(raw, instrument), stats


def read_export(
    path: str | Path, instrument: Instrument, *, missing_codes: Iterable[str] = ()
) -> pd.DataFrame:
    """Read, validate and decode a REDCap record export, one row per record in file order;
    ``missing_codes`` (e.g. ``"-999"``) are read as missing wherever they appear."""
    return read_export_with_stats(path, instrument, missing_codes=missing_codes)[0]
