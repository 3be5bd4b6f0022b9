"""Tables 1-4: counts, denominators, tests, formatting and renderers, on frames whose answers we know.

Reference values: hand counts (in the comments), and R 4.2.2 for every p-value and interval
(``tests/reference/tables.R`` prints each under the name quoted beside it).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccanalysis import stats
from ccanalysis.classify import classify_clinics, coordinator_groups
from ccanalysis.instrument import read_dictionary
from ccanalysis.printing import format_p, round_half_up
from ccanalysis.spec import Spec, from_frame, read_spec
from ccanalysis.tables import from_spec, long_csv, run, text_facts
from ccanalysis.tables.grid import format_mean_sd, format_n_pct, grid
from ccanalysis.tables.paper import summary
from ccanalysis.tables.render import FIXED_DATE
from ccanalysis.vocab import SYNTHETIC_LABEL

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENT = read_dictionary(ROOT / "data" / "raw" / "cc_survey_dictionary.csv")
YN = ["yes", "no"]
FREQ5 = ["always", "mostly", "sometimes", "rarely", "never"]

HAND_SPEC = pd.read_csv(
    io.StringIO(
        """table,section,item,level,label,stat,shown,combine,test
table3,,hours_cc_week,,Hours/week – Mean (SD),mean_sd,full,,student_t
table3,Patient panel seems:,panel_judgement,about_right,about right,pct,full,,fisher
table3,Patient panel seems:,panel_judgement,too_many,too many,pct,full,,fisher
table3,Patient panel seems:,panel_judgement,too_few,too few,pct,full,,fisher
table3,Communication (always/mostly):,pt_comm_phone,always_mostly,Telephone,pct,collapsed,always+mostly,fisher
table3,Services provided:,svc_social_needs,yes,Social needs assessment/referral,pct,binary,,fisher
table1,Degree,degree,rn,RN,n_pct,full,,fisher
table1,Degree,degree,msw_bsw,MSW or BSW,n_pct,full,,fisher
table1,,certified_cc,yes,"Certified, yes",n_pct,binary,,fisher
table1,,years_cc_role,,Years mean (SD),mean_sd,mean_sd,,anova
table1,,work_onsite,usually_always,"Onsite, usually or always",n_pct,collapsed,always+usually,fisher
"""
    ),
    keep_default_na=False,
)


def cat(values: list[str | None], levels: list[str]) -> pd.Categorical:
    return pd.Categorical(values, categories=levels, ordered=True)


def hand_clinics() -> pd.DataFrame:
    """Eight clinics, four per care model (C1-C4 mn, C5-C8 isw), answers chosen by hand."""
    panel = ["about_right", "about_right", "too_few", None]
    panel += ["about_right", "too_many", "too_many", "too_few"]
    phone = ["always", "mostly", "sometimes", "never", "always", "always", "mostly", None]
    return pd.DataFrame(
        {
            "clinic_id": [f"C{i}" for i in range(1, 9)],
            "coordinator_id": ["K1", "K1", "K2", "K3", "K4", "K5", "K5", "K6"],
            "group": cat(["mn"] * 4 + ["isw"] * 4, ["mn", "isw"]),
            "hours_cc_week": [10.0, 20.0, 30.0, np.nan, 20.0, 30.0, 40.0, 50.0],
            "panel_judgement": cat(panel, ["about_right", "too_many", "too_few"]),
            "pt_comm_phone": cat(phone, FREQ5),
            "svc_social_needs": cat(["yes", "no", "no", "no", "yes", "yes", "yes", "no"], YN),
        }
    )


def hand_coordinators() -> pd.DataFrame:
    """Seven coordinators in the three Table 1 groups (K1-K3 mn_only, K4-K5 isw_only, K6-K7 both)."""
    groups = ["mn_only"] * 3 + ["isw_only"] * 2 + ["both"] * 2
    degree = ["rn", "rn", "msn_bsn", "msw_bsw", "rn", "msw_bsw", "other_none"]
    onsite = ["always", "usually", "never", "sometimes", "always", "usually", "usually"]
    return pd.DataFrame(
        {
            "coordinator_id": [f"K{i}" for i in range(1, 8)],
            "group": cat(groups, ["mn_only", "isw_only", "both"]),
            "degree": cat(degree, ["rn", "msn_bsn", "msw_bsw", "lpn_cma", "other_none"]),
            "certified_cc": cat(["yes", "no", None, "yes", "no", None, "yes"], YN),
            "years_cc_role": [1.0, 2.0, 3.0, 5.0, 7.0, 4.0, np.nan],
            "work_onsite": cat(onsite, ["always", "usually", "sometimes", "rarely", "never"]),
        }
    )


def random_frames(n_clinics: int = 317, n_coord: int = 213, seed: int = 1):
    """Random clinics and coordinators of the paper's size with every item of the instrument."""
    rng = np.random.default_rng(seed)
    coord_ids = [f"K{i:03d}" for i in range(n_coord)]
    assign = np.concatenate([np.arange(n_coord), rng.integers(0, n_coord, n_clinics - n_coord)])
    rng.shuffle(assign)
    system = np.repeat(np.arange(42), rng.integers(1, 15, 42))[:n_clinics]
    system = np.concatenate([system, rng.integers(0, 42, n_clinics - len(system))])
    clinics = pd.DataFrame(
        {
            "clinic_id": [f"C{i:03d}" for i in range(n_clinics)],
            "coordinator_id": [coord_ids[a] for a in assign],
            "care_system_id": [f"S{s:02d}" for s in system],
            "ruca": rng.integers(1, 11, n_clinics),
        }
    )
    clinics["urban"] = clinics["ruca"] <= 3
    per_system = clinics.groupby("care_system_id")["clinic_id"].transform("size")
    size = np.where(per_system <= 2, "small", np.where(per_system <= 9, "medium", "large"))
    clinics["system_size"] = cat(list(size), ["small", "medium", "large"])
    coordinators = pd.DataFrame({"coordinator_id": coord_ids})
    by_coordinator = clinics.groupby("coordinator_id")
    coordinators["care_system_id"] = by_coordinator["care_system_id"].first()[coord_ids].to_numpy()
    coordinators["n_clinics"] = by_coordinator.size()[coord_ids].to_numpy()
    # care model mostly per coordinator (as in the paper: few coordinators work in both models)
    isw = (rng.random(n_coord) < 0.43)[assign]
    multi = np.flatnonzero(np.bincount(assign, minlength=n_coord) >= 2)
    for c in rng.choice(multi, min(8, len(multi)), replace=False):
        k = np.flatnonzero(assign == c)[0]
        isw[k] = not isw[k]
    for name, f in INSTRUMENT.analysis_items().items():
        frame = coordinators if f.form == "coordinator" else clinics
        n = len(frame)
        if f.is_numeric:
            frame[name] = np.where(rng.random(n) < 0.03, np.nan, rng.gamma(2.0, 8.0, n).round())
            continue
        levels = YN if (f.field_type == "checkbox" and f.items) else f.level_order()
        vals = rng.choice(levels, n).astype(object)
        vals[rng.random(n) < 0.03] = None
        if name.startswith("sw_") and name != "sw_engage_ease":
            vals = np.where(isw, "yes", vals)
        frame[name] = cat(list(vals), levels)
    clinics = classify_clinics(clinics)
    return clinics, coordinator_groups(clinics, coordinators)


