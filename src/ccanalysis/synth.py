"""A calibrated synthetic stand-in for the confidential care coordinator survey (SYNTHETIC DATA).

The study's REDCap export cannot be published. This module writes a REDCap *raw* export with the
study's structure (317 clinics of 42 care systems, reported on by 213 coordinators) whose every
number printed in Tables 1-4 of Solberg et al. 2024 is reproduced to the printed precision when it
is analysed as the paper did. It is the only analysis-side module that reads ``data/published/``:
the printed tables are its calibration targets. Items, codes and scales come from the instrument
(:class:`ccanalysis.instrument.Instrument`); the printed rows and how collapsed rows combine levels
come from ``data/published/`` and ``specs/tables.csv``.

Calibration (deterministic, done once from the targets; :func:`calibrate`)
--------------------------------------------------------------------------
* Categorical items. For each item and each group (Table 1: ``mn_only``, ``isw_only``, ``both``
  coordinators; Tables 3-4: ``mn``, ``isw`` clinics) the answer counts are solved so that every printed
  percentage - of the groups *and of the total column* - is met strictly (no half-way ties, so any
  rounding convention gives the printed digits). Where that is impossible with every record answering,
  the fewest missing answers that make it possible are used (item nonresponse); among solutions with
  that many, the one whose exact percentages are closest to the printed ones. Check-all-that-apply
  questions share one denominator (a question with no box checked is not answered). A printed row
  that no data can meet (its total column contradicts its group columns unless very many answers are
  missing; with at most ``MAX_MISSING``) keeps its group columns and gets the nearest total; it is
  listed as ``IMPOSSIBLE`` in the calibration notes (``Calibration.notes``, ``SYNTHETIC.md``).
* Collapsed rows (e.g. *always/mostly* of always/mostly/sometimes/rarely/never): the printed top share
  is met exactly; the shares of the levels inside the top and of the unshown levels follow an
  ordered-probit rule: a normal latent with thresholds a fixed distance apart (``SPACINGS``, in latent
  SDs) whose location is the pooled one plus ``shift`` times the group's own offset (the group's own
  location is the one that gives its printed top share); counts by largest remainder.
* p-values. The printed p-values are targets too, under the paper's tests as the tables compute them
  (:func:`ccanalysis.stats.fisher_exact` on the full answer distribution by group; one-way ANOVA /
  Student's t for means). Per item the candidates are searched in order of plausibility and the first
  whose p prints as the printed one (:func:`ccanalysis.printing.printed_holds`, with a relative
  margin ``P_MARGIN``) is kept: the count choices meeting every printed percentage (closest exact
  percentages first; fewest missing answers first, then more - at most ``MISSING_FRAC`` of a group -
  for single questions); for collapsed rows the members of the ordered-probit rule (``SPACINGS`` x
  ``SHIFTS``, closest chi-square first), then a greedy local search that moves answers between the
  levels of one printed cell or between the unshown levels of one group. Deterministic, no
  randomness. A printed p that no candidate reaches (every count table rounding to the printed
  percentages gives another p) is listed as ``IMPOSSIBLE ... p:`` in the notes with the range of
  Fisher p-values found; the closest p (fewest missing answers) is kept.
* Continuous items: group sizes (fewest missing), group sums and target SDs are solved so that group
  means/SDs and the pooled total mean/SD all round to the printed values; values are gamma shaped
  (right-skewed, the more so the larger SD/mean), non-negative, within the dictionary's min/max, on the
  dictionary's grid (whole numbers for ``integer``, one decimal for ``number``) and then nudged unit by
  unit until the sum is exact and the SD is as close to its target as the grid allows. The target SDs
  (on a grid inside the printed rounding intervals), sums and group sizes are chosen so that the
  ANOVA / t-test p prints as printed for every SD within ``P_SD_TOL`` of the targets.

Structure
---------
Coordinators are built first with their group (117 medical/nursing only, 88 integrated only, 8 both),
their number of clinics (152 one clinic; 61 two to five, at least one with five) and the 14 social work
degrees (11 integrated only, 3 both) reporting on exactly 27 clinics. Coordinators are then packed whole
into care systems: 16 small systems (1-2 clinics) and 15 medium ones (3-9) get mostly single-clinic
coordinators, drawn with a preference for medical/nursing ones; the 11 large systems (>9) get the
remaining multi-clinic coordinators and singles. Rural clinics (33%, RUCA 4-10) are drawn with higher
odds for medical/nursing clinics, small and medium systems and a care-system random effect. Table 2:
integrated clinics answer yes to all four criteria; 21 medical/nursing clinics have a social worker on
the team (1, 4 and 5 of them answer yes to criteria 2, 3, 4, never all three); criteria 2-4 and
``sw_engage_ease`` are blank where ``sw_on_team`` is no (branching logic). Ease of engaging the social
worker: 12 of those 21 say somewhat difficult, the other 9 split very easy : somewhat easy : very
difficult as ``ENGAGE_MN_REST`` (clinics meeting more criteria find it easier); 85% of integrated
clinics say easy (55% of those very easy), the rest somewhat (80%) or very difficult. Degrees: one
category per coordinator as printed; a nursing bachelor/master also checks RN with probability
``P_BSN_ALSO_RN`` (the instrument's ``@CC-SINGLE`` order analyses it as msn_bsn).

Dependence
----------
Answers are not independent draws. Each record gets, for every item, a Gaussian latent
``z = sqrt(RHO) * u[coordinator, item] + sqrt(1 - RHO) * e`` with ``RHO`` = 0.9, so that one coordinator
answering for several clinics gives mostly the same answers; ``u`` mixes a coordinator-level block factor
(``BLOCK_LOADING``) shared by the items of a block (the social-needs services; patient communication;
clinician communication; referral routes; complexity; familiarity; availability; value; the items of
each check-all-that-apply question) with an item-specific part. Within each group the exact calibrated
counts are handed out by the rank of ``z`` (highest latent -> first, "top" level), so marginals are exact
and the dependence is a Gaussian copula. Continuous values are matched to records by the same ranks.
Item nonresponse: the k missing answers of a group are the k records with the highest nonresponse
propensity plus Gumbel noise; the propensity is shared by a coordinator's records, so the same people
skip several items. Coordinator items use blocks too (experience: years, certification; presence:
hours, on-site). Coordinator-form answers are generated once per coordinator and repeated on each
of their records. A measure question answered "None of the above" has no other box checked, and every
answered check-all-that-apply question has at least one box (boxes are moved between records of the
same group to ensure this, which keeps the counts).

Scale
-----
``scale`` multiplies clinics, coordinators and care systems (rounded). At ``scale != 1`` every count is
the scale-1 calibrated proportion apportioned to the scaled group (largest remainder), so percentages
agree with the scale-1 ones to within 1/N of the group and the structure keeps its proportions; exact
rounding of every printed digit and the exact 27 clinics of social work coordinators hold at scale 1.

Years in the study clinic(s) are matched to years as a coordinator by rank (``PAIRED``) and kept at
or below them (each value has its partner as upper bound while its group's mean and SD are met).
Impossible printed numbers (see ``Calibration.notes``): the total column of *spiritual services*
(37% cannot be met together with 30% and 56%), and the p-values of ``certified_cc`` (Fisher 0.113;
only a chi-square test gives the printed 0.128), ``comm_initiator``, ``svc_spiritual``,
``support_emr_prompts`` and ``measure_chronic_control`` (no count table rounding to the printed
percentages gives the printed p under Fisher's exact test).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import chdtrc, fdtrc, ndtr, ndtri

from ccanalysis import __version__, stats
from ccanalysis.instrument import Field, Instrument, read_dictionary
from ccanalysis.io import write_csv, write_text
from ccanalysis.printing import parse_printed, printed_holds
from ccanalysis.vocab import DEFAULT_SEED, SYNTHETIC_LABEL

#: Correlation of the latents of two records of one coordinator (same item).
RHO = 0.9
#: Share of a coordinator's item latent that comes from the block factor.
BLOCK_LOADING = 0.5
#: Candidate threshold spacings (latent SDs) of the ordered-probit rule for unshown levels.
SPACINGS = (0.6, 0.8, 1.0, 1.3, 0.45, 1.7)
#: Candidate group shifts of that rule: 0 = every group splits like the pooled answers, 1 = each
#: group's own latent location (from its top share), 2 = twice the group's difference from the pool.
SHIFTS = (1.0, 0.0, 2.0, 0.5, 1.5, -0.5, 3.0)
#: Relative margin by which a calibrated p-value must print as the printed one.
P_MARGIN = 1e-6
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
#: Means: grid of SD offsets per group inside the SD's rounding interval, the SD tolerance for
#: which the printed p must hold, and the extra missing answers tried for it.
P_SD_GRID = 11
P_SD_TOL = 0.004
P_EXTRA_MISSING = 2
#: Group sums tried per group (evenly spaced over those giving the printed mean): with a printed
#: p-value to meet, and without one.
P_SUMS = 11
PLAIN_SUMS = 9
#: Blocks of items answered alike (modelling assumption of the synthesizer, not instrument facts).
BLOCKS: dict[str, tuple[str, ...]] = {
    "social_needs": (
        "svc_social_needs",
        "svc_financial",
        "svc_insurance",
        "svc_employment",
        "svc_cultural",
        "svc_community_referral",
        "svc_spiritual",
    ),
    "pt_comm": ("pt_comm_in_person", "pt_comm_phone", "pt_comm_emr", "pt_comm_video"),
    "clin_comm": (
        "clin_comm_before",
        "clin_comm_after",
        "clin_comm_meeting",
        "clin_comm_adhoc",
        "clin_comm_phone",
        "clin_comm_emr",
        "clin_comm_video",
    ),
    "routes": ("refer_outside", "refer_inside", "provide_directly"),
    "complexity": ("complexity_medical", "complexity_social"),
    "familiar": (
        "familiar_clinical",
        "familiar_clinical_people",
        "familiar_community",
        "familiar_community_people",
    ),
    "availability": ("specialty_available", "community_available"),
    "value": ("clinicians_value", "leaders_value", "resource_satisfaction"),
    "experience": ("years_cc_role", "years_study_clinics", "certified_cc"),
    "presence": ("hours_week_study_clinics", "work_onsite"),
}
#: Items matched to records by (almost) the same ranks as another item and bounded above by it:
#: years in the study clinic(s) never exceed years as a coordinator.
PAIRED: dict[str, str] = {"years_study_clinics": "years_cc_role"}
#: The care-model question asked where a social worker is on the team (not in a printed table; the
#: paper's text gives 12 of 21 and 85%).
ENGAGE_ITEM = "sw_engage_ease"
#: Split of the medical/nursing clinics with a social worker who do NOT find it somewhat difficult
#: to engage one (very easy : somewhat easy : very difficult), and of the integrated clinics:
#: share of very easy among "easy", share of somewhat difficult among "difficult".
ENGAGE_MN_REST = (2, 4, 3)
ENGAGE_ISW_VERY_EASY = 0.55
ENGAGE_ISW_SOMEWHAT_DIFFICULT = 0.8
#: Probability that a coordinator with a nursing bachelor/master also checks "RN".
P_BSN_ALSO_RN = 0.3
RUCA_URBAN = ((1, 2, 3), (0.80, 0.12, 0.08))
RUCA_RURAL = ((4, 5, 6, 7, 8, 9, 10), (0.30, 0.07, 0.05, 0.25, 0.06, 0.05, 0.22))
MAX_MISSING = 24
#: A group's SD is redrawn until it is this close to its target (the solver left 0.012 of room).
SD_TOL = 0.004

CLINIC_GROUPS = ("mn", "isw")
COORD_GROUPS = ("mn_only", "isw_only", "both")


# ----------------------------------------------------------------------------------------------
# Targets
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Targets:
    """The printed numbers (calibration targets) and the table specification.

    Attributes
    ----------
    published : DataFrame
        ``published_long.csv``: table, item, level, group, measure, value (value as printed, text).
    spec : DataFrame
        ``specs/tables.csv``: shown/combine/stat per printed row.
    facts : dict
        ``study_facts.csv``: key -> value (text).
    source : str
        Where the targets were read from.
    """

    published: pd.DataFrame
    spec: pd.DataFrame
    facts: dict[str, str]
    source: str = ""

    def get(self, table: str, item: str, level: str, group: str, measure: str) -> float | None:
        """A printed number, or None if not printed."""
        key = (table, item, level, group, measure)
        return self._index.get(key)

    @property
    def _index(self) -> dict[tuple[str, str, str, str, str], float]:
        cached = self.__dict__.get("_idx")
        if cached is None:
            cached = {}
            for row in self.published.itertuples(index=False):
                if row.measure == "p":
                    continue
                cached[(row.table, row.item, row.level, row.group, row.measure)] = float(row.value)
            object.__setattr__(self, "_idx", cached)
        return cached

    def fact(self, key: str) -> float:
        return float(self.facts[key])


def load_targets(published_dir: str | Path, spec_path: str | Path | None = None) -> Targets:
    """Read the published tables (``published_long.csv``, ``study_facts.csv``) and the table spec.

    Parameters
    ----------
    published_dir : path
        The ``data/published`` directory.
    spec_path : path, optional
        The table specification; default ``ccanalysis/specs/tables.csv``.
    """
    published_dir = Path(published_dir)
    spec_path = Path(spec_path) if spec_path else Path(__file__).parent / "specs" / "tables.csv"
    read = dict(dtype=str, keep_default_na=False)
    published = pd.read_csv(published_dir / "published_long.csv", **read)
    spec = pd.read_csv(spec_path, **read)
    facts_df = pd.read_csv(published_dir / "study_facts.csv", **read)
    facts = dict(zip(facts_df["key"], facts_df["value"], strict=True))
    return Targets(published, spec, facts, str(published_dir))


def _printed_p_text(targets: Targets, table: str, item: str) -> str | None:
    """The printed p-value of an item, as text (``"0.007"``, ``"<0.001"``), or None."""
    rows = targets.published
    sel = rows[(rows.table == table) & (rows.item == item) & (rows.measure == "p")]
    return None if sel.empty else str(sel.iloc[0]["value"]).strip()


# ----------------------------------------------------------------------------------------------
# Calibration
# ----------------------------------------------------------------------------------------------
@dataclass
class CatPlan:
    """Counts of one categorical item at scale 1.

    ``counts[g]`` are counts per full level (instrument order, codes in ``codes``), summing to the
    group's number of answers; ``n[g]`` is the group size (answers + missing).
    """

    item: str
    table: str
    levels: list[str]
    codes: list[str]
    n: dict[str, int]
    counts: dict[str, np.ndarray]
    spacing: tuple[float, float] | None = None  # (threshold spacing, group shift) of the rule

    @property
    def missing(self) -> dict[str, int]:
        return {g: self.n[g] - int(self.counts[g].sum()) for g in self.n}


@dataclass
class NumPlan:
    """Group answers, sums (in grid units) and target SDs of one continuous item at scale 1."""

    item: str
    table: str
    n: dict[str, int]
    answers: dict[str, int]
    sums: dict[str, int]
    sd: dict[str, float]
    step: float
    lo: float
    hi: float
    decimals: int

    @property
    def missing(self) -> dict[str, int]:
        return {g: self.n[g] - self.answers[g] for g in self.n}


@dataclass
class Calibration:
    """Everything :func:`synthesize` needs, solved from the targets (deterministic)."""

    cat: dict[str, CatPlan]
    num: dict[str, NumPlan]
    structure: dict[str, float]
    #: checkbox questions of Tables 3/4: field name -> items (they share their missing records)
    questions: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)


def _ok(c: int, d: int, p: float, dec: int) -> bool:
    """Does c/d print as p (``dec`` decimals of a percentage), strictly (no tie)?"""
    if d <= 0:
        return False
    unit = 10**dec
    pint = round(p * unit)
    return 2 * abs(100 * unit * c - pint * d) < d


def _cands(d: int, p: float, dec: int) -> list[int]:
    c0 = p * d / 100
    return [
        c
        for c in range(max(0, math.floor(c0) - 1), min(d, math.ceil(c0) + 1) + 1)
        if _ok(c, d, p, dec)
    ]


def _compositions(total: int, k: int, caps: Sequence[int]) -> Iterable[tuple[int, ...]]:
    for combo in itertools.product(*(range(min(total, c) + 1) for c in caps)):
        if sum(combo) == total:
            yield combo


@dataclass
class _Cell:
    """A printed row of a categorical item: the set of full levels it counts."""

    levels: list[str]
    pct: dict[str, float]  # group (incl. total) -> printed pct
    n: dict[str, int]  # group -> printed count (Table 1, 2)
    relax_total: bool = False  # the printed total cannot be met: aim for it, do not require it


def _item_choices(
    cells: list[_Cell],
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
                ok = (g not in cell.pct) or _ok(c, d[g], cell.pct[g], dec)
                opts.append([c] if ok and c <= d[g] else [])
            else:
                opts.append(_cands(d[g], cell.pct[g], dec))
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
                if not cell.relax_total and not _ok(ctot, dtot, cell.pct["total"], dec):
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


def _solve_cells(
    items: dict[str, tuple[list[_Cell], bool]],
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
        for miss in _compositions(total_missing, len(groups), caps):
            d = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            sol_items: dict[str, dict[str, list[int]]] = {}
            score_total = 0.0
            for item, (cells, full) in items.items():
                choices = _item_choices(cells, full, groups, d, dec)
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
    return float(
        ndtri(t)
    )  # = -norm.isf(t); scipy.special, as the frozen-distribution call costs 50x


def _probit_shares(k: int, top: int, mu: float, spacing: float) -> np.ndarray:
    """Ordered-probit shares of k levels: thresholds ``spacing`` apart, the first ``top`` levels
    above 0, latent N(mu, 1)."""
    cuts = (np.arange(1, k) - top) * spacing  # thresholds, measured downwards from the top
    upper = np.concatenate(([np.inf], -cuts))
    lower = np.concatenate((-cuts, [-np.inf]))
    return ndtr(upper - mu) - ndtr(lower - mu)  # the standard normal cdf


def _apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Largest-remainder apportionment of ``total`` by ``weights``."""
    weights = np.asarray(weights, dtype=float)
    if total <= 0:
        return np.zeros(len(weights), dtype=np.int64)
    if weights.sum() <= 0:
        weights = np.ones(len(weights))
    quota = total * weights / weights.sum()
    base = np.floor(quota).astype(np.int64)
    rest = total - int(base.sum())
    if rest > 0:
        order = np.argsort(-(quota - base), kind="stable")
        base[order[:rest]] += 1
    return base


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
        counts[lv] = _apportion(c, shares[lv]) if len(lv) > 1 else c
    rest = [i for i in range(k) if i not in covered]
    if rest:
        counts[rest] = _apportion(d - top_count, shares[rest])
    return counts


