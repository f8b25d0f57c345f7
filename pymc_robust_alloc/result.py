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
    """How one optimisation went, and the checks its verdict rests on.

    A solve is ``success`` only if SciPy reports convergence, the plan is
    feasible (``violation`` at most ``1e-9`` of the budget) and the first-order
    measure is at most ``tolerance``: the relative Frank-Wolfe gap for a
    maximisation, the gap to the linearised problem's bound for a minimax.
    ``certified`` solves carry a proven ``bound`` on the optimal objective (an
    upper bound for a maximisation, a lower bound for a minimax; NaN when no
    certificate exists: a view not provably concave, a quantile or a success
    probability).

    Attributes
    ----------
    plan : str
        Name of the plan the solve produced.
    objective : str
        What was optimised, in words.
    success : bool
        Converged: SciPy's verdict and both independent checks.
    message : str
        SciPy's message.
    iterations : int
        SLSQP iterations (of the best start).
    scipy_success : bool
        SciPy's verdict alone.
    evaluations : int
        Objective evaluations (of the best start).
    value : float
        The objective's value at the plan.
    violation : float
        Largest breach of the budget or a bound, relative to the budget.
    first_order : float
        First-order optimality measure (see above).
    tolerance : float
        Its tolerance.
    certified : bool
        Whether ``bound`` is a proven bound.
    bound : float
        Proven bound on the optimal objective, NaN without a certificate.
    gap : float
        ``|bound - value|``, NaN without a certificate.
    starts : int
        Starting points tried (1 for a certified solve).
    local_optima : int
        Distinct local optima found over the starts.
    spread : float
        Range of the objective over those local optima.

    Examples
    --------
    ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

    >>> report = result.solves[0]
    >>> report.plan, report.objective
    ('regression', 'maximise V(a, regression)')
    >>> report.success, report.certified, report.gap <= 1e-6 * report.value
    (True, True, True)
    """

    plan: str
    objective: str
    success: bool
    message: str
    iterations: int
    scipy_success: bool = True
    evaluations: int = 0
    value: float = float("nan")
    violation: float = 0.0
    first_order: float = float("nan")
    tolerance: float = float("nan")
    certified: bool = False
    bound: float = float("nan")
    gap: float = float("nan")
    starts: int = 1
    local_optima: int = 1
    spread: float = 0.0

    @classmethod
    def from_solve(cls, plan: str, objective: str, solve) -> SolveReport:
        """Report an :class:`~pymc_robust_alloc.engine.Solve`."""
        return cls(
            plan=plan,
            objective=objective,
            success=bool(solve.converged),
            message=solve.message,
            iterations=solve.iterations,
            scipy_success=solve.scipy_success,
            evaluations=solve.evaluations,
            value=float(solve.objective),
            violation=float(solve.violation),
            first_order=float(solve.first_order),
            tolerance=float(solve.tolerance),
            certified=bool(solve.certified),
            bound=float(solve.bound) if solve.certified else float("nan"),
            gap=float(solve.gap),
            starts=int(solve.starts),
            local_optima=int(solve.local_optima),
            spread=float(solve.spread),
        )


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
        :math:`R(a, m) = 1 - V(a, m) / V^*(m)`, dims ``("plan", "view")``; with
        ``settings["regret"] == "relative"``, :math:`R_{ref}(a, m) = (V^*(m) -
        V(a, m)) / (V^*(m) - V(ref, m))`, the share of the improvement over the
        reference plan given up (above 1: worse than the reference).
    solves : list of SolveReport
        Every optimisation run, in order.
    settings : dict
        The inputs: total budget, periods, bounds, draws, weights, quantile.
    quantile_regret : xarray.DataArray, optional
        Regret with each view's value taken at the ``quantile`` of its draws,
        against its best such value (risk-averse runs only).
    quantile_optima : xarray.DataArray, optional
        Each view's quantile optimum, dims ``("plan", *budget_dims)`` (risk-averse
        runs only).
    quantile_v_star : xarray.DataArray, optional
        :math:`V^*_q(m)`, each view's best quantile value (risk-averse runs only).
    success_probability : xarray.DataArray, optional
        :math:`P_m(V(a) \ge (1 + r)\, V(a_{ref}))` per plan and view, judged
        per draw on the increments over the zero plan, dims ``("plan", "view")``
        (when a reference plan was given; ``settings`` records it, ``r`` and the
        method).
    reference_value : xarray.DataArray, optional
        :math:`V(ref, m)`, dims ``("view",)`` (relative regret only).
    evidence : xarray.DataArray, optional
        Each view's evidence range, dims ``("view", *budget_dims, "bound")``, NaN
        where unknown (``None`` if no view knows its own).
    extrapolation : xarray.DataArray, optional
        Share of :math:`V(a, m)` from spend outside view :math:`m`'s evidence,
        dims ``("plan", "view")``, NaN where the evidence is unknown (see
        :mod:`pymc_robust_alloc.evidence`).
    v_star_extrapolation : xarray.DataArray, optional
        Share of :math:`V^*(m)` from spend outside the evidence: that of the
        plan attaining it, dims ``("view",)``.

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
    quantile_optima: xr.DataArray | None = None
    quantile_v_star: xr.DataArray | None = None
    reference_value: xr.DataArray | None = None
    evidence: xr.DataArray | None = None
    extrapolation: xr.DataArray | None = None
    v_star_extrapolation: xr.DataArray | None = None

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
    def certificate(self) -> pd.DataFrame:
        """Every minimax-type plan's objective, proven lower bound and gap.

        The bound holds when ``certified`` is True (every view provably concave);
        otherwise no certificate exists and bound and gap are NaN.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> table = result.certificate
        >>> list(table.columns)
        ['max regret', 'lower bound', 'gap', 'certified']
        >>> bool((table.loc[["minimax", "weighted minimax"], "gap"] <= 1e-9).all())
        True
        """
        rows = {
            s.plan: {
                MAX_REGRET: s.value,
                "lower bound": s.bound,
                "gap": s.gap,
                "certified": s.certified,
            }
            for s in self.solves
            if s.objective.startswith(("minimise", "maximise min"))
        }
        table = pd.DataFrame.from_dict(
            rows, orient="index", columns=[MAX_REGRET, "lower bound", "gap", "certified"]
        )
        table.index.name = "plan"
        return table

    @property
    def weighted_max_regret(self) -> pd.Series | None:
        r""":math:`\max_m w_m R(a, m)` of every plan, with the weights as given.

        ``None`` unless ``weights`` were given; views left out have weight 1.
        The weighted minimax plan minimises it.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> result.weighted_max_regret.idxmin()
        'weighted minimax'
        """
        given = self.settings.get("weights")
        if given is None:
            return None
        w = xr.DataArray([float(given.get(v, 1.0)) for v in self.views], dims="view")
        weighted = (self.regret * w.assign_coords(view=self.v_star["view"])).max("view")
        return weighted.to_series().rename("weighted max regret")

    @property
    def user_plans(self) -> pd.DataFrame:
        """The caller's plans (candidates, reference): feasible or not, and by how much.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> bool(result.user_plans.loc["reference", "feasible"])
        True
        """
        table = pd.DataFrame.from_dict(
            self.settings.get("user_plans", {}), orient="index", columns=["feasible", "violation"]
        )
        table.index.name = "plan"
        return table

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
        """One row per solve: what was solved, whether it converged, and the checks.

        Columns are the fields of :class:`SolveReport`.

        Examples
        --------
        ``result`` comes from :meth:`~pymc_robust_alloc.RobustAllocator.allocate` on the demo.

        >>> table = result.convergence
        >>> list(table.columns)[:4]
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
            out["quantile_v_star"] = dict(
                zip(self.views, _plain(self.quantile_v_star.values), strict=True)
            )
        if self.reference_value is not None:
            out["reference_value"] = dict(
                zip(self.views, _plain(self.reference_value.values), strict=True)
            )
        if self.extrapolation is not None:  # NaN (unknown evidence) as null
            shares = self.extrapolation.to_pandas().astype(object)
            out["extrapolation"] = _plain(shares.where(shares.notna(), None).T.to_dict())
            out["v_star_extrapolation"] = {
                v: (None if np.isnan(x) else float(x))
                for v, x in zip(self.views, self.v_star_extrapolation.values, strict=True)
            }
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
