"""The course plan: fifteen notebooks, their titles, study times, and navigation lines.

One source of truth for the course map notebook, the README table check, the hygiene tests and
the navigation lines (``python -m utils.course --nav`` rewrites them; only Markdown changes).
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NAV_PREFIX = "*Navigation:*"
INSTRUCTORS = NOTEBOOK_DIR.parent / "docs" / "instructors.md"


@dataclass(frozen=True)
class Lesson:
    """One planned notebook of the course."""

    number: int
    slug: str
    title: str
    minutes: int
    teaches: str

    @property
    def filename(self) -> str:
        return f"{self.number:02d}_{self.slug}.ipynb"

    @property
    def label(self) -> str:
        return f"{self.number:02d} · {self.title}"


PLAN: tuple[Lesson, ...] = (
    Lesson(0, "course_map", "Course map", 25, "how to use the course; the eight steps; study paths"),
    Lesson(1, "clarify_the_problem", "Clarify the problem", 35, "business metric → ML proxy; back-of-envelope sizing"),
    Lesson(2, "frame_as_ml", "Frame it as ML", 35, "the label decides the system; clicks vs satisfaction; label delay"),
    Lesson(3, "data_and_features", "Data and features", 35, "velocity features; point-in-time joins; leakage measured"),
    Lesson(4, "model_choice", "Model choice", 35, "the baseline ladder against the oracle ceiling"),
    Lesson(5, "training", "Training", 40, "time splits; imbalance and recalibration; retraining cadence"),
    Lesson(6, "evaluation", "Evaluation", 40, "metric choice; calibration; slices; A/B tests with known lift"),
    Lesson(7, "serving", "Serving", 40, "batch vs online; tail latency; feature store; skew; a real service"),
    Lesson(8, "monitoring", "Monitoring", 40, "drift detection; delayed labels; feedback loops; triggers"),
    Lesson(9, "case_recommendations", "Recommendations", 85, "two-stage recommender, simulated A/B, feedback loop"),
    Lesson(10, "case_fraud_detection", "Fraud detection", 100, "imbalance, velocity features, costs, real-time scoring, drift"),
    Lesson(11, "case_search_ranking", "Search ranking", 85, "learning to rank, position bias, interleaving"),
    Lesson(12, "case_churn_prediction", "Churn prediction", 80, "churn definition, leakage traps, uplift targeting"),
    Lesson(13, "case_rag_assistant", "RAG assistant", 75, "hybrid retrieval, re-ranking, abstaining, faithfulness"),
    Lesson(14, "mock_interview", "Mock interview", 40, "prompts, a 45-minute plan, follow-ups, rubric, recall drill"),
)

BY_NUMBER: dict[int, Lesson] = {lesson.number: lesson for lesson in PLAN}
BY_FILENAME: dict[str, Lesson] = {lesson.filename: lesson for lesson in PLAN}


def existing(notebook_dir: Path = NOTEBOOK_DIR) -> list[Lesson]:
    """The planned lessons whose notebook file exists, in course order."""
    return [lesson for lesson in PLAN if (notebook_dir / lesson.filename).exists()]


def _link(lesson: Lesson) -> str:
    return f"[{lesson.label}]({lesson.filename})"


def nav_line(number: int, available: list[Lesson]) -> str:
    """The navigation line for notebook ``number``: previous · course map · next (existing only)."""
    if number not in BY_NUMBER:
        raise ValueError(f"number={number} is not in the course plan; valid range is [0, {len(PLAN) - 1}]")
    before = [lesson for lesson in available if lesson.number < number]
    after = [lesson for lesson in available if lesson.number > number]
    parts = []
    if before:
        parts.append(f"← {_link(before[-1])}")
    if number == 0:
        parts.append("**Course map** (you are here)")
    elif not before or before[-1].number != 0:  # when 00 is the previous link, don't repeat it
        parts.append("[Course map](00_course_map.ipynb)")
    if after:
        parts.append(f"{_link(after[0])} →")
    return f"{NAV_PREFIX} " + " · ".join(parts)


def rewrite_nav(path: Path, available: list[Lesson]) -> bool:
    """Rewrite every navigation line in the Markdown cells of ``path``; return True if it changed."""
    lesson = BY_FILENAME.get(path.name)
    if lesson is None:
        raise ValueError(f"{path.name} is not a notebook of the course plan (see utils/course.py)")
    import nbformat  # imported here: the notebooks themselves never need it

    notebook = nbformat.read(path, as_version=4)
    wanted = nav_line(lesson.number, available)
    changed = False
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"]
        lines = [wanted if line.startswith(NAV_PREFIX) else line for line in source.split("\n")]
        new_source = "\n".join(lines)
        if new_source != source:
            cell["source"] = new_source
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed


# --------------------------------------------------------------------------------------------
# What each notebook offers a workshop, read from its file (nothing typed per notebook but the
# cut lists and discussion prompts below)

PATH_MARK = re.compile(r"\*\*15-minute path:\*\*\s*(.+?)(?:\n\s*\n|\n# *\n|$)", re.S)
EXERCISE_HEADING = re.compile(r"^#{3,4}\s+Exercise\s+(\d+)\s*(\(judgment\))?\s*(?:·\s*(.+))?$", re.M)
EXERCISE_ANY = re.compile(r"\bExercise\s+(\d+)\b")


def _cells(lesson: Lesson, notebook_dir: Path) -> list[dict]:
    data = json.loads((notebook_dir / lesson.filename).read_text(encoding="utf-8"))
    return [{"type": c["cell_type"], "source": "".join(c["source"])} for c in data["cells"]]


@dataclass(frozen=True)
class Facts:
    """What a notebook file offers a workshop."""

    lesson: Lesson
    path: str | None                      # the 15-minute path as the notebook states it
    widgets: int                          # ``interact(`` calls in its code
    exercises: tuple[tuple[int, str, bool], ...]  # (number, heading title or "", judgment?)
    headed: frozenset[int] = frozenset()  # exercises under a ``### Exercise`` heading

    @property
    def judgment(self) -> list[tuple[int, str, bool]]:
        return [e for e in self.exercises if e[2]]

    @property
    def numeric(self) -> list[tuple[int, str, bool]]:
        return [e for e in self.exercises if not e[2]]


def facts(lesson: Lesson, notebook_dir: Path = NOTEBOOK_DIR) -> Facts:
    """Read the 15-minute path, the widget count and the exercises from the notebook file."""
    cells = _cells(lesson, notebook_dir)
    markdown = [c["source"] for c in cells if c["type"] == "markdown"]
    match = next((m for m in (PATH_MARK.search(s) for s in markdown[:3]) if m), None)
    path = " ".join(match.group(1).split()) if match else None
    widgets = sum(c["source"].count("interact(") for c in cells if c["type"] == "code")
    start = next((i for i, c in enumerate(cells) if c["type"] == "markdown" and "## Your turn" in c["source"]), None)
    stop = next((i for i, c in enumerate(cells) if start is not None and i > start and c["type"] == "markdown"
                 and re.search(r"^## (Scorecard|Solutions)", c["source"], re.M)), len(cells))
    found: dict[int, tuple[str, bool]] = {}
    headed: set[int] = set()
    for cell in cells[start:stop] if start is not None else []:
        for m in EXERCISE_HEADING.finditer(cell["source"]):
            found[int(m.group(1))] = ((m.group(3) or "").strip(), bool(m.group(2)))
            headed.add(int(m.group(1)))
        for m in EXERCISE_ANY.finditer(cell["source"]):
            found.setdefault(int(m.group(1)), ("", False))
    exercises = tuple((n, title, judg) for n, (title, judg) in sorted(found.items()))
    return Facts(lesson, path, widgets, exercises, frozenset(headed))


# --------------------------------------------------------------------------------------------
# Workshop time: one rule for every notebook, the same in every agenda

SETUP_MINUTES = 15        # install / launch: `make lab`, 00's environment report, a Run All
PATH_MINUTES = 15         # a case study's 15-minute path, walked live
PAIR_MINUTES = 10         # a judgment exercise in pairs: 4 to write (the course's rate), 6 to compare
DISCUSSION_MINUTES = 5    # the notebook's two discussion prompts, whole room


def _exercise_names(exercises: list[tuple[int, str, bool]]) -> str:
    numbers = [str(n) for n, _, _ in exercises]
    return ("Exercise " if len(numbers) == 1 else "Exercises ") + ", ".join(numbers)


def slot_sections(lesson: Lesson, notebook_dir: Path = NOTEBOOK_DIR) -> list[tuple[int, str]]:
    """(minutes, what) of a notebook's workshop slot; they add up to the slot.

    With a 15-minute path (the case studies): the path, its judgment exercises in pairs, the
    discussion prompts; its numeric exercises (self-checked) and the cut sections are homework.
    Without one: the whole notebook at its study time, judgment exercises in pairs.
    """
    f = facts(lesson, notebook_dir)
    if f.path:
        sections = [(PATH_MINUTES, f"15-minute path, walked together: {f.path}")]
        sections += [(PAIR_MINUTES, f"Exercise {n} (judgment) in pairs, then the model answer: {t}")
                     for n, t, _ in f.judgment]
        sections.append((DISCUSSION_MINUTES, "Discussion: the two prompts below, whole room"))
        return sections
    counted = [e for e in f.exercises if e[0] in f.headed]  # headings count in the study time
    later = [e for e in f.exercises if e not in counted]
    sections = [(lesson.minutes - MINUTES_PER_EXERCISE * len(counted),
                 "Run All, then read it section by section together"
                 + (f" ({_exercise_names(later)} after the workshop)" if later else ""))]
    numeric = [e for e in counted if not e[2]]
    judgment = [e for e in counted if e[2]]
    if numeric:
        sections.append((MINUTES_PER_EXERCISE * len(numeric), f"{_exercise_names(numeric)} alone (self-checked)"))
    if judgment:
        sections.append((MINUTES_PER_EXERCISE * len(judgment), f"{_exercise_names(judgment)} (judgment) in pairs"))
    return sections


MINUTES_PER_EXERCISE = 4  # tests/prose.py's rate: an honest attempt at one exercise


def slot_minutes(lesson: Lesson, notebook_dir: Path = NOTEBOOK_DIR) -> int:
    return sum(m for m, _ in slot_sections(lesson, notebook_dir))


def minimum_minutes(lesson: Lesson, notebook_dir: Path = NOTEBOOK_DIR) -> int:
    """The least a slot may give a notebook: its 15-minute path, or its study time without one."""
    return PATH_MINUTES if facts(lesson, notebook_dir).path else lesson.minutes


# --------------------------------------------------------------------------------------------
# Agendas: notebooks by priority while they fit, pauses placed near their time of day

@dataclass(frozen=True)
class AgendaSpec:
    name: str
    slot: int                                   # minutes, breaks included
    priority: tuple[int, ...]                   # lesson numbers, most wanted first (missing ones skipped)
    pauses: tuple[tuple[str, int, float], ...]  # (what, minutes, where in the day as a fraction)
    debrief: int                                # at least this long
    practice: int                               # a practice round if at least this much is left


PRACTICE_MAX = 60  # one practice round: three swaps of 10 minutes, twice

AGENDAS: tuple[AgendaSpec, ...] = (
    AgendaSpec("3-hour workshop", 180, (0, 1, 10, 9, 11, 12, 13),
               (("Break", 10, 0.5),), debrief=15, practice=30),
    # The full day: the framework, one case study walked end to end and a mock interview first,
    # then the step notebooks while they fit (04 and 05 are the first to go to homework).
    AgendaSpec("full-day workshop", 480, (0, 1, 10, 14, 2, 3, 6, 7, 8, 4, 5, 9, 11, 12, 13),
               (("Break", 15, 0.25), ("Lunch", 60, 0.5), ("Break", 15, 0.75)), debrief=20, practice=30),
)
AGENDA_BY_NAME = {spec.name: spec for spec in AGENDAS}


@dataclass(frozen=True)
class Item:
    """One agenda line: a notebook (``number``) or None for setup, a pause or a whole-room slot."""

    number: int | None
    minutes: int
    what: str
    sections: tuple[tuple[int, str], ...] = ()


def build_agenda(spec: AgendaSpec, notebook_dir: Path = NOTEBOOK_DIR) -> list[Item]:
    """The agenda from the notebooks that exist; its minutes add up to ``spec.slot``."""
    ready = {lesson.number for lesson in existing(notebook_dir)}
    budget = spec.slot - SETUP_MINUTES - sum(m for _, m, _ in spec.pauses) - spec.debrief
    picked: list[Item] = []
    for number in spec.priority:
        if number not in ready:
            continue
        sections = slot_sections(BY_NUMBER[number], notebook_dir)
        minutes = sum(m for m, _ in sections)
        if minutes <= budget:
            budget -= minutes
            case = facts(BY_NUMBER[number], notebook_dir).path is not None
            what = ("Case study: 15-minute path, judgment exercises in pairs, discussion" if case
                    else "The whole notebook at its study time")
            picked.append(Item(number, minutes, what, tuple(sections)))
    items = [Item(None, SETUP_MINUTES, "Setup: `make lab` (or the conda route), open 00, its environment "
                  "report must show no mismatch; Run All once on a case study to warm the caches")] + picked
    if budget >= spec.practice:
        practice = min(budget, PRACTICE_MAX)
        items.append(Item(None, practice, "Practice round in threes (candidate, interviewer, observer): one "
                          "prompt from a case done today, talked through the eight steps of 00's table; "
                          "swap roles every 10 minutes"))
        budget -= practice
    if budget >= spec.practice:
        items.append(Item(None, budget, "Open lab: finish the numeric exercises of today's case studies "
                          "(self-checked, solutions at the end) or one of their cut sections; the instructor "
                          "circulates"))
        budget = 0
    items.append(Item(None, spec.debrief + budget, "Debrief: each learner names their weakest step; "
                      "00's planner gives the notebooks for it"))
    content_end = len(items) - 1  # pauses go between notebook slots, never after the debrief
    for what, minutes, where in sorted(spec.pauses, key=lambda p: p[2]):
        target, clock, best, best_gap = where * spec.slot, 0, 1, None
        for index in range(1, content_end + 1):
            clock = sum(item.minutes for item in items[:index])
            gap = abs(clock - target)
            if index > 1 and (best_gap is None or gap < best_gap):
                best, best_gap = index, gap
        items.insert(best, Item(None, minutes, what))
        content_end += 1
    return items


# --------------------------------------------------------------------------------------------
# Self-study: whole notebooks, packed into days within a daily budget

WEEK_DAYS = 7
SELF_STUDY_ORDER = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 11, 12, 13, 14)
MIN_DAILY_MINUTES = 90   # the least a day asks for; more only when the week needs it


def _pack(lessons: list[Lesson], budget: int) -> list[tuple[int, Lesson]]:
    plan, day, used = [], 1, 0
    for lesson in lessons:
        if used and used + lesson.minutes > budget:
            day, used = day + 1, 0
        plan.append((day, lesson))
        used += lesson.minutes
    return plan


def daily_minutes(notebook_dir: Path = NOTEBOOK_DIR) -> int:
    """The daily budget of the week: the smallest multiple of 15 minutes, at least
    ``MIN_DAILY_MINUTES`` and at least the longest notebook, that packs every existing notebook,
    whole and in order, into ``WEEK_DAYS`` days."""
    lessons = [BY_NUMBER[n] for n in SELF_STUDY_ORDER if BY_NUMBER[n] in existing(notebook_dir)]
    budget = max([MIN_DAILY_MINUTES] + [lesson.minutes for lesson in lessons])
    budget = -(-budget // 15) * 15
    while lessons and _pack(lessons, budget)[-1][0] > WEEK_DAYS:
        budget += 15
    return budget


def week_plan(notebook_dir: Path = NOTEBOOK_DIR) -> list[tuple[int, Lesson]]:
    """(day, lesson) for the notebooks that exist, whole and in order, each day within
    ``daily_minutes()``."""
    lessons = [BY_NUMBER[n] for n in SELF_STUDY_ORDER if BY_NUMBER[n] in existing(notebook_dir)]
    return _pack(lessons, daily_minutes(notebook_dir))


# --------------------------------------------------------------------------------------------
# The study planner of notebook 00

WEAK_SPOTS: dict[str, list[int]] = {
    "scoping and metrics": [1, 14, 10],
    "framing and labels": [2, 9, 12],
    "features and leakage": [3, 10, 12],
    "model choice": [4, 10, 11],
    "training and imbalance": [5, 10],
    "evaluation and A/B tests": [6, 9, 11],
    "serving and latency": [7, 9, 13],
    "monitoring and feedback loops": [8, 9, 10],
    "LLM and retrieval systems": [13, 11],
}


def study_plan(minutes: int, weak_spot: str, notebook_dir: Path = NOTEBOOK_DIR) -> tuple[list[dict], list[Lesson]]:
    """(schedule, not yet written) for ``weak_spot`` in ``minutes``.

    The schedule holds only notebooks that exist, in the weak spot's order, each marked "now" if
    it fits in what is left of the sitting and "next time" if not; planned notebooks are returned
    apart and never take any of the minutes.
    """
    if weak_spot not in WEAK_SPOTS:
        raise ValueError(f"weak_spot={weak_spot!r} is not valid; choose one of {list(WEAK_SPOTS)}")
    if not 15 <= minutes <= 600:
        raise ValueError(f"minutes={minutes} is out of range; valid range is [15, 600]")
    ready = {lesson.number for lesson in existing(notebook_dir)}
    rows, used = [], 0
    for number in WEAK_SPOTS[weak_spot]:
        if number not in ready:
            continue
        lesson = BY_NUMBER[number]
        fits = used + lesson.minutes <= minutes
        used += lesson.minutes if fits else 0
        rows.append({"notebook": lesson.label, "minutes": lesson.minutes, "plan": "now" if fits else "next time"})
    unwritten = [BY_NUMBER[n] for n in WEAK_SPOTS[weak_spot] if n not in ready]
    return rows, unwritten


# --------------------------------------------------------------------------------------------
# The instructor's notes: typed per notebook (keyed by lesson number), everything else derived

CUT_LISTS: dict[int, str] = {
    0: "the environment report is done in the setup slot; \"How to work through a notebook\" is read at home; "
       "the widget is shown once on the projector",
    1: "if the room is slow, summarise section 3's fan-out and hedging simulation in one sentence (\"every "
       "shard meets its p99, most requests do not\") and move the calculator widget (section 5) on the "
       "projector only",
    2: "section 3 (label delay and censoring tables) and the fraud half of section 1: read at home; "
       "Exercises 1–2 (numeric) at home",
    3: "section 1's timing of the vectorised form and section 4 (data contracts): read at home; "
       "Exercises 1–2 (numeric) at home",
    4: "section 3 (what each rung costs) and section 5 (deep models, prose): read at home; the capacity "
       "widget (section 6) on the projector only",
    5: "section 3 (hyperparameter search) and the recalibration half of section 2: read at home; the "
       "cadence widget on the projector only; Exercises 1–3 (numeric) at home",
    6: "sections 3 (slices), 6 (CUPED and ratio metrics) and 7 (guardrails): read at home; the power "
       "widget (section 8) on the projector only; Exercise 1 (numeric) at home",
    7: "section 5 (scaling on paper) and the shadow half of section 4: read at home; the load test in section "
       "3 runs once on the projector (its timings differ on every laptop); the fan-out widget on the projector "
       "only; the numeric exercises at home",
    8: "section 3 (the feedback loop) and section 4's alert tables: read at home; the threshold widget on "
       "the projector only; Exercises 1–3 (numeric) at home",
    9: "steps 2–5 and 7 (framing, embeddings, features, the ranker, training, serving) and the widget in "
       "step 4 (reserved slots for new items): read at home; Exercises 1–2 (numeric) at home",
    10: "steps 2, 3 (velocity features and the leakage audit), 5 and 7 (serving and the planted skew): "
        "read at home; Exercises 1–2 (numeric) at home",
    11: "steps 1–2, 4–5, 7–8 and the retrieval half of step 3 (BM25): read at home; from step 6 skip the "
        "user-taste sweep; Exercises 1–3 (numeric) at home",
    12: "steps 4–5 and 8, the tuning of the uplift learners and the simulator section of step 6 (keep its "
        "widget): read at home; Exercises 1–3 (numeric) at home",
    13: "steps 1–5, the judge calibration in step 6, caching and cost in step 7, and step 8: read at home; "
        "Exercises 1–2 (numeric) at home",
    14: "sections 7–9 (recall drill, practice log, checklist) are for the weeks after the workshop: show "
        "where the files live and move on; the follow-up bank (section 5) is used live in the practice round, "
        "not read aloud; Exercises 1–2 (numeric) at home",
}

PROMPTS: dict[int, tuple[str, str]] = {
    0: ("Which of the eight steps do you skip when you are nervous, and what does the interviewer hear?",
        "Why does the order of the steps matter: what goes wrong if you pick the model before the label?"),
    1: ("Which proxy in section 2 misses the most of its business metric, and how would you defend it anyway?",
        "Your sizing assumed the peak of the average day: which question to the interviewer would change it?"),
    2: ("Name a product you know whose label is not the thing the business wants: what would you train on instead?",
        "Immature labels cost more than stale data here: how would you pick the training window on day one?"),
    3: ("Which feature in your own systems has no availability timestamp today, and how would you audit it?",
        "Batch or streaming for a velocity feature: what number decides it?"),
    4: ("When would you ship the linear model even though the trees score higher?",
        "An interviewer asks \"why not a deep model?\": what do you say in two sentences?"),
    5: ("The textbook says rebalance: when is it still right, and how would you check on your own data?",
        "How would you pick a retraining cadence before you have a drift history?"),
    6: ("The PM wants to stop the test on day 3 because it is significant: what do you say?",
        "Which guardrail would you add to this launch, and what margin would you accept?"),
    7: ("Nightly batch scores lose fraud caught here: name a product of yours where batch is the right call, "
        "and the number that says so.",
        "Your p99 doubled after one new feature: what do you measure first, and what would you cut?"),
    8: ("Which monitor would you page on, and which only log: argue it from the false-page rate.",
        "Inputs look stable and losses are up: what do you check first?"),
    9: ("Offline NDCG picked one system and the simulated A/B another: which would you ship, and what would "
        "you tell the team that built the offline winner?",
        "The feedback loop narrows what users see: which guardrail would you pay for first, and what does it cost?"),
    10: ("The threshold comes from costs: who in the company owns the cost of a false decline, and how would "
         "you get the number?",
         "The segment monitor fired before the global one: what do you do in the first hour?"),
    11: ("Clicks are biased by position: when is it worth paying for interleaving instead of an A/B test?",
         "How far would you trust IPW on real logs, given what this world shows when users and judges disagree?"),
    12: ("Risk targeting and uplift targeting disagree on whom to call: how do you convince the retention team?",
         "Which leaky column would your own company's data have, and how would you find it before launch?"),
    13: ("When should the assistant say \"I don't know\", and who decides the threshold?",
         "A vendor offers a vector database: what would you measure on your own pages before buying?"),
    14: ("Which of the five signals did your partner show without being asked, and which only after a "
         "follow-up?",
         "The interviewer says \"skip serving\": when do you comply, and when do you spend one sentence on it "
         "anyway?"),
}


def _agenda_table(spec: AgendaSpec, notebook_dir: Path) -> list[str]:
    lines = ["| start | minutes | notebook | what happens |", "|---|---:|---|---|"]
    clock = 0
    for item in build_agenda(spec, notebook_dir):
        label = BY_NUMBER[item.number].label if item.number is not None else "—"
        parts = [item.what] + [f"{m} min: {w}" for m, w in item.sections]
        what = "<br>".join(part.replace("|", "\\|") for part in parts)
        lines.append(f"| {clock // 60}:{clock % 60:02d} | {item.minutes} | {label} | {what} |")
        clock += item.minutes
    lines.append(f"| {clock // 60}:{clock % 60:02d} | **{clock}** | | end (slot: {spec.slot} min) |")
    return lines


RUN_TIMES = NOTEBOOK_DIR.parent / "docs" / "run-times.json"


def run_times(path: Path = RUN_TIMES) -> dict:
    """The measured run times (``python tests/tools/execute.py --record``), or {} if never recorded."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _run_time(lesson: Lesson, times: dict) -> str:
    seconds = times.get("notebooks", {}).get(lesson.filename)
    if seconds is None:
        return "not measured yet (the course's bar is at most 60 s from a fresh kernel)."
    verdict = ("**over the course's 60 s bar**: plan a minute and a half" if seconds > 60
               else "the course's bar is 60 s")
    return f"{seconds:.0f} s from a fresh kernel, measured on {times['measured']} ({times['machine']}; {verdict})."


