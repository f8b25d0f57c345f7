"""Checks shared by the view constructors."""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["as_posterior", "check_finite"]


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
