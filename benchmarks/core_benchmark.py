"""Speed benchmark: the blog's recipe on ``BudgetOptimizer`` vs ``RobustAllocator``.

Run: .venv/bin/python benchmarks/core_benchmark.py

Both sides solve the demo decision (three Michaelis-Menten views of three
channels, 500 draws each, 8 periods, a budget of 100 per period, bounds (0, 60)
per channel): every view's optimum, the averaged plan, the minimax-regret plan and
the regret matrix. Each measurement runs in a fresh Python subprocess:

- COLD: a new, empty PyTensor compiledir (``PYTENSOR_FLAGS=base_compiledir=...``,
  which also holds PyTensor's Numba cache) and an empty ``NUMBA_CACHE_DIR``;
- WARM: a subprocess reusing the compiledir that the cold run populated
  (repeated ``WARM_REPEATS`` times, median reported).

Times run from after the imports to the end of the decision; import time is
reported separately. Plans of both sides are compared, and every plan is
scored with an exact NumPy evaluation of the same draws, independent of both.
Writes ``benchmarks/results/core_benchmark.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import _harness as h
from _blog import (
    BOUNDS,
    CHANNELS,
    ESTIMATES,
    N_DRAWS,
    N_PERIODS,
    PLANS,
    SEED,
    TOTAL_BUDGET,
    channel_mask,
    exact_values,
    make_draws,
    plan_list,
    recipe_tree,
    recipe_view_model,
    reference_plans,
)

ROOT = h.ROOT
OUT = ROOT / "benchmarks" / "results" / "core_benchmark.json"

WARM_REPEATS = 3
TOLERANCE = 0.1  # budget units per period
TARGET_WARM = 1 / 10
TARGET_COLD = 1 / 4
WORKER_TIMEOUT = 300  # seconds per subprocess
#: What each side imports before its clock starts.
IMPORTS = {
    "recipe": (
        "numpy",
        "xarray",
        "pymc",
        "pymc.dims",
        "pytensor.xtensor",
        "pymc_marketing.mmm",
    ),
    "package": ("pymc_robust_alloc", "pymc_robust_alloc.demo"),
    "floor-python": ("numpy", "xarray", "pymc", "pymc.dims", "pymc_robust_alloc"),
    "floor-default": ("numpy", "xarray", "pymc", "pymc.dims", "pymc_marketing.mmm"),
}
#: The floor: one view's optimizer built and solved once, in either mode.
FLOORS = ("floor-python", "floor-default")


# --------------------------------------------------------------------------
# Worker: the blog's recipe, written with pymc-marketing only
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Worker: this package
# --------------------------------------------------------------------------


def run_package():
    """``RobustAllocator(demo_views(), 8).allocate(...)``, then a second allocate.

    Returns
    -------
    dict
        Plans, values, V*, solver reports and step times (``decision`` =
        construction + first allocate; ``resolve`` = the second allocate).
    """
    from pymc_robust_alloc import RobustAllocator
    from pymc_robust_alloc.demo import demo_views

    steps = {}
    t0 = time.perf_counter()
    allocator = RobustAllocator(demo_views(draws=N_DRAWS, random_seed=SEED), N_PERIODS)
    steps["construct"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    result = allocator.allocate(TOTAL_BUDGET, BOUNDS)
    steps["allocate"] = time.perf_counter() - t1
    steps["decision"] = time.perf_counter() - t0
    t2 = time.perf_counter()
    again = allocator.allocate(TOTAL_BUDGET, BOUNDS)
    steps["resolve"] = time.perf_counter() - t2

    def plans_of(res):
        return {n: plan_list(res.plan(n)) for n in PLANS}

    return {
        "plans": plans_of(result),
        "resolve_plans": plans_of(again),
        "v_star": {str(k): float(v) for k, v in result.v_star.to_series().items()},
        "values": {
            n: {str(k): float(v) for k, v in result.value.sel(plan=n).to_series().items()}
            for n in PLANS
        },
        "solves": [vars(r) if hasattr(r, "__dict__") else str(r) for r in result.solves],
        "n_solves": len(result.solves),
        "steps": steps,
    }


# --------------------------------------------------------------------------
# Worker: the floor of any workflow on BudgetOptimizer
# --------------------------------------------------------------------------


def run_floor(mode):
    """Build one ``BudgetOptimizer`` on the first view alone and solve it once.

    Any workflow on ``BudgetOptimizer`` does at least this in a fresh process,
    so its time bounds from below what either side can reach there. The first
    graph a process rewrites and compiles also pays PyTensor's one-time set-up
    (rewrite databases, type caches), which is part of that floor.

    Parameters
    ----------
    mode : {"python", "default"}
        ``python``: the package's :func:`~pymc_robust_alloc.python_mode` (no C,
        no Numba); ``default``: PyTensor's default mode, as the recipe.

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
        from pymc_robust_alloc import python_mode

        compile_mode = python_mode()
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


