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
from matplotlib.patches import FancyBboxPatch

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


def _box(
    ax,
    x: float,
    y: float,
    w: float,
    h: float,
    text: str,
    *,
    edge: str = "#333333",
    face: str = "white",
    gid: str = "",
    weight: str = "normal",
    size: float = 9,
) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x - w / 2, y - h / 2),
            w,
            h,
            boxstyle="round,pad=0,rounding_size=1.2",
            facecolor=face,
            edgecolor=edge,
            linewidth=1.3,
            gid=f"box:{gid}",
        )
    )
    ax.text(
        x,
        y,
        text,
        ha="center",
        va="center",
        fontsize=size,
        fontweight=weight,
        linespacing=1.35,
        gid=f"boxtext:{gid}",
    )


def _arrow(ax, xy_from: tuple[float, float], xy_to: tuple[float, float]) -> None:
    ax.annotate(
        "",
        xy=xy_to,
        xytext=xy_from,
        arrowprops={
            "arrowstyle": "-|>",
            "color": "#333333",
            "lw": 1.2,
            "shrinkA": 0,
            "shrinkB": 0,
            "mutation_scale": 12,
        },
    )


def flow_diagram(
    recruitment: Mapping[str, float | str],
    clinics: pd.DataFrame,
    coordinators: pd.DataFrame | int,
    *,
    synthetic: bool,
    min_cell: int | None = None,
) -> Figure:
    """Figure 1: the participant flow, from the state's primary care clinics to the two care models.

    Numbers: see :func:`flow_counts` (pre-survey steps from ``recruitment``, the rest from the data).
    Boxes carry gids ``box:<step>`` (steps, ``ineligible``, and the groups of the care models).
    ``min_cell=k`` (privacy mode): a count of the data of 1 to k - 1 is shown as ``<k``, without
    its percentage (which would give it away).
    """
    c = flow_counts(recruitment, clinics, coordinators)

    def count(key: str) -> str:
        return f"<{min_cell}" if is_small(float(c[key]), min_cell) else str(c[key])

    def pct(key: str, text: str) -> str:
        """``text`` with the count's percentage in it, or nothing when the count is not shown."""
        return "" if is_small(float(c[key]), min_cell) else text.format(format_pct(c[key + "_pct"]))

    with style():
        fig = Figure(figsize=(7.2, 7.6))
        ax = fig.add_axes((0.0, 0.0, 1.0, 0.96))
        ax.set_xlim(-3, 100)
        ax.set_ylim(0, 100)
        ax.set_axis_off()
        x0, w, h = 40.0, 48.0, 8.5
        ys = [92.0, 77.0, 58.0, 43.0, 27.0]
        systems = f" in {c['care_systems']} care systems" if "care_systems" in c else ""
        texts = [
            f"~{count_text(c['clinics_approx'])} Minnesota primary care clinics",
            f"{count_text(c['certified'])} clinics certified as\nHealth Care Homes (HCH) in 2020",
            f"{count_text(c['eligible'])} eligible HCH clinics",
            f"{count('recruited')} clinics recruited{systems}"
            + pct("recruited", "\n({} of eligible clinics)"),
            f"{count('surveys')} clinic surveys completed"
            + pct("surveys", " ({})")
            + f"\nby {count('coordinators')} care coordinators",
        ]
        gids = ["clinics", "certified", "eligible", "recruited", "surveys"]
        for y, t, g in zip(ys, texts, gids, strict=True):
            _box(ax, x0, y, w, h, t, gid=g)
        for y_top, y_bot in zip(ys[:-1], ys[1:], strict=True):
            _arrow(ax, (x0, y_top - h / 2), (x0, y_bot + h / 2))
        # exclusions, to the side of the certified -> eligible arrow
        y_ex = (ys[1] + ys[2]) / 2
        ex_x, ex_w = 82.0, 33.0
        _box(
            ax,
            ex_x,
            y_ex,
            ex_w,
            10.5,
            f"{count_text(c['ineligible'])} ineligible clinics:\n"
            + textwrap.fill(INELIGIBLE_REASONS.replace("\n", " "), 36),
            gid="ineligible",
            size=7.5,
        )
        ax.plot([x0, ex_x - ex_w / 2 - 0.2], [y_ex, y_ex], color="#333333", lw=1.2)
        _arrow(ax, (ex_x - ex_w / 2 - 2.0, y_ex), (ex_x - ex_w / 2, y_ex))
        # the two care models: the comparison group left, the reference group right
        y_m, mw = 9.0, 37.0
        split_y = ys[-1] - h / 2 - 5.0
        ax.plot([x0, x0], [ys[-1] - h / 2, split_y], color="#333333", lw=1.2)
        xs = dict(zip(CLINIC_COMPARISON, (x0 - 23.0, x0 + 23.0), strict=True))
        ax.plot(list(xs.values()), [split_y, split_y], color="#333333", lw=1.2)
        for g, x in xs.items():
            _arrow(ax, (x, split_y), (x, y_m + h / 2 + 0.6))
            _box(
                ax,
                x,
                y_m,
                mw,
                h + 1,
                f"{count(g)} clinics" + pct(g, " ({})") + f"\n{group_label(g)}",
                edge=GROUP_COLORS[g],
                face=mpl.colors.to_hex(mpl.colors.to_rgba(GROUP_COLORS[g], 0.12), keep_alpha=True),
                gid=g,
                weight="bold",
            )
        fig.text(
            0.01,
            0.985,
            "Care coordinator survey: participant flow",
            ha="left",
            va="top",
            fontsize=10.5,
            fontweight="bold",
        )
    return finish(fig, "Figure 1. Care coordinator survey participant flow", synthetic=synthetic)
