"""The numbers the paper's text quotes (care systems, urban share, coordinators' degrees, the
differences the discussion names), computed from the processed frames."""

from __future__ import annotations

import pandas as pd


def _pct(k: float, n: float) -> float:
    return 100.0 * k / n if n else float("nan")


def text_facts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """The numbers the paper's text quotes, from the data: ``fact, value, statement``.

    Fact ids follow the study facts (``care_systems_small_1_2_clinics``, ``urban_pct_ruca_1_3``,
    ``discussion_social_needs_pp_diff`` ...). Percentages are 0-100 of the answers given,
    differences integrated minus medical/nursing in percentage points, unrounded.
    """
    facts: list[tuple[str, float, str]] = []

    def add(fact: str, value: float, statement: str) -> None:
        facts.append((fact, float(value), statement))

    def answer(frame: pd.DataFrame, item: str, *levels: str) -> tuple[pd.Series, pd.Series]:
        """Who gave one of ``levels``, and who answered at all."""
        col = frame[item].astype("object")
        return col.isin(levels), col.notna()

    def num(name: str) -> pd.Series:
        return pd.to_numeric(clinics[name].astype("object"), errors="coerce")

    n_cl, n_co = len(clinics), len(coordinators)
    add("clinics", n_cl, f"{n_cl} clinics")
    systems = clinics.groupby("care_system_id", sort=True)["system_size"].first().astype("object")
    add("care_systems", len(systems), f"{len(systems)} care systems")
    for size, rule in (("small", "1_2"), ("medium", "3_9"), ("large", "over_9")):
        k = int(systems.eq(size).sum())
        statement = f"{k} of {len(systems)} care systems are {size}"
        add(f"care_systems_{size}_{rule}_clinics", k, statement)
    urban = clinics["urban"] if "urban" in clinics else pd.to_numeric(clinics["ruca"]) <= 3
    urban = urban.astype("boolean")
    n_u, n_known = int(urban.sum()), int(urban.notna().sum())
    add("urban_pct_ruca_1_3", _pct(n_u, n_known), f"{n_u} of {n_known} clinics urban (RUCA 1-3)")
    rural = f"{n_known - n_u} of {n_known} clinics rural or small town (RUCA 4-10)"
    add("rural_pct_ruca_4_10", _pct(n_known - n_u, n_known), rural)
    mn, isw = (
        clinics["group"].astype("object").eq("mn"),
        clinics["group"].astype("object").eq("isw"),
    )
    n_isw, n_mn = int(isw.sum()), int(mn.sum())
    add(
        "isw_clinics", n_isw, f"{n_isw} ({_pct(n_isw, n_cl):.0f}%) clinics integrated social worker"
    )
    add("mn_clinics", n_mn, f"{n_mn} ({_pct(n_mn, n_cl):.0f}%) clinics medical/nursing")

    add("coordinators", n_co, f"{n_co} care coordinators")
    per = clinics.groupby("coordinator_id").size()
    multi, most = int((per >= 2).sum()), int(per.max())
    statement = f"{multi} ({_pct(multi, n_co):.0f}%) coordinators report on 2 to {most} clinics"
    add("coordinators_multi_clinic", multi, statement)
    add(
        "coordinators_multi_clinic_pct",
        _pct(multi, n_co),
        "share of coordinators on several clinics",
    )
    add("coordinators_max_clinics", most, "most clinics reported on by one coordinator")
    sw = coordinators.loc[answer(coordinators, "degree", "msw_bsw")[0], "coordinator_id"]
    n_sw = int(clinics["coordinator_id"].isin(set(sw)).sum())
    statement = f"{len(sw)} ({_pct(len(sw), n_co):.0f}%) coordinators with a social work degree"
    add("coordinators_social_work_degree", len(sw), f"{statement}, reporting on {n_sw} clinics")
    add("clinics_reported_by_sw_degree_coordinators", n_sw, "clinics of social work coordinators")
    yes, ok = answer(coordinators, "certified_cc", "yes")
    k, n = int(yes.sum()), int(ok.sum())
    add("coordinators_certified_pct", _pct(k, n), f"{k} of {n} answering coordinators certified")
    years = pd.to_numeric(coordinators["years_cc_role"].astype("object"), errors="coerce")
    add(
        "coordinators_years_mean",
        years.mean(),
        f"mean years as coordinator ({years.count()} answers)",
    )
    add("coordinators_years_sd", years.std(), "SD of years as coordinator")

    hours, panel, clin = num("hours_cc_week"), num("panel_size"), num("clinicians_per_fte")
    add(
        "fulltime_cc_hours_mean",
        hours.mean(),
        f"hours/week on care coordination, mean ({hours.count()})",
    )
    add("fulltime_cc_hours_sd", hours.std(), "hours/week on care coordination, SD")
    add("panel_patients_per_coordinator_mean", panel.mean(), f"panel size, mean ({panel.count()})")
    statement = f"clinicians per FTE coordinator, mean ({clin.count()})"
    add("clinicians_per_coordinator_mean", clin.mean(), statement)
    minutes = hours.mean() * 60 / panel.mean()
    statement = f"{minutes:.0f} minutes per week per care coordination patient"
    add("minutes_per_patient_week", minutes, f"{statement} (mean hours x 60 / mean panel)")

    mn_sw = mn & answer(clinics, "sw_on_team", "yes")[0]
    statement = f"{int(mn_sw.sum())} medical/nursing clinics report a social worker on the team"
    add("mn_clinics_with_sw_on_team", int(mn_sw.sum()), statement)
    hard, ok = answer(clinics, "sw_engage_ease", "somewhat_difficult")
    k, n = int((mn_sw & hard).sum()), int((mn_sw & ok).sum())
    statement = f"{k} of {n} ({_pct(k, n):.0f}%) of them find it somewhat difficult"
    add("mn_sw_on_team_difficult_to_engage", k, f"{statement} to engage a social worker")
    add("mn_sw_on_team_difficult_to_engage_pct", _pct(k, n), "share of those answering")
    easy, ok = answer(clinics, "sw_engage_ease", "very_easy", "somewhat_easy")
    k, n = int((isw & easy).sum()), int((isw & ok).sum())
    statement = f"{k} of {n} integrated clinics find it easy to engage a social worker"
    add("isw_easy_to_engage_sw_pct", _pct(k, n), statement)
    for fact, item, levels, text in (
        ("social_needs", "svc_social_needs", ("yes",), "social needs assessment/referral"),
        (
            "social_complexity",
            "complexity_social",
            ("all", "most"),
            "social complexity assessed for all or most patients",
        ),
        (
            "refer_outside",
            "refer_outside",
            ("most_of_the_time",),
            "refer outside the care system most of the time",
        ),
    ):
        hit, ok = answer(clinics, item, *levels)
        p_isw = _pct(int((isw & hit).sum()), int((isw & ok).sum()))
        p_mn = _pct(int((mn & hit).sum()), int((mn & ok).sum()))
        statement = f"{text}: {p_isw:.0f}% integrated vs {p_mn:.0f}% medical/nursing"
        add(
            f"discussion_{fact}_pp_diff",
            p_isw - p_mn,
            f"{statement}, {p_isw - p_mn:+.0f} percentage points",
        )
    return pd.DataFrame(facts, columns=["fact", "value", "statement"])
