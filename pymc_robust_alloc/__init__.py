"""Robust budget allocation across disagreeing measurement systems."""

from pymc_robust_alloc.merge import MergedViews, merge_views
from pymc_robust_alloc.views import CurveView, Horizon, ModelView, View

__version__ = "0.1.0"

__all__ = [
    "CurveView",
    "Horizon",
    "MergedViews",
    "ModelView",
    "View",
    "merge_views",
]
