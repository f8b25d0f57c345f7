r"""Maximise the success probability :math:`C(\psi)` over soft allocations.

- :func:`algorithm1` is the paper's Algorithm 1 (Betlei et al., AAAI-24), the reference:
  projected gradient ascent along :math:`\nabla C / C` with a Euclidean projection of
  each row on the simplex (Duchi et al., 2008), batched over thresholds.
- :class:`SuccessProbaMax` / :func:`success_proba_max` is the fast solver.

  - 1-D outcomes are solved exactly: :math:`C = \Phi((m - r)/\sqrt{V})` increases
    with the mean :math:`m` at a fixed variance :math:`V`, and both are linear in
    :math:`\psi`, so the optimum lies on the upper boundary of the polygon of
    reachable :math:`(V, m)`, the Minkowski sum of each bucket's hull of
    :math:`(\Sigma_{gk}, \mu_{gk})`. Its edges move one bucket between two policies;
    the best point of each edge has a closed form.
  - 2-D outcomes: SLSQP on :math:`\log C` (on :math:`\log(1 - C)` near one) with one
    equality constraint per bucket, multi-started from the previous threshold's plan,
    the best hard plans, the baselines given, the uniform plan and seeded Dirichlet
    draws.
"""

from __future__ import annotations

import itertools
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import ndtr

from pymc_robust_alloc.policy._paper_kernel import ascent_1d, ascent_2d
from pymc_robust_alloc.policy.baselines import baseline_plans
from pymc_robust_alloc.policy.bvn import _owen_cdf
from pymc_robust_alloc.policy.criteria import (
    _bvn_partials,
    _criterion_1d,
    _criterion_2d,
    _log_complement_1d,
    _log_complement_2d,
    _split_threshold,
    log_success_probability,
)
from pymc_robust_alloc.policy.problem import PolicyProblem

_CONTROLLER = []


