"""Build the course as a static website: ``make site`` → ``build/site/``.

Every executed notebook (``notebooks/NN_*.ipynb``) becomes a static HTML page that needs no kernel
and no network:

* rendered with nbconvert's JupyterLab template, minus everything it would load from a CDN
  (require.js, MathJax, the widget embed manager, mermaid.js) — see tools/site/templates/site/;
* Mermaid diagrams rendered to inline SVG at build time by the Mermaid that JupyterLab bundles,
  in headless Chromium (the SVGs are cached under ``build/site-cache/``, keyed by the diagram's
  text and JupyterLab's version, so a rebuild needs no browser);
* every widget view replaced by a visible note, the settings it was saved at and the output it
  showed there (the notebook's saved widget state holds it), plus a link to the static fallback
  cell that follows it;
* links ``NN_name.ipynb`` rewritten to ``NN_name.html``; a navigation bar (course map · previous
  · next, in utils/course.py's order) at the top and bottom of every page.

``index.html`` lists the notebooks that exist (title, minutes, one line each, from utils/course.py's
PLAN) and links the workshop kit (``build/kit/`` copied to ``kit/``) when ``make kit`` built it.

    python tools/site.py [--out build/site] [--notebooks notebooks] [--kit build/kit]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import posixpath
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make utils importable
    sys.path.insert(0, str(ROOT))

from utils.course import BY_FILENAME, PLAN, Lesson, existing  # noqa: E402

HERE = Path(__file__).resolve().parent / "site"
TEMPLATES = HERE / "templates"
CSS = HERE / "site.css"
DEFAULT_OUT = ROOT / "build" / "site"
DEFAULT_KIT = ROOT / "build" / "kit"
DEFAULT_CACHE = ROOT / "build" / "site-cache"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MERMAID_FENCE = re.compile(r"^[ \t]*```mermaid[ \t]*\n(.*?)^[ \t]*```[ \t]*$", re.M | re.S)
MERMAID_BLOCK = re.compile(r'<div class="jp-Mermaid"><pre class="mermaid">\n.*?\n</pre></div>', re.S)
RELATIVE_HREF = re.compile(r'href="([^"#:]+)(#[^"]*)?"')  # no scheme: a file of the repository
NOTEBOOK_PATH = re.compile(r"notebooks/(\d\d_[a-z0-9_]+)\.ipynb")
INSTRUCTORS = ROOT / "docs" / "instructors.md"


class SiteError(RuntimeError):
    """A notebook or input the site cannot be built from; the message names the file."""


@dataclass
class Report:
    """What one build did (printed by ``main``; inspected by the tests)."""

    pages: list[str] = field(default_factory=list)
    diagrams: int = 0
    diagrams_missing: int = 0
    widgets: int = 0
    kit: bool = False
    seconds: float = 0.0


# --------------------------------------------------------------------------------------------
# Reading notebooks


def read_notebook(path: Path) -> dict:
    """The notebook at ``path`` as nbformat v4, checked to be executed (else a SiteError)."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:  # JSON errors are ValueErrors
        raise SiteError(f"{path}: not a readable notebook ({error})") from error
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if code and not any(cell.get("outputs") for cell in code):
        raise SiteError(f"{path}: no code cell has an output; the site is built from executed notebooks "
                        f"(make execute NOTEBOOKS={path.relative_to(path.parent.parent)})")
    return notebook


def mermaid_sources(notebook: dict) -> list[str]:
    """The text of every ```mermaid fence in the notebook's Markdown cells, in order."""
    return [match.group(1).strip() for cell in notebook["cells"] if cell["cell_type"] == "markdown"
            for match in MERMAID_FENCE.finditer(cell["source"])]


# --------------------------------------------------------------------------------------------
# Widgets: a visible note, the settings and the saved output instead of a widget view


def _model_id(reference: str) -> str:
    return reference.removeprefix("IPY_MODEL_")


def _descendants(state: dict, model_id: str) -> Iterator[tuple[str, dict]]:
    """The models under ``model_id`` (itself included), depth first, children in order."""
    model = state.get(model_id)
    if model is None:
        return
    yield model_id, model
    for child in model.get("state", {}).get("children", []):
        yield from _descendants(state, _model_id(child))


