"""One rule per input: each check validates, converts and returns, or says what to pass."""

import re

import numpy as np
import pytest
import xarray as xr

from pymc_robust_alloc.checks import (
    as_posterior,
    check_budgets,
    check_count,
    check_finite,
    check_interval,
    check_labels,
    check_positive,
    check_quantile,
    check_scales,
    check_share,
    check_total_budget,
    check_units,
    check_weight_array,
    check_weights,
    is_real,
)

VIEWS = ["regression", "experiment", "attribution"]


def sentences(message: str) -> int:
    """Sentences of a message: a full stop, then a capital (``e.g.`` does not end one)."""
    return len(re.split(r"(?<=[.!?])\s+(?=[A-Z`])", message.strip()))


def test_is_real_accepts_numbers_and_0d_arrays_but_not_bools_or_strings():
    assert is_real(np.float32(2.5)) and is_real(np.array(3)) and is_real(7)
    assert not any(is_real(v) for v in (True, np.bool_(False), "3", None, [1.0]))


@pytest.mark.parametrize("value", [8.0, 8.5, "8", True, None])
def test_counts_refuse_anything_but_integers(value):
    with pytest.raises(TypeError, match=r"n must be an int, got .* Pass an int such as n=8"):
        check_count(value, "n")


def test_counts_are_returned_as_python_ints_and_checked_against_their_minimum():
    got = check_count(np.int16(3), "draws", minimum=2)
    assert got == 3 and type(got) is int
    with pytest.raises(ValueError, match="draws must be at least 2, got 1"):
        check_count(1, "draws", minimum=2)


@pytest.mark.parametrize("value", [0.0, -1.0, np.inf, np.nan])
def test_positive_numbers_refuse_zero_negative_and_non_finite_values(value):
    with pytest.raises(ValueError, match="eta must be a positive step size"):
        check_positive(value, "eta", what="step size")
    with pytest.raises(ValueError, match="tol must be positive"):
        check_positive(value, "tol")


def test_positive_numbers_are_floats_and_refuse_non_numbers():
    assert check_positive(np.int64(2), "k") == 2.0
    with pytest.raises(TypeError, match="smoothing must be a number, got str"):
        check_positive("x", "smoothing")


@pytest.mark.parametrize("q", [0.0, 1.0, -0.1, 1.5, np.nan])
def test_a_risk_quantile_lies_strictly_between_0_and_1(q):
    with pytest.raises(ValueError, match="quantile must be strictly between 0 and 1"):
        check_quantile(q)


def test_a_quantile_statistic_may_be_0_or_1_but_not_outside():
    assert check_quantile(0, closed=True) == 0.0 and check_quantile(1, closed=True) == 1.0
    with pytest.raises(ValueError, match=r"quantile must be in \[0, 1\], got 1.5"):
        check_quantile(1.5, closed=True)
    with pytest.raises(TypeError, match=r"quantile must be a number in \[0, 1\]"):
        check_quantile("0.1", closed=True)


def test_an_interval_level_is_a_fraction_not_a_percentage():
    assert check_interval(0.9) == 0.9
    with pytest.raises(ValueError, match="interval must be strictly between 0 and 1, got 90"):
        check_interval(90)
    with pytest.raises(TypeError, match=r"interval must be a number in \(0, 1\)"):
        check_interval(None)


@pytest.mark.parametrize(("share", "ok"), [(1.0, True), (0.5, True), (0.0, False), (1.5, False)])
def test_a_share_lies_in_the_half_open_unit_interval(share, ok):
    if ok:
        assert check_share(share, "s") == share
    else:
        with pytest.raises(ValueError, match=r"s must be in \(0, 1\]"):
            check_share(share, "s")


def test_weights_by_view_are_aligned_to_the_views_and_scaled_to_a_largest_of_one():
    got = check_weights({"attribution": 4.0, "regression": 2.0}, VIEWS)
    np.testing.assert_array_equal(got, np.array([2.0, 1.0, 4.0]) / 4.0)


