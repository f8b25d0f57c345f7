"""One look for every figure: palettes, plan styles, panels and annotations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from pymc_robust_alloc.checks import check_interval
from pymc_robust_alloc.names import AVERAGED, MINIMAX

if TYPE_CHECKING:  # pragma: no cover
    from pymc_robust_alloc.views.base import View

__all__ = ["view_colors"]

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
    """Return the colour of each view, as every plot of this package draws it.

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
    names = [v if isinstance(v, str) else str(v.name) for v in views]
    palette = {name: VIEW_PALETTE[i % len(VIEW_PALETTE)] for i, name in enumerate(names)}
    palette.update({str(k): v for k, v in (colors or {}).items()})
    return palette


def band(interval: float) -> tuple[float, float]:
    """Return the lower and upper quantiles of a central ``interval``."""
    interval = check_interval(interval)
    return (1 - interval) / 2, (1 + interval) / 2


def channel_color(index: int) -> str:
    return CHANNEL_PALETTE[index % len(CHANNEL_PALETTE)]


def panels(
    axes, shape: tuple[int, int], figsize: tuple[float, float], per: str = "", **subplots
) -> tuple[Figure, np.ndarray, bool]:
    """Return ``(figure, shape grid of axes, owned)``: the caller's ``axes`` (checked) or new.

    A new figure is a :class:`~matplotlib.figure.Figure` with constrained layout,
    never a pyplot figure; ``owned`` says whether titles and legends are ours.
    """
    if axes is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots(*shape, squeeze=False, **subplots), True
    grid = np.asarray(axes, dtype=object)
    if grid.size != shape[0] * shape[1]:
        raise ValueError(
            f"axes must hold {shape[0] * shape[1]} axes ({shape[0]} x {shape[1]} panels), "
            f"got {grid.size}{f': one axes per {per}' if per else ''}."
        )
    grid = grid.reshape(shape)
    return grid.flat[0].get_figure(root=True), grid, False


def single(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """Return ``(figure, axes, owned)``: the caller's ``ax``, or a new figure's."""
    fig, grid, owned = panels(None if ax is None else [ax], (1, 1), figsize)
    return fig, grid[0, 0], owned


def headline(fig: Figure, text: str) -> None:
    """Title a figure the way every multi-panel figure of the package is titled."""
    fig.suptitle(text, x=0.02, ha="left", fontweight="bold")


def tidy(ax: Axes, grid: str | None = "both") -> None:
    """No top or right spine, a light grid (``grid=None`` for none)."""
    ax.spines[["top", "right"]].set_visible(False)
    if grid:
        ax.grid(axis=grid, alpha=0.3)


def plan_color(name: str, views: Sequence[str], colors: Colors = None) -> str | None:
    """Colour a view's optimum as the view, averaged grey, minimax black; others None."""
    palette = view_colors(views, colors)
    if name in palette:
        return palette[name]
    return {AVERAGED: AVERAGED_COLOR, MINIMAX: MINIMAX_COLOR}.get(name)


def plan_style(name: str, result, colors: Colors = None) -> dict:
    """Bar style of a plan of ``result``: its :func:`plan_color`, or light and hatched."""
    color = plan_color(name, result.views, colors)
    if color is not None:
        return {"color": color}
    known = set(view_colors(result.views, colors)) | {AVERAGED, MINIMAX}
    others = [str(p) for p in result.plans["plan"].values if str(p) not in known]
    index = others.index(name) if name in others else 0
    return {
        "facecolor": OTHER_PLAN_COLOR,
        "edgecolor": "#555555",
        "hatch": OTHER_PLAN_HATCHES[index % len(OTHER_PLAN_HATCHES)],
    }


def color_plan_labels(labels, result, colors: Colors = None) -> None:
    for label in labels:
        name = label.get_text()
        label.set_color(plan_style(name, result, colors).get("color", "black"))
        if name == MINIMAX:
            label.set_fontweight("bold")


def line_style(name: str) -> dict:
    if name == MINIMAX:
        return {"color": MINIMAX_COLOR, "lw": 2.2, "marker": "o", "ms": 5}
    if name == AVERAGED:
        return {"color": AVERAGED_COLOR, "lw": 2.2, "ls": "--", "marker": "s", "ms": 5}
    return {"lw": 1.5, "marker": "^", "ms": 4}


def annotate_cells(ax: Axes, image, values: np.ndarray, fmt: str, bold=None, **text) -> None:
    """Write each cell of a heatmap ``image`` in it, white on dark cells."""
    for (i, j), v in np.ndenumerate(values):
        shade = image.cmap(image.norm(v))
        dark = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] < 0.55
        ax.text(
            j,
            i,
            format(v, fmt),
            ha="center",
            va="center",
            color="white" if dark else "black",
            fontweight="bold" if bold == (i, j) else "normal",
            **text,
        )


def decimals(largest: float) -> int:
    if largest >= 0.1:
        return 0
    if largest >= 0.01:
        return 1
    return 2


def shortfall(gap: float) -> str:
    """``V / V* - 1`` as a percentage with at least one significant digit."""
    if not np.isfinite(gap) or abs(gap) < 1e-9:
        return "= V*" if np.isfinite(gap) else "n/a"
    digits = max(decimals(abs(gap)), int(np.ceil(-np.log10(abs(gap) * 100))))
    return f"{gap:+.{digits}%}"


def number_format(top: float) -> str:
    return "%.0f" if top >= 10 else "%.1f" if top >= 1 else "%.2g"


def footnote(fig: Figure, skipped: Sequence[View], pooled: set) -> None:
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
