"""The differences between two groups (by default integrated social worker - medical/nursing) with
their 95% intervals, for every row of Tables 3 and 4 in the sensitivity output, one colour and
marker per analysis, dodged.

:func:`difference_data` is the one place that knows the format of ``tables/sensitivity.csv`` (the
sensitivity stage's :func:`~ccanalysis.sensitivity.columns`): it reads the file and reshapes it
into the rows drawn, with their panel. A change of the sensitivity output's columns or units is
adapted there and nowhere else; :func:`difference_plot` only draws what it returns. Both also take
the result of :func:`ccanalysis.sensitivity.analyze` itself, whose groups (any ``by``), labels and
analysis names the figure then uses.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ccanalysis.errors import ValidationError
from ccanalysis.figures.inputs import read_table, strip_stat
from ccanalysis.figures.theme import GREY, OKABE_ITO, finish, group_label, new_figure, style
from ccanalysis.sensitivity import Sensitivity
from ccanalysis.sensitivity.analyses import ANALYSIS_NAMES, analysis_names
from ccanalysis.spec import Spec
from ccanalysis.tables.read import text
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, SHORT_LABELS

#: Colour and marker of each analysis of the sensitivity table; the legend text and the drawing
#: order are the sensitivity stage's (:data:`ccanalysis.sensitivity.ANALYSIS_NAMES`).
_STYLES: dict[str, tuple[str, str]] = {
    "unadjusted": (OKABE_ITO["black"], "o"),
    "gee_care_system": (OKABE_ITO["bluish_green"], "D"),
    "gee_care_system_exchangeable": (OKABE_ITO["sky_blue"], "v"),
    "gee_coordinator": (OKABE_ITO["reddish_purple"], "^"),
    "standardized_isw": (OKABE_ITO["vermillion"], "s"),
    "standardized_total": (OKABE_ITO["orange"], "P"),
}
#: Legend text, colour and marker of each analysis of the care models' comparison.
ANALYSES: dict[str, tuple[str, str, str]] = {
    a: (ANALYSIS_NAMES[a][1], *_STYLES[a]) for a in ANALYSIS_NAMES
}
_EXTRA_ANALYSIS_STYLES: tuple[tuple[str, str], ...] = (
    (OKABE_ITO["sky_blue"], "v"),
    (OKABE_ITO["yellow"], "P"),
    (GREY, "X"),
)

#: The columns of the sensitivity output the figure reads (and ``value_<group>`` of both groups).
SENSITIVITY_COLUMNS: tuple[str, ...] = (
    "table",
    "item",
    "level",
    "analysis",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "unit",
)
#: The unit of a difference of shares; every other unit is a mean difference in the item's unit.
PP = "pp"
#: The tables whose rows compare the two groups, in drawing order (left to right), with titles.
DIFF_TABLES: tuple[str, ...] = ("table3", "table4")
TABLE_TITLES: dict[str, str] = {
    "table3": "Table 3. Care coordination activities",
    "table4": "Table 4. Broad approaches supporting care coordination",
}
#: The columns :func:`difference_data` returns.
DIFFERENCE_COLUMNS: tuple[str, ...] = tuple(
    "table section item level label order panel unit analysis estimate ci_low ci_high p".split()
)

Source = str | Path | pd.DataFrame | Sensitivity


def _read(sensitivity: Source) -> tuple[str, pd.DataFrame]:
    if isinstance(sensitivity, Sensitivity):
        return "the sensitivity analysis", sensitivity.results.copy()
    if isinstance(sensitivity, pd.DataFrame):
        return "the sensitivity table", sensitivity.copy()
    return str(sensitivity), read_table(sensitivity)


def difference_data(
    sensitivity: Source,
    spec: Spec,
    *,
    compare: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """The rows the difference plot draws: the sensitivity output read (a path), given (a frame)
    or computed (a :class:`~ccanalysis.sensitivity.Sensitivity`), and reshaped.

    Input contract (``tables/sensitivity.csv``): the columns :data:`SENSITIVITY_COLUMNS` and the
    values of both compared groups, ``value_<comparison>`` and ``value_<reference>``
    (``compare``; default the result's groups, else the care models): a file comparing other
    groups is an error. ``estimate, ci_low, ci_high`` are comparison - reference, in percentage
    points where ``unit`` is ``pp`` (an estimate within -100..100, checked) and otherwise a mean
    difference in that unit (the means panel). Only rows of :data:`DIFF_TABLES` are drawn.

    Returns the columns :data:`DIFFERENCE_COLUMNS` (``panel``: ``pp`` | ``mean``), ordered as the
    specification (rows it lacks at the end of their table, under "Other items", labelled by the
    file's ``label`` when it has one).
    """
    source, sens = _read(sensitivity)
    if isinstance(sensitivity, Sensitivity):
        own = sensitivity.groups.compare
        if compare is not None and tuple(compare) != own:
            raise ValueError(f"the analysis compares {' - '.join(own)}, not {' - '.join(compare)}")
        compare = own
    compare = compare or CLINIC_COMPARISON
    missing = [c for c in SENSITIVITY_COLUMNS if c not in sens.columns]
    if missing:
        raise ValidationError(source, None, ", ".join(missing), None, "missing columns")
    values = [str(c) for c in sens.columns if str(c).startswith("value_")]
    wanted = [f"value_{g}" for g in compare]
    if not values:
        raise ValidationError(source, None, ", ".join(wanted), None, "missing columns")
    if not all(c in values for c in wanted):
        raise ValidationError(
            source,
            None,
            ", ".join(values),
            None,
            f"the file compares other groups than {' - '.join(compare)}",
        )
    for c in ("table", "item", "level", "analysis", "unit"):
        sens[c] = text(sens[c])
    for c in ("estimate", "ci_low", "ci_high", "p"):
        sens[c] = pd.to_numeric(sens[c], errors="coerce").astype(float)
    sens = sens[sens["table"].isin(DIFF_TABLES)].copy()
    _check_scale(sens, source)
    sens["panel"] = np.where(sens["unit"] == PP, "pp", "mean")

    rows = spec.of(*DIFF_TABLES)
    key_spec = {(r.item, r.level): r for r in rows}
    order = {(r.item, r.level): i for i, r in enumerate(rows)}
    own = text(sens["label"]) if "label" in sens.columns else pd.Series("", index=sens.index)
    sections, labels, orders = [], [], []
    for r, file_label in zip(sens.itertuples(index=False), own, strict=True):
        s = key_spec.get((r.item, r.level))
        if s is not None:
            sections.append(s.section)
            labels.append(strip_stat(s.label) if r.panel == "mean" else s.label)
        else:
            sections.append("Other items")
            name = file_label or (f"{r.item} = {r.level}" if r.level else r.item)
            labels.append(strip_stat(name) if r.panel == "mean" else name)
        orders.append(order.setdefault((r.item, r.level), len(order)))
    sens["section"] = sections
    sens["label"] = labels
    sens["order"] = orders
    aorder = {a: i for i, a in enumerate(_analysis_order(sens["analysis"]))}
    sens["_a"] = sens["analysis"].map(aorder)
    sens = sens.sort_values(["table", "panel", "order", "_a"], kind="stable")
    return sens[list(DIFFERENCE_COLUMNS)].reset_index(drop=True)


def _check_scale(sens: pd.DataFrame, source: str) -> None:
    """A unit on every row, and a difference of shares within -100..100 percentage points (its
    estimate: a Wald interval of a small group may reach beyond)."""
    for r in sens.itertuples(index=False):
        record = f"{r.table} {r.item}={r.level} ({r.analysis})"
        if not r.unit:
            raise ValidationError(source, record, "unit", "", "every row needs its unit")
        if r.unit == PP and math.isfinite(r.estimate) and abs(r.estimate) > 100.0 + 1e-9:
            raise ValidationError(
                source,
                record,
                "estimate",
                r.estimate,
                "a difference of shares in percentage points lies in -100..100",
            )


def _analysis_order(analyses: pd.Series) -> list[str]:
    present = list(dict.fromkeys(analyses))
    return [a for a in ANALYSES if a in present] + sorted(a for a in present if a not in ANALYSES)


def _analysis_style(
    analysis: str, extras: list[str], names: Mapping[str, tuple[str, str]]
) -> tuple[str, str, str]:
    if analysis in _STYLES:
        return (names.get(analysis, ANALYSIS_NAMES[analysis])[1], *_STYLES[analysis])
    color, marker = _EXTRA_ANALYSIS_STYLES[extras.index(analysis) % len(_EXTRA_ANALYSIS_STYLES)]
    return analysis.replace("_", " "), color, marker


_LINE_IN = 0.125  # inches per line of 7.5 pt text
_DODGE_IN = 0.065  # inches between the dodged analyses of a row
_HEADER_GAP_IN = 0.06
_AXIS_IN = 0.55  # x axis, tick labels and axis label under each panel
_TITLE_IN = 0.35  # a panel's title
_GAP_IN = 0.25  # between panels of one column
_UNIT_GAP_IN = 0.1  # between the units of a table's means
_LABEL_W, _PLOT_W, _COLUMN_GAP = 3.1, 2.9, 0.45  # inches
_WIDTH_CHARS = 48  # a row label's wrapping width


def _layout_rows(rows: pd.DataFrame, n_analyses: int) -> tuple[list, float]:
    """Vertical positions (inches from the top) of section headers and item rows of one panel."""
    entries = []  # (kind, y_center, text, key, height)
    y = 0.05
    current = None
    row_h_min = n_analyses * _DODGE_IN + 0.09
    for (_order, section, label, item, level), _ in rows.groupby(
        ["order", "section", "label", "item", "level"], sort=True
    ):
        if section and section != current:
            wrapped = textwrap.fill(section.rstrip(":"), _WIDTH_CHARS - 6)
            h = wrapped.count("\n") * _LINE_IN + _LINE_IN + _HEADER_GAP_IN
            y += _HEADER_GAP_IN
            entries.append(("header", y + h / 2, wrapped, None, h))
            y += h
        current = section
        indent = bool(section)
        wrapped = textwrap.fill(label, _WIDTH_CHARS - (3 if indent else 0))
        h = max(row_h_min, (wrapped.count("\n") + 1) * _LINE_IN + 0.06)
        entries.append(("item", y + h / 2, wrapped, (item, level, indent), h))
        y += h
    return entries, y + 0.05


def _limits(rows: pd.DataFrame) -> tuple[float, float]:
    """The x range of a panel: every estimate and interval, and zero, with 5% to spare."""
    vals = rows[["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
    lo, hi = np.nanmin(np.append(vals, 0.0)), np.nanmax(np.append(vals, 0.0))
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


@dataclass
class _Panel:
    """One axes of the figure: a table's percentage points, or one unit of its means."""

    table: str
    panel: str  # "pp" | "mean"
    rows: pd.DataFrame
    title: str
    xlabel: str
    xlim: tuple[float, float]
    entries: list
    height: float  # inches of the rows
    gap: float = _GAP_IN  # inches to the next panel

    @property
    def total(self) -> float:
        """Inches from the top of the title to the top of the next panel."""
        return (_TITLE_IN if self.title else 0.0) + self.height + _AXIS_IN + self.gap


def _panels(data: pd.DataFrame, n_analyses: int, diff_name: str) -> dict[str, list[_Panel]]:
    """The panels of each table: its percentage points, then one per unit of its means (the
    first titled), each unit on its own axis."""
    pp = data[data["panel"] == "pp"]
    pp_lim = _limits(pp) if not pp.empty else (0.0, 1.0)
    out: dict[str, list[_Panel]] = {}
    for t in DIFF_TABLES:
        panels = []
        rows = data[(data["table"] == t) & (data["panel"] == "pp")]
        if not rows.empty:
            entries, h = _layout_rows(rows, n_analyses)
            xlabel = f"{diff_name}, percentage points"
            panels.append(_Panel(t, "pp", rows, TABLE_TITLES.get(t, t), xlabel, pp_lim, entries, h))
        means = data[(data["table"] == t) & (data["panel"] == "mean")]
        units = list(dict.fromkeys(means.sort_values("order", kind="stable")["unit"]))
        for i, unit in enumerate(units):
            rows = means[means["unit"] == unit]
            entries, h = _layout_rows(rows, n_analyses)
            title = f"{TABLE_TITLES.get(t, t).split('.')[0]}. Mean differences" if i == 0 else ""
            xlabel = f"{diff_name}, {unit}"
            gap = _GAP_IN if i == len(units) - 1 else _UNIT_GAP_IN
            panels.append(_Panel(t, "mean", rows, title, xlabel, _limits(rows), entries, h, gap))
        if panels:
            out[t] = panels
    return out


def _draw_labels(lab_ax: Axes, ax: Axes, entries: list) -> dict[tuple[str, str], float]:
    """Section headers and row labels on the label axes, stripes on the plot; the rows' y."""
    y_of: dict[tuple[str, str], float] = {}
    stripe = False
    for kind, yc, line, key, h in entries:
        if kind == "header":
            lab_ax.text(
                0.0,
                yc,
                line,
                ha="left",
                va="center",
                fontsize=7.5,
                fontweight="bold",
                linespacing=1.1,
                gid="section",
            )
            stripe = False
            continue
        item, level, indent = key
        y_of[(item, level)] = yc
        lab_ax.text(
            0.03 if indent else 0.0,
            yc,
            line,
            ha="left",
            va="center",
            fontsize=7.5,
            linespacing=1.05,
            gid="rowlabel",
        )
        if stripe:
            ax.axhspan(yc - h / 2, yc + h / 2, color="#F2F2F2", lw=0, zorder=0)
        stripe = not stripe
    return y_of


def _draw_intervals(
    ax: Axes,
    p: _Panel,
    y_of: dict[tuple[str, str], float],
    analyses: list[str],
    styles: Mapping[str, tuple[str, str, str]],
) -> None:
    """Every analysis's intervals (gid ``ci:<table>:<panel>:<analysis>``) and estimates (``est:``),
    dodged; an estimate without an interval is drawn alone."""
    offsets = (np.arange(len(analyses)) - (len(analyses) - 1) / 2) * _DODGE_IN
    for a, off in zip(analyses, offsets, strict=True):
        sub = p.rows[p.rows["analysis"] == a]
        if sub.empty:
            continue
        _, color, marker = styles[a]
        keys = zip(sub["item"], sub["level"], strict=True)
        ys = np.array([y_of[k] for k in keys]) + off
        est = sub["estimate"].to_numpy(dtype=float)
        lo = sub["ci_low"].to_numpy(dtype=float)
        hi = sub["ci_high"].to_numpy(dtype=float)
        ok = np.isfinite(lo) & np.isfinite(hi)
        gid = f"{p.table}:{p.panel}:{a}"
        ax.hlines(ys[ok], lo[ok], hi[ok], colors=color, linewidth=1.1, zorder=2, gid=f"ci:{gid}")
        fin = np.isfinite(est)
        ax.plot(
            est[fin],
            ys[fin],
            linestyle="none",
            marker=marker,
            markersize=3.6,
            color=color,
            markeredgecolor="white",
            markeredgewidth=0.4,
            zorder=3,
            gid=f"est:{gid}",
        )


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
    """Differences between two groups (``compare``: comparison - reference) for every row of
    Tables 3 and 4 in the sensitivity output, one colour and marker per analysis, dodged.

    Table 3 (left) and Table 4 (right) share the percentage-point axis; the mean differences of
    the continuous items go under their table, one axis per unit. Each interval is a horizontal
    segment of the LineCollection with gid ``ci:<table>:<panel>:<analysis>`` (``panel``: ``pp`` |
    ``mean``); the estimates are the Line2D with gid ``est:<table>:<panel>:<analysis>``. The
    groups are named from ``labels`` (title, note) and ``short_labels`` (axes). Input:
    :func:`difference_data`; from an :func:`~ccanalysis.sensitivity.analyze` result, the groups,
    their labels and the analyses' names are the result's (``compare`` and the labels override
    them), else the care models' and the tables' labels.
    """
    own = sensitivity.groups if isinstance(sensitivity, Sensitivity) else None
    compare = compare or (own.compare if own else CLINIC_COMPARISON)
    labels = labels or (own.labels if own else GROUP_LABELS)
    short_labels = short_labels or (own.short if own else SHORT_LABELS)
    comparison, reference = compare
    short_c = short_labels.get(comparison, comparison)
    if isinstance(sensitivity, Sensitivity):
        names: Mapping[str, tuple[str, str]] = sensitivity.names
    elif compare == CLINIC_COMPARISON:
        names = ANALYSIS_NAMES
    else:
        names = analysis_names(short_c, "strata")
    data = difference_data(sensitivity, spec, compare=compare)
    if data.empty:
        raise ValueError("the sensitivity table has no rows of Tables 3 and 4 to draw")
    diff_name = f"{short_c} - {short_labels.get(reference, reference)}"
    analyses = _analysis_order(data["analysis"])
    extras = [a for a in analyses if a not in ANALYSES]
    styles = {a: _analysis_style(a, extras, names) for a in analyses}
    columns = _panels(data, len(analyses), diff_name)
    legend_cols = min(len(analyses), 2)
    # the title, the legend (0.17 in a row), then the panels
    top_in, bottom_in = 0.71 + 0.17 * math.ceil(len(analyses) / legend_cols), 0.55
    fig_h = top_in + max(sum(p.total for p in cols) for cols in columns.values()) + bottom_in
    n_cols = len(columns)
    fig_w = 0.15 + n_cols * (_LABEL_W + _PLOT_W) + (n_cols - 1) * _COLUMN_GAP + 0.35
    with style():
        fig = new_figure(fig_w, fig_h)
        for ci, cols in enumerate(columns.values()):
            x_in = 0.15 + ci * (_LABEL_W + _PLOT_W + _COLUMN_GAP)
            y_top = top_in
            for p in cols:
                y_top += _TITLE_IN if p.title else 0.0
                h_in = p.height
                bottom = 1 - (y_top + h_in) / fig_h
                lab_ax = fig.add_axes((x_in / fig_w, bottom, _LABEL_W / fig_w, h_in / fig_h))
                ax = fig.add_axes(
                    ((x_in + _LABEL_W) / fig_w, bottom, _PLOT_W / fig_w, h_in / fig_h),
                    sharey=lab_ax,
                )
                lab_ax.set_axis_off()
                lab_ax.set_xlim(0, 1)
                lab_ax.set_ylim(h_in, 0)
                if p.title:
                    lab_ax.set_title(p.title, loc="left", fontsize=9.5, pad=18 if h_in > 6 else 6)
                y_of = _draw_labels(lab_ax, ax, p.entries)
                _draw_intervals(ax, p, y_of, analyses, styles)
                ax.axvline(0, color="#333333", linewidth=0.8, zorder=1)
                ax.xaxis.grid(True)
                ax.spines["left"].set_visible(False)
                ax.tick_params(axis="y", left=False, labelleft=False)
                ax.tick_params(axis="x", top=h_in > 6, labeltop=h_in > 6, labelsize=7.5)
                ax.set_xlim(*p.xlim)
                ax.set_xlabel(p.xlabel, fontsize=8)
                ax.set_ylim(h_in, 0)
                y_top += h_in + _AXIS_IN + p.gap
        handles = [
            Line2D([0], [0], color=color, marker=marker, markersize=5, linewidth=1.2, label=name)
            for name, color, marker in (styles[a] for a in analyses)
        ]
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.15 / fig_w, 1 - 0.42 / fig_h),
            ncols=legend_cols,
            fontsize=8,
            handlelength=2.2,
            columnspacing=2.0,
        )
        comparison_name, reference_name = (_clinics(g, labels) for g in compare)
        fig.text(
            0.15 / fig_w,
            1 - 0.12 / fig_h,
            f"Difference between {comparison_name} and {reference_name} ({diff_name}), "
            "estimate and 95% interval",
            ha="left",
            va="top",
            fontsize=10.5,
            fontweight="bold",
        )
        fig.text(
            0.15 / fig_w,
            0.2 / fig_h,
            f"Positive: more common (or larger) with {comparison_name}. Mean differences in "
            "each item's unit, on an axis per unit.",
            ha="left",
            va="bottom",
            fontsize=7.5,
            color="#444444",
        )
    title = (
        "Differences between care models, Tables 3 and 4, by analysis"
        if compare == CLINIC_COMPARISON
        else f"Differences {diff_name}, Tables 3 and 4, by analysis"
    )
    return finish(fig, title, synthetic=synthetic)
