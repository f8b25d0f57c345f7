import warnings

import numpy as np
import pytest
import scipy.stats
import xarray as xr

from pymc_robust_alloc import ConvergenceWarning, CurveView, RobustAllocator
from pymc_robust_alloc.demo import CHANNELS, demo_views
from tests.conftest import BOUNDS, BUDGET, DRAWS, PERIODS, numpy_values


def test_each_view_optimum_has_zero_regret_under_it(result):
    for view in result.views:
        assert result.regret.sel(plan=view, view=view) == pytest.approx(0.0, abs=1e-9)


def test_minimax_plan_has_the_smallest_max_regret(result):
    worst = result.regret_matrix["max regret"]
    others = worst.drop(["minimax", "risk-averse minimax", "weighted minimax"])
    assert worst["minimax"] <= others.min() + 1e-9


def test_plans_spend_the_budget_within_bounds(result):
    totals = result.plans.sum("channel")
    np.testing.assert_allclose(totals, BUDGET, rtol=1e-6)
    assert float(result.plans.max()) <= 60 + 1e-6
    assert float(result.plans.min()) >= -1e-9
    assert result.converged


def test_values_match_an_independent_numpy_computation(views, result):
    for name in result.plans["plan"].values:
        plan = result.plans.sel(plan=name, channel=list(CHANNELS)).values
        np.testing.assert_allclose(
            result.value.sel(plan=name).values, numpy_values(views, plan), rtol=1e-9
        )


def _grid_max_regret(views, v_star, search, social):
    search, social = np.meshgrid(search, social, indexing="ij")
    display = BUDGET - search - social
    ok = (display >= 0) & (display <= 60) & (search >= 0) & (social >= 0)
    plans = np.stack([search[ok], social[ok], display[ok]], axis=-1)
    values = numpy_values(views, plans)
    return plans, values, (1 - values / v_star[:, None]).max(axis=0)


def test_minimax_agrees_with_brute_force_over_the_simplex(views, result):
    v_star = result.v_star.values
    coarse = np.arange(0.0, 60.25, 0.5)
    plans, values, worst = _grid_max_regret(views, v_star, coarse, coarse)
    # V* is each view's maximum: no grid plan beats the solver's optimum.
    assert np.all(values.max(axis=1) <= v_star * (1 + 1e-8))
    minimax = result.plan("minimax").sel(channel=list(CHANNELS)).values
    ours = result.regret_matrix.loc["minimax", "max regret"]
    assert ours <= worst.min() + 1e-9
    # A fine grid around the coarse grid's best plan finds nothing better either.
    best = plans[np.argmin(worst)]
    fine = np.arange(-1.5, 1.5001, 0.02)
    plans, _, worst = _grid_max_regret(views, v_star, best[0] + fine, best[1] + fine)
    assert ours <= worst.min() + 1e-9
    assert np.abs(plans[np.argmin(worst)] - minimax).max() <= 0.1


@pytest.fixture(scope="module")
def sweep_allocator():
    from pymc_robust_alloc.demo import SWEEP_ALPHA

    views = demo_views(draws=DRAWS, random_seed=7, attribution_alpha=SWEEP_ALPHA)
    return RobustAllocator(views, PERIODS)


def test_scaling_a_view_leaves_minimax_but_moves_the_averaged_plan(sweep_allocator):
    base = sweep_allocator.allocate(BUDGET, BOUNDS)
    for k in (2.0, 10.0):
        scaled = sweep_allocator.allocate(BUDGET, BOUNDS, response_scale={"attribution": k})
        shift = np.abs(scaled.plan("minimax") - base.plan("minimax")).max()
        assert shift <= 1e-3 * BUDGET
        drift = np.abs(scaled.plan("averaged") - base.plan("averaged")).max()
        assert drift > 0.5
        fixed = ["regression", "experiment", "attribution", "minimax"]
        np.testing.assert_allclose(
            scaled.regret.sel(plan=fixed), base.regret.sel(plan=fixed), atol=2e-5
        )


