"""The first code cell that makes a notebook run on Google Colab, and the tool that inserts it.

On Colab (``"google.colab" in sys.modules``) the cell clones the course repository into
``/content/``, installs its pinned packages the way ``make lab`` does (requirements.txt, then the
``--no-deps`` pins, then the package itself), and changes the working directory to the clone's
``notebooks/`` so that ``import utils`` and the ``../datasets`` paths work. Anywhere else it does
nothing and prints nothing.

    python tools/colab.py notebooks/NN_name.py ...   # insert (or refresh) the cell; idempotent

The cell goes into the jupytext percent source, before its first code cell, tagged ``colab``;
``make execute`` then rebuilds the .ipynb from it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# The repository Colab clones. Its public URL is not known yet: the maintainer who publishes the
# course sets it here and re-runs `python tools/colab.py notebooks/*.py` + `make execute`. Until
# then the cell stops on Colab with a message asking for COURSE_REPO_URL (a learner or a fork can
# always set that variable, and the clone's place, default /content/ml-system-design-course, with
# COURSE_ROOT).
REPO_URL = "https://github.com/OWNER/ml-system-design-course.git"
TAG_LINE = '# %% tags=["colab"]'
FIRST_LINE = "# Colab only: fetch the course and its pinned packages (does nothing anywhere else)."

COLAB_CELL = f'''{FIRST_LINE}
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    _repo = os.environ.get("COURSE_REPO_URL", "{REPO_URL}")
    if "/OWNER/" in _repo:
        raise RuntimeError("This copy of the course does not know its repository's URL: run "
                           "%env COURSE_REPO_URL=https://github.com/<owner>/<repo>.git, then this cell again.")
    _root = os.environ.get("COURSE_ROOT", "/content/ml-system-design-course")
    if not os.path.isdir(os.path.join(_root, "notebooks")):
        _loaded = {{m: sys.modules[m].__version__ for m in ("numpy", "pandas", "matplotlib") if m in sys.modules}}
        subprocess.run(["git", "clone", "--depth", "1", _repo, _root], check=True)
        for _args in (["-r", "requirements.txt"], ["--no-deps", "-r", "requirements-nodeps.txt"],
                      ["--no-deps", "-e", "."]):
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *_args], cwd=_root, check=True)
        if _loaded:
            print("Installed the course's pinned packages; Colab had already loaded", ", ".join(_loaded),
                  "- use Runtime > Restart session, then Run all.")
    os.chdir(os.path.join(_root, "notebooks"))
    if _root not in sys.path:
        sys.path.insert(0, _root)'''

_CELL_START = re.compile(r"^# %%", re.M)


def _cells(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every percent cell in ``text`` (the header before them excluded)."""
    starts = [m.start() for m in _CELL_START.finditer(text)]
    return list(zip(starts, [*starts[1:], len(text)][:len(starts)], strict=True))


def insert_colab_cell(py_source_path: Path | str) -> bool:
    """Make COLAB_CELL the first code cell of a jupytext percent source; True if the file changed.

    Idempotent: an existing ``colab``-tagged cell is replaced by the current COLAB_CELL (so a second
    call changes nothing). Raises ValueError naming the file when it is not a percent source.
    """
    path = Path(py_source_path)
    text = path.read_text(encoding="utf-8")
    cells = _cells(text)
    if not cells or "format_name: percent" not in text[:cells[0][0]]:
        raise ValueError(f"{path}: not a jupytext percent source (no '# %%' cells after a percent header)")
    block = f"{TAG_LINE}\n{COLAB_CELL}\n\n"
    tagged = [(s, e) for s, e in cells if text.startswith(TAG_LINE, s)]
    if tagged:
        start, end = tagged[0]
        new = text[:start] + block + text[end:]
    else:
        code = [s for s, _ in cells if not text.startswith("# %% [", s)]
        if not code:
            raise ValueError(f"{path}: has no code cell to put the Colab cell before")
        new = text[:code[0]] + block + text[code[0]:]
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print(__doc__)
        return 2
    for name in paths:
        changed = insert_colab_cell(name)
        print(f"{name}: {'Colab cell inserted' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
