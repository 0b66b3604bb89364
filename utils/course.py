"""The course plan: fifteen notebooks, their titles, study times, and navigation lines.

One source of truth for the course map notebook, the README table check, the hygiene tests and
the navigation lines (``python -m utils.course --nav`` rewrites them; only Markdown changes).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NAV_PREFIX = "*Navigation:*"


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
    Lesson(0, "course_map", "Course map", 20, "how to use the course; the eight steps; study paths"),
    Lesson(1, "clarify_the_problem", "Clarify the problem", 35, "business metric → ML proxy; back-of-envelope sizing"),
    Lesson(2, "frame_as_ml", "Frame it as ML", 25, "the label decides the system; clicks vs satisfaction; label delay"),
    Lesson(3, "data_and_features", "Data and features", 30, "velocity features; point-in-time joins; leakage measured"),
    Lesson(4, "model_choice", "Model choice", 25, "the baseline ladder against the oracle ceiling"),
    Lesson(5, "training", "Training", 30, "time splits; imbalance and recalibration; retraining cadence"),
    Lesson(6, "evaluation", "Evaluation", 40, "metric choice; calibration; slices; A/B tests with known lift"),
    Lesson(7, "serving", "Serving", 35, "batch vs online; tail latency; feature store; skew; a real service"),
    Lesson(8, "monitoring", "Monitoring", 30, "drift detection; delayed labels; feedback loops; triggers"),
    Lesson(9, "case_recommendations", "Recommendations", 85, "two-stage recommender, simulated A/B, feedback loop"),
    Lesson(10, "case_fraud_detection", "Fraud detection", 100, "imbalance, velocity features, costs, real-time scoring, drift"),
    Lesson(11, "case_search_ranking", "Search ranking", 85, "learning to rank, position bias, interleaving"),
    Lesson(12, "case_churn_prediction", "Churn prediction", 80, "churn definition, leakage traps, uplift targeting"),
    Lesson(13, "case_rag_assistant", "RAG assistant", 75, "hybrid retrieval, re-ranking, abstaining, faithfulness"),
    Lesson(14, "mock_interview", "Mock interview", 60, "a 45-minute plan, design-doc template, self-assessment"),
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Course plan tools.")
    parser.add_argument("--nav", action="store_true", help="rewrite navigation lines in notebooks/")
    parser.add_argument("files", nargs="*", type=Path, help="only these notebooks (default: all)")
    args = parser.parse_args(argv)
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
