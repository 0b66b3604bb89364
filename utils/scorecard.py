"""The scorecard: one row per claim a notebook makes, computed from the notebook's own state.

With the default parameters a notebook asserts that every claim holds (so the test suite fails
when one breaks). With other parameters it reports which claims hold and, for those that do not,
a one-line reason, and Run All goes on. ``make claims`` runs every notebook at seeds 1-3 with
``COURSE_STRICT_CLAIMS=1`` in the environment, which makes the scorecard assert there too.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

#: Environment variable that makes :func:`enforce` assert at any parameters (set by ``make claims``).
STRICT_ENV = "COURSE_STRICT_CLAIMS"
COLUMNS = ["claim", "value", "reference", "holds", "why not"]


def _show(value: Any) -> Any:
    if isinstance(value, (bool, numbers.Integral)) or isinstance(value, str):
        return value
    if isinstance(value, numbers.Real):
        number = float(value)
        return round(number, 3) if math.isfinite(number) else number
    return value


def build(rows: Iterable[Sequence[Any]]) -> pd.DataFrame:
    """Rows of ``(claim, value, reference, holds)``, optionally with a fifth item: the reason it
    may fail. Values are rounded to 3 decimals; ``holds`` must be a real boolean outcome."""
    records = []
    for row in rows:
        if len(row) not in (4, 5):
            raise ValueError(f"a scorecard row needs (claim, value, reference, holds[, reason]); got {row!r}")
        claim, value, reference, holds = row[:4]
        if not isinstance(holds, (bool, np.bool_)):
            raise ValueError(f"claim {claim!r}: holds must be True or False (a comparison); got {holds!r}")
        ok = bool(holds)
        reason = row[4] if len(row) == 5 else f"{_show(value)} does not meet {reference}"
        records.append((str(claim), _show(value), str(reference), ok, "" if ok else str(reason)))
    if not records:
        raise ValueError("a scorecard needs at least one claim")
    return pd.DataFrame(records, columns=COLUMNS)


def strict(at_defaults: bool) -> bool:
    """Whether the scorecard asserts: at the defaults, or when ``make claims`` asks for it."""
    return bool(at_defaults) or os.environ.get(STRICT_ENV) == "1"


def enforce(scorecard: pd.DataFrame, *, at_defaults: bool) -> None:
    """Assert that every claim holds when :func:`strict`; otherwise print which do not, and why."""
    failing = scorecard.loc[~scorecard["holds"].astype(bool)]
    if strict(at_defaults):
        if len(failing):
            lines = "\n".join(f"- {c}: {w}" for c, w in zip(failing["claim"], failing["why not"], strict=True))
            raise AssertionError(f"{len(failing)} of {len(scorecard)} scorecard claims do not hold:\n{lines}")
        return
    held = len(scorecard) - len(failing)
    print(f"Not the default parameters: {held} of {len(scorecard)} claims hold with these settings "
          "(the notebook asserts them only at the defaults).")
    for claim, why in zip(failing["claim"], failing["why not"], strict=True):
        print(f"- does not hold: {claim} ({why})")
