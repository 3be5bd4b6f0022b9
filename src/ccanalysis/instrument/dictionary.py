"""The survey instrument, as described by its REDCap data dictionary.

The data dictionary (``data/raw/cc_survey_dictionary.csv``) is the one description of the
instrument: its fields, types, answer choices, validation ranges and the analysis ids of the
answers. This module parses it into :class:`Field` objects and answers the questions every later
stage asks (which columns an export has, what code means what level, which items are the
coordinator's). Nothing here knows a particular item by name.

Project conventions carried in the ``Field Annotation`` column (REDCap's place for action tags):

``@CC-LEVELS="1=always 2=mostly ..."``
    the analysis id of each answer code (the ``level`` ids of the published tables);
``@CC-ITEMS="1=svc_disease_mgmt ..."``
    a check-all-that-apply question whose every box is an analysis item of its own (yes/no);
``@CC-SINGLE="msw_bsw msn_bsn ..."``
    a check-all-that-apply question analysed as one category: the first checked level in this order;
``@CC-SYNTH="1=0.5 2=0.3 3=0.2"`` or ``@CC-SYNTH="normal(10, 4)"``
    how the synthetic stand-in answers an item that the paper prints no numbers for (its answers
    cannot be calibrated): a weight per answer code (for a box of an ``@CC-ITEMS`` question, the
    probability that it is checked), or ``normal(mean, sd)`` / ``uniform(low, high)`` for a numeric
    field, clipped to its validation range and rounded to its type. Without the tag such an item is
    answered uniformly over its choices (or its validation range). Parsed by
    :mod:`ccanalysis.synth.uncalibrated`; the analysis ignores it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ccanalysis.errors import ValidationError

#: The 18 column headers of a data dictionary downloaded from REDCap's web interface.
DICTIONARY_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)

#: The same columns as REDCap's API metadata names them.
API_COLUMNS: tuple[str, ...] = (
    "field_name",
    "form_name",
    "section_header",
    "field_type",
    "field_label",
    "select_choices_or_calculations",
    "field_note",
    "text_validation_type_or_show_slider_number",
    "text_validation_min",
    "text_validation_max",
    "identifier",
    "branching_logic",
    "required_field",
    "custom_alignment",
    "question_number",
    "matrix_group_name",
    "matrix_ranking",
    "field_annotation",
)

FIELD_TYPES = frozenset(
    {
        "text",
        "notes",
        "radio",
        "dropdown",
        "checkbox",
        "yesno",
        "truefalse",
        "calc",
        "descriptive",
        "file",
        "slider",
        "sql",
    }
)
#: REDCap's built-in codings.
BUILTIN_CHOICES: dict[str, dict[str, str]] = {
    "yesno": {"1": "Yes", "0": "No"},
    "truefalse": {"1": "True", "0": "False"},
}
BUILTIN_LEVELS: dict[str, dict[str, str]] = {
    "yesno": {"1": "yes", "0": "no"},
    "truefalse": {"1": "true", "0": "false"},
}
COMPLETE_CHOICES: dict[str, str] = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
NUMERIC_VALIDATIONS = frozenset({"integer", "number"})

_TAG = re.compile(r'@(CC-LEVELS|CC-ITEMS|CC-SINGLE|CC-SYNTH)\s*=\s*"([^"]*)"')


def parse_choices(text: str) -> dict[str, str]:
    """Split REDCap choices ``"1, Yes | 0, No"`` into an ordered ``{code: label}``.

    Splits on ``|`` then on the first comma (a label may contain commas); tolerates a missing space
    after the comma and stray spaces, as REDCap itself does.
    """
    out: dict[str, str] = {}
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        code, sep, label = part.partition(",")
        if not sep:
            raise ValueError(f"choice {part!r} has no comma between code and label")
        out[code.strip()] = label.strip()
    return out


def checkbox_column(field_name: str, code: str) -> str:
    """The export column of one checkbox choice: ``field___code``, lower case, ``-`` as ``_``."""
    return f"{field_name}___{code.lower().replace('-', '_')}"


def _tag_map(annotation: str, tag: str) -> dict[str, str]:
    for name, body in _TAG.findall(annotation):
        if name == tag:
            pairs = [p.split("=", 1) for p in body.split()]
            return {code.strip(): ident.strip() for code, ident in pairs}
    return {}


def _tag_list(annotation: str, tag: str) -> tuple[str, ...]:
    return tuple(_tag_text(annotation, tag).split())


def _tag_text(annotation: str, tag: str) -> str:
    for name, body in _TAG.findall(annotation):
        if name == tag:
            return body.strip()
    return ""


def _number(text: str) -> float | None:
    text = text.strip()
    return float(text) if text else None


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
    vmin: float | None = None
    vmax: float | None = None
    branching: str = ""
    required: bool = False
    identifier: bool = False
    section: str = ""
    note: str = ""
    #: The ``@CC-SYNTH`` text: how the synthetic stand-in answers the item when nothing printed
    #: calibrates it (empty: uniformly).
    synth: str = ""

    @property
    def is_numeric(self) -> bool:
        """A text field validated as a number (``integer``, ``number``, ``number_1dp`` ...)."""
        return self.field_type == "text" and (
            self.validation in NUMERIC_VALIDATIONS or self.validation.startswith("number")
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

    @cached_property
    def by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def __getitem__(self, name: str) -> Field:
        return self.by_name[name]

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
        """Every analysis item id with the field it comes from.

        A radio, dropdown or yes/no field is one item; a checkbox field with ``@CC-ITEMS`` gives one
        yes/no item per box; a checkbox field with ``@CC-LEVELS`` is one categorical item.
        """
        out: dict[str, Field] = {}
        for f in self.fields:
            if f.identifier or f.field_type in {"descriptive", "file", "notes"}:
                continue
            if f.field_type == "checkbox" and f.items:
                for item in f.items.values():
                    out[item] = f
            else:
                out[f.name] = f
        return out

    def items_of_form(self, form: str) -> list[str]:
        return [i for i, f in self.analysis_items().items() if f.form == form]


def _rows_from_csv(text: str, source: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(source, None, None, None, "the data dictionary is empty") from None
    header = [h.strip() for h in header]
    if tuple(header) == DICTIONARY_COLUMNS:
        names = API_COLUMNS
    elif tuple(header[: len(API_COLUMNS)]) == API_COLUMNS:
        names = API_COLUMNS
    else:
        missing = [h for h in DICTIONARY_COLUMNS if h not in header]
        raise ValidationError(
            source,
            None,
            "header",
            ",".join(header[:3]) + ",...",
            f"not a REDCap data dictionary: expected REDCap's 18 columns, missing {missing[:3]}",
        )
    rows = []
    for lineno, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) < len(names):
            values = values + [""] * (len(names) - len(values))
        rows.append({"_line": str(lineno), **dict(zip(names, values, strict=False))})
    return rows


def parse_dictionary(text: str, source: str = "<dictionary>") -> Instrument:
    """Parse the text of a REDCap data dictionary (web download or API metadata CSV)."""
    text = text.removeprefix("\ufeff")
    fields: list[Field] = []
    seen: set[str] = set()
    for row in _rows_from_csv(text, source):
        name = row["field_name"].strip()
        where = f"line {row['_line']}"
        ftype = row["field_type"].strip()
        if not name:
            raise ValidationError(source, where, "field_name", "", "a field has no name")
        if name in seen:
            raise ValidationError(
                source, where, "field_name", name, "the field name is defined twice"
            )
        seen.add(name)
        if ftype not in FIELD_TYPES:
            raise ValidationError(source, where, name, ftype, "unknown REDCap field type")
        annotation = row.get("field_annotation", "")
        if ftype in BUILTIN_CHOICES:
            choices = dict(BUILTIN_CHOICES[ftype])
            levels = dict(BUILTIN_LEVELS[ftype])
        elif ftype in {"radio", "dropdown", "checkbox"}:
            try:
                choices = parse_choices(row["select_choices_or_calculations"])
            except ValueError as exc:
                raise ValidationError(
                    source, where, name, row["select_choices_or_calculations"], str(exc)
                ) from None
            if not choices:
                raise ValidationError(source, where, name, "", f"a {ftype} field has no choices")
            levels = _tag_map(annotation, "CC-LEVELS")
        else:
            choices, levels = {}, {}
        items = _tag_map(annotation, "CC-ITEMS")
        for code in list(levels) + list(items):
            if code not in choices:
                raise ValidationError(
                    source, where, name, code, "an annotation names a code that is not a choice"
                )
        if ftype in {"radio", "dropdown"} or (ftype == "checkbox" and not items):
            if set(levels) != set(choices):
                raise ValidationError(
                    source,
                    where,
                    name,
                    annotation or "(empty)",
                    "@CC-LEVELS must give a level id for every choice",
                )
        try:
            vmin = _number(row["text_validation_min"])
            vmax = _number(row["text_validation_max"])
        except ValueError:
            raise ValidationError(
                source,
                where,
                name,
                row["text_validation_min"] + "/" + row["text_validation_max"],
                "validation min/max is not a number",
            ) from None
        fields.append(
            Field(
                name=name,
                form=row["form_name"].strip(),
                field_type=ftype,
                label=row["field_label"].strip(),
                choices=choices,
                levels=levels,
                items=items,
                single_order=_tag_list(annotation, "CC-SINGLE"),
                validation=row["text_validation_type_or_show_slider_number"].strip(),
                vmin=vmin,
                vmax=vmax,
                branching=row["branching_logic"].strip(),
                required=row["required_field"].strip().lower() == "y",
                identifier=row["identifier"].strip().lower() == "y",
                section=row["section_header"].strip(),
                note=row["field_note"].strip(),
                synth=_tag_text(annotation, "CC-SYNTH"),
            )
        )
    if not fields:
        raise ValidationError(source, None, None, None, "the data dictionary has no fields")
    return Instrument(tuple(fields), source)


def read_dictionary(path: str | Path) -> Instrument:
    """Read a REDCap data dictionary file (UTF-8, BOM and CRLF accepted)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(
            str(path), None, None, None, f"cannot read the file: {exc.strerror}"
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            str(path), None, None, repr(raw[exc.start : exc.start + 8]), "the file is not UTF-8"
        ) from None
    return parse_dictionary(text, str(path))


def level_ids(f: Field, codes: Iterable[str]) -> list[str]:
    """Map answer codes of ``f`` to their level ids (unknown codes raise ``KeyError``)."""
    return [f.levels[c] for c in codes]
