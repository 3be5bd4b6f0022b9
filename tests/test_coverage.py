"""The coverage study's vectorised estimators equal the library's one-data-set functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ccanalysis import coverage
from ccanalysis.stats.bootstrap import percentile_interval, resample
from ccanalysis.stats.clustered import (
    cr2_difference,
    gee_difference,
    newcombe_cr2,
    sandwich,
    satterthwaite_df,
)
from ccanalysis.stats.intervals import newcombe_diff

#: Clinics per model (rows: medical/nursing, integrated) and care system: pure systems of both
#: models, two mixed ones and a singleton, as in the study's design.
M = np.array([[1, 3, 0, 0, 4, 2, 6, 0, 2], [0, 0, 2, 5, 3, 0, 0, 7, 1]])


def _clinics(s: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One data set's events per model and system as clinics: outcome, model, system."""
    y, g, c = [], [], []
    for gi in (0, 1):
        for k in range(m.shape[1]):
            ones = int(s[gi, k])
            y += [1.0] * ones + [0.0] * (int(m[gi, k]) - ones)
            g += [gi] * int(m[gi, k])
            c += [f"S{k:02d}"] * int(m[gi, k])
    return np.array(y), np.array(g), np.array(c)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(5)
    return coverage.simulate(rng, M, 0.05, (0.3, 0.45), 6)


def test_sandwich_equals_statsmodels_md_and_clubsandwich_cr2(data) -> None:
    """The closed form over data sets against statsmodels' bias-reduced GEE (CR3) and the
    per-clinic path of cr2_difference (checked against clubSandwich in test_gee_rows_against_r)."""
    d3, se3 = sandwich(data, M, "cr3")
    d2, se2 = sandwich(data, M, "cr2")
    df = satterthwaite_df(M)
    for i, s in enumerate(data):
        y, g, c = _clinics(s, M)
        md, cr2 = gee_difference(y, g, c), cr2_difference(y, g, c)
        assert d3[i] == pytest.approx(md.estimate, abs=1e-12) and d2[i] == d3[i]
        assert se3[i] == pytest.approx(md.se, abs=1e-10)
        assert se2[i] == pytest.approx(cr2.se, abs=1e-10)
        assert df == pytest.approx(cr2.df, abs=1e-10)


def test_intervals_use_k_minus_2_and_satterthwaite(data) -> None:
    found = coverage.intervals(data, M, 19, 3)
    for i, s in enumerate(data):
        y, g, c = _clinics(s, M)
        for method, fit in (
            ("md_t_k2", gee_difference(y, g, c)),
            ("cr2_satterthwaite", cr2_difference(y, g, c)),
        ):
            lo, hi = found[method]
            assert (lo[i], hi[i]) == pytest.approx((fit.ci_low, fit.ci_high), abs=1e-10)


def test_newcombe_cr2_equals_the_one_data_set_function(data) -> None:
    lo, hi = coverage.intervals(data, M, 19, 3)["newcombe_cr2"]
    for i, s in enumerate(data):
        fit = newcombe_cr2(*_clinics(s, M))
        assert (lo[i], hi[i]) == pytest.approx((fit.ci_low, fit.ci_high), abs=1e-10)


def test_choice_says_which_cells_fail_by_how_much_and_the_nearest() -> None:
    cells = [(0.0, 0.05, 0.0), (0.2, 0.05, 0.1)]
    cov = {"cr2_satterthwaite": (99.0, 90.9), "newcombe_cr2": (97.5, 94.0), "newcombe": (80, 70)}
    table = pd.DataFrame(
        [
            {"method": m, "icc": i, "prevalence": p, "difference": d, "datasets": 2000,
             "coverage": c[k], "mc_se": 0.5, "primary": m == coverage.PRIMARY}
            for m, c in cov.items()
            for k, (i, p, d) in enumerate(cells)
        ]
    )  # fmt: skip
    text = coverage.choice(table)
    assert "within 93-97% in 1 of 2 cells" in text
    assert "ICC 0, prevalence 5%, difference 0 points: 97.50% (0.50 above 97)" in text
    assert "newcombe_cr2 for a proportion" in text
    assert (
        "No interval holds 93-97% in every cell; the primary, newcombe_cr2, is within the band in "
        "1 of 2 cells and its misses over-cover by at most 0.50 points. No other interval departs "
        "less from the band (next: cr2_satterthwaite, up to 2.10 points)." in text
    )
    assert text.endswith(
        "Cells within, by interval: newcombe_cr2 1, cr2_satterthwaite 0, newcombe 0."
    )
    other = coverage.choice(table.assign(primary=table["method"] == "cr2_satterthwaite"))
    assert (
        "misses over-cover by at most 2.00 points and under-cover by at most 2.10 points. Nearer "
        "the band: newcombe_cr2 (up to 0.50 points outside)." in other
    )


