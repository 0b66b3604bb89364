"""Unit tests of the knobs, the scorecard, the timing helper and the exercise checks."""

from __future__ import annotations

import pytest

from utils.checks import check_answer
from utils.knobs import Knob, check_knobs, knob_table
from utils.scorecard import STRICT_ENV, build, enforce
from utils.timing import measure

KNOBS = [Knob("SEED", 0, 0, 2**32 - 1), Knob("SHARE", 0.3, 0.1, 0.5), Knob("MODE", "a", choices=("a", "b")),
         Knob("DATA_PATH", None, path=True)]


def test_knobs_at_defaults_and_away() -> None:
    values = {"SEED": 0, "SHARE": 0.3, "MODE": "a", "DATA_PATH": None}
    assert check_knobs(KNOBS, values) is True
    assert check_knobs(KNOBS, {**values, "SEED": 3}) is False
    assert list(knob_table(KNOBS, values).index) == ["SEED", "SHARE", "MODE", "DATA_PATH"]


@pytest.mark.parametrize(("change", "message"), [
    ({"SEED": -1}, r"SEED=-1 is out of range; valid range is \[0, 4,294,967,295\]"),
    ({"SEED": 1.5}, r"SEED must be an integer"),
    ({"SHARE": 0.9}, r"SHARE=0.9 is out of range; valid range is \[0.1, 0.5\]"),
    ({"MODE": "c"}, r"MODE='c' is not valid; choose one of \['a', 'b'\]"),
    ({"DATA_PATH": "/no/such/file.csv"}, r"DATA_PATH='/no/such/file.csv': no such file or folder"),
])
def test_knobs_out_of_range_name_knob_value_and_range(change: dict, message: str) -> None:
    values = {"SEED": 0, "SHARE": 0.3, "MODE": "a", "DATA_PATH": None, **change}
    with pytest.raises(ValueError, match=message):
        check_knobs(KNOBS, values)


def test_knob_missing_from_parameters_and_bad_specs() -> None:
    with pytest.raises(ValueError, match="SHARE is listed in KNOBS but the parameters cell does not set it"):
        check_knobs(KNOBS, {"SEED": 0})
    with pytest.raises(ValueError, match="exactly one of"):
        Knob("X", 1)
    with pytest.raises(ValueError, match="low <= high"):
        Knob("X", 1, 5, 2)


def test_knob_ends_are_what_the_sweep_runs() -> None:
    assert KNOBS[0].ends() == [4294967295]
    assert KNOBS[1].ends() == [0.1, 0.5]
    assert KNOBS[2].ends() == ["b"]
    assert KNOBS[3].ends() == []


def test_scorecard_asserts_at_defaults_and_reports_elsewhere(capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STRICT_ENV, raising=False)
    card = build([("lift > 1", 1.23456, "> 1", True), ("gain > 0", -0.5, "> 0", False),
                  ("ok by seed", 2, "in 4 of 4", False, "holds in 2 of 4 seeds only")])
    assert list(card["value"]) == [1.235, -0.5, 2]
    assert list(card["why not"]) == ["", "-0.5 does not meet > 0", "holds in 2 of 4 seeds only"]
    with pytest.raises(AssertionError, match="2 of 3 scorecard claims do not hold"):
        enforce(card, at_defaults=True)
    enforce(card, at_defaults=False)
    out = capsys.readouterr().out
    assert "1 of 3 claims hold" in out and "does not hold: gain > 0 (-0.5 does not meet > 0)" in out
    monkeypatch.setenv(STRICT_ENV, "1")
    with pytest.raises(AssertionError):
        enforce(card, at_defaults=False)
    enforce(build([("a", 1, "b", True)]), at_defaults=True)


def test_scorecard_rejects_malformed_rows() -> None:
    with pytest.raises(ValueError, match="needs at least one claim"):
        build([])
    with pytest.raises(ValueError, match=r"needs \(claim, value, reference, holds"):
        build([("a", 1)])


def test_timing_reports_best_p50_and_pooled_p99() -> None:
    latency = measure(lambda n: sum(range(n)), [200] * 50, repeats=3)
    assert latency.calls == 150 and latency.repeats == 3
    assert 0 < latency.p50 <= latency.p99
    assert "CPU p50" in str(latency) and "3 repeats" in str(latency)
    assert latency.wall_p50 <= latency.p99
    with pytest.raises(ValueError, match="repeats=0"):
        measure(len, [1], repeats=0)
    with pytest.raises(ValueError, match="at least one"):
        measure(len, [])


def test_check_answer_prints_the_answer_only_when_right(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_answer("Ex", 0.0931, 0.093, rel_tol=0.01)
    assert "correct ✓ (answer: 0.0931)" in capsys.readouterr().out
    assert not check_answer("Ex", 0.2, 0.093, hint="which count?")
    out = capsys.readouterr().out
    assert "not quite" in out and "0.093" not in out


@pytest.mark.parametrize("holds", [float("nan"), "False", 0.3, None])
def test_scorecard_holds_must_be_a_boolean(holds: object) -> None:
    with pytest.raises(ValueError, match="holds must be True or False"):
        build([("claim", 1.0, "> 0", holds)])
    import numpy as np
    assert build([("claim", 1.0, "> 0", np.float64(1.0) > 0)])["holds"].all()


def test_knob_specs_that_would_mislead_are_rejected() -> None:
    with pytest.raises(ValueError, match="integer knob needs integer bounds"):
        Knob("BIAS", 1, 0.5, 2)
    with pytest.raises(ValueError, match="default 9 is outside"):
        Knob("N", 9, 1, 5)
    free = Knob("QUESTIONS", ["a?"], free=True, doc="questions to ask")
    assert free.check(["b?"]) == ["b?"] and free.ends() == []


def test_check_answer_handles_numpy_numbers_and_arrays(capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np
    assert check_answer("Ex", 0.1005, np.float32(0.1), rel_tol=0.01)
    assert not check_answer("Ex", 0.2, np.float32(0.1), rel_tol=0.01)
    assert check_answer("Ex", [1.0, 2.0], np.array([1.0, 2.0]))
    assert not check_answer("Ex", 3, np.array([1.0, 2.0]))
    assert check_answer("Ex", np.int64(7), 7, rel_tol=0)
    capsys.readouterr()
