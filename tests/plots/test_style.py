import ast
from importlib import import_module
from pathlib import Path

import pytest
from matplotlib.figure import Figure

import pymc_robust_alloc.plots
from pymc_robust_alloc.plots import (
    plot_beliefs,
    plot_plans,
    plot_regret,
    plot_response_curves,
    plot_sweep,
    plot_values,
    view_colors,
)
from tests.plots.cases import CHANNELS


def test_view_colors_follow_view_order_and_overrides():
    colors = view_colors(["a", "b"], colors={"b": "red"})
    assert list(colors) == ["a", "b"]
    assert colors["b"] == "red"
    assert colors["a"] != colors["b"]


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


def test_no_plot_module_imports_pyplot():
    package = Path(pymc_robust_alloc.plots.__file__).parent
    for path in sorted(package.glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
        assert "matplotlib.pyplot" not in imported, f"{path.name} imports matplotlib.pyplot"


def test_the_package_exports_every_plot_of_its_modules():
    exported = set(dir(pymc_robust_alloc.plots))
    for name, module in pymc_robust_alloc.plots._EXPORTS.items():
        assert name in exported
        defined = import_module(f"pymc_robust_alloc.plots.{module}")
        assert getattr(pymc_robust_alloc.plots, name) is getattr(defined, name)
    public = {name for name, module in pymc_robust_alloc.plots._EXPORTS.items() if name.islower()}
    assert set(pymc_robust_alloc.plots.__all__) == public
