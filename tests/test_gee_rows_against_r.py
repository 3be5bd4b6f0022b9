"""Every clustered row of Tables 3 and 4 equals R (tests/reference/gee_rows.R, on the synthetic
run's outcomes written by tests/reference/gee_rows_input.py): the independence GEE with the
Mancl-DeRouen SE and a t(K - 2) reference as lm + clubSandwich's CR3 computes it; CR2 with
Satterthwaite df, as clubSandwich's coef_test(vcov = "CR2", test = "Satterthwaite") and conf_int
compute it; and the primary analysis (gee_care_system): Newcombe's interval on counts divided by
each group's CR2 design effect for a 0/1 row (the formulas written out in R on clubSandwich's
CR2 variance, p inverting the interval), the CR2 row for a mean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ccanalysis.paths import project_root
from ccanalysis.stats.clustered import cr2_difference, gee_difference, newcombe_cr2

REF = project_root() / "tests" / "reference"
COLUMNS = ["estimate", "se", "df", "p", "ci_low", "ci_high"]


def _r_results(name: str = "gee_rows_results.csv") -> pd.DataFrame:
    r = pd.read_csv(REF / name, skipinitialspace=True, keep_default_na=False)
    return r.set_index("key")[COLUMNS].astype(float)


def _ours(data: pd.DataFrame, fits: dict) -> pd.DataFrame:
    """Each row's fit (``fits``: key -> function) on the R script's input, as R's columns."""
    return pd.DataFrame(
        [
            {c: getattr(fit(data[key], data["group"], data["system"]), c) for c in COLUMNS}
            for key, fit in fits.items()
        ],
        index=pd.Index(list(fits), name="key"),
    )


def test_every_row_of_tables_3_and_4_equals_clubsandwich_cr2_satterthwaite() -> None:
    data = pd.read_csv(REF / "gee_rows_input.csv", dtype={"system": str})
    r = _r_results("gee_rows_cr2_results.csv")
    assert len(r) == 89 and r["df"].between(5, 41).all()
    ours = _ours(data, dict.fromkeys(r.index, cr2_difference))
    # the issue asks 1e-6 for SE, df and p; the agreement is ~1e-13
    pd.testing.assert_frame_equal(ours, r, rtol=1e-9, atol=1e-12)


@pytest.mark.slow  # 89 rows, each interval inverted for its p: a stage's worth of fits
def test_every_primary_row_equals_the_design_effect_newcombe_interval_in_r() -> None:
    data = pd.read_csv(REF / "gee_rows_input.csv", dtype={"system": str})
    r = _r_results("gee_rows_primary_results.csv")
    mean = r.index.str.endswith(":")
    assert len(r) == 89 and mean.sum() == 3
    fits = {k: cr2_difference if m else newcombe_cr2 for k, m in zip(r.index, mean, strict=True)}
    ours = _ours(data, fits)
    # the issue asks 1e-6 for the interval, df and p
    pd.testing.assert_frame_equal(ours, r, rtol=1e-7, atol=1e-9)
    cr2 = _r_results("gee_rows_cr2_results.csv")
    assert (r["ci_low"] != cr2["ci_low"])[~mean].all()  # not the CR2-Wald interval


@pytest.mark.slow  # 89 statsmodels GEE fits: a stage's worth
def test_every_row_of_tables_3_and_4_equals_clubsandwich_cr3() -> None:
    data = pd.read_csv(REF / "gee_rows_input.csv", dtype={"system": str})
    r = _r_results()
    assert list(r.index) == [c for c in data.columns if c not in ("system", "group")]
    assert len(r) == 89
    ours = _ours(data, dict.fromkeys(r.index, gee_difference))
    pd.testing.assert_frame_equal(ours, r, rtol=1e-9, atol=1e-12)


@pytest.mark.e2e
def test_the_pipelines_primary_clustered_rows_equal_r() -> None:
    """tables/sensitivity.csv of the synthetic run: its gee_care_system rows (design-effect
    Newcombe for a level, CR2 with Satterthwaite df for a mean)
    and gee_care_system_md rows (CR3, t(K - 2)) are the R values, in percentage points for a level
    (the R outcome is 0/1) and in the item's unit for a mean; sparse rows show no interval."""
    out = pd.read_csv(project_root() / "tables" / "sensitivity.csv", keep_default_na=False)
    for analysis, name in (
        ("gee_care_system", "gee_rows_primary_results.csv"),
        ("gee_care_system_md", "gee_rows_results.csv"),
    ):
        gee = out[out["analysis"] == analysis]
        gee = gee.set_index(gee["table"] + ":" + gee["item"] + ":" + gee["level"])
        r = _r_results(name)
        shown = gee.loc[r.index, "flag"].to_numpy() != "sparse"
        r, gee = r[shown], gee.loc[r.index[shown]]
        scale = np.where(r.index.str.endswith(":"), 1.0, 100.0)
        for col in ("estimate", "ci_low", "ci_high"):
            np.testing.assert_allclose(gee[col].astype(float), r[col] * scale, rtol=1e-7)
        np.testing.assert_allclose(gee["p"].astype(float), r["p"], rtol=1e-7, atol=1e-12)
        np.testing.assert_allclose(gee["df"].astype(float), r["df"], rtol=1e-9)
