"""Diagnostics of a fitted view: a summary table (the figure is `plots.plot_fit`)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc.fit.result import FitResult

__all__ = ["fit_summary", "r_squared", "sampler_diagnostics"]

#: Largest R-hat of a healthy MCMC fit (Vehtari et al., 2021).
RHAT_MAX = 1.01
#: Least bulk and tail ESS per chain of a healthy MCMC fit.
ESS_PER_CHAIN = 100
#: Upper over lower interval bound of a positive parameter beyond which its draws
#: span orders of magnitude: the fit barely identifies it.
HEAVY_TAIL_RATIO = 100.0
#: Fits sampled with MCMC; the others are bootstraps or given draws.
MCMC_METHODS = ("bayesian", "lift_tests")


def _bounds(interval: float) -> tuple[float, float]:
    if not 0 < interval < 1:
        raise ValueError(f"interval must lie strictly between 0 and 1, got {interval!r}.")
    return (1 - interval) / 2, (1 + interval) / 2


def fitted_response(result: FitResult) -> xr.DataArray:
    """Mean response over the draws at the observed spend of a table fit.

    Returns
    -------
    xarray.DataArray
        Dims ``(date, channel)``, adstock applied along ``date``.
    """
    data, posterior = result.data, result.view.posterior
    stacked = posterior.stack(sample=("chain", "draw"))
    out = {}
    for channel in result.view.channels:
        spend = data["spend"].sel(channel=channel).values
        n = stacked.sizes["sample"]
        params = {p: stacked[p].sel(channel=channel).values for p in result.shape.params}
        values = result.shape.evaluate(np.repeat(spend[:, None], n, axis=1), params)
        out[channel] = values.mean(axis=1)
    frame = pd.DataFrame(out, index=data["date"].values)
    return xr.DataArray(
        frame.to_numpy(),
        dims=("date", "channel"),
        coords={"date": data["date"].values, "channel": list(out)},
    )


def r_squared(result: FitResult) -> pd.Series:
    """Per-channel :math:`R^2` of the mean fitted response of a table fit.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from pymc_robust_alloc.fit import fit_least_squares
    >>> x = np.linspace(0.5, 10, 20)
    >>> table = pd.DataFrame({"date": range(20), "channel": "tv", "spend": x,
    ...                       "response": 3 * x / (2 + x)})
    >>> r2 = r_squared(fit_least_squares(table, n_draws=5, random_seed=0))
    >>> round(float(r2["tv"]), 6)
    1.0
    """
    if not isinstance(result.data, xr.Dataset):
        raise ValueError(
            f"R^2 applies to fits of spend/response tables; this is a {result.method!r} fit."
        )
    observed = result.data["response"].transpose("date", "channel")
    residual = ((observed - fitted_response(result)) ** 2).sum("date")
    total = ((observed - observed.mean("date")) ** 2).sum("date")
    return (1 - residual / total).to_series().rename("r2")


def fit_summary(result: FitResult, interval: float = 0.9, loo: bool = False) -> pd.DataFrame:
    """Parameters with their intervals, goodness of fit and sampler health.

    Parameters
    ----------
    result : FitResult
        Any fit of :mod:`pymc_robust_alloc.fit`.
    interval : float, default 0.9
        Mass of the central interval of each parameter.
    loo : bool, default False
        Add the PSIS-LOO ``elpd_loo`` of a Bayesian table fit (computes the
        pointwise log likelihood; a few seconds).

    Returns
    -------
    pandas.DataFrame
        One row per (channel, parameter): ``mean``, ``median``, ``lower``,
        ``upper``, ``width`` (upper - lower), ``estimate`` (least squares),
        ``r2`` (table fits); for MCMC fits ``r_hat``, ``ess_bulk``, ``ess_tail``
        (ArviZ) and ``divergences``; with ``loo``, ``elpd_loo``. ``attrs`` holds
        the view name, method, shape and divergences.

    Warns
    -----
    UserWarning
        An MCMC fit with R-hat above :data:`RHAT_MAX`, an ESS below
        :data:`ESS_PER_CHAIN` per chain or divergences; a bootstrap or draws
        whose interval of a positive parameter spans more than
        :data:`HEAVY_TAIL_RATIO` (upper / lower).

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_robust_alloc.fit import view_from_draws
    >>> draws = pd.DataFrame({"draw": [0, 1, 2], "channel": "tv",
    ...                       "alpha": [1.0, 2.0, 3.0], "lam": [1.0, 1.0, 1.0]})
    >>> fit_summary(view_from_draws(draws)).loc[("tv", "alpha"), "median"]
    np.float64(2.0)
    """
    low, high = _bounds(interval)
    posterior = result.view.posterior
    quantiles = posterior.quantile([low, 0.5, high], dim=("chain", "draw"))
    mean = posterior.mean(("chain", "draw"))
    rows = []
    estimate = result.info.get("estimate")
    r2 = r_squared(result) if isinstance(result.data, xr.Dataset) else None
    for channel in result.view.channels:
        for p in result.shape.params:
            q = quantiles[p].sel(channel=channel).values
            row = {
                "channel": channel,
                "parameter": p,
                "mean": float(mean[p].sel(channel=channel)),
                "median": float(q[1]),
                "lower": float(q[0]),
                "upper": float(q[2]),
            }
            if estimate is not None:
                row["estimate"] = float(estimate[p].sel(channel=channel))
            if r2 is not None:
                row["r2"] = float(r2[channel])
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["channel", "parameter"])
    table.insert(4, "width", table["upper"] - table["lower"])
    if result.method in MCMC_METHODS:
        _mcmc_diagnostics(table, result)
    else:
        _check_tails(table, result, interval)
    if loo:
        table["elpd_loo"] = _elpd_loo(result)
    table.attrs.update(
        view=result.name,
        method=result.method,
        shape=result.shape.name,
        interval=interval,
        divergences=int(result.divergences),
    )
    return table


def sampler_diagnostics(posterior: xr.Dataset, name: str = "view") -> pd.DataFrame:
    """R-hat and bulk/tail ESS (ArviZ) of MCMC draws, with a warning above the thresholds.

    Parameters
    ----------
    posterior : xarray.Dataset
        Draws with ``chain`` and ``draw`` dims (e.g. a fitted MMM's posterior).
    name : str, default "view"
        Named in the warning.

    Returns
    -------
    pandas.DataFrame
        One row per (channel, parameter), ``channel`` empty for parameters
        without one and other dims in the parameter's label: ``r_hat`` (NaN
        for a single chain), ``ess_bulk``, ``ess_tail``.

    Warns
    -----
    UserWarning
        R-hat above :data:`RHAT_MAX`, or an ESS below :data:`ESS_PER_CHAIN`
        per chain.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> draws = np.random.default_rng(0).normal(size=(4, 500))
    >>> table = sampler_diagnostics(xr.Dataset({"sigma": (("chain", "draw"), draws)}))
    >>> bool(table.loc[("", "sigma"), "r_hat"] < 1.01)
    True
    """
    import arviz as az

    stats = {
        "r_hat": az.rhat(posterior),
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
    }
    rows = []
    for var in posterior.data_vars:
        cells = stats["r_hat"][var]
        for index in np.ndindex(cells.shape):
            labels = {
                d: (cells[d].values[i] if d in cells.coords else i)
                for d, i in zip(cells.dims, index, strict=True)
            }
            channel = str(labels.pop("channel", ""))
            extra = ",".join(f"{d}={v}" for d, v in labels.items())
            row = {"channel": channel, "parameter": f"{var}[{extra}]" if extra else str(var)}
            row.update({k: float(np.asarray(v[var].values)[index]) for k, v in stats.items()})
            rows.append(row)
    table = pd.DataFrame(rows).set_index(["channel", "parameter"])
    problems = []
    high = table.index[table["r_hat"] > RHAT_MAX].to_list()
    if high:
        problems.append(f"R-hat above {RHAT_MAX} for {high} (max {table['r_hat'].max():.3f})")
    least = ESS_PER_CHAIN * posterior.sizes["chain"]
    low = table.index[table[["ess_bulk", "ess_tail"]].min(axis=1) < least].to_list()
    if low:
        smallest = table[["ess_bulk", "ess_tail"]].min(axis=None)
        problems.append(f"ESS below {least} for {low} (min {smallest:.0f})")
    if problems:
        warnings.warn(
            f"View {name!r}: the MCMC fit may not have converged: {'; '.join(problems)}. "
            "Draw more (draws=, tune=, chains=) before trusting its plans.",
            UserWarning,
            stacklevel=2,
        )
    return table


def _mcmc_diagnostics(table: pd.DataFrame, result: FitResult) -> None:
    """Add :func:`sampler_diagnostics` and the divergences to a fit's summary."""
    diagnostics = sampler_diagnostics(result.view.posterior[list(result.shape.params)], result.name)
    for column in diagnostics.columns:
        table[column] = diagnostics[column].reindex(table.index)
    table["divergences"] = int(result.divergences)