# ---- p-values: the paper's tests on candidate count tables ------------------------------------
_FISHER_CACHE: dict[tuple[int, ...], float] = {}


def _fisher_p(counts: dict[str, np.ndarray], groups: Sequence[str]) -> float:
    """Fisher's exact p of a levels x groups table, as the tables compute it (cached)."""
    t = np.array([counts[g] for g in groups], dtype=np.int64).T
    key = (*t.shape, *t.ravel().tolist())
    p = _FISHER_CACHE.get(key)
    if p is None:
        p = float(stats.fisher_exact(t, seed=DEFAULT_SEED).p)
        _FISHER_CACHE[key] = p
    return p


def _p_holds(text: str, p: float) -> bool:
    """Does p print as ``text``, with a relative safety margin of P_MARGIN?"""
    return all(printed_holds(text, p * f) for f in (1 - P_MARGIN, 1.0, 1 + P_MARGIN))


def _p_center(text: str) -> float:
    """A representative true value of a printed p (log-scale aim of the search)."""
    pr = parse_printed(text)
    if pr.kind == "lt":
        return pr.value / 3
    if pr.kind == "gt":
        return min(1.0, (1 + 2 * pr.value) / 3)
    return pr.value


def _p_dist(text: str, p: float) -> float:
    """0 when p prints as ``text``, else the log10 distance to the printed interval (+1)."""
    if _p_holds(text, p):
        return 0.0
    pr = parse_printed(text)
    lp = math.log10(max(p, 1e-300))
    lo = math.log10(max(pr.low, 1e-300))
    hi = math.log10(pr.high) if math.isfinite(pr.high) else 0.0
    return 1.0 + max(lo - lp, lp - hi, 0.0)


