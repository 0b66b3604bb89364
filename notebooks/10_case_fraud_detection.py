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
# # 10 · Fraud detection
#
# *Catch stolen cards in a few milliseconds without drowning the review team — and prove every step with numbers.*
#
# about 100 min · needs: [00 · Course map](00_course_map.ipynb), some pandas; notebooks 03–08 go deeper into each step
#
# **15-minute path:** 3 · Data and features (velocity, and leakage measured), 4 · Model (the ladder against the
# oracle), 6 · Evaluation (PR-AUC, and a threshold from costs), 8 · Monitoring and iteration (drift, and why
# blocked payments never get labels).
#
# *Navigation:* ← [09 · Recommendations](09_case_recommendations.ipynb) · [Course map](00_course_map.ipynb) · [11 · Search ranking](11_case_search_ranking.ipynb) →
#
# **You will be able to:**
# - compute point-in-time velocity features and show, with numbers, how much they are worth;
# - test a label-derived feature for leakage by scoring it twice: offline, and on the weeks after deployment;
# - choose an alert threshold from costs rather than 0.5, and say what it saves per day;
# - serve the model in real time with online feature state that matches the offline features exactly;
# - explain why fraud models decay, what monitoring sees it, and why blocked payments never get labels.

# %% tags=["parameters"]
# Parameters: change them and re-run the whole notebook. The next cell lists each knob's valid
# range; at the defaults the scorecard asserts its claims, with other values it reports them.
# (A 300k-transaction world keeps the run near 30 s on a 2-core laptop.)
SEED = 0
N_TRANSACTIONS = 300_000
N_DAYS = 150
BASE_RATE = 0.009           # expected share of fraud (valid range in the knobs table below)
LABEL_DELAY_DAYS = 7.0      # mean days until a chargeback arrives
DRIFT_DAY = 110             # a new fraud pattern starts on this day
TRAIN_START, TRAIN_END = 7, 77   # training window (days); the first week only warms up history
DEPLOY_DAY = 84             # the model goes live; the week in between is the label-delay gap
RETRAIN_DAY = 131           # monitoring retrains on recent data on this day

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**32 - 1, "seed of the world and every model"),
    Knob("N_TRANSACTIONS", 300_000, 100_000, 400_000, "payments in the synthetic world"),
    Knob("N_DAYS", 150, 140, 180, "days of history"),
    Knob("BASE_RATE", 0.009, 0.001, 0.01, "expected share of fraud over the whole history"),
    Knob("LABEL_DELAY_DAYS", 7.0, 1.0, 30.0, "mean days until a chargeback arrives"),
    Knob("DRIFT_DAY", 110, 91, 124, "day the new fraud pattern starts"),
    Knob("TRAIN_START", 7, 0, 21, "first training day"),
    Knob("TRAIN_END", 77, 42, 84, "training stops before this day"),
    Knob("DEPLOY_DAY", 84, 77, 103, "day the model goes live"),
    Knob("RETRAIN_DAY", 131, 117, 143, "day monitoring retrains the model"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())   # ValueError names knob, value and range
if not (TRAIN_START < TRAIN_END <= DEPLOY_DAY and DEPLOY_DAY + 7 <= DRIFT_DAY
        and DRIFT_DAY + 7 <= RETRAIN_DAY and RETRAIN_DAY + 7 <= N_DAYS):
    raise ValueError("the days must keep their order, a week apart: TRAIN_START < TRAIN_END <= DEPLOY_DAY, "
                     "DEPLOY_DAY + 7 <= DRIFT_DAY, DRIFT_DAY + 7 <= RETRAIN_DAY, RETRAIN_DAY + 7 <= N_DAYS; got "
                     f"{TRAIN_START}, {TRAIN_END}, {DEPLOY_DAY}, {DRIFT_DAY}, {RETRAIN_DAY}, {N_DAYS}")
knob_table(KNOBS, globals())

# %% [markdown]
# Numbers in the text are for the default parameters (`SEED = 0`); numbers in `code font` are
# inputs we chose. With other settings, read the printed outputs.

# %%
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # LightGBM threads yield when the machine is busy

from bisect import bisect_left
from collections import defaultdict

import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
from IPython.display import display
from ipywidgets import FloatSlider, interact
from scipy.optimize import brentq
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from utils import check_answer, use_course_style
from utils.checks import TODO
from utils.fraud import SCENARIOS, START, make_fraud_world
from utils.timing import measure

for module, wanted in [(np, "2."), (pd, "3."), (sklearn, "1."), (lgb, "4.")]:
    assert module.__version__.startswith(wanted), (
        f"{module.__name__} {module.__version__} found, {wanted}x expected: "
        "run `make lab` (it installs the pinned requirements.txt into .venv)")
use_course_style()

# %% [markdown]
# ## 1. Clarify the problem
#
# We are the card issuer. Every card payment asks us for an authorisation, and we answer
# *approve*, *review* (hold it and let an analyst look) or *decline*. The business metric is money:
#
# - **fraud loss** — a fraud we approve costs its full amount (the chargeback);
# - **false declines** — blocking a good customer costs friction: an angry call, a card left in the drawer;
# - **review cost** — each alert an analyst opens costs a few minutes of their time.
#
# Assumptions we state out loud, as in an interview: the decision must fit inside the card
# network's authorisation window (about `100` ms end to end), so the model gets **`10` ms**; a
# mid-size issuer sees about two thousand transactions per second at peak; the review team can open a
# fixed number of alerts per day. Our synthetic world is a small slice of that issuer, with the
# ground truth attached.

# %%
world = make_fraud_world(n_transactions=N_TRANSACTIONS, n_days=N_DAYS, base_rate=BASE_RATE,
                         label_delay_days=LABEL_DELAY_DAYS, drift_day=DRIFT_DAY, seed=SEED)
tx = world.transactions
fraud = tx["is_fraud"] == 1
print(f"{len(tx):,} transactions over {N_DAYS} days = {len(tx) / N_DAYS:,.0f} per day, "
      f"{world.config['n_cards']:,} cards, {world.config['n_terminals']:,} terminals")
print(f"fraud rate {fraud.mean():.3%} (1 in {1 / fraud.mean():.0f}); "
      f"median amount: fraud {tx.loc[fraud, 'amount'].median():.2f}, "
      f"legitimate {tx.loc[~fraud, 'amount'].median():.2f}")
tx.head(3)

# %% [markdown]
# About one payment in a hundred is fraud, and a fraud's median amount is about twice a good
# payment's (the two medians above). Compare that with what a false alarm costs — a few minutes
# of review plus some friction, call it `5 + 15 = 20` — and the asymmetry that drives the whole
# design is visible: a typical missed fraud costs two to three times a false alarm, a large one
# far more. The last four columns (`is_fraud`,
# `scenario`, `label_available_at`, `true_prob`) are the ground truth; no model may see them.

# %% [markdown]
# ## 2. Frame it as an ML problem
#
# - **Task:** binary classification. The model outputs a *probability* of fraud; a policy turns
#   it into approve / review / decline using costs (section 6), not a fixed `0.5`.
# - **Label:** a chargeback — the cardholder disputes the payment. It is a proxy for fraud that
#   arrives **late**: the label exists only from `label_available_at` on.
# - **Imbalance:** about 1 % positives, so accuracy is meaningless (always saying "legitimate" is
#   right about every payment but the one in a hundred). We use cost, and **PR-AUC**: rank the payments by score and walk down the
#   list; *precision* is the share of alerts so far that are fraud, *recall* the share of all
#   frauds caught so far. PR-AUC (average precision) averages precision over every recall level:
#   a random ranking scores the fraud rate, a perfect one 1.
#
# How late is late? The next cell measures the delay and what share of labels exists after a week.

# %%
delay_days = (tx.loc[fraud, "label_available_at"] - tx.loc[fraud, "timestamp"]) / pd.Timedelta(days=1)
known_after = {d: float((delay_days <= d).mean()) for d in (1, 3, 7, 14, 28)}
print("share of fraud labels known after  " +
      "   ".join(f"{d} days: {share:.3f}" for d, share in known_after.items()))
print(f"mean delay {delay_days.mean():.1f} days, median {delay_days.median():.1f} days")

fig, ax = plt.subplots()
ax.hist(delay_days, bins=60, color="tab:red", alpha=0.8)
ax.axvline(delay_days.mean(), color="k", ls="--", label=f"mean delay ({delay_days.mean():.1f} days)")
ax.set(xlabel="days from transaction to chargeback", ylabel="fraud transactions",
       title=f"Chargebacks trickle in: a week after a fraud, {1 - known_after[7]:.0%} of labels are still missing")
ax.legend()
plt.show()

# %% [markdown]
# The printed shares are the cumulative fraction of chargebacks that have arrived: a fraud from yesterday almost never has its label yet (0.032 after one day), after a week 0.597
# have arrived — so about two in five are still missing — and even after two weeks only 0.913 have. The mean delay is
# 6.9 days, the median 5.8: a long right tail of slow disputes. Two
# consequences follow: training data needs a **gap** before the training cut-off (section 5),
# and any feature built from labels may use only labels **already known** at prediction time
# (section 3).

# %% [markdown]
# ## 3. Data and features
#
# A stolen card rarely looks strange on its own: the amount is ordinary, the shop is ordinary.
# What gives it away is *rhythm* — six purchases in half an hour from a card that buys twice a
# week. So for every transaction we compute what the card, its device and its terminal did
# **before** it, using only events that had already happened:
#
# | family | features | catches |
# |---|---|---|
# | transaction | `amount`, `hour`, `channel`, `is_foreign` | little on its own |
# | card velocity | counts and sums over the last hour, day and week; seconds since the previous payment; amount ÷ the card's 30-day mean | stolen-card bursts |
# | device | earlier uses of this device by this card | account takeover |
# | terminal risk | chargebacks *received* for the terminal in the last `7` and `28` days, as counts and per payment | compromised terminals |
#
# The windows are computed in one vectorised pass: sort by (entity, time), then a binary search
# finds where each window starts, and a cumulative sum gives the window's total.

# %%
HOUR, DAY = 3600, 86_400