def worker(kind, out):
    """Run one side in this process and write its JSON report to ``out``."""
    t0 = time.perf_counter()
    for module in IMPORTS[kind]:
        importlib.import_module(module)
    import_s = time.perf_counter() - t0

    t1 = time.perf_counter()
    if kind == "recipe":
        report = run_recipe(make_draws())
    elif kind == "package":
        report = run_package()
    else:
        report = run_floor(kind.removeprefix("floor-"))
    report["seconds"] = time.perf_counter() - t1
    report["import_seconds"] = import_s
    Path(out).write_text(json.dumps(report))


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def spawn(kind, compiledir):
    """Run a worker in a fresh subprocess on the given PyTensor compiledir.

    Returns
    -------
    dict
        The worker's report, plus ``process_seconds`` (interpreter start to exit).
    """
    env = h.worker_env(Path(compiledir), blas_threads=0) | {"PYTHONWARNINGS": "ignore"}
    out = Path(compiledir) / f"{kind}.json"
    t0 = time.perf_counter()
    report = h.run_worker(__file__, [kind], env, out, WORKER_TIMEOUT)
    if "error" in report:
        raise RuntimeError(f"{kind} worker failed:\n{report['error']}")
    report["process_seconds"] = time.perf_counter() - t0
    return report


def measure(kind, root):
    """One cold run on an empty compiledir, then ``WARM_REPEATS`` warm runs on it.

    Returns
    -------
    dict
        ``{"cold": report, "warm": [reports]}``.
    """
    compiledir = tempfile.mkdtemp(prefix=f"{kind}_", dir=root)
    print(f"  {kind}: cold ...", flush=True)
    cold = spawn(kind, compiledir)
    print(
        f"    {cold['seconds']:.2f} s (+{cold['import_seconds']:.2f} s imports)",
        flush=True,
    )
    warm = []
    for i in range(WARM_REPEATS):
        print(f"  {kind}: warm {i + 1}/{WARM_REPEATS} ...", flush=True)
        warm.append(spawn(kind, compiledir))
        print(f"    {warm[-1]['seconds']:.2f} s", flush=True)
    return {"compiledir": compiledir, "cold": cold, "warm": warm}


def median(reports, key, step=None):
    """Median of a timing over the warm reports."""
    if step is None:
        return statistics.median(r[key] for r in reports)
    return statistics.median(r["steps"][step] for r in reports)


def compare_plans(recipe, package, draws):
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
        "tolerance": TOLERANCE,
        "max_abs_diff": diff,
        "all_within_tolerance": all(d <= TOLERANCE for d in diff.values()),
        "max_abs_diff_to_reference": to_reference,
        "reference_plans": sides["reference"],
        "exact_v_star": v_star,
        "exact_values": table,
        "exact_regret": regret,
        "exact_max_regret": max_regret,
    }


