import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate
from scipy.special import log_ndtr, ndtr, owens_t
from scipy.stats import multivariate_normal

from pymc_robust_alloc.policy import (
    PolicyProblem,
    SuccessProbaMax,
    algorithm1,
    baseline_plans,
    bruteforce_plan,
    bvn_cdf,
    bvn_logcdf,
    bvn_logcdf_graph,
    greedy_plan,
    linprog_plan,
    log_success_probability_graph,
    mixed_int_plan,
    project_rows_to_simplex,
    success_probability,
)
from pymc_robust_alloc.policy.criteria import (
    _criterion_1d,
    _criterion_2d,
    _log_complement_1d,
    _log_complement_2d,
)
from tests.policy.cases import DATA, TABLE1_MU, TABLE1_VAR, problem_2d


def _owen_reference(h, k, r):
    """Owen (1956) formula for Phi_2, written independently for h, k != 0."""
    s = np.sqrt(1 - r * r)
    beta = 0.0 if h * k > 0 else 0.5
    return (
        0.5 * ndtr(h)
        + 0.5 * ndtr(k)
        - owens_t(h, (k - r * h) / (h * s))
        - owens_t(k, (h - r * k) / (k * s))
        - beta
    )


# ----------------------------------------------------------------------------- bvn


def test_bvn_cdf_matches_scipy_and_owens_t_to_1e12():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0, 2.5, 200), rng.normal(0, 2.5, 200)
    rho = rng.uniform(-0.999, 0.999, 200)
    got = bvn_cdf(a, b, rho)
    owen = np.array([_owen_reference(*x) for x in zip(a, b, rho, strict=True)])
    np.testing.assert_allclose(got, owen, rtol=0, atol=1e-12)
    for i in range(0, 200, 20):
        ref = multivariate_normal([0, 0], [[1, rho[i]], [rho[i], 1]]).cdf([a[i], b[i]])
        assert abs(got[i] - ref) < 1e-9  # scipy's own tolerance is looser


@pytest.mark.parametrize(
    "a, b, rho",
    [(-10, -10, 0.0), (-10, -9, 0.9), (-30, 5, 0.5), (-8, -3, -0.5), (-4, -3, 0.999)],
)
def test_bvn_logcdf_is_relatively_accurate_in_the_far_tail(a, b, rho):
    s = np.sqrt(1 - rho**2)
    x_lim, other = min(a, b), max(a, b)

    def log_f(x):
        return -0.5 * x * x - 0.5 * np.log(2 * np.pi) + log_ndtr((other - rho * x) / s)

    grid = np.linspace(x_lim - 40, x_lim, 400_001)
    top = log_f(grid).max()
    val, _ = integrate.quad(
        lambda x: np.exp(log_f(x) - top),
        x_lim - 40,
        x_lim,
        epsabs=0,
        epsrel=1e-13,
        limit=400,
        points=[grid[np.argmax(log_f(grid))]],
    )
    assert bvn_logcdf(a, b, rho) == pytest.approx(top + np.log(val), rel=1e-11)


def test_bvn_logcdf_independent_case_and_limits():
    np.testing.assert_allclose(
        bvn_logcdf([-40.0, 1.0], [-40.0, 2.0], 0.0),
        [2 * log_ndtr(-40.0), log_ndtr(1.0) + log_ndtr(2.0)],
        rtol=1e-13,
    )
    assert bvn_logcdf(np.inf, 1.3, 0.4) == pytest.approx(log_ndtr(1.3), rel=1e-14)
    assert bvn_logcdf(-np.inf, 1.3, 0.4) == -np.inf
    assert bvn_logcdf(np.inf, np.inf, 0.4) == 0.0
    # near one: log1p accuracy
    assert bvn_logcdf(9.0, 9.5, 0.3) == pytest.approx(np.log1p(-ndtr(-9.0) - ndtr(-9.5)), rel=1e-10)


def test_bvn_graph_gradient_is_closed_form():
    a, b, r = pt.dscalars("a", "b", "r")
    logp = bvn_logcdf_graph(a, b, r)
    f = pytensor.function([a, b, r], [logp, *pytensor.grad(logp, [a, b, r])])
    for x, y, rho in [(0.3, -0.4, 0.6), (-6.0, -5.0, -0.3), (2.0, 1.0, 0.95)]:
        val, ga, gb, gr = f(x, y, rho)
        s = np.sqrt(1 - rho**2)
        p = np.exp(val)
        phi = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        assert ga == pytest.approx(phi * ndtr((y - rho * x) / s) / p, rel=1e-7)
        dens = np.exp(-(x * x - 2 * rho * x * y + y * y) / (2 * s * s)) / (2 * np.pi * s)
        assert gr == pytest.approx(dens / p, rel=1e-7)
        eps = 1e-6
        fd = (bvn_logcdf(x, y + eps, rho) - bvn_logcdf(x, y - eps, rho)) / (2 * eps)
        assert gb == pytest.approx(fd, rel=1e-5)


