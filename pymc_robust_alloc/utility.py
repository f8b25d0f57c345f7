r"""Utility functions for :class:`~pymc_marketing.mmm.BudgetOptimizer` across views.

Each public function is a factory, like those of :mod:`pymc_marketing.mmm.utility`:
it validates its arguments and returns a closure ``(samples, budgets) -> scalar``
that the optimizer maximises. ``samples`` has dims ``("sample", "view")``: the
response of every view per posterior draw (``view_response`` of
:func:`~pymc_robust_alloc.merge_views`). A plan's value under view :math:`m` is
:math:`V(a, m) = E_m[Y(a) - Y(0)]`; its regret is :math:`1 - V(a, m) / V^*(m)`, or
with ``regret="relative"`` :math:`(V^*(m) - V(a, m)) / (V^*(m) - V(ref, m))`
(see the concepts page, "Normalised regret"). Every numeric argument also accepts
a PyTensor shared variable, read at call time: ``set_value`` and solve again
without recompiling.
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

    With ``bandwidth`` 0 it matches :func:`numpy.quantile` (linear
    interpolation); with ``bandwidth`` :math:`h > 0` it is a smoothed
    quantile: a Gaussian-kernel average of the order statistics around rank
    :math:`q (n - 1)`, with :math:`h` in draws. Smoothing makes the quantile of
    a plan's draws differentiable where two draws swap ranks, so a solver can
    approach the exact quantile's optimum through decreasing bandwidths.
    ``q`` and ``bandwidth`` may be symbolic.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.arange(10.0).reshape(5, 2), dims=("sample", "view"))
    >>> lower_quantile(x, 0.25).values.eval().tolist()
    [2.0, 3.0]
    >>> [round(v, 6) for v in lower_quantile(x, 0.5, bandwidth=0.5).values.eval().tolist()]
    [4.0, 5.0]
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

    Differentiable everywhere, above the maximum by at most
    :math:`\tau \log M`. Gradient-based solvers stall at the kinks of a hard
    maximum, where several views' regrets are equal, which is exactly where the
    minimax plan lies; shrinking :math:`\tau` over warm-started solves reaches
    it reliably.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.array([0.1, 0.3]), dims=("view",))
    >>> round(float(smooth_max(x, "view", 1e-4).eval()), 6)
    0.3
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

    with :math:`b` the response at the zero plan (per draw or per view) and
    :math:`s` an optional per-view scale.

    Parameters
    ----------
    samples : XTensorVariable
        Responses, dims ``("sample", dim)``.
    baseline : float, array or shared variable, default 0
        Response at the zero plan: a scalar, one value per view, or per draw and
        view (a 2-D shared variable ordered ``(sample, view)``).
    scale : float, array or shared variable, default 1
        Multiplier of each view's response.
    quantile : float or shared variable, optional
        Take this lower quantile of the draws instead of their mean.
    bandwidth : float or shared variable, default 0
        Smoothing of the quantile, in draws (see :func:`lower_quantile`).
    dim : str, default "view"
        Name of the view dim.

    Returns
    -------
    XTensorVariable
        Dims ``(dim,)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.array([[1.0, 4.0], [3.0, 8.0]]), dims=("sample", "view"))
    >>> view_values(x, baseline=[1.0, 0.0]).values.eval().tolist()
    [1.0, 6.0]
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

    with :math:`V_0 = 0` for the ratio regret :math:`1 - V / V^*` and
    :math:`V_0 = V(ref, m)` for the regret relative to a reference plan. The
    factories of this module and :class:`~pymc_robust_alloc.RobustAllocator`
    (whose minimax solves and certificates take this offset and slope) compute
    regret with this one function. Works on NumPy arrays, xarray objects and
    PyTensor variables alike; arguments are not validated here.

    Parameters
    ----------
    v_star : array-like
        Each view's optimum value :math:`V^*(m)`.
    reference_value : array-like, default 0
        :math:`V_0(m)`: 0 (the zero plan) or the reference plan's value.
    weights : array-like, default 1
        :math:`w_m`.

    Returns
    -------
    offset, slope
        :math:`\alpha_m` and :math:`\beta_m`.

    Examples
    --------
    >>> import numpy as np
    >>> offset, slope = regret_map(np.array([4.0, 10.0]), np.array([2.0, 0.0]))
    >>> (offset + slope * np.array([3.0, 5.0])).tolist()  # (V* - V) / (V* - V_0)
    [0.5, 0.5]
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
    r"""Regret of the plan under each view: ratio :math:`1 - V / V^*` or relative to a reference.

    Parameters
    ----------
    samples : XTensorVariable
        Responses, dims ``("sample", dim)``.
    v_star : array or shared variable
        Each view's optimum value, in the order of ``dim``; positive for the
        ratio regret.
    regret : {"ratio", "relative"}, default "ratio"
        ``"ratio"``: :math:`1 - V(a, m) / V^*(m)`; ``"relative"``:
        :math:`(V^*(m) - V(a, m)) / (V^*(m) - V(ref, m))` (see the module
        docstring).
    reference_value : array or shared variable, optional
        :math:`V(ref, m)`, each view's value of the reference plan (computed
        like ``v_star``: mean, or the same quantile); required by, and only
        accepted with, ``regret="relative"``.
    baseline, quantile, dim
        As in :func:`view_values`.

    Returns
    -------
    XTensorVariable
        Dims ``(dim,)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.array([[2.0, 5.0], [4.0, 5.0]]), dims=("sample", "view"))
    >>> normalized_regret(x, [4.0, 10.0]).values.eval().tolist()
    [0.25, 0.5]
    >>> normalized_regret(x, [4.0, 10.0], regret="relative",
    ...                   reference_value=[2.0, 0.0]).values.eval().tolist()
    [0.5, 0.5]
    """
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

    The plan that does least badly under the view it does worst under, each view
    judged against its own best plan. Regret is scale-free, so no view wins by
    being measured in larger units (Savage's minimax regret criterion).

    Parameters
    ----------
    v_star : array or shared variable
        Each view's optimum value :math:`V^*(m) > 0`, in the order of ``dim``.
    regret : {"ratio", "relative"}, default "ratio"
        How :math:`R` is normalised: against the zero plan, or against the
        reference plan whose values are ``reference_value`` (see
        :func:`normalized_regret`).
    reference_value : array or shared variable, optional
        :math:`V(ref, m)`, with ``regret="relative"`` only.
    weights : array or shared variable, optional
        Non-negative :math:`w_m`; equal weights give plain minimax regret.
    baseline : float, array or shared variable, default 0
        Response at the zero plan (see :func:`view_values`).
    quantile : float or shared variable, optional
        Judge each view by this lower quantile of its draws (risk-averse).
    smoothing : float or shared variable, optional
        Replace the maximum by :func:`smooth_max` at this temperature, e.g.
        ``1e-4`` times the regrets' size. SLSQP may stop short at the kink of a
        hard maximum; :class:`~pymc_robust_alloc.RobustAllocator` solves with a
        decreasing temperature and reports the hard maximum.
    dim : str, default "view"
        Name of the view dim of ``samples``.

    Returns
    -------
    callable
        ``utility(samples, budgets)`` for ``BudgetOptimizer(utility_function=...)``.

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
    r"""Weighted minimax regret: maximise :math:`-\max_m w_m R(a, m)`.

    A larger :math:`w_m` makes regret under view :math:`m` costlier, e.g. to trust
    an experiment more than platform attribution. Equal weights give
    :func:`minimax_regret`.

    Parameters
    ----------
    v_star : array or shared variable
        Each view's optimum value, positive.
    weights : array or shared variable
        Non-negative weights, not all zero, in the order of ``dim``.
    regret, reference_value
        As in :func:`minimax_regret`.
    baseline : float, array or shared variable, default 0
        Response at the zero plan.
    dim : str, default "view"
        Name of the view dim.

    Returns
    -------
    callable
        ``utility(samples, budgets)``.

    Examples
    --------
    >>> import numpy as np
    >>> x = ptx.as_xtensor(np.array([[2.0, 5.0], [4.0, 5.0]]), dims=("sample", "view"))
    >>> float(weighted_minimax_regret([4.0, 10.0], [2.0, 1.0])(x, None).eval())
    -0.5
    """
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
    r"""Minimax regret with each view's value taken as a lower quantile of its draws.

    :math:`V_q(a, m)` is the ``quantile`` of the draws of the increment; a plan
    must do well in each view's pessimistic case. ``v_star`` should then be each
    view's best :math:`V_q` (as :class:`~pymc_robust_alloc.RobustAllocator`
    computes), so that a view's own risk-averse optimum has zero regret.

    Parameters
    ----------
    v_star : array or shared variable
        Each view's best value at that quantile, positive.
    quantile : float, default 0.1
        The lower quantile, in (0, 1).
    regret : {"ratio", "relative"}, default "ratio"
        As in :func:`minimax_regret`.
    reference_value : array or shared variable, optional
        With ``regret="relative"``: :math:`V_q(ref, m)`, the reference plan's
        value at the same quantile.
    weights : array or shared variable, optional
        As in :func:`weighted_minimax_regret`.
    baseline : float, array or shared variable, default 0
        Response at the zero plan.
    dim : str, default "view"
        Name of the view dim.

    Returns
    -------
    callable
        ``utility(samples, budgets)``.

    Examples
    --------
    The median of each view's draws is ``[3.0, 5.0]``: with those as ``v_star``,
    the plan is each view's risk-averse optimum, so its regret is zero.

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
    """Return ``regret`` if it names a regret normalisation (:data:`REGRETS`), else refuse it.

    Examples
    --------
    >>> check_regret("relative")
    'relative'
    """
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
    r"""Refuse views whose optimum does not improve on the reference plan.

    Relative regret divides by :math:`V^*(m) - V(ref, m)`; a view under which
    the reference is already optimal (gap at most :data:`NO_IMPROVEMENT`
    :math:`|V^*|`) has no improvement for a plan to give up, so its regret is
    undefined. This is refused rather than patched: the view would veto any
    move away from the reference.

    Examples
    --------
    >>> check_improvement(np.array([2.0, 3.0]), np.array([1.0, 3.0]), ["mmm", "lift"])
    Traceback (most recent call last):
    ...
    ValueError: regret='relative' is undefined under views ['lift']: ...
    """
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
