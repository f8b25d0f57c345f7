"""Baseline allocations: brute force over hard plans, greedy, LP and MILP (HiGHS)."""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from pymc_robust_alloc.policy.outcomes import log_success_probability
from pymc_robust_alloc.policy.problem import PolicyProblem

__all__ = [
    "baseline_plans",
    "bruteforce_plan",
    "greedy_plan",
    "linprog_plan",
    "mixed_int_plan",
]


@contextlib.contextmanager
def _silent_c_stdout() -> Iterator[None]:
    """Silence file descriptor 1: HiGHS's MIP solver prints debug lines from C."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _value_mean(problem: PolicyProblem) -> np.ndarray:
    return problem.mu if problem.n_outcomes == 1 else problem.mu[..., 0]


def _hard(problem: PolicyProblem, choice: np.ndarray) -> np.ndarray:
    psi = np.zeros((*choice.shape, problem.n_policies))
    np.put_along_axis(psi, choice[..., None], 1.0, axis=-1)
    return psi


def hard_plans(problem: PolicyProblem, index: np.ndarray) -> np.ndarray:
    """Hard plans number ``index`` of the K**M, shape ``(len(index), M, K)``.

    Plan ``i`` puts bucket ``g`` on policy ``(i // K**(M - 1 - g)) % K``.
    """
    m, k = problem.n_buckets, problem.n_policies
    return _hard(problem, (index[:, None] // k ** np.arange(m)[::-1]) % k)


def greedy_plan(problem: PolicyProblem) -> np.ndarray:
    """Greedy1D: in each bucket, the policy with the highest mean value, as a hard plan.

    For 2-D outcomes the value component is used.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, greedy_plan
    >>> greedy_plan(PolicyProblem([[2.0, 1.9, 0.0]], [[9.0, 1.0, 9.0]]))
    array([[1., 0., 0.]])
    """
    return _hard(problem, np.argmax(_value_mean(problem), axis=1))


def bruteforce_plan(
    problem: PolicyProblem, threshold: ArrayLike, max_plans: int = 100_000
) -> np.ndarray:
    """Bruteforce: the best of all K**M hard plans by success probability.

    ``threshold`` is ``r`` (1-D) or ``(r_v, r_c)`` (2-D); problems with more than
    ``max_plans`` hard plans are refused.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, bruteforce_plan
    >>> mu, var = [[2.0, 1.9, 0.0], [2.0, 1.0, 0.0]], [[9, 1, 9], [9, 1, 9]]
    >>> problem = PolicyProblem(mu, var)
    >>> bruteforce_plan(problem, 3.0)
    array([[0., 1., 0.],
           [1., 0., 0.]])
    """
    problem.check_threshold(threshold)
    m, k = problem.n_buckets, problem.n_policies
    n_plans = k**m
    if n_plans > max_plans:
        raise ValueError(
            f"Bruteforce would evaluate K**M = {k}**{m} = {n_plans} hard plans, more "
            f"than max_plans={max_plans}. Raise max_plans if you accept the cost, or "
            "use success_proba_max."
        )
    best, best_logc = None, -np.inf
    chunk = 20_000
    for start in range(0, n_plans, chunk):
        psi = hard_plans(problem, np.arange(start, min(start + chunk, n_plans)))
        logc = log_success_probability(problem, psi, threshold)
        i = int(np.argmax(logc))
        if best is None or logc[i] > best_logc:
            best, best_logc = psi[i], logc[i]
    return best


def _cost_budget(problem: PolicyProblem, threshold: ArrayLike) -> float | None:
    """Return the cost threshold r_c of a (value, cost) problem; None in 1-D."""
    t = problem.check_threshold(threshold)
    return None if problem.n_outcomes == 1 else float(t[1])


def _solve_lp(problem: PolicyProblem, threshold: ArrayLike, integral: bool) -> np.ndarray | None:
    r_c = _cost_budget(problem, threshold)
    if r_c is None:
        # no cost constraint: the expected value is maximised bucket by bucket
        return greedy_plan(problem)
    m, k = problem.n_buckets, problem.n_policies
    c = -_value_mean(problem).ravel()
    cost = problem.mu[..., 1]
    a_eq = np.kron(np.eye(m), np.ones((1, k)))
    if integral:
        constraints = [
            LinearConstraint(a_eq, 1.0, 1.0),
            LinearConstraint(cost.ravel()[None], -np.inf, r_c),
        ]
        with _silent_c_stdout():
            res = milp(c, constraints=constraints, integrality=np.ones(m * k), bounds=Bounds(0, 1))
    else:
        res = linprog(
            c,
            A_ub=cost.ravel()[None],
            b_ub=[r_c],
            A_eq=a_eq,
            b_eq=np.ones(m),
            bounds=(0, 1),
            method="highs",
        )
    if res.status != 0 or res.x is None:
        name = "MixedInt" if integral else "LinProg"
        least = float(cost.min(axis=1).sum())
        reason = (
            f"no plan meets the expected cost budget r_c = {r_c:.6g} (the least expected "
            f"cost of any plan is {least:.6g})"
            if least > r_c
            else f"HiGHS status {res.status}: {res.message}"
        )
        warnings.warn(
            f"{name}: {reason}; no plan is returned. Raise r_c to at least the least "
            "expected cost.",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    psi = np.clip(res.x.reshape(m, k), 0.0, 1.0)
    return psi / psi.sum(axis=1, keepdims=True)


def linprog_plan(problem: PolicyProblem, threshold: ArrayLike = 0.0) -> np.ndarray | None:
    """LinProg: maximise expected value subject to expected cost <= r_c (soft plan).

    Solved with SciPy's HiGHS; only ``r_c`` of ``threshold = (r_v, r_c)`` is used. For
    a 1-D outcome there is no cost constraint and the plan is the greedy one. If no
    plan meets the cost budget the result is ``None``, with a ``RuntimeWarning``.

    Examples
    --------
    The soft plan spends the cost budget exactly; the 0/1 plan of
    :func:`mixed_int_plan` stays within it:

    >>> from pymc_robust_alloc.policy import PolicyProblem, linprog_plan, mixed_int_plan
    >>> mu = [[[2.0, 1.0], [1.0, 0.5]]]  # one bucket, two policies, (value, cost)
    >>> cov = [[[[9, 0], [0, 1]], [[1, 0], [0, 1]]]]
    >>> problem = PolicyProblem(mu, cov)
    >>> linprog_plan(problem, (0.0, 0.75)).round(3), mixed_int_plan(problem, (0.0, 0.75))
    (array([[0.5, 0.5]]), array([[0., 1.]]))
    """
    return _solve_lp(problem, threshold, integral=False)


def mixed_int_plan(problem: PolicyProblem, threshold: ArrayLike = 0.0) -> np.ndarray | None:
    """MixedInt: the 0/1 version of :func:`linprog_plan` (SciPy ``milp``, HiGHS), same example."""
    psi = _solve_lp(problem, threshold, integral=True)
    return None if psi is None else np.round(psi)


def baseline_plans(
    problem: PolicyProblem, threshold: ArrayLike, max_plans: int = 100_000
) -> dict[str, np.ndarray]:
    """All baselines for one threshold, by name (Greedy1D, LinProg, MixedInt, Bruteforce).

    Bruteforce is included when K**M <= ``max_plans``; LinProg and MixedInt are left
    out (with a ``RuntimeWarning``) when no plan meets the cost budget.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, baseline_plans
    >>> sorted(baseline_plans(PolicyProblem([[2.0, 1.0]], [[9.0, 1.0]]), 0.0))
    ['Bruteforce', 'Greedy1D', 'LinProg', 'MixedInt']
    """
    plans = {
        "Greedy1D": greedy_plan(problem),
        "LinProg": linprog_plan(problem, threshold),
        "MixedInt": mixed_int_plan(problem, threshold),
    }
    plans = {name: psi for name, psi in plans.items() if psi is not None}
    if problem.n_policies**problem.n_buckets <= max_plans:
        plans["Bruteforce"] = bruteforce_plan(problem, threshold, max_plans)
    return plans