# ------------------------------------------------------------------------ problem


@pytest.mark.parametrize(
    "mu, cov, match",
    [
        (np.zeros((2, 3)), np.ones((2, 2)), "Expected cov of shape"),
        (np.zeros((2, 3)), -np.ones((2, 3)), "non-negative"),
        (np.zeros((2, 3)), np.full((2, 3), np.nan), "NaN"),
        (
            np.zeros((2, 3, 2)),
            np.tile([1.0, 2.0, 2.0, 1.0], (2, 3, 1)),
            "semi-definite",
        ),
        (np.zeros((2, 3, 2)), np.tile([1.0, 0.0, 0.5, 1.0], (2, 3, 1)), "symmetric"),
        (np.zeros(3), np.ones(3), "Expected mu of shape"),
    ],
)
def test_problem_rejects_bad_input_with_a_fix(mu, cov, match):
    with pytest.raises(ValueError, match=match):
        PolicyProblem(mu, cov)


def test_problem_rejects_missing_reference_policy():
    with pytest.raises(ValueError, match="Reference policy"):
        PolicyProblem(np.zeros((1, 2)), np.ones((1, 2)), policies=["a", "b"], reference="c")
    with pytest.raises(ValueError, match="reference policy index"):
        PolicyProblem(np.zeros((1, 2)), np.ones((1, 2)), reference=5)


def test_problem_accepts_flattened_covariance():
    p = PolicyProblem(np.zeros((2, 2, 2)), np.tile([1.0, 0.2, 0.2, 2.0], (2, 2, 1)))
    assert p.cov.shape == (2, 2, 2, 2) and p.n_outcomes == 2


# ----------------------------------------------------------------------- criteria


@pytest.fixture(scope="module")
def compiled_2d():
    problem = problem_2d(3)
    psi, r = pt.dmatrix("psi"), pt.dvector("r")
    logc = log_success_probability_graph(psi, problem.mu, problem.cov, r)
    return problem, pytensor.function([psi, r], [logc, pytensor.grad(logc, psi)])


def test_2d_criterion_is_one_orthant_probability_matching_monte_carlo(compiled_2d):
    problem, _ = compiled_2d
    psi = np.random.default_rng(0).dirichlet(np.ones(3), size=3)
    m = np.einsum("gk,gkd->d", psi, problem.mu)
    V = np.einsum("gk,gkde->de", psi, problem.cov)
    y = np.random.default_rng(1).multivariate_normal(m, V, size=400_000)
    r = np.array([m[0] - 0.5, m[1] + 0.3])
    mc = np.mean((y[:, 0] > r[0]) & (y[:, 1] <= r[1]))
    assert success_probability(problem, psi, r) == pytest.approx(mc, abs=4e-3)
    # and equals Phi_c(r_c) - P(Y_v <= r_v, Y_c <= r_c) from scipy
    joint = multivariate_normal(m, V).cdf(r)
    direct = ndtr((r[1] - m[1]) / np.sqrt(V[1, 1])) - joint
    assert success_probability(problem, psi, r) == pytest.approx(direct, abs=1e-7)


def test_pytensor_and_numpy_criteria_agree_with_finite_differences(compiled_2d):
    problem, f = compiled_2d
    psi = np.random.default_rng(2).dirichlet(np.ones(3), size=3)
    for r in ([0.0, 0.5], [3.0, -2.0]):
        val, grad = f(psi, np.array(r))
        np_val, np_grad = _criterion_2d(psi, problem.mu, problem.cov, *r, grad=True)
        assert val == pytest.approx(np_val, rel=1e-12)
        np.testing.assert_allclose(grad, np_grad, rtol=1e-6, atol=1e-9)
        eps, fd = 1e-6, np.zeros_like(psi)
        for idx in np.ndindex(psi.shape):
            e = np.zeros_like(psi)
            e[idx] = eps
            # the criterion off the simplex (the public function refuses such plans)
            fd[idx] = (
                _criterion_2d(psi + e, problem.mu, problem.cov, *r)
                - _criterion_2d(psi - e, problem.mu, problem.cov, *r)
            ) / (2 * eps)
        np.testing.assert_allclose(np_grad, fd, rtol=1e-5, atol=1e-7)


