"""Robust budget allocation across disagreeing measurement systems.

The public names are imported on first use (PEP 562), so ``import
pymc_robust_alloc`` and the ``robust-alloc`` command start without loading
PyMC.
"""

import sys
from typing import TYPE_CHECKING

from pymc_robust_alloc._lazy import lazy_exports

__version__ = "0.1.0"


def _quiet_notebook_bars() -> None:
    """Import ``tqdm.auto`` without its warning in a Jupyter kernel lacking ipywidgets.

    PyMC-Marketing imports ``tqdm.auto`` on import; in Jupyter without
    ipywidgets that warns ``TqdmWarning: IProgress not found`` and falls back to
    text bars. Importing it first, with that one warning ignored, keeps the text
    bars and the output clean (``pip install pymc-robust-alloc[jupyter]`` gives
    widget bars). Outside IPython nothing is imported.
    """
    if "IPython" not in sys.modules:
        return
    import warnings

    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found", category=TqdmWarning)
        import tqdm.auto  # noqa: F401


_quiet_notebook_bars()

#: Public name -> module that defines it.
_EXPORTS = {
    "ConvergenceWarning": "allocator",
    "RobustAllocator": "allocator",
    "allocate": "allocator",
    "python_mode": "allocator",
    "ConfigError": "config",
    "load_config": "config",
    "run_config": "config",
    "run_frontier": "config",
    "extrapolated_share": "evidence",
    "plot_evidence": "plots.evidence",
    "Frontier": "frontier",
    "MergedViews": "merge",
    "merge_views": "merge",
    "PortfolioResult": "portfolio",
    "Problem": "portfolio",
    "allocate_many": "portfolio",
    "AllocationResult": "result",
    "SolveReport": "result",
    "scale_sweep": "sensitivity",
    "log_success_probability": "success",
    "robust_success_probability": "success",
    "success_probability": "success",
    "minimax_regret": "utility",
    "normalized_regret": "utility",
    "regret_map": "utility",
    "risk_averse_regret": "utility",
    "view_values": "utility",
    "weighted_minimax_regret": "utility",
    "CurveShape": "views",
    "CurveView": "views",
    "Horizon": "views",
    "MMMView": "views",
    "ModelView": "views",
    "View": "views",
}

__all__ = [
    "AllocationResult",
    "ConfigError",
    "ConvergenceWarning",
    "CurveShape",
    "CurveView",
    "Frontier",
    "Horizon",
    "MMMView",
    "MergedViews",
    "ModelView",
    "PortfolioResult",
    "Problem",
    "RobustAllocator",
    "SolveReport",
    "View",
    "allocate",
    "allocate_many",
    "extrapolated_share",
    "load_config",
    "log_success_probability",
    "merge_views",
    "minimax_regret",
    "normalized_regret",
    "plot_evidence",
    "python_mode",
    "regret_map",
    "risk_averse_regret",
    "robust_success_probability",
    "run_config",
    "run_frontier",
    "scale_sweep",
    "success_probability",
    "view_values",
    "weighted_minimax_regret",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


if TYPE_CHECKING:  # pragma: no cover
    from pymc_robust_alloc.allocator import (
        ConvergenceWarning,
        RobustAllocator,
        allocate,
        python_mode,
    )
    from pymc_robust_alloc.config import ConfigError, load_config, run_config, run_frontier
    from pymc_robust_alloc.evidence import extrapolated_share
    from pymc_robust_alloc.frontier import Frontier
    from pymc_robust_alloc.merge import MergedViews, merge_views
    from pymc_robust_alloc.plots.evidence import plot_evidence
    from pymc_robust_alloc.portfolio import PortfolioResult, Problem, allocate_many
    from pymc_robust_alloc.result import AllocationResult, SolveReport
    from pymc_robust_alloc.sensitivity import scale_sweep
    from pymc_robust_alloc.success import (
        log_success_probability,
        robust_success_probability,
        success_probability,
    )
    from pymc_robust_alloc.utility import (
        minimax_regret,
        normalized_regret,
        regret_map,
        risk_averse_regret,
        view_values,
        weighted_minimax_regret,
    )
    from pymc_robust_alloc.views import CurveShape, CurveView, Horizon, MMMView, ModelView, View
