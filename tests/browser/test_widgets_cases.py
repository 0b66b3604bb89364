"""The case studies' widgets (09 onwards) in real JupyterLab; see test_widgets.py.

A separate file so that `make test`'s two workers (`--dist loadfile`) each take part of the browser work.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import LabServer
from tests.browser.test_widgets import check_widget, widget_notebooks

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("source", widget_notebooks(9, 99), ids=lambda p: p.name)
def test_case_widget_reacts_in_jupyterlab(lab_server: LabServer, page, source: Path) -> None:  # noqa: ANN001
    check_widget(lab_server, page, source)
