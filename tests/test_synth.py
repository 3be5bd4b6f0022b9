"""Tests of the synthetic stand-in: every printed number of Tables 1-4 recomputed from the export
(decoded with the project's reader, ``ccanalysis.instrument.read_export`` and ``split_frames``) and
checked against ``data/published``; determinism; the declared distributions of uncalibrated items.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccanalysis import synth
from ccanalysis.instrument import Instrument, read_dictionary, read_export, split_frames
from ccanalysis.io import read_uncalibrated
from ccanalysis.paths import Paths
from ccanalysis.stage import Params

ROOT = Path(__file__).resolve().parents[1]
DICTIONARY = ROOT / "data" / "raw" / "cc_survey_dictionary.csv"
PUBLISHED = ROOT / "data" / "published"
CLINIC_GROUPS = ("mn", "isw")
COORD_GROUPS = ("mn_only", "isw_only", "both")
CRITERIA = ("sw_on_team", "sw_responsible", "sw_interacts_patients", "sw_interacts_clinicians")
#: Printed numbers that no data can reproduce together with the rest of their row (see synth notes).
IMPOSSIBLE = {("table3", "svc_spiritual", "yes", "total")}
#: Printed p-values that no counts rounding to the printed percentages give under the paper's test
#: (Fisher's exact test; see the IMPOSSIBLE notes of the calibration for each range).
IMPOSSIBLE_P = {
    ("table1", "certified_cc"),  # Fisher 0.113; only a chi-square test gives the printed 0.128
    ("table3", "comm_initiator"),  # Fisher 0.095-0.21 for every table; printed 0.007
    ("table3", "svc_spiritual"),  # Fisher < 1e-4 for every table; printed 0.007
    ("table4", "support_emr_prompts"),  # Fisher 0.78; printed 0.38
    ("table4", "measure_chronic_control"),  # Fisher 0.031-0.054; printed 0.5
}


# ----------------------------------------------------------------------------------------------
# fixtures and decoding
@pytest.fixture(scope="module")
def instrument() -> Instrument:
    return read_dictionary(DICTIONARY)


@pytest.fixture(scope="module")
def targets() -> synth.Targets:
    return synth.load_targets(PUBLISHED)


@pytest.fixture(scope="module")
def calibration(instrument, targets) -> synth.Calibration:
    return synth.calibrate(instrument, targets)


@pytest.fixture(scope="module")
def written(instrument, targets, calibration, tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    survey = synth.synthesize(instrument, targets, calibration=calibration)
    paths = synth.write(survey, out)
    return survey, paths


def _decode(path: Path, instrument: Instrument) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clinic and coordinator frames of an export, as the pipeline reads them."""
    return split_frames(read_export(path, instrument), instrument)


def _obj(s: pd.Series) -> pd.Series:
    return s.astype(object).where(s.notna(), None)


@pytest.fixture(scope="module")
def frames(written, instrument):
    survey, paths = written
    clinics, coords = _decode(paths["export"], instrument)
    yes = np.ones(len(clinics), bool)
    for c in CRITERIA:
        yes &= _obj(clinics[c]).eq("yes").to_numpy()
    clinics = clinics.assign(group=np.where(yes, "isw", "mn"))
    by_coord = clinics.groupby("coordinator_id")["group"].agg(lambda g: "|".join(sorted(set(g))))
    cg = by_coord.map({"mn": "mn_only", "isw": "isw_only", "isw|mn": "both"})
    coords = coords.assign(group=coords["coordinator_id"].map(cg).to_numpy())
    return clinics, coords


# ----------------------------------------------------------------------------------------------
# helpers
def _rounds_to(value: float, printed: float, decimals: int) -> bool:
    return abs(value - printed) < 0.5 * 10**-decimals - 1e-12


def _printed(targets, table):
    pub = targets.published
    return pub[(pub.table == table) & (pub.measure != "p") & (pub.item != "n")]


def _group_data(frame: pd.DataFrame, group: str) -> pd.DataFrame:
    return frame if group == "total" else frame[frame["group"] == group]


