"""Care model classification (the paper's Table 2), under the paper's definition or an alternative.

The paper's definition: a clinic uses the integrated social worker model only when all four criteria
are answered yes (a social worker is on the care coordination team, is responsible for assessing and
coordinating social services, and interacts regularly with the patients and with their clinicians).
Any other answer, missing included, makes it a medical/nursing clinic; the log says how many answers
were missing. Coordinators are grouped by the models of the clinics they report on (Table 1).

The alternatives are named in one place, :data:`DEFINITIONS` (id -> :class:`Definition`), for
sensitivity analyses; ``run`` takes the id from ``params.definition``. A definition is a list of
conditions, each a set of criteria that must all be answered yes, and a level:

* ``clinic``: each clinic is integrated when it meets every condition;
* ``system``: the deck's organisational view. Each care system is ``integrated_sw`` when all its
  clinics meet the conditions, ``medical_nursing`` when none does, ``mixed`` otherwise (column
  ``system_model``). For the comparisons, ``care_model``, ``group`` and ``isw_model`` keep the two
  models: a clinic of an all-integrated or all-medical/nursing system takes its system's model, a
  clinic of a mixed system has none (missing), so that it stays out of both groups, as the deck's
  charts compare the Medical with the Medical/Social model and leave the Mixed model out.

Outputs of an alternative definition carry its label in a ``definition`` column (clinic and
coordinator frames, classification log). The paper's definition adds nothing, so its outputs are
those of the paper's classification as they always were; :func:`definition_of` reads the label back
(no column: the paper's).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

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

#: The care system of a clinic (the unit of the system-level view).
CARE_SYSTEM = "care_system_id"
#: A care system's model in the system-level view (``system_model``).
SYSTEM_MODELS: tuple[str, ...] = (*CARE_MODELS, "mixed")
#: Columns a classification adds to the clinic frame (replaced when a frame is classified again).
CLASS_COLUMNS: tuple[str, ...] = ("isw_model", "care_model", "group", "system_model", "definition")
#: How a clinic with no care model (a clinic of a mixed care system) is counted.
UNCLASSIFIED = "unclassified"
LEVELS = ("clinic", "system")


@dataclass(frozen=True)
class Definition:
    """A care model definition: integrated when every condition holds, at a clinic or system level.

    ``conditions``: tuples of criteria that must all be answered yes (a missing answer is not yes).
    ``label``: what outputs and displays carry.
    """

    id: str
    label: str
    conditions: tuple[tuple[str, ...], ...]
    level: str = "clinic"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"a definition's level is one of {LEVELS}, not {self.level!r}")

    @property
    def criteria(self) -> tuple[str, ...]:
        """The criteria the definition reads, in the order of its conditions."""
        return tuple(dict.fromkeys(c for condition in self.conditions for c in condition))

    @property
    def requires(self) -> tuple[str, ...]:
        """The columns a clinic frame needs for this definition."""
        return self.criteria + ((CARE_SYSTEM,) if self.level == "system" else ())

    def meets(self, clinics: pd.DataFrame) -> np.ndarray:
        """Whether each clinic meets every condition (a missing answer is not yes)."""
        ok = np.ones(len(clinics), dtype=bool)
        for condition in self.conditions:
            ok &= np.logical_and.reduce(
                [clinics[c].astype("object").eq("yes").to_numpy() for c in condition]
            )
        return ok


#: The care model definitions by id; the first, the paper's, is the default.
DEFINITIONS: dict[str, Definition] = {
    d.id: d
    for d in (
        Definition(
            DEFAULT_DEFINITION,
            "The paper's four criteria (Table 2), all answered yes",
            tuple((c,) for c in CRITERIA),
        ),
        Definition(
            "sw_on_team",
            "A social worker on the care coordination team (criterion 1 only)",
            ((CRITERIA[0],),),
        ),
        Definition(
            "sw_roles",
            "A social worker on the team who assesses and coordinates social services "
            "(criteria 1 and 2)",
            ((CRITERIA[0],), (CRITERIA[1],)),
        ),
        Definition(
            "mncares",
            "MNCARES study update: a social worker on the team, responsible for social services, "
            "interacting with both patients and clinicians (three conditions)",
            ((CRITERIA[0],), (CRITERIA[1],), (CRITERIA[2], CRITERIA[3])),
        ),
        Definition(
            "system",
            "Care systems all integrated, all medical/nursing or mixed by the paper's criteria "
            "(clinics of mixed systems in neither group)",
            tuple((c,) for c in CRITERIA),
            level="system",
        ),
    )
}


def get_definition(definition: str | Definition) -> Definition:
    """The definition of an id of :data:`DEFINITIONS` (a :class:`Definition` is returned as is)."""
    if isinstance(definition, Definition):
        return definition
    try:
        return DEFINITIONS[definition]
    except KeyError:
        known = ", ".join(DEFINITIONS)
        raise ValueError(f"unknown care model definition {definition!r} (known: {known})") from None


def definition_of(frame: pd.DataFrame) -> Definition:
    """The definition a classified frame was built with: its ``definition`` label, else the paper's."""
    if "definition" not in frame.columns or frame.empty:
        return DEFINITIONS[DEFAULT_DEFINITION]
    label = frame["definition"].iloc[0]
    found = next((d for d in DEFINITIONS.values() if d.label == label), None)
    if found is None:
        raise ValueError(f"the frame's definition {label!r} is none of classify.DEFINITIONS")
    return found


