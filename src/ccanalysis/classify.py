"""Care model classification (the paper's Table 2), under the paper's definition or an alternative.

A clinic uses the integrated social worker model when every criterion of its definition is answered
yes (a missing answer is not yes), else the medical/nursing model. A system-level definition
classifies care systems (all integrated, none, or ``mixed``: clinics in neither group, as in the
deck's charts). The outputs of an alternative (:data:`DEFINITIONS`) carry its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ccanalysis.instrument import CARE_SYSTEM_ID
from ccanalysis.io import write_csv, write_parquet
from ccanalysis.paths import Paths
from ccanalysis.privacy import suppress_small
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import (
    CARE_MODELS,
    CLINIC_GROUPS,
    COORDINATOR_GROUPS,
    CRITERIA,
    DEFAULT_DEFINITION,
    MODEL_GROUP,
)

ISW_MODEL = {"integrated_sw": "yes", "medical_nursing": "no"}

#: A care system's model in the system-level view (``system_model``).
SYSTEM_MODELS: tuple[str, ...] = (*CARE_MODELS, "mixed")
#: Columns a classification adds to the clinic frame (replaced when a frame is classified again).
CLASS_COLUMNS: tuple[str, ...] = ("isw_model", "care_model", "group", "system_model", "definition")
#: How a clinic with no care model (a clinic of a mixed care system) is counted.
UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class Definition:
    """A care model definition: integrated when every one of ``criteria`` is answered yes, clinic
    by clinic or (``level="system"``) care system by care system."""

    id: str
    label: str
    criteria: tuple[str, ...]
    level: str = "clinic"


#: The care model definitions by id; the first, the paper's, is the default.
DEFINITIONS: dict[str, Definition] = {
    d.id: d
    for d in (
        Definition(
            DEFAULT_DEFINITION, "The paper's four criteria (Table 2), all answered yes", CRITERIA
        ),
        Definition(
            "sw_on_team",
            "A social worker on the care coordination team (criterion 1 only)",
            CRITERIA[:1],
        ),
        Definition(
            "sw_roles",
            "A social worker on the team who assesses and coordinates social services "
            "(criteria 1 and 2)",
            CRITERIA[:2],
        ),
        # the deck's third condition, "interacts with both patients and clinicians", is the
        # paper's criteria 3 and 4 together: the same clinics as the paper's definition
        Definition(
            "mncares",
            "MNCARES study update: a social worker on the team, responsible for social services, "
            "interacting with both patients and clinicians (three conditions)",
            CRITERIA,
        ),
        Definition(
            "system",
            "Care systems all integrated, all medical/nursing or mixed by the paper's criteria "
            "(clinics of mixed systems in neither group)",
            CRITERIA,
            level="system",
        ),
    )
}


def get_definition(definition: str | Definition) -> Definition:
    """The definition of an id of :data:`DEFINITIONS` (a :class:`Definition` is returned as is)."""
    if isinstance(definition, Definition):
        return definition
    if definition not in DEFINITIONS:
        known = ", ".join(DEFINITIONS)
        raise ValueError(f"unknown care model definition {definition!r} (known: {known})")
    return DEFINITIONS[definition]


def definition_of(frame: pd.DataFrame) -> Definition:
    """The definition a classified frame was built with: its ``definition`` label, else the paper's."""
    if "definition" not in frame.columns or frame.empty:
        return DEFINITIONS[DEFAULT_DEFINITION]
    label = frame["definition"].iloc[0]
    return next(d for d in DEFINITIONS.values() if d.label == label)


def _categorical(values: object, categories: tuple[str, ...]) -> pd.Categorical:
    return pd.Categorical(values, categories=list(categories), ordered=True)


def classify_clinics(
    clinics: pd.DataFrame, definition: str | Definition = DEFAULT_DEFINITION
) -> pd.DataFrame:
    """Add ``isw_model`` (yes/no), ``care_model`` and ``group`` (mn/isw) under ``definition``
    (a system-level one also ``system_model``; an alternative its label as ``definition``)."""
    d = get_definition(definition)
    integrated = clinics[list(d.criteria)].astype(object).eq("yes").all(axis=1)
    model = integrated.map({True: "integrated_sw", False: "medical_nursing"})
    out = clinics.drop(columns=[c for c in CLASS_COLUMNS if c in clinics.columns])
    if d.level == "system":
        share = integrated.groupby(clinics[CARE_SYSTEM_ID]).transform("mean")
        system = share.map({1.0: "integrated_sw", 0.0: "medical_nursing"}).fillna("mixed")
        model = model.where(system.ne("mixed"), None)
    out["isw_model"] = _categorical(model.map(ISW_MODEL), ("yes", "no"))
    out["care_model"] = _categorical(model, CARE_MODELS)
    out["group"] = _categorical(model.map(MODEL_GROUP), CLINIC_GROUPS)
    if d.level == "system":
        out["system_model"] = _categorical(system, SYSTEM_MODELS)
    if d.id != DEFAULT_DEFINITION:
        out["definition"] = d.label
    return out


