"""Build each notebook from its paired text source and execute it, so committed outputs are
exactly what the code produces.

    python tests/tools/execute.py                 # every notebook in notebooks/
    python tests/tools/execute.py notebooks/10_case_fraud_detection.ipynb   # or its .py
    python tests/tools/execute.py --record        # every notebook, and record the run times

``--record`` writes each notebook's wall time from a fresh kernel, with the machine and date, to
``docs/run-times.json``; the instructor's guide quotes it (run it on a quiet machine).

The text source (``notebooks/NN_name.py``, jupytext's percent format) is what you edit; this
writes ``notebooks/NN_name.ipynb`` from it, executed from a fresh kernel with the notebook folder
as working directory, with widget state stored and per-cell timing metadata dropped.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
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


RUN_TIMES = NOTEBOOK_DIR.parent / "docs" / "run-times.json"


def record(seconds: dict[str, float], path: Path = RUN_TIMES) -> None:
    """Merge ``seconds`` (notebook file name -> wall seconds) into ``path`` with the machine and date."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"notebooks": {}}
    data["machine"] = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    data["measured"] = datetime.date.today().isoformat()
    data["how"] = "python tests/tools/execute.py --record: each notebook from a fresh kernel, one at a time"
    data["notebooks"].update({name: round(value, 1) for name, value in seconds.items()})
    data["notebooks"] = dict(sorted(data["notebooks"].items()))
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    keep = "--record" in argv
    argv = [arg for arg in argv if arg != "--record"]
    paths = [Path(arg).with_suffix(".ipynb") for arg in argv] or sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    times: dict[str, float] = {}
    for path in paths:
        if not path.with_suffix(".py").exists():
            print(f"no such notebook source: {path.with_suffix('.py')}", file=sys.stderr)
            return 2
        print(f"executing {path.name} ...", flush=True)
        times[path.name] = execute(path)
        print(f"  done in {times[path.name]:.1f} s", flush=True)
    if keep:
        record(times)
        print(f"recorded {len(times)} run times in {RUN_TIMES.relative_to(NOTEBOOK_DIR.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