def system_models(clinics: pd.DataFrame, integrated: np.ndarray) -> pd.Series:
    """Each clinic's care system model: ``integrated_sw`` if all its clinics are integrated,
    ``medical_nursing`` if none is, ``mixed`` otherwise."""
    share = (
        pd.Series(integrated, index=clinics.index).groupby(clinics[CARE_SYSTEM]).transform("mean")
    )
    return pd.Series(
        np.select([share.eq(1), share.eq(0)], ["integrated_sw", "medical_nursing"], "mixed"),
        index=clinics.index,
        dtype=object,
    )


def classify_clinics(
    clinics: pd.DataFrame, definition: str | Definition = DEFAULT_DEFINITION
) -> pd.DataFrame:
    """Add ``isw_model`` (yes/no), ``care_model`` and ``group`` (mn/isw) to the clinic frame.

    Under ``definition`` (an id of :data:`DEFINITIONS`; the paper's by default). Missing answers to
    a criterion count as not yes, as the definitions require a yes. A system-level definition also
    adds ``system_model`` and leaves the clinics of mixed systems without a model; an alternative
    definition adds its label as ``definition``.
    """
    d = get_definition(definition)
    missing = [c for c in d.requires if c not in clinics.columns]
    if missing:
        raise KeyError(f"the clinic frame lacks the care model criteria {missing}")
    integrated = d.meets(clinics)
    model = pd.Series(
        np.where(integrated, "integrated_sw", "medical_nursing"), index=clinics.index, dtype=object
    )
    out = clinics.drop(columns=[c for c in CLASS_COLUMNS if c in clinics.columns])
    if d.level == "system":
        system = system_models(clinics, integrated)
        model = model.where(system.ne("mixed"), None)
    out["isw_model"] = pd.Categorical(
        model.map({"integrated_sw": "yes", "medical_nursing": "no"}),
        categories=["yes", "no"],
        ordered=True,
    )
    out["care_model"] = pd.Categorical(model, categories=list(CARE_MODELS), ordered=True)
    out["group"] = pd.Categorical(
        model.map(MODEL_GROUP), categories=list(CLINIC_GROUPS), ordered=True
    )
    if d.level == "system":
        out["system_model"] = pd.Categorical(system, categories=list(SYSTEM_MODELS), ordered=True)
    if d.id != DEFAULT_DEFINITION:
        out["definition"] = d.label
    return out


def classification_log(clinics: pd.DataFrame) -> pd.DataFrame:
    """Counts behind the classification: answers per criterion, missing ones counted as not yes.

    Under a system-level definition, also the clinics by their care system's model; under an
    alternative definition, the definition's label as ``definition``.
    """
    rows = []
    for c in CRITERIA:
        answers = clinics[c].astype("object")
        rows += [
            {"criterion": c, "answer": "yes", "clinics": int(answers.eq("yes").sum())},
            {"criterion": c, "answer": "no", "clinics": int(answers.eq("no").sum())},
            {
                "criterion": c,
                "answer": "missing (counted as not yes)",
                "clinics": int(answers.isna().sum()),
            },
        ]
    if "system_model" in clinics.columns:
        counts = clinics["system_model"].value_counts(sort=False)
        rows += [
            {"criterion": "system_model", "answer": m, "clinics": int(counts[m])}
            for m in counts.index
        ]
    log = pd.DataFrame(rows)
    if "definition" in clinics.columns:
        log["definition"] = definition_of(clinics).label
    return log


