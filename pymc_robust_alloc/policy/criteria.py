r"""Success criteria of a soft allocation :math:`\psi`, in log space.

Under :math:`\psi` the outcome is :math:`Y \sim N(m, V)`, :math:`m` and :math:`V` linear in
:math:`\psi`. 1-D: :math:`C = P(Y > r) = \Phi((m - r)/\sqrt{V})`. 2-D:
:math:`C = P(Y_v > r_v,\ Y_c \le r_c) = \Phi_2(a, b; -\rho)`, one orthant probability.
A plan of zero variance is a point mass: :math:`C` is exactly 1 or 0, with zero gradient.
NumPy kernels with exact gradients serve :mod:`~pymc_robust_alloc.policy.outcomes`;
:func:`log_success_probability_graph` is the PyTensor graph.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf
from scipy.special import log_ndtr

from pymc_robust_alloc.policy.bvn import (
    _LOG_SQRT_2PI,
    _RHO_MAX,
    bvn_logcdf,
    bvn_logcdf_graph,
)

__all__ = ["log_success_probability_graph"]


def _mills(z: np.ndarray) -> np.ndarray:
    """phi(z) / Phi(z), stable for very negative z; 0 at z = +inf."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - log_ndtr(z))
    return np.where(np.isfinite(z), out, 0.0)


def _bvn_partials(a, b, rho, logp):
    """D log Phi_2 / d(a, b, rho), zero where the probability is 0 or an arg is inf."""
    ok = np.isfinite(logp)
    lp = np.where(ok, logp, 0.0)
    fa, fb = np.isfinite(a), np.isfinite(b)
    a0, b0 = np.where(fa, a, 0.0), np.where(fb, b, 0.0)
    rho = np.clip(rho, -_RHO_MAX, _RHO_MAX)
    s = np.sqrt((1.0 - rho) * (1.0 + rho))
    with np.errstate(over="ignore", invalid="ignore"):
        d_a = np.exp(-0.5 * a0**2 - _LOG_SQRT_2PI + log_ndtr((b - rho * a0) / s) - lp)
        d_b = np.exp(-0.5 * b0**2 - _LOG_SQRT_2PI + log_ndtr((a - rho * b0) / s) - lp)
        quad = (a0**2 - 2.0 * rho * a0 * b0 + b0**2) / (2.0 * s**2)
        d_r = np.exp(-quad - np.log(2.0 * np.pi * s) - lp)
    d_a = np.where(ok & fa, d_a, 0.0)
    d_b = np.where(ok & fb, d_b, 0.0)
    d_r = np.where(ok & fa & fb, d_r, 0.0)
    return d_a, d_b, d_r


def _standardise_1d(psi, mu, var, r):
    """Margin z = (m - r) / sqrt(V) and its derivative with respect to psi.

    A zero variance gives an infinite margin (a point mass; ``Y > r`` is strict).
    """
    m = np.einsum("...gk,gk->...", psi, mu)
    v = np.einsum("...gk,gk->...", psi, var)
    pos = v > 0.0
    s = np.sqrt(np.where(pos, v, 1.0))
    with np.errstate(invalid="ignore"):
        z = np.where(pos, (m - r) / s, np.where(m > r, np.inf, -np.inf))

    def derivative():
        return mu / s[..., None, None] - ((m - r) / (2.0 * s**3))[..., None, None] * var

    return z, pos, derivative


def _criterion_1d(psi, mu, var, r, grad=False):
    z, pos, derivative = _standardise_1d(psi, mu, var, r)
    logc = log_ndtr(z)
    if not grad:
        return logc
    lam = np.where(pos, _mills(z), 0.0)
    return logc, lam[..., None, None] * derivative()


def _standardise_2d(psi, mu, cov, r_v, r_c):
    """Limits (a, b), correlation rho and their derivatives with respect to psi.

    The criterion is Phi_2(a, b; -rho) with a = (m_v - r_v) / s_v and
    b = (r_c - m_c) / s_c; zero variances give infinite limits (point masses).
    """
    m = np.einsum("...gk,gkd->...d", psi, mu)
    V = np.einsum("...gk,gkde->...de", psi, cov)
    var_v, var_c, c_vc = V[..., 0, 0], V[..., 1, 1], V[..., 0, 1]
    pos_v, pos_c = var_v > 0.0, var_c > 0.0
    s_v = np.sqrt(np.where(pos_v, var_v, 1.0))
    s_c = np.sqrt(np.where(pos_c, var_c, 1.0))
    a = np.where(pos_v, (m[..., 0] - r_v) / s_v, np.where(m[..., 0] > r_v, np.inf, -np.inf))
    b = np.where(pos_c, (r_c - m[..., 1]) / s_c, np.where(m[..., 1] <= r_c, np.inf, -np.inf))
    both = pos_v & pos_c
    rho = np.where(both, c_vc / (s_v * s_c), 0.0)

    def derivatives():
        e = (..., None, None)
        sv, sc = s_v[e], s_c[e]
        da = mu[..., 0] / sv - ((m[..., 0] - r_v) / (2.0 * s_v**3))[e] * cov[..., 0, 0]
        db = -mu[..., 1] / sc - ((r_c - m[..., 1]) / (2.0 * s_c**3))[e] * cov[..., 1, 1]
        drho = cov[..., 0, 1] / (sv * sc) - 0.5 * rho[e] * (
            cov[..., 0, 0] / (sv**2) + cov[..., 1, 1] / (sc**2)
        )
        return da, db, np.where(both[e], drho, 0.0)

    return a, b, rho, derivatives


