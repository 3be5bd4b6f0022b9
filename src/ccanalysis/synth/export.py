"""The files of the stand-in: the REDCap raw export, the clinic frame, ``SYNTHETIC.md`` and
``uncalibrated_items.csv``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.instrument import Instrument
from ccanalysis.io import UNCALIBRATED_FILE, write_csv, write_text
from ccanalysis.paths import DEFAULT_EXPORT, DEFAULT_FRAME
from ccanalysis.synth.numeric import grid_of
from ccanalysis.vocab import SYNTHETIC_LABEL, URBAN_MAX_RUCA


@dataclass
class SyntheticSurvey:
    """A generated survey; ``truth`` (care model by clinic) is never exported."""

    export: pd.DataFrame
    frame: pd.DataFrame
    truth: pd.DataFrame
    meta: dict
    uncalibrated: pd.DataFrame


def ids(prefix: str, n: int, min_width: int) -> np.ndarray:
    """``prefix`` + 1..n, zero-padded to at least ``min_width`` digits (``C0001``)."""
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), max(min_width, len(str(n))))
    return np.char.add(prefix, digits).astype(object)


def _text(v: np.ndarray, dec: int) -> np.ndarray:
    """Numbers as REDCap exports them (``dec`` decimals), blank where NaN."""
    out = np.full(len(v), "", dtype=object)
    ok = ~np.isnan(v)
    if dec == 0:
        out[ok] = np.round(v[ok]).astype(np.int64).astype(str)
    else:
        out[ok] = np.char.mod(f"%.{dec}f", np.round(v[ok], dec))
    return out


def export_frame(
    instrument: Instrument,
    coord_of: np.ndarray,
    coordinator_form: str,
    fixed: dict[str, np.ndarray],
    level_index: dict[str, np.ndarray],
    also_checked: dict[str, dict[int, np.ndarray]],
    values: dict[str, np.ndarray],
) -> pd.DataFrame:
    """The raw export: ``fixed`` ids and codes, choice indices, boxes, values (-1, NaN: blank)."""
    n = len(coord_of)
    data: dict[str, object] = dict.fromkeys(instrument.export_columns())
    for f in instrument.fields:
        take = coord_of if f.form == coordinator_form else slice(None)
        li = level_index[f.name][take] if f.name in level_index else None
        if f.name in fixed:  # ids as text, codes
            data[f.name] = fixed[f.name]
        elif f.field_type == "checkbox" and f.items:
            for code, item in f.items.items():
                col = f.export_columns()[list(f.choices).index(code)]
                box = level_index[item][take] == 0 if item in level_index else np.zeros(n, bool)
                data[col] = box.astype(np.int64)  # blank: unchecked
        elif f.field_type == "checkbox":
            also = also_checked.get(f.name, {})
            for j, col in enumerate(f.export_columns()):
                v = np.zeros(n, bool) if li is None else (li == j)
                data[col] = (v | also[j][take] if j in also else v).astype(np.int64)
        elif f.is_numeric:
            v = values[f.name][take] if f.name in values else np.full(n, np.nan)
            data[f.name] = _text(v, grid_of(f)[1])
        elif f.field_type in {"radio", "dropdown", "yesno", "truefalse"}:
            codes = np.array([int(c) for c in f.choices], dtype=np.int64)
            li = np.full(n, -1, np.int64) if li is None else li
            data[f.name] = np.where(li >= 0, codes[np.maximum(li, 0)], -1)
        else:
            data[f.name] = np.full(n, "", dtype=object)
    for form in instrument.forms:
        data[f"{form}_complete"] = np.full(n, 2, np.int64)
    export = pd.DataFrame(data, columns=instrument.export_columns())
    codes = export.select_dtypes("int64").columns  # as nullable integers, -1 blank
    export[codes] = export[codes].mask(export[codes] < 0).astype("Int64")
    return export


def write(survey: SyntheticSurvey, outdir: str | Path) -> dict[str, Path]:
    """Write the four files (atomically); the paths written, by name."""
    outdir = Path(outdir)
    paths = {
        "export": write_csv(survey.export, outdir / DEFAULT_EXPORT.name),
        "frame": write_csv(survey.frame, outdir / DEFAULT_FRAME.name),
    }
    sha = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()}
    meta = {**survey.meta, "files_sha256": sha}
    paths["meta"] = write_text(outdir / "SYNTHETIC.md", _readme(meta, survey.uncalibrated))
    paths["uncalibrated"] = write_csv(survey.uncalibrated, outdir / UNCALIBRATED_FILE)
    return paths


def _readme(meta: dict, flagged: pd.DataFrame) -> str:
    """The text of ``SYNTHETIC.md``."""
    by = meta["care_systems_by_model"]
    notes = "".join(f"- {n}\n" for n in meta["calibration_notes"])
    extra = ""
    if "uncalibrated_items" in meta:
        rows = flagged.itertuples(index=False)
        listed = [f"- `{r.item}` (per {r.unit}): {r.distribution} [{r.source}]" for r in rows]
        listed += [f"- {n}" for n in meta["uncalibrated_notes"]]
        listed_text = "".join(f"{line}\n" for line in listed)
        extra = f"""## Uncalibrated items (no printed numbers: drawn as declared, not calibrated)

