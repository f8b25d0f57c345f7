"""Small seeded policy problems shared by the policy tests."""

from pathlib import Path

import numpy as np

from pymc_robust_alloc.policy import PolicyProblem

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "success_proba_max"

TABLE1_MU = np.array([[2.0, 1.9, 0.0], [2.0, 1.0, 0.0], [2.0, 1.0, 0.0]])
TABLE1_VAR = np.array([[9.0, 1.0, 9.0], [9.0, 1.0, 9.0], [1.0, 1.0, 1.0]])


def problem_1d(seed, m=4, k=3, reference_point_mass=False):
    """Random scalar-outcome problem; optionally policy 0 is a point mass at 0."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(m, k))
    var = rng.uniform(0.1, 3.0, size=(m, k))
    if reference_point_mass:
        mu[:, 0], var[:, 0] = 0.0, 0.0
    return PolicyProblem(mu, var)


def problem_2d(seed=0, m=3, k=3):
    """Random (value, cost) problem with correlations in [-0.8, 0.8]."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(size=(m, k, 2))
    sd = rng.uniform(0.5, 2.0, size=(m, k, 2))
    corr = rng.uniform(-0.8, 0.8, size=(m, k))
    cov = np.empty((m, k, 2, 2))
    cov[..., 0, 0], cov[..., 1, 1] = sd[..., 0] ** 2, sd[..., 1] ** 2
    cov[..., 0, 1] = cov[..., 1, 0] = corr * sd[..., 0] * sd[..., 1]
    return PolicyProblem(mu, cov)
