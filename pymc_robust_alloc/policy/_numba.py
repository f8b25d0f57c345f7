r"""Every compiled (Numba) kernel of the policy solvers.

- Algorithm 1's inner loop (:func:`ascent_1d`, :func:`ascent_2d`): the paper's
  criterion and step, :math:`C` on the linear scale and the step along
  :math:`\nabla C / C`, zero where :math:`C` underflows. The reference takes 1e5 to
  5e6 projected-gradient steps per threshold (the paper's Table 3); a NumPy step costs
  about a millisecond, a compiled one a microsecond. Its bivariate normal CDF is
  Genz's (2004) Gauss-Legendre form of the Drezner-Wesolowsky integral (absolute
  accuracy about 1e-15, enough to steer the ascent; results are scored afterwards with
  :func:`~pymc_robust_alloc.policy.bvn_logcdf`).
- The far-tail quadrature of the bivariate normal CDF (:func:`quadrature_logcdf`):
  Gauss-Legendre quadrature, in log space, of the log-concave integrand
  :math:`\phi(x)\Phi((b - \rho x)/\sqrt{1 - \rho^2})` over :math:`x \le a`, on
  graded panels around its mode (the solvers evaluate it on one plan at a time).
- The exact 1-D frontier (:func:`frontier_edges`, :func:`frontier_best`) and the
  directional bound of a (value, cost) outcome built on it (:func:`direction_margin`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_SQRT2 = math.sqrt(2.0)
_TWO_PI = 2.0 * math.pi
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def _half_rule(n):
    x, w = np.polynomial.legendre.leggauss(n)
    keep = x < 0.0
    return x[keep].copy(), w[keep].copy()


_GL = [_half_rule(n) for n in (6, 12, 20)]
_X6, _W6 = _GL[0]
_X12, _W12 = _GL[1]
_X20, _W20 = _GL[2]


@njit(cache=True)
def _phi(x):
    return 0.5 * math.erfc(-x / _SQRT2)


@njit(cache=True)
def _bvnu(h, k, r):
    """P(X > h, Y > k) for a standard bivariate normal with correlation r (Genz)."""
    ar = abs(r)
    if ar < 0.3:
        x, w = _X6, _W6
    elif ar < 0.75:
        x, w = _X12, _W12
    else:
        x, w = _X20, _W20
    hk = h * k
    bvn = 0.0
    if ar < 0.925:
        hs = 0.5 * (h * h + k * k)
        asr = math.asin(r)
        for i in range(x.shape[0]):
            for sgn in (-1.0, 1.0):
                sn = math.sin(asr * (sgn * x[i] + 1.0) / 2.0)
                bvn += w[i] * math.exp((sn * hk - hs) / (1.0 - sn * sn))
        return bvn * asr / (4.0 * math.pi) + _phi(-h) * _phi(-k)
    if r < 0.0:
        k = -k
        hk = -hk
    if ar < 1.0:
        as_ = (1.0 - r) * (1.0 + r)
        a = math.sqrt(as_)
        bs = (h - k) ** 2
        c = (4.0 - hk) / 8.0
        d = (12.0 - hk) / 16.0
        bvn = (
            a
            * math.exp(-(bs / as_ + hk) / 2.0)
            * (1.0 - c * (bs - as_) * (1.0 - d * bs / 5.0) / 3.0 + c * d * as_ * as_ / 5.0)
        )
        if hk > -160.0:
            b = math.sqrt(bs)
            bvn -= (
                math.exp(-hk / 2.0)
                * math.sqrt(_TWO_PI)
                * _phi(-b / a)
                * b
                * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0)
            )
        a = a / 2.0
        for i in range(x.shape[0]):
            for sgn in (-1.0, 1.0):
                xs = (a * (sgn * x[i] + 1.0)) ** 2
                rs = math.sqrt(1.0 - xs)
                bvn += (
                    a
                    * w[i]
                    * (
                        math.exp(-bs / (2.0 * xs) - hk / (1.0 + rs)) / rs
                        - math.exp(-(bs / xs + hk) / 2.0) * (1.0 + c * xs * (1.0 + d * xs))
                    )
                )
        bvn = -bvn / _TWO_PI
    if r > 0.0:
        return bvn + _phi(-max(h, k))
    bvn = -bvn
    if k > h:
        if h < 0.0:
            bvn += _phi(k) - _phi(h)
        else:
            bvn += _phi(-h) - _phi(-k)
    return bvn


@njit(cache=True)
def bvn_cdf_genz(a, b, rho):
    """Phi_2(a, b; rho) = P(X <= a, Y <= b) by Genz's algorithm (scalar)."""
    return min(max(_bvnu(-a, -b, rho), 0.0), 1.0)


