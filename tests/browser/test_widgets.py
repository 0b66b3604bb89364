"""Every notebook with a widget, opened in real JupyterLab: run all, move the slider, see it react.

nbval runs cells but never moves a slider; this proves a learner's widget renders and responds.
The first `interact` of each notebook must have a slider as its first control. This file checks
00–08; test_widgets_cases.py checks 09 onwards, so that `make test`'s two workers (`--dist
loadfile`) share the browser work.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import LabServer, copy_notebook, remove_copy

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser


def widget_notebooks(first: int = 0, last: int = 99) -> list[Path]:
    """The notebooks numbered ``first``..``last`` whose code calls ``interact(``."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        if not first <= int(path.name[:2]) <= last:
            continue
        notebook = nbformat.read(path, as_version=4)
        if any(cell.cell_type == "code" and "interact(" in cell.source for cell in notebook.cells):
            found.append(path)
    return found


def test_lab_requires_its_token(lab_server: LabServer) -> None:
    assert lab_server.status(lab_server.token) == 200
    assert lab_server.status(None) == 403
    assert lab_server.status("not-the-token") == 403


@pytest.mark.parametrize("source", widget_notebooks(0, 8), ids=lambda p: p.name)
def test_widget_reacts_in_jupyterlab(lab_server: LabServer, page, source: Path) -> None:  # noqa: ANN001
    check_widget(lab_server, page, source)


def check_widget(lab_server: LabServer, page, source: Path) -> None:  # noqa: ANN001
    """Run All in JupyterLab, wait for the first `interact`, move its slider one step, see it react.

    The copy ends at the widget's cell (the cells after it cannot change what it shows when a
    learner reaches it, and nbval already runs them): this halves the browser tests' run time.
    """
    from playwright.sync_api import expect

    copy = copy_notebook(lab_server, source, through="interact(")
    try:
        page.goto(f"{lab_server.url}/lab/tree/notebooks/{copy.name}?token={lab_server.token}")
        # The toolbar turns idle before the kernel is connected; the status bar text does not.
        expect(page.get_by_text(re.compile(r"\(ipykernel\) \| Idle"))).to_be_visible(timeout=90_000)
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        select_kernel = page.get_by_role("button", name="Select", exact=True)
        if select_kernel.is_visible():
            select_kernel.click()

        interact = page.locator(".widget-interact").first
        handle = interact.locator(".widget-slider .noUi-handle").first
        output = interact.locator(".widget-output")
        expect(handle).to_be_visible(timeout=180_000)
        expect(output).not_to_have_text("", timeout=180_000)
        before = output.inner_text()

        handle.focus()
        handle.press("ArrowRight")
        expect(output).not_to_have_text(before, timeout=120_000)
        after = output.inner_text()
        assert after.strip() and after != before
    finally:
        page.goto("about:blank")  # leave the notebook before its kernel goes away
        lab_server.shutdown_kernels()
        remove_copy(copy)
