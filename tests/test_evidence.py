"""Evidence ranges and the extrapolated share of each plan's value, against NumPy."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pymc_robust_alloc import CurveView, RobustAllocator
from pymc_robust_alloc.evidence import (
    as_evidence,
    evidence_from_lift_tests,
    evidence_from_spend,
    extrapolated_share,
)
from pymc_robust_alloc.fit import fit_least_squares
from tests.fit.data import table

CHANNELS = ["search", "social", "display"]
PERIODS = 2
BUDGET = 90.0
#: The lift tests' range: above most plans' spend on search, around it elsewhere.
TESTED = {"search": (20.0, 35.0), "social": (25.0, 40.0), "display": (5.0, 15.0)}


def _view(name, alpha, seed, evidence=None):
    return CurveView.from_estimates(
        name,
        {"alpha": alpha, "lam": [20.0, 30.0, 10.0]},
        0.2,
        channels=CHANNELS,
        draws=60,
        random_seed=seed,
        evidence=evidence,
    )


@pytest.fixture(scope="module")
def views():
    return [
        _view("regression", [60.0, 40.0, 20.0], 1, evidence={"search": (0.0, 80.0)}),
        _view("experiment", [30.0, 70.0, 25.0], 2, evidence=TESTED),
        _view("vendor", [40.0, 40.0, 40.0], 3),
    ]


@pytest.fixture(scope="module")
def allocator(views):
    return RobustAllocator(views, num_periods=PERIODS)


@pytest.fixture(scope="module")
def result(allocator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return allocator.allocate(BUDGET)


def _numpy_share(view, plan, lower, upper):
    """1 - (V(clip(a)) - V(l)) / V(a) with Michaelis-Menten draws, in NumPy."""
    alpha = view.posterior["alpha"].sel(channel=CHANNELS).values.reshape(-1, 3)
    lam = view.posterior["lam"].sel(channel=CHANNELS).values.reshape(-1, 3)

    def value(x):
        return PERIODS * (alpha * x / (lam + x)).sum(axis=1).mean()

    return 1 - (value(np.clip(plan, lower, upper)) - value(lower)) / value(plan)


def test_extrapolated_shares_match_numpy(views, result):
    lower = np.array([TESTED[c][0] for c in CHANNELS])
    upper = np.array([TESTED[c][1] for c in CHANNELS])
    for name in result.plans["plan"].values:
        plan = result.plans.sel(plan=name, channel=CHANNELS).values
        expected = _numpy_share(views[1], plan, lower, upper)
        got = float(result.extrapolation.sel(plan=name, view="experiment"))
        assert got == pytest.approx(expected, rel=1e-9)
        assert 0 <= got <= 1
    # V*'s share is that of the view's own optimum.
    assert float(result.v_star_extrapolation.sel(view="experiment")) == pytest.approx(
        float(result.extrapolation.sel(plan="experiment", view="experiment"))
    )


def test_unknown_evidence_gives_unknown_shares(result):
    # regression knows search only; vendor declares nothing.
    assert result.extrapolation.sel(view=["regression", "vendor"]).isnull().all()
    assert result.evidence.sel(view="vendor").isnull().all()
    assert float(result.evidence.sel(view="regression", channel="search", bound="upper")) == 80.0


def test_extrapolation_shares_are_unit_free(views, result):
    lower = np.array([[TESTED[c][0] for c in CHANNELS]])
    upper = np.array([[TESTED[c][1] for c in CHANNELS]])
    plans = {"a": np.array([50.0, 30.0, 10.0])}
    alpha = views[1].posterior["alpha"].sel(channel=CHANNELS).values.reshape(-1, 3)
    lam = views[1].posterior["lam"].sel(channel=CHANNELS).values.reshape(-1, 3)
    shares = []
    for k in (1e-6, 1.0, 1e9):  # spend in other units, response in other units

        def evaluate(a, k=k):
            return np.array([1 / k * (alpha * (a / k) / (lam + a / k)).sum(axis=1).mean()])

        shares.append(extrapolated_share(evaluate, {"a": plans["a"] * k}, lower * k, upper * k))
    np.testing.assert_allclose(np.ravel(shares), np.ravel(shares[1])[0], rtol=1e-9)


def test_a_decision_on_extrapolation_warns_with_a_configurable_threshold(allocator):
    with pytest.warns(UserWarning, match=r"outside the range their evidence covers.*experiment"):
        allocator.allocate(BUDGET, extrapolation_threshold=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        allocator.allocate(BUDGET, extrapolation_threshold=1.0)
    with pytest.raises(ValueError, match="extrapolation_threshold must be in"):
        allocator.allocate(BUDGET, extrapolation_threshold=1.5)


def test_fitted_views_know_their_evidence():
    data = table(0, n=20)
    fitted = fit_least_squares(data, n_draws=3, random_seed=0)
    spend = data.groupby("channel")["spend"]
    for channel in fitted.view.channels:
        lower, upper = fitted.view.evidence.sel(channel=channel).values
        assert (lower, upper) == (spend.min()[channel], spend.max()[channel])
    tests = pd.DataFrame(
        {
            "channel": ["tv", "tv", "radio"],
            "x": [10.0, 30.0, 5.0],
            "delta_x": [5.0, 10.0, 1.0],
            "delta_y": [1.0, 1.0, 1.0],
            "sigma": [0.1, 0.1, 0.1],
        }
    )
    ranges = evidence_from_lift_tests(tests, ["tv", "radio", "print"])
    assert ranges.values.tolist() == [[10.0, 40.0], [5.0, 6.0], [0.0, 0.0]]


def test_spend_ranges_cover_geo_cells():
    spend = xr.DataArray(
        np.arange(12.0).reshape(3, 2, 2),
        dims=("date", "channel", "geo"),
        coords={"channel": ["tv", "radio"], "geo": ["n", "s"]},
    )
    ranges = evidence_from_spend(spend)
    assert ranges.sel(channel="radio", geo="s").values.tolist() == [3.0, 11.0]


COORDS = {"channel": ("tv", "radio")}


@pytest.mark.parametrize(
    ("evidence", "match"),
    [
        ({"tv": (20.0, 10.0)}, "lower > upper"),
        ({"tv": (-1.0, 10.0)}, "negative spend"),
        ({"tv": (np.nan, 10.0)}, "half known"),
        ({"tv": (1.0, np.inf)}, "half known or infinite"),
        ({"print": (1.0, 2.0)}, "unknown channels"),
        ({"tv": 3.0}, "must be a pair"),
        (xr.DataArray([[1.0, 2.0]], dims=("region", "bound")), "budget dims among"),
    ],
)
def test_bad_evidence_ranges_are_refused(evidence, match):
    with pytest.raises(ValueError, match=match):
        as_evidence(evidence, COORDS, "view 'v'")


def test_bad_evidence_is_refused_by_the_view():
    with pytest.raises(ValueError, match=r"view 'lift'.*lower > upper"):
        _view("lift", [1.0, 1.0, 1.0], 0, evidence={"search": (5.0, 1.0)})
    with pytest.raises(TypeError, match="evidence must be a mapping"):
        _view("lift", [1.0, 1.0, 1.0], 0, evidence=[(0.0, 1.0)])
