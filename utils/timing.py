"""Latency measured so that a busy laptop cannot turn it into a false claim.

A notebook asserts only the *typical* cost of a call: the median (p50) latency, taken as the best
of several repeats, which other processes on the machine barely move. The tail (p99) is printed
for the learner but asserted only in ``make bench``, on a quiet machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Latency:
    """Milliseconds per call: ``p50`` is the best of the repeats' medians (what a notebook may
    assert); ``p99`` is pooled over every call (shown, asserted only in ``make bench``)."""

    p50: float
    p99: float
    calls: int
    repeats: int

    def __str__(self) -> str:
        return (f"p50 {self.p50:.3f} ms (best of {self.repeats} repeats), "
                f"p99 {self.p99:.3f} ms over {self.calls:,} calls")


def measure(call: Callable[[Any], object], inputs: Sequence[Any], repeats: int = 5) -> Latency:
    """Time ``call(x)`` for every ``x`` in ``inputs``, ``repeats`` times over."""
    if repeats < 1:
        raise ValueError(f"repeats={repeats} is out of range; valid range is [1, 100]")
    if len(inputs) < 1:
        raise ValueError("inputs must hold at least one call's input")
    medians, every = [], []
    for _ in range(repeats):
        times = np.empty(len(inputs))
        for i, x in enumerate(inputs):
            start = time.perf_counter()
            call(x)
            times[i] = time.perf_counter() - start
        medians.append(float(np.median(times)))
        every.append(times)
    pooled = np.concatenate(every) * 1e3
    return Latency(p50=min(medians) * 1e3, p99=float(np.percentile(pooled, 99)),
                   calls=len(pooled), repeats=repeats)
