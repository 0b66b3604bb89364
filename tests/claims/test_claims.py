"""The claims tier (``make claims``): every scorecard claim must hold at seeds 1, 2 and 3.

Each notebook that has a ``SEED`` knob and a ``scorecard`` cell runs from a fresh kernel with
``SEED`` injected after its ``parameters`` cell and ``COURSE_STRICT_CLAIMS=1`` in the kernel's
environment, so its scorecard asserts as it does at the defaults. A claim that holds only at some
seeds must be restated in the notebook (a range over seeds, "in k of n seeds"), never tuned.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.claims.conftest import SOURCES, knobs_of, run_with, scorecard_text
from tests.hygiene import read
from tests.tools.runner import load, tagged
from utils.scorecard import STRICT_ENV

SEEDS = (1, 2, 3)


def _has_seeded_scorecard(source: Path) -> bool:
    notebook = load(source.with_suffix(".ipynb"))
    try:
        tagged(notebook, "scorecard")
    except ValueError:
        return False
    return any(k.name == "SEED" for k in knobs_of(notebook))


CASES = [(s, seed) for s in SOURCES if _has_seeded_scorecard(s) for seed in SEEDS]


@pytest.mark.parametrize(("source", "seed"), CASES, ids=[f"{s.stem}-seed{seed}" for s, seed in CASES])
def test_every_claim_holds_at_seed(source: Path, seed: int) -> None:
    executed = run_with(source, {"SEED": seed}, env={STRICT_ENV: "1"})
    # A notebook that ignored SEED would pass here without testing anything new.
    assert scorecard_text(executed) != scorecard_text(read(source.with_suffix(".ipynb"))), (
        f"{source.stem}: the scorecard at SEED={seed} is identical to the committed one at the defaults; "
        "does the notebook use SEED everywhere?")


def test_the_tier_covers_the_case_studies() -> None:
    covered = {s.stem[:2] for s, _ in CASES}
    assert {"09", "10", "11", "12", "13"} <= covered, covered
