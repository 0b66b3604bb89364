"""Churn world benchmarks: generation time and scaling, the batch scoring job at scale, simulator calls.

`make bench` imports this module and prints the rows of :func:`run`. Budget: well under 60 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM's OpenMP threads sleep, not spin

import sqlite3
import tempfile
import time
from contextlib import closing
from pathlib import Path

import lightgbm as lgb
import numpy as np

from utils.churn import ChurnWorld, make_churn_world
from utils.churn_batch import check_scores, write_partition


def _timed(fn, *args, **kwargs) -> tuple[object, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def _features(world: ChurnWorld, ids: np.ndarray, week: int) -> np.ndarray:
    """A compact version of the notebook's as-of-snapshot features (activity, tickets, price)."""
    n = len(world.customers)
    sessions = np.zeros((n, world.n_weeks))
    act = world.activity
    sessions[act["customer_id"].to_numpy(), act["week"].to_numpy()] = act["sessions"].to_numpy()
    tickets = np.zeros((n, world.n_weeks))
    np.add.at(tickets, (world.tickets["customer_id"].to_numpy(), world.tickets["week"].to_numpy()),
              world.tickets["n_tickets"].to_numpy())
    rise = np.full(n, 10_000)
    rise[world.price_changes["customer_id"].to_numpy()] = world.price_changes["week"].to_numpy()
    last4 = sessions[ids, week - 4:week].mean(axis=1)
    prev8 = sessions[ids, week - 12:week - 4].mean(axis=1)
    return np.column_stack([
        last4, prev8, (last4 + 0.5) / (prev8 + 0.5), tickets[ids, week - 4:week].sum(axis=1),
        np.where(rise[ids] < week, week - rise[ids], 99),
        week - world.customers["signup_week"].to_numpy()[ids],
    ])


def _write(db: Path, week: int, ids: np.ndarray, scores: np.ndarray, version: str) -> int:
    """The notebook's job: checks, then a partition overwrite in one transaction."""
    values = {"churn_probability": scores, "uplift": np.zeros(len(scores))}
    check_scores(ids, values)
    return write_partition(db, week, ids, values, version, scored_at=f"week {week}")


def run() -> list[dict]:
    rows: list[dict] = []
    # --- world generation and its scaling ---
    times = {}
    for n in (20_000, 50_000, 100_000):
        world, seconds = _timed(make_churn_world, seed=0, n_customers=n)
        times[n] = seconds
    rows.append({"benchmark": "churn world generation, 20k customers x 60 weeks", "value": times[20_000],
                 "unit": "s", "bar": "<= 5 s", "holds": times[20_000] <= 5})
    rows.append({"benchmark": "churn world generation, 100k customers x 60 weeks", "value": times[100_000],
                 "unit": "s", "bar": "<= 25 s", "holds": times[100_000] <= 25})
    ratio = (times[100_000] / 100_000) / (times[20_000] / 20_000)
    rows.append({"benchmark": "churn generation time per customer, 100k vs 20k", "value": ratio,
                 "unit": "x", "bar": "<= 2 (linear)", "holds": ratio <= 2})

    # --- batch scoring job at scale: score, check, overwrite the week's partition; then a re-run ---
    world = make_churn_world(seed=0, n_customers=20_000)
    train_ids = world.eligible(24)
    churn = world.customers["churn_week"].to_numpy(dtype=float, na_value=np.inf)[train_ids]
    y = ((churn >= 24) & (churn < 32)).astype(int)
    params = dict(objective="binary", learning_rate=0.05, num_leaves=15, deterministic=True,
                  force_row_wise=True, num_threads=2, seed=0, verbose=-1)
    model = lgb.train(params, lgb.Dataset(_features(world, train_ids, 24), y), num_boost_round=200)
    now_ids = world.eligible(world.decision_week)
    base = _features(world, now_ids, world.decision_week)
    scale = 1_000_000
    big = np.tile(base, (-(-scale // len(base)), 1))[:scale]
    big_ids = np.arange(scale)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "scores.sqlite"
        start = time.perf_counter()
        inserted = _write(db, world.decision_week, big_ids, model.predict(big), "bench-v1")
        job = time.perf_counter() - start
        again, rerun = _timed(_write, db, world.decision_week, big_ids, model.predict(big), "bench-v1")
        with closing(sqlite3.connect(db)) as con:
            count = con.execute("SELECT COUNT(*) FROM churn_scores").fetchone()[0]
            versions = con.execute("SELECT COUNT(DISTINCT bundle_version) FROM churn_scores").fetchone()[0]
    rows.append({"benchmark": "churn batch job, 1M customers scored + written to SQLite", "value": job,
                 "unit": "s", "bar": "<= 60 s", "holds": job <= 60 and inserted == scale})
    rows.append({"benchmark": "churn batch job re-run for the same week (rows in the table after)", "value": float(count),
                 "unit": "rows", "bar": "== 1M (overwrite)", "holds": again == scale and count == scale and versions == 1})
    rows.append({"benchmark": "churn batch job re-run time, 1M customers", "value": rerun,
                 "unit": "s", "bar": "<= 60 s", "holds": rerun <= 60})

    # --- the campaign simulator, as the notebook's widget calls it ---
    top = now_ids[np.argsort(-model.predict(base))[:1_000]]
    calls = []
    for _ in range(1_000):
        start = time.perf_counter()
        world.run_campaign(top, 5.0, 200.0)
        calls.append(time.perf_counter() - start)
    p50, p99 = np.percentile(np.array(calls) * 1e3, [50, 99])
    rows.append({"benchmark": "churn campaign simulator call, 1,000 contacts (p50)", "value": float(p50),
                 "unit": "ms", "bar": "<= 10 ms", "holds": p50 <= 10})
    rows.append({"benchmark": "churn campaign simulator call, 1,000 contacts (p99)", "value": float(p99),
                 "unit": "ms", "bar": "<= 30 ms", "holds": p99 <= 30})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['benchmark']:<62} {row['value']:>10.3f} {row['unit']:<5} {row['bar']:<18} {row['holds']}")
