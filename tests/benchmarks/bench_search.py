"""Benchmarks of the search world: generation time and scaling, click simulation, serving latency.

``run()`` returns rows for ``make bench``. Serving mirrors notebook 11: BM25 top-100 from an
inverted index (a sparse term x document matrix), then a LambdaMART re-rank of the 100, one query
at a time, single-threaded.
"""

from __future__ import annotations

import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import sparse  # noqa: E402

from utils.search import make_search_world  # noqa: E402

BUDGET_MS = 20.0


def _generation_seconds(n_impressions: int, n_documents: int) -> float:
    start = time.perf_counter()
    make_search_world(seed=0, n_documents=n_documents, n_impressions=n_impressions)
    return time.perf_counter() - start


def _serving_latency(n_calls: int = 1_000) -> tuple[float, float]:
    world = make_search_world(seed=0)
    docs, queries = world.documents, world.queries
    tokens = docs[["doc_id"]].assign(term=docs["text"].str.split()).explode("term")
    vocabulary = pd.Index(tokens["term"].unique())
    postings = tokens.assign(term_id=vocabulary.get_indexer(tokens["term"])).groupby(
        ["term_id", "doc_id"]).size().rename("tf").reset_index()
    doc_len = docs["length"].to_numpy()
    doc_freq = np.bincount(postings["term_id"], minlength=len(vocabulary))
    idf = np.log(1 + (len(docs) - doc_freq + 0.5) / (doc_freq + 0.5))
    tf, dl = postings["tf"].to_numpy(), doc_len[postings["doc_id"]]
    weight = idf[postings["term_id"]] * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * dl / doc_len.mean()))
    shape = (len(vocabulary), len(docs))
    index = sparse.csr_matrix((weight, (postings["term_id"], postings["doc_id"])), shape=shape)
    contains = sparse.csr_matrix((np.ones(len(postings)), (postings["term_id"], postings["doc_id"])), shape=shape)
    # A re-ranker of the notebook's size (100 trees, 15 leaves, 8 features) on synthetic labels.
    rng = np.random.default_rng(0)
    X = rng.random((20_000, 8))
    y = (4 * X[:, 3] * X[:, 0]).astype(int)
    model = lgb.train(
        dict(objective="lambdarank", num_leaves=15, learning_rate=0.05, deterministic=True,
             force_row_wise=True, num_threads=2, seed=0, verbose=-1),
        lgb.Dataset(X, y, group=[100] * 200), num_boost_round=100,
    )
    lookup = pd.Series(np.arange(len(vocabulary)), index=vocabulary)
    features = docs[["quality", "freshness"]].to_numpy()

    def search(text: str, intent: int) -> np.ndarray:
        terms = lookup.reindex(text.split()).dropna().to_numpy(dtype=int)
        bm25 = np.asarray(index[terms].sum(axis=0)).ravel()
        top = np.argpartition(-bm25, 100)[:100]
        top = top[bm25[top] > 0]
        matched = np.asarray(contains[terms][:, top].sum(axis=0)).ravel()
        X = np.column_stack([bm25[top], bm25[top] / bm25[top].max(), matched, features[top],
                             doc_len[top], np.full(len(top), len(terms)), np.full(len(top), intent)])
        return top[np.argsort(-model.predict(X, num_threads=1))[:10]]

    stream = world.sample_queries(n_calls + 200, seed=1)
    texts = queries["text"].to_numpy()[stream]
    latencies = []
    for text in texts:
        begin = time.perf_counter()
        search(text, 0)
        latencies.append(1000 * (time.perf_counter() - begin))
    p50, p99 = np.percentile(latencies[200:], [50, 99])
    return float(p50), float(p99)


def _simulation_seconds(n_pages: int = 100_000) -> float:
    # The click model (examination, attractiveness, trust bias, cascade) on n_pages production pages.
    world = make_search_world(seed=0, n_impressions=1_000)
    q = world.sample_queries(n_pages, seed=2)
    pages = world._pool[q][:, :10]
    start = time.perf_counter()
    world.simulate(q, pages, seed=3)
    world.success_probability(q, pages)
    return time.perf_counter() - start


def run() -> list[dict]:
    rows = []
    simulation = min(_simulation_seconds() for _ in range(2))
    rows.append(dict(benchmark="search click model: simulate + exact success, 100k pages",
                     value=round(simulation, 2), unit="s", bar="<= 5 s", holds=simulation <= 5))
    base = min(_generation_seconds(300_000, 8_000) for _ in range(2))  # best of two: shared machine
    rows.append(dict(benchmark="search world, default (8k docs, 300k pages = 3M log rows)",
                     value=round(base, 2), unit="s", bar="<= 15 s", holds=base <= 15))
    double = min(_generation_seconds(600_000, 16_000) for _ in range(2))
    ratio = double / base
    # Linear cost gives 2; the bar is the course's scaling rule: per-row cost within 2x of linear.
    rows.append(dict(benchmark="search world, 2x size / 1x size (linear scaling)",
                     value=round(ratio, 2), unit="x", bar="<= 4 x (linear = 2)", holds=ratio <= 4))
    p50, p99 = _serving_latency()
    rows.append(dict(benchmark="search retrieval (BM25 top-100) + LambdaMART re-rank, p50",
                     value=round(p50, 2), unit="ms", bar=f"<= {BUDGET_MS:g} ms", holds=p50 <= BUDGET_MS))
    rows.append(dict(benchmark="search retrieval (BM25 top-100) + LambdaMART re-rank, p99",
                     value=round(p99, 2), unit="ms", bar=f"<= {BUDGET_MS:g} ms", holds=p99 <= BUDGET_MS))
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
