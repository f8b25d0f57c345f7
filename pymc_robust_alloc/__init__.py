"""Robust budget allocation across disagreeing measurement systems."""

from pymc_robust_alloc.allocator import (
    ConvergenceWarning,
    RobustAllocator,
    allocate,
    python_mode,
)
from pymc_robust_alloc.frontier import Frontier
from pymc_robust_alloc.merge import MergedViews, merge_views
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
    risk_averse_regret,
    view_values,
    weighted_minimax_regret,
)
from pymc_robust_alloc.views import CurveView, Horizon, MMMView, ModelView, View

__version__ = "0.1.0"

__all__ = [
    "AllocationResult",
    "ConvergenceWarning",
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
    "log_success_probability",
    "merge_views",
    "minimax_regret",
    "normalized_regret",
    "python_mode",
    "risk_averse_regret",
    "robust_success_probability",
    "scale_sweep",
    "success_probability",
    "view_values",
    "weighted_minimax_regret",
]
