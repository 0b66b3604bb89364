"""The workshop kit (tools/kit.py) without a browser: the answer key, the handouts' numbers, the
room kit, and the index. Browser checks (PDFs, overflow, no network) are in tests/browser/test_kit.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from tools import answer_key as ak
from tools import handout_pages as hp
from tools import notebook_io
from tools.kit import build
from tools.notebook_io import KitError, find_row

NOTEBOOKS = notebook_io.notebooks()
CASES = [p for p in NOTEBOOKS if p.name[:2] in {"09", "10", "11", "12", "13"}]
HEADING = re.compile(r"^#{3,4}\s+Exercise\s+(\d+)\b(.*)$", re.M)


def your_turn_headings(path: Path) -> list[tuple[int, bool]]:
    """Every ``### Exercise`` heading between '## Your turn' and the next '##' section, read
    independently of the builder: (number, judgment?)."""
    found, inside = [], False
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.split("\n"):
            if line.startswith("## "):
                inside = line.startswith("## Your turn")
            elif inside and HEADING.match(line):
                m = HEADING.match(line)
                found.append((int(m.group(1)), "(judgment)" in m.group(2)))
    return found


def notebook(tmp_path: Path, name: str, cells: list[tuple[str, str]]) -> Path:
    """A small executed-looking notebook from (kind, source) pairs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


# --------------------------------------------------------------------------------------------
# The answer key


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_exercise_heading_has_exactly_one_answered_entry(path: Path) -> None:
    key = ak.notebook_key(path)
    entries = [e.number for e in key.exercises]
    assert len(entries) == len(set(entries)), f"{path.name}: duplicate entries {entries}"
    for number, judgment in your_turn_headings(path):
        assert entries.count(number) == 1, f"{path.name}: Exercise {number} has {entries.count(number)} entries"
        entry = next(e for e in key.exercises if e.number == number)
        assert entry.answer_text().strip(), f"{path.name}: Exercise {number} has an empty answer"
        assert entry.judgment == judgment
        if judgment:
            assert "**Model answer:**" in entry.answer_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_answer_key_finds_the_same_exercises_as_the_course_plan(path: Path) -> None:
    from utils.course import BY_FILENAME, facts

    expected = [(n, judgment) for n, _, judgment in facts(BY_FILENAME[path.name], path.parent).exercises]
    assert [(e.number, e.judgment) for e in ak.notebook_key(path).exercises] == expected


def test_a_planted_exercise_without_an_answer_stops_the_build(tmp_path: Path) -> None:
    path = notebook(tmp_path, "42_planted.ipynb", [
        ("md", "## Your turn\n\n### Exercise 1 · Answered\n\nWhat is it?\n\n### Exercise 2 · Forgotten\n\nAnd this?"),
        ("md", "## Solutions\n\n**Exercise 1.** It is this."),
    ])
    with pytest.raises(KitError, match=r"42_planted\.ipynb: Exercise 2 · Forgotten has no answer"):
        ak.notebook_key(path)


def test_a_real_notebook_with_one_answer_removed_names_it(tmp_path: Path) -> None:
    source = next(p for p in NOTEBOOKS if p.name.startswith("10_"))
    nb = nbformat.read(source, as_version=4)
    nb.cells = [c for c in nb.cells if not c.source.startswith("**Exercise 4 (judgment).**")]
    target = tmp_path / source.name
    nbformat.write(nb, target)
    with pytest.raises(KitError, match=r"10_case_fraud_detection\.ipynb: Exercise 4 \(judgment\) · The segment"):
        ak.notebook_key(target)


def test_a_judgment_answer_without_a_model_answer_is_refused(tmp_path: Path) -> None:
    path = notebook(tmp_path, "43_judgment.ipynb", [
        ("md", "## Your turn\n\n### Exercise 1 (judgment) · Defend it\n\nWhy?"),
        ("md", "## Solutions\n\n**Exercise 1 (judgment).** Because."),
    ])
    with pytest.raises(KitError, match=r"43_judgment\.ipynb: Exercise 1 \(judgment\).*Model answer"):
        ak.notebook_key(path)


