"""MMMView: a fitted PyMC-Marketing MMM as a view."""

import warnings

import numpy as np
import pandas as pd
import pytensor
import pytest
import xarray as xr
from pymc_marketing.mmm import (
    MMM,
    BudgetOptimizer,
    GeometricAdstock,
    LogisticSaturation,
)

from pymc_robust_alloc.allocator import python_mode
from pymc_robust_alloc.merge import merge_views
from pymc_robust_alloc.views.base import CHANNEL_DATA
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.mmm import MMM_RESPONSE, MMMView

CHANNELS = ["search", "social"]
START, END = "2024-09-01", "2024-10-06"  # six weekly decision periods
NUM_PERIODS = 6
L_MAX = 2
N_DRAWS = 40


def synthetic_data(seed=0, n_weeks=40):
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2024-01-07", periods=n_weeks, freq="W-SUN")
    X = pd.DataFrame(
        {"date": dates, "search": rng.uniform(20, 60, n_weeks)}
        | {"social": rng.uniform(10, 40, n_weeks)}
    )
    y = pd.Series(100 + rng.normal(0, 1, n_weeks), name="y")
    return X, y


def posterior_draws(seed=1):
    """Posterior of the MMM's free variables (stands in for a NUTS fit)."""
    rng = np.random.default_rng(seed)
    shape = (1, N_DRAWS, len(CHANNELS))
    return xr.Dataset(
        {
            "adstock_alpha": (
                ("chain", "draw", "channel"),
                rng.uniform(0.3, 0.6, shape),
            ),
            "saturation_lam": (("chain", "draw", "channel"), rng.uniform(1, 3, shape)),
            "saturation_beta": (
                ("chain", "draw", "channel"),
                rng.uniform(0.1, 0.3, shape),
            ),
            "intercept_contribution": (
                ("chain", "draw"),
                rng.uniform(0.5, 0.7, shape[:2]),
            ),
            "y_sigma": (("chain", "draw"), rng.uniform(0.01, 0.02, shape[:2])),
        },
        coords={"chain": [0], "draw": np.arange(N_DRAWS), "channel": CHANNELS},
    )


def new_mmm():
    return MMM(
        date_column="date",
        channel_columns=CHANNELS,
        adstock=GeometricAdstock(l_max=L_MAX),
        saturation=LogisticSaturation(),
    )


@pytest.fixture(scope="module")
def data():
    return synthetic_data()


@pytest.fixture(scope="module")
def mmm(data):
    """A built MMM whose idata holds seeded draws: no sampler, no compilation."""
    X, y = data
    model = new_mmm()
    model.build_model(X, y)
    model.idata = xr.DataTree.from_dict({"posterior": posterior_draws()})
    return model


@pytest.fixture(scope="module")
def view(mmm):
    return MMMView("mmm", mmm, START, END)


@pytest.fixture(scope="module")
def curve_view():
    return CurveView.from_estimates(
        "experiment",
        {"alpha": [20.0, 15.0], "lam": [30.0, 20.0]},
        sigma=0.1,
        channels=CHANNELS,
        draws=N_DRAWS,
        random_seed=2,
    )


def numpy_response(data, posterior, plan):
    """Total media contribution over the window, computed without the MMM's graph.

    Geometric adstock (normalised weights alpha**l, l < l_max) and logistic
    saturation beta * (1 - exp(-lam x)) / (1 + exp(-lam x)) on spend scaled by
    each channel's max, times the target's max.
    """
    X, y = data
    dates = pd.date_range("2024-08-18", periods=2 + NUM_PERIODS + L_MAX, freq="W-SUN")
    history = X.set_index("date")[CHANNELS].reindex(dates[:2]).to_numpy()
    spend = np.zeros((len(dates), len(CHANNELS)))
    spend[:2] = history
    spend[2 : 2 + NUM_PERIODS] = [plan[c] for c in CHANNELS]
    x = spend / X[CHANNELS].abs().max().to_numpy()
    alpha = posterior["adstock_alpha"].values[0]  # (draw, channel)
    lam = posterior["saturation_lam"].values[0]
    beta = posterior["saturation_beta"].values[0]
    weights = alpha[:, None, :] ** np.arange(L_MAX)[None, :, None]
    weights = weights / weights.sum(axis=1, keepdims=True)  # (draw, lag, channel)
    lagged = np.stack(
        [np.vstack([np.zeros((lag, len(CHANNELS))), x[: len(x) - lag]]) for lag in range(L_MAX)]
    )  # (lag, date, channel)
    adstocked = np.einsum("dlc,ltc->dtc", weights, lagged)
    e = np.exp(-lam[:, None, :] * adstocked)
    contribution = beta[:, None, :] * (1 - e) / (1 + e)
    return contribution.sum(axis=(1, 2)) * np.abs(y).max()


