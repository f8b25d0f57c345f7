"""Run the whole decision from a YAML or TOML file.

A config names the views (each fitted from a file), the budget and the
objectives; :func:`run_config` fits the views, allocates and writes the plans,
the regret matrix, the plots and an HTML report to an output folder. See
``pymc_robust_alloc/examples/config.yaml`` for a complete example.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import xarray as xr
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "OBJECTIVES",
    "ConfigError",
    "ConfigRun",
    "PortfolioEntry",
    "RunConfig",
    "allocation_kwargs",
    "fit_views",
    "load_config",
    "output_folder",
    "run_config",
    "run_frontier",
]


class ConfigError(ValueError):
    """A config file that cannot be run; the message names the key and its line.

    Examples
    --------
    ``tmp_dir`` is a folder to write to.

    >>> bad = tmp_dir / "bad.yaml"
    >>> _ = bad.write_text("{views: {}, budget: {total: 60, num_periods: 4, bound: {}}}")
    >>> try:
    ...     load_config(bad)
    ... except ConfigError as err:
    ...     print(err)
    Invalid config:
      bad.yaml, line 1: 'budget.bound' is not a known key. Known keys here: ['bounds', ...].
    """


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ViewConfig(_Strict):
    """One view: where its data are and how to turn them into a view."""

    source: Literal["table", "lift_tests", "draws", "posterior", "mmm"] = Field(
        description="table: spend/response table to fit; lift_tests: PyMC-Marketing "
        "lift-test table; draws: a table of parameter draws; posterior: NetCDF/Zarr "
        "with a posterior group of parameter draws; mmm: a PyMC-Marketing MMM saved "
        "with `mmm.save(path)`, viewed from start_date to end_date."
    )
    path: str = Field(description="File, relative to the config file.")
    start_date: datetime.date | str | None = Field(
        None, description="mmm: first decision period (inclusive)."
    )
    end_date: datetime.date | str | None = Field(
        None, description="mmm: last decision period (inclusive)."
    )
    method: Literal["least_squares", "bayesian"] = Field(
        "least_squares", description="Fit of a table source."
    )
    saturation: str = "michaelis_menten"
    adstock: dict[str, Any] | None = Field(
        None, description="e.g. {type: geometric, l_max: 4} (table and draws sources)."
    )
    bootstrap: Literal["residual", "case"] = "residual"
    n_draws: int = Field(200, ge=2, description="Bootstrap draws (least squares).")
    draws: int = Field(500, ge=1, description="Posterior draws per chain (PyMC).")
    tune: int = Field(500, ge=0)
    chains: int = Field(2, ge=1)
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Column names: date, channel, spend, response.",
    )
    date_format: str | None = Field(
        None, description="Format of text dates, e.g. '%d/%m/%Y' (table sources)."
    )
    priors: dict[str, dict[str, Any]] | None = Field(
        None, description="{parameter: {distribution: Gamma, mu: 2, sigma: 1}}."
    )
    untested_priors: dict[str, dict[str, dict[str, Any]]] | None = Field(
        None, description="Lift tests: {channel: {parameter: prior}} in raw units."
    )
    seed: int | None = None
    evidence: dict[str, tuple[float, float]] | None = Field(
        None,
        description="draws and posterior sources: {channel: [lower, upper]}, the spend per "
        "period the draws' evidence covers (default unknown). Table and lift-test "
        "sources know theirs: the observed spend, the tested spend.",
    )

    @model_validator(mode="after")
    def _window(self) -> ViewConfig:
        dated = self.start_date is not None or self.end_date is not None
        if self.source == "mmm" and (self.start_date is None or self.end_date is None):
            raise ValueError(
                "an mmm view needs `start_date` and `end_date`, the first and last "
                "decision period, e.g. start_date: 2024-09-02"
            )
        if self.source != "mmm" and dated:
            raise ValueError("start_date and end_date apply to `source: mmm` only")
        return self


class BudgetConfig(_Strict):
    """The decision: budget per period, periods and per-channel bounds."""

    total: float = Field(gt=0, description="Budget per period.")
    num_periods: int | None = Field(
        None, ge=1, description="Decision periods; an mmm view's window fixes them."
    )
    bounds: dict[str, tuple[float, float]] | None = None
    budget_distribution_over_period: list[float] | dict[str, list[float]] | None = Field(
        None,
        description="Flighting: each period's share of the budget (summing to 1), for "
        "every channel or per channel.",
    )
    cost_per_unit: list[float] | dict[str, float | list[float]] | None = Field(
        None, description="Price of a unit of the views' spend input, per period or channel."
    )


class FrontierConfig(_Strict):
    """A budget frontier: every plan family solved at each total budget."""

    budgets: list[float] = Field(
        min_length=1, description="Budgets per period, positive and increasing."
    )
    plan: str | None = Field(None, description="Plan family of the frontier plot.")
    risk_averse: bool = Field(
        False,
        description="Also solve the risk-averse plans at every budget (with the "
        "risk_averse objective; several times slower).",
    )


class PortfolioEntry(_Strict):
    """One problem of a portfolio: its name and what it changes in the shared base.

    A view's ``path`` may contain ``{market}`` and ``{brand}``: each entry reads
    the files of its own market and brand, and entries of the same market and
    brand share the fitted views.
    """

    name: str = Field(description="Unique problem name; names its result file.")
    market: str | None = None
    brand: str | None = None
    scenario: str | None = Field(None, description="Scenario label, e.g. 'cautious'.")
    budget: float | None = Field(None, gt=0, description="Budget per period (budget.total).")
    bounds: dict[str, tuple[float, float]] | None = Field(None, description="budget.bounds.")
    weights: dict[str, float] | None = Field(
        None, description="View weights: asks for the weighted minimax plan."
    )
    reference: dict[str, float] | None = Field(
        None, description="Reference plan {channel: spend per period}: asks for the success plan."
    )


class RunConfig(_Strict):
    """A whole run; ``objectives`` maps an objective name to its settings.

    Examples
    --------
    >>> config = RunConfig.model_validate({
    ...     "views": {"vendor": {"source": "draws", "path": "vendor_draws.csv"}},
    ...     "budget": {"total": 60.0, "num_periods": 8},
    ... })
    >>> config.objectives, config.views["vendor"].saturation
    ({'minimax': True}, 'michaelis_menten')
    """

    views: dict[str, ViewConfig]
    budget: BudgetConfig
    objectives: dict[str, dict[str, Any] | bool] = Field(default_factory=lambda: {"minimax": True})
    candidates: dict[str, dict[str, float]] | None = None
    n_draws: int | None = Field(None, description="Draws per view in the allocation.")
    regret: Literal["ratio", "relative"] = Field(
        "ratio",
        description="ratio: 1 - V/V*; relative: (V* - V) / (V* - V(reference)), against "
        "`reference_plan` (or the success objective's).",
    )
    reference_plan: dict[str, float] | None = Field(
        None, description="{channel: spend per period}: the plan relative regret is measured on."
    )
    extrapolation_threshold: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Warn when more than this share of a view's V* or of the minimax "
        "plan's value comes from spend outside the view's evidence.",
    )
    seed: int = 0
    output: str | None = Field(None, description="Output folder, relative to the file.")
    title: str = "Robust budget allocation"
    units: dict[str, Any] | None = Field(
        None,
        description="Names of the units: {spend: 'k$/week', outcome: {view: 'sales (k$)'}}.",
    )
    interval: float = Field(
        0.9, gt=0, lt=1, description="Level of the outcomes' credible intervals."
    )
    frontier: FrontierConfig | None = Field(
        None, description="Also solve every plan family across these total budgets."
    )
    portfolio: list[PortfolioEntry] | None = Field(
        None,
        description="Many problems at once (robust-alloc run-many); each entry overrides "
        "the base above.",
    )


def _minimax(spec) -> dict:
    return {}


def _weighted(spec) -> dict:
    if not isinstance(spec, Mapping) or "weights" not in spec:
        raise ValueError("objective 'weighted' needs `weights: {view: weight, ...}`.")
    return {"weights": dict(spec["weights"])}


def _risk_averse(spec) -> dict:
    if not isinstance(spec, Mapping) or "quantile" not in spec:
        raise ValueError("objective 'risk_averse' needs `quantile`, e.g. 0.1.")
    return {"quantile": float(spec["quantile"])}


def _success(spec) -> dict:
    if not isinstance(spec, Mapping) or not isinstance(spec.get("reference_plan"), Mapping):
        raise ValueError(
            "objective 'success' needs `reference_plan: {channel: spend per period, "
            "...}` and optionally `required_gain`, e.g. 0.05."
        )
    unknown = sorted(set(spec) - {"reference_plan", "required_gain"})
    if unknown:
        raise ValueError(
            f"objective 'success' has unknown keys {unknown}; known: reference_plan, required_gain."
        )
    return {
        "reference_plan": {str(k): float(v) for k, v in spec["reference_plan"].items()},
        "required_gain": float(spec.get("required_gain", 0.0)),
    }


#: Objective name -> function of its settings returning keyword arguments of
#: :func:`~pymc_robust_alloc.allocate`. Register new objectives here and the
#: config accepts them.
OBJECTIVES: dict[str, Callable[[Any], dict]] = {
    "minimax": _minimax,
    "weighted": _weighted,
    "risk_averse": _risk_averse,
    "success": _success,
}


@dataclass
class ConfigRun:
    """What :func:`run_config` produced.

    Attributes
    ----------
    config : RunConfig
        The validated config.
    fits : dict of str to FitResult
        Each view's fit.
    result : AllocationResult
        The allocation.
    files : list of pathlib.Path
        Every file written.

    Examples
    --------
    >>> from dataclasses import fields
    >>> [f.name for f in fields(ConfigRun)]
    ['config', 'fits', 'result', 'files']

    :func:`run_config` shows one from a full run.
    """

    config: RunConfig
    fits: dict
    result: Any
    files: list[Path] = field(default_factory=list)


def load_config(path: str | Path) -> tuple[RunConfig, Path]:
    """Read and validate a YAML or TOML config; check that its files exist.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.yaml``/``.yml`` or ``.toml`` file.

    Returns
    -------
    (RunConfig, pathlib.Path)
        The config and the folder its relative paths start from.

    Raises
    ------
    ConfigError
        Unknown or invalid keys and missing files, naming the key and its line.

    Examples
    --------
    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> config, base = load_config(example)
    >>> sorted(config.views)
    ['attribution', 'experiment', 'vendor']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such config file: '{path}'.")
    text = path.read_text()
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            raw = yaml.safe_load(text)
            lines = _yaml_lines(text)
        except yaml.YAMLError as err:
            raise ConfigError(f"{path}: not valid YAML: {err}") from None
    elif suffix == ".toml":
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{path}: not valid TOML: {err}") from None
        lines = _toml_lines(text)
    else:
        raise ConfigError(f"{path}: expected a .yaml, .yml or .toml config, got '{suffix}'.")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: the config must be a mapping of keys, got {raw!r}.")

    def where(loc) -> str:
        key = ".".join(str(p) for p in loc)
        line = _line_of(lines, loc)
        return f"{path.name}, line {line}: {key!r}" if line else f"{path.name}: {key!r}"

    try:
        config = RunConfig.model_validate(raw)
    except ValidationError as err:
        messages = []
        for e in err.errors():
            loc = tuple(e["loc"])
            if e["type"] == "extra_forbidden" and loc[0] == "portfolio" and len(loc) == 3:
                messages.append(_unknown_override(raw, loc, where(loc)))
            elif e["type"] == "extra_forbidden":
                messages.append(f"{where(loc)} is not a known key. {_known(loc)}")
            else:
                messages.append(f"{where(loc)}: {e['msg']}")
        raise ConfigError("Invalid config:\n  " + "\n  ".join(messages)) from None
    unknown = sorted(set(config.objectives) - set(OBJECTIVES))
    if unknown:
        raise ConfigError(
            f"{where(('objectives', unknown[0]))} is not a known objective; known: "
            f"{sorted(OBJECTIVES)}."
        )
    if config.units is not None:
        from pymc_robust_alloc.checks import check_units

        try:
            check_units(config.units, list(config.views))
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{where(('units',))}: {err}") from None
    base = path.parent
    entries = config.portfolio or []
    names = [e.name for e in entries]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(
                f"{where(('portfolio', i, 'name'))}: two portfolio entries are named "
                f"{name!r}; give every entry its own name."
            )
    for name, view in config.views.items():
        for entry in entries or [None]:
            try:
                file = entry_path(view.path, entry)
            except KeyError as err:
                raise ConfigError(
                    f"{where(('views', name, 'path'))}: the path uses {{{err.args[0]}}} but "
                    f"portfolio entry {entry.name!r} sets no {err.args[0]}."
                ) from None
            if not (base / file).exists():
                raise ConfigError(
                    f"{where(('views', name, 'path'))}: file '{file}' not found "
                    f"(looked in '{base.resolve()}'; paths are relative to the "
                    "config file)."
                )
    return config, base