def _chi2_fast(counts: dict[str, np.ndarray], groups: Sequence[str]) -> float:
    t = np.array([counts[g] for g in groups], dtype=float)
    t = t[:, t.sum(axis=0) > 0]
    if t.shape[1] < 2:
        return 1.0
    e = t.sum(axis=1, keepdims=True) * t.sum(axis=0, keepdims=True) / t.sum()
    return float(chdtrc((t.shape[0] - 1) * (t.shape[1] - 1), ((t - e) ** 2 / e).sum()))  # chi2.sf


@dataclass
class _Fit:
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
    aim = math.log10(_p_center(text))
    cur = {g: c.copy() for g, c in start.items()}
    p_cur = _fisher_p(cur, groups)
    obj_cur = abs(math.log10(max(p_cur, 1e-300)) - aim)
    for _ in range(max_steps):
        if _p_holds(text, p_cur):
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
                        pc = _chi2_fast(new, groups)
                        moves.append((abs(math.log10(max(pc, 1e-300)) - aim), len(moves), new))
        if not moves:
            break
        moves.sort(key=lambda m: (m[0], m[1]))
        best = None
        for _, _, new in moves[:6]:
            p = _fisher_p(new, groups)
            obj = 0.0 if _p_holds(text, p) else abs(math.log10(max(p, 1e-300)) - aim)
            if best is None or obj < best[0]:
                best = (obj, new, p)
        if best is None or best[0] >= obj_cur:
            break
        obj_cur, cur, p_cur = best
    return cur, p_cur


def _fit_item(
    choices: list[tuple[float, tuple[tuple[int, ...], ...]]],
    idx: list[list[int]],
    k: int,
    d: dict[str, int],
    groups: Sequence[str],
    text: str | None,
) -> _Fit:
    """Counts of every level meeting the printed cells and, if possible, the printed p.

    Candidates in order of closeness of the percentages; for collapsed rows first the ordered-probit
    rule (closest chi-square first), then a local search over the unshown levels' split.
    """
    covered = sorted(i for lv in idx for i in lv)
    determined = covered == list(range(k)) and all(len(lv) == 1 for lv in idx)
    if text is None:  # no test printed: the plainest rule
        choice = choices[0][1]
        if determined:
            return _Fit(_full_counts(choice, idx, k, groups), math.nan, True, None, (0, 0), 1)
        rule, counts = _family(choice, idx, k, d, groups)[0]
        return _Fit(counts, math.nan, True, rule, (0, 0), 1)
    best: tuple[float, dict[str, np.ndarray], float, tuple[float, float] | None] | None = None
    ps: list[float] = []

    def consider(counts: dict[str, np.ndarray], p: float, rule) -> bool:
        nonlocal best
        ps.append(p)
        dist = _p_dist(text, p)
        if best is None or dist < best[0]:
            best = (dist, counts, p, rule)
        return dist == 0.0

    if determined:
        for _, choice in choices:
            counts = _full_counts(choice, idx, k, groups)
            if consider(counts, _fisher_p(counts, groups), None):
                break
    else:
        aim = math.log10(_p_center(text))
        rest = [i for i in range(k) if i not in covered]
        blocks = [lv for lv in idx if len(lv) > 1] + ([rest] if len(rest) > 1 else [])
        done = False
        for _, choice in choices[:FAMILY_CHOICES]:
            fam = _family(choice, idx, k, d, groups)
            fam.sort(key=lambda rc: abs(math.log10(max(_chi2_fast(rc[1], groups), 1e-300)) - aim))
            for rule, counts in fam[:FAMILY_FISHER]:
                if consider(counts, _fisher_p(counts, groups), rule):
                    done = True
                    break
            if done:
                break
        if not done and blocks:
            for _, choice in choices[:SEARCH_CHOICES]:
                fam = _family(choice, idx, k, d, groups)
                start = min(fam, key=lambda rc: _p_dist(text, _fisher_p(rc[1], groups)))
                counts, p = _local_search(start[1], blocks, groups, text)
                if consider(counts, p, start[0]):
                    break
    assert best is not None
    _, counts, p, rule = best
    return _Fit(counts, p, _p_holds(text, p), rule, (min(ps), max(ps)), len(ps))


def _field_levels(f: Field, item: str) -> tuple[list[str], list[str]]:
    """(levels, codes) of an analysis item in instrument order; checkbox items are yes/no (1/0)."""
    if f.field_type == "checkbox" and f.items:
        return ["yes", "no"], ["1", "0"]
    codes = list(f.choices)
    return [f.levels[c] for c in codes], codes


def _grid(f: Field) -> tuple[float, int]:
    """Step and decimals of a numeric field: whole numbers for integer, one decimal otherwise."""
    if f.validation == "integer":
        return 1.0, 0
    m = f.validation.removeprefix("number_").removesuffix("dp")
    if f.validation.startswith("number_") and m.isdigit():
        return 10.0 ** -int(m), int(m)
    return 0.1, 1


def _sum_options(mean: float, n: int, step: float, half: float, most: int) -> list[int]:
    """Sums of n answers on the grid ``step`` whose mean prints as ``mean`` (within ``half``);
    at most ``most`` of them, evenly spaced."""
    lo_s = math.floor((mean - half) * n / step) - 1
    hi_s = math.ceil((mean + half) * n / step) + 1
    sums = [s for s in range(lo_s, hi_s + 1) if abs(s * step / n - mean) < half - 1e-9]
    if len(sums) > most:
        sums = [sums[i] for i in np.linspace(0, len(sums) - 1, most).round().astype(int)]
    return sums


def _anova_p(ns: np.ndarray, means: np.ndarray, sds: np.ndarray) -> np.ndarray:
    """One-way ANOVA p (= Student's t with two groups) for SD rows ``sds`` (..., k)."""
    big_n = ns.sum()
    k = len(ns)
    grand = (ns * means).sum() / big_n
    ssb = (ns * (means - grand) ** 2).sum()
    ssw = ((ns - 1) * sds**2).sum(axis=-1)
    return fdtrc(k - 1, big_n - k, (ssb / (k - 1)) / (ssw / (big_n - k)))  # F.sf


def _solve_numeric_p(
    item: str,
    table: str,
    groups: Sequence[str],
    sizes: dict[str, int],
    mean: dict[str, float],
    sd: dict[str, float],
    f: Field,
    p_text: str,
) -> NumPlan | None:
    """Group sizes, sums and SDs meeting the printed means, SDs and p-value (None if none does)."""
    step, dec = _grid(f)
    lo = f.vmin if f.vmin is not None else 0.0
    hi = f.vmax if f.vmax is not None else 1e9
    half = 0.05
    margin_sd = 0.012
    k = len(groups)
    grid = np.linspace(-half + margin_sd, half - margin_sd, P_SD_GRID)
    sd_rows = np.array(list(itertools.product(*[[sd[g] + x for x in grid] for g in groups])))
    pr = parse_printed(p_text)
    aim = math.log10(_p_center(p_text))
    caps = [min(sizes[g] - 2, 12) for g in groups]
    first_feasible: int | None = None  # fewest missing answers meeting the means and SDs
    for total_missing in range(MAX_MISSING + 1):
        if first_feasible is not None and total_missing > first_feasible + P_EXTRA_MISSING:
            break
        best = None
        for miss in _compositions(total_missing, k, caps):
            n = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            ns = np.array([n[g] for g in groups], dtype=float)
            ntot = ns.sum()
            opts = [_sum_options(mean[g], n[g], step, half, P_SUMS) for g in groups]
            if not all(opts):
                continue
            for choice in itertools.product(*opts):
                means = np.array([c * step / n[g] for g, c in zip(groups, choice, strict=True)])
                mtot = float((means * ns).sum() / ntot)
                if abs(mtot - mean["total"]) >= half - 1e-9:  # exact: the sums are exact
                    continue
                between = float((ns * (means - mtot) ** 2).sum())
                tot_sd = np.sqrt((((ns - 1) * sd_rows**2).sum(axis=1) + between) / (ntot - 1))
                ok = np.abs(tot_sd - sd["total"]) < half - margin_sd
                if not ok.any():
                    continue
                if first_feasible is None:
                    first_feasible = total_missing
                rows = sd_rows[ok]
                p_mid = _anova_p(ns, means, rows)
                p_lo = _anova_p(ns, means, rows - P_SD_TOL)
                p_hi = _anova_p(ns, means, rows + P_SD_TOL)
                good = pr.holds_each(p_lo) & pr.holds_each(p_mid) & pr.holds_each(p_hi)
                if not good.any():
                    continue
                for r, pm, ts in zip(rows[good], p_mid[good], tot_sd[ok][good], strict=True):
                    score = (
                        (mtot - mean["total"]) ** 2
                        + (ts - sd["total"]) ** 2
                        + float(((means - np.array([mean[g] for g in groups])) ** 2).sum())
                        + float(((r - np.array([sd[g] for g in groups])) ** 2).sum())
                        + 1e-3 * abs(math.log10(pm) - aim)
                    )
                    if best is None or score < best[0]:
                        best = (
                            score,
                            n,
                            dict(zip(groups, choice, strict=True)),
                            {g: float(x) for g, x in zip(groups, r, strict=True)},
                        )
        if best is not None:
            _, n, sums, sds = best
            return NumPlan(item, table, dict(sizes), n, sums, sds, step, lo, hi, dec)
    return None


