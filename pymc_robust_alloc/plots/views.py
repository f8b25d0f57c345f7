"""Figures of the views: beliefs about curve parameters, response curves, view responses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import product

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator
from scipy.stats import gaussian_kde

from pymc_robust_alloc.checks import check_positive
from pymc_robust_alloc.plots.style import (
    Colors,
    band,
    channel_color,
    footnote,
    headline,
    panels,
    tidy,
    view_colors,
)
from pymc_robust_alloc.result import AllocationResult
from pymc_robust_alloc.views.base import View
from pymc_robust_alloc.views.curves import CurveView

__all__ = ["plot_beliefs", "plot_response_curves", "plot_view_responses"]


def plot_beliefs(
    views: Sequence[View],
    *,
    colors: Colors = None,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot each view's beliefs about each saturation parameter, per channel.

    One row per parameter, one column per channel, the views' draws overlaid as
    densities; a parameter whose draws span more than a factor of 10 is drawn
    on a log axis. Views that are not :class:`~pymc_robust_alloc.CurveView`
    have no curve parameters: they are left out, and the figure says so.

    Parameters
    ----------
    views : sequence of View
        The views, e.g. ``demo_views()``.
    colors, figsize, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); a parameters x channels grid.

    Examples
    --------
    ``views`` is ``demo_views(draws=100)`` (:func:`pymc_robust_alloc.demo.demo_views`).

    >>> fig = plot_beliefs(views)  # alpha and lam of search, social, display
    >>> len(fig.axes)
    6
    """
    palette = view_colors(views, colors)
    curve_views, skipped = _curve_views(views, "plot_beliefs")
    params = list(dict.fromkeys(p for v in curve_views for p in v.posterior.data_vars))
    channels = _channels(curve_views)
    fig, axes, owned = panels(
        axes,
        (len(params), len(channels)),
        figsize or (3.6 * len(channels), 2.6 * len(params) + 0.6),
    )
    pooled = set()
    for (row, param), (col, channel) in product(enumerate(params), enumerate(channels)):
        ax = axes[row, col]
        samples = {}
        for view in curve_views:
            if param not in view.posterior or channel not in view.channels:
                continue
            draws = view.posterior[param].sel(channel=channel)
            pooled.update(d for d in draws.dims if d not in ("chain", "draw"))
            samples[view.name] = np.asarray(draws.values, dtype=float).ravel()
        _densities(ax, samples, palette)
        ax.set_title(f"{channel}: {param}")
        ax.set_yticks([])
        ax.set_xlabel(_param_label(param))
        if col == 0:
            ax.set_ylabel("belief density")
    handles = [Rectangle((0, 0), 1, 1, color=palette[v.name], alpha=0.6) for v in curve_views]
    _legend(
        fig,
        axes.flat[0],
        handles,
        [v.name for v in curve_views],
        "What each view believes about the saturation parameters" if owned else None,
    )
    if owned:
        footnote(fig, skipped, pooled)
    return fig


