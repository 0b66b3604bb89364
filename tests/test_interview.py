"""Tests of utils/interview.py: prompts, model answers, follow-ups, rubric and practice files."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from utils import interview as iv
from utils.course import BY_FILENAME, NOTEBOOK_DIR

ALL = {s.key: 3 for s in iv.SIGNALS}


def test_prompts_cover_canonical_and_ten_more() -> None:
    canonical = [p for p in iv.PROMPTS if p.canonical]
    assert len(canonical) == 5 and len(iv.PROMPTS) - 5 >= 10
    assert all(p.case in BY_FILENAME and (NOTEBOOK_DIR / p.case).exists() for p in canonical)
    assert all(p.case is None for p in iv.PROMPTS if not p.canonical)
    assert len({p.key for p in iv.PROMPTS}) == len(iv.PROMPTS)


def test_every_prompt_has_model_answers() -> None:
    for p in iv.PROMPTS:
        assert len(iv.clarifying_questions(p.key)) >= 7
        tree = iv.metric_tree(p.key)
        assert tree["business"] and tree["online"] and tree["offline"] and tree["guardrails"]
    with pytest.raises(ValueError, match="prompt key"):
        iv.clarifying_questions("nope")


def test_pick_prompt_is_deterministic_and_validates() -> None:
    assert iv.pick_prompt(3) == iv.pick_prompt(3)
    assert len({iv.pick_prompt(s).key for s in range(len(iv.PROMPTS))}) == len(iv.PROMPTS)
    with pytest.raises(ValueError, match="seed"):
        iv.pick_prompt(-1)


def test_every_canonical_prompt_has_follow_ups_for_all_eight_steps() -> None:
    assert set(iv.FOLLOW_UPS) == set(iv.CANONICAL)
    for key, steps in iv.FOLLOW_UPS.items():
        assert list(steps) == list(iv.STEPS), key
        assert all(steps[s] for s in iv.STEPS)


def test_follow_up_quotes_are_in_the_case_scorecards() -> None:
    for key in iv.CANONICAL:
        numbers = iv.case_numbers(iv.BY_KEY[key].case)
        assert numbers
        for step in iv.STEPS:
            for f in iv.FOLLOW_UPS[key][step]:
                for claim, _says in f.quotes:
                    assert iv.quote(numbers, claim) is not None, (key, step, claim)
                for row, (_, says) in zip(f.rows(numbers), f.quotes, strict=True):
                    assert row[2] and row[3], (key, step, row)            # value and reference printed
                    assert row[4] is True or says == "", (key, step, row)  # the answer's direction agrees
                for label, header, _ in f.printed:
                    assert iv.case_printed(iv.BY_KEY[key].case, label, header), (key, step, label)


def test_case_numbers_carry_the_reference_and_directions_can_fail() -> None:
    fraud = iv.case_numbers(iv.BY_KEY["fraud"].case)
    value = iv.quote(fraud, "learned model beats the 3-flag rule")
    assert value is not None and value.reference.startswith(">") and value.full.startswith(str(value) + " (")
    assert iv.direction_agrees(value, value.reference, ">") is True
    assert iv.direction_agrees(value, value.reference, "<") is False   # an answer saying the rule won
    assert iv.direction_agrees("[0.043, 0.084]", "lower end > 0", ">") is True
    assert iv.direction_agrees("[-0.03, 0.084]", "lower end > 0", ">") is False
    assert iv.direction_agrees("2", ">= 2 of 3", ">") is True
    assert iv.direction_agrees("0.000 / 0.352", "0 / > 0", ">") is None
    assert iv.direction_agrees("True", "True", "True") is True
    with pytest.raises(ValueError, match="says"):
        iv.direction_agrees("1", "> 0", "up")


def test_case_numbers_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        iv.case_numbers(tmp_path / "missing.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps({"cells": []}))
    with pytest.raises(ValueError, match="scorecard"):
        iv.case_numbers(bad)


def test_every_linked_notebook_exists() -> None:
    for s in iv.SIGNALS:
        assert all(n in {lesson.number for lesson in BY_FILENAME.values()} for n in s.trains)
        assert all((NOTEBOOK_DIR / f).exists() for f in iv.notebooks_for(s.key))
        assert iv.notebooks_for(s.key), s.key
    for key, text in iv.SKELETONS.items():
        assert iv.BY_KEY[key].case in text and (NOTEBOOK_DIR / iv.BY_KEY[key].case).exists()
    assert all((NOTEBOOK_DIR / f).exists() for f in iv.STEP_NOTEBOOK.values() if f != "07_serving.ipynb")


def test_rubric_edge_cases() -> None:
    result = iv.rubric_result(ALL | {"serving": 1})
    assert result.weakest == ("serving",) and result.notebooks
    tied = iv.rubric_result(ALL | {"serving": 2, "structure": 2})
    assert tied.weakest == ("serving", "structure")
    assert iv.rubric_result(ALL).weakest == tuple(s.key for s in iv.SIGNALS)  # all equal: all weakest
    top = iv.rubric_result({k: 4 for k in ALL})
    assert top.mean == 4 and top.weakest == () and top.notebooks == () and "no gap" in top.summary()
    assert set(iv.SCORE_LABELS) == set(range(iv.SCORE_MIN, iv.SCORE_MAX + 1))
    for bad in (ALL | {"serving": 0}, ALL | {"serving": 5}, ALL | {"serving": 2.5}, ALL | {"serving": True}):
        with pytest.raises(ValueError, match="serving"):
            iv.rubric_result(bad)
    with pytest.raises(ValueError, match="unknown"):
        iv.rubric_result(ALL | {"charisma": 3})
    with pytest.raises(ValueError, match="lacks"):
        iv.rubric_result({"serving": 3})


def test_schedule_adds_up_to_45_minutes() -> None:
    rows = iv.schedule("09:30")
    assert sum(r[1] for r in rows) == 45 and rows[0][2] == "09:30" and rows[-1][3] == "10:15"
    assert [r[0] for r in rows if r[0] in iv.STEPS] == list(iv.STEPS)
    names = [r[0] for r in rows]
    assert names.index(iv.SKETCH) < names.index("Data and features")  # the end-to-end sketch comes early
    assert iv.DEEP_DIVE in names and all(r[0] in iv.TEMPLATE or r[0] in iv.SLOTS for r in rows)
    with pytest.raises(ValueError, match="start"):
        iv.schedule("25:00")


def test_log_round_trip(tmp_path: Path) -> None:
    first = iv.log_session(tmp_path, "2026-01-05", "fraud", 45, ALL)
    second = iv.log_session(tmp_path, dt.date(2026, 1, 7), "rag", 40, ALL | {"serving": 1})
    assert iv.read_log(tmp_path) == [first, second]
    with pytest.raises(ValueError, match="minutes"):
        iv.log_session(tmp_path, "2026-01-08", "rag", 0, ALL)
    with pytest.raises(ValueError, match="date"):
        iv.log_session(tmp_path, "yesterday", "rag", 30, ALL)
    assert iv.read_log(tmp_path / "empty") == []


def test_checklist_round_trip(tmp_path: Path) -> None:
    assert not any(iv.read_checklist(tmp_path).values())
    iv.tick(tmp_path, iv.CHECKLIST[0])
    iv.tick(tmp_path, iv.CHECKLIST[2])
    iv.tick(tmp_path, iv.CHECKLIST[2], done=False)
    ticks = iv.read_checklist(tmp_path)
    assert [item for item, done in ticks.items() if done] == [iv.CHECKLIST[0]]
    with pytest.raises(ValueError, match="not on the checklist"):
        iv.tick(tmp_path, "learn everything")


@pytest.mark.parametrize("name,content,message", [
    (iv.LOG_FILE, "[{", "not valid JSON"),
    (iv.LOG_FILE, "{}", "expected a JSON list"),
    (iv.LOG_FILE, '[{"date": "2026-01-01"}]', "entry 0"),
    (iv.CHECKLIST_FILE, "[]", "expected a JSON dict"),
    (iv.CHECKLIST_FILE, '{"other": true}', "not on the checklist"),
    (iv.DECK_FILE, '{"step 1": {"box": 9, "due": "2026-01-01"}}', "box in 1-5"),
])
def test_malformed_files_name_the_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(iv.PracticeFileError, match=message) as caught:
        iv.read_log(tmp_path) if name == iv.LOG_FILE else (
            iv.read_checklist(tmp_path) if name == iv.CHECKLIST_FILE else iv.due_cards(tmp_path, "2026-01-01"))
    assert name in str(caught.value)


def test_scheduler_intervals(tmp_path: Path) -> None:
    day = dt.date(2026, 1, 1)
    assert iv.due_cards(tmp_path, day) == list(iv.cards())  # all new cards due at once
    card = "step 1"
    expected_boxes = [2, 3, 4, 5, 5]
    for box in expected_boxes:
        state = iv.grade(tmp_path, card, True, day)
        assert state["box"] == box
        assert dt.date.fromisoformat(state["due"]) - day == dt.timedelta(days=iv.INTERVALS[box])
        assert card not in iv.due_cards(tmp_path, day + dt.timedelta(days=iv.INTERVALS[box] - 1))
        day = dt.date.fromisoformat(state["due"])
        assert card in iv.due_cards(tmp_path, day)
    failed = iv.grade(tmp_path, card, False, day)
    assert failed == {"box": 1, "due": (day + dt.timedelta(days=1)).isoformat()}
    assert iv.deck_state(tmp_path, day)[card]["box"] == 1  # persisted
    with pytest.raises(ValueError, match="card"):
        iv.grade(tmp_path, "no such card", True, day)


def test_deck_has_steps_and_problem_cards() -> None:
    deck = iv.cards()
    assert sum(c.startswith("step ") for c in deck) == 8
    for key in iv.CANONICAL:
        assert {f"{key}: baseline", f"{key}: metric", f"{key}: A/B plan"} <= set(deck)


def test_coverage_and_demo_log(tmp_path: Path) -> None:
    assert not any(iv.coverage("").values())
    # whole words: "items", "systems", "translate", "related" no longer count as latency or label delay
    assert not any(iv.coverage("I'd use a transformer: it translates related items across systems.").values())
    assert iv.coverage("the labels arrive weeks later")["label and its delay"]
    assert sum(iv.coverage("goal scale latency label cost baseline privacy guardrail").values()) == 8
    text = " ".join(iv.clarifying_questions("fraud")) + " guardrail"
    assert all(iv.coverage(text).values())
    log = iv.demo_log(tmp_path, seed=0)
    assert log == iv.demo_log(tmp_path / "again", seed=0) and len(log) == 16


def test_model_answers_are_targeted() -> None:
    for p in iv.PROMPTS:
        questions = [line for line in iv.model_answer(p.key).splitlines() if line.startswith("- ")]
        assert 3 <= len(questions) <= 5, p.key   # a few targeted questions, assumptions stated for the rest
    assert "step-up" in iv.model_answer("fraud") and "dispatch" in iv.model_answer("eta")


def test_lowest_recent_accepts_every_tie() -> None:
    log = [{"scores": ALL | {"serving": 2, "structure": 2}}]
    assert iv.lowest_recent(log) == ("serving", "structure") and iv.lowest_recent([]) == ("",)
    assert iv.accepts(" Structure", ("serving", "structure")) and not iv.accepts("tie_metrics", ("serving",))


def test_practice_dir_resolves_against_the_repository(tmp_path: Path) -> None:
    assert iv.practice_dir("practice") == iv.REPO_ROOT / "practice"
    assert iv.practice_dir(tmp_path) == tmp_path
    with pytest.raises(ValueError, match="PRACTICE_DIR"):
        iv.practice_dir(3)


def test_empty_due_list_and_capped_intervals(tmp_path: Path) -> None:
    for card in iv.cards():
        iv.grade(tmp_path, card, True, "2026-03-01", max_interval=1)
    assert iv.due_cards(tmp_path, "2026-03-01") == []   # everything drilled today: nothing due, no error
    state = iv.grade(tmp_path, "step 1", True, "2026-03-02", max_interval=1)
    assert state["due"] == "2026-03-03"
    with pytest.raises(ValueError, match="max_interval"):
        iv.grade(tmp_path, "step 1", True, "2026-03-02", max_interval=0)


@pytest.mark.parametrize("entry,message", [
    ({"date": "2026-13-45", "prompt": "fraud", "minutes": 45, "scores": ALL}, "date"),
    ({"date": "2026-01-05", "prompt": "nope", "minutes": 45, "scores": ALL}, "prompt"),
    ({"date": "2026-01-05", "prompt": "fraud", "minutes": "x", "scores": ALL}, "minutes"),
    ({"date": "2026-01-05", "prompt": "fraud", "minutes": 45, "scores": {"serving": "high"}}, "scores"),
])
def test_read_log_validates_entries(tmp_path: Path, entry: dict, message: str) -> None:
    good = {"date": "2026-01-04", "prompt": "rag", "minutes": 30, "scores": ALL}
    (tmp_path / iv.LOG_FILE).write_text(json.dumps([good, entry]))
    with pytest.raises(iv.PracticeFileError, match=message) as caught:
        iv.read_log(tmp_path)
    assert iv.LOG_FILE in str(caught.value) and "entry 1" in str(caught.value)


def test_bad_due_date_names_the_file_and_card(tmp_path: Path) -> None:
    (tmp_path / iv.DECK_FILE).write_text(json.dumps({"step 1": {"box": 1, "due": "tomorrow"}}))
    with pytest.raises(iv.PracticeFileError, match="step 1") as caught:
        iv.due_cards(tmp_path, "2026-03-01")
    assert iv.DECK_FILE in str(caught.value)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    import threading

    def log_many() -> None:
        for _ in range(40):
            iv.log_session(tmp_path, "2026-02-02", "fraud", 45, ALL)

    def tick_many(i: int) -> None:
        for k in range(60):
            iv.tick(tmp_path, iv.CHECKLIST[(i + k) % len(iv.CHECKLIST)], bool(k % 2))

    threads = [threading.Thread(target=log_many) for _ in range(3)] + [threading.Thread(target=tick_many, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(iv.read_log(tmp_path)) == 120         # every entry kept (the old fixed log.tmp lost some)
    assert set(iv.read_checklist(tmp_path)) == set(iv.CHECKLIST)   # valid JSON after concurrent ticks
    assert not list(tmp_path.glob("*.tmp"))           # no temporary file left behind


def test_timer_runs_a_short_plan_fast(capsys: pytest.CaptureFixture[str]) -> None:
    iv.timer("10:00", plan=(("only step", 1),), speed=600)
    assert "Time." in capsys.readouterr().out
    with pytest.raises(ValueError, match="speed"):
        iv.timer("10:00", speed=0)


def test_widgets_persist(tmp_path: Path) -> None:
    drill = iv.drill_widget(tmp_path, "2026-01-01")
    reveal, right, _ = drill.children[1].children
    reveal.click()
    assert "Clarify the problem" in drill.children[0].value
    right.click()
    assert iv.deck_state(tmp_path, "2026-01-01")["step 1"]["box"] == 2
    checklist = iv.checklist_widget(tmp_path)
    checklist.children[1].value = True
    assert iv.read_checklist(tmp_path)[iv.CHECKLIST[1]]
