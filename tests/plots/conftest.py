import io

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from pymc_robust_alloc import RobustAllocator
from pymc_robust_alloc.sensitivity import scale_sweep
from tests.plots.cases import BOUNDS, curve_views


@pytest.fixture(scope="session")
def solved():
    """Two curve views, their allocator, its result and a scale sweep."""
    views = curve_views()
    allocator = RobustAllocator(views, num_periods=4)
    result = allocator.allocate(
        100.0,
        BOUNDS,
        candidates={"current": {"search": 40, "social": 30, "display": 30}},
    )
    sweep = scale_sweep(allocator, "attribution", [1.0, 5.0], 100.0, BOUNDS)
    return views, allocator, result, sweep


@pytest.fixture(scope="session")
def example(solved):
    views, _, result, sweep = solved
    return views, result, sweep


@pytest.fixture
def render():
    """Draw a figure to PNG (so layout and text really run), close it afterwards."""
    figures = []

    def _render(fig):
        assert isinstance(fig, Figure)
        fig.savefig(io.BytesIO(), format="png", dpi=40)
        figures.append(fig)
        return fig

    yield _render
    for fig in figures:
        plt.close(fig)