def classification_log(clinics: pd.DataFrame) -> pd.DataFrame:
    """Counts behind the classification: answers per criterion (missing ones counted as not yes),
    and the clinics by their care system's model under a system-level definition."""
    answers = clinics[list(CRITERIA)].astype(object)
    counts = pd.DataFrame(
        {
            "yes": answers.eq("yes").sum(),
            "no": answers.eq("no").sum(),
            "missing (counted as not yes)": answers.isna().sum(),
        }
    )
    log = counts.rename_axis("criterion").rename_axis(columns="answer").stack()
    if "system_model" in clinics.columns:
        models = clinics["system_model"].value_counts(sort=False)
        log = pd.concat([log, models.set_axis([("system_model", m) for m in models.index])])
    log = log.rename("clinics").rename_axis(["criterion", "answer"]).reset_index()
    if "definition" in clinics.columns:
        log["definition"] = definition_of(clinics).label
    return log


def coordinator_groups(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Add ``group`` (mn_only / isw_only / both; none if no clinic has a model) and clinic counts
    per model to the coordinator frame."""
    counts = pd.crosstab(clinics["coordinator_id"], clinics["care_model"].astype(object))
    counts = counts.reindex(index=coordinators["coordinator_id"], columns=list(CARE_MODELS))
    n_mn, n_isw = (counts[m].fillna(0).to_numpy(dtype="int64") for m in CARE_MODELS)
    both, mn_only, isw_only = (n_mn > 0) & (n_isw > 0), n_mn > 0, n_isw > 0
    group = np.select([both, mn_only, isw_only], ["both", "mn_only", "isw_only"], "")
    out = coordinators.assign(
        n_clinics_mn=n_mn,
        n_clinics_isw=n_isw,
        group=_categorical(np.where(group == "", None, group), COORDINATOR_GROUPS),
    )
    if "definition" in clinics.columns:
        out["definition"] = definition_of(clinics).label
    return out


def model_counts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Clinics per care model and coordinators per group (``unclassified``: none)."""
    rows = []
    for unit, values in (
        ("clinics", clinics["care_model"]),
        ("coordinators", coordinators["group"]),
    ):
        rows += [(unit, g, int(n)) for g, n in values.value_counts(sort=False).items()]
        if values.isna().any():
            rows.append((unit, UNCLASSIFIED, int(values.isna().sum())))
    return pd.DataFrame(rows, columns=["unit", "group", "n"])


def compare_definitions(
    clinics: pd.DataFrame,
    definitions: dict[str, Definition] = DEFINITIONS,
    reference: str = DEFAULT_DEFINITION,
) -> pd.DataFrame:
    """Per definition: clinics per model (``unclassified``: no model) and the clinics that change
    class compared with the ``reference`` definition."""

    def models(d: str | Definition) -> pd.Series:
        return classify_clinics(clinics, d)["care_model"].astype(object).fillna(UNCLASSIFIED)

    ref = models(reference)
    rows = []
    for d in definitions.values():
        m = models(d)
        rows.append(
            {
                "definition": d.id,
                "label": d.label,
                "integrated_sw": int(m.eq("integrated_sw").sum()),
                "medical_nursing": int(m.eq("medical_nursing").sum()),
                UNCLASSIFIED: int(m.eq(UNCLASSIFIED).sum()),
                "changed": int(m.ne(ref).sum()),
                "mn_to_isw": int((ref.eq("medical_nursing") & m.eq("integrated_sw")).sum()),
                "isw_to_mn": int((ref.eq("integrated_sw") & m.eq("medical_nursing")).sum()),
                "to_unclassified": int((ref.ne(UNCLASSIFIED) & m.eq(UNCLASSIFIED)).sum()),
            }
        )
    return pd.DataFrame(rows)


def criteria_table(log: pd.DataFrame) -> pd.DataFrame:
    """The answers to the criteria, wide: one row per criterion (paper's order), one per answer."""
    answers = log[log["criterion"].isin(CRITERIA)]
    return answers.pivot(index="criterion", columns="answer", values="clinics").loc[list(CRITERIA)]


def write_outputs(
    clinics: pd.DataFrame, coordinators: pd.DataFrame, log: pd.DataFrame, outdir: Path
) -> dict[str, Path]:
    """Write the classified frames and the log into ``outdir`` (each file atomically)."""
    return {
        "clinics": write_parquet(clinics, outdir / "clinics.parquet"),
        "coordinators": write_parquet(coordinators, outdir / "coordinators.parquet"),
        "log": write_csv(log, outdir / "classification_log.csv"),
    }


def run(paths: Paths, params: Params) -> Artifacts:
    """Stage 02: classify the cleaned clinics under ``params.definition`` and group the
    coordinators; ``results`` holds the frames, the definition and the displays."""
    definition = get_definition(params.definition)
    clean = pd.read_parquet(paths.processed / "clinics_clean.parquet")
    clinics = classify_clinics(clean, definition)
    coordinators = coordinator_groups(
        clinics, pd.read_parquet(paths.processed / "coordinators_clean.parquet")
    )
    log = classification_log(clinics)
    files = write_outputs(clinics, coordinators, log, paths.processed)
    small = params.suppress_below
    return Artifacts(
        files,
        clinics=clinics,
        coordinators=coordinators,
        log=log,
        definition=definition,
        criteria=suppress_small(criteria_table(log), small),
        counts=suppress_small(model_counts(clinics, coordinators), small),
        definitions=suppress_small(compare_definitions(clean).set_index("definition"), small),
    )
