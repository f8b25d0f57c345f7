"""The view type: one measurement system as an optimizer-ready PyMC model."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from pymc_robust_alloc.checks import as_posterior, check_count, check_finite, check_num_periods

__all__ = ["Horizon", "View"]

CHANNEL_DATA = "channel_data"
DATE = "date"


@dataclass(frozen=True)
class Horizon:
    """The date axis every view of one decision is built on.

    Three blocks, as in :class:`~pymc_marketing.mmm.BudgetOptimizer`: fixed
    carry-in spend, the decisions, then carry-over without new spend.

    Parameters
    ----------
    num_periods : int
        Number of decision periods.
    carry_in_periods : int, default 0
        Leading periods of fixed, historical spend.
    adstock_periods : int, default 0
        Trailing periods in which earlier spend still has an effect.
    dates : sequence, optional
        Labels of the whole axis (default ``0, 1, ...``).
    carry_in : numpy.ndarray, optional
        Spend ``(carry_in_periods, *budget_shape)`` of the carry-in periods.

    Examples
    --------
    >>> Horizon(num_periods=8, carry_in_periods=2, adstock_periods=3).length
    13
    """

    num_periods: int
    carry_in_periods: int = 0
    adstock_periods: int = 0
    dates: tuple | None = None
    carry_in: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "num_periods", check_num_periods(self.num_periods))
        for field in ("carry_in_periods", "adstock_periods"):
            value = check_count(getattr(self, field), field, minimum=0, example=0)
            object.__setattr__(self, field, value)
        length = self.carry_in_periods + self.num_periods + self.adstock_periods
        if self.dates is None:
            object.__setattr__(self, "dates", tuple(range(length)))
        elif len(self.dates) != length:
            raise ValueError(
                f"Horizon has {length} periods (carry-in {self.carry_in_periods} + "
                f"decisions {self.num_periods} + carry-over {self.adstock_periods}) "
                f"but {len(self.dates)} date labels were given."
            )

    @property
    def length(self) -> int:
        """Number of periods on the whole date axis."""
        return len(self.dates)


class View(abc.ABC):
    """One measurement system's belief about how spend drives response.

    A view holds posterior draws over its budget dims (``channel``, maybe
    ``geo``) and builds, on a :class:`Horizon`, a :mod:`pymc.dims` model whose
    spend input is ``channel_data`` ``("date", *budget_dims)`` and whose
    response is the scalar :attr:`response_variable`, as
    :class:`~pymc_marketing.mmm.BudgetOptimizer` requires. Claims
    (:attr:`concave`, ``separable_*``) are ``False`` ("not known") unless a
    subclass proves them.
    """

    #: Name of the scalar response deterministic in the built model.
    response_variable: str = "response"
    #: Spend range per budget cell covered by the view's evidence (see :attr:`evidence`).
    _evidence: xr.DataArray | None = None
    #: Set by subclasses (or override :attr:`budget_coords` and :attr:`posterior`).
    _budget_coords: dict[str, tuple]
    _posterior: xr.Dataset

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"A view name must be a valid Python identifier (it prefixes the "
                f"view's variables in the merged model), got {name!r}. Use e.g. "
                "'regression', 'experiment' or 'attribution'."
            )
        self.name = name

    @property
    def budget_coords(self) -> dict[str, tuple]:
        """Labels of the budget dims (every dim of ``channel_data`` but ``date``)."""
        return dict(self._budget_coords)

    @property
    def channels(self) -> tuple:
        """Channel labels, in the view's own order."""
        return self.budget_coords["channel"]

    @property
    def posterior(self) -> xr.Dataset:
        """Posterior draws, dims ``(chain, draw, ...)``."""
        return self._posterior

    @property
    def evidence(self) -> xr.DataArray | None:
        """The spend per period the view's evidence covers in each budget cell, or ``None``.

        Dims ``(*budget_dims, "bound")``, NaN where unknown; outside it the
        curve is extrapolated (see :mod:`pymc_robust_alloc.evidence`).
        """
        return self._evidence

    def horizon(self, num_periods: int) -> Horizon | None:
        """Return the horizon this view imposes (an MMM's window), or ``None`` if it takes any."""
        return None

    @property
    def adstock_periods(self) -> int:
        """Carry-over periods the view needs after the last decision period."""
        return 0

    @property
    def concave(self) -> bool:
        """Whether the view's value is provably concave in spend (so normalised regret is convex).

        The value meant is the mean increment over the draws
        (:func:`~pymc_robust_alloc.view_values`): with every view concave, a
        local solver's minimax optimum is global.
        """
        return False

    @property
    def separable_over_periods(self) -> bool:
        """Whether each period's response depends only on that period's spend."""
        return False

    @property
    def separable_over_cells(self) -> bool:
        """Whether each budget cell's response depends only on that cell's spend.

        A concave, separable view gets a certificate solved cell by cell (see
        :mod:`pymc_robust_alloc.engine`).
        """
        return False

    @abc.abstractmethod
    def build(self, horizon: Horizon, budget_coords: Mapping[str, Sequence]) -> pm.Model:
        """Build a new optimisation model on ``horizon``, budget dims in ``budget_coords``'s order.

        The view's own inputs are never modified.
        """

    def __repr__(self) -> str:
        dims = ", ".join(f"{d}={list(v)}" for d, v in self.budget_coords.items())
        return f"{type(self).__name__}(name={self.name!r}, {dims})"


def free_posterior(idata, model: pm.Model, owner: str, fix: str) -> xr.Dataset:
    """Return the finite draws of ``model``'s free variables; ``fix``: what to do if some lack."""
    posterior = as_posterior(idata, owner=owner)
    free = [rv.name for rv in model.free_RVs]
    missing = [v for v in free if v not in posterior]
    if missing:
        raise ValueError(
            f"{owner}: the posterior lacks the model's free variables {missing}. {fix}"
        )
    check_finite(posterior[free], owner=owner)
    return posterior[free]