def test_1d_criterion_is_normal_tail_with_exact_gradient():
    problem = PolicyProblem(TABLE1_MU, TABLE1_VAR)
    psi = np.full((3, 3), 1 / 3)
    m, v = (psi * TABLE1_MU).sum(), (psi * TABLE1_VAR).sum()
    assert success_probability(problem, psi, 1.0) == pytest.approx(
        ndtr((m - 1.0) / np.sqrt(v)), rel=1e-14
    )
    p, r = pt.dmatrix("psi"), pt.dscalar("r")
    logc = log_success_probability_graph(p, TABLE1_MU, TABLE1_VAR, r)
    f = pytensor.function([p, r], [logc, pytensor.grad(logc, p)])
    val, grad = f(psi, 40.0)  # far tail: finite log and gradient
    np_val, np_grad = _criterion_1d(psi, TABLE1_MU, TABLE1_VAR, 40.0, grad=True)
    # PyMC normal_lcdf (erfcx) is accurate to ~1e-9 relative in the tail
    assert np.isfinite(val) and val == pytest.approx(np_val, rel=1e-8)
    np.testing.assert_allclose(grad, np_grad, rtol=1e-7)


def test_zero_variance_plan_is_a_point_mass_without_nan():
    mu = np.array([[0.0, 1.0], [0.0, 1.0]])
    problem = PolicyProblem(mu, np.array([[0.0, 1.0], [0.0, 1.0]]))
    ref = problem.reference_plan()
    assert success_probability(problem, ref, -0.1) == 1.0
    assert success_probability(problem, ref, 0.0) == 0.0  # Y > r is strict
    p, r = pt.dmatrix("psi"), pt.dscalar("r")
    logc = log_success_probability_graph(p, mu, problem.cov, r)
    g = pytensor.function([p, r], pytensor.grad(logc, p))(ref, -0.1)
    assert np.all(np.isfinite(g))
    mu2 = np.zeros((1, 2, 2))
    cov2 = np.zeros((1, 2, 2, 2))
    cov2[0, 1] = np.eye(2)
    p2 = PolicyProblem(mu2, cov2)
    assert success_probability(p2, p2.reference_plan(), (-1.0, 0.0)) == 1.0
    assert success_probability(p2, p2.reference_plan(), (-1.0, -1.0)) == 0.0


# ------------------------------------------------------------------ solvers, baselines


def test_projection_onto_simplex_is_the_closest_point():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(50, 4))
    proj = project_rows_to_simplex(v)
    np.testing.assert_allclose(proj.sum(-1), 1.0)
    assert np.all(proj >= 0)
    other = rng.dirichlet(np.ones(4), size=(50, 200))
    d_other = ((other - v[:, None]) ** 2).sum(-1).min(-1)
    assert np.all(((proj - v) ** 2).sum(-1) <= d_other + 1e-12)


@pytest.fixture(scope="module")
def table1():
    return PolicyProblem(TABLE1_MU, TABLE1_VAR)


@pytest.mark.parametrize("r", [2.0, 4.0, 5.5, 8.0])
def test_success_proba_max_beats_bruteforce_and_random_starts_on_table1(table1, r):
    result = SuccessProbaMax(table1).solve(r)
    best_hard = success_probability(table1, bruteforce_plan(table1, r), r)
    assert result.probability >= best_hard - 1e-9
    draws = np.random.default_rng(5).dirichlet(np.ones(3), size=(20_000, 3))
    assert result.probability >= success_probability(table1, draws, r).max() - 1e-9
    assert result.beats_baselines and result.psi.dims == ("bucket", "policy")


def test_success_proba_max_beats_baselines_in_2d():
    problem = problem_2d(7)
    solver = SuccessProbaMax(problem)
    for r in ([0.5, 0.5], [1.5, 0.0], [-1.0, -1.0]):
        result = solver.solve(r)
        for name, psi in baseline_plans(problem, r).items():
            assert result.probability >= success_probability(problem, psi, r) - 1e-9, name


def test_unreachable_threshold_is_flagged_with_a_fallback_plan(table1):
    with pytest.warns(RuntimeWarning, match="success probability is 0"):
        result = SuccessProbaMax(table1).solve(500.0)
    assert not result.reachable and "unreachable" in result.message
    assert np.isfinite(result.log_probability)


def test_solver_is_seeded_and_reproducible(table1):
    a = SuccessProbaMax(table1, seed=3).solve(5.0)
    b = SuccessProbaMax(table1, seed=3).solve(5.0)
    np.testing.assert_array_equal(a.psi.values, b.psi.values)


def test_algorithm1_improves_on_its_start_and_never_beats_the_solver(table1):
    [res] = algorithm1(table1, [4.0], eta=0.01, n_steps=300, n_dirichlet=500)
    uniform = success_probability(table1, np.full((3, 3), 1 / 3), 4.0)
    assert res.probability >= uniform
    assert SuccessProbaMax(table1).solve(4.0).probability >= res.probability - 1e-9


def test_bruteforce_refuses_large_problems(table1):
    with pytest.raises(ValueError, match="max_plans"):
        bruteforce_plan(table1, 1.0, max_plans=10)


