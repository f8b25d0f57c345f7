"""Every bad input gets a clear error at the public boundary (no optimisation here)."""

import numpy as np
import pytensor
import pytest
import xarray as xr
from pymc_marketing.mmm import GeometricAdstock
from pymc_marketing.mmm.components.saturation import (
    HillSaturationSigmoid,
    MichaelisMentenSaturation,
    TanhSaturationBaselined,
)

from pymc_robust_alloc import CurveView, Horizon, View
from pymc_robust_alloc.budget import as_bounds, as_plan
from pymc_robust_alloc.checks import (
    check_num_periods,
    check_quantile,
    check_total_budget,
    check_weights,
)
from pymc_robust_alloc.utility import (
    minimax_regret,
    normalized_regret,
    risk_averse_regret,
    view_values,
    weighted_minimax_regret,
)

CHANNELS = ("search", "social", "display")
COORDS = {"channel": CHANNELS}
VIEWS = ["regression", "experiment", "attribution"]
DIMS = ("chain", "draw", "channel")


def bounds_array(values, labels=("lower", "upper"), channels=CHANNELS):
    coords = {"channel": list(channels)}
    if labels is not None:
        coords["bound"] = list(labels)
    return xr.DataArray(np.asarray(values, float), dims=("channel", "bound"), coords=coords)


def plan_array(values, channels=CHANNELS):
    return xr.DataArray(
        np.asarray(values, float), dims="channel", coords={"channel": list(channels)}
    )


def draws(channels=("tv", "radio"), n=10, **params):
    """Draws of ``params`` (scalars broadcast), dims (chain, draw, channel)."""
    shape = (1, n, len(channels))
    return xr.Dataset(
        {k: (DIMS, np.broadcast_to(np.asarray(v, float), shape).copy()) for k, v in params.items()},
        coords={"channel": list(channels)},
    )


# 1. total_budget ------------------------------------------------------------


@pytest.mark.parametrize(
    ("budget", "error", "match"),
    [
        (None, TypeError, "total_budget must be a number.*got NoneType"),
        ("100", TypeError, "total_budget must be a number.*got str"),
        ([100.0], TypeError, "total_budget must be a number.*got list"),
        (np.array([100.0]), TypeError, "total_budget must be a number.*got ndarray"),
        (True, TypeError, "total_budget must be a number.*got bool"),
        (np.nan, ValueError, "positive, finite"),
        (np.inf, ValueError, "positive, finite"),
        (0, ValueError, "positive, finite"),
        (-5.0, ValueError, "positive, finite"),
    ],
)
def test_bad_total_budget(budget, error, match):
    with pytest.raises(error, match=match):
        check_total_budget(budget)


def test_good_total_budget_is_a_float():
    assert check_total_budget(np.int64(100)) == 100.0
    assert isinstance(check_total_budget(np.float32(2.5)), float)


# 2. num_periods -------------------------------------------------------------


@pytest.mark.parametrize("value", [8.0, 8.5, 1e3, "8", None, True, [8]])
def test_num_periods_must_be_an_int(value):
    with pytest.raises(TypeError, match=r"must be an int.*Pass an int such as num_periods=8"):
        check_num_periods(value)


@pytest.mark.parametrize("value", [0, -1, np.int64(0)])
def test_num_periods_must_be_positive(value):
    with pytest.raises(ValueError, match="at least 1"):
        check_num_periods(value)


def test_num_periods_accepts_numpy_integers():
    got = check_num_periods(np.int32(8))
    assert got == 8 and type(got) is int


def test_horizon_refuses_a_float_num_periods():
    with pytest.raises(TypeError, match="Pass an int such as num_periods=8"):
        Horizon(num_periods=8.5)
    with pytest.raises(ValueError, match="adstock_periods must be at least 0"):
        Horizon(num_periods=2, adstock_periods=-1)


# 3. bounds ------------------------------------------------------------------


