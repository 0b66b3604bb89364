"""Recommendations world benchmarks: generation time and scaling, the simulator, and two-stage
serving latency for one request (a compact copy of notebook 09's online path).

`make bench` imports this module and prints the rows of :func:`run`. Budget: well under 60 s.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM's OpenMP threads sleep, not spin

import time

import lightgbm as lgb
import numpy as np
import scipy.sparse as sp
from sklearn.utils.extmath import randomized_svd
from threadpoolctl import threadpool_limits

from utils.recsys import RecsysWorld, make_world, on_grid
from utils.recsys_byo import make_burst_log

GENERATION_BAR_S = 5.0  # "a few seconds" for the default world
P99_BAR_MS = 20.0  # two-stage serving, one request, >= 10,000 items (course-spec section 6)
K = 200  # candidates per request: the notebook's K_CANDIDATES (it ships k = 40; 200 is the worst case)


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def _pipeline(world: RecsysWorld, seed: int = 0):
    """Embeddings (truncated SVD) and a small lambdarank ranker, as in the notebook."""
    log = world.log
    n_users, n_items = len(world.users), len(world.items)
    cut = log["day"].max() - 6
    hist, future = log[log["day"] < cut], log[(log["day"] >= cut) & log["satisfied"]]
    pos = hist[hist["satisfied"]]
    X = sp.csr_matrix((np.ones(len(pos)), (pos["user_id"], pos["item_id"])), shape=(n_users, n_items))
    X.data = np.log1p(X.data)
    X = X @ sp.diags(1 / np.sqrt(np.asarray(X.sum(axis=0)).ravel() + 1))
    U, S, Vt = randomized_svd(X, 32, random_state=seed, n_iter=4)
    user_emb, item_emb = on_grid(U * np.sqrt(S)), on_grid(Vt.T * np.sqrt(S))  # as notebook 09: exact float64 scores
    pop = np.log1p(np.bincount(pos["item_id"], minlength=n_items)).astype(np.float32)
    category = world.items["category"].to_numpy()
    aff = np.zeros((n_users, category.max() + 1), dtype=np.float32)
    np.add.at(aff, (pos["user_id"].to_numpy(), category[pos["item_id"].to_numpy()]), 1)
    aff /= aff.sum(axis=1, keepdims=True) + 0.5
    seen = X.astype(bool).tocsr()
    seen_items = np.split(seen.indices, seen.indptr[1:-1])  # online store: each user's watched items

    def features(user: int, cand: np.ndarray, score: np.ndarray) -> np.ndarray:
        return np.column_stack([score, pop[cand], aff[user, category[cand]]])

    users = np.unique(future["user_id"])[:600]
    rows, labels = [], []
    wanted = set(future["user_id"].to_numpy() * n_items + future["item_id"].to_numpy())
    for user in users:  # training-set construction only, not a serving hot path
        scores = item_emb @ user_emb[user]
        cand = np.argpartition(-scores, 50)[:50]
        rows.append(features(user, cand, scores[cand]))
        labels.append(np.isin(user * n_items + cand, list(wanted)).astype(int))
    ranker = lgb.LGBMRanker(objective="lambdarank", n_estimators=100, learning_rate=0.08,
                            deterministic=True, force_row_wise=True, num_threads=1, seed=seed,
                            verbose=-1)
    ranker.fit(np.vstack(rows), np.concatenate(labels), group=np.full(len(users), 50))
    booster = ranker.booster_

    def recommend(user: int) -> np.ndarray:
        scores = item_emb @ user_emb[user]
        scores[seen_items[user]] = -np.inf
        cand = np.argpartition(-scores, K)[:K]
        ranked = booster.predict(features(user, cand, scores[cand]), num_threads=1)
        return cand[np.argsort(-ranked)[:10]]

    return recommend


def _latency_ms(fn, args: np.ndarray) -> tuple[float, float]:
    for a in args[:20]:  # warm-up, as in the notebook
        fn(a)
    times = []
    for a in args:
        start = time.perf_counter()
        fn(a)
        times.append(time.perf_counter() - start)
    p50, p99 = np.percentile(1e3 * np.array(times), [50, 99])
    return float(p50), float(p99)


def run() -> list[dict]:
    rows: list[dict] = []
    with threadpool_limits(1):
        world, seconds = _timed(make_world, 0)
        seconds = min(seconds, _timed(make_world, 0)[1])  # best of two: the machine is shared
        rows.append({"benchmark": "recsys: generate default world (5,000 users, 10,000 items, 28 days)",
                     "value": seconds, "unit": "s", "bar": f"<= {GENERATION_BAR_S:.0f} s",
                     "holds": seconds <= GENERATION_BAR_S})
        seconds_4x = min(_timed(make_world, 0, n_users=20_000)[1] for _ in range(2))
        ratio = seconds_4x / seconds
        # Linear cost gives 4; memory-hierarchy effects add a little at larger sizes. The bar is the
        # course's scaling rule (as for fraud and search): per-row cost within 2x of linear, which
        # an O(n log n) step passes and a quadratic one (16) fails.
        rows.append({"benchmark": "recsys: generation time, 4x users / 1x users", "value": ratio,
                     "unit": "x", "bar": "<= 8 (linear = 4)", "holds": ratio <= 8})
        policy = np.tile(np.arange(30), (len(world.users), 1))
        _, sim_s = _timed(world.simulate, policy, 14)
        rows.append({"benchmark": "recsys: simulate 14 days for 5,000 users", "value": sim_s, "unit": "s",
                     "bar": "<= 2 s", "holds": sim_s <= 2})
        stacked = np.tile(np.arange(30), (11 * 1_500, 1))
        _, sim_many = _timed(world.simulate, stacked, 21, user_ids=np.tile(np.arange(1_500), 11))
        rows.append({"benchmark": "recsys: simulate 11 policies x 1,500 users x 21 days (notebook step 6)",
                     "value": sim_many, "unit": "s", "bar": "<= 3 s", "holds": sim_many <= 3})
        _, burst_s = _timed(make_burst_log, 0)
        rows.append({"benchmark": "recsys: burst-style ratings log, 1,500 users over 20 years", "value": burst_s,
                     "unit": "s", "bar": "<= 2 s", "holds": burst_s <= 2})
        recommend = _pipeline(world)
        users = np.random.default_rng(0).integers(0, len(world.users), 1_000)
        p50, p99 = _latency_ms(recommend, users)
        rows.append({"benchmark": f"recsys: two-stage request p50 (10,000 items, k = {K})", "value": p50,
                     "unit": "ms", "bar": "report", "holds": True})
        rows.append({"benchmark": f"recsys: two-stage request p99 (10,000 items, k = {K})", "value": p99,
                     "unit": "ms", "bar": f"<= {P99_BAR_MS:.0f} ms", "holds": p99 <= P99_BAR_MS})
        big = np.random.default_rng(1).normal(size=(1_000_000, 32)).astype(np.float32)
        query = np.random.default_rng(2).normal(size=(200, 32)).astype(np.float32)

        def exact_top_k(i: int) -> np.ndarray:
            scores = big @ query[i]
            return np.argpartition(-scores, K)[:K]

        p50_big, p99_big = _latency_ms(exact_top_k, np.arange(200))
        rows.append({"benchmark": "recsys: exact top-200 retrieval p99, 1,000,000 items x 32 dims",
                     "value": p99_big, "unit": "ms", "bar": "report (ANN territory if > budget share)",
                     "holds": True})
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['benchmark']:<75} {row['value']:>9.3f} {row['unit']:<3} {row['bar']:<20} {row['holds']}")