def plot_response_curves(
    views: Sequence[View],
    max_spend: float | None = None,
    *,
    interval: float = 0.9,
    n_points: int = 120,
    colors: Colors = None,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot each curve view's response per channel: median and credible band.

    One panel per channel, views overlaid on one response axis (so for views
    in the same units), per period without carry-over. Only
    :class:`~pymc_robust_alloc.CurveView` views have such curves; the others are
    left out, and the figure says so. :func:`plot_view_responses` shows every
    view, MMMs included, each in its own units.

    Parameters
    ----------
    views : sequence of View
        The views.
    max_spend : float, optional
        Right end of the spend axis (per period). By default where every view's
        median curve reaches 90% of its plateau, capped at 3 times the largest
        half-saturation spend.
    interval : float, default 0.9
        Mass of the band, centred on the median.
    n_points : int, default 120
        Spend levels evaluated.
    colors, figsize, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); one axes per channel.

    Examples
    --------
    ``views`` is ``demo_views(draws=100)`` (:func:`pymc_robust_alloc.demo.demo_views`).

    >>> fig = plot_response_curves(views, max_spend=60)
    >>> [ax.get_title() for ax in fig.axes]
    ['search', 'social', 'display']
    """
    low, high = band(interval)
    palette = view_colors(views, colors)
    curve_views, skipped = _curve_views(views, "plot_response_curves")
    channels = _channels(curve_views)
    if max_spend is None:
        max_spend = _default_max_spend(curve_views)
    max_spend = check_positive(max_spend, "max_spend", what="spend per period")
    grid = np.linspace(0.0, float(max_spend), int(n_points))
    fig, axes, owned = panels(axes, (1, len(channels)), figsize or (4.2 * len(channels), 3.4 + 0.4))
    axes = axes[0]
    pooled = set()
    for view in curve_views:
        curves = view.curves(grid)
        extra = [d for d in curves.dims if d not in ("chain", "draw", "spend", "channel")]
        pooled.update(extra)
        q = curves.quantile([low, 0.5, high], dim=("chain", "draw", *extra))
        for ax, channel in zip(axes, channels, strict=True):
            if channel in view.channels:
                _median_and_band(ax, grid, q.sel(channel=channel), palette[view.name], view.name)
    for ax, channel in zip(axes, channels, strict=True):
        ax.set(title=str(channel), xlabel="spend per period", xlim=(0, grid[-1]))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("response per period")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Rectangle((0, 0), 1, 1, color="#999999", alpha=0.3))
    labels.append(f"{interval:.0%} band")
    title = "Response curves: median and band per view" if owned else None
    _legend(fig, axes[0], handles, labels, title)
    if owned:
        footnote(fig, skipped, pooled)
    return fig


def plot_view_responses(
    allocator,
    result: AllocationResult | None = None,
    *,
    max_spend: float | None = None,
    interval: float = 0.9,
    n_points: int = 25,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot every view's response to each channel's spend, one panel per view.

    Each curve is the view's increment over the zero plan when one channel
    spends ``x`` per period over the decision window and the others nothing,
    through the allocator's own graph: any view (an ``MMMView`` too), with its
    carry-in history and carry-over, each panel in its view's own units.

    Parameters
    ----------
    allocator : RobustAllocator
        The compiled allocator.
    result : AllocationResult, optional
        Sets the spend axis to the decision's range (largest upper bound, at most the budget).
    max_spend : float, optional
        Right end of the spend axis (per period); default the result's range, else 1.
    interval : float, default 0.9
        Mass of the band over the draws, centred on the median.
    n_points : int, default 25
        Spend levels per channel (each is one evaluation of every view).
    figsize, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); one axes per view.

    Examples
    --------
    ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``;
    ``result`` comes from its :meth:`allocate` with bounds ``(0, 60)``.

    >>> fig = plot_view_responses(allocator, result, n_points=5)
    >>> [ax.get_title() for ax in fig.axes], [float(x) for x in fig.axes[0].get_xlim()]
    (['regression', 'experiment', 'attribution'], [0.0, 60.0])
    """
    low, high = band(interval)
    coords = allocator.budget_coords
    if set(coords) != {"channel"}:
        raise ValueError(
            f"plot_view_responses draws one curve per channel; these budgets have dims "
            f"{list(coords)}. Plot a channel-only allocator."
        )
    if max_spend is None:
        max_spend = _decision_range(result)
    max_spend = check_positive(max_spend, "max_spend", what="spend per period")
    channels = list(coords["channel"])
    grid = np.linspace(0.0, float(max_spend), int(n_points))
    zero = allocator.responses(dict.fromkeys(channels, 0.0))
    views = list(allocator.views)
    fig, axes, owned = panels(axes, (1, len(views)), figsize or (4.2 * len(views), 3.6))
    axes = axes[0]
    for j, channel in enumerate(channels):
        increments = xr.concat(
            [
                allocator.responses({c: (x if c == channel else 0.0) for c in channels}) - zero
                for x in grid
            ],
            dim="spend",
        )
        q = increments.quantile([low, 0.5, high], dim="sample", skipna=True)
        for ax, view in zip(axes, views, strict=True):
            _median_and_band(ax, grid, q.sel(view=view), channel_color(j), str(channel))
    palette = view_colors(views)
    for ax, view in zip(axes, views, strict=True):
        ax.set(xlabel="spend per period", xlim=(0.0, float(grid[-1])))
        ax.set_title(view, color=palette[view], fontweight="bold")
        ax.set_ylabel(f"increment over {allocator.num_periods} periods ({view}'s units)")
        tidy(ax)
    axes[0].legend(frameon=False, title=f"channel ({interval:.0%} band)")
    if owned:
        headline(fig, "Each view's response to one channel's spend (others at zero)")
    return fig


# -- helpers ----------------------------------------------------------------------


