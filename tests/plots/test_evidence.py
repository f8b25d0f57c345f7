import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from pymc_robust_alloc import CurveView, RobustAllocator
from pymc_robust_alloc.plots import plot_evidence


@pytest.fixture(scope="module")
def small():
    views = [
        CurveView.from_estimates(
            name,
            {"alpha": alpha, "lam": [10.0, 20.0]},
            0.1,
            channels=["tv", "radio"],
            draws=20,
            random_seed=seed,
            evidence=evidence,
        )
        for name, alpha, seed, evidence in [
            ("lift", [5.0, 8.0], 1, {"tv": (10.0, 20.0), "radio": (5.0, 15.0)}),
            ("vendor", [6.0, 6.0], 2, None),
        ]
    ]
    return RobustAllocator(views, num_periods=2)


def test_evidence_is_shaded_and_the_curves_are_the_views_values(small):
    plan = {"tv": 12.0, "radio": 18.0}
    fig = plot_evidence(small, plan, n_points=6)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["lift: tv", "lift: radio", "vendor: tv", "vendor: radio"]
    lift_tv, vendor_tv = fig.axes[0], fig.axes[2]
    spans = [p for p in lift_tv.patches if isinstance(p, Rectangle)]
    assert len(spans) == 1 and spans[0].get_x() == pytest.approx(10.0)
    assert not [p for p in vendor_tv.patches if isinstance(p, Rectangle)]
    # The dashed line is the value along tv, the other channel at the plan.
    x, y = lift_tv.lines[0].get_data()
    for spend, value in zip(x[::3], y[::3], strict=False):
        expected = small.values({"tv": spend, "radio": 18.0}).sel(view="lift")
        assert value == pytest.approx(float(expected))
    assert np.isin([10.0, 20.0], x).all()  # the evidence bounds are on the grid


def test_unknown_channels_are_refused(small):
    with pytest.raises(ValueError, match="unknown views or channels"):
        plot_evidence(small, {"tv": 15.0, "radio": 15.0}, channels=["print"])


def test_evidence_draws_on_the_grid_it_is_given(small):
    fig = Figure()
    grid = fig.subplots(1, 2)
    plan = {"tv": 12.0, "radio": 18.0}
    assert plot_evidence(small, plan, views=["lift"], n_points=3, axes=grid) is fig
    assert [ax.get_title() for ax in grid] == ["lift: tv", "lift: radio"]
    assert fig._suptitle is None  # the caller's figure keeps its own title