def test_bounds_are_read_by_label_not_position():
    upper_first = bounds_array([[60, 10], [50, 20], [40, 30]], labels=("upper", "lower"))
    got = as_bounds(upper_first, COORDS, 100.0)
    assert got["bound"].values.tolist() == ["lower", "upper"]
    assert got.sel(bound="lower").values.tolist() == [10.0, 20.0, 30.0]
    assert got.sel(bound="upper").values.tolist() == [60.0, 50.0, 40.0]


def test_reordered_channels_of_bounds_are_aligned():
    shuffled = bounds_array([[0, 40], [0, 50], [0, 60]], channels=CHANNELS[::-1])
    got = as_bounds(shuffled, COORDS, 100.0)
    assert got.sel(bound="upper").values.tolist() == [60.0, 50.0, 40.0]


def test_unlabelled_bound_dim_is_read_as_lower_then_upper():
    got = as_bounds(bounds_array([[0, 60]] * 3, labels=None), COORDS, 100.0)
    assert got.sel(channel="search").values.tolist() == [0.0, 60.0]


def test_fixed_bounds_adding_up_to_the_budget_are_valid():
    got = as_bounds({"search": (50, 50), "social": (30, 30), "display": (20, 20)}, COORDS, 100.0)
    np.testing.assert_array_equal(got.sel(bound="lower"), got.sel(bound="upper"))


@pytest.mark.parametrize(
    ("bounds", "error", "match"),
    [
        ({"search": (70, 60)}, ValueError, r"lower bound exceeds its upper bound at \['search'\]"),
        ({"search": (np.nan, 60)}, ValueError, r"finite numbers.*NaN or infinite at \['search'\]"),
        ({"search": (0, np.inf)}, ValueError, "NaN or infinite"),
        ({"social": (-5, 60)}, ValueError, r"non-negative.*negative at \['social'\]"),
        (
            {"search": (50, 60), "social": (40, 60), "display": (20, 60)},
            ValueError,
            "lower bounds add up to 110",
        ),
        (
            {"search": (0, 10), "social": (0, 10), "display": (0, 10)},
            ValueError,
            "upper bounds add up to 30",
        ),
        ({"tv": (0, 10)}, ValueError, r"unknown channels \['tv'\]"),
        ({"search": "06"}, ValueError, r"\(low, high\) pair of numbers"),
        ({"search": (0, 60, 70)}, ValueError, r"\(low, high\) pair of numbers"),
        ({"search": (None, 60)}, ValueError, r"\(low, high\) pair of numbers"),
        ({"search": 60}, ValueError, r"\(low, high\) pair of numbers"),
        ([(0, 60)] * 3, TypeError, r"dict \{channel: \(low, high\)\}"),
        (bounds_array([[0, 60]] * 3, labels=("min", "max")), ValueError, "label it"),
        (
            bounds_array([[0, 60]] * 3, channels=("search", "search", "social")),
            ValueError,
            r"missing \['display'\].*repeated \['search'\]",
        ),
        (
            bounds_array([[0, 60]] * 2, channels=("search", "social")),
            ValueError,
            r"exactly the channel labels.*missing \['display'\]",
        ),
        (
            bounds_array([[10, 60], [10, 60], [50, 40]], labels=("upper", "lower")),
            ValueError,
            r"exceeds its upper bound at \['search', 'social'\]",
        ),
    ],
)
def test_bad_bounds(bounds, error, match):
    with pytest.raises(error, match=match):
        as_bounds(bounds, COORDS, 100.0)


# 4. plans -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "error", "match"),
    [
        ({"search": np.nan, "social": 30, "display": 30}, ValueError, "finite and non-negative"),
        ({"search": np.inf, "social": 30, "display": 30}, ValueError, "finite and non-negative"),
        (
            {"search": 40, "social": -30, "display": 30},
            ValueError,
            r"non-negative; spend is \[-30.0\] at \['social'\]",
        ),
        (
            {"search": 40, "social": 30, "display": 30, "tv": 1},
            ValueError,
            r"exactly the channel labels.*unknown \['tv'\]",
        ),
        ({"search": 40, "social": 30}, ValueError, r"missing \['display'\]"),
        ({"search": 40, "social": None, "display": 30}, TypeError, "spend must be a number"),
        ({"search": 40, "social": "30", "display": 30}, TypeError, "spend must be a number"),
        ([40.0, 30.0, 30.0], TypeError, "Positional arrays are refused"),
        (plan_array([1, 2, 3], ("search", "search", "social")), ValueError, "repeated"),
        (xr.DataArray([40.0, 30.0, 30.0], dims="channel"), ValueError, "unlabelled"),
    ],
)
def test_bad_plans(plan, error, match):
    with pytest.raises(error, match=match):
        as_plan(plan, COORDS, "current")