def _check_tails(table: pd.DataFrame, result: FitResult, interval: float) -> None:
    """Warn when a positive parameter's interval spans orders of magnitude."""
    positive = (table["lower"] > 0) & (table["upper"] > 0)
    ratio = (table["upper"] / table["lower"]).where(positive)
    wide = ratio[ratio > HEAVY_TAIL_RATIO]
    if len(wide):
        worst = wide.idxmax()
        warnings.warn(
            f"View {result.name!r}: the {interval:.0%} interval of {wide.index.to_list()} "
            f"spans more than a factor {HEAVY_TAIL_RATIO:g} (worst {worst}: "
            f"{table.loc[worst, 'lower']:.3g} to {table.loc[worst, 'upper']:.3g}): the data "
            "barely identify them, and their draws will dominate the view. Add data or "
            "priors, or use a simpler shape.",
            UserWarning,
            stacklevel=3,
        )


def _elpd_loo(result: FitResult) -> float:
    if result.method != "bayesian":
        raise ValueError(f"LOO applies to Bayesian table fits; this is a {result.method!r} fit.")
    import arviz as az
    import pymc as pm

    log_lik = pm.compute_log_likelihood(
        result.idata,
        model=result.info["model"],
        extend_inferencedata=False,
        progressbar=False,
    )
    if isinstance(log_lik, xr.DataTree):
        log_lik = log_lik["log_likelihood"].to_dataset()
    tree = xr.DataTree.from_dict(
        {
            "posterior": result.idata["posterior"].to_dataset(),
            "log_likelihood": log_lik,
        }
    )
    return float(az.loo(tree).elpd)