def test_weighted_minimax_with_equal_weights_is_minimax(allocator):
    result = allocator.allocate(BUDGET, BOUNDS, weights=dict.fromkeys(allocator.views, 3.0))
    np.testing.assert_allclose(result.plan("weighted minimax"), result.plan("minimax"), atol=1e-6)


def test_weights_shift_the_plan_towards_the_trusted_view(result):
    regret = result.regret
    assert regret.sel(plan="weighted minimax", view="experiment") < regret.sel(
        plan="minimax", view="experiment"
    )


def test_risk_averse_plan_minimises_quantile_regret(result):
    worst = result.quantile_regret.max("view")
    assert float(worst.sel(plan="risk-averse minimax")) <= float(worst.min()) + 1e-9


def test_candidate_plans_are_judged(allocator):
    current = xr.DataArray([50.0, 30.0, 20.0], dims="channel", coords={"channel": list(CHANNELS)})
    result = allocator.allocate(BUDGET, BOUNDS, candidates={"current": current})
    assert "current" in result.regret_matrix.index
    assert (
        result.regret_matrix.loc["current", "max regret"]
        >= result.regret_matrix.loc["minimax", "max regret"]
    )


def test_same_seed_same_result():
    first = RobustAllocator(demo_views(draws=50, random_seed=3), 4).allocate(10.0)
    second = RobustAllocator(demo_views(draws=50, random_seed=3), 4).allocate(10.0)
    xr.testing.assert_allclose(first.plans, second.plans)
    xr.testing.assert_equal(first.regret, second.regret)


def test_channel_order_of_a_view_and_of_bounds_changes_nothing(views, result):
    reordered = list(reversed(CHANNELS))
    experiment = views[1]
    permuted = CurveView(
        "experiment", experiment.posterior.sel(channel=reordered), saturation="michaelis_menten"
    )
    bounds = {c: BOUNDS[c] for c in reordered}
    other = RobustAllocator([views[0], permuted, views[2]], PERIODS).allocate(
        BUDGET, bounds, weights={"experiment": 2.0}, quantile=0.1
    )
    xr.testing.assert_allclose(other.plans.sel(channel=list(CHANNELS)), result.plans, atol=1e-6)


@pytest.mark.parametrize("factor", [1e-6, 1e6])
def test_plans_do_not_depend_on_response_units(views, result, factor):
    scaled = [
        CurveView(v.name, v.posterior.assign(alpha=v.posterior["alpha"] * factor)) for v in views
    ]
    other = RobustAllocator(scaled, PERIODS).allocate(BUDGET, BOUNDS)
    plans = ["regression", "experiment", "attribution", "averaged", "minimax"]
    np.testing.assert_allclose(
        other.plans.sel(plan=plans), result.plans.sel(plan=plans), atol=1e-3 * BUDGET
    )
    np.testing.assert_allclose(other.v_star / factor, result.v_star, rtol=1e-6)


def test_non_convergence_is_reported_and_warned(allocator):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        result = allocator.allocate(BUDGET, BOUNDS, minimize_kwargs={"options": {"maxiter": 1}})
    assert not result.converged
    assert (~result.convergence["success"]).any()


def test_non_positive_v_star_is_refused():
    channels = ["a", "b"]
    draws = xr.Dataset(
        {
            "alpha": (("chain", "draw", "channel"), np.zeros((1, 20, 2))),
            "lam": (("chain", "draw", "channel"), np.ones((1, 20, 2))),
        },
        coords={"channel": channels},
    )
    good = CurveView.from_estimates(
        "good", {"alpha": [1.0, 2.0], "lam": [1.0, 1.0]}, 0.1, channels=channels, draws=20
    )
    allocator = RobustAllocator([good, CurveView("bad", draws)], 2)
    with pytest.raises(ValueError, match=r"\['bad'\].*regret\s+1 - V/V\* is undefined|undefined"):
        allocator.allocate(10.0)


