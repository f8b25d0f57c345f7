"""Independent NumPy/SciPy reference computations for the solver tests.

Nothing here imports the package: every quantity is recomputed from the raw
parameter draws (Michaelis-Menten ``alpha x / (lam + x)`` or Hill
``beta x^s / (kappa^s + x^s)`` per channel), with SciPy doing the optimisation.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr
from scipy.optimize import brentq, linprog, minimize

#: HiGHS tolerances tighter than its defaults (1e-7), for bounds compared to 1e-9.
HIGHS = {"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10}

# --------------------------------------------------------------------------------------
# Draws and curves


def draw_arrays(posterior: xr.Dataset, channels: Sequence[str]) -> dict[str, np.ndarray]:
    """Each parameter's draws as an array ``(draw, channel)`` in the order of ``channels``."""
    return {
        name: np.asarray(
            posterior[name].sel(channel=list(channels)).transpose("chain", "draw", "channel")
        ).reshape(-1, len(channels))
        for name in posterior.data_vars
    }


def curve(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Per-period response per draw and channel: shape ``(..., draw, channel)``.

    ``x`` has shape ``(..., channel)``; ``params`` arrays have shape ``(draw, channel)``.
    """
    x = np.asarray(x, float)[..., None, :]
    if "lam" in params:  # Michaelis-Menten
        return params["alpha"] * x / (params["lam"] + x)
    s, kappa, beta = params["slope"], params["kappa"], params["beta"]
    with np.errstate(divide="ignore"):
        # x^s / (kappa^s + x^s) = 1 / (1 + (kappa / x)^s), 0 at x = 0.
        ratio = np.where(x > 0, kappa / np.where(x > 0, x, 1.0), np.inf)
    return beta / (1.0 + ratio**s)


def curve_gradient(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """d curve / d x per draw and channel, shape ``(..., draw, channel)``."""
    x = np.asarray(x, float)[..., None, :]
    if "lam" in params:
        return params["alpha"] * params["lam"] / (params["lam"] + x) ** 2
    s, kappa, beta = params["slope"], params["kappa"], params["beta"]
    xs, ks = x**s, kappa**s
    return beta * s * ks * x ** (s - 1) / (ks + xs) ** 2


class Views:
    """The views' draws as arrays, with value, gradient and quantile functions.

    Parameters
    ----------
    params : sequence of dict
        Per view, parameter -> ``(draw, channel)`` array.
    periods : int
        Number of periods: responses are ``periods`` times a period's.
    """

    def __init__(self, params: Sequence[dict[str, np.ndarray]], periods: int) -> None:
        self.params = list(params)
        self.periods = periods

    @classmethod
    def from_views(cls, views, channels: Sequence[str], periods: int) -> Views:
        return cls([draw_arrays(v.posterior, channels) for v in views], periods)

    def responses(self, plan: np.ndarray) -> np.ndarray:
        """Response per draw over the horizon: shape ``(view, ..., draw)``."""
        return np.array([self.periods * curve(p, plan).sum(axis=-1) for p in self.params])

    def values(self, plan: np.ndarray) -> np.ndarray:
        """Mean response per view, shape ``(view, ...)``."""
        return self.responses(plan).mean(axis=-1)

    def gradients(self, plan: np.ndarray) -> np.ndarray:
        """Gradient of each view's value, shape ``(view, channel)`` (one plan)."""
        return np.array([self.periods * curve_gradient(p, plan).mean(axis=-2) for p in self.params])

    def quantile_values(self, plan: np.ndarray, q: float) -> np.ndarray:
        """``np.quantile`` (linear) of each view's draws, shape ``(view, ...)``."""
        return np.quantile(self.responses(plan), q, axis=-1)


# --------------------------------------------------------------------------------------
# The feasible set {a : sum a = B, l <= a <= u}


def vertices(lower: np.ndarray, upper: np.ndarray, total: float) -> np.ndarray:
    """Every vertex (by enumeration): all cells at a bound except at most one."""
    n = lower.size
    tol = 1e-12 * max(total, np.abs(upper).max(), 1e-300)
    found = []
    for at_upper in itertools.product((False, True), repeat=n):
        base = np.where(at_upper, upper, lower).astype(float)
        for i in range(n):
            y = base.copy()
            y[i] = total - (base.sum() - base[i])
            if lower[i] - tol <= y[i] <= upper[i] + tol:
                found.append(np.clip(y, lower, upper))
    found = np.array(found)
    _, keep = np.unique(np.round(found / tol), axis=0, return_index=True)
    return found[np.sort(keep)]


def _unit(lower: np.ndarray, total: float) -> float:
    """Scale of the LP variables (spend of an even split), so HiGHS sees order-one numbers."""
    return total / lower.size


def lp_min(cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float) -> float:
    """min cost @ y over the feasible set, by HiGHS (in scaled variables)."""
    s = _unit(lower, total)
    c = np.abs(cost).max() or 1.0
    lp = linprog(
        cost * s / c,
        A_eq=np.ones((1, cost.size)),
        b_eq=[total / s],
        bounds=list(zip(lower / s, upper / s, strict=True)),
        method="highs",
        options=HIGHS,
    )
    assert lp.status == 0, lp.message
    return float(lp.fun) * c


def linear_minimax(
    offsets: np.ndarray, slopes: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float
) -> float:
    r""":math:`\min_y \max_m c_m + g_m y` over the feasible set, as an LP in (y, t) (HiGHS)."""
    m, n = slopes.shape
    s = _unit(lower, total)
    lp = linprog(
        np.append(np.zeros(n), 1.0),
        A_ub=np.hstack([slopes * s, -np.ones((m, 1))]),
        b_ub=-offsets,
        A_eq=np.append(np.ones(n), 0.0)[None, :],
        b_eq=[total / s],
        bounds=[*zip(lower / s, upper / s, strict=True), (None, None)],
        method="highs",
        options=HIGHS,
    )
    assert lp.status == 0, lp.message
    return float(lp.fun)


def linear_minimax_weights(
    offsets: np.ndarray, slopes: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float
) -> tuple[float, np.ndarray]:
    """:func:`linear_minimax` and the LP's multipliers of the ``m`` rows (on the simplex)."""
    m, n = slopes.shape
    s = _unit(lower, total)
    lp = linprog(
        np.append(np.zeros(n), 1.0),
        A_ub=np.hstack([slopes * s, -np.ones((m, 1))]),
        b_ub=-offsets,
        A_eq=np.append(np.ones(n), 0.0)[None, :],
        b_eq=[total / s],
        bounds=[*zip(lower / s, upper / s, strict=True), (None, None)],
        method="highs",
        options=HIGHS,
    )
    assert lp.status == 0, lp.message
    weights = np.clip(-lp.ineqlin.marginals, 0.0, None)
    return float(lp.fun), weights / weights.sum()


def local_weights(
    a: np.ndarray,
    phi: np.ndarray,
    jacobian: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    radius: float = 1e-4,
) -> np.ndarray:
    """Multipliers of the minimax problem linearised at ``a`` within a small trust region.

    Within ``radius * total / n`` of ``a`` the linearisation is accurate, so only the
    views whose criterion is (near) the max get weight: the KKT multipliers at an
    optimum, which make a Lagrangian bound tight. Any simplex weights give a valid bound.
    """
    r = radius * _unit(lower, total)
    near = (np.maximum(lower, a - r), np.minimum(upper, a + r))
    return linear_minimax_weights(phi - jacobian @ a, jacobian, *near, total)[1]


def separable_max_bound(
    views: Views, kappa: np.ndarray, lower: np.ndarray, upper: np.ndarray, total: float
) -> float:
    r"""Upper bound of :math:`\max_{a} \sum_m \kappa_m V_m(a)`, :math:`\kappa \ge 0`, over P.

    For concave curves, separable over channels (:math:`F = \sum_c F_c(a_c)`):
    by weak duality, for any multiplier :math:`\mu` of the budget,
    :math:`\max_P F \le \mu B + \sum_c \max_{l_c \le x \le u_c} (F_c(x) - \mu x)`,
    and each cell's max is at most :math:`F_c(x_c) - \mu x_c + \max(d_c (l_c - x_c),
    d_c (u_c - x_c))` for any :math:`x_c`, :math:`d_c = F_c'(x_c) - \mu` (the
    tangent of a concave function lies above it). :math:`x_c` solves
    :math:`F_c'(x) = \mu` by bisection, and :math:`\mu` makes the
    :math:`x_c` spend the budget (bisection again), so the bound is tight.
    """

    def derivative(x):
        return kappa @ views.gradients(x)

    def argmax(mu):
        lo, hi = lower.astype(float).copy(), upper.astype(float).copy()
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            rising = derivative(mid) > mu
            lo, hi = np.where(rising, mid, lo), np.where(rising, hi, mid)
        return 0.5 * (lo + hi)

    mu_lo, mu_hi = derivative(upper).min(), derivative(lower).max()
    excess = lambda mu: argmax(mu).sum() - total  # noqa: E731  (decreasing in mu)
    if excess(mu_lo) <= 0:
        mu = mu_lo
    elif excess(mu_hi) >= 0:
        mu = mu_hi
    else:
        mu = brentq(excess, mu_lo, mu_hi, xtol=1e-300)
    x = argmax(mu)
    d = derivative(x) - mu
    value = float(kappa @ views.values(x))
    tangent = np.maximum(d * (lower - x), d * (upper - x))
    return value - mu * x.sum() + float(tangent.sum()) + mu * total


def random_feasible(
    rng: np.random.Generator, lower: np.ndarray, upper: np.ndarray, total: float, size: int
) -> np.ndarray:
    """Random feasible plans: random convex combinations of vertices (so inside the polytope).

    Up to 8 cells the vertices are enumerated; above, they are LP minimisers of random costs.
    """
    if lower.size <= 8:
        vs = vertices(lower, upper, total)
    else:
        vs = np.array(
            [greedy_vertex(rng.normal(size=lower.size), lower, upper, total) for _ in range(24)]
        )
    plans = rng.dirichlet(np.full(len(vs), 0.5), size=size) @ vs
    # Rounding: put the budget back exactly on the cell with the most room.
    for plan in plans:
        i = int(np.argmax(np.minimum(plan - lower, upper - plan)))
        plan[i] += total - plan.sum()
    return np.clip(plans, lower, upper)


def greedy_vertex(cost, lower, upper, total) -> np.ndarray:
    """A cost-minimising vertex, by linprog (used only to make random feasible points)."""
    s = _unit(lower, total)
    lp = linprog(
        cost,
        A_eq=np.ones((1, cost.size)),
        b_eq=[total / s],
        bounds=list(zip(lower / s, upper / s, strict=True)),
        method="highs",
        options=HIGHS,
    )
    return np.clip(lp.x * s, lower, upper)


# --------------------------------------------------------------------------------------
# Optimisation by SciPy, written here


def slsqp_minimax(
    phi: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    starts: Sequence[np.ndarray],
) -> tuple[np.ndarray, float]:
    r"""Best of SLSQP epigraph solves of :math:`\min_y \max_m \phi_m(y)` from ``starts``.

    ``phi(y)`` returns values ``(m,)`` and Jacobian ``(m, n)``. Variables are
    scaled by ``total / n``. Returns the best plan (clipped) and its max.
    """
    n = lower.size
    s = total / n
    m = phi(starts[0])[0].size
    best_plan, best = None, np.inf
    for start in starts:
        v0 = np.append(start / s, phi(start)[0].max())
        constraints = [
            {
                "type": "eq",
                "fun": lambda v: v[:n].sum() - total / s,
                "jac": lambda v: np.append(np.ones(n), 0.0),
            },
            {
                "type": "ineq",
                "fun": lambda v: v[-1] - phi(v[:n] * s)[0],
                "jac": lambda v: np.hstack([-phi(v[:n] * s)[1] * s, np.ones((m, 1))]),
            },
        ]
        fit = minimize(
            lambda v: (v[-1], np.append(np.zeros(n), 1.0)),
            v0,
            jac=True,
            method="SLSQP",
            bounds=[*zip(lower / s, upper / s, strict=True), (None, None)],
            constraints=constraints,
            options={"ftol": 1e-14, "maxiter": 1000},
        )
        plan = np.clip(fit.x[:n] * s, lower, upper)
        worst = float(phi(plan)[0].max())
        if worst < best:
            best_plan, best = plan, worst
    return best_plan, best


def slsqp_maximise(
    f: Callable[[np.ndarray], tuple[float, np.ndarray]],
    lower: np.ndarray,
    upper: np.ndarray,
    total: float,
    starts: Sequence[np.ndarray],
) -> tuple[np.ndarray, float]:
    """Best of SLSQP maximisations of ``f`` (value, gradient) over the feasible set."""
    n = lower.size
    s = total / n
    best_plan, best = None, -np.inf
    for start in starts:
        level = abs(f(start)[0]) or 1.0

        def negative(z, level=level):
            value, gradient = f(z * s)
            return -value / level, -gradient * s / level

        fit = minimize(
            negative,
            start / s,
            jac=True,
            method="SLSQP",
            bounds=list(zip(lower / s, upper / s, strict=True)),
            constraints=[
                {
                    "type": "eq",
                    "fun": lambda z: z.sum() - total / s,
                    "jac": lambda z: np.ones(n),
                }
            ],
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        plan = np.clip(fit.x * s, lower, upper)
        value = float(f(plan)[0])
        if value > best:
            best_plan, best = plan, value
    return best_plan, best


# --------------------------------------------------------------------------------------
# Lattices over the feasible set (2 or 3 channels)


def lattice(lower: np.ndarray, upper: np.ndarray, total: float, steps: int) -> np.ndarray:
    """Feasible plans on a lattice of spacing ``total / steps`` over the first n-1 cells.

    The last cell takes the rest of the budget; plans outside its bounds are dropped.
    Every bound is added to the axes, so the vertices are on the lattice.
    """
    n = lower.size
    axes = []
    for i in range(n - 1):
        grid = np.arange(lower[i], upper[i] + 1e-12, total / steps)
        axes.append(np.unique(np.concatenate([grid, [lower[i], upper[i]]])))
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, n - 1)
    last = total - mesh.sum(axis=1)
    ok = (last >= lower[-1] - 1e-12 * total) & (last <= upper[-1] + 1e-12 * total)
    plans = np.column_stack([mesh[ok], np.clip(last[ok], lower[-1], upper[-1])])
    # Add the vertices too (a coarse lattice can miss the budget line's ends).
    return np.vstack([plans, vertices(lower, upper, total)])


def in_batches(fn: Callable[[np.ndarray], np.ndarray], plans: np.ndarray, size: int = 4000):
    """Apply ``fn`` (plans ``(k, n)`` -> ``(m, k)``) in batches, concatenated on the last axis."""
    return np.concatenate([fn(plans[i : i + size]) for i in range(0, len(plans), size)], axis=-1)
