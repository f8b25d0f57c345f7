import warnings

import numpy as np
import pymc as pm
import pymc.dims as pmd
import pytest
import xarray as xr

from pymc_robust_alloc import CurveView, ModelView, RobustAllocator

CHANNELS = ["tv", "radio"]


def log_model(spend_name="channel_data"):
    with pm.Model(coords={"date": range(4), "channel": CHANNELS}) as model:
        x = pmd.Data(spend_name, np.ones((4, 2)), dims=("date", "channel"))
        beta = pmd.HalfNormal("beta", dims="channel")
        pmd.Deterministic("total", (beta * pmd.math.log1p(x)).sum())
    post = xr.Dataset(
        {"beta": (("chain", "draw", "channel"), np.full((1, 10, 2), [2.0, 1.0]))},
        coords={"channel": CHANNELS},
    )
    return model, xr.DataTree.from_dict({"posterior": post})


def wrapper(model, idata, **kwargs):
    from pymc_marketing.mmm.budget_optimizer import CustomModelWrapper

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return CustomModelWrapper(base_model=model, idata=idata, channels=CHANNELS, **kwargs)


def test_a_legacy_custom_model_wrapper_is_accepted():
    model, idata = log_model()
    view = ModelView.from_wrapper("platform", wrapper(model, idata), "total")
    direct = ModelView("platform", model, idata, "total")
    assert view.channels == direct.channels == tuple(CHANNELS)
    xr.testing.assert_identical(view.posterior, direct.posterior)


def test_a_wrapper_reading_another_spend_input_is_refused_with_the_fix():
    model, idata = log_model("spend")
    legacy = wrapper(model, idata, channel_data_var="spend")
    with pytest.raises(ValueError, match="every view must read 'channel_data'"):
        ModelView.from_wrapper("platform", legacy, "total")


def geo_view(name, alpha, seed):
    """Michaelis-Menten draws over (geo, channel): budgets are per geo and channel."""
    rng = np.random.default_rng(seed)
    shape = (1, 30, 2, 2)
    posterior = xr.Dataset(
        {
            "alpha": (("chain", "draw", "geo", "channel"), alpha * rng.lognormal(0, 0.05, shape)),
            "lam": (("chain", "draw", "geo", "channel"), 2.0 * rng.lognormal(0, 0.05, shape)),
        },
        coords={"geo": ["north", "south"], "channel": CHANNELS},
    )
    return CurveView(name, posterior)


def test_budget_dims_beyond_channel_are_allocated_per_cell():
    views = [
        geo_view("mmm", np.array([[3.0, 1.0], [1.0, 1.0]]), 1),
        geo_view("lift", np.array([[1.0, 1.0], [1.0, 3.0]]), 2),
    ]
    allocator = RobustAllocator(views, num_periods=2)
    assert allocator.budget_coords == {"geo": ("north", "south"), "channel": tuple(CHANNELS)}
    bounds = xr.DataArray(
        np.tile([0.0, 6.0], (2, 2, 1)),
        dims=("geo", "channel", "bound"),
        coords={"geo": ["north", "south"], "channel": CHANNELS, "bound": ["lower", "upper"]},
    )
    result = allocator.allocate(10.0, bounds)
    minimax = result.plan("minimax")
    assert set(minimax.dims) == {"geo", "channel"}
    assert float(minimax.sum()) == pytest.approx(10.0, abs=1e-6)
    assert float(minimax.max()) <= 6.0 + 1e-6
    # Each view's optimum favours its strongest cell; minimax hedges between them.
    assert float(result.plan("mmm").sel(geo="north", channel="tv")) > float(
        minimax.sel(geo="north", channel="tv")
    )
    worst = result.regret_matrix["max regret"]
    assert worst.idxmin() == "minimax"
