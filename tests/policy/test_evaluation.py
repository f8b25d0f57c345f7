import numpy as np
import pandas as pd
import pytest
from scipy.special import log_ndtr

from pymc_robust_alloc.policy import (
    PolicyProblem,
    SuccessProbaMax,
    estimate_policy_problem,
    evaluate_plans,
    greedy_plan,
    quantile_edges,
    success_probability,
    transfer_threshold,
)


def _splits_2d():
    mu = np.array([[[10.0, 5.0], [11.0, 6.0]], [[20.0, 8.0], [19.0, 7.0]]])
    cov = np.tile(np.array([[1.0, 0.2], [0.2, 0.5]]), (2, 2, 1, 1))
    train = PolicyProblem(mu, cov)
    test = PolicyProblem(1.5 * mu, cov)
    return train, test


def test_threshold_is_carried_as_the_same_gain_over_the_test_reference():
    train, test = _splits_2d()
    gain = np.array([0.05, -0.02])
    r_train = (1 + gain) * train.reference_totals
    r_test = transfer_threshold(train, test, r_train)
    np.testing.assert_allclose(r_test / test.reference_totals - 1, gain, rtol=1e-12)
    # already relative (zero reference totals): unchanged
    rel = PolicyProblem([[0.0, 0.01]], [[0.0, 1e-4]])
    assert transfer_threshold(rel, rel, 0.02) == 0.02


def test_evaluation_matches_direct_success_probabilities():
    train, test = _splits_2d()
    thresholds = np.array([[30.0, 13.0], [31.0, 14.0], [29.0, 12.5]])
    plans = {
        "greedy": greedy_plan(train),
        "per_threshold": np.stack([SuccessProbaMax(train).solve(t).psi.values for t in thresholds]),
    }
    ev = evaluate_plans(train, test, plans, thresholds)
    assert ev["C_train"].dims == ("threshold", "plan")
    for i, t in enumerate(thresholds):
        psi = plans["per_threshold"][i]
        t_test = (t / train.reference_totals) * test.reference_totals
        assert float(
            ev["C_train"].isel(threshold=i).sel(plan="per_threshold")
        ) == success_probability(train, psi, t)
        assert float(ev["C_test"].isel(threshold=i).sel(plan="per_threshold")) == pytest.approx(
            float(success_probability(test, psi, t_test)), rel=1e-12
        )
        assert float(
            ev["C_test_train_threshold"].isel(threshold=i).sel(plan="per_threshold")
        ) == pytest.approx(float(success_probability(test, psi, t)), rel=1e-12)
    np.testing.assert_allclose(ev["r_test"].values[0] / test.reference_totals, [1, 1])


def test_mismatched_splits_and_plans_are_rejected():
    train, test = _splits_2d()
    other = PolicyProblem(train.mu, train.cov, buckets=["x", "y"])
    with pytest.raises(ValueError, match="same bucket and policy labels"):
        evaluate_plans(train, other, {"g": greedy_plan(train)}, [[30.0, 13.0]])
    with pytest.raises(ValueError, match="expected"):
        evaluate_plans(train, test, {"g": np.ones((3, 2, 2)) / 2}, [[30.0, 13.0]])


def test_plan_chosen_on_train_is_evaluated_on_a_test_split_end_to_end():
    rng = np.random.default_rng(0)
    n = 8000
    data = pd.DataFrame({"x": rng.uniform(size=n), "policy": rng.choice(["ctrl", "new"], n)})
    # the new policy helps only for large x
    lift = np.where(data["policy"] == "new", np.where(data["x"] > 0.5, 0.4, -0.4), 0)
    data["value"] = 1.0 + lift + rng.normal(size=n)
    train_df, test_df = data.iloc[: n // 2], data.iloc[n // 2 :]
    edges = quantile_edges(train_df["x"], 4)
    kwargs = dict(feature="x", bins=edges, relative=True, n_bootstrap=200)
    train = estimate_policy_problem(train_df, "policy", "value", **kwargs)
    test = estimate_policy_problem(test_df, "policy", "value", seed=1, **kwargs)
    result = SuccessProbaMax(train).solve(0.0)
    # new for the two upper buckets, control for the two lower ones
    np.testing.assert_array_equal(result.psi.values.argmax(1), [0, 0, 1, 1])
    ev = evaluate_plans(train, test, {"spm": result.psi.values}, [0.0])
    assert float(ev["C_test"].item()) > 0.9


def test_log_failure_is_accurate_where_c_rounds_to_one():
    train = PolicyProblem([[0.0, 12.0]], [[1.0, 1.0]])
    test = PolicyProblem([[0.0, 9.0]], [[1.0, 1.0]])
    ev = evaluate_plans(train, test, {"treat": np.array([[0.0, 1.0]])}, [0.0])
    assert float(ev["C_train"][0, 0]) == 1.0
    assert float(ev["log_failure_train"][0, 0]) == pytest.approx(log_ndtr(-12.0), rel=1e-12)
    assert float(ev["log_failure_test_train_threshold"][0, 0]) == pytest.approx(
        log_ndtr(-9.0), rel=1e-12
    )


def test_plan_off_the_simplex_is_named_in_the_error():
    problem = PolicyProblem([[0.0, 1.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match=r"Each row of plans\['bad'\] .* sums to 0\.01"):
        evaluate_plans(problem, problem, {"bad": np.array([[0.005, 0.005]])}, [0.0])


def test_thresholds_of_the_wrong_shape_are_refused():
    problem = PolicyProblem([[[0.0, 0.0], [1.0, 1.0]]], np.ones((1, 2, 2, 2)) * np.eye(2))
    with pytest.raises(ValueError, match=r"thresholds of shape \(T, 2\) .* got shape \(2, 3\)"):
        evaluate_plans(problem, problem, {"a": np.array([[1.0, 0.0]])}, np.zeros((2, 3)))
