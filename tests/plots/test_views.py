import dataclasses

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex

from pymc_robust_alloc.plots import (
    plot_beliefs,
    plot_response_curves,
    plot_view_responses,
    view_colors,
)
from tests.plots.cases import CHANNELS, TableView, plot_panels


def test_plot_beliefs_has_a_panel_per_parameter_and_channel(example, render):
    views, _, _ = example
    fig = render(plot_beliefs(views))
    axes = plot_panels(fig)
    assert len(axes) == 2 * len(CHANNELS)
    colors = view_colors(views)
    for ax in axes:
        assert [to_hex(line.get_color()) for line in ax.get_lines()] == [
            colors["regression"].lower(),
            colors["attribution"].lower(),
        ]
    assert {ax.get_title() for ax in axes} == {
        f"{c}: {p}" for c in CHANNELS for p in ("alpha", "lam")
    }


def test_plot_beliefs_names_the_views_it_leaves_out(example, render):
    views, _, _ = example
    fig = render(plot_beliefs([*views, TableView("platform")]))
    assert len(plot_panels(fig)) == 2 * len(CHANNELS)
    assert "platform" in fig.get_supxlabel()


def test_plot_beliefs_without_curve_views_says_what_to_use(render):
    with pytest.raises(TypeError, match="CurveView"):
        plot_beliefs([TableView("platform")])


def test_plot_response_curves_draws_median_and_band_per_view(example, render):
    views, _, _ = example
    fig = render(plot_response_curves(views, max_spend=40.0))
    axes = plot_panels(fig)
    assert len(axes) == len(CHANNELS)
    for ax, channel in zip(axes, CHANNELS, strict=True):
        lines = ax.get_lines()
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(lines) == len(bands) == len(views)
        assert ax.get_xlim() == (0.0, 40.0)
        assert ax.get_xlabel() == "spend per period"
        for line, view in zip(lines, views, strict=True):
            # Independent Michaelis-Menten median at the right end of the axis.
            alpha = view.posterior["alpha"].sel(channel=channel).values.ravel()
            lam = view.posterior["lam"].sel(channel=channel).values.ravel()
            expected = np.median(alpha * 40.0 / (lam + 40.0))
            np.testing.assert_allclose(line.get_ydata()[-1], expected, rtol=1e-6)


def test_plot_response_curves_picks_a_spend_range(example, render):
    views, _, _ = example
    fig = render(plot_response_curves(views))
    right = plot_panels(fig)[0].get_xlim()[1]
    assert 5.0 < right < 1000.0
    with pytest.raises(ValueError, match="max_spend"):
        plot_response_curves(views, max_spend=-1.0)


def test_view_responses_show_every_view_in_its_units_over_the_decisions_range(solved, render):
    views, allocator, result, _ = solved
    fig = render(plot_view_responses(allocator, result, n_points=3))
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == [v.name for v in views]
    for ax, view in zip(axes, views, strict=True):
        assert ax.get_xlim() == (0.0, 60.0)  # the largest upper bound of the decision
        assert f"({view.name}'s units)" in ax.get_ylabel()
        # Independent Michaelis-Menten increment over the 4 periods at the axis end.
        search = ax.get_lines()[0]
        alpha = view.posterior["alpha"].sel(channel="search").values.ravel()
        lam = view.posterior["lam"].sel(channel="search").values.ravel()
        expected = np.median(4 * alpha * 60.0 / (lam + 60.0))
        np.testing.assert_allclose(search.get_ydata()[-1], expected, rtol=1e-6)


@pytest.mark.parametrize("total", [5e-7, 0.5, 3e8])
def test_view_responses_span_an_unbounded_decision_up_to_its_budget(solved, total):
    _, allocator, result, _ = solved
    unbounded = dataclasses.replace(
        result,
        settings={
            **result.settings,
            "total_budget": total,
            "bounds": dict.fromkeys(CHANNELS, (0.0, np.inf)),
        },
    )
    fig = plot_view_responses(allocator, unbounded, n_points=2)
    assert [ax.get_xlim() for ax in fig.axes] == [(0.0, total)] * len(fig.axes)
