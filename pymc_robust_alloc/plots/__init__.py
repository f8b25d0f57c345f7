"""Figures for a decision deck: views, results, sweeps, evidence, fits, policies.

Every plot returns a :class:`matplotlib.figure.Figure` built without pyplot (show it
as a notebook cell's last expression, or ``fig.savefig(...)``) and shares these
optional arguments: ``ax=`` (one axes) or ``axes=`` (an array, one axes per panel)
to draw on the caller's figure, which is returned and whose title and figure
legend stay the caller's; ``figsize`` (inches, growing with the panels by default);
``colors``, ``{view: colour}`` overrides of :func:`view_colors`. Each view keeps
one colour in every figure, the averaged plan is grey and the minimax plan black.
Names load on first use, so ``fit`` and ``policy`` re-export their figures cheaply.
"""

from importlib import import_module
from typing import TYPE_CHECKING

#: Name -> submodule that defines it (the palettes too, outside ``__all__``).
_EXPORTS = {
    "plot_evidence": "evidence",
    "plot_fit": "fits",
    "plot_plan": "policy",
    "plot_success_curves": "policy",
    "plot_plans": "results",
    "plot_regret": "results",
    "plot_success": "results",
    "plot_values": "results",
    "AVERAGED_COLOR": "style",
    "CHANNEL_PALETTE": "style",
    "MINIMAX_COLOR": "style",
    "OTHER_PLAN_COLOR": "style",
    "OTHER_PLAN_HATCHES": "style",
    "VIEW_PALETTE": "style",
    "view_colors": "style",
    "plot_frontier": "sweeps",
    "plot_frontier_outcomes": "sweeps",
    "plot_frontier_regret": "sweeps",
    "plot_frontier_spend": "sweeps",
    "plot_sweep": "sweeps",
    "plot_beliefs": "views",
    "plot_response_curves": "views",
    "plot_view_responses": "views",
}

__all__ = [
    "plot_beliefs",
    "plot_evidence",
    "plot_fit",
    "plot_frontier",
    "plot_frontier_outcomes",
    "plot_frontier_regret",
    "plot_frontier_spend",
    "plot_plan",
    "plot_plans",
    "plot_regret",
    "plot_response_curves",
    "plot_success",
    "plot_success_curves",
    "plot_sweep",
    "plot_values",
    "plot_view_responses",
    "view_colors",
]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # pragma: no cover
    from pymc_robust_alloc.plots.evidence import plot_evidence
    from pymc_robust_alloc.plots.fits import plot_fit
    from pymc_robust_alloc.plots.policy import plot_plan, plot_success_curves
    from pymc_robust_alloc.plots.results import plot_plans, plot_regret, plot_success, plot_values
    from pymc_robust_alloc.plots.style import view_colors
    from pymc_robust_alloc.plots.sweeps import (
        plot_frontier,
        plot_frontier_outcomes,
        plot_frontier_regret,
        plot_frontier_spend,
        plot_sweep,
    )
    from pymc_robust_alloc.plots.views import (
        plot_beliefs,
        plot_response_curves,
        plot_view_responses,
    )
