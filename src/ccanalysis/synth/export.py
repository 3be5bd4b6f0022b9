"""The files of the synthetic stand-in: the REDCap raw export, the clinic frame, ``SYNTHETIC.md``.

The export has exactly the columns a REDCap raw export of the data dictionary has, in REDCap's
order (fields by form, ``<form>_complete`` after each form): ids and decimals as text, codes as
nullable integers, a blank where a question was not answered (or not asked, by branching logic).
Coordinator-form answers are repeated on each record of the coordinator. ``SYNTHETIC.md`` says what
the files are, how they were generated (seed, scale, version, checksums) and lists the calibration
notes: where the printed numbers needed missing answers or could not be met.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.instrument import Instrument
from ccanalysis.io import UNCALIBRATED_FILE, write_csv, write_text
from ccanalysis.synth import uncalibrated
from ccanalysis.synth.numeric import grid_of
from ccanalysis.vocab import SYNTHETIC_LABEL, URBAN_MAX_RUCA

#: The files :func:`write` writes, by name.
FILES = {
    "export": "cc_survey_export.csv",
    "frame": "clinic_frame.csv",
    "meta": "SYNTHETIC.md",
    "uncalibrated": UNCALIBRATED_FILE,
}


@dataclass
class SyntheticSurvey:
    """A generated synthetic survey.

    Attributes
    ----------
    export : DataFrame
        The REDCap raw export, columns exactly ``Instrument.export_columns()``; ids and decimals as
        text, codes as nullable integers (blank = not answered).
    frame : DataFrame
        The clinic frame: clinic_id, care_system_id, ruca.
    truth : DataFrame
        clinic_id, care_model (for tests; never written into the export).
    meta : dict
        Seed, scale, counts, generator, version, calibration notes (and the uncalibrated items).
    uncalibrated : DataFrame
        The items no printed number calibrates, each with the distribution it was drawn from.
    """

    export: pd.DataFrame
    frame: pd.DataFrame
    truth: pd.DataFrame
    meta: dict
    #: The items without printed numbers and how they were drawn (``uncalibrated_items.csv``).
    uncalibrated: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(uncalibrated.COLUMNS))
    )


def ids(prefix: str, n: int, min_width: int) -> np.ndarray:
    """``prefix`` + 1..n, zero-padded to at least ``min_width`` digits (``C0001``)."""
    width = max(min_width, len(str(n)))
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


def _nullable(codes: np.ndarray) -> pd.arrays.IntegerArray:
    codes = np.asarray(codes, dtype=np.int64)
    return pd.arrays.IntegerArray(codes, codes < 0)


def _fmt_numbers(v: np.ndarray, dec: int) -> np.ndarray:
    out = np.full(len(v), "", dtype=object)
    ok = ~np.isnan(v)
    if dec == 0:
        out[ok] = np.round(v[ok]).astype(np.int64).astype(str)
    else:
        out[ok] = np.char.mod(f"%.{dec}f", np.round(v[ok], dec))
    return out


def export_frame(
    instrument: Instrument,
    *,
    record_ids: np.ndarray,
    coordinator_ids: np.ndarray,
    system_ids: np.ndarray,
    coord_of: np.ndarray,
    coordinator_form: str,
    fixed: dict[str, np.ndarray],
    level_index: dict[str, np.ndarray],
    also_checked: dict[str, dict[int, np.ndarray]],
    values: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The raw export, one row per clinic record (in the order of ``record_ids``).

    Parameters
    ----------
    coord_of : array
        The coordinator (index into the coordinator arrays) of each record.
    coordinator_form : str
        The form answered once per coordinator: its answers are given per coordinator.
    fixed : dict
        Answer codes per record of fields set by the structure (-1 = blank).
    level_index : dict
        Per item, the index of the answer in the field's choices (-1 = blank); for the boxes of a
        check-all-that-apply question with one item per box, 0 = checked, 1 = not checked.
    also_checked : dict
        Per checkbox field, extra boxes checked besides the one of ``level_index``: choice index ->
        mask.
    values : dict
        Per numeric item, the values (NaN = blank).
    """
    n_cl = len(record_ids)
    data: dict[str, object] = {}
    for colname in instrument.export_columns():
        data[colname] = None
    data[instrument.record_id] = record_ids
    for f in instrument.fields:
        if f.name == instrument.record_id:
            continue
        per_coord = f.form == coordinator_form
        take = coord_of if per_coord else slice(None)
        if f.name == "coordinator_id":
            data[f.name] = coordinator_ids[coord_of]
        elif f.name == "care_system_id":
            data[f.name] = system_ids
        elif f.name in fixed:
            data[f.name] = _nullable(fixed[f.name])
        elif f.field_type == "checkbox" and f.items:
            for code, item in f.items.items():
                colname = f.export_columns()[list(f.choices).index(code)]
                li = level_index.get(item)
                if li is None:
                    data[colname] = _nullable(np.zeros(n_cl, np.int64))
                    continue
                li = li[take]
                data[colname] = _nullable(np.where(li == 0, 1, 0))  # level 0 = yes; blank = 0
        elif f.field_type == "checkbox":
            li = level_index[f.name][take] if f.name in level_index else None
            also = also_checked.get(f.name, {})
            for j, colname in enumerate(f.export_columns()):
                v = np.zeros(n_cl, bool) if li is None else (li == j)
                if j in also:
                    v = v | also[j][take]
                data[colname] = _nullable(v.astype(np.int64))
        elif f.is_numeric:
            if f.name in values:
                v = values[f.name][take]
                _step, dec = grid_of(f)
                data[f.name] = _fmt_numbers(v, dec)
            else:
                data[f.name] = np.full(n_cl, "", dtype=object)
        elif f.field_type in {"radio", "dropdown", "yesno", "truefalse"}:
            if f.name in level_index:
                li = level_index[f.name][take]
                codes = np.array([int(c) for c in f.choices], dtype=np.int64)
                data[f.name] = _nullable(np.where(li >= 0, codes[np.maximum(li, 0)], -1))
            else:
                data[f.name] = _nullable(np.full(n_cl, -1, np.int64))
        else:
            data[f.name] = np.full(n_cl, "", dtype=object)
    for form in instrument.forms:
        data[f"{form}_complete"] = _nullable(np.full(n_cl, 2, np.int64))
    return pd.DataFrame(data, columns=instrument.export_columns())


