import numpy as np
import pymc as pm
import pytest
import xarray as xr

from pymc_robust_alloc import CurveView, ModelView, merge_views
from pymc_robust_alloc.demo import demo_views


def curve(name, channels, draws=20):
    n = len(channels)
    return CurveView.from_estimates(
        name, {"alpha": [1.0] * n, "lam": [2.0] * n}, 0.1, channels=channels, draws=draws
    )


def test_merged_model_exposes_each_view_and_the_regret_vector():
    merged = merge_views(demo_views(draws=30), num_periods=3)
    names = set(merged.model.named_vars)
    assert {"view_response", "regression_response"} <= names
    assert merged.model.named_vars_to_dims["view_response"] == ("view",)
    assert merged.idata["posterior"].sizes["draw"] == 30


def test_every_view_keeps_all_its_draws_first_in_the_merged_chain():
    a, b = curve("a", ["x", "y"], 30), curve("b", ["x", "y"], 20)
    merged = merge_views([a, b], 2)
    posterior = merged.idata["posterior"]
    assert posterior.sizes["draw"] == 30
    assert merged.view_draws == {"a": 30, "b": 20}
    assert not any(bool(posterior[v].isnull().any()) for v in posterior.data_vars)
    own = b.posterior["alpha"].stack(sample=("chain", "draw")).transpose("sample", ...)
    np.testing.assert_array_equal(posterior["b_alpha"].values[0, :20], own.values)


def test_thinning_is_explicit_and_caps_each_view():
    merged = merge_views([curve("a", ["x"], 30), curve("b", ["x"], 20)], 2, n_draws=25)
    assert merged.view_draws == {"a": 25, "b": 20}
    assert merged.available_draws == {"a": 30, "b": 20}
    with pytest.raises(ValueError, match="n_draws must be an integer of at least 2"):
        merge_views([curve("a", ["x"], 30), curve("b", ["x"], 20)], 2, n_draws=1)


def test_different_channel_sets_are_refused():
    with pytest.raises(ValueError, match=r"disagree on 'channel'.*only in 'b': \['z'\]"):
        merge_views([curve("a", ["x", "y"]), curve("b", ["x", "z"])], 2)


def test_different_budget_dims_are_refused():
    geo = curve("b", ["x", "y"])
    draws = geo.posterior.expand_dims(geo=["north", "south"]).transpose(
        "chain", "draw", "channel", "geo"
    )
    with pytest.raises(ValueError, match="budget dims"):
        merge_views([curve("a", ["x", "y"]), CurveView("b", draws)], 2)


def test_duplicate_view_names_are_refused():
    with pytest.raises(ValueError, match="Duplicate view names"):
        merge_views([curve("a", ["x"]), curve("a", ["x"])], 2)


def test_fewer_than_two_views_are_refused():
    with pytest.raises(ValueError, match="At least two views"):
        merge_views([curve("a", ["x"])], 2)


def test_nan_draws_are_refused():
    draws = curve("a", ["x", "y"]).posterior.copy(deep=True)
    draws["alpha"][0, 3, 1] = np.nan
    with pytest.raises(ValueError, match=r"non-finite draws in \['alpha'\]"):
        CurveView("bad", draws)


def test_a_model_written_with_plain_pm_is_refused_with_the_fix():
    with pm.Model(coords={"date": range(3), "channel": ["x"]}) as model:
        x = pm.Data("channel_data", np.ones((3, 1)), dims=("date", "channel"))
        beta = pm.HalfNormal("beta", dims="channel")
        pm.Deterministic("total", (beta * x).sum())
    post = xr.Dataset(
        {"beta": (("chain", "draw", "channel"), np.ones((1, 4, 1)))}, coords={"channel": ["x"]}
    )
    with pytest.raises(TypeError, match=r"pymc\.dims"):
        ModelView("plain", model, xr.DataTree.from_dict({"posterior": post}), "total")


def test_a_model_without_the_spend_input_is_refused():
    import pymc.dims as pmd

    with pm.Model(coords={"date": range(3), "channel": ["x"]}) as model:
        x = pmd.Data("spend", np.ones((3, 1)), dims=("date", "channel"))
        pmd.Deterministic("total", x.sum())
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(coords={"chain": [0], "draw": [0]})})
    with pytest.raises(ValueError, match="no spend input 'channel_data'"):
        ModelView("v", model, tree, "total")


def test_a_model_view_merges_with_curve_views_and_is_not_mutated():
    import pymc.dims as pmd

    coords = {"date": range(4), "channel": ["y", "x"]}
    with pm.Model(coords=coords) as model:
        x = pmd.Data("channel_data", np.ones((4, 2)), dims=("date", "channel"))
        beta = pmd.HalfNormal("beta", dims="channel")
        pmd.Deterministic("total", (beta * pmd.math.log1p(x)).sum())
    post = xr.Dataset(
        {"beta": (("chain", "draw", "channel"), np.full((1, 20, 2), 2.0))},
        coords={"channel": ["y", "x"]},
    )
    view = ModelView("platform", model, xr.DataTree.from_dict({"posterior": post}), "total")
    merged = merge_views([curve("a", ["x", "y"]), view], num_periods=3)
    assert merged.budget_coords["channel"] == ("x", "y")
    assert model["channel_data"].get_value().shape == (4, 2)


# --------------------------------------------------------------------------------------
# PreparedViews.key: what a build's disk cache is keyed by, before any merge


def seeded(name, channels, draws=20):
    n = len(channels)
    return CurveView.from_estimates(
        name,
        {"alpha": [1.0] * n, "lam": [2.0] * n},
        0.1,
        channels=channels,
        draws=draws,
        random_seed=0,
    )


def _key(views, num_periods=2, n_draws=None):
    from pymc_robust_alloc.merge import prepare_views

    return prepare_views(views, num_periods, n_draws=n_draws).key()


def test_the_key_is_the_inputs_not_the_objects():
    first = _key([seeded("a", ["x", "y"]), seeded("b", ["x", "y"])])
    assert first is not None
    assert first == _key([seeded("a", ["x", "y"]), seeded("b", ["x", "y"])])


@pytest.mark.parametrize(
    "other",
    [
        lambda: _key([seeded("a", ["x", "y"], draws=21), seeded("b", ["x", "y"])]),  # draws
        lambda: _key([seeded("a", ["x", "y"]), seeded("c", ["x", "y"])]),  # a name
        lambda: _key([seeded("b", ["x", "y"]), seeded("a", ["x", "y"])]),  # the order
        lambda: _key([seeded("a", ["y", "x"]), seeded("b", ["y", "x"])]),  # channel order
        lambda: _key([seeded("a", ["x", "y"]), seeded("b", ["x", "y"])], num_periods=3),
        lambda: _key([seeded("a", ["x", "y"]), seeded("b", ["x", "y"])], n_draws=10),
    ],
)
def test_the_key_changes_with_anything_the_merged_model_is_made_of(other):
    assert _key([seeded("a", ["x", "y"]), seeded("b", ["x", "y"])]) != other()


def test_the_key_reads_the_values_of_a_view_s_data():
    from pymc_robust_alloc.merge import prepare_views

    prepared = prepare_views([seeded("a", ["x"]), seeded("b", ["x"])], 2)
    before = prepared.key()
    spend = prepared.models[0]["channel_data"]
    spend.set_value(spend.get_value() + 1.0)  # e.g. an MMM's carry-in history
    assert prepared.key() != before
