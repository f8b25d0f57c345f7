"""Ranges of curve parameters, and the check of draws against them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["Range", "check_support"]


@dataclass(frozen=True)
class Range:
    """Values a curve parameter may take: ``low < x`` (``open_low``) or ``low <= x``, ``x <= high``.

    ``why`` says what a value outside does to the curve, for the error message.
    """

    low: float = -np.inf
    high: float = np.inf
    open_low: bool = False
    why: str = ""

    def contains(self, values: np.ndarray) -> np.ndarray:
        """Elementwise whether ``values`` lie in the range."""
        above = values > self.low if self.open_low else values >= self.low
        return above & (values <= self.high)

    def __str__(self) -> str:
        if np.isinf(self.high):
            return f"{'>' if self.open_low else '>='} {self.low:g}"
        return f"in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}]"


def check_support(
    posterior: xr.Dataset,
    ranges: Mapping[str, Range],
    *,
    owner: str,
    component: str,
    prefix: str = "",
) -> None:
    """Refuse draws outside the parameter ranges a curve component is defined on.

    ``ranges`` maps a parameter name (without ``prefix``) to its :class:`Range`;
    parameters not listed, or absent from ``posterior``, are not checked. ``owner``
    (e.g. ``"view 'x'"``) and ``component`` name who checks what in the message.
    """
    for param, support in ranges.items():
        name = prefix + param
        if name not in posterior:
            continue
        var = posterior[name]
        inside = support.contains(var.values)
        if np.all(inside):
            continue
        sample_axes = tuple(var.get_axis_num(d) for d in ("chain", "draw"))
        other = tuple(i for i in range(var.ndim) if i not in sample_axes)
        bad = ~inside.all(axis=other) if other else ~inside
        where = ""
        if other:
            cells = (~inside).any(axis=sample_axes)
            labels = xr.DataArray(cells, dims=[var.dims[i] for i in other])
            labels = labels.assign_coords({d: var[d] for d in labels.dims if d in var.coords})
            stacked = labels.stack(cell=labels.dims) if labels.ndim > 1 else labels
            index = stacked.indexes.get(stacked.dims[0], range(stacked.size))
            hit = [c for c, h in zip(index, stacked.values, strict=True) if h]
            where = f" at {hit}"
        raise ValueError(
            f"{owner}: {int(bad.sum())} of {bad.size} draws of {name!r} are outside "
            f"{component}'s support ({param} {support}){where}: {support.why}. Drop those "
            "draws, or check the parameterisation."
        )
