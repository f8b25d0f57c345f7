"""Validation of budgets, bounds, plans and weights at the public boundary.

Each ``check_*`` / ``as_*`` function validates one user input, converts it
and returns it; a bad input raises a ``TypeError`` (wrong kind of object) or a
``ValueError`` (right kind, wrong value) saying what is wrong and what to pass
instead.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = [
    "as_bounds",
    "as_period_factors",
    "as_plan",
    "check_budgets",
    "check_count",
    "check_interval",
    "check_num_periods",
    "check_quantile",
    "check_total_budget",
    "check_units",
    "check_weight_array",
    "check_weights",
]

BOUND = "bound"
BOUND_LABELS = ("lower", "upper")


def is_real(value: object) -> bool:
    """Whether ``value`` is a real number (Python or NumPy, or a 0-d array), not a bool.

    Examples
    --------
    >>> is_real(np.float32(2.5)), is_real(True), is_real("3"), is_real(None)
    (True, False, False, False)
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _is_int(value: object) -> bool:
    """Whether ``value`` is a Python or NumPy integer, not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def check_total_budget(total_budget: float) -> float:
    """Return ``total_budget`` as a float, refusing non-numbers and non-positive amounts.

    Parameters
    ----------
    total_budget : float
        Budget per period: a positive, finite real number.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``total_budget`` is not a real number (``None``, a string, a list or
        array, a bool).
    ValueError
        If it is zero, negative, NaN or infinite.

    Examples
    --------
    >>> check_total_budget(100)
    100.0
    >>> check_total_budget("100")
    Traceback (most recent call last):
    ...
    TypeError: total_budget must be a number (the budget per period), got str '100'. ...
    """
    if not is_real(total_budget):
        raise TypeError(
            "total_budget must be a number (the budget per period), got "
            f"{type(total_budget).__name__} {total_budget!r}. Pass e.g. total_budget=100.0."
        )
    value = float(total_budget)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"total_budget must be a positive, finite amount per period, got {total_budget!r}. "
            "Pass e.g. total_budget=100.0."
        )
    return value


def check_count(value: int, name: str, *, minimum: int = 1, example: int = 8) -> int:
    """Return ``value`` as an ``int``, refusing non-integers and values below ``minimum``.

    Floats are refused even when integral (``8.0``): a count computed as a float
    is usually a bug upstream, and ``8.5`` must not be truncated silently.

    Parameters
    ----------
    value : int
        A Python or NumPy integer.
    name : str
        The argument's name, for the error message.
    minimum : int, default 1
        The smallest value allowed.
    example : int, default 8
        A valid value, shown in the error message.

    Returns
    -------
    int

    Examples
    --------
    >>> check_count(np.int64(3), "draws", minimum=2)
    3
    >>> check_count(3.0, "draws", minimum=2)
    Traceback (most recent call last):
    ...
    TypeError: draws must be an int, got float 3.0. Pass an int such as draws=8.
    """
    if not _is_int(value):
        raise TypeError(
            f"{name} must be an int, got {type(value).__name__} {value!r}. "
            f"Pass an int such as {name}={example}."
        )
    if value < minimum:
        raise ValueError(
            f"{name} must be at least {minimum}, got {value!r}. Pass an int such as "
            f"{name}={example}."
        )
    return int(value)


def check_num_periods(num_periods: int) -> int:
    """Return the number of decision periods as an ``int`` of at least 1.

    Parameters
    ----------
    num_periods : int
        A Python or NumPy integer ``>= 1``. Floats (even ``8.0``) and strings
        are refused.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``num_periods`` is not an integer.
    ValueError
        If it is below 1.

    Examples
    --------
    >>> check_num_periods(8)
    8
    >>> check_num_periods(8.5)
    Traceback (most recent call last):
    ...
    TypeError: num_periods must be an int, got float 8.5. Pass an int such as num_periods=8.
    """
    return check_count(num_periods, "num_periods", minimum=1, example=8)


def check_quantile(quantile: float, name: str = "quantile") -> float:
    """Return a lower quantile strictly inside ``(0, 1)`` as a float.

    ``0`` would judge each view by its single worst draw and ``1`` by its best,
    neither a risk criterion; e.g. ``0.1`` is each view's 10% worst case.

    Examples
    --------
    >>> check_quantile(0.1)
    0.1
    >>> check_quantile(0.0)
    Traceback (most recent call last):
    ...
    ValueError: quantile must be strictly between 0 and 1, got 0.0; e.g. 0.1 ...
    """
    if not is_real(quantile):
        raise TypeError(
            f"{name} must be a number in (0, 1), got {type(quantile).__name__} {quantile!r}; "
            "e.g. 0.1 judges each view by its 10% worst case."
        )
    value = float(quantile)
    if not 0 < value < 1:
        raise ValueError(
            f"{name} must be strictly between 0 and 1, got {quantile!r}; e.g. 0.1 judges "
            "each view by its 10% worst case."
        )
    return value


def check_weight_array(weights: Sequence[float] | np.ndarray, name: str = "weights") -> np.ndarray:
    """Return positional weights as a 1-D float array: finite, non-negative, not all zero.

    For weights keyed by view name, use :func:`check_weights`.

    Examples
    --------
    >>> check_weight_array([2, 1]).tolist()
    [2.0, 1.0]
    >>> check_weight_array([0.0, 0.0])
    Traceback (most recent call last):
    ...
    ValueError: weights must be non-negative, finite and not all zero, got [0.0, 0.0]. ...
    """
    if isinstance(weights, Mapping):
        raise TypeError(
            f"{name} here are positional, one per view in the order of the view dim; got a "
            "mapping. Convert {view: weight} with "
            "`check_weights(weights, view_names)` first."
        )
    items = np.ravel(np.asarray(weights, dtype=object))
    if isinstance(weights, str) or not all(is_real(w) for w in items):
        raise TypeError(f"{name} must be numbers, one per view, got {weights!r}.")
    array = np.asarray(weights, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name} must be a 1-D array with one weight per view, got shape {array.shape}."
        )
    _check_weight_values(array, array.tolist(), name)
    return array


def _check_weight_values(array: np.ndarray, shown: object, name: str) -> None:
    if not np.all(np.isfinite(array)) or np.any(array < 0) or not np.any(array > 0):
        raise ValueError(
            f"{name} must be non-negative, finite and not all zero, got {shown}. A larger "
            "weight makes regret under that view costlier; 0 ignores the view."
        )


def check_weights(
    weights: Mapping[str, float] | None, view_names: Sequence[str] | Mapping[str, object]
) -> np.ndarray:
    """Return per-view weights aligned to ``view_names``, scaled so the largest is 1.

    Parameters
    ----------
    weights : mapping or None
        ``{view: weight}``; a view left out gets weight 1, ``None`` gives equal
        weights. A list or tuple is refused: its order cannot be checked
        against the views.
    view_names : sequence of str
        The views, in the order of the returned array (a mapping is read by
        its keys).

    Returns
    -------
    numpy.ndarray
        One weight per view, the largest 1.

    Raises
    ------
    TypeError
        If ``weights`` is not a mapping, or a weight is not a number.
    ValueError
        If it names unknown views, or a weight is negative or non-finite, or
        all are zero.

    Examples
    --------
    >>> check_weights({"experiment": 2.0}, ["regression", "experiment"]).tolist()
    [0.5, 1.0]
    >>> check_weights([2.0, 1.0], ["regression", "experiment"])
    Traceback (most recent call last):
    ...
    TypeError: weights must be a mapping {view: weight}, e.g. {'regression': 2.0}, ...
    """
    names = list(view_names)
    if weights is None:
        return np.ones(len(names))
    if not isinstance(weights, Mapping):
        raise TypeError(
            f"weights must be a mapping {{view: weight}}, e.g. {{{names[0]!r}: 2.0}}, got "
            f"{type(weights).__name__} {weights!r}; views left out get weight 1. A "
            "positional list is refused: its order cannot be checked against the views."
        )
    unknown = [v for v in weights if v not in names]
    if unknown:
        raise ValueError(f"weights name unknown views {unknown}; the views are {names}.")
    bad = {v: w for v, w in weights.items() if not is_real(w)}
    if bad:
        raise TypeError(f"weights must be numbers, got {bad}.")
    array = np.array([float(weights.get(v, 1.0)) for v in names])
    _check_weight_values(array, dict(zip(names, array.tolist(), strict=True)), "weights")
    return array / array.max()


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
    lower, upper = template.copy(), template + total_budget
    channels = budget_coords["channel"]
    if bounds is None:
        pass
    elif isinstance(bounds, xr.DataArray):
        lower, upper = _bounds_from_dataarray(bounds, budget_coords)
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
    bad = ~(np.isfinite(lower) & np.isfinite(upper))
    if bad.any():
        raise ValueError(
            f"Bounds must be finite numbers; they are NaN or infinite at {_cells(bad)}. "
            f"For no cap leave the channel out (it gets (0, total_budget))."
        )
    bad = lower < 0
    if bad.any():
        raise ValueError(
            f"Lower bounds must be non-negative; they are negative at {_cells(bad)} "
            f"({lower.values[bad.values].tolist()}). Use 0 for no minimum."
        )
    bad = lower > upper
    if bad.any():
        raise ValueError(
            f"A lower bound exceeds its upper bound at {_cells(bad)} (lower "
            f"{lower.values[bad.values].tolist()}, upper {upper.values[bad.values].tolist()}); "
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
    out = xr.concat([lower, upper], dim=BOUND).assign_coords({BOUND: list(BOUND_LABELS)})
    return out.transpose(*budget_coords, BOUND)


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


def check_interval(interval: float) -> float:
    """Return a credible-interval level strictly inside ``(0, 1)`` as a float.

    Examples
    --------
    >>> check_interval(0.9)
    0.9
    >>> check_interval(90)
    Traceback (most recent call last):
    ...
    ValueError: interval must be strictly between 0 and 1, got 90; e.g. 0.9 ...
    """
    if not is_real(interval):
        raise TypeError(
            f"interval must be a number in (0, 1), got {type(interval).__name__} "
            f"{interval!r}; e.g. 0.9 for a 90% credible interval."
        )
    value = float(interval)
    if not 0 < value < 1:
        raise ValueError(
            f"interval must be strictly between 0 and 1, got {interval!r}; e.g. 0.9 for a "
            "90% credible interval."
        )
    return value


def check_units(units: Mapping | None, views: Sequence[str]) -> dict:
    """Return ``{"spend": str | None, "outcome": {view: str | None}}`` from the user's units.

    ``units["outcome"]`` names each view's outcome (``{view: "sales (k$)"}``) or
    is one string for every view; views left out have no unit. Outcomes of
    different views count different things and are never added up.

    Examples
    --------
    >>> check_units({"spend": "k$/week", "outcome": {"mmm": "sales"}}, ["mmm", "lift"])
    {'spend': 'k$/week', 'outcome': {'mmm': 'sales', 'lift': None}}
    >>> check_units({"outcome": {"geo": "sales"}}, ["mmm", "lift"])
    Traceback (most recent call last):
    ...
    ValueError: units['outcome'] names unknown views ['geo']; the views are ['mmm', 'lift'].
    """
    views = [str(v) for v in views]
    if units is None:
        return {"spend": None, "outcome": dict.fromkeys(views)}
    if not isinstance(units, Mapping):
        raise TypeError(
            f"units must be a mapping, got {type(units).__name__}; e.g. "
            "{'spend': 'k$/week', 'outcome': {view: 'sales (k$)'}}."
        )
    unknown = sorted(set(units) - {"spend", "outcome"})
    if unknown:
        raise ValueError(f"units has unknown keys {unknown}; known keys: 'spend', 'outcome'.")
    spend = units.get("spend")
    outcome = units.get("outcome")
    if outcome is None or isinstance(outcome, str):
        outcome = dict.fromkeys(views, outcome)
    if not isinstance(outcome, Mapping):
        raise TypeError(
            f"units['outcome'] must be a string or a mapping {{view: unit}}, got "
            f"{type(outcome).__name__}."
        )
    extra = sorted(set(map(str, outcome)) - set(views))
    if extra:
        raise ValueError(f"units['outcome'] names unknown views {extra}; the views are {views}.")
    named = {str(k): v for k, v in outcome.items()}
    for key, value in [("spend", spend), *((f"outcome of {k!r}", v) for k, v in named.items())]:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"The unit of {key} must be a string, got {value!r}.")
    return {"spend": spend, "outcome": {v: named.get(v) for v in views}}


def check_budgets(budgets: Sequence[float]) -> np.ndarray:
    """Return total budgets as a float array: finite, positive and strictly increasing.

    Parameters
    ----------
    budgets : sequence of float
        Budgets per period.

    Examples
    --------
    >>> check_budgets([50, 100]).tolist()
    [50.0, 100.0]
    >>> check_budgets([100, 50])
    Traceback (most recent call last):
    ...
    ValueError: Budgets must be strictly increasing, got [100.0, 50.0]; pass them sorted ...
    """
    if isinstance(budgets, str | bytes) or not isinstance(budgets, Sequence | np.ndarray):
        raise TypeError(
            f"budgets must be a sequence of numbers, got {type(budgets).__name__}; "
            "e.g. [80, 100, 120]."
        )
    values = []
    for b in budgets:
        if not is_real(b) or not np.isfinite(float(b)):
            raise TypeError(f"budgets must be finite numbers, got {b!r}; e.g. [80, 100, 120].")
        values.append(float(b))
    if not values:
        raise ValueError("budgets is empty; pass at least one budget, e.g. [80, 100, 120].")
    array = np.array(values)
    bad = array[array <= 0].tolist()
    if bad:
        raise ValueError(f"Budgets must be positive, got {bad}; e.g. [80, 100, 120].")
    if np.any(np.diff(array) <= 0):
        raise ValueError(
            f"Budgets must be strictly increasing, got {values}; pass them sorted "
            f"without repeats, e.g. {sorted(set(values))}."
        )
    return array


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
