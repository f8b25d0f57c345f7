"""Numbers as a reader sees them: percentages that never hide a small non-zero value."""

from __future__ import annotations

import math

__all__ = ["percent"]

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