def _solve_numeric(
    item: str,
    table: str,
    groups: Sequence[str],
    sizes: dict[str, int],
    mean: dict[str, float],
    sd: dict[str, float],
    f: Field,
    p_text: str | None = None,
) -> NumPlan:
    """Fewest missing answers, group sums and SDs so that group and total mean/SD round right.

    With ``p_text`` the printed p-value of the one-way ANOVA (Student's t with two groups) is met
    too: the group SDs are then chosen on a grid inside their rounding intervals (the p-value
    must hold for every SD within ``P_SD_TOL`` of the chosen ones); up to ``P_EXTRA_MISSING`` more
    missing answers than the means need are tried. Without a match the plain solution is kept.
    """
    step, dec = _grid(f)
    if p_text is not None:
        plan = _solve_numeric_p(item, table, groups, sizes, mean, sd, f, p_text)
        if plan is not None:
            return plan
    lo = f.vmin if f.vmin is not None else 0.0
    hi = f.vmax if f.vmax is not None else 1e9
    half = 0.05  # printed with one decimal
    margin_sd = 0.012
    caps = [min(sizes[g] - 2, 12) for g in groups]
    for total_missing in range(MAX_MISSING + 1):
        best = None
        for miss in _compositions(total_missing, len(groups), caps):
            n = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            opts = [_sum_options(mean[g], n[g], step, half, PLAIN_SUMS) for g in groups]
            if not all(opts):
                continue
            ntot = sum(n.values())
            for choice in itertools.product(*opts):
                means = {g: s * step / n[g] for g, s in zip(groups, choice, strict=True)}
                mtot = sum(means[g] * n[g] for g in groups) / ntot
                if abs(mtot - mean["total"]) >= half - 0.002:
                    continue
                between = sum(n[g] * (means[g] - mtot) ** 2 for g in groups)

                def total_sd(t: float, between=between, n=n, ntot=ntot) -> float:
                    within = sum(
                        (n[g] - 1) * (sd[g] - half + margin_sd + t * 2 * (half - margin_sd)) ** 2
                        for g in groups
                    )
                    return math.sqrt((within + between) / (ntot - 1))

                s_lo, s_hi = total_sd(0.0), total_sd(1.0)
                target = min(max(sd["total"], s_lo), s_hi)
                if abs(target - sd["total"]) >= half - margin_sd:
                    continue
                a, b = 0.0, 1.0
                for _ in range(40):
                    mid = (a + b) / 2
                    if total_sd(mid) < target:
                        a = mid
                    else:
                        b = mid
                t = (a + b) / 2
                score = (
                    (mtot - mean["total"]) ** 2
                    + (target - sd["total"]) ** 2
                    + sum((means[g] - mean[g]) ** 2 for g in groups)
                    + abs(t - 0.5) * 1e-3
                )
                if best is None or score < best[0]:
                    sds = {g: sd[g] - half + margin_sd + t * 2 * (half - margin_sd) for g in groups}
                    best = (score, n, dict(zip(groups, choice, strict=True)), sds)
        if best is not None:
            _, n, sums, sds = best
            return NumPlan(item, table, dict(sizes), n, sums, sds, step, lo, hi, dec)
    raise ValueError(f"no group sizes reproduce the printed mean/SD of {item}")


def _fit_more_missing(
    cells: list[_Cell],
    full: bool,
    groups: Sequence[str],
    sizes: dict[str, int],
    d0: dict[str, int],
    dec: int,
    idx: list[list[int]],
    k: int,
    p_text: str,
    fit0: _Fit,
) -> tuple[_Fit, dict[str, int]]:
    """Try more missing answers than the percentages need (fewest first; at most MISSING_FRAC of
    a group and MAX_MISSING in all) when they allow the printed p."""
    base = sum(sizes[g] - d0[g] for g in groups)
    caps = [math.floor(MISSING_FRAC * sizes[g] + 1e-9) for g in groups]
    lo_all, hi_all, n_all = *fit0.p_range, fit0.n_tables
    for total in range(base, MAX_MISSING + 1):
        for miss in _compositions(total, len(groups), caps):
            d = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            if d == d0:
                continue
            choices = _item_choices(cells, full, groups, d, dec)
            if not choices:
                continue
            fit = _fit_item(choices, idx, k, d, groups, p_text)
            lo_all, hi_all = min(lo_all, fit.p_range[0]), max(hi_all, fit.p_range[1])
            n_all += fit.n_tables
            if fit.ok:
                return fit, d
    fit0.p_range, fit0.n_tables = (lo_all, hi_all), n_all
    return fit0, d0


def _p_note(
    table: str, item: str, cells: list[_Cell], groups: Sequence[str], fit: _Fit, p_text: str
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
        if _p_holds(p_text, chi)
        else ""
    )
    return (
        f"IMPOSSIBLE {table} {item} p: Fisher's exact p of every count table that rounds to the "
        f"printed percentages ({pcts}, total column included; {fit.n_tables} tables with up to "
        f"{MISSING_FRAC:.0%} missing answers per group) lies in {lo:.2g}-{hi:.2g}; printed "
        f"{p_text}; reproduced {fit.p:.3g} (the closest, fewest missing answers){other}"
    )


def _group_sizes(targets: Targets, table: str, groups: Sequence[str]) -> dict[str, int]:
    return {g: int(targets.get(table, "n", "", g, "n")) for g in groups}


def calibrate(instrument: Instrument, targets: Targets) -> Calibration:
    """Solve counts, missing answers, sums and SDs of every printed item (scale 1).

    Parameters
    ----------
    instrument : Instrument
        The parsed data dictionary.
    targets : Targets
        The printed tables (:func:`load_targets`).
    """
    items = instrument.analysis_items()
    spec = targets.spec
    cat: dict[str, CatPlan] = {}
    num: dict[str, NumPlan] = {}
    notes: list[str] = []
    questions: dict[str, list[str]] = {}
    for table in ("table1", "table3", "table4"):
        groups = COORD_GROUPS if table == "table1" else CLINIC_GROUPS
        dec = 1 if table == "table1" else 0
        sizes = _group_sizes(targets, table, groups)
        tspec = spec[spec.table == table]
        # categorical items, check-all-that-apply items grouped by question
        pending: dict[str, dict[str, tuple[list[_Cell], bool]]] = {}
        for item, rows in tspec.groupby("item", sort=False):
            f = items[item]
            shown = rows["shown"].iloc[0]
            if shown == "mean_sd" or rows["stat"].iloc[0] == "mean_sd":
                mean = {g: targets.get(table, item, "", g, "mean") for g in (*groups, "total")}
                sd = {g: targets.get(table, item, "", g, "sd") for g in (*groups, "total")}
                plan = _solve_numeric(
                    item,
                    table,
                    groups,
                    sizes,
                    mean,
                    sd,
                    f,  # type: ignore[arg-type]
                    _printed_p_text(targets, table, item),
                )
                num[item] = plan
                if any(plan.missing.values()):
                    notes.append(
                        f"{item}: {plan.missing} missing answers needed for the printed "
                        "mean/SD and p-value"
                    )
                continue
            levels, _ = _field_levels(f, item)
            cells = []
            for row in rows.itertuples(index=False):
                combine = row.combine or row.level
                lv = combine.split("+")
                pct = {}
                nn = {}
                for g in (*groups, "total"):
                    v = targets.get(table, item, row.level, g, "pct")
                    if v is not None:
                        pct[g] = v
                    c = targets.get(table, item, row.level, g, "n")
                    if c is not None and g != "total":
                        nn[g] = int(c)
                cells.append(_Cell(list(lv), pct, nn))
                unknown = [x for x in lv if x not in levels]
                if unknown:
                    raise ValueError(f"{table} {item}: levels {unknown} not in the instrument")
            key = f.name if (f.field_type == "checkbox" and f.items) else item
            pending.setdefault(key, {})[item] = (cells, shown == "full")
        for key, its in pending.items():
            for item, (cells, full) in its.items():
                try:
                    _solve_cells({item: (cells, full)}, groups, sizes, dec)
                except ValueError:
                    for c in cells:
                        c.relax_total = True
                    notes.append(
                        f"IMPOSSIBLE {table} {item}: the printed total column cannot be met together "
                        f"with the group columns with at most {MAX_MISSING} missing answers; group "
                        "columns met, total as close as possible"
                    )
            d, sol = _solve_cells(its, groups, sizes, dec)
            f = items[next(iter(its))]
            if f.field_type == "checkbox" and f.items:
                questions[key] = list(f.items.values())
            for item, (cells, _full) in its.items():
                levels, codes = _field_levels(f, item)
                idx = [[levels.index(x) for x in c.levels] for c in cells]
                p_text = _printed_p_text(targets, table, item)
                d_fewest = d
                choices = _item_choices(cells, _full, groups, d, dec)
                fit = _fit_item(choices, idx, len(levels), d, groups, p_text)
                if not fit.ok and len(its) == 1:
                    # a single question: more missing answers may allow the printed p
                    fit, d_item = _fit_more_missing(
                        cells, _full, groups, sizes, d, dec, idx, len(levels), p_text, fit
                    )
                    if d_item != d:
                        d = d_item
                counts, spacing = fit.counts, fit.rule
                if p_text is not None and not fit.ok:
                    notes.append(_p_note(table, item, cells, groups, fit, p_text))
                cat[item] = CatPlan(item, table, levels, codes, dict(sizes), counts, spacing)
                for j, cell in enumerate(cells):
                    if cell.relax_total and "total" in cell.pct:
                        got = (
                            100
                            * sum(int(counts[g][idx[j]].sum()) for g in groups)
                            / sum(d.values())
                        )
                        notes.append(
                            f"IMPOSSIBLE {table} {item} {'+'.join(cell.levels)}: total "
                            f"printed {cell.pct['total']:g}, reproduced {got:.1f} (groups "
                            + ", ".join(f"{g} {cell.pct[g]:g}" for g in groups)
                            + " met)"
                        )
                miss = cat[item].missing
                if any(miss.values()):
                    notes.append(
                        f"{item}: {miss} missing answers needed for the printed percentages"
                        + (" and p-value" if d != d_fewest else "")
                    )
    structure = _structure_targets(targets)
    return Calibration(cat, num, structure, questions, notes)


