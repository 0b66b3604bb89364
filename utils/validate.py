"""Knob validation for the synthetic worlds.

Every world validates its knobs up front, so a bad value fails with a message that names the
knob, the value and the valid range, instead of a stack trace from deep inside numpy or pandas.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable


def check_int(name: str, value: object, low: int, high: int) -> int:
    """Return ``value`` as an int if it is an integer in ``[low, high]``, else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{low:,}, {high:,}]; got {value!r}")
    if not low <= int(value) <= high:
        raise ValueError(f"{name}={int(value):,} is out of range; valid range is [{low:,}, {high:,}]")
    return int(value)


def check_float(name: str, value: object, low: float, high: float) -> float:
    """Return ``value`` as a float if it is a finite real number in ``[low, high]``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}]; got {value!r}")
    number = float(value)
    if not low <= number <= high:  # NaN fails this comparison too
        raise ValueError(f"{name}={number:g} is out of range; valid range is [{low:g}, {high:g}]")
    return number


def check_choice(name: str, value: object, choices: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``choices``, else raise ValueError listing them."""
    options = list(choices)
    if value not in options:
        raise ValueError(f"{name}={value!r} is not valid; choose one of {options!r}")
    return value


def check_seed(value: object) -> int:
    """A seed is any non-negative integer below 2**32."""
    return check_int("seed", value, 0, 2**32 - 1)
