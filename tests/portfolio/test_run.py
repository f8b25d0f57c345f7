import json
import os
import signal
import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from pymc_robust_alloc import AllocationResult
from pymc_robust_alloc.portfolio import Problem, allocate_many
from pymc_robust_alloc.portfolio.run import COMPILE_SOLVES, _place, _units
from tests.portfolio.conftest import market_views, portfolio


@pytest.fixture(scope="module")
def serial():
    return allocate_many(portfolio(), workers=1, progress=False)


def assert_same_results(a, b):
    for name in ("plans", "value", "regret", "v_star", "max_regret"):
        np.testing.assert_allclose(a.dataset[name], b.dataset[name], rtol=1e-12, atol=1e-12)
    assert list(a.dataset["status"].values) == list(b.dataset["status"].values)


def test_serial_run_compiles_once_per_market(serial):
    assert serial.compiles == 2
    assert set(serial.dataset["status"].values) == {"converged"}
    assert serial.dataset["plans"].dims == ("problem", "plan", "channel")
    # The plans of a problem spend its budget.
    spent = serial.dataset["plans"].sel(plan="minimax").sum("channel")
    np.testing.assert_allclose(spent, serial.dataset["budget"], rtol=1e-9)


def test_problem_results_equal_a_direct_allocation(serial):
    from pymc_robust_alloc import RobustAllocator

    problem = portfolio()[4]
    seeded = replace(problem, seed=serial.records[4]["seed"])
    direct = RobustAllocator(market_views("south"), 2).allocate(**seeded.allocate_kwargs())
    np.testing.assert_allclose(
        serial.dataset["plans"].sel(problem=problem.name, plan="minimax"),
        direct.plan("minimax"),
        rtol=0,
        atol=0,
    )


def test_grouping_off_compiles_per_problem_with_the_same_results(serial):
    ungrouped = allocate_many(portfolio()[:2], workers=1, group=False, progress=False)
    assert ungrouped.compiles == 2
    for name in ("plans", "regret"):
        np.testing.assert_array_equal(
            ungrouped.dataset[name], serial.dataset[name].isel(problem=slice(2))
        )


def test_distributed_results_equal_serial(client, serial):
    distributed = allocate_many(portfolio(), client=client, progress=False)
    assert_same_results(serial, distributed)
    assert distributed.compiles == 2
    assert len({r["worker"] for r in distributed.records}) == 2


def test_every_problem_finishes_when_a_worker_dies(client, serial, tmp_path):
    # Enough problems that a worker is still busy when the first result is written.
    problems = portfolio(budgets=tuple(4.0 + 0.25 * k for k in range(24)))
    done = {}

    def target():
        try:
            done["result"] = allocate_many(
                problems, client=client, output_dir=tmp_path, progress=False
            )
        except Exception as err:
            done["error"] = err

    run = threading.Thread(target=target)
    pids = client.run(os.getpid)
    run.start()
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("problems/*.json")) and time.monotonic() < deadline:
        time.sleep(0.02)
    busy = [w for w, keys in client.processing().items() if keys]
    assert busy, "the run ended before a worker could be killed; make the problems larger"
    os.kill(pids[busy[0]], signal.SIGKILL)
    run.join(timeout=120)
    assert "error" not in done, repr(done.get("error"))
    result = done["result"]
    assert result.failures == {}
    # The killed worker's allocator was compiled again elsewhere.
    assert result.compiles > 2
    for name in serial.dataset["problem"].values:
        np.testing.assert_allclose(
            result.dataset["plans"].sel(problem=name),
            serial.dataset["plans"].sel(problem=name),
            rtol=1e-12,
        )
    client.wait_for_workers(2, timeout=30)


def test_failing_problem_is_reported_and_the_others_complete(client, tmp_path):
    problems = portfolio()
    # Bounds that cannot hold the budget: this problem cannot be solved.
    problems[1] = replace(problems[1], bounds={"search": (0.0, 1.0), "social": (0.0, 1.0)})
    result = allocate_many(problems, client=client, output_dir=tmp_path, progress=False)
    assert list(result.failures) == ["north-6"]
    assert "ValueError" in result.failures["north-6"]
    assert result.summary.loc["north-6", "status"] == "failed"
    assert (result.summary.drop(index="north-6")["status"] == "converged").all()
    assert np.isnan(result.dataset["plans"].sel(problem="north-6")).all()
    assert "north-6" in (tmp_path / "report.html").read_text()
    record = json.loads((tmp_path / "problems" / "north-6.json").read_text())
    assert record["status"] == "failed" and record["result"] is None


