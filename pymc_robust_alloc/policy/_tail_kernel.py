r"""Compiled far-tail quadrature of the bivariate normal CDF (Numba).

The same algorithm as the NumPy reference ``bvn._quadrature_logcdf``: Gauss-Legendre
quadrature, in log space, of the log-concave integrand
:math:`\phi(x)\Phi((b - \rho x)/\sqrt{1 - \rho^2})` over :math:`x \le a`, on graded
panels around its mode. The solvers evaluate it on one plan at a time, where a NumPy
call on a scalar costs far more than the arithmetic.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SQRT2 = math.sqrt(2.0)
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_DEPTH = 45.0
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)
_LOG_GL_W = np.log(_GL_W)
_GRADE = np.array([1.0, 4.0, 16.0, 64.0])


@njit(cache=True)
def log_ndtr_scalar(z):
    """Log Phi(z), relatively accurate for every z (asymptotic series below -20)."""
    if z > 0.0:
        return math.log1p(-0.5 * math.erfc(z / _SQRT2))
    if z > -20.0:
        return math.log(0.5 * math.erfc(-z / _SQRT2))
    z2 = z * z
    term = 1.0
    total = 1.0
    for k in range(1, 14):
        term *= -(2.0 * k - 1.0) / z2
        total += term
    return -0.5 * z2 - math.log(-z) - _LOG_SQRT_2PI + math.log(total)


@njit(cache=True)
def _log_integrand(x, b, rho, s):
    z = (b - rho * x) / s
    lcdf = log_ndtr_scalar(z)
    mills = math.exp(-0.5 * z * z - _LOG_SQRT_2PI - lcdf)
    dmills = min(max(-mills * (z + mills), -1.0), 0.0)
    value = -0.5 * x * x - _LOG_SQRT_2PI + lcdf
    grad = -x - (rho / s) * mills
    hess = -1.0 + (rho / s) ** 2 * dmills
    return value, grad, hess


@njit(cache=True)
def _newton_level(x, level, b, rho, s):
    for _ in range(60):
        value, grad, _ = _log_integrand(x, b, rho, s)
        step = (value - level) / grad
        if not math.isfinite(step):
            step = 0.0
        x = x - step
        if abs(step) <= 1e-13 * (1.0 + abs(x)):
            break
    return x


@njit(cache=True)
def _quadrature_one(a, b, rho):
    s = math.sqrt((1.0 - rho) * (1.0 + rho))
    _, grad_a, _ = _log_integrand(a, b, rho, s)
    lo, hi = a - abs(grad_a), a
    mode = a
    if grad_a < 0.0:
        mode = 0.5 * (lo + hi)
        for _ in range(100):
            _, g, h = _log_integrand(mode, b, rho, s)
            if g > 0.0:
                lo = mode
            else:
                hi = mode
            new = mode - g / h
            if not (lo < new < hi):
                new = 0.5 * (lo + hi)
            done = abs(new - mode) <= 1e-14 * (1.0 + abs(mode))
            mode = new
            if done:
                break
    peak, _, hess = _log_integrand(mode, b, rho, s)
    level = peak - _DEPTH
    reach = math.sqrt(2.0 * _DEPTH)
    left = _newton_level(mode - reach, level, b, rho, s)
    right = min(mode + reach, a)
    value_r, _, _ = _log_integrand(right, b, rho, s)
    if mode < a and value_r < level:
        right = _newton_level(right, level, b, rho, s)
    width = 1.0 / math.sqrt(-hess)
    if rho != 0.0:
        turn, turn_width = b / rho, s / abs(rho)
    else:
        turn, turn_width = mode, width
    points = np.empty(18)
    points[0], points[1], points[2], points[3] = left, right, mode, turn
    n = 4
    for sign in (-1.0, 1.0):
        for j in range(4):
            points[n] = mode + sign * width * _GRADE[j]
            n += 1
        for j in range(3):
            points[n] = turn + sign * turn_width * _GRADE[j]
            n += 1
    for j in range(18):
        points[j] = min(max(points[j], left), right)
    points = np.sort(points)
    terms = np.full(17 * _GL_X.shape[0], -np.inf)
    n = 0
    top = -np.inf
    for j in range(17):
        half = 0.5 * (points[j + 1] - points[j])
        if half <= 0.0:
            continue
        mid = 0.5 * (points[j + 1] + points[j])
        log_half = math.log(half)
        for i in range(_GL_X.shape[0]):
            value, _, _ = _log_integrand(mid + half * _GL_X[i], b, rho, s)
            t = value + log_half + _LOG_GL_W[i]
            terms[n] = t
            n += 1
            top = max(top, t)
    if not math.isfinite(top):
        return -np.inf
    total = 0.0
    for j in range(n):
        total += math.exp(terms[j] - top)
    return top + math.log(total)


@njit(cache=True)
def quadrature_logcdf(a, b, rho):
    """Log Phi_2(a, b; rho) by log-space quadrature, elementwise over 1-D arrays."""
    out = np.empty(a.shape[0])
    for i in range(a.shape[0]):
        out[i] = _quadrature_one(a[i], b[i], rho[i])
    return out
