"""Figures for a decision deck: beliefs, curves, plans, regret, success, the sweep.

Every function takes the package's own objects and returns a
:class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`, so
nothing is drawn on screen or kept in pyplot's registry: show it by making it the
last expression of a notebook cell, or save it with ``fig.savefig(...)``.

Colours mean the same thing in every figure: each view has one colour (in the
order the views are given, or as set by ``colors={view: colour}``), the averaged
plan is grey and the minimax plan black.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogLocator,
    NullLocator,
    PercentFormatter,
)
from scipy.stats import gaussian_kde

from pymc_robust_alloc.checks import check_interval, check_positive
from pymc_robust_alloc.names import AVERAGED, MINIMAX
from pymc_robust_alloc.result import MAX_REGRET, MIN_SUCCESS, AllocationResult
from pymc_robust_alloc.views.base import View
from pymc_robust_alloc.views.curves import CurveView

__all__ = [
    "plot_beliefs",
    "plot_plans",
    "plot_regret",
    "plot_response_curves",
    "plot_success",
    "plot_sweep",
    "plot_values",
    "plot_view_responses",
    "view_colors",
]

#: Colour-blind-safe view colours (Okabe-Ito), used in the order views are given.
VIEW_PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
)
AVERAGED_COLOR = "#8C8C8C"
MINIMAX_COLOR = "#1A1A1A"
#: Plans that are neither a view's optimum nor averaged/minimax: light, hatched.
OTHER_PLAN_COLOR = "#D4D4D4"
OTHER_PLAN_HATCHES = ("//", "\\\\", "xx", "..", "++")
#: Channel colours (bars of a plan), kept apart from the view colours.
CHANNEL_PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860")
Colors = Mapping[str, str] | None


def view_colors(views: Sequence[str | View], colors: Colors = None) -> dict[str, str]:
    """Return the colour of each view, as every plot of this module draws it.

    Parameters
    ----------
    views : sequence of str or View
        Views (or their names) in order; the i-th gets the i-th palette colour.
    colors : mapping, optional
        ``{view: colour}`` overrides.

    Returns
    -------
    dict
        ``{view name: colour}``.

    Examples
    --------
    >>> view_colors(["regression", "experiment"])
    {'regression': '#0072B2', 'experiment': '#E69F00'}
    """
    names = [v.name if isinstance(v, View) else str(v) for v in views]
    palette = {name: VIEW_PALETTE[i % len(VIEW_PALETTE)] for i, name in enumerate(names)}
    palette.update({str(k): v for k, v in (colors or {}).items()})
    return palette


def plot_beliefs(
    views: Sequence[View],
    *,
    colors: Colors = None,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot each view's beliefs about each saturation parameter, per channel.

    One row per parameter, one column per channel; in each panel the views'
    draws are overlaid as densities. A parameter whose draws span more than a
    factor of 10 is drawn on a log axis (LogNormal beliefs look symmetric
    there). Views that are not :class:`~pymc_robust_alloc.CurveView` have no
    per-channel curve parameters: they are left out, and the figure says so.

    Parameters
    ----------
    views : sequence of View
        The views, e.g. ``demo_views()``.
    colors : mapping, optional
        ``{view: colour}`` overrides of :func:`view_colors`.
    figsize : tuple of float, optional
        Defaults to 3.6 x 2.6 inches per panel.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per panel (figure title and legend are then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

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
    fig, axes, owned = _panels(
        axes,
        (len(params), len(channels)),
        figsize or (3.6 * len(channels), 2.6 * len(params) + 0.6),
    )
    pooled = set()
    for row, param in enumerate(params):
        for col, channel in enumerate(channels):
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
    names = [v.name for v in curve_views]
    if not owned:
        axes.flat[0].legend(handles, names, frameon=False, fontsize="small")
        return fig
    fig.legend(handles, names, loc="outside upper right", ncols=len(curve_views), frameon=False)
    title = "What each view believes about the saturation parameters"
    fig.suptitle(title, x=0.02, ha="left", fontweight="bold")
    _footnote(fig, skipped, pooled)
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
    """Plot each view's response curve per channel: median and credible band.

    One panel per channel, views overlaid, response per period against spend
    per period (no carry-over). Views that are not
    :class:`~pymc_robust_alloc.CurveView` are left out, and the figure says so.

    Parameters
    ----------
    views : sequence of View
        The views.
    max_spend : float, optional
        Right end of the spend axis (spend per period). By default, the spend
        at which every view's median curve reaches 90% of its plateau, capped
        at 3 times the largest half-saturation spend.
    interval : float, default 0.9
        Mass of the band, centred on the median.
    n_points : int, default 120
        Spend levels evaluated.
    colors : mapping, optional
        ``{view: colour}`` overrides of :func:`view_colors`.
    figsize : tuple of float, optional
        Defaults to 4.2 x 3.4 inches per panel.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per panel (figure title and legend are then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``views`` is ``demo_views(draws=100)`` (:func:`pymc_robust_alloc.demo.demo_views`).

    >>> fig = plot_response_curves(views, max_spend=60)
    >>> [ax.get_title() for ax in fig.axes]
    ['search', 'social', 'display']
    """
    interval = check_interval(interval)
    palette = view_colors(views, colors)
    curve_views, skipped = _curve_views(views, "plot_response_curves")
    channels = _channels(curve_views)
    if max_spend is None:
        max_spend = _default_max_spend(curve_views)
    else:
        max_spend = check_positive(max_spend, "max_spend", what="spend per period")
    grid = np.linspace(0.0, float(max_spend), int(n_points))
    low, high = (1 - interval) / 2, (1 + interval) / 2
    fig, axes, owned = _panels(
        axes, (1, len(channels)), figsize or (4.2 * len(channels), 3.4 + 0.4)
    )
    axes = axes[0]
    pooled = set()
    for view in curve_views:
        curves = view.curves(grid)
        extra = [d for d in curves.dims if d not in ("chain", "draw", "spend", "channel")]
        pooled.update(extra)
        q = curves.quantile([low, 0.5, high], dim=("chain", "draw", *extra))
        for ax, channel in zip(axes, channels, strict=True):
            if channel not in view.channels:
                continue
            band = q.sel(channel=channel)
            color = palette[view.name]
            ax.fill_between(grid, band[0], band[2], color=color, alpha=0.18, lw=0)
            ax.plot(grid, band[1], color=color, lw=2, label=view.name)
    for ax, channel in zip(axes, channels, strict=True):
        ax.set(title=str(channel), xlabel="spend per period", xlim=(0, grid[-1]))
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("response per period")
    handles, labels = axes[0].get_legend_handles_labels()
    handles.append(Rectangle((0, 0), 1, 1, color="#999999", alpha=0.3))
    labels.append(f"{interval:.0%} band")
    if not owned:
        axes[0].legend(handles, labels, frameon=False, fontsize="small")
        return fig
    fig.legend(
        handles,
        labels,
        loc="outside upper right",
        ncols=len(labels),
        frameon=False,
    )
    fig.suptitle(
        "Response curves: median and band per view",
        x=0.02,
        ha="left",
        fontweight="bold",
    )
    _footnote(fig, skipped, pooled)
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
    through the allocator's own graph: any view (an ``MMMView`` too), with
    its carry-in history and carry-over, each panel in its view's own units.

    Parameters
    ----------
    allocator : RobustAllocator
        The compiled allocator.
    result : AllocationResult, optional
        Sets the spend axis to the decision's range (the largest upper bound).
    max_spend : float, optional
        Right end of the spend axis (per period); default the result's range,
        else 1.
    interval : float, default 0.9
        Mass of the band over the draws, centred on the median.
    n_points : int, default 25
        Spend levels per channel (each is one evaluation of every view).
    figsize : tuple of float, optional
        Defaults to 4.2 x 3.4 inches per panel.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per view (the figure title is then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``;
    ``result`` comes from its :meth:`allocate` with bounds ``(0, 60)``.

    >>> fig = plot_view_responses(allocator, result, n_points=5)
    >>> [ax.get_title() for ax in fig.axes], [float(x) for x in fig.axes[0].get_xlim()]
    (['regression', 'experiment', 'attribution'], [0.0, 60.0])
    """
    interval = check_interval(interval)
    if max_spend is None:
        bounds = (result.settings or {}).get("bounds") if result is not None else None
        max_spend = float(np.max(list(bounds.values()))) if bounds else 1.0
    else:
        max_spend = check_positive(max_spend, "max_spend", what="spend per period")
    coords = allocator.budget_coords
    if set(coords) != {"channel"}:
        raise ValueError(
            f"plot_view_responses draws one curve per channel; these budgets have dims "
            f"{list(coords)}. Plot a channel-only allocator."
        )
    channels = list(coords["channel"])
    grid = np.linspace(0.0, float(max_spend), int(n_points))
    zero = allocator.responses(dict.fromkeys(channels, 0.0))
    low, high = (1 - interval) / 2, (1 + interval) / 2
    views = list(allocator.views)
    fig, axes, owned = _panels(axes, (1, len(views)), figsize or (4.2 * len(views), 3.6))
    axes = axes[0]
    periods = allocator.num_periods
    for j, channel in enumerate(channels):
        increments = xr.concat(
            [
                allocator.responses({c: (x if c == channel else 0.0) for c in channels}) - zero
                for x in grid
            ],
            dim="spend",
        )
        q = increments.quantile([low, 0.5, high], dim="sample", skipna=True)
        color = CHANNEL_PALETTE[j % len(CHANNEL_PALETTE)]
        for ax, view in zip(axes, views, strict=True):
            band = q.sel(view=view).values
            ax.fill_between(grid, band[0], band[2], color=color, alpha=0.18, lw=0)
            ax.plot(grid, band[1], color=color, lw=2, label=str(channel))
    palette = view_colors(views)
    for ax, view in zip(axes, views, strict=True):
        ax.set(xlabel="spend per period", xlim=(0.0, float(grid[-1])))
        ax.set_title(view, color=palette[view], fontweight="bold")
        ax.set_ylabel(f"increment over {periods} periods ({view}'s units)")
        ax.grid(alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False, title=f"channel ({interval:.0%} band)")
    if owned:
        fig.suptitle(
            "Each view's response to one channel's spend (others at zero)",
            x=0.02,
            ha="left",
            fontweight="bold",
        )
    return fig


def plot_plans(
    result: AllocationResult,
    plans: Sequence[str] | None = None,
    *,
    figsize: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot the candidate plans side by side: spend per period by channel.

    One group of bars per plan, one bar per channel (per budget cell when the
    budget has dims beyond ``channel``), each labelled with its spend. Plan
    names are coloured as everywhere else: a view's optimum in the view's
    colour, averaged grey, minimax black and bold.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate`.
    plans : sequence of str, optional
        Plans to show, in order; default all of ``result.plans``.
    figsize : tuple of float, optional
        Defaults to a width growing with the number of bars.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> fig = plot_plans(result, plans=["averaged", "minimax", "experiment"])
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['averaged', 'minimax', 'experiment']
    """
    names = _plan_names(result, plans)
    table = result.to_dataframe().loc[names]
    cells = [str(c) for c in table.columns]
    n_plans, n_cells = table.shape
    width = 0.8 / n_cells
    fig, ax, _ = _own_or_given(ax, figsize or (max(6.0, 0.45 * n_plans * n_cells + 2.0), 4.2))
    x = np.arange(n_plans)
    top = float(np.nanmax(table.to_numpy())) if table.size else 1.0
    for j, cell in enumerate(cells):
        heights = table.iloc[:, j].to_numpy(dtype=float)
        bars = ax.bar(
            x - 0.4 + width * (j + 0.5),
            heights,
            width * 0.92,
            color=CHANNEL_PALETTE[j % len(CHANNEL_PALETTE)],
            label=cell,
        )
        ax.bar_label(bars, fmt=_number_format(top), fontsize=8, padding=2)
    ax.set_xticks(x, names)
    _color_plan_labels(ax.get_xticklabels(), result)
    ax.set_ylabel("spend per period")
    ax.set_ylim(0, top * 1.15)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(
        title=" / ".join(d for d in result.plans.dims if d != "plan"),
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    total = _total(result)
    subtitle = f" (budget {total:g} per period)" if total is not None else ""
    ax.set_title(f"Candidate plans{subtitle}", loc="left", fontweight="bold")
    return fig


def plot_regret(
    result: AllocationResult,
    *,
    colors: Colors = None,
    cmap: str = "Reds",
    figsize: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    r"""Plot the regret matrix as an annotated heatmap, max regret highlighted.

    Rows are candidate plans, columns views, plus the max-regret column
    (outlined); each cell reads :math:`R(a, m) = 1 - V(a, m) / V^*(m)` as a
    percentage, and the smallest max regret is marked bold.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate`.
    colors : mapping, optional
        ``{view: colour}`` overrides of :func:`view_colors` (for the column labels).
    cmap : str, default "Reds"
        Colour map of the cells.
    figsize : tuple of float, optional
        Defaults to a size growing with the matrix.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo;
    ``tmp_dir`` is a folder to write to.

    >>> fig = plot_regret(result)
    >>> len(fig.axes)  # the heatmap and its colour bar
    2
    >>> fig.savefig(tmp_dir / "regret.png", dpi=72, bbox_inches="tight")
    >>> (tmp_dir / "regret.png").exists()
    True
    """
    table = result.regret_matrix
    vmax = max(float(np.nanmax(table.to_numpy(dtype=float))), 1e-12)
    return _plan_view_heatmap(
        result,
        table,
        best=int(np.nanargmin(table[MAX_REGRET].to_numpy(dtype=float))),
        cmap=cmap,
        limits=(0.0, vmax),
        label="regret  1 - V(a, m) / V*(m)",
        title="Regret of each plan under each view",
        colors=colors,
        figsize=figsize,
        ax=ax,
    )


def plot_success(
    result: AllocationResult,
    *,
    colors: Colors = None,
    cmap: str = "Greens",
    figsize: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    r"""Plot each plan's success probability under each view as a heatmap.

    Rows are candidate plans (the reference plan included), columns views, plus
    the minimum over views (outlined); each cell reads
    :math:`P_m(V(a) \ge (1 + r) V(a_{ref}))` as a percentage, and the largest
    minimum, the robust success probability, is marked bold.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate` with a ``reference_plan``.
    colors : mapping, optional
        ``{view: colour}`` overrides of :func:`view_colors` (for the column labels).
    cmap : str, default "Greens"
        Colour map of the cells.
    figsize : tuple of float, optional
        Defaults to a size growing with the matrix.
    ax : matplotlib.axes.Axes, optional
        Draw on these axes; default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo,
    run with ``reference_plan=current, required_gain=0.002``.

    >>> fig = plot_success(result)
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['regression', 'experiment', 'attribution', 'min']
    """
    table = result.success_matrix
    if table is None:
        raise ValueError(
            "This result has no success probabilities: allocate with a reference "
            "plan, e.g. `allocator.allocate(budget, bounds, reference_plan=current)`."
        )
    settings = result.settings or {}
    gain = settings.get("required_gain", 0.0)
    method = settings.get("success_method", "gaussian")
    return _plan_view_heatmap(
        result,
        table,
        best=int(np.nanargmax(table[MIN_SUCCESS].to_numpy(dtype=float))),
        cmap=cmap,
        limits=(0.0, 1.0),
        label=f"P( V(a) >= {1 + gain:g} x V(reference) ), {method}",
        title=f"Probability of beating the reference plan by {gain:.1%} under each view",
        colors=colors,
        figsize=figsize,
        ax=ax,
    )


def _plan_view_heatmap(
    result: AllocationResult,
    table,
    *,
    best: int,
    cmap: str,
    limits: tuple[float, float],
    label: str,
    title: str,
    colors: Colors,
    figsize: tuple[float, float] | None,
    ax: Axes | None = None,
) -> Figure:
    """Annotated plans x views heatmap whose last column summarises each row."""
    palette = view_colors(result.views, colors)
    values = table.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    fig, ax, _ = _own_or_given(ax, figsize or (1.5 * n_cols + 2.8, 0.5 * n_rows + 1.9))
    image = ax.imshow(values, cmap=cmap, vmin=limits[0], vmax=limits[1], aspect="auto")
    decimals = _decimals(limits[1])
    summary = table.columns[-1]
    for i in range(n_rows):
        for j in range(n_cols):
            shade = image.cmap(image.norm(values[i, j]))
            dark = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.55
            ax.text(
                j,
                i,
                f"{values[i, j]:.{decimals}%}",
                ha="center",
                va="center",
                color="white" if dark else "black",
                fontweight="bold" if (j == n_cols - 1 and i == best) else "normal",
            )
    ax.axvline(n_cols - 1.5, color="white", lw=4)
    ax.add_patch(
        Rectangle(
            (n_cols - 1.5, -0.5),
            1,
            n_rows,
            fill=False,
            edgecolor=MINIMAX_COLOR,
            lw=2,
            clip_on=False,
        )
    )
    ax.add_patch(
        Rectangle(
            (n_cols - 1.45, best - 0.45),
            0.9,
            0.9,
            fill=False,
            edgecolor="#0B6E4F",
            lw=2.5,
            clip_on=False,
        )
    )
    ax.set_xticks(range(n_cols), list(table.columns))
    ax.set_yticks(range(n_rows), [str(p) for p in table.index])
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    for tick in ax.get_xticklabels():
        tick.set_color(palette.get(tick.get_text(), MINIMAX_COLOR))
        if tick.get_text() == summary:
            tick.set_fontweight("bold")
    _color_plan_labels(ax.get_yticklabels(), result, colors)
    ax.set_xlabel("view judging the plan")
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("plan")
    ax.spines[:].set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.85, pad=0.02)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=decimals))
    bar.set_label(label)
    ax.set_title(title, loc="left", fontweight="bold", pad=12)
    return fig


def plot_sweep(
    sweep: xr.Dataset,
    *,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot the scale sweep: the averaged plan drifts, the minimax plan stays put.

    One panel per channel with the spend of the averaged (grey, dashed) and the
    minimax (black) plan against the factor :math:`k` that multiplies one view's
    response, and a last panel with each plan's max regret against :math:`k`.

    Parameters
    ----------
    sweep : xarray.Dataset
        From :func:`~pymc_robust_alloc.sensitivity.scale_sweep`.
    figsize : tuple of float, optional
        Defaults to 3.6 x 3.4 inches per panel.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per panel (figure title and legend are then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

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
    cell_dim = extra[0]
    cells = plans[cell_dim].values
    factors = np.asarray(sweep["factor"].values, dtype=float)
    n_panels = len(cells) + 1
    fig, axes, owned = _panels(axes, (1, n_panels), figsize or (3.6 * n_panels, 3.4 + 0.5))
    axes = axes[0]
    share = axes[0]
    names = [str(p) for p in plans["plan"].values]
    for ax, cell in zip(axes[:-1], cells, strict=True):
        if ax is not share:
            ax.sharey(share)
        for i, name in enumerate(names):
            spend = plans.isel({cell_dim: list(cells).index(cell)}).isel(plan=i)
            ax.plot(factors, spend.values, label=name, **_line_style(name))
        label = "/".join(map(str, cell)) if isinstance(cell, tuple) else str(cell)
        ax.set_title(label)
        ax.set_xlabel("scale factor k")
        _factor_axis(ax, factors)
    axes[0].set_ylabel("spend per period")
    axes[0].set_ylim(0, 1.25 * float(plans.max()))
    ax = axes[-1]
    regret = sweep["max_regret"]
    for i, name in enumerate([str(p) for p in regret["plan"].values]):
        ax.plot(factors, regret.isel(plan=i).values, label=name, **_line_style(name))
    ax.set_ylim(bottom=0, top=max(float(regret.max()) * 1.15, 1e-6))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=_decimals(float(regret.max()))))
    ax.set(title="max regret", xlabel="scale factor k", ylabel="max regret")
    _factor_axis(ax, factors)
    for a in axes:
        a.grid(alpha=0.3)
        a.spines[["top", "right"]].set_visible(False)
    axes[0].legend(frameon=False)
    if not owned:
        return fig
    view = sweep.attrs.get("view", "one view")
    fig.suptitle(
        f"Multiplying {view}'s response by k: the averaged plan drifts, the minimax plan stays put",
        x=0.02,
        ha="left",
        fontweight="bold",
    )
    return fig


def plot_values(
    result: AllocationResult,
    plans: Sequence[str] | None = None,
    *,
    colors: Colors = None,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    r"""Plot each plan's expected value under each view against that view's best.

    One panel per view (views measure in their own units), one bar per plan for
    :math:`V(a, m)`, the expected increment over the zero plan over the horizon,
    a line at :math:`V^*(m)`, and each bar labelled with its shortfall
    :math:`V / V^* - 1`.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate`.
    plans : sequence of str, optional
        Plans to show, in order; default all.
    colors : mapping, optional
        ``{view: colour}`` overrides of :func:`view_colors`.
    figsize : tuple of float, optional
        Defaults to 3.8 inches wide per view.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per panel (figure title and legend are then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> fig = plot_values(result, plans=["averaged", "minimax"])
    >>> [ax.get_title() for ax in fig.axes]
    ['regression', 'experiment', 'attribution']
    """
    names = _plan_names(result, plans)
    views = result.views
    palette = view_colors(views, colors)
    fig, axes, owned = _panels(
        axes,
        (1, len(views)),
        figsize or (3.8 * len(views) + 1.0, 0.45 * len(names) + 1.9),
        sharey=True,
    )
    axes = axes[0]
    y = np.arange(len(names))
    styles = [_plan_style(n, result, colors) for n in names]
    periods = result.settings.get("num_periods") if result.settings else None
    horizon = f" over {periods} periods" if periods else ""
    for ax, view in zip(axes, views, strict=True):
        value = result.value.sel(view=view).sel(plan=names).values.astype(float)
        best = float(result.v_star.sel(view=view))
        gap = value / best - 1
        for i, style in enumerate(styles):
            ax.barh(y[i], value[i], height=0.7, **style)
        edge = max(best, float(np.nanmax(value)))
        for i, g in enumerate(gap):
            ax.text(edge * 1.03, y[i], _shortfall(g), va="center", fontsize=9)
        ax.axvline(best, color=palette[view], lw=2, ls="--")
        ax.text(best, -0.6, "V*", color=palette[view], ha="center", va="bottom")
        ax.set_title(view, color=palette[view], fontweight="bold", pad=14)
        ax.set_xlabel(f"expected response{horizon}")
        ax.set_xlim(0, edge * 1.3)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    _color_plan_labels(axes[0].get_yticklabels(), result, colors)
    if not owned:
        return fig
    fig.suptitle(
        "Expected value of each plan under each view (increment over zero spend)",
        x=0.02,
        ha="left",
        fontweight="bold",
    )
    return fig


# -- helpers ----------------------------------------------------------------------


def _own_or_given(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """Return the figure and axes to draw on: the caller's ``ax``, or a new figure's."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots(), True
    return ax.get_figure(root=True), ax, False


def _panels(
    axes, shape: tuple[int, int], figsize: tuple[float, float], **subplots
) -> tuple[Figure, np.ndarray, bool]:
    """Return a ``shape`` grid of axes: the caller's ``axes`` (checked), or a new figure's."""
    if axes is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots(*shape, squeeze=False, **subplots), True
    grid = np.asarray(axes, dtype=object)
    if grid.size != shape[0] * shape[1]:
        raise ValueError(
            f"axes must hold {shape[0] * shape[1]} axes ({shape[0]} x {shape[1]} panels), "
            f"got {grid.size}."
        )
    grid = grid.reshape(shape)
    return grid.flat[0].get_figure(root=True), grid, False


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
    skipped = [v for v in views if not isinstance(v, CurveView)]
    if not curve_views:
        raise TypeError(
            f"{caller} draws per-channel saturation curves, which only CurveView "
            f"views have; got {[f'{v.name} ({type(v).__name__})' for v in views]}. "
            "Compare other views through their plans with plot_plans and plot_regret."
        )
    return curve_views, skipped


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


def _plan_names(result: AllocationResult, plans: Sequence[str] | None) -> list[str]:
    available = [str(p) for p in result.plans["plan"].values]
    if plans is None:
        return available
    names = [str(p) for p in plans]
    unknown = [p for p in names if p not in available]
    if unknown:
        raise ValueError(f"Unknown plans {unknown}; the result has plans {available}.")
    if not names:
        raise ValueError(f"plans is empty; choose from {available}.")
    return names


def _plan_style(name: str, result: AllocationResult, colors: Colors = None) -> dict:
    """Bar style of a plan: its view's colour, grey, black, or light and hatched."""
    palette = view_colors(result.views, colors)
    if name in palette:
        return {"color": palette[name]}
    if name == AVERAGED:
        return {"color": AVERAGED_COLOR}
    if name == MINIMAX:
        return {"color": MINIMAX_COLOR}
    others = [
        str(p)
        for p in result.plans["plan"].values
        if str(p) not in palette and str(p) not in (AVERAGED, MINIMAX)
    ]
    index = others.index(name) if name in others else 0
    return {
        "facecolor": OTHER_PLAN_COLOR,
        "edgecolor": "#555555",
        "hatch": OTHER_PLAN_HATCHES[index % len(OTHER_PLAN_HATCHES)],
    }


def _color_plan_labels(labels, result: AllocationResult, colors: Colors = None) -> None:
    for label in labels:
        name = label.get_text()
        label.set_color(_plan_style(name, result, colors).get("color", "black"))
        if name == MINIMAX:
            label.set_fontweight("bold")


def _line_style(name: str) -> dict:
    if name == MINIMAX:
        return {"color": MINIMAX_COLOR, "lw": 2.2, "marker": "o", "ms": 5}
    if name == AVERAGED:
        return {"color": AVERAGED_COLOR, "lw": 2.2, "ls": "--", "marker": "s", "ms": 5}
    return {"lw": 1.5, "marker": "^", "ms": 4}


def _factor_axis(ax: Axes, factors: np.ndarray) -> None:
    if factors.size and factors.min() > 0 and factors.max() / factors.min() >= 4:
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_locator(FixedLocator(factors))
    ax.set_xticks(factors, [f"{k:g}" for k in factors])


def _decimals(largest: float) -> int:
    if largest >= 0.1:
        return 0
    if largest >= 0.01:
        return 1
    return 2


def _shortfall(gap: float) -> str:
    """``V / V* - 1`` as a percentage with at least one significant digit."""
    if not np.isfinite(gap) or abs(gap) < 1e-9:
        return "= V*" if np.isfinite(gap) else "n/a"
    digits = max(_decimals(abs(gap)), int(np.ceil(-np.log10(abs(gap) * 100))))
    return f"{gap:+.{digits}%}"


def _number_format(top: float) -> str:
    return "%.0f" if top >= 10 else "%.1f" if top >= 1 else "%.2g"


def _total(result: AllocationResult) -> float | None:
    total = result.settings.get("total_budget") if result.settings else None
    try:
        return float(total) if total is not None else None
    except (TypeError, ValueError):
        return None


def _footnote(fig: Figure, skipped: Sequence[View], pooled: set) -> None:
    notes = []
    if skipped:
        names = ", ".join(f"{v.name} ({type(v).__name__})" for v in skipped)
        notes.append(
            f"Not shown (no per-channel curve parameters): {names}; "
            "plot_view_responses(allocator) shows every view."
        )
    if pooled:
        notes.append(f"Draws pooled over {', '.join(sorted(map(str, pooled)))}.")
    if notes:
        fig.supxlabel("  ".join(notes), fontsize="small", color="#555555", x=0.02, ha="left")