@njit(cache=True)
def _project_row(v):
    """Euclidean projection of one row on the simplex (Duchi et al., 2008)."""
    k = v.shape[0]
    u = np.sort(v)[::-1]
    css = 0.0
    theta = 0.0
    for j in range(k):
        css += u[j]
        t = (css - 1.0) / (j + 1.0)
        if u[j] - t > 0.0:
            theta = t
    for j in range(k):
        v[j] = max(v[j] - theta, 0.0)


@njit(cache=True)
def ascent_1d(psi, mu, var, r, eta, n_steps):
    """Run Algorithm 1 in place on ``psi`` (M, K); return True if C hit 0."""
    n_b, n_p = psi.shape
    stuck = False
    for _ in range(n_steps):
        m = 0.0
        v = 0.0
        for g in range(n_b):
            for j in range(n_p):
                m += psi[g, j] * mu[g, j]
                v += psi[g, j] * var[g, j]
        if v <= 0.0:
            break  # a point mass: C is 0 or 1 and its gradient 0
        s = math.sqrt(v)
        z = (m - r) / s
        c = _phi(z)
        if c <= 0.0:
            stuck = True
            continue
        ratio = math.exp(-0.5 * z * z) / math.sqrt(_TWO_PI) / c
        for g in range(n_b):
            for j in range(n_p):
                dz = mu[g, j] / s - (m - r) / (2.0 * s * v) * var[g, j]
                psi[g, j] += eta * ratio * dz
            _project_row(psi[g])
    return stuck


@njit(cache=True)
def ascent_2d(psi, mu, cov, r_v, r_c, eta, n_steps):
    """Run Algorithm 1 in place for a (value, cost) outcome; return True if C hit 0."""
    n_b, n_p = psi.shape
    stuck = False
    for _ in range(n_steps):
        m_v = 0.0
        m_c = 0.0
        v_v = 0.0
        v_c = 0.0
        v_vc = 0.0
        for g in range(n_b):
            for j in range(n_p):
                p = psi[g, j]
                m_v += p * mu[g, j, 0]
                m_c += p * mu[g, j, 1]
                v_v += p * cov[g, j, 0, 0]
                v_c += p * cov[g, j, 1, 1]
                v_vc += p * cov[g, j, 0, 1]
        if v_v <= 0.0 or v_c <= 0.0:
            break
        s_v = math.sqrt(v_v)
        s_c = math.sqrt(v_c)
        rho = min(max(v_vc / (s_v * s_c), -1.0 + 1e-12), 1.0 - 1e-12)
        a = (m_v - r_v) / s_v
        b = (r_c - m_c) / s_c
        rr = -rho  # C = Phi_2(a, b; -rho)
        c = bvn_cdf_genz(a, b, rr)
        if c <= 0.0:
            stuck = True
            continue
        sq = math.sqrt((1.0 - rr) * (1.0 + rr))
        d_a = math.exp(-0.5 * a * a) / math.sqrt(_TWO_PI) * _phi((b - rr * a) / sq)
        d_b = math.exp(-0.5 * b * b) / math.sqrt(_TWO_PI) * _phi((a - rr * b) / sq)
        quad = (a * a - 2.0 * rr * a * b + b * b) / (2.0 * sq * sq)
        d_r = math.exp(-quad) / (_TWO_PI * sq)
        for g in range(n_b):
            for j in range(n_p):
                da = mu[g, j, 0] / s_v - (m_v - r_v) / (2.0 * s_v * v_v) * cov[g, j, 0, 0]
                db = -mu[g, j, 1] / s_c - (r_c - m_c) / (2.0 * s_c * v_c) * cov[g, j, 1, 1]
                drho = cov[g, j, 0, 1] / (s_v * s_c) - 0.5 * rho * (
                    cov[g, j, 0, 0] / v_v + cov[g, j, 1, 1] / v_c
                )
                psi[g, j] += eta * (d_a * da + d_b * db - d_r * drho) / c
            _project_row(psi[g])
    return stuck


# ------------------------------------------------- far-tail bivariate normal CDF

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


# ------------------------------------------------------------ the exact 1-D frontier

# a supremum C -> 1/2 is approached to this standardised margin (sqrt of machine eps)
SUPREMUM_MARGIN = -math.sqrt(np.finfo(np.float64).eps)


