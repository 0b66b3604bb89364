"""tools/colab.py: the Colab first cell does nothing outside Colab; inserting it is idempotent."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_colab():  # noqa: ANN202
    spec = importlib.util.spec_from_file_location("course_colab", ROOT / "tools" / "colab.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


colab = _load_colab()

# Runs the cell in a fresh interpreter and reports what it changed (as JSON on stdout).
HARNESS = """
import json, os, sys
cell = open(sys.argv[1]).read()
before = (os.getcwd(), list(sys.path), sorted(os.listdir(".")))
namespace = {}
exec(compile(cell, "colab_cell", "exec"), namespace)
after = (os.getcwd(), list(sys.path), sorted(os.listdir(".")))
print(json.dumps({"same": before == after, "names": sorted(k for k in namespace if k != "__builtins__"),
                  "cwd": after[0]}))
"""


def _run(tmp_path: Path, code: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=60, env=env)


def test_cell_is_silent_and_changes_nothing_outside_colab(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    result = _run(work, colab.COLAB_CELL)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert list(work.iterdir()) == []
    cell = tmp_path / "cell.py"
    cell.write_text(colab.COLAB_CELL)
    report = _run(work, HARNESS, str(cell))
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) == {"same": True, "names": ["sys"], "cwd": str(work)}


def test_cell_on_colab_clones_installs_and_moves_to_notebooks(tmp_path: Path) -> None:
    """A fake google.colab module and a recording subprocess.run: the cell's plan, without network."""
    root = tmp_path / "course"
    fake = """
import json, subprocess, sys, types, os
sys.modules["google.colab"] = types.ModuleType("google.colab")
calls = []
def run(args, cwd=None, check=False):
    calls.append([args[0] if args[0] == "git" else "python", *args[1:], cwd])
    if args[0] == "git":
        os.makedirs(os.path.join(args[-1], "notebooks"))
subprocess.run = run
exec(open(sys.argv[1]).read(), {})
print(json.dumps({"calls": calls, "cwd": os.getcwd(), "path0": sys.path[0]}))
"""
    cell = tmp_path / "cell.py"
    cell.write_text(colab.COLAB_CELL)
    env = dict(os.environ, COURSE_ROOT=str(root), COURSE_REPO_URL="https://example.invalid/course.git")
    result = _run(tmp_path, fake, str(cell), env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["cwd"] == str(root / "notebooks") and report["path0"] == str(root)
    clone, *installs = report["calls"]
    assert clone == ["git", "clone", "--depth", "1", "https://example.invalid/course.git", str(root), None]
    assert [call[-2:] for call in installs] == [["requirements.txt", str(root)],
                                                ["requirements-nodeps.txt", str(root)], [".", str(root)]]
    assert all("--no-deps" in call for call in installs[1:])


def test_repo_url_is_a_git_url() -> None:
    assert colab.REPO_URL.startswith("https://") and colab.REPO_URL.endswith(".git")


def test_every_notebook_opens_with_the_current_colab_cell() -> None:
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        text = path.read_text(encoding="utf-8")
        assert f"{colab.TAG_LINE}\n{colab.COLAB_CELL}\n\n" in text, (
            f"{path.name}: no current Colab cell; run python tools/colab.py {path} and make execute")


def test_insert_is_idempotent_and_first_code_cell(tmp_path: Path) -> None:
    source = tmp_path / "02_frame_as_ml.py"
    block = f"{colab.TAG_LINE}\n{colab.COLAB_CELL}\n\n"
    source.write_text((ROOT / "notebooks" / "02_frame_as_ml.py").read_text().replace(block, "", 1))
    original = source.read_text()
    assert colab.TAG_LINE not in original
    assert colab.insert_colab_cell(source) is True
    once = source.read_text()
    assert colab.insert_colab_cell(source) is False
    assert source.read_text() == once
    assert once.replace(f"{colab.TAG_LINE}\n{colab.COLAB_CELL}\n\n", "", 1) == original
    import jupytext

    notebook = jupytext.read(source)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code[0].source == colab.COLAB_CELL and code[0].metadata.get("tags") == ["colab"]
    assert "parameters" in code[1].metadata.get("tags", [])  # the parameters cell comes right after


def test_insert_refreshes_an_outdated_cell(tmp_path: Path) -> None:
    source = tmp_path / "02_frame_as_ml.py"
    shutil.copy(ROOT / "notebooks" / "02_frame_as_ml.py", source)
    colab.insert_colab_cell(source)
    current = source.read_text()
    source.write_text(current.replace(colab.FIRST_LINE, "# an older Colab cell"))
    assert colab.insert_colab_cell(source) is True
    assert source.read_text() == current


def test_insert_rejects_a_file_that_is_not_a_percent_source(tmp_path: Path) -> None:
    plain = tmp_path / "plain.py"
    plain.write_text("print('hello')\n")
    with pytest.raises(ValueError, match="plain.py: not a jupytext percent source"):
        colab.insert_colab_cell(plain)
