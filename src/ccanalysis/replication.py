"""Replication report: every printed number of Solberg et al. 2024 beside the reproduced one,
and a consistency check of the printed tables themselves.

This is one of the two modules allowed to read ``data/published/`` (DESIGN.md).

Part 1 -- reproduced vs published (:func:`compare`, :func:`summary`)
--------------------------------------------------------------------
A printed cell is a text (``"15.8"``, ``"100"``, ``"<0.001"``, ``">0.9"``). It stands for an
interval of true values (:func:`parse_printed`):

* a plain number with ``d`` printed decimals stands for ``[x - h, x + h]`` with
  ``h = 0.5 * 10**-d`` (both ends included, so that either half-rounding convention --
  R's ``round``/``sprintf`` or half-up -- is accepted; ``"25.0"`` has d = 1, ``"100"`` d = 0).
  This is the same as "rounds to the printed value at the printed number of decimals"; for
  p-values below 1 it is also "at the printed number of significant digits", because the paper
  prints p with leading zeros only (``"0.007"``: 3 decimals = 1 significant digit -> [0.0065, 0.0075]);
* ``"<x"`` stands for ``[0, x)`` (any value strictly below x) and ``">x"`` for ``(x, inf)``.

A reproduced value is ``equal`` when it lies in the interval, else ``different``; ``missing``
when the reproduction has no value for the cell. ``difference`` is reproduced - printed value
for plain numbers (also when equal, so that near misses can be seen), and for ``<x`` / ``>x``
0 when the bound holds, else reproduced - x.

Part 2 -- consistency of the printed tables (:func:`check_published`)
----------------------------------------------------------------------
Independent of any data. Three sections, one long frame with a ``section`` column:

``pvalue`` -- one row per tested item. For categorical rows every count table whose cells round
to the printed percentages is enumerated (:func:`group_candidates`): for each group
independently, for every denominator ``n`` from N down to N - limit (item nonresponse; limit =
``floor(max_missing_frac * N)`` per group, or ``max_missing``), the counts k with
``|100 k / n - printed| <= h``; for a multi-level item (``shown = full``) the whole printed
distribution together (vectors summing to n); for a binary or count row yes vs no. The group
candidates are combined and kept only when the Total column also rounds to its printed values
(the Total is the union of the groups). Table 1 prints the counts: they are used, only the
denominators of binary rows are enumerated. Over the candidate tables the p-value range of the
paper's test (Fisher's exact, :func:`ccanalysis.stats.fisher_exact`) and of the alternatives
(Pearson's chi-square with and, for 2 x 2, without Yates' correction) is computed. When more
than ``max_exact`` candidate tables remain, the tests are computed on the ``n_extreme`` tables
at each end of the Pearson statistic (Yates statistic for the Yates test) first, and the band is
doubled while the extreme p found lies in its outer half: this is exact for the chi-square tests
(their p is monotone in the statistic at fixed df). For Fisher's test on 2 x 2 tables a
vectorised hypergeometric screen ranks all candidates exactly and ``stats.fisher_exact`` is run
on the 4 tables at each end (exact). For r x c tables Fisher's p ranks tables nearly, not exactly,
as the Pearson statistic does, so the adaptive band gives an inner bound (on the real tables it
equals brute-force enumeration; a test checks this). The range is reported over all denominators up to the
limit (``p_min``, ``p_max``, used for the verdict) and over the candidates with the fewest
missing answers needed (``p_min_fewest_missing``, ...).
Mean/SD rows: printed means and SDs are rounded to 0.1, so the p-range is taken over mean +- 0.05
and SD +- 0.05 at the extremes (all corners of the box, plus the configurations that bring the
means as close together as the box allows) with the printed group N (nonresponse allowed with
``mean_missing``); Student's t (two groups) or one-way ANOVA (three groups) and Welch's
alternatives (Welch's ANOVA computed on constructed samples with exactly the summary values).
Verdicts: ``consistent`` (the stated test's range meets the printed p's interval),
``consistent_other_test`` (only the alternatives named in ``other_tests`` do),
``inconsistent`` (no test does), ``not_checkable`` (rows printed collapsed: the p-value refers
to a distribution the paper does not show; the collapsed yes/no range is given for information).

``grim`` -- percentages against counts (Table 1 and 2: which denominators make count/n round to
the printed percent; does the printed percent fit the printed N; do the group counts add up to
the Total), feasibility of the printed percentage distributions (Tables 3 and 4, with the Total),
GRIM for means of integer items (``INTEGER_ITEMS``: the REDCap dictionary validates them as
integers), GRIMMER's parity/range test for their SDs, and the decomposition of the Total mean
and SD into the group means and SDs.

``text`` -- every number the paper's text quotes from (or about) the tables, against the tables
(:data:`TEXT_CLAIMS`), ``agree`` or ``disagree``.

Part 3 -- :func:`write_outputs` writes ``replication.csv`` (the comparison),
``replication_summary.csv`` and ``replication_consistency.csv`` (the three sections above,
one row per check with a ``section`` column and a worded ``explanation`` that can be redone by
hand) atomically with :func:`ccanalysis.io.write_csv`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import gammaln

from ccanalysis import stats
from ccanalysis.io import write_csv
from ccanalysis.printing import Printed, parse_printed, printed_holds

__all__ = [
    "COMPARISON_COLUMNS",
    "CONSISTENCY_COLUMNS",
    "INTEGER_ITEMS",
    "TEXT_CLAIMS",
    "Printed",
    "check_consistency",
    "check_grim",
    "check_published",
    "check_text",
    "compare",
    "consistency_summary",
    "group_candidates",
    "load_published",
    "load_reproduced",
    "replicate",
    "load_spec",
    "load_study_facts",
    "mean_pvalue_range",
    "parse_printed",
    "printed_holds",
    "summary",
    "write_outputs",
]

PACKAGE_DIR = Path(__file__).resolve().parent
PUBLISHED_DIR = PACKAGE_DIR.parents[1] / "data" / "published"
SPEC_PATH = PACKAGE_DIR / "specs" / "tables.csv"

KEYS = ["table", "item", "level", "group", "measure"]
COMPARISON_COLUMNS = [
    *KEYS,
    "published",
    "reproduced",
    "verdict",
    "difference",
    "printed_low",
    "printed_high",
]
CONSISTENCY_COLUMNS = [
    "section",
    "table",
    "item",
    "level",
    "group",
    "check",
    "test",
    "printed",
    "reference",
    "p_min",
    "p_max",
    "p_min_fewest_missing",
    "p_max_fewest_missing",
    "missing_needed",
    "candidates",
    "verdict",
    "other_tests",
    "explanation",
]
#: Items answered with whole numbers (REDCap validation ``integer``), for GRIM/GRIMMER.
INTEGER_ITEMS: frozenset[tuple[str, str]] = frozenset(
    {
        ("table1", "hours_week_study_clinics"),
        ("table3", "hours_cc_week"),
        ("table3", "clinicians_per_fte"),
        ("table3", "panel_size"),
    }
)
TEST_NAMES = {
    "fisher": "Fisher's exact",
    "chisq": "chi-square (no Yates)",
    "chisq_yates": "chi-square with Yates",
    "student_t": "Student's t",
    "welch_t": "Welch's t",
    "anova": "one-way ANOVA",
    "welch_anova": "Welch's ANOVA",
}
_EPS = 1e-9


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


def _read_text_csv(path: str | Path) -> pd.DataFrame:
    """Read a CSV keeping every cell as printed text (no NaN, no numeric conversion)."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return df.astype(object)


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """``published_long.csv`` with every value kept as printed text (``"25.0"`` stays ``"25.0"``)."""
    return _read_text_csv(path or PUBLISHED_DIR / "published_long.csv")


def load_spec(path: str | Path | None = None) -> pd.DataFrame:
    """The table spec (``specs/tables.csv``): shown/combine/test per printed row."""
    return _read_text_csv(path or SPEC_PATH)


def load_study_facts(path: str | Path | None = None) -> pd.DataFrame:
    """``study_facts.csv`` (key, value, where_in_paper) as text."""
    return _read_text_csv(path or PUBLISHED_DIR / "study_facts.csv")


def load_reproduced(
    tables_dir: str | Path = "tables",
    names: Sequence[str] = ("table1", "table2", "table3", "table4"),
) -> pd.DataFrame:
    """The reproduced long tables ``<tables_dir>/table1.csv`` ... concatenated (missing files skipped)."""
    frames = []
    for name in names:
        path = Path(tables_dir) / f"{name}.csv"
        if path.is_file():
            df = pd.read_csv(path, keep_default_na=True)
            df["value"] = pd.to_numeric(df["value"], errors="coerce")
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[*KEYS, "value"])
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------
# Printed values
# ---------------------------------------------------------------------------


def _fmt_p(p: float) -> str:
    if not np.isfinite(p):
        return "NA"
    if p < 1e-4:
        return f"{p:.1e}"
    return f"{p:.4f}"


def _fmt_range(lo: float, hi: float) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "not computable"
    return f"{_fmt_p(lo)}-{_fmt_p(hi)}"


def _interval_text(pr: Printed) -> str:
    if pr.kind == "lt":
        return f"p < {pr.value:g}"
    if pr.kind == "gt":
        return f"p > {pr.value:g}"
    return f"p in [{pr.low:.{pr.decimals + 1}f}, {pr.high:.{pr.decimals + 1}f}]"


# ---------------------------------------------------------------------------
# Part 1: compare
# ---------------------------------------------------------------------------