def _setting(model: dict) -> tuple[str, str] | None:
    """(description, value as shown) of a control, or None for containers and outputs."""
    values = model.get("state", {})
    if model.get("model_name") == "OutputModel" or "description" not in values:
        return None
    if "_options_labels" in values and values.get("index") is not None:
        value = values["_options_labels"][values["index"]]
    else:
        value = values.get("value")
    return str(values.get("description") or model.get("model_name")), str(value)


def _fallback_anchor(cells: list, index: int) -> str | None:
    """The id anchor of the first code cell with an output after cell ``index`` (within 3 cells)."""
    for cell in cells[index + 1:index + 4]:
        if cell.cell_type == "code" and cell.get("outputs") and cell.get("id"):
            return f"cell-id={cell.id}"
    return None


def _note(settings: list[tuple[str, str]], saved: bool, anchor: str | None) -> str:
    lines = ['<div class="site-widget-fallback">',
             "<strong>Interactive widget</strong>: it needs a running kernel (open the notebook in "
             "JupyterLab, Binder or Colab to move it)."]
    if settings:
        rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(value)}</td></tr>"
                       for name, value in settings)
        lines.append(f"<table><tr><th>setting</th><th>value</th></tr>{rows}</table>")
    lines.append("Below: what it showed at these settings when the notebook was executed."
                 if saved else "Its output at these settings was not saved with the notebook.")
    if anchor:
        lines.append(f' <a href="#{html.escape(anchor)}">The static fallback</a> after it shows the '
                     "same function at a few fixed settings.")
    lines.append("</div>")
    return "\n".join(lines)


def replace_widgets(notebook: dict, path: Path) -> int:
    """Replace every widget view output with a note, its settings and its saved output.

    Returns how many were replaced; raises SiteError for a widget view whose notebook has no
    saved widget state and no static fallback cell after it (the page could show nothing).
    """
    import nbformat

    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    replaced = 0
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(output)
                continue
            models = list(_descendants(state, view["model_id"]))
            settings = [s for s in (_setting(m) for _, m in models) if s]
            saved = [o for _, m in models if m.get("model_name") == "OutputModel"
                     for o in m.get("state", {}).get("outputs", [])]
            anchor = _fallback_anchor(notebook["cells"], index)
            if not saved and not anchor:
                raise SiteError(f"{path}: cell {index} shows a widget with neither saved widget state "
                                "nor a static fallback cell after it; the page would show nothing")
            note = {"output_type": "display_data", "metadata": {},
                    "data": {"text/html": _note(settings, bool(saved), anchor)}}
            outputs.append(nbformat.from_dict(note))
            outputs.extend(nbformat.from_dict(o) for o in saved)
            replaced += 1
        cell["outputs"] = outputs
    notebook.get("metadata", {}).pop("widgets", None)  # no widget manager on a static page
    return replaced


# --------------------------------------------------------------------------------------------
# Mermaid: rendered to SVG by JupyterLab's own Mermaid in headless Chromium, cached


def _lab_version() -> str:
    import jupyterlab

    return str(jupyterlab.__version__)


def cache_key(source: str) -> str:
    return hashlib.sha256(f"jupyterlab {_lab_version()}\n{source}".encode()).hexdigest()[:16]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _lab_server(root: Path) -> Iterator[str]:
    """JupyterLab on 127.0.0.1 with a random token serving ``root``; yields the URL with token."""
    env = dict(os.environ)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        env[var] = str(root.parent / var.lower())
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}", "--ServerApp.port_retries=0"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log_path = root.parent / "lab.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise SiteError(f"JupyterLab did not start to render Mermaid; log:\n"
                                        f"{log_path.read_text()[-2000:]}") from None
                    time.sleep(0.3)
            yield f"http://127.0.0.1:{port}/lab/tree/diagrams.ipynb?token={token}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _render_in_lab(sources: list[str]) -> list[str]:
    """Standalone SVG documents for ``sources``, rendered by JupyterLab's Mermaid in Chromium."""
    import nbformat
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="site-mermaid-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_markdown_cell(f"```mermaid\n{s}\n```") for s in sources]
        nbformat.write(notebook, root / "diagrams.ipynb")
        with _lab_server(root) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                page.goto(url)
                page.wait_for_function(
                    "n => { const d = document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMermaid');"
                    " return d.length === n && [...d].every(e => e.querySelector('img')); }",
                    arg=len(sources), timeout=120_000)
                sources_of_images = page.eval_on_selector_all(
                    ".jp-MarkdownCell .jp-RenderedMermaid img", "els => els.map(e => e.src)")
            finally:
                browser.close()
    prefix = "data:image/svg+xml,"
    svgs = []
    for source, src in zip(sources, sources_of_images, strict=True):
        if not src.startswith(prefix):
            raise SiteError(f"JupyterLab rendered this Mermaid diagram to {src[:40]!r}, not SVG:\n{source}")
        svgs.append(urllib.parse.unquote(src[len(prefix):]))
    return svgs


