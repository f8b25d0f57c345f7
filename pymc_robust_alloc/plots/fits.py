"""Figure of a fitted view: its curves and bands over the data it was fitted to."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from pymc_robust_alloc.plots.style import band, panels

if TYPE_CHECKING:  # pragma: no cover
    from pymc_robust_alloc.fit.result import FitResult

__all__ = ["plot_fit"]


def plot_fit(
    result: FitResult,
    interval: float = 0.9,
    *,
    n_points: int = 60,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot the fitted curves with their uncertainty bands over the observed points.

    One panel per channel: the median per-period curve at steady spend with its
    ``interval`` band, and the data: a table's points, or each lift test as its
    measured increment from the median curve at ``x``.

    Parameters
    ----------
    result : FitResult
        Any fit of :mod:`pymc_robust_alloc.fit`.
    interval : float, default 0.9
        Mass of the band.
    n_points : int, default 60
        Spend levels on the curve.
    figsize, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); one axes per channel.

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_robust_alloc.fit import view_from_draws
    >>> draws = pd.DataFrame({"draw": [0, 1], "channel": "tv",
    ...                       "alpha": [1.0, 2.0], "lam": [1.0, 1.0]})
    >>> len(plot_fit(view_from_draws(draws)).axes)
    1
    """
    low, high = band(interval)
    channels = result.view.channels
    fig, axes, owned = panels(
        axes, (1, len(channels)), figsize or (4 * len(channels), 3.2), per="channel"
    )
    for ax, channel in zip(axes[0], channels, strict=True):
        grid = np.linspace(0, _spend_range(result, channel), n_points)
        curves = result.view.curves(grid).sel(channel=channel)
        q = curves.quantile([low, 0.5, high], dim=("chain", "draw"))
        ax.fill_between(grid, q[0], q[2], alpha=0.3, label=f"{interval:.0%} band")
        ax.plot(grid, q[1], label="median")
        _plot_data(ax, result, channel, grid, q[1].values)
        ax.set(title=channel, xlabel="spend per period", ylabel="response per period")
    axes[0, 0].legend(loc="lower right", fontsize="small")
    if owned:
        fig.suptitle(f"{result.name}: {result.shape.name} ({result.method})")
    return fig


def _spend_range(result: FitResult, channel) -> float:
    data = result.data
    if isinstance(data, xr.Dataset):
        return 1.1 * float(data["spend"].sel(channel=channel).max())
    if isinstance(data, pd.DataFrame):
        tests = data[data["channel"] == channel]
        if len(tests):
            return 1.2 * float((tests["x"] + tests["delta_x"]).max())
    scale = [
        result.view.posterior[p].sel(channel=channel).median()
        for p in result.shape.params
        if result.shape.unit_powers(p)[0] == 1
    ]
    return 3 * float(scale[0]) if scale else 1.0


def _plot_data(ax, result: FitResult, channel, grid, median) -> None:
    data = result.data
    if isinstance(data, xr.Dataset):
        ax.scatter(
            data["spend"].sel(channel=channel),
            data["response"].sel(channel=channel),
            s=10,
            color="black",
            alpha=0.6,
            label="observed",
        )
    elif isinstance(data, pd.DataFrame):
        tests = data[data["channel"] == channel]
        base = np.interp(tests["x"], grid, median)
        ax.errorbar(
            tests["x"] + tests["delta_x"],
            base + tests["delta_y"],
            yerr=tests["sigma"],
            fmt="o",
            color="black",
            label="lift tests",
        )