def test_positional_weights_need_one_weight_per_view():
    np.testing.assert_array_equal(check_weight_array([2, 1], n_views=2), [2.0, 1.0])
    with pytest.raises(ValueError, match="weights has 3 values for 2 views"):
        check_weight_array([1.0, 1.0, 1.0], n_views=2)
    with pytest.raises(TypeError, match="positional"):
        check_weight_array({"a": 1.0})


def test_response_scales_default_to_one_and_must_be_positive():
    np.testing.assert_array_equal(check_scales(None, VIEWS), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(check_scales({"experiment": 1e3}, VIEWS), [1.0, 1e3, 1.0])
    with pytest.raises(ValueError, match="response_scale of 'experiment' must be positive"):
        check_scales({"experiment": 0.0}, VIEWS)
    with pytest.raises(ValueError, match=r"unknown views \['tv'\]"):
        check_scales({"tv": 2.0}, VIEWS)
    with pytest.raises(TypeError, match=r"response_scale must be a mapping \{view: k\}"):
        check_scales([1.0, 2.0, 3.0], VIEWS)


def test_budgets_must_increase_and_the_message_gives_them_sorted():
    np.testing.assert_array_equal(check_budgets((50, np.float32(100))), [50.0, 100.0])
    with pytest.raises(ValueError, match=r"e\.g\. \[50\.0, 100\.0\]"):
        check_budgets([100, 50, 100])


def test_units_give_every_view_an_outcome_unit():
    got = check_units({"spend": "k$", "outcome": "sales"}, ["a", "b"])
    assert got == {"spend": "k$", "outcome": {"a": "sales", "b": "sales"}}
    with pytest.raises(TypeError, match="The unit of spend must be a string"):
        check_units({"spend": 3}, ["a"])


def _posterior(values, channels=("tv", "radio")):
    return xr.Dataset(
        {"lam": (("chain", "draw", "channel"), np.asarray(values, float))},
        coords={"channel": list(channels)},
    )


def test_the_posterior_is_read_from_a_datatree_and_must_have_sample_dims():
    ds = _posterior(np.ones((1, 3, 2)))
    tree = xr.DataTree.from_dict({"posterior": ds})
    xr.testing.assert_identical(as_posterior(tree, owner="v"), ds)
    with pytest.raises(ValueError, match=r"v: the DataTree has no 'posterior' group"):
        as_posterior(xr.DataTree.from_dict({"prior": ds}), owner="v")
    with pytest.raises(ValueError, match=r"lack the sample dims \['chain'\]"):
        as_posterior(ds.isel(chain=0), owner="v")
    with pytest.raises(TypeError, match="got dict"):
        as_posterior({"lam": 1.0}, owner="v")


def test_draws_must_be_finite_and_labelled_once():
    values = np.ones((1, 3, 2))
    values[0, 1, 0] = np.inf
    with pytest.raises(ValueError, match=r"non-finite draws in \['lam'\] \(1 of 6 values\)"):
        check_finite(_posterior(values), owner="v")
    with pytest.raises(ValueError, match=r"the channel labels repeat \['tv'\]"):
        check_labels(_posterior(np.ones((1, 3, 2)), ("tv", "tv")), ["channel"], owner="v")


@pytest.mark.parametrize(
    "call",
    [
        lambda: check_total_budget("100"),
        lambda: check_total_budget(-1.0),
        lambda: check_count(1.5, "draws"),
        lambda: check_quantile(0.0),
        lambda: check_weights([1.0, 2.0, 3.0], VIEWS),
        lambda: check_weights({"regression": -1.0}, VIEWS),
        lambda: check_scales({"regression": -1.0}, VIEWS),
        lambda: check_budgets([]),
        lambda: check_positive(0.0, "temperature", hint="Pass e.g. 0.1."),
    ],
)
def test_messages_say_what_is_wrong_and_what_to_do_in_at_most_two_sentences(call):
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    assert sentences(str(info.value)) <= 2, str(info.value)