def test_resume_skips_finished_problems(serial, tmp_path):
    problems = portfolio()
    first = allocate_many(problems[:3], workers=1, output_dir=tmp_path, progress=False)
    saved = {
        r["name"]: (tmp_path / "problems" / f"{r['name']}.json").read_text() for r in first.records
    }
    with pytest.raises(FileExistsError, match="resume=True"):
        allocate_many(problems, workers=1, output_dir=tmp_path, progress=False)
    resumed = allocate_many(problems, workers=1, output_dir=tmp_path, resume=True, progress=False)
    # Only the second market ran (one compile); the first market's files are untouched.
    assert resumed.compiles == 1
    for name, text in saved.items():
        assert (tmp_path / "problems" / f"{name}.json").read_text() == text
    assert_same_results(serial, resumed)
    assert {p.name for p in (tmp_path / "problems").glob("*.json")} == {
        f"{p.name}.json" for p in problems
    }


def test_resume_refuses_a_result_of_other_inputs(tmp_path):
    problems = portfolio()[:1]
    allocate_many(problems, workers=1, output_dir=tmp_path, progress=False)
    changed = [replace(problems[0], total_budget=5.0)]
    with pytest.raises(FileExistsError, match="other inputs"):
        allocate_many(changed, workers=1, output_dir=tmp_path, resume=True, progress=False)


def test_combined_results_round_trip_through_netcdf(serial, tmp_path):
    import xarray as xr

    serial.save(tmp_path)
    with xr.open_datatree(tmp_path / "portfolio.nc") as tree:
        combined = tree["portfolio"]
        np.testing.assert_array_equal(combined["plans"].values, serial.dataset["plans"].values)
        assert list(combined["market"].values) == ["north"] * 3 + ["south"] * 3
        for name, result in serial.results.items():
            saved = AllocationResult.from_datatree(tree["problems"][name])
            assert saved.equals(result)
            assert bool(saved.convergence["success"].all())
    with pytest.raises(FileExistsError, match="overwrite=True"):
        serial.save(tmp_path)


def test_a_lone_group_is_split_across_two_workers_and_equal_groups_are_not():
    views = market_views("north")
    lone = [Problem(f"p{b}", views, float(b), 2) for b in range(1, 41)]
    assert sorted(len(u) for u in _units(lone, True, 2)) == [20, 20]
    assert len(_units(lone, True, 1)) == 1  # serially a split only adds a compile
    markets = [market_views("north", seed) for seed in range(8)]
    eight = [Problem(f"m{i}-{b}", v, float(b), 2) for i, v in enumerate(markets) for b in range(5)]
    units = _units(eight, True, 2)
    assert [len(u) for u in units] == [5] * 8
    # Four groups per worker: the same work on each.
    assert sorted(_place(units, 2)[0]) == [0] * 4 + [1] * 4


def test_three_groups_on_two_workers_split_one_when_that_shortens_the_run():
    markets = [market_views("north", seed) for seed in range(3)]
    three = [Problem(f"m{i}-{b}", v, float(b), 2) for i, v in enumerate(markets) for b in range(5)]
    units = _units(three, True, 2)
    loads = _place(units, 2)[1]
    # Whole groups would give one worker 2 x (5 + compile) = 16 solves' work, the other 8.
    assert sorted(len(u) for u in units) == [2, 3, 5, 5]
    assert max(loads) == 2 * COMPILE_SOLVES + 8 < 2 * (5 + COMPILE_SOLVES)


def test_duplicate_problem_names_are_refused():
    problems = portfolio()
    problems[1] = replace(problems[1], name=problems[0].name)
    with pytest.raises(ValueError, match="Two problems are named 'north-4'"):
        allocate_many(problems, workers=1)


def test_unknown_label_is_refused():
    problem = replace(portfolio()[0], labels={"region": "EU"})
    with pytest.raises(ValueError, match=r"unknown labels \['region'\]"):
        allocate_many([problem], workers=1)


def test_unreachable_scheduler_fails_within_the_timeout():
    start = time.monotonic()
    with pytest.raises(ConnectionError, match="Could not reach a Dask scheduler"):
        allocate_many(portfolio()[:1], client="tcp://127.0.0.1:9", timeout=1.0, progress=False)
    assert time.monotonic() - start < 30


def test_problem_needs_two_views():
    with pytest.raises(ValueError, match="pass at least 2"):
        allocate_many([Problem("one", market_views("north")[:1], 4.0, 2)], workers=1)