@njit(cache=True)
def frontier_edges(mu, var):
    """Edges of the upper boundary of the reachable (V, m) polygon of a scalar outcome.

    Each bucket's upper hull of its points (var, mu), in increasing variance; the
    hulls' edges merged by decreasing slope dm / dV (the upper hull of the Minkowski
    sum). Returns the starting policy of each bucket and, per edge, its bucket ``g``
    and the policies it moves from (``k0``) and to (``k1``).
    """
    n_b, n_p = mu.shape
    start = np.zeros(n_b, np.int64)
    size = n_b * n_p
    slope = np.empty(size)
    eg, ek0, ek1 = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64)
    hull = np.empty(n_p, np.int64)
    n_e = 0
    for g in range(n_b):
        by_mean = np.argsort(-mu[g], kind="mergesort")
        order = by_mean[np.argsort(var[g][by_mean], kind="mergesort")]  # V up, then m down
        h = 0
        for k in order:
            if h > 0 and var[g, k] == var[g, hull[h - 1]]:
                continue  # same variance, lower mean: dominated
            while h >= 2:
                o, a = hull[h - 2], hull[h - 1]
                cross = (var[g, a] - var[g, o]) * (mu[g, k] - mu[g, o]) - (mu[g, a] - mu[g, o]) * (
                    var[g, k] - var[g, o]
                )
                if cross < 0.0:
                    break
                h -= 1  # on or below the chord: not on the upper hull
            hull[h] = k
            h += 1
        start[g] = hull[0]
        for j in range(h - 1):
            a, b = hull[j], hull[j + 1]
            slope[n_e] = (mu[g, b] - mu[g, a]) / (var[g, b] - var[g, a])
            eg[n_e], ek0[n_e], ek1[n_e] = g, a, b
            n_e += 1
    order = np.argsort(-slope[:n_e], kind="mergesort")
    return start, eg[:n_e][order], ek0[:n_e][order], ek1[:n_e][order]


@njit(cache=True)
def _margin(m, v, r):
    if v > 0.0:
        return (m - r) / math.sqrt(v)
    return np.inf if m > r else -np.inf


@njit(cache=True)
def frontier_best(mu, var, start, g, k0, k1, r):
    """Best point of the frontier for threshold ``r``: the margin (m - r) / sqrt(V).

    Checks every vertex and the stationary point of the margin on every edge. Returns
    ``(n_moves, share, z, attained)``: the plan takes the first ``n_moves`` edges and
    ``share`` of the next one; ``z`` is the supremum of the margin over all plans.
    It is not attained only when the first vertex is a point mass exactly at ``r``
    (margin -inf there, -> 0 along the first edge, which then loses mean) and every
    plan falls short of ``r``: the plan then lies on the first edge at margin
    ``SUPREMUM_MARGIN``.
    """
    m0, v0 = 0.0, 0.0
    for b in range(start.shape[0]):
        m0 += mu[b, start[b]]
        v0 += var[b, start[b]]
    m, v = m0, v0
    best_z, best_i, best_t = _margin(m, max(v, 0.0), r), 0, 0.0
    for i in range(g.shape[0]):
        d_m = mu[g[i], k1[i]] - mu[g[i], k0[i]]
        d_v = var[g[i], k1[i]] - var[g[i], k0[i]]
        if d_m != 0.0:
            t = (m - r) / d_m - 2.0 * v / d_v  # stationary point on the edge
            if 0.0 < t < 1.0:
                z = _margin(m + t * d_m, max(v + t * d_v, 0.0), r)
                if z > best_z:
                    best_z, best_i, best_t = z, i, t
        m += d_m
        v += d_v
        z = _margin(m, max(v, 0.0), r)
        if z > best_z:
            best_z, best_i, best_t = z, i + 1, 0.0
    if best_z < 0.0 and v0 == 0.0 and m0 == r and g.shape[0] > 0:
        d_m = mu[g[0], k1[0]] - mu[g[0], k0[0]]
        d_v = var[g[0], k1[0]] - var[g[0], k0[0]]
        share = (SUPREMUM_MARGIN * math.sqrt(d_v) / d_m) ** 2
        return 0, min(share, 1.0), 0.0, False
    return best_i, best_t, best_z, True


@njit(cache=True)
def direction_margin(mu, cov, r_v, r_c, alpha, beta):
    """Supremum margin of the scalar outcome alpha Y_v - beta Y_c over all plans."""
    d_mu = alpha * mu[..., 0] - beta * mu[..., 1]
    d_var = np.maximum(
        alpha * alpha * cov[..., 0, 0]
        - 2.0 * alpha * beta * cov[..., 0, 1]
        + beta * beta * cov[..., 1, 1],
        0.0,
    )
    start, g, k0, k1 = frontier_edges(d_mu, d_var)
    return frontier_best(d_mu, d_var, start, g, k0, k1, alpha * r_v - beta * r_c)[2]