def test_plan_in_another_order_is_aligned():
    got = as_plan(plan_array([30, 20, 50], CHANNELS[::-1]), COORDS, "current")
    assert got.values.tolist() == [50.0, 20.0, 30.0]


# 5. weights -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        ([2.0, 1.0, 1.0], TypeError, r"mapping \{view: weight\}"),
        ((2.0, 1.0, 1.0), TypeError, r"mapping \{view: weight\}"),
        (np.array([2.0, 1.0, 1.0]), TypeError, r"mapping \{view: weight\}"),
        ({"tv": 1.0}, ValueError, r"unknown views \['tv'\]"),
        ({"experiment": -1.0}, ValueError, "non-negative, finite and not all zero"),
        ({"experiment": np.nan}, ValueError, "non-negative, finite and not all zero"),
        (dict.fromkeys(VIEWS, 0.0), ValueError, "not all zero"),
        ({"experiment": "2"}, TypeError, "weights must be numbers"),
    ],
)
def test_bad_weights(weights, error, match):
    with pytest.raises(error, match=match):
        check_weights(weights, VIEWS)


def test_weights_are_aligned_with_missing_views_at_one_and_max_one():
    assert check_weights({"experiment": 4.0}, VIEWS).tolist() == [0.25, 1.0, 0.25]
    assert check_weights({"attribution": 0.5}, VIEWS).tolist() == [1.0, 1.0, 0.5]
    assert check_weights(None, VIEWS).tolist() == [1.0, 1.0, 1.0]


# 6. utility factories -------------------------------------------------------

V_STAR = [4.0, 10.0]


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: minimax_regret([4.0, 0.0]), ValueError, r"regret 1 - V/V\* is undefined"),
        (lambda: minimax_regret([4.0, -1.0]), ValueError, r"regret 1 - V/V\* is undefined"),
        (lambda: minimax_regret([4.0, np.inf]), ValueError, "v_star must be positive and finite"),
        (lambda: minimax_regret(4.0), ValueError, "v_star must be a 1-D array"),
        (lambda: minimax_regret([[4.0, 10.0]]), ValueError, "v_star must be a 1-D array"),
        (lambda: minimax_regret([]), ValueError, "v_star must be a 1-D array"),
        (lambda: minimax_regret({"a": 4.0}), TypeError, "v_star must be an array"),
        (lambda: minimax_regret(["a", "b"]), TypeError, "v_star must be numbers"),
        (lambda: minimax_regret(V_STAR, smoothing=0.0), ValueError, "smoothing must be a positive"),
        (
            lambda: minimax_regret(V_STAR, smoothing=-1e-3),
            ValueError,
            "smoothing must be a positive",
        ),
        (lambda: minimax_regret(V_STAR, smoothing="x"), TypeError, "smoothing must be a number"),
        (lambda: minimax_regret(V_STAR, quantile=0.0), ValueError, "strictly between 0 and 1"),
        (lambda: minimax_regret(V_STAR, quantile=1.0), ValueError, "strictly between 0 and 1"),
        (lambda: risk_averse_regret(V_STAR, quantile=0.0), ValueError, "strictly between 0 and 1"),
        (lambda: risk_averse_regret(V_STAR, quantile=-0.1), ValueError, "strictly between"),
        (lambda: weighted_minimax_regret(V_STAR, [1.0, -1.0]), ValueError, "non-negative"),
        (lambda: weighted_minimax_regret(V_STAR, [1.0, np.nan]), ValueError, "non-negative"),
        (lambda: weighted_minimax_regret(V_STAR, [0.0, 0.0]), ValueError, "not all zero"),
        (lambda: weighted_minimax_regret(V_STAR, [1.0, 1.0, 1.0]), ValueError, "has 3 values"),
        (lambda: weighted_minimax_regret(V_STAR, {"a": 1.0}), TypeError, "positional"),
    ],
)
def test_bad_utility_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_normalized_regret_and_view_values_check_their_arguments():
    with pytest.raises(ValueError, match=r"regret 1 - V/V\* is undefined"):
        normalized_regret(None, [1.0, 0.0])
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\]"):
        view_values(None, quantile=1.5)


