"""The participant flow (the paper's Figure 1), drawn with matplotlib (seaborn has no diagrams).

The steps before the survey (the state's clinics, the certified Health Care Homes, the ineligible
and eligible clinics) are not in the data: they come from the recruitment file
(``paths.recruitment_flow``). Every later number is computed from the data, so that the diagram
cannot disagree with the analysis.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.figure import Figure

from ccanalysis.errors import ValidationError
from ccanalysis.figures.theme import GROUP_COLORS, finish, format_pct, group_label, style
from ccanalysis.privacy import is_small
from ccanalysis.vocab import CLINIC_COMPARISON, MODEL_GROUP

#: The keys of the recruitment file that the diagram reads.
FACT_CLINICS, FACT_CERTIFIED = "mn_primary_care_clinics_approx", "mn_certified_clinics_2020"
FACT_INELIGIBLE, FACT_ELIGIBLE = "ineligible_clinics", "eligible_clinics"
INELIGIBLE_REASONS = (
    "served only children, had <10 care coordination patients, or closed or discontinued care "
    "coordination"
)


def read_recruitment_flow(path: str | Path) -> dict[str, str]:
    """The recruitment file (columns ``key, value``, optionally ``source``) as ``key -> value``.

    A missing column, a key given twice or a value that is not a number is an error naming the
    file, the line, the field and the value.
    """
    rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    missing = [c for c in ("key", "value") if c not in rows.columns]
    if missing:
        raise ValidationError(str(path), None, ", ".join(missing), None, "missing columns")
    facts: dict[str, str] = {}
    for line, key, value in zip(range(2, len(rows) + 2), rows["key"], rows["value"], strict=True):
        key, value = key.strip(), value.strip()
        if key in facts:
            raise ValidationError(str(path), f"line {line}", "key", key, "a fact given twice")
        if pd.isna(pd.to_numeric(value, errors="coerce")):
            raise ValidationError(str(path), f"line {line} ({key})", "value", value, "not a number")
        facts[key] = value
    return facts


def _fact(recruitment: Mapping[str, float | str], key: str) -> float:
    if key not in recruitment:
        raise KeyError(f"the recruitment counts lack {key!r} (needed for the flow diagram)")
    return float(recruitment[key])


def flow_counts(
    recruitment: Mapping[str, float | str], clinics: pd.DataFrame, coordinators: pd.DataFrame | int
) -> dict[str, float]:
    """The numbers of the flow diagram.

    From ``recruitment``: the state's clinics (approximately), the certified Health Care Homes,
    the ineligible clinics, and optionally the eligible ones (certified - ineligible, checked).
    From the data: ``recruited`` (clinics), ``surveys`` (clinics with a coordinator id),
    ``coordinators`` (distinct ids, or an int), ``care_systems`` and the clinics of each care
    model under its group, each with its percentage (of eligible, recruited, surveyed clinics).
    """
    certified, ineligible = _fact(recruitment, FACT_CERTIFIED), _fact(recruitment, FACT_INELIGIBLE)
    eligible = certified - ineligible
    if FACT_ELIGIBLE in recruitment and _fact(recruitment, FACT_ELIGIBLE) != eligible:
        given = _fact(recruitment, FACT_ELIGIBLE)
        raise ValueError(f"eligible_clinics = {given:g} but certified - ineligible = {eligible:g}")
    recruited = len(clinics)
    if eligible <= 0 or recruited > eligible:
        raise ValueError(f"{recruited} clinics in the data but {eligible:g} eligible clinics")
    if "care_model" not in clinics.columns:
        raise KeyError("the clinic frame has no care_model column (run ccanalysis.classify first)")
    ids = clinics.get("coordinator_id", pd.Series(0, index=clinics.index))
    surveys = int(ids.notna().sum())
    if isinstance(coordinators, pd.DataFrame):
        coordinators = coordinators.get("coordinator_id", coordinators.index).nunique()
    out = {
        "clinics_approx": _fact(recruitment, FACT_CLINICS),
        "certified": certified,
        "ineligible": ineligible,
        "eligible": eligible,
        "recruited": recruited,
        "recruited_pct": 100.0 * recruited / eligible,
        "surveys": surveys,
        "surveys_pct": 100.0 * surveys / recruited if recruited else float("nan"),
        "coordinators": int(coordinators),
    }
    models = clinics["care_model"].astype(object).map(MODEL_GROUP)
    for g in CLINIC_COMPARISON:
        out[g] = int((models == g).sum())
        out[f"{g}_pct"] = 100.0 * out[g] / surveys if surveys else float("nan")
    if "care_system_id" in clinics.columns:
        out["care_systems"] = clinics["care_system_id"].nunique()
    return out


#: The boxes and arrows of the diagram.
BOX = {"boxstyle": "round,pad=0.9", "facecolor": "white", "edgecolor": ".2", "linewidth": 1.3}
ARROW = {"arrowstyle": "-|>", "color": ".2", "lw": 1.2, "shrinkA": 0, "shrinkB": 0}


def flow_diagram(
    recruitment: Mapping[str, float | str],
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame | int,
    *,
    synthetic: bool,
    min_cell: int | None = None,
) -> Figure:
    """Figure 1: the participant flow, from the state's primary care clinics to the two care models.

    Numbers: :func:`flow_counts` (pre-survey steps from ``recruitment``, the rest from the data).
    The boxes are texts with gids ``box:<step>`` (the steps, ``ineligible`` and the care models'
    groups). ``min_cell=k`` (privacy mode): a count of the data of 1 to k - 1 is shown as ``<k``,
    without its percentage (which would give it away).
    """
    c = flow_counts(recruitment, clinics, coordinators)

    def count(key: str) -> str:
        return f"<{min_cell}" if is_small(float(c[key]), min_cell) else str(c[key])

    def pct(key: str, text: str) -> str:
        """``text`` with the count's percentage in it, or nothing when the count is not shown."""
        return "" if is_small(float(c[key]), min_cell) else text.format(format_pct(c[key + "_pct"]))

    systems = f" in {c['care_systems']} care systems" if "care_systems" in c else ""
    steps = {
        "clinics": f"~{c['clinics_approx']:,g} Minnesota primary care clinics",
        "certified": f"{c['certified']:,g} clinics certified as\nHealth Care Homes (HCH) in 2020",
        "eligible": f"{c['eligible']:,g} eligible HCH clinics",
        "recruited": f"{count('recruited')} clinics recruited{systems}"
        + pct("recruited", "\n({} of eligible clinics)"),
        "surveys": f"{count('surveys')} clinic surveys completed"
        + pct("surveys", " ({})")
        + f"\nby {count('coordinators')} care coordinators",
    }
    with style():
        fig = Figure(figsize=(7.2, 7.6))
        ax = fig.add_axes((0.0, 0.0, 1.0, 0.96), xlim=(0, 100), ylim=(0, 100))
        ax.set_axis_off()
        boxes = [
            ax.text(40, y, text, ha="center", va="center", bbox=BOX, gid=f"box:{step}")
            for y, (step, text) in zip((92, 77, 58, 43, 27), steps.items(), strict=True)
        ]
        for upper, lower in zip(boxes[:-1], boxes[1:], strict=True):
            ends = {"patchA": upper.get_bbox_patch(), "patchB": lower.get_bbox_patch()}
            ax.annotate("", lower.get_position(), upper.get_position(), arrowprops=ARROW | ends)
        # the ineligible clinics, beside the arrow from the certified to the eligible clinics
        reasons = textwrap.fill(INELIGIBLE_REASONS, 36)
        text = f"{c['ineligible']:,g} ineligible clinics:\n{reasons}"
        out = ax.text(82, 67.5, text, ha="center", va="center", size=7.5, bbox=BOX)
        out.set_gid("box:ineligible")
        ax.annotate("", (82, 67.5), (40, 67.5), arrowprops=ARROW | {"patchB": out.get_bbox_patch()})
        # the two care models: the comparison group left, the reference group right
        for g, x in zip(CLINIC_COMPARISON, (20, 62), strict=True):
            color = GROUP_COLORS[g]
            model = ax.text(
                x,
                9,
                f"{count(g)} clinics" + pct(g, " ({})") + f"\n{group_label(g)}",
                ha="center",
                va="center",
                fontweight="bold",
                bbox=BOX | {"edgecolor": color, "facecolor": mpl.colors.to_rgba(color, 0.12)},
                gid=f"box:{g}",
            )
            ends = {"patchA": boxes[-1].get_bbox_patch(), "patchB": model.get_bbox_patch()}
            ax.annotate("", (x, 9), boxes[-1].get_position(), arrowprops=ARROW | ends)
        fig.suptitle("Care coordinator survey: participant flow", x=0.01, y=0.985, ha="left")
    return finish(fig, "Figure 1. Care coordinator survey participant flow", synthetic=synthetic)
