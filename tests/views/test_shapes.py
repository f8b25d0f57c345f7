"""CurveShape: one wiring of adstock then saturation, shared by views and fits."""

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from pymc_marketing.mmm import GeometricAdstock, HillSaturation

from pymc_robust_alloc import CurveShape, CurveView, Horizon


def geometric_mm(spend, alpha, lam, retention, l_max):
    """NumPy reference: normalised geometric adstock along axis 0, then Michaelis-Menten."""
    weights = retention[None, :] ** np.arange(l_max)[:, None]
    weights = weights / weights.sum(axis=0)
    lagged = np.zeros_like(spend)
    for lag, w in enumerate(weights):
        lagged[lag:] += w * spend[: len(spend) - lag]
    return alpha * lagged / (lam + lagged)


def test_shape_evaluates_the_pymc_marketing_component():
    shape = CurveShape("michaelis_menten")
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    got = shape.evaluate(x, {"alpha": [2.0, 3.0], "lam": [1.0, 2.0]})
    np.testing.assert_allclose(got, [[0.0, 1.0], [4 / 3, 9 / 5]])


def test_shape_applies_the_adstock_then_the_saturation():
    rng = np.random.default_rng(0)
    spend = rng.uniform(0, 5, size=(9, 3))
    params = {
        "alpha": rng.uniform(1, 3, 3),
        "lam": rng.uniform(0.5, 2, 3),
        "adstock_alpha": rng.uniform(0.1, 0.9, 3),
    }
    shape = CurveShape("michaelis_menten", GeometricAdstock(l_max=4))
    expected = geometric_mm(spend, params["alpha"], params["lam"], params["adstock_alpha"], 4)
    np.testing.assert_allclose(shape.evaluate(spend, params), expected, rtol=1e-10)


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e9])
@pytest.mark.parametrize("saturation", ["michaelis_menten", "hill", "logistic"])
def test_parameters_converted_to_raw_units_give_the_scaled_curve(saturation, scale):
    shape = CurveShape(saturation)
    spend = np.linspace(0.1, 3.0, 7)[:, None]
    params = {p: np.array([1.5]) for p in shape.params}
    spend_scale, response_scale = 3.0 * scale, 7.0 / scale
    raw = {p: shape.to_raw(p, v, spend_scale, response_scale) for p, v in params.items()}
    np.testing.assert_allclose(
        shape.evaluate(spend * spend_scale, raw),
        response_scale * shape.evaluate(spend, params),
        rtol=1e-9,
    )


def test_view_model_and_shape_compute_the_same_contribution():
    rng = np.random.default_rng(1)
    values = {"alpha": [2.0, 1.0], "lam": [1.0, 3.0], "adstock_alpha": [0.5, 0.2]}
    draws = xr.Dataset(
        {p: (("chain", "draw", "channel"), np.array(v)[None, None]) for p, v in values.items()},
        coords={"channel": ["tv", "radio"]},
    )
    shape = CurveShape(adstock={"type": "geometric", "l_max": 3})
    view = CurveView("v", draws, shape)
    horizon = Horizon(num_periods=4, adstock_periods=view.adstock_periods)
    model = view.build(horizon, view.budget_coords)
    spend = rng.uniform(0, 4, size=(horizon.length, 2))
    pm.set_data({"channel_data": spend}, model=model)
    inputs = {model[p]: np.array(v) for p, v in values.items()}
    contribution = model["channel_contribution"].values.eval(inputs, mode="FAST_COMPILE")
    np.testing.assert_allclose(contribution, shape.evaluate(spend, values), rtol=1e-10)


def test_a_view_takes_a_shape_or_its_saturation_and_adstock():
    ones = np.ones((1, 4, 1))
    dims = ("chain", "draw", "channel")
    draws = xr.Dataset(
        {"slope": (dims, ones), "kappa": (dims, ones), "beta": (dims, ones)},
        coords={"channel": ["tv"]},
    )
    by_shape = CurveView("v", draws, CurveShape("hill"))
    by_name = CurveView("v", draws, saturation="hill")
    assert isinstance(by_name.saturation, HillSaturation)
    assert by_shape.shape.params == by_name.shape.params == ("slope", "kappa", "beta")
    with pytest.raises(TypeError, match="adstock inside the CurveShape"):
        CurveView("v", draws, CurveShape("hill"), GeometricAdstock(l_max=2))
    with pytest.raises(TypeError, match="pass the curve once"):
        CurveView("v", draws, CurveShape("hill"), saturation="hill")
