"""Services provided by care coordinators, by group: Table 3's service items as horizontal grouped
bars, sorted by the share of all clinics (as in the study's slide deck).

The two compared groups and their names are parameters (``compare``, ``labels``; by default the
clinic comparison and the tables' labels of :mod:`ccanalysis.vocab`), so that the figure draws any
two groups the table has columns for. Given a summary of :func:`ccanalysis.analysis.summarize`
(``by`` any column with two groups) instead of Table 3's long format, the figure draws the
summary's groups with its labels.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping
from typing import Protocol

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from ccanalysis.figures.inputs import long_table, lookup
from ccanalysis.figures.theme import (
    finish,
    format_p,
    format_pct,
    group_label,
    new_figure,
    pair_colors,
    style,
    suptitle,
)
from ccanalysis.spec import Spec, read_spec
from ccanalysis.tables.read import group_sizes
from ccanalysis.vocab import CLINIC_COMPARISON, GROUP_LABELS, TOTAL

#: The table and the item prefix of the services.
SERVICES_TABLE = "table3"
SERVICE_PREFIX = "svc_"
#: The heading of the p-values: the short name of the test the table ran (its ``test`` column).
TEST_NAMES: dict[str, str] = {
    "fisher": "Fisher's test",
    "fisher_mc": "Fisher's test",
    "chisq": "Chi-squared test",
    "chisq_yates": "Chi-squared test",
}


class SummaryLike(Protocol):
    """What the figure reads of a :class:`ccanalysis.tables.summary.Summary`."""

    long: pd.DataFrame
    groups: tuple[str, ...]
    reference: str
    comparison: str | None
    grouping: object


def _source(
    table: pd.DataFrame | SummaryLike,
    compare: tuple[str, str] | None,
    labels: Mapping[str, str] | None,
) -> tuple[pd.DataFrame, tuple[str, str], Mapping[str, str]]:
    """The long table, the compared groups and their labels: a summary's own (``compare`` and
    ``labels`` override them), else the care models' and the tables' labels."""
    if isinstance(table, pd.DataFrame):
        return table, compare or CLINIC_COMPARISON, labels or GROUP_LABELS
    if compare is None:
        others = [g for g in table.groups if g != table.reference]
        if table.comparison is None and len(others) != 1:
            raise ValueError(
                f"the summary has {len(table.groups)} groups {list(table.groups)}: name the two "
                "to draw with compare=(comparison, reference)"
            )
        compare = (table.comparison or others[0], table.reference)
    return table.long, compare, labels or table.grouping.labels  # type: ignore[attr-defined]


def _test_heading(table3_long: pd.DataFrame, items: pd.Series) -> str:
    """The name of the test behind the p-values of ``items`` (``P`` when the table does not say)."""
    if "test" not in table3_long.columns:
        return "P"
    p_rows = table3_long[(table3_long["measure"] == "p") & table3_long["item"].isin(items)]
    tests = [str(t) for t in dict.fromkeys(p_rows["test"].dropna()) if str(t)]
    return " / ".join(dict.fromkeys(TEST_NAMES.get(t, t) for t in tests)) or "P"


def services_data(
    table3_long: pd.DataFrame | SummaryLike,
    spec: Spec | None = None,
    prefix: str = SERVICE_PREFIX,
    *,
    compare: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Percentages of Table 3's service items by group, sorted by the share of all clinics.

    ``table3_long``: Table 3's long format, or a summary of the service items by any ``by``
    (:func:`ccanalysis.analysis.summarize`); ``spec``: the rows and labels of the services
    (default the package's specification). Columns: ``item, level, label, total``, one per group
    of ``compare`` (comparison, reference; default the summary's groups, else the care models),
    and ``p`` (percentages 0-100; ``p`` NaN when the table has no p row). Order: ``total``
    descending, ties in the specification's order. When the table has no ``total`` rows, the total
    is computed from the two groups' ``n`` and ``denom``.
    """
    long, compare, _ = _source(table3_long, compare, None)
    rows = [r for r in (spec or read_spec()).of(SERVICES_TABLE) if r.item.startswith(prefix)]
    if not rows:
        raise ValueError(f"the specification has no Table 3 items starting with {prefix!r}")
    look = lookup(long_table(long, SERVICES_TABLE))
    groups = (TOTAL, *compare)
    out = []
    for order, r in enumerate(rows):
        vals = {g: look.get((r.item, r.level, g, "pct"), math.nan) for g in groups}
        if not np.isfinite(vals[TOTAL]):
            n = sum(look.get((r.item, r.level, g, "n"), math.nan) for g in compare)
            d = sum(look.get((r.item, r.level, g, "denom"), math.nan) for g in compare)
            vals[TOTAL] = 100.0 * n / d if d else math.nan
        if not all(np.isfinite(vals[g]) for g in compare):
            raise KeyError(
                f"the table has no pct rows for {r.item}={r.level} in groups "
                f"{' and '.join(compare)}"
            )
        out.append(
            {
                "item": r.item,
                "level": r.level,
                "label": r.label,
                **vals,
                "p": look.get((r.item, "", "all", "p"), math.nan),
                "order": order,
            }
        )
    frame = pd.DataFrame(out)
    frame = frame.sort_values([TOTAL, "order"], ascending=[False, True], kind="stable")
    return frame.drop(columns="order").reset_index(drop=True)


