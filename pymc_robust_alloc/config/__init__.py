"""Run the whole decision from a YAML or TOML file.

A config names the views (each fitted from a file), the budget, constraints and
the objectives; :func:`run_config` fits the views, allocates and writes the
plans, the regret matrix, the plots and an HTML report to an output folder. See
``pymc_robust_alloc/examples/config.yaml`` for a complete example.

:mod:`~pymc_robust_alloc.config.schema` and :mod:`~pymc_robust_alloc.config.load`
are imported at once; the running half (which loads PyMC) on first use, so a bad
config fails in well under a second.
"""

from pymc_robust_alloc._lazy import lazy_exports
from pymc_robust_alloc.config.load import load_config, output_folder
from pymc_robust_alloc.config.schema import (
    OBJECTIVE_MODELS,
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
    "OBJECTIVE_MODELS",
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


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
