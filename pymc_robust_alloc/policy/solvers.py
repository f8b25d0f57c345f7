r"""Maximise the success probability :math:`C(\psi)` over soft allocations.

- :func:`algorithm1`, the paper's Algorithm 1 (Betlei et al., AAAI-24), is the
  reference: projected gradient ascent along :math:`\nabla C / C`.
- :class:`SuccessProbaMax` / :func:`success_proba_max` is the fast solver. In 1-D it is
  exact: :math:`C = \Phi((m - r)/\sqrt{V})` with :math:`m, V` linear in :math:`\psi`,
  so the optimum lies on the upper boundary of the reachable :math:`(V, m)` polygon,
  whose edges each move one bucket between two policies. In 2-D it runs multi-start
  SLSQP on :math:`\log C` (on :math:`\log(1 - C)` near one).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from pymc_robust_alloc.checks import check_positive
from pymc_robust_alloc.policy.baselines import greedy_plan, hard_plans
from pymc_robust_alloc.policy.outcomes import ScalarOutcome, ValueCostOutcome, outcome_of
from pymc_robust_alloc.policy.problem import PolicyProblem


@cache
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # built on first use: it inspects the loaded libraries


def _single_blas_thread():
    """Limit BLAS to one thread: SLSQP's BLAS calls are tiny, threads only add overhead."""
    return _controller().limit(limits=1, user_api="blas")


__all__ = [
    "SuccessProbaMax",
    "SuccessProbaResult",
    "algorithm1",
    "project_rows_to_simplex",
    "success_proba_max",
]

_LOG_TINY = np.log(np.finfo(float).tiny)
_LOG_NEAR_ONE = np.log1p(-1e-3)  # above this, polish on log(1 - C)


def project_rows_to_simplex(v: ArrayLike) -> np.ndarray:
    """Project each row (last axis) onto the simplex (Euclidean; Duchi et al., 2008).

    Returns the closest points with non-negative entries summing to one.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import project_rows_to_simplex
    >>> project_rows_to_simplex([[0.5, 0.8, -0.2]])
    array([[0.35, 0.65, 0.  ]])
    """
    v = np.asarray(v, dtype=float)
    k = v.shape[-1]
    u = -np.sort(-v, axis=-1)
    css = np.cumsum(u, axis=-1) - 1.0
    ind = np.arange(1, k + 1)
    cond = u - css / ind > 0
    rho = k - 1 - np.argmax(cond[..., ::-1], axis=-1)
    theta = np.take_along_axis(css, rho[..., None], axis=-1) / (rho[..., None] + 1.0)
    return np.maximum(v - theta, 0.0)