def long_of(spec, data, table: str, **kw) -> pd.DataFrame:  # noqa: ANN001
    return from_spec(spec, data, table, **kw).long


def all_tables(spec: Spec, clinics: pd.DataFrame, coordinators: pd.DataFrame) -> dict:
    """Every table as the stage builds it: from_spec, then q-values across the spec's families."""
    data = {"clinics": clinics, "coordinators": coordinators}
    return {t: from_spec(spec, data, t) for t in spec.tables}


@pytest.fixture(scope="module")
def spec() -> Spec:
    return read_spec()


@pytest.fixture(scope="module")
def paper_size():
    return random_frames()


def cell(long: pd.DataFrame, item: str, level: str, group: str, measure: str) -> pd.Series:
    """The one row of a long table with these keys."""
    hit = long[
        (long["item"] == item)
        & (long["level"] == level)
        & (long["group"] == group)
        & (long["measure"] == measure)
    ]
    assert len(hit) == 1, (item, level, group, measure, len(hit))
    return hit.iloc[0]


def value(long: pd.DataFrame, item: str, level: str, group: str, measure: str) -> float:
    return float(cell(long, item, level, group, measure)["value"])


def p_row(long: pd.DataFrame, item: str) -> pd.Series:
    hit = long[(long["item"] == item) & (long["measure"] == "p")]
    assert len(hit) == 1
    return hit.iloc[0]


# ---------------------------------------------------------------------------------------------
# The specification
# ---------------------------------------------------------------------------------------------


