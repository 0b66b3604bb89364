"""The weekly churn scoring job: validate inputs, score, overwrite one week's partition atomically.

The job is a pure function of (snapshot week, model bundle): re-running it for the same week
*replaces* that week's rows in one transaction (a partition overwrite), so a re-run after a crash,
a double trigger or a retrained model leaves exactly one set of scores per customer and week,
stamped with the bundle version that produced them. Every failure is loud and named:

- :func:`check_week` -- a week whose feature windows reach before the data starts;
- :func:`check_feature_frame` -- missing, extra or reordered feature columns;
- :func:`check_scores` -- a row count that differs from the eligible customers, or a NaN score;
- :func:`write_partition` -- the overwrite itself, which re-counts the rows before committing.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

SCORE_COLUMNS = ("churn_probability", "uplift")
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS churn_scores (
    snapshot_week INTEGER NOT NULL, customer_id INTEGER NOT NULL, bundle_version TEXT NOT NULL,
    churn_probability REAL NOT NULL, uplift REAL NOT NULL, scored_at TEXT NOT NULL,
    PRIMARY KEY (snapshot_week, customer_id))""",
    """CREATE TABLE IF NOT EXISTS job_runs (
    snapshot_week INTEGER PRIMARY KEY, bundle_version TEXT NOT NULL, n_rows INTEGER NOT NULL,
    scored_at TEXT NOT NULL)""",
)


class BatchJobError(RuntimeError):
    """The job refused to write: its output failed a row-count or null check."""


def bundle_version(models: Mapping[str, str]) -> str:
    """A short hash over *every* model the job uses (name and serialised model, sorted by name)."""
    if not models:
        raise ValueError("models is empty: the bundle version must cover every model the job uses")
    digest = hashlib.sha256()
    for name in sorted(models):
        digest.update(name.encode() + b"\0" + models[name].encode() + b"\0")
    return "bundle-" + digest.hexdigest()[:10]


def check_week(week: int, first_complete_week: int, last_week: int) -> int:
    """Reject a snapshot week whose feature windows are incomplete or which lies in the future."""
    if isinstance(week, bool) or not isinstance(week, (int, np.integer)):
        raise ValueError(f"snapshot_week must be an integer; got {week!r}")
    if week < first_complete_week:
        raise ValueError(
            f"snapshot_week={week} has an incomplete feature window: the features read the "
            f"{first_complete_week} weeks before the snapshot; valid range is "
            f"[{first_complete_week}, {last_week}]")
    if week > last_week:
        raise ValueError(f"snapshot_week={week} is in the future; valid range is "
                         f"[{first_complete_week}, {last_week}]")
    return int(week)


def check_feature_frame(X: pd.DataFrame, expected: Sequence[str]) -> pd.DataFrame:
    """Return ``X`` if its columns are exactly ``expected``, in that order; else name the problem."""
    have, want = list(X.columns), list(expected)
    missing = [c for c in want if c not in have]
    extra = [c for c in have if c not in want]
    if missing or extra:
        raise ValueError(f"feature columns differ from the model's: missing {missing}, unexpected {extra}")
    if have != want:
        moved = [c for c, d in zip(have, want, strict=True) if c != d]
        raise ValueError(f"feature columns are in a different order from the model's "
                         f"(first out of place: {moved[0]!r}); expected {want}")
    return X


def check_scores(ids: np.ndarray, scores: Mapping[str, np.ndarray], expected_rows: int) -> None:
    """Fail loudly if the output does not have one finite score per expected customer."""
    if len(ids) != expected_rows or len(np.unique(ids)) != len(ids):
        raise BatchJobError(f"row count check failed: {len(ids):,} rows ({len(np.unique(ids)):,} "
                            f"distinct customers) for {expected_rows:,} eligible customers")
    for name in SCORE_COLUMNS:
        values = np.asarray(scores[name], dtype=float)
        if len(values) != expected_rows:
            raise BatchJobError(f"row count check failed: {name} has {len(values):,} values "
                                f"for {expected_rows:,} customers")
        bad = int((~np.isfinite(values)).sum())
        if bad:
            raise BatchJobError(f"null check failed: {bad:,} of {expected_rows:,} {name} scores "
                                "are NaN or infinite; nothing was written")


def write_partition(db_path: Path, week: int, ids: np.ndarray, scores: Mapping[str, np.ndarray],
                    version: str, scored_at: str) -> int:
    """Replace week ``week``'s rows by these, in one transaction; return the rows written.

    ``scored_at`` is the run's logical date (not the wall clock), so the same inputs always produce
    the same table. Rows of other weeks are untouched. If anything fails, the old rows stay.
    """
    rows = zip(np.full(len(ids), week).tolist(), np.asarray(ids).tolist(), [version] * len(ids),
               *(np.asarray(scores[c], dtype=float).tolist() for c in SCORE_COLUMNS),
               [scored_at] * len(ids), strict=True)
    with closing(sqlite3.connect(db_path)) as con:
        for statement in SCHEMA:
            con.execute(statement)
        with con:  # one transaction: commit on success, roll back on any exception
            con.execute("DELETE FROM churn_scores WHERE snapshot_week = ?", (week,))
            con.executemany("INSERT INTO churn_scores VALUES (?, ?, ?, ?, ?, ?)", rows)
            written = con.execute("SELECT COUNT(*) FROM churn_scores WHERE snapshot_week = ?",
                                  (week,)).fetchone()[0]
            if written != len(ids):
                raise BatchJobError(f"row count check failed after insert: {written:,} rows "
                                    f"for {len(ids):,} customers; rolled back")
            con.execute("INSERT OR REPLACE INTO job_runs VALUES (?, ?, ?, ?)",
                        (week, version, written, scored_at))
    return int(written)


def run_scoring_job(db_path: Path, week: int, ids: np.ndarray,
                    X: pd.DataFrame | Callable[[], pd.DataFrame],
                    score: Mapping[str, Callable[[pd.DataFrame], np.ndarray]], version: str,
                    feature_columns: Sequence[str], first_complete_week: int, last_week: int,
                    scored_at: str) -> int:
    """Validate the week and the features, score, check the output, overwrite the partition.

    ``X`` is the feature frame, or a function building it (called only once the week is valid);
    ``score`` maps each of ``SCORE_COLUMNS`` to a function from the feature frame to an array.
    """
    week = check_week(week, first_complete_week, last_week)
    X = check_feature_frame(X() if callable(X) else X, feature_columns)
    scores = {name: np.asarray(score[name](X), dtype=float) for name in SCORE_COLUMNS}
    check_scores(np.asarray(ids), scores, expected_rows=len(X))
    return write_partition(db_path, week, ids, scores, version, scored_at)


def read_partition(db_path: Path, week: int) -> pd.DataFrame:
    """The rows of one week, ordered by customer (for checks and for the campaign tool)."""
    with closing(sqlite3.connect(db_path)) as con:
        return pd.read_sql_query(
            "SELECT * FROM churn_scores WHERE snapshot_week = ? ORDER BY customer_id", con,
            params=(week,))