def entry_path(path: str, entry: PortfolioEntry | None) -> str:
    """Fill a portfolio entry's ``{market}`` and ``{brand}`` into a view's path.

    Raises ``KeyError`` naming a placeholder the entry does not set.

    Examples
    --------
    >>> entry_path("{market}/draws.csv", PortfolioEntry(name="fr", market="FR"))
    'FR/draws.csv'
    """
    if entry is None:
        return path
    fill = {k: v for k, v in {"market": entry.market, "brand": entry.brand}.items() if v}
    return path.format_map(fill)


def _unknown_override(raw: Mapping, loc: tuple, where: str) -> str:
    entry = raw["portfolio"][loc[1]]
    name = entry.get("name", f"#{loc[1] + 1}") if isinstance(entry, Mapping) else loc[1]
    return (
        f"{where.rsplit(':', 1)[0]}: portfolio entry {name!r} overrides {loc[2]!r}, which is "
        f"not a key an entry can set. Keys: {sorted(PortfolioEntry.model_fields)}."
    )


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
    :meth:`AllocationResult.from_netcdf`), ``fit_summary.csv``, ``plans.png``
    and ``regret.png`` (when :mod:`pymc_robust_alloc.plots` is available),
    ``fit_<view>.png`` and ``report.html`` (self-contained, figures embedded);
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
    The run of the shipped example fits a PyMC model, so it is not run here
    (``+SKIP``: over 20 s); loading it validates the config and finds its files.
    ``tmp_dir`` is a folder to write to.

    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> config, base = load_config(example)
    >>> sorted(config.objectives)
    ['minimax', 'risk_averse']
    >>> run = run_config(example, output_dir=tmp_dir, progress=False)  # doctest: +SKIP
    >>> sorted(path.name for path in run.files)  # doctest: +SKIP
    ['fit_attribution.png', 'fit_experiment.png', 'fit_summary.csv', 'fit_vendor.png',
     'frontier.csv', 'frontier.nc', 'frontier.png', 'plans.csv', 'plans.png',
     'regret.png', 'regret_matrix.csv', 'report.html', 'result.json', 'result.nc']
    >>> run.result.regret_matrix["max regret"].idxmin()  # doctest: +SKIP
    'minimax'
    """
    from pymc_robust_alloc.allocator import RobustAllocator
    from pymc_robust_alloc.views.mmm import MMMView

    started = time.perf_counter()
    if not progress:
        echo = None
    elif echo is None:

        def echo(message: str) -> None:
            print(message, file=sys.stderr, flush=True)

    def step(message: str) -> None:
        if echo is not None:
            echo(message)

    config, base = load_config(path)
    if config.portfolio:
        raise ConfigError(
            f"{path} declares a portfolio of {len(config.portfolio)} problems; run it with "
            "`robust-alloc run-many` (or pymc_robust_alloc.portfolio.allocate_many)."
        )
    out = Path(output_dir) if output_dir is not None else output_folder(path, config, base)
    names = [
        "plans.csv",
        "regret_matrix.csv",
        "result.json",
        "result.nc",
        "fit_summary.csv",
        "plans.png",
        "regret.png",
        "report.html",
    ]
    names += [f"fit_{v}.png" for v, spec in config.views.items() if spec.source != "mmm"]
    if config.objectives.get("success", False) is not False:
        names += ["success_matrix.csv", "success.png"]
    if config.frontier is not None:
        names += list(FRONTIER_FILES)
    targets = [out / n for n in names]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"Output files already exist: {existing}. Choose another output folder "
            "or pass overwrite=True (CLI: --overwrite) to replace them."
        )
    kwargs = allocation_kwargs(config)
    chosen = [k for k, v in config.objectives.items() if v is not False]
    step(f"Read {Path(path).name}: {len(config.views)} views, objectives {chosen}.")
    built = fit_views(config.views, base, config.seed, step=step)
    fits = {n: f for n, f in built.items() if not isinstance(f, MMMView)}
    views = [getattr(f, "view", f) for f in built.values()]
    step(f"Merging {len(views)} views into one graph and compiling ...")
    tic = time.perf_counter()
    allocator = RobustAllocator(
        views,
        config.budget.num_periods,
        n_draws=config.n_draws,
        budget_distribution_over_period=config.budget.budget_distribution_over_period,
        cost_per_unit=config.budget.cost_per_unit,
    )
    draws = ", ".join(f"{v} {n}" for v, n in allocator.merged.view_draws.items())
    step(
        f"Compiled in {time.perf_counter() - tic:.1f} s. Solving the plans "
        f"({allocator.num_periods} periods; draws per view: {draws}) ..."
    )
    tic = time.perf_counter()
    result = allocator.allocate(config.budget.total, units=config.units, **kwargs)
    step(f"Solved in {time.perf_counter() - tic:.1f} s. Writing outputs to {out} ...")
    frontier = None
    if config.frontier is not None:
        step(f"Solving the budget frontier at {config.frontier.budgets} ...")
        frontier = _frontier(allocator, config, config.frontier.budgets, kwargs, progress)
    files = _write_outputs(
        out,
        config,
        fits,
        dict(zip(config.views, views, strict=True)),
        result,
        inputs=_inputs(config, base),
        frontier=frontier,
    )
    if frontier is not None:
        files += _write_frontier(out, frontier, config.frontier.plan, config.interval)
    step(f"Done in {time.perf_counter() - started:.1f} s.")
    return ConfigRun(config=config, fits=fits, result=result, files=files)


def output_folder(path: str | Path, config: RunConfig, base: Path) -> Path:
    """Where a run writes by default: the config's ``output``, else ``<stem>_output``.

    Examples
    --------
    >>> config = RunConfig.model_validate({"views": {}, "budget": {"total": 1, "num_periods": 1}})
    >>> output_folder("runs/plan.yaml", config, Path("runs")).as_posix()
    'runs/plan_output'
    """
    return base / config.output if config.output else base / f"{Path(path).stem}_output"


def allocation_kwargs(config: RunConfig) -> dict[str, Any]:
    """Bounds, candidates and objective settings of a config, as ``allocate`` keywords.

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
    bounds = {k: tuple(v) for k, v in (config.budget.bounds or {}).items()} or None
    candidates = None
    if config.candidates:
        candidates = {
            k: xr.DataArray(pd.Series(v, name="spend").rename_axis("channel"))
            for k, v in config.candidates.items()
        }
    kwargs: dict[str, Any] = {"bounds": bounds, "candidates": candidates}
    for name, spec in config.objectives.items():
        if spec is not False:
            kwargs.update(OBJECTIVES[name](spec))
    kwargs.update(_regret_arguments(config, kwargs.get("reference_plan")))
    return kwargs


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
    built = {}
    for i, (name, view) in enumerate(views.items()):
        what = "loading" if view.source in ("draws", "posterior", "mmm") else "fitting"
        if step is not None:
            step(f"View {name!r}: {what} {view.path} ({view.source}) ...")
        tic = time.perf_counter()
        built[name] = fit_view(name, view, base, seed=seed + i)
        if step is not None:
            step(f"View {name!r}: done in {time.perf_counter() - tic:.1f} s.")
    _check_channels({n: getattr(f, "view", f) for n, f in built.items()})
    return built