def summarise(runs, draws):
    """Timing table, ratios, targets and plan agreement from the measurements."""
    rec, pkg = runs["recipe"], runs["package"]
    times = {
        "recipe": {
            "cold": rec["cold"]["seconds"],
            "warm": median(rec["warm"], "seconds"),
            "import_cold": rec["cold"]["import_seconds"],
            "import_warm": median(rec["warm"], "import_seconds"),
        },
        "package": {
            "cold": pkg["cold"]["seconds"],
            "warm": median(pkg["warm"], "seconds"),
            "import_cold": pkg["cold"]["import_seconds"],
            "import_warm": median(pkg["warm"], "import_seconds"),
            "decision_cold": pkg["cold"]["steps"]["decision"],
            "decision_warm": median(pkg["warm"], None, "decision"),
            "construct_warm": median(pkg["warm"], None, "construct"),
            "allocate_warm": median(pkg["warm"], None, "allocate"),
            "resolve_cold": pkg["cold"]["steps"]["resolve"],
            "resolve_warm": median(pkg["warm"], None, "resolve"),
        },
        "recipe_steps_cold": rec["cold"]["steps"],
        "recipe_steps_warm": {s: median(rec["warm"], None, s) for s in rec["cold"]["steps"]},
        "floors": {
            kind: {
                "cold": runs[kind]["cold"]["seconds"],
                "warm": median(runs[kind]["warm"], "seconds"),
                "construct_warm": median(runs[kind]["warm"], None, "construct"),
                "solve_warm": median(runs[kind]["warm"], None, "solve"),
            }
            for kind in FLOORS
        },
    }
    r, p = times["recipe"], times["package"]
    ratios = {
        "decision_warm": p["decision_warm"] / r["warm"],
        "decision_cold": p["decision_cold"] / r["cold"],
        "resolve_warm": p["resolve_warm"] / r["warm"],
        "resolve_cold": p["resolve_cold"] / r["cold"],
        "with_imports_warm": (p["decision_warm"] + p["import_warm"])
        / (r["warm"] + r["import_warm"]),
        "with_imports_cold": (p["decision_cold"] + p["import_cold"])
        / (r["cold"] + r["import_cold"]),
        # The least any BudgetOptimizer workflow can reach in a fresh process.
        "floor_warm": min(f["warm"] for f in times["floors"].values()) / r["warm"],
        "floor_cold": min(f["cold"] for f in times["floors"].values()) / r["cold"],
    }
    targets = {
        "warm": {"target": TARGET_WARM, "met": ratios["decision_warm"] <= TARGET_WARM},
        "cold": {"target": TARGET_COLD, "met": ratios["decision_cold"] <= TARGET_COLD},
    }
    agreement = compare_plans(rec["warm"][0], pkg["warm"][0], draws)
    resolve_diff = max(
        abs(a - b)
        for n in PLANS
        for a, b in zip(pkg["warm"][0]["plans"][n], pkg["warm"][0]["resolve_plans"][n], strict=True)
    )
    agreement["package_resolve_max_abs_diff"] = resolve_diff
    cold_vs_warm = max(
        abs(a - b)
        for side in ("recipe", "package")
        for n in PLANS
        for a, b in zip(
            runs[side]["cold"]["plans"][n],
            runs[side]["warm"][0]["plans"][n],
            strict=True,
        )
    )
    agreement["cold_vs_warm_max_abs_diff"] = cold_vs_warm
    return {
        "times": times,
        "ratios": ratios,
        "targets": targets,
        "agreement": agreement,
    }


