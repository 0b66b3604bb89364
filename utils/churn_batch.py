"""The weekly churn scoring job: validate inputs, score, overwrite one week's partition atomically.

The job is a pure function of (snapshot week, inputs, model bundle): re-running it for the same week
*replaces* that week's rows in one transaction (a partition overwrite) and keeps the replaced rows in
an audit table, so a re-run after a crash, a double trigger or a retrained model leaves exactly one
set of scores per customer and week, stamped with a version hashed from the models themselves.
Every failure is loud and named, and nothing is written:

- :func:`check_week` -- a week whose feature windows reach before the data starts, or in the future;
- :func:`check_windows` -- an event log with no rows for some week of the feature window (late ETL);
- :func:`check_feature_frame` -- missing, extra or reordered columns; rows that are not ``ids`` in
  order; NaN features;
- :func:`check_scores` -- a row count that differs from ``ids``, a NaN or an out-of-range score.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Each score column and its valid range (a churn probability; an uplift, a difference of two).
SCORE_RANGES = {"churn_probability": (0.0, 1.0), "uplift": (-1.0, 1.0)}
SCORE_COLUMNS = tuple(SCORE_RANGES)
_COLUMNS = """snapshot_week INTEGER NOT NULL, customer_id INTEGER NOT NULL, bundle_version TEXT NOT NULL,
    churn_probability REAL NOT NULL, uplift REAL NOT NULL, scored_at TEXT NOT NULL"""
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS churn_scores ({_COLUMNS}, PRIMARY KEY (snapshot_week, customer_id))",
    f"CREATE TABLE IF NOT EXISTS churn_scores_replaced ({_COLUMNS}, replaced_by TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS job_runs (
    snapshot_week INTEGER PRIMARY KEY, bundle_version TEXT NOT NULL, n_rows INTEGER NOT NULL,
    scored_at TEXT NOT NULL)""",
)


class BatchJobError(RuntimeError):
    """The job refused to write: its output failed a row-count, null or range check."""


class IncompleteInputError(ValueError):
    """An input table has no rows for a week the features read (a late or failed load)."""


@dataclass(frozen=True)
class Scorer:
    """A score function and the fitted models it uses (LightGBM boosters or their dumped text)."""

    predict: Callable[[pd.DataFrame], np.ndarray]
    models: Sequence[object]

    def dump(self) -> str:
        """The models' serialised parameters and trees: what the version is hashed from."""
        texts = []
        for model in self.models:
            if isinstance(model, str):
                texts.append(model)
            elif hasattr(model, "model_to_string"):
                texts.append(model.model_to_string())
            else:
                raise TypeError(f"cannot serialise a {type(model).__name__} to version it; "
                                "pass LightGBM boosters or their model_to_string() text")
        return "\n".join(texts)


def bundle_version(models: Mapping[str, str]) -> str:
    """A short hash over *every* model the job uses (name and serialised model, sorted by name)."""
    if not models:
        raise ValueError("models is empty: the bundle version must cover every model the job uses")
    digest = hashlib.sha256()
    for name in sorted(models):
        digest.update(name.encode() + b"\0" + models[name].encode() + b"\0")
    return "bundle-" + digest.hexdigest()[:10]


def scorer_version(scorers: Mapping[str, Scorer]) -> str:
    """The bundle version computed from the scorers' own models (never typed in by the caller)."""
    return bundle_version({name: scorer.dump() for name, scorer in scorers.items()})


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


def check_windows(windows: Mapping[str, np.ndarray], weeks: Sequence[int]) -> None:
    """Reject inputs with a week of no data: each matrix is customers x ``weeks``.

    A week is empty when no customer has a finite, non-zero value in it (no sessions, no tickets
    loaded at all): with thousands of customers that is a late or failed load, not a quiet week.
    """
    for name, matrix in windows.items():
        values = np.asarray(matrix, dtype=float)
        if values.shape[1] != len(weeks):
            raise ValueError(f"{name} window has {values.shape[1]} weeks; expected {len(weeks)}")
        present = (np.isfinite(values) & (values != 0)).any(axis=0)
        if not present.all():
            missing = [int(w) for w, ok in zip(weeks, present, strict=True) if not ok]
            raise IncompleteInputError(
                f"{name} has no rows for weeks {missing} of the feature window "
                f"[{weeks[0]}, {weeks[-1]}] (late or failed load?); nothing was written")


def check_feature_frame(X: pd.DataFrame, expected: Sequence[str], ids: np.ndarray | None = None) -> pd.DataFrame:
    """Return ``X`` if its columns are ``expected`` in order, its index is ``ids`` in order and it has no NaN."""
    have, want = list(X.columns), list(expected)
    missing = [c for c in want if c not in have]
    extra = [c for c in have if c not in want]
    if missing or extra:
        raise ValueError(f"feature columns differ from the model's: missing {missing}, unexpected {extra}")
    if have != want:
        moved = [c for c, d in zip(have, want, strict=True) if c != d]
        raise ValueError(f"feature columns are in a different order from the model's "
                         f"(first out of place: {moved[0]!r}); expected {want}")
    if ids is not None:
        index, ids = X.index.to_numpy(), np.asarray(ids)
        if len(index) != len(ids) or set(index.tolist()) != set(ids.tolist()):
            raise ValueError(f"feature rows are not the customers in ids: {len(index):,} rows, "
                             f"{len(set(ids.tolist()) - set(index.tolist())):,} of {len(ids):,} ids missing")
        if not np.array_equal(index, ids):
            first = int(np.flatnonzero(index != ids)[0])
            raise ValueError(f"feature rows are in a different order from ids (first at position "
                             f"{first}: customer {index[first]} where ids has {ids[first]})")
    nans = X.isna().sum()
    if nans.any():
        listed = ", ".join(f"{c} {n:,}" for c, n in nans[nans > 0].items())
        raise ValueError(f"features contain NaN (of {len(X):,} rows): {listed}; nothing was written")
    return X


