"""Regret relative to a reference plan, through the allocator, against NumPy and brute force."""

import functools

import numpy as np
import pytest

from pymc_robust_alloc.demo import CHANNELS
from tests.conftest import BOUNDS, BUDGET, REFERENCE, numpy_values

#: Today's plan, away from every view's optimum.
CURRENT = {"search": 50.0, "social": 30.0, "display": 20.0}


@pytest.fixture(scope="module")
def relative(allocator):
    return allocator.allocate(
        BUDGET,
        BOUNDS,
        reference_plan=CURRENT,
        regret="relative",
        success=False,
        weights={"experiment": 2.0},
    )


def _relative_regret(values, v_star, v_ref):
    return (v_star[:, None] - values) / (v_star - v_ref)[:, None]


def test_relative_regret_matches_numpy(views, relative):
    v_star = relative.v_star.values
    v_ref = numpy_values(views, np.array([CURRENT[c] for c in CHANNELS]))
    np.testing.assert_allclose(relative.reference_value.values, v_ref, rtol=1e-9)
    for name in relative.plans["plan"].values:
        plan = relative.plans.sel(plan=name, channel=list(CHANNELS)).values
        expected = _relative_regret(numpy_values(views, plan)[:, None], v_star, v_ref)[:, 0]
        np.testing.assert_allclose(
            relative.regret.sel(plan=name).values, expected, rtol=1e-8, atol=1e-12
        )
    assert relative.settings["regret"] == "relative"


def test_reference_has_relative_regret_one_and_minimax_at_most_one(relative):
    np.testing.assert_allclose(relative.regret.sel(plan="reference"), 1.0, rtol=1e-12)
    worst = relative.regret_matrix["max regret"]
    assert worst["minimax"] <= 1.0
    others = worst.drop(["minimax", "weighted minimax"])
    assert worst["minimax"] <= others.min() + 1e-9
    assert relative.converged


def test_relative_certificates_hold_against_brute_force(views, relative):
    """The lower bound of each certified relative minimax is below a grid's best max regret."""
    v_star = relative.v_star.values
    v_ref = relative.reference_value.values
    grid = np.arange(0.0, 60.01, 0.25)
    search, social = np.meshgrid(grid, grid, indexing="ij")
    display = BUDGET - search - social
    ok = (display >= 0) & (display <= 60)
    plans = np.stack([search[ok], social[ok], display[ok]], axis=-1)
    regret = _relative_regret(numpy_values(views, plans), v_star, v_ref)
    weights = np.array([0.5, 1.0, 0.5])  # {"experiment": 2} normalised by its max
    for name, w in (("minimax", np.ones(3)), ("weighted minimax", weights)):
        best = (w[:, None] * regret).max(axis=0).min()
        row = relative.certificate.loc[name]
        assert row["certified"]
        assert row["lower bound"] <= best + 1e-12
        assert row["max regret"] <= best + 1e-9
        assert row["gap"] <= 1e-8


def test_relative_plans_ignore_a_constant_added_to_a_view(allocator, relative, result):
    """Shifting every V(a, experiment) by c (its zero-plan baseline by -c) changes nothing."""
    baseline = allocator.regret.baseline.get_value()
    shifted = baseline.copy()
    c = 3.0 * float(relative.v_star.sel(view="experiment"))
    shifted[:, list(allocator.views).index("experiment")] -= c
    with allocator.regret.using(baseline=shifted):
        moved = allocator.allocate(
            BUDGET, BOUNDS, reference_plan=CURRENT, regret="relative", success=False
        )
        ratio = allocator.allocate(BUDGET, BOUNDS)
    np.testing.assert_allclose(moved.plan("minimax"), relative.plan("minimax"), atol=1e-5 * BUDGET)
    np.testing.assert_allclose(
        moved.regret.sel(plan="minimax"), relative.regret.sel(plan="minimax"), atol=1e-6
    )
    # The ratio regret does move (``result`` is the unshifted ratio run).
    assert np.abs(ratio.plan("minimax") - result.plan("minimax")).max() > 1e-2


@pytest.mark.parametrize("k", [1e-6, 1e9])
def test_relative_plans_ignore_the_scale_of_a_view(allocator, relative, k):
    scaled = allocator.allocate(
        BUDGET,
        BOUNDS,
        reference_plan=CURRENT,
        regret="relative",
        success=False,
        response_scale={"attribution": k},
    )
    np.testing.assert_allclose(scaled.plan("minimax"), relative.plan("minimax"), atol=1e-5 * BUDGET)
    np.testing.assert_allclose(
        scaled.regret.sel(plan="minimax"), relative.regret.sel(plan="minimax"), atol=1e-6
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"regret": "relative"}, "needs a reference plan|pass reference_plan"),
        ({"regret": "uplift", "reference_plan": REFERENCE}, "regret must be one of"),
        (
            {"regret": "relative", "reference_plan": dict.fromkeys(CHANNELS, 40.0)},
            "spends the budget",
        ),
        (
            {"regret": "relative", "reference_plan": {"search": 50.0, "tv": 50.0}},
            "tv",
        ),
    ],
)
def test_relative_regret_refuses_bad_references(allocator, kwargs, match):
    with pytest.raises((ValueError, KeyError), match=match):
        allocator.allocate(BUDGET, BOUNDS, **kwargs)


def test_a_reference_optimal_for_a_view_is_refused(allocator, relative):
    optimum = relative.plan("experiment")
    with pytest.raises(ValueError, match=r"undefined under views \['experiment'\]"):
        allocator.allocate(BUDGET, BOUNDS, reference_plan=optimum, regret="relative", success=False)


@pytest.mark.slow
def test_risk_averse_relative_regret_is_measured_at_the_quantile(allocator):
    result = allocator.allocate(
        BUDGET, BOUNDS, reference_plan=CURRENT, regret="relative", success=False, quantile=0.1
    )
    low = result.quantile_regret
    assert float(low.sel(plan="reference").max()) == pytest.approx(1.0)
    worst = low.max("view")
    assert float(worst.sel(plan="risk-averse minimax")) <= float(worst.min()) + 1e-6


@functools.cache
def _small_result(k):
    """A two-channel problem with spend in units 1/k (every spend multiplied by k)."""
    from pymc_robust_alloc import CurveView, RobustAllocator

    views = [
        CurveView.from_estimates(
            name,
            {"alpha": alpha, "lam": [10.0 * k, 20.0 * k]},
            0.1,
            channels=["tv", "radio"],
            draws=30,
            random_seed=seed,
            evidence={"tv": (5.0 * k, 15.0 * k), "radio": (10.0 * k, 30.0 * k)},
        )
        for name, alpha, seed in [("lift", [5.0, 8.0], 1), ("vendor", [9.0, 4.0], 2)]
    ]
    allocator = RobustAllocator(views, num_periods=2)
    return allocator.allocate(
        40.0 * k,
        reference_plan={"tv": 30.0 * k, "radio": 10.0 * k},
        regret="relative",
        success=False,
        extrapolation_threshold=1.0,
    )


@pytest.mark.parametrize("k", [1e-6, 1e9])
def test_relative_plans_and_extrapolation_shares_are_unit_free_in_spend(k):
    base, scaled = _small_result(1.0), _small_result(k)
    np.testing.assert_allclose(scaled.plan("minimax") / k, base.plan("minimax"), rtol=1e-6)
    np.testing.assert_allclose(scaled.regret, base.regret, atol=1e-7)
    np.testing.assert_allclose(scaled.extrapolation, base.extrapolation, atol=1e-7)
    assert scaled.certificate.loc["minimax", "gap"] <= 1e-8
