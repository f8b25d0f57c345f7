r"""The two kinds of outcome of a policy problem, and the public success evaluators.

:class:`ScalarOutcome` (:math:`C = P(Y > r)`, maximised exactly on the upper boundary of
the reachable (variance, mean) polygon) and :class:`ValueCostOutcome`
(:math:`C = P(Y_v > r_v,\ Y_c \le r_c)`, bounded above by the exact optimum of
:math:`\alpha Y_v - \beta Y_c` over directions) hold what the solvers need: the log
criterion and its gradient, :math:`\log(1 - C)`, a margin and an upper bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr, ndtr

from pymc_robust_alloc.policy._numba import (
    ascent_1d,
    ascent_2d,
    direction_margin,
    frontier_best,
    frontier_edges,
)
from pymc_robust_alloc.policy.bvn import _RHO_MAX, _owen_cdf
from pymc_robust_alloc.policy.criteria import (
    _bvn_partials,
    _chain_2d,
    _criterion_1d,
    _criterion_2d,
    _log_complement_1d,
    _log_complement_2d,
    _standardise_1d,
    _standardise_2d,
)
from pymc_robust_alloc.policy.problem import PolicyProblem

__all__ = [
    "Frontier",
    "ScalarOutcome",
    "UpperBound",
    "ValueCostOutcome",
    "log_failure_probability",
    "log_success_probability",
    "outcome_of",
    "success_probability",
]


@dataclass(frozen=True)
class UpperBound:
    """An upper bound ``Phi(z)`` on the best success probability; ``exact`` in 1-D."""

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
    ``k1[i]``, by decreasing slope dm / dV (the upper hull of the Minkowski sum).
    """

    def __init__(self, mu: np.ndarray, var: np.ndarray) -> None:
        self.mu, self.var = np.ascontiguousarray(mu), np.ascontiguousarray(var)
        self.start, self.g, self.k0, self.k1 = frontier_edges(self.mu, self.var)

    def best(self, r: float) -> tuple[np.ndarray, float, bool]:
        """Return the plan maximising (m - r) / sqrt(V), the supremum margin, and if attained."""
        n_moves, share, z, attained = frontier_best(
            self.mu, self.var, self.start, self.g, self.k0, self.k1, r
        )
        choice = self.start.copy()
        choice[self.g[:n_moves]] = self.k1[:n_moves]  # a repeated bucket keeps its last move
        psi = np.zeros(self.mu.shape)
        psi[np.arange(self.mu.shape[0]), choice] = 1.0
        if share > 0.0:
            g = self.g[n_moves]
            psi[g] = 0.0
            psi[g, self.k0[n_moves]], psi[g, self.k1[n_moves]] = 1.0 - share, share
        return psi, float(z), bool(attained)


