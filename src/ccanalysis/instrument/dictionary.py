"""The survey instrument, as its REDCap data dictionary describes it, with the project's action
tags in ``Field Annotation``: ``@CC-LEVELS="1=always 2=mostly ..."`` (the analysis id of each answer
code), ``@CC-ITEMS="1=svc_disease_mgmt ..."`` (a checkbox question whose every box is a yes/no
item), ``@CC-SINGLE="msw_bsw msn_bsn ..."`` (a checkbox question analysed as its first checked
level), ``@CC-SYNTH="..."`` (how the synthetic stand-in answers an uncalibrated item),
``@CC-UNIT="patients"`` (a numeric item's unit, as differences of its mean are reported).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.instrument.csvfile import best_delimiter, parse_rows, read_text

#: The 18 columns of a data dictionary: the web download's header -> the API metadata's name.
COLUMN_NAMES: dict[str, str] = {
    "Variable / Field Name": "field_name",
    "Form Name": "form_name",
    "Section Header": "section_header",
    "Field Type": "field_type",
    "Field Label": "field_label",
    "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
    "Field Note": "field_note",
    "Text Validation Type OR Show Slider Number": "text_validation_type_or_show_slider_number",
    "Text Validation Min": "text_validation_min",
    "Text Validation Max": "text_validation_max",
    "Identifier?": "identifier",
    "Branching Logic (Show field only if...)": "branching_logic",
    "Required Field?": "required_field",
    "Custom Alignment": "custom_alignment",
    "Question Number (surveys only)": "question_number",
    "Matrix Group Name": "matrix_group_name",
    "Matrix Ranking?": "matrix_ranking",
    "Field Annotation": "field_annotation",
}
DICTIONARY_COLUMNS = tuple(COLUMN_NAMES)
API_COLUMNS = tuple(COLUMN_NAMES.values())
FIELD_TYPES = frozenset(
    "text notes radio dropdown checkbox yesno truefalse calc descriptive file slider sql".split()
)
#: REDCap's built-in codings, as labels and as analysis level ids.
BUILTIN_CHOICES: dict[str, dict[str, str]] = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
}
COMPLETE_CHOICES: dict[str, str] = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}

#: strptime orders of REDCap's date validations (``date_ymd``, ``datetime_seconds_dmy`` ...).
DATE_ORDERS: dict[str, str] = {"ymd": "%Y-%m-%d", "mdy": "%m-%d-%Y", "dmy": "%d-%m-%Y"}
TIME_FORMATS: dict[str, str] = {"date": "", "datetime": " %H:%M", "datetime_seconds": " %H:%M:%S"}

_TAG = re.compile(r'@(CC-LEVELS|CC-ITEMS|CC-SINGLE|CC-SYNTH|CC-UNIT)\s*=\s*"([^"]*)"')


def parse_choices(text: str) -> dict[str, str]:
    """Split REDCap choices ``"1, Yes | 0, No"`` into an ordered ``{code: label}``: on ``|``, then
    on the first comma (a label may hold commas), stray spaces tolerated as REDCap does."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split("|"))):
        code, sep, label = part.partition(",")
        if not sep:
            raise ValueError(f"choice {part!r} has no comma between code and label")
        out[code.strip()] = label.strip()
    return out


def checkbox_column(field_name: str, code: str) -> str:
    """The export column of one checkbox choice: ``field___code``, lower case, ``-`` as ``_``."""
    return f"{field_name}___{code.lower().replace('-', '_')}"


def date_formats(validation: str) -> list[str]:
    """The strptime formats a value of a date or datetime field may take: REDCap's export form
    (year first) and the field's own order, with ``-`` or ``/``; none for other validations."""
    kind, _, order = validation.rpartition("_")
    if kind not in TIME_FORMATS or order not in DATE_ORDERS:
        return []
    days = ["%Y-%m-%d", DATE_ORDERS[order], DATE_ORDERS[order].replace("-", "/")]
    return [d + TIME_FORMATS[kind] for d in dict.fromkeys(days)]


def parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    """``values`` as timestamps under the first of ``formats`` that reads them; else ``NaT``."""
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in formats:
        out = out.fillna(pd.to_datetime(values, format=fmt, errors="coerce"))
    return out


