"""Unit tests of the weekly churn scoring job: every failure it must catch, planted and caught."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utils.churn_batch import (
    BatchJobError,
    IncompleteInputError,
    Scorer,
    bundle_version,
    check_feature_frame,
    read_partition,
    run_scoring_job,
    scorer_version,
    write_partition,
)

COLUMNS = ["sessions_last_4w", "tickets_last_4w", "tenure_weeks"]
IDS = np.arange(100, 160)


def _frame(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.random((len(IDS), len(COLUMNS))), columns=COLUMNS, index=IDS)


def _scorers(shift: float = 0.0, nan_share: float = 0.0, model: str = "churn-trees-v1",
             churn_value: float | None = None) -> dict[str, Scorer]:
    def churn(X: pd.DataFrame) -> np.ndarray:
        p = X["sessions_last_4w"].to_numpy() * 0.5 + shift
        p[: int(nan_share * len(p))] = np.nan
        return p if churn_value is None else np.full(len(p), churn_value)

    return {"churn_probability": Scorer(churn, [model]),
            "uplift": Scorer(lambda X: X["tickets_last_4w"].to_numpy() - 0.5, ["uplift-trees-v1"])}


def _run(db: Path, week: int = 30, X: pd.DataFrame | None = None, ids: np.ndarray = IDS,
         windows: dict | None = None, **scorer_kw: object) -> str:
    return run_scoring_job(db, week, ids, _frame() if X is None else X, _scorers(**scorer_kw),
                           COLUMNS, first_complete_week=12, last_week=52, scored_at="2026-W30",
                           windows=windows)


def _all_rows(db: Path) -> list[tuple]:
    with closing(sqlite3.connect(db)) as con:
        return con.execute("SELECT * FROM churn_scores ORDER BY snapshot_week, customer_id").fetchall()


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return tmp_path / "scores.sqlite"


def test_rerun_same_bundle_is_a_no_op(db: Path) -> None:
    version = _run(db)
    first = _all_rows(db)
    assert _run(db) == version
    assert _all_rows(db) == first  # same rows, same logical timestamp: byte-identical table


def test_retrained_model_overwrites_the_week_instead_of_duplicating(db: Path) -> None:
    _run(db, week=29)
    old = _run(db, week=30)
    new = _run(db, week=30, shift=0.1, model="churn-trees-v2")  # a retrained model, same week
    assert new != old
    week30 = read_partition(db, 30)
    assert len(week30) == len(IDS) and set(week30["bundle_version"]) == {new}
    replaced = read_partition(db, 30, table="churn_scores_replaced")  # the audit keeps the old rows
    assert len(replaced) == len(IDS) and set(replaced["bundle_version"]) == {old}
    assert set(replaced["replaced_by"]) == {new}
    assert np.allclose(week30["churn_probability"], _frame()["sessions_last_4w"] * 0.5 + 0.1)
    assert len(read_partition(db, 29)) == len(IDS)  # other weeks untouched


def test_bundle_version_changes_when_any_model_changes() -> None:
    base = {"churn": "tree-1", "uplift_treated": "tree-2", "uplift_control": "tree-3"}
    v = bundle_version(base)
    assert v == bundle_version(dict(reversed(list(base.items()))))  # order of the dict is irrelevant
    for name in base:
        assert bundle_version({**base, name: base[name] + " retrained"}) != v
    with pytest.raises(ValueError, match="every model"):
        bundle_version({})


def test_nan_scores_fail_loudly_and_keep_the_old_partition(db: Path) -> None:
    _run(db)
    before = _all_rows(db)
    with pytest.raises(BatchJobError, match=r"null check failed: 6 of 60 churn_probability"):
        _run(db, model="churn-trees-v2", nan_share=0.1)
    assert _all_rows(db) == before


def test_rows_that_are_not_ids_in_order_are_rejected(db: Path) -> None:
    with pytest.raises(ValueError, match="not the customers in ids"):
        _run(db, ids=IDS[:-1])
    with pytest.raises(ValueError, match="not the customers in ids"):
        _run(db, ids=IDS + 1)
    shuffled = _frame().sample(frac=1.0, random_state=0)  # same customers, rows in another order
    with pytest.raises(ValueError, match="different order from ids"):
        _run(db, X=shuffled)
    assert not db.exists() or _all_rows(db) == []


def test_retrained_scorer_gets_a_new_version_without_being_told() -> None:
    old = scorer_version(_scorers())
    assert scorer_version(_scorers()) == old
    assert scorer_version(_scorers(model="churn-trees-v2")) != old
    with pytest.raises(TypeError, match="cannot serialise"):
        Scorer(lambda X: X, [object()]).dump()


def test_nan_features_are_rejected(db: Path) -> None:
    with pytest.raises(ValueError, match=r"features contain NaN \(of 60 rows\): sessions_last_4w 60"):
        _run(db, X=_frame() * np.nan)
    assert not db.exists() or _all_rows(db) == []


def test_out_of_range_scores_fail(db: Path) -> None:
    with pytest.raises(BatchJobError, match=r"range check failed: 60 of 60 churn_probability .*\[0.0, 1.0\]"):
        _run(db, churn_value=7.0)


def test_late_or_empty_input_weeks_are_rejected(db: Path) -> None:
    rng = np.random.default_rng(1)
    sessions, tickets = rng.poisson(3.0, (len(IDS), 12)).astype(float), rng.poisson(1.0, (len(IDS), 12)).astype(float)
    assert _run(db, windows={"sessions": sessions, "tickets": tickets}).startswith("bundle-")
    late = sessions.copy()
    late[:, -4:] = np.nan  # activity of the last 4 weeks not loaded yet
    with pytest.raises(IncompleteInputError, match=r"sessions has no rows for weeks \[26, 27, 28, 29\]"):
        _run(db, windows={"sessions": late, "tickets": tickets})
    with pytest.raises(IncompleteInputError, match=r"tickets has no rows for weeks \[18, 19,"):
        _run(db, windows={"sessions": sessions, "tickets": np.zeros_like(tickets)})  # empty table
    with pytest.raises(ValueError, match="window has 11 weeks"):
        _run(db, windows={"sessions": sessions[:, 1:]})


def test_crash_mid_insert_rolls_back(db: Path) -> None:
    _run(db)
    before = _all_rows(db)
    scores = {"churn_probability": np.full(len(IDS), 0.1), "uplift": np.zeros(len(IDS))}
    duplicate_ids = IDS.copy()
    duplicate_ids[-1] = duplicate_ids[0]  # the primary key fails on the last row, mid-insert
    with pytest.raises(sqlite3.IntegrityError):
        write_partition(db, 30, duplicate_ids, scores, "bundle-c", "t")
    assert _all_rows(db) == before  # the delete and the first 59 inserts were rolled back


@pytest.mark.parametrize("week", [8, 10, 11])
def test_incomplete_window_weeks_are_rejected(db: Path, week: int) -> None:
    with pytest.raises(ValueError, match=rf"snapshot_week={week} has an incomplete feature window"):
        _run(db, week=week)
    assert not db.exists() or _all_rows(db) == []


def test_future_week_is_rejected(db: Path) -> None:
    with pytest.raises(ValueError, match=r"snapshot_week=60 is in the future; valid range is \[12, 52\]"):
        _run(db, week=60)


def test_shuffled_or_missing_columns_are_rejected(db: Path) -> None:
    X = _frame()
    with pytest.raises(ValueError, match="different order.*'sessions_last_4w'"):
        _run(db, X=X[COLUMNS[::-1]])
    with pytest.raises(ValueError, match=r"missing \['tenure_weeks'\]"):
        _run(db, X=X.drop(columns="tenure_weeks"))
    with pytest.raises(ValueError, match=r"unexpected \['cancel_page_visited'\]"):
        _run(db, X=X.assign(cancel_page_visited=1))
    assert check_feature_frame(X, COLUMNS) is X
