"""Views: each measurement system as an optimizer-ready PyMC model."""

from pymc_robust_alloc.views.base import Horizon, View
from pymc_robust_alloc.views.curves import CurveView
from pymc_robust_alloc.views.mmm import MMM_RESPONSE, MMMView
from pymc_robust_alloc.views.model import ModelView
from pymc_robust_alloc.views.shapes import SATURATIONS, CurveShape

__all__ = [
    "MMM_RESPONSE",
    "SATURATIONS",
    "CurveShape",
    "CurveView",
    "Horizon",
    "MMMView",
    "ModelView",
    "View",
]
