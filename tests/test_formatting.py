"""Readable numbers: a non-zero share is never written as zero."""

from hypothesis import given
from hypothesis import strategies as st

from pymc_robust_alloc.formatting import percent, signed_percent


@given(st.floats(min_value=-1.0, max_value=1.0, allow_nan=False).filter(lambda x: x != 0))
def test_a_non_zero_share_is_never_written_as_zero(share):
    text = percent(share)
    assert text != "0 %" and "e-" not in text
    assert not text.startswith("0.00") and not text.startswith("-0.00")
    assert signed_percent(share).lstrip("+") == text


@given(st.floats(min_value=1e-4, max_value=1 - 1e-4))
def test_written_percent_is_within_rounding_of_the_share(share):
    text = percent(share)
    assert abs(float(text.removesuffix(" %")) - 100 * share) <= 0.005 + 1e-9
