"""Small feature-pipeline helpers for notebook 03: a SQLite online store, a batch-refresh
simulation, and data contracts a pipeline runs before training.

The teaching code (windows, as-of joins, the audit) lives in the notebook; this module holds the
plumbing it reuses, tested on its own in ``tests/test_features.py``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd


def _check_window(name: str, value: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name}={value!r} is out of range; valid range is whole seconds >= 0")
    return int(value)


def count_sql(entity: str, window_seconds: int, closed: str = "left") -> str:
    """The online read of "rows of this entity in the window before t", as SQL with three
    parameters (entity, t, t). ``closed='left'`` is ``[t - window, t)``; ``'right'`` is
    ``(t - window, t]`` (counts a row written at t: the skew the notebook plants)."""
    _check_window("window_seconds", window_seconds)
    if closed not in ("left", "right"):
        raise ValueError(f"closed={closed!r} is not valid; valid values are 'left' and 'right'")
    lower, upper = (">= ?", "< ?") if closed == "left" else ("> ?", "<= ?")
    return f"SELECT COUNT(*) FROM events WHERE {entity} = ? AND ts {lower} - {int(window_seconds)} AND ts {upper}"


class OnlineStore:
    """An event table in a SQLite file (the online store), with an index on (entity, ts)."""

    def __init__(self, path: str | Path, entity: str = "customer_id") -> None:
        if not entity.isidentifier():
            raise ValueError(f"entity={entity!r} is not a valid column name")
        self.entity = entity
        self.connection = sqlite3.connect(str(path))

    def reset(self, entities: Sequence[int], ts: Sequence[int]) -> None:
        """Drop the events and load a history in one transaction."""
        db = self.connection
        db.execute("DROP TABLE IF EXISTS events")
        db.execute(f"CREATE TABLE events ({self.entity} INTEGER, ts INTEGER)")
        db.execute(f"CREATE INDEX by_entity ON events ({self.entity}, ts)")
        db.executemany("INSERT INTO events VALUES (?, ?)", zip(np.asarray(entities).tolist(), np.asarray(ts).tolist(), strict=True))
        db.commit()

    def write(self, entity: int, ts: int) -> None:
        self.connection.execute("INSERT INTO events VALUES (?, ?)", (int(entity), int(ts)))

    def read(self, sql: str, entity: int, t: int) -> int:
        return int(self.connection.execute(sql, (int(entity), int(t), int(t))).fetchone()[0])

    def close(self) -> None:
        self.connection.close()


def replay(store: OnlineStore, sql: str, entities: np.ndarray, t: np.ndarray, start: int, n: int,
           write_first: bool = False, writer_offset: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Load rows ``[0, start)`` into the store, then serve rows ``start … start + n - 1`` one by one:
    read the feature, then write the event (or write first, if ``write_first``). The writer adds
    ``writer_offset`` seconds to every stored time (a timezone bug when not 0). Returns the rows
    served and the values read."""
    if not 0 <= start <= len(t):
        raise ValueError(f"start={start} is out of range; valid range is [0, {len(t)}]")
    if n < 1:
        raise ValueError(f"n={n} is out of range; valid range is n >= 1")
    store.reset(entities[:start], t[:start] + writer_offset)
    rows, values = np.arange(start, min(start + n, len(t))), []
    for i in rows:
        if write_first:
            store.write(entities[i], t[i] + writer_offset)
        values.append(store.read(sql, entities[i], t[i]))
        if not write_first:
            store.write(entities[i], t[i] + writer_offset)
    return rows, np.array(values, dtype=float)


def count_at_last_run(entity: np.ndarray, t: np.ndarray, window: int, cadence: int) -> np.ndarray:
    """What a batch job that runs every ``cadence`` seconds (at multiples of it) serves for each row:
    the entity's rows in ``[run - window, run)``, ``run`` the last run at or before the row's time.
    ``cadence == 0`` means streaming: the exact count in ``[t - window, t)``."""
    _check_window("window", window)
    _check_window("cadence", cadence)
    entity, t = np.asarray(entity, dtype=np.int64), np.asarray(t, dtype=np.int64)
    run = t if cadence == 0 else t // cadence * cadence
    key = np.sort(entity * 10**10 + t)
    at = entity * 10**10 + run
    return (np.searchsorted(key, at, "left") - np.searchsorted(key, at - window, "left")).astype(float)


