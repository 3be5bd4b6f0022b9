"""Table 3's services by group as seaborn bars, most common first, with the p-values; from Table 3
or a summary (its two groups and labels)."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from ccanalysis.figures.theme import (
    GROUP_COLORS,
    PALETTE,
    finish,
    format_p,
    group_label,
    grouped_bars,
    lookup,
    style,
)
from ccanalysis.spec import Spec, read_spec
from ccanalysis.tables.read import as_long, group_sizes
from ccanalysis.tables.summary import Summary
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, TOTAL

#: The heading of the p-values: the test the table ran, by its id's stem (``fisher_mc``: Fisher).
TEST_NAMES: dict[str, str] = {"fisher": "Fisher's test", "chisq": "Chi-squared test"}


def _source(table: pd.DataFrame | Summary) -> tuple[pd.DataFrame, tuple[str, str], Mapping]:
    """The long table, compared groups and labels (a summary's, else the tables')."""
    if isinstance(table, pd.DataFrame):
        return table, CLINIC_COMPARISON, GROUP_LABELS
    others = [g for g in table.groups if g != table.reference]
    if table.comparison is None and len(others) != 1:
        raise ValueError(
            f"the summary has {len(table.groups)} groups {list(table.groups)}: summarize the two "
            "to draw"
        )
    return table.long, (table.comparison or others[0], table.reference), table.grouping.labels


def services_data(table3_long: pd.DataFrame | Summary, spec: Spec | None = None) -> pd.DataFrame:
    """The services' percentages by group and total, and p, most common first."""
    long, compare, _ = _source(table3_long)
    if isinstance(table3_long, Summary):  # the summary's own rows, its yes rows of yes/no items
        rows = [r for b in table3_long.blocks for r in b.rows if r.level in ("yes", "")]
    else:
        rows = list((spec or read_spec()).of("table3"))
    rows = [r for r in rows if r.item.startswith("svc_")]
    look = lookup(long)
    out = []
    for r in rows:
        vals = {g: look.get((r.item, r.level, g, "pct"), math.nan) for g in (TOTAL, *compare)}
        p = look.get((r.item, "", "all", "p"), math.nan)
        out.append({"item": r.item, "level": r.level, "label": r.label, **vals, "p": p})
    frame = pd.DataFrame(out)
    return frame.sort_values(TOTAL, ascending=False, kind="stable").reset_index(drop=True)


def services_by_model(
    table3_long: pd.DataFrame | Summary, spec: Spec | None = None, *, synthetic: bool
) -> Figure:
    """Services by group, percent of clinics; gids ``bar:<group>:<item>``."""
    data = services_data(table3_long, spec)
    long, compare, labels = _source(table3_long)
    sizes = group_sizes(as_long(long))
    comparison, reference = compare
    names = {
        g: group_label(g, labels) + (f" (n={sizes[g]})" if g in sizes else "") for g in compare
    }
    with style():
        fig = Figure(figsize=(8.0, 1.4 + 0.4 * len(data)), layout="constrained")
        ax = fig.add_subplot()
        colors = {g: GROUP_COLORS.get(g, PALETTE[i]) for i, g in enumerate(compare)}
        drawn = {g: names[g] for g in (reference, comparison)}
        items = data["item"]
        grouped_bars(
            ax, data.set_index("item"), drawn, colors, "bar:{g}:{key}", items, 7, width=0.76
        )
        ax.set_yticks(range(len(data)), [textwrap.fill(s, 40) for s in data["label"]])
        ax.set(xlim=(0, 108), xticks=range(0, 101, 10), ylabel="")
        ax.set_xlabel("Percent of clinics whose care coordinators provide the service")
        ax.xaxis.set_major_formatter("{x:.0f}%")
        ax.xaxis.grid(True)
        ax.tick_params(axis="y", length=0)
        sns.move_legend(ax, "lower center", bbox_to_anchor=(0.4, 1.0), ncols=2, title=None)
        if data["p"].notna().any():  # at the right, under the name of their test ("P" if none)
            at_right = blended_transform_factory(ax.transAxes, ax.transData)
            p_rows = long[(long["measure"] == "p") & long["item"].isin(data["item"])]
            tests = p_rows.get("test", pd.Series()).dropna()
            named = dict.fromkeys(TEST_NAMES.get(t.split("_")[0], t) for t in tests if t)
            heading = " / ".join(named) or "P"
            ax.text(1.0, -0.75, heading, transform=at_right, va="bottom", size=7, color=".35")
            for y, p in enumerate(data["p"]):
                ax.text(1.0, y, format_p(p), transform=at_right, va="center", size=7, color=".35")
        if compare == CLINIC_COMPARISON:
            title, label = "by clinic care model", "Services provided by care model (Table 3)"
        else:
            both = [group_label(g, labels, mid_sentence=True) for g in compare]
            title = f"{both[0]} and {both[1]} clinics"
            label = f"Services provided, {' and '.join(both)} (Table 3's services)"
    title = f"Services provided by care coordinators, {title}"
    sized = " and ".join(names[g] for g in (comparison, reference))
    caption = (
        f"Percent of clinics ({sized}) whose care coordinators provide each service of Table 3, "
        "most common first, among the clinics answering; P on the right: the table's test of the "
        "item by group; no intervals."
    )
    alt = (
        f"Horizontal grouped bars for {len(data)} services, two bars each ({sized}), with the "
        "percentage at each bar's end and P at the right."
    )
    return finish(fig, label, title=title, synthetic=synthetic, caption=caption, alt=alt)
