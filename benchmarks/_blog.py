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


def recipe_view_model(name, spec):
    """One view as a ``pymc.dims`` Michaelis-Menten model over the decision window.

    Parameters
    ----------
    name : str
        The view's name (used only for the model's name).
    spec : dict
        Estimates ``alpha``, ``lam`` (per channel) and the LogNormal ``sigma``.

    Returns
    -------
    pymc.Model
        With ``channel_data`` (date, channel), ``channel_contribution`` and the
        scalar ``total_contribution``.
    """
    import numpy as np
    import pymc as pm
    import pymc.dims as pmd

    coords = {"date": np.arange(N_PERIODS), "channel": list(CHANNELS)}
    with pm.Model(coords=coords) as model:
        spend = pmd.Data(
            "channel_data",
            np.zeros((N_PERIODS, len(CHANNELS))),
            dims=("date", "channel"),
        )
        params = {
            p: pmd.LogNormal(
                p,
                mu=pmd.as_xtensor(np.log(spec[p]), dims=("channel",)),
                sigma=spec["sigma"],
                dims=("channel",),
            )
            for p in ("alpha", "lam")
        }
        contribution = params["alpha"] * spend / (params["lam"] + spend)
        contribution = pmd.Deterministic(
            "channel_contribution", contribution.transpose("date", "channel")
        )
        pmd.Deterministic("total_contribution", contribution.sum())
    return model


def recipe_tree(draws):
    """A posterior ``DataTree`` for one view, keeping ``constant_data`` (notes, 3).

    Parameters
    ----------
    draws : dict
        ``{"alpha": array (draws, channels), "lam": ...}``.

    Returns
    -------
    xarray.DataTree
    """
    import numpy as np
    import xarray as xr

    coords = {"chain": [0], "draw": np.arange(N_DRAWS), "channel": list(CHANNELS)}
    posterior = xr.Dataset(
        {p: (("chain", "draw", "channel"), v[None]) for p, v in draws.items()},
        coords=coords,
    )
    constant = xr.Dataset(
        {"channel_data": (("date", "channel"), np.zeros((N_PERIODS, len(CHANNELS))))},
        coords={"date": np.arange(N_PERIODS), "channel": list(CHANNELS)},
    )
    return xr.DataTree.from_dict({"posterior": posterior, "constant_data": constant})


def channel_mask():
    """Every channel optimised: the ``budgets_to_optimize`` of each optimizer."""
    import numpy as np
    import xarray as xr

    return xr.DataArray(
        np.ones(len(CHANNELS), dtype=bool),
        dims=("channel",),
        coords={"channel": list(CHANNELS)},
    )


def plan_list(plan):
    """A labelled per-channel plan as a list in the order of ``CHANNELS``."""
    return [float(plan.sel(channel=c)) for c in CHANNELS]