def render_mermaid(sources: list[str], cache_dir: Path, render: bool = True) -> dict[str, str | None]:
    """Source → standalone SVG for every diagram (None where it could not be rendered)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    found: dict[str, str | None] = {}
    for source in sources:
        cached = cache_dir / f"{cache_key(source)}.svg"
        found[source] = cached.read_text(encoding="utf-8") if cached.exists() else None
    missing = sorted({s for s, svg in found.items() if svg is None})
    if not missing:
        return found
    if not render or not CHROMIUM.exists():
        print(f"site: {len(missing)} Mermaid diagram(s) not rendered (needs Chromium at {CHROMIUM}); "
              "their source is shown instead", file=sys.stderr)
        return found
    for source, svg in zip(missing, _render_in_lab(missing), strict=True):
        (cache_dir / f"{cache_key(source)}.svg").write_text(svg, encoding="utf-8")
        found[source] = svg
    return found


def inline_svg(document: str, source: str) -> str:
    """The ``<svg>`` element of a standalone SVG document, its id made unique to this diagram."""
    start = document.find("<svg")
    if start < 0:
        raise SiteError(f"the rendered Mermaid diagram has no <svg> element:\n{source}")
    svg = document[start:]
    match = re.match(r'<svg[^>]*\bid="([^"]+)"', svg)
    if match:
        svg = svg.replace(match.group(1), f"site-mermaid-{cache_key(source)}")
    return svg


def _diagram_html(source: str, svg: str | None) -> str:
    if svg is None:
        return ('<div class="site-mermaid site-mermaid-missing"><p>This diagram was not rendered '
                f"(the site was built without Chromium). Its Mermaid source:</p><pre>{html.escape(source)}</pre></div>")
    return f'<div class="site-mermaid" role="img" aria-label="diagram">{inline_svg(svg, source)}</div>'


# --------------------------------------------------------------------------------------------
# Pages


def _page_name(lesson: Lesson) -> str:
    return lesson.filename.replace(".ipynb", ".html")


def nav_html(lesson: Lesson, available: list[Lesson], bottom: bool = False) -> str:
    """Course map · previous · next, for ``lesson``, among the notebooks that exist."""
    before = [other for other in available if other.number < lesson.number]
    after = [other for other in available if other.number > lesson.number]
    parts = ['<a href="index.html">Course home</a>']
    if lesson.number == 0:
        parts.append('<span class="site-nav-here">00 · Course map</span>')
    elif BY_FILENAME["00_course_map.ipynb"] in available:
        parts.append('<a href="00_course_map.html">Course map</a>')
    parts.append('<span class="site-nav-spacer"></span>')
    if before:
        parts.append(f'<a href="{_page_name(before[-1])}" rel="prev">← {html.escape(before[-1].label)}</a>')
    if after:
        parts.append(f'<a href="{_page_name(after[0])}" rel="next">{html.escape(after[0].label)} →</a>')
    kind = "site-nav site-nav-bottom" if bottom else "site-nav site-nav-top"
    return f'<nav class="{kind}" aria-label="course">' + "\n".join(parts) + "</nav>"


def site_path(repo_path: str, available: list[Lesson]) -> str:
    """Where a repository file linked from a page lives on the site (unchanged if not on it).

    ``notebooks/NN_name.ipynb`` → ``NN_name.html`` (an unwritten one → ``index.html#planned``),
    ``docs/instructors.md`` → ``instructors.html``, ``build/kit/...`` → ``kit/...``.
    """
    match = NOTEBOOK_PATH.fullmatch(repo_path)
    if match:
        names = {lesson.filename.removesuffix(".ipynb") for lesson in available}
        return f"{match.group(1)}.html" if match.group(1) in names else "index.html#planned"
    if repo_path == "docs/instructors.md":
        return "instructors.html"
    if repo_path.startswith("build/kit/"):
        return "kit/" + repo_path.removeprefix("build/kit/")
    return repo_path


def rewrite_links(page: str, available: list[Lesson], repo_dir: str, site_dir: str = "") -> str:
    """Relative links of a page written at ``repo_dir`` (e.g. ``notebooks``, ``build/kit``) and
    served at ``site_dir`` of the site, pointed at the site's copies of what they link to."""

    def replace(match: re.Match[str]) -> str:
        target = posixpath.normpath(posixpath.join(repo_dir, match.group(1)))
        mapped = site_path(target, available)
        if mapped == target:  # not a file the site has: leave the link alone
            return match.group(0)
        path, _, fragment = mapped.partition("#")
        anchor = f"#{fragment}" if fragment else (match.group(2) or "")
        return f'href="{posixpath.relpath(path, site_dir or ".")}{anchor}"'

    return RELATIVE_HREF.sub(replace, page)


def replace_diagrams(page: str, sources: list[str], svgs: dict[str, str | None], path: Path) -> str:
    blocks = MERMAID_BLOCK.findall(page)
    if len(blocks) != len(sources):
        raise SiteError(f"{path}: {len(sources)} ```mermaid fences but nbconvert rendered {len(blocks)}")
    rendered = iter(_diagram_html(source, svgs.get(source)) for source in sources)
    return MERMAID_BLOCK.sub(lambda _: next(rendered), page)


def _unchanged(text: str) -> str:
    return text


def _exporter() -> object:
    """nbconvert's HTML exporter with the site template.

    The lab template passes every highlighted code cell through bleach (``clean_html``), which was
    about 40% of the build's time; the course's own code, escaped by Pygments, needs no
    sanitizing (the exporter's ``sanitize_html`` is off: Markdown and outputs are not sanitized
    either).
    """
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="site", extra_template_basedirs=[str(TEMPLATES)],
                        filters={"clean_html": _unchanged})


