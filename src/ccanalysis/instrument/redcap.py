"""Read a REDCap record export (raw or labels, any of REDCap's delimiters) and check every cell
against the data dictionary; the first problem raises one :class:`ValidationError` naming the file,
the record (and the line it starts on), the field and the value (free text never printed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.errors import ValidationError, others
from ccanalysis.instrument.csvfile import (
    DELIMITERS,
    best_delimiter,
    not_utf8,
    parse_rows,
    read_text,
)
from ccanalysis.instrument.decode import decode_codes
from ccanalysis.instrument.dictionary import (
    COMPLETE_CHOICES,
    Field,
    Instrument,
    date_formats,
    parse_dates,
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
CHECKBOX_CHOICES: dict[str, str] = {"0": "Unchecked", "1": "Checked"}
#: The columns of a longitudinal or repeating export: several rows per record.
EVENT_COLUMNS = ("redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance")
#: What to do with a value outside its field's min/max (``make OUT_OF_RANGE=...``).
OUT_OF_RANGE = ("keep", "missing", "stop")
#: Below this share of the dictionary's columns found, the export is for another instrument.
MATCH_THRESHOLD = 0.5

_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
#: A date written in each accepted format shows the user what a date field expects.
EXAMPLE_TIME = pd.Timestamp("1991-05-13 14:30:59")

AMBIGUOUS = (
    "every answer in the export is both a code and a label of its field (choices like "
    "'1, 1 | 2, 2'): say whether it holds codes or labels with LABELS=no or LABELS=yes"
)


@dataclass(frozen=True)
class Column:
    """One export column: its kind (see :func:`_kind`), field (none for a form status),
    labels-export header and ``{code: label}`` (of a choice, checkbox or form status)."""

    name: str
    kind: str
    field: Field | None
    label: str
    choices: dict[str, str]


def _norm(text: str) -> str:
    """A label as REDCap prints it in headers: no HTML tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", "", text).split())


def _kind(f: Field, instrument: Instrument) -> str:
    if f.name == instrument.record_id:
        return "record_id"
    if f.field_type == "checkbox":
        return "checkbox"
    if date_formats(f.validation):
        return "date"
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
            kind = _kind(f, instrument)
            checkbox = kind == "checkbox"
            labels = (
                [f"{f.label} (choice={x})" for x in f.choices.values()] if checkbox else [f.label]
            )
            choices = CHECKBOX_CHOICES if checkbox else f.choices if kind == "choice" else {}
            for name, label in zip(f.export_columns(), labels, strict=False):
                cols.append(Column(name, kind, f, _norm(label), choices))
        cols.append(Column(f"{form}_complete", "complete", None, COMPLETE_LABEL, COMPLETE_CHOICES))
    return cols


def allowed_extra_columns(instrument: Instrument) -> set[str]:
    """REDCap's own columns an export may hold beside the dictionary's (events, timestamps ...)."""
    return set(REDCAP_EXTRA_COLUMNS) | {f"{form}_timestamp" for form in instrument.forms}


def _matches(header: Sequence[str], instrument: Instrument) -> tuple[int, int]:
    """How many cells of ``header`` are export columns of ``instrument``: by name, and by label."""
    layout = export_layout(instrument)
    names = {c.name for c in layout} | allowed_extra_columns(instrument)
    labels = {c.label for c in layout} | set(REDCAP_EXTRA_COLUMNS.values()) | {TIMESTAMP_LABEL}
    return sum(h.strip() in names for h in header), sum(_norm(h) in labels for h in header)


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
        (
            [f"(column {len(columns)}, no name)"] if columns[-1] == "" else [],
            "an empty last column: a delimiter at the end of every line, as Excel leaves it; "
            "export the file again from REDCap (or delete that column)",
        ),
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
            value = None if problem.startswith(("an empty", "expected")) else names[0]
            raise ValidationError(
                source, None, names[0], value, problem + others(len(names) - 1, "column")
            )


def read_cells(path: str | Path, instrument: Instrument) -> tuple[pd.DataFrame, str]:
    """An export's cells (text; raw column names, a labels header mapped) and its delimiter; only
    the file's form is checked."""
    source = str(path)
    text, bad_line = read_text(path)
    if not text.strip():
        raise ValidationError(source, None, None, None, "the file is empty")
    if bad_line == 1:
        raise not_utf8(pd.DataFrame(), [], 1, source)
    delimiter, found = best_delimiter(text, lambda h: max(_matches(h, instrument)))
    expected, head = len(export_layout(instrument)), text.split("\n", 1)[0].rstrip("\r")
    if found < MATCH_THRESHOLD * expected:  # the header is of another instrument
        raise ValidationError(
            source,
            None,
            "header",
            head if len(head) <= 60 else head[:60] + "...",
            f"the export does not match the dictionary {instrument.source}: split by any of "
            f"REDCap's delimiters ({', '.join(DELIMITERS.values())}), its header holds at most "
            f"{found} of the dictionary's {expected} columns "
            "(wrong dictionary, project or delimiter?)",
        )
    header, rows = parse_rows(text, source, delimiter, bad_line)
    n_names, n_labels = _matches(header, instrument)
    rows.columns = map_label_header(header, instrument) if n_labels > n_names else header
    return rows, delimiter


