"""Sensitivity analyses of the care model comparison (Tables 3 and 4 of Solberg et al. 2024).

Two questions, one long output table (``tables/sensitivity.csv``).

1. Confounding by rurality and organisational size: the paper's sensitivity analysis
   ---------------------------------------------------------------------------------
   :func:`standardize` directly standardizes every row of Tables 3 and 4 of the specification by
   rurality x care-system size (urban/rural x small/medium/large: 6 strata). For a level row the
   measure is the share of clinics answering that level (a collapsed row: any of its combined
   levels) among the clinics that answered the item; for a mean (SD) row it is the mean.

   * ``target="isw"`` (the paper's; the default): the medical/nursing clinics are reweighted to the
     integrated clinics' distribution over the strata. The weights are the stratum shares of the
     integrated clinics **that answered the item**, so the integrated clinics' standardized value is
     their crude value, and only the medical/nursing value moves.
   * ``target="total"``: both models are reweighted to the distribution of all clinics that answered.

   The standardized difference is isw - mn again (percentage points for level rows, ``pp_diff``;
   the mean difference for mean rows, ``mean_diff``). The unadjusted difference (``unadjusted``) is
   computed by the same code with one stratum, so the two are directly comparable.

   Intervals: a seeded bootstrap, clinics resampled with replacement within care model (B = 2000 by
   default), 95% percentile interval (numpy's default linear quantile, R type 7). ``p`` of these
   rows is the bootstrap p-value of the percentile interval's inversion,
   ``min(1, 2 min(P*(d <= 0), P*(d >= 0)))``. Replicates are computed without pandas: each block of
   100 replicates draws an index matrix per model (``Generator.integers``), turns it into a matrix of
   multiplicities with ``np.bincount``, and one matrix product with a (clinic x row.stratum)
   indicator matrix gives every row's stratum counts and sums at once. Blocks of 100 replicates
   make replicate b the same for every B >= b and independent of the memory chunking.

   Sparse and empty strata. A stratum that carries target weight but has fewer than ``min_cell``
   (default 5) answering clinics of a model that must be reweighted into it (target isw: the
   medical/nursing clinics; target total: both models) is not standardized on its own. With
   ``empty="collapse"`` (default) it is merged with its nearest neighbour: first the adjacent
   care-system size within the same rurality (the neighbour with more answers of the short model),
   and only when a rurality is down to one block, with the other rurality; merging repeats until
   every block is filled (one block = the crude comparison). With ``empty="drop"`` the stratum is
   dropped from the weights, which are renormalized over the rest (the estimand changes: the note
   says which share of the target was dropped). Either way the ``note`` says what was done.
   ``min_cell=1`` standardizes on every non-empty stratum; the default 5 exists for the bootstrap:
   a cell of m clinics is missing from a resample with probability about exp(-m) (37% for one
   clinic), and then the replicate has to patch it: the cell borrows the model's mean over the
   cell's rurality (all sizes; failing that, the model's overall mean), i.e. the collapse rule
   applied inside the replicate (``empty="drop"``: the cell is left out and the weights
   renormalized). The note counts such replicates. Clinics without rurality or system size are
   left out of the standardized rows (not of the unadjusted ones); the note counts them.

   Conclusion of a row: the sign and significance of its difference, i.e. ``higher`` (95% interval
   above 0), ``lower`` (below 0) or ``no difference`` (the interval covers 0). The conclusion
   *changes* when the unadjusted and the standardized rows disagree; :func:`conclusions` writes a
   sentence for each such row.

2. Clustering: what the paper left out
   -----------------------------------
   The 317 clinics are not independent: 213 coordinators answered for them, within 42 care systems.
   :func:`cluster_robust` fits, for every binary and collapsed row of Tables 3 and 4 (and, by default,
   every level of a full-scale item, as "this level vs the others"), a GEE logistic model
   (``Binomial`` family, logit link, ``Exchangeable`` working correlation) of the row's indicator on
   care model (isw = 1), once with care systems (``gee_care_system``) and once with coordinators
   (``gee_coordinator``) as clusters, with robust (sandwich) standard errors
   (``cov_type="bias_reduced"`` gives Mancl-DeRouen's small-sample correction). The default
   ``engine="numpy"`` runs statsmodels' ``GEE.fit`` algorithm step for step with the per-cluster
   Python loops replaced by ``np.bincount`` sums (about 15 times faster; the tests check it agrees
   with statsmodels ``GEE`` to 1e-10); ``engine="statsmodels"`` calls statsmodels itself.
   Reported:

   * ``odds_ratio``: exp(b1) with the Wald interval exp(b1 +- 1.96 se), p its Wald p;
   * ``risk_diff``: a difference of **proportions** (-1..1, not percentage points) of the model's
     marginal predictions, expit(b0 + b1) - expit(b0), with the delta-method interval from the robust
     covariance (gradient ``(p1 q1 - p0 q0, p1 q1)``). A GEE with an identity link was not used: it
     is not guaranteed to keep predictions inside (0, 1) and often fails to converge.

   Beside them, the naive (independent clinics) analysis ``naive_logistic``: ordinary logistic
   regression on the same indicator. With one binary covariate it is saturated and has a closed
   form (log OR = log(a d / b c), se^2 = 1/a + 1/b + 1/c + 1/d; the delta-method risk difference is
   the Wald difference of proportions), which is what is computed (the tests check it equals
   statsmodels' ``Logit``). ``naive_newcombe`` adds Newcombe's hybrid score interval of the risk
   difference (``ccanalysis.stats.newcombe_diff``; no p-value), which exists for 0% too.

   Degenerate rows (0% or 100% in a model, e.g. video visits; no answers; a single cluster) are not
   fitted: estimates are NaN and the note says why. When the exchangeable fit fails (no
   convergence, or a negative correlation at or below -1/(m - 1), m the largest cluster, which is
   no valid correlation matrix: it happens with a few large care systems), the row is refitted
   with the independence working correlation (still robust, clustered standard errors) and the
   note says so; ``rho`` is then NaN. Other model warnings go to the note.

   "Which conclusions survive" (:func:`survival`): a row whose naive odds ratio is significant
   survives a clustering when the clustered interval still excludes 1.

Output columns (:data:`COLUMNS`): ``table, item, level, analysis, measure, estimate, ci_low, ci_high,
p, note``, then ``label, value_mn, value_isw, n_mn, n_isw, clusters, rho``: the spec label, the two
models' values under that analysis (percent for level rows, means, or the model's marginal
predictions in percent), the answering clinics per model, the number of clusters and the estimated
exchangeable working correlation of the GEE rows.
"""

from __future__ import annotations

import html
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from io import StringIO
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse, special

from ccanalysis.io import write_csv, write_text
from ccanalysis.vocab import DEFAULT_SEED, SYNTHETIC_LABEL

__all__ = [
    "ANALYSES",
    "COLUMNS",
    "DEFAULT_SEED",
    "changes",
    "cluster_robust",
    "conclusions",
    "display_tables",
    "gee_fit",
    "naive_logistic",
    "render",
    "run",
    "spec_rows",
    "standardize",
    "strata",
    "survival",
    "verdict",
    "write",
]

#: Analysis ids, in display order.
ANALYSES: tuple[str, ...] = (
    "unadjusted",
    "standardized_isw",
    "standardized_total",
    "naive_logistic",
    "naive_newcombe",
    "gee_care_system",
    "gee_coordinator",
)
COLUMNS: tuple[str, ...] = (
    "table",
    "item",
    "level",
    "analysis",
    "measure",
    "estimate",
    "ci_low",
    "ci_high",
    "p",
    "note",
    "label",
    "value_mn",
    "value_isw",
    "n_mn",
    "n_isw",
    "clusters",
    "rho",
)
TABLES: tuple[str, ...] = ("table3", "table4")
#: Clusterings of :func:`cluster_robust`: analysis suffix -> column of the clinic frame.
CLUSTERINGS: dict[str, str] = {"care_system": "care_system_id", "coordinator": "coordinator_id"}
SIZES: tuple[str, ...] = ("small", "medium", "large")
#: The 6 strata, in code order: urban small/medium/large, then rural small/medium/large.
STRATA: tuple[str, ...] = tuple(f"{r}/{s}" for r in ("urban", "rural") for s in SIZES)
_K = len(STRATA)
_BOOT_BLOCK = 100  # replicates per random draw (keeps the stream independent of chunking)
_MAX_CELLS = 8_000_000  # multiplicity-matrix entries per matrix product (memory bound)
# scipy.special's ndtri/ndtr are what scipy.stats.norm.ppf/sf compute with (the same numbers),
# without importing scipy.stats (~0.6 s, nothing else of the stage needs it)
Z95 = float(special.ndtri(0.975))
TITLE_STD = (
    "Sensitivity analysis: care model differences (isw - mn) before and after direct "
    "standardization by rurality x care-system size"
)
TITLE_CLU = (
    "Sensitivity analysis: care model differences with clinics clustered by care system "
    "or by coordinator (GEE, exchangeable working correlation)"
)