@dataclass
class SuccessProbaResult:
    r"""Result of a success-probability maximisation for one threshold.

    Unpacks as ``(psi, probability)``. ``C``, ``log_C`` and ``baseline_C`` are
    deprecated aliases of ``probability``, ``log_probability`` and
    ``baseline_probability``.

    Attributes
    ----------
    psi : xarray.DataArray
        The plan, dims ``(bucket, policy)``.
    probability, log_probability : float
        Success probability :math:`C` of the plan and its log.
    threshold : float or tuple
        ``r`` or ``(r_v, r_c)``.
    method, converged, message, wall_time : str, bool, str, float
        Solver name, whether its stated convergence criterion held, its messages and
        flags in words, and the seconds spent.
    reachable : bool
        False when :math:`C` underflows to 0 for every plan tried; the plan then
        maximises :math:`\log C` (the standardised margin) instead.
    beats_baselines : bool
        Whether :math:`C` is at least the best baseline's (within 1e-9).
    baseline_probability : dict
        Success probability of each baseline plan.
    log_survival : float
        :math:`\log(1 - C)` without cancellation: read it where :math:`C` rounds to one.
    bound, log_bound, gap : float or None
        An upper bound on the best :math:`C` of any plan (exact in 1-D, the smallest
        directional bound in 2-D), its log and ``bound - probability``; None for
        Algorithm 1.
    certified : bool
        Whether ``log_bound - log_probability <= 1e-6``.
    attained : bool
        False when the best value is a supremum no plan attains (a point mass
        exactly at the threshold); the plan then comes within 1e-8 of it.
    """

    psi: xr.DataArray
    probability: float
    log_probability: float
    threshold: object
    method: str
    converged: bool = True
    message: str = ""
    wall_time: float = 0.0
    reachable: bool = True
    beats_baselines: bool = True
    baseline_probability: dict = field(default_factory=dict)
    log_survival: float = float("nan")
    bound: float | None = None
    log_bound: float | None = None
    gap: float | None = None
    certified: bool = False
    attained: bool = True

    def __iter__(self):
        """Unpack as ``(psi, C)``."""
        return iter((self.psi, self.probability))

    @property
    def C(self) -> float:
        """Deprecated alias of ``probability``."""
        _deprecated("C", "probability")
        return self.probability

    @property
    def log_C(self) -> float:
        """Deprecated alias of ``log_probability``."""
        _deprecated("log_C", "log_probability")
        return self.log_probability

    @property
    def baseline_C(self) -> dict:
        """Deprecated alias of ``baseline_probability``."""
        _deprecated("baseline_C", "baseline_probability")
        return self.baseline_probability


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"SuccessProbaResult.{old} is deprecated and will be removed in the next release; "
        f"use .{new}.",
        FutureWarning,
        stacklevel=3,
    )


class _Segment:
    """One bucket, two policies: ``psi = [1 - p, p]``, searched on ever finer grids of p."""

    COARSE, FINE, WIDTH = 257, 65, 1e-11

    def __init__(self, outcome: ScalarOutcome | ValueCostOutcome) -> None:
        self.outcome = outcome

    def _search(self, score, threshold) -> tuple[np.ndarray, float]:
        low, high, n = 0.0, 1.0, self.COARSE
        best_p, best = 0.0, -np.inf
        while high - low > self.WIDTH:
            grid = np.linspace(low, high, n)
            values = score(np.stack([1.0 - grid, grid], axis=-1)[:, None], threshold)
            values = np.where(np.isnan(values), -np.inf, values)
            i = int(np.argmax(values))
            if values[i] > best:
                best_p, best = float(grid[i]), float(values[i])
            low, high, n = grid[max(i - 1, 0)], grid[min(i + 1, n - 1)], self.FINE
        return np.array([[1.0 - best_p, best_p]]), best

    def best(self, threshold) -> tuple[np.ndarray, float]:
        """Return the best plan and its log C."""
        psi, log_c = self._search(self.outcome.log_probability, threshold)
        if log_c > _LOG_NEAR_ONE:

            def survival(plans, thr):
                return -self.outcome.log_survival(plans, thr)

            psi, minus_log_q = self._search(survival, threshold)
            log_c = float(np.log1p(-np.exp(-minus_log_q)))
        return psi, log_c


def _check_count(name: str, value: int, low: int) -> int:
    # Not checks.check_count: the policy API's tests pin a ValueError and this wording.
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    return int(value)


