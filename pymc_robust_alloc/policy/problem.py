"""A validated container for a policy-allocation problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike

__all__ = ["PolicyProblem"]


def _labels(labels: Sequence | None, n: int, prefix: str, name: str) -> list:
    if labels is None:
        return [f"{prefix}{i}" for i in range(n)]
    labels = list(labels)
    if len(labels) != n:
        raise ValueError(
            f"Expected {n} {name} labels (one per row of mu), got {len(labels)}. "
            f"Pass {n} labels or leave {name}=None for default labels."
        )
    if len(set(labels)) != n:
        raise ValueError(f"{name} labels must be unique, got {labels}; rename the repeats.")
    return labels


@dataclass(frozen=True)
class PolicyProblem:
    r"""Outcome statistics per (bucket, policy) for success-probability allocation.

    Under a soft allocation :math:`\psi` (rows on the simplex) the outcome is
    :math:`Y(\psi) \sim N(\sum_{g,k} \psi_{gk} \mu_{gk}, \sum_{g,k} \psi_{gk}
    \Sigma_{gk})`. One-dimensional outcomes have ``mu`` and ``cov`` of shape
    ``(M, K)`` (``cov`` holds variances); two-dimensional outcomes (value, cost) have
    ``mu`` of shape ``(M, K, 2)`` and ``cov`` of shape ``(M, K, 2, 2)`` (the flattened
    ``(M, K, 4)`` layout ``[vv, vc, cv, cc]`` is accepted).

    Parameters
    ----------
    mu : array_like
        Outcome means.
    cov : array_like
        Outcome variances (1-D) or 2x2 covariance matrices (2-D).
    buckets, policies : sequence, optional
        Labels; default ``bucket0, ...`` and ``policy0, ...``.
    reference : int or label, default 0
        The reference policy (production / control).

    Examples
    --------
    >>> from pymc_robust_alloc.policy import PolicyProblem
    >>> problem = PolicyProblem([[2.0, 1.9, 0.0]], [[9.0, 1.0, 9.0]])
    >>> problem.n_buckets, problem.n_policies, problem.n_outcomes
    (1, 3, 1)
    """

    mu: np.ndarray
    cov: np.ndarray
    buckets: list = field(default=None)
    policies: list = field(default=None)
    reference: int = 0

    def __init__(
        self,
        mu: ArrayLike,
        cov: ArrayLike,
        buckets: Sequence | None = None,
        policies: Sequence | None = None,
        reference: int | str = 0,
    ) -> None:
        mu = np.asarray(mu, dtype=float)
        cov = np.asarray(cov, dtype=float)
        if mu.ndim not in (2, 3) or (mu.ndim == 3 and mu.shape[-1] != 2):
            raise ValueError(
                "Expected mu of shape (M, K) for a 1-D outcome or (M, K, 2) for a "
                f"(value, cost) outcome, got shape {mu.shape}."
            )
        m, k = mu.shape[:2]
        if m < 1 or k < 1:
            raise ValueError(f"Expected at least one bucket and one policy, got {mu.shape}.")
        if mu.ndim == 3 and cov.shape == (m, k, 4):
            cov = cov.reshape(m, k, 2, 2)
        expected = (m, k) if mu.ndim == 2 else (m, k, 2, 2)
        if cov.shape != expected:
            layout = "" if mu.ndim == 2 else " (or (M, K, 4) flattened)"
            raise ValueError(
                f"Expected cov of shape {expected}{layout} to match mu of shape "
                f"{mu.shape}, got {cov.shape}. Check that mu and cov describe the same "
                "buckets and policies."
            )
        for name, arr in (("mu", mu), ("cov", cov)):
            if not np.all(np.isfinite(arr)):
                raise ValueError(
                    f"{name} contains {np.sum(~np.isfinite(arr))} NaN or infinite "
                    "values; every (bucket, policy) cell needs finite statistics."
                )
        if mu.ndim == 2:
            if np.any(cov < 0):
                bad = np.argwhere(cov < 0)[0].tolist()
                raise ValueError(
                    f"Variances must be non-negative, got {cov[tuple(bad)]:.3g} at "
                    f"(bucket, policy) = {tuple(bad)}; check that cell's estimate."
                )
        else:
            if not np.allclose(cov[..., 0, 1], cov[..., 1, 0], rtol=1e-8, atol=0.0):
                raise ValueError(
                    "Each 2x2 covariance must be symmetric (cov[..., 0, 1] == "
                    "cov[..., 1, 0]); got asymmetric matrices. Symmetrise them first."
                )
            cov = 0.5 * (cov + np.swapaxes(cov, -1, -2))
            var_v, var_c, cvc = cov[..., 0, 0], cov[..., 1, 1], cov[..., 0, 1]
            tol = 1e-12 * np.maximum(var_v * var_c, np.finfo(float).tiny)
            bad = (var_v < 0) | (var_c < 0) | (cvc**2 > var_v * var_c + tol)
            if np.any(bad):
                idx = tuple(np.argwhere(bad)[0].tolist())
                raise ValueError(
                    "Each 2x2 covariance must be positive semi-definite (non-negative "
                    "variances and cov_vc**2 <= var_v * var_c); got "
                    f"{cov[idx].tolist()} at (bucket, policy) = {idx}."
                )
        buckets = _labels(buckets, m, "bucket", "buckets")
        policies = _labels(policies, k, "policy", "policies")
        if not isinstance(reference, int | np.integer):
            if reference not in policies:
                raise ValueError(
                    f"Reference policy {reference!r} is not one of the policies "
                    f"{policies}. Pass its label or its index."
                )
            reference = policies.index(reference)
        if not 0 <= int(reference) < k:
            raise ValueError(f"Expected a reference policy index in [0, {k - 1}], got {reference}.")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "buckets", buckets)
        object.__setattr__(self, "policies", policies)
        object.__setattr__(self, "reference", int(reference))

    @property
    def n_buckets(self) -> int:
        """Number of buckets M."""
        return self.mu.shape[0]

    @property
    def n_policies(self) -> int:
        """Number of policies K."""
        return self.mu.shape[1]

    @property
    def n_outcomes(self) -> int:
        """1 for a scalar outcome, 2 for (value, cost)."""
        return 1 if self.mu.ndim == 2 else 2

    @property
    def reference_totals(self) -> np.ndarray:
        """Expected outcome of the all-reference plan (a scalar or (value, cost))."""
        return self.mu[:, self.reference].sum(axis=0)

    def reference_plan(self) -> np.ndarray:
        """Hard plan putting every bucket on the reference policy, shape (M, K)."""
        psi = np.zeros((self.n_buckets, self.n_policies))
        psi[:, self.reference] = 1.0
        return psi

    def as_plan(self, psi: ArrayLike) -> xr.DataArray:
        """Label a plan ``psi`` of shape (M, K) with dims ``(bucket, policy)``."""
        psi = np.asarray(psi, dtype=float)
        template = getattr(self, "_plan_template", None)
        if template is None:
            template = xr.DataArray(
                np.zeros((self.n_buckets, self.n_policies)),
                dims=("bucket", "policy"),
                coords={"bucket": self.buckets, "policy": self.policies},
                name="psi",
            )
            object.__setattr__(self, "_plan_template", template)  # a cache
        if psi.shape != template.shape:
            raise ValueError(f"Expected a plan of shape {template.shape}, got {psi.shape}.")
        return template.copy(data=psi.copy())

    def check_plan(self, psi: ArrayLike, name: str = "plan", atol: float = 1e-6) -> np.ndarray:
        """Return a plan (or a stack ``(..., M, K)`` of plans) as floats, rows on the simplex.

        Rows may miss the simplex by ``atol`` (entries above ``-atol``, sums within
        ``atol`` of one); ``name`` says what the plan is in the error message.
        """
        psi = np.asarray(psi, dtype=float)
        shape = (self.n_buckets, self.n_policies)
        if psi.ndim < 2 or psi.shape[-2:] != shape:
            raise ValueError(
                f"Expected {name} of shape {shape} (buckets, policies), got {psi.shape}."
            )
        if not np.all(np.isfinite(psi)):
            raise ValueError(
                f"{name} contains {int(np.sum(~np.isfinite(psi)))} NaN or infinite "
                "entries; give every share as a number in [0, 1]."
            )
        sums, low = psi.sum(axis=-1), psi.min(axis=-1)
        bad = (low < -atol) | (np.abs(sums - 1.0) > atol)
        if np.any(bad):
            i = tuple(np.argwhere(bad)[0].tolist())
            raise ValueError(
                f"Each row of {name} must lie on the simplex (entries >= 0 summing to 1); "
                f"row {i[-1]} sums to {sums[i]:.6g} with smallest entry {low[i]:.6g}. "
                "Normalise each row, e.g. psi / psi.sum(axis=-1, keepdims=True)."
            )
        return psi

    def check_threshold(
        self, threshold: ArrayLike, batch: bool = False, *, broadcast: bool = False
    ) -> np.ndarray:
        """Return finite thresholds ``r`` (1-D outcome) or ``(r_v, r_c)`` (2-D) as floats.

        One threshold by default: shape ``()`` or ``(2,)``. With ``batch=True`` a
        sequence of them, ``(T,)`` or ``(T, 2)`` (one threshold is promoted). With
        ``broadcast=True`` any leading axes, to broadcast against a stack of plans.
        """
        t = np.asarray(threshold, dtype=float)
        pair = self.n_outcomes == 2
        one = (2,) if pair else ()
        if broadcast:
            if pair and t.shape[-1:] != one:
                raise ValueError(
                    "A (value, cost) problem needs thresholds (r_v, r_c), an array whose "
                    f"last axis has length 2; got shape {t.shape}."
                )
        elif batch:
            if t.shape == one:
                t = t[None]
            if t.ndim != len(one) + 1 or t.shape[1:] != one or t.shape[0] < 1:
                raise ValueError(
                    f"Expected thresholds of shape {'(T, 2)' if pair else '(T,)'} for a "
                    f"{self.n_outcomes}-D outcome, got shape {t.shape}."
                )
        elif t.shape != one:
            what = "one threshold (r_v, r_c)" if pair else "one threshold r (a scalar)"
            raise ValueError(
                f"Expected {what} for a {self.n_outcomes}-D outcome, got shape "
                f"{t.shape}. Solve several thresholds with solve_path."
            )
        if not np.all(np.isfinite(t)):
            raise ValueError(
                f"Thresholds must be finite, got {t.tolist()}; give the gain you require."
            )
        return t

    @classmethod
    def from_npz(cls, path, split: str = "train", **kwargs) -> PolicyProblem:
        """Load ``{split}_mu`` and ``{split}_Sigma`` or ``{split}_cov`` from an npz.

        Examples
        --------
        ``tmp_dir`` is a folder to write to.

        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> path = tmp_dir / "policies.npz"
        >>> np.savez(path, test_mu=np.zeros((4, 3)), test_cov=np.ones((4, 3)))
        >>> problem = PolicyProblem.from_npz(path, split="test", reference=2)
        >>> problem.n_buckets, problem.n_policies, problem.reference
        (4, 3, 2)
        """
        with np.load(path) as data:
            mu = data[f"{split}_mu"]
            key = f"{split}_Sigma" if f"{split}_Sigma" in data else f"{split}_cov"
            return cls(mu, data[key], **kwargs)
