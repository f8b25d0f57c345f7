import contextlib
import io
import json

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
    assert main([*DEMO, "--budget", "50", "--max-share", "40"]) == 0
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


@pytest.mark.slow
def test_demo_relative_regret_is_measured_against_the_reference(capsys):
    assert main([*DEMO, "--regret", "relative", "--reference", "equal"]) == 0
    assert "Regret matrix ((V* - V) / (V* - V(reference)))" in capsys.readouterr().out


def test_demo_relative_regret_needs_a_reference():
    with pytest.raises(SystemExit, match="--regret relative measures each view"):
        main([*DEMO, "--regret", "relative"])