def seconds(column: pd.Series) -> np.ndarray:
    # Whole seconds since the world's start: integer time keeps online and offline identical.
    return ((column - START) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def past_window(entity, t, cents, window):
    # Count and sum of `cents` over the same entity's EARLIER rows with time in [t - window, t).
    order = np.lexsort((np.arange(len(t)), t, entity))      # by entity, then time, then row
    key = entity[order] * 10**9 + t[order]                    # one sorted key per row
    first = np.searchsorted(key, key - window, side="left")   # where each row's window starts
    pos = np.arange(len(key))
    csum = np.concatenate([[0], np.cumsum(cents[order])])
    count, total = np.empty_like(pos), np.empty_like(pos)
    count[order], total[order] = pos - first, csum[pos] - csum[first]
    return count, total


# %%
def chargebacks_received(tx, entity, t, window, label_col="label_available_at"):
    # Chargebacks for the same entity that ARRIVED in (t - window, t]: labels known at time t.
    is_fraud = tx["is_fraud"].to_numpy() == 1
    arrived = np.sort(entity[is_fraud] * 10**9 + seconds(tx.loc[is_fraud, label_col]))
    now = entity * 10**9 + t
    return np.searchsorted(arrived, now, "right") - np.searchsorted(arrived, now - window, "right")


def leaky_chargebacks(tx, entity, window_days):
    # The classic mistake: join a daily table of terminal fraud counts built from TODAY's label
    # table, on the transaction date. It counts frauds whose chargeback had not arrived yet.
    day, is_fraud = tx["day"].to_numpy(), tx["is_fraud"].to_numpy() == 1
    grid = np.zeros((entity.max() + 1, day.max() + 2))
    np.add.at(grid, (entity[is_fraud], day[is_fraud] + 1), 1)
    cumulative = grid.cumsum(axis=1)
    return cumulative[entity, day + 1] - cumulative[entity, np.maximum(day + 1 - window_days, 0)]


# %%
def build_features(tx, leaky=False):
    t, card, term = seconds(tx["timestamp"]), tx["customer_id"].to_numpy(), tx["terminal_id"].to_numpy()
    cents = np.round(tx["amount"].to_numpy() * 100).astype(np.int64)
    f = pd.DataFrame({"amount": tx["amount"], "hour": tx["hour"],
                      "channel": tx["channel"].cat.codes.astype(np.int64),
                      "is_foreign": (tx["country"] != tx["card_country"]).astype(np.int64)})
    for name, window in [("1h", HOUR), ("24h", DAY), ("7d", 7 * DAY)]:
        f[f"card_n_{name}"], total = past_window(card, t, cents, window)
        if name != "7d":
            f[f"card_sum_{name}"] = total / 100
    n30, s30 = past_window(card, t, cents, 30 * DAY)
    f["amount_vs_card_30d"] = np.where(n30 > 0, cents * n30 / np.maximum(s30, 1), np.nan)
    previous = tx.groupby("customer_id")["timestamp"].shift()           # rows are in time order
    f["secs_since_prev"] = (tx["timestamp"] - previous) / pd.Timedelta(seconds=1)
    uses = tx.groupby(["customer_id", "device_id"]).cumcount().to_numpy()
    f["device_prior_uses"] = np.where(tx["device_id"].to_numpy() >= 0, uses, np.nan)
    for days in (7, 28):
        received = (leaky_chargebacks(tx, term, days) if leaky
                    else chargebacks_received(tx, term, t, days * DAY))
        f[f"term_cb_{days}d"] = received
        f[f"term_cb_rate_{days}d"] = received / (past_window(term, t, cents, days * DAY)[0] + 1)
    return f


# %%
features = build_features(tx)
leaky_features = build_features(tx, leaky=True)
FEATURES = list(features.columns)
VELOCITY = [c for c in FEATURES if c.startswith(("card_", "term_"))] + ["secs_since_prev"]
print(f"{len(FEATURES)} features for {len(tx):,} transactions "
      f"({len(VELOCITY)} of them velocity / history windows)")
first_burst = tx.index[(tx["scenario"] == 1) & (tx["day"] >= 30)][0]   # one stolen card's story
card_rows = tx.index[tx["customer_id"] == tx.loc[first_burst, "customer_id"]]
at = card_rows.get_loc(first_burst)
shown = card_rows[max(at - 3, 0):at + 6]
tx.loc[shown, ["timestamp", "amount", "scenario", "is_fraud"]].join(
    features.loc[shown, ["card_n_1h", "card_sum_1h", "secs_since_prev", "amount_vs_card_30d"]].round(3))

# %% [markdown]
# The three ordinary payments before the burst are hours to days apart (`secs_since_prev`
# between 22,451 and 141,182 seconds) and each has an empty one-hour window. Then the burst
# (scenario 1): five more payments minutes apart (92 to 499 seconds), and `card_n_1h`
# climbs 1, 2, 3, 4, 5. Look at the burst's **first** payment: its window is empty and its amount
# is ordinary (0.385 of the card's 30-day mean), so no feature can see it — a limit we meet again
# when we compare the model with the oracle.
#
# > **Say it in the interview:** "The strongest fraud features are per-entity velocity aggregates
# > over several windows — card, device, terminal — computed as of the transaction time and
# > served from a streaming store."

# %% [markdown]
# ### Leakage, measured
#
# The terminal-risk feature is the dangerous one: it is built from labels, and labels arrive
# late. The leaky version joins a daily terminal fraud table built from today's label table — it
# counts frauds whose chargeback had *not* arrived at the time of the payment (including, often,
# the payment itself). We train the same model on each version and evaluate it twice: **offline**
# on a random 30 % of the training period (what a hurried team would report), and on **the
# future** — the weeks after deployment, where the production pipeline can only compute the
# honest version, because the labels do not exist yet.
#
# **Predict, then run:** offline, the leaky model will look better — that is why teams ship it.
# On the future weeks, will it beat the honest model, match it, or fall below it?

# %%
# Small trees, strong regularisation, row/feature subsampling: ~1,000 positives do not support more.
LGB_PARAMS = dict(objective="binary", learning_rate=0.1, num_leaves=7, min_child_samples=100,
                  lambda_l2=10.0, feature_fraction=0.8, bagging_fraction=0.5, bagging_freq=1,
                  max_bin=63, deterministic=True, force_row_wise=True, num_threads=2, seed=SEED,
                  verbose=-1)


def fit_lgbm(X, y, rounds=150, weight=None, **params):
    return lgb.train({**LGB_PARAMS, **params}, lgb.Dataset(X, y, weight=weight), rounds)


def pr_auc(y, score):
    return round(float(average_precision_score(y, score)), 3)


day = tx["day"].to_numpy()
y_true = tx["is_fraud"].to_numpy()
deploy_time = START + pd.Timedelta(days=DEPLOY_DAY)
y_known = (fraud & (tx["label_available_at"] <= deploy_time)).to_numpy().astype(int)  # labels we have
train = (day >= TRAIN_START) & (day < TRAIN_END)
future = (day >= DEPLOY_DAY) & (day < DRIFT_DAY)

# %%
rng = np.random.default_rng(SEED)
in_sample = train & (rng.random(len(tx)) < 0.7)   # random split inside the training period
held_out = train & ~in_sample
leak_rows = []
for name, table in [("honest", features), ("leaky", leaky_features)]:
    model = fit_lgbm(table.loc[in_sample, FEATURES], y_known[in_sample])
    offline = pr_auc(y_known[held_out], model.predict(table.loc[held_out, FEATURES]))
    on_future = pr_auc(y_true[future], model.predict(features.loc[future, FEATURES]))  # production features
    leak_rows.append({"terminal risk": name, "PR-AUC offline (random split)": offline,
                      "PR-AUC on the future": on_future})
leak_table = pd.DataFrame(leak_rows).set_index("terminal risk")
leak_table

# %% [markdown]
# The signature of leakage, measured. Offline, the leaky terminal feature looks like a big win:
# PR-AUC 0.862 against 0.691 for the honest one. On the future weeks it collapses to 0.284, far
# below the honest model's 0.743. The leaky model learned "a terminal with frauds counted today
# means fraud" — a signal that in production, where only arrived chargebacks exist, is weaker
# and later, so the model's trust in it is misplaced. (The two columns are measured on different
# weeks with a different mix of fraud, so compare the rows, not one model's offline number with
# its future one.)
#
# > **Failure mode:** a feature built from labels with "whatever the label table says now".
# > Offline it looks brilliant; in production those labels do not exist yet. Guard: every
# > label-derived feature is computed from the label's *arrival* time, and a point-in-time join
# > test compares offline features with what the online store held at that moment (section 7).

# %% [markdown]
# ## 4. Model
#
# The baseline ladder, each rung scored on the same future weeks (from the deployment day `84`
# up to the drift on day `110`: after the training cut-off and before the drift): a **rule** an analyst would write, **logistic regression**, and
# **LightGBM** (gradient-boosted decision trees: many small trees, each fitted to the errors of the
# ones before). Next to PR-AUC we report **recall at the alert budget** — the share of frauds
# caught if the review team opens the top 30 alerts per day — because that is what the team
# actually experiences. The oracle row scores with the world's `true_prob`: no model can do better
# on average, so it is the ceiling. Then we time one prediction of each, because a rung must also
# fit the `10` ms budget.
#
# **Predict, then run:** take away the velocity and terminal-history features and keep the same
# LightGBM. Does it keep nine tenths of its PR-AUC, about two thirds, or less than half?

# %%
ALERTS_PER_DAY = 30
X_train, y_train = features.loc[train, FEATURES], y_known[train]
X_future, y_future = features.loc[future, FEATURES], y_true[future]


def recall_at_budget(y, score, days, budget=ALERTS_PER_DAY):
    rank = pd.Series(score).groupby(days).rank(ascending=False, method="first").to_numpy()
    return round(float(y[rank <= budget].sum() / y.sum()), 3)


def rule_score(X):
    # What an analyst writes first: three hand-set red flags, one point each.
    return ((X["card_n_1h"] >= 2).astype(int)
            + ((X["device_prior_uses"] == 0) & (X["amount_vs_card_30d"] >= 3)).astype(int)
            + (X["term_cb_rate_28d"] >= 0.1).astype(int))


# %%
logreg = make_pipeline(FunctionTransformer(np.log1p), SimpleImputer(strategy="median"),
                       StandardScaler(), LogisticRegression(max_iter=1000))
logreg.fit(X_train, y_train)
lgbm = fit_lgbm(X_train, y_train)
no_velocity = [c for c in FEATURES if c not in VELOCITY]
lgbm_no_velocity = fit_lgbm(X_train[no_velocity], y_train)
scores = {"rule (3 red flags)": rule_score(X_future).to_numpy(),
          "logistic regression": logreg.predict_proba(X_future)[:, 1],
          "LightGBM, no velocity features": lgbm_no_velocity.predict(X_future[no_velocity]),
          "LightGBM, all features": lgbm.predict(X_future),
          "oracle (true_prob)": tx.loc[future, "true_prob"].to_numpy()}
ladder = pd.DataFrame.from_dict({name: {"PR-AUC": pr_auc(y_future, s),
                                         "recall @ 30 alerts/day": recall_at_budget(y_future, s, day[future])}
                                  for name, s in scores.items()}, orient="index")
ladder["share of oracle PR-AUC"] = (ladder["PR-AUC"] / ladder.loc["oracle (true_prob)", "PR-AUC"]).round(3)
boosting_gain = ladder.loc["LightGBM, all features", "PR-AUC"] - ladder.loc["logistic regression", "PR-AUC"]
kept_without_velocity = ladder.loc["LightGBM, no velocity features", "PR-AUC"] / ladder.loc["LightGBM, all features", "PR-AUC"]
print(f"{int(y_train.sum()):,} labelled frauds to train on; LightGBM minus logistic regression: "
      f"{boosting_gain:.3f} PR-AUC; without velocity features LightGBM keeps {kept_without_velocity:.3f} of its PR-AUC")
ladder

# %%
# NBVAL_IGNORE_OUTPUT
# The model table with prediction latency: ONE transaction (features already computed), as
# called from Python here, 200 payments x 5 repeats each. Timings vary by run, so this cell is
# not compared; the scorecard judges only the CPU-time p50 (best of the repeats' medians).
one_rows = [X_future.iloc[[i]] for i in range(200)]                 # one-row DataFrames
np_rows = [r.to_numpy() for r in one_rows]                           # the same rows as NumPy
np_rows_no_velocity = [r[no_velocity].to_numpy() for r in one_rows]
predictors = {"rule (3 red flags)": (rule_score, one_rows),
              "logistic regression": (logreg.predict_proba, one_rows),
              "LightGBM, no velocity features": (lambda r: lgbm_no_velocity.predict(r, num_threads=1), np_rows_no_velocity),
              "LightGBM, all features": (lambda r: lgbm.predict(r, num_threads=1), np_rows)}
model_latency = {name: measure(call, inputs, repeats=5) for name, (call, inputs) in predictors.items()}
model_table = ladder.join(pd.DataFrame.from_dict(
    {name: {"CPU p50 (ms)": lat.p50, "wall p50 (ms)": lat.wall_p50, "wall p99 (ms)": lat.p99}
     for name, lat in model_latency.items()},
    orient="index").round(3))
slowest_rung_p50 = max(lat.p50 for lat in model_latency.values())   # judged in the scorecard
model_table

# %%
# Figure helper: the ladder against the oracle ceiling.
fig, ax = plt.subplots()
rungs = ladder.drop("oracle (true_prob)")
ax.barh(rungs.index, rungs["PR-AUC"], color=["0.6", "0.6", "tab:orange", "tab:blue"])
oracle_x = ladder.loc["oracle (true_prob)", "PR-AUC"]
ax.axvline(oracle_x, color="k", ls="--")
ax.text(oracle_x + 0.01, 0.5, f"oracle ceiling\n{oracle_x:.3f}", va="center")
ax.set(xlabel="PR-AUC on the future weeks", xlim=(0, 1),
       title="The features, not the model class, close most of the gap to the oracle")
plt.show()

# %% [markdown]
# Reading the table: the rule already catches 0.676 of frauds within 30 alerts a day, and both
# learned models push that to about 0.83. LightGBM reaches PR-AUC 0.745, **0.884 of the oracle's
# 0.843**. Three lessons hide here.
#
# 1. **The features carry the gain, not the model class.** Logistic regression on the same
#    features scores 0.731, only 0.014 below LightGBM, and catches as many frauds within the
#    budget (0.832 against 0.830). The same LightGBM **without the velocity features falls to
#    0.345**, 0.463 of its PR-AUC with them: bursts and compromised terminals are invisible
#    without history.
# 2. **Why boosting adds little here, and when it would add more.** Each planted scenario shows
#    up as one or two strong signals that push the risk one way (more payments in the last hour,
#    more chargebacks at the terminal, a new device with a large amount), and the `log1p` in the
#    pipeline straightens the skewed counts and sums; a linear model in log-space fits that well.
#    Boosting earns its keep when the signal lives in *interactions* and non-monotone shapes (an
#    amount that is odd only for this channel at this hour, a velocity that is normal for a
#    business card and not for a student's), when there are hundreds of raw, messy features with
#    missing values (trees need no log, imputation or scaling), and when there are enough frauds
#    to learn those shapes without overfitting. With a handful of engineered features and about
#    a thousand positives (printed above the table), keep the simpler model unless the gain pays
#    for its upkeep — and re-run this comparison when the feature set grows.
# 3. **Latency does not decide between them.** Every rung predicts one payment well inside the
#    `10` ms budget at the median (the scorecard checks each rung's p50 in CPU time, best of five
#    repeats, which a busy laptop barely moves; the table also shows wall-clock p50 and p99, which
#    load does inflate, and
#    the hard p99 bar for scoring a payment lives in `make bench`). Their order here reflects
#    call overhead, not model cost: the rule and the logistic regression go through pandas and
#    scikit-learn on a one-row DataFrame, LightGBM gets a NumPy row. In production a rule or a
#    logistic regression is a few dozen multiply-adds and 150 trees of 7 leaves about a thousand
#    comparisons: microseconds, once the Python call overhead is gone.
#
# > **Say it in the interview:** "I'd start with rules the fraud team already trusts, then a
# > logistic regression, then gradient boosting — and I'd show the gain of each rung against
# > the best achievable score, not in a vacuum."

# %% [markdown]
# ## 5. Training
#
# **Time-based split with a gap.** The model is trained on the payments from day 7 up to
# (not including) day `77` and goes live on day `84`. The week in between is not skipped by accident: at deployment, payments
# from the last few days have almost no chargebacks yet, so training on them would teach the
# model that their frauds are legitimate. The labels we train with are the ones known on the
# deployment day (`y_known`), exactly as in production.

# %%
window = (day >= TRAIN_START) & (day < DEPLOY_DAY)
by_week = pd.DataFrame({"week before deployment": (DEPLOY_DAY - 1 - day[window]) // 7 + 1,
                        "frauds": y_true[window], "labels known": y_known[window]})
label_coverage = by_week.groupby("week before deployment")[["frauds", "labels known"]].sum()
label_coverage["share known"] = (label_coverage["labels known"] / label_coverage["frauds"]).round(3)
train_share_known = y_known[train].sum() / y_true[train].sum()
print(f"training days {TRAIN_START}-{TRAIN_END - 1}: {train_share_known:.3f} of the frauds have a label at deployment")
label_coverage.head(4)

# %% [markdown]
# On the deployment day only 0.288 of the frauds from the last week before it have a chargeback,
# and 0.804 of those from the week before that; labels are mostly complete (0.925) only from three
# weeks back. That is why training stops on day `77`: with the one-week gap, the newest training
# week is two weeks old at deployment and most of its labels exist: over the whole training
# window 0.961 of the frauds have their label. The remaining 4 % are trained as legitimate — a
# small, known bias; moving the cut-off later buys recency at the price of more of it.
#
# **Imbalance.** With one positive per hundred rows there are three common choices: leave the
# data alone, weight the positives up (class weights), or keep only a sample of the negatives
# (downsampling — much faster to train). The last two distort the predicted probabilities,
# and a cost-based threshold (section 6) needs honest probabilities. Downsampling by a rate $w$
# is undone exactly by $p = \dfrac{p_s\,w}{p_s\,w + 1 - p_s}$, where $p_s$ is the score of the
# downsampled model; weighting the positives by $k$ is the same in expectation as $w = 1/k$, so
# the same formula applies to class weights. A **reliability diagram** checks the result: bin the
# payments by predicted probability and plot each bin's observed fraud rate; honest probabilities
# lie on the diagonal.

# %%
KEEP = 0.1                                           # keep 10 % of the legitimate rows
keep = (y_train == 1) | (np.random.default_rng(SEED).random(len(y_train)) < KEEP)
pos_weight = (y_train == 0).sum() / (y_train == 1).sum()
variants = {"no reweighting": lgbm.predict(X_future),
            "class weights": fit_lgbm(X_train, y_train, scale_pos_weight=pos_weight).predict(X_future),
            "downsampled, raw": fit_lgbm(X_train[keep], y_train[keep]).predict(X_future)}


def prior_correction(p, w):
    return p * w / (p * w + 1 - p)


variants["class weights, corrected"] = prior_correction(variants["class weights"], 1 / pos_weight)
variants["downsampled, corrected"] = prior_correction(variants["downsampled, raw"], KEEP)
variants = {name: variants[name] for name in ["no reweighting", "class weights", "class weights, corrected",
                                              "downsampled, raw", "downsampled, corrected"]}
imbalance = pd.DataFrame.from_dict(
    {name: {"rows trained on": int(keep.sum()) if "down" in name else len(y_train),
            "PR-AUC": pr_auc(y_future, p),
            "predicted / actual frauds": round(float(p.sum() / y_future.sum()), 3)}
     for name, p in variants.items()}, orient="index")
imbalance

# %%
# Figure helper: reliability diagram (fixed-width bins of predicted probability).
fig, ax = plt.subplots()
bins = np.linspace(0, 1, 11)
for name in ["no reweighting", "class weights", "downsampled, raw", "downsampled, corrected"]:
    p = variants[name]
    which = np.digitize(p, bins[1:-1])
    counts = np.bincount(which, minlength=10)
    mean_p = np.bincount(which, weights=p, minlength=10) / np.maximum(counts, 1)
    rate = np.bincount(which, weights=y_future, minlength=10) / np.maximum(counts, 1)
    ax.plot(mean_p[counts >= 20], rate[counts >= 20], "o-", label=name)
ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
ax.set(xlabel="predicted fraud probability", ylabel="observed fraud rate",
       title="Reweighting inflates probabilities; the prior correction puts them back")
ax.legend()
plt.show()

# %% [markdown]
# Downsampling barely changes the ranking: PR-AUC 0.741 when trained on 15,211 rows instead of
# 139,767 (a tenth of the legitimate payments, all the frauds), against 0.745 without
# reweighting. Class weights cost more here, 0.691: with each fraud weighted about a hundred times,
# the small trees chase the few positives and rank less well. The probabilities change a lot.
# Summed over the future weeks, the plain model predicts 1.012 times the frauds that happened —
# well calibrated. Class weights predict 14.866 times as many, the raw downsampled model 3.068
# times; the prior correction brings them back to 1.016 and 0.954. The reliability diagram shows
# the same: both reweighted curves lie far below the diagonal (every predicted probability is too
# high), while the corrected one follows the plain model's close to it (both sit slightly above
# the diagonal in the middle bins, which hold few payments). Downsampling plus correction is the
# practical choice for large data: ten times fewer rows, the same ranking, honest probabilities.
#
# > **Failure mode:** downsample for speed, forget to correct, and set a cost threshold on the
# > inflated scores: the team gets several times the alerts the cost model promised.

# %% [markdown]
# ## 6. Evaluation
#
# ### PR-AUC, not ROC-AUC
#
# ROC-AUC asks "how often is a random fraud ranked above a random good payment?" — with about a
# hundred good payments per fraud, it stays high even when the top of the list is full of false alarms.
# PR-AUC asks about the top of the list, which is all the review team sees.

# %%
p_future = lgbm.predict(X_future)
oracle_future = tx.loc[future, "true_prob"].to_numpy()


def recall_at_precision(y, score, floor=0.5):
    precision, recall, _ = precision_recall_curve(y, score)
    return round(float(recall[precision >= floor].max()), 3)


auc_table = pd.DataFrame.from_dict(
    {name: {"ROC-AUC": round(float(roc_auc_score(y_future, s)), 3), "PR-AUC": pr_auc(y_future, s),
            "max recall at precision >= 0.5": recall_at_precision(y_future, s)}
     for name, s in [("LightGBM, all features", p_future),
                     ("LightGBM, no velocity features", scores["LightGBM, no velocity features"]),
                     ("oracle (true_prob)", oracle_future)]}, orient="index")
auc_table

# %%
# Figure helper: precision-recall curves.
fig, ax = plt.subplots()
for name, s, colour in [("oracle (true_prob)", oracle_future, "k"),
                        ("LightGBM, all features", p_future, "tab:blue"),
                        ("LightGBM, no velocity features", scores["LightGBM, no velocity features"], "tab:orange")]:
    precision, recall, _ = precision_recall_curve(y_future, s)
    ax.plot(recall, precision, color=colour, label=f"{name}: PR-AUC {auc_table.loc[name, 'PR-AUC']:.3f}")
ax.axhline(y_future.mean(), color="0.5", ls=":", label="random ranking")
ax.set(xlabel="recall (share of frauds caught)", ylabel="precision (share of alerts that are fraud)",
       title="Velocity features are the difference between a usable and an unusable alert list")
ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.06), fontsize=8)
plt.show()

