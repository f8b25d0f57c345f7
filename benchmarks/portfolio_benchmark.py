"""Portfolio benchmark: 40 decisions serially vs on a 2-worker Dask ``LocalCluster``.

Run: .venv/bin/python benchmarks/portfolio_benchmark.py [--quick] [--workers N] [--repeats N]

The portfolio: 8 markets x 5 budgets (60, 80, 100, 120, 140 per period), each market
the blog's three views (``demo_views``: 3 channels, 500 draws each, 8 periods, bounds
(0, 60)) with its own alpha multiplier and seed. Measured in one run, after a warm-up
problem in this process and on every worker:

- serial: ``allocate_many(problems, workers=1)`` in this process (the baseline);
- dask: the same on a ``LocalCluster`` of ``--workers`` processes (1 thread each),
  started before the clock (its start-up is timed apart); serial and dask runs
  alternate ``--repeats`` times (median reported: a shared machine's load moves);
- grouping off: both again with ``group=False`` (one compile per problem; ``--quick``
  skips the serial one).

Prints wall times, speed-ups against the serial run, compiles, the largest difference
of plans, values and regrets from the serial run (must be <= 1e-12) and where the time
went: CPU seconds of this process (scheduler and client on the cluster) and of each
worker, and each worker's busy time in Dask's task stream. On a shared machine the CPU
seconds hold when wall times do not: ``cpu bound`` is the speed-up two free cores
would give (the serial CPU seconds over the busiest worker's).
Writes ``benchmarks/results/portfolio_benchmark.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from dataclasses import dataclass, field

import _harness as h
import numpy as np
import psutil
from _blog import BOUNDS, CHANNELS, N_DRAWS, N_PERIODS

from pymc_robust_alloc.demo import DEMO_VIEWS
from pymc_robust_alloc.portfolio import Problem, allocate_many
from pymc_robust_alloc.portfolio.run import local_cluster
from pymc_robust_alloc.views.curves import CurveView

COMMAND = ".venv/bin/python benchmarks/portfolio_benchmark.py"
MARKETS = {f"m{i}": 0.6 + 0.1 * i for i in range(8)}
BUDGETS = (60.0, 80.0, 100.0, 120.0, 140.0)
DRAWS, PERIODS = N_DRAWS, N_PERIODS
TARGET = 1.7
COMPARED = ("plans", "value", "regret", "v_star", "max_regret")


def market_views(index: int, size: float) -> list[CurveView]:
    return [
        CurveView.from_estimates(
            name,
            {"alpha": [size * a for a in spec["alpha"]], "lam": spec["lam"]},
            sigma=spec["sigma"],
            channels=CHANNELS,
            draws=DRAWS,
            random_seed=100 * index + i,
        )
        for i, (name, spec) in enumerate(DEMO_VIEWS.items())
    ]


def portfolio(markets=MARKETS, budgets=BUDGETS) -> list[Problem]:
    problems = []
    for index, (market, size) in enumerate(markets.items()):
        views = market_views(index, size)
        problems += [
            Problem(f"{market}-{b:g}", views, b, PERIODS, bounds=BOUNDS, labels={"market": market})
            for b in budgets
        ]
    return problems


def warm_up() -> None:
    """Import and run one small problem (first-call costs are not what is measured)."""
    allocate_many(portfolio({"w": 1.0}, (100.0,)), workers=1, progress=False)


@dataclass
class Run:
    seconds: float
    result: object
    cpu_main: float  # this process: the solves if serial, the scheduler and client if not
    cpu_workers: dict[str, float] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)  # compute time in the task stream


def cpu_seconds() -> dict[int, float]:
    """User + system CPU seconds of this process and every process it started, by pid."""
    me = psutil.Process()
    seconds = {}
    for process in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seconds[process.pid] = times.user + times.system
    return seconds


def timed(client=None, **kwargs) -> Run:
    from distributed import get_task_stream

    before, start = cpu_seconds(), time.perf_counter()
    with get_task_stream(client) if client else contextlib.nullcontext() as stream:
        result = allocate_many(portfolio(), client=client, progress=False, **kwargs)
    seconds, after = time.perf_counter() - start, cpu_seconds()
    run = Run(seconds, result, after[os.getpid()] - before[os.getpid()])
    if client is not None:
        pids = client.run(os.getpid)
        run.cpu_workers = {w: after[pid] - before.get(pid, 0.0) for w, pid in pids.items()}
        for task in stream.data:
            steps = [s for s in task["startstops"] if s["action"] == "compute"]
            busy = sum(s["stop"] - s["start"] for s in steps)
            run.busy[task["worker"]] = run.busy.get(task["worker"], 0.0) + busy
    return run


def largest_difference(a, b) -> float:
    return max(
        float(np.nanmax(np.abs(a.dataset[name].values - b.dataset[name].values)))
        for name in COMPARED
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the serial ungrouped run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="serial and cluster runs each")
    args = parser.parse_args()
    warm_up()
    runs = {}
    out = h.facts(("dask", "distributed", "pymc", "pytensor", "numpy"))
    out["load_before"] = os.getloadavg()
    start = time.perf_counter()
    with local_cluster(args.workers) as client:  # as allocate_many's own cluster
        client.run(warm_up)
        out["cluster_start_s"] = time.perf_counter() - start
        # Serial and cluster runs alternate, so both see the same load; the medians count.
        repeats = {"serial": [], "dask": []}
        for _ in range(args.repeats):
            repeats["serial"].append(timed(workers=1))
            repeats["dask"].append(timed(client))
        for name, done in repeats.items():
            runs[name] = sorted(done, key=lambda run: run.seconds)[len(done) // 2]
            out[f"{name}_seconds_repeats"] = [run.seconds for run in done]
        runs["dask, grouping off"] = timed(client, group=False)
    if not args.quick:
        runs["serial, grouping off"] = timed(workers=1, group=False)
    out["load_after"] = os.getloadavg()
    base = runs["serial"]
    table, out["runs"] = [], {}
    for name, run in runs.items():
        diff = largest_difference(base.result, run.result)
        busiest = max(run.cpu_workers.values(), default=run.cpu_main)
        out["runs"][name] = {
            "seconds": run.seconds,
            "speedup": base.seconds / run.seconds,
            "cpu_bound_speedup": base.cpu_main / busiest,
            "compiles": run.result.compiles,
            "max_abs_difference": diff,
            "failed": len(run.result.failures),
            "cpu_seconds_main": run.cpu_main,
            "cpu_seconds_workers": run.cpu_workers,
            "busy_seconds_workers": run.busy,
        }
        workers = " / ".join(f"{v:.1f}" for v in run.cpu_workers.values()) or "-"
        busy = " / ".join(f"{v:.1f}" for v in run.busy.values()) or "-"
        table.append((name, run.seconds, base.seconds / run.seconds, base.cpu_main / busiest,
                      run.result.compiles, diff, run.cpu_main, workers, busy))  # fmt: skip
    dask_time = runs["dask"].seconds
    out["speedup_with_cluster_start"] = base.seconds / (dask_time + out["cluster_start_s"])
    print(
        f"{len(base.result.records)} problems (8 markets x 5 budgets, 3 views x 3 channels x "
        f"{DRAWS} draws), {args.workers} workers, load {out['load_before'][0]:.1f} -> "
        f"{out['load_after'][0]:.1f} on {os.cpu_count()} cores"
    )
    header = ("wall s", "speed-up", "cpu bound", "compiles", "max |diff|", "cpu s here")
    print(f"  {'':24s}" + "".join(f"{c:>11s}" for c in header) + "  cpu s / busy s per worker")
    for name, *numbers, workers, busy in table:
        cells = "".join(f"{v:11.3g}" for v in numbers)
        print(f"  {name:24s}{cells}  {workers} / {busy}")
    for name in ("serial", "dask"):
        times = ", ".join(f"{t:.1f}" for t in out[f"{name}_seconds_repeats"])
        print(f"  {name} runs: {times} s (median above)")
    print(
        f"  cluster start-up {out['cluster_start_s']:.1f} s; speed-up counting it "
        f"{out['speedup_with_cluster_start']:.2f}x; target {TARGET}x on the warm cluster: "
        f"{'met' if base.seconds / dask_time >= TARGET else 'NOT met'}"
    )
    for name, run in runs.items():
        np.testing.assert_allclose(
            run.result.dataset["plans"], base.result.dataset["plans"], rtol=0, atol=1e-12,
            err_msg=name,
        )  # fmt: skip
    h.write_json("portfolio_benchmark", out, COMMAND + (" --quick" if args.quick else ""))


if __name__ == "__main__":
    main()
