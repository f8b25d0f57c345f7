r"""Utility functions for :class:`~pymc_marketing.mmm.BudgetOptimizer` across views.

Each public factory, like those of :mod:`pymc_marketing.mmm.utility`, validates
its arguments and returns ``utility(samples, budgets) -> scalar`` for the optimizer
to maximise. Shared parameters: ``samples`` has dims ``("sample", dim)``, the
response per draw and view (``view_response`` of
:func:`~pymc_robust_alloc.merge_views`); ``v_star`` is each view's optimum value
:math:`V^*(m)` in the order of ``dim`` (positive for the ratio regret);
``regret`` is ``"ratio"`` (:math:`1 - V(a, m) / V^*(m)`) or ``"relative"``
(:math:`(V^*(m) - V(a, m)) / (V^*(m) - V(ref, m))`, with ``reference_value``
:math:`V(ref, m)`, required by and only accepted with it); ``weights`` are
non-negative :math:`w_m`; ``baseline`` is the response at the zero plan (scalar,
per view, or per ``(sample, view)``); ``quantile`` judges each view by that lower
quantile of its draws instead of their mean; ``dim`` names the view dim. Every
numeric argument also accepts a PyTensor shared variable, read at call time.
Theory: :doc:`/concepts` ("Normalised regret").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pytensor.tensor as pt
import pytensor.xtensor as ptx
from pytensor.graph.basic import Variable
from pytensor.xtensor.type import XTensorVariable

from pymc_robust_alloc.checks import check_positive, check_quantile, check_weight_array
from pymc_robust_alloc.names import SAMPLE, VIEW

__all__ = [
    "REGRETS",
    "check_regret",
    "minimax_regret",
    "normalized_regret",
    "regret_map",
    "risk_averse_regret",
    "smooth_max",
    "view_values",
    "weighted_minimax_regret",
]


#: Regret normalisations: against the zero plan (the blog's ratio) or a reference plan.
REGRETS = ("ratio", "relative")
#: A view whose improvement over the reference, :math:`V^* - V(ref)`, is at most
#: this share of :math:`|V^*|` has none: the reference is its optimum.
NO_IMPROVEMENT = 1e-6

UtilityFunction = Callable[[XTensorVariable, XTensorVariable], XTensorVariable]
Numeric = float | Sequence[float] | np.ndarray | Variable


def _as_view_vector(values: Numeric, dim: str) -> XTensorVariable | float:
    """Return a scalar, or an xtensor over ``dim`` (``(sample, dim)`` if 2-D)."""
    if not isinstance(values, Variable):
        values = np.asarray(values, dtype="float64")
        if values.ndim == 0:
            return float(values)
    if values.ndim == 0:
        return ptx.as_xtensor(values, dims=())
    return ptx.as_xtensor(values, dims=((SAMPLE, dim) if values.ndim == 2 else (dim,)))


def lower_quantile(
    samples: XTensorVariable,
    q: float | Variable,
    dim: str = VIEW,
    bandwidth: float | Variable = 0.0,
) -> XTensorVariable:
    """Return the ``q`` quantile over ``sample`` of each ``dim`` entry.

    ``bandwidth`` 0 matches :func:`numpy.quantile`; :math:`h > 0` gives a
    Gaussian-kernel average of the order statistics around rank :math:`q (n - 1)`
    (:math:`h` in draws), differentiable where draws swap ranks.
    """
    table = samples.transpose(SAMPLE, dim).values
    n = table.shape[0]
    ordered = pt.sort(table, axis=0)
    position = pt.as_tensor(q, dtype="float64") * (n - 1)
    below = pt.cast(pt.floor(position), "int64")
    above = pt.minimum(below + 1, n - 1)
    weight = position - below
    exact = ordered[below] * (1 - weight) + ordered[above] * weight
    h = pt.as_tensor(bandwidth, dtype="float64")
    ranks = pt.arange(n, dtype="float64")
    kernel = pt.exp(-0.5 * ((ranks - position) / pt.maximum(h, 1e-12)) ** 2)
    smooth = (kernel[:, None] * ordered).sum(axis=0) / kernel.sum()
    return ptx.as_xtensor(pt.switch(h > 0, smooth, exact), dims=(dim,))


def smooth_max(x: XTensorVariable, dim: str, temperature: float | Variable) -> XTensorVariable:
    r"""Log-sum-exp maximum over ``dim``: :math:`\tau \log \sum_m e^{x_m / \tau}`.

    Differentiable, above the maximum by at most :math:`\tau \log M`.
    """
    top = x.max(dim)
    return top + temperature * ptx.math.log(ptx.math.exp((x - top) / temperature).sum(dim))


def view_values(
    samples: XTensorVariable,
    *,
    baseline: Numeric = 0.0,
    scale: Numeric = 1.0,
    quantile: float | Variable | None = None,
    bandwidth: float | Variable = 0.0,
    dim: str = VIEW,
) -> XTensorVariable:
    r"""Each view's value of the plan: the mean (or a lower quantile) of its increment.

    .. math::

        V(a, m) = \mathrm{mean}_d\; s_m \big(Y_{d,m}(a) - b_{d,m}\big)

    with :math:`b` the ``baseline`` and :math:`s` the per-view ``scale``;
    ``bandwidth`` smooths the quantile (see :func:`lower_quantile`). Other
    parameters are described in the module docstring. Returns dims ``(dim,)``.
    """
    if quantile is not None:
        _check_quantile(quantile, closed=True)
    increments = (samples - _as_view_vector(baseline, dim)) * _as_view_vector(scale, dim)
    if quantile is None:
        return increments.mean(SAMPLE)
    return lower_quantile(increments, quantile, dim=dim, bandwidth=bandwidth)


def regret_map(v_star, reference_value=0.0, weights=1.0):
    r"""Weighted regret as an affine map of the value: :math:`w_m R = \alpha_m + \beta_m V`.

    .. math::

        w_m \frac{V^*(m) - V(a, m)}{V^*(m) - V_0(m)}
        = \underbrace{\frac{w_m V^*(m)}{V^*(m) - V_0(m)}}_{\alpha_m}
        \underbrace{- \frac{w_m}{V^*(m) - V_0(m)}}_{\beta_m} V(a, m),

    with :math:`V_0 = 0` (ratio) or :math:`V(ref, m)` (relative). Returns
    ``(offset, slope)``. The one regret computation of the factories and of
    :class:`~pymc_robust_alloc.RobustAllocator`; works on NumPy, xarray and
    PyTensor alike; does not validate.
    """
    gap = v_star - reference_value
    return weights * v_star / gap, -weights / gap


def normalized_regret(
    samples: XTensorVariable,
    v_star: Numeric,
    *,
    regret: str = "ratio",
    reference_value: Numeric | None = None,
    baseline: Numeric = 0.0,
    quantile: float | Variable | None = None,
    dim: str = VIEW,
) -> XTensorVariable:
    """Regret of the plan under each view, dims ``(dim,)`` (parameters: module docstring)."""
    reference_value = _check_regret_arguments(regret, v_star, reference_value)
    values = view_values(samples, baseline=baseline, quantile=quantile, dim=dim)
    offset, slope = regret_map(_as_view_vector(v_star, dim), _as_view_vector(reference_value, dim))
    return offset + slope * values


def minimax_regret(
    v_star: Numeric,
    *,
    regret: str = "ratio",
    reference_value: Numeric | None = None,
    weights: Numeric | None = None,
    baseline: Numeric = 0.0,
    quantile: float | Variable | None = None,
    smoothing: float | Variable | None = None,
    dim: str = VIEW,
) -> UtilityFunction:
    r"""Minimax normalised regret: maximise :math:`-\max_m w_m R(a, m)`.

    The plan that does least badly under its worst view, each view judged against
    its own best plan (Savage's criterion); see :doc:`/concepts`. Parameters are
    described in the module docstring; ``smoothing`` replaces the maximum by
    :func:`smooth_max` at that temperature (e.g. ``1e-4`` times the regrets'
    size). Returns ``utility(samples, budgets)`` for
    ``BudgetOptimizer(utility_function=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.array([[2.0, 5.0], [4.0, 5.0]]), dims=("sample", "view"))
    >>> float(minimax_regret([4.0, 10.0])(samples=x, budgets=None).eval())
    -0.5
    """
    reference_value = _check_regret_arguments(regret, v_star, reference_value)
    if weights is not None:
        _check_weights(weights, v_star)
    if quantile is not None:
        _check_quantile(quantile)
    if smoothing is not None:
        _check_smoothing(smoothing)

    def utility(samples: XTensorVariable, budgets: XTensorVariable) -> XTensorVariable:
        values = view_values(samples, baseline=baseline, quantile=quantile, dim=dim)
        w = 1.0 if weights is None else _as_view_vector(weights, dim)
        offset, slope = regret_map(
            _as_view_vector(v_star, dim), _as_view_vector(reference_value, dim), w
        )
        weighted = offset + slope * values
        if smoothing is None:
            return -weighted.max(dim)
        return -smooth_max(weighted, dim, smoothing)

    return utility


def weighted_minimax_regret(
    v_star: Numeric,
    weights: Numeric,
    *,
    regret: str = "ratio",
    reference_value: Numeric | None = None,
    baseline: Numeric = 0.0,
    dim: str = VIEW,
) -> UtilityFunction:
    r"""Weighted minimax regret :math:`-\max_m w_m R(a, m)`: :func:`minimax_regret` with weights."""
    return minimax_regret(
        v_star,
        regret=regret,
        reference_value=reference_value,
        weights=weights,
        baseline=baseline,
        dim=dim,
    )


def risk_averse_regret(
    v_star: Numeric,
    quantile: float | Variable = 0.1,
    *,
    regret: str = "ratio",
    reference_value: Numeric | None = None,
    weights: Numeric | None = None,
    baseline: Numeric = 0.0,
    dim: str = VIEW,
) -> UtilityFunction:
    r"""Minimax regret with each view's value :math:`V_q(a, m)` a lower quantile of its draws.

    ``v_star`` (and ``reference_value``) should be each view's value at the same
    ``quantile`` in (0, 1), as :class:`~pymc_robust_alloc.RobustAllocator` computes.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.array([[2.0, 5.0], [4.0, 5.0]]), dims=("sample", "view"))
    >>> float(risk_averse_regret([3.0, 5.0], quantile=0.5)(x, None).eval())
    -0.0
    """
    return minimax_regret(
        v_star,
        regret=regret,
        reference_value=reference_value,
        weights=weights,
        baseline=baseline,
        quantile=quantile,
        dim=dim,
    )


def check_regret(regret: str) -> str:
    """Return ``regret`` if it names a regret normalisation (:data:`REGRETS`), else refuse it."""
    if not isinstance(regret, str) or regret not in REGRETS:
        raise ValueError(
            f"regret must be one of {list(REGRETS)}, got {regret!r}: 'ratio' measures "
            "each view against spending nothing (1 - V/V*), 'relative' against a "
            "reference plan ((V* - V) / (V* - V(ref)))."
        )
    return regret


def _check_regret_arguments(
    regret: str, v_star: Numeric, reference_value: Numeric | None
) -> Numeric:
    """Validate the regret's normalisation; return :math:`V_0` (0 for the ratio regret)."""
    check_regret(regret)
    if regret == "ratio":
        if reference_value is not None:
            raise ValueError(
                "reference_value is only used by regret='relative'; pass "
                "regret='relative' to measure each view against the reference plan."
            )
        _check_v_star(v_star)
        return 0.0
    if reference_value is None:
        raise ValueError(
            "regret='relative' needs reference_value: each view's value V(ref, m) of "
            "the reference plan (e.g. today's plan), in the order of the view dim."
        )
    _check_v_star(v_star, positive=False)
    if isinstance(v_star, Variable) or isinstance(reference_value, Variable):
        return reference_value
    v = np.asarray(v_star, dtype=float)
    ref = np.asarray(reference_value, dtype=float)
    if ref.shape != v.shape or not np.all(np.isfinite(ref)):
        raise ValueError(
            f"reference_value must hold one finite value per view like v_star (shape "
            f"{v.shape}), got {ref.tolist()}."
        )
    check_improvement(v, ref)
    return reference_value