def _structure_targets(t: Targets) -> dict[str, float]:
    g = t.get
    return {
        "clinics": g("table2", "n", "", "total", "n"),
        "isw_clinics": g("table2", "n", "", "isw", "n"),
        "coord_mn_only": g("table1", "n", "", "mn_only", "n"),
        "coord_isw_only": g("table1", "n", "", "isw_only", "n"),
        "coord_both": g("table1", "n", "", "both", "n"),
        "multi_mn_only": g("table1", "multi_clinic", "yes", "mn_only", "n"),
        "multi_isw_only": g("table1", "multi_clinic", "yes", "isw_only", "n"),
        "multi_both": g("table1", "multi_clinic", "yes", "both", "n"),
        "sw_degree_mn_only": g("table1", "degree", "msw_bsw", "mn_only", "n"),
        "sw_degree_isw_only": g("table1", "degree", "msw_bsw", "isw_only", "n"),
        "sw_degree_both": g("table1", "degree", "msw_bsw", "both", "n"),
        "sw_degree_clinics": t.fact("clinics_reported_by_sw_degree_coordinators"),
        "max_clinics": t.fact("coordinators_max_clinics"),
        "systems_small": t.fact("care_systems_small_1_2_clinics"),
        "systems_medium": t.fact("care_systems_medium_3_9_clinics"),
        "systems_large": t.fact("care_systems_large_over_9_clinics"),
        "urban_pct": t.fact("urban_pct_ruca_1_3"),
        **{
            f"mn_{item}": g("table2", item, "yes", "mn", "n")
            for item in dict.fromkeys(t.spec.loc[t.spec.table == "table2", "item"])
            if g("table2", item, "yes", "mn", "n") is not None
        },
        "mn_engage_difficult": t.fact("mn_sw_on_team_difficult_to_engage"),
        "isw_engage_easy_pct": t.fact("isw_easy_to_engage_sw_pct"),
    }


# ----------------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------------
@dataclass
class _Structure:
    coord_group: np.ndarray  # 0 mn_only, 1 isw_only, 2 both
    coord_size: np.ndarray
    coord_sw: np.ndarray  # social work degree
    coord_system: np.ndarray
    clinic_coord: np.ndarray
    clinic_isw: np.ndarray  # bool
    clinic_system: np.ndarray
    system_size: np.ndarray
    system_cat: np.ndarray  # 0 small, 1 medium, 2 large
    ruca: np.ndarray


def _gumbel_top(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of a weighted sample without replacement of size k (Gumbel top-k)."""
    keys = logits + rng.gumbel(size=len(logits))
    return np.argsort(-keys, kind="stable")[:k]


def _multi_sizes(rng: np.random.Generator, m: int, total: int, max_size: int) -> np.ndarray:
    """Sizes (2..max_size) of m multi-clinic coordinators adding up to ``total``."""
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    extra = total - 2 * m
    slots = max_size - 2
    if extra < 0 or extra > slots * m:
        raise ValueError(f"{m} coordinators cannot report on {total} clinics")
    weights = np.tile(0.55 ** np.arange(slots), m)
    pick = _gumbel_top(rng, np.log(weights), extra)
    sizes = 2 + np.bincount(pick // slots, minlength=m)
    # at least one coordinator with the maximum number of clinics, when the total allows it
    if sizes.max() < max_size and extra >= max_size - 2:
        i = int(np.argmax(sizes))
        need = max_size - int(sizes[i])
        donors = np.flatnonzero((sizes > 2) & (np.arange(m) != i))
        for j in donors[::-1]:
            take = min(need, int(sizes[j]) - 2)
            sizes[j] -= take
            sizes[i] += take
            need -= take
            if need == 0:
                break
    return sizes.astype(np.int64)


def _sw_degrees(
    rng: np.random.Generator,
    group: np.ndarray,
    size: np.ndarray,
    k_both: int,
    k_isw: int,
    clinics: int,
) -> np.ndarray:
    """Choose k_both 'both' and k_isw 'isw_only' coordinators reporting on ``clinics`` clinics.

    Random choices are retried (a few hundred times at most) until the clinic total is exact; the
    closest total is kept if none is (only possible at odd scales).
    """
    nc = len(group)
    both_idx = np.flatnonzero(group == 2)
    isw_single = np.flatnonzero((group == 1) & (size == 1))
    isw_multi_all = np.flatnonzero((group == 1) & (size > 1))
    best: tuple[int, np.ndarray] | None = None
    for _ in range(300):
        chosen_b = rng.permutation(both_idx)[:k_both]
        target = clinics - int(size[chosen_b].sum())
        isw_multi = rng.permutation(isw_multi_all)
        prefix = np.concatenate([[0], np.cumsum(size[isw_multi])])
        m_range = np.arange(0, min(k_isw, len(isw_multi)) + 1)
        m_range = m_range[k_isw - m_range <= len(isw_single)]
        totals = (k_isw - m_range) + prefix[m_range]
        m = int(m_range[np.argmin(np.abs(totals - target))])
        chosen_m = isw_multi[:m].copy()
        diff = target - int(totals[m_range == m][0])
        if diff != 0 and m > 0:  # swap one chosen multi for an unchosen one that closes the gap
            rest = isw_multi[m:]
            for j in range(m):
                hit = rest[size[rest] == int(size[chosen_m[j]]) + diff]
                if len(hit):
                    chosen_m[j] = hit[0]
                    diff = 0
                    break
        sw = np.zeros(nc, bool)
        sw[chosen_b] = True
        sw[chosen_m] = True
        sw[rng.permutation(isw_single)[: k_isw - m]] = True
        if best is None or abs(diff) < best[0]:
            best = (abs(diff), sw)
        if diff == 0:
            break
    assert best is not None
    return best[1]


def _build_structure(st: dict[str, float], scale: float, rng: np.random.Generator) -> _Structure:
    r = lambda x: int(round(x * scale))  # noqa: E731
    n_cl = r(st["clinics"])
    n_isw = r(st["isw_clinics"])
    n_mn = n_cl - n_isw
    n_coord = {
        "mn_only": r(st["coord_mn_only"]),
        "isw_only": r(st["coord_isw_only"]),
        "both": r(st["coord_both"]),
    }
    multi = {
        "mn_only": r(st["multi_mn_only"]),
        "isw_only": r(st["multi_isw_only"]),
        "both": n_coord["both"],
    }
    max_size = int(st["max_clinics"])
    # coordinators reporting on both models: 2..5 clinics, at least one of each model
    nb = n_coord["both"]
    b_size = rng.choice(
        np.arange(2, max_size + 1), size=nb, p=_norm(0.6 ** np.arange(max_size - 1))
    )
    b_isw = 1 + rng.binomial(b_size - 2, 0.5)
    single_mn = n_coord["mn_only"] - multi["mn_only"]
    single_isw = n_coord["isw_only"] - multi["isw_only"]
    mn_multi_total = n_mn - single_mn - int((b_size - b_isw).sum())
    isw_multi_total = n_isw - single_isw - int(b_isw.sum())
    mn_sizes = _multi_sizes(rng, multi["mn_only"], mn_multi_total, max_size)
    isw_sizes = _multi_sizes(rng, multi["isw_only"], isw_multi_total, max_size)
    group = np.concatenate(
        [
            np.zeros(n_coord["mn_only"], np.int64),
            np.ones(n_coord["isw_only"], np.int64),
            np.full(nb, 2, np.int64),
        ]
    )
    size = np.concatenate(
        [np.ones(single_mn, np.int64), mn_sizes, np.ones(single_isw, np.int64), isw_sizes, b_size]
    )
    isw_count = np.concatenate(
        [np.zeros(n_coord["mn_only"], np.int64), np.ones(single_isw, np.int64), isw_sizes, b_isw]
    )
    nc = len(group)
    # social work degrees: some isw_only and some both coordinators, with a fixed number of clinics
    sw = _sw_degrees(
        rng,
        group,
        size,
        r(st["sw_degree_both"]),
        r(st["sw_degree_isw_only"]),
        r(st["sw_degree_clinics"]),
    )

    # care systems
    n_sys = r(st["systems_small"] + st["systems_medium"] + st["systems_large"])
    n_small = r(st["systems_small"])
    n_medium = r(st["systems_medium"])
    n_large = n_sys - n_small - n_medium
    system = np.full(nc, -1, np.int64)
    is_mn_coord = group == 0
    singles = np.flatnonzero(size == 1)
    single_logit = np.where(is_mn_coord[singles], math.log(2.5), 0.0)
    single_order = singles[
        np.argsort(-(single_logit + rng.gumbel(size=len(singles))), kind="stable")
    ]
    pos = 0
    small_sizes = rng.integers(1, 3, size=n_small)
    # small systems: one or two single-clinic coordinators
    take = int(small_sizes.sum())
    system[single_order[pos : pos + take]] = np.repeat(np.arange(n_small), small_sizes)
    pos += take
    # medium systems: 3..9 clinics; about half host one coordinator of two clinics
    med_sizes = rng.integers(3, 10, size=n_medium)
    host = rng.random(n_medium) < 0.5
    twos = np.flatnonzero((size == 2) & (group != 2))
    twos = twos[
        np.argsort(
            -(np.where(group[twos] == 0, 1.0, 0.0) + rng.gumbel(size=len(twos))), kind="stable"
        )
    ]
    hosts = np.flatnonzero(host)[: len(twos)]
    system[twos[: len(hosts)]] = n_small + hosts
    fill = med_sizes.copy()
    fill[hosts] -= 2
    take = int(fill.sum())
    system[single_order[pos : pos + take]] = n_small + np.repeat(np.arange(n_medium), fill)
    pos += take
    # large systems: every remaining coordinator, shares from a lognormal
    share = _norm(rng.lognormal(0.0, 0.6, size=n_large))
    rest_multi = np.flatnonzero((size > 1) & (system < 0))
    rest_multi = rng.permutation(rest_multi)
    starts = (
        np.concatenate([[0], np.cumsum(size[rest_multi])[:-1]]) if len(rest_multi) else np.zeros(0)
    )
    cap = np.cumsum(share) * size[rest_multi].sum()
    sys_of = np.minimum(np.searchsorted(cap, starts, side="right"), n_large - 1)
    system[rest_multi] = n_small + n_medium + sys_of
    load = np.bincount(sys_of, weights=size[rest_multi], minlength=n_large).astype(np.int64)
    rest_single = single_order[pos:]
    deficit = np.maximum(0, 10 - load)
    left = len(rest_single) - int(deficit.sum())
    if left < 0:
        raise ValueError("not enough single-clinic coordinators to fill the large care systems")
    per_sys = deficit + _apportion(left, share)
    system[rest_single] = n_small + n_medium + np.repeat(np.arange(n_large), per_sys)
    assert (system >= 0).all()
    sys_cat = np.concatenate(
        [np.zeros(n_small, np.int64), np.ones(n_medium, np.int64), np.full(n_large, 2, np.int64)]
    )

    # clinics
    clinic_coord = np.repeat(np.arange(nc), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    within = np.arange(len(clinic_coord)) - first[clinic_coord]
    clinic_isw = within < isw_count[clinic_coord]
    clinic_system = system[clinic_coord]
    sys_size = np.bincount(clinic_system, minlength=n_sys)
    # rurality: more often medical/nursing, small and medium systems; care-system random effect
    n_urban = int(round(st["urban_pct"] / 100 * n_cl))
    sys_effect = rng.normal(0.0, 0.8, size=n_sys)
    cat_c = sys_cat[clinic_system]
    logit = (
        0.9 * (~clinic_isw)
        + np.where(cat_c == 0, 1.0, np.where(cat_c == 1, 0.5, 0.0))
        + sys_effect[clinic_system]
    )
    rural_idx = _gumbel_top(rng, logit, n_cl - n_urban)
    rural = np.zeros(n_cl, bool)
    rural[rural_idx] = True
    ruca = np.where(
        rural,
        rng.choice(np.array(RUCA_RURAL[0]), size=n_cl, p=_norm(np.array(RUCA_RURAL[1]))),
        rng.choice(np.array(RUCA_URBAN[0]), size=n_cl, p=_norm(np.array(RUCA_URBAN[1]))),
    )
    return _Structure(
        group, size, sw, system, clinic_coord, clinic_isw, clinic_system, sys_size, sys_cat, ruca
    )


def _norm(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    return x / x.sum()


# ----------------------------------------------------------------------------------------------
# Answers
# ----------------------------------------------------------------------------------------------
def _scaled_counts(counts: np.ndarray, n1: int, n: int, missing1: int) -> np.ndarray:
    """Counts of a scaled group: missing scaled, answers apportioned by the scale-1 proportions."""
    if n == n1:
        return counts.copy()
    missing = int(round(missing1 * n / n1))
    return _apportion(n - missing, counts.astype(float))


class _Latent:
    """Gaussian latents with a coordinator effect and block factors (see the module docstring)."""

    def __init__(self, rng: np.random.Generator, owner: np.ndarray, n_owner: int) -> None:
        self.rng = rng
        self.owner = owner
        self.n_owner = n_owner
        self.block = {b: rng.standard_normal(n_owner) for b in BLOCKS}
        self.block_of = {item: b for b, its in BLOCKS.items() for item in its}

    def draw(self, item: str, extra_block: str | None = None, rho: float = RHO) -> np.ndarray:
        b = self.block_of.get(item, extra_block)
        u = self.rng.standard_normal(self.n_owner)
        if b is not None:
            if b not in self.block:
                self.block[b] = self.rng.standard_normal(self.n_owner)
            u = math.sqrt(BLOCK_LOADING) * self.block[b] + math.sqrt(1 - BLOCK_LOADING) * u
        e = self.rng.standard_normal(len(self.owner))
        return math.sqrt(rho) * u[self.owner] + math.sqrt(1 - rho) * e


def _rank_assign(z: np.ndarray, members: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Level index per member: the highest latents get level 0, then level 1, ..."""
    order = members[np.argsort(-z[members], kind="stable")]
    out = np.empty(len(order), np.int64)
    out[:] = np.repeat(np.arange(len(counts)), counts)[: len(order)]
    res = np.full(len(z), -1, np.int64)
    res[order] = out
    return res[members]


def _pick_missing(
    rng: np.random.Generator, propensity: np.ndarray, members: np.ndarray, k: int
) -> np.ndarray:
    if k <= 0:
        return np.zeros(0, np.int64)
    keys = propensity[members] + 0.5 * rng.gumbel(size=len(members))
    return members[np.argsort(-keys, kind="stable")[:k]]


def _assign_by_group(
    rng: np.random.Generator,
    plan: CatPlan,
    z: np.ndarray,
    group: np.ndarray,
    groups: Sequence[str],
    propensity: np.ndarray,
) -> np.ndarray:
    """Answer indices for one categorical item: per group, the calibrated counts (scaled), the
    missing answers on the records most prone to skip, the rest handed out by rank of ``z``.

    Returns -1 where the answer is missing.
    """
    idx = np.full(len(group), -1, np.int64)
    for gi, g in enumerate(groups):
        members = np.flatnonzero(group == gi)
        counts = _scaled_counts(plan.counts[g], plan.n[g], len(members), plan.missing[g])
        gone = _pick_missing(rng, propensity, members, len(members) - int(counts.sum()))
        keep = np.setdiff1d(members, gone)
        idx[keep] = _rank_assign(z, keep, counts)
    return idx


def _gamma_values(
    rng: np.random.Generator, n: int, mean: float, sd: float, lo: float, hi: float
) -> np.ndarray:
    """n values with (about) the given mean/SD, gamma shaped, clipped into [lo, hi]."""
    shape = max((mean - lo) ** 2 / sd**2, 0.05) if mean > lo else 1.0
    x = rng.gamma(shape, 1.0, size=n)
    for _ in range(50):
        s = x.std(ddof=1)
        x = mean + sd * (x - x.mean()) / (s if s > 0 else 1.0)
        clipped = np.clip(x, lo, hi)
        if np.allclose(clipped, x):
            break
        x = clipped
    return np.clip(x, lo, hi)


def _fix_grid(
    rng: np.random.Generator,
    units: np.ndarray,
    total: int,
    sd_units: float,
    lo: int,
    hi: int | np.ndarray,
    exact_sd: bool,
) -> np.ndarray:
    """Nudge integer grid values: exact sum ``total``, SD as close to ``sd_units`` as the grid allows.

    ``hi`` may be one bound per value (values stay at or below their own bound).
    """
    x = units.astype(np.int64).copy()
    n = len(x)
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.int64), x.shape)
    for _ in range(10 * n + 100):
        diff = total - int(x.sum())
        if diff == 0:
            break
        room = np.flatnonzero(x < hi_arr) if diff > 0 else np.flatnonzero(x > lo)
        k = min(abs(diff), len(room))
        if k == 0:
            raise ValueError("cannot reach the target sum within the bounds")
        x[rng.choice(room, size=k, replace=False)] += 1 if diff > 0 else -1
    if not exact_sd or n < 2:
        return x
    target_ss = (n - 1) * sd_units**2 + total**2 / n
    for _ in range(20 * n + 200):
        ss = float((x.astype(float) ** 2).sum())
        need = target_ss - ss
        # move: x_i += 1, x_j -= 1 changes SS by 2 (x_i - x_j) + 2
        up = np.unique(x[x < hi_arr])
        down = np.unique(x[x > lo])
        gap = (need - 2) / 2
        best = None
        for vj in down:
            k = np.searchsorted(up, vj + gap)
            for kk in (k - 1, k):
                if 0 <= kk < len(up):
                    vi = up[kk]
                    if vi == vj and np.count_nonzero(x == vi) < 2:
                        continue
                    delta = 2 * (vi - vj) + 2
                    if best is None or abs(need - delta) < abs(need - best[0]):
                        best = (delta, vi, vj)
        if best is None or abs(need - best[0]) >= abs(need):
            break
        _, vi, vj = best
        i = int(np.flatnonzero((x == vi) & (x < hi_arr))[0])
        js = np.flatnonzero((x == vj) & (x > lo))
        j = int(js[js != i][0])
        x[i] += 1
        x[j] -= 1
    return x


