"""A small PyMC-Marketing MMM with seeded posterior draws in place of a fit."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import xarray as xr
from pymc_marketing.mmm import MMM, GeometricAdstock, LogisticSaturation


def synthetic_mmm(
    spend: Mapping[str, tuple[float, float]],
    start: str,
    freq: str,
    *,
    level: float,
    noise: float,
    lam_high: float,
    beta_high: float,
    n_draws: int,
    n_weeks: int = 40,
) -> MMM:
    """Build an MMM on ``n_weeks`` of uniform spend and give it seeded draws.

    The draws stand in for ``mmm.fit(X, y)``: ``mmm.idata`` holds a posterior
    and the fit data, with the attributes ``mmm.save`` writes.
    """
    channels = list(spend)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {"date": pd.date_range(start, periods=n_weeks, freq=freq)}
        | {c: rng.uniform(*spend[c], n_weeks) for c in channels}
    )
    y = pd.Series(level + rng.normal(0, noise, n_weeks), name="y")
    mmm = MMM(
        date_column="date",
        channel_columns=channels,
        adstock=GeometricAdstock(l_max=2),
        saturation=LogisticSaturation(),
    )
    mmm.build_model(X, y)
    shape = (1, n_draws, len(channels))
    per_channel = ("chain", "draw", "channel")
    posterior = xr.Dataset(
        {
            "adstock_alpha": (per_channel, rng.uniform(0.3, 0.6, shape)),
            "saturation_lam": (per_channel, rng.uniform(1, lam_high, shape)),
            "saturation_beta": (per_channel, rng.uniform(0.1, beta_high, shape)),
            "intercept_contribution": (("chain", "draw"), rng.uniform(0.5, 0.7, shape[:2])),
            "y_sigma": (("chain", "draw"), rng.uniform(0.01, 0.02, shape[:2])),
        },
        coords={"chain": [0], "draw": np.arange(n_draws), "channel": channels},
    )
    mmm.idata = xr.DataTree.from_dict(
        {"posterior": posterior, "fit_data": mmm.create_fit_data(X, y)}
    )
    mmm.set_idata_attrs(mmm.idata)
    return mmm
