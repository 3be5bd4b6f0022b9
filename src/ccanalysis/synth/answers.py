"""Which record gives which answer: a Gaussian copula with the plans' exact marginals.

Latent per record and item: ``sqrt(RHO) u[coordinator] + sqrt(1 - RHO) e``, ``u`` partly a block
factor (``BLOCKS``) and, for clinics, ``SYSTEM_SHARE`` care system; counts go by rank. Missing
answers: highest propensity plus Gumbel noise. Continuous values: gamma shaped, on the grid, at the
exact group sum and the SD closest to its target.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ccanalysis.synth.categorical import CatPlan, apportion
from ccanalysis.synth.numeric import SD_TOL, NumPlan
from ccanalysis.synth.structure import Structure

#: Correlation of the latents of two records of one coordinator (same item).
RHO = 0.9
#: Share of a coordinator's latent common to its care system: assumed (no source prints one),
#: modest and inside the coverage study's ICC range.
SYSTEM_SHARE = 0.1
#: Share of a coordinator's item latent that comes from the block factor.
BLOCK_LOADING = 0.5
#: Blocks of items answered alike (modelling assumptions of the synthesizer, not instrument facts).
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
BLOCK_OF = {item: b for b, its in BLOCKS.items() for item in its}
#: Items ranked (almost) as another item and bounded above by it.
PAIRED: dict[str, str] = {"years_study_clinics": "years_cc_role"}


def scaled_counts(plan: CatPlan, g: str, n: int) -> np.ndarray:
    """Counts of group ``g`` with ``n`` records: the plan's proportions (its counts at scale 1)."""
    missing = int(round(plan.missing[g] * n / plan.n[g]))
    return apportion(n - missing, plan.counts[g].astype(float))


def latent(
    rng: np.random.Generator,
    owner: np.ndarray,
    n_owner: int,
    system: np.ndarray | None = None,
    rho: float = RHO,
) -> Callable[..., np.ndarray]:
    """Gaussian latents: coordinator effect, block factors, care-system share (``system``)."""
    blocks: dict[tuple[str, int], np.ndarray] = {}

    def effect(b: str | None, n: int) -> np.ndarray:
        u = rng.standard_normal(n)
        if b is None:
            return u
        if (b, n) not in blocks:
            blocks[b, n] = rng.standard_normal(n)
        return math.sqrt(BLOCK_LOADING) * blocks[b, n] + math.sqrt(1 - BLOCK_LOADING) * u

    def draw(item: str, extra_block: str | None = None) -> np.ndarray:
        """One latent per record for ``item`` (its block, else ``extra_block``)."""
        b = BLOCK_OF.get(item, extra_block)
        u = effect(b, n_owner)
        if system is not None:
            s = effect(b, int(system.max()) + 1)[system]
            u = math.sqrt(SYSTEM_SHARE) * s + math.sqrt(1 - SYSTEM_SHARE) * u
        e = rng.standard_normal(len(owner))
        return math.sqrt(rho) * u[owner] + math.sqrt(1 - rho) * e

    return draw


