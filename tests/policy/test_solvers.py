"""SuccessProbaMax and Algorithm 1 give no silent answers: bad inputs, suprema, point masses."""

import numpy as np
import pytest

from pymc_robust_alloc.policy import (
    PolicyProblem,
    SuccessProbaMax,
    algorithm1,
    success_probability,
)
from tests.policy.cases import TABLE1_MU, TABLE1_VAR, problem_1d, problem_2d


@pytest.fixture(scope="module")
def table1():
    return PolicyProblem(TABLE1_MU, TABLE1_VAR)


@pytest.mark.parametrize("dims", [1, 2])
def test_warm_start_and_baselines_off_the_simplex_are_refused(dims):
    problem = problem_1d(0, m=3) if dims == 1 else problem_2d(0)
    threshold = 0.5 if dims == 1 else (0.5, 0.5)
    solver = SuccessProbaMax(problem, method="slsqp")
    tiny = np.full((3, 3), 0.01 / 3)  # rows summing to 0.01
    with pytest.raises(ValueError, match=r"Each row of warm_start .* row 0 sums to 0\.01"):
        solver.solve(threshold, warm_start=tiny)
    with pytest.raises(ValueError, match=r"Each row of baselines\['mine'\] .* sums to 0\.01"):
        solver.solve(threshold, baselines={"mine": tiny})
    with pytest.raises(ValueError, match=r"Expected warm_start of shape \(3, 3\) .* \(2, 3\)"):
        solver.solve(threshold, warm_start=np.full((2, 3), 1 / 3))


def test_warm_start_is_not_returned_as_given(table1):
    warm = np.full((3, 3), 1 / 3)
    result = SuccessProbaMax(table1, method="slsqp").solve(2.0, warm_start=warm)
    assert result.psi.values is not warm
    assert result.probability >= success_probability(table1, warm, 2.0)


@pytest.mark.parametrize("dims", [1, 2])
def test_nan_threshold_is_an_error_not_a_probability(dims):
    problem = problem_1d(0) if dims == 1 else problem_2d(0)
    bad = np.nan if dims == 1 else (np.nan, 0.5)
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        SuccessProbaMax(problem).solve(bad)
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        SuccessProbaMax(problem).solve_path([bad, bad])
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        algorithm1(problem, [bad], n_steps=1, n_dirichlet=1)


def test_several_thresholds_to_one_solve_point_to_solve_path(table1):
    with pytest.raises(ValueError, match=r"one threshold r \(a scalar\).*solve_path"):
        SuccessProbaMax(table1).solve([1.0, 2.0])
    with pytest.raises(ValueError, match=r"one threshold \(r_v, r_c\)"):
        SuccessProbaMax(problem_2d(0)).solve(0.5)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_random": -1}, "n_random must be an integer >= 0, got -1"),
        ({"n_local": 0}, "n_local must be an integer >= 1"),
        ({"n_local_warm": 1.5}, "n_local_warm must be an integer"),
        ({"max_hard_plans": -3}, "max_hard_plans must be an integer >= 0"),
    ],
)
def test_solver_settings_are_checked(table1, kwargs, match):
    with pytest.raises(ValueError, match=match):
        SuccessProbaMax(table1, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"eta": 0.0}, "eta must be a positive step size"),
        ({"n_steps": -1}, "n_steps must be an integer >= 0"),
        ({"n_dirichlet": 0}, "n_dirichlet must be an integer >= 1"),
        ({"tol": -1.0}, "tol must be positive"),
        ({"backend": "jax"}, "backend must be 'numba' or 'numpy'"),
        ({"start": np.full((3, 3), 0.5)}, "Each row of start"),
    ],
)
def test_algorithm1_settings_are_checked(table1, kwargs, match):
    with pytest.raises(ValueError, match=match):
        algorithm1(table1, [2.0], **kwargs)


def test_algorithm1_reports_convergence_from_the_projected_gradient(table1):
    best = SuccessProbaMax(table1).solve(2.0).probability  # 0.953
    [short] = algorithm1(table1, [2.0], n_steps=10, start="uniform")
    assert short.probability < 0.7 and not short.converged
    assert "not converged: projected gradient" in short.message
    [long] = algorithm1(table1, [2.0], n_steps=3000, start="uniform")
    assert long.converged and "converged: projected gradient" in long.message
    assert long.probability == pytest.approx(best, abs=1e-12)


def test_supremum_next_to_a_point_mass_at_the_threshold_is_flagged():
    # policy 0 is a point mass at 0 = r: C = 0 there, C -> 1/2 next to it, below elsewhere
    problem = PolicyProblem([[0.0, -1.0], [0.0, -2.0]], [[0.0, 1.0], [0.0, 2.0]])
    result = SuccessProbaMax(problem).solve(0.0)
    assert not result.attained and "supremum not attained" in result.message
    assert 0.5 - 1e-7 < result.probability < 0.5
    assert result.bound == 0.5 and 0.0 < result.gap < 1e-7
    draws = np.random.default_rng(0).dirichlet(np.ones(2), size=(20_000, 2))
    assert success_probability(problem, draws, 0.0).max() < result.probability


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e9])
def test_zero_variance_value_cost_outcome_that_surely_succeeds_has_c_one(scale):
    mu = scale * np.array([[[1.0, 0.0], [-1.0, 2.0]]])
    problem = PolicyProblem(mu, np.zeros((1, 2, 2, 2)))
    result = SuccessProbaMax(problem).solve((0.0, 0.5 * scale))
    assert result.probability == 1.0 and result.reachable and result.certified
    np.testing.assert_array_equal(result.psi.values, [[1.0, 0.0]])
    two = PolicyProblem(np.concatenate([mu, mu]), np.zeros((2, 2, 2, 2)))
    assert SuccessProbaMax(two).solve((0.0, scale)).probability == 1.0


def test_deprecated_names_still_read_with_a_warning(table1):
    result = SuccessProbaMax(table1).solve(2.0)
    with pytest.warns(FutureWarning, match=r"C is deprecated .* use \.probability"):
        assert result.C == result.probability
    with pytest.warns(FutureWarning, match="use .log_probability"):
        assert result.log_C == result.log_probability
    with pytest.warns(FutureWarning, match="use .baseline_probability"):
        assert result.baseline_C == result.baseline_probability
