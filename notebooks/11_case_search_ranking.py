# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11 · Search ranking
#
# *Train a ranker on clicks without learning the old ranking back, and prove it with an interleaving test.* · about 85 min · needs: 00, 06 (NDCG, A/B tests), some pandas
#
# *Navigation:* ← [10 · Fraud detection](10_case_fraud_detection.ipynb) · [Course map](00_course_map.ipynb) · [12 · Churn prediction](12_case_churn_prediction.ipynb) →
#
# **You will be able to:**
# - design a search stack: keyword retrieval from an inverted index, then a LambdaMART re-ranker, with a latency budget per stage;
# - show that clicks are biased, estimate position bias three ways (shuffles, swaps, unbiased LambdaMART) and correct it with inverse propensity weighting — and say how far that gets on this world and on real logs;
# - compare rankers offline with NDCG@10 and MRR@10, and online with team-draft interleaving and A/B tests across rankers of known distance;
# - name the feedback loops of click-trained rankers and the guardrails that catch them.
#
# **15-minute path:** step 3 (*Position bias, estimated three ways*), step 6 (the offline table,
# the floor grid and the interleaving curve), then *In 60 seconds*.
#
# Numbers in the text are for the default parameters (`SEED = 0`); numbers in `code font` are inputs we
# chose. With other settings, read the printed outputs.

# %% tags=["colab"]
# Colab only: fetch the course and its pinned packages (does nothing anywhere else).
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    _repo = os.environ.get("COURSE_REPO_URL", "https://github.com/OWNER/ml-system-design-course.git")
    if "/OWNER/" in _repo:
        raise RuntimeError("This copy of the course does not know its repository's URL: run "
                           "%env COURSE_REPO_URL=https://github.com/<owner>/<repo>.git, then this cell again.")
    _root = os.environ.get("COURSE_ROOT", "/content/ml-system-design-course")
    if not os.path.isdir(os.path.join(_root, "notebooks")):
        _loaded = {m: sys.modules[m].__version__ for m in ("numpy", "pandas", "matplotlib") if m in sys.modules}
        subprocess.run(["git", "clone", "--depth", "1", _repo, _root], check=True)
        for _args in (["-r", "requirements.txt"], ["--no-deps", "-r", "requirements-nodeps.txt"],
                      ["--no-deps", "-e", "."]):
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *_args], cwd=_root, check=True)
        if _loaded:
            print("Installed the course's pinned packages; Colab had already loaded", ", ".join(_loaded),
                  "- use Runtime > Restart session, then Run all.")
    os.chdir(os.path.join(_root, "notebooks"))
    if _root not in sys.path:
        sys.path.insert(0, _root)

# %% tags=["parameters"]
SEED = 0
N_DOCUMENTS = 8_000       # the searchable collection
N_QUERIES = 1_500         # distinct queries; their traffic follows a Zipf-like law
N_IMPRESSIONS = 300_000   # result pages in the click log (10 results each)
POSITION_BIAS = 1.0       # planted: P(examine rank r) = r ** -POSITION_BIAS
RANDOM_SHARE = 0.05       # share of traffic with an intervention (shuffled or swapped page)
TEST_SHARE = 0.3          # share of queries held out (never seen in training)
MIN_IMPRESSIONS = 20      # a query-document pair needs this many impressions to get a click label
BUDGET_MS = 20            # latency budget for retrieval + re-ranking, per query
TRUST_BIAS = 0.15         # planted: extra click chance of an unattractive result at rank 1 (0 = none)
USER_TASTE = 0.5          # planted: users' click appeal per sd of shortness, which judges ignore (0 = none)

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**31 - 1, "seed of the world and every model (LightGBM takes a 31-bit seed)"),
    Knob("N_DOCUMENTS", 8_000, 4_000, 16_000, "documents in the searchable collection"),
    Knob("N_QUERIES", 1_500, 800, 3_000, "distinct queries"),
    Knob("N_IMPRESSIONS", 300_000, 150_000, 600_000, "result pages in the click log"),
    Knob("POSITION_BIAS", 1.0, 0.0, 2.0, "planted exponent: P(examine rank r) = r ** -POSITION_BIAS"),
    Knob("RANDOM_SHARE", 0.05, 0.02, 0.2, "share of traffic with an intervention (shuffled or swapped page)"),
    Knob("TEST_SHARE", 0.3, 0.1, 0.5, "share of queries held out"),
    Knob("MIN_IMPRESSIONS", 20, 5, 50, "impressions a pair needs to get a click label"),
    Knob("BUDGET_MS", 20, 5, 100, "latency budget in ms (the scorecard compares the p50 with it)"),
    Knob("TRUST_BIAS", 0.15, 0.0, 0.3, "planted trust bias: extra click chance of an unattractive rank-1 result"),
    Knob("USER_TASTE", 0.5, 0.0, 1.5, "planted logits of click appeal per sd of shortness (judges ignore length)"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())   # ValueError names the knob, its value and its range
knob_table(KNOBS, globals())

# %%
import dataclasses
import functools
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM threads sleep, not spin, on a busy machine
import sys

import ipywidgets as widgets
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import sparse, stats

from utils import abtest, check_answer, use_course_style
from utils.checks import TODO
from utils.search import ipw_weights, make_search_world
from utils.timing import measure

assert sys.version_info >= (3, 11), "This course needs Python 3.11+: run `make lab` to create the course venv."
for module, major in ((np, 2), (pd, 3), (lgb, 4)):
    found = int(module.__version__.split(".")[0])
    assert found >= major, (
        f"{module.__name__} {module.__version__} is too old (need {major}.x): "
        "run `make lab`, which installs the pinned versions from requirements.txt."
    )
use_course_style()
pd.set_option("display.max_colwidth", 100)  # show scorecard claims in full
print("numpy", np.__version__, "| pandas", pd.__version__, "| lightgbm", lgb.__version__)

# %% [markdown]
# ## 1. Clarify the problem
#
# A user types a few words; we return ten results. The business wants **successful searches**: the
# user finds what they came for and does not reformulate or abandon. Before any model, pin down the
# numbers that shape the design: how big the collection is, how concentrated the traffic is, and
# how many milliseconds we may spend.
#
# The world is synthetic with known ground truth: every query–document pair has a true relevance
# grade 0–4 (what a careful judge would say), and simulated users click following a click model we
# chose from what studies of real logs report (the data card `datasets/search.md` cites them):
#
# - **position bias**: rank r is examined with probability r^−`POSITION_BIAS`;
# - **attractiveness is not relevance**: once examined, the click probability is logistic in the
#   grade *plus* a snippet term per pair, a clickiness per query and per user (three user types) —
#   so users and judges disagree, as they do on Baidu's logs (Hager et al. 2024);
# - **a taste judges do not share**: users prefer short pages (`USER_TASTE` logits per sd of
#   length). The ranker sees length as a feature, so clicks can teach it what judges never reward;
# - **trust bias**: users click an unattractive result more often near the top (Agarwal et al. 2019);
# - **a cascade**: after a satisfying click, users often leave the page.
#
# The production ranker that wrote the logs is *decent*: it orders the page by keyword match and
# quality, but also favours old pages and ignores freshness, which relevance rewards.

