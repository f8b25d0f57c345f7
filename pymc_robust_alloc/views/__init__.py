"""Views: each measurement system as an optimizer-ready PyMC model."""

from pymc_robust_alloc.views.base import Horizon, View
from pymc_robust_alloc.views.curves import SATURATIONS, CurveView
from pymc_robust_alloc.views.mmm import MMM_RESPONSE, MMMView
from pymc_robust_alloc.views.model import ModelView

__all__ = ["MMM_RESPONSE", "SATURATIONS", "CurveView", "Horizon", "MMMView", "ModelView", "View"]
