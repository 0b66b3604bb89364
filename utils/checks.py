"""Exercise self-checks: print whether an answer is right, never raise on an unattempted one."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

#: The placeholder learners replace; an exercise left at it is reported as "not attempted yet".
TODO: Any = None


def _close(answer: Any, expected: Any, rel_tol: float, abs_tol: float) -> bool:
    if isinstance(expected, np.ndarray):
        expected = expected.tolist()
    if isinstance(answer, np.ndarray):
        answer = answer.tolist()
    if isinstance(expected, numbers.Real) and not isinstance(expected, (bool, np.bool_)):
        try:
            return math.isclose(float(answer), float(expected), rel_tol=rel_tol, abs_tol=abs_tol)
        except (TypeError, ValueError):
            return False
    if isinstance(expected, (list, tuple)):
        try:
            return len(answer) == len(expected) and all(
                _close(a, e, rel_tol, abs_tol) for a, e in zip(answer, expected, strict=True)
            )
        except TypeError:
            return False
    if isinstance(expected, str) and isinstance(answer, str):
        return answer.strip().lower() == expected.strip().lower()
    return bool(answer == expected)


def _fmt(value: Any) -> str:
    """The answer as the solutions print it (tests/exercises.py reads it to find leaked answers)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_, numbers.Integral)):
        return f"{float(value):.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


def check_answer(
    exercise: str,
    answer: Any,
    expected: Any,
    *,
    rel_tol: float = 0.02,
    abs_tol: float = 0.0,
    hint: str = "",
) -> bool:
    """Compare a learner's ``answer`` with ``expected`` and print a one-line verdict.

    Numbers match within ``rel_tol`` (default 2 %) or ``abs_tol``; lists and tuples element-wise;
    strings case-insensitively. ``None`` (the placeholder) prints "not attempted yet" with the hint.
    Returns True only for a correct answer.
    """
    if answer is TODO or answer is Ellipsis:
        print(f"{exercise}: not attempted yet — replace the placeholder. Hint: {hint or 'see above.'}")
        return False
    if _close(answer, expected, rel_tol, abs_tol):
        print(f"{exercise}: correct ✓ (answer: {_fmt(answer)})")
        return True
    print(f"{exercise}: not quite (got {answer!r}). Hint: {hint or 'reread the section above.'}")
    return False
