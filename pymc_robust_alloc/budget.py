"""Labelled budget arrays: bounds per cell, candidate plans and per-period factors.

Each ``as_*`` function validates one user input and converts it to a DataArray aligned
to the budget cells; the scalar rules live in :mod:`pymc_robust_alloc.checks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from pymc_robust_alloc.checks import is_real
from pymc_robust_alloc.names import BOUND, BOUND_LABELS

__all__ = [
    "as_bounds",
    "as_period_factors",
    "as_plan",
]


def _empty(budget_coords: Mapping[str, tuple]) -> xr.DataArray:
    return xr.DataArray(
        np.zeros([len(v) for v in budget_coords.values()]),
        dims=tuple(budget_coords),
        coords={d: list(v) for d, v in budget_coords.items()},
    )


def _cells(mask: xr.DataArray) -> list:
    """Labels of the budget cells where ``mask`` holds: a label, or a tuple of labels."""
    stacked = mask.stack(cell=mask.dims) if mask.ndim > 1 else mask
    index = stacked.indexes[stacked.dims[0]]
    return [label for label, hit in zip(index, stacked.values, strict=True) if hit]


def _check_labels(given: list, labels: Sequence, dim: str, what: str) -> None:
    """Refuse labels over ``dim`` that repeat, or differ from the views' ``labels``."""
    repeated = sorted({str(v) for v in given if given.count(v) > 1})
    missing = [v for v in labels if v not in given]
    unknown = [v for v in given if v not in labels]
    if repeated or missing or unknown:
        details = "; ".join(
            f"{kind} {values}"
            for kind, values in (
                ("missing", missing),
                ("unknown", unknown),
                ("repeated", repeated),
            )
            if values
        )
        raise ValueError(
            f"{what} must give exactly the {dim} labels {list(labels)}, once each ({details})."
        )


