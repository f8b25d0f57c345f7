"""Scale benchmark: ``RobustAllocator`` against a hand-written NumPy + SciPy floor.

Run: .venv/bin/python benchmarks/scale_benchmark.py [--quick] [--case NAME ...]
[--blas-threads N]. ``--quick``: blog and medium; no case: all but slope.

Measures, per case and in the same run, the package's public API and a floor on the
same decision: Michaelis-Menten views (no adstock), P = 8 periods of equal spend, value
V_m(x) = P mean_d sum_c alpha_dc x_c / (lam_dc + x_c), regret R_m = 1 - V_m / V*_m with
V*_m the best V_m over every view's optimum and the averaged plan; the goal is the
minimax-regret plan. Cases (``CASES``): ``blog`` (``demo_views()``, budget 100, bounds
(0, 60)); ``medium`` 10 channels x 3 views x 500 draws; ``large`` 50 x 5 x 2000; ``geo``
20 channels x 25 geos x 4 views x 1000 draws; ``slope`` the large case at 500, 1000 and
2000 draws. Generated views: alpha ~ U(0.5, 3), lam ~ U(0.2, 2) * s per cell, s = budget
/ cells, budget = 100 cells / 3 per period, default bounds (0, budget); draws
LogNormal(log estimate, 0.3) by ``CurveView.from_estimates`` (geo: the same, as a Dataset
with dims (chain, draw, channel, geo) given to ``CurveView``).

Package: ``RobustAllocator(views, num_periods=8)`` (build), ``allocate(budget)``,
``allocate(1.1 budget)`` (re-allocate), timed apart, on an empty PyTensor compiledir
(cold), then again on it (warm; ``WARM_RUNS`` processes for the small cases, whose
median decision, build + allocate, is reported, with the median of the further
allocations each makes on its kept allocator, ``EXTRA_ALLOCATES``). Floor: NumPy values
and analytic gradients, SciPy SLSQP
on spend / s, ftol 1e-12: every view's optimum and the averaged plan (objectives divided
by their value at the equal split), then min t s.t. R_m <= t (t a regret, order one at
most) from the best plan so far. Both read the views' ``posterior`` (hash-checked). Every
side is a fresh subprocess of a parent that never imports PyMC (``ru_maxrss`` survives
fork + exec), with the same BLAS threads (default 1: on a busy 2-core machine SLSQP was
10-20x slower with OpenBLAS threads). Prints a table per case; merges the results into
``benchmarks/results/scale_benchmark.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import _harness as h

OUT = h.ROOT / "benchmarks" / "results" / "scale_benchmark.json"
SEED, SIGMA, PERIODS = 2024, 0.3, 8
TIMEOUT = 3600  # seconds per subprocess
OPTIONS = {"ftol": 1e-12, "maxiter": 1000}
#: Warm package processes per case (the decision's median), and allocations after the
#: first on each kept allocator (the cost of an extra one, median): small cases only.
WARM_RUNS = {"blog": 5, "medium": 3}
EXTRA_ALLOCATES = {"blog": 8, "medium": 4}


@dataclass(frozen=True)
class Case:
    """One problem size; ``budget`` is per period over all cells."""

    name: str
    channels: int
    views: int
    draws: int
    geos: int = 1

    @property
    def cells(self) -> int:
        return self.channels * self.geos

    @property
    def budget(self) -> float:
        return 100.0 if self.name == "blog" else 100.0 * self.cells / 3

    @property
    def bounds(self) -> tuple[float, float]:
        return (0.0, 60.0) if self.name == "blog" else (0.0, self.budget)


CASES = {
    "blog": Case("blog", 3, 3, 500),
    "medium": Case("medium", 10, 3, 500),
    "large": Case("large", 50, 5, 2000),
    "geo": Case("geo", 20, 4, 1000, geos=25),
    **{f"slope-{d}": Case(f"slope-{d}", 50, 5, d) for d in (500, 1000, 2000)},
}
GROUPS = {"quick": ["blog", "medium"], "all": ["blog", "medium", "large", "geo"]}
GROUPS["slope"] = [n for n in CASES if n.startswith("slope")]


def make_views(case: Case) -> list:
    """The case's views, built with the public API only."""
    import numpy as np
    import xarray as xr

    from pymc_robust_alloc import CurveView
    from pymc_robust_alloc.demo import demo_views

    if case.name == "blog":
        return demo_views(draws=case.draws)
    rng, s = np.random.default_rng(SEED), case.budget / case.cells
    shape = (case.channels,) if case.geos == 1 else (case.channels, case.geos)
    channels = [f"ch{c:02d}" for c in range(case.channels)]
    views = []
    for m in range(case.views):
        est = {"alpha": rng.uniform(0.5, 3.0, shape), "lam": rng.uniform(0.2, 2.0, shape) * s}
        if case.geos == 1:
            views.append(
                CurveView.from_estimates(
                    f"view{m}", est, SIGMA, channels=channels, draws=case.draws, random_seed=m
                )
            )
            continue
        draw_rng, dims = np.random.default_rng(m), ("chain", "draw", "channel", "geo")
        size = (1, case.draws, *shape)
        data = {p: (dims, draw_rng.lognormal(np.log(v), SIGMA, size)) for p, v in est.items()}
        coords = {"chain": [0], "draw": np.arange(case.draws), "channel": channels}
        coords["geo"] = [f"g{g:02d}" for g in range(case.geos)]
        views.append(CurveView(f"view{m}", xr.Dataset(data, coords=coords)))
    return views


