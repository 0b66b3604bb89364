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
# # 09 · Recommendations
#
# *Build a two-stage recommender, then prove with a simulator that it brings users back — not just clicks.*
#
# about 85 min · needs: [00 · Course map](00_course_map.ipynb), some pandas and a dot product; notebooks 02, 06 and 08 go deeper into labels, A/B tests and feedback loops
#
# *Navigation:* ← [00 · Course map](00_course_map.ipynb) · [10 · Fraud detection](10_case_fraud_detection.ipynb) →
#
# **15-minute path:** step 1 (the objective), step 4 (the two stages and their offline numbers), step 6's
# online A/B test (clicks vs satisfaction, and what offline NDCG could not tell), and step 8 (the feedback loop).
#
# **You will be able to:**
# - design a two-stage recommender (embedding retrieval of a few hundred candidates, a LightGBM `lambdarank` ranker) and say what each stage costs in recall and in milliseconds;
# - evaluate it offline with recall@k and NDCG@10 against a popularity baseline *and* the oracle ceiling;
# - run a simulated A/B test of a click-optimised against a satisfaction-optimised ranker, with confidence intervals, and say what offline NDCG can and cannot tell you about it;
# - show a feedback loop concentrating exposure on a few items, and exploration slowing it down.

# %% [markdown]
# The cell below holds the parameters (tagged `parameters`). Set `DATA_PATH` to a CSV of your own
# interactions — columns `user_id, item_id, timestamp`, optionally `rating` or `weight` — and steps
# 3–6 run offline on it (plus the serving timings of step 7); the clickbait table, the oracle, the A/B
# test and the feedback loop need the simulator's ground truth, and say so when they are skipped.
# The table after it gives each knob's valid range: inside it Run All finishes, and the scorecard at
# the end reports which claims still hold.
#
# Numbers in the text are for the default parameters (`SEED = 0`); numbers in `code font` are inputs we
# chose. With other settings, read the printed outputs.

# %% tags=["parameters"]
SEED = 0
N_USERS = 5_000          # users in the synthetic world
N_ITEMS = 10_000         # catalogue size
DAYS = 28                # days of logged history
K_CANDIDATES = 200       # candidates retrieved per request (stage 1)
EVAL_USERS = 1_500       # users sampled for offline evaluation
AB_DAYS = 21             # length of the simulated A/B test
FEEDBACK_ROUNDS = 8      # retrain-on-own-logs rounds in step 8
EPSILON = 0.2            # share of slots given to exploration in step 8
DATA_PATH = None         # e.g. "my_interactions.csv": run steps 3-6 on your own data

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**31 - 1, "seed of the world and every model (LightGBM takes a 31-bit seed)"),
    Knob("N_USERS", 5_000, 2_000, 10_000, "users in the synthetic world"),
    Knob("N_ITEMS", 10_000, 2_000, 20_000, "catalogue size"),
    Knob("DAYS", 28, 14, 42, "days of logged history"),
    Knob("K_CANDIDATES", 200, 50, 500, "candidates retrieved per request (stage 1)"),
    Knob("EVAL_USERS", 1_500, 300, 3_000, "users sampled for offline evaluation"),
    Knob("AB_DAYS", 21, 7, 28, "length of the simulated A/B test (days)"),
    Knob("FEEDBACK_ROUNDS", 8, 2, 16, "retrain-on-own-logs rounds in step 8"),
    Knob("EPSILON", 0.2, 0.0, 0.5, "share of slots given to exploration in step 8"),
    Knob("DATA_PATH", None, path=True, doc="your own interactions CSV (steps 3-6 run on it)"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())  # ValueError names the knob, its value and the range
knob_table(KNOBS, globals())

# %%
import sys
from importlib.metadata import version

import ipywidgets as widgets
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp
from IPython.display import display
from sklearn.utils.extmath import randomized_svd
from threadpoolctl import threadpool_limits

from utils import check_answer, use_course_style
from utils.checks import TODO
from utils.recsys import FACTOR_GRID_BITS, gini, load_interactions, make_world, on_grid
from utils.scorecard import build, enforce
from utils.timing import measure

if sys.version_info < (3, 11) or int(version("lightgbm").split(".")[0]) < 4:
    raise RuntimeError("This notebook needs Python >= 3.11 and LightGBM >= 4: run `make lab`, "
                       "which installs the pinned versions from requirements.txt.")
use_course_style()
pd.set_option("display.max_colwidth", 100)  # show scorecard claims in full
# One thread for BLAS and LightGBM: on a busy 2-core laptop, two threads per process fight over the
# cores and run several times slower; one thread is faster here and gives the same numbers everywhere.
threadpool_limits(1)
LGB = dict(deterministic=True, force_row_wise=True, num_threads=1, seed=SEED, verbose=-1)

# %% [markdown]
# ## 1. Clarify the problem
#
# "Recommend videos on the home page." Before any model, pin down what *good* means and how big the
# problem is. The business wants **long-term engagement**: users who come back and watch what they
# were shown. Clicks are easy to count, and easy to fake — a lurid thumbnail earns a click and a
# bounce. So the objective is satisfied sessions and return visits; clicks are a guardrail, not the goal.
#
# Scale, stated as assumptions: a catalogue of `10,000`+ items, a few million daily users, a home page
# that must render in well under a second, of which the recommender gets **`100` ms**. The cell below
# turns those assumptions into requests per second and a latency budget per stage.

# %%
daily_users, visits_per_user, peak_factor = 2_000_000, 3, 3
qps_peak = daily_users * visits_per_user / 86_400 * peak_factor
budget_ms = {"fetch user embedding + features": 10, "candidate retrieval (top-k)": 20,
             "ranker features for k candidates": 25, "ranker scoring": 25,
             "business rules, dedup, logging": 10, "network + slack": 10}
budget = pd.Series(budget_ms, name="ms").to_frame()
print(f"peak requests per second: {qps_peak:,.0f}; total budget: {budget['ms'].sum()} ms")
budget

# %% [markdown]
# About 208 requests per second at peak (`3`× the daily average), and a `100` ms budget split over six
# stages: retrieval and ranking get the largest shares because they scale with the catalogue and with k.
#
# > **Say it in the interview:** "I'll optimise long-term engagement — satisfied watch time and
# > return rate — and keep CTR as a guardrail, because a click-optimised feed learns clickbait."

# %% [markdown]
# ## 2. Frame it as an ML problem
#
# A ranking problem: for one user, order the catalogue so the top 10 hold what they will watch
# and enjoy. With implicit feedback there is no "rating", only what the log saw:
#
# - an **impression** that was not clicked is a (weak) negative — the user saw it and passed;
# - a **click** with a short watch is a *disappointment*, not a positive;
# - a **satisfied click** (watched at least half) is our positive; an item never shown is *unknown*, not negative.
#
# Our world (`utils.recsys.make_world`) logs `DAYS` days of a legacy home page: `20` items per visit, part
# globally popular, part from the user's favourite categories. Because it is synthetic, it also knows
# each item's hidden click appeal and quality — and about `8` % of items are **clickbait**.

# %%
if DATA_PATH is None:
    world = make_world(SEED, n_users=N_USERS, n_items=N_ITEMS, days=DAYS)
    log = world.log
    is_bait = world.items["clickbait"].to_numpy()[log["item_id"].to_numpy()]
    typed = log.assign(item_type=np.where(is_bait, "clickbait", "regular"))
    funnel = typed.groupby("item_type").agg(impressions=("clicked", "size"), ctr=("clicked", "mean"),
                                            satisfied_per_impression=("satisfied", "mean"))
    funnel["watch_per_click"] = typed[typed["clicked"]].groupby("item_type")["watch_fraction"].mean()
    print(f"{len(log):,} impressions, {log['clicked'].mean():.3f} CTR, "
          f"{log['satisfied'].mean():.3f} satisfied clicks per impression")
    display(funnel.round(3))
else:
    world = None
    print("DATA_PATH is set: no synthetic world; the clickbait analysis needs it and is skipped.")

# %% [markdown]
# Clickbait items earn **almost three times the CTR** of regular ones (0.167 vs 0.061) but their clicks are watched
# 0.278 of the way against 0.764, so they deliver half the satisfied clicks per impression (0.027 vs
# 0.054). A model trained to predict clicks will rank them high; a model trained to predict satisfied
# clicks will not — the label decides the system.