def _single_blas_thread():
    """Limit BLAS to one thread (the controller is built once).

    SLSQP's BLAS calls are tiny: threads only add overhead, a lot on a loaded machine.
    """
    try:
        if not _CONTROLLER:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        return _CONTROLLER[0].limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()


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

    Parameters
    ----------
    v : array_like
        Array of shape ``(..., K)``.

    Returns
    -------
    numpy.ndarray
        The closest points with non-negative entries summing to one.

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

    Attributes
    ----------
    psi : xarray.DataArray
        The plan, dims ``(bucket, policy)``.
    C, log_C : float
        Success probability of the plan and its log.
    threshold : float or tuple
        ``r`` or ``(r_v, r_c)``.
    method : str
        Solver name.
    converged : bool
        Whether the local solver reported success.
    message : str
        Solver messages and flags in words.
    wall_time : float
        Seconds spent.
    reachable : bool
        False when :math:`C` underflows to 0 for every plan tried; the plan then
        maximises :math:`\log C` (the standardised margin) instead.
    beats_baselines : bool
        Whether :math:`C` is at least the best baseline's (within 1e-9).
    baseline_C : dict
        Success probability of each baseline plan.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, SuccessProbaMax
    >>> problem = PolicyProblem([[2.0, 1.9, 0.0]], [[9.0, 1.0, 9.0]])
    >>> result = SuccessProbaMax(problem).solve(1.0)
    >>> result.reachable, result.message
    (True, 'exact (frontier)')
    >>> psi, C = result  # unpacks as (plan, success probability)
    >>> psi.values, round(C, 3)
    (array([[0., 1., 0.]]), 0.816)
    """

    psi: xr.DataArray
    C: float
    log_C: float
    threshold: object
    method: str
    converged: bool = True
    message: str = ""
    wall_time: float = 0.0
    reachable: bool = True
    beats_baselines: bool = True
    baseline_C: dict = field(default_factory=dict)

    def __iter__(self):
        """Unpack as ``(psi, C)``."""
        return iter((self.psi, self.C))


def _criterion(problem, psi, threshold, grad=False):
    r = _split_threshold(problem, threshold)
    if problem.n_outcomes == 1:
        return _criterion_1d(psi, problem.mu, problem.cov, r[0], grad=grad)
    return _criterion_2d(psi, problem.mu, problem.cov, r[0], r[1], grad=grad)


def _log_complement(problem, psi, threshold, grad=False):
    """Log(1 - C), accurate where C rounds to one."""
    r = _split_threshold(problem, threshold)
    if problem.n_outcomes == 1:
        return _log_complement_1d(psi, problem.mu, problem.cov, r[0], grad=grad)
    return _log_complement_2d(psi, problem.mu, problem.cov, r[0], r[1], grad=grad)


def _margin(problem, psi, threshold):
    """Fallback score: the worst standardised margin (finite also for point masses)."""
    r = _split_threshold(problem, threshold)
    if problem.n_outcomes == 1:
        m = np.einsum("...gk,gk->...", psi, problem.mu)
        v = np.einsum("...gk,gk->...", psi, problem.cov)
        return (m - r[0]) / np.sqrt(v + 1e-300)
    m = np.einsum("...gk,gkd->...d", psi, problem.mu)
    v = np.einsum("...gk,gkd->...d", psi, np.diagonal(problem.cov, axis1=-2, axis2=-1))
    z_v = (m[..., 0] - r[0]) / np.sqrt(v[..., 0] + 1e-300)
    z_c = (r[1] - m[..., 1]) / np.sqrt(v[..., 1] + 1e-300)
    return np.minimum(z_v, z_c)


def _screen(problem, psi, threshold):
    """Cheap ranking score of many plans: log C in the bulk, then the margin."""
    if problem.n_outcomes == 1:
        return _criterion(problem, psi, threshold)
    r_v, r_c = _split_threshold(problem, threshold)
    m = np.einsum("...gk,gkd->...d", psi, problem.mu)
    V = np.einsum("...gk,gkde->...de", psi, problem.cov)
    s_v = np.sqrt(np.maximum(V[..., 0, 0], 1e-300))
    s_c = np.sqrt(np.maximum(V[..., 1, 1], 1e-300))
    rho = np.clip(V[..., 0, 1] / (s_v * s_c), -1.0, 1.0)
    a = np.clip((m[..., 0] - r_v) / s_v, -1e150, 1e150)
    b = np.clip((r_c - m[..., 1]) / s_c, -1e150, 1e150)
    c = _owen_cdf(a, b, -np.clip(rho, -1 + 1e-12, 1 - 1e-12))
    # plans with C ~ 0 in absolute terms rank below the rest, by their worst margin
    return np.where(c > 1e-12, np.log(np.maximum(c, 1e-300)), -1e3 + np.minimum(a, b) * 1e-3)


class _Frontier1D:
    """Upper boundary of the reachable (V, m) polygon of a 1-D problem.

    Vertices are hard plans; edge ``i`` moves bucket ``g[i]`` from policy ``k0[i]`` to
    ``k1[i]``, sorted by decreasing slope dm / dV (the merge of the buckets' upper
    hulls, which is the upper hull of their Minkowski sum).
    """

    def __init__(self, mu: np.ndarray, var: np.ndarray) -> None:
        n_b = mu.shape[0]
        start = np.zeros(n_b, dtype=int)
        edges = []
        for g in range(n_b):
            hull: list[int] = []
            for k in np.lexsort((-mu[g], var[g])):  # V ascending, then m descending
                if hull and var[g, k] == var[g, hull[-1]]:
                    continue  # same variance, lower mean: dominated
                while len(hull) >= 2:
                    o, a = hull[-2], hull[-1]
                    cross = (var[g, a] - var[g, o]) * (mu[g, k] - mu[g, o]) - (
                        mu[g, a] - mu[g, o]
                    ) * (var[g, k] - var[g, o])
                    if cross < 0.0:
                        break
                    hull.pop()  # on or below the chord: not on the upper hull
                hull.append(int(k))
            start[g] = hull[0]
            for a, b in itertools.pairwise(hull):
                slope = (mu[g, b] - mu[g, a]) / (var[g, b] - var[g, a])
                edges.append((-slope, g, a, b))
        edges.sort()
        self.g = np.array([e[1] for e in edges], dtype=int)
        self.k0 = np.array([e[2] for e in edges], dtype=int)
        self.k1 = np.array([e[3] for e in edges], dtype=int)
        self.start = start
        rows = np.arange(n_b)
        d_m = mu[self.g, self.k1] - mu[self.g, self.k0]
        d_v = var[self.g, self.k1] - var[self.g, self.k0]
        self.m = np.concatenate([[mu[rows, start].sum()], d_m]).cumsum()
        self.v = np.maximum(np.concatenate([[var[rows, start].sum()], d_v]).cumsum(), 0)
        self.d_m, self.d_v = d_m, d_v
        self.shape = mu.shape

    def best(self, r: float) -> np.ndarray:
        """Return the boundary plan that maximises (m - r) / sqrt(V)."""

        def score(m, v):
            with np.errstate(divide="ignore", invalid="ignore"):
                z = (m - r) / np.sqrt(v)
            return np.where(v > 0.0, z, np.where(m > r, np.inf, -np.inf))

        z_vertex = score(self.m, self.v)
        # stationary point of (A + t dm) / sqrt(V0 + t dV) on each edge
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (self.m[:-1] - r) / self.d_m - 2.0 * self.v[:-1] / self.d_v
        t = np.where(np.isfinite(t) & (t > 0.0) & (t < 1.0), t, 0.0)
        z_edge = score(self.m[:-1] + t * self.d_m, self.v[:-1] + t * self.d_v)
        i_v, i_e = int(np.argmax(z_vertex)), int(np.argmax(z_edge)) if t.size else -1
        psi = np.zeros(self.shape)
        rows = np.arange(self.shape[0])
        if i_e >= 0 and z_edge[i_e] > z_vertex[i_v]:
            choice = self.start.copy()
            for g, k in zip(self.g[:i_e], self.k1[:i_e], strict=True):
                choice[g] = k
            psi[rows, choice] = 1.0
            g = self.g[i_e]
            psi[g] = 0.0
            psi[g, self.k0[i_e]], psi[g, self.k1[i_e]] = 1.0 - t[i_e], t[i_e]
            return psi
        choice = self.start.copy()
        for g, k in zip(self.g[:i_v], self.k1[:i_v], strict=True):
            choice[g] = k
        psi[rows, choice] = 1.0
        return psi


class _Segment:
    """One bucket, two policies: the plan is a point of a segment, searched directly.

    ``psi = [1 - p, p]``; log C (or log(1 - C) near one) is evaluated on a grid of
    ``p`` in [0, 1], then on finer grids around the best point until the bracket is
    narrower than 1e-11: a handful of vectorised evaluations.
    """

    COARSE, FINE, WIDTH = 257, 65, 1e-11

    def __init__(self, problem: PolicyProblem) -> None:
        self.problem = problem

    def _search(self, score, threshold) -> tuple[np.ndarray, float]:
        low, high, n = 0.0, 1.0, self.COARSE
        best_p, best = 0.0, -np.inf
        while high - low > self.WIDTH:
            grid = np.linspace(low, high, n)
            values = score(self.problem, np.stack([1.0 - grid, grid], axis=-1)[:, None], threshold)
            values = np.where(np.isfinite(values), values, -np.inf)
            i = int(np.argmax(values))
            if values[i] > best:
                best_p, best = float(grid[i]), float(values[i])
            low, high, n = grid[max(i - 1, 0)], grid[min(i + 1, n - 1)], self.FINE
        return np.array([[1.0 - best_p, best_p]]), best

    def best(self, threshold) -> tuple[np.ndarray, float]:
        """Return the best plan and its log C."""
        psi, log_c = self._search(_criterion, threshold)
        if log_c > _LOG_NEAR_ONE:

            def survival(problem, plans, thr):
                return -_log_complement(problem, plans, thr)

            psi, minus_log_q = self._search(survival, threshold)
            log_c = float(np.log1p(-np.exp(-minus_log_q)))
        return psi, log_c


class SuccessProbaMax:
    r"""Fast maximiser of :math:`C(\psi)` for one problem, across thresholds.

    Parameters
    ----------
    problem : PolicyProblem
        Outcome statistics.
    method : {"auto", "frontier", "segment", "slsqp"}, default "auto"
        ``"frontier"`` (1-D outcomes only) is exact: the best point of the upper
        boundary of the reachable (variance, mean) polygon. ``"segment"`` (one
        bucket, two policies) searches the one free share directly, on ever finer
        grids. ``"slsqp"``: multi-start SLSQP on :math:`\log C`.
        ``"auto"``: the frontier in 1-D, the segment for one bucket and two
        policies, SLSQP otherwise.
    n_random : int, default 8
        Seeded Dirichlet starting points for SLSQP, in addition to the best hard plans
        (when K**M <= ``max_hard_plans``), the uniform plan, the Greedy1D plan, a warm
        start and any baselines given.
    n_local : int, default 3
        Number of best starting points refined by SLSQP.
    n_local_warm : int, optional
        With a warm start (e.g. in :meth:`solve_path`): SLSQP runs from the warm
        start and from this many best other starting points; default ``n_local``
        (so a warm-started solve is never worse than a cold one).
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
    >>> round(solver.solve(2.0).C, 3)
    0.953
    >>> [round(res.C, 3) for res in solver.solve_path([1.0, 2.0, 3.0])]
    [0.988, 0.953, 0.864]
    """

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
        m, k = problem.n_buckets, problem.n_policies
        if method == "frontier":
            self._frontier = _Frontier1D(problem.mu, problem.cov)
        elif method == "segment":
            self._segment = _Segment(problem)
        rng = np.random.default_rng(seed)
        starts = [np.full((m, k), 1.0 / k)]
        starts += list(rng.dirichlet(np.ones(k), size=(n_random, m)))
        n_hard = k**m
        if n_hard <= max_hard_plans:
            idx = np.arange(n_hard)
            choice = (idx[:, None] // k ** np.arange(m)[::-1]) % k
            hard = np.zeros((n_hard, m, k))
            np.put_along_axis(hard, choice[..., None], 1.0, axis=-1)
            self._hard = hard
        else:
            self._hard = None
        self._starts = np.stack(starts)
        self._greedy = baseline_plans(
            problem, 0.0 if problem.n_outcomes == 1 else (0.0, 0.0), max_plans=0
        )["Greedy1D"]
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
        problem = self.problem
        shape = psi0.shape
        sign, crit = (1.0, _log_complement) if complement else (-1.0, _criterion)

        def fun(x):
            value, grad = crit(problem, x.reshape(shape), threshold, grad=True)
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
        return psi, float(crit(problem, psi, threshold)), res

    def _polish_near_one(self, plans, threshold):
        """Minimise log(1 - C) from each plan, where log C has lost the resolution.

        Returns the best plan, its log C and log(1 - C).
        """
        problem = self.problem
        best_psi, best_logq = None, np.inf
        for psi in plans:
            logq = float(_log_complement(problem, psi, threshold))
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
            ``r`` (1-D) or ``(r_v, r_c)`` (2-D).
        baselines : dict of str to ndarray, optional
            Baseline plans (e.g. :func:`baseline_plans`) to compare with, and for
            SLSQP to start from. Default: Greedy1D only (the LP and MILP solves cost
            more than the solve itself; the best hard plans are starts anyway).
        warm_start : array_like, optional
            A plan of shape (M, K) to start SLSQP from, e.g. the solution at a nearby
            threshold.

        Returns
        -------
        SuccessProbaResult
            The plan and its success probability, with flags.

        Examples
        --------
        >>> from pymc_robust_alloc.policy import PolicyProblem, SuccessProbaMax
        >>> mu = [[2.0, 1.9, 0.0], [2.0, 1.0, 0.0], [2.0, 1.0, 0.0]]
        >>> var = [[9.0, 1.0, 9.0], [9.0, 1.0, 9.0], [1.0, 1.0, 1.0]]
        >>> result = SuccessProbaMax(PolicyProblem(mu, var)).solve(2.0)
        >>> result.psi.values
        array([[0., 1., 0.],
               [0., 1., 0.],
               [1., 0., 0.]])
        >>> round(result.C, 3), round(result.baseline_C["Greedy1D"], 3), result.beats_baselines
        (0.953, 0.821, True)
        """
        t0 = time.perf_counter()
        problem = self.problem
        if baselines is None:
            baselines = {"Greedy1D": self._greedy}
        base_logc = {
            name: float(_criterion(problem, psi, threshold)) for name, psi in baselines.items()
        }
        with _single_blas_thread():
            if self.method == "frontier":
                best_psi = self._frontier.best(float(threshold))
                best_logc = float(_criterion(problem, best_psi, threshold))
                messages, converged = ["exact (frontier)"], True
            elif self.method == "segment":
                best_psi, best_logc = self._segment.best(threshold)
                messages, converged = ["grid search on the segment"], True
            else:
                best_psi, best_logc, messages, converged = self._multistart(
                    threshold, baselines, warm_start
                )
        base_c = {name: float(np.exp(v)) for name, v in base_logc.items()}
        best_c = float(np.exp(best_logc))
        reachable = best_c > 0.0
        beats = all(best_c >= c - 1e-9 for c in base_c.values())
        notes = []
        if not reachable:
            notes.append(
                "unreachable threshold: C underflows to 0 for every plan tried; the "
                "plan maximises log C (the standardised margin) instead"
            )
            warnings.warn(
                f"Threshold {threshold!r}: success probability is 0 to double "
                "precision for every plan tried; returning the plan with the largest "
                "log C.",
                RuntimeWarning,
                stacklevel=2,
            )
        if not beats:
            notes.append("worse than the best baseline")
            warnings.warn(
                f"Threshold {threshold!r}: the solver's plan is worse than a baseline.",
                RuntimeWarning,
                stacklevel=2,
            )
        message = "; ".join(notes + sorted(set(messages)))
        return SuccessProbaResult(
            psi=problem.as_plan(best_psi),
            C=best_c,
            log_C=best_logc,
            threshold=threshold,
            method="SuccessProbaMax",
            converged=converged or not messages,
            message=message,
            wall_time=time.perf_counter() - t0,
            reachable=reachable,
            beats_baselines=beats,
            baseline_C=base_c,
        )

    def solve_path(self, thresholds: ArrayLike) -> list[SuccessProbaResult]:
        """Solve a sequence of thresholds, each warm-started from the previous plan.

        Parameters
        ----------
        thresholds : array_like
            Shape ``(T,)`` (1-D) or ``(T, 2)`` (2-D), best ordered so that
            neighbours are close.

        Returns
        -------
        list of SuccessProbaResult
            One per threshold.

        Examples
        --------
        A (value, cost) problem: one bucket, two policies, thresholds ``(r_v, r_c)``.
        As ``r_v`` rises the plan moves from ``policy1`` to ``policy0``.

        >>> from pymc_robust_alloc.policy import PolicyProblem, SuccessProbaMax
        >>> mu = [[[2.0, 1.0], [1.0, 1.5]]]
        >>> cov = [[[[9.0, 3.0], [3.0, 4.0]], [[1.0, 0.5], [0.5, 1.0]]]]
        >>> solver = SuccessProbaMax(PolicyProblem(mu, cov))
        >>> path = solver.solve_path([(0.0, 2.0), (0.5, 2.0)])
        >>> [(round(res.C, 3), round(float(res.psi.sel(policy="policy0")[0]), 2)) for res in path]
        [(0.545, 0.0), (0.419, 1.0)]
        """
        thr = np.asarray(thresholds, dtype=float)
        thr = thr.reshape(-1) if self.problem.n_outcomes == 1 else thr.reshape(-1, 2)
        results, previous = [], None
        with _single_blas_thread():
            for t in thr:
                res = self.solve(t, warm_start=previous)
                previous = res.psi.values
                results.append(res)
        return results

    def _multistart(self, threshold, baselines, warm_start):
        problem = self.problem
        cands = [self._starts, np.stack(list(baselines.values()))]
        warm_i = len(self._starts) + len(baselines)
        if warm_start is not None:
            cands.append(np.asarray(warm_start, dtype=float)[None])
        if self._hard is not None:
            score = _screen(problem, self._hard, threshold)
            order = np.argsort(-score, kind="stable")[: self._n_hard_starts]
            cands.append(self._hard[order])
        cands = np.concatenate(cands)
        logc = _criterion(problem, cands, threshold)
        best_i = int(np.argmax(logc))
        best_psi, best_logc = cands[best_i], float(logc[best_i])
        if not np.isfinite(best_logc):
            margin = _margin(problem, cands, threshold)
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
    """Maximise the success probability of a plan at one threshold.

    A shortcut for ``SuccessProbaMax(problem, **kwargs).solve(threshold)``; build a
    :class:`SuccessProbaMax` once to sweep thresholds.

    Parameters
    ----------
    problem : PolicyProblem
        Outcome statistics.
    threshold : float or array_like
        ``r`` (1-D) or ``(r_v, r_c)`` (2-D).
    **kwargs
        Passed to :class:`SuccessProbaMax`.

    Returns
    -------
    SuccessProbaResult
        The plan and its success probability.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, success_proba_max
    >>> mu = [[[2.0, 1.0], [1.0, 1.5]]]
    >>> cov = [[[[9.0, 3.0], [3.0, 4.0]], [[1.0, 0.5], [0.5, 1.0]]]]
    >>> result = success_proba_max(PolicyProblem(mu, cov), (0.0, 2.0))
    >>> round(result.C, 4)  # a fine grid over psi gives the same maximum
    0.5453
    """
    return SuccessProbaMax(problem, **kwargs).solve(threshold)