# ---------------------------------------------------------------------------------------------
# Inputs: rows of the specification, indicators, groups, strata
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One row of Table 3 or 4 as the sensitivity analyses need it."""

    table: str
    section: str
    item: str
    level: str
    label: str
    shown: str
    levels: tuple[str, ...]  # answer levels counted (combined ones for collapsed rows)
    continuous: bool
    all_denominator: bool  # denominator "all": a missing answer counts as not the level

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.table, self.item, self.level)

    @property
    def display(self) -> str:
        section = self.section.strip().rstrip(":").strip()
        return f"{section}: {self.label}" if section else self.label


def _default_spec() -> pd.DataFrame:
    text = resources.files("ccanalysis").joinpath("specs/tables.csv").read_text("utf-8")
    return pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)


def spec_rows(spec: pd.DataFrame | None = None, tables: Sequence[str] = TABLES) -> list[Row]:
    """The specification's rows of ``tables`` (default Tables 3 and 4) in their printed order."""
    spec = _default_spec() if spec is None else spec
    fields = (
        "table",
        "section",
        "item",
        "level",
        "label",
        "stat",
        "shown",
        "combine",
        "denominator",
    )
    # each column as a list of stripped strings (missing -> ""), element by element in Python:
    # the pandas chain (astype, where, map, str.strip) costs several times more on ~100 rows
    cols: dict[str, list[str]] = {}
    for col in fields:
        if col in spec.columns:
            values = zip(spec[col].tolist(), spec[col].isna().to_numpy(), strict=True)
            cols[col] = ["" if na else str(v).strip() for v, na in values]
        else:
            cols[col] = [""] * len(spec)
    wanted = set(tables)
    rows = []
    for vals in zip(*(cols[c] for c in fields), strict=True):
        r = dict(zip(fields, vals, strict=True))
        if r["table"] not in wanted:
            continue
        continuous = r["stat"] == "mean_sd"
        if r["shown"] == "collapsed":
            levels = tuple(lv.strip() for lv in r["combine"].split("+") if lv.strip())
        else:
            levels = (r["level"],)
        rows.append(
            Row(
                r["table"],
                r["section"],
                r["item"],
                "" if continuous else r["level"],
                r["label"],
                r["shown"],
                () if continuous else levels,
                continuous,
                r["denominator"] == "all",
            )
        )
    if not rows:
        raise ValueError(f"the specification has no rows of {list(tables)}")
    return rows


def _groups(clinics: pd.DataFrame) -> NDArray[np.int8]:
    """0 = mn, 1 = isw, -1 = neither (left out)."""
    if "group" in clinics.columns:
        g = clinics["group"].astype("object")
        mapping = {"mn": 0, "isw": 1}
    elif "care_model" in clinics.columns:
        g = clinics["care_model"].astype("object")
        mapping = {"medical_nursing": 0, "integrated_sw": 1}
    else:
        raise KeyError("the clinic frame has neither 'group' nor 'care_model' (run classify first)")
    return np.array([mapping.get(v, -1) if isinstance(v, str) else -1 for v in g], dtype=np.int8)


def strata(clinics: pd.DataFrame) -> NDArray[np.int64]:
    """Stratum code 0-5 of every clinic (see :data:`STRATA`), -1 when urban or size is missing."""
    for col in ("urban", "system_size"):
        if col not in clinics.columns:
            raise KeyError(f"the clinic frame lacks {col!r} (derived by ccanalysis.clean)")
    urban = clinics["urban"].astype("object")
    size = clinics["system_size"].astype("object")
    out = np.full(len(clinics), -1, dtype=np.int64)
    for i, (u, s) in enumerate(zip(urban, size, strict=True)):
        if pd.isna(u) or s not in SIZES:
            continue
        out[i] = (0 if bool(u) else 3) + SIZES.index(s)
    return out