def write(survey: SyntheticSurvey, outdir: str | Path) -> dict[str, Path]:
    """Write ``cc_survey_export.csv``, ``clinic_frame.csv`` and ``SYNTHETIC.md`` atomically.

    Returns the paths written, by name.
    """
    outdir = Path(outdir)
    paths = {
        "export": write_csv(survey.export, outdir / FILES["export"]),
        "frame": write_csv(survey.frame, outdir / FILES["frame"]),
    }
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()}
    meta = dict(survey.meta)
    meta["files_sha256"] = digests
    paths["meta"] = write_text(outdir / FILES["meta"], _readme(meta, survey.uncalibrated))
    paths["uncalibrated"] = write_csv(survey.uncalibrated, outdir / FILES["uncalibrated"])
    return paths


def _readme(meta: dict, flagged: pd.DataFrame) -> str:
    """The text of ``SYNTHETIC.md``."""
    extra = []
    if "uncalibrated_items" in meta:
        extra = [
            "## Uncalibrated items (no printed numbers: drawn as declared, not calibrated)",
            "",
            f"Listed with their distributions in `{FILES['uncalibrated']}`, for the tables to footnote.",
            "",
            *[
                f"- `{r.item}` (per {r.unit}): {r.distribution} [{r.source}]"
                for r in flagged.itertuples(index=False)
            ],
            *[f"- {n}" for n in meta["uncalibrated_notes"]],
            "",
        ]
    return "\n".join(
        [
            "# SYNTHETIC DATA",
            "",
            SYNTHETIC_LABEL + ".",
            "",
            "These files are NOT the study's data. They were generated by `ccanalysis.synth` (see its",
            "module docstring for the modelling rules) so that the analysis reproduces every number",
            "printed in Tables 1-4 of Solberg et al. 2024 to the printed precision (at scale 1).",
            "",
            f"- generator: `python -m ccanalysis.synth --seed {meta['seed']} --scale {meta['scale']}`",
            f"- package version: {meta['package_version']}",
            f"- seed: {meta['seed']}; scale: {meta['scale']}",
            f"- clinics: {meta['clinics']}; coordinators: {meta['coordinators']}; "
            f"care systems: {meta['care_systems']}",
            "- files: `cc_survey_export.csv` (REDCap raw export), `clinic_frame.csv` "
            "(clinic_id, care_system_id, ruca)",
            "",
            "## Calibration notes (item nonresponse needed by the printed numbers)",
            "",
            *[f"- {n}" for n in meta["calibration_notes"]],
            "",
            *extra,
            "## Metadata",
            "",
            "```json",
            json.dumps(meta, indent=2, sort_keys=True),
            "```",
            "",
        ]
    )


def summary(survey: SyntheticSurvey) -> pd.DataFrame:
    """Clinics, coordinators and care systems generated, by care model (from the truth table)."""
    truth = survey.truth.merge(survey.frame, on="clinic_id")
    export = survey.export.set_index("record_id")
    truth["coordinator_id"] = export.loc[truth["clinic_id"], "coordinator_id"].to_numpy()
    rows = []
    for model, part in [("all", truth), *truth.groupby("care_model", sort=True)]:
        rows.append(
            {
                "care_model": model,
                "clinics": len(part),
                "coordinators": part["coordinator_id"].nunique(),
                "care_systems": part["care_system_id"].nunique(),
                "urban_pct": round(100 * float((part["ruca"] <= URBAN_MAX_RUCA).mean()), 1),
            }
        )
    return pd.DataFrame(rows)