def test_solution_pieces_go_to_the_exercise_they_name(tmp_path: Path) -> None:
    path = notebook(tmp_path, "44_mixed.ipynb", [
        ("md", "## Your turn"),
        ("code", "# Exercise 1: how many?\nanswer_1 = TODO"),
        ("code", "# Exercise 2: how much?\nanswer_2 = TODO"),
        ("md", "### Exercise 3 (judgment) · Why\n\nSay why.\n\n*Your answer:*"),
        ("md", "## Scorecard"),
        ("md", "## Solutions\n\nIntro that answers nothing."),
        ("code", "base = 40\nanswer_1 = base + 2\nanswer_2 = 7.5\nprint(answer_1, answer_2)"),
        ("md", "(1) Forty-two because of the base. (2) Seven and a half.\n\n*Exercise 3.* **Model answer:** "
               "Because.\n\n**Self-check:**\n- says because"),
        ("md", "*Navigation:* somewhere"),
    ])
    one, two, three = ak.notebook_key(path).exercises
    assert "base = 40" in one.answer_text() and "answer_1 = base + 2" in one.answer_text()
    assert "answer_2 = 7.5" not in one.answer_text() and "Seven" not in one.answer_text()
    assert "answer_2 = 7.5" in two.answer_text() and "Seven and a half" in two.answer_text()
    assert "print(answer_1, answer_2)" in one.answer_text() and "print(answer_1, answer_2)" in two.answer_text()
    assert three.prompt == ["Say why."]
    assert three.answer_text().startswith("**Model answer:** Because.") and "Self-check" in three.answer_text()
    assert "Intro" not in one.answer_text() + two.answer_text() + three.answer_text()
    assert one.prompt == ["how many?"]


def test_answer_key_markdown_links_every_notebook_and_shows_the_printed_answers() -> None:
    path = next(p for p in NOTEBOOKS if p.name.startswith("10_"))
    text = ak.render_markdown([ak.notebook_key(path)], "../../notebooks/")
    assert f"](../../notebooks/{path.name})" in text
    assert "### Exercise 3 (judgment) · Which metric goes on the champion–challenger dashboard?" in text
    assert "Exercise 1: correct ✓" in text  # the solution's self-check output, as printed


# --------------------------------------------------------------------------------------------
# Handouts


def test_the_eight_steps_come_from_notebook_00_and_match_the_case_headings() -> None:
    steps = hp.eight_steps()
    assert [s.number for s in steps] == list(range(1, 9))
    assert steps[0].name == "Clarify the problem" and steps[-1].name == "Monitoring and iteration"
    assert all(s.question.endswith("?") and s.say for s in steps)


