"""tools/site.py without a browser: pages, navigation, index, widget fallbacks, diagrams, Binder.

The browser test (tests/browser/test_site.py) opens the whole site; these check the build's pieces
on a small copy of the course (two notebooks) so that they run in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _load_site():  # noqa: ANN202
    # Loaded by path under another name: "site" is also a standard-library module.
    spec = importlib.util.spec_from_file_location("course_site", ROOT / "tools" / "site.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["course_site"] = module
    spec.loader.exec_module(module)
    return module


site = _load_site()
FAKE_SVG = '<?xml version="1.0"?>\n<svg id="jp-mermaid-0" xmlns="http://www.w3.org/2000/svg" width="40" height="20"><style>#jp-mermaid-0 rect{fill:red}</style><rect width="40" height="20"/></svg>'


def _with_interact() -> list[Path]:
    return [path for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
            if any(c.cell_type == "code" and "interact(" in c.source for c in nbformat.read(path, as_version=4).cells)]


def _with_mermaid() -> Path:
    return next(path for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
                if site.mermaid_sources(nbformat.read(path, as_version=4)))


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The course map and the first notebook with a diagram, built without Chromium (fake SVG cache)."""
    base = tmp_path_factory.mktemp("site")
    notebooks, cache, kit = base / "notebooks", base / "cache", base / "kit"
    notebooks.mkdir()
    for path in (NOTEBOOKS / "00_course_map.ipynb", _with_mermaid()):
        shutil.copy(path, notebooks / path.name)
    cache.mkdir()
    for source in site.mermaid_sources(nbformat.read(_with_mermaid(), as_version=4)):
        (cache / f"{site.cache_key(source)}.svg").write_text(FAKE_SVG)
    report = site.build(base / "out", notebooks, kit, cache, render=False)
    return base / "out", report


def test_pages_and_index(small_site: tuple[Path, object]) -> None:
    out, report = small_site
    names = sorted(p.name for p in out.glob("*.html"))
    pages = ["00_course_map.html", _with_mermaid().name.replace(".ipynb", ".html")]
    guide = ["instructors.html"] if site.INSTRUCTORS.exists() else []
    assert names == sorted(["index.html", *pages, *guide])
    assert report.pages[0] == "index.html" and not report.kit
    index = (out / "index.html").read_text()
    for name in pages + guide:
        assert f'href="{name}"' in index
    assert "The workshop kit was not built" in index and 'href="kit/index.html"' not in index
    assert "14 · Mock interview" in index.split('id="planned"')[1]  # unwritten: listed as planned only