def _paper_ratio(problem, psi, thresholds):
    """Grad C / C as in the paper, with C on the linear scale (0 when C underflows)."""
    mu, cov = problem.mu, problem.cov
    if problem.n_outcomes == 1:
        r = thresholds
        m = np.einsum("tgk,gk->t", psi, mu)
        v = np.einsum("tgk,gk->t", psi, cov)
        s = np.sqrt(np.maximum(v, 1e-300))
        z = (m - r) / s
        c = ndtr(z)
        dc = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        dz = mu / s[:, None, None] - ((m - r) / (2 * s**3))[:, None, None] * cov
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(c > 0, dc / c, 0.0)
        return c, ratio[:, None, None] * dz
    r_v, r_c = thresholds[:, 0], thresholds[:, 1]
    m = np.einsum("tgk,gkd->td", psi, mu)
    V = np.einsum("tgk,gkde->tde", psi, cov)
    s_v = np.sqrt(np.maximum(V[:, 0, 0], 1e-300))
    s_c = np.sqrt(np.maximum(V[:, 1, 1], 1e-300))
    rho = np.clip(V[:, 0, 1] / (s_v * s_c), -1 + 1e-12, 1 - 1e-12)
    a = (m[:, 0] - r_v) / s_v
    b = (r_c - m[:, 1]) / s_c
    c = _owen_cdf(a, b, -rho)
    with np.errstate(divide="ignore"):
        logc = np.where(c > 0, np.log(np.maximum(c, 1e-300)), -np.inf)
    d_a, d_b, d_r = _bvn_partials(a, b, -rho, logc)
    e = (slice(None), None, None)
    da = mu[..., 0] / s_v[e] - ((m[:, 0] - r_v) / (2 * s_v**3))[e] * cov[..., 0, 0]
    db = -mu[..., 1] / s_c[e] - ((r_c - m[:, 1]) / (2 * s_c**3))[e] * cov[..., 1, 1]
    drho = cov[..., 0, 1] / (s_v * s_c)[e] - 0.5 * rho[e] * (
        cov[..., 0, 0] / (s_v**2)[e] + cov[..., 1, 1] / (s_c**2)[e]
    )
    return c, d_a[e] * da + d_b[e] * db - d_r[e] * drho


