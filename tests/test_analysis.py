"""The composable table API (ccanalysis.analysis) on a small frame whose answers we know.

Reference values come from R 4.2.2 (``fisher.test``, ``t.test``, ``oneway.test``, ``p.adjust``,
Wilson intervals of ``prop.test`` for Newcombe's interval): ``tests/reference/tables.R`` computes
every value quoted here (the R call is beside it); the tests themselves do not need R.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from test_tables import HAND_SPEC, cat, cell, hand_clinics, random_frames
from test_tables import p_row as p_of
from test_tables import value as v

from ccanalysis import analysis as cc
from ccanalysis.spec import read_spec
from ccanalysis.vocab import SYNTHETIC_LABEL

YN = ["yes", "no"]
PJ = ["about_right", "too_many", "too_few"]


def small_clinics() -> pd.DataFrame:
    """Fifteen clinics: eight urban, six rural, one without a RUCA code (urban unknown);
    four in small care systems, five in medium, six in large.

    By hand (the clinic of unknown urbanity left out):
    svc_social_needs yes: urban 6 of 7 answers (one missing), rural 2 of 6;
    hours_cc_week: urban 10 20 25 30 35 40 22 (one missing), rural 8 12 15 30 18 9;
    panel_judgement (about right, too many, too few): urban 3 3 1 (one missing), rural 2 1 3.
    By system size (all fifteen): svc yes small 3/4, medium 3/5, large 3/5 (one missing);
    panel small 2 0 2, medium 3 1 1, large 1 3 1; hours small 10 40 8 18, medium 20 35 12 30 50,
    large 25 30 22 15 9.
    """
    return pd.DataFrame(
        {
            "clinic_id": [f"C{i:02d}" for i in range(1, 16)],
            "urban": pd.array([True] * 8 + [False] * 6 + [None], dtype="boolean"),
            "system_size": cat(
                ["small", "medium", "large", "large", "medium", "small", "large", "large"]
                + ["small", "medium", "large", "medium", "small", "large", "medium"],
                ["small", "medium", "large"],
            ),
            "svc_social_needs": cat(
                ["yes", "yes", "yes", "yes", "yes", "no", "yes", None]
                + ["yes", "no", "no", "no", "yes", "no", "yes"],
                YN,
            ),
            "hours_cc_week": [10, 20, 25, 30, 35, 40, np.nan, 22, 8, 12, 15, 30, 18, 9, 50],
            "panel_judgement": cat(
                ["about_right", "about_right", "too_many", "too_many", "too_many", "too_few"]
                + ["about_right", None, "about_right", "too_few", "too_few", "about_right"]
                + ["too_few", "too_many", "about_right"],
                PJ,
            ),
        }
    )


ITEMS = ["svc_social_needs", "hours_cc_week", "panel_judgement"]


@pytest.fixture(scope="module")
def urban() -> cc.Summary:
    full = {"svc_social_needs": "full"}  # both answers (a yes/no item shows yes by default)
    s = cc.summarize(
        small_clinics(), ITEMS, by="urban", labels={True: "Urban", False: "Rural"}, show=full
    )
    return s.add_p().add_difference().add_q()


# ---------------------------------------------------------------------------------------------
# Two groups: urban vs rural
# ---------------------------------------------------------------------------------------------


def test_two_groups_counts_by_hand(urban) -> None:
    long = urban.long
    assert urban.groups == ("False", "True") and urban.reference == "False"
    n = long[long["item"] == "n"].set_index("group")["value"]
    assert n.to_dict() == {"total": 14, "False": 6, "True": 8}  # the unknown clinic left out
    assert v(long, "svc_social_needs", "yes", "True", "n") == 6
    assert v(long, "svc_social_needs", "yes", "True", "denom") == 7
    assert v(long, "svc_social_needs", "yes", "True", "pct") == pytest.approx(600 / 7)
    assert v(long, "svc_social_needs", "no", "False", "pct") == pytest.approx(400 / 6)
    assert v(long, "svc_social_needs", "yes", "total", "pct") == pytest.approx(800 / 13)
    assert v(long, "panel_judgement", "too_few", "False", "n") == 3
    assert v(long, "panel_judgement", "about_right", "True", "denom") == 7
    assert v(long, "hours_cc_week", "", "True", "mean") == pytest.approx(26.0)
    assert v(long, "hours_cc_week", "", "False", "mean") == pytest.approx(92 / 6)
    assert v(long, "hours_cc_week", "", "True", "denom") == 7
    # R: sd(c(10, 20, 25, 30, 35, 40, 22)) 10.016652800877813; sd(c(8, 12, 15, 30, 18, 9))
    assert v(long, "hours_cc_week", "", "True", "sd") == pytest.approx(10.016652800877813)
    assert v(long, "hours_cc_week", "", "False", "sd") == pytest.approx(8.0911474258393454)


def test_two_groups_tests_agree_with_r(urban) -> None:
    long = urban.long
    # R: fisher.test(matrix(c(6, 1, 2, 4), nrow = 2))$p.value
    assert p_of(long, "svc_social_needs")["value"] == pytest.approx(0.10256410256410266, rel=1e-12)
    # R: fisher.test(matrix(c(3, 3, 1, 2, 1, 3), nrow = 3))$p.value
    assert p_of(long, "panel_judgement")["value"] == pytest.approx(0.51048951048951041, rel=1e-12)
    # R: t.test(urban, rural, var.equal = TRUE)$p.value
    assert p_of(long, "hours_cc_week")["value"] == pytest.approx(0.061072749976108523, rel=1e-10)
    assert p_of(long, "hours_cc_week")["test"] == "student_t"
    assert p_of(long, "panel_judgement")["test"] == "fisher"
    # R: p.adjust(c(0.1025641, 0.0610727, 0.5104895), method = "BH")
    q = [p_of(long, i)["q"] for i in ("svc_social_needs", "hours_cc_week", "panel_judgement")]
    assert q == pytest.approx([0.15384615384615399, 0.15384615384615399, 0.51048951048951041])


def test_two_groups_differences_agree_with_r(urban) -> None:
    long = urban.long
    # R: t.test(urban, rural, var.equal = TRUE)$conf.int -> -0.58854223494613633 21.92187556827946793
    row = cell(long, "hours_cc_week", "", "True", "mean")
    assert (row["diff"], row["diff_lo"], row["diff_hi"]) == pytest.approx(
        (26.0 - 92 / 6, -0.58854223494613633, 21.92187556827946793), rel=1e-10
    )
    # Newcombe's hybrid score interval from R's Wilson intervals (prop.test(k, n, correct = FALSE)):
    # d - sqrt((p1 - l1)^2 + (u2 - p2)^2), d + sqrt((u1 - p1)^2 + (p2 - l2)^2), 6/7 vs 2/6
    row = cell(long, "svc_social_needs", "yes", "True", "pct")
    assert (row["diff"], row["diff_lo"], row["diff_hi"]) == pytest.approx(
        (52.38095238095237249, 0.27051888238854849, 78.78021636552558959), rel=1e-9
    )
    row = cell(long, "panel_judgement", "about_right", "True", "pct")  # 3/7 vs 2/6
    assert (row["diff"], row["diff_lo"], row["diff_hi"]) == pytest.approx(
        (9.5238095238095237, -36.0326740891247397, 49.3965341317429960), rel=1e-9
    )
    # only on the comparison group's rows: 1 mean + 2 svc levels + 3 panel levels
    assert long["diff"].notna().sum() == 6
    assert set(long.loc[long["diff"].notna(), "group"]) == {"True"}


def test_welch_by_name_gives_welch_p_and_interval() -> None:
    s = cc.summarize(small_clinics(), ["hours_cc_week"], by="urban").add_p("welch_t")
    long = s.add_difference().long
    # R: t.test(urban, rural, var.equal = FALSE): p 0.057322341781391152,
    # conf.int -0.39464348772223351 21.72797682105556660
    assert p_of(long, "hours_cc_week")["test"] == "welch_t"
    assert p_of(long, "hours_cc_week")["value"] == pytest.approx(0.057322341781391152, rel=1e-10)
    row = cell(long, "hours_cc_week", "", "True", "mean")
    assert (row["diff_lo"], row["diff_hi"]) == pytest.approx(
        (-0.39464348772223351, 21.72797682105556660), rel=1e-10
    )


def test_reference_group_turns_the_difference() -> None:
    s = cc.summarize(small_clinics(), ["svc_social_needs"], by="urban", reference=True)
    long = s.add_difference().long
    row = cell(long, "svc_social_needs", "yes", "False", "pct")  # 2/6 minus 6/7
    assert row["diff"] == pytest.approx(-52.38095238095237249)
    assert (row["diff_lo"], row["diff_hi"]) == pytest.approx(
        (-78.78021636552558959, -0.27051888238854849)
    )


def test_left_out_rows_are_footnoted_and_labels_printed(urban) -> None:
    md = urban.render("md")
    assert (
        "| Characteristic | Total | Rural | Urban | P | Difference Urban – Rural (95% CI), pp or mean | P (row) | q |"
        in md
    )
    assert "1 row with no urban value left out." in md
    assert "| N | 14 | 6 | 8 |" in md
    # a full item: its question as section header with P, its levels indented below
    assert (
        "| **Does the patient panel seem about right, too many or too few?** |  |  |  | 0.51<sup>a</sup> |"
        in md
    )
    assert (
        "| \u2003About right | 5 (38.5) | 2 (33.3) | 3 (42.9) |  | +9.5 (-36.0 to +49.4) | >0.9 |  |"
        in md
    )
    assert SYNTHETIC_LABEL not in md


# ---------------------------------------------------------------------------------------------
# Three groups: system size
# ---------------------------------------------------------------------------------------------


def test_three_groups_fisher_r_by_c_and_anova_agree_with_r() -> None:
    s = cc.summarize(small_clinics(), ITEMS, by="system_size").add_p()
    long = s.long
    assert s.groups == ("small", "medium", "large")  # the category's order
    assert long[long["item"] == "n"]["value"].tolist() == [15, 4, 5, 6]
    assert v(long, "panel_judgement", "too_many", "large", "n") == 3
    assert v(long, "svc_social_needs", "yes", "large", "denom") == 5
    # R: fisher.test(matrix(c(3, 1, 3, 2, 3, 2), nrow = 2))$p.value
    assert p_of(long, "svc_social_needs")["value"] == pytest.approx(1.0)
    # R: fisher.test(matrix(c(2, 0, 2, 3, 1, 1, 1, 3, 1), nrow = 3))$p.value
    assert p_of(long, "panel_judgement")["value"] == pytest.approx(0.50335378906807515, rel=1e-10)
    # R: oneway.test(h ~ g, var.equal = TRUE)$p.value (= summary(aov(h ~ g)))
    assert p_of(long, "hours_cc_week")["test"] == "anova"
    assert p_of(long, "hours_cc_week")["value"] == pytest.approx(0.41336127537366241, rel=1e-10)
    # R: oneway.test(h ~ g, var.equal = FALSE)$p.value
    welch = cc.summarize(small_clinics(), ["hours_cc_week"], by="system_size").add_p("welch_t")
    assert p_of(welch.long, "hours_cc_week")["test"] == "welch_anova"
    assert p_of(welch.long, "hours_cc_week")["value"] == pytest.approx(
        0.50397973757749082, rel=1e-10
    )


def test_three_groups_difference_needs_a_group() -> None:
    s = cc.summarize(small_clinics(), ["svc_social_needs"], by="system_size")
    with pytest.raises(ValueError, match="name the group to compare with the reference 'small'"):
        s.add_difference()
    long = s.add_difference("large").long
    row = cell(long, "svc_social_needs", "yes", "large", "pct")  # 3/5 minus 3/4
    assert row["diff"] == pytest.approx(-15.0)
    with pytest.raises(ValueError, match=r"one of \['medium', 'large'\] \(not 'small'\)"):
        s.add_difference("small")


# ---------------------------------------------------------------------------------------------
# Groups from any column; labels; display rules; errors
# ---------------------------------------------------------------------------------------------


def test_integer_codes_take_the_dictionarys_labels() -> None:
    frame = small_clinics().assign(certified_cc=[1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 0, 1, None])
    s = cc.summarize(frame, ["svc_social_needs"], by="certified_cc")
    assert s.groups == ("0", "1")
    assert s.long["group"].tolist()[:3] == ["total", "0", "1"]
    header = s.render("md").splitlines()[2]
    assert header.startswith("| Characteristic | Total | No | Yes |")


def test_text_groups_are_sorted_and_a_level_id_takes_its_choice_label() -> None:
    frame = small_clinics()
    s = cc.summarize(frame, ["svc_social_needs"], by="panel_judgement")
    assert s.groups == ("about_right", "too_many", "too_few")
    assert "| Characteristic | Total | About right | Too many | Too few |" in s.render("md")
    frame["region"] = ["north", "south", "east"] * 5
    assert cc.summarize(frame, ["svc_social_needs"], by="region").groups == (
        "east",
        "north",
        "south",
    )


def test_display_rules_are_options() -> None:
    frame = small_clinics()
    show = {"svc_social_needs": "binary", "panel_judgement": "about_right+too_many"}
    long = cc.summarize(frame, ITEMS, by="urban", show=show).long
    assert set(long.loc[long["item"] == "svc_social_needs", "level"]) == {"yes"}
    assert v(long, "panel_judgement", "about_right_too_many", "True", "n") == 6
    assert v(long, "panel_judgement", "about_right_too_many", "False", "pct") == 50
    md = cc.summarize(frame, ITEMS, by="urban", show=show).add_p().render("md")
    assert (
        "| Does the patient panel seem about right, too many or too few?: About right or Too many |"
        in md
    )
    # a list: one row each, under the item's question; the test still on the whole distribution
    s = cc.summarize(frame, ["panel_judgement"], by="urban", show={"panel_judgement": ["too_few"]})
    assert s.add_p().long.query("measure == 'p'")["value"].iloc[0] == pytest.approx(
        0.51048951048951041, rel=1e-12
    )


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"by": "care_model"}, KeyError, "no column 'care_model' to group by"),
        ({"items": ["no_such_item"]}, ValueError, "not an analysis item of the data dictionary"),
        ({"items": ["sw_on_team"]}, KeyError, "the frame has no column 'sw_on_team'"),
        ({"items": []}, ValueError, "no items"),
        ({"show": {"panel_judgement": "maybe"}}, ValueError, r"\['maybe'\] not among its levels"),
        ({"show": {"hours_cc_week": "binary"}}, ValueError, "numeric"),
        ({"show": {"panel_judgement": "binary"}}, ValueError, "no level 'yes'"),
        ({"labels": {"rural": "Rural"}}, ValueError, r"labels for groups \['rural'\]"),
        ({"reference": "suburban"}, ValueError, "reference 'suburban' is not a group"),
    ],
)
def test_clear_errors(kwargs, error, message) -> None:
    args = {"items": ITEMS, "by": "urban"} | kwargs
    with pytest.raises(error, match=message):
        cc.summarize(small_clinics(), **args)


def test_a_by_with_one_group_is_refused() -> None:
    frame = small_clinics()
    frame["urban"] = True
    with pytest.raises(
        ValueError, match=r"by='urban' has 1 group\(s\) \['True'\]; a comparison needs 2"
    ):
        cc.summarize(frame, ITEMS, by="urban")
    frame["group"] = "total"
    frame.loc[0, "group"] = "x"
    with pytest.raises(ValueError, match="reserved name"):
        cc.summarize(frame, ITEMS, by="group")


def test_add_q_needs_p_and_add_p_checks_its_items() -> None:
    s = cc.summarize(small_clinics(), ITEMS, by="urban")
    with pytest.raises(ValueError, match="call add_p"):
        s.add_q()
    with pytest.raises(ValueError, match=r"tests for \['panel_size'\]"):
        s.add_p({"panel_size": "chisq"})
    with pytest.raises(ValueError, match="unknown test 'wilcoxon'; the tests: anova, chisq"):
        s.add_p("wilcoxon")


# ---------------------------------------------------------------------------------------------
# Immutable, chainable; rendering through the tables' renderers
# ---------------------------------------------------------------------------------------------


def test_each_step_returns_a_new_summary() -> None:
    s = cc.summarize(small_clinics(), ITEMS, by="urban")
    t = s.add_p()
    u = t.add_difference()
    assert s is not t and t is not u
    assert s.tests is None and not (s.long["measure"] == "p").any()
    assert (t.long["measure"] == "p").sum() == 3 and t.long["diff"].isna().all()
    assert u.long["diff"].notna().sum() == 5 and u.long["q"].isna().all()  # yes, mean, 3 levels
    with pytest.raises(AttributeError):
        s.by = "system_size"  # type: ignore[misc]


def test_render_uses_the_tables_renderers_and_the_synthetic_label(tmp_path) -> None:
    import docx

    s = cc.summarize(small_clinics(), ITEMS, by="urban", synthetic=True).add_p()
    assert s.render("tex").startswith(f"% {SYNTHETIC_LABEL}")
    assert s.render("html").count(SYNTHETIC_LABEL) == 1  # once, above the table
    doc = docx.Document(io.BytesIO(s.render("docx")))
    assert doc.paragraphs[0].text == SYNTHETIC_LABEL
    assert doc.tables[0].cell(1, 0).text == "N" and doc.tables[0].cell(1, 1).text == "14"
    files = s.write(tmp_path, "urban")
    assert sorted(p.name for p in files.values()) == [
        "urban.csv",
        "urban.docx",
        "urban.html",
        "urban.md",
        "urban.tex",
    ]
    back = pd.read_csv(files["csv"], keep_default_na=False)
    assert list(back.columns[:6]) == ["table", "item", "level", "group", "measure", "value"]
    assert set(back["group"]) == {"total", "False", "True", "all"}
    with pytest.raises(ValueError, match="unknown format"):
        s.render("rtf")


# ---------------------------------------------------------------------------------------------
# The paper's tables are this API's
# ---------------------------------------------------------------------------------------------


def test_a_paper_table_compares_the_care_models() -> None:
    paper = cc.from_spec(HAND_SPEC, hand_clinics(), "table3")
    assert paper.groups == ("mn", "isw") and paper.comparison == "isw"


def test_a_title_and_a_dictionary_of_ones_own(tmp_path) -> None:  # noqa: ANN001
    """``title=`` replaces the groups' title; ``instrument=`` a dictionary at a path: its items
    are the ones summarize accepts (here a copy without ``hours_cc_week``)."""
    from ccanalysis.paths import project_root

    frame = hand_clinics()
    s = cc.summarize(frame, ["svc_social_needs"], by="group", title="Social needs by model")
    assert s.title == "Social needs by model"
    lines = (project_root() / "data/raw/cc_survey_dictionary.csv").read_text().splitlines(True)
    mine = tmp_path / "dictionary.csv"
    mine.write_text("".join(x for x in lines if not x.startswith("hours_cc_week,")))
    with pytest.raises(ValueError, match="not an analysis item"):
        cc.summarize(frame, ["hours_cc_week"], by="group", instrument=mine)


def test_a_paper_table_by_another_column() -> None:
    """Table 3 of the specification by urban vs rural: the same rows, new groups."""
    clinics, _ = random_frames(n_clinics=120, n_coord=80, seed=3)
    s = cc.from_spec(
        read_spec(), clinics, "table3", by="urban", labels={True: "Urban", False: "Rural"}
    )
    long = s.long
    assert s.groups == ("False", "True") and s.comparison == "True"
    n = long[long["item"] == "n"].set_index("group")["value"]
    assert n["True"] == (clinics["ruca"] <= 3).sum() and n["total"] == 120
    yes = clinics["svc_social_needs"] == "yes"
    urban = clinics["urban"]
    ok = clinics["svc_social_needs"].notna()
    assert v(long, "svc_social_needs", "yes", "True", "pct") == pytest.approx(
        100 * (yes & urban).sum() / (ok & urban).sum()
    )
    assert "Difference Urban – Rural (95% CI)" in s.render("md")


# ---------------------------------------------------------------------------------------------
# A row's own p beside the item's; a family of tests across tables
# ---------------------------------------------------------------------------------------------


def test_each_level_of_a_multi_level_item_gets_its_own_test() -> None:
    show = {"panel_judgement": ["about_right", "too_few", "about_right+too_many"]}
    long = cc.summarize(small_clinics(), ITEMS, by="urban", show=show).add_p().long
    # R: fisher.test(matrix(c(1, 6, 3, 3), nrow = 2))$p.value (too few: urban 1/7, rural 3/6)
    row = cell(long, "panel_judgement", "too_few", "True", "pct")
    assert row["p_level"] == pytest.approx(0.26573426573426573, rel=1e-12)
    assert row["test_level"] == "fisher"
    # R: fisher.test(matrix(c(3, 4, 2, 4), nrow = 2))$p.value (about right: 3/7 vs 2/6)
    assert cell(long, "panel_judgement", "about_right", "total", "pct")["p_level"] == pytest.approx(
        1
    )
    # R: fisher.test(matrix(c(6, 1, 3, 3), nrow = 2))$p.value (about right or too many: 6/7 vs 3/6)
    both = long[(long["level"] == "about_right_too_many") & (long["measure"] == "pct")]
    assert both["p_level"].tolist() == pytest.approx([0.26573426573426578] * 3, rel=1e-12)
    # the item's own p is still the whole distribution's (3 x 2)
    assert p_of(long, "panel_judgement")["value"] == pytest.approx(0.51048951048951041, rel=1e-12)
    # two answers (the level test is the item's test), a mean, and the n/denom rows: none
    assert long.loc[long["item"] != "panel_judgement", "p_level"].isna().all()
    assert long.loc[long["measure"] != "pct", "p_level"].isna().all()


def test_a_level_test_with_three_groups_is_2_by_3() -> None:
    long = cc.summarize(small_clinics(), ["panel_judgement"], by="system_size").add_p().long
    # R: fisher.test(matrix(c(0, 4, 1, 4, 3, 2), nrow = 2))$p.value (too many: 0/4, 1/5, 3/5)
    row = cell(long, "panel_judgement", "too_many", "large", "pct")
    assert row["p_level"] == pytest.approx(0.23076923076923156, rel=1e-12)


def test_a_level_test_beside_a_difference_tests_its_two_groups() -> None:
    """Among three groups, a difference compares two: the level test beside it is the 2 x 2 of
    those two (large vs small), not the 2 x 3 of all, whichever step comes first."""
    s = cc.summarize(small_clinics(), ["panel_judgement"], by="system_size")
    for summary in (s.add_p().add_difference("large"), s.add_difference("large").add_p()):
        long = summary.long
        # R: fisher.test(matrix(c(3, 2, 0, 4), nrow = 2))$p.value (too many: large 3/5, small 0/4)
        row = cell(long, "panel_judgement", "too_many", "large", "pct")
        assert row["p_level"] == pytest.approx(0.16666666666666655, rel=1e-12)
        assert row["diff"] == pytest.approx(100 * (3 / 5 - 0 / 4))
        # R: fisher.test(matrix(c(1, 4, 2, 2), nrow = 2))$p.value (about right: 1/5 vs 2/4)
        row = cell(long, "panel_judgement", "about_right", "large", "pct")
        assert row["p_level"] == pytest.approx(0.52380952380952384, rel=1e-12)
        md = summary.render("md", extras=True)
        assert "against all other answers, in the two groups the difference compares" in md
        assert "(small and large)" in md


def test_the_row_p_is_rendered_with_what_it_tests() -> None:
    show = {"panel_judgement": "too_few"}
    s = cc.summarize(small_clinics(), ["panel_judgement"], by="urban", show=show)
    md = s.add_p().add_difference().add_q().render("md")
    assert "| Difference True – False (95% CI), pp or mean | P (row) | q |" in md
    row = next(line for line in md.splitlines() if ": Too few |" in line)
    # P of the whole distribution, the difference 1/7 - 3/6 (R, Newcombe from Wilson intervals:
    # -35.714285714285715 -69.078059904305789 12.729904153580579), the level's own Fisher p
    # (0.26573426573426573), q of the table's one test
    assert row.endswith("| 0.51<sup>a</sup> | -35.7 (-69.1 to +12.7) | 0.27 | 0.51 |")
    assert "P (row): Fisher's exact test of the row's answer level" in md
    assert "P tests the whole answer distribution of the item" in md


def test_q_across_a_family_of_tables_agrees_with_r() -> None:
    a = cc.summarize(small_clinics(), ITEMS, by="urban", table="a").add_p()
    b = cc.summarize(small_clinics(), ITEMS, by="system_size", table="b").add_p()
    a2, b2 = cc.add_q_across(a, b, family="both")
    # R: p.adjust(c(0.1025641, 0.0610727, 0.5104895, 1, 0.5033538, 0.4133613), method = "BH")
    q = [*a2.long.query("measure == 'p'")["q"], *b2.long.query("measure == 'p'")["q"]]
    r = [0.30769230769230799, 0.30769230769230799, 0.61258741258741245, 1.0, 0.61258741258741245]
    assert q == pytest.approx([*r, 0.61258741258741245], rel=1e-12)
    note = "q: Benjamini-Hochberg q-value across the 6 tests of the pre-specified family 'both' (a and b)."
    assert note in a2.add_difference().render("md")
    # each table alone: its own three tests
    assert a.add_q().long.query("measure == 'p'")["q"].tolist() == pytest.approx(
        [0.15384615384615399, 0.15384615384615399, 0.51048951048951041]
    )
    with pytest.raises(ValueError, match="b has no p-values"):
        cc.add_q_across(a, cc.summarize(small_clinics(), ITEMS, by="urban", table="b"))


# ---------------------------------------------------------------------------------------------
# Inputs checked against the dictionary; the defaults a student expects; the table's context
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "call", "message"),
    [
        # a yes/no item recoded to 0/1: the values, and the codes expected
        (lambda f: f.assign(svc_social_needs=f["svc_social_needs"].map({"yes": 1, "no": 0})),
         {}, r"'svc_social_needs' has 14 values outside its coded answers: \['0', '1'\]; "
             r"expected \['yes', 'no'\]"),
        (lambda f: f.assign(hours_cc_week=f["hours_cc_week"].astype(object).fillna("n/a")),
         {}, r"'hours_cc_week' has 1 values outside its coded answers: \['n/a'\]; expected numbers"),
        (lambda f: f.rename(columns={"hours_cc_week": "hours"}), {},
         r"the frame has no column 'hours_cc_week'"),
        (lambda f: f, {"items": ["svc_social_need"]},
         r"not an analysis item .* \(did you mean 'svc_social_needs'"),
        (lambda f: f, {"by": "urbn"}, r"no column 'urbn' to group by \(did you mean 'urban'\?\)"),
        # a numeric by, or more than ten groups: group it first, or raise max_groups
        (lambda f: f, {"by": "hours_cc_week", "items": ["svc_social_needs"]},
         r"by='hours_cc_week' is a numeric column of 13 distinct values; .*pd.cut.*max_groups=13"),
        (lambda f: f, {"by": "clinic_id"}, r"by='clinic_id' is a column of 15 distinct values"),
    ],
)  # fmt: skip
def test_wrong_inputs_stop_with_what_was_expected(change, call, message) -> None:
    kwargs = {"items": ITEMS, "by": "urban"} | call
    with pytest.raises((ValueError, KeyError), match=message):
        cc.summarize(change(small_clinics()), **kwargs)


def test_max_groups_lets_a_grouping_of_many_values_through() -> None:
    s = cc.summarize(small_clinics(), ["svc_social_needs"], by="clinic_id", max_groups=15)
    assert len(s.groups) == 15


@pytest.mark.parametrize(
    ("test", "message"),
    [
        ({"hours_cc_week": "fisher"}, r"'fisher' does not fit 'hours_cc_week', a numeric item "
         r"\(a mean\); the tests that do: anova, student_t, welch_anova, welch_t"),
        ({"svc_social_needs": "student_t"}, r"'student_t' does not fit 'svc_social_needs', a "
         r"categorical item \(counts\); the tests that do: chisq, chisq_yates, fisher"),
        ("fishr", r"unknown test 'fishr' \(did you mean 'fisher'\?\); the tests: anova, chisq"),
        ({"svc_social_need": "chisq"}, r"not items of the table \(did you mean 'svc_social_needs'"),
    ],
)  # fmt: skip
def test_a_test_that_does_not_fit_names_those_that_do(test, message) -> None:
    with pytest.raises(ValueError, match=message):
        cc.summarize(small_clinics(), ITEMS, by="urban").add_p(test)
    only_counts = cc.summarize(small_clinics(), ["svc_social_needs"], by="urban")
    with pytest.raises(ValueError, match="'welch_t' is a test of numeric items .* has none"):
        only_counts.add_p("welch_t")


def test_defaults_one_row_for_yes_no_items_and_a_title_naming_the_groups() -> None:
    s = cc.summarize(small_clinics(), ITEMS, by="urban", labels={True: "Urban", False: "Rural"})
    rows = s.long.query("item == 'svc_social_needs' and measure == 'pct'")
    assert set(rows["level"]) == {"yes"}  # the No row mirrors it: shown only when asked for
    assert s.title == "Rural vs Urban"
    plain = cc.summarize(small_clinics(), ITEMS, by="urban", population="clinics of 2024")
    assert plain.title == "urban: False vs True – clinics of 2024"
    assert "clinics of 2024" in plain.render("md")
    assert dir(cc) == sorted(cc.__all__)  # the API only, no imports or annotations


def test_the_uncalibrated_dagger_and_the_checkbox_rule_survive_summarize(tmp_path) -> None:
    (tmp_path / "uncalibrated_items.csv").write_text(
        "item,field,unit,distribution,source\n"
        "svc_social_needs,services,clinic,1=0.6,@CC-SYNTH\nhours_cc_week,hours_cc_week,clinic,,\n",
        encoding="utf-8",
    )
    s = cc.summarize(small_clinics(), ITEMS, by="urban", synthetic=True, export_dir=tmp_path)
    md = s.render("md")
    assert "Synthetic answers not calibrated to a printed number (svc_social_needs: 1=0.6; " in md
    assert "no box checked counts as unanswered" in md and "†" in md
    assert "†" not in cc.summarize(small_clinics(), ITEMS, by="urban").render("md")


def test_add_q_names_its_family() -> None:
    s = cc.summarize(small_clinics(), ITEMS, by="urban").add_p().add_q(family="urban_all")
    assert "across the 3 tests of the pre-specified family 'urban_all' (summary)" in s.render("md")
