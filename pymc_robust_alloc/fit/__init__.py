"""Views from measurement data: fit tables and lift tests, or load draws.

Every fitter returns a :class:`FitResult` whose ``view`` is a
:class:`~pymc_robust_alloc.CurveView` ready for the allocator.
"""

from pymc_robust_alloc.fit.bayesian import fit_bayesian
from pymc_robust_alloc.fit.diagnostics import fit_summary, r_squared
from pymc_robust_alloc.fit.draws import draws_from_frame, view_from_draws
from pymc_robust_alloc.fit.least_squares import fit_least_squares
from pymc_robust_alloc.fit.lift_tests import check_lift_tests, fit_lift_tests
from pymc_robust_alloc.fit.result import FitResult
from pymc_robust_alloc.fit.sampling import sampler_diagnostics
from pymc_robust_alloc.fit.tables import as_spend_response, check_spend, parse_dates, read_table
from pymc_robust_alloc.plots.fits import plot_fit
from pymc_robust_alloc.views.shapes import CurveShape, resolve_adstock

__all__ = [
    "CurveShape",
    "FitResult",
    "as_spend_response",
    "check_lift_tests",
    "check_spend",
    "draws_from_frame",
    "fit_bayesian",
    "fit_least_squares",
    "fit_lift_tests",
    "fit_summary",
    "parse_dates",
    "plot_fit",
    "r_squared",
    "read_table",
    "resolve_adstock",
    "sampler_diagnostics",
    "view_from_draws",
]
