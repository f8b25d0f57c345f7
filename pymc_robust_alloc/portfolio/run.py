"""Run a portfolio's problems: serially, on a local Dask cluster, or on any Dask cluster."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError
from dataclasses import replace
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from pymc_robust_alloc.allocator import RobustAllocator
from pymc_robust_alloc.portfolio.problem import (
    Problem,
    ViewSource,
    check_problems,
    fingerprint,
    views_key,
)
from pymc_robust_alloc.portfolio.result import PortfolioResult

__all__ = ["allocate_many"]

#: A compile costs about this many solves (blog-sized views: 4.2 s against 1.5 s).
COMPILE_SOLVES = 3
#: Compiled allocators a worker keeps (most recently used first out).
CACHE_SIZE = 4
#: Seconds to wait for a scheduler (and its first worker) before giving up.
CONNECT_TIMEOUT = 10.0
#: Times a problem is re-run after its worker died.
RETRIES = 2
PROBLEMS = "problems"
#: Dask settings of the local cluster: no work stealing (a stolen problem costs its thief
#: a compile), no statistical profiler (it samples the solving thread every 10 ms).
CLUSTER_CONFIG = {
    "distributed.scheduler.work-stealing": False,
    "distributed.worker.profile.enabled": False,
}

_ALLOCATORS: OrderedDict[str, RobustAllocator] = OrderedDict()


def allocate_many(
    problems: Sequence[Problem],
    *,
    client: Any = None,
    workers: int | None = None,
    output_dir: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    seed: int = 0,
    group: bool = True,
    retries: int = RETRIES,
    timeout: float = CONNECT_TIMEOUT,
    progress: bool = True,
) -> PortfolioResult:
    """Allocate every problem of a portfolio, in parallel on Dask.

    Problems sharing views (the same views at several budgets or scenarios) run
    on one worker against one compiled
    :class:`~pymc_robust_alloc.RobustAllocator`; views are sent to the cluster
    once (scattered); every problem is seeded by name, so results do not depend
    on where or in which order problems run. A problem that fails is reported
    with its error and the others complete; a problem whose worker dies is re-run
    elsewhere.

    Parameters
    ----------
    problems : sequence of Problem
        The portfolio (see :func:`~pymc_robust_alloc.portfolio.load_portfolio` for
        config files).
    client : distributed.Client or str, optional
        An existing Dask client, or a scheduler address such as
        ``"tcp://10.0.0.1:8786"``. Default: a local cluster of ``workers``
        processes, started and closed here.
    workers : int, optional
        Worker processes of the local cluster (default: one per core). ``1`` runs
        the problems one after the other in this process, without Dask; results
        are identical.
    output_dir : str or pathlib.Path, optional
        Write each problem's result as it finishes (``problems/<name>.json``)
        and, at the end, the combined ``portfolio.nc``, ``summary.csv`` and
        ``report.html``.
    resume : bool, default False
        Keep the results already in ``output_dir`` whose inputs are unchanged and
        run only the other problems (failed ones are run again).
    overwrite : bool, default False
        Replace the results in ``output_dir``. Without it (or ``resume``), an
        existing result stops the run before anything is computed.
    seed : int, default 0
        Seed of the problems' random starts (problem ``seed`` given explicitly
        wins).
    group : bool, default True
        Share one compiled allocator between problems with the same views;
        ``False`` compiles one per problem (for comparison).
    retries : int, default 2
        Re-runs of a problem after its worker died.
    timeout : float, default 10
        Seconds to wait for a scheduler given by address.
    progress : bool, default True
        Show a progress bar over problems (Dask's, in the terminal or Jupyter).

    Returns
    -------
    PortfolioResult

    Raises
    ------
    ConnectionError
        If the scheduler at ``client`` cannot be reached within ``timeout``.

    Examples
    --------
    Two problems on the demo's ``views``, run serially (``workers=2`` would start
    a local cluster):

    >>> from pymc_robust_alloc.portfolio import Problem, allocate_many
    >>> problems = [Problem(f"demo-{b:g}", views, total_budget=b, num_periods=4,
    ...                     labels={"market": "demo"}) for b in (50.0, 100.0)]
    >>> portfolio = allocate_many(problems, workers=1, progress=False)
    >>> portfolio.summary["status"].tolist(), portfolio.compiles
    (['converged', 'converged'], 1)
    """
    problems = check_problems(problems, seed)
    out = None if output_dir is None else Path(output_dir)
    prints = {p.name: fingerprint(p) for p in problems}
    records = _saved(out, prints, resume=resume, overwrite=overwrite) if out else {}
    todo = [p for p in problems if p.name not in records]
    run = uuid.uuid4().hex[:8]

    def finish(record: dict[str, Any]) -> None:
        record["fingerprint"] = prints[record["name"]]
        records[record["name"]] = record
        if out is not None:
            _write_json(out / PROBLEMS / f"{record['name']}.json", record)

    if todo and workers == 1 and client is None:
        cache: OrderedDict[str, RobustAllocator] = OrderedDict()
        units = _units(todo, group, 1)
        bar = tqdm(total=len(todo), desc="problems", disable=not progress)
        with bar:
            for i, unit in enumerate(units):
                for problem in unit:
                    finish(solve(_light(problem), problem.views, f"{run}-{i}", cache))
                    bar.update()
    elif todo:
        with _connect(client, workers, timeout) as dask_client:
            _run_on_dask(dask_client, todo, group, run, finish, retries, progress)
    result = PortfolioResult.from_records([records[p.name] for p in problems])
    if out is not None:
        result.save(out, overwrite=True)
    return result


def solve(
    problem: Problem,
    views: Any,
    key: str,
    cache: OrderedDict[str, RobustAllocator] | None = None,
) -> dict[str, Any]:
    """Solve one problem where it runs; never raises: a failure is a record too.

    The compiled allocator of ``key`` is reused if ``cache`` (by default this
    process's) holds it; ``compiled`` in the record says whether it was built here.
    BLAS runs on one thread, so results do not depend on the process's thread settings.
    """
    start, cpu = time.perf_counter(), time.process_time()
    record = _record(problem)
    try:
        # One BLAS thread, as on a Dask worker: sums in the same order wherever it runs.
        with threadpool_limits(1), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            allocator, record["compiled"] = _allocator(
                key, views, problem, _ALLOCATORS if cache is None else cache
            )
            result = allocator.allocate(**problem.allocate_kwargs())
        record["result"] = result.to_dict()
        record["status"] = "converged" if result.converged else "not converged"
        record["warnings"] = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    except Exception as err:  # reported in the record; the others run on
        record["error"] = f"{type(err).__name__}: {err}"
    record["seconds"] = time.perf_counter() - start
    record["cpu_seconds"] = time.process_time() - cpu
    return record


def _record(problem: Problem) -> dict[str, Any]:
    return {
        "name": problem.name,
        "labels": dict(problem.labels),
        "seed": problem.seed,
        "fingerprint": None,
        "status": "failed",
        "error": None,
        "warnings": [],
        "compiled": False,
        "resumed": False,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "result": None,
        "seconds": float("nan"),
        "cpu_seconds": float("nan"),
    }


def _allocator(key: str, views: Any, problem: Problem, cache: OrderedDict) -> tuple[Any, bool]:
    if key in cache:
        cache.move_to_end(key)
        return cache[key], False
    if isinstance(views, ViewSource):
        views = views.build()
    allocator = RobustAllocator(views, problem.num_periods, n_draws=problem.n_draws)
    cache[key] = allocator
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return allocator, True


def _units(problems: Sequence[Problem], group: bool, n_workers: int) -> list[list[Problem]]:
    """Problems sharing views and settings; a group is split while that shortens the run.

    Splitting costs a compile on the second worker, so a group is split only when the
    longest worker's work (:func:`_place`) falls.
    """
    ids: dict[tuple[int, ...], str] = {}
    groups: dict[str, list[Problem]] = {}
    for problem in problems:
        key = repr((views_key(problem, ids), problem.num_periods, problem.n_draws))
        groups.setdefault(key if group else problem.name, []).append(problem)
    units = list(groups.values())
    while units and len(largest := max(units, key=len)) > 1:
        half = len(largest) // 2
        split = [u for u in units if u is not largest] + [largest[:half], largest[half:]]
        if max(_place(split, n_workers)[1]) >= max(_place(units, n_workers)[1]):
            break
        units = split
    return units


def _place(units: Sequence[Sequence[Problem]], n_workers: int) -> tuple[list[int], list[int]]:
    """Longest unit first onto the least loaded worker; return each unit's worker and the loads.

    A unit costs one compile (``COMPILE_SOLVES`` solves) and one solve per problem.
    """
    loads = [0] * n_workers
    where = [0] * len(units)
    for i in sorted(range(len(units)), key=lambda i: -len(units[i])):
        where[i] = loads.index(min(loads))
        loads[where[i]] += len(units[i]) + COMPILE_SOLVES
    return where, loads


def _run_on_dask(
    client,
    problems,
    group: bool,
    run: str,
    finish: Callable[[dict], None],
    retries: int,
    progress: bool,
) -> None:
    """Place each unit on one worker (:func:`_place`), stream the results back.

    A worker that dies takes its tasks and the views scattered to it: Dask re-runs the
    tasks elsewhere; a task whose views were lost is resubmitted here with the views
    scattered again (at most ``retries`` times per problem).
    """
    from distributed import as_completed

    addresses = sorted(client.scheduler_info()["workers"])
    units = _units(problems, group, len(addresses))
    scattered: dict[int, Any] = {}

    def views_of(i: int, worker: str | None) -> Any:
        views = units[i][0].views
        if isinstance(views, ViewSource):
            return views
        if i not in scattered or scattered[i].status != "finished":
            # Sent once per unit, to the worker that runs it.
            [scattered[i]] = client.scatter(
                [list(views)], workers=[worker] if worker else None, hash=False
            )
        return scattered[i]

    def submit(i: int, problem: Problem, worker: str | None, priority: int, attempt: int):
        return client.submit(
            solve,
            _light(problem),
            views_of(i, worker),
            f"{run}-{i}",
            key=f"solve-{run}-{problem.name}-{attempt}",
            workers=[worker] if worker else None,
            allow_other_workers=bool(worker),
            retries=retries,
            priority=priority,
        )

    futures = {}
    queued = dict.fromkeys(addresses, 0)
    where, _ = _place(units, len(addresses))
    for i in sorted(range(len(units)), key=lambda i: -len(units[i])):
        worker = addresses[where[i]]
        for problem in units[i]:
            # A worker runs its units one after the other, in placement order.
            futures[submit(i, problem, worker, -queued[worker], 0)] = (i, problem, 0)
            queued[worker] += 1
    if progress:
        _show_progress(client, list(futures))
    pending = as_completed(list(futures))
    for future in pending:
        i, problem, attempt = futures.pop(future)
        record = _result(future)
        if record is not None:
            finish(record)
        elif future.status != "error" and attempt < retries:
            retry = submit(i, problem, None, 0, attempt + 1)
            futures[retry] = (i, problem, attempt + 1)
            pending.add(retry)
        else:
            finish(_lost(problem, future))
        future.release()  # written: a worker dying now need not recompute it


def _result(future) -> dict[str, Any] | None:
    """Return a future's record, or ``None`` if it was cancelled or lost with its worker.

    A result still held by a worker that dies is lost even after the task finished.
    """
    if future.status != "finished":
        return None
    try:
        return future.result()
    except CancelledError:
        return None


def _show_progress(client, futures: list) -> None:
    """Dask's progress bar (a widget in Jupyter, text in a terminal), updated off this thread."""
    from distributed.diagnostics.progressbar import ProgressWidget, TextProgressBar
    from distributed.utils import is_kernel

    if is_kernel():
        from IPython.display import display

        bar = ProgressWidget(futures, complete=True)
        display(bar.widget)
    else:
        bar = TextProgressBar(futures, start=False, loop=client.loop)
    client.loop.add_callback(bar.listen)


def _lost(problem: Problem, future) -> dict[str, Any]:
    """Record a problem Dask could not run (e.g. its workers kept dying)."""
    record = _record(problem)
    record["worker"] = None
    try:
        future.result()
        record["error"] = "cancelled"
    except Exception as err:  # the error is the record
        record["error"] = f"{type(err).__name__}: {err}"
    return record


@contextlib.contextmanager
def local_cluster(workers: int) -> Iterator[Any]:
    """Yield a client of a local cluster: ``workers`` one-thread processes, ``CLUSTER_CONFIG``."""
    import dask
    from distributed import Client, LocalCluster

    with (
        dask.config.set(CLUSTER_CONFIG),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextlib.contextmanager
def _connect(client: Any, workers: int | None, timeout: float) -> Iterator[Any]:
    """Yield the client to run on: the caller's, one at an address, or a local cluster's."""
    from distributed import Client

    if client is None:
        with local_cluster(workers or os.cpu_count() or 1) as local:
            yield local
        return
    if not isinstance(client, str):
        _wait_for_workers(client, str(client.scheduler.address), timeout)
        yield client
        return
    try:
        remote = Client(client, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as err:
        raise ConnectionError(
            f"Could not reach a Dask scheduler at {client!r} within {timeout:g} s ({err}). "
            "Check the address (e.g. tcp://10.0.0.1:8786) and that the scheduler is running, "
            "or leave the scheduler out to start a local cluster."
        ) from None
    with remote:
        _wait_for_workers(remote, client, timeout)
        yield remote


def _wait_for_workers(client: Any, address: str, timeout: float) -> None:
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ConnectionError(
            f"The Dask scheduler at {address!r} has no workers (waited {timeout:g} s). "
            f"Start some (`dask worker {address}`) and run again."
        ) from None


def _saved(
    out: Path, prints: dict[str, str], *, resume: bool, overwrite: bool
) -> dict[str, dict[str, Any]]:
    """Results already in ``out``: kept on resume (same inputs, not failed), else refused."""
    folder = out / PROBLEMS
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files or overwrite:
        return {}
    if not resume:
        raise FileExistsError(
            f"'{out}' already holds results of {len(files)} problems. Pass resume=True "
            "(CLI: --resume) to keep them and run the rest, overwrite=True (--overwrite) "
            "to run everything again, or choose another folder."
        )
    kept = {}
    for file in files:
        record = json.loads(file.read_text())
        name = record.get("name")
        if name not in prints or record.get("status") == "failed":
            continue
        if record.get("fingerprint") != prints[name]:
            raise FileExistsError(
                f"The saved result of problem {name!r} in '{file}' was computed from other "
                "inputs (budget, bounds, views or seed changed). Pass overwrite=True "
                "(CLI: --overwrite) to run it again, or choose another folder."
            )
        kept[name] = record | {"resumed": True}
    return kept


def _write_json(path: Path, record: dict[str, Any]) -> None:
    """Write atomically: an interrupted run never leaves half a file to resume from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(record, indent=1))
    partial.replace(path)


def _light(problem: Problem) -> Problem:
    """Drop a problem's views, which travel separately (once per worker)."""
    return replace(problem, views=())
