"""Tests of ccanalysis.replication: compare() verdict rules, the p-value and GRIM checks, on
constructed tables whose answer is known (p-values from R: tests/reference/replication.R) and on the
real printed tables, and run() end to end. The text claims: test_replication_claims.py."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccanalysis import printing, stats
from ccanalysis import replication as rp
from ccanalysis.paths import Paths
from ccanalysis.replication import grim as rgrim
from ccanalysis.replication import pvalues
from ccanalysis.replication.compare import (
    COMPARISON_COLUMNS,
    KEYS,
    read_published,
    read_study_facts,
)
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS
from ccanalysis.spec import Spec, from_records, read_spec
from ccanalysis.stage import Params

PUBLISHED = Paths.of().root / rp.PUBLISHED
#: tests/reference/replication.R (R 4.2: fisher.test, chisq.test, t.test, oneway.test)
R = {
    "fisher_30_100_vs_50_100": 0.00593734116601552,
    "fisher_3_20_vs_9_20": 0.082358777019511,
    "chisq_3_20_vs_9_20": 0.0384339302367818,
    "yates_3_20_vs_9_20": 0.0844979397239291,
    "fisher_table1_degree": 0.000206636845486423,
    "student_t_18.8_25.3": 8.67152985878181e-05,
    "welch_t_18.8_25.3": 8.0608136668067e-05,
    "anova_4.2_5.7_5.2": 0.0512017277484273,
    "welch_anova_4.2_5.7_5.2": 0.0776580631534873,
}

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def long(rows: list[tuple[str, str, str, str, str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=[*KEYS, "value"]).astype(object)


def pub_table(
    table: str,
    ns: dict[str, int],
    cells: list[tuple[str, str, str, str, str]],
) -> pd.DataFrame:
    """A published long table: group sizes + (item, level, group, measure, text) cells."""
    rows = [(table, "n", "", g, "n", str(n)) for g, n in ns.items()]
    rows += [(table, *c) for c in cells]
    return long(rows)


def spec(rows: list[tuple[str, str, str, str, str]]) -> Spec:
    """(table, item, level, shown, test) -> a spec (a collapsed row combines its own level)."""
    return from_records(
        [
            {
                "table": t,
                "section": "",
                "item": i,
                "level": lv,
                "label": i,
                "stat": "mean_sd" if sh == "mean_sd" else "pct",
                "shown": sh,
                "combine": lv if sh == "collapsed" else "",
                "test": te,
            }
            for t, i, lv, sh, te in rows
        ]
    )


def sections(pub: pd.DataFrame, sp: Spec, **kw: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``pvalue`` and ``grim`` sections of check_published on a constructed table (no claims)."""
    facts, claims = pd.DataFrame(columns=["key", "value"]), pd.DataFrame(columns=["id"])
    out = rp.check_published(pub, sp, facts, claims, **kw)
    return out[out["section"] == "pvalue"], out[out["section"] == "grim"]


def one(df: pd.DataFrame, **kw: str) -> pd.Series:
    m = np.ones(len(df), bool)
    for k, v in kw.items():
        m &= (df[k] == v).to_numpy()
    assert m.sum() == 1, (kw, m.sum())
    return df[m].iloc[0]


# ---------------------------------------------------------------------------
# printed values and compare()
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "x", "ok"),
    [
        ("<0.001", 0.0004, True),
        ("<0.001", 0.0012, False),
        ("<0.001", 0.001, False),
        (">0.9", 0.95, True),
        (">0.9", 0.89, False),
        ("0.38", 0.3849, True),
        ("0.38", 0.386, False),
        ("0.38", 0.375, True),  # half-way: either rounding convention accepted
        ("15.8", 15.789, True),
        ("15.8", 15.86, False),
        ("100", 99.6, True),
        ("0", 0.4, True),
        ("0.0", 0.04, True),
        ("25.0", 25.06, False),
        (".002", 0.0024, True),
        ("0.007", 0.0076, False),
    ],
)
def test_printed_holds(text: str, x: float, ok: bool) -> None:
    assert printing.printed_holds(text, x) is ok


