"""The view type: one measurement system as an optimizer-ready PyMC model."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from pymc_robust_alloc.checks import check_count, check_num_periods

__all__ = ["Horizon", "View"]

CHANNEL_DATA = "channel_data"
DATE = "date"


@dataclass(frozen=True)
class Horizon:
    """The date axis every view of one decision is built on.

    The axis is three blocks, as in :class:`~pymc_marketing.mmm.BudgetOptimizer`:
    ``carry_in_periods`` of spend already made (held fixed), ``num_periods`` of
    decisions, then ``adstock_periods`` of carry-over with no new spend.

    Parameters
    ----------
    num_periods : int
        Number of decision periods.
    carry_in_periods : int, default 0
        Leading periods of fixed, historical spend.
    adstock_periods : int, default 0
        Trailing periods in which earlier spend still has an effect.
    dates : sequence, optional
        Labels of the whole axis; defaults to ``0, 1, ...``.
    carry_in : numpy.ndarray, optional
        Spend in the carry-in periods, shape ``(carry_in_periods, *budget_shape)``.

    Examples
    --------
    >>> Horizon(num_periods=8).dates
    (0, 1, 2, 3, 4, 5, 6, 7)
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
        """Number of periods on the whole date axis.

        Examples
        --------
        >>> Horizon(num_periods=8, carry_in_periods=2, adstock_periods=3).length
        13
        """
        return len(self.dates)


class View(abc.ABC):
    """One measurement system's belief about how spend drives response.

    A view knows its channel labels (and any further budget dims such as
    ``geo``), holds posterior draws, and builds a PyMC model on a given
    :class:`Horizon` whose spend input is ``channel_data`` with dims
    ``("date", *budget_dims)`` and whose response is the scalar deterministic
    :attr:`response_variable`. Everything along the spend-to-response path is
    written with :mod:`pymc.dims`, as :class:`~pymc_marketing.mmm.BudgetOptimizer`
    requires.

    Subclasses: :class:`~pymc_robust_alloc.CurveView` (saturation curves with
    parameter uncertainty), :class:`~pymc_robust_alloc.ModelView` (any PyMC
    model with its posterior) and :class:`~pymc_robust_alloc.MMMView` (a
    fitted PyMC-Marketing ``MMM``).

    Examples
    --------
    ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

    >>> view = views[0]
    >>> isinstance(view, View), view.name
    (True, 'regression')
    """

    #: Name of the scalar response deterministic in the built model.
    response_variable: str = "response"
    #: Spend range per budget cell covered by the view's evidence (see :attr:`evidence`).
    _evidence: xr.DataArray | None = None

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"A view name must be a valid Python identifier (it prefixes the "
                f"view's variables in the merged model), got {name!r}. Use e.g. "
                "'regression', 'experiment' or 'attribution'."
            )
        self.name = name

    @property
    @abc.abstractmethod
    def budget_coords(self) -> dict[str, tuple]:
        """Labels of the budget dims (every dim of ``channel_data`` but ``date``).

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> views[0].budget_coords
        {'channel': ('search', 'social', 'display')}
        """

    @property
    def channels(self) -> tuple:
        """Channel labels, in the view's own order.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> views[0].channels
        ('search', 'social', 'display')
        """
        return self.budget_coords["channel"]

    @property
    @abc.abstractmethod
    def posterior(self) -> xr.Dataset:
        """Posterior draws, dims ``(chain, draw, ...)``.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> dict(views[0].posterior["alpha"].sizes)
        {'chain': 1, 'draw': 100, 'channel': 3}
        """

    @property
    def evidence(self) -> xr.DataArray | None:
        """The spend per period the view's evidence covers in each budget cell, or ``None``.

        Dims ``(*budget_dims, "bound")`` with ``bound`` ``["lower", "upper"]``;
        NaN where unknown, ``None`` if unknown everywhere. Outside this range the
        view's curve is extrapolated (see :mod:`pymc_robust_alloc.evidence`).
        Lift-test fits cover the tested spend, table fits and MMMs the spend they
        observed; views built by hand cover what their ``evidence=`` declares.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three views built by hand, none
        declaring its evidence.

        >>> views[0].evidence is None
        True
        """
        return self._evidence

    def horizon(self, num_periods: int) -> Horizon | None:
        """Return the horizon this view imposes, or ``None`` if it can take any.

        A view built from a fitted MMM fixes its dates and carry-in history; a
        view defined by response curves adapts to whatever horizon it is given.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> views[0].horizon(num_periods=4) is None
        True
        """
        return None

    @property
    def adstock_periods(self) -> int:
        """Carry-over periods the view needs after the last decision period.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`,
        without adstock.

        >>> views[0].adstock_periods
        0
        """
        return 0

    @property
    def concave(self) -> bool:
        """Whether the view's value is provably concave in spend (so normalised regret is convex).

        ``False`` unless a subclass can prove it: ``False`` means "not known",
        not "not concave". The value meant is the mean increment over the draws
        (:func:`~pymc_robust_alloc.view_values`); with every view concave,
        weighted minimax regret is a convex problem, so a local solver's optimum
        is global. A lower quantile of the draws is not concave in general.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three Michaelis-Menten
        :class:`~pymc_robust_alloc.CurveView`, concave in spend.

        >>> views[0].concave
        True
        """
        return False

    @property
    def separable_over_periods(self) -> bool:
        """Whether each period's response depends only on that period's spend.

        ``False`` unless a subclass can prove it (e.g. no adstock carrying
        spend from one period into the next).

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`,
        without adstock.

        >>> views[0].separable_over_periods
        True
        """
        return False

    @property
    def separable_over_cells(self) -> bool:
        """Whether each budget cell's response depends only on that cell's spend.

        ``False`` unless a subclass can prove it. A concave view that is also
        separable gets a machine-precision certificate (a Lagrangian bound
        solved cell by cell, see :mod:`pymc_robust_alloc.engine`).

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> views[0].separable_over_cells
        True
        """
        return False

    @abc.abstractmethod
    def build(self, horizon: Horizon, budget_coords: Mapping[str, Sequence]) -> pm.Model:
        """Build the view's optimisation model on ``horizon``.

        Parameters
        ----------
        horizon : Horizon
            The common date axis.
        budget_coords : mapping
            Budget dims and labels, in the order the merged model uses.

        Returns
        -------
        pymc.Model
            A new model; the view's own inputs are never modified.

        Examples
        --------
        ``views`` is ``demo_views(draws=100)``: three :class:`~pymc_robust_alloc.CurveView`.

        >>> view = views[0]
        >>> model = view.build(Horizon(num_periods=4), view.budget_coords)
        >>> tuple(model.named_vars_to_dims["channel_data"]), view.response_variable in model
        (('date', 'channel'), True)
        """

    def __repr__(self) -> str:
        dims = ", ".join(f"{d}={list(v)}" for d, v in self.budget_coords.items())
        return f"{type(self).__name__}(name={self.name!r}, {dims})"
