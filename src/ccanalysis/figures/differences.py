"""The differences between two groups (by default integrated social worker - medical/nursing) with
their 95% intervals, for every row of Tables 3 and 4 in the sensitivity output, one colour and
marker per analysis, dodged.

:func:`difference_data` is the one place that knows the format of ``tables/sensitivity.csv``: it
reads the file and reshapes it into the rows drawn, on the plotted scale, with the notes the format
calls for. A change of the sensitivity output's columns or units is adapted there and nowhere else;
:func:`difference_plot` only draws what it returns.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ccanalysis.errors import ValidationError
from ccanalysis.figures.inputs import read_table, strip_stat, text
from ccanalysis.figures.theme import GREY, OKABE_ITO, finish, group_label, new_figure, style
from ccanalysis.sensitivity.analyses import ANALYSIS_NAMES
from ccanalysis.spec import Spec
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
ANALYSES: dict[str, tuple[str, str, str]] = {
    a: (ANALYSIS_NAMES[a][1], *_STYLES[a]) for a in ANALYSIS_NAMES
}
_EXTRA_ANALYSIS_STYLES: tuple[tuple[str, str], ...] = (
    (OKABE_ITO["sky_blue"], "v"),
    (OKABE_ITO["yellow"], "P"),
    (GREY, "X"),
)

SENSITIVITY_COLUMNS: tuple[str, ...] = (
    "item",
    "level",
    "analysis",
    "estimate",
    "ci_low",
    "ci_high",
)
#: Measures on the percentage-point panel, and their factor to percentage points.
PP_MEASURES: dict[str, float] = {"pp_diff": 1.0, "risk_diff": 100.0}
MEAN_MEASURES = frozenset({"mean_diff"})
SKIPPED_MEASURES = frozenset({"odds_ratio"})
#: The tables whose rows compare the two groups, in drawing order (left to right), with titles.
DIFF_TABLES: tuple[str, ...] = ("table3", "table4")
TABLE_TITLES: dict[str, str] = {
    "table3": "Table 3. Care coordination activities",
    "table4": "Table 4. Broad approaches supporting care coordination",
}
#: The columns :func:`difference_data` returns.
DIFFERENCE_COLUMNS: tuple[str, ...] = tuple(
    "table section item level label order panel analysis measure estimate ci_low ci_high p".split()
)


def difference_data(
    sensitivity: str | Path | pd.DataFrame,
    spec: Spec,
    *,
    compare: tuple[str, str] = CLINIC_COMPARISON,
) -> pd.DataFrame:
    """The rows the difference plot draws, on the plotted scale: the sensitivity output read
    (a path) or given (a frame) and reshaped.

    Input contract (``tables/sensitivity.csv``): columns ``item, level, analysis, estimate, ci_low,
    ci_high`` (and optionally ``p, table, measure, note`` and ``value_<group>``); ``measure`` is
    ``pp_diff`` (comparison - reference in percentage points, -100..100), ``risk_diff`` (a
    difference of proportions, -1..1: multiplied by 100 here; a value outside -1..1 is an error, not
    guessed), ``mean_diff`` (in the item's units: the separate means panel) or ``odds_ratio`` (not
    drawn: another scale). Without ``measure``, rows of mean items (stat ``mean_sd`` in the
    specification) are ``mean_diff`` and the others ``pp_diff``. Without ``table``, the table is
    the specification's. Only rows of :data:`DIFF_TABLES` are drawn. When the file has group
    values (``value_<group>``), those of both ``compare`` groups must be among them: the file must
    compare the groups the figure names.

    Returns the columns :data:`DIFFERENCE_COLUMNS` (``panel``: ``pp`` | ``mean``; estimate and
    interval converted), ordered as the specification (rows it lacks at the end of their table,
    under "Other items"); ``attrs["notes"]`` holds what the figure must say about the conversion
    (risk differences rescaled, odds ratios left out).
    """
    if isinstance(sensitivity, pd.DataFrame):
        source, sens = "the sensitivity table", sensitivity.copy()
    else:
        source, sens = str(sensitivity), read_table(sensitivity)
    missing = [c for c in SENSITIVITY_COLUMNS if c not in sens.columns]
    if missing:
        raise ValidationError(source, None, ", ".join(missing), None, "missing columns")
    values = [c for c in sens.columns if str(c).startswith("value_")]
    if values and not all(f"value_{g}" in values for g in compare):
        raise ValidationError(
            source,
            None,
            ", ".join(values),
            None,
            f"the file compares other groups than {' - '.join(compare)}",
        )
    rows = spec.of(*DIFF_TABLES)
    for c in ("item", "level", "analysis"):
        sens[c] = text(sens[c])
    for c in ("estimate", "ci_low", "ci_high"):
        sens[c] = pd.to_numeric(sens[c], errors="coerce").astype(float)
    sens["p"] = (
        pd.to_numeric(sens["p"], errors="coerce").astype(float) if "p" in sens.columns else math.nan
    )
    key_spec = {(r.item, r.level): r for r in rows}
    mean_items = {r.item for r in rows if r.continuous}
    table_of_item = {r.item: r.table for r in rows}
    if "table" in sens.columns:
        sens["table"] = text(sens["table"])
        blank = sens["table"] == ""
        sens.loc[blank, "table"] = sens.loc[blank, "item"].map(table_of_item).fillna("")
    else:
        sens["table"] = sens["item"].map(table_of_item).fillna("").astype(str)
    if "measure" in sens.columns:
        sens["measure"] = text(sens["measure"])
    else:
        sens["measure"] = np.where(sens["item"].isin(mean_items), "mean_diff", "pp_diff")
    known = set(PP_MEASURES) | MEAN_MEASURES | SKIPPED_MEASURES
    unknown = sorted(set(sens["measure"]) - known)
    if unknown:
        raise ValueError(
            f"unknown measures in the sensitivity table: {unknown} (known: {sorted(known)})"
        )
    notes = []
    if sens["measure"].eq("risk_diff").any():
        notes.append("GEE risk differences (proportions) are shown in percentage points.")
    skipped = int(sens["measure"].isin(SKIPPED_MEASURES).sum())
    if skipped:
        notes.append(f"Odds ratios are not shown (another scale; {skipped} rows).")
    sens = sens[sens["table"].isin(DIFF_TABLES) & ~sens["measure"].isin(SKIPPED_MEASURES)].copy()
    # risk differences: the contract is proportions (-1..1); convert to percentage points
    rd = sens["measure"] == "risk_diff"
    vals = sens.loc[rd, ["estimate", "ci_low", "ci_high"]].to_numpy(dtype=float)
    if np.any(np.abs(vals[np.isfinite(vals)]) > 1.0 + 1e-9):
        bad = sens.loc[rd].loc[(np.abs(np.nan_to_num(vals)) > 1.0 + 1e-9).any(axis=1)]
        raise ValueError(
            "risk_diff must be a difference of proportions (-1..1); rows out of range: "
            + ", ".join(f"{r.item}/{r.level}/{r.analysis}" for r in bad.head(5).itertuples())
        )
    factor = sens["measure"].map(lambda m: PP_MEASURES.get(m, 1.0)).astype(float)
    for c in ("estimate", "ci_low", "ci_high"):
        sens[c] = sens[c] * factor
    sens["panel"] = np.where(sens["measure"].isin(MEAN_MEASURES), "mean", "pp")

    order = {(r.item, r.level): i for i, r in enumerate(rows)}
    extra = 0
    sections, labels, orders = [], [], []
    for r in sens.itertuples(index=False):
        s = key_spec.get((r.item, r.level))
        if s is not None:
            sections.append(s.section)
            labels.append(strip_stat(s.label) if r.measure in MEAN_MEASURES else s.label)
            orders.append(order[(r.item, r.level)])
        else:
            if (r.item, r.level) not in order:
                order[(r.item, r.level)] = len(rows) + extra
                extra += 1
            sections.append("Other items")
            labels.append(f"{r.item} = {r.level}" if r.level else r.item)
            orders.append(order[(r.item, r.level)])
    sens["section"] = sections
    sens["label"] = labels
    sens["order"] = orders
    aorder = {a: i for i, a in enumerate(_analysis_order(sens["analysis"]))}
    sens["_a"] = sens["analysis"].map(aorder)
    sens = sens.sort_values(["table", "panel", "order", "_a"], kind="stable")
    out = sens[list(DIFFERENCE_COLUMNS)].reset_index(drop=True)
    out.attrs["notes"] = notes
    return out


def _analysis_order(analyses: pd.Series | Sequence[str]) -> list[str]:
    present = list(dict.fromkeys(analyses))
    return [a for a in ANALYSES if a in present] + sorted(a for a in present if a not in ANALYSES)


def _analysis_style(analysis: str, extras: list[str]) -> tuple[str, str, str]:
    if analysis in ANALYSES:
        return ANALYSES[analysis]
    color, marker = _EXTRA_ANALYSIS_STYLES[extras.index(analysis) % len(_EXTRA_ANALYSIS_STYLES)]
    return analysis.replace("_", " "), color, marker


_LINE_IN = 0.125  # inches per line of 7.5 pt text
_DODGE_IN = 0.065  # inches between the dodged analyses of a row
_HEADER_GAP_IN = 0.06


def _layout_rows(rows: pd.DataFrame, n_analyses: int, width_chars: int) -> tuple[list, float]:
    """Vertical positions (inches from the top) of section headers and item rows of one panel."""
    entries = []  # (kind, y_center, text, key, height)
    y = 0.05
    current = None
    row_h_min = n_analyses * _DODGE_IN + 0.09
    for (_order, section, label, item, level), _ in rows.groupby(
        ["order", "section", "label", "item", "level"], sort=True
    ):
        if section and section != current:
            wrapped = textwrap.fill(section.rstrip(":"), width_chars - 6)
            h = wrapped.count("\n") * _LINE_IN + _LINE_IN + _HEADER_GAP_IN
            y += _HEADER_GAP_IN
            entries.append(("header", y + h / 2, wrapped, None, h))
            y += h
        current = section
        indent = bool(section)
        wrapped = textwrap.fill(label, width_chars - (3 if indent else 0))
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


def difference_plot(
    sensitivity: str | Path | pd.DataFrame,
    spec: Spec,
    *,
    synthetic: bool,
    compare: tuple[str, str] = CLINIC_COMPARISON,
    labels: Mapping[str, str] = GROUP_LABELS,
    short_labels: Mapping[str, str] = SHORT_LABELS,
) -> Figure:
    """Differences between two groups (``compare``: comparison - reference) for every row of
    Tables 3 and 4 in the sensitivity output, one colour and marker per analysis, dodged.

    Table 3 (left) and Table 4 (right) share the percentage-point axis; mean differences of the
    continuous items go to a panel of their own under their table (in the items' units). Each
    interval is a horizontal segment of the LineCollection with gid ``ci:<table>:<panel>:<analysis>``;
    the estimates are the Line2D with gid ``est:<table>:<panel>:<analysis>``. The groups are named
    from ``labels`` (title, note) and ``short_labels`` (axes). Input: :func:`difference_data`.
    """
    data = difference_data(sensitivity, spec, compare=compare)
    if data.empty:
        raise ValueError("the sensitivity table has no rows of Tables 3 and 4 to draw")
    comparison, reference = compare
    diff_name = (
        f"{short_labels.get(comparison, comparison)} - {short_labels.get(reference, reference)}"
    )
    analyses = _analysis_order(data["analysis"])
    extras = [a for a in analyses if a not in ANALYSES]
    n_a = len(analyses)
    label_w, plot_w, gap = 3.1, 2.9, 0.45
    width_chars = 48
    panels: list[tuple[str, str, pd.DataFrame]] = []
    for t in DIFF_TABLES:
        for p in ("pp", "mean"):
            rows = data[(data["table"] == t) & (data["panel"] == p)]
            if not rows.empty:
                panels.append((t, p, rows))
    layouts = {(t, p): _layout_rows(rows, n_a, width_chars) for t, p, rows in panels}
    columns: dict[str, list[tuple[str, str, pd.DataFrame]]] = {}
    for t, p, rows in panels:
        columns.setdefault(t, []).append((t, p, rows))
    axis_in = 0.55  # x axis, tick labels and axis label under each panel
    title_in = 0.35  # panel title
    col_heights = {
        t: sum(layouts[(t, p)][1] + axis_in + title_in + 0.25 for t, p, _ in cols)
        for t, cols in columns.items()
    }
    legend_cols = min(n_a, 2)
    # the title, the legend (0.17 in a row; two rows: 1.05 in), then the panels
    top_in, bottom_in = 0.71 + 0.17 * math.ceil(n_a / legend_cols), 0.55
    fig_h = top_in + max(col_heights.values()) + bottom_in
    n_cols = len(columns)
    fig_w = 0.15 + n_cols * (label_w + plot_w) + (n_cols - 1) * gap + 0.35
    pp = data[data["panel"] == "pp"]
    if not pp.empty:
        pp_lim = _limits(pp)
    with style():
        fig = new_figure(fig_w, fig_h)
        for ci, (t, cols) in enumerate(columns.items()):
            x_in = 0.15 + ci * (label_w + plot_w + gap)
            y_top = top_in
            for _, p, rows in cols:
                entries, h_in = layouts[(t, p)]
                y_top += title_in
                bottom = 1 - (y_top + h_in) / fig_h
                lab_ax = fig.add_axes((x_in / fig_w, bottom, label_w / fig_w, h_in / fig_h))
                ax = fig.add_axes(
                    ((x_in + label_w) / fig_w, bottom, plot_w / fig_w, h_in / fig_h), sharey=lab_ax
                )
                lab_ax.set_axis_off()
                lab_ax.set_xlim(0, 1)
                lab_ax.set_ylim(h_in, 0)
                title = TABLE_TITLES.get(t, t)
                if p == "mean":
                    title = (
                        "Table 3. Means (difference in the item's units)"
                        if t == "table3"
                        else f"{title}: means (item's units)"
                    )
                lab_ax.set_title(title, loc="left", fontsize=9.5, pad=18 if h_in > 6 else 6)
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
                offsets = (np.arange(n_a) - (n_a - 1) / 2) * _DODGE_IN
                for a, off in zip(analyses, offsets, strict=True):
                    sub = rows[rows["analysis"] == a]
                    if sub.empty:
                        continue
                    _, color, marker = _analysis_style(a, extras)
                    ys = (
                        np.array(
                            [y_of[(i, lv)] for i, lv in zip(sub["item"], sub["level"], strict=True)]
                        )
                        + off
                    )
                    est = sub["estimate"].to_numpy(dtype=float)
                    lo_ = sub["ci_low"].to_numpy(dtype=float)
                    hi_ = sub["ci_high"].to_numpy(dtype=float)
                    ok = np.isfinite(lo_) & np.isfinite(hi_)
                    ax.hlines(
                        ys[ok],
                        lo_[ok],
                        hi_[ok],
                        colors=color,
                        linewidth=1.1,
                        zorder=2,
                        gid=f"ci:{t}:{p}:{a}",
                    )
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
                        gid=f"est:{t}:{p}:{a}",
                    )
                ax.axvline(0, color="#333333", linewidth=0.8, zorder=1)
                ax.xaxis.grid(True)
                ax.spines["left"].set_visible(False)
                ax.tick_params(axis="y", left=False, labelleft=False)
                ax.tick_params(axis="x", top=h_in > 6, labeltop=h_in > 6, labelsize=7.5)
                if p == "pp":
                    ax.set_xlim(*pp_lim)
                    ax.set_xlabel(f"{diff_name}, percentage points", fontsize=8)
                else:
                    ax.set_xlim(*_limits(rows))
                    ax.set_xlabel(f"{diff_name}, mean difference (item's units)", fontsize=8)
                ax.set_ylim(h_in, 0)
                y_top += h_in + axis_in + 0.25
        handles = []
        for a in analyses:
            name, color, marker = _analysis_style(a, extras)
            handles.append(
                Line2D(
                    [0], [0], color=color, marker=marker, markersize=5, linewidth=1.2, label=name
                )
            )
        fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(0.15 / fig_w, 1 - 0.42 / fig_h),
            ncols=legend_cols,
            fontsize=8,
            handlelength=2.2,
            columnspacing=2.0,
        )
        comparison_name = group_label(comparison, labels, mid_sentence=True)
        reference_name = group_label(reference, labels, mid_sentence=True)
        fig.text(
            0.15 / fig_w,
            1 - 0.12 / fig_h,
            f"Difference between the {comparison_name} and the {reference_name} ({diff_name}), "
            "estimate and 95% interval",
            ha="left",
            va="top",
            fontsize=10.5,
            fontweight="bold",
        )
        notes = [
            f"Positive: more common (or larger) with the {comparison_name}.",
            *data.attrs.get("notes", []),
        ]
        fig.text(
            0.15 / fig_w,
            0.2 / fig_h,
            " ".join(notes),
            ha="left",
            va="bottom",
            fontsize=7.5,
            color="#444444",
        )
    return finish(
        fig, "Differences between care models, Tables 3 and 4, by analysis", synthetic=synthetic
    )