def decimal_point(values: pd.Series) -> pd.Series:
    """A decimal comma (one comma, no point: REDCap writes no thousands separator) as a point."""
    comma = values.str.count(",").eq(1) & ~values.str.contains(".", regex=False)
    return values.where(~comma, values.str.replace(",", ".", regex=False))


def _outside(values: pd.Series, f: Field) -> pd.Series:
    """Numbers or dates below the field's min or above its max (missing ones never)."""
    low = values.lt(f.vmin) if f.vmin is not None else False
    return low | (values.gt(f.vmax) if f.vmax is not None else False)


def _bound_text(bound: object, default: str) -> str:
    if bound is None:
        return default
    return f"{bound:g}" if isinstance(bound, float) else str(bound).removesuffix(" 00:00:00")


def column_problems(
    values: pd.Series, col: Column, labels: bool, stop: bool
) -> tuple[pd.Series, pd.Series]:
    """The problem of every cell of one column (``None``: fine; outside the field's min/max only
    when that ``stop``s the run) and whether it is outside min/max."""
    out = pd.Series(None, index=values.index, dtype=object)
    outside = pd.Series(False, index=values.index)
    f, filled = col.field, values.ne("")
    if col.kind == "record_id":
        first = values.index.to_series().groupby(values.to_numpy()).transform("first")
        out[filled & values.duplicated()] = (
            "duplicate record id (first on line " + first.astype(str) + ")"
        )
        out[~filled] = "empty record id"
    elif col.choices:
        known = list(col.choices.values() if labels else col.choices)
        problem = {"checkbox": "checkbox value must be", "complete": "form status must be"}
        out[filled & ~values.isin(known)] = (
            f"{problem[col.kind]} {', '.join(known)}"
            if col.kind in problem
            else f"unknown answer {'label' if labels else 'code'} for a {f.field_type} field "
            f"(allowed: {', '.join(known)})"
        )
    elif col.kind == "numeric":
        values = decimal_point(values)
        is_num = values.str.fullmatch(_NUMBER)
        out[filled & ~is_num] = "text in a number field"
        if f.validation == "integer":
            out[filled & is_num & ~values.str.fullmatch(_INTEGER)] = (
                "not an integer in an integer field"
            )
        outside = out.isna() & _outside(pd.to_numeric(values.where(is_num), errors="coerce"), f)
    elif col.kind == "date":
        when = parse_dates(values, date_formats(f.validation))
        formats = " or ".join(EXAMPLE_TIME.strftime(x) for x in date_formats(f.validation))
        out[filled & when.isna()] = (
            "a date re-formatted (by Excel?), export it again from REDCap: not a "
            f"{f.validation} value, written like {formats}"
        )
        outside = out.isna() & _outside(when, f)
    elif col.kind == "identifier" and f.required:
        out[~filled] = "empty value in a required identifier field"
    if stop and outside.any():
        lo, hi = _bound_text(f.vmin, "-inf"), _bound_text(f.vmax, "inf")
        out[outside] = f"value outside the dictionary's range {lo} to {hi} (OUT_OF_RANGE=stop)"
    return out, outside


def check_values(
    raw: pd.DataFrame, instrument: Instrument, source: str, labels: bool, out_of_range: str
) -> pd.DataFrame:
    """Raise on the first bad cell in file order (counting the others); return the values outside
    their field's min/max (``line, record, field, value``) unless they stop the run."""
    layout = {c.name: c for c in export_layout(instrument)}
    cols = [c for c in raw.columns if c in layout]
    found = [column_problems(raw[c], layout[c], labels, out_of_range == "stop") for c in cols]
    problems = np.column_stack([problem for problem, _ in found])
    bad = pd.notna(problems)
    if bad.any():
        row, pos = np.argwhere(bad)[0]
        line, value = int(raw.index[row]), raw[cols[pos]].iat[row]
        raise ValidationError(
            source,
            raw.iat[row, 0] or f"(no id, line {line})",
            cols[pos],
            value,
            f"{problems[row, pos]} on line {line}" + others(int(bad.sum()) - 1, "bad cell"),
        )
    rows, pos = np.nonzero(np.column_stack([outside for _, outside in found]))
    return pd.DataFrame(
        {
            "line": raw.index[rows],
            "record": raw.iloc[rows, 0].to_numpy(),
            "field": np.array(cols, dtype=object)[pos],
            "value": raw[cols].to_numpy()[rows, pos],
        }
    )


