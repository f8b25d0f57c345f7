"""Portfolios from config files: one config with a ``portfolio:`` section, or many configs."""

from __future__ import annotations

import glob
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pymc_robust_alloc.config import (
    PortfolioEntry,
    RunConfig,
    ViewConfig,
    allocation_kwargs,
    entry_path,
    fit_views,
    load_config,
)
from pymc_robust_alloc.portfolio.problem import Problem, problem_seed
from pymc_robust_alloc.views.base import View

__all__ = ["ConfigViews", "load_portfolio"]

_SUFFIXES = (".yaml", ".yml", ".toml")


@dataclass(frozen=True)
class ConfigViews:
    """The views of a config (paths filled for the entry), fitted where the problem runs.

    ``base`` is the folder paths start from (on a cluster, one every worker can read);
    view ``i`` is fitted with seed ``seed + i``.
    """

    specs: Mapping[str, ViewConfig]
    base: Path
    seed: int

    @property
    def key(self) -> str:
        """Same files, settings and seed: the same views."""
        specs = {name: spec.model_dump() for name, spec in self.specs.items()}
        return json.dumps([str(self.base.resolve()), self.seed, specs], sort_keys=True)

    def build(self) -> list[View]:
        """Fit the views."""
        fits = fit_views(self.specs, self.base, self.seed).values()
        return [getattr(fit, "view", fit) for fit in fits]  # an mmm source is a view


def load_portfolio(paths: str | Path | Sequence[str | Path]) -> list[Problem]:
    """Read the problems of config files.

    A config with a ``portfolio:`` section gives one problem per entry (each
    entry overrides the shared base: market, brand, scenario, budget, bounds,
    weights, reference); a config without one gives one problem named after the
    file.

    Parameters
    ----------
    paths : str, pathlib.Path or sequence of them
        Config files, folders (every ``.yaml``/``.yml``/``.toml`` in them) or glob
        patterns such as ``"configs/*.yaml"``.

    Returns
    -------
    list of Problem

    Raises
    ------
    ConfigError
        An invalid config; in a portfolio, an unknown override key (naming the
        entry and the key) or two entries of the same name.

    Examples
    --------
    >>> from importlib.resources import files
    >>> problems = load_portfolio(files("pymc_robust_alloc") / "examples" / "portfolio.yaml")
    >>> len(problems), problems[0].name, dict(problems[0].labels)
    (8, 'north-40', {'market': 'north', 'scenario': 'base'})
    """
    files = _config_files(paths)
    problems: list[Problem] = []
    for file in files:
        config, base = load_config(file)
        if config.portfolio:
            problems += [_problem(entry.name, config, base, entry) for entry in config.portfolio]
        else:
            problems.append(_problem(file.stem, config, base, None))
    return problems


def _config_files(paths) -> list[Path]:
    if isinstance(paths, str | Path):
        paths = [paths]
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in _SUFFIXES)
            if not found:
                raise FileNotFoundError(f"No .yaml, .yml or .toml config in folder '{path}'.")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            found = sorted(Path(p) for p in glob.glob(str(item)))
            if not found:
                raise FileNotFoundError(f"No config file, folder or glob match: '{item}'.")
            files += found
    return files


def _problem(name: str, config: RunConfig, base: Path, entry: PortfolioEntry | None) -> Problem:
    specs = {
        view: spec.model_copy(update={"path": entry_path(spec.path, entry)})
        for view, spec in config.views.items()
    }
    kwargs = allocation_kwargs(config)
    labels = {}
    total = config.budget.total
    if entry is not None:
        labels = {k: getattr(entry, k) for k in ("market", "brand", "scenario")}
        labels = {k: v for k, v in labels.items() if v is not None}
        total = entry.budget if entry.budget is not None else total
        if entry.bounds is not None:
            kwargs["bounds"] = {k: tuple(v) for k, v in entry.bounds.items()}
        if entry.weights is not None:
            kwargs["weights"] = dict(entry.weights)
        if entry.reference is not None:
            kwargs["reference_plan"] = dict(entry.reference)
    fields = {"bounds", "candidates", "weights", "quantile", "reference_plan", "required_gain"}
    options = {k: kwargs.pop(k) for k in set(kwargs) - fields}
    return Problem(
        name=name,
        options=options,
        views=ConfigViews(specs, base, config.seed),
        total_budget=total,
        num_periods=config.budget.num_periods,
        n_draws=config.n_draws,
        labels=labels,
        seed=problem_seed(config.seed, name),
        **kwargs,
    )
