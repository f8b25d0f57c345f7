r"""Evaluate plans chosen on one split (train) on another (test), as the paper does.

A train threshold is carried to the test split as the same relative gain over the test
split's reference totals (:func:`transfer_threshold`), or as it is.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

from pymc_robust_alloc.policy.outcomes import log_failure_probability, success_probability
from pymc_robust_alloc.policy.problem import PolicyProblem

__all__ = ["evaluate_plans", "transfer_threshold"]


def _check_splits(train: PolicyProblem, test: PolicyProblem) -> None:
    if train.mu.shape != test.mu.shape:
        raise ValueError(
            f"Train and test problems must have the same shape, got {train.mu.shape} "
            f"and {test.mu.shape}. Bucket the test split with the train split's edges."
        )
    if train.buckets != test.buckets or train.policies != test.policies:
        raise ValueError(
            "Train and test problems must have the same bucket and policy labels in "
            "the same order; got buckets "
            f"{train.buckets} vs {test.buckets} and policies {train.policies} vs "
            f"{test.policies}."
        )
    if train.reference != test.reference:
        raise ValueError("Train and test problems must share the reference policy.")


def transfer_threshold(
    train: PolicyProblem, test: PolicyProblem, threshold: ArrayLike
) -> np.ndarray:
    """Carry a train threshold to the test split as the same gain over its reference.

    Returns ``(1 + g) * R_test`` with ``g = r / R_train - 1`` per outcome, ``R`` the
    reference totals; unchanged where ``R_train`` is zero (already a relative gain).

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem, transfer_threshold
    >>> train = PolicyProblem([[100.0, 105.0]], [[1.0, 1.0]])
    >>> test = PolicyProblem([[200.0, 190.0]], [[1.0, 1.0]])
    >>> round(float(transfer_threshold(train, test, 110.0)), 9)  # +10 % over reference
    220.0
    """
    _check_splits(train, test)
    thr = np.asarray(threshold, dtype=float)
    r_train = np.asarray(train.reference_totals, dtype=float)
    r_test = np.asarray(test.reference_totals, dtype=float)
    zero = r_train == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = thr / np.where(zero, 1.0, r_train) * r_test
    return np.where(zero, thr, moved)


def evaluate_plans(
    train: PolicyProblem,
    test: PolicyProblem,
    plans: Mapping[str, ArrayLike],
    thresholds: ArrayLike,
) -> xr.Dataset:
    r"""Success probability of plans on the train split and on the test split.

    Parameters
    ----------
    train, test : PolicyProblem
        The split the plans were chosen on and the split to evaluate them on.
    plans : mapping of str to array_like
        Plans by name (e.g. the method that chose them), each of shape
        ``(T, M, K)`` (one per threshold) or ``(M, K)`` (the same at every threshold).
    thresholds : array_like
        Train thresholds, shape ``(T,)`` or ``(T, 2)``.

    Returns
    -------
    xarray.Dataset
        Dims ``(threshold, plan)``: ``C_train``, ``C_test`` (at the transferred
        thresholds), ``C_test_train_threshold`` and the ``log_failure_*``
        :math:`\log(1 - C)` of each; coordinates ``r_train`` and ``r_test``.

    Examples
    --------
    >>> import numpy as np
    >>> from pymc_robust_alloc.policy import PolicyProblem, evaluate_plans
    >>> train = PolicyProblem([[0.0, 0.02]], [[0.0, 1e-4]])  # relative outcomes
    >>> test = PolicyProblem([[0.0, 0.01]], [[0.0, 1e-4]])
    >>> plans = {"treat": np.array([[0.0, 1.0]])}
    >>> ev = evaluate_plans(train, test, plans, [0.0, 0.01])
    >>> ev["C_test"].sel(plan="treat").values.round(3)
    array([0.841, 0.5  ])
    """
    _check_splits(train, test)
    if not plans:
        raise ValueError("Expected at least one plan in plans={name: psi}.")
    thr = train.check_threshold(thresholds, batch=True)
    n_t = thr.shape[0]
    thr_test = transfer_threshold(train, test, thr)
    shape = (train.n_buckets, train.n_policies)
    names = list(plans)
    keys = ("train", "test", "same")
    out = {key: np.empty((n_t, len(names))) for key in keys}
    fail = {key: np.empty((n_t, len(names))) for key in keys}
    for j, name in enumerate(names):
        psi = np.asarray(plans[name], dtype=float)
        if psi.shape == shape:
            psi = np.broadcast_to(psi, (n_t, *shape))
        if psi.shape != (n_t, *shape):
            raise ValueError(
                f"Plan {name!r} has shape {psi.shape}; expected {shape} or "
                f"({n_t}, *{shape}), one plan per threshold."
            )
        train.check_plan(psi, name=f"plans[{name!r}]")
        for key, problem, r in (
            ("train", train, thr),
            ("test", test, thr_test),
            ("same", test, thr),
        ):
            out[key][:, j] = success_probability(problem, psi, r)
            fail[key][:, j] = log_failure_probability(problem, psi, r)
    dims = ("threshold", "plan")
    r_dims = ("threshold",) if train.n_outcomes == 1 else ("threshold", "outcome")
    coords = {
        "threshold": np.arange(n_t),
        "plan": names,
        "r_train": (r_dims, thr),
        "r_test": (r_dims, thr_test),
    }
    if train.n_outcomes == 2:
        coords["outcome"] = ["value", "cost"]
    return xr.Dataset(
        {
            "C_train": (dims, out["train"]),
            "C_test": (dims, out["test"]),
            "C_test_train_threshold": (dims, out["same"]),
            "log_failure_train": (dims, fail["train"]),
            "log_failure_test": (dims, fail["test"]),
            "log_failure_test_train_threshold": (dims, fail["same"]),
        },
        coords=coords,
    )
