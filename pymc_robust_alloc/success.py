r"""Success probability: how likely a plan is to beat a reference plan.

Per draw :math:`d` (paired), :math:`D_d(a) = V_d(a) - (1 + r) V_d(a_{ref})` with
:math:`V_d` the increment over the zero plan, and :math:`P(a) = \Pr(D(a) \ge 0)`,
after Betlei et al. (AAAI-24); see :doc:`/concepts` ("Success probability").
Shared parameters: ``reference`` holds the reference plan's responses on the
optimizer's draws in their order (array, DataArray or shared variable, dims
``("sample",)`` or ``("sample", "view")``, e.g.
``optimizer.evaluate_response_distribution(a_ref)``); ``required_gain`` is
:math:`r > -1`; ``method`` is ``"gaussian"`` (:math:`\Phi(\bar D / s_D)`) or
``"empirical"`` (the share of draws with :math:`D_d \ge 0`, smoothed by
``temperature`` standard deviations of :math:`D`); ``baseline`` is the response
at the zero plan, as in :func:`~pymc_robust_alloc.view_values`; ``log`` returns
:math:`\log P`, whose gradient does not vanish when :math:`P` is tiny; ``dim``
names the view dim.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
import pytensor.xtensor as ptx
import xarray as xr
from pymc.distributions.dist_math import normal_lcdf
from pytensor.graph.basic import Variable
from pytensor.xtensor.type import XTensorVariable

from pymc_robust_alloc.checks import check_positive
from pymc_robust_alloc.names import SAMPLE, VIEW
from pymc_robust_alloc.utility import (
    Numeric,
    UtilityFunction,
    _as_view_vector,
    smooth_max,
)

__all__ = [
    "METHODS",
    "log_success_probability",
    "robust_success_probability",
    "success_probability",
]

#: Estimates of the success probability from posterior draws.
METHODS = ("gaussian", "empirical")
#: Default smoothing of the empirical frequency, in standard deviations of D.
TEMPERATURE = 0.1
#: Floor of the standard deviation of D, relative to the reference's increment:
#: at the reference plan itself with r = 0, D is zero in every draw.
_SD_FLOOR = 1e-9

Reference = np.ndarray | xr.DataArray | Variable


def _as_draws(reference: Reference, dim: str) -> XTensorVariable:
    """Wrap the reference responses as an xtensor over ``sample`` (and ``dim``)."""
    if isinstance(reference, xr.DataArray):
        data = reference.transpose(SAMPLE, ...)
        return ptx.as_xtensor(np.asarray(data.values, dtype="float64"), dims=data.dims)
    if not isinstance(reference, Variable):
        reference = np.asarray(reference, dtype="float64")
    return ptx.as_xtensor(reference, dims=(SAMPLE, dim)[: reference.ndim])


def log_success_probability(
    samples: XTensorVariable,
    reference: Reference,
    *,
    required_gain: float | Variable = 0.0,
    baseline: Numeric = 0.0,
    method: str = "gaussian",
    temperature: float | Variable = TEMPERATURE,
    dim: str = VIEW,
) -> XTensorVariable:
    r""":math:`\log P(V(a) \ge (1 + r) V(a_{ref}))` per view (parameters: module docstring)."""
    reference = _as_draws(reference, dim)
    baseline = _as_view_vector(baseline, dim)
    added = reference - baseline
    diff = (samples - baseline) - (1 + required_gain) * added
    mean = diff.mean(SAMPLE)
    floor = _SD_FLOOR * ptx.math.abs(added.mean(SAMPLE))
    sd = ptx.math.sqrt(((diff - mean) ** 2).mean(SAMPLE) + floor**2)
    if method == "gaussian":
        z = mean / sd
        return ptx.as_xtensor(normal_lcdf(0.0, 1.0, z.values), dims=z.dims)
    # log mean_d sigmoid(x_d), with log sigmoid(x) = -softplus(-x).
    x = diff / (temperature * sd)
    n_draws = pt.cast(diff.sizes[SAMPLE], "float64")
    return ptx.math.logsumexp(-ptx.math.softplus(-x), dim=SAMPLE) - pt.log(n_draws)


def success_probability(
    reference: Reference,
    required_gain: float = 0.0,
    method: str = "gaussian",
    temperature: float = TEMPERATURE,
    *,
    baseline: Numeric = 0.0,
    log: bool = True,
    dim: str = VIEW,
) -> UtilityFunction:
    r"""Maximise the probability that the plan beats a reference plan.

    .. math::

        P(a) = \Pr\big(V(a) \ge (1 + r)\, V(a_{ref})\big)

    With a ``view`` dim the views are pooled with equal weights,
    :math:`\frac{1}{M} \sum_m P_m(a)`; :func:`robust_success_probability` guards
    against the least favourable view instead. Parameters are described in the
    module docstring. Returns ``utility(samples, budgets)`` for
    ``BudgetOptimizer(utility_function=...)``.

    Examples
    --------
    >>> import numpy as np
    >>> plan = ptx.as_xtensor(np.array([2.0, 3.0, 4.0]), dims=("sample",))
    >>> utility = success_probability(np.array([1.0, 2.0, 5.0]), log=False)
    >>> round(float(utility(samples=plan, budgets=None).eval()), 4)
    0.6382
    """
    check_success_arguments(reference, required_gain, method, temperature, baseline)

    def utility(samples: XTensorVariable, budgets: XTensorVariable) -> XTensorVariable:
        log_p = _log_p(samples, reference, required_gain, method, temperature, baseline, dim)
        if dim in log_p.dims:
            log_p = ptx.math.logsumexp(log_p, dim=dim) - pt.log(
                pt.cast(log_p.sizes[dim], "float64")
            )
        return log_p if log else ptx.math.exp(log_p)

    return utility


def robust_success_probability(
    reference: Reference,
    required_gain: float = 0.0,
    method: str = "gaussian",
    temperature: float = TEMPERATURE,
    *,
    baseline: Numeric = 0.0,
    smoothing: float | Variable | None = None,
    log: bool = True,
    dim: str = VIEW,
) -> UtilityFunction:
    r"""Maximise the success probability under the least favourable view.

    .. math::

        a^\ddagger = \arg\max_a \min_m P_m(a), \qquad
        P_m(a) = \Pr_m\big(V(a) \ge (1 + r)\, V(a_{ref})\big).

    Parameters as in :func:`success_probability`; ``smoothing`` replaces the
    minimum by a log-sum-exp minimum at that temperature.

    Examples
    --------
    >>> import numpy as np
    >>> plan = ptx.as_xtensor(np.array([[2.0, 9.0], [3.0, 8.0], [4.0, 9.5]]),
    ...                       dims=("sample", "view"))
    >>> reference = np.array([[1.0, 8.0], [2.0, 8.5], [5.0, 9.0]])
    >>> utility = robust_success_probability(reference, log=False)
    >>> round(float(utility(samples=plan, budgets=None).eval()), 4)  # view 0's
    0.6382
    """
    check_success_arguments(reference, required_gain, method, temperature, baseline)

    def utility(samples: XTensorVariable, budgets: XTensorVariable) -> XTensorVariable:
        if dim not in samples.dims:
            raise ValueError(
                f"robust_success_probability takes the minimum over the {dim!r} dim, "
                f"but the samples have dims {samples.dims}. Use the merged model's "
                "'view_response' as response_variable, or success_probability for "
                "a single view."
            )
        log_p = _log_p(samples, reference, required_gain, method, temperature, baseline, dim)
        worst = log_p.min(dim) if smoothing is None else -smooth_max(-log_p, dim, smoothing)
        return worst if log else ptx.math.exp(worst)

    return utility


def _log_p(samples, reference, required_gain, method, temperature, baseline, dim):
    n_reference = _n_draws(reference)
    n_samples = samples.type.shape[samples.dims.index(SAMPLE)]
    if None not in (n_reference, n_samples) and n_reference != n_samples:
        raise ValueError(
            f"The reference has responses for {n_reference} draws but the optimizer "
            f"has {n_samples}. Success is judged draw by draw: evaluate the reference "
            "plan on the optimizer's own draws, e.g. "
            "`optimizer.evaluate_response_distribution(reference_plan)`."
        )
    return log_success_probability(
        samples,
        reference,
        required_gain=required_gain,
        baseline=baseline,
        method=method,
        temperature=temperature,
        dim=dim,
    )


def _n_draws(reference: Reference) -> int | None:
    if isinstance(reference, xr.DataArray):
        return reference.sizes.get(SAMPLE)
    if isinstance(reference, Variable):
        return reference.type.shape[0] if reference.type.ndim else None
    return np.shape(reference)[0] if np.ndim(reference) else None


def check_success_arguments(
    reference: Reference | None,
    required_gain: float | Variable,
    method: str,
    temperature: float | Variable,
    baseline: Numeric = 0.0,
) -> None:
    """Refuse bad success-probability arguments (symbolic ones and a ``None`` reference pass)."""
    if method not in METHODS:
        raise ValueError(
            f"Unknown method {method!r}. Use 'gaussian' (Phi of the mean over the sd "
            "of the paired difference, the paper's approximation) or 'empirical' "
            "(the smoothed share of draws in which the plan succeeds)."
        )
    if not isinstance(required_gain, Variable) and not float(required_gain) > -1:
        raise ValueError(
            f"required_gain must be greater than -1, got {required_gain!r}: the plan "
            "must add (1 + required_gain) times the reference's increment, e.g. 0.05 "
            "for 5% more, -0.1 for at most 10% less."
        )
    if not isinstance(temperature, Variable):
        hint = "Pass e.g. 0.1 to smooth over a tenth of the paired difference's spread."
        check_positive(temperature, "temperature", hint=hint)
    if reference is None or isinstance(reference, Variable):
        return
    values = np.asarray(reference.values if isinstance(reference, xr.DataArray) else reference)
    if isinstance(reference, xr.DataArray) and SAMPLE not in reference.dims:
        raise ValueError(
            f"The reference DataArray needs a 'sample' dim (one response per posterior "
            f"draw); got dims {reference.dims}."
        )
    if values.ndim not in (1, 2) or values.shape[0] < 2:
        raise ValueError(
            "The reference must hold the reference plan's response per posterior "
            f"draw: shape (sample,) or (sample, view) with at least 2 draws; got "
            f"shape {values.shape}."
        )
    bad = int((~np.isfinite(values)).sum())
    if bad:
        raise ValueError(
            f"The reference has {bad} non-finite responses (of {values.size}). "
            "Evaluate the reference plan on finite posterior draws, or drop the "
            "draws concerned from the posterior."
        )
    if isinstance(baseline, Variable):
        return
    added = values - np.asarray(baseline, dtype=float)
    if np.any(added.mean(axis=0) <= 0):
        raise ValueError(
            "The reference plan must add a positive response over the zero plan "
            f"(mean increment: {np.round(added.mean(axis=0), 6).tolist()}): success "
            "is a gain relative to that increment. Choose a reference plan that spends, "
            "or pass the zero-plan responses as `baseline`."
        )
