"""Table 2's four criteria as an UpSet-style chart by ``care_model``; a missing answer is not met,
as in Table 2."""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ccanalysis.figures.theme import GROUP_COLORS, finish, group_label, style
from ccanalysis.privacy import is_small, suppress_small
from ccanalysis.vocab import CLINIC_COMPARISON, CLINIC_GROUPS, CRITERIA, MODEL_GROUP

#: Short labels of the four criteria (the specification's labels are the full questions).
CRITERIA_LABELS: dict[str, str] = {
    "sw_on_team": "1. Social worker on the CC team",
    "sw_responsible": "2. SW responsible for social services",
    "sw_interacts_patients": "3. SW interacts regularly with patients",
    "sw_interacts_clinicians": "4. SW interacts regularly with clinicians",
}


def criteria_data(clinics: pd.DataFrame) -> pd.DataFrame:
    """Clinics per combination of the criteria met (a boolean column each, ``n_met``, ``n``, each
    care model's clinics under its group), the most common first."""
    criteria = list(CRITERIA)
    met = pd.DataFrame({c: clinics[c].astype(object).eq("yes").to_numpy() for c in criteria})
    model = clinics["care_model"].astype(object).to_numpy()
    for m, g in MODEL_GROUP.items():
        met[g] = (model == m).astype(int)
    out = met.assign(n=1).groupby(criteria, sort=False)[["n", *CLINIC_GROUPS]].sum()
    out = out.reset_index().assign(n_met=lambda d: d[criteria].sum(axis=1).astype(int))
    out = out.sort_values(["n", "n_met"], ascending=False, kind="stable")
    return out[[*criteria, "n_met", "n", *CLINIC_GROUPS]].reset_index(drop=True)


def criteria_chart(
    clinics: pd.DataFrame, *, synthetic: bool, min_cell: int | None = None
) -> Figure:
    """Clinics per combination met by model (gids ``combo:<group>:<k>``) over its dot matrix, by
    each criterion's (``criterion:<name>``); ``min_cell=k``: counts under k hidden or ``<k``."""
    comparison = CLINIC_COMPARISON[0]  # the model the criteria define
    data = criteria_data(clinics)
    small = data[["n", *CLINIC_GROUPS]].map(lambda v: is_small(float(v), min_cell)).any(axis=1)
    n_hidden, clinics_hidden = int(small.sum()), int(data.loc[small, "n"].sum())
    data = data[~small].reset_index(drop=True)
    k, n_criteria = len(data), len(CRITERIA)
    with style():
        fig = Figure(figsize=(max(7.5, 4.2 + 0.5 * k), 5.55), layout="constrained")
        grid = fig.add_gridspec(2, 2, width_ratios=[1.2, max(1.4, k / 4)], height_ratios=[1.6, 1])
        ax_bar = fig.add_subplot(grid[0, 1])
        ax_dot = fig.add_subplot(grid[1, 1], sharex=ax_bar)
        ax_set = fig.add_subplot(grid[1, 0], sharey=ax_dot)
        ax_legend = fig.add_subplot(grid[0, 0])
        bottom = np.zeros(k)
        for g in CLINIC_GROUPS:
            n = data[g].to_numpy(dtype=float)
            bars = ax_bar.bar(
                range(k), n, 0.65, bottom, color=GROUP_COLORS[g], label=group_label(g)
            )
            for i, bar in enumerate(bars):
                bar.set_gid(f"combo:{g}:{i}")
            bottom += n
        ax_bar.bar_label(ax_bar.containers[-1], [str(n) for n in data["n"]], padding=2, fontsize=8)
        ax_bar.set(ylabel="Clinics", title="Clinics by the combination\nof criteria met")
        ax_bar.set_ylim(0, bottom.max() * 1.12 if k else 1)
        ax_bar.tick_params(axis="x", bottom=False, labelbottom=False)
        ax_bar.yaxis.grid(True)
        ax_legend.set_axis_off()
        ax_legend.legend(
            *ax_bar.get_legend_handles_labels(),
            loc="lower left",
            title="Care model of the clinics",
            alignment="left",
        )
        # the dot matrix: the criteria met in each combination, joined
        for j in range(0, n_criteria, 2):
            ax_dot.axhspan(j - 0.5, j + 0.5, color="#F2F2F2", lw=0, zorder=0)
        for i, row in data.iterrows():
            met = [j for j, c in enumerate(CRITERIA) if row[c]]
            ax_dot.scatter([i] * n_criteria, range(n_criteria), s=46, color="#D9D9D9", lw=0)
            if met:
                color = GROUP_COLORS[comparison] if len(met) == n_criteria else "#333333"
                ax_dot.plot([i] * len(met), met, "o-", color=color, ms=7, lw=2, gid=f"dots:{i}")
        ax_dot.set(ylim=(n_criteria - 0.5, -0.5), xlim=(-0.6, k - 0.4))
        ax_dot.set_axis_off()
        # clinics meeting each criterion (seaborn's bars), small counts hidden in privacy mode
        totals = {c: int(clinics[c].astype(object).eq("yes").sum()) for c in CRITERIA}
        counts = suppress_small(pd.DataFrame({"n": totals}), min_cell)["n"]
        shown = [0 if isinstance(v, str) else v for v in counts]
        sns.barplot(
            x=shown, y=list(range(n_criteria)), orient="h", color="#555555", width=0.55, ax=ax_set
        )
        for bar, c in zip(ax_set.containers[0], CRITERIA, strict=True):
            bar.set_gid(f"criterion:{c}")
        ax_set.invert_xaxis()  # the counts at the bars' left ends
        ax_set.bar_label(ax_set.containers[0], [str(n) for n in counts], padding=2, fontsize=7.5)
        ax_set.set_xlabel("Clinics meeting the criterion")
        ax_set.yaxis.tick_right()
        ax_set.set_yticks(range(n_criteria), [CRITERIA_LABELS[c] for c in CRITERIA])
        ax_set.tick_params(axis="y", length=0, pad=6)
        ax_set.spines[["left", "right"]].set_visible(False)
        note = (
            f"N = {len(clinics)} clinics. {group_label(comparison)} = all four criteria met.\n"
            "A missing answer (criteria 2-4 are asked only where a social worker is on the team) "
            "counts as not met."
        )
        if n_hidden:
            hidden = f"<{min_cell}" if is_small(clinics_hidden, min_cell) else clinics_hidden
            note += (
                f" Not shown: {n_hidden} combination{'s' if n_hidden != 1 else ''} of fewer than "
                f"{min_cell} clinics in a care model ({hidden} clinics)."
            )
    return finish(
        fig,
        "Care model criteria met by clinics (Table 2)",
        title="Criteria of the integrated social worker model (Table 2)",
        note=note,
        synthetic=synthetic,
        caption=f"The {len(clinics)} clinics by the combination of Table 2's four criteria they "
        "meet, stacked by care model, over a dot matrix of the criteria in each combination, "
        "beside the clinics meeting each criterion: counts; no intervals.",
        alt="An UpSet-style chart: bars of clinics per combination of the four criteria, coloured "
        "by care model, above dots marking each combination's criteria; the integrated model is "
        "the combination with all four.",
        classified=clinics,
    )
