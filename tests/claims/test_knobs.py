"""The knob sweep (``make knobs``): Run All finishes with each knob at each end of its range.

One knob moves at a time; the others stay at their defaults. The scorecard reports (it does not
assert) away from the defaults, so a run fails only if a cell raises.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.claims.conftest import SOURCES, knobs_of, run_with
from tests.tools.runner import load

CASES: list[tuple[Path, str, Any]] = [
    (source, knob.name, value)
    for source in SOURCES
    for knob in knobs_of(load(source.with_suffix(".ipynb")))
    for value in knob.ends()
]


@pytest.mark.parametrize(("source", "name", "value"), CASES,
                         ids=[f"{s.stem[:2]}-{n}={v!r}" for s, n, v in CASES])
def test_run_all_finishes_at_knob_end(source: Path, name: str, value: Any) -> None:
    run_with(source, {name: value})