def as_bounds(
    bounds: Mapping | xr.DataArray | None,
    budget_coords: Mapping[str, tuple],
    total_budget: float,
) -> xr.DataArray:
    """Bounds per budget cell as a DataArray with dims ``(*budget_dims, "bound")``.

    Parameters
    ----------
    bounds : dict, DataArray or None
        ``{channel: (low, high)}`` (applied to every cell of that channel; a
        channel left out gets ``(0, total_budget)``), a DataArray with dims
        ``(*budget_dims, "bound")`` whose ``bound`` labels are ``"lower"`` and
        ``"upper"`` in any order (an unlabelled ``bound`` dim is read as
        ``(lower, upper)``), or ``None`` for ``(0, total_budget)`` everywhere.
    budget_coords : mapping
        Budget dims and labels.
    total_budget : float
        Budget per period, as returned by :func:`check_total_budget`.

    Returns
    -------
    xarray.DataArray
        Aligned to ``budget_coords``; ``bound`` is ``["lower", "upper"]``.

    Raises
    ------
    TypeError
        If ``bounds`` is neither a dict, a DataArray nor ``None``.
    ValueError
        If the labels differ from the views', a bound is not a finite number, a
        lower bound is negative or above its upper bound, or no plan within
        the bounds spends exactly ``total_budget`` (lower bounds adding up to
        more, or upper bounds to less). Lower equal to upper bounds are
        accepted: when they add up to the budget they fix the only feasible plan.

    Examples
    --------
    >>> b = as_bounds({"tv": (0, 60)}, {"channel": ("tv", "radio")}, 100.0)
    >>> b.sel(channel="radio").values.tolist()
    [0.0, 100.0]
    >>> as_bounds({"tv": (70, 60)}, {"channel": ("tv", "radio")}, 100.0)
    Traceback (most recent call last):
    ...
    ValueError: A lower bound exceeds its upper bound at ['tv'] (lower [70.0], upper [60.0]); ...
    """
    template = _empty(budget_coords)
    channels = list(budget_coords["channel"])
    if bounds is None:
        lower, upper = template.values, template.values + total_budget
    elif isinstance(bounds, xr.DataArray):
        lower, upper = (b.values for b in _bounds_from_dataarray(bounds, budget_coords))
    elif isinstance(bounds, Mapping):
        unknown = [c for c in bounds if c not in channels]
        if unknown:
            raise ValueError(
                f"Bounds name unknown channels {unknown}; the views' channels are {channels}."
            )
        # Channel first: each channel's (low, high) fills its cells.
        axis = list(budget_coords).index("channel")
        lower = np.moveaxis(template.values.copy(), axis, 0)
        upper = lower + total_budget
        for channel, pair in bounds.items():
            k = channels.index(channel)
            lower[k], upper[k] = _pair(channel, pair)
        lower, upper = np.moveaxis(lower, 0, axis), np.moveaxis(upper, 0, axis)
    else:
        raise TypeError(
            "bounds must be a dict {channel: (low, high)}, a DataArray with dims "
            f"(*budget_dims, 'bound'), or None; got {type(bounds).__name__}."
        )
    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)

    def cells(bad: np.ndarray) -> list:
        return _cells(template.copy(data=bad))

    bad = ~(np.isfinite(lower) & np.isfinite(upper))
    if bad.any():
        raise ValueError(
            f"Bounds must be finite numbers; they are NaN or infinite at {cells(bad)}. "
            f"For no cap leave the channel out (it gets (0, total_budget))."
        )
    bad = lower < 0
    if bad.any():
        raise ValueError(
            f"Lower bounds must be non-negative; they are negative at {cells(bad)} "
            f"({lower[bad].tolist()}). Use 0 for no minimum."
        )
    bad = lower > upper
    if bad.any():
        raise ValueError(
            f"A lower bound exceeds its upper bound at {cells(bad)} (lower "
            f"{lower[bad].tolist()}, upper {upper[bad].tolist()}); "
            "give each cell (low, high) with low <= high."
        )
    low_sum, high_sum = float(lower.sum()), float(upper.sum())
    if low_sum > total_budget * (1 + 1e-12):
        raise ValueError(
            f"The bounds cannot meet the budget: the lower bounds add up to {low_sum:g} "
            f"per period, more than total_budget={total_budget:g}. Lower some minimums "
            "or raise the budget."
        )
    if high_sum < total_budget * (1 - 1e-12):
        raise ValueError(
            f"The bounds cannot meet the budget: the upper bounds add up to {high_sum:g} "
            f"per period, less than total_budget={total_budget:g}. Raise some caps or "
            "lower the budget."
        )
    return xr.DataArray(
        np.stack([lower, upper], axis=-1),
        dims=(*template.dims, BOUND),
        coords={**template.coords, BOUND: list(BOUND_LABELS)},
    )


def _bounds_from_dataarray(
    bounds: xr.DataArray, budget_coords: Mapping[str, tuple]
) -> tuple[xr.DataArray, xr.DataArray]:
    """Lower and upper bounds of a DataArray, read by the ``bound`` labels."""
    expected = {*budget_coords, BOUND}
    if set(bounds.dims) != expected or bounds.sizes[BOUND] != 2:
        raise ValueError(
            f"Bounds as a DataArray need dims {(*budget_coords, BOUND)} with a "
            f"'bound' dim of length 2 (low, high); got dims {bounds.dims}."
        )
    if not np.issubdtype(bounds.dtype, np.number) or np.issubdtype(bounds.dtype, np.bool_):
        raise TypeError(f"Bounds must be numbers; the DataArray has dtype {bounds.dtype}.")
    for dim, labels in budget_coords.items():
        given = bounds[dim].values.tolist() if dim in bounds.coords else None
        if given is None:
            raise ValueError(
                f"Bounds over {dim!r} are unlabelled: label them with the views' labels "
                f"{list(labels)}, e.g. `bounds.assign_coords({dim}={list(labels)})`."
            )
        _check_labels(given, labels, dim, "Bounds")
    aligned = bounds.reindex({d: list(v) for d, v in budget_coords.items()})
    if BOUND in bounds.coords:
        given = bounds[BOUND].values.tolist()
        if sorted(map(str, given)) != sorted(BOUND_LABELS):
            raise ValueError(
                f"The 'bound' dim of the bounds is labelled {given}; label it "
                f"{list(BOUND_LABELS)} (in any order)."
            )
        pick = {"lower": {BOUND: "lower"}, "upper": {BOUND: "upper"}}
        lower, upper = (aligned.sel(pick[k], drop=True) for k in BOUND_LABELS)
    else:
        lower, upper = (aligned.isel({BOUND: i}, drop=True) for i in (0, 1))
    return lower.transpose(*budget_coords), upper.transpose(*budget_coords)