def _indicator(
    clinics: pd.DataFrame,
    row: Row,
    cache: dict[tuple[str, bool], tuple[object, NDArray[np.bool_]]] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The row's values (0/1 indicator, or the numeric answer) and which clinics answered.

    ``cache``: a dict shared by the rows of one call; it keeps each item's converted column, which
    the rows of a full-scale item share (converting is most of the cost).
    """
    if row.item not in clinics.columns:
        raise KeyError(f"the clinic frame lacks the item {row.item!r} ({row.table})")
    cache = {} if cache is None else cache
    key = (row.item, row.continuous)
    if key not in cache:
        col = clinics[row.item].astype("object")
        if row.continuous:
            y = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            cache[key] = (y, np.isfinite(y))
        else:
            cache[key] = (col, col.notna().to_numpy(dtype=bool))
    values, valid = cache[key]
    if row.continuous:
        y = values
    else:
        y = values.isin(list(row.levels)).to_numpy(dtype=float)
        if row.all_denominator:
            valid = np.ones(len(y), dtype=bool)
    return np.where(valid, y, 0.0), valid.copy()


def _measure(row: Row) -> str:
    return "mean_diff" if row.continuous else "pp_diff"


def _scale(row: Row) -> float:
    return 1.0 if row.continuous else 100.0


# ---------------------------------------------------------------------------------------------
# 1. Direct standardization
# ---------------------------------------------------------------------------------------------


def _sparse_text(min_cell: int) -> str:
    if min_cell <= 1:
        return "without answers of a model"
    return f"with fewer than {min_cell} answers of a model"


def _collapse(
    cnt: NDArray[np.int64], target: str, mode: str, min_cell: int
) -> tuple[NDArray[np.int64], NDArray[np.bool_], str]:
    """Blocks of strata for one row: (block id per stratum, kept block mask, note).

    ``cnt``: answers per model (0 mn, 1 isw) and stratum, shape (2, 6).
    """
    tot = cnt.sum(axis=0)
    need = (cnt[1] if target == "isw" else tot) > 0
    short_models = (0,) if target == "isw" else (0, 1)
    blocks: list[list[int]] = [[k] for k in range(_K)]

    def deficient(b: list[int]) -> bool:
        return bool(need[b].any()) and any(cnt[g, b].sum() < min_cell for g in short_models)

    def name(b: list[int]) -> str:
        return "+".join(STRATA[k] for k in b)

    notes: list[str] = []
    if mode == "drop":
        keep = np.ones(_K, dtype=bool)
        dropped = [k for k in range(_K) if deficient([k])]
        if dropped:
            keep[dropped] = False
            base = cnt[1] if target == "isw" else tot
            share = 100.0 * base[dropped].sum() / max(base.sum(), 1)
            notes.append(
                f"dropped stratum {', '.join(STRATA[k] for k in dropped)} "
                f"({_sparse_text(min_cell)}; {share:.1f}% of the target weight), "
                "weights renormalized"
            )
        return np.arange(_K), keep, "; ".join(notes)
    if mode != "collapse":
        raise ValueError(f"empty must be 'collapse' or 'drop', not {mode!r}")
    while len(blocks) > 1:
        bad = [b for b in blocks if deficient(b)]
        if not bad:
            break
        b = bad[0]
        rural = {k // 3 for k in b}
        same = [o for o in blocks if o is not b and {k // 3 for k in o} == rural]
        pool = same if same else [o for o in blocks if o is not b]

        def distance(o: list[int], b: list[int] = b) -> tuple[int, float, int]:
            gap = min(abs(k % 3 - j % 3) + 3 * abs(k // 3 - j // 3) for k in b for j in o)
            short = min(cnt[g, o].sum() for g in short_models)
            return (gap, -float(short), min(o))

        other = min(pool, key=distance)
        merged = sorted(b + other)
        notes.append(f"merged {name(b)} with {name(other)}")
        blocks = [o for o in blocks if o is not b and o is not other] + [merged]
    block_of = np.empty(_K, dtype=np.int64)
    for b in blocks:
        block_of[b] = min(b)
    note = ""
    if notes:
        note = f"strata {_sparse_text(min_cell)} collapsed: " + "; ".join(notes)
    return block_of, np.ones(_K, dtype=bool), note


def _multiplicities(rng: np.random.Generator, n: int, b: int) -> NDArray[np.float64]:
    """(b, n) counts of each unit in b bootstrap resamples of n units."""
    if n == 0:
        return np.zeros((b, 0))
    idx = rng.integers(0, n, size=(b, n))
    flat = (np.arange(b)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)


def _std_stats(
    cnt: list[NDArray[np.float64]],
    sums: list[NDArray[np.float64]],
    keep: NDArray[np.bool_],
    target: str,
    mode: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Standardized values of both models from per-stratum counts and sums, shape (..., J, K).

    Returns (value_mn, value_isw, patched): the last flags replicates where a weighted stratum
    had no answers of a model. Such a stratum borrows the model's mean over its rurality (all
    sizes), or failing that the model's overall mean (``mode="collapse"``: the collapse rule
    applied inside the replicate), or is left out and the weights renormalized (``"drop"``).
    """
    base = cnt[1] if target == "isw" else cnt[0] + cnt[1]
    w = base * keep
    out = []
    patched = np.zeros(w.shape[:-1], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        for g in (0, 1):
            has = cnt[g] > 0
            empty = (w > 0) & ~has
            patched |= empty.any(axis=-1)
            mean = np.where(has, sums[g] / np.where(has, cnt[g], 1.0), 0.0)
            if mode == "drop":
                wg = w * has
                out.append((wg * mean).sum(axis=-1) / wg.sum(axis=-1))
                continue
            shape = (*cnt[g].shape[:-1], 2, _K // 2)
            c_r = np.repeat(cnt[g].reshape(shape).sum(axis=-1), _K // 2, axis=-1)
            s_r = np.repeat(sums[g].reshape(shape).sum(axis=-1), _K // 2, axis=-1)
            c_all = cnt[g].sum(axis=-1, keepdims=True)
            s_all = sums[g].sum(axis=-1, keepdims=True)
            fallback = np.where(c_r > 0, s_r / np.where(c_r > 0, c_r, 1.0), s_all / c_all)
            mean = np.where(has, mean, fallback)
            out.append((w * mean).sum(axis=-1) / w.sum(axis=-1))
    return out[0], out[1], patched


def _percentile(
    boot: NDArray[np.float64], est: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Percentile 95% interval and bootstrap p per column (NaN replicates ignored)."""
    ok = np.isfinite(boot)
    n_ok = ok.sum(axis=0)
    lo = np.full(boot.shape[1], np.nan)
    hi = np.full(boot.shape[1], np.nan)
    p = np.full(boot.shape[1], np.nan)
    wanted = (n_ok > 0) & np.isfinite(est)
    # columns without NaN replicates all at once (the quantile and the mean of each column are
    # computed exactly as for the column alone), the others one by one
    full = np.flatnonzero(wanted & (n_ok == boot.shape[0]))
    if len(full):
        x = boot[:, full]
        lo[full], hi[full] = np.quantile(x, [0.025, 0.975], axis=0)
        p[full] = np.minimum(
            1.0, 2.0 * np.minimum(np.mean(x <= 0, axis=0), np.mean(x >= 0, axis=0))
        )
    for j in np.flatnonzero(wanted & (n_ok < boot.shape[0])):
        x = boot[ok[:, j], j]
        lo[j], hi[j] = np.quantile(x, [0.025, 0.975])
        p[j] = min(1.0, 2.0 * min(np.mean(x <= 0), np.mean(x >= 0)))
    return lo, hi, p


def standardize(
    clinics: pd.DataFrame,
    spec: pd.DataFrame | None = None,
    *,
    target: str | Sequence[str] = "isw",
    n_boot: int = 2000,
    seed: int | None = DEFAULT_SEED,
    empty: Literal["collapse", "drop"] = "collapse",
    min_cell: int = 5,
    tables: Sequence[str] = TABLES,
) -> pd.DataFrame:
    """Unadjusted and directly standardized isw - mn differences of every row of ``tables``.

    ``target``: ``"isw"`` (the medical/nursing clinics reweighted to the integrated clinics'
    strata), ``"total"`` (both models to all clinics'), or both (a sequence). ``empty`` and
    ``min_cell``: what is done with strata with fewer than ``min_cell`` answering clinics of a
    model (see the module notes). Returns the long format of :data:`COLUMNS` with analyses
    ``unadjusted`` and ``standardized_<target>``.
    """
    targets = [target] if isinstance(target, str) else list(target)
    for t in targets:
        if t not in ("isw", "total"):
            raise ValueError(f"target must be 'isw' or 'total', not {t!r}")
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")
    rows = spec_rows(spec, tables)
    group = _groups(clinics)
    stratum = strata(clinics)
    n_j = len(rows)
    ys = np.empty((len(clinics), n_j))
    vs = np.empty((len(clinics), n_j), dtype=bool)
    converted: dict[tuple[str, bool], tuple[object, NDArray[np.bool_]]] = {}
    for j, row in enumerate(rows):
        ys[:, j], vs[:, j] = _indicator(clinics, row, converted)

    # per row and target: blocks of strata (collapse) or kept strata (drop), from the data
    has_stratum = stratum >= 0
    onehot = np.zeros((len(clinics), _K))
    onehot[np.flatnonzero(has_stratum), stratum[has_stratum]] = 1.0
    # answers per row, model and stratum, shape (J, 2, K), in one product per model (sums of
    # 0/1, exact in floating point)
    counts = np.stack(
        [((vs & (group == g)[:, None]).T.astype(float) @ onehot).astype(np.int64) for g in (0, 1)],
        axis=1,
    )
    plans: dict[str, tuple[NDArray[np.int64], NDArray[np.bool_], list[str]]] = {}
    for t in targets:
        block_of = np.empty((n_j, _K), dtype=np.int64)
        keep = np.empty((n_j, _K), dtype=bool)
        notes = []
        for j in range(n_j):
            block_of[j], keep[j], note = _collapse(counts[j], t, empty, min_cell)
            notes.append(note)
        plans[t] = (block_of, keep, notes)

    # sparse design per model, transposed: rows = [counts | sums] x [crude (J) | per target J x K
    # blocks]; column i = clinic i of the model. One product with the multiplicity matrix gives
    # every row's (resampled) answers and sums per block.
    n_cols = n_j * (1 + _K * len(targets))

    def design(g: int) -> sparse.csr_matrix:
        m = np.flatnonzero(group == g)
        v, y, st = vs[m].T.copy(), ys[m].T.copy(), stratum[m]  # row-major per spec row
        # 32-bit indices (what the sparse matrix keeps anyway): the index arrays are the peak
        # memory of the whole analysis at scale (95,000 clinics: 1.4 GB with 64-bit ones)
        rows_i, cols, vals = [], [], []
        for j in range(n_j):
            ok = np.flatnonzero(v[j]).astype(np.int32)
            yj = y[j, ok]
            rows_i.append(ok)
            cols.append(np.full(len(ok), j, dtype=np.int32))
            vals.append(yj)
            has = st[ok] >= 0
            for i, t in enumerate(targets):
                rows_i.append(ok[has])
                block = plans[t][0][j, st[ok[has]]]
                cols.append((n_j + (i * n_j + j) * _K + block).astype(np.int32))
                vals.append(yj[has])
        r, c, val = np.concatenate(rows_i), np.concatenate(cols), np.concatenate(vals)
        del rows_i, cols, vals, v, y  # the pieces, copied: not kept through the conversion
        nz = val != 0
        out = sparse.csr_matrix(
            (
                np.concatenate([np.ones(len(r)), val[nz]]),
                (np.concatenate([c, c[nz] + n_cols]), np.concatenate([r, r[nz]])),
            ),
            shape=(2 * n_cols, len(m)),
        )
        out.sort_indices()
        return out

    mats = [design(0), design(1)]
    n_g = [int((group == g).sum()) for g in (0, 1)]

    def evaluate(wts: list[NDArray[np.float64]]) -> dict[str, tuple[NDArray, NDArray, NDArray]]:
        """{analysis: (value_mn, value_isw, renormalized)} for multiplicity matrices (B, n_g)."""
        prod = [np.asarray(mats[g] @ wts[g].T).T for g in (0, 1)]
        c = [p[:, :n_cols] for p in prod]
        s = [p[:, n_cols:] for p in prod]
        res = {}
        with np.errstate(invalid="ignore", divide="ignore"):
            res["unadjusted"] = (
                s[0][:, :n_j] / c[0][:, :n_j],
                s[1][:, :n_j] / c[1][:, :n_j],
                np.zeros((len(c[0]), n_j), dtype=bool),
            )
        for i, t in enumerate(targets):
            sl = slice(n_j + i * n_j * _K, n_j + (i + 1) * n_j * _K)
            shape = (len(c[0]), n_j, _K)
            res[f"standardized_{t}"] = _std_stats(
                [c[0][:, sl].reshape(shape), c[1][:, sl].reshape(shape)],
                [s[0][:, sl].reshape(shape), s[1][:, sl].reshape(shape)],
                plans[t][1][None, :, :],
                t,
                empty,
            )
        return res

    point = evaluate([np.ones((1, n_g[0])), np.ones((1, n_g[1]))])
    rng = np.random.default_rng(seed)
    boot: dict[str, list[NDArray]] = {a: [] for a in point}
    renorm_count = {a: np.zeros(n_j, dtype=np.int64) for a in point}
    per_product = max(1, _MAX_CELLS // max(1, max(n_g)))
    done = 0
    while done < n_boot:
        b = min(_BOOT_BLOCK, n_boot - done)
        w_blocks = [_multiplicities(rng, n_g[0], b), _multiplicities(rng, n_g[1], b)]
        for start in range(0, b, per_product):
            part = [w[start : start + per_product] for w in w_blocks]
            for a, (m0, m1, rn) in evaluate(part).items():
                boot[a].append(m1 - m0)
                renorm_count[a] += rn.sum(axis=0)
        done += b

    n_answer = [vs[group == g].sum(axis=0) for g in (0, 1)]
    out = []
    for a, (m0, m1, _) in point.items():
        d = (m1 - m0)[0]
        bt = np.vstack(boot[a])
        lo, hi, p = _percentile(bt, d)
        n_nan = (~np.isfinite(bt)).sum(axis=0)
        for j, row in enumerate(rows):
            sc = _scale(row)
            notes = []
            if a != "unadjusted":
                t = a.removeprefix("standardized_")
                if plans[t][2][j]:
                    notes.append(plans[t][2][j])
                missing_stratum = int(vs[~has_stratum & (group >= 0), j].sum())
                if missing_stratum:
                    notes.append(
                        f"{missing_stratum} answering clinics without rurality or "
                        "system size left out"
                    )
                if renorm_count[a][j]:
                    how = (
                        "its weight renormalized"
                        if empty == "drop"
                        else "it borrowed the model's mean over its rurality"
                    )
                    notes.append(
                        f"{renorm_count[a][j]} of {n_boot} bootstrap replicates had a "
                        f"stratum without answers of a model ({how})"
                    )
            if n_answer[0][j] == 0 or n_answer[1][j] == 0:
                notes.append("no answers in a care model: not estimable")
            elif n_nan[j]:
                notes.append(
                    f"{n_nan[j]} of {n_boot} replicates without answers of a model "
                    "(left out of the interval)"
                )
            out.append(
                {
                    "table": row.table,
                    "item": row.item,
                    "level": row.level,
                    "analysis": a,
                    "measure": _measure(row),
                    "estimate": d[j] * sc,
                    "ci_low": lo[j] * sc,
                    "ci_high": hi[j] * sc,
                    "p": p[j],
                    "note": "; ".join(notes),
                    "label": row.label,
                    "value_mn": m0[0, j] * sc,
                    "value_isw": m1[0, j] * sc,
                    "n_mn": int(n_answer[0][j]),
                    "n_isw": int(n_answer[1][j]),
                    "clusters": math.nan,
                    "rho": math.nan,
                }
            )
    return _frame(out)


# ---------------------------------------------------------------------------------------------
# 2. Clustering: GEE against the naive analysis
# ---------------------------------------------------------------------------------------------


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _wald_p(est: float, se: float) -> float:
    if not (math.isfinite(est) and math.isfinite(se)) or se <= 0:
        return math.nan
    return float(2.0 * special.ndtr(-abs(est / se)))


def _degenerate(y: NDArray[np.float64], x: NDArray[np.float64]) -> str:
    """Why a logistic model of y on a binary x cannot be estimated ('' when it can)."""
    parts = []
    for g, name in ((0, "mn"), (1, "isw")):
        yg = y[x == g]
        if len(yg) == 0:
            return f"no {name} clinics answered"
        k = int(yg.sum())
        if k == 0 or k == len(yg):
            parts.append(f"{k} of {len(yg)} {name} clinics")
    if parts:
        return (
            "not estimable (separation: "
            + ", ".join(parts)
            + " at the level; odds ratio infinite or 0)"
        )
    return ""


def naive_logistic(y: NDArray[np.float64], x: NDArray[np.float64]) -> dict[str, float]:
    """Ordinary logistic regression of y (0/1) on x (0 mn / 1 isw), closed form (saturated).

    Returns ``b0, b1, se_b1, or, or_lo, or_hi, p_or, p0, p1, rd, rd_lo, rd_hi, p_rd`` (rd a
    difference of proportions, its se from the delta method = the Wald se).
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    a, n1 = float(y[x == 1].sum()), float((x == 1).sum())
    c, n0 = float(y[x == 0].sum()), float((x == 0).sum())
    b, d = n1 - a, n0 - c
    p1, p0 = a / n1, c / n0
    out = {"p0": p0, "p1": p1, "rd": p1 - p0}
    se_rd = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    out.update(
        rd_lo=out["rd"] - Z95 * se_rd, rd_hi=out["rd"] + Z95 * se_rd, p_rd=_wald_p(out["rd"], se_rd)
    )
    if min(a, b, c, d) == 0:
        out.update(
            b0=math.nan,
            b1=math.nan,
            se_b1=math.nan,
            or_=math.nan,
            or_lo=math.nan,
            or_hi=math.nan,
            p_or=math.nan,
        )
    else:
        b1 = math.log(a * d / (b * c))
        se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        out.update(
            b0=math.log(c / d),
            b1=b1,
            se_b1=se,
            or_=math.exp(b1),
            or_lo=math.exp(b1 - Z95 * se),
            or_hi=math.exp(b1 + Z95 * se),
            p_or=_wald_p(b1, se),
        )
    out["or"] = out.pop("or_")
    return out


def _gee_numpy(
    y: NDArray[np.float64],
    exog: NDArray[np.float64],
    codes: NDArray[np.int64],
    exchangeable: bool,
    maxiter: int,
    ctol: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float, bool]:
    """Logistic GEE with an exchangeable (or independence) working correlation, vectorized.

    The algorithm of statsmodels' ``GEE.fit`` step for step (start at the logistic MLE; a
    Fisher-scoring step of the mean parameters, then the moment update of the correlation, until
    the score's norm is below ``ctol`` after at least one correlation update; the sandwich from
    the final means), with the per-cluster loops replaced by ``np.bincount`` sums: for a cluster
    of size m the inverse working correlation is ``(I - c 11') / (1 - rho)``,
    ``c = rho / (1 + (m - 1) rho)``. Returns (params, robust cov, naive cov, rho, converged).
    """
    n, k = exog.shape
    n_groups = int(codes.max()) + 1
    size = np.bincount(codes, minlength=n_groups).astype(float)

    def csum(v: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.bincount(codes, weights=v, minlength=n_groups)

    def means(beta: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        mu = 1.0 / (1.0 + np.exp(-(exog @ beta)))
        return mu, np.clip(mu * (1.0 - mu), 1e-300, None)

    def vinv(z: NDArray[np.float64], sd: NDArray[np.float64], rho: float) -> NDArray[np.float64]:
        """V^-1 z per cluster (z: n x q), V = A^1/2 R A^1/2."""
        z1 = z / sd[:, None]
        c = rho / (1.0 - rho) / (1.0 + rho * (size - 1.0))
        tot = np.column_stack([csum(z1[:, j]) for j in range(z1.shape[1])])
        return (z1 / (1.0 - rho) - (c[:, None] * tot)[codes]) / sd[:, None]

    # start: the logistic MLE (independence), by Newton steps
    beta = np.zeros(k)
    for _ in range(100):
        mu, v = means(beta)
        step = np.linalg.solve((exog * v[:, None]).T @ exog, exog.T @ (y - mu))
        beta += step
        if np.max(np.abs(step)) < 1e-12:
            break
    rho = 0.0
    converged, updates = False, 0
    mu, v = means(beta)
    for _ in range(maxiter):
        sd = np.sqrt(v)
        d = exog * v[:, None]
        sol = vinv(np.column_stack([d, y - mu]), sd, rho)
        bmat = d.T @ sol[:, :k]
        score = d.T @ sol[:, k]
        try:
            beta = beta + np.linalg.solve(bmat, score)
        except np.linalg.LinAlgError:
            beta = beta + np.linalg.pinv(bmat) @ score
        mu, v = means(beta)
        if np.sqrt(np.sum(score**2)) < ctol and updates > 0:
            converged = True
            break
        if exchangeable:
            r = (y - mu) / np.sqrt(v)
            scale = np.sum(r * r) / (n - k)
            pairs = float(np.sum(size * (size - 1.0) / 2.0))
            cross = float(np.sum((csum(r) ** 2 - csum(r * r)) / 2.0)) / scale
            rho = cross / (pairs - k) if pairs > k else 0.0
        updates += 1
    sd = np.sqrt(v)
    d = exog * v[:, None]
    sol = vinv(np.column_stack([d, y - mu]), sd, rho)
    bmat = d.T @ sol[:, :k]
    u = d * sol[:, [k]]  # summed per cluster: the cluster scores D_i' V_i^-1 r_i
    cl_score = np.column_stack([csum(u[:, j]) for j in range(k)])
    cmat = cl_score.T @ cl_score
    bmati = np.linalg.pinv(bmat) if np.linalg.cond(bmat) > 1e14 else np.linalg.inv(bmat)
    return beta, bmati @ cmat @ bmati, bmati, (rho if exchangeable else math.nan), converged


def gee_fit(
    y: NDArray[np.float64],
    x: NDArray[np.float64],
    clusters: Sequence[object] | NDArray,
    *,
    cov_struct: str = "exchangeable",
    cov_type: str = "robust",
    engine: str = "numpy",
    maxiter: int = 60,
    ctol: float = 1e-6,
) -> dict[str, object]:
    """GEE logistic regression of y (0/1) on x (0/1) with clusters; odds ratio and risk difference.

    ``cov_struct``: ``"exchangeable"`` or ``"independence"``; ``cov_type``: ``"robust"`` (sandwich),
    ``"naive"`` (model-based) or ``"bias_reduced"`` (Mancl-DeRouen; always by statsmodels).
    ``engine``: ``"numpy"`` (:func:`_gee_numpy`, the statsmodels algorithm vectorized; the tests
    check it agrees with statsmodels) or ``"statsmodels"`` (``GEE`` with ``Binomial`` and
    ``Exchangeable``/``Independence``). Returns the coefficients, the odds ratio and the risk
    difference (proportions, delta method) with Wald 95% intervals and p-values, the marginal
    predictions ``p0, p1``, the number of clusters, the working correlation ``rho`` and ``note``
    (warnings of the fit). Degenerate data give NaN and a note, never an exception.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    codes, uniq = pd.factorize(pd.Series(list(clusters), dtype="object"), sort=True)
    nan = math.nan
    out: dict[str, object] = {
        k: nan
        for k in (
            "b0",
            "b1",
            "se_b1",
            "or",
            "or_lo",
            "or_hi",
            "p_or",
            "p0",
            "p1",
            "rd",
            "rd_lo",
            "rd_hi",
            "p_rd",
            "rho",
        )
    }
    out["clusters"] = len(uniq)
    if cov_struct not in ("exchangeable", "independence"):
        raise ValueError("cov_struct must be 'exchangeable' or 'independence'")
    if cov_type not in ("robust", "naive", "bias_reduced"):
        raise ValueError("cov_type must be 'robust', 'naive' or 'bias_reduced'")
    if engine not in ("numpy", "statsmodels"):
        raise ValueError("engine must be 'numpy' or 'statsmodels'")
    if (codes < 0).any():
        raise ValueError("missing cluster ids")
    why = _degenerate(y, x)
    if not why and len(uniq) < 2:
        why = "not estimable (fewer than 2 clusters)"
    if why:
        out["note"] = why
        return out
    exog = np.column_stack([np.ones(len(y)), x])

    def fit(structure: str) -> tuple[NDArray, NDArray, float, list[str]]:
        notes: list[str] = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if engine == "numpy" and cov_type != "bias_reduced":
                params, rob, naive, rho, converged = _gee_numpy(
                    y, exog, codes.astype(np.int64), structure == "exchangeable", maxiter, ctol
                )
                cov = rob if cov_type == "robust" else naive
                if not converged:
                    notes.append("Iteration limit reached prior to convergence")
            else:
                params, cov, rho = _gee_statsmodels(
                    y, exog, codes, structure, cov_type, maxiter, ctol
                )
        for w in caught:
            msg = str(w.message).split("\n")[0]
            if msg not in notes:
                notes.append(msg)
        return params, cov, rho, notes

    try:
        params, cov, rho, notes = fit(cov_struct)
        # an exchangeable correlation below -1/(m - 1) (m: the largest cluster) is not a valid
        # correlation matrix and the iterations oscillate: fall back to the independence working
        # correlation, which with the sandwich covariance is still a valid clustered analysis
        largest = int(np.bincount(codes).max())
        bound = -1.0 / (largest - 1) if largest > 1 else -1.0
        failed = [n for n in notes if "converge" in n.lower() or "singular" in n.lower()]
        if cov_struct == "exchangeable" and (failed or not rho > bound):
            why = "; ".join(failed) if failed else "below the bound"
            params, cov, _, notes = fit("independence")
            notes = [
                f"exchangeable working correlation failed (rho {rho:.3f}, bound "
                f"{bound:.3f} for clusters of up to {largest}; {why}): independence "
                "working correlation used, robust covariance",
                *notes,
            ]
            rho = math.nan
    except (np.linalg.LinAlgError, ValueError, ZeroDivisionError, OverflowError) as exc:
        out["note"] = f"GEE failed: {type(exc).__name__}: {exc}"
        return out
    b0, b1 = (float(v) for v in params)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(cov))):
        out["note"] = "; ".join(["GEE gave non-finite estimates", *notes])
        return out
    se1 = math.sqrt(max(cov[1, 1], 0.0))
    p0, p1 = _expit(b0), _expit(b0 + b1)
    grad = np.array([p1 * (1 - p1) - p0 * (1 - p0), p1 * (1 - p1)])
    se_rd = math.sqrt(max(float(grad @ cov @ grad), 0.0))
    rd = p1 - p0
    out.update(
        b0=b0,
        b1=b1,
        se_b1=se1,
        p0=p0,
        p1=p1,
        rd=rd,
        rd_lo=rd - Z95 * se_rd,
        rd_hi=rd + Z95 * se_rd,
        p_rd=_wald_p(rd, se_rd),
        rho=rho,
        p_or=_wald_p(b1, se1),
        note="; ".join(notes),
    )
    out["or"] = math.exp(b1)
    out["or_lo"] = math.exp(b1 - Z95 * se1)
    out["or_hi"] = math.exp(b1 + Z95 * se1)
    return out


def _gee_statsmodels(
    y: NDArray[np.float64],
    exog: NDArray[np.float64],
    codes: NDArray[np.int64],
    cov_struct: str,
    cov_type: str,
    maxiter: int,
    ctol: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    from statsmodels.genmod.cov_struct import Exchangeable, Independence
    from statsmodels.genmod.families import Binomial
    from statsmodels.genmod.generalized_estimating_equations import GEE

    structure = Exchangeable() if cov_struct == "exchangeable" else Independence()
    order = np.argsort(codes, kind="stable")
    model = GEE(y[order], exog[order], groups=codes[order], family=Binomial(), cov_struct=structure)
    res = model.fit(maxiter=maxiter, ctol=ctol, cov_type=cov_type)
    if res is None:
        raise ValueError("statsmodels GEE returned no result")
    dep = getattr(model.cov_struct, "dep_params", None)
    rho = float(dep) if dep is not None and np.ndim(dep) == 0 else math.nan
    return (np.asarray(res.params, dtype=float), np.asarray(res.cov_params(), dtype=float), rho)


def cluster_robust(
    clinics: pd.DataFrame,
    spec: pd.DataFrame | None = None,
    *,
    clusterings: Mapping[str, str] = CLUSTERINGS,
    include_full: bool = True,
    cov_type: str = "robust",
    engine: str = "numpy",
    newcombe: bool = True,
    tables: Sequence[str] = TABLES,
) -> pd.DataFrame:
    """Naive and clustered (GEE) odds ratios and risk differences of the binary rows of ``tables``.

    Rows: binary and collapsed rows, and with ``include_full`` every level of a full-scale item
    (this level vs the others); mean rows are not modelled. ``clusterings``: analysis suffix ->
    cluster column (default care system and coordinator). Analyses ``naive_logistic``,
    ``naive_newcombe`` (with ``newcombe``) and ``gee_<suffix>``; measures ``odds_ratio`` and
    ``risk_diff`` (a difference of proportions, -1..1). ``cov_type`` and ``engine``: see
    :func:`gee_fit`.
    """
    rows = [
        r
        for r in spec_rows(spec, tables)
        if not r.continuous and (r.shown in ("binary", "collapsed") or include_full)
    ]
    group = _groups(clinics)
    for col in clusterings.values():
        if col not in clinics.columns:
            raise KeyError(f"the clinic frame lacks the cluster column {col!r}")
    in_model = group >= 0
    out: list[dict[str, object]] = []

    def add(
        row: Row,
        analysis: str,
        measure: str,
        est: float,
        lo: float,
        hi: float,
        p: float,
        note: str,
        fit: Mapping[str, object],
        n: tuple[int, int],
    ) -> None:
        out.append(
            {
                "table": row.table,
                "item": row.item,
                "level": row.level,
                "analysis": analysis,
                "measure": measure,
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "p": p,
                "note": note,
                "label": row.label,
                "value_mn": 100 * float(fit.get("p0", math.nan)),
                "value_isw": 100 * float(fit.get("p1", math.nan)),
                "n_mn": n[0],
                "n_isw": n[1],
                "clusters": float(fit.get("clusters", math.nan)),
                "rho": float(fit.get("rho", math.nan)),
            }
        )

    def add_pair(
        row: Row, analysis: str, fit: Mapping[str, object], note: str, n: tuple[int, int]
    ) -> None:
        add(
            row,
            analysis,
            "odds_ratio",
            fit["or"],
            fit["or_lo"],
            fit["or_hi"],
            fit["p_or"],
            note,
            fit,
            n,
        )
        add(
            row,
            analysis,
            "risk_diff",
            fit["rd"],
            fit["rd_lo"],
            fit["rd_hi"],
            fit["p_rd"],
            note,
            fit,
            n,
        )

    converted: dict[tuple[str, bool], tuple[object, NDArray[np.bool_]]] = {}
    # the cluster ids as objects once per clustering (not per row)
    cluster_ids = {col: clinics[col].astype("object").to_numpy() for col in clusterings.values()}
    for row in rows:
        y, valid = _indicator(clinics, row, converted)
        keep = valid & in_model
        yk, xk = y[keep], group[keep].astype(float)
        n = (int((xk == 0).sum()), int((xk == 1).sum()))
        why = _degenerate(yk, xk)
        if n[0] == 0 or n[1] == 0:
            fit = {
                k: math.nan
                for k in (
                    "or",
                    "or_lo",
                    "or_hi",
                    "p_or",
                    "rd",
                    "rd_lo",
                    "rd_hi",
                    "p_rd",
                    "p0",
                    "p1",
                )
            }
            add_pair(row, "naive_logistic", fit, why, n)
            if newcombe:
                add(
                    row,
                    "naive_newcombe",
                    "risk_diff",
                    math.nan,
                    math.nan,
                    math.nan,
                    math.nan,
                    why,
                    fit,
                    n,
                )
        else:
            naive = naive_logistic(yk, xk)
            naive["clusters"] = float(len(yk))
            add(
                row,
                "naive_logistic",
                "odds_ratio",
                naive["or"],
                naive["or_lo"],
                naive["or_hi"],
                naive["p_or"],
                why,
                naive,
                n,
            )
            add(
                row,
                "naive_logistic",
                "risk_diff",
                math.nan if why else naive["rd"],
                math.nan if why else naive["rd_lo"],
                math.nan if why else naive["rd_hi"],
                math.nan if why else naive["p_rd"],
                why,
                naive,
                n,
            )
            if newcombe:
                from ccanalysis.stats import newcombe_diff

                k1, k0 = int(yk[xk == 1].sum()), int(yk[xk == 0].sum())
                d, lo, hi = newcombe_diff(k1, n[1], k0, n[0])
                add(row, "naive_newcombe", "risk_diff", d, lo, hi, math.nan, "", naive, n)
        for suffix, col in clusterings.items():
            cl = cluster_ids[col][keep]
            fit = gee_fit(yk, xk, cl, cov_type=cov_type, engine=engine)
            add_pair(row, f"gee_{suffix}", fit, str(fit.get("note", "")), n)
    return _frame(out)


def _frame(records: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(COLUMNS))
    for c in ("estimate", "ci_low", "ci_high", "p", "value_mn", "value_isw", "clusters", "rho"):
        frame[c] = frame[c].astype(float)
    for c in ("n_mn", "n_isw"):
        frame[c] = frame[c].astype("int64")
    for c in ("table", "item", "level", "analysis", "measure", "note", "label"):
        frame[c] = frame[c].astype("object").fillna("").astype(str)
    return frame


def _sort(frame: pd.DataFrame, rows: Sequence[Row]) -> pd.DataFrame:
    order = {r.key: i for i, r in enumerate(rows)}
    a_order = {a: i for i, a in enumerate(ANALYSES)}
    m_order = {"pp_diff": 0, "mean_diff": 0, "risk_diff": 1, "odds_ratio": 2}
    keys = pd.DataFrame(
        {
            "r": [
                order.get(k, len(order))
                for k in zip(frame["table"], frame["item"], frame["level"], strict=True)
            ],
            "a": frame["analysis"].map(lambda a: a_order.get(a, len(a_order))),
            "m": frame["measure"].map(lambda m: m_order.get(m, 3)),
        }
    )
    idx = keys.sort_values(["r", "a", "m"], kind="stable").index
    return frame.loc[idx].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Conclusions
# ---------------------------------------------------------------------------------------------


def verdict(estimate: float, ci_low: float, ci_high: float, null: float = 0.0) -> str:
    """Sign and significance: ``higher`` / ``lower`` (interval excludes ``null``), ``no difference``
    (it covers it) or ``not estimable``."""
    if not (math.isfinite(estimate) and math.isfinite(ci_low) and math.isfinite(ci_high)):
        return "not estimable"
    if ci_low > null:
        return "higher"
    if ci_high < null:
        return "lower"
    return "no difference"


def _null(measure: str) -> float:
    return 1.0 if measure == "odds_ratio" else 0.0


def _fmt(x: float, digits: int) -> str:
    """Signed, fixed decimals; a value that rounds to 0 keeps its sign (-0.0, +0.0)."""
    if not math.isfinite(x):
        return "NA"
    return f"{x:+.{digits}f}" if x != 0 else f"{0:.{digits}f}"


def _fmt_est(measure: str, est: float, lo: float, hi: float) -> str:
    if not math.isfinite(est):
        return "NA"
    if measure == "odds_ratio":
        return f"OR {est:.2f} ({lo:.2f} to {hi:.2f})"
    if measure == "risk_diff":
        return f"{_fmt(100 * est, 1)} pp ({_fmt(100 * lo, 1)} to {_fmt(100 * hi, 1)})"
    unit = " pp" if measure == "pp_diff" else ""
    small = max(abs(est), abs(lo), abs(hi)) < 1 if math.isfinite(lo) else abs(est) < 1
    digits = 2 if measure == "mean_diff" and small else 1
    return f"{_fmt(est, digits)}{unit} ({_fmt(lo, digits)} to {_fmt(hi, digits)})"


_VERDICT_TEXT = {
    "higher": "significantly higher in integrated social worker clinics",
    "lower": "significantly lower in integrated social worker clinics",
    "no difference": "no significant difference",
    "not estimable": "not estimable",
}


def _labels(results: pd.DataFrame, spec: pd.DataFrame | None) -> dict[tuple[str, str, str], str]:
    labels: dict[tuple[str, str, str], str] = {}
    try:
        rows = spec_rows(spec, sorted(set(results["table"])))
        labels = {r.key: r.display for r in rows}
    except (ValueError, KeyError):
        pass
    cols = (results[c].tolist() for c in ("table", "item", "level", "label"))
    for table, item, level, label in zip(*cols, strict=True):
        labels.setdefault((table, item, level), label or f"{item} {level}".strip())
    return labels


_Key = tuple[str, str, str]


def _records(results: pd.DataFrame, analysis: str, measures: Sequence[str]) -> list[dict]:
    """The rows of one analysis with one of ``measures``, in order, as dicts of Python values."""
    sub = results[(results["analysis"] == analysis) & results["measure"].isin(list(measures))]
    cols = list(sub.columns)
    # column lists zipped: DataFrame.to_dict("records") boxes value by value, several times slower
    return [
        dict(zip(cols, vals, strict=True))
        for vals in zip(*(sub[c].tolist() for c in cols), strict=True)
    ]


def _pick(results: pd.DataFrame, analysis: str, measures: Sequence[str]) -> dict[_Key, dict]:
    """:func:`_records` by (table, item, level): a dict lookup per row, where ``.loc`` on a
    MultiIndex costs ~100 us (the display tables look up thousands of rows)."""
    return {(r["table"], r["item"], r["level"]): r for r in _records(results, analysis, measures)}


def changes(
    results: pd.DataFrame,
    *,
    compare: tuple[str, str] = ("unadjusted", "standardized_isw"),
    measures: Sequence[str] = ("pp_diff", "mean_diff"),
) -> pd.DataFrame:
    """Per row: the verdicts of two analyses and whether they disagree (``changed``)."""
    a, b = (_pick(results, x, measures) for x in compare)
    rows = []
    for key, ra in a.items():
        if key not in b:
            continue
        rb = b[key]
        va = verdict(ra["estimate"], ra["ci_low"], ra["ci_high"], _null(ra["measure"]))
        vb = verdict(rb["estimate"], rb["ci_low"], rb["ci_high"], _null(rb["measure"]))
        rows.append(
            {
                "table": key[0],
                "item": key[1],
                "level": key[2],
                "measure": ra["measure"],
                compare[0]: va,
                compare[1]: vb,
                "changed": va != vb and "not estimable" not in (va, vb),
            }
        )
    return pd.DataFrame(rows, columns=["table", "item", "level", "measure", *compare, "changed"])


def survival(
    results: pd.DataFrame,
    *,
    naive: str = "naive_logistic",
    clustered: Sequence[str] = ("gee_care_system", "gee_coordinator"),
    measure: str = "odds_ratio",
) -> pd.DataFrame:
    """Per modelled row: the naive verdict, each clustered verdict, and whether a naive-significant
    difference survives each clustering (same direction, interval still excluding the null)."""
    others = {c: _pick(results, c, [measure]) for c in clustered}
    out = []
    for r in _records(results, naive, [measure]):
        key = (r["table"], r["item"], r["level"])
        v = verdict(r["estimate"], r["ci_low"], r["ci_high"], _null(measure))
        rec: dict[str, object] = {"table": key[0], "item": key[1], "level": key[2], naive: v}
        for c, picked in others.items():
            if key in picked:
                o = picked[key]
                vc = verdict(o["estimate"], o["ci_low"], o["ci_high"], _null(measure))
            else:
                vc = "not estimable"
            rec[c] = vc
            rec[f"survives_{c}"] = (v == vc) if v in ("higher", "lower") else None
        out.append(rec)
    cols = ["table", "item", "level", naive]
    for c in clustered:
        cols += [c, f"survives_{c}"]
    return pd.DataFrame(out, columns=cols)


def conclusions(
    results: pd.DataFrame,
    spec: pd.DataFrame | None = None,
    *,
    which: Sequence[str] = ("standardization", "clustering"),
    targets: Sequence[str] = ("isw", "total"),
) -> list[str]:
    """Sentences: a summary and one per row whose conclusion changes under standardization (each
    target present), and one per naive-significant row that does not survive clustering."""
    labels = _labels(results, spec)
    sentences: list[str] = []
    present = set(results["analysis"])
    target_text = {
        "isw": "the integrated clinics' distribution of rurality x care-system size",
        "total": "all clinics' distribution of rurality x care-system size",
    }
    if "standardization" in which:
        for t in targets:
            if f"standardized_{t}" not in present or "unadjusted" not in present:
                continue
            ch = changes(results, compare=("unadjusted", f"standardized_{t}"))
            n_changed = int(ch["changed"].sum())
            sentences.append(
                f"Standardized to {target_text[t]}, the conclusion (sign and significance of the "
                f"isw - mn difference, 95% bootstrap interval) changes for {n_changed} of "
                f"{len(ch)} rows of Tables 3 and 4."
            )
            a = _pick(results, "unadjusted", ["pp_diff", "mean_diff"])
            b = _pick(results, f"standardized_{t}", ["pp_diff", "mean_diff"])
            for r in ch[ch["changed"]].itertuples(index=False):
                key = (r.table, r.item, r.level)
                ra, rb = a[key], b[key]
                va, vb = r.unadjusted, getattr(r, f"standardized_{t}")
                sentences.append(
                    f"{labels[key]} ({r.item}{'=' + r.level if r.level else ''}): unadjusted "
                    f"{_fmt_est(r.measure, ra['estimate'], ra['ci_low'], ra['ci_high'])}, "
                    f"{_VERDICT_TEXT[va]}; standardized to the {t} strata "
                    f"{_fmt_est(r.measure, rb['estimate'], rb['ci_low'], rb['ci_high'])}, "
                    f"{_VERDICT_TEXT[vb]}."
                )
    if "clustering" in which and "naive_logistic" in present:
        clustered = [c for c in ("gee_care_system", "gee_coordinator") if c in present]
        sv = survival(results, clustered=clustered)
        sig = sv[sv["naive_logistic"].isin(["higher", "lower"])]
        names = {"gee_care_system": "care system", "gee_coordinator": "coordinator"}
        for c in clustered:
            kept = int(sig[f"survives_{c}"].fillna(False).astype(bool).sum())
            sentences.append(
                f"Clustered by {names[c]} (GEE, exchangeable, robust interval), {kept} of the "
                f"{len(sig)} differences significant in the naive logistic regression remain "
                "significant."
            )
        orr = _pick(results, "naive_logistic", ["odds_ratio"])
        clu_orr = {c: _pick(results, c, ["odds_ratio"]) for c in clustered}
        for r in sig.itertuples(index=False):
            key = (r.table, r.item, r.level)
            lost = [c for c in clustered if getattr(r, f"survives_{c}") is False]
            if not lost:
                continue
            o = orr[key]
            parts = []
            for c in lost:
                g = clu_orr[c][key]
                parts.append(
                    f"clustered by {names[c]} "
                    f"{_fmt_est('odds_ratio', g['estimate'], g['ci_low'], g['ci_high'])}"
                    f" ({_VERDICT_TEXT[getattr(r, c)]})"
                )
            sentences.append(
                f"{labels[key]} ({r.item}={r.level}): naive "
                f"{_fmt_est('odds_ratio', o['estimate'], o['ci_low'], o['ci_high'])}, "
                f"{_VERDICT_TEXT[r.naive_logistic]}; " + "; ".join(parts) + "."
            )
    return sentences


# ---------------------------------------------------------------------------------------------
# Rendering and writing
# ---------------------------------------------------------------------------------------------


def _cell_value(measure: str, v: float) -> str:
    if not math.isfinite(v):
        return "NA"
    if measure == "mean_diff":
        return f"{v:.1f}" if abs(v) >= 1 else f"{v:.2f}"
    return f"{v:.1f}"


def display_tables(
    results: pd.DataFrame, spec: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The two display tables (all cells text): ``standardization`` and ``clustering``."""
    labels = _labels(results, spec)
    keys = list(
        dict.fromkeys(zip(results["table"], results["item"], results["level"], strict=True))
    )
    present = set(results["analysis"])
    std_cols = [a for a in ("unadjusted", "standardized_isw", "standardized_total") if a in present]
    out: dict[str, pd.DataFrame] = {}
    if std_cols:
        picks = {a: _pick(results, a, ["pp_diff", "mean_diff"]) for a in std_cols}
        # per standardization: whether the conclusion of each row changed, by key
        ch: dict[str, dict[_Key, bool]] = {}
        for a in std_cols:
            if a != "unadjusted" and "unadjusted" in present:
                c = changes(results, compare=("unadjusted", a))
                c_keys = zip(c["table"], c["item"], c["level"], strict=True)
                ch[a] = dict(zip(c_keys, c["changed"].tolist(), strict=True))
        recs = []
        for key in keys:
            if key not in picks[std_cols[0]]:
                continue
            base = picks[std_cols[0]][key]
            unit = "%" if base["measure"] == "pp_diff" else ""
            rec = {"Table": key[0].replace("table", ""), "Item": labels[key]}
            for a in std_cols:
                r = picks[a][key]
                name = {
                    "unadjusted": "Unadjusted",
                    "standardized_isw": "Std. to ISW",
                    "standardized_total": "Std. to total",
                }[a]
                if a == "unadjusted":
                    rec["MN"] = _cell_value(r["measure"], r["value_mn"]) + unit
                    rec["ISW"] = _cell_value(r["measure"], r["value_isw"]) + unit
                else:
                    rec[f"MN {name[0].lower()}{name[1:]}"] = (
                        _cell_value(r["measure"], r["value_mn"]) + unit
                    )
                    if a == "standardized_total":
                        rec[f"ISW {name[0].lower()}{name[1:]}"] = (
                            _cell_value(r["measure"], r["value_isw"]) + unit
                        )
                rec[f"{name} difference (95% CI)"] = _fmt_est(
                    r["measure"], r["estimate"], r["ci_low"], r["ci_high"]
                )
            changed = [a for a in ch if key in ch[a] and bool(ch[a][key])]
            rec["Conclusion changes"] = ", ".join(
                {"standardized_isw": "ISW", "standardized_total": "total"}[a] for a in changed
            )
            short = {
                "unadjusted": "Unadjusted",
                "standardized_isw": "Std. to ISW",
                "standardized_total": "Std. to total",
            }
            rec["Note"] = "; ".join(
                f"{short[a]}: {picks[a][key]['note']}" for a in std_cols if picks[a][key]["note"]
            )
            recs.append(rec)
        out["standardization"] = pd.DataFrame(recs)
    clu_cols = [a for a in ("naive_logistic", "gee_care_system", "gee_coordinator") if a in present]
    if clu_cols:
        orr = {a: _pick(results, a, ["odds_ratio"]) for a in clu_cols}
        rdd = {a: _pick(results, a, ["risk_diff"]) for a in clu_cols}
        sv = {
            (r["table"], r["item"], r["level"]): r
            for r in survival(
                results, clustered=[a for a in clu_cols if a != "naive_logistic"]
            ).to_dict("records")
        }
        names = {
            "naive_logistic": "Naive",
            "gee_care_system": "Care system",
            "gee_coordinator": "Coordinator",
        }
        recs = []
        for key in keys:
            if key not in orr[clu_cols[0]]:
                continue
            base = orr[clu_cols[0]][key]
            rec = {
                "Table": key[0].replace("table", ""),
                "Item": labels[key],
                "MN": _cell_value("pp_diff", base["value_mn"]) + "%",
                "ISW": _cell_value("pp_diff", base["value_isw"]) + "%",
            }
            for a in clu_cols:
                r = orr[a][key]
                rec[f"{names[a]} OR (95% CI)"] = _fmt_est(
                    "odds_ratio", r["estimate"], r["ci_low"], r["ci_high"]
                ).removeprefix("OR ")
            for a in clu_cols:
                r = rdd[a][key]
                rec[f"{names[a]} RD, pp (95% CI)"] = _fmt_est(
                    "risk_diff", r["estimate"], r["ci_low"], r["ci_high"]
                ).replace(" pp", "")
            surv = []
            if key in sv:
                for a in clu_cols[1:]:
                    s = sv[key][f"survives_{a}"]
                    if s is not None and not (isinstance(s, float) and math.isnan(s)):
                        surv.append(f"{names[a].lower()}: {'yes' if s else 'no'}")
            rec["Naive-significant survives"] = ", ".join(surv)
            notes = {}
            for a in clu_cols:
                n = orr[a][key]["note"]
                if n:
                    notes.setdefault(n, []).append(names[a])
            rec["Note"] = "; ".join(f"{', '.join(who)}: {n}" for n, who in notes.items())
            recs.append(rec)
        out["clustering"] = pd.DataFrame(recs)
    return out


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _md_cell(v: object) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame) -> str:
    lines = [
        "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    lines += [
        "| " + " | ".join(_md_cell(v) for v in row) + " |" for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


_METHOD_STD = (
    "Differences are integrated social worker (ISW) minus medical/nursing (MN) clinics, in "
    "percentage points (shares among clinics answering) or in the item's units (means). "
    "Standardization: direct, by rurality (RUCA 1-3 urban) x care-system size (1-2, 3-9, >9 "
    "clinics); 'Std. to ISW' reweights the MN clinics to the ISW clinics' strata, 'Std. to total' "
    "both models to all clinics'. 95% CI: percentile bootstrap, clinics resampled within care "
    "model. 'Conclusion changes': the sign-and-significance of the difference (CI excluding 0 or "
    "not) differs from the unadjusted one."
)
_METHOD_CLU = (
    "Odds ratios (OR) and risk differences (RD, percentage points) of ISW vs MN clinics for the "
    "binary, collapsed and full-scale rows. Naive: ordinary logistic regression (Wald intervals), "
    "clinics independent. Care system / Coordinator: GEE logistic regression with an exchangeable "
    "working correlation within care systems or within coordinators, robust (sandwich) 95% "
    "intervals; RD from the marginal predictions by the delta method. 'Naive-significant "
    "survives': whether a naive-significant OR stays significant under clustering. NA: not "
    "estimable (see note)."
)


def render(
    results: pd.DataFrame,
    spec: pd.DataFrame | None = None,
    *,
    fmt: str = "html",
    synthetic: bool = False,
    sentences: Sequence[str] | None = None,
) -> str:
    """Both display tables with titles, method notes, conclusions and (``synthetic``) the label."""
    if fmt not in ("html", "markdown"):
        raise ValueError("fmt must be 'html' or 'markdown'")
    tabs = display_tables(results, spec)
    if sentences is None:
        sentences = conclusions(results, spec)
    return _render(tabs, sentences, fmt=fmt, synthetic=synthetic)


def _render(
    tabs: Mapping[str, pd.DataFrame], sentences: Sequence[str], *, fmt: str, synthetic: bool
) -> str:
    """:func:`render` from the display tables and the sentences."""
    parts: list[str] = []
    sections = [("standardization", TITLE_STD, _METHOD_STD), ("clustering", TITLE_CLU, _METHOD_CLU)]
    if fmt == "html":
        parts.append(
            '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8">'
            "<title>Sensitivity analyses</title></head>\n<body>"
        )
        if synthetic:
            parts.append(
                f'<p class="synthetic-label"><strong>{html.escape(SYNTHETIC_LABEL)}</strong></p>'
            )
        for key, title, method in sections:
            if key in tabs:
                parts += [
                    f"<h2>{html.escape(title)}</h2>",
                    _html_table(tabs[key]),
                    f"<p>{html.escape(method)}</p>",
                ]
        if sentences:
            parts.append(
                "<h2>Conclusions</h2>\n<ul>\n"
                + "\n".join(f"<li>{html.escape(s)}</li>" for s in sentences)
                + "\n</ul>"
            )
        if synthetic:
            parts.append(f"<p><em>{html.escape(SYNTHETIC_LABEL)}</em></p>")
        parts.append("</body>\n</html>")
        return "\n".join(parts) + "\n"
    if synthetic:
        parts.append(f"**{SYNTHETIC_LABEL}**")
    for key, title, method in sections:
        if key in tabs:
            parts += [f"## {title}", _md_table(tabs[key]), method]
    if sentences:
        parts.append("## Conclusions\n\n" + "\n".join(f"- {s}" for s in sentences))
    if synthetic:
        parts.append(f"*{SYNTHETIC_LABEL}*")
    return "\n\n".join(parts) + "\n"


def _csv_frame(results: pd.DataFrame) -> pd.DataFrame:
    out = results.copy()
    for c in ("estimate", "ci_low", "ci_high", "p", "value_mn", "value_isw", "clusters", "rho"):
        out[c] = out[c].map(lambda v: "" if not math.isfinite(v) else repr(float(v)))
    return out


def write(
    results: pd.DataFrame,
    outdir: str | Path,
    spec: pd.DataFrame | None = None,
    *,
    synthetic: bool = False,
    sentences: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Write ``sensitivity.csv`` (long), ``sensitivity.html`` and ``sensitivity.md`` atomically.

    With ``synthetic`` the CSV gets a ``synthetic`` column holding the label on every row.
    """
    return _write(results, outdir, spec, synthetic=synthetic, sentences=sentences)


def _write(
    results: pd.DataFrame,
    outdir: str | Path,
    spec: pd.DataFrame | None,
    *,
    synthetic: bool,
    sentences: Sequence[str] | None,
    tabs: Mapping[str, pd.DataFrame] | None = None,
) -> dict[str, Path]:
    """:func:`write`, given the display tables when the caller has them (:func:`run` does), so
    that they are built once for both formats."""
    outdir = Path(outdir)
    frame = _csv_frame(results)
    if synthetic:
        frame["synthetic"] = SYNTHETIC_LABEL
    if sentences is None:
        sentences = conclusions(results, spec)
    if tabs is None:
        tabs = display_tables(results, spec)
    return {
        "csv": write_csv(frame, outdir / "sensitivity.csv"),
        "html": write_text(
            outdir / "sensitivity.html", _render(tabs, sentences, fmt="html", synthetic=synthetic)
        ),
        "markdown": write_text(
            outdir / "sensitivity.md", _render(tabs, sentences, fmt="markdown", synthetic=synthetic)
        ),
    }


def run(
    clinics: pd.DataFrame,
    spec: pd.DataFrame | None = None,
    *,
    seed: int | None = DEFAULT_SEED,
    n_boot: int = 2000,
    synthetic: bool = False,
    outdir: str | Path | None = "tables",
    targets: Sequence[str] = ("isw", "total"),
    empty: Literal["collapse", "drop"] = "collapse",
    min_cell: int = 5,
    include_full: bool = True,
    cov_type: str = "robust",
    engine: str = "numpy",
) -> dict[str, object]:
    """The 04_sensitivity stage: both analyses, conclusions, and (``outdir``) the written files.

    Returns ``results`` (long, :data:`COLUMNS`), ``standardization`` and ``clustering`` (display
    tables), ``changes`` (verdicts unadjusted vs each standardization), ``survival``,
    ``conclusions`` (sentences) and ``paths`` (empty when ``outdir`` is None).
    """
    rows = spec_rows(spec)
    std = standardize(
        clinics,
        spec,
        target=list(targets),
        n_boot=n_boot,
        seed=seed,
        empty=empty,
        min_cell=min_cell,
    )
    clu = cluster_robust(clinics, spec, include_full=include_full, cov_type=cov_type, engine=engine)
    results = _sort(pd.concat([std, clu], ignore_index=True), rows)
    sentences = conclusions(results, spec, targets=targets)
    tabs = display_tables(results, spec)
    ch = pd.concat(
        [
            changes(results, compare=("unadjusted", f"standardized_{t}"))
            .rename(columns={f"standardized_{t}": "standardized"})
            .assign(target=t)
            for t in targets
        ],
        ignore_index=True,
    )
    paths = (
        {}
        if outdir is None
        else _write(results, outdir, spec, synthetic=synthetic, sentences=sentences, tabs=tabs)
    )
    return {
        "results": results,
        "standardization": tabs.get("standardization"),
        "clustering": tabs.get("clustering"),
        "changes": ch,
        "survival": survival(results),
        "conclusions": sentences,
        "paths": paths,
    }