def test_parse_printed_intervals() -> None:
    p = printing.parse_printed("0.007")
    assert (p.kind, p.decimals) == ("value", 3)
    assert p.low == pytest.approx(0.0065) and p.high == pytest.approx(0.0075)
    lt = printing.parse_printed("<0.001")
    assert lt.kind == "lt" and lt.high == 0.001 and lt.high_open
    with pytest.raises(ValueError):
        printing.parse_printed("n/a")


def test_the_counts_a_printed_percentage_stands_for() -> None:
    """By hand: 83.65-83.75% of 178 is 148.90-149.08 counts, so 149 (83.71%); 13% of 8 takes 1 (12.5%,
    exactly halfway) only with ties; 50% of 3 takes none; 0% of 40 takes 0 (0.0%; 1/40 = 2.5%)."""
    p = printing.parse_printed
    assert list(p("83.7").counts(178)) == [149]
    assert list(p("13").counts(8)) == [1] and list(p("13").counts(8, ties=False)) == []
    assert list(p("50").counts(3)) == [] and list(p("0").counts(40)) == [0]
    # 50% of 317 (0 decimals): 49.5% to 50.5% is 156.915 to 160.085 counts, all four of them
    assert list(p("50").counts(317, ties=False)) == [157, 158, 159, 160]
    for n in range(1, 250):
        for k in range(n + 1):
            text = printing.round_half_up(100 * k / n, 1)
            assert k in p(text).counts(n), (k, n, text)


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 100, allow_nan=False), st.integers(0, 3))
def test_rounded_value_always_holds(x: float, d: int) -> None:
    assert printing.printed_holds(f"{x:.{d}f}", x)


def test_compare_verdicts_and_summary() -> None:
    pub = long(
        [
            ("table1", "certified_cc", "yes", "total", "pct", "15.8"),
            ("table1", "certified_cc", "", "all", "p", "<0.001"),
            ("table3", "panel_size", "", "all", "p", "0.38"),
            ("table3", "svc_x", "", "all", "p", "0.38"),
            ("table3", "svc_y", "", "all", "p", "<0.001"),
            ("table3", "svc_z", "yes", "mn", "pct", "61"),
        ]
    )
    rep = pd.DataFrame(
        {
            "table": ["table1", "table1", "table3", "table3", "table3", "table3"],
            "item": ["certified_cc", "certified_cc", "panel_size", "svc_x", "svc_y", "extra"],
            "level": ["yes", None, None, np.nan, "", "yes"],
            "group": ["total", "all", "all", "all", "all", "mn"],
            "measure": ["pct", "p", "p", "p", "p", "pct"],
            "value": [15.789, 0.0004, 0.3849, 0.386, 0.0012, 50.0],
        }
    )
    out = rp.compare(pub, rep)
    assert list(out.columns) == COMPARISON_COLUMNS
    assert out["verdict"].tolist() == [
        "equal",
        "equal",
        "equal",
        "different",
        "different",
        "missing",
    ]
    assert out["difference"].iloc[0] == pytest.approx(15.789 - 15.8)
    assert out["difference"].iloc[1] == 0.0
    assert out["difference"].iloc[3] == pytest.approx(0.006)
    assert out["difference"].iloc[4] == pytest.approx(0.0002)
    assert math.isnan(out["difference"].iloc[5])
    s = rp.summary(out)
    allrow = s[s["table"] == "all"].iloc[0]
    assert (
        allrow["cells"],
        allrow["compared"],
        allrow["equal"],
        allrow["different"],
        allrow["missing"],
    ) == (6, 5, 3, 2, 1)
    t1 = s[s["table"] == "table1"].iloc[0]
    assert (t1["cells"], t1["equal"]) == (2, 2)


def test_compare_real_published_against_itself() -> None:
    """The printed numbers, read as numbers, reproduce themselves (except the bounds)."""
    pub = read_published(PUBLISHED)
    rep = pub.copy()
    rep["value"] = pd.to_numeric(rep["value"].str.lstrip("<>"), errors="coerce")
    out = rp.compare(pub, rep)
    assert len(out) == len(pub)
    bounds = out["published"].str.startswith(("<", ">"))
    assert (out.loc[~bounds, "verdict"] == "equal").all()
    assert (out.loc[bounds, "verdict"] == "different").all()  # "<0.001" vs 0.001 does not hold


