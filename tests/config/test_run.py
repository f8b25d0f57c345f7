import hashlib
import json
import shutil
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest

from pymc_robust_alloc import allocate
from pymc_robust_alloc.config import OBJECTIVES, ConfigError, load_config, run_config
from pymc_robust_alloc.fit import fit_least_squares, read_table, view_from_draws
from tests.mmms import synthetic_mmm

EXAMPLES = files("pymc_robust_alloc") / "examples"

CONFIG = """\
seed: 4
views:
  attribution:
    source: table
    path: attribution.csv
    n_draws: 60
  vendor:
    source: draws
    path: vendor_draws.csv
budget:
  total: 60.0
  num_periods: 4
  bounds:
    search: [5, 40]
    social: [5, 40]
    display: [0, 30]
objectives:
  minimax: true
n_draws: 60
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(EXAMPLES / name, path / name)
    (path / "config.yaml").write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def run(folder):
    return run_config(folder / "config.yaml", output_dir=folder / "out", progress=False)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_example_config_is_valid():
    config, _ = load_config(EXAMPLES / "config.yaml")
    assert set(config.views) == {"attribution", "experiment", "vendor"}


def test_config_run_writes_every_output(run, folder):
    names = {p.name for p in run.files}
    assert {
        "plans.csv",
        "regret_matrix.csv",
        "result.json",
        "fit_summary.csv",
        "fit_attribution.png",
        "fit_vendor.png",
        "report.html",
    } <= names
    assert all((folder / "out" / n).stat().st_size > 0 for n in names)
    assert "Regret matrix" in (folder / "out" / "report.html").read_text()


def test_config_run_reproduces_the_python_run(run, folder):
    attribution = fit_least_squares(
        read_table(folder / "attribution.csv"), "attribution", n_draws=60, random_seed=4
    )
    vendor = view_from_draws(read_table(folder / "vendor_draws.csv"), "vendor")
    result = allocate(
        [attribution.view, vendor.view],
        total_budget=60.0,
        num_periods=4,
        bounds={"search": (5, 40), "social": (5, 40), "display": (0, 30)},
        n_draws=60,
    )
    expected = result.plans.sel(channel=run.result.plans["channel"])
    np.testing.assert_allclose(run.result.plans.values, expected.values, rtol=1e-6, atol=1e-6)


def test_output_is_never_overwritten_without_the_flag(run, folder):
    before = digest(folder / "out" / "plans.csv")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        run_config(folder / "config.yaml", output_dir=folder / "out", progress=False)
    assert digest(folder / "out" / "plans.csv") == before


def test_input_files_are_not_modified(folder):
    before = {p.name: digest(p) for p in folder.glob("*.*")}
    run_config(folder / "config.yaml", output_dir=folder / "again", progress=False)
    assert {p.name: digest(p) for p in folder.glob("*.*")} == before


def test_unknown_key_names_the_key_and_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.replace("    n_draws: 60\n", "    n_draw: 60\n", 1))
    with pytest.raises(ConfigError, match=r"line 6: 'views.attribution.n_draw' is not a known key"):
        load_config(path)


def test_missing_file_names_the_key_and_line(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG)
    (tmp_path / "vendor_draws.csv").write_text("draw,channel,alpha,lam\n")
    with pytest.raises(
        ConfigError,
        match=r"line 5: 'views.attribution.path'.*'attribution.csv' "
        "not found",
    ):
        load_config(path)


def test_toml_config_errors_name_the_line(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        "[budget]\ntotal = 10.0\nnum_periods = 2\nbudgett = 3\n"
        "[views.a]\nsource = 'draws'\npath = 'x.csv'\n"
    )
    with pytest.raises(ConfigError, match=r"line 4: 'budget.budgett'"):
        load_config(path)


def test_unknown_objective_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG.replace("  minimax: true", "  minimax: true\n  sharpe: {}"))
    with pytest.raises(
        ConfigError, match=r"line 19: 'objectives\.sharpe' is not a known objective"
    ):
        load_config(path)


def test_channel_labels_must_match_across_views(tmp_path, folder):
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(folder / name, tmp_path / name)
    draws = read_table(tmp_path / "vendor_draws.csv")
    draws["channel"] = draws["channel"].replace({"social": "Social"})
    draws.to_csv(tmp_path / "vendor_draws.csv", index=False)
    (tmp_path / "c.yaml").write_text(CONFIG)
    with pytest.raises(ValueError, match=r"only in 'vendor': \['Social'\]"):
        run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False)


def test_success_objective_passes_the_reference_and_gain():
    spec = {"reference_plan": {"search": 30, "social": 20}, "required_gain": 0.05}
    assert OBJECTIVES["success"](spec) == {
        "reference_plan": {"search": 30.0, "social": 20.0},
        "required_gain": 0.05,
    }
    with pytest.raises(ValueError, match="needs `reference_plan"):
        OBJECTIVES["success"](True)
    with pytest.raises(ValueError, match="unknown keys"):
        OBJECTIVES["success"]({**spec, "gain": 0.1})


def test_config_run_writes_a_result_that_loads_back_equal(run, folder):
    from pymc_robust_alloc import AllocationResult

    out = folder / "out"
    assert AllocationResult.from_netcdf(out / "result.nc").equals(run.result)
    assert AllocationResult.from_json(out / "result.json").equals(run.result)


def test_config_report_is_self_contained_and_lists_inputs(run, folder):
    import re

    page = (folder / "out" / "report.html").read_text()
    assert not re.search(r"""(src|href)=["'](?!data:)""", page)
    assert "Recommendation: minimax plan" in page
    assert digest(folder / "attribution.csv") in page


