# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Course map
# *From "we want fewer stolen cards" to a system you can draw, defend and measure.* · about 20 min · needs: nothing yet
#
# *Navigation:* **Course map** (you are here) · [01 · Clarify the problem](01_clarify_the_problem.ipynb) →
#
# **You will be able to:**
# - name the eight steps of an ML system design answer, and the sentence that opens each;
# - pick the study path that fits your time: a week alone, a 3-hour workshop, or a full day;
# - check that your environment is the one this course's numbers were produced on;
# - find the notebooks that fix your weakest area.

# %% [markdown]
# ## What this course is
#
# Most material on ML system design is prose: "use velocity features", "calibrate after
# downsampling", "watch for feedback loops". You nod, and in the interview you repeat the words
# without being able to say *how much* any of it matters.
#
# Here every claim is run. Each case study builds a **synthetic world whose ground truth is known**
# — the true fraud probability of every transaction, the true relevance of every document, the true
# effect of an offer on every customer — so you can see the best score any model could reach, measure
# leakage instead of being warned about it, and run an A/B test whose true lift you know in advance.
#
# Each notebook runs top to bottom in under a minute on a laptop. Run it, read it, then move the
# widget and watch a trade-off change. The numbers you see are the numbers the tests check.
#
# The cell below holds the notebook's parameters (every notebook has one, tagged `parameters`);
# the next one lists each knob with its valid range, and the one after it loads the tools and
# checks your environment. Numbers in the text are for the default parameters; a number in
# `code font` is an input someone chose, and every other number is printed by a cell above it.

# %% tags=["parameters"]
# Parameters: the defaults of the study planner further down.
STUDY_MINUTES = 90          # how long you have for a first sitting
WEAK_SPOT = "evaluation and A/B tests"