def services_by_model(
    table3_long: pd.DataFrame | SummaryLike,
    spec: Spec | None = None,
    *,
    synthetic: bool,
    compare: tuple[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Services provided by care coordinators, by group: horizontal grouped bars (percent of
    clinics, the reference group above the comparison group), the most common service on top.

    ``table3_long``, ``spec``: as :func:`services_data`. ``compare``: (comparison, reference)
    groups of the table; ``labels``: their names (sentence case in the legend); both default to
    a summary's own, else the care models and the tables' labels. Bars carry gids
    ``bar:<group>:<item>``; their widths are the percentages.
    """
    long, compare, labels = _source(table3_long, compare, labels)
    data = services_data(long, spec, compare=compare)
    sizes = group_sizes(long_table(long, SERVICES_TABLE))
    colors = pair_colors(compare)
    comparison, reference = compare
    k = len(data)
    with style():
        fig = new_figure(8.0, 1.4 + 0.4 * k, constrained=True)
        ax = fig.add_subplot()
        y = np.arange(k, dtype=float)
        bh = 0.38
        for g, off in ((reference, -bh / 2), (comparison, bh / 2)):
            n = sizes.get(g)
            name = group_label(g, labels) + (f" (n={n})" if n else "")
            bars = ax.barh(
                y + off,
                data[g].to_numpy(),
                height=bh,
                color=colors[g],
                label=name,
                edgecolor="white",
                linewidth=0.4,
            )
            for bar, item, v in zip(bars, data["item"], data[g], strict=True):
                bar.set_gid(f"bar:{g}:{item}")
                ax.text(
                    v + 0.8,
                    bar.get_y() + bh / 2,
                    format_pct(v),
                    va="center",
                    ha="left",
                    fontsize=7,
                    color="#333333",
                )
        ax.set_yticks(y, [textwrap.fill(s, 40) for s in data["label"]])
        ax.set_ylim(k - 0.45, -0.55)
        ax.set_xlim(0, 108)
        ax.set_xticks(np.arange(0, 101, 10), [f"{t}%" for t in range(0, 101, 10)])
        ax.xaxis.grid(True)
        ax.tick_params(axis="y", length=0)
        ax.set_xlabel("Percent of clinics whose care coordinators provide the service")
        if data["p"].notna().any():
            tr = blended_transform_factory(ax.transAxes, ax.transData)
            ax.text(
                1.0,
                -0.75,
                _test_heading(long, data["item"]),
                transform=tr,
                ha="left",
                va="bottom",
                fontsize=7,
                color="#555555",
            )
            for yi, p in zip(y, data["p"], strict=True):
                ax.text(
                    1.0,
                    yi,
                    format_p(p),
                    transform=tr,
                    ha="left",
                    va="center",
                    fontsize=7,
                    color="#555555",
                    gid="pvalue",
                )
        ax.legend(loc="lower center", bbox_to_anchor=(0.4, 1.0), ncols=2, handlelength=1.2)
        if compare == CLINIC_COMPARISON:
            title, label = "by clinic care model", "Services provided by care model (Table 3)"
        else:
            names = [group_label(g, labels, mid_sentence=True) for g in (comparison, reference)]
            title = f"{names[0]} and {names[1]} clinics"
            label = f"Services provided, {' and '.join(names)} (Table 3's services)"
        suptitle(fig, f"Services provided by care coordinators, {title}")
    return finish(fig, label, synthetic=synthetic)