def test_horizon_is_the_mmm_window_with_its_history(view, data):
    horizon = view.horizon(NUM_PERIODS)
    X, _ = data
    assert horizon.num_periods == NUM_PERIODS
    assert horizon.carry_in_periods == L_MAX
    assert horizon.adstock_periods == view.adstock_periods == L_MAX
    assert pd.Timestamp(horizon.dates[L_MAX]) == pd.Timestamp(START)
    assert horizon.length == L_MAX + NUM_PERIODS + L_MAX
    history = X.set_index("date").loc[["2024-08-18", "2024-08-25"], CHANNELS]
    np.testing.assert_array_equal(horizon.carry_in, history.to_numpy())
    assert view.budget_coords == {"channel": tuple(CHANNELS)}
    assert view.channel_scales == 1.0
    assert sorted(view.posterior.data_vars) == sorted(posterior_draws().data_vars)


def test_num_periods_disagreeing_with_the_window_raises(view):
    with pytest.raises(ValueError, match=r"has 6 decision periods.*num_periods=8"):
        view.horizon(8)


def test_unfitted_mmm_raises(data):
    with pytest.raises(ValueError, match=r"not fitted.*mmm\.fit"):
        MMMView("mmm", new_mmm(), START, END)


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        ("2023-06-04", "2023-07-02", "data runs from 2024-01-07"),
        (END, START, "is before start_date"),
    ],
)
def test_window_outside_the_data_raises(mmm, start, end, match):
    with pytest.raises(ValueError, match=match):
        MMMView("mmm", mmm, start, end)


def test_window_after_a_gap_warns_that_history_is_lost(mmm):
    with pytest.warns(UserWarning, match="cold start"):
        view = MMMView("mmm", mmm, "2024-12-01", "2024-12-29")
    assert view.horizon().carry_in_periods == 0


def test_build_gives_a_new_model_and_leaves_the_mmm_untouched(mmm, view):
    spend_before = np.asarray(mmm.model[CHANNEL_DATA].get_value()).copy()
    idata_before = mmm.idata.copy(deep=True)
    horizon = view.horizon()
    first, second = (view.build(horizon, view.budget_coords) for _ in range(2))
    assert first is not second and first is not mmm.model
    assert tuple(first.named_vars_to_dims[CHANNEL_DATA]) == ("date", "channel")
    assert first.named_vars_to_dims.get(view.response_variable, ()) == ()
    np.testing.assert_array_equal(
        first[CHANNEL_DATA].get_value()[: horizon.carry_in_periods], horizon.carry_in
    )
    np.testing.assert_array_equal(mmm.model[CHANNEL_DATA].get_value(), spend_before)
    xr.testing.assert_identical(
        mmm.idata["posterior"].to_dataset(), idata_before["posterior"].to_dataset()
    )


def test_channel_order_other_than_the_mmms_raises_instead_of_relabelling(view):
    # notes section 8.3: a reversed order silently relabelled the MMM's data.
    with pytest.raises(ValueError, match=r"MMM's order.*Put the MMM view first"):
        view.build(view.horizon(), {"channel": tuple(reversed(CHANNELS))})
    with pytest.raises(ValueError, match="budget dims and labels"):
        view.build(view.horizon(), {"channel": ("search", "tv")})


def test_geo_mmm_budget_dims_follow_the_mmm_order():
    rng = np.random.default_rng(4)
    dates = pd.date_range("2024-01-07", periods=20, freq="W-SUN")
    frames = [
        pd.DataFrame(
            {"date": dates, "geo": geo, "y": 100 + rng.normal(0, 1, 20)}
            | {c: rng.uniform(10, 50, 20) for c in CHANNELS}
        )
        for geo in ["north", "south"]
    ]
    df = pd.concat(frames, ignore_index=True)
    mmm = MMM(
        date_column="date",
        channel_columns=CHANNELS,
        dims=("geo",),
        adstock=GeometricAdstock(l_max=L_MAX),
        saturation=LogisticSaturation(),
    )
    mmm.build_model(df.drop(columns="y"), df["y"])
    model = mmm.model
    posterior = xr.Dataset(
        {
            rv.name: (
                ("chain", "draw", *model.named_vars_to_dims.get(rv.name, ())),
                np.full(
                    (
                        1,
                        3,
                        *(len(model.coords[d]) for d in model.named_vars_to_dims.get(rv.name, ())),
                    ),
                    0.5,
                ),
            )
            for rv in model.free_RVs
        },
        coords={"geo": ["north", "south"], "channel": CHANNELS},
    )
    mmm.idata = xr.DataTree.from_dict({"posterior": posterior})
    view = MMMView("mmm", mmm, "2024-04-07", "2024-05-05")
    assert list(view.budget_coords) == ["geo", "channel"]
    assert view.channels == tuple(CHANNELS)
    assert view.horizon().carry_in.shape == (L_MAX, 2, 2)
    built = view.build(view.horizon(), view.budget_coords)
    assert tuple(built.named_vars_to_dims[CHANNEL_DATA]) == ("date", "geo", "channel")
    swapped = {"channel": tuple(CHANNELS), "geo": ("north", "south")}
    with pytest.raises(ValueError, match=r"MMM's order"):
        view.build(view.horizon(), swapped)


