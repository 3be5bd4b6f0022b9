"""Care coordinator characteristics (Table 1) by coordinator group, as small multiples.

The groups are those of Table 1 (:data:`ccanalysis.vocab.COORDINATOR_GROUPS`, after the total when
the table has it), named by their table labels in sentence case. Which rows go to which panel
follows the table specification: the first item shown in full is the stacked distribution, the
yes/no (binary or collapsed) rows the grouped bars, the mean (SD) rows one panel each.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ccanalysis.figures.inputs import long_table, lookup, strip_stat
from ccanalysis.figures.theme import (
    CATEGORY_COLORS,
    GREY,
    GROUP_COLORS,
    finish,
    format_pct,
    group_label,
    new_figure,
    style,
    suptitle,
)
from ccanalysis.printing import round_half_up
from ccanalysis.spec import Spec
from ccanalysis.tables.read import group_sizes
from ccanalysis.vocab import COORDINATOR_GROUPS, GROUP_LABELS, TOTAL

TABLE = "table1"
#: Table 1's groups, in the table's order.
TABLE1_GROUPS: tuple[str, ...] = (TOTAL, *COORDINATOR_GROUPS)
#: Width (characters) at which a group's name is wrapped on a tick label.
LABEL_WIDTH = 26


def _group_tick(g: str, sizes: Mapping[str, int], labels: Mapping[str, str]) -> str:
    n = sizes.get(g)
    return textwrap.fill(group_label(g, labels), LABEL_WIDTH) + (f"\n(n={n})" if n else "")


def coordinator_characteristics(
    table1_long: pd.DataFrame,
    spec: Spec,
    *,
    synthetic: bool,
    labels: Mapping[str, str] = GROUP_LABELS,
) -> Figure:
    """Table 1 as small multiples: the distribution of degrees by coordinator group (100% stacked
    bars; gid ``degree:<group>:<level>``), the yes/no items (grouped bars; ``pct:<item>:<group>``)
    and the means with +-1 SD (one panel per item; ``mean:<item>:<group>``).
    """
    rows = spec.of(TABLE)
    long = long_table(table1_long, TABLE)
    look = lookup(long)
    sizes = group_sizes(long)
    groups = [g for g in TABLE1_GROUPS if (("n", "", g, "n") in look) or g != TOTAL]
    cmp_groups = [g for g in groups if g != TOTAL]
    dist_items = list(
        dict.fromkeys(r.item for r in rows if r.shown == "full" and r.stat == "n_pct")
    )
    bin_rows = [r for r in rows if r.shown in ("binary", "collapsed") and r.stat == "n_pct"]
    mean_rows = [r for r in rows if r.continuous]
    with style():
        fig = new_figure(10.5, 7.2, constrained=True)
        fig.get_layout_engine().set(hspace=0.08, wspace=0.06)
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1])
        top_axes = top.subplots(1, 2, width_ratios=[1.5, 1])
        # the distribution of the first item shown in full (degrees)
        ax = top_axes[0]
        if dist_items:
            item = dist_items[0]
            levels = [r for r in rows if r.item == item]
            ylab = [_group_tick(g, sizes, labels) for g in groups]
            left = np.zeros(len(groups))
            for j, r in enumerate(levels):
                vals = np.array([look.get((item, r.level, g, "pct"), math.nan) for g in groups])
                vals = np.nan_to_num(vals)
                color = CATEGORY_COLORS[j % len(CATEGORY_COLORS)]
                bars = ax.barh(
                    np.arange(len(groups)),
                    vals,
                    left=left,
                    height=0.62,
                    color=color,
                    edgecolor="white",
                    linewidth=0.6,
                    label=r.label,
                )
                for bar, g, v, lft in zip(bars, groups, vals, left, strict=True):
                    bar.set_gid(f"degree:{g}:{r.level}")
                    if v >= 7:
                        rgb = mpl.colors.to_rgb(color)
                        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.55
                        ax.text(
                            lft + v / 2,
                            bar.get_y() + 0.31,
                            format_pct(v),
                            ha="center",
                            va="center",
                            fontsize=7,
                            color="white" if dark else "black",
                        )
                left = left + vals
            ax.set_yticks(np.arange(len(groups)), ylab)
            ax.set_ylim(len(groups) - 0.5, -0.5)
            ax.set_xlim(0, 100)
            ax.set_xticks(np.arange(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
            ax.set_xlabel("Percent of coordinators")
            ax.tick_params(axis="y", length=0)
            section = levels[0].section or item
            ax.set_title(f"{section} (first checked)")
            ax.legend(
                loc="upper center",
                bbox_to_anchor=(0.5, -0.2),
                ncols=3,
                fontsize=7.5,
                handlelength=1.0,
            )
        else:
            ax.set_axis_off()
        # yes/no items
        ax = top_axes[1]
        k = len(bin_rows)
        bh = 0.8 / max(len(cmp_groups), 1)
        for j, g in enumerate(cmp_groups):
            vals = np.array([look.get((r.item, r.level, g, "pct"), math.nan) for r in bin_rows])
            ys = np.arange(k) - 0.4 + bh * (j + 0.5)
            bars = ax.barh(
                ys,
                np.nan_to_num(vals),
                height=bh,
                color=GROUP_COLORS[g],
                label=group_label(g, labels),
                edgecolor="white",
                linewidth=0.4,
            )
            for bar, r, v in zip(bars, bin_rows, vals, strict=True):
                bar.set_gid(f"pct:{r.item}:{g}")
                if np.isfinite(v):
                    ax.text(
                        v + 1.5,
                        bar.get_y() + bh / 2,
                        format_pct(v),
                        va="center",
                        fontsize=6.5,
                        color="#333333",
                    )
        ax.set_yticks(
            np.arange(k), [textwrap.fill(r.label.replace(", yes", ""), 24) for r in bin_rows]
        )
        ax.set_ylim(k - 0.5, -0.5)
        ax.set_xlim(0, 115)
        ax.set_xticks(np.arange(0, 101, 25), [f"{t}%" for t in range(0, 101, 25)])
        ax.tick_params(axis="y", length=0, labelsize=7.5)
        ax.set_xlabel("Percent of coordinators")
        ax.set_title("Yes / usually or always")
        ax.legend(
            loc="upper center", bbox_to_anchor=(0.4, -0.2), ncols=1, fontsize=7.5, handlelength=1.0
        )
        # means +- SD
        m = len(mean_rows)
        if m:
            axes = np.atleast_1d(bottom.subplots(1, m, sharey=True))
            for ax, r in zip(axes, mean_rows, strict=True):
                for j, g in enumerate(cmp_groups):
                    mean = look.get((r.item, r.level, g, "mean"), math.nan)
                    sd = look.get((r.item, r.level, g, "sd"), math.nan)
                    ax.hlines(
                        j,
                        mean - sd,
                        mean + sd,
                        color=GROUP_COLORS[g],
                        linewidth=1.6,
                        gid=f"sd:{r.item}:{g}",
                    )
                    ax.plot(
                        [mean],
                        [j],
                        marker="o",
                        markersize=6,
                        color=GROUP_COLORS[g],
                        linestyle="none",
                        gid=f"mean:{r.item}:{g}",
                    )
                    if np.isfinite(mean):
                        ax.annotate(
                            f"{round_half_up(mean, 1)}",
                            (mean, j),
                            xytext=(0, 6),
                            textcoords="offset points",
                            ha="center",
                            fontsize=7,
                        )
                tot = look.get((r.item, r.level, TOTAL, "mean"), math.nan)
                if np.isfinite(tot):
                    ax.axvline(tot, color=GREY, linestyle="--", linewidth=0.8)
                ax.set_title(textwrap.fill(strip_stat(r.label), 34), fontsize=8.5)
                ax.set_xlabel("Mean \u00b1 1 SD (dashed: all coordinators)", fontsize=7.5)
                ax.set_ylim(len(cmp_groups) - 0.4, -0.6)
                ax.xaxis.grid(True)
                ax.tick_params(axis="y", length=0)
            axes[0].set_yticks(
                np.arange(len(cmp_groups)), [_group_tick(g, sizes, labels) for g in cmp_groups]
            )
        suptitle(
            fig, "Care coordinators by the care models of the clinics they report on (Table 1)"
        )
    return finish(fig, "Care coordinator characteristics by group (Table 1)", synthetic=synthetic)
