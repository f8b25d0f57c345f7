"""A config's ``constraints:`` as PyMC-Marketing ``Constraint`` objects.

A declarative entry bounds the spend per period summed over its channels (and
over every other budget cell, e.g. every geo): ``min``/``max`` in money,
``min_share``/``max_share`` as shares of the budget per period. Each bound is
one inequality ``g(budgets) >= 0``, as SciPy and ``BudgetOptimizer`` read them.
A ``function`` entry names a callable that returns ``Constraint`` objects.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pytensor.xtensor as ptx
from pymc_marketing.mmm.constraints import Constraint

from pymc_robust_alloc.config.schema import ConfigError, FunctionConstraint, LinearConstraint

__all__ = ["build_constraints", "linear_constraints", "resolve_function"]


def linear_constraints(
    spec: LinearConstraint, budget_coords: Mapping[str, Sequence], key: str
) -> list[Constraint]:
    """One inequality ``Constraint`` per bound of a declarative entry.

    Examples
    --------
    >>> spec = LinearConstraint(channels=["tv", "radio"], max_share=0.4, min=10)
    >>> [c.key for c in linear_constraints(spec, {"channel": ["tv", "radio", "web"]}, "media")]
    ['media: min', 'media: max_share']
    """
    channels = list(budget_coords["channel"])
    unknown = [c for c in spec.channels if c not in channels]
    if unknown:
        raise ConfigError(
            f"Constraint {key!r} names unknown channels {unknown}; the views' channels "
            f"are {channels}."
        )
    mask = ptx.as_xtensor(np.isin(channels, spec.channels).astype("float64"), dims=("channel",))

    def spend(budgets):
        return (budgets * mask).sum()

    # bound name -> g(spend, total) >= 0
    forms: dict[str, Callable] = {
        "min": lambda s, total, v: s - v,
        "max": lambda s, total, v: v - s,
        "min_share": lambda s, total, v: s - v * total,
        "max_share": lambda s, total, v: v * total - s,
    }
    out = []
    for bound, form in forms.items():
        value = getattr(spec, bound)
        if value is not None:
            out.append(
                Constraint(
                    key=f"{key}: {bound}",
                    constraint_type="ineq",
                    constraint_fun=lambda budgets, total, optimizer, f=form, v=value: f(
                        spend(budgets), total, v
                    ),
                )
            )
    return out


def resolve_function(spec: FunctionConstraint) -> Callable:
    """Import the callable of a ``function`` entry (``'package.module:callable'``)."""
    module, _, name = spec.function.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as err:
        raise ConfigError(
            f"Constraint function {spec.function!r} cannot be imported ({err}); give "
            "'package.module:callable' of a module on the Python path."
        ) from None


def _from_function(spec: FunctionConstraint) -> list[Constraint]:
    made = resolve_function(spec)(**(spec.model_extra or {}))
    made = [made] if isinstance(made, Constraint) else made
    if (
        not isinstance(made, Sequence)
        or not made
        or not all(isinstance(c, Constraint) for c in made)
    ):
        raise ConfigError(
            f"Constraint function {spec.function!r} returned {made!r}; it must return "
            "pymc_marketing.mmm.constraints.Constraint objects (one or a list)."
        )
    return list(made)


def build_constraints(
    specs: Sequence[LinearConstraint | FunctionConstraint], budget_coords: Mapping[str, Sequence]
) -> list[Constraint]:
    """Every ``Constraint`` of a config's ``constraints:`` list, with unique keys.

    Parameters
    ----------
    specs : sequence
        The config's entries (``RunConfig.constraints``).
    budget_coords : mapping
        Budget dims and labels of the views (``RobustAllocator.budget_coords``).

    Returns
    -------
    list of pymc_marketing.mmm.constraints.Constraint
        For ``RobustAllocator.allocate(..., constraints=...)``.

    Examples
    --------
    >>> from pymc_robust_alloc.config import RunConfig
    >>> config = RunConfig.model_validate({
    ...     "views": {}, "budget": {"total": 100.0, "num_periods": 4},
    ...     "constraints": [{"channels": ["tv", "radio"], "max_share": 0.4}],
    ... })
    >>> [c.key for c in build_constraints(config.constraints, {"channel": ["tv", "radio"]})]
    ['constraint 1 (tv, radio): max_share']
    """
    out: list[Constraint] = []
    for i, spec in enumerate(specs, start=1):
        if isinstance(spec, FunctionConstraint):
            out += _from_function(spec)
        else:
            key = spec.name or f"constraint {i} ({', '.join(spec.channels)})"
            out += linear_constraints(spec, budget_coords, key)
    keys = [c.key for c in out]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise ConfigError(f"Constraint keys {twice} are used twice; give each entry its own name.")
    return out