def build_page(exporter: object, notebook: dict, lesson: Lesson, available: list[Lesson],
               svgs: dict[str, str | None], path: Path) -> str:
    """The HTML page of one (already widget-replaced) notebook."""
    sources = mermaid_sources(notebook)
    resources = {"site_css": CSS.read_text(encoding="utf-8"),
                 "site_nav": nav_html(lesson, available),
                 "site_nav_bottom": nav_html(lesson, available, bottom=True), "metadata": {"name": lesson.label}}
    notebook["metadata"]["title"] = lesson.label
    page, _ = exporter.from_notebook_node(notebook, resources=resources)  # type: ignore[attr-defined]
    page = replace_diagrams(page, sources, svgs, path)
    return rewrite_links(page, available, "notebooks")


def index_html(available: list[Lesson], kit: bool, instructors: bool = False) -> str:
    """The site's front page: the notebooks that exist, the planned ones, and the workshop kit."""
    rows = "\n".join(
        f'<tr><td><a href="{_page_name(lesson)}">{html.escape(lesson.label)}</a></td>'
        f'<td class="site-minutes">{lesson.minutes} min</td><td>{html.escape(lesson.teaches)}</td></tr>'
        for lesson in available)
    planned = [lesson for lesson in PLAN if lesson not in available]
    planned_html = ("<p class=\"site-note\">Every planned notebook is written.</p>" if not planned else
                    "<ul>" + "".join(f"<li>{html.escape(lesson.label)} — {html.escape(lesson.teaches)}</li>"
                                     for lesson in planned) + "</ul>")
    kit_html = ('<p><a href="kit/index.html">The workshop kit</a>: agendas, handouts, the room kit for '
                "mock interviews and the TA answer key.</p>" if kit else
                '<p class="site-note">The workshop kit was not built when this site was '
                "(run <code>make kit</code>, then <code>make site</code>).</p>")
    guide = ('<p><a href="instructors.html">The instructors\' guide</a>: agendas, cut lists, pairs and '
             "discussion prompts.</p>" if instructors else "")
    total = sum(lesson.minutes for lesson in available)
    return _plain_page("ML system design, hands-on", f"""<h1>ML system design, hands-on</h1>
<p>The course's notebooks, executed, as static pages: no kernel, no network. Widgets show their
output at the default settings; to move them, open the notebooks in JupyterLab
(<code>make lab</code>), Binder or Colab.</p>
<h2 id="notebooks">Notebooks</h2>
<table>
<tr><th>Notebook</th><th class="site-minutes">Study time</th><th>What it teaches</th></tr>
{rows}
<tr><td><strong>Total</strong></td><td class="site-minutes"><strong>{total} min</strong></td><td></td></tr>
</table>
<h2 id="planned">Planned, not written yet</h2>
{planned_html}
<h2 id="workshop">Workshops</h2>
{guide}
{kit_html}
""")


