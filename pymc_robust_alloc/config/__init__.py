"""Run the whole decision from a YAML or TOML file.

A config names the views (each fitted from a file), the budget, constraints and
the objectives; :func:`run_config` fits the views, allocates and writes the
plans, the regret matrix, the plots and an HTML report to an output folder. See
``pymc_robust_alloc/examples/config.yaml`` for a complete example.

:mod:`~pymc_robust_alloc.config.schema` and :mod:`~pymc_robust_alloc.config.load`
are imported at once; the running half (which loads PyMC) on first use, so a bad
config fails in well under a second.
"""

from importlib import import_module

from pymc_robust_alloc.config.load import load_config, output_folder
from pymc_robust_alloc.config.schema import (
    OBJECTIVES,
    BudgetConfig,
    ConfigError,
    FrontierConfig,
    FunctionConstraint,
    LinearConstraint,
    PortfolioEntry,
    RunConfig,
    ViewConfig,
    entry_path,
)

#: Names of the running half -> module, imported on first use (PEP 562).
_LAZY = {
    "ConfigRun": "run",
    "allocation_kwargs": "run",
    "bounds_array": "run",
    "fit_view": "run",
    "fit_views": "run",
    "run_config": "run",
    "run_frontier": "run",
    "build_constraints": "constraints",
    "FRONTIER_FILES": "write",
}

__all__ = [
    "OBJECTIVES",
    "BudgetConfig",
    "ConfigError",
    "FrontierConfig",
    "FunctionConstraint",
    "LinearConstraint",
    "PortfolioEntry",
    "RunConfig",
    "ViewConfig",
    "entry_path",
    "load_config",
    "output_folder",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f"pymc_robust_alloc.config.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'pymc_robust_alloc.config' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
