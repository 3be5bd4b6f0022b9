"""The care model rule of Table 2 and the coordinator groups of Table 1, on hand-made clinics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.cc_exports import DICTIONARY, FIXTURES

from ccanalysis import classify, clean
from ccanalysis.classify import classification_log, classify_clinics, coordinator_groups
from ccanalysis.paths import Paths
from ccanalysis.stage import Params
from ccanalysis.vocab import CRITERIA

RAW = FIXTURES / "export_raw.csv"
FRAME = FIXTURES / "clinic_frame.csv"

YN = ["yes", "no"]


def _clinics(rows: list[tuple[str, str, list[str | None]]]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "clinic_id": [r[0] for r in rows],
            "coordinator_id": [r[1] for r in rows],
        }
    )
    for j, c in enumerate(CRITERIA):
        frame[c] = pd.Categorical([r[2][j] for r in rows], categories=YN, ordered=True)
    return frame


CLINICS = _clinics(
    [
        ("C1", "K1", ["yes", "yes", "yes", "yes"]),  # integrated
        ("C2", "K1", ["yes", "yes", "yes", "no"]),  # one criterion short
        ("C3", "K2", ["yes", "yes", "yes", None]),  # missing counts as not yes
        ("C4", "K3", ["no", None, None, None]),  # branching: no social worker
        ("C5", "K3", ["no", None, None, None]),
        ("C6", "K4", ["yes", "yes", "yes", "yes"]),
    ]
)


def test_integrated_only_when_all_four_criteria_are_yes() -> None:
    out = classify_clinics(CLINICS)
    assert out["care_model"].tolist() == [
        "integrated_sw",
        "medical_nursing",
        "medical_nursing",
        "medical_nursing",
        "medical_nursing",
        "integrated_sw",
    ]
    assert out["group"].tolist() == ["isw", "mn", "mn", "mn", "mn", "isw"]
    assert out["isw_model"].tolist() == ["yes", "no", "no", "no", "no", "yes"]
    assert list(out["care_model"].cat.categories) == ["medical_nursing", "integrated_sw"]


def test_input_frame_is_not_modified() -> None:
    before = CLINICS.copy()
    classify_clinics(CLINICS)
    pd.testing.assert_frame_equal(CLINICS, before)


def test_log_counts_missing_answers_as_not_yes() -> None:
    log = classification_log(CLINICS).set_index(["criterion", "answer"])["clinics"]
    assert log[("sw_on_team", "yes")] == 4
    assert log[("sw_on_team", "no")] == 2
    assert log[("sw_interacts_clinicians", "missing (counted as not yes)")] == 3
    # every clinic counted once per criterion
    assert (log.groupby(level="criterion").sum() == 6).all()


def test_missing_criterion_column_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="sw_responsible"):
        classify_clinics(CLINICS.drop(columns="sw_responsible"))


def test_coordinator_groups_from_the_models_of_their_clinics() -> None:
    clinics = classify_clinics(CLINICS)
    coordinators = pd.DataFrame({"coordinator_id": ["K1", "K2", "K3", "K4"]})
    out = coordinator_groups(clinics, coordinators)
    assert out["group"].tolist() == ["both", "mn_only", "mn_only", "isw_only"]
    assert out["n_clinics_mn"].tolist() == [1, 1, 2, 0]
    assert out["n_clinics_isw"].tolist() == [1, 0, 0, 1]
    assert np.array_equal(out["n_clinics_mn"] + out["n_clinics_isw"], [2, 1, 2, 1])


def test_coordinator_without_clinic_is_an_error() -> None:
    clinics = classify_clinics(CLINICS)
    coordinators = pd.DataFrame({"coordinator_id": ["K1", "K9"]})
    with pytest.raises(ValueError, match="K9"):
        coordinator_groups(clinics, coordinators)


def test_run_classifies_the_cleaned_fixture(tmp_path: Path) -> None:
    """Stage 02 on the fixture export: 001 answers all four criteria yes, no other clinic does."""
    paths = Paths.of(tmp_path, export=RAW, dictionary=DICTIONARY, frame=FRAME)
    clean.run(paths, Params())
    out = classify.run(paths, Params())
    assert {k: p.name for k, p in out.items()} == {
        "clinics": "clinics.parquet",
        "coordinators": "coordinators.parquet",
        "log": "classification_log.csv",
    }
    clinics = pd.read_parquet(out["clinics"]).set_index("clinic_id")
    assert clinics["care_model"].astype(object).to_dict() == {
        "001": "integrated_sw",
        "002": "medical_nursing",
        "007": "medical_nursing",
        "010": "medical_nursing",
        "011": "medical_nursing",
    }
    groups = pd.read_parquet(out["coordinators"]).set_index("coordinator_id")["group"]
    assert groups.astype(object).to_dict() == {
        "C01": "both",
        "NA": "mn_only",
        "C03": "mn_only",
        "C04": "mn_only",
    }
    counts = out.results["counts"].set_index(["unit", "group"])["n"]
    assert counts[("clinics", "medical_nursing")] == 4 and counts[("clinics", "integrated_sw")] == 1
    criteria = out.results["criteria"]
    assert list(criteria.index) == list(CRITERIA)
    # 007 left sw_on_team blank; 002, 007, 011 have no social worker, so criteria 2-4 are blank
    assert criteria.at["sw_on_team", "missing (counted as not yes)"] == 1
    assert criteria.at["sw_responsible", "missing (counted as not yes)"] == 3
    log = pd.read_csv(out["log"])
    assert log["clinics"].groupby(log["criterion"]).sum().eq(5).all()