# ---------------------------------------------------------------------------
# candidates
# ---------------------------------------------------------------------------


def test_group_candidates_binary_and_full() -> None:
    c = pvalues.group_candidates(["84"], 178, 0)
    assert sorted(c[:, 0].tolist()) == [149, 150]
    assert (c[:, 0] + c[:, 1] == 178).all()
    c = pvalues.group_candidates(["11.4"], 117, 11, counts=[13])
    assert c[:, -1].tolist() == [114]
    # 33/33/33 of 10 is impossible; of 9 it is 3/3/3
    assert len(pvalues.group_candidates(["33", "33", "33"], 10, 0, full=True)) == 0
    c = pvalues.group_candidates(["33", "33", "33"], 10, 1, full=True)
    assert c.tolist() == [[3, 3, 3, 9]]


# ---------------------------------------------------------------------------
# consistency of constructed tables
# ---------------------------------------------------------------------------


def _binary_pct_table(p_text: str, total: str = "40") -> tuple[pd.DataFrame, pd.DataFrame]:
    pub = pub_table(
        "tableX",
        {"total": 200, "mn": 100, "isw": 100},
        [
            ("q", "yes", "total", "pct", total),
            ("q", "yes", "mn", "pct", "30"),
            ("q", "yes", "isw", "pct", "50"),
            ("q", "", "all", "p", p_text),
        ],
    )
    return pub, spec([("tableX", "q", "yes", "binary", "fisher")])


def test_consistent_row() -> None:
    p = R["fisher_30_100_vs_50_100"]
    pub, sp = _binary_pct_table(f"{p:.3f}")
    pv, grim = sections(pub, sp, max_missing=0)
    row = one(pv, item="q")
    assert row["verdict"] == "consistent"
    assert row["p_min"] == pytest.approx(p, rel=1e-9) and row["p_max"] == pytest.approx(p, rel=1e-9)
    assert row["candidates"] == 1 and row["missing_needed"] == 0
    assert one(grim, item="q")["verdict"] == "consistent"


def test_inconsistent_row_and_total_column() -> None:
    pub, sp = _binary_pct_table("0.5")
    row = one(sections(pub, sp, max_missing=0)[0], item="q")
    assert row["verdict"] == "inconsistent" and row["other_tests"] == ""
    assert "printed 0.5" in row["explanation"]
    # a Total that the groups cannot produce is flagged
    pub, sp = _binary_pct_table("0.006", total="45")
    pv, grim = sections(pub, sp, max_missing=0)
    assert one(grim, item="q")["verdict"] == "inconsistent"
    assert "Total" in one(pv, item="q")["explanation"]


def test_row_only_chisquare_explains() -> None:
    # Table 1 style: counts printed. 3/20 vs 9/20: Fisher 0.082, Yates 0.084, chi-square 0.038 (R)
    p_chi = R["chisq_3_20_vs_9_20"]
    pub = pub_table(
        "tableY",
        {"total": 40, "a": 20, "b": 20},
        [
            ("q", "yes", "total", "n", "12"),
            ("q", "yes", "total", "pct", "30.0"),
            ("q", "yes", "a", "n", "3"),
            ("q", "yes", "a", "pct", "15.0"),
            ("q", "yes", "b", "n", "9"),
            ("q", "yes", "b", "pct", "45.0"),
            ("q", "", "all", "p", f"{p_chi:.3f}"),
        ],
    )
    sp = spec([("tableY", "q", "yes", "binary", "fisher")])
    row = one(sections(pub, sp)[0], item="q")
    assert row["verdict"] == "consistent_other_test"
    assert row["other_tests"] == "chisq"
    assert row["p_min"] == pytest.approx(R["fisher_3_20_vs_9_20"], rel=1e-9)
    # Yates only
    p_y = R["yates_3_20_vs_9_20"]
    pub.loc[pub["measure"] == "p", "value"] = f"{p_y:.4f}"
    row = one(sections(pub, sp)[0], item="q")
    assert (row["verdict"], row["other_tests"]) == ("consistent_other_test", "chisq_yates")


