"""The participant flow (the paper's Figure 1): from the state's primary care clinics to the two
care models.

The steps before the survey (the state's primary care clinics, the certified Health Care Homes, the
ineligible and the eligible clinics) are study facts that are not in the data: they come from the recruitment file
(``paths.recruitment_flow``, read by :func:`read_recruitment_flow`). Every later number (clinics
recruited, surveys, coordinators, care systems, the care models, every percentage) is computed
from the data, so that the diagram cannot disagree with the analysis.
"""

from __future__ import annotations

import csv
import math
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

#: Keys of ``recruitment`` used by :func:`flow_diagram` (the names of the recruitment file).
FACT_CLINICS = "mn_primary_care_clinics_approx"
FACT_CERTIFIED = "mn_certified_clinics_2020"
FACT_INELIGIBLE = "ineligible_clinics"
FACT_ELIGIBLE = "eligible_clinics"
INELIGIBLE_REASONS = (
    "served only children, had <10 care coordination\npatients, or closed or discontinued care "
    "coordination"
)


def read_recruitment_flow(path: str | Path) -> dict[str, str]:
    """The recruitment file (columns ``key, value``, optionally ``source``) as ``key -> value``.

    Every value must be a number; a file without those columns, a key given twice or a value that
    is not a number is an error naming the file, the line, the field and the value.
    """
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in ("key", "value") if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(str(path), None, ", ".join(missing), None, "missing columns")
        facts: dict[str, str] = {}
        for line, row in enumerate(reader, start=2):
            key, value = (row["key"] or "").strip(), (row["value"] or "").strip()
            if key in facts:
                raise ValidationError(str(path), f"line {line}", "key", key, "a fact given twice")
            try:
                float(value)
            except ValueError:
                raise ValidationError(
                    str(path), f"line {line} ({key})", "value", value, "not a number"
                ) from None
            facts[key] = value
    return facts


def count_text(x: float) -> str:
    """A count with thousands separators, without ``.0`` when it is whole."""
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,}"


def _fact(recruitment: Mapping[str, float | str], key: str) -> float:
    if key not in recruitment:
        raise KeyError(f"recruitment lacks {key!r} (needed for the flow diagram)")
    try:
        return float(recruitment[key])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"recruitment[{key!r}] = {recruitment[key]!r} is not a number") from exc


def flow_counts(
    recruitment: Mapping[str, float | str], clinics: pd.DataFrame, coordinators: pd.DataFrame | int
) -> dict[str, float]:
    """The numbers of the flow diagram.

    From ``recruitment``: :data:`FACT_CLINICS` (the state's primary care clinics, approximately),
    :data:`FACT_CERTIFIED` (certified Health Care Homes), :data:`FACT_INELIGIBLE` and optionally
    :data:`FACT_ELIGIBLE` (must equal certified minus ineligible). From the data: ``recruited`` =
    clinics in the clinic frame, ``surveys`` = clinics with a survey (a coordinator id),
    ``coordinators`` (rows of the coordinator frame, or an int), ``care_systems`` (distinct
    ``care_system_id``, when the column exists) and the clinics of each care model, under its group
    (``isw``, ``mn``). Percentages are computed: recruited of eligible, surveys of recruited, each
    model of the surveyed clinics.
    """
    approx = _fact(recruitment, FACT_CLINICS)
    certified = _fact(recruitment, FACT_CERTIFIED)
    ineligible = _fact(recruitment, FACT_INELIGIBLE)
    eligible = certified - ineligible
    if FACT_ELIGIBLE in recruitment and _fact(recruitment, FACT_ELIGIBLE) != eligible:
        raise ValueError(
            f"recruitment: eligible_clinics = {_fact(recruitment, FACT_ELIGIBLE):g} but certified "
            f"- ineligible = {eligible:g}"
        )
    recruited = len(clinics)
    if eligible <= 0 or recruited > eligible:
        raise ValueError(f"{recruited} clinics in the data but {eligible:g} eligible clinics")
    if "coordinator_id" in clinics.columns:
        surveys = int(clinics["coordinator_id"].notna().sum())
    else:
        surveys = recruited
    if isinstance(coordinators, pd.DataFrame):
        n_coord = (
            int(coordinators["coordinator_id"].nunique())
            if "coordinator_id" in coordinators.columns
            else len(coordinators)
        )
    else:
        n_coord = int(coordinators)
    if "care_model" not in clinics.columns:
        raise KeyError("the clinic frame has no care_model column (run ccanalysis.classify first)")
    models = clinics["care_model"].astype(object)
    out = {
        "clinics_approx": approx,
        "certified": certified,
        "ineligible": ineligible,
        "eligible": eligible,
        "recruited": recruited,
        "recruited_pct": 100.0 * recruited / eligible,
        "surveys": surveys,
        "surveys_pct": 100.0 * surveys / recruited if recruited else math.nan,
        "coordinators": n_coord,
    }
    group_model = {group: model for model, group in MODEL_GROUP.items()}
    for g in CLINIC_COMPARISON:
        n = int(models.eq(group_model[g]).sum())
        out[g] = n
        out[f"{g}_pct"] = 100.0 * n / surveys if surveys else math.nan
    if "care_system_id" in clinics.columns:
        out["care_systems"] = int(clinics["care_system_id"].nunique())
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
        "clinics": f"~{count_text(c['clinics_approx'])} Minnesota primary care clinics",
        "certified": f"{count_text(c['certified'])} clinics certified as\n"
        "Health Care Homes (HCH) in 2020",
        "eligible": f"{count_text(c['eligible'])} eligible HCH clinics",
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
        reasons = textwrap.fill(INELIGIBLE_REASONS.replace("\n", " "), 36)
        text = f"{count_text(c['ineligible'])} ineligible clinics:\n{reasons}"
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
