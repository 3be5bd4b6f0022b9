"""Answer counts of a categorical item that print as the paper's percentages and p-value.

Percentages met strictly, with the fewest missing answers (a question's boxes share a denominator).
Collapsed and unshown levels split by an ordered probit (thresholds ``spacing`` apart, each group
at the pooled location plus ``shift`` times its offset). The printed p is aimed at under Fisher's
test (chi-square ranks candidates): the rule's members, then a local search; else the closest.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from ccanalysis import stats
from ccanalysis.printing import parse_printed, printed_holds
from ccanalysis.vocab import DEFAULT_SEED, TOTAL

#: Spacings and shifts of the ordered-probit rule, in the order tried.
SPACINGS = (0.6, 0.8, 1.0, 1.3, 0.45, 1.7)
SHIFTS = (1.0, 0.0, 2.0, 0.5, 1.5, -0.5, 3.0)
#: Search limits: choices with the rule, members tested with Fisher, choices searched, steps.
FAMILY_CHOICES = 6
FAMILY_FISHER = 8
SEARCH_CHOICES = 3
LOCAL_STEPS = 80
#: Missing answers tried for the printed p (share of a group); the most per item.
MISSING_FRAC = 0.10
MAX_MISSING = 24
#: Relative margin by which a calibrated p-value must print as the printed one.
P_MARGIN = 1e-6


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of ``total`` by ``weights`` (equal if they add up to 0)."""
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        base[np.argsort(-(quota - base), kind="stable")[:rest]] += 1
    return base


def fisher_p(counts: dict[str, np.ndarray]) -> float:
    """Fisher's exact p of the levels x groups table, as the tables compute it."""
    return _p("fisher", tuple(tuple(c.tolist()) for c in counts.values()))


def chisq_p(counts: dict[str, np.ndarray]) -> float:
    """Pearson's chi-square p (no correction); 1 with one answered level."""
    return _p("chisq", tuple(tuple(c.tolist()) for c in counts.values()))


@functools.cache
def _p(test: str, rows: tuple[tuple[int, ...], ...]) -> float:
    """``test``'s p of the groups x levels counts ``rows`` (cached: the searches revisit tables)."""
    t = np.array(rows, dtype=np.int64)
    if test == "fisher":
        return float(stats.run_test("fisher", table=t.T.copy(), seed=DEFAULT_SEED).p)
    t = t[:, t.sum(axis=0) > 0]
    return 1.0 if t.shape[1] < 2 else stats.chisq(t).p


def p_holds(text: str, p: float) -> bool:
    """Does p print as ``text``, within a relative margin ``P_MARGIN``?"""
    return all(printed_holds(text, p * f) for f in (1 - P_MARGIN, 1.0, 1 + P_MARGIN))


def p_center(text: str) -> float:
    """The searches' aim for a printed p."""
    pr = parse_printed(text)
    if pr.kind == "lt":
        return pr.value / 3
    if pr.kind == "gt":
        return min(1.0, (1 + 2 * pr.value) / 3)
    return pr.value


def p_dist(text: str, p: float) -> float:
    """0 when p prints as ``text``, else the log10 distance to the printed interval (+1)."""
    if p_holds(text, p):
        return 0.0
    pr = parse_printed(text)
    lp = math.log10(max(p, 1e-300))
    lo = math.log10(max(pr.low, 1e-300))
    hi = math.log10(pr.high) if math.isfinite(pr.high) else 0.0
    return 1.0 + max(lo - lp, lp - hi, 0.0)


@dataclass
class CatPlan:
    """Counts per level of one item by group (``n``: with the missing answers)."""

    table: str
    levels: list[str]
    n: dict[str, int]
    counts: dict[str, np.ndarray]

    @property
    def missing(self) -> dict[str, int]:
        return {g: self.n[g] - int(self.counts[g].sum()) for g in self.n}


@dataclass
class Cell:
    """A printed row: its levels, percentages and counts by group."""

    levels: list[str]
    pct: dict[str, float]
    n: dict[str, int]
    relax_total: bool = False  # aim for the printed total, do not require it


@functools.cache
def counts_printing_as(d: int, p: float, dec: int) -> range:
    """The counts out of ``d`` whose percentage prints as ``p`` (``dec`` decimals), strictly."""
    return parse_printed(f"{p:.{dec}f}").counts(d, ties=False)