def test_impossible_percentage() -> None:
    # 13 of 117 is 11.1%, not 11.4%: impossible with complete answers, possible with 3 missing
    pub = pub_table(
        "tableY",
        {"total": 117, "a": 117},
        [
            ("q", "yes", "total", "n", "13"),
            ("q", "yes", "total", "pct", "11.4"),
            ("q", "yes", "a", "n", "13"),
            ("q", "yes", "a", "pct", "11.4"),
        ],
    )
    sp = spec([("tableY", "q", "yes", "binary", "none")])
    g0 = sections(pub, sp, max_missing=0)[1]
    assert one(g0, check="pct_vs_count", group="a")["verdict"] == "inconsistent"
    g = sections(pub, sp)[1]
    row = one(g, check="pct_vs_count", group="a")
    assert row["verdict"] == "consistent" and row["missing_needed"] == 3
    assert "13/114 = 11.40%" in row["explanation"]
    # a full distribution that cannot be made from whole answers
    pub = pub_table(
        "tableX",
        {"total": 20, "mn": 10, "isw": 10},
        [
            ("q", "l1", "total", "pct", "35"),
            ("q", "l1", "mn", "pct", "33"),
            ("q", "l1", "isw", "pct", "40"),
            ("q", "l2", "total", "pct", "30"),
            ("q", "l2", "mn", "pct", "33"),
            ("q", "l2", "isw", "pct", "30"),
            ("q", "l3", "total", "pct", "35"),
            ("q", "l3", "mn", "pct", "33"),
            ("q", "l3", "isw", "pct", "30"),
            ("q", "", "all", "p", "0.9"),
        ],
    )
    sp = spec([("tableX", "q", lv, "full", "fisher") for lv in ("l1", "l2", "l3")])
    _, grim = sections(pub, sp, max_missing=0)
    assert one(grim, item="q")["verdict"] == "inconsistent"


def test_grim_and_grimmer() -> None:
    assert not rgrim.grim_mean_ok("2.1", 4)  # sum in [8.2, 8.6]: no integer
    assert rgrim.grim_mean_ok("2.0", 4)
    assert rgrim.grim_mean_ok("32.2", 8)  # 258/8 = 32.25 rounds to 32.2 (half-even) or 32.3
    # data 1,2,2,2,3: mean 2.0, SD 0.707
    assert rgrim.grimmer_sd_ok("2.0", "0.7", 5)
    assert not rgrim.grimmer_sd_ok("2.0", "0.6", 5)  # no integer sum of squares in range
    assert not rgrim.grimmer_sd_ok("2.0", "0.5", 5)  # only Q = 21, odd while the sum 10 is even
    pub = pub_table(
        "tableZ",
        {"total": 8, "a": 4, "b": 4},
        [
            ("hrs", "", "total", "mean", "2.0"),
            ("hrs", "", "total", "sd", "0.8"),
            ("hrs", "", "a", "mean", "2.1"),
            ("hrs", "", "a", "sd", "0.5"),
            ("hrs", "", "b", "mean", "2.0"),
            ("hrs", "", "b", "sd", "0.8"),
            ("hrs", "", "all", "p", "0.9"),
        ],
    )
    sp = spec([("tableZ", "hrs", "", "mean_sd", "student_t")])
    g = sections(pub, sp, integer_items={("tableZ", "hrs")})[1]
    assert one(g, check="grim_mean", group="a")["verdict"] == "inconsistent"
    assert one(g, check="grim_mean", group="b")["verdict"] == "consistent"
    assert set(g["check"]) >= {"grimmer_sd", "total_mean", "total_sd"}
    # not an integer item: no GRIM rows
    assert "grim_mean" not in set(sections(pub, sp, integer_items=())[1]["check"])


