"""Speed benchmark: the blog's recipe on ``BudgetOptimizer`` vs ``RobustAllocator``.

Run: .venv/bin/python benchmarks/core_benchmark.py [--quick]

Both sides solve the demo decision (three Michaelis-Menten views of three
channels, 500 draws each, 8 periods, a budget of 100 per period, bounds (0, 60)
per channel): every view's optimum, the averaged plan, the minimax-regret plan and
the regret matrix. Each measurement runs in a fresh Python subprocess:

- COLD: a new, empty PyTensor compiledir (``PYTENSOR_FLAGS=base_compiledir=...``,
  which also holds PyTensor's Numba cache) and an empty ``NUMBA_CACHE_DIR``;
- WARM: a subprocess reusing the compiledir that the cold run populated
  (repeated ``WARM_REPEATS`` times, median reported; once with ``--quick``).

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
    compare_plans,
    make_draws,
    plan_list,
)
from _recipe import run_floor, run_recipe

COMMAND = ".venv/bin/python benchmarks/core_benchmark.py"
WARM_REPEATS = 3
TOLERANCE = 0.1  # budget units per period
TARGET_WARM = 1 / 10
TARGET_COLD = 1 / 4
WORKER_TIMEOUT = 900  # seconds per subprocess (a loaded machine needs them)
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
    # The package's exports load on first use (PEP 562): import the allocator itself.
    "package": ("pymc_robust_alloc", "pymc_robust_alloc.allocator", "pymc_robust_alloc.demo"),
    "floor-python": ("numpy", "xarray", "pymc", "pymc.dims", "pymc_marketing.mmm"),
    "floor-default": ("numpy", "xarray", "pymc", "pymc.dims", "pymc_marketing.mmm"),
}
#: The floor: one view's optimizer built and solved once, in either mode.
FLOORS = ("floor-python", "floor-default")


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


def median(reports, key, step=None):
    """Median of a timing over the warm reports."""
    if step is None:
        return statistics.median(r[key] for r in reports)
    return statistics.median(r["steps"][step] for r in reports)


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
    agreement = compare_plans(rec["warm"][0], pkg["warm"][0], draws, TOLERANCE)
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
    repeats = len(runs["recipe"]["warm"])
    print(f"\nTimes in seconds (after imports; warm = median of {repeats} runs)")
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
    parser.add_argument("--quick", action="store_true", help="one warm run per side, not 3")
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
    before = h.facts()
    print(f"Load before: {before['machine']['uptime']}")
    repeats = 1 if args.quick else WARM_REPEATS
    with tempfile.TemporaryDirectory(prefix="core_benchmark_") as root:
        runs = {
            kind: h.cold_then_warm(__file__, [kind], root, repeats, WORKER_TIMEOUT)
            for kind in ("recipe", "package", *FLOORS)
        }
    after = h.machine()
    summary = summarise(runs, draws)
    print_summary(summary, runs)
    print(f"\nLoad after: {after['uptime']}")
    total = time.perf_counter() - start
    print(f"Benchmark wall time: {total:.0f} s")
    problem = {
        "views": list(ESTIMATES),
        "channels": list(CHANNELS),
        "draws": N_DRAWS,
        "num_periods": N_PERIODS,
        "total_budget": TOTAL_BUDGET,
        "bounds": BOUNDS,
    }
    payload = {"problem": problem, **before, "machine_after": after, "benchmark_seconds": total}
    h.write_json("core_benchmark", payload | summary | {"runs": runs}, COMMAND)


if __name__ == "__main__":
    main()