def draw_arrays(views: list) -> tuple[dict[str, Any], str]:
    """Each view's alpha and lam as (draws, cells), cells in the first view's order; hash."""
    import hashlib

    import numpy as np

    order = views[0].budget_coords
    arrays: dict[str, Any] = {}
    for m, view in enumerate(views):
        post = view.posterior.sel({d: list(v) for d, v in order.items()})
        for p in ("alpha", "lam"):
            values = post[p].transpose("chain", "draw", *order).values
            arrays[f"{p}{m}"] = np.ascontiguousarray(values.reshape(-1, values[0, 0].size))
    digest = hashlib.sha256(b"".join(a.tobytes() for a in arrays.values())).hexdigest()
    return arrays, digest[:16]


# ------------------------------------------------------------------ workers
def draws_worker(case: Case, npz: str) -> dict[str, Any]:
    import numpy as np

    import pymc_robust_alloc

    arrays, digest = draw_arrays(make_views(case))
    np.savez(npz, **arrays)
    return {"draws_hash": digest, "package": str(Path(pymc_robust_alloc.__file__).parent)}


def package_worker(case: Case) -> dict[str, Any]:
    import warnings

    t0 = time.perf_counter()
    from pymc_robust_alloc import RobustAllocator

    out: dict[str, Any] = {"import_s": time.perf_counter() - t0}
    checks = _time_checks()
    views = make_views(case)
    channels = views[0].budget_coords["channel"]
    bounds = dict.fromkeys(channels, case.bounds) if case.name == "blog" else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0, c0 = time.perf_counter(), time.process_time()
        allocator = RobustAllocator(views, num_periods=PERIODS)
        t1, c1 = time.perf_counter(), time.process_time()
        result = allocator.allocate(case.budget, bounds)
        t2, c2, first = time.perf_counter(), time.process_time(), len(caught)
        out["checks_s"] = checks[0]  # of the first allocate
        again = allocator.allocate(case.budget * 1.1, bounds)
        t3, c3 = time.perf_counter(), time.process_time()
        extra = []  # further allocations on the kept allocator, budgets alternating
        for k in range(EXTRA_ALLOCATES.get(case.name, 0)):
            start, cpu = time.perf_counter(), time.process_time()
            allocator.allocate(case.budget * (1.0 if k % 2 else 1.1), bounds)
            extra.append((time.perf_counter() - start, time.process_time() - cpu))
    out |= {"build_s": t1 - t0, "allocate_s": t2 - t1, "reallocate_s": t3 - t2}
    out |= {"build_cpu_s": c1 - c0, "allocate_cpu_s": c2 - c1, "reallocate_cpu_s": c3 - c2}
    out["extra_allocates"] = [(t3 - t2, c3 - c2), *extra]  # (wall, CPU) seconds each
    out["peak_mb"] = h.peak_mb()
    for key, ws in (("warnings", caught[:first]), ("warnings_realloc", caught[first:])):
        out[key] = sorted({f"{w.category.__name__}: {w.message}"[:200] for w in ws})
    out["max_regret"] = float(result.regret_matrix["max regret"]["minimax"])
    out["max_regret_realloc"] = float(again.regret_matrix["max regret"]["minimax"])
    out["convergence"] = h.records(getattr(result, "convergence", None))
    cert = getattr(result, "certificate", None)
    out["certificate"] = h.records(cert() if callable(cert) else cert)
    order = views[0].budget_coords
    plan = result.plan("minimax").sel({d: list(v) for d, v in order.items()})
    out["plan"] = plan.transpose(*order).values.ravel().tolist()
    out["draws_hash"] = draw_arrays(views)[1]
    return out


