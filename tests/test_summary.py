"""The result in plain words: recommendation, readable percentages, long shots."""

import re
import warnings

import pytest

from pymc_robust_alloc.formatting import percent
from pymc_robust_alloc.report import report_html
from pymc_robust_alloc.summary import (
    convergence_text,
    long_shot_text,
    outcome_frame,
    recommendation_text,
    reference_note,
    spend_frame,
)
from tests.conftest import BOUNDS, BUDGET, GEO_COORDS, REFERENCE


@pytest.mark.parametrize(
    "share, text",
    [(2.4e-18, "< 0.01 %"), (0.0, "0 %"), (0.05, "5.00 %"), (1 - 1e-12, "> 99.99 %")],
)
def test_percent_never_shows_a_non_zero_share_as_zero(share, text):
    assert percent(share) == text


def test_repr_html_is_compact_and_readable(success_result):
    page = success_result._repr_html_()
    assert "Recommended plan: minimax" in page
    assert not re.search(r"\de-\d", page)  # no 2.4e-18
    assert page.count("<table") == 3  # spend, regret, success
    for value in success_result.regret.values.ravel():
        if value != 0:
            assert percent(value) != "0 %"


def test_recommendation_names_the_worst_view_and_its_loss(success_result):
    first = recommendation_text(success_result)[0]
    regret = success_result.regret.sel(plan="minimax")
    assert f"gives up {percent(float(regret.max()))}" in first
    assert repr(str(regret.idxmax().item())) in first


def test_reference_beating_itself_is_explained_as_a_gaussian_artefact(success_result):
    own = float(success_result.success_probability.sel(plan="reference").max())
    assert own > 0  # the Gaussian approximation's normal tail below zero
    note = reference_note(success_result)
    assert "artefact of the Gaussian approximation" in note
    assert note.endswith("Counted draw by draw it is 0 %.")


def test_reachable_gain_certificate_and_outcomes_are_said_plainly(success_result):
    assert long_shot_text(success_result).startswith("The required gain is within reach: ")
    text = convergence_text(success_result)
    assert text.startswith(f"All {len(success_result.solves)} solves converged")
    assert "the minimax plan is certified optimal" in text
    assert outcome_frame(success_result).columns[0] == "expected"


def test_an_out_of_reach_gain_is_no_recommendation(allocator, views):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        far = allocator.allocate(BUDGET, BOUNDS, reference_plan=REFERENCE, required_gain=0.5)
    assert far.long_shot
    text = long_shot_text(far)
    assert text.startswith("No plan is likely to reach the required gain of 50.00 %")
    reach = far.reachable_gain
    for view in far.views:
        assert f"{view}: {percent(float(reach.sel(view=view)))}" in text
    assert far.recommended == "minimax"
    assert any("No plan is likely" in line for line in recommendation_text(far))


def test_spend_table_and_report_show_every_channel_and_geo_cell(geo_allocator):
    result = geo_allocator.allocate(10.0)
    table = spend_frame(result)
    plan = result.plans.sel(plan=result.recommended)
    for channel in GEO_COORDS["channel"]:
        for geo in GEO_COORDS["geo"]:
            assert table.loc[(channel, geo), "minimax"] == float(plan.sel(channel=channel, geo=geo))
    assert table.loc[("total", ""), "minimax"] == pytest.approx(10.0)
    page = report_html(result)
    assert page.count(">north<") == 2 and page.count(">south<") == 2
