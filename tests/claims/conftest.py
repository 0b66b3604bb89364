"""Shared helpers of the claims tier (``make claims``) and the knob sweep (``make knobs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from tests.tools.runner import NOTEBOOK_DIR, inject, load, run, tagged
from utils.knobs import Knob

SOURCES = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))


def notebook_path(source: Path) -> Path:
    return source.with_suffix(".ipynb")


def knobs_of(notebook: nbformat.NotebookNode) -> list[Knob]:
    """The ``KNOBS`` list of a notebook: its ``parameters`` cell, then its cell tagged ``knobs``."""
    namespace: dict[str, Any] = {}
    if not any("knobs" in c.get("metadata", {}).get("tags", []) for c in notebook.cells):
        return []  # tests/test_hygiene.py reports the missing cell
    exec(notebook.cells[tagged(notebook, "parameters")].source, namespace)  # noqa: S102
    exec(notebook.cells[tagged(notebook, "knobs")].source, namespace)  # noqa: S102
    return list(namespace["KNOBS"])


def scorecard_text(notebook: nbformat.NotebookNode) -> str:
    """What the scorecard cell displayed (its table), as plain text."""
    cell = notebook.cells[tagged(notebook, "scorecard")]
    return "".join("".join(o.get("data", {}).get("text/plain", "")) for o in cell.get("outputs", []))


def run_with(source: Path, params: dict[str, Any], env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """Run a notebook with injected ``params``; return it executed, or fail the test with the
    failing cell's message."""
    notebook = inject(load(notebook_path(source)), params)
    try:
        run(notebook, env=env)
        return notebook
    except CellExecutionError as error:
        text = str(error)
        pytest.fail(f"{source.stem} with {params}: Run All stopped.\n{text[-3000:]}", pytrace=False)
