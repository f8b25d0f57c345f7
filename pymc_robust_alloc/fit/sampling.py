"""MCMC for the Bayesian fits: one sampling call, and the checks of its health."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

__all__ = ["ESS_PER_CHAIN", "RHAT_MAX", "sample", "sampler_diagnostics"]

#: Largest R-hat of a healthy MCMC fit (Vehtari et al., 2021).
RHAT_MAX = 1.01
#: Least bulk and tail ESS per chain of a healthy MCMC fit.
ESS_PER_CHAIN = 100


def sample(
    model: pm.Model,
    what: str,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed: int | None,
    sample_kwargs: Mapping | None,
    stacklevel: int = 3,
) -> tuple[xr.DataTree, int]:
    """Sample ``model`` quietly; return the trace and its number of divergences.

    ``what`` names the fit in the warning raised when transitions diverged, at
    ``stacklevel`` (the user's call of the fitter).
    """
    kwargs = {"progressbar": False, **(sample_kwargs or {})}
    with model:
        idata = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=random_seed, **kwargs)
    divergences = int(idata["sample_stats"]["diverging"].sum())
    if divergences:
        warnings.warn(
            f"{what} had {divergences} divergent transitions out of {draws * chains}; "
            "its posterior may be biased. Increase `tune`, pass "
            "`sample_kwargs={'target_accept': 0.95}`, or use tighter priors. The count "
            "is reported in the fit summary.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return idata, divergences


def sampler_diagnostics(posterior: xr.Dataset, name: str = "view") -> pd.DataFrame:
    """R-hat and bulk/tail ESS (ArviZ) of MCMC draws, with a warning above the thresholds.

    Returns one row per (channel, parameter) of ``posterior`` (``channel``
    empty for parameters without one, other dims in the parameter's label):
    ``r_hat`` (NaN for one chain), ``ess_bulk``, ``ess_tail``. Warns, naming
    ``name``, on R-hat above :data:`RHAT_MAX` or an ESS below
    :data:`ESS_PER_CHAIN` per chain.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> draws = np.random.default_rng(0).normal(size=(4, 500))
    >>> table = sampler_diagnostics(xr.Dataset({"sigma": (("chain", "draw"), draws)}))
    >>> bool(table.loc[("", "sigma"), "r_hat"] < 1.01)
    True
    """
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
