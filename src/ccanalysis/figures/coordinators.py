"""Table 1 by coordinator group as small multiples: the first full item stacked, the yes/no rows
grouped, a panel per mean (SD) row."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ccanalysis.figures.theme import (
    GROUP_COLORS,
    PALETTE,
    finish,
    format_pct,
    group_label,
    grouped_bars,
    lookup,
    strip_stat,
    style,
)
from ccanalysis.printing import round_half_up
from ccanalysis.spec import Spec
from ccanalysis.tables.read import as_long, group_sizes
from ccanalysis.vocab import COORDINATOR_GROUPS, TOTAL

#: Colours of the levels of the distribution (not groups): the palette's after the groups'.
LEVEL_COLORS: tuple[str, ...] = (PALETTE[4], PALETTE[9], PALETTE[5], PALETTE[8], PALETTE[6])


def coordinator_characteristics(
    table1_long: pd.DataFrame, spec: Spec, *, synthetic: bool
) -> Figure:
    """Table 1 by group, withheld cells left out: gids ``degree:<group>:<level>``,
    ``pct:<item>:<group>``, ``mean:`` and ``sd:<item>:<group>``."""
    rows = spec.of("table1")
    look = lookup(table1_long)
    sizes = group_sizes(as_long(table1_long))
    groups = [TOTAL] * (("n", "", TOTAL, "n") in look) + list(COORDINATOR_GROUPS)
    compared = list(COORDINATOR_GROUPS)
    ticks = {
        g: textwrap.fill(group_label(g), 26) + (f"\n(n={sizes[g]})" if g in sizes else "")
        for g in groups
    }
    full = [r for r in rows if r.shown == "full" and r.stat == "n_pct"]
    yes_no = [r for r in rows if r.shown in ("binary", "collapsed") and r.stat == "n_pct"]
    means = [r for r in rows if r.continuous]
    with style():
        fig = Figure(figsize=(10.5, 7.2), layout="constrained")
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.25, 1])
        ax_dist, ax_yes = top.subplots(1, 2, width_ratios=[1.5, 1])
        # the distribution of the first item shown in full: pandas' stacked bars
        levels = [r for r in full if r.item == full[0].item]
        shares = pd.DataFrame(
            {r.label: [look.get((r.item, r.level, g, "pct"), 0.0) for g in groups] for r in levels},
            index=[ticks[g] for g in groups],
        )
        shares.plot.barh(stacked=True, ax=ax_dist, width=0.62, color=LEVEL_COLORS, legend=False)
        for container, r in zip(ax_dist.containers, levels, strict=True):
            for bar, g in zip(container, groups, strict=True):
                bar.set_gid(f"degree:{g}:{r.level}")
            texts = [format_pct(b.get_width()) if b.get_width() >= 7 else "" for b in container]
            ax_dist.bar_label(container, texts, label_type="center", fontsize=7)
        ax_dist.invert_yaxis()
        ax_dist.set_title(f"{levels[0].section or levels[0].item} (first checked)")
        ax_dist.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=3, fontsize=7.5)
        yes = pd.DataFrame(
            {
                g: [look.get((r.item, r.level, g, "pct"), math.nan) for r in yes_no]
                for g in compared
            },
            index=[textwrap.fill(r.label.replace(", yes", ""), 24) for r in yes_no],
        )
        names = {g: group_label(g) for g in compared}
        items = [r.item for r in yes_no]
        grouped_bars(ax_yes, yes, names, GROUP_COLORS, "pct:{key}:{g}", items, 6.5)
        ax_yes.set_title("Yes / usually or always")
        sns.move_legend(ax_yes, "upper center", bbox_to_anchor=(0.4, -0.2), title=None)
        for ax, right in ((ax_dist, 100), (ax_yes, 115)):
            ax.set(xlim=(0, right), xticks=range(0, 101, 25), xlabel="Percent of coordinators")
            ax.set_ylabel("")
            ax.xaxis.set_major_formatter("{x:.0f}%")
            ax.tick_params(axis="y", length=0)
        axes = np.atleast_1d(bottom.subplots(1, len(means), sharey=True))
        for ax, r in zip(axes, means, strict=True):
            for y, g in enumerate(compared):
                mean = look.get((r.item, r.level, g, "mean"), math.nan)
                sd = look.get((r.item, r.level, g, "sd"), math.nan)
                bars = ax.errorbar(mean, y, xerr=sd, fmt="o", color=GROUP_COLORS[g], ms=6)
                bars.lines[0].set_gid(f"mean:{r.item}:{g}")
                bars.lines[2][0].set_gid(f"sd:{r.item}:{g}")
                if not math.isnan(mean):  # the mean above its dot
                    ax.text(
                        mean, y - 0.12, round_half_up(mean, 1), ha="center", va="bottom", size=7
                    )
            total = look.get((r.item, r.level, TOTAL, "mean"), math.nan)
            if not math.isnan(total):
                ax.axvline(total, color=GROUP_COLORS[TOTAL], linestyle="--", linewidth=0.8)
            ax.set_title(textwrap.fill(strip_stat(r.label), 34), fontsize=8.5)
            ax.set_xlabel("Mean \u00b1 1 SD (dashed: all coordinators)", fontsize=7.5)
            ax.set_ylim(len(compared) - 0.4, -0.6)
            ax.xaxis.grid(True)
            ax.tick_params(axis="y", length=0)
        axes[0].set_yticks(range(len(compared)), [ticks[g] for g in compared])
    return finish(
        fig,
        "Care coordinator characteristics by group (Table 1)",
        title="Care coordinators by the care models of the clinics they report on (Table 1)",
        synthetic=synthetic,
        caption="Table 1 by coordinator group ("
        + ", ".join(
            f"{group_label(g, mid_sentence=True)} n = {sizes[g]}" for g in compared if g in sizes
        )
        + "): the distribution of degrees (100% stacked), the share answering yes to each yes/no "
        "item, and each mean with +-1 SD (dashed: all coordinators); no intervals.",
        alt="Three panels comparing the coordinator groups: stacked bars of their degrees, grouped "
        "bars of the yes/no items, and dots with SD whiskers for the hours and years.",
    )
