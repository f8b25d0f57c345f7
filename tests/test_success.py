import json

import numpy as np
import pytensor
import pytensor.xtensor as ptx
import pytest
import xarray as xr
from pymc_marketing.mmm import BudgetOptimizer
from pytensor.graph import rewrite_graph
from scipy.special import expit, log_ndtr
from scipy.stats import norm

from pymc_robust_alloc import (
    log_success_probability,
    merge_views,
    python_mode,
    robust_success_probability,
    success_probability,
)
from pymc_robust_alloc.demo import CHANNELS, demo_views
from pymc_robust_alloc.merge import SUCCESS_MARGIN, SUCCESS_PROBABILITY, VIEW_RESPONSE
from tests.conftest import (
    BOUNDS,
    BUDGET,
    REFERENCE,
    REQUIRED_GAIN,
    numpy_responses,
)


@pytest.fixture(scope="module", autouse=True)
def no_jit():
    """Compile every function without JIT, as the allocator does: CI's cache is cold."""
    with pytensor.config.change_flags(mode=python_mode()):
        yield


RNG = np.random.default_rng(3)
N_DRAWS = 400
REF = RNG.lognormal(2.0, 0.3, size=(N_DRAWS, 3))
PLAN = REF * RNG.normal([1.05, 1.0, 0.97], 0.05, size=(N_DRAWS, 3))


def xt(values):
    return ptx.as_xtensor(np.asarray(values), dims=("sample", "view")[: np.ndim(values)])


def gaussian(plan, ref, gain=0.0, baseline=0.0):
    diff = (plan - baseline) - (1 + gain) * (ref - baseline)
    return norm.cdf(diff.mean(axis=0) / diff.std(axis=0))


def p(plan, ref, **kwargs):
    return np.exp(log_success_probability(xt(plan), ref, **kwargs).eval())


def test_gaussian_is_phi_of_mean_over_sd_of_the_paired_difference():
    np.testing.assert_allclose(p(PLAN, REF, required_gain=0.01), gaussian(PLAN, REF, 0.01))


def test_empirical_is_the_smoothed_share_of_successful_draws():
    diff = PLAN - REF
    expected = expit(diff / (0.2 * diff.std(axis=0))).mean(axis=0)
    got = p(PLAN, REF, method="empirical", temperature=0.2)
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_gaussian_and_empirical_agree_on_a_well_behaved_example():
    # Paired differences that are Gaussian: both estimates approach Phi(mean/sd).
    ref = RNG.lognormal(3.0, 0.2, size=(4000, 3))
    plan = ref + RNG.normal([0.5, 0.0, -0.3], 1.0, size=(4000, 3))
    exact = norm.cdf([0.5, 0.0, -0.3])
    hard = (plan >= ref).mean(axis=0)
    np.testing.assert_allclose(p(plan, ref), exact, atol=0.03)
    np.testing.assert_allclose(p(plan, ref, method="empirical"), exact, atol=0.03)
    np.testing.assert_allclose(p(plan, ref, method="empirical"), hard, atol=0.01)


def test_the_required_gain_is_judged_on_the_increment_over_the_zero_plan():
    history = 1000.0  # e.g. an MMM's carry-in history, common to both plans
    got = p(PLAN + history, REF + history, required_gain=0.05, baseline=history)
    np.testing.assert_allclose(got, gaussian(PLAN, REF, 0.05), rtol=1e-6)
    assert not np.allclose(got, gaussian(PLAN + history, REF + history, 0.05))


def test_log_probability_is_accurate_with_a_live_gradient_in_the_far_tail():
    ref = np.linspace(1.0, 2.0, 50)
    shift = pytensor.shared(-0.3)
    plan = ptx.as_xtensor(ref + shift + np.linspace(-0.01, 0.01, 50), dims=("sample",))
    log_p = log_success_probability(plan, ref)
    diff = ref - 0.3 + np.linspace(-0.01, 0.01, 50) - ref
    assert float(log_p.eval()) == pytest.approx(log_ndtr(diff.mean() / diff.std()), rel=1e-10)
    assert float(log_p.eval()) < -500  # P below 1e-200
    lowered = rewrite_graph(log_p.values, include=("lower_xtensor", "canonicalize"))
    gradient = float(pytensor.grad(lowered, shift).eval())
    assert np.isfinite(gradient) and gradient > 1.0


@pytest.mark.parametrize("method", ["gaussian", "empirical"])
@pytest.mark.parametrize("k", [1e-6, 7.0, 1e6])
def test_success_probability_is_scale_free(method, k):
    scale = np.array([1.0, k, 1.0])
    base = p(PLAN, REF, method=method, required_gain=0.02)
    scaled = p(PLAN * scale, REF * scale, method=method, required_gain=0.02)
    np.testing.assert_allclose(scaled, base, rtol=1e-9)


