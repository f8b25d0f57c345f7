"""Views from a fitted PyMC-Marketing ``MMM``."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from pymc_marketing.mmm import MMM
from pymc_marketing.mmm.utils import infer_frequency
from pytensor.xtensor.type import XTensorType

from pymc_robust_alloc.evidence import as_evidence, evidence_from_spend
from pymc_robust_alloc.views.base import CHANNEL_DATA, DATE, Horizon, View, free_posterior

__all__ = ["MMM_RESPONSE", "MMMView"]

#: The MMM's response over the window, in the target's original units.
MMM_RESPONSE = "total_media_contribution_original_scale"


class MMMView(View):
    r"""A view from a fitted PyMC-Marketing ``MMM``, on one optimisation window.

    The view uses the MMM's own ``mmm.create_optimization_model(start_date,
    end_date)``, so media transformations, scaling and carry-over are the MMM's,
    and so is the date axis: real spend before ``start_date`` (held fixed), the
    decisions, then ``mmm.effective_carryover_lags()`` periods of carry-over.

    The response :math:`Y(a)` sums the media contribution over the whole axis,
    history included, so :math:`Y(0) \neq 0`. What a plan :math:`a` controls is
    the increment :math:`V(a) = Y(a) - Y(0)`; measure values and regret on it.

    Parameters
    ----------
    name : str
        The view's name (a Python identifier).
    mmm : pymc_marketing.mmm.MMM
        A fitted MMM (``mmm.idata`` holds a ``posterior`` group).
    start_date, end_date : str or pandas.Timestamp
        First and last decision period (inclusive); a window off the MMM's date
        grid is narrowed to the grid dates inside it, with a warning.
    response_variable : str, default "total_media_contribution_original_scale"
        Scalar response of the optimisation model (``"total_response_original_scale"``
        when media flows partly through a ``mu_effect``).
    control_data : pandas.DataFrame or xarray.DataArray, optional
        Planned control values, passed to ``mmm.create_optimization_model``.

    Merged with other views, the MMM's window and channel order set the common
    axis; the other views are rebuilt on it.

    Examples
    --------
    ``mmm`` is a PyMC-Marketing ``MMM`` of weekly search and social spend with posterior
    draws in ``mmm.idata`` (as after ``mmm.fit(X, y)``).

    >>> from pymc_robust_alloc import CurveView, MMMView, merge_views
    >>> regression = MMMView("regression", mmm, "2024-09-01", "2024-10-06")
    >>> window = regression.horizon(num_periods=6)
    >>> window.carry_in_periods, window.num_periods, window.adstock_periods
    (2, 6, 2)
    >>> experiment = CurveView.from_estimates(
    ...     "experiment", {"alpha": [20.0, 15.0], "lam": [30.0, 20.0]}, 0.1,
    ...     channels=["search", "social"], draws=40, random_seed=2,
    ... )
    >>> merged = merge_views([regression, experiment], num_periods=6)
    >>> merged.views
    ('regression', 'experiment')
    """

    def __init__(
        self,
        name: str,
        mmm: Any,
        start_date: str | pd.Timestamp,
        end_date: str | pd.Timestamp,
        *,
        response_variable: str = MMM_RESPONSE,
        control_data: pd.DataFrame | xr.DataArray | None = None,
    ) -> None:
        super().__init__(name)
        owner = f"view {name!r}"
        idata = getattr(mmm, "idata", None)
        if not hasattr(mmm, "create_optimization_model"):
            raise TypeError(
                f"{owner}: expected a pymc_marketing.mmm.MMM, got "
                f"{type(mmm).__name__}. For any other PyMC model use ModelView."
            )
        if idata is None or "posterior" not in _groups(idata):
            raise ValueError(
                f"{owner}: the MMM is not fitted (mmm.idata has no 'posterior' group; "
                f"groups: {sorted(_groups(idata))}). Call `mmm.fit(X, y)` first, or "
                "load a fitted model with `MMM.load(path)`."
            )
        if getattr(mmm, "model", None) is None:
            raise ValueError(
                f"{owner}: the MMM has a posterior but no PyMC model. Rebuild it with "
                "`mmm.build_from_idata(mmm.idata)`."
            )
        if mmm.frozen_deterministics:
            raise NotImplementedError(
                f"{owner}: time-varying MMMs (frozen deterministics "
                f"{mmm.frozen_deterministics}) are not supported yet: their frozen "
                "values do not survive merging. Use an MMM without "
                "time_varying_intercept / time_varying_media."
            )
        self.mmm = mmm
        self.control_data = control_data
        self.response_variable = response_variable
        self.start_date, self.end_date = self._check_window(
            pd.Timestamp(start_date), pd.Timestamp(end_date), owner
        )

        template = self._optimization_model()
        spend_dims = tuple(template.named_vars_to_dims[CHANNEL_DATA])
        if response_variable not in template.named_vars:
            raise ValueError(
                f"{owner}: the MMM's optimisation model has no {response_variable!r}; "
                f"deterministics: {sorted(d.name for d in template.deterministics)}."
            )
        response = template[response_variable]
        if not isinstance(response.type, XTensorType) or response.type.ndim != 0:
            raise ValueError(
                f"{owner}: the response {response_variable!r} must be a scalar total "
                f"over the window; it has dims {getattr(response.type, 'dims', '?')}."
            )
        self._budget_coords = {d: tuple(template.coords[d]) for d in spend_dims[1:]}

        dates = pd.DatetimeIndex(list(template.coords[DATE]))
        carry_in_periods = int((dates < self.start_date).sum())
        carry_over = int(mmm.effective_carryover_lags())
        decisions = len(dates) - carry_in_periods - carry_over
        spend = np.asarray(template[CHANNEL_DATA].get_value())
        self._horizon = Horizon(
            num_periods=decisions,
            carry_in_periods=carry_in_periods,
            adstock_periods=carry_over,
            dates=tuple(template.coords[DATE]),
            carry_in=spend[:carry_in_periods].copy(),
        )

        fix = "Refit the MMM, or pass the idata it was fitted with."
        self._posterior = free_posterior(idata, template, owner, fix)
        # The MMM's evidence: the spend per period it was trained on.
        trained = evidence_from_spend(mmm.xarray_dataset["_channel"], dim=DATE)
        self._evidence = as_evidence(trained, self._budget_coords, owner)

    @classmethod
    def from_file(
        cls,
        name: str,
        path: str | Path,
        start_date: str | pd.Timestamp,
        end_date: str | pd.Timestamp,
        **kwargs: Any,
    ) -> MMMView:
        """Load an MMM saved with ``mmm.save(path)`` and view it on a window.

        ``path`` is read with PyMC-Marketing's ``MMM.load`` (never modified); the
        other arguments are those of :class:`MMMView`.

        Examples
        --------
        ``mmm`` is a fitted PyMC-Marketing ``MMM`` of weekly search and social spend;
        ``tmp_dir`` is a folder to write to.

        >>> mmm.save(str(tmp_dir / "mmm.nc"))
        >>> view = MMMView.from_file("regression", tmp_dir / "mmm.nc", "2024-09-01", "2024-10-06")
        >>> view.horizon().num_periods
        6
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(
                f"view {name!r}: no such file '{path}'. Save a fitted MMM with "
                "`mmm.save('mmm.nc')` and pass that path."
            )
        try:
            mmm = MMM.load(str(path))
        except (KeyError, ValueError, TypeError, AttributeError) as err:
            raise ValueError(
                f"view {name!r}: '{path}' is not a PyMC-Marketing MMM saved with "
                f"`mmm.save(...)` ({type(err).__name__}: {err}). For a file of "
                "parameter draws use a posterior or draws source instead."
            ) from err
        return cls(name, mmm, start_date, end_date, **kwargs)

    def _check_window(
        self, start: pd.Timestamp, end: pd.Timestamp, owner: str
    ) -> tuple[pd.Timestamp, pd.Timestamp]:
        """Return the window on the MMM's date grid, refusing one it cannot plan."""
        if end < start:
            raise ValueError(
                f"{owner}: end_date {end.date()} is before start_date "
                f"{start.date()}. Pass the first and last decision period."
            )
        trained = pd.DatetimeIndex(self.mmm.xarray_dataset.coords[DATE].values)
        first, last = trained.min(), trained.max()
        # A window after a gap in the data is accepted: the MMM warns that the
        # spend in between is unknown and starts the window without history.
        if start < first:
            raise ValueError(
                f"{owner}: the window starts on {start.date()}, but the "
                f"MMM's data runs from {first.date()} to {last.date()}. The window "
                "needs the spend before it (carry-in history): start it within the "
                "data, or right after its last date for a forecast."
            )
        freq = infer_frequency(trained) if len(trained) >= 3 else None
        if freq is None:
            raise ValueError(
                f"{owner}: the MMM's dates ({first.date()} to {last.date()}) have no "
                "regular frequency, so the window cannot be placed on its date grid. "
                "Refit the MMM on regularly spaced dates (fill missing periods with 0)."
            )
        grid = pd.date_range(first, max(end, last), freq=freq)
        inside = grid[(grid >= start) & (grid <= end)]
        if inside.empty:
            before, after = grid[grid < start], grid[grid > end]
            nearest = [str(d.date()) for d in (*before[-1:], *after[:1])]
            raise ValueError(
                f"{owner}: no date of the MMM's grid ({freq}, e.g. {first.date()}) "
                f"lies between {start.date()} and {end.date()}; the nearest are "
                f"{nearest}. Pass start and end dates on the grid."
            )
        snapped = inside[0], inside[-1]
        if snapped != (start, end):
            warnings.warn(
                f"{owner}: the window {start.date()} to {end.date()} is off the MMM's "
                f"date grid ({freq}); planning {len(inside)} periods from "
                f"{snapped[0].date()} to {snapped[1].date()}, the grid dates inside it. "
                "Pass those dates to silence this warning.",
                UserWarning,
                stacklevel=3,
            )
        return snapped

    def _optimization_model(self) -> pm.Model:
        return self.mmm.create_optimization_model(
            self.start_date, self.end_date, control_data=self.control_data
        )

    def historical_plan(self, total_budget: float) -> xr.DataArray:
        """Return the MMM's historical spend mix, scaled to a budget per period.

        The mean spend of each budget cell over the MMM's data, rescaled to add
        up to ``total_budget``: "what we usually do", the default reference plan
        of success probability (``reference_plan="historical"``).

        Examples
        --------
        ``mmm_view`` is ``MMMView("regression", mmm, "2024-09-01", "2024-10-06")``.

        >>> plan = mmm_view.historical_plan(100.0)
        >>> plan.round(1).to_series().to_dict()
        {'search': 62.7, 'social': 37.3}
        """
        spend = self.mmm.xarray_dataset["_channel"].mean(DATE)
        spend = spend.transpose(*self._budget_coords).astype(float)
        total = float(spend.sum())
        if not total > 0:
            raise ValueError(
                f"view {self.name!r}: the MMM's data has no spend, so it has no "
                "historical mix. Pass reference_plan as a plan instead."
            )
        return (spend * (float(total_budget) / total)).rename("historical")

    @property
    def adstock_periods(self) -> int:
        """Carry-over periods after the window: ``mmm.effective_carryover_lags()``."""
        return self._horizon.adstock_periods

    @property
    def channel_scales(self) -> float:
        """Scale of ``channel_data``: 1, as it holds money."""
        return 1.0

    def horizon(self, num_periods: int | None = None) -> Horizon:
        """Return the date axis fixed by the MMM's window: dates, carry-in history, carry-over.

        ``num_periods``, if given, must be the window's number of decision periods.
        """
        window = self._horizon
        if num_periods is not None and int(num_periods) != window.num_periods:
            raise ValueError(
                f"View {self.name!r}: the MMM window {self.start_date.date()} to "
                f"{self.end_date.date()} has {window.num_periods} decision periods, "
                f"but num_periods={num_periods} was requested. Leave num_periods out "
                "(the window fixes it), or move end_date so that the window holds "
                f"{num_periods} periods."
            )
        return window

    def build(self, horizon: Horizon, budget_coords: Mapping[str, Sequence]) -> pm.Model:
        """Build a new copy of the MMM's optimisation model (the MMM is not modified).

        ``horizon`` must be :meth:`horizon` and ``budget_coords`` the MMM's, in its order.
        """
        own = self._horizon
        if (horizon.dates, horizon.carry_in_periods, horizon.num_periods) != (
            own.dates,
            own.carry_in_periods,
            own.num_periods,
        ) or horizon.adstock_periods != own.adstock_periods:
            raise ValueError(
                f"View {self.name!r}: the MMM's window is fixed "
                f"({own.carry_in_periods} carry-in + {own.num_periods} decision + "
                f"{own.adstock_periods} "
                f"carry-over periods from {_label(own.dates[0])}), but the horizon "
                f"given has {horizon.carry_in_periods} + {horizon.num_periods} + "
                f"{horizon.adstock_periods} from {_label(horizon.dates[0])}. Build "
                "on `view.horizon()`."
            )
        wanted = {d: tuple(v) for d, v in budget_coords.items()}
        if list(wanted.items()) != list(self._budget_coords.items()):  # order matters
            raise ValueError(self._order_message(wanted))
        return self._optimization_model()

    def _order_message(self, wanted: dict[str, tuple]) -> str:
        own = self._budget_coords
        same_labels = set(wanted) == set(own) and all(set(wanted[d]) == set(own[d]) for d in own)
        if same_labels:
            return (
                f"View {self.name!r}: the budget dims must follow the MMM's order "
                f"{own}, got {wanted}. The MMM's graph and posterior are laid out in "
                "its own order and would be silently relabelled. Put the MMM view "
                "first in the list of views (other views align channels by label)."
            )
        return (
            f"View {self.name!r}: the MMM is defined over {own}, but {wanted} were "
            "requested. Every view must have the MMM's budget dims and labels."
        )


def _groups(idata: Any) -> set[str]:
    if idata is None:
        return set()
    if isinstance(idata, xr.DataTree):
        return set(idata.children)
    return set(getattr(idata, "groups", lambda: [])())


def _label(date: Any) -> str:
    try:
        return str(pd.Timestamp(date).date())
    except (TypeError, ValueError):
        return str(date)
