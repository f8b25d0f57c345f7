"""Bayesian fit of a response shape to a spend/response table with PyMC."""

from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm
import pymc.dims as pmd
import xarray as xr
from pymc_extras.prior import Prior

from pymc_robust_alloc.evidence import evidence_from_spend
from pymc_robust_alloc.fit.result import FitResult
from pymc_robust_alloc.fit.sampling import sample
from pymc_robust_alloc.fit.tables import as_spend_response, unit_maxima
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.shapes import CurveShape

__all__ = ["fit_bayesian", "posterior_to_raw", "resolve_priors"]

#: Default prior of the per-channel noise on the scaled response.
NOISE_PRIOR = Prior("HalfNormal", sigma=0.5, dims=("channel",))


def resolve_priors(
    shape: CurveShape, priors: Mapping[str, Prior] | None, *, noise: bool
) -> dict[str, Prior]:
    """Return the default priors, overridden by ``priors``, each with dim ``channel``."""
    known = list(shape.params) + (["sigma"] if noise else [])
    priors = dict(priors or {})
    unknown = sorted(set(priors) - set(known))
    if unknown:
        raise ValueError(
            f"Priors were given for {unknown}, which are not parameters of "
            f"{shape.name}. Its parameters are {known}."
        )
    resolved = {}
    for param in known:
        prior = priors.get(param)
        if prior is None:
            prior = NOISE_PRIOR if param == "sigma" else shape.default_prior(param)
        if not isinstance(prior, Prior):
            raise TypeError(
                f"The prior of {param!r} must be a pymc_extras Prior, e.g. "
                f"Prior('HalfNormal', sigma=1), got {type(prior).__name__}."
            )
        prior = prior.deepcopy()
        if not prior.dims:
            prior.dims = ("channel",)
        resolved[param] = prior
    return resolved


def fit_bayesian(
    table: pd.DataFrame | xr.Dataset,
    name: str = "attribution",
    saturation="michaelis_menten",
    adstock=None,
    *,
    priors: Mapping[str, Prior] | None = None,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    random_seed: int | None = None,
    sample_kwargs: Mapping | None = None,
    **columns: str | None,
) -> FitResult:
    r"""Fit a response shape to a spend/response table with PyMC; use its posterior.

    The model, per channel :math:`c` and date :math:`t`, on spend and response
    divided by their per-channel maximum (as PyMC-Marketing's MMM scales them):

    .. math::

        y_{t,c} \sim \mathrm{Normal}\big(f(\mathrm{adstock}(x)_{t,c};
        \theta_c),\ \sigma_c\big),

    with the component's default priors on :math:`\theta` (weakly informative on
    that scale) and :math:`\sigma_c \sim \mathrm{HalfNormal}(0.5)`. The posterior
    is converted back to raw units for the view.

    Parameters
    ----------
    table : pandas.DataFrame or xarray.Dataset
        A spend/response table, see :func:`~pymc_robust_alloc.fit.as_spend_response`.
    name, saturation, adstock
        The view's name and shape (see :class:`~pymc_robust_alloc.CurveShape`).
    priors : mapping of str to Prior, optional
        Overrides by parameter name (``"alpha"``, ``"lam"``, ``"adstock_alpha"``,
        ``"sigma"``...), on the scaled data; a prior without dims gets
        ``dims="channel"``.
    draws, tune, chains, random_seed, sample_kwargs
        Passed to :func:`pymc.sample`.
    **columns : str
        Column names (and ``date_format``) for ``as_spend_response``.

    Returns
    -------
    FitResult
        With ``idata``, ``model`` and ``divergences`` (which also warn).

    Examples
    --------
    With ``table`` as in :func:`fit_least_squares` (sampling takes seconds):

    >>> result = fit_bayesian(table, draws=100, tune=100, random_seed=0)  # doctest: +SKIP
    """
    shape = CurveShape(saturation, adstock)
    resolved = resolve_priors(shape, priors, noise=True)
    data = as_spend_response(table, min_points=len(shape.params) + 1, **columns)
    spend_scale, response_scale = unit_maxima(shape, data)
    coords = {
        "date": np.arange(data.sizes["date"]),
        "channel": data["channel"].values.tolist(),
    }
    x = (data["spend"] / spend_scale).transpose("date", "channel").values
    y = (data["response"] / response_scale).transpose("date", "channel").values
    start = time.perf_counter()
    with pm.Model(coords=coords) as model:
        spend = pmd.Data("spend", x, dims=("date", "channel"))
        params = {p: resolved[p].create_variable(p, xdist=True) for p in shape.params}
        pmd.Normal(
            "response",
            mu=shape.apply(spend, params).transpose("date", "channel"),
            sigma=resolved["sigma"].create_variable("sigma", xdist=True),
            observed=pmd.Data("observed", y, dims=("date", "channel")),
            dims=("date", "channel"),
        )
    idata, divergences = sample(
        model,
        f"View {name!r}: the Bayesian fit",
        draws=draws,
        tune=tune,
        chains=chains,
        random_seed=random_seed,
        sample_kwargs=sample_kwargs,
    )
    posterior = posterior_to_raw(
        shape, idata["posterior"].to_dataset(), spend_scale, response_scale
    )
    posterior = posterior.assign_coords(channel=coords["channel"])
    evidence = evidence_from_spend(data["spend"])
    return FitResult(
        view=CurveView(name, posterior, shape, evidence=evidence),
        method="bayesian",
        data=data,
        idata=idata,
        divergences=divergences,
        model=model,
        priors=resolved,
        seconds=time.perf_counter() - start,
    )


def posterior_to_raw(
    shape: CurveShape,
    posterior: xr.Dataset,
    spend_scale: xr.DataArray,
    response_scale: xr.DataArray,
) -> xr.Dataset:
    """Convert draws of the shape's parameters from scaled to raw units."""
    return xr.Dataset(
        {p: shape.to_raw(p, posterior[p], spend_scale, response_scale) for p in shape.params}
    )