def algorithm1(
    problem: PolicyProblem,
    thresholds: ArrayLike,
    eta: float = 0.01,
    n_steps: int = 100_000,
    start: str | ArrayLike = "dirichlet",
    n_dirichlet: int = 50_000,
    seed: int = 0,
    backend: str = "numba",
) -> list[SuccessProbaResult]:
    r"""Run the paper's Algorithm 1, projected gradient ascent on :math:`C`.

    Each step moves along :math:`\nabla C / C` and projects every row back on the
    simplex.

    Runs one trajectory per threshold, all thresholds batched in one vectorised loop.
    As in the paper, :math:`C` is computed on the linear scale, so where it underflows
    to 0 the step is zero (the flat region): such runs are flagged in ``message``.

    Parameters
    ----------
    problem : PolicyProblem
        Outcome statistics.
    thresholds : array_like
        Shape ``(T,)`` for 1-D outcomes, ``(T, 2)`` for 2-D.
    eta : float, default 0.01
        Step size.
    n_steps : int, default 100_000
        Number of steps.
    start : {"dirichlet", "uniform"} or array_like, default "dirichlet"
        ``"dirichlet"``: the best (per threshold) of ``n_dirichlet`` seeded draws;
        ``"uniform"``; or a plan of shape (M, K) (e.g. a baseline's).
    n_dirichlet : int, default 50_000
        Number of Dirichlet draws.
    seed : int, default 0
        Seed of the draws.
    backend : {"numba", "numpy"}, default "numba"
        ``"numba"`` runs each trajectory in a compiled loop (Genz's bivariate normal
        CDF); ``"numpy"`` steps all thresholds together in vectorised NumPy (Owen's
        T), about a thousand times slower per step.

    Returns
    -------
    list of SuccessProbaResult
        One per threshold; ``wall_time`` is the total time divided by T.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, algorithm1
    >>> problem = PolicyProblem([[2.0, 1.9, 0.0]], [[9.0, 1.0, 9.0]])
    >>> [res] = algorithm1(problem, [1.0], n_steps=200, n_dirichlet=100)
    >>> res.C > 0.8
    True
    """
    t0 = time.perf_counter()
    thr = np.asarray(thresholds, dtype=float)
    if problem.n_outcomes == 1:
        thr = thr.reshape(-1)
    else:
        thr = thr.reshape(-1, 2)
    n_t = thr.shape[0]
    m, k = problem.n_buckets, problem.n_policies
    if isinstance(start, str) and start == "dirichlet":
        draws = np.random.default_rng(seed).dirichlet(np.ones(k), size=(n_dirichlet, m))
        psi = np.empty((n_t, m, k))
        for t in range(n_t):
            logc = np.concatenate(
                [
                    log_success_probability(problem, draws[i : i + 5000], thr[t])
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
        psi = np.broadcast_to(problem.check_plan(start), (n_t, m, k)).copy()
    stuck = np.zeros(n_t, dtype=bool)
    if backend == "numba":
        mu, cov = np.ascontiguousarray(problem.mu), np.ascontiguousarray(problem.cov)
        for t in range(n_t):
            row = np.ascontiguousarray(psi[t])
            if problem.n_outcomes == 1:
                stuck[t] = ascent_1d(row, mu, cov, thr[t], eta, n_steps)
            else:
                stuck[t] = ascent_2d(row, mu, cov, thr[t, 0], thr[t, 1], eta, n_steps)
            psi[t] = row
    elif backend == "numpy":
        for _ in range(n_steps):
            c, step = _paper_ratio(problem, psi, thr)
            stuck |= c <= 0.0
            psi = project_rows_to_simplex(psi + eta * step)
    else:
        raise ValueError(f"backend must be 'numba' or 'numpy'; got {backend!r}.")
    wall = (time.perf_counter() - t0) / n_t
    results = []
    for t in range(n_t):
        th = float(thr[t]) if problem.n_outcomes == 1 else tuple(thr[t].tolist())
        logc = float(log_success_probability(problem, psi[t], thr[t]))
        results.append(
            SuccessProbaResult(
                psi=problem.as_plan(psi[t]),
                C=float(np.exp(logc)),
                log_C=logc,
                threshold=th,
                method="Algorithm1",
                converged=not stuck[t],
                message="flat region: C underflowed to 0, steps were zero" if stuck[t] else "",
                wall_time=wall,
                reachable=bool(np.exp(logc) > 0.0),
            )
        )
    return results