# %%
world = make_search_world(
    seed=SEED, n_documents=N_DOCUMENTS, n_queries=N_QUERIES, n_impressions=N_IMPRESSIONS,
    position_bias=POSITION_BIAS, random_share=RANDOM_SHARE, trust_bias=TRUST_BIAS, user_taste=USER_TASTE,
)
docs, queries, log = world.documents, world.queries, world.clicks
traffic = np.sort(queries["frequency"].to_numpy())[::-1]
head_share = traffic[: len(traffic) // 20].sum()           # top 5 % of distinct queries
searches_per_day = 5_000_000                                # assumption for sizing
peak_qps = 3 * searches_per_day / 86_400                    # peak about 3x the daily average
print(f"documents: {len(docs):,} | distinct queries: {len(queries):,} | result pages logged: {N_IMPRESSIONS:,}")
print(f"traffic share of the top 5% of queries: {head_share:.3f}")
print(f"assumed searches/day: {searches_per_day:,} -> peak QPS about {peak_qps:,.0f}")

# %% [markdown]
# The query stream is heavy-tailed (the top 5 % of queries carry the printed share of traffic):
# head queries have plenty of clicks and are worth caching; the long tail has almost none. A peak
# of about 174 queries per second with a `20` ms budget decides the architecture: a cheap index
# lookup, then an expensive re-ranker on the top `100` only.
#
# > **Say it in the interview:** "I'd optimise successful sessions — a satisfying click without a
# > reformulation — and guard latency: a `20` ms budget for retrieval plus re-ranking at peak QPS."

# %% [markdown]
# ## 2. Frame it as an ML problem
#
# This is **learning to rank**: score each (query, document) pair so that the best are on top;
# LambdaMART's loss weights each pairwise swap by how much it would change NDCG. Labels come from
# **human judges** (good, scarce, a few cents to a dollar each) or from **clicks** (free, plentiful,
# biased: users click what they see, and they see the top). The system we are designing:
#
# ```mermaid
# flowchart LR
#   Q[query] --> R[retrieval: BM25 on the inverted index, top 100]
#   R --> M[re-ranker: LambdaMART]
#   M --> P[results page, top 10]
#   P --> L[(click log)]
#   P -. a few percent of traffic .-> X[randomised or swapped pages]
#   X --> L
#   L --> E[propensity estimation]
#   L --> T[training: click labels weighted by 1 / propensity]
#   E --> T
#   J[(judged sample)] --> V[offline gate: NDCG@10]
#   T --> V --> I[interleaving, then A/B] --> M
# ```
#
# The log shows both sides of clicks: they rise with the true grade, and they fall with position.

# %%
shown = log[~log["randomised"]]
by_grade = shown.groupby("true_grade")["clicked"].mean()
by_position = shown.groupby("position")["clicked"].mean()
print("click-through rate by true grade (0-4):", by_grade.round(3).tolist())
print("click-through rate by position (1-10): ", by_position.round(3).tolist())
pages = log.groupby("impression_id").agg(randomised=("randomised", "first"), success=("clicked", "any"),
                                         grade_top=("true_grade", "first"))
slices = pages.groupby("randomised")[["success", "grade_top"]].mean()
slices.index = ["production order", "randomised order"]
slices.round(3)

# %% [markdown]
# Clicks carry signal — the rate climbs with the grade — but even a grade-4 result shown in
# production is clicked only 0.217 of the time, and the rate falls from 0.42 at position 1 to
# 0.013 at position 10. The table is the logging ranker's report card: production pages succeed
# more often than randomised ones (0.656 against 0.609 with at least one click) and put a better
# result first (mean grade 1.813 against 1.357). The old ranker is decent, and the randomised slice
# costs the users in it something real.
#
# > **Failure mode:** training on raw click-through rate. The model learns "what the old ranker put on
# > top gets clicked", so it ranks like the old ranker, and its offline click metrics look great.

# %% [markdown]
# ## 3. Data and features
#
# ### Retrieval: an inverted index with BM25
#
# Documents are token text. We build an inverted index — for each term, the documents that contain
# it and a BM25 weight — as a sparse matrix with one row per term (a row is a posting list).
# Scoring a query is then a sum of a few rows.

# %%
tokens = docs[["doc_id"]].assign(term=docs["text"].str.split()).explode("term")
vocabulary = pd.Index(tokens["term"].unique())
postings = tokens.assign(term_id=vocabulary.get_indexer(tokens["term"])).groupby(
    ["term_id", "doc_id"]).size().rename("tf").reset_index()

k1, b = 1.2, 0.75                                           # the usual BM25 constants
doc_len = docs["length"].to_numpy()
doc_freq = np.bincount(postings["term_id"], minlength=len(vocabulary))
idf = np.log(1 + (len(docs) - doc_freq + 0.5) / (doc_freq + 0.5))
tf, dl = postings["tf"].to_numpy(), doc_len[postings["doc_id"]]
weight = idf[postings["term_id"]] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / doc_len.mean()))
shape = (len(vocabulary), len(docs))
index = sparse.csr_matrix((weight, (postings["term_id"], postings["doc_id"])), shape=shape)
contains = sparse.csr_matrix((np.ones(len(postings)), (postings["term_id"], postings["doc_id"])), shape=shape)
print(f"terms: {len(vocabulary):,} | postings: {len(postings):,} | mean posting-list length: {len(postings) / len(vocabulary):.1f}")

# %% [markdown]
# Every query is scored against the index, and the top `100` documents per query become the
# candidates the re-ranker orders, with features known at query time: **keyword match** (BM25,
# BM25 relative to the query's best, query terms matched), **document** (quality, freshness,
# length) and **query** (number of terms, intent from a query classifier). The true `grade` is
# attached for evaluation only.

# %%
INTENTS = ["informational", "navigational", "fresh"]
FEATURES = ["bm25", "bm25_share", "terms_matched", "quality", "freshness", "doc_length", "query_terms", "intent"]
term_rows = queries[["query_id"]].assign(term=queries["text"].str.split()).explode("term")
query_terms = sparse.csr_matrix(
    (np.ones(len(term_rows)), (term_rows["query_id"], vocabulary.get_indexer(term_rows["term"]))),
    shape=(len(queries), len(vocabulary)))


def retrieve_all(k=100):
    # Top-k documents by BM25 for every query, with the match features.
    bm25, matched = (query_terms @ index).tocoo(), (query_terms @ contains).tocsr()
    frame = pd.DataFrame({"query_id": bm25.row, "doc_id": bm25.col, "bm25": bm25.data})
    frame["terms_matched"] = np.asarray(matched[frame["query_id"], frame["doc_id"]]).ravel()
    frame = frame.sort_values(["query_id", "bm25", "doc_id"], ascending=[True, False, True])
    frame = frame[frame.groupby("query_id").cumcount() < k].reset_index(drop=True)
    frame["bm25_share"] = frame["bm25"] / frame.groupby("query_id")["bm25"].transform("max")
    for column in ("quality", "freshness"):
        frame[column] = docs[column].to_numpy()[frame["doc_id"]]
    frame["doc_length"] = doc_len[frame["doc_id"]]
    frame["query_terms"] = queries["n_terms"].to_numpy()[frame["query_id"]]
    frame["intent"] = pd.Index(INTENTS).get_indexer(queries["intent"])[frame["query_id"]]
    frame["grade"] = world.relevance(frame["query_id"].to_numpy(), frame["doc_id"].to_numpy())
    return frame


candidates = retrieve_all()
print(f"candidate pairs: {len(candidates):,} ({len(candidates) / len(queries):.1f} per query)")
print(f"share of candidates with grade 2 or more: {(candidates['grade'] >= 2).mean():.3f}")

# %% [markdown]
# ### Position bias, estimated three ways
#
# A click needs an *examination* first. To weight clicks by one over the chance of being seen, we
# need that chance per position — the **propensity**. Three ways to get it, cheapest last:
#
# 1. **Randomise the top 10** for a small share of traffic (what the log above holds): every
#    position gets the same mix of documents, so the click rate per position, relative to
#    position 1, estimates the propensity.
# 2. **Swap interventions** (Joachims et al. 2017): swap the first result with the one at a random
#    rank k. Clicks at ranks 1 and k, summed over swapped and normal pages, compare the *same* two
#    documents at the two ranks; the ratio estimates propensity(k) / propensity(1). Only one result
#    moves.
# 3. **No intervention at all**: learn the bias jointly with the ranker from raw logs (LightGBM's
#    unbiased LambdaMART, step 5). Agarwal et al. 2019 show a further option, *intervention
#    harvesting* from the natural variation between several past rankers; it is not built here.
#
# All three assume that a click is examination × attractiveness with examination depending on
# position only — the position-based model. Our users break it twice (trust bias, the cascade), as
# real users do; the notebook measures what that costs.

# %%
TRAIN_DAYS = 21                                             # logs from days 0-20 train; days 21-27 are "the future"
past = log[log["day"] < TRAIN_DAYS]


def shuffle_propensity(click_log):
    # Click rate per position on randomised pages, relative to position 1.
    ctr = click_log[click_log["randomised"]].groupby("position")["clicked"].mean()
    return (ctr / ctr.iloc[0]).to_numpy()


def swap_propensity(click_log):
    # Joachims et al. 2017: clicks at ranks 1 and k on swapped and normal pages share the same documents.
    normal = click_log[~click_log["randomised"]].groupby("position")["clicked"].mean()
    swapped = click_log[click_log["randomised"]]
    at_1 = swapped[swapped["position"] == 1].groupby("swap_rank")["clicked"].mean()
    at_k = swapped[swapped["position"] == swapped["swap_rank"]].groupby("swap_rank")["clicked"].mean()
    k = np.arange(2, 11)
    ratio = (normal[k].to_numpy() + at_k[k].to_numpy()) / (normal[1] + at_1[k].to_numpy())
    return np.concatenate([[1.0], ratio])


