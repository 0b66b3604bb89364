"""Latency measured so that a busy laptop cannot turn it into a false claim.

A notebook asserts only what a call *costs*: the median CPU time per call (p50), the best of
several repeats. Other processes on a busy laptop stretch wall-clock time (a call of 8 ms took
65 ms beside six busy processes) but barely move the CPU time the call itself uses. Wall-clock
p50 and p99 are printed for the learner; the hard p99 bars live in ``make bench``, on a quiet
machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Latency:
    """Milliseconds per call. ``p50``: median CPU time of the process per call, best of the
    repeats (what a notebook may assert). ``wall_p50`` (best of the repeats' medians) and ``p99``
    (pooled over every call) are wall-clock latency: shown, asserted only in ``make bench``."""

    p50: float
    wall_p50: float
    p99: float
    calls: int
    repeats: int

    def __str__(self) -> str:
        return (f"CPU p50 {self.p50:.3f} ms; wall-clock p50 {self.wall_p50:.3f} ms, "
                f"p99 {self.p99:.3f} ms (over {self.calls:,} calls, {self.repeats} repeats)")


def measure(call: Callable[[Any], object], inputs: Sequence[Any], repeats: int = 5) -> Latency:
    """Time ``call(x)`` for every ``x`` in ``inputs``, ``repeats`` times over."""
    if repeats < 1:
        raise ValueError(f"repeats={repeats} is out of range; valid range is [1, 100]")
    if len(inputs) < 1:
        raise ValueError("inputs must hold at least one call's input")
    cpu_medians, wall_medians, every = [], [], []
    for _ in range(repeats):
        wall, cpu = np.empty(len(inputs)), np.empty(len(inputs))
        for i, x in enumerate(inputs):
            start, start_cpu = time.perf_counter(), time.process_time()
            call(x)
            cpu[i] = time.process_time() - start_cpu
            wall[i] = time.perf_counter() - start
        cpu_medians.append(float(np.median(cpu)))
        wall_medians.append(float(np.median(wall)))
        every.append(wall)
    pooled = np.concatenate(every) * 1e3
    return Latency(p50=min(cpu_medians) * 1e3, wall_p50=min(wall_medians) * 1e3,
                   p99=float(np.percentile(pooled, 99)), calls=len(pooled), repeats=repeats)
