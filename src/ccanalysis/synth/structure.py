"""The study's structure: coordinators (group, clinics, social work degree), care systems, clinics.

Coordinators are packed whole into care systems: small (1-2 clinics) and medium (3-9) ones get
mostly single-clinic, medical/nursing coordinators; large ones the rest. Rural clinics (RUCA 4-10,
the printed share) are drawn with higher odds for medical/nursing clinics, small and medium systems
and a care-system random effect; codes within urban and rural follow ``RUCA_URBAN``/``RUCA_RURAL``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ccanalysis.synth.categorical import apportion
from ccanalysis.vocab import MEDIUM_MAX, SMALL_MAX

#: RUCA codes of urban and of rural clinics, with the share of each (a modelling assumption).
RUCA_URBAN = ((1, 2, 3), (0.80, 0.12, 0.08))
RUCA_RURAL = ((4, 5, 6, 7, 8, 9, 10), (0.30, 0.07, 0.05, 0.25, 0.06, 0.05, 0.22))


@dataclass
class Structure:
    """Who reports on what: per coordinator, per clinic and per care system (internal indices)."""

    coord_group: np.ndarray  # 0 mn_only, 1 isw_only, 2 both
    coord_size: np.ndarray  # clinics reported on
    coord_sw: np.ndarray  # social work degree
    clinic_coord: np.ndarray
    clinic_isw: np.ndarray  # bool
    clinic_system: np.ndarray
    system_cat: np.ndarray  # 0 small, 1 medium, 2 large
    ruca: np.ndarray


def gumbel_top(rng: np.random.Generator, logits: np.ndarray, k: int) -> np.ndarray:
    """Indices of a weighted sample without replacement of size k, in order (Gumbel top-k)."""
    keys = logits + rng.gumbel(size=len(logits))
    return np.argsort(-keys, kind="stable")[:k]


def _shares(w: tuple[float, ...] | np.ndarray) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.sum()


def _multi_sizes(rng: np.random.Generator, m: int, total: int, max_size: int) -> np.ndarray:
    """Sizes 2..max_size of m coordinators adding up to ``total``, one ``max_size`` if it can."""
    extra, slots = total - 2 * m, max_size - 2
    pick = gumbel_top(rng, np.log(np.tile(0.55 ** np.arange(slots), m)), extra)
    sizes = 2 + np.bincount(pick // slots, minlength=m)
    if sizes.max() < max_size and extra >= max_size - 2:
        i = int(np.argmax(sizes))
        donors = np.flatnonzero((sizes > 2) & (np.arange(m) != i))[::-1]  # the last ones first
        spare = sizes[donors] - 2
        take = np.clip(max_size - sizes[i] - np.cumsum(spare) + spare, 0, spare)
        sizes[donors] -= take
        sizes[i] += take.sum()
    return sizes.astype(np.int64)


def _sw_degrees(
    rng: np.random.Generator, group: np.ndarray, size: np.ndarray, counts: list[int]
) -> np.ndarray:
    """Social work degrees: ``counts`` 'both' and 'isw_only' coordinators reporting on ``counts[2]``
    clinics, random choices retried until the total is exact (else the closest)."""
    k_both, k_isw, clinics = counts
    both_idx = np.flatnonzero(group == 2)
    isw_single = np.flatnonzero((group == 1) & (size == 1))
    isw_multi_all = np.flatnonzero((group == 1) & (size > 1))
    tries: list[tuple[int, np.ndarray]] = []  # |clinics - target|, who has the degree
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
                    chosen_m[j], diff = hit[0], 0
                    break
        sw = np.zeros(len(group), bool)
        sw[chosen_b] = sw[chosen_m] = True
        sw[rng.permutation(isw_single)[: k_isw - m]] = True
        tries.append((abs(diff), sw))
        if diff == 0:
            break
    return min(tries, key=lambda t: t[0])[1]


def build_structure(st: dict[str, float], scale: float, rng: np.random.Generator) -> Structure:
    """Coordinators, care systems and clinics for the counts ``st`` times ``scale``."""
    r = lambda x: int(round(x * scale))  # noqa: E731
    n_cl, n_isw = r(st["clinics"]), r(st["isw_clinics"])
    n_mn_only, n_isw_only, nb = r(st["coord_mn_only"]), r(st["coord_isw_only"]), r(st["coord_both"])
    multi_mn, multi_isw = r(st["multi_mn_only"]), r(st["multi_isw_only"])
    max_size = int(st["max_clinics"])
    # coordinators reporting on both models: 2..5 clinics, at least one of each model
    b_size = rng.choice(
        np.arange(2, max_size + 1), size=nb, p=_shares(0.6 ** np.arange(max_size - 1))
    )
    b_isw = 1 + rng.binomial(b_size - 2, 0.5)
    single_mn, single_isw = n_mn_only - multi_mn, n_isw_only - multi_isw
    mn_sizes = _multi_sizes(
        rng, multi_mn, n_cl - n_isw - single_mn - int((b_size - b_isw).sum()), max_size
    )
    isw_sizes = _multi_sizes(rng, multi_isw, n_isw - single_isw - int(b_isw.sum()), max_size)
    group = np.repeat(np.arange(3), [n_mn_only, n_isw_only, nb])
    ones = lambda n: np.ones(n, np.int64)  # noqa: E731
    size = np.concatenate([ones(single_mn), mn_sizes, ones(single_isw), isw_sizes, b_size])
    isw_count = np.concatenate([np.zeros(n_mn_only, np.int64), ones(single_isw), isw_sizes, b_isw])
    sw_counts = [r(st[f"sw_degree_{k}"]) for k in ("both", "isw_only", "clinics")]
    sw = _sw_degrees(rng, group, size, sw_counts)

    n_small, n_medium = r(st["systems_small"]), r(st["systems_medium"])
    n_sys = r(st["systems_small"] + st["systems_medium"] + st["systems_large"])
    n_large = n_sys - n_small - n_medium
    system = np.full(len(group), -1, np.int64)
    singles = np.flatnonzero(size == 1)
    singles = singles[
        gumbel_top(rng, np.where(group[singles] == 0, math.log(2.5), 0.0), len(singles))
    ]
    # small systems: one or two single-clinic coordinators
    small_sizes = rng.integers(1, SMALL_MAX + 1, size=n_small)
    pos = int(small_sizes.sum())
    system[singles[:pos]] = np.repeat(np.arange(n_small), small_sizes)
    # medium systems: 3..9 clinics; about half host one coordinator of two clinics
    med_sizes = rng.integers(SMALL_MAX + 1, MEDIUM_MAX + 1, size=n_medium)
    host = rng.random(n_medium) < 0.5
    twos = np.flatnonzero((size == 2) & (group != 2))
    twos = twos[gumbel_top(rng, np.where(group[twos] == 0, 1.0, 0.0), len(twos))]
    hosts = np.flatnonzero(host)[: len(twos)]
    system[twos[: len(hosts)]] = n_small + hosts
    fill = med_sizes.copy()
    fill[hosts] -= 2
    system[singles[pos : pos + int(fill.sum())]] = n_small + np.repeat(np.arange(n_medium), fill)
    pos += int(fill.sum())
    # large systems: every remaining coordinator, shares from a lognormal
    share = _shares(rng.lognormal(0.0, 0.6, size=n_large))
    rest_multi = rng.permutation(np.flatnonzero((size > 1) & (system < 0)))
    starts = np.concatenate([[0], np.cumsum(size[rest_multi])[:-1]])
    cap = np.cumsum(share) * size[rest_multi].sum()
    sys_of = np.minimum(np.searchsorted(cap, starts, side="right"), n_large - 1)
    system[rest_multi] = n_small + n_medium + sys_of
    load = np.bincount(sys_of, weights=size[rest_multi], minlength=n_large).astype(np.int64)
    deficit = np.maximum(0, MEDIUM_MAX + 1 - load)
    left = len(singles) - pos - int(deficit.sum())
    system[singles[pos:]] = (
        n_small + n_medium + np.repeat(np.arange(n_large), deficit + apportion(left, share))
    )
    sys_cat = np.repeat(np.arange(3), [n_small, n_medium, n_large])

    # clinics: each coordinator's first isw_count clinics are integrated
    clinic_coord = np.repeat(np.arange(len(group)), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    clinic_isw = np.arange(len(clinic_coord)) - first[clinic_coord] < isw_count[clinic_coord]
    clinic_system = system[clinic_coord]
    # rurality: more often medical/nursing, small and medium systems; care-system random effect
    n_urban = int(round(st["urban_pct"] / 100 * n_cl))
    sys_effect = rng.normal(0.0, 0.8, size=n_sys)
    by_size = np.array([1.0, 0.5, 0.0])[sys_cat[clinic_system]]  # small, medium, large
    logit = 0.9 * (~clinic_isw) + by_size + sys_effect[clinic_system]
    rural = np.zeros(n_cl, bool)
    rural[gumbel_top(rng, logit, n_cl - n_urban)] = True
    ruca = np.where(
        rural,
        rng.choice(np.array(RUCA_RURAL[0]), size=n_cl, p=_shares(RUCA_RURAL[1])),
        rng.choice(np.array(RUCA_URBAN[0]), size=n_cl, p=_shares(RUCA_URBAN[1])),
    )
    return Structure(group, size, sw, clinic_coord, clinic_isw, clinic_system, sys_cat, ruca)