# %% tags=["knobs"]
# Every knob, its default and the range inside which Run All finishes (a bad value stops here,
# with a message naming the knob and the valid range). The weak spots and where to study each:
WEAK_SPOTS = {
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
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("STUDY_MINUTES", 90, 15, 600, "minutes you have for a first sitting"),
    Knob("WEAK_SPOT", "evaluation and A/B tests", choices=tuple(WEAK_SPOTS), doc="the area you find hardest"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())
knob_table(KNOBS, globals())

# %%
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import ipywidgets as widgets
import pandas as pd

from utils import check_answer, use_course_style
from utils.checks import TODO
from utils.course import BY_NUMBER, PLAN, existing

use_course_style()
pd.set_option("display.max_colwidth", 90)
print(f"Python {sys.version_info.major}.{sys.version_info.minor}; course tools loaded.")


# %% [markdown]
# ### Is this the environment the numbers came from?
#
# The course pins exact versions in `requirements.txt`, because a different LightGBM or scikit-learn
# can move the third decimal of a metric. The check below compares what is installed with the pins.

# %%
def environment_report(requirements: Path) -> pd.DataFrame:
    """One row per pinned package whose installed version differs from requirements.txt."""
    rows = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" not in line:
            continue
        name, pinned = (part.strip() for part in line.split("=="))
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = "missing"
        if installed != pinned:
            rows.append({"package": name, "pinned": pinned, "installed": installed})
    return pd.DataFrame(rows, columns=["package", "pinned", "installed"])


requirements = Path("..") / "requirements.txt"
mismatches = environment_report(requirements)
n_pins = sum("==" in line.split("#", 1)[0] for line in requirements.read_text().splitlines())
if mismatches.empty:
    print(f"All {n_pins} pinned packages match requirements.txt: your numbers will match the notebooks'.")
else:
    print("Some packages differ from the pins. Notebooks still run, but the last digits of a metric may")
    print("differ. Fix: `make lab` (creates .venv from requirements.txt), or use `make check`.")
    display(mismatches)

# %% [markdown]
# When every pin matches, as in the run committed here, each number you compute will be the number
# printed in the notebooks. If some differ, nothing is broken: the notebooks still run, only the last
# digit of a metric may move (`make check` runs them without comparing those digits).
#
# ## The eight steps at a glance
#
# An ML system design answer, in an interview or a design review, walks the same eight steps. The
# order matters: each step narrows the next. The sentence in the last column is the one a strong
# candidate says when they open the step.
#
# | # | Step | The question it answers | Say it in the interview |
# |---|---|---|---|
# | 1 | Clarify the problem | What business number moves, for whom, at what scale and latency? | "Before I design anything: the goal is fewer fraud losses without blocking good customers — what does a false decline cost us?" |
# | 2 | Frame it as an ML problem | What is the label, where does it come from, how late does it arrive? | "The label is a chargeback, which arrives weeks later, so my training data always lags." |
# | 3 | Data and features | Which signals exist *at prediction time*, and how are they computed? | "Every feature is computed as of the decision time; I never join in anything the system could not have known." |
# | 4 | Model | What is the simplest thing that works, and what does more complexity buy? | "I start with a rule and a logistic regression, and add gradient boosting only if it pays for its latency." |
# | 5 | Training | How do I split, weight and refresh the data? | "I split by time with a gap for label delay, and recalibrate if I downsample." |
# | 6 | Evaluation | Which offline metric tracks the business metric, and how do I confirm online? | "With fraud this rare I report PR-AUC and recall at the review budget, then run a shadow test and an A/B with a guardrail." |
# | 7 | Serving | Batch or real time, what latency per stage, what if a dependency fails? | "Scoring takes a few milliseconds of the budget; features come from an online store that the training pipeline also reads." |
# | 8 | Monitoring and iteration | How do I know it broke, and how does it get better? | "I watch input drift and score drift daily, performance as labels arrive, and I keep a random holdout against feedback loops." |
#
# The table below shows where each step is practised: its own step notebook, and every case study,
# each of which walks all eight.

# %%
STEP_NAMES = ["Clarify the problem", "Frame it as an ML problem", "Data and features", "Model",
              "Training", "Evaluation", "Serving", "Monitoring and iteration"]
case_studies = [lesson for lesson in PLAN if 9 <= lesson.number <= 13]
where_practised = pd.DataFrame(
    {
        "step": [f"{i}. {name}" for i, name in enumerate(STEP_NAMES, start=1)],
        "step notebook": [BY_NUMBER[i].label for i in range(1, 9)],
        "also walked in": [", ".join(f"{c.number:02d}" for c in case_studies)] * 8,
    }
)
where_practised

# %% [markdown]
# Each step is taught twice: once on its own, where one idea gets the room it needs, and once inside
# every case study, where you see how it connects to the other seven.
#
# ## The map of the course
#
# The course is written in stages. The table is computed from the notebooks folder, so it is always
# true: *ready* notebooks can be opened now, *planned* ones are on the way.

# %%
available = existing()
course_map = pd.DataFrame(
    {
        "notebook": [lesson.filename for lesson in PLAN],
        "teaches (hands-on)": [lesson.teaches for lesson in PLAN],
        "minutes": [lesson.minutes for lesson in PLAN],
        "status": ["ready" if lesson in available else "planned" for lesson in PLAN],
    }
)
print(f"{len(available)} of {len(PLAN)} notebooks ready; "
      f"the full course is about {course_map['minutes'].sum() / 60:.1f} hours of study.")
course_map

# %% [markdown]
# Read it in three blocks: **00** is this map; **01–08** take one step each; **09–13** are the five
# canonical interview problems, each walking all eight steps on its own synthetic world; **14** puts
# it together under interview conditions. The minutes are for running and reading a notebook once,
# without the exercises.
#
# ## Three study paths
#
# Pick the one that matches your time. Times include the exercises; the workshop paths include
# breaks and discussion, so they add up to the slot exactly.

# %%
# (notebook number or None for a break/discussion, minutes, what to do). Self-study takes each
# notebook's whole study time from the course plan (computed from its words, code and exercises);
# a workshop slot covers a case study's 15-minute path and one widget, not the whole notebook.
SELF_STUDY = [
    (0, "Day 1: the map and the framework"), (1, "Day 1: clarify, with the sizing widget"),
    (2, "Day 1: framing and labels"), (3, "Day 2: features and leakage"), (4, "Day 2: the baseline ladder"),
    (5, "Day 3: training"), (6, "Day 3: evaluation and A/B"), (7, "Day 4: serving"), (8, "Day 4: monitoring"),
    (10, "Day 5: fraud, all eight steps"), (9, "Day 5: recommendations"), (11, "Day 6: search ranking"),
    (12, "Day 6: churn"), (13, "Day 7: RAG assistant"), (14, "Day 7: two timed mock interviews"),
]
STUDY_PATHS = {
    "self-study, one week": [(n, BY_NUMBER[n].minutes, what) for n, what in SELF_STUDY],
    "3-hour workshop": [
        (0, 15, "Instructor: the framework on one slide"), (10, 50, "Walk the fraud case's 15-minute path together, then its widget"),
        (None, 10, "Break"), (9, 45, "Pairs: the recommendation case's 15-minute path, one widget each"),
        (14, 45, "Mock interviews in pairs, rubric widget"), (None, 15, "Debrief: weakest steps, where to go next"),
    ],
    "full-day workshop": [
        (0, 15, "Framework"), (1, 30, "Clarify: sizing exercise"), (2, 30, "Framing"),
        (3, 40, "Features and leakage"), (None, 15, "Break"), (4, 30, "Model choice"), (5, 35, "Training"),
        (None, 60, "Lunch"), (6, 45, "Evaluation and A/B"), (7, 35, "Serving"), (8, 30, "Monitoring"),
        (None, 15, "Break"), (10, 35, "Case study of the group's choice"), (14, 45, "Mock interviews"),
        (None, 20, "Debrief"),
    ],
}
WORKSHOP_SLOTS = {"3-hour workshop": 180, "full-day workshop": 8 * 60}


def path_table(name: str) -> pd.DataFrame:
    rows = [{"notebook": BY_NUMBER[n].label if n is not None else "—",
             "minutes": minutes, "what you do": what,
             "status": ("ready" if BY_NUMBER[n] in available else "planned") if n is not None else ""}
            for n, minutes, what in STUDY_PATHS[name]]
    return pd.DataFrame(rows)


week_minutes = sum(m for _, m, _ in STUDY_PATHS["self-study, one week"])
summary = pd.DataFrame([{"path": name, "total minutes": sum(m for _, m, _ in steps),
                         "slot (minutes)": WORKSHOP_SLOTS.get(name, f"a week, {week_minutes / 7 / 60:.1f} h a day")}
                        for name, steps in STUDY_PATHS.items()])
summary

# %% [markdown]
# The two workshops fill their slots exactly, breaks included. The week takes each notebook's whole
# study time, so it runs longer than a workshop covers: a workshop walks each case study's
# 15-minute path and one widget, and leaves the rest for afterwards. The 3-hour workshop in detail:

# %%
path_table("3-hour workshop")

# %% [markdown]
# An instructor's note: the fraud case is the exemplar — its structure is the one every other case
# follows — so it is the one to walk through live. Learners then meet the same structure on a new
# problem in pairs, which is where the framework sticks.
#
# ## Find your weak spot
#
# Choose what you find hardest and how long you have; the planner lists the notebooks to open, in
# order, and what does not fit this time. The planner is a plain function; the widget below only
# calls it.

# %%
def study_plan(minutes: int, weak_spot: str) -> pd.DataFrame:
    """The notebooks for ``weak_spot`` that fit in ``minutes``, ready ones first."""
    if weak_spot not in WEAK_SPOTS:
        raise ValueError(f"weak_spot={weak_spot!r} is not valid; choose one of {list(WEAK_SPOTS)}")
    if not 15 <= minutes <= 600:
        raise ValueError(f"minutes={minutes} is out of range; valid range is [15, 600]")
    lessons = sorted((BY_NUMBER[n] for n in WEAK_SPOTS[weak_spot]), key=lambda lesson: lesson not in available)
    rows, used = [], 0
    for lesson in lessons:
        fits = used + lesson.minutes <= minutes
        used += lesson.minutes if fits else 0
        rows.append({"notebook": lesson.label, "minutes": lesson.minutes,
                     "status": "ready" if lesson in available else "planned",
                     "plan": "now" if fits else "next time"})
    return pd.DataFrame(rows)


def show_plan(minutes: int = STUDY_MINUTES, weak_spot: str = WEAK_SPOT) -> None:
    plan = study_plan(minutes, weak_spot)
    now = plan[plan["plan"] == "now"]
    print(f"{minutes} min for '{weak_spot}': {len(now)} notebook(s) now, "
          f"{now['minutes'].sum()} min used, {minutes - now['minutes'].sum()} min spare.")
    print(plan.to_string(index=False))


# %%
# NBVAL_IGNORE_OUTPUT
widgets.interact(
    show_plan,
    minutes=widgets.IntSlider(value=STUDY_MINUTES, min=15, max=600, step=15, description="minutes"),
    weak_spot=widgets.Dropdown(options=list(WEAK_SPOTS), value=WEAK_SPOT, description="weak spot"),
);

# %% [markdown]
# No kernel running (reading this on the web)? Here is the same planner at a few fixed settings:

# %%
for minutes, spot in [(30, "features and leakage"), (90, "evaluation and A/B tests"), (180, "serving and latency")]:
    show_plan(minutes, spot)
    print()

# %% [markdown]
# With 30 minutes the planner picks one notebook and keeps the rest for next time; with three hours
# everything for the weak spot fits. Planned notebooks are listed after ready ones, so a plan never
# starts with something you cannot open yet.
#
# > **Say it in the interview:** "Let me structure this: I'll clarify the goal and constraints, frame
# > the ML problem, then go through data, model, training, evaluation, serving and monitoring —
# > stop me if you want me to go deeper anywhere."
#
# > **Failure mode:** jumping to the model. Candidates who open with "I'd use a transformer" spend
# > the interview defending a choice they made before knowing the label, the latency budget or the
# > data. The eight steps exist to stop that.
#
# ## How to work through a notebook
#
# - Run it top to bottom first (*Run → Run All Cells*); it takes under a minute.
# - Short of time? Each case study opens with a **15-minute path**: the sections that carry its
#   central lesson. The stated study time ("about N min") is computed from the notebook's words,
#   code, figures and exercises, and a test keeps it honest.
# - Numbers in the text are for the default parameters; a number in `code font` is an input someone
#   chose (a budget, a cost, a bar), and every other number is printed by a cell above it (a test
#   checks that too). Change a parameter and read the printed outputs instead.
# - Read the sections in order. Each one ends with a number, a table or a plot, and a sentence that
#   says what it means. Callouts mark the sentence to say in an interview and the production
#   failure the design guards against.
# - Move the widget. Then do the exercises under **Your turn**: each has a self-check that tells you
#   whether you are right and gives a hint when you are not. Solutions are at the end.
# - The **Scorecard** near the end lists every claim the notebook made with the number behind it,
#   and, with the default parameters, asserts that each holds. With other parameters it reports
#   which claims hold and why the others do not, and the notebook runs on: that is a finding.
#   Every case study's claims are also checked at seeds 1, 2 and 3 (`make claims`), so none of
#   them rests on one lucky seed.
#
# ## Your turn
#
# **Exercise 1.** How many minutes of the 3-hour workshop are *not* spent in a notebook (breaks and
# debrief)? Compute it from `STUDY_PATHS` rather than counting by hand.
#
# **Exercise 2.** You have an hour and find *serving and latency* hardest. How many notebooks does
# the planner give you to open now? Use the planner function rather than the widget.

# %% jupyter={"source_hidden": true} tags=["answer-key"]
# Answer key for the self-checks below: computed from the notebook's state, collapsed so that it
# does not spoil the exercises. Try them first.
_key = {"Exercise 1": sum(m for n, m, _ in STUDY_PATHS["3-hour workshop"] if n is None),
        "Exercise 2": int((study_plan(60, "serving and latency")["plan"] == "now").sum())}

# %%
# Exercise 1: minutes of the 3-hour workshop outside notebooks
answer_1 = TODO  # e.g. sum(...) over STUDY_PATHS["3-hour workshop"]
ok_1 = check_answer("Exercise 1", answer_1, _key["Exercise 1"], rel_tol=0,
                    hint="entries whose notebook is None are breaks and discussion")

# Exercise 2: notebooks to open now with 60 minutes for serving and latency
answer_2 = TODO
ok_2 = check_answer("Exercise 2", answer_2, _key["Exercise 2"], rel_tol=0,
                    hint="the planner's 'plan' column says which notebooks fit this sitting")

# %% [markdown]
# ## Scorecard
#
# The claims this notebook made, computed, one row each.

# %% tags=["scorecard"]
from utils.scorecard import build, enforce

paths_in_plan = all(n is None or n in BY_NUMBER for steps in STUDY_PATHS.values() for n, _, _ in steps)
totals = summary.set_index("path")["total minutes"]
scorecard = build([
    ("3-hour workshop fills its slot", int(totals["3-hour workshop"]), "= 180", totals["3-hour workshop"] == 180),
    ("full-day workshop fills its slot", int(totals["full-day workshop"]), "= 480", totals["full-day workshop"] == 480),
    ("every path names only planned notebooks", paths_in_plan, "True", paths_in_plan),
    ("environment matches the pins", len(mismatches), "0 mismatches", mismatches.empty),
])
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)

# %% [markdown]
# ## In 60 seconds
#
# *"I approach ML system design in eight steps. First I clarify the business goal, the scale and the
# latency budget. Then I frame it: the label, where it comes from and how late it arrives. I design
# features that exist at prediction time, start from a simple baseline and add complexity only where
# it pays. I split by time, handle imbalance and calibrate; I pick offline metrics that track the
# business metric and plan the online test. I say how it is served within the budget, and how I
# monitor drift, delayed labels and feedback loops, and when I retrain."*
#
# ## Solutions

# %%
answer_1 = sum(minutes for number, minutes, _ in STUDY_PATHS["3-hour workshop"] if number is None)
ok_1 = check_answer("Exercise 1", answer_1, _key["Exercise 1"], rel_tol=0)

plan = study_plan(60, "serving and latency")
answer_2 = int((plan["plan"] == "now").sum())
ok_2 = check_answer("Exercise 2", answer_2, _key["Exercise 2"], rel_tol=0)

# %% [markdown]
# *Navigation:* **Course map** (you are here) · [01 · Clarify the problem](01_clarify_the_problem.ipynb) →