def _time_checks() -> list[float]:
    """Time the engine's checks (first-order measures and certificates) from now on.

    Returns a one-item list holding the seconds spent in ``Engine.maximise_check`` and
    ``Engine.minimax_check`` so far: the certificate's share of an ``allocate``.
    """
    from pymc_robust_alloc.engine import Engine

    spent = [0.0]
    for name in ("maximise_check", "minimax_check"):
        method = getattr(Engine, name)

        def timed(*args, method=method, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - start

        setattr(Engine, name, timed)
    return spent


def floor_worker(case: Case, npz: str, package_plan: list[float] | None) -> dict[str, Any]:
    t0 = time.perf_counter()
    import numpy as np
    from scipy.optimize import minimize

    out: dict[str, Any] = {"import_s": time.perf_counter() - t0}
    with np.load(npz) as f:
        alpha = np.stack([f[f"alpha{m}"] for m in range(case.views)])  # (views, draws, cells)
        lam = np.stack([f[f"lam{m}"] for m in range(case.views)])
    al, n, s = alpha * lam, case.cells, case.budget / case.cells  # spend x = s * u
    k = PERIODS / alpha.shape[1]  # P periods, mean over draws
    evals, times, fits, plans = [0, 0.0], {}, {}, {}  # evaluations, their seconds

    def value_grad(u: Any, views: slice = slice(None)) -> tuple[Any, Any]:
        """V_m(s u) and its gradient in u for ``views``: one pass of reciprocals, two sums."""
        start = time.perf_counter()
        q = lam[views] + s * u
        np.reciprocal(q, out=q)  # 1 / (lam + x)
        value = k * np.einsum("mdc,mdc->mc", alpha[views], q) @ (s * u)
        q *= q
        grad = (k * s) * np.einsum("mdc,mdc->mc", al[views], q)  # alpha lam / (lam + x)^2
        evals[0], evals[1] = evals[0] + 1, evals[1] + time.perf_counter() - start
        return value, grad

    def solve(name: str, fun: Any, z0: Any, bounds: list, constraints: list) -> Any:
        start = time.perf_counter()
        kw = {"jac": True, "method": "SLSQP", "options": OPTIONS}
        fit = minimize(fun, z0, bounds=bounds, constraints=constraints, **kw)
        times[name] = time.perf_counter() - start
        fits[name] = {"success": bool(fit.success), "nit": int(fit.nit), "message": fit.message}
        return fit.x

    box = [(case.bounds[0] / s, case.bounds[1] / s)] * n
    total = {
        "type": "eq",
        "fun": lambda z: z[:n].sum() - n,
        "jac": lambda z: np.append(np.ones(n), np.zeros(z.size - n)),
    }
    t0 = time.perf_counter()
    level = value_grad(np.ones(n))[0]  # each view's value at the equal split
    times["level"] = time.perf_counter() - t0
    for m in range(case.views + 1):  # every view's optimum, then the averaged plan
        views = slice(m, m + 1) if m < case.views else slice(None)
        w = 1 / level[views] if m < case.views else np.full(case.views, 1 / level.sum())

        def negative(u: Any, views: slice = views, w: Any = w) -> tuple[Any, Any]:
            v, g = value_grad(u, views)
            return -(w @ v), -(w @ g)

        name = f"view{m}" if m < case.views else "averaged"
        plans[name] = solve(name, negative, np.ones(n), box, [total])
    t0 = time.perf_counter()
    table = {k: value_grad(u)[0] for k, u in plans.items()}
    v_star = np.max(list(table.values()), axis=0)
    worst = {k: float(np.max(1 - v / v_star)) for k, v in table.items()}
    best = min(worst, key=worst.__getitem__)
    cache: dict[str, Any] = {}

    def regrets(z: Any) -> tuple[Any, Any]:  # shared by the constraint and its Jacobian
        if "z" not in cache or not np.array_equal(cache["z"], z):
            cache.update(zip(("z", "v", "g"), (z.copy(), *value_grad(z[:n])), strict=True))
        return cache["v"], cache["g"]

    epigraph = {
        "type": "ineq",  # t - R_m(u) >= 0
        "fun": lambda z: z[n] - 1 + regrets(z)[0] / v_star,
        "jac": lambda z: np.hstack([regrets(z)[1] / v_star[:, None], np.ones((case.views, 1))]),
    }
    times["v_star"] = time.perf_counter() - t0
    z = solve(
        "minimax",
        lambda z: (z[n], np.eye(n + 1)[n]),
        np.append(plans[best], worst[best]),
        [*box, (None, None)],
        [total, epigraph],
    )
    out |= {"seconds": sum(times.values()), "times": times, "fits": fits, "evals": evals[:]}
    mm = float(np.max(1 - value_grad(z[:n])[0] / v_star))  # the hard max, as the package
    plan = z[:n] if mm <= worst[best] else plans[best]
    out |= {"max_regret": min(mm, worst[best]), "start": best, "peak_mb": h.peak_mb()}
    if package_plan is not None:  # the package's plan judged with the floor's V*
        x = np.asarray(package_plan)
        out["package_plan_regret"] = float(np.max(1 - value_grad(x / s)[0] / v_star))
        out["plan_distance"] = float(np.max(np.abs(x - s * plan)))
    return out


# ------------------------------------------------------------------ driver
def run_case(case: Case, tmp: Path, threads: int) -> dict[str, Any]:
    """Draws, package cold, package warm (same compiledir), floor: four fresh processes."""
    load_start, npz, compiledir = os.getloadavg(), tmp / "draws.npz", tmp / "compiledir"
    package, started = h.git_state(), time.strftime("%F %T")  # the code as the case starts
    env = h.worker_env(compiledir, threads)  # the same for every side
    base = ["--case", case.name, "--npz", str(npz)]
    (tmp / "plan.json").write_text("null")
    sides: dict[str, Any] = {}
    warm = [f"warm{k}" for k in range(1, WARM_RUNS.get(case.name, 1))]
    runs = [("draws", "draws"), ("cold", "package"), ("warm", "package")]
    for label, kind in [*runs, *((w, "package") for w in warm)]:
        sides[label] = h.run_worker(__file__, [kind, *base], env, tmp / f"{label}.json", TIMEOUT)
        if "plan" in sides[label]:  # for the floor to judge the package's plan
            (tmp / "plan.json").write_text(json.dumps(sides[label]["plan"]))
    args = ["floor", *base, "--plan", str(tmp / "plan.json")]
    sides["floor"] = h.run_worker(__file__, args, env, tmp / "floor.json", TIMEOUT)
    digest = sides["draws"].get("draws_hash")
    same = digest is not None and all(
        sides[k].get("draws_hash") == digest for k in ("cold", "warm")
    )
    runs = [sides[k] for k in ("warm", *warm) if "build_s" in sides[k]]
    decision = [
        (r["build_s"] + r["allocate_s"], r["build_cpu_s"] + r["allocate_cpu_s"]) for r in runs
    ]
    extra = [e for r in runs for e in r["extra_allocates"]]
    return {
        "case": asdict(case) | {"budget": case.budget, "bounds": case.bounds},
        "warm_decision": {"runs": decision, "median": _median_pair(decision)},
        "extra_allocate": {"runs": extra, "median": _median_pair(extra)},
        "package": package | {"path": sides["draws"].get("package")},
        "same_draws": same,
        "blas_threads": threads or "library default",
        "time": {"start": started, "end": time.strftime("%F %T")},
        "loadavg": {"start": load_start, "end": os.getloadavg()},
        **sides,
    }


def _median_pair(pairs: list[list[float]]) -> list[float] | None:
    """Median (wall, CPU) seconds of ``pairs``; None without any."""
    if not pairs:
        return None
    return [statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)]


