"""Shared objects of the docstring examples (``pytest --doctest-modules``).

Many examples use the same small, seeded objects: the demo's three views, a
compiled allocator and its result. Building them costs seconds, so each is built
once per session, and only when a docstring that uses it is first run. Every
docstring that uses one of these names says where it comes from.

========== ===================================================================
Name       Object
========== ===================================================================
views      ``demo_views(draws=100, random_seed=1)``: regression, experiment
           and attribution over search, social and display
bounds     ``{channel: (0.0, 60.0)}``: per-period bounds of every channel
current    ``{"search": 40.0, "social": 30.0, "display": 30.0}``: today's plan
allocator  ``RobustAllocator(views, num_periods=4)``
result     ``allocator.allocate(100.0, bounds, reference_plan=current,
           required_gain=0.002, weights={"experiment": 2.0})``
sweep      ``scale_sweep(allocator, "attribution", [1, 10], 100.0, bounds)``
frontier   ``allocator.frontier([80.0, 100.0, 120.0], bounds, progress=False)``
mmm        a PyMC-Marketing ``MMM`` (search, social; 40 weeks of synthetic data)
           built with seeded posterior draws in ``mmm.idata``, standing in for
           ``mmm.fit(X, y)``
mmm_view   ``MMMView("regression", mmm, "2024-09-01", "2024-10-06")``
portfolio  ``allocate_many`` of ``views`` at budgets 50 and 100 (problems
           ``demo-50``, ``demo-100``, market ``demo``), run serially
tmp_dir    a temporary folder (``pathlib.Path``) for files an example writes
========== ===================================================================
"""

from __future__ import annotations

import ast
import doctest
from collections.abc import Callable

import matplotlib
import pytest

matplotlib.use("Agg")

_BUILDERS: dict[str, Callable[[Callable[[str], object]], object]] = {}


def _shared(fn):
    _BUILDERS[fn.__name__.removeprefix("_build_")] = fn
    return fn


@_shared
def _build_views(get):
    from pymc_robust_alloc.demo import demo_views

    return demo_views(draws=100, random_seed=1)


@_shared
def _build_bounds(get):
    from pymc_robust_alloc.demo import CHANNELS

    return {c: (0.0, 60.0) for c in CHANNELS}


@_shared
def _build_current(get):
    return {"search": 40.0, "social": 30.0, "display": 30.0}


@_shared
def _build_allocator(get):
    from pymc_robust_alloc import RobustAllocator

    return RobustAllocator(get("views"), num_periods=4)


@_shared
def _build_result(get):
    return get("allocator").allocate(
        100.0,
        get("bounds"),
        reference_plan=get("current"),
        required_gain=0.002,
        weights={"experiment": 2.0},
    )


@_shared
def _build_sweep(get):
    from pymc_robust_alloc.sensitivity import scale_sweep

    return scale_sweep(get("allocator"), "attribution", [1, 10], 100.0, get("bounds"))


@_shared
def _build_frontier(get):
    return get("allocator").frontier([80.0, 100.0, 120.0], get("bounds"), progress=False)


@_shared
def _build_mmm(get):
    from tests.mmms import synthetic_mmm

    spend = {"search": (20, 60), "social": (10, 40)}
    return synthetic_mmm(
        spend, "2024-01-07", "W-SUN", level=100, noise=1, lam_high=3, beta_high=0.3, n_draws=40
    )


@_shared
def _build_mmm_view(get):
    from pymc_robust_alloc import MMMView

    return MMMView("regression", get("mmm"), "2024-09-01", "2024-10-06")


@_shared
def _build_portfolio(get):
    from pymc_robust_alloc.portfolio import Problem, allocate_many

    problems = [
        Problem(
            f"demo-{b:g}", get("views"), total_budget=b, num_periods=4, labels={"market": "demo"}
        )
        for b in (50.0, 100.0)
    ]
    return allocate_many(problems, workers=1, progress=False)


def _names_used(test: doctest.DocTest) -> set[str]:
    """Names a docstring reads before (or without) assigning them itself."""
    assigned: set[str] = set()
    used: set[str] = set()
    for example in test.examples:
        try:
            tree = ast.parse(example.source)
        except SyntaxError:
            continue
        nodes = sorted(
            (n for n in ast.walk(tree) if isinstance(n, ast.Name)),
            key=lambda n: (n.lineno, n.col_offset),
        )
        for node in nodes:
            if isinstance(node.ctx, ast.Store):
                assigned.add(node.id)
            elif node.id not in assigned:
                used.add(node.id)
    return used


@pytest.fixture(scope="session")
def _shared_objects(tmp_path_factory):
    cache: dict[str, object] = {}

    def get(name: str) -> object:
        if name == "tmp_dir":
            return tmp_path_factory.mktemp("doctest")
        if name not in cache:
            cache[name] = _BUILDERS[name](get)
        return cache[name]

    return get


@pytest.fixture(autouse=True)
def _doctest_shared_names(request, doctest_namespace):
    """Put the shared objects a docstring example uses into its namespace."""
    test = getattr(request.node, "dtest", None)
    if test is None:
        return
    get = request.getfixturevalue("_shared_objects")
    names = _names_used(test) & {*_BUILDERS, "tmp_dir"}
    if names & {"allocator", "sweep", "frontier"}:
        # Build result on the allocator before any example solves on it.
        names.add("result")
    for name in sorted(names):
        doctest_namespace[name] = get(name)