def _chain_2d(partials, derivatives):
    """Gradient in psi from partials in (a, b, rho') where rho' = -rho."""
    d_a, d_b, d_r = partials
    da, db, drho = derivatives()
    e = (..., None, None)
    return d_a[e] * da + d_b[e] * db - d_r[e] * drho


def _criterion_2d(psi, mu, cov, r_v, r_c, grad=False):
    a, b, rho, derivatives = _standardise_2d(psi, mu, cov, r_v, r_c)
    logc = bvn_logcdf(a, b, -rho)
    if not grad:
        return logc
    return logc, _chain_2d(_bvn_partials(a, b, -rho, logc), derivatives)


def _log_complement_1d(psi, mu, var, r, grad=False):
    """Log(1 - C) = log Phi(-z), without cancellation when C is near one."""
    z, pos, derivative = _standardise_1d(psi, mu, var, r)
    logq = log_ndtr(-z)
    if not grad:
        return logq
    lam = np.where(pos, _mills(-z), 0.0)
    return logq, -lam[..., None, None] * derivative()


def _log_complement_2d(psi, mu, cov, r_v, r_c, grad=False):
    """Log(1 - C) by the survival form, relatively accurate when C is near one.

    With C = Phi_2(a, b; rho'), 1 - C = Phi(-a) + Phi(-b) - Phi_2(-a, -b; rho').
    The subtracted term is at most min(Phi(-a), Phi(-b)), so 1 - C >= max(Phi(-a),
    Phi(-b)) and the sum loses at most a factor two of relative accuracy; all terms
    are taken in log space (:func:`bvn_logcdf` is relatively accurate in the tail).
    """
    a, b, rho, derivatives = _standardise_2d(psi, mu, cov, r_v, r_c)
    r = -rho
    t_a, t_b, t_ab = log_ndtr(-a), log_ndtr(-b), bvn_logcdf(-a, -b, r)
    top = np.maximum(t_a, t_b)  # t_ab <= min(t_a, t_b)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        shift = np.where(np.isfinite(top), top, 0.0)
        q = np.exp(t_a - shift) + np.exp(t_b - shift) - np.exp(t_ab - shift)
        logq = np.where(q > 0.0, shift + np.log(q), -np.inf)
    if not grad:
        return logq
    # d(1 - C) = -dC: the closed-form partials of Phi_2 divided by 1 - C
    return logq, -_chain_2d(_bvn_partials(a, b, r, logq), derivatives)


def log_success_probability_graph(psi, mu, cov, threshold) -> pt.TensorVariable:
    r"""PyTensor graph of :math:`\log C(\psi)` with exact gradients.

    ``psi`` has shape ``(M, K)``; ``mu`` and ``cov`` are as in
    :class:`~pymc_robust_alloc.policy.PolicyProblem`; ``threshold`` is ``r`` or
    ``(r_v, r_c)``, best a shared variable or an input to reuse one compiled function.

    Examples
    --------
    >>> import numpy as np
    >>> import pytensor
    >>> import pytensor.tensor as pt
    >>> from pymc_robust_alloc.policy import log_success_probability_graph
    >>> psi, r = pt.dmatrix("psi"), pt.dscalar("r")
    >>> logc = log_success_probability_graph(psi, [[2.0, 1.0]], [[9.0, 1.0]], r)
    >>> f = pytensor.function([psi, r], [logc, pytensor.grad(logc, psi)])
    >>> value, grad = f(np.array([[0.0, 1.0]]), 0.0)
    >>> round(float(np.exp(value)), 6)
    0.841345
    """
    psi = pt.as_tensor_variable(psi)
    mu = pt.as_tensor_variable(
        np.asarray(mu, dtype=float) if not isinstance(mu, pt.Variable) else mu
    )
    cov = pt.as_tensor_variable(
        np.asarray(cov, dtype=float) if not isinstance(cov, pt.Variable) else cov
    )
    threshold = pt.as_tensor_variable(threshold)
    if mu.ndim == 2:
        m = (psi * mu).sum()
        v = (psi * cov).sum()
        pos = pt.gt(v, 0.0)
        s = pt.sqrt(pt.switch(pos, v, 1.0))
        z = pt.switch(pos, (m - threshold) / s, 0.0)
        point = pt.switch(pt.gt(m, threshold), 0.0, -np.inf)
        return pt.switch(pos, normal_lcdf(0.0, 1.0, z), point)
    w = psi[:, :, None]
    m = (w * mu).sum(axis=(0, 1))
    V = (psi[:, :, None, None] * cov).sum(axis=(0, 1))
    r_v, r_c = threshold[0], threshold[1]
    pos_v, pos_c = pt.gt(V[0, 0], 0.0), pt.gt(V[1, 1], 0.0)
    s_v = pt.sqrt(pt.switch(pos_v, V[0, 0], 1.0))
    s_c = pt.sqrt(pt.switch(pos_c, V[1, 1], 1.0))
    a = pt.switch(pos_v, (m[0] - r_v) / s_v, pt.switch(pt.gt(m[0], r_v), np.inf, -np.inf))
    b = pt.switch(pos_c, (r_c - m[1]) / s_c, pt.switch(pt.le(m[1], r_c), np.inf, -np.inf))
    rho = pt.switch(pos_v & pos_c, V[0, 1] / (s_v * s_c), 0.0)
    return bvn_logcdf_graph(a, b, -rho)