def success_cost(click_log):
    # Share of searches with a click, intervention minus production pages, and its 95 % half-width.
    pages = click_log.groupby("impression_id").agg(r=("randomised", "first"), s=("clicked", "any"))
    rate, n = pages.groupby("r")["s"].mean(), pages.groupby("r").size()
    half = 1.96 * np.sqrt((rate * (1 - rate) / n).sum())
    return f"{rate[True] - rate[False]:+.3f} +/- {half:.3f}"


swap_log = world.click_log(N_IMPRESSIONS, seed=SEED + 7, intervention="swap")
swap_past = swap_log[swap_log["day"] < TRAIN_DAYS]
pbm_world = dataclasses.replace(world, trust_bias=0.0, cascade_stop=0.0)   # the pure position-based model
pbm_past = pbm_world.click_log(N_IMPRESSIONS, seed=SEED + 8).query("day < @TRAIN_DAYS")
propensity = shuffle_propensity(past)
estimates = pd.DataFrame({
    "planted examination": world.examination,
    "shuffle top 10": propensity,
    "swap 1 with k": swap_propensity(swap_past),
    "shuffle, pure position-based users": shuffle_propensity(pbm_past),
}, index=pd.RangeIndex(1, 11, name="position"))
estimates.round(3).T

# %%
cost = {"shuffle top 10": success_cost(past), "swap 1 with k": success_cost(swap_past)}
error = (estimates.drop(columns="planted examination").sub(estimates["planted examination"], axis=0)).abs().max()
print("change in the share of successful searches on intervention pages:", cost)
print("largest abs. error against the planted examination:", error.round(3).to_dict())

# %% [markdown]
# **Read the two lines.** Swapping is *not* cheaper for users here: it moves the page's best
# result down, and its cost in success (−0.049 ± 0.009) is the same as a full shuffle's
# (−0.047 ± 0.009) within the `95` % intervals of this one log; other seeds move both, and at
# some the swap is clearly cheaper. A swap of
# lower ranks would cost less but could not measure rank 1. The two estimates agree with each
# other, and both sit *below* the planted examination curve beyond position 1. That error column
# is a distance from *examination*, which is not what these estimators target once trust bias
# and the cascade act: they measure the click propensity these users show. The last column is the
# real check: with pure position-based users (trust bias and cascade off, nothing else changed)
# the same shuffle recovers the planted curve (error 0.011), so the estimator can fail and does
# not here. No single curve corrects trust bias (Vardasbi et al. 2020).
#
# > **Say it in the interview:** "I'd run interventions on a few percent of traffic, measure what
# > they cost users, and re-estimate the propensities after any page change."

# %% [markdown]
# ## 4. Model
#
# Start with the baseline every search system already has: **BM25 alone**. We score rankings with
#
# - **NDCG@10**: graded gain (2^grade − 1) discounted by log2 of the position, divided by the best
#   possible ordering of the query's `100` candidates (`1.0` = perfect); queries with no relevant
#   candidate have no NDCG and are left out;
# - **MRR@10**: 1 / rank of the first result with grade 3 or more in the top 10, and 0 when there
#   is none — including queries that have no such document at all.

# %%
def ideal_dcg(frame, k=10):
    # Best possible DCG@k per query: its candidates sorted by true grade.
    best = frame.sort_values(["query_id", "grade"], ascending=[True, False], kind="stable")
    rank = best.groupby("query_id").cumcount()
    return ((2.0 ** best["grade"] - 1) / np.log2(rank + 2)).where(rank < k, 0).groupby(best["query_id"]).sum()


IDCG = ideal_dcg(candidates)                               # one normalisation for every NDCG below


def rank_metrics(frame, scores, k=10):
    # Mean NDCG@k and MRR@k over the queries in `frame`, ranked by `scores`.
    ranked = frame[["query_id", "grade"]].assign(score=scores)
    ranked = ranked.sort_values(["query_id", "score"], ascending=[True, False], kind="stable")
    rank = ranked.groupby("query_id").cumcount()
    dcg = ((2.0 ** ranked["grade"] - 1) / np.log2(rank + 2)).where(rank < k, 0).groupby(ranked["query_id"]).sum()
    idcg = IDCG.reindex(dcg.index)
    hit = (ranked["grade"] >= 3) & (rank < k)
    reciprocal = (hit / (rank + 1)).groupby(ranked["query_id"]).max()
    return float((dcg / idcg)[idcg > 0].mean()), float(reciprocal.mean())


bm25_ndcg, bm25_mrr = rank_metrics(candidates, candidates["bm25"])
print(f"BM25 alone, all queries: NDCG@10 = {bm25_ndcg:.3f}, MRR@10 = {bm25_mrr:.3f}")

# %% [markdown]
# BM25 alone leaves most of the gain on the table: it knows nothing of quality or freshness. The
# next rung is **LambdaMART** (LightGBM's `lambdarank`) on the features above, trained on labels
# that differ, each one change away from the next:
#
# 1. **judged**: the true grade 0–4 of each pair (what paid judges would give — our reference);
# 2. **naive clicks**: the pair's click-through rate in the production log;
# 3. **IPW clicks**: each click counts 1 / propensity(its position), with the shuffle estimate of
#    step 3; the pair's label is its weighted clicks per impression (propensities are relative to
#    position 1, so the label reads "clicks per impression had it been shown first", capped at 1);
# 4. **unbiased LambdaMART**: no aggregation and no propensity estimate at all — one training group
#    per logged page, label = clicked, and LightGBM learns a bias factor per position jointly with
#    the ranker (`lgb.Dataset(..., position=...)`, after Hu et al. 2019). Its one-change baseline is
#    the same per-page data without `position`.
#
# LightGBM wants integer labels, so rates are scaled to 0–20 and rounded, with a linear gain.

# %%
CLICK_LEVELS = 20
LGB_PARAMS = dict(objective="lambdarank", learning_rate=0.05, num_leaves=15, min_data_in_leaf=20,
                  deterministic=True, force_row_wise=True, num_threads=2, seed=SEED, verbose=-1)


def train_ranker(frame, label, rounds=100, position=None):
    # LambdaMART on FEATURES; rows grouped by "group" (or query_id); label = grades, click levels or clicks.
    params = dict(LGB_PARAMS)
    if label.max() > 4:                                    # click levels: linear gain 0..20
        params["label_gain"] = list(range(CLICK_LEVELS + 1))
    groups = frame.groupby(frame.get("group", frame["query_id"]), sort=False).size().to_numpy()
    data = lgb.Dataset(frame[FEATURES].to_numpy(), label, group=groups, position=position, free_raw_data=False)
    return lgb.train(params, data, num_boost_round=rounds)


def click_labels(click_log, propensity, floor=0.0):
    # Per (query, doc): impressions, naive CTR and IPW CTR (propensities floored), as 0..20 levels.
    # ipw_weights raises a ValueError if a shown rank has propensity 0 after the floor (infinite weight).
    weighted = click_log["clicked"] * ipw_weights(click_log["position"].to_numpy(), propensity, floor)
    pairs = click_log.assign(weighted=weighted).groupby(["query_id", "doc_id"]).agg(
        impressions=("clicked", "size"), clicks=("clicked", "sum"), weighted=("weighted", "sum")).reset_index()
    pairs["naive"] = np.round(CLICK_LEVELS * pairs["clicks"] / pairs["impressions"]).astype(int)
    pairs["ipw"] = np.round(CLICK_LEVELS * (pairs["weighted"] / pairs["impressions"]).clip(0, 1)).astype(int)
    return pairs


# %% [markdown]
# ## 5. Training
#
# Split **by query** (30 % of queries held out entirely, so no per-query quirk leaks into the test
# score) and **by time** (clicks and propensities from days 0–20 only). Pairs need at least
# `MIN_IMPRESSIONS` impressions before their click rate means anything; the judged model is trained
# on exactly the same pairs, so only the label differs.

# %%
rng = np.random.default_rng(SEED)
is_test = rng.random(len(queries)) < TEST_SHARE
test_mask = is_test[candidates["query_id"]]
test = candidates[test_mask]
train_log = past[~past["randomised"] & ~is_test[past["query_id"]]]
assert not set(train_log["query_id"]) & set(test["query_id"]), "a query is on both sides"

labels = click_labels(train_log, propensity)
labels = labels[labels["impressions"] >= MIN_IMPRESSIONS]
train = candidates[~test_mask].merge(labels, on=["query_id", "doc_id"])   # pairs shown and logged
models = {
    "judged grades": train_ranker(train, train["grade"].to_numpy()),
    "naive clicks": train_ranker(train, train["naive"].to_numpy()),
    "IPW clicks": train_ranker(train, train["ipw"].to_numpy()),
}
print(f"train: {train['query_id'].nunique()} queries, {len(train):,} labelled pairs | "
      f"test: {test['query_id'].nunique()} queries, {len(test):,} candidate pairs")

