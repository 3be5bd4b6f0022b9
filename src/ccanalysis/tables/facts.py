"""The numbers the paper's text quotes that no table holds, from the processed frames (the text's
other numbers are cells of Tables 1-4)."""

from __future__ import annotations

import pandas as pd


def text_facts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.Series:
    """Each fact by its id in the study facts, unrounded (percentages 0-100 of the answers given;
    minutes per week per patient: mean hours x 60 / mean panel size)."""
    systems = clinics.groupby("care_system_id")["system_size"].first().astype("object")
    urban = clinics["urban"].astype("boolean")
    hours, panel = (pd.to_numeric(clinics[c]) for c in ("hours_cc_week", "panel_size"))
    social_work = coordinators.loc[coordinators["degree"].eq("msw_bsw"), "coordinator_id"]
    by_social_workers = clinics["coordinator_id"].isin(set(social_work))
    group, ease = clinics["group"].astype("object"), clinics["sw_engage_ease"].astype("object")
    mn_sw = group.eq("mn") & clinics["sw_on_team"].eq("yes") & ease.notna()
    difficult, easy = ease.eq("somewhat_difficult"), ease.isin(["very_easy", "somewhat_easy"])
    facts = {
        "care_systems": len(systems),
        "care_systems_small_1_2_clinics": systems.eq("small").sum(),
        "care_systems_medium_3_9_clinics": systems.eq("medium").sum(),
        "care_systems_large_over_9_clinics": systems.eq("large").sum(),
        "urban_pct_ruca_1_3": 100 * urban.mean(),
        "coordinators_max_clinics": clinics.groupby("coordinator_id").size().max(),
        "clinics_reported_by_sw_degree_coordinators": by_social_workers.sum(),
        "minutes_per_patient_week": hours.mean() * 60 / panel.mean(),
        "mn_sw_on_team_difficult_to_engage": (mn_sw & difficult).sum(),
        "mn_sw_on_team_difficult_to_engage_pct": 100 * difficult[mn_sw].mean(),
        "isw_easy_to_engage_sw_pct": 100 * easy[group.eq("isw") & ease.notna()].mean(),
    }
    return pd.Series(facts, dtype=float, name="value").rename_axis("fact")
