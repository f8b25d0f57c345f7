"""Numbers as a reader sees them: percentages that never hide a small non-zero value."""

from __future__ import annotations

import math

__all__ = ["number", "percent", "signed", "signed_percent"]

#: Smallest share written with digits; anything smaller (but not zero) is "< 0.01 %".
SMALLEST = 1e-4


def percent(share: float) -> str:
    """Write a share (e.g. a regret or a probability) as a readable percentage.

    Zero is "0 %" only when it is exactly zero; a non-zero share too small for
    two decimals is "< 0.01 %", one just short of 1 is "> 99.99 %".

    Examples
    --------
    >>> percent(0.1234), percent(2.4e-18), percent(0.0), percent(1 - 1e-9)
    ('12.34 %', '< 0.01 %', '0 %', '> 99.99 %')
    >>> percent(-3e-7), percent(float("nan"))
    ('> -0.01 %', 'n/a')
    """
    share = float(share)
    if math.isnan(share):
        return "n/a"
    if share == 0:
        return "0 %"
    if abs(share) < SMALLEST:
        return "< 0.01 %" if share > 0 else "> -0.01 %"
    if 1 - SMALLEST < share < 1:
        return "> 99.99 %"
    return f"{100 * share:.2f} %"


def number(value: float) -> str:
    """Write an amount with sensible precision and thousands separators."""
    value = float(value)
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def signed(value: float, share: float | None = None) -> str:
    """Write a change with its sign, and its share of the baseline when given."""
    text = number(value)
    if float(value) > 0:
        text = "+" + text
    if share is not None:
        text += f" ({signed_percent(share)})"
    return text


def signed_percent(share: float) -> str:
    """Write a relative change as a percentage with its sign."""
    text = percent(share)
    return "+" + text if float(share) > 0 and text[0].isdigit() else text
