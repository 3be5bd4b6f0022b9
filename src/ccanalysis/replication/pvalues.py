"""The range of p-values the printed numbers allow (section ``pvalue``).

Categorical: every count table rounding to the printed percentages (each denominator N down to N -
``limit``, the Total fitting too), Fisher's and chi-square's p (Yates for 2 x 2) over all and over
the fewest missing. Means: Student's t / ANOVA and Welch's over the box of means and SDs (+- 0.05).
Verdicts: ``consistent``, ``consistent_other_test``, ``inconsistent``, ``not_checkable``."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.stats

from ccanalysis import stats
from ccanalysis.printing import Printed, parse_printed
from ccanalysis.replication.rows import (
    CONSISTENCY_COLUMNS,
    EPS,
    TEST_NAMES,
    Item,
    check_row,
    fmt_range,
    grim_row,
    interval_text,
    limit,
    mean_box,
)

MAX_EXACT = 64
N_EXTREME = 16


def group_candidates(
    pcts: Sequence[str], n_max: int, limit: int = 0, *, counts: list[int] | None = None, full=False
) -> np.ndarray:
    """Rows (counts..., n) printing as ``pcts``, n from n_max down by ``limit``; ``full``: the
    whole distribution, else ``[k, n - k]``; ``counts``: printed, the denominator unknown."""
    prs = [parse_printed(p) for p in pcts]
    if full and counts is not None:
        return np.array([[*counts, sum(counts)]], dtype=np.int64)
    out: list[tuple[int, ...]] = []
    for n in range(n_max, max(n_max - limit, 1) - 1, -1):
        if full:
            out += [(*c, n) for c in itertools.product(*[p.counts(n) for p in prs]) if sum(c) == n]
        elif counts is None:
            out += [(k, n - k, n) for k in prs[0].counts(n)]
        elif prs[0].holds(100 * counts[0] / n):
            out.append((counts[0], n - counts[0], n))
    return np.array(out, dtype=np.int64).reshape(-1, (len(prs) if full else 2) + 1)


def _joint(
    cands: list[np.ndarray], total: Sequence[Printed] | None
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The groups' candidates combined whose Total prints as ``total``, True; else all, False."""
    idx = [g.ravel() for g in np.meshgrid(*[np.arange(len(c)) for c in cands], indexing="ij")]
    tabs = np.stack([c[i, :-1] for c, i in zip(cands, idx, strict=True)], axis=1)
    ns = np.stack([c[i, -1] for c, i in zip(cands, idx, strict=True)], axis=1)
    if total is None or not len(tabs):
        return tabs, ns, bool(len(tabs))
    pct = 100 * tabs.sum(axis=1)[:, : len(total)] / ns.sum(axis=1)[:, None]
    low, high = [p.low - EPS for p in total], [p.high + EPS for p in total]
    ok = ((pct >= low) & (pct <= high)).all(axis=1)
    return (tabs[ok], ns[ok], True) if ok.any() else (tabs, ns, False)