def coordinator_groups(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Add ``group`` (mn_only / isw_only / both) and clinic counts per model to the coordinator frame.

    A coordinator whose clinics all lack a model (clinics of mixed care systems) has no group; one
    with no clinic in the clinic frame is an error. An alternative definition's label is carried.
    """
    counts = pd.crosstab(clinics["coordinator_id"], clinics["care_model"].astype("object"))
    counts = counts.reindex(columns=list(CARE_MODELS), fill_value=0)
    n_mn = counts["medical_nursing"].reindex(coordinators["coordinator_id"]).fillna(0).astype(int)
    n_isw = counts["integrated_sw"].reindex(coordinators["coordinator_id"]).fillna(0).astype(int)
    group = pd.Series("both", index=n_mn.index, dtype=object)
    group[(n_mn > 0) & (n_isw == 0)] = "mn_only"
    group[(n_isw > 0) & (n_mn == 0)] = "isw_only"
    orphan = ~group.index.isin(clinics["coordinator_id"])
    if orphan.any():
        raise ValueError(
            f"coordinators with no clinic in the clinic frame: {list(group.index[orphan])[:5]}"
        )
    group[(n_mn == 0) & (n_isw == 0)] = None
    out = coordinators.copy()
    out["n_clinics_mn"] = n_mn.to_numpy()
    out["n_clinics_isw"] = n_isw.to_numpy()
    out["group"] = pd.Categorical(
        group.to_numpy(), categories=list(COORDINATOR_GROUPS), ordered=True
    )
    if "definition" in clinics.columns:
        out["definition"] = definition_of(clinics).label
    return out


def model_counts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Clinics per care model and coordinators per group: the sizes every later table rests on.

    Clinics and coordinators without a model or group (system-level view) count as unclassified.
    """
    rows = [
        ("clinics", g, int(n)) for g, n in clinics["care_model"].value_counts(sort=False).items()
    ]
    rows += [
        ("coordinators", g, int(n))
        for g, n in coordinators["group"].value_counts(sort=False).items()
    ]
    for unit, values in (
        ("clinics", clinics["care_model"]),
        ("coordinators", coordinators["group"]),
    ):
        if values.isna().any():
            rows.append((unit, UNCLASSIFIED, int(values.isna().sum())))
    return pd.DataFrame(rows, columns=["unit", "group", "n"])


def models_by_definition(
    clinics: pd.DataFrame, definitions: dict[str, Definition] = DEFINITIONS
) -> pd.DataFrame:
    """Each clinic's care model under every definition: index ``clinic_id``, one column per id
    (``unclassified`` where a definition gives no model)."""
    return pd.DataFrame(
        {
            d.id: classify_clinics(clinics, d)["care_model"].astype(object).fillna(UNCLASSIFIED)
            for d in definitions.values()
        }
    ).set_axis(clinics["clinic_id"].to_numpy())


def compare_definitions(
    clinics: pd.DataFrame,
    definitions: dict[str, Definition] = DEFINITIONS,
    reference: str = DEFAULT_DEFINITION,
) -> pd.DataFrame:
    """For every definition, the clinics per model and the clinics that change class compared
    with the ``reference`` definition (the paper's).

    One row per definition: ``definition`` (id), ``label``, ``integrated_sw``, ``medical_nursing``,
    ``unclassified`` (clinics without a model), ``changed`` (clinics whose model differs from the
    reference's), and of those ``mn_to_isw``, ``isw_to_mn``, ``to_unclassified``.
    """
    models = models_by_definition(clinics, {reference: get_definition(reference)} | definitions)
    ref = models[reference]
    rows = []
    for d in definitions.values():
        m = models[d.id]
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


def run(paths: Paths, params: Params) -> Artifacts:
    """Stage 02: classify the cleaned clinics and group the coordinators, in ``paths.processed``.

    Reads ``clinics_clean.parquet`` and ``coordinators_clean.parquet`` and writes ``clinics.parquet``
    and ``coordinators.parquet`` (with ``care_model``/``group``) and ``classification_log.csv``,
    under the definition ``params.definition``. ``results`` holds the three frames, the
    ``definition`` and, for display, the clinics per model and coordinators per group
    (``counts``), the answers to each criterion (``criteria``) and every definition compared with
    the paper's (``definitions``), small cells suppressed in privacy mode.
    """
    definition = get_definition(params.definition)
    processed = paths.processed
    clean = pd.read_parquet(processed / "clinics_clean.parquet")
    clinics = classify_clinics(clean, definition)
    coordinators = coordinator_groups(
        clinics, pd.read_parquet(processed / "coordinators_clean.parquet")
    )
    log = classification_log(clinics)
    files = {
        "clinics": write_parquet(clinics, processed / "clinics.parquet"),
        "coordinators": write_parquet(coordinators, processed / "coordinators.parquet"),
        "log": write_csv(log, processed / "classification_log.csv"),
    }
    small = params.suppress_below
    return Artifacts(
        files,
        clinics=clinics,
        coordinators=coordinators,
        log=log,
        definition=definition,
        counts=suppress_small(model_counts(clinics, coordinators), small),
        criteria=suppress_small(criteria_table(log), small),
        definitions=suppress_small(compare_definitions(clean).set_index("definition"), small),
    )
