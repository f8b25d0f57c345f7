"""Outcomes in business units, and results that persist (NetCDF DataTree, JSON)."""

import json

import numpy as np
import pytest
import xarray as xr

from pymc_robust_alloc import AllocationResult, CurveView, RobustAllocator
from tests.conftest import BOUNDS, BUDGET, PERIODS, REFERENCE, numpy_responses, numpy_values


@pytest.mark.parametrize("interval", [0.9, 0.5])
def test_outcome_intervals_are_numpy_quantiles_of_the_draws(success_result, views, interval):
    out = success_result.outcomes(interval=interval)
    tails = [(1 - interval) / 2, (1 + interval) / 2]
    for name in success_result.plans["plan"].values:
        plan = success_result.plan(str(name)).sel(channel=["search", "social", "display"])
        draws = numpy_responses(views, plan.values)  # curve views: zero plan responds 0
        low, high = np.quantile(draws, tails, axis=-1)
        np.testing.assert_allclose(out["lower"].sel(plan=name).values, low, rtol=1e-9)
        np.testing.assert_allclose(out["upper"].sel(plan=name).values, high, rtol=1e-9)
        np.testing.assert_allclose(
            out["expected"].sel(plan=name).values, draws.mean(axis=-1), rtol=1e-9
        )


def test_change_is_against_the_reference_plan(success_result, views):
    out = success_result.outcomes()
    reference = numpy_values(views, list(REFERENCE.values()))
    plan = success_result.plan("minimax").sel(channel=list(REFERENCE)).values
    change = numpy_values(views, plan) - reference
    np.testing.assert_allclose(out["change"].sel(plan="minimax").values, change, rtol=1e-7)
    np.testing.assert_allclose(
        out["change_share"].sel(plan="minimax").values, change / reference, rtol=1e-7
    )
    assert float(np.abs(out["change"].sel(plan="reference")).max()) == 0.0


def test_returns_are_outcome_per_unit_of_spend_over_the_horizon(success_result, views):
    out = success_result.outcomes()
    channels = list(REFERENCE)
    plan = success_result.plan("minimax").sel(channel=channels).values
    spend = BUDGET * PERIODS
    np.testing.assert_allclose(
        out["return_on_spend"].sel(plan="minimax").values,
        numpy_values(views, plan) / spend,
        rtol=1e-9,
    )
    for i, channel in enumerate(channels):
        without = plan.copy()
        without[i] = 0.0
        contribution = numpy_values(views, plan) - numpy_values(views, without)
        np.testing.assert_allclose(
            out["channel_return"].sel(plan="minimax", channel=channel).values,
            contribution / (plan[i] * PERIODS),
            rtol=1e-7,
        )
    table = success_result.outcome_table()
    assert set(table.index.get_level_values("view")) == set(success_result.views)
    assert "change" in table.columns


def test_outcomes_are_never_added_across_views(success_result):
    out = success_result.outcomes()
    for name in out.data_vars:
        assert "view" in out[name].dims or name in ("spend", "channel_spend")


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.5, -0.1])
def test_an_interval_outside_zero_one_is_refused(success_result, bad):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        success_result.outcomes(interval=bad)
    with pytest.raises(TypeError, match="number in"):
        success_result.outcomes(interval="90%")


def test_units_of_an_unknown_view_are_refused(allocator):
    with pytest.raises(ValueError, match=r"unknown views \['geo'\]"):
        allocator.allocate(BUDGET, BOUNDS, units={"outcome": {"geo": "sales"}})
    with pytest.raises(ValueError, match="unknown keys"):
        allocator.allocate(BUDGET, BOUNDS, units={"currency": "EUR"})


