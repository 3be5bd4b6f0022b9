"""P-value ranges of mean (SD) rows: which p-values the printed means, SDs and N allow.

Printed means and SDs are rounded to 0.1, so a printed row stands for a box of true means and SDs
(each +- 0.05). The p-value of the paper's test (Student's t for two groups, one-way ANOVA for more)
and of Welch's alternatives is computed at the corners of that box and at the configurations that
bring the means as close together as the box allows, giving the range a printed p must meet.
Welch's ANOVA needs samples, not summaries: it is computed on constructed samples that have exactly
the summary values.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence

import numpy as np

from ccanalysis import stats


@functools.lru_cache(maxsize=256)
def standard_sample(n: int) -> np.ndarray:
    """n evenly spaced values with mean 0 and SD 1 (read-only: cached)."""
    z = np.linspace(-1.0, 1.0, n)
    z = z - z.mean()
    sd = z.std(ddof=1)
    out = z / sd if sd > 0 else z
    out.flags.writeable = False
    return out


def sample_moments(mean: float, sd: float, n: int) -> tuple[float, float]:
    """Mean and variance (ddof=1) of the sample with exactly this mean and SD."""
    x = mean + sd * standard_sample(int(n))
    return x.mean(), x.var(ddof=1)


def welch_anova_summary(
    means: Sequence[float],
    sds: Sequence[float],
    ns: Sequence[int],
    moments: dict[tuple[float, float, int], tuple[float, float]] | None = None,
) -> float:
    """Welch's ANOVA p from summaries: samples constructed with exactly these means and SDs.

    ``moments`` caches each group's sample moments by (mean, SD, n): the configurations of
    :func:`mean_pvalue_range` share them (the same numbers as :func:`stats.welch_anova` on the
    samples, which computes the same moments).
    """
    cache = {} if moments is None else moments
    keys = [(m, s, int(n)) for m, s, n in zip(means, sds, ns, strict=True) if int(n) > 0]
    for key in keys:  # empty groups are dropped, as welch_anova drops empty samples
        if key not in cache:
            # groups of one make welch_anova_from_moments raise, as welch_anova does
            cache[key] = sample_moments(*key) if key[2] > 1 else (math.nan, math.nan)
    mv = [cache[key] for key in keys]
    return stats.welch_anova_from_moments(
        [m for m, _ in mv], [v for _, v in mv], [n for *_, n in keys]
    ).p


def mean_pvalue_range(
    means: Sequence[float],
    sds: Sequence[float],
    ns: Sequence[int],
    *,
    half: float = 0.05,
    n_missing: int = 0,
    grid: int = 41,
) -> dict[str, tuple[float, float]]:
    """Range of p over true means in mean +- half and SDs in SD +- half (printed to 0.1).

    Two groups: Student's t (paper) and Welch's t; more groups: one-way ANOVA (paper) and Welch's
    ANOVA. The means are taken at every corner of their box and at the configurations that bring
    them as close together as the box allows (each mean clamped to a common value c, c on a grid);
    the SDs at every corner; n at the printed N and, with ``n_missing``, at N - n_missing.
    """
    m = np.asarray(means, float)
    s = np.asarray(sds, float)
    k = len(m)
    lo_m, hi_m = m - half, m + half
    configs = [np.array(c) for c in itertools.product(*zip(lo_m, hi_m, strict=True))]
    for c in np.linspace(lo_m.min(), hi_m.max(), grid):
        configs.append(np.clip(c, lo_m, hi_m))
    sd_configs = [
        np.maximum(np.array(c), 1e-9)
        for c in itertools.product(*zip(s - half, s + half, strict=True))
    ]
    n_configs = [tuple(int(x) for x in ns)]
    if n_missing:
        n_configs.append(tuple(max(int(x) - n_missing, 2) for x in ns))
    if k == 2:
        tests: dict[str, Callable[[np.ndarray, np.ndarray, tuple[int, ...]], float]] = {
            "student_t": lambda mm, ss, nn: (
                stats.t_test_from_summary(
                    mm[0], ss[0], nn[0], mm[1], ss[1], nn[1], equal_var=True
                ).p
            ),
            "welch_t": lambda mm, ss, nn: (
                stats.t_test_from_summary(
                    mm[0], ss[0], nn[0], mm[1], ss[1], nn[1], equal_var=False
                ).p
            ),
        }
    else:
        moments: dict[tuple[float, float, int], tuple[float, float]] = {}
        tests = {
            "anova": lambda mm, ss, nn: stats.anova_from_summary(mm, ss, nn).p,
            "welch_anova": lambda mm, ss, nn: welch_anova_summary(mm, ss, nn, moments),
        }
    out = {}
    for name, f in tests.items():
        ps = [f(mm, ss, nn) for mm in configs for ss in sd_configs for nn in n_configs]
        out[name] = (float(np.nanmin(ps)), float(np.nanmax(ps)))
    return out