def denominators(
    sizes: dict[str, int], caps: Sequence[int], first: int = 0
) -> Iterable[tuple[int, list[dict[str, int]]]]:
    """(missing answers, denominators of each split), from ``first`` on; ``caps`` per group."""
    for total in range(first, MAX_MISSING + 1):
        combos = itertools.product(*(range(min(total, c) + 1) for c in caps))
        splits = [s for s in combos if sum(s) == total]
        yield total, [{g: sizes[g] - m for g, m in zip(sizes, s, strict=True)} for s in splits]


Choice = tuple[tuple[int, ...], ...]  # per group, the count of each printed row


def item_choices(
    cells: list[Cell], full: bool, d: dict[str, int], dec: int
) -> list[tuple[float, Choice]]:
    """Per-group row counts meeting the printed rows at denominators ``d``, closest first."""
    dtot = sum(d.values())
    per_group: list[list[tuple[int, ...]]] = []
    for g in d:
        opts = []
        for cell in cells:
            if g in cell.n:
                c = cell.n[g]
                ok = (g not in cell.pct) or c in counts_printing_as(d[g], cell.pct[g], dec)
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
        for j, cell in enumerate(cells):
            ctot = sum(ch[j] for ch in choice)
            if TOTAL in cell.pct:
                met = ctot in counts_printing_as(dtot, cell.pct[TOTAL], dec)
                if not (met or cell.relax_total):
                    break
                score += (100 * ctot / dtot - cell.pct[TOTAL]) ** 2
            for g, ch in zip(d, choice, strict=True):
                if g in cell.pct:
                    score += (100 * ch[j] / d[g] - cell.pct[g]) ** 2
        else:
            out.append((score, choice))
    out.sort(key=lambda x: x[0])
    return out


def solve_cells(
    items: dict[str, tuple[list[Cell], bool]], sizes: dict[str, int], dec: int
) -> dict[str, int]:
    """Denominators meeting every row of ``items``: fewest missing answers, then closest."""
    for _, ds in denominators(sizes, list(sizes.values())):
        met: list[tuple[float, dict[str, int]]] = []
        for d in ds:
            score = 0.0
            for cells, full in items.values():
                choices = item_choices(cells, full, d, dec)
                if not choices:
                    break
                score += choices[0][0]
            else:
                met.append((score, d))
        if met:
            return min(met, key=lambda m: m[0])[1]
    raise ValueError(f"no counts reproduce the printed rows of {list(items)}")


RULES = list(itertools.product(SPACINGS, SHIFTS))


def _family(
    choice: Choice,
    idx: list[list[int]],
    k: int,
    d: dict[str, int],
    rules: list[tuple[float, float]] = RULES,
) -> list[dict[str, np.ndarray]]:
    """The counts of every level by each (spacing, shift) of the rule."""
    top_n = {g: sum(ch) for g, ch in zip(d, choice, strict=True)}
    top_share = [sum(top_n.values()) / sum(d.values()), *(top_n[g] / d[g] for g in d)]
    mu_pool, *mu_g = norm.ppf(np.clip(top_share, 1e-4, 1 - 1e-4))  # N(mu, 1) with that share > 0
    mu = dict(zip(d, mu_g, strict=True))
    covered = sorted(i for lv in idx for i in lv)
    rest = [i for i in range(k) if i not in covered]
    top = max(covered) + 1 if covered else 0
    # thresholds downwards from the top, the first ``top`` levels above 0; N(mu, 1)
    edges = np.array(
        [
            np.concatenate(([np.inf], -(np.arange(1, k) - top) * spacing, [-np.inf]))
            - (mu_pool + shift * (mu[g] - mu_pool))
            for spacing, shift in rules
            for g in d
        ]
    )
    cdf = norm.cdf(edges)
    shares = iter(cdf[:, :-1] - cdf[:, 1:])
    out = []
    for _ in rules:
        counts = {}
        for g, ch in zip(d, choice, strict=True):
            share = next(shares)
            c = np.zeros(k, dtype=np.int64)
            for cnt, lv in zip(ch, idx, strict=True):
                c[lv] = apportion(cnt, share[lv]) if len(lv) > 1 else cnt
            if rest:
                c[rest] = apportion(d[g] - sum(ch), share[rest])
            counts[g] = c
        out.append(counts)
    return out


@dataclass
class Fit:
    """The counts kept, their p, whether it prints; the p of every table tried."""

    counts: dict[str, np.ndarray]
    p: float
    ok: bool
    ps: list[float]


