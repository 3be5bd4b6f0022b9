"""GRIM-type checks (section ``grim``): percentages against counts (Table 1), counts against N,
GRIM/GRIMMER of integer items, the Total mean and SD against the groups' (distributions: pvalues)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ccanalysis.printing import parse_printed
from ccanalysis.replication.pvalues import group_candidates
from ccanalysis.replication.rows import Item, grim_row, limit, mean_box

#: Items answered with whole numbers (REDCap validation ``integer``), for GRIM/GRIMMER.
INTEGER_ITEMS: frozenset[tuple[str, str]] = frozenset(
    {
        ("table1", "hours_week_study_clinics"),
        ("table3", "hours_cc_week"),
        ("table3", "clinicians_per_fte"),
        ("table3", "panel_size"),
    }
)


def _sums(mean: str, n: int) -> range:
    """The whole-number sums of n answers whose mean prints as ``mean``."""
    pr = parse_printed(mean)
    return range(math.ceil(pr.low * n - 1e-9), math.floor(pr.high * n + 1e-9) + 1)


def grim_mean_ok(mean: str, n: int) -> bool:
    """GRIM: can n whole-number answers have a mean that prints as ``mean``?"""
    return len(_sums(mean, n)) > 0


def grimmer_sd_ok(mean: str, sd: str, n: int) -> bool:
    """GRIMMER: an integer sum S fitting the mean, Q = (n - 1) SD^2 + S^2 / n, Q = S (mod 2)."""
    ps = parse_printed(sd)
    for s in _sums(mean, n):
        q = math.ceil((n - 1) * max(ps.low, 0) ** 2 + s * s / n - 1e-9)
        if q + (q - s) % 2 <= (n - 1) * ps.high**2 + s * s / n + 1e-9:
            return True
    return False


def _count_rows(it: Item, lv: str, cap: int | None) -> list[dict[str, object]]:
    """Percent vs printed count of each group, count additivity, and denominators adding up."""
    rows, dens = [], {}
    groups = [g for g in ["total", *it.groups] if (lv, g) in it.count]
    for g in groups:
        k, pr, n = int(it.count[(lv, g)]), parse_printed(it.pct[(lv, g)]), it.n[g]
        lim = limit(n, cap)
        dens[g] = group_candidates([pr.text], n, lim, counts=[k])[:, -1].tolist()
        fit = ", ".join(f"{k}/{d} = {100 * k / d:.2f}%" for d in dens[g][:4])
        fits = f" does not round to {pr.text}; denominators that fit (at most {lim} missing): {fit}"
        if dens[g][:1] == [n]:
            fits = f", rounds to {pr.text} (fits N)"
        if not dens[g]:
            fits = (
                f" does not round to {pr.text}, and no denominator from {n} down to {n - lim} does"
            )
        ref, need = f"{100 * k / n:.2f}", (n - dens[g][0]) if dens[g] else pd.NA
        why = f"printed {k} ({pr.text}%) of N={n}: {k}/{n} = {ref}%{fits}."
        row = grim_row(it, "pct_vs_count", dens[g], g, f"{k} ({pr.text})", ref, why, level=lv)
        rows.append(row | {"missing_needed": need})
    if len(groups) < len(it.groups) + 1:
        return rows
    tot, parts = int(it.count[(lv, "total")]), [int(it.count[(lv, g)]) for g in it.groups]
    why = f"Total {tot} vs sum of groups {' + '.join(map(str, parts))} = {sum(parts)}."
    ok = tot == sum(parts)
    rows.append(grim_row(it, "count_additivity", ok, "total", tot, sum(parts), why, level=lv))
    if not all(dens.values()):
        return rows
    sums = {sum(c) for c in itertools.product(*[dens[g] for g in it.groups])}
    common = sorted(sums & set(dens["total"]), reverse=True)
    fitting = "; ".join(f"{g}: {dens[g][:3]}" for g in it.groups)
    why = (
        f"Group denominators that fit the printed percentages {fitting} add up to a Total denominator that fits ({common[:3]})."
        if common
        else f"No choice of fitting group denominators adds up to a Total denominator that fits the printed Total % ({dens['total'][:3]})."
    )
    need = (it.n["total"] - common[0]) if common else pd.NA
    printed, ref = it.pct[(lv, "total")], ";".join(map(str, common[:3]))
    row = grim_row(it, "denominators_add_up", common, "total", printed, ref, why, level=lv)
    return [*rows, row | {"missing_needed": need}]


def _mean_rows(it: Item, g: str) -> list[dict[str, object]]:
    """GRIM of a group's printed mean and GRIMMER of its SD."""
    n, mean, sd = it.n[g], it.mean[g], it.sd[g]
    pm, s = parse_printed(mean), _sums(mean, n).start
    ok, ok_sd = grim_mean_ok(mean, n), grimmer_sd_ok(mean, sd, n)
    why = f"Whole-number answers, n={n}: mean {mean} needs a sum in [{pm.low * n:.2f}, {pm.high * n:.2f}]"
    why += f"; e.g. {s}/{n} = {s / n:.3f}." if ok else "; no integer lies there."
    why_sd = f"Whole-number answers, n={n}, mean {mean}, SD {sd}: " + (
        "some integer sum of squares of the right parity fits."
        if ok_sd
        else "no integer sum S and sum of squares Q (Q = (n-1)SD^2 + S^2/n, Q = S mod 2) fits."
    )
    return [
        grim_row(it, "grim_mean", ok, g, mean, f"n={n}", why),
        grim_row(it, "grimmer_sd", ok_sd, g, f"{mean} ({sd})", f"n={n}", why_sd),
    ]