def test_shared_variables_are_not_checked_at_build_time():
    shared = pytensor.shared(np.array([4.0, 10.0]))
    assert callable(minimax_regret(shared, weights=pytensor.shared(np.ones(2)), smoothing=1e-3))


@pytest.mark.parametrize("quantile", [0.0, 1.0, 1.5, np.nan])
def test_check_quantile_is_strict(quantile):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        check_quantile(quantile)


# 7. CurveView ---------------------------------------------------------------


def test_curve_view_without_channels():
    with pytest.raises(ValueError, match=r"view 'x': the draws have no channel labels"):
        CurveView("x", draws(channels=(), alpha=1.0, lam=1.0))


def test_curve_view_with_repeated_channels():
    with pytest.raises(ValueError, match=r"view 'x': the channel labels repeat \['tv'\]"):
        CurveView("x", draws(channels=("tv", "tv"), alpha=1.0, lam=1.0))
    with pytest.raises(ValueError, match=r"channel labels repeat \['tv'\]"):
        CurveView.from_estimates(
            "x", {"alpha": [1.0, 1.0], "lam": [1.0, 1.0]}, 0.1, channels=["tv", "tv"], draws=5
        )


def test_curve_view_with_nan_draws():
    bad = draws(alpha=1.0, lam=1.0)
    bad["lam"][0, 3, 1] = np.nan
    with pytest.raises(ValueError, match=r"view 'x': non-finite draws in \['lam'\] \(1 of 20"):
        CurveView("x", bad)


def _some_bad(value, good, n_bad=3):
    """Draws of one parameter: ``n_bad`` of 10 draws at ``value`` on the radio channel."""
    values = np.full((10, 2), good)
    values[:n_bad, 1] = value
    return values[None]


@pytest.mark.parametrize(
    ("saturation", "params", "match"),
    [
        (
            "michaelis_menten",
            {"alpha": 1.0, "lam": _some_bad(-1.0, 1.0)},
            r"view 'x': 3 of 10 draws of 'lam' are outside MichaelisMentenSaturation's "
            r"support \(lam > 0\) at \['radio'\]: lam <= 0 puts a pole",
        ),
        (
            "michaelis_menten",
            {"alpha": 1.0, "lam": _some_bad(0.0, 1.0, n_bad=10)},
            r"10 of 10 draws of 'lam'.*pole",
        ),
        (
            "michaelis_menten",
            {"alpha": _some_bad(-0.5, 1.0, n_bad=1), "lam": 1.0},
            r"1 of 10 draws of 'alpha'.*\(alpha >= 0\).*negative amplitude",
        ),
        ("logistic", {"lam": _some_bad(0.0, 1.0), "beta": 1.0}, r"3 of 10 draws of 'lam'"),
        ("logistic", {"lam": 1.0, "beta": _some_bad(-1.0, 1.0)}, r"3 of 10 draws of 'beta'"),
        ("hill", {"slope": _some_bad(0.0, 1.0), "kappa": 1.0, "beta": 1.0}, "draws of 'slope'"),
        ("hill", {"slope": 1.0, "kappa": _some_bad(-2.0, 1.0), "beta": 1.0}, "draws of 'kappa'"),
    ],
)
def test_curve_view_with_draws_outside_the_support(saturation, params, match):
    with pytest.raises(ValueError, match=match):
        CurveView("x", draws(**params), saturation=saturation)


