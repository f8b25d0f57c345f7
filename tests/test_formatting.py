"""Readable numbers: a non-zero share is never written as zero."""

from hypothesis import given
from hypothesis import strategies as st

from pymc_robust_alloc.formatting import number, percent, signed, signed_percent


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


def test_amounts_and_changes_are_written_with_sensible_precision():
    assert [number(v) for v in (14189.88, 14.18988, 0.0354712, float("nan"))] == [
        "14,190",
        "14.19",
        "0.0355",
        "n/a",
    ]
    assert (signed(12.5, 0.034), signed(-0.5), signed(0.0, 0.0)) == (
        "+12.50 (+3.40 %)",
        "-0.5",
        "0 (0 %)",
    )
    assert [signed_percent(s) for s in (0.0567, -0.0056, 3e-9)] == [
        "+5.67 %",
        "-0.56 %",
        "< 0.01 %",
    ]