Listed with their distributions in `{UNCALIBRATED_FILE}`, for the tables to footnote.

{listed_text}
"""
    return f"""# SYNTHETIC DATA

{SYNTHETIC_LABEL}.

These files are NOT the study's data. They were generated by `ccanalysis.synth` (see its
module docstring for the modelling rules) so that the analysis reproduces every number
printed in Tables 1-4 of Solberg et al. 2024 to the printed precision (at scale 1).

- generator: `python -m ccanalysis.synth --seed {meta["seed"]} --scale {meta["scale"]}`
- package version: {meta["package_version"]}
- seed: {meta["seed"]}; scale: {meta["scale"]}
- clinics: {meta["clinics"]}; coordinators: {meta["coordinators"]}; care systems: {meta["care_systems"]}
- files: `cc_survey_export.csv` (REDCap raw export), `clinic_frame.csv` (clinic_id, care_system_id, ruca)

## Design assumed: care models within care systems

Of the {meta["care_systems"]} care systems, {by["integrated_sw"]} are all integrated, {by["medical_nursing"]} all medical/nursing and {by["mixed"]} mixed; the mixed ones hold {meta["clinics_in_mixed_systems"]} of the {meta["clinics"]} clinics and every coordinator reporting on both models.
Why: the paper does not say how care models sit in care systems; the one source that
does, the MNCARES organizational survey (study update slides), counts 22 medical, 19
medical/social and 2 mixed organizations of 43, the mixed ones holding 48 of 322 clinics
(15%). The stand-in keeps that: 2 mixed systems with 15% of the clinics, every other
system of one model, small systems more often medical/nursing (the paper's text). The
number of all-integrated systems follows from the printed 139 integrated clinics.
Within a care system the clinic items correlate: each item's latent shares {meta["system_share_of_latent"]} of its coordinator part with the system (an assumption: no source prints a within-system correlation); a coordinator's clinics answer alike.

## Calibration notes (item nonresponse needed by the printed numbers)

{notes}
{extra}## Metadata

```json
{json.dumps(meta, indent=2, sort_keys=True)}
```
"""


def summary(survey: SyntheticSurvey) -> pd.DataFrame:
    """Clinics, coordinators, care systems and the urban share, in all and by care model."""
    clinics = survey.frame.assign(  # the three frames in clinic order
        care_model=survey.truth["care_model"], coordinator_id=survey.export["coordinator_id"]
    )
    parts = [("all", clinics), *clinics.groupby("care_model", sort=True)]
    return pd.DataFrame(
        {
            "care_model": model,
            "clinics": len(part),
            "coordinators": part["coordinator_id"].nunique(),
            "care_systems": part["care_system_id"].nunique(),
            "urban_pct": round(100 * float((part["ruca"] <= URBAN_MAX_RUCA).mean()), 1),
        }
        for model, part in parts
    )
