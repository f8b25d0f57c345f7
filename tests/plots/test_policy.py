import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy.special import ndtr

from pymc_robust_alloc.policy import (
    PolicyProblem,
    evaluate_plans,
    plot_plan,
    plot_success_curves,
)


@pytest.fixture(autouse=True)
def _no_show(monkeypatch):
    def fail():
        raise AssertionError("plots must not call plt.show()")

    monkeypatch.setattr(plt, "show", fail)
    yield
    plt.close("all")


def test_success_curves_have_one_line_per_plan_and_panel_per_split():
    train = PolicyProblem([[0.0, 0.02]], [[0.0, 1e-4]])
    test = PolicyProblem([[0.0, 0.01]], [[0.0, 1e-4]])
    plans = {"treat": np.array([[0.0, 1.0]]), "half": np.array([[0.5, 0.5]])}
    thr = np.linspace(0.0, 0.03, 7)
    ev = evaluate_plans(train, test, plans, thr)
    fig = plot_success_curves(ev)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["treat", "half"]
    np.testing.assert_allclose(lines[0].get_xdata(), thr)
    np.testing.assert_allclose(lines[0].get_ydata(), ev["C_train"].values[:, 0])


def test_success_curves_in_2d_cut_the_grid_along_one_threshold():
    mu = np.array([[[1.0, 1.0], [2.0, 1.5]]])
    cov = np.tile(np.eye(2), (1, 2, 1, 1))
    p = PolicyProblem(mu, cov)
    thr = [[rv, 1.0] for rv in (0.0, 1.0, 2.0)] + [[0.0, 2.0]]
    ev = evaluate_plans(p, p, {"new": np.array([[0.0, 1.0]])}, thr)
    fig = plot_success_curves(ev, variables=["C_train"], outcome="value")
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0.0, 1.0, 2.0])  # r_c = 1 only
    assert "r_c = 1" in fig.axes[0].get_xlabel()
    with pytest.raises(ValueError, match="not in the evaluation"):
        plot_success_curves(ev, variables=["C_valid"])


def test_plan_heatmap_shows_the_shares_with_labels():
    p = PolicyProblem(np.zeros((3, 2)), np.ones((3, 2)), policies=["ctrl", "new"])
    psi = p.as_plan([[1.0, 0.0], [0.3, 0.7], [0.0, 1.0]])
    fig = plot_plan(psi, title="plan")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.get_images()[0].get_array(), psi.values)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ctrl", "new"]
    with pytest.raises(ValueError, match="dims"):
        plot_plan(psi.values)


def test_failure_curves_are_drawn_as_one_minus_c_on_a_log_scale():
    problem = PolicyProblem([[0.0, 12.0]], [[1.0, 1.0]])
    ev = evaluate_plans(problem, problem, {"treat": np.array([[0.0, 1.0]])}, [0.0, 1.0, 2.0])
    fig = plot_success_curves(ev, variables=("log_failure_train",))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "failure probability 1 - C"
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ndtr([-12.0, -11.0, -10.0]), rtol=1e-12)
    plt.close(fig)


def test_policy_figures_draw_on_the_axes_they_are_given():
    problem = PolicyProblem(np.zeros((2, 2)), np.ones((2, 2)), policies=["ctrl", "new"])
    ev = evaluate_plans(problem, problem, {"new": np.array([[0.0, 1.0]] * 2)}, [0.0, 1.0])
    fig = Figure()
    left, right = fig.subplots(1, 2)
    assert plot_success_curves(ev, variables=["C_train"], axes=[left]) is fig
    assert plot_plan(problem.as_plan([[1.0, 0.0], [0.5, 0.5]]), ax=right) is fig
    assert right.get_ylabel() == "bucket" and left.get_title() == "train"
