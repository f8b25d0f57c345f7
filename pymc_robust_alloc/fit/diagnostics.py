"""Diagnostics of a fitted view: a summary table and curves over the data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from pymc_robust_alloc.checks import check_interval
from pymc_robust_alloc.fit.result import FitResult

__all__ = ["fit_summary", "plot_fit", "r_squared", "sampler_diagnostics"]

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
    interval = check_interval(interval)
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


def plot_fit(
    result: FitResult,
    interval: float = 0.9,
    *,
    n_points: int = 60,
    figsize: tuple[float, float] | None = None,
    axes=None,
) -> Figure:
    """Plot the fitted curves with their uncertainty bands over the observed points.

    One panel per channel: the median per-period response curve (steady spend,
    so an adstock normalised to sum 1 drops out), the central ``interval`` band
    over the draws, and the data: the table's (spend, response) points, or each
    lift test drawn as its measured increment from the median curve at ``x``.

    Parameters
    ----------
    result : FitResult
        Any fit of :mod:`pymc_robust_alloc.fit`.
    interval : float, default 0.9
        Mass of the band.
    n_points : int, default 60
        Spend levels on the curve.
    figsize : tuple of float, optional
        Figure size; defaults to 4 inches per panel.
    axes : array of matplotlib.axes.Axes, optional
        Draw on these axes, one per channel (the figure title is then the
        caller's); default a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_robust_alloc.fit import view_from_draws
    >>> draws = pd.DataFrame({"draw": [0, 1], "channel": "tv",
    ...                       "alpha": [1.0, 2.0], "lam": [1.0, 1.0]})
    >>> len(plot_fit(view_from_draws(draws)).axes)
    1
    """
    low, high = _bounds(interval)
    channels = result.view.channels
    if axes is None:
        fig = Figure(figsize=figsize or (4 * len(channels), 3.2), layout="constrained")
        axes = fig.subplots(1, len(channels), squeeze=False)[0]
    else:
        axes = np.ravel(np.asarray(axes, dtype=object))
        if axes.size != len(channels):
            raise ValueError(
                f"axes must hold one axes per channel ({len(channels)}), got {axes.size}."
            )
        fig = None
    for ax, channel in zip(axes, channels, strict=True):
        top = _spend_range(result, channel)
        grid = np.linspace(0, top, n_points)
        curves = result.view.curves(grid).sel(channel=channel)
        q = curves.quantile([low, 0.5, high], dim=("chain", "draw"))
        ax.fill_between(grid, q[0], q[2], alpha=0.3, label=f"{interval:.0%} band")
        ax.plot(grid, q[1], label="median")
        _plot_data(ax, result, channel, grid, q[1].values)
        ax.set(title=channel, xlabel="spend per period", ylabel="response per period")
    axes[0].legend(loc="lower right", fontsize="small")
    if fig is None:
        return axes[0].get_figure(root=True)
    fig.suptitle(f"{result.name}: {result.shape.name} ({result.method})")
    return fig


def _spend_range(result: FitResult, channel) -> float:
    data = result.data
    if isinstance(data, xr.Dataset):
        return 1.1 * float(data["spend"].sel(channel=channel).max())
    if isinstance(data, pd.DataFrame):
        tests = data[data["channel"] == channel]
        if len(tests):
            return 1.2 * float((tests["x"] + tests["delta_x"]).max())
    scale = [
        result.view.posterior[p].sel(channel=channel).median()
        for p in result.shape.params
        if result.shape.unit_powers(p)[0] == 1
    ]
    return 3 * float(scale[0]) if scale else 1.0


def _plot_data(ax, result: FitResult, channel, grid, median) -> None:
    data = result.data
    if isinstance(data, xr.Dataset):
        ax.scatter(
            data["spend"].sel(channel=channel),
            data["response"].sel(channel=channel),
            s=10,
            color="black",
            alpha=0.6,
            label="observed",
        )
    elif isinstance(data, pd.DataFrame):
        tests = data[data["channel"] == channel]
        base = np.interp(tests["x"], grid, median)
        ax.errorbar(
            tests["x"] + tests["delta_x"],
            base + tests["delta_y"],
            yerr=tests["sigma"],
            fmt="o",
            color="black",
            label="lift tests",
        )