def test_no_network_no_script(small_site: tuple[Path, object]) -> None:
    out, _ = small_site
    for page in out.glob("*.html"):
        text = page.read_text()
        assert "<script" not in text, f"{page.name}: a script (the pages need none)"
        assert not re.search(r'<link\b', text), f"{page.name}: an external stylesheet"
        external = re.findall(r'(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert not [u for u in external if "127.0.0.1" not in u], f"{page.name}: loads {external}"
        assert "cdnjs" not in text and "unpkg" not in text and "jsdelivr" not in text


def test_navigation_and_links(small_site: tuple[Path, object]) -> None:
    out, _ = small_site
    second = _with_mermaid().name.replace(".ipynb", ".html")
    course_map = (out / "00_course_map.html").read_text()
    page = (out / second).read_text()
    assert course_map.count('class="site-nav ') == 2 and page.count('class="site-nav ') == 2
    assert f'href="{second}" rel="next"' in course_map and 'rel="prev"' not in course_map
    assert 'href="00_course_map.html" rel="prev"' in page and 'rel="next"' not in page
    assert ".ipynb\"" not in page and ".ipynb#" not in page  # every notebook link rewritten
    assert 'href="index.html#planned"' in page  # links to notebooks not in this build go to the index


def test_diagrams_inlined_with_unique_ids(small_site: tuple[Path, object]) -> None:
    out, report = small_site
    page = (out / _with_mermaid().name.replace(".ipynb", ".html")).read_text()
    assert report.diagrams >= 1 and report.diagrams_missing == 0
    assert 'class="jp-Mermaid"' not in page and page.count('<div class="site-mermaid"') == report.diagrams
    assert "jp-mermaid-0" not in page and "#site-mermaid-" in page


def test_unrendered_diagram_shows_its_source(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("```mermaid\nflowchart LR\n  A --> B\n```")]
    assert site._diagram_html("flowchart LR\n  A --> B", None).count("A --&gt; B") == 1
    page = '<div class="jp-Mermaid"><pre class="mermaid">\nflowchart LR\n</pre></div>'
    with pytest.raises(site.SiteError, match="2 ```mermaid fences but nbconvert rendered 1"):
        site.replace_diagrams(page, ["a", "b"], {}, tmp_path / "x.ipynb")


@pytest.mark.parametrize("path", _with_interact(), ids=lambda p: p.name)
def test_every_widget_gets_a_visible_fallback(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    views = sum(site.WIDGET_VIEW in o.get("data", {}) for c in notebook.cells for o in c.get("outputs", []))
    assert views >= 1, f"{path.name} calls interact( but saved no widget view (not executed?)"
    assert site.replace_widgets(notebook, path) == views
    text = json.dumps(notebook)
    assert site.WIDGET_VIEW not in text and "widgets" not in notebook.metadata
    notes = [o for c in notebook.cells for o in c.get("outputs", [])
             if "site-widget-fallback" in str(o.get("data", {}).get("text/html", ""))]
    assert len(notes) == views
    for note in notes:  # either the saved output follows, or a link to the fallback cell
        assert "what it showed" in note["data"]["text/html"] or "static fallback" in note["data"]["text/html"]


def test_widget_note_shows_settings_and_saved_output() -> None:
    path = NOTEBOOKS / "00_course_map.ipynb"
    notebook = nbformat.read(path, as_version=4)
    site.replace_widgets(notebook, path)
    cell = next(c for c in notebook.cells if c.cell_type == "code" and "interact(" in c.source)
    note = cell.outputs[0]["data"]["text/html"]
    assert "<td>minutes</td>" in note and "what it showed" in note
    assert len(cell.outputs) >= 2  # the saved output of the interact follows the note


def test_widget_with_nothing_to_show_is_an_error(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    view = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    notebook.cells = [nbformat.v4.new_code_cell("interact(f)", outputs=[
        nbformat.v4.new_output("display_data", data={site.WIDGET_VIEW: view, "text/plain": "interactive"})])]
    with pytest.raises(site.SiteError, match=r"nb.ipynb: cell 0 shows a widget"):
        site.replace_widgets(notebook, tmp_path / "nb.ipynb")


def test_unexecuted_notebook_is_an_error(tmp_path: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("1 + 1")]
    (tmp_path / "notebooks").mkdir()
    target = tmp_path / "notebooks" / "00_course_map.ipynb"
    nbformat.write(notebook, target)
    with pytest.raises(site.SiteError, match="00_course_map.ipynb: no code cell has an output"):
        site.build(tmp_path / "out", tmp_path / "notebooks", tmp_path / "kit", tmp_path / "cache", render=False)
    target.write_text("{not json")
    with pytest.raises(site.SiteError, match="00_course_map.ipynb: not a readable notebook"):
        site.read_notebook(target)


def test_kit_is_copied_and_linked(tmp_path: Path) -> None:
    kit = tmp_path / "kit"
    (kit / "handouts").mkdir(parents=True)
    (kit / "index.html").write_text("<html><body>kit</body></html>")
    (kit / "handouts" / "card.html").write_text("<html></html>")
    out = tmp_path / "out"
    out.mkdir()
    assert site.copy_kit(kit, out) and (out / "kit" / "handouts" / "card.html").exists()
    assert 'href="kit/index.html"' in site.index_html(site.existing(NOTEBOOKS), kit=True)
    assert not site.copy_kit(tmp_path / "missing", out)


# --------------------------------------------------------------------------------------------
# Binder


def _pins(path: Path) -> dict[str, str]:
    from tests.test_environment import pins_from_requirements

    return pins_from_requirements(path)


def test_binder_environment_parses_and_matches_the_pins() -> None:
    import yaml

    environment = yaml.safe_load((ROOT / "binder" / "environment.yml").read_text())
    root = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["dependencies"] == root["dependencies"]
    conda = {re.sub(r"[-_.]+", "-", d.split("=")[0]).lower(): d.split("=")[1]
             for d in environment["dependencies"] if isinstance(d, str) and "=" in d and not d.startswith("python=")}
    assert conda == _pins(ROOT / "requirements.txt")


def test_binder_post_build_installs_the_package_and_nodeps_pins() -> None:
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    text = post_build.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
    commands = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "python -m pip install --no-deps -e ." in commands
    assert "python -m pip install --no-deps -r requirements-nodeps.txt" in commands
    assert _pins(ROOT / "requirements-nodeps.txt")  # what it installs is pinned
