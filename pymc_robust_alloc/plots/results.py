"""Figures of an allocation result: plans, regret and success matrices, values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import PercentFormatter

from pymc_robust_alloc.plots.style import (
    MINIMAX_COLOR,
    Colors,
    annotate_cells,
    channel_color,
    color_plan_labels,
    decimals,
    headline,
    number_format,
    panels,
    plan_style,
    shortfall,
    single,
    tidy,
    view_colors,
)
from pymc_robust_alloc.result import MAX_REGRET, MIN_SUCCESS, AllocationResult

__all__ = ["plot_plans", "plot_regret", "plot_success", "plot_values"]


def plot_plans(
    result: AllocationResult,
    plans: Sequence[str] | None = None,
    *,
    figsize: tuple[float, float] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Plot the candidate plans side by side: spend per period by channel.

    One group of bars per plan, one bar per channel (per budget cell beyond
    ``channel``), each labelled with its spend.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate`.
    plans : sequence of str, optional
        Plans to show, in order; default all of ``result.plans``.
    figsize, ax : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`).

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> fig = plot_plans(result, plans=["averaged", "minimax", "experiment"])
    >>> [label.get_text() for label in fig.axes[0].get_xticklabels()]
    ['averaged', 'minimax', 'experiment']
    """
    names = _plan_names(result, plans)
    table = result.to_dataframe().loc[names]
    n_plans, n_cells = table.shape
    width = 0.8 / n_cells
    fig, ax, _ = single(ax, figsize or (max(6.0, 0.45 * n_plans * n_cells + 2.0), 4.2))
    x = np.arange(n_plans)
    top = float(np.nanmax(table.to_numpy())) if table.size else 1.0
    for j, cell in enumerate(table.columns):
        bars = ax.bar(
            x - 0.4 + width * (j + 0.5),
            table.iloc[:, j].to_numpy(dtype=float),
            width * 0.92,
            color=channel_color(j),
            label=str(cell),
        )
        ax.bar_label(bars, fmt=number_format(top), fontsize=8, padding=2)
    ax.set_xticks(x, names)
    color_plan_labels(ax.get_xticklabels(), result)
    ax.set_ylabel("spend per period")
    ax.set_ylim(0, top * 1.15)
    tidy(ax, grid="y")
    ax.legend(
        title=" / ".join(d for d in result.plans.dims if d != "plan"),
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    total = result.settings.get("total_budget") if result.settings else None
    subtitle = f" (budget {float(total):g} per period)" if _is_number(total) else ""
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

    Rows are plans, columns views plus max regret (outlined); each cell reads
    :math:`R(a, m) = 1 - V(a, m) / V^*(m)`, the smallest max regret bold.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate`.
    colors : optional
        ``{view: colour}`` overrides of :func:`view_colors`, for the column labels.
    cmap : str, default "Reds"
        Colour map of the cells.
    figsize, ax : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`).

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

    Cells read :math:`P_m(V(a) \ge (1 + r) V(a_{ref}))`, the last column the minimum
    over views, the robust success probability bold. Arguments as in
    :func:`plot_regret`; the allocation needs a ``reference_plan``.

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


def plot_values(
    result: AllocationResult,
    plans: Sequence[str] | None = None,
    *,
    colors: Colors = None,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    r"""Plot each plan's expected value under each view against that view's best.

    One panel per view in its own units: a bar per plan for :math:`V(a, m)`
    (increment over zero spend over the horizon) labelled with its shortfall
    :math:`V / V^* - 1`, and a line at :math:`V^*(m)`.

    Parameters
    ----------
    result : AllocationResult
        From :meth:`RobustAllocator.allocate`.
    plans : sequence of str, optional
        Plans to show, in order; default all.
    colors, figsize, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); one axes per view.

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
    fig, axes, owned = panels(
        axes,
        (1, len(views)),
        figsize or (3.8 * len(views) + 1.0, 0.45 * len(names) + 1.9),
        per="view",
        sharey=True,
    )
    axes = axes[0]
    y = np.arange(len(names))
    styles = [plan_style(n, result, colors) for n in names]
    periods = result.settings.get("num_periods") if result.settings else None
    horizon = f" over {periods} periods" if periods else ""
    for ax, view in zip(axes, views, strict=True):
        value = result.value.sel(view=view).sel(plan=names).values.astype(float)
        best = float(result.v_star.sel(view=view))
        for i, style in enumerate(styles):
            ax.barh(y[i], value[i], height=0.7, **style)
        edge = max(best, float(np.nanmax(value)))
        for i, gap in enumerate(value / best - 1):
            ax.text(edge * 1.03, y[i], shortfall(gap), va="center", fontsize=9)
        ax.axvline(best, color=palette[view], lw=2, ls="--")
        ax.text(best, -0.6, "V*", color=palette[view], ha="center", va="bottom")
        ax.set_title(view, color=palette[view], fontweight="bold", pad=14)
        ax.set_xlabel(f"expected response{horizon}")
        ax.set_xlim(0, edge * 1.3)
        tidy(ax, grid=None)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    color_plan_labels(axes[0].get_yticklabels(), result, colors)
    if owned:
        headline(fig, "Expected value of each plan under each view (increment over zero spend)")
    return fig


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
    fig, ax, _ = single(ax, figsize or (1.5 * n_cols + 2.8, 0.5 * n_rows + 1.9))
    image = ax.imshow(values, cmap=cmap, vmin=limits[0], vmax=limits[1], aspect="auto")
    places = decimals(limits[1])
    annotate_cells(ax, image, values, f".{places}%", bold=(best, n_cols - 1))
    ax.axvline(n_cols - 1.5, color="white", lw=4)
    outline = {"fill": False, "clip_on": False}
    ax.add_patch(
        Rectangle((n_cols - 1.5, -0.5), 1, n_rows, edgecolor=MINIMAX_COLOR, lw=2, **outline)
    )
    ax.add_patch(
        Rectangle((n_cols - 1.45, best - 0.45), 0.9, 0.9, edgecolor="#0B6E4F", lw=2.5, **outline)
    )
    ax.set_xticks(range(n_cols), list(table.columns))
    ax.set_yticks(range(n_rows), [str(p) for p in table.index])
    ax.tick_params(length=0)
    ax.xaxis.tick_top()
    for tick in ax.get_xticklabels():
        tick.set_color(palette.get(tick.get_text(), MINIMAX_COLOR))
        if tick.get_text() == table.columns[-1]:
            tick.set_fontweight("bold")
    color_plan_labels(ax.get_yticklabels(), result, colors)
    ax.set_xlabel("view judging the plan")
    ax.xaxis.set_label_position("top")
    ax.set_ylabel("plan")
    ax.spines[:].set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.85, pad=0.02)
    bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=places))
    bar.set_label(label)
    ax.set_title(title, loc="left", fontweight="bold", pad=12)
    return fig


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


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True
