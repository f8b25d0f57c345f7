"""The blog's decision, shared by the benchmarks: its problem, its draws, exact NumPy
values and reference plans, and its views written with ``pymc.dims`` for PyMC-Marketing alone.

Three Michaelis-Menten views of three channels, 500 draws each, 8 periods, a budget of 100
per period, bounds (0, 60) per channel; the draws are those of ``demo_views()``.
"""

from __future__ import annotations

CHANNELS = ("search", "social", "display")
#: The blog's three views: Michaelis-Menten estimates and LogNormal scale.
ESTIMATES = {
    "regression": {"alpha": (2.0, 1.2, 0.7), "lam": (5.0, 3.0, 4.0), "sigma": 0.25},
    "experiment": {"alpha": (0.8, 2.5, 1.3), "lam": (6.0, 3.0, 3.5), "sigma": 0.08},
    "attribution": {"alpha": (8.0, 5.0, 7.0), "lam": (2.5, 7.0, 3.0), "sigma": 0.6},
}
SEED = 42
N_DRAWS = 500
N_PERIODS = 8
TOTAL_BUDGET = 100.0
BOUNDS = dict.fromkeys(CHANNELS, (0.0, 60.0))
PLANS = (*ESTIMATES, "averaged", "minimax")


def make_draws():
    """The views' parameter draws, generated as ``demo_views()`` does.

    View ``i`` uses seed ``SEED + i``; each parameter is
    ``LogNormal(log(estimate), sigma)`` per channel, alpha drawn before lam.

    Returns
    -------
    dict
        ``{view: {"alpha": array (draws, channels), "lam": array (draws, channels)}}``.
    """
    import numpy as np

    draws = {}
    for i, (name, spec) in enumerate(ESTIMATES.items()):
        rng = np.random.default_rng(SEED + i)
        draws[name] = {
            p: rng.lognormal(np.log(spec[p]), spec["sigma"], size=(N_DRAWS, len(CHANNELS)))
            for p in ("alpha", "lam")
        }
    return draws


def exact_values(draws, plan):
    """Each view's expected response to a per-period plan, in NumPy.

    Parameters
    ----------
    draws : dict
        From :func:`make_draws`.
    plan : sequence of float
        Spend per period, in the order of ``CHANNELS``.

    Returns
    -------
    dict
        ``{view: N_PERIODS * mean_draws(sum_c alpha_c x_c / (lam_c + x_c))}``.
    """
    import numpy as np

    x = np.asarray(plan, dtype=float)
    return {
        name: float(N_PERIODS * (d["alpha"] * x / (d["lam"] + x)).sum(axis=1).mean())
        for name, d in draws.items()
    }


def exact_gradients(draws, plan):
    """Gradient of :func:`exact_values` with respect to the plan, per view."""
    import numpy as np

    x = np.asarray(plan, dtype=float)
    return {
        name: N_PERIODS * (d["alpha"] * d["lam"] / (d["lam"] + x) ** 2).mean(axis=0)
        for name, d in draws.items()
    }


def reference_plans(draws):
    """Independent reference plans: SciPy SLSQP on the exact NumPy values.

    Per-view optima and the averaged plan maximise smooth objectives; the
    minimax plan uses the epigraph form ``min t s.t. R(a, m) <= t`` (smooth
    constraints, no max inside the objective), with V* the reference optima.

    Returns
    -------
    dict
        ``{plan: [spend per channel]}`` for every name in ``PLANS``.
    """
    import numpy as np
    from scipy.optimize import minimize

    n = len(CHANNELS)
    views = list(ESTIMATES)
    bounds = [BOUNDS[c] for c in CHANNELS]
    budget = {"type": "eq", "fun": lambda x: x[:n].sum() - TOTAL_BUDGET}
    start = np.full(n, TOTAL_BUDGET / n)
    options = {"ftol": 1e-14, "maxiter": 1000}

    def maximise(weights):
        def f(x):
            vals = exact_values(draws, x)
            grads = exact_gradients(draws, x)
            return (
                -sum(w * vals[v] for w, v in zip(weights, views, strict=True)),
                -sum(w * grads[v] for w, v in zip(weights, views, strict=True)),
            )

        fit = minimize(
            f,
            start,
            jac=True,
            bounds=bounds,
            constraints=[budget],
            method="SLSQP",
            options=options,
        )
        return fit.x

    plans = {v: maximise(np.eye(len(views))[i]) for i, v in enumerate(views)}
    plans["averaged"] = maximise(np.ones(len(views)) / len(views))
    v_star = {v: exact_values(draws, plans[v])[v] for v in views}

    def regret_constraint(m):
        def g(z):
            return z[n] - (1 - exact_values(draws, z[:n])[m] / v_star[m])

        def dg(z):
            return np.append(exact_gradients(draws, z[:n])[m] / v_star[m], 1.0)

        return {"type": "ineq", "fun": g, "jac": dg}

    z0 = np.append(plans["averaged"], 1.0)
    fit = minimize(
        lambda z: (z[n], np.append(np.zeros(n), 1.0)),
        z0,
        jac=True,
        bounds=[*bounds, (None, None)],
        constraints=[budget, *(regret_constraint(m) for m in views)],
        method="SLSQP",
        options=options,
    )
    plans["minimax"] = fit.x[:n]
    return {k: [float(x) for x in v] for k, v in plans.items()}


def plan_list(plan):
    """A labelled per-channel plan as a list in the order of ``CHANNELS``."""
    return [float(plan.sel(channel=c)) for c in CHANNELS]


def compare_plans(recipe, package, draws, tolerance):
    """Plan agreement, and exact regrets of both sides' plans and the reference's.

    Every plan is scored with :func:`exact_values`; V* per view is the best value
    over all plans of all three sides (recipe, package, :func:`reference_plans`),
    so every plan is judged on the same scale.

    Returns
    -------
    dict
        ``max_abs_diff`` (recipe vs package) per plan, each side's distance to
        the reference, and per side the exact regret matrix and max regrets.
    """
    sides = {
        "recipe": recipe["plans"],
        "package": package["plans"],
        "reference": reference_plans(draws),
    }

    def distance(a, b):
        return max(abs(x - y) for x, y in zip(a, b, strict=True))

    diff = {n: distance(sides["recipe"][n], sides["package"][n]) for n in PLANS}
    to_reference = {
        side: {n: distance(sides[side][n], sides["reference"][n]) for n in PLANS}
        for side in ("recipe", "package")
    }
    table = {
        side: {n: exact_values(draws, plans[n]) for n in PLANS} for side, plans in sides.items()
    }
    v_star = {v: max(rows[n][v] for rows in table.values() for n in PLANS) for v in ESTIMATES}
    regret = {
        side: {n: {v: 1 - vals[v] / v_star[v] for v in ESTIMATES} for n, vals in rows.items()}
        for side, rows in table.items()
    }
    max_regret = {
        side: {n: max(r.values()) for n, r in rows.items()} for side, rows in regret.items()
    }
    return {
        "tolerance": tolerance,
        "max_abs_diff": diff,
        "all_within_tolerance": all(d <= tolerance for d in diff.values()),
        "max_abs_diff_to_reference": to_reference,
        "reference_plans": sides["reference"],
        "exact_v_star": v_star,
        "exact_values": table,
        "exact_regret": regret,
        "exact_max_regret": max_regret,
    }
