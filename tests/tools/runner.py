"""Run a notebook from its paired text source, optionally with injected parameters.

Shared by ``make execute`` (tests/tools/execute.py), ``make claims`` and ``make knobs``
(tests/claims/). Parameters are injected the papermill way: a cell tagged
``injected-parameters`` right after the cell tagged ``parameters``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jupytext
import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK_DIR = ROOT / "notebooks"


def source_of(ipynb: Path) -> Path:
    """The paired percent-format text source of a notebook (``NN_name.py`` beside it)."""
    return ipynb.with_suffix(".py")


def load(ipynb: Path) -> nbformat.NotebookNode:
    """The notebook built from its text source (no outputs yet)."""
    source = source_of(ipynb)
    if not source.exists():
        raise FileNotFoundError(f"{ipynb.name} has no paired source {source.name} (see CONTRIBUTING)")
    return jupytext.read(source)


def tagged(notebook: nbformat.NotebookNode, tag: str) -> int:
    """Index of the one cell carrying ``tag``; ValueError if none or several do."""
    hits = [i for i, c in enumerate(notebook.cells) if tag in c.get("metadata", {}).get("tags", [])]
    if len(hits) != 1:
        raise ValueError(f"expected exactly one cell tagged {tag!r}, found {len(hits)}")
    return hits[0]


def inject(notebook: nbformat.NotebookNode, params: Mapping[str, Any]) -> nbformat.NotebookNode:
    """Insert ``NAME = value`` assignments after the ``parameters`` cell (papermill's convention)."""
    if not params:
        return notebook
    lines = ["# Parameters injected by tests/claims (papermill's convention)"]
    lines += [f"{name} = {value!r}" for name, value in params.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(tagged(notebook, "parameters") + 1, cell)
    return notebook


def run(notebook: nbformat.NotebookNode, *, timeout: int = 600, env: Mapping[str, str] | None = None) -> float:
    """Execute ``notebook`` in place from a fresh kernel (cwd notebooks/); return wall seconds.

    ``env`` adds variables to the kernel's environment. Raises nbclient's CellExecutionError with
    the failing cell's traceback when a cell fails.
    """
    saved = dict(os.environ)
    os.environ.update(env or {})
    sockets, manager = "", None
    try:
        # IPC sockets, not TCP ports: kernels started at the same moment (make claims runs two,
        # a maintainer may run more) cannot race for the same port.
        sockets = tempfile.mkdtemp(prefix="course-kernel-")
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets, "ipc"))
        client = NotebookClient(notebook, km=manager, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
                                record_timing=False)
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start
    finally:
        if manager is not None and manager.has_kernel:
            manager.shutdown_kernel(now=True)  # nbclient leaves a kernel it did not create running
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(sockets, ignore_errors=True)
