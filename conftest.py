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
fit_result ``fit_least_squares(table, n_draws=20, random_seed=0)``: a
           Michaelis-Menten fit of one channel, ``tv``, to 20 noisy points
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
    import numpy as np
    import pandas as pd
    import xarray as xr
    from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation

    channels = ["search", "social"]
    rng = np.random.default_rng(0)
    n_weeks, n_draws = 40, 40
    X = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-07", periods=n_weeks, freq="W-SUN"),
            "search": rng.uniform(20, 60, n_weeks),
            "social": rng.uniform(10, 40, n_weeks),
        }
    )
    y = pd.Series(100 + rng.normal(0, 1, n_weeks), name="y")
    mmm = MMM(
        date_column="date",
        channel_columns=channels,
        adstock=GeometricAdstock(l_max=2),
        saturation=LogisticSaturation(),
    )
    mmm.build_model(X, y)
    per_channel = ("chain", "draw", "channel")
    shape = (1, n_draws, len(channels))
    posterior = xr.Dataset(
        {
            "adstock_alpha": (per_channel, rng.uniform(0.3, 0.6, shape)),
            "saturation_lam": (per_channel, rng.uniform(1, 3, shape)),
            "saturation_beta": (per_channel, rng.uniform(0.1, 0.3, shape)),
            "intercept_contribution": (("chain", "draw"), rng.uniform(0.5, 0.7, shape[:2])),
            "y_sigma": (("chain", "draw"), rng.uniform(0.01, 0.02, shape[:2])),
        },
        coords={"chain": [0], "draw": np.arange(n_draws), "channel": channels},
    )
    # As after `mmm.fit(X, y)`: the fit data and the attrs `mmm.save` writes.
    mmm.idata = xr.DataTree.from_dict(
        {"posterior": posterior, "fit_data": mmm.create_fit_data(X, y)}
    )
    mmm.set_idata_attrs(mmm.idata)
    return mmm


@_shared
def _build_mmm_view(get):
    from pymc_robust_alloc import MMMView

    return MMMView("regression", get("mmm"), "2024-09-01", "2024-10-06")


@_shared
def _build_fit_result(get):
    import numpy as np
    import pandas as pd

    from pymc_robust_alloc.fit import fit_least_squares

    rng = np.random.default_rng(0)
    x = np.linspace(0.5, 10, 20)
    table = pd.DataFrame(
        {
            "date": range(20),
            "channel": "tv",
            "spend": x,
            "response": 3 * x / (2 + x) + rng.normal(0, 0.05, 20),
        }
    )
    return fit_least_squares(table, n_draws=20, random_seed=0)


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
