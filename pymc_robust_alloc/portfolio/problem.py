"""One allocation problem of a portfolio, and how problems are checked, seeded and grouped."""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, runtime_checkable

import numpy as np

from pymc_robust_alloc.views.base import View

__all__ = ["LABELS", "Problem", "ViewSource", "check_problems"]

#: Labels a problem may carry; they become coordinates of the combined result.
LABELS = ("market", "brand", "scenario")
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\- ]*$")


@runtime_checkable
class ViewSource(Protocol):
    """Views built where the problem runs (e.g. fitted from files on a worker).

    Problems whose sources share a ``key`` share the views and one compiled allocator.
    """

    key: str

    def build(self) -> list[View]:
        """Build the views."""
        ...


@dataclass(frozen=True)
class Problem:
    """One allocation: views, a budget and the questions asked of them.

    Problems with the same view objects (or :class:`ViewSource` key), ``num_periods``
    and ``n_draws`` share one compiled allocator in
    :func:`~pymc_robust_alloc.portfolio.allocate_many`.

    Parameters
    ----------
    name : str
        Unique; names the result file (letters, digits, ``_ . -`` and spaces).
    views : sequence of View or ViewSource
        At least two views over the same channels.
    total_budget : float
        Budget per period.
    num_periods : int
        Number of decision periods.
    bounds, candidates, weights, quantile, reference_plan, required_gain
        As in :meth:`~pymc_robust_alloc.RobustAllocator.allocate`.
    n_draws : int, optional
        Posterior draws kept per view.
    labels : mapping, optional
        ``market``, ``brand`` and ``scenario`` of the problem (any subset).
    seed : int, optional
        Seed of the random starts; by default derived from the portfolio's seed and
        the problem's name, never from where or when it runs.
    options : mapping, optional
        Further keywords of ``allocate``, e.g. ``{"regret": "relative"}``.

    Examples
    --------
    ``views`` are the demo's views.

    >>> problem = Problem("FR-100", views, total_budget=100.0, num_periods=4,
    ...                   labels={"market": "FR"})
    >>> problem.labels["market"], problem.total_budget
    ('FR', 100.0)
    """

    name: str
    views: Sequence[View] | ViewSource
    total_budget: float
    num_periods: int
    bounds: Mapping | None = None
    candidates: Mapping | None = None
    weights: Mapping[str, float] | None = None
    quantile: float | None = None
    reference_plan: Mapping | None = None
    required_gain: float = 0.0
    n_draws: int | None = None
    labels: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def allocate_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :meth:`~pymc_robust_alloc.RobustAllocator.allocate`."""
        return {
            **self.options,
            "total_budget": self.total_budget,
            "bounds": self.bounds,
            "candidates": self.candidates,
            "weights": self.weights,
            "quantile": self.quantile,
            "reference_plan": self.reference_plan,
            "required_gain": self.required_gain,
            "random_seed": self.seed,
        }


def check_problems(problems: Sequence[Problem], seed: int = 0) -> list[Problem]:
    """Validate a portfolio's problems (names, labels, views) and give each its seed."""
    problems = list(problems)
    if not problems:
        raise ValueError("The portfolio has no problems; pass at least one Problem.")
    seen: set[str] = set()
    checked = []
    for problem in problems:
        if not isinstance(problem, Problem):
            raise TypeError(
                f"Expected Problem objects, got {type(problem).__name__}; build each with "
                "Problem(name, views, total_budget=..., num_periods=...)."
            )
        name = problem.name
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(
                f"Problem name {name!r} cannot name a result file; use letters, digits, "
                "'_', '.', '-' and spaces, e.g. 'FR-search-100'."
            )
        if name in seen:
            raise ValueError(
                f"Two problems are named {name!r}; every problem needs its own name "
                "(its results are stored under it)."
            )
        seen.add(name)
        unknown = sorted(set(problem.labels) - set(LABELS))
        if unknown:
            raise ValueError(
                f"Problem {name!r} has unknown labels {unknown}; labels are {list(LABELS)}."
            )
        if not isinstance(problem.views, ViewSource) and len(problem.views) < 2:
            raise ValueError(f"Problem {name!r} has {len(problem.views)} view(s); pass at least 2.")
        if problem.seed is None:
            problem = replace(problem, seed=problem_seed(seed, name))
        checked.append(problem)
    return checked


def problem_seed(seed: int, name: str) -> int:
    """Derive a problem's seed from the portfolio's seed and its name (not its position)."""
    sequence = np.random.SeedSequence(int(seed), spawn_key=(zlib.crc32(name.encode()),))
    return int(sequence.generate_state(1)[0])


def views_key(problem: Problem, ids: dict[tuple[int, ...], str]) -> str:
    """Key a problem's views: its source's key, else its views' identity (numbered in ``ids``)."""
    if isinstance(problem.views, ViewSource):
        return problem.views.key
    identity = tuple(id(v) for v in problem.views)
    return ids.setdefault(identity, f"views-{len(ids)}")


def fingerprint(problem: Problem) -> str:
    """Hash everything a problem's result depends on (inputs, draws, seed), for resuming."""
    digest = hashlib.sha256()
    settings = problem.allocate_kwargs()
    settings.update(num_periods=problem.num_periods, n_draws=problem.n_draws)
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    if isinstance(problem.views, ViewSource):
        digest.update(problem.views.key.encode())
    else:
        for view in problem.views:
            digest.update(f"{type(view).__name__}:{view.name}".encode())
            for name, array in sorted(view.posterior.data_vars.items()):
                digest.update(str(name).encode())
                digest.update(np.ascontiguousarray(array.values).tobytes())
    return digest.hexdigest()[:16]