# %%
PAGES_PER_PAGE_MODEL = 30_000                              # logged pages for the per-page models
page_ids = np.unique(train_log["impression_id"])
page_ids = np.sort(np.random.default_rng(SEED + 9).choice(page_ids, min(PAGES_PER_PAGE_MODEL, len(page_ids)), replace=False))
per_page = train_log[train_log["impression_id"].isin(page_ids)].merge(
    candidates[["query_id", "doc_id", *FEATURES]], on=["query_id", "doc_id"])   # shown and retrieved
per_page = per_page.sort_values(["impression_id", "position"], kind="stable").rename(columns={"impression_id": "group"})
clicked = per_page["clicked"].to_numpy().astype(int)
models["per-page clicks"] = train_ranker(per_page, clicked)
models["unbiased LambdaMART"] = train_ranker(per_page, clicked, position=per_page["position"].to_numpy() - 1)
# The same 30,000 pages aggregated per pair (fewer impressions each, so a lower bar of 5): one data set for all.
same = click_labels(train_log[train_log["impression_id"].isin(page_ids)], propensity)
same = candidates[~test_mask].merge(same[same["impressions"] >= 5], on=["query_id", "doc_id"])
models["naive, same pages"] = train_ranker(same, same["naive"].to_numpy())
models["IPW, same pages"] = train_ranker(same, same["ipw"].to_numpy())
print(f"per-page training data: {per_page['group'].nunique():,} pages, {len(per_page):,} rows; "
      f"aggregated: {len(same):,} pairs")
# %% [markdown]
# ## 6. Evaluation
#
# ### Offline: NDCG@10 and MRR@10 on held-out queries
#
# Each model re-ranks the `100` BM25 candidates of every test query; the truth is the graded relevance.
#
# **Predict, then run:** on this world — noisy attractiveness, trust bias, a decent logging ranker —
# will IPW close most of the gap between naive clicks and judged labels, as it does in textbook
# simulations?

# %%
results = {"BM25 alone": rank_metrics(test, test["bm25"])}
for name, model in models.items():
    results[name] = rank_metrics(test, model.predict(test[FEATURES].to_numpy()))
offline = pd.DataFrame(results, index=["NDCG@10", "MRR@10"]).T
offline["share of judged NDCG"] = offline["NDCG@10"] / offline.loc["judged grades", "NDCG@10"]
ndcg = offline["NDCG@10"]
offline.round(3)

# %% [markdown]
# Every LambdaMART model beats BM25 alone (0.309). Compare rows one change apart. The weights:
# naive clicks reach 0.574, IPW 0.761, the judged model 0.822. The `position` argument: per-page
# clicks reach 0.546, unbiased LambdaMART 0.688, without any intervention traffic. The full-log
# rows use ten times more pages than the per-page pair, so the last two rows train naive and IPW on
# the *same* `30,000` pages, aggregated: naive 0.555, IPW 0.671. On equal data the order is
# unbiased LambdaMART, then IPW, then naive (one log, one seed: the first two are close). MRR@10
# sits near 1 for the good models because almost every test query has a grade-3 document among its
# candidates and they put one first; it scores 0 for a query where none reaches the top 10.
#
# Clicks here carry noise (snippet and user terms, which the model averages away) and one
# systematic disagreement: users like short pages, judges do not care. On Baidu-ULTR, the largest
# public click log with expert annotations, Hager et al. 2024 found that bias correction improved
# click prediction but not agreement with the annotators. A share of the judged model's NDCG is a
# number about *this simulation*, not a bar from the literature.
#
# One click log is one draw. The next cell repeats the click models on four fresh, smaller logs
# (`60,000` pages each, `40` trees, replicate seeds 0–3; the world and test queries stay fixed),
# with the judged model retrained on each log's pairs, so each share compares like with like.

# %%
SMALL_PAGES, SMALL_TREES, REPLICATES = 60_000, 40, range(4)
FLOORS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)                    # 1.0 = every weight is 1: naive clicks


@functools.cache
def small_log(strength, replicate, taste=USER_TASTE):
    # A fresh production log (train queries, days 0-20) and its shuffle propensities.
    users = dataclasses.replace(world, user_taste=taste)   # same pages and grades, other click taste
    new_log = users.click_log(SMALL_PAGES, position_bias=strength, seed=SEED + 1 + 10 * replicate)
    new_log = new_log[(new_log["day"] < TRAIN_DAYS) & ~is_test[new_log["query_id"]]]
    return new_log[~new_log["randomised"]], shuffle_propensity(new_log)


@functools.cache
def small_ndcg(strength, replicate, label, floor=0.0, taste=USER_TASTE):
    # NDCG@10 on the test queries of a model trained on one small log ("judged", "naive" or "ipw").
    clicks, estimate = small_log(strength, replicate, taste)
    try:
        pairs = click_labels(clicks, estimate, floor)
    except ValueError:   # an estimated propensity is 0 and the floor does not lift it: no model (counted below)
        return np.nan
    pairs = candidates[~test_mask].merge(pairs[pairs["impressions"] >= MIN_IMPRESSIONS // 2], on=["query_id", "doc_id"])
    target = pairs["grade" if label == "judged" else label].to_numpy()
    return rank_metrics(test, train_ranker(pairs, target, SMALL_TREES).predict(test[FEATURES].to_numpy()))[0]


def t_interval(values):
    # Mean and 95 % t-interval half-width over replicates.
    values = np.asarray(values, dtype=float)
    return values.mean(), stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))


replicated = pd.DataFrame({label: [small_ndcg(POSITION_BIAS, r, label) for r in REPLICATES]
                           for label in ("judged", "naive", "ipw")}, index=pd.Index(REPLICATES, name="replicate"))
replicated["naive share of judged"] = replicated["naive"] / replicated["judged"]
replicated["IPW share of judged"] = replicated["ipw"] / replicated["judged"]
replicated["IPW - naive"] = replicated["ipw"] - replicated["naive"]
replicated["gap closed"] = replicated["IPW - naive"] / (replicated["judged"] - replicated["naive"])
share_mean, share_half = t_interval(replicated["IPW share of judged"])
gain_mean, gain_half = t_interval(replicated["IPW - naive"])
closed_mean, closed_half = t_interval(replicated["gap closed"])
print(f"IPW share of judged NDCG@10: {share_mean:.3f} +/- {share_half:.3f} (95% t-interval over 4 logs, one world)")
print(f"IPW minus naive NDCG@10:     {gain_mean:+.3f} +/- {gain_half:.3f}")
print(f"share of the naive-to-judged gap IPW closes: {closed_mean:.3f} +/- {closed_half:.3f}")
replicated.round(3)

# %% [markdown]
# ### How much disagreement between users and judges can IPW survive?
#
# The taste for short pages is the one knob here that users and judges disagree on *systematically*
# (the snippet and user terms are noise the model averages away). We chose `USER_TASTE = 0.5`
# before measuring: the same size as the spread of clickiness between queries. The sweep below
# retrains naive and IPW on the same four logs' pages with users of every taste (the judged model
# does not change: same pages, same grades).

# %%
TASTES = (0.0, 0.5, 1.0, 2.0)
sweep = []
for taste in TASTES:
    for r in REPLICATES:
        judged, naive, ipw = (small_ndcg(POSITION_BIAS, r, label, taste=USER_TASTE if label == "judged" else taste)
                              for label in ("judged", "naive", "ipw"))
        sweep.append({"taste": taste, "IPW - naive": ipw - naive, "gap closed": (ipw - naive) / (judged - naive),
                      "IPW share of judged": ipw / judged})
sweep = pd.DataFrame(sweep).groupby("taste").agg(lambda v: "{:.3f} +/- {:.3f}".format(*t_interval(v)))
sweep

# %% [markdown]
# At the default taste, over the four smaller logs, naive clicks already reach 0.674–0.756 of the
# judged model; IPW closes 0.646 ± 0.171 of the remaining gap and beats naive by 0.152 ± 0.057
# NDCG@10 (`95` % t-intervals over four logs of one world; the claims tier re-runs it at seeds
# 1–3). The sweep tells the bigger story: as users' taste moves away from the judges', the gap IPW
# closes falls, from 0.681 ± 0.104 with no taste to 0.263 ± 0.247 at `1.0`, and at `2.0` IPW
# minus naive is −0.029 ± 0.093 — an interval around zero. Taste `2.0` reproduces Hager et al.'s
# finding on real logs (IPW no better than naive against expert labels); at `1.0` IPW keeps a
# smaller gain whose interval reaches zero at some seeds and not at others. IPW fixes *where*
# users look, not *what* they like.
#
# ### Explore: the propensity floor, bias against variance
#
# IPW removes bias and pays in variance: a click at a rarely examined rank counts many times, so a
# handful of lucky deep clicks can decide a label. Production systems clip the propensities with a
# **floor** — no click weighs more than 1 / floor. Floor `1.0` turns every weight into 1: naive
# clicks. The grid below trains the IPW model at each floor on the same four logs, at the world's
# position bias and at a steep one (strength `2`), and keeps every result (the widget only looks
# them up, so it answers at once).

