"""A budget frontier: every plan family solved across total budgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from pymc_robust_alloc.checks import check_interval
from pymc_robust_alloc.names import BUDGET_DIM
from pymc_robust_alloc.plots.sweeps import plot_frontier
from pymc_robust_alloc.result import AllocationResult

__all__ = ["BUDGET_DIM", "Frontier"]


@dataclass(frozen=True)
class Frontier:
    """Plans, regret and outcomes of every plan family across total budgets.

    Regret at each budget is against that budget's best value of each view.

    Attributes
    ----------
    results : tuple of AllocationResult
        One allocation per budget, in the order of :attr:`budgets`.
    """

    results: tuple[AllocationResult, ...]

    @property
    def budgets(self) -> np.ndarray:
        """Total budgets per period, increasing."""
        return np.array([r.settings["total_budget"] for r in self.results])

    def _stack(self, arrays: Sequence[xr.DataArray]) -> xr.DataArray:
        return xr.concat(list(arrays), dim=pd.Index(self.budgets, name=BUDGET_DIM))

    @property
    def plans(self) -> xr.DataArray:
        """Spend per period, dims ``("total_budget", "plan", *budget_dims)``."""
        return self._stack([r.plans for r in self.results])

    @property
    def value(self) -> xr.DataArray:
        """:math:`V(a, m)`, dims ``("total_budget", "plan", "view")``."""
        return self._stack([r.value for r in self.results])

    @property
    def regret(self) -> xr.DataArray:
        """Regret against each budget's own best values, dims ``(total_budget, plan, view)``."""
        return self._stack([r.regret for r in self.results])

    @property
    def max_regret(self) -> xr.DataArray:
        """Worst regret over the views, dims ``("total_budget", "plan")``."""
        return self.regret.max("view")

    @property
    def converged(self) -> xr.DataArray:
        """Whether every solve of a budget converged, dims ``("total_budget",)``."""
        return xr.DataArray(
            [r.converged for r in self.results],
            dims=BUDGET_DIM,
            coords={BUDGET_DIM: self.budgets},
        )

    def outcomes(self, interval: float = 0.9) -> xr.Dataset:
        """Return :meth:`AllocationResult.outcomes` at every budget (dims gain ``total_budget``)."""
        level = check_interval(interval)
        return xr.concat(
            [r.outcomes(level) for r in self.results],
            dim=pd.Index(self.budgets, name=BUDGET_DIM),
            data_vars="all",
            coords="minimal",
            compat="override",
            join="outer",
        )

    def to_dataset(self, interval: float = 0.9) -> xr.Dataset:
        """Return plans, regret, outcomes and convergence in one labelled Dataset."""
        out = self.outcomes(interval)[["expected", "lower", "upper"]]
        return out.assign(
            plans=self.plans,
            regret=self.regret,
            max_regret=self.max_regret,
            converged=self.converged,
        )

    def to_dataframe(self, interval: float = 0.9) -> pd.DataFrame:
        """Return a tidy table: one row per budget, plan and view."""
        data = self.to_dataset(interval)
        table = data[["expected", "lower", "upper", "regret", "max_regret"]]
        return table.drop_vars("outcome_unit", errors="ignore").to_dataframe(
            dim_order=[BUDGET_DIM, "plan", "view"]
        )

    def plot(self, plan: str | None = None, interval: float = 0.9):
        """Plot spend, max regret and outcomes by budget (see :func:`.plots.plot_frontier`)."""
        return plot_frontier(self, plan=plan, interval=interval)
