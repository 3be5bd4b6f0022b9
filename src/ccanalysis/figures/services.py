"""Services provided by care coordinators, by group: Table 3's service items as horizontal grouped
bars, sorted by the share of all clinics (as in the study's slide deck).

The two compared groups and their names are parameters (``compare``, ``labels``; by default the
clinic comparison and the tables' labels of :mod:`ccanalysis.vocab`), so that the figure draws any
two groups the table has columns for.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from ccanalysis.figures.inputs import group_sizes, long_table, lookup
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
from ccanalysis.spec import Spec
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


def _test_heading(table3_long: pd.DataFrame, items: pd.Series) -> str:
    """The name of the test behind the p-values of ``items`` (``P`` when the table does not say)."""
    if "test" not in table3_long.columns:
        return "P"
    p_rows = table3_long[(table3_long["measure"] == "p") & table3_long["item"].isin(items)]
    tests = [str(t) for t in dict.fromkeys(p_rows["test"].dropna()) if str(t)]
    return " / ".join(dict.fromkeys(TEST_NAMES.get(t, t) for t in tests)) or "P"


def services_data(
    table3_long: pd.DataFrame,
    spec: Spec,
    prefix: str = SERVICE_PREFIX,
    *,
    compare: tuple[str, str] = CLINIC_COMPARISON,
) -> pd.DataFrame:
    """Percentages of Table 3's service items by group, sorted by the share of all clinics.

    Columns: ``item, level, label, total``, one per group of ``compare`` (comparison, reference),
    and ``p`` (percentages 0-100; ``p`` NaN when the table has no p row). Order: ``total``
    descending, ties in the specification's order. When the table has no ``total`` rows, the total
    is computed from the two groups' ``n`` and ``denom``.
    """
    rows = [r for r in spec.of(SERVICES_TABLE) if r.item.startswith(prefix)]
    if not rows:
        raise ValueError(f"the specification has no Table 3 items starting with {prefix!r}")
    look = lookup(long_table(table3_long, SERVICES_TABLE))
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
                f"table3 has no pct rows for {r.item}={r.level} in groups {' and '.join(compare)}"
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
    table3_long: pd.DataFrame,
    spec: Spec,
    *,
    synthetic: bool,
    compare: tuple[str, str] = CLINIC_COMPARISON,
    labels: Mapping[str, str] = GROUP_LABELS,
) -> Figure:
    """Services provided by care coordinators, by group: horizontal grouped bars (percent of
    clinics, the reference group above the comparison group), the most common service on top.

    ``compare``: (comparison, reference) groups of the table; ``labels``: their names (sentence
    case in the legend). Bars carry gids ``bar:<group>:<item>``; their widths are the percentages.
    """
    data = services_data(table3_long, spec, compare=compare)
    sizes = group_sizes(long_table(table3_long, SERVICES_TABLE))
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
                _test_heading(table3_long, data["item"]),
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
        suptitle(fig, "Services provided by care coordinators, by clinic care model")
    return finish(fig, "Services provided by care model (Table 3)", synthetic=synthetic)
