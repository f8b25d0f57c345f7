"""Loading a config: every objective, constraint and bound checked, errors on their line."""

import numpy as np
import pytest

from pymc_robust_alloc.config import ConfigError, RunConfig, load_config
from pymc_robust_alloc.config.run import allocation_kwargs, bounds_array

HEAD = """\
views:
  vendor: {source: draws, path: draws.csv}
budget:
  total: 60.0
  num_periods: 4
"""


def load(tmp_path, text, name="c.yaml"):
    (tmp_path / "draws.csv").write_text("draw,channel,alpha,lam\n")
    path = tmp_path / name
    path.write_text(text)
    return load_config(path)


@pytest.mark.parametrize(
    ("objectives", "match"),
    [
        (
            "  risk_averse: {quantil: 0.1}\n",
            r"line 7: 'objectives.risk_averse.quantil' is not a known key. "
            r"Known keys here: \['quantile'\]",
        ),
        ("  risk_averse: {quantile: 1.5}\n", r"line 7: 'objectives.risk_averse.quantile': .*less"),
        ("  weighted: {}\n", r"line 7: 'objectives.weighted.weights' is required"),
        ("  success: {reference_plan: {a: 1}, gain: 0.1}\n", r"'objectives.success.gain' is not"),
    ],
)
def test_each_objective_is_checked_by_its_own_model(tmp_path, objectives, match):
    with pytest.raises(ConfigError, match=match):
        load(tmp_path, HEAD + "objectives:\n" + objectives)


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ("{channels: [a], maxshare: 0.4}", r"line 7: 'constraints.0.maxshare' is not a known key"),
        ("{channels: [a]}", r"line 7: 'constraints.0': .*at least one of min, max"),
        ("{channels: [a], min: 5, max: 2}", r"min \(5\) exceeds max \(2\)"),
        ("{function: not a path}", r"'constraints.0.function': String should match"),
    ],
)
def test_constraint_entries_are_checked_on_their_line(tmp_path, entry, match):
    with pytest.raises(ConfigError, match=match):
        load(tmp_path, HEAD + "constraints:\n  - " + entry + "\n")


def test_valid_constraints_load(tmp_path):
    config, _ = load(
        tmp_path,
        HEAD + "constraints:\n  - {channels: [tv, radio], max_share: 0.4}\n"
        "  - {function: 'pkg.mod:make', cap: 3}\n",
    )
    assert config.constraints[0].max_share == 0.4
    assert config.constraints[1].model_extra == {"cap": 3}


def test_toml_array_of_tables_errors_name_the_entry_line(tmp_path):
    text = (
        "[budget]\ntotal = 10.0\nnum_periods = 2\n[views.a]\nsource = 'draws'\npath = 'draws.csv'\n"
        "[[portfolio]]\nname = 'one'\n[[portfolio]]\nname = 'two'\nbudgets = 3\n"
    )
    with pytest.raises(ConfigError, match=r"line 11: portfolio entry 'two' overrides 'budgets'"):
        load(tmp_path, text, "c.toml")


def test_per_cell_bounds_fill_every_cell_of_the_views():
    coords = {"channel": ["tv", "web"], "geo": ["north", "south", "east"]}
    cells = bounds_array({"tv": {"south": (1, 20)}, "web": (5, 50)}, coords, 100.0)
    assert cells.dims == ("channel", "geo", "bound")
    assert cells.sel(channel="tv").values.tolist() == [[0, 100], [1, 20], [0, 100]]
    assert cells.sel(channel="web", bound="lower").values.tolist() == [5, 5, 5]
    assert bounds_array({"tv": (0, 9)}, coords, 100.0) == {"tv": (0, 9)}


@pytest.mark.parametrize(
    ("bounds", "coords", "match"),
    [
        ({"tv": {"west": (0, 1)}}, {"channel": ["tv"], "geo": ["north"]}, r"unknown geo 'west'"),
        ({"tv": {"north": (0, 1)}}, {"channel": ["tv"]}, "exactly one dim besides channel"),
        ({"radio": {"north": (0, 1)}}, {"channel": ["tv"], "geo": ["north"]}, "unknown channel"),
    ],
)
def test_bad_per_cell_bounds_say_what_the_views_have(bounds, coords, match):
    with pytest.raises(ConfigError, match=match):
        bounds_array(bounds, coords, 10.0)


def test_per_cell_bounds_of_a_config_bound_every_plan_per_geo(geo_allocator):
    config = RunConfig.model_validate(
        {
            "views": {},
            "budget": {"total": 10.0, "bounds": {"search": {"north": [0, 1]}, "social": [1, 4]}},
        }
    )
    with pytest.raises(ConfigError, match="per cell"):
        allocation_kwargs(config)
    kwargs = allocation_kwargs(config, geo_allocator.budget_coords)
    plans = geo_allocator.allocate(10.0, kwargs["bounds"]).plans
    assert float(plans.sel(channel="search", geo="north").max()) <= 1 + 1e-6
    social = plans.sel(channel="social")
    assert float(social.min()) >= 1 - 1e-6 and float(social.max()) <= 4 + 1e-6
    np.testing.assert_allclose(plans.sum(["channel", "geo"]), 10.0, rtol=1e-9)
