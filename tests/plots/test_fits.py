import numpy as np
import pytest
from matplotlib.figure import Figure

from pymc_robust_alloc.fit import view_from_draws
from pymc_robust_alloc.plots import plot_fit
from tests.fit.test_diagnostics import draws_table


def test_plot_fit_draws_on_the_axes_it_is_given():
    rng = np.random.default_rng(2)
    result = view_from_draws(draws_table(rng.lognormal(0, 0.1, 50), rng.lognormal(0, 0.1, 50)))
    fig = Figure()
    ax = fig.subplots()
    assert plot_fit(result, axes=[ax]) is fig
    assert ax.get_title() == "tv"
    with pytest.raises(ValueError, match="one axes per channel"):
        plot_fit(result, axes=Figure().subplots(1, 2))
