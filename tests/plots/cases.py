"""Small views and a stand-in for a view without curves, shared by the plot tests."""

import xarray as xr

from pymc_robust_alloc import CurveView, View

CHANNELS = ["search", "social", "display"]
BOUNDS = dict.fromkeys(CHANNELS, (0.0, 60.0))


def curve_views() -> list[CurveView]:
    return [
        CurveView.from_estimates(
            "regression",
            {"alpha": [2.0, 1.2, 0.7], "lam": [5.0, 3.0, 4.0]},
            sigma=0.25,
            channels=CHANNELS,
            draws=50,
            random_seed=1,
        ),
        CurveView.from_estimates(
            "attribution",
            {"alpha": [8.0, 5.0, 7.0], "lam": [2.5, 7.0, 3.0]},
            sigma=0.6,
            channels=CHANNELS,
            draws=50,
            random_seed=2,
        ),
    ]


def plot_panels(fig):
    """Axes that are plot panels, not colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


class TableView(View):
    """A view with no saturation curves (stands in for a fitted MMM)."""

    @property
    def budget_coords(self):
        return {"channel": tuple(CHANNELS)}

    @property
    def posterior(self):
        return xr.Dataset()

    def build(self, horizon, budget_coords):
        raise NotImplementedError
