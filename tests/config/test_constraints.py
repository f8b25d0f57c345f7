"""A config's constraints as PyMC-Marketing Constraint objects, checked against NumPy."""

import numpy as np
import pytensor
import pytest
from pymc_marketing.mmm.constraints import Constraint, compile_constraints_for_scipy
from pytensor.xtensor import xtensor
from scipy.optimize import minimize

from pymc_robust_alloc.allocator import python_mode
from pymc_robust_alloc.config import ConfigError, RunConfig, allocation_kwargs, build_constraints
from pymc_robust_alloc.demo import CHANNELS
from tests.conftest import BOUNDS, BUDGET, PERIODS, numpy_values

COORDS = {"channel": ["tv", "radio", "web"], "geo": ["north", "south"]}


def constraints(*entries):
    config = RunConfig.model_validate(
        {"views": {}, "budget": {"total": 100.0, "num_periods": 2}, "constraints": list(entries)}
    )
    return build_constraints(config.constraints, COORDS)


def evaluate(constraint, plan, total):
    budgets = xtensor("budgets", dims=tuple(COORDS), shape=plan.shape)
    shared_total = pytensor.shared(np.float64(total))
    out = constraint.constraint_fun(budgets, shared_total, None)
    return float(pytensor.function([budgets], out.values, mode=python_mode())(plan))


@pytest.mark.parametrize("scale", [1e-6, 1.0, 1e9])
def test_linear_constraints_are_the_sums_numpy_computes(scale):
    built = constraints(
        {"channels": ["tv", "radio"], "min": 10 * scale, "max": 50 * scale},
        {"channels": ["web"], "min_share": 0.1, "max_share": 0.4, "name": "web"},
    )
    assert [c.key for c in built] == [
        "constraint 1 (tv, radio): min",
        "constraint 1 (tv, radio): max",
        "web: min_share",
        "web: max_share",
    ]
    assert all(c.constraint_type == "ineq" for c in built)
    rng = np.random.default_rng(3)
    total = 100.0 * scale
    for _ in range(3):
        plan = rng.dirichlet(np.ones(6)).reshape(3, 2) * total
        media, web = plan[:2].sum(), plan[2].sum()
        expected = [media - 10 * scale, 50 * scale - media, web - 0.1 * total, 0.4 * total - web]
        got = [evaluate(c, plan, total) for c in built]
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12 * total)


def test_constraints_evaluate_on_the_budget_optimizers_own_variables(allocator):
    """PyMC-Marketing's compiler for custom constraints reads them as NumPy does."""
    coords = allocator.budget_coords
    config = RunConfig.model_validate(
        {
            "views": {},
            "budget": {"total": 100.0, "num_periods": 2},
            "constraints": [{"channels": ["search", "social"], "max_share": 0.5}],
        }
    )
    (built,) = build_constraints(config.constraints, coords)
    optimizer = allocator.optimizer
    optimizer._total_budget.set_value(100.0)
    (compiled,) = compile_constraints_for_scipy([built], optimizer)
    plan = np.array([30.0, 40.0, 30.0])
    assert compiled["type"] == "ineq"
    assert float(compiled["fun"](plan)) == pytest.approx(0.5 * 100 - 70)
    np.testing.assert_allclose(compiled["jac"](plan), [-1.0, -1.0, 0.0])


def test_function_entry_calls_the_callable_with_its_keys():
    (built,) = constraints(
        {"function": "pymc_marketing.mmm.constraints:build_default_sum_constraint", "key": "sum"}
    )
    assert isinstance(built, Constraint)
    assert (built.key, built.constraint_type) == ("sum", "eq")


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ({"channels": ["tv", "cinema"], "max": 5}, r"unknown channels \['cinema'\]"),
        ({"function": "no_such_module:make"}, "cannot be imported"),
        ({"function": "fractions:Fraction"}, "must return pymc_marketing"),
    ],
)
def test_bad_constraints_are_refused_with_the_fix(entry, match):
    with pytest.raises(ConfigError, match=match):
        constraints(entry)


def test_two_constraints_with_one_name_are_refused():
    with pytest.raises(ConfigError, match="used twice"):
        constraints(
            {"channels": ["tv"], "max": 5, "name": "a"},
            {"channels": ["web"], "max": 5, "name": "a"},
        )


def test_config_constraint_changes_the_plans_as_declared(allocator, views):
    """A `max_share` entry caps every plan; each view's own plan is SciPy's constrained optimum."""
    config = RunConfig.model_validate(
        {
            "views": {},
            "budget": {"total": BUDGET, "num_periods": PERIODS},
            "constraints": [{"channels": ["search", "social"], "max_share": 0.5}],
        }
    )
    kwargs = allocation_kwargs(config, allocator.budget_coords)
    free = allocator.allocate(BUDGET, BOUNDS)
    capped = allocator.allocate(BUDGET, BOUNDS, constraints=kwargs["constraints"])
    pair = ["search", "social"]
    assert float(free.plans.sel(channel=pair).sum("channel").max()) > 0.5 * BUDGET + 1
    assert float(capped.plans.sel(channel=pair).sum("channel").max()) <= 0.5 * BUDGET * (1 + 1e-6)
    for i, view in enumerate(views):
        best = minimize(
            lambda x, i=i: -numpy_values(views, x)[i],
            np.full(3, BUDGET / 3),
            method="SLSQP",
            bounds=[BOUNDS[c] for c in CHANNELS],
            constraints=[
                {"type": "eq", "fun": lambda x: x.sum() - BUDGET},
                {"type": "ineq", "fun": lambda x: 0.5 * BUDGET - x[0] - x[1]},
            ],
            options={"ftol": 1e-12, "maxiter": 500},
        )
        got = capped.plans.sel(plan=view.name, channel=list(CHANNELS)).values
        np.testing.assert_allclose(got, best.x, rtol=1e-3, atol=1e-3 * BUDGET)
