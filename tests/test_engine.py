"""The feasible-set geometry of the engine, against SciPy's LP and QP solvers.

Every property is checked on random boxes ``{a : sum a = B, l <= a <= u}``
(including degenerate ones: cells fixed by ``l = u``, budgets at the sum of the
lower or upper bounds) against an independent computation: HiGHS through
``scipy.optimize.linprog``, SLSQP, or enumeration of the vertices. The default
suite runs a few dozen examples per property; ``pytest -m slow`` runs hundreds.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymc_robust_alloc.engine import Polytope, _project
from tests.reference import linear_minimax, lp_min, random_feasible, slsqp_minimax, vertices


def _twice(check, strategy, fast: int = 40, slow: int = 400):
    """The same property as a default test (``fast`` examples) and a slow one."""
    return (
        settings(max_examples=fast, deadline=None, derandomize=True)(given(strategy)(check)),
        pytest.mark.slow(
            settings(max_examples=slow, deadline=None, derandomize=True)(given(strategy)(check))
        ),
    )


#: Bound sizes: exact zeros and ones (ties, fixed cells) or within four orders of magnitude.
_SIZE = st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 10.0))


@st.composite
def boxes(draw, max_cells: int = 6):
    """A random non-empty polytope, its unit drawn over 15 orders of magnitude."""
    n = draw(st.integers(1, max_cells))
    lower = np.array(draw(st.lists(_SIZE, min_size=n, max_size=n)))
    room = np.array(draw(st.lists(_SIZE, min_size=n, max_size=n)))
    share = draw(st.one_of(st.just(0.0), st.just(1.0), st.floats(1e-3, 1.0)))
    unit = 10.0 ** draw(st.integers(-6, 9))
    total = (lower.sum() + share * room.sum()) * unit
    if total <= 0:  # the allocator refuses a non-positive budget
        lower[0] += 1.0
        total = (lower.sum() + share * room.sum()) * unit
    box = Polytope(lower * unit, (lower + room) * unit, float(total))
    seed = draw(st.integers(0, 2**32 - 1))
    return box, np.random.default_rng(seed)


def _assert_feasible(box: Polytope, y: np.ndarray) -> None:
    """Spends the budget to 1e-9 relative; within the bounds to rounding (1e-12 relative)."""
    assert abs(y.sum() - box.total) <= 1e-9 * box.total
    slack = 1e-12 * box.total
    assert np.all(y >= box.lower - slack) and np.all(y <= box.upper + slack)


# --------------------------------------------------------------------------------------
# linear_min


def _check_linear_min(problem):
    box, rng = problem
    # Costs with ties (rounded) and of any sign.
    cost = np.round(rng.normal(size=box.lower.size), int(rng.integers(0, 3)))
    y = box.linear_min(cost)
    _assert_feasible(box, y)
    best = lp_min(cost, box.lower, box.upper, box.total)
    assert cost @ y <= best + 1e-9 * (np.abs(cost).sum() * box.total + abs(best))


def test_linear_min_never_leaves_the_bounds_when_the_lower_bounds_fix_the_plan():
    box = Polytope(np.array([0.1, 0.2]), np.array([0.1, 0.2]), 0.3)
    y = box.linear_min(np.array([1.0, 2.0]))
    assert np.all(y >= box.lower) and np.all(y <= box.upper)


(
    test_linear_min_reaches_the_linprog_minimum_on_random_boxes,
    test_linear_min_reaches_the_linprog_minimum_on_many_random_boxes,
) = _twice(_check_linear_min, boxes())


# --------------------------------------------------------------------------------------
# frank_wolfe_gap


def _check_frank_wolfe_gap(problem):
    box, rng = problem
    (a,) = random_feasible(rng, box.lower, box.upper, box.total, 1)
    gradient = rng.normal(size=a.size) / box.total
    gap = box.frank_wolfe_gap(a, gradient)
    over_vertices = max(gradient @ (v - a) for v in vertices(box.lower, box.upper, box.total))
    tol = 1e-12 * np.abs(gradient).sum() * box.total
    assert gap >= -tol
    assert gap == pytest.approx(over_vertices, abs=tol)


(
    test_frank_wolfe_gap_is_non_negative_and_the_max_over_vertices,
    test_frank_wolfe_gap_is_non_negative_and_the_max_over_vertices_many_boxes,
) = _twice(_check_frank_wolfe_gap, boxes())


# --------------------------------------------------------------------------------------
# minimax_lower_bound


def _check_linear_minimax_bound(problem):
    box, rng = problem
    n, m = box.lower.size, int(rng.integers(1, 5))
    (a,) = random_feasible(rng, box.lower, box.upper, box.total, 1)
    slopes = rng.normal(size=(m, n)) / box.total
    offsets = rng.normal(size=m)
    bound, weights = box.minimax_lower_bound(a, offsets + slopes @ a, slopes)
    best = linear_minimax(offsets, slopes, box.lower, box.upper, box.total)
    assert bound == pytest.approx(best, abs=1e-9 * (1 + abs(best)))
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0)


(
    test_minimax_lower_bound_is_exact_for_linear_functions,
    test_minimax_lower_bound_is_exact_for_linear_functions_many_boxes,
) = _twice(_check_linear_minimax_bound, boxes())


def _quadratics(rng, n: int, m: int, box: Polytope):
    """``phi_m(y) = c_m + |L_m (y - b_m) / s|^2``: convex, with values and Jacobians."""
    s = box.total / n
    factors = rng.normal(size=(m, n, n)) * rng.uniform(0.1, 2.0, size=(m, 1, 1))
    centres = random_feasible(rng, box.lower, box.upper, box.total, m)
    centres += rng.normal(size=centres.shape) * s
    offsets = rng.normal(size=m)

    def phi(y):
        r = np.einsum("mij,mj->mi", factors, (y - centres) / s)
        values = offsets + (r**2).sum(axis=1)
        jacobian = 2 * np.einsum("mi,mij->mj", r, factors) / s
        return values, jacobian

    return phi


def _check_quadratic_minimax_bound(problem):
    box, rng = problem
    n, m = box.lower.size, int(rng.integers(1, 5))
    phi = _quadratics(rng, n, m, box)
    points = random_feasible(rng, box.lower, box.upper, box.total, 4)
    best_plan, best = slsqp_minimax(phi, box.lower, box.upper, box.total, points)
    # A lower bound from any feasible point is below the max at every feasible point.
    for a in points:
        bound, _ = box.minimax_lower_bound(a, *phi(a))
        assert bound <= best + 1e-9 * (1 + abs(best))
        assert all(bound <= phi(y)[0].max() + 1e-9 for y in points)
    # At (near) the optimum the bound is (near) tight.
    bound, _ = box.minimax_lower_bound(best_plan, *phi(best_plan))
    assert bound <= best + 1e-9 * (1 + abs(best))
    assert bound >= best - 1e-5 * (1 + abs(best))


(
    test_minimax_lower_bound_is_below_the_min_max_of_convex_quadratics,
    test_minimax_lower_bound_is_below_the_min_max_of_convex_quadratics_many_boxes,
) = _twice(_check_quadratic_minimax_bound, boxes(max_cells=5), fast=25, slow=250)


# --------------------------------------------------------------------------------------
# _project, start, violation


def _check_project(problem):
    box, rng = problem
    n = box.lower.size
    a = rng.normal(size=n) * box.total * 10.0 ** rng.integers(-3, 4)
    y = _project(box, a)
    _assert_feasible(box, y)
    assert box.violation(y) <= 1e-9
    # The Euclidean projection: (a - y) @ (z - y) <= 0 for every feasible z, i.e.
    # y minimises -(a - y) @ z over the polytope.
    direction = a - y
    best = lp_min(-direction, box.lower, box.upper, box.total)
    assert -direction @ y <= best + 1e-9 * np.abs(direction).sum() * box.total
    # A feasible plan is its own projection.
    (z,) = random_feasible(rng, box.lower, box.upper, box.total, 1)
    np.testing.assert_allclose(_project(box, z), z, atol=1e-9 * box.total)


(
    test_project_returns_the_nearest_feasible_plan,
    test_project_returns_the_nearest_feasible_plan_many_boxes,
) = _twice(_check_project, boxes())


def _check_start_and_violation(problem):
    box, rng = problem
    _assert_feasible(box, box.start())
    a = rng.normal(size=box.lower.size) * box.total
    expected = (
        max(
            abs(a.sum() - box.total),
            np.max(np.maximum(box.lower - a, 0)),
            np.max(np.maximum(a - box.upper, 0)),
        )
        / box.total
    )
    assert box.violation(a) == pytest.approx(expected, rel=1e-12)


(
    test_start_is_feasible_and_violation_is_the_largest_breach,
    test_start_is_feasible_and_violation_is_the_largest_breach_many_boxes,
) = _twice(_check_start_and_violation, boxes())


def test_start_is_the_only_plan_when_the_bounds_fix_it():
    box = Polytope(np.array([2.0, 3.0]), np.array([2.0, 3.0]), 5.0)
    np.testing.assert_array_equal(box.start(), [2.0, 3.0])


# --------------------------------------------------------------------------------------
# graph_key and disk_cached: compiled functions reused across processes


def _graph(constant: float = 2.0):
    import pytensor
    import pytensor.tensor as pt

    x = pt.vector("x")
    weight = pytensor.shared(np.ones(3), name="weight")
    return x, weight, ((x * constant) * weight).sum()


def test_graph_key_identifies_the_computation_not_the_objects():
    from pymc_robust_alloc.engine import graph_key

    _, weight, first = _graph()
    _, _, second = _graph()  # new variables, same computation
    assert graph_key([first]) == graph_key([second]) is not None
    weight.set_value(np.zeros(3))  # a shared value is read at call time: not in the key
    assert graph_key([first]) == graph_key([second])
    assert graph_key([first]) != graph_key([_graph(3.0)[2]])
    assert graph_key([first], "python mode") != graph_key([first], "numba")


def test_disk_cached_reloads_a_compiled_function_with_its_shared_variables(tmp_path):
    import pytensor

    from pymc_robust_alloc.engine import disk_cached

    calls = []

    def build():
        calls.append(1)
        x, weight, out = _graph()
        return weight, pytensor.function([x], out)

    first = disk_cached("k", build, tmp_path)
    weight, fn = disk_cached("k", build, tmp_path)  # loaded, not built
    assert len(calls) == 1
    assert fn(np.arange(3.0)) == first[1](np.arange(3.0)) == 6.0
    weight.set_value(np.array([1.0, 0.0, 0.0]))  # the loaded function reads its own copy
    assert fn(np.arange(3.0)) == 0.0
    (tmp_path / "k.pkl").write_bytes(b"not a pickle")
    disk_cached("k", build, tmp_path)  # unreadable: built again
    disk_cached(None, build, tmp_path)  # no key: always built
    assert len(calls) == 3


def test_a_shelved_function_reads_the_parameters_it_is_unshelved_onto():
    """Functions are pickled apart from the shared variables they read, and loaded onto
    live ones by name: each loads alone, and all read the same, current values."""
    import pickle

    import pytensor

    from pymc_robust_alloc.engine import Engine

    x, weight, out = _graph()
    from pymc_robust_alloc.engine import python_mode

    engine = Engine(lambda: None, [], python_mode(), n_cells=3, n_draws=1)
    engine._functions[("f", 0)] = pytensor.function([x], out)
    engine._functions[("g", 0)] = pytensor.function([x], 2 * out)
    shelf = engine.shelve({"weight": weight})
    live = pickle.loads(pickle.dumps(weight))  # e.g. the weight of a loaded objective
    loaded = Engine(lambda: None, [], python_mode(), n_cells=3, n_draws=1)
    loaded.unshelve(shelf, {"weight": live})
    f = loaded._cached(("f", 0), make=None)
    assert f(np.arange(3.0)) == 6.0
    live.set_value(np.array([0.0, 0.0, 1.0]))
    assert f(np.arange(3.0)) == 4.0
    assert loaded._cached(("g", 0), make=None)(np.arange(3.0)) == 8.0
    assert loaded.compiled == 0