def test_curve_view_with_adstock_draws_outside_the_support():
    bad = draws(alpha=1.0, lam=1.0, adstock_alpha=_some_bad(1.5, 0.5))
    with pytest.raises(ValueError, match=r"draws of 'adstock_alpha'.*GeometricAdstock.*\[0, 1\]"):
        CurveView("x", bad, adstock=GeometricAdstock(l_max=2))


@pytest.mark.parametrize("n", [100.0, 1e3, "500", True])
def test_from_estimates_draws_must_be_an_int(n):
    with pytest.raises(TypeError, match=r"draws must be an int.*Pass an int such as draws=500"):
        CurveView.from_estimates("x", {"alpha": {"tv": 1.0}, "lam": {"tv": 1.0}}, 0.1, draws=n)


def test_from_estimates_refuses_too_few_draws_and_non_numbers():
    with pytest.raises(ValueError, match="draws must be at least 2"):
        CurveView.from_estimates("x", {"alpha": {"tv": 1.0}, "lam": {"tv": 1.0}}, 0.1, draws=1)
    with pytest.raises(TypeError, match="estimates must be a mapping"):
        CurveView.from_estimates("x", [1.0, 1.0], 0.1, channels=["tv"])
    with pytest.raises(TypeError, match="View 'x': alpha must be numbers"):
        CurveView.from_estimates("x", {"alpha": {"tv": "big"}, "lam": {"tv": 1.0}}, 0.1)
    with pytest.raises(TypeError, match=r"sigma\[lam\] must be numbers"):
        CurveView.from_estimates(
            "x", {"alpha": [1.0], "lam": [1.0]}, {"alpha": 0.1, "lam": "x"}, channels=["tv"]
        )


# 8. concave and separable_over_periods --------------------------------------


@pytest.mark.parametrize(
    ("saturation", "params", "adstock", "concave"),
    [
        ("michaelis_menten", {"alpha": 1.0, "lam": 1.0}, None, True),
        ("logistic", {"lam": 1.0, "beta": 1.0}, None, True),
        ("hill", {"slope": 1.0, "kappa": 1.0, "beta": 1.0}, None, True),
        ("hill", {"slope": 0.5, "kappa": 1.0, "beta": 1.0}, None, True),
        ("hill", {"slope": _some_bad(1.5, 1.0, n_bad=1), "kappa": 1.0, "beta": 1.0}, None, False),
        (HillSaturationSigmoid(), {"sigma": 1.0, "beta": 1.0, "lam": 2.0}, None, False),
        (HillSaturationSigmoid(), {"sigma": 1.0, "beta": 1.0, "lam": -1.0}, None, True),
        ("michaelis_menten", {"alpha": 1.0, "lam": 1.0}, GeometricAdstock(l_max=2), True),
        (
            TanhSaturationBaselined(),
            {"x0": 1.0, "gain": 1.0, "r": 0.5, "beta": 1.0},
            None,
            False,
        ),
    ],
)
def test_concave(saturation, params, adstock, concave):
    if adstock is not None:
        params = {**params, "adstock_alpha": 0.5}
    view = CurveView("x", draws(**params), saturation=saturation, adstock=adstock)
    assert view.concave is concave


def test_a_saturation_subclass_is_not_assumed_concave():
    class Squared(MichaelisMentenSaturation):
        def function(self, x, alpha, lam, *, dim=None):
            return alpha * x**2

    assert CurveView("x", draws(alpha=1.0, lam=1.0), saturation=Squared()).concave is False


def test_separable_over_periods():
    plain = CurveView("x", draws(alpha=1.0, lam=1.0, adstock_alpha=0.5))
    assert plain.separable_over_periods is True
    lagged = CurveView(
        "x", draws(alpha=1.0, lam=1.0, adstock_alpha=0.5), adstock=GeometricAdstock(l_max=2)
    )
    assert lagged.separable_over_periods is False


def test_view_defaults_claim_nothing():
    class Minimal(View):
        @property
        def budget_coords(self):
            return {"channel": ("tv",)}

        @property
        def posterior(self):
            return xr.Dataset()

        def build(self, horizon, budget_coords):
            raise NotImplementedError

    view = Minimal("m")
    assert view.concave is False
    assert view.separable_over_periods is False