# %% [markdown]
# ## 3. Data and features
#
# One table drives everything: who saw what, when, and what they did. Below we turn it into a common
# *events* table (your CSV takes the same path), then split it **by time**: the last quarter of the
# history is the test period, the quarter before it provides the ranker's training labels, and
# features are computed only from what happened before each cut-off.

# %%
if world is not None:
    events = pd.DataFrame({"user": log["user_id"].to_numpy(), "item": log["item_id"].to_numpy(),
                           "t": log["timestamp"].to_numpy() / 86_400,
                           "click": log["clicked"].to_numpy(), "sat": log["satisfied"].to_numpy(),
                           "watch": log["watch_fraction"].to_numpy()})
    category = world.items["category"].to_numpy()
    HAS_IMPRESSIONS = True
else:
    mine = load_interactions(DATA_PATH)  # validates columns; clear error if one is missing or bad
    events = pd.DataFrame({"user": mine["user"].to_numpy(), "item": mine["item"].to_numpy(),
                           "t": (mine["timestamp"] - mine["timestamp"].min()).to_numpy() / 86_400,
                           "click": True, "sat": mine["weight"].to_numpy() > 0, "watch": np.nan})
    HAS_IMPRESSIONS = False  # a list of interactions has no impressions (no seen-but-skipped)
if world is not None:  # the world's sizes: in a short history a user or an item may have no logged row
    n_users, n_items = len(world.users), len(world.items)
else:
    n_users, n_items = int(events["user"].max()) + 1, int(events["item"].max()) + 1