def _off(p: float, aim: float) -> float:
    """log10 distance of p from the aim, to 12 decimals (ties across tests)."""
    return round(abs(math.log10(max(p, 1e-300)) - aim), 12)


def _local_search(
    start: dict[str, np.ndarray], blocks: list[list[int]], text: str
) -> tuple[dict[str, np.ndarray], float]:
    """Greedy moves within level blocks towards the printed p."""
    aim = math.log10(p_center(text))
    cur = {g: c.copy() for g, c in start.items()}
    p_cur = fisher_p(cur)
    obj_cur = _off(p_cur, aim)
    for _ in range(LOCAL_STEPS):
        if p_holds(text, p_cur):
            break
        moves = []
        for g in cur:
            for blk in blocks:
                for i, j in itertools.permutations(blk, 2):
                    for size in (1, 3):
                        if cur[g][i] < size or (cur[g][i] - size < 1 and start[g][i] >= 1):
                            continue  # keep levels that the rule fills non-empty
                        new = {h: c.copy() for h, c in cur.items()}
                        new[g][i] -= size
                        new[g][j] += size
                        moves.append((_off(chisq_p(new), aim), len(moves), new))
        if not moves:
            break
        moves.sort(key=lambda m: (m[0], m[1]))
        ps = [fisher_p(new) for _, _, new in moves[:6]]
        objs = [0.0 if p_holds(text, p) else _off(p, aim) for p in ps]
        i = int(np.argmin(objs))
        if objs[i] >= obj_cur:
            break
        obj_cur, cur, p_cur = objs[i], moves[i][2], ps[i]
    return cur, p_cur


def fit_item(
    choices: list[tuple[float, Choice]],
    idx: list[list[int]],
    k: int,
    d: dict[str, int],
    text: str,
) -> Fit:
    """Counts meeting the printed rows (levels ``idx``) and, if possible, the p ``text``."""
    covered = sorted(i for lv in idx for i in lv)
    rest = [i for i in range(k) if i not in covered]
    blocks = [lv for lv in idx if len(lv) > 1] + ([rest] if len(rest) > 1 else [])
    tried: list[tuple[float, dict[str, np.ndarray], float]] = []  # distance, counts, p

    def consider(counts: dict[str, np.ndarray], p: float) -> bool:
        tried.append((p_dist(text, p), counts, p))
        return tried[-1][0] == 0.0

    aim = math.log10(p_center(text))
    # rows that are the levels: one member of the rule, every choice; else the rule's closest
    rules, n_choices = (RULES[:1], None) if not (rest or blocks) else (RULES, FAMILY_CHOICES)
    for _, choice in choices[:n_choices]:
        fam = sorted(_family(choice, idx, k, d, rules), key=lambda c: _off(chisq_p(c), aim))
        if any(consider(c, fisher_p(c)) for c in fam[:FAMILY_FISHER]):
            break
    if blocks and tried[-1][0] > 0:  # no member of the rule prints as printed
        for _, choice in choices[:SEARCH_CHOICES]:
            fam = _family(choice, idx, k, d)
            start = min(fam, key=lambda c: p_dist(text, fisher_p(c)))
            if consider(*_local_search(start, blocks, text)):
                break
    _, counts, p = min(tried, key=lambda t: t[0])
    return Fit(counts, p, p_holds(text, p), [t[2] for t in tried])


def p_note(table: str, item: str, cells: list[Cell], fit: Fit, p_text: str) -> str:
    """The IMPOSSIBLE note of a printed p no candidate reproduces."""
    pcts = " vs ".join(
        f"{g} " + "/".join(f"{c.pct[g]:g}" for c in cells if g in c.pct) + "%" for g in fit.counts
    )
    lo, hi = min(fit.ps), max(fit.ps)
    chi = chisq_p(fit.counts)
    other = (
        f"; a chi-square test without correction of the same counts gives {chi:.3g}, which "
        f"prints as {p_text}"
        if p_holds(p_text, chi)
        else ""
    )
    return (
        f"IMPOSSIBLE {table} {item} p: Fisher's exact p of the {len(fit.ps)} count tables the "
        f"calibration tried that round to the printed percentages ({pcts}, total column "
        f"included; up to {MISSING_FRAC:.0%} missing answers per group) lies in {lo:.2g}-{hi:.2g} "
        "(the range over every such table is the replication's check, 06); printed "
        f"{p_text}; reproduced {fit.p:.3g} (the closest, fewest missing answers){other}"
    )
