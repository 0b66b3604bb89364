"""Unit tests of the shared helpers: validation, self-checks, the course plan."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from utils import course
from utils.checks import check_answer
from utils.validate import check_choice, check_float, check_int, check_seed


def test_check_int_accepts_and_rejects() -> None:
    assert check_int("n_users", 10, 1, 100) == 10
    with pytest.raises(ValueError, match=r"n_users=0 is out of range; valid range is \[1, 100\]"):
        check_int("n_users", 0, 1, 100)
    with pytest.raises(ValueError, match="n_users must be an integer"):
        check_int("n_users", 2.5, 1, 100)
    with pytest.raises(ValueError, match="must be an integer"):
        check_int("n_users", True, 0, 1)


def test_check_float_rejects_nan_and_out_of_range() -> None:
    assert check_float("base_rate", 0.005, 0.001, 0.01) == 0.005
    with pytest.raises(ValueError, match=r"base_rate=0.05 is out of range; valid range is \[0.001, 0.01\]"):
        check_float("base_rate", 0.05, 0.001, 0.01)
    with pytest.raises(ValueError, match="base_rate=nan"):
        check_float("base_rate", math.nan, 0.001, 0.01)
    with pytest.raises(ValueError, match="must be a number"):
        check_float("base_rate", "0.005", 0.001, 0.01)


def test_check_choice_and_seed() -> None:
    assert check_choice("channel", "web", ["web", "pos"]) == "web"
    with pytest.raises(ValueError, match="choose one of"):
        check_choice("channel", "fax", ["web", "pos"])
    with pytest.raises(ValueError, match="seed=-1 is out of range"):
        check_seed(-1)


def test_check_answer_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_answer("Exercise 1", 0.101, 0.1, rel_tol=0.02) is True
    assert check_answer("Exercise 1", 0.2, 0.1, hint="divide first") is False
    assert check_answer("Exercise 1", None, 0.1, hint="divide first") is False
    assert check_answer("Exercise 2", [1, 2], [1, 2]) is True
    assert check_answer("Exercise 3", " PR-AUC ", "pr-auc") is True
    assert check_answer("Exercise 3", "abc", 3.0) is False
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Exercise 1: correct ✓ (answer: 0.101)"
    assert out[1].startswith("Exercise 1: not quite (got 0.2). Hint: divide first")
    assert out[2].startswith("Exercise 1: not attempted yet")


def test_course_plan_is_complete_and_ordered() -> None:
    assert [lesson.number for lesson in course.PLAN] == list(range(15))
    assert course.BY_NUMBER[10].filename == "10_case_fraud_detection.ipynb"


def test_nav_line_links_existing_neighbours(tmp_path: Path) -> None:
    available = [course.BY_NUMBER[n] for n in (0, 9, 10, 13)]
    line = course.nav_line(10, available)
    assert line == (
        "*Navigation:* ← [09 · Recommendations](09_case_recommendations.ipynb) · "
        "[Course map](00_course_map.ipynb) · [13 · RAG assistant](13_case_rag_assistant.ipynb) →"
    )
    assert course.nav_line(0, available[:1]) == "*Navigation:* **Course map** (you are here)"
    assert course.nav_line(9, available) == (
        "*Navigation:* ← [00 · Course map](00_course_map.ipynb) · "
        "[10 · Fraud detection](10_case_fraud_detection.ipynb) →"
    )
    with pytest.raises(ValueError, match="number=15 is not in the course plan"):
        course.nav_line(15, available)
