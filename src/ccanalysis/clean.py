"""Stage 01: join the decoded export with the clinic frame, derive rurality and system size.

``run(paths, params)`` reads the export, the dictionary and the clinic frame, validates all of them,
and only then writes ``clinics_clean.parquet``, ``coordinators_clean.parquet`` and
``cleaning_log.csv`` (all three atomically: on any error nothing is written). Everything else here is
a pure function of frames.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ccanalysis.errors import ValidationError
from ccanalysis.instrument import (
    CARE_SYSTEM_ID,
    COORDINATOR_FORM,
    COORDINATOR_ID,
    Instrument,
    clinic_items,
    coordinator_disagreements,
    coordinator_items,
    read_dictionary,
    read_export_with_stats,
    read_rows,
    split_frames,
)
from ccanalysis.io import atomic_path
from ccanalysis.paths import Paths
from ccanalysis.privacy import suppress_small
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import (
    MEDIUM_MAX,
    RUCA_MAX,
    RUCA_MIN,
    SMALL_MAX,
    SYSTEM_SIZES,
    URBAN_MAX_RUCA,
)

FRAME_COLUMNS: tuple[str, ...] = ("clinic_id", "care_system_id", "ruca")
OUTPUT_FILES: dict[str, str] = {
    "clinics": "clinics_clean.parquet",
    "coordinators": "coordinators_clean.parquet",
    "log": "cleaning_log.csv",
}
LOG_COLUMNS: tuple[str, ...] = ("section", "item", "measure", "value")

_INTEGER = re.compile(r"^[+-]?\d+$")


class Cleaned(NamedTuple):
    """The cleaned clinic and coordinator frames and the cleaning log."""

    clinics: pd.DataFrame
    coordinators: pd.DataFrame
    log: pd.DataFrame


# ----------------------------------------------------------------------------------------------
# The clinic frame


def _first_bad(frame: pd.DataFrame, bad: pd.Series, source: str, field: str, problem: str) -> None:
    if bad.any():
        line = int(frame.index[bad.to_numpy()][0])
        n = int(bad.sum()) - 1
        more = f" ({n} other row{'s' if n != 1 else ''} too)" if n else ""
        raise ValidationError(
            source,
            frame.at[line, "clinic_id"] or f"(no id, line {line})",
            field,
            frame.at[line, field],
            f"{problem} on line {line}{more}",
        )


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read the clinic frame CSV (``clinic_id,care_system_id,ruca``; other columns are ignored).

    Returns
    -------
    DataFrame
        ``clinic_id`` and ``care_system_id`` (str), ``ruca`` (int64, 1-10), in file order.

    Raises
    ------
    ValidationError
        For a missing column, an empty or repeated clinic id, an empty care system, a RUCA code that
        is not an integer or is outside 1-10.
    """
    source = str(path)
    header, rows = read_rows(path)
    missing = [c for c in FRAME_COLUMNS if c not in header]
    if missing:
        raise ValidationError(
            source, None, missing[0], None, f"the clinic frame lacks the column {missing[0]!r}"
        )
    rows.columns = header
    frame = rows[list(FRAME_COLUMNS)].map(str.strip).astype(object)
    if frame.empty:
        raise ValidationError(source, None, None, None, "the clinic frame has no clinics")
    _first_bad(frame, frame["clinic_id"].eq(""), source, "clinic_id", "empty clinic id")
    _first_bad(
        frame,
        frame["clinic_id"].duplicated(),
        source,
        "clinic_id",
        "the clinic appears twice in the frame",
    )
    _first_bad(frame, frame["care_system_id"].eq(""), source, "care_system_id", "empty care system")
    ruca = frame["ruca"]
    is_int = ruca.map(lambda v: bool(_INTEGER.match(v)))
    _first_bad(frame, ~is_int, source, "ruca", "the RUCA code is not an integer")
    codes = ruca.astype("int64")
    _first_bad(
        frame,
        ~codes.between(RUCA_MIN, RUCA_MAX),
        source,
        "ruca",
        f"the RUCA code is outside {RUCA_MIN}-{RUCA_MAX}",
    )
    return pd.DataFrame(
        {
            "clinic_id": frame["clinic_id"].astype("str"),
            "care_system_id": frame["care_system_id"].astype("str"),
            "ruca": codes,
        }
    ).reset_index(drop=True)


# ----------------------------------------------------------------------------------------------
# Derivations


def urban_from_ruca(ruca: pd.Series) -> pd.Series:
    """Urban (metropolitan) is RUCA 1-3; 4-10 is rural."""
    return ruca.le(URBAN_MAX_RUCA).astype(bool)


def size_category(n_clinics: pd.Series) -> pd.Series:
    """Care-system size from its number of clinics: small 1-2, medium 3-9, large >9."""
    labels = np.select(
        [n_clinics.le(SMALL_MAX), n_clinics.le(MEDIUM_MAX)], ["small", "medium"], "large"
    )
    return pd.Series(
        pd.Categorical(labels, categories=list(SYSTEM_SIZES), ordered=True), index=n_clinics.index
    )


