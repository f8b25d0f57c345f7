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
        raise ValueError(f"{name} labels must be unique, got {labels}.")
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
                    f"(bucket, policy) = {tuple(bad)}."
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
        """Number of buckets M.

        Examples
        --------
        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> PolicyProblem([[2.0, 1.0], [0.5, 1.5], [1.0, 1.0]], np.ones((3, 2))).n_buckets
        3
        """
        return self.mu.shape[0]

    @property
    def n_policies(self) -> int:
        """Number of policies K.

        Examples
        --------
        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> PolicyProblem([[2.0, 1.0], [0.5, 1.5], [1.0, 1.0]], np.ones((3, 2))).n_policies
        2
        """
        return self.mu.shape[1]

    @property
    def n_outcomes(self) -> int:
        """1 for a scalar outcome, 2 for (value, cost).

        Examples
        --------
        One bucket, two policies, each with a (value, cost) mean and a flattened
        2x2 covariance ``[vv, vc, cv, cc]``:

        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> mu = [[[2.0, 1.0], [1.0, 0.5]]]
        >>> cov = [[[1.0, 0.2, 0.2, 1.0], [1.0, 0.0, 0.0, 1.0]]]
        >>> problem = PolicyProblem(mu, cov)
        >>> problem.n_outcomes, problem.cov.shape
        (2, (1, 2, 2, 2))
        """
        return 1 if self.mu.ndim == 2 else 2

    @property
    def reference_totals(self) -> np.ndarray:
        """Expected outcome of the all-reference plan (a scalar or (value, cost)).

        Examples
        --------
        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> problem = PolicyProblem([[2.0, 1.0], [0.5, 1.5]], np.ones((2, 2)), reference=1)
        >>> float(problem.reference_totals)
        2.5
        """
        return self.mu[:, self.reference].sum(axis=0)

    def reference_plan(self) -> np.ndarray:
        """Hard plan putting every bucket on the reference policy, shape (M, K).

        Examples
        --------
        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> problem = PolicyProblem(np.zeros((2, 3)), np.ones((2, 3)), reference="policy1")
        >>> problem.reference_plan()
        array([[0., 1., 0.],
               [0., 1., 0.]])
        """
        psi = np.zeros((self.n_buckets, self.n_policies))
        psi[:, self.reference] = 1.0
        return psi

    def as_plan(self, psi: ArrayLike) -> xr.DataArray:
        """Label a plan ``psi`` of shape (M, K) with dims ``(bucket, policy)``.

        Examples
        --------
        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> problem = PolicyProblem(
        ...     np.zeros((2, 2)),
        ...     np.ones((2, 2)),
        ...     buckets=["new", "returning"],
        ...     policies=["control", "treatment"],
        ... )
        >>> plan = problem.as_plan([[0.5, 0.5], [0.0, 1.0]])
        >>> plan.dims, float(plan.sel(bucket="returning", policy="treatment"))
        (('bucket', 'policy'), 1.0)
        """
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
        """Validate a plan: shape (..., M, K), finite, each row on the simplex.

        Rows may miss the simplex by ``atol`` (entries above ``-atol``, sums within
        ``atol`` of one); they are returned as given, converted to floats.

        Parameters
        ----------
        psi : array_like
            Plan, shape ``(M, K)``, or a stack of plans ``(..., M, K)``.
        name : str, default "plan"
            What the plan is, for the error message (e.g. ``"warm_start"``).
        atol : float, default 1e-6
            Tolerance of the simplex rule.

        Returns
        -------
        numpy.ndarray
            The plan as floats.

        Examples
        --------
        >>> import numpy as np
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> problem = PolicyProblem(np.zeros((2, 2)), np.ones((2, 2)))
        >>> problem.check_plan([[0.5, 0.5], [0.0, 1.0]])
        array([[0.5, 0.5],
               [0. , 1. ]])
        >>> problem.check_plan([[0.5, 0.6], [0.0, 1.0]])
        Traceback (most recent call last):
            ...
        ValueError: Each row of plan must lie on the simplex (entries >= 0 summing to 1); ...
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
                "entries; every share must be a finite number in [0, 1]."
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

    def check_threshold(self, threshold: ArrayLike, batch: bool = False) -> np.ndarray:
        """Validate a threshold: finite, ``r`` (1-D) or ``(r_v, r_c)`` (2-D).

        Parameters
        ----------
        threshold : float or array_like
            One threshold, or with ``batch=True`` a sequence of them: shape ``(T,)``
            for a 1-D outcome, ``(T, 2)`` for (value, cost).
        batch : bool, default False
            Whether several thresholds are accepted.

        Returns
        -------
        numpy.ndarray
            Shape ``()`` or ``(2,)``; with ``batch=True``, ``(T,)`` or ``(T, 2)``.

        Examples
        --------
        >>> from pymc_robust_alloc.policy import PolicyProblem
        >>> problem = PolicyProblem([[2.0, 1.0]], [[9.0, 1.0]])
        >>> problem.check_threshold([0.0, 0.5], batch=True)
        array([0. , 0.5])
        >>> problem.check_threshold([0.0, 0.5])
        Traceback (most recent call last):
            ...
        ValueError: Expected one threshold r (a scalar) for a 1-D outcome, got shape (2,). ...
        """
        t = np.asarray(threshold, dtype=float)
        if self.n_outcomes == 1:
            one, what = (), "one threshold r (a scalar)"
        else:
            one, what = (2,), "one threshold (r_v, r_c)"
        if batch:
            ok = t.ndim == len(one) + 1 and t.shape[1:] == one and t.shape[0] >= 1
            if not ok and t.shape == one:
                t, ok = t[None], True
            if not ok:
                expected = "(T,)" if self.n_outcomes == 1 else "(T, 2)"
                raise ValueError(
                    f"Expected thresholds of shape {expected} for a {self.n_outcomes}-D "
                    f"outcome, got shape {t.shape}."
                )
        elif t.shape != one:
            raise ValueError(
                f"Expected {what} for a {self.n_outcomes}-D outcome, got shape "
                f"{t.shape}. Solve several thresholds with solve_path."
            )
        if not np.all(np.isfinite(t)):
            raise ValueError(
                f"Thresholds must be finite, got {t.tolist()}. Replace NaN or infinite "
                "thresholds by the gain you require."
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
