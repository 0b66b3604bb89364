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
# - show that clicks are position-biased, estimate the bias from a randomised slice of traffic, and correct it with inverse propensity weighting;
# - compare rankers offline with NDCG@10 and MRR against graded relevance, and online with team-draft interleaving instead of an A/B test;
# - name the feedback loops of click-trained rankers and the guardrails that catch them.
#
# **15-minute path:** step 3 (*Click features inherit position bias*), step 6 (the offline table
# and *When does position bias matter?*), the online half of step 6 (*Team-draft interleaving vs an
# A/B test*), then *In 60 seconds*.
#
# Numbers in the text are for the default parameters (`SEED = 0`); numbers in `code font` are inputs we
# chose. With other settings, read the printed outputs.

# %% tags=["parameters"]
SEED = 0
N_DOCUMENTS = 8_000       # the searchable collection
N_QUERIES = 1_500         # distinct queries; their traffic follows a Zipf-like law
N_IMPRESSIONS = 300_000   # result pages in the click log (10 results each)
POSITION_BIAS = 1.0       # planted: P(examine rank r) = r ** -POSITION_BIAS
RANDOM_SHARE = 0.05       # share of traffic shown the top 10 in random order
TEST_SHARE = 0.3          # share of queries held out (never seen in training)
MIN_IMPRESSIONS = 20      # a query-document pair needs this many impressions to get a click label
BUDGET_MS = 20            # latency budget for retrieval + re-ranking, per query

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**31 - 1, "seed of the world and every model (LightGBM takes a 31-bit seed)"),
    Knob("N_DOCUMENTS", 8_000, 4_000, 16_000, "documents in the searchable collection"),
    Knob("N_QUERIES", 1_500, 800, 3_000, "distinct queries"),
    Knob("N_IMPRESSIONS", 300_000, 150_000, 600_000, "result pages in the click log"),
    Knob("POSITION_BIAS", 1.0, 0.0, 2.0, "planted exponent: P(examine rank r) = r ** -POSITION_BIAS"),
    Knob("RANDOM_SHARE", 0.05, 0.02, 0.2, "share of traffic shown the top 10 in random order"),
    Knob("TEST_SHARE", 0.3, 0.1, 0.5, "share of queries held out"),
    Knob("MIN_IMPRESSIONS", 20, 5, 50, "impressions a pair needs to get a click label"),
    Knob("BUDGET_MS", 20, 5, 100, "latency budget in ms (the scorecard compares the p50 with it)"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())   # ValueError names the knob, its value and its range
knob_table(KNOBS, globals())

# %%
import functools
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM threads sleep, not spin, on a busy machine
import sys

import ipywidgets as widgets
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import sparse

from utils import check_answer, use_course_style
from utils.checks import TODO
from utils.search import examination_curve, make_search_world
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
# user finds what they came for (a click on a result that satisfies them, a booking, a purchase) and
# does not reformulate or abandon. Before any model, pin down the numbers that shape the design:
# how big the collection is, how concentrated the traffic is, and how many milliseconds we may spend.
#
# The world below is synthetic with known ground truth: every query–document pair has a true
# relevance grade 0–4 (what a careful judge would say), and users click according to a planted
# position-biased click model — so we can score every choice against the truth.
#
# One modelling choice drives this notebook, so here it is upfront: the **production ranker that
# wrote the click logs orders its page by keyword match plus "authority" — old pages higher — while
# true relevance rewards fresh pages**. Position bias on its own mostly blurs click data; combined
# with a logging ranker whose order disagrees with relevance, it teaches a click-trained model the
# wrong thing. Step 6 measures both cases.

