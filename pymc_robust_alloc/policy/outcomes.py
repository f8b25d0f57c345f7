r"""The two kinds of outcome a policy problem has: one scalar, or (value, cost).

Each outcome type holds what the solvers, baselines and evaluation need of it: the log
success criterion and its gradient, the survival form :math:`\log(1 - C)` (accurate
where :math:`C` rounds to one), a margin to rank plans whose :math:`C` underflows, and
an upper bound on the best :math:`C` over all plans.

- :class:`ScalarOutcome`: :math:`C = P(Y > r)` is maximised exactly on the upper
  boundary of the reachable (variance, mean) polygon (:class:`Frontier`), so its bound
  is the optimum itself.
- :class:`ValueCostOutcome`: :math:`C = P(Y_v > r_v,\ Y_c \le r_c)`. For
  :math:`\alpha > 0, \beta \ge 0` the success event implies
  :math:`\alpha Y_v - \beta Y_c > \alpha r_v - \beta r_c`, a scalar outcome whose
  mean and variance are linear in the plan; its exact optimum bounds :math:`C` from
  above, and the smallest such bound over directions is the certificate.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr

from pymc_robust_alloc.policy.criteria import (
    _criterion_1d,
    _criterion_2d,
    _log_complement_1d,
    _log_complement_2d,
)
from pymc_robust_alloc.policy.problem import PolicyProblem

__all__ = ["Frontier", "ScalarOutcome", "UpperBound", "ValueCostOutcome", "outcome_of"]

# below this standardised margin a supremum C -> 1/2 is approached (sqrt of machine eps)
_SUPREMUM_MARGIN = -np.sqrt(np.finfo(float).eps)


@dataclass(frozen=True)
class UpperBound:
    """An upper bound on the best success probability of any plan.

    ``z`` is the standardised margin whose normal tail is the bound, so
    ``log_bound = log Phi(z)`` and ``log_survival = log Phi(-z)`` (no cancellation
    near one); ``exact`` says the bound is the optimum itself (1-D outcomes).
    """

    z: float
    exact: bool
    direction: tuple[float, float] | None = None

    @property
    def log_bound(self) -> float:
        """Log of the bound."""
        return float(log_ndtr(self.z))

    @property
    def log_survival(self) -> float:
        """Log of one minus the bound."""
        return float(log_ndtr(-self.z))


class Frontier:
    """Upper boundary of the reachable (V, m) polygon of a scalar outcome.

    Vertices are hard plans; edge ``i`` moves bucket ``g[i]`` from policy ``k0[i]`` to
    ``k1[i]``, sorted by decreasing slope dm / dV (the merge of the buckets' upper
    hulls, which is the upper hull of their Minkowski sum). Variances increase along
    the boundary, so only its first vertex can be a point mass.
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

    def _plan(self, n_moves: int, share: float = 0.0) -> np.ndarray:
        """Return the plan after ``n_moves`` edges, moved ``share`` along the next one."""
        choice = self.start.copy()
        for g, k in zip(self.g[:n_moves], self.k1[:n_moves], strict=True):
            choice[g] = k
        psi = np.zeros(self.shape)
        psi[np.arange(self.shape[0]), choice] = 1.0
        if share > 0.0:
            g = self.g[n_moves]
            psi[g] = 0.0
            psi[g, self.k0[n_moves]], psi[g, self.k1[n_moves]] = 1.0 - share, share
        return psi

    def best(self, r: float) -> tuple[np.ndarray, float, bool]:
        """Find the boundary plan maximising (m - r) / sqrt(V).

        Returns the plan, the supremum of the margin over all plans, and whether the
        plan attains it. It is not attained only when the first vertex is a point
        mass exactly at ``r`` (margin -inf there, -> 0 along the first edge) and every
        other plan falls short of the threshold: the plan returned then lies close to
        that vertex, with a margin of -1.5e-8.
        """

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
        i_v = int(np.argmax(z_vertex))
        i_e = int(np.argmax(z_edge)) if t.size else -1
        if i_e >= 0 and z_edge[i_e] > z_vertex[i_v]:
            best_z, psi = float(z_edge[i_e]), self._plan(i_e, float(t[i_e]))
        else:
            best_z, psi = float(z_vertex[i_v]), self._plan(i_v)
        if best_z < 0.0 and self.v[0] == 0.0 and self.m[0] == r and self.d_v.size:
            # sup z = 0 near the point mass at r, along the first edge (d_m < 0 there)
            share = (_SUPREMUM_MARGIN * np.sqrt(self.d_v[0]) / self.d_m[0]) ** 2
            return self._plan(0, min(float(share), 1.0)), 0.0, False
        return psi, best_z, True


class ScalarOutcome:
    r"""A scalar outcome :math:`Y \sim N(\sum \psi\mu, \sum \psi\Sigma)`, success ``Y > r``.

    Parameters
    ----------
    mu, var : numpy.ndarray
        Means and variances per (bucket, policy), shape ``(M, K)``.
    """

    n_outcomes = 1

    def __init__(self, mu: np.ndarray, var: np.ndarray) -> None:
        self.mu, self.var = mu, var
        self._frontier: Frontier | None = None

    def log_probability(self, psi, threshold, grad=False):
        """Log C (and its gradient in psi)."""
        return _criterion_1d(psi, self.mu, self.var, threshold, grad=grad)

    def log_survival(self, psi, threshold, grad=False):
        """Log(1 - C) (and its gradient), accurate where C rounds to one."""
        return _log_complement_1d(psi, self.mu, self.var, threshold, grad=grad)

    def margin(self, psi, threshold):
        """Standardised margin (m - r) / sqrt(V), finite also for point masses."""
        m = np.einsum("...gk,gk->...", psi, self.mu)
        v = np.einsum("...gk,gk->...", psi, self.var)
        return (m - threshold) / np.sqrt(v + 1e-300)

    def screen(self, psi, threshold):
        """Cheap ranking score of many plans."""
        return self.log_probability(psi, threshold)

    @property
    def frontier(self) -> Frontier:
        """The upper boundary of the reachable (variance, mean) polygon."""
        if self._frontier is None:
            self._frontier = Frontier(self.mu, self.var)
        return self._frontier

    def best(self, threshold) -> tuple[np.ndarray, UpperBound, bool]:
        """Return the exact optimum: plan, its (supremum) bound, and whether it is attained."""
        psi, z, attained = self.frontier.best(float(threshold))
        return psi, UpperBound(z=z, exact=True), attained

    def upper_bound(self, threshold) -> UpperBound:
        """Return the best C over all plans (a supremum when not attained): exact."""
        return self.best(threshold)[1]