def test_pooled_utility_is_the_mean_over_views_and_robust_the_min():
    per_view = gaussian(PLAN, REF)
    pooled = success_probability(REF, log=False)(samples=xt(PLAN), budgets=None)
    robust = robust_success_probability(REF, log=False)(samples=xt(PLAN), budgets=None)
    log_robust = robust_success_probability(REF)(samples=xt(PLAN), budgets=None)
    assert float(pooled.eval()) == pytest.approx(per_view.mean(), rel=1e-7)
    assert float(robust.eval()) == pytest.approx(per_view.min(), rel=1e-7)
    assert float(log_robust.eval()) == pytest.approx(np.log(per_view.min()), rel=1e-7)
    smooth = robust_success_probability(REF, smoothing=1e-8)(xt(PLAN), None)
    assert float(smooth.eval()) == pytest.approx(np.log(per_view.min()), abs=1e-7)


def test_reference_as_a_labelled_dataarray():
    ref = xr.DataArray(REF, dims=("sample", "view")).transpose("view", "sample")
    got = success_probability(ref, log=False)(samples=xt(PLAN), budgets=None)
    assert float(got.eval()) == pytest.approx(gaussian(PLAN, REF).mean(), rel=1e-7)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"required_gain": -1.0}, "required_gain must be greater than -1"),
        ({"method": "median"}, "Unknown method 'median'"),
        ({"method": "empirical", "temperature": 0.0}, "temperature must be positive"),
        ({"temperature": -0.1}, "temperature must be positive"),
        ({"reference": np.where(REF > 10, np.nan, REF)}, "non-finite responses"),
        ({"reference": -REF}, "must add a positive response"),
        ({"reference": REF[:1]}, "at least 2 draws"),
        ({"reference": xr.DataArray(REF, dims=("d", "view"))}, "needs a 'sample' dim"),
    ],
)
@pytest.mark.parametrize("factory", [success_probability, robust_success_probability])
def test_bad_arguments_are_refused(factory, kwargs, match):
    kwargs = {"reference": REF, **kwargs}
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_reference_on_other_draws_or_without_views_is_refused():
    with pytest.raises(ValueError, match="responses for 100 draws but the optimizer has 400"):
        success_probability(REF[:100])(samples=xt(PLAN), budgets=None)
    with pytest.raises(ValueError, match="minimum over the 'view' dim"):
        robust_success_probability(REF[:, 0])(samples=xt(PLAN[:, 0]), budgets=None)


# -- through BudgetOptimizer, on the merged graph ------------------------------------

PERIODS = 4
MERGED_DRAWS = 60


@pytest.fixture(scope="module")
def merged_views():
    return demo_views(draws=MERGED_DRAWS, random_seed=5)


@pytest.fixture(scope="module")
def merged(merged_views):
    return merge_views(merged_views, PERIODS, reference_plan=REFERENCE, required_gain=REQUIRED_GAIN)


def _plan(values):
    return xr.DataArray(values, dims="channel", coords={"channel": list(CHANNELS)})


def _optimizer(merged, utility):
    mask = xr.DataArray([True] * 3, dims="channel", coords={"channel": list(CHANNELS)})
    return BudgetOptimizer(
        model=merged.model,
        idata=merged.idata,
        num_periods=PERIODS,
        response_variable=VIEW_RESPONSE,
        utility_function=utility,
        budgets_to_optimize=mask,
        compile_kwargs={"mode": python_mode()},
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda ref: success_probability(ref, REQUIRED_GAIN),
        lambda ref: success_probability(ref, REQUIRED_GAIN, "empirical", log=False),
        lambda ref: robust_success_probability(ref, REQUIRED_GAIN, smoothing=1e-2),
        lambda ref: robust_success_probability(ref, REQUIRED_GAIN, "empirical"),
    ],
)
def test_utility_gradients_match_finite_differences(merged, merged_views, make):
    reference = numpy_responses(merged_views, list(REFERENCE.values()), PERIODS).T
    optimizer = _optimizer(merged, make(reference))
    plan = _plan([31.0, 45.0, 24.0])
    gradient = optimizer.evaluate_plan(plan).utility_gradient["channel_data"]
    h = 1e-5
    for channel in CHANNELS:
        up, down = plan.copy(), plan.copy()
        up.loc[channel] += h
        down.loc[channel] -= h
        fd = (optimizer.evaluate_plan(up).utility - optimizer.evaluate_plan(down).utility) / (2 * h)
        assert float(gradient.sel(channel=channel)) == pytest.approx(fd, rel=1e-4, abs=1e-9)


