"""Notebook hygiene checks. Each returns a list of problems, each naming the notebook and cell.

Kept apart from the tests so that tests/test_harness.py can prove each check fails on a bad
notebook (a check that cannot fail is no check).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from utils.course import BY_FILENAME, NAV_PREFIX, existing, nav_line

MAX_BYTES = 1_500_000
NAME_PATTERN = re.compile(r"^\d\d_[a-z0-9]+(?:_[a-z0-9]+)*\.ipynb$")
# An absolute path on a learner's or maintainer's machine, e.g. /home/ana/..., /root/..., C:\Users\...
MACHINE_PATH = re.compile(r"(/(?:home|root|Users|tmp|work|private/var)/[\w.\-]+)|([A-Za-z]:\\\\?Users)")
CASE_NUMBERS = range(9, 14)


def where(path: Path, index: int | None = None) -> str:
    return path.name if index is None else f"{path.name} cell {index}"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def check_name(path: Path) -> list[str]:
    if not NAME_PATTERN.match(path.name):
        return [f"{path.name}: file name must look like NN_snake_case.ipynb"]
    if path.name not in BY_FILENAME:
        planned = ", ".join(sorted(BY_FILENAME))
        return [f"{path.name}: not in the course plan (utils/course.py); planned names: {planned}"]
    return []


def check_execution(path: Path, notebook: nbformat.NotebookNode) -> list[str]:
    """Executed top to bottom in one go, no errors, no machine paths in outputs."""
    problems = []
    expected = 1
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        count = cell.get("execution_count")
        if count != expected:
            problems.append(
                f"{where(path, index)}: execution count {count}, expected {expected} "
                "(run `make execute` so the notebook is executed top to bottom in one go)"
            )
            expected = (count or expected) + 1
        else:
            expected += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{where(path, index)}: error output {output.get('ename')}")
            text = _output_text(output)
            match = MACHINE_PATH.search(text)
            if match:
                problems.append(f"{where(path, index)}: output shows a machine path {match.group(0)!r}")
    return problems


def _output_text(output: nbformat.NotebookNode) -> str:
    if "text" in output:
        return "".join(output["text"])
    data = output.get("data", {})
    return "".join("".join(data[key]) for key in ("text/plain", "text/html", "text/markdown") if key in data)


def check_size(path: Path) -> list[str]:
    size = path.stat().st_size
    if size > MAX_BYTES:
        return [f"{path.name}: {size / 1e6:.2f} MB, over the {MAX_BYTES / 1e6:.1f} MB limit (smaller figures?)"]
    return []


def check_shape(path: Path, notebook: nbformat.NotebookNode, notebook_dir: Path) -> list[str]:
    """The shape of notebook-style.md: title cell, navigation, parameters and scorecard tags."""
    lesson = BY_FILENAME.get(path.name)
    if lesson is None:
        return []  # reported by check_name
    problems = []
    cells = notebook.cells
    if not cells or cells[0].cell_type != "markdown":
        return [f"{where(path, 0)}: the first cell must be the Markdown title cell"]
    title = cells[0].source
    heading = f"# {lesson.number:02d} · {lesson.title}"
    if not title.startswith(heading):
        problems.append(f"{where(path, 0)}: title cell must start with {heading!r}")
    if not re.search(r"about \d+ min", title):
        problems.append(f"{where(path, 0)}: title cell needs a time estimate ('about NN min')")
    if "You will be able to" not in title:
        problems.append(f"{where(path, 0)}: title cell needs learning objectives ('You will be able to')")
    wanted = nav_line(lesson.number, existing(notebook_dir))
    for index in (0, len(cells) - 1):
        lines = [line for line in cells[index].source.split("\n") if line.startswith(NAV_PREFIX)]
        if cells[index].cell_type != "markdown" or lines != [wanted]:
            problems.append(
                f"{where(path, index)}: navigation line must be {wanted!r} (run `make nav`); found {lines!r}"
            )
    tags = {tag for cell in cells for tag in cell.metadata.get("tags", [])}
    if "parameters" not in tags:
        problems.append(f"{path.name}: no cell tagged `parameters`")
    if lesson.number in CASE_NUMBERS:
        if "scorecard" not in tags:
            problems.append(f"{path.name}: case notebooks need a cell tagged `scorecard`")
        headings = [
            line for cell in cells if cell.cell_type == "markdown"
            for line in cell.source.split("\n") if line.startswith("## ")
        ]
        steps = [h for h in headings if re.match(r"## [1-8]\. ", h)]
        numbers = [int(h[3]) for h in steps]
        if numbers != list(range(1, 9)):
            problems.append(f"{path.name}: case notebooks need the eight steps as `## 1.` … `## 8.` headings in order; found {numbers}")
    return problems


README_ROW = re.compile(r"^\|\s*(\d\d)\s*\|\s*(.+?)\s*\|")
README_LINK = re.compile(r"\[[^\]]+\]\((notebooks/[^)]+\.ipynb)\)")


def check_readme(readme: Path, notebook_dir: Path) -> list[str]:
    """Every notebook appears (linked) in the README's course table; every link there exists."""
    rows, lines = {}, {}
    for line in readme.read_text(encoding="utf-8").splitlines():
        match = README_ROW.match(line)
        if match:
            rows[int(match.group(1))] = match.group(2)
            lines[int(match.group(1))] = line
    problems = []
    for lesson in BY_FILENAME.values():
        cell = rows.get(lesson.number)
        on_disk = (notebook_dir / lesson.filename).exists()
        if cell is None:
            problems.append(f"README.md: the course table has no row {lesson.number:02d} ({lesson.title})")
            continue
        link = README_LINK.search(cell)
        if on_disk and (link is None or link.group(1) != f"notebooks/{lesson.filename}"):
            problems.append(f"README.md: row {lesson.number:02d} must link notebooks/{lesson.filename}")
        if not on_disk and link is not None:
            problems.append(f"README.md: row {lesson.number:02d} links {link.group(1)}, which does not exist yet")
        minutes = re.search(r"\|\s*(\d+) min\s*\|?\s*$", lines.get(lesson.number, ""))
        if minutes and int(minutes.group(1)) != lesson.minutes:
            problems.append(f"README.md: row {lesson.number:02d} says {minutes.group(1)} min; "
                            f"utils/course.py plans {lesson.minutes} min")
    return problems
