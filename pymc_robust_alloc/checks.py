"""Validation of user inputs at the public boundary, in the scikit-learn style.

Each ``check_*`` / ``as_*`` function validates one input, converts it and returns it,
so inner code can assume valid input. A wrong kind of object raises ``TypeError``, the
right kind with a wrong value ``ValueError``; the message says what is wrong and what
to pass instead, in one or two sentences.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = [
    "as_posterior",
    "check_budgets",
    "check_count",
    "check_finite",
    "check_interval",
    "check_labels",
    "check_num_periods",
    "check_positive",
    "check_quantile",
    "check_scales",
    "check_share",
    "check_total_budget",
    "check_units",
    "check_weight_array",
    "check_weights",
    "is_real",
]


def is_real(value: object) -> bool:
    """Whether ``value`` is a real number (Python, NumPy or a 0-d array), not a bool."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool | np.bool_)


def _kind(value: object) -> str:
    return f"{type(value).__name__} {value!r}"


# numbers ---------------------------------------------------------------------


def check_count(value: int, name: str, *, minimum: int = 1, example: int = 8) -> int:
    """Return ``value`` as an ``int`` of at least ``minimum``.

    Floats are refused even when integral (``8.0``): a count computed as a float is
    usually a bug upstream, and ``8.5`` must not be truncated silently.
    """
    if not _is_int(value):
        raise TypeError(
            f"{name} must be an int, got {_kind(value)}. Pass an int such as {name}={example}."
        )
    if value < minimum:
        raise ValueError(
            f"{name} must be at least {minimum}, got {value!r}. Pass an int such as "
            f"{name}={example}."
        )
    return int(value)


def check_num_periods(num_periods: int) -> int:
    """Return the number of decision periods as an ``int`` of at least 1."""
    return check_count(num_periods, "num_periods", minimum=1, example=8)


def check_positive(value: float, name: str, *, what: str | None = None, hint: str = "") -> float:
    """Return ``value`` as a positive, finite float (a scale, a step, a temperature).

    ``what`` names the quantity in the message (``"step size"`` reads "eta must be a
    positive step size"); ``hint`` is appended to it.
    """
    if not is_real(value):
        raise TypeError(f"{name} must be a number, got {_kind(value)}. {hint}".rstrip())
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        article = f"a positive {what}" if what else "positive"
        raise ValueError(f"{name} must be {article}, got {value!r}. {hint}".rstrip())
    return number


def check_total_budget(total_budget: float) -> float:
    """Return the budget per period as a positive, finite float."""
    if not is_real(total_budget):
        raise TypeError(
            f"total_budget must be a number (the budget per period), got "
            f"{_kind(total_budget)}. Pass e.g. total_budget=100.0."
        )
    value = float(total_budget)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(
            f"total_budget must be a positive, finite amount per period, got {total_budget!r}. "
            "Pass e.g. total_budget=100.0."
        )
    return value


def check_budgets(budgets: Sequence[float]) -> np.ndarray:
    """Return budgets per period as a float array: finite, positive, strictly increasing."""
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


def _check_unit_interval(value: float, name: str, *, closed: bool, example: str) -> float:
    interval = "[0, 1]" if closed else "(0, 1)"
    if not is_real(value):
        raise TypeError(f"{name} must be a number in {interval}, got {_kind(value)}; {example}.")
    number = float(value)
    inside = 0 <= number <= 1 if closed else 0 < number < 1
    if not inside:
        where = "in [0, 1]" if closed else "strictly between 0 and 1"
        raise ValueError(f"{name} must be {where}, got {value!r}; {example}.")
    return number


def check_quantile(quantile: float, name: str = "quantile", *, closed: bool = False) -> float:
    """Return a lower quantile as a float: strictly inside ``(0, 1)``, or in ``[0, 1]``.

    As a risk criterion (the default) ``0`` would judge each view by its single worst
    draw and ``1`` by its best, neither a risk level. As a statistic of the draws
    (``closed=True``) every ``q`` in ``[0, 1]`` is defined.
    """
    return _check_unit_interval(
        quantile, name, closed=closed, example="e.g. 0.1 judges each view by its 10% worst case"
    )


def check_interval(interval: float) -> float:
    """Return a credible-interval level strictly inside ``(0, 1)`` as a float."""
    return _check_unit_interval(
        interval, "interval", closed=False, example="e.g. 0.9 for a 90% credible interval"
    )


def check_share(share: float, name: str, *, example: str = "e.g. 0.5") -> float:
    """Return a share in ``(0, 1]`` as a float (a part of a whole; 1 is all of it)."""
    if not is_real(share) or not 0 < float(share) <= 1:
        raise ValueError(f"{name} must be in (0, 1], got {share!r}; {example}.")
    return float(share)


# per-view mappings -------------------------------------------------------------


