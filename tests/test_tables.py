"""Tables 1-4: counts, denominators, tests, formatting and renderers, on frames whose answers we know."""

from __future__ import annotations

import io
import math
import time
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
from ccanalysis.tables import (
    EXTRA_COLUMNS,
    FIXED_DATE,
    LONG_COLUMNS,
    build_table,
    build_tables,
    format_mean_sd,
    format_n_pct,
    from_specs,
    long_csv,
    render,
    run,
    text_facts,
    uncalibrated_items,
    write_table,
)
from ccanalysis.vocab import SYNTHETIC_LABEL

ROOT = Path(__file__).resolve().parents[1]
INSTRUMENT = read_dictionary(ROOT / "data" / "raw" / "cc_survey_dictionary.csv")
YN = ["yes", "no"]
FREQ5 = ["always", "mostly", "sometimes", "rarely", "never"]


# ---------------------------------------------------------------------------------------------
# Fixture builders
# ---------------------------------------------------------------------------------------------


def cat(values: list[str | None], levels: list[str]) -> pd.Categorical:
    return pd.Categorical(values, categories=levels, ordered=True)


def spec_frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["table", "section", "item", "level", "label", "stat", "shown", "combine", "test"]
    return pd.DataFrame(rows, columns=cols)


HAND_SPEC = spec_frame(
    [
        (
            "table3",
            "",
            "hours_cc_week",
            "",
            "Hours/week – Mean (SD)",
            "mean_sd",
            "full",
            "",
            "student_t",
        ),
        (
            "table3",
            "Patient panel seems:",
            "panel_judgement",
            "about_right",
            "about right",
            "pct",
            "full",
            "",
            "fisher",
        ),
        (
            "table3",
            "Patient panel seems:",
            "panel_judgement",
            "too_many",
            "too many",
            "pct",
            "full",
            "",
            "fisher",
        ),
        (
            "table3",
            "Patient panel seems:",
            "panel_judgement",
            "too_few",
            "too few",
            "pct",
            "full",
            "",
            "fisher",
        ),
        (
            "table3",
            "Communication (always/mostly):",
            "pt_comm_phone",
            "always_mostly",
            "Telephone",
            "pct",
            "collapsed",
            "always+mostly",
            "fisher",
        ),
        (
            "table3",
            "Services provided:",
            "svc_social_needs",
            "yes",
            "Social needs assessment/referral",
            "pct",
            "binary",
            "",
            "fisher",
        ),
        ("table1", "Degree", "degree", "rn", "RN", "n_pct", "full", "", "fisher"),
        ("table1", "Degree", "degree", "msw_bsw", "MSW or BSW", "n_pct", "full", "", "fisher"),
        ("table1", "", "certified_cc", "yes", "Certified, yes", "n_pct", "binary", "", "fisher"),
        ("table1", "", "years_cc_role", "", "Years mean (SD)", "mean_sd", "mean_sd", "", "anova"),
        (
            "table1",
            "",
            "work_onsite",
            "usually_always",
            "Onsite, usually or always",
            "n_pct",
            "collapsed",
            "always+usually",
            "fisher",
        ),
    ]
)


def hand_clinics() -> pd.DataFrame:
    """Eight clinics, four per care model, with answers (and missing ones) chosen by hand."""
    return pd.DataFrame(
        {
            "clinic_id": [f"C{i}" for i in range(1, 9)],
            "coordinator_id": ["K1", "K1", "K2", "K3", "K4", "K5", "K5", "K6"],
            "group": cat(["mn"] * 4 + ["isw"] * 4, ["mn", "isw"]),
            "hours_cc_week": [10.0, 20.0, 30.0, np.nan, 20.0, 30.0, 40.0, 50.0],
            "panel_judgement": cat(
                [
                    "about_right",
                    "about_right",
                    "too_few",
                    None,
                    "about_right",
                    "too_many",
                    "too_many",
                    "too_few",
                ],
                ["about_right", "too_many", "too_few"],
            ),
            "pt_comm_phone": cat(
                ["always", "mostly", "sometimes", "never", "always", "always", "mostly", None],
                FREQ5,
            ),
            "svc_social_needs": cat(["yes", "no", "no", "no", "yes", "yes", "yes", "no"], YN),
        }
    )


