"""What an allocation returns: plans, values, regret, and how every solve went."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = ["AllocationResult", "SolveReport"]

MAX_REGRET = "max regret"
MIN_SUCCESS = "min"


@dataclass(frozen=True)
class SolveReport:
    """How one optimisation went.

    Attributes
    ----------
    plan : str
        Name of the plan the solve produced.
    objective : str
        What was optimised, in words.
    success : bool
        Whether SciPy reported convergence.
    message : str
        SciPy's message.
    iterations : int
        Number of iterations.

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> report = result.solves[0]
    >>> report.plan, report.objective
    ('regression', 'maximise V(a, regression)')
    >>> isinstance(report.iterations, int)
    True
    """

    plan: str
    objective: str
    success: bool
    message: str
    iterations: int


@dataclass(frozen=True)
class AllocationResult:
    r"""Candidate plans and how each view judges them.

    Attributes
    ----------
    plans : xarray.DataArray
        Spend per period, dims ``("plan", *budget_dims)``. Plans: each view's
        optimum (named after the view), ``"averaged"`` (the plan maximising the
        mean of the views' responses), ``"minimax"``, and, when asked for,
        ``"weighted minimax"``, ``"risk-averse minimax"`` and the caller's
        candidates.
    value : xarray.DataArray
        :math:`V(a, m)`, the expected increment of each plan's response over the
        zero plan under each view over the horizon, dims ``("plan", "view")``.
    v_star : xarray.DataArray
        :math:`V^*(m)`, each view's best value, dims ``("view",)``.
    regret : xarray.DataArray
        :math:`R(a, m) = 1 - V(a, m) / V^*(m)`, dims ``("plan", "view")``.
    solves : list of SolveReport
        Every optimisation run, in order.
    settings : dict
        The inputs: total budget, periods, bounds, draws, weights, quantile.
    quantile_regret : xarray.DataArray, optional
        Regret with each view's value taken at the ``quantile`` of its draws,
        against its best such value (risk-averse runs only).
    success_probability : xarray.DataArray, optional
        :math:`P_m(V(a) \ge (1 + r)\, V(a_{ref}))` per plan and view, judged
        per draw on the increments over the zero plan, dims ``("plan", "view")``
        (when a reference plan was given; ``settings`` records it, ``r`` and the
        method).

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> [str(p) for p in result.plans["plan"].values]  # doctest: +NORMALIZE_WHITESPACE
    ['regression', 'experiment', 'attribution', 'averaged', 'reference', 'minimax',
     'weighted minimax', 'success']
    >>> result.regret.dims
    ('plan', 'view')
    """

    plans: xr.DataArray
    value: xr.DataArray
    v_star: xr.DataArray
    regret: xr.DataArray
    solves: list[SolveReport]
    settings: dict[str, Any] = field(default_factory=dict)
    quantile_regret: xr.DataArray | None = None
    success_probability: xr.DataArray | None = None

    @property
    def views(self) -> list[str]:
        """View names.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> result.views
        ['regression', 'experiment', 'attribution']
        """
        return [str(v) for v in self.v_star["view"].values]

    @property
    def converged(self) -> bool:
        """Whether every solve converged.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> result.converged
        True
        """
        return all(s.success for s in self.solves)

    @property
    def regret_matrix(self) -> pd.DataFrame:
        """Regret of every plan (rows) under every view (columns), plus the max.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> table = result.regret_matrix
        >>> list(table.columns)
        ['regression', 'experiment', 'attribution', 'max regret']
        >>> table["max regret"].idxmin()
        'minimax'
        """
        table = self.regret.to_pandas()
        table.columns = [str(c) for c in table.columns]
        table[MAX_REGRET] = table.max(axis=1)
        table.index.name = "plan"
        return table

    @property
    def success_matrix(self) -> pd.DataFrame | None:
        """Success probability of every plan (rows) under every view, plus the min.

        ``None`` unless a reference plan was given. The row ``"reference"`` is the
        reference plan itself, ``"success"`` the plan maximising the minimum.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> table = result.success_matrix
        >>> list(table.columns)
        ['regression', 'experiment', 'attribution', 'min']
        >>> table["min"].idxmax()
        'success'
        """
        if self.success_probability is None:
            return None
        table = self.success_probability.to_pandas()
        table.columns = [str(c) for c in table.columns]
        table[MIN_SUCCESS] = table.min(axis=1)
        table.index.name = "plan"
        return table

    @property
    def convergence(self) -> pd.DataFrame:
        """One row per solve: plan, objective, success, message, iterations.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> table = result.convergence
        >>> list(table.columns)
        ['objective', 'success', 'message', 'iterations']
        >>> bool(table["success"].all())
        True
        """
        return pd.DataFrame([vars(s) for s in self.solves]).set_index("plan")

    def plan(self, name: str = "minimax") -> xr.DataArray:
        """One plan's spend per period, labelled by the budget dims.

        Parameters
        ----------
        name : str, default "minimax"
            A label of the ``plan`` dim.

        Returns
        -------
        xarray.DataArray

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> plan = result.plan("minimax")
        >>> plan.dims
        ('channel',)
        >>> round(float(plan.sum()), 6)
        100.0
        """
        if name not in self.plans["plan"].values:
            raise KeyError(f"No plan {name!r}; plans are {list(self.plans['plan'].values)}.")
        return self.plans.sel(plan=name, drop=True)

    def to_dataframe(self) -> pd.DataFrame:
        """Plans as a table: one row per plan, one column per budget cell.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> table = result.to_dataframe()
        >>> table.loc["reference"].to_dict()
        {'search': 40.0, 'social': 30.0, 'display': 30.0}
        """
        stacked = self.plans
        extra = [d for d in stacked.dims if d != "plan"]
        if len(extra) > 1:
            stacked = stacked.stack(cell=extra)
        table = stacked.to_pandas()
        table.columns = [
            c if not isinstance(c, tuple) else "/".join(map(str, c)) for c in table.columns
        ]
        return table

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-able Python objects.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> import json
        >>> out = json.loads(json.dumps(result.to_dict()))
        >>> out["views"]
        ['regression', 'experiment', 'attribution']
        >>> out["settings"]["total_budget"], out["settings"]["required_gain"]
        (100.0, 0.002)
        """
        out = {
            "settings": _plain(self.settings),
            "views": self.views,
            "budget_dims": {
                d: [_plain(v) for v in self.plans[d].values] for d in self.plans.dims if d != "plan"
            },
            "v_star": dict(zip(self.views, _plain(self.v_star.values), strict=True)),
            "plans": {
                str(name): _plain(self.plans.sel(plan=name).to_pandas().to_dict())
                if self.plans.ndim == 2
                else _plain(self.plans.sel(plan=name).values)
                for name in self.plans["plan"].values
            },
            "value": _table(self.value),
            "regret": _table(self.regret),
            "max_regret": _plain(self.regret_matrix[MAX_REGRET].to_dict()),
            "solves": [_plain(vars(s)) for s in self.solves],
        }
        if self.quantile_regret is not None:
            out["quantile_regret"] = _table(self.quantile_regret)
        if self.success_probability is not None:
            out["success_probability"] = _table(self.success_probability)
            out["min_success_probability"] = _plain(self.success_matrix[MIN_SUCCESS].to_dict())
        return out


def _table(array: xr.DataArray) -> dict[str, dict[str, float]]:
    frame = array.to_pandas()
    return {
        str(row): {str(col): float(frame.loc[row, col]) for col in frame.columns}
        for row in frame.index
    }


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, xr.DataArray):
        return _plain(value.values)
    return value
