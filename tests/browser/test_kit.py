"""The workshop kit in a real Chromium: `tools/kit.py` builds it (HTML and PDFs) into a temp dir;
each handout PDF is one A4 page; every page renders with nothing wider than the printable width of
A4 and makes no request but for its own file. Skipped, with the reason, where no Chromium is
installed (tests/browser/conftest.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, _require_chromium

A4_PRINTABLE_PX = round((210 - 2 * 12) / 25.4 * 96)  # 210 mm less the 12 mm margins of print.css, at 96 px/in
PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
HANDOUTS = ["eight-step-card", "case-09", "case-10", "case-11", "case-12", "case-13"]
ROOM = ["room/prompt-cards", "room/interviewer-script", "room/observer-sheet"]


def pdf_pages_bytes(data: bytes) -> int:
    """Pages of a PDF, counted as its ``/Type /Page`` objects (Chromium's PDFs keep them uncompressed)."""
    return len(PAGE_OBJECT.findall(data))


def pdf_pages(path: Path) -> int:
    return pdf_pages_bytes(path.read_bytes())


OVERFLOW_JS = """(limit) => {
    const left = document.body.getBoundingClientRect().left;
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0) continue;
        const clipped = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible';
        if (box.right - left > limit + 1 || box.left < left - 1 || clipped) {
            out.push(`${el.tagName}.${el.className}: ${Math.round(box.left - left)}..${Math.round(box.right - left)}`);
        }
    }
    if (document.documentElement.scrollWidth > window.innerWidth) out.push('document scrolls sideways');
    return out;
}"""


def open_as_a4_print(page, path: Path) -> list[str]:  # noqa: ANN001
    """Open ``path`` at A4 width with print styles; return every URL the page requested."""
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 px/in
    page.emulate_media(media="print")
    page.goto(path.resolve().as_uri(), wait_until="load")
    return requests


def overflowing(page) -> list[str]:  # noqa: ANN001
    """Elements wider than A4's printable width, or clipped sideways, on the open page."""
    return page.evaluate(OVERFLOW_JS, A4_PRINTABLE_PX)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``python tools/kit.py`` into a temp dir, as ``make kit`` runs it (a subprocess: Playwright's
    sync API cannot run inside the page fixture's)."""
    _require_chromium()
    out = tmp_path_factory.mktemp("kit") / "kit"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "kit.py"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return out


def test_pdf_page_counter_can_fail() -> None:
    two = b"%PDF-1.4\n<</Type /Pages /Count 2>>\n<</Type /Page\n/Parent 2 0 R>>\n<</Type/Page>>\n<</Type /Catalog>>"
    assert pdf_pages_bytes(two) == 2


@pytest.mark.parametrize("stem", HANDOUTS)
def test_each_handout_pdf_exists_and_is_one_page(kit: Path, stem: str) -> None:
    pdf = kit / f"{stem}.pdf"
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF"), pdf
    assert pdf_pages(pdf) == 1, f"{pdf.name} has {pdf_pages(pdf)} pages"


@pytest.mark.parametrize("stem", ROOM)
def test_room_kit_pdfs_exist(kit: Path, stem: str) -> None:
    pdf = kit / f"{stem}.pdf"
    assert pdf.exists() and pdf_pages(pdf) >= 1
    if stem.endswith("observer-sheet"):
        assert pdf_pages(pdf) == 1, "the observer sheet is one page"


@pytest.mark.parametrize("stem", HANDOUTS + ROOM + ["answer-key", "index"])
def test_page_fits_the_a4_width_and_asks_no_network(kit: Path, page, stem: str) -> None:  # noqa: ANN001
    source = kit / f"{stem}.html"
    requests = open_as_a4_print(page, source)
    assert requests == [source.resolve().as_uri()], f"{stem}.html made other requests: {requests[1:]}"
    wide = overflowing(page)
    assert not wide, f"{stem}.html: elements wider than the A4 printable width ({A4_PRINTABLE_PX} px): {wide[:5]}"


def test_the_checks_can_fail(kit: Path, page, tmp_path: Path) -> None:  # noqa: ANN001
    """A handout with a too-wide table and an image from the network fails both checks."""
    html = (kit / "case-10.html").read_text(encoding="utf-8").replace(
        "</h1>", "</h1><table style='width:260mm'><tr><td>x</td></tr></table><img src='http://127.0.0.1:9/x.png'>")
    planted = tmp_path / "planted.html"
    planted.write_text(html, encoding="utf-8")
    requests = open_as_a4_print(page, planted)
    assert any(url.startswith("http://127.0.0.1:9/") for url in requests)
    assert any(item.startswith("TABLE") for item in overflowing(page))
