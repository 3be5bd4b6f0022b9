"""Care model classification (the paper's Table 2).

A clinic uses the integrated social worker model only when all four criteria are answered yes: a
social worker is on the care coordination team, is responsible for assessing and coordinating social
services, and interacts regularly with the patients and with their clinicians. Any other answer,
missing included, makes it a medical/nursing clinic; the log says how many answers were missing.
Coordinators are grouped by the models of the clinics they report on (Table 1).
"""

from __future__ import annotations

import pandas as pd

from ccanalysis.io import write_csv, write_parquet
from ccanalysis.paths import Paths
from ccanalysis.privacy import suppress_small
from ccanalysis.stage import Artifacts, Params
from ccanalysis.vocab import CARE_MODELS, CLINIC_GROUPS, COORDINATOR_GROUPS, CRITERIA, MODEL_GROUP


def classify_clinics(clinics: pd.DataFrame) -> pd.DataFrame:
    """Add ``isw_model`` (yes/no), ``care_model`` and ``group`` (mn/isw) to the clinic frame.

    Missing answers to a criterion count as not yes, as the paper's definition requires a yes.
    """
    missing = [c for c in CRITERIA if c not in clinics.columns]
    if missing:
        raise KeyError(f"the clinic frame lacks the care model criteria {missing}")
    all_yes = pd.Series(True, index=clinics.index)
    for c in CRITERIA:
        all_yes &= clinics[c].astype("object").eq("yes").to_numpy()
    out = clinics.copy()
    out["isw_model"] = pd.Categorical(
        all_yes.map({True: "yes", False: "no"}), categories=["yes", "no"], ordered=True
    )
    model = all_yes.map({True: "integrated_sw", False: "medical_nursing"})
    out["care_model"] = pd.Categorical(model, categories=list(CARE_MODELS), ordered=True)
    out["group"] = pd.Categorical(
        model.map(MODEL_GROUP), categories=list(CLINIC_GROUPS), ordered=True
    )
    return out


def classification_log(clinics: pd.DataFrame) -> pd.DataFrame:
    """Counts behind the classification: answers per criterion, missing ones counted as not yes."""
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
    return pd.DataFrame(rows)


def coordinator_groups(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Add ``group`` (mn_only / isw_only / both) and clinic counts per model to the coordinator frame."""
    counts = pd.crosstab(clinics["coordinator_id"], clinics["care_model"].astype("object"))
    counts = counts.reindex(columns=list(CARE_MODELS), fill_value=0)
    n_mn = counts["medical_nursing"].reindex(coordinators["coordinator_id"]).fillna(0).astype(int)
    n_isw = counts["integrated_sw"].reindex(coordinators["coordinator_id"]).fillna(0).astype(int)
    group = pd.Series("both", index=n_mn.index)
    group[(n_mn > 0) & (n_isw == 0)] = "mn_only"
    group[(n_isw > 0) & (n_mn == 0)] = "isw_only"
    orphan = group.index[(n_mn == 0) & (n_isw == 0)]
    if len(orphan):
        raise ValueError(f"coordinators with no clinic in the clinic frame: {list(orphan)[:5]}")
    out = coordinators.copy()
    out["n_clinics_mn"] = n_mn.to_numpy()
    out["n_clinics_isw"] = n_isw.to_numpy()
    out["group"] = pd.Categorical(
        group.to_numpy(), categories=list(COORDINATOR_GROUPS), ordered=True
    )
    return out


def model_counts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """Clinics per care model and coordinators per group: the sizes every later table rests on."""
    rows = [
        ("clinics", g, int(n)) for g, n in clinics["care_model"].value_counts(sort=False).items()
    ]
    rows += [
        ("coordinators", g, int(n))
        for g, n in coordinators["group"].value_counts(sort=False).items()
    ]
    return pd.DataFrame(rows, columns=["unit", "group", "n"])


def criteria_table(log: pd.DataFrame) -> pd.DataFrame:
    """The classification log wide: one row per criterion (paper's order), one column per answer."""
    return log.pivot(index="criterion", columns="answer", values="clinics").loc[list(CRITERIA)]


def run(paths: Paths, params: Params) -> Artifacts:
    """Stage 02: classify the cleaned clinics and group the coordinators, in ``paths.processed``.

    Reads ``clinics_clean.parquet`` and ``coordinators_clean.parquet`` and writes ``clinics.parquet``
    and ``coordinators.parquet`` (with ``care_model``/``group``) and ``classification_log.csv``.
    ``results`` holds the three frames and, for display, the clinics per model and coordinators per
    group (``counts``) and the answers to each criterion (``criteria``), small cells suppressed in
    privacy mode.
    """
    processed = paths.processed
    clinics = classify_clinics(pd.read_parquet(processed / "clinics_clean.parquet"))
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
        counts=suppress_small(model_counts(clinics, coordinators), small),
        criteria=suppress_small(criteria_table(log), small),
    )