def _norm_keys(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in KEYS:
        if c not in out.columns:
            raise ValueError(f"long table lacks column {c!r}")
        out[c] = out[c].astype(object).where(out[c].notna(), "").astype(str)
        out[c] = out[c].replace({"nan": "", "<NA>": "", "None": ""})
    return out


def compare(published_long: pd.DataFrame, reproduced_long: pd.DataFrame) -> pd.DataFrame:
    """Every printed cell beside the reproduced value, with a verdict.

    Parameters
    ----------
    published_long : ``published_long.csv`` (values as printed text; use :func:`load_published`).
    reproduced_long : the reproduced long tables (DESIGN format, ``value`` numeric and unrounded:
        pct 0-100, p unrounded), e.g. ``tables/table1.csv`` ... ``table4.csv`` concatenated.

    Returns
    -------
    One row per published cell: ``table, item, level, group, measure, published, reproduced,
    verdict, difference, printed_low, printed_high``; verdict is ``equal`` (the reproduced value
    prints as the published text), ``different`` or ``missing`` (no reproduced value).
    """
    pub = _norm_keys(published_long)
    rep = _norm_keys(reproduced_long)
    rep = rep.assign(reproduced=pd.to_numeric(rep["value"], errors="coerce"))
    rep = rep.drop_duplicates(KEYS, keep="first")[[*KEYS, "reproduced"]]
    pub = pub.assign(published=pub["value"].astype(str))[[*KEYS, "published"]]
    out = pub.merge(rep, on=KEYS, how="left", sort=False)
    verdicts, diffs, lows, highs = [], [], [], []
    for text, x in zip(out["published"], out["reproduced"], strict=True):
        pr = parse_printed(text)
        lows.append(pr.low)
        highs.append(pr.high)
        if x is None or pd.isna(x):
            verdicts.append("missing")
            diffs.append(math.nan)
            continue
        x = float(x)
        verdicts.append("equal" if pr.holds(x) else "different")
        diffs.append(pr.difference(x))
    out["reproduced"] = out["reproduced"].astype(float)
    out["verdict"] = verdicts
    out["difference"] = np.asarray(diffs, dtype=float)
    out["printed_low"] = np.asarray(lows, dtype=float)
    out["printed_high"] = np.asarray(highs, dtype=float)
    return out[COMPARISON_COLUMNS].reset_index(drop=True)


def summary(comparison: pd.DataFrame) -> pd.DataFrame:
    """Cells compared and matched, per table and in all (last row ``table == "all"``).

    Columns: table, cells, compared (a reproduced value exists), equal, different, missing,
    pct_equal (of the compared cells).
    """
    rows = []
    for name, grp in [*comparison.groupby("table", sort=True), ("all", comparison)]:
        v = grp["verdict"]
        compared = int((v != "missing").sum())
        equal = int((v == "equal").sum())
        rows.append(
            {
                "table": name,
                "cells": len(grp),
                "compared": compared,
                "equal": equal,
                "different": int((v == "different").sum()),
                "missing": int((v == "missing").sum()),
                "pct_equal": round(100 * equal / compared, 1) if compared else math.nan,
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# Part 2: candidate count tables
# ---------------------------------------------------------------------------


def _k_range(pr: Printed, n: int) -> range:
    """Counts k with 100 k / n within the printed interval."""
    lo = math.ceil(pr.low * n / 100 - 1e-9)
    hi = math.floor(pr.high * n / 100 + 1e-9)
    return range(max(lo, 0), min(hi, n) + 1)


def group_candidates(
    pcts: Sequence[Printed | str],
    n_max: int,
    limit: int = 0,
    *,
    counts: Sequence[int] | None = None,
    full: bool = False,
) -> np.ndarray:
    """Count vectors of one group consistent with its printed percentages.

    ``full``: the printed levels are the whole distribution (vectors of len(pcts) summing to n);
    otherwise a single printed level ("yes") and the vector is ``[k, n - k]``. ``counts``
    (Table 1): the printed counts; then only denominators are enumerated (a full item's table is
    the printed counts). Denominators n run from ``n_max`` down to ``n_max - limit``.
    Returns an int array (m, L + 1): the count vector and, in the last column, n.
    """
    prs = [p if isinstance(p, Printed) else parse_printed(p) for p in pcts]
    out: list[tuple[int, ...]] = []
    if full and counts is not None:
        n = int(sum(counts))
        return np.asarray([[*map(int, counts), n]], dtype=np.int64)
    if not full and len(prs) != 1:
        raise ValueError("a binary row has exactly one printed level")
    for n in range(n_max, max(n_max - limit, 0) - 1, -1):
        if n <= 0:
            continue
        if not full:
            if counts is not None:
                k = int(counts[0])
                if prs[0].holds(100 * k / n):
                    out.append((k, n - k, n))
            else:
                out.extend((k, n - k, n) for k in _k_range(prs[0], n))
            continue
        ranges = [_k_range(p, n) for p in prs]
        if any(len(r) == 0 for r in ranges):
            continue
        for combo in itertools.product(*ranges):
            if sum(combo) == n:
                out.append((*combo, n))
    width = (len(prs) if full else 2) + 1
    return np.asarray(out, dtype=np.int64).reshape(-1, width)


def _joint(
    cands: list[np.ndarray],
    total: Sequence[Printed] | None,
    full: bool,
    max_product: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Combine group candidates; keep combinations whose Total rounds to the printed Total.

    Returns (tables (m, G, L), missing-per-table placeholder n (m, G), total_ok).
    """
    sizes = [len(c) for c in cands]
    if min(sizes) == 0:
        return np.zeros((0, len(cands), 0), np.int64), np.zeros((0, len(cands)), np.int64), False
    size = int(np.prod(sizes))
    if size > max_product:
        # keep the extremes of every group: smallest/largest first-level share per denominator
        trimmed = []
        for c in cands:
            share = c[:, 0] / np.maximum(c[:, -1], 1)
            keep = set()
            for n in np.unique(c[:, -1]):
                idx = np.flatnonzero(c[:, -1] == n)
                keep.update([idx[np.argmin(share[idx])], idx[np.argmax(share[idx])]])
            trimmed.append(c[sorted(keep)])
        cands = trimmed
    grids = np.meshgrid(*[np.arange(len(c)) for c in cands], indexing="ij")
    idx = [g.ravel() for g in grids]
    tabs = np.stack([c[i, :-1] for c, i in zip(cands, idx, strict=True)], axis=1)
    ns = np.stack([c[i, -1] for c, i in zip(cands, idx, strict=True)], axis=1)
    if total is None:
        return tabs, ns, True
    tot_k = tabs.sum(axis=1)
    tot_n = ns.sum(axis=1)
    ok = np.ones(len(tabs), bool)
    levels = range(len(total)) if full else range(1)
    for level in levels:
        pr = total[level]
        pct = 100 * tot_k[:, level] / tot_n
        lo_ok = pct >= pr.low - _EPS
        hi_ok = pct <= pr.high + _EPS
        ok &= lo_ok & hi_ok
    if not ok.any():
        return tabs, ns, False
    return tabs[ok], ns[ok], True


def _pearson_stats(tabs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson and Yates statistics of many tables at once (ranking proxy only)."""
    t = tabs.astype(float)
    n = t.sum(axis=(1, 2))[:, None, None]
    e = t.sum(axis=2)[:, :, None] * t.sum(axis=1)[:, None, :] / np.where(n > 0, n, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.abs(t - e)
        x2 = np.where(e > 0, dev**2 / e, 0.0).sum(axis=(1, 2))
        y = np.minimum(0.5, dev.reshape(len(t), -1).min(axis=1))[:, None, None]
        yates = np.where(e > 0, (np.maximum(dev - y, 0)) ** 2 / e, 0.0).sum(axis=(1, 2))
    return x2, yates


class _TestCache:
    """Test p-values of count tables, cached by table (the same tables recur across ranges)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, bytes, tuple[int, ...]], float] = {}

    def p(self, test: str, table: np.ndarray) -> float:
        key = (test, table.tobytes(), table.shape)
        if key not in self.cache:
            try:
                if test == "fisher":
                    res = stats.fisher_exact(table, method="auto", seed=1)
                elif test == "chisq":
                    res = stats.chisq(table, correct=False)
                elif test == "chisq_yates":
                    res = stats.chisq(table, correct=True)
                else:
                    raise ValueError(test)
                self.cache[key] = float(res.p)
            except ValueError:
                self.cache[key] = math.nan
        return self.cache[key]


def _fisher_2x2_screen(tabs: np.ndarray) -> np.ndarray:
    """Two-sided Fisher p of many 2 x 2 tables at once, used only to rank candidate tables.

    Sum of the hypergeometric probabilities not above the observed one (times 1 + 1e-7), as
    R. The p-values reported come from :func:`ccanalysis.stats.fisher_exact` on the top-ranked
    tables; this vectorised screen only decides which tables those are.
    """
    a = tabs[:, 0, 0].astype(np.int64)
    r1 = tabs[:, 0, :].sum(axis=1)
    c1 = tabs[:, :, 0].sum(axis=1)
    n = tabs.sum(axis=(1, 2))
    lo = np.maximum(0, r1 + c1 - n)
    hi = np.minimum(r1, c1)
    width = int((hi - lo).max()) + 1
    x = lo[:, None] + np.arange(width)[None, :]
    valid = x <= hi[:, None]
    xs = np.where(valid, x, lo[:, None])
    # log pmf from a table of log k! (scipy.special.gammaln) rather than
    # scipy.stats.hypergeom.logpmf, whose six betaln per cell cost ~1 s over the paper's
    # tables; the two differ in the last bits only, far below the 1e-7 tie tolerance
    lf = gammaln(np.arange(int(n.max()) + 1) + 1.0)
    const = lf[r1] + lf[n - r1] + lf[c1] + lf[n - c1] - lf[n]
    d = n - r1 - c1
    logp = const[:, None] - (
        lf[xs] + lf[r1[:, None] - xs] + lf[c1[:, None] - xs] + lf[d[:, None] + xs]
    )
    obs = const - (lf[a] + lf[r1 - a] + lf[c1 - a] + lf[d + a])
    keep = valid & (logp <= obs[:, None] + math.log1p(1e-7))
    return np.where(keep, np.exp(logp), 0.0).sum(axis=1)


def _adaptive_end(
    tabs: np.ndarray, order: np.ndarray, test: str, cache: _TestCache, n_extreme: int, lowest: bool
) -> float:
    """Smallest (``lowest``) or largest p over the tables at one end of ``order``.

    Starts with the ``n_extreme`` tables at that end and doubles the band while the extreme found
    lies in the outer half of the band evaluated so far (so that it is well inside the band).
    """
    k = min(n_extreme, len(order))
    while True:
        ps = np.array([cache.p(test, tabs[i]) for i in order[:k]])
        if not np.isfinite(ps).any():
            return math.nan
        pos = int(np.nanargmin(ps) if lowest else np.nanargmax(ps))
        if pos < k // 2 or k >= len(order):
            return float(ps[pos])
        k = min(2 * k, len(order))


def _p_ranges(
    tabs: np.ndarray, tests: Sequence[str], cache: _TestCache, max_exact: int, n_extreme: int
) -> dict[str, tuple[float, float]]:
    """p-value range of each test over the candidate tables.

    All tables when there are at most ``max_exact``; otherwise the tables are ranked by the
    Pearson statistic (Yates statistic for the Yates test) and each end is searched adaptively
    (:func:`_adaptive_end`): exact for the chi-square tests (p is monotone in the statistic at
    fixed df), an inner bound for Fisher's test.
    """
    out: dict[str, tuple[float, float]] = {}
    if len(tabs) == 0:
        return {t: (math.nan, math.nan) for t in tests}
    if len(tabs) <= max_exact:
        for test in tests:
            ps = np.array([cache.p(test, t) for t in tabs])
            ps = ps[np.isfinite(ps)]
            out[test] = (float(ps.min()), float(ps.max())) if len(ps) else (math.nan, math.nan)
        return out
    x2, yates = _pearson_stats(tabs)
    for test in tests:
        if test == "fisher" and tabs.shape[1:] == (2, 2):
            # rank by the screen (descending p = ascending "statistic"); check a few at each end
            asc = np.argsort(-_fisher_2x2_screen(tabs), kind="stable")
            out[test] = (
                min(cache.p(test, tabs[i]) for i in asc[::-1][:4]),
                max(cache.p(test, tabs[i]) for i in asc[:4]),
            )
            continue
        stat = yates if test == "chisq_yates" else x2
        asc = np.argsort(stat, kind="stable")
        out[test] = (
            _adaptive_end(tabs, asc[::-1], test, cache, n_extreme, lowest=True),
            _adaptive_end(tabs, asc, test, cache, n_extreme, lowest=False),
        )
    return out


# ---------------------------------------------------------------------------
# Part 2: mean/SD rows
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _standard_sample(n: int) -> np.ndarray:
    """n evenly spaced values with mean 0 and SD 1 (read-only: cached)."""
    z = np.linspace(-1.0, 1.0, n)
    z = z - z.mean()
    sd = z.std(ddof=1)
    out = z / sd if sd > 0 else z
    out.flags.writeable = False
    return out


def _sample_moments(mean: float, sd: float, n: int) -> tuple[float, float]:
    """Mean and variance (ddof=1) of the sample with exactly this mean and SD."""
    x = mean + sd * _standard_sample(int(n))
    return x.mean(), x.var(ddof=1)


def _welch_anova_summary(
    means: Sequence[float],
    sds: Sequence[float],
    ns: Sequence[int],
    moments: dict[tuple[float, float, int], tuple[float, float]] | None = None,
) -> float:
    """Welch's ANOVA p from summaries: samples constructed with exactly these means and SDs.

    ``moments`` caches each group's sample moments by (mean, SD, n): the configurations of
    :func:`mean_pvalue_range` share them (the same numbers as :func:`stats.welch_anova` on the
    samples, which computes the same moments).
    """
    cache = {} if moments is None else moments
    keys = [(m, s, int(n)) for m, s, n in zip(means, sds, ns, strict=True) if int(n) > 0]
    for key in keys:  # empty groups are dropped, as welch_anova drops empty samples
        if key not in cache:
            # groups of one make welch_anova_from_moments raise, as welch_anova does
            cache[key] = _sample_moments(*key) if key[2] > 1 else (math.nan, math.nan)
    mv = [cache[key] for key in keys]
    return stats.welch_anova_from_moments(
        [m for m, _ in mv], [v for _, v in mv], [n for *_, n in keys]
    ).p


def mean_pvalue_range(
    means: Sequence[float],
    sds: Sequence[float],
    ns: Sequence[int],
    *,
    half: float = 0.05,
    n_missing: int = 0,
    grid: int = 41,
) -> dict[str, tuple[float, float]]:
    """Range of p over true means in mean +- half and SDs in SD +- half (printed to 0.1).

    Two groups: Student's t (paper) and Welch's t; more groups: one-way ANOVA (paper) and Welch's
    ANOVA. The means are taken at every corner of their box and at the configurations that bring
    them as close together as the box allows (each mean clamped to a common value c, c on a grid);
    the SDs at every corner; n at the printed N and, with ``n_missing``, at N - n_missing.
    """
    m = np.asarray(means, float)
    s = np.asarray(sds, float)
    k = len(m)
    lo_m, hi_m = m - half, m + half
    configs = [np.array(c) for c in itertools.product(*zip(lo_m, hi_m, strict=True))]
    for c in np.linspace(lo_m.min(), hi_m.max(), grid):
        configs.append(np.clip(c, lo_m, hi_m))
    sd_configs = [
        np.maximum(np.array(c), 1e-9)
        for c in itertools.product(*zip(s - half, s + half, strict=True))
    ]
    n_configs = [tuple(int(x) for x in ns)]
    if n_missing:
        n_configs.append(tuple(max(int(x) - n_missing, 2) for x in ns))
    if k == 2:
        tests: dict[str, Callable[[np.ndarray, np.ndarray, tuple[int, ...]], float]] = {
            "student_t": lambda mm, ss, nn: (
                stats.t_test_from_summary(
                    mm[0], ss[0], nn[0], mm[1], ss[1], nn[1], equal_var=True
                ).p
            ),
            "welch_t": lambda mm, ss, nn: (
                stats.t_test_from_summary(
                    mm[0], ss[0], nn[0], mm[1], ss[1], nn[1], equal_var=False
                ).p
            ),
        }
    else:
        moments: dict[tuple[float, float, int], tuple[float, float]] = {}
        tests = {
            "anova": lambda mm, ss, nn: stats.anova_from_summary(mm, ss, nn).p,
            "welch_anova": lambda mm, ss, nn: _welch_anova_summary(mm, ss, nn, moments),
        }
    out = {}
    for name, f in tests.items():
        ps = [f(mm, ss, nn) for mm in configs for ss in sd_configs for nn in n_configs]
        out[name] = (float(np.nanmin(ps)), float(np.nanmax(ps)))
    return out


# ---------------------------------------------------------------------------
# Part 2: the p-value section
# ---------------------------------------------------------------------------


@dataclass
class _Item:
    table: str
    item: str
    levels: list[str]
    groups: list[str]  # tested groups (total excluded)
    n: dict[str, int]
    pct: dict[tuple[str, str], str]
    count: dict[tuple[str, str], str]
    mean: dict[str, str]
    sd: dict[str, str]
    p: str | None
    shown: str
    test: str
    combine: str


def _items(published_long: pd.DataFrame, spec: pd.DataFrame) -> list[_Item]:
    pub = _norm_keys(published_long)
    sp = _norm_keys(spec.assign(group="", measure="")) if "group" not in spec else spec
    spec_by = {(r.table, r.item): r for r in sp.itertuples(index=False)}
    # rows grouped by table, then by item, in order of appearance: plain dicts of tuples
    # (pandas masks per item cost ~0.1 s per call on the paper's tables)
    by_table: dict[str, dict[str, list[tuple[str, str, str, object]]]] = {}
    cols = (pub[c] for c in ("table", "item", "level", "group", "measure", "value"))
    for table, item, level, group, measure, value in zip(*cols, strict=True):
        by_table.setdefault(table, {}).setdefault(item, []).append((level, group, measure, value))
    items: list[_Item] = []
    for table in sorted(by_table):
        by_item = by_table[table]
        n = {g: int(v) for _, g, _, v in by_item.get("n", [])}
        groups = [g for g in n if g != "total"]
        for item, d in by_item.items():
            if item == "n":
                continue
            levels = [lv for lv in dict.fromkeys(r[0] for r in d) if lv != ""]
            sr = spec_by.get((table, item))
            vals = {(lv, g, ms): v for lv, g, ms, v in d}
            items.append(
                _Item(
                    table=table,
                    item=item,
                    levels=levels,
                    groups=groups,
                    n=n,
                    pct={
                        (lv, g): vals[(lv, g, "pct")]
                        for lv in levels
                        for g in n
                        if (lv, g, "pct") in vals
                    },
                    count={
                        (lv, g): vals[(lv, g, "n")]
                        for lv in levels
                        for g in n
                        if (lv, g, "n") in vals
                    },
                    mean={g: vals[("", g, "mean")] for g in n if ("", g, "mean") in vals},
                    sd={g: vals[("", g, "sd")] for g in n if ("", g, "sd") in vals},
                    p=vals.get(("", "all", "p")),
                    shown=(sr.shown if sr is not None else ("mean_sd" if not levels else "binary")),
                    test=(sr.test if sr is not None else "fisher"),
                    combine=(sr.combine if sr is not None else ""),
                )
            )
    return items


def _limit(n: int, max_missing_frac: float, max_missing: int | None) -> int:
    """Item nonresponse allowed in a group of N = n: floor(frac * n), capped by max_missing."""
    lim = math.floor(max_missing_frac * n + 1e-9)
    return lim if max_missing is None else min(lim, max_missing)


def _row(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict.fromkeys(CONSISTENCY_COLUMNS, "")
    for c in ("p_min", "p_max", "p_min_fewest_missing", "p_max_fewest_missing"):
        base[c] = math.nan
    base["missing_needed"] = pd.NA
    base["candidates"] = pd.NA
    base.update(kw)
    return base


def _verdict(
    printed: Printed,
    ranges: dict[str, tuple[float, float]],
    stated: str,
    alternatives: Sequence[str],
) -> tuple[str, list[str], list[str]]:
    fits = [t for t in [stated, *alternatives] if printed.meets(*ranges.get(t, (math.nan,) * 2))]
    others = [t for t in alternatives if t in fits]
    if stated in fits:
        return "consistent", fits, others
    if others:
        return "consistent_other_test", fits, others
    return "inconsistent", fits, others


def _describe_group(it: _Item, g: str, cands: np.ndarray, full: bool) -> str:
    """'mn 84% of 178: k = 149 or 150' at the largest denominator(s)."""
    if len(cands) == 0:
        return f"{g}: no counts fit"
    nmax = int(cands[:, -1].max())
    at = cands[cands[:, -1] == nmax]
    if it.count and not full:
        k = int(at[0, 0])
        return f"{g} printed {k} ({it.pct[(it.levels[0], g)]}%): {k}/{nmax} = {100 * k / nmax:.2f}%"
    if full:
        vecs = "; ".join("(" + ",".join(map(str, r[:-1])) + ")" for r in at[:4])
        more = f" +{len(at) - 4} more" if len(at) > 4 else ""
        pcts = "/".join(it.pct[(lv, g)] for lv in it.levels)
        return f"{g} {pcts}% of n={nmax}: counts {vecs}{more}"
    ks = sorted({int(r[0]) for r in at})
    ks_txt = " or ".join(f"{k} ({100 * k / nmax:.2f}%)" for k in ks)
    return f"{g} {it.pct[(it.levels[0], g)]}% of n={nmax}: k = {ks_txt}"


def _implied_by_total(it: _Item, level: str) -> str:
    """With complete answers, the percent of each group implied by the Total and the other group."""
    if len(it.groups) != 2 or (level, "total") not in it.pct:
        return ""
    tot_n = it.n["total"]
    ks = _k_range(parse_printed(it.pct[(level, "total")]), tot_n)
    parts = []
    for g, o in (it.groups, it.groups[::-1]):
        ko = _k_range(parse_printed(it.pct[(level, o)]), it.n[o])
        if not len(ks) or not len(ko):
            continue
        lo = 100 * (ks[0] - ko[-1]) / it.n[g]
        hi = 100 * (ks[-1] - ko[0]) / it.n[g]
        parts.append(f"{g} {lo:.1f}-{hi:.1f}% (printed {it.pct[(level, g)]})")
    if not parts:
        return ""
    return (
        f" With complete answers the Total ({it.pct[(level, 'total')]}%) and the other group "
        "imply " + "; ".join(parts) + "."
    )


def _categorical_row(
    it: _Item,
    cache: _TestCache,
    max_missing_frac: float,
    max_missing: int | None,
    max_exact: int,
    n_extreme: int,
    collapsed_as_binary: bool = False,
) -> tuple[dict[str, object], dict[str, object]]:
    """The p-value row of a categorical item and its percentage-feasibility (grim) row."""
    full = it.shown == "full" and len(it.levels) > 1 and not collapsed_as_binary
    levels = it.levels if full else it.levels[:1]
    cands = []
    for g in it.groups:
        pcts = [parse_printed(it.pct[(lv, g)]) for lv in levels]
        counts = [int(it.count[(lv, g)]) for lv in levels] if it.count else None
        lim = _limit(it.n[g], max_missing_frac, max_missing)
        cands.append(group_candidates(pcts, it.n[g], lim, counts=counts, full=full))
    total = (
        [parse_printed(it.pct[(lv, "total")]) for lv in levels]
        if all((lv, "total") in it.pct for lv in levels)
        else None
    )
    tabs, ns, total_ok = _joint(cands, total, full)
    # tables: rows = groups, columns = levels (binary: yes/no)
    missing = (np.array([it.n[g] for g in it.groups])[None, :] - ns).sum(axis=1) if len(ns) else ns
    two_by_two = len(it.groups) == 2 and tabs.shape[-1] == 2
    alternatives = ["chisq", "chisq_yates"] if two_by_two else ["chisq"]
    stated = "fisher"
    ranges = _p_ranges(tabs, [stated, *alternatives], cache, max_exact, n_extreme)
    need = int(missing.min()) if len(missing) else None
    fewest = tabs[missing == need] if need is not None else tabs
    ranges_few = _p_ranges(fewest, [stated], cache, max_exact, n_extreme)
    printed = parse_printed(it.p) if it.p else None
    descr = "; ".join(
        _describe_group(it, g, c, full) for g, c in zip(it.groups, cands, strict=True)
    )
    dist = (
        "the whole printed distribution (" + ", ".join(levels) + ")"
        if full
        else f"'{levels[0]}' vs the rest"
    )
    lims = ", ".join(
        f"{g} {it.n[g]}-{it.n[g] - _limit(it.n[g], max_missing_frac, max_missing)}"
        for g in it.groups
    )
    tot_txt = (
        ""
        if total_ok
        else " No combination makes the Total column round to its printed value(s); the range "
        "is taken over the groups' candidates without that constraint."
        + ("" if full else _implied_by_total(it, levels[0]))
    )
    base_expl = (
        f"{TEST_NAMES[stated]} test on {dist}, groups {', '.join(it.groups)} "
        f"(denominators {lims}). {descr}. {len(tabs)} candidate tables "
        f"(fewest missing answers needed: {need}).{tot_txt} "
    )
    rng_txt = "; ".join(
        f"{TEST_NAMES[t]} p {_fmt_range(*ranges[t])}" for t in [stated, *alternatives]
    )
    grim = _row(
        section="grim",
        table=it.table,
        item=it.item,
        level="+".join(levels),
        group="",
        check="pct_distribution",
        test="",
        printed="; ".join(
            f"{g}: " + "/".join(it.pct[(lv, g)] for lv in levels)
            for g in ["total", *it.groups]
            if all((lv, g) in it.pct for lv in levels)
        ),
        missing_needed=need,
        candidates=len(tabs),
        verdict="consistent" if (len(tabs) and total_ok) else "inconsistent",
        explanation=(
            f"Printed percentages are possible with {need} missing answer(s) in all "
            f"({len(tabs)} count tables fit every group and the Total). " + descr + "."
            if len(tabs) and total_ok
            else "No count table with at most the allowed missing answers rounds to the "
            "printed percentages of every group and the Total. " + descr + "." + tot_txt
        ),
    )
    row = _row(
        section="pvalue",
        table=it.table,
        item=it.item,
        level="+".join(levels),
        group="all",
        check="p",
        test=stated,
        printed=it.p or "",
        p_min=ranges[stated][0],
        p_max=ranges[stated][1],
        p_min_fewest_missing=ranges_few[stated][0],
        p_max_fewest_missing=ranges_few[stated][1],
        missing_needed=need,
        candidates=len(tabs),
    )
    if printed is None:
        row.update(verdict="not_checkable", explanation=base_expl + "No p-value printed.")
        return row, grim
    verdict, fits, others = _verdict(printed, ranges, stated, alternatives)
    row.update(
        verdict=verdict,
        other_tests=";".join(others),
        explanation=(
            base_expl + f"{rng_txt}; printed {printed.text} ({_interval_text(printed)})"
            f" -> {verdict}"
            + (f" (explained by {', '.join(TEST_NAMES[t] for t in fits)})" if fits else "")
            + "."
        ),
    )
    return row, grim


def _mean_row(it: _Item, mean_missing: int) -> dict[str, object]:
    groups = it.groups
    means = [float(it.mean[g]) for g in groups]
    sds = [float(it.sd[g]) for g in groups]
    ns = [it.n[g] for g in groups]
    ranges = mean_pvalue_range(means, sds, ns, n_missing=mean_missing)
    stated = "student_t" if len(groups) == 2 else "anova"
    alternatives = ["welch_t"] if len(groups) == 2 else ["welch_anova"]
    printed = parse_printed(it.p)
    verdict, fits, others = _verdict(printed, ranges, stated, alternatives)
    desc = ", ".join(f"{g} {it.mean[g]} ({it.sd[g]}) n={it.n[g]}" for g in groups)
    rng_txt = "; ".join(
        f"{TEST_NAMES[t]} p {_fmt_range(*ranges[t])}" for t in [stated, *alternatives]
    )
    return _row(
        section="pvalue",
        table=it.table,
        item=it.item,
        level="",
        group="all",
        check="p",
        test=stated,
        printed=it.p,
        p_min=ranges[stated][0],
        p_max=ranges[stated][1],
        verdict=verdict,
        other_tests=";".join(others),
        explanation=(
            f"{TEST_NAMES[stated]} from printed mean (SD) and N: {desc}; means and SDs "
            f"+-0.05 (rounding){f', n down to N-{mean_missing}' if mean_missing else ''}. "
            f"{rng_txt}; printed {printed.text} ({_interval_text(printed)}) -> {verdict}"
            + (f" (explained by {', '.join(TEST_NAMES[t] for t in fits)})" if fits else "")
            + "."
        ),
    )


def check_consistency(
    published_long: pd.DataFrame | None = None,
    spec: pd.DataFrame | None = None,
    *,
    max_missing_frac: float = 0.10,
    max_missing: int | None = None,
    mean_missing: int = 0,
    max_exact: int = 64,
    n_extreme: int = 16,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``pvalue`` section and the percentage-feasibility rows of the ``grim`` section.

    Returns (pvalue rows, pct_distribution rows); see the module docstring for the method.
    """
    pub = load_published() if published_long is None else published_long
    sp = load_spec() if spec is None else spec
    cache = _TestCache()
    prow, grow = [], []
    for it in _items(pub, sp):
        if it.test == "none":
            continue
        if it.mean:
            prow.append(_mean_row(it, mean_missing))
            continue
        if it.shown == "collapsed":
            row, grim = _categorical_row(
                it,
                cache,
                max_missing_frac,
                max_missing,
                max_exact,
                n_extreme,
                collapsed_as_binary=True,
            )
            info = (
                f"For information, {TEST_NAMES['fisher']} on the collapsed yes/no table gives "
                f"p {_fmt_range(row['p_min'], row['p_max'])}; printed {it.p}."
            )
            row.update(
                verdict="not_checkable",
                other_tests="",
                p_min=math.nan,
                p_max=math.nan,
                p_min_fewest_missing=math.nan,
                p_max_fewest_missing=math.nan,
                explanation=(
                    f"Printed collapsed: only '{it.levels[0]}' ({it.combine or 'top levels'})"
                    " of a longer answer scale is shown, and the p-value refers to the "
                    "full distribution, which the paper does not print. " + info
                ),
            )
            prow.append(row)
            if not it.count:
                grow.append(grim)
            continue
        row, grim = _categorical_row(it, cache, max_missing_frac, max_missing, max_exact, n_extreme)
        prow.append(row)
        if not it.count:  # Table 1 count rows are checked cell by cell in check_grim
            grow.append(grim)
    return pd.DataFrame(prow, columns=CONSISTENCY_COLUMNS), pd.DataFrame(
        grow, columns=CONSISTENCY_COLUMNS
    )


# ---------------------------------------------------------------------------
# Part 2: GRIM-type checks
# ---------------------------------------------------------------------------


def grim_mean_ok(mean: float | str, n: int, decimals: int | None = None) -> bool:
    """GRIM: can n whole-number answers have a mean that prints as ``mean``?"""
    pr = parse_printed(mean) if decimals is None else parse_printed(f"{float(mean):.{decimals}f}")
    lo = math.ceil(pr.low * n - 1e-9)
    hi = math.floor(pr.high * n + 1e-9)
    return hi >= lo


def grimmer_sd_ok(mean: float | str, sd: float | str, n: int) -> bool:
    """GRIMMER (parity and range): can n whole-number answers have this printed mean and SD?

    For an integer sum S compatible with the mean, the sum of squares Q is an integer with
    Q = (n - 1) SD^2 + S^2 / n and Q = S (mod 2) (x^2 and x have the same parity).
    """
    pm, ps = parse_printed(mean), parse_printed(sd)
    for s in range(math.ceil(pm.low * n - 1e-9), math.floor(pm.high * n + 1e-9) + 1):
        q_lo = (n - 1) * max(ps.low, 0) ** 2 + s * s / n
        q_hi = (n - 1) * ps.high**2 + s * s / n
        q = math.ceil(q_lo - 1e-9)
        if q % 2 != s % 2:
            q += 1
        if q <= q_hi + 1e-9:
            return True
    return False


def _denominators(k: int, pct: Printed, n_max: int, limit: int) -> list[int]:
    return [n for n in range(n_max, max(n_max - limit, 1) - 1, -1) if pct.holds(100 * k / n)]


def check_grim(
    published_long: pd.DataFrame | None = None,
    spec: pd.DataFrame | None = None,
    *,
    max_missing_frac: float = 0.10,
    max_missing: int | None = None,
    integer_items: Iterable[tuple[str, str]] = INTEGER_ITEMS,
) -> pd.DataFrame:
    """Percentages vs counts (Tables 1, 2), additivity, GRIM/GRIMMER of integer items, and the
    Total mean/SD against the group means/SDs. One row per check (section ``grim``)."""
    pub = load_published() if published_long is None else published_long
    sp = load_spec() if spec is None else spec
    ints = set(integer_items)
    rows = []
    for it in _items(pub, sp):
        groups_all = ["total", *it.groups]
        # -- counts and percentages (Tables 1 and 2)
        for lv in it.levels if it.count else []:
            dens: dict[str, list[int]] = {}
            for g in groups_all:
                if (lv, g) not in it.count:
                    continue
                k, pr = int(it.count[(lv, g)]), parse_printed(it.pct[(lv, g)])
                n = it.n[g]
                lim = _limit(n, max_missing_frac, max_missing)
                dens[g] = _denominators(k, pr, n, lim)
                at_n = pr.holds(100 * k / n)
                ok = bool(dens[g])
                expl = f"printed {k} ({pr.text}%) of N={n}: {k}/{n} = {100 * k / n:.2f}%"
                if at_n:
                    expl += f", rounds to {pr.text} (fits N)."
                elif ok:
                    expl += (
                        f" does not round to {pr.text}; denominators that fit (at most {lim} "
                        f"missing): "
                        + ", ".join(f"{k}/{d} = {100 * k / d:.2f}%" for d in dens[g][:4])
                        + "."
                    )
                else:
                    expl += (
                        f" does not round to {pr.text}, and no denominator from {n} down to "
                        f"{n - lim} does."
                    )
                rows.append(
                    _row(
                        section="grim",
                        table=it.table,
                        item=it.item,
                        level=lv,
                        group=g,
                        check="pct_vs_count",
                        printed=f"{k} ({pr.text})",
                        reference=f"{100 * k / n:.2f}",
                        missing_needed=(n - dens[g][0]) if ok else pd.NA,
                        verdict="consistent" if ok else "inconsistent",
                        explanation=expl,
                    )
                )
            # additivity of counts
            if all((lv, g) in it.count for g in groups_all):
                tot = int(it.count[(lv, "total")])
                parts = [int(it.count[(lv, g)]) for g in it.groups]
                ok = tot == sum(parts)
                rows.append(
                    _row(
                        section="grim",
                        table=it.table,
                        item=it.item,
                        level=lv,
                        group="total",
                        check="count_additivity",
                        printed=str(tot),
                        reference=str(sum(parts)),
                        verdict="consistent" if ok else "inconsistent",
                        explanation=f"Total {tot} vs sum of groups "
                        f"{' + '.join(map(str, parts))} = {sum(parts)}.",
                    )
                )
                # denominators add up: some group denominators summing to a total denominator
                if all(dens.get(g) for g in groups_all):
                    sums = {sum(c) for c in itertools.product(*[dens[g] for g in it.groups])}
                    common = sorted(sums & set(dens["total"]), reverse=True)
                    rows.append(
                        _row(
                            section="grim",
                            table=it.table,
                            item=it.item,
                            level=lv,
                            group="total",
                            check="denominators_add_up",
                            printed=it.pct[(lv, "total")],
                            reference=";".join(map(str, common[:3])),
                            missing_needed=(it.n["total"] - common[0]) if common else pd.NA,
                            verdict="consistent" if common else "inconsistent",
                            explanation=(
                                "Group denominators that fit the printed percentages "
                                + "; ".join(f"{g}: {dens[g][:3]}" for g in it.groups)
                                + f" add up to a Total denominator that fits ({common[:3]})."
                                if common
                                else "No choice of fitting group denominators adds up to a Total "
                                f"denominator that fits the printed Total % ({dens['total'][:3]})."
                            ),
                        )
                    )
        # full distributions with counts: denominators common to all levels
        if it.count and it.shown == "full" and len(it.levels) > 1:
            for g in groups_all:
                ks = [int(it.count[(lv, g)]) for lv in it.levels]
                n_sum = sum(ks)
                ok = n_sum == it.n[g]
                rows.append(
                    _row(
                        section="grim",
                        table=it.table,
                        item=it.item,
                        level="+".join(it.levels),
                        group=g,
                        check="counts_sum_to_n",
                        printed=str(it.n[g]),
                        reference=str(n_sum),
                        verdict="consistent" if ok else "inconsistent",
                        explanation=f"Counts {'+'.join(map(str, ks))} = {n_sum} vs N = {it.n[g]}.",
                    )
                )
        # -- means
        if not it.mean:
            continue
        integer = (it.table, it.item) in ints
        for g in groups_all if integer else []:
            n = it.n[g]
            ok = grim_mean_ok(it.mean[g], n)
            lo_s = math.ceil(parse_printed(it.mean[g]).low * n - 1e-9)
            rows.append(
                _row(
                    section="grim",
                    table=it.table,
                    item=it.item,
                    group=g,
                    check="grim_mean",
                    printed=it.mean[g],
                    reference=f"n={n}",
                    verdict="consistent" if ok else "inconsistent",
                    explanation=(
                        f"Whole-number answers, n={n}: mean {it.mean[g]} needs a sum "
                        f"in [{parse_printed(it.mean[g]).low * n:.2f}, "
                        f"{parse_printed(it.mean[g]).high * n:.2f}]"
                        + (
                            f"; e.g. {lo_s}/{n} = {lo_s / n:.3f}."
                            if ok
                            else "; no integer lies there."
                        )
                    ),
                )
            )
            ok2 = grimmer_sd_ok(it.mean[g], it.sd[g], n)
            rows.append(
                _row(
                    section="grim",
                    table=it.table,
                    item=it.item,
                    group=g,
                    check="grimmer_sd",
                    printed=f"{it.mean[g]} ({it.sd[g]})",
                    reference=f"n={n}",
                    verdict="consistent" if ok2 else "inconsistent",
                    explanation=(
                        f"Whole-number answers, n={n}, mean {it.mean[g]}, SD {it.sd[g]}: "
                        + (
                            "some integer sum of squares of the right parity fits."
                            if ok2
                            else "no integer sum S and sum of squares Q "
                            "(Q = (n-1)SD^2 + S^2/n, Q = S mod 2) fits."
                        )
                    ),
                )
            )
        if "total" in it.mean and all(g in it.mean for g in it.groups):
            rows.extend(_decomposition_rows(it))
    return pd.DataFrame(rows, columns=CONSISTENCY_COLUMNS)


def _decomposition_rows(it: _Item) -> list[dict[str, object]]:
    """Total mean and SD implied by the group means/SDs (+-0.05) and group N."""
    ns = np.array([it.n[g] for g in it.groups], float)
    m = np.array([float(it.mean[g]) for g in it.groups])
    s = np.array([float(it.sd[g]) for g in it.groups])
    big_n = ns.sum()
    h = 0.05
    wm_lo = float((ns * (m - h)).sum() / big_n)
    wm_hi = float((ns * (m + h)).sum() / big_n)
    pm = parse_printed(it.mean["total"])
    ok_m = pm.meets(wm_lo, wm_hi)
    configs = [np.array(c) for c in itertools.product(*zip(m - h, m + h, strict=True))]
    configs += [np.clip(c, m - h, m + h) for c in np.linspace((m - h).min(), (m + h).max(), 41)]
    tot_sd = []
    for mm in configs:
        grand = (ns * mm).sum() / big_n
        between = (ns * (mm - grand) ** 2).sum()
        for ss in (s - h, s + h):
            tot_sd.append(math.sqrt(((ns - 1) * ss**2).sum() + between) / math.sqrt(big_n - 1))
    sd_lo, sd_hi = min(tot_sd), max(tot_sd)
    ps = parse_printed(it.sd["total"])
    ok_s = ps.meets(sd_lo, sd_hi)
    nn = int(big_n)
    same_n = nn == it.n["total"]
    note = "" if same_n else f" (group N add up to {nn}, Total N is {it.n['total']})"
    return [
        _row(
            section="grim",
            table=it.table,
            item=it.item,
            group="total",
            check="total_mean",
            printed=it.mean["total"],
            reference=f"{wm_lo:.3f}-{wm_hi:.3f}",
            verdict="consistent" if ok_m else "inconsistent",
            explanation=(
                f"N-weighted mean of the group means (each +-0.05){note}: "
                f"{wm_lo:.3f}-{wm_hi:.3f}; printed Total {pm.text} "
                f"({'fits' if ok_m else 'does not fit'})."
            ),
        ),
        _row(
            section="grim",
            table=it.table,
            item=it.item,
            group="total",
            check="total_sd",
            printed=it.sd["total"],
            reference=f"{sd_lo:.3f}-{sd_hi:.3f}",
            verdict="consistent" if ok_s else "inconsistent",
            explanation=(
                f"Total SD from the group means, SDs (each +-0.05) and N{note}: "
                f"sqrt((sum (n-1)SD^2 + sum n (mean - grand mean)^2) / (N-1)) = "
                f"{sd_lo:.3f}-{sd_hi:.3f}; printed Total SD {ps.text} "
                f"({'fits' if ok_s else 'does not fit'}"
                + (
                    ""
                    if ok_s
                    else ": the groups' answers would have to have different "
                    "N than printed (item nonresponse) or the Total was computed otherwise"
                )
                + ")."
            ),
        ),
    ]


# ---------------------------------------------------------------------------
# Part 2: the text against the tables
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TextClaim:
    """A number quoted in the paper's text and how to get it from the printed tables.

    kind: ``value`` (agree when |text - table| <= tol, tol default = half a unit of the text's
    last printed digit), ``p`` (the two printed p intervals meet), ``direction`` (table value
    > 0), ``range`` (every table value within [low, high]), ``below``/``above`` (every table
    value below/above ``text``).
    """

    key: str
    where: str
    quote: str
    text: str
    table_expr: str
    compute: Callable[[Callable[..., object]], object]
    kind: str = "value"
    tol: float | None = None
    note: str = ""
    low: float = math.nan
    high: float = math.nan


def _c(
    key: str,
    where: str,
    quote: str,
    text: str,
    table_expr: str,
    compute: Callable[[Callable[..., object]], object],
    **kw: object,
) -> TextClaim:
    return TextClaim(key, where, quote, text, table_expr, compute, **kw)  # type: ignore[arg-type]


_SOCIAL = [
    "svc_social_needs",
    "svc_cultural",
    "svc_financial",
    "svc_insurance",
    "svc_employment",
    "svc_spiritual",
]


def _diff(v: Callable[..., object], table: str, item: str, level: str) -> float:
    return float(v(table, item, level, "isw", "pct")) - float(v(table, item, level, "mn", "pct"))


#: The text's numbers, read from the paper (Methods, Results, Comparing, Discussion, Limitations).
TEXT_CLAIMS: list[TextClaim] = [
    _c(
        "recruited_pct_of_eligible",
        "Methods",
        "317 clinics (83% of eligible clinics)",
        "83",
        "100 * 317 / (415 - 35)",
        lambda v: 100 * 317 / 380,
    ),
    _c(
        "limitations_eligible_pct",
        "Study Limitations",
        "a 100% response rate from the 81% of clinics in the state that were eligible",
        "81",
        "Methods: 317 of 380 eligible = 83.4%",
        lambda v: 100 * 317 / 380,
        note="The Limitations quote 81% where the Methods give 83% (317/380 = 83.4%); no ratio of "
        "the paper's counts gives 81%.",
    ),
    _c(
        "care_systems_sum",
        "Results",
        "42 care systems: 16 small, 15 medium, 11 large",
        "42",
        "16 + 15 + 11",
        lambda v: 16 + 15 + 11,
    ),
    _c(
        "isw_clinics",
        "Results",
        "139 (44%) of the clinics used the ... integrated social worker model",
        "139",
        "Table 2 isw_model total n",
        lambda v: v("table2", "isw_model", "yes", "total", "n"),
    ),
    _c(
        "isw_clinics_pct",
        "Results",
        "139 (44%)",
        "44",
        "100 * 139 / 317 (Table 2: 43.8)",
        lambda v: 100 * 139 / 317,
    ),
    _c(
        "mn_clinics_pct",
        "Results",
        "178 (56%) used the medical nursing model",
        "56",
        "100 * 178 / 317",
        lambda v: 100 * 178 / 317,
    ),
    _c(
        "coordinators",
        "Results / Table 1 title",
        "213 individual care coordinators",
        "213",
        "Table 1 N total",
        lambda v: v("table1", "n", "", "total", "n"),
    ),
    _c(
        "coordinators_multi_clinic",
        "Results",
        "Sixty-one (29%) of them worked in ... 2 to 5 clinics",
        "61",
        "Table 1 multi_clinic total n",
        lambda v: v("table1", "multi_clinic", "yes", "total", "n"),
    ),
    _c(
        "coordinators_multi_clinic_pct",
        "Results",
        "Sixty-one (29%)",
        "29",
        "Table 1 multi_clinic total % (28.6)",
        lambda v: v("table1", "multi_clinic", "yes", "total", "pct"),
    ),
    _c(
        "coordinators_social_work_degree",
        "Results",
        "fourteen (7%) of them had social work degrees",
        "14",
        "Table 1 degree msw_bsw total n",
        lambda v: v("table1", "degree", "msw_bsw", "total", "n"),
    ),
    _c(
        "coordinators_social_work_degree_pct",
        "Results",
        "fourteen (7%)",
        "7",
        "Table 1 degree msw_bsw total % (6.6)",
        lambda v: v("table1", "degree", "msw_bsw", "total", "pct"),
    ),
    _c(
        "rn_bachelor_master_pct",
        "Results",
        "nearly all the rest were registered nurses (RNs), 46% with a bachelor's or master's degree",
        "46",
        "MSN/BSN among RNs: 75 / (88 + 75)",
        lambda v: (
            100
            * v("table1", "degree", "msn_bsn", "total", "n")
            / (
                v("table1", "degree", "msn_bsn", "total", "n")
                + v("table1", "degree", "rn", "total", "n")
            )
        ),
        note="46% is of the RNs (75/163); of all coordinators it is 35.2%.",
    ),
    _c(
        "coordinators_certified_pct",
        "Results",
        "Only 16% ... had been certified",
        "16",
        "Table 1 certified_cc total % (15.8)",
        lambda v: v("table1", "certified_cc", "yes", "total", "pct"),
    ),
    _c(
        "coordinators_years_mean",
        "Results",
        "a mean of 4.8 years",
        "4.8",
        "Table 1 years_cc_role total mean",
        lambda v: v("table1", "years_cc_role", "", "total", "mean"),
    ),
    _c(
        "coordinators_years_sd",
        "Results",
        "(SD = 4.4)",
        "4.4",
        "Table 1 years_cc_role total SD",
        lambda v: v("table1", "years_cc_role", "", "total", "sd"),
    ),
    _c(
        "isw_fewer_advanced_nursing",
        "Results",
        "care coordinators in integrated social worker clinics were less likely to have advanced nursing degrees",
        "mn > isw",
        "Table 1 msn_bsn mn_only % - isw_only %",
        lambda v: (
            v("table1", "degree", "msn_bsn", "mn_only", "pct")
            - v("table1", "degree", "msn_bsn", "isw_only", "pct")
        ),
        kind="direction",
    ),
    _c(
        "isw_more_onsite_table1",
        "Results",
        "... and more likely to work on-site",
        "isw > mn",
        "Table 1 work_onsite isw_only % - mn_only %",
        lambda v: (
            v("table1", "work_onsite", "usually_always", "isw_only", "pct")
            - v("table1", "work_onsite", "usually_always", "mn_only", "pct")
        ),
        kind="direction",
        note="Table 1 (coordinator works on-site usually/always: 25.6% vs 4.4%) points the other "
        "way from Table 3 and the abstract (at least one coordinator always on-site: 44% vs 63%).",
    ),
    _c(
        "abstract_isw_less_onsite",
        "Abstract / Comparing Care Models",
        "These care coordinators were also less likely to be on site",
        "isw < mn",
        "Table 3 cc_always_onsite mn % - isw %",
        lambda v: (
            v("table3", "cc_always_onsite", "yes", "mn", "pct")
            - v("table3", "cc_always_onsite", "yes", "isw", "pct")
        ),
        kind="direction",
    ),
    _c(
        "mn_clinics_with_sw_on_team",
        "Care Model",
        "Only 21 clinics reporting a social worker on the care team",
        "21",
        "Table 2 sw_on_team mn n (= 160 - 139)",
        lambda v: v("table2", "sw_on_team", "yes", "mn", "n"),
    ),
    _c(
        "mn_sw_on_team_difficult_pct",
        "Care Model",
        "Twelve of these 21 respondents (57%)",
        "57",
        "100 * 12 / 21",
        lambda v: 100 * 12 / 21,
    ),
    _c(
        "fulltime_cc_hours_mean",
        "Care Coordination Activities",
        "spend 21.7 hours",
        "21.7",
        "Table 3 hours_cc_week total mean",
        lambda v: v("table3", "hours_cc_week", "", "total", "mean"),
    ),
    _c(
        "fulltime_cc_hours_sd",
        "Care Coordination Activities",
        "(SD = 14.8)",
        "14.8",
        "Table 3 hours_cc_week total SD",
        lambda v: v("table3", "hours_cc_week", "", "total", "sd"),
    ),
    _c(
        "panel_patients_per_coordinator_mean",
        "Care Coordination Activities",
        "a panel size of 48.5 patients",
        "48.5",
        "Table 3 panel_size total mean",
        lambda v: v("table3", "panel_size", "", "total", "mean"),
    ),
    _c(
        "clinicians_per_coordinator_mean",
        "Care Coordination Activities",
        "from 12.4 clinicians",
        "12.4",
        "Table 3 clinicians_per_fte total mean",
        lambda v: v("table3", "clinicians_per_fte", "", "total", "mean"),
    ),
    _c(
        "minutes_per_patient",
        "Care Coordination Activities",
        "This is about 30 minutes per week per care coordination patient",
        "30",
        "60 * 21.7 / 48.5",
        lambda v: 60 * 21.7 / 48.5,
        tol=5.0,
        note="'about': 26.8 minutes, accepted within 5 minutes.",
    ),
    _c(
        "panel_about_right_pct",
        "Care Coordination Activities",
        "Sixty percent of respondents felt this was about the right panel size",
        "60",
        "Table 3 panel_judgement about_right total %",
        lambda v: v("table3", "panel_judgement", "about_right", "total", "pct"),
    ),
    _c(
        "isw_rest_too_many",
        "Care Coordination Activities",
        "most of the rest in integrated social worker clinics thought it was too many",
        "too_many > too_few",
        "Table 3 panel_judgement isw too_many - too_few",
        lambda v: (
            v("table3", "panel_judgement", "too_many", "isw", "pct")
            - v("table3", "panel_judgement", "too_few", "isw", "pct")
        ),
        kind="direction",
    ),
    _c(
        "video_virtually_none",
        "Care Coordination Activities",
        "virtually none were conducted by video",
        "2",
        "Table 3 pt_comm_video total %",
        lambda v: v("table3", "pt_comm_video", "always_mostly", "total", "pct"),
        kind="below",
        note="'virtually none' read as at most 2%.",
    ),
    _c(
        "over_80_social_community",
        "Care Coordination Activities",
        "Over 80% reported assessing social needs and referring to community resources",
        "80",
        "Table 3 svc_social_needs, svc_community_referral total %",
        lambda v: [
            v("table3", "svc_social_needs", "yes", "total", "pct"),
            v("table3", "svc_community_referral", "yes", "total", "pct"),
        ],
        kind="above",
    ),
    _c(
        "text_panel_isw",
        "Comparing Care Models",
        "53 vs 45 patients per care coordinator",
        "53",
        "Table 3 panel_size isw mean (52.5)",
        lambda v: v("table3", "panel_size", "", "isw", "mean"),
        note="52.5 rounds to 53 half-up (R's round-half-even would give 52).",
    ),
    _c(
        "text_panel_mn",
        "Comparing Care Models",
        "53 vs 45",
        "45",
        "Table 3 panel_size mn mean (45.3)",
        lambda v: v("table3", "panel_size", "", "mn", "mean"),
    ),
    _c(
        "text_panel_p",
        "Comparing Care Models",
        "P = .38",
        ".38",
        "Table 3 panel_size p",
        lambda v: v("table3", "panel_size", "", "all", "p", raw=True),
        kind="p",
    ),
    _c(
        "text_clinicians_isw",
        "Comparing Care Models",
        "more clinicians per coordinator (16 vs 9",
        "16",
        "Table 3 clinicians_per_fte isw mean (16.3)",
        lambda v: v("table3", "clinicians_per_fte", "", "isw", "mean"),
    ),
    _c(
        "text_clinicians_mn",
        "Comparing Care Models",
        "16 vs 9",
        "9",
        "Table 3 clinicians_per_fte mn mean (9.3)",
        lambda v: v("table3", "clinicians_per_fte", "", "mn", "mean"),
    ),
    _c(
        "text_clinicians_p",
        "Comparing Care Models",
        "P < .001",
        "<.001",
        "Table 3 clinicians_per_fte p",
        lambda v: v("table3", "clinicians_per_fte", "", "all", "p", raw=True),
        kind="p",
    ),
    _c(
        "abstract_twice_clinicians",
        "Abstract",
        "worked with almost twice as many clinicians",
        "1.6-2.0",
        "Table 3 clinicians_per_fte isw / mn mean",
        lambda v: (
            v("table3", "clinicians_per_fte", "", "isw", "mean")
            / v("table3", "clinicians_per_fte", "", "mn", "mean")
        ),
        kind="range",
        low=1.6,
        high=2.0,
        note="'almost twice' read as a ratio 1.6-2.0.",
    ),
    _c(
        "text_onsite_isw",
        "Comparing Care Models",
        "always have a care coordinator on-site (44% vs 63%)",
        "44",
        "Table 3 cc_always_onsite isw %",
        lambda v: v("table3", "cc_always_onsite", "yes", "isw", "pct"),
    ),
    _c(
        "text_onsite_mn",
        "Comparing Care Models",
        "(44% vs 63%)",
        "63",
        "Table 3 cc_always_onsite mn %",
        lambda v: v("table3", "cc_always_onsite", "yes", "mn", "pct"),
    ),
    _c(
        "text_pt_phone_isw",
        "Comparing Care Models",
        "patients (95% vs 84%",
        "95",
        "Table 3 pt_comm_phone isw %",
        lambda v: v("table3", "pt_comm_phone", "always_mostly", "isw", "pct"),
    ),
    _c(
        "text_pt_phone_mn",
        "Comparing Care Models",
        "(95% vs 84%",
        "84",
        "Table 3 pt_comm_phone mn %",
        lambda v: v("table3", "pt_comm_phone", "always_mostly", "mn", "pct"),
    ),
    _c(
        "text_pt_phone_p",
        "Comparing Care Models",
        "(95% vs 84%, P = .002)",
        ".002",
        "Table 3 pt_comm_phone p",
        lambda v: v("table3", "pt_comm_phone", "", "all", "p", raw=True),
        kind="p",
        note="Table 3 prints 0.008 for the same row.",
    ),
    _c(
        "text_clin_phone_isw",
        "Comparing Care Models",
        "clinicians (30% vs 15%",
        "30",
        "Table 3 clin_comm_phone isw %",
        lambda v: v("table3", "clin_comm_phone", "always_mostly", "isw", "pct"),
    ),
    _c(
        "text_clin_phone_mn",
        "Comparing Care Models",
        "(30% vs 15%",
        "15",
        "Table 3 clin_comm_phone mn %",
        lambda v: v("table3", "clin_comm_phone", "always_mostly", "mn", "pct"),
    ),
    _c(
        "text_clin_phone_p",
        "Comparing Care Models",
        "(30% vs 15%, < 0.001)",
        "<0.001",
        "Table 3 clin_comm_phone p",
        lambda v: v("table3", "clin_comm_phone", "", "all", "p", raw=True),
        kind="p",
    ),
    _c(
        "social_needs_20_30",
        "Comparing Care Models",
        "20 to 30% more likely to report involvement in social needs",
        "20-30",
        "Table 3 isw - mn % for " + ", ".join(_SOCIAL),
        lambda v: [_diff(v, "table3", i, "yes") for i in _SOCIAL],
        kind="range",
        low=20,
        high=30,
        note="Differences are percentage points (relative differences are larger, e.g. 22/71 = 31%).",
    ),
    _c(
        "abstract_10_30",
        "Abstract",
        "10 to 30% more likely to assess patients' social needs, provide a broader range of services, "
        "and to be more engaged in the process of referral",
        "10-30",
        "Table 3 isw - mn % for complexity_social, refer_outside, connect_*, social services",
        lambda v: [
            _diff(v, "table3", "complexity_social", "all_most"),
            _diff(v, "table3", "refer_outside", "most_of_the_time"),
            _diff(v, "table3", "connect_contact_resource", "yes"),
            _diff(v, "table3", "connect_call_with_patient", "yes"),
            *[_diff(v, "table3", i, "yes") for i in _SOCIAL],
        ],
        kind="range",
        low=10,
        high=30,
        note="Percentage points.",
    ),
    _c(
        "isw_specialists_transitions",
        "Comparing Care Models",
        "more likely to report facilitating services by medical specialists and transitions in care",
        "isw > mn",
        "Table 3 svc_specialists, svc_transitions isw - mn",
        lambda v: [
            _diff(v, "table3", "svc_specialists", "yes"),
            _diff(v, "table3", "svc_transitions", "yes"),
        ],
        kind="direction",
    ),
    _c(
        "most_space_assistants",
        "Broad Approaches",
        "Most reported having dedicated space ... and assistance in contacting them",
        "50",
        "Table 4 support_space, support_assistants total %",
        lambda v: [
            v("table4", "support_space", "yes", "total", "pct"),
            v("table4", "support_assistants", "yes", "total", "pct"),
        ],
        kind="above",
    ),
    _c(
        "majorities_resources",
        "Broad Approaches",
        "Majorities also reported having pharmacists, behavioral therapists, and various "
        "medical/surgical specialists at their clinic",
        "50",
        "Table 4 resource_pharmacist, _behavioral, _med_specialists, _surg_specialists total %",
        lambda v: [
            v("table4", i, "yes", "total", "pct")
            for i in [
                "resource_pharmacist",
                "resource_behavioral",
                "resource_med_specialists",
                "resource_surg_specialists",
            ]
        ],
        kind="above",
        note="Surgical specialists: 35%, not a majority.",
    ),
    _c(
        "third_chw",
        "Broad Approaches",
        "a third also had access to community health workers",
        "33",
        "Table 4 resource_chw total %",
        lambda v: v("table4", "resource_chw", "yes", "total", "pct"),
        tol=4.0,
        note="'a third' accepted within 4 points.",
    ),
    _c(
        "familiar_clinical_70",
        "Broad Approaches",
        "70% reported being very familiar with the clinical resources",
        "70",
        "Table 4 familiar_clinical total %",
        lambda v: v("table4", "familiar_clinical", "very", "total", "pct"),
    ),
    _c(
        "familiar_community_50",
        "Broad Approaches",
        "50% were very familiar with community resources",
        "50",
        "Table 4 familiar_community total %",
        lambda v: v("table4", "familiar_community", "very", "total", "pct"),
    ),
    _c(
        "people_below_50",
        "Broad Approaches",
        "less than 50% of each group reported having a personal relationship with the people at those resources",
        "50",
        "Table 4 familiar_community_people mn, isw %",
        lambda v: [
            v("table4", "familiar_community_people", "very", g, "pct") for g in ("mn", "isw")
        ],
        kind="below",
    ),
    _c(
        "specialty_47",
        "Broad Approaches",
        "Forty-seven percent said that specialty medical services were readily available",
        "47",
        "Table 4 specialty_available total %",
        lambda v: v("table4", "specialty_available", "most_of_the_time", "total", "pct"),
    ),
    _c(
        "community_40",
        "Broad Approaches",
        "40% had that access for community services",
        "40",
        "Table 4 community_available total %",
        lambda v: v("table4", "community_available", "most_of_the_time", "total", "pct"),
    ),
    _c(
        "easy_hospital_65",
        "Broad Approaches",
        "65% found it relatively easy to coordinate services with hospitals",
        "65",
        "Table 4 ease_hospital_nh somewhat_easy + very_easy total %",
        lambda v: (
            v("table4", "ease_hospital_nh", "somewhat_easy", "total", "pct")
            + v("table4", "ease_hospital_nh", "very_easy", "total", "pct")
        ),
    ),
    _c(
        "payment_required_20",
        "Broad Approaches",
        "only 20% reported that payment or coverage ... was required",
        "20",
        "Table 4 payment_required most_of_the_time total %",
        lambda v: v("table4", "payment_required", "most_of_the_time", "total", "pct"),
    ),
    _c(
        "financial_most_27",
        "Broad Approaches",
        "27% said that patient financial constraints limited ... most of the time",
        "27",
        "Table 4 financial_constraints most_of_the_time total %",
        lambda v: v("table4", "financial_constraints", "most_of_the_time", "total", "pct"),
    ),
    _c(
        "financial_some_68",
        "Broad Approaches",
        "another 68% say it was a limitation some of the time",
        "68",
        "Table 4 financial_constraints some_of_the_time total %",
        lambda v: v("table4", "financial_constraints", "some_of_the_time", "total", "pct"),
    ),
    _c(
        "valued_about_60",
        "Broad Approaches",
        "About 60% of respondents strongly agreed they felt valued by the clinicians ... and by clinic leaders",
        "60",
        "Table 4 clinicians_value, leaders_value strongly_agree total %",
        lambda v: [
            v("table4", "clinicians_value", "strongly_agree", "total", "pct"),
            v("table4", "leaders_value", "strongly_agree", "total", "pct"),
        ],
        kind="range",
        low=55,
        high=65,
        note="'About 60%' accepted within 5 points (60 and 56).",
    ),
    _c(
        "measures_85",
        "Broad Approaches",
        "Eighty-five percent reported that their organization used a wide variety of measures",
        "85",
        "100 - Table 4 measure_none total %",
        lambda v: 100 - v("table4", "measure_none", "yes", "total", "pct"),
    ),
    _c(
        "satisfied_80",
        "Broad Approaches",
        "Overall, 80% felt very or somewhat satisfied",
        "80",
        "Table 4 resource_satisfaction very + somewhat satisfied total %",
        lambda v: (
            v("table4", "resource_satisfaction", "very_satisfied", "total", "pct")
            + v("table4", "resource_satisfaction", "somewhat_satisfied", "total", "pct")
        ),
    ),
    _c(
        "isw_chw_pharmacists",
        "Comparing Care Coordination Services",
        "Integrated social worker clinics were more likely to have community health workers and pharmacists",
        "isw > mn",
        "Table 4 resource_chw, resource_pharmacist isw - mn",
        lambda v: [
            _diff(v, "table4", "resource_chw", "yes"),
            _diff(v, "table4", "resource_pharmacist", "yes"),
        ],
        kind="direction",
    ),
    _c(
        "isw_less_valued",
        "Comparing Care Coordination Services",
        "somewhat less likely to report feeling valued by clinicians",
        "mn > isw",
        "Table 4 clinicians_value strongly_agree mn - isw",
        lambda v: -_diff(v, "table4", "clinicians_value", "strongly_agree"),
        kind="direction",
    ),
    _c(
        "discussion_social_needs_pp_diff",
        "Discussion",
        "22 percentage points more likely to report identifying and referring for social needs",
        "22",
        "Table 3 svc_social_needs isw - mn",
        lambda v: _diff(v, "table3", "svc_social_needs", "yes"),
    ),
    _c(
        "discussion_social_complexity_pp_diff",
        "Discussion",
        "11 percentage points more likely to assess the complexity of social needs",
        "11",
        "Table 3 complexity_social isw - mn",
        lambda v: _diff(v, "table3", "complexity_social", "all_most"),
    ),
    _c(
        "discussion_refer_outside_pp_diff",
        "Discussion",
        "12 percentage points more likely to refer to resources outside their care system",
        "12",
        "Table 3 refer_outside isw - mn",
        lambda v: _diff(v, "table3", "refer_outside", "most_of_the_time"),
    ),
    _c(
        "table1_degree_check_all",
        "Table 1 footnote",
        'Respondents could report multiple degrees ("Check all that apply")',
        "> 213",
        "sum of Table 1 degree counts (total)",
        lambda v: (
            sum(
                v("table1", "degree", lv, "total", "n")
                for lv in ["rn", "msn_bsn", "msw_bsw", "lpn_cma", "other_none"]
            )
            - 213
        ),
        kind="direction",
        note="With several degrees per coordinator the counts would exceed N; they add up to "
        "exactly 213 in every column (one degree per coordinator).",
    ),
]


def _lookup(published_long: pd.DataFrame) -> Callable[..., object]:
    pub = _norm_keys(published_long)
    vals = {tuple(r[:5]): r[5] for r in pub[[*KEYS, "value"]].itertuples(index=False)}

    def v(table: str, item: str, level: str, group: str, measure: str, raw: bool = False) -> object:
        text = vals[(table, item, level, group, measure)]
        return text if raw else float(text)

    return v


def check_text(
    published_long: pd.DataFrame | None = None,
    facts: pd.DataFrame | None = None,
    claims: Sequence[TextClaim] = TEXT_CLAIMS,
) -> pd.DataFrame:
    """The text's numbers against the tables (section ``text``; verdict agree/disagree).

    ``facts`` (study_facts.csv) supplies the quoted text value where a claim's key is one of its
    keys (so a correction of the transcription flows through); otherwise the claim's own text.
    """
    pub = load_published() if published_long is None else published_long
    fa = load_study_facts() if facts is None else facts
    fact = dict(zip(fa["key"], fa["value"], strict=True))
    v = _lookup(pub)
    rows = []
    for c in claims:
        text = str(fact.get(c.key, c.text)) if c.kind in ("value", "p") else c.text
        got = c.compute(v)
        vals = got if isinstance(got, list) else [got]
        if c.kind == "value":
            pr = parse_printed(text)
            tol = c.tol if c.tol is not None else 0.5 * 10.0 ** (-pr.decimals)
            x = float(vals[0])
            ok = abs(x - pr.value) <= tol + _EPS
            ref = f"{x:.4g}"
            why = f"table {x:.4g} vs text {text}: " + (
                f"equal within {tol:g}"
                if ok
                else f"differs by {x - pr.value:+.4g} (tolerance {tol:g})"
            )
        elif c.kind == "p":
            tp = parse_printed(text)
            pp = parse_printed(str(vals[0]))
            ok = tp.meets(pp.low, pp.high) and pp.meets(tp.low, tp.high)
            ref = str(vals[0])
            why = f"text {_interval_text(tp)}, table prints {pp.text} ({_interval_text(pp)}): " + (
                "compatible" if ok else "incompatible"
            )
        elif c.kind == "direction":
            fv = [float(x) for x in vals]
            ok = all(x > 0 for x in fv)
            ref = ";".join(f"{x:+.4g}" for x in fv)
            why = f"table difference(s) {ref} " + (
                "have the stated direction" if ok else "do not all have the stated direction"
            )
        elif c.kind == "range":
            fv = [float(x) for x in vals]
            ok = all(c.low - _EPS <= x <= c.high + _EPS for x in fv)
            ref = ";".join(f"{x:.4g}" for x in fv)
            why = f"table value(s) {ref} " + (
                f"all within [{c.low:g}, {c.high:g}]"
                if ok
                else f"not all within [{c.low:g}, {c.high:g}]"
            )
        elif c.kind in ("above", "below"):
            fv = [float(x) for x in vals]
            lim = float(c.text)
            ok = all((x > lim) if c.kind == "above" else (x <= lim) for x in fv)
            ref = ";".join(f"{x:.4g}" for x in fv)
            why = f"table value(s) {ref} " + (
                f"all {c.kind} {lim:g}" if ok else f"not all {c.kind} {lim:g}"
            )
        else:  # pragma: no cover
            raise ValueError(c.kind)
        rows.append(
            _row(
                section="text",
                table="",
                item=c.key,
                check=c.where,
                test=c.table_expr,
                printed=text,
                reference=ref,
                verdict="agree" if ok else "disagree",
                explanation=f'"{c.quote}" ({c.where}): {why}.' + (f" {c.note}" if c.note else ""),
            )
        )
    return pd.DataFrame(rows, columns=CONSISTENCY_COLUMNS)


# ---------------------------------------------------------------------------
# Part 2: everything
# ---------------------------------------------------------------------------


def check_published(
    published_long: pd.DataFrame | None = None,
    spec: pd.DataFrame | None = None,
    facts: pd.DataFrame | None = None,
    *,
    max_missing_frac: float = 0.10,
    max_missing: int | None = None,
    mean_missing: int = 0,
    max_exact: int = 64,
    n_extreme: int = 16,
) -> pd.DataFrame:
    """The whole consistency check of the printed tables: sections pvalue, grim and text.

    Parameters
    ----------
    max_missing_frac, max_missing : item nonresponse allowed per group (floor(frac * N), capped
        by ``max_missing`` when given).
    mean_missing : nonresponse allowed for mean/SD rows (default 0: the printed N).
    max_exact, n_extreme : above ``max_exact`` candidate tables the tests are computed on the
        ``n_extreme`` tables at each end of the Pearson (and Yates) statistic, doubled adaptively.
    """
    pub = load_published() if published_long is None else published_long
    sp = load_spec() if spec is None else spec
    pv, gr_pct = check_consistency(
        pub,
        sp,
        max_missing_frac=max_missing_frac,
        max_missing=max_missing,
        mean_missing=mean_missing,
        max_exact=max_exact,
        n_extreme=n_extreme,
    )
    gr = check_grim(pub, sp, max_missing_frac=max_missing_frac, max_missing=max_missing)
    tx = check_text(pub, facts)
    frames = [f for f in (pv, gr, gr_pct, tx) if len(f)]
    out = pd.concat(frames, ignore_index=True)
    return out[CONSISTENCY_COLUMNS]


def consistency_summary(consistency: pd.DataFrame) -> pd.DataFrame:
    """Rows per section and verdict (and per table)."""
    return (
        consistency.groupby(["section", "table", "verdict"], sort=True, dropna=False)
        .size()
        .rename("rows")
        .reset_index()
    )


# ---------------------------------------------------------------------------
# Part 3: output
# ---------------------------------------------------------------------------


def write_outputs(
    comparison: pd.DataFrame | None, consistency: pd.DataFrame | None, outdir: str | Path = "tables"
) -> list[Path]:
    """Write the replication report's CSVs atomically (``ccanalysis.io.write_csv``).

    * ``replication.csv``: the comparison (:data:`COMPARISON_COLUMNS`), one row per printed cell;
    * ``replication_summary.csv``: :func:`summary` of it;
    * ``replication_consistency.csv``: :func:`check_published` (:data:`CONSISTENCY_COLUMNS`, a
      ``section`` column: pvalue, grim, text).

    Either input may be None (then its files are not written). Returns the paths written.
    """
    outdir = Path(outdir)
    paths = []
    if comparison is not None:
        paths.append(
            write_csv(
                comparison[COMPARISON_COLUMNS], outdir / "replication.csv", float_format="%.6g"
            )
        )
        paths.append(write_csv(summary(comparison), outdir / "replication_summary.csv"))
    if consistency is not None:
        paths.append(
            write_csv(
                consistency[CONSISTENCY_COLUMNS],
                outdir / "replication_consistency.csv",
                float_format="%.6g",
            )
        )
    return paths


def replicate(
    tables_dir: str | Path = "tables", outdir: str | Path | None = None, **check_kwargs: object
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compare the reproduced tables with the published ones, check the published tables, and
    write the three CSVs into ``outdir`` (default: ``tables_dir``). Returns (comparison, consistency).
    """
    pub = load_published()
    comparison = compare(pub, load_reproduced(tables_dir))
    consistency = check_published(pub, **check_kwargs)  # type: ignore[arg-type]
    write_outputs(comparison, consistency, tables_dir if outdir is None else outdir)
    return comparison, consistency