# %% [markdown]
# ROC-AUC says 0.940 for LightGBM and still 0.803 without velocity features — both sound fine.
# PR-AUC says 0.745 against 0.345, and the curves show why: without velocity, at most 0.355 of the
# frauds can be caught while at least half of the alerts are fraud (with velocity, 0.864); beyond
# that the review team would spend most of its time on good customers. On imbalanced problems, report PR-AUC (or recall at the alert budget),
# and quote ROC-AUC only next to it. The model's PR-AUC is 0.884 of the oracle's 0.843 — the gap
# is mostly what the world makes invisible by design: the first payment of each burst (exercise 2
# measures how many burst frauds that is) and the first days of each compromised terminal, before any of its
# chargebacks have arrived.
#
# ### A threshold from costs
#
# Every alert is held and reviewed: it costs `review` (analyst time) and, if the payment was
# good, `friction` too. Every fraud we let through costs its amount. Because the world knows each
# payment's true fraud probability, we can compute the **expected** cost of any threshold exactly
# (no sampling luck): alerts cost `review + (1 - true_prob) × friction`, approvals cost
# `true_prob × amount`.

# %%
amount_future = tx.loc[future, "amount"].to_numpy()
n_future_days = DRIFT_DAY - DEPLOY_DAY


def alert_cost(p, review=5.0, friction=15.0):
    return review + (1 - p) * friction            # analyst time, plus friction if it was good