def test_package_spec_is_valid_against_the_instrument(spec) -> None:
    frame = spec.frame
    assert set(frame["table"]) == {"table1", "table2", "table3", "table4"}
    assert (frame.loc[frame["table"] == "table2", "denominator"] == "all").all()
    assert all(r.all_denominator for r in spec.of("table2"))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"item": "no_such_item"}, "not in the data dictionary"),
        ({"level": "sometimes_maybe"}, "is not an answer"),
        ({"test": "wilcoxon"}, "unknown test"),
        ({"stat": "median"}, "unknown stat"),
        ({"combine": "always+oftenish"}, "'oftenish' is not an answer"),
    ],
)
def test_spec_validation_names_the_problem(spec, change, message) -> None:
    bad = spec.frame.copy()
    item = "pt_comm_phone" if "combine" in change else "panel_judgement"
    row = bad.index[bad["item"] == item][0]
    for k, v in change.items():
        bad.loc[row, k] = v
    with pytest.raises(ValueError, match=message):
        from_frame(bad, instrument=INSTRUMENT)


def test_spec_rows_fill_blanks_and_strip() -> None:
    """A hand-made frame read as typed rows: blanks become empty text, labels are stripped, the
    optional columns get their defaults."""
    raw = HAND_SPEC.astype(object)
    raw.loc[0, "section"] = None
    raw.loc[1, "label"] = "  about right  "
    from_frame(HAND_SPEC, instrument=INSTRUMENT)
    rows, norm = from_frame(raw).rows, from_frame(raw).frame
    assert list(norm.columns) == [*raw.columns, "denominator", "footnote", "family"]
    assert rows[0].section == "" and rows[1].label == "about right" and rows[0].level == ""
    assert all(r.denominator == "answered" and r.footnote == "" for r in rows)
    assert [r.family for r in rows] == [r.table for r in rows]  # the family: its table


def test_the_default_dictionary_is_read_once(monkeypatch) -> None:  # noqa: ANN001
    """read_spec() without an instrument and summarize share one reading of the dictionary."""
    from ccanalysis import instrument, spec

    first = spec.default_instrument()

    def no_reading(path):  # noqa: ANN001, ANN202
        raise AssertionError(f"the dictionary was read again: {path}")

    monkeypatch.setattr(instrument, "read_dictionary", no_reading)
    assert spec.default_instrument() is first and spec.as_instrument(None) is first
    levels = read_spec().row("table3", "panel_judgement", "too_few").item_levels
    assert levels == ("about_right", "too_many", "too_few")


def test_spec_families_are_validated() -> None:
    frame = read_spec().frame
    bad = frame.copy()
    bad.loc[bad["item"] == "panel_judgement", "family"] = "my family"
    with pytest.raises(ValueError, match="family 'my family' is not a name"):
        from_frame(bad)
    bad = frame.copy()
    bad.loc[bad["item"] == "svc_social_needs", "family"] = "services"
    with pytest.raises(ValueError, match=r"table3: rows of one table disagree on family"):
        from_frame(bad)
    assert {r.family for r in from_frame(frame.drop(columns="family")).of("table3")} == {"table3"}


# ---------------------------------------------------------------------------------------------
# Counts, denominators, collapse, N rows
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hand_long() -> pd.DataFrame:
    return long_of(HAND_SPEC, hand_clinics(), "table3")


def test_the_long_format_is_the_designs(hand_long) -> None:
    assert list(hand_long.columns[:6]) == ["table", "item", "level", "group", "measure", "value"]
    assert set(hand_long["measure"]) == {"n", "denom", "pct", "mean", "sd", "p"}
    p = hand_long[hand_long["measure"] == "p"]
    assert (p["level"] == "").all() and (p["group"] == "all").all()
    head = hand_long.head(3)  # the N row first, a value per group
    assert head["item"].tolist() == ["n"] * 3
    assert head["group"].tolist() == ["total", "mn", "isw"]
    assert head["value"].tolist() == [8, 4, 4]


def test_percentages_are_of_answers_with_their_denominators(hand_long) -> None:
    long = hand_long
    # panel_judgement: one missing answer among the mn clinics
    assert value(long, "panel_judgement", "about_right", "mn", "n") == 2
    assert value(long, "panel_judgement", "about_right", "mn", "denom") == 3
    assert value(long, "panel_judgement", "about_right", "mn", "pct") == pytest.approx(200 / 3)
    assert value(long, "panel_judgement", "too_many", "isw", "pct") == 50
    assert value(long, "panel_judgement", "about_right", "total", "n") == 3
    assert value(long, "panel_judgement", "about_right", "total", "denom") == 7
    assert value(long, "panel_judgement", "too_few", "total", "pct") == pytest.approx(200 / 7)
    assert value(long, "svc_social_needs", "yes", "isw", "pct") == 75
    assert value(long, "svc_social_needs", "yes", "mn", "pct") == 25
    # collapsed: mn always, mostly, sometimes, never -> 2 of 4; isw always, always, mostly, - -> 3/3
    assert value(long, "pt_comm_phone", "always_mostly", "mn", "n") == 2
    assert value(long, "pt_comm_phone", "always_mostly", "mn", "pct") == 50
    assert value(long, "pt_comm_phone", "always_mostly", "isw", "denom") == 3
    assert value(long, "pt_comm_phone", "always_mostly", "total", "pct") == pytest.approx(500 / 7)


