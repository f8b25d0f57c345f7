"""Figures along a swept quantity: a view's scale factor, or the total budget (frontier)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullLocator, PercentFormatter

from pymc_robust_alloc.names import BUDGET_DIM, MINIMAX
from pymc_robust_alloc.plots.style import (
    MINIMAX_COLOR,
    OTHER_PLAN_COLOR,
    channel_color,
    decimals,
    headline,
    line_style,
    panels,
    plan_color,
    single,
    tidy,
    view_colors,
)

__all__ = [
    "plot_frontier",
    "plot_frontier_outcomes",
    "plot_frontier_regret",
    "plot_frontier_spend",
    "plot_sweep",
]

if TYPE_CHECKING:  # pragma: no cover
    from pymc_robust_alloc.frontier import Frontier


def plot_sweep(
    sweep: xr.Dataset,
    *,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot the scale sweep: the averaged plan drifts, the minimax plan stays put.

    Each plan's spend per channel, then its max regret, against the factor
    :math:`k` that multiplies one view's response.

    Parameters
    ----------
    sweep : xarray.Dataset
        From :func:`~pymc_robust_alloc.sensitivity.scale_sweep`.
    figsize, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); one axes per channel, then one.

    Examples
    --------
    ``sweep`` is ``scale_sweep(allocator, "attribution", [1, 10], 100.0, bounds)``
    on the demo views (see :func:`~pymc_robust_alloc.sensitivity.scale_sweep`).

    >>> fig = plot_sweep(sweep)
    >>> [ax.get_title() for ax in fig.axes]
    ['search', 'social', 'display', 'max regret']
    """
    missing = [v for v in ("plans", "max_regret") if v not in sweep]
    if missing:
        raise ValueError(
            f"plot_sweep needs the Dataset returned by scale_sweep (variables 'plans' "
            f"and 'max_regret'); this one lacks {missing}."
        )
    plans = sweep["plans"]
    extra = [d for d in plans.dims if d not in ("factor", "plan")]
    if len(extra) > 1:
        plans = plans.stack(cell=extra)
        extra = ["cell"]
    cells = plans[extra[0]].values
    factors = np.asarray(sweep["factor"].values, dtype=float)
    n_panels = len(cells) + 1
    fig, axes, owned = panels(axes, (1, n_panels), figsize or (3.6 * n_panels, 3.4 + 0.5))
    axes = axes[0]
    for index, (ax, cell) in enumerate(zip(axes[:-1], cells, strict=True)):
        if index:
            ax.sharey(axes[0])
        _plan_lines(ax, factors, plans.isel({extra[0]: index}))
        label = "/".join(map(str, cell)) if isinstance(cell, tuple) else str(cell)
        ax.set(title=label, xlabel="scale factor k")
    axes[0].set_ylabel("spend per period")
    axes[0].set_ylim(0, 1.25 * float(plans.max()))
    ax = axes[-1]
    regret = sweep["max_regret"]
    _plan_lines(ax, factors, regret)
    ax.set_ylim(bottom=0, top=max(float(regret.max()) * 1.15, 1e-6))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=decimals(float(regret.max()))))
    ax.set(title="max regret", xlabel="scale factor k", ylabel="max regret")
    for a in axes:
        _factor_axis(a, factors)
        tidy(a)
    axes[0].legend(frameon=False)
    if owned:
        view = sweep.attrs.get("view", "one view")
        headline(
            fig,
            f"Multiplying {view}'s response by k: the averaged plan drifts, "
            "the minimax plan stays put",
        )
    return fig


def plot_frontier_spend(
    frontier: Frontier, plan: str | None = None, *, ax: Axes | None = None
) -> Figure:
    """Plot a plan's spend per period by channel against the total budget (stacked).

    ``frontier`` comes from :meth:`RobustAllocator.frontier`; ``plan`` is a plan
    family, default the recommended one (minimax); draws on ``ax`` if given.

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> fig = plot_frontier_spend(frontier)
    >>> fig.axes[0].get_title(loc="left")
    'Spend by channel, minimax plan'
    """
    plan = _plan(frontier, plan)
    fig, ax, _ = single(ax, (5.0, 3.6))
    spend = frontier.plans.sel(plan=plan)
    extra = [d for d in spend.dims if d not in (BUDGET_DIM, "channel")]
    spend = spend.sum(extra) if extra else spend
    channels = [str(c) for c in spend["channel"].values]
    ax.stackplot(
        frontier.budgets,
        spend.transpose("channel", BUDGET_DIM).values,
        labels=channels,
        colors=[channel_color(i) for i in range(len(channels))],
        alpha=0.85,
    )
    ax.set_ylabel("spend per period")
    ax.set_title(f"Spend by channel, {plan} plan", loc="left", fontweight="bold")
    ax.legend(title="channel", loc="upper left", frameon=False)
    _budget_axis(ax, frontier)
    return fig