def test_units_of_an_unknown_view_name_the_line(tmp_path):
    path = tmp_path / "units.yaml"
    path.write_text(CONFIG + "units:\n  outcome: {geo: sales}\n")
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    with pytest.raises(ConfigError, match=r"line \d+: 'units'.*unknown views \['geo'\]"):
        load_config(path)


def test_frontier_runs_from_the_config_and_the_cli(tmp_path):
    import xarray as xr

    from pymc_robust_alloc.cli import main
    from pymc_robust_alloc.config import run_frontier

    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    path = tmp_path / "frontier.yaml"
    path.write_text(CONFIG + "frontier:\n  budgets: [50, 60]\n")
    assert main(["frontier", str(path), "--output", str(tmp_path / "out")]) == 0
    with xr.open_dataset(tmp_path / "out" / "frontier.nc", engine="h5netcdf") as data:
        assert data["total_budget"].values.tolist() == [50.0, 60.0]
        assert bool(data["converged"].all())
    with pytest.raises(FileExistsError, match="overwrite=True"):
        run_frontier(path, output_dir=tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match=r"Budgets \[200.0\] cannot be spent"):
        run_frontier(path, [60, 200], output_dir=tmp_path / "other", progress=False)


MMM_CONFIG = """\
seed: 4
views:
  mmm:
    source: mmm
    path: mmm.nc
    start_date: {start}
    end_date: {end}
  vendor:
    source: draws
    path: vendor_draws.csv
budget:
  total: 60.0
  bounds:
    search: [5, 40]
    social: [5, 40]
    display: [0, 30]
"""
MMM_DRAWS = 30


def saved_mmm(path):
    """A PyMC-Marketing MMM on Monday-dated weeks, seeded draws in place of a fit, saved."""
    spend = dict.fromkeys(["search", "social", "display"], (5, 40))
    mmm = synthetic_mmm(
        spend,
        "2024-01-01",
        "W-MON",
        level=1000,
        noise=10,
        lam_high=4,
        beta_high=0.4,
        n_draws=MMM_DRAWS,
    )
    mmm.save(str(path))
    return mmm


@pytest.fixture(scope="module")
def mmm_folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("mmm_run")
    shutil.copy(EXAMPLES / "vendor_draws.csv", path / "vendor_draws.csv")
    saved_mmm(path / "mmm.nc")
    (path / "config.yaml").write_text(MMM_CONFIG.format(start="2024-09-02", end="2024-09-30"))
    return path


@pytest.fixture(scope="module")
def mmm_run(mmm_folder):
    messages = []
    run = run_config(
        mmm_folder / "config.yaml", output_dir=mmm_folder / "out", echo=messages.append
    )
    return run, messages


def test_saved_mmm_runs_from_a_config_with_periods_from_its_window(mmm_run):
    run, messages = mmm_run
    settings = run.result.settings
    assert settings["num_periods"] == 5  # the Mondays from 2024-09-02 to 2024-09-30
    assert settings["view_draws"] == {"mmm": MMM_DRAWS, "vendor": 200}
    assert list(run.result.v_star["view"].values) == ["mmm", "vendor"]
    assert "fit_mmm.png" not in {p.name for p in run.files}
    assert any("Merging 2 views" in m for m in messages)
    assert messages[-1].startswith("Done in")
    summary = pd.read_csv(next(p for p in run.files if p.name == "fit_summary.csv"))
    mmm_rows = summary[summary["view"] == "mmm"]
    assert len(mmm_rows) == 3 * 3 + 2  # adstock, lam, beta per channel; intercept, sigma
    assert "r_hat" in mmm_rows  # NaN here: ArviZ needs two chains for R-hat
    assert mmm_rows["ess_bulk"].notna().all()


