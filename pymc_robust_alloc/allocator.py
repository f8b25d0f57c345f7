"""Minimax-regret allocation across views, on one compiled ``BudgetOptimizer``."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytensor.xtensor as ptx
import xarray as xr
from pymc_marketing.mmm import BudgetOptimizer
from pytensor.compile import Function
from pytensor.compile.mode import Mode
from pytensor.graph.rewriting.db import RewriteDatabaseQuery
from pytensor.link.vm import VMLinker
from pytensor.xtensor.type import XTensorVariable

from pymc_robust_alloc.budget import as_bounds, as_plan, check_total_budget
from pymc_robust_alloc.merge import VIEW, VIEW_RESPONSE, MergedViews, merge_views
from pymc_robust_alloc.result import AllocationResult, SolveReport
from pymc_robust_alloc.success import (
    TEMPERATURE,
    check_success_arguments,
    log_success_probability,
)
from pymc_robust_alloc.utility import SAMPLE, smooth_max, view_values
from pymc_robust_alloc.views.base import View
from pymc_robust_alloc.views.mmm import MMMView

__all__ = ["ConvergenceWarning", "RobustAllocator", "allocate", "python_mode"]

AVERAGED = "averaged"
MINIMAX = "minimax"
WEIGHTED = "weighted minimax"
RISK_AVERSE = "risk-averse minimax"
REFERENCE = "reference"
SUCCESS = "success"


class ConvergenceWarning(UserWarning):
    """An optimisation did not converge; the result reports which one.

    Examples
    --------
    ``allocator`` is a :class:`RobustAllocator` on the demo views; two iterations
    are too few:

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", ConvergenceWarning)
    ...     quick = allocator.allocate(100.0, minimize_kwargs={"options": {"maxiter": 2}})
    >>> any(w.category is ConvergenceWarning for w in caught), quick.converged
    (True, False)
    """


def python_mode() -> Mode:
    """PyTensor mode that compiles in well under a second: NumPy kernels, no JIT.

    A budget problem is small (views x draws x cells), so each graph evaluation
    takes microseconds to milliseconds in NumPy, while Numba or C compilation of
    the same graph takes tens of seconds on an empty cache. This mode keeps
    PyTensor's graph rewrites that matter for speed at this size (merging,
    constant folding, canonicalisation) and runs every op's NumPy implementation.

    Returns
    -------
    pytensor.compile.mode.Mode

    Examples
    --------
    >>> python_mode().linker
    VMLinker(use_cloop=False, lazy=None, allow_partial_eval=None, allow_gc=True)
    """
    # ``fill`` (``Second``), which gradients are full of, has no NumPy kernel: the
    # Python VM would run it element by element, so rewrite it to ``Alloc``.
    rewrites = RewriteDatabaseQuery(include=["fast_compile", "local_second_to_alloc"])
    return Mode(linker=VMLinker(use_cloop=False, c_thunks=False), optimizer=rewrites)


class RobustAllocator:
    r"""Robust budget allocation across views, compiled once and solved many times.

    The views are merged into one model (:func:`~pymc_robust_alloc.merge_views`)
    and handed to a :class:`~pymc_marketing.mmm.BudgetOptimizer` whose utility is

    .. math::

        U(a) = \sum_m c_m V(a, m) \;-\; t \operatorname{smax}_{\tau, m}
        w_m \Big(1 - \frac{V(a, m)}{T_m}\Big),

    with :math:`c, t, w, T, \tau` PyTensor shared variables and
    :math:`\operatorname{smax}_\tau` the log-sum-exp maximum
    (:func:`~pymc_robust_alloc.utility.smooth_max`). Every view's optimum, the
    averaged model, minimax regret and its weighted variant are that one
    compiled graph with other values of those variables, so it is compiled once
    however many plans are solved or budgets tried. Minimax plans are solved
    with a decreasing temperature :math:`\tau`, each solve warm-started from
    the last, and judged by the hard maximum.

    Two objectives have graphs of their own, compiled the first time they are
    asked for, so that the others do not pay for them at every evaluation: the
    same utility with :math:`V` a lower quantile of the draws (risk-averse
    regret), and the robust success probability
    :math:`-\operatorname{smax}_{\tau, m} \big(-\log P_m(a)\big)` against a
    reference plan (:func:`~pymc_robust_alloc.success.log_success_probability`;
    one graph per method), the reference's responses in shared variables.

    Parameters
    ----------
    views : sequence of View
        At least two views over the same channels.
    num_periods : int
        Number of decision periods; budgets are per period.
    n_draws : int, optional
        Posterior draws kept per view (default: the fewest any view has).
    mode : pytensor Mode or str, optional
        PyTensor compilation mode for every function the optimizer compiles;
        default :func:`python_mode`. Pass ``"NUMBA"`` for PyTensor's default,
        which pays off for very large posteriors once its cache is warm.

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
    """

    def __init__(
        self,
        views: Sequence[View],
        num_periods: int,
        *,
        n_draws: int | None = None,
        mode: Mode | str | None = None,
    ) -> None:
        self.mode = python_mode() if mode is None else mode
        self.merged: MergedViews = merge_views(views, num_periods, n_draws=n_draws)
        self._mmm_views = tuple(v for v in views if isinstance(v, MMMView))
        self.num_periods = int(num_periods)
        n_views, n_samples = len(self.merged.views), self.merged.n_draws
        self._linear = pytensor.shared(np.zeros(n_views), name="linear_weights")
        self._regret_weight = pytensor.shared(np.array(0.0), name="regret_weight")
        self._weights = pytensor.shared(np.ones(n_views), name="regret_weights")
        self._target = pytensor.shared(np.ones(n_views), name="regret_target")
        self._baseline = pytensor.shared(np.zeros((n_samples, n_views)), name="baseline")
        self._scale = pytensor.shared(np.ones(n_views), name="response_scale")
        self._quantile = pytensor.shared(np.array(0.1), name="quantile")
        self._temperature = pytensor.shared(np.array(1.0), name="temperature")
        self._reference = pytensor.shared(np.ones((n_samples, n_views)), name="reference")
        self._required_gain = pytensor.shared(np.array(0.0), name="required_gain")
        self._log_success: dict[str, Function] = {}
        coords = self.merged.budget_coords
        mask = xr.DataArray(
            np.ones([len(v) for v in coords.values()], dtype=bool),
            dims=tuple(coords),
            coords={d: list(v) for d, v in coords.items()},
        )
        self._mask = mask
        self._quantile_optimizer: BudgetOptimizer | None = None
        self._success_optimizers: dict[str, BudgetOptimizer] = {}
        self.optimizer = self._optimizer(self._regret_utility(quantile=False))
        zero = self.responses(mask * 0.0).transpose(SAMPLE, VIEW).values
        self._baseline.set_value(zero)
        self._reference.set_value(zero + 1.0)  # any plan that adds something
        self.merged.v_zero.set_value(zero.mean(axis=0))

    @property
    def views(self) -> tuple[str, ...]:
        """View names, in the order of the ``view`` dim.

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``.

        >>> allocator.views
        ('regression', 'experiment', 'attribution')
        """
        return self.merged.views

    @property
    def budget_coords(self) -> dict[str, tuple]:
        """Budget dims and labels.

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``.

        >>> allocator.budget_coords
        {'channel': ('search', 'social', 'display')}
        """
        return self.merged.budget_coords

    def _optimizer(self, utility) -> BudgetOptimizer:
        """Build a ``BudgetOptimizer`` on the merged model with this utility."""
        horizon = self.merged.horizon
        with self._compiling():
            return BudgetOptimizer(
                model=self.merged.model,
                idata=self.merged.idata,
                num_periods=self.num_periods,
                carry_in_periods=horizon.carry_in_periods,
                adstock_periods=horizon.adstock_periods,
                response_variable=VIEW_RESPONSE,
                utility_function=utility,
                budgets_to_optimize=self._mask,
                compile_kwargs={"mode": self.mode},
            )

    def _compiling(self):
        """Compile in ``self.mode``, also where PyTensor picks its default mode.

        Constraints are compiled in the default mode, and the inner functions of
        some ops (e.g. ``OpFromGraph``) link C code unless ``cxx`` is empty: on
        an empty cache that C compilation costs seconds per op.
        """
        return pytensor.config.change_flags(mode=self.mode, cxx="")

    def _success_optimizer(self, method: str) -> BudgetOptimizer:
        """Return the optimizer of the robust success probability, built on first use.

        It is a graph of its own: in the regret graph, even a switched-off success
        term would be differentiated at every evaluation.
        """
        if method not in self._success_optimizers:

            def utility(samples: XTensorVariable, budgets: XTensorVariable) -> XTensorVariable:
                log_p = log_success_probability(
                    samples,
                    self._reference,
                    required_gain=self._required_gain,
                    baseline=self._baseline,
                    method=method,
                    dim=VIEW,
                )
                return -smooth_max(-log_p, VIEW, self._temperature)

            self._success_optimizers[method] = self._optimizer(utility)
        return self._success_optimizers[method]

    def _regret_utility(self, quantile: bool):
        """Linear values minus the smoothed worst weighted regret, switched by shared weights.

        Views are valued by the mean increment of their draws, or with
        ``quantile=True`` by its lower quantile (risk-averse regret).
        """

        def utility(samples: XTensorVariable, budgets: XTensorVariable) -> XTensorVariable:
            value = view_values(
                samples,
                quantile=self._quantile if quantile else None,
                baseline=self._baseline,
                scale=self._scale,
            )
            linear = (value * self._vector(self._linear)).sum(VIEW)
            regret = 1 - value / self._vector(self._target)
            worst = smooth_max(regret * self._vector(self._weights), VIEW, self._temperature)
            return linear - self._regret_weight * worst

        return utility

    def _risk_averse_optimizer(self) -> BudgetOptimizer:
        """Return the optimizer of lower-quantile values, built on first use."""
        if self._quantile_optimizer is None:
            self._quantile_optimizer = self._optimizer(self._regret_utility(quantile=True))
        return self._quantile_optimizer

    @staticmethod
    def _vector(shared):
        return pytensor.xtensor.as_xtensor(shared, dims=(VIEW,))

    def responses(self, plan: xr.DataArray) -> xr.DataArray:
        """Each view's response to a plan, per draw.

        Parameters
        ----------
        plan : xarray.DataArray
            Spend per period over the budget dims.

        Returns
        -------
        xarray.DataArray
            Dims ``("sample", "view")``.

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``.

        >>> responses = allocator.responses({"search": 40.0, "social": 30.0, "display": 30.0})
        >>> responses.dims, responses.shape
        (('sample', 'view'), (100, 3))
        """
        plan = as_plan(plan, self.budget_coords, "plan")
        response = self.optimizer.evaluate_response_distribution(plan, VIEW_RESPONSE)
        return response.assign_coords({VIEW: list(self.views)})

    def values(
        self,
        plan: xr.DataArray,
        *,
        quantile: float | None = None,
        response_scale: Mapping[str, float] | None = None,
    ) -> xr.DataArray:
        """:math:`V(a, m)`: each view's expected increment over the zero plan.

        Parameters
        ----------
        plan : xarray.DataArray
            Spend per period.
        quantile : float, optional
            A lower quantile of the draws instead of their mean.
        response_scale : mapping, optional
            Multiplier of a view's response, ``{view: k}``.

        Returns
        -------
        xarray.DataArray
            Dims ``("view",)``.

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``;
        ``result`` comes from :meth:`allocate` with a reference plan ``current``.
        Regret is :math:`1 - V(a, m) / V^*(m)`:

        >>> import numpy as np
        >>> value = allocator.values(result.plan("minimax"))
        >>> bool(np.allclose(1 - value / result.v_star, result.regret.sel(plan="minimax")))
        True
        >>> low = allocator.values(result.plan("minimax"), quantile=0.1)
        >>> bool((low < value).all())
        True
        """
        increments = (self.responses(plan) - self._baseline.get_value()) * self._scales(
            response_scale
        )
        if quantile is None:
            return increments.mean("sample")
        return increments.quantile(quantile, dim="sample").drop_vars("quantile")

    def success_probability(
        self,
        plan: xr.DataArray,
        reference_plan: xr.DataArray | Mapping,
        *,
        required_gain: float = 0.0,
        method: str = "gaussian",
    ) -> xr.DataArray:
        r""":math:`P_m(V(a) \ge (1 + r) V(a_{ref}))` under each view, draws paired.

        See :mod:`pymc_robust_alloc.success`; increments are over the zero plan.

        Parameters
        ----------
        plan, reference_plan : xarray.DataArray or mapping
            Spend per period, labelled (a dict ``{channel: spend}`` too).
        required_gain : float, default 0
            Relative gain :math:`r > -1` over the reference's increment.
        method : {"gaussian", "empirical"}, default "gaussian"
            As in :func:`~pymc_robust_alloc.success_probability`.

        Returns
        -------
        xarray.DataArray
            Dims ``("view",)``.

        Examples
        --------
        ``allocator`` is ``RobustAllocator(demo_views(draws=100), num_periods=4)``;
        ``result`` comes from :meth:`allocate` with a reference plan ``current``.

        >>> import numpy as np
        >>> current
        {'search': 40.0, 'social': 30.0, 'display': 30.0}
        >>> p = allocator.success_probability(result.plan("success"), current,
        ...                                   required_gain=0.002)
        >>> bool(np.allclose(p, result.success_probability.sel(plan="success")))
        True
        """
        reference = self._reference_responses(
            as_plan(reference_plan, self.budget_coords, REFERENCE)
        )
        check_success_arguments(
            reference, required_gain, method, TEMPERATURE, self._baseline.get_value()
        )
        plan = as_plan(plan, self.budget_coords, "plan")
        return self._success(plan, reference, float(required_gain), method)

    def _reference_responses(self, reference_plan: xr.DataArray) -> np.ndarray:
        responses = self.responses(reference_plan).transpose(SAMPLE, VIEW)
        if not np.all(np.isfinite(responses.values)):
            bad = [
                str(v)
                for v in self.views
                if not np.all(np.isfinite(responses.sel({VIEW: v}).values))
            ]
            raise ValueError(
                f"The reference plan has non-finite responses under views {bad}. "
                "Check those views' draws at the reference spend."
            )
        return responses.values

    def _success(
        self, plan: xr.DataArray, reference: np.ndarray, required_gain: float, method: str
    ) -> xr.DataArray:
        """Success probability per view, from a function compiled once per method."""
        if method not in self._log_success:
            responses, ref, baseline = (pt.matrix(n) for n in ("responses", "ref", "zero"))
            gain = pt.scalar("gain")
            samples = ptx.as_xtensor(responses, dims=(SAMPLE, VIEW))
            log_p = log_success_probability(
                samples, ref, required_gain=gain, baseline=baseline, method=method
            )
            with self._compiling():
                self._log_success[method] = pytensor.function(
                    [responses, ref, baseline, gain], log_p.values, mode=self.mode
                )
        responses = self.responses(plan).transpose(SAMPLE, VIEW).values
        log_p = self._log_success[method](
            responses, reference, self._baseline.get_value(), required_gain
        )
        return xr.DataArray(np.exp(log_p), dims=VIEW, coords={VIEW: list(self.views)})

    def _scales(self, response_scale: Mapping[str, float] | None) -> xr.DataArray:
        scale = dict.fromkeys(self.views, 1.0)
        unknown = sorted(set(response_scale or {}) - set(self.views))
        if unknown:
            raise ValueError(f"response_scale names unknown views {unknown}; views: {self.views}.")
        for name, k in (response_scale or {}).items():
            if not np.isfinite(k) or k <= 0:
                raise ValueError(f"response_scale of {name!r} must be positive, got {k}.")
            scale[name] = float(k)
        return xr.DataArray(list(scale.values()), dims=VIEW, coords={VIEW: list(self.views)})

    def allocate(
        self,
        total_budget: float,
        bounds: Mapping | xr.DataArray | None = None,
        *,
        candidates: Mapping[str, xr.DataArray | Mapping] | None = None,
        weights: Mapping[str, float] | None = None,
        quantile: float | None = None,
        response_scale: Mapping[str, float] | None = None,
        reference_plan: xr.DataArray | Mapping | None = None,
        required_gain: float = 0.0,
        success_method: str = "gaussian",
        minimize_kwargs: dict | None = None,
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
            period, labelled).
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
            ``{channel: spend}``), within ``bounds``; added to the plans as
            ``"reference"``. ``"historical"`` takes the spend mix of the data
            the (first) :class:`~pymc_robust_alloc.MMMView` was fitted on, at
            ``total_budget`` (:meth:`MMMView.historical_plan`).
        required_gain : float, default 0
            Relative gain :math:`r > -1` the plan must add over the reference's
            increment, e.g. 0.05.
        success_method : {"gaussian", "empirical"}, default "gaussian"
            As in :func:`~pymc_robust_alloc.success_probability`.
        minimize_kwargs : dict, optional
            Passed to :meth:`BudgetOptimizer.allocate_budget`.

        Returns
        -------
        AllocationResult

        Warns
        -----
        ConvergenceWarning
            If a solve did not converge; ``result.convergence`` says which.
        UserWarning
            If the success plan is within 1% of the budget of the reference plan
            (a required gain too small to move it).

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
        box = as_bounds(bounds, self.budget_coords, total)
        extra = {
            str(name): as_plan(plan, self.budget_coords, str(name))
            for name, plan in (candidates or {}).items()
        }
        scale = self._scales(response_scale)
        reference = None
        if reference_plan is not None:
            if REFERENCE in extra:
                raise ValueError(
                    f"A candidate is named {REFERENCE!r}, which names reference_plan "
                    "in the result; rename the candidate."
                )
            if isinstance(reference_plan, str):
                reference_plan = self._named_reference(reference_plan, total)
            extra[REFERENCE] = self._check_reference(reference_plan, box)
            reference = self._reference_responses(extra[REFERENCE])
            check_success_arguments(
                reference,
                required_gain,
                success_method,
                TEMPERATURE,
                self._baseline.get_value(),
            )
        self._scale.set_value(scale.values)
        n_views = len(self.views)
        solver = _Solver(self, total, box, minimize_kwargs)

        plans: dict[str, xr.DataArray] = {}
        uniform = box.sel(bound="lower", drop=True)
        uniform = uniform + (total - float(uniform.sum())) * (
            (box.sel(bound="upper", drop=True) - uniform)
            / float((box.sel(bound="upper", drop=True) - uniform).sum())
        )
        level = np.abs(self.values(uniform, response_scale=response_scale).values)
        level = np.where(level > 0, level, 1.0)
        for m, name in enumerate(self.views):
            plans[name] = solver.solve(
                name, f"maximise V(a, {name})", linear=np.eye(n_views)[m] / level[m]
            )
        plans[AVERAGED] = solver.solve(
            AVERAGED,
            "maximise the mean of the views' responses",
            linear=np.ones(n_views) / level.sum(),
        )
        plans.update(extra)
        values = {name: self.values(p, response_scale=response_scale) for name, p in plans.items()}
        v_star = self._v_star(values)
        self.merged.v_star.set_value(v_star.values / scale.values)

        def minimax(name, objective, starts, table, target, w, quantile=None):
            def worst(plan):
                value = self.values(plan, quantile=quantile, response_scale=response_scale)
                return float(((1 - value / target) * w).max())

            start = min(table, key=lambda n: float(((1 - table[n] / target) * w).max()))
            return solver.minimax(
                name,
                objective,
                starts[start],
                worst,
                target=target.values,
                weights=w,
                use_quantile=quantile is not None,
            )

        equal = np.ones(n_views)
        plans[MINIMAX] = minimax(MINIMAX, "minimise max_m R(a, m)", plans, values, v_star, equal)
        if weights is not None:
            w = self._weight_vector(weights)
            plans[WEIGHTED] = minimax(
                WEIGHTED, "minimise max_m w_m R(a, m)", plans, values, v_star, w
            )
        quantile_regret = None
        if quantile is not None:
            if not 0 < float(quantile) < 1:
                raise ValueError(f"quantile must be in (0, 1), e.g. 0.1; got {quantile}.")
            self._quantile.set_value(np.array(float(quantile)))
            lows = {}
            for m, name in enumerate(self.views):
                label = f"{name} (q={quantile:g})"
                lows[label] = solver.solve(
                    label,
                    f"maximise the {quantile:g} quantile of V(a, {name})",
                    linear=np.eye(n_views)[m] / level[m],
                    use_quantile=True,
                )
            starts = {**plans, **lows}
            low_values = {
                n: self.values(p, quantile=quantile, response_scale=response_scale)
                for n, p in starts.items()
            }
            q_star = self._v_star(low_values, what=f"{quantile:g} quantile")
            plans[RISK_AVERSE] = minimax(
                RISK_AVERSE,
                f"minimise max_m R_q(a, m), q={quantile:g}",
                starts,
                low_values,
                q_star,
                equal,
                quantile=quantile,
            )
            low = _by_plan(
                plans,
                low_values,
                lambda p: self.values(p, quantile=quantile, response_scale=response_scale),
            )
            quantile_regret = 1 - low / q_star

        success = None
        if reference is not None:
            gain = float(required_gain)
            self._reference.set_value(reference)
            self._required_gain.set_value(np.array(gain))
            table = {n: self._success(p, reference, gain, success_method) for n, p in plans.items()}
            start = max(table, key=lambda n: float(table[n].min()))

            def worst_log_p(plan):
                return -float(np.log(self._success(plan, reference, gain, success_method).min()))

            plans[SUCCESS] = solver.minimax(
                SUCCESS,
                f"maximise min_m P_m(V(a) >= {1 + gain:g} V(reference)), {success_method}",
                plans[start],
                worst_log_p,
                success=success_method,
            )
            moved = float(np.abs(plans[SUCCESS] - plans[REFERENCE]).sum())
            if moved < 0.01 * total:
                warnings.warn(
                    f"The success plan moves {moved:.3g} per period away from the reference "
                    f"plan (under 1% of the budget): with required_gain={gain:g}, a tiny "
                    "move that every view agrees on succeeds in nearly every draw. Ask "
                    "for a gain worth acting on, e.g. required_gain=0.02.",
                    UserWarning,
                    stacklevel=2,
                )
            success = _by_plan(
                plans, table, lambda p: self._success(p, reference, gain, success_method)
            )

        value = _by_plan(plans, values, lambda p: self.values(p, response_scale=response_scale))
        settings: dict[str, Any] = {
            "total_budget": total,
            "num_periods": self.num_periods,
            "n_draws": self.merged.n_draws,
            "bounds": {
                str(c): box.sel(channel=c).values.tolist() for c in self.budget_coords["channel"]
            },
            "weights": dict(weights) if weights is not None else None,
            "quantile": quantile,
            "response_scale": dict(zip(self.views, scale.values.tolist(), strict=True)),
        }
        if reference is not None:
            settings["reference_plan"] = extra[REFERENCE].to_series().to_dict()
            settings["required_gain"] = float(required_gain)
            settings["success_method"] = success_method
        return AllocationResult(
            plans=xr.concat(list(plans.values()), dim=pd.Index(list(plans), name="plan")),
            value=value,
            v_star=v_star,
            regret=1 - value / v_star,
            solves=solver.reports,
            settings=settings,
            quantile_regret=quantile_regret,
            success_probability=success,
        )

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

    def _check_reference(self, reference_plan, box: xr.DataArray) -> xr.DataArray:
        plan = as_plan(reference_plan, self.budget_coords, REFERENCE)
        low, high = box.sel(bound="lower", drop=True), box.sel(bound="upper", drop=True)
        outside = (plan < low - 1e-9) | (plan > high + 1e-9)
        if bool(outside.any()):
            cells = plan.where(outside, drop=True).to_series().to_dict()
            raise ValueError(
                f"The reference plan is outside the bounds at {cells} (spend per "
                "period). Widen the bounds to include today's plan, or pass a reference "
                "plan within them: success is judged against a plan the optimizer "
                "could have chosen."
            )
        return plan

    def _v_star(self, values: Mapping[str, xr.DataArray], what: str = "mean") -> xr.DataArray:
        """Each view's best value over the evaluated plans, validated positive."""
        table = xr.concat(list(values.values()), dim="plan")
        v_star = table.max("plan")
        bad = [str(v) for v in v_star[VIEW].values if not float(v_star.sel({VIEW: v})) > 0]
        if bad:
            raise ValueError(
                f"Views {bad} have no plan with a positive {what} response increment "
                f"(V* = {v_star.sel({VIEW: bad}).values}), so normalised regret "
                "1 - V/V* is undefined. Check that these views' responses grow with spend."
            )
        return v_star

    def _weight_vector(self, weights: Mapping[str, float]) -> np.ndarray:
        unknown = sorted(set(weights) - set(self.views))
        if unknown:
            raise ValueError(f"weights name unknown views {unknown}; views: {list(self.views)}.")
        w = np.array([float(weights.get(v, 1.0)) for v in self.views])
        if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
            raise ValueError(f"weights must be non-negative and not all zero, got {dict(weights)}.")
        return w / w.max()