def contracts(batch: pd.DataFrame, reference: pd.DataFrame, id_column: str = "tx_id",
              time_column: str = "timestamp", amount_column: str = "amount", days: int = 7) -> dict[str, str]:
    """Six checks a pipeline runs on a new batch before training, against a reference (the
    training data). Each value is '' when the check passes, else what it saw:

    - schema: the reference's columns, each with the reference's dtype;
    - missing values: no column of the reference more than 0.1 % null;
    - amount range: amounts > 0 and at most 50x the reference's 99.9th percentile (0.1 % allowed);
    - amount median: within [0.67, 1.5] x the reference median (catches unit changes);
    - unique ids: no duplicated ``id_column``;
    - rows per day: ``days`` distinct days, none under half the reference's mean daily volume.
    """
    schema = reference.dtypes.astype(str).to_dict()
    found = {}
    missing = [c for c in schema if c not in batch.columns]
    wrong = [c for c, kind in schema.items() if c in batch.columns and str(batch[c].dtype) != kind]
    found["schema"] = f"missing {missing} wrong type {wrong}" if missing or wrong else ""
    nulls = batch.reindex(columns=list(schema)).isna().mean()
    found["missing values"] = f"{nulls.idxmax()} {nulls.max():.3f} null" if nulls.max() > 0.001 else ""
    amount = pd.to_numeric(batch.get(amount_column, pd.Series(dtype=float)), errors="coerce")
    outside = float(((amount <= 0) | (amount > 50 * reference[amount_column].quantile(0.999))).mean()) if len(amount) else 1.0
    found["amount range"] = f"{outside:.3f} out of range" if outside > 0.001 else ""
    ratio = amount.median() / reference[amount_column].median()
    found["amount median vs reference"] = f"x{ratio:.2f}" if not 0.67 <= ratio <= 1.5 else ""
    dupes = float(batch[id_column].duplicated().mean()) if id_column in batch else 1.0
    found["unique ids"] = f"{dupes:.3f} duplicated" if dupes > 0 else ""
    if time_column in batch and pd.api.types.is_datetime64_any_dtype(batch[time_column]):
        per_day = batch.groupby(batch[time_column].dt.normalize()).size()
        usual = len(reference) / reference[time_column].dt.normalize().nunique()
        low = per_day.min() / usual if len(per_day) else 0.0
        found["rows per day"] = f"{len(per_day)} days, min {low:.2f} of usual" if low < 0.5 or len(per_day) != days else ""
    else:
        found["rows per day"] = f"no datetime column {time_column!r}"
    return found


def _average_precision(weights: np.ndarray, y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's definition, tied scores one threshold) under each row of
    ``weights`` (one bootstrap resample per row, counts per example)."""
    order = np.argsort(-score, kind="stable")
    s, y, w = score[order], y[order].astype(float), weights[:, order]
    last = np.append(np.flatnonzero(np.diff(s) != 0), len(s) - 1)   # last row of each tie group
    tp, seen = np.cumsum(w * y, axis=1)[:, last], np.cumsum(w, axis=1)[:, last]
    precision = tp / np.maximum(seen, 1e-12)
    recall_step = np.diff(tp, axis=1, prepend=0.0) / np.maximum(tp[:, -1:], 1e-12)
    return (recall_step * precision).sum(axis=1)


def pr_auc_gap_interval(y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, n_boot: int = 200,
                        level: float = 0.9, seed: int = 0) -> tuple[float, float]:
    """Paired bootstrap interval of PR-AUC(score_a) - PR-AUC(score_b) on the same examples: both
    scores are evaluated on each resample, so what the two share cancels."""
    y, score_a, score_b = np.asarray(y), np.asarray(score_a, float), np.asarray(score_b, float)
    if not len(y) == len(score_a) == len(score_b) or len(y) == 0:
        raise ValueError(f"y, score_a, score_b have lengths {len(y)}, {len(score_a)}, {len(score_b)}; they must be equal and > 0")
    if n_boot < 10:
        raise ValueError(f"n_boot={n_boot} is out of range; valid range is n_boot >= 10")
    if not 0 < level < 1:
        raise ValueError(f"level={level} is out of range; valid range is (0, 1)")
    rng, n = np.random.default_rng(seed), len(y)
    weights = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(n_boot)]).astype(float)
    gaps = _average_precision(weights, y, score_a) - _average_precision(weights, y, score_b)
    low, high = np.percentile(gaps, [50 * (1 - level), 50 * (1 + level)])
    return float(low), float(high)