def _numeric_item(
    rng: np.random.Generator,
    plan: NumPlan,
    z: np.ndarray,
    groups: np.ndarray,
    names: Sequence[str],
    propensity: np.ndarray,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """Values (NaN = missing) of one continuous item for all owners.

    ``upper``: an optional bound per owner (NaN = none), e.g. years as a coordinator for years in
    the study clinics; values are matched by ``z`` rank and kept at or below their owner's bound.
    """
    out = np.full(len(z), np.nan)
    lo_u = int(math.ceil(plan.lo / plan.step - 1e-9))
    hi_u = int(math.floor(plan.hi / plan.step + 1e-9))
    for gi, g in enumerate(names):
        members = np.flatnonzero(groups == gi)
        n = len(members)
        exact = n == plan.n[g]
        miss = plan.missing[g] if exact else int(round(plan.missing[g] * n / plan.n[g]))
        gone = _pick_missing(rng, propensity, members, miss)
        keep = np.setdiff1d(members, gone)
        m = len(keep)
        mean = plan.sums[g] * plan.step / plan.answers[g]
        order = keep[np.argsort(-z[keep], kind="stable")]
        total = plan.sums[g] if exact else int(round(mean * m / plan.step))
        for _attempt in range(50 if exact else 1):
            units = _draw_units(rng, plan, g, m, mean, total, order, upper, lo_u, hi_u, exact)
            if not exact or m < 2 or abs(units.std(ddof=1) * plan.step - plan.sd[g]) <= SD_TOL:
                break
        out[order] = units * plan.step
    return out


def _draw_units(
    rng: np.random.Generator,
    plan: NumPlan,
    g: str,
    m: int,
    mean: float,
    total: int,
    order: np.ndarray,
    upper: np.ndarray | None,
    lo_u: int,
    hi_u: int,
    exact: bool,
) -> np.ndarray:
    """One draw of a group's values on the grid (units of ``plan.step``), in ``order``."""
    vals = np.sort(_gamma_values(rng, m, mean, plan.sd[g], plan.lo, plan.hi))[::-1]
    hi_each: int | np.ndarray = hi_u
    if upper is not None:
        bound = upper[order]
        bound = np.where(np.isnan(bound), plan.hi, np.minimum(bound, plan.hi))
        for _ in range(30):  # re-standardize under the per-value bounds
            vals = np.clip(vals, plan.lo, bound)
            s = vals.std(ddof=1)
            vals = mean + plan.sd[g] * (vals - vals.mean()) / (s if s > 0 else 1.0)
        vals = np.clip(vals, plan.lo, bound)
        hi_each = np.floor(bound / plan.step + 1e-9).astype(np.int64)
    units = np.clip(np.round(vals / plan.step), lo_u, hi_each).astype(np.int64)
    return _fix_grid(rng, units, total, plan.sd[g] / plan.step, lo_u, hi_each, exact)


@dataclass
class SyntheticSurvey:
    """A generated synthetic survey.

    Attributes
    ----------
    export : DataFrame
        The REDCap raw export, columns exactly ``Instrument.export_columns()``; ids and decimals as
        text, codes as nullable integers (blank = not answered).
    frame : DataFrame
        The clinic frame: clinic_id, care_system_id, ruca.
    truth : DataFrame
        clinic_id, care_model (for tests; never written into the export).
    meta : dict
        Seed, scale, counts, generator, version, calibration notes.
    """

    export: pd.DataFrame
    frame: pd.DataFrame
    truth: pd.DataFrame
    meta: dict


def _ids(prefix: str, n: int, min_width: int) -> np.ndarray:
    width = max(min_width, len(str(n)))
    digits = np.char.zfill(np.arange(1, n + 1).astype(str), width)
    return np.char.add(prefix, digits).astype(object)


def synthesize(
    instrument: Instrument,
    targets: Targets,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1,
    calibration: Calibration | None = None,
) -> SyntheticSurvey:
    """Generate the synthetic REDCap export, clinic frame and truth.

    Parameters
    ----------
    instrument : Instrument
        The data dictionary (:func:`ccanalysis.instrument.read_dictionary`).
    targets : Targets
        The printed tables (:func:`load_targets`).
    seed : int
        Seed of the random generator; the same seed gives identical output.
    scale : float
        Multiplies clinics, coordinators and care systems (1 = the study).
    calibration : Calibration, optional
        A precomputed :func:`calibrate` result (saves its time when generating repeatedly).

    Returns
    -------
    SyntheticSurvey
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    cal = calibration or calibrate(instrument, targets)
    rng = np.random.default_rng(seed)
    st = _build_structure(cal.structure, scale, rng)
    n_cl = len(st.clinic_coord)
    nc = len(st.coord_group)
    items = instrument.analysis_items()

    # ids: random numbering so that ids carry no structure
    sys_perm = rng.permutation(len(st.system_size))
    coord_perm = rng.permutation(nc)
    clinic_perm = rng.permutation(n_cl)
    sys_id = _ids("S", len(st.system_size), 2)[sys_perm]
    coord_id = _ids("K", nc, 3)[coord_perm]
    clinic_id = _ids("C", n_cl, 4)[clinic_perm]

    # ---- Table 2: care model criteria (the first gates the others) and ease of engaging ----
    isw = st.clinic_isw
    s = cal.structure
    n_mn = int((~isw).sum())
    r1 = lambda x: int(round(x * n_mn / (s["clinics"] - s["isw_clinics"])))  # noqa: E731
    criteria = [
        i
        for i in dict.fromkeys(targets.spec.loc[targets.spec.table == "table2", "item"])
        if i in items
    ]
    gate, *gated = criteria
    mn_idx = np.flatnonzero(~isw)
    large = st.system_cat[st.clinic_system] == 2
    mn_sw = mn_idx[_gumbel_top(rng, 0.7 * large[mn_idx], r1(s[f"mn_{gate}"]))]
    mn_sw = rng.permutation(mn_sw)
    crit = {c: np.full(n_cl, -1, np.int64) for c in criteria}  # -1 = blank (branching logic)
    crit[gate][:] = 0
    crit[gate][isw] = 1
    crit[gate][mn_sw] = 1
    for c in gated:
        crit[c][isw] = 1
        crit[c][mn_sw] = 0
    # yes to criteria 2, 3, 4 on overlapping but never identical subsets: none meets all four
    k = [r1(s[f"mn_{c}"]) for c in gated]
    starts = [0, 0, k[0]] if len(gated) == 3 else [0] * len(gated)
    for c, start, kk in zip(gated, starts, k, strict=True):
        crit[c][mn_sw[start : start + kk]] = 1
    # ease of engaging the social worker (asked where a social worker is on the team)
    f_ease = items[ENGAGE_ITEM]
    lv = f_ease.level_order()
    ease = np.full(n_cl, -1, np.int64)
    n_diff = r1(s["mn_engage_difficult"])
    rest = _apportion(len(mn_sw) - n_diff, np.array(ENGAGE_MN_REST, float))
    mn_counts = np.zeros(len(lv), np.int64)
    for name, c in zip(("very_easy", "somewhat_easy", "very_difficult"), rest, strict=True):
        mn_counts[lv.index(name)] = c
    mn_counts[lv.index("somewhat_difficult")] = n_diff
    n_crit = sum((crit[c][mn_sw] == 1).astype(int) for c in crit)
    easy_key = n_crit + rng.random(len(mn_sw))  # more criteria met: easier to engage
    ease[mn_sw[np.argsort(-easy_key, kind="stable")]] = np.repeat(np.arange(len(lv)), mn_counts)
    isw_idx = np.flatnonzero(isw)
    n_isw = len(isw_idx)
    pct_easy = s["isw_engage_easy_pct"]
    n_easy = min(
        _cands(n_isw, pct_easy, 0) or [round(pct_easy * n_isw / 100)],
        key=lambda c: abs(c - pct_easy * n_isw / 100),
    )
    ve = int(round(ENGAGE_ISW_VERY_EASY * n_easy))
    sdiff = int(round(ENGAGE_ISW_SOMEWHAT_DIFFICULT * (n_isw - n_easy)))
    isw_counts = np.zeros(len(lv), np.int64)
    isw_counts[
        [
            lv.index("very_easy"),
            lv.index("somewhat_easy"),
            lv.index("somewhat_difficult"),
            lv.index("very_difficult"),
        ]
    ] = [ve, n_easy - ve, sdiff, n_isw - n_easy - sdiff]
    lat_clin = _Latent(rng, st.clinic_coord, nc)
    z = lat_clin.draw(ENGAGE_ITEM)
    ease[isw_idx] = _rank_assign(z, isw_idx, isw_counts)

    # ---- propensities to skip items (shared by a coordinator's records) ----
    coord_prop = rng.standard_normal(nc)
    clin_prop = 0.8 * coord_prop[st.clinic_coord] + 0.6 * rng.standard_normal(n_cl)

    level_index: dict[str, np.ndarray] = {ENGAGE_ITEM: ease}
    also_checked: dict[str, dict[int, np.ndarray]] = {}
    values: dict[str, np.ndarray] = {}

    # ---- Table 1: coordinator form, one answer per coordinator ----
    lat_coord = _Latent(rng, np.arange(nc), nc)
    cgroup = st.coord_group
    coord_z: dict[str, np.ndarray] = {}
    for item, plan in cal.num.items():
        if plan.table != "table1":
            continue
        partner = PAIRED.get(item)
        if partner in coord_z:
            zc = coord_z[partner] + 0.05 * rng.standard_normal(nc)
        else:
            zc = lat_coord.draw(item, rho=1.0)
        coord_z[item] = zc
        upper = values.get(partner) if partner else None
        values[item] = _numeric_item(rng, plan, zc, cgroup, COORD_GROUPS, coord_prop, upper)
    for item, plan in cal.cat.items():
        if plan.table != "table1":
            continue
        if item == "degree":
            idx = _degree(rng, plan, st)
            f = items[item]
            if f.single_order and "rn" in plan.levels and "msn_bsn" in plan.levels:
                # a nursing bachelor/master sometimes also checks RN; @CC-SINGLE order makes it msn_bsn
                j_bsn, j_rn = plan.levels.index("msn_bsn"), plan.levels.index("rn")
                assert f.single_order.index("msn_bsn") < f.single_order.index("rn")
                also_checked[f.name] = {j_rn: (idx == j_bsn) & (rng.random(nc) < P_BSN_ALSO_RN)}
        elif items[item].field_type == "yesno" and item == "multi_clinic":
            idx = np.where(st.coord_size > 1, plan.levels.index("yes"), plan.levels.index("no"))
        else:
            zc = lat_coord.draw(item, rho=1.0)
            idx = _assign_by_group(rng, plan, zc, cgroup, COORD_GROUPS, coord_prop)
        level_index[item] = idx

    # ---- Tables 3 and 4: one answer per clinic ----
    cl_group = isw.astype(np.int64)  # 0 mn, 1 isw
    for item, plan in cal.num.items():
        if plan.table == "table1":
            continue
        z = lat_clin.draw(item)
        values[item] = _numeric_item(rng, plan, z, cl_group, CLINIC_GROUPS, clin_prop)
    done: set[str] = set()
    for item, plan in cal.cat.items():
        if plan.table == "table1" or item in done:
            continue
        f = items[item]
        if f.field_type == "checkbox" and f.items:
            q_items = [i for i in f.items.values() if i in cal.cat]
            boxes = _checkbox_question(rng, cal, q_items, lat_clin, cl_group, clin_prop, f.name)
            level_index.update(boxes)
            done.update(q_items)
            continue
        z = lat_clin.draw(item)
        level_index[item] = _assign_by_group(rng, plan, z, cl_group, CLINIC_GROUPS, clin_prop)

    # ---- assemble the export ----
    coord_of = st.clinic_coord
    data: dict[str, object] = {}
    for colname in instrument.export_columns():
        data[colname] = None
    data[instrument.record_id] = clinic_id
    for f in instrument.fields:
        if f.name == instrument.record_id:
            continue
        per_coord = f.form == _coordinator_form(instrument, cal)
        take = coord_of if per_coord else slice(None)
        if f.name == "coordinator_id":
            data[f.name] = coord_id[coord_of]
        elif f.name == "care_system_id":
            data[f.name] = sys_id[st.clinic_system]
        elif f.name in crit:
            data[f.name] = _nullable(crit[f.name])
        elif f.field_type == "checkbox" and f.items:
            for code, item in f.items.items():
                colname = f.export_columns()[list(f.choices).index(code)]
                li = level_index.get(item)
                if li is None:
                    data[colname] = _nullable(np.zeros(n_cl, np.int64))
                    continue
                li = li[take]
                data[colname] = _nullable(np.where(li == 0, 1, 0))  # level 0 = yes; blank = 0
        elif f.field_type == "checkbox":
            li = level_index[f.name][take] if f.name in level_index else None
            also = also_checked.get(f.name, {})
            for j, colname in enumerate(f.export_columns()):
                v = np.zeros(n_cl, bool) if li is None else (li == j)
                if j in also:
                    v = v | also[j][take]
                data[colname] = _nullable(v.astype(np.int64))
        elif f.is_numeric:
            if f.name in values:
                v = values[f.name][take]
                step, dec = _grid(f)
                data[f.name] = _fmt_numbers(v, dec)
            else:
                data[f.name] = np.full(n_cl, "", dtype=object)
        elif f.field_type in {"radio", "dropdown", "yesno", "truefalse"}:
            if f.name in level_index:
                li = level_index[f.name][take]
                codes = np.array([int(c) for c in f.choices], dtype=np.int64)
                data[f.name] = _nullable(np.where(li >= 0, codes[np.maximum(li, 0)], -1))
            else:
                data[f.name] = _nullable(np.full(n_cl, -1, np.int64))
        else:
            data[f.name] = np.full(n_cl, "", dtype=object)
    for form in instrument.forms:
        data[f"{form}_complete"] = _nullable(np.full(n_cl, 2, np.int64))
    export = pd.DataFrame(data, columns=instrument.export_columns())
    order = np.argsort(clinic_id, kind="stable")
    export = export.iloc[order].reset_index(drop=True)
    frame = (
        pd.DataFrame(
            {
                "clinic_id": clinic_id,
                "care_system_id": sys_id[st.clinic_system],
                "ruca": st.ruca,
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    truth = (
        pd.DataFrame(
            {
                "clinic_id": clinic_id,
                "care_model": np.where(isw, "integrated_sw", "medical_nursing"),
            }
        )
        .iloc[order]
        .reset_index(drop=True)
    )
    meta = {
        "label": SYNTHETIC_LABEL,
        "generator": "ccanalysis.synth",
        "package_version": __version__,
        "seed": int(seed),
        "scale": scale,
        "clinics": int(n_cl),
        "coordinators": int(nc),
        "care_systems": int(len(st.system_size)),
        "calibration_notes": list(cal.notes),
    }
    return SyntheticSurvey(export, frame, truth, meta)


def _coordinator_form(instrument: Instrument, cal: Calibration) -> str:
    t1 = [p.item for p in (*cal.cat.values(), *cal.num.values()) if p.table == "table1"]
    return instrument.analysis_items()[t1[0]].form


def _nullable(codes: np.ndarray) -> pd.arrays.IntegerArray:
    codes = np.asarray(codes, dtype=np.int64)
    return pd.arrays.IntegerArray(codes, codes < 0)


def _fmt_numbers(v: np.ndarray, dec: int) -> np.ndarray:
    out = np.full(len(v), "", dtype=object)
    ok = ~np.isnan(v)
    if dec == 0:
        out[ok] = np.round(v[ok]).astype(np.int64).astype(str)
    else:
        out[ok] = np.char.mod(f"%.{dec}f", np.round(v[ok], dec))
    return out


def _degree(rng: np.random.Generator, plan: CatPlan, st: _Structure) -> np.ndarray:
    """One degree category per coordinator: the social work degrees as chosen in the structure."""
    nc = len(st.coord_group)
    idx = np.full(nc, -1, np.int64)
    sw_level = plan.levels.index("msw_bsw")
    for gi, g in enumerate(COORD_GROUPS):
        members = np.flatnonzero(st.coord_group == gi)
        counts = _scaled_counts(plan.counts[g], plan.n[g], len(members), plan.missing[g])
        sw = members[st.coord_sw[members]]
        idx[sw] = sw_level
        others = rng.permutation(members[~st.coord_sw[members]])
        counts = counts.copy()
        counts[sw_level] = 0
        counts = (
            _apportion(len(others), counts.astype(float)) if counts.sum() != len(others) else counts
        )
        idx[others] = np.repeat(np.arange(len(counts)), counts)
    return idx


def _checkbox_question(
    rng: np.random.Generator,
    cal: Calibration,
    q_items: list[str],
    lat: _Latent,
    cl_group: np.ndarray,
    prop: np.ndarray,
    block: str,
) -> dict[str, np.ndarray]:
    """Level indices (0 yes, 1 no, -1 not answered) of the items of one checkbox question."""
    n = len(cl_group)
    out = {i: np.full(n, -1, np.int64) for i in q_items}
    none_items = [i for i in q_items if i.endswith("_none")]
    lat_z = {i: lat.draw(i, extra_block=block) for i in q_items}
    for gi, g in enumerate(CLINIC_GROUPS):
        members = np.flatnonzero(cl_group == gi)
        plan0 = cal.cat[q_items[0]]
        d = _scaled_counts(plan0.counts[g], plan0.n[g], len(members), plan0.missing[g]).sum()
        gone = _pick_missing(rng, prop, members, len(members) - int(d))
        keep = np.setdiff1d(members, gone)
        box = {}
        excluded = np.zeros(n, bool)
        for item in none_items:
            plan = cal.cat[item]
            c = _scaled_counts(plan.counts[g], plan.n[g], len(members), plan.missing[g])
            yes = keep[np.argsort(-lat_z[item][keep], kind="stable")[: c[0]]]
            b = np.zeros(n, bool)
            b[yes] = True
            box[item] = b
            excluded |= b
        pool = keep[~excluded[keep]]
        for item in q_items:
            if item in none_items:
                continue
            plan = cal.cat[item]
            c = _scaled_counts(plan.counts[g], plan.n[g], len(members), plan.missing[g])
            k = min(int(c[0]), len(pool))
            yes = pool[np.argsort(-lat_z[item][pool], kind="stable")[:k]]
            b = np.zeros(n, bool)
            b[yes] = True
            box[item] = b
        # every answered record has a box: move boxes from records with several
        others = [i for i in q_items if i not in none_items]
        for _ in range(len(others) * 3):
            nbox = sum(box[i].astype(int) for i in others)
            empty = pool[nbox[pool] == 0]
            if len(empty) == 0:
                break
            for item in sorted(others, key=lambda i: -int(box[i].sum())):
                nbox = sum(box[i].astype(int) for i in others)
                empty = pool[nbox[pool] == 0]
                if len(empty) == 0:
                    break
                donors = pool[box[item][pool] & (nbox[pool] >= 2)]
                donors = donors[np.argsort(lat_z[item][donors], kind="stable")]
                k = min(len(empty), len(donors))
                box[item][donors[:k]] = False
                box[item][empty[:k]] = True
        for item in q_items:
            out[item][keep] = np.where(box[item][keep], 0, 1)
    return out


def write(survey: SyntheticSurvey, outdir: str | Path) -> dict[str, Path]:
    """Write ``cc_survey_export.csv``, ``clinic_frame.csv`` and ``SYNTHETIC.md`` atomically.

    Returns the paths written, by name.
    """
    outdir = Path(outdir)
    paths = {
        "export": write_csv(survey.export, outdir / "cc_survey_export.csv"),
        "frame": write_csv(survey.frame, outdir / "clinic_frame.csv"),
    }
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths.values()}
    meta = dict(survey.meta)
    meta["files_sha256"] = digests
    text = "\n".join(
        [
            "# SYNTHETIC DATA",
            "",
            SYNTHETIC_LABEL + ".",
            "",
            "These files are NOT the study's data. They were generated by `ccanalysis.synth` (see its",
            "module docstring for the modelling rules) so that the analysis reproduces every number",
            "printed in Tables 1-4 of Solberg et al. 2024 to the printed precision (at scale 1).",
            "",
            f"- generator: `python -m ccanalysis.synth --seed {meta['seed']} --scale {meta['scale']}`",
            f"- package version: {meta['package_version']}",
            f"- seed: {meta['seed']}; scale: {meta['scale']}",
            f"- clinics: {meta['clinics']}; coordinators: {meta['coordinators']}; "
            f"care systems: {meta['care_systems']}",
            "- files: `cc_survey_export.csv` (REDCap raw export), `clinic_frame.csv` "
            "(clinic_id, care_system_id, ruca)",
            "",
            "## Calibration notes (item nonresponse needed by the printed numbers)",
            "",
            *[f"- {n}" for n in meta["calibration_notes"]],
            "",
            "## Metadata",
            "",
            "```json",
            json.dumps(meta, indent=2, sort_keys=True),
            "```",
            "",
        ]
    )
    paths["meta"] = write_text(outdir / "SYNTHETIC.md", text)
    return paths


def _project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m ccanalysis.synth --out data/raw/synthetic --seed N --scale S``."""
    root = _project_root()
    ap = argparse.ArgumentParser(
        prog="python -m ccanalysis.synth", description=__doc__.split("\n")[0]
    )
    ap.add_argument("--out", default=str(root / "data" / "raw" / "synthetic"))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dictionary", default=str(root / "data" / "raw" / "cc_survey_dictionary.csv"))
    ap.add_argument("--published", default=str(root / "data" / "published"))
    args = ap.parse_args(argv)
    scale = int(args.scale) if float(args.scale).is_integer() else args.scale
    t0 = time.perf_counter()
    instrument = read_dictionary(args.dictionary)
    targets = load_targets(args.published)
    survey = synthesize(instrument, targets, seed=args.seed, scale=scale)
    t1 = time.perf_counter()
    paths = write(survey, args.out)
    t2 = time.perf_counter()
    print(
        f"{survey.meta['clinics']} clinics, {survey.meta['coordinators']} coordinators, "
        f"{survey.meta['care_systems']} care systems: generated in {t1 - t0:.2f} s, "
        f"written in {t2 - t1:.2f} s",
        file=sys.stderr,
    )
    for p in paths.values():
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def summary(survey: SyntheticSurvey) -> pd.DataFrame:
    """Clinics, coordinators and care systems generated, by care model (from the truth table)."""
    truth = survey.truth.merge(survey.frame, on="clinic_id")
    export = survey.export.set_index("record_id")
    truth["coordinator_id"] = export.loc[truth["clinic_id"], "coordinator_id"].to_numpy()
    rows = []
    for model, part in [("all", truth), *truth.groupby("care_model", sort=True)]:
        rows.append(
            {
                "care_model": model,
                "clinics": len(part),
                "coordinators": part["coordinator_id"].nunique(),
                "care_systems": part["care_system_id"].nunique(),
                "urban_pct": round(100 * float((part["ruca"] <= 3).mean()), 1),
            }
        )
    return pd.DataFrame(rows)
