"""Build each notebook from its paired text source and execute it, so committed outputs are
exactly what the code produces.

    python tests/tools/execute.py                 # every notebook in notebooks/
    python tests/tools/execute.py notebooks/10_case_fraud_detection.ipynb   # or its .py

The text source (``notebooks/NN_name.py``, jupytext's percent format) is what you edit; this
writes ``notebooks/NN_name.ipynb`` from it, executed from a fresh kernel with the notebook folder
as working directory, with widget state stored and per-cell timing metadata dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.tools.runner import NOTEBOOK_DIR, load, run  # noqa: E402


def execute(path: Path, timeout: int = 600) -> float:
    """Build ``path`` (an .ipynb) from its text source, execute it, write it; return seconds."""
    notebook = load(path)
    elapsed = run(notebook, timeout=timeout)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(notebook, path)
    return elapsed


def main(argv: list[str]) -> int:
    paths = [Path(arg).with_suffix(".ipynb") for arg in argv] or sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        if not path.with_suffix(".py").exists():
            print(f"no such notebook source: {path.with_suffix('.py')}", file=sys.stderr)
            return 2
        print(f"executing {path.name} ...", flush=True)
        print(f"  done in {execute(path):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
