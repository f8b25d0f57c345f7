import numpy as np
import pandas as pd
import pytest

from pymc_robust_alloc.policy import estimate_policy_problem, quantile_edges


def _trial(seed=0, n=6000, rho=0.0):
    """Two buckets, two policies; value and cost correlated per unit with rho."""
    rng = np.random.default_rng(seed)
    bucket = rng.choice(["a", "b"], n, p=[0.4, 0.6])
    policy = rng.choice(["ctrl", "new"], n, p=[0.5, 0.5])
    mean = np.where(bucket == "a", 1.0, 2.0) + 0.5 * (policy == "new")
    z = rng.multivariate_normal([0, 0], [[1, rho], [rho, 1]], size=n)
    return pd.DataFrame(
        {
            "bucket": bucket,
            "policy": policy,
            "value": mean + z[:, 0],
            "cost": 0.3 + z[:, 1],
            "x": rng.uniform(size=n),
        }
    )


def test_bootstrap_mean_and_variance_match_the_plug_in_total():
    data = _trial()
    problem = estimate_policy_problem(
        data, "policy", "value", bucket="bucket", n_bootstrap=1000, seed=1
    )
    assert problem.buckets == ["a", "b"] and problem.policies == ["ctrl", "new"]
    for g, b in enumerate(problem.buckets):
        n_g = (data["bucket"] == b).sum()
        for k, p in enumerate(problem.policies):
            cell = data.loc[(data["bucket"] == b) & (data["policy"] == p), "value"]
            total = n_g * cell.mean()  # the whole bucket under policy p
            var = n_g**2 * cell.var() / len(cell)  # variance of that scaled total
            assert problem.mu[g, k] == pytest.approx(total, abs=4 * np.sqrt(var / 1000))
            # relative standard error of a variance from 1000 draws: ~4.5 %
            assert problem.cov[g, k] == pytest.approx(var, rel=0.15)


def test_relative_outcomes_have_a_zero_reference_column_and_read_as_gains():
    data = _trial(2)
    absolute = estimate_policy_problem(
        data, "policy", "value", bucket="bucket", n_bootstrap=300, seed=3
    )
    relative = estimate_policy_problem(
        data, "policy", "value", bucket="bucket", n_bootstrap=300, seed=3, relative=True
    )
    np.testing.assert_array_equal(relative.mu[:, 0], 0.0)
    np.testing.assert_array_equal(relative.cov[:, 0], 0.0)
    ref_total = absolute.mu[:, 0].sum()
    expected = (absolute.mu[:, 1] - absolute.mu[:, 0]) / ref_total
    np.testing.assert_allclose(relative.mu[:, 1], expected, rtol=0.02)
    # the treated-everywhere plan gains 0.5 per unit over a total of ~1.6 per unit
    assert relative.mu[:, 1].sum() == pytest.approx(0.5 / 1.6, rel=0.15)


def test_value_cost_covariance_follows_the_unit_level_correlation():
    data = _trial(4, rho=0.7)
    problem = estimate_policy_problem(
        data, "policy", "value", "cost", bucket="bucket", n_bootstrap=400, seed=5
    )
    assert problem.n_outcomes == 2 and problem.cov.shape == (2, 2, 2, 2)
    cov = problem.cov
    corr = cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
    np.testing.assert_allclose(corr, 0.7, atol=0.12)


def test_feature_is_cut_into_quantile_buckets_reusable_on_another_split():
    data = _trial(6)
    edges = quantile_edges(data["x"], 4)
    assert edges[0] == -np.inf and edges[-1] == np.inf and len(edges) == 5
    a = estimate_policy_problem(data, "policy", "value", feature="x", bins=4)
    b = estimate_policy_problem(data, "policy", "value", feature="x", bins=edges)
    assert a.buckets == b.buckets and a.n_buckets == 4
    np.testing.assert_array_equal(a.mu, b.mu)  # same seed, same buckets
    counts = np.histogram(data["x"], bins=np.r_[0, edges[1:-1], 1])[0]
    assert counts.max() - counts.min() <= 1


def test_bootstrap_is_seeded():
    data = _trial(7)
    a = estimate_policy_problem(data, "policy", "value", bucket="bucket", seed=9)
    b = estimate_policy_problem(data, "policy", "value", bucket="bucket", seed=9)
    np.testing.assert_array_equal(a.cov, b.cov)


def test_bucket_without_observations_for_a_policy_is_a_clear_error():
    data = _trial(8)
    data = data[~((data["bucket"] == "b") & (data["policy"] == "new"))]
    with pytest.raises(ValueError, match="bucket 'b' under policy 'new'"):
        estimate_policy_problem(data, "policy", "value", bucket="bucket")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bucket": "bucket", "reference": "old"}, "Reference policy 'old'"),
        ({"bucket": "bucket", "feature": "x"}, "exactly one of"),
        ({}, "exactly one of"),
        ({"bucket": "bucket", "cost": "spend"}, "Column 'spend'"),
    ],
)
def test_bad_arguments_are_explained(kwargs, match):
    data = _trial(9, n=400)
    with pytest.raises(ValueError, match=match):
        estimate_policy_problem(data, "policy", "value", **kwargs)
