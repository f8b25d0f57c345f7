"""Curve parameters are checked against the range their component is defined on."""

import numpy as np
import pytest
import xarray as xr

from pymc_robust_alloc.views.validation import Range, check_support


def test_a_range_reads_as_its_inequality():
    assert (str(Range(0.0, open_low=True)), str(Range(0.0, 1.0))) == ("> 0", "in [0, 1]")
    np.testing.assert_array_equal(
        Range(0.0, 1.0, open_low=True).contains(np.array([0.0, 0.5, 1.0, 1.5])),
        [False, True, True, False],
    )


def test_draws_outside_the_support_are_counted_and_located():
    lam = np.array([[[1.0, -1.0], [1.0, 2.0], [0.0, 2.0]]])  # (chain, draw, channel)
    ds = xr.Dataset(
        {"mm_lam": (("chain", "draw", "channel"), lam)}, coords={"channel": ["tv", "radio"]}
    )
    ranges = {"lam": Range(0.0, open_low=True, why="a pole"), "alpha": Range(0.0)}
    with pytest.raises(
        ValueError,
        match=r"v: 2 of 3 draws of 'mm_lam' are outside MM's support \(lam > 0\) "
        r"at \['tv', 'radio'\]: a pole",
    ):
        check_support(ds, ranges, owner="v", component="MM", prefix="mm_")
    check_support(ds.clip(min=1.0), ranges, owner="v", component="MM", prefix="mm_")
