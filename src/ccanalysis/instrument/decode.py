"""Decode a checked REDCap export into analysis items; split it into clinics and coordinators.

Choices become ordered categoricals of their ``@CC-LEVELS`` ids; a ``@CC-ITEMS`` checkbox one yes/no
item per box (no box checked: not answered); a ``@CC-SINGLE`` checkbox its first checked level;
numbers float64; dates timestamps; identifiers and text strings.
"""

from __future__ import annotations

import pandas as pd

from ccanalysis.instrument.dictionary import (
    Field,
    Instrument,
    checkbox_column,
    date_formats,
    parse_dates,
)

COORDINATOR_ID = "coordinator_id"
CARE_SYSTEM_ID = "care_system_id"
COORDINATOR_FORM = "coordinator"


def _checked(raw: pd.DataFrame, f: Field) -> pd.DataFrame:
    return pd.DataFrame(
        {c: raw[checkbox_column(f.name, c)].eq("1") for c in f.choices}, index=raw.index
    )


def decode_checkbox_items(raw: pd.DataFrame, f: Field) -> pd.DataFrame:
    """A check-all-that-apply question -> one yes/no column per ``@CC-ITEMS`` box (all missing
    when no box is checked: the question was not answered)."""
    answered = _checked(raw, f).any(axis=1)
    return pd.DataFrame(
        {
            item: pd.Categorical(
                raw[checkbox_column(f.name, code)].map({"1": "yes", "0": "no"}).where(answered),
                categories=["yes", "no"],
                ordered=True,
            )
            for code, item in f.items.items()
        },
        index=raw.index,
    )


def decode_checkbox_single(raw: pd.DataFrame, f: Field) -> pd.Categorical:
    """A check-all-that-apply question analysed as one category: the first checked level in
    ``@CC-SINGLE`` order (dictionary order without the tag); missing if none is checked."""
    checked = _checked(raw, f).rename(columns=f.levels)[list(f.single_order) or f.level_order()]
    first = checked.idxmax(axis=1).where(checked.any(axis=1))
    return pd.Categorical(first, categories=f.level_order(), ordered=True)


def decode_codes(raw: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Validated raw codes -> one row per record (plain range index): the identifiers, then every
    analysis item (see the module); an empty cell is missing."""
    raw = raw.reset_index(drop=True).replace("", None)
    cols = {f.name: raw[f.name].astype("str") for f in instrument.fields if f.identifier}
    analysed = {f.name for f in instrument.analysis_items().values()}
    for f in (f for f in instrument.fields if f.name in analysed):
        if f.field_type == "checkbox" and f.items:
            cols |= decode_checkbox_items(raw, f).to_dict("series")
        elif f.field_type == "checkbox":
            cols[f.name] = decode_checkbox_single(raw, f)
        elif f.levels:
            values = raw[f.name].map(f.levels)
            cols[f.name] = pd.Categorical(values, categories=f.level_order(), ordered=True)
        elif f.is_numeric:
            cols[f.name] = pd.to_numeric(raw[f.name]).astype("float64")
        elif date_formats(f.validation):
            cols[f.name] = parse_dates(raw[f.name].fillna(""), date_formats(f.validation))
        else:
            cols[f.name] = raw[f.name].astype("str")
    return pd.DataFrame(cols, index=raw.index)


def coordinator_items(instrument: Instrument) -> list[str]:
    """The analysis items of the coordinator form, in dictionary order."""
    return [i for i, f in instrument.analysis_items().items() if f.form == COORDINATOR_FORM]


def clinic_items(instrument: Instrument) -> list[str]:
    """The analysis items of every other form, in dictionary order."""
    return [i for i, f in instrument.analysis_items().items() if f.form != COORDINATOR_FORM]


def coordinator_disagreements(records: pd.DataFrame, instrument: Instrument) -> pd.Series:
    """For the care system and every coordinator item, how many coordinators' records disagree
    (hold more than one distinct answer, missing answers ignored)."""
    names = [CARE_SYSTEM_ID, *coordinator_items(instrument)]
    distinct = records[names].astype(object).groupby(records[COORDINATOR_ID].to_numpy()).nunique()
    return distinct.gt(1).sum().astype("int64").rename("coordinators")


def split_frames(
    records: pd.DataFrame, instrument: Instrument
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split decoded records into clinics (the identifiers and the clinic items) and coordinators
    (in order of first appearance: ``care_system_id``, ``n_clinics``, the items of the first record).
    """
    ids = [f.name for f in instrument.fields if f.identifier]
    clinics = records[ids + clinic_items(instrument)].reset_index(drop=True)
    first = records.drop_duplicates(subset=COORDINATOR_ID).reset_index(drop=True)
    n = records.groupby(COORDINATOR_ID, sort=False).size()
    coordinators = first[[COORDINATOR_ID, CARE_SYSTEM_ID]].assign(
        n_clinics=n.reindex(first[COORDINATOR_ID]).to_numpy(dtype="int64")
    )
    return clinics, pd.concat([coordinators, first[coordinator_items(instrument)]], axis=1)
