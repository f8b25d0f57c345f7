"""LP and MILP baselines say so when no plan meets the cost budget."""

import itertools

import numpy as np
import pytest

from pymc_robust_alloc.policy import PolicyProblem, baseline_plans, linprog_plan, mixed_int_plan
from pymc_robust_alloc.policy.baselines import hard_plans
from tests.policy.cases import problem_2d


@pytest.mark.parametrize("solve", [linprog_plan, mixed_int_plan])
def test_infeasible_cost_budget_is_none_with_the_reason(solve):
    problem = problem_2d(4, m=4, k=3)
    least = float(problem.mu[..., 1].min(1).sum())
    with pytest.warns(RuntimeWarning, match="no plan meets the expected cost budget .* Raise r_c"):
        assert solve(problem, (0.0, least - 0.1)) is None
    plan = solve(problem, (0.0, least + 1e-6))
    assert (plan * problem.mu[..., 1]).sum() <= least + 1e-6 + 1e-9


def test_baseline_plans_leave_out_infeasible_baselines():
    problem = problem_2d(4, m=4, k=3)
    least = float(problem.mu[..., 1].min(1).sum())
    with pytest.warns(RuntimeWarning, match="no plan is returned"):
        plans = baseline_plans(problem, (0.0, least - 0.1))
    assert sorted(plans) == ["Bruteforce", "Greedy1D"]


@pytest.mark.parametrize("solve", [linprog_plan, mixed_int_plan])
def test_value_cost_baselines_need_a_pair_of_thresholds(solve):
    with pytest.raises(ValueError, match=r"one threshold \(r_v, r_c\) for a 2-D outcome"):
        solve(problem_2d(4), 0.5)
    with pytest.raises(ValueError, match="Thresholds must be finite"):
        solve(problem_2d(4), (0.0, np.nan))


def test_hard_plans_enumerate_every_policy_choice_once_in_product_order():
    problem = PolicyProblem(np.zeros((3, 2)), np.ones((3, 2)))
    plans = hard_plans(problem, np.arange(2**3))
    choices = [tuple(int(k) for k in plan.argmax(axis=1)) for plan in plans]
    assert choices == list(itertools.product(range(2), repeat=3))
    assert np.all(plans.sum(axis=-1) == 1.0)