def print_summary(summary, runs):
    """Print the timing table, ratios and plan agreement."""
    t, ratio = summary["times"], summary["ratios"]
    r, p = t["recipe"], t["package"]
    print("\nTimes in seconds (after imports; warm = median of", WARM_REPEATS, "runs)")
    print(f"{'':58s}{'cold':>9s}{'warm':>9s}")
    rows = [
        ("recipe: BudgetOptimizer x5 + evaluations", r["cold"], r["warm"]),
        ("package: RobustAllocator + allocate", p["decision_cold"], p["decision_warm"]),
        ("package: second allocate (re-solve)", p["resolve_cold"], p["resolve_warm"]),
        *(
            (
                f"floor: one view's optimizer, one solve ({kind.removeprefix('floor-')} mode)",
                f["cold"],
                f["warm"],
            )
            for kind, f in t["floors"].items()
        ),
        ("imports, recipe", r["import_cold"], r["import_warm"]),
        ("imports, package", p["import_cold"], p["import_warm"]),
    ]
    for label, cold, warm in rows:
        print(f"{label:58s}{cold:9.2f}{warm:9.2f}")
    print("\nRecipe steps (cold / warm):")
    for step, cold in t["recipe_steps_cold"].items():
        print(f"  {step:24s}{cold:8.2f}{t['recipe_steps_warm'][step]:8.2f}")
    print("\nRatios package / recipe:")
    for name, value in ratio.items():
        print(f"  {name:20s}{value:8.3f}  (1/{1 / value:.1f})")
    for which, tgt in summary["targets"].items():
        verdict = "met" if tgt["met"] else "NOT met"
        print(f"  target {which}: <= 1/{1 / tgt['target']:.0f}: {verdict}")
        floor = ratio[f"floor_{which}"]
        reachable = "reachable" if floor <= tgt["target"] else "below the floor: unreachable"
        print(f"    the floor alone is 1/{1 / floor:.1f} of the recipe: the target is {reachable}")
    agree = summary["agreement"]
    print(f"\nPlan agreement (max |recipe - package| per channel, tolerance {TOLERANCE}):")
    rec_plans = runs["recipe"]["warm"][0]["plans"]
    pkg_plans = runs["package"]["warm"][0]["plans"]
    for n in PLANS:
        print(
            f"  {n:12s} {agree['max_abs_diff'][n]:8.4f}   recipe {fmt(rec_plans[n])}"
            f"   package {fmt(pkg_plans[n])}"
        )
    print("\nDistance to the reference plan (SciPy, exact NumPy): recipe / package")
    for n in PLANS:
        ref = agree["max_abs_diff_to_reference"]
        print(
            f"  {n:12s} {ref['recipe'][n]:8.4f} / {ref['package'][n]:8.4f}"
            f"   reference {fmt(agree['reference_plans'][n])}"
        )
    print("\nExact max regret (NumPy, common V*): recipe / package / reference")
    worst = agree["exact_max_regret"]
    for n in PLANS:
        print(
            f"  {n:12s} {worst['recipe'][n]:.6f} / {worst['package'][n]:.6f} / "
            f"{worst['reference'][n]:.6f}"
        )
    print("\nRecipe solver reports:")
    for n, rep in runs["recipe"]["warm"][0]["solves"].items():
        print(f"  {n:12s} success={rep['success']} nit={rep['nit']} ({rep['message']})")


def fmt(plan):
    """A plan as a short string."""
    return "[" + ", ".join(f"{x:6.2f}" for x in plan) + "]"


def main():
    """Measure both sides cold and warm; print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=("recipe", "package", *FLOORS), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.out)
        return

    from pymc_robust_alloc.demo import demo_views

    draws = make_draws()
    for view in demo_views(draws=N_DRAWS, random_seed=SEED):
        for p in ("alpha", "lam"):
            mine = draws[view.name][p]
            theirs = view.posterior[p].isel(chain=0).transpose("draw", "channel").values
            assert (mine == theirs).all(), f"draws of {view.name}.{p} differ from demo_views()"

    start = time.perf_counter()
    before = h.machine()
    print(f"Load before: {before['uptime']}")
    with tempfile.TemporaryDirectory(prefix="core_benchmark_") as root:
        runs = {kind: measure(kind, root) for kind in ("recipe", "package", *FLOORS)}
    after = h.machine()
    summary = summarise(runs, draws)
    print_summary(summary, runs)
    print(f"\nLoad after: {after['uptime']}")
    total = time.perf_counter() - start
    print(f"Benchmark wall time: {total:.0f} s")

    for kind in runs:
        runs[kind].pop("compiledir")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": ".venv/bin/python benchmarks/core_benchmark.py",
        "problem": {
            "views": list(ESTIMATES),
            "channels": list(CHANNELS),
            "draws": N_DRAWS,
            "num_periods": N_PERIODS,
            "total_budget": TOTAL_BUDGET,
            "bounds": BOUNDS,
        },
        "machine_before": before,
        "machine_after": after,
        "versions": h.versions(),
        "benchmark_seconds": total,
        **summary,
        "runs": runs,
    }
    OUT.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"Wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
