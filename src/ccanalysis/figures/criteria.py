"""The four criteria of the integrated social worker model (Table 2) as an UpSet-style chart: the
clinics per combination of criteria met, stacked by care model, over the dot matrix of the criteria
in each combination, beside the clinics meeting each criterion.

The criteria are :data:`ccanalysis.vocab.CRITERIA`; a clinic's care model is read from its
``care_model`` (the classification stage is the one place that applies the rule). A missing answer
counts as not met, as Table 2 counts it (criteria 2-4 are asked only where a social worker is on
the team).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ccanalysis.figures.theme import (
    GROUP_COLORS,
    LIGHT_GREY,
    MARGIN_IN,
    finish,
    group_label,
    new_figure,
    style,
    suptitle,
)
from ccanalysis.privacy import is_small
from ccanalysis.vocab import CLINIC_COMPARISON, CLINIC_GROUPS, CRITERIA, MODEL_GROUP

#: Short labels of the four criteria (the specification's labels are the full questions).
CRITERIA_LABELS: dict[str, str] = dict(
    zip(
        CRITERIA,
        (
            "1. Social worker on the CC team",
            "2. SW responsible for social services",
            "3. SW interacts regularly with patients",
            "4. SW interacts regularly with clinicians",
        ),
        strict=True,
    )
)


def criteria_data(clinics: pd.DataFrame, criteria: Sequence[str] = CRITERIA) -> pd.DataFrame:
    """Clinics per combination of the criteria met (a missing answer counts as not met).

    One row per combination present: a boolean column per criterion, ``n_met`` (criteria met),
    ``n`` (clinics) and one column per clinic group (``mn``, ``isw``: clinics of each care model,
    from ``care_model``). Sorted by ``n`` descending, then more criteria first.
    """
    missing = [c for c in criteria if c not in clinics.columns]
    if missing:
        raise KeyError(f"the clinic frame lacks the criteria {missing}")
    if "care_model" not in clinics.columns:
        raise KeyError("the clinic frame has no care_model column (run ccanalysis.classify first)")
    met = pd.DataFrame({c: clinics[c].astype(object).eq("yes").to_numpy() for c in criteria})
    model = clinics["care_model"].astype(object).to_numpy()
    for m, g in MODEL_GROUP.items():
        met[g] = (model == m).astype(int)
    met["n"] = 1
    groups = list(CLINIC_GROUPS)
    out = met.groupby(list(criteria), sort=False)[["n", *groups]].sum().reset_index()
    out["n_met"] = out[list(criteria)].sum(axis=1).astype(int)
    out = out.sort_values(["n", "n_met"], ascending=[False, False], kind="stable")
    return out[[*criteria, "n_met", "n", *groups]].reset_index(drop=True)


def criteria_chart(
    clinics: pd.DataFrame, *, synthetic: bool, min_cell: int | None = None
) -> Figure:
    """The four criteria of the integrated social worker model (Table 2) as an UpSet-style chart.

    Top: clinics per combination of criteria met, stacked by care model (gids
    ``combo:<group>:<k>``, k-th combination of :func:`criteria_data`); below: the dot matrix of
    the criteria in each combination; left: clinics meeting each criterion (``criterion:<name>``).
    ``min_cell=k`` (privacy mode): combinations of fewer than k clinics, or with fewer than k
    clinics of one care model, are left out (the note says how many), and a criterion met by 1 to
    k - 1 clinics shows ``<k`` without a bar.
    """
    criteria = CRITERIA
    comparison = CLINIC_COMPARISON[0]  # the model the criteria define
    data = criteria_data(clinics, criteria)
    hidden = pd.Series(False, index=data.index)
    for col in ("n", *CLINIC_GROUPS):
        hidden |= data[col].map(lambda v: is_small(float(v), min_cell))
    n_hidden, clinics_hidden = int(hidden.sum()), int(data.loc[hidden, "n"].sum())
    data = data[~hidden].reset_index(drop=True)
    k = len(data)
    with style():
        # 0.3 in at the bottom for the two lines of the note (the figure 0.15 in taller for it)
        fig_w, fig_h = max(7.5, 4.2 + 0.5 * k), 5.55
        fig = new_figure(fig_w, fig_h, constrained=True, bottom_in=0.3)
        fig.get_layout_engine().set(hspace=0.02, wspace=0.02)
        gs = fig.add_gridspec(
            2, 2, width_ratios=[1.2, max(1.4, 0.5 * k / 2)], height_ratios=[1.6, 1]
        )
        ax_bar = fig.add_subplot(gs[0, 1])
        ax_dot = fig.add_subplot(gs[1, 1], sharex=ax_bar)
        ax_set = fig.add_subplot(gs[1, 0], sharey=ax_dot)
        x = np.arange(k)
        bottom = np.zeros(k)
        for g in CLINIC_GROUPS:
            vals = data[g].to_numpy(dtype=float)
            bars = ax_bar.bar(
                x,
                vals,
                bottom=bottom,
                width=0.65,
                color=GROUP_COLORS[g],
                label=group_label(g),
                edgecolor="white",
                linewidth=0.5,
            )
            for i, bar in enumerate(bars):
                bar.set_gid(f"combo:{g}:{i}")
            bottom = bottom + vals
        for i, n in enumerate(data["n"]):
            ax_bar.text(
                i, n + bottom.max() * 0.015, str(int(n)), ha="center", va="bottom", fontsize=8
            )
        ax_bar.set_ylabel("Clinics")
        ax_bar.set_ylim(0, bottom.max() * 1.12 if k else 1)
        ax_bar.tick_params(axis="x", bottom=False, labelbottom=False)
        ax_bar.yaxis.grid(True)
        ax_leg = fig.add_subplot(gs[0, 0])
        ax_leg.set_axis_off()
        handles, labels = ax_bar.get_legend_handles_labels()
        ax_leg.legend(
            handles,
            labels,
            loc="lower left",
            bbox_to_anchor=(0.0, 0.05),
            fontsize=8.5,
            title="Care model of the clinics",
            title_fontsize=8.5,
            alignment="left",
        )
        # two lines: constrained layout does not make room for a title wider than its axes
        ax_bar.set_title("Clinics by the combination\nof criteria met")
        # dot matrix
        for j in range(len(criteria)):
            if j % 2 == 0:
                ax_dot.axhspan(j - 0.5, j + 0.5, color="#F2F2F2", lw=0, zorder=0)
        for i in range(k):
            met = [j for j, c in enumerate(criteria) if bool(data.loc[i, c])]
            not_met = [j for j in range(len(criteria)) if j not in met]
            ax_dot.scatter(
                [i] * len(not_met), not_met, s=46, color=LIGHT_GREY, zorder=2, linewidths=0
            )
            if met:
                color = GROUP_COLORS[comparison] if len(met) == len(criteria) else "#333333"
                ax_dot.scatter(
                    [i] * len(met), met, s=46, color=color, zorder=3, linewidths=0, gid=f"dots:{i}"
                )
                ax_dot.plot([i, i], [min(met), max(met)], color=color, linewidth=2, zorder=2.5)
        ax_dot.set_ylim(len(criteria) - 0.5, -0.5)
        ax_dot.set_xlim(-0.6, k - 0.4)
        ax_dot.tick_params(
            axis="both", left=False, bottom=False, labelleft=False, labelbottom=False
        )
        for s in ("left", "bottom"):
            ax_dot.spines[s].set_visible(False)
        # criterion totals
        totals = [int(clinics[c].astype(object).eq("yes").sum()) for c in criteria]
        shown = [0 if is_small(v, min_cell) else v for v in totals]
        bars = ax_set.barh(np.arange(len(criteria)), shown, height=0.55, color="#555555")
        for bar, c, v in zip(bars, criteria, totals, strict=True):
            bar.set_gid(f"criterion:{c}")
            label = f"<{min_cell} " if is_small(v, min_cell) else f"{v} "
            ax_set.text(
                bar.get_width(),
                bar.get_y() + 0.275,
                label,
                ha="right",
                va="center",
                fontsize=7.5,
                color="#333333",
            )
        ax_set.invert_xaxis()
        ax_set.set_xlabel("Clinics meeting the criterion")
        ax_set.yaxis.tick_right()
        ax_set.set_yticks(np.arange(len(criteria)), [CRITERIA_LABELS[c] for c in criteria])
        ax_set.tick_params(axis="y", length=0, labelsize=8, pad=6)
        ax_set.spines["left"].set_visible(False)
        ax_set.spines["right"].set_visible(False)
        ax_set.set_ylim(len(criteria) - 0.5, -0.5)
        fig.text(
            MARGIN_IN / fig_w,
            MARGIN_IN / fig_h,
            f"N = {len(clinics)} clinics. {group_label(comparison)} = all four criteria "
            "met.\nA missing answer (criteria 2-4 are asked only where a social worker is on "
            "the team) counts as not met."
            + (
                f" Not shown: {n_hidden} combination{'s' if n_hidden != 1 else ''} of fewer "
                f"than {min_cell} clinics in a care model ("
                + (f"<{min_cell}" if is_small(clinics_hidden, min_cell) else str(clinics_hidden))
                + " clinics)."
                if n_hidden
                else ""
            ),
            ha="left",
            va="bottom",
            fontsize=7.5,
            color="#444444",
        )
        suptitle(fig, "Criteria of the integrated social worker model (Table 2)")
    return finish(fig, "Care model criteria met by clinics (Table 2)", synthetic=synthetic)
