"""Robust allocation across views: the recipe that turns views into plans."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pytensor
import xarray as xr
from pymc_marketing.mmm import BudgetOptimizer
from pymc_marketing.mmm.constraints import Constraint
from pytensor.compile.mode import Mode
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.xtensor.type import XTensorVariable
from tqdm.auto import tqdm

from pymc_robust_alloc.budget import as_bounds, as_period_factors, as_plan
from pymc_robust_alloc.checks import (
    check_budgets,
    check_num_periods,
    check_quantile,
    check_scales,
    check_total_budget,
    check_units,
    check_weights,
)
from pymc_robust_alloc.engine import (
    Criterion,
    Engine,
    Polytope,
    SideConstraints,
    Solve,
    best_of,
    disk_cached,
    load,
    multistart_points,
    store,
)
from pymc_robust_alloc.engine import python_mode as python_mode
from pymc_robust_alloc.evidence import (
    EXTRAPOLATION_THRESHOLD,
    check_threshold,
    extrapolated_share,
)
from pymc_robust_alloc.frontier import Frontier
from pymc_robust_alloc.merge import VIEW_RESPONSE, MergedViews, prepare_views, window_periods
from pymc_robust_alloc.names import (
    AVERAGED,
    MINIMAX,
    REFERENCE,
    RESERVED,
    RISK_AVERSE,
    SAMPLE,
    SUCCESS,
    VIEW,
    WEIGHTED,
)
from pymc_robust_alloc.objectives import RegretObjective, SuccessObjective
from pymc_robust_alloc.result import LONG_SHOT, AllocationResult, SolveReport
from pymc_robust_alloc.success import TEMPERATURE, check_success_arguments
from pymc_robust_alloc.utility import check_improvement, check_regret, regret_map
from pymc_robust_alloc.views.base import View
from pymc_robust_alloc.views.mmm import MMMView

__all__ = ["ConvergenceWarning", "Frontier", "RobustAllocator", "allocate", "python_mode"]

#: Smallest budget per period the solver's scaled variables can represent.
TINY_BUDGET = 1e-200
#: Problem size (draws x cells x views) from which the views are compiled (Numba).
COMPILED_SIZE = 50_000
#: Quantile bandwidths (in draws, as a share of the draws) of a risk-averse solve.
BANDWIDTHS = (0.05, 0.01, 0.0)
#: Plans of a risk-averse multistart refined past its widest bandwidth.
REFINED = 2
#: SLSQP tolerance of the success-probability solve.
SUCCESS_FTOL = 1e-10
#: Draws within this share of the quantile's value count as tied with it (a Goldstein-type
#: epsilon-subdifferential: kinks that close are treated as one).
TIED = 1e-3
#: First-order (Clarke stationarity) tolerance of a risk-averse solve.
QUANTILE_TOL = 1e-6


class ConvergenceWarning(UserWarning):
    """An optimisation did not converge; the result reports which one."""


class RobustAllocator:
    r"""Robust budget allocation across views, compiled once and solved many times.

    The views are merged into one model (:func:`~pymc_robust_alloc.merge_views`)
    whose response a :class:`~pymc_marketing.mmm.BudgetOptimizer` builds; the
    :class:`~pymc_robust_alloc.engine.Engine` compiles each view's value
    :math:`V(a, m)` and gradient once, and every plan is a solve on them:

    - each view's optimum :math:`\max_a V(a, m)` and the averaged plan
      :math:`\max_a \sum_m V(a, m)`;
    - minimax regret :math:`\min_a \max_m w_m R(a, m)`,
      :math:`R = 1 - V / V^*`, in epigraph form, with a certificate: when every
      view is concave in spend (:attr:`View.concave`), a proven lower bound on
      the optimal max regret and the gap to the plan's;
    - on request, risk-averse regret (each view valued by a lower quantile of
      its draws) and the robust success probability against a reference plan.

    Plans do not depend on units; without concavity every plan is the best of a
    seeded multistart, with no certificate. See :doc:`/concepts`.

    Parameters
    ----------
    views : sequence of View
        At least two views over the same channels.
    num_periods : int, optional
        Number of decision periods; budgets are per period. Optional when an
        :class:`~pymc_robust_alloc.MMMView` fixes the window.
    n_draws : int, optional
        Keep at most this many evenly spaced draws per view; default all.
    mode : pytensor Mode or str, optional
        Compilation mode; by default :func:`python_mode` below
        :data:`COMPILED_SIZE` draws x cells x views, PyTensor's default above.
    budget_distribution_over_period : sequence, mapping or DataArray, optional
        Flighting: each cell's share of its budget per period (summing to 1),
        as in PyMC-Marketing's ``BudgetOptimizer``; default even.
    cost_per_unit : sequence, mapping or DataArray, optional
        Price of a unit of ``channel_data`` per period and cell, as in
        ``BudgetOptimizer``; budgets are then money.

    Examples
    --------
    >>> from pymc_robust_alloc import CurveView, RobustAllocator
    >>> channels = ["search", "social"]
    >>> views = [
    ...     CurveView.from_estimates("mmm", {"alpha": [2.0, 1.0], "lam": [2.0, 2.0]},
    ...                              0.1, channels=channels, draws=100, random_seed=1),
    ...     CurveView.from_estimates("lift", {"alpha": [1.0, 2.0], "lam": [2.0, 2.0]},
    ...                              0.1, channels=channels, draws=100, random_seed=2),
    ... ]
    >>> allocator = RobustAllocator(views, num_periods=4)
    >>> result = allocator.allocate(total_budget=10.0)
    >>> bool(result.regret_matrix["max regret"].idxmin() == "minimax")
    True
    >>> bool(result.certificate.loc["minimax", "gap"] <= 1e-9)
    True
    """

    def __init__(
        self,
        views: Sequence[View],
        num_periods: int | None = None,
        *,
        n_draws: int | None = None,
        mode: Mode | str | None = None,
        budget_distribution_over_period: Sequence | Mapping | xr.DataArray | None = None,
        cost_per_unit: Sequence | Mapping | xr.DataArray | None = None,
    ) -> None:
        views = list(views)
        self.num_periods = check_num_periods(window_periods(views, num_periods))
        per_period = {
            "budget_distribution_over_period": budget_distribution_over_period,
            "cost_per_unit": cost_per_unit,
        }
        # A view whose periods do not interact (no adstock, no dated history)
        # responds to T equal periods as T times one period: solve on one.
        fold = all(
            getattr(v, "separable_over_periods", False) and v.horizon(self.num_periods) is None
            for v in views
            if isinstance(v, View)
        ) and all(f is None for f in per_period.values())
        self._prepared = prepare_views(views, 1 if fold else self.num_periods, n_draws=n_draws)
        self._periods_per_solve = self.num_periods if fold else 1
        self._mmm_views = tuple(v for v in views if isinstance(v, MMMView))
        self._evidence = {v.name: v.evidence for v in views}
        #: Whether every view's value is provably concave in spend.
        self.concave = all(getattr(v, "concave", False) for v in views)
        coords = self.budget_coords
        self._shape = tuple(len(v) for v in coords.values())
        n_cells = int(np.prod(self._shape))
        size = self._prepared.n_draws * n_cells * len(self.views)
        if mode is None:
            mode = python_mode() if size < COMPILED_SIZE else "FAST_RUN"
        self.mode = mode
        horizon = self._prepared.horizon
        #: Flighting and prices per period, as passed to ``BudgetOptimizer`` (or None).
        self.per_period: dict[str, xr.DataArray | None] = {
            name: None
            if factors is None
            else as_period_factors(
                factors, horizon.num_periods, coords, name, shares=name != "cost_per_unit"
            )
            for name, factors in per_period.items()
        }
        self.engine = Engine(
            lambda: self.optimizer,
            [f"{v.name}_{v.response_variable}" for v in views],
            self.mode,
            n_cells,
            self._prepared.n_draws,
            factor=self._periods_per_solve,
            separable=all(getattr(v, "separable_over_cells", False) for v in views),
        )
        draws = [self._prepared.view_draws[v] for v in self.views]
        regret = RegretObjective(np.zeros((self._prepared.n_draws, len(draws))), draws)
        # Keyed by the inputs: a build seen before loads its functions without merging.
        inputs = self._prepared.key()
        if inputs is not None:
            per_period_values = {
                k: None if v is None else v.values.tobytes() for k, v in self.per_period.items()
            }
            inputs = f"{inputs} {per_period_values}"
        self._cache_key = self.engine.cache_key(inputs)
        self.regret, self.success, shelf = disk_cached(
            self._cache_key, lambda: self._compile(regret)
        )
        self.engine.unshelve(shelf, self._parameters())
        self._stored = self.engine.compiled
        #: Plans of a neighbouring budget that start this budget's solves (frontier only).
        self._warm: dict[str, xr.DataArray] = {}
        #: Compiled side constraints by the sequence of ``Constraint`` objects.
        self._constraints: dict[tuple, SideConstraints] = {}

    @functools.cached_property
    def merged(self) -> MergedViews:
        """The views merged into one model (built on first use)."""
        return self._prepared.merge()

    @functools.cached_property
    def optimizer(self) -> BudgetOptimizer:
        """PyMC-Marketing's ``BudgetOptimizer`` on :attr:`merged` (built on first use).

        Its response graphs are what the :class:`~pymc_robust_alloc.engine.Engine`
        compiles; a build whose functions come from the disk cache needs neither.
        """
        horizon = self._prepared.horizon
        mask = xr.DataArray(
            np.ones(self._shape, dtype=bool),
            dims=tuple(self.budget_coords),
            coords={d: list(v) for d, v in self.budget_coords.items()},
        )
        # The optimizer's own objective is not solved here: compile it cheaply.
        with pytensor.config.change_flags(mode=python_mode(), cxx=""):
            return BudgetOptimizer(
                model=self.merged.model,
                idata=self.merged.idata,
                num_periods=horizon.num_periods,
                carry_in_periods=horizon.carry_in_periods,
                adstock_periods=horizon.adstock_periods,
                response_variable=VIEW_RESPONSE,
                utility_function=_total_spend,
                budgets_to_optimize=mask,
                compile_kwargs={"mode": python_mode()},
                **{k: v for k, v in self.per_period.items() if v is not None},
            )

    def _compile(self, regret: RegretObjective) -> tuple[RegretObjective, SuccessObjective, dict]:
        """Set ``regret``'s zero-plan baseline and compile its values: what the disk cache keeps.

        The functions read the objectives' shared variables, so all are stored
        together; the success objective shares the regret's baseline.
        """
        zero = np.zeros(self.engine.n_cells)
        baseline = np.stack([self.engine.responses(m, zero) for m in range(len(regret.draws))], 1)
        for m, n in enumerate(regret.draws):
            baseline[n:, m] = np.nan  # a shorter view's repeated draws are not its own
        regret.baseline.set_value(baseline)
        self.engine.compile(regret.value)
        self.regret, self.success = regret, SuccessObjective(regret.baseline, regret.draws)
        return self.regret, self.success, self.engine.shelve(self._parameters())

    def _parameters(self) -> dict[str, SharedVariable]:
        """Return the objectives' shared variables by name: what the compiled functions read."""
        return {
            f"{name}.{attribute}": variable
            for name, objective in (("regret", self.regret), ("success", self.success))
            for attribute, variable in objective.parameters().items()
        }

    def _store(self) -> None:
        """Store the functions compiled since the build (e.g. risk-averse, success) with the rest.

        The next build of the same views then loads them too, each at its first
        use. Called between solves, when every objective's parameters are at rest.
        """
        if self.engine.compiled > self._stored:
            # Another process may have stored functions of the same views meanwhile:
            # they read the same parameters, by name, so keep them too.
            stored = load(self._cache_key)
            shelf = {**(stored[2] if stored is not None else {})}
            shelf.update(self.engine.shelve(self._parameters()))
            store(self._cache_key, (self.regret, self.success, shelf))
            self._stored = self.engine.compiled

    @property
    def views(self) -> tuple[str, ...]:
        """View names, in the order of the ``view`` dim."""
        return self._prepared.names

    @property
    def budget_coords(self) -> dict[str, tuple]:
        """Budget dims and labels."""
        return self._prepared.budget_coords

    def _flat(self, plan: xr.DataArray) -> np.ndarray:
        """Return the optimizer's decision vector of a labelled plan: its cells in C order."""
        coords = {d: list(v) for d, v in self.budget_coords.items()}
        plan = plan.transpose(*coords)
        if any(plan[d].values.tolist() != labels for d, labels in coords.items()):
            plan = plan.reindex(coords)
        return np.asarray(plan.values, dtype=float).ravel()

    def _labelled(self, flat: np.ndarray) -> xr.DataArray:
        return xr.DataArray(
            np.asarray(flat, dtype=float).reshape(self._shape),
            dims=tuple(self.budget_coords),
            coords={d: list(v) for d, v in self.budget_coords.items()},
        )

    def _stack(self, plans: Mapping[str, np.ndarray]) -> xr.DataArray:
        """Flat plans labelled and stacked along a ``plan`` dim."""
        return xr.DataArray(
            np.stack([np.asarray(a, dtype=float).reshape(self._shape) for a in plans.values()]),
            dims=("plan", *self.budget_coords),
            coords={"plan": list(plans), **{d: list(v) for d, v in self.budget_coords.items()}},
        )

    def responses(self, plan: xr.DataArray) -> xr.DataArray:
        """Each view's response to ``plan`` per draw, dims ``("sample", "view")``.

        A view with fewer draws than the longest is NaN after its own draws.
        """
        flat = self._flat(as_plan(plan, self.budget_coords, "plan"))
        response = np.stack([self.engine.responses(m, flat) for m in range(len(self.views))], 1)
        for m, n in enumerate(self.regret.draws):
            response[n:, m] = np.nan
        return xr.DataArray(response, dims=(SAMPLE, VIEW), coords={VIEW: list(self.views)})

    def values(
        self,
        plan: xr.DataArray,
        *,
        quantile: float | None = None,
        response_scale: Mapping[str, float] | None = None,
    ) -> xr.DataArray:
        """:math:`V(a, m)`: each view's expected increment over the zero plan, dims ``("view",)``.

        ``quantile`` takes a lower quantile of the draws instead of their mean;
        ``response_scale`` multiplies a view's response, ``{view: k}``.
        """
        flat = self._flat(as_plan(plan, self.budget_coords, "plan"))
        scale = self._scales(response_scale).values
        if quantile is None:
            with self.regret.using(scale=scale):
                return self._view_array(self.engine.evaluate(self.regret.value, flat)[0])
        q = check_quantile(quantile)
        with self.regret.using(scale=scale, quantile=q, bandwidth=0.0):
            values = self.engine.evaluate(self.regret.quantile_value, flat)[0]
        self._store()
        return self._view_array(values)

    @property
    def evidence(self) -> xr.DataArray | None:
        """Each view's evidence range per budget cell, or ``None`` if no view knows its own.

        Dims ``("view", *budget_dims, "bound")``, NaN where unknown; see
        :attr:`View.evidence <pymc_robust_alloc.View.evidence>`.
        """
        if all(e is None for e in self._evidence.values()):
            return None
        coords = {d: list(v) for d, v in self.budget_coords.items()}
        template = xr.DataArray(
            np.full([len(v) for v in coords.values()] + [2], np.nan),
            dims=(*coords, "bound"),
            coords={**coords, "bound": ["lower", "upper"]},
        )
        ranges = [
            template if e is None else e.sel(coords).transpose(*template.dims)
            for e in self._evidence.values()
        ]
        return xr.concat(ranges, dim=pd.Index(list(self.views), name=VIEW))

    def extrapolation(self, plans: Mapping[str, xr.DataArray | Mapping]) -> xr.DataArray:
        r"""Share of each plan's value under each view from spend outside the view's evidence.

        ``plans`` maps names to spend per period; returns dims ``("plan", "view")``,
        NaN where the evidence is unknown (see :mod:`pymc_robust_alloc.evidence`).

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``.

        >>> share = allocator.extrapolation({"even": {"search": 40.0, "social": 30.0,
        ...                                           "display": 30.0}})
        >>> share.dims, bool(share.isnull().all())
        (('plan', 'view'), True)
        """
        flat = {
            str(n): self._flat(as_plan(a, self.budget_coords, str(n))) for n, a in plans.items()
        }
        return self._extrapolation(flat)

    def _extrapolation(self, plans: Mapping[str, np.ndarray]) -> xr.DataArray:
        evidence = self.evidence
        n = len(next(iter(plans.values())))
        lower = np.full((len(self.views), n), np.nan)
        upper = lower.copy()
        if evidence is not None:
            for m, view in enumerate(self.views):
                ranges = evidence.sel({VIEW: view})
                unknown = self._flat(ranges.isnull().any("bound").astype(float)) > 0
                lower[m] = self._flat(ranges.sel(bound="lower", drop=True).fillna(0.0))
                upper[m] = self._flat(ranges.sel(bound="upper", drop=True).fillna(0.0))
                lower[m, unknown] = upper[m, unknown] = np.nan

        def evaluate(a: np.ndarray) -> np.ndarray:
            return self.engine.evaluate(self.regret.value, a)[0]

        share = extrapolated_share(evaluate, plans, lower, upper)
        return xr.DataArray(
            share, dims=("plan", VIEW), coords={"plan": list(plans), VIEW: list(self.views)}
        )

    def _view_array(self, values: np.ndarray) -> xr.DataArray:
        return xr.DataArray(values, dims=VIEW, coords={VIEW: list(self.views)})

    def success_probability(
        self,
        plan: xr.DataArray,
        reference_plan: xr.DataArray | Mapping,
        *,
        required_gain: float = 0.0,
        method: str = "gaussian",
    ) -> xr.DataArray:
        r""":math:`P_m(V(a) \ge (1 + r) V(a_{ref}))` under each view (draws paired), dims ``view``.

        Arguments as in :func:`~pymc_robust_alloc.success_probability`; plans are
        spend per period, labelled or ``{channel: spend}``.
        """
        reference = self._reference_responses(
            as_plan(reference_plan, self.budget_coords, REFERENCE)
        )
        self._check_success(reference, required_gain, method)
        plan = as_plan(plan, self.budget_coords, "plan")
        with self.success.using(reference=reference, required_gain=float(required_gain)):
            log_p, _ = self.engine.evaluate(self.success.criterion(method), self._flat(plan))
        self._store()
        return self._view_array(np.exp(log_p))

    def _check_success(self, reference: np.ndarray, required_gain, method: str) -> None:
        """Validate success arguments on each view's own draws."""
        baseline = self.regret.baseline.get_value()
        for m, n in enumerate(self.regret.draws):
            check_success_arguments(
                reference[:n, m : m + 1],
                required_gain,
                method,
                TEMPERATURE,
                baseline[:n, m : m + 1],
            )

    def _reference_responses(self, reference_plan: xr.DataArray) -> np.ndarray:
        responses = self.responses(reference_plan).transpose(SAMPLE, VIEW)
        own = [responses.sel({VIEW: v}).values[: self._prepared.view_draws[v]] for v in self.views]
        if not all(np.all(np.isfinite(r)) for r in own):
            bad = [
                str(v) for v, r in zip(self.views, own, strict=True) if not np.all(np.isfinite(r))
            ]
            raise ValueError(
                f"The reference plan has non-finite responses under views {bad}. "
                "Check those views' draws at the reference spend."
            )
        return responses.values

    def _scales(self, response_scale: Mapping[str, float] | None) -> xr.DataArray:
        return self._view_array(check_scales(response_scale, self.views))

    def allocate(
        self,
        total_budget: float,
        bounds: Mapping | xr.DataArray | None = None,
        *,
        candidates: Mapping[str, xr.DataArray | Mapping] | None = None,
        weights: Mapping[str, float] | None = None,
        quantile: float | None = None,
        response_scale: Mapping[str, float] | None = None,
        reference_plan: xr.DataArray | Mapping | str | None = None,
        required_gain: float = 0.0,
        success_method: str = "gaussian",
        regret: str = "ratio",
        extrapolation_threshold: float = EXTRAPOLATION_THRESHOLD,
        success: bool = True,
        n_starts: int = 8,
        random_seed: int = 0,
        minimize_kwargs: dict | None = None,
        constraints: Sequence[Constraint] | None = None,
        units: Mapping | None = None,
    ) -> AllocationResult:
        r"""Solve every view's optimum, the averaged plan and the minimax-regret plan.

        With a ``reference_plan`` (e.g. today's plan), also solve the plan
        ``"success"`` that maximises the robust success probability
        :math:`\min_m P_m(V(a) \ge (1 + r) V(a_{ref}))`, judged per draw on the
        increments over the zero plan (see :mod:`pymc_robust_alloc.success`), and
        report every plan's :math:`P_m` in ``result.success_matrix``.

        Parameters
        ----------
        total_budget : float
            Budget per period, spread over the budget cells.
        bounds : dict or DataArray, optional
            Per-period bounds: ``{channel: (low, high)}`` or a DataArray with dims
            ``(*budget_dims, "bound")``; default ``(0, total_budget)``.
        candidates : mapping, optional
            Further plans to judge, e.g. ``{"current": current_plan}`` (spend per
            period, labelled). A candidate off the budget or outside the bounds
            is judged and flagged (``result.user_plans``), never used as a start.
        weights : mapping, optional
            ``{view: w}`` to also solve weighted minimax regret (views left out get
            weight 1).
        quantile : float, optional
            Also solve risk-averse minimax regret, judging each view by this
            lower quantile of its draws (e.g. 0.1).
        response_scale : mapping, optional
            Multiply a view's response by ``k`` (``{view: k}``), for sensitivity
            analysis; normalised regret is unchanged by it.
        reference_plan : DataArray, mapping or "historical", optional
            The plan to beat, spend per period labelled by the budget dims (or
            ``{channel: spend}``); added to the plans as ``"reference"``.
            ``"historical"`` takes the spend mix of the data the (first)
            :class:`~pymc_robust_alloc.MMMView` was fitted on, at ``total_budget``.
        required_gain : float, default 0
            Relative gain :math:`r > -1` the plan must add over the reference's
            increment, e.g. 0.05.
        success_method : {"gaussian", "empirical"}, default "gaussian"
            As in :func:`~pymc_robust_alloc.success_probability`.
        regret : {"ratio", "relative"}, default "ratio"
            How every minimax plan and ``result.regret`` measure regret (see
            :mod:`pymc_robust_alloc.utility`); ``"relative"`` needs a feasible
            ``reference_plan`` that every view can improve on.
        extrapolation_threshold : float, default 0.5
            Warn when, under some view, more than this share of :math:`V^*(m)`
            or of the minimax plan's value comes from spend outside the view's
            evidence range (``result.extrapolation``); 1 never warns.
        success : bool, default True
            With a ``reference_plan``, also solve the success plan; ``False``
            uses the reference for relative regret only.
        n_starts : int, default 8
            Random starts of each solve when some view is not provably concave,
            and of the risk-averse solves (quantiles are not smooth); the other
            plans and vertices of the bounds are tried too.
        random_seed : int, default 0
            Seed of the random starts.
        minimize_kwargs : dict, optional
            SciPy SLSQP settings, e.g. ``{"options": {"maxiter": 200}}``. Only
            SLSQP is accepted: a method that ignores the budget constraint
            cannot return a feasible plan.
        units : mapping, optional
            Names of the units, ``{"spend": "k$/week", "outcome": {view: "sales
            (k$)"}}`` (``outcome`` may be one string for every view), shown with
            :meth:`AllocationResult.outcomes` and in reports.
        constraints : sequence of pymc_marketing.mmm.constraints.Constraint, optional
            Further constraints on every plan solved (each view's optimum, the
            averaged, minimax and success plans), written as for
            ``BudgetOptimizer(constraints=...)``; the budget and the bounds are
            always enforced, so leave out ``build_default_sum_constraint``.
            Certificates stay proven bounds when every constraint is linear in
            spend; with a nonlinear one the result reports no certificate
            (``settings["certificate"]`` says why).

        Returns
        -------
        AllocationResult

        Warns
        -----
        ConvergenceWarning
            If a solve did not converge; ``result.convergence`` says which.
        UserWarning
            If a candidate plan is infeasible, if the success plan is within 1% of
            the budget of the reference plan, or if it is a long shot: its robust
            success probability is below :data:`~pymc_robust_alloc.result.LONG_SHOT`
            (5 %), so no plan is likely to reach the required gain
            (:attr:`AllocationResult.long_shot`).

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``.

        >>> bounds = {"search": (0.0, 60.0), "social": (0.0, 60.0), "display": (0.0, 60.0)}
        >>> result = allocator.allocate(100.0, bounds)
        >>> list(result.regret_matrix.index)
        ['regression', 'experiment', 'attribution', 'averaged', 'minimax']
        >>> result.regret_matrix["max regret"].idxmin()
        'minimax'
        """
        total = check_total_budget(total_budget)
        if total < TINY_BUDGET:
            raise ValueError(
                f"total_budget={total:g} is too small to solve in double precision "
                "(spend per cell would underflow). Express spend in smaller units, "
                "e.g. cents instead of millions."
            )
        box_da = as_bounds(bounds, self.budget_coords, total)
        box = Polytope(
            self._flat(box_da.sel(bound="lower", drop=True)),
            self._flat(box_da.sel(bound="upper", drop=True)),
            total,
            side=self._side_constraints(constraints),
        )
        self._check_constraints(box)
        scale = self._scales(response_scale)
        run = _Run(self, box, _slsqp_options(minimize_kwargs), int(n_starts), int(random_seed))
        # A plan of another budget, rescaled to this one and projected onto the bounds.
        for name, plan in self._warm.items():
            a = self._flat(plan)
            run.warm[name] = box.project(a * total / a.sum() if a.sum() > 0 else a)
        user = self._user_plans(candidates, reference_plan, total, box)
        w = None if weights is None else check_weights(weights, self.views)
        q = None if quantile is None else check_quantile(quantile)
        named_units = check_units(units, self.views)
        relative = check_regret(regret) == "relative"
        threshold = check_threshold(extrapolation_threshold)
        if relative:
            self._check_relative_reference(user, box)
        reference = None
        if REFERENCE in user and success:
            reference = self._reference_responses(self._labelled(user[REFERENCE]))
            self._check_success(reference, required_gain, success_method)
        settings: dict[str, Any] = {
            "total_budget": total,
            "num_periods": self.num_periods,
            "n_draws": self._prepared.n_draws,
            "view_draws": dict(self._prepared.view_draws),
            **{
                name: None if factors is None else factors.values.tolist()
                for name, factors in self.per_period.items()
            },
            "available_draws": dict(self._prepared.available_draws),
            "bounds": {
                str(c): box_da.sel(channel=c).values.tolist() for c in self.budget_coords["channel"]
            },
            "weights": dict(weights) if weights is not None else None,
            "quantile": quantile,
            "regret": regret,
            "extrapolation_threshold": threshold,
            "success": bool(success),
            "response_scale": dict(zip(self.views, scale.values.tolist(), strict=True)),
            "concave": self.concave,
            "n_starts": int(n_starts),
            "random_seed": int(random_seed),
            "units": named_units,
            "constraints": None
            if box.side is None
            else {
                key: {"type": kind, "linear": linear}
                for key, kind, linear in zip(
                    box.side.keys, box.side.kinds, box.side.linear, strict=True
                )
            },
            "certificate": _certificate_note(box),
            "user_plans": {
                name: {"feasible": box.violation(a) <= 1e-9, "violation": box.violation(a)}
                for name, a in user.items()
            },
        }
        if REFERENCE in user:
            settings["reference_plan"] = self._labelled(user[REFERENCE]).to_series().to_dict()
        extra: dict[str, Any] = {}
        with self.regret.using(scale=scale.values):
            plans = run.view_optima(self.regret.value, user)
            v_star = run.best_values(self.regret.value, plans, "mean", positive=not relative)
            v_ref = run.reference_value(self.regret.value, user, v_star) if relative else None
            plans[MINIMAX] = run.minimax_regret(
                MINIMAX, self.regret.value, plans, v_star, reference_value=v_ref
            )
            if w is not None:
                plans[WEIGHTED] = run.minimax_regret(
                    WEIGHTED, self.regret.value, plans, v_star, weights=w, reference_value=v_ref
                )
            if q is not None:
                with self.regret.using(quantile=q):
                    lows = run.view_optima(self.regret.quantile_value, user, quantile=q)
                    q_plans = {**plans, **lows}
                    q_star = run.best_values(
                        self.regret.quantile_value,
                        q_plans,
                        f"{q:g} quantile",
                        positive=not relative,
                    )
                    q_ref = (
                        run.reference_value(self.regret.quantile_value, user, q_star, q)
                        if relative
                        else None
                    )
                    plans[RISK_AVERSE] = run.minimax_regret(
                        RISK_AVERSE,
                        self.regret.quantile_value,
                        q_plans,
                        q_star,
                        quantile=q,
                        reference_value=q_ref,
                    )
                    with self.regret.using(bandwidth=0.0):
                        low = run.table(self.regret.quantile_value, plans)
                extra["quantile_regret"] = _regret(low, q_star, q_ref)
                extra["quantile_optima"] = self._stack(lows)
                extra["quantile_v_star"] = q_star
            if reference is not None:
                gain = float(required_gain)
                settings.update(required_gain=gain, success_method=success_method)
                criterion = self.success.criterion(success_method)
                with self.success.using(reference=reference, required_gain=gain):
                    plans[SUCCESS] = run.maximin_success(criterion, plans)
                    log_p = run.table(criterion, plans)
                extra["success_probability"] = np.exp(log_p)
                best = extra["success_probability"].sel(plan=SUCCESS)
                if float(best.min()) < LONG_SHOT:
                    reach = v_star / _value_ref(run, self.regret.value, user[REFERENCE]) - 1
                    warnings.warn(
                        f"No plan is likely to reach required_gain={gain:g}: the best plan "
                        f"succeeds with probability {float(best.min()):.3g} under view "
                        f"{str(best.idxmin().item())!r} (below {LONG_SHOT:g}), so the "
                        "success plan is a long shot. The largest expected gain each view "
                        f"can reach: {_gains(reach)}. Ask for a smaller gain or a larger "
                        "budget.",
                        UserWarning,
                        stacklevel=2,
                    )
                moved = float(np.abs(plans[SUCCESS] - user[REFERENCE]).sum())
                if moved < 0.01 * total:
                    warnings.warn(
                        f"The success plan moves {moved:.3g} per period away from the reference "
                        f"plan (under 1% of the budget): with required_gain={gain:g}, a tiny "
                        "move that every view agrees on succeeds in nearly every draw. Ask "
                        "for a gain worth acting on, e.g. required_gain=0.02.",
                        UserWarning,
                        stacklevel=2,
                    )
            value = run.table(self.regret.value, plans)
            extra["increments"] = self._increments(plans)
            extra["contribution"] = self._contribution(plans, value)
        shares = self._extrapolation(plans)
        feasible = list(run._feasible(plans))
        # Each view's share at its best feasible plan (the first, on ties).
        rows = [list(plans).index(name) for name in feasible]
        best = np.asarray(rows)[np.nanargmax(value.values[rows], axis=0)]
        v_star_share = self._view_array(shares.values[best, np.arange(len(self.views))])
        _warn_extrapolation(shares.sel(plan=MINIMAX), v_star_share, threshold, regret)
        self._store()
        return AllocationResult(
            plans=self._stack(plans),
            value=value,
            v_star=v_star,
            regret=_regret(value, v_star, v_ref),
            reference_value=v_ref,
            evidence=self.evidence,
            extrapolation=shares,
            v_star_extrapolation=v_star_share,
            solves=run.reports,
            settings=settings,
            **extra,
        )

    def frontier(
        self,
        budgets: Sequence[float],
        bounds: Mapping | xr.DataArray | None = None,
        *,
        weights: Mapping[str, float] | None = None,
        quantile: float | None = None,
        response_scale: Mapping[str, float] | None = None,
        n_starts: int = 8,
        random_seed: int = 0,
        minimize_kwargs: dict | None = None,
        constraints: Sequence[Constraint] | None = None,
        units: Mapping | None = None,
        progress: bool = True,
    ) -> Frontier:
        """Solve every plan family at each total budget: a budget frontier.

        Budgets are solved in increasing order, each warm-started from the plan
        at the previous budget; every plan has its own convergence checks.

        Parameters
        ----------
        budgets : sequence of float
            Budgets per period: positive, strictly increasing, each one that the
            bounds can spend.
        bounds : dict or DataArray, optional
            Per-period bounds, as in :meth:`allocate`, the same at every budget.
        weights, quantile, response_scale, n_starts, random_seed, minimize_kwargs, units
        constraints
            As in :meth:`allocate`.
        progress : bool, default True
            Show a progress bar over the budgets.

        Returns
        -------
        Frontier

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``;
        ``bounds`` are ``(0, 60)`` per channel.

        >>> frontier = allocator.frontier([80.0, 100.0, 120.0], bounds, progress=False)
        >>> frontier.max_regret.sel(plan="minimax").dims
        ('total_budget',)
        >>> bool(frontier.converged.all())
        True
        """
        totals = check_budgets(budgets)
        unreachable = {}
        for total in totals:
            try:
                as_bounds(bounds, self.budget_coords, float(total))
            except ValueError as err:
                unreachable[float(total)] = str(err)
        if unreachable:
            first = next(iter(unreachable.values()))
            raise ValueError(
                f"Budgets {list(unreachable)} cannot be spent within the bounds; none was "
                f"solved. For {next(iter(unreachable))!r}: {first}"
            )
        results: list[AllocationResult] = []
        try:
            for total in tqdm(totals, desc="budget frontier", unit="budget", disable=not progress):
                result = self.allocate(
                    float(total),
                    bounds,
                    weights=weights,
                    quantile=quantile,
                    response_scale=response_scale,
                    n_starts=n_starts,
                    random_seed=random_seed,
                    minimize_kwargs=minimize_kwargs,
                    constraints=constraints,
                    units=units,
                )
                results.append(result)
                # Starting points of the next budget's solves (only starting points).
                self._warm = {str(p): result.plan(str(p)) for p in result.plans["plan"].values}
        finally:
            self._warm = {}
        return Frontier(tuple(results))

    def _side_constraints(self, constraints) -> SideConstraints | None:
        """Validate and compile the user's constraints (once per sequence of them)."""
        if constraints is None or len(constraints) == 0:
            return None
        constraints = tuple(constraints)
        bad = [type(c).__name__ for c in constraints if not isinstance(c, Constraint)]
        if bad:
            raise TypeError(
                f"constraints must be pymc_marketing.mmm.constraints.Constraint objects, got "
                f"{bad}; build them as for BudgetOptimizer(constraints=...)."
            )
        keys = [c.key for c in constraints]
        if len(set(keys)) < len(keys):
            raise ValueError(f"Constraint keys must be unique, got {keys}.")
        if constraints not in self._constraints:
            self._constraints[constraints] = self.engine.side_constraints(constraints)
        return self._constraints[constraints]

    def _check_constraints(self, box: Polytope) -> None:
        """Refuse constraints that no plan on the budget and within the bounds satisfies."""
        if box.side is None:
            return
        breach = box.violation(box.start())
        if breach > 1e-7:
            raise ValueError(
                f"No plan spending {box.total:g} per period within the bounds satisfies the "
                f"constraints {list(box.side.keys)} (the nearest plan found breaks them by "
                f"{breach:.3g} of the budget). Relax the constraints or the bounds."
            )

    def _increments(self, plans: Mapping[str, np.ndarray]) -> xr.DataArray:
        """Each view's response increment over the zero plan, per draw, of every plan."""
        base = self.regret.baseline.get_value()
        scale = self.regret.scale.get_value()
        n = base.shape[0]
        draws = [
            [(self.engine.responses(m, a) - base[:, m]) * scale[m] for m in range(len(self.views))]
            for a in plans.values()
        ]
        return xr.DataArray(
            np.array(draws),
            dims=("plan", VIEW, SAMPLE),
            coords={"plan": list(plans), VIEW: list(self.views), SAMPLE: np.arange(n)},
        )

    def _contribution(self, plans: Mapping[str, np.ndarray], value: xr.DataArray) -> xr.DataArray:
        """Each channel's contribution: the plan's value less its value without that channel."""
        channels = list(self.budget_coords["channel"])
        axis = list(self.budget_coords).index("channel")
        cells = np.moveaxis(np.arange(self.engine.n_cells).reshape(self._shape), axis, 0)
        # Every plan without each channel in turn: (plans x channels) rows, one batch.
        without = np.repeat(np.array(list(plans.values())), len(channels), axis=0)
        for k in range(len(channels)):
            without[k :: len(channels), cells[k].ravel()] = 0.0
        lost = self.engine.values(self.regret.value, without).reshape(
            len(plans), len(channels), len(self.views)
        )
        rows = value.sel(plan=list(plans)).values[:, :, None] - lost.transpose(0, 2, 1)
        return xr.DataArray(
            np.array(rows),
            dims=("plan", VIEW, "channel"),
            coords={"plan": list(plans), VIEW: list(self.views), "channel": channels},
        )

    def _check_relative_reference(self, user: Mapping[str, np.ndarray], box: Polytope) -> None:
        """Refuse relative regret without a reference plan on the budget (and bounds)."""
        if REFERENCE not in user:
            raise ValueError(
                "regret='relative' measures each view against a reference plan: pass "
                "reference_plan (today's plan as {channel: spend per period}, or "
                "'historical' with an MMMView), or use regret='ratio'."
            )
        breach = box.violation(user[REFERENCE])
        if breach > 1e-9:
            spent = float(user[REFERENCE].sum())
            raise ValueError(
                f"regret='relative' needs a reference plan that spends the budget: it "
                f"spends {spent:g} per period, not {box.total:g}. A plan the optimizer "
                "could not choose would make the improvement over it meaningless; "
                "rescale the reference plan to the budget."
            )

    def _user_plans(
        self, candidates, reference_plan, total: float, box: Polytope
    ) -> dict[str, np.ndarray]:
        """Validate the user's plans and flatten them; warn about (but keep) infeasible ones."""
        if candidates is not None and not isinstance(candidates, Mapping):
            raise TypeError(
                "candidates must be a mapping {name: plan}, got "
                f"{type(candidates).__name__}; e.g. {{'current': {{'tv': 60, 'radio': 40}}}}."
            )
        user = {}
        for name, plan in (candidates or {}).items():
            name = str(name)
            if name in RESERVED or name in self.views:
                raise ValueError(
                    f"A candidate is named {name!r}, which names one of the allocator's "
                    f"own plans ({[*self.views, *RESERVED]}); rename the candidate."
                )
            user[name] = self._flat(as_plan(plan, self.budget_coords, name))
        if reference_plan is not None:
            if isinstance(reference_plan, str):
                reference_plan = self._named_reference(reference_plan, total)
            user[REFERENCE] = self._flat(as_plan(reference_plan, self.budget_coords, REFERENCE))
            outside = (user[REFERENCE] < box.lower - 1e-9 * total) | (
                user[REFERENCE] > box.upper + 1e-9 * total
            )
            if outside.any():
                cells = self._labelled(user[REFERENCE]).values.ravel()[outside].tolist()
                raise ValueError(
                    f"The reference plan is outside the bounds (spend {cells} per period "
                    "in some cells). Widen the bounds to include today's plan, or pass a "
                    "reference plan within them: success is judged against a plan the "
                    "optimizer could have chosen."
                )
        for name, a in user.items():
            breach = box.violation(a)
            if breach > 1e-9:
                warnings.warn(
                    f"Plan {name!r} is off the budget or outside the bounds (by "
                    f"{breach:.3g} of the budget): it is judged like any plan but is not "
                    "feasible, so it is never used as a start nor taken as an optimum.",
                    UserWarning,
                    stacklevel=3,
                )
        return user

    def _named_reference(self, name: str, total: float) -> xr.DataArray:
        if name != "historical":
            raise ValueError(
                f"reference_plan {name!r} is not a plan; the only named reference is "
                "'historical'. Pass today's plan as {channel: spend per period}."
            )
        if not self._mmm_views:
            raise ValueError(
                "reference_plan='historical' needs an MMMView, whose fitted data hold "
                f"the historical spend mix; the views are {list(self.views)}. Pass "
                "today's plan as {channel: spend per period} instead."
            )
        return self._mmm_views[0].historical_plan(total)