def test_mean_rows() -> None:
    """The range over the box of printed means and SDs holds R's p at the printed values."""
    r = pvalues.mean_pvalue_range([18.8, 25.3], [14.7, 14.1], [178, 139])
    assert set(r) == {"student_t", "welch_t"}
    assert r["student_t"][0] < R["student_t_18.8_25.3"] < r["student_t"][1]
    assert r["welch_t"][0] < R["welch_t_18.8_25.3"] < r["welch_t"][1]
    # overlapping means: p reaches 1
    assert pvalues.mean_pvalue_range([5.0, 5.05], [1.0, 1.0], [10, 10])["student_t"][1] == (
        pytest.approx(1.0)
    )
    r3 = pvalues.mean_pvalue_range([4.2, 5.7, 5.2], [3.9, 5.0, 2.1], [117, 88, 8])
    assert r3["anova"][0] < R["anova_4.2_5.7_5.2"] < r3["anova"][1]
    assert r3["welch_anova"][0] < R["welch_anova_4.2_5.7_5.2"] < r3["welch_anova"][1]
    # at the printed values themselves (a box of width 0) the range is R's p
    r0 = pvalues.mean_pvalue_range([4.2, 5.7, 5.2], [3.9, 5.0, 2.1], [117, 88, 8], half=0.0)
    assert r0["anova"][0] == pytest.approx(R["anova_4.2_5.7_5.2"], rel=1e-9)
    assert r0["welch_anova"][1] == pytest.approx(R["welch_anova_4.2_5.7_5.2"], rel=1e-9)


def test_chisq_p_of_many_tables_is_r() -> None:
    """The chi-square p of many candidates at once equals R's chisq.test, with and without Yates;
    an all-empty column is dropped, as chisq.test on the table without it."""
    tabs = np.array([[[3, 17], [9, 11]], [[30, 70], [50, 50]]])
    assert pvalues.chisq_p(tabs)[1][0] == pytest.approx(R["chisq_3_20_vs_9_20"], rel=1e-9)
    assert pvalues.chisq_p(tabs, True)[1][0] == pytest.approx(R["yates_3_20_vs_9_20"], rel=1e-9)
    padded = np.array([[[3, 17, 0], [9, 11, 0]]])
    assert pvalues.chisq_p(padded)[1][0] == pytest.approx(R["chisq_3_20_vs_9_20"], rel=1e-9)
    assert math.isnan(pvalues.chisq_p(np.array([[[3, 0], [9, 0]]]))[1][0])


def test_fisher_2x2_many_is_fisher_p() -> None:
    """Many 2 x 2 tables at once (log k! table): Fisher's two-sided p of each, by the same rule."""
    rng = np.random.default_rng(4)
    tabs = np.concatenate(
        [
            rng.integers(0, 150, size=(150, 2, 2)),
            rng.integers(0, 6, size=(50, 2, 2)),
            [[[0, 5], [6, 1]], [[3, 1], [1, 3]], [[10, 10], [10, 10]], [[0, 0], [4, 7]]],
        ]
    )
    got = stats.fisher_2x2_many(tabs)  # the replication ranks its candidates with it
    for t, p in zip(tabs, got, strict=True):
        assert p == pytest.approx(min(1.0, stats.fisher_exact(t).p), rel=1e-9, abs=1e-300)


def test_collapsed_rows_not_checkable() -> None:
    pub, _ = _binary_pct_table("0.006")
    sp = spec([("tableX", "q", "yes", "collapsed", "fisher")])
    row = one(sections(pub, sp, max_missing=0)[0], item="q")
    assert row["verdict"] == "not_checkable" and math.isnan(row["p_min"])
    assert "collapsed" in row["explanation"]


def test_extremes_match_brute_force(monkeypatch: pytest.MonkeyPatch) -> None:
    """With many candidates the Fisher range from the extremes equals the full enumeration."""
    pub = read_published(PUBLISHED)
    sp = read_spec()
    keep = pub["item"].isin(["n", "svc_mental_health", "clinicians_value", "support_space"])
    sub = pub[keep & (pub["table"].isin(["table3", "table4"]))]
    fast = sections(sub, sp)[0].set_index("item")
    monkeypatch.setattr(pvalues, "MAX_EXACT", 10**6)
    full = sections(sub, sp)[0].set_index("item")
    for item in fast.index:
        assert fast.loc[item, "candidates"] > 64
        assert fast.loc[item, "p_min"] == pytest.approx(full.loc[item, "p_min"], rel=1e-9)
        assert fast.loc[item, "p_max"] == pytest.approx(full.loc[item, "p_max"], rel=1e-9)


# ---------------------------------------------------------------------------
# the real printed tables
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    pub = read_published(PUBLISHED)
    claims = rp.load_text_claims(PUBLISHED)
    return rp.check_published(pub, read_spec(), read_study_facts(PUBLISHED), claims)