# %%
def floor_grid(strength):
    # Mean and spread (max - min) over the replicate logs of IPW NDCG@10, per floor.
    runs = pd.DataFrame({floor: [small_ndcg(strength, r, "naive" if floor == 1.0 else "ipw", floor) for r in REPLICATES]
                         for floor in FLOORS})
    return pd.DataFrame({"mean NDCG@10": runs.mean(skipna=False),   # a missing model leaves NaN, never a smaller mean
                         "spread over logs": runs.max(skipna=False) - runs.min(skipna=False)}).rename_axis("floor")


STRENGTHS = sorted({POSITION_BIAS, 2.0})
grids = {strength: floor_grid(strength) for strength in STRENGTHS}


def show_floor(floor=0.1, strength=STRENGTHS[-1]):
    # Two panels: mean NDCG@10 (bias) and its spread over four logs (variance), per floor.
    if floor not in FLOORS or strength not in grids:
        raise ValueError(f"floor must be one of {FLOORS} and strength one of {STRENGTHS} (the precomputed grid); "
                         f"got floor={floor}, strength={strength}")
    grid = grids[strength]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    for ax, column in ((left, "mean NDCG@10"), (right, "spread over logs")):
        ax.plot(grid.index, grid[column], "o-", color="#1b9e77")
        ax.plot([floor], [grid.loc[floor, column]], "s", ms=12, color="#d95f02", label=f"floor {floor:g}")
        ax.set(xscale="symlog", xlabel="propensity floor (1.0 = naive clicks)", ylabel=column, title=column)
        ax.set_xticks(list(FLOORS), [f"{f:g}" for f in FLOORS])
        ax.legend()
    fig.suptitle(f"position bias {strength:g}: mean and spread of IPW NDCG@10 over four logs, per floor")
    plt.show()
    return grid.loc[floor].round(3).to_dict()


# %%
# NBVAL_IGNORE_OUTPUT
widgets.interact(show_floor, floor=widgets.SelectionSlider(options=list(FLOORS), value=0.1, description="floor"),
                 strength=widgets.Dropdown(options=STRENGTHS, value=STRENGTHS[-1], description="bias"));

# %%
# Static fallback: the same grid as a table (rows: floors; columns: bias strength and statistic).
floor_table = pd.concat(grids, axis=1, names=["position bias", ""])
best_floor = {s: float(grids[s]["mean NDCG@10"].idxmax()) for s in STRENGTHS}
print("floor with the best mean NDCG@10, per position bias:", best_floor)
print("grid cells with no IPW model (a zero estimated propensity and no floor):", int(floor_table.isna().sum().sum()))
floor_table.round(3)

# %% [markdown]
# Read down each column. At floor `1.0` the model is the naive one; lowering the floor lets IPW
# undo more of the position bias. Below about `0.2` the floor barely matters on this world, and
# there is **no bias/variance trade-off to see**: the changes in the spread between floors are
# as large as the noise between logs, and at seeds 0–3 the best floor is `0` or `0.05`, within
# that noise of each other. The reason is the aggregation: a label is a pair's weighted clicks over at least `10`
# impressions, capped at "always clicked", so the cap already clips the few heavy deep clicks a
# floor would clip. The trade-off appears where single impressions carry the weight — tiny logs,
# per-impression training, a steeper curve — and there an estimated propensity can even reach 0 at
# a deep rank: `click_labels` then stops with a `ValueError` asking for a floor, rather than
# dividing by zero. Pick the floor on a judged sample or an interleaving test.
#
# > **Failure mode:** propensities estimated once and never again. A redesign of the results page
# > (bigger snippets, an ad block on top) changes examination overnight; keep the intervention slice
# > running and re-estimate.

# %% [markdown]
# ### Online: team-draft interleaving vs an A/B test, over rankers of different distance
#
# - **A/B test**: half the searches see ranker A, half see B; compare the share of successful
#   searches (at least one click).
# - **Team-draft interleaving**: every search sees *one* merged list. In each round a coin decides
#   which ranker picks first, then the other picks; each adds its best document not yet on the list.
#   A click credits the ranker that contributed the document; the ranker with more credited clicks
#   wins that search. Both rankers face the same user and query, so much of the noise cancels.
#
# How much fewer searches interleaving needs is not a constant: it depends on how far apart the
# rankers are (Chapelle et al. 2012 validated interleaving on two commercial search engines exactly
# this way: agreement with other measures over many ranker pairs). We build five pairs of known
# distance: ranker A is the judged model; ranker B is A's score plus random noise of growing size.

# %%
def top_lists(scores, depth=20):
    # (n_queries, depth) doc ids of each query's top test candidates by `scores` (-1 where fewer).
    ranked = test[["query_id", "doc_id"]].assign(score=scores).sort_values(
        ["query_id", "score"], ascending=[True, False], kind="stable")
    ranked["slot"] = ranked.groupby("query_id").cumcount()
    ranked = ranked[ranked["slot"] < depth]
    lists = np.full((len(queries), depth), -1)
    lists[ranked["query_id"], ranked["slot"]] = ranked["doc_id"]
    return lists


test_ids = np.unique(test["query_id"])
traffic_p = queries["frequency"].to_numpy()[test_ids] / queries["frequency"].to_numpy()[test_ids].sum()


def true_success(lists):
    # Exact share of successful searches (>= 1 click) over the test-query traffic, from the planted click model.
    return float(np.sum(world.success_probability(test_ids, lists[test_ids, :10]) * traffic_p))   # no BLAS


def team_draft(list_a, list_b, rng, k=10):
    # Vectorised team-draft interleaving: merged (n, k) doc ids and team (+1 = A, -1 = B) per slot.
    n = len(list_a)
    merged, team = np.full((n, k), -2), np.zeros((n, k), dtype=int)
    picks_a, picks_b = np.zeros(n), np.zeros(n)
    for slot in range(k):
        a_turn = (picks_a < picks_b) | ((picks_a == picks_b) & (rng.random(n) < 0.5))
        source = np.where(a_turn[:, None], list_a, list_b)
        taken = (source[:, :, None] == merged[:, None, :]).any(axis=2)
        merged[:, slot] = source[np.arange(n), np.argmax(~taken, axis=1)]
        team[:, slot] = np.where(a_turn, 1, -1)
        picks_a, picks_b = picks_a + a_turn, picks_b + ~a_turn
    return merged, team


# %% [markdown]
# The truth an online test measures is what users do: the better ranker of a pair is the one with
# the higher planted success probability, whatever the judges say. Each pair gets `N_SIM`
# simulated searches per design at each of four seeds. From them we compute
# the number that carries over: **searches needed for 80 % power** at a two-sided `5` % test
# (`utils.abtest`, formulas in [06 · Evaluation](06_evaluation.ipynb)) — exact for the A/B test (the
# planted success probabilities), from the simulated credit per search for interleaving (the band is the range
# over the four seeds; infinite where the credit points to the wrong ranker). Each seed's searches
# are also cut into `10` experiments: one *agrees* if its estimate points to the truly better ranker. Interleaving is credited two ways: the usual rule
# (the ranker with more clicked documents wins the search), and the **last click** (the ranker whose
# document was clicked last wins). Beside the five noise pairs run the two real model pairs the
# notebook trained: judged against IPW clicks, judged against unbiased LambdaMART.
#
# **Predict, then run:** how many times fewer searches than the A/B test will interleaving need,
# and does the ratio stay the same for close and for distant pairs?

# %%
N_SIM, CHUNKS = 20_000, 10
NOISE = (0.25, 0.5, 1.0, 2.0, 4.0)                          # noise added to ranker A's score, in score sds
DESIGNS = ("A/B on success", "interleaving, more clicks", "interleaving, last click")
score_a = models["judged grades"].predict(test[FEATURES].to_numpy())
lists_a, success_a, ndcg_a = top_lists(score_a), true_success(top_lists(score_a)), rank_metrics(test, score_a)[0]
noise_draw = np.random.default_rng(SEED + 50).standard_normal(len(score_a))
rivals = {f"noise {noise:g}": score_a + noise * score_a.std() * noise_draw for noise in NOISE}
rivals |= {name: models[name].predict(test[FEATURES].to_numpy()) for name in ("IPW clicks", "unbiased LambdaMART")}


