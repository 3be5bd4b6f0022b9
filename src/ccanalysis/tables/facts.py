"""The numbers the paper's text quotes that no table holds, from the processed frames (the text's
other numbers are cells of Tables 1-4, read from their long format)."""

from __future__ import annotations

import pandas as pd


def _pct(hit: pd.Series, among: pd.Series) -> float:
    """Percent (0-100) of the rows ``among`` that are ``hit``."""
    n = int(among.sum())
    return 100.0 * int((hit & among).sum()) / n if n else float("nan")


def text_facts(clinics: pd.DataFrame, coordinators: pd.DataFrame) -> pd.DataFrame:
    """``fact, value, statement``, ids as the study facts': the care systems by size, the urban
    share, minutes per patient, the clinics of social work coordinators and how easily clinics
    engage a social worker. Percentages are 0-100 of the answers given, unrounded."""
    systems = clinics.groupby("care_system_id")["system_size"].first().astype("object")
    urban = clinics["urban"].astype("boolean")
    hours, panel = (pd.to_numeric(clinics[c]) for c in ("hours_cc_week", "panel_size"))
    social_worker = coordinators["degree"].astype("object").eq("msw_bsw")
    sw_clinics = clinics["coordinator_id"].isin(
        set(coordinators.loc[social_worker, "coordinator_id"])
    )
    group, ease = clinics["group"].astype("object"), clinics["sw_engage_ease"].astype("object")
    mn_sw = group.eq("mn") & clinics["sw_on_team"].astype("object").eq("yes") & ease.notna()
    difficult = ease.eq("somewhat_difficult")
    facts = [("care_systems", len(systems), "care systems")]
    for size, clinics_in in (("small", "1_2"), ("medium", "3_9"), ("large", "over_9")):
        fact = f"care_systems_{size}_{clinics_in}_clinics"
        facts.append((fact, systems.eq(size).sum(), f"{size} care systems"))
    facts += [
        ("urban_pct_ruca_1_3", _pct(urban, urban.notna()), "% of clinics urban (RUCA 1-3)"),
        (
            "coordinators_max_clinics",
            clinics.groupby("coordinator_id").size().max(),
            "most clinics reported on by one coordinator",
        ),
        (
            "clinics_reported_by_sw_degree_coordinators",
            sw_clinics.sum(),
            "clinics whose coordinator has a social work degree",
        ),
        (
            "minutes_per_patient_week",
            hours.mean() * 60 / panel.mean(),
            "minutes per week per care coordination patient (mean hours x 60 / mean panel size)",
        ),
        (
            "mn_sw_on_team_difficult_to_engage",
            (mn_sw & difficult).sum(),
            "medical/nursing clinics with a social worker on the team finding one somewhat "
            "difficult to engage",
        ),
        ("mn_sw_on_team_difficult_to_engage_pct", _pct(difficult, mn_sw), "% of those answering"),
        (
            "isw_easy_to_engage_sw_pct",
            _pct(ease.isin(["very_easy", "somewhat_easy"]), group.eq("isw") & ease.notna()),
            "% of integrated clinics finding a social worker easy to engage",
        ),
    ]
    frame = pd.DataFrame(facts, columns=["fact", "value", "statement"])
    return frame.astype({"value": float})
