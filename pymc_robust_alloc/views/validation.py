"""Checks shared by the view constructors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["Range", "as_posterior", "check_finite", "check_labels", "check_support"]


def as_posterior(draws: xr.Dataset | xr.DataTree, *, owner: str) -> xr.Dataset:
    """Return the posterior dataset of ``draws``, checking its sample dims.

    Examples
    --------
    >>> ds = xr.Dataset({"a": (("chain", "draw"), np.zeros((1, 3)))})
    >>> as_posterior(xr.DataTree.from_dict({"posterior": ds}), owner="x").sizes["draw"]
    3
    """
    if isinstance(draws, xr.DataTree):
        if "posterior" not in draws.children:
            raise ValueError(
                f"{owner}: the DataTree has no 'posterior' group (groups: "
                f"{sorted(draws.children)}). Fit the model first, or for prior "
                "draws set `tree['posterior'] = tree['prior']`."
            )
        draws = draws["posterior"].to_dataset()
    elif hasattr(draws, "posterior") and not isinstance(draws, xr.Dataset):
        draws = draws.posterior  # legacy arviz.InferenceData
    if not isinstance(draws, xr.Dataset):
        raise TypeError(
            f"{owner}: expected an xarray Dataset or DataTree of posterior draws, "
            f"got {type(draws).__name__}."
        )
    missing = [d for d in ("chain", "draw") if d not in draws.dims]
    if missing:
        raise ValueError(
            f"{owner}: the draws lack the sample dims {missing}. Draws must have dims "
            "('chain', 'draw', ...); for a flat sample use "
            "`ds.expand_dims(chain=[0])` with the sample dim renamed to 'draw'."
        )
    return draws


def check_finite(posterior: xr.Dataset, *, owner: str) -> None:
    """Raise if any draw is NaN or infinite, naming the variables concerned.

    Examples
    --------
    >>> ds = xr.Dataset({"a": ("draw", [1.0, np.nan])})
    >>> check_finite(ds, owner="view 'x'")
    Traceback (most recent call last):
    ...
    ValueError: view 'x': non-finite draws in ['a'] (1 of 2 values). ...
    """
    bad = {
        name: int((~np.isfinite(var.values)).sum())
        for name, var in posterior.data_vars.items()
        if np.issubdtype(var.dtype, np.number) and not np.all(np.isfinite(var.values))
    }
    if bad:
        total = sum(posterior[n].size for n in bad)
        raise ValueError(
            f"{owner}: non-finite draws in {sorted(bad)} ({sum(bad.values())} of "
            f"{total} values). Drop or repair those draws (e.g. "
            "`posterior.dropna('draw')` after stacking) before building the view."
        )


def check_labels(posterior: xr.Dataset, dims: Sequence[str], *, owner: str) -> None:
    """Refuse budget dims that are empty, unlabelled or repeat a label.

    Examples
    --------
    >>> ds = xr.Dataset({"a": ("channel", [1.0, 2.0])}, coords={"channel": ["tv", "tv"]})
    >>> check_labels(ds, ["channel"], owner="view 'x'")
    Traceback (most recent call last):
    ...
    ValueError: view 'x': the channel labels repeat ['tv']; ...
    """
    for dim in dims:
        if posterior.sizes[dim] == 0:
            raise ValueError(
                f"{owner}: the draws have no {dim} labels (the {dim!r} dim is empty). Give "
                f"each parameter one value per {dim}, for at least one {dim}."
            )
        if dim not in posterior.coords:
            raise ValueError(
                f"{owner}: the {dim!r} dim of the draws is unlabelled; label it, e.g. "
                f"`draws.assign_coords({dim}=[...])`."
            )
        labels = posterior[dim].values.tolist()
        repeated = sorted({str(v) for v in labels if labels.count(v) > 1})
        if repeated:
            raise ValueError(
                f"{owner}: the {dim} labels repeat {repeated}; each {dim} must appear "
                "once. Sum or drop the duplicates before building the view."
            )


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
