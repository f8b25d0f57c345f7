"""Properties of the allocator's solves, each against an independent NumPy/SciPy computation.

Every plan the allocator returns is re-evaluated in NumPy from the raw draws
(:mod:`tests.reference`); optima are checked against SciPy's LP (HiGHS) and
SLSQP solvers written in the tests, or against fine lattice searches.

Allocators take seconds to compile, so problems come from small pools, built
once per module (``_problem``), and hypothesis varies budgets, bounds, weights
and candidates on them. The default suite runs a handful of examples per
property; ``pytest -m slow`` runs at least 200 per property. Tests that share a
strategy and a seed share their allocations (``_allocate`` memoises them).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from pymc_robust_alloc import CurveView, RobustAllocator
from tests.reference import (
    Views,
    lattice,
    linear_minimax_weights,
    local_weights,
    random_feasible,
    separable_max_bound,
    slsqp_maximise,
    slsqp_minimax,
)

PERIODS = 4
SEED = 20261130
#: Plans equal to this share of the budget, regrets to this absolute difference.
PLAN_TOL = 1e-6
REGRET_TOL = 1e-9


def _settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        # Each example costs allocator solves: report the first failure, unshrunk.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _fast(examples: int):
    """Default-suite hypothesis settings, seeded (tests with the same strategy share examples)."""

    def decorate(test):
        return seed(SEED)(_settings(examples)(test))

    return decorate


def _slow(examples: int = 200):
    def decorate(test):
        return pytest.mark.slow(seed(SEED)(_settings(examples)(test)))

    return decorate


# --------------------------------------------------------------------------------------
# Problems: views built from NumPy draws, compiled once per module


def mm_dataset(channels, alpha, lam, sigma: float, draws: int, rng) -> xr.Dataset:
    """Michaelis-Menten draws: LogNormal(log estimate, sigma) per draw and channel."""
    shape = (1, draws, len(channels))
    return xr.Dataset(
        {
            "alpha": (("chain", "draw", "channel"), alpha * rng.lognormal(0.0, sigma, shape)),
            "lam": (("chain", "draw", "channel"), lam * rng.lognormal(0.0, sigma, shape)),
        },
        coords={"chain": [0], "draw": np.arange(draws), "channel": list(channels)},
    )


def hill_dataset(channels, slope, kappa, beta, sigma: float, draws: int, rng) -> xr.Dataset:
    """Hill ``beta x^s / (kappa^s + x^s)`` draws around the estimates."""
    shape = (1, draws, len(channels))
    dims = ("chain", "draw", "channel")
    return xr.Dataset(
        {
            "slope": (dims, slope * rng.lognormal(0.0, sigma, shape)),
            "kappa": (dims, kappa * rng.lognormal(0.0, sigma, shape)),
            "beta": (dims, beta * rng.lognormal(0.0, sigma, shape)),
        },
        coords={"chain": [0], "draw": np.arange(draws), "channel": list(channels)},
    )


@dataclass
class Problem:
    """Views, their allocator, the NumPy reference and a typical budget."""

    views: list
    allocator: RobustAllocator
    reference: Views
    scale: float

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.allocator.budget_coords["channel"])


_PROBLEMS: dict[object, Problem] = {}


def _problem(key, build: Callable[[], tuple[list, float]]) -> Problem:
    """Build (once per module) the allocator of ``build() -> (views, typical budget)``."""
    if key not in _PROBLEMS:
        views, scale = build()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            allocator = RobustAllocator(views, PERIODS)
        channels = tuple(allocator.budget_coords["channel"])
        _PROBLEMS[key] = Problem(
            views, allocator, Views.from_views(views, channels, PERIODS), scale
        )
    return _PROBLEMS[key]


BASE_CHANNELS = ("tv", "radio", "search")
BASE_VIEWS = {
    "regression": ([2.0, 1.2, 0.7], [5.0, 3.0, 4.0]),
    "experiment": ([0.8, 2.5, 1.3], [6.0, 3.0, 3.5]),
    "attribution": ([3.0, 1.5, 2.5], [2.5, 7.0, 3.0]),
}


def base_datasets() -> dict[str, xr.Dataset]:
    rng = np.random.default_rng(7)
    return {
        name: mm_dataset(BASE_CHANNELS, np.array(a), np.array(lam), 0.3, 24, rng)
        for name, (a, lam) in BASE_VIEWS.items()
    }


def base_problem(spend_unit: int = 0, response_unit: int = 0) -> Problem:
    """Three Michaelis-Menten views on three channels, in units ``10^spend_unit``, ...

    ... with responses in units ``10^response_unit``: ``lam`` (a spend) and
    ``alpha`` (a response) are multiplied accordingly.
    """

    def build():
        views = [
            CurveView(
                name,
                ds.assign(
                    lam=ds["lam"] * 10.0**spend_unit, alpha=ds["alpha"] * 10.0**response_unit
                ),
            )
            for name, ds in base_datasets().items()
        ]
        return views, 15.0 * 10.0**spend_unit

    return _problem(("base", spend_unit, response_unit), build)


def random_problem(index: int) -> Problem:
    """A random concave problem: 2-10 channels, 2-5 Michaelis-Menten views, 20-40 draws."""

    def build():
        rng = np.random.default_rng(1000 + index)
        n = int(rng.integers(2, 11))
        channels = [f"ch{i}" for i in range(n)]
        views = []
        for m in range(int(rng.integers(2, 6))):
            alpha = rng.lognormal(0.0, 0.6, n)
            lam = rng.uniform(1.0, 6.0, n)
            ds = mm_dataset(channels, alpha, lam, rng.uniform(0.05, 0.5), 30, rng)
            views.append(CurveView(f"view{m}", ds))
        return views, 3.0 * n

    return _problem(("random", index), build)


# --------------------------------------------------------------------------------------
# Strategies


@st.composite
def budgets_and_bounds(draw, channels: Sequence[str], scale: float):
    """A budget around ``scale`` and bounds on some channels (the rest default to (0, B))."""
    n = len(channels)
    budget = scale * draw(st.floats(0.1, 3.0))
    bounded = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    lower = np.zeros(n)
    upper = np.full(n, budget)
    for i in range(n):
        if bounded[i]:
            lower[i] = 0.8 * budget / n * draw(st.one_of(st.just(0.0), st.floats(1e-6, 1.0)))
            upper[i] = lower[i] + budget * draw(st.one_of(st.just(1.0), st.floats(0.02, 1.0)))
    if upper.sum() < 1.05 * budget:  # leave the budget reachable, with some slack
        room = upper - lower
        target = draw(st.floats(1.05, 2.0)) * budget - lower.sum()
        upper = lower + room * target / room.sum()
    bounds = {c: (float(lower[i]), float(upper[i])) for i, c in enumerate(channels) if bounded[i]}
    return float(budget), bounds


@st.composite
def weightings(draw, views: Sequence[str]):
    """``None`` or weights for some views."""
    if not draw(st.booleans()):
        return None
    chosen = draw(st.lists(st.sampled_from(list(views)), min_size=1, unique=True))
    return {v: draw(st.floats(0.25, 4.0)) for v in chosen}


def box_arrays(channels, budget: float, bounds: dict) -> tuple[np.ndarray, np.ndarray]:
    lower = np.array([bounds.get(c, (0.0, budget))[0] for c in channels], dtype=float)
    upper = np.array([bounds.get(c, (0.0, budget))[1] for c in channels], dtype=float)
    return lower, upper


def scaled_bounds(bounds: dict, factor: float) -> dict:
    return {c: (lo * factor, hi * factor) for c, (lo, hi) in bounds.items()}


# --------------------------------------------------------------------------------------
# Allocation (memoised) and the checks every result gets


_RESULTS: dict[tuple, object] = {}


def _allocate(problem: Problem, budget: float, bounds: dict, **kwargs):
    key = (id(problem), budget, tuple(sorted(bounds.items())), repr(sorted(kwargs.items())))
    if key not in _RESULTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            _RESULTS[key] = problem.allocator.allocate(budget, bounds, **kwargs)
    return _RESULTS[key]


def solver_plans(result) -> list[str]:
    """The plans the allocator solved for (not the caller's candidates)."""
    return [str(p) for p in result.convergence.index if p in result.plans["plan"].values]


def plan_array(result, name: str, channels) -> np.ndarray:
    return result.plans.sel(plan=name, channel=list(channels)).values


def check_feasible_and_valued(problem: Problem, result, budget: float, bounds: dict) -> None:
    """Solver plans spend the budget within the bounds; values match NumPy's."""
    channels = problem.channels
    lower, upper = box_arrays(channels, budget, bounds)
    for name in solver_plans(result):
        plan = plan_array(result, name, channels)
        assert abs(plan.sum() - budget) <= 1e-9 * budget, (name, plan.sum(), budget)
        assert np.all(plan >= lower) and np.all(plan <= upper), (name, plan, lower, upper)
    plans = result.plans.sel(channel=list(channels)).values
    np.testing.assert_allclose(
        result.value.values, problem.reference.values(plans).T, rtol=1e-9, atol=0
    )


def _regret_phi(reference: Views, v_star: np.ndarray, w: np.ndarray):
    """Weighted normalised regret per view and its Jacobian, in NumPy."""

    def phi(a):
        values = reference.values(a)
        jacobian = -w[:, None] * reference.gradients(a) / v_star[:, None]
        return w * (1.0 - values / v_star), jacobian

    return phi


def check_v_star(problem: Problem, result, budget: float, bounds: dict) -> None:
    """V* is attained by a returned feasible plan and within 1e-9 of each view's optimum.

    The optimum's upper bound is NumPy's Lagrangian bound (weak duality, valid
    for concave curves separable over channels: Michaelis-Menten).
    """
    ref, channels = problem.reference, problem.channels
    lower, upper = box_arrays(channels, budget, bounds)
    plans = np.array([plan_array(result, n, channels) for n in solver_plans(result)])
    attained = ref.values(plans).max(axis=1)
    v_star = result.v_star.values
    np.testing.assert_allclose(v_star, attained, rtol=1e-12)
    for m, view in enumerate(result.views):
        kappa = np.eye(len(v_star))[m]
        ceiling = separable_max_bound(ref, kappa, lower, upper, budget)
        assert v_star[m] >= ceiling * (1 - 1e-9), (view, v_star[m], ceiling)


def weight_vector(result, weights: dict | None) -> np.ndarray:
    """The weights as the solver uses them: views left out get 1, scaled so the largest is 1."""
    w = np.array([1.0 if weights is None else weights.get(v, 1.0) for v in result.views])
    return w / w.max()


def dual_bound(ref: Views, v_star, w, omega, lower, upper, budget) -> float:
    r"""Lower bound of :math:`\min_a \max_m w_m (1 - V_m(a) / V^*_m)` from simplex weights.

    :math:`\min_a \max_m \phi_m \ge \min_a \sum_m \omega_m \phi_m(a) = \sum_m
    \omega_m w_m - \max_a \sum_m (\omega_m w_m / V^*_m) V_m(a)`, the last max
    bounded above by :func:`~tests.reference.separable_max_bound`.
    """
    kappa = omega * w / v_star
    return float(omega @ w) - separable_max_bound(ref, kappa, lower, upper, budget)


#: Rounding allowed between a bound and the value it bounds (relative).
ROUNDING = 1e-15


def check_certificate(result, name: str) -> None:
    """The package's certificate: certified, gap <= 1e-9, lower bound <= max regret."""
    row = result.certificate.loc[name]
    assert bool(row["certified"])
    assert row["gap"] <= 1e-9, (name, row.to_dict())
    assert row["lower bound"] <= row["max regret"] * (1 + ROUNDING), (name, row.to_dict())


def check_optimal_independently(
    problem: Problem, result, budget, bounds, name: str, w: np.ndarray
) -> None:
    """The plan and its bound against NumPy/SciPy alone.

    - the plan's max regret recomputed in NumPy is the reported one;
    - NumPy's Lagrangian dual bound (:func:`dual_bound`), with multipliers of the
      minimax problem linearised near the plan (HiGHS), is within 1e-9 of it:
      the plan is optimal to 1e-9, proven independently;
    - the package's lower bound is at least the linearised LP's over the whole
      feasible set (a weaker bound) and at most that max regret;
    - an SLSQP epigraph solve from random starts finds no plan below either bound.
    """
    ref, channels = problem.reference, problem.channels
    lower, upper = box_arrays(channels, budget, bounds)
    row = result.certificate.loc[name]
    v_star = result.v_star.values
    phi = _regret_phi(ref, v_star, w)
    a = plan_array(result, name, channels)
    values, jacobian = phi(a)
    worst = values.max()
    assert worst == pytest.approx(row["max regret"], abs=1e-12)
    omega = local_weights(a, values, jacobian, lower, upper, budget)
    dual = dual_bound(ref, v_star, w, omega, lower, upper, budget)
    assert dual <= worst * (1 + ROUNDING), (name, worst, dual)
    assert worst - dual <= 1e-9, (name, worst, dual)
    linear, _ = linear_minimax_weights(values - jacobian @ a, jacobian, lower, upper, budget)
    assert linear <= row["lower bound"] + 1e-9, (name, linear, row.to_dict())
    starts = random_feasible(np.random.default_rng(0), lower, upper, budget, 3)
    _, best = slsqp_minimax(phi, lower, upper, budget, list(starts))
    assert best >= max(row["lower bound"], dual) - 1e-9, (name, best, dual, row.to_dict())
    assert worst <= best + 1e-9, (name, best, row.to_dict())


# --------------------------------------------------------------------------------------
# 5, 6, 7: feasibility, certificates, zero regret of each view's optimum


def _random_case(pool: int):
    return st.integers(0, pool - 1).flatmap(
        lambda i: st.tuples(
            st.just(i),
            budgets_and_bounds(random_problem(i).channels, random_problem(i).scale),
            weightings(random_problem(i).allocator.views),
        )
    )


def _check_plans_feasible(case):
    index, (budget, bounds), weights = case
    problem = random_problem(index)
    result = _allocate(problem, budget, bounds, weights=weights)
    check_feasible_and_valued(problem, result, budget, bounds)


def _check_zero_regret(case):
    index, (budget, bounds), weights = case
    problem = random_problem(index)
    result = _allocate(problem, budget, bounds, weights=weights)
    for view in result.views:
        assert abs(float(result.regret.sel(plan=view, view=view))) <= REGRET_TOL
    check_v_star(problem, result, budget, bounds)
    # No random feasible plan is worth more than V* to any view.
    lower, upper = box_arrays(problem.channels, budget, bounds)
    plans = random_feasible(np.random.default_rng(1), lower, upper, budget, 200)
    assert np.all(problem.reference.values(plans).max(axis=1) <= result.v_star.values * (1 + 1e-12))


def _check_certificates(case):
    index, (budget, bounds), weights = case
    problem = random_problem(index)
    result = _allocate(problem, budget, bounds, weights=weights)
    check_feasible_and_valued(problem, result, budget, bounds)
    check_v_star(problem, result, budget, bounds)
    names = ["minimax"] if weights is None else ["minimax", "weighted minimax"]
    for name in names:
        w = weight_vector(result, weights if name == "weighted minimax" else None)
        check_optimal_independently(problem, result, budget, bounds, name, w)
        check_certificate(result, name)


@_fast(8)
@given(case=_random_case(3))
def test_every_solver_plan_spends_the_budget_within_the_bounds(case):
    _check_plans_feasible(case)


@_slow()
@given(case=_random_case(25))
def test_every_solver_plan_spends_the_budget_within_the_bounds_many_problems(case):
    _check_plans_feasible(case)


@_fast(8)
@given(case=_random_case(3))
def test_each_view_optimum_has_zero_regret_under_that_view(case):
    _check_zero_regret(case)


@_slow()
@given(case=_random_case(25))
def test_each_view_optimum_has_zero_regret_under_that_view_many_problems(case):
    _check_zero_regret(case)


@_fast(8)
@given(case=_random_case(3))
def test_minimax_certificate_is_tight_and_no_independent_solve_beats_its_bound(case):
    _check_certificates(case)


@_slow()
@given(case=_random_case(25))
def test_minimax_certificate_is_tight_and_no_independent_solve_beats_its_bound_many_problems(
    case,
):
    _check_certificates(case)


# Found by the hypothesis tests above (SLSQP ended with status 8 at a certified optimum,
# reported as not converged); fixed by restarting SLSQP. Pinned here.
def test_a_solve_whose_certificate_proves_optimality_is_reported_converged():
    problem = random_problem(1)
    budget = 88.51248430223269
    bounds = {
        "ch1": (6.452180724710144, 94.96466502694284),
        "ch2": (4.80900931487688, 93.32149361710957),
        "ch5": (3.3724176715501613, 82.39949639072145),
        "ch6": (3.505283059058898, 92.01776736129159),
    }
    weights = {"view0": 3.5847476406746983, "view1": 1.5, "view2": 3.1250878474950174}
    weights["view3"] = 2.670076618605961
    result = _allocate(problem, budget, bounds, weights=weights)
    w = weight_vector(result, weights)
    check_optimal_independently(problem, result, budget, bounds, "weighted minimax", w)
    check_certificate(result, "weighted minimax")
    assert result.converged, result.convergence[["success", "scipy_success", "message", "gap"]]


# --------------------------------------------------------------------------------------
# 6b: a 25-channel problem, its lower bound re-derived with NumPy and HiGHS


def wide_problem() -> Problem:
    def build():
        rng = np.random.default_rng(25)
        channels = [f"ch{i:02d}" for i in range(25)]
        views = [
            CurveView(
                f"view{m}",
                mm_dataset(
                    channels, rng.uniform(0.5, 3.0, 25), rng.uniform(1.0, 5.0, 25), 0.3, 40, rng
                ),
            )
            for m in range(4)
        ]
        return views, 100.0

    return _problem("wide", build)


WIDE_WEIGHTS = {"view1": 2.0}


@pytest.mark.slow
def test_certificate_on_25_channels_matches_an_independent_lp_and_dual_bound():
    problem = wide_problem()
    result = _allocate(problem, 100.0, {}, weights=WIDE_WEIGHTS)
    check_feasible_and_valued(problem, result, 100.0, {})
    check_v_star(problem, result, 100.0, {})
    for name, weights in (("minimax", None), ("weighted minimax", WIDE_WEIGHTS)):
        w = weight_vector(result, weights)
        check_optimal_independently(problem, result, 100.0, {}, name, w)
        check_certificate(result, name)
    assert result.converged, result.convergence[["success", "first_order", "tolerance"]]


# --------------------------------------------------------------------------------------
# 2, 3, 4, 7b: invariances


def _base_case():
    base = base_problem()
    return st.tuples(
        budgets_and_bounds(base.channels, base.scale), weightings(base.allocator.views)
    )


def assert_same_plans(result, other, budget: float, names=None, *, other_factor: float = 1.0):
    names = names or solver_plans(result)
    a = result.plans.sel(plan=names).transpose("plan", "channel")
    b = other.plans.sel(plan=names, channel=list(a["channel"].values)).transpose("plan", "channel")
    gap = np.abs(b.values / other_factor - a.values).max()
    assert gap <= PLAN_TOL * budget, (gap, names)


def assert_same_regret(result, other, names=None, atol: float = REGRET_TOL):
    names = names or solver_plans(result)
    a = result.regret.sel(plan=names).transpose("plan", "view")
    b = other.regret.sel(plan=names, view=list(a["view"].values)).transpose("plan", "view")
    np.testing.assert_allclose(b.values, a.values, rtol=0, atol=atol)
    worst = (result.regret_matrix["max regret"], other.regret_matrix["max regret"])
    np.testing.assert_allclose(worst[1][names], worst[0][names], rtol=0, atol=REGRET_TOL)


def _check_spend_units(k: int, case) -> None:
    (budget, bounds), weights = case
    base, scaled = base_problem(), base_problem(spend_unit=k)
    factor = 10.0**k
    first = _allocate(base, budget, bounds, weights=weights)
    second = _allocate(scaled, budget * factor, scaled_bounds(bounds, factor), weights=weights)
    check_feasible_and_valued(scaled, second, budget * factor, scaled_bounds(bounds, factor))
    assert_same_plans(first, second, budget, other_factor=factor)
    assert_same_regret(first, second)


@_fast(2)
@pytest.mark.parametrize("k", [-6, 9])
@given(case=_base_case())
def test_plans_and_regret_do_not_depend_on_the_unit_of_spend(k, case):
    _check_spend_units(k, case)


@_slow()
@given(k=st.integers(-6, 9), case=_base_case())
def test_plans_and_regret_do_not_depend_on_the_unit_of_spend_any_unit(k, case):
    _check_spend_units(k, case)


def _check_converged(case) -> None:
    (budget, bounds), weights = case
    result = _allocate(base_problem(), budget, bounds, weights=weights)
    assert result.converged, result.convergence[["success", "first_order", "tolerance"]]


# The "all solves converged" part of the unit properties, pinned once: these tests
# draw what the unit tests draw (same strategies and seed), so reuse their allocations.
@_fast(2)
@given(case=_base_case())
def test_every_solve_on_the_base_problem_converges(case):
    _check_converged(case)


@_slow()
@given(k=st.integers(-6, 9), case=_base_case())  # k unused: drawn as the unit tests draw
def test_every_solve_on_the_base_problem_converges_many_budgets(k, case):
    _check_converged(case)


SLACK_CASE = (40.199826166221165, {"search": (0.0, 20.099913083110582)})


def test_minimax_plan_with_a_slack_view_is_optimal_by_an_independent_dual():
    budget, bounds = SLACK_CASE
    result = _allocate(base_problem(), budget, bounds)
    w = weight_vector(result, None)
    check_optimal_independently(base_problem(), result, budget, bounds, "minimax", w)


def test_minimax_certificate_is_tight_when_a_view_is_slack():
    budget, bounds = SLACK_CASE
    result = _allocate(base_problem(), budget, bounds)
    check_certificate(result, "minimax")
    assert result.converged


def test_certificate_lower_bound_never_exceeds_the_max_regret_it_bounds():
    problem = random_problem(2)
    bounds = {
        "ch0": (0.0, 0.8247774443191828),
        "ch4": (0.0, 2.1),
        "ch5": (0.0, 2.1),
        "ch6": (0.02856340186479415, 2.128563401864794),
    }
    weights = {"view1": 0.4727565924038858, "view2": 2.290522660336287}
    weights["view0"] = 3.4367680036532695
    result = _allocate(problem, 2.1, bounds, weights=weights)
    table = result.certificate
    assert (table["lower bound"] <= table["max regret"]).all(), table


def _check_response_units(k: int, case) -> None:
    (budget, bounds), weights = case
    base, scaled = base_problem(), base_problem(response_unit=k)
    first = _allocate(base, budget, bounds, weights=weights)
    second = _allocate(scaled, budget, bounds, weights=weights)
    check_feasible_and_valued(scaled, second, budget, bounds)
    assert_same_plans(first, second, budget)
    assert_same_regret(first, second)
    np.testing.assert_allclose(second.v_star.values, first.v_star.values * 10.0**k, rtol=1e-9)
    # The same change of unit through response_scale on the base allocator.
    third = _allocate(
        base,
        budget,
        bounds,
        weights=weights,
        response_scale=dict.fromkeys(base.allocator.views, 10.0**k),
    )
    assert_same_plans(first, third, budget)
    assert_same_regret(first, third)


@_fast(2)
@pytest.mark.parametrize("k", [-6, 6])
@given(case=_base_case())
def test_plans_and_regret_do_not_depend_on_the_unit_of_response(k, case):
    _check_response_units(k, case)


@_slow()
@given(k=st.integers(-6, 9), case=_base_case())
def test_plans_and_regret_do_not_depend_on_the_unit_of_response_any_unit(k, case):
    _check_response_units(k, case)


def reordered_problem() -> Problem:
    def build():
        order = list(reversed(BASE_CHANNELS))
        views = [CurveView(name, ds.sel(channel=order)) for name, ds in base_datasets().items()]
        return views, 15.0

    return _problem("reordered", build)


def _check_channel_order(case) -> None:
    (budget, bounds), weights = case
    first = _allocate(base_problem(), budget, bounds, weights=weights)
    reversed_bounds = dict(reversed(list(bounds.items())))
    second = _allocate(reordered_problem(), budget, reversed_bounds, weights=weights)
    assert_same_plans(first, second, budget)
    # Max regrets agree to 1e-9 (certified); a view's regret below the max moves with the
    # plan, which SLSQP pins to ~sqrt(ftol) along the optimum's flat directions.
    assert_same_regret(first, second, atol=1e-7)


@_fast(3)
@given(case=_base_case())
def test_channel_order_of_the_views_changes_no_plan(case):
    _check_channel_order(case)


@_slow()
@given(case=_base_case())
def test_channel_order_of_the_views_changes_no_plan_many_budgets(case):
    _check_channel_order(case)


def duplicated_problem() -> Problem:
    def build():
        datasets = base_datasets()
        views = [CurveView(name, ds) for name, ds in datasets.items()]
        views.append(CurveView("regression_copy", datasets["regression"]))
        return views, 15.0

    return _problem("duplicated", build)


def _check_duplicate(case) -> None:
    (budget, bounds), _ = case
    first = _allocate(base_problem(), budget, bounds)
    second = _allocate(duplicated_problem(), budget, bounds)
    assert_same_plans(first, second, budget, ["minimax"])
    worst = (first.regret_matrix, second.regret_matrix)
    assert worst[1].loc["minimax", "max regret"] == pytest.approx(
        worst[0].loc["minimax", "max regret"], abs=REGRET_TOL
    )
    np.testing.assert_allclose(
        second.regret.sel(view="regression_copy").values,
        second.regret.sel(view="regression").values,
        atol=REGRET_TOL,
    )


@_fast(3)
@given(case=_base_case())
def test_duplicating_a_view_changes_neither_the_minimax_plan_nor_its_max_regret(case):
    _check_duplicate(case)


@_slow()
@given(case=_base_case())
def test_duplicating_a_view_changes_neither_the_minimax_plan_nor_its_max_regret_many(case):
    _check_duplicate(case)


# --------------------------------------------------------------------------------------
# 8: user plans


@st.composite
def candidate_cases(draw):
    """Bounds with a binding upper bound, a feasible candidate and an infeasible one."""
    base = base_problem()
    (budget, bounds), _ = draw(_base_case())
    channel = draw(st.sampled_from(BASE_CHANNELS))
    lower, upper = box_arrays(BASE_CHANNELS, budget, bounds)
    i = BASE_CHANNELS.index(channel)
    if upper[i] >= budget:  # give the channel an upper bound it can break, budget reachable
        least = max(lower[i], budget - (upper.sum() - upper[i]))
        upper[i] = least + 0.5 * (budget - least)
        bounds = {**bounds, channel: (float(lower[i]), float(upper[i]))}
        lower, upper = box_arrays(BASE_CHANNELS, budget, bounds)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    (feasible,) = random_feasible(rng, lower, upper, budget, 1)
    excess = budget * draw(st.floats(1e-6, 0.5))
    if draw(st.booleans()):  # overspend
        infeasible = feasible + excess * rng.dirichlet(np.ones(len(feasible)))
    else:  # move spend into the channel, beyond its upper bound, budget kept
        infeasible = feasible.copy()
        infeasible[i] = upper[i] + excess
        others = [j for j in range(len(feasible)) if j != i]
        take = infeasible[i] - feasible[i]
        room = feasible[others]
        if room.sum() < take:  # cannot keep the budget: overspend instead
            infeasible[others] = feasible[others]
        else:
            infeasible[others] = feasible[others] - take * room / room.sum()
    return base, budget, bounds, feasible, infeasible


def _violation(plan, lower, upper, budget) -> float:
    return (
        max(
            abs(plan.sum() - budget),
            np.max(lower - plan, initial=0),
            np.max(plan - upper, initial=0),
        )
        / budget
    )


def _check_candidates(case) -> None:
    base, budget, bounds, feasible, infeasible = case
    lower, upper = box_arrays(BASE_CHANNELS, budget, bounds)
    label = dict(zip(BASE_CHANNELS, feasible.tolist(), strict=True))
    bad = dict(zip(BASE_CHANNELS, infeasible.tolist(), strict=True))
    with pytest.warns(UserWarning, match="not feasible") as caught:
        result = base.allocator.allocate(budget, bounds, candidates={"current": label, "wish": bad})
    assert any("'wish'" in str(w.message) for w in caught)
    assert not any("'current'" in str(w.message) for w in caught)
    table = result.user_plans
    assert not table.loc["wish", "feasible"]
    assert table.loc["wish", "violation"] == pytest.approx(
        _violation(infeasible, lower, upper, budget), rel=1e-9
    )
    assert table.loc["current", "feasible"]
    check_feasible_and_valued(base, result, budget, bounds)
    for name in solver_plans(result):
        plan = plan_array(result, name, BASE_CHANNELS)
        assert not np.allclose(plan, infeasible, rtol=0, atol=1e-9 * budget), name
    # V* comes from feasible plans only; minimax is at least as good as the feasible candidate.
    feasible_names = [*solver_plans(result), "current"]
    plans = np.array([plan_array(result, n, BASE_CHANNELS) for n in feasible_names])
    np.testing.assert_allclose(
        result.v_star.values, base.reference.values(plans).max(axis=1), rtol=1e-12
    )
    worst = result.regret_matrix["max regret"]
    assert worst["minimax"] <= worst["current"] + REGRET_TOL


@_fast(4)
@given(case=candidate_cases())
def test_infeasible_candidate_is_flagged_warned_and_never_a_solver_plan(case):
    _check_candidates(case)


@_slow()
@given(case=candidate_cases())
def test_infeasible_candidate_is_flagged_warned_and_never_a_solver_plan_many(case):
    _check_candidates(case)


@pytest.mark.parametrize(
    "name",
    [*BASE_VIEWS, "averaged", "minimax", "weighted minimax", "risk-averse minimax"],
)
def test_candidate_named_like_an_allocator_plan_is_refused(name):
    allocator = base_problem().allocator
    plan = dict.fromkeys(BASE_CHANNELS, 5.0)
    with pytest.raises(ValueError, match="rename the candidate"):
        allocator.allocate(15.0, candidates={name: plan})


# --------------------------------------------------------------------------------------
# 11 and degenerate bounds


def test_a_method_other_than_slsqp_is_refused():
    allocator = base_problem().allocator
    with pytest.raises(ValueError, match="SLSQP"):
        allocator.allocate(15.0, minimize_kwargs={"method": "L-BFGS-B"})


def test_bounds_that_fix_the_plan_return_that_plan():
    allocator = base_problem().allocator
    bounds = {"tv": (4.0, 4.0), "radio": (5.0, 5.0), "search": (6.0, 6.0)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = allocator.allocate(15.0, bounds)
    plans = result.plans.sel(channel=list(BASE_CHANNELS)).values
    np.testing.assert_array_equal(plans, np.tile([4.0, 5.0, 6.0], (len(plans), 1)))
    assert result.converged


# --------------------------------------------------------------------------------------
# 9: risk-averse solves against a lattice


QUANTILE_VIEWS = 2


def quantile_problem(index: int) -> Problem:
    """Two or three channels, two Michaelis-Menten views with wide draws (16 each)."""

    def build():
        rng = np.random.default_rng(500 + index)
        n = 2 + index % 2
        channels = [f"ch{i}" for i in range(n)]
        views = [
            CurveView(
                f"view{m}",
                mm_dataset(channels, rng.lognormal(0, 0.5, n), rng.uniform(1, 5, n), 0.4, 16, rng),
            )
            for m in range(QUANTILE_VIEWS)
        ]
        return views, 3.0 * n

    return _problem(("quantile", index), build)


def _quantile_case(pool: int):
    return st.tuples(
        st.integers(0, pool - 1).flatmap(
            lambda i: st.tuples(
                st.just(i),
                budgets_and_bounds(quantile_problem(i).channels, quantile_problem(i).scale),
            )
        ),
        st.sampled_from([0.05, 0.1]),
    )


def _lattice_steps(n: int) -> int:
    return 20000 if n == 2 else 400


def _check_quantile(case) -> None:
    (index, (budget, bounds)), q = case
    problem = quantile_problem(index)
    ref, channels = problem.reference, problem.channels
    result = _allocate(problem, budget, bounds, quantile=q, n_starts=4)
    # Not asserted here: result.converged (see the xfail test below).
    check_feasible_and_valued(problem, result, budget, bounds)
    lower, upper = box_arrays(channels, budget, bounds)
    grid = lattice(lower, upper, budget, _lattice_steps(len(channels)))
    low = np.concatenate(
        [ref.quantile_values(grid[i : i + 5000], q) for i in range(0, len(grid), 5000)], axis=1
    )
    q_star = result.quantile_v_star.values
    # Each view's quantile optimum: attained by its plan (NumPy), at least the lattice's best.
    for m, view in enumerate(result.views):
        plan = result.quantile_optima.sel(plan=f"{view} (q={q:g})", channel=list(channels)).values
        assert abs(plan.sum() - budget) <= 1e-9 * budget
        assert np.all(plan >= lower) and np.all(plan <= upper)
        assert ref.quantile_values(plan, q)[m] <= q_star[m] * (1 + 1e-12)
        assert q_star[m] >= low[m].max() * (1 - 1e-5), (view, q_star[m], low[m].max())
    # Risk-averse minimax: its max quantile regret (NumPy) is at most the lattice's best.
    a = plan_array(result, "risk-averse minimax", channels)
    ours = (1 - ref.quantile_values(a, q) / q_star).max()
    assert ours == pytest.approx(
        float(result.quantile_regret.sel(plan="risk-averse minimax").max()), abs=1e-12
    )
    best = (1 - low / q_star[:, None]).max(axis=0).min()
    assert ours <= best + 1e-5, (ours, best)


def test_risk_averse_optima_and_minimax_reach_a_fine_lattice_search():
    # One fixed case: a risk-averse allocate takes 5 to 40 s (see the slow suite).
    _check_quantile(((0, (6.0, {"ch0": (0.5, 5.0)})), 0.1))


@_slow()
@pytest.mark.xfail(
    strict=True,
    reason="quantile_problem(3) (3 channels, 2 views, 16 draws), budget 10.358, q=0.05: "
    "view0's quantile optimum is 3.709337, below a lattice point's 3.710160 (2.2e-4 "
    "relative); the solve is reported not converged (Clarke measure 2.1e-2, 7 starts, "
    "2 local optima). See the deterministic tests below.",
)
@given(case=_quantile_case(6))
def test_risk_averse_optima_and_minimax_reach_a_fine_lattice_search_many_problems(case):
    _check_quantile(case)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="quantile_problem(3), budget 10.358, q=0.05: view0's quantile optimum 3.709337 "
    "< lattice best 3.710160 (2.2e-4 relative); reported not converged (Clarke 2.1e-2).",
)
def test_risk_averse_view_optimum_reaches_the_lattice_on_a_three_channel_problem():
    _check_quantile(((3, (10.35786854592253, {})), 0.05))


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="quantile_problem(3) (3 channels, 2 views, 16 draws), budget 0.9, q=0.05: the "
    "solve of view1's quantile optimum stops at a plan where three draws tie, reports "
    "success False (Clarke measure 3.5e-3 > 1e-6, ConvergenceWarning), and a step of "
    "1e-2 (1e-4) from it raises the quantile value by 1.25e-5 (6e-7) relative.",
)
def test_risk_averse_view_optimum_has_no_better_plan_nearby():
    problem = quantile_problem(3)
    result = _allocate(problem, 0.9, {}, quantile=0.05, n_starts=4)
    plan = result.quantile_optima.sel(plan="view1 (q=0.05)", channel=list(problem.channels))
    a = plan.values
    value = problem.reference.quantile_values(a, 0.05)[1]
    step = np.linspace(-1e-2, 1e-2, 201)
    x, y = (v.ravel() for v in np.meshgrid(step, step, indexing="ij"))
    nearby = np.column_stack([a[0] + x, a[1] + y, a[2] - x - y])
    nearby = nearby[(nearby >= 0).all(axis=1)]
    best = problem.reference.quantile_values(nearby, 0.05)[1].max()
    assert best <= value * (1 + 1e-9), (value, best)
    assert result.converged


