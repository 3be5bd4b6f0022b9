"""The differences between two groups (by default integrated social worker - medical/nursing) with
their 95% intervals, for every row of Tables 3 and 4 in the sensitivity output, one colour and
marker per analysis: a forest plot, matplotlib intervals on seaborn-styled axes.

:func:`difference_data` is the one reader of ``tables/sensitivity.csv``; :func:`difference_plot`
draws what it returns. Both also take an :func:`ccanalysis.sensitivity.analyze` result (any ``by``).
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ccanalysis.errors import ValidationError
from ccanalysis.figures.inputs import strip_stat
from ccanalysis.figures.theme import PALETTE, finish, group_label, style
from ccanalysis.sensitivity import ANALYSIS_NAMES, Sensitivity, analysis_names
from ccanalysis.spec import Spec
from ccanalysis.tables.read import text
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, SHORT_LABELS

#: Colour and marker of each analysis of the sensitivity stage (names and order:
#: :data:`ccanalysis.sensitivity.ANALYSIS_NAMES`), then of analyses the figure does not know.
STYLES: dict[str, tuple[str, str]] = {
    "unadjusted": ("#000000", "o"),
    "gee_care_system": (PALETTE[2], "D"),
    "gee_care_system_exchangeable": (PALETTE[9], "v"),
    "gee_coordinator": (PALETTE[4], "^"),
    "standardized_isw": (PALETTE[3], "s"),
    "standardized_total": (PALETTE[1], "P"),
}
EXTRA_STYLES = ((PALETTE[8], "P"), (PALETTE[7], "X"), (PALETTE[5], "*"))
#: The columns of the sensitivity output the figure reads (and ``value_<group>`` of both groups).
SENSITIVITY_COLUMNS: tuple[str, ...] = tuple(
    "table item level analysis estimate ci_low ci_high unit".split()
)
#: The tables drawn (left to right), with their titles.
TABLE_TITLES: dict[str, str] = {
    "table3": "Table 3. Care coordination activities",
    "table4": "Table 4. Broad approaches supporting care coordination",
}
#: The columns :func:`difference_data` returns.
DIFFERENCE_COLUMNS: tuple[str, ...] = tuple(
    "table section item level label order panel unit analysis estimate ci_low ci_high".split()
)
#: Inches per row of a panel (item or section heading), of the row labels and of a plot.
ROW_IN, LABEL_IN, PLOT_IN = 0.25, 3.2, 2.9

Source = str | Path | pd.DataFrame | Sensitivity


def difference_data(
    sensitivity: Source, spec: Spec, *, compare: tuple[str, str] | None = None
) -> pd.DataFrame:
    """The rows the difference plot draws, from the sensitivity output: its file, a frame of it, or
    an :func:`~ccanalysis.sensitivity.analyze` result (whose groups are then ``compare``).

    Contract of ``tables/sensitivity.csv``: the columns :data:`SENSITIVITY_COLUMNS` and the values
    of both compared groups (``value_<group>``; default the care models); ``estimate, ci_low,
    ci_high`` are comparison - reference, in percentage points where ``unit`` is ``pp`` (within
    -100..100, checked), else a mean difference in that unit. Returns the rows of Tables 3 and 4
    (:data:`DIFFERENCE_COLUMNS`; ``panel``: ``pp`` | ``mean``) in the specification's order, rows
    it lacks last, under "Other items", named by the file's ``label``.
    """
    if isinstance(sensitivity, Sensitivity):
        if compare is not None and tuple(compare) != sensitivity.groups.compare:
            own, other = (" - ".join(g) for g in (sensitivity.groups.compare, compare))
            raise ValueError(f"the analysis compares {own}, not {other}")
        source, sens = "the sensitivity analysis", sensitivity.results.copy()
        compare = sensitivity.groups.compare
    elif isinstance(sensitivity, pd.DataFrame):
        source, sens = "the sensitivity table", sensitivity.copy()
    else:
        source = str(sensitivity)
        sens = pd.read_csv(sensitivity, keep_default_na=False, na_values=[""])
    compare = compare or CLINIC_COMPARISON
    values = [str(c) for c in sens.columns if str(c).startswith("value_")]
    missing = [c for c in SENSITIVITY_COLUMNS if c not in sens.columns]
    missing = missing or ([] if values else [f"value_{g}" for g in compare])
    if missing:
        raise ValidationError(source, None, ", ".join(missing), None, "missing columns")
    if not {f"value_{g}" for g in compare} <= set(values):
        why = f"the file compares other groups than {' - '.join(compare)}"
        raise ValidationError(source, None, ", ".join(values), None, why)
    for c in ("table", "item", "level", "analysis", "unit", "label"):
        sens[c] = text(sens[c]) if c in sens else ""
    for c in ("estimate", "ci_low", "ci_high"):
        sens[c] = pd.to_numeric(sens[c], errors="coerce").astype(float)
    sens = sens[sens["table"].isin(TABLE_TITLES)].copy()
    no_unit = sens["unit"] == ""
    too_large = (sens["unit"] == "pp") & (sens["estimate"].abs() > 100.0 + 1e-9)
    for bad, field, why in (
        (no_unit, "unit", "every row needs its unit"),
        (too_large, "estimate", "a difference of shares in percentage points lies in -100..100"),
    ):
        if bad.any():
            r = sens[bad].iloc[0]
            record = f"{r['table']} {r['item']}={r['level']} ({r['analysis']})"
            raise ValidationError(source, record, field, r[field], why)
    sens = sens.assign(panel=np.where(sens["unit"] == "pp", "pp", "mean"), section="", order=0)
    rows = {(r.item, r.level): r for r in spec.of(*TABLE_TITLES)}
    order = {key: i for i, key in enumerate(rows)}
    for i, r in sens.iterrows():
        row = rows.get((r["item"], r["level"]))
        name = r["label"] or (f"{r['item']} = {r['level']}" if r["level"] else r["item"])
        label = row.label if row is not None else name
        sens.loc[i, "section"] = row.section if row is not None else "Other items"
        sens.loc[i, "label"] = strip_stat(label) if r["panel"] == "mean" else label
        sens.loc[i, "order"] = order.setdefault((r["item"], r["level"]), len(order))
    sens["rank"] = sens["analysis"].map(_analysis_order(sens["analysis"]).index)
    sens = sens.sort_values(["table", "panel", "order", "rank"], kind="stable")
    return sens[list(DIFFERENCE_COLUMNS)].reset_index(drop=True)


def _analysis_order(analyses: pd.Series) -> list[str]:
    present = list(dict.fromkeys(analyses))
    known = [a for a in ANALYSIS_NAMES if a in present]
    return known + sorted(a for a in present if a not in ANALYSIS_NAMES)


def _panels(data: pd.DataFrame, diff_name: str) -> dict[str, list[tuple[str, str, pd.DataFrame]]]:
    """``(title, x label, rows)`` of each table's panels: its percentage points, then one panel
    per unit of its means (the first titled)."""
    out = {}
    for t in TABLE_TITLES:
        rows, panels = data[data["table"] == t], []
        title = TABLE_TITLES[t]
        if (rows["panel"] == "pp").any():
            panels.append((title, f"{diff_name}, percentage points", rows[rows["panel"] == "pp"]))
        means = rows[rows["panel"] == "mean"]
        for i, unit in enumerate(dict.fromkeys(means["unit"])):
            name = f"{title.split('.')[0]}. Mean differences" if i == 0 else ""
            panels.append((name, f"{diff_name}, {unit}", means[means["unit"] == unit]))
        if panels:
            out[t] = panels
    return out


def _row_labels(rows: pd.DataFrame) -> tuple[list[str], list[bool], dict[tuple[str, str], int]]:
    """The y tick labels of a panel (section headings before their items), which are headings,
    and the y of each item."""
    ticks: list[str] = []
    headings: list[bool] = []
    y_of: dict[tuple[str, str], int] = {}
    current = None
    keys = ["order", "section", "label", "item", "level"]
    for _, section, label, item, level in rows[keys].drop_duplicates().itertuples(index=False):
        if section and section != current:
            ticks.append(textwrap.fill(section.rstrip(":"), 44))
            headings.append(True)
        current = section
        y_of[(item, level)] = len(ticks)
        ticks.append(textwrap.fill(label, 48))
        headings.append(False)
    return ticks, headings, y_of


def _draw_panel(
    ax: Axes, table: str, panel: pd.DataFrame, styles: Mapping[str, tuple[str, str, str]]
) -> None:
    """Each analysis's intervals (gid ``ci:<table>:<panel>:<analysis>``) and estimates
    (``est:...``), dodged about the row; an estimate without an interval is drawn alone."""
    ticks, headings, y_of = _row_labels(panel)
    analyses = list(styles)
    step = 0.8 / len(analyses)
    for i, a in enumerate(analyses):
        sub = panel[panel["analysis"] == a]
        if sub.empty:
            continue
        _, color, marker = styles[a]
        y = np.array([y_of[k] for k in zip(sub["item"], sub["level"], strict=True)], dtype=float)
        y += (i - (len(analyses) - 1) / 2) * step
        est, lo, hi = (sub[c].to_numpy(dtype=float) for c in ("estimate", "ci_low", "ci_high"))
        gid = f"{table}:{sub['panel'].iloc[0]}:{a}"
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.hlines(y[ok], lo[ok], hi[ok], colors=color, linewidth=1.1, zorder=2, gid=f"ci:{gid}")
        ax.plot(
            est, y, marker, color=color, ms=3.6, mec="white", mew=0.4, zorder=3, gid=f"est:{gid}"
        )
    for y, heading in enumerate(headings):
        if not heading and sum(not h for h in headings[:y]) % 2:
            ax.axhspan(y - 0.5, y + 0.5, color="#F2F2F2", lw=0, zorder=0)
    ax.set_yticks(range(len(ticks)), ticks, fontsize=7.5)
    for label, heading in zip(ax.get_yticklabels(), headings, strict=True):
        label.set_fontweight("bold" if heading else "normal")
    ax.set_ylim(len(ticks) - 0.5, -0.5)
    ax.axvline(0, color=".2", linewidth=0.8, zorder=1)
    ax.margins(x=0.05)
    ax.xaxis.grid(True)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=7.5, top=len(ticks) > 25, labeltop=len(ticks) > 25)
    ax.spines["left"].set_visible(False)


def _clinics(group: str, labels: Mapping[str, str]) -> str:
    """A group in a sentence: ``the integrated social worker model`` (a group of the study),
    ``urban clinics`` (any other)."""
    name = group_label(group, labels, mid_sentence=True)
    return f"the {name}" if group in GROUP_LABELS else f"{name} clinics"


def difference_plot(
    sensitivity: Source,
    spec: Spec,
    *,
    synthetic: bool,
    compare: tuple[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    short_labels: Mapping[str, str] | None = None,
) -> Figure:
    """Differences comparison - reference (``compare``) with their 95% intervals, by analysis.

    Table 3 (left) and Table 4 (right) share the percentage-point axis; the mean differences go
    under their table, one axis per unit. The groups, their ``labels`` (title) and ``short_labels``
    (axes) and the analyses' names are an analyze() result's, else the care models' and the tables'.
    """
    own = sensitivity.groups if isinstance(sensitivity, Sensitivity) else None
    compare = compare or (own.compare if own else CLINIC_COMPARISON)
    labels = labels or (own.labels if own else GROUP_LABELS)
    short = [(short_labels or (own.short if own else SHORT_LABELS)).get(g, g) for g in compare]
    names = analysis_names(short[0], "strata") if compare != CLINIC_COMPARISON else ANALYSIS_NAMES
    names = sensitivity.names if isinstance(sensitivity, Sensitivity) else names
    data = difference_data(sensitivity, spec, compare=compare)
    if data.empty:
        raise ValueError("the sensitivity table has no rows of Tables 3 and 4 to draw")
    diff_name = " - ".join(short)
    analyses = _analysis_order(data["analysis"])
    extras = iter(EXTRA_STYLES * len(analyses))
    styles = {
        a: (names[a][1], *STYLES[a]) if a in STYLES else (a.replace("_", " "), *next(extras))
        for a in analyses
    }
    columns = _panels(data, diff_name)
    # the layout in inches: the title and legend on top, then each table's panels in a column
    # (its row labels, then its plot), each panel its title, rows and x axis
    heights = {
        t: [max(len(_row_labels(p[2])[0]) * ROW_IN, 0.5) for p in ps] for t, ps in columns.items()
    }
    top = 0.6 + 0.17 * math.ceil(len(styles) / 2)
    fig_h = top + max(sum(h + 1.1 for h in hs) for hs in heights.values()) + 0.3
    fig_w = len(columns) * (LABEL_IN + PLOT_IN + 0.35) + 0.15
    comparison_name, reference_name = (_clinics(g, labels) for g in compare)
    with style():
        fig, pp_axes = Figure(figsize=(fig_w, fig_h)), []
        for col, (t, panels) in enumerate(columns.items()):
            x, y = 0.1 + col * (LABEL_IN + PLOT_IN + 0.35), top
            for h, (title, xlabel, rows) in zip(heights[t], panels, strict=True):
                y += 0.5  # the panel's title (and x ticks on top)
                rect = ((x + LABEL_IN) / fig_w, 1 - (y + h) / fig_h, PLOT_IN / fig_w, h / fig_h)
                pp = rows["panel"].iloc[0] == "pp"
                ax = fig.add_axes(rect, sharex=pp_axes[0] if pp and pp_axes else None)
                pp_axes += [ax] * pp  # the tables' percentage points on one scale
                _draw_panel(ax, t, rows, styles)
                ax.annotate(
                    title,
                    (0, 1),
                    xycoords="axes fraction",
                    xytext=(-LABEL_IN * 72, 22 if h > ROW_IN * 25 else 6),
                    textcoords="offset points",
                    fontsize=9.5,
                    fontweight="bold",
                )
                ax.set_xlabel(xlabel, fontsize=8)
                y += h + 0.6
        handles = [
            Line2D([], [], color=color, marker=marker, markersize=5, label=name)
            for name, color, marker in styles.values()
        ]
        left = 0.1 / fig_w
        fig.legend(
            handles=handles, loc="upper left", bbox_to_anchor=(left, 1 - 0.4 / fig_h), ncols=2
        )
        fig.text(
            left,
            1 - 0.12 / fig_h,
            f"Difference between {comparison_name} and {reference_name} ({diff_name}), "
            "estimate and 95% interval",
            va="top",
            fontsize=10.5,
            fontweight="bold",
        )
        fig.text(
            left,
            0.1 / fig_h,
            f"Positive: more common (or larger) with {comparison_name}. Mean differences in "
            "each item's unit, on an axis per unit.",
            fontsize=7.5,
            color=".27",
        )
    what = "between care models" if compare == CLINIC_COMPARISON else diff_name
    return finish(fig, f"Differences {what}, Tables 3 and 4, by analysis", synthetic=synthetic)
