"""The numbers the paper's text quotes (care systems, urban share, coordinators' degrees, the
differences the discussion names), computed from the processed frames."""

from __future__ import annotations

import math

import pandas as pd


def _pct(k: float, n: float) -> float:
    return 100.0 * k / n if n else math.nan


def _is(col: pd.Series, *levels: str) -> pd.Series:
    return col.astype("object").isin(levels)


def text_facts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """The numbers the paper's text quotes, computed from the data: ``fact, value, statement``.

    Fact ids follow the names of the study facts (``care_systems_small_1_2_clinics``,
    ``urban_pct_ruca_1_3``, ``discussion_social_needs_pp_diff`` ...). Percentages are 0-100 of the
    answers given, differences integrated minus medical/nursing in percentage points, unrounded.
    """
    facts: list[tuple[str, float, str]] = []

    def add(fact: str, value: float, statement: str) -> None:
        facts.append((fact, float(value), statement))

    n_cl = len(clinics)
    add("clinics", n_cl, f"{n_cl} clinics")
    systems = clinics.groupby("care_system_id", sort=True)["system_size"].first()
    add("care_systems", len(systems), f"{len(systems)} care systems")
    for size, rule in (("small", "1_2"), ("medium", "3_9"), ("large", "over_9")):
        k = int(systems.astype("object").eq(size).sum())
        add(
            f"care_systems_{size}_{rule}_clinics",
            k,
            f"{k} of {len(systems)} care systems are {size}",
        )
    urban = clinics["urban"] if "urban" in clinics else pd.to_numeric(clinics["ruca"]) <= 3
    urban = urban.astype("boolean")
    n_u, n_known = int(urban.sum()), int(urban.notna().sum())
    add("urban_pct_ruca_1_3", _pct(n_u, n_known), f"{n_u} of {n_known} clinics urban (RUCA 1-3)")
    add(
        "rural_pct_ruca_4_10",
        _pct(n_known - n_u, n_known),
        f"{n_known - n_u} of {n_known} clinics rural or small town (RUCA 4-10)",
    )
    grp = clinics["group"].astype("object")
    n_isw, n_mn = int(grp.eq("isw").sum()), int(grp.eq("mn").sum())
    add(
        "isw_clinics", n_isw, f"{n_isw} ({_pct(n_isw, n_cl):.0f}%) clinics integrated social worker"
    )
    add("mn_clinics", n_mn, f"{n_mn} ({_pct(n_mn, n_cl):.0f}%) clinics medical/nursing")

    n_co = len(coordinators)
    add("coordinators", n_co, f"{n_co} care coordinators")
    per_coord = clinics.groupby("coordinator_id").size()
    multi = int((per_coord >= 2).sum())
    add(
        "coordinators_multi_clinic",
        multi,
        f"{multi} ({_pct(multi, n_co):.0f}%) coordinators report on 2 to {int(per_coord.max())} clinics",
    )
    add(
        "coordinators_multi_clinic_pct",
        _pct(multi, n_co),
        "share of coordinators on several clinics",
    )
    add(
        "coordinators_max_clinics",
        int(per_coord.max()),
        "most clinics reported on by one coordinator",
    )
    sw = coordinators.loc[_is(coordinators["degree"], "msw_bsw"), "coordinator_id"]
    n_sw_cl = int(clinics["coordinator_id"].isin(set(sw)).sum())
    add(
        "coordinators_social_work_degree",
        len(sw),
        f"{len(sw)} ({_pct(len(sw), n_co):.0f}%) coordinators with a social work degree, "
        f"reporting on {n_sw_cl} clinics",
    )
    add(
        "clinics_reported_by_sw_degree_coordinators", n_sw_cl, "clinics of social work coordinators"
    )
    cert = coordinators["certified_cc"]
    k, n = int(_is(cert, "yes").sum()), int(cert.notna().sum())
    add("coordinators_certified_pct", _pct(k, n), f"{k} of {n} answering coordinators certified")
    years = pd.to_numeric(coordinators["years_cc_role"].astype("object"), errors="coerce")
    add(
        "coordinators_years_mean",
        years.mean(),
        f"mean years as coordinator ({years.count()} answers)",
    )
    add("coordinators_years_sd", years.std(), "SD of years as coordinator")

    def num(name: str) -> pd.Series:
        return pd.to_numeric(clinics[name].astype("object"), errors="coerce")

    hours, panel, clin = num("hours_cc_week"), num("panel_size"), num("clinicians_per_fte")
    add(
        "fulltime_cc_hours_mean",
        hours.mean(),
        f"hours/week on care coordination, mean ({hours.count()})",
    )
    add("fulltime_cc_hours_sd", hours.std(), "hours/week on care coordination, SD")
    add("panel_patients_per_coordinator_mean", panel.mean(), f"panel size, mean ({panel.count()})")
    add(
        "clinicians_per_coordinator_mean",
        clin.mean(),
        f"clinicians per FTE coordinator, mean ({clin.count()})",
    )
    minutes = hours.mean() * 60 / panel.mean()
    add(
        "minutes_per_patient_week",
        minutes,
        f"{minutes:.0f} minutes per week per care coordination patient (mean hours x 60 / mean panel)",
    )

    mn = grp.eq("mn")
    isw = grp.eq("isw")
    mn_sw = mn & _is(clinics["sw_on_team"], "yes")
    n_mn_sw = int(mn_sw.sum())
    add(
        "mn_clinics_with_sw_on_team",
        n_mn_sw,
        f"{n_mn_sw} medical/nursing clinics report a social worker on the team",
    )
    ease = clinics["sw_engage_ease"]
    diff_k = int((mn_sw & _is(ease, "somewhat_difficult")).sum())
    diff_n = int((mn_sw & ease.notna()).sum())
    add(
        "mn_sw_on_team_difficult_to_engage",
        diff_k,
        f"{diff_k} of {diff_n} ({_pct(diff_k, diff_n):.0f}%) of them find it somewhat difficult "
        "to engage a social worker",
    )
    add("mn_sw_on_team_difficult_to_engage_pct", _pct(diff_k, diff_n), "share of those answering")
    easy_k = int((isw & _is(ease, "very_easy", "somewhat_easy")).sum())
    easy_n = int((isw & ease.notna()).sum())
    add(
        "isw_easy_to_engage_sw_pct",
        _pct(easy_k, easy_n),
        f"{easy_k} of {easy_n} integrated clinics find it easy to engage a social worker",
    )
    for fact, item, levels, text in (
        (
            "discussion_social_needs_pp_diff",
            "svc_social_needs",
            ("yes",),
            "social needs assessment/referral",
        ),
        (
            "discussion_social_complexity_pp_diff",
            "complexity_social",
            ("all", "most"),
            "social complexity assessed for all or most patients",
        ),
        (
            "discussion_refer_outside_pp_diff",
            "refer_outside",
            ("most_of_the_time",),
            "refer outside the care system most of the time",
        ),
    ):
        col = clinics[item]
        p_isw = _pct(int((isw & _is(col, *levels)).sum()), int((isw & col.notna()).sum()))
        p_mn = _pct(int((mn & _is(col, *levels)).sum()), int((mn & col.notna()).sum()))
        add(
            fact,
            p_isw - p_mn,
            f"{text}: {p_isw:.0f}% integrated vs {p_mn:.0f}% medical/nursing, "
            f"{p_isw - p_mn:+.0f} percentage points",
        )
    return pd.DataFrame(facts, columns=["fact", "value", "statement"])
