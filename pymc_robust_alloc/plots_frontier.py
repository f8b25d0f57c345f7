"""Figures of a budget frontier: spend, max regret and outcomes against the total budget.

Each function takes a :class:`~pymc_robust_alloc.Frontier` and returns a
:class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`; pass
``ax=`` to draw into an existing axes (its figure is returned). Colours follow
:mod:`pymc_robust_alloc.plots`: each view's optimum in the view's colour, the
averaged plan grey, minimax black.
"""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from pymc_robust_alloc.frontier import BUDGET_DIM, Frontier
from pymc_robust_alloc.names import AVERAGED, MINIMAX
from pymc_robust_alloc.plots import (
    AVERAGED_COLOR,
    CHANNEL_PALETTE,
    MINIMAX_COLOR,
    OTHER_PLAN_COLOR,
    view_colors,
)

__all__ = [
    "plot_frontier",
    "plot_frontier_outcomes",
    "plot_frontier_regret",
    "plot_frontier_spend",
]


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    return Figure(figsize=figsize, layout="constrained").subplots()


def _plan(frontier: Frontier, plan: str | None) -> str:
    names = [str(p) for p in frontier.plans["plan"].values]
    plan = plan or frontier.results[0].recommended
    if plan not in names:
        raise KeyError(f"No plan {plan!r} in the frontier; plans are {names}.")
    return plan


def _style(ax: Axes, spend_unit: str | None) -> None:
    unit = f" ({spend_unit})" if spend_unit else ""
    ax.set_xlabel(f"total budget per period{unit}")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(alpha=0.3)


def plot_frontier_spend(
    frontier: Frontier, plan: str | None = None, *, ax: Axes | None = None
) -> Figure:
    """Plot a plan's spend per period by channel against the total budget (stacked).

    Parameters
    ----------
    frontier : Frontier
        From :meth:`RobustAllocator.frontier`.
    plan : str, optional
        Plan family; default the recommended plan (minimax).
    ax : matplotlib Axes, optional
        Axes to draw into.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> fig = plot_frontier_spend(frontier)
    >>> fig.axes[0].get_title(loc="left")
    'Spend by channel, minimax plan'
    """
    plan = _plan(frontier, plan)
    ax = _axes(ax, (5.0, 3.6))
    spend = frontier.plans.sel(plan=plan)
    extra = [d for d in spend.dims if d not in (BUDGET_DIM, "channel")]
    spend = spend.sum(extra) if extra else spend
    channels = [str(c) for c in spend["channel"].values]
    ax.stackplot(
        frontier.budgets,
        spend.transpose("channel", BUDGET_DIM).values,
        labels=channels,
        colors=[CHANNEL_PALETTE[i % len(CHANNEL_PALETTE)] for i in range(len(channels))],
        alpha=0.85,
    )
    ax.set_ylabel("spend per period")
    ax.set_title(f"Spend by channel, {plan} plan", loc="left", fontweight="bold")
    ax.legend(title="channel", loc="upper left", frameon=False)
    _style(ax, frontier.results[0].units["spend"])
    return ax.figure


def plot_frontier_regret(frontier: Frontier, *, ax: Axes | None = None) -> Figure:
    """Plot every plan family's max regret against the total budget.

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> [line.get_label() for line in plot_frontier_regret(frontier).axes[0].lines][-1]
    'minimax'
    """
    ax = _axes(ax, (5.0, 3.6))
    colors = view_colors(frontier.results[0].views)
    regret = frontier.max_regret
    for name in regret["plan"].values:
        name = str(name)
        color = colors.get(name, OTHER_PLAN_COLOR)
        if name == AVERAGED:
            color = AVERAGED_COLOR
        if MINIMAX in name:
            color = MINIMAX_COLOR
        ax.plot(
            frontier.budgets,
            regret.sel(plan=name).values,
            marker="o",
            markersize=3,
            color=color,
            linewidth=2.2 if name == MINIMAX else 1.3,
            linestyle="--" if name not in colors and MINIMAX in name and name != MINIMAX else "-",
            label=name,
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("max regret over the views")
    ax.set_title("Worst-case share of achievable outcome lost", loc="left", fontweight="bold")
    ax.legend(loc="best", frameon=False, fontsize=8)
    _style(ax, frontier.results[0].units["spend"])
    return ax.figure


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
    ax = _axes(ax, (5.0, 3.6))
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
    _style(ax, frontier.results[0].units["spend"])
    return ax.figure


def plot_frontier(
    frontier: Frontier,
    plan: str | None = None,
    *,
    interval: float = 0.9,
    figsize: tuple[float, float] | None = None,
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
    figsize : tuple of float, optional
        Defaults to three panels a row.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``frontier`` is ``allocator.frontier([80.0, 100.0, 120.0], bounds)`` on the demo.

    >>> len(plot_frontier(frontier).axes)  # spend, regret, one per view
    5
    """
    views = frontier.results[0].views
    n = 2 + len(views)
    cols = 3
    rows = math.ceil(n / cols)
    fig = Figure(figsize=figsize or (4.6 * cols, 3.5 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    plot_frontier_spend(frontier, plan, ax=axes[0])
    plot_frontier_regret(frontier, ax=axes[1])
    for ax, view in zip(axes[2:], views, strict=False):
        plot_frontier_outcomes(frontier, view, plan, interval=interval, ax=ax)
    for ax in axes[n:]:
        fig.delaxes(ax)
    return fig