def test_mean_sd_and_t_test(hand_long) -> None:
    long = hand_long
    assert value(long, "hours_cc_week", "", "mn", "mean") == 20
    assert value(long, "hours_cc_week", "", "mn", "sd") == 10
    assert value(long, "hours_cc_week", "", "mn", "denom") == 3
    assert value(long, "hours_cc_week", "", "isw", "mean") == 35
    assert value(long, "hours_cc_week", "", "total", "mean") == pytest.approx(200 / 7)
    row = p_row(long, "hours_cc_week")
    assert row["value"] == pytest.approx(0.157838810631696, rel=1e-12)  # hand_hours_student_p
    assert row["test"] == "student_t"


def test_p_is_fisher_on_the_full_distribution_once_per_item(hand_long) -> None:
    long = hand_long
    # the 4 x 2 of answers (hand_phone_fisher_p), not the collapsed 2 x 2 (0.42857142857142871)
    assert p_row(long, "pt_comm_phone")["value"] == pytest.approx(1.0, rel=1e-12)
    assert p_row(long, "panel_judgement")["value"] == pytest.approx(0.65714285714285658, rel=1e-12)
    assert p_row(long, "svc_social_needs")["value"] == pytest.approx(0.48571428571428582, rel=1e-12)
    assert (long["measure"] == "p").sum() == 4  # one per item, not per level
    kinds = long.loc[long["item"] == "panel_judgement", "measure"].tolist()
    assert kinds.index("p") == 9  # after the first level's rows: 3 groups x (n, denom, pct)


def test_table1_groups_anova_and_3_group_fisher() -> None:
    long = long_of(HAND_SPEC, hand_coordinators(), "table1")
    assert long.loc[long["item"] == "n", "value"].tolist() == [7, 3, 2, 2]
    assert value(long, "degree", "rn", "mn_only", "n") == 2
    assert value(long, "degree", "rn", "mn_only", "pct") == pytest.approx(200 / 3)
    assert value(long, "degree", "msw_bsw", "both", "pct") == 50
    # certified_cc: 2 missing answers, denominators 5 overall, 2 in mn_only, 1 in both
    assert value(long, "certified_cc", "yes", "total", "denom") == 5
    assert value(long, "certified_cc", "yes", "total", "pct") == 60
    assert value(long, "certified_cc", "yes", "both", "denom") == 1
    assert value(long, "work_onsite", "usually_always", "total", "n") == 5
    assert value(long, "work_onsite", "usually_always", "both", "pct") == 100
    years = p_row(long, "years_cc_role")
    assert years["test"] == "anova"
    assert years["value"] == pytest.approx(0.070978171818070743, rel=1e-10)  # hand_years_anova_p
    assert p_row(long, "degree")["value"] == pytest.approx(0.71428571428571352, rel=1e-12)
    assert p_row(long, "certified_cc")["value"] == pytest.approx(1.0, rel=1e-12)  # the 2 x 3


def test_mapping_input_and_missing_group_column() -> None:
    data = {"clinics": hand_clinics(), "coordinators": hand_coordinators()}
    assert long_of(HAND_SPEC, data, "table1")["group"].iloc[1] == "mn_only"
    with pytest.raises(KeyError, match="group"):
        long_of(HAND_SPEC, hand_clinics().drop(columns="group"), "table3")


def test_test_override() -> None:
    t3 = summary(HAND_SPEC, hand_clinics(), "table3")
    long = t3.add_p("welch_t").long
    assert p_row(long, "hours_cc_week")["test"] == "welch_t"
    assert p_row(long, "pt_comm_phone")["test"] == "fisher"
    assert p_row(long, "hours_cc_week")["value"] == pytest.approx(0.14429304308394356, rel=1e-12)
    long = t3.add_p({"svc_social_needs": "chisq"}).long
    assert p_row(long, "svc_social_needs")["test"] == "chisq"
    assert p_row(long, "svc_social_needs")["value"] == pytest.approx(0.15729920705028447, rel=1e-12)


# ---------------------------------------------------------------------------------------------
# Differences and q-values
# ---------------------------------------------------------------------------------------------