def report(r: dict[str, Any]) -> None:
    c, cold, warm, floor = r["case"], r["cold"], r["warm"], r["floor"]
    print(
        f"\n== {c['name']}: {c['channels']} channels x {c['geos']} geos x {c['views']} views "
        f"x {c['draws']} draws x {PERIODS} periods; budget {c['budget']:.6g}, bounds "
        f"{tuple(c['bounds'])}; same draws {r['same_draws']}; BLAS threads "
        f"{r['blas_threads']}; load "
        f"{r['loadavg']['start'][0]:.2f} -> {r['loadavg']['end'][0]:.2f}"
    )
    for label in ("draws", "cold", "warm", "floor"):
        if "error" in r[label]:
            print(f"  {label} FAILED:\n{r[label]['error']}")
    fs = floor.get("seconds")
    alloc = [cold.get("allocate_s"), warm.get("allocate_s"), fs]
    ratio = [t / fs if t and fs else None for t in alloc[:2]]
    units = c["draws"] * c["views"] * c["channels"] * c["geos"] / 1e6  # draws x views x cells
    h.print_table(
        ["package cold", "package warm", "floor"],
        [
            ("import s", cold.get("import_s"), warm.get("import_s"), floor.get("import_s")),
            ("build s", cold.get("build_s"), warm.get("build_s"), None),
            ("allocate s (floor: all solves)", *alloc),
            ("re-allocate s (1.1 x budget)", cold.get("reallocate_s"), warm.get("reallocate_s")),
            (
                "  of allocate: checks and certificates s",
                cold.get("checks_s"),
                warm.get("checks_s"),
            ),
            ("ratio allocate / floor", *ratio),
            ("allocate s per M units", *(t and t / units for t in alloc)),
            ("peak MB", cold.get("peak_mb"), warm.get("peak_mb"), floor.get("peak_mb")),
        ],
    )
    decision, extra = r.get("warm_decision", {}), r.get("extra_allocate", {})
    if decision.get("median"):
        (dw, dc), (ew, ec) = decision["median"], extra["median"]
        print(
            f"  warm decision (build + allocate, one process after imports), median of "
            f"{len(decision['runs'])} processes: {dw:.3f} s wall, {dc:.3f} s CPU; an extra "
            f"allocate on the kept allocator, median of {len(extra['runs'])}: {ew:.3f} s "
            f"wall, {ec:.3f} s CPU"
        )
    pm, fm = warm.get("max_regret", cold.get("max_regret")), floor.get("max_regret")
    diff = abs(pm - fm) if pm is not None and fm is not None else None
    print(f"  minimax max regret: package {h.fmt(pm, '.12f')}, floor {h.fmt(fm, '.12f')}")
    print(f"  |package - floor| = {h.fmt(diff, '.2e')} (target 1e-9)")
    print(
        f"  package plan under the floor's V*: {h.fmt(floor.get('package_plan_regret'), '.12f')}"
        f"; max |plan - floor plan| {h.fmt(floor.get('plan_distance'), '.2e')} per cell"
    )
    if "times" in floor:
        parts = ", ".join(f"{k} {v:.3f}" for k, v in floor["times"].items())
        (n, eval_s), fs = floor["evals"], floor["seconds"]
        print(f"  floor seconds: {parts} (minimax from {floor['start']})")
        print(f"  floor: {n} NumPy evaluations {eval_s:.3f} s, SLSQP + rest {fs - eval_s:.3f} s")
        fits = [f"{k} {v['nit']}" + ("" if v["success"] else f" ({v['message']})")
                for k, v in floor["fits"].items()]  # fmt: skip
        print("  floor SLSQP iterations: " + ", ".join(fits))
    side = warm if "plan" in warm else cold
    for what in ("convergence", "certificate"):
        h.print_records(f"package {what}", side.get(what), skip=("objective", "message"))
    for key in ("warnings", "warnings_realloc"):
        for w in side.get(key, []):
            print(f"  {key.replace('_realloc', ' (re-allocate)')}: {w[:110]}")