def hand_coordinators() -> pd.DataFrame:
    """Seven coordinators in the three Table 1 groups."""
    return pd.DataFrame(
        {
            "coordinator_id": [f"K{i}" for i in range(1, 8)],
            "group": cat(
                ["mn_only", "mn_only", "mn_only", "isw_only", "isw_only", "both", "both"],
                ["mn_only", "isw_only", "both"],
            ),
            "degree": cat(
                ["rn", "rn", "msn_bsn", "msw_bsw", "rn", "msw_bsw", "other_none"],
                ["rn", "msn_bsn", "msw_bsw", "lpn_cma", "other_none"],
            ),
            "certified_cc": cat(["yes", "no", None, "yes", "no", None, "yes"], YN),
            "years_cc_role": [1.0, 2.0, 3.0, 5.0, 7.0, 4.0, np.nan],
            "work_onsite": cat(
                ["always", "usually", "never", "sometimes", "always", "usually", "usually"],
                ["always", "usually", "sometimes", "rarely", "never"],
            ),
        }
    )


def random_frames(n_clinics: int = 317, n_coord: int = 213, seed: int = 1):
    """Random clinics and coordinators of the paper's size with every item of the instrument."""
    rng = np.random.default_rng(seed)
    items = INSTRUMENT.analysis_items()
    coord_ids = [f"K{i:03d}" for i in range(n_coord)]
    assign = np.concatenate([np.arange(n_coord), rng.integers(0, n_coord, n_clinics - n_coord)])
    rng.shuffle(assign)
    sizes = rng.integers(1, 15, 42)
    system = np.repeat(np.arange(42), sizes)[:n_clinics]
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
    clinics["system_size"] = pd.Categorical(
        np.where(per_system <= 2, "small", np.where(per_system <= 9, "medium", "large")),
        categories=["small", "medium", "large"],
        ordered=True,
    )
    coordinators = pd.DataFrame({"coordinator_id": coord_ids})
    coordinators["care_system_id"] = (
        clinics.groupby("coordinator_id")["care_system_id"].first().reindex(coord_ids).to_numpy()
    )
    coordinators["n_clinics"] = (
        clinics.groupby("coordinator_id").size().reindex(coord_ids).to_numpy()
    )
    # care model mostly per coordinator (as in the paper: few coordinators work in both models)
    isw = (rng.random(n_coord) < 0.43)[assign]
    multi = np.flatnonzero(np.bincount(assign, minlength=n_coord) >= 2)
    for c in rng.choice(multi, min(8, len(multi)), replace=False):
        k = np.flatnonzero(assign == c)[0]
        isw[k] = not isw[k]
    for name, f in items.items():
        frame = coordinators if f.form == "coordinator" else clinics
        n = len(frame)
        if f.is_numeric:
            vals = rng.gamma(2.0, 8.0, n).round()
            vals[rng.random(n) < 0.03] = np.nan
            frame[name] = vals
            continue
        levels = YN if (f.field_type == "checkbox" and f.items) else f.level_order()
        vals = rng.choice(levels, n).astype(object)
        vals[rng.random(n) < 0.03] = None
        if name.startswith("sw_") and name != "sw_engage_ease":
            vals = np.where(isw, "yes", vals)
        frame[name] = cat(list(vals), levels)
    clinics = classify_clinics(clinics)
    coordinators = coordinator_groups(clinics, coordinators)
    return clinics, coordinators


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
    assert {"denominator", "footnote"} <= set(frame.columns)
    assert (frame.loc[frame["table"] == "table2", "denominator"] == "all").all()
    assert all(r.all_denominator for r in spec.of("table2"))


@pytest.mark.parametrize(
    "change, message",
    [
        ({"item": "no_such_item"}, "not in the data dictionary"),
        ({"level": "sometimes_maybe"}, "is not an answer"),
        ({"test": "wilcoxon"}, "unknown test"),
        ({"stat": "median"}, "unknown stat"),
    ],
)
def test_spec_validation_names_the_problem(spec, change, message) -> None:
    bad = spec.frame.copy()
    row = bad.index[(bad["item"] == "panel_judgement")][0]
    for k, v in change.items():
        bad.loc[row, k] = v
    with pytest.raises(ValueError, match=message):
        from_frame(bad, instrument=INSTRUMENT)


def test_spec_validation_checks_combined_levels(spec) -> None:
    bad = spec.frame.copy()
    bad.loc[bad["item"] == "pt_comm_phone", "combine"] = "always+oftenish"
    with pytest.raises(ValueError, match="'oftenish' is not an answer"):
        from_frame(bad, instrument=INSTRUMENT)


def test_hand_spec_is_valid() -> None:
    from_frame(HAND_SPEC, instrument=INSTRUMENT)


def test_the_default_dictionary_is_read_once(monkeypatch) -> None:  # noqa: ANN001
    """read_spec() without an instrument, summarize and the sensitivity grouping share one
    reading of the project's dictionary (spec.default_instrument)."""
    from ccanalysis import instrument, spec

    first = spec.default_instrument()
    assert (
        first.analysis_items()["panel_judgement"].levels
        == INSTRUMENT.analysis_items()["panel_judgement"].levels
    )

    def no_reading(path):  # noqa: ANN001, ANN202
        raise AssertionError(f"the dictionary was read again: {path}")

    monkeypatch.setattr(instrument, "read_dictionary", no_reading)
    assert spec.default_instrument() is first
    assert spec.as_instrument(None) is first
    rows = read_spec().of("table3")
    assert rows[0].table == "table3"
    assert read_spec().row("table3", "panel_judgement", "too_few").item_levels == (
        "about_right",
        "too_many",
        "too_few",
    )


