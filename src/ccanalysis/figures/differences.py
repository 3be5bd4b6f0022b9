"""Forest plots of group differences (default ISW - MN) with 95% intervals by analysis, per table,
from ``tables/sensitivity.csv``, an ``analyze`` result or a summary's crude differences."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ccanalysis.errors import ValidationError
from ccanalysis.figures.theme import finish, group_label, strip_stat, style
from ccanalysis.sensitivity import ANALYSIS_NAMES, Sensitivity
from ccanalysis.sensitivity.inputs import Groups
from ccanalysis.spec import Spec, read_spec
from ccanalysis.tables.read import text
from ccanalysis.tables.summary import Summary
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, SHORT_LABELS

#: Colour, marker, filled of each analysis: apart in greyscale and for colour-blind readers.
STYLES: dict[str, tuple[str, str, bool]] = {
    "unadjusted": ("#000000", "o", True),
    "gee_care_system": ("#0072B2", "D", True),
    "gee_care_system_exchangeable": ("#0072B2", "v", False),
    "gee_coordinator": ("#009E73", "^", True),
    "standardized_isw": ("#D55E00", "s", True),
    "standardized_total": ("#D55E00", "P", False),
}
TABLE_TITLES: dict[str, str] = {
    "table3": "Table 3. Care coordination activities",
    "table4": "Table 4. Broad approaches supporting care coordination",
}
DIFFERENCE_COLUMNS: tuple[str, ...] = tuple(
    "table section item level label order panel unit analysis estimate ci_low ci_high".split()
)
#: The look of the intervals, the estimates and the panels' titles.
INTERVAL = {"linewidth": 1.1, "zorder": 2}
ESTIMATE = {"ms": 3.6, "mec": "white", "mew": 0.4, "zorder": 3}
PANEL_TITLE = {"textcoords": "offset points", "fontsize": 9.5, "fontweight": "bold"}
#: Inches per row of a panel (item or section heading), and the width of a table's column.
ROW_IN, COLUMN_IN = 0.25, 6.45

Source = str | Path | pd.DataFrame | Sensitivity | Summary


def _groups(source: Source) -> Groups:
    """The groups a summary or an analysis compares, else the care models."""
    if isinstance(source, Sensitivity):
        return source.groups
    if isinstance(source, Summary):
        other = source.comparison or next(g for g in source.groups if g != source.reference)
        return Groups(other, source.reference, source.grouping.labels, source.grouping.short)
    return Groups(*CLINIC_COMPARISON, GROUP_LABELS, SHORT_LABELS)


def _from_summary(s: Summary, compare: tuple[str, str]) -> pd.DataFrame:
    """A summary's crude differences (``add_difference``) as sensitivity rows."""
    long = s.long
    rows = long[(long["group"] == compare[0]) & long["measure"].isin(["pct", "mean"])]
    rows = rows[rows["diff"].notna()]
    units = {r.item: r.unit for b in s.blocks for r in b.rows if r.unit}  # the dictionary's
    n = long[(long["item"] == "n") & (long["measure"] == "n")].set_index("group")["value"]
    return pd.DataFrame(
        {
            "table": s.table,
            "item": rows["item"],
            "level": rows["level"],
            "analysis": "unadjusted",
            "unit": np.where(
                rows["measure"] == "pct", "pp", [units.get(i, "item's unit") for i in rows["item"]]
            ),
            "label": "",
            "estimate": rows["diff"],
            "ci_low": rows["diff_lo"],
            "ci_high": rows["diff_hi"],
        }
        | {f"n_{g}": n.get(g, math.nan) for g in compare}
        | {f"value_{g}": math.nan for g in compare}
    )


