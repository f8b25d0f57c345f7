"""Cost of the lazily compiled objectives: success probability and risk-averse regret.

Run: .venv/bin/python benchmarks/success_benchmark.py

One process builds ``RobustAllocator(demo_views(draws=500), 8)`` and times, in
order: a regret-only ``allocate``; the first ``allocate`` against a reference
plan (which compiles the success graph); the same call again; the first call
with ``success_method="empirical"`` (its own graph); the first call with
``quantile=0.1`` (the risk-averse graph). The baseline is the regret-only
``allocate`` of the same process: each row prints its ratio to it. The process
runs once on an empty PyTensor compiledir and Numba cache (cold), then again on
the filled one (warm). Writes ``benchmarks/results/success_benchmark.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import _harness as h
from _blog import BOUNDS, CHANNELS, TOTAL_BUDGET

COMMAND = ".venv/bin/python benchmarks/success_benchmark.py"
TIMEOUT = 600  # seconds per subprocess
BUDGET = TOTAL_BUDGET
REFERENCE = dict.fromkeys(CHANNELS, BUDGET / len(CHANNELS))
GAIN = 0.002
#: (label, keyword arguments of ``allocate``), timed in this order.
CALLS = (
    ("allocate (regret plans only)", {}),
    (
        "first allocate with a reference plan (compiles the success graph)",
        {"reference_plan": REFERENCE, "required_gain": GAIN},
    ),
    ("the same again (compiled)", {"reference_plan": REFERENCE, "required_gain": GAIN}),
    (
        'first success_method="empirical" (its own graph)',
        {"reference_plan": REFERENCE, "required_gain": GAIN, "success_method": "empirical"},
    ),
    ("first quantile=0.1 (risk-averse graph, 7 more solves)", {"quantile": 0.1}),
)


def worker(out: str) -> None:
    """Time every call of ``CALLS`` in this process; write the times as JSON to ``out``."""
    import warnings

    from pymc_robust_alloc import RobustAllocator
    from pymc_robust_alloc.demo import demo_views

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    allocator = RobustAllocator(demo_views(draws=500, random_seed=42), 8)
    times = {"construct": time.perf_counter() - t0}
    for label, kwargs in CALLS:
        t0 = time.perf_counter()
        allocator.allocate(BUDGET, BOUNDS, **kwargs)
        times[label] = time.perf_counter() - t0
    Path(out).write_text(json.dumps(times))


def main():
    """Measure cold then warm; print each call's time and its ratio to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.out)
        return
    before = h.facts()
    with tempfile.TemporaryDirectory(prefix="success_benchmark_") as compiledir:
        runs = {kind: h.spawn(__file__, [], Path(compiledir), TIMEOUT) for kind in ("cold", "warm")}
    for kind, times in runs.items():
        times.pop("process_seconds")
        h.print_ratios(f"{kind}: seconds", times, baseline=CALLS[0][0], width=66)
    print(f"Load average: {os.getloadavg()}")
    h.write_json("success_benchmark", before | runs, COMMAND)


if __name__ == "__main__":
    main()