def test_merge_with_a_reordered_view_never_relabels_the_mmm(view):
    reordered = CurveView.from_estimates(
        "experiment",
        {
            "alpha": {"social": 15.0, "search": 20.0},
            "lam": {"social": 20.0, "search": 30.0},
        },
        sigma=0.1,
        draws=N_DRAWS,
        random_seed=2,
    )
    assert reordered.channels == ("social", "search")
    try:
        merged = merge_views([reordered, view], NUM_PERIODS)
    except ValueError as error:  # merge on the first view's order: refused
        assert "Put the MMM view first" in str(error)
    else:  # merge on the MMM's order: the MMM's data keeps its labels
        assert merged.budget_coords == {"channel": tuple(CHANNELS)}


@pytest.fixture(scope="module")
def merged(view, curve_view):
    return merge_views([view, curve_view], NUM_PERIODS)


@pytest.fixture(scope="module")
def mask():
    return xr.DataArray([True, True], dims=("channel",), coords={"channel": CHANNELS})


BUDGET = 60.0
BOUNDS = {c: (0.0, 50.0) for c in CHANNELS}


def python_compiled():
    """Compile without C or Numba: these small graphs need no JIT (cold CI cache)."""
    return pytensor.config.change_flags(mode=python_mode(), cxx="")


@pytest.fixture(scope="module")
def merged_optimizer(merged, view, mask):
    horizon = merged.horizon
    with python_compiled():
        return BudgetOptimizer(
            model=merged.model,
            idata=merged.idata,
            num_periods=horizon.num_periods,
            carry_in_periods=horizon.carry_in_periods,
            adstock_periods=horizon.adstock_periods,
            response_variable=f"{view.name}_{MMM_RESPONSE}",
            budgets_to_optimize=mask,
            compile_kwargs={"mode": python_mode()},
        )


def test_merged_graph_uses_the_mmm_window_and_history(merged, view):
    assert merged.horizon == view.horizon()
    spend = merged.model[CHANNEL_DATA].get_value()
    np.testing.assert_array_equal(spend[: view.horizon().carry_in_periods], view.horizon().carry_in)
    assert merged.n_draws == N_DRAWS


def test_mmm_optimum_on_merged_graph_equals_standalone(mmm, merged_optimizer, mask):
    merged_plan, merged_result = merged_optimizer.allocate_budget(
        total_budget=BUDGET, budget_bounds=BOUNDS
    )
    with warnings.catch_warnings(), python_compiled():
        warnings.simplefilter("ignore", UserWarning)
        standalone = mmm.budget_optimizer(
            START, END, budgets_to_optimize=mask, compile_kwargs={"mode": python_mode()}
        )
        plan, result = standalone.allocate_budget(total_budget=BUDGET, budget_bounds=BOUNDS)
    assert merged_result.success and result.success
    np.testing.assert_allclose(
        merged_plan.sel(channel=CHANNELS).values,
        plan.sel(channel=CHANNELS).values,
        atol=1e-3,
    )
    np.testing.assert_allclose(merged_result.fun, result.fun, rtol=1e-6)
    assert float(merged_plan.sum()) == pytest.approx(BUDGET)


def test_zero_plan_response_is_history_and_plan_moves_the_increment(
    data, merged_optimizer, view, mask
):
    name = f"{view.name}_{MMM_RESPONSE}"
    zero = xr.zeros_like(mask, dtype=float)
    plan = xr.DataArray([40.0, 20.0], dims=("channel",), coords={"channel": CHANNELS})
    y_zero = merged_optimizer.evaluate_response_distribution(zero, response_variable=name)
    y_plan = merged_optimizer.evaluate_response_distribution(plan, response_variable=name)
    expected_zero = numpy_response(data, view.posterior, {c: 0.0 for c in CHANNELS})
    expected_plan = numpy_response(
        data, view.posterior, dict(zip(CHANNELS, plan.values, strict=True))
    )
    np.testing.assert_allclose(y_zero.values, expected_zero, rtol=1e-6)
    np.testing.assert_allclose(y_plan.values, expected_plan, rtol=1e-6)
    assert y_zero.mean() > 0.1 * y_plan.mean()  # history is far from negligible
    increment = y_plan - y_zero
    assert (increment > 0).all()
    np.testing.assert_allclose(increment.values, expected_plan - expected_zero, rtol=1e-6)


