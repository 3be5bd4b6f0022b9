"""Stage 01: the decoded export joined with the clinic frame; rurality and care-system size derived.
Everything is checked before the three outputs are written, all or nothing.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ccanalysis.errors import ValidationError, others
from ccanalysis.instrument import (
    CARE_SYSTEM_ID,
    COORDINATOR_ID,
    Instrument,
    ReadStats,
    clinic_items,
    coordinator_disagreements,
    read_dictionary,
    read_export_with_stats,
    split_frames,
)
from ccanalysis.io import atomic_path
from ccanalysis.paths import Paths
from ccanalysis.privacy import suppress_small
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import MEDIUM_MAX, RUCA_MAX, RUCA_MIN, SMALL_MAX, SYSTEM_SIZES, URBAN_MAX_RUCA

FRAME_COLUMNS: tuple[str, ...] = ("clinic_id", "care_system_id", "ruca")
LOG_COLUMNS = ("section", "item", "measure", "value")
OUTPUT_FILES: dict[str, str] = {
    "clinics": "clinics_clean.parquet",
    "coordinators": "coordinators_clean.parquet",
    "log": "cleaning_log.csv",
}


class Cleaned(NamedTuple):
    """The cleaned clinic and coordinator frames and the cleaning log."""

    clinics: pd.DataFrame
    coordinators: pd.DataFrame
    log: pd.DataFrame


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read the clinic frame (``clinic_id,care_system_id,ruca``; other columns ignored): ids as
    strings, ``ruca`` an int64 of 1-10; raises ``ValidationError`` naming the first bad row."""
    source = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError(
            source, None, None, None, f"the file is empty or not a CSV: {exc}"
        ) from None
    missing = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationError(
            source, None, missing[0], None, f"the clinic frame lacks the column {missing[0]!r}"
        )
    if frame.empty:
        raise ValidationError(source, None, None, None, "the clinic frame has no clinics")
    frame = frame[list(FRAME_COLUMNS)].fillna("").apply(lambda col: col.str.strip())
    ruca = pd.to_numeric(frame["ruca"].where(frame["ruca"].str.fullmatch(r"[+-]?\d+")))
    checks = [
        ("clinic_id", frame["clinic_id"].eq(""), "empty clinic id"),
        ("clinic_id", frame["clinic_id"].duplicated(), "the clinic appears twice in the frame"),
        ("care_system_id", frame["care_system_id"].eq(""), "empty care system"),
        ("ruca", ruca.isna(), "the RUCA code is not an integer"),
        (
            "ruca",
            ~ruca.between(RUCA_MIN, RUCA_MAX),
            f"the RUCA code is outside {RUCA_MIN}-{RUCA_MAX}",
        ),
    ]
    for field, bad, problem in checks:
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise ValidationError(
                source,
                frame["clinic_id"].iat[row] or f"(no id, line {row + 2})",
                field,
                frame[field].iat[row],
                f"{problem} on line {row + 2}" + others(int(bad.sum()) - 1, "row"),
            )
    return frame.assign(ruca=ruca.astype("int64"))


def size_category(n_clinics: pd.Series) -> pd.Series:
    """Care-system size from its number of clinics: small 1-2, medium 3-9, large >9."""
    bins = [0, SMALL_MAX, MEDIUM_MAX, float("inf")]
    return pd.cut(n_clinics, bins, labels=list(SYSTEM_SIZES), ordered=True)


def cleaning_log(
    records: pd.DataFrame,
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame,
    frame: pd.DataFrame,
    instrument: Instrument,
    *,
    stats: ReadStats,
) -> pd.DataFrame:
    """The cleaning log, long (``section, item, measure, value``): counts, missing answers, blank
    checkbox questions, coordinator disagreements and what the reader's ``stats`` saw (one row per
    value outside its range, measure: action, record, line and value)."""
    counts = {
        "records_read": len(records),
        "clinics": len(clinics),
        "coordinators": len(coordinators),
        "care_systems": clinics[CARE_SYSTEM_ID].nunique(),
        "frame_clinics": len(frame),
        "frame_care_systems": frame["care_system_id"].nunique(),
    }
    items = list(instrument.analysis_items())
    missing = pd.concat([clinics.isna().sum(), coordinators.isna().sum()])[items]
    blank = {
        f.name: records[list(f.items.values()) or [f.name]].isna().all(axis=1).sum()
        for f in instrument.fields
        if f.field_type == "checkbox"
    }
    disagreements = coordinator_disagreements(records, instrument)
    out, codes, events = stats.out_of_range, stats.codes, stats.other_events
    where = out["action"] + ": record " + out["record"] + ", line " + out["line"].astype(str)
    sections = [  # section, item, measure, value
        ("counts", "", list(counts), list(counts.values())),
        ("missing_answers", items, "missing", missing.to_numpy()),
        ("checkbox_blank", list(blank), "records", list(blank.values())),
        ("coordinator_disagreement", disagreements.index, "coordinators", disagreements),
        (
            "validation",
            "",
            ["values_rejected", "missing_codes_read_as_missing"],
            [0, stats.missing_codes],
        ),
        ("event_left_out", events.index, "rows", events),
        ("missing_code", codes["field"], codes["code"], codes["n"]),
        ("out_of_range", out["field"], where + ", value " + out["value"], 1),
    ]
    parts = [pd.DataFrame(dict(zip(LOG_COLUMNS, section, strict=True))) for section in sections]
    return pd.concat([part for part in parts if len(part)], ignore_index=True)