def slope_report(results: list[dict[str, Any]]) -> None:
    for r in sorted(results, key=lambda r: r["case"]["draws"]):
        c, pkg, flo = r["case"], r["warm"].get("allocate_s"), r["floor"].get("seconds")
        units = c["draws"] * c["views"] * c["channels"] * c["geos"] / 1e6
        print(f"  slope, {c['draws']:4d} draws ({units:.2f} M units): package warm "
              f"{h.fmt(pkg)} s = {h.fmt(pkg and pkg / units)} s/M, floor {h.fmt(flo)} s = "
              f"{h.fmt(flo and flo / units)} s/M")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="blog and medium only")
    parser.add_argument("--case", action="append", choices=[*CASES, "slope"], help="repeatable")
    parser.add_argument(
        "--blas-threads", type=int, default=1, help="BLAS threads of both sides; 0: default"
    )
    for hidden in ("--worker", "--npz", "--plan", "--out"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        case = CASES[args.case[0]]
        if args.worker == "draws":
            result = draws_worker(case, args.npz)
        elif args.worker == "package":
            result = package_worker(case)
        else:
            result = floor_worker(case, args.npz, json.loads(Path(args.plan).read_text()))
        Path(args.out).write_text(json.dumps(result))
        return
    names = GROUPS["quick"] if args.quick else GROUPS["all"]
    if args.case:
        names = [n for c in args.case for n in GROUPS.get(c, [c])]
    saved = json.loads(OUT.read_text()) if OUT.exists() else {}
    results = saved.setdefault("cases", {})
    saved["loadavg"] = {"start": os.getloadavg()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    for name in names:
        with tempfile.TemporaryDirectory(prefix="scale-benchmark-") as tmp:
            results[name] = run_case(CASES[name], Path(tmp), args.blas_threads)
        report(results[name])
        OUT.write_text(json.dumps(saved, indent=1))
    slope_report([results[n] for n in names if n.startswith("slope")])
    saved["loadavg"]["end"] = os.getloadavg()
    OUT.write_text(json.dumps(saved, indent=1))
    print(f"\nload average start {saved['loadavg']['start']}, end {saved['loadavg']['end']}")
    print(f"wrote {OUT.relative_to(h.ROOT)}")


if __name__ == "__main__":
    main()
