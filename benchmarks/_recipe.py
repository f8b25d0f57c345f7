"""The blog's recipe written with PyMC-Marketing alone: one ``BudgetOptimizer`` per step.

The other side of ``core_benchmark.py``: the recipe, and the floor (one view's
optimizer built and solved once), with the views written in ``pymc.dims``.
"""

from __future__ import annotations

import time

from _blog import (
    BOUNDS,
    CHANNELS,
    ESTIMATES,
    N_DRAWS,
    N_PERIODS,
    TOTAL_BUDGET,
    make_draws,
    plan_list,
)


def run_recipe(draws):
    """The blog's recipe: one ``BudgetOptimizer`` per step, default PyTensor mode.

    (a) each view's optimum and V*; (b) merge the views and stack their responses
    over ``view``; (c) the averaged plan; (d) the minimax-regret plan with V*
    baked in as a constant; (e) each plan's expected response under each view.

    Parameters
    ----------
    draws : dict
        From :func:`make_draws`.

    Returns
    -------
    dict
        Plans, V*, expected responses, solver reports and step times.
    """
    import numpy as np
    import pymc.dims as pmd
    import pytensor.xtensor as ptx
    from pymc_marketing.mmm import BudgetOptimizer, merge_models_and_idata

    mask = channel_mask()
    steps, plans, reports = {}, {}, {}

    def solve(name, optimizer):
        result = optimizer.allocate_budget(
            total_budget=TOTAL_BUDGET, budget_bounds=BOUNDS, return_if_fail=True
        )
        fit = result.scipy_result
        reports[name] = {
            "success": bool(fit.success),
            "message": str(fit.message),
            "nit": int(fit.nit),
        }
        plans[name] = result.budgets.astype(float)

    # (a) One optimizer per view: its optimum and V* (mean response there).
    t0 = time.perf_counter()
    models, trees, v_star = [], [], {}
    for name, spec in ESTIMATES.items():
        model, tree = recipe_view_model(name, spec), recipe_tree(draws[name])
        models.append(model)
        trees.append(tree)
        optimizer = BudgetOptimizer(
            model=model,
            idata=tree,
            num_periods=N_PERIODS,
            response_variable="total_contribution",
            budgets_to_optimize=mask,
        )
        solve(name, optimizer)
        response = optimizer.evaluate_response_distribution(plans[name], "total_contribution")
        v_star[name] = float(response.mean())
    steps["a_per_view_optima"] = time.perf_counter() - t0

    # (b) Merge, then stack the three responses over a new `view` dim.
    t0 = time.perf_counter()
    names = list(ESTIMATES)
    merged, merged_tree = merge_models_and_idata(
        models, trees, prefixes=names, merge_on="channel_data"
    )
    merged.add_coord("view", names)
    with merged:
        pmd.Deterministic(
            "view_response",
            ptx.concat(
                [merged[f"{n}_total_contribution"].expand_dims("view") for n in names],
                dim="view",
            ),
        )
    steps["b_merge"] = time.perf_counter() - t0

    def merged_optimizer(utility):
        return BudgetOptimizer(
            model=merged,
            idata=merged_tree,
            num_periods=N_PERIODS,
            response_variable="view_response",
            utility_function=utility,
            budgets_to_optimize=mask,
        )

    # (c) The averaged model: maximise the mean of the three responses.
    t0 = time.perf_counter()
    averaged = merged_optimizer(lambda samples, budgets: samples.mean("sample").mean("view"))
    solve("averaged", averaged)
    steps["c_averaged"] = time.perf_counter() - t0

    # (d) Minimax regret, V* baked into the utility as a constant.
    t0 = time.perf_counter()
    v_star_x = ptx.as_xtensor(np.array([v_star[n] for n in names]), dims=("view",))
    minimax = merged_optimizer(
        lambda samples, budgets: -(1 - samples.mean("sample") / v_star_x).max("view")
    )
    solve("minimax", minimax)
    steps["d_minimax"] = time.perf_counter() - t0

    # (e) Every plan's expected response under every view -> regret matrix.
    t0 = time.perf_counter()
    values = {}
    for plan_name, plan in plans.items():
        response = averaged.evaluate_response_distribution(plan, "view_response")
        values[plan_name] = dict(zip(names, response.mean("sample").values.tolist(), strict=True))
    steps["e_evaluations"] = time.perf_counter() - t0

    return {
        "plans": {n: plan_list(p) for n, p in plans.items()},
        "v_star": v_star,
        "values": values,
        "solves": reports,
        "steps": steps,
    }


def run_floor(mode):
    """Build one ``BudgetOptimizer`` on the first view alone and solve it once.

    Any workflow on ``BudgetOptimizer`` does at least this in a fresh process,
    so its time bounds from below what either side can reach there. The first
    graph a process rewrites and compiles also pays PyTensor's one-time set-up
    (rewrite databases, type caches), which is part of that floor.

    Parameters
    ----------
    mode : {"python", "default"}
        ``python``: NumPy kernels (no C, no Numba) after PyTensor's
        ``fast_compile`` rewrites, the quickest mode to build one optimizer and
        solve once (the package's :func:`~pymc_robust_alloc.python_mode` runs
        ``fast_run`` rewrites, which pay off over many evaluations but took 4 s
        on this optimizer's graph); ``default``: PyTensor's default mode, as the
        recipe.

    Returns
    -------
    dict
        The plan, solver report and step times.
    """
    import pytensor
    from pymc_marketing.mmm import BudgetOptimizer

    name = next(iter(ESTIMATES))
    model, tree = recipe_view_model(name, ESTIMATES[name]), recipe_tree(make_draws()[name])
    kwargs, flags = {}, {}
    if mode == "python":
        from pytensor.compile.mode import Mode
        from pytensor.graph.rewriting.db import RewriteDatabaseQuery
        from pytensor.link.vm import VMLinker

        rewrites = RewriteDatabaseQuery(include=["fast_compile", "local_second_to_alloc"])
        compile_mode = Mode(linker=VMLinker(use_cloop=False, c_thunks=False), optimizer=rewrites)
        kwargs = {"compile_kwargs": {"mode": compile_mode}}
        flags = {"mode": compile_mode, "cxx": ""}
    steps = {}
    t0 = time.perf_counter()
    with pytensor.config.change_flags(**flags):
        optimizer = BudgetOptimizer(
            model=model,
            idata=tree,
            num_periods=N_PERIODS,
            response_variable="total_contribution",
            budgets_to_optimize=channel_mask(),
            **kwargs,
        )
    steps["construct"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = optimizer.allocate_budget(
        total_budget=TOTAL_BUDGET, budget_bounds=BOUNDS, return_if_fail=True
    )
    steps["solve"] = time.perf_counter() - t1
    fit = result.scipy_result
    return {
        "plans": {name: plan_list(result.budgets)},
        "solves": {name: {"success": bool(fit.success), "nit": int(fit.nit)}},
        "steps": steps,
    }


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