def test_mmm_plan_of_a_config_run_is_pymc_marketings_optimum(mmm_run, mmm_folder):
    """The MMM keeps all its draws, so its optimum is BudgetOptimizer's own."""
    import pytensor
    from pymc_marketing.mmm import MMM

    from pymc_robust_alloc import python_mode

    run, _ = mmm_run
    mmm = MMM.load(str(mmm_folder / "mmm.nc"))
    bounds = {"search": (5.0, 40.0), "social": (5.0, 40.0), "display": (0.0, 30.0)}
    with pytensor.config.change_flags(mode=python_mode(), cxx=""):
        optimizer = mmm.budget_optimizer(
            "2024-09-02", "2024-09-30", compile_kwargs={"mode": python_mode()}
        )
        plan, _ = optimizer.allocate_budget(total_budget=60.0, budget_bounds=bounds)
    ours = run.result.plan("mmm").sel(channel=plan["channel"])
    np.testing.assert_allclose(ours.values, plan.values, atol=1e-3 * 60)


def test_off_grid_mmm_window_snaps_with_a_warning(mmm_folder):
    from pymc_robust_alloc.views.mmm import MMMView

    with pytest.warns(UserWarning, match="off the MMM's date grid .* 2024-09-02 to 2024-09-23"):
        view = MMMView.from_file("mmm", mmm_folder / "mmm.nc", "2024-09-01", "2024-09-29")
    assert view.horizon().num_periods == 4
    with pytest.raises(ValueError, match="no date of the MMM's grid"):
        MMMView.from_file("mmm", mmm_folder / "mmm.nc", "2024-09-03", "2024-09-08")


def test_saved_mmm_given_as_a_posterior_points_to_source_mmm(mmm_folder, tmp_path):
    config = MMM_CONFIG.format(start="2024-09-02", end="2024-09-30").replace(
        "    source: mmm\n    path: mmm.nc\n    start_date: 2024-09-02\n    end_date: 2024-09-30\n",
        "    source: posterior\n    path: mmm.nc\n",
    )
    for name in ("vendor_draws.csv", "mmm.nc"):
        shutil.copy(mmm_folder / name, tmp_path / name)
    (tmp_path / "c.yaml").write_text(config + "  num_periods: 5\n")
    with pytest.raises(ConfigError, match="Use `source: mmm`"):
        run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False)


def test_mmm_view_needs_its_window_dates(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        MMM_CONFIG.format(start="2024-09-02", end="2024-09-30").replace(
            "    end_date: 2024-09-30\n", ""
        )
    )
    (tmp_path / "mmm.nc").write_text("")
    shutil.copy(EXAMPLES / "vendor_draws.csv", tmp_path / "vendor_draws.csv")
    with pytest.raises(ConfigError, match="needs `start_date` and `end_date`"):
        load_config(path)


def test_budget_without_periods_and_without_an_mmm_is_refused(tmp_path, folder):
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "c.yaml").write_text(CONFIG.replace("  num_periods: 4\n", ""))
    with pytest.raises(ValueError, match="num_periods is needed"):
        run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False)


