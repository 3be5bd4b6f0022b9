"""Decode a validated REDCap export into analysis items, and split it into clinic and coordinator
frames.

The functions here are pure functions on frames of validated string codes (the reader,
:mod:`ccanalysis.instrument.redcap`, has checked every cell against the dictionary first):

* radio / dropdown / yesno / truefalse -> ordered categorical of the ``@CC-LEVELS`` ids;
* checkbox with ``@CC-ITEMS`` -> one yes/no column per box; a question with no box checked counts
  as not answered (all its items missing);
* checkbox with ``@CC-LEVELS`` -> one categorical column: the first checked level in ``@CC-SINGLE``
  order;
* numeric text fields -> float64; identifier and other text fields -> strings.

Each record is a clinic; the coordinator form's items describe the coordinator who answered, so
:func:`split_frames` keeps them once per coordinator.
"""

from __future__ import annotations

import pandas as pd

from ccanalysis.instrument.dictionary import BUILTIN_CHOICES, Field, Instrument, checkbox_column

#: The identifier columns the analysis frames are built on.
COORDINATOR_ID = "coordinator_id"
CARE_SYSTEM_ID = "care_system_id"
COORDINATOR_FORM = "coordinator"


# ----------------------------------------------------------------------------------------------
# Decoding (pure functions on frames of validated string codes)


def _blank_to_none(values: pd.Series) -> pd.Series:
    return values.astype(object).where(values.ne("") & values.notna(), None)


def decode_choice(values: pd.Series, f: Field) -> pd.Categorical:
    """Codes of a radio/dropdown/yesno field -> ordered categorical of its level ids."""
    levels = _blank_to_none(values).map(f.levels)
    return pd.Categorical(levels, categories=f.level_order(), ordered=True)


def decode_numeric(values: pd.Series) -> pd.Series:
    """Numeric text -> float64 (empty -> NaN)."""
    return pd.to_numeric(_blank_to_none(values), errors="coerce").astype("float64")


def decode_text(values: pd.Series) -> pd.Series:
    """Text -> pandas string dtype (empty -> missing)."""
    return pd.Series(_blank_to_none(values), index=values.index, dtype="str")


def _checked(raw: pd.DataFrame, f: Field) -> pd.DataFrame:
    return pd.DataFrame(
        {c: raw[checkbox_column(f.name, c)].eq("1") for c in f.choices}, index=raw.index
    )


def decode_checkbox_items(raw: pd.DataFrame, f: Field) -> pd.DataFrame:
    """A check-all-that-apply question -> one yes/no column per ``@CC-ITEMS`` box.

    A question with no box checked counts as not answered: all its items are missing.
    """
    answered = _checked(raw, f).any(axis=1)
    out = {}
    for code, item in f.items.items():
        cell = raw[checkbox_column(f.name, code)]
        value = cell.map({"1": "yes", "0": "no"}).where(answered, None)
        out[item] = pd.Categorical(value, categories=["yes", "no"], ordered=True)
    return pd.DataFrame(out, index=raw.index)


def decode_checkbox_single(raw: pd.DataFrame, f: Field) -> pd.Categorical:
    """A check-all-that-apply question analysed as one category: the first checked level in
    ``@CC-SINGLE`` order (dictionary order when there is no ``@CC-SINGLE``); missing if none."""
    checked = _checked(raw, f)
    code_of = {level: code for code, level in f.levels.items()}
    order = list(f.single_order) or f.level_order()
    result = pd.Series(None, index=raw.index, dtype=object)
    for level in reversed(order):
        result[checked[code_of[level]].to_numpy()] = level
    return pd.Categorical(result, categories=f.level_order(), ordered=True)


def decode_codes(raw: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Validated raw codes -> one row per record: the identifiers, then every analysis item.

    Identifiers and text stay strings, categorical fields become ordered categoricals of their
    level ids, numeric fields float64. Missing stays missing. The index is a plain range.
    """
    cols: dict[str, object] = {}
    for f in instrument.fields:
        if f.identifier:
            cols[f.name] = decode_text(raw[f.name])
    items = instrument.analysis_items()
    for f in instrument.fields:
        if f.identifier or f.name not in items and not f.items:
            continue
        if f.field_type == "checkbox" and f.items:
            cols.update(decode_checkbox_items(raw, f).to_dict("series"))
        elif f.field_type == "checkbox":
            cols[f.name] = decode_checkbox_single(raw, f)
        elif f.field_type in BUILTIN_CHOICES or f.field_type in {"radio", "dropdown"}:
            cols[f.name] = decode_choice(raw[f.name], f)
        elif f.is_numeric:
            cols[f.name] = decode_numeric(raw[f.name])
        elif f.field_type in {"text", "calc", "slider"}:
            cols[f.name] = decode_text(raw[f.name])
    out = pd.DataFrame(cols, index=raw.index)
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Clinic and coordinator frames


def identifier_columns(instrument: Instrument) -> list[str]:
    """The identifier fields, in dictionary order (the record id first)."""
    return [f.name for f in instrument.fields if f.identifier]


def coordinator_items(instrument: Instrument, form: str = COORDINATOR_FORM) -> list[str]:
    """The analysis items of the coordinator form, in dictionary order."""
    return instrument.items_of_form(form)


def clinic_items(instrument: Instrument, form: str = COORDINATOR_FORM) -> list[str]:
    """The analysis items of every form but the coordinator's, in dictionary order."""
    return [i for i, f in instrument.analysis_items().items() if f.form != form]


def coordinator_disagreements(
    records: pd.DataFrame, instrument: Instrument, form: str = COORDINATOR_FORM
) -> pd.Series:
    """For every coordinator item (and the care system), how many coordinators' records disagree.

    Records disagree when they hold more than one distinct answer (missing answers ignored).
    """
    names = [CARE_SYSTEM_ID, *coordinator_items(instrument, form)]
    counts = {}
    for name in names:
        values = records[name].astype(object)
        by = records[COORDINATOR_ID].to_numpy()
        distinct = values.groupby(by, sort=False).nunique(dropna=True)
        counts[name] = int(distinct.gt(1).sum())
    return pd.Series(counts, name="coordinators", dtype="int64")


def split_frames(
    records: pd.DataFrame, instrument: Instrument, form: str = COORDINATOR_FORM
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split decoded records into a clinic frame and a coordinator frame.

    Returns
    -------
    clinics
        One row per record: the identifiers, then every item of the forms other than ``form``.
    coordinators
        One row per ``coordinator_id`` (in order of first appearance): ``coordinator_id``,
        ``care_system_id``, ``n_clinics`` (records answered, int64), then the coordinator-form
        items taken from the coordinator's first record. Disagreeing records do not fail; see
        :func:`coordinator_disagreements`.
    """
    clinics = records[identifier_columns(instrument) + clinic_items(instrument, form)].copy()
    items = coordinator_items(instrument, form)
    first = records.drop_duplicates(subset=COORDINATOR_ID, keep="first")
    n = records.groupby(COORDINATOR_ID, sort=False).size()
    coordinators = first[[COORDINATOR_ID, CARE_SYSTEM_ID]].copy()
    coordinators["n_clinics"] = n.reindex(first[COORDINATOR_ID].to_numpy()).to_numpy(dtype="int64")
    for item in items:
        coordinators[item] = first[item]
    return clinics.reset_index(drop=True), coordinators.reset_index(drop=True)