# --------------------------------------------------------------------------------------
# 10: non-concave (S-shaped Hill) views: multistart against a polished lattice search


def hill_problem(index: int) -> Problem:
    """S-shaped Hill views (slope 2.5-4.5): corner and interior local optima."""

    def build():
        rng = np.random.default_rng(700 + index)
        n = 2 + index % 2
        channels = [f"ch{i}" for i in range(n)]
        views = [
            CurveView(
                f"view{m}",
                hill_dataset(
                    channels,
                    rng.uniform(2.5, 4.5, n),
                    rng.uniform(3.0, 6.0, n),
                    rng.uniform(0.8, 1.5, n),
                    0.05,
                    20,
                    rng,
                ),
                saturation="hill",
            )
            for m in range(2)
        ]
        return views, 4.0 * n

    return _problem(("hill", index), build)


def _polished_best(f, grid, values, lower, upper, budget, *, maximise: bool, top: int = 6):
    """The lattice's best, polished by SciPy SLSQP from its ``top`` best points."""
    order = np.argsort(-values if maximise else values)
    picked = []
    for i in order:  # distinct starting points
        if all(np.abs(grid[i] - grid[j]).max() > 0.02 * budget for j in picked):
            picked.append(i)
        if len(picked) == top:
            break
    starts = [grid[i] for i in picked]
    if maximise:
        _, best = slsqp_maximise(f, lower, upper, budget, starts)
        return max(best, values.max())
    _, best = slsqp_minimax(f, lower, upper, budget, starts)
    return min(best, values.min())


