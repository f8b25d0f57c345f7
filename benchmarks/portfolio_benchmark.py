"""Portfolio benchmark: 40 decisions serially vs on a 2-worker Dask ``LocalCluster``.

Run: .venv/bin/python benchmarks/portfolio_benchmark.py [--quick] [--workers N]

The portfolio: 8 markets x 5 budgets (60, 80, 100, 120, 140 per period), each market
the blog's three views (``demo_views``: 3 channels, 500 draws each, 8 periods, bounds
(0, 60)) with its own alpha multiplier and seed. Measured in one run, after a warm-up
problem in this process and on every worker:

- serial: ``allocate_many(problems, workers=1)`` in this process (the baseline);
- dask: the same on a ``LocalCluster`` of ``--workers`` processes (1 thread each),
  started before the clock (its start-up is timed apart);
- grouping off: both again with ``group=False`` (one compile per problem; ``--quick``
  skips the serial one).

Prints wall times, speed-ups against the serial run, compiles, and the largest
difference of plans, values and regrets between the serial and every Dask run (must be
<= 1e-12). Writes ``benchmarks/results/portfolio_benchmark.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import _harness as h
import numpy as np
from _blog import BOUNDS, CHANNELS, N_DRAWS, N_PERIODS

from pymc_robust_alloc.demo import DEMO_VIEWS
from pymc_robust_alloc.portfolio import Problem, allocate_many
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


def timed(**kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = allocate_many(portfolio(), progress=False, **kwargs)
    return time.perf_counter() - start, result


def largest_difference(a, b) -> float:
    return max(
        float(np.nanmax(np.abs(a.dataset[name].values - b.dataset[name].values)))
        for name in COMPARED
    )


def main() -> None:
    import dask
    from distributed import Client, LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the serial ungrouped run")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    warm_up()
    rows = {}
    out = h.facts(("dask", "distributed", "pymc", "pytensor", "numpy"))
    out["load_before"] = os.getloadavg()
    rows["serial"] = timed(workers=1)
    start = time.perf_counter()
    with (
        dask.config.set({"distributed.scheduler.work-stealing": False}),  # as allocate_many's
        LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(warm_up)
        out["cluster_start_s"] = time.perf_counter() - start
        rows["dask"] = timed(client=client)
        rows["dask, grouping off"] = timed(client=client, group=False)
    if not args.quick:
        rows["serial, grouping off"] = timed(workers=1, group=False)
    out["load_after"] = os.getloadavg()
    base_time, base = rows["serial"]
    table, out["runs"] = [], {}
    for name, (seconds, result) in rows.items():
        diff = largest_difference(base, result)
        failed = len(result.failures)
        out["runs"][name] = {
            "seconds": seconds,
            "speedup": base_time / seconds,
            "compiles": result.compiles,
            "max_abs_difference": diff,
            "failed": failed,
        }
        table.append((name, seconds, base_time / seconds, result.compiles, diff))
    dask_time = rows["dask"][0]
    out["speedup_with_cluster_start"] = base_time / (dask_time + out["cluster_start_s"])
    print(
        f"40 problems (8 markets x 5 budgets, 3 views x 3 channels x {DRAWS} draws), "
        f"{args.workers} workers, load {out['load_before'][0]:.1f} -> {out['load_after'][0]:.1f}"
    )
    h.print_table(["seconds", "speed-up", "compiles", "max |diff|"], table, width=24)
    print(
        f"  cluster start-up {out['cluster_start_s']:.1f} s; speed-up counting it "
        f"{out['speedup_with_cluster_start']:.2f}x; target {TARGET}x on the warm cluster: "
        f"{'met' if base_time / dask_time >= TARGET else 'NOT met'}"
    )
    for name, run in out["runs"].items():
        print(f"  {name}: largest |difference| from serial {run['max_abs_difference']:.1e}")
    for name, (_, result) in rows.items():
        np.testing.assert_allclose(
            result.dataset["plans"], base.dataset["plans"], rtol=0, atol=1e-12, err_msg=name
        )
    h.write_json("portfolio_benchmark", out, COMMAND + (" --quick" if args.quick else ""))


if __name__ == "__main__":
    main()
