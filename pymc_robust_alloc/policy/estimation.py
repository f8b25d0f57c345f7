r"""Estimate a :class:`PolicyProblem` from RCT-level data by a seeded bootstrap.

Each row of the data is one unit of a randomised trial: the policy it received, its
bucket (or a feature cut into quantile buckets), its value and optionally its cost.
For every (bucket, policy) cell the rows are resampled with replacement and summed;
the total is scaled to the whole bucket (``n_g / n_gk`` times the cell sum: the outcome
if every unit of bucket ``g`` had received policy ``k``). The mean and the (co)variance
of the bootstrap totals are :math:`\mu_{gk}` and :math:`\Sigma_{gk}`.

With ``relative=True`` the totals are expressed, per bootstrap draw, as differences
to the reference policy in the same bucket divided by the reference policy's total
over all buckets, as the paper's private data are: the reference column is then zero
and a threshold ``r = 0.01`` reads "+1 % over the reference plan".
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import pairwise

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pymc_robust_alloc.policy.problem import PolicyProblem

__all__ = ["estimate_policy_problem", "quantile_edges"]


def quantile_edges(values: ArrayLike, n_buckets: int) -> np.ndarray:
    """Bucket edges at the quantiles of a feature, open-ended on both sides.

    Use the edges computed on a training split to bucket a test split the same way.

    Parameters
    ----------
    values : array_like
        Feature values.
    n_buckets : int
        Number of quantile buckets (fewer if quantiles tie).

    Returns
    -------
    numpy.ndarray
        Increasing edges, the first ``-inf`` and the last ``+inf``.

    Examples
    --------
    >>> from pymc_robust_alloc.policy import quantile_edges
    >>> quantile_edges([1, 2, 3, 4, 5, 6, 7, 8], 4)
    array([-inf, 2.75, 4.5 , 6.25,  inf])
    """
    values = np.asarray(values, dtype=float)
    if int(n_buckets) < 1:
        raise ValueError(f"Expected n_buckets >= 1, got {n_buckets}.")
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(
            "Expected a non-empty feature with finite values to cut into quantile "
            "buckets; drop or impute missing values first."
        )
    inner = np.quantile(values, np.linspace(0, 1, int(n_buckets) + 1)[1:-1])
    return np.concatenate([[-np.inf], np.unique(inner), [np.inf]])


def _bucket_codes(data, bucket, feature, bins):
    if (bucket is None) == (feature is None):
        raise ValueError(
            "Pass exactly one of bucket= (a column of bucket labels) or feature= (a "
            "numeric column cut into quantile buckets with bins=)."
        )
    if bucket is not None:
        codes, labels = pd.factorize(data[bucket], sort=True)
        return codes, list(labels)
    edges = quantile_edges(data[feature], bins) if np.ndim(bins) == 0 else bins
    edges = np.asarray(edges, dtype=float)
    codes = np.searchsorted(edges, data[feature].to_numpy(dtype=float), side="left") - 1
    codes = np.clip(codes, 0, len(edges) - 2)
    labels = [f"({lo:.4g}, {hi:.4g}]" for lo, hi in pairwise(edges)]
    return codes, labels


def estimate_policy_problem(
    data: pd.DataFrame,
    policy: Hashable,
    value: Hashable,
    cost: Hashable | None = None,
    *,
    bucket: Hashable | None = None,
    feature: Hashable | None = None,
    bins: int | Sequence[float] = 8,
    reference: Hashable | None = None,
    relative: bool = False,
    n_bootstrap: int = 100,
    seed: int = 0,
) -> PolicyProblem:
    r"""Estimate :math:`\mu` and :math:`\Sigma` per (bucket, policy) by bootstrap.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit of the trial.
    policy : hashable
        Column with the policy each unit received.
    value : hashable
        Column with the outcome value.
    cost : hashable, optional
        Column with the cost; gives a (value, cost) problem with their covariance.
    bucket : hashable, optional
        Column of bucket labels. Pass this or ``feature``.
    feature : hashable, optional
        Numeric column cut into buckets by ``bins``.
    bins : int or sequence of float, default 8
        Number of quantile buckets of ``feature``, or bucket edges (e.g. from
        :func:`quantile_edges` on a training split, to bucket a test split alike).
    reference : hashable, optional
        Label of the reference policy; default the first policy in sorted order.
    relative : bool, default False
        Express totals as differences to the reference policy divided by the
        reference policy's total over all buckets (per bootstrap draw).
    n_bootstrap : int, default 100
        Number of bootstrap draws per cell.
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    PolicyProblem
        With bucket and policy labels from the data.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from pymc_robust_alloc.policy import estimate_policy_problem
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({
    ...     "policy": rng.choice(["control", "treated"], 2000),
    ...     "age": rng.uniform(18, 80, 2000),
    ... })
    >>> data["sales"] = rng.normal(1.0 + 0.2 * (data["policy"] == "treated"), 1.0)
    >>> problem = estimate_policy_problem(
    ...     data, "policy", "sales", feature="age", bins=4, reference="control"
    ... )
    >>> problem.n_buckets, problem.policies
    (4, ['control', 'treated'])
    """
    for name, col in (("policy", policy), ("value", value), ("cost", cost)):
        if col is not None and col not in data.columns:
            raise ValueError(
                f"Column {col!r} (the {name} column) is not in the data; available "
                f"columns: {list(data.columns)}."
            )
    if int(n_bootstrap) < 2:
        raise ValueError(f"Expected n_bootstrap >= 2, got {n_bootstrap}.")
    g_codes, buckets = _bucket_codes(data, bucket, feature, bins)
    k_codes, policies = pd.factorize(data[policy], sort=True)
    policies = list(policies)
    if reference is None:
        ref = 0
    elif reference in policies:
        ref = policies.index(reference)
    else:
        raise ValueError(
            f"Reference policy {reference!r} does not occur in column {policy!r}; "
            f"policies found: {policies}."
        )
    columns = [value] if cost is None else [value, cost]
    y = data[columns].to_numpy(dtype=float)
    if not np.all(np.isfinite(y)):
        raise ValueError(
            f"Columns {columns} contain NaN or infinite values; drop or impute them "
            "before estimating."
        )
    m, k = len(buckets), len(policies)
    counts = np.zeros((m, k), dtype=int)
    np.add.at(counts, (g_codes, k_codes), 1)
    if np.any(counts == 0):
        empty = [(buckets[g], policies[j]) for g, j in np.argwhere(counts == 0)]
        raise ValueError(
            f"{len(empty)} (bucket, policy) cell(s) have no observations, e.g. bucket "
            f"{empty[0][0]!r} under policy {empty[0][1]!r}: their outcome cannot be "
            "estimated. Use fewer buckets (bins=), merge buckets, or drop the policy."
        )
    rng = np.random.default_rng(seed)
    totals = np.empty((int(n_bootstrap), m, k, y.shape[1]))
    order = np.lexsort((k_codes, g_codes))
    starts = np.concatenate([[0], np.cumsum(counts.ravel())])
    n_bucket = counts.sum(axis=1)
    for cell in range(m * k):
        g, j = divmod(cell, k)
        rows = y[order[starts[cell] : starts[cell + 1]]]
        n = rows.shape[0]
        step = max(1, 4_000_000 // n)  # bootstrap draws per chunk: bounded memory
        for b in range(0, int(n_bootstrap), step):
            size = min(step, int(n_bootstrap) - b)
            draws = rng.integers(0, n, size=(size, n))
            totals[b : b + size, g, j] = rows[draws].sum(axis=1) * (n_bucket[g] / n)
    if relative:
        ref_total = totals[:, :, ref].sum(axis=1)  # (B, d)
        if np.any(ref_total == 0):
            raise ValueError(
                "The reference policy's total is zero in some bootstrap draw, so "
                "relative outcomes are undefined; use relative=False."
            )
        totals = (totals - totals[:, :, ref : ref + 1]) / ref_total[:, None, None]
    mu = totals.mean(axis=0)
    centred = totals - mu
    if cost is None:
        mu, cov = mu[..., 0], (centred[..., 0] ** 2).sum(axis=0) / (n_bootstrap - 1)
    else:
        cov = np.einsum("bgkd,bgke->gkde", centred, centred) / (n_bootstrap - 1)
    return PolicyProblem(mu, cov, buckets=buckets, policies=policies, reference=ref)
