"""The participant flow (the paper's Figure 1), drawn with matplotlib (seaborn has no diagrams):
the steps before the survey from the recruitment file, every later number from the data."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from ccanalysis.errors import ValidationError
from ccanalysis.figures.theme import GROUP_COLORS, finish, format_pct, group_label, style
from ccanalysis.privacy import suppress_small
from ccanalysis.vocab import CLINIC_COMPARISON, MODEL_GROUP

INELIGIBLE_REASONS = (
    "served only children, had <10 care coordination patients, or closed or discontinued care "
    "coordination"
)
BOX = {"boxstyle": "round,pad=0.9", "facecolor": "white", "edgecolor": ".2", "linewidth": 1.3}
#: Where each box is centred (percent of the axes); the comparison group left.
AT = {"clinics": (40, 92), "certified": (40, 77), "eligible": (40, 58), "recruited": (40, 43)}
AT |= {"surveys": (40, 27), "ineligible": (82, 67.5)}
AT |= dict(zip(CLINIC_COMPARISON, ((20, 9), (62, 9)), strict=True))
ARROWS = [*pairwise([*AT][:5]), *(("surveys", g) for g in CLINIC_COMPARISON)]
ARROW = {"arrowstyle": "-|>", "color": ".2", "lw": 1.2, "shrinkA": 0, "shrinkB": 0}


def read_recruitment_flow(path: str | Path) -> dict[str, float]:
    """The recruitment file (``key, value``) as a dict; a bad value, column or key stops."""
    try:
        rows = pd.read_csv(path, usecols=["key", "value"], dtype=str, keep_default_na=False)
    except ValueError as e:  # a column missing
        raise ValidationError(str(path), None, None, None, str(e)) from None
    keys, values = rows["key"].str.strip(), pd.to_numeric(rows["value"], errors="coerce")
    for i in rows.index[values.isna()]:
        raise ValidationError(str(path), keys[i], "value", rows["value"][i], "not a number")
    for i in rows.index[keys.duplicated()]:
        raise ValidationError(str(path), keys[i], "key", keys[i], "a key given twice")
    return dict(zip(keys, values.astype(float), strict=True))


def flow_counts(
    recruitment: Mapping[str, float], clinics: pd.DataFrame, coordinators: pd.DataFrame | int
) -> dict[str, float]:
    """The diagram's numbers: the steps before the survey from ``recruitment`` (eligible computed
    and checked), the rest from the data."""
    certified = float(recruitment["mn_certified_clinics_2020"])
    ineligible = float(recruitment["ineligible_clinics"])
    eligible = certified - ineligible
    if float(recruitment.get("eligible_clinics", eligible)) != eligible:
        given = float(recruitment["eligible_clinics"])
        raise ValueError(f"eligible_clinics = {given:g} but certified - ineligible = {eligible:g}")
    recruited = len(clinics)
    if eligible <= 0 or recruited > eligible:
        raise ValueError(f"{recruited} clinics in the data but {eligible:g} eligible clinics")
    surveys = int(clinics["coordinator_id"].notna().sum())
    if isinstance(coordinators, pd.DataFrame):
        coordinators = coordinators.get("coordinator_id", coordinators.index).nunique()
    out = {
        "clinics_approx": float(recruitment["mn_primary_care_clinics_approx"]),
        "certified": certified,
        "ineligible": ineligible,
        "eligible": eligible,
        "recruited": recruited,
        "recruited_pct": 100.0 * recruited / eligible,
        "surveys": surveys,
        "surveys_pct": 100.0 * surveys / recruited if recruited else float("nan"),
        "coordinators": int(coordinators),
        "care_systems": clinics["care_system_id"].nunique(),
    }
    models = clinics["care_model"].astype(object).map(MODEL_GROUP)
    for g in CLINIC_COMPARISON:
        out[g] = int((models == g).sum())
        out[f"{g}_pct"] = 100.0 * out[g] / surveys if surveys else float("nan")
    return out


def flow_diagram(
    recruitment: Mapping[str, float],
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame | int,
    *,
    synthetic: bool,
    min_cell: int | None = None,
) -> Figure:
    """Figure 1 (gids ``box:<step>``); ``min_cell=k``: a count under k as ``<k``, no percentage."""
    c = flow_counts(recruitment, clinics, coordinators)
    shown = suppress_small(pd.DataFrame([c]), min_cell).to_dict("records")[0]

    def pct(key: str, text: str) -> str:  # the count's percentage, unless the count is hidden
        return "" if isinstance(shown[key], str) else text.format(format_pct(c[key + "_pct"]))

    texts = {
        "clinics": f"~{c['clinics_approx']:,g} Minnesota primary care clinics",
        "certified": f"{c['certified']:,g} clinics certified as\nHealth Care Homes (HCH) in 2020",
        "eligible": f"{c['eligible']:,g} eligible HCH clinics",
        "recruited": f"{shown['recruited']} clinics recruited in {c['care_systems']} care systems"
        + pct("recruited", "\n({} of eligible clinics)"),
        "surveys": f"{shown['surveys']} clinic surveys completed"
        + pct("surveys", " ({})")
        + f"\nby {shown['coordinators']} care coordinators",
        "ineligible": f"{c['ineligible']:,g} ineligible clinics:\n"
        + textwrap.fill(INELIGIBLE_REASONS, 36),
        **{
            g: f"{shown[g]} clinics" + pct(g, " ({})") + f"\n{group_label(g)}"
            for g in CLINIC_COMPARISON
        },
    }
    with style():
        fig = Figure(figsize=(7.2, 7.6))
        ax = fig.add_axes((0.0, 0.0, 1.0, 0.96), xlim=(0, 100), ylim=(0, 100))
        ax.set_axis_off()
        patch = {}  # each box's outline, where its arrows start and end
        for step, text in texts.items():
            look = {"bbox": BOX, "size": 7.5} if step == "ineligible" else {"bbox": BOX}
            if step in CLINIC_COMPARISON:  # in the group's colour
                tint = {"edgecolor": GROUP_COLORS[step], "facecolor": (GROUP_COLORS[step], 0.12)}
                look = {"bbox": BOX | tint, "fontweight": "bold"}
            box = ax.text(*AT[step], text, ha="center", va="center", gid=f"box:{step}", **look)
            patch[step] = box.get_bbox_patch()
        for a, b in ARROWS:
            ax.annotate(
                "", AT[b], AT[a], arrowprops=ARROW | {"patchA": patch[a], "patchB": patch[b]}
            )
        # the ineligible clinics, beside the arrow from the certified to the eligible clinics
        ends = {"patchB": patch["ineligible"]}
        ax.annotate("", AT["ineligible"], (40, 67.5), arrowprops=ARROW | ends)
    return finish(
        fig,
        "Figure 1. Care coordinator survey participant flow",
        title="Care coordinator survey: participant flow",
        synthetic=synthetic,
        caption="From the state's primary care clinics to the {recruited} clinics recruited, "
        "{surveys} surveys answered by {coordinators} care coordinators in {care_systems} care "
        "systems, and the two care models: counts (percentages of the step before); no "
        "intervals.".format(
            **{k: f"{v:g}" if isinstance(v, float) else v for k, v in shown.items()}
        ),
        alt="Flow diagram, top to bottom: the state's clinics, the certified health care homes, "
        "the eligible and the recruited clinics, the surveys and coordinators, then the clinics "
        "split into the two care models, each box with its count.",
        classified=clinics,
    )