def _bound(text: str, validation: str) -> float | pd.Timestamp | None:
    """A validation min or max: a number (a decimal comma read), or for a date field a date in
    the field's format or ``today``/``now``; raises ``ValueError``."""
    formats = date_formats(validation)
    if not text:
        return None
    if not formats:
        return float(text.replace(",", ".") if text.count(",") == 1 else text)
    if text.lower() in {"today", "now"}:
        now = pd.Timestamp.now()
        return now.normalize() if formats[0] == "%Y-%m-%d" else now
    value = parse_dates(pd.Series([text]), formats)[0]
    if pd.isna(value):
        raise ValueError(text)
    return value


def _tag(annotation: str, tag: str) -> str:
    return next((body.strip() for name, body in _TAG.findall(annotation) if name == tag), "")


def _tag_map(annotation: str, tag: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in _tag(annotation, tag).split())


@dataclass(frozen=True)
class Field:
    """One field of the instrument, as its dictionary row describes it."""

    name: str
    form: str
    field_type: str
    label: str
    choices: dict[str, str] = field(default_factory=dict)
    levels: dict[str, str] = field(default_factory=dict)
    items: dict[str, str] = field(default_factory=dict)
    single_order: tuple[str, ...] = ()
    validation: str = ""
    #: min and max: numbers, or timestamps for a date or datetime field.
    vmin: float | pd.Timestamp | None = None
    vmax: float | pd.Timestamp | None = None
    branching: str = ""
    required: bool = False
    identifier: bool = False
    #: The ``@CC-SYNTH`` text (empty: the stand-in answers uniformly).
    synth: str = ""
    #: A numeric item's unit, ``@CC-UNIT="patients"`` (empty: none declared).
    unit: str = ""

    @property
    def is_numeric(self) -> bool:
        """A text field validated as a number (``integer``, ``number``, ``number_1dp`` ...)."""
        return self.field_type == "text" and (
            self.validation == "integer" or self.validation.startswith("number")
        )

    def export_columns(self) -> list[str]:
        """The columns this field occupies in a raw export (none for descriptive fields)."""
        if self.field_type == "descriptive":
            return []
        if self.field_type == "checkbox":
            return [checkbox_column(self.name, c) for c in self.choices]
        return [self.name]

    def level_order(self) -> list[str]:
        """Analysis level ids in the dictionary's order of choices."""
        return [self.levels[c] for c in self.choices if c in self.levels]


@dataclass(frozen=True)
class Instrument:
    """The parsed data dictionary: fields in order, grouped in forms."""

    fields: tuple[Field, ...]
    source: str = "<dictionary>"

    def __getitem__(self, name: str) -> Field:
        return {f.name: f for f in self.fields}[name]

    @property
    def record_id(self) -> str:
        """The first field of the project, which REDCap uses as the record id."""
        return self.fields[0].name

    @property
    def forms(self) -> list[str]:
        return list(dict.fromkeys(f.form for f in self.fields))

    def form_fields(self, form: str) -> list[Field]:
        return [f for f in self.fields if f.form == form]

    def export_columns(self) -> list[str]:
        """Columns of a raw export, in REDCap's order: fields by form, ``<form>_complete`` after each."""
        cols: list[str] = []
        for form in self.forms:
            for f in self.form_fields(form):
                cols.extend(f.export_columns())
            cols.append(f"{form}_complete")
        return cols

    def analysis_items(self) -> dict[str, Field]:
        """Every analysis item id with its field: one per ``@CC-ITEMS`` box of a checkbox field,
        else one per field (identifiers, descriptive, file and notes fields have none)."""
        out: dict[str, Field] = {}
        for f in self.fields:
            if f.identifier or f.field_type in {"descriptive", "file", "notes"}:
                continue
            out |= dict.fromkeys(f.items.values() if f.items else [f.name], f)
        return out