def z_stat(a, b=None):
    # z of a mean credit (one sample), or of A's success rate minus B's (the engine's Wald test).
    if b is None:
        return a.mean() / max(a.std() / np.sqrt(len(a)), 1e-12)
    r = abtest.analyze_proportion(int(b.sum()), len(b), int(a.sum()), len(a))
    return r.estimate / max(r.se, 1e-12)


def needed(credit, truth):
    # Searches for 80 % power from per-search credits (+1 A wins, -1 B wins, 0 tie); inf if the credit
    # points away from the ranker users truly prefer (sign of the true success gap, `truth`).
    return abtest.sample_size_paired(max(credit.std(), 1e-12), credit.mean()) if credit.mean() * truth > 0 else np.inf


experiments, pairs_seen, needs = [], [], []
for pair, score_b in rivals.items():
    lists_b = top_lists(score_b)
    success_b = true_success(lists_b)
    pairs_seen.append({"pair": pair, "true NDCG@10 gap": ndcg_a - rank_metrics(test, score_b)[0],
                       "true success gap": success_a - success_b,
                       "A/B searches needed": 2 * abtest.sample_size_proportion(success_b, success_a - success_b).control})
    for seed in range(4):
        sim = world.sample_queries(N_SIM, seed=SEED + 100 * seed + 2, query_ids=test_ids)
        merged, team = team_draft(lists_a[sim], lists_b[sim], np.random.default_rng(SEED + 100 * seed))
        clicks = world.simulate(sim, merged, seed=SEED + 100 * seed + 3)
        more = np.sign((clicks * team).sum(axis=1)).astype(float)
        last_slot = 9 - np.argmax(clicks[:, ::-1], axis=1)
        last = np.where(clicks.any(axis=1), team[np.arange(N_SIM), last_slot], 0).astype(float)
        truth = np.sign(success_a - success_b)
        needs.append({"pair": pair, "seed": seed, "interleaving, more clicks": needed(more, truth),
                      "interleaving, last click": needed(last, truth)})
        half = N_SIM // 2
        arm_a = world.simulate(sim[:half], lists_a[sim[:half], :10], seed=SEED + 100 * seed + 4).any(axis=1)
        arm_b = world.simulate(sim[half:], lists_b[sim[half:], :10], seed=SEED + 100 * seed + 5).any(axis=1)
        for c in range(CHUNKS):
            il, ab = slice(c * N_SIM // CHUNKS, (c + 1) * N_SIM // CHUNKS), slice(c * half // CHUNKS, (c + 1) * half // CHUNKS)
            for design, z in zip(DESIGNS, (z_stat(arm_a[ab] * 1.0, arm_b[ab] * 1.0), z_stat(more[il]), z_stat(last[il])), strict=True):
                experiments.append({"pair": pair, "seed": seed, "design": design,
                                    "detects": z * truth > 1.96, "agrees": z * truth > 0})
experiments = pd.DataFrame(experiments)
print(f"{len(rivals)} ranker pairs x 4 seeds x {N_SIM:,} searches per design")

# %%
pairs_seen = pd.DataFrame(pairs_seen).set_index("pair")
needs = pd.DataFrame(needs).groupby("pair")[list(DESIGNS[1:])]
curve = pairs_seen.join(needs.median().add_suffix(" (median)")).join(needs.max().add_suffix(" (max)"))
curve["A/B / last click"] = curve["A/B searches needed"] / curve["interleaving, last click (median)"]
easy = experiments.groupby("pair")["detects"].min().loc[lambda v: v].index   # every design, every experiment
agreement = pd.DataFrame({"all pairs": experiments.groupby("design")["agrees"].mean(),
                          "without the pairs all detect": experiments[~experiments["pair"].isin(easy)].groupby("design")["agrees"].mean()})
fewer = int((curve["A/B / last click"] > 1).sum())
print(f"pairs where interleaving (last click) needs fewer searches than A/B: {fewer} of {len(curve)}")
print("pairs every design detects in every experiment:", list(easy))
print("share of experiments pointing to the truly better ranker:")
print(agreement.round(3).to_string())
curve.round(3)

# %%
# Figure only: searches needed for 80 % power against the true distance between the rankers.
fig, ax = plt.subplots(figsize=(8, 4.5))
noise_pairs = curve.loc[[f"noise {n:g}" for n in NOISE]]
model_pairs = curve.drop(noise_pairs.index)
for design, color in zip(DESIGNS, ["#d95f02", "#1b9e77", "#7570b3"], strict=True):
    column = "A/B searches needed" if design.startswith("A/B") else f"{design} (median)"
    ax.plot(noise_pairs["true NDCG@10 gap"], noise_pairs[column], "o-", color=color, label=f"{design} (noise pairs)")
    ax.plot(model_pairs["true NDCG@10 gap"], model_pairs[column], "*", ms=14, color=color)
    if not design.startswith("A/B"):
        ax.fill_between(noise_pairs["true NDCG@10 gap"], noise_pairs[column],
                        noise_pairs[f"{design} (max)"].clip(upper=1e8), color=color, alpha=0.15)
for name, row in model_pairs.iterrows():
    ax.annotate(f"judged vs {name}\n(users prefer {name})", (row["true NDCG@10 gap"], row["A/B searches needed"]),
                fontsize=8, xytext=(6, 4), textcoords="offset points")
ax.set(xscale="log", yscale="log", xlabel="true NDCG@10 gap between rankers A and B (log scale)",
       ylabel="searches for 80 % power (log scale)",
       title="Searches needed by true distance (no point: the credit favours the wrong ranker)")
ax.set_xticks(curve["true NDCG@10 gap"].to_numpy(), [f"{v:.2f}" for v in curve["true NDCG@10 gap"]])
ax.minorticks_off()
ax.tick_params(axis="x", labelsize=8, rotation=45)
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Read the figure from right to left. Far-apart rankers need a few hundred searches in any
# design; as the pair gets closer every design needs many more, roughly as 1 / gap². Three things
# the single ratio of the old version hid:
#
# - **The ratio is not a constant.** Last-click interleaving needs fewer searches than the A/B
#   test on most pairs (the printed count), by the factor in the last column, which swings from
#   pair to pair and seed to seed — and on some pairs interleaving needs *more*.
# - **The real model pairs can flip.** Judges prefer the judged model (NDCG gaps 0.061 and 0.134),
#   but at this seed users succeed *more* with both click-trained rankers (success gaps −0.014 and
#   −0.019): those learned the users' taste for short pages that the judges ignore. At other seeds
#   check the sign of the printed success gap. That is the offline/online disagreement of
#   Hager et al. 2024 in miniature: which ranker is "better" depends on whose judgment is the goal.
# - **No credit rule wins everywhere.** At this seed the more-clicks credit points to the wrong
#   ranker on two noise pairs (no point drawn) yet needs the fewest searches on the model pairs;
#   at other seeds the order of the rules changes. Check a credit rule against A/B tests of past
#   launches before trusting it.
#
# The share of experiments pointing the right way is printed twice, over all pairs and without the
# pairs every design detects in every experiment (those say nothing about which design is better).
# Chapelle et al. 2012 measured interleaving at 10–100 times fewer searches than A/B on commercial
# engines, where user-level variance is large; our searches are independent draws with no heavy
# users, so A/B here is as efficient as a yes/no metric allows, and noise on the score changes every
# query while a real launch changes few.
#
# > **Say it in the interview:** "I'd screen ranker candidates with team-draft interleaving, check
# > the credit rule against A/B tests on past launches, and confirm the winner with an A/B on the
# > business metric: interleaving tells you which ranker users prefer, not by how much."

# %% [markdown]
# ## 7. Serving
#
# At query time: look up the query's terms in the inverted index, sum their posting rows, take the
# top 100, compute the features, and score them with the LambdaMART model (single-threaded — at
# hundreds of queries per second, parallelism comes from serving many queries at once).

# %%
term_lookup = pd.Series(np.arange(len(vocabulary)), index=vocabulary)
serving_model = models["IPW clicks"]
doc_features = docs[["quality", "freshness"]].to_numpy()
intent_code = pd.Index(INTENTS).get_indexer(queries["intent"])


def search(text, intent, k_retrieve=100, k_show=10):
    # Retrieve top-100 by BM25 from the inverted index, re-rank with LambdaMART, return 10 doc ids.
    terms = term_lookup.reindex(text.split()).dropna().to_numpy(dtype=int)
    bm25 = np.asarray(index[terms].sum(axis=0)).ravel()
    top = np.argpartition(-bm25, k_retrieve)[:k_retrieve]
    top = top[bm25[top] > 0]
    matched = np.asarray(contains[terms][:, top].sum(axis=0)).ravel()
    X = np.column_stack([bm25[top], bm25[top] / bm25[top].max(), matched, doc_features[top],
                         doc_len[top], np.full(len(top), len(terms)), np.full(len(top), intent)])
    scores = serving_model.predict(X, num_threads=1)
    return top[np.argsort(-scores)[:k_show]]


example = queries.iloc[0]
print(f"query {example['text']!r} ({example['intent']}): top 3 documents {search(example['text'], intent_code[0])[:3].tolist()}")

# %%
# NBVAL_IGNORE_OUTPUT
stream = world.sample_queries(50 + 400, seed=SEED + 6)    # 50 warm-up calls, 400 timed
calls = list(zip(queries["text"].to_numpy()[stream], intent_code[stream], strict=True))
for text, intent in calls[:50]:                            # warm-up: caches, first-call costs
    search(text, intent)
latency = measure(lambda call: search(*call), calls[50:], repeats=5)
print(f"retrieval + re-rank: {latency} (budget {BUDGET_MS} ms)")

# %% [markdown]
# The scorecard compares only the median CPU time per query (best of five repeats over `400`
# queries) with the `20` ms budget, which a busy laptop barely moves; the hard p99 bar lives in
# `make bench`, run on a quiet machine. Milliseconds vary by machine, so none is quoted here.
#
# ### A cache for head queries
#
# Heavy-tailed traffic makes a results cache pay: filled from the first three weeks' counts,
# measured on the last week.

# %%
impressions = log.drop_duplicates("impression_id")
history = impressions[impressions["day"] < TRAIN_DAYS]["query_id"].value_counts()
future_queries = impressions[impressions["day"] >= TRAIN_DAYS]["query_id"].to_numpy()
cache_sizes = [10, 50, 100, 200]
hit_rates = {size: float(np.isin(future_queries, history.index[:size]).mean()) for size in cache_sizes}
print("cache size (queries) -> hit rate on next week's traffic:", {k: round(v, 3) for k, v in hit_rates.items()})


# %% [markdown]
# Caching the results of the `100` most frequent of 1,500 distinct queries serves 0.656 of next
# week's searches. Cached entries go stale as documents change: expire them after minutes and let
# fresh-intent queries bypass the cache.
#
# > **Failure mode:** training–serving skew. The batch pipeline computed `bm25_share` over the
# > candidates; if the online path computes it over a different candidate set (say, after a filter),
# > the model sees shifted inputs. Log the online features and compare their distribution with training.

# %% [markdown]
# ## 8. Monitoring and iteration
#
# ### The rich-get-richer loop
#
# A ranker trained on clicks decides what gets shown, which decides what gets clicked, which becomes
# the next training set. Below, each round ranks every test query's top-20 BM25 candidates by the
# click-through estimated so far, serves a week of simulated traffic, and updates the estimates.
# Two switches, one at a time: the click weighting (naive or IPW) and exploration (one slot of ten
# shows a random lower candidate). NDCG@10 uses the same normalisation as step 6 (all `100` candidates).

# %%
def feedback_loop(weighting, explore, rounds=6, per_round=10_000, seed=SEED):
    # NDCG@10 on the test queries per round of "serve, log clicks, re-rank by estimated CTR".
    r = np.random.default_rng(seed)
    pool = top_lists(test["bm25"].to_numpy(), depth=20)[test_ids]
    grades = world.relevance(np.repeat(test_ids[:, None], 20, axis=1), np.maximum(pool, 0)) * (pool >= 0)
    idcg = IDCG.reindex(test_ids).to_numpy()
    discount = 1 / np.log2(np.arange(2, 12))
    clicks, views = np.zeros(pool.shape), np.zeros(pool.shape)
    order = np.tile(np.arange(20), (len(test_ids), 1))          # round 0: BM25 order
    trace = []
    for _ in range(rounds + 1):
        dcg = ((2.0 ** np.take_along_axis(grades, order[:, :10], axis=1) - 1) * discount).sum(axis=1)
        trace.append(np.mean(dcg[idcg > 0] / idcg[idcg > 0]))
        rows = r.choice(len(test_ids), per_round, p=traffic_p)
        slots = order[rows, :10].copy()
        if explore:
            slots[:, 9] = order[rows, r.integers(10, 20, per_round)]
        got = world.simulate(test_ids[rows], np.take_along_axis(pool[rows], slots, axis=1), seed=int(r.integers(2**31)))
        w = 1 / propensity if weighting == "IPW" else np.ones(10)
        np.add.at(clicks, (rows[:, None], slots), got * w)
        np.add.at(views, (rows[:, None], slots), 1)
        ctr = clicks / np.maximum(views, 1) + 1e-6 * (20 - np.arange(20))   # ties: keep BM25 order
        order = np.argsort(-ctr, axis=1, kind="stable")
    return trace


loops = pd.DataFrame({f"{weighting}{' + exploration' if explore else ''}": feedback_loop(weighting, explore)
                      for weighting in ("naive", "IPW") for explore in (False, True)})
loops.index.name = "round"
final = loops.iloc[-1]
print("final NDCG@10:", final.round(3).to_dict())
loops.round(3).T

# %%
# Figure only: ranking quality over rounds of the click feedback loop.
fig, ax = plt.subplots(figsize=(8, 4))
for name, style in zip(loops.columns, ["o-", "o--", "s-", "s--"], strict=True):
    ax.plot(loops.index, loops[name], style, label=name)
ax.set(xlabel="round (one simulated week of traffic each)", ylabel="NDCG@10 on test queries",
       title="Each switch helps on its own; exploration helps with either weighting")
ax.legend()
plt.show()

# %% [markdown]
# Compare the four lines one switch at a time: the weighting (solid against solid, dashed against
# dashed) and exploration (each solid line against its dashed partner). This is one run at one
# seed, without intervals: the claims tier re-runs it at seeds 1–3, and the scorecard rows on it
# are directions, not sizes. Without exploration, a
# document that never reaches the first page can never earn a click, whatever the weights; with
# it, the loop keeps finding better documents.
#
# ### What to watch in production
#
# - **Guardrails** on every ranking change: latency p99, zero-result rate, abandonment (searches with
#   no click), reformulation rate, and clicks on position 1 (a jump often means a bug).
# - **New documents and queries** have no click history: features must not punish "no data"
#   (content features, exploration slots); track the share of traffic from unseen queries.
# - **Propensity drift**: re-estimate from the intervention slice every week; a redesign moves it.
# - **Retraining**: weekly, gated by NDCG on a judged sample and an interleaving test against the
#   live ranker.
# - **Clicks are not judgments**: on Baidu's real logs, debiasing improved click prediction but not
#   agreement with expert annotations (Hager et al. 2024); keep a judged sample as the offline gate.

# %% [markdown]
# ## Your turn
#
# Three numeric exercises, then two judgment questions of the kind an interviewer asks. Each code
# cell runs as is and says whether your answer is right; worked solutions are at the end.
#
# ### Exercise 1 · Is quality alone a ranker?
# Score the held-out candidates by document quality alone, ignoring the query. What NDCG@10 does
# that ranker reach? Store the number in `answer`, then compare it with BM25 alone in step 6.

# %% jupyter={"source_hidden": true} tags=["answer-key"]
# Answer key for the self-checks below, computed from the notebook's state (so it follows the
# knobs). Collapsed so that it does not spoil the exercises: try them first.
_key = {}
_key['Exercise 1'] = rank_metrics(test, test["quality"])[0]
_key['Exercise 2'] = 1 / propensity[4]
_key['Exercise 3'] = grids[STRENGTHS[-1]].loc[0.1, "mean NDCG@10"] - grids[STRENGTHS[-1]].loc[0.0, "mean NDCG@10"]

# %%
answer = TODO  # your NDCG@10 on the held-out candidates, a number between 0 and 1
ok = check_answer("Exercise 1", answer, _key['Exercise 1'], rel_tol=1e-4,
                  hint="the ranking metric helper of step 4 takes any score per row; which frame holds the held-out queries?")

# %% [markdown]
# ### Exercise 2 · What is a deep click worth?
# A click at position 5 is worth how many clicks at position 1 in the IPW labels? Use the
# *estimated* shuffle propensities of step 3, not the planted curve. Store the number in `answer`.

# %%
answer = TODO  # a number, about how many position-1 clicks one position-5 click counts for
ok = check_answer("Exercise 2", answer, _key['Exercise 2'], rel_tol=1e-4,
                  hint="IPW weights a click by one over the propensity of its position; mind which index is position 5.")

# %% [markdown]
# ### Exercise 3 · Clip the propensities?
# At the steepest position bias of the floor grid, what does a floor of `0.1` change in the mean
# NDCG@10 over the four logs, against no floor? Store the signed change (with the floor minus
# without) in `answer`.

# %%
answer = TODO  # a signed change in NDCG@10, with the floor minus without
ok = check_answer("Exercise 3", answer, _key['Exercise 3'], abs_tol=5e-4, rel_tol=0.0,
                  hint="the grid of step 6 holds both numbers; which column is the steep bias?")

# %% [markdown]
# ### Exercise 4 (judgment) · Which metric goes on the A/B dashboard?
# Interleaving says users prefer a new ranker. You now run the confirming A/B test. Which metric is
# the decision metric on its dashboard: success rate, clicks per search, or NDCG on a judged sample?
# Which do you show beside it as guardrails? Defend the choice in three or four sentences.
#
# ### Exercise 5 (judgment) · The latency budget halves: what changes?
# The interviewer says retrieval plus re-ranking must now fit in `10` ms at p99, at the same peak
# QPS. What do you change in the design of step 7, in what order, and what do you measure to know
# you have not lost ranking quality?

# %% [markdown]
# ## Scorecard
#
# Every claim the notebook made, recomputed from the values above.

# %% tags=["scorecard"]
from utils.scorecard import build, enforce

rows = [
    ("every LambdaMART model beats BM25 alone (NDCG@10, worst model)", ndcg.iloc[1:].min(),
     f"> {ndcg['BM25 alone']:.3f}", ndcg.iloc[1:].min() > ndcg["BM25 alone"]),
    (f"IPW minus naive NDCG@10, 4 logs: lower end of {gain_mean:.3f} +/- {gain_half:.3f}", gain_mean - gain_half,
     "> 0", gain_mean - gain_half > 0),
    ("unbiased LambdaMART minus the same per-page data without position (NDCG@10)",
     ndcg["unbiased LambdaMART"] - ndcg["per-page clicks"], "> 0", ndcg["unbiased LambdaMART"] > ndcg["per-page clicks"]),
    ("on the same 30,000 pages, IPW (aggregated) minus naive (NDCG@10)",
     ndcg["IPW, same pages"] - ndcg["naive, same pages"], "> 0", ndcg["IPW, same pages"] > ndcg["naive, same pages"]),
    ("pure position-based users: shuffle recovers the planted curve (max abs. error)",
     error["shuffle, pure position-based users"], "<= 0.05", error["shuffle, pure position-based users"] <= 0.05),
    ("trust bias + cascade: the same estimator misses the planted curve (max abs. error)",
     error["shuffle top 10"], "> 0.05", error["shuffle top 10"] > 0.05),
    (f"retrieval + re-rank within the {BUDGET_MS} ms budget (CPU p50 per query, best of 5 repeats; ms in step 7)",
     latency.p50 <= BUDGET_MS, "True", latency.p50 <= BUDGET_MS, f"CPU p50 {latency.p50:.1f} ms is over the {BUDGET_MS} ms budget"),
    ("feedback loop without exploration: IPW beats naive (final NDCG@10)", final["IPW"],
     f"> {final['naive']:.3f}", final["IPW"] > final["naive"]),
    ("exploration helps with either weighting (smallest gain in final NDCG@10)",
     min(final["IPW + exploration"] - final["IPW"], final["naive + exploration"] - final["naive"]), "> 0",
     min(final["IPW + exploration"] - final["IPW"], final["naive + exploration"] - final["naive"]) > 0),
]
scorecard = build(rows)
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)

