"""The new checks can fail: each one catches a planted defect (a check that cannot fail is no check)."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests import prose
from tests.hygiene import read

ROOT = Path(__file__).resolve().parent.parent
P = Path("10_case_fraud_detection.ipynb")


def _printed(source: str, text: str) -> nbformat.NotebookNode:
    cell = new_code_cell(source, execution_count=1)
    cell.outputs = [new_output("stream", name="stdout", text=text)]
    return cell


def test_prose_check_accepts_printed_numbers_and_rejects_a_drifted_one() -> None:
    text = ("PR-AUC is 0.745 (about 0.75), 1,576 a day, 18.4 % of it, B−A −0.326; "
            "a `20` ms budget; step 3; 3 of 4 seeds hold.")
    nb = new_notebook(cells=[new_markdown_cell("# title 12.5\nNumbers are for the default parameters."),
                             _printed("BUDGET_MS = 20\nprint(...)",
                                      "PR-AUC 0.745, cost 1,576.2 per day, share 0.184, B-A -0.326, 3 of 4 seeds\n"),
                             new_markdown_cell(text)])
    assert prose.check_prose(P, nb) == []
    for planted, drifted in [("0.745 (", "0.754 ("), ("−0.326", "−0.362"), ("B−A −0.326", "B−A 0.326"),
                             ("3 of 4", "2 of 4"), ("`20`", "`25`"), ("1,576", "1,586"), ("18.4 %", "19.4 %")]:
        nb.cells[2] = new_markdown_cell(text.replace(planted, drifted))
        problems = prose.check_prose(P, nb)
        if planted == "B−A −0.326":
            assert problems == [], "an unsigned prose number may quote a signed output"
            continue
        assert len(problems) == 1 and "cell 2" in problems[0], (planted, drifted, problems)
    nb.cells[0] = new_markdown_cell("# title")
    nb.cells[2] = new_markdown_cell(text)
    assert "default parameters" in prose.check_prose(P, nb)[0]


def test_prose_check_does_not_count_numbers_typed_into_the_printing_code() -> None:
    nb = new_notebook(cells=[new_markdown_cell("# t\nfor the default parameters"),
                             _printed('print("risk targeting saves 21")', "risk targeting saves 21\n"),
                             new_markdown_cell("Risk targeting saves 21.")])
    assert "prose quotes 21" in prose.check_prose(P, nb)[0]


def test_prose_check_ignores_machine_dependent_outputs_and_needs_them_above() -> None:
    nb = new_notebook(cells=[new_markdown_cell("# t\nfor the default parameters"), new_markdown_cell("p99 was 13.25 ms"),
                             _printed("# NBVAL_IGNORE_OUTPUT\nprint(...)", "13.25\n"),
                             new_markdown_cell("p99 was 13.25 ms")])
    problems = prose.check_prose(P, nb)
    assert [p.split(":")[0] for p in problems] == [f"{P.name} cell 1", f"{P.name} cell 3"]


def test_prose_check_fails_on_a_drifted_number_planted_in_a_real_notebook() -> None:
    path = ROOT / "notebooks" / "10_case_fraud_detection.ipynb"
    notebook = read(path)
    assert prose.check_prose(path, notebook) == [], "the committed notebook must pass before planting"
    index, token = next((i, t) for i, c in enumerate(notebook.cells) if c.cell_type == "markdown" and i
                        for t, *_ in prose.prose_numbers(c.source) if "." in t)
    drifted = token[:-1] + str((int(token[-1]) + 5) % 10)
    notebook.cells[index].source = re.sub(rf"(?<![\d.]){re.escape(token)}(?!\d)", drifted, notebook.cells[index].source, count=1)
    problems = prose.check_prose(path, notebook)
    assert any(f"cell {index}:" in p and drifted in p for p in problems), problems


def _exercise_notebook(hint: str, expected: str, answer_line: str, hidden: bool = True) -> nbformat.NotebookNode:
    key = _printed("x = 20 / 215", "")
    key.metadata = {"tags": ["answer-key"], "jupyter": {"source_hidden": hidden}}
    return new_notebook(cells=[
        new_markdown_cell("# t"),
        key,
        new_markdown_cell("## 9. Your turn\n### Exercise 1 · share"),
        _printed(f'answer = None\nok = check_answer("Exercise 1", answer, {expected}, hint="{hint}")', ""),
        new_markdown_cell("## Solutions"),
        _printed(f'answer = x\nok = check_answer("Exercise 1", answer, {expected})', answer_line),
    ])


def test_exercise_check_rejects_leaked_answers_and_literal_expectations() -> None:
    good = _exercise_notebook("which count is the numerator?", "x", "Exercise 1: correct ✓ (answer: 0.0930233)\n")
    assert prose.check_exercises(P, good) == []
    leaked = _exercise_notebook("it is about 0.093", "x", "Exercise 1: correct ✓ (answer: 0.0930233)\n")
    assert any("shows 0.093" in p for p in prose.check_exercises(P, leaked))
    for near in ["0.092", "0.09302", "9.30 %", "9.3%"]:
        assert any("accepts" in p for p in prose.check_exercises(P, _exercise_notebook(f"about {near}", "x",
                   "Exercise 1: correct ✓ (answer: 0.0930233)\n"))), near
    bound = _exercise_notebook("see above", "key", "Exercise 1: correct ✓ (answer: 0.093)\n")
    bound.cells[1].source += "\nkey = 0.093"
    assert any("compares with a literal" in p for p in prose.check_exercises(P, bound))
    nb = _exercise_notebook("see above", "x", "Exercise 1: correct ✓ (answer: 0.0930233)\n")
    nb.cells[2].source += "\n### Exercise 2 · another number"
    assert any("Exercise 2 has no self-check" in p for p in prose.check_exercises(P, nb))
    nb.cells[2].source = nb.cells[2].source.replace("Exercise 2 ·", "Exercise 2 (judgment) ·")
    assert prose.check_exercises(P, nb) == []
    computed = _exercise_notebook("divide 20 / 215", "x", "Exercise 1: correct ✓ (answer: 0.0930233)\n")
    assert any("'20 / 215' computes the answer" in p for p in prose.check_exercises(P, computed))
    in_view = _exercise_notebook("see above", "x", "Exercise 1: correct ✓ (answer: 0.0930233)\n", hidden=False)
    assert any("computes its expected value in view" in p for p in prose.check_exercises(P, in_view))
    literal = _exercise_notebook("see above", "0.093", "Exercise 1: correct ✓ (answer: 0.093)\n")
    assert any("compares with a literal" in p for p in prose.check_exercises(P, literal))
    unsolved = _exercise_notebook("see above", "x", "Exercise 1: not quite\n")
    assert any("no solution" in p for p in prose.check_exercises(P, unsolved))


def test_judgment_check_counts_questions_answers_and_predictions() -> None:
    nb = new_notebook(cells=[new_markdown_cell("# t"), new_markdown_cell("**Predict, then run:** guess."),
                             new_markdown_cell("## Your turn\n### Exercise 4 (judgment) · metric?"),
                             new_markdown_cell("## Solutions\n**Model answer:** x\n\n**Self-check:**\n- y")])
    problems = "\n".join(prose.check_judgment(P, nb))
    assert "1 judgment exercises" in problems and "1 '**Predict, then run' prompts" in problems
    nb.cells[2].source += "\n### Exercise 5 (judgment) · latency halves?"
    nb.cells[1].source += "\n\n**Predict, then run:** again."
    assert "2 judgment exercises but 1 '**Model answer'" in "\n".join(prose.check_judgment(P, nb))


def test_reading_time_check_reports_a_wrong_estimate() -> None:
    nb = new_notebook(cells=[new_markdown_cell("# t\nabout 5 min"), new_markdown_cell("word " * 3000)])
    assert prose.reading_minutes(nb) == 15
    problems = prose.check_reading_time(P, nb, planned=5)
    assert len(problems) == 2 and "about 15 min" in problems[0]


def test_reading_time_skips_only_the_colab_cell() -> None:
    code = "\n".join(f"x{i} = {i}" for i in range(120))  # 120 lines: 10 minutes at 12 a minute
    colab = new_code_cell(code, metadata={"tags": ["colab"]})
    nb = new_notebook(cells=[new_markdown_cell("# t"), colab])
    assert prose.reading_minutes(nb) == 5  # the floor: nothing counted
    nb.cells[1] = new_code_cell(code)
    assert prose.reading_minutes(nb) == 10


def test_source_sync_check_reports_an_edit_not_rebuilt(tmp_path: Path) -> None:
    path = ROOT / "notebooks" / "00_course_map.ipynb"
    notebook, source = read(path), jupytext.read(path.with_suffix(".py"))
    assert prose.check_source_sync(path, notebook, source) == []
    source.cells[3].source += "\nprint('edited')"
    assert "cell 3: differs" in prose.check_source_sync(path, notebook, source)[0]


@pytest.mark.parametrize(("answer", "shown", "tol", "gives_away"), [
    (0.0930233, 0.093, 0.02, True), (0.0930233, 9.3, 0.02, True), (0.0930233, 0.1, 0.02, False),
    (1576.0, 1580.0, 0.005, True), (1576.0, 1600.0, 0.005, False), (7.0, 7.0, 0.0, False),
])
def test_gives_away_uses_the_checks_own_tolerance(answer: float, shown: float, tol: float, gives_away: bool) -> None:
    assert prose._gives_away(shown, answer, tol, 0.0, str(shown)) is gives_away


CLAIMS_FIXTURE = """# %% [markdown]
# # fixture
# %% tags=["parameters"]
SEED = 0
# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs
KNOBS = [Knob("SEED", 0, 0, 10)]
AT_DEFAULTS = check_knobs(KNOBS, globals())
# %% tags=["scorecard"]
from utils.scorecard import build, enforce
scorecard = build([("seed is even", SEED, "even", SEED % 2 == 0)])
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)
"""


def test_claims_tier_fails_when_a_claim_breaks_at_another_seed(tmp_path: Path) -> None:
    """The strict switch reaches the kernel: a claim false at seed 1 stops Run All there, and only
    reports when the switch is off."""
    from nbclient.exceptions import CellExecutionError

    from tests.tools.runner import inject, run
    from utils.scorecard import STRICT_ENV

    source = tmp_path / "fixture.py"
    source.write_text(CLAIMS_FIXTURE)
    run(inject(jupytext.read(source), {"SEED": 2}), env={STRICT_ENV: "1"})
    with pytest.raises(CellExecutionError, match="1 of 1 scorecard claims do not hold"):
        run(inject(jupytext.read(source), {"SEED": 1}), env={STRICT_ENV: "1"})
    reported = inject(jupytext.read(source), {"SEED": 1})
    run(reported)
    assert "does not hold: seed is even" in "".join(o.get("text", "") for o in reported.cells[-1].outputs)
