import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pymc_robust_alloc.fit import (
    as_spend_response,
    check_lift_tests,
    fit_least_squares,
    fit_lift_tests,
    read_table,
    view_from_draws,
)
from tests.fit.data import lift_tests, table


def test_long_and_wide_tables_give_the_same_arrays():
    long = table(0, n=10)
    wide = long.pivot(index="date", columns="channel", values=["spend", "response"])
    wide.columns = [f"{c}_{v}" for v, c in wide.columns]
    wide = wide.reset_index()
    a, b = as_spend_response(long), as_spend_response(wide)
    xr.testing.assert_allclose(a, b.sel(channel=a["channel"].values))


def test_negative_spend_is_refused_naming_the_channel():
    bad = table(0, n=10)
    bad.loc[3, "spend"] = -1.0
    with pytest.raises(ValueError, match=r"non-negative.*\['search'\]"):
        as_spend_response(bad)


def test_missing_spend_is_refused():
    bad = table(0, n=10)
    bad.loc[4, "spend"] = np.nan
    with pytest.raises(ValueError, match="missing or non-numeric 'spend'"):
        as_spend_response(bad)


def test_all_zero_channel_cannot_be_identified():
    bad = table(0, n=10)
    bad.loc[bad["channel"] == "display", "spend"] = 0.0
    with pytest.raises(ValueError, match=r"\['display'\] have zero spend.*cannot be identified"):
        fit_least_squares(bad, n_draws=2)


def test_too_few_points_for_the_shape():
    small = table(0, n=2)
    with pytest.raises(ValueError, match="Too few points for the shape"):
        fit_least_squares(small, n_draws=2)


def test_missing_dates_are_refused():
    bad = table(0, n=10).drop(index=[0])
    with pytest.raises(ValueError, match="row for every date"):
        as_spend_response(bad)


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("sigma", 0.0, "sigma > 0"),
        ("sigma", -1.0, "sigma > 0"),
        ("delta_x", 0.0, "delta_x > 0"),
        ("delta_x", -2.0, "delta_x > 0"),
        ("delta_y", np.nan, "non-numeric"),
    ],
)
def test_bad_lift_tests_are_refused(column, value, match):
    tests = lift_tests(0)
    tests.loc[1, column] = value
    with pytest.raises(ValueError, match=match):
        check_lift_tests(tests)


def test_channel_without_lift_test_needs_a_prior():
    with pytest.raises(ValueError, match=r"channels \['tv'\] have no lift test"):
        fit_lift_tests(lift_tests(0), channels=["search", "social", "tv"])


def test_draws_from_a_frame_and_a_datatree_agree():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "draw": np.tile(np.arange(5), 2),
            "channel": np.repeat(["a", "b"], 5),
            "alpha": rng.uniform(1, 2, 10),
            "lam": rng.uniform(1, 2, 10),
        }
    )
    view = view_from_draws(frame).view
    tree = xr.DataTree.from_dict({"posterior": view.posterior})
    xr.testing.assert_equal(view_from_draws(tree).view.posterior, view.posterior)


def test_draws_outside_the_support_are_refused():
    frame = pd.DataFrame({"draw": [0, 1], "channel": "a", "alpha": [1.0, 2.0], "lam": [1.0, -1.0]})
    with pytest.raises(ValueError, match="'lam' must be positive"):
        view_from_draws(frame)


def test_channel_labels_that_do_not_match_are_named():
    frame = pd.DataFrame(
        {"draw": [0, 1], "channel": "Search", "alpha": [1.0, 2.0], "lam": [1.0, 1.0]}
    )
    with pytest.raises(ValueError, match=r"missing \['search'\], extra \['Search'\]"):
        view_from_draws(frame, channels=["search"])


def test_input_file_is_not_modified(tmp_path):
    path = tmp_path / "t.csv"
    table(0, n=10).to_csv(path, index=False)
    before = path.read_bytes()
    fit_least_squares(read_table(path), n_draws=3, random_seed=0)
    assert path.read_bytes() == before


def test_text_dates_are_sorted_in_time_not_as_text():
    from pymc_robust_alloc.fit import as_spend_response

    table = pd.DataFrame(
        {
            "date": ["01/08/2024", "12/18/2023", "12/25/2023"],
            "channel": "tv",
            "spend": [3.0, 1.0, 2.0],
            "response": [30.0, 10.0, 20.0],
        }
    )
    data = as_spend_response(table)
    assert data["spend"].sel(channel="tv").values.tolist() == [1.0, 2.0, 3.0]
    assert str(data["date"].values[0])[:10] == "2023-12-18"


def test_ambiguous_text_dates_ask_for_date_format():
    from pymc_robust_alloc.fit import as_spend_response

    table = pd.DataFrame(
        {
            "date": ["01/08/2024", "02/08/2024", "03/08/2024"],
            "channel": "tv",
            "spend": [1.0, 2.0, 3.0],
            "response": [10.0, 20.0, 30.0],
        }
    )
    with pytest.raises(ValueError, match=r"date_format='%m/%d/%Y' or date_format='%d/%m/%Y'"):
        as_spend_response(table)
    data = as_spend_response(table, date_format="%d/%m/%Y")
    assert [str(d)[:10] for d in data["date"].values] == ["2024-08-01", "2024-08-02", "2024-08-03"]
    with pytest.raises(ValueError, match="do not match date_format='%Y-%m-%d'"):
        as_spend_response(table, date_format="%Y-%m-%d")
