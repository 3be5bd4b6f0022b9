"""Group sizes, sums and SDs of a continuous item that print as the paper's means, SDs and p.

Group sizes (fewest missing answers), group sums (on the item's grid: whole numbers for
``integer``, the validation's decimals for ``number``) and target SDs are solved so that the group
means and SDs and the pooled total mean and SD all round to the printed values. With a printed
p-value the target SDs are chosen on a grid inside their rounding intervals (``P_SD_GRID``) so that
the one-way ANOVA (Student's t with two groups) prints as printed for every SD within ``P_SD_TOL``
of the targets, the drawn values then being free to land anywhere that close; up to
``P_EXTRA_MISSING`` more missing answers than the means need are tried for it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ccanalysis.instrument import Field
from ccanalysis.printing import parse_printed
from ccanalysis.synth.categorical import MAX_MISSING, compositions
from ccanalysis.synth.plans import NumPlan
from ccanalysis.synth.pvalues import anova_p, p_center
from ccanalysis.vocab import TOTAL

#: Means: grid of SD offsets per group inside the SD's rounding interval, the SD tolerance for
#: which the printed p must hold, and the extra missing answers tried for it.
P_SD_GRID = 11
P_SD_TOL = 0.004
P_EXTRA_MISSING = 2
#: Group sums tried per group (evenly spaced over those giving the printed mean): with a printed
#: p-value to meet, and without one.
P_SUMS = 11
PLAIN_SUMS = 9


def grid_of(f: Field) -> tuple[float, int]:
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


@dataclass(frozen=True)
class MeanTargets:
    """The printed means and SDs of one continuous item in one table, by group and total."""

    item: str
    table: str
    groups: Sequence[str]
    sizes: dict[str, int]
    mean: dict[str, float]
    sd: dict[str, float]
    field: Field

    def plan(self, answers: dict[str, int], sums: dict[str, int], sds: dict[str, float]) -> NumPlan:
        """The plan of a solution, with the item's grid and the dictionary's bounds."""
        step, dec = grid_of(self.field)
        lo = self.field.vmin if self.field.vmin is not None else 0.0
        hi = self.field.vmax if self.field.vmax is not None else 1e9
        return NumPlan(
            self.item, self.table, dict(self.sizes), answers, sums, sds, step, lo, hi, dec
        )


def _solve_numeric_p(t: MeanTargets, p_text: str) -> NumPlan | None:
    """Group sizes, sums and SDs meeting the printed means, SDs and p-value (None if none does)."""
    groups, sizes, mean, sd = t.groups, t.sizes, t.mean, t.sd
    step, _dec = grid_of(t.field)
    half = 0.05
    margin_sd = 0.012
    k = len(groups)
    grid = np.linspace(-half + margin_sd, half - margin_sd, P_SD_GRID)
    sd_rows = np.array(list(itertools.product(*[[sd[g] + x for x in grid] for g in groups])))
    pr = parse_printed(p_text)
    aim = math.log10(p_center(p_text))
    caps = [min(sizes[g] - 2, 12) for g in groups]
    first_feasible: int | None = None  # fewest missing answers meeting the means and SDs
    for total_missing in range(MAX_MISSING + 1):
        if first_feasible is not None and total_missing > first_feasible + P_EXTRA_MISSING:
            break
        best = None
        for miss in compositions(total_missing, k, caps):
            n = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            ns = np.array([n[g] for g in groups], dtype=float)
            ntot = ns.sum()
            opts = [_sum_options(mean[g], n[g], step, half, P_SUMS) for g in groups]
            if not all(opts):
                continue
            for choice in itertools.product(*opts):
                means = np.array([c * step / n[g] for g, c in zip(groups, choice, strict=True)])
                mtot = float((means * ns).sum() / ntot)
                if abs(mtot - mean[TOTAL]) >= half - 1e-9:  # exact: the sums are exact
                    continue
                between = float((ns * (means - mtot) ** 2).sum())
                tot_sd = np.sqrt((((ns - 1) * sd_rows**2).sum(axis=1) + between) / (ntot - 1))
                ok = np.abs(tot_sd - sd[TOTAL]) < half - margin_sd
                if not ok.any():
                    continue
                if first_feasible is None:
                    first_feasible = total_missing
                rows = sd_rows[ok]
                p_mid = anova_p(ns, means, rows)
                p_lo = anova_p(ns, means, rows - P_SD_TOL)
                p_hi = anova_p(ns, means, rows + P_SD_TOL)
                good = pr.holds_each(p_lo) & pr.holds_each(p_mid) & pr.holds_each(p_hi)
                if not good.any():
                    continue
                for r, pm, ts in zip(rows[good], p_mid[good], tot_sd[ok][good], strict=True):
                    score = (
                        (mtot - mean[TOTAL]) ** 2
                        + (ts - sd[TOTAL]) ** 2
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
            return t.plan(n, sums, sds)
    return None


def solve_numeric(t: MeanTargets, p_text: str | None = None) -> NumPlan:
    """Fewest missing answers, group sums and SDs so that group and total mean/SD round right.

    With ``p_text`` the printed p-value of the one-way ANOVA (Student's t with two groups) is met
    too: the group SDs are then chosen on a grid inside their rounding intervals (the p-value
    must hold for every SD within ``P_SD_TOL`` of the chosen ones); up to ``P_EXTRA_MISSING`` more
    missing answers than the means need are tried. Without a match the plain solution is kept.
    """
    if p_text is not None:
        plan = _solve_numeric_p(t, p_text)
        if plan is not None:
            return plan
    groups, sizes, mean, sd = t.groups, t.sizes, t.mean, t.sd
    step, _dec = grid_of(t.field)
    half = 0.05  # printed with one decimal
    margin_sd = 0.012
    caps = [min(sizes[g] - 2, 12) for g in groups]
    for total_missing in range(MAX_MISSING + 1):
        best = None
        for miss in compositions(total_missing, len(groups), caps):
            n = {g: sizes[g] - m for g, m in zip(groups, miss, strict=True)}
            opts = [_sum_options(mean[g], n[g], step, half, PLAIN_SUMS) for g in groups]
            if not all(opts):
                continue
            ntot = sum(n.values())
            for choice in itertools.product(*opts):
                means = {g: s * step / n[g] for g, s in zip(groups, choice, strict=True)}
                mtot = sum(means[g] * n[g] for g in groups) / ntot
                if abs(mtot - mean[TOTAL]) >= half - 0.002:
                    continue
                between = sum(n[g] * (means[g] - mtot) ** 2 for g in groups)

                def total_sd(t: float, between=between, n=n, ntot=ntot) -> float:
                    within = sum(
                        (n[g] - 1) * (sd[g] - half + margin_sd + t * 2 * (half - margin_sd)) ** 2
                        for g in groups
                    )
                    return math.sqrt((within + between) / (ntot - 1))

                s_lo, s_hi = total_sd(0.0), total_sd(1.0)
                target = min(max(sd[TOTAL], s_lo), s_hi)
                if abs(target - sd[TOTAL]) >= half - margin_sd:
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
                    (mtot - mean[TOTAL]) ** 2
                    + (target - sd[TOTAL]) ** 2
                    + sum((means[g] - mean[g]) ** 2 for g in groups)
                    + abs(t - 0.5) * 1e-3
                )
                if best is None or score < best[0]:
                    sds = {g: sd[g] - half + margin_sd + t * 2 * (half - margin_sd) for g in groups}
                    best = (score, n, dict(zip(groups, choice, strict=True)), sds)
        if best is not None:
            _, n, sums, sds = best
            return t.plan(n, sums, sds)
    raise ValueError(f"no group sizes reproduce the printed mean/SD of {t.item}")