# %% [markdown]
# ## In 60 seconds
#
# "Search is two stages: BM25 from an inverted index pulls `100` candidates, and a LambdaMART
# re-ranker orders them by keyword match, quality, freshness and query intent, well inside a `20`
# ms budget, with a cache for head queries. Judged labels are the gold standard but scarce; clicks
# are plentiful but biased by position, trust and the logging ranker. I'd estimate the position
# propensities from a small intervention slice — swaps or shuffles — and weight clicks by one over
# them, or let unbiased LambdaMART learn them from raw logs. IPW closes part of the gap to judged
# labels only as long as users and judges like the same things: when users prefer what judges
# ignore, IPW ends level with naive clicks, as on Baidu's real logs, so I keep a judged sample as
# the offline gate — and decide whose judgment is the goal. Online I'd screen with team-draft
# interleaving, checking its credit rule, and confirm with an A/B on successful searches. And I'd
# keep exploration slots: without them the loop never learns about documents it never shows."

# %% [markdown]
# ## Solutions

# %%
answer = rank_metrics(test, test["quality"])[0]
ok = check_answer("Exercise 1", answer, rank_metrics(test, test["quality"])[0], rel_tol=1e-4)
print(f"quality alone: NDCG@10 = {answer:.3f}, BM25 alone on the same queries: {ndcg['BM25 alone']:.3f}")

