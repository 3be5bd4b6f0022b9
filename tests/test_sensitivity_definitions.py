"""The definition sensitivity: Tables 3 and 4 under every care model definition.

A constructed frame of 20 clinics: 8 meet all four criteria (integrated by the paper's definition),
6 have a social worker on the team and nothing else (medical/nursing by the paper's, integrated
by ``sw_on_team``), 6 none. Reference p-values from R's ``fisher.test``, computed by
``tests/reference/sensitivity_definitions.R`` (R 4.2):

    fisher.test(matrix(c(8, 0, 6, 6), 2))$p.value    # 0.0418988648090815
    fisher.test(matrix(c(14, 0, 0, 6), 2))$p.value   # 2.57997936016511e-05
    fisher.test(matrix(c(5, 3, 6, 6), 2))$p.value    # 0.66992140985949
    fisher.test(matrix(c(11, 3, 0, 6), 2))$p.value   # 0.0021671826625387

``panel_judgement`` (three answers) under the paper's definition, isw vs mn: about right 4/8 vs
5/12, too many 4/8 vs 0/12, too few 0/8 vs 7/12. Each level against the other answers, and the
whole item:

    fisher.test(matrix(c(4, 4, 5, 7), 2))$p.value    # 1
    fisher.test(matrix(c(4, 4, 0, 12), 2))$p.value   # 0.0144478844169247
    fisher.test(matrix(c(0, 8, 7, 5), 2))$p.value    # 0.0146542827657379
    fisher.test(rbind(c(4, 5), c(4, 0), c(0, 7)))$p.value  # 0.00245296499166465
"""

from __future__ import annotations

import pandas as pd
import pytest

from ccanalysis import spec as spec_mod
from ccanalysis.classify import DEFINITIONS, classify_clinics
from ccanalysis.instrument import read_dictionary
from ccanalysis.paths import Paths
from ccanalysis.sensitivity.definitions import (
    conclusion,
    definition_sensitivity,
    summary_table,
    write,
)
from ccanalysis.tables.paper import from_spec
from ccanalysis.vocab import CRITERIA

INSTRUMENT = read_dictionary(Paths.of().dictionary)


def _spec() -> spec_mod.Spec:
    rows = [
        ("svc_social_needs", "Social needs assessment/referral"),
        ("svc_spiritual", "Spiritual needs assessment/referral"),
    ]
    return spec_mod.from_records(
        [
            {
                "table": "table3",
                "section": "Services provided",
                "item": item,
                "level": "yes",
                "label": label,
                "stat": "pct",
                "shown": "binary",
                "combine": "",
                "test": "fisher",
            }
            for item, label in rows
        ],
        instrument=INSTRUMENT,
    )


def _clinics() -> pd.DataFrame:
    kinds = ["all"] * 8 + ["team"] * 6 + ["none"] * 6
    yes_no = {True: "yes", False: "no"}
    frame = pd.DataFrame(
        {
            "clinic_id": [f"C{i:02d}" for i in range(20)],
            "care_system_id": [f"S{i % 4}" for i in range(20)],
            CRITERIA[0]: [yes_no[k in ("all", "team")] for k in kinds],
            **{c: [yes_no[k == "all"] for k in kinds] for c in CRITERIA[1:]},
            # paper: 8/8 vs 6/12; sw_on_team: 14/14 vs 0/6
            "svc_social_needs": [yes_no[k != "none"] for k in kinds],
            # paper: 5/8 vs 6/12; sw_on_team: 11/14 vs 0/6
            "svc_spiritual": ["yes"] * 5 + ["no"] * 3 + ["yes"] * 6 + ["no"] * 6,
            # paper: isw 4 about right, 4 too many; mn 5 about right, 7 too few
            "panel_judgement": pd.Categorical(
                ["about_right"] * 4 + ["too_many"] * 4 + ["about_right"] * 5 + ["too_few"] * 7,
                categories=["about_right", "too_many", "too_few"],
            ),
        }
    )
    for c in (*CRITERIA, "svc_social_needs", "svc_spiritual"):
        frame[c] = pd.Categorical(frame[c], categories=["yes", "no"])
    return frame


def _panel_spec() -> spec_mod.Spec:
    return spec_mod.from_records(
        [
            {
                "table": "table3",
                "section": "Patient panel seems:",
                "item": "panel_judgement",
                "level": level,
                "label": level.replace("_", " "),
                "stat": "pct",
                "shown": "full",
                "combine": "",
                "test": "fisher",
            }
            for level in ("about_right", "too_many", "too_few")
        ],
        instrument=INSTRUMENT,
    )


def test_conclusions_are_the_test_and_the_sign() -> None:
    assert conclusion(0.04, 5.0) == "higher"
    assert conclusion(0.04, -5.0) == "lower"
    assert conclusion(0.05, 5.0) == "no difference"  # p < 0.05 is the rule
    assert conclusion(float("nan"), 5.0) == "not tested"