class SuccessProbaMax:
    r"""Fast maximiser of :math:`C(\psi)` for one problem, across thresholds.

    Every result carries an upper bound on the best :math:`C` of any plan and the
    gap to it: exact in 1-D, certified by directional 1-D bounds in 2-D.

    Parameters
    ----------
    problem : PolicyProblem
        Outcome statistics.
    method : {"auto", "frontier", "segment", "slsqp"}, default "auto"
        ``"frontier"`` (1-D only, exact): the best point of the upper boundary of
        the reachable (variance, mean) polygon. ``"segment"`` (one bucket, two
        policies): grid search of the one free share. ``"slsqp"``: multi-start
        SLSQP on :math:`\log C`. ``"auto"`` picks the first that applies.
    n_random : int, default 8
        Seeded Dirichlet starts for SLSQP, besides the best hard plans, the uniform
        and Greedy1D plans, a warm start and any baselines given.
    n_local : int, default 3
        Number of best starts refined by SLSQP.
    n_local_warm : int, optional
        With a warm start (:meth:`solve_path`), the number of other starts refined
        besides it; default ``n_local``.
    max_hard_plans : int, default 20_000
        Screen every hard plan as a start when there are at most this many.
    seed : int, default 0
        Seed of the Dirichlet starts.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, SuccessProbaMax
    >>> mu = [[2.0, 1.9, 0.0], [2.0, 1.0, 0.0], [2.0, 1.0, 0.0]]
    >>> var = [[9.0, 1.0, 9.0], [9.0, 1.0, 9.0], [1.0, 1.0, 1.0]]
    >>> solver = SuccessProbaMax(PolicyProblem(mu, var))
    >>> round(solver.solve(2.0).probability, 3)
    0.953
    >>> [round(res.probability, 3) for res in solver.solve_path([1.0, 2.0, 3.0])]
    [0.988, 0.953, 0.864]
    """

    CERTIFIED_LOG_GAP = 1e-6  # certified when log(bound) - log(C) is at most this

    def __init__(
        self,
        problem: PolicyProblem,
        method: str = "auto",
        n_random: int = 8,
        n_local: int = 3,
        n_local_warm: int | None = None,
        max_hard_plans: int = 20_000,
        seed: int = 0,
    ) -> None:
        if method not in ("auto", "frontier", "segment", "slsqp"):
            raise ValueError(
                f"method must be 'auto', 'frontier', 'segment' or 'slsqp'; got {method!r}."
            )
        n_random = _check_count("n_random", n_random, 0)
        n_local = _check_count("n_local", n_local, 1)
        if n_local_warm is not None:
            n_local_warm = _check_count("n_local_warm", n_local_warm, 0)
        max_hard_plans = _check_count("max_hard_plans", max_hard_plans, 0)
        one_share = (problem.n_buckets, problem.n_policies) == (1, 2)
        if method == "segment" and not one_share:
            raise ValueError(
                "method='segment' solves one bucket with two policies; this problem has "
                f"{problem.n_buckets} buckets and {problem.n_policies} policies."
            )
        if method == "frontier" and problem.n_outcomes != 1:
            raise ValueError(
                "method='frontier' solves 1-D outcomes only; use 'slsqp' or 'auto' for "
                "(value, cost) problems."
            )
        if method == "auto":
            if problem.n_outcomes == 1:
                method = "frontier"
            else:
                method = "segment" if one_share else "slsqp"
        self.method = method
        self.problem = problem
        self.outcome = outcome_of(problem)
        m, k = problem.n_buckets, problem.n_policies
        if method == "segment":
            self._segment = _Segment(self.outcome)
        rng = np.random.default_rng(seed)
        starts = [np.full((m, k), 1.0 / k)]
        starts += list(rng.dirichlet(np.ones(k), size=(n_random, m)))
        n_hard = k**m
        self._hard = hard_plans(problem, np.arange(n_hard)) if n_hard <= max_hard_plans else None
        self._starts = np.stack(starts)
        self._greedy = greedy_plan(problem)
        self.n_local = n_local
        self.n_local_warm = n_local if n_local_warm is None else n_local_warm
        self._n_hard_starts = n_local
        self._a_eq = np.kron(np.eye(m), np.ones((1, k)))
        self._constraints = {
            "type": "eq",
            "fun": lambda x: self._a_eq @ x - 1.0,
            "jac": lambda x: self._a_eq,
        }

    def _local(self, psi0, threshold, scale, complement=False):
        """SLSQP from ``psi0``: maximise log C, or minimise log(1 - C) to polish."""
        outcome = self.outcome
        shape = psi0.shape
        if complement:
            sign, crit = 1.0, outcome.log_survival
        else:
            sign, crit = -1.0, outcome.log_probability

        def fun(x):
            value, grad = crit(x.reshape(shape), threshold, grad=True)
            if not np.isfinite(value):
                return -sign * 1e6, np.zeros_like(x)
            return sign * float(value) / scale, sign * grad.ravel() / scale

        res = minimize(
            fun,
            psi0.ravel(),
            jac=True,
            method="SLSQP",
            bounds=[(0.0, 1.0)] * psi0.size,
            constraints=self._constraints,
            options={"ftol": 1e-14, "maxiter": 150},
        )
        psi = project_rows_to_simplex(res.x.reshape(shape))
        return psi, float(crit(psi, threshold)), res

    def _polish_near_one(self, plans, threshold):
        """Minimise log(1 - C) from each plan; return the best, its log C and log(1 - C)."""
        best_psi, best_logq = None, np.inf
        for psi in plans:
            logq = float(self.outcome.log_survival(psi, threshold))
            if not np.isfinite(logq):  # C == 1 exactly (a point mass): nothing to gain
                return psi, 0.0, logq
            new, new_logq, _ = self._local(psi, threshold, max(1.0, abs(logq)), complement=True)
            if new_logq < logq:
                psi, logq = new, new_logq
            if logq < best_logq:
                best_psi, best_logq = psi, logq
        return best_psi, float(np.log1p(-np.exp(best_logq))), best_logq

    def solve(
        self,
        threshold: ArrayLike,
        baselines: dict[str, np.ndarray] | None = None,
        warm_start: ArrayLike | None = None,
    ) -> SuccessProbaResult:
        """Maximise the success probability at one threshold.

        Parameters
        ----------
        threshold : float or array_like
            ``r`` (1-D) or ``(r_v, r_c)`` (2-D); finite.
        baselines : dict of str to ndarray, optional
            Baseline plans (e.g. :func:`baseline_plans`) to compare with and start
            SLSQP from; default Greedy1D only.
        warm_start : array_like, optional
            A plan of shape (M, K) to start SLSQP from, e.g. a nearby threshold's.

        Returns
        -------
        SuccessProbaResult
            The plan, its success probability, an upper bound, the gap and flags.

        Examples
        --------
        >>> from pymc_robust_alloc.policy import PolicyProblem, SuccessProbaMax
        >>> mu = [[2.0, 1.9, 0.0], [2.0, 1.0, 0.0], [2.0, 1.0, 0.0]]
        >>> var = [[9.0, 1.0, 9.0], [9.0, 1.0, 9.0], [1.0, 1.0, 1.0]]
        >>> result = SuccessProbaMax(PolicyProblem(mu, var)).solve(2.0)
        >>> round(result.probability, 3), result.certified, result.beats_baselines
        (0.953, True, True)
        """
        t0 = time.perf_counter()
        problem = self.problem
        threshold = problem.check_threshold(threshold)
        if baselines is None:
            baselines = {"Greedy1D": self._greedy}
        else:
            baselines = {
                name: problem.check_plan(psi, name=f"baselines[{name!r}]")
                for name, psi in baselines.items()
            }
        if warm_start is not None:
            warm_start = project_rows_to_simplex(problem.check_plan(warm_start, "warm_start"))
        return self._solve(threshold, baselines, warm_start, t0)

    def _solve(self, threshold, baselines, warm_start, t0) -> SuccessProbaResult:
        """Solve one validated threshold (baselines and warm start already checked)."""
        problem, outcome = self.problem, self.outcome
        base_logc = {
            name: float(outcome.log_probability(psi, threshold)) for name, psi in baselines.items()
        }
        attained = True
        with _single_blas_thread():
            if self.method == "frontier":
                best_psi, bound, attained = outcome.best(threshold)
                best_logc = float(outcome.log_probability(best_psi, threshold))
                messages, converged = ["exact (frontier)"], True
            else:
                if self.method == "segment":
                    best_psi, best_logc = self._segment.best(threshold)
                    messages, converged = ["grid search on the segment"], True
                else:
                    best_psi, best_logc, messages, converged = self._multistart(
                        threshold, baselines, warm_start
                    )
                bound = outcome.upper_bound(threshold)
        log_q = float(outcome.log_survival(best_psi, threshold))
        base_c = {name: float(np.exp(v)) for name, v in base_logc.items()}
        best_c = float(np.exp(best_logc))
        reachable = best_c > 0.0
        beats = all(best_c >= c - 1e-9 for c in base_c.values())
        if self.method == "frontier" and attained:  # exact: the optimum is the bound
            log_bound, log_bound_q = best_logc, log_q
        else:
            log_bound, log_bound_q = bound.log_bound, bound.log_survival
        log_gap = log_bound - best_logc
        certified = bool(log_gap <= self.CERTIFIED_LOG_GAP)
        notes = []
        if not attained:
            notes.append(
                "supremum not attained: the best value C -> 1/2 is approached next to a "
                "zero-variance plan exactly at the threshold; the plan comes within 1e-8"
            )
        if not reachable:
            notes.append(
                "unreachable threshold: C underflows to 0 for every plan tried; the "
                "plan maximises log C (the standardised margin) instead"
            )
            warnings.warn(
                f"Threshold {threshold.tolist()!r}: success probability is 0 to double "
                "precision for every plan tried; returning the plan with the largest "
                "log C.",
                RuntimeWarning,
                stacklevel=3,
            )
        if not beats:
            notes.append("worse than the best baseline")
            warnings.warn(
                f"Threshold {threshold.tolist()!r}: the solver's plan is worse than a baseline.",
                RuntimeWarning,
                stacklevel=3,
            )
        if not certified and self.method != "frontier":
            notes.append(f"not certified: log(bound) - log(C) = {log_gap:.3g}")
        message = "; ".join(notes + sorted(set(messages)))
        return SuccessProbaResult(
            psi=problem.as_plan(best_psi),
            probability=best_c,
            log_probability=best_logc,
            threshold=float(threshold) if threshold.ndim == 0 else tuple(threshold.tolist()),
            method="SuccessProbaMax",
            converged=converged or not messages,
            message=message,
            wall_time=time.perf_counter() - t0,
            reachable=reachable,
            beats_baselines=beats,
            baseline_probability=base_c,
            log_survival=log_q,
            bound=float(np.exp(log_bound)),
            log_bound=log_bound,
            gap=float(np.exp(log_q) - np.exp(log_bound_q)),
            certified=certified,
            attained=attained,
        )

    def solve_path(self, thresholds: ArrayLike) -> list[SuccessProbaResult]:
        """Solve thresholds ``(T,)`` or ``(T, 2)`` in turn, each warm-started from the last.

        Examples
        --------
        As ``r_v`` rises the plan moves from ``policy1`` to ``policy0``:

        >>> from pymc_robust_alloc.policy import PolicyProblem, SuccessProbaMax
        >>> mu = [[[2.0, 1.0], [1.0, 1.5]]]
        >>> cov = [[[[9.0, 3.0], [3.0, 4.0]], [[1.0, 0.5], [0.5, 1.0]]]]
        >>> solver = SuccessProbaMax(PolicyProblem(mu, cov))
        >>> path = solver.solve_path([(0.0, 2.0), (0.5, 2.0)])
        >>> [(round(res.probability, 3), round(float(res.psi.sel(policy="policy0")[0]), 2))
        ...  for res in path]
        [(0.545, 0.0), (0.419, 1.0)]
        """
        thr = self.problem.check_threshold(thresholds, batch=True)
        results, previous = [], None
        with _single_blas_thread():
            for t in thr:
                baselines = {"Greedy1D": self._greedy}
                res = self._solve(t, baselines, previous, time.perf_counter())
                previous = res.psi.values
                results.append(res)
        return results

    def _multistart(self, threshold, baselines, warm_start):
        outcome = self.outcome
        cands = [self._starts, np.stack(list(baselines.values()))]
        warm_i = len(self._starts) + len(baselines)
        if warm_start is not None:
            cands.append(warm_start[None])
        if self._hard is not None:
            score = outcome.screen(self._hard, threshold)
            order = np.argsort(-score, kind="stable")[: self._n_hard_starts]
            cands.append(self._hard[order])
        cands = np.concatenate(cands)
        logc = outcome.log_probability(cands, threshold)
        best_i = int(np.argmax(logc))
        best_psi, best_logc = cands[best_i], float(logc[best_i])
        if not np.isfinite(best_logc):
            margin = outcome.margin(cands, threshold)
            best_i = int(np.argmax(margin))
            best_psi = cands[best_i]
        # Local refinement from the best distinct starts (far-tail starts skipped).
        order = np.argsort(-np.where(np.isfinite(logc), logc, -np.inf), kind="stable")
        messages, converged = [], False
        scale = max(1.0, abs(best_logc)) if np.isfinite(best_logc) else 1.0
        tried, local = 0, []
        n_local = self.n_local
        if warm_start is not None:
            # along a threshold path: the neighbour's optimum and the best other starts
            order = np.concatenate([[warm_i], order[order != warm_i]])
            n_local = 1 + self.n_local_warm
        for i in order:
            if tried >= n_local:
                break
            if not np.isfinite(logc[i]) or logc[i] < best_logc - 50.0:
                continue  # far-tail starts: slow (quadrature) and rarely useful
            tried += 1
            psi, val, res = self._local(cands[i], threshold, scale)
            messages.append(res.message)
            local.append((val, psi))
            if val > best_logc:
                best_psi, best_logc = psi, val
                converged = bool(res.success)
            elif val >= best_logc - 1e-12:
                converged = converged or bool(res.success)
        if best_logc > _LOG_NEAR_ONE:
            # log C is -(1 - C) there: polish the best local optima on log(1 - C)
            local.sort(key=lambda x: -x[0])
            plans = [best_psi, *[p for v, p in local if v > _LOG_NEAR_ONE][:1]]
            best_psi, best_logc, _ = self._polish_near_one(plans, threshold)
        return best_psi, best_logc, messages, converged