def approve_cost(p, amount):
    return p * amount                             # the chargeback, if it was fraud


def cost_at(threshold, review=5.0, friction=15.0, score=p_future):
    alert = score >= threshold
    expected = np.where(alert, alert_cost(oracle_future, review, friction), approve_cost(oracle_future, amount_future))
    caught = y_future[alert].sum()
    return {"threshold": round(float(threshold), 3), "alerts per day": round(alert.sum() / n_future_days, 1),
            "precision": round(float(caught / max(alert.sum(), 1)), 3),
            "recall": round(float(caught / y_future.sum()), 3),
            "expected cost per day": round(float(expected.sum() / n_future_days), 1)}


grid = np.round(np.arange(0.01, 0.96, 0.01), 2)
sweep = pd.DataFrame([cost_at(th) for th in grid])
best = sweep.loc[sweep["expected cost per day"].idxmin()]
at_half = sweep.loc[sweep["threshold"] == 0.5].iloc[0]
saving_per_day = round(float(at_half["expected cost per day"] - best["expected cost per day"]), 1)
saving_share = round(saving_per_day / float(at_half["expected cost per day"]), 3)
print(f"expected cost saved by the cost-optimal threshold instead of 0.5: {saving_per_day:.1f} per day, "
      f"a share of {saving_share:.3f} of the cost at 0.5")
pd.DataFrame([best, at_half], index=["cost-optimal", "0.5 (the default)"])

# %%
# Figure helper: expected cost against threshold.
fig, ax = plt.subplots()
ax.plot(sweep["threshold"], sweep["expected cost per day"], color="tab:blue")
ax.axvline(best["threshold"], color="tab:green", ls="--", label=f"cost-optimal ({best['threshold']:.2f})")
ax.axvline(0.5, color="tab:red", ls=":", label="0.5")
ax.set(xlabel="alert threshold on the fraud probability", ylabel="expected cost per day (currency units)",
       title="The cheapest threshold is far below 0.5: a missed fraud costs more than an alert")
ax.legend()
plt.show()


# %% [markdown]
# The cheapest threshold is **0.18**, not 0.5. It raises 16.9 alerts a day instead of 14.8,
# lowers precision from 0.839 to 0.786, but raises recall from 0.783 to 0.842 — and cuts the
# expected cost from 463.2 to 304.2 per day, **a saving of 159.0 per day**, 0.343 of the cost at 0.5. Go much lower (`0.05`, in
# the table below) and the cost rises again: the review and friction costs
# of the extra alerts outgrow the frauds they catch. The optimum is wide and flat, which is good
# news: the decision is robust to small errors in the cost estimates.
#
# One honest caveat: we picked the threshold on the same weeks we report it on, which flatters
# it. In production it is picked on an earlier period and then lives with the weeks that follow.
# The next cell does exactly that: it picks the threshold on the first half of the future weeks
# and reports what it saves on the second half, against 0.5 on the same days. The scorecard asks
# for a saving of at least a tenth (`0.10`) of the cost at 0.5, both in-sample and this way.

# %%
first_half = day[future] < DEPLOY_DAY + n_future_days // 2


def cost_per_day(threshold, rows):
    # Expected cost per day of alerting at `threshold`, over the future-week payments in `rows`.
    alert = p_future[rows] >= threshold
    expected = np.where(alert, alert_cost(oracle_future[rows]), approve_cost(oracle_future[rows], amount_future[rows]))
    return float(expected.sum() / len(np.unique(day[future][rows])))


picked = float(grid[np.argmin([cost_per_day(th, first_half) for th in grid])])
second_half_best = float(grid[np.argmin([cost_per_day(th, ~first_half) for th in grid])])
later_saving_share = round(1 - cost_per_day(picked, ~first_half) / cost_per_day(0.5, ~first_half), 3)
hindsight_share = round(1 - cost_per_day(second_half_best, ~first_half) / cost_per_day(0.5, ~first_half), 3)
print(f"threshold picked on days {DEPLOY_DAY}-{DEPLOY_DAY + n_future_days // 2 - 1}: {picked:.2f}; "
      f"on days {DEPLOY_DAY + n_future_days // 2}-{DRIFT_DAY - 1} it saves {later_saving_share:.3f} of the cost at 0.5")
print(f"with hindsight (the second half's own optimum, {second_half_best:.2f}) it would save {hindsight_share:.3f}")

# %% [markdown]
# Picked on days 84-96, the threshold is 0.17, and on days 97-109 it saves 0.360 of the cost at
# 0.5. With hindsight (the second half's own optimum, 0.24) it would have saved 0.398: picking the
# threshold honestly, on earlier days, gives up a few points of the saving, not the saving. Both
# shares clear the `0.10` bar of the scorecard.
#
# Move the threshold and the two costs yourself: the printed table shows what the review team
# and the finance team would each see. (The slider's first step already changes the counts.)

# %%
# NBVAL_IGNORE_OUTPUT
def show_costs(threshold=0.5, review=5.0, friction=15.0):
    row = cost_at(threshold, review, friction)
    base = cost_at(0.5, review, friction)["expected cost per day"]
    print(pd.Series({**row, "cost vs threshold 0.5": round(row["expected cost per day"] - base, 1)}).to_string())