@pytest.mark.parametrize(
    ("budget", "bounds", "match"),
    [
        (-5.0, None, "positive"),
        (100.0, {"search": (50, 60), "social": (40, 60), "display": (20, 60)}, "lower bounds"),
        (100.0, {"search": (0, 10), "social": (0, 10), "display": (0, 10)}, "upper bounds"),
        (100.0, {"tv": (0, 10)}, "unknown channels"),
        (100.0, {"search": (20, 10)}, "exceeds"),
    ],
)
def test_bad_budget_or_bounds_are_refused(allocator, budget, bounds, match):
    with pytest.raises(ValueError, match=match):
        allocator.allocate(budget, bounds)


def test_unknown_view_in_weights_or_scale_is_refused(allocator):
    with pytest.raises(ValueError, match="unknown views"):
        allocator.allocate(BUDGET, BOUNDS, weights={"tv": 1.0})
    with pytest.raises(ValueError, match="unknown views"):
        allocator.allocate(BUDGET, BOUNDS, response_scale={"tv": 2.0})


def test_allocation_does_not_mutate_the_views(views, result):
    before = [v.posterior.copy(deep=True) for v in views]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        RobustAllocator(views, 2)
    for view, old in zip(views, before, strict=True):
        xr.testing.assert_identical(view.posterior, old)


def test_result_serialises_to_json(result):
    import json

    data = json.loads(json.dumps(result.to_dict()))
    assert set(data["plans"]) == set(result.plans["plan"].values)
    assert data["max_regret"]["minimax"] == pytest.approx(
        result.regret_matrix.loc["minimax", "max regret"]
    )


def test_risk_averse_minimax_can_start_from_a_quantile_optimum():
    # On these draws a view's own quantile optimum has the smallest quantile regret,
    # so the risk-averse solve starts from a plan that is not among the results.
    views = demo_views(draws=100, random_seed=1)
    result = RobustAllocator(views, 4).allocate(100.0, BOUNDS, quantile=0.1)
    table = result.quantile_regret.max("view").to_series()
    assert table.idxmin() == "risk-averse minimax"


def test_views_with_different_draw_counts_are_valued_over_their_own_draws():
    """No silent thinning: each V(a, m) is the mean over view m's own draws."""
    from tests.reference import curve, draw_arrays

    channels = ["search", "social"]
    views = [
        CurveView.from_estimates(
            name, {"alpha": a, "lam": [2.0, 3.0]}, 0.3, channels=channels, draws=d, random_seed=s
        )
        for name, a, d, s in [("long", [2.0, 1.0], 61, 1), ("short", [1.0, 2.0], 17, 2)]
    ]
    allocator = RobustAllocator(views, num_periods=3)
    plan = np.array([4.0, 6.0])
    expected = [3 * curve(draw_arrays(v.posterior, channels), plan).sum(-1).mean() for v in views]
    values = allocator.values(dict(zip(channels, plan, strict=True)))
    np.testing.assert_allclose(values.values, expected, rtol=1e-10)
    responses = allocator.responses(dict(zip(channels, plan, strict=True)))
    assert int(responses.sel(view="short").notnull().sum()) == 17
    current = {"search": 5.0, "social": 5.0}
    result = allocator.allocate(10.0, reference_plan=current)
    assert result.converged
    assert result.settings["view_draws"] == {"long": 61, "short": 17}
    assert result.settings["available_draws"] == {"long": 61, "short": 17}
    for name in ("long", "short"):
        assert float(result.regret.sel(plan=name, view=name)) == pytest.approx(0.0, abs=1e-9)
    # Success per view over its own draws: P(increment >= the reference's).
    other = {"search": 6.0, "social": 4.0}
    success = allocator.success_probability(other, current, required_gain=0.01)
    zero = allocator.responses({"search": 0.0, "social": 0.0})
    diff = (allocator.responses(other) - zero) - 1.01 * (allocator.responses(current) - zero)
    sd = np.sqrt(((diff - diff.mean("sample")) ** 2).mean("sample"))  # NaN repeats skipped
    expected = scipy.stats.norm.cdf(diff.mean("sample") / sd)
    np.testing.assert_allclose(success.values, expected, rtol=1e-6)


