"""Coverage of the printed 95% intervals of a difference in proportions, simulated on the
study's design (SYNTHETIC); a tool (``make coverage``), imported by no library module.

Outcome beta-binomial by care system (one uniform per system, its beta quantile in each model, so
the models of a mixed system move together). Intervals: Newcombe; Newcombe on design-effect-adjusted
counts at t(CR2 Satterthwaite df) (the primary); Mancl-DeRouen SE at t(K - 2); CR2 at Satterthwaite
df; cluster bootstrap percentile and bootstrap-t. The sandwich terms are ``stats.clustered``'s
closed form, over all data sets at once. Data sets flagged sparse get Newcombe only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from numpy.typing import NDArray
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from ccanalysis.io import write_csv
from ccanalysis.paths import Paths
from ccanalysis.stats.bootstrap import percentile_interval, resample
from ccanalysis.stats.clustered import design_effects, sandwich, satterthwaite_df
from ccanalysis.vocab import DEFAULT_SEED

#: The committed result (``tables/`` is output, ignored by git); the 04 notebook shows it.
COMMITTED = Path("data") / "coverage" / "coverage.csv"
ICCS = (0.0, 0.05, 0.2)
PREVALENCES = (0.05, 0.3, 0.5)
DIFFERENCES = (0.0, 0.1)
DATASETS = 2000
#: Bootstrap replicates per data set: few, as 2,000 data sets average their error out.
REPLICATES = 199
METHODS = (
    "newcombe",
    "newcombe_cr2",
    "md_t_k2",
    "cr2_satterthwaite",
    "bootstrap_percentile",
    "bootstrap_t",
)
#: The interval the clustered analysis uses for a proportion (``primary`` in the table).
PRIMARY = "newcombe_cr2"
LOW, HIGH = 93.0, 97.0
CONF = 0.95
SIMULATED = (
    "SYNTHETIC (simulated) data: coverage of 95% intervals on the study's design, not survey "
    f"responses; band {LOW:.0f}-{HIGH:.0f}%"
)
_CHUNK = 100  # data sets per bootstrap block (memory: CHUNK x REPLICATES x systems)


def design(clinics: pd.DataFrame) -> NDArray[np.int64]:
    """Clinics per care model and system, ``m`` (2 x K: medical/nursing, integrated)."""
    ok = clinics[clinics["care_model"].notna()]
    m = pd.crosstab(ok["care_model"].eq("integrated_sw"), ok["care_system_id"])
    return m.reindex([False, True], fill_value=0).to_numpy(np.int64)


def simulate(
    rng: np.random.Generator, m: NDArray[np.int64], icc: float, p: Sequence[float], n: int
) -> NDArray[np.float64]:
    """Events per data set, model and system, (n, 2, K): beta-binomial by system (see above)."""
    k, prob = m.shape[1], np.array(p)[None, :, None]
    if icc > 0:  # one uniform per system, its beta quantile in each model
        prob = stats.beta.ppf(
            rng.random((n, 1, k)), prob * (1 - icc) / icc, (1 - prob) * (1 - icc) / icc
        )
    return rng.binomial(np.broadcast_to(m, (n, 2, k)), prob).astype(float)


def newcombe(s: NDArray, m: NDArray, df: float = math.inf) -> tuple[NDArray, NDArray]:
    """Newcombe's interval per data set; with ``df`` finite, ``stats.clustered.newcombe_cr2``."""
    deff = np.ones(s.shape[:-1]) if math.isinf(df) else design_effects(s, m)
    e, n = s.sum(axis=-1) / deff, m.sum(axis=-1) / deff
    alpha = 2 * stats.norm.sf(stats.t.isf((1 - CONF) / 2, df))
    lo, hi = confint_proportions_2indep(
        e[..., 1], n[..., 1], e[..., 0], n[..., 0], method="newcomb", compare="diff", alpha=alpha
    )
    return np.asarray(lo), np.asarray(hi)


def sparse(s: NDArray, m: NDArray) -> NDArray[np.bool_]:
    """Data sets ``sensitivity.inputs.sparse_rows`` flags: a group with at most 2 events or
    non-events, or either in fewer than 3 care systems."""
    few = lambda x: (x.sum(axis=-1) <= 2).any(axis=-1) | ((x.sum(axis=-2) > 0).sum(axis=-1) < 3)  # noqa: E731
    return few(s) | few(m - s)