def _pair(channel: object, pair: object) -> tuple[float, float]:
    """Return a ``(low, high)`` pair of floats, or raise a ``ValueError`` naming the channel."""
    if (
        isinstance(pair, str | bytes | Mapping)
        or not isinstance(pair, Sequence | np.ndarray)
        or len(pair) != 2
        or not all(is_real(v) for v in pair)
    ):
        raise ValueError(
            f"Bounds of {channel!r} must be a (low, high) pair of numbers, got {pair!r}; "
            "e.g. (0, 60)."
        )
    low, high = (float(v) for v in pair)
    return low, high


def as_plan(
    plan: xr.DataArray | Mapping | object, budget_coords: Mapping[str, tuple], name: str
) -> xr.DataArray:
    """Align a candidate plan (spend per period) to the budget cells.

    Parameters
    ----------
    plan : DataArray or mapping
        Spend per period per cell; a mapping ``{channel: spend}`` for a budget
        over channels only.
    budget_coords : mapping
        Budget dims and labels.
    name : str
        The plan's name, for error messages.

    Returns
    -------
    xarray.DataArray

    Raises
    ------
    TypeError
        If ``plan`` is positional (a list or array) or its spends are not numbers.
    ValueError
        If its dims or labels differ from the budget's (labels missing, unknown
        or repeated), or a spend is negative, NaN or infinite.

    Examples
    --------
    >>> as_plan({"tv": 60, "radio": 40}, {"channel": ("tv", "radio")}, "current").values
    array([60., 40.])
    >>> as_plan({"tv": 60}, {"channel": ("tv", "radio")}, "current")
    Traceback (most recent call last):
    ...
    ValueError: Plan 'current' must give exactly the channel labels ['tv', 'radio'], ...
    """
    template = _empty(budget_coords)
    if isinstance(plan, Mapping):
        if set(budget_coords) != {"channel"}:
            raise ValueError(
                f"Plan {name!r}: with budget dims {list(budget_coords)}, give the plan "
                "as a DataArray over those dims."
            )
        bad = {c: v for c, v in plan.items() if not is_real(v)}
        if bad:
            raise TypeError(
                f"Plan {name!r}: spend must be a number per channel, got {bad}; e.g. "
                f"{{{budget_coords['channel'][0]!r}: 40.0, ...}}."
            )
        plan = xr.DataArray(
            [float(v) for v in plan.values()],
            dims="channel",
            coords={"channel": list(plan.keys())},
        )
    if not isinstance(plan, xr.DataArray):
        raise TypeError(
            f"Plan {name!r} must be a labelled DataArray over {list(budget_coords)} (or "
            f"a dict {{channel: spend}}), got {type(plan).__name__}. Positional arrays are "
            "refused: channel order cannot be checked."
        )
    if set(plan.dims) != set(budget_coords):
        raise ValueError(f"Plan {name!r} has dims {plan.dims}, expected {tuple(budget_coords)}.")
    if not np.issubdtype(plan.dtype, np.number) or np.issubdtype(plan.dtype, np.bool_):
        raise TypeError(f"Plan {name!r}: spend must be numbers, got dtype {plan.dtype}.")
    for dim, labels in budget_coords.items():
        if dim not in plan.coords:
            raise ValueError(
                f"Plan {name!r} is unlabelled over {dim!r}: label it with {list(labels)}."
            )
        _check_labels(plan[dim].values.tolist(), labels, dim, f"Plan {name!r}")
    aligned = plan.reindex({d: list(v) for d, v in budget_coords.items()})
    aligned = aligned.transpose(*budget_coords).astype(float)
    bad = ~np.isfinite(aligned) | (aligned < 0)
    if bad.any():
        raise ValueError(
            f"Plan {name!r} must be finite and non-negative; spend is "
            f"{aligned.values[bad.values].tolist()} at {_cells(bad)}."
        )
    return xr.DataArray(aligned.values, dims=template.dims, coords=template.coords)