def test_merged_success_deterministics_are_the_paired_difference(merged, merged_views):
    optimizer = _optimizer(merged, lambda samples, budgets: samples.mean("sample").min("view"))
    plan = _plan([40.0, 35.0, 25.0])
    responses = numpy_responses(merged_views, plan.values, PERIODS)
    reference = numpy_responses(merged_views, list(REFERENCE.values()), PERIODS)
    expected = (responses - (1 + REQUIRED_GAIN) * reference).T
    margin = optimizer.evaluate_response_distribution(plan, SUCCESS_MARGIN)
    np.testing.assert_allclose(margin.transpose("sample", "view").values, expected, rtol=1e-9)
    share = optimizer.evaluate_response_distribution(plan, SUCCESS_PROBABILITY)
    np.testing.assert_allclose(share.mean("sample").values, (expected >= 0).mean(axis=0))


def test_merge_refuses_a_reference_over_other_channels_or_a_bad_gain(merged_views):
    with pytest.raises(ValueError, match="exactly the channel labels"):
        merge_views(merged_views, PERIODS, reference_plan={"tv": 10.0, "search": 5.0})
    with pytest.raises(ValueError, match="required_gain"):
        merge_views(merged_views, PERIODS, reference_plan=REFERENCE, required_gain=-2.0)


# -- the allocator -------------------------------------------------------------------


def numpy_success(views, plan, gain=REQUIRED_GAIN):
    """Gaussian P per view from numpy responses: an independent computation."""
    return gaussian(
        numpy_responses(views, plan).T, numpy_responses(views, list(REFERENCE.values())).T, gain
    )


def test_success_matrix_matches_an_independent_computation(views, success_result):
    table = success_result.success_matrix
    assert list(table.columns) == [*success_result.views, "min"]
    for name in success_result.plans["plan"].values:
        plan = success_result.plans.sel(plan=name, channel=list(CHANNELS)).values
        np.testing.assert_allclose(
            table.loc[name, success_result.views], numpy_success(views, plan), rtol=1e-6
        )


def test_success_plan_maximises_the_robust_success_probability(success_result):
    worst = success_result.success_matrix["min"]
    assert worst.idxmax() == "success"
    assert worst["success"] > worst["reference"] + 0.05
    assert success_result.converged


def test_no_plan_on_a_grid_beats_the_success_plan(views, success_result):
    step = np.arange(0.0, 60.01, 1.0)
    search, social = (g.ravel() for g in np.meshgrid(step, step, indexing="ij"))
    display = BUDGET - search - social
    keep = (display >= 0) & (display <= 60)
    plans = np.stack([search[keep], social[keep], display[keep]], axis=-1)
    responses = numpy_responses(views, plans)  # (view, plan, draw)
    reference = numpy_responses(views, list(REFERENCE.values()))[:, None, :]
    diff = responses - (1 + REQUIRED_GAIN) * reference
    grid = norm.cdf(diff.mean(axis=-1) / diff.std(axis=-1)).min(axis=0)
    assert success_result.success_matrix.loc["success", "min"] >= grid.max() - 1e-3


def test_empirical_success_plan_beats_the_reference(allocator, views):
    result = allocator.allocate(
        BUDGET,
        BOUNDS,
        reference_plan=REFERENCE,
        required_gain=REQUIRED_GAIN,
        success_method="empirical",
    )
    worst = result.success_matrix["min"]
    assert worst.idxmax() == "success"
    assert worst["success"] > worst["reference"]
    assert result.settings["success_method"] == "empirical"


def test_success_probabilities_serialise_to_json(success_result):
    data = json.loads(json.dumps(success_result.to_dict()))
    assert data["min_success_probability"]["success"] == pytest.approx(
        success_result.success_matrix.loc["success", "min"]
    )
    assert data["settings"]["required_gain"] == REQUIRED_GAIN
    assert data["settings"]["reference_plan"] == pytest.approx(REFERENCE)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (
            {"reference_plan": {"search": 80.0, "social": 10.0, "display": 10.0}},
            "outside the bounds",
        ),
        ({"reference_plan": {"search": 50.0, "tv": 50.0}}, "exactly the channel labels"),
        ({"reference_plan": REFERENCE, "required_gain": -1.5}, "greater than -1"),
        ({"reference_plan": REFERENCE, "success_method": "median"}, "Unknown method"),
        (
            {"reference_plan": dict.fromkeys(CHANNELS, 0.0), "bounds": None},
            "must add a positive response",
        ),
    ],
)
def test_bad_reference_inputs_are_refused(allocator, kwargs, match):
    kwargs = {"bounds": BOUNDS, **kwargs}
    with pytest.raises(ValueError, match=match):
        allocator.allocate(BUDGET, **kwargs)


def test_a_gain_too_small_to_move_the_plan_is_flagged(allocator):
    with pytest.warns(UserWarning, match="under 1% of the budget"):
        result = allocator.allocate(BUDGET, BOUNDS, reference_plan=REFERENCE, required_gain=0.0)
    moved = float(abs(result.plan("success") - result.plan("reference")).sum())
    assert moved < 0.01 * BUDGET
