"""Figure of each view's value along each channel, with the spend range its evidence covers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from pymc_robust_alloc.budget import as_plan
from pymc_robust_alloc.plots.style import MINIMAX_COLOR, Colors, panels, tidy, view_colors

__all__ = ["plot_evidence"]


def plot_evidence(
    allocator,
    plan: xr.DataArray | Mapping,
    *,
    views: Sequence[str] | None = None,
    channels: Sequence[str] | None = None,
    max_spend: float | None = None,
    n_points: int = 40,
    colors: Colors = None,
    axes=None,
) -> Figure:
    """Plot each view's value along each channel's spend, its evidence range shaded.

    One panel per view (rows) and channel (columns): :math:`V(a, m)` as the
    channel's spend varies, the others held at ``plan``; solid and shaded where
    view :math:`m`'s evidence covers the spend, dashed where extrapolated.

    Parameters
    ----------
    allocator : RobustAllocator
        Its views and compiled values.
    plan : DataArray or mapping
        The plan the other channels are held at, e.g. today's plan.
    views, channels : sequence of str, optional
        Subsets to show (default: all).
    max_spend : float, optional
        Right end of the spend axis (default: 1.5 times the largest plan spend
        or evidence bound shown).
    n_points : int, default 40
        Spend levels per curve.
    colors, axes : optional
        As for every plot (:mod:`pymc_robust_alloc.plots`); a views x channels grid.

    Examples
    --------
    ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)`` and
    ``current`` today's plan; the demo views declare no evidence, so nothing is
    shaded and every curve is dashed.

    >>> fig = plot_evidence(allocator, current, views=["experiment"], n_points=5)
    >>> [ax.get_title() for ax in fig.axes]
    ['experiment: search', 'experiment: social', 'experiment: display']
    """
    if list(allocator.budget_coords) != ["channel"]:
        raise NotImplementedError(
            "plot_evidence varies one channel at a time and supports budgets over "
            f"'channel' only; this allocator's budget dims are {list(allocator.budget_coords)}."
        )
    base = as_plan(plan, allocator.budget_coords, "plan")
    views = list(allocator.views if views is None else views)
    channels = list(allocator.budget_coords["channel"] if channels is None else channels)
    unknown = sorted(set(views) - set(allocator.views)) + sorted(
        set(channels) - set(allocator.budget_coords["channel"])
    )
    if unknown:
        raise ValueError(
            f"plot_evidence: unknown views or channels {unknown}; views "
            f"{list(allocator.views)}, channels {list(allocator.budget_coords['channel'])}."
        )
    evidence = allocator.evidence
    if max_spend is None:
        highest = float(base.max())
        if evidence is not None:
            highest = max(highest, float(evidence.sel(bound="upper").max(skipna=True).fillna(0)))
        max_spend = 1.5 * highest
    palette = view_colors(list(allocator.views), colors)
    curves = {}
    for channel in channels:
        # The evidence bounds join the grid, so solid and dashed parts meet.
        grid = np.linspace(0.0, float(max_spend), int(n_points))
        if evidence is not None:
            ends = evidence.sel(channel=channel).values.ravel()
            grid = np.unique(np.concatenate([grid, ends[np.isfinite(ends) & (ends <= max_spend)]]))
        values = []
        for x in grid:
            a = base.copy()
            a.loc[{"channel": channel}] = x
            values.append(allocator.values(a).values)
        curves[channel] = (grid, np.array(values))  # spend, (spend, view)
    fig, axes, owned = panels(
        axes,
        (len(views), len(channels)),
        (3.4 * len(channels), 2.5 * len(views)),
        sharex="col",
    )
    for i, view in enumerate(views):
        m = list(allocator.views).index(view)
        color = palette[view]
        for j, channel in enumerate(channels):
            ax = axes[i, j]
            grid, y = curves[channel][0], curves[channel][1][:, m]
            low = high = np.nan
            if evidence is not None:
                low, high = evidence.sel(view=view, channel=channel).values
            inside = (grid >= low) & (grid <= high) if np.isfinite(low) else grid < 0
            ax.plot(grid, y, color=color, ls="--", lw=1.4)
            ax.plot(grid, np.where(inside, y, np.nan), color=color, lw=2.2)
            if np.isfinite(low):
                ax.axvspan(low, max(high, low + 1e-3 * max_spend), color=color, alpha=0.18, lw=0)
            ax.axvline(float(base.sel(channel=channel)), color=MINIMAX_COLOR, ls=":", lw=1.0)
            ax.set_title(f"{view}: {channel}", fontsize=10)
            tidy(ax, grid=None)
            if j == 0:
                ax.set_ylabel("V(a, m)")
            if i == len(views) - 1:
                ax.set_xlabel("spend per period")
    if owned:
        fig.suptitle(
            "Value along each channel (others at the plan, dotted): solid and shaded where "
            "the evidence covers the spend, dashed where extrapolated",
            fontsize=10,
        )
    return fig
