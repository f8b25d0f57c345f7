"""Write a config run's outputs: tables, result files, figures and the report."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from pymc_robust_alloc import plots
from pymc_robust_alloc.config.schema import RunConfig
from pymc_robust_alloc.fit.diagnostics import sampler_diagnostics
from pymc_robust_alloc.plots import plot_frontier
from pymc_robust_alloc.report import report_html

__all__ = ["FRONTIER_FILES", "check_new_files", "output_names", "write_frontier", "write_outputs"]

#: Files a frontier writes.
FRONTIER_FILES = ("frontier.csv", "frontier.nc", "frontier.png")

#: Figures of a run -> caption in the report.
_CAPTIONS = {
    "plans": "Spend per period of every plan, by channel",
    "regret": "Regret of every plan under every view",
    "success": "Probability of beating the reference plan",
}


def check_new_files(targets: Iterable[Path], overwrite: bool) -> None:
    """Refuse to replace existing files unless ``overwrite`` is set.

    Examples
    --------
    >>> check_new_files([Path("no/such/file.csv")], overwrite=False)
    """
    existing = [str(t) for t in targets if Path(t).exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"Output files already exist: {existing}. Choose another output folder "
            "or pass overwrite=True (CLI: --overwrite) to replace them."
        )


def output_names(config: RunConfig) -> list[str]:
    """Names of the files a run of ``config`` writes."""
    names = ["plans.csv", "regret_matrix.csv", "result.json", "result.nc", "fit_summary.csv"]
    names += ["plans.png", "regret.png", "report.html"]
    names += [f"fit_{v}.png" for v, spec in config.views.items() if spec.source != "mmm"]
    if "success" in config.chosen:
        names += ["success_matrix.csv", "success.png"]
    if config.frontier is not None:
        names += list(FRONTIER_FILES)
    return names


def write_frontier(out: Path, frontier, plan: str | None, interval: float) -> list[Path]:
    """Write ``frontier.csv``, ``frontier.nc`` and ``frontier.png``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in FRONTIER_FILES]
    frontier.to_dataframe(interval).to_csv(paths[0])
    data = frontier.to_dataset(interval)
    data.attrs = {"interval": interval}
    data.to_netcdf(paths[1], engine="h5netcdf")
    plot_frontier(frontier, plan, interval=interval).savefig(paths[2], dpi=100)
    return paths


def write_outputs(
    out: Path,
    config: RunConfig,
    fits: Mapping,
    views: Mapping,
    result,
    inputs: Mapping[str, Path] | None = None,
    frontier=None,
) -> list[Path]:
    """Write a run's tables, result, figures and report to ``out``; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

    def save(name: str, write: Callable[[Path], object]) -> None:
        write(out / name)
        files.append(out / name)

    save("plans.csv", result.to_dataframe().to_csv)
    save("regret_matrix.csv", result.regret_matrix.to_csv)
    if result.success_matrix is not None:
        save("success_matrix.csv", result.success_matrix.to_csv)
    save("result.json", lambda p: p.write_text(json.dumps(result.to_dict(), indent=2)))
    save("result.nc", lambda p: result.to_netcdf(p, overwrite=True))
    summaries = {name: f.summary() for name, f in fits.items()}
    for name, view in views.items():
        if name not in summaries:  # an MMM: its sampler's health
            summaries[name] = sampler_diagnostics(view.posterior, name)
    save("fit_summary.csv", pd.concat(summaries, names=["view"]).to_csv)
    embedded: dict[str, Figure] = {}
    figures = [("plans", plots.plot_plans), ("regret", plots.plot_regret)]
    if result.success_matrix is not None:
        figures.append(("success", plots.plot_success))
    for name, plot in figures:
        fig = plot(result)
        fig = fig if isinstance(fig, Figure) else fig.figure
        save(f"{name}.png", lambda p, fig=fig: fig.savefig(p, dpi=100))
        embedded[_CAPTIONS[name]] = fig
    if frontier is not None:
        plan = config.frontier.plan if config.frontier else None
        caption = f"Budget frontier: total budgets {', '.join(f'{b:g}' for b in frontier.budgets)}"
        embedded[caption] = plot_frontier(frontier, plan, interval=config.interval)
    diagnostics = {}
    for name, f in fits.items():
        fig = f.plot()
        save(f"fit_{name}.png", lambda p, fig=fig: fig.savefig(p, dpi=100))
        diagnostics[f"Fit of view {name}"] = fig
    settings = {
        "budget per period": config.budget.total,
        "periods": result.settings["num_periods"],
        "objectives": ", ".join(config.chosen),
        "views": ", ".join(config.views),
    }
    if config.constraints:
        settings["constraints"] = "; ".join(_describe(c) for c in config.constraints)
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


def _describe(spec) -> str:
    """Say what a constraint of the config bounds, in one phrase."""
    data = spec.model_dump(exclude_none=True)
    if "function" in data:
        return data.pop("function") + (f" {data}" if data else "")
    channels = " + ".join(data.pop("channels"))
    data.pop("name", None)
    return f"{channels}: " + ", ".join(f"{k} {v:g}" for k, v in data.items())