def _check_table(targets, table: str, frame: pd.DataFrame, decimals: int) -> list[str]:
    spec = targets.spec.frame
    spec = spec[spec.table == table].set_index(["item", "level"])
    bad = []
    for row in _printed(targets, table).itertuples(index=False):
        data = _group_data(frame, row.group)
        printed = float(row.value)
        if row.measure in {"mean", "sd"}:
            v = pd.to_numeric(data[row.item]).dropna()
            got = v.mean() if row.measure == "mean" else v.std(ddof=1)
            if not _rounds_to(got, printed, 1):
                bad.append(f"{table} {row.item} {row.group} {row.measure}: {got:.4f} vs {printed}")
            continue
        combine = spec.loc[(row.item, row.level), "combine"] or row.level
        answers = _obj(data[row.item]).dropna()
        count = int(answers.isin(combine.split("+")).sum())
        if row.measure == "n":
            if count != int(printed):
                bad.append(f"{table} {row.item} {row.level} {row.group} n: {count} vs {printed:g}")
            continue
        pct = 100 * count / len(answers)
        if (table, row.item, row.level, row.group) in IMPOSSIBLE:
            continue
        if not _rounds_to(pct, printed, decimals):
            bad.append(f"{table} {row.item} {row.level} {row.group} pct: {pct:.3f} vs {printed}")
    return bad