#: Files a frontier writes.
FRONTIER_FILES = ("frontier.csv", "frontier.nc", "frontier.png")


def _frontier(allocator, config: RunConfig, budgets, kwargs: Mapping, progress: bool):
    # A frontier solves the regret plan families (success needs a reference per budget);
    # risk-averse plans only when asked for, as they cost several times more.
    names = (
        ("weights", "quantile") if config.frontier and config.frontier.risk_averse else ("weights",)
    )
    keep = {k: v for k, v in kwargs.items() if k in names}
    return allocator.frontier(
        budgets, kwargs.get("bounds"), units=config.units, progress=progress, **keep
    )


def _write_frontier(out: Path, frontier, plan: str | None, interval: float) -> list[Path]:
    from pymc_robust_alloc.plots_frontier import plot_frontier

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FRONTIER_FILES]
    frontier.to_dataframe(interval).to_csv(paths[0])
    data = frontier.to_dataset(interval)
    data.attrs = {"interval": interval}
    data.to_netcdf(paths[1], engine="h5netcdf")
    plot_frontier(frontier, plan, interval=interval).savefig(paths[2], dpi=100)
    return paths


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
    Fitting the example's views takes over 20 s (``+SKIP``); ``tmp_dir`` is a
    folder to write to.

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
    existing = [str(out / n) for n in FRONTIER_FILES if (out / n).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"Output files already exist: {existing}. Choose another output folder "
            "or pass overwrite=True (CLI: --overwrite) to replace them."
        )
    from pymc_robust_alloc.allocator import RobustAllocator

    kwargs = allocation_kwargs(config)
    built = fit_views(config.views, base, config.seed)
    allocator = RobustAllocator(
        [getattr(f, "view", f) for f in built.values()],
        config.budget.num_periods,
        n_draws=config.n_draws,
        budget_distribution_over_period=config.budget.budget_distribution_over_period,
        cost_per_unit=config.budget.cost_per_unit,
    )
    frontier = _frontier(allocator, config, budgets, kwargs, progress)
    _write_frontier(
        out, frontier, config.frontier.plan if config.frontier else None, config.interval
    )
    return frontier