@pytest.mark.slow
def test_cli_runs_a_saved_mmm_with_lift_tests_and_attribution(tmp_path, capsys):
    """The issue's workflow: a saved MMM, a lift-test fit and an attribution fit, by the CLI."""
    from pymc_robust_alloc.cli import main

    for name in ("attribution.csv", "lift_tests.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    saved_mmm(tmp_path / "mmm.nc")
    config = MMM_CONFIG.format(start="2024-09-02", end="2024-09-30").replace(
        "  vendor:\n    source: draws\n    path: vendor_draws.csv\n",
        "  experiment:\n    source: lift_tests\n    path: lift_tests.csv\n    draws: 100\n"
        "    tune: 200\n    chains: 1\n"
        "  attribution:\n    source: table\n    path: attribution.csv\n    n_draws: 60\n",
    )
    (tmp_path / "config.yaml").write_text(config + "objectives:\n  minimax: true\n")
    assert main(["run", str(tmp_path / "config.yaml"), "--output", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert f"Wrote 9 files to {tmp_path / 'out'}" in captured.out
    assert "Solving the plans (5 periods; draws per view: mmm 30" in captured.err
    result = json.loads((tmp_path / "out" / "result.json").read_text())
    assert result["settings"]["view_draws"] == {
        "mmm": MMM_DRAWS,
        "experiment": 100,
        "attribution": 60,
    }


RELATIVE = CONFIG.replace(
    "    path: vendor_draws.csv\n",
    "    path: vendor_draws.csv\n"
    "    evidence: {search: [10, 40], social: [5, 30], display: [0, 20]}\n",
) + (
    "regret: relative\n"
    "reference_plan: {search: 30.0, social: 15.0, display: 15.0}\n"
    "extrapolation_threshold: 1.0\n"
)


@pytest.mark.slow
def test_relative_regret_and_evidence_run_from_a_config(tmp_path, folder):
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "c.yaml").write_text(RELATIVE)
    result = run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False).result
    assert result.settings["regret"] == "relative"
    assert result.success_probability is None  # the reference serves the regret only
    np.testing.assert_allclose(result.regret.sel(plan="reference"), 1.0)
    vendor = result.evidence.sel(view="vendor", channel="social").values.tolist()
    assert vendor == [5.0, 30.0]
    assert not result.extrapolation.sel(view=["attribution", "vendor"]).isnull().any()


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            RELATIVE.replace("reference_plan: {search: 30.0, social: 15.0, display: 15.0}\n", ""),
            "add `reference_plan",
        ),
        (
            RELATIVE.replace(
                "    n_draws: 60\n", "    n_draws: 60\n    evidence: {search: [1, 2]}\n", 1
            ),
            "declare evidence only for draws",
        ),
    ],
)
def test_relative_regret_config_errors(tmp_path, folder, text, match):
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(folder / name, tmp_path / name)
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=match):
        run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False)


def test_config_run_with_a_frontier_section_writes_it_and_shows_it(tmp_path):
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG + "frontier:\n  budgets: [50, 60]\n")
    run = run_config(path, output_dir=tmp_path / "out", progress=False)
    assert {"frontier.csv", "frontier.nc", "frontier.png"} <= {p.name for p in run.files}
    assert "Budget frontier: total budgets 50, 60" in (tmp_path / "out" / "report.html").read_text()


@pytest.mark.slow  # three allocators compiled: ~40 s
def test_flighting_and_cost_per_unit_of_a_config_reach_the_plans(tmp_path):
    shutil.copy(EXAMPLES / "vendor_draws.csv", tmp_path / "vendor_draws.csv")
    (tmp_path / "c.yaml").write_text(
        "views:\n"
        "  vendor: {source: draws, path: vendor_draws.csv}\n"
        "  copy: {source: draws, path: vendor_draws.csv}\n"
        "budget:\n"
        "  total: 60.0\n"
        "  num_periods: 2\n"
        "  budget_distribution_over_period: [0.8, 0.2]\n"
        "  cost_per_unit: {search: 2.0, social: 1.0, display: 0.5}\n"
    )
    run = run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False)
    vendor = view_from_draws(read_table(tmp_path / "vendor_draws.csv"), "vendor").view
    copy = view_from_draws(read_table(tmp_path / "vendor_draws.csv"), "copy").view
    expected = allocate(
        [vendor, copy],
        total_budget=60.0,
        num_periods=2,
        budget_distribution_over_period=[0.8, 0.2],
        cost_per_unit={"search": 2.0, "social": 1.0, "display": 0.5},
    ).plans
    plain = allocate([vendor, copy], total_budget=60.0, num_periods=2).plans
    got = run.result.plans.sel(channel=expected["channel"])
    np.testing.assert_allclose(got.values, expected.values, rtol=1e-6, atol=1e-6)
    assert float(abs(got - plain.sel(channel=expected["channel"])).max()) > 1.0


@pytest.mark.slow  # fits and writes a full run: ~30 s
def test_config_constraints_reach_every_plan_and_the_report(run, tmp_path):
    free = run.result.plans.sel(channel=["search", "social"]).sum("channel")
    assert float(free.max()) > 46  # the constraint binds
    for name in ("attribution.csv", "vendor_draws.csv"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    (tmp_path / "c.yaml").write_text(
        CONFIG
        + "constraints:\n  - {channels: [search, social], max: 45, name: search and social}\n"
    )
    capped = run_config(tmp_path / "c.yaml", output_dir=tmp_path / "out", progress=False)
    pair = capped.result.plans.sel(channel=["search", "social"]).sum("channel")
    assert float(pair.max()) <= 45 * (1 + 1e-6)
    page = (tmp_path / "out" / "report.html").read_text()
    assert "search + social: max 45" in page