def test_every_row_is_tested_again_under_each_definition() -> None:
    defs = {k: DEFINITIONS[k] for k in ("paper", "sw_on_team")}
    summary, rows = definition_sensitivity(_clinics(), _spec(), definitions=defs)
    by = rows.set_index(["definition", "item"])
    assert by.loc[("paper", "svc_social_needs"), "p"] == pytest.approx(
        0.0418988648090815, rel=1e-10
    )
    assert by.loc[("paper", "svc_social_needs"), "estimate"] == pytest.approx(100 - 50)
    assert by.loc[("sw_on_team", "svc_social_needs"), "p"] == pytest.approx(
        2.57997936016511e-05, rel=1e-10
    )
    assert by.loc[("paper", "svc_spiritual"), "p"] == pytest.approx(0.66992140985949, rel=1e-10)
    assert by.loc[("sw_on_team", "svc_spiritual"), "p"] == pytest.approx(
        0.0021671826625387, rel=1e-10
    )
    # higher under both definitions: no change; not significant -> higher: a change
    assert by.loc[("sw_on_team", "svc_social_needs"), "conclusion"] == "higher"
    assert not by.loc[("sw_on_team", "svc_social_needs"), "changed"]
    assert by.loc[("paper", "svc_spiritual"), "conclusion"] == "no difference"
    assert by.loc[("sw_on_team", "svc_spiritual"), "changed"]
    assert (by.loc[("sw_on_team", "svc_spiritual"), ["n_isw", "n_mn"]] == [14, 6]).all()

    s = summary.set_index("definition")
    assert s.loc[
        "paper", ["integrated_sw", "medical_nursing", "changed", "rows_changed"]
    ].tolist() == [8, 12, 0, 0]
    assert s.loc["sw_on_team", ["integrated_sw", "medical_nursing", "changed"]].tolist() == [
        14,
        6,
        6,
    ]
    assert s.loc["sw_on_team", "rows_differ"] == 2
    assert s.loc["sw_on_team", "rows_changed"] == 1
    assert s.loc["sw_on_team", "changed_rows"] == "T3 svc_spiritual=yes"


def test_a_level_row_is_concluded_on_its_own_test() -> None:
    """A level of a three-answer item: its own 2 x 2 test (the level against the other answers),
    not the item's, decides the conclusion; about right differs by +8.3 pp with p = 1 although the
    item as a whole differs (p = 0.0025)."""
    summary, rows = definition_sensitivity(
        _clinics(), _panel_spec(), definitions={"paper": DEFINITIONS["paper"]}
    )
    by = rows.set_index("level")
    assert by.loc["about_right", "estimate"] == pytest.approx(100 * (4 / 8 - 5 / 12))
    assert by.loc["about_right", "p"] == pytest.approx(1.0, rel=1e-10)
    assert by.loc["too_many", "p"] == pytest.approx(0.0144478844169247, rel=1e-10)
    assert by.loc["too_few", "p"] == pytest.approx(0.0146542827657379, rel=1e-10)
    assert by["conclusion"].to_dict() == {
        "about_right": "no difference",
        "too_many": "higher",
        "too_few": "lower",
    }
    # the item's own test is what the tables print as P; the rows do not use it
    long = from_spec(_panel_spec(), {"clinics": classify_clinics(_clinics())}, "table3").long
    item_p = long.loc[long["measure"] == "p", "value"].item()
    assert item_p == pytest.approx(0.00245296499166465, rel=1e-10)
    assert summary.set_index("definition").loc["paper", "rows_differ"] == 2


def test_the_reference_can_be_another_definition() -> None:
    """Under `make all DEFINITION=sw_on_team` the paper's definition is the one that differs."""
    defs = {k: DEFINITIONS[k] for k in ("paper", "sw_on_team")}
    summary, _ = definition_sensitivity(
        _clinics(), _spec(), definitions=defs, reference="sw_on_team"
    )
    s = summary.set_index("definition")
    assert s.loc["paper", "changed"] == 6
    assert s.loc["paper", "changed_rows"] == "T3 svc_spiritual=yes"
    assert s.loc["sw_on_team", "rows_changed"] == 0


def test_written_files_carry_the_label_and_the_reference(tmp_path) -> None:  # noqa: ANN001
    summary, rows = definition_sensitivity(_clinics(), _spec())
    files = write(summary, rows, tmp_path, synthetic=True)
    assert sorted(p.name for p in files.values()) == [
        "definitions.csv",
        "definitions.html",
        "definitions.md",
        "definitions_rows.csv",
    ]
    md = (tmp_path / "definitions.md").read_text(encoding="utf-8")
    assert md.startswith("**SYNTHETIC DATA")
    assert "reference definition (paper)" in md
    assert list(summary_table(summary)["Definition"]) == list(DEFINITIONS)
    assert set(pd.read_csv(tmp_path / "definitions_rows.csv")["synthetic"].str[:9]) == {"SYNTHETIC"}