def _check_hill(case) -> None:
    index, (budget, bounds) = case
    problem = hill_problem(index)
    ref, channels = problem.reference, problem.channels
    assert not problem.allocator.concave
    result = _allocate(problem, budget, bounds)
    assert result.converged, result.convergence[["success", "first_order", "message"]]
    check_feasible_and_valued(problem, result, budget, bounds)
    table = result.convergence
    assert not table["certified"].any()
    assert (table["starts"] > 1).all() and (table["local_optima"] >= 1).all()
    assert not result.certificate["certified"].any()
    assert result.certificate["lower bound"].isna().all()
    lower, upper = box_arrays(channels, budget, bounds)
    grid = lattice(lower, upper, budget, 20000 if len(channels) == 2 else 400)
    values = np.concatenate(
        [ref.values(grid[i : i + 5000]) for i in range(0, len(grid), 5000)], axis=1
    )
    v_star = result.v_star.values
    for m, view in enumerate(result.views):

        def f(a, m=m):
            return ref.values(a)[m], ref.gradients(a)[m]

        best = _polished_best(f, grid, values[m], lower, upper, budget, maximise=True)
        assert v_star[m] >= best * (1 - 1e-6), (view, v_star[m], best)

    def total(a):
        return ref.values(a).sum(), ref.gradients(a).sum(axis=0)

    averaged = ref.values(plan_array(result, "averaged", channels)).sum()
    best = _polished_best(total, grid, values.sum(axis=0), lower, upper, budget, maximise=True)
    assert averaged >= best * (1 - 1e-6), (averaged, best)
    phi = _regret_phi(ref, v_star, np.ones(len(v_star)))
    regrets = (1 - values / v_star[:, None]).max(axis=0)
    best = _polished_best(phi, grid, regrets, lower, upper, budget, maximise=False)
    ours = result.regret_matrix.loc["minimax", "max regret"]
    assert ours <= best + 1e-6, (ours, best)


