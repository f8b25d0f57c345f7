import matplotlib

matplotlib.use("Agg")

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from pymc_robust_alloc import CurveView, RobustAllocator, View
from pymc_robust_alloc.plots import (
    plot_beliefs,
    plot_plans,
    plot_regret,
    plot_response_curves,
    plot_success,
    plot_sweep,
    plot_values,
    view_colors,
)
from pymc_robust_alloc.sensitivity import scale_sweep

CHANNELS = ["search", "social", "display"]
BOUNDS = dict.fromkeys(CHANNELS, (0.0, 60.0))


def _views() -> list[CurveView]:
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


@pytest.fixture(scope="module")
def example():
    views = _views()
    allocator = RobustAllocator(views, num_periods=4)
    result = allocator.allocate(
        100.0,
        BOUNDS,
        candidates={"current": {"search": 40, "social": 30, "display": 30}},
    )
    sweep = scale_sweep(allocator, "attribution", [1.0, 5.0], 100.0, BOUNDS)
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


def _panels(fig):
    """Axes that are plot panels, not colour bars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


class _TableView(View):
    """A view with no saturation curves (stands in for a fitted MMM)."""

    @property
    def budget_coords(self):
        return {"channel": tuple(CHANNELS)}

    @property
    def posterior(self):
        return xr.Dataset()

    def build(self, horizon, budget_coords):
        raise NotImplementedError


def test_view_colors_follow_view_order_and_overrides():
    colors = view_colors(["a", "b"], colors={"b": "red"})
    assert list(colors) == ["a", "b"]
    assert colors["b"] == "red"
    assert colors["a"] != colors["b"]


def test_plot_beliefs_has_a_panel_per_parameter_and_channel(example, render):
    views, _, _ = example
    fig = render(plot_beliefs(views))
    axes = _panels(fig)
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
    fig = render(plot_beliefs([*views, _TableView("platform")]))
    assert len(_panels(fig)) == 2 * len(CHANNELS)
    assert "platform" in fig.get_supxlabel()


def test_plot_beliefs_without_curve_views_says_what_to_use(render):
    with pytest.raises(TypeError, match="CurveView"):
        plot_beliefs([_TableView("platform")])


def test_plot_response_curves_draws_median_and_band_per_view(example, render):
    views, _, _ = example
    fig = render(plot_response_curves(views, max_spend=40.0))
    axes = _panels(fig)
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
    right = _panels(fig)[0].get_xlim()[1]
    assert 5.0 < right < 1000.0
    with pytest.raises(ValueError, match="max_spend"):
        plot_response_curves(views, max_spend=-1.0)


def test_plot_plans_draws_one_bar_per_plan_and_channel(example, render):
    _, result, _ = example
    fig = render(plot_plans(result))
    (ax,) = fig.axes
    names = [str(p) for p in result.plans["plan"].values]
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == len(names) * len(CHANNELS)
    heights = np.array([b.get_height() for b in bars]).reshape(len(CHANNELS), -1)
    np.testing.assert_allclose(heights.T, result.plans.sel(channel=CHANNELS).values)
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert ax.get_ylabel() == "spend per period"


def test_plot_plans_shows_the_chosen_plans_only(example, render):
    _, result, _ = example
    fig = render(plot_plans(result, plans=["minimax", "averaged"]))
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["minimax", "averaged"]
    with pytest.raises(ValueError, match="Unknown plans"):
        plot_plans(result, plans=["nonsense"])


def test_plot_regret_annotates_every_cell_as_a_percentage(example, render):
    _, result, _ = example
    fig = render(plot_regret(result))
    (ax,) = _panels(fig)
    assert len(fig.axes) == 2  # heatmap and colour bar
    table = result.regret_matrix
    texts = [t for t in ax.texts if t.get_text().endswith("%")]
    assert len(texts) == table.size
    shown = np.array([float(t.get_text().rstrip("%")) for t in texts]) / 100
    np.testing.assert_allclose(shown.reshape(table.shape), table.to_numpy(), atol=5e-3)
    bold = [t for t in texts if t.get_fontweight() == "bold"]
    assert len(bold) == 1
    assert bold[0].get_position() == (
        table.shape[1] - 1,
        table.index.get_loc("minimax"),
    )
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "max regret"


def test_plot_sweep_has_a_panel_per_channel_and_one_for_regret(example, render):
    _, _, sweep = example
    fig = render(plot_sweep(sweep))
    axes = _panels(fig)
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


def test_plot_values_marks_v_star_in_every_view_panel(example, render):
    _, result, _ = example
    fig = render(plot_values(result))
    axes = _panels(fig)
    assert len(axes) == len(result.views)
    n_plans = result.plans.sizes["plan"]
    colors = view_colors(result.views)
    for ax, view in zip(axes, result.views, strict=True):
        assert len(ax.patches) == n_plans
        (v_star,) = ax.get_lines()
        np.testing.assert_allclose(v_star.get_xdata()[0], result.v_star.sel(view=view))
        own = ax.patches[[str(p) for p in result.plans["plan"].values].index(view)]
        assert to_hex(own.get_facecolor()) == colors[view].lower()


def test_success_heatmap_marks_the_robust_success_plan(success_result):
    fig = plot_success(success_result)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(success_result.success_matrix.index)
    bold = [t for t in ax.texts if t.get_fontweight() == "bold"]
    row = labels.index("success")
    assert len(bold) == 1 and bold[0].get_position()[1] == row
    fig.savefig(io.BytesIO(), format="png")


def test_success_heatmap_needs_a_reference(result):
    with pytest.raises(ValueError, match="reference_plan"):
        plot_success(result)


def test_every_plot_draws_on_the_axes_it_is_given_and_returns_their_figure(example, render):
    views, result, sweep = example
    fig = Figure()
    single = fig.subplots()
    for plot in (plot_plans, plot_regret):
        single.clear()
        assert render(plot(result, ax=single)) is fig
        assert fig.axes[0] is single
    grid = Figure().subplots(2, 3)
    assert plot_beliefs(views, axes=grid) is grid[0, 0].get_figure(root=True)
    assert grid[1, 2].get_title() == "display: lam"
    row = Figure().subplots(1, 3)
    assert plot_response_curves(views, axes=row) is row[0].get_figure(root=True)
    assert [ax.get_title() for ax in row] == CHANNELS
    assert row[0].get_figure(root=True)._suptitle is None  # the title is the caller's
    panels = Figure().subplots(1, 4)
    assert plot_sweep(sweep, axes=panels) is panels[0].get_figure(root=True)
    views_row = Figure().subplots(1, 2)
    assert plot_values(result, axes=views_row) is views_row[0].get_figure(root=True)
    with pytest.raises(ValueError, match=r"axes must hold 3 axes \(1 x 3 panels\), got 2"):
        plot_response_curves(views, axes=Figure().subplots(1, 2))