def test_newcombe_equals_the_one_data_set_function(data) -> None:
    lo, hi = coverage.newcombe(data, M)
    n0, n1 = M.sum(axis=1)
    for i, s in enumerate(data):
        e0, e1 = s.sum(axis=1)
        _, a, b = newcombe_diff(int(e1), int(n1), int(e0), int(n0))
        assert (lo[i], hi[i]) == pytest.approx((a, b), abs=1e-10)


def test_bootstrap_equals_resampled_systems_refitted(data) -> None:
    """Each replicate is the data set with its systems repeated as resample() draws them: the
    percentile interval of the refitted differences, and the bootstrap-t of their CR2 SEs."""
    b, seed, s = 19, 11, data[:1]
    (p_lo, p_hi), (t_lo, t_hi) = coverage.bootstrap(s, M, b, seed)
    w = next(resample(M.shape[1], b, seed, chunk=10**9)).astype(int)
    y, g, c = _clinics(s[0], M)
    fit = cr2_difference(y, g, c)
    reps, tstat = [], []
    for row in w:
        parts = [np.flatnonzero(c == f"S{k:02d}") for k in np.repeat(np.arange(len(row)), row)]
        take = np.concatenate(parts)
        ids = np.repeat(np.arange(len(parts)), [len(p) for p in parts])  # a copy: its own cluster
        r = cr2_difference(y[take], g[take], ids)
        reps.append(r.estimate)
        tstat.append((r.estimate - fit.estimate) / r.se if r.se > 0 else np.nan)
    lo, hi = percentile_interval(np.array(reps)[:, None])
    assert (p_lo[0], p_hi[0]) == pytest.approx((lo[0], hi[0]), abs=1e-12)
    tl, th = percentile_interval(np.array(tstat)[:, None])
    assert (t_lo[0], t_hi[0]) == pytest.approx(
        (fit.estimate - th[0] * fit.se, fit.estimate - tl[0] * fit.se), abs=1e-10
    )


def test_sparse_rule_by_hand() -> None:
    m = np.array([[5, 5, 5, 5], [5, 5, 5, 5]])
    ok = np.array([[3, 2, 0, 0], [2, 0, 1, 0]])  # events in 3 systems of the two groups
    two_events = np.array([[1, 1, 0, 0], [2, 0, 1, 1]])  # mn: 2 events
    two_systems = np.array([[3, 2, 0, 0], [2, 3, 0, 0]])  # events in 2 systems
    few_non = np.array([[1, 1, 1, 0], [5, 5, 4, 5]])  # isw: 1 non-event
    got = coverage.sparse(np.stack([ok, two_events, two_systems, few_non]), m)
    assert got.tolist() == [False, True, True, True]


def test_simulate_has_the_model_means_and_the_icc() -> None:
    m = np.array([[20] * 30, [20] * 30])
    s = coverage.simulate(np.random.default_rng(2), m, 0.2, (0.3, 0.5), 400)
    p = s.sum(axis=-1) / m.sum(axis=-1)
    assert p.mean(axis=0) == pytest.approx([0.3, 0.5], abs=0.01)
    # between-system variance of a model's proportions: p(1-p)(icc + (1 - icc)/20)
    var = (s[:, 0] / 20).var(axis=1, ddof=1).mean()
    assert var == pytest.approx(0.21 * (0.2 + 0.8 / 20), rel=0.05)
    none = coverage.simulate(np.random.default_rng(2), m, 0.0, (0.3, 0.5), 400)
    assert (none[:, 0] / 20).var(axis=1, ddof=1).mean() == pytest.approx(0.21 / 20, rel=0.05)


def test_design_counts_clinics_per_model_and_system() -> None:
    clinics = pd.DataFrame(
        {
            "care_system_id": ["B", "A", "A", "B", "C"],
            "care_model": [
                "integrated_sw",
                "medical_nursing",
                "integrated_sw",
                None,
                "medical_nursing",
            ],
        }
    )
    m = coverage.design(clinics)
    assert m.tolist() == [[1, 0, 1], [1, 1, 0]]