controls = interact(show_costs, threshold=FloatSlider(value=0.5, min=0.01, max=0.95, step=0.01),
         review=FloatSlider(value=5.0, min=0.0, max=50.0, step=1.0),
         friction=FloatSlider(value=15.0, min=0.0, max=100.0, step=5.0))

# %%
# The same function at fixed settings: the static version of the widget above. The last two rows
# make alerts four times dearer (review 20, friction 60) and find that case's cheapest threshold.
dear = pd.DataFrame([cost_at(th, 20.0, 60.0) for th in grid])
best_dear = float(dear.loc[dear["expected cost per day"].idxmin(), "threshold"])
settings = [(0.5, 5, 15), (float(best["threshold"]), 5, 15), (0.05, 5, 15), (0.5, 20, 60), (best_dear, 20, 60)]
pd.DataFrame([cost_at(th, rv, fr) | {"review": rv, "friction": fr} for th, rv, fr in settings])

# %% [markdown]
# The first three rows are the defaults at 0.5, at the optimum 0.18 and at `0.05` (the numbers
# quoted above). The last two make every alert four times dearer (review 20, friction 60): at
# 0.5 the day then costs 794.8, and the cheapest threshold moves up to 0.25 (691.5 per day), with
# fewer alerts (16.3 a day). The threshold is a consequence of the costs; when they change, it
# must be re-derived, not kept.

# %% [markdown]
# ### Slices
#
# An overall PR-AUC can hide a segment where the model is blind. We slice the future weeks by
# channel and by amount band.

# %%
future_tx = tx.loc[future].assign(score=p_future)
future_tx["amount band"] = pd.cut(future_tx["amount"], [0, 20, 100, np.inf], labels=["< 20", "20-100", "> 100"])
slices = []
for column in ["channel", "amount band"]:
    for value, part in future_tx.groupby(column, observed=True):
        slices.append({"slice": f"{column} = {value}", "transactions": len(part),
                       "frauds": int(part["is_fraud"].sum()),
                       "PR-AUC": pr_auc(part["is_fraud"], part["score"]),
                       "oracle PR-AUC": pr_auc(part["is_fraud"], part["true_prob"])})
slice_table = pd.DataFrame(slices).set_index("slice")
slice_table["share of oracle"] = (slice_table["PR-AUC"] / slice_table["oracle PR-AUC"]).round(3)
slice_table


# %% [markdown]
# The model holds between 0.855 and 0.948 of the oracle's PR-AUC in every slice but one: **ATM
# withdrawals, at 0.739**. Only 36 ATM frauds fall in the test weeks, so the estimate is noisy;
# a likely cause is that ATM amounts are round multiples of 20, so "amount relative to the card's
# history" says less there. A real team would test that hypothesis and add ATM-specific features
# (distance from the card's usual ATMs, for instance) before trusting the model on that slice.
#
# **The online plan.** Offline numbers earn a model the right to be tested, not to be trusted:
#
# 1. **Shadow mode** for a week or two: the new model scores live traffic, decisions still come
#    from the old one; compare score distributions and alert volumes (the parity check of
#    section 7 runs here too).
# 2. **Champion–challenger**: route a random share of cards (the unit is the *card*, so one
#    customer sees one policy) to the challenger. Primary metric: fraud loss plus review cost
#    per `1,000` transactions — measured weeks later, when chargebacks have arrived.
# 3. **Guardrails**, checked daily because they need no labels: the false-decline proxy (share
#    of declines the customer contests or retries successfully), alert volume against the review
#    team's capacity, and p99 latency.

# %% [markdown]
# ## 7. Serving
#
# Authorisation is real time: the features must be computed *at the moment of the payment*,
# from an **online state** that every event updates. Below is a complete, small scorer: per card
# it keeps the payment times and a running sum of amounts, per (card, device) a use counter,
# per terminal the payment times and the chargebacks received so far. Its state is bootstrapped
# from the history before the replay starts (as a real system backfills its store from the
# warehouse), then updated per event.

# %%
class RealTimeScorer:
    # Online features + model for one payment at a time. The state lives in plain dicts of lists.

    def __init__(self, booster):
        self.booster = booster
        self.card_t, self.card_cum = defaultdict(list), defaultdict(lambda: [0])
        self.device_uses = defaultdict(int)
        self.term_t, self.term_cb = defaultdict(list), defaultdict(list)

    def on_chargeback(self, terminal, label_t):           # the chargeback feed calls this
        self.term_cb[terminal].append(label_t)

    def _card_window(self, card, t, window):
        times, cum = self.card_t[card], self.card_cum[card]
        first = bisect_left(times, t - window)
        return len(times) - first, cum[-1] - cum[first]

    def _term_window(self, terminal, t, window):
        received = self.term_cb[terminal]
        cb = len(received) - bisect_left(received, t - window + 1)     # arrived in (t - window, t]
        n = len(self.term_t[terminal]) - bisect_left(self.term_t[terminal], t - window)
        return cb, cb / (n + 1)


# %%
def online_features(self, t, card, terminal, device, amount, hour, channel, foreign):
    cents = round(amount * 100)
    f = [amount, hour, channel, foreign]
    for window in (HOUR, DAY, 7 * DAY):
        n, total = self._card_window(card, t, window)
        f += [n, total / 100] if window != 7 * DAY else [n]
    n30, s30 = self._card_window(card, t, 30 * DAY)
    f.append(cents * n30 / max(s30, 1) if n30 > 0 else np.nan)
    f.append(float(t - self.card_t[card][-1]) if self.card_t[card] else np.nan)
    f.append(float(self.device_uses[card, device]) if device >= 0 else np.nan)
    for days in (7, 28):
        f += list(self._term_window(terminal, t, days * DAY))
    return f


def score(self, t, card, terminal, device, amount, hour, channel, foreign):
    f = self.features(t, card, terminal, device, amount, hour, channel, foreign)
    p = float(self.booster.predict(np.array([f]), num_threads=1)[0])
    self.card_t[card].append(t)                                 # update the state AFTER scoring
    self.card_cum[card].append(self.card_cum[card][-1] + round(amount * 100))
    self.device_uses[card, device] += 1
    self.term_t[terminal].append(t)
    return p, f


RealTimeScorer.features, RealTimeScorer.score = online_features, score


# %% [markdown]
# Bootstrapping is the only vectorised part: group the history by card, (card, device) and
# terminal, and load the lists. Then we replay the first payments after deployment one by one,
# feeding chargebacks as they arrive, exactly as production would see them.

# %%
def bootstrap(booster, history, t_history, chargebacks, scorer_class=RealTimeScorer):
    # Load the online state from the offline history (a backfill), then hand it to the stream.
    scorer = scorer_class(booster)
    cents = np.round(history["amount"].to_numpy() * 100).astype(np.int64)
    for card, idx in history.groupby("customer_id").indices.items():
        scorer.card_t[card] = t_history[idx].tolist()
        scorer.card_cum[card] = [0] + np.cumsum(cents[idx]).tolist()
    for (card, device), n in history.groupby(["customer_id", "device_id"]).size().items():
        scorer.device_uses[card, device] = int(n)
    for terminal, idx in history.groupby("terminal_id").indices.items():
        scorer.term_t[terminal] = t_history[idx].tolist()
    for terminal, label_t in chargebacks:
        scorer.on_chargeback(terminal, label_t)
    return scorer


# %%
t_all = seconds(tx["timestamp"])
start = int(np.argmax(day >= DEPLOY_DAY))                 # first payment after deployment
cb_rows = tx.index[fraud].to_numpy()
cb_order = cb_rows[np.argsort(seconds(tx.loc[cb_rows, "label_available_at"]), kind="stable")]
cb_feed = list(zip(tx.loc[cb_order, "terminal_id"].tolist(),
                   seconds(tx.loc[cb_order, "label_available_at"]).tolist(), strict=True))
already = [(term, lt) for term, lt in cb_feed if lt < t_all[start]]
scorer = bootstrap(lgbm, tx.iloc[:start], t_all[:start], already)
print(f"state bootstrapped from {start:,} payments and {len(already):,} chargebacks")

# %%
N_REPLAY = 3_000
pending = [(term, lt) for term, lt in cb_feed if lt >= t_all[start]]
stream = tx.iloc[start:start + N_REPLAY]
columns = [stream[c].tolist() for c in ["customer_id", "terminal_id", "device_id", "amount", "hour"]]
columns += [stream["channel"].cat.codes.tolist(), (stream["country"] != stream["card_country"]).astype(int).tolist()]


def replay(scorer, n=N_REPLAY):
    # Feed the first n payments after deployment, one by one; return their features and scores.
    rows, scores, next_cb = [], [], 0
    for t, card, term, device, amount, hour, channel, foreign in zip(
            t_all[start:start + n].tolist(), *(column[:n] for column in columns), strict=True):
        while next_cb < len(pending) and pending[next_cb][1] <= t:     # chargebacks that have arrived
            scorer.on_chargeback(*pending[next_cb])
            next_cb += 1
        p, f = scorer.score(t, card, term, device, amount, hour, channel, foreign)
        rows.append(f)
        scores.append(p)
    return rows, scores


online_rows, online_p = replay(scorer)

# %%
online = np.array(online_rows, dtype=float)
offline = features.iloc[start:start + N_REPLAY][FEATURES].to_numpy(dtype=float)
mismatched = [name for j, name in enumerate(FEATURES)
              if not np.array_equal(online[:, j], offline[:, j], equal_nan=True)]
offline_p = lgbm.predict(offline)
parity_exact = not mismatched and np.array_equal(np.array(online_p), offline_p)
print(f"{N_REPLAY:,} replayed payments x {len(FEATURES)} features: "
      f"features that differ online vs offline: {mismatched or 'none'}; "
      f"scores identical: {np.array_equal(np.array(online_p), offline_p)}")