def _regret_arguments(config: RunConfig, success_reference: dict | None) -> dict:
    """Keyword arguments of :func:`~pymc_robust_alloc.allocate` for the regret and its reference."""
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


def fit_view(name: str, spec: ViewConfig, base: Path, *, seed: int | None = None):
    """Build one view of a config: read its file and fit it (an MMM is loaded as it is).

    Examples
    --------
    >>> from importlib.resources import files
    >>> example = files("pymc_robust_alloc") / "examples" / "config.yaml"
    >>> config, base = load_config(example)
    >>> fit_view("vendor", config.views["vendor"], base).view.channels
    ('search', 'social', 'display')
    """
    from pymc_robust_alloc import fit

    seed = spec.seed if spec.seed is not None else seed
    path = base / spec.path
    priors = _priors(spec.priors)
    evidence = spec.evidence
    if evidence is not None and spec.source in ("table", "lift_tests", "mmm"):
        raise ConfigError(
            f"views.{name}.evidence: a {spec.source} source knows the spend its data cover; "
            "declare evidence only for draws and posterior sources."
        )
    if spec.source == "mmm":
        from pymc_robust_alloc.views.mmm import MMMView

        return MMMView.from_file(name, path, str(spec.start_date), str(spec.end_date))
    if spec.source == "table":
        table = fit.read_table(path)
        if spec.method == "least_squares":
            return fit.fit_least_squares(
                table,
                name,
                spec.saturation,
                spec.adstock,
                n_draws=spec.n_draws,
                bootstrap=spec.bootstrap,
                random_seed=seed,
                date_format=spec.date_format,
                **spec.columns,
            )
        return fit.fit_bayesian(
            table,
            name,
            spec.saturation,
            spec.adstock,
            priors=priors,
            draws=spec.draws,
            tune=spec.tune,
            chains=spec.chains,
            random_seed=seed,
            date_format=spec.date_format,
            **spec.columns,
        )
    if spec.source == "lift_tests":
        untested = {c: _priors(p) for c, p in (spec.untested_priors or {}).items()} or None
        return fit.fit_lift_tests(
            fit.read_table(path),
            name,
            spec.saturation,
            priors=priors,
            untested_priors=untested,
            draws=spec.draws,
            tune=spec.tune,
            chains=spec.chains,
            random_seed=seed,
        )
    if spec.source == "draws":
        draws = fit.read_table(path)
    else:
        draws = _open_posterior(path)
        if "model_type" in draws.attrs and "fit_data" in draws.children:
            raise ConfigError(
                f"View {name!r}: '{spec.path}' is a saved {draws.attrs['model_type']} model, "
                "not a table of curve parameters. Use `source: mmm` with `start_date` and "
                "`end_date` to plan with the model itself."
            )
    return fit.view_from_draws(draws, name, spec.saturation, spec.adstock, evidence=evidence)


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


