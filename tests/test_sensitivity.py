"""Sensitivity analyses: the standardization (by hand, against R with a fixed resampling plan),
the cluster bootstrap, the clustered comparisons, the crude rows, the changes of verdict and the
outputs; on tiny hand-made frames and a realistic clustered one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import stdtrit

from ccanalysis import sensitivity as sens
from ccanalysis.paths import Paths
from ccanalysis.sensitivity import inputs
from ccanalysis.sensitivity import standardization as std
from ccanalysis.spec import default_instrument, from_frame, read_spec
from ccanalysis.stage import Params
from ccanalysis.stats import newcombe_diff
from ccanalysis.stats.clustered import gee_difference
from ccanalysis.vocab import SYNTHETIC_LABEL

ROOT = Path(__file__).resolve().parents[1]
SPEC = read_spec()
ROWS34 = SPEC.of("table3", "table4")
YN = ["yes", "no"]
SIZE_CAT = pd.CategoricalDtype(["small", "medium", "large"], ordered=True)
#: Answer levels per item of Tables 3/4 (None: numeric), in the data dictionary's order.
LEVELS: dict[str, list[str] | None] = {}
for _r in ROWS34:
    LEVELS.setdefault(_r.item, None if _r.continuous else list(_r.item_levels))
#: items driven by rurality x size only (no care model effect): confounded in the crude comparison
CONFOUNDED = ("resource_chw", "support_registry")
#: items no medical/nursing clinic answers with the shown level (degenerate for logistic models)
DEGENERATE = ("pt_comm_video", "clin_comm_video")


def spec_frame(rows: list[tuple]) -> pd.DataFrame:
    cols = ["table", "section", "item", "level", "label", "stat", "shown", "combine", "test"]
    return pd.DataFrame(rows, columns=cols)


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
def result(clinics: pd.DataFrame) -> sens.Sensitivity:
    return sens.analyze(clinics, SPEC, seed=11, n_boot=400)


def tiny(rows: list[tuple[str, bool, str, object, float]]) -> pd.DataFrame:
    """Clinics from (group, urban, size, answer of svc_social_needs, hours_cc_week); three care
    systems per size (the size is the system's)."""
    return pd.DataFrame(
        {
            "clinic_id": [f"C{i}" for i in range(len(rows))],
            "coordinator_id": [f"K{i}" for i in range(len(rows))],
            "care_system_id": [f"S{r[2]}{i % 3}" for i, r in enumerate(rows)],
            "group": pd.Categorical([r[0] for r in rows], categories=["mn", "isw"], ordered=True),
            "urban": [r[1] for r in rows],
            "system_size": pd.Categorical([r[2] for r in rows], dtype=SIZE_CAT),
            "svc_social_needs": pd.Categorical([r[3] for r in rows], categories=YN, ordered=True),
            "hours_cc_week": [r[4] for r in rows],
        }
    )


TINY_SPEC = from_frame(
    spec_frame(
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
)


def _row(frame: pd.DataFrame, item: str, analysis: str, level: str | None = None) -> pd.Series:
    m = (frame["item"] == item) & (frame["analysis"] == analysis)
    if level is not None:
        m &= frame["level"] == level
    sub = frame[m]
    assert len(sub) == 1, (item, analysis, len(sub))
    return sub.iloc[0]


def _std(frame: pd.DataFrame, spec=TINY_SPEC, **kw) -> pd.DataFrame:  # noqa: ANN001
    kw.setdefault("n_boot", 50)
    kw.setdefault("seed", 1)
    return sens.analyze(frame, spec, exchangeable=False, **kw).results


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
    res = _std(HAND, min_stratum=1)
    un = _row(res, "svc_social_needs", "unadjusted")
    assert un["unit"] == "pp"
    assert un["estimate"] == pytest.approx(100 * (3 / 4 - 1 / 3))
    assert (un["value_mn"], un["value_isw"]) == pytest.approx((100 / 3, 75.0))
    si = _row(res, "svc_social_needs", "standardized_isw")
    assert si["estimate"] == pytest.approx(31.25)
    assert (si["value_mn"], si["value_isw"]) == pytest.approx((43.75, 75.0))
    st = _row(res, "svc_social_needs", "standardized_total")
    assert st["estimate"] == pytest.approx(100 * 11 / 24)
    assert (st["value_mn"], st["value_isw"]) == pytest.approx((37.5, 100 * 5 / 6))
    h_un = _row(res, "hours_cc_week", "unadjusted")
    assert h_un["unit"] == "hours/week"
    assert h_un["estimate"] == pytest.approx(27.5 - 80 / 3)
    assert _row(res, "hours_cc_week", "standardized_isw")["estimate"] == pytest.approx(5.0)
    assert _row(res, "hours_cc_week", "standardized_total")["estimate"] == pytest.approx(10.0)
    assert (res["n_mn"].tolist(), res["n_isw"].tolist()) == ([6] * 10, [4] * 10)


def test_missing_answers_are_left_out_of_shares_and_weights() -> None:
    # one more isw clinic in B without an answer: the isw target weights stay A 3/4, B 1/4
    extra = tiny([("isw", False, "small", None, math.nan)])
    frame = pd.concat([HAND, extra], ignore_index=True)
    res = _std(frame, n_boot=20, min_stratum=1)
    assert _row(res, "svc_social_needs", "standardized_isw")["estimate"] == pytest.approx(31.25)
    # with the default min_stratum=5 the two sparse strata are merged: the crude comparison
    crude = _std(frame, n_boot=20)
    row = _row(crude, "svc_social_needs", "standardized_isw")
    assert row["estimate"] == pytest.approx(100 * (3 / 4 - 1 / 3))
    assert "strata with fewer than 5 answers of a model collapsed" in row["note"]
    assert _row(res, "svc_social_needs", "unadjusted")["n_isw"] == 4


def test_one_stratum_standardization_equals_crude(clinics: pd.DataFrame) -> None:
    one = clinics.assign(
        urban=True, system_size=pd.Categorical(["medium"] * len(clinics), dtype=SIZE_CAT)
    )
    res = _std(one, SPEC, n_boot=200, seed=5)
    un = res[res["analysis"] == "unadjusted"].reset_index(drop=True)
    si = res[res["analysis"] == "standardized_isw"].reset_index(drop=True)
    st = res[res["analysis"] == "standardized_total"].reset_index(drop=True)
    for frame in (si, st):
        np.testing.assert_allclose(
            frame[["estimate", "value_mn", "value_isw"]].to_numpy(),
            un[["estimate", "value_mn", "value_isw"]].to_numpy(),
            rtol=1e-12,
            atol=1e-9,
        )
    # one block: both targets are the crude difference, replicate for replicate
    cols = ["estimate", "ci_low", "ci_high", "p", "replicates"]
    pd.testing.assert_frame_equal(si[cols], st[cols])


def test_bootstrap_is_reproducible_and_covers_the_estimate(clinics: pd.DataFrame) -> None:
    a = _std(clinics, n_boot=300, seed=42)  # the tiny specification: a mean and a share
    b = _std(clinics, n_boot=300, seed=42)
    c = _std(clinics, n_boot=300, seed=43)
    pd.testing.assert_frame_equal(a, b)
    boot = a[a["analysis"].str.startswith("standardized") & (a["flag"] != "sparse")]
    other = c[c["analysis"].str.startswith("standardized") & (c["flag"] != "sparse")]
    assert not np.allclose(boot["ci_low"], other["ci_low"], equal_nan=True)
    assert len(boot.dropna(subset=["estimate", "ci_low", "ci_high"])) == len(boot)
    assert ((boot["ci_low"] <= boot["estimate"]) & (boot["estimate"] <= boot["ci_high"])).all()
    assert ((boot["ci_high"] - boot["ci_low"]) > 0).all()
    assert (boot["p"] > 0).all() and (boot["p"] <= 1).all()  # never 0
    assert (boot["replicates"] >= 300).all() and (boot["clusters"] == 42).all()


def test_cluster_bootstrap_width_matches_the_clustered_standard_error(
    clinics: pd.DataFrame,
) -> None:
    # one stratum: the bootstrap resamples care systems, so its interval of the crude difference
    # is about the cluster-robust Wald one (GEE independence, Mancl-DeRouen; the primary row of a
    # share is Newcombe on design-effect-adjusted counts, which leaves out the covariance of the
    # two models' shares within a system holding both: wider here, where 25 of 42 systems are mixed)
    one = clinics.assign(
        urban=True, system_size=pd.Categorical(["medium"] * len(clinics), dtype=SIZE_CAT)
    )
    spec = SPEC.of("table3")
    res = sens.analyze(one, spec, seed=3, n_boot=4000, exchangeable=False).results
    res = res[res["flag"] != "sparse"]  # no bootstrap or sandwich interval
    width = {
        a: (
            res.loc[res["analysis"] == a, "ci_high"] - res.loc[res["analysis"] == a, "ci_low"]
        ).to_numpy()
        for a in ("unadjusted", "gee_care_system", "gee_care_system_md", "standardized_isw")
    }
    ratio = width["standardized_isw"] / width["gee_care_system_md"]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.12)
    assert 0.75 < ratio.min() and ratio.max() < 1.35
    assert np.median(width["standardized_isw"] / width["gee_care_system"]) < 0.85


# The cluster bootstrap against R with a fixed resampling plan: 6 care systems, 27 clinics; the
# plan's replicates are the systems' multiplicities (systems in id order S1..S6). R 4.2.2:
#   d$stratum <- paste(ifelse(d$urban, "urban", "rural"), d$size, sep = "/")
#   std <- function(y, m, target) {   # standardized isw - mn for system multiplicities m
#     w <- m[as.integer(factor(d$system, levels = paste0("S", 1:6)))]
#     cnt <- function(g, s) sum(w[d$group == g & d$stratum %in% s])
#     tot <- function(g, s) sum((w * y)[d$group == g & d$stratum %in% s])
#     for (g in c("mn", "isw")) { num <- 0; den <- 0
#       for (s in strata) {
#         wt <- if (target == "isw") cnt("isw", s) else cnt("isw", s) + cnt("mn", s)
#         if (wt == 0) next
#         if (cnt(g, s) > 0) mu <- tot(g, s) / cnt(g, s) else {   # borrow the rurality's mean
#           r <- strata[startsWith(strata, sub("/.*", "", s))]
#           mu <- if (cnt(g, r) > 0) tot(g, r) / cnt(g, r) else tot(g, strata) / cnt(g, strata) }
#         num <- num + wt * mu; den <- den + wt }
#       val[g] <- num / den }
#     unname(val["isw"] - val["mn"]) }
#   apply(plan, 1, function(m) std(y, m, target))   # y: 100 x (yes), hours
BOOT_FRAME = [
    ("S1", "small", True, "isw", "yes", 29),
    ("S1", "small", True, "mn", "yes", 6),
    ("S1", "small", True, "mn", "no", 35),
    ("S2", "small", True, "mn", "yes", 17),
    ("S2", "small", True, "mn", "no", 21),
    ("S3", "medium", False, "mn", "no", 22),
    ("S3", "medium", True, "mn", "no", 39),
    ("S3", "medium", True, "isw", "no", 17),
    ("S3", "medium", False, "isw", "yes", 28),
    ("S3", "medium", True, "mn", "no", 14),
    ("S4", "medium", True, "mn", "yes", 24),
    ("S4", "medium", True, "isw", "yes", 36),
    ("S4", "medium", True, "isw", "no", 26),
    ("S4", "medium", True, "isw", "yes", 29),
    ("S5", "large", False, "isw", "no", 34),
    ("S5", "large", True, "mn", "no", 6),
    ("S5", "large", True, "isw", "yes", 32),
    ("S5", "large", True, "mn", "no", 11),
    ("S5", "large", True, "mn", "yes", 7),
    ("S5", "large", True, "mn", "yes", 7),
    ("S5", "large", False, "isw", "yes", 29),
    ("S6", "large", True, "mn", "no", 5),
    ("S6", "large", False, "isw", "yes", 21),
    ("S6", "large", False, "mn", "yes", 14),
    ("S6", "large", True, "isw", "no", 35),
    ("S6", "large", True, "isw", "yes", 6),
    ("S6", "large", False, "mn", "no", 7),
]
BOOT_PLAN = [
    [2, 0, 1, 1, 1, 1],
    [0, 1, 2, 0, 2, 1],
    [1, 1, 1, 1, 1, 1],
    [0, 0, 3, 0, 1, 2],
    [1, 0, 0, 2, 0, 3],
]
BOOT_R = {
    ("isw", "svc_social_needs"): [
        30.512820512820511,
        28.632478632478637,
        28.888888888888886,
        35.55555555555555,
        18.75,
    ],
    ("isw", "hours_cc_week"): [
        10.171794871794869,
        12.517094017094017,
        10.37361111111111,
        8.8222222222222246,
        10.6875,
    ],
    ("total", "svc_social_needs"): [
        32.619047619047606,
        27.100694444444439,
        31.975308641975303,
        32.156862745098046,
        27.011494252873554,
    ],
    ("total", "hours_cc_week"): [
        10.603571428571424,
        11.003298611111111,
        10.82037037037037,
        7.4156862745098024,
        10.695402298850572,
    ],
}


def test_cluster_bootstrap_replicates_equal_r_for_a_fixed_plan() -> None:
    frame = pd.DataFrame(
        BOOT_FRAME,
        columns=[
            "care_system_id",
            "system_size",
            "urban",
            "group",
            "svc_social_needs",
            "hours_cc_week",
        ],
    )
    frame["system_size"] = frame["system_size"].astype(SIZE_CAT)
    rows = inputs.analysis_rows(TINY_SPEC)
    cells = inputs.cell_sums(inputs.prepare(frame, rows))
    design = cells
    n_pt, _ = std.replicate_strata(np.ones((1, 6)), design)
    n_str, s_str = std.replicate_strata(np.array(BOOT_PLAN, dtype=float), design)
    for target in ("isw", "total"):
        plan = [std.collapse(c, target, 1) for c in np.moveaxis(n_pt[0], -1, 0)]
        assert [note for _, note, _ in plan] == ["", ""]  # every weighted stratum: both models
        same = np.array([b[:, None] == b[None, :] for b, _, _ in plan], dtype=float)
        v0, v1, patched = std.standardized_values(n_str, s_str, target, same)
        for j, item in enumerate(("hours_cc_week", "svc_social_needs")):
            scale = 100.0 if item == "svc_social_needs" else 1.0
            np.testing.assert_allclose((v1 - v0)[:, j] * scale, BOOT_R[(target, item)], rtol=1e-13)
        # replicate 2 lacks S1 (the only isw clinic of urban/small): target total patches it
        assert patched[1].all() == (target == "total")
    # the third replicate takes every system once: the point estimate
    point = sens.analyze(frame, TINY_SPEC, n_boot=100, min_stratum=1, exchangeable=False).results
    assert _row(point, "svc_social_needs", "standardized_isw")["estimate"] == pytest.approx(
        BOOT_R[("isw", "svc_social_needs")][2]
    )
    assert _row(point, "hours_cc_week", "standardized_total")["estimate"] == pytest.approx(
        BOOT_R[("total", "hours_cc_week")][2]
    )


def test_standardization_removes_confounding(clinics: pd.DataFrame) -> None:
    # resource_chw depends on rurality and size only: the crude difference is confounded
    res = _std(clinics, SPEC, n_boot=2000, seed=2)
    un = _row(res, "resource_chw", "unadjusted")
    st = _row(res, "resource_chw", "standardized_isw")
    assert un["ci_low"] > 0  # isw clinics are more urban and in larger systems
    assert abs(st["estimate"]) < abs(un["estimate"]) / 2
    assert st["ci_low"] < 0 < st["ci_high"]
    ch = sens.changes(res, [("unadjusted", "standardized_isw")])
    assert ch.set_index("item").loc["resource_chw", "changed"]


def test_empty_stratum_is_collapsed_with_a_note() -> None:
    # mn has no answer in rural/large, isw has one there (and none in rural/medium)
    more = [("isw", False, "large", "yes", 10.0), ("mn", False, "medium", "no", 30.0)]
    more += [("mn", False, "large", None, np.nan), ("isw", False, "medium", None, np.nan)]
    frame = pd.concat([HAND, tiny(more)], ignore_index=True)
    col = _std(frame, min_stratum=1)
    row = _row(col, "svc_social_needs", "standardized_isw")
    assert "collapsed" in row["note"] and "merged rural/large with rural/medium" in row["note"]
    assert math.isfinite(row["estimate"])
    # by hand: rural/large merges with rural/medium (its neighbour); mn there 0/1, isw weight 1/5
    #   mn* = 3/5 * 1/2 (urban/small) + 1/5 * 1/4 (rural/small) + 1/5 * 0 = 0.35; isw* = 4/5
    assert row["estimate"] == pytest.approx(100 * (0.8 - 0.35))


def _identity_plan(target: str, n_rows: int = 1) -> tuple[str, np.ndarray]:
    return target, np.broadcast_to(np.eye(6), (n_rows, 6, 6)).copy()


def test_empty_cell_in_a_replicate_borrows_its_rurality_mean() -> None:
    # one replicate, one row; strata urban small/medium/large, rural small/medium/large
    # isw answers 1, 1, 0 | 1, 0, 0 -> target weights 1/3 on urban/small, urban/medium, rural/small
    # mn answers 2, 0, 3 | 4, 0, 0 with 1, 0, 3 | 2, 0, 0 at the level: means 0.5, -, 1.0 | 0.5
    # urban/medium has no mn answer: it borrows the urban mn mean (1 + 3)/(2 + 3) = 0.8, so
    #   mn* = (0.5 + 0.8 + 0.5)/3 = 0.6; isw* = (1 + 0 + 1)/3 = 2/3
    n_str = np.array([[[2.0, 0, 3, 4, 0, 0], [1.0, 1, 0, 1, 0, 0]]])[..., None]
    s_str = np.array([[[1.0, 0, 3, 2, 0, 0], [1.0, 0, 0, 1, 0, 0]]])[..., None]
    mn, isw, patched = std.standardized_values(n_str, s_str, *_identity_plan("isw"))
    assert (mn[0, 0], isw[0, 0], patched[0, 0]) == pytest.approx((0.6, 2 / 3, True))
    # no urban mn answer at all: both urban cells borrow the mn overall mean; mn answers
    # 0, 0, 0 | 4, 2, 0 with 2, 2 at the level: overall 4/6, rural/small 1/2
    #   mn* = (2/3 + 2/3 + 1/2)/3 = 11/18
    n0 = n_str.copy()
    s0 = s_str.copy()
    n0[0, 0, :, 0] = [0.0, 0, 0, 4, 2, 0]
    s0[0, 0, :, 0] = [0.0, 0, 0, 2, 2, 0]
    mn, _, _ = std.standardized_values(n0, s0, *_identity_plan("isw"))
    assert mn[0, 0] == pytest.approx(11 / 18)


def test_collapse_prefers_the_adjacent_size_then_the_other_rurality() -> None:
    cnt = np.array(
        [
            [5, 0, 4, 0, 0, 0],  # mn answers per stratum
            [3, 2, 1, 0, 0, 1],
        ]
    )  # isw answers
    block_of, note, _ = std.collapse(cnt, "isw", 1)
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
    res = _std(frame, SPEC.of("table3"), n_boot=20)
    st = _row(res, "svc_social_needs", "standardized_isw")
    assert "without rurality or system size left out" in st["note"]
    assert _row(res, "svc_social_needs", "unadjusted")["note"] == ""


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="target"):
        sens.analyze(HAND, TINY_SPEC, targets=["mn"])
    with pytest.raises(KeyError, match="svc_cultural"):
        sens.analyze(
            HAND,
            from_frame(
                spec_frame(
                    [("table3", "", "svc_cultural", "yes", "x", "pct", "binary", "", "fisher")]
                )
            ),
        )
    with pytest.raises(KeyError, match="urban"):
        sens.analyze(HAND.drop(columns="urban"), TINY_SPEC)
    mixed = HAND.assign(care_system_id="S0")
    mixed.loc[0, "system_size"] = "large"
    with pytest.raises(ValueError, match="care system 'S0': its clinics disagree on system_size"):
        sens.analyze(mixed, TINY_SPEC)