def test_real_published_check(real: pd.DataFrame) -> None:
    out = real
    assert list(out.columns) == CONSISTENCY_COLUMNS
    assert set(out["section"]) == {"pvalue", "grim", "text"}
    pv = out[out["section"] == "pvalue"]
    assert set(pv["verdict"]) <= {
        "consistent",
        "consistent_other_test",
        "inconsistent",
        "not_checkable",
    }
    degree = one(pv, item="degree")  # Table 1 prints its counts: one table, R's fisher.test
    assert degree["p_min"] == pytest.approx(R["fisher_table1_degree"], rel=1e-9)
    cert = one(pv, item="certified_cc")
    assert (cert["verdict"], cert["other_tests"]) == ("consistent_other_test", "chisq")
    assert one(pv, item="svc_spiritual")["verdict"] == "inconsistent"
    assert one(pv, item="panel_size")["verdict"] == "consistent"
    assert one(pv, item="pt_comm_phone")["verdict"] == "not_checkable"
    assert (pv.loc[pv["verdict"] == "inconsistent", "explanation"].str.len() > 50).all()
    tx = out[out["section"] == "text"].set_index("item")
    assert tx.loc["text_pt_phone_p", "verdict"] == "disagree"
    assert tx.loc["panel_about_right_pct", "verdict"] == "disagree"
    assert tx.loc["coordinators_certified_pct", "verdict"] == "agree"
    for key in (
        "discussion_social_needs_pp_diff",
        "discussion_social_complexity_pp_diff",
        "discussion_refer_outside_pp_diff",
        "text_panel_isw",
        "text_clin_phone_p",
    ):
        assert tx.loc[key, "verdict"] == "agree", key
    g = out[out["section"] == "grim"]
    assert one(g, item="certified_cc", group="total", check="pct_vs_count")["missing_needed"] == 4
    assert one(g, item="panel_size", check="total_sd")["verdict"] == "inconsistent"


def test_write_outputs(tmp_path, real: pd.DataFrame) -> None:
    pub = read_published(PUBLISHED)
    comp = rp.compare(pub, pub.assign(value=pd.to_numeric(pub["value"], errors="coerce")))
    paths = rp.write_outputs(comp, real, tmp_path)
    assert sorted(p.name for p in paths) == [
        "replication.csv",
        "replication_consistency.csv",
        "replication_summary.csv",
    ]
    back = pd.read_csv(tmp_path / "replication.csv", keep_default_na=False, dtype=str)
    assert list(back.columns) == COMPARISON_COLUMNS and len(back) == len(pub)
    assert back["published"].tolist() == pub["value"].tolist()  # printed text kept ("25.0")
    cons = pd.read_csv(tmp_path / "replication_consistency.csv")
    assert list(cons.columns) == CONSISTENCY_COLUMNS


@pytest.mark.slow  # the whole stage
def test_run_end_to_end(tmp_path) -> None:
    """run() reads the printed numbers and paths.tables and writes into paths.tables."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "published").symlink_to(PUBLISHED)
    paths = Paths.of(tmp_path, dictionary=Paths.of().dictionary)
    pub = read_published(PUBLISHED)
    rep = pub.assign(value=pd.to_numeric(pub["value"], errors="coerce"))
    rep = rep[rep["value"].notna()]
    paths.tables.mkdir()
    for t, grp in rep.groupby("table"):
        if t != "table4":  # a missing table is reported as missing, not an error
            grp.to_csv(paths.tables / f"{t}.csv", index=False)
    artifacts = rp.run(paths, Params())
    comp, cons = artifacts.results["comparison"], artifacts.results["consistency"]
    s = rp.summary(comp).set_index("table")
    assert s.loc["table4", "missing"] == s.loc["table4", "cells"]
    assert s.loc["table2", "equal"] == s.loc["table2", "cells"]
    assert (paths.tables / "replication_consistency.csv").is_file()
    assert len(cons) > 100
    assert sorted(artifacts) == ["replication", "replication_consistency", "replication_summary"]
    assert all(p.parent == paths.tables for p in artifacts.values())
    # the cells the notebook lists: every table4 cell (missing) and none of table2 (equal)
    diff = rp.differences(comp)
    assert (diff["table"] == "table4").sum() == s.loc["table4", "cells"]
    assert (diff["table"] == "table2").sum() == 0