def difference_data(
    sensitivity: Source, spec: Spec | None = None, *, tables: Sequence[str] | None = None
) -> pd.DataFrame:
    """The differences of ``tables`` (default 3 and 4), in the specification's order (rows it
    lacks last, "Other items"); ``panel``: ``pp`` or ``mean`` (in ``unit``)."""
    compare, rows = _groups(sensitivity).compare, {}  # a summary's own rows
    if isinstance(sensitivity, Summary):
        rows = {(r.item, r.level): r for b in sensitivity.blocks for r in b.rows}
        tables = tables or (sensitivity.table,)
        source, sens = "the summary", _from_summary(sensitivity, compare)
    elif isinstance(sensitivity, Sensitivity):
        source, sens = "the sensitivity analysis", sensitivity.results.copy()
    elif isinstance(sensitivity, pd.DataFrame):
        source, sens = "the sensitivity table", sensitivity.copy()
    else:
        source = str(sensitivity)
        sens = pd.read_csv(sensitivity, keep_default_na=False, na_values=[""])
    if not {f"value_{g}" for g in compare} <= set(sens.columns):
        values = ", ".join(str(c) for c in sens.columns if str(c).startswith("value_"))
        why = f"the file compares other groups than {' - '.join(compare)}"
        raise ValidationError(source, None, values, None, why)
    keys = ["table", "item", "level", "analysis", "unit", "label"]
    sens[keys] = sens[keys].apply(text)
    tables = tables or tuple(TABLE_TITLES)
    sens = sens[sens["table"].isin(tables)]
    sens = sens.assign(panel=np.where(sens["unit"] == "pp", "pp", "mean"), section="", order=0)
    rows = rows or {(r.item, r.level): r for r in (spec or read_spec()).of(*tables)}
    order = {key: i for i, key in enumerate(rows)}
    for i, r in sens.iterrows():
        row = rows.get((r["item"], r["level"]))
        name = r["label"] or (f"{r['item']} = {r['level']}" if r["level"] else r["item"])
        label = row.label if row is not None else name
        sens.loc[i, "section"] = row.section if row is not None else "Other items"
        sens.loc[i, "label"] = strip_stat(label) if r["panel"] == "mean" else label
        sens.loc[i, "order"] = order.setdefault((r["item"], r["level"]), len(order))
    sens["rank"] = sens["analysis"].map({a: i for i, a in enumerate(ANALYSIS_NAMES)})
    sens = sens.sort_values(["table", "panel", "order", "rank"], kind="stable")
    out = sens[list(DIFFERENCE_COLUMNS)].reset_index(drop=True)
    out.attrs["n"] = {  # the groups' clinics, when the source says
        g: int(sens[f"n_{g}"].max())
        for g in compare
        if f"n_{g}" in sens and sens[f"n_{g}"].notna().any()
    }
    return out


def _row_labels(rows: pd.DataFrame) -> tuple[list[str], set[int], dict[tuple[str, str], int]]:
    """A panel's y tick labels (headings before items), the headings' y and each item's y."""
    ticks: list[str] = []
    headings: set[int] = set()
    y_of: dict[tuple[str, str], int] = {}
    current = None
    keys = ["order", "section", "label", "item", "level"]
    for _, section, label, item, level in rows[keys].drop_duplicates().itertuples(index=False):
        if section and section != current:
            headings.add(len(ticks))
            ticks.append(textwrap.fill(section.rstrip(":"), 44))
        current = section
        y_of[(item, level)] = len(ticks)
        ticks.append(textwrap.fill(label, 48))
    return ticks, headings, y_of


def _draw_panel(ax: Axes, rows: pd.DataFrame, styles: dict, dodge: dict[str, float]) -> None:
    """Each analysis's intervals (gid ``ci:<table>:<panel>:<analysis>``), estimates (``est:``)."""
    ticks, headings, y_of = _row_labels(rows)
    y = [y_of[k] for k in zip(rows["item"], rows["level"], strict=True)]
    for a, r in rows.assign(y=y + rows["analysis"].map(dodge)).groupby("analysis"):
        _, color, marker, filled = styles[a]
        gid = f"{r['table'].iloc[0]}:{r['panel'].iloc[0]}:{a}"
        ci = r.dropna(subset=["ci_low", "ci_high"])
        ax.hlines(ci["y"], ci["ci_low"], ci["ci_high"], color=color, gid=f"ci:{gid}", **INTERVAL)
        look = ESTIMATE | ({} if filled else {"mfc": "white", "mec": color, "mew": 1.0})
        ax.plot(r["estimate"], r["y"], marker, color=color, gid=f"est:{gid}", **look)
    for y in list(y_of.values())[1::2]:  # every second item on a grey band
        ax.axhspan(y - 0.5, y + 0.5, color="#F2F2F2", lw=0, zorder=0)
    ax.set_yticks(range(len(ticks)), ticks, fontsize=7.5)
    for y in headings:
        ax.get_yticklabels()[y].set_fontweight("bold")
    ax.set_ylim(len(ticks) - 0.5, -0.5)
    ax.axvline(0, color=".2", linewidth=0.8, zorder=1)
    ax.margins(x=0.05)
    ax.xaxis.grid(True)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelsize=7.5, top=len(ticks) > 25, labeltop=len(ticks) > 25)
    ax.spines["left"].set_visible(False)


