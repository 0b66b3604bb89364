"""HTML pages and their PDFs for the kit: self-contained (CSS inlined, no external resource), A4,
printed to PDF by headless Chromium through Playwright (``page.pdf``), with every request other
than the page's own file refused, so a page that tries the network fails the build."""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Request, Route

HANDOUTS = Path(__file__).resolve().parent / "handouts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [  # as tests/browser/conftest.py and the browser-tests recipe
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")


def markdown(text: str) -> str:
    """Markdown (CommonMark with tables, raw HTML escaped) to HTML."""
    return _MARKDOWN.render(text)


def inline(text: str) -> str:
    """Markdown for one line (no surrounding paragraph)."""
    return _MARKDOWN.renderInline(text)


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def page(title: str, body: str, *, kind: str, css: Iterable[str] = ("print.css",)) -> str:
    """A complete, self-contained HTML page; ``kind`` is a class on ``<body>`` the CSS styles."""
    style = "\n".join((HANDOUTS / name).read_text(encoding="utf-8") for name in css)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{esc(title)}</title>\n<style>\n{style}\n</style>\n</head>\n"
        f"<body class=\"{esc(kind)}\">\n{body}\n</body>\n</html>\n"
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _print_one(context: BrowserContext, source: Path) -> Path:
    """Open ``source`` with every other request refused, then print it to ``source.pdf``."""
    own, asked = source.resolve().as_uri(), []
    tab = context.new_page()

    def refuse(route: Route, request: Request) -> None:
        if request.url == own:
            route.continue_()
        else:
            asked.append(request.url)
            route.abort()

    try:
        tab.route("**/*", refuse)
        tab.goto(own, wait_until="load")
        if asked:
            raise RuntimeError(f"{source.name} requested {asked}: a kit page must be self-contained")
        target = source.with_suffix(".pdf")
        tab.pdf(path=str(target), prefer_css_page_size=True, print_background=True)
        return target
    finally:
        tab.close()


def print_pdfs(pages: list[Path]) -> list[Path]:
    """Print each HTML file to a PDF next to it (same stem) with headless Chromium; A4 from the
    pages' ``@page`` rule. Raises ``RuntimeError`` if Chromium is missing or a page asks the network."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"printing the kit needs Chromium at {CHROMIUM} (Debian: apt-get install chromium); "
                           "or build the HTML only with --no-pdf")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            return [_print_one(context, source) for source in pages]
        finally:
            browser.close()