# ---------------------------------------------------------------------------------------------
# 2. Crude and clustered comparisons
# ---------------------------------------------------------------------------------------------


def test_crude_rows_are_newcombe_and_student(
    result: sens.Sensitivity, clinics: pd.DataFrame
) -> None:
    res = result.results
    row = _row(res, "svc_social_needs", "unadjusted")
    y = clinics["svc_social_needs"].astype("object")
    g = clinics["group"].astype("object")
    k1, n1 = int((y[g == "isw"] == "yes").sum()), int(y[g == "isw"].notna().sum())
    k0, n0 = int((y[g == "mn"] == "yes").sum()), int(y[g == "mn"].notna().sum())
    d, lo, hi = newcombe_diff(k1, n1, k0, n0)
    assert (row["estimate"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (100 * d, 100 * lo, 100 * hi)
    )
    assert row["method"].startswith("crude difference; Newcombe") and row["clusters"] is pd.NA
    h = _row(res, "hours_cc_week", "unadjusted")
    from scipy import stats as sps

    x1 = clinics.loc[g == "isw", "hours_cc_week"].dropna()
    x0 = clinics.loc[g == "mn", "hours_cc_week"].dropna()
    assert h["p"] == pytest.approx(sps.ttest_ind(x1, x0).pvalue, rel=1e-10)
    assert h["estimate"] == pytest.approx(x1.mean() - x0.mean())


def test_primary_clustered_estimate_is_the_crude_difference(
    result: sens.Sensitivity, clinics: pd.DataFrame
) -> None:
    res = result.results
    crude = res[res["analysis"] == "unadjusted"].set_index(["table", "item", "level"])
    gee = res[res["analysis"] == "gee_care_system"].set_index(["table", "item", "level"])
    assert len(gee) == len(ROWS34)
    pd.testing.assert_index_equal(crude.index, gee.index)
    np.testing.assert_allclose(gee["estimate"], crude["estimate"], rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(
        gee[["value_mn", "value_isw"]], crude[["value_mn", "value_isw"]], rtol=1e-12
    )
    assert (gee["clusters"] >= 40).all() and (gee["clusters"] <= 42).all()
    mean = gee["unit"] != "pp"
    assert gee.loc[mean, "method"].str.contains("CR2 robust SE; t with Satterthwaite df").all()
    newcombe = "Newcombe hybrid score interval on design-effect-adjusted counts (CR2 design effect"
    assert gee.loc[~mean, "method"].str.contains(newcombe, regex=False).all()
    assert (gee["df"] < gee["clusters"] - 2).all()  # unequal systems: fewer df than K - 2
    gee = res[res["analysis"] == "gee_care_system_md"].set_index(["table", "item", "level"])
    assert gee["method"].str.contains("Mancl-DeRouen robust SE; t(K - 2)", regex=False).all()
    assert (gee["df"] == gee["clusters"] - 2).all()
    # the Mancl-DeRouen correction widens the plain sandwich (statsmodels' "robust") interval of
    # every row with an interval (sparse rows have none), a little
    data = inputs.prepare(clinics, ROWS34)
    keep = data.group >= 0
    cr0 = []
    for j, row in enumerate(ROWS34):
        ok = keep & data.valid[:, j]
        y, grp, sys_ = data.y[ok, j], data.group[ok], data.system[ok]
        x = np.column_stack([grp == 0, grp == 1]).astype(float)
        fit = sm.GEE(y, x, groups=sys_, cov_struct=sm.cov_struct.Independence()).fit(
            cov_type="robust"
        )
        se = float(
            np.sqrt(fit.cov_params()[0, 0] + fit.cov_params()[1, 1] - 2 * fit.cov_params()[0, 1])
        )
        cr0.append(se * (1 if row.continuous else 100))
    md = (gee["ci_high"] - gee["estimate"]).to_numpy() / stdtrit(
        gee["clusters"].to_numpy(float) - 2, 0.975
    )
    ratio = (md / np.array(cr0))[(gee["flag"] != "sparse").to_numpy()]
    assert (ratio > 1.0).all() and (ratio < 1.3).all()


def test_one_scale_and_units(result: sens.Sensitivity) -> None:
    res = result.results
    level = res["level"] != ""
    assert (res.loc[level, "unit"] == "pp").all()
    # the units of the dictionary's @CC-UNIT tags, of every numeric item of Tables 3 and 4
    units = {f.name: f.unit for f in default_instrument().fields}
    means = {r.item for r in read_spec().of("table3", "table4") if r.continuous}
    assert set(res.loc[~level, "unit"]) == {units[i] for i in means}
    assert {"hours/week", "clinicians per FTE coordinator", "patients per coordinator"} <= {
        units[i] for i in means
    }
    est = res.loc[level, ["estimate", "ci_low", "ci_high"]].to_numpy()
    assert np.nanmax(np.abs(est)) <= 100
    # differences in percentage points: value_isw - value_mn (percent) for every level row
    np.testing.assert_allclose(
        res.loc[level, "estimate"],
        res.loc[level, "value_isw"] - res.loc[level, "value_mn"],
        atol=1e-9,
    )
    assert set(res["analysis"]) == {
        "unadjusted",
        "gee_care_system",
        "gee_care_system_md",
        "gee_care_system_exchangeable",
        "standardized_isw",
        "standardized_total",
    }


def test_every_p_tests_its_own_interval(result: sens.Sensitivity) -> None:
    res = result.results.dropna(subset=["p", "ci_low", "ci_high"])
    assert len(res) > 0.95 * len(result.results)
    excludes = (res["ci_low"] > 0) | (res["ci_high"] < 0)
    assert (excludes == (res["p"] < 0.05)).all()
    assert (res["p"] > 0).all()


def test_exchangeable_is_labelled_and_differs_from_the_crude(result: sens.Sensitivity) -> None:
    res = result.results
    ex = res[res["analysis"] == "gee_care_system_exchangeable"]
    fitted = ex[ex["method"].str.startswith("GEE, exchangeable")]
    assert len(fitted) > 0.8 * len(ex)
    assert fitted["method"].str.contains("cluster-weighted: a clinic of a system of m weighs").all()
    assert ((fitted["rho"] > 0) & (fitted["rho"] < 1)).all()
    fell = ex[~ex.index.isin(fitted.index)]
    assert (
        fell["method"].str.startswith("GEE, independence weights (exchangeable rho truncated").all()
    )
    truncated = fell["note"].str.contains(r"exchangeable rho -0\.\d+ truncated at 0")
    assert (fell.loc[truncated, "rho"] == 0).all() and fell.loc[~truncated, "rho"].isna().all()
    assert fell["note"].str.contains("independence").all()
    crude = res[res["analysis"] == "unadjusted"].set_index(["item", "level"])["estimate"]
    moved = (fitted.set_index(["item", "level"])["estimate"] - crude).dropna().abs()
    assert (moved > 0.1).mean() > 0.5  # a different estimand


def test_coordinators_are_reported_only_when_they_cross_care_systems(clinics: pd.DataFrame) -> None:
    spec = SPEC.of("table3")
    nested = sens.analyze(clinics, spec, targets=(), exchangeable=False)
    assert "gee_coordinator" not in set(nested.results["analysis"])
    assert "Coordinators working in more than one care system: 0 of 213" in nested.notes[0]
    crossing = clinics.copy()
    crossing.loc[crossing.index[:3], "coordinator_id"] = crossing["coordinator_id"].iloc[-1]
    out = sens.analyze(crossing, spec, targets=(), exchangeable=False)
    coord = out.results[out.results["analysis"] == "gee_coordinator"]
    assert (
        len(coord) == len(spec) and coord["method"].str.contains("clustered by coordinator").all()
    )
    assert (coord["clusters"] > 150).all()
    n_coord = crossing["coordinator_id"].nunique()
    assert sens.coordinator_crossing(inputs.prepare(crossing, spec)) == (1, n_coord)


def test_sparse_rows_are_flagged_and_keep_the_crude_interval_only(
    result: sens.Sensitivity,
) -> None:
    # 0% of mn clinics answer always/mostly: the difference exists under every analysis, but a
    # sandwich or bootstrap interval from no events means nothing; only Newcombe's is shown
    res = result.results
    for item in DEGENERATE:
        for analysis in ("unadjusted", "gee_care_system", "standardized_isw"):
            r = _row(res, item, analysis, "always_mostly")
            assert r["flag"] == "sparse" and math.isfinite(r["estimate"])
            assert r["value_mn"] == 0 or analysis == "standardized_isw"
            crude = analysis == "unadjusted"
            assert math.isfinite(r["ci_low"]) == crude and math.isfinite(r["p"]) == crude
            assert crude or "0 events among MN clinics" in r["note"]
    assert (res.loc[res["flag"] != "sparse", "flag"] == "").all()


def test_sparse_rows_by_the_rule() -> None:
    # HAND: isw 3 yes / 1 no, mn 2 yes / 4 no; the yes answers in systems Ssmall0 and Ssmall1
    cells = inputs.cell_sums(inputs.prepare(HAND, TINY_SPEC.rows))
    why = inputs.sparse_rows(cells, TINY_SPEC.rows)
    assert why == {
        ("table3", "svc_social_needs", "yes"): "2 events among MN clinics, events in 2 care "
        "systems, 1 non-events among ISW clinics"
    }
    # 3 events and 3 non-events per group, the events in 2 care systems: still sparse
    rows = [(g, True, "small", a, 1.0) for g in ("mn", "isw") for a in ("yes", "no") for _ in "123"]
    frame = tiny(rows).assign(care_system_id=["S0", "S1", "S0", "S0", "S1", "S2"] * 2)
    cells = inputs.cell_sums(inputs.prepare(frame, TINY_SPEC.rows))
    key = ("table3", "svc_social_needs", "yes")
    assert inputs.sparse_rows(cells, TINY_SPEC.rows) == {key: "events in 2 care systems"}
    frame.loc[0, "care_system_id"] = "S2"  # events in 3 systems: not sparse
    assert (
        inputs.sparse_rows(inputs.cell_sums(inputs.prepare(frame, TINY_SPEC.rows)), TINY_SPEC.rows)
        == {}
    )


# ---------------------------------------------------------------------------------------------
# 3. Any two groups: by=
# ---------------------------------------------------------------------------------------------

# Urban (U) and rural (R) clinics in 4 care systems (A, B small; C, D medium): social needs
# (1 = yes) and hours per week.
#   A: U 1 10, U 0 20, R 1 15    B: R 0 5, R 1 25
#   C: U 1 30, U 1 40, R 0 10    D: U 0 20, U 1 30, R 0 20, R 0 10
# Shares: urban 4/6, rural 2/6; crude difference 1/3 = 33.33 pp. Wilson 95% (z = 1.959964):
#   4/6 [0.299993, 0.903229], 2/6 [0.096771, 0.700007]; Newcombe: 1/3 - sqrt((4/6 - 0.299993)^2
#   + (0.700007 - 2/6)^2) = -0.185221, 1/3 + sqrt((0.903229 - 4/6)^2 + (2/6 - 0.096771)^2)
#   = 0.667882.
# GEE independence clustered by system: the estimate is the crude difference; Mancl-DeRouen
#   variance sum_i (r_i1 / (N1 - n_i1) - r_i0 / (N0 - n_i0))^2 with r_ig the residuals of group g
#   summed in system i (N1 = N0 = 6): A (-1/3)/4 - (2/3)/5 = -13/60, B 0 - (1/3)/4 = -5/60,
#   C (2/3)/4 - (-1/3)/5 = 14/60, D (-1/3)/4 - (-2/3)/4 = 5/60: variance 415/3600, se 0.339526;
#   t(4 - 2) quantile 4.302653: 33.33 pp +- 146.09 pp.
# Standardized by system size only (the grouping is rurality): urban small 1/2 (2 clinics), medium
#   3/4 (4); rural small 2/3 (3), medium 0/3.
#   to the urban strata (2/6, 4/6): rural* = 2/6 * 2/3 = 2/9, difference 4/6 - 2/9 = 4/9;
#   to all clinics' (small 5/12, medium 7/12): urban* = 5/12 * 1/2 + 7/12 * 3/4 = 31/48, rural* =
#   5/12 * 2/3 = 5/18, difference 53/144.
# Hours: urban small 15, medium 30 (mean 25); rural small 15, medium 40/3 (mean 85/6);
#   to the urban strata: rural* = 15/3 + 2/3 * 40/3 = 125/9, difference 25 - 125/9 = 100/9;
#   to all clinics': urban* = 5/12 * 15 + 7/12 * 30 = 23.75, rural* = 5/12 * 15 + 7/12 * 40/3
#   = 505/36, difference 23.75 - 505/36 = 350/36.
URBAN = [
    ("A", "small", True, "yes", 10.0),
    ("A", "small", True, "no", 20.0),
    ("A", "small", False, "yes", 15.0),
    ("B", "small", False, "no", 5.0),
    ("B", "small", False, "yes", 25.0),
    ("C", "medium", True, "yes", 30.0),
    ("C", "medium", True, "yes", 40.0),
    ("C", "medium", False, "no", 10.0),
    ("D", "medium", True, "no", 20.0),
    ("D", "medium", True, "yes", 30.0),
    ("D", "medium", False, "no", 20.0),
    ("D", "medium", False, "no", 10.0),
]


def urban_frame(rows: list[tuple] = URBAN) -> pd.DataFrame:
    cols = ["care_system_id", "system_size", "urban", "svc_social_needs", "hours_cc_week"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["system_size"] = frame["system_size"].astype(SIZE_CAT)
    frame["svc_social_needs"] = frame["svc_social_needs"].astype(pd.CategoricalDtype(YN))
    return frame.assign(group="mn", coordinator_id=[f"K{i}" for i in range(len(frame))])


URBAN_LABELS = {True: "Urban", False: "Rural"}


def _by_hand_md_se(frame: pd.DataFrame, y: np.ndarray, urban: np.ndarray) -> float:
    """The Mancl-DeRouen SE of the independence GEE difference (cell means): per system,
    (B - G_i)^-1 u_i is each group's residual sum over the group's clinics outside the system."""
    n1, n0 = urban.sum(), (~urban).sum()
    r = y - np.where(urban, y[urban].mean(), y[~urban].mean())
    var = 0.0
    for s in frame["care_system_id"].unique():
        m = (frame["care_system_id"] == s).to_numpy()
        a1 = r[m & urban].sum() / (n1 - (m & urban).sum())
        a0 = r[m & ~urban].sum() / (n0 - (m & ~urban).sum())
        var += (a1 - a0) ** 2
    return math.sqrt(var)


def test_by_urban_crude_and_clustered_rows_by_hand() -> None:
    frame = urban_frame()
    res = sens.analyze(
        frame, TINY_SPEC, by="urban", labels=URBAN_LABELS, n_boot=50, strata=["system_size"]
    ).results
    assert list(res.columns[12:16]) == ["value_False", "value_True", "n_False", "n_True"]
    crude = _row(res, "svc_social_needs", "unadjusted")
    assert (crude["estimate"], crude["ci_low"], crude["ci_high"]) == pytest.approx(
        (100 / 3, -18.52211, 66.78824), abs=1e-5
    )
    assert (crude["value_False"], crude["value_True"]) == pytest.approx((100 / 3, 200 / 3))
    assert (crude["n_False"], crude["n_True"]) == (6, 6)
    gee = _row(res, "svc_social_needs", "gee_care_system_md")
    assert gee["estimate"] == pytest.approx(crude["estimate"], rel=1e-12)
    # a sparse row (2 events among rural clinics): no interval in the output, so by the function
    assert gee["flag"] == "sparse" and math.isnan(gee["ci_low"])
    yes = (frame["svc_social_needs"] == "yes").to_numpy(float)
    gee = gee_difference(yes, frame["urban"].to_numpy(int), frame["care_system_id"])
    gee = {
        "estimate": 100 * gee.estimate,
        "ci_low": 100 * gee.ci_low,
        "ci_high": 100 * gee.ci_high,
        "clusters": gee.clusters,
    }
    assert gee["clusters"] == 4
    q = stdtrit(2, 0.975)
    assert q == pytest.approx(4.302653, abs=1e-6)
    se = math.sqrt(415 / 3600)
    urban = frame["urban"].to_numpy()
    assert _by_hand_md_se(frame, yes, urban) == pytest.approx(se, rel=1e-12)
    assert (gee["ci_low"], gee["ci_high"]) == pytest.approx(
        (100 / 3 - 100 * q * se, 100 / 3 + 100 * q * se), rel=1e-10
    )
    # the mean row: the crude difference 25 - 85/6, its clustered SE by the same hand formula
    hours = frame["hours_cc_week"].to_numpy()
    h_crude = _row(res, "hours_cc_week", "unadjusted")
    h_gee = _row(res, "hours_cc_week", "gee_care_system_md")
    assert h_crude["estimate"] == h_gee["estimate"] == pytest.approx(25 - 85 / 6)
    h_se = _by_hand_md_se(frame, hours, urban)
    assert h_gee["ci_high"] - h_gee["estimate"] == pytest.approx(q * h_se, rel=1e-10)


def test_by_urban_standardizes_by_system_size_only() -> None:
    u = sens.analyze(
        urban_frame(),
        TINY_SPEC,
        by="urban",
        labels=URBAN_LABELS,
        n_boot=200,
        min_stratum=1,
        strata=("system_size",),
    )
    res = u.results
    si = _row(res, "svc_social_needs", "standardized_isw")
    assert si["estimate"] == pytest.approx(100 * 4 / 9)
    assert (si["value_False"], si["value_True"]) == pytest.approx((100 * 2 / 9, 100 * 4 / 6))
    st = _row(res, "svc_social_needs", "standardized_total")
    assert st["estimate"] == pytest.approx(100 * 53 / 144)
    assert (st["value_False"], st["value_True"]) == pytest.approx((100 * 5 / 18, 100 * 31 / 48))
    assert _row(res, "hours_cc_week", "standardized_isw")["estimate"] == pytest.approx(100 / 9)
    assert _row(res, "hours_cc_week", "standardized_total")["estimate"] == pytest.approx(350 / 36)
    assert si["note"].startswith("strata: care-system size only; sparse (2 events among Rural")
    assert si["method"].startswith("direct standardization to the Urban clinics' strata (system")
    assert "Standardized by care-system size only (strata=('system_size',))." in u.notes
    # the groups' names and labels: in the comparison tables and the legends
    assert u.groups.compare == ("True", "False") and u.groups.labels["True"] == "Urban"
    assert {"Rural", "Urban", "Rural std. to urban"} <= set(u.tables["clustering"].columns) | set(
        u.tables["standardization"].columns
    )
    assert u.names["standardized_isw"] == (
        "Std. to Urban",
        "Standardized to the Urban clinics' system size (cluster bootstrap)",
    )


def test_by_system_size_standardizes_by_rurality_only() -> None:
    # medium (comparison) - small (reference): crude 3/7 - 3/5; the small clinics reweighted to
    # the medium clinics' rurality (urban 4/7, rural 3/7): 4/7 * 1/2 + 3/7 * 2/3 = 4/7, so -1/7
    res = sens.analyze(
        urban_frame(), TINY_SPEC, by="system_size", n_boot=200, min_stratum=1, strata=["urban"]
    ).results
    assert _row(res, "svc_social_needs", "unadjusted")["estimate"] == pytest.approx(-600 / 35)
    si = _row(res, "svc_social_needs", "standardized_isw")
    assert si["estimate"] == pytest.approx(-100 / 7)
    assert (si["value_small"], si["value_medium"]) == pytest.approx((400 / 7, 300 / 7))
    assert si["note"].startswith("strata: rurality only; ")


def test_a_grouping_confounded_with_the_strata_stops_and_names_strata_that_work() -> None:
    # a function of a stratifying column: every stratum holds one group
    with pytest.raises(
        ValueError,
        match=r"\(the grouping urban is a function of urban\).*"
        r"strata that would work: strata=\('system_size',\)$",
    ):
        sens.analyze(urban_frame(), TINY_SPEC, by="urban", n_boot=20)
    large = urban_frame().assign(medium=lambda f: f["system_size"] == "medium")
    with pytest.raises(ValueError, match=r"function of system_size.*strata=\('urban',\)$"):
        sens.analyze(large, TINY_SPEC, by="medium", n_boot=20)
    # one stratum (rural/medium) of one group only, detected from the data, not the column name
    one = HAND.copy()
    one.loc[9, ["system_size", "care_system_id"]] = ("medium", "Smedium0")
    with pytest.raises(ValueError, match=r"strata rural/medium hold clinics of one group only, so"):
        sens.analyze(one, TINY_SPEC, n_boot=20)
    assert sens.analyze(one, TINY_SPEC, n_boot=20, targets=()).results["estimate"].notna().all()
    with pytest.raises(ValueError, match=r"strata=\('ruca',\): the standardization stratifies"):
        sens.analyze(HAND, TINY_SPEC, strata=["ruca"])


def test_by_leaves_out_missing_values_and_default_is_the_care_models() -> None:
    frame = pd.concat(
        [urban_frame(), urban_frame([("A", "small", None, "yes", 99.0)])], ignore_index=True
    )
    u = sens.analyze(frame, TINY_SPEC, by="urban", n_boot=20, min_stratum=1, strata=["system_size"])
    assert "1 clinic with no urban value left out." in u.notes
    crude = _row(u.results, "svc_social_needs", "unadjusted")
    assert (crude["n_False"], crude["n_True"], crude["estimate"]) == pytest.approx((6, 6, 100 / 3))
    # by the care models' column: the default, byte for byte
    default = sens.analyze(HAND, TINY_SPEC, n_boot=50)
    by_group = sens.analyze(HAND, TINY_SPEC, n_boot=50, by="group")
    pd.testing.assert_frame_equal(default.results, by_group.results)
    pd.testing.assert_frame_equal(default.tables["clustering"], by_group.tables["clustering"])
    assert list(default.results.columns) == [*sens.COLUMNS, "p_bound"]
    # bad groupings
    with pytest.raises(ValueError, match="both an analysed item and the column to group by"):
        sens.analyze(frame, TINY_SPEC, by="svc_social_needs")
    with pytest.raises(KeyError, match="no column 'ruca'"):
        sens.analyze(frame, TINY_SPEC, by="ruca")
    three = urban_frame().assign(region=["n", "s", "e"] * 4)
    with pytest.raises(ValueError, match=r"3 groups \['e', 'n', 's'\]: name the two"):
        sens.analyze(three, TINY_SPEC, by="region")
    two = sens.analyze(
        three, TINY_SPEC, by="region", groups=("s", "n"), n_boot=20, min_stratum=1, targets=()
    )
    assert "4 clinics in other groups of region than s and n left out." in two.notes
    assert list(two.results.columns[12:16]) == ["value_n", "value_s", "n_n", "n_s"]


# ---------------------------------------------------------------------------------------------
# 3. Changes of verdict and outputs
# ---------------------------------------------------------------------------------------------


def test_changed_rows_count_and_name_the_changes(result: sens.Sensitivity) -> None:
    """Per comparison the rows compared, the changes of verdict and which: a row changes exactly
    when its verdict (the sign of the interval's side of 0) differs."""
    ch = result.changes
    per = sens.changed_rows(ch, result.labels).set_index("Comparison")
    for comparison, sub in ch.groupby("comparison"):
        assert per.at[comparison, "Rows"] == len(sub)
        assert per.at[comparison, "Changes"] == sub["changed"].sum()
        which = per.at[comparison, "Which"]
        assert which.count(" -> ") == sub["changed"].sum()
    res = result.results.set_index(["analysis", "table", "item", "level"])
    for r in ch[ch["changed"]].itertuples():
        a, b = r.comparison.split(" -> ")
        lo, hi = (res.loc[(b, r.table, r.item, r.level), c] for c in ("ci_low", "ci_high"))
        assert r.after == ("higher" if lo > 0 else "lower" if hi < 0 else "no difference")
        label = result.labels[(r.table, r.item, r.level)]
        assert f"{label} ({r.before} -> {r.after})" in per.at[r.comparison, "Which"]


def _project(tmp: Path, clinics: pd.DataFrame) -> Paths:
    (tmp / "data" / "processed").mkdir(parents=True)
    clinics.to_parquet(tmp / "data" / "processed" / "clinics.parquet")
    return Paths.of(tmp, dictionary=ROOT / "data" / "raw" / "cc_survey_dictionary.csv")


@pytest.fixture(scope="module")
def stage(clinics: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    paths = _project(tmp_path_factory.mktemp("project"), clinics)
    return paths, sens.run(paths, Params(seed=11), n_boot=400)


@pytest.mark.slow  # the whole stage
def test_run_writes_the_interface(stage) -> None:  # noqa: ANN001
    paths, art = stage
    assert set(art) == {"csv", "html", "markdown"}
    assert art["csv"] == paths.tables / "sensitivity.csv"
    csv = pd.read_csv(art["csv"], keep_default_na=False, dtype=str)
    assert list(csv.columns[:10]) == [
        "analysis",
        "item",
        "level",
        "estimate",
        "ci_low",
        "ci_high",
        "p",
        "unit",
        "method",
        "note",
    ]
    assert list(csv.columns) == [*sens.COLUMNS, "synthetic"]
    assert (csv["synthetic"] == SYNTHETIC_LABEL).all()
    assert set(csv["table"]) == {"table3", "table4"}
    assert (csv["analysis"] == "unadjusted").sum() == len(ROWS34)
    assert (csv.loc[csv["unit"] != "pp", "level"] == "").all()
    assert "0.0" not in set(csv["p"]) and (pd.to_numeric(csv["p"]).dropna() > 0).all()
    for fmt in ("html", "markdown"):
        text = Path(art[fmt]).read_text(encoding="utf-8")
        assert SYNTHETIC_LABEL in text
        assert "Std. to ISW" in text and "Clustered difference (95% CI)" in text
        assert "Rows whose verdict changes" in text and "Mancl-DeRouen" in text
        assert "## Notes" in text or "<h3>Conclusions</h3>" in text
    assert Path(art["html"]).read_text(encoding="utf-8").count("<table>") == 3
    md = Path(art["markdown"]).read_text(encoding="utf-8")
    assert sum(line.startswith("|---|") for line in md.splitlines()) == 3
    assert {"results", "clustering", "standardization", "changes", "notes"} <= set(art.results)


@pytest.mark.slow  # the whole stage
def test_written_files_are_what_write_gives(stage, tmp_path: Path) -> None:  # noqa: ANN001
    _, art = stage
    res, notes = art.results["results"], art.results["notes"]
    tabs = {k: art.results[k] for k in ("clustering", "standardization", "changes")}
    paths = sens.write(res, tmp_path, tabs, notes, synthetic=True)
    for k in ("csv", "html", "markdown"):
        assert Path(paths[k]).read_bytes() == Path(art[k]).read_bytes()
    # the CSV reads back to the results
    back = pd.read_csv(art["csv"], keep_default_na=False, na_values=[""])
    np.testing.assert_array_equal(back["estimate"].to_numpy(), res["estimate"].to_numpy())


@pytest.mark.slow  # the whole stage
def test_bootstrap_bound_is_shown_as_below_one_over_b(stage) -> None:  # noqa: ANN001
    _, art = stage
    res = art.results["results"]
    boot = res[res["analysis"].str.startswith("standardized")]
    bound = boot[boot["p"] * boot["replicates"].astype(float) == 1.0]
    assert len(bound) > 0 and bound["note"].str.contains("p < 1/B").all()
    tab = art.results["standardization"]
    assert (tab["Std. to ISW p"] == "<0.0025").any()  # 1/400


def test_a_bound_p_is_flagged_whatever_b(clinics: pd.DataFrame) -> None:
    """B = 392 (8 x 49, rows near the line): 1/392 * 392 is not 1.0 in floating point, so the
    bound is known from the flag the bootstrap sets (``p_bound``), not from the p."""
    out = sens.analyze(clinics, ROWS34, n_boot=49, targets=("isw",), exchangeable=False)
    res = out.results
    boot = res[res["analysis"] == "standardized_isw"]
    bound = boot[boot["p_bound"]]
    assert len(bound) > 0 and (bound["replicates"] == 392).all()
    assert (bound["p"] == 1 / 392).all() and (bound["p"] * 392 != 1.0).all()
    assert bound["note"].str.contains("p < 1/B: no replicate on the other side of 0").all()
    assert not res.loc[res["analysis"] != "standardized_isw", "p_bound"].any()
    # every other p is at least 2/B
    other = boot[~boot["p_bound"]].dropna(subset="p")
    assert (other["p"] >= 2 / other["replicates"].astype(float)).all()
    shown = out.tables["standardization"].set_index("Item")["Std. to ISW p"]
    labels = [
        out.labels[k] for k in zip(bound["table"], bound["item"], bound["level"], strict=True)
    ]
    assert (shown[labels] == "<0.00255102").all()
    assert not shown.drop(labels).str.startswith("<0.002").any()


def _tables(res: pd.DataFrame, labels: dict | None = None) -> dict[str, pd.DataFrame]:
    return sens.comparison_tables(res, labels or {}, sens.changes(res))


def test_comparison_tables_with_some_analyses_only(result: sens.Sensitivity) -> None:
    res = result.results
    full = _tables(res, result.labels)
    std_only = _tables(
        res[res["analysis"].isin(["gee_care_system", "standardized_total"])], result.labels
    )
    frame = std_only["standardization"]
    assert "Std. to ISW difference (95% CI)" not in frame.columns
    assert (
        frame["Std. to total difference (95% CI)"]
        == full["standardization"]["Std. to total difference (95% CI)"]
    ).all()
    assert frame["Conclusion changes"].isin(["", "total"]).all()
    clu = _tables(res[res["analysis"].isin(["unadjusted", "gee_care_system"])])
    assert list(clu) == ["clustering"]
    assert "Exchangeable difference (95% CI)" not in clu["clustering"].columns
    assert clu["clustering"]["Changes"].isin(["", "yes"]).all()


def test_page_without_synthetic_label(result: sens.Sensitivity) -> None:
    sections = [("Title", result.tables["clustering"], "Method.")]
    text = sens.output.page("Sensitivity", sections, synthetic=False)["markdown"]
    assert SYNTHETIC_LABEL not in text and text.startswith("## Title\n\n| Table | Item |")


def test_analysis_rows_from_a_spec_or_typed_rows() -> None:
    rows = sens.analysis_rows(SPEC)
    assert rows == ROWS34
    assert sens.analysis_rows(list(SPEC)) == rows
    with pytest.raises(ValueError, match="no rows"):
        sens.analysis_rows(SPEC.of("table1"))


def test_the_tables_find_the_group_columns_by_the_groups_not_by_position() -> None:
    u = sens.analyze(
        urban_frame(), TINY_SPEC, by="urban", n_boot=20, min_stratum=1, strata=["system_size"]
    )
    assert list(u.results.columns[:-1]) == list(sens.columns(u.groups))
    assert list(u.results.columns[12:16]) == ["value_False", "value_True", "n_False", "n_True"]
    # the results' columns in another order: the same tables
    moved = u.results[[c for c in u.results.columns if c != "label"] + ["label"]]
    tabs = sens.comparison_tables(moved, u.labels, u.changes, u.groups, u.names)
    pd.testing.assert_frame_equal(tabs["clustering"], u.tables["clustering"])


def test_tiny_frame_runs_end_to_end() -> None:
    out = sens.analyze(HAND, TINY_SPEC, seed=1, n_boot=20)
    # tiny frame: 3 care systems (K - 2 = 1 degree of freedom) are fitted, never an exception
    assert len(out.results) == 2 * 6


def test_analysis_is_byte_reproducible(clinics: pd.DataFrame, tmp_path: Path) -> None:
    small = [r for r in SPEC if r.item in ("svc_social_needs", "hours_cc_week", "ease_hospital_nh")]
    outs = []
    for name in ("a", "b"):
        res = sens.analyze(clinics, small, seed=3, n_boot=100)
        tables = res.tables | {"changes": sens.changed_rows(res.changes, res.labels)}
        outs.append(sens.write(res.results, tmp_path / name, tables, res.notes))
    for k in ("csv", "html", "markdown"):
        assert Path(outs[0][k]).read_bytes() == Path(outs[1][k]).read_bytes()


def test_q_values_are_bh_over_each_analysis_rows_of_tables_3_and_4(
    result: sens.Sensitivity,
) -> None:
    res = result.results
    for _, sub in res.groupby("analysis"):
        p = sub["p"].to_numpy()
        ok = np.isfinite(p)
        # BH by hand: q_(i) = min_{j >= i} p_(j) m / j over the m finite p-values
        order = np.argsort(p[ok])
        m = ok.sum()
        q = np.minimum.accumulate((p[ok][order] * m / np.arange(1, m + 1))[::-1])[::-1]
        np.testing.assert_allclose(sub["q"].to_numpy()[ok][order], np.minimum(q, 1), rtol=1e-12)
        assert sub.loc[~ok, "q"].isna().all()


def test_the_page_shows_the_p_tables_3_and_4_give_each_row(result: sens.Sensitivity) -> None:
    from ccanalysis.printing import format_p
    from ccanalysis.stats import fisher_exact

    tab = result.tables["clustering"].set_index("Item")
    res = result.results[result.results["analysis"] == "unadjusted"]
    for _, r in res.iterrows():
        shown = tab.loc[result.labels[(r["table"], r["item"], r["level"])], "Tables 3-4 P"]
        if r["unit"] != "pp":  # Student's t: the crude p itself
            assert shown == format_p(r["p"])
            continue
        k1, k0 = round(r["value_isw"] * r["n_isw"] / 100), round(r["value_mn"] * r["n_mn"] / 100)
        table = [[k1, k0], [r["n_isw"] - k1, r["n_mn"] - k0]]
        assert shown == format_p(fisher_exact(table).p)
    rho = tab["rho"]
    assert rho.str.fullmatch(r"0\.\d\d|0 \(truncated\)|indep\.").all()