def as_period_factors(
    factors: Sequence[float] | Mapping | xr.DataArray,
    num_periods: int,
    budget_coords: Mapping[str, tuple],
    name: str,
    *,
    shares: bool,
) -> xr.DataArray:
    """Return per-period factors over ``("date", *budget_dims)`` for ``BudgetOptimizer``.

    ``budget_distribution_over_period`` (``shares=True``: each cell's shares
    of its budget over the periods, summing to 1) and ``cost_per_unit``
    (``shares=False``: positive prices) take the same forms: a sequence of one
    value per period (for every cell), ``{channel: per-period sequence}``, or a
    DataArray with dims ``("date", *budget_dims)``.

    Examples
    --------
    >>> f = as_period_factors([0.5, 0.3, 0.2], 3, {"channel": ("tv", "radio")},
    ...                       "budget_distribution_over_period", shares=True)
    >>> f.dims, f.sel(channel="tv").values.tolist()
    (('date', 'channel'), [0.5, 0.3, 0.2])
    >>> as_period_factors([0.5, 0.4], 2, {"channel": ("tv",)}, "flighting", shares=True)
    Traceback (most recent call last):
    ...
    ValueError: flighting must sum to 1 over the periods of every cell ...
    """
    dims = ("date", *budget_coords)
    coords = {"date": np.arange(num_periods), **{d: list(v) for d, v in budget_coords.items()}}
    shape = [num_periods, *(len(v) for v in budget_coords.values())]
    if isinstance(factors, xr.DataArray):
        if set(factors.dims) != set(dims):
            raise ValueError(f"{name} must have dims {dims}, got {factors.dims}.")
        for dim, labels in budget_coords.items():
            _check_labels(factors[dim].values.tolist(), labels, dim, name)
        values = factors.reindex({d: list(v) for d, v in budget_coords.items()})
        values = values.transpose(*dims).values
    elif isinstance(factors, Mapping):
        if set(budget_coords) != {"channel"}:
            raise ValueError(f"With budget dims {list(budget_coords)}, give {name} as a DataArray.")
        _check_labels(list(factors), budget_coords["channel"], "channel", name)
        columns = [np.asarray(factors[c], dtype=float) for c in budget_coords["channel"]]
        values = np.stack(columns, axis=-1) if columns[0].ndim else np.broadcast_to(columns, shape)
    else:
        column = np.asarray(factors, dtype=float)
        values = np.broadcast_to(column.reshape(-1, *[1] * (len(shape) - 1)), shape)
    values = np.asarray(values, dtype=float)
    if values.shape != tuple(shape):
        raise ValueError(
            f"{name} must give one value per period ({num_periods}) for every cell; got "
            f"shape {values.shape}, expected {tuple(shape)}."
        )
    if (
        not np.all(np.isfinite(values))
        or np.any(values < 0)
        or (not shares and np.any(values == 0))
    ):
        raise ValueError(
            f"{name} must be finite and {'non-negative' if shares else 'positive'}, got "
            f"{values.ravel().tolist()[:6]}..."
        )
    if shares and not np.allclose(values.sum(axis=0), 1.0, rtol=0, atol=1e-9):
        raise ValueError(
            f"{name} must sum to 1 over the periods of every cell (the share of its "
            f"budget in each period); sums are {np.round(values.sum(axis=0), 6).ravel().tolist()}."
        )
    return xr.DataArray(values, dims=dims, coords=coords)