def _priors(specs: Mapping[str, Mapping] | None):
    if not specs:
        return None
    from pymc_extras.prior import Prior

    out = {}
    for param, spec in specs.items():
        spec = dict(spec)
        if "distribution" not in spec:
            raise ConfigError(
                f"The prior of {param!r} needs a `distribution`, e.g. "
                "{distribution: HalfNormal, sigma: 1}; got "
                f"{spec}."
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


def _inputs(config: RunConfig, base: Path) -> dict[str, Path]:
    return {name: base / view.path for name, view in config.views.items()}


def _write_outputs(
    out: Path,
    config: RunConfig,
    fits,
    views,
    result,
    inputs: Mapping[str, Path] | None = None,
    frontier=None,
) -> list[Path]:
    from matplotlib.figure import Figure

    from pymc_robust_alloc.fit.diagnostics import sampler_diagnostics
    from pymc_robust_alloc.report import report_html

    out.mkdir(parents=True, exist_ok=True)
    files = []

    def save(name: str, write) -> None:
        target = out / name
        write(target)
        files.append(target)

    plans = result.to_dataframe()
    save("plans.csv", plans.to_csv)
    save("regret_matrix.csv", result.regret_matrix.to_csv)
    if result.success_matrix is not None:
        save("success_matrix.csv", result.success_matrix.to_csv)
    save("result.json", lambda p: p.write_text(json.dumps(result.to_dict(), indent=2)))
    save("result.nc", lambda p: result.to_netcdf(p, overwrite=True))
    summaries = {name: f.summary() for name, f in fits.items()}
    for name, view in views.items():
        if name not in summaries:  # an MMM: its sampler's health
            summaries[name] = sampler_diagnostics(view.posterior, name)
    table = pd.concat(summaries, names=["view"])
    save("fit_summary.csv", table.to_csv)
    embedded: dict[str, Figure] = {}
    diagnostics: dict[str, Figure] = {}
    try:
        from pymc_robust_alloc import plots
    except ImportError:
        plots = None
    if plots is not None:
        figures = [("plans", plots.plot_plans), ("regret", plots.plot_regret)]
        if result.success_matrix is not None:
            figures.append(("success", plots.plot_success))
        for name, plot in figures:
            fig = plot(result)
            fig = fig if isinstance(fig, Figure) else fig.figure
            save(f"{name}.png", lambda p, fig=fig: fig.savefig(p, dpi=100))
            embedded[_CAPTIONS.get(name, name.capitalize())] = fig
    if frontier is not None:
        from pymc_robust_alloc.plots_frontier import plot_frontier

        plan = config.frontier.plan if config.frontier else None
        caption = f"Budget frontier: total budgets {', '.join(f'{b:g}' for b in frontier.budgets)}"
        embedded[caption] = plot_frontier(frontier, plan, interval=config.interval)
    for name, f in fits.items():
        fig = f.plot()
        save(f"fit_{name}.png", lambda p, fig=fig: fig.savefig(p, dpi=100))
        diagnostics[f"Fit of view {name}"] = fig
    settings = {
        "budget per period": config.budget.total,
        "periods": result.settings["num_periods"],
        "objectives": ", ".join(k for k, v in config.objectives.items() if v is not False),
        "views": ", ".join(config.views),
    }
    page = report_html(
        result,
        title=config.title,
        figures=embedded,
        diagnostics=diagnostics,
        fits=summaries,
        inputs=inputs,
        settings=settings,
        interval=config.interval,
    )
    save("report.html", lambda p: p.write_text(page))
    return files


#: Captions of the run's figures in the report.
_CAPTIONS = {
    "plans": "Spend per period of every plan, by channel",
    "regret": "Regret of every plan under every view",
    "success": "Probability of beating the reference plan",
}


def _known(loc) -> str:
    models = {(): RunConfig, ("budget",): BudgetConfig, ("frontier",): FrontierConfig}
    parent = tuple(loc[:-1])
    model = models.get(parent)
    if model is None and len(parent) == 2 and parent[0] == "views":
        model = ViewConfig
    return f"Known keys here: {sorted(model.model_fields)}." if model else ""


def _yaml_lines(text: str) -> dict[tuple, int]:
    lines: dict[tuple, int] = {}

    def walk(node, prefix):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                loc = (*prefix, key.value)
                lines[loc] = key.start_mark.line + 1
                walk(value, loc)
        elif isinstance(node, yaml.SequenceNode):
            for i, value in enumerate(node.value):
                lines[(*prefix, i)] = value.start_mark.line + 1
                walk(value, (*prefix, i))

    root = yaml.compose(text)
    if root is not None:
        walk(root, ())
    return lines


def _toml_lines(text: str) -> dict[tuple, int]:
    lines: dict[tuple, int] = {}
    table: tuple = ()
    header = re.compile(r"^\s*\[([^\[\]]+)\]\s*(#.*)?$")
    assign = re.compile(r"^\s*([A-Za-z0-9_\-\"'.]+)\s*=")
    for number, line in enumerate(text.splitlines(), start=1):
        if match := header.match(line):
            table = tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
            for i in range(1, len(table) + 1):
                lines.setdefault(table[:i], number)
        elif match := assign.match(line):
            key = tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
            lines.setdefault((*table, *key), number)
    return lines


def _line_of(lines: Mapping[tuple, int], loc: tuple) -> int | None:
    loc = tuple(loc)
    while loc:
        if loc in lines:
            return lines[loc]
        loc = loc[:-1]
    return None
