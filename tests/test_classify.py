"""The care model rule of Table 2, its alternative definitions, and the coordinator groups of
Table 1, on hand-made clinics."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fixtures.cc_exports import DICTIONARY, FIXTURES

from ccanalysis import classify, clean
from ccanalysis.classify import (
    DEFINITIONS,
    SYSTEM_MODELS,
    classification_log,
    classify_clinics,
    compare_definitions,
    coordinator_groups,
    criteria_table,
    definition_of,
    get_definition,
    model_counts,
)
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


# ----------------------------------------------------------------------------------------------
# Care model definitions

ANSWERS = ["yes", "no", None]


def _every_answer() -> pd.DataFrame:
    """Every combination of yes, no and missing to the four criteria (81 clinics, each its own
    care system): the 16 yes/no combinations and every pattern of missing answers."""
    combos = list(itertools.product(ANSWERS, repeat=4))
    frame = _clinics([(f"C{i:02d}", f"K{i:02d}", list(c)) for i, c in enumerate(combos)])
    frame["care_system_id"] = frame["clinic_id"]
    return frame


EVERY = _every_answer()
ONLY_YES_NO = EVERY[EVERY[list(CRITERIA)].notna().all(axis=1)]


def test_unknown_definition_names_the_known_ones() -> None:
    assert get_definition("paper") is DEFINITIONS["paper"]
    assert len({d.label for d in DEFINITIONS.values()}) == len(DEFINITIONS)  # definition_of
    with pytest.raises(ValueError, match="unknown care model definition 'bogus'.*sw_roles"):
        get_definition("bogus")


def test_default_definition_adds_only_the_three_columns() -> None:
    out = classify_clinics(CLINICS)
    assert list(out.columns) == [*CLINICS.columns, "isw_model", "care_model", "group"]
    pd.testing.assert_frame_equal(out, classify_clinics(CLINICS, "paper"))
    assert definition_of(out) is DEFINITIONS["paper"]


@pytest.mark.parametrize(
    ("definition", "integrated_of_81", "integrated_of_16"),
    # 3^3 = 27 of the 81 answer patterns say yes to criterion 1, 3^2 = 9 to criteria 1 and 2,
    # 1 to all four; of the 16 yes/no patterns 8, 4 and 1
    [("paper", 1, 1), ("sw_on_team", 27, 8), ("sw_roles", 9, 4), ("mncares", 1, 1)],
)
def test_integrated_clinics_under_each_definition(
    definition: str, integrated_of_81: int, integrated_of_16: int
) -> None:
    out = classify_clinics(EVERY, definition)
    assert int(out["care_model"].eq("integrated_sw").sum()) == integrated_of_81
    assert int(out["care_model"].eq("medical_nursing").sum()) == 81 - integrated_of_81
    assert int(out.loc[ONLY_YES_NO.index, "group"].eq("isw").sum()) == integrated_of_16
    assert out["isw_model"].eq("yes").sum() == integrated_of_81
    if definition != "paper":
        assert out["definition"].eq(DEFINITIONS[definition].label).all()
        assert definition_of(out) is DEFINITIONS[definition]


# A hand-made sample: system A all integrated, B mixed, C all medical/nursing (paper's criteria)
SYSTEMS = _clinics(
    [
        ("A1", "KA", ["yes", "yes", "yes", "yes"]),
        ("A2", "KA", ["yes", "yes", "yes", "yes"]),
        ("B1", "KB", ["yes", "yes", "yes", "yes"]),
        ("B2", "KB", ["yes", "yes", "no", "yes"]),  # integrated by criteria 1-2 and by 1
        ("B3", "KB2", ["yes", "no", None, None]),  # integrated by criterion 1 only
        ("C1", "KC", ["no", None, None, None]),
        ("C2", "KC", [None, None, None, None]),
        ("C3", "KC", ["yes", None, None, None]),  # integrated by criterion 1 only
    ]
)
SYSTEMS["care_system_id"] = [c[0] for c in SYSTEMS["clinic_id"]]


def test_system_level_view() -> None:
    out = classify_clinics(SYSTEMS, "system").set_index("clinic_id")
    assert out["system_model"].astype(object).to_dict() == {
        "A1": "integrated_sw",
        "A2": "integrated_sw",
        "B1": "mixed",
        "B2": "mixed",
        "B3": "mixed",
        "C1": "medical_nursing",
        "C2": "medical_nursing",
        "C3": "medical_nursing",
    }
    assert list(out["system_model"].cat.categories) == list(SYSTEM_MODELS)
    assert out["group"].astype(object).tolist() == ["isw", "isw", *[np.nan] * 3, *["mn"] * 3]
    assert out["isw_model"].isna().sum() == 3 and out["care_model"].isna().sum() == 3
    log = classification_log(out.reset_index()).set_index(["criterion", "answer"])["clinics"]
    assert log[("system_model", "mixed")] == 3 and log[("system_model", "integrated_sw")] == 2
    assert log[("sw_on_team", "yes")] == 6
    wide = criteria_table(classification_log(out.reset_index()))
    assert list(wide.columns) == ["missing (counted as not yes)", "no", "yes"]
    assert wide.loc["sw_responsible"].tolist() == [3, 1, 4]  # C1 C2 C3 missing; B3 no
    assert set(classification_log(out.reset_index())["definition"]) == {DEFINITIONS["system"].label}
    with pytest.raises(KeyError, match="care_system_id"):
        classify_clinics(SYSTEMS.drop(columns="care_system_id"), "system")


def test_coordinators_of_mixed_systems_have_no_group() -> None:
    clinics = classify_clinics(SYSTEMS, "system")
    coordinators = pd.DataFrame({"coordinator_id": ["KA", "KB", "KB2", "KC"]})
    out = coordinator_groups(clinics, coordinators)
    assert out["group"].astype(object).tolist() == ["isw_only", np.nan, np.nan, "mn_only"]
    assert out["n_clinics_isw"].tolist() == [2, 0, 0, 0]
    assert out["n_clinics_mn"].tolist() == [0, 0, 0, 3]
    assert set(out["definition"]) == {DEFINITIONS["system"].label}
    counts = model_counts(clinics, out).set_index(["unit", "group"])["n"]
    assert (
        counts[("clinics", "unclassified")] == 3 and counts[("coordinators", "unclassified")] == 2
    )


def test_compare_definitions_counts_models_and_changes() -> None:
    table = compare_definitions(SYSTEMS).set_index("definition")
    assert list(table.index) == list(DEFINITIONS)
    columns = [
        "integrated_sw",
        "medical_nursing",
        "unclassified",
        "changed",
        "mn_to_isw",
        "isw_to_mn",
        "to_unclassified",
    ]
    # paper: A1 A2 B1 integrated; criterion 1 adds B2 B3 C3; criteria 1-2 add B2; the system view
    # keeps A (all integrated) and C (none), and leaves B1 (integrated), B2 and B3 unclassified
    assert table[columns].to_dict("index") == {
        "paper": dict(zip(columns, [3, 5, 0, 0, 0, 0, 0], strict=True)),
        "sw_on_team": dict(zip(columns, [6, 2, 0, 3, 3, 0, 0], strict=True)),
        "sw_roles": dict(zip(columns, [4, 4, 0, 1, 1, 0, 0], strict=True)),
        "mncares": dict(zip(columns, [3, 5, 0, 0, 0, 0, 0], strict=True)),
        "system": dict(zip(columns, [2, 3, 3, 3, 0, 0, 3], strict=True)),
    }
    assert table.at["sw_roles", "label"] == DEFINITIONS["sw_roles"].label
    b2 = SYSTEMS[SYSTEMS["clinic_id"].eq("B2")]
    models = {d: classify_clinics(b2, d)["care_model"].iat[0] for d in DEFINITIONS if d != "system"}
    assert models == {
        "paper": "medical_nursing",
        "sw_on_team": "integrated_sw",
        "sw_roles": "integrated_sw",
        "mncares": "medical_nursing",
    }


def test_classifying_again_replaces_the_classification() -> None:
    once = classify_clinics(SYSTEMS, "system")
    again = classify_clinics(once, "paper")
    pd.testing.assert_frame_equal(again, classify_clinics(SYSTEMS))


def test_run_under_an_alternative_definition(tmp_path: Path) -> None:
    paths = Paths.of(tmp_path, export=RAW, dictionary=DICTIONARY, frame=FRAME)
    clean.run(paths, Params())
    out = classify.run(paths, Params(definition="sw_on_team"))
    label = DEFINITIONS["sw_on_team"].label
    clinics = pd.read_parquet(out["clinics"]).set_index("clinic_id")
    # 010 has a social worker on the team who is not responsible for social services
    assert clinics["care_model"].eq("integrated_sw").sum() == 2
    assert clinics.at["010", "care_model"] == "integrated_sw"
    assert set(clinics["definition"]) == {label}
    assert set(pd.read_parquet(out["coordinators"])["definition"]) == {label}
    assert set(pd.read_csv(out["log"])["definition"]) == {label}
    assert definition_of(clinics) is DEFINITIONS["sw_on_team"]
    changes = out.results["definitions"]
    assert changes.at["sw_on_team", "changed"] == 1 and changes.at["sw_on_team", "mn_to_isw"] == 1
    with pytest.raises(ValueError, match="unknown care model definition"):
        classify.run(paths, Params(definition="sw_everywhere"))
    default = classify.run(paths, Params())
    assert "definition" not in pd.read_parquet(default["clinics"]).columns
    assert list(pd.read_csv(default["log"]).columns) == ["criterion", "answer", "clinics"]


# ----------------------------------------------------------------------------------------------
# Definitions as data: rules over the criteria


def test_built_in_rules_classify_as_all_their_criteria_yes() -> None:
    """Each row of specs/definitions.csv gives the classification of the criteria it names, all
    answered yes (the definitions before they were rules), on all 81 answer patterns."""
    named = {"paper": CRITERIA, "sw_on_team": CRITERIA[:1], "sw_roles": CRITERIA[:2]}
    named |= {"mncares": CRITERIA, "system": CRITERIA}
    assert list(DEFINITIONS) == list(named) and DEFINITIONS["system"].level == "system"
    for d, criteria in named.items():
        all_yes = EVERY[list(criteria)].astype(object).eq("yes").all(axis=1)
        assert DEFINITIONS[d].integrated(EVERY).equals(all_yes), d


@pytest.mark.parametrize(
    ("rule", "integrated_of_81", "integrated_of_16"),
    # at_least(2, three criteria): 2 yes of 3 answers (C(3,2) x 2 ways for the third) + 3 yes = 7
    # of the 27 patterns with criterion 1 yes; of the 8 yes/no ones, C(3,2) + 1 = 4
    [
        ("sw_on_team and at_least(2, sw_responsible, sw_interacts_patients, "
         "sw_interacts_clinicians)", 7, 4),
        ("not sw_on_team", 54, 8),  # no or missing: 2 x 27
        ("sw_on_team or sw_responsible", 45, 12),  # 81 - 2 x 2 x 9
        ("at_least(1, sw_on_team, sw_responsible) and not (sw_interacts_patients)", 30, 6),
    ],
)  # fmt: skip
def test_a_rule_of_ones_own(rule: str, integrated_of_81: int, integrated_of_16: int) -> None:
    out = classify_clinics(EVERY, rule)
    assert int(out["care_model"].eq("integrated_sw").sum()) == integrated_of_81
    assert int(out.loc[ONLY_YES_NO.index, "group"].eq("isw").sum()) == integrated_of_16
    d = definition_of(out)
    assert d.rule == rule and d.level == "clinic" and out.attrs["definition"]["rule"] == rule
    assert out["definition"].eq(f"Clinics integrated when {rule}").all()
    assert definition_of(pd.concat([out, out.iloc[:0]]).drop_duplicates()) == d  # attrs kept
    system = classify_clinics(SYSTEMS, f"system: {rule}")
    assert definition_of(system).level == "system" and "system_model" in system.columns


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("sw_on_team and sw_resposible", "unknown criterion 'sw_resposible' at column 16"),
        ("sw_on_team and", "invalid syntax at column 15"),
        ("__import__('os').system('ls')", "is not allowed at column 1"),
        ("sw_on_team == 'yes'", "is not allowed at column 1"),
        ("at_least(3, sw_on_team, sw_responsible)", "needs a whole k from 1 to the number"),
        ("at_least(1.5, sw_on_team, sw_responsible)", "needs a whole k"),
    ],
)
def test_a_bad_rule_stops_with_its_position_and_the_criteria(rule: str, message: str) -> None:
    with pytest.raises(classify.RuleError, match=message) as err:
        get_definition(rule)
    assert "the criteria: sw_on_team, sw_responsible, sw_interacts_patients" in str(err.value)
    with pytest.raises(ValueError, match=r"unknown care model definition 'sw_roels' \(did you "):
        get_definition("sw_roels")


@pytest.mark.slow  # the stage
def test_a_definition_from_a_file_and_in_the_stage(tmp_path: Path) -> None:
    mine = tmp_path / "mine.csv"
    mine.write_text(
        "id,level,rule,label\nteam2,clinic,"
        '"sw_on_team and at_least(2, sw_responsible, sw_interacts_patients)",Team and two roles\n',
        encoding="utf-8",
    )
    d = get_definition(f"{mine}:team2")
    assert (d.id, d.label, d.level) == ("team2", "Team and two roles", "clinic")
    with pytest.raises(ValueError, match="no care model definition 'team3' \\(ids: team2\\)"):
        get_definition(f"{mine}:team3")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,level,rule,label\nx,clinic,sw_on_team +,X\n", encoding="utf-8")
    with pytest.raises(ValueError, match="(?s)invalid syntax at column 13.*record line 2"):
        get_definition(f"{bad}:x")
    # a table built on clinics so classified says which definition it uses
    from ccanalysis import analysis as cc

    clinics = classify_clinics(EVERY, d).assign(urban=[i % 2 == 0 for i in range(81)])
    md = cc.summarize(clinics, ["isw_model"], by="urban").render("md")
    assert "Care models by an alternative definition (team2): Team and two roles." in md