def _decision_range(result: AllocationResult | None) -> float:
    """Return the decision's largest finite upper bound, at most its total budget; else 1."""
    settings = (result.settings or {}) if result is not None else {}
    uppers = [float(hi) for _, hi in (settings.get("bounds") or {}).values()]
    total = settings.get("total_budget")
    if total is not None and np.isfinite(float(total)):
        uppers = [min(u, float(total)) for u in uppers] or [float(total)]
    uppers = [u for u in uppers if np.isfinite(u) and u > 0]
    return max(uppers) if uppers else 1.0


def _median_and_band(ax: Axes, grid, q: xr.DataArray, color: str, label: str) -> None:
    band = np.asarray(q.values)
    ax.fill_between(grid, band[0], band[2], color=color, alpha=0.18, lw=0)
    ax.plot(grid, band[1], color=color, lw=2, label=label)


def _legend(fig: Figure, first: Axes, handles, labels, title: str | None) -> None:
    """Put legend and ``title`` on our own figure; on the caller's, a legend on ``first``."""
    if title is None:
        first.legend(handles, labels, frameon=False, fontsize="small")
        return
    fig.legend(handles, labels, loc="outside upper right", ncols=len(labels), frameon=False)
    headline(fig, title)


def _curve_views(views: Sequence[View], caller: str) -> tuple[list[CurveView], list]:
    views = list(views)
    if not views:
        raise ValueError(f"{caller} needs at least one view, got none.")
    bad = [v for v in views if not isinstance(v, View)]
    if bad:
        raise TypeError(
            f"{caller} takes View objects (e.g. CurveView.from_estimates(...)); got "
            f"{[type(v).__name__ for v in bad]}."
        )
    curve_views = [v for v in views if isinstance(v, CurveView)]
    if not curve_views:
        raise TypeError(
            f"{caller} draws per-channel saturation curves, which only CurveView "
            f"views have; got {[f'{v.name} ({type(v).__name__})' for v in views]}. "
            "Compare every view with plot_view_responses(allocator)."
        )
    return curve_views, [v for v in views if not isinstance(v, CurveView)]


def _channels(views: Sequence[View]) -> list:
    return list(dict.fromkeys(c for v in views for c in v.channels))


def _densities(ax: Axes, samples: Mapping[str, np.ndarray], palette) -> None:
    finite = {k: v[np.isfinite(v)] for k, v in samples.items()}
    everything = np.concatenate([v for v in finite.values() if v.size] or [[0.0]])
    log = bool(everything.min() > 0 and everything.max() / everything.min() > 10)
    lo, hi = everything.min(), everything.max()
    if log:
        lo, hi = np.log(lo), np.log(hi)
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    grid = np.linspace(lo - pad, hi + pad, 256)
    for name, x in finite.items():
        x = np.log(x) if log else x
        color = palette[name]
        if x.size < 2 or np.ptp(x) == 0:
            centre = float(np.mean(x)) if x.size else 0.0
            ax.axvline(np.exp(centre) if log else centre, color=color, lw=2)
            continue
        density = gaussian_kde(x)(grid)
        axis = np.exp(grid) if log else grid
        ax.fill_between(axis, density, color=color, alpha=0.25, lw=0)
        ax.plot(axis, density, color=color, lw=1.5)
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(NullLocator())
    ax.set_ylim(bottom=0)
    ax.spines[["top", "right", "left"]].set_visible(False)


def _param_label(param: str) -> str:
    units = {"lam": "spend per period", "alpha": "response per period"}
    return f"{param} ({units[param]})" if param in units else param


def _default_max_spend(views: Sequence[CurveView]) -> float:
    # The median curve on a wide log grid; stop where every view is near its plateau.
    grid = np.geomspace(1e-3, 1e6, 181)
    reach = []
    for view in views:
        median = view.curves(grid).median(("chain", "draw"))
        median = median.transpose("spend", ...).values.reshape(len(grid), -1)
        plateau = median[-1]
        for k in range(median.shape[1]):
            if not np.isfinite(plateau[k]) or plateau[k] <= 0:
                continue
            above = np.nonzero(median[:, k] >= 0.9 * plateau[k])[0]
            reach.append(grid[above[0]] if above.size else grid[-1])
            half = np.nonzero(median[:, k] >= 0.5 * plateau[k])[0]
            reach[-1] = min(reach[-1], 3 * grid[half[0]] if half.size else grid[-1])
    top = max(reach) if reach else 1.0
    magnitude = 10 ** np.floor(np.log10(top))
    return float(np.ceil(top / magnitude) * magnitude)
