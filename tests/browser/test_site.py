"""The static site in headless Chromium: open the index, follow every internal link, check each page.

Builds the site (tools/site.py) into a temp dir, serves it with ``python -m http.server`` bound to
127.0.0.1, and visits every page reachable from index.html. On every page: it loads (HTTP 200),
every ``<img>`` decoded (naturalWidth > 0) and visible, every Mermaid diagram an SVG of non-zero
size, every widget replaced by a visible fallback note, every ``#anchor`` link lands on an element,
and no request leaves 127.0.0.1.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import _require_chromium, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.browser

PAGE_CHECK = """() => {
  const visible = e => { const r = e.getBoundingClientRect(), s = getComputedStyle(e);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  return {
    images: [...document.images].map(i => ({src: i.src.slice(0, 80), ok: i.complete && i.naturalWidth > 0 && visible(i)})),
    diagrams: [...document.querySelectorAll('.site-mermaid')].map(d => {
      const svg = d.querySelector(':scope > svg');
      return !!svg && visible(svg) && svg.getBBox().width > 0 && svg.getBBox().height > 0; }),
    unrendered: document.querySelectorAll('.site-mermaid-missing, .jp-Mermaid, pre.mermaid').length,
    fallbacks: [...document.querySelectorAll('.site-widget-fallback')].map(visible),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id)
         .concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  };
}"""


def _load_site():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("course_site_browser", ROOT / "tools" / "site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["course_site_browser"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The site built into a temp dir and served on 127.0.0.1; yields (base URL, output dir)."""
    _require_chromium()
    _load_site()
    out = tmp_path_factory.mktemp("site") / "out"
    # The real notebooks, kit (if built) and Mermaid cache. In a subprocess: rendering an uncached
    # diagram starts its own Playwright, which cannot nest inside this session's `browser` fixture.
    build = subprocess.run([sys.executable, str(ROOT / "tools" / "site.py"), "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, f"tools/site.py failed:\n{build.stderr[-3000:]}"
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "index.html", timeout=2).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "http.server did not start"
                time.sleep(0.2)
        yield base, out
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.returncode is not None  # stopped


def _expected_widgets_and_diagrams(out: Path) -> tuple[set[str], dict[str, int]]:
    """Pages whose notebook calls interact(, and the number of diagrams each page must show."""
    site = sys.modules["course_site_browser"]
    widgets, diagrams = set(), {}
    for page in out.glob("[0-9][0-9]_*.html"):
        notebook = nbformat.read(ROOT / "notebooks" / page.name.replace(".html", ".ipynb"), as_version=4)
        if any(c.cell_type == "code" and "interact(" in c.source for c in notebook.cells):
            widgets.add(page.name)
        diagrams[page.name] = len(site.mermaid_sources(notebook))
    return widgets, diagrams


def test_every_page_of_the_site(served_site: tuple[str, Path], page) -> None:  # noqa: ANN001
    base, out = served_site
    host = urllib.parse.urlsplit(base).netloc
    foreign: list[str] = []

    def record(route) -> None:  # noqa: ANN001
        url = route.request.url
        if url.startswith("data:") or urllib.parse.urlsplit(url).netloc == host:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    page.route("**/*", record)
    widgets, diagrams = _expected_widgets_and_diagrams(out)
    queue, seen, ids, anchors, problems = [base + "index.html"], set(), {}, [], []
    shown = 0  # diagrams seen as visible SVGs, over all pages
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        if not (name.endswith(".html") or name.endswith("/") or name == ""):
            response = page.request.get(url)  # a PDF or other file: it must exist
            if response.status != 200:
                problems.append(f"{name}: HTTP {response.status}")
            continue
        response = page.goto(url, wait_until="load")
        if response is None or response.status != 200:
            problems.append(f"{name}: HTTP {response.status if response else 'no response'}")
            continue
        found = page.evaluate(PAGE_CHECK)
        ids[url] = set(found["ids"])
        problems += [f"{name}: image {i['src']} not shown" for i in found["images"] if not i["ok"]]
        problems += [f"{name}: diagram {k} is not a visible SVG" for k, ok in enumerate(found["diagrams"]) if not ok]
        shown += sum(found["diagrams"])
        if found["unrendered"]:
            problems.append(f"{name}: {found['unrendered']} diagram(s) not rendered")
        if name in diagrams and len(found["diagrams"]) != diagrams[name]:
            problems.append(f"{name}: {len(found['diagrams'])} diagrams, notebook has {diagrams[name]}")
        if name in widgets and not (found["fallbacks"] and all(found["fallbacks"])):
            problems.append(f"{name}: calls interact( but shows no visible widget fallback")
        for link in found["links"]:
            parts = urllib.parse.urlsplit(link)
            if parts.scheme not in ("http", "https") or parts.netloc != host:
                if parts.scheme in ("http", "https"):
                    problems.append(f"{name}: links off the site: {link}")  # must work offline
                continue
            target = urllib.parse.urlunsplit(parts._replace(fragment=""))
            queue.append(target)
            if parts.fragment:
                anchors.append((name, target, parts.fragment))
    for name, target, fragment in anchors:  # as browsers do: the fragment as is, then decoded
        if target in ids and not {fragment, urllib.parse.unquote(fragment)} & ids[target]:
            problems.append(f"{name}: broken anchor {target.removeprefix(base)}#{fragment}")
    pages = {urllib.parse.urlsplit(u).path.lstrip("/") for u in seen}
    built = {p.relative_to(out).as_posix() for p in out.rglob("*.html")}  # the kit's pages too
    assert built <= pages, f"pages not linked from the index: {sorted(built - pages)}"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])
    assert not foreign, f"requests to other hosts: {foreign[:10]}"
    assert shown == sum(diagrams.values()) > 0, f"{shown} diagrams shown of {sum(diagrams.values())}"
