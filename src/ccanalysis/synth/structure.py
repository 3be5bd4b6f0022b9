"""The study's structure: coordinators, care systems and clinics, and where each clinic lies.

Coordinators are built first, with their group (by the care models of the clinics they report on),
their number of clinics (at least one coordinator with the printed maximum) and the social work
degrees, which report on exactly the number of clinics the paper's text gives. Coordinators are then
packed whole into care systems: small (1-2 clinics) and medium (3-9) systems get mostly
single-clinic coordinators, drawn with a preference for medical/nursing ones; large systems (more
than 9) get the remaining multi-clinic coordinators and singles. Rural clinics (RUCA 4-10, the
printed share) are drawn with higher odds for medical/nursing clinics, small and medium systems and
a care-system random effect; RUCA codes within urban and rural follow ``RUCA_URBAN`` and
``RUCA_RURAL`` (a modelling assumption: the paper prints only the urban share).

``scale`` multiplies clinics, coordinators and care systems (rounded), keeping the proportions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ccanalysis.synth.sampling import apportion, gumbel_top, normalized
from ccanalysis.vocab import MEDIUM_MAX, SMALL_MAX

#: RUCA codes of urban and of rural clinics, with the share of each (a modelling assumption).
RUCA_URBAN = ((1, 2, 3), (0.80, 0.12, 0.08))
RUCA_RURAL = ((4, 5, 6, 7, 8, 9, 10), (0.30, 0.07, 0.05, 0.25, 0.06, 0.05, 0.22))


@dataclass
class Structure:
    """Who reports on what: per coordinator, per clinic and per care system (internal indices)."""

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


def _multi_sizes(rng: np.random.Generator, m: int, total: int, max_size: int) -> np.ndarray:
    """Sizes (2..max_size) of m multi-clinic coordinators adding up to ``total``."""
    if m == 0:
        return np.zeros(0, dtype=np.int64)
    extra = total - 2 * m
    slots = max_size - 2
    if extra < 0 or extra > slots * m:
        raise ValueError(f"{m} coordinators cannot report on {total} clinics")
    weights = np.tile(0.55 ** np.arange(slots), m)
    pick = gumbel_top(rng, np.log(weights), extra)
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


def build_structure(st: dict[str, float], scale: float, rng: np.random.Generator) -> Structure:
    """Coordinators, care systems and clinics for the structure targets ``st`` times ``scale``.

    ``st`` is :func:`ccanalysis.synth.targets.structure_targets`; draws come from ``rng`` in a fixed
    order, so the same seed gives the same structure.
    """
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
        np.arange(2, max_size + 1), size=nb, p=normalized(0.6 ** np.arange(max_size - 1))
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
    single_order = singles[gumbel_top(rng, single_logit, len(singles))]
    pos = 0
    small_sizes = rng.integers(1, SMALL_MAX + 1, size=n_small)
    # small systems: one or two single-clinic coordinators
    take = int(small_sizes.sum())
    system[single_order[pos : pos + take]] = np.repeat(np.arange(n_small), small_sizes)
    pos += take
    # medium systems: 3..9 clinics; about half host one coordinator of two clinics
    med_sizes = rng.integers(SMALL_MAX + 1, MEDIUM_MAX + 1, size=n_medium)
    host = rng.random(n_medium) < 0.5
    twos = np.flatnonzero((size == 2) & (group != 2))
    twos = twos[gumbel_top(rng, np.where(group[twos] == 0, 1.0, 0.0), len(twos))]
    hosts = np.flatnonzero(host)[: len(twos)]
    system[twos[: len(hosts)]] = n_small + hosts
    fill = med_sizes.copy()
    fill[hosts] -= 2
    take = int(fill.sum())
    system[single_order[pos : pos + take]] = n_small + np.repeat(np.arange(n_medium), fill)
    pos += take
    # large systems: every remaining coordinator, shares from a lognormal
    share = normalized(rng.lognormal(0.0, 0.6, size=n_large))
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
    deficit = np.maximum(0, MEDIUM_MAX + 1 - load)
    left = len(rest_single) - int(deficit.sum())
    if left < 0:
        raise ValueError("not enough single-clinic coordinators to fill the large care systems")
    per_sys = deficit + apportion(left, share)
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
    rural_idx = gumbel_top(rng, logit, n_cl - n_urban)
    rural = np.zeros(n_cl, bool)
    rural[rural_idx] = True
    ruca = np.where(
        rural,
        rng.choice(np.array(RUCA_RURAL[0]), size=n_cl, p=normalized(np.array(RUCA_RURAL[1]))),
        rng.choice(np.array(RUCA_URBAN[0]), size=n_cl, p=normalized(np.array(RUCA_URBAN[1]))),
    )
    return Structure(
        group, size, sw, system, clinic_coord, clinic_isw, clinic_system, sys_size, sys_cat, ruca
    )