def _field(row: pd.Series, source: str, where: str) -> Field:
    """One dictionary row (API column names) as a :class:`Field`; raises on a bad row."""
    name, ftype, annotation = row["field_name"], row["field_type"], row["field_annotation"]

    def bad(value: str, problem: str) -> ValidationError:
        return ValidationError(source, where, name or "field_name", value, problem)

    if not name:
        raise bad("", "a field has no name")
    if ftype not in FIELD_TYPES:
        raise bad(ftype, "unknown REDCap field type")
    choices, levels = {}, {}
    if ftype in BUILTIN_CHOICES:
        choices = BUILTIN_CHOICES[ftype]
        levels = {code: label.lower() for code, label in choices.items()}
    elif ftype in {"radio", "dropdown", "checkbox"}:
        try:
            choices = parse_choices(row["select_choices_or_calculations"])
        except ValueError as exc:
            raise bad(row["select_choices_or_calculations"], str(exc)) from None
        if not choices:
            raise bad("", f"a {ftype} field has no choices")
        levels = _tag_map(annotation, "CC-LEVELS")
    items = _tag_map(annotation, "CC-ITEMS")
    unknown = [code for code in [*levels, *items] if code not in choices]
    if unknown:
        raise bad(unknown[0], "an annotation names a code that is not a choice")
    one_item = ftype in {"radio", "dropdown"} or (ftype == "checkbox" and not items)
    if one_item and set(levels) != set(choices):
        raise bad(annotation or "(empty)", "@CC-LEVELS must give a level id for every choice")
    lo, hi, validation = (
        row[f"text_validation_{k}"] for k in ("min", "max", "type_or_show_slider_number")
    )
    try:
        vmin, vmax = (_bound(v, validation) for v in (lo, hi))
    except ValueError:
        what = "a date in the field's format or 'today'" if date_formats(validation) else "a number"
        raise bad(f"{lo}/{hi}", f"validation min/max is not {what}") from None
    return Field(
        name=name,
        form=row["form_name"],
        field_type=ftype,
        label=row["field_label"],
        choices=dict(choices),
        levels=levels,
        items=items,
        single_order=tuple(_tag(annotation, "CC-SINGLE").split()),
        validation=validation,
        vmin=vmin,
        vmax=vmax,
        branching=row["branching_logic"],
        required=row["required_field"].lower() == "y",
        identifier=row["identifier"].lower() == "y",
        synth=_tag(annotation, "CC-SYNTH"),
        unit=_tag(annotation, "CC-UNIT"),
    )


def parse_dictionary(
    text: str, source: str = "<dictionary>", bad_line: int | None = None
) -> Instrument:
    """Parse the text of a REDCap data dictionary (web download or API metadata CSV, under any of
    REDCap's delimiters); ``bad_line``: the line of a byte that is not UTF-8."""
    if not text.strip("\ufeff \r\n"):
        raise ValidationError(source, None, None, None, "the data dictionary is empty")
    known = set(DICTIONARY_COLUMNS) | set(API_COLUMNS)
    delimiter, _ = best_delimiter(text, lambda h: sum(c in known for c in h))
    header, rows = parse_rows(text.removeprefix("\ufeff"), source, delimiter, bad_line)
    if tuple(header[: len(API_COLUMNS)]) not in (DICTIONARY_COLUMNS, API_COLUMNS):
        missing = [h for h in DICTIONARY_COLUMNS if h not in header]
        raise ValidationError(
            source,
            None,
            "header",
            ",".join(header[:3]) + ",...",
            f"not a REDCap data dictionary: expected REDCap's 18 columns, missing {missing[:3]}",
        )
    rows = rows.iloc[:, : len(API_COLUMNS)].set_axis(API_COLUMNS, axis=1)
    rows = rows.apply(lambda col: col.str.strip())
    rows = rows[rows.ne("").any(axis=1)]  # blank lines
    dup = rows["field_name"].duplicated() & rows["field_name"].ne("")
    if dup.any():
        line, name = int(dup.idxmax()), rows["field_name"][dup].iloc[0]
        raise ValidationError(
            source, f"line {line}", "field_name", name, "the field name is defined twice"
        )
    fields = tuple(_field(row, source, f"line {i}") for i, row in rows.iterrows())
    if not fields:
        raise ValidationError(source, None, None, None, "the data dictionary has no fields")
    return Instrument(fields, source)


def read_dictionary(path: str | Path) -> Instrument:
    """Read a REDCap data dictionary file (UTF-8, BOM and CRLF accepted)."""
    text, bad_line = read_text(path)
    return parse_dictionary(text, str(path), bad_line)