def clean(
    records: pd.DataFrame,
    frame: pd.DataFrame,
    instrument: Instrument,
    *,
    export_name: str = "<export>",
    frame_name: str = "<frame>",
    stats: ReadStats,
) -> Cleaned:
    """Join decoded export records with the clinic frame: the clinics (ids, ruca, urban,
    system_size of the care system's clinics in the frame, then the clinic items), the coordinators
    and the log (with what the reader's ``stats`` saw). Every record must be a clinic of the frame,
    in its care system; raises ``ValidationError``."""
    clinics, coordinators = split_frames(records, instrument)
    rid = instrument.record_id
    of_frame = frame.set_index("clinic_id").reindex(clinics[rid])
    system = of_frame["care_system_id"].to_numpy()
    unknown = of_frame["ruca"].isna().to_numpy()
    checks = {rid: unknown, CARE_SYSTEM_ID: ~unknown & (system != clinics[CARE_SYSTEM_ID])}
    for field, bad in checks.items():
        if bad.any():
            row = int(bad.argmax())
            problem = (
                f"the clinic is not in the clinic frame {frame_name}"
                if field == rid
                else f"the care system disagrees with the clinic frame {frame_name}, which gives "
                f"{system[row]!r}"
            )
            raise ValidationError(
                export_name,
                clinics[rid].iat[row],
                field,
                clinics[field].iat[row],
                problem + others(int(bad.sum()) - 1, "record"),
            )
    sizes = size_category(frame.groupby("care_system_id").size())
    ruca = of_frame["ruca"].to_numpy(dtype="int64")
    out = pd.DataFrame(
        {
            "clinic_id": clinics[rid],
            COORDINATOR_ID: clinics[COORDINATOR_ID],
            CARE_SYSTEM_ID: clinics[CARE_SYSTEM_ID],
            "ruca": ruca,
            "urban": ruca <= URBAN_MAX_RUCA,  # metropolitan: RUCA 1-3
            "system_size": sizes.reindex(clinics[CARE_SYSTEM_ID]).array,
        }
    )
    clinics = pd.concat([out, clinics[clinic_items(instrument)]], axis=1)
    log = cleaning_log(records, clinics, coordinators, frame, instrument, stats=stats)
    return Cleaned(clinics, coordinators, log)


def write_outputs(result: Cleaned, outdir: str | Path) -> dict[str, Path]:
    """Write the three outputs of :func:`clean` into ``outdir``, all or nothing (atomically)."""
    files = {key: Path(outdir) / name for key, name in OUTPUT_FILES.items()}
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


def reading_table(log: pd.DataFrame, privacy: bool) -> pd.DataFrame:
    """What reading the export changed (log sections ``missing_code``, ``event_left_out``,
    ``out_of_range``); in privacy mode counted by field and action, no record or value shown."""
    rows = log[log["section"].isin(["missing_code", "event_left_out", "out_of_range"])]
    if privacy:
        action = rows["measure"].str.split(":").str[0]
        rows = rows.assign(
            measure=action.where(rows["section"].eq("out_of_range"), rows["measure"])
        )
        rows = rows.groupby(["section", "item", "measure"], sort=False, as_index=False).sum()
    return rows.reset_index(drop=True)


def run(paths: Paths, params: Params) -> Artifacts:
    """Stage 01: read and check every input, then write the three outputs all or nothing;
    ``results`` holds the frames, the log and the displays."""
    instrument = read_dictionary(paths.dictionary)
    records, stats = read_export_with_stats(
        paths.export,
        instrument,
        missing_codes=params.missing_codes,
        labels=params.labels,
        event=params.event,
        out_of_range=params.out_of_range,
    )
    frame = read_frame(paths.frame)
    result = clean(
        records,
        frame,
        instrument,
        export_name=str(paths.export),
        frame_name=str(paths.frame),
        stats=stats,
    )
    files = write_outputs(result, paths.processed)
    small = params.suppress_below
    return Artifacts(
        files,
        clinics=result.clinics,
        coordinators=result.coordinators,
        log=result.log,
        strata=suppress_small(strata_table(result.clinics), small),
        missing=suppress_small(missing_table(result.log), small),
        reading=suppress_small(reading_table(result.log, params.privacy), small),
    )
