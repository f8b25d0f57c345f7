"""Cost per budget of a frontier against one re-solve of the kept allocator.

Run: .venv/bin/python benchmarks/frontier_benchmark.py

One process builds ``RobustAllocator(demo_views(draws=500), 8)``, allocates once
at 100 (compiling), then times: one re-solve ``allocate(100)`` (the baseline,
best of 3); ``frontier`` over 5 budgets 60..140, warm-started from the
neighbouring budget; and the same 5 budgets as a hand-written loop of
``allocate`` calls (cold starts). Each row prints seconds per budget and its
ratio to the baseline. Writes ``benchmarks/results/frontier_benchmark.json``.
"""

from __future__ import annotations

import time
import warnings

import _harness as h

COMMAND = ".venv/bin/python benchmarks/frontier_benchmark.py"
CHANNELS = ("search", "social", "display")
BOUNDS = dict.fromkeys(CHANNELS, (0.0, 60.0))
BUDGETS = [60.0, 80.0, 100.0, 120.0, 140.0]


def _timed(call) -> float:
    t0 = time.perf_counter()
    call()
    return time.perf_counter() - t0


def main() -> None:
    """Time the baseline, the frontier and the loop; print ratios; write the JSON."""
    from pymc_robust_alloc import RobustAllocator
    from pymc_robust_alloc.demo import demo_views

    warnings.simplefilter("ignore")
    allocator = RobustAllocator(demo_views(draws=500, random_seed=42), 8)
    allocator.allocate(100.0, BOUNDS)  # compile
    baseline = min(_timed(lambda: allocator.allocate(100.0, BOUNDS)) for _ in range(3))
    n = len(BUDGETS)
    frontier = _timed(lambda: allocator.frontier(BUDGETS, BOUNDS, progress=False)) / n
    loop = _timed(lambda: [allocator.allocate(b, BOUNDS) for b in BUDGETS]) / n
    rows = {
        "one re-solve allocate(100) (baseline)": baseline,
        "frontier, per budget (warm-started)": frontier,
        "allocate loop, per budget (cold)": loop,
    }
    h.print_ratios("seconds", rows, baseline="one re-solve allocate(100) (baseline)", width=40)
    h.write_json("frontier_benchmark", h.facts() | {"budgets": BUDGETS, "seconds": rows}, COMMAND)


if __name__ == "__main__":
    main()