def system_sizes(frame: pd.DataFrame) -> pd.Series:
    """The size category of every care system, counting its clinics in the frame."""
    counts = frame.groupby("care_system_id", sort=True).size()
    return size_category(counts)


# ----------------------------------------------------------------------------------------------
# Joining


def check_against_frame(
    clinics: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    export_name: str = "<export>",
    frame_name: str = "<frame>",
    record_id: str = "record_id",
) -> None:
    """Every export record must be a clinic of the frame, in the same care system."""
    known = clinics[record_id].isin(frame["clinic_id"])
    if not known.all():
        first = clinics.loc[~known, record_id].iloc[0]
        n = int((~known).sum()) - 1
        raise ValidationError(
            export_name,
            first,
            record_id,
            first,
            f"the clinic is not in the clinic frame {frame_name}"
            + (f" ({n} other record{'s' if n != 1 else ''} too)" if n else ""),
        )
    system = clinics[record_id].map(frame.set_index("clinic_id")["care_system_id"])
    differ = clinics[CARE_SYSTEM_ID].astype(object).ne(system.astype(object))
    if differ.any():
        pos = int(np.flatnonzero(differ.to_numpy())[0])
        n = int(differ.sum()) - 1
        raise ValidationError(
            export_name,
            clinics[record_id].iloc[pos],
            CARE_SYSTEM_ID,
            clinics[CARE_SYSTEM_ID].iloc[pos],
            f"the care system disagrees with the clinic frame {frame_name}, which gives "
            f"{system.iloc[pos]!r}"
            + (f" ({n} other record{'s' if n != 1 else ''} too)" if n else ""),
        )


def attach_frame(
    clinics: pd.DataFrame,
    frame: pd.DataFrame,
    instrument: Instrument,
    *,
    export_name: str = "<export>",
    frame_name: str = "<frame>",
    form: str = COORDINATOR_FORM,
) -> pd.DataFrame:
    """The cleaned clinic frame: clinic_id, coordinator_id, care_system_id, ruca, urban,
    system_size, then the clinic items in dictionary order."""
    rid = instrument.record_id
    check_against_frame(
        clinics, frame, export_name=export_name, frame_name=frame_name, record_id=rid
    )
    ruca = clinics[rid].map(frame.set_index("clinic_id")["ruca"]).astype("int64")
    sizes = system_sizes(frame)
    out = pd.DataFrame(
        {
            "clinic_id": clinics[rid].astype("str"),
            COORDINATOR_ID: clinics[COORDINATOR_ID].astype("str"),
            CARE_SYSTEM_ID: clinics[CARE_SYSTEM_ID].astype("str"),
            "ruca": ruca,
            "urban": urban_from_ruca(ruca),
            "system_size": pd.Categorical(
                clinics[CARE_SYSTEM_ID].map(sizes.astype(object)),
                categories=list(SYSTEM_SIZES),
                ordered=True,
            ),
        }
    )
    items = clinic_items(instrument, form)
    return pd.concat([out, clinics[items]], axis=1)


# ----------------------------------------------------------------------------------------------
# The cleaning log


def _rows(section: str, counts: dict[str, int], measure: str) -> list[dict[str, object]]:
    return [
        {"section": section, "item": k, "measure": measure, "value": int(v)}
        for k, v in counts.items()
    ]


def checkbox_blank(records: pd.DataFrame, instrument: Instrument) -> dict[str, int]:
    """For every checkbox question, how many records have no box checked."""
    out: dict[str, int] = {}
    for f in instrument.fields:
        if f.field_type != "checkbox":
            continue
        cols = list(f.items.values()) or [f.name]
        out[f.name] = int(records[cols].isna().all(axis=1).sum())
    return out


def cleaning_log(
    records: pd.DataFrame,
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame,
    frame: pd.DataFrame,
    instrument: Instrument,
    *,
    missing_codes: int = 0,
    form: str = COORDINATOR_FORM,
) -> pd.DataFrame:
    """The cleaning log, long: ``section, item, measure, value`` (value int64).

    Sections: ``counts`` (records read, clinics, coordinators, care systems, clinics and care
    systems of the frame), ``missing_answers`` (per item: clinic items over clinics, coordinator
    items over coordinators), ``checkbox_blank`` (per checkbox question: records with no box
    checked), ``coordinator_disagreement`` (per coordinator item: coordinators whose records give
    different answers), ``validation`` (values rejected, missing-data codes read as missing).
    """
    counts = {
        "records_read": len(records),
        "clinics": len(clinics),
        "coordinators": len(coordinators),
        "care_systems": clinics[CARE_SYSTEM_ID].nunique(),
        "frame_clinics": len(frame),
        "frame_care_systems": frame["care_system_id"].nunique(),
    }
    rows = [
        {"section": "counts", "item": "", "measure": k, "value": int(v)} for k, v in counts.items()
    ]
    missing = {i: int(clinics[i].isna().sum()) for i in clinic_items(instrument, form)}
    missing |= {i: int(coordinators[i].isna().sum()) for i in coordinator_items(instrument, form)}
    order = list(instrument.analysis_items())
    rows += _rows("missing_answers", {i: missing[i] for i in order if i in missing}, "missing")
    rows += _rows("checkbox_blank", checkbox_blank(records, instrument), "records")
    rows += _rows(
        "coordinator_disagreement",
        coordinator_disagreements(records, instrument, form).to_dict(),
        "coordinators",
    )
    rows += _rows("validation", {"": 0}, "values_rejected")
    rows += _rows("validation", {"": missing_codes}, "missing_codes_read_as_missing")
    log = pd.DataFrame(rows, columns=list(LOG_COLUMNS))
    log["value"] = log["value"].astype("int64")
    return log