# ---------------------------------------------------------------------------------------------
# Counts, denominators, collapse, N rows
# ---------------------------------------------------------------------------------------------


def test_columns_are_the_design_columns_first() -> None:
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
    assert tuple(long.columns) == LONG_COLUMNS + EXTRA_COLUMNS
    assert set(long["measure"]) == {"n", "denom", "pct", "mean", "sd", "p"}
    p = long[long["measure"] == "p"]
    assert (p["level"] == "").all() and (p["group"] == "all").all()


def test_n_rows_come_first_per_group() -> None:
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
    head = long.head(3)
    assert head["item"].tolist() == ["n"] * 3
    assert head["group"].tolist() == ["total", "mn", "isw"]
    assert head["value"].tolist() == [8, 4, 4]


def test_percentages_are_of_answers_with_their_denominators() -> None:
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
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


def test_collapsed_row_sums_the_combined_levels() -> None:
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
    # mn: always, mostly, sometimes, never -> 2 of 4; isw: always, always, mostly, missing -> 3 of 3
    assert value(long, "pt_comm_phone", "always_mostly", "mn", "n") == 2
    assert value(long, "pt_comm_phone", "always_mostly", "mn", "pct") == 50
    assert value(long, "pt_comm_phone", "always_mostly", "isw", "denom") == 3
    assert value(long, "pt_comm_phone", "always_mostly", "isw", "pct") == 100
    assert value(long, "pt_comm_phone", "always_mostly", "total", "pct") == pytest.approx(500 / 7)


def test_mean_sd_and_t_test() -> None:
    clinics = hand_clinics()
    long = build_table(HAND_SPEC, clinics, "table3")
    assert value(long, "hours_cc_week", "", "mn", "mean") == 20
    assert value(long, "hours_cc_week", "", "mn", "sd") == 10
    assert value(long, "hours_cc_week", "", "mn", "denom") == 3
    assert value(long, "hours_cc_week", "", "isw", "mean") == 35
    assert value(long, "hours_cc_week", "", "total", "mean") == pytest.approx(200 / 7)
    expected = stats.t_test([10, 20, 30], [20, 30, 40, 50])
    row = p_row(long, "hours_cc_week")
    assert row["value"] == pytest.approx(expected.p, rel=1e-12)
    assert row["test"] == "student_t"


def test_p_is_fisher_on_the_full_distribution_once_per_item() -> None:
    clinics = hand_clinics()
    long = build_table(HAND_SPEC, clinics, "table3")
    full = stats.compare_categorical(clinics["pt_comm_phone"], clinics["group"])
    table = [[1, 2], [1, 1], [1, 0], [0, 0], [1, 0]]  # always..never x (mn, isw)
    assert p_row(long, "pt_comm_phone")["value"] == pytest.approx(full.p, rel=1e-12)
    assert full.p == pytest.approx(stats.fisher_exact(table).p, rel=1e-12)
    # the collapsed 2 x 2 (2/4 vs 3/3) would give another p: the row must not use it
    collapsed = stats.fisher_exact([[2, 3], [2, 0]]).p
    assert not math.isclose(full.p, collapsed)
    pj = stats.compare_categorical(clinics["panel_judgement"], clinics["group"])
    assert p_row(long, "panel_judgement")["value"] == pytest.approx(pj.p, rel=1e-12)
    assert (long["measure"] == "p").sum() == 4  # one per item, not per level
    # the p row follows the first level's rows
    idx = long.index[(long["item"] == "panel_judgement")]
    kinds = long.loc[idx, "measure"].tolist()
    assert kinds.index("p") == 9  # 3 groups x (n, denom, pct)


def test_table1_groups_anova_and_3_group_fisher() -> None:
    co = hand_coordinators()
    long = build_table(HAND_SPEC, co, "table1")
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
    an = stats.anova([1, 2, 3], [5, 7], [4])
    assert p_row(long, "years_cc_role")["value"] == pytest.approx(an.p, rel=1e-12)
    assert p_row(long, "years_cc_role")["test"] == "anova"
    deg = stats.compare_categorical(co["degree"], co["group"])
    assert p_row(long, "degree")["value"] == pytest.approx(deg.p, rel=1e-12)
    # the test of a yes/no item is the 2 x 3 table of answers
    cert = stats.fisher_exact([[1, 1, 1], [1, 1, 0]])
    assert p_row(long, "certified_cc")["value"] == pytest.approx(cert.p, rel=1e-12)


