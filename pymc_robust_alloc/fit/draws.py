"""A view from parameter draws the user already has (e.g. a vendor's bootstrap)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc.checks import as_posterior
from pymc_robust_alloc.fit.result import FitResult
from pymc_robust_alloc.fit.tables import check_columns
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.shapes import CurveShape

__all__ = ["draws_from_frame", "view_from_draws"]


def draws_from_frame(frame: pd.DataFrame, params: list[str] | tuple[str, ...]) -> xr.Dataset:
    """Reshape a long table of draws into a ``(chain, draw, channel)`` Dataset.

    ``frame`` has one row per draw and channel: columns ``draw``, ``channel``,
    optionally ``chain``, and the ``params`` columns (the ones kept).

    Examples
    --------
    >>> frame = pd.DataFrame({"draw": [0, 1], "channel": "tv", "alpha": [1.0, 2.0]})
    >>> draws_from_frame(frame, ["alpha"])["alpha"].dims
    ('chain', 'draw', 'channel')
    """
    required = ["draw", "channel", *params]
    check_columns(
        frame,
        required,
        "The table of draws",
        f"Expected one row per draw and channel with columns {required} (and optionally 'chain').",
    )
    frame = frame if "chain" in frame.columns else frame.assign(chain=0)
    keys = ["chain", "draw", "channel"]
    duplicated = frame.duplicated(keys)
    if duplicated.any():
        raise ValueError(
            f"The table of draws repeats {int(duplicated.sum())} (chain, draw, "
            "channel) combinations, e.g. "
            f"{frame.loc[duplicated, keys].head(2).to_dict('records')}."
        )
    values = frame[list(params)].apply(pd.to_numeric, errors="coerce")
    ds = frame[keys].join(values).set_index(keys).to_xarray()
    if any(bool(ds[p].isnull().any()) for p in params):
        counts = frame.groupby("channel").size().to_dict()
        raise ValueError(
            "Every channel needs the same (chain, draw) labels with numeric values; "
            f"rows per channel: {counts}. Fill or drop the incomplete draws."
        )
    order = list(dict.fromkeys(frame["channel"]))
    return ds.sel(channel=order).transpose("chain", "draw", "channel")


def view_from_draws(
    draws: pd.DataFrame | xr.Dataset | xr.DataTree,
    name: str = "vendor",
    saturation="michaelis_menten",
    adstock=None,
    *,
    channels: list[str] | None = None,
    evidence: Mapping | xr.DataArray | None = None,
) -> FitResult:
    """Build a view from draws of a shape's parameters, validated.

    Parameters
    ----------
    draws : pandas.DataFrame, xarray.Dataset or xarray.DataTree
        A long table (see :func:`draws_from_frame`) or draws ``(chain, draw,
        channel)`` named after the shape's parameters; never modified.
    name, saturation, adstock
        The view's name and the shape the draws parametrise (see
        :class:`~pymc_robust_alloc.CurveShape`).
    channels : list of str, optional
        Channels the view must have; an error names any missing or extra one.
    evidence : mapping or DataArray, optional
        As for :class:`~pymc_robust_alloc.CurveView`, declared by whoever made the draws.

    Returns
    -------
    FitResult
        Method ``"draws"``; draws outside a parameter's support are refused.

    Examples
    --------
    >>> frame = pd.DataFrame({"draw": [0, 1, 0, 1],
    ...                       "channel": ["tv", "tv", "web", "web"],
    ...                       "alpha": [1.0, 1.2, 2.0, 2.1],
    ...                       "lam": [3.0, 3.3, 1.0, 0.9]})
    >>> view_from_draws(frame, name="vendor").view.channels
    ('tv', 'web')
    """
    shape = CurveShape(saturation, adstock)
    owner = f"view {name!r}"
    if isinstance(draws, pd.DataFrame):
        posterior = draws_from_frame(draws, shape.params)
    else:
        posterior = as_posterior(draws, owner=owner)
    missing = [p for p in shape.params if p not in posterior]
    if missing:
        raise ValueError(
            f"{owner}: the draws lack {missing}; {shape.name} needs {list(shape.params)}."
        )
    posterior = posterior[list(shape.params)]
    for p in shape.params:
        values = posterior[p].values
        finite = values[np.isfinite(values)]
        support = shape.support(p)
        bad = (
            (finite <= 0)
            if support == "positive"
            else ((finite <= 0) | (finite >= 1) if support == "unit" else np.zeros(0, bool))
        )
        if bad.any():
            rule = "positive" if support == "positive" else "strictly between 0 and 1"
            raise ValueError(
                f"{owner}: draws of {p!r} must be {rule}; {int(bad.sum())} of "
                f"{values.size} are not (min {finite.min():.4g}, "
                f"max {finite.max():.4g})."
            )
    if channels is not None and "channel" in posterior.dims:
        have = posterior["channel"].values.tolist()
        if set(have) != set(channels):
            raise ValueError(
                f"{owner}: the draws cover channels {sorted(have)} but the decision "
                f"has {sorted(channels)}; missing {sorted(set(channels) - set(have))}, "
                f"extra {sorted(set(have) - set(channels))}. Rename the labels so they "
                "match across views."
            )
        posterior = posterior.sel(channel=list(channels))
    return FitResult(view=CurveView(name, posterior, shape, evidence=evidence), method="draws")