def render_instructors(notebook_dir: Path = NOTEBOOK_DIR, times: dict | None = None) -> str:
    """docs/instructors.md, generated from the course plan, the notebooks that exist and the
    recorded run times."""
    times = run_times() if times is None else times
    ready = existing(notebook_dir)
    used = sorted({item.number for spec in AGENDAS for item in build_agenda(spec, notebook_dir)
                   if item.number is not None})
    out = [
        "# Instructor's guide",
        "",
        "<!-- Generated by `python -m utils.course --agendas` from utils/course.py and the notebooks that "
        "exist; do not edit by hand (tests/test_course.py fails when it is out of date). -->",
        "",
        f"Built from the {len(ready)} notebooks that exist today "
        f"({', '.join(f'{lesson.number:02d}' for lesson in ready)}); planned notebooks never appear.",
        "",
        "## How the time is set",
        "",
        f"- **Setup**: {SETUP_MINUTES} min at the start of every agenda: `make lab` (or the conda route in "
        "the README), open 00 and check that its environment report shows no mismatch, then Run All on one "
        "case study. Ask learners to run `make lab` before the day; the first install downloads the pinned "
        "packages.",
        f"- **A case study** (a notebook with a 15-minute path) gets the same slot in every agenda: its "
        f"15-minute path walked together ({PATH_MINUTES} min), each judgment exercise in pairs "
        f"({PAIR_MINUTES} min: 4 to write, the course's rate per exercise, and 6 to compare with the partner "
        f"and the model answer), and {DISCUSSION_MINUTES} min for the two discussion prompts. Its numeric "
        "exercises (self-checked, solutions at the end) and the cut sections are homework.",
        "- **Any other notebook** gets its whole study time (the \"about N min\" of its title, which counts "
        f"{MINUTES_PER_EXERCISE} min for each exercise under an `### Exercise` heading): never less.",
        "- Notebooks are taken in the agenda's order of priority while they fit; breaks go where the clock "
        f"is closest to their time of day; time left over becomes a practice round (up to {PRACTICE_MAX} "
        "min), then an open lab, then a longer debrief.",
        "- Every notebook runs top to bottom from a fresh kernel and depends on no other, so a room can "
        "start anywhere.",
        "",
    ]
    for spec in AGENDAS:
        out += [f"## {spec.name[0].upper()}{spec.name[1:]} ({spec.slot} min)", ""] + _agenda_table(spec, notebook_dir) + [""]
    days: dict[int, list[Lesson]] = {}
    for day, lesson in week_plan(notebook_dir):
        days.setdefault(day, []).append(lesson)
    out += [f"## Self-study, one week (up to {daily_minutes(notebook_dir)} min a day)", "",
            f"Whole notebooks in order; the daily budget is the smallest that fits them into {WEEK_DAYS} days "
            f"(never under {MIN_DAILY_MINUTES} min, never under the longest notebook).", "",
            "| day | notebooks | minutes |", "|---:|---|---:|"]
    out += [f"| {day} | {', '.join(lesson.label for lesson in lessons)} | {sum(lesson.minutes for lesson in lessons)} |"
            for day, lessons in days.items()]
    out += ["", "## Per notebook", ""]
    for number in used:
        lesson = BY_NUMBER[number]
        f = facts(lesson, notebook_dir)
        prompts = PROMPTS.get(number, ("(none written yet)", "(none written yet)"))
        pairs = ", ".join(f"Exercise {n} ({t})" if t else f"Exercise {n}" for n, t, _ in f.judgment) or "none"
        widget = (f"{f.widgets} widget: one on the projector, and everyone moves it on their laptop"
                  if f.widgets == 1 else f"{f.widgets} widgets")
        out += [
            f"### [{lesson.label}](../notebooks/{lesson.filename})",
            "",
            f"- **Study time:** about {lesson.minutes} min; **workshop slot:** {slot_minutes(lesson, notebook_dir)} "
            f"min" + (f"; **15-minute path:** {f.path}" if f.path else " (no 15-minute path: the whole notebook)"),
            f"- **Cut live:** {CUT_LISTS.get(number, '(no cut list written yet)')}",
            f"- **In pairs:** {pairs}",
            f"- **Widgets:** {widget}",
            f"- **Discuss:** (1) {prompts[0]} (2) {prompts[1]}",
            f"- **Run time:** {_run_time(lesson, times)} Check it on a room laptop the day before with "
            f"`make execute NOTEBOOKS=notebooks/{lesson.filename}` (prints \"done in N s\").",
            "",
        ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Course plan tools.")
    parser.add_argument("--nav", action="store_true", help="rewrite navigation lines in notebooks/")
    parser.add_argument("--agendas", action="store_true", help="write docs/instructors.md from the agenda data")
    parser.add_argument("files", nargs="*", type=Path, help="only these notebooks (default: all)")
    args = parser.parse_args(argv)
    if args.agendas:
        INSTRUCTORS.parent.mkdir(exist_ok=True)
        INSTRUCTORS.write_text(render_instructors(), encoding="utf-8")
        print(f"wrote {INSTRUCTORS.relative_to(INSTRUCTORS.parent.parent)}")
        return 0
    if args.nav:
        available = existing()
        paths = args.files or [NOTEBOOK_DIR / lesson.filename for lesson in available]
        for path in paths:
            if rewrite_nav(path, available):
                print(f"updated navigation in {path.name}")
        return 0
    for lesson in PLAN:
        state = "exists" if lesson in existing() else "planned"
        print(f"{lesson.label:<28} {lesson.minutes:>3} min  {state}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
