"""Validation of budgets, bounds and plans at the public boundary."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

__all__ = ["as_bounds", "as_plan", "check_total_budget"]

BOUND = "bound"


def check_total_budget(total_budget: float) -> float:
    """Return ``total_budget`` as a float, refusing non-positive or non-finite values.

    Examples
    --------
    >>> check_total_budget(100)
    100.0
    """
    value = float(total_budget)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"total_budget must be a positive, finite amount per period, got {total_budget!r}."
        )
    return value


def _empty(budget_coords: Mapping[str, tuple]) -> xr.DataArray:
    return xr.DataArray(
        np.zeros([len(v) for v in budget_coords.values()]),
        dims=tuple(budget_coords),
        coords={d: list(v) for d, v in budget_coords.items()},
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
        ``(*budget_dims, "bound")``, or ``None`` for ``(0, total_budget)`` everywhere.
    budget_coords : mapping
        Budget dims and labels.
    total_budget : float
        Budget per period.

    Returns
    -------
    xarray.DataArray
        Aligned to ``budget_coords``; ``bound`` is ``["lower", "upper"]``.

    Examples
    --------
    >>> b = as_bounds({"tv": (0, 60)}, {"channel": ("tv", "radio")}, 100.0)
    >>> b.sel(channel="radio").values.tolist()
    [0.0, 100.0]
    """
    template = _empty(budget_coords)
    lower, upper = template.copy(), template + total_budget
    channels = budget_coords["channel"]
    if bounds is None:
        pass
    elif isinstance(bounds, xr.DataArray):
        expected = {*budget_coords, BOUND}
        if set(bounds.dims) != expected or bounds.sizes[BOUND] != 2:
            raise ValueError(
                f"Bounds as a DataArray need dims {(*budget_coords, BOUND)} with a "
                f"'bound' dim of length 2 (low, high); got dims {bounds.dims}."
            )
        for dim, labels in budget_coords.items():
            given = [v for v in bounds[dim].values.tolist()]
            if set(given) != set(labels):
                raise ValueError(
                    f"Bounds over {dim!r} are labelled {given}, the views' labels are "
                    f"{list(labels)}: give one (low, high) per label."
                )
        aligned = bounds.reindex({d: list(v) for d, v in budget_coords.items()})
        lower = aligned.isel({BOUND: 0}, drop=True).transpose(*budget_coords)
        upper = aligned.isel({BOUND: 1}, drop=True).transpose(*budget_coords)
    elif isinstance(bounds, Mapping):
        unknown = [c for c in bounds if c not in channels]
        if unknown:
            raise ValueError(
                f"Bounds name unknown channels {unknown}; the views' channels are {list(channels)}."
            )
        for channel, pair in bounds.items():
            low, high = _pair(channel, pair)
            lower.loc[{"channel": channel}] = low
            upper.loc[{"channel": channel}] = high
    else:
        raise TypeError(
            "bounds must be a dict {channel: (low, high)}, a DataArray with dims "
            f"(*budget_dims, 'bound'), or None; got {type(bounds).__name__}."
        )
    lower, upper = lower.astype(float), upper.astype(float)
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        raise ValueError("Bounds must be finite numbers.")
    if np.any(lower < 0):
        raise ValueError(f"Lower bounds must be non-negative, got {lower.values}.")
    if np.any(lower > upper):
        raise ValueError(
            f"A lower bound exceeds its upper bound: lower {lower.values}, upper {upper.values}."
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
    out = xr.concat([lower, upper], dim=BOUND).assign_coords({BOUND: ["lower", "upper"]})
    return out.transpose(*budget_coords, BOUND)


def _pair(channel, pair) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in pair)
    except (TypeError, ValueError):
        raise ValueError(
            f"Bounds of {channel!r} must be a (low, high) pair, got {pair!r}."
        ) from None
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

    Examples
    --------
    >>> as_plan({"tv": 60, "radio": 40}, {"channel": ("tv", "radio")}, "current").values
    array([60., 40.])
    """
    template = _empty(budget_coords)
    if isinstance(plan, Mapping):
        if set(budget_coords) != {"channel"}:
            raise ValueError(
                f"Plan {name!r}: with budget dims {list(budget_coords)}, give the plan "
                "as a DataArray over those dims."
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
    for dim, labels in budget_coords.items():
        if dim not in plan.coords or set(plan[dim].values.tolist()) != set(labels):
            raise ValueError(
                f"Plan {name!r} must give spend for exactly the {dim} labels "
                f"{list(labels)}; got {plan[dim].values.tolist() if dim in plan.coords else None}."
            )
    aligned = plan.reindex({d: list(v) for d, v in budget_coords.items()})
    aligned = aligned.transpose(*budget_coords).astype(float)
    if not np.all(np.isfinite(aligned)) or np.any(aligned < 0):
        raise ValueError(f"Plan {name!r} must be finite and non-negative: {aligned.values}.")
    return xr.DataArray(aligned.values, dims=template.dims, coords=template.coords)