# %% [markdown]
# Every one of the replayed payments gets bit-for-bit the same features and the same score
# online as offline. That is not luck: times are whole seconds and money is whole cents in both
# paths, the windows have the same open/closed ends, and the chargeback feed is applied in
# arrival order before each payment. Break any of those (say, float seconds, or `<` instead of
# `<=` on chargeback arrival) and this check names the feature that drifted.
#
# > **Failure mode:** training–serving skew — the offline pipeline and the online service compute
# > "the same" feature in two code bases, and they quietly disagree. The model is then served
# > inputs it never saw. Guard: a replay parity test like this one in CI, plus logging the online
# > features so tomorrow's training set is built from what was actually served.

# %% [markdown]
# ### A skew, injected and caught
#
# A parity check is only worth its place in CI if it fails when it should. So we plant the most
# common real-time bug: the service records the payment in its state *before* computing that
# payment's features (one line moved up), so every velocity window counts the payment itself. We
# replay the first `1,000` payments through the buggy scorer and run the same comparison.

# %%
class UpdateFirstScorer(RealTimeScorer):
    # The planted bug: update the state first, then compute features from it.
    def score(self, t, card, terminal, device, amount, hour, channel, foreign):
        self.card_t[card].append(t)
        self.card_cum[card].append(self.card_cum[card][-1] + round(amount * 100))
        self.device_uses[card, device] += 1
        self.term_t[terminal].append(t)
        f = self.features(t, card, terminal, device, amount, hour, channel, foreign)
        return float(self.booster.predict(np.array([f]), num_threads=1)[0]), f


buggy = bootstrap(lgbm, tx.iloc[:start], t_all[:start], already, scorer_class=UpdateFirstScorer)
buggy_rows, buggy_p = replay(buggy, 1_000)
buggy_rows, buggy_p = np.array(buggy_rows, dtype=float), np.array(buggy_p)
skewed = [name for j, name in enumerate(FEATURES)
          if not np.array_equal(buggy_rows[:, j], offline[:1_000, j], equal_nan=True)]
flipped = int(((buggy_p >= best["threshold"]) != (offline_p[:1_000] >= best["threshold"])).sum())
SKEW_CAUGHT = len(skewed) > 0
print(f"features that differ online vs offline: {len(skewed)} of {len(FEATURES)}: {', '.join(skewed)}")
print(f"alert decisions flipped at the cost-optimal threshold {best['threshold']:.2f}: {flipped} of 1,000; "
      f"mean |score change| {np.abs(buggy_p - offline_p[:1_000]).mean():.3f}")

# %% [markdown]
# The check fails loudly, as it should. 10 of the 16 features differ: every card window, the
# amount relative to the card's history, the seconds since the previous payment (now always 0),
# the device count and the terminal rates. The model learned that a payment 0 seconds after the
# previous one is a burst, so the buggy service alerts on almost everything: 916 of the 1,000
# alert decisions flip at the 0.18 threshold, and the mean score moves by 0.373. No offline metric
# would show this, because offline the features are right; nothing in the model changed, one line
# of serving code moved. That is why the replay parity test runs in CI on every change to either
# pipeline.

# %%
# NBVAL_IGNORE_OUTPUT
# Time one payment end to end (features from the state + model + state update), 1,000 payments x
# 5 repeats. The repeats score payments the state has already seen: the lookups cost the same.
events = list(zip(t_all[start:start + 1_000].tolist(), *(column[:1_000] for column in columns), strict=True))
scoring_latency = measure(lambda event: scorer.score(*event), events, repeats=5)
print(f"per payment: {scoring_latency} (budget 10 ms)")


# %% [markdown]
# On this laptop-class machine a payment takes a fraction of a millisecond at the median, far
# inside the `10` ms budget. The exact numbers vary by run and machine, so the notebook checks only
# the CPU-time p50 (best of five repeats) in its scorecard; the wall-clock p99 printed above grows when the machine is
# busy, and the hard p99 bar lives in `make bench` (tests/benchmarks), run on a quiet machine.
# Two things change in production. The state sits
# in a key-value store (Redis, Aerospike) with a network hop of about a millisecond per lookup, so
# the card, device and terminal state are fetched in one batched read. And it must stay bounded:
# this scorer keeps every event in Python lists, which grow forever; a real store evicts events
# older than the longest window (30 days) or keeps per-hour bucketed counts and sums instead of
# raw events — and the parity test is what proves the compact version still matches offline.

# %% [markdown]
# ## 8. Monitoring and iteration
#
# The model went live on day `84`. On day `110` fraudsters start a new pattern
# (card-testing on foreign websites, scenario 4) that did not exist in the training data. What
# would each monitor have shown? First, the label-free monitors: the weekly **population
# stability index** (PSI) of key features and of the score, against the training period. PSI
# cuts the training-period values into ten equal-count bins and sums, over the bins,
# (this week's share − the training share) × ln(this week's share ÷ the training share): 0 means
# the same distribution, above `0.2` is the usual alarm level.
#
# **Predict, then run:** the new pattern is a different kind of fraud, not just more of it. In the
# first week after the drift starts, will the score's PSI cross the `0.2` alarm level?

# %%
def psi(reference, current, bins=10):
    reference, current = np.nan_to_num(reference, nan=-1.0), np.nan_to_num(current, nan=-1.0)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref = np.bincount(np.searchsorted(edges, reference, "right"), minlength=len(edges) + 1) / len(reference)
    cur = np.bincount(np.searchsorted(edges, current, "right"), minlength=len(edges) + 1) / len(current)
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