def test_a_case_heading_that_drifts_from_00_stops_the_build(tmp_path: Path) -> None:
    for path in NOTEBOOKS:
        (tmp_path / path.name).symlink_to(path)
    case = tmp_path / CASES[0].name
    case.unlink()
    data = json.loads(CASES[0].read_text(encoding="utf-8"))
    for cell in data["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = "".join(cell["source"]).replace("## 4. Model", "## 4. Modelling")
    case.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(KitError, match="4. Modelling"):
        hp.eight_steps(tmp_path)


@pytest.mark.parametrize("case", hp.load_cases(), ids=lambda c: c["notebook"][:2])
def test_every_number_on_a_case_page_is_a_scorecard_value(case: dict) -> None:
    from utils.interview import case_numbers

    _, html = hp.case_page(case)
    values = set(case_numbers(case["notebook"]).values())
    shown = re.findall(r'<span class="num" title="scorecard: [^"]*">([^<]*)</span>', html)
    assert len(shown) >= 5, "a case page quotes at least five numbers"
    for value in shown:
        assert value.replace("&#x27;", "'") in values or re.fullmatch(r"[\d,]+", value), value
    for section in ("Problem.", "Metric tree", "Baseline", "Offline metric", "A/B plan", "Serving constraints",
                    "Failure modes"):
        assert section in html
    assert "[[" not in html and "KITNUMBER" not in html


def test_typed_numbers_unknown_claims_and_unknown_inputs_are_refused() -> None:
    path = CASES[1]
    rows = hp.scorecard(path)
    claim = rows[0]["claim"].removesuffix("...")
    assert rows[0]["value"] in hp.fill(f"base rate [[{claim}]]", rows, path)
    with pytest.raises(KitError, match="typed number"):
        hp.fill("a base rate of 0.008", rows, path)
    with pytest.raises(KitError, match="0 scorecard rows match"):
        hp.fill("[[a claim no notebook makes]]", rows, path)
    with pytest.raises(KitError, match="does not occur in the notebook"):
        hp.fill("a budget of `123456789` ms", rows, path)


def test_find_row_accepts_pandas_shortened_claims_and_refuses_ambiguity() -> None:
    rows = [{"claim": "segment monitor at 4 sd, both windows, seeds 0-3: longest delay to the first...", "value": "6"},
            {"claim": "segment monitor, median delay", "value": "1"}]
    full = "segment monitor at 4 sd, both windows, seeds 0-3: longest delay to the first alarm, days"
    assert find_row(rows, full, "t")["value"] == "6"
    assert find_row(rows, "segment monitor at", "t")["value"] == "6"
    with pytest.raises(KitError, match="2 scorecard rows match"):
        find_row(rows, "segment monitor", "t")


# --------------------------------------------------------------------------------------------
# Room kit and the whole build (HTML only here)


@pytest.fixture(scope="module")
def kit(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    out = tmp_path_factory.mktemp("kit") / "kit"
    return out, build(out, pdf=False)


def test_room_kit_is_generated_from_utils_interview(kit) -> None:  # noqa: ANN001
    from utils import interview

    out, _ = kit
    cards = (out / "room" / "prompt-cards.html").read_text(encoding="utf-8")
    assert cards.count('<div class="cut">') == len(interview.PROMPTS)
    script = (out / "room" / "interviewer-script.html").read_text(encoding="utf-8")
    for key, steps in interview.FOLLOW_UPS.items():
        for follow_ups in steps.values():
            for follow in follow_ups:
                assert follow.question.split()[0] in script, (key, follow.question)
    assert script.count('<section class="entry"') == len(interview.PROMPTS)
    sheet = (out / "room" / "observer-sheet.html").read_text(encoding="utf-8")
    assert all(signal.name in sheet for signal in interview.SIGNALS)


def test_a_follow_up_quoting_a_vanished_claim_stops_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.room_kit import room_pages
    from utils import interview

    broken = {"fraud": {"Serving": [interview.FollowUp("Q?", "A.", (("a claim the notebook never printed", ">"),))]}}
    monkeypatch.setattr(interview, "FOLLOW_UPS", broken)
    with pytest.raises(KitError, match="a claim the notebook never printed"):
        room_pages(notebook_io.NOTEBOOK_DIR)


def test_index_links_every_page_and_every_link_resolves(kit) -> None:  # noqa: ANN001
    out, built = kit
    index = (out / "index.html").read_text(encoding="utf-8")
    for path in built.handouts + built.room + built.documents:
        assert f'href="{path.relative_to(out).as_posix()}"' in index, path.name
    for page in [out / "index.html", out / "answer-key.html", *built.handouts, *built.room]:
        text = page.read_text(encoding="utf-8")
        assert not re.search(r"(src|href)=\"(https?:)?//", text), f"{page.name} links the network"
        for href in re.findall(r'href="([^"#]+)', text):
            if not href.endswith(".pdf"):  # PDFs come with `make kit` (browser tests check them)
                assert (page.parent / href).exists(), f"{page.name} links a missing {href}"


def test_the_cli_reports_bad_input_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tools.kit import main

    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for path in NOTEBOOKS:
        (notebooks / path.name).symlink_to(path)
    (notebooks / "00_course_map.ipynb").unlink()
    (notebooks / "00_course_map.ipynb").write_text("{not json", encoding="utf-8")
    assert main(["--notebooks", str(notebooks), "--out", str(tmp_path / "out"), "--no-pdf"]) == 1
    assert "00_course_map.ipynb: not a readable notebook" in capsys.readouterr().err