class ScalarOutcome:
    r"""A scalar outcome :math:`Y \sim N(\sum \psi\mu, \sum \psi\Sigma)`, success ``Y > r``.

    ``mu`` and ``var`` have shape ``(M, K)``.
    """

    n_outcomes = 1

    def __init__(self, mu: np.ndarray, var: np.ndarray) -> None:
        self.mu, self.var = np.ascontiguousarray(mu), np.ascontiguousarray(var)
        self._frontier: Frontier | None = None

    def log_probability(self, psi, threshold, grad=False):
        """Log C (and its gradient in psi)."""
        return _criterion_1d(psi, self.mu, self.var, threshold, grad=grad)

    def log_survival(self, psi, threshold, grad=False):
        """Log(1 - C) (and its gradient), accurate where C rounds to one."""
        return _log_complement_1d(psi, self.mu, self.var, threshold, grad=grad)

    def paper_ratio(self, psi, threshold):
        """Algorithm 1's step: C on the linear scale and grad C / C (0 where C underflows)."""
        z, pos, derivative = _standardise_1d(psi, self.mu, self.var, threshold)
        c = ndtr(z)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(pos & (c > 0), np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi) / c, 0.0)
        return c, ratio[..., None, None] * derivative()

    def paper_ascent(self, psi, threshold, eta, n_steps) -> bool:
        """Run Algorithm 1's steps in place on one plan (compiled); True if C hit 0."""
        return ascent_1d(psi, self.mu, self.var, float(threshold), eta, n_steps)

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

    ``mu`` has shape ``(M, K, 2)``, ``cov`` ``(M, K, 2, 2)``.
    """

    n_outcomes = 2
    N_GRID = 17  # directions screened before the local refinement

    def __init__(self, mu: np.ndarray, cov: np.ndarray) -> None:
        self.mu, self.cov = np.ascontiguousarray(mu), np.ascontiguousarray(cov)

    def log_probability(self, psi, threshold, grad=False):
        """Log C (and its gradient in psi)."""
        return _criterion_2d(
            psi, self.mu, self.cov, threshold[..., 0], threshold[..., 1], grad=grad
        )

    def log_survival(self, psi, threshold, grad=False):
        """Log(1 - C) (and its gradient), accurate where C rounds to one."""
        return _log_complement_2d(
            psi, self.mu, self.cov, threshold[..., 0], threshold[..., 1], grad=grad
        )

    def paper_ratio(self, psi, threshold):
        """Algorithm 1's step: C on the linear scale and grad C / C (0 where C underflows)."""
        a, b, rho, derivatives = _standardise_2d(
            psi, self.mu, self.cov, threshold[..., 0], threshold[..., 1]
        )
        c = _owen_cdf(
            np.clip(a, -1e150, 1e150), np.clip(b, -1e150, 1e150), -np.clip(rho, -_RHO_MAX, _RHO_MAX)
        )
        with np.errstate(divide="ignore"):
            logc = np.where(c > 0, np.log(np.maximum(c, 1e-300)), -np.inf)
        return c, _chain_2d(_bvn_partials(a, b, -rho, logc), derivatives)

    def paper_ascent(self, psi, threshold, eta, n_steps) -> bool:
        """Run Algorithm 1's steps in place on one plan (compiled); True if C hit 0."""
        return ascent_2d(psi, self.mu, self.cov, threshold[0], threshold[1], eta, n_steps)

    def margin(self, psi, threshold):
        """Return the worse of the two standardised margins, finite also for point masses."""
        m = np.einsum("...gk,gkd->...d", psi, self.mu)
        v = np.einsum("...gk,gkd->...d", psi, np.diagonal(self.cov, axis1=-2, axis2=-1))
        z_v = (m[..., 0] - threshold[..., 0]) / np.sqrt(v[..., 0] + 1e-300)
        z_c = (threshold[..., 1] - m[..., 1]) / np.sqrt(v[..., 1] + 1e-300)
        return np.minimum(z_v, z_c)

    def screen(self, psi, threshold):
        """Cheap ranking score: log C where C > 1e-12, then the margin."""
        m = np.einsum("...gk,gkd->...d", psi, self.mu)
        V = np.einsum("...gk,gkde->...de", psi, self.cov)
        s_v = np.sqrt(np.maximum(V[..., 0, 0], 1e-300))
        s_c = np.sqrt(np.maximum(V[..., 1, 1], 1e-300))
        rho = np.clip(V[..., 0, 1] / (s_v * s_c), -1.0, 1.0)
        a = np.clip((m[..., 0] - threshold[..., 0]) / s_v, -1e150, 1e150)
        b = np.clip((threshold[..., 1] - m[..., 1]) / s_c, -1e150, 1e150)
        c = _owen_cdf(a, b, -np.clip(rho, -1 + 1e-12, 1 - 1e-12))
        return np.where(c > 1e-12, np.log(np.maximum(c, 1e-300)), -1e3 + np.minimum(a, b) * 1e-3)

    def _direction_z(self, angle: float, threshold) -> float:
        """Supremum margin of cos(angle) Y_v - sin(angle) Y_c over all plans."""
        return direction_margin(
            self.mu, self.cov, threshold[0], threshold[1], np.cos(angle), np.sin(angle)
        )

    def upper_bound(self, threshold) -> UpperBound:
        r"""Return the smallest exact 1-D bound over directions :math:`\theta \in [0, \pi/2)`.

        Every direction bounds :math:`C`; the best is searched on ``N_GRID`` angles,
        then refined between the grid neighbours of the best one.
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
                options={"xatol": 1e-9},
            )
            if res.fun < best_z:
                best_angle, best_z = float(res.x), float(res.fun)
        return UpperBound(z=best_z, exact=False, direction=(np.cos(best_angle), np.sin(best_angle)))


def outcome_of(problem: PolicyProblem) -> ScalarOutcome | ValueCostOutcome:
    """Return the outcome type of a problem."""
    if problem.n_outcomes == 1:
        return ScalarOutcome(problem.mu, problem.cov)
    return ValueCostOutcome(problem.mu, problem.cov)


def _checked(problem: PolicyProblem, psi: ArrayLike, threshold: ArrayLike):
    """Validate a plan (or stack) and thresholds broadcast against its leading axes."""
    psi = problem.check_plan(psi)
    return psi, problem.check_threshold(threshold, broadcast=True), outcome_of(problem)


def log_success_probability(
    problem: PolicyProblem, psi: ArrayLike, threshold: ArrayLike
) -> np.ndarray:
    r"""Log success probability :math:`\log C(\psi)` (NumPy).

    Parameters
    ----------
    problem : PolicyProblem
        Outcome statistics.
    psi : array_like
        Plan(s), shape ``(..., M, K)``; rows on the simplex.
    threshold : float or array_like
        ``r`` for a 1-D outcome; ``(r_v, r_c)`` (last axis of length 2) for 2-D.
        Broadcast against the leading axes of ``psi``.

    Returns
    -------
    numpy.ndarray
        :math:`\log C`, shape of the broadcast leading axes.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_robust_alloc.policy import PolicyProblem, log_success_probability
    >>> problem = PolicyProblem([[2.0, 1.0]], [[9.0, 1.0]])
    >>> psi = np.array([[0.0, 1.0]])  # Y ~ N(1, 1): P(Y > 0) = Phi(1)
    >>> round(float(np.exp(log_success_probability(problem, psi, 0.0))), 6)
    0.841345
    """
    psi, threshold, outcome = _checked(problem, psi, threshold)
    return outcome.log_probability(psi, threshold)


def log_failure_probability(
    problem: PolicyProblem, psi: ArrayLike, threshold: ArrayLike
) -> np.ndarray:
    r"""Log failure probability :math:`\log(1 - C(\psi))` (NumPy).

    Arguments as in :func:`log_success_probability`. Computed from the complementary
    tails, it stays relatively accurate where :math:`C` rounds to one.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_robust_alloc.policy import PolicyProblem, log_failure_probability
    >>> problem = PolicyProblem([[12.0, 1.0]], [[1.0, 1.0]])
    >>> psi = np.array([[1.0, 0.0]])  # Y ~ N(12, 1): C = 1 - Phi(-12) rounds to 1
    >>> round(float(log_failure_probability(problem, psi, 0.0)), 6)  # log Phi(-12)
    -75.410673
    """
    psi, threshold, outcome = _checked(problem, psi, threshold)
    return outcome.log_survival(psi, threshold)


def success_probability(problem: PolicyProblem, psi: ArrayLike, threshold: ArrayLike) -> np.ndarray:
    r"""Success probability :math:`C(\psi)`, arguments as in :func:`log_success_probability`.

    1-D: :math:`P(Y > r)`; 2-D: :math:`P(Y_v > r_v,\ Y_c \le r_c)`.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_robust_alloc.policy import PolicyProblem, success_probability
    >>> mu = [[[2.0, 1.0], [1.0, 1.5]]]  # one bucket, two policies, (value, cost)
    >>> cov = [[[[9.0, 3.0], [3.0, 4.0]], [[1.0, 0.5], [0.5, 1.0]]]]
    >>> psi = np.array([[1.0, 0.0]])
    >>> # P(Y_v > 0, Y_c <= 2), Y ~ N((2, 1), [[9, 3], [3, 4]]); scipy.stats: 0.465145
    >>> round(float(success_probability(PolicyProblem(mu, cov), psi, (0.0, 2.0))), 6)
    0.465145
    """
    return np.exp(log_success_probability(problem, psi, threshold))