def test_differences_agree_with_r(hand_long) -> None:
    row = cell(hand_long, "svc_social_needs", "yes", "isw", "pct")  # 3/4 - 1/4, Newcombe
    expected = (50, -13.548840058295131, 78.908326808475564)  # hand_social_newcombe
    assert (row["diff"], row["diff_lo"], row["diff_hi"]) == pytest.approx(expected, rel=1e-9)
    row = cell(hand_long, "hours_cc_week", "", "isw", "mean")  # hand_hours_diff_ci
    expected = (15, -8.2302481587930476, 38.230248158793046)
    assert (row["diff"], row["diff_lo"], row["diff_hi"]) == pytest.approx(expected, rel=1e-10)
    # only on the comparison group's pct/mean rows: 1 mean + 3 panel levels + phone + social needs
    assert hand_long["diff"].notna().sum() == 6


def test_bh_q_values_by_hand() -> None:
    spec = HAND_SPEC[HAND_SPEC["item"].isin(["hours_cc_week", "pt_comm_phone", "svc_social_needs"])]
    p = long_of(spec, hand_clinics(), "table3").query("measure == 'p'")
    pv, q = p["value"].to_numpy(), p["q"].to_numpy()
    by_hand, running = np.empty(3), 1.0
    for rank, i in reversed(list(enumerate(np.argsort(pv), start=1))):  # largest p first
        running = min(running, pv[i] * 3 / rank)
        by_hand[i] = running
    assert q == pytest.approx(by_hand, rel=1e-15)
    # a concrete case: p = (0.01, 0.04, 0.03) -> q = (0.03, 0.04, 0.04)
    assert stats.bh_qvalues([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.04, 0.04])


