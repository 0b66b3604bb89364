"""Fixtures for browser tests: a real JupyterLab server and a headless Chromium page.

Facts this relies on (checked on this project's machine): Debian's chromium at /usr/bin/chromium,
driven by Playwright's Python API without `playwright install`; JupyterLab bound to 127.0.0.1 with
a random token and its config/data/runtime dirs in a temp dir.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must not skip them (.ci/run installs it)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LabServer:
    url: str
    token: str
    root: Path  # the server's root dir: a temp copy of the course layout

    def status(self, token: str | None) -> int:
        query = f"?token={token}" if token is not None else ""
        try:
            with urllib.request.urlopen(f"{self.url}/api/status{query}", timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)
        except (urllib.error.URLError, OSError):
            return 0  # not listening (yet)

    def shutdown_kernels(self) -> int:
        """Shut down every running kernel (a notebook's Run All goes on after its widget check, and
        heavy notebooks left running slow down the next test); return how many were stopped."""
        import json

        headers = {"Authorization": f"token {self.token}"}
        with urllib.request.urlopen(urllib.request.Request(f"{self.url}/api/kernels", headers=headers), timeout=10) as r:
            kernels = json.load(r)
        for kernel in kernels:
            request = urllib.request.Request(f"{self.url}/api/kernels/{kernel['id']}", headers=headers, method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()
        return len(kernels)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab on a free port with a random token, serving a temp copy of the course."""
    _require_chromium()
    base = tmp_path_factory.mktemp("lab")
    root = base / "course"
    (root / "notebooks").mkdir(parents=True)
    for name in ("requirements.txt", "datasets"):  # notebooks may read ../requirements.txt, ../datasets
        (root / name).symlink_to(ROOT / name)
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        env[var] = str(base / var.lower())
    port, token = free_port(), secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (base / "lab.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root)
    try:
        deadline = time.monotonic() + 60
        while server.status(token) != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not start; log:\n{(base / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def copy_notebook(server: LabServer, source: Path, through: str | None = None) -> Path:
    """Copy a notebook into the server's root with its outputs cleared (JupyterLab autosaves).

    With ``through``, the copy ends at the first code cell containing that text: Run All then
    builds exactly the state a learner has when they reach that cell, and nothing after it.
    """
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    if through is not None:
        stop = next((i for i, cell in enumerate(notebook.cells)
                     if cell.cell_type == "code" and through in cell.source), None)
        if stop is None:
            raise ValueError(f"{source.name}: no code cell contains {through!r}")
        notebook.cells = notebook.cells[:stop + 1]
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("widgets", None)
    target = server.root / "notebooks" / source.name
    nbformat.write(notebook, target)
    return target


def remove_copy(path: Path) -> None:
    path.unlink(missing_ok=True)
    shutil.rmtree(path.parent / ".ipynb_checkpoints", ignore_errors=True)
