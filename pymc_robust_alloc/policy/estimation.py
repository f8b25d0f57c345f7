r"""Estimate a :class:`PolicyProblem` from RCT-level data by a seeded bootstrap.

Each row is one unit of a randomised trial. For every (bucket, policy) cell the rows are
resampled with replacement, summed and scaled to the whole bucket (``n_g / n_gk``
times the cell sum); the mean and (co)variance of these totals are :math:`\mu_{gk}` and
:math:`\Sigma_{gk}`. With ``relative=True`` totals are differences to the reference
policy over its total, as in the paper's private data: ``r = 0.01`` reads "+1 %".
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
    """Edges of ``n_buckets`` quantile buckets of a feature (fewer if quantiles tie).

    The first edge is ``-inf``, the last ``+inf``. Use the edges computed on a training
    split to bucket a test split the same way.

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
    policy, value : hashable
        Columns of the policy each unit received and of its outcome.
    cost : hashable, optional
        Column of the cost; gives a (value, cost) problem.
    bucket, feature : hashable, optional
        A column of bucket labels, or a numeric column cut into buckets by ``bins``
        (a number of quantile buckets, or edges from :func:`quantile_edges`).
    reference : hashable, optional
        The reference policy; default the first in sorted order.
    relative : bool, default False
        Express totals relative to the reference policy's (see the module).
    n_bootstrap, seed : int
        Bootstrap draws per cell (at least 2), and their seed.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from pymc_robust_alloc.policy import estimate_policy_problem
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({"policy": rng.choice(["control", "treated"], 2000),
    ...                      "age": rng.uniform(18, 80, 2000), "sales": rng.normal(1, 1, 2000)})
    >>> problem = estimate_policy_problem(data, "policy", "sales", feature="age", bins=4)
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