def test_lp_and_milp_respect_the_cost_budget():
    problem = problem_2d(4, m=4, k=3)
    r_c = float(problem.mu[..., 1].min(1).sum() + 0.5)
    for plan in (
        linprog_plan(problem, (0.0, r_c)),
        mixed_int_plan(problem, (0.0, r_c)),
    ):
        assert (plan * problem.mu[..., 1]).sum() <= r_c + 1e-9
    hard = mixed_int_plan(problem, (0.0, r_c))
    assert set(np.unique(hard)) <= {0.0, 1.0}
    assert (linprog_plan(problem, (0.0, r_c)) * problem.mu[..., 0]).sum() >= (
        hard * problem.mu[..., 0]
    ).sum() - 1e-9
    np.testing.assert_array_equal(greedy_plan(problem).argmax(1), problem.mu[..., 0].argmax(1))


# ---------------------------------------------------------------- the paper's data


@pytest.mark.skipif(not DATA.exists(), reason="shared benchmark data not available")
def test_private_1d_optimum_beats_every_hard_plan():
    problem = PolicyProblem.from_npz(DATA / "rtb_private_1d_9buckets_3policies.npz")
    solver = SuccessProbaMax(problem)
    for r in (0.02, 0.03, 0.035):
        result = solver.solve(r)
        assert (
            result.probability
            >= success_probability(problem, bruteforce_plan(problem, r), r) - 1e-9
        )


# ------------------------------------------------------------ near one: log(1 - C)


def test_log_complement_is_relatively_accurate_where_c_rounds_to_one():
    mu = np.array([[[8.0, -8.5]]])  # a = 8, b = 8.5 after standardising
    cov = np.array([[[[1.0, 0.3], [0.3, 1.0]]]])
    problem = PolicyProblem(mu, cov)
    psi = np.ones((1, 1))
    # 1 - C = P(Y_v <= 0) + P(Y_v > 0, Y_c > 0), the second by conditioning on Y_v
    s = np.sqrt(1 - 0.3**2)
    both, _ = integrate.quad(
        lambda y: (
            np.exp(-0.5 * (y - 8) ** 2) / np.sqrt(2 * np.pi) * ndtr((-8.5 + 0.3 * (y - 8)) / s)
        ),
        0.0,
        40.0,  # the integrand is below 1e-300 beyond
        epsabs=0,
        epsrel=1e-12,
        points=[8.0],
        limit=200,
    )
    expected = np.log(ndtr(-8.0) + both)
    assert 1.0 - success_probability(problem, psi, (0.0, 0.0)) < 1e-14
    got = _log_complement_2d(psi, problem.mu, problem.cov, 0.0, 0.0)
    assert got == pytest.approx(expected, rel=1e-10)
    got_1d = _log_complement_1d(psi, np.array([[9.0]]), np.array([[1.0]]), 0.0)
    assert got_1d == pytest.approx(log_ndtr(-9.0), rel=1e-13)


def test_success_proba_max_polishes_c_near_one_on_the_complement():
    # C ~ 1 - 1e-9 at the optimum: log C alone cannot resolve differences of 1e-12
    problem = problem_2d(11, m=3, k=3)
    threshold = np.array([-14.0, 13.0])
    result = SuccessProbaMax(problem).solve(threshold)
    draws = np.random.default_rng(0).dirichlet(np.ones(3), size=(20_000, 3))
    logq_draws = _log_complement_2d(draws, problem.mu, problem.cov, *threshold)
    logq = _log_complement_2d(result.psi.values, problem.mu, problem.cov, *threshold)
    assert 1e-14 < np.exp(logq) < 1e-3  # the regime of interest
    assert logq <= logq_draws.min() + 1e-9
    for start in ("uniform", greedy_plan(problem)):
        [alg] = algorithm1(problem, [threshold], eta=1e-3, n_steps=2000, start=start)
        assert result.probability >= alg.probability - 1e-12
        assert (
            logq <= _log_complement_2d(alg.psi.values, problem.mu, problem.cov, *threshold) + 1e-6
        )


@pytest.mark.skipif(not DATA.exists(), reason="shared benchmark data not available")
def test_criteo_near_one_thresholds_match_many_random_starts():
    problem = PolicyProblem.from_npz(DATA / "criteo_uplift_v2_2d_8buckets.npz")
    solver = SuccessProbaMax(problem)
    checker = SuccessProbaMax(problem, n_random=200, n_local=6, seed=123)
    for gains in ([0.05, 0.1], [0.2, 0.15], [0.0, 0.1]):
        threshold = (1 + np.array(gains)) * problem.reference_totals
        result = solver.solve(threshold)
        other = checker.solve(threshold)
        draws = np.random.default_rng(1).dirichlet(np.ones(2), size=(20_000, 8))
        assert result.probability >= success_probability(problem, draws, threshold).max() - 1e-12
        assert result.probability >= other.probability - 1e-12