def detect_labels(raw: pd.DataFrame, instrument: Instrument, source: str) -> bool:
    """Whether the coded columns hold labels rather than codes: the reading under which more
    answers are known; raises when every answer is both."""
    counts = np.zeros(3, dtype="int64")  # filled, codes, labels
    for col in (c for c in export_layout(instrument) if c.choices and c.name in raw.columns):
        values, choices = raw[col.name], col.choices
        known = [values.isin(list(choices)).sum(), values.isin(list(choices.values())).sum()]
        counts += [values.ne("").sum(), *known]
    filled, codes, labels = counts
    if filled and codes == labels == filled:
        raise ValidationError(source, None, None, None, AMBIGUOUS)
    return bool(labels > codes)


def select_event(rows: pd.DataFrame, event: str, source: str) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of ``event`` and the rows per other event left out; raises, naming them, on events
    with none chosen and on repeating instances."""
    found = [c for c in EVENT_COLUMNS if c in rows.columns]
    cols = rows.reindex(columns=list(EVENT_COLUMNS), fill_value="")
    events = cols["redcap_event_name"].value_counts(sort=False).drop("", errors="ignore")
    if event in events.index:
        chosen = cols["redcap_event_name"].eq(event)
        rows, cols = rows[chosen], cols[chosen]
    instance = cols["redcap_repeat_instance"].ne("")
    names = cols["redcap_repeat_instrument"][instance].replace("", "(a repeating event)")
    repeats = names.value_counts(sort=False)
    if not repeats.size and (event in events.index or not events.size and not event):
        return rows, events.drop(event, errors="ignore")  # (columns left empty: one row each)
    listed = [f"event {k} ({n} rows)" for k, n in events.items()]
    listed += [f"repeating {k} ({n} rows)" for k, n in repeats.items()]
    hint = (
        "export the survey's forms without their repeating instances"
        if repeats.size
        else (f"EVENT={event!r} is not one of them; " if event else "")
        + "choose the survey's event with EVENT=..."
    )
    raise ValidationError(
        source,
        None,
        ", ".join(found) or "redcap_event_name",
        None,
        f"a longitudinal or repeating export ({', '.join(listed) or 'no event found'}): the "
        f"survey has one row per record, and no row is merged or dropped unasked; {hint}",
    )


@dataclass(frozen=True)
class ReadStats:
    """What the reader saw, for the cleaning log (``codes``: by field and code; ``other_events``:
    rows by event)."""

    missing_codes: int
    labels: bool
    delimiter: str
    codes: pd.DataFrame
    out_of_range: pd.DataFrame
    other_events: pd.Series


def read_export_with_stats(
    path: str | Path,
    instrument: Instrument,
    *,
    missing_codes: Iterable[str] = (),
    labels: bool | None = None,
    event: str = "",
    out_of_range: str = "keep",
) -> tuple[pd.DataFrame, ReadStats]:
    """:func:`read_export`, also returning what it read (:class:`ReadStats`)."""
    if out_of_range not in OUT_OF_RANGE:
        raise ValueError(f"out_of_range must be one of {OUT_OF_RANGE}, not {out_of_range!r}")
    source = str(path)
    rows, delimiter = read_cells(path, instrument)
    check_columns(list(rows.columns), instrument, source)
    rows, other_events = select_event(rows, event, source)
    layout = export_layout(instrument)
    free_text = [c.name for c in layout if c.kind == "text"]
    raw = rows.apply(lambda col: col if col.name in free_text else col.str.strip())
    is_code = raw.isin({str(c) for c in missing_codes})
    is_code[instrument.record_id] = False
    line, pos = np.nonzero(is_code.to_numpy())
    coded = pd.DataFrame({"field": raw.columns[pos], "code": raw.to_numpy()[line, pos]})
    raw = raw.mask(is_code, "")
    if raw.empty:
        raise ValidationError(source, None, None, None, "the export has a header but no records")
    labels = detect_labels(raw, instrument, source) if labels is None else labels
    outside = check_values(raw, instrument, source, labels, out_of_range)
    if out_of_range == "missing":
        for line, name in zip(outside["line"], outside["field"], strict=True):
            raw.at[line, name] = ""
    for col in layout:
        if col.kind == "numeric":
            raw[col.name] = decimal_point(raw[col.name])
        elif col.choices and labels:
            raw[col.name] = raw[col.name].map({x: c for c, x in col.choices.items()}).fillna("")
    stats = ReadStats(
        len(coded),
        labels,
        delimiter,
        coded.groupby(["field", "code"], sort=False).size().reset_index(name="n"),
        outside.assign(action="kept" if out_of_range == "keep" else "made missing"),
        other_events,
    )
    return decode_codes(raw, instrument), stats


def read_export(path: str | Path, instrument: Instrument, **options: object) -> pd.DataFrame:
    """Read, check and decode an export, one row per record; ``options``: those of
    :func:`read_export_with_stats` (``labels=None``: told from the values)."""
    return read_export_with_stats(path, instrument, **options)[0]
