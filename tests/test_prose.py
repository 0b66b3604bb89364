"""What the notebooks say is held to what they compute (see tests/prose.py for each rule)."""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import pytest

from tests import prose
from tests.hygiene import read
from utils.course import BY_FILENAME

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CASES = [p for p in NOTEBOOKS if 9 <= int(p.name[:2]) <= 13]
ids = [p.name[:2] for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_prose_numbers_are_printed_above(path: Path) -> None:
    problems = prose.check_prose(path, read(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_exercises_do_not_give_the_answer_away(path: Path) -> None:
    problems = prose.check_exercises(path, read(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CASES, ids=[p.name[:2] for p in CASES])
def test_case_studies_have_judgment_exercises_and_predictions(path: Path) -> None:
    problems = prose.check_judgment(path, read(path))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CASES, ids=[p.name[:2] for p in CASES])
def test_case_studies_open_with_a_15_minute_path(path: Path) -> None:
    assert "**15-minute path:**" in read(path).cells[0].source, f"{path.name}: no '**15-minute path:**' in the title cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stated_reading_time_is_computed(path: Path) -> None:
    problems = prose.check_reading_time(path, read(path), BY_FILENAME[path.name].minutes)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_matches_its_text_source(path: Path) -> None:
    problems = prose.check_source_sync(path, read(path), jupytext.read(path.with_suffix(".py")))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_knobs_cell_follows_the_parameters(path: Path) -> None:
    cells = read(path).cells
    tags = [c.metadata.get("tags", []) for c in cells]
    params = [i for i, t in enumerate(tags) if "parameters" in t]
    assert len(params) == 1, f"{path.name}: {len(params)} cells tagged parameters"
    nxt = params[0] + 1
    assert nxt < len(cells) and "knobs" in tags[nxt], f"{path.name}: the cell after `parameters` must be tagged `knobs`"
    assert "check_knobs(KNOBS, globals())" in cells[nxt].source, f"{path.name}: the knobs cell must call check_knobs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_parameter_is_a_knob(path: Path) -> None:
    """A parameter missing from KNOBS would leave AT_DEFAULTS True when a learner changes it."""
    cells = read(path).cells
    params = next(c for c in cells if "parameters" in c.metadata.get("tags", []))
    knobs = next(c for c in cells if "knobs" in c.metadata.get("tags", []))
    assigned = {t.id for node in ast.parse(params.source).body if isinstance(node, ast.Assign)
                for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)}
    listed = {node.args[0].value for node in ast.walk(ast.parse(knobs.source))
              if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Knob"
              and node.args and isinstance(node.args[0], ast.Constant)}
    assert assigned == listed, f"{path.name}: parameters {sorted(assigned)} but KNOBS lists {sorted(listed)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_scorecard_asserts_at_the_defaults(path: Path) -> None:
    """The scorecard cell ends by enforcing itself, with nothing that could swallow the assert."""
    cells = [c for c in read(path).cells if "scorecard" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name}: {len(cells)} cells tagged scorecard"
    tree = ast.parse(cells[0].source)
    last = tree.body[-1]
    assert ast.unparse(last) == "enforce(scorecard, at_defaults=AT_DEFAULTS)", (
        f"{path.name}: the scorecard cell must end with enforce(scorecard, at_defaults=AT_DEFAULTS)")
    assert not any(isinstance(n, ast.Try) for n in ast.walk(tree)), f"{path.name}: no try/except in the scorecard cell"