def check_scores(ids: np.ndarray, scores: Mapping[str, np.ndarray]) -> None:
    """Fail loudly unless there is one finite, in-range score per customer of ``ids``."""
    n = len(ids)
    if len(np.unique(ids)) != n:
        raise BatchJobError(f"row count check failed: {n:,} rows for {len(np.unique(ids)):,} distinct customers")
    for name, (low, high) in SCORE_RANGES.items():
        values = np.asarray(scores[name], dtype=float)
        if len(values) != n:
            raise BatchJobError(f"row count check failed: {name} has {len(values):,} values for {n:,} customers")
        bad = int((~np.isfinite(values)).sum())
        if bad:
            raise BatchJobError(f"null check failed: {bad:,} of {n:,} {name} scores "
                                "are NaN or infinite; nothing was written")
        out = int(((values < low) | (values > high)).sum())
        if out:
            raise BatchJobError(f"range check failed: {out:,} of {n:,} {name} scores outside "
                                f"[{low}, {high}] (e.g. {values[(values < low) | (values > high)][0]:.3g})")


def write_partition(db_path: Path, week: int, ids: np.ndarray, scores: Mapping[str, np.ndarray],
                    version: str, scored_at: str) -> int:
    """Replace week ``week``'s rows by these, in one transaction; return the rows written.

    The replaced rows move to ``churn_scores_replaced`` (with the version that replaced them), so an
    overwrite can be audited and undone. ``scored_at`` is the run's logical date (not the wall
    clock), so the same inputs always produce the same ``churn_scores``. Rows of other weeks are
    untouched. If anything fails (a duplicate key, a NULL), the transaction rolls back.
    """
    rows = zip(np.full(len(ids), week).tolist(), np.asarray(ids).tolist(), [version] * len(ids),
               *(np.asarray(scores[c], dtype=float).tolist() for c in SCORE_COLUMNS),
               [scored_at] * len(ids), strict=True)
    with closing(sqlite3.connect(db_path)) as con:
        for statement in SCHEMA:
            con.execute(statement)
        with con:  # one transaction: commit on success, roll back on any exception
            con.execute("INSERT INTO churn_scores_replaced SELECT *, ? FROM churn_scores WHERE snapshot_week = ?",
                        (version, week))
            con.execute("DELETE FROM churn_scores WHERE snapshot_week = ?", (week,))
            con.executemany("INSERT INTO churn_scores VALUES (?, ?, ?, ?, ?, ?)", rows)
            con.execute("INSERT OR REPLACE INTO job_runs VALUES (?, ?, ?, ?)",
                        (week, version, len(ids), scored_at))
    return len(ids)


def run_scoring_job(db_path: Path, week: int, ids: np.ndarray,
                    X: pd.DataFrame | Callable[[], pd.DataFrame], scorers: Mapping[str, Scorer],
                    feature_columns: Sequence[str], first_complete_week: int, last_week: int,
                    scored_at: str, windows: Mapping[str, np.ndarray] | None = None) -> str:
    """Validate the week, the input windows and the features; score; check; overwrite the partition.

    ``X`` is the feature frame indexed by customer, or a function building it (called only once the
    week and ``windows`` -- customers x the ``first_complete_week`` weeks before ``week`` -- are
    valid); ``scorers`` maps each of ``SCORE_COLUMNS`` to a :class:`Scorer`. Returns the bundle version.
    """
    week = check_week(week, first_complete_week, last_week)
    missing = [c for c in SCORE_COLUMNS if c not in scorers]
    if missing:
        raise ValueError(f"scorers is missing {missing}; expected {list(SCORE_COLUMNS)}")
    if windows is not None:
        check_windows(windows, list(range(week - first_complete_week, week)))
    ids = np.asarray(ids)
    X = check_feature_frame(X() if callable(X) else X, feature_columns, ids)
    scores = {name: np.asarray(scorers[name].predict(X), dtype=float) for name in SCORE_COLUMNS}
    check_scores(ids, scores)
    version = scorer_version(scorers)
    write_partition(db_path, week, ids, scores, version, scored_at)
    return version


def read_partition(db_path: Path, week: int, table: str = "churn_scores") -> pd.DataFrame:
    """The rows of one week, ordered by customer (``table="churn_scores_replaced"`` for the audit)."""
    if table not in ("churn_scores", "churn_scores_replaced"):
        raise ValueError(f"table must be 'churn_scores' or 'churn_scores_replaced'; got {table!r}")
    with closing(sqlite3.connect(db_path)) as con:
        return pd.read_sql_query(
            f"SELECT * FROM {table} WHERE snapshot_week = ? ORDER BY customer_id", con, params=(week,))
