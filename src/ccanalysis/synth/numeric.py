"""Group sizes, sums and SDs of a continuous item that print as the paper's means, SDs and p.

The closest candidate (fewest missing answers, up to ``EXTRA_MISSING`` more for the p) whose
one-way ANOVA p prints as printed for every SD within ``SD_TOL`` of the targets.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from ccanalysis import stats
from ccanalysis.instrument import Field
from ccanalysis.printing import parse_printed
from ccanalysis.synth.categorical import denominators, p_center
from ccanalysis.vocab import TOTAL

#: Means and SDs print with one decimal: half of their last digit.
HALF = 0.05
#: SD margin from the rounding interval's ends, SD grid, SD tolerance of the p, extra missing.
SD_MARGIN = 0.012
SD_GRID = 11
SD_TOL = 0.004
EXTRA_MISSING = 2
#: Group sums tried per group (evenly spaced).
SUMS = 11


@dataclass
class NumPlan:
    """Group sizes, answers, sums (in grid units) and target SDs of one continuous item."""

    table: str
    n: dict[str, int]
    answers: dict[str, int]
    sums: dict[str, int]
    sd: dict[str, float]
    step: float
    lo: float
    hi: float

    @property
    def missing(self) -> dict[str, int]:
        return {g: self.n[g] - self.answers[g] for g in self.n}


def grid_of(f: Field) -> tuple[float, int]:
    """Step and decimals of a numeric field (its validation; else one decimal)."""
    if f.validation == "integer":
        return 1.0, 0
    m = f.validation.removeprefix("number_").removesuffix("dp")
    if f.validation.startswith("number_") and m.isdigit():
        return 10.0 ** -int(m), int(m)
    return 0.1, 1


def _sum_options(mean: float, n: int, step: float) -> list[int]:
    """At most ``SUMS`` sums of n answers on the grid ``step`` whose mean prints as ``mean``."""
    lo_s = math.floor((mean - HALF) * n / step) - 1
    hi_s = math.ceil((mean + HALF) * n / step) + 1
    sums = [s for s in range(lo_s, hi_s + 1) if abs(s * step / n - mean) < HALF - 1e-9]
    if len(sums) > SUMS:
        sums = [sums[i] for i in np.linspace(0, len(sums) - 1, SUMS).round().astype(int)]
    return sums


def solve_numeric(
    table: str,
    f: Field,
    sizes: dict[str, int],
    mean: dict[str, float],
    sd: dict[str, float],
    p_text: str,
) -> NumPlan:
    """The plan meeting the printed means, SDs and p-value ``p_text``."""
    step, groups = grid_of(f)[0], list(sizes)
    grid = np.linspace(-HALF + SD_MARGIN, HALF - SD_MARGIN, SD_GRID)
    sd_rows = np.array(list(itertools.product(*[[sd[g] + x for x in grid] for g in groups])))
    sd_dist = ((sd_rows - np.array([sd[g] for g in groups])) ** 2).sum(axis=1)
    printed_means = np.array([mean[g] for g in groups])
    caps = [min(sizes[g] - 2, 12) for g in groups]
    first = None  # the fewest missing answers meeting the means and SDs
    for total, ds in denominators(sizes, caps):
        if first is not None and total > first + EXTRA_MISSING:
            break
        blocks = []  # (closeness of each SD row, ns, sums, means, SD rows): enumeration order
        for n in ds:
            ns = np.array([n[g] for g in groups], dtype=float)
            for sums in itertools.product(*[_sum_options(mean[g], n[g], step) for g in groups]):
                means = np.array([s * step / n[g] for g, s in zip(groups, sums, strict=True)])
                mtot = float((means * ns).sum() / ns.sum())
                if abs(mtot - mean[TOTAL]) >= HALF - 1e-9:
                    continue
                between = float((ns * (means - mtot) ** 2).sum())
                tot_sd = np.sqrt((((ns - 1) * sd_rows**2).sum(axis=1) + between) / (ns.sum() - 1))
                ok = np.flatnonzero(np.abs(tot_sd - sd[TOTAL]) < HALF - SD_MARGIN)
                if len(ok):
                    closeness = (
                        (mtot - mean[TOTAL]) ** 2
                        + (tot_sd[ok] - sd[TOTAL]) ** 2
                        + float(((means - printed_means) ** 2).sum())
                        + sd_dist[ok]
                    )
                    blocks.append((closeness, ns, sums, means, ok))
        if blocks and first is None:
            first = total
        best = _closest_meeting_p(blocks, sd_rows, p_text)
        if best is not None:
            _, ns, sums, _, _ = blocks[best[0]]
            return NumPlan(
                table,
                dict(sizes),
                {g: int(x) for g, x in zip(groups, ns, strict=True)},
                dict(zip(groups, sums, strict=True)),
                {g: float(x) for g, x in zip(groups, sd_rows[best[1]], strict=True)},
                step,
                f.vmin if f.vmin is not None else 0.0,
                f.vmax if f.vmax is not None else 1e9,
            )
    raise ValueError(f"no group sizes reproduce the printed mean/SD and p-value of {f.name}")


def _closest_meeting_p(blocks: list, sd_rows: np.ndarray, p_text: str) -> tuple[int, int] | None:
    """(block, SD row) of the closest candidate whose p prints as ``p_text``."""
    if not blocks:
        return None
    closeness = np.concatenate([b[0] for b in blocks])
    block = np.repeat(np.arange(len(blocks)), [len(b[0]) for b in blocks])
    row = np.concatenate([b[4] for b in blocks])
    printed = parse_printed(p_text)
    aim = math.log10(p_center(p_text))
    best: tuple[float, int] | None = None
    block_p: dict[int, np.ndarray | None] = {}  # p at every SD row -/0/+ SD_TOL; None: unreachable
    for i in np.argsort(closeness, kind="stable"):
        if best is not None and closeness[i] > best[0]:
            break
        _, ns, _, means, _ = blocks[block[i]]
        if block[i] not in block_p:  # p grows with every SD: the block's range of p-values
            lo, hi = stats.anova_from_summary(
                means, np.stack([sd_rows[0] - SD_TOL, sd_rows[-1] + SD_TOL]), ns
            ).p
            shifted = sd_rows + np.array([-SD_TOL, 0.0, SD_TOL])[:, None, None]
            reachable = printed.meets(lo, hi)
            block_p[block[i]] = (
                stats.anova_from_summary(means, shifted, ns).p if reachable else None
            )
        if block_p[block[i]] is None:
            continue
        ps = block_p[block[i]][:, row[i]]
        if all(printed.holds(p) for p in ps):
            score = closeness[i] + 1e-3 * round(abs(math.log10(ps[1]) - aim), 12)
            if best is None or (score, i) < best:
                best = (score, int(i))
    return None if best is None else (int(block[best[1]]), int(row[best[1]]))