def test_mapping_input_and_missing_group_column() -> None:
    data = {"clinics": hand_clinics(), "coordinators": hand_coordinators()}
    assert build_table(HAND_SPEC, data, "table1")["group"].iloc[1] == "mn_only"
    with pytest.raises(KeyError, match="group"):
        build_table(HAND_SPEC, hand_clinics().drop(columns="group"), "table3")


def test_test_override() -> None:
    clinics = hand_clinics()
    long = build_table(HAND_SPEC, clinics, "table3", test_override="welch_t")
    assert p_row(long, "hours_cc_week")["test"] == "welch_t"
    assert p_row(long, "pt_comm_phone")["test"] == "fisher"
    welch = stats.t_test([10, 20, 30], [20, 30, 40, 50], equal_var=False)
    assert p_row(long, "hours_cc_week")["value"] == pytest.approx(welch.p, rel=1e-12)
    long = build_table(HAND_SPEC, clinics, "table3", test_override={"svc_social_needs": "chisq"})
    chi = stats.chisq([[1, 3], [3, 1]])
    assert p_row(long, "svc_social_needs")["value"] == pytest.approx(chi.p, rel=1e-12)
    assert p_row(long, "svc_social_needs")["test"] == "chisq"


def test_a_monte_carlo_p_value_is_said_in_the_footnote_with_its_standard_error() -> None:
    """Where exact enumeration is out of reach the footnote says Monte Carlo, how many tables,
    that they come from the run's seed, and the largest standard error (never a silent switch)."""
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
    rows = (long["measure"] == "p") & long["item"].isin(["pt_comm_phone", "svc_social_needs"])
    long.loc[rows, "test"] = "fisher_mc"
    long.loc[rows, "note"] = [
        "Monte Carlo p-value from 100000 tables (SE 0.0012)",
        "Monte Carlo p-value from 100000 tables (SE 0.0003)",
    ]
    text = render(long, HAND_SPEC, fmt="markdown", synthetic=False)
    assert (
        "P: Fisher's exact test with a Monte Carlo p-value (exact enumeration too large) on the "
        "full answer distribution of the item by group; 100,000 random tables drawn from the "
        "run's seed (the same p-values on every run), standard error at most 0.001."
    ) in text
    big = np.array([[9000, 8000, 7000], [6000, 5000, 9500]])  # n > 20,000: Monte Carlo, seeded
    first, again = (stats.fisher_exact(big, seed=5) for _ in range(2))
    assert first.test == "fisher_mc" and first.p == again.p and 0 < first.mc_se < 0.002


# ---------------------------------------------------------------------------------------------
# Differences and q-values
# ---------------------------------------------------------------------------------------------


def test_newcombe_difference_equals_stats() -> None:
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
    row = long[
        (long["item"] == "svc_social_needs") & (long["group"] == "isw") & (long["measure"] == "pct")
    ].iloc[0]
    d, lo, hi = stats.newcombe_diff(3, 4, 1, 4)
    assert (row["diff"], row["diff_lo"], row["diff_hi"]) == pytest.approx(
        (100 * d, 100 * lo, 100 * hi)
    )
    assert row["diff"] == pytest.approx(50)
    mrow = long[
        (long["item"] == "hours_cc_week") & (long["group"] == "isw") & (long["measure"] == "mean")
    ].iloc[0]
    md = stats.mean_diff_ci([20, 30, 40, 50], [10, 20, 30])
    assert (mrow["diff"], mrow["diff_lo"], mrow["diff_hi"]) == pytest.approx(md)
    # only on the comparison group's pct/mean rows
    assert long["diff"].notna().sum() == 6  # 1 mean + 3 panel levels + phone + social needs


