"""The exact 1-D solver, the warm-started path, and the compiled kernels."""

import numpy as np
import pytest
from scipy.special import log_ndtr

from pymc_robust_alloc.policy import (
    PolicyProblem,
    SuccessProbaMax,
    algorithm1,
    bruteforce_plan,
    success_probability,
)
from pymc_robust_alloc.policy._numba import bvn_cdf_genz, log_ndtr_scalar, quadrature_logcdf
from pymc_robust_alloc.policy.bvn import _owen_cdf
from pymc_robust_alloc.policy.criteria import _log_complement_1d
from tests.policy.cases import DATA, problem_1d, problem_2d
from tests.policy.reference import quadrature_logcdf as numpy_quadrature_logcdf


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("point_mass", [False, True])
def test_exact_1d_solver_beats_hard_plans_random_plans_and_slsqp(seed, point_mass):
    problem = problem_1d(seed, reference_point_mass=point_mass)
    exact = SuccessProbaMax(problem)
    assert exact.method == "frontier"
    slsqp = SuccessProbaMax(problem, method="slsqp", n_random=30, n_local=6, seed=9)
    draws = np.random.default_rng(seed).dirichlet(np.ones(3), size=(20_000, 4))
    for r in (-2.0, 0.0, 1.0, 3.0, 6.0):
        result = exact.solve(r)
        best_other = max(
            float(success_probability(problem, bruteforce_plan(problem, r), r)),
            float(success_probability(problem, draws, r).max()),
            slsqp.solve(r).probability,
        )
        assert result.probability >= best_other - 1e-12
        # compare where C rounds to one too: the complement of the exact plan is
        # no larger than that of the best random plan
        logq = _log_complement_1d(result.psi.values, problem.mu, problem.cov, r)
        logq_draws = _log_complement_1d(draws, problem.mu, problem.cov, r)
        assert logq <= logq_draws.min() + 1e-12


def test_exact_1d_plan_splits_at_most_one_bucket():
    problem = problem_1d(4, m=6)
    for r in np.linspace(-1.0, 4.0, 11):
        psi = SuccessProbaMax(problem).solve(r).psi.values
        assert np.sum(np.count_nonzero(psi > 1e-12, axis=1) > 1) <= 1
        np.testing.assert_allclose(psi.sum(axis=1), 1.0)


def test_frontier_method_refuses_2d_problems():
    with pytest.raises(ValueError, match="1-D outcomes only"):
        SuccessProbaMax(problem_2d(0), method="frontier")


def test_warm_started_path_is_as_good_as_cold_solves():
    problem = problem_2d(3)
    thresholds = np.array([[r_v, 0.5] for r_v in np.linspace(-1.0, 2.0, 7)])
    path = SuccessProbaMax(problem).solve_path(thresholds)
    cold = SuccessProbaMax(problem, n_random=30, n_local=6, seed=4)
    for t, res in zip(thresholds, path, strict=True):
        assert res.probability >= cold.solve(t).probability - 1e-9


def test_genz_bivariate_normal_matches_owens_t():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0.0, 3.0, size=(2, 2000))
    rho = rng.uniform(-0.999, 0.999, size=2000)
    genz = np.array([bvn_cdf_genz(*args) for args in zip(a, b, rho, strict=True)])
    np.testing.assert_allclose(genz, _owen_cdf(a, b, rho), rtol=0, atol=1e-14)


def test_compiled_tail_quadrature_matches_the_numpy_reference():
    rng = np.random.default_rng(1)
    a = rng.uniform(-40.0, 2.0, 300)
    b = rng.uniform(-40.0, 40.0, 300)
    rho = rng.uniform(-0.999, 0.999, 300)
    x, y = np.minimum(a, b), np.maximum(a, b)
    np.testing.assert_allclose(
        quadrature_logcdf(x, y, rho), numpy_quadrature_logcdf(x, y, rho), rtol=1e-13
    )
    z = np.linspace(-300.0, 30.0, 661)
    np.testing.assert_allclose([log_ndtr_scalar(v) for v in z], log_ndtr(z), rtol=1e-12)


@pytest.mark.parametrize("dims", [1, 2])
def test_compiled_algorithm1_follows_the_numpy_steps(dims):
    if dims == 1:
        problem = problem_1d(5)
        thresholds = [0.0, 2.0]
    else:
        problem = problem_2d(5)
        thresholds = [[0.0, 0.5], [1.0, 1.0]]
    runs = [
        algorithm1(problem, thresholds, eta=1e-2, n_steps=300, n_dirichlet=200, backend=b)
        for b in ("numba", "numpy")
    ]
    for fast, ref in zip(*runs, strict=True):
        np.testing.assert_allclose(fast.psi.values, ref.psi.values, atol=1e-9)


@pytest.mark.skipif(not DATA.exists(), reason="shared benchmark data not available")
def test_private_1d_exact_solver_beats_bruteforce_across_the_grid():
    problem = PolicyProblem.from_npz(DATA / "rtb_private_1d_9buckets_3policies.npz")
    results = SuccessProbaMax(problem).solve_path(np.arange(0.010, 0.0366, 0.0025))
    for res in results:
        r = res.threshold
        hard = success_probability(problem, bruteforce_plan(problem, r), r)
        assert res.probability >= hard - 1e-12


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_bucket_two_policies_is_searched_on_the_segment(seed):
    problem = problem_2d(seed, m=1, k=2)
    solver = SuccessProbaMax(problem)
    assert solver.method == "segment"
    share = np.linspace(0.0, 1.0, 100_001)
    plans = np.stack([1.0 - share, share], axis=-1)[:, None, :]
    slsqp = SuccessProbaMax(problem, method="slsqp")
    for threshold in [(-3.0, 3.0), (0.0, 0.5), (1.0, -0.5), (2.0, -2.0)]:
        result = solver.solve(threshold)
        dense = success_probability(problem, plans, threshold).max()
        assert result.probability >= dense - 1e-12
        assert result.probability >= slsqp.solve(threshold).probability - 1e-12


def test_segment_needs_one_bucket_and_two_policies():
    with pytest.raises(ValueError, match="one bucket with two policies"):
        SuccessProbaMax(problem_2d(0), method="segment")