# ----------------------------------------------------------------------------------------------
# the export itself
def test_file_format(written, instrument):
    survey, paths = written
    text = paths["export"].read_text(encoding="utf-8")
    assert "\r" not in text and text.endswith("\n")
    raw = pd.read_csv(paths["export"], dtype=str, keep_default_na=False)
    assert raw["record_id"].iloc[0] == "C0001" and raw["record_id"].is_unique
    assert raw["coordinator_id"].str.fullmatch(r"K\d{3}").all()
    assert raw["care_system_id"].str.fullmatch(r"S\d{2}").all()
    for col in raw.columns:
        assert not raw[col].str.endswith(".0").any() or col.startswith("years"), col
    assert raw["years_cc_role"].replace("", np.nan).dropna().str.fullmatch(r"\d+\.\d").all()
    assert raw["hours_cc_week"].replace("", np.nan).dropna().str.fullmatch(r"\d+").all()
    for form in instrument.forms:
        assert set(raw[f"{form}_complete"]) == {"2"}
    frame = pd.read_csv(paths["frame"], dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["clinic_id", "care_system_id", "ruca"]
    assert list(frame["clinic_id"]) == list(raw["record_id"])
    meta = paths["meta"].read_text(encoding="utf-8")
    assert "SYNTHETIC" in meta and "seed" in meta and synth.__name__ in meta


def test_values_are_valid(written, instrument):
    """Every numeric answer within the dictionary's bounds, whole where validated integer."""
    survey, paths = written
    raw = pd.read_csv(paths["export"], dtype=str, keep_default_na=False)
    for f in instrument.fields:
        if f.is_numeric:
            v = pd.to_numeric(raw[f.name].replace("", np.nan)).dropna()
            assert (v >= f.vmin).all() and (v <= f.vmax).all(), f.name
            if f.validation == "integer":
                assert (v == v.round()).all(), f.name
        elif f.choices and f.field_type != "checkbox":
            assert set(raw[f.name]) <= set(f.choices) | {""}, f.name
        elif f.field_type == "checkbox":
            for col in f.export_columns():
                assert set(raw[col]) <= {"0", "1"}, col


# ----------------------------------------------------------------------------------------------
# structure
def test_structure(written, frames, targets):
    survey, paths = written
    clinics, coords = frames
    facts = targets.facts
    assert len(clinics) == 317 and len(coords) == 213
    assert clinics["care_system_id"].nunique() == int(facts["care_systems"])
    sizes = clinics.groupby("care_system_id").size()
    assert (sizes <= 2).sum() == int(facts["care_systems_small_1_2_clinics"])
    assert sizes.between(3, 9).sum() == int(facts["care_systems_medium_3_9_clinics"])
    assert (sizes > 9).sum() == int(facts["care_systems_large_over_9_clinics"])
    # every coordinator in one care system
    assert (clinics.groupby("coordinator_id")["care_system_id"].nunique() == 1).all()
    n = clinics.groupby("coordinator_id").size()
    assert (n == 1).sum() == 152 and (n > 1).sum() == 61 and n.max() == 5 and n.min() >= 1
    assert coords["group"].value_counts().to_dict() == {"mn_only": 117, "isw_only": 88, "both": 8}
    multi = coords.set_index("coordinator_id")["group"][n[n > 1].index]
    assert (multi == "both").sum() == 8
    # social work degrees
    sw = coords.loc[_obj(coords["degree"]).eq("msw_bsw").to_numpy(), "coordinator_id"]
    assert len(sw) == 14 and int(n[sw].sum()) == 27
    # care models and rurality
    assert (clinics["group"] == "isw").sum() == 139
    truth = survey.truth.set_index("clinic_id")["care_model"]
    model = clinics.set_index("record_id")["group"].map(
        {"isw": "integrated_sw", "mn": "medical_nursing"}
    )
    assert (truth[model.index] == model).all()
    # care models follow the care systems (MNCARES: 2 of 43 organizations mixed, 15% of clinics)
    models = clinics.groupby("care_system_id")["group"].nunique()
    mixed = models.index[models == 2]
    assert len(mixed) == 2 and (sizes[mixed] > 9).all()
    assert sizes[mixed].sum() == round(0.15 * 317)
    both = coords.loc[coords["group"].eq("both").to_numpy(), "coordinator_id"]
    assert clinics.loc[clinics["coordinator_id"].isin(both), "care_system_id"].isin(mixed).all()
    meta = survey.meta
    assert meta["care_systems_by_model"]["mixed"] == 2
    assert sum(meta["care_systems_by_model"].values()) == 42
    assert meta["clinics_in_mixed_systems"] == 48
    frame = survey.frame
    urban = frame["ruca"].between(1, 3)
    assert frame["ruca"].between(1, 10).all()
    assert round(100 * urban.mean()) == 67 and round(100 * (~urban).mean()) == 33
    merged = clinics.merge(frame, left_on="record_id", right_on="clinic_id")
    merged["size"] = merged["care_system_id_x"].map(sizes)
    mn_share_small = (merged.loc[merged["size"] <= 9, "group"] == "mn").mean()
    mn_share_large = (merged.loc[merged["size"] > 9, "group"] == "mn").mean()
    assert mn_share_small > mn_share_large
    rural = ~merged["ruca"].between(1, 3)
    assert (merged.loc[rural, "group"] == "mn").mean() > (
        merged.loc[~rural, "group"] == "mn"
    ).mean()


def test_table2_exact(frames):
    clinics, _ = frames
    mn = clinics[clinics["group"] == "mn"]
    isw = clinics[clinics["group"] == "isw"]
    expect_total = dict(zip(CRITERIA, (160, 140, 143, 144), strict=True))
    expect_mn = dict(zip(CRITERIA, (21, 1, 4, 5), strict=True))
    for c in CRITERIA:
        assert (_obj(clinics[c]) == "yes").sum() == expect_total[c], c
        assert (_obj(mn[c]) == "yes").sum() == expect_mn[c], c
        assert (_obj(isw[c]) == "yes").all(), c
    no_sw = _obj(clinics["sw_on_team"]).eq("no")
    for c in (*CRITERIA[1:], "sw_engage_ease"):
        assert clinics.loc[no_sw, c].isna().all(), c  # branching logic
        assert clinics.loc[~no_sw, c].notna().all(), c
    assert _obj(clinics["sw_on_team"]).notna().all()
    mn_sw = mn[_obj(mn["sw_on_team"]).eq("yes")]
    assert (_obj(mn_sw["sw_engage_ease"]) == "somewhat_difficult").sum() == 12
    easy = _obj(isw["sw_engage_ease"]).isin(["very_easy", "somewhat_easy"]).sum()
    assert round(100 * easy / len(isw)) == 85


def test_table1(frames, targets):
    _, coords = frames
    assert _check_table(targets, "table1", coords, 1) == []


def test_table3(frames, targets):
    clinics, _ = frames
    assert _check_table(targets, "table3", clinics, 0) == []


def test_table4(frames, targets):
    clinics, _ = frames
    assert _check_table(targets, "table4", clinics, 0) == []


def test_impossible_row_is_reported(calibration):
    assert any("IMPOSSIBLE" in n and "svc_spiritual" in n for n in calibration.notes)


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_calibration_does_not_hang_on_rounding_error(instrument, targets, calibration, monkeypatch):
    """p-values that differ at rounding level (another implementation of the same test) give the
    same plans: the searches rank candidates on p to 12 decimals."""
    import dataclasses
    import itertools

    from ccanalysis import stats

    nudge = itertools.cycle([0.0, 2.3e-16, -2.3e-16, 6e-16])

    def nudged(test):
        return lambda *a, **k: dataclasses.replace(r := test(*a, **k), p=r.p * (1 + next(nudge)))

    for name in ("chisq", "anova_from_summary", "run_test"):
        monkeypatch.setattr(stats, name, nudged(getattr(stats, name)))
    caches = (synth.categorical._p,)  # p-values cached unnudged
    for cache in caches:
        cache.cache_clear()
    try:
        again = synth.calibrate(instrument, targets)
    finally:
        for cache in caches:
            cache.cache_clear()
    assert again.notes == calibration.notes and again.num == calibration.num
    for item, plan in calibration.cat.items():
        assert all((again.cat[item].counts[g] == c).all() for g, c in plan.counts.items()), item


def _p_mismatches(targets, clinics: pd.DataFrame, coords: pd.DataFrame) -> set[tuple[str, str]]:
    """(table, item) of every printed p-value that the project's tables do not reproduce."""
    from ccanalysis import tables
    from ccanalysis.printing import printed_holds
    from ccanalysis.spec import read_spec

    spec = read_spec().frame
    data = {"clinics": clinics, "coordinators": coords}
    built = pd.concat(
        [tables.from_spec(spec, data, t).long for t in ("table1", "table3", "table4")]
    )
    got = built[built["measure"] == "p"].set_index(["table", "item"])["value"]
    pub = targets.published
    bad = set()
    for row in pub[pub["measure"] == "p"].itertuples(index=False):
        if not printed_holds(row.value, float(got[(row.table, row.item)])):
            bad.add((row.table, row.item))
    return bad


def test_printed_p_values(frames, targets):
    """Every printed p-value is reproduced by the tables' own tests, except the impossible ones."""
    clinics, coords = frames
    assert _p_mismatches(targets, clinics, coords) == IMPOSSIBLE_P


def test_impossible_p_values_are_documented(calibration):
    """The calibration notes list exactly the impossible p-values, each with its Fisher range."""
    noted = set()
    for n in calibration.notes:
        parts = n.split()
        if n.startswith("IMPOSSIBLE") and parts[3] == "p:":
            assert "count tables the calibration tried" in n and "printed" in n, n
            noted.add((parts[1], parts[2]))
    assert noted == IMPOSSIBLE_P
    # the same, one record each, for the 00 notebook's table (the P as the tables print it)
    assert {u["_key"][:2] for u in calibration.unmet if u["Printed"][:2] == "P "} == (IMPOSSIBLE_P)


def test_missingness_is_minimal_and_documented(calibration, frames):
    """Item nonresponse exists only where the printed numbers need it, as the calibration says."""
    clinics, coords = frames
    needed = synth.missing_answers(calibration).set_index("item")
    for plans in (calibration.cat, calibration.num):
        for item, plan in plans.items():
            frame = coords if plan.table == "table1" else clinics
            missing = int(frame[item].isna().sum())
            assert missing == (needed.loc[item].drop("table").sum() if item in needed.index else 0)
    # 33 of 209 answering prints as the printed 15.8%; of all 213 it would print as 15.5%
    assert int(coords["certified_cc"].isna().sum()) == 4


def test_continuous_plausible(frames):
    clinics, coords = frames
    for item in ("panel_size", "clinicians_per_fte"):
        v = clinics[item].dropna()
        assert (v >= 0).all() and v.skew() > 1, item  # right-skewed where SD > mean
    assert (coords["hours_week_study_clinics"].dropna() <= 80).all()


# ----------------------------------------------------------------------------------------------
# dependence
def test_coordinator_answers_identical_and_similar(written, instrument, frames):
    survey, paths = written
    raw = pd.read_csv(paths["export"], dtype=str, keep_default_na=False)
    coord_cols = [c for f in instrument.form_fields("coordinator") for c in f.export_columns()]
    assert (raw.groupby("coordinator_id")[coord_cols].nunique() <= 1).all().all()
    clinics, _ = frames
    multi = clinics[clinics.groupby("coordinator_id")["record_id"].transform("size") > 1]
    multi = multi[multi.groupby("coordinator_id")["group"].transform("nunique") == 1]
    items = [
        "pt_comm_phone",
        "clin_comm_emr",
        "refer_inside",
        "familiar_clinical",
        "svc_cultural",
        "comm_initiator",
        "resource_pharmacist",
        "leaders_value",
    ]
    same = []
    for item in items:
        v = _obj(multi[item])
        ok = v.notna()
        nun = v[ok].groupby(multi.loc[ok, "coordinator_id"]).nunique()
        same.append((nun == 1).mean())
    assert np.mean(same) > 0.7


def test_social_needs_services_go_together(frames):
    clinics, _ = frames
    items = ["svc_social_needs", "svc_financial", "svc_insurance", "svc_employment"]
    for group in CLINIC_GROUPS:
        d = clinics[clinics["group"] == group][items].apply(
            lambda s: _obj(s).eq("yes").astype(float)
        )
        corr = d.corr().to_numpy()[np.triu_indices(len(items), 1)]
        assert np.nanmean(corr) > 0.15, group


def test_measure_none_is_exclusive(frames):
    clinics, _ = frames
    none = _obj(clinics["measure_none"]).eq("yes")
    others = [c for c in clinics.columns if c.startswith("measure_") and c != "measure_none"]
    any_other = clinics[others].apply(lambda s: _obj(s).eq("yes")).any(axis=1)
    assert not (none & any_other).any()


# ----------------------------------------------------------------------------------------------
# determinism, seeds, scale
def test_same_seed_byte_identical(instrument, targets, calibration, tmp_path):
    a = synth.write(synth.synthesize(instrument, targets, calibration=calibration), tmp_path / "a")
    b = synth.write(synth.synthesize(instrument, targets, calibration=calibration), tmp_path / "b")
    for key in a:
        assert a[key].read_bytes() == b[key].read_bytes(), key


@pytest.mark.slow  # a synthesis of its own: the stage's work
def test_other_seed_other_records_same_marginals(
    instrument, targets, calibration, written, tmp_path
):
    survey, _ = written
    other = synth.synthesize(instrument, targets, seed=7, calibration=calibration)
    assert not other.export.equals(survey.export)
    paths = synth.write(other, tmp_path)
    clinics, coords = _decode(paths["export"], instrument)
    truth = other.truth.set_index("clinic_id")["care_model"]
    clinics["group"] = (
        clinics["record_id"]
        .map(truth)
        .map({"integrated_sw": "isw", "medical_nursing": "mn"})
        .to_numpy()
    )
    assert _check_table(targets, "table3", clinics, 0) == []
    assert _check_table(targets, "table4", clinics, 0) == []
    g = clinics.groupby("coordinator_id")["group"].agg(lambda s: "|".join(sorted(set(s))))
    coords["group"] = (
        coords["coordinator_id"]
        .map(g.map({"mn": "mn_only", "isw": "isw_only", "isw|mn": "both"}))
        .to_numpy()
    )
    assert _check_table(targets, "table1", coords, 1) == []
    assert _p_mismatches(targets, clinics, coords) == IMPOSSIBLE_P


def test_scale_two_keeps_proportions(instrument, targets, calibration):
    s = synth.synthesize(instrument, targets, scale=2, calibration=calibration)
    ex = s.export
    assert len(ex) == 634 and ex["coordinator_id"].nunique() == 426
    assert ex["care_system_id"].nunique() == 84
    isw = s.truth["care_model"].eq("integrated_sw").to_numpy()
    assert isw.sum() == 278
    assert math.isclose(ex["sw_on_team"][~isw].eq(1).sum(), 42)
    for item, level_code, printed_mn, printed_isw in (
        ("svc_social_needs", None, 71, 93),
        ("pt_comm_phone", (1, 2), 84, 95),
    ):
        if level_code is None:
            col = ex[f"services___{6}"]
            answered = ex[[c for c in ex.columns if c.startswith("services___")]].eq(1).any(axis=1)
            yes = col.eq(1) & answered
        else:
            col = ex[item]
            answered = col.notna()
            yes = col.isin(level_code)
        for mask, printed in ((~isw, printed_mn), (isw, printed_isw)):
            pct = 100 * yes[mask].sum() / answered[mask].sum()
            assert abs(pct - printed) < 1.0, (item, pct, printed)
    hours = pd.to_numeric(ex["hours_cc_week"])
    assert abs(hours[~isw].mean() - 18.8) < 0.1 and abs(hours[isw].std() - 14.1) < 0.2


@pytest.mark.slow
def test_cli(tmp_path):
    assert synth.main(["--out", str(tmp_path), "--seed", "3"]) == 0
    assert (tmp_path / "cc_survey_export.csv").exists() and (tmp_path / "SYNTHETIC.md").exists()


def _project(root: Path) -> Paths:
    """A project-shaped folder: the printed tables linked in, the stand-in written under it."""
    paths = Paths.of(root, dictionary=DICTIONARY)
    (paths.root / synth.PUBLISHED).parent.mkdir(parents=True)
    (paths.root / synth.PUBLISHED).symlink_to(PUBLISHED)
    return paths


@pytest.mark.slow
def test_run_writes_the_committed_stand_in(tmp_path):
    """The stage, at the default seed and scale, writes the committed stand-in byte for byte."""
    artifacts = synth.run(_project(tmp_path), Params())
    assert set(artifacts) >= {"export", "frame", "meta"}
    for key in ("export", "frame", "meta"):
        path = artifacts[key]
        assert path.parent == tmp_path / "data" / "raw" / "synthetic", key
        assert path.read_bytes() == (ROOT / "data" / "raw" / "synthetic" / path.name).read_bytes()
    summary = artifacts.results["summary"].set_index("care_model")
    assert summary.loc["all", "clinics"] == 317 and summary.loc["all", "coordinators"] == 213


def test_run_refuses_the_real_export(tmp_path):
    with pytest.raises(ValueError, match="synthetic mode only"):
        synth.run(_project(tmp_path), Params(data_mode="redcap"))
    assert not (tmp_path / "data" / "raw").exists()


def test_years_in_study_clinics_within_years_as_coordinator(frames):
    _, coords = frames
    both = coords[["years_cc_role", "years_study_clinics"]].dropna()
    assert (both["years_study_clinics"] <= both["years_cc_role"] + 1e-9).all()
    assert both.corr().iloc[0, 1] > 0.5


def test_frame_reads_with_project_reader(written):
    """The clinic frame passes the project's frame reader."""
    from ccanalysis import clean

    survey, paths = written
    frame = clean.read_frame(paths["frame"])
    assert len(frame) == 317 and frame["ruca"].between(1, 10).all()
    assert frame["clinic_id"].tolist() == survey.frame["clinic_id"].tolist()


# ----------------------------------------------------------------------------------------------
# items without printed numbers (issue #13): drawn as declared, flagged as uncalibrated
NEW_FIELDS = [
    # a radio item with a declared distribution, shown in Table 3 (a spec row, nothing printed)
    ["team_huddle", "activities", "", "radio", "How often does the team huddle?",
     "1, Daily | 2, Weekly | 3, Rarely", "", "", "", "", "", "", "", "", "", "", "",
     '@CC-LEVELS="1=daily 2=weekly 3=rarely" @CC-SYNTH="1=0.6 2=0.3 3=0.1"'],
    # a radio item without one: uniform
    ["huddle_lead", "activities", "", "radio", "Who leads the huddle?",
     "1, Clinician | 2, Nurse | 3, Coordinator | 4, Social worker", "", "", "", "", "", "", "",
     "", "", "", "", '@CC-LEVELS="1=clinician 2=nurse 3=coordinator 4=social_worker"'],
    # numeric: declared normal, integer 0-60; and uniform by default, one decimal, gated
    ["huddle_minutes", "activities", "", "text", "Minutes per huddle", "", "", "integer", "0",
     "60", "", "", "", "", "", "", "", '@CC-SYNTH="normal(20, 8)"'],
    ["huddle_sw_share", "activities", "", "text", "Share of huddles with the social worker (%)",
     "", "", "number_1dp", "0", "100", "", "[sw_on_team] = '1'", "", "", "", "", "", ""],
    # a coordinator-form item: one answer per coordinator
    ["coord_mentor", "coordinator", "", "yesno", "Do you mentor other coordinators?", "", "",
     "", "", "", "", "", "", "", "", "", "", '@CC-SYNTH="1=0.2 0=0.8"'],
]  # fmt: skip
NEW_SPEC_ROWS = [
    "table3,,team_huddle,daily,Team huddles daily,pct,full,,fisher,answered,",
    "table3,,huddle_minutes,,Minutes per huddle – Mean (SD),mean_sd,full,,student_t,answered,",
    # a level added to a printed item: no target, the item stays calibrated as printed
    "table3,,engage_family,sometimes_rarely,Sometimes/rarely engage with the family,pct,"
    "collapsed,sometimes+rarely,fisher,answered,",
]
NEW_ITEMS = ["team_huddle", "huddle_lead", "huddle_minutes", "huddle_sw_share", "coord_mentor"]
#: A scale large enough for shares to be checked against the declared ones (6340 clinics).
BIG = 20


def _extended_dictionary(path: Path) -> Path:
    """The project's dictionary, plus NEW_FIELDS and a declared box added to ``services``."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(DICTIONARY.read_text(encoding="utf-8"))))
    for row in rows:
        if row[0] == "services":
            row[5] += " | 99, Team huddle facilitation"
            row[17] = row[17].replace('"1=', '"99=svc_huddle 1=', 1) + ' @CC-SYNTH="99=0.3"'
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows + NEW_FIELDS)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def extended(tmp_path_factory):
    """Instrument, targets and calibration with the new items (the spec rows included)."""
    from ccanalysis.paths import SPEC_FILE
    from ccanalysis.spec import read_spec

    tmp = tmp_path_factory.mktemp("extended")
    instrument = read_dictionary(_extended_dictionary(tmp / "dictionary.csv"))
    spec_path = tmp / "tables.csv"
    spec_path.write_text(SPEC_FILE.read_text(encoding="utf-8") + "\n".join(NEW_SPEC_ROWS) + "\n")
    targets = synth.load_targets(PUBLISHED, read_spec(spec_path, instrument=instrument))
    return instrument, targets, synth.calibrate(instrument, targets)


@pytest.fixture(scope="module")
def big(extended):
    instrument, targets, cal = extended
    survey = synth.synthesize(instrument, targets, scale=BIG, calibration=cal)
    raw = survey.export
    clinics, coords = _decode_frame(raw, instrument)
    return survey, clinics, coords


def _decode_frame(raw: pd.DataFrame, instrument: Instrument):
    """Clinic and coordinator frames of an export held in memory."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "export.csv"
        raw.to_csv(path, index=False)
        return _decode(path, instrument)


def _within(share: float, p: float, n: int, sds: float = 4.5) -> bool:
    """Is an observed share within ``sds`` binomial standard errors of ``p``?"""
    return abs(share - p) <= sds * math.sqrt(p * (1 - p) / n)


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_new_items_are_uncalibrated_and_printed_plans_unchanged(extended, calibration):
    _, _, cal = extended
    assert not set(NEW_ITEMS) & (set(cal.cat) | set(cal.num))
    assert "svc_huddle" not in cal.cat
    assert list(cal.cat) == list(calibration.cat) and list(cal.num) == list(calibration.num)
    for item, plan in calibration.cat.items():  # the unprinted engage_family row changes nothing
        for g in plan.counts:
            assert (cal.cat[item].counts[g] == plan.counts[g]).all(), (item, g)
    assert cal.notes == calibration.notes


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_declared_choice_distribution(big):
    survey, clinics, _ = big
    n = len(clinics)
    assert n == 317 * BIG
    shares = _obj(clinics["team_huddle"]).value_counts(normalize=True)
    assert clinics["team_huddle"].notna().all()
    for level, p in (("daily", 0.6), ("weekly", 0.3), ("rarely", 0.1)):
        assert _within(shares[level], p, n), (level, shares[level])


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_uniform_without_a_declaration(big):
    _, clinics, _ = big
    n = len(clinics)
    shares = _obj(clinics["huddle_lead"]).value_counts(normalize=True)
    assert set(shares.index) == {"clinician", "nurse", "coordinator", "social_worker"}
    for level in shares.index:
        assert _within(shares[level], 0.25, n), (level, shares[level])


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_numeric_items_within_their_range_and_type(big):
    survey, clinics, _ = big
    minutes = pd.to_numeric(clinics["huddle_minutes"])
    n = len(minutes)
    assert minutes.notna().all() and minutes.between(0, 60).all()
    assert (minutes == minutes.round()).all()
    assert abs(minutes.mean() - 20) < 4.5 * 8 / math.sqrt(n)  # clipping at 0 moves it < 0.02
    assert abs(minutes.std() - 8) < 0.3
    raw = survey.export["huddle_sw_share"]
    on_team = survey.export["sw_on_team"].eq(1).to_numpy()
    assert raw[~on_team].eq("").all() and raw[on_team].str.fullmatch(r"\d+\.\d").all()
    share = pd.to_numeric(raw[on_team])
    assert share.between(0, 100).all()
    # uniform on 0.0, 0.1, ..., 100.0: mean 50, SD 28.9
    assert abs(share.mean() - 50) < 4.5 * 28.9 / math.sqrt(len(share))


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_coordinator_item_once_per_coordinator(big):
    survey, _, coords = big
    raw = survey.export
    assert (raw.groupby("coordinator_id")["coord_mentor"].nunique() == 1).all()
    yes = _obj(coords["coord_mentor"]).eq("yes")
    assert _within(yes.mean(), 0.2, len(coords))


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_box_added_to_a_calibrated_question(big):
    survey, clinics, _ = big
    raw = survey.export
    services = [c for c in raw.columns if c.startswith("services___") and c != "services___99"]
    answered = raw[services].eq(1).any(axis=1).to_numpy()
    assert raw.loc[~answered, "services___99"].eq(0).all()  # no new answers to the question
    assert _within(raw.loc[answered, "services___99"].eq(1).mean(), 0.3, int(answered.sum()))
    assert _obj(clinics["svc_huddle"]).notna().sum() == answered.sum()


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_other_columns_unchanged_and_same_seed_identical(extended, written):
    """New items draw from streams of their own: every other column is as without them."""
    instrument, targets, cal = extended
    base, _ = written
    survey = synth.synthesize(instrument, targets, calibration=cal)
    assert survey.export[list(base.export.columns)].equals(base.export)
    assert survey.frame.equals(base.frame)
    again = synth.synthesize(instrument, targets, calibration=cal)
    assert again.export.equals(survey.export)
    other = synth.synthesize(instrument, targets, seed=7, calibration=cal)
    assert not other.export["team_huddle"].equals(survey.export["team_huddle"])


@pytest.mark.slow  # a calibration of its own: the stage's work
def test_uncalibrated_items_are_listed(extended, written, tmp_path):
    instrument, targets, cal = extended
    survey = synth.synthesize(instrument, targets, calibration=cal)
    paths = synth.write(survey, tmp_path)
    listed = read_uncalibrated(tmp_path)
    assert list(listed.columns) == ["item", "field", "unit", "distribution", "source"]
    # the project's own items without a printed number (none in the study's instrument; any a
    # user added per the README), then the new ones, in dictionary order
    _, base_paths = written
    own = read_uncalibrated(base_paths["uncalibrated"].parent)["item"].tolist()
    new = [i for i in listed["item"] if i not in own]
    assert new == ["svc_huddle", *NEW_ITEMS] and set(own) <= set(listed["item"])
    row = listed.set_index("item")
    assert row.loc["team_huddle", "distribution"] == "daily 0.6, weekly 0.3, rarely 0.1"
    assert row.loc["team_huddle", "source"] == "@CC-SYNTH"
    assert row.loc["huddle_lead", "source"] == "uniform (default)"
    assert row.loc["huddle_minutes", "distribution"] == "normal(20, 8) within 0-60, whole numbers"
    assert row.loc["svc_huddle", "distribution"] == "yes with probability 0.3"
    assert row.loc["coord_mentor", "unit"] == "coordinator"
    assert row.loc["huddle_sw_share", "unit"] == "clinic"
    text = paths["meta"].read_text(encoding="utf-8")
    assert "## Uncalibrated items" in text
    for item in listed["item"]:
        assert f"`{item}`" in text, item
    # the study's own instrument: none, and the file says so (header only)
    if not own:
        assert base_paths["uncalibrated"].read_text() == "item,field,unit,distribution,source\n"
        assert "Uncalibrated" not in base_paths["meta"].read_text()


@pytest.mark.parametrize(
    ("kind", "tag", "problem"),
    [
        ("radio", "4=0.5", "code '4' is not a choice"),
        ("radio", "1=-1", "is not a non-negative weight"),
        ("radio", "1=0 2=0", "add up to zero"),
        ("radio", "normal(1, 2)", "is not code=weight"),
        ("boxes", "1=1.5", "is not a probability"),
        ("integer", "normal(10, 0)", "SD of normal"),
        ("integer", "gamma(1, 2)", "normal(mean, sd) or uniform(low, high)"),
        ("integer", "uniform(70, 80)", "within the range"),
        ("open", "", "needs a validation minimum and maximum"),
    ],
)
def test_bad_declarations_are_named(kind, tag, problem):
    from ccanalysis.errors import ValidationError
    from ccanalysis.instrument import Field
    from ccanalysis.synth import uncalibrated

    choices = {"1": "A", "2": "B", "3": "C"}
    fields = {
        "radio": Field("q", "f", "radio", "", choices, {"1": "a", "2": "b", "3": "c"}, synth=tag),
        "boxes": Field("q", "f", "checkbox", "", choices, items={"1": "q_a"}, synth=tag),
        "integer": Field("q", "f", "text", "", validation="integer", vmin=0, vmax=60, synth=tag),
        "open": Field("q", "f", "text", "", validation="integer", vmin=0, synth=tag),
    }
    item = "q_a" if kind == "boxes" else "q"
    with pytest.raises(ValidationError, match=re.escape(problem)) as err:
        uncalibrated.parse(fields[kind], item, "dictionary.csv")
    assert err.value.file == "dictionary.csv" and err.value.field == "q"
    assert err.value.value == tag