def bootstrap(
    s: NDArray, m: NDArray, replicates: int, seed: int
) -> tuple[tuple[NDArray, NDArray], tuple[NDArray, NDArray]]:
    """Percentile and bootstrap-t intervals per data set, resampling care systems."""
    n_sets, _, k = s.shape
    d, se = sandwich(s, m, "cr2")
    reps, tstat = np.empty((n_sets, replicates)), np.empty((n_sets, replicates))
    for start in range(0, n_sets, _CHUNK):
        stop = min(start + _CHUNK, n_sets)
        w = next(resample(k, (stop - start) * replicates, seed + start, chunk=10**9))
        w = w.reshape(stop - start, replicates, 1, k)
        rep, se_rep = sandwich(s[start:stop, None], np.where(w > 0, m, 0), "cr2", w)
        reps[start:stop] = rep
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (rep - d[start:stop, None]) / se_rep
        tstat[start:stop] = np.where(se_rep > 0, t, np.nan)
    t_lo, t_hi = percentile_interval(tstat.T)
    return percentile_interval(reps.T), (d - t_hi * se, d - t_lo * se)


def intervals(
    s: NDArray, m: NDArray, replicates: int, seed: int
) -> dict[str, tuple[NDArray, NDArray]]:
    """The clustered intervals (``METHODS`` but Newcombe's) of every data set, 95%."""
    k = m.shape[1]
    d, se3 = sandwich(s, m, "cr3")
    _, se2 = sandwich(s, m, "cr2")
    q3, q2 = stats.t.ppf(1 - (1 - CONF) / 2, [k - 2, satterthwaite_df(m)])
    percentile, boot_t = bootstrap(s, m, replicates, seed)
    return {
        "md_t_k2": (d - q3 * se3, d + q3 * se3),
        "cr2_satterthwaite": (d - q2 * se2, d + q2 * se2),
        "newcombe_cr2": newcombe(s, m, satterthwaite_df(m)),
        "bootstrap_percentile": percentile,
        "bootstrap_t": boot_t,
    }


def cell(m: NDArray[np.int64], icc: float, prevalence: float, difference: float) -> list[dict]:
    """The coverage rows of one cell: data sets drawn until ``DATASETS`` are not sparse."""
    key = [round(1000 * x) for x in (icc, prevalence, difference)]
    rng = np.random.default_rng([DEFAULT_SEED, *key])
    p = (prevalence, prevalence + difference)
    drawn = simulate(rng, m, icc, p, DATASETS)
    while (~sparse(drawn, m)).sum() < DATASETS and len(drawn) < 20 * DATASETS:
        drawn = np.concatenate([drawn, simulate(rng, m, icc, p, DATASETS)])
    kept = drawn[~sparse(drawn, m)][:DATASETS]
    found = {**intervals(kept, m, REPLICATES, DEFAULT_SEED), "newcombe": newcombe(drawn, m)}
    rows = []
    for method in METHODS:
        lo, hi = found[method]
        hit = (lo <= difference + 1e-12) & (difference - 1e-12 <= hi)
        cov = float(hit.mean())
        rows.append(
            {
                "method": method,
                "icc": icc,
                "prevalence": prevalence,
                "difference": difference,
                "datasets": len(lo),
                "coverage": round(100 * cov, 2),
                "mc_se": round(100 * math.sqrt(cov * (1 - cov) / len(lo)), 2),
                "primary": method == PRIMARY,
            }
        )
    return rows


def wide(table: pd.DataFrame) -> pd.DataFrame:
    """Coverage (%) by cell (rows) and method (columns, ``METHODS`` order), as a notebook shows it."""
    out = table.pivot_table(
        index=["icc", "prevalence", "difference"], columns="method", values="coverage"
    )
    return out[[m for m in METHODS if m in out]].reset_index()