def format_log(log: pd.DataFrame) -> str:
    """The cleaning log as plain text, one block per section."""
    lines: list[str] = []
    width = max(
        (len(f"{i} {m}") for i, m in zip(log["item"], log["measure"], strict=True)), default=0
    )
    for section, block in log.groupby("section", sort=False):
        lines.append(f"{section}:")
        for item, measure, value in block[["item", "measure", "value"]].itertuples(index=False):
            name = f"{item} {measure}".strip()
            lines.append(f"  {name:<{width}}  {value:>6}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# The stage


def clean(
    records: pd.DataFrame,
    frame: pd.DataFrame,
    instrument: Instrument,
    *,
    export_name: str = "<export>",
    frame_name: str = "<frame>",
    missing_codes: int = 0,
) -> Cleaned:
    """Join decoded export records with the clinic frame (pure; raises ``ValidationError``).

    Returns
    -------
    Cleaned
        ``clinics`` (see :func:`attach_frame`), ``coordinators`` (coordinator_id, care_system_id,
        n_clinics, coordinator items; see :func:`ccanalysis.instrument.split_frames`) and ``log``.
    """
    clinic_part, coordinators = split_frames(records, instrument)
    clinics = attach_frame(
        clinic_part, frame, instrument, export_name=export_name, frame_name=frame_name
    )
    log = cleaning_log(
        records, clinics, coordinators, frame, instrument, missing_codes=missing_codes
    )
    return Cleaned(clinics, coordinators, log)


def clean_files(
    export: str | Path,
    dictionary: str | Path,
    frame: str | Path,
    *,
    missing_codes: tuple[str, ...] = (),
    labels: bool | None = None,
) -> Cleaned:
    """Read and validate the three inputs, then :func:`clean` them. Nothing is written."""
    instrument = read_dictionary(dictionary)
    records, stats = read_export_with_stats(
        export, instrument, missing_codes=missing_codes, labels=labels
    )
    clinic_frame = read_frame(frame)
    return clean(
        records,
        clinic_frame,
        instrument,
        export_name=str(export),
        frame_name=str(frame),
        missing_codes=stats.missing_codes,
    )


def write_outputs(result: Cleaned, outdir: str | Path) -> dict[str, Path]:
    """Write the three outputs of :func:`clean` into ``outdir``, all or nothing (atomically)."""
    outdir = Path(outdir)
    files = {key: outdir / name for key, name in OUTPUT_FILES.items()}
    with ExitStack() as stack:
        tmp = {key: stack.enter_context(atomic_path(p)) for key, p in files.items()}
        result.clinics.to_parquet(tmp["clinics"], index=False, engine="pyarrow")
        result.coordinators.to_parquet(tmp["coordinators"], index=False, engine="pyarrow")
        result.log.to_csv(tmp["log"], index=False, lineterminator="\n")
    return files


def strata_table(clinics: pd.DataFrame) -> pd.DataFrame:
    """Clinics by care-system size and rurality, with margins (the sensitivity analysis' strata)."""
    rurality = clinics["urban"].map({True: "urban", False: "rural"})
    return pd.crosstab(clinics["system_size"], rurality, margins=True)


def missing_table(log: pd.DataFrame) -> pd.DataFrame:
    """Items with missing answers, blank checkbox questions or disagreeing coordinators (wide)."""
    sections = ["missing_answers", "checkbox_blank", "coordinator_disagreement"]
    rows = log[log["section"].isin(sections) & (log["value"] > 0)]
    return rows.pivot_table(
        index="item", columns="section", values="value", aggfunc="sum", fill_value=0
    )


def run(paths: Paths, params: Params) -> Artifacts:
    """Stage 01: clean the run's export, dictionary and clinic frame into ``paths.processed``.

    Everything is read and validated before anything is written; the three outputs are then
    written all or nothing. ``results`` holds the cleaned frames and the log, and for display the
    log's counts as text (``summary``), the strata (``strata``) and the items with missing answers
    (``missing``), small cells suppressed in privacy mode.
    """
    result = clean_files(paths.export, paths.dictionary, paths.frame)
    files = write_outputs(result, paths.processed)
    log = result.log
    small = params.suppress_below
    return Artifacts(
        files,
        clinics=result.clinics,
        coordinators=result.coordinators,
        log=log,
        summary=format_log(log[log["section"].isin(["counts", "validation"])]),
        strata=suppress_small(strata_table(result.clinics), small),
        missing=suppress_small(missing_table(log), small),
    )
