import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from pymc_robust_alloc.fit import fit_summary, view_from_draws


def draws_table(alpha, lam):
    n = alpha.size
    return pd.DataFrame({"draw": np.arange(n), "channel": "tv", "alpha": alpha, "lam": lam})


def mcmc_fit(alpha, lam):
    """Draws of ``(chain, draw)`` arrays, labelled as an MCMC fit."""
    dims = ("chain", "draw", "channel")
    posterior = xr.Dataset(
        {"alpha": (dims, alpha[..., None]), "lam": (dims, lam[..., None])},
        coords={"channel": ["tv"]},
    )
    result = view_from_draws(xr.DataTree.from_dict({"posterior": posterior}))
    return dataclasses.replace(result, method="bayesian")


def test_mcmc_summary_reports_arviz_rhat_and_ess_and_warns_on_stuck_chains():
    import arviz as az

    rng = np.random.default_rng(0)
    good = mcmc_fit(rng.normal(2, 0.1, (4, 2000)), rng.normal(1, 0.1, (4, 2000)))
    stuck = np.stack([rng.normal(2, 0.1, 500), rng.normal(3, 0.1, 500)])
    bad = mcmc_fit(stuck, rng.normal(1, 0.1, (2, 500)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = fit_summary(good)
    expected = az.rhat(good.view.posterior)["alpha"].sel(channel="tv")
    assert table.loc[("tv", "alpha"), "r_hat"] == pytest.approx(float(expected))
    assert {"r_hat", "ess_bulk", "ess_tail", "divergences"} <= set(table.columns)
    with pytest.warns(UserWarning, match=r"R-hat above 1.01 for \[\('tv', 'alpha'\)\]"):
        table = fit_summary(bad)
    assert table.loc[("tv", "alpha"), "r_hat"] > 1.5


def test_bootstrap_summary_has_widths_and_warns_on_heavy_tails():
    rng = np.random.default_rng(1)
    tame = view_from_draws(draws_table(rng.lognormal(0, 0.1, 200), rng.lognormal(0, 0.1, 200)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = fit_summary(tame)
    assert "divergences" not in table.columns
    np.testing.assert_allclose(table["width"], table["upper"] - table["lower"])
    heavy = view_from_draws(draws_table(rng.lognormal(0, 0.1, 200), rng.lognormal(0, 3.0, 200)))
    with pytest.warns(UserWarning, match=r"interval of \[\('tv', 'lam'\)\] spans more than"):
        fit_summary(heavy)
