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
from pymc_robust_alloc.config import load, schema
from pymc_robust_alloc.config.load import *  # noqa: F403
from pymc_robust_alloc.config.schema import *  # noqa: F403

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

__all__ = [*schema.__all__, *load.__all__, *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
