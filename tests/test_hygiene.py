"""Hygiene of every committed notebook (see tests/hygiene.py for what each check means)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import hygiene

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "notebooks/ holds no notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_hygiene(path: Path) -> None:
    notebook = hygiene.read(path)
    problems = (
        hygiene.check_name(path)
        + hygiene.check_execution(path, notebook)
        + hygiene.check_size(path)
        + hygiene.check_shape(path, notebook, NOTEBOOK_DIR)
    )
    assert not problems, "\n".join(problems)


def test_readme_course_table() -> None:
    problems = hygiene.check_readme(ROOT / "README.md", NOTEBOOK_DIR)
    assert not problems, "\n".join(problems)