def check_improvement(v_star: np.ndarray, reference_value: np.ndarray, views=None) -> None:
    """Refuse views whose optimum does not improve on the reference (relative regret undefined)."""
    gap = v_star - reference_value
    bad = ~(gap > NO_IMPROVEMENT * np.abs(v_star))
    if bad.any():
        names = list(views) if views is not None else list(range(len(v_star)))
        satisfied = [names[i] for i in np.flatnonzero(bad)]
        raise ValueError(
            f"regret='relative' is undefined under views {satisfied}: "
            f"the reference plan is already their optimum (V* - V(ref) = "
            f"{gap[bad].tolist()}), so they have no improvement for a plan to give up. "
            "Use regret='ratio', or a reference plan that these views can improve on."
        )


def _check_v_star(v_star: Numeric, positive: bool = True) -> None:
    """Refuse a ``v_star`` that is not one finite (with ``positive``, positive) value per view."""
    if isinstance(v_star, Variable):
        return
    if isinstance(v_star, Mapping | str):
        raise TypeError(
            "v_star must be an array with one value per view, in the order of the view dim; "
            f"got {type(v_star).__name__}."
        )
    try:
        array = np.asarray(v_star, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(
            f"v_star must be numbers, one per view in the order of the view dim; got {v_star!r}."
        ) from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"v_star must be a 1-D array with one value per view, got shape {array.shape}; "
            "pass each view's optimum value V*(m) in the order of the view dim."
        )
    if not positive and not np.all(np.isfinite(array)):
        raise ValueError(f"v_star must be finite, got {array.tolist()}.")
    if positive and (not np.all(np.isfinite(array)) or np.any(array <= 0)):
        raise ValueError(
            f"v_star must be positive and finite, got {array.tolist()}: normalised regret "
            "1 - V/V* is undefined for a view whose best plan has no positive value; check "
            "that view's response."
        )


def _check_weights(weights: Numeric, v_star: Numeric) -> None:
    """Refuse weights that are negative, non-finite, all zero, or not one per view."""
    if not isinstance(weights, Variable):
        n_views = None if isinstance(v_star, Variable) else np.size(v_star)
        check_weight_array(weights, n_views=n_views)


def _check_quantile(quantile: float | Variable, closed: bool = False) -> None:
    """Refuse a quantile outside (0, 1), or outside [0, 1] with ``closed``."""
    if not isinstance(quantile, Variable):
        check_quantile(quantile, closed=closed)


def _check_smoothing(smoothing: float | Variable) -> None:
    """Refuse a smoothing temperature that is not a positive, finite number."""
    if not isinstance(smoothing, Variable):
        hint = "Pass e.g. 1e-4 times the regrets' size, or None for the hard maximum."
        check_positive(smoothing, "smoothing", what="temperature", hint=hint)
