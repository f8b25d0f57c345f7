"""Least-squares fit of a response shape per channel, with bootstrap draws."""

from __future__ import annotations

import itertools
import time
import warnings
from typing import Literal

import numpy as np
import pandas as pd
import xarray as xr
from scipy.optimize import least_squares
from scipy.special import expit, logit

from pymc_robust_alloc.checks import check_count
from pymc_robust_alloc.evidence import evidence_from_spend
from pymc_robust_alloc.fit.result import FitResult
from pymc_robust_alloc.fit.tables import as_spend_response, unit_maxima
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.shapes import CurveShape

__all__ = ["fit_least_squares"]

#: Bound of the unconstrained parameters (log or logit scale) during the search.
BOUND = 20.0


def fit_least_squares(
    table: pd.DataFrame | xr.Dataset,
    name: str = "attribution",
    saturation="michaelis_menten",
    adstock=None,
    *,
    n_draws: int = 200,
    bootstrap: Literal["residual", "case"] = "residual",
    random_seed: int | np.random.Generator | None = None,
    **columns: str | None,
) -> FitResult:
    r"""Fit a response shape to a spend/response table by least squares, per channel.

    Each channel's parameters minimise :math:`\sum_t (y_t - f(x_t; \theta))^2`
    (after any adstock of :math:`x` along ``date``). Spend and response are
    divided by their per-channel maximum during the search (known components
    only) and the parameters converted back. Uncertainty comes from a seeded
    bootstrap refitted ``n_draws`` times:

    - ``"residual"``: :math:`y^*_t = \hat f(x_t) + e^*_t`, residuals resampled
      with replacement (keeps the design, suits a time series with adstock);
    - ``"case"``: rows resampled with replacement (robust to heteroscedastic
      noise).

    Parameters
    ----------
    table : pandas.DataFrame or xarray.Dataset
        A spend/response table, see :func:`~pymc_robust_alloc.fit.as_spend_response`.
    name, saturation, adstock
        The view's name and shape (see :class:`~pymc_robust_alloc.CurveShape`).
    n_draws : int, default 200
        Bootstrap replicates, i.e. draws of the view.
    bootstrap : {"residual", "case"}, default "residual"
        Bootstrap scheme.
    random_seed : int or numpy.random.Generator, optional
        Seed of the bootstrap.
    **columns : str
        Column names (and ``date_format``) for ``as_spend_response``.

    Returns
    -------
    FitResult
        ``result.view`` is a :class:`~pymc_robust_alloc.CurveView`;
        ``result.estimate`` holds the point estimates.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> x = np.linspace(0.5, 10, 20)
    >>> table = pd.DataFrame({"date": range(20), "channel": "tv", "spend": x,
    ...                       "response": 3 * x / (2 + x)})
    >>> result = fit_least_squares(table, n_draws=20, random_seed=0)
    >>> round(float(result.estimate["lam"].sel(channel="tv")), 3)
    2.0
    """
    if bootstrap not in ("residual", "case"):
        raise ValueError(f"bootstrap must be 'residual' or 'case', got {bootstrap!r}.")
    n_draws = check_count(n_draws, "n_draws", minimum=2, example=500)
    shape = CurveShape(saturation, adstock)
    data = as_spend_response(table, min_points=len(shape.params) + 1, **columns)
    spend_scale, response_scale = unit_maxima(shape, data)
    rng = np.random.default_rng(random_seed)
    start = time.perf_counter()
    channels = data["channel"].values.tolist()
    draws = {p: np.empty((n_draws, len(channels))) for p in shape.params}
    estimate = {p: np.empty(len(channels)) for p in shape.params}
    at_bound = {}
    for j, channel in enumerate(channels):
        x = data["spend"].sel(channel=channel).values
        y = data["response"].sel(channel=channel).values
        scales = float(spend_scale[j]), float(response_scale[j])
        fit = _ChannelFit(shape, x, y, *scales)
        z_hat = fit.solve(fit.starts())
        fitted = fit.predict(z_hat)
        # Inflate the residuals by sqrt(n / (n - k)): fitted residuals are too small.
        dof = x.size / max(x.size - len(shape.params), 1)
        residuals = (fit.y - fitted) * np.sqrt(dof)
        hits = 0
        for i in range(n_draws):
            if bootstrap == "residual":
                y_star = fitted + rng.choice(residuals, size=residuals.size)
                z = fit.solve([z_hat], y=y_star)
            else:
                weights = rng.multinomial(x.size, np.full(x.size, 1 / x.size))
                z = fit.solve([z_hat], weights=weights)
            hits += bool(np.any(np.abs(z) >= BOUND - 1e-6))
            for p, value in fit.to_raw(z).items():
                draws[p][i, j] = value
        for p, value in fit.to_raw(z_hat).items():
            estimate[p][j] = value
        if hits:
            at_bound[channel] = hits
    if at_bound:
        warnings.warn(
            f"View {name!r}: some bootstrap fits ran to the edge of the parameter "
            f"range ({at_bound} of {n_draws} draws): the data do not pin down the "
            "curve of those channels (e.g. spend never reaches saturation). Their "
            "draws are very spread; consider a prior (Bayesian fit) or lift tests.",
            UserWarning,
            stacklevel=2,
        )
    coords = {"chain": [0], "draw": np.arange(n_draws), "channel": channels}
    posterior = xr.Dataset(
        {p: (("chain", "draw", "channel"), v[None]) for p, v in draws.items()},
        coords=coords,
    )
    estimates = xr.Dataset(
        {p: ("channel", v) for p, v in estimate.items()}, coords={"channel": channels}
    )
    evidence = evidence_from_spend(data["spend"])
    return FitResult(
        view=CurveView(name, posterior, shape, evidence=evidence),
        method="least_squares",
        data=data,
        estimate=estimates,
        bootstrap=bootstrap,
        at_bound=at_bound,
        seconds=time.perf_counter() - start,
    )