def _plain_page(title: str, body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<style type="text/css">
{CSS.read_text(encoding="utf-8")}
</style>
</head>
<body class="site-index">
{body}
</body>
</html>
"""


# --------------------------------------------------------------------------------------------
# The build


def copy_kit(kit_dir: Path, out: Path, available: list[Lesson] | None = None) -> bool:
    """Copy the workshop kit into ``out/kit`` if it was built (it has an index.html).

    The kit's pages link the repository from ``build/kit/`` (``../../notebooks/NN.ipynb``); on the
    site those links point at the rendered pages instead.
    """
    if not (kit_dir / "index.html").is_file():
        return False
    available = existing() if available is None else available
    shutil.copytree(kit_dir, out / "kit", dirs_exist_ok=True)
    for page in (out / "kit").rglob("*.html"):
        sub = page.parent.relative_to(out).as_posix()  # kit, kit/room, ...
        text = page.read_text(encoding="utf-8")
        page.write_text(rewrite_links(text, available, "build/" + sub, sub), encoding="utf-8")
    return True


def instructors_html(available: list[Lesson], source: Path = INSTRUCTORS) -> str | None:
    """docs/instructors.md as a page of the site (None if there is no such file)."""
    if not source.is_file():
        return None
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    body = rewrite_links(markdown2html_mistune(source.read_text(encoding="utf-8")), available, "docs")
    return _plain_page("Workshop guide for instructors", '<nav class="site-nav site-nav-top" aria-label="course">'
                       '<a href="index.html">Course home</a></nav>\n' + body)


def build(out: Path = DEFAULT_OUT, notebook_dir: Path = ROOT / "notebooks", kit_dir: Path = DEFAULT_KIT,
          cache_dir: Path = DEFAULT_CACHE, render: bool = True) -> Report:
    """Write the site into ``out`` (emptied first); return what was built."""
    started = time.monotonic()
    available = existing(notebook_dir)
    if not available:
        raise SiteError(f"{notebook_dir}: no notebook of the course plan (utils/course.py) is there")
    notebooks = {lesson: read_notebook(notebook_dir / lesson.filename) for lesson in available}
    report = Report()
    for lesson, notebook in notebooks.items():
        report.widgets += replace_widgets(notebook, notebook_dir / lesson.filename)
    sources = [s for notebook in notebooks.values() for s in mermaid_sources(notebook)]
    svgs = render_mermaid(sources, cache_dir, render=render)
    report.diagrams = len(sources)
    report.diagrams_missing = sum(1 for s in sources if svgs.get(s) is None)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    exporter = _exporter()
    for lesson, notebook in notebooks.items():
        page = build_page(exporter, notebook, lesson, available, svgs, notebook_dir / lesson.filename)
        (out / _page_name(lesson)).write_text(page, encoding="utf-8")
        report.pages.append(_page_name(lesson))
    report.kit = copy_kit(kit_dir, out, available)
    guide = instructors_html(available)
    if guide is not None:
        (out / "instructors.html").write_text(guide, encoding="utf-8")
        report.pages.append("instructors.html")
    (out / "index.html").write_text(index_html(available, report.kit, guide is not None), encoding="utf-8")
    report.pages.insert(0, "index.html")
    report.seconds = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (emptied first)")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--kit", type=Path, default=DEFAULT_KIT, help="the built workshop kit, if any")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="rendered Mermaid SVGs")
    parser.add_argument("--no-render", action="store_true",
                        help="do not start Chromium; diagrams not in the cache show their source")
    args = parser.parse_args(argv)
    try:
        report = build(args.out, args.notebooks, args.kit, args.cache, render=not args.no_render)
    except SiteError as error:
        print(f"site: {error}", file=sys.stderr)
        return 1
    kit = "kit copied" if report.kit else "no kit (make kit did not build build/kit/index.html)"
    print(f"site: {len(report.pages)} pages, {report.diagrams} diagrams "
          f"({report.diagrams_missing} unrendered), {report.widgets} widgets with static fallbacks, "
          f"{kit} -> {args.out} in {report.seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