def success_proba_max(problem: PolicyProblem, threshold: ArrayLike, **kwargs) -> SuccessProbaResult:
    """Maximise the success probability of a plan at one threshold ``r`` or ``(r_v, r_c)``.

    A shortcut for ``SuccessProbaMax(problem, **kwargs).solve(threshold)``; build a
    :class:`SuccessProbaMax` once to sweep thresholds.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, success_proba_max
    >>> mu = [[[2.0, 1.0], [1.0, 1.5]]]
    >>> cov = [[[[9.0, 3.0], [3.0, 4.0]], [[1.0, 0.5], [0.5, 1.0]]]]
    >>> result = success_proba_max(PolicyProblem(mu, cov), (0.0, 2.0))
    >>> round(result.probability, 4)  # a fine grid over psi gives the same maximum
    0.5453
    """
    return SuccessProbaMax(problem, **kwargs).solve(threshold)


def algorithm1(
    problem: PolicyProblem,
    thresholds: ArrayLike,
    eta: float = 0.01,
    n_steps: int = 100_000,
    start: str | ArrayLike = "dirichlet",
    n_dirichlet: int = 50_000,
    seed: int = 0,
    backend: str = "numba",
    tol: float = 1e-6,
) -> list[SuccessProbaResult]:
    r"""Run the paper's Algorithm 1, projected gradient ascent on :math:`C`.

    Each step moves along :math:`\nabla C / C` and projects every row back on the
    simplex, one trajectory per threshold. As in the paper, :math:`C` is computed on the
    linear scale, so where it underflows to 0 the step is zero (flagged in ``message``).

    Parameters
    ----------
    problem : PolicyProblem
        Outcome statistics.
    thresholds : array_like
        Shape ``(T,)`` for 1-D outcomes, ``(T, 2)`` for 2-D.
    eta, n_steps : float, int
        Step size and number of steps.
    start : {"dirichlet", "uniform"} or array_like, default "dirichlet"
        The best (per threshold) of ``n_dirichlet`` Dirichlet draws seeded by
        ``seed``, the uniform plan, or a plan of shape (M, K).
    backend : {"numba", "numpy"}, default "numba"
        A compiled loop per trajectory, or all thresholds stepped together in NumPy
        (about a thousand times slower per step).
    tol : float, default 1e-6
        A run has converged (to a stationary point) when its projected gradient
        :math:`\max |\psi - P(\psi + \eta \nabla \log C)| / \eta` is at most ``tol``.

    Returns one :class:`SuccessProbaResult` per threshold (``wall_time``: total / T).

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, algorithm1
    >>> problem = PolicyProblem([[2.0, 1.9, 0.0]], [[9.0, 1.0, 9.0]])
    >>> [res] = algorithm1(problem, [1.0], n_steps=200, n_dirichlet=100)
    >>> res.probability > 0.8
    True
    """
    t0 = time.perf_counter()
    thr = problem.check_threshold(thresholds, batch=True)
    eta = check_positive(eta, "eta", what="step size", hint="Pass e.g. eta=0.01.")
    tol = check_positive(tol, "tol", hint="Pass e.g. tol=1e-6.")
    n_steps = _check_count("n_steps", n_steps, 0)
    n_dirichlet = _check_count("n_dirichlet", n_dirichlet, 1)
    if backend not in ("numba", "numpy"):
        raise ValueError(f"backend must be 'numba' or 'numpy'; got {backend!r}.")
    outcome = outcome_of(problem)
    n_t = thr.shape[0]
    m, k = problem.n_buckets, problem.n_policies
    if isinstance(start, str) and start == "dirichlet":
        draws = np.random.default_rng(seed).dirichlet(np.ones(k), size=(n_dirichlet, m))
        psi = np.empty((n_t, m, k))
        for t in range(n_t):
            logc = np.concatenate(
                [
                    outcome.log_probability(draws[i : i + 5000], thr[t])
                    for i in range(0, n_dirichlet, 5000)
                ]
            )
            psi[t] = draws[int(np.argmax(logc))]
    elif isinstance(start, str) and start == "uniform":
        psi = np.full((n_t, m, k), 1.0 / k)
    elif isinstance(start, str):
        raise ValueError(
            f"start must be 'dirichlet', 'uniform' or a plan of shape ({m}, {k}); got {start!r}."
        )
    else:
        start = project_rows_to_simplex(problem.check_plan(start, name="start"))
        psi = np.broadcast_to(start, (n_t, m, k)).copy()
    stuck = np.zeros(n_t, dtype=bool)
    if backend == "numba":
        for t in range(n_t):
            row = np.ascontiguousarray(psi[t])
            stuck[t] = outcome.paper_ascent(row, thr[t], eta, n_steps)
            psi[t] = row
    elif backend == "numpy":
        for _ in range(n_steps):
            c, step = outcome.paper_ratio(psi, thr)
            stuck |= c <= 0.0
            psi = project_rows_to_simplex(psi + eta * step)
    wall = (time.perf_counter() - t0) / n_t
    results = []
    for t in range(n_t):
        th = float(thr[t]) if problem.n_outcomes == 1 else tuple(thr[t].tolist())
        logc, grad = outcome.log_probability(psi[t], thr[t], grad=True)
        logc = float(logc)
        step = np.abs(psi[t] - project_rows_to_simplex(psi[t] + eta * grad)).max() / eta
        stationary = bool(np.isfinite(logc) and step <= tol)
        if stuck[t]:
            message = "flat region: C underflowed to 0, steps were zero"
        elif stationary:
            message = f"converged: projected gradient {step:.2g} <= tol"
        else:
            message = f"not converged: projected gradient {step:.2g} > tol = {tol:g}"
        results.append(
            SuccessProbaResult(
                psi=problem.as_plan(psi[t]),
                probability=float(np.exp(logc)),
                log_probability=logc,
                threshold=th,
                method="Algorithm1",
                converged=stationary and not stuck[t],
                message=message,
                wall_time=wall,
                reachable=bool(np.exp(logc) > 0.0),
                log_survival=float(outcome.log_survival(psi[t], thr[t])),
            )
        )
    return results