class _ChannelFit:
    """Least squares of one channel on the unconstrained (log/logit) scale."""

    def __init__(
        self, shape: CurveShape, x: np.ndarray, y: np.ndarray, x_scale: float, y_scale: float
    ) -> None:
        self.shape = shape
        self.x_scale, self.y_scale = x_scale, y_scale
        self.x = (x / self.x_scale)[:, None]
        self.y = y / self.y_scale
        self.support = [shape.support(p) for p in shape.params]

    def natural(self, z: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for p, s, v in zip(self.shape.params, self.support, z, strict=True):
            out[p] = np.array([np.exp(v) if s == "positive" else expit(v) if s == "unit" else v])
        return out

    def to_raw(self, z: np.ndarray) -> dict[str, float]:
        return {
            p: float(self.shape.to_raw(p, v[0], self.x_scale, self.y_scale))
            for p, v in self.natural(z).items()
        }

    def predict(self, z: np.ndarray) -> np.ndarray:
        return self.shape.evaluate(self.x, self.natural(z))[:, 0]

    def starts(self) -> list[np.ndarray]:
        grids = []
        for s in self.support:
            if s == "positive":
                grids.append(np.log([0.3, 1.0, 3.0]))
            elif s == "unit":
                grids.append(logit([0.2, 0.6]))
            else:
                grids.append([0.0])
        return [np.array(z) for z in itertools.product(*grids)]

    def solve(self, starts, y=None, weights=None) -> np.ndarray:
        y = self.y if y is None else y
        root = 1.0 if weights is None else np.sqrt(weights)

        def residuals(z):
            r = root * (y - self.predict(z))
            return np.where(np.isfinite(r), r, 1e6)

        best = None
        for z0 in starts:
            z0 = np.clip(z0, -BOUND + 1e-3, BOUND - 1e-3)
            res = least_squares(residuals, z0, bounds=(-BOUND, BOUND), method="trf")
            if best is None or res.cost < best.cost:
                best = res
        return best.x