def difference_plot(
    sensitivity: Source,
    spec: Spec | None = None,
    *,
    synthetic: bool,
    tables: Sequence[str] | None = None,
) -> Figure:
    """Differences comparison - reference, 95% intervals by analysis, for ``tables`` (a column
    each): percentage points on one axis, means an axis per unit. Groups, labels and analyses'
    names: a summary's or an analyze() result's, else the tables'."""
    own = _groups(sensitivity)
    compare, labels = own.compare, own.labels
    short = [own.short.get(g, g) for g in compare]
    # an analysis's names (its own standardization's), else the crude difference's (the tables')
    names = sensitivity.names if isinstance(sensitivity, Sensitivity) else ANALYSIS_NAMES
    titles = TABLE_TITLES | (
        {sensitivity.table: sensitivity.title} if isinstance(sensitivity, Summary) else {}
    )
    data = difference_data(sensitivity, spec, tables=tables)
    data = data[data["analysis"].isin(STYLES)]  # the secondary Mancl-DeRouen row: not drawn
    if data.empty and isinstance(sensitivity, Summary):
        raise ValueError(
            "difference_plot: the summary has no differences; add them first (.add_difference())"
        )
    if data.empty:
        raise ValueError(f"no differences to draw in the tables {tables or list(TABLE_TITLES)}")
    diff_name = " - ".join(short)
    styles = {a: (names[a][0], *STYLES[a]) for a in STYLES if a in set(data["analysis"])}
    dodge = {a: (i - (len(styles) - 1) / 2) * 0.8 / len(styles) for i, a in enumerate(styles)}
    pp_first = data.sort_values(["table", "panel"], ascending=[True, False], kind="stable")
    columns = {  # a table's panels (unit, rows), pp first
        t: list(rows.groupby("unit", sort=False)) for t, rows in pp_first.groupby("table")
    }
    n_rows = {t: [max(len(_row_labels(p[1])[0]), 2) for p in ps] for t, ps in columns.items()}
    inches = {t: sum(n * ROW_IN + 0.8 for n in ns) for t, ns in n_rows.items()}  # of each column
    height = 1.4 + 0.17 * math.ceil(len(styles) / 3) + max(inches.values())  # the legend's rows
    comparison_name, reference_name = (  # the integrated social worker model; urban clinics
        f"the {name}" if g in GROUP_LABELS else f"{name} clinics"
        for g, name in ((g, group_label(g, labels, mid_sentence=True)) for g in compare)
    )
    with style():
        fig = Figure(figsize=(len(columns) * COLUMN_IN, height), layout="constrained")
        pp_axes: list[Axes] = []
        for sub, (t, panels) in zip(
            fig.subfigures(1, len(columns), squeeze=False)[0], columns.items(), strict=True
        ):
            # the panels from the top, a blank row under a shorter column
            blank = (max(inches.values()) - inches[t]) / ROW_IN + 0.01
            grid = sub.add_gridspec(len(panels) + 1, 1, height_ratios=[*n_rows[t], blank])
            for j, (n, (unit, rows)) in enumerate(zip(n_rows[t], panels, strict=True)):
                ax = sub.add_subplot(grid[j])
                if unit == "pp":  # the tables' percentage points on one scale
                    title, xlabel = titles.get(t, t), f"{diff_name}, percentage points"
                    if pp_axes:
                        ax.sharex(pp_axes[0])
                    pp_axes.append(ax)
                else:  # an axis per unit, the first panel of means titled
                    first = all(p[0] == "pp" for p in panels[:j])
                    title = f"{titles.get(t, t).split('.')[0]}. Mean differences" if first else ""
                    xlabel = f"{diff_name}, {unit}"
                _draw_panel(ax, rows, styles, dodge)
                at = {
                    "xycoords": (sub.transSubfigure, ax.transAxes),
                    "xytext": (0, 22 if n > 25 else 6),
                }
                ax.annotate(textwrap.fill(title, 72), (0.02, 1), **at, **PANEL_TITLE)
                ax.set_xlabel(xlabel, fontsize=8)
        fig.legend(
            handles=[
                Line2D([], [], color=c, marker=m, ms=5, mfc=c if f else "white", label=name)
                for name, c, m, f in styles.values()
            ],
            loc="outside upper left",
            ncols=3,
            title=f"{diff_name}: estimate and 95% interval, by analysis",
            title_fontproperties={"size": 10.5, "weight": "bold"},
            alignment="left",
        )
    what = "between care models" if compare == CLINIC_COMPARISON else diff_name
    note = (
        f"Positive: more common (or larger) with {comparison_name}. Mean differences in each "
        "item's unit, on an axis per unit."
    )
    drawn = list(columns)
    where = " and ".join(titles.get(t, t).split(".")[0] for t in drawn)
    label = f"Differences {what}, {where}, by analysis"
    sizes = " and ".join(
        f"{n} {group_label(g, labels, mid_sentence=True)}"
        for g, n in data.attrs.get("n", {}).items()
    )
    rest = titles.get(drawn[0], drawn[0]).partition(". ")[2]
    what_rows = f"{where} ({rest})" if rest and len(drawn) == 1 else where
    caption = (
        f"Differences, {comparison_name} minus {reference_name} ({diff_name}), in every compared "
        f"row of {what_rows}: percentage points for shares, each mean in its unit, with 95% "
        "intervals, by analysis: "
        + "; ".join(names[a][1] for a in styles)
        + (f". n = {sizes} clinics." if sizes else ".")
    )
    alt = (
        f"Forest plot of {len(set(zip(data['item'], data['level'], strict=True)))} rows of {where}: "
        f"for each, {len(styles)} estimates with horizontal 95% intervals around a vertical line at "
        f"zero; points right of it are higher with {comparison_name}."
    )
    return finish(fig, label, synthetic=synthetic, note=note, caption=caption, alt=alt)
