"""The knobs of a notebook's ``parameters`` cell: their documented ranges, checked up front.

Each notebook lists its knobs once, right after the ``parameters`` cell::

    KNOBS = [Knob("SEED", 0, 0, 2**32 - 1, "seed of the world and every model"), ...]
    AT_DEFAULTS = check_knobs(KNOBS, globals())

A value outside its range raises a ``ValueError`` naming the knob, the value and the range, before
any work is done. Inside the range Run All finishes (``make knobs`` runs every knob at both ends).
``check_knobs`` returns True when every knob is at its default: the scorecard then asserts that
its claims hold; with other values it reports which hold and why not (:mod:`utils.scorecard`).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from utils.validate import check_choice, check_float, check_int


@dataclass(frozen=True)
class Knob:
    """One parameter a learner may change: its default and the range that keeps Run All working.

    ``low``/``high`` bound a number (an int knob when the default is an int); ``choices`` lists the
    allowed values of a categorical knob; ``path=True`` marks an optional file or folder
    (``None`` or a path that exists); ``free=True`` a value the notebook checks itself (say, a
    list of questions), described in ``doc``.
    """

    name: str
    default: Any
    low: float | None = None
    high: float | None = None
    doc: str = ""
    choices: tuple[Any, ...] | None = None
    path: bool = False
    free: bool = False

    def __post_init__(self) -> None:
        kinds = (self.low is not None or self.high is not None, self.choices is not None, self.path, self.free)
        if sum(kinds) != 1:
            raise ValueError(f"knob {self.name}: give exactly one of low/high, choices, path=True or free=True")
        if kinds[0] and (self.low is None or self.high is None or self.low > self.high):
            raise ValueError(f"knob {self.name}: low={self.low!r} and high={self.high!r} must both be set, low <= high")
        if kinds[0] and self.is_int and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError(f"knob {self.name}: an integer knob needs integer bounds; got {self.low!r}, {self.high!r}")
        if kinds[0] and not self.low <= self.default <= self.high:
            raise ValueError(f"knob {self.name}: default {self.default!r} is outside [{self.low!r}, {self.high!r}]")

    @property
    def is_int(self) -> bool:
        return isinstance(self.default, numbers.Integral) and not isinstance(self.default, bool)

    def check(self, value: Any) -> Any:
        """Return ``value`` if it is valid for this knob, else raise ValueError naming knob and range."""
        if self.free:
            return value
        if self.path:
            if value is None:
                return None
            if not isinstance(value, (str, Path)):
                raise ValueError(f"{self.name} must be None or a path to an existing file or folder; got {value!r}")
            if not Path(value).expanduser().exists():
                raise ValueError(f"{self.name}={str(value)!r}: no such file or folder")
            return value
        if self.choices is not None:
            return check_choice(self.name, value, self.choices)
        assert self.low is not None and self.high is not None
        if self.is_int:
            return check_int(self.name, value, int(self.low), int(self.high))
        return check_float(self.name, value, float(self.low), float(self.high))

    def ends(self) -> list[Any]:
        """The values ``make knobs`` runs: both ends of a range, every other choice; none for a path
        or a free knob (their notebooks test those inputs themselves)."""
        if self.path or self.free:
            return []
        if self.choices is not None:
            return [c for c in self.choices if c != self.default]
        assert self.low is not None and self.high is not None
        cast = int if self.is_int else float
        return [cast(v) for v in (self.low, self.high) if cast(v) != self.default]

    def describe(self) -> str:
        if self.free:
            return "see what it does"
        if self.path:
            return "None, or an existing path"
        if self.choices is not None:
            return " | ".join(repr(c) for c in self.choices)
        if self.is_int:
            return f"{int(self.low):,} to {int(self.high):,}"  # type: ignore[arg-type]
        return f"{self.low:g} to {self.high:g}"


def check_knobs(knobs: Sequence[Knob], namespace: Mapping[str, Any]) -> bool:
    """Validate every knob's current value in ``namespace``; True when all are at their defaults.

    Raises ``ValueError`` for the first value outside its range, or for a knob the parameters
    cell does not define.
    """
    names = [k.name for k in knobs]
    if len(set(names)) != len(names):
        raise ValueError(f"KNOBS lists a name twice: {names}")
    at_defaults = True
    for knob in knobs:
        if knob.name not in namespace:
            raise ValueError(f"{knob.name} is listed in KNOBS but the parameters cell does not set it")
        value = knob.check(namespace[knob.name])
        at_defaults &= _same(value, knob.default)
    return at_defaults


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return float(a) == float(b)
    return bool(a == b)


def knob_table(knobs: Sequence[Knob], namespace: Mapping[str, Any]) -> pd.DataFrame:
    """The knobs as a table for the notebook: value now, default, valid range, what it does."""
    return pd.DataFrame(
        [(k.name, repr(namespace.get(k.name)), repr(k.default), k.describe(), k.doc) for k in knobs],
        columns=["knob", "value", "default", "valid range", "what it does"],
    ).set_index("knob")
