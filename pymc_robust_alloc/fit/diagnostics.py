"""Diagnostics of a fitted view: a summary table (the figure is `plots.plot_fit`)."""

from __future__ import annotations

import pandas as pd

from pymc_robust_alloc.fit.result import FitResult
from pymc_robust_alloc.fit.sampling import sampler_diagnostics

__all__ = ["fit_summary", "r_squared", "sampler_diagnostics"]


def r_squared(result: FitResult) -> pd.Series:
    """Per-channel :math:`R^2` of a table fit, as :meth:`FitResult.r_squared`."""
    return result.r_squared()


def fit_summary(result: FitResult, interval: float = 0.9, loo: bool = False) -> pd.DataFrame:
    """Parameters with their intervals, goodness of fit and sampler health.

    The table of :meth:`FitResult.summary`.
    """
    return result.summary(interval=interval, loo=loo)