def _by_view(values: Mapping, view_names: list, name: str, example: str) -> dict[str, float]:
    """Numbers of a ``{view: number}`` mapping, refusing non-mappings and unknown views."""
    if not isinstance(values, Mapping):
        raise TypeError(
            f"{name} must be a mapping {example}, got {_kind(values)}; views left out get 1. "
            "A positional list is refused: its order cannot be checked against the views."
        )
    unknown = [v for v in values if v not in view_names]
    if unknown:
        raise ValueError(f"{name} name unknown views {unknown}; the views are {view_names}.")
    bad = {v: w for v, w in values.items() if not is_real(w)}
    if bad:
        raise TypeError(f"{name} must be numbers, got {bad}.")
    return {v: float(values.get(v, 1.0)) for v in view_names}


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

    ``weights`` is ``{view: weight}`` (views left out get 1) or ``None`` (all equal).
    A list is refused: its order cannot be checked against the views.
    """
    names = list(view_names)
    if weights is None:
        return np.ones(len(names))
    example = f"{{view: weight}}, e.g. {{{names[0]!r}: 2.0}}"
    values = _by_view(weights, names, "weights", example)
    array = np.array(list(values.values()))
    _check_weight_values(array, values, "weights")
    return array / array.max()


def check_weight_array(
    weights: Sequence[float] | np.ndarray, name: str = "weights", *, n_views: int | None = None
) -> np.ndarray:
    """Return positional weights, one per view in the order of the view dim, as floats.

    For weights keyed by view name, use :func:`check_weights`.
    """
    if isinstance(weights, Mapping):
        raise TypeError(
            f"{name} here are positional, one per view in the order of the view dim; got a "
            "mapping. Convert {view: weight} with `check_weights(weights, view_names)`."
        )
    items = np.ravel(np.asarray(weights, dtype=object))
    if isinstance(weights, str) or not all(is_real(w) for w in items):
        raise TypeError(f"{name} must be numbers, one per view, got {weights!r}.")
    array = np.asarray(weights, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name} must be a 1-D array with one weight per view, got shape {array.shape}."
        )
    if n_views is not None and array.size != n_views:
        raise ValueError(
            f"{name} has {array.size} values for {n_views} views: give one weight per view, "
            "in the order of the view dim."
        )
    _check_weight_values(array, array.tolist(), name)
    return array


def check_scales(
    scales: Mapping[str, float] | None, view_names: Sequence[str], name: str = "response_scale"
) -> np.ndarray:
    """Return per-view response multipliers aligned to ``view_names``: positive, default 1."""
    names = list(view_names)
    if scales is None:
        return np.ones(len(names))
    values = _by_view(scales, names, name, "{view: k}")
    for view, k in values.items():
        check_positive(k, f"{name} of {view!r}", hint="Pass e.g. 1000.0 to count in thousands.")
    return np.array(list(values.values()))


def check_units(units: Mapping | None, views: Sequence[str]) -> dict:
    """Return ``{"spend": str | None, "outcome": {view: str | None}}`` from the user's units.

    ``units["outcome"]`` names each view's outcome (``{view: "sales (k$)"}``) or is one
    string for every view; views left out have no unit.
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


# posterior draws ---------------------------------------------------------------


def as_posterior(draws: xr.Dataset | xr.DataTree, *, owner: str) -> xr.Dataset:
    """Return the posterior dataset of ``draws`` (a Dataset or a DataTree), with sample dims."""
    if isinstance(draws, xr.DataTree):
        if "posterior" not in draws.children:
            raise ValueError(
                f"{owner}: the DataTree has no 'posterior' group (groups: "
                f"{sorted(draws.children)}). Fit the model first, or for prior draws set "
                "`tree['posterior'] = tree['prior']`."
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
            f"{owner}: the draws lack the sample dims {missing}; they need dims "
            "('chain', 'draw', ...). For a flat sample rename its dim to 'draw' and use "
            "`ds.expand_dims(chain=[0])`."
        )
    return draws


def check_finite(posterior: xr.Dataset, *, owner: str) -> None:
    """Refuse NaN or infinite draws, naming the variables concerned."""
    bad = {
        name: int((~np.isfinite(var.values)).sum())
        for name, var in posterior.data_vars.items()
        if np.issubdtype(var.dtype, np.number) and not np.all(np.isfinite(var.values))
    }
    if bad:
        total = sum(posterior[n].size for n in bad)
        raise ValueError(
            f"{owner}: non-finite draws in {sorted(bad)} ({sum(bad.values())} of {total} "
            "values). Drop or repair those draws before building the view."
        )


def check_labels(posterior: xr.Dataset, dims: Sequence[str], *, owner: str) -> None:
    """Refuse budget dims of the draws that are empty, unlabelled or repeat a label."""
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
                f"{owner}: the {dim} labels repeat {repeated}; sum or drop the duplicates "
                "before building the view."
            )
