import contextlib
import io
import json
import subprocess
import sys

import numpy as np
import pytest

from pymc_robust_alloc.cli import main
from pymc_robust_alloc.demo import CHANNELS

DEMO = ["demo", "--draws", "60", "--periods", "2", "--seed", "3"]


@pytest.fixture(scope="module")
def demo_json():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*DEMO, "--format", "json"]) == 0
    return json.loads(out.getvalue())


def test_demo_json_holds_settings_views_plans_and_regret(demo_json):
    assert demo_json["channels"] == list(CHANNELS)
    assert demo_json["settings"]["draws"] == 60
    assert demo_json["settings"]["seed"] == 3
    views = ["regression", "experiment", "attribution"]
    assert list(demo_json["v_star"]) == views
    plans = demo_json["plans"]
    assert {*views, "averaged", "minimax"} <= set(plans)
    for plan in plans.values():
        assert sum(plan.values()) == pytest.approx(100.0, abs=1e-6)
        assert all(0.0 - 1e-9 <= spend <= 60.0 + 1e-9 for spend in plan.values())
    regret = demo_json["regret"]
    worst = demo_json["max_regret"]
    assert min(worst, key=worst.get) == "minimax"
    for view in views:
        assert regret[view][view] == pytest.approx(0.0, abs=1e-6)


def test_demo_json_is_what_the_python_api_computes(demo_json):
    from pymc_robust_alloc import RobustAllocator
    from pymc_robust_alloc.demo import demo_views

    result = RobustAllocator(demo_views(60, 3), 2).allocate(
        100.0, dict.fromkeys(CHANNELS, (0.0, 60.0))
    )
    minimax = result.plan("minimax").sel(channel=list(CHANNELS)).values
    assert np.allclose(minimax, [demo_json["plans"]["minimax"][c] for c in CHANNELS], atol=1e-6)


def test_demo_text_prints_plans_and_regret_matrix(capsys):
    assert main([*DEMO, "--budget", "50", "--max-share", "0.8"]) == 0
    out = capsys.readouterr().out
    assert "Budget 50 per period over 2 periods, 60 draws per view." in out
    assert "Plans (spend per period):" in out
    assert "Regret matrix (1 - V/V*):" in out
    assert "Solves converged: True" in out


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["allocate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.slow  # the success solve at an out-of-reach gain runs ~1 min on a fresh allocator
def test_demo_says_when_no_plan_is_likely_to_reach_the_gain(capsys):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        main(["demo", "--draws", "20", "--periods", "2", "--reference", "equal",
              "--required-gain", "0.5"])  # fmt: skip
    out = capsys.readouterr().out
    assert "No plan is likely to reach the required gain of 50.00 %" in out
    assert "0.00%" not in out  # readable percentages: never 0 for a non-zero probability


def test_max_share_is_a_share_of_the_budget(demo_json):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*DEMO, "--budget", "1000", "--max-share", "0.4", "--format", "json"]) == 0
    result = json.loads(out.getvalue())
    assert result["settings"]["max_share"] == 0.4
    for plan in result["plans"].values():
        assert sum(plan.values()) == pytest.approx(1000.0, rel=1e-9)
        assert max(plan.values()) <= 400.0 * (1 + 1e-9)
    assert max(result["plans"]["regression"].values()) == pytest.approx(400.0, rel=1e-6)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--max-share", "0.2"], "--max-share must be a share of the budget"),
        (["demo", "--draws", "20", "--reference", "search=1,x"], "--reference: expected"),
        (["demo", "--draws", "20", "--budget", "-5"], "total_budget"),
        (["run", "no/such/config.yaml"], "No such config file"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("robust-alloc: error: ")
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.err.count("\n") == 1


def test_debug_flag_shows_the_traceback():
    with pytest.raises(FileNotFoundError, match="No such config file"):
        main(["run", "no/such/config.yaml", "--debug"])
    with pytest.raises(ValueError, match="--max-share"):
        main(["--debug", "demo", "--max-share", "0.2"])


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "(default: 0.6)" in out
    assert "(default: 100.0)" in out


def test_help_imports_no_heavy_module():
    """`robust-alloc --help` answers without importing PyMC (it took 15 s)."""
    code = (
        "import sys\n"
        "from pymc_robust_alloc.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pymc', 'pytensor', 'pymc_marketing', 'pandas', 'xarray',"
        " 'matplotlib', 'scipy') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in done.stdout


def test_bad_config_fails_before_pymc_is_imported(tmp_path):
    (tmp_path / "c.yaml").write_text("views: {}\nbudget: {total: 1, bound: {}}\n")
    code = (
        "import sys\n"
        "from pymc_robust_alloc.cli import main\n"
        f"status = main(['run', {str(tmp_path / 'c.yaml')!r}])\n"
        "print('STATUS', status, [m for m in ('pymc', 'pytensor') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "STATUS 2 []" in done.stdout
    assert "line 2: 'budget.bound' is not a known key" in done.stderr


def test_sweep_text_says_it_uses_attribution_base_curve(capsys):
    assert main([*DEMO, "--sweep"]) == 0
    out = capsys.readouterr().out
    assert "Scale sweep: attribution's response on its base curve (alpha = 2.5, 0.5, 1.8" in out


def test_flighting_reaches_the_plans(demo_json):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*DEMO, "--flighting", "0.9,0.1", "--format", "json"]) == 0
    flighted = json.loads(out.getvalue())
    assert flighted["settings"]["budget_distribution_over_period"][0] == [0.9, 0.9, 0.9]
    moved = [
        abs(flighted["plans"]["minimax"][c] - demo_json["plans"]["minimax"][c]) for c in CHANNELS
    ]
    assert max(moved) > 0.5
    assert main([*DEMO, "--flighting", "0.5,0.2"]) == 2


@pytest.mark.slow
def test_demo_relative_regret_is_measured_against_the_reference(capsys):
    assert main([*DEMO, "--regret", "relative", "--reference", "equal"]) == 0
    assert "Regret matrix ((V* - V) / (V* - V(reference)))" in capsys.readouterr().out


def test_demo_relative_regret_needs_a_reference(capsys):
    assert main([*DEMO, "--regret", "relative"]) == 2
    assert "--regret relative measures each view" in capsys.readouterr().err


def _demo_json(*argv):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*DEMO, *argv, "--format", "json"]) == 0
    return json.loads(out.getvalue())


def test_cost_per_unit_is_a_price_of_the_spend_input(demo_json):
    """Every price doubled and the budget doubled buy the same units: plans double."""
    doubled = _demo_json("--budget", "200", "--cost-per-unit", "2,2")
    for plan, spend in demo_json["plans"].items():
        for channel, value in spend.items():
            assert doubled["plans"][plan][channel] == pytest.approx(2 * value, rel=1e-4)
    dearer = _demo_json("--cost-per-unit", "search=4,social=1,display=1")
    moved = dearer["plans"]["regression"]["search"] - demo_json["plans"]["regression"]["search"]
    assert abs(moved) > 1.0
    assert main([*DEMO, "--cost-per-unit", "search=x"]) == 2