# ---------------------------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "p, text",
    [
        (0.000999, "<0.001"),
        (0.0009999999, "<0.001"),
        (0.001, "0.001"),
        (0.00149, "0.001"),
        (0.0015, "0.002"),
        (0.0535, "0.054"),
        (0.0995, "0.1"),
        (0.125, "0.13"),
        (0.899, "0.9"),
        (0.9, "0.9"),
        (0.9000001, ">0.9"),
        (1.0, ">0.9"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_format_p(p, text) -> None:
    assert format_p(p) == text


def test_number_formats() -> None:
    with pytest.raises(ValueError):
        format_p(1.5)
    assert round_half_up(12.5, 0) == "13"
    assert round_half_up(41.31455399061033, 1) == "41.3"
    assert round_half_up(-0.04, 1) == "0.0"
    assert format_n_pct(88, 41.31455399061033, 1) == "88 (41.3)"
    assert format_n_pct(0, math.nan, 1) == "0 (–)"
    assert format_mean_sd(4.8123, 4.35) == "4.8 (4.4)"
    assert format_mean_sd(4.8123, math.nan) == "4.8"  # one answer: no SD


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hand_table():
    return from_spec(HAND_SPEC, hand_clinics(), "table3", synthetic=True)


def test_markdown_layout(hand_table, hand_long) -> None:
    md = hand_table.render("md", extras=False)
    lines = md.splitlines()
    assert lines[0] == f"**{SYNTHETIC_LABEL}**"
    header = next(i for i, line in enumerate(lines) if line.startswith("| Characteristic"))
    assert lines[header + 2] == "| N | 8 | 4 | 4 |  |"
    # section header of a full item carries its p; levels indented, whole percent
    pj = format_p(float(p_row(hand_long, "panel_judgement")["value"]))
    assert (
        f"| **Patient panel seems:** |  |  |  | {pj}<sup>b</sup> |" in lines
    )  # b: its test's footnote
    assert "| \u2003about right | 43 | 67 | 25 |  |" in lines
    assert "| \u2003Telephone | 71 | 50 | 100 | >0.9<sup>b</sup> |" in lines
    assert (
        "| Hours/week – Mean (SD) | 28.6 (13.5) | 20.0 (10.0) | 35.0 (12.9) | 0.16<sup>a</sup> |"
        in lines
    )
    assert "Fisher's exact test" in md and "Student's t-test" in md
    assert "Hours/week – Mean (SD): 7 answers" in md and "Patient panel seems: 7 answers" in md


def test_html_latex_and_docx_carry_label_footnotes_and_rules(hand_table) -> None:
    import docx

    html = hand_table.render("html", extras=False)
    assert html.count(SYNTHETIC_LABEL) == 1  # once, above the table
    assert "<caption>" in html and "full answer distribution" in html
    assert SYNTHETIC_LABEL not in from_spec(HAND_SPEC, hand_clinics(), "table3").render("html")
    tex = hand_table.render("tex", extras=False)
    assert tex.startswith(f"% {SYNTHETIC_LABEL}")
    assert all(rule in tex for rule in ("\\toprule", "\\midrule", "\\bottomrule"))
    assert "\\begin{tabular}{lrrrr}" in tex
    data = hand_table.render("docx", extras=False)
    doc = docx.Document(io.BytesIO(data))
    # header + N + 3 sections + hours + 3 panel levels + phone + social needs
    assert len(doc.tables[0].rows) == 1 + 1 + 3 + 1 + 3 + 1 + 1
    assert doc.tables[0].cell(1, 0).text == "N" and doc.tables[0].cell(1, 1).text == "8"
    assert doc.paragraphs[0].text == SYNTHETIC_LABEL
    assert doc.core_properties.created == FIXED_DATE
    with zipfile.ZipFile(io.BytesIO(data)) as z:  # reproducible: every entry dated FIXED_DATE
        assert {i.date_time for i in z.infolist()} == {FIXED_DATE.timetuple()[:6]}


def test_latex_escapes() -> None:
    spec = HAND_SPEC.copy()
    spec.loc[spec["item"] == "svc_social_needs", "label"] = "Social & financial 100% _needs_"
    tex = from_spec(spec, hand_clinics(), "table3").render("tex")
    assert "Social \\& financial 100\\% \\_needs\\_" in tex


def test_extras_columns(hand_table) -> None:
    md = hand_table.render("md")
    assert "Difference ISW – MN (95% CI)" in md and "| q |" in md
    assert "+50.0 (-13.5 to +78.9)" in md  # social needs 75% - 25%, Newcombe (R above)
    assert "Newcombe" in md and "Benjamini-Hochberg" in md


def test_docx_cells_are_the_grid(paper_tables) -> None:
    """Every cell of the printed grid lands in its place in Word (rows fetched row by row)."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    s = paper_tables["table3"]
    g = grid(s)
    rows = docx.Document(io.BytesIO(s.render("docx"))).tables[0].rows
    assert len(rows) == 1 + len(g.rows) > 50
    assert [c.text for c in rows[0].cells] == g.header
    assert all(c.paragraphs[0].runs[0].bold for c in rows[0].cells)
    for row, r in zip(rows[1:], g.rows, strict=True):
        assert [c.text for c in row.cells] == [r.label, *r.cells]
        assert all(c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for c in row.cells[1:])
        if r.kind == "section":
            assert row.cells[0].paragraphs[0].runs[0].bold


@pytest.mark.parametrize("kw", [{}, {"extras": True, "suppress_below": 3}])
def test_write_writes_what_render_gives_and_the_same_bytes_again(hand_table, tmp_path, kw) -> None:
    paths = hand_table.write(tmp_path, "table3", **kw)
    assert sorted(p.name for p in paths.values()) == [
        f"table3.{ext}" for ext in ("csv", "docx", "html", "md", "tex")
    ]
    for ext in ("html", "md", "tex"):
        assert paths[ext].read_text(encoding="utf-8") == hand_table.render(ext, **kw)
    assert paths["docx"].read_bytes() == hand_table.render("docx", **kw)
    csv_text = paths["csv"].read_text(encoding="utf-8")
    assert csv_text == long_csv(hand_table.long, kw.get("suppress_below"))
    assert csv_text.startswith("table,item,level,group,measure,value,")
    assert "table3,n,,total,n,8," in csv_text
    again = from_spec(HAND_SPEC, hand_clinics(), "table3", synthetic=True)
    second = again.write(tmp_path / "again", "table3", **kw)
    assert {k: p.read_bytes() for k, p in second.items()} == {
        k: p.read_bytes() for k, p in paths.items()
    }
    with pytest.raises(ValueError, match="unknown format"):
        hand_table.render("rtf")
    with pytest.raises(ValueError, match="at least 2"):
        hand_table.render("html", suppress_below=1)


def test_suppression(hand_table) -> None:
    md = hand_table.render("md", extras=False, suppress_below=3)
    lines = md.splitlines()
    # too few: counts total 2, mn 1, isw 1 -> all below 3; zero counts are not withheld
    assert next(x for x in lines if "\u2003too few" in x).startswith(
        "| \u2003too few | <3 | <3 | <3 |"
    )
    assert "| 0 |" in next(x for x in lines if "\u2003too many" in x)
    assert "<3: a count from 1 to 2" in md
    frame = pd.read_csv(io.StringIO(long_csv(hand_table.long, 3)), keep_default_na=False)
    hit = frame.query(
        "item == 'panel_judgement' and level == 'too_few' and group == 'mn' and measure == 'n'"
    )
    assert hit["value"].iloc[0] == "" and hit["note"].iloc[0] == "<3"


# ---------------------------------------------------------------------------------------------
# All four tables at the paper's size
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper_tables(spec, paper_size):
    return all_tables(spec, *paper_size)


def test_all_tables_at_paper_size(paper_size, paper_tables) -> None:
    clinics, _ = paper_size
    tables = {t: s.long for t, s in paper_tables.items()}
    assert sorted(tables) == ["table1", "table2", "table3", "table4"]
    t1, t2 = tables["table1"], tables["table2"]
    n1 = t1[t1["item"] == "n"].set_index("group")["value"]
    assert n1["total"] == 213 and n1[["mn_only", "isw_only", "both"]].sum() == 213
    assert not (t2["measure"] == "p").any()
    # Table 2: denominators are all clinics; isw_model is 100% of isw and 0% of mn
    assert value(t2, "sw_responsible", "yes", "mn", "denom") == (clinics["group"] == "mn").sum()
    assert value(t2, "isw_model", "yes", "isw", "pct") == 100
    assert value(t2, "isw_model", "yes", "mn", "pct") == 0
    for t in ("table3", "table4"):
        p = tables[t][tables[t]["measure"] == "p"]
        assert p["value"].between(0, 1).all() and p["q"].between(0, 1).all()
        assert set(p["test"]) <= {"fisher", "student_t"}
    # percentages of a full item add to 100 in every group
    t4 = tables["table4"]
    pct = t4[(t4["item"] == "clinicians_value") & (t4["measure"] == "pct")]
    assert pct.groupby("group")["value"].sum().to_numpy() == pytest.approx(100)


def test_q_values_across_the_pre_specified_family(spec, paper_size, paper_tables) -> None:
    """Tables 3 and 4 form one family (the spec's family column); Table 1 is its own."""
    clinics, coordinators = paper_size
    assert {r.q_family for r in spec.of("table3", "table4")} == {"tables_3_4"}
    data = {"clinics": clinics, "coordinators": coordinators}
    p3, p4 = (paper_tables[t].long.query("measure == 'p'") for t in ("table3", "table4"))
    q = stats.bh_qvalues(np.concatenate([p3["value"], p4["value"]]))
    assert np.concatenate([p3["q"], p4["q"]]) == pytest.approx(q, rel=1e-15)
    alone = from_spec(spec, data, "table3", family="table").long.query("measure == 'p'")
    assert alone["q"].to_numpy() == pytest.approx(stats.bh_qvalues(alone["value"]), rel=1e-15)
    # from_spec's default is the pipeline's family, by the spec (or by its name)
    for family in ("spec", "tables_3_4"):
        t4 = from_spec(spec, data, "table4", family=family)
        assert t4.long.query("measure == 'p'")["q"].to_numpy() == pytest.approx(p4["q"], rel=1e-15)
    with pytest.raises(ValueError, match="takes 'spec' or 'tables_3_4'"):
        from_spec(spec, data, "table3", family="table_3")
    pd.testing.assert_frame_equal(paper_tables["table1"].long, from_spec(spec, data, "table1").long)
    n = len(p3) + len(p4)
    note = f"across the {n} tests of the pre-specified family 'tables_3_4' (Table 3 and Table 4)."
    assert note in paper_tables["table4"].render("md")


def test_text_facts(paper_size) -> None:
    clinics, coordinators = paper_size
    v = text_facts(clinics, coordinators)
    sizes = ["small_1_2", "medium_3_9", "large_over_9"]
    assert sum(v[f"care_systems_{s}_clinics"] for s in sizes) == v["care_systems"]
    assert v["care_systems"] == clinics["care_system_id"].nunique()
    assert v["urban_pct_ruca_1_3"] == pytest.approx(100 * (clinics["ruca"] <= 3).mean())
    sw = set(coordinators.loc[coordinators["degree"] == "msw_bsw", "coordinator_id"])
    n_sw = clinics["coordinator_id"].isin(sw).sum()
    assert v["clinics_reported_by_sw_degree_coordinators"] == n_sw
    assert v["minutes_per_patient_week"] == pytest.approx(
        clinics["hours_cc_week"].mean() * 60 / clinics["panel_size"].mean()
    )
    mn_sw = clinics[(clinics["group"] == "mn") & (clinics["sw_on_team"] == "yes")]
    ease = mn_sw["sw_engage_ease"].dropna()
    assert v["mn_sw_on_team_difficult_to_engage"] == (ease == "somewhat_difficult").sum()
    assert v["mn_sw_on_team_difficult_to_engage_pct"] == pytest.approx(
        100 * (ease == "somewhat_difficult").mean()
    )


# ---------------------------------------------------------------------------------------------
# Items nobody answered; a missing column; uncalibrated synthetic items
# ---------------------------------------------------------------------------------------------


def test_an_item_nobody_answered_keeps_a_visible_row() -> None:
    """Never left out silently: the row stays, says "no answers", and a footnote names the item
    and its specification line; the item is not tested (an empty p that says why)."""
    clinics = hand_clinics()
    clinics["pt_comm_phone"] = cat([None] * 8, FREQ5)
    clinics["hours_cc_week"] = np.nan
    s = from_spec(HAND_SPEC, clinics, "table3")
    long = s.long
    assert value(long, "pt_comm_phone", "always_mostly", "total", "denom") == 0
    assert math.isnan(value(long, "pt_comm_phone", "always_mostly", "isw", "pct"))
    phone = long[long["item"] == "pt_comm_phone"]
    assert (phone["note"] == "no answers").all() and len(phone) == 3 * 3 + 1
    p = p_row(long, "pt_comm_phone")
    assert math.isnan(p["value"]) and p["test"] == "fisher" and p["note"] == "no answers"
    assert math.isnan(p_row(long, "hours_cc_week")["value"])
    md = s.render("md", extras=False)
    assert "| \u2003Telephone | no answers | – | – |  |" in md
    assert "| Hours/week – Mean (SD) | no answers | – | – |  |" in md
    assert (
        "No answers in these data (the row is kept, with no percentage and no test): "
        "Hours/week – Mean (SD); Telephone." in md
    )
    assert "pt_comm_phone: 0 answers" not in md
    # the q-values adjust across the tests that ran (panel 0.657..., social needs 0.486...: BH)
    assert p_row(long, "svc_social_needs")["q"] == pytest.approx(0.65714285714285658, rel=1e-12)


def test_a_missing_column_names_the_item_and_the_spec_line(spec) -> None:
    with pytest.raises(KeyError, match=r"table3: the frame has no column 'svc_social_needs' "):
        long_of(HAND_SPEC, hand_clinics().drop(columns="svc_social_needs"), "table3")
    line = spec.row("table3", "svc_social_needs", "yes").line
    clinics, coordinators = random_frames(n_clinics=60, n_coord=40)
    data = {"clinics": clinics.drop(columns="svc_social_needs"), "coordinators": coordinators}
    with pytest.raises(KeyError, match=rf"'svc_social_needs' \(specification line {line}\)"):
        from_spec(spec, data, "table3")


@pytest.mark.slow
def test_run_footnotes_uncalibrated_synthetic_items(tmp_path, paper_size) -> None:
    from ccanalysis.stage import context

    clinics, coordinators = paper_size
    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    clinics.to_parquet(processed / "clinics.parquet")
    coordinators.to_parquet(processed / "coordinators.parquet")
    (tmp_path / "data" / "raw" / "synthetic").mkdir(parents=True)
    dictionary = ROOT / "data" / "raw" / "cc_survey_dictionary.csv"
    paths, params = context(root=tmp_path, dictionary=dictionary)
    plain = run(paths, params)
    assert "not calibrated" not in plain["table3.md"].read_text()
    (paths.export.parent / "uncalibrated_items.csv").write_text(
        "item,field,unit,distribution,source\n"
        "svc_spiritual,services,clinic,yes with probability 0.2,@CC-SYNTH\n"
        'engage_family,engage_family,clinic,"uniform over regularly, often",uniform (default)\n'
    )
    files = run(paths, params)
    md = files["table3.md"].read_text()
    assert "| \u2003Spiritual needs assessment/referral† |" in md
    assert "| Regularly/often engage with the family and/or caregivers† |" in md
    assert (
        "† Synthetic answers not calibrated to a printed number (engage_family: uniform over "
        "regularly, often; svc_spiritual: yes with probability 0.2)." in md
    )
    assert "\\textdagger{}" in files["table3.tex"].read_text()
    assert "†" not in files["table4.md"].read_text()
    # the numbers themselves do not change; on real data the file is not read
    assert files["table3.csv"].read_bytes() == plain["table3.csv"].read_bytes()
    real = run(*context(root=tmp_path, dictionary=dictionary, data_mode="redcap"))
    assert "†" not in real["table3.md"].read_text()


def test_html_rows_carry_anchors_row_headers_counts_and_test_marks(hand_table) -> None:
    """Each row has its stable id (t3-item, t3-item-level), its label is a row header, a count
    cell says n/N on hover and P carries the marker of its test's footnote."""
    html = hand_table.render("html", extras=False)
    assert 'id="t3-n"' in html and 'id="t3-svc_social_needs"' in html
    assert 'id="t3-panel_judgement"' in html and 'id="t3-panel_judgement-too_few"' in html
    assert '<th scope="row">N</th>' in html and 'name="viewport"' in html
    assert re.search(r'<td title="\d+/\d+">\d+</td>', html)  # a percentage, its n/N
    assert "<li>b P: Fisher" in html and 'href="../reports/index.html#view-table3"' in html
    ids = re.findall(r' id="(t3-[^"]+)"', html)
    assert len(ids) == len(set(ids))
