"""Reading executed notebooks: their cells and outputs, and finding a scorecard row by its claim.

The kit quotes numbers only from what a notebook printed, so a handout cannot drift from the
committed outputs; the scorecard itself is read by ``utils.interview.case_numbers``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOK_NAME = re.compile(r"^(\d\d)_\w+\.ipynb$")


class KitError(ValueError):
    """Bad input for the kit: the message names the file and the problem."""


@dataclass(frozen=True)
class Cell:
    """One notebook cell, reduced to what the kit reads."""

    index: int
    kind: str             # "markdown" or "code"
    source: str
    tags: tuple[str, ...]
    outputs: tuple[dict, ...]

    def text_output(self) -> str:
        """The cell's printed text: streams, then plain-text results (no HTML, no images)."""
        parts = []
        for output in self.outputs:
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                parts.append(_join(output.get("text", "")))
            elif output.get("output_type") in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "text/plain" in data and "text/html" not in data:
                    parts.append(_join(data["text/plain"]))
        return "".join(parts).strip("\n")


def _join(text: str | list[str]) -> str:
    return "".join(text) if isinstance(text, list) else text


def notebooks(notebook_dir: Path = NOTEBOOK_DIR) -> list[Path]:
    """The course notebooks ``NN_name.ipynb`` in ``notebook_dir``, in order."""
    return sorted(p for p in notebook_dir.glob("*.ipynb") if NOTEBOOK_NAME.match(p.name))


def read_cells(path: Path) -> list[Cell]:
    """The cells of the notebook at ``path``; a clear error if it is not a notebook."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        raw = data["cells"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as error:
        raise KitError(f"{path}: not a readable notebook ({error})") from error
    return [Cell(i, c.get("cell_type", ""), _join(c.get("source", "")),
                 tuple(c.get("metadata", {}).get("tags", [])), tuple(c.get("outputs", [])))
            for i, c in enumerate(raw)]


def find_row(rows: list[dict[str, str]], claim: str, where: str) -> dict[str, str]:
    """The one row whose claim starts with ``claim`` (a shortened claim, ending in ``...`` as pandas
    prints long ones, also matches a longer ``claim``); ``where`` names the source in the error
    raised when none or several rows match."""
    def matches(shown: str) -> bool:
        if shown.endswith("...") and claim.startswith(shown[:-3]):
            return True
        return shown.removesuffix("...").startswith(claim)

    found = [row for row in rows if matches(row["claim"])]
    if len(found) != 1:
        raise KitError(f"{where}: {len(found)} scorecard rows match the claim {claim!r}; "
                       f"the claims are: {[row['claim'] for row in rows]}")
    return found[0]