def rank_assign(z: np.ndarray, members: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Level index per member: the highest latents get level 0, then level 1, ..."""
    order = members[np.argsort(-z[members], kind="stable")]
    res = np.full(len(z), -1, np.int64)
    res[order] = np.repeat(np.arange(len(counts)), counts)[: len(order)]
    return res[members]


def _answering(
    rng: np.random.Generator, propensity: np.ndarray, members: np.ndarray, k: int
) -> np.ndarray:
    """All members but the ``k`` most prone to skip (propensity + Gumbel noise)."""
    if k <= 0:
        return members
    keys = propensity[members] + 0.5 * rng.gumbel(size=len(members))
    return np.setdiff1d(members, members[np.argsort(-keys, kind="stable")[:k]])


def assign_by_group(
    rng: np.random.Generator, plan: CatPlan, z: np.ndarray, group: np.ndarray, prop: np.ndarray
) -> np.ndarray:
    """Answer indices (-1: missing) of one categorical item, by group and rank of ``z``."""
    idx = np.full(len(group), -1, np.int64)
    for gi, g in enumerate(plan.n):
        members = np.flatnonzero(group == gi)
        counts = scaled_counts(plan, g, len(members))
        keep = _answering(rng, prop, members, len(members) - int(counts.sum()))
        idx[keep] = rank_assign(z, keep, counts)
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
    """Grid units nudged to the sum ``total`` and (``exact_sd``) the SD closest to ``sd_units``."""
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
        need = target_ss - float((x.astype(float) ** 2).sum())
        # x_i += 1, x_j -= 1 adds 2 (x_i - x_j) + 2 to the sum of squares
        up, down = np.unique(x[x < hi_arr]), np.unique(x[x > lo])
        moves = []  # (the gap left, x_i, x_j)
        for vj in down:
            k = np.searchsorted(up, vj + (need - 2) / 2)
            for vi in up[max(k - 1, 0) : k + 1]:
                if vi != vj or np.count_nonzero(x == vi) >= 2:
                    moves.append((abs(need - (2 * (vi - vj) + 2)), vi, vj))
        gap, vi, vj = min(moves, key=lambda m: m[0], default=(abs(need), 0, 0))
        if gap >= abs(need):
            break
        i = int(np.flatnonzero((x == vi) & (x < hi_arr))[0])
        js = np.flatnonzero((x == vj) & (x > lo))
        x[i] += 1
        x[int(js[js != i][0])] -= 1
    return x


def numeric_item(
    rng: np.random.Generator,
    plan: NumPlan,
    z: np.ndarray,
    group: np.ndarray,
    prop: np.ndarray,
    upper: np.ndarray | None = None,
) -> np.ndarray:
    """Values (NaN: missing) of one continuous item by rank of ``z``, under ``upper`` if given."""
    out = np.full(len(z), np.nan)
    lo_u = int(math.ceil(plan.lo / plan.step - 1e-9))
    for gi, g in enumerate(plan.n):
        members = np.flatnonzero(group == gi)
        n = len(members)
        exact = n == plan.n[g]
        miss = plan.missing[g] if exact else int(round(plan.missing[g] * n / plan.n[g]))
        keep = _answering(rng, prop, members, miss)
        mean, sd = plan.sums[g] * plan.step / plan.answers[g], plan.sd[g]
        order = keep[np.argsort(-z[keep], kind="stable")]
        total = plan.sums[g] if exact else int(round(mean * len(keep) / plan.step))
        bound = plan.hi if upper is None else np.fmin(upper[order], plan.hi)
        hi_each = np.floor(np.asarray(bound) / plan.step + 1e-9).astype(np.int64)
        for _ in range(50 if exact else 1):
            vals = np.sort(_gamma_values(rng, len(keep), mean, sd, plan.lo, plan.hi))[::-1]
            if upper is not None:
                for _ in range(30):  # re-standardize under the per-value bounds
                    vals = np.clip(vals, plan.lo, bound)
                    s = vals.std(ddof=1)
                    vals = mean + sd * (vals - vals.mean()) / (s if s > 0 else 1.0)
                vals = np.clip(vals, plan.lo, bound)
            units = np.clip(np.round(vals / plan.step), lo_u, hi_each).astype(np.int64)
            units = _fix_grid(rng, units, total, sd / plan.step, lo_u, hi_each, exact)
            if not exact or len(keep) < 2 or abs(units.std(ddof=1) * plan.step - sd) <= SD_TOL:
                break
        out[order] = units * plan.step
    return out


def degree_answers(rng: np.random.Generator, plan: CatPlan, st: Structure) -> np.ndarray:
    """One degree per coordinator: social work where the structure put it, others at random."""
    idx = np.full(len(st.coord_group), -1, np.int64)
    sw_level = plan.levels.index("msw_bsw")
    for gi, g in enumerate(plan.n):
        members = np.flatnonzero(st.coord_group == gi)
        counts = scaled_counts(plan, g, len(members))
        idx[members[st.coord_sw[members]]] = sw_level
        others = rng.permutation(members[~st.coord_sw[members]])
        counts[sw_level] = 0
        counts = apportion(len(others), counts.astype(float))
        idx[others] = np.repeat(np.arange(len(counts)), counts)
    return idx


def checkbox_question(
    rng: np.random.Generator,
    plans: dict[str, CatPlan],
    lat: Callable[..., np.ndarray],
    group: np.ndarray,
    prop: np.ndarray,
    block: str,
) -> dict[str, np.ndarray]:
    """Level indices (0 yes, 1 no, -1 not answered) of the calibrated boxes of one question."""
    q_items = list(plans)
    n = len(group)
    out = {i: np.full(n, -1, np.int64) for i in q_items}
    nones = [i for i in q_items if i.endswith("_none")]
    others = [i for i in q_items if i not in nones]
    lat_z = {i: lat(i, extra_block=block) for i in q_items}
    for gi, g in enumerate(plans[q_items[0]].n):
        members = np.flatnonzero(group == gi)
        answered = int(scaled_counts(plans[q_items[0]], g, len(members)).sum())
        keep = _answering(rng, prop, members, len(members) - answered)
        box = {i: np.zeros(n, bool) for i in q_items}
        for item in nones:
            c = scaled_counts(plans[item], g, len(members))
            box[item][keep[np.argsort(-lat_z[item][keep], kind="stable")[: c[0]]]] = True
        pool = keep[~np.any([box[i][keep] for i in nones], axis=0)] if nones else keep
        for item in others:
            k = min(int(scaled_counts(plans[item], g, len(members))[0]), len(pool))
            box[item][pool[np.argsort(-lat_z[item][pool], kind="stable")[:k]]] = True
        # every answered record has a box: moved from records with several
        for _ in range(len(others) * 3):
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
