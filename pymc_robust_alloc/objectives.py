r"""The allocator's objectives: PyTensor shared parameters and per-view criteria.

Each objective exposes :class:`~pymc_robust_alloc.engine.Criterion` objects the
:class:`~pymc_robust_alloc.engine.Engine` compiles once; :meth:`using` sets the
parameters for one block of solves.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import pytensor
from pytensor.compile.sharedvalue import SharedVariable

from pymc_robust_alloc.engine import Criterion
from pymc_robust_alloc.names import SAMPLE
from pymc_robust_alloc.success import log_success_probability
from pymc_robust_alloc.utility import view_values

__all__ = ["RegretObjective", "SuccessObjective"]


class _Parameters:
    """Shared variables set for a block of solves and restored after it.

    :attr:`version` counts the changes, so evaluations can be remembered per
    setting of the parameters.
    """

    version: int = 0

    def parameters(self) -> dict[str, SharedVariable]:
        """Return the shared variables, by attribute name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, SharedVariable)}

    def state(self) -> int:
        """Return :attr:`version`: a :attr:`~pymc_robust_alloc.engine.Criterion.state`."""
        return self.version

    def _shared(self, name: str, value) -> SharedVariable:
        return pytensor.shared(np.asarray(value, dtype="float64"), name=name)

    @contextmanager
    def using(self, **values) -> Iterator[None]:
        """Set parameters (by attribute name) inside the block; restore them on exit.

        Examples
        --------
        >>> objective = RegretObjective(baseline=np.zeros((4, 2)))
        >>> with objective.using(scale=[2.0, 1.0]):
        ...     objective.scale.get_value().tolist()
        [2.0, 1.0]
        >>> objective.scale.get_value().tolist()
        [1.0, 1.0]
        """
        previous = {name: getattr(self, name).get_value() for name in values}
        try:
            self.version += 1
            for name, value in values.items():
                getattr(self, name).set_value(np.asarray(value, dtype="float64"))
            yield
        finally:
            self.version += 1
            for name, value in previous.items():
                getattr(self, name).set_value(value)


def _own_draws(samples, n: int | None):
    """Return a view's own draws: the first ``n`` of the merged chain (the rest repeat them)."""
    return samples if n is None else samples.isel({SAMPLE: slice(0, n)})


class RegretObjective(_Parameters):
    """Each view's value of a plan: the mean, or a lower quantile, of its increment.

    ``baseline`` is the zero-plan response, shape ``(sample, view)``; ``draws``
    each view's own draws (see :class:`~pymc_robust_alloc.MergedViews`). The
    shared parameters are ``baseline``, ``scale``, ``quantile`` and ``bandwidth``.
    """

    def __init__(self, baseline: np.ndarray, draws: Sequence[int] | None = None) -> None:
        n_views = np.shape(baseline)[1]
        self.draws = [None] * n_views if draws is None else [int(n) for n in draws]
        self.baseline = self._shared("baseline", baseline)
        self.scale = self._shared("response_scale", np.ones(n_views))
        self.quantile = self._shared("quantile", 0.1)
        self.bandwidth = self._shared("quantile_bandwidth", 0.0)
        self.value = Criterion("value", self._build, self.state)
        self.quantile_value = Criterion("quantile value", self._build_quantile, self.state)

    def _build(self, samples, m: int):
        n = self.draws[m]
        return view_values(
            _own_draws(samples, n),
            baseline=self.baseline[:n, m : m + 1],
            scale=self.scale[m : m + 1],
        )

    def _build_quantile(self, samples, m: int):
        n = self.draws[m]
        return view_values(
            _own_draws(samples, n),
            baseline=self.baseline[:n, m : m + 1],
            scale=self.scale[m : m + 1],
            quantile=self.quantile,
            bandwidth=self.bandwidth,
        )


class SuccessObjective(_Parameters):
    r""":math:`\log P_m(V(a) \ge (1 + r) V(a_{ref}))` per view, draws paired.

    Shares the regret objective's ``baseline``; its own shared parameters are
    ``reference`` (responses per draw and view) and ``required_gain``.
    """

    def __init__(self, baseline: SharedVariable, draws: Sequence[int] | None = None) -> None:
        self.baseline = baseline
        n_views = np.shape(baseline.get_value())[1]
        self.draws = [None] * n_views if draws is None else [int(n) for n in draws]
        self.reference = self._shared("reference", baseline.get_value() + 1.0)
        self.required_gain = self._shared("required_gain", 0.0)
        self._criteria: dict[str, Criterion] = {}

    def criterion(self, method: str) -> Criterion:
        """Return the log success probability estimated by ``method`` (one criterion per method)."""
        if method not in self._criteria:
            build = functools.partial(self._build, method=method)
            self._criteria[method] = Criterion(f"log success ({method})", build, self.state)
        return self._criteria[method]

    def _build(self, samples, m: int, method: str):
        n = self.draws[m]
        return log_success_probability(
            _own_draws(samples, n),
            self.reference[:n, m : m + 1],
            required_gain=self.required_gain,
            baseline=self.baseline[:n, m : m + 1],
            method=method,
        )
