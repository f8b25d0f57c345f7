"""The result of a fit: the view it produced, and what is needed to judge it."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pymc_extras.prior import Prior

from pymc_robust_alloc.checks import check_interval
from pymc_robust_alloc.fit.sampling import sampler_diagnostics
from pymc_robust_alloc.plots.fits import plot_fit
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.shapes import CurveShape

__all__ = ["HEAVY_TAIL_RATIO", "MCMC_METHODS", "FitResult", "interval_bounds"]

#: Upper over lower interval bound of a positive parameter beyond which its draws
#: span orders of magnitude: the fit barely identifies it.
HEAVY_TAIL_RATIO = 100.0
#: Fits sampled with MCMC; the others are bootstraps or given draws.
MCMC_METHODS = ("bayesian", "lift_tests")


def interval_bounds(interval: float) -> tuple[float, float]:
    """Lower and upper quantile of the central ``interval``."""
    interval = check_interval(interval)
    return (1 - interval) / 2, (1 + interval) / 2


@dataclass(frozen=True)
class FitResult:
    """A fitted :class:`~pymc_robust_alloc.CurveView` with what is needed to judge it.

    Attributes
    ----------
    view : CurveView
        The view, ready for the allocator; ``view.shape`` is the fitted shape.
    method : str
        ``"least_squares"``, ``"bayesian"``, ``"lift_tests"`` or ``"draws"``.
    data : xarray.Dataset or pandas.DataFrame, optional
        The spend/response arrays ``(date, channel)`` of a table fit, or the lift tests.
    idata, divergences, model, priors
        MCMC fits: the trace and priors (scaled units), its divergent
        transitions, and the PyMC model of a table fit.
    estimate, bootstrap, at_bound
        Least squares: point estimates in raw units, the bootstrap scheme, and
        per channel the refits that ran to the edge of the parameter range.
    untested : tuple of str
        Lift tests: channels drawn from ``untested_priors``.
    seconds : float
        Time the fit took.

    Examples
    --------
    >>> import pandas as pd
    >>> from pymc_robust_alloc.fit import view_from_draws
    >>> draws = pd.DataFrame({"draw": [0, 1, 2], "channel": "tv",
    ...                       "alpha": [1.0, 2.0, 3.0], "lam": [1.0, 1.0, 1.0]})
    >>> result = view_from_draws(draws, name="vendor")
    >>> result.method, result.shape.params
    ('draws', ('alpha', 'lam'))
    >>> result.summary().loc[("tv", "alpha"), ["median", "lower", "upper"]].round(2).tolist()
    [2.0, 1.1, 2.9]
    """

    view: CurveView
    method: str
    data: xr.Dataset | pd.DataFrame | None = None
    idata: xr.DataTree | None = None
    divergences: int = 0
    model: pm.Model | None = None
    priors: Mapping[str, Prior] = field(default_factory=dict)
    estimate: xr.Dataset | None = None
    bootstrap: str | None = None
    at_bound: Mapping[str, int] = field(default_factory=dict)
    untested: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def name(self) -> str:
        """The view's name."""
        return self.view.name

    @property
    def shape(self) -> CurveShape:
        """The fitted response shape."""
        return self.view.shape

    def fitted_response(self) -> xr.DataArray:
        """Mean response over the draws at a table fit's observed spend, ``(date, channel)``."""
        data, posterior = self._table(), self.view.posterior
        stacked = posterior.stack(sample=("chain", "draw"))
        out = {}
        for channel in self.view.channels:
            spend = data["spend"].sel(channel=channel).values
            n = stacked.sizes["sample"]
            params = {p: stacked[p].sel(channel=channel).values for p in self.shape.params}
            values = self.shape.evaluate(np.repeat(spend[:, None], n, axis=1), params)
            out[channel] = values.mean(axis=1)
        return xr.DataArray(
            np.column_stack(list(out.values())),
            dims=("date", "channel"),
            coords={"date": data["date"].values, "channel": list(out)},
        )

    def r_squared(self) -> pd.Series:
        """Per-channel :math:`R^2` of the mean fitted response of a table fit."""
        observed = self._table()["response"].transpose("date", "channel")
        residual = ((observed - self.fitted_response()) ** 2).sum("date")
        total = ((observed - observed.mean("date")) ** 2).sum("date")
        return (1 - residual / total).to_series().rename("r2")

    def summary(self, interval: float = 0.9, loo: bool = False) -> pd.DataFrame:
        """Parameters with their intervals, goodness of fit and sampler health.

        Parameters
        ----------
        interval : float, default 0.9
            Mass of the central interval of each parameter.
        loo : bool, default False
            Add the PSIS-LOO ``elpd_loo`` of a Bayesian table fit (computes the
            pointwise log likelihood; a few seconds).

        Returns
        -------
        pandas.DataFrame
            Per (channel, parameter): ``mean, median, lower, upper, width``, then
            ``estimate`` (least squares), ``r2`` (table fits), ``r_hat, ess_bulk,
            ess_tail, divergences`` (MCMC), ``elpd_loo``; ``attrs`` name the fit.

        Warns
        -----
        UserWarning
            MCMC that may not have converged (:func:`~pymc_robust_alloc.fit.sampler_diagnostics`),
            or other draws of a positive parameter spanning over :data:`HEAVY_TAIL_RATIO`.
        """
        low, high = interval_bounds(interval)
        posterior = self.view.posterior
        quantiles = posterior.quantile([low, 0.5, high], dim=("chain", "draw"))
        mean = posterior.mean(("chain", "draw"))
        r2 = self.r_squared() if isinstance(self.data, xr.Dataset) else None
        rows = []
        for channel in self.view.channels:
            for p in self.shape.params:
                q = quantiles[p].sel(channel=channel).values
                row = {
                    "channel": channel,
                    "parameter": p,
                    "mean": float(mean[p].sel(channel=channel)),
                    "median": float(q[1]),
                    "lower": float(q[0]),
                    "upper": float(q[2]),
                }
                if self.estimate is not None:
                    row["estimate"] = float(self.estimate[p].sel(channel=channel))
                if r2 is not None:
                    row["r2"] = float(r2[channel])
                rows.append(row)
        table = pd.DataFrame(rows).set_index(["channel", "parameter"])
        table.insert(4, "width", table["upper"] - table["lower"])
        if self.method in MCMC_METHODS:
            diagnostics = sampler_diagnostics(posterior[list(self.shape.params)], self.name)
            for column in diagnostics.columns:
                table[column] = diagnostics[column].reindex(table.index)
            table["divergences"] = int(self.divergences)
        else:
            self._check_tails(table, interval)
        if loo:
            table["elpd_loo"] = self._elpd_loo()
        table.attrs.update(
            view=self.name,
            method=self.method,
            shape=self.shape.name,
            interval=interval,
            divergences=int(self.divergences),
        )
        return table

    def plot(self, interval: float = 0.9, **kwargs):
        """Fitted curves over the data; see :func:`~pymc_robust_alloc.plots.plot_fit`."""
        return plot_fit(self, interval=interval, **kwargs)

    def _table(self) -> xr.Dataset:
        if not isinstance(self.data, xr.Dataset):
            raise ValueError(
                f"R^2 applies to fits of spend/response tables; this is a {self.method!r} fit."
            )
        return self.data

    def _check_tails(self, table: pd.DataFrame, interval: float) -> None:
        positive = (table["lower"] > 0) & (table["upper"] > 0)
        ratio = (table["upper"] / table["lower"]).where(positive)
        wide = ratio[ratio > HEAVY_TAIL_RATIO]
        if len(wide):
            worst = wide.idxmax()
            warnings.warn(
                f"View {self.name!r}: the {interval:.0%} interval of {wide.index.to_list()} "
                f"spans more than a factor {HEAVY_TAIL_RATIO:g} (worst {worst}: "
                f"{table.loc[worst, 'lower']:.3g} to {table.loc[worst, 'upper']:.3g}): the "
                "data barely identify them, and their draws will dominate the view. Add data "
                "or priors, or use a simpler shape.",
                UserWarning,
                stacklevel=3,
            )

    def _elpd_loo(self) -> float:
        if self.method != "bayesian":
            raise ValueError(f"LOO applies to Bayesian table fits; this is a {self.method!r} fit.")
        log_lik = pm.compute_log_likelihood(
            self.idata, model=self.model, extend_inferencedata=False, progressbar=False
        )
        if isinstance(log_lik, xr.DataTree):
            log_lik = log_lik["log_likelihood"].to_dataset()
        tree = xr.DataTree.from_dict(
            {"posterior": self.idata["posterior"].to_dataset(), "log_likelihood": log_lik}
        )
        return float(az.loo(tree).elpd)