K_CANDIDATES = min(K_CANDIDATES, n_items // 2)  # only matters for a tiny catalogue of your own
t0, t1 = events["t"].min(), events["t"].max()
LABEL_START, TEST_START = t0 + 0.5 * (t1 - t0), t0 + 0.75 * (t1 - t0)
split = pd.cut(events["t"], [-np.inf, LABEL_START, TEST_START, np.inf], right=False,
               labels=["features (train)", "labels (train)", "test"])
events.groupby(split, observed=False).agg(rows=("item", "size"), positives=("sat", "sum"),
                                          users=("user", "nunique")).rename_axis("period")

# %% [markdown]
# The first two weeks (355,568 impressions) only feed features and embeddings; the third week's 9,625
# positives are the ranker's labels, and the last week's 10,371 positives, from 3,682 users, are the
# test. Popularity is heavy-tailed, which is why "most popular" is a strong baseline and a dangerous habit:

# %%
# Figure helper: positives per item, ranked (log-log)
counts = np.sort(np.bincount(events.loc[events["sat"], "item"], minlength=n_items))[::-1]
top1 = counts[: max(1, n_items // 100)].sum() / counts.sum()
fig, ax = plt.subplots(figsize=(8, 4))
ax.loglog(np.arange(1, n_items + 1)[counts > 0], counts[counts > 0], lw=1.5)
ax.set(xlabel="item rank by positives (log scale)", ylabel="positives per item (log scale)",
       title=f"The top 1% of items collect {top1:.0%} of all positives")
plt.show()
print(f"share of positives on the top 1% of items: {top1:.3f}")


# %% [markdown]
# Half of all positives (0.494) sit on 1 % of the catalogue: a long tail that any model trained on
# this log will be tempted to ignore.
#
# ### Embeddings from collaborative filtering
#
# Stage 1 needs a vector per user and per item whose dot product says "this user will like this
# item". A truncated SVD of the user × item matrix of positives (log-damped counts, popular columns
# down-weighted) gives 32-dimensional vectors in well under a second — matrix factorisation without
# a training loop. The vectors are rounded to multiples of 2⁻¹⁰ (`on_grid`): then every score, a dot
# product, is exact in float64, whatever order a BLAS kernel sums it in. The SVD itself is not exact:
# its last bits differ between BLAS kernels, so the grid is kept coarse enough that those differences
# cannot move a vector to another grid point on the kernels we measured (the margin is in
# `datasets/recsys.md`), and the top-k came out the same on each of them.

# %%
def fit_embeddings(hist, label="sat", dim=32):
    """User and item vectors from a truncated SVD of the (damped) user x item matrix of positives."""
    pos = hist[hist[label]]
    X = sp.csr_matrix((np.ones(len(pos)), (pos["user"], pos["item"])), shape=(n_users, n_items))
    X.data = np.log1p(X.data)
    X = X @ sp.diags(1 / np.sqrt(np.asarray(X.sum(axis=0)).ravel() + 1))  # damp popular items
    U, S, Vt = randomized_svd(X, min(dim, min(X.shape) - 1), random_state=SEED, n_iter=4)
    # a coarse grid (2**-10): exact float64 dot products, and far from the SVD's kernel noise
    return on_grid(U * np.sqrt(S), bits=FACTOR_GRID_BITS), on_grid(Vt.T * np.sqrt(S), bits=FACTOR_GRID_BITS)

def seen_matrix(hist, label="sat"):
    pos = hist[hist[label]]
    return sp.csr_matrix((np.ones(len(pos)), (pos["user"], pos["item"])), shape=(n_users, n_items)).astype(bool)

if world is None:  # no metadata: a pseudo-category = the embedding dimension an item loads on most
    category = np.argmax(fit_embeddings(events[events["t"] < TEST_START], dim=16)[1], axis=1)


# %% [markdown]
# ### Features for the ranker, as of a cut-off
#
# Stage 2 sees each (user, candidate) pair with a handful of features, all computed from events
# *before* the cut-off — the same code serves training (cut-off = start of the label period) and
# evaluation (cut-off = start of the test period), so there is no training–serving skew by design.

# %%
def item_stats(hist, cutoff):
    pos = hist[hist["sat"]]
    last = pos.groupby("item")["t"].max().reindex(range(n_items)).to_numpy()
    stats = {"pop": np.log1p(np.bincount(pos["item"], minlength=n_items)),
             "recent": np.log1p(np.bincount(pos.loc[pos["t"] >= cutoff - 7, "item"], minlength=n_items)),
             "since": np.nan_to_num(cutoff - last, nan=cutoff - t0 + 1)}
    if HAS_IMPRESSIONS:  # click-through and watch rates, shrunk towards the average
        imp = np.bincount(hist["item"], minlength=n_items)
        clk = np.bincount(hist["item"], weights=hist["click"], minlength=n_items)
        wat = np.bincount(hist["item"], weights=hist["watch"], minlength=n_items)
        stats["ctr"] = (clk + 20 * clk.sum() / imp.sum()) / (imp + 20)
        stats["watch"] = (wat + 5 * wat.sum() / clk.sum()) / (clk + 5)
    return stats

def user_stats(hist):
    pos = hist[hist["sat"]]
    counts = np.zeros((n_users, category.max() + 1))
    np.add.at(counts, (pos["user"].to_numpy(), category[pos["item"].to_numpy()]), 1)
    active = counts.sum(axis=1)
    return {"cat_aff": (counts + 0.5 / counts.shape[1]) / (active[:, None] + 0.5), "activity": np.log1p(active)}


# %%
FEATURES = ["cand_score", "pop", "recent", "since", "cat_aff", "activity"] + (["ctr", "watch"] if HAS_IMPRESSIONS else [])

def features(users, items, scores, ist, ust):
    """One row per (user, candidate): a float32 matrix with the columns of FEATURES."""
    u, i = np.repeat(users, items.shape[1]), items.ravel()
    cols = {"cand_score": scores.ravel(), "cat_aff": ust["cat_aff"][u, category[i]], "activity": ust["activity"][u]}
    return np.column_stack([cols[f] if f in cols else ist[f][i] for f in FEATURES]).astype(np.float32)

hist_train = events[events["t"] < LABEL_START]
ist_train, ust_train = item_stats(hist_train, LABEL_START), user_stats(hist_train)
example = pd.DataFrame(features(np.array([events["user"].iloc[0]]), np.arange(5)[None, :], np.zeros((1, 5)), ist_train, ust_train), columns=FEATURES)
example.round(3)

# %% [markdown]
# Five catalogue items for one user: popularity (all-time and last 7 days, log scale), days since the
# item's last positive, the user's affinity to the item's category, the user's activity, and — where
# impressions exist — the item's smoothed CTR and watch fraction. The candidate score is filled in at
# retrieval time.
#
# > **Failure mode:** computing "item CTR" over the whole log, test period included. The ranker then
# > knows which items *will* do well; offline NDCG soars and collapses in production. Every feature
# > here takes a cut-off.

# %% [markdown]
# ## 4. Model
#
# Baselines first. On the held-out period we score three simple recommenders and the two-stage
# system, each returning 10 unseen items per user:
#
# - **most popular** (last 7 days) — the rule every system must beat;
# - **item-to-item co-occurrence** — "people who liked what you liked also liked…";
# - **candidate-score order** — stage 1 alone: the top 10 by embedding dot product.
#
# First the evaluation set — users with at least one new positive in the test period — and the two
# offline metrics, written once. **NDCG@10** scores a top-10 list by where the user's future positives
# sit in it, hits near the top counting more, divided by the best possible order (a score of one means
# every slot is a hit, best first). **Recall@k** is the share of a user's future positives found among k items.

# %%
hist_eval = events[events["t"] < TEST_START]
seen_eval = seen_matrix(hist_eval)
test_pos = events[(events["t"] >= TEST_START) & events["sat"]]
test_pos = test_pos[~np.asarray(seen_eval[test_pos["user"].to_numpy(), test_pos["item"].to_numpy()]).ravel()]
rng = np.random.default_rng(SEED)
candidates_users = np.intersect1d(test_pos["user"].unique(), hist_eval["user"].unique())
eval_users = np.sort(rng.choice(candidates_users, min(EVAL_USERS, len(candidates_users)), replace=False))
relevant = sp.csr_matrix((np.ones(len(test_pos)), (test_pos["user"], test_pos["item"])),
                         shape=(n_users, n_items))[eval_users].toarray() > 0
DISCOUNT = 1 / np.log2(np.arange(2, 12))

def ndcg_per_user(top10):
    hits = np.take_along_axis(relevant, top10, axis=1)
    ideal = np.cumsum(DISCOUNT)[np.minimum(relevant.sum(axis=1), 10) - 1]
    return (hits * DISCOUNT).sum(axis=1) / ideal

def ndcg_at_10(top10):
    return float(np.mean(ndcg_per_user(top10)))

def recall_at(ranked, k):
    return float(np.mean(np.take_along_axis(relevant, ranked[:, :k], axis=1).sum(axis=1) / relevant.sum(axis=1)))

print(f"{len(eval_users):,} evaluation users, {relevant.sum(axis=1).mean():.3f} new positives each on average")


# %%
def top_unseen(scores, users, seen, k):
    """Top-k items per row of a users x items score matrix, excluding items already seen."""
    scores = np.where(seen[users].toarray(), -np.inf, scores)
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    return top, np.take_along_axis(scores, top, axis=1)

ist_eval, ust_eval = item_stats(hist_eval, TEST_START), user_stats(hist_eval)
popular_scores = (ist_eval["recent"] + 1e-3 * ist_eval["pop"]).astype(np.float32)[None, :]
top_popular, _ = top_unseen(popular_scores, eval_users, seen_eval, 10)

liked = seen_eval.astype(np.float32)
cooc = (liked.T @ liked).tocsr()
cooc = cooc - sp.diags(cooc.diagonal())  # an item does not co-occur with itself
cooc_scores = (liked[eval_users] @ cooc).toarray()
top_cooc, _ = top_unseen(cooc_scores + 1e-6 * popular_scores, eval_users, seen_eval, 10)
print(f"NDCG@10  most popular: {ndcg_at_10(top_popular):.3f}   co-occurrence: {ndcg_at_10(top_cooc):.3f}")

# %% [markdown]
# Those two numbers are the bar: co-occurrence, which personalises, nearly doubles popularity's
# NDCG@10 (0.143 vs 0.079).
#
# ### Stage 1: candidate generation by embeddings
#
# Fit the embeddings on everything before the test period, score the whole catalogue with one
# matrix product per user, keep the top `K_CANDIDATES`. What stage 1 misses, stage 2 can never
# recover, so its metric is **recall@k**: the share of a user's future positives among the k candidates.

# %%
user_emb, item_emb = fit_embeddings(hist_eval)
cand_eval, cand_score_eval = top_unseen(user_emb[eval_users] @ item_emb.T, eval_users, seen_eval, K_CANDIDATES)
recall_curve = {k: recall_at(cand_eval, k) for k in (10, 25, 50, 100, K_CANDIDATES)}
print("recall@k of retrieval:", {k: round(v, 3) for k, v in recall_curve.items()})
print(f"NDCG@10  candidate-score order: {ndcg_at_10(cand_eval[:, :10]):.3f}")


# %% [markdown]
# Stage 1 alone already matches co-occurrence (NDCG@10 0.146 vs 0.143). Recall grows with k: 10
# candidates hold 0.184 of users' future positives, 200 hold 0.454 — more than twice as many for the
# ranker to choose from, out of a 10,000-item catalogue, which is what makes stage 2 worth having. The rest were never going to be found by these embeddings:
# that ceiling is stage 1's, no ranker can lift it.

# %% [markdown]
# ### Stage 2: a LightGBM `lambdarank` ranker
#
# The ranker is trained on the *previous* period, the way it will be used: embeddings and features
# as of `LABEL_START`, candidates retrieved for users with positives in the label period, and each
# candidate labelled 1 if the user had a satisfied click on it in the label period, 0 otherwise.
# Each user is one query group — lambdarank learns to order items *within* a user's list.

# %%
def training_set(label, k=50, n_users_max=1_500, add_impressions=False):
    """Ranker rows (X, y, group sizes): each user's k candidates (and, optionally, what they were shown)."""
    ue, ie = fit_embeddings(hist_train, label)
    period = events[(events["t"] >= LABEL_START) & (events["t"] < TEST_START)]
    window = period[period[label]]
    users = np.intersect1d(window["user"].unique(), hist_train["user"].unique())
    users = np.sort(np.random.default_rng(SEED).choice(users, min(n_users_max, len(users)), replace=False))
    cand, _ = top_unseen(ue[users] @ ie.T, users, seen_matrix(hist_train, label), k)
    rows = pd.DataFrame({"user": np.repeat(users, k), "item": cand.ravel()})
    if add_impressions and HAS_IMPRESSIONS:  # add shown-and-skipped items as explicit negatives
        shown = period.loc[period["user"].isin(users), ["user", "item"]]
        rows = pd.concat([rows, shown]).drop_duplicates().sort_values("user", kind="stable")
    u, i = rows["user"].to_numpy(), rows["item"].to_numpy()
    y = np.isin(u * n_items + i, window["user"].to_numpy() * n_items + window["item"].to_numpy()).astype(int)
    X = features(u, i[:, None], np.sum(ue[u] * ie[i], axis=1)[:, None], ist_train, ust_train)
    has_pos = pd.Series(y).groupby(u).max() > 0  # a group with no positive teaches a ranker nothing
    keep = np.isin(u, has_pos.index[has_pos])
    return X[keep], y[keep], rows.groupby("user").size()[has_pos].to_numpy()

RANKER = dict(objective="lambdarank", n_estimators=100, learning_rate=0.08, num_leaves=31,
              min_child_samples=50, **LGB)
X_tr, y_tr, groups = training_set("sat")
ranker = lgb.LGBMRanker(**RANKER).fit(X_tr, y_tr, group=groups)
print(f"{len(X_tr):,} training rows in {len(groups):,} query groups (users), {y_tr.mean():.3f} of rows positive")

# %% [markdown]
# Of the `1,500` sampled users, 712 had a positive among their `50` candidates, and 0.030 of the rows are
# positive — typical of implicit feedback. Training groups hold `50` candidates, not the 200 served: the
# top `50` already catch most of what the top 200 catch (recall 0.319 of 0.454), and training stays at
# about a second. Now the whole pipeline on the test period: retrieve `K_CANDIDATES`, score them with
# the ranker, keep the top 10.

# %%
X_eval = features(eval_users, cand_eval, cand_score_eval, ist_eval, ust_eval)
ranker_scores = ranker.predict(X_eval).reshape(cand_eval.shape)

def rerank(scores, cand, k):
    """Rank only the first k candidates (by candidate score) with the ranker; return the top 10."""
    order = np.argsort(-scores[:, :k], axis=1, kind="stable")[:, :10]
    return np.take_along_axis(cand[:, :k], order, axis=1)

top_ranker = rerank(ranker_scores, cand_eval, K_CANDIDATES)
print(f"NDCG@10  two-stage (ranker): {ndcg_at_10(top_ranker):.3f}")


# %% [markdown]
# The ranker lifts NDCG@10 from 0.146 (stage 1's own order of the same candidates) to 0.164.
#
# ### Explore: how many candidates?
#
# More candidates raise recall — the ranker has more to choose from — but ranking cost grows with k.
# Move the slider: the table prints recall@k of stage 1, NDCG@10 of the full pipeline, and the time to
# build features and rank k candidates for one request.

# %%
def tradeoff(k):
    """Recall@k of retrieval and NDCG@10 after ranking the top-k candidates (deterministic)."""
    return {"k": k, "recall@k": round(recall_at(cand_eval, k), 3),
            "NDCG@10": round(ndcg_at_10(rerank(ranker_scores, cand_eval, k)), 3)}

def rank_latency_ms(k, n_requests=10):
    """CPU p50 ms to build features for k candidates and score them, for one request (best of 3 repeats)."""
    def one(r):
        x = features(eval_users[r : r + 1], cand_eval[r : r + 1, :k], cand_score_eval[r : r + 1, :k], ist_eval, ust_eval)
        ranker.booster_.predict(x, num_threads=1)
    return measure(one, range(n_requests), repeats=3).p50

def show_tradeoff(k=100):
    row = tradeoff(k)
    print(f"k = {k:>3}   recall@k = {row['recall@k']:.3f}   NDCG@10 = {row['NDCG@10']:.3f}   "
          f"ranking CPU time ≈ {rank_latency_ms(k):.1f} ms")


# %%
# NBVAL_IGNORE_OUTPUT
widgets.interact(show_tradeoff, k=widgets.IntSlider(value=100, min=10, max=K_CANDIDATES, step=10,
                                                     description="candidates k"));

# %%
pd.DataFrame([tradeoff(k) for k in (10, 50, 100, K_CANDIDATES)]).set_index("k")

# %% [markdown]
# The static table is the widget at four settings. Recall keeps climbing with k (0.184 → 0.454), while
# NDCG@10 flattens after about `50` candidates (0.163 → 0.164 at 200): the extra candidates rarely reach
# the top 10, but each still costs feature lookups and tree evaluations. We keep k = 200, because
# ranking 200 items is cheap (step 7), and recall is what a better ranker would need later.

# %% [markdown]
# ## 5. Training
#
# Three decisions made the ranker above, and each is a standard interview question:
#
# 1. **Time-based split.** Train on the past, evaluate on the future (step 3); a random split would
#    let the model see tomorrow's popularity.
# 2. **Negatives.** Positives are satisfied clicks. The textbook says: take negatives from
#    impressions — items the user was shown and skipped are *known* negatives, while an unshown
#    candidate is only *unknown*. The first cell below measures it: the same ranker trained with every
#    label-period impression added to its groups. A group with no positive is dropped either way.
# 3. **How often to retrain.** The second cell measures what a *stale* stage 1 costs: embeddings and
#    features frozen at the start of the label period (one week old), used on the test week.

# %%
if HAS_IMPRESSIONS:
    X_imp, y_imp, groups_imp = training_set("sat", add_impressions=True)
    ranker_imp = lgb.LGBMRanker(**RANKER).fit(X_imp, y_imp, group=groups_imp)
    ndcg_imp = ndcg_at_10(rerank(ranker_imp.predict(X_eval).reshape(cand_eval.shape), cand_eval, K_CANDIDATES))
    print(f"NDCG@10, groups = candidates only: {ndcg_at_10(top_ranker):.3f}; "
          f"candidates + shown-and-skipped impressions: {ndcg_imp:.3f} ({len(X_imp):,} rows)")

    def pop_share(model):  # share of the model's total split gain spent on item popularity
        gain = model.booster_.feature_importance("gain")
        return gain[FEATURES.index("pop")] / gain.sum()
    print(f"share of split gain on popularity: candidates only {pop_share(ranker):.3f}; "
          f"with impressions {pop_share(ranker_imp):.3f}")
else:
    print("Skipped: a list of interactions has no impressions to take negatives from.")

# %% [markdown]
# Adding impressions *lowers* NDCG@10, from 0.164 to 0.144. These impressions come from the legacy home
# page, not from our retrieval. That page showed mostly popular items, so among those rows popularity
# separates enjoyed from skipped less well, and the ranker learns to lean on it about half as much (share
# of split gain 0.426 → 0.200). Among retrieved candidates — what it scores at serving time — popularity
# is its strongest signal. Impression negatives are right when the impressions come from the system the
# ranker serves in (after launch, log what *it* showed); until then, train on rows that look like what
# it will score.

# %%
stale_user, stale_item = fit_embeddings(hist_train)
cand_stale, score_stale = top_unseen(stale_user[eval_users] @ stale_item.T, eval_users, seen_eval, K_CANDIDATES)
x_stale = features(eval_users, cand_stale, score_stale, ist_train, ust_train)
top_stale = rerank(ranker.predict(x_stale).reshape(cand_stale.shape), cand_stale, K_CANDIDATES)
ndcg_fresh, ndcg_stale = ndcg_at_10(top_ranker), ndcg_at_10(top_stale)
print(f"NDCG@10 with fresh embeddings and features: {ndcg_fresh:.3f}; one week stale: {ndcg_stale:.3f} "
      f"({ndcg_stale / ndcg_fresh - 1:+.1%})")

# %% [markdown]
# A week of staleness costs 14.3 % of NDCG@10 (0.164 → 0.141). Both runs use the same ranker; only its
# inputs are a week old — stage 1's embeddings and the item and user statistics, which miss new
# positives and this week's popularity. Refreshing those takes seconds, so refresh them daily; retrain
# the ranker on a slower cadence (weekly, say) and measure its staleness the same way; alert if recall@k
# of retrieval drops between refreshes.

# %% [markdown]
# ## 6. Evaluation
#
# ### Offline: against the baselines and the oracle
#
# Because the world is synthetic, we can also rank with the **oracle**: the true probability that the
# user produces a satisfied click on each item in the test log (taste × exposure by the logging
# policy). No model can beat it on this metric in expectation, so it is the ceiling.
#
# **Predict, then run:** what share of the oracle's NDCG@10 will the two-stage ranker reach — a third,
# two thirds, or more than nine tenths? Write your guess down before you run the next cell.

# %%
if world is not None:
    top_oracle = np.empty((len(eval_users), 10), dtype=np.int64)
    for start in range(0, len(eval_users), 250):  # in chunks: users x whole catalogue
        users = eval_users[start : start + 250]
        truth = world.logged_positive_rate(users[:, None], np.arange(n_items)[None, :])
        top_oracle[start : start + 250] = top_unseen(truth, users, seen_eval, 10)[0]
    ndcg_oracle = ndcg_at_10(top_oracle)
else:
    ndcg_oracle = np.nan  # your data has no ground truth

offline = pd.DataFrame({"NDCG@10": {
    "most popular": ndcg_at_10(top_popular), "co-occurrence": ndcg_at_10(top_cooc),
    "candidate-score order": ndcg_at_10(cand_eval[:, :10]), "two-stage (ranker)": ndcg_at_10(top_ranker),
    "oracle": ndcg_oracle}})
offline["× popular"] = offline["NDCG@10"] / offline.loc["most popular", "NDCG@10"]
offline["share of oracle"] = offline["NDCG@10"] / ndcg_oracle
offline.round(3)

# %%
# Figure helper: the offline ladder
fig, ax = plt.subplots(figsize=(8, 3.5))
colours = ["tab:blue" if name == "two-stage (ranker)" else "0.6" for name in offline.index[::-1]]
ax.barh(offline.index[::-1], offline["NDCG@10"][::-1], color=colours)
ax.set(xlabel="NDCG@10 on the test period (higher is better)",
       title=f"The two-stage ranker reaches {offline.loc['two-stage (ranker)', 'NDCG@10'] / ndcg_oracle:.0%} of the oracle"
       if world is not None else "Offline ladder on your data")
plt.show()


# %% [markdown]
# The two-stage ranker scores NDCG@10 0.164: **2.079× the popularity baseline**, above stage 1's own
# order (0.146) and co-occurrence (0.143), and **0.705 of the oracle** (0.233). The rest of the gap is
# what better features or more data could still buy — and the oracle itself is far from 1.0, because
# which items a user happens to be shown next week is partly luck.

# %% [markdown]
# ### Coverage and concentration
#
# A recommender that shows everyone the same `50` items can score well offline and still starve the
# catalogue. Two numbers: **coverage** (share of the catalogue that appears in anyone's top 10) and the
# **Gini** of how often each item is recommended (0 = even, 1 = one item everywhere).

# %%
def exposure(top10):
    counts = np.bincount(top10.ravel(), minlength=n_items)
    return {"coverage": (counts > 0).mean(), "Gini of exposure": gini(counts)}

concentration = pd.DataFrame({name: exposure(top) for name, top in
                              [("most popular", top_popular), ("co-occurrence", top_cooc),
                               ("two-stage (ranker)", top_ranker)]}).T
concentration.round(3)


# %% [markdown]
# Popularity shows 0.2 % of the catalogue to everyone; the ranker reaches 5.1 % — wider, yet its
# Gini of 0.981 says a few items still take most of the slots. That matters once the system starts
# learning from its own logs (step 8).

# %% [markdown]
# ### Online: a simulated A/B test, clicks vs satisfaction
#
# Offline NDCG is measured on a log the *old* system produced. The real question is what users do
# when the new system is live. Our world has a simulator: each day a user returns with a probability
# that rises after satisfying sessions and falls after disappointing ones, sees 10 items from their
# list, clicks (with position bias) and watches.
#
# Two candidates, identical except for the label: a **click-optimised** pipeline (embeddings and
# ranker trained on clicks) and our **satisfaction-optimised** one. Each gives every user a `30`-item
# list — its ranker's order over the top `40` candidates, fewer than the `K_CANDIDATES` offline to keep
# the run short — and a returning user sees the first `10` items they have not clicked yet. Users are
# randomised `50/50`; the unit of analysis is the user.
#
# **Predict, then run:** which arm wins CTR, and which wins active days per user? Will each difference's
# `95` % interval exclude zero? Decide before you look at the A/B table below.

# %%
def user_lists(user_emb_, item_emb_, model, label, users, k=40, length=30):
    """Each user's ranked list of `length` unseen items: retrieve k, build features, rank."""
    cand, score = top_unseen(user_emb_[users] @ item_emb_.T, users, seen_matrix(hist_eval, label), k)
    s = model.predict(features(users, cand, score, ist_eval, ust_eval)).reshape(cand.shape)
    return np.take_along_axis(cand, np.argsort(-s, axis=1, kind="stable")[:, :length], axis=1)

if world is not None:
    X_c, y_c, g_c = training_set("click")
    click_ranker = lgb.LGBMRanker(**RANKER).fit(X_c, y_c, group=g_c)
    click_emb = fit_embeddings(hist_eval, "click")
    everyone = np.arange(n_users)
    in_b = np.random.default_rng(SEED + 1).random(n_users) < 0.5  # B = satisfaction-optimised
    lists_a, lists_b = np.full((n_users, 30), -1), np.full((n_users, 30), -1)
    need_a, need_b = np.union1d(everyone[~in_b], eval_users), np.union1d(everyone[in_b], eval_users)
    lists_a[need_a] = user_lists(*click_emb, click_ranker, "click", need_a)  # arm A + offline users
    lists_b[need_b] = user_lists(user_emb, item_emb, ranker, "sat", need_b)
    policy = np.where(in_b[:, None], lists_b, lists_a)
    ab = world.simulate(policy, days=AB_DAYS, seed=SEED)
    per_user = ab.per_user().assign(arm=np.where(in_b, "B: satisfaction", "A: clicks"))
    print(f"simulated {AB_DAYS} days: {len(ab.impressions):,} impressions for {n_users:,} users")
else:
    print("Skipped: the A/B test needs the simulator (DATA_PATH is set).")


# %% [markdown]
# Each user's outcome varies a lot with how active they were anyway, so we use **CUPED** (notebook 06):
# subtract the part of each metric predicted by the same user's behaviour in the logged days
# *before* the test (as many days as the test lasts). Same expected difference, narrower interval:
# the `B - A` column and its interval are CUPED-adjusted (so `B - A` differs a little from the
# difference of the raw means beside it), and the last column is the interval's width without
# CUPED. CTR is a ratio of sums, so its interval comes from a bootstrap over users.

# %%
def diff_ci(y, pre):
    """Raw means of A and B; CUPED-adjusted B - A with its 95% interval; the interval's width without CUPED."""
    def diff_se(v):
        a, b = v[~in_b], v[in_b]
        return b.mean() - a.mean(), np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
    theta = np.mean((pre - pre.mean()) * (y - y.mean())) / pre.var()  # CUPED slope (no BLAS: same everywhere)
    y_cuped = y - theta * (pre - pre.mean())
    diff, se = diff_se(y_cuped)
    return y[~in_b].mean(), y[in_b].mean(), diff, diff - 1.96 * se, diff + 1.96 * se, 2 * 1.96 * diff_se(y)[1]

def ctr_ci(clicks, shown, n_boot=1_000):
    r = np.random.default_rng(SEED)
    arms = [(clicks[m], shown[m]) for m in (~in_b, in_b)]
    boot = [c[i].sum(axis=1) / n[i].sum(axis=1) for c, n in arms for i in [r.integers(0, len(c), (n_boot, len(c)))]]
    (ca, na), (cb, nb) = arms
    low, high = np.percentile(boot[1] - boot[0], [2.5, 97.5])
    return ca.sum() / na.sum(), cb.sum() / nb.sum(), cb.sum() / nb.sum() - ca.sum() / na.sum(), low, high, high - low

if world is not None:
    before = world.log[world.log["day"] >= DAYS - AB_DAYS].groupby("user_id")
    pre_days = before["day"].nunique().reindex(range(n_users), fill_value=0).to_numpy()
    pre_watch = before["watch_fraction"].sum().reindex(range(n_users), fill_value=0).to_numpy()
    pre_sat = before["satisfied"].sum().reindex(range(n_users), fill_value=0).to_numpy()
    ab_table = pd.DataFrame({
        "CTR": ctr_ci(per_user["clicks"].to_numpy(), per_user["impressions"].to_numpy()),
        "satisfied clicks per user": diff_ci(per_user["satisfied_clicks"].to_numpy(float), pre_sat),
        "watch per user (items)": diff_ci(per_user["watch"].to_numpy(), pre_watch),
        "active days per user": diff_ci(per_user["active"].to_numpy(float), pre_days)},
        index=["A: clicks", "B: satisfaction", "B - A", "95% CI low", "95% CI high", "CI width, no CUPED"]).T
    display(ab_table.round(3))

# %% [markdown]
# The click-optimised arm A wins what it optimised: CTR 0.107 against 0.097, a difference whose whole
# interval is below zero. It loses what matters for the business: over 21 days arm B gets 0.774 more
# satisfied clicks per user, 0.487 more items' worth of watch time and 0.403 more active days per user,
# all with intervals that exclude zero at this seed. Only the first of the three is that solid: at other
# seeds the watch and active-day differences still favour B, but their intervals can include zero — a
# `21`-day test on `5,000` users is near the edge of what it can detect for return visits. So the
# scorecard asserts the interval for CTR and satisfied clicks, and only the direction (the point
# estimate) for watch and active days. CUPED earns its place: without it the active-days interval would
# be 0.714 wide instead of about half that (0.213 to 0.593), and the other two about a third wider. The mechanism is the
# planted one: clickbait disappoints, and disappointed users come back less often.

# %%
if world is not None:
    clicks_test = events[(events["t"] >= TEST_START) & events["click"]]
    clicked = sp.csr_matrix((np.ones(len(clicks_test)), (clicks_test["user"], clicks_test["item"])),
                            shape=(n_users, n_items))[eval_users].toarray() > 0
    def click_ndcg(top10):  # the dashboard metric a click-focused team would use
        hits = np.take_along_axis(clicked, top10, axis=1)
        ideal = np.cumsum(DISCOUNT)[np.clip(clicked.sum(axis=1), 1, 10) - 1]
        return float(np.mean((hits * DISCOUNT).sum(axis=1) / ideal))
    top_a, top_b = lists_a[eval_users, :10], lists_b[eval_users, :10]  # both systems, same users
    bait = world.items["clickbait"].to_numpy()
    offline_pick = pd.DataFrame({"click NDCG@10": [click_ndcg(top_a), click_ndcg(top_b)],
                                 "satisfied NDCG@10": [ndcg_at_10(top_a), ndcg_at_10(top_b)],
                                 "clickbait share of top 10": [bait[top_a].mean(), bait[top_b].mean()]},
                                index=["A: clicks", "B: satisfaction"])
    display(offline_pick.round(3))
    gap = ndcg_per_user(top_b) - ndcg_per_user(top_a)  # paired: the same users under both systems
    half_width = 1.96 * gap.std(ddof=1) / np.sqrt(len(gap))
    offline_gap = (gap.mean(), gap.mean() - half_width, gap.mean() + half_width)
    print("satisfied NDCG@10, B - A: {:+.3f} (95% CI {:+.3f} to {:+.3f})".format(*offline_gap))

# %% [markdown]
# Which one would the offline metric have picked? At the default seed it cannot tell: satisfied NDCG@10
# leans to B by +0.004, but its `95` % interval over the evaluation users runs from -0.004 to +0.012,
# so it includes zero. At other seeds the interval can exclude zero, and then offline NDCG does separate
# the arms; what the scorecard checks at seeds 0-3 is only that it leans the same way as online watch
# time. These lists rank `40` candidates, not `K_CANDIDATES`, so both NDCGs sit a little below step 4's.
# What offline NDCG misses, even when it picks the right arm, is the size of the stake. A puts clickbait
# in 15.1 % of its top 10, B in 3.0 %, and a gap of a few thousandths of NDCG does not say that. Nor can
# a log of past clicks show return visits: only the online test shows users coming back less under A,
# while online CTR points the other way. A team that ships on online CTR ships A.

# %%
# Figure helper: the A/B differences with their intervals
if world is not None:
    rel = ab_table[["B - A", "95% CI low", "95% CI high"]].div(ab_table["A: clicks"], axis=0)
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.errorbar(rel["B - A"], range(len(rel)), xerr=[rel["B - A"] - rel["95% CI low"], rel["95% CI high"] - rel["B - A"]],
                fmt="o", capsize=4)
    ax.axvline(0, color="grey", lw=1)
    ax.set_yticks(range(len(rel)), rel.index)
    ax.xaxis.set_major_formatter(plt.matplotlib.ticker.PercentFormatter(1.0))
    ax.set(xlabel="B (satisfaction) relative to A (clicks), with 95% CI",
           title="Optimising satisfaction gives up some CTR and wins watch time and return visits")
    plt.show()

# %% [markdown]
# > **Say it in the interview:** "Offline NDCG is computed on the old system's log, so I treat it as
# > a filter, not a verdict. The launch decision is an A/B test on long-term engagement — return rate
# > and satisfied watch time — with CTR as a guardrail, and I'd run it for at least two weeks so
# > return-visit effects show up."

# %% [markdown]
# ## 7. Serving
#
# One request, end to end: look up the user's vector, score the whole catalogue with one matrix
# product (exact top-k, no index), build the ranker's features for the k candidates from precomputed
# arrays (the online feature store, here numpy arrays in memory), score them with the booster, and
# return the top 10. Item embeddings and item statistics are precomputed by a batch job.

# %%
ranker_booster = ranker.booster_
seen_items = np.split(seen_eval.indices, seen_eval.indptr[1:-1])  # online store: each user's watched items

def retrieve(user, k=K_CANDIDATES):
    """Stage 1 online: exact top-k by dot product over the whole catalogue, seen items removed."""
    scores = item_emb @ user_emb[user]
    scores[seen_items[user]] = -np.inf
    cand = np.argpartition(-scores, k)[:k]
    return cand, scores[cand]

def rank(user, cand, cand_scores):
    """Stage 2 online: features from the in-memory store, booster scores, top 10."""
    x = features(np.array([user]), cand[None, :], cand_scores[None, :], ist_eval, ust_eval)
    return cand[np.argsort(-ranker_booster.predict(x, num_threads=1))[:10]]


# %%
# NBVAL_IGNORE_OUTPUT
request_users = np.random.default_rng(SEED).choice(eval_users, 400)
for user in request_users[:20]:  # warm-up, as a server does before taking traffic
    rank(user, *retrieve(user))
SERVING_BAR_MS = 20  # two-stage serving budget per request (course spec; make bench holds the p99 to it)
retrieval_latency = measure(retrieve, request_users, repeats=5)
latency = measure(lambda user: rank(user, *retrieve(user)), request_users, repeats=5)
print(f"{n_items:,} items, k = {K_CANDIDATES}, {len(request_users)} requests x 5 repeats")
print(f"retrieval only: {retrieval_latency}")
print(f"end to end:     {latency}")

# %% [markdown]
# Each line gives the median CPU time per call (best of five passes), the wall-clock median, and the
# wall-clock p99 over every call; all vary from run to run. On the machine that built this notebook the
# whole two-stage path took under a millisecond of CPU time at the median — far inside what step 1
# budgeted for retrieval, features and scoring together (`20` + `25` + `25` ms). When the p99 is several
# times the p50, it is mostly because the machine is shared: a request that starts while another process
# holds the CPU waits for it. That is why serving runs on reserved cores. The notebook's scorecard checks
# only the median CPU time against the `20` ms bar, which a busy laptop barely moves; the hard p99 bar lives in
# `make bench` (`tests/benchmarks/bench_recsys.py`), run on a quiet machine.
#
# ### When does exact search stop being enough?
#
# Exact retrieval reads every item vector on every request, so its cost grows with the catalogue.
# The cell below times it on a `1,000,000`-item table (our item vectors repeated, stored as float32 as a
# production index would) and scales the measurement up.

# %%
# NBVAL_IGNORE_OUTPUT
def scan_ms(n_rows=1_000_000):
    """p50 ms of an exact top-k over a catalogue of >= n_rows float32 vectors (128 MB at 1,000,000 x 32)."""
    catalogue, user_f32 = np.tile(item_emb.astype(np.float32), (-(-n_rows // n_items), 1)), user_emb.astype(np.float32)
    top_k = lambda user: np.argpartition(-(catalogue @ user_f32[user]), K_CANDIDATES)[:K_CANDIDATES]  # noqa: E731
    return measure(top_k, request_users[:10], repeats=3).p50, len(catalogue)

scan_p50, scanned = scan_ms()
ns_per_item = scan_p50 * 1e6 / scanned
retrieval_ms = budget_ms["candidate retrieval (top-k)"]
exact_100m_ms = ns_per_item * 1e8 / 1e6
print(f"exact top-{K_CANDIDATES} on one core: {ns_per_item:.1f} ns per item; the {retrieval_ms} ms retrieval "
      f"budget covers about {retrieval_ms * 1e6 / ns_per_item:,.0f} items")
print(f"100M items: {item_emb.shape[1] * 4 * 1e8 / 1e9:.1f} GB of vectors, {exact_100m_ms:,.0f} ms per request, "
      f"{qps_peak * exact_100m_ms / 1e3:,.0f} cores busy at {qps_peak:,.0f} requests/s")

# %% [markdown]
# One core scans a few million items within retrieval's `20` ms (first line; the exact figure varies
# with the machine). A `100`-million-item catalogue would take that budget many times over on every
# request, and hundreds of cores at peak traffic (second line). That is when an approximate
# nearest-neighbour index (HNSW, IVF-PQ) pays for itself: it visits a few thousand vectors per query
# instead of all of them, giving up a little recall — measure it with the same recall@k as above.
#
# **Caching.** Activity is skewed: the most active users make far more than their share of requests,
# and precomputing their lists in a batch job serves those requests from a cache:

# %%
requests_per_user = np.bincount(events["user"], minlength=n_users).astype(float)
top_tenth = np.sort(requests_per_user)[::-1][: n_users // 10].sum() / requests_per_user.sum()
print(f"share of requests from the 10% most active users: {top_tenth:.3f}")


# %% [markdown]
# A quarter of all requests (0.262) come from the 10 % most active users. That share can be served
# from a precomputed cache (refreshed as often as the embeddings), with the live two-stage path for
# everyone else and for users whose session changes their intent.
#
# > **Failure mode:** the ranker's features served online are computed differently from the batch
# > features it was trained on (a different time zone, a missing smoothing term). Here one function,
# > `features`, serves both paths; in production, log the served features and compare them with the
# > offline ones daily.

# %% [markdown]
# ## 8. Monitoring and iteration
#
# Once live, a recommender trains on logs it produced itself: items it shows collect clicks, items it
# never shows never get the chance. Watching that loop takes many retrain-and-serve rounds, so here we
# use a **simpler, production-style recommender, not the two-stage pipeline** — retraining that takes
# seconds a round, and we need many rounds (`FEEDBACK_ROUNDS`). The stand-in keeps what drives the loop in any
# recommender (ours included: its `pop`, `recent` and `ctr` features are counted from the logs): a
# popularity signal counted from its *own* logs, plus a personal one. Score = `1.5` × log(1 + the item's
# clicks so far) + the user's affinity to the item's category + a little noise, over each category's
# `100` most-clicked items. It launches on a day of random lists (round 0) and retrains on all its logs
# after each simulated day, for `1,500` users — once as is, once with a share `EPSILON` of slots given
# to random items (exploration). Per round: the Gini of the day's impressions, and **coverage**, the
# share of the catalogue shown at least once that day.

# %%
def feedback_loop(epsilon, rounds=FEEDBACK_ROUNDS, n=1_500, length=30, pool_per_category=100, seed=SEED):
    """Retrain-on-own-logs rounds; Gini and coverage of each day's impressions (round 0 = random launch)."""
    r = np.random.default_rng(seed)
    users = r.choice(n_users, n, replace=False)
    clicked = world.log[world.log["clicked"]]
    aff = np.zeros((n_users, category.max() + 1))
    np.add.at(aff, (clicked["user_id"].to_numpy(), category[clicked["item_id"].to_numpy()]), 1)
    aff = np.log1p(aff[users])
    lists, clicks, exposure_per_round = r.integers(0, n_items, (n, length)), np.zeros(n_items), []
    for round_ in range(rounds + 1):
        day = world.simulate(lists, days=1, seed=seed + round_, start_day=DAYS + round_, user_ids=users).impressions
        shown = np.bincount(day["item_id"], minlength=n_items)
        exposure_per_round.append({"Gini": gini(shown), "coverage": (shown > 0).mean()})
        clicks += np.bincount(day["item_id"], weights=day["clicked"], minlength=n_items)  # retrain on own logs
        pool = np.concatenate([np.flatnonzero(category == c)[np.argsort(-clicks[category == c], kind="stable")][:pool_per_category]
                               for c in range(category.max() + 1)])
        score = 1.5 * np.log1p(clicks[pool])[None, :] + aff[:, category[pool]] + r.gumbel(size=(n, len(pool)))
        top = np.argpartition(-score, length, axis=1)[:, :length]
        lists = pool[np.take_along_axis(top, np.argsort(-np.take_along_axis(score, top, axis=1), axis=1), axis=1)]
        lists = np.where(r.random(lists.shape) < epsilon, r.integers(0, n_items, lists.shape), lists)
    return pd.DataFrame(exposure_per_round).rename_axis("round")

if world is not None:
    loop = pd.concat({"no exploration": feedback_loop(0.0), f"ε = {EPSILON}": feedback_loop(EPSILON)}, axis=1)
    display(loop.round(3).T)
else:
    print("Skipped: the feedback loop needs the simulator (DATA_PATH is set).")

# %%
# Figure helper: exposure concentration over retraining rounds
if world is not None:
    fig, ax = plt.subplots(figsize=(8, 4))
    for name in loop.columns.levels[0]:
        ax.plot(loop.index, loop[name, "Gini"], marker="o", label=name)
    ax.set(xlabel="retraining round (1 simulated day each; 0 = random launch)", ylabel="Gini of impressions (0 = even)",
           title="Retraining on its own logs concentrates exposure; exploration slows it")
    ax.legend()
    plt.show()

# %% [markdown]
# Round 0 is a floor, not zero: 1,500 users' few thousand impressions a day cannot cover 10,000 items,
# so even random lists reach only 0.370 of the catalogue (Gini 0.689). Round 1 jumps because the
# recommender draws only from its 2,000-item pool; the feedback loop is what follows. Without
# exploration the Gini keeps rising, 0.886 → 0.967, and coverage shrinks from 0.170 to 0.098: the
# items that got clicks get shown more, which gets them more clicks. With 20 % exploratory slots the
# Gini rises less (0.846 → 0.915) and coverage holds better (0.231 → 0.182). The price is the
# exploratory slots themselves — a fifth of each list goes to random items; the gain is a catalogue
# that keeps getting a chance.

# %% [markdown]
# **What to watch in production**, each with an alert rule:
#
# | signal | why | alert when |
# |---|---|---|
# | Gini of impressions, catalogue coverage | the feedback loop above | rising for 3 days in a row |
# | CTR **and** satisfied-click rate, return rate | clickbait drift: clicks up, satisfaction down | the two diverge |
# | recall@k of retrieval on yesterday's positives | stale embeddings, new items missing | drops 10 % below the weekly mean |
# | p99 latency per stage | a slow stage eats the budget | p99 > `50` % of its budget share |
# | share of cold-start users/items | the model has nothing to say about them | rising |
#
# > **Failure mode:** a feedback loop looks like success — CTR stays flat while the catalogue
# > the users see shrinks. Only exposure metrics and exploration traffic reveal it.

# %% [markdown]
# ## Your turn
#
# Replace each `TODO` with your answer and run the cell; the check says whether it is right.
# Exercises 4 and 5 are answered in words: write your answer, then compare it with the model answer
# and the self-check list in the Solutions.
#
# ### Exercise 1 · Recall with fewer candidates
#
# Serving `75` candidates instead of `K_CANDIDATES` would cut ranking cost. What recall@k does stage 1
# reach with k = `75`? (No table above prints it: compute it.)

# %% jupyter={"source_hidden": true} tags=["answer-key"]
# Answer key for the self-checks below, computed from the notebook's state (so it follows the
# knobs). Collapsed so that it does not spoil the exercises: try them first.
_key = {}
_key['Exercise 1'] = recall_at(cand_eval, 75)
_key['Exercise 2'] = offline.loc["two-stage (ranker)", "NDCG@10"] / offline.loc["co-occurrence", "NDCG@10"]
_key['Exercise 3'] = 200e6 * item_emb.shape[1] * item_emb.itemsize / 1e9

# %%
answer = TODO
ok = check_answer("Exercise 1", answer, _key['Exercise 1'], rel_tol=0.001,
                  hint="step 4 defined a helper that scores any k; which array holds stage 1's ranked candidates?")

# %% [markdown]
# ### Exercise 2 · Against the strongest baseline
#
# Popularity is easy to beat. How many times the **co-occurrence** baseline's NDCG@10 does the
# two-stage ranker reach?

# %%
answer = TODO
ok = check_answer("Exercise 2", answer,
                  _key['Exercise 2'],
                  rel_tol=0.002, hint="the `offline` DataFrame of step 6 holds both rows at full precision "
                  "(the printed table is rounded); 'how many times' is a ratio, not a difference")

# %% [markdown]
# ### Exercise 3 · Does exact search still fit?
#
# A catalogue grows to `200` million items, stored the way this notebook stores `item_emb` (same
# dimension, same number type). How many GB (`10⁹` bytes) does the item table take? Then decide
# whether exact search still fits one machine's memory, and whether it fits the retrieval budget.

# %%
answer = TODO
ok = check_answer("Exercise 3", answer, _key['Exercise 3'], rel_tol=0.01,
                  hint="a numpy array knows its shape and how many bytes each of its numbers takes")

# %% [markdown]
# ### Exercise 4 (judgment) · Which metric goes on the A/B dashboard?
#
# Your product manager wants CTR as the launch metric for the next ranker: it moves within a day, and
# the team's last three launches all raised it. Using step 6's A/B table, say which metric decides the
# launch, which ones are guardrails, and how long the test runs. Defend it in three sentences.
#
# ### Exercise 5 (judgment) · What failure mode does the Gini plot show?
#
# An engineer shows you step 8's plot and says: "CTR has been flat for weeks, so the model is fine."
# Name the failure mode the plot shows, what you would alert on, and what you would change in the
# system — including what that change costs.

# %% [markdown]
# ## Scorecard
#
# Every claim this notebook made, recomputed from the variables above. With the default parameters the
# cell asserts that each holds; with other settings (or your own data, `DATA_PATH`) it reports which
# do not, and why: the bars are properties of our world at its defaults.

# %% tags=["scorecard"]
ranker_ndcg = offline.loc["two-stage (ranker)", "NDCG@10"]
recall_gain = np.float64(recall_at(cand_eval, K_CANDIDATES)) / recall_at(cand_eval, 10)  # inf, not an error, if 0
rows = [
    ("ranker NDCG@10 / most popular", ranker_ndcg / offline.loc["most popular", "NDCG@10"], ">= 1.3",
     ranker_ndcg / offline.loc["most popular", "NDCG@10"] >= 1.3),
    ("ranker NDCG@10 - candidate-score order", ranker_ndcg - offline.loc["candidate-score order", "NDCG@10"], "> 0",
     ranker_ndcg > offline.loc["candidate-score order", "NDCG@10"]),
    ("ranker NDCG@10 - co-occurrence", ranker_ndcg - offline.loc["co-occurrence", "NDCG@10"], "> 0",
     ranker_ndcg > offline.loc["co-occurrence", "NDCG@10"]),
    ("NDCG@10 change with one-week-stale inputs", ndcg_stale / ndcg_fresh - 1, "< 0", ndcg_stale < ndcg_fresh),
    ("stage 1 recall@K_CANDIDATES / recall@10", recall_gain, ">= 2",
     recall_gain >= 2),
    (f"end-to-end CPU p50 <= {SERVING_BAR_MS} ms (best of 5 repeats; p99 is make bench's)",
     bool(latency.p50 <= SERVING_BAR_MS), "True", latency.p50 <= SERVING_BAR_MS, f"p50 was {latency.p50:.1f} ms"),
    ("exact scan of 100M items >= 10x the retrieval budget", bool(exact_100m_ms >= 10 * retrieval_ms), "True",
     exact_100m_ms >= 10 * retrieval_ms, f"{exact_100m_ms:.0f} ms per request"),
]
if world is not None:
    gini_rise = loop.xs("Gini", axis=1, level=1).iloc[-1] - loop.xs("Gini", axis=1, level=1).iloc[1]
    bait_ratio = offline_pick.iloc[0, 2] / offline_pick.iloc[1, 2]  # A's clickbait share over B's
    ab = ab_table  # rows: metrics; columns include "B - A", "95% CI low", "95% CI high"
    rows += [
        ("ranker NDCG@10 / oracle", ranker_ndcg / ndcg_oracle, "< 1 (reported)", ranker_ndcg < ndcg_oracle),
        ("NDCG@10 with impressions added to groups", ndcg_imp, f"< candidates only ({ranker_ndcg:.3f})", ndcg_imp < ranker_ndcg),
        ("A/B: CTR difference B - A, 95% CI high", ab.loc["CTR", "95% CI high"], "< 0 (A wins clicks)",
         ab.loc["CTR", "95% CI high"] < 0),
        ("A/B: satisfied clicks per user B - A, 95% CI low", ab.loc["satisfied clicks per user", "95% CI low"],
         "> 0 (B wins)", ab.loc["satisfied clicks per user", "95% CI low"] > 0),
        *[(f"A/B: {metric} B - A, direction only (CI may include 0)", ab.loc[metric, "B - A"],
           f"> 0 (CI {ab.loc[metric, '95% CI low']:+.3f} to {ab.loc[metric, '95% CI high']:+.3f})",
           ab.loc[metric, "B - A"] > 0)
          for metric in ("watch per user (items)", "active days per user")],
        ("offline satisfied NDCG and online watch pick the same arm",
         bool((offline_gap[0] > 0) == (ab.loc["watch per user (items)", "B - A"] > 0)), "True",
         (offline_gap[0] > 0) == (ab.loc["watch per user (items)", "B - A"] > 0)),
        ("clickbait share of top 10, A / B", bait_ratio, ">= 3", bait_ratio >= 3),
        ("Gini rise, round 1 to last, no exploration", gini_rise["no exploration"], "> 0", gini_rise["no exploration"] > 0),
        ("Gini rise, round 1 to last, with exploration", gini_rise[f"ε = {EPSILON}"], "< rise without",
         gini_rise[f"ε = {EPSILON}"] < gini_rise["no exploration"]),
    ]
scorecard = build(rows)
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)

# %% [markdown]
# ## In 60 seconds
#
# "I'd optimise long-term engagement — satisfied watch time and return visits — with CTR as a
# guardrail, because a click label learns clickbait. The system has two stages: matrix-factorisation
# embeddings retrieve a couple of hundred candidates from the whole catalogue — exact search while a
# core can scan the catalogue inside the retrieval budget — a few million items — an ANN index beyond —
# then a LightGBM lambdarank model ranks them with popularity, recency, category affinity and smoothed
# CTR and watch rates, all computed as of the request time, and trained on rows that look like what it
# will score. Offline, on a time split, I report recall@k for retrieval and NDCG@10 against popularity
# and the oracle: here the ranker scores 2.1× popularity and 70 % of the oracle. Online, a user-level
# A/B test with CUPED decides, because the offline log was produced by the old system: here the
# click-optimised variant won CTR and lost satisfied clicks, clearly; watch time and return visits
# leaned the same way, but a test this short cannot always tell them from zero, so for return visits
# I'd run it longer. A request costs about a millisecond of CPU at the median against a 100 ms budget. In production I watch exposure
# concentration and coverage, because retraining on its own logs narrows what users see, and keep a
# small exploration share as the guardrail."

# %% [markdown]
# ## Solutions
#
# Each numeric solution computes the answer from the notebook's variables and runs the same check.

# %%
answer = recall_at(cand_eval, 75)  # Exercise 1: the recall helper at k = 75 on stage 1's candidates
ok = check_answer("Exercise 1", answer, recall_at(cand_eval, 75), rel_tol=0.001)
answer = offline.loc["two-stage (ranker)", "NDCG@10"] / offline.loc["co-occurrence", "NDCG@10"]  # Exercise 2
ok = check_answer("Exercise 2", answer,
                  offline.loc["two-stage (ranker)", "NDCG@10"] / offline.loc["co-occurrence", "NDCG@10"], rel_tol=0.002)
answer = 200e6 * item_emb.shape[1] * item_emb.itemsize / 1e9  # Exercise 3: items x dimensions x bytes per number
ok = check_answer("Exercise 3", answer, 200e6 * item_emb.shape[1] * item_emb.itemsize / 1e9, rel_tol=0.01)

# %% [markdown]
# Exercise 3, the decision: the table still fits one large server's memory, but exact search would read
# all of it on every request; step 7's scan rate puts that far beyond the retrieval budget, so an ANN
# index it is. (Stored as float32, as a production index would, it takes half as much.)
#
# ### Exercise 4 (judgment) · Which metric goes on the A/B dashboard?
#
# **Model answer:** The decision metric is long-term engagement per user — active days (return visits)
# and satisfied clicks or watch time per user — because that is the business goal and it is what the
# clickbait arm loses: in step 6 arm A won CTR and lost satisfied clicks, each with an interval that
# excludes zero (the scorecard checks both at seeds 0-3). Watch time and active days moved the same way,
# but their intervals can include zero at some seeds: a `21`-day test on `5,000` users is near the edge
# of what it can detect for return visits. CTR stays on the dashboard as a guardrail (a large drop means
# the lists stopped being relevant), next to latency and the clickbait share of what is shown. The test
# randomises users, uses CUPED on the pre-period to narrow the intervals, and runs at least two weeks —
# longer, or on more users, if return visits are to decide it — because return visits react only after
# users have had a few disappointing or satisfying sessions.
#
# **Self-check:**
# - names a long-term, per-user metric (return visits, satisfied watch) as the decision metric, not CTR;
# - cites the A/B result: CTR and long-term engagement pointed in opposite directions;
# - keeps CTR (and latency) as guardrails rather than dropping them;
# - gives a duration long enough for return visits to move, and the user as the unit of randomisation;
# - mentions variance reduction (CUPED) or the interval, not just the point estimate.
#
# ### Exercise 5 (judgment) · What failure mode does the Gini plot show?
#
# **Model answer:** A feedback loop: the recommender retrains on logs it produced, so items it showed
# collect clicks and get shown more, and the catalogue users actually see shrinks — the Gini of
# impressions climbs and coverage falls round after round, while CTR can stay flat because the
# surviving items are the clickable ones. I would alert on exposure metrics (Gini of impressions,
# share of the catalogue shown at least once, rising several days in a row), not on CTR. The fix is
# exploration: reserve a share of slots for items the model is unsure about, and log them with their
# propensities so later training can correct for exposure. It costs slots: in step 8 a fifth of each list
# goes to random items, which show fewer proven hits today in exchange for a catalogue that keeps
# getting a chance.
#
# **Self-check:**
# - names the feedback loop (the model learns from its own exposure), not "overfitting" or "drift";
# - picks exposure metrics (Gini, coverage) as the alert, and says why CTR cannot reveal it;
# - proposes exploration (or another way to show unproven items) as the change;
# - states the price: exploratory slots show weaker items in the short term;
# - mentions logging what was explored so training can correct for exposure.

# %% [markdown]
# *Navigation:* ← [00 · Course map](00_course_map.ipynb) · [10 · Fraud detection](10_case_fraud_detection.ipynb) →
