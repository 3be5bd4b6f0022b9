"""Sensitivity analyses: direct standardization (checked by hand), the bootstrap, GEE vs logistic
regression, degenerate items, outputs; on tiny hand-made frames and a realistic clustered one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccanalysis import sensitivity as sens
from ccanalysis.vocab import SYNTHETIC_LABEL

ROOT = Path(__file__).resolve().parents[1]
SPEC = pd.read_csv(
    ROOT / "src" / "ccanalysis" / "specs" / "tables.csv", dtype=str, keep_default_na=False
)
FREQ5 = ["always", "mostly", "sometimes", "rarely", "never"]
YN = ["yes", "no"]
SIZE_CAT = pd.CategoricalDtype(["small", "medium", "large"], ordered=True)


# ---------------------------------------------------------------------------------------------
# Frame builders
# ---------------------------------------------------------------------------------------------


def spec_frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["table", "section", "item", "level", "label", "stat", "shown", "combine", "test"]
    return pd.DataFrame(rows, columns=cols)


def _levels_of(spec: pd.DataFrame) -> dict[str, list[str] | None]:
    """Answer levels per item of Tables 3/4 (None: numeric), as the data dictionary has them."""
    known = {
        "panel_judgement": ["about_right", "too_many", "too_few"],
        "cc_always_onsite": ["always", "most_days", "some_days", "rarely_never"],
        "comm_initiator": ["care_coordinator", "patient", "equal"],
        "transitions_involvement": [
            "very_involved",
            "somewhat_involved",
            "a_little_involved",
            "not_involved",
        ],
        "ease_hospital_nh": ["very_difficult", "somewhat_difficult", "somewhat_easy", "very_easy"],
        "payment_required": ["most_of_the_time", "sometimes", "rarely_never"],
        "financial_constraints": ["most_of_the_time", "some_of_the_time", "rarely_never"],
        "resource_satisfaction": [
            "very_satisfied",
            "somewhat_satisfied",
            "somewhat_dissatisfied",
            "very_dissatisfied",
        ],
    }
    out: dict[str, list[str] | None] = {}
    for item, rows in SPEC[SPEC["table"].isin(["table3", "table4"])].groupby("item", sort=False):
        r = rows.iloc[0]
        if r["stat"] == "mean_sd":
            out[item] = None
        elif r["shown"] == "binary":
            out[item] = YN
        elif item in known:
            out[item] = known[item]
        elif r["combine"] in ("always+mostly",):
            out[item] = FREQ5
        elif r["combine"] == "regularly+often":
            out[item] = ["regularly", "often", "sometimes", "rarely", "never"]
        elif r["combine"] == "all+most":
            out[item] = ["all", "most", "some", "few", "none"]
        elif r["combine"] == "most_of_the_time":
            out[item] = ["most_of_the_time", "some_of_the_time", "rarely", "never"]
        elif r["combine"] == "very":
            out[item] = ["very", "somewhat", "a_little", "not_at_all"]
        elif item.endswith("_value"):
            out[item] = [
                "strongly_agree",
                "somewhat_agree",
                "somewhat_disagree",
                "strongly_disagree",
            ]
        else:
            raise AssertionError(f"no levels for {item}")
    return out


LEVELS = _levels_of(SPEC)
#: items driven by rurality x size only (no care model effect): confounded in the crude comparison
CONFOUNDED = ("resource_chw", "support_registry")
#: items no medical/nursing clinic answers with the shown level (degenerate for logistic models)
DEGENERATE = ("pt_comm_video", "clin_comm_video")


def make_clinics(scale: int = 1, seed: int = 7, missing: float = 0.02) -> pd.DataFrame:
    """A realistic clinic frame: 317 x scale clinics in 42 x scale care systems (16 small, 15
    medium, 11 large per 42), 213 x scale coordinators nested in systems, 139 x scale integrated
    clinics (more in large, urban systems), answers correlated within systems and coordinators."""
    rng = np.random.default_rng(seed)
    sizes = (
        [1] * 8
        + [2] * 8
        + [3, 3, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 8, 8, 9]
        + [10, 11, 12, 14, 15, 17, 18, 20, 24, 30, 36]
    ) * scale
    n = sum(sizes)
    system = np.repeat(np.arange(len(sizes)), sizes)
    size_of = np.array(["small" if s <= 2 else "medium" if s <= 9 else "large" for s in sizes])
    size = size_of[system]
    p_urban = np.select([size == "small", size == "medium"], [0.3, 0.55], 0.8)
    urban = rng.random(n) < p_urban
    ruca = np.where(urban, rng.integers(1, 4, n), rng.integers(4, 11, n))
    # care model: latent score, the top 139/317 are integrated
    u_sys = rng.normal(0, 1.0, len(sizes))[system]
    score = (
        1.2 * (size == "medium")
        + 1.8 * (size == "large")
        + 0.6 * urban
        + u_sys
        + rng.logistic(0, 1, n)
    )
    n_isw = 139 * scale
    isw = np.zeros(n, dtype=bool)
    isw[np.argsort(-score, kind="stable")[:n_isw]] = True
    # coordinators nested in systems, 213 per 317 clinics
    n_coord = np.maximum(1, np.round(np.array(sizes) * 213 / 317).astype(int))
    big = np.argsort(-np.array(sizes), kind="stable")
    diff = 213 * scale - n_coord.sum()
    i = 0
    while diff != 0:
        k = big[i % len(big)]
        step = 1 if diff > 0 else -1
        if 1 <= n_coord[k] + step <= sizes[k]:
            n_coord[k] += step
            diff -= step
        i += 1
    coord = np.empty(n, dtype=np.int64)
    start, cstart = 0, 0
    for k, s in enumerate(sizes):
        m = n_coord[k]
        local = np.concatenate([np.arange(m), rng.integers(0, m, s - m)])
        coord[start : start + s] = cstart + rng.permutation(local)
        start += s
        cstart += m
    frame = pd.DataFrame(
        {
            "clinic_id": [f"C{i:05d}" for i in range(n)],
            "coordinator_id": [f"K{c:05d}" for c in coord],
            "care_system_id": [f"S{s:04d}" for s in system],
            "ruca": ruca,
            "urban": urban,
            "system_size": pd.Categorical(size, dtype=SIZE_CAT),
            "care_model": pd.Categorical(
                np.where(isw, "integrated_sw", "medical_nursing"),
                categories=["medical_nursing", "integrated_sw"],
                ordered=True,
            ),
            "group": pd.Categorical(
                np.where(isw, "isw", "mn"), categories=["mn", "isw"], ordered=True
            ),
        }
    )
    n_sys, n_k = len(sizes), int(coord.max()) + 1
    cols = {}
    for j, (item, levels) in enumerate(LEVELS.items()):
        r = np.random.default_rng([seed, j])
        re = r.normal(0, 0.8, n_sys)[system] + r.normal(0, 0.5, n_k)[coord]
        effect = r.normal(0, 0.6) if item not in CONFOUNDED else 0.0
        strat = 0.4 * urban + 0.3 * (size == "large")
        if item in CONFOUNDED:
            re = 0.2 * re
            strat = 2.0 * urban + 2.0 * (size == "large") - 2.0
        z = r.normal(0, 1) + effect * isw + strat + re + r.logistic(0, 1, n)
        if levels is None:
            values = np.exp(3 + 0.3 * z / 3 + r.normal(0, 0.2, n)).round(1)
            values[r.random(n) < missing] = np.nan
            cols[item] = values
            continue
        cuts = np.sort(r.normal(0, 1.5, len(levels) - 1))
        code = (len(levels) - 1) - np.searchsorted(cuts, z)  # higher z -> first level
        if item in DEGENERATE:
            code = np.where(~isw, np.maximum(code, 2), code)  # no mn clinic always/mostly
        code = np.where(r.random(n) < missing, -1, code)
        cols[item] = pd.Categorical.from_codes(code, categories=levels, ordered=True)
    return pd.concat([frame, pd.DataFrame(cols)], axis=1)


@pytest.fixture(scope="module")
def clinics() -> pd.DataFrame:
    return make_clinics()


@pytest.fixture(scope="module")
def result(clinics: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("tables")
    return sens.run(clinics, SPEC, seed=11, n_boot=400, synthetic=True, outdir=out)


def tiny(rows: list[tuple[str, bool, str, object, float]]) -> pd.DataFrame:
    """Clinics from (group, urban, size, answer of svc_social_needs, hours_cc_week)."""
    return pd.DataFrame(
        {
            "clinic_id": [f"C{i}" for i in range(len(rows))],
            "coordinator_id": [f"K{i}" for i in range(len(rows))],
            "care_system_id": [f"S{i % 3}" for i in range(len(rows))],
            "group": pd.Categorical([r[0] for r in rows], categories=["mn", "isw"], ordered=True),
            "urban": [r[1] for r in rows],
            "system_size": pd.Categorical([r[2] for r in rows], dtype=SIZE_CAT),
            "svc_social_needs": pd.Categorical([r[3] for r in rows], categories=YN, ordered=True),
            "hours_cc_week": [r[4] for r in rows],
        }
    )


TINY_SPEC = spec_frame(
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
            "Services provided:",
            "svc_social_needs",
            "yes",
            "Social needs",
            "pct",
            "binary",
            "",
            "fisher",
        ),
    ]
)


def _row(
    frame: pd.DataFrame,
    item: str,
    analysis: str,
    measure: str | None = None,
    level: str | None = None,
) -> pd.Series:
    m = (frame["item"] == item) & (frame["analysis"] == analysis)
    if measure is not None:
        m &= frame["measure"] == measure
    if level is not None:
        m &= frame["level"] == level
    sub = frame[m]
    assert len(sub) == 1, (item, analysis, measure, len(sub))
    return sub.iloc[0]


# ---------------------------------------------------------------------------------------------
# 1. Direct standardization
# ---------------------------------------------------------------------------------------------

# Two strata, A = urban/small and B = rural/small (hours in the last field).
#   isw: A 3 clinics, yes 2 (hours 10, 20, 30); B 1 clinic, yes 1 (hours 50)
#   mn : A 2 clinics, yes 1 (hours 10, 30);     B 4 clinics, yes 1 (hours 20, 20, 40, 40)
# Shares:  isw A 2/3, B 1;  mn A 1/2, B 1/4.   Crude: isw 3/4, mn 2/6 = 1/3.
# Target isw (weights A 3/4, B 1/4): mn* = 3/4 * 1/2 + 1/4 * 1/4 = 7/16 = 0.4375; isw* = 3/4.
#   standardized difference = 3/4 - 7/16 = 5/16 = 31.25 pp; unadjusted 3/4 - 1/3 = 41.667 pp.
# Target total (A 5/10, B 5/10): mn* = (1/2 + 1/4)/2 = 0.375, isw* = (2/3 + 1)/2 = 5/6,
#   difference 5/6 - 3/8 = 11/24 = 45.833 pp.
# Hours: isw means A 20, B 50 (crude 27.5); mn means A 20, B 30 (crude 26.667).
#   target isw: mn* = 3/4 * 20 + 1/4 * 30 = 22.5, difference 27.5 - 22.5 = 5.0;
#   target total: mn* = (20 + 30)/2 = 25, isw* = (20 + 50)/2 = 35, difference 10.0.
HAND = tiny(
    [
        ("isw", True, "small", "yes", 10.0),
        ("isw", True, "small", "yes", 20.0),
        ("isw", True, "small", "no", 30.0),
        ("isw", False, "small", "yes", 50.0),
        ("mn", True, "small", "yes", 10.0),
        ("mn", True, "small", "no", 30.0),
        ("mn", False, "small", "yes", 20.0),
        ("mn", False, "small", "no", 20.0),
        ("mn", False, "small", "no", 40.0),
        ("mn", False, "small", "no", 40.0),
    ]
)


def test_standardization_matches_hand_calculation() -> None:
    res = sens.standardize(HAND, TINY_SPEC, target=["isw", "total"], n_boot=50, seed=1, min_cell=1)
    un = _row(res, "svc_social_needs", "unadjusted")
    assert un["measure"] == "pp_diff"
    assert un["estimate"] == pytest.approx(100 * (3 / 4 - 1 / 3))
    assert (un["value_mn"], un["value_isw"]) == pytest.approx((100 / 3, 75.0))
    si = _row(res, "svc_social_needs", "standardized_isw")
    assert si["estimate"] == pytest.approx(31.25)
    assert (si["value_mn"], si["value_isw"]) == pytest.approx((43.75, 75.0))
    st = _row(res, "svc_social_needs", "standardized_total")
    assert st["estimate"] == pytest.approx(100 * 11 / 24)
    assert (st["value_mn"], st["value_isw"]) == pytest.approx((37.5, 100 * 5 / 6))
    h_un = _row(res, "hours_cc_week", "unadjusted")
    assert h_un["measure"] == "mean_diff"
    assert h_un["estimate"] == pytest.approx(27.5 - 80 / 3)
    assert _row(res, "hours_cc_week", "standardized_isw")["estimate"] == pytest.approx(5.0)
    assert _row(res, "hours_cc_week", "standardized_total")["estimate"] == pytest.approx(10.0)
    assert (res["n_mn"].tolist(), res["n_isw"].tolist()) == ([6] * 6, [4] * 6)


def test_missing_answers_are_left_out_of_shares_and_weights() -> None:
    # one more isw clinic in B without an answer: the isw target weights stay A 3/4, B 1/4
    extra = tiny([("isw", False, "small", None, math.nan)])
    frame = pd.concat([HAND, extra], ignore_index=True)
    res = sens.standardize(frame, TINY_SPEC, n_boot=20, seed=1, min_cell=1)
    assert _row(res, "svc_social_needs", "standardized_isw")["estimate"] == pytest.approx(31.25)
    # with the default min_cell=5 the two sparse strata are merged: the crude comparison
    crude = sens.standardize(frame, TINY_SPEC, n_boot=20, seed=1)
    row = _row(crude, "svc_social_needs", "standardized_isw")
    assert row["estimate"] == pytest.approx(100 * (3 / 4 - 1 / 3))
    assert "strata with fewer than 5 answers of a model collapsed" in row["note"]
    assert _row(res, "svc_social_needs", "unadjusted")["n_isw"] == 4


def test_one_stratum_standardization_equals_crude(clinics: pd.DataFrame) -> None:
    one = clinics.assign(
        urban=True, system_size=pd.Categorical(["medium"] * len(clinics), dtype=SIZE_CAT)
    )
    res = sens.standardize(one, SPEC, target=["isw", "total"], n_boot=200, seed=5)
    un = res[res["analysis"] == "unadjusted"].reset_index(drop=True)
    for t in ("isw", "total"):
        st = res[res["analysis"] == f"standardized_{t}"].reset_index(drop=True)
        cols = ["estimate", "ci_low", "ci_high", "p", "value_mn", "value_isw"]
        np.testing.assert_allclose(
            st[cols].to_numpy(), un[cols].to_numpy(), rtol=1e-12, atol=1e-9, equal_nan=True
        )


def test_bootstrap_is_reproducible_and_covers_the_estimate(clinics: pd.DataFrame) -> None:
    a = sens.standardize(clinics, SPEC, n_boot=300, seed=42)
    b = sens.standardize(clinics, SPEC, n_boot=300, seed=42)
    c = sens.standardize(clinics, SPEC, n_boot=300, seed=43)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"], equal_nan=True)
    ok = a.dropna(subset=["estimate", "ci_low", "ci_high"])
    assert len(ok) == len(a)  # every row of the realistic frame is estimable
    assert ((ok["ci_low"] <= ok["estimate"]) & (ok["estimate"] <= ok["ci_high"])).all()
    assert ((ok["ci_high"] - ok["ci_low"]) > 0).all()
    assert a["p"].between(0, 1).all()
    # replicate b does not depend on B: the first 100 replicates are shared
    first = sens.standardize(clinics, SPEC, n_boot=100, seed=42)
    again = sens.standardize(clinics, SPEC, n_boot=100, seed=42)
    pd.testing.assert_frame_equal(first, again)


def test_bootstrap_interval_is_close_to_the_analytic_one(clinics: pd.DataFrame) -> None:
    # the unadjusted percentile interval of a share difference ~ the Wald interval
    res = sens.standardize(clinics, SPEC, n_boot=2000, seed=3)
    row = _row(res, "svc_social_needs", "unadjusted")
    y = clinics["svc_social_needs"].astype("object")
    ok = y.notna()
    g = clinics["group"].astype("object")
    p1 = (y[ok & (g == "isw")] == "yes").mean()
    p0 = (y[ok & (g == "mn")] == "yes").mean()
    n1, n0 = (ok & (g == "isw")).sum(), (ok & (g == "mn")).sum()
    se = 100 * math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    assert row["estimate"] == pytest.approx(100 * (p1 - p0))
    assert row["ci_high"] - row["ci_low"] == pytest.approx(2 * 1.96 * se, rel=0.1)


def test_standardization_removes_confounding(clinics: pd.DataFrame) -> None:
    # resource_chw depends on rurality and size only: the crude difference is confounded
    res = sens.standardize(clinics, SPEC, target=["isw", "total"], n_boot=1000, seed=2)
    un = _row(res, "resource_chw", "unadjusted")
    st = _row(res, "resource_chw", "standardized_isw")
    assert un["ci_low"] > 0  # isw clinics are more urban and in larger systems
    assert abs(st["estimate"]) < abs(un["estimate"]) / 2
    assert st["ci_low"] < 0 < st["ci_high"]
    ch = sens.changes(res)
    assert ch.set_index("item").loc["resource_chw", "changed"]


def test_empty_stratum_is_collapsed_or_dropped_with_a_note() -> None:
    # mn has no clinic in rural/small, isw has one there
    frame = pd.concat(
        [HAND, tiny([("isw", False, "large", "yes", 10.0), ("mn", False, "medium", "no", 30.0)])],
        ignore_index=True,
    )
    col = sens.standardize(frame, TINY_SPEC, n_boot=50, seed=1, empty="collapse", min_cell=1)
    row = _row(col, "svc_social_needs", "standardized_isw")
    assert "collapsed" in row["note"] and "merged rural/large with rural/medium" in row["note"]
    assert math.isfinite(row["estimate"])
    # by hand: rural/large merges with rural/medium (its neighbour); mn there 0/1, isw weight 1/5
    #   mn* = 3/5 * 1/2 (urban/small) + 1/5 * 1/4 (rural/small) + 1/5 * 0 = 0.35; isw* = 4/5
    assert row["estimate"] == pytest.approx(100 * (0.8 - 0.35))
    drop = sens.standardize(frame, TINY_SPEC, n_boot=50, seed=1, empty="drop", min_cell=1)
    row = _row(drop, "svc_social_needs", "standardized_isw")
    assert row["note"].startswith("dropped stratum rural/large (without answers of a model; 20.0%")
    # weights A 3/4, B 1/4 again over the kept strata; isw* over them too: 3/4 and 7/16
    assert row["estimate"] == pytest.approx(31.25)


def test_empty_cell_in_a_replicate_borrows_its_rurality_mean() -> None:
    # one replicate, one row; strata urban small/medium/large, rural small/medium/large
    # isw answers 1, 1, 0 | 1, 0, 0 -> target weights 1/3 on urban/small, urban/medium, rural/small
    # mn answers 2, 0, 3 | 4, 0, 0 with 1, 0, 3 | 2, 0, 0 at the level: means 0.5, -, 1.0 | 0.5
    # urban/medium has no mn answer: it borrows the urban mn mean (1 + 3)/(2 + 3) = 0.8, so
    #   mn* = (0.5 + 0.8 + 0.5)/3 = 0.6 (collapse); dropping it: (0.5 + 0.5)/2 = 0.5
    # isw* = (1 + 0 + 1)/3 = 2/3 either way
    cnt = [np.array([[[2.0, 0, 3, 4, 0, 0]]]), np.array([[[1.0, 1, 0, 1, 0, 0]]])]
    sums = [np.array([[[1.0, 0, 3, 2, 0, 0]]]), np.array([[[1.0, 0, 0, 1, 0, 0]]])]
    keep = np.ones((1, 1, 6), dtype=bool)
    mn, isw, patched = sens._std_stats(cnt, sums, keep, "isw", "collapse")
    assert (mn[0, 0], isw[0, 0], patched[0, 0]) == pytest.approx((0.6, 2 / 3, True))
    mn, isw, patched = sens._std_stats(cnt, sums, keep, "isw", "drop")
    assert (mn[0, 0], isw[0, 0], patched[0, 0]) == pytest.approx((0.5, 2 / 3, True))
    # no urban mn answer at all: both urban cells borrow the mn overall mean; mn answers
    # 0, 0, 0 | 4, 2, 0 with 2, 2 at the level: overall 4/6, rural/small 1/2
    #   mn* = (2/3 + 2/3 + 1/2)/3 = 11/18
    cnt0 = [np.array([[[0.0, 0, 0, 4, 2, 0]]]), cnt[1]]
    sums0 = [np.array([[[0.0, 0, 0, 2, 2, 0]]]), sums[1]]
    mn, _, _ = sens._std_stats(cnt0, sums0, keep, "isw", "collapse")
    assert mn[0, 0] == pytest.approx(11 / 18)


def test_collapse_prefers_the_adjacent_size_then_the_other_rurality() -> None:
    cnt = np.array(
        [
            [5, 0, 4, 0, 0, 0],  # mn answers per stratum
            [3, 2, 1, 0, 0, 1],
        ]
    )  # isw answers
    block_of, keep, note = sens._collapse(cnt, "isw", "collapse", 1)
    assert keep.all()
    assert block_of[1] in (block_of[0], block_of[2])  # urban/medium joins a neighbour
    # rural has no mn answers at all: it is merged into an urban block
    assert block_of[5] in set(block_of[:3])
    assert note.startswith(
        "strata without answers of a model collapsed: merged urban/medium with urban/small"
    )


def test_clinics_without_strata_are_noted(clinics: pd.DataFrame) -> None:
    frame = clinics.copy()
    frame["urban"] = frame["urban"].astype("boolean")
    frame.loc[:9, "urban"] = pd.NA
    res = sens.standardize(frame, SPEC, n_boot=20, seed=1)
    st = _row(res, "svc_social_needs", "standardized_isw")
    assert "without rurality or system size left out" in st["note"]
    assert _row(res, "svc_social_needs", "unadjusted")["note"] == ""


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="target"):
        sens.standardize(HAND, TINY_SPEC, target="mn")
    with pytest.raises(KeyError, match="svc_cultural"):
        sens.standardize(
            HAND,
            spec_frame([("table3", "", "svc_cultural", "yes", "x", "pct", "binary", "", "fisher")]),
        )
    with pytest.raises(KeyError, match="urban"):
        sens.standardize(HAND.drop(columns="urban"), TINY_SPEC)


# ---------------------------------------------------------------------------------------------
# 2. Clustering
# ---------------------------------------------------------------------------------------------


def test_naive_closed_form_and_gee_independence_equal_logistic_regression(
    clinics: pd.DataFrame,
) -> None:
    import statsmodels.api as sm

    y = (clinics["svc_social_needs"].astype("object") == "yes").to_numpy(float)
    ok = clinics["svc_social_needs"].notna().to_numpy()
    x = (clinics["group"].astype("object") == "isw").to_numpy(float)
    y, x, cl = y[ok], x[ok], clinics["care_system_id"].to_numpy()[ok]
    logit = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    naive = sens.naive_logistic(y, x)
    assert (naive["b0"], naive["b1"]) == pytest.approx(tuple(logit.params), rel=1e-7)
    assert naive["se_b1"] == pytest.approx(logit.bse[1], rel=1e-6)
    assert naive["p_or"] == pytest.approx(logit.pvalues[1], rel=1e-5)
    ind = sens.gee_fit(y, x, cl, cov_struct="independence", cov_type="naive")
    assert ind["b1"] == pytest.approx(logit.params[1], rel=1e-6)
    assert ind["b0"] == pytest.approx(logit.params[0], rel=1e-6)
    assert ind["se_b1"] == pytest.approx(logit.bse[1], rel=1e-4)  # model-based = Logit's
    # the independence GEE's risk difference is the crude difference of proportions
    assert ind["rd"] == pytest.approx(y[x == 1].mean() - y[x == 0].mean())


@pytest.mark.parametrize("cluster", ["care_system_id", "coordinator_id"])
@pytest.mark.parametrize("structure", ["exchangeable", "independence"])
def test_numpy_engine_equals_statsmodels_gee(
    clinics: pd.DataFrame, cluster: str, structure: str
) -> None:
    x = (clinics["group"].astype("object") == "isw").to_numpy(float)
    for item, level in (
        ("svc_social_needs", ["yes"]),
        ("pt_comm_phone", ["always", "mostly"]),
        ("ease_hospital_nh", ["very_easy"]),
        ("resource_chw", ["yes"]),
    ):
        answers = clinics[item].astype("object")
        ok = answers.notna().to_numpy()
        y = answers.isin(level).to_numpy(float)
        for cov_type in ("robust", "naive"):
            args = (y[ok], x[ok], clinics[cluster].to_numpy()[ok])
            kw = {"cov_struct": structure, "cov_type": cov_type}
            a = sens.gee_fit(*args, **kw)
            b = sens.gee_fit(*args, engine="statsmodels", **kw)
            for k in ("b0", "b1", "se_b1", "or_lo", "rd", "rd_lo", "p_or", "p_rd", "rho"):
                assert a[k] == pytest.approx(b[k], rel=1e-10, abs=1e-12, nan_ok=True), (item, k)
            assert a["note"] == b["note"] == ""
    # Mancl-DeRouen always runs in statsmodels; it is at least as wide as the sandwich
    br = sens.gee_fit(
        y[ok], x[ok], clinics[cluster].to_numpy()[ok], cov_type="bias_reduced", cov_struct=structure
    )
    rb = sens.gee_fit(y[ok], x[ok], clinics[cluster].to_numpy()[ok], cov_struct=structure)
    assert br["b1"] == pytest.approx(rb["b1"], rel=1e-8)
    assert br["se_b1"] >= rb["se_b1"]


def test_gee_odds_ratio_on_a_clustered_example() -> None:
    # 20 care systems of 10 clinics, model constant within a system (10 mn, 10 isw systems).
    # Each system's share of yes is 0.7 (isw) or 0.3 (mn) on average, varying by system, so the
    # answers are clustered. Equal cluster sizes and a cluster-level covariate: the exchangeable
    # GEE weighs systems equally, its estimate is the crude one, OR = (0.7/0.3)/(0.3/0.7) = 5.44.
    shares = {
        "isw": [1.0, 0.4, 0.9, 0.5, 0.7, 1.0, 0.4, 0.8, 0.9, 0.4],
        "mn": [0.0, 0.6, 0.1, 0.5, 0.3, 0.0, 0.6, 0.2, 0.1, 0.6],
    }
    y, x, cl = [], [], []
    for g, values in shares.items():
        for s, share in enumerate(values):
            k = round(10 * share)
            y += [1.0] * k + [0.0] * (10 - k)
            x += [1.0 if g == "isw" else 0.0] * 10
            cl += [f"{g}{s}"] * 10
    y_arr, x_arr = np.array(y), np.array(x)
    fit = sens.gee_fit(y_arr, x_arr, cl)
    assert fit["or"] == pytest.approx((0.7 / 0.3) / (0.3 / 0.7), rel=1e-4)
    assert fit["rd"] == pytest.approx(0.4, abs=1e-6)
    assert fit["clusters"] == 20
    # shares vary between systems (variance 0.058 around 0.7 and 0.3, binomial variance 0.21):
    # the within-system correlation is roughly 0.058/0.21 less the sampling part, clearly > 0
    assert 0.1 < fit["rho"] < 0.3
    naive = sens.naive_logistic(y_arr, x_arr)
    assert naive["or"] == pytest.approx(fit["or"], rel=1e-4)
    # clustering widens the interval of the log odds ratio
    assert fit["se_b1"] > naive["se_b1"]
    assert fit["or_lo"] > 1  # still clearly significant
    assert fit["rd_lo"] < 0.4 < fit["rd_hi"]
    br = sens.gee_fit(y_arr, x_arr, cl, cov_type="bias_reduced")
    assert br["se_b1"] >= fit["se_b1"]


def test_gee_risk_difference_delta_method_matches_numeric_gradient(clinics: pd.DataFrame) -> None:
    from statsmodels.genmod.cov_struct import Exchangeable
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_estimating_equations import GEE

    y = (clinics["support_space"].astype("object") == "yes").to_numpy(float)
    ok = clinics["support_space"].notna().to_numpy()
    x = (clinics["group"].astype("object") == "isw").to_numpy(float)
    y, x = y[ok], x[ok]
    codes = pd.factorize(clinics["care_system_id"].to_numpy()[ok], sort=True)[0]
    order = np.argsort(codes, kind="stable")
    res = GEE(
        y[order],
        np.column_stack([np.ones(len(y)), x])[order],
        groups=codes[order],
        family=Binomial(),
        cov_struct=Exchangeable(),
    ).fit()
    b, cov = np.asarray(res.params), np.asarray(res.cov_params())

    def rd(beta: np.ndarray) -> float:
        return 1 / (1 + np.exp(-(beta[0] + beta[1]))) - 1 / (1 + np.exp(-beta[0]))

    eps = 1e-6
    grad = np.array([(rd(b + eps * e) - rd(b - eps * e)) / (2 * eps) for e in np.eye(2)])
    se = math.sqrt(grad @ cov @ grad)
    fit = sens.gee_fit(y, x, clinics["care_system_id"].to_numpy()[ok])
    assert fit["b1"] == pytest.approx(b[1], rel=1e-8)
    assert fit["rd"] == pytest.approx(rd(b), rel=1e-8)
    assert fit["rd_hi"] - fit["rd"] == pytest.approx(1.959964 * se, rel=1e-5)


@pytest.mark.parametrize("engine", ["numpy", "statsmodels"])
def test_invalid_exchangeable_correlation_falls_back_to_independence(engine: str) -> None:
    # one care system of 40 isw clinics (half yes) and 40 systems of 2 (20 isw, 20 mn; in each
    # model 16 split yes/no, 2 both yes, 2 both no): 50% yes everywhere, so the Pearson
    # residuals are +-1 and the moment estimate of rho is sum of within-pair products / (pairs - 2)
    # (scale 120/118): (-20 - 32 + 8) / (120/118) / 818 = -0.053, below -1/39 = -0.026, the
    # smallest correlation of a valid 40 x 40 exchangeable matrix
    pairs = [1.0, 0.0] * 16 + [1.0, 1.0] * 2 + [0.0, 0.0] * 2
    y = [1.0, 0.0] * 20 + pairs + pairs
    x = [1.0] * 40 + [1.0] * 40 + [0.0] * 40
    cl = ["big"] * 40 + [f"s{i // 2}" for i in range(80)]
    fit = sens.gee_fit(np.array(y), np.array(x), cl, engine=engine)
    assert (
        "exchangeable working correlation failed (rho -0.053, bound -0.026 for clusters of up to 40"
        in str(fit["note"])
    )
    assert "independence working correlation used" in str(fit["note"])
    assert math.isnan(fit["rho"])
    assert fit["or"] == pytest.approx(1.0) and fit["rd"] == pytest.approx(0.0, abs=1e-12)
    assert fit["or_lo"] < 1 < fit["or_hi"]
    ind = sens.gee_fit(np.array(y), np.array(x), cl, cov_struct="independence", engine=engine)
    assert fit["se_b1"] == pytest.approx(ind["se_b1"])


def test_degenerate_item_gives_nan_and_a_note(clinics: pd.DataFrame) -> None:
    res = sens.cluster_robust(clinics, SPEC, engine="statsmodels")
    for item in DEGENERATE:
        for analysis in ("naive_logistic", "gee_care_system", "gee_coordinator"):
            for measure in ("odds_ratio", "risk_diff"):
                r = _row(res, item, analysis, measure)
                assert math.isnan(r["estimate"]) and math.isnan(r["ci_low"])
                assert "not estimable" in r["note"] and "0 of" in r["note"]
        # Newcombe's interval still exists for a 0% share
        nc = _row(res, item, "naive_newcombe")
        assert nc["value_mn"] == 0 and math.isfinite(nc["ci_low"])
    # the standardization of a degenerate row is fine
    st = sens.standardize(clinics, SPEC, n_boot=50, seed=1)
    assert math.isfinite(_row(st, "pt_comm_video", "standardized_isw")["estimate"])
    # direct call: everything 0 in one group, or a single cluster
    y = np.array([0, 0, 0, 1, 0, 1.0])
    x = np.array([0, 0, 0, 1, 1, 1.0])
    fit = sens.gee_fit(y, x, ["a", "a", "b", "b", "c", "c"])
    assert math.isnan(fit["or"]) and "separation" in str(fit["note"])
    y2 = np.array([0, 1, 0, 1, 0, 1.0])
    fit = sens.gee_fit(y2, x, ["a"] * 6)
    assert math.isnan(fit["or"]) and "fewer than 2 clusters" in str(fit["note"])


def test_cluster_robust_rows_and_units(clinics: pd.DataFrame) -> None:
    res = sens.cluster_robust(clinics, SPEC)
    spec34 = SPEC[SPEC["table"].isin(["table3", "table4"]) & (SPEC["stat"] != "mean_sd")]
    assert len(res) == len(spec34) * (2 * 3 + 1)
    assert set(res["analysis"]) == {
        "naive_logistic",
        "naive_newcombe",
        "gee_care_system",
        "gee_coordinator",
    }
    rd = res[res["measure"] == "risk_diff"]
    assert (rd["estimate"].dropna().abs() <= 1).all()  # proportions, not percentage points
    gee = res[res["analysis"] == "gee_care_system"]
    assert (gee["clusters"] <= 42).all() and (gee["clusters"] >= 40).all()
    assert (res.loc[res["analysis"] == "gee_coordinator", "clusters"] > 150).all()
    only = sens.cluster_robust(clinics, SPEC, include_full=False, newcombe=False)
    assert set(only["level"]) <= set(SPEC.loc[SPEC["shown"].isin(["binary", "collapsed"]), "level"])


def test_survival(clinics: pd.DataFrame) -> None:
    res = sens.cluster_robust(clinics, SPEC)
    sv = sens.survival(res)
    sig = sv[sv["naive_logistic"].isin(["higher", "lower"])]
    assert len(sig) > 3
    assert sv.loc[~sv.index.isin(sig.index), "survives_gee_care_system"].isna().all()
    # a significant difference that keeps its interval away from 1 survives
    orr = res[(res["measure"] == "odds_ratio") & (res["analysis"] == "gee_care_system")]
    both = sig.merge(orr, on=["table", "item", "level"])
    expect = ((both["ci_low"] > 1) & (both["naive_logistic"] == "higher")) | (
        (both["ci_high"] < 1) & (both["naive_logistic"] == "lower")
    )
    assert (both["survives_gee_care_system"].astype(bool) == expect).all()


# ---------------------------------------------------------------------------------------------
# 3. run, conclusions, outputs
# ---------------------------------------------------------------------------------------------


def test_run_outputs(result: dict) -> None:
    paths = result["paths"]
    assert set(paths) == {"csv", "html", "markdown"}
    csv = pd.read_csv(paths["csv"], keep_default_na=False, dtype=str)
    assert list(csv.columns) == [*sens.COLUMNS, "synthetic"]
    assert (csv["synthetic"] == SYNTHETIC_LABEL).all()
    assert set(csv["analysis"]) == {
        "unadjusted",
        "standardized_isw",
        "standardized_total",
        "naive_logistic",
        "naive_newcombe",
        "gee_care_system",
        "gee_coordinator",
    }
    assert set(csv["measure"]) == {"pp_diff", "mean_diff", "odds_ratio", "risk_diff"}
    assert set(csv["table"]) == {"table3", "table4"}
    n34 = (SPEC["table"].isin(["table3", "table4"])).sum()
    assert (csv["analysis"] == "unadjusted").sum() == n34
    assert (csv.loc[csv["measure"] == "mean_diff", "level"] == "").all()
    # NaN is written as an empty cell
    video = csv[(csv["item"] == "pt_comm_video") & (csv["analysis"] == "gee_care_system")]
    assert (video["estimate"] == "").all() and (video["note"] != "").all()
    for fmt in ("html", "markdown"):
        text = Path(paths[fmt]).read_text(encoding="utf-8")
        assert SYNTHETIC_LABEL in text
        assert "Std. to ISW" in text and "Care system OR" in text
        assert "Conclusions" in text
    html_text = Path(paths["html"]).read_text(encoding="utf-8")
    assert html_text.count("<table>") == 2
    md = Path(paths["markdown"]).read_text(encoding="utf-8")
    assert sum(line.startswith("|---|") for line in md.splitlines()) == 2


def test_run_results_and_conclusions(result: dict, clinics: pd.DataFrame) -> None:
    res = result["results"]
    assert list(res.columns) == list(sens.COLUMNS)
    assert res["analysis"].iloc[0] == "unadjusted"  # sorted by spec row, then analysis
    std = result["standardization"]
    assert len(std) == (SPEC["table"].isin(["table3", "table4"])).sum()
    assert {
        "MN",
        "ISW",
        "Unadjusted difference (95% CI)",
        "Std. to ISW difference (95% CI)",
        "Conclusion changes",
    } <= set(std.columns)
    clu = result["clustering"]
    assert "Naive-significant survives" in clu.columns
    sentences = result["conclusions"]
    assert all(isinstance(s, str) for s in sentences)
    assert sentences[0].startswith("Standardized to the integrated clinics'")
    ch = result["changes"]
    changed = ch[(ch["target"] == "isw") & ch["changed"]]
    # one sentence per changed row (and the confounded item is among them)
    per_item = [s for s in sentences if "standardized to the isw strata" in s]
    assert len(per_item) == len(changed)
    assert any("(resource_chw=yes)" in s for s in per_item)
    assert any(s.startswith("Clustered by care system") for s in sentences)
    assert sens.conclusions(res, SPEC) == sentences


def test_written_files_are_what_render_gives(result: dict, tmp_path: Path) -> None:
    """run and write build the display tables once for both formats: the same text as render."""
    res, sentences = result["results"], result["conclusions"]
    for fmt in ("html", "markdown"):
        text = sens.render(res, SPEC, fmt=fmt, synthetic=True, sentences=sentences)
        assert Path(result["paths"][fmt]).read_text(encoding="utf-8") == text
    paths = sens.write(res, tmp_path, SPEC, synthetic=True)
    for k in ("csv", "html", "markdown"):
        assert Path(paths[k]).read_bytes() == Path(result["paths"][k]).read_bytes()
    tabs = sens.display_tables(res, SPEC)
    for key in ("standardization", "clustering"):
        pd.testing.assert_frame_equal(tabs[key], result[key])


def test_display_tables_with_some_analyses_only(result: dict) -> None:
    res = result["results"]
    full = sens.display_tables(res, SPEC)
    std = sens.display_tables(res[res["analysis"].isin(["unadjusted", "standardized_total"])], SPEC)
    assert list(std) == ["standardization"]
    frame = std["standardization"]
    assert "Std. to ISW difference (95% CI)" not in frame.columns
    assert (
        frame["Unadjusted difference (95% CI)"]
        == full["standardization"]["Unadjusted difference (95% CI)"]
    ).all()
    assert frame["Conclusion changes"].isin(["", "total"]).all()
    clu = sens.display_tables(res[res["analysis"].isin(["naive_logistic", "gee_coordinator"])])
    assert list(clu) == ["clustering"]
    assert "Care system OR (95% CI)" not in clu["clustering"].columns
    assert (
        clu["clustering"]["Naive-significant survives"]
        .isin(["", "coordinator: yes", "coordinator: no"])
        .all()
    )


def test_percentile_interval_column_by_column() -> None:
    """The interval and p of all-finite columns (computed together) equal the column alone."""
    rng = np.random.default_rng(5)
    boot = np.round(rng.normal(size=(997, 12)), 2)
    boot[:, 1] = 0.0
    boot[rng.random(997) < 0.1, 2] = np.nan
    boot[:, 3] = np.nan
    est = rng.normal(size=12)
    est[4] = np.nan
    lo, hi, p = sens._percentile(boot, est)
    for j in range(12):
        x = boot[np.isfinite(boot[:, j]), j]
        if not len(x) or not np.isfinite(est[j]):
            assert np.isnan([lo[j], hi[j], p[j]]).all()
            continue
        assert [lo[j], hi[j]] == list(np.quantile(x, [0.025, 0.975]))
        assert p[j] == min(1.0, 2.0 * min(np.mean(x <= 0), np.mean(x >= 0)))


def test_normal_quantities_are_scipy_stats_bit_for_bit() -> None:
    from scipy import stats as sps

    assert sens.Z95 == float(sps.norm.ppf(0.975))
    for est, se in ((0.3, 0.2), (-1.7, 0.4), (1e-9, 3.0), (40.0, 1.0), (-3.0, 1e-300)):
        assert sens._wald_p(est, se) == float(2.0 * sps.norm.sf(abs(est / se)))
    assert math.isnan(sens._wald_p(1.0, 0.0)) and math.isnan(sens._wald_p(math.nan, 1.0))


def test_render_without_synthetic_label(result: dict) -> None:
    text = sens.render(result["results"], SPEC, fmt="markdown", synthetic=False)
    assert SYNTHETIC_LABEL not in text
    with pytest.raises(ValueError):
        sens.render(result["results"], SPEC, fmt="latex")


def test_run_without_outdir_writes_nothing(tmp_path: Path) -> None:
    out = sens.run(HAND, TINY_SPEC, seed=1, n_boot=20, outdir=None)
    assert out["paths"] == {}
    # tiny frame: degenerate GEE rows (1 clinic per cluster) are NaN or fitted, never an exception
    assert len(out["results"]) > 0


def test_writes_are_byte_reproducible(clinics: pd.DataFrame, tmp_path: Path) -> None:
    small = SPEC[SPEC["item"].isin(["svc_social_needs", "hours_cc_week", "ease_hospital_nh"])]
    a = sens.run(clinics, small, seed=3, n_boot=100, outdir=tmp_path / "a")
    b = sens.run(clinics, small, seed=3, n_boot=100, outdir=tmp_path / "b")
    for k in ("csv", "html", "markdown"):
        assert Path(a["paths"][k]).read_bytes() == Path(b["paths"][k]).read_bytes()
