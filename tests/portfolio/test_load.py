import shutil
from importlib.resources import files

import pytest

from pymc_robust_alloc.cli import main
from pymc_robust_alloc.config import ConfigError, run_config
from pymc_robust_alloc.portfolio import ConfigViews, load_portfolio

EXAMPLES = files("pymc_robust_alloc") / "examples"

BASE = """\
seed: 3
views:
  experiment: {source: draws, path: "{market}/experiment_draws.csv"}
  vendor: {source: draws, path: "{market}/vendor_draws.csv"}
budget:
  total: 60.0
  num_periods: 2
  bounds: {search: [5, 40], social: [5, 40], display: [0, 30]}
n_draws: 20
portfolio:
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("portfolio")
    for market in ("north", "south"):
        (path / market).mkdir()
        for view in ("experiment", "vendor"):
            name = f"{view}_draws.csv"
            shutil.copy(EXAMPLES / "markets" / market / name, path / market / name)
    return path


def write(folder, entries: str, name="portfolio.yaml"):
    path = folder / name
    path.write_text(BASE + entries)
    return path


def test_entries_override_the_base(folder):
    path = write(
        folder,
        "  - {name: a, market: north, budget: 40}\n"
        "  - {name: b, market: north, scenario: tight, bounds: {search: [5, 20], "
        "social: [5, 40], display: [0, 30]}}\n"
        "  - {name: c, market: south, weights: {vendor: 2}, reference: "
        "{search: 20, social: 20, display: 20}}\n",
    )
    a, b, c = load_portfolio(path)
    assert (a.total_budget, b.total_budget) == (40.0, 60.0)
    assert dict(b.labels) == {"market": "north", "scenario": "tight"}
    assert b.bounds["search"] == (5.0, 20.0) and a.bounds["search"] == (5.0, 40.0)
    assert c.weights == {"vendor": 2.0} and c.reference_plan["display"] == 20.0
    # The same market's entries share their views; another market's do not.
    assert isinstance(a.views, ConfigViews)
    assert a.views.key == b.views.key != c.views.key
    assert a.views.specs["vendor"].path == "north/vendor_draws.csv"
    assert len({a.seed, b.seed, c.seed}) == 3


def test_unknown_override_key_names_the_entry_and_the_key(folder):
    path = write(folder, "  - {name: a, market: north}\n  - {name: b, market: north, budgt: 3}\n")
    with pytest.raises(ConfigError, match=r"portfolio entry 'b' overrides 'budgt'") as err:
        load_portfolio(path)
    assert "line 12" in str(err.value)


def test_duplicate_entry_names_are_refused(folder):
    path = write(folder, "  - {name: a, market: north}\n  - {name: a, market: south}\n")
    with pytest.raises(ConfigError, match="two portfolio entries are named 'a'"):
        load_portfolio(path)


def test_path_placeholder_needs_the_entry_label(folder):
    path = write(folder, "  - {name: a}\n")
    with pytest.raises(ConfigError, match=r"uses \{market\} but portfolio entry 'a' sets no"):
        load_portfolio(path)


def test_run_refuses_a_portfolio_config(folder):
    path = write(folder, "  - {name: a, market: north}\n")
    with pytest.raises(ConfigError, match="run-many"):
        run_config(path)


def test_shipped_example_portfolio_loads():
    problems = load_portfolio(EXAMPLES / "portfolio.yaml")
    assert len(problems) == 8
    assert len({p.views.key for p in problems}) == 4


def test_cli_runs_a_portfolio_serially_and_on_a_scheduler(folder, client, capsys):
    path = write(folder, "  - {name: a, market: north}\n  - {name: b, market: south}\n", "cli.yaml")
    out = folder / "out"
    assert (
        main(["run-many", str(path), "--workers", "1", "--output", str(out), "--no-progress"]) == 0
    )
    assert "converged" in capsys.readouterr().out
    assert {p.name for p in out.iterdir()} >= {"portfolio.nc", "summary.csv", "report.html"}
    assert main(["run-many", str(path), "--output", str(out), "--no-progress"]) == 2
    assert "resume" in capsys.readouterr().err
    address = client.scheduler.address
    assert (
        main(
            [
                "run-many",
                str(path),
                "--scheduler",
                address,
                "--output",
                str(out),
                "--overwrite",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "FAILED" not in capsys.readouterr().out


def test_cli_reports_an_unreachable_scheduler(folder, capsys):
    path = write(folder, "  - {name: a, market: north}\n", "lone.yaml")
    assert (
        main(
            [
                "run-many",
                str(path),
                "--scheduler",
                "tcp://127.0.0.1:9",
                "--timeout",
                "1",
                "--output",
                str(folder / "x"),
                "--no-progress",
            ]
        )
        == 2
    )
    assert "Could not reach a Dask scheduler" in capsys.readouterr().err