def test_bh_q_values_by_hand() -> None:
    spec = HAND_SPEC[HAND_SPEC["item"].isin(["hours_cc_week", "pt_comm_phone", "svc_social_needs"])]
    long = build_table(spec, hand_clinics(), "table3")
    p = long[long["measure"] == "p"]
    pv, q = p["value"].to_numpy(), p["q"].to_numpy()
    order = np.argsort(pv)
    m = 3
    by_hand = np.empty(3)
    running = 1.0
    for rank in range(m, 0, -1):  # largest p first
        i = order[rank - 1]
        running = min(running, pv[i] * m / rank)
        by_hand[i] = running
    assert q == pytest.approx(by_hand)
    assert np.all(np.diff(q[order]) >= 0)  # monotone in p
    assert np.all(q >= pv)
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
        (0.0072, "0.007"),
        (0.0535, "0.054"),
        (0.053, "0.053"),
        (0.0995, "0.1"),
        (0.12849, "0.13"),
        (0.125, "0.13"),
        (0.38, "0.38"),
        (0.4, "0.4"),
        (0.899, "0.9"),
        (0.9, "0.9"),
        (0.9000001, ">0.9"),
        (0.95, ">0.9"),
        (1.0, ">0.9"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_format_p(p, text) -> None:
    assert format_p(p) == text


def test_format_p_rejects_non_p() -> None:
    with pytest.raises(ValueError):
        format_p(1.5)


def test_number_formats() -> None:
    assert round_half_up(12.5, 0) == "13"
    assert round_half_up(41.31455399061033, 1) == "41.3"
    assert round_half_up(-0.04, 1) == "0.0"
    assert format_n_pct(88, 41.31455399061033, 1) == "88 (41.3)"
    assert format_n_pct(0, 0.0, 1) == "0 (0.0)"
    assert format_mean_sd(4.8123, 4.35) == "4.8 (4.4)"


# ---------------------------------------------------------------------------------------------
# Renderers
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hand_long() -> pd.DataFrame:
    return build_table(HAND_SPEC, hand_clinics(), "table3")


def test_markdown_layout(hand_long) -> None:
    md = render(hand_long, HAND_SPEC, fmt="markdown", synthetic=True)
    lines = md.splitlines()
    assert lines[0] == f"**{SYNTHETIC_LABEL}**"
    header = next(i for i, line in enumerate(lines) if line.startswith("| Characteristic"))
    assert lines[header + 2] == "| N | 8 | 4 | 4 |  |"
    # section header of a full item carries its p; levels indented, whole percent
    pj = format_p(float(p_row(hand_long, "panel_judgement")["value"]))
    assert f"| **Patient panel seems:** |  |  |  | {pj} |" in lines
    assert "| \u2003about right | 43 | 67 | 25 |  |" in lines
    ph = format_p(float(p_row(hand_long, "pt_comm_phone")["value"]))
    assert f"| \u2003Telephone | 71 | 50 | 100 | {ph} |" in lines
    assert "| Hours/week – Mean (SD) | 28.6 (13.5) | 20.0 (10.0) | 35.0 (12.9) |" in md
    assert "Fisher's exact test" in md and "Student's t-test" in md
    assert "hours_cc_week: 7 answers" in md and "panel_judgement: 7 answers" in md


def test_html_and_latex_carry_label_footnotes_and_rules(hand_long) -> None:
    html = render(hand_long, HAND_SPEC, fmt="html", synthetic=True)
    assert html.count(SYNTHETIC_LABEL) >= 3  # first line, caption, notes
    assert "<caption>" in html and "full answer distribution" in html
    tex = render(hand_long, HAND_SPEC, fmt="latex", synthetic=True)
    assert tex.startswith(f"% {SYNTHETIC_LABEL}")
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert rule in tex
    assert "\\begin{tabular}{lrrrr}" in tex
    assert "Fisher's exact test" in tex
    real = render(hand_long, HAND_SPEC, fmt="html", synthetic=False)
    assert SYNTHETIC_LABEL not in real


def test_latex_escapes() -> None:
    long = build_table(HAND_SPEC, hand_clinics(), "table3")
    spec = HAND_SPEC.copy()
    spec.loc[spec["item"] == "svc_social_needs", "label"] = "Social & financial 100% _needs_"
    tex = render(long, spec, fmt="latex", synthetic=False)
    assert "Social \\& financial 100\\% \\_needs\\_" in tex


def test_extras_columns(hand_long) -> None:
    md = render(hand_long, HAND_SPEC, fmt="markdown", synthetic=False, extras=True)
    assert "Difference ISW – MN (95% CI)" in md and "| q |" in md
    assert "50.0 pp (" in md  # social needs 75% - 25%
    assert "Newcombe" in md and "Benjamini-Hochberg" in md


def test_docx_opens_with_the_right_rows(hand_long) -> None:
    import docx

    data = render(hand_long, HAND_SPEC, fmt="docx", synthetic=True)
    doc = docx.Document(io.BytesIO(data))
    table = doc.tables[0]
    # header + N + 3 sections + hours + 3 panel levels + phone + social needs
    assert len(table.rows) == 1 + 1 + 3 + 1 + 3 + 1 + 1
    assert table.cell(1, 0).text == "N" and table.cell(1, 1).text == "8"
    assert doc.paragraphs[0].text == SYNTHETIC_LABEL
    assert doc.core_properties.created == FIXED_DATE
    assert doc.core_properties.modified == FIXED_DATE
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert {i.date_time for i in z.infolist()} == {FIXED_DATE.timetuple()[:6]}


def test_docx_cells_are_the_display_grid(paper_tables, spec) -> None:
    """Every cell of a long table (fetched row by row, not by Table.cell) lands in its place."""
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from ccanalysis.tables import paper_display
    from ccanalysis.tables.layout import cells

    long = paper_tables["table3"]
    d = paper_display(long, spec, synthetic=True, extras=True, suppress_below=None)
    doc = docx.Document(io.BytesIO(render(long, spec, fmt="docx", synthetic=True, extras=True)))
    rows = doc.tables[0].rows
    assert len(rows) == 1 + len(d.rows) > 50
    assert [c.text for c in rows[0].cells] == d.header
    assert all(c.paragraphs[0].runs[0].bold for c in rows[0].cells)
    for row, r in zip(rows[1:], d.rows, strict=True):
        row_cells = row.cells
        assert [c.text for c in row_cells] == [r.label] + cells(r, True)
        assert all(c.paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.RIGHT for c in row_cells[1:])
        assert row_cells[0].paragraphs[0].alignment is None
        if r.kind == "section":
            assert row_cells[0].paragraphs[0].runs[0].bold


@pytest.mark.parametrize(
    "kw",
    [
        {"synthetic": True},
        {"synthetic": False, "extras": True},
        {"synthetic": True, "extras": True, "suppress_below": 3},
    ],
)
def test_write_table_writes_what_render_gives(hand_long, tmp_path, kw) -> None:
    """write_table builds the display grid once for all formats: the same bytes as render."""
    paths = write_table(hand_long, HAND_SPEC, tmp_path, "table3", **kw)
    for ext, fmt in (("html", "html"), ("md", "markdown"), ("tex", "latex")):
        assert paths[ext].read_text(encoding="utf-8") == render(hand_long, HAND_SPEC, fmt=fmt, **kw)
    assert paths["docx"].read_bytes() == render(hand_long, HAND_SPEC, fmt="docx", **kw)
    assert paths["csv"].read_text(encoding="utf-8") == long_csv(hand_long, kw.get("suppress_below"))


def test_render_and_write_reject_bad_arguments(hand_long, tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown format"):
        render(hand_long, HAND_SPEC, fmt="rtf", synthetic=True)
    with pytest.raises(ValueError, match="at least 2"):
        render(hand_long, HAND_SPEC, fmt="html", synthetic=True, suppress_below=1)
    with pytest.raises(ValueError, match="at least 2"):
        write_table(hand_long, HAND_SPEC, tmp_path, "table3", synthetic=True, suppress_below=1)


def test_spec_rows_fill_blanks_and_strip() -> None:
    """A hand-made frame read as typed rows: blanks become empty text, labels are stripped, the
    optional columns get their defaults (what the tables read; the spec module does it once)."""
    raw = HAND_SPEC.astype(object)
    raw.loc[0, "section"] = None
    raw.loc[1, "label"] = "  about right  "
    raw.loc[0, "level"] = np.nan  # the mean row: a level is only for categorical rows
    rows = from_frame(raw).rows
    norm = from_frame(raw).frame
    assert list(norm.columns) == [*raw.columns, "denominator", "footnote", "family"]
    assert rows[0].section == "" and rows[1].label == "about right"
    assert rows[0].level == ""
    assert all(r.denominator == "answered" and r.footnote == "" for r in rows)
    assert [r.family for r in rows] == [r.table for r in rows]  # the family: its table
    assert all(isinstance(v, str) for col in norm.columns for v in norm[col])


def test_suppression(hand_long) -> None:
    md = render(hand_long, HAND_SPEC, fmt="markdown", synthetic=False, suppress_below=3)
    assert "| \u2003too few | 2 (29) |" not in md
    lines = md.splitlines()
    row = next(line for line in lines if "\u2003too few" in line)
    # counts: total 2, mn 1, isw 1 -> all below 3
    assert row.startswith("| \u2003too few | <3 | <3 | <3 |")
    assert "<3: a count from 1 to 2" in md
    # zero counts are not suppressed
    row = next(line for line in lines if "\u2003too many" in line)
    assert "| 0 |" in row
    text = long_csv(hand_long, suppress_below=3)
    frame = pd.read_csv(io.StringIO(text), keep_default_na=False)
    hit = frame[
        (frame["item"] == "panel_judgement")
        & (frame["level"] == "too_few")
        & (frame["group"] == "mn")
        & (frame["measure"] == "n")
    ]
    assert hit["value"].iloc[0] == "" and hit["note"].iloc[0] == "<3"


@pytest.mark.slow
def test_write_table_files_and_byte_identical_rerun(hand_long, tmp_path) -> None:
    paths = write_table(hand_long, HAND_SPEC, tmp_path, "table3", synthetic=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "table3.csv",
        "table3.docx",
        "table3.html",
        "table3.md",
        "table3.tex",
    ]
    first = {k: p.read_bytes() for k, p in paths.items()}
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    again = build_table(HAND_SPEC, hand_clinics(), "table3")
    out2 = tmp_path / "again"
    paths2 = write_table(again, HAND_SPEC, out2, "table3", synthetic=True)
    assert {k: p.read_bytes() for k, p in paths2.items()} == first
    csv_text = paths["csv"].read_text()
    assert csv_text.splitlines()[0].startswith("table,item,level,group,measure,value,")
    assert "table3,n,,total,n,8," in csv_text
    back = pd.read_csv(paths["csv"], keep_default_na=False)
    assert list(back.columns[:6]) == list(LONG_COLUMNS)
    # the CSV read back renders the same table
    reread = pd.read_csv(paths["csv"])
    assert render(reread, HAND_SPEC, fmt="markdown", synthetic=True) == paths["md"].read_text()
    assert reread["value"].to_numpy() == pytest.approx(hand_long["value"].to_numpy(), nan_ok=True)


# ---------------------------------------------------------------------------------------------
# All four tables at the paper's size
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paper_tables(spec, paper_size):
    """All four tables at paper size (timings live in the benchmark, not in tests)."""
    clinics, coordinators = paper_size
    return build_tables(spec, clinics, coordinators)


def test_all_tables_at_paper_size(spec, paper_size, paper_tables) -> None:
    clinics, coordinators = paper_size
    tables = paper_tables
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
    # every rendering works on the real layout
    for long in tables.values():
        md = render(long, spec, fmt="markdown", synthetic=True)
        assert md.startswith(f"**{SYNTHETIC_LABEL}**")
        assert len(render(long, spec, fmt="docx", synthetic=True)) > 1000


def test_text_facts(paper_size) -> None:
    clinics, coordinators = paper_size
    facts = text_facts(clinics, coordinators).set_index("fact")
    assert list(facts.columns) == ["value", "statement"]
    v = facts["value"]
    assert v["clinics"] == 317 and v["coordinators"] == 213
    assert (
        v[
            [
                "care_systems_small_1_2_clinics",
                "care_systems_medium_3_9_clinics",
                "care_systems_large_over_9_clinics",
            ]
        ].sum()
        == v["care_systems"]
    )
    assert v["urban_pct_ruca_1_3"] == pytest.approx(100 * (clinics["ruca"] <= 3).mean())
    assert v["urban_pct_ruca_1_3"] + v["rural_pct_ruca_4_10"] == pytest.approx(100)
    multi = (clinics.groupby("coordinator_id").size() >= 2).sum()
    assert v["coordinators_multi_clinic"] == multi
    sw = set(coordinators.loc[coordinators["degree"] == "msw_bsw", "coordinator_id"])
    assert (
        v["clinics_reported_by_sw_degree_coordinators"] == clinics["coordinator_id"].isin(sw).sum()
    )
    assert v["minutes_per_patient_week"] == pytest.approx(
        clinics["hours_cc_week"].mean() * 60 / clinics["panel_size"].mean()
    )
    mn = clinics["group"] == "mn"
    assert v["mn_clinics_with_sw_on_team"] == (mn & (clinics["sw_on_team"] == "yes")).sum()
    isw, yes = clinics["group"] == "isw", clinics["svc_social_needs"] == "yes"
    ok = clinics["svc_social_needs"].notna()
    expected = 100 * ((isw & yes).sum() / (isw & ok).sum() - (mn & yes).sum() / (mn & ok).sum())
    assert v["discussion_social_needs_pp_diff"] == pytest.approx(expected)


def test_tables_module_never_reads_published_data() -> None:
    for path in (ROOT / "src" / "ccanalysis" / "tables").glob("*.py"):
        assert "published" not in path.read_text(), path.name


# ---------------------------------------------------------------------------------------------
# Items nobody answered; uncalibrated synthetic items; families of q-values
# ---------------------------------------------------------------------------------------------


def test_an_item_nobody_answered_keeps_a_visible_row() -> None:
    """Never left out silently: the row stays, says "no answers", and a footnote names the item
    and its specification line; the item is not tested (an empty p that says why)."""
    clinics = hand_clinics()
    clinics["pt_comm_phone"] = cat([None] * 8, FREQ5)
    clinics["hours_cc_week"] = np.nan
    long = build_table(HAND_SPEC, clinics, "table3")
    assert value(long, "pt_comm_phone", "always_mostly", "total", "denom") == 0
    assert math.isnan(value(long, "pt_comm_phone", "always_mostly", "isw", "pct"))
    phone = long[long["item"] == "pt_comm_phone"]
    assert (phone["note"] == "no answers").all() and len(phone) == 3 * 3 + 1
    p = p_row(long, "pt_comm_phone")
    assert math.isnan(p["value"]) and p["test"] == "fisher" and p["note"] == "no answers"
    assert math.isnan(p_row(long, "hours_cc_week")["value"])
    md = render(long, HAND_SPEC, fmt="markdown", synthetic=False)
    assert "| \u2003Telephone | no answers | – | – |  |" in md
    assert "| Hours/week – Mean (SD) | no answers | – | – |  |" in md
    assert (
        "No answers in these data (the row is kept, with no percentage and no test): "
        "hours_cc_week, specification line 2; pt_comm_phone, specification line 6." in md
    )
    assert "pt_comm_phone: 0 answers" not in md
    # the other items are untouched: the q-values adjust across the tests that ran
    assert p_row(long, "svc_social_needs")["q"] == pytest.approx(
        stats.bh_qvalues(
            [p_row(long, i)["value"] for i in ("panel_judgement", "svc_social_needs")]
        )[1]
    )


def test_a_missing_column_names_the_item_and_the_spec_line() -> None:
    with pytest.raises(KeyError, match=r"table3: the frame has no column 'svc_social_needs' "):
        build_table(HAND_SPEC, hand_clinics().drop(columns="svc_social_needs"), "table3")
    spec = read_spec()
    line = spec.row("table3", "svc_social_needs", "yes").line
    clinics, coordinators = random_frames(n_clinics=60, n_coord=40)
    with pytest.raises(KeyError, match=rf"'svc_social_needs' \(specification line {line}\)"):
        build_tables(spec, clinics.drop(columns="svc_social_needs"), coordinators)


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
    blank = frame.drop(columns="family")
    assert {r.family for r in from_frame(blank).of("table3")} == {"table3"}


def test_q_values_across_the_pre_specified_family(spec, paper_size) -> None:
    """By default Tables 3 and 4 form one family (the spec's family column); per table is an
    option; Table 1 is its own family either way."""
    clinics, coordinators = paper_size
    assert {r.q_family for r in spec.of("table3", "table4")} == {"tables_3_4"}
    fam = build_tables(spec, clinics, coordinators)
    own = build_tables(spec, clinics, coordinators, q_family="table")
    p3, p4 = (fam[t][fam[t]["measure"] == "p"] for t in ("table3", "table4"))
    q = stats.bh_qvalues(np.concatenate([p3["value"], p4["value"]]))
    assert np.concatenate([p3["q"], p4["q"]]) == pytest.approx(q, rel=1e-15)
    for t in ("table3", "table4"):
        p = own[t][own[t]["measure"] == "p"]
        assert p["q"].to_numpy() == pytest.approx(stats.bh_qvalues(p["value"]), rel=1e-15)
        pd.testing.assert_series_equal(p["value"], fam[t].loc[p.index, "value"])
    pd.testing.assert_frame_equal(fam["table1"], own["table1"])
    note = "across the 69 tests of the pre-specified family 'tables_3_4' (Table 3 and Table 4)."
    summaries = from_specs(spec, clinics, coordinators)
    assert note.replace("69", str(len(p3) + len(p4))) in summaries["table4"].render("md")
    with pytest.raises(ValueError, match="q_family"):
        build_tables(spec, clinics, coordinators, q_family="all")


def _stage_root(tmp_path: Path, paper_size) -> Path:
    """A project root with processed frames (the paper-size random ones) for ``run``."""
    clinics, coordinators = paper_size
    processed = tmp_path / "data" / "processed"
    processed.mkdir(parents=True)
    clinics.to_parquet(processed / "clinics.parquet")
    coordinators.to_parquet(processed / "coordinators.parquet")
    (tmp_path / "data" / "raw" / "synthetic").mkdir(parents=True)
    return tmp_path


@pytest.mark.slow
def test_run_footnotes_uncalibrated_synthetic_items(tmp_path, paper_size) -> None:
    from ccanalysis.stage import context

    root = _stage_root(tmp_path, paper_size)
    dictionary = ROOT / "data" / "raw" / "cc_survey_dictionary.csv"
    paths, params = context(root=root, dictionary=dictionary)
    plain = run(paths, params)
    assert "not calibrated" not in plain["table3.md"].read_text()
    assert sorted(plain)[:5] == [
        "table1.csv",
        "table1.docx",
        "table1.html",
        "table1.md",
        "table1.tex",
    ]
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
    real = run(*context(root=root, dictionary=dictionary, data_mode="redcap"))
    assert "†" not in real["table3.md"].read_text()
    bad = paths.export.parent / "uncalibrated_items.csv"
    bad.write_text("name\nsvc_spiritual\n")
    with pytest.raises(ValueError, match="no column 'item'.*uncalibrated_items.csv"):
        uncalibrated_items(paths.export.parent)
