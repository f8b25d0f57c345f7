"""Upper bounds on the best success probability: valid everywhere, tight where known."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_ndtr

from pymc_robust_alloc.policy import (
    PolicyProblem,
    SuccessProbaMax,
    bruteforce_plan,
    log_success_probability,
)
from pymc_robust_alloc.policy.outcomes import outcome_of
from tests.policy.cases import DATA, problem_1d, problem_2d


def _best_of_many_plans(problem, threshold, seed=0, n=20_000):
    """Largest log C over seeded Dirichlet plans and every hard plan."""
    draws = np.random.default_rng(seed).dirichlet(
        np.full(problem.n_policies, 0.5), size=(n, problem.n_buckets)
    )
    hard = bruteforce_plan(problem, threshold)
    return max(
        float(log_success_probability(problem, draws, threshold).max()),
        float(log_success_probability(problem, hard, threshold)),
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_2d_bound_is_never_below_any_plan(seed):
    problem = problem_2d(seed, m=3, k=3)
    solver = SuccessProbaMax(problem)
    for threshold in ([0.0, 0.0], [1.5, 0.5], [-1.0, -1.0], [3.0, 4.0], [-4.0, 3.0]):
        result = solver.solve(threshold)
        best_seen = _best_of_many_plans(problem, threshold, seed)
        assert result.log_bound >= max(best_seen, result.log_probability) - 1e-12
        assert result.gap >= -1e-15
        assert result.certified == (result.log_bound - result.log_probability <= 1e-6)


def test_2d_bound_holds_on_the_segment_in_every_unit():
    rng = np.random.default_rng(5)
    mu = rng.normal(size=(1, 2, 2))
    cov = np.array([[[[2.0, 0.6], [0.6, 1.0]], [[1.0, -0.3], [-0.3, 0.5]]]])
    grid = np.linspace(0.0, 1.0, 4001)
    plans = np.stack([1.0 - grid, grid], axis=-1)[:, None]
    for scale in (1.0, 1e-6, 1e9):
        problem = PolicyProblem(scale * mu, scale**2 * cov)
        threshold = scale * np.array([0.2, 0.4])
        result = SuccessProbaMax(problem).solve(threshold)
        assert result.log_bound >= log_success_probability(problem, plans, threshold).max()
        if scale == 1.0:
            reference = result.log_bound
        assert result.log_bound == pytest.approx(reference, rel=1e-9)


def test_2d_bound_is_tight_when_the_cost_constraint_is_slack():
    # r_c far above every cost: C is P(Y_v > r_v) to 1e-300, the 1-D optimum is exact
    problem = problem_2d(7, m=3, k=3)
    value_only = PolicyProblem(problem.mu[..., 0], problem.cov[..., 0, 0])
    for r_v in (-1.0, 0.5, 2.0):
        result = SuccessProbaMax(problem).solve((r_v, 200.0))
        exact = SuccessProbaMax(value_only).solve(r_v)
        assert result.certified and abs(result.gap) < 1e-9
        assert result.probability == pytest.approx(exact.probability, rel=1e-9)
        assert result.bound == pytest.approx(exact.probability, rel=1e-9)


def test_2d_bound_of_a_single_policy_is_the_better_marginal():
    # one bucket, one policy: C = Phi_2(a, b; -rho) and the bound is min(Phi(a), Phi(b))
    mu = np.array([[[1.0, 0.0]]])
    cov = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    problem = PolicyProblem(mu, cov)
    bound = outcome_of(problem).upper_bound(np.array([0.0, 3.0]))
    assert bound.log_bound == pytest.approx(log_ndtr(1.0), rel=1e-9)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("point_mass", [False, True])
def test_1d_bound_is_the_exact_optimum(seed, point_mass):
    problem = problem_1d(seed, reference_point_mass=point_mass)
    solver = SuccessProbaMax(problem)
    for r in (-2.0, 0.0, 1.0, 3.0, 20.0):
        result = solver.solve(r)
        assert result.bound == result.probability and result.gap == 0.0
        assert result.certified and result.attained
        assert result.log_bound >= _best_of_many_plans(problem, r, seed) - 1e-12


def test_survival_scale_is_accurate_where_c_rounds_to_one():
    problem = PolicyProblem([[12.0, 1.0]], [[1.0, 1.0]])
    result = SuccessProbaMax(problem).solve(0.0)
    assert result.probability == 1.0
    assert result.log_survival == pytest.approx(log_ndtr(-12.0), rel=1e-12)


@pytest.mark.skipif(not DATA.exists(), reason="shared benchmark data not available")
@pytest.mark.parametrize(
    "name", ["rtb_private_2d_9buckets_3policies.npz", "criteo_uplift_v2_2d_8buckets.npz"]
)
def test_paper_data_bounds_hold_against_many_plans(name):
    problem = PolicyProblem.from_npz(DATA / name)
    base = problem.reference_totals
    spread = np.abs(base) + 0.01
    thresholds = [base + spread * np.array(g) for g in ([0.0, 0.0], [0.05, 0.1], [0.1, 0.0])]
    results = SuccessProbaMax(problem).solve_path(thresholds)
    for result, threshold in zip(results, thresholds, strict=True):
        best_seen = _best_of_many_plans(problem, threshold, n=5000)
        assert result.log_bound >= max(best_seen, result.log_probability) - 1e-12


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    seed=st.integers(0, 10_000),
    r_v=st.floats(-3.0, 3.0),
    r_c=st.floats(-3.0, 3.0),
)
def test_directional_bound_holds_for_random_problems_and_plans(seed, r_v, r_c):
    problem = problem_2d(seed, m=2, k=3)
    threshold = np.array([r_v, r_c])
    bound = outcome_of(problem).upper_bound(threshold)
    draws = np.random.default_rng(seed).dirichlet(np.full(3, 0.5), size=(2000, 2))
    seen = log_success_probability(problem, draws, threshold).max()
    hard = log_success_probability(problem, bruteforce_plan(problem, threshold), threshold)
    assert bound.log_bound >= max(seen, hard) - 1e-12