def _small(scale_spend: float, scale_response: float):
    channels = ["tv", "radio"]
    views = [
        CurveView.from_estimates(
            name,
            {"alpha": list(np.multiply(alpha, scale_response)), "lam": [2.0 * scale_spend] * 2},
            0.1,
            channels=channels,
            draws=40,
            random_seed=seed,
        )
        for name, alpha, seed in [("mmm", [2.0, 1.0], 1), ("lift", [1.0, 2.0], 2)]
    ]
    allocator = RobustAllocator(views, num_periods=2)
    return allocator.allocate(
        5.0 * scale_spend,
        units={"spend": "k$/week", "outcome": "sales"},
        candidates={"current": {"tv": 4.0 * scale_spend, "radio": 1.0 * scale_spend}},
    )


@pytest.fixture(scope="module")
def small():
    return _small(1.0, 1.0)


@pytest.mark.parametrize("spend, response", [(1e-6, 1e9), (1e9, 1e-6)])
def test_outcomes_follow_the_units_of_spend_and_response(small, spend, response):
    a, b = small.outcomes(), _small(spend, response).outcomes()
    for name in ("expected", "lower", "upper", "change"):
        np.testing.assert_allclose(b[name].values, a[name].values * response, rtol=1e-6)
    np.testing.assert_allclose(b["change_share"], a["change_share"], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(
        b["return_on_spend"].values, a["return_on_spend"].values * response / spend, rtol=1e-6
    )
    assert list(b["outcome_unit"].values) == ["sales", "sales"]
    assert b.attrs["spend_unit"] == "k$/week"
    assert b.attrs["baseline"] == "current"


def test_netcdf_round_trip_keeps_every_number(result, tmp_path):
    path = result.to_netcdf(tmp_path / "result.nc")
    loaded = AllocationResult.from_netcdf(path)
    assert loaded.equals(result)
    for name in ("plans", "value", "regret", "increments", "quantile_regret", "quantile_optima"):
        np.testing.assert_array_equal(getattr(loaded, name).values, getattr(result, name).values)
    assert loaded.regret_matrix.equals(result.regret_matrix)
    assert loaded.convergence.equals(result.convergence)
    assert loaded.certificate.equals(result.certificate)
    assert not loaded.equals(result.__class__(**{**vars(result), "settings": {}}))


def test_json_round_trip_keeps_every_number(success_result, tmp_path):
    text = json.dumps(success_result.to_dict())
    loaded = AllocationResult.from_dict(json.loads(text))
    assert loaded.equals(success_result)
    np.testing.assert_array_equal(
        loaded.success_probability.values, success_result.success_probability.values
    )
    np.testing.assert_array_equal(loaded.contribution.values, success_result.contribution.values)
    path = success_result.to_json(tmp_path / "result.json")
    assert AllocationResult.from_json(path).equals(success_result)


def test_saving_onto_an_existing_file_needs_overwrite(result, tmp_path):
    path = tmp_path / "result.nc"
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        result.to_netcdf(path)
    assert path.read_text() == "keep me"
    with pytest.raises(FileExistsError, match="overwrite=True"):
        result.to_json(path)
    result.to_netcdf(path, overwrite=True)
    assert AllocationResult.from_netcdf(path).equals(result)


def test_loading_a_file_that_is_not_a_result_says_what_it_is(tmp_path):
    text = tmp_path / "notes.nc"
    text.write_text("not netcdf")
    with pytest.raises(ValueError, match="not a NetCDF-4/HDF5 file"):
        AllocationResult.from_netcdf(text)
    posterior = tmp_path / "posterior.nc"
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset({"alpha": ("draw", np.arange(3.0))})})
    tree.to_netcdf(posterior, engine="h5netcdf")
    with pytest.raises(ValueError, match=r"groups \['posterior'\].*ArviZ InferenceData"):
        AllocationResult.from_netcdf(posterior)
    other = tmp_path / "other.json"
    other.write_text('{"plans": {}}')
    with pytest.raises(ValueError, match=r"not a saved AllocationResult: it is JSON with keys"):
        AllocationResult.from_json(other)
    with pytest.raises(FileNotFoundError):
        AllocationResult.from_netcdf(tmp_path / "missing.nc")