class _Run:
    """The solves of one :meth:`RobustAllocator.allocate` call and their reports."""

    def __init__(
        self, allocator: RobustAllocator, box: Polytope, options: dict, n_starts: int, seed: int
    ) -> None:
        self.allocator = allocator
        self.engine = allocator.engine
        self.box = box
        self.options = options
        self.n_starts = n_starts
        self.seed = seed
        self.reports: list[SolveReport] = []
        #: Starting points by plan name (e.g. the plans of a neighbouring budget).
        self.warm: dict[str, np.ndarray] = {}

    def _feasible(self, plans: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {n: a for n, a in plans.items() if self.box.violation(a) <= 1e-9}

    def _starts(self, start: np.ndarray, others: Mapping[str, np.ndarray], smooth: bool):
        if smooth and self.concave:
            return [start]
        known = [start, *self._feasible(others).values()]
        return multistart_points(self.box, known, self.n_starts, self.seed + len(self.reports))

    def _report(self, name: str, objective: str, solve: Solve) -> np.ndarray:
        report = SolveReport.from_solve(name, objective, solve)
        self.reports.append(report)
        if not report.success:
            warnings.warn(
                f"The solve for plan {name!r} ({objective}) did not converge: "
                f"{report.message}. The plan is reported as found; see result.convergence.",
                ConvergenceWarning,
                stacklevel=4,
            )
        return solve.plan

    def _maximise(self, criterion: Criterion, coefficients, starts, smooth: bool) -> Solve:
        def solve(start: np.ndarray) -> Solve:
            return self.engine.maximise(
                criterion, coefficients, self.box, start, concave=smooth and self.concave
            )

        views = np.flatnonzero(coefficients)
        return self._multistart(solve, starts, smooth, views, None, minimise=False)

    def _minimax(self, criterion, offset, slope, starts, smooth: bool, convex: bool) -> Solve:
        def solve(start: np.ndarray) -> Solve:
            return self.engine.minimax(criterion, offset, slope, self.box, start, convex=convex)

        views = np.arange(offset.size)
        return self._multistart(solve, starts, smooth, views, (offset, slope), minimise=True)

    @property
    def concave(self) -> bool:
        return self.allocator.concave

    def _multistart(self, solve, starts, smooth: bool, views, affine, minimise: bool) -> Solve:
        """Return the best solve over ``starts``.

        A quantile objective is solved from every start at the widest bandwidth;
        the :data:`REFINED` best of those plans are then warm-started through the
        narrower bandwidths down to the exact quantile, and checked for Clarke
        stationarity.
        """
        with _options(self.engine, self.options):
            if smooth:
                return best_of([solve(s) for s in starts], minimise)
            objective, n = self.allocator.regret, self.allocator._prepared.n_draws
            with objective.using(bandwidth=BANDWIDTHS[0] * n):
                first = [solve(s) for s in starts]
            sign = 1.0 if minimise else -1.0
            ranked = sorted(first, key=lambda r: (not r.converged, sign * r.objective))
            refined = []
            for result in ranked[:REFINED]:
                for share in BANDWIDTHS[1:]:
                    with objective.using(bandwidth=share * n):
                        result = solve(result.plan)
                result.first_order = self._clarke(result.plan, views, affine)
                result.tolerance = QUANTILE_TOL
                refined.append(result)
            best = best_of(refined, minimise)
            summary = best_of(first, minimise)  # the multistart, at the widest bandwidth
            best.starts, best.local_optima, best.spread = (
                summary.starts,
                summary.local_optima,
                summary.spread,
            )
            return best

    def _clarke(self, plan: np.ndarray, views, affine) -> float:
        r"""First-order measure of a quantile objective, valid at its kinks.

        The quantile of view :math:`m`'s draws is :math:`(1 - \omega) Y_{(k)} +
        \omega Y_{(k+1)}`; near ``plan`` each order statistic is one of the draws
        tied with it, so the Clarke subdifferential lies in the hull of
        :math:`(1 - \omega) \nabla Y_i + \omega \nabla Y_j` over tied pairs
        :math:`(i, j)`. The measure is the gap of the problem linearised over
        those pieces (:meth:`~pymc_robust_alloc.engine.Polytope.minimax_lower_bound`):
        zero at a Clarke-stationary plan. Draws within :data:`TIED` of an order
        statistic count as tied (an epsilon-subdifferential, as in Goldstein's
        method), so kinks closer than that are one. For a maximisation the
        measure is relative to the quantile's value; for a minimax it is in
        regret units.
        """
        regret = self.allocator.regret
        q = float(regret.quantile.get_value())
        base = regret.baseline.get_value()
        scale = regret.scale.get_value()
        length = base.shape[0]
        phis, jacobians = [], []
        for m in views:
            n = regret.draws[m] or length
            y, _ = self.engine.draws(m, plan, np.zeros(length))
            increment = (y[:n] - base[:n, m]) * scale[m]
            ordered = np.sort(increment)
            position = q * (n - 1)
            k = int(np.floor(position))
            omega = position - k
            value = (1 - omega) * ordered[k] + omega * ordered[min(k + 1, n - 1)]
            groups = [
                np.flatnonzero(np.abs(increment - ordered[r]) <= TIED * abs(ordered[r]))
                for r in (k, min(k + 1, n - 1))
            ]
            for i in groups[0]:
                for j in groups[1]:
                    unit = np.zeros(length)
                    unit[i] += (1 - omega) * scale[m]
                    unit[j] += omega * scale[m]
                    gradient = self.engine.draws(m, plan, unit)[1]
                    if affine is None:  # maximise V_q: minimise -V_q / |V_q|
                        phis.append(-1.0)
                        jacobians.append(-gradient / abs(value))
                    else:
                        offset, slope = affine[0][m], affine[1][m]
                        phis.append(offset + slope * value)
                        jacobians.append(slope * gradient)
        phi, jacobian = np.array(phis), np.array(jacobians)
        bound, _ = self.box.minimax_lower_bound(plan, phi, jacobian)
        return max(float(phi.max()) - bound, 0.0)

    def view_optima(
        self, criterion: Criterion, user: Mapping[str, np.ndarray], quantile: float | None = None
    ) -> dict[str, np.ndarray]:
        """Each view's optimum, then (for the mean) the averaged plan; user plans appended."""
        smooth = quantile is None
        plans: dict[str, np.ndarray] = {}
        for m, name in enumerate(self.allocator.views):
            label = name if smooth else f"{name} (q={quantile:g})"
            what = (
                f"maximise V(a, {name})"
                if smooth
                else f"maximise the {quantile:g} quantile of V(a, {name})"
            )
            solve = self._maximise(
                criterion,
                np.eye(len(self.allocator.views))[m],
                self._starts(self.warm.get(label, self.box.start()), {**user, **plans}, smooth),
                smooth,
            )
            plans[label] = self._report(label, what, solve)
        if smooth:
            solve = self._maximise(
                criterion,
                np.ones(len(self.allocator.views)),
                self._starts(self.warm.get(AVERAGED, self.box.start()), {**user, **plans}, smooth),
                smooth,
            )
            plans[AVERAGED] = self._report(
                AVERAGED, "maximise the mean of the views' responses", solve
            )
            plans.update(user)
        return plans

    def table(self, criterion: Criterion, plans: Mapping[str, np.ndarray]) -> xr.DataArray:
        """Criterion of every plan (rows) under every view (columns)."""
        rows = [self.engine.evaluate(criterion, a)[0] for a in plans.values()]
        return xr.DataArray(
            np.array(rows),
            dims=("plan", VIEW),
            coords={"plan": list(plans), VIEW: list(self.allocator.views)},
        )

    def best_values(
        self,
        criterion: Criterion,
        plans: Mapping[str, np.ndarray],
        what: str,
        *,
        positive: bool = True,
    ) -> xr.DataArray:
        """:math:`V^*`: each view's best value over the feasible plans, validated positive.

        Relative regret (``positive=False``) needs no sign, only an improvement
        over the reference (:meth:`reference_value`).
        """
        v_star = self.table(criterion, self._feasible(plans)).max("plan")
        if not positive:
            return v_star
        bad = [str(v) for v in v_star[VIEW].values if not float(v_star.sel({VIEW: v})) > 0]
        if bad:
            raise ValueError(
                f"Views {bad} have no plan with a positive {what} response increment "
                f"(V* = {v_star.sel({VIEW: bad}).values}), so normalised regret "
                "1 - V/V* is undefined. Check that these views' responses grow with spend."
            )
        return v_star

    def reference_value(
        self,
        criterion: Criterion,
        user: Mapping[str, np.ndarray],
        v_star: xr.DataArray,
        quantile: float | None = None,
    ) -> xr.DataArray:
        """:math:`V(ref, m)`, checked to leave every view an improvement up to :math:`V^*`."""
        value = self.table(criterion, {REFERENCE: user[REFERENCE]}).sel(plan=REFERENCE, drop=True)
        try:
            check_improvement(v_star.values, value.values, self.allocator.views)
        except ValueError as err:
            if quantile is None:
                raise
            raise ValueError(f"At the {quantile:g} quantile: {err}") from None
        return value

    def minimax_regret(
        self,
        name: str,
        criterion: Criterion,
        plans: Mapping[str, np.ndarray],
        v_star: xr.DataArray,
        *,
        weights: np.ndarray | None = None,
        quantile: float | None = None,
        reference_value: xr.DataArray | None = None,
    ) -> np.ndarray:
        """Minimise the (weighted) max regret, from the best feasible plan so far.

        Regret is the affine map of :func:`~pymc_robust_alloc.utility.regret_map`:
        ratio, or relative to the reference plan's ``reference_value``.
        """
        w = np.ones(len(v_star)) if weights is None else weights
        v_0 = 0.0 if reference_value is None else reference_value.values
        offset, slope = regret_map(v_star.values, v_0, w)
        feasible = self._feasible(plans)
        table = self.table(criterion, feasible).values
        start = list(feasible.values())[int(np.argmax((offset + slope * table).max(axis=1) * -1))]
        start = self.warm.get(name, start)
        smooth = quantile is None
        starts = self._starts(start, feasible, smooth)
        solve = self._minimax(criterion, offset, slope, starts, smooth, smooth and self.concave)
        r = "R_q" if quantile is not None else "R"
        if reference_value is not None:
            r += "_ref"
        what = f"minimise max_m {'w_m ' if weights is not None else ''}{r}(a, m)"
        if quantile is not None:
            what += f", q={quantile:g}"
        return self._report(name, what, solve)

    def maximin_success(self, criterion: Criterion, plans: Mapping[str, np.ndarray]) -> np.ndarray:
        """Maximise the smallest success probability: minimise max_m -log P_m."""
        feasible = self._feasible(plans)
        table = self.table(criterion, feasible).values
        start = list(feasible.values())[int(np.argmax(table.min(axis=1)))]
        n = len(self.allocator.views)
        # log P is not convex in the plan: no certificate. Its normal log-CDF is
        # accurate to about 1e-12, which bounds the tolerance worth asking for.
        with _options(self.engine, {"ftol": SUCCESS_FTOL}):
            solve = self._minimax(
                criterion, np.zeros(n), -np.ones(n), [start], smooth=True, convex=False
            )
        method = criterion.name.split("(")[-1].rstrip(")")
        return self._report(
            SUCCESS, f"maximise min_m P_m(V(a) >= (1 + r) V(reference)), {method}", solve
        )


def _value_ref(run: _Run, criterion: Criterion, reference: np.ndarray) -> xr.DataArray:
    """Each view's value of the reference plan."""
    return run.table(criterion, {REFERENCE: reference}).sel(plan=REFERENCE, drop=True)


def _certificate_note(box: Polytope) -> str:
    """Why the certificates hold or not, as far as the feasible set goes."""
    if box.exact:
        return "bounds proven over the feasible plans" + (
            "" if box.side is None else " (every constraint is linear)"
        )
    return (
        f"not certified: constraints {box.side.nonlinear} are not linear in spend, so the "
        "feasible set is not a polytope and no bound is proven; first-order checks "
        "use the constraints linearised at each plan"
    )


def _gains(reach: xr.DataArray) -> str:
    return ", ".join(
        f"{v} {float(g):+.2%}" for v, g in zip(reach[VIEW].values, reach.values, strict=True)
    )


def _total_spend(samples: XTensorVariable, budgets: XTensorVariable) -> XTensorVariable:
    """Return the total spend: a placeholder utility that compiles instantly.

    The optimizer builds the views' response graph, which the engine compiles
    per view; its own objective is never solved, so it need not cost a compile
    of every view's response.
    """
    return budgets.sum()


def _warn_extrapolation(
    minimax: xr.DataArray, v_star: xr.DataArray, threshold: float, regret: str
) -> None:
    """Warn when a view's V* or the minimax plan's value is mostly extrapolated."""
    worst = np.fmax(minimax.values, v_star.values)
    flagged = [str(v) for v, w in zip(minimax[VIEW].values, worst, strict=True) if w > threshold]
    if not flagged:
        return
    detail = "; ".join(
        f"{v}: {float(v_star.sel({VIEW: v})):.0%} of V*, "
        f"{float(minimax.sel({VIEW: v})):.0%} of the minimax plan's value"
        for v in flagged
    )
    advice = (
        "Its regret compares values that rest mostly on its curve's extrapolation; "
        "regret='relative' with a reference plan inside the evidence depends only on "
        "differences between plans."
        if regret == "ratio"
        else "Plans far outside the evidence rest on extrapolation under any regret."
    )
    warnings.warn(
        f"More than {threshold:.0%} of some views' value comes from spend outside the "
        f"range their evidence covers ({detail}; see result.extrapolation). {advice}",
        UserWarning,
        stacklevel=3,
    )


def _regret(
    value: xr.DataArray, v_star: xr.DataArray, reference_value: xr.DataArray | None
) -> xr.DataArray:
    """Regret of every plan under every view, by the minimax solves' own map."""
    offset, slope = regret_map(v_star, 0.0 if reference_value is None else reference_value)
    return (offset + slope * value).transpose(*value.dims)


def _slsqp_options(minimize_kwargs: dict | None) -> dict:
    """SLSQP options from ``minimize_kwargs``; any other method is refused."""
    kwargs = dict(minimize_kwargs or {})
    method = kwargs.pop("method", "SLSQP")
    if str(method).upper() != "SLSQP":
        raise ValueError(
            f"method={method!r} cannot be used: the plans must spend the budget exactly, "
            "and only SLSQP (the default) honours that equality constraint here. Drop "
            "'method' from minimize_kwargs."
        )
    options = kwargs.pop("options", {})
    if kwargs:
        raise ValueError(
            f"minimize_kwargs accepts 'options' only (SLSQP settings), got {sorted(kwargs)}."
        )
    return dict(options)


class _options:
    """Override the engine's SLSQP options for one block (restored after)."""

    def __init__(self, engine: Engine, options: dict) -> None:
        self.engine, self.options = engine, options

    def __enter__(self) -> None:
        self.previous = self.engine.options
        self.engine.options = {**self.previous, **self.options}

    def __exit__(self, *exc) -> None:
        self.engine.options = self.previous


def allocate(
    views: Sequence[View],
    total_budget: float,
    num_periods: int | None = None,
    bounds: Mapping | xr.DataArray | None = None,
    *,
    candidates: Mapping[str, xr.DataArray | Mapping] | None = None,
    weights: Mapping[str, float] | None = None,
    quantile: float | None = None,
    reference_plan: xr.DataArray | Mapping | None = None,
    required_gain: float = 0.0,
    regret: str = "ratio",
    extrapolation_threshold: float = EXTRAPOLATION_THRESHOLD,
    success: bool = True,
    n_draws: int | None = None,
    units: Mapping | None = None,
    budget_distribution_over_period: Sequence | Mapping | xr.DataArray | None = None,
    cost_per_unit: Sequence | Mapping | xr.DataArray | None = None,
    constraints: Sequence[Constraint] | None = None,
) -> AllocationResult:
    """Robust allocation in one call: see :class:`RobustAllocator`.

    Parameters
    ----------
    views : sequence of View
        At least two views over the same channels.
    total_budget : float
        Budget per period.
    num_periods : int, optional
        Number of decision periods; optional when an MMMView fixes the window.
    bounds : dict or DataArray, optional
        Per-period bounds by channel label.
    candidates, weights, quantile, reference_plan, required_gain, regret
    extrapolation_threshold, success, units, constraints
        As in :meth:`RobustAllocator.allocate`.
    n_draws, budget_distribution_over_period, cost_per_unit
        As in :class:`RobustAllocator`.

    Returns
    -------
    AllocationResult

    Examples
    --------
    >>> from pymc_robust_alloc import CurveView, allocate
    >>> views = [
    ...     CurveView.from_estimates(n, {"alpha": a, "lam": [2.0, 2.0]}, 0.1,
    ...                              channels=["tv", "radio"], draws=50, random_seed=0)
    ...     for n, a in [("mmm", [2.0, 1.0]), ("lift", [1.0, 2.0])]
    ... ]
    >>> result = allocate(views, total_budget=10.0, num_periods=4)
    >>> result.plan("minimax").sum().round(6).item()
    10.0
    """
    allocator = RobustAllocator(
        views,
        num_periods,
        n_draws=n_draws,
        budget_distribution_over_period=budget_distribution_over_period,
        cost_per_unit=cost_per_unit,
    )
    return allocator.allocate(
        total_budget,
        bounds,
        candidates=candidates,
        weights=weights,
        quantile=quantile,
        reference_plan=reference_plan,
        required_gain=required_gain,
        units=units,
        regret=regret,
        extrapolation_threshold=extrapolation_threshold,
        success=success,
        constraints=constraints,
    )