def _total_rows(it: Item) -> list[dict[str, object]]:
    """The Total mean and SD implied by the group means and SDs (each +- 0.05) and N."""
    ns = np.array([it.n[g] for g in it.groups], float)
    m, s = (np.array([float(x[g]) for g in it.groups]) for x in (it.mean, it.sd))
    h = 0.05
    big_n = ns.sum()
    wm_lo, wm_hi = float((ns * (m - h)).sum() / big_n), float((ns * (m + h)).sum() / big_n)
    tot_sd = [
        math.sqrt(((ns - 1) * ss**2).sum() + (ns * (mm - (ns * mm).sum() / big_n) ** 2).sum())
        / math.sqrt(big_n - 1)
        for mm in mean_box(m, h)
        for ss in (s - h, s + h)
    ]
    sd_lo, sd_hi = min(tot_sd), max(tot_sd)
    pm, ps = parse_printed(it.mean["total"]), parse_printed(it.sd["total"])
    note = f" (group N add up to {int(big_n)}, Total N is {it.n['total']})"
    note = "" if int(big_n) == it.n["total"] else note
    ok_m, ok_s = pm.meets(wm_lo, wm_hi), ps.meets(sd_lo, sd_hi)
    ref_m, ref_s = f"{wm_lo:.3f}-{wm_hi:.3f}", f"{sd_lo:.3f}-{sd_hi:.3f}"
    why_m = f"N-weighted mean of the group means (each +-0.05){note}: {ref_m}; printed Total {pm.text} ("
    why_m += "fits)." if ok_m else "does not fit)."
    why_s = f"Total SD from the group means, SDs (each +-0.05) and N{note}: sqrt((sum (n-1)SD^2 + sum n (mean - grand mean)^2) / (N-1)) = {ref_s}; printed Total SD {ps.text} ("
    why_s += (
        "fits)."
        if ok_s
        else "does not fit: the groups' answers would have to have different N than printed (item nonresponse) or the Total was computed otherwise)."
    )
    return [
        grim_row(it, "total_mean", ok_m, "total", pm.text, ref_m, why_m),
        grim_row(it, "total_sd", ok_s, "total", ps.text, ref_s, why_s),
    ]


def check_grim(
    it: Item, cap: int | None, integer_items: Iterable[tuple[str, str]] = INTEGER_ITEMS
) -> list[dict[str, object]]:
    """The ``grim`` rows of one item but its percentage distribution (``limit(n, cap)``)."""
    rows = []
    for lv in it.levels if it.count else []:
        rows += _count_rows(it, lv, cap)
    if it.count and it.shown == "full" and len(it.levels) > 1:
        for g in ["total", *it.groups]:
            ks = [int(it.count[(lv, g)]) for lv in it.levels]
            why = f"Counts {'+'.join(map(str, ks))} = {sum(ks)} vs N = {it.n[g]}."
            ok, level = sum(ks) == it.n[g], "+".join(it.levels)
            rows.append(grim_row(it, "counts_sum_to_n", ok, g, it.n[g], sum(ks), why, level=level))
    if it.mean and (it.table, it.item) in set(integer_items):
        rows += [r for g in ["total", *it.groups] for r in _mean_rows(it, g)]
    if it.mean and "total" in it.mean and all(g in it.mean for g in it.groups):
        rows += _total_rows(it)
    return rows
