import numpy as np
import pytensor
import pytensor.xtensor as ptx
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from pymc_marketing.mmm import BudgetOptimizer

from pymc_robust_alloc import (
    merge_views,
    minimax_regret,
    normalized_regret,
    python_mode,
    risk_averse_regret,
    view_values,
    weighted_minimax_regret,
)
from pymc_robust_alloc.demo import CHANNELS, demo_views
from pymc_robust_alloc.merge import VIEW_RESPONSE
from pymc_robust_alloc.utility import regret_map

RNG = np.random.default_rng(0)
DRAWS = RNG.lognormal(size=(40, 3))


def samples():
    return ptx.as_xtensor(DRAWS, dims=("sample", "view"))


def test_view_values_match_numpy():
    baseline = RNG.normal(size=(40, 3))
    got = view_values(samples(), baseline=pytensor.shared(baseline), scale=[1.0, 2.0, 3.0])
    expected = ((DRAWS - baseline) * [1.0, 2.0, 3.0]).mean(axis=0)
    np.testing.assert_allclose(got.values.eval(), expected)


@pytest.mark.parametrize("q", [0.0, 0.1, 0.37, 0.5])
def test_lower_quantile_matches_numpy(q):
    got = view_values(samples(), quantile=q).values.eval()
    np.testing.assert_allclose(got, np.quantile(DRAWS, q, axis=0))


def test_regret_is_scale_free():
    v_star = DRAWS.mean(axis=0) * 1.5
    base = normalized_regret(samples(), v_star).values.eval()
    k = np.array([1e-6, 1.0, 1e6])
    scaled = normalized_regret(
        ptx.as_xtensor(DRAWS * k, dims=("sample", "view")), v_star * k
    ).values.eval()
    np.testing.assert_allclose(scaled, base, rtol=1e-12)


def test_minimax_is_minus_the_worst_regret():
    v_star = DRAWS.mean(axis=0) * [1.1, 1.5, 2.0]
    got = float(minimax_regret(v_star)(samples(), None).eval())
    assert got == pytest.approx(-(1 - DRAWS.mean(axis=0) / v_star).max())


def test_weighted_with_equal_weights_is_plain_minimax():
    v_star = DRAWS.mean(axis=0) * [1.1, 1.5, 2.0]
    plain = float(minimax_regret(v_star)(samples(), None).eval())
    weighted = float(weighted_minimax_regret(v_star, [1.0, 1.0, 1.0])(samples(), None).eval())
    assert weighted == pytest.approx(plain)