def chisq_p(tabs: np.ndarray, correct: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Pearson's statistic and p of many tables at once as R's ``chisq.test`` (empty margins
    dropped): ``chisquare`` on (r - 1)(c - 1) df (``chi2_contingency`` takes one table)."""
    t = tabs.astype(float)
    rows, cols = t.sum(axis=2), t.sum(axis=1)
    e = rows[:, :, None] * cols[:, None, :] / rows.sum(axis=1)[:, None, None]
    df = ((rows > 0).sum(axis=1) - 1) * ((cols > 0).sum(axis=1) - 1)
    if correct:  # Yates: every |O - E| reduced by min(0.5, min |O - E|)
        t += np.sign(e - t) * np.minimum(0.5, np.abs(t - e).min(axis=(1, 2)))[:, None, None]
    t, e = np.where(e > 0, t, 1.0), np.where(e > 0, e, 1.0)  # an empty row or column adds 0
    obs, exp = t.reshape(len(t), -1), e.reshape(len(t), -1)
    res = scipy.stats.chisquare(obs, exp, ddof=t[0].size - 1 - df, axis=1, sum_check=False)
    return res.statistic, np.where(df > 0, res.pvalue, math.nan)


def _fisher_range(tabs: np.ndarray) -> tuple[float, float]:
    """Fisher's p range over the tables: all up to ``MAX_EXACT``, else both ends of a ranking
    (2 x 2: 4 by exact p; r x c: ``N_EXTREME`` by Pearson's statistic, an inner bound)."""
    if len(tabs) > MAX_EXACT:
        two = tabs.shape[1:] == (2, 2)
        order = np.argsort(stats.fisher_2x2_many(tabs) if two else chisq_p(tabs)[0], kind="stable")
        ends = 4 if two else N_EXTREME
        tabs = tabs[np.r_[order[:ends], order[-ends:]]]
    return _span([stats.fisher_exact(t, seed=1).p for t in tabs])


def _span(ps: Sequence[float]) -> tuple[float, float]:
    """The smallest and largest of the p-values that are numbers (NaN, NaN when none is)."""
    ps = np.asarray(ps, float)[np.isfinite(ps)]
    return (float(ps.min()), float(ps.max())) if len(ps) else (math.nan, math.nan)


def _describe_group(it: Item, g: str, cands: np.ndarray, full: bool) -> str:
    """The counts of ``g`` that fit at the largest fitting denominator (``45% of n=20: k = 9``)."""
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
    ks = " or ".join(f"{k} ({100 * k / nmax:.2f}%)" for k in sorted({int(r[0]) for r in at}))
    return f"{g} {it.pct[(it.levels[0], g)]}% of n={nmax}: k = {ks}"


def _implied_by_total(it: Item, level: str) -> str:
    """With complete answers, the percent of each group implied by the Total and the other group."""
    if len(it.groups) != 2 or (level, "total") not in it.pct:
        return ""
    ks = parse_printed(it.pct[(level, "total")]).counts(it.n["total"])
    parts = []
    for g, o in (it.groups, it.groups[::-1]):
        ko = parse_printed(it.pct[(level, o)]).counts(it.n[o])
        if len(ks) and len(ko):
            lo, hi = 100 * (ks[0] - ko[-1]) / it.n[g], 100 * (ks[-1] - ko[0]) / it.n[g]
            parts.append(f"{g} {lo:.1f}-{hi:.1f}% (printed {it.pct[(level, g)]})")
    total = f" With complete answers the Total ({it.pct[(level, 'total')]}%) and the other group"
    return f"{total} imply {'; '.join(parts)}." if parts else ""


def _categorical_row(it: Item, cap: int | None, full: bool) -> tuple[dict, dict]:
    """The p-value row of a categorical item and its percentage-feasibility (grim) row."""
    levels = it.levels if full else it.levels[:1]
    cands = [
        group_candidates(
            [it.pct[(lv, g)] for lv in levels],
            it.n[g],
            limit(it.n[g], cap),
            counts=[int(it.count[(lv, g)]) for lv in levels] if it.count else None,
            full=full,
        )
        for g in it.groups
    ]
    has_total = all((lv, "total") in it.pct for lv in levels)
    total = [parse_printed(it.pct[(lv, "total")]) for lv in levels] if has_total else None
    tabs, ns, total_ok = _joint(cands, total)
    missing = (np.array([it.n[g] for g in it.groups]) - ns).sum(axis=1)
    ranges = {"fisher": _fisher_range(tabs), "chisq": _span(chisq_p(tabs)[1] if len(tabs) else [])}
    if tabs.shape[1:] == (2, 2):
        ranges["chisq_yates"] = _span(chisq_p(tabs, correct=True)[1] if len(tabs) else [])
    need = int(missing.min()) if len(missing) else None
    fewest = _fisher_range(tabs[missing == need] if need is not None else tabs)
    descr = "; ".join(
        _describe_group(it, g, c, full) for g, c in zip(it.groups, cands, strict=True)
    )
    dist = f"the whole printed distribution ({', '.join(levels)})"
    dist = dist if full else f"'{levels[0]}' vs the rest"
    lims = ", ".join(f"{g} {it.n[g]}-{it.n[g] - limit(it.n[g], cap)}" for g in it.groups)
    tot_txt = " No combination makes the Total column round to its printed value(s); the range is taken over the groups' candidates without that constraint."
    tot_txt = "" if total_ok else tot_txt + ("" if full else _implied_by_total(it, levels[0]))
    level, counts = "+".join(levels), {"missing_needed": need, "candidates": len(tabs)}
    printed = "; ".join(
        f"{g}: " + "/".join(it.pct[(lv, g)] for lv in levels)
        for g in ["total", *it.groups]
        if all((lv, g) in it.pct for lv in levels)
    )
    why = (
        f"Printed percentages are possible with {need} missing answer(s) in all ({len(tabs)} count tables fit every group and the Total). {descr}."
        if total_ok
        else f"No count table with at most the allowed missing answers rounds to the printed percentages of every group and the Total. {descr}.{tot_txt}"
    )
    grim = grim_row(it, "pct_distribution", total_ok, "", printed, "", why, level=level, **counts)
    explanation = f"{TEST_NAMES['fisher']} test on {dist}, groups {', '.join(it.groups)} (denominators {lims}). {descr}. {len(tabs)} candidate tables (fewest missing answers needed: {need}).{tot_txt} "
    fewest = dict(zip(CONSISTENCY_COLUMNS[11:13], fewest, strict=True))
    return _pvalue_row(it, "fisher", ranges, explanation, level=level, **fewest, **counts), grim


def _pvalue_row(
    it: Item, stated: str, ranges: dict[str, tuple[float, float]], text: str, **kw: object
) -> dict[str, object]:
    """The ``pvalue`` row: the ``stated`` test's range, the verdict, ``text`` and every range."""
    lo, hi = ranges[stated]
    row = check_row("pvalue", it, group="all", check="p", test=stated, printed=it.p or "", **kw)
    row |= {"p_min": lo, "p_max": hi}
    if not it.p:
        return row | {"verdict": "not_checkable", "explanation": text + "No p-value printed."}
    printed = parse_printed(it.p)
    fits = [t for t, r in ranges.items() if printed.meets(*r)]
    others = [t for t in fits if t != stated]
    verdict = (
        "consistent" if stated in fits else "consistent_other_test" if others else "inconsistent"
    )
    rng = "; ".join(f"{TEST_NAMES[t]} p {fmt_range(*r)}" for t, r in ranges.items())
    explained = f" (explained by {', '.join(TEST_NAMES[t] for t in fits)})" if fits else ""
    return row | {
        "verdict": verdict,
        "other_tests": ";".join(others),
        "explanation": f"{text}{rng}; printed {printed.text} ({interval_text(printed)}) -> {verdict}{explained}.",
    }


def mean_pvalue_range(
    means: Sequence[float], sds: Sequence[float], ns: Sequence[int], *, half: float = 0.05
) -> dict[str, tuple[float, float]]:
    """Range of p over true means (``mean_box``) and SDs (box corners) within +- half: Student's
    t and Welch's, or ANOVA and Welch's (the paper's test first)."""
    s = np.asarray(sds, float)
    sd_box = [np.maximum(c, 1e-9) for c in itertools.product(*zip(s - half, s + half, strict=True))]
    ps = pd.DataFrame([_summary_tests(m, sd, ns) for m in mean_box(means, half) for sd in sd_box])
    return {t: (float(ps[t].min()), float(ps[t].max())) for t in ps.columns}


def _summary_tests(m: np.ndarray, s: np.ndarray, ns: Sequence[int]) -> dict[str, float]:
    """The p of the paper's test and of Welch's alternative from means, SDs and N."""
    if len(m) == 2:
        student = stats.t_test_from_summary(m[0], s[0], ns[0], m[1], s[1], ns[1]).p
        welch = stats.t_test_from_summary(m[0], s[0], ns[0], m[1], s[1], ns[1], equal_var=False).p
        return {"student_t": student, "welch_t": welch}
    welch = stats.welch_anova_from_moments(m, np.square(s), ns).p
    return {"anova": stats.anova_from_summary(m, s, ns).p, "welch_anova": welch}


def _mean_row(it: Item) -> dict[str, object]:
    """The ``pvalue`` row of a mean (SD) item, from the printed means, SDs and N."""
    means, sds = [float(it.mean[g]) for g in it.groups], [float(it.sd[g]) for g in it.groups]
    ranges = mean_pvalue_range(means, sds, [it.n[g] for g in it.groups])
    stated = next(iter(ranges))
    desc = ", ".join(f"{g} {it.mean[g]} ({it.sd[g]}) n={it.n[g]}" for g in it.groups)
    text = f"{TEST_NAMES[stated]} from printed mean (SD) and N: {desc}; means and SDs +-0.05 (rounding). "
    return _pvalue_row(it, stated, ranges, text)


def check_pvalue(it: Item, cap: int | None) -> tuple[dict, list[dict]]:
    """The ``pvalue`` row of a tested item and the ``grim`` row of its distribution (if any)."""
    if it.mean:
        return _mean_row(it), []
    full = it.shown == "full" and len(it.levels) > 1
    row, grim = _categorical_row(it, cap, full)
    if it.shown == "collapsed":
        shown = f"'{it.levels[0]}' ({it.combine or 'top levels'})"
        explanation = f"Printed collapsed: only {shown} of a longer answer scale is shown, and the p-value refers to the full distribution, which the paper does not print. For information, {TEST_NAMES['fisher']} on the collapsed yes/no table gives p {fmt_range(row['p_min'], row['p_max'])}; printed {it.p}."
        row.update(dict.fromkeys(CONSISTENCY_COLUMNS[9:13], math.nan), verdict="not_checkable")
        row.update(other_tests="", explanation=explanation)
    return row, [] if it.count else [grim]
