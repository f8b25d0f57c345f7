"""Run a config: fit its views, allocate, solve the frontier and write the outputs."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from pymc_extras.prior import Prior

from pymc_robust_alloc import fit
from pymc_robust_alloc.allocator import RobustAllocator
from pymc_robust_alloc.config.constraints import build_constraints, resolve_function
from pymc_robust_alloc.config.load import load_config, output_folder
from pymc_robust_alloc.config.schema import (
    OBJECTIVES,
    ConfigError,
    FunctionConstraint,
    RunConfig,
    ViewConfig,
)
from pymc_robust_alloc.config.write import (
    FRONTIER_FILES,
    check_new_files,
    output_names,
    write_frontier,
    write_outputs,
)
from pymc_robust_alloc.views.mmm import MMMView

__all__ = [
    "ConfigRun",
    "allocation_kwargs",
    "bounds_array",
    "fit_view",
    "fit_views",
    "run_config",
    "run_frontier",
]


@dataclass
class ConfigRun:
    """What :func:`run_config` produced.

    The validated ``config``, each view's ``fits`` (``FitResult``), the
    allocation ``result`` and every file written (``files``).
    """

    config: RunConfig
    fits: dict
    result: Any
    files: list[Path] = field(default_factory=list)


def run_config(
    path: str | Path,
    output_dir: str | Path | None = None,
    overwrite: bool = False,
    *,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
) -> ConfigRun:
    """Fit the views of a config file, allocate, and write everything to a folder.

    Writes ``plans.csv``, ``regret_matrix.csv``, ``result.json`` and
    ``result.nc`` (loaded back by :meth:`AllocationResult.from_json` and
    :meth:`AllocationResult.from_netcdf`), ``fit_summary.csv``, ``plans.png``,
    ``regret.png``, ``fit_<view>.png`` and ``report.html`` (self-contained);
    with the ``success`` objective also ``success_matrix.csv`` and
    ``success.png``; with a ``frontier:`` section also the files of
    :func:`run_frontier`. Input files are only read.

    Parameters
    ----------
    path : str or pathlib.Path
        YAML or TOML config (see :func:`load_config`).
    output_dir : str or pathlib.Path, optional
        Output folder; defaults to the config's ``output`` key, else
        ``<config name>_output`` next to the config.
    overwrite : bool, default False
        Replace existing output files. Without it, an existing file stops the
        run before anything is fitted or written.
    progress : bool, default True
        Report each step (fits, compilation, solves, writing) as it starts and
        how long it took.
    echo : callable, optional
        Receives the progress messages; defaults to printing them on stderr.

    Returns
    -------
    ConfigRun

    Examples
    --------
    The run of the shipped example fits a PyMC model (``+SKIP``: over 20 s).
    ``tmp_dir`` is a folder to write to.

    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> run = run_config(example, output_dir=tmp_dir, progress=False)  # doctest: +SKIP
    >>> run.result.regret_matrix["max regret"].idxmin()  # doctest: +SKIP
    'minimax'
    """
    started = time.perf_counter()
    step = _echo(echo) if progress else _silent
    config, base = load_config(path)
    if config.portfolio:
        raise ConfigError(
            f"{path} declares a portfolio of {len(config.portfolio)} problems; run it with "
            "`robust-alloc run-many` (or pymc_robust_alloc.portfolio.allocate_many)."
        )
    out = Path(output_dir) if output_dir is not None else output_folder(path, config, base)
    check_new_files([out / n for n in output_names(config)], overwrite)
    _objective_kwargs(config)  # a bad setting fails before the fits
    _check_constraint_functions(config)
    step(f"Read {Path(path).name}: {len(config.views)} views, objectives {config.chosen}.")
    built = fit_views(config.views, base, config.seed, step=step)
    fits = {n: f for n, f in built.items() if not isinstance(f, MMMView)}
    views = [getattr(f, "view", f) for f in built.values()]
    step(f"Merging {len(views)} views into one graph and compiling ...")
    tic = time.perf_counter()
    allocator = _allocator(config, views)
    draws = ", ".join(f"{v} {n}" for v, n in allocator.merged.view_draws.items())
    step(
        f"Compiled in {time.perf_counter() - tic:.1f} s. Solving the plans "
        f"({allocator.num_periods} periods; draws per view: {draws}) ..."
    )
    tic = time.perf_counter()
    kwargs = allocation_kwargs(config, allocator.budget_coords)
    result = allocator.allocate(config.budget.total, units=config.units, **kwargs)
    step(f"Solved in {time.perf_counter() - tic:.1f} s. Writing outputs to {out} ...")
    frontier = None
    if config.frontier is not None:
        step(f"Solving the budget frontier at {config.frontier.budgets} ...")
        frontier = _frontier(allocator, config, config.frontier.budgets, kwargs, progress)
    files = write_outputs(
        out,
        config,
        fits,
        dict(zip(config.views, views, strict=True)),
        result,
        inputs={name: base / view.path for name, view in config.views.items()},
        frontier=frontier,
    )
    if frontier is not None:
        files += write_frontier(out, frontier, config.frontier.plan, config.interval)
    step(f"Done in {time.perf_counter() - started:.1f} s.")
    return ConfigRun(config=config, fits=fits, result=result, files=files)


def run_frontier(
    path: str | Path,
    budgets: list[float] | None = None,
    output_dir: str | Path | None = None,
    overwrite: bool = False,
    *,
    progress: bool = True,
):
    """Fit the views of a config file and solve every plan family across budgets.

    Writes ``frontier.csv`` (one row per budget, plan and view),
    ``frontier.nc`` (the labelled Dataset) and ``frontier.png``.

    Parameters
    ----------
    path : str or pathlib.Path
        YAML or TOML config (see :func:`load_config`).
    budgets : list of float, optional
        Budgets per period; default the config's ``frontier.budgets``.
    output_dir : str or pathlib.Path, optional
        Output folder, as in :func:`run_config`.
    overwrite : bool, default False
        Replace existing output files.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    Frontier

    Examples
    --------
    Fitting the example's views takes over 20 s (``+SKIP``).

    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> frontier = run_frontier(example, [40, 60, 80], tmp_dir)  # doctest: +SKIP
    >>> frontier.plans.dims  # doctest: +SKIP
    ('total_budget', 'plan', 'channel')
    """
    config, base = load_config(path)
    if budgets is None:
        if config.frontier is None:
            raise ConfigError(
                f"{Path(path).name} has no `frontier:` section and no budgets were given; "
                "add `frontier: {budgets: [40, 60, 80]}` or pass the budgets "
                "(CLI: --budgets 40,60,80)."
            )
        budgets = config.frontier.budgets
    out = Path(output_dir) if output_dir is not None else output_folder(path, config, base)
    check_new_files([out / n for n in FRONTIER_FILES], overwrite)
    _objective_kwargs(config)
    _check_constraint_functions(config)
    built = fit_views(config.views, base, config.seed)
    allocator = _allocator(config, [getattr(f, "view", f) for f in built.values()])
    kwargs = allocation_kwargs(config, allocator.budget_coords)
    frontier = _frontier(allocator, config, budgets, kwargs, progress)
    plan = config.frontier.plan if config.frontier else None
    write_frontier(out, frontier, plan, config.interval)
    return frontier


def allocation_kwargs(
    config: RunConfig, budget_coords: Mapping[str, Sequence] | None = None
) -> dict[str, Any]:
    """Bounds, candidates, constraints and objective settings of a config, as ``allocate`` keywords.

    ``budget_coords`` (the views' budget dims, ``RobustAllocator.budget_coords``)
    turn per-cell bounds into a DataArray and ``constraints:`` into
    PyMC-Marketing ``Constraint`` objects; without them per-channel bounds stay
    a dict and constraints are left out.

    Examples
    --------
    >>> config = RunConfig.model_validate({
    ...     "views": {}, "budget": {"total": 60.0, "num_periods": 8},
    ...     "objectives": {"minimax": True, "risk_averse": {"quantile": 0.1}},
    ... })
    >>> kwargs = allocation_kwargs(config)
    >>> kwargs["quantile"], kwargs["bounds"], kwargs["regret"]
    (0.1, None, 'ratio')
    """
    bounds = config.budget.bounds or None
    if bounds is not None and budget_coords is not None:
        bounds = bounds_array(bounds, budget_coords, config.budget.total)
    elif bounds is not None and any(isinstance(v, Mapping) for v in bounds.values()):
        raise ConfigError(
            "budget.bounds gives bounds per cell (e.g. per geo); they are laid on the views' "
            "budget cells, so pass the views' budget_coords (run_config does)."
        )
    elif bounds is not None:
        bounds = {k: tuple(v) for k, v in bounds.items()}
    candidates = None
    if config.candidates:
        candidates = {
            k: xr.DataArray(pd.Series(v, name="spend").rename_axis("channel"))
            for k, v in config.candidates.items()
        }
    kwargs: dict[str, Any] = {"bounds": bounds, "candidates": candidates}
    if config.constraints and budget_coords is not None:
        kwargs["constraints"] = build_constraints(config.constraints, budget_coords)
    return kwargs | _objective_kwargs(config)


def _objective_kwargs(config: RunConfig) -> dict[str, Any]:
    """Keywords of ``allocate`` for the objectives, the regret and its reference."""
    kwargs: dict[str, Any] = {}
    for name in config.chosen:
        kwargs.update(OBJECTIVES[name](config.objectives[name]))
    return kwargs | _regret_arguments(config, kwargs.get("reference_plan"))


def bounds_array(
    bounds: Mapping[str, Any], budget_coords: Mapping[str, Sequence], total: float
) -> xr.DataArray | dict:
    """Lay a config's bounds on the views' budget cells.

    ``{channel: [low, high]}`` applies to every cell of the channel;
    ``{channel: {label: [low, high]}}`` sets cells along the views' second
    budget dim (e.g. ``geo``). Cells left out are ``(0, total)``. Per-channel
    bounds come back as a dict, per-cell ones as a DataArray with dims
    ``(*budget_dims, "bound")``.

    Examples
    --------
    >>> coords = {"channel": ["tv", "web"], "geo": ["north", "south"]}
    >>> cells = bounds_array({"tv": {"north": (0, 20)}, "web": (5, 50)}, coords, 100.0)
    >>> cells.sel(bound="upper").values.tolist()
    [[20.0, 100.0], [50.0, 50.0]]
    """
    if not any(isinstance(v, Mapping) for v in bounds.values()):
        return {k: tuple(v) for k, v in bounds.items()}
    dims = list(budget_coords)
    if len(dims) != 2:
        raise ConfigError(
            f"budget.bounds gives bounds per cell, but the views' budget dims are {dims}; "
            "per-cell bounds need exactly one dim besides channel (e.g. geo)."
        )
    cells = xr.DataArray(
        np.array([0.0, total]) * np.ones([len(c) for c in budget_coords.values()] + [2]),
        coords={**{d: list(c) for d, c in budget_coords.items()}, "bound": ["lower", "upper"]},
        dims=[*dims, "bound"],
    )
    for channel, pairs in bounds.items():
        if channel not in cells["channel"]:
            raise ConfigError(
                f"budget.bounds names unknown channel {channel!r}; the views' channels are "
                f"{list(budget_coords['channel'])}."
            )
        if not isinstance(pairs, Mapping):
            pairs = dict.fromkeys(budget_coords[dims[1]], pairs)
        for label, pair in pairs.items():
            if label not in cells[dims[1]]:
                raise ConfigError(
                    f"budget.bounds.{channel} names unknown {dims[1]} {label!r}; the views' "
                    f"{dims[1]} labels are {list(budget_coords[dims[1]])}."
                )
            cells.loc[{"channel": channel, dims[1]: label}] = list(pair)
    return cells


def fit_views(
    views: Mapping[str, ViewConfig],
    base: Path,
    seed: int,
    *,
    step: Callable[[str], None] | None = None,
) -> dict:
    """Fit every view of a config (view ``i`` seeded ``seed + i``); check their channels.

    Returns each view's fit (a ``FitResult``), or the ``MMMView`` of an ``mmm``
    source; ``step`` receives a message as each view starts and ends.

    Examples
    --------
    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> config, base = load_config(example)
    >>> fits = fit_views({"vendor": config.views["vendor"]}, base, seed=1)
    >>> fits["vendor"].view.channels
    ('search', 'social', 'display')
    """
    step = step or _silent
    built = {}
    for i, (name, view) in enumerate(views.items()):
        what = "loading" if view.source in ("draws", "posterior", "mmm") else "fitting"
        step(f"View {name!r}: {what} {view.path} ({view.source}) ...")
        tic = time.perf_counter()
        built[name] = fit_view(name, view, base, seed=seed + i)
        step(f"View {name!r}: done in {time.perf_counter() - tic:.1f} s.")
    _check_channels({n: getattr(f, "view", f) for n, f in built.items()})
    return built


def fit_view(name: str, spec: ViewConfig, base: Path, *, seed: int | None = None):
    """Build one view of a config: read its file and fit it (an MMM is loaded as it is)."""
    seed = spec.seed if spec.seed is not None else seed
    path = base / spec.path
    if spec.evidence is not None and spec.source in ("table", "lift_tests", "mmm"):
        raise ConfigError(
            f"views.{name}.evidence: a {spec.source} source knows the spend its data cover; "
            "declare evidence only for draws and posterior sources."
        )
    if spec.source == "mmm":
        return MMMView.from_file(name, path, str(spec.start_date), str(spec.end_date))
    sampling = {"draws": spec.draws, "tune": spec.tune, "chains": spec.chains, "random_seed": seed}
    if spec.source == "table" and spec.method == "least_squares":
        return fit.fit_least_squares(
            fit.read_table(path),
            name,
            spec.saturation,
            spec.adstock,
            n_draws=spec.n_draws,
            bootstrap=spec.bootstrap,
            random_seed=seed,
            date_format=spec.date_format,
            **spec.columns,
        )
    if spec.source == "table":
        return fit.fit_bayesian(
            fit.read_table(path),
            name,
            spec.saturation,
            spec.adstock,
            priors=_priors(spec.priors),
            date_format=spec.date_format,
            **sampling,
            **spec.columns,
        )
    if spec.source == "lift_tests":
        untested = {c: _priors(p) for c, p in (spec.untested_priors or {}).items()} or None
        return fit.fit_lift_tests(
            fit.read_table(path),
            name,
            spec.saturation,
            priors=_priors(spec.priors),
            untested_priors=untested,
            **sampling,
        )
    draws = fit.read_table(path) if spec.source == "draws" else _open_posterior(path)
    if "model_type" in draws.attrs and "fit_data" in getattr(draws, "children", {}):
        raise ConfigError(
            f"View {name!r}: '{spec.path}' is a saved {draws.attrs['model_type']} model, "
            "not a table of curve parameters. Use `source: mmm` with `start_date` and "
            "`end_date` to plan with the model itself."
        )
    return fit.view_from_draws(draws, name, spec.saturation, spec.adstock, evidence=spec.evidence)


def _allocator(config: RunConfig, views: list) -> RobustAllocator:
    return RobustAllocator(
        views,
        config.budget.num_periods,
        n_draws=config.n_draws,
        budget_distribution_over_period=config.budget.budget_distribution_over_period,
        cost_per_unit=config.budget.cost_per_unit,
    )


def _frontier(allocator, config: RunConfig, budgets, kwargs: Mapping, progress: bool):
    # A frontier solves the regret plan families (success needs a reference per budget);
    # risk-averse plans only when asked for, as they cost several times more.
    names = ["weights", "constraints"]
    if config.frontier and config.frontier.risk_averse:
        names.append("quantile")
    keep = {k: v for k, v in kwargs.items() if k in names}
    return allocator.frontier(
        budgets, kwargs.get("bounds"), units=config.units, progress=progress, **keep
    )


def _regret_arguments(config: RunConfig, success_reference: dict | None) -> dict:
    """Keyword arguments of ``allocate`` for the regret and its reference."""
    out: dict[str, Any] = {
        "regret": config.regret,
        "extrapolation_threshold": config.extrapolation_threshold,
    }
    given = config.reference_plan
    if given is not None and success_reference is not None and given != success_reference:
        raise ConfigError(
            "`reference_plan` and the success objective's `reference_plan` differ; give "
            "one reference plan (the plan relative regret and success are measured on)."
        )
    if config.regret == "relative" and given is None and success_reference is None:
        raise ConfigError(
            "`regret: relative` measures each view against a reference plan: add "
            "`reference_plan: {channel: spend per period, ...}` (e.g. today's plan)."
        )
    if given is not None and success_reference is None:
        out.update(reference_plan={str(k): float(v) for k, v in given.items()}, success=False)
    return out


def _check_constraint_functions(config: RunConfig) -> None:
    for spec in config.constraints:
        if isinstance(spec, FunctionConstraint):
            resolve_function(spec)


def _open_posterior(path: Path) -> xr.DataTree:
    engine = "zarr" if path.suffix.lower() == ".zarr" else None
    try:
        with xr.open_datatree(path, engine=engine) as tree:
            return tree.load()
    except ImportError as err:
        raise ImportError(
            f"Reading '{path}' needs the zarr package: `pip install zarr`, or save "
            "the posterior as NetCDF (`tree.to_netcdf('posterior.nc')`)."
        ) from err


def _priors(specs: Mapping[str, Mapping] | None) -> dict[str, Prior] | None:
    if not specs:
        return None
    out = {}
    for param, spec in specs.items():
        spec = dict(spec)
        if "distribution" not in spec:
            raise ConfigError(
                f"The prior of {param!r} needs a `distribution`, e.g. "
                f"{{distribution: HalfNormal, sigma: 1}}; got {spec}."
            )
        out[param] = Prior(spec.pop("distribution"), **spec)
    return out


def _check_channels(views: Mapping) -> None:
    labels = {name: set(v.channels) for name, v in views.items()}
    first, reference = next(iter(labels.items()))
    for name, have in labels.items():
        if have != reference:
            raise ValueError(
                f"Channel labels do not match across views: {first!r} has "
                f"{sorted(reference)}, {name!r} has {sorted(have)} (only in {first!r}: "
                f"{sorted(reference - have)}, only in {name!r}: "
                f"{sorted(have - reference)}). "
                "Rename the labels in the files so every view names the same channels."
            )


def _echo(echo: Callable[[str], None] | None) -> Callable[[str], None]:
    return echo or (lambda message: print(message, file=sys.stderr, flush=True))


def _silent(message: str) -> None:
    pass