# %%
world = make_search_world(
    seed=SEED, n_documents=N_DOCUMENTS, n_queries=N_QUERIES, n_impressions=N_IMPRESSIONS,
    position_bias=POSITION_BIAS, random_share=RANDOM_SHARE,
)
docs, queries, log = world.documents, world.queries, world.clicks
traffic = np.sort(queries["frequency"].to_numpy())[::-1]
head_share = traffic[: len(traffic) // 20].sum()           # top 5 % of distinct queries
searches_per_day = 5_000_000                                # assumption for sizing
peak_qps = 3 * searches_per_day / 86_400                    # peak about 3x the daily average
print(f"documents: {len(docs):,} | distinct queries: {len(queries):,} | result pages logged: {N_IMPRESSIONS:,}")
print(f"traffic share of the top 5% of queries: {head_share:.3f}")
print(f"assumed searches/day: {searches_per_day:,} -> peak QPS about {peak_qps:,.0f}")
print(f"budget for retrieval + re-ranking: {BUDGET_MS} ms of a ~200 ms page")
queries.head(4)

# %% [markdown]
# The query stream is heavy-tailed: a small head of queries carries a large share of traffic (the
# printed share, 0.621 for the top 5 %), which matters twice — head queries have plenty of clicks to
# learn from and are worth caching, while the long tail has almost none. A peak of about 174 queries
# per second with a `20` ms budget means retrieval cannot score all documents with a model: it must be a cheap
# index lookup, and only the top `100` get the expensive re-ranker.
#
# > **Say it in the interview:** "I'd optimise successful sessions — a satisfying click without a
# > reformulation — and guard latency: a `20` ms budget for retrieval plus re-ranking at peak QPS."

# %% [markdown]
# ## 2. Frame it as an ML problem
#
# This is **learning to rank**: for a query, order the candidate documents so the most relevant are
# on top. The model scores each (query, document) pair; the loss looks at the order within a query
# (LambdaMART weights each pairwise swap by how much it would change NDCG). Where do labels come from?
#
# - **Human judges** grade pairs 0–4. Good labels, but scarce and costly (a few cents to a dollar
#   each), so only a sample of queries gets them.
# - **Clicks** are free and plentiful, but they are a *biased* proxy: users click what they see,
#   and they see the top of the page.
#
# The log below shows both sides: clicks do rise with the true grade — but look at the position.

# %%
shown = log[~log["randomised"]]
by_grade = shown.groupby("true_grade")["clicked"].mean()
by_position = shown.groupby("position")["clicked"].mean()
age_by_position = docs["age_days"].to_numpy()[shown["doc_id"]]
age_by_position = pd.Series(age_by_position).groupby(shown["position"].to_numpy()).mean()
print("click-through rate by true grade (0-4):", by_grade.round(3).tolist())
print("click-through rate by position (1-10): ", by_position.round(3).tolist())
print("mean page age in days by position (1-10):", age_by_position.round(0).astype(int).tolist())
log.head(3)

# %% [markdown]
# Clicks carry signal (the click-through rate climbs steeply with the true grade, from 0.016 at
# grade 0 to 0.293 at grade 4), but it also falls steeply with the position (0.242 at position 1,
# about an eighth of that at position 10). Is that because the production ranker puts better results
# on top, or just because users look at the top? From the production log alone we cannot tell the
# two apart; that is the whole problem of this notebook. The third line (from the document table,
# not from clicks) shows what the old ranker promotes: pages shown first are older (163 days on
# average at position 1 against 22 at position 10) — the opposite of what relevance rewards.
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
# Every query is now scored against the index, and the top `100` documents per query become the
# candidates the re-ranker will order. Each candidate gets features known at query time:
#
# - **keyword match**: BM25, BM25 relative to the query's best match, and how many query terms the
#   document contains;
# - **document**: quality score, freshness (decays with age), length;
# - **query**: number of terms and intent (informational, navigational, fresh — from a query
#   classifier).
#
# The ground-truth `grade` is attached for evaluation only; it is never a feature.

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
print("share of candidates per true grade 0-4:", (candidates["grade"].value_counts(normalize=True).sort_index()).round(3).tolist())
print(f"share of candidates with grade 2 or more: {(candidates['grade'] >= 2).mean():.3f}")
candidates.head(3)

# %% [markdown]
# BM25 finds the neighbourhood — grades 2 to 4 make up 0.391 of the candidates — but it knows nothing of quality or freshness; that is the re-ranker's job.
#
# ### Click features inherit position bias
#
# The obvious feature is historical click-through of the pair. But a click needs an *examination*
# first, and users examine the top more. The randomised slice of traffic (the top 10 shown in a
# random order to a small share of searches) breaks the link between position and relevance: there,
# every position gets the same mix of documents, so the click-through rate by position is
# proportional to the examination probability. Dividing by the rate at position 1 estimates it.

# %%
TRAIN_DAYS = 21                                             # logs from days 0-20 train; days 21-27 are "the future"
past = log[log["day"] < TRAIN_DAYS]
randomised_ctr = past[past["randomised"]].groupby("position")["clicked"].mean()
propensity = (randomised_ctr / randomised_ctr.iloc[0]).to_numpy()   # estimated P(examine | position)
production_ctr = past[~past["randomised"]].groupby("position")["clicked"].mean()
planted = world.examination                                  # ground truth, for checking only
bias_error = np.abs(propensity - planted).max()
EXAM_TOLERANCE = 0.05
print(f"randomised impressions used: {past['randomised'].sum() // 10:,}")
print("estimated examination:", propensity.round(3).tolist())
print("planted examination:  ", planted.round(3).tolist())
print(f"largest absolute error: {bias_error:.3f} (tolerance {EXAM_TOLERANCE}; the scorecard checks it)")

# %%
# Figure only: click-through by position, production vs randomised traffic.
positions = np.arange(1, 11)
fig, ax = plt.subplots(figsize=(8, 4))
ax.plot(positions, production_ctr / production_ctr.iloc[0], "o-", label="production order (relevance + attention)")
ax.plot(positions, propensity, "s-", label="randomised order: estimated examination")
ax.plot(positions, planted, "k--", label="planted examination (ground truth)")
ax.set(xlabel="position on the page", ylabel="click-through rate relative to position 1",
       title="Attention alone halves clicks by position 2; the randomised slice measures it", xticks=positions)
ax.legend()
plt.show()


# %% [markdown]
# The estimated examination curve sits on the planted one (the largest error, 0.011, is well inside
# the 0.05 tolerance). The production curve looks much like attention alone: the old ranker's order
# adds little relevance on top, yet from the production log alone you could not tell whether its
# top results are clicked because they are good or because they are on top. A historical-CTR
# feature would carry that mixture into the model. Real systems do use a *debiased* click-through
# feature for head queries; here we keep clicks out of the features and use them only as *labels*,
# corrected below, so that the three models differ in one thing.
#
# > **Say it in the interview:** "I'd spend a small slice of traffic — a few percent — on randomised
# > top-10 order. It costs a little relevance and buys an unbiased estimate of position bias."

# %% [markdown]
# ## 4. Model
#
# Start with the baseline every search system already has: **BM25 alone**. We score rankings with
#
# - **NDCG@10**: graded gain (2^grade − 1) discounted by log2 of the position, divided by the best
#   possible ordering of the same 100 candidates (1.0 = perfect);
# - **MRR**: 1 / rank of the first result with grade 3 or more.

# %%
def rank_metrics(frame, scores, k=10):
    # Mean NDCG@k and MRR (first result with grade >= 3) over the queries in `frame`.
    ranked = frame[["query_id", "grade"]].assign(score=scores)
    ranked = ranked.sort_values(["query_id", "score"], ascending=[True, False], kind="stable")
    position = ranked.groupby("query_id").cumcount()
    gain = (2.0 ** ranked["grade"] - 1) / np.log2(position + 2)
    dcg = gain.where(position < k, 0).groupby(ranked["query_id"]).sum()
    ideal = ranked.sort_values(["query_id", "grade"], ascending=[True, False], kind="stable")
    ideal_gain = (2.0 ** ideal["grade"] - 1) / np.log2(ideal.groupby("query_id").cumcount() + 2)
    idcg = ideal_gain.where(ideal.groupby("query_id").cumcount() < k, 0).groupby(ideal["query_id"]).sum()
    good = ranked["grade"] >= 3
    first_good = (position[good] + 1).groupby(ranked["query_id"][good]).min()
    return float((dcg[idcg > 0] / idcg[idcg > 0]).mean()), float((1 / first_good).mean())


bm25_ndcg, bm25_mrr = rank_metrics(candidates, candidates["bm25"])
print(f"BM25 alone, all queries: NDCG@10 = {bm25_ndcg:.3f}, MRR = {bm25_mrr:.3f}")

# %% [markdown]
# BM25 alone leaves most of the gain on the table (NDCG@10 of 0.301 over all queries, where 1.0 is
# the best order): it ranks keyword-stuffed, stale and low-quality pages as high as good ones. The next rung is **LambdaMART**
# (gradient-boosted trees with a listwise ranking loss; LightGBM's `lambdarank`) on the features
# above, trained three ways that differ *only in the label*:
#
# 1. **judged**: the true grade 0–4 of each pair (what paid judges would give — our reference);
# 2. **naive clicks**: the pair's click-through rate in the production log;
# 3. **debiased clicks** (inverse propensity weighting, IPW): each click counts 1 / P(examine | its
#    position), so a click at position 8 counts about 8× a click at position 1; the pair's label is
#    the weighted clicks per impression, an unbiased estimate of its click-worthiness had it been seen.
#
# Why would raw clicks mislead? A pair's click rate is P(examine | its position) × P(click | examined,
# relevance). If the position a document gets were unrelated to its features, the first factor would
# be the same for every document, and raw click rates would rank documents just as well (only
# noisier); if the old ranker ordered by true relevance, they would exaggerate differences but keep
# the order. The harm comes from the *logging policy*: here old pages sit higher, so they collect
# clicks for their slot, and a model fit to raw click rates learns "old is good" — the old ranking back.
#
# **How the weights enter LambdaMART.** Here they enter through the *label*: clicks are weighted and
# summed per pair first, and LightGBM's `lambdarank` sees the pair's debiased click rate as its graded
# relevance, so its pairwise lambdas compare debiased rates. (The per-click alternative, unbiased
# learning to rank, multiplies each clicked document's loss term by 1 / propensity; with many
# impressions per pair, aggregating first is simpler and has lower variance.) The rate is capped at 1,
# which caps what a lucky deep click can add; the propensities themselves are not clipped here
# (Exercise 4 tries a floor). LightGBM wants integer labels, so rates are scaled to 0–20 and rounded,
# with a gain that is linear in the label.

# %%
CLICK_LEVELS = 20
LGB_PARAMS = dict(objective="lambdarank", learning_rate=0.05, num_leaves=15, min_data_in_leaf=20,
                  deterministic=True, force_row_wise=True, num_threads=2, seed=SEED, verbose=-1)


def train_ranker(frame, label, rounds=100):
    # LambdaMART on FEATURES; frame sorted by query_id; label = int grades or click levels.
    params = dict(LGB_PARAMS)
    if label.max() > 4:                                    # click levels: linear gain 0..20
        params["label_gain"] = list(range(CLICK_LEVELS + 1))
    groups = frame.groupby("query_id", sort=True).size().to_numpy()
    data = lgb.Dataset(frame[FEATURES].to_numpy(), label, group=groups, free_raw_data=False)
    return lgb.train(params, data, num_boost_round=rounds)


def click_labels(click_log, examination):
    # Per (query, doc): impressions, naive CTR and IPW CTR, both as 0..20 integer levels.
    weighted = click_log["clicked"] / examination[click_log["position"].to_numpy() - 1]
    pairs = click_log.assign(weighted=weighted).groupby(["query_id", "doc_id"]).agg(
        impressions=("clicked", "size"), clicks=("clicked", "sum"), weighted=("weighted", "sum")).reset_index()
    pairs["naive"] = np.round(CLICK_LEVELS * pairs["clicks"] / pairs["impressions"]).astype(int)
    pairs["ipw"] = np.round(CLICK_LEVELS * (pairs["weighted"] / pairs["impressions"]).clip(0, 1)).astype(int)
    return pairs


# %% [markdown]
# ## 5. Training
#
# Two splits matter in search:
#
# - **by query**: 30 % of the queries are held out entirely. Rows of the same query on both sides
#   would let the model memorise per-query quirks and flatter the test score.
# - **by time** for the logs: click labels come only from days 0–20, the propensities likewise; the
#   last week stands for "after the model shipped".
#
# Pairs need at least `MIN_IMPRESSIONS` impressions before their click rate means anything; the
# judged model is trained on exactly the same pairs, so only the label differs.

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
print(f"train: {train['query_id'].nunique()} queries, {len(train):,} labelled pairs | "
      f"test: {test['query_id'].nunique()} queries, {len(test):,} candidate pairs")
train[["query_id", "doc_id", "impressions", "clicks", "naive", "ipw", "grade"]].head(4)

# %%
models = {
    "judged grades": train_ranker(train, train["grade"].to_numpy()),
    "naive clicks": train_ranker(train, train["naive"].to_numpy()),
    "debiased clicks (IPW)": train_ranker(train, train["ipw"].to_numpy()),
}
importance = pd.DataFrame({name: m.feature_importance("gain") for name, m in models.items()}, index=FEATURES)
(importance / importance.sum()).round(3)

# %% [markdown]
# The table is each model's share of split gain per feature. The naive-click model all but ignores
# freshness (0.053 against the judged model's 0.262) and leans harder on keyword match: the old
# ranker orders its page by keyword match and "authority" (old pages up), and position-inflated
# clicks taught the naive model to reproduce that order. The IPW model's shares sit close to the
# judged model's.

# %% [markdown]
# ## 6. Evaluation
#
# ### Offline: NDCG@10 and MRR on held-out queries
#
# Each model re-ranks the 100 BM25 candidates of every test query; the truth is the graded relevance.

# %%
results = {"BM25 alone": rank_metrics(test, test["bm25"])}
for name, model in models.items():
    results[name] = rank_metrics(test, model.predict(test[FEATURES].to_numpy()))
offline = pd.DataFrame(results, index=["NDCG@10", "MRR"]).T
offline["NDCG vs judged"] = offline["NDCG@10"] / offline.loc["judged grades", "NDCG@10"]
ndcg = offline["NDCG@10"]
offline.round(3)

# %%
# Figure only: NDCG@10 per model on the held-out queries.
fig, ax = plt.subplots(figsize=(8, 4))
colors = ["#999999", "#2b7bba", "#d95f02", "#1b9e77"]
ax.barh(offline.index[::-1], offline["NDCG@10"][::-1], color=colors[::-1])
for y, value in enumerate(offline["NDCG@10"][::-1]):
    ax.text(value + 0.005, y, f"{value:.3f}", va="center")
ax.axvline(0.9 * ndcg["judged grades"], color="k", ls=":", label="0.9 x judged model")
ax.set(xlabel="NDCG@10 on held-out queries (1.0 = best order of the 100 candidates)", xlim=(0, 1),
       title="Debiased clicks recover most of what judged labels give; raw clicks fall short")
ax.legend(loc="upper right")
plt.show()

# %% [markdown]
# Read the table top to bottom. Every LambdaMART model beats BM25 (0.309) by a wide margin, since
# quality and freshness matter and BM25 ignores them. Among the three, the naive-click model is the
# weakest (0.662); the IPW model reaches 0.820, 0.997 of the judged model — labels that cost nothing
# but a randomised slice of traffic, and a division.
#
# > **Say it in the interview:** "Clicks are examination times attractiveness. I'd estimate examination
# > per position from a small randomised slice, weight each click by one over it, and check offline
# > against a judged sample that the debiased model closes the gap."
#
# ### Explore: when does position bias matter?
#
# Two things set the gap between the naive and the debiased model: how steeply attention falls with
# position, and whether the old ranker's order is confounded with a feature (authority) or follows
# keyword match alone. `bias_experiment` runs the whole pipeline for one setting — a new click log
# from the same world, propensities re-estimated from its randomised slice, both click models
# retrained, scored on the same held-out queries. It is kept small enough to recompute on every move
# of the widget (`60,000` result pages, pairs with at least half of `MIN_IMPRESSIONS` impressions,
# `40` trees; results are cached), so
# at strength 1 its numbers differ a little from the full models above.

# %%
OLD_RANKERS = {"authority (old pages up)": 1.0, "keyword match only": 0.0}   # weight of the authority term


@functools.lru_cache(maxsize=64)
def click_models(strength, old_ranker="authority (old pages up)", propensity_floor=0.0, replicate=0):
    # Naive and IPW LambdaMART trained on a fresh log (seeded by `replicate`) with the given bias and logging ranker.
    new_log = world.click_log(60_000, position_bias=strength, seed=SEED + 1 + 10 * replicate,
                              authority_weight=OLD_RANKERS[old_ranker])
    new_log = new_log[(new_log["day"] < TRAIN_DAYS) & ~is_test[new_log["query_id"]]]
    rand = new_log[new_log["randomised"]].groupby("position")["clicked"].mean()
    estimate = np.maximum((rand / rand.iloc[0]).to_numpy(), propensity_floor)
    pairs = click_labels(new_log[~new_log["randomised"]], estimate)
    pairs = candidates[~test_mask].merge(pairs[pairs["impressions"] >= MIN_IMPRESSIONS // 2], on=["query_id", "doc_id"])
    return {name: train_ranker(pairs, pairs[name].to_numpy(), rounds=40) for name in ("naive", "ipw")}


def bias_experiment(strength, old_ranker="authority (old pages up)", propensity_floor=0.0, replicate=0):
    # One row: NDCG@10 of the naive and the IPW model of `click_models` on the held-out queries.
    row = {"position bias": strength, "old ranker orders by": old_ranker, "examination at rank 10": examination_curve(strength)[-1]}
    for name, model in click_models(strength, old_ranker, propensity_floor, replicate).items():
        row[f"NDCG@10 {name}"] = rank_metrics(test, model.predict(test[FEATURES].to_numpy()))[0]
    row["gap (ipw - naive)"] = row["NDCG@10 ipw"] - row["NDCG@10 naive"]
    return row


# %%
def show_bias_gap(strength=1.0, old_ranker="authority (old pages up)"):
    # Print and plot naive vs debiased NDCG@10 for one setting (about 0.5 s the first time).
    row = bias_experiment(round(strength, 2), old_ranker)
    print(f"position bias {strength:.2f}, old ranker orders by {old_ranker}: "
          f"rank 10 is examined with probability {row['examination at rank 10']:.3f}")
    print(f"  NDCG@10: naive clicks {row['NDCG@10 naive']:.3f} | IPW clicks {row['NDCG@10 ipw']:.3f} | "
          f"gap {row['gap (ipw - naive)']:+.3f}")
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.barh(["IPW clicks", "naive clicks"], [row["NDCG@10 ipw"], row["NDCG@10 naive"]], color=["#1b9e77", "#d95f02"])
    ax.set(xlim=(0, 1), xlabel="NDCG@10 on held-out queries (1.0 = best order)",
           title=f"Bias {strength:.2f}, old ranker by {old_ranker.split(' (')[0]}: "
                 f"debiasing gains {row['gap (ipw - naive)']:+.3f} NDCG@10")
    plt.show()


# %%
# NBVAL_IGNORE_OUTPUT
widgets.interact(show_bias_gap,
                 strength=widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.25, description="bias"),
                 old_ranker=widgets.Dropdown(options=list(OLD_RANKERS), description="old ranker"));

# %%
# Static fallback: the same function at six settings, as a table.
SETTINGS = [(0.0, "authority (old pages up)"), (0.5, "authority (old pages up)"), (1.0, "authority (old pages up)"),
            (2.0, "authority (old pages up)"), (1.0, "keyword match only"), (2.0, "keyword match only")]
bias_sweep = pd.DataFrame([bias_experiment(*setting) for setting in SETTINGS]).set_index(["old ranker orders by", "position bias"])
gap = bias_sweep["gap (ipw - naive)"]
bias_sweep.round(3)


# %% [markdown]
# With no position bias (strength 0) the two labels nearly coincide, and so do the models (gap
# 0.002). With the authority-ordered old ranker, the naive model degrades as attention falls more
# steeply — raw click rates say more about *where* a document was shown than about the document.
# Up to strength 1 the IPW model holds on: the gap is 0.165 at strength 1. At strength 2 the IPW model loses
# ground too (NDCG@10 0.644, against 0.788 at strength 1), and rank 10 is examined with probability 0.01.
#
# Now switch the old ranker to keyword match only. The same strength-1 bias costs the naive model
# just 0.007: position bias without a confounded logging policy blurs click data, but does not point
# it the wrong way. The damage needs both.
#
# One click log is one draw. How much of this survives a different draw? The next cell repeats the
# authority rows at strengths 1 and 2 with four click logs (replicate seeds 0–3: fresh logs, fresh
# propensity estimates, fresh models; the world and the test queries stay the same).
#
# **Predict, then run:** at strength 2, will IPW's gain over naive be about as steady across the four
# logs as at strength 1, or will it swing? Decide before you look, and say why: think of what IPW
# does with a click at a rank that is almost never examined.

# %%
REPLICATES = range(4)
AUTHORITY = "authority (old pages up)"
replicated = pd.DataFrame({
    f"gap at strength {strength:g}": [bias_experiment(strength, AUTHORITY, replicate=r)["gap (ipw - naive)"] for r in REPLICATES]
    for strength in (1.0, 2.0)
}, index=pd.Index(REPLICATES, name="replicate seed"))
gap_range = replicated.agg(["min", "max"])
gap_spread = gap_range.loc["max"] - gap_range.loc["min"]
print("IPW gain over naive (NDCG@10), authority-ordered old ranker, per click log:")
print(replicated.round(3).to_string())
print("range (min, max) over the four logs:", {c: gap_range[c].round(3).tolist() for c in gap_range})
print("spread (max - min):", gap_spread.round(3).to_dict())

# %% [markdown]
# At strength 1 IPW beat naive in every log (gains from 0.139 to 0.176, a spread of 0.037). At
# strength 2 the gains spread wider (0.106 to 0.172, a spread of 0.066), and the IPW model's own NDCG@10
# has already dropped (table above). The reason is the weights: rank 10 is examined with probability
# 0.01 at strength 2, so IPW counts each click there about 100 times, and a handful of deep clicks
# decide the labels of a log — which deep clicks happen to occur differs from log to log. That is
# the price of IPW: it removes the bias and pays in variance. Other values of `SEED` tell the same story with different
# numbers: in some worlds one strength-2 log leaves IPW barely better than naive, while the strength-1
# gain stays large. So read the strength-2 row as one draw of a noisy quantity — the variance of IPW
# where propensities are tiny, and the reason production systems clip them (Exercise 4 tries a floor).
#
# > **Failure mode:** propensities estimated once and never again. A redesign of the results page
# > (bigger snippets, an ad block on top) changes examination overnight; keep the randomised slice
# > running and re-estimate.

# %% [markdown]
# ### Online: team-draft interleaving vs an A/B test
#
# Offline NDCG needs judged labels; online tests use real users. Suppose we want to ship the IPW
# model in place of the naive one. Two designs:
#
# - **A/B test**: half the searches see ranker A, half see B; compare the share of successful
#   searches (at least one click), the business metric of step 1.
# - **Team-draft interleaving**: every search sees *one* merged list. A coin decides which ranker
#   picks first; then they take turns, each adding its best document not yet on the list. A click
#   credits the ranker that contributed the clicked document; the ranker with more credited clicks
#   wins that search. Both rankers face the same user and query, so most of the noise cancels.
#
# The simulator from the world plays users with the planted click model; the *true* success rate and
# clicks per search of each ranker are computed exactly from the ground truth.

# %%
def top_lists(scores, depth=20):
    # (n_queries, depth) doc ids of each query's top documents by `scores` (-1 where fewer).
    ranked = test[["query_id", "doc_id"]].assign(score=scores).sort_values(
        ["query_id", "score"], ascending=[True, False], kind="stable")
    ranked["slot"] = ranked.groupby("query_id").cumcount()
    ranked = ranked[ranked["slot"] < depth]
    lists = np.full((len(queries), depth), -1)
    lists[ranked["query_id"], ranked["slot"]] = ranked["doc_id"]
    return lists


ranker_a = top_lists(models["debiased clicks (IPW)"].predict(test[FEATURES].to_numpy()))
ranker_b = top_lists(models["naive clicks"].predict(test[FEATURES].to_numpy()))
test_ids = np.unique(test["query_id"])
traffic_p = queries["frequency"].to_numpy()[test_ids] / queries["frequency"].to_numpy()[test_ids].sum()


def true_outcomes(lists):
    # Exact P(at least one click) and expected clicks per search, from the planted click model.
    top = lists[test_ids, :10]
    grades = world.relevance(np.repeat(test_ids[:, None], 10, axis=1), np.maximum(top, 0))
    p_click = world.examination * world.click_given_grade[grades] * (top >= 0)
    return float((1 - np.prod(1 - p_click, axis=1)) @ traffic_p), float(p_click.sum(axis=1) @ traffic_p)


(success_a, clicks_a_true), (success_b, clicks_b_true) = true_outcomes(ranker_a), true_outcomes(ranker_b)
print(f"true share of successful searches (>= 1 click): A (IPW) {success_a:.3f}, B (naive) {success_b:.3f}")
print(f"true clicks per search:                         A (IPW) {clicks_a_true:.3f}, B (naive) {clicks_b_true:.3f}")


# %%
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


N_SIM = 40_000


def run_online(list_a, list_b, seed=SEED):
    # N_SIM simulated searches per design: per-search interleaving preference, and each A/B arm's outcomes.
    sim_queries = world.sample_queries(N_SIM, seed=seed + 2, query_ids=test_ids)
    merged, team = team_draft(list_a[sim_queries], list_b[sim_queries], np.random.default_rng(seed))
    clicks = world.simulate(sim_queries, merged, seed=seed + 3)
    preference = np.sign((clicks * team).sum(axis=1))      # +1 A wins, -1 B wins, 0 tie
    arm_a = world.simulate(sim_queries, list_a[sim_queries, :10], seed=seed + 4)
    arm_b = world.simulate(sim_queries, list_b[sim_queries, :10], seed=seed + 5)
    return {
        "team-draft interleaving": (preference.astype(float), None),
        "A/B: successful searches": (arm_a.any(axis=1).astype(float), arm_b.any(axis=1).astype(float)),
        "A/B: clicks per search": (arm_a.sum(axis=1).astype(float), arm_b.sum(axis=1).astype(float)),
    }


designs = run_online(ranker_a, ranker_b)
preference, (success_arm_a, success_arm_b) = designs["team-draft interleaving"][0], designs["A/B: successful searches"]
print(f"interleaving: A wins {np.mean(preference > 0):.3f}, B wins {np.mean(preference < 0):.3f}, ties {np.mean(preference == 0):.3f}")
print(f"A/B: successful searches A {success_arm_a.mean():.3f}, B {success_arm_b.mean():.3f}")

# %% [markdown]
# Both designs see the same direction. The question is how many searches each needs to *decide*.
# For a two-sided test at `5` % significance and `80` % power, n = (`1.96` + `0.84`)² × variance / difference².
# Interleaving is a one-sample test: is the mean per-search preference (`+1`, `0`, `-1`) different from
# zero? The A/B test compares two independent arms, each carrying the full search-to-search noise;
# its row below is the total over both arms. We then check each sample size by replaying `200`
# experiments of that size, resampled from the simulated searches.
#
# **Predict, then run:** the IPW ranker wins on success rate by the margin printed above.
# How many times more searches will the A/B test need than interleaving to detect it: about the
# same, twice, ten times?

# %%
Z = 1.96 + 0.84                                            # z for alpha = 0.05 two-sided, plus z for 80 % power


def searches_needed(a, b=None):
    # Normal approximation: one-sample (interleaving) or two-arm total (A/B).
    if b is None:
        return int(np.ceil(Z**2 * a.var() / a.mean() ** 2))
    return 2 * int(np.ceil(Z**2 * (a.var() + b.var()) / (a.mean() - b.mean()) ** 2))


def detection_rate(a, b, n, reps=200, seed=SEED):
    # Share of `reps` replayed experiments of n searches that find A better (z-test, 5 %).
    r = np.random.default_rng(seed)
    if b is None:
        draws = a[r.integers(0, len(a), (reps, n))]
        z = draws.mean(axis=1) / (draws.std(axis=1) / np.sqrt(n))
    else:
        x, y = a[r.integers(0, len(a), (reps, n // 2))], b[r.integers(0, len(b), (reps, n // 2))]
        z = (x.mean(axis=1) - y.mean(axis=1)) / np.sqrt((x.var(axis=1) + y.var(axis=1)) / (n // 2))
    return float(np.mean(z > 1.96))


online = pd.DataFrame({name: {"searches needed": searches_needed(*pair)} for name, pair in designs.items()}).T
online["replayed detection rate"] = [detection_rate(*designs[name], n) for name, n in online["searches needed"].items()]
n_interleaving, n_ab = online["searches needed"].iloc[0], online["searches needed"].iloc[1]
print(f"A/B on successful searches needs {n_ab / n_interleaving:.1f}x the searches of interleaving")
online.round(3)

# %% [markdown]
# Against the business metric (the share of successful searches), interleaving reaches the decision
# with fewer searches: 147 against 594 here (4.0x), for the same true difference (success rates
# 0.957 against 0.895), and the replayed experiments land
# near the planned `80` % detection rate. The reason: an A/B test compares different users on
# different queries, so the difference between arms is buried in search-to-search variation;
# interleaving asks the *same* user on the *same* query to choose, so that variation cancels.
#
# How many times fewer is not a constant: it depends on how far apart the two rankers are and on
# the users' noise. The next cell repeats the whole comparison with the four pairs of smaller click
# models from the replication above (naive vs IPW, strength 1, replicate seeds 0–3).

# %%
online_reps = []
for r in REPLICATES:
    pair = click_models(1.0, AUTHORITY, replicate=r)
    lists = [top_lists(pair[name].predict(test[FEATURES].to_numpy())) for name in ("ipw", "naive")]
    needed = {name: searches_needed(*d) for name, d in run_online(*lists, seed=SEED + 100 * (r + 1)).items()}
    online_reps.append(needed)
online_reps = pd.DataFrame(online_reps, index=pd.Index(REPLICATES, name="replicate seed"))
online_reps["A/B success / interleaving"] = online_reps["A/B: successful searches"] / online_reps["team-draft interleaving"]
ratio_range = online_reps["A/B success / interleaving"].agg(["min", "max"]).round(1).tolist()
interleaving_wins = int((online_reps["team-draft interleaving"] < online_reps["A/B: successful searches"]).sum())
clicks_beat_success = int((online_reps["A/B: clicks per search"] < online_reps["A/B: successful searches"]).sum())
print(f"interleaving needs fewer searches than A/B on success in {interleaving_wins} of {len(online_reps)} replicates; "
      f"ratio from {ratio_range[0]}x to {ratio_range[1]}x")
print(f"A/B on clicks per search needs fewer searches than A/B on success in {clicks_beat_success} of {len(online_reps)}")
online_reps.round(1)

# %% [markdown]
# The direction is what carries over: interleaving needed fewer searches than the A/B test on
# success in every replicate, by a factor from 3.4x to 3.7x here. The factor itself belongs to a pair
# of rankers in a world, not to interleaving: a different click log moves it, and a different `SEED`
# (a different world) can move it further — rerun with another seed and compare the printed range.
# So say "several times fewer searches, for this pair of rankers", never a fixed factor.
#
# Two caveats. The two rankers here differ a lot; real candidates differ by a fraction of a point,
# and since both sample sizes grow with 1 / difference², real tests need thousands to millions of
# searches, and the ratio between the two methods moves too (Chapelle et al. 2012, on two
# commercial search engines, found interleaving far more sensitive than absolute click metrics).
# And the third row is not a fair win for A/B: clicks per search needed fewer searches than the
# success rate in the replicates printed above, but that depends on the rankers and the world, and
# where it holds it is only because every simulated user clicks alike. Real users differ a lot (a few click everything), which inflates an A/B test's
# variance on clicks but cancels inside an interleaved list.
#
# > **Say it in the interview:** "I'd screen ranker candidates with team-draft interleaving — it needs
# > a fraction of the traffic — and confirm the winner in an A/B test on the business metric, since
# > interleaving tells you which ranker users prefer, not by how much sessions improve."

# %% [markdown]
# ## 7. Serving
#
# At query time: look up the query's terms in the inverted index, sum their posting rows, take the
# top 100, compute the features, and score them with the LambdaMART model (single-threaded — at
# hundreds of queries per second, parallelism comes from serving many queries at once).

# %%
term_lookup = pd.Series(np.arange(len(vocabulary)), index=vocabulary)
serving_model = models["debiased clicks (IPW)"]
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
# The cell times retrieval plus re-ranking over `400` queries drawn from the real traffic mix, five
# times over. The scorecard compares only the median CPU time per query (best of the five repeats)
# with the `20` ms budget: a busy laptop barely moves it, while the wall-clock p99 printed beside it
# can jump several-fold when another program takes the CPU. The hard p99 bar lives in `make bench` (tests/benchmarks/bench_search.py),
# run on a quiet machine. The exact milliseconds vary by machine, so no number is quoted here.
# The index lookup is cheap because a query touches only a few posting lists; the re-ranker is cheap
# because it sees 100 documents, not 8,000.
#
# ### A cache for head queries
#
# Because traffic is heavy-tailed, caching the results of the most frequent queries absorbs a large
# share of the load. The cache is filled from the first three weeks' counts and measured on the last
# week's traffic.

# %%
impressions = log.drop_duplicates("impression_id")
history = impressions[impressions["day"] < TRAIN_DAYS]["query_id"].value_counts()
future_queries = impressions[impressions["day"] >= TRAIN_DAYS]["query_id"].to_numpy()
cache_sizes = [10, 50, 100, 200]
hit_rates = {size: float(np.isin(future_queries, history.index[:size]).mean()) for size in cache_sizes}
print("cache size (queries) -> hit rate on next week's traffic:", {k: round(v, 3) for k, v in hit_rates.items()})


# %% [markdown]
# Caching the results of the 100 most frequent of 1,500 distinct queries serves 0.656 of next
# week's searches. Cached results go stale when documents change, so in practice the
# cache entries expire after minutes and fresh-intent queries bypass it.
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
# With naive CTR the documents that happened to start on top keep their lead; IPW corrects for
# position but still never learns about documents below rank 10; a little exploration (one slot out
# of ten shows a random lower candidate) lets them surface.

# %%
def feedback_loop(weighting, explore, rounds=6, per_round=10_000, seed=SEED):
    # NDCG@10 on the test queries per round of "serve, log clicks, re-rank by estimated CTR".
    r = np.random.default_rng(seed)
    pool = top_lists(test["bm25"].to_numpy(), depth=20)[test_ids]
    grades = world.relevance(np.repeat(test_ids[:, None], 20, axis=1), np.maximum(pool, 0)) * (pool >= 0)
    ideal = np.sort(grades, axis=1)[:, ::-1][:, :10]
    discount = 1 / np.log2(np.arange(2, 12))
    clicks, views = np.zeros(pool.shape), np.zeros(pool.shape)
    order = np.tile(np.arange(20), (len(test_ids), 1))          # round 0: BM25 order
    trace = []
    for _ in range(rounds + 1):
        top = np.take_along_axis(grades, order[:, :10], axis=1)
        trace.append(np.mean(((2.0**top - 1) @ discount) / np.maximum((2.0**ideal - 1) @ discount, 1e-9)))
        rows = r.choice(len(test_ids), per_round, p=traffic_p)
        slots = order[rows, :10].copy()
        if explore:
            slots[:, 9] = order[rows, r.integers(10, 20, per_round)]
        shown = np.take_along_axis(pool[rows], slots, axis=1)
        got = world.simulate(test_ids[rows], shown, seed=int(r.integers(2**31)))
        w = 1 / propensity if weighting == "ipw" else np.ones(10)
        np.add.at(clicks, (rows[:, None], slots), got * w)
        np.add.at(views, (rows[:, None], slots), 1)
        ctr = clicks / np.maximum(views, 1) + 1e-6 * (20 - np.arange(20))   # ties: keep BM25 order
        order = np.argsort(-ctr, axis=1, kind="stable")
    return trace


loops = pd.DataFrame({
    "naive CTR": feedback_loop("naive", explore=False),
    "IPW CTR": feedback_loop("ipw", explore=False),
    "IPW CTR + exploration": feedback_loop("ipw", explore=True),
})
loops.index.name = "round"
loops.round(3).T

# %%
# Figure only: ranking quality over rounds of the click feedback loop.
fig, ax = plt.subplots(figsize=(8, 4))
for name, style in zip(loops.columns, ["o-", "s-", "^-"], strict=True):
    ax.plot(loops.index, loops[name], style, label=name)
ax.set(xlabel="round (one simulated week of traffic each)", ylabel="NDCG@10 on test queries",
       title="Without exploration the loop locks in what it showed first")
ax.legend()
plt.show()

# %% [markdown]
# All three loops improve at first (re-ordering the first page by clicks beats BM25's order), then
# the naive loop flattens out (0.647 after six rounds), because a document's click rate mostly
# reflects the slot it was given; IPW does a little better (0.663) but still only re-orders the first
# page; exploration keeps climbing (0.736), because a document that never reaches the page can never earn
# a click.
#
# ### Thin and new queries: the long tail never stops
#
# A click-trained model learns only from queries with enough clicks. How much of next week's traffic
# comes from queries too thin to have had a click label (fewer than `MIN_IMPRESSIONS` searches in the
# previous three weeks)?

# %%
history_counts = impressions[impressions["day"] < TRAIN_DAYS]["query_id"].value_counts()
next_week = impressions[impressions["day"] >= TRAIN_DAYS]
thin = history_counts.reindex(next_week["query_id"]).fillna(0).to_numpy() < MIN_IMPRESSIONS
distinct = next_week.drop_duplicates("query_id")
thin_distinct = history_counts.reindex(distinct["query_id"]).fillna(0).to_numpy() < MIN_IMPRESSIONS
print(f"share of next week's searches on thin queries: {thin.mean():.3f}")
print(f"share of next week's distinct queries that are thin: {thin_distinct.mean():.3f}")

# %% [markdown]
# Thin queries carry 0.012 of next week's searches but make up 0.079 of its distinct queries — and
# this synthetic world has a closed set of queries. In production, brand-new queries and documents
# join them every day with no history at all. They are ranked by content features alone, which is why this model has no per-query click
# feature, why freshness is a content feature, and why exploration slots exist.
#
# ### What to watch in production
#
# - **Guardrails** on every ranking change: latency p99, zero-result rate, abandonment (searches with
#   no click), reformulation rate, and clicks on position 1 (a sudden jump often means a bug, not a
#   better model).
# - **New documents and queries**: a fresh document has no click history and a new query has no
#   clicks at all; features must not punish "no data" (use content features, exploration slots).
#   Track the share of traffic from queries unseen in training and NDCG on a weekly judged sample.
# - **Propensity drift**: re-estimate examination from the randomised slice every week; a page
#   redesign moves it.
# - **Retraining**: weekly on the last weeks of logs, gated by offline NDCG on the judged sample and an
#   interleaving test against the live ranker.

# %% [markdown]
# ## Your turn
#
# Four numeric exercises, then two judgment questions of the kind an interviewer asks. Each code
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
_key['Exercise 3'] = int(np.ceil(n_ab / 4))
_key['Exercise 4'] = bias_experiment(2.0, AUTHORITY, 0.05)["NDCG@10 ipw"] - bias_experiment(2.0, AUTHORITY)["NDCG@10 ipw"]

# %%
answer = TODO  # your NDCG@10 on the held-out candidates, a number between 0 and 1
ok = check_answer("Exercise 1", answer, _key['Exercise 1'], rel_tol=1e-4,
                  hint="the ranking metric helper of step 4 takes any score per row; which frame holds the held-out queries?")

# %% [markdown]
# ### Exercise 2 · What is a deep click worth?
# A click at position 5 is worth how many clicks at position 1 in the IPW labels? Use the
# *estimated* examination curve of step 3, not the planted one. Store the number in `answer`.

# %%
answer = TODO  # a number, about how many position-1 clicks one position-5 click counts for
ok = check_answer("Exercise 2", answer, _key['Exercise 2'], rel_tol=1e-4,
                  hint="IPW weights a click by one over P(examine | position); mind which index is position 5.")

# %% [markdown]
# ### Exercise 3 · A bigger effect
# In the A/B design on successful searches, how many searches would you need if the true difference
# in the success rate were *twice* as large (same spread)? Start from `n_ab` and the sample-size
# formula of step 6. Store an integer (rounded up) in `answer`.

# %%
answer = TODO  # an integer number of searches
ok = check_answer("Exercise 3", answer, _key['Exercise 3'], rel_tol=0.01,
                  hint="how does n depend on the difference in the formula: linearly, or as a power?")

# %% [markdown]
# ### Exercise 4 · Clip the propensities?
# Production systems often clip propensities with a floor, so that no click weighs more than
# 1 / floor. Where the bias is steepest (strength 2, authority-ordered old ranker), does a floor of
# `0.05` help the IPW model? Store the *change* in its NDCG@10 that the floor brings (with the floor
# minus without; negative if it hurts) in `answer`.

# %%
answer = TODO  # a signed change in NDCG@10, with the floor minus without
ok = check_answer("Exercise 4", answer,
                  _key['Exercise 4'],
                  abs_tol=5e-4, rel_tol=0.0,
                  hint="the experiment function of step 6 takes a floor; the unclipped run is already in its table.")

# %% [markdown]
# ### Exercise 5 (judgment) · Which metric goes on the A/B dashboard?
# Interleaving says users prefer the IPW ranker. You now run the confirming A/B test. Which metric is
# the decision metric on its dashboard: success rate, clicks per search, or NDCG on a judged sample?
# Which do you show beside it as guardrails? Defend the choice in three or four sentences, using
# what step 6 printed.
#
# ### Exercise 6 (judgment) · The latency budget halves: what changes?
# The interviewer says retrieval plus re-ranking must now fit in `10` ms at p99, at the same peak
# QPS. What do you change in the design of step 7, in what order, and what do you measure to know
# you have not lost ranking quality?

# %% [markdown]
# ## Scorecard
#
# Every claim the notebook made, recomputed from the values above.

# %% tags=["scorecard"]
from utils.scorecard import build, enforce

KEYWORD = "keyword match only"
final_ndcg = loops.iloc[-1]
rows = [
    ("debiased-click NDCG@10 > naive-click NDCG@10", ndcg["debiased clicks (IPW)"],
     f"> {ndcg['naive clicks']:.3f}", ndcg["debiased clicks (IPW)"] > ndcg["naive clicks"]),
    ("debiased-click NDCG@10 / judged-label NDCG@10", offline.loc["debiased clicks (IPW)", "NDCG vs judged"],
     ">= 0.9", offline.loc["debiased clicks (IPW)", "NDCG vs judged"] >= 0.9),
    ("every LambdaMART model beats BM25 alone (NDCG@10, worst model)", ndcg.iloc[1:].min(),
     f"> {ndcg['BM25 alone']:.3f}", ndcg.iloc[1:].min() > ndcg["BM25 alone"]),
    ("estimated vs planted examination, largest abs. error", bias_error,
     f"<= {EXAM_TOLERANCE}", bias_error <= EXAM_TOLERANCE),
    ("IPW gain over naive grows with bias (strength 1 vs 0)", gap[(AUTHORITY, 1.0)],
     f"> {gap[(AUTHORITY, 0.0)]:.3f}", gap[(AUTHORITY, 1.0)] > gap[(AUTHORITY, 0.0)]),
    ("IPW beats naive at strength 1 in every click log (smallest gain of 4)", gap_range.loc["min", "gap at strength 1"],
     "> 0", gap_range.loc["min", "gap at strength 1"] > 0),
    ("IPW's gain swings more at strength 2 than at 1 (max - min over 4 logs)", gap_spread["gap at strength 2"],
     f"> {gap_spread['gap at strength 1']:.3f}", gap_spread["gap at strength 2"] > gap_spread["gap at strength 1"]),
    ("without a confounded old ranker, bias 1 barely hurts (IPW gain)", gap[(KEYWORD, 1.0)],
     f"< {gap[(AUTHORITY, 1.0)] / 4:.3f} (1/4 of the confounded gain)", gap[(KEYWORD, 1.0)] < gap[(AUTHORITY, 1.0)] / 4),
    ("searches to decide: interleaving vs A/B on successful searches", int(n_interleaving),
     f"< {n_ab:,}", n_interleaving < n_ab),
    ("interleaving needs fewer searches than A/B (success), replicates", f"{interleaving_wins} of {len(online_reps)}",
     f"{len(online_reps)} of {len(online_reps)}", interleaving_wins == len(online_reps)),
    (f"retrieval + re-rank within the {BUDGET_MS} ms budget (CPU p50 per query, best of 5 repeats; ms in step 7)",
     latency.p50 <= BUDGET_MS, "True", latency.p50 <= BUDGET_MS, f"CPU p50 {latency.p50:.1f} ms is over the {BUDGET_MS} ms budget"),
    ("exploration beats the naive feedback loop (final NDCG@10)", final_ndcg["IPW CTR + exploration"],
     f"> {final_ndcg['naive CTR']:.3f}", final_ndcg["IPW CTR + exploration"] > final_ndcg["naive CTR"]),
]
scorecard = build(rows)
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)

# %% [markdown]
# ## In 60 seconds
#
# "Search is two stages: BM25 from an inverted index pulls 100 candidates, and a LambdaMART
# re-ranker orders them using keyword match, document quality and freshness, and query intent —
# well inside a `20` ms budget, with a cache for head queries. Judged labels are the gold standard but
# scarce; clicks are plentiful but position-biased. Bias alone only blurs them; but the old ranker
# decided the positions, so wherever its order disagrees with relevance, a model trained on raw click
# rates learns the old ranking back. I'd run a few percent of traffic with randomised top-10 order,
# estimate the examination probability per position from it, and weight each click by one over that
# propensity. Offline, that debiased model closes most of the gap to a judged-label model on NDCG@10;
# online I'd screen rankers with team-draft interleaving, which needed fewer searches than an A/B
# test in every replicate here, then confirm on the business metric with an A/B. In production I'd watch for the
# rich-get-richer loop — exploration slots keep new documents discoverable — re-estimate the
# propensities after any page change, and guard latency, zero-result rate and abandonment."

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
answer = int(np.ceil(n_ab / 4))
ok = check_answer("Exercise 3", answer, int(np.ceil(n_ab / 4)), rel_tol=0.01)
print(f"{answer:,} searches (a quarter of {n_ab:,})")

# %%
clipped = bias_experiment(2.0, AUTHORITY, 0.05)["NDCG@10 ipw"]
unclipped = bias_sweep.loc[(AUTHORITY, 2.0), "NDCG@10 ipw"]
answer = clipped - unclipped
ok = check_answer("Exercise 4", answer,
                  bias_experiment(2.0, AUTHORITY, 0.05)["NDCG@10 ipw"] - bias_experiment(2.0, AUTHORITY)["NDCG@10 ipw"],
                  abs_tol=5e-4, rel_tol=0.0)
print(f"IPW NDCG@10 at strength 2: floor 0.05 -> {clipped:.3f}, no floor -> {unclipped:.3f} (change {answer:+.3f})")

# %% [markdown]
# A floor trades variance for bias. At strength 2 the true examination of ranks 5–10 lies below
# `0.05`, so the floor under-weights exactly the deep clicks that the old ranker's confounding hid —
# the fresh pages it pushed down — and part of the "old is good" bias leaks back. Whether clipping
# pays depends on how small the propensities are against the floor; pick the floor on a judged sample
# (or an interleaving test), not by habit.
#
# ### Exercise 5 (judgment) · Which metric goes on the A/B dashboard?
#
# **Model answer:** The decision metric is the share of successful searches — the business metric
# of step 1 — because it is what the company wants more of and what the ranker change is meant to
# move. With the default parameters the A/B test on it needed 594 searches to detect 0.957 against
# 0.895; that sizing goes on the dashboard too. Clicks per search is tempting, and step 6 gives it
# its best case: it needed fewer searches than the success rate, 190 against 594, and fewer in 4 of
# 4 replicates. That is a property of the simulator, not a reason to decide on it. Every simulated
# user clicks alike; real users do not (a few click everything), and they inflate its variance. And
# it rewards the wrong things: a worse first result makes users click more often (pogo-sticking),
# so more clicks can mean a worse ranker. On a real search engine, degraded on purpose, absolute
# usage metrics such as the number of clicks did not reliably reflect the change in retrieval
# quality at the sample sizes studied, while interleaving did (Radlinski et al. 2008, on the
# arXiv search engine). NDCG on a judged sample is an offline gate, not an A/B metric:
# users never see the judges. Beside the decision metric go guardrails: latency p99, zero-result
# rate, abandonment, reformulation rate, and the position-1 click share (a jump there often means a
# bug).
#
# **Self-check:**
# - names *one* decision metric tied to the business goal (success, not raw clicks), fixed before the test;
# - explains why clicks per search is a weaker decision metric even though it needed fewer searches here
#   (more clicks can mean a worse ranker; the simulator's identical users flatter its variance);
# - places judged NDCG offline and interleaving as the screen, the A/B test as the confirmation;
# - lists at least three guardrails, including latency and abandonment or reformulation;
# - sizes the test from the printed sample-size row rather than stopping when the chart looks good.
#
# ### Exercise 6 (judgment) · The latency budget halves: what changes?
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
