"""Answer counts of a categorical item that print as the paper's percentages and p-value.

For each item and group the counts are solved so that every printed percentage, of the groups and of
the total column, is met strictly (no half-way ties, so any rounding convention gives the printed
digits). Where that is impossible with every record answering, the fewest missing answers that make
it possible are used (item nonresponse); among solutions with that many, the one whose exact
percentages are closest to the printed ones. The items of one check-all-that-apply question share
one denominator (a question with no box checked is not answered).

Collapsed rows (e.g. *always/mostly* of a five-level scale) fix only the top share. The shares of
the levels inside the top and of the unshown levels follow an ordered-probit rule: a normal latent
with thresholds a fixed distance apart (``SPACINGS``, in latent SDs), located at the pooled location
plus ``shift`` times the group's own offset (the group's own location gives its printed top share);
counts by largest remainder.

The printed p-value is a target too, under the paper's test as the tables compute it (Fisher's exact
test on the full answer distribution by group). Candidates are searched in order of plausibility and
the first whose p prints as the printed one is kept: the count choices meeting every printed
percentage (closest first; fewest missing answers first, then more, at most ``MISSING_FRAC`` of a
group, for single questions); for collapsed rows the members of the ordered-probit rule (closest
chi-square first), then a greedy local search that moves answers between the levels of one printed
cell or between the unshown levels of one group. Deterministic. A printed p that no candidate
reaches keeps the closest candidate and is reported by :func:`p_note`.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from ccanalysis import stats
from ccanalysis.printing import Printed, parse_printed
from ccanalysis.stats.distributions import norm_ppf
from ccanalysis.synth.pvalues import chi2_fast, fisher_p, p_center, p_dist, p_holds
from ccanalysis.synth.sampling import apportion

#: Candidate threshold spacings (latent SDs) of the ordered-probit rule for unshown levels.
SPACINGS = (0.6, 0.8, 1.0, 1.3, 0.45, 1.7)
#: Candidate group shifts of that rule: 0 = every group splits like the pooled answers, 1 = each
#: group's own latent location (from its top share), 2 = twice the group's difference from the pool.
SHIFTS = (1.0, 0.0, 2.0, 0.5, 1.5, -0.5, 3.0)
#: Search limits of the p-value calibration of categorical items: candidate cell-count choices
#: tried with the ordered-probit rule, rule members tried with Fisher's test (closest chi-square
#: first), choices tried with the local search, and its steps.
FAMILY_CHOICES = 6
FAMILY_FISHER = 8
SEARCH_CHOICES = 3
LOCAL_STEPS = 80
#: Item nonresponse allowed per group (share) when more missing answers than the printed percentages
#: need are tried for the printed p-value (as the replication consistency check).
MISSING_FRAC = 0.10
#: The most missing answers (all groups of an item together) any solver adds.
MAX_MISSING = 24


@functools.lru_cache(maxsize=4096)
def printed_pct(p: float, dec: int) -> Printed:
    """The printed percentage ``p`` with ``dec`` decimals (what :meth:`Printed.counts` reads)."""
    return parse_printed(f"{p:.{dec}f}")


def counts_printing_as(d: int, p: float, dec: int) -> range:
    """The counts out of ``d`` whose percentage prints as ``p`` (``dec`` decimals), strictly: no
    count whose percentage is a tie (:meth:`ccanalysis.printing.Printed.counts`)."""
    return printed_pct(p, dec).counts(d, ties=False)


def prints_as(c: int, d: int, p: float, dec: int) -> bool:
    """Does ``c`` of ``d`` print as ``p`` percent, strictly (:func:`counts_printing_as`)?"""
    return d > 0 and c in counts_printing_as(d, p, dec)


def compositions(total: int, k: int, caps: Sequence[int]) -> Iterable[tuple[int, ...]]:
    """The ways to split ``total`` missing answers over ``k`` groups, at most ``caps`` each."""
    for combo in itertools.product(*(range(min(total, c) + 1) for c in caps)):
        if sum(combo) == total:
            yield combo


@dataclass
class Cell:
    """A printed row of a categorical item: the set of full levels it counts."""

    levels: list[str]
    pct: dict[str, float]  # group (incl. total) -> printed pct
    n: dict[str, int]  # group -> printed count (Table 1, 2)
    relax_total: bool = False  # the printed total cannot be met: aim for it, do not require it


def item_choices(
    cells: list[Cell],
    full: bool,
    groups: Sequence[str],
    d: dict[str, int],
    dec: int,
) -> list[tuple[float, tuple[tuple[int, ...], ...]]]:
    """Every choice of per-group cell counts meeting the printed cells at denominators ``d``.

    Sorted by closeness of the exact percentages to the printed ones (score, then enumeration
    order); empty if none meets them.
    """
    dtot = sum(d.values())
    per_group: list[list[tuple[int, ...]]] = []
    for g in groups:
        opts = []
        for cell in cells:
            if g in cell.n:
                c = cell.n[g]
                ok = (g not in cell.pct) or prints_as(c, d[g], cell.pct[g], dec)
                opts.append([c] if ok and c <= d[g] else [])
            else:
                opts.append(counts_printing_as(d[g], cell.pct[g], dec))
        combos = [
            t for t in itertools.product(*opts) if (sum(t) == d[g] if full else sum(t) <= d[g])
        ]
        if not combos:
            return []
        per_group.append(combos)
    out = []
    for choice in itertools.product(*per_group):
        score = 0.0
        good = True
        for j, cell in enumerate(cells):
            ctot = sum(ch[j] for ch in choice)
            if "total" in cell.pct:
                if not cell.relax_total and not prints_as(ctot, dtot, cell.pct["total"], dec):
                    good = False
                    break
                score += (100 * ctot / dtot - cell.pct["total"]) ** 2
            for g, ch in zip(groups, choice, strict=True):
                if g in cell.pct:
                    score += (100 * ch[j] / d[g] - cell.pct[g]) ** 2
        if good:
            out.append((score, choice))
    out.sort(key=lambda x: x[0])
    return out


def solve_cells(
    items: dict[str, tuple[list[Cell], bool]],
    groups: Sequence[str],
    sizes: dict[str, int],
    dec: int,
) -> tuple[dict[str, int], dict[str, dict[str, list[int]]]]:
    """Fewest missing answers (shared by ``items``) so that every printed cell is met.

    Returns the denominators per group and, per item and group, counts per cell.
    """
    caps = [sizes[g] for g in groups]
    for total_missing in range(MAX_MISSING + 1):
        best: tuple[float, dict[str, int], dict[str, dict[str, list[int]]]] | None = None
        for miss in compositions(total_missing, len(groups), caps):
            d = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            sol_items: dict[str, dict[str, list[int]]] = {}
            score_total = 0.0
            for item, (cells, full) in items.items():
                choices = item_choices(cells, full, groups, d, dec)
                if not choices:
                    break
                score_total += choices[0][0]
                sol_items[item] = {g: list(ch) for g, ch in zip(groups, choices[0][1], strict=True)}
            else:
                if best is None or score_total < best[0]:
                    best = (score_total, d, sol_items)
        if best is not None:
            return best[1], best[2]
    raise ValueError(f"no counts reproduce the printed rows of {list(items)}")


def _probit_mu(top_share: float) -> float:
    """Location of the latent whose share above 0 (the top levels) is ``top_share``."""
    t = min(max(top_share, 1e-4), 1 - 1e-4)
    return norm_ppf(t)


def _probit_shares(k: int, top: int, mu: float, spacing: float) -> np.ndarray:
    """Ordered-probit shares of k levels: thresholds ``spacing`` apart, the first ``top`` levels
    above 0, latent N(mu, 1)."""
    cuts = (np.arange(1, k) - top) * spacing  # thresholds, measured downwards from the top
    upper = np.concatenate(([np.inf], -cuts))
    lower = np.concatenate((-cuts, [-np.inf]))
    return ndtr(upper - mu) - ndtr(lower - mu)  # the standard normal cdf


def _split_counts(
    cells_counts: list[int],
    cell_levels: list[list[int]],
    k: int,
    d: int,
    spacing: float,
    mu: float | None = None,
) -> np.ndarray:
    """Full-level counts from printed cell counts; unprinted levels get the remainder.

    Levels inside a printed cell and the unprinted levels are split by ordered-probit shares with
    location ``mu`` (default: the one implied by this group's top share).
    """
    counts = np.zeros(k, dtype=np.int64)
    covered = sorted(i for lv in cell_levels for i in lv)
    top = max(covered) + 1 if covered else 0
    top_count = sum(cells_counts)
    if mu is None:
        mu = _probit_mu(top_count / d if d else 0.0)
    shares = _probit_shares(k, top, mu, spacing)
    for c, lv in zip(cells_counts, cell_levels, strict=True):
        counts[lv] = apportion(c, shares[lv]) if len(lv) > 1 else c
    rest = [i for i in range(k) if i not in covered]
    if rest:
        counts[rest] = apportion(d - top_count, shares[rest])
    return counts


@dataclass
class Fit:
    """The counts kept for one item, their p-value, whether it prints as printed, the rule used,
    and the range of p-values and the number of tables tried (for the notes)."""

    counts: dict[str, np.ndarray]
    p: float
    ok: bool
    rule: tuple[float, float] | None
    p_range: tuple[float, float]
    n_tables: int


def _full_counts(
    choice: tuple[tuple[int, ...], ...], idx: list[list[int]], k: int, groups: Sequence[str]
) -> dict[str, np.ndarray]:
    out = {}
    for g, ch in zip(groups, choice, strict=True):
        c = np.zeros(k, np.int64)
        for cnt, lv in zip(ch, idx, strict=True):
            c[lv[0]] = cnt
        out[g] = c
    return out


def _family(
    choice: tuple[tuple[int, ...], ...],
    idx: list[list[int]],
    k: int,
    d: dict[str, int],
    groups: Sequence[str],
) -> list[tuple[tuple[float, float], dict[str, np.ndarray]]]:
    """The ordered-probit splits of the unshown levels (and of the levels inside printed cells)."""
    top_n = {g: sum(ch) for g, ch in zip(groups, choice, strict=True)}
    mu_pool = _probit_mu(sum(top_n.values()) / sum(d.values()))
    out = []
    for spacing, shift in itertools.product(SPACINGS, SHIFTS):
        counts = {}
        for g, ch in zip(groups, choice, strict=True):
            mu_g = _probit_mu(top_n[g] / d[g])
            counts[g] = _split_counts(
                list(ch), idx, k, d[g], spacing, mu_pool + shift * (mu_g - mu_pool)
            )
        out.append(((spacing, shift), counts))
    return out


def _local_search(
    start: dict[str, np.ndarray],
    blocks: list[list[int]],
    groups: Sequence[str],
    text: str,
    max_steps: int = LOCAL_STEPS,
) -> tuple[dict[str, np.ndarray], float]:
    """Move answers between levels of one block (a printed cell's levels, or the unshown ones)
    within one group, greedily towards the printed p (chi-square ranks moves, Fisher decides)."""
    aim = math.log10(p_center(text))
    cur = {g: c.copy() for g, c in start.items()}
    p_cur = fisher_p(cur, groups)
    obj_cur = abs(math.log10(max(p_cur, 1e-300)) - aim)
    for _ in range(max_steps):
        if p_holds(text, p_cur):
            break
        moves = []
        for g in groups:
            for blk in blocks:
                for i, j in itertools.permutations(blk, 2):
                    for size in (1, 3):
                        if cur[g][i] - size < 1 and start[g][i] >= 1:
                            continue  # keep levels that the rule fills non-empty
                        if cur[g][i] < size:
                            continue
                        new = {h: c.copy() for h, c in cur.items()}
                        new[g][i] -= size
                        new[g][j] += size
                        pc = chi2_fast(new, groups)
                        moves.append((abs(math.log10(max(pc, 1e-300)) - aim), len(moves), new))
        if not moves:
            break
        moves.sort(key=lambda m: (m[0], m[1]))
        best = None
        for _, _, new in moves[:6]:
            p = fisher_p(new, groups)
            obj = 0.0 if p_holds(text, p) else abs(math.log10(max(p, 1e-300)) - aim)
            if best is None or obj < best[0]:
                best = (obj, new, p)
        if best is None or best[0] >= obj_cur:
            break
        obj_cur, cur, p_cur = best
    return cur, p_cur


def fit_item(
    choices: list[tuple[float, tuple[tuple[int, ...], ...]]],
    idx: list[list[int]],
    k: int,
    d: dict[str, int],
    groups: Sequence[str],
    text: str | None,
) -> Fit:
    """Counts of every level meeting the printed cells and, if possible, the printed p.

    Candidates in order of closeness of the percentages; for collapsed rows first the ordered-probit
    rule (closest chi-square first), then a local search over the unshown levels' split.
    """
    covered = sorted(i for lv in idx for i in lv)
    determined = covered == list(range(k)) and all(len(lv) == 1 for lv in idx)
    if text is None:  # no test printed: the plainest rule
        choice = choices[0][1]
        if determined:
            return Fit(_full_counts(choice, idx, k, groups), math.nan, True, None, (0, 0), 1)
        rule, counts = _family(choice, idx, k, d, groups)[0]
        return Fit(counts, math.nan, True, rule, (0, 0), 1)
    best: tuple[float, dict[str, np.ndarray], float, tuple[float, float] | None] | None = None
    ps: list[float] = []

    def consider(counts: dict[str, np.ndarray], p: float, rule) -> bool:
        nonlocal best
        ps.append(p)
        dist = p_dist(text, p)
        if best is None or dist < best[0]:
            best = (dist, counts, p, rule)
        return dist == 0.0

    if determined:
        for _, choice in choices:
            counts = _full_counts(choice, idx, k, groups)
            if consider(counts, fisher_p(counts, groups), None):
                break
    else:
        aim = math.log10(p_center(text))
        rest = [i for i in range(k) if i not in covered]
        blocks = [lv for lv in idx if len(lv) > 1] + ([rest] if len(rest) > 1 else [])
        done = False
        for _, choice in choices[:FAMILY_CHOICES]:
            fam = _family(choice, idx, k, d, groups)
            fam.sort(key=lambda rc: abs(math.log10(max(chi2_fast(rc[1], groups), 1e-300)) - aim))
            for rule, counts in fam[:FAMILY_FISHER]:
                if consider(counts, fisher_p(counts, groups), rule):
                    done = True
                    break
            if done:
                break
        if not done and blocks:
            for _, choice in choices[:SEARCH_CHOICES]:
                fam = _family(choice, idx, k, d, groups)
                start = min(fam, key=lambda rc: p_dist(text, fisher_p(rc[1], groups)))
                counts, p = _local_search(start[1], blocks, groups, text)
                if consider(counts, p, start[0]):
                    break
    assert best is not None
    _, counts, p, rule = best
    return Fit(counts, p, p_holds(text, p), rule, (min(ps), max(ps)), len(ps))


def fit_more_missing(
    cells: list[Cell],
    full: bool,
    groups: Sequence[str],
    sizes: dict[str, int],
    d0: dict[str, int],
    dec: int,
    idx: list[list[int]],
    k: int,
    p_text: str,
    fit0: Fit,
) -> tuple[Fit, dict[str, int]]:
    """Try more missing answers than the percentages need (fewest first; at most MISSING_FRAC of
    a group and MAX_MISSING in all) when they allow the printed p."""
    base = sum(sizes[g] - d0[g] for g in groups)
    caps = [math.floor(MISSING_FRAC * sizes[g] + 1e-9) for g in groups]
    lo_all, hi_all, n_all = *fit0.p_range, fit0.n_tables
    for total in range(base, MAX_MISSING + 1):
        for miss in compositions(total, len(groups), caps):
            d = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            if d == d0:
                continue
            choices = item_choices(cells, full, groups, d, dec)
            if not choices:
                continue
            fit = fit_item(choices, idx, k, d, groups, p_text)
            lo_all, hi_all = min(lo_all, fit.p_range[0]), max(hi_all, fit.p_range[1])
            n_all += fit.n_tables
            if fit.ok:
                return fit, d
    fit0.p_range, fit0.n_tables = (lo_all, hi_all), n_all
    return fit0, d0


def p_note(
    table: str, item: str, cells: list[Cell], groups: Sequence[str], fit: Fit, p_text: str
) -> str:
    """The IMPOSSIBLE note of a printed p-value that no candidate table reproduces."""
    pcts = " vs ".join(
        f"{g} " + "/".join(f"{c.pct[g]:g}" for c in cells if g in c.pct) + "%" for g in groups
    )
    lo, hi = fit.p_range
    t = np.array([fit.counts[g] for g in groups], dtype=np.int64).T
    chi = stats.chisq(t[t.sum(axis=1) > 0]).p
    other = (
        f"; a chi-square test without correction of the same counts gives {chi:.3g}, which "
        f"prints as {p_text}"
        if p_holds(p_text, chi)
        else ""
    )
    return (
        f"IMPOSSIBLE {table} {item} p: Fisher's exact p of every count table that rounds to the "
        f"printed percentages ({pcts}, total column included; {fit.n_tables} tables with up to "
        f"{MISSING_FRAC:.0%} missing answers per group) lies in {lo:.2g}-{hi:.2g}; printed "
        f"{p_text}; reproduced {fit.p:.3g} (the closest, fewest missing answers){other}"
    )
