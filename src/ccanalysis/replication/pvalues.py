"""Which counts round to the printed percentages, and the range of p-values they allow.

One row per tested item (section ``pvalue`` of the consistency report), independent of any data.

Categorical rows: every count table whose cells round to the printed percentages is enumerated
(:func:`group_candidates`): for each group independently, for every denominator n from N down to
N - limit (item nonresponse; limit = ``floor(max_missing_frac * N)`` per group, or ``max_missing``),
the counts k with ``|100 k / n - printed| <= h``; for a multi-level item (``shown = full``) the whole
printed distribution together (vectors summing to n); for a binary row yes vs no. The group
candidates are combined and kept only when the Total column also rounds to its printed values (the
Total is the union of the groups). Table 1 prints the counts: they are used, only the denominators
of binary rows are enumerated.

Over the candidate tables the p-value range of the paper's test (Fisher's exact,
:func:`ccanalysis.stats.fisher_exact`) and of the alternatives (Pearson's chi-square with and, for
2 x 2, without Yates' correction) is computed. When more than ``max_exact`` candidate tables remain,
the tests are computed on the ``n_extreme`` tables at each end of the Pearson statistic (Yates
statistic for the Yates test) first, and the band is doubled while the extreme p found lies in its
outer half: exact for the chi-square tests (their p is monotone in the statistic at fixed df). For
Fisher's test on 2 x 2 tables a vectorised hypergeometric screen ranks all candidates exactly and
``stats.fisher_exact`` is run on the 4 tables at each end (exact). For r x c tables Fisher's p ranks
tables nearly, not exactly, as the Pearson statistic does, so the adaptive band gives an inner bound
(a test checks it against brute-force enumeration). The range is reported over all denominators up
to the limit (``p_min``, ``p_max``, used for the verdict) and over the candidates with the fewest
missing answers needed (``p_min_fewest_missing``, ...).

Mean (SD) rows: :func:`ccanalysis.replication.means.mean_pvalue_range`.

Verdicts: ``consistent`` (the stated test's range meets the printed p's interval),
``consistent_other_test`` (only the alternatives named in ``other_tests`` do), ``inconsistent``
(no test does), ``not_checkable`` (rows printed collapsed: the p-value refers to a distribution the
paper does not show; the collapsed yes/no range is given for information).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln

from ccanalysis import stats
from ccanalysis.printing import Printed, parse_printed
from ccanalysis.replication.items import Item, items, limit
from ccanalysis.replication.means import mean_pvalue_range
from ccanalysis.replication.rows import (
    CONSISTENCY_COLUMNS,
    EPS,
    TEST_NAMES,
    fmt_range,
    interval_text,
    item_row,
)
from ccanalysis.spec import Spec


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
                out.extend((k, n - k, n) for k in prs[0].counts(n))
            continue
        ranges = [p.counts(n) for p in prs]
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
        lo_ok = pct >= pr.low - EPS
        hi_ok = pct <= pr.high + EPS
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


def _describe_group(it: Item, g: str, cands: np.ndarray, full: bool) -> str:
    """The counts of group ``g`` that fit its printed percentages at the largest denominator that
    fits, as one line (made-up numbers: ``a 45% of n=20: k = 9 (45.00%)``)."""
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


def _implied_by_total(it: Item, level: str) -> str:
    """With complete answers, the percent of each group implied by the Total and the other group."""
    if len(it.groups) != 2 or (level, "total") not in it.pct:
        return ""
    tot_n = it.n["total"]
    ks = parse_printed(it.pct[(level, "total")]).counts(tot_n)
    parts = []
    for g, o in (it.groups, it.groups[::-1]):
        ko = parse_printed(it.pct[(level, o)]).counts(it.n[o])
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
    it: Item,
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
        lim = limit(it.n[g], max_missing_frac, max_missing)
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
        f"{g} {it.n[g]}-{it.n[g] - limit(it.n[g], max_missing_frac, max_missing)}"
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
        f"{TEST_NAMES[t]} p {fmt_range(*ranges[t])}" for t in [stated, *alternatives]
    )
    grim = item_row(
        "grim",
        it,
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
    row = item_row(
        "pvalue",
        it,
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
            base_expl + f"{rng_txt}; printed {printed.text} ({interval_text(printed)})"
            f" -> {verdict}"
            + (f" (explained by {', '.join(TEST_NAMES[t] for t in fits)})" if fits else "")
            + "."
        ),
    )
    return row, grim


def _mean_row(it: Item, mean_missing: int) -> dict[str, object]:
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
        f"{TEST_NAMES[t]} p {fmt_range(*ranges[t])}" for t in [stated, *alternatives]
    )
    return item_row(
        "pvalue",
        it,
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
            f"{rng_txt}; printed {printed.text} ({interval_text(printed)}) -> {verdict}"
            + (f" (explained by {', '.join(TEST_NAMES[t] for t in fits)})" if fits else "")
            + "."
        ),
    )


def check_consistency(
    published_long: pd.DataFrame,
    spec: Spec,
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
    cache = _TestCache()
    prow, grow = [], []
    for it in items(published_long, spec):
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
                f"p {fmt_range(row['p_min'], row['p_max'])}; printed {it.p}."
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
