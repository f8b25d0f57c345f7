import numpy as np
import pytest
import xarray as xr

from pymc_robust_alloc.plots import plot_sweep
from tests.plots.cases import CHANNELS, plot_panels


def test_plot_sweep_has_a_panel_per_channel_and_one_for_regret(example, render):
    _, _, sweep = example
    fig = render(plot_sweep(sweep))
    axes = plot_panels(fig)
    assert len(axes) == len(CHANNELS) + 1
    for ax, channel in zip(axes[:-1], CHANNELS, strict=True):
        averaged, minimax = ax.get_lines()
        np.testing.assert_allclose(
            averaged.get_ydata(), sweep["plans"].sel(plan="averaged", channel=channel)
        )
        np.testing.assert_allclose(
            minimax.get_ydata(), sweep["plans"].sel(plan="minimax", channel=channel)
        )
        np.testing.assert_allclose(averaged.get_xdata(), [1.0, 5.0])
    assert len(axes[-1].get_lines()) == 2
    with pytest.raises(ValueError, match="scale_sweep"):
        plot_sweep(xr.Dataset())
