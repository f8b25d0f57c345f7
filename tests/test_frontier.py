"""The budget frontier: every plan family across total budgets on one allocator."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from pymc_robust_alloc import Frontier
from pymc_robust_alloc.plots import (
    plot_frontier,
    plot_frontier_outcomes,
    plot_frontier_regret,
    plot_frontier_spend,
)
from tests.conftest import BOUNDS

BUDGETS = [80.0, 100.0, 120.0]


@pytest.fixture(scope="module")
def frontier(allocator):
    return allocator.frontier(BUDGETS, BOUNDS, units={"spend": "k$/week"}, progress=False)


def test_frontier_is_labelled_by_total_budget(frontier):
    assert isinstance(frontier, Frontier)
    assert frontier.plans.dims == ("total_budget", "plan", "channel")
    assert frontier.plans["total_budget"].values.tolist() == BUDGETS
    totals = frontier.plans.sum("channel").values
    np.testing.assert_allclose(totals, np.broadcast_to(np.array(BUDGETS)[:, None], totals.shape))
    assert bool(frontier.converged.all())
    data = frontier.to_dataset()
    assert data["expected"].dims == ("total_budget", "plan", "view")


def test_frontier_plans_are_the_plans_allocate_finds_at_each_budget(allocator, frontier):
    for budget in (120.0,):
        alone = allocator.allocate(budget, BOUNDS)
        np.testing.assert_allclose(
            frontier.max_regret.sel(total_budget=budget).values,
            alone.regret_matrix["max regret"].values,
            atol=1e-7,
        )
        np.testing.assert_allclose(
            frontier.plans.sel(total_budget=budget, plan="minimax").values,
            alone.plan("minimax").values,
            atol=1e-3,
        )


def test_more_budget_buys_more_outcome_under_every_view(frontier):
    expected = frontier.outcomes()["expected"].sel(plan="minimax")
    assert bool((expected.diff("total_budget") > 0).all())


@pytest.mark.parametrize(
    "budgets, error, message",
    [
        ([100.0, -5.0], ValueError, r"must be positive, got \[-5.0\]"),
        ([100.0, 80.0], ValueError, "strictly increasing"),
        ([100.0, 100.0], ValueError, "strictly increasing"),
        ([], ValueError, "empty"),
        ("100", TypeError, "sequence of numbers"),
        ([100.0, 190.0, 200.0], ValueError, r"Budgets \[190.0, 200.0\] cannot be spent"),
    ],
)
def test_bad_budgets_are_refused_naming_them(allocator, budgets, error, message):
    with pytest.raises(error, match=message):
        allocator.frontier(budgets, BOUNDS, progress=False)


def test_frontier_figures_draw_into_given_axes(frontier):
    fig = Figure()
    axes = fig.subplots(1, 3)
    assert plot_frontier_spend(frontier, ax=axes[0]) is fig
    assert plot_frontier_regret(frontier, ax=axes[1]) is fig
    assert plot_frontier_outcomes(frontier, "experiment", ax=axes[2]) is fig
    assert axes[0].get_xlabel() == "total budget per period (k$/week)"
    assert len(plot_frontier(frontier).axes) == 2 + len(frontier.results[0].views)
    row = Figure().subplots(1, 2 + len(frontier.results[0].views))
    assert plot_frontier(frontier, axes=row) is row[0].get_figure(root=True)
    assert row[-1].get_title(loc="left").startswith("Outcome under")
    with pytest.raises(KeyError, match="No plan 'best'"):
        plot_frontier_spend(frontier, "best")
