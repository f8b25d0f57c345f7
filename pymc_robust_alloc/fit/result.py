"""The result of a fit: the view it produced, and what is needed to judge it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xarray as xr

from pymc_robust_alloc.fit.shapes import CurveShape
from pymc_robust_alloc.plots.fits import plot_fit
from pymc_robust_alloc.views.curves import CurveView

__all__ = ["FitResult"]


@dataclass
class FitResult:
    """A fitted :class:`~pymc_robust_alloc.CurveView` with its diagnostics.

    Attributes
    ----------
    view : CurveView
        The view, ready for the allocator.
    method : str
        ``"least_squares"``, ``"bayesian"``, ``"lift_tests"`` or ``"draws"``.
    shape : CurveShape
        The fitted response shape.
    data : xarray.Dataset or pandas.DataFrame, optional
        What was fitted: the spend/response arrays ``(date, channel)`` of a table
        fit, or the lift-test table.
    idata : xarray.DataTree, optional
        The PyMC trace of a Bayesian fit.
    divergences : int
        Divergent transitions of a Bayesian fit (0 otherwise).
    info : dict
        Method details: bootstrap kind, number of draws, fit time in seconds, ...

    Examples
    --------
    >>> from pymc_robust_alloc.fit import view_from_draws
    >>> import pandas as pd
    >>> draws = pd.DataFrame({"draw": [0, 1], "channel": "tv",
    ...                       "alpha": [1.0, 1.1], "lam": [2.0, 2.1]})
    >>> result = view_from_draws(draws, name="vendor")
    >>> result.view.channels
    ('tv',)
    """

    view: CurveView
    method: str
    shape: CurveShape
    data: xr.Dataset | pd.DataFrame | None = None
    idata: xr.DataTree | None = None
    divergences: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The view's name.

        Examples
        --------
        ``fit_result`` is ``fit_least_squares`` of a Michaelis-Menten curve to 20 noisy
        points of one channel, ``tv``.

        >>> fit_result.name, fit_result.view.name
        ('attribution', 'attribution')
        """
        return self.view.name

    def summary(self, interval: float = 0.9, loo: bool = False) -> pd.DataFrame:
        """Fit summary; see :func:`~pymc_robust_alloc.fit.fit_summary`.

        Examples
        --------
        ``fit_result`` is ``fit_least_squares`` of a Michaelis-Menten curve to 20 noisy
        points of one channel, ``tv``.

        >>> table = fit_result.summary(interval=0.9)
        >>> table[["estimate", "lower", "upper"]].round(1)
                           estimate  lower  upper
        channel parameter
        tv      alpha           3.0    2.9    3.0
                lam             1.9    1.8    2.1
        """
        from pymc_robust_alloc.fit.diagnostics import fit_summary

        return fit_summary(self, interval=interval, loo=loo)

    def plot(self, interval: float = 0.9, **kwargs):
        """Fitted curves over the data; see :func:`~pymc_robust_alloc.fit.plot_fit`.

        Examples
        --------
        ``fit_result`` is ``fit_least_squares`` of a Michaelis-Menten curve to 20 noisy
        points of one channel, ``tv``.

        >>> fig = fit_result.plot(interval=0.9)
        >>> [ax.get_title() for ax in fig.axes]
        ['tv']
        """
        return plot_fit(self, interval=interval, **kwargs)
