r"""Evidence ranges: the spend each view's evidence covers, and what a plan draws from outside it.

A view's evidence covers a range :math:`[l, u]` of spend per period in each budget
cell (a lift test's ``x`` to ``x + delta_x``, the spend a fit observed, or what the
user declares); outside it the curve is extrapolated. The **extrapolated share** of
a plan's value is :math:`1 - (V(\mathrm{clip}(a, l, u), m) - V(l, m)) / V(a, m)`,
in :math:`[0, 1]` for a response that grows with spend, NaN where a range is
unknown (see :doc:`/concepts`, "the evidence behind a value").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc.budget import _cells
from pymc_robust_alloc.checks import check_share, is_real
from pymc_robust_alloc.names import BOUND, BOUND_LABELS

__all__ = [
    "EXTRAPOLATION_THRESHOLD",
    "as_evidence",
    "check_evidence",
    "check_threshold",
    "evidence_from_lift_tests",
    "evidence_from_spend",
    "extrapolated_share",
]

#: Default share of a value from outside the evidence above which the allocator warns.
EXTRAPOLATION_THRESHOLD = 0.5


def as_evidence(
    evidence: Mapping | xr.DataArray | None,
    budget_coords: Mapping[str, tuple],
    owner: str = "the view",
) -> xr.DataArray | None:
    """Validate an evidence range and return it per budget cell.

    ``evidence`` is ``{channel: (lower, upper)}`` in spend per period (a channel
    left out, or ``None``, is unknown), or a DataArray with dims
    ``("channel", ..., "bound")`` (``bound`` labelled ``"lower"``, ``"upper"``;
    NaN where unknown). Returns dims ``(*budget_dims, "bound")``, or ``None`` if
    unknown everywhere; ``owner`` is named in error messages.

    Examples
    --------
    >>> coords = {"channel": ("tv", "radio")}
    >>> as_evidence({"tv": (10.0, 20.0)}, coords).sel(bound="upper").values.tolist()
    [20.0, nan]
    """
    if evidence is None:
        return None
    dims = tuple(budget_coords)
    template = xr.DataArray(
        np.full([len(v) for v in budget_coords.values()] + [2], np.nan),
        dims=(*dims, BOUND),
        coords={**{d: list(v) for d, v in budget_coords.items()}, BOUND: list(BOUND_LABELS)},
    )
    channels = list(budget_coords["channel"])
    if isinstance(evidence, Mapping):
        unknown = [c for c in evidence if c not in channels]
        if unknown:
            raise ValueError(
                f"{owner}: the evidence names unknown channels {unknown}; the channels "
                f"are {channels}."
            )
        for channel, pair in evidence.items():
            if pair is None:
                continue
            if (
                isinstance(pair, str)
                or np.ndim(pair) != 1
                or len(pair) != 2
                or not all(is_real(v) for v in pair)
            ):
                raise ValueError(
                    f"{owner}: the evidence of {channel!r} must be a pair (lower, upper) "
                    f"of spend per period, got {pair!r}."
                )
            template.loc[{"channel": channel}] = np.asarray(pair, dtype=float)
        out = template
    elif isinstance(evidence, xr.DataArray):
        extra = sorted(set(evidence.dims) - {*dims, BOUND})
        if BOUND not in evidence.dims or extra or evidence.sizes[BOUND] != 2:
            raise ValueError(
                f"{owner}: an evidence DataArray needs a 'bound' dim of length 2 "
                f"(lower, upper) and budget dims among {list(dims)}; got dims "
                f"{evidence.dims}."
            )
        if BOUND not in evidence.coords:
            evidence = evidence.assign_coords({BOUND: list(BOUND_LABELS)})
        labels = {d: evidence[d].values.tolist() for d in evidence.dims if d != BOUND}
        for dim, given in labels.items():
            if sorted(map(str, given)) != sorted(map(str, budget_coords[dim])):
                raise ValueError(
                    f"{owner}: the evidence's {dim!r} labels {given} differ from the "
                    f"view's {list(budget_coords[dim])}."
                )
        out = evidence.astype(float).broadcast_like(template).transpose(*template.dims)
        out = out.sel({BOUND: list(BOUND_LABELS)})
    else:
        raise TypeError(
            f"{owner}: evidence must be a mapping {{channel: (lower, upper)}}, a DataArray "
            f"with a 'bound' dim, or None; got {type(evidence).__name__}."
        )
    return check_evidence(out, owner)


def check_evidence(evidence: xr.DataArray, owner: str = "the view") -> xr.DataArray | None:
    """Refuse ranges half known, infinite, negative or lower > upper; ``None`` if all unknown.

    Examples
    --------
    >>> ranges = xr.DataArray([[-1.0, 2.0]], dims=("channel", "bound"),
    ...                       coords={"channel": ["tv"], "bound": ["lower", "upper"]})
    >>> check_evidence(ranges)
    Traceback (most recent call last):
    ...
    ValueError: the view: the evidence range of ['tv'] has negative spend ...
    """
    lower, upper = evidence.sel({BOUND: "lower"}), evidence.sel({BOUND: "upper"})
    known = np.isfinite(lower) & np.isfinite(upper)
    unknown = np.isnan(lower) & np.isnan(upper)
    rules = (
        (~(known | unknown), "is half known or infinite", "give both ends, or neither"),
        (known & (lower < 0), "has negative spend", "spend is at least 0"),
        (known & (lower > upper), "has lower > upper", "give (lower, upper)"),
    )
    for bad, what, fix in rules:
        if bad.any():
            cells = _cells(bad)
            raise ValueError(
                f"{owner}: the evidence range of {cells} {what} (lower "
                f"{lower.values[bad.values].tolist()}, upper "
                f"{upper.values[bad.values].tolist()}); {fix}."
            )
    if unknown.all():
        return None
    return evidence


def evidence_from_spend(spend: xr.DataArray, dim: str = "date") -> xr.DataArray:
    """Return the spend per period observed in each budget cell: ``[min, max]`` over ``dim``."""
    spend = spend.astype(float)
    out = xr.concat([spend.min(dim), spend.max(dim)], dim=BOUND)
    return out.assign_coords({BOUND: list(BOUND_LABELS)}).transpose(..., BOUND)


def evidence_from_lift_tests(tests: pd.DataFrame, channels: Sequence[str]) -> xr.DataArray:
    """Per channel, the spend the lift tests span: ``[min x, max(x + delta_x)]``.

    Between tests counts as covered; a channel without tests gets ``[0, 0]``.
    """
    after = tests["x"] + tests["delta_x"]
    lower = tests["x"].groupby(tests["channel"]).min()
    upper = after.groupby(tests["channel"]).max()
    pairs = [[float(lower.get(c, 0.0)), float(upper.get(c, 0.0))] for c in channels]
    return xr.DataArray(
        pairs,
        dims=("channel", BOUND),
        coords={"channel": list(channels), BOUND: list(BOUND_LABELS)},
    )


def check_threshold(threshold: float) -> float:
    """Return an extrapolation threshold in ``(0, 1]`` as a float."""
    return check_share(threshold, "extrapolation_threshold", example="e.g. 0.5 (1 never warns)")


def extrapolated_share(
    evaluate: Callable[[np.ndarray], np.ndarray],
    plans: Mapping[str, np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
) -> np.ndarray:
    r"""Share of each plan's value under each view from spend outside its evidence.

    ``evaluate(a)`` returns :math:`V(a, m)` for every view of a flat plan ``a``;
    ``lower``, ``upper`` have shape ``(views, cells)``, NaN where unknown. Returns
    shape ``(plans, views)``: :math:`1 - (V(\mathrm{clip}(a, l, u)) - V(l)) / V(a)`,
    NaN for a view with an unknown cell or a plan of no value.
    """
    n_views = lower.shape[0]
    out = np.full((len(plans), n_views), np.nan)
    for m in range(n_views):
        if not np.all(np.isfinite(lower[m]) & np.isfinite(upper[m])):
            continue
        at_lower = evaluate(lower[m])[m]
        for i, a in enumerate(plans.values()):
            value = evaluate(a)[m]
            if value > 0:
                inside = evaluate(np.clip(a, lower[m], upper[m]))[m] - at_lower
                out[i, m] = 1.0 - inside / value
    return out