def plot_frontier_regret(frontier: Frontier, *, ax: Axes | None = None) -> Figure:
    """Plot every plan family's max regret against the total budget.

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> [line.get_label() for line in plot_frontier_regret(frontier).axes[0].lines][-1]
    'minimax'
    """
    fig, ax, _ = single(ax, (5.0, 3.6))
    views = frontier.results[0].views
    regret = frontier.max_regret
    for name in map(str, regret["plan"].values):
        color = plan_color(name, views)
        variant = color is None and MINIMAX in name  # e.g. a weighted minimax family
        ax.plot(
            frontier.budgets,
            regret.sel(plan=name).values,
            marker="o",
            markersize=3,
            color=MINIMAX_COLOR if variant else color or OTHER_PLAN_COLOR,
            linewidth=2.2 if name == MINIMAX else 1.3,
            linestyle="--" if variant else "-",
            label=name,
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("max regret over the views")
    ax.set_title("Worst-case share of achievable outcome lost", loc="left", fontweight="bold")
    ax.legend(loc="best", frameon=False, fontsize=8)
    _budget_axis(ax, frontier)
    return fig


def plot_frontier_outcomes(
    frontier: Frontier,
    view: str,
    plan: str | None = None,
    *,
    interval: float = 0.9,
    ax: Axes | None = None,
) -> Figure:
    """Plot a plan's expected outcome under one view against the budget, with its interval.

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> fig = plot_frontier_outcomes(frontier, "experiment")
    >>> fig.axes[0].get_title(loc="left")
    'Outcome under experiment, minimax plan'
    """
    plan = _plan(frontier, plan)
    views = frontier.results[0].views
    if view not in views:
        raise KeyError(f"No view {view!r}; views are {views}.")
    fig, ax, _ = single(ax, (5.0, 3.6))
    color = view_colors(views)[view]
    out = frontier.outcomes(interval).sel(plan=plan, view=view)
    ax.fill_between(
        frontier.budgets,
        out["lower"].values,
        out["upper"].values,
        color=color,
        alpha=0.2,
        linewidth=0,
        label=f"{100 * interval:g} % interval",
    )
    ax.plot(frontier.budgets, out["expected"].values, color=color, marker="o", markersize=3)
    unit = frontier.results[0].units["outcome"][view]
    ax.set_ylabel(f"expected outcome{f' ({unit})' if unit else ''}")
    ax.set_title(f"Outcome under {view}, {plan} plan", loc="left", fontweight="bold")
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    _budget_axis(ax, frontier)
    return fig


def plot_frontier(
    frontier: Frontier,
    plan: str | None = None,
    *,
    interval: float = 0.9,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot the whole frontier: spend by channel, max regret, and each view's outcome.

    Parameters
    ----------
    frontier : Frontier
        From :meth:`RobustAllocator.frontier`.
    plan : str, optional
        Plan family of the spend and outcome panels; default the recommended plan.
    interval : float, default 0.9
        Level of the outcomes' credible bands.
    figsize, axes : optional
        As for every plot; axes for spend, regret, then one per view.

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> len(plot_frontier(frontier).axes)  # spend, regret, one per view
    5
    """
    views = frontier.results[0].views
    n = 2 + len(views)
    cols = 3 if axes is None else n
    rows = math.ceil(n / cols)
    shape = (rows, cols) if axes is None else (1, n)
    fig, grid, owned = panels(axes, shape, figsize or (4.6 * cols, 3.5 * rows))
    grid = grid.ravel()
    plot_frontier_spend(frontier, plan, ax=grid[0])
    plot_frontier_regret(frontier, ax=grid[1])
    for ax, view in zip(grid[2:], views, strict=False):
        plot_frontier_outcomes(frontier, view, plan, interval=interval, ax=ax)
    if owned:
        for ax in grid[n:]:
            fig.delaxes(ax)
    return fig


def _plan_lines(ax: Axes, factors: np.ndarray, values: xr.DataArray) -> None:
    for name in map(str, values["plan"].values):
        ax.plot(factors, values.sel(plan=name).values, label=name, **line_style(name))


def _factor_axis(ax: Axes, factors: np.ndarray) -> None:
    if factors.size and factors.min() > 0 and factors.max() / factors.min() >= 4:
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_locator(FixedLocator(factors))
    ax.set_xticks(factors, [f"{k:g}" for k in factors])


def _plan(frontier: Frontier, plan: str | None) -> str:
    names = [str(p) for p in frontier.plans["plan"].values]
    plan = plan or frontier.results[0].recommended
    if plan not in names:
        raise KeyError(f"No plan {plan!r} in the frontier; plans are {names}.")
    return plan


def _budget_axis(ax: Axes, frontier: Frontier) -> None:
    unit = frontier.results[0].units["spend"]
    ax.set_xlabel(f"total budget per period{f' ({unit})' if unit else ''}")
    tidy(ax)
