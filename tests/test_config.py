import hashlib
import shutil
from importlib.resources import files

import numpy as np
import pytest

from pymc_robust_alloc import allocate
from pymc_robust_alloc.config import OBJECTIVES, ConfigError, load_config, run_config
from pymc_robust_alloc.fit import fit_least_squares, read_table, view_from_draws

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