def _optimum(value, total, n):
    """Maximise a concave value over {sum a = total, a >= 0} with SciPy (reference)."""
    from scipy.optimize import minimize

    solution = minimize(
        lambda a: -value(a),
        np.full(n, total / n),
        method="SLSQP",
        bounds=[(0, total)] * n,
        constraints=[{"type": "eq", "fun": lambda a: a.sum() - total}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return solution.x


def test_flighting_and_cost_per_unit_change_the_plans_as_the_optimizer_graph_says():
    """Per-period shares and prices reach every view's response, as in BudgetOptimizer."""
    from tests.reference import curve, draw_arrays

    channels = ["search", "social"]
    views = [
        CurveView.from_estimates(
            name, {"alpha": a, "lam": lam}, 0.2, channels=channels, draws=40, random_seed=s
        )
        for name, a, lam, s in [
            ("mmm", [2.0, 1.5], [1.0, 6.0], 1),
            ("lift", [1.5, 2.0], [5.0, 1.0], 2),
        ]
    ]
    shares, price = np.array([0.7, 0.2, 0.1]), np.array([2.0, 0.5])
    total = 6.0
    flighted = RobustAllocator(views, 3, budget_distribution_over_period=shares).allocate(total)
    priced = RobustAllocator(views, 3, cost_per_unit={"search": 2.0, "social": 0.5}).allocate(total)
    assert flighted.settings["budget_distribution_over_period"] == [
        [0.7, 0.7],
        [0.2, 0.2],
        [0.1, 0.1],
    ]
    for view in views:
        params = draw_arrays(view.posterior, channels)

        def flighted_value(a, params=params):
            money = 3 * shares[:, None] * a  # spend per period of each channel
            return curve(params, money).sum(axis=(-1, 0)).mean()

        def priced_value(a, params=params):
            return 3 * curve(params, a / price).sum(-1).mean()

        def plain_value(a, params=params):
            return 3 * curve(params, a).sum(-1).mean()

        plain = _optimum(plain_value, total, 2)

        for result, value in [(flighted, flighted_value), (priced, priced_value)]:
            expected = _optimum(value, total, 2)
            ours = result.plan(view.name).sel(channel=channels).values
            np.testing.assert_allclose(ours, expected, atol=1e-5 * total)
            moved = np.abs(ours - plain).max()
            assert moved > 0.02 * total  # far beyond the solver tolerance
    with pytest.raises(ValueError, match="must sum to 1 over the periods"):
        RobustAllocator(views, 3, budget_distribution_over_period=[0.5, 0.2, 0.1])


# -- custom constraints (issue 15, point 3) -----------------------------------------------


def _search_cap(share: float):
    """PyMC-Marketing constraint: search spends at most ``share`` of the budget (linear)."""
    from pymc_marketing.mmm.constraints import Constraint

    def fun(budgets, total_budget, optimizer):
        return share * total_budget - budgets.isel(channel=0)

    return Constraint("search_cap", "ineq", fun)


def _search_disc(radius: float):
    """A nonlinear constraint: search spend squared at most ``radius`` squared."""
    from pymc_marketing.mmm.constraints import Constraint

    def fun(budgets, total_budget, optimizer):
        return radius**2 - budgets.isel(channel=0) ** 2

    return Constraint("search_disc", "ineq", fun)


def test_a_constraint_moves_each_view_optimum_as_budget_optimizer_does(allocator):
    """Each view's optimum under a constraint is BudgetOptimizer's, same constraint."""
    from pymc_marketing.mmm import BudgetOptimizer
    from pymc_marketing.mmm.constraints import build_default_sum_constraint

    from pymc_robust_alloc.engine import python_mode
    from pymc_robust_alloc.merge import VIEW_RESPONSE

    cap = _search_cap(0.2)
    result = allocator.allocate(BUDGET, BOUNDS, constraints=[cap])
    merged = allocator.merged
    for m, view in enumerate(allocator.views):

        def utility(samples, budgets, m=m):
            return samples.isel(view=m).mean("sample")

        optimizer = BudgetOptimizer(
            model=merged.model,
            idata=merged.idata,
            num_periods=merged.horizon.num_periods,
            response_variable=VIEW_RESPONSE,
            utility_function=utility,
            budgets_to_optimize=xr.DataArray(
                [True] * 3, dims="channel", coords={"channel": list(CHANNELS)}
            ),
            constraints=[build_default_sum_constraint(), cap],
            compile_kwargs={"mode": python_mode()},
        )
        theirs, _ = optimizer.allocate_budget(BUDGET, BOUNDS)
        ours = result.plan(view).sel(channel=list(CHANNELS))
        np.testing.assert_allclose(
            ours.values, theirs.sel(channel=list(CHANNELS)).values, atol=1e-4 * BUDGET
        )
        assert float(ours.sel(channel="search")) <= 0.2 * BUDGET * (1 + 1e-9)
    free = allocator.allocate(BUDGET, BOUNDS)
    assert float(free.plan("regression").sel(channel="search")) > 0.3 * BUDGET  # it did bind


def test_every_plan_satisfies_linear_and_nonlinear_constraints(allocator):
    """Every plan meets the constraint; a linear one keeps the certificate, a nonlinear one not."""
    linear = allocator.allocate(BUDGET, BOUNDS, constraints=[_search_cap(0.2)])
    disc = allocator.allocate(BUDGET, BOUNDS, constraints=[_search_disc(25.0)])
    for result, cap in [(linear, 20.0), (disc, 25.0)]:
        assert result.converged
        search = result.plans.sel(channel="search").values
        assert np.all(search <= cap * (1 + 1e-9))
        np.testing.assert_allclose(result.plans.sum("channel").values, BUDGET, rtol=1e-9)
    assert bool(linear.certificate["certified"].all())
    assert float(linear.certificate["gap"].max()) <= 1e-6
    assert linear.settings["constraints"] == {"search_cap": {"type": "ineq", "linear": True}}
    frontier = allocator.frontier(
        [90.0, 110.0], BOUNDS, constraints=[_search_cap(0.2)], progress=False
    )
    assert bool(frontier.converged.all())
    for total, result in zip([90.0, 110.0], frontier.results, strict=True):
        assert np.all(result.plans.sel(channel="search").values <= 0.2 * total * (1 + 1e-9))
    assert not bool(disc.certificate["certified"].any())
    assert disc.settings["certificate"].startswith("not certified: constraints ['search_disc']")


def test_infeasible_constraints_give_a_clear_error(allocator):
    # Search capped at 1 % while the others may take at most 60 of the 100.
    with pytest.raises(ValueError, match="satisfies the constraints \\['search_cap'\\]"):
        allocator.allocate(
            BUDGET,
            {**BOUNDS, "social": (0, 40), "display": (0, 40)},
            constraints=[_search_cap(0.01)],
        )
    with pytest.raises(TypeError, match="Constraint objects"):
        allocator.allocate(BUDGET, BOUNDS, constraints=[lambda b: b])


# --------------------------------------------------------------------------------------
# Warm builds: a build seen before loads its compiled functions and merges nothing


def test_a_warm_build_merges_nothing_and_solves_exactly_as_the_first():
    first = RobustAllocator(demo_views(draws=DRAWS), PERIODS)
    expected = first.allocate(BUDGET, BOUNDS)
    again = RobustAllocator(demo_views(draws=DRAWS), PERIODS)  # same inputs: from disk
    result = again.allocate(BUDGET, BOUNDS)
    assert "merged" not in again.__dict__
    assert "optimizer" not in again.__dict__
    np.testing.assert_allclose(result.plans.values, expected.plans.values, rtol=1e-12)
    np.testing.assert_allclose(result.regret.values, expected.regret.values, atol=1e-14)
    np.testing.assert_allclose(
        again.responses(dict(zip(CHANNELS, [30.0, 40.0, 30.0], strict=True))).values,
        first.responses(dict(zip(CHANNELS, [30.0, 40.0, 30.0], strict=True))).values,
        rtol=1e-14,
    )


def test_flat_plans_are_the_budget_optimizer_s_own_for_several_budget_dims():
    geos = ("north", "south")
    draws = xr.Dataset(
        {
            p: (("chain", "draw", "channel", "geo"), value * np.ones((1, 10, 2, 2)))
            for p, value in [("alpha", 2.0), ("lam", 3.0)]
        },
        coords={"channel": ["tv", "radio"], "geo": list(geos)},
    )
    allocator = RobustAllocator([CurveView("a", draws), CurveView("b", 2 * draws)], 2)
    plan = xr.DataArray(
        [[1.0, 2.0], [3.0, 4.0]],
        dims=("geo", "channel"),
        coords={"geo": ["south", "north"], "channel": ["radio", "tv"]},
    )
    variables = allocator.optimizer.optimization_variables
    flat = allocator._flat(plan)
    np.testing.assert_array_equal(flat, variables.pack(plan.transpose("channel", "geo")))
    (unpacked,) = variables.unpack(flat).values()
    xr.testing.assert_equal(allocator._labelled(flat), unpacked.astype(float))


@pytest.mark.parametrize("rows", [2, 100])
def test_batched_values_are_the_values_of_each_plan(allocator, monkeypatch, rows):
    monkeypatch.setattr(allocator.engine, "batch_rows", rows)  # chunks of 2, or one call
    plans = np.random.default_rng(3).uniform(0.0, 60.0, (7, len(CHANNELS)))
    batched = allocator.engine.values(allocator.regret.value, plans)
    one_by_one = [allocator.engine.evaluate(allocator.regret.value, a)[0] for a in plans]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-13)


def test_remembered_evaluations_follow_the_objective_s_parameters(allocator):
    plan = dict(zip(CHANNELS, [30.0, 40.0, 30.0], strict=True))
    plain = allocator.values(plan)
    scaled = allocator.values(plan, response_scale={allocator.views[0]: 2.0})
    assert float(scaled[0]) == pytest.approx(2.0 * float(plain[0]), rel=1e-14)
    np.testing.assert_array_equal(allocator.values(plan).values, plain.values)


def test_functions_compiled_after_a_build_are_stored_for_the_next_build():
    """Risk-averse and success functions compiled by one allocator load in the next one,
    reading that allocator's own parameters (a quantile set per call)."""
    views = demo_views(draws=DRAWS, random_seed=11)  # views no other test builds
    plan = dict(zip(CHANNELS, [30.0, 40.0, 30.0], strict=True))
    reference = dict(zip(CHANNELS, [40.0, 30.0, 30.0], strict=True))
    first = RobustAllocator(views, PERIODS)
    expected = {q: first.values(plan, quantile=q) for q in (0.1, 0.3)}
    success = first.success_probability(plan, reference)
    again = RobustAllocator(views, PERIODS)
    for q, values in expected.items():
        np.testing.assert_allclose(again.values(plan, quantile=q), values, rtol=1e-12)
    np.testing.assert_allclose(again.success_probability(plan, reference), success, rtol=1e-12)
    assert float(expected[0.1][0]) < float(expected[0.3][0])
    assert again.engine.compiled == 0
    assert "optimizer" not in again.__dict__
