"""The study's structure: coordinators (group, clinics, social work degree), care systems, clinics.

``MIXED_SYSTEMS`` large systems hold ``MIXED_SHARE`` of the clinics, of both models; every other
system is of one model, small ones more often medical/nursing. Coordinators are packed whole, the
several-clinic ones first. Rural clinics (the printed share) are likelier medical/nursing, in small
and medium systems, with a care-system random effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ccanalysis.synth.categorical import apportion
from ccanalysis.synth.targets import Targets
from ccanalysis.vocab import COORDINATOR_GROUPS, MEDIUM_MAX, SMALL_MAX, TOTAL

#: RUCA codes of urban and of rural clinics, with the share of each (a modelling assumption).
RUCA_URBAN = ((1, 2, 3), (0.80, 0.12, 0.08))
RUCA_RURAL = ((4, 5, 6, 7, 8, 9, 10), (0.30, 0.07, 0.05, 0.25, 0.06, 0.05, 0.22))
#: Care systems of both models and their share of the clinics (MNCARES: 2 of 43, 48 of 322 clinics).
MIXED_SYSTEMS = 2
MIXED_SHARE = 0.15
#: Log-odds of an all-integrated care system by size (small, medium, large): assumed, after the text.
ISW_SYSTEM_LOGIT = (-1.0, 0.0, 0.5)


@dataclass
class Structure:
    """Who reports on what: per coordinator, per clinic and per care system (internal indices)."""

    coord_group: np.ndarray  # 0 mn_only, 1 isw_only, 2 both
    coord_size: np.ndarray  # clinics reported on
    coord_sw: np.ndarray  # social work degree
    coord_system: np.ndarray
    clinic_coord: np.ndarray
    clinic_isw: np.ndarray  # bool
    clinic_system: np.ndarray
    system_cat: np.ndarray  # 0 small, 1 medium, 2 large
    system_model: np.ndarray  # 0 medical/nursing, 1 integrated, 2 mixed
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
    """Social work degrees of ``counts`` (both, isw_only, their clinics), retried until exact."""
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


def build_structure(t: Targets, scale: float, rng: np.random.Generator) -> Structure:
    """Coordinators, care systems and clinics for the printed counts of ``t`` times ``scale``."""
    r = lambda x: int(round(x * scale))  # noqa: E731
    n = lambda table, item, level, g: r(t.get(table, item, level, g, "n"))  # noqa: E731
    fact = lambda key: float(t.facts[key])  # noqa: E731
    n_cl, n_isw = n("table2", "n", "", TOTAL), n("table2", "n", "", "isw")
    n_mn_only, n_isw_only, nb = (n("table1", "n", "", g) for g in COORDINATOR_GROUPS)
    multi_mn, multi_isw = (n("table1", "multi_clinic", "yes", g) for g in COORDINATOR_GROUPS[:2])
    max_size = int(fact("coordinators_max_clinics"))
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
    sw_counts = [n("table1", "degree", "msw_bsw", g) for g in ("both", "isw_only")]
    sw_clinics = r(fact("clinics_reported_by_sw_degree_coordinators"))
    sw = _sw_degrees(rng, group, size, [*sw_counts, sw_clinics])

    small, medium = fact("care_systems_small_1_2_clinics"), fact("care_systems_medium_3_9_clinics")
    n_small, n_medium = r(small), r(medium)
    n_sys = r(small + medium + fact("care_systems_large_over_9_clinics"))
    n_mixed = r(MIXED_SYSTEMS)
    sys_size = _system_sizes(rng, n_cl, n_small, n_medium, n_sys - n_small - n_medium, n_mixed)
    sys_cat = np.repeat(np.arange(3), [n_small, n_medium, n_sys - n_small - n_medium])
    mixed = np.arange(n_sys) >= n_sys - n_mixed  # the last systems: large ones
    # pure systems integrated by a draw favouring large ones, up to the integrated clinics left
    isw_in_mixed = round(sys_size[mixed].sum() * n_isw / n_cl)
    logit = np.array(ISW_SYSTEM_LOGIT)[sys_cat] + rng.gumbel(size=n_sys)
    pure_isw, left = np.zeros(n_sys, bool), n_isw - isw_in_mixed
    for j in np.argsort(-np.where(mixed, -np.inf, logit), kind="stable")[: n_sys - n_mixed]:
        if sys_size[j] <= left:
            pure_isw[j], left = True, left - sys_size[j]
    cap = np.zeros((2, n_sys), np.int64)  # rows: medical/nursing, integrated
    cap[1, pure_isw] = sys_size[pure_isw]
    cap[1, mixed] = apportion(isw_in_mixed + left, sys_size[mixed].astype(float))
    cap[0] = sys_size - cap[1]
    # coordinators reporting on both models into the mixed systems, then each model's own
    system = np.full(len(group), -1, np.int64)
    both_clinics = np.stack([size - isw_count, isw_count])
    for i in rng.permutation(np.flatnonzero(group == 2)):
        fits = mixed & np.all(cap >= both_clinics[:, [i]], axis=0)
        if not fits.any():
            raise ValueError("the mixed care systems cannot hold the coordinators of both models")
        system[i] = np.flatnonzero(fits)[np.argmax(cap.sum(axis=0)[fits])]
        cap[:, system[i]] -= both_clinics[:, i]
    for m in (0, 1):
        _pack(rng, np.flatnonzero(group == m), size, cap[m], system)
    sys_model = np.where(mixed, 2, pure_isw.astype(np.int64))

    # clinics: each coordinator's first isw_count clinics are integrated
    clinic_coord = np.repeat(np.arange(len(group)), size)
    first = np.concatenate([[0], np.cumsum(size)[:-1]])
    clinic_isw = np.arange(len(clinic_coord)) - first[clinic_coord] < isw_count[clinic_coord]
    clinic_system = system[clinic_coord]
    # rurality: more often medical/nursing, small and medium systems; care-system random effect
    n_urban = int(round(fact("urban_pct_ruca_1_3") / 100 * n_cl))
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
    return Structure(
        group, size, sw, system, clinic_coord, clinic_isw, clinic_system, sys_cat, sys_model, ruca
    )


def _system_sizes(
    rng: np.random.Generator, n_cl: int, n_small: int, n_medium: int, n_large: int, n_mixed: int
) -> np.ndarray:
    """Clinics per care system by size class; the last ``n_mixed`` hold ``MIXED_SHARE``."""
    small = rng.integers(1, SMALL_MAX + 1, size=n_small)
    medium = rng.integers(SMALL_MAX + 1, MEDIUM_MAX + 1, size=n_medium)
    in_mixed = max(round(MIXED_SHARE * n_cl), (MEDIUM_MAX + 1) * n_mixed)
    mixed = apportion(in_mixed, np.ones(n_mixed))
    rest = n_cl - small.sum() - medium.sum() - in_mixed - (MEDIUM_MAX + 1) * (n_large - n_mixed)
    if rest < 0:
        raise ValueError(f"{n_cl} clinics cannot fill {n_large} care systems of over {MEDIUM_MAX}")
    share = rng.lognormal(0.0, 0.6, size=n_large - n_mixed)
    large = MEDIUM_MAX + 1 + apportion(int(rest), share)
    return np.concatenate([small, medium, large, mixed]).astype(np.int64)


def _pack(
    rng: np.random.Generator,
    coords: np.ndarray,
    size: np.ndarray,
    cap: np.ndarray,
    system: np.ndarray,
) -> None:
    """``coords`` placed whole into the free places ``cap`` (in place), most room first."""
    multi = coords[size[coords] > 1]
    for i in multi[np.argsort(-size[multi] - rng.random(len(multi)), kind="stable")]:
        j = int(np.argmax(cap + rng.random(len(cap))))
        if cap[j] < size[i]:
            raise ValueError("no care system has room for a coordinator of several clinics")
        system[i], cap[j] = j, cap[j] - size[i]
    singles = rng.permutation(coords[size[coords] == 1])
    if len(singles) != cap.sum():
        raise ValueError(f"{len(singles)} single-clinic coordinators for {cap.sum()} places")
    system[singles] = np.repeat(np.arange(len(cap)), cap)
