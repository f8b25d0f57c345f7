"""Diagnostics of a fitted view: a summary table and curves over the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from pymc_robust_alloc.fit.result import FitResult, interval_bounds
from pymc_robust_alloc.fit.sampling import sampler_diagnostics

__all__ = ["fit_summary", "plot_fit", "r_squared", "sampler_diagnostics"]


def r_squared(result: FitResult) -> pd.Series:
    """Per-channel :math:`R^2` of a table fit, as :meth:`FitResult.r_squared`."""
    return result.r_squared()


def fit_summary(result: FitResult, interval: float = 0.9, loo: bool = False) -> pd.DataFrame:
    """Parameters with their intervals, goodness of fit and sampler health.

    The table of :meth:`FitResult.summary`.
    """
    return result.summary(interval=interval, loo=loo)


def plot_fit(
    result: FitResult,
    interval: float = 0.9,
    *,
    n_points: int = 60,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot the fitted curves with their uncertainty bands over the observed points.

    One panel per channel: the median per-period response curve (steady spend,
    so an adstock normalised to sum 1 drops out), the central ``interval`` band
    over the draws, and the data: the table's (spend, response) points, or each
    lift test drawn as its measured increment from the median curve at ``x``.

    Parameters
    ----------
    result : FitResult
        Any fit of :mod:`pymc_robust_alloc.fit`.
    interval : float, default 0.9
        Mass of the band.
    n_points : int, default 60
        Spend levels on the curve.
    figsize : tuple of float, optional
        Figure size; defaults to 4 inches per panel.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per channel (the figure title is then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_robust_alloc.fit import view_from_draws
    >>> draws = pd.DataFrame({"draw": [0, 1], "channel": "tv",
    ...                       "alpha": [1.0, 2.0], "lam": [1.0, 1.0]})
    >>> len(plot_fit(view_from_draws(draws)).axes)
    1
    """
    low, high = interval_bounds(interval)
    channels = result.view.channels
    if axes is None:
        fig = Figure(figsize=figsize or (4 * len(channels), 3.2), layout="constrained")
        axes = fig.subplots(1, len(channels), squeeze=False)[0]
    else:
        axes = np.ravel(np.asarray(axes, dtype=object))
        if axes.size != len(channels):
            raise ValueError(
                f"axes must hold one axes per channel ({len(channels)}), got {axes.size}."
            )
        fig = None
    for ax, channel in zip(axes, channels, strict=True):
        top = _spend_range(result, channel)
        grid = np.linspace(0, top, n_points)
        curves = result.view.curves(grid).sel(channel=channel)
        q = curves.quantile([low, 0.5, high], dim=("chain", "draw"))
        ax.fill_between(grid, q[0], q[2], alpha=0.3, label=f"{interval:.0%} band")
        ax.plot(grid, q[1], label="median")
        _plot_data(ax, result, channel, grid, q[1].values)
        ax.set(title=channel, xlabel="spend per period", ylabel="response per period")
    axes[0].legend(loc="lower right", fontsize="small")
    if fig is None:
        return axes[0].get_figure(root=True)
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
