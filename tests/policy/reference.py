"""NumPy references of the compiled policy kernels (tests only).

The vectorised NumPy form of the far-tail bivariate normal quadrature that
:func:`pymc_robust_alloc.policy._numba.quadrature_logcdf` compiles: the tests check the
compiled kernel against it.
"""

import numpy as np
from scipy.special import log_ndtr, logsumexp

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_DEPTH = 45.0  # the quadrature window keeps the integrand within exp(-_DEPTH) of its peak
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)


def _log_integrand(x, b, rho, s):
    """Log integrand L(x) and its first two derivatives (vectorised)."""
    z = (b - rho * x) / s
    lcdf = log_ndtr(z)
    mills = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - lcdf)  # phi(z) / Phi(z)
    dmills = np.clip(-mills * (z + mills), -1.0, 0.0)
    value = -0.5 * x * x - _LOG_SQRT_2PI + lcdf
    grad = -x - (rho / s) * mills
    hess = -1.0 + (rho / s) ** 2 * dmills
    return value, grad, hess


def _newton_level(x0, level, b, rho, s, n_iter=60):
    """Solve L(x) = level from a start outside the level set (monotone: L concave)."""
    x = x0.copy()
    for _ in range(n_iter):
        value, grad, _ = _log_integrand(x, b, rho, s)
        step = (value - level) / grad
        step = np.where(np.isfinite(step), step, 0.0)
        x = x - step
        if np.all(np.abs(step) <= 1e-13 * (1.0 + np.abs(x))):
            break
    return x


def quadrature_logcdf(a: np.ndarray, b: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Log Phi_2 by Gauss-Legendre quadrature of the log-concave integrand in x <= a."""
    s = np.sqrt((1.0 - rho) * (1.0 + rho))
    _, grad_a, _ = _log_integrand(a, b, rho, s)
    # Mode of L on (-inf, a]: L'' <= -1, so the root of L' lies in [a - |L'(a)|, a].
    lo, hi = a - np.abs(grad_a), a.copy()
    mode = np.where(grad_a >= 0.0, a, 0.5 * (lo + hi))
    interior = grad_a < 0.0
    for _ in range(100):
        if not np.any(interior):
            break
        _, g, h = _log_integrand(mode, b, rho, s)
        lo = np.where(interior & (g > 0.0), mode, lo)
        hi = np.where(interior & (g <= 0.0), mode, hi)
        newton = mode - g / h
        bad = ~((newton > lo) & (newton < hi))
        new = np.where(bad, 0.5 * (lo + hi), newton)
        new = np.where(interior, new, mode)
        done = np.abs(new - mode) <= 1e-14 * (1.0 + np.abs(mode))
        mode = new
        if np.all(done | ~interior):
            break
    peak, _, _ = _log_integrand(mode, b, rho, s)
    level = peak - _DEPTH
    reach = np.sqrt(2.0 * _DEPTH)  # strong concavity: L(mode +- reach) <= level
    left = _newton_level(mode - reach, level, b, rho, s)
    right_start = np.minimum(mode + reach, a)
    value_a, _, _ = _log_integrand(right_start, b, rho, s)
    right = np.where(
        (mode >= a) | (value_a >= level),
        right_start,
        _newton_level(right_start, level, b, rho, s),
    )
    # Graded panels: around the mode on its local scale, and around the point where the
    # Phi factor turns (z = 0, scale sqrt(1 - rho^2) / |rho|), where the curvature of
    # the integrand changes faster than one panel can resolve.
    _, _, hess = _log_integrand(mode, b, rho, s)
    width = 1.0 / np.sqrt(-hess)
    with np.errstate(divide="ignore", invalid="ignore"):
        turn = np.where(rho != 0.0, b / rho, mode)
        turn_width = np.where(rho != 0.0, s / np.abs(rho), width)
    grade = np.array([1.0, 4.0, 16.0, 64.0])
    points = [left, right, mode, turn]
    points += [mode + sign * width * g for sign in (-1.0, 1.0) for g in grade]
    points += [turn + sign * turn_width * g for sign in (-1.0, 1.0) for g in grade[:3]]
    points = np.sort(np.clip(np.stack(points, axis=-1), left[..., None], right[..., None]))
    lo_, hi_ = points[..., :-1], points[..., 1:]
    half = 0.5 * (hi_ - lo_)
    nodes = (0.5 * (hi_ + lo_))[..., None] + half[..., None] * _GL_X
    values, _, _ = _log_integrand(
        nodes, b[..., None, None], rho[..., None, None], s[..., None, None]
    )
    with np.errstate(divide="ignore"):
        logw = np.log(half)[..., None] + np.log(_GL_W)
    return logsumexp((values + logw).reshape(*a.shape, -1), axis=-1)