def _by_plan(
    plans: Mapping[str, xr.DataArray],
    known: Mapping[str, xr.DataArray],
    evaluate: Callable[[xr.DataArray], xr.DataArray],
) -> xr.DataArray:
    """Stack each plan's ``known`` entry, or ``evaluate(plan)`` if it has none, over ``plan``."""
    return xr.concat(
        [known[name] if name in known else evaluate(plan) for name, plan in plans.items()],
        dim=pd.Index(list(plans), name="plan"),
    )


class _Solver:
    """Sets the shared switches of the utility and runs one solve."""

    TEMPERATURES = (1e-2, 1e-3, 1e-4)
    #: Every objective is scaled to order one, so the tolerance is relative.
    OPTIONS: ClassVar[dict[str, float]] = {"ftol": 1e-12, "maxiter": 1_000}

    def __init__(self, allocator: RobustAllocator, total: float, box, minimize_kwargs):
        self.allocator = allocator
        self.total = total
        self.box = box
        options = {**self.OPTIONS, **(minimize_kwargs or {}).get("options", {})}
        self.minimize_kwargs = {**(minimize_kwargs or {}), "options": options}
        self.reports: list[SolveReport] = []

    def solve(
        self,
        name: str,
        objective: str,
        *,
        linear=None,
        target=None,
        weights=None,
        use_quantile: bool = False,
        success: str | None = None,
        temperature: float = 1.0,
        x0: xr.DataArray | None = None,
    ) -> xr.DataArray:
        a = self.allocator
        n_views = len(a.views)
        a._linear.set_value(np.zeros(n_views) if linear is None else np.asarray(linear, float))
        a._regret_weight.set_value(np.array(0.0 if target is None else 1.0))
        a._target.set_value(np.ones(n_views) if target is None else np.asarray(target, float))
        a._weights.set_value(np.ones(n_views) if weights is None else np.asarray(weights, float))
        a._temperature.set_value(np.array(float(temperature)))
        if success is not None:
            optimizer = a._success_optimizer(success)
        elif use_quantile:
            optimizer = a._risk_averse_optimizer()
        else:
            optimizer = a.optimizer
        result = optimizer.allocate_budget(
            total_budget=self.total,
            budget_bounds=self.box,
            x0=x0,
            minimize_kwargs=self.minimize_kwargs,
            return_if_fail=True,
        )
        fit = result.scipy_result
        report = SolveReport(
            plan=name,
            objective=objective,
            success=bool(fit.success),
            message=str(fit.message),
            iterations=int(fit.nit),
        )
        self.reports.append(report)
        if not fit.success:
            warnings.warn(
                f"The solve for plan {name!r} ({objective}) did not converge: "
                f"{fit.message}. The plan is reported as found; see result.convergence.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return result.budgets.astype(float)

    def minimax(
        self,
        name: str,
        objective: str,
        start: xr.DataArray,
        worst,
        **objective_switches,
    ) -> xr.DataArray:
        r"""Minimise the smoothed maximum at decreasing temperatures, warm-started.

        The maximum is of the regrets, or of :math:`-\log P_m` for the success
        probability (``success=method``). The temperatures are fractions of the
        starting plan's maximum, so the schedule does not depend on its size. The
        plan with the smallest hard maximum (the start included) is returned.
        """
        best, best_worst = start, worst(start)
        scale = max(abs(best_worst), 1e-12)
        plan = start
        for fraction in self.TEMPERATURES:
            plan = self.solve(
                name,
                f"{objective}, smoothed at tau = {fraction:g} x start",
                temperature=fraction * scale,
                x0=plan,
                **objective_switches,
            )
            value = worst(plan)
            if value < best_worst:
                best, best_worst = plan, value
        return best


def allocate(
    views: Sequence[View],
    total_budget: float,
    num_periods: int,
    bounds: Mapping | xr.DataArray | None = None,
    *,
    candidates: Mapping[str, xr.DataArray | Mapping] | None = None,
    weights: Mapping[str, float] | None = None,
    quantile: float | None = None,
    reference_plan: xr.DataArray | Mapping | None = None,
    required_gain: float = 0.0,
    n_draws: int | None = None,
) -> AllocationResult:
    """Robust allocation in one call: see :class:`RobustAllocator`.

    Parameters
    ----------
    views : sequence of View
        At least two views over the same channels.
    total_budget : float
        Budget per period.
    num_periods : int
        Number of decision periods.
    bounds : dict or DataArray, optional
        Per-period bounds by channel label.
    candidates, weights, quantile, reference_plan, required_gain
        As in :meth:`RobustAllocator.allocate`.
    n_draws : int, optional
        Posterior draws kept per view.

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
    allocator = RobustAllocator(views, num_periods, n_draws=n_draws)
    return allocator.allocate(
        total_budget,
        bounds,
        candidates=candidates,
        weights=weights,
        quantile=quantile,
        reference_plan=reference_plan,
        required_gain=required_gain,
    )