def test_s_shaped_views_have_several_local_optima_and_multistart_finds_the_best():
    case = (0, (8.0, {}))
    _check_hill(case)
    result = _allocate(hill_problem(0), 8.0, {})
    assert result.convergence["local_optima"].max() >= 2


@_fast(2)
@given(case=st.tuples(st.just(0), budgets_and_bounds(("ch0", "ch1"), 8.0)))
def test_s_shaped_optima_and_minimax_reach_a_polished_lattice_search(case):
    _check_hill(case)


@_slow()
@given(
    case=st.integers(0, 5).flatmap(
        lambda i: st.tuples(
            st.just(i), budgets_and_bounds(hill_problem(i).channels, hill_problem(i).scale)
        )
    )
)
def test_s_shaped_optima_and_minimax_reach_a_polished_lattice_search_many_problems(case):
    _check_hill(case)


# --------------------------------------------------------------------------------------
# Custom constraints in any unit of spend


def _share_cap(channel_index: int, share: float):
    """A linear PyMC-Marketing constraint: one channel at most ``share`` of the budget."""
    from pymc_marketing.mmm.constraints import Constraint

    def fun(budgets, total_budget, optimizer):
        return share * total_budget - budgets.isel(channel=channel_index)

    return Constraint("share_cap", "ineq", fun)


@pytest.mark.parametrize("k", [-3, 6])
def test_a_constrained_plan_does_not_depend_on_the_unit_of_spend(k):
    """A share cap gives the same plans, regret and certificates at spend units 1e-3 and 1e6."""
    base, scaled = base_problem(), base_problem(spend_unit=k)
    factor, budget, share = 10.0**k, 15.0, 0.15
    bounds = dict.fromkeys(BASE_CHANNELS, (0.0, budget))
    cap = _share_cap(base.channels.index("radio"), share)
    first = base.allocator.allocate(budget, bounds, constraints=[cap])
    second = scaled.allocator.allocate(
        budget * factor, scaled_bounds(bounds, factor), constraints=[cap]
    )
    radio = first.plans.sel(channel="radio", plan=solver_plans(first))
    assert float(radio.max()) == pytest.approx(share * budget, rel=1e-6)  # the cap binds
    for result, unit in ((first, 1.0), (second, factor)):
        spend = result.plans.sel(channel="radio", plan=solver_plans(result)) / unit
        assert float(spend.max()) <= share * budget * (1 + 1e-9)
        check_certificate(result, "minimax")
    assert_same_plans(first, second, budget, other_factor=factor)
    assert_same_regret(first, second)