class ValueCostOutcome:
    r"""A (value, cost) outcome; success is :math:`Y_v > r_v` and :math:`Y_c \le r_c`.

    Parameters
    ----------
    mu : numpy.ndarray
        Means, shape ``(M, K, 2)``.
    cov : numpy.ndarray
        Covariances, shape ``(M, K, 2, 2)``.
    """

    n_outcomes = 2
    N_GRID = 17  # directions screened before the local refinement

    def __init__(self, mu: np.ndarray, cov: np.ndarray) -> None:
        self.mu, self.cov = mu, cov

    def log_probability(self, psi, threshold, grad=False):
        """Log C (and its gradient in psi)."""
        return _criterion_2d(psi, self.mu, self.cov, threshold[0], threshold[1], grad=grad)

    def log_survival(self, psi, threshold, grad=False):
        """Log(1 - C) (and its gradient), accurate where C rounds to one."""
        return _log_complement_2d(psi, self.mu, self.cov, threshold[0], threshold[1], grad=grad)

    def margin(self, psi, threshold):
        """Return the worse of the two standardised margins, finite also for point masses."""
        m = np.einsum("...gk,gkd->...d", psi, self.mu)
        v = np.einsum("...gk,gkd->...d", psi, np.diagonal(self.cov, axis1=-2, axis2=-1))
        z_v = (m[..., 0] - threshold[0]) / np.sqrt(v[..., 0] + 1e-300)
        z_c = (threshold[1] - m[..., 1]) / np.sqrt(v[..., 1] + 1e-300)
        return np.minimum(z_v, z_c)

    def screen(self, psi, threshold):
        """Cheap ranking score: log C where C > 1e-12, then the margin."""
        from pymc_robust_alloc.policy.bvn import _owen_cdf

        m = np.einsum("...gk,gkd->...d", psi, self.mu)
        V = np.einsum("...gk,gkde->...de", psi, self.cov)
        s_v = np.sqrt(np.maximum(V[..., 0, 0], 1e-300))
        s_c = np.sqrt(np.maximum(V[..., 1, 1], 1e-300))
        rho = np.clip(V[..., 0, 1] / (s_v * s_c), -1.0, 1.0)
        a = np.clip((m[..., 0] - threshold[0]) / s_v, -1e150, 1e150)
        b = np.clip((threshold[1] - m[..., 1]) / s_c, -1e150, 1e150)
        c = _owen_cdf(a, b, -np.clip(rho, -1 + 1e-12, 1 - 1e-12))
        return np.where(c > 1e-12, np.log(np.maximum(c, 1e-300)), -1e3 + np.minimum(a, b) * 1e-3)

    def direction(self, angle: float) -> tuple[ScalarOutcome, float, float]:
        r"""Return the outcome :math:`\cos\theta\, Y_v - \sin\theta\, Y_c` and its weights."""
        alpha, beta = np.cos(angle), np.sin(angle)
        mu = alpha * self.mu[..., 0] - beta * self.mu[..., 1]
        var = (
            alpha**2 * self.cov[..., 0, 0]
            - 2.0 * alpha * beta * self.cov[..., 0, 1]
            + beta**2 * self.cov[..., 1, 1]
        )
        return ScalarOutcome(mu, np.maximum(var, 0.0)), alpha, beta

    def _direction_z(self, angle: float, threshold) -> float:
        outcome, alpha, beta = self.direction(angle)
        return outcome.best(alpha * threshold[0] - beta * threshold[1])[1].z

    def upper_bound(self, threshold) -> UpperBound:
        r"""Return the smallest exact 1-D bound over directions :math:`\theta \in [0, \pi/2)`.

        Every direction gives a valid bound; the minimum is searched on a grid of
        ``N_GRID`` angles, then refined between the grid neighbours of the best one.
        """
        top = 0.5 * np.pi * (1.0 - 1e-9)  # alpha > 0: the implied event is strict
        grid = np.linspace(0.0, top, self.N_GRID)
        z = np.array([self._direction_z(a, threshold) for a in grid])
        i = int(np.argmin(z))
        best_angle, best_z = float(grid[i]), float(z[i])
        lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, grid.size - 1)]
        if np.isfinite(best_z) and hi > lo:
            res = minimize_scalar(
                lambda a: self._direction_z(a, threshold),
                bounds=(lo, hi),
                method="bounded",
                options={"xatol": 1e-6 * (hi - lo)},
            )
            if res.fun < best_z:
                best_angle, best_z = float(res.x), float(res.fun)
        return UpperBound(z=best_z, exact=False, direction=(np.cos(best_angle), np.sin(best_angle)))


def outcome_of(problem: PolicyProblem) -> ScalarOutcome | ValueCostOutcome:
    """Return the outcome type of a problem."""
    if problem.n_outcomes == 1:
        return ScalarOutcome(problem.mu, problem.cov)
    return ValueCostOutcome(problem.mu, problem.cov)