def choice(table: pd.DataFrame) -> str:
    """The primary interval's coverage, its cells outside the band, and the interval nearest it."""
    within = table["coverage"].between(LOW, HIGH).groupby(table["method"]).sum()
    prim = table[table["primary"]]
    name, n_in = prim["method"].iloc[0], int(prim["coverage"].between(LOW, HIGH).sum())
    text = (
        f"The clustered analysis uses {name} for a proportion: its 95% interval covered the true "
        f"difference in {prim['coverage'].min():.1f}-{prim['coverage'].max():.1f}% of at least "
        f"{prim['datasets'].min()} simulated data sets per cell (Monte Carlo SE at most "
        f"{prim['mc_se'].max():.1f} points), within {LOW:.0f}-{HIGH:.0f}% in {n_in} of "
        f"{len(prim)} cells"
    )
    outside = "; ".join(
        f"ICC {r.icc:g}, prevalence {100 * r.prevalence:g}%, difference {100 * r.difference:g} "
        f"points: {r.coverage:.2f}% ("
        + (f"{r.coverage - HIGH:.2f} above {HIGH:.0f}" if r.coverage > HIGH else "")
        + (f"{LOW - r.coverage:.2f} below {LOW:.0f}" if r.coverage < LOW else "")
        + ")"
        for r in prim[~prim["coverage"].between(LOW, HIGH)].itertuples()
    )
    text += f"; outside: {outside}." if n_in < len(prim) else "."
    best = within.sort_values(ascending=False, kind="stable")
    cells = " Cells within, by interval: " + ", ".join(f"{m} {n}" for m, n in best.items()) + "."
    if n_in == len(prim):
        return text + cells
    holds = list(within[within == len(prim)].index)
    misses = [
        f"{word} by at most {gap:.2f} points"
        for word, gap in (
            ("over-cover", (prim["coverage"] - HIGH).max()),
            ("under-cover", (LOW - prim["coverage"]).max()),
        )
        if gap > 0
    ]
    gap = np.maximum(table["coverage"] - HIGH, LOW - table["coverage"]).clip(lower=0)
    worst = gap.groupby(table["method"]).max().sort_values(kind="stable")
    other = worst.drop(name)
    nearest = (
        f"No other interval departs less from the band (next: {other.index[0]}, up to "
        f"{other.iloc[0]:.2f} points)."
        if worst[name] <= other.iloc[0]
        else f"Nearer the band: {other.index[0]} (up to {other.iloc[0]:.2f} points outside)."
    )
    return (
        text
        + f" {' and '.join(holds) if holds else 'No interval'} holds {LOW:.0f}-{HIGH:.0f}% in "
        + f"every cell; the primary, {name}, is within the band in {n_in} of {len(prim)} cells "
        + f"and its misses {' and '.join(misses)}. {nearest}"
        + cells
    )


def figure(table: pd.DataFrame) -> matplotlib.figure.Figure:
    """Coverage by method, one panel per ICC, with the 93-97% band (seaborn)."""
    data = table.assign(
        cell=[f"p={p:g}, d={d:g}" for p, d in zip(table.prevalence, table.difference, strict=True)],
        method=table["method"].where(~table["primary"], table["method"] + " (primary)"),
    )
    grid = sns.catplot(
        data=data,
        x="coverage",
        y="method",
        hue="cell",
        col="icc",
        kind="point",
        linestyle="none",
        dodge=0.5,
        height=3.2,
        aspect=1.0,
    )
    for ax in grid.axes.flat:
        ax.axvspan(LOW, HIGH, color="0.9", zorder=0)
        ax.axvline(100 * CONF, color="0.5", lw=0.8)
    grid.set_axis_labels("coverage of the 95% interval (%)", "")
    grid.figure.suptitle(SIMULATED, y=1.02, fontsize=8)
    return grid.figure


def main() -> int:
    """``python -m ccanalysis.coverage``: every cell of ``ICCS`` x ``PREVALENCES`` x ``DIFFERENCES``
    (the coverage table) to ``COMMITTED``, the figure."""
    paths = Paths.of()
    m = design(pd.read_parquet(paths.processed / "clinics.parquet"))
    grid = itertools.product(ICCS, PREVALENCES, DIFFERENCES)
    table = pd.DataFrame([row for c in grid for row in cell(m, *c)])
    for out in (paths.tables / "coverage.csv", paths.root / COMMITTED):
        write_csv(table, out)
    fig = figure(table)
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
        fig.savefig(paths.figures / f"coverage.{ext}", dpi=200, bbox_inches="tight", metadata=meta)
    print(choice(table))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