all_scores = lgbm.predict(features[FEATURES])
week = (day - DEPLOY_DAY) // 7
monitored = ["amount", "is_foreign", "card_n_1h", "term_cb_rate_28d"]
psi_rows = []
for w in range(0, (N_DAYS - DEPLOY_DAY) // 7):
    now = week == w
    row = {"week": w, "first day": DEPLOY_DAY + 7 * w}
    row |= {c: round(psi(features.loc[train, c].to_numpy(), features.loc[now, c].to_numpy()), 3) for c in monitored}
    row["score"] = round(psi(all_scores[train], all_scores[now]), 3)
    psi_rows.append(row)
psi_table = pd.DataFrame(psi_rows).set_index("week")
PSI_ALARM = 0.2                                    # the usual alarm level
print("weeks with a PSI above the alarm level: "
      + (", ".join(f"{c} in week {w}" for c in psi_table.columns[1:] for w in psi_table.index[psi_table[c] > PSI_ALARM])
         or "none"))
psi_table

# %% [markdown]
# The input features barely move: `amount`, `is_foreign` and `card_n_1h` stay at a PSI of 0.001
# or less through the drift, and even the score's PSI stays below 0.06. The new pattern is well
# under 1 % of payments, too few to shift a distribution. The only feature to cross `0.2` is the
# terminal chargeback rate (already near 0.1 before the drift: which terminals happen to be
# compromised changes from month to month), in the week starting on day 133 — three weeks after
# the drift, when the new pattern's chargebacks have arrived. **Label-free monitors catch data
# drift; concept drift in a rare class mostly hides from them.**
#
# The label-based monitor is the one that sees concept drift: PR-AUC per week, against the
# oracle. We can only compute it once that week's chargebacks have arrived — about two weeks
# later in production; here we use the ground truth to show what it *will* say.

# %%
recent = (day >= RETRAIN_DAY - 70) & (day < RETRAIN_DAY - 7)          # same gap as before
retrain_known = (fraud & (tx["label_available_at"] <= START + pd.Timedelta(days=RETRAIN_DAY))).to_numpy()
RETRAINED = f"retrained on day {RETRAIN_DAY}"
lgbm_retrained = fit_lgbm(features.loc[recent, FEATURES], retrain_known[recent].astype(int))
retrained_scores = lgbm_retrained.predict(features[FEATURES])
decay_rows = []
for w in range(0, (N_DAYS - DEPLOY_DAY) // 7):
    now = week == w
    decay_rows.append({"week": w, "first day": DEPLOY_DAY + 7 * w,
                       "deployed model": pr_auc(y_true[now], all_scores[now]),
                       RETRAINED: pr_auc(y_true[now], retrained_scores[now]) if DEPLOY_DAY + 7 * w >= RETRAIN_DAY else np.nan,
                       "oracle": pr_auc(y_true[now], tx.loc[now, "true_prob"])})
decay = pd.DataFrame(decay_rows).set_index("week")
decay

# %%
after_retrain = (day >= RETRAIN_DAY) & (day < N_DAYS)
before_drift = (day >= DEPLOY_DAY) & (day < DRIFT_DAY)
drift_to_retrain = (day >= DRIFT_DAY) & (day < RETRAIN_DAY)
recovery = pd.DataFrame({
    "deployed model": [pr_auc(y_true[m], all_scores[m]) for m in (before_drift, drift_to_retrain, after_retrain)],
    "retrained model": [np.nan, np.nan, pr_auc(y_true[after_retrain], retrained_scores[after_retrain])],
    "oracle": [pr_auc(y_true[m], tx.loc[m, "true_prob"]) for m in (before_drift, drift_to_retrain, after_retrain)]},
    index=[f"days {DEPLOY_DAY}-{DRIFT_DAY - 1} (before drift)", f"days {DRIFT_DAY}-{RETRAIN_DAY - 1} (drift)",
           f"days {RETRAIN_DAY}-{N_DAYS - 1} (after retraining)"])
recovery

# %%
# Figure helper: weekly PR-AUC, deployed vs retrained vs oracle.
fig, ax = plt.subplots()
ax.plot(decay["first day"], decay["deployed model"], "o-", label=f"deployed model (trained to day {TRAIN_END})")
ax.plot(decay["first day"], decay[RETRAINED], "s-", label=RETRAINED)
ax.plot(decay["first day"], decay["oracle"], "k--", label="oracle")
ax.axvline(DRIFT_DAY, color="tab:red", ls=":", label=f"new fraud pattern (day {DRIFT_DAY})")
ax.set(xlabel="first day of the week", ylabel="weekly PR-AUC", ylim=(0, 1),
       title="After the new pattern starts the model decays; retraining on recent weeks recovers")
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# Before the drift, the deployed model's PR-AUC was 0.745; in the three weeks after day 110 it
# falls to 0.450 while the oracle stays at 0.817 — the model has never seen card testing abroad.
# Retraining on day 131 on the ten weeks that end a week before it, with the labels known then, lifts PR-AUC on the
# last weeks from 0.554 to 0.727 (oracle 0.884). In production the decay would be confirmed only
# when the chargebacks arrive, one to two weeks late; that is why retraining runs on a schedule
# (or on a trigger from a monitor on *recently labelled* data), not only when someone notices.
#
# ### Blocked payments never get labels
#
# If alerted payments are declined, their chargebacks never come: the card was not charged. So
# the next training set is built only from payments the *current* model let through — the
# frauds it catches best vanish from the labels, and the next model learns less about them. The
# usual guard is a small **random holdout**: a random 2 % of payments bypass the decline (they
# are reviewed, or allowed up to a limit), so their labels arrive and give an unbiased view.

# %%
THRESHOLD = float(best["threshold"])
declined = p_future >= THRESHOLD
holdout = np.random.default_rng(SEED + 1).random(len(p_future)) < 0.02
labelled = ~declined | holdout
lost = pd.DataFrame({"frauds": pd.Series(y_future).groupby(tx.loc[future, "scenario"].to_numpy()).sum(),
                     "still labelled": pd.Series(y_future * labelled).groupby(tx.loc[future, "scenario"].to_numpy()).sum()})
lost.index = [SCENARIOS[s] for s in lost.index]
lost["share that keeps a label"] = (lost["still labelled"] / lost["frauds"]).round(3)
precision_true = y_future[declined].mean()
n_holdout = int((declined & holdout).sum())
hits = int(y_future[declined & holdout].sum())
z = 1.96                                                  # Wilson 95 % interval for hits / n_holdout
n_h = max(n_holdout, 1)                                   # (guards a tiny world with no holdout decline)
centre = (hits + z**2 / 2) / (n_h + z**2)
half = z * np.sqrt(hits * (n_h - hits) / n_h + z**2 / 4) / (n_h + z**2)
print(f"declines at threshold {THRESHOLD:.2f}: true precision {precision_true:.3f}; the {n_holdout} holdout "
      f"payments say {hits / n_h:.3f}, 95 % interval [{centre - half:.3f}, {centre + half:.3f}]")
lost

# %% [markdown]
# If every payment above the cost-optimal threshold is declined, the labels of the next training
# set keep only 0.157 of the burst frauds, 0.017 of the compromised-terminal frauds and 0.106 of
# the account takeovers from these weeks — the patterns the model catches best nearly vanish,
# while background fraud (which it cannot catch) keeps all its labels. A model retrained on that
# would learn less about exactly the fraud it used to stop (measured below). The 2 % holdout
# gives unbiased labels but few of them: 11 declined holdout payments in 26 days put the
# decline precision at 1.000 with a 95 % (Wilson) interval of [0.741, 1.000], which does contain
# the true 0.786 but is far too wide to steer by week. The
# holdout costs fraud losses, so it is kept small and its estimates are pooled over weeks.

# %%
# The next model, trained on these weeks (all their chargebacks arrived), three ways; scored on
# the old patterns (scenarios 0-3) in the last weeks.
X_period = features.loc[future, FEATURES]
approved_or_holdout = ~declined | holdout
weight = np.where(declined & holdout, 1 / 0.02, 1.0)        # a holdout decline stands for 50
next_models = {
    "all labels (nothing declined)": fit_lgbm(X_period, y_future),
    "declined = no chargeback = legitimate": fit_lgbm(X_period, np.where(declined & ~holdout, 0, y_future)),
    "declined dropped, holdout weighted up": fit_lgbm(X_period[approved_or_holdout], y_future[approved_or_holdout],
                                                      weight=weight[approved_or_holdout]),
}
old_patterns = (day >= RETRAIN_DAY) & (tx["scenario"] != 4).to_numpy()
feedback = pd.Series({name: pr_auc(y_true[old_patterns], model.predict(features.loc[old_patterns, FEATURES]))
                      for name, model in next_models.items()}, name="PR-AUC on old patterns, days 131-149")
feedback.to_frame()

# %% [markdown]
# The feedback loop in numbers. Trained on the same weeks, the next model scores 0.737 on the old
# patterns when it sees every label. The common pipeline — "no chargeback means legitimate" —
# turns every declined fraud into a negative, and its PR-AUC falls to **0.341**: it learns that
# payments like the ones its predecessor stopped are fine. Dropping the declined payments and
# weighting the 2 % holdout up (each holdout decline stands for `1 / 0.02 = 50`) recovers much of the loss,
# 0.595 — not all of it, because 11 holdout declines are few. The better a model blocks, the
# less its successor knows, unless a holdout keeps the labels coming.
#
# > **Say it in the interview:** "Declined payments never produce a chargeback, so the model
# > trains on a population it has already filtered. I'd keep a small random holdout that
# > bypasses the model, use it for unbiased metrics, and weight it up when retraining."

# %% [markdown]
# ## Your turn
#
# Three numeric exercises and two judgment ones. For the numeric ones, replace `TODO` with your
# answer and run the cell: the check tells you whether you are right, and gives a hint if not. For
# the judgment ones, write your answer in the markdown cell, then compare it with the model answer
# and the self-check list at the end.

# %% jupyter={"source_hidden": true} tags=["answer-key"]
# Answer key for the self-checks below, computed from the notebook's state (so it follows the
# knobs). Collapsed so that it does not spoil the exercises: try them first.
_key = {}
# Exercise 1: where the notebook's two cost functions cross, found numerically.
_key['Exercise 1'] = brentq(lambda p: alert_cost(p) - approve_cost(p, 200.0), 0.0, 1.0)
# Exercise 2 takes another road to the same share: a payment's one-hour window is empty
# exactly when the card's previous payment is more than an hour old (or there is none).
alone = ~(features["secs_since_prev"] <= HOUR)
by_mechanism = alone.groupby([tx["scenario"], tx["is_fraud"]]).agg(["sum", "mean"])
_key['Exercise 2'] = tuple(by_mechanism.loc[(1, 1)].astype(float))
cheapest_first = sweep.sort_values(["expected cost per day", "threshold"])
_key['Exercise 3'] = float(cheapest_first.loc[cheapest_first["alerts per day"].le(12), "expected cost per day"].iloc[0])

# %% [markdown]
# ### Exercise 1 · Break-even probability
#
# With review cost `5` and friction `15`, alerting on a payment of amount $A$ with fraud
# probability $p$ costs `5 + (1 - p) × 15`; approving it costs `p × A` (the functions
# `alert_cost` and `approve_cost` of section 6). At what $p$ do the two cost the same for a payment
# of `200`? Solve it on paper and give at least three decimals.

# %%
answer_1 = TODO
_ = check_answer("Exercise 1", answer_1, _key['Exercise 1'],
                 rel_tol=0.01, hint="write both costs as functions of p, set them equal, collect the p terms")

# %% [markdown]
# ### Exercise 2 · What velocity cannot see
#
# How many burst frauds (scenario 1 *and* actually fraud) have an empty one-hour card window in
# `features`, and what share of all burst frauds is that? Give both, as `(count, share)`.

# %%
answer_2 = TODO
_ = check_answer("Exercise 2", answer_2, _key['Exercise 2'],
                 abs_tol=0.002, rel_tol=0.0,
                 hint="two conditions select the rows (which mechanism, and was it fraud?); which feature counts "
                      "the card's payments in the last hour?")

# %% [markdown]
# ### Exercise 3 · The alert budget
#
# The review team is halved and can open at most `12` alerts per day. Using `sweep` (the table of
# `cost_at` over thresholds), what is the lowest expected cost per day among thresholds whose
# `alerts per day` is at most `12`?

# %%
answer_3 = TODO
_ = check_answer("Exercise 3", answer_3,
                 _key['Exercise 3'],
                 rel_tol=0.0, abs_tol=0.05,
                 hint="first keep the thresholds the team can staff; the answer is a cost, not a threshold")

# %% [markdown]
# ### Exercise 4 (judgment) · Which metric goes on the champion–challenger dashboard?
#
# You route a random half of the cards to a new model for four weeks. The product manager wants
# one number on the dashboard to decide the winner. Which metric do you choose, which do you
# refuse (ROC-AUC? precision? PR-AUC?), and when can you read it? Write your answer here:
#
# *Your answer:*

# %% [markdown]
# ### Exercise 5 (judgment) · The latency budget halves: what changes?
#
# The card network tightens its window and the interviewer now gives the model `5` ms, p99,
# including the feature lookups. What do you measure first, what do you change in the design of
# section 7, and what do you *not* need to change? Write your answer here:
#
# *Your answer:*

# %% [markdown]
# ## Scorecard
#
# Every claim this notebook made, recomputed from the values above. With the default parameters
# the cell asserts that each holds (and `make claims` checks them at seeds 1-3); with other
# parameters it reports which hold and why the others do not. Timings are judged on the p50 only.

# %% tags=["scorecard"]
oracle_pr = ladder.loc["oracle (true_prob)", "PR-AUC"]
with_v, without_v = ladder.loc["LightGBM, all features", "PR-AUC"], ladder.loc["LightGBM, no velocity features", "PR-AUC"]
rows = [
    ("fraud base rate", round(float(fraud.mean()), 4), "0.001 - 0.01", 0.001 <= fraud.mean() <= 0.01),
    ("LightGBM PR-AUC (future) / oracle PR-AUC", round(with_v / oracle_pr, 3), ">= 0.80", with_v / oracle_pr >= 0.80),
    ("no-velocity PR-AUC / with-velocity PR-AUC", round(without_v / with_v, 3), "<= 0.85", without_v / with_v <= 0.85),
    ("learned models beat the 3-flag rule (PR-AUC, LightGBM / rule)", round(with_v / ladder["PR-AUC"].iloc[0], 3), "> 1", with_v > ladder["PR-AUC"].iloc[0]),
    ("boosting adds little here: LightGBM minus logistic regression PR-AUC", round(with_v - ladder.loc["logistic regression", "PR-AUC"], 3), "< 0.05", with_v - ladder.loc["logistic regression", "PR-AUC"] < 0.05),
    ("every rung predicts one payment within the 10 ms budget (CPU p50, best of 5 repeats; ms in section 4)", slowest_rung_p50 <= 10.0, "True", slowest_rung_p50 <= 10.0, f"slowest rung: CPU p50 {slowest_rung_p50:.3f} ms"),
    ("leaky terminal risk: offline PR-AUC", leak_table.loc["leaky"].iloc[0], f"> honest {leak_table.loc['honest'].iloc[0]:.3f}", leak_table.loc["leaky"].iloc[0] > leak_table.loc["honest"].iloc[0]),
    ("leaky terminal risk: future PR-AUC", leak_table.loc["leaky"].iloc[1], f"< honest {leak_table.loc['honest'].iloc[1]:.3f}", leak_table.loc["leaky"].iloc[1] < leak_table.loc["honest"].iloc[1]),
    ("ROC-AUC flatters: ROC-AUC minus PR-AUC (LightGBM)", round(auc_table.iloc[0, 0] - auc_table.iloc[0, 1], 3), "> 0.1", auc_table.iloc[0, 0] - auc_table.iloc[0, 1] > 0.1),
    ("downsampled + corrected: |predicted/actual - 1|", round(abs(imbalance.loc["downsampled, corrected", "predicted / actual frauds"] - 1), 3), f"< raw {abs(imbalance.loc['downsampled, raw', 'predicted / actual frauds'] - 1):.3f}", abs(imbalance.loc["downsampled, corrected", "predicted / actual frauds"] - 1) < abs(imbalance.loc["downsampled, raw", "predicted / actual frauds"] - 1)),
    ("class weights + prior correction: |predicted/actual - 1|", round(abs(imbalance.loc["class weights, corrected", "predicted / actual frauds"] - 1), 3), f"< raw {abs(imbalance.loc['class weights', 'predicted / actual frauds'] - 1):.3f}", abs(imbalance.loc["class weights, corrected", "predicted / actual frauds"] - 1) < abs(imbalance.loc["class weights", "predicted / actual frauds"] - 1)),
    ("cost-optimal threshold: expected cost saved, as a share of the cost at 0.5", saving_share, ">= 0.10", saving_share >= 0.10),
    ("threshold picked on the first half of the future weeks: share saved on the second half", later_saving_share, ">= 0.10", later_saving_share >= 0.10),
    ("online vs offline features and scores identical (3,000 payments)", bool(parity_exact), "True", bool(parity_exact)),
    ("injected skew (state updated before scoring): features the parity check names", len(skewed), "> 0", SKEW_CAUGHT),
    ("one payment scored online within the 10 ms budget, state update included (CPU p50, best of 5 repeats; ms in section 7)", scoring_latency.p50 <= 10.0, "True", scoring_latency.p50 <= 10.0, f"CPU p50 {scoring_latency.p50:.3f} ms"),
    ("PR-AUC drop of the deployed model, drift weeks vs before", round(recovery.iloc[0, 0] - recovery.iloc[1, 0], 3), "> 0.05", recovery.iloc[0, 0] - recovery.iloc[1, 0] > 0.05),
    ("retrained vs deployed PR-AUC after retraining", recovery.iloc[2, 1], f"> {recovery.iloc[2, 0]:.3f}", recovery.iloc[2, 1] > recovery.iloc[2, 0]),
    ("next model, declined labelled legitimate: PR-AUC on old patterns", feedback.iloc[1], f"< all labels {feedback.iloc[0]:.3f}", feedback.iloc[1] < feedback.iloc[0]),
    ("next model, declined dropped + holdout weighted: PR-AUC", feedback.iloc[2], f"> naive {feedback.iloc[1]:.3f}", feedback.iloc[2] > feedback.iloc[1]),
]
from utils.scorecard import build, enforce

scorecard = build(rows)
with pd.option_context("display.max_colwidth", 80):
    display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)   # asserts at defaults (and in make claims), else reports

# %% [markdown]
# ## In 60 seconds
#
# "Fraud is a cost problem: a missed fraud costs its amount, a false alarm costs review time and a
# customer's goodwill, and only about 1 in 100 payments is fraud — so I'd optimise expected cost
# and report PR-AUC and recall at the review team's alert budget, never accuracy. The label is a
# chargeback that arrives days to weeks late, so I train on a time split with a gap and compute
# every feature as of the payment: per-card, per-device and per-terminal velocity, with terminal
# risk built only from chargebacks already received. On our synthetic world that gets 0.88 of
# the oracle's PR-AUC; without velocity it drops by more than half, and a leaky terminal feature
# looks great offline and fails in production. The features matter more than the model class:
# logistic regression came within 0.014 of LightGBM, so I'd start with rules and logistic
# regression and keep boosting only where it pays, calibrate after downsampling, and pick the threshold from
# costs — 0.18 here, not 0.5. Serving is a streaming feature state per card and terminal, with a
# replay test proving online equals offline, and a median well inside the 10 ms budget, with the
# p99 held to it in a benchmark. Then I'd monitor weekly
# PR-AUC on matured labels (feature PSI misses concept drift), retrain on a schedule, and keep a
# small random holdout because declined payments never get labels."

# %% [markdown]
# ## Solutions

# %% [markdown]
# **Exercise 1.** Set the costs equal, `5 + (1 - p) × 15 = 200 p`, and collect the terms in $p$:
# `(5 + 15) = (200 + 15) p`. Alert whenever
# the fraud probability exceeds the printed break-even for a `200` payment — a threshold that
# falls as the amount grows, which is why real policies threshold *expected loss*, not probability.

# %%
answer_1 = (5 + 15) / (200 + 15)
print(f"break-even fraud probability for a 200 payment: {answer_1:.4f}")
_ = check_answer("Exercise 1", answer_1, brentq(lambda p: alert_cost(p) - approve_cost(p, 200.0), 0.0, 1.0),
                 rel_tol=0.01)

# %% [markdown]
# **Exercise 2.** The first payment of every burst has an empty window, so this share is roughly
# one over the mean burst length — the part of scenario 1 only the oracle can see. Both conditions
# matter: scenario 1 also holds payments that are not fraud (the world's `true_prob` for a burst
# is below 1), and the other scenarios' frauds have empty windows far more often.

# %%
burst_frauds = (tx["scenario"] == 1) & fraud
empty_window = features.loc[burst_frauds, "card_n_1h"] == 0
answer_2 = (int(empty_window.sum()), float(empty_window.mean()))
print(f"burst frauds with an empty 1-hour window: {answer_2[0]:,}, a share of {answer_2[1]:.3f}")
_ = check_answer("Exercise 2", answer_2, tuple(by_mechanism.loc[(1, 1)].astype(float)), abs_tol=0.002, rel_tol=0.0)

# %% [markdown]
# **Exercise 3.** Filter the sweep to thresholds the team can staff, then take the cheapest. The
# printed row shows the threshold that capping alerts pushes up to, and its cost per day is well
# above the unconstrained optimum of section 6 — the number to bring to whoever sizes the review
# team.

# %%
affordable = sweep[sweep["alerts per day"] <= 12]
answer_3 = float(affordable["expected cost per day"].min())
print(affordable.loc[affordable["expected cost per day"].idxmin()].to_string())
print(f"unconstrained optimum: {best['expected cost per day']:.1f} per day")
_ = check_answer("Exercise 3", answer_3,
                 float(cheapest_first.loc[cheapest_first["alerts per day"].le(12), "expected cost per day"].iloc[0]),
                 rel_tol=0.0, abs_tol=0.05)

# %% [markdown]
# **Exercise 4 (judgment).**
#
# **Model answer:** The decision metric is money: fraud loss plus review cost (plus an agreed
# price per false decline) per 1,000 transactions, per arm, with a confidence interval — the
# quantity the threshold of section 6 was chosen to minimise. It can only be read once the
# chargebacks of the test weeks have arrived, so the dashboard shows it with a lag of two to
# three weeks (the label-delay histogram of section 2), and the test runs long enough for that.
# Until then, the dashboard shows guardrails that need no labels: alert volume against the
# review team's capacity, decline rate, contested declines, p99 latency. I refuse ROC-AUC (it
# flattered the no-velocity model in section 6) and precision alone (it rewards alerting less);
# PR-AUC or recall at the alert budget are good offline diagnostics but do not price a missed
# large fraud against a cheap false alarm. Randomise by card, not by payment, so one customer
# sees one policy, and evaluate only on the traffic both arms would have labelled (declines hide
# labels: keep the holdout in both arms).
#
# **Self-check:**
# - a cost metric (loss + review + friction), not a ranking metric, as the primary number;
# - says when it can be read: after the label delay, and what is shown until then (guardrails);
# - rejects ROC-AUC on imbalanced data, with the reason;
# - the randomisation unit is the card;
# - notices that declined payments get no label in either arm (holdout).

# %% [markdown]
# **Exercise 5 (judgment).**
#
# **Model answer:** First measure where the time goes, at p99 and under load, not on an idle
# laptop: the model call is a small part (the per-rung p50s of section 4 are timed with features
# already computed); the feature lookups in the online store and the network hop dominate. So the
# changes are in serving: fetch the card, device and terminal state in one batched read (or
# co-locate the store with the scorer), keep bucketed per-hour counts and sums instead of raw
# event lists so every window is a constant-time read, and precompute slow features (the
# terminal's chargeback rate) asynchronously when chargebacks arrive instead of per payment.
# Set a timeout with a safe fallback (the rules of section 4, or approve below a small amount and
# review later) so a slow lookup never blocks an authorisation. What need not change: the model
# class — 150 trees of 7 leaves or a logistic regression cost microseconds once compiled
# (treelite or a hand-written scorer) — and the offline pipeline, as long as the replay parity
# test still proves online equals offline after the rewrite.
#
# **Self-check:**
# - measures the p99 breakdown (lookup, features, model) before changing anything;
# - moves cost out of the request path: batched reads, bucketed windows, async terminal features;
# - a timeout with a fallback decision;
# - keeps the model unless it is shown to be the bottleneck;
# - re-runs the parity test after the serving change.

# %% [markdown]
# *Navigation:* ← [09 · Recommendations](09_case_recommendations.ipynb) · [Course map](00_course_map.ipynb) · [11 · Search ranking](11_case_search_ranking.ipynb) →
