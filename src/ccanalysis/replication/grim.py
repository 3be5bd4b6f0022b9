"""GRIM-type checks of the printed tables: can whole answers produce the printed numbers?

One row per check (section ``grim`` of the consistency report), independent of any data:

* percentages against counts (Tables 1 and 2): which denominators make count/n round to the printed
  percent, does the printed percent fit the printed N, do the group counts add up to the Total, and
  do some fitting group denominators add up to a fitting Total denominator;
* counts of a full distribution against the group's N;
* GRIM for means of integer items (:data:`INTEGER_ITEMS`: the REDCap dictionary validates them as
  integers) and GRIMMER's parity and range test for their SDs;
* the Total mean and SD against the group means, SDs and N (each printed +- 0.05).

The feasibility of the printed percentage distributions of Tables 3 and 4 is checked with the
candidate count tables of :mod:`ccanalysis.replication.pvalues`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ccanalysis.printing import Printed, parse_printed
from ccanalysis.replication.rows import CONSISTENCY_COLUMNS, Item, item_row, items, limit
from ccanalysis.spec import Spec

#: Items answered with whole numbers (REDCap validation ``integer``), for GRIM/GRIMMER.
INTEGER_ITEMS: frozenset[tuple[str, str]] = frozenset(
    {
        ("table1", "hours_week_study_clinics"),
        ("table3", "hours_cc_week"),
        ("table3", "clinicians_per_fte"),
        ("table3", "panel_size"),
    }
)


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
    published_long: pd.DataFrame,
    spec: Spec,
    *,
    max_missing_frac: float = 0.10,
    max_missing: int | None = None,
    integer_items: Iterable[tuple[str, str]] = INTEGER_ITEMS,
) -> pd.DataFrame:
    """Percentages vs counts (Tables 1, 2), additivity, GRIM/GRIMMER of integer items, and the
    Total mean/SD against the group means/SDs. One row per check (section ``grim``)."""
    ints = set(integer_items)
    rows = []
    for it in items(published_long, spec):
        groups_all = ["total", *it.groups]
        # -- counts and percentages (Tables 1 and 2)
        for lv in it.levels if it.count else []:
            dens: dict[str, list[int]] = {}
            for g in groups_all:
                if (lv, g) not in it.count:
                    continue
                k, pr = int(it.count[(lv, g)]), parse_printed(it.pct[(lv, g)])
                n = it.n[g]
                lim = limit(n, max_missing_frac, max_missing)
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
                    item_row(
                        "grim",
                        it,
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
                    item_row(
                        "grim",
                        it,
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
                        item_row(
                            "grim",
                            it,
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
                    item_row(
                        "grim",
                        it,
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
                item_row(
                    "grim",
                    it,
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
                item_row(
                    "grim",
                    it,
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


def _decomposition_rows(it: Item) -> list[dict[str, object]]:
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
        item_row(
            "grim",
            it,
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
        item_row(
            "grim",
            it,
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
