import io

import numpy as np
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from pymc_robust_alloc.plots import plot_plans, plot_regret, plot_success, plot_values, view_colors
from tests.plots.cases import CHANNELS, plot_panels


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
    (ax,) = plot_panels(fig)
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


def test_plot_values_marks_v_star_in_every_view_panel(example, render):
    _, result, _ = example
    fig = render(plot_values(result))
    axes = plot_panels(fig)
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
