"""Plans and thresholds are validated where they enter, with a message that says why."""

import numpy as np
import pytest

from pymc_robust_alloc.policy import PolicyProblem, log_success_probability, success_probability
from tests.policy.cases import problem_1d, problem_2d


@pytest.mark.parametrize(
    ("psi", "match"),
    [
        (np.full((4, 3), 5.0), r"row 0 sums to 15 .* Normalise each row"),
        (np.full((4, 3), 0.01 / 3), r"row 0 sums to 0\.01"),
        (np.array([[1.2, -0.2, 0.0]] * 4), "smallest entry -0.2"),
        (np.full((3, 3), 1 / 3), r"Expected plan of shape \(4, 3\) .* got \(3, 3\)"),
        (np.full(3, 1 / 3), r"Expected plan of shape \(4, 3\)"),
        (np.array([[np.nan, 0.5, 0.5]] * 4), "1 NaN or infinite|4 NaN or infinite"),
    ],
)
def test_success_probability_refuses_a_plan_off_the_simplex(psi, match):
    problem = problem_1d(0)
    with pytest.raises(ValueError, match=match):
        success_probability(problem, psi, 0.0)


def test_plans_within_the_tolerance_are_accepted_and_stacks_are_checked_row_by_row():
    problem = problem_1d(0)
    psi = np.full((4, 3), 1 / 3) + 1e-9
    assert np.isfinite(log_success_probability(problem, psi, 0.0))
    stack = np.stack([np.full((4, 3), 1 / 3), np.full((4, 3), 0.5)])
    with pytest.raises(ValueError, match=r"row 0 sums to 1\.5"):
        success_probability(problem, stack, 0.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_thresholds_are_refused(bad):
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        success_probability(problem_1d(0), np.full((4, 3), 1 / 3), bad)
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        success_probability(problem_2d(0), np.full((3, 3), 1 / 3), (0.0, bad))
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        problem_2d(0).check_threshold([[0.0, 1.0], [bad, 1.0]], batch=True)


def test_threshold_shapes_are_checked_against_the_outcome():
    one, two = problem_1d(0), problem_2d(0)
    with pytest.raises(ValueError, match=r"one threshold r \(a scalar\) .* solve_path"):
        one.check_threshold([0.0, 1.0])
    with pytest.raises(ValueError, match=r"one threshold \(r_v, r_c\) .* got shape \(\)"):
        two.check_threshold(0.5)
    with pytest.raises(ValueError, match=r"thresholds of shape \(T, 2\) .* got shape \(3,\)"):
        two.check_threshold([0.0, 1.0, 2.0], batch=True)
    assert two.check_threshold((0.0, 1.0), batch=True).shape == (1, 2)
    assert one.check_threshold(0.5, batch=True).shape == (1,)


def test_value_cost_criterion_needs_pairs_of_thresholds():
    with pytest.raises(ValueError, match=r"\(r_v, r_c\)"):
        success_probability(problem_2d(0), np.full((3, 3), 1 / 3), 0.5)


def test_scale_of_the_units_does_not_change_the_validation():
    for scale in (1e-6, 1.0, 1e9):
        problem = PolicyProblem([[2.0 * scale, 1.0 * scale]], [[9.0 * scale**2, scale**2]])
        assert success_probability(problem, [[0.0, 1.0]], 0.0) == pytest.approx(0.841344746)