@pytest.mark.slow
def test_fitted_mmm_with_two_chains_merges_without_missing_draws(data, curve_view):
    X, y = data
    mmm = new_mmm()
    mmm.fit(X, y, draws=50, tune=50, chains=2, random_seed=3, progressbar=False)
    view = MMMView("mmm", mmm, START, END)
    assert view.posterior.sizes["chain"] * view.posterior.sizes["draw"] == 100
    merged = merge_views([curve_view, view], NUM_PERIODS)
    posterior = merged.idata["posterior"].to_dataset()
    assert dict(posterior.sizes)["chain"] == 1
    assert posterior.sizes["draw"] == N_DRAWS
    assert not any(bool(posterior[v].isnull().any()) for v in posterior.data_vars)
    assert "mmm_saturation_lam" in posterior


def test_historical_plan_is_the_data_mix_at_the_budget(view, data):
    X, _ = data
    mix = X[CHANNELS].mean()
    plan = view.historical_plan(30.0)
    assert plan.dims == ("channel",)
    expected = (mix * 30.0 / mix.sum()).to_numpy()
    np.testing.assert_allclose(plan.sel(channel=CHANNELS).values, expected)


@pytest.fixture(scope="module")
def mmm_allocator(view, curve_view):
    from pymc_robust_alloc import RobustAllocator

    return RobustAllocator([view, curve_view], NUM_PERIODS)


def test_an_mmm_build_is_stored_and_a_second_build_merges_nothing(mmm_allocator, view, curve_view):
    """The MMM's adstock runs as a ``Blockwise`` op, whose functions still pickle."""
    from pymc_robust_alloc import RobustAllocator

    again = RobustAllocator([view, curve_view], NUM_PERIODS)
    assert "merged" not in again.__dict__ and "optimizer" not in again.__dict__
    plan = {"search": 20.0, "social": 20.0}
    np.testing.assert_allclose(
        again.values(plan).values, mmm_allocator.values(plan).values, rtol=1e-12
    )


@pytest.fixture(scope="module")
def mmm_result(mmm_allocator):
    return mmm_allocator.allocate(
        40.0,
        {"search": (5.0, 35.0), "social": (5.0, 35.0)},
        reference_plan="historical",
        required_gain=0.02,
    )


def test_allocator_with_an_mmm_view_reports_regret_and_success(mmm_result, view):
    regret = mmm_result.regret_matrix
    assert regret.loc["mmm", "mmm"] == pytest.approx(0.0, abs=1e-6)
    assert regret["max regret"].idxmin() == "minimax"
    reference = mmm_result.plan("reference")
    np.testing.assert_allclose(reference.values, view.historical_plan(40.0).values)
    success = mmm_result.success_matrix["min"]
    assert success["success"] > success["reference"]
    assert mmm_result.converged


def test_historical_reference_needs_an_mmm_view(curve_view):
    from pymc_robust_alloc import RobustAllocator

    other = CurveView.from_estimates(
        "attribution",
        {"alpha": [10.0, 30.0], "lam": [20.0, 20.0]},
        0.1,
        channels=CHANNELS,
        draws=N_DRAWS,
        random_seed=3,
    )
    allocator = RobustAllocator([curve_view, other], NUM_PERIODS)
    with pytest.raises(ValueError, match="needs an MMMView"):
        allocator.allocate(40.0, reference_plan="historical")


def test_view_response_plot_shows_the_mmm_in_its_own_units(mmm_allocator, mmm_result, data):
    from matplotlib.figure import Figure

    from pymc_robust_alloc.plots import plot_view_responses

    fig = plot_view_responses(mmm_allocator, mmm_result, n_points=3)
    assert isinstance(fig, Figure)
    mmm_axes, curve_axes = fig.axes
    assert (mmm_axes.get_title(), curve_axes.get_title()) == ("mmm", "experiment")
    assert mmm_axes.get_xlim() == (0.0, 35.0)  # the decision's upper bound
    search = mmm_axes.get_lines()[0]  # the first channel's median curve
    posterior = posterior_draws()
    top = numpy_response(data, posterior, {"search": 35.0, "social": 0.0})
    zero = numpy_response(data, posterior, {"search": 0.0, "social": 0.0})
    np.testing.assert_allclose(search.get_ydata()[-1], np.median(top - zero), rtol=1e-6)


def test_mmm_view_evidence_is_the_spend_it_was_trained_on(view, data):
    X, _ = data
    for channel in CHANNELS:
        lower, upper = view.evidence.sel(channel=channel).values
        assert (lower, upper) == pytest.approx((X[channel].min(), X[channel].max()))
