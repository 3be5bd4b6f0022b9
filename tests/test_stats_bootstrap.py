"""The cluster bootstrap's stream, percentile interval and p (ccanalysis.stats.bootstrap), and the
p-value that inverts Newcombe's interval (ccanalysis.stats.intervals)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ccanalysis.stats import newcombe_diff
from ccanalysis.stats.bootstrap import BLOCK, bootstrap_p, percentile_interval, resample, uncertain
from ccanalysis.stats.intervals import newcombe_bounds, newcombe_p


def _draw(n_units: int, n: int, seed: int, chunk: int = 10) -> np.ndarray:
    return np.vstack(list(resample(n_units, n, seed, chunk)))


def test_stream_is_seeded_blocked_and_resamples_whole_units() -> None:
    a = _draw(42, 2_550, seed=5)
    assert (a == _draw(42, 2_550, seed=5, chunk=3)).all()  # any chunking, same stream
    assert (a.sum(axis=1) == 42).all()  # every replicate draws 42 units
    # replicate r does not depend on how many are drawn
    assert (_draw(42, BLOCK + 7, seed=5) == a[: BLOCK + 7]).all()
    assert not (_draw(42, 10, seed=6) == a[:10]).all()
    # the first block by hand: 100 x 42 uniform draws, counted per replicate
    idx = np.random.default_rng(5).integers(0, 42, size=(BLOCK, 42))
    assert (a[:BLOCK] == np.array([np.bincount(r, minlength=42) for r in idx])).all()
    # each unit is drawn Binomial(42, 1/42) times: mean 1, variance 41/42
    many = _draw(42, 20_000, seed=1)
    assert many.mean() == pytest.approx(1.0, abs=1e-12)
    assert many.var() == pytest.approx(41 / 42, abs=0.02)


def test_percentile_interval_is_the_order_statistics() -> None:
    # B = 40: k = ceil(40 x 0.025) = 1, the interval is (min, max); B = 200: k = 5
    x = np.arange(1.0, 41.0)
    lo, hi = percentile_interval(x)
    assert (lo[0], hi[0]) == (1.0, 40.0)
    y = np.random.default_rng(2).permutation(np.arange(200.0))
    lo, hi = percentile_interval(y)
    assert (lo[0], hi[0]) == (4.0, 195.0)  # x_(5) and x_(196) of 0..199
    # NaN replicates are left out: 200 finite of 210
    z = np.concatenate([y, [np.nan] * 10])
    assert percentile_interval(z[:, None]) == (lo, hi)


def test_interval_excludes_zero_exactly_when_p_is_below_alpha() -> None:
    rng = np.random.default_rng(7)
    for n_rep in (40, 199, 1000, 1001):
        boot = rng.normal(rng.normal(0, 2, 300), 1.0, (n_rep, 300)).round(1)
        lo, hi = percentile_interval(boot)
        p, bound, n = bootstrap_p(boot)
        assert ((lo > 0) | (hi < 0) == (p < 0.05)).all()
        assert (n == n_rep).all()
        le, ge = (boot <= 0).sum(axis=0), (boot >= 0).sum(axis=0)
        expect = np.where(
            np.minimum(le, ge) == 0, 1 / n_rep, np.minimum(1, 2 * np.minimum(le, ge) / n_rep)
        )
        assert np.array_equal(p, expect) and np.array_equal(bound, np.minimum(le, ge) == 0)


def test_p_is_never_zero() -> None:
    p, bound, n = bootstrap_p(np.column_stack([np.linspace(1, 2, 10_000), np.full(10_000, np.nan)]))
    assert p[0] == 1e-4 and bound[0] and n[0] == 10_000
    assert math.isnan(p[1]) and not bound[1]


def test_uncertain_calls_are_near_the_threshold() -> None:
    # B = 10,000, q = 0.025: threshold 250 replicates, standard error sqrt(10,000 q (1 - q)) =
    # 15.6, so a tail count within 2.576 x 15.6 = 40.2 of 250 is uncertain
    def column(c: int) -> np.ndarray:
        return np.concatenate([-np.ones(c), np.ones(10_000 - c)])

    boot = np.column_stack([column(c) for c in (0, 209, 210, 250, 290, 291, 5000)])
    assert uncertain(boot).tolist() == [False, False, True, True, True, False, False]


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2"),
    [(30, 139, 15, 178), (5, 20, 1, 25), (0, 40, 6, 50), (139, 139, 170, 178), (12, 60, 12, 60)],
)
def test_newcombe_p_inverts_the_interval(k1: int, n1: int, k2: int, n2: int) -> None:
    p = newcombe_p(k1, n1, k2, n2)
    d = k1 / n1 - k2 / n2
    if d == 0:
        assert p == 1.0
        return
    # at the confidence level 1 - p the interval's bound nearest 0 is exactly 0
    lo, hi = newcombe_bounds(k1, n1, k2, n2, p)
    assert (lo if d > 0 else hi) == pytest.approx(0.0, abs=1e-12)
    # and the 95% interval excludes 0 exactly when p < 0.05
    _, lo95, hi95 = newcombe_diff(k1, n1, k2, n2)
    assert (lo95 > 0 or hi95 < 0) == (p < 0.05)


def test_newcombe_p_agrees_with_its_interval_everywhere() -> None:
    for k1 in range(0, 31, 3):
        for k2 in range(0, 41, 4):
            p = newcombe_p(k1, 30, k2, 40)
            for conf in (0.9, 0.95, 0.99):
                lo, hi = newcombe_bounds(k1, 30, k2, 40, 1 - conf)
                if abs(p - (1 - conf)) > 1e-9:
                    assert (lo > 0 or hi < 0) == (p < 1 - conf), (k1, k2, conf)
    with pytest.raises(ValueError):
        newcombe_p(3, 2, 1, 5)