def test_smoothed_minimax_approaches_the_hard_max():
    v_star = DRAWS.mean(axis=0) * [1.1, 1.5, 2.0]
    hard = float(minimax_regret(v_star)(samples(), None).eval())
    soft = float(minimax_regret(v_star, smoothing=1e-6)(samples(), None).eval())
    assert soft == pytest.approx(hard, abs=2e-6)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: minimax_regret([1.0, 0.0]), "v_star must be positive"),
        (lambda: minimax_regret([1.0, np.nan]), "v_star must be positive"),
        (lambda: weighted_minimax_regret([1.0, 1.0], [0.0, 0.0]), "weights"),
        (lambda: weighted_minimax_regret([1.0, 1.0], [-1.0, 1.0]), "weights"),
        (lambda: risk_averse_regret([1.0, 1.0], quantile=1.5), "quantile"),
    ],
)
def test_bad_utility_arguments_are_refused(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


@pytest.fixture(scope="module")
def merged():
    return merge_views(demo_views(draws=60, random_seed=5), num_periods=4)


@pytest.mark.parametrize(
    "make",
    [
        lambda v: minimax_regret(v),
        lambda v: weighted_minimax_regret(v, [2.0, 1.0, 0.5]),
        lambda v: risk_averse_regret(v, 0.2),
        lambda v: minimax_regret(v, smoothing=1e-3),
    ],
)
def test_utility_gradients_match_finite_differences(merged, make):
    mask = xr.DataArray([True] * 3, dims="channel", coords={"channel": list(CHANNELS)})
    optimizer = BudgetOptimizer(
        model=merged.model,
        idata=merged.idata,
        num_periods=4,
        response_variable=VIEW_RESPONSE,
        utility_function=make(np.array([30.0, 40.0, 120.0])),
        budgets_to_optimize=mask,
        compile_kwargs={"mode": python_mode()},
    )
    plan = xr.DataArray([31.0, 45.0, 24.0], dims="channel", coords={"channel": list(CHANNELS)})
    gradient = optimizer.evaluate_plan(plan).utility_gradient["channel_data"]
    h = 1e-5
    for channel in CHANNELS:
        up, down = plan.copy(), plan.copy()
        up.loc[channel] += h
        down.loc[channel] -= h
        fd = (optimizer.evaluate_plan(up).utility - optimizer.evaluate_plan(down).utility) / (2 * h)
        assert float(gradient.sel(channel=channel)) == pytest.approx(fd, rel=1e-4, abs=1e-9)


def _regret_functions():
    """Ratio and relative regret compiled once on shared draws, V* and V(ref)."""
    draws = pytensor.shared(DRAWS, name="draws")
    v_star = pytensor.shared(np.ones(3), name="v_star")
    v_ref = pytensor.shared(np.zeros(3), name="v_ref")
    x = ptx.as_xtensor(draws, dims=("sample", "view"))
    ratio = normalized_regret(x, v_star).values
    relative = normalized_regret(x, v_star, regret="relative", reference_value=v_ref).values
    fn = pytensor.function([], [ratio, relative], mode=python_mode())

    def regrets(samples, star, ref):
        draws.set_value(samples)
        v_star.set_value(star)
        v_ref.set_value(ref)
        return fn()

    return regrets


REGRETS = _regret_functions()


@settings(max_examples=25, deadline=None)
@given(
    shift=st.floats(-1e6, 1e6, allow_nan=False),
    k=st.floats(1e-6, 1e9),
    gain=st.floats(1.05, 3.0),
)
def test_relative_regret_ignores_constants_and_both_ignore_scale(shift, k, gain):
    values = DRAWS.mean(axis=0)
    v_star, v_ref = values * gain, values * 0.5
    ratio, relative = REGRETS(DRAWS, v_star, v_ref)
    # A constant added to every value (the zero plan's response fixed).
    _, moved = REGRETS(DRAWS + shift, v_star + shift, v_ref + shift)
    np.testing.assert_allclose(moved, relative, rtol=1e-6, atol=1e-6 * (1 + abs(shift)))
    # A response multiplied by k.
    ratio_k, relative_k = REGRETS(DRAWS * k, v_star * k, v_ref * k)
    np.testing.assert_allclose(ratio_k, ratio, rtol=1e-10)
    np.testing.assert_allclose(relative_k, relative, rtol=1e-10)
    # Independent NumPy: (V* - V) / (V* - V(ref)).
    np.testing.assert_allclose(relative, (v_star - values) / (v_star - v_ref), rtol=1e-10)


def test_relative_minimax_factories_share_the_allocators_regret_map():
    values = DRAWS.mean(axis=0)
    v_star, v_ref, w = values * 1.5, values * 0.5, np.array([1.0, 0.5, 2.0])
    expected = (w * (v_star - values) / (v_star - v_ref)).max()
    got = weighted_minimax_regret(v_star, w, regret="relative", reference_value=v_ref)
    assert float(got(samples(), None).eval()) == pytest.approx(-expected)
    offset, slope = regret_map(v_star, v_ref, w)
    assert (offset + slope * values).max() == pytest.approx(expected)
    low = risk_averse_regret(v_star, 0.5, regret="relative", reference_value=v_ref)
    median = np.quantile(DRAWS, 0.5, axis=0)
    expected = ((v_star - median) / (v_star - v_ref)).max()
    assert float(low(samples(), None).eval()) == pytest.approx(-expected)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: minimax_regret([2.0, 2.0], regret="relative"), "needs reference_value"),
        (lambda: minimax_regret([2.0, 2.0], reference_value=[1.0, 1.0]), "only used by"),
        (lambda: minimax_regret([2.0, 2.0], regret="uplift"), "regret must be one of"),
        (
            lambda: minimax_regret([2.0, 2.0], regret="relative", reference_value=[1.0]),
            "one finite value per view",
        ),
        (
            lambda: minimax_regret([2.0, 2.0], regret="relative", reference_value=[1.0, 2.0]),
            r"undefined under views \[1\]",
        ),
    ],
)
def test_relative_regret_refuses_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