# %%
answer = 1 / propensity[4]                                 # index 0 is position 1
ok = check_answer("Exercise 2", answer, 1 / propensity[4], rel_tol=1e-4)
print(f"one click at position 5 counts {answer:.3f} clicks at position 1")

# %%
steep = grids[STRENGTHS[-1]]["mean NDCG@10"]
answer = steep.loc[0.1] - steep.loc[0.0]
ok = check_answer("Exercise 3", answer, grids[STRENGTHS[-1]].loc[0.1, "mean NDCG@10"] - grids[STRENGTHS[-1]].loc[0.0, "mean NDCG@10"],
                  abs_tol=5e-4, rel_tol=0.0)
print(f"mean IPW NDCG@10 at bias {STRENGTHS[-1]:g}: floor 0.1 -> {steep.loc[0.1]:.3f}, no floor -> {steep.loc[0.0]:.3f} (change {answer:+.3f})")

# %% [markdown]
# ### Exercise 4 (judgment) · Which metric goes on the A/B dashboard?
#
# **Model answer:** The decision metric is the share of successful searches — the business metric
# of step 1 — fixed before the test and sized from the A/B column of the interleaving table (the
# exact searches needed for the pair's true gap). Clicks per search is tempting but is not the
# goal: a user who finds the answer at once and leaves clicks less than one who hunts (the
# cascade), so more clicks can mean more searching — in this world the better list still drew more
# clicks, but a ranking change that shortens the hunt would show as a loss.
# On a real search engine degraded on purpose, absolute usage metrics such as clicks did not
# reliably track retrieval quality, while interleaving did (Radlinski et al. 2008, arXiv search).
# NDCG on a judged sample is the offline gate, not an A/B metric: users never see the judges.
# Beside the decision metric go guardrails: latency p99, zero-result rate, abandonment,
# reformulation rate, and the position-1 click share (a jump there often means a bug).
#
# **Self-check:**
# - names *one* decision metric tied to the business goal (success, not raw clicks), fixed before the test;
# - explains why clicks per search is a weaker decision metric (more clicks can mean more hunting);
# - places judged NDCG offline and interleaving as the screen, the A/B test as the confirmation;
# - lists at least three guardrails, including latency and abandonment or reformulation;
# - sizes the test from the true-gap sample size rather than stopping when the chart looks good.
#
# ### Exercise 5 (judgment) · The latency budget halves: what changes?
#
# **Model answer:** First measure where the time goes — index lookup, feature assembly, model — on
# the traffic mix, p50 and p99, because the fix depends on it. Then, cheapest first: serve head queries
# from the cache (step 7 printed that the `100` most frequent queries serve 0.656 of next week's
# searches, so most requests never reach the ranker); cut the re-ranker's work — fewer candidates
# (say `50` instead of `100`) or fewer, shallower trees — and check each cut offline with NDCG@10 on the
# held-out queries; speed up retrieval with early termination (WAND-style) or a tiered index so a
# query stops scanning long posting lists; precompute document features. Only then add hardware
# (more replicas, sharding). Quality is watched with NDCG@10 on a judged sample and an interleaving
# test of the faster ranker against the current one; the p99 is checked in the benchmark under
# load, not on an idle laptop.
#
# **Self-check:**
# - measures before changing anything, and separates retrieval from re-ranking time;
# - uses the cache for the head of the Zipf-like traffic;
# - trades candidate count or model size against NDCG@10, and measures that trade offline;
# - names a retrieval speed-up (early termination, tiering, sharding) and knows it can cost recall;
# - checks quality with interleaving or a judged sample, and the p99 under realistic load.

# %% [markdown]
# *Navigation:* ← [10 · Fraud detection](10_case_fraud_detection.ipynb) · [Course map](00_course_map.ipynb) · [12 · Churn prediction](12_case_churn_prediction.ipynb) →
