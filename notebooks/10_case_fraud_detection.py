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
# *Decide, in a few milliseconds, whether to approve, decline or challenge a card payment — and price every choice in money.*
#
# about 100 min · needs: [00 · Course map](00_course_map.ipynb), some pandas; notebooks 03–08 go deeper into each step
#
# **15-minute path:** 1 · Clarify the problem (the issuer's four decisions), 4 · Model (the ladder against the
# oracle), 6 · Evaluation (a threshold from costs at four seeds, per-card precision, the counterfactual estimate),
# 8 · Monitoring and iteration (drift in money per day, and the segment monitor that sees it first).
#
# *Navigation:* ← [09 · Recommendations](09_case_recommendations.ipynb) · [Course map](00_course_map.ipynb) · [11 · Search ranking](11_case_search_ranking.ipynb) →
#
# **You will be able to:**
# - compute point-in-time velocity features, and audit a label-derived feature for leakage before launch;
# - choose between approve, step-up and decline from costs, and say how stable that threshold is across seeds;
# - report per-card precision at the review team's daily budget beside per-payment recall;
# - estimate what a new threshold would cost from logged data with known propensities;
# - monitor a fraud model in money per day, with a segment monitor and noise bands.

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
# Parameters: change them and re-run the whole notebook. The next cell lists each knob's valid
# range; at the defaults the scorecard asserts its claims, with other values it reports them.
SEED = 0
N_TRANSACTIONS = 300_000
N_DAYS = 150
BASE_RATE = 0.008           # expected share of fraud (valid range in the knobs table below)
LABEL_DELAY_DAYS = 7.0      # mean days until a chargeback arrives
DRIFT_DAY = 110             # card testing and cash-out start on this day
TRAIN_START, TRAIN_END = 7, 77   # training window (days); the first week only warms up history
DEPLOY_DAY = 84             # the model goes live; the week in between is the label-delay gap
RETRAIN_DAY = 131           # monitoring retrains the model on this day
ALERTS_PER_DAY = 30         # cards the review team can investigate per day

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**32 - 1, "seed of the world and every model"),
    Knob("N_TRANSACTIONS", 300_000, 150_000, 400_000, "payments in the synthetic world"),
    Knob("N_DAYS", 150, 140, 180, "days of history"),
    Knob("BASE_RATE", 0.008, 0.002, 0.01, "expected share of fraud over the whole history"),
    Knob("LABEL_DELAY_DAYS", 7.0, 1.0, 30.0, "mean days until a chargeback arrives"),
    Knob("DRIFT_DAY", 110, 91, 124, "day card testing and cash-out start"),
    Knob("TRAIN_START", 7, 0, 21, "first training day"),
    Knob("TRAIN_END", 77, 42, 84, "training stops before this day"),
    Knob("DEPLOY_DAY", 84, 77, 103, "day the model goes live"),
    Knob("RETRAIN_DAY", 131, 117, 143, "day monitoring retrains the model"),
    Knob("ALERTS_PER_DAY", 30, 5, 100, "cards the review team investigates per day"),
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

from bisect import bisect_left, bisect_right
from collections import defaultdict

import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
from IPython.display import display
from ipywidgets import FloatSlider, interact
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, SplineTransformer, StandardScaler

from utils import abtest, check_answer, use_course_style
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
# We are the card issuer. Every payment asks us for an authorisation, and the answer must fit
# inside the card network's window (about `100` ms end to end; the model gets **`10` ms**). A
# card-present payment cannot wait for a human, so there are four answers, each with a price:
#
# | decision | when it is used | cost if the payment was genuine | cost if it was fraud |
# |---|---|---|---|
# | **approve** | the default | 0 | its amount (the chargeback) |
# | **decline** | risky card-present payment | `15`: an angry call, a card left in the drawer | 0 |
# | **step-up** (one-time code, 3-D Secure) | risky online payment | `2`: some customers give up | `0.1` × amount: a tenth of fraudsters pass |
# | **approve and review** | the riskiest cards of the day | `5` of analyst time per card | the payment is lost, but the card is blocked: its *later* frauds are stopped |
#
# The review team investigates **`30` cards a day** (`ALERTS_PER_DAY`). The business metric is
# money: fraud losses plus friction plus review time, per day. Our synthetic world is a small slice
# of an issuer, with the ground truth attached.

# %%
DECLINE_FRICTION, STEP_UP_FRICTION, STEP_UP_PASS, REVIEW_COST = 15.0, 2.0, 0.1, 5.0
world = make_fraud_world(n_transactions=N_TRANSACTIONS, n_days=N_DAYS, base_rate=BASE_RATE,
                         label_delay_days=LABEL_DELAY_DAYS, drift_day=DRIFT_DAY, seed=SEED)
tx = world.transactions
fraud = tx["is_fraud"] == 1
print(f"{len(tx):,} transactions over {N_DAYS} days = {len(tx) / N_DAYS:,.0f} per day, "
      f"{world.config['n_cards']:,} cards, {world.config['n_terminals']:,} terminals")
print(f"fraud rate {fraud.mean():.3%} (1 in {1 / fraud.mean():.0f}); "
      f"median amount: fraud {tx.loc[fraud, 'amount'].median():.2f}, genuine {tx.loc[~fraud, 'amount'].median():.2f}")
tx.groupby("pattern", observed=True).agg(payments=("is_fraud", "size"), fraud_rate=("is_fraud", "mean"),
                                          median_amount=("amount", "median")).round(3)

# %% [markdown]
# The world is hard the way real card data is (sources in `datasets/fraud.md`): genuine
# customers do things that look like fraud — sprees and trips abroad, large purchases, a new
# phone, night payments (the table) — and fraud comes in five mechanisms (stolen cards, skimmed
# terminals, account takeovers, and from day `110` card testing followed by a cash-out) plus a
# background that no feature can see. Real card
# fraud is usually rarer (Correa Bahnsen et al. 2013 cite rates from a few in a hundred thousand
# payments to one in two hundred); we keep more, so that a 30-second notebook has a few hundred frauds to learn from. The last
# columns of `tx` (`is_fraud`, `scenario`, `pattern`, `chargeback`, `label_available_at`,
# `true_prob`) are the ground truth; no model may see them.

# %% [markdown]
# ## 2. Frame it as an ML problem
#
# - **Task:** binary classification. The model outputs a *probability* of fraud; a policy turns
#   it into one of the four decisions using costs (section 6), not a fixed `0.5`.
# - **Labels come from two feeds** (Dal Pozzolo et al. 2017 call them *feedbacks* and *delayed
#   supervised samples*): the review team's verdicts on the cards it investigates, within a day,
#   and **chargebacks** — disputes by cardholders — for everything else, days to weeks late. A
#   chargeback is a noisy proxy: some frauds are never disputed, and some disputes are "friendly
#   fraud" (the customer forgot, or lies).
# - **Imbalance:** under 1 % positives, so accuracy is meaningless. We use cost, and **PR-AUC**:
#   rank payments by score and walk down the list; *precision* is the share of alerts so far that
#   are fraud, *recall* the share of all frauds caught so far; PR-AUC (average precision) averages
#   precision over recall levels: a random ranking scores the fraud rate, a perfect one 1.
#
# How late and how noisy? The next cell measures both.

# %%
cb = tx["chargeback"] == 1
delay_days = (tx.loc[cb, "label_available_at"] - tx.loc[cb, "timestamp"]) / pd.Timedelta(days=1)
known_after = {d: float((delay_days <= d).mean()) for d in (1, 7, 14, 28)}
print("share of chargebacks arrived after  " + "   ".join(f"{d} days: {s:.3f}" for d, s in known_after.items()))
print(f"frauds never disputed: {(fraud & ~cb).sum() / fraud.sum():.3f} of frauds; "
      f"chargebacks that were not fraud: {(cb & ~fraud).sum() / cb.sum():.3f} of chargebacks")

fig, ax = plt.subplots()
ax.hist(delay_days, bins=60, color="tab:red", alpha=0.8)
ax.axvline(delay_days.mean(), color="k", ls="--", label=f"mean delay ({delay_days.mean():.1f} days)")
ax.set(xlabel="days from payment to chargeback", ylabel="chargebacks",
       title=f"Chargebacks trickle in: a week after a payment, {1 - known_after[7]:.0%} are still missing")
ax.legend()
plt.show()

# %% [markdown]
# A chargeback from yesterday almost never exists yet (0.033 after one day); after a week 0.593
# have arrived, after two weeks 0.912. And the label is noisy in both directions: 0.100 of frauds
# are never disputed (the model is taught they were genuine), and 0.158 of chargebacks were not
# fraud. Consequences: training needs a **gap** before the cut-off (section 5), any feature
# built from labels may use only labels **already arrived** at prediction time (section 3), and no
# model can reach a precision of 1 on labels like these.

# %% [markdown]
# ## 3. Data and features
#
# A stolen card rarely looks strange on its own: the amount is ordinary, the shop is ordinary.
# What gives it away is *rhythm* — six purchases in half an hour from a card that buys twice a
# week. So for every payment we compute what the card, its device and its terminal did
# **before** it, using only events that had already happened:
#
# | family | features | catches |
# |---|---|---|
# | transaction | `amount`, `hour`, `is_online`, `is_atm`, `is_foreign` | little on its own |
# | card velocity | counts and sums over the last hour, day and week; tiny payments in the last week; seconds since the previous payment; amount ÷ the card's 30-day mean | stolen cards, card testing, cash-out |
# | device | earlier uses of this device by this card | account takeover from a new device |
# | terminal risk | chargebacks *received* for the terminal in the last `7` and `28` days, as counts and per payment | skimmed terminals |
#
# The windows are computed in one vectorised pass: sort by (entity, time), a binary search finds
# where each window starts, and a cumulative sum gives the window's total.

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
def chargebacks_received(tx, entity, t, window, arrival=None):
    # Chargebacks for the same entity that ARRIVED in (t - window, t]: labels known at time t.
    # `arrival` (seconds) defaults to the true arrival time; section 7 passes a lagged feed.
    disputed = tx["chargeback"].to_numpy() == 1
    arrival = seconds(tx["label_available_at"]) if arrival is None else arrival
    arrived = np.sort(entity[disputed] * 10**9 + arrival[disputed])
    now = entity * 10**9 + t
    return np.searchsorted(arrived, now, "right") - np.searchsorted(arrived, now - window, "right")


def leaky_chargebacks(tx, entity, window_days):
    # The classic mistake: join a daily table of terminal chargebacks built from TODAY's label
    # table, on the payment date. It counts disputes that had not arrived yet.
    day, disputed = tx["day"].to_numpy(), tx["chargeback"].to_numpy() == 1
    grid = np.zeros((entity.max() + 1, day.max() + 2))
    np.add.at(grid, (entity[disputed], day[disputed] + 1), 1)
    cumulative = grid.cumsum(axis=1)
    return cumulative[entity, day + 1] - cumulative[entity, np.maximum(day + 1 - window_days, 0)]


# %%
def build_features(tx, leaky=False, arrival=None):
    t, card, term = seconds(tx["timestamp"]), tx["customer_id"].to_numpy(), tx["terminal_id"].to_numpy()
    cents = np.round(tx["amount"].to_numpy() * 100).astype(np.int64)
    f = pd.DataFrame({"amount": tx["amount"], "hour": tx["hour"],
                      "is_online": (tx["channel"] == "online").astype(np.int64),   # one-hot channel
                      "is_atm": (tx["channel"] == "atm").astype(np.int64),
                      "is_foreign": (tx["country"] != tx["card_country"]).astype(np.int64)})
    for name, window in [("1h", HOUR), ("24h", DAY), ("7d", 7 * DAY)]:
        f[f"card_n_{name}"], total = past_window(card, t, cents, window)
        if name != "7d":
            f[f"card_sum_{name}"] = total / 100
    f["card_tiny_7d"] = past_window(card, t, (cents < 500).astype(np.int64), 7 * DAY)[1]  # payments < 5
    n30, s30 = past_window(card, t, cents, 30 * DAY)
    f["amount_vs_card_30d"] = np.where(n30 > 0, cents * n30 / np.maximum(s30, 1), np.nan)
    previous = tx.groupby("customer_id")["timestamp"].shift()           # rows are in time order
    f["secs_since_prev"] = (tx["timestamp"] - previous) / pd.Timedelta(seconds=1)
    uses = tx.groupby(["customer_id", "device_id"]).cumcount().to_numpy()
    f["device_prior_uses"] = np.where(tx["device_id"].to_numpy() >= 0, uses, np.nan)
    for days in (7, 28):
        received = (leaky_chargebacks(tx, term, days) if leaky
                    else chargebacks_received(tx, term, t, days * DAY, arrival))
        f[f"term_cb_{days}d"] = received
        f[f"term_cb_rate_{days}d"] = received / (past_window(term, t, cents, days * DAY)[0] + 1)
    return f


# %%
features = build_features(tx)
leaky_features = build_features(tx, leaky=True)
FEATURES = list(features.columns)
FAMILIES = {"card velocity": [c for c in FEATURES if c.startswith("card_")] + ["secs_since_prev", "amount_vs_card_30d"],
            "device": ["device_prior_uses"], "terminal risk": [c for c in FEATURES if c.startswith("term_")]}
print(f"{len(FEATURES)} features for {len(tx):,} payments; families: "
      + ", ".join(f"{name} {len(cols)}" for name, cols in FAMILIES.items()))
first_burst = tx.index[(tx["scenario"] == 1) & (tx["day"] >= 30)][0]   # one stolen card's story
card_rows = tx.index[tx["customer_id"] == tx.loc[first_burst, "customer_id"]]
at = card_rows.get_loc(first_burst)
shown = card_rows[max(at - 2, 0):at + 5]
tx.loc[shown, ["timestamp", "amount", "pattern", "is_fraud"]].join(
    features.loc[shown, ["card_n_1h", "secs_since_prev", "amount_vs_card_30d"]].round(3))

# %% [markdown]
# The payments before the stolen card's first use are hours to days apart and have an empty
# one-hour window; then the thief's payments come minutes apart and `card_n_1h` climbs. The
# burst's **first** payment has an empty window and no feature can see it. And genuine sprees
# and trips look just like this: the pattern table of section 1 counts them.
#
# > **Say it in the interview:** "The strongest fraud features are per-entity velocity aggregates
# > over several windows — card, device, terminal — computed as of the transaction time and
# > served from a streaming store."

# %% [markdown]
# ### Leakage: a time split does not reveal it, an as-of audit does
#
# The terminal-risk feature is built from labels, and labels arrive late. The leaky version
# joins a daily terminal chargeback table built from *today's* label table: it counts disputes
# that had not arrived when the payment was made. We train the same model on each version and
# score it three ways: on a **random** `30 %` of the training period, on a **time-split backtest**
# (train on the first weeks, test on the last two, features from the same table), and on **the
# future** after deployment, where production can only compute the honest version.
#
# **Predict, then run:** the time-split backtest is the usual defence against leakage. Will it
# show the leaky model's fall?

# %%
# Small trees, strong regularisation, row/feature subsampling: a few hundred positives do not support more.
LGB_PARAMS = dict(objective="binary", learning_rate=0.1, num_leaves=7, min_child_samples=100,
                  lambda_l2=10.0, feature_fraction=0.8, bagging_fraction=0.5, bagging_freq=1,
                  max_bin=63, deterministic=True, force_row_wise=True, num_threads=2, seed=SEED,
                  verbose=-1)


def fit_lgbm(X, y, rounds=150, weight=None, **params):
    return lgb.train({**LGB_PARAMS, **params}, lgb.Dataset(X, y, weight=weight), rounds)


def pr_auc(y, score):
    return round(float(average_precision_score(y, score)), 3)


def labels_known_at(tx, day_cut):
    # Chargebacks that have arrived by the start of `day_cut`: the slow, noisy label feed.
    return ((tx["chargeback"] == 1) & (tx["label_available_at"] <= START + pd.Timedelta(days=day_cut))).to_numpy().astype(int)


day = tx["day"].to_numpy()
y_true = tx["is_fraud"].to_numpy()
y_known = labels_known_at(tx, DEPLOY_DAY)
train = (day >= TRAIN_START) & (day < TRAIN_END)
future = (day >= DEPLOY_DAY) & (day < DRIFT_DAY)

# %%
rng = np.random.default_rng(SEED)
in_sample = train & (rng.random(len(tx)) < 0.7)                     # random split inside training
held_out = train & ~in_sample
early, late = train & (day < TRAIN_END - 14), train & (day >= TRAIN_END - 14)   # time split
leak_rows = []
for name, table in [("honest", features), ("leaky", leaky_features)]:
    random_model, early_model = fit_lgbm(table.loc[in_sample], y_known[in_sample]), fit_lgbm(table.loc[early], y_known[early])
    leak_rows.append({"terminal risk": name,
                      "random split": pr_auc(y_known[held_out], random_model.predict(table.loc[held_out])),
                      "time-split backtest": pr_auc(y_known[late], early_model.predict(table.loc[late])),
                      "the future (production features)": pr_auc(y_true[future], random_model.predict(features.loc[future]))})
leak_table = pd.DataFrame(leak_rows).set_index("terminal risk")
leak_table

# %% [markdown]
# Both offline evaluations reward the leak: the leaky model scores 0.513 against 0.267 on the
# random split and 0.529 against 0.253 on the time-split backtest, because in the backtest the
# features still come from the final label table. Only the future, scored with the features
# production can compute, shows it falling to 0.155, below the honest model's 0.352. You cannot wait for the future to find out, so catch it before
# launch with an **as-of audit**: store each label with its arrival time, recompute a sample of
# training features from only what had arrived at the decision time, and compare.

# %%
def reference_terminal_features(i, t, terminal_rows, arrived):
    # An independent, deliberately plain recomputation for row i (not build_features): chargebacks
    # of its terminal that ARRIVED in (t - window, t], and the terminal's earlier payments in the window.
    earlier, values = terminal_rows[terminal_rows < i], []
    for days in (7, 28):
        w = days * DAY
        cb = int(((arrived > t[i] - w) & (arrived <= t[i])).sum())
        n = int((t[earlier] >= t[i] - w).sum())
        values += [cb, cb / (n + 1)]
    return values


def as_of_audit(table, sample):
    # Share of sampled rows whose terminal features differ from the reference recomputation.
    t, term = seconds(tx["timestamp"]), tx["terminal_id"].to_numpy()
    rows_of, disputed = tx.groupby("terminal_id").indices, tx["chargeback"].to_numpy() == 1
    arrival = seconds(tx["label_available_at"])
    reference = np.array([reference_terminal_features(i, t, rows_of[term[i]], arrival[rows_of[term[i]][disputed[rows_of[term[i]]]]])
                          for i in sample])
    columns = ["term_cb_7d", "term_cb_rate_7d", "term_cb_28d", "term_cb_rate_28d"]
    return float((table.iloc[sample][columns].to_numpy() != reference).any(axis=1).mean())


audit_rows = np.sort(np.random.default_rng(SEED).choice(np.flatnonzero(train), 2_000, replace=False))
audit = {name: as_of_audit(table, audit_rows) for name, table in [("honest", features), ("leaky", leaky_features)]}
print("share of 2,000 audited training rows whose terminal features change when recomputed as of the "
      "decision time: " + ", ".join(f"{name} {share:.3f}" for name, share in audit.items()))

# %% [markdown]
# The audit passes the honest pipeline (no row changes) and fails the leaky one (0.352 of the
# audited rows change), without waiting for a single future week. The reference is a separate,
# plain recomputation from the label arrival times, not a second call of `build_features`: a leak
# planted inside the pipeline (as the leaky table is) cannot hide in both.
#
# > **Failure mode:** a feature built from labels with "whatever the label table says now".
# > Offline — even on a time split — it looks brilliant; in production those labels do not exist
# > yet. Guard: every label carries its arrival time, and an as-of audit runs before launch.

# %% [markdown]
# ## 4. Model
#
# The baseline ladder, each rung scored on the same future weeks (from the deployment day `84` up
# to day `110`, before the drift): a **rule** an analyst would write, **logistic regression**, and
# **LightGBM** (gradient-boosted trees), then LightGBM without each feature family in turn. Next
# to PR-AUC we report **precision at 80 % recall** — how clean the alert list is when it catches
# four frauds in five. The oracle row scores with the world's `true_prob`: no model can do better
# on average, so it is the ceiling.
#
# **Predict, then run:** with genuine sprees, trips and new phones in the data, will LightGBM's
# precision at 80 % recall be above or below one half?

# %%
X_train, y_train = features.loc[train], y_known[train]
X_future, y_future = features.loc[future], y_true[future]
oracle_future = tx.loc[future, "true_prob"].to_numpy()


def precision_at_recall(y, score, target=0.8):
    precision, recall, _ = precision_recall_curve(y, score)
    return round(float(precision[recall >= target].max()), 3)


def rule_score(X):
    # What an analyst writes first: three hand-set red flags, one point each.
    return ((X["card_n_1h"] >= 2).astype(int)
            + ((X["device_prior_uses"] == 0) & (X["amount_vs_card_30d"] >= 3)).astype(int)
            + (X["term_cb_rate_28d"] >= 0.1).astype(int))


def make_logreg(splines=False):
    # log1p on the skewed counts and sums (optionally a cubic spline of each: a free curve per
    # feature, still no interactions); the 0/1 channel and country flags pass through as they are.
    flags = ["is_online", "is_atm", "is_foreign"]
    skewed = [c for c in FEATURES if c not in flags]
    steps = [FunctionTransformer(np.log1p), SimpleImputer(strategy="median")] + ([SplineTransformer(n_knots=5)] if splines else [])
    prep = ColumnTransformer([("skewed", make_pipeline(*steps), skewed), ("flags", "passthrough", flags)])
    return make_pipeline(prep, StandardScaler(), LogisticRegression(max_iter=1000))


# %%
logreg = make_logreg().fit(X_train, y_train)
lgbm = fit_lgbm(X_train, y_train)
scores = {"rule (3 red flags)": rule_score(X_future).to_numpy(),
          "logistic regression": logreg.predict_proba(X_future)[:, 1],
          "logistic, a spline per feature": make_logreg(splines=True).fit(X_train, y_train).predict_proba(X_future)[:, 1],
          "LightGBM, all features": lgbm.predict(X_future)}
for family, columns in FAMILIES.items():
    kept = [c for c in FEATURES if c not in columns]
    scores[f"LightGBM without {family}"] = fit_lgbm(X_train[kept], y_train).predict(X_future[kept])
scores["oracle (true_prob)"] = oracle_future
ladder = pd.DataFrame.from_dict({name: {"PR-AUC": pr_auc(y_future, s), "precision at 80 % recall": precision_at_recall(y_future, s)}
                                  for name, s in scores.items()}, orient="index")
ladder["share of oracle PR-AUC"] = (ladder["PR-AUC"] / ladder.loc["oracle (true_prob)", "PR-AUC"]).round(3)
p_future = scores["LightGBM, all features"]
in_episode = tx.loc[future, "scenario"].isin([1, 3, 4, 5]).to_numpy()   # thieves' episodes (not skimmed terminals)
print(f"{int(y_train.sum()):,} chargebacks to train on; LightGBM's scores: {((p_future > 0.05) & (p_future < 0.5)).mean():.3f} "
      f"of future payments lie between 0.05 and 0.5; predicted / actual frauds {p_future.sum() / y_future.sum():.3f}")
print(f"payments inside thieves' episodes in the test weeks: {int(in_episode.sum())}, of which "
      f"{int((in_episode & (y_future == 0)).sum())} drew 'genuine' (a label coin flip, see the text)")
ladder

# %% [markdown]
# Reading the table. At 80 % recall fewer than one alert in ten is fraud, for every model. Part
# of that is built in: inside a thief's episode each payment is fraud only with the episode's
# probability, so some of the thief's own payments come out "genuine" (the second printed line):
# a simplification that lowers every precision number here. The
# **oracle** scores with `true_prob`: it knows each payment's episode, which no feature sees, so
# "share of oracle" measures how much of the episode structure the features recover, not how
# much a better model could still gain. LightGBM reaches PR-AUC 0.341, 0.448 of the oracle's 0.761.
# Removing **card velocity** costs the most (0.341 → 0.203), **terminal risk** next (→ 0.229),
# the **device** feature little (→ 0.327): half of the account takeovers come through the
# card's own device. The rule an analyst would write is far behind (0.080); logistic regression
# on the same features scores 0.292, and 0.322 with a free curve (a spline) per feature. Section 6
# repeats the comparison at four seeds.
#
# > **Say it in the interview:** "I'd start with rules the fraud team already trusts, then a
# > logistic regression, then gradient boosting — and I'd show the gain of each rung against
# > the best achievable score, not in a vacuum."

# %% [markdown]
# ## 5. Training
#
# **Time-based split with a gap, and two label feeds.** The model above is trained on days 7 up to
# `77` with the chargebacks known on the deployment day `84`. Does the week of gap matter, and do
# the review team's fast labels help? Before deployment an older system (here: the 3-flag rule)
# chose which `30` cards a day the team investigated; the team's verdicts are the truth, known the
# next day. We train the same LightGBM three ways and score each on the same future weeks.

# %%
def reviewed_cards(score, rows, budget=ALERTS_PER_DAY):
    # The `budget` cards per day with the highest score on that day: the review team's queue.
    sub = pd.DataFrame({"day": day[rows], "card": tx["customer_id"].to_numpy()[rows], "score": score})
    top = sub.groupby(["day", "card"])["score"].max().reset_index()
    top = top.sort_values(["day", "score", "card"], ascending=[True, False, True]).groupby("day").head(budget)
    return pd.MultiIndex.from_frame(sub[["day", "card"]]).isin(pd.MultiIndex.from_frame(top[["day", "card"]]))


history = day < DEPLOY_DAY
reviewed = np.zeros(len(tx), bool)
rule_plus_amount = rule_score(features.loc[history]).to_numpy() + features.loc[history, "amount"].to_numpy() / 1e6
reviewed[history] = reviewed_cards(rule_plus_amount, history) & (day[history] < DEPLOY_DAY - 1)
y_two_feeds = np.where(reviewed, y_true, y_known)                  # investigator truth where reviewed
no_gap = (day >= TRAIN_START) & (day < DEPLOY_DAY)
gap_rows = []
for name, rows, labels in [(f"days {TRAIN_START}-{TRAIN_END - 1}, chargebacks (a week of gap)", train, y_known),
                           (f"days {TRAIN_START}-{DEPLOY_DAY - 1}, chargebacks (no gap)", no_gap, y_known),
                           (f"days {TRAIN_START}-{DEPLOY_DAY - 1}, chargebacks + investigator labels", no_gap, y_two_feeds)]:
    model = lgbm if rows is train else fit_lgbm(features.loc[rows], labels[rows])    # the first is section 4's model
    gap_rows.append({"training data": name, "frauds labelled": f"{int((labels[rows] & y_true[rows]).sum())} of {int(y_true[rows].sum())}",
                     "wrong labels": int((labels[rows] != y_true[rows]).sum()),
                     "PR-AUC on the future": pr_auc(y_future, model.predict(X_future))})
gap_table = pd.DataFrame(gap_rows).set_index("training data")
gap_table

# %% [markdown]
# The differences are small (0.341, 0.334, 0.352) and a change of seed moves PR-AUC by more
# (section 6), so before the drift we claim no winner; the table shows the mechanism — without a
# gap the newest frauds are trained as genuine (390 wrong labels instead of 314), and the fast
# feed removes most of them; section 8 weighs them again after the drift. On real data, Dal Pozzolo et al. 2017 found the two feeds different enough to deserve separate
# models, combined afterwards.

# %% [markdown]
# ## 6. Evaluation
#
# ### Per card, at the team's budget — not per payment
#
# ROC-AUC stays high while the top of the list is full of false alarms (it is printed next to
# PR-AUC below). And the review team does not work payments, it works **cards**: each day it
# opens the `30` riskiest, calls the cardholder and blocks the card if it was fraud. The Fraud Detection Handbook (Le Borgne et al., chapter on precision top-k
# metrics) therefore reports **card precision top-k**: each day, rank cards by their riskiest
# payment, take the top *k*, and count the share that really had fraud that day; average over
# days. Per-payment recall counts something else: every fraudulent payment of an alerted card,
# including those a blocked card would never have made.

# %%
def card_metrics(score, rows, budget=ALERTS_PER_DAY):
    # Card precision top-k (Handbook) and per-payment recall for the daily review queue.
    queued = reviewed_cards(score, rows, budget)
    card_day = pd.DataFrame({"day": day[rows], "card": tx["customer_id"].to_numpy()[rows], "fraud": y_true[rows],
                             "queued": queued, "t": seconds(tx["timestamp"])[rows], "score": score})
    per_card = card_day[card_day["queued"]].groupby(["day", "card"])["fraud"].max()
    # the alert fires at the card's riskiest payment of the day; frauds after it are stopped by the block
    alert_t = card_day[card_day["queued"]].sort_values("score", ascending=False).groupby(["day", "card"])["t"].first()
    after = card_day["queued"] & (card_day["t"] > pd.MultiIndex.from_frame(card_day[["day", "card"]]).map(alert_t.to_dict()).fillna(np.inf))
    return {"card precision top-k": round(float(per_card.groupby("day").mean().mean()), 3),
            "per-payment recall": round(float(card_day.loc[card_day["queued"], "fraud"].sum() / card_day["fraud"].sum()), 3),
            "recall, frauds up to the alert": round(float(card_day.loc[card_day["queued"] & ~after, "fraud"].sum() / card_day["fraud"].sum()), 3),
            "frauds stopped by blocking (after the alert)": int(card_day.loc[after, "fraud"].sum()),
            "their amount per day": round(float((tx["amount"].to_numpy()[rows] * card_day["fraud"])[after].sum()
                                                / len(np.unique(day[rows]))), 1)}


budget_rows = {name: {"ROC-AUC": round(float(roc_auc_score(y_future, scores[name])), 3), "PR-AUC": ladder.loc[name, "PR-AUC"]}
               | card_metrics(scores[name], future)
               for name in ["rule (3 red flags)", "LightGBM, all features", "oracle (true_prob)"]}
budget_table = pd.DataFrame.from_dict(budget_rows, orient="index")
print(f"review cost: {ALERTS_PER_DAY} cards x {REVIEW_COST:.0f} = {ALERTS_PER_DAY * REVIEW_COST:.0f} per day")
block_savings = {k: card_metrics(p_future, future, k)["their amount per day"] for k in sorted({5, 10, 20, ALERTS_PER_DAY})}
print("LightGBM queue, cards a day: blocks save / review costs per day: "
      + "; ".join(f"{k}: {v:.1f} / {k * REVIEW_COST:.0f}" for k, v in block_savings.items()))
budget_table

# %% [markdown]
# ROC-AUC makes every row look respectable (0.902 for LightGBM); the card view does not. With the
# team opening 30 cards a day, LightGBM's card precision is 0.253 — most calls are to genuine
# customers — against 0.185 for the rule. Even the oracle reaches only 0.306: on most days fewer
# than 30 cards are compromised, so the budget itself caps card precision. Per-payment recall
# (0.793) counts every fraudulent payment of the queued cards, but the 31 made *after* the alert
# would have been stopped by blocking the card: savings, not detections (this assumes the block
# is instant at the alert; a daily batch queue blocks later and saves less). Counted up to the
# alert, recall is 0.720. Priced, **the default budget loses money on blocks alone**: 30 cards
# cost 150 a day of analyst time and their blocks save 59.7. The second printed line gives the
# trade-off: blocks alone pay for the review only at a small budget (34.8 against 25 at 5 cards
# a day; 51.9 against 50 at 10, about break-even).
# What a larger queue buys is labels: section 8 measures what the investigators' verdicts are
# worth to the retrained model once the fraud has changed.
#
# ### A threshold from costs: approve, step-up or decline
#
# Above a threshold the issuer acts: it **steps up** an online payment and **declines** a
# card-present one (the costs of section 1). Because the world knows each payment's true fraud
# probability, we can compute the **expected** cost of any threshold exactly. A simpler
# baseline sits beside it: use the model's probability directly and act on each payment
# whenever acting is cheaper than approving *for that amount* (the break-even rule).

# %%
amount_future = tx.loc[future, "amount"].to_numpy()
online_future = (tx.loc[future, "channel"] == "online").to_numpy()
n_future_days = DRIFT_DAY - DEPLOY_DAY


def approve_cost(p, amount):
    return p * amount                                               # the chargeback, if it was fraud


def act_cost(p, amount, online, decline=DECLINE_FRICTION, step_up=STEP_UP_FRICTION, passes=STEP_UP_PASS):
    # Step-up online (friction for good customers, a few fraudsters pass), decline card-present.
    return np.where(online, (1 - p) * step_up + p * passes * amount, (1 - p) * decline)


def cost_curve(score, p, amount, online, grid, **costs):
    # Expected cost of acting on every payment with score >= t, for each t in `grid` (sorted once).
    order = np.argsort(-score, kind="stable")
    extra = np.cumsum((act_cost(p, amount, online, **costs) - approve_cost(p, amount))[order])
    n_act = np.searchsorted(-score[order], -grid, side="right")      # payments with score >= t
    return approve_cost(p, amount).sum() + np.where(n_act > 0, extra[np.maximum(n_act - 1, 0)], 0.0), n_act


def cost_at(threshold, score=None, **costs):
    score = p_future if score is None else score
    act = score >= threshold
    cost = np.where(act, act_cost(oracle_future, amount_future, online_future, **costs), approve_cost(oracle_future, amount_future))
    caught = int(y_future[act].sum())
    return {"threshold": round(float(threshold), 2), "actions per day": round(act.sum() / n_future_days, 1),
            "frauds acted on": f"{caught} of {int(y_future.sum())}", "precision": round(caught / max(int(act.sum()), 1), 3),
            "expected cost per day": round(float(cost.sum() / n_future_days), 1)}


grid = np.round(np.arange(0.01, 0.96, 0.01), 2)
sweep = pd.DataFrame([cost_at(th) for th in grid])
best = sweep.loc[sweep["expected cost per day"].idxmin()]
at_half = sweep.loc[sweep["threshold"] == 0.5].iloc[0]
break_even = act_cost(p_future, amount_future, online_future) < approve_cost(p_future, amount_future)
break_even_cost = float(np.where(break_even, act_cost(oracle_future, amount_future, online_future),
                                 approve_cost(oracle_future, amount_future)).sum() / n_future_days)
saving_share = round(1 - float(best["expected cost per day"]) / float(at_half["expected cost per day"]), 3)
first_half = day[future] < DEPLOY_DAY + n_future_days // 2       # honest check: pick early, live later
picked = grid[np.argmin(np.round(cost_curve(p_future[first_half], oracle_future[first_half], amount_future[first_half],
                                            online_future[first_half], grid)[0], 6))]
later = cost_curve(p_future[~first_half], oracle_future[~first_half], amount_future[~first_half], online_future[~first_half], grid)[0]
later_saving_share = round(1 - float(later[grid == picked][0] / later[grid == 0.5][0]), 3)
print(f"approve everything: {approve_cost(oracle_future, amount_future).sum() / n_future_days:.1f} per day; "
      f"break-even rule on the model's p: {break_even_cost:.1f} per day; the cost-optimal threshold saves "
      f"{saving_share:.3f} of the cost at 0.5")
print(f"picked on the first half of the test weeks: {picked:.2f}; on the second half it saves {later_saving_share:.3f} "
      "of the cost at 0.5")
pd.DataFrame([best, at_half], index=["cost-optimal", "0.5 (the default)"])

# %%
# Figure helper: expected cost against threshold.
fig, ax = plt.subplots()
ax.plot(sweep["threshold"], sweep["expected cost per day"], color="tab:blue", label="one threshold")
ax.axhline(break_even_cost, color="tab:purple", ls="-.", label="break-even rule, per payment")
ax.axvline(best["threshold"], color="tab:green", ls="--", label=f"cost-optimal ({best['threshold']:.2f})")
ax.axvline(0.5, color="tab:red", ls=":", label="0.5")
ax.set(xlabel="threshold on the model's fraud probability", ylabel="expected cost per day (currency units)",
       title="The cheapest single threshold is far below 0.5; pricing each amount is cheaper still")
ax.legend()
plt.show()

# %% [markdown]
# The cost-optimal threshold is **0.17**, far from 0.5: it acts on 18.6 payments a day instead
# of 6.3, catches 206 frauds instead of 88, and costs 739.7 a day instead of 1069.6. The curve is
# smooth now (genuine look-alikes spread the scores: 0.018 of future payments score between 0.05
# and 0.5) but flat near its bottom (the figure). Picked honestly on the first half of the test
# weeks, the threshold is 0.07, and on the second half it still saves 0.290 of the cost at 0.5:
# the flat bottom makes the choice forgiving. The simpler-looking baseline
# wins: acting on each payment when the model's probability says acting is cheaper *for that
# amount* costs 573.0 a day, less than any single threshold, because it never declines a small
# payment and steps up a large one at a low probability. We still keep one threshold below:
# the counterfactual, the guardrail and the monitors need a single knob to compare, and the
# per-payment rule cannot value stopping a card test (its loss is the later cash-out, not the
# tiny payment). Is 0.17 a property of the world or of this seed? The next cell rebuilds the
# world at seeds `0`–`3` and picks each seed's threshold on its own future weeks.

# %%
def seed_summary(seed):
    # Build the world at `seed` with this notebook's knobs; fit both models; the four headline numbers.
    if seed == SEED:
        s_tx, s_lgbm, s_lr, s_future, s_y, s_oracle = tx, p_future, scores["logistic regression"], future, y_future, oracle_future
    else:
        s_tx = make_fraud_world(n_transactions=N_TRANSACTIONS, n_days=N_DAYS, base_rate=BASE_RATE,
                                label_delay_days=LABEL_DELAY_DAYS, drift_day=DRIFT_DAY, seed=seed).transactions
        s_feat, s_day = build_features(s_tx), s_tx["day"].to_numpy()
        s_train, s_future = (s_day >= TRAIN_START) & (s_day < TRAIN_END), (s_day >= DEPLOY_DAY) & (s_day < DRIFT_DAY)
        s_known = labels_known_at(s_tx, DEPLOY_DAY)
        s_lgbm = fit_lgbm(s_feat.loc[s_train], s_known[s_train], seed=seed).predict(s_feat.loc[s_future])
        s_lr = make_logreg().fit(s_feat.loc[s_train], s_known[s_train]).predict_proba(s_feat.loc[s_future])[:, 1]
        s_y, s_oracle = s_tx["is_fraud"].to_numpy()[s_future], s_tx["true_prob"].to_numpy()[s_future]
    part = s_tx.loc[s_future]
    curve, _ = cost_curve(s_lgbm, s_oracle, part["amount"].to_numpy(), (part["channel"] == "online").to_numpy(), grid)
    return {"seed": seed, "LightGBM PR-AUC": pr_auc(s_y, s_lgbm), "logistic PR-AUC": pr_auc(s_y, s_lr),
            "oracle PR-AUC": pr_auc(s_y, s_oracle), "LightGBM precision at 80 % recall": precision_at_recall(s_y, s_lgbm),
            "oracle precision at 80 % recall": precision_at_recall(s_y, s_oracle),
            "cost-optimal threshold": float(grid[np.argmin(np.round(curve, 6))])}


by_seed = pd.DataFrame([seed_summary(s) for s in range(4)]).set_index("seed")
by_seed["oracle ratio"] = (by_seed["LightGBM PR-AUC"] / by_seed["oracle PR-AUC"]).round(3)
gap_lr = by_seed["LightGBM PR-AUC"] - by_seed["logistic PR-AUC"]
gap_half = 3.182 * gap_lr.std() / 2                               # t(3) 97.5 % quantile x sd / sqrt(4)
thresholds = by_seed["cost-optimal threshold"]
print(f"cost-optimal threshold at seeds 0-3: {', '.join(f'{t:.2f}' for t in thresholds)}; "
      f"range {thresholds.min():.2f}-{thresholds.max():.2f}, spread {thresholds.max() - thresholds.min():.2f}")
print(f"LightGBM minus logistic regression PR-AUC: mean {gap_lr.mean():.3f}, 95 % interval "
      f"[{gap_lr.mean() - gap_half:.3f}, {gap_lr.mean() + gap_half:.3f}] over the four seeds")
by_seed

# %% [markdown]
# Across seeds 0–3 the cost-optimal threshold lies between 0.08 and 0.17, a spread of 0.09:
# always far below 0.5, but it wanders inside the flat bottom of the curve, so it is not a
# constant to hard-code — re-derive it whenever the model or the costs change. Precision
# at 80 % recall is at most 0.057 for LightGBM and at
# most 0.790 even for the oracle, and LightGBM keeps between 0.448 and 0.562 of the oracle's
# PR-AUC. LightGBM beats logistic regression at every seed, by 0.063 PR-AUC on average, with a
# `95 %` interval from 0.043 to 0.084 over the four seeds. Part of that gap is the *shape* of
# single features (the spline row of section 4 closes roughly half of it at other seeds).
#
# ### What would a new threshold cost? Ask the logs, with propensities
#
# A colleague proposes a higher threshold. The logs cannot answer: declined payments
# never show whether they were fraud. The remedy is **exploration with known propensities**: the
# deployed policy approves a random share of the payments it would act on
# and logs that probability. Weighting each logged payment by one over
# the probability of what was done to it (inverse propensity weighting) prices any higher
# threshold without bias. Approvals are priced by their chargebacks; acted-on
# payments by their **true** fraud status, which an issuer learns only in part — the world's truth.

# %%
rng_log = np.random.default_rng(SEED + 7)
t_deployed, t_new = float(best["threshold"]), round(min(float(best["threshold"]) + 0.15, 0.9), 2)
explore = np.select([p_future < t_deployed, p_future < 0.4, p_future < 0.7], [1.0, 0.2, 0.1], 0.05)  # P(approve | acted)
logged_approve = (p_future < t_deployed) | (rng_log.random(len(p_future)) < explore)
propensity = np.where(p_future < t_deployed, 1.0, np.where(logged_approve, explore, 1 - explore))
passes = rng_log.random(len(p_future)) < STEP_UP_PASS                # fraudsters who get through a step-up
cost_if_approved = tx.loc[future, "chargeback"].to_numpy() * amount_future
cost_if_acted = np.where(online_future, np.where(y_future == 1, passes * amount_future, STEP_UP_FRICTION),
                         np.where(y_future == 1, 0.0, DECLINE_FRICTION))
logged_cost = np.where(logged_approve, cost_if_approved, cost_if_acted)


def ips_cost_per_day(threshold, rows=slice(None)):
    # Inverse-propensity estimate: logged payments whose logged action matches the new policy's.
    agrees = (p_future[rows] < threshold) == logged_approve[rows]
    return float((agrees * logged_cost[rows] / propensity[rows]).sum() / n_future_days)


true_new = float(np.where(p_future < t_new, cost_if_approved, cost_if_acted).sum() / n_future_days)
naive_new = float(np.where(logged_approve, cost_if_approved, np.where(p_future >= t_new, cost_if_acted, 0.0)).sum() / n_future_days)
true_deployed = float(np.where(p_future < t_deployed, cost_if_approved, cost_if_acted).sum() / n_future_days)
boot = np.random.default_rng(SEED + 8)
ips_draws, diff_draws = [], []
for _ in range(200):                        # the same resampled logs price both policies
    rows = boot.integers(0, len(p_future), len(p_future))
    ips_draws.append(ips_cost_per_day(t_new, rows))
    diff_draws.append(ips_draws[-1] - ips_cost_per_day(t_deployed, rows))
ips_low, ips_high = np.percentile(ips_draws, [2.5, 97.5])
diff_low, diff_high = np.percentile(diff_draws, [2.5, 97.5])
ips_diff = ips_cost_per_day(t_new) - ips_cost_per_day(t_deployed)
card_cost = pd.Series(np.where(p_future < t_deployed, cost_if_approved, cost_if_acted)).groupby(tx.loc[future, "customer_id"].to_numpy()).sum()
cards_needed = abtest.sample_size_mean(card_cost.std(), max(abs(ips_diff), 0.1) * n_future_days / len(card_cost)).control  # A/B by card
counterfactual = pd.DataFrame({"cost per day of the new threshold": [true_new, ips_cost_per_day(t_new), naive_new],
                               "new minus deployed": [true_new - true_deployed, ips_diff, np.nan]},
                              index=["true (the world replays the new policy)", "propensity-weighted estimate from the logs",
                                     "naive: logged costs, unweighted"]).round(1)
print(f"deployed threshold {t_deployed:.2f}, proposed {t_new:.2f}; random approvals logged: "
      f"{int((logged_approve & (p_future >= t_deployed)).sum())} of {int((p_future >= t_deployed).sum())} acted-on payments; "
      f"IPS 95 % bootstrap interval [{ips_low:.1f}, {ips_high:.1f}]; new minus deployed [{diff_low:.1f}, {diff_high:.1f}]; "
      f"an A/B test by card, same window: {cards_needed:,} cards per arm ({2 * cards_needed / len(card_cost):.0f} x the cards seen)")
counterfactual

# %% [markdown]
# Replayed on the world, the proposed threshold of 0.32 costs 859.2 per day. The
# propensity-weighted estimate from the logs says 833.7, and its bootstrap interval (681.3 to
# 1013.8) contains the truth; the naive reading of the same logs says 780.5 — blind to the frauds
# among unexplored acted-on payments, it makes the laxer policy look cheaper. The question the colleague asked is the **difference** from the deployed
# threshold: truly 81.2 a day dearer; estimated 65.8, interval -32.3 to 186.8. It
# contains zero: these logs **cannot tell which threshold is
# cheaper**: only 62 of the 484 acted-on payments were explored — unbiased, not precise enough
# to decide. More exploration narrows it, and each random approval risks its amount. An A/B test by
# card is no shortcut: to detect that estimate it needs 73,468 cards per arm,
# 34 times the cards seen.
#
# ### Explore the trade-off
#
# Move the costs: the plot re-finds the optimum; the text gives the counts behind each rate.

# %%
def plot_costs(decline=DECLINE_FRICTION, step_up=STEP_UP_FRICTION, passes=STEP_UP_PASS):
    curve, n_act = cost_curve(p_future, oracle_future, amount_future, online_future, grid,
                              decline=decline, step_up=step_up, passes=passes)
    k = int(np.argmin(np.round(curve, 6)))
    acted = p_future >= grid[k]
    fig, ax = plt.subplots(figsize=(8, 3.5))
    rule = act_cost(p_future, amount_future, online_future, decline, step_up, passes) < approve_cost(p_future, amount_future)
    rule_cost = np.where(rule, act_cost(oracle_future, amount_future, online_future, decline, step_up, passes),
                         approve_cost(oracle_future, amount_future)).sum() / n_future_days
    ax.plot(grid, curve / n_future_days, color="tab:blue", label="one threshold")
    ax.axhline(rule_cost, color="tab:purple", ls="-.", label=f"break-even rule per payment ({rule_cost:.1f})")
    ax.axvline(grid[k], color="tab:green", ls="--", label=f"optimum {grid[k]:.2f}")
    ax.set(xlabel="threshold", ylabel="expected cost per day", title="Expected cost against threshold")
    ax.legend()
    plt.show()
    print(f"optimum {grid[k]:.2f}: {curve[k] / n_future_days:.1f} per day; acts on {n_act[k]:,} of {len(p_future):,} payments "
          f"({n_act[k] / n_future_days:.1f} a day), {int(y_future[acted].sum())} of {int(y_future.sum())} frauds "
          f"(recall {y_future[acted].sum() / y_future.sum():.3f}, precision {y_future[acted].sum() / max(int(acted.sum()), 1):.3f})")
    return float(grid[k])


# %%
# NBVAL_IGNORE_OUTPUT
controls = interact(plot_costs, decline=FloatSlider(value=DECLINE_FRICTION, min=0.0, max=100.0, step=5.0),
                    step_up=FloatSlider(value=STEP_UP_FRICTION, min=0.0, max=20.0, step=1.0),
                    passes=FloatSlider(value=STEP_UP_PASS, min=0.0, max=1.0, step=0.05))


# %%
def optimum_at(decline, step_up, passes):  # the widget's search without the plot (its static fallback)
    curve, n_act = cost_curve(p_future, oracle_future, amount_future, online_future, grid, decline=decline, step_up=step_up, passes=passes)
    k = int(np.argmin(np.round(curve, 6)))
    return {"decline": decline, "step-up": step_up, "passes": passes, "optimum": round(float(grid[k]), 2),
            "cost per day": round(float(curve[k] / n_future_days), 1), "acted on": int(n_act[k])}


pd.DataFrame([optimum_at(*s) for s in [(15.0, 2.0, 0.1), (60.0, 2.0, 0.1), (15.0, 10.0, 0.1), (15.0, 2.0, 0.5)]])

# %% [markdown]
# The table: declines four times dearer (`60`) move the optimum from 0.17 to 0.26; a step-up
# that annoys (`10`) or leaks (`0.5`) leaves it at 0.17 and makes the day dearer. When the costs
# change, re-derive the threshold.

# %% [markdown]
# ## 7. Serving
#
# The system, drawn: the online path must answer inside the authorisation window; the offline
# path trains and audits; two label feeds flow back.
#
# ```mermaid
# flowchart LR
#     A[Card network: authorisation request] --> B[Authorisation service]
#     B --> C[Online feature state: card, device, terminal windows]
#     C --> D[Model service: fraud probability]
#     D --> E{Policy from costs}
#     E -->|approve| F[Approve]
#     E -->|online, risky| G[Step-up: one-time code]
#     E -->|card present, risky| H[Decline]
#     E -->|riskiest cards of the day| I[Case review queue]
#     I --> J[Investigator verdicts: fast labels]
#     K[Chargebacks: slow labels] --> L[Label store with arrival times]
#     J --> L
#     L --> C
#     L --> M[Offline training and as-of audit]
#     B --> N[Logged features, scores, propensities]
#     N --> M
#     M --> D
# ```
#
# Below is a complete, small real-time scorer: an **online state** (per card, payment times and
# running sums; per card and device, a use counter; per terminal, payment times and chargebacks
# received), bootstrapped from the history as a real store is backfilled, then updated per event.

# %%
class RealTimeScorer:
    # Online features + model for one payment at a time. The state lives in plain dicts of lists.

    def __init__(self, booster):
        self.booster = booster
        self.card_t, self.card_cum = defaultdict(list), defaultdict(lambda: [0])
        self.card_tiny = defaultdict(lambda: [0])
        self.device_uses = defaultdict(int)
        self.term_t, self.term_cb = defaultdict(list), defaultdict(list)

    def on_chargeback(self, terminal, label_t):           # the chargeback feed calls this
        self.term_cb[terminal].append(label_t)

    def _card_window(self, card, t, window, cum=None):
        times, cum = self.card_t[card], self.card_cum[card] if cum is None else cum
        first = bisect_left(times, t - window)
        return len(times) - first, cum[-1] - cum[first]

    def _term_window(self, terminal, t, window):
        received = self.term_cb[terminal]
        cb = bisect_right(received, t) - bisect_right(received, t - window)   # arrived in (t - window, t]
        n = len(self.term_t[terminal]) - bisect_left(self.term_t[terminal], t - window)
        return cb, cb / (n + 1)


# %%
def online_features(self, t, card, terminal, device, amount, hour, channel, foreign):
    cents = round(amount * 100)
    f = [amount, hour, int(channel == 1), int(channel == 2), foreign]
    for window in (HOUR, DAY, 7 * DAY):
        n, total = self._card_window(card, t, window)
        f += [n, total / 100] if window != 7 * DAY else [n]
    f.append(self._card_window(card, t, 7 * DAY, self.card_tiny[card])[1])
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
    self.card_tiny[card].append(self.card_tiny[card][-1] + int(round(amount * 100) < 500))
    self.device_uses[card, device] += 1
    self.term_t[terminal].append(t)
    return p, f


RealTimeScorer.features, RealTimeScorer.score = online_features, score


# %%
def bootstrap(booster, history, t_history, chargebacks, scorer_class=RealTimeScorer):
    # Load the online state from the offline history (a backfill), then hand it to the stream.
    scorer = scorer_class(booster)
    cents = np.round(history["amount"].to_numpy() * 100).astype(np.int64)
    for card, idx in history.groupby("customer_id").indices.items():
        scorer.card_t[card] = t_history[idx].tolist()
        scorer.card_cum[card] = [0] + np.cumsum(cents[idx]).tolist()
        scorer.card_tiny[card] = [0] + np.cumsum(cents[idx] < 500).tolist()
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
cb_rows = tx.index[tx["chargeback"] == 1].to_numpy()
arrival_all = seconds(tx["label_available_at"])


def chargeback_feed(arrival):
    # (terminal, arrival second) of every chargeback, in arrival order; split at the deployment.
    order = cb_rows[np.argsort(arrival[cb_rows], kind="stable")]
    feed = list(zip(tx.loc[order, "terminal_id"].tolist(), arrival[order].tolist(), strict=True))
    return [e for e in feed if e[1] <= t_all[start] - 1], [e for e in feed if e[1] > t_all[start] - 1]


already, pending = chargeback_feed(arrival_all)
N_REPLAY = 3_000
stream = tx.iloc[start:start + N_REPLAY]
columns = [stream[c].tolist() for c in ["customer_id", "terminal_id", "device_id", "amount", "hour"]]
columns += [stream["channel"].cat.codes.tolist(), (stream["country"] != stream["card_country"]).astype(int).tolist()]


def replay(scorer, pending, n=N_REPLAY):
    # Feed the first n payments after deployment, one by one; return their features and scores.
    rows, scores_online, next_cb = [], [], 0
    for t, card, term, device, amount, hour, channel, foreign in zip(
            t_all[start:start + n].tolist(), *(column[:n] for column in columns), strict=True):
        while next_cb < len(pending) and pending[next_cb][1] <= t:     # chargebacks that have arrived
            scorer.on_chargeback(*pending[next_cb])
            next_cb += 1
        p, f = scorer.score(t, card, term, device, amount, hour, channel, foreign)
        rows.append(f)
        scores_online.append(p)
    return np.array(rows, dtype=float), np.array(scores_online)


def differing(online_rows, n=N_REPLAY):
    offline_rows = features.iloc[start:start + n].to_numpy(dtype=float)
    return [name for j, name in enumerate(FEATURES) if not np.array_equal(online_rows[:, j], offline_rows[:, j], equal_nan=True)]


online_rows, online_p = replay(bootstrap(lgbm, tx.iloc[:start], t_all[:start], already), pending)
offline_p = lgbm.predict(features.iloc[start:start + N_REPLAY])
parity_exact = not differing(online_rows) and np.array_equal(online_p, offline_p)
print(f"{N_REPLAY:,} replayed payments x {len(FEATURES)} features: features that differ online vs offline: "
      f"{differing(online_rows) or 'none'}; scores identical: {np.array_equal(online_p, offline_p)}")

# %% [markdown]
# Every replayed payment gets bit-for-bit the same features and score online as offline: times
# are whole seconds and money whole cents in both paths, the windows have the same open and
# closed ends, and chargebacks are applied in arrival order before each payment.
#
# ### A real skew, planted and caught
#
# A parity check earns its place in CI only if it fails when it should. The skew real teams meet
# is not a `<` against a `<=`; it is a **feed that arrives differently online**. Here the online
# store receives chargebacks in a nightly batch (applied at the next midnight), while the
# training features used the exact arrival times.

# %%
nightly = np.where(np.isin(np.arange(len(tx)), cb_rows), (arrival_all // DAY + 1) * DAY, arrival_all)
lag_already, lag_pending = chargeback_feed(nightly)
lagged_rows, lagged_p = replay(bootstrap(lgbm, tx.iloc[:start], t_all[:start], lag_already), lag_pending)
skewed = differing(lagged_rows)
rows_changed = int((lagged_rows != online_rows)[:, [FEATURES.index(c) for c in skewed]].any(axis=1).sum()) if skewed else 0
SKEW_CAUGHT = len(skewed) > 0
print(f"nightly chargeback batch: features that differ: {skewed or 'none'}; payments affected: {rows_changed:,} of {N_REPLAY:,}")

# %% [markdown]
# The check names the four terminal features at once: under the nightly batch they count fewer
# chargebacks than the model was trained with, for 98 of the 3,000 replayed payments. Fix one side or the other
# — train on the nightly feed (`build_features(tx, arrival=nightly)`), or stream chargebacks into
# the store — and re-run the replay.
#
# A second guard needs no offline features at all: an **alert-volume guardrail** compares the
# share of payments the service acts on with the share the model acted on in the week before
# deployment. We plant the most common real-time bug — the service records a payment in its
# state *before* computing its features, so every window counts the payment itself — and watch
# the guardrail.

# %%
class UpdateFirstScorer(RealTimeScorer):
    # The planted bug: update the state first, then compute features from it.
    def score(self, t, card, terminal, device, amount, hour, channel, foreign):
        self.card_t[card].append(t)
        self.card_cum[card].append(self.card_cum[card][-1] + round(amount * 100))
        self.card_tiny[card].append(self.card_tiny[card][-1] + int(round(amount * 100) < 500))
        self.device_uses[card, device] += 1
        self.term_t[terminal].append(t)
        f = self.features(t, card, terminal, device, amount, hour, channel, foreign)
        return float(self.booster.predict(np.array([f]), num_threads=1)[0]), f


def guardrail(action_share, reference, factor=3.0):
    # Alarm when the live share of acted-on payments leaves [reference / factor, reference x factor].
    return not reference / factor <= action_share <= reference * factor


last_week = (day >= DEPLOY_DAY - 7) & (day < DEPLOY_DAY)
reference_share = float((lgbm.predict(features.loc[last_week]) >= t_deployed).mean())
_, buggy_p = replay(bootstrap(lgbm, tx.iloc[:start], t_all[:start], already, scorer_class=UpdateFirstScorer), pending, 1_000)
healthy_share, buggy_share = float((online_p[:1_000] >= t_deployed).mean()), float((buggy_p >= t_deployed).mean())
GUARDRAIL_CAUGHT = guardrail(buggy_share, reference_share) and not guardrail(healthy_share, reference_share)
print(f"share of payments acted on at {t_deployed:.2f}: week before deployment {reference_share:.4f}; "
      f"healthy service {healthy_share:.4f} (alarm: {guardrail(healthy_share, reference_share)}); "
      f"update-first bug {buggy_share:.4f} (alarm: {guardrail(buggy_share, reference_share)})")

# %%
# NBVAL_IGNORE_OUTPUT
# Time one payment end to end (features from the state + model + state update), 1,000 payments x
# 5 repeats. The repeats score payments the state has already seen: the lookups cost the same.
scorer = bootstrap(lgbm, tx.iloc[:start], t_all[:start], already)
events = list(zip(t_all[start:start + 1_000].tolist(), *(column[:1_000] for column in columns), strict=True))
scoring_latency = measure(lambda event: scorer.score(*event), events, repeats=5)
print(f"per payment: {scoring_latency} (budget 10 ms)")

# %% [markdown]
# The buggy service acts on 0.2030 of payments against 0.0064 the week before deployment (the
# model learned that a payment 0 seconds after the previous one is a burst), and the guardrail
# fires on the first thousand payments; the healthy service (0.0060) stays inside the band. A
# payment takes a fraction of a millisecond at the median, far inside the `10` ms budget (the
# hard p99 bar lives in `make bench`). In production the state sits in a key-value store.
#
# > **Failure mode:** training–serving skew — the offline pipeline and the online service compute
# > "the same" feature from feeds that arrive differently. Guard: a replay parity test in CI,
# > an alert-volume guardrail in production, and logging the served features for training.

# %% [markdown]
# ## 8. Monitoring and iteration
#
# The model went live on day `84`. On day `110` fraudsters start **card testing**: tiny foreign
# online payments that check a stolen card works, followed 6 to 72 hours later by a **cash-out**
# of large online purchases on the same cards. Nothing like it was in the training data. What does
# it cost, and which monitor sees it first?
#
# Two monitors watch it. A **segment monitor** counts the payments card testing lives in (under
# `5`, online, abroad) and alarms when the count over a window exceeds its mean plus `4` standard
# deviations on the training days; we try a one-day and a seven-day window, at seeds `0`–`3`
# (computed) and `4`–`23` (a precomputed table). Note what this assumes: the segment is *known in
# advance* — defined exactly as the world makes card testing. It watches for a known attack; it
# cannot find an unknown one.
# The **global score PSI** (population stability index) compares this week's score distribution
# with training: `0.2` is the usual alarm.
#
# **Predict, then run:** card testing is well under 1 % of payments. Which window alarms sooner?
# Will the global PSI cross `0.2` in the first week of the drift?

# %%
def policy_cost(score, rows, threshold):
    # Expected cost per payment of acting at `threshold` (the world's true_prob prices it).
    p, amount = tx["true_prob"].to_numpy()[rows], tx["amount"].to_numpy()[rows]
    online = (tx["channel"] == "online").to_numpy()[rows]
    return np.where(score >= threshold, act_cost(p, amount, online), approve_cost(p, amount))


live = day >= DEPLOY_DAY
deployed_scores = lgbm.predict(features.loc[live])
cash_out_loss = (tx["scenario"].to_numpy()[live] >= 4) * tx["true_prob"].to_numpy()[live] * tx["amount"].to_numpy()[live]
daily = pd.DataFrame({"day": day[live], "deployed cost": policy_cost(deployed_scores, live, t_deployed),
                      "testing + cash-out loss": np.where(deployed_scores >= t_deployed, 0.0, cash_out_loss)}).groupby("day").sum()


def tiny_foreign_online(s_tx):
    # Daily count of the segment card testing lives in: payments under 5, online, abroad.
    flag = (s_tx["amount"] < 5) & (s_tx["channel"] == "online") & (s_tx["country"] != s_tx["card_country"])
    return flag.groupby(s_tx["day"]).sum()


def segment_monitor(counts, window):
    # Alarm when the `window`-day rolling count exceeds its reference mean + 4 sd (training days).
    rolling = counts.rolling(window).sum()
    reference = rolling[(rolling.index >= TRAIN_START + window - 1) & (rolling.index < DEPLOY_DAY)]
    alarms = rolling.index[rolling > reference.mean() + 4 * reference.std()]
    after = alarms[alarms >= DRIFT_DAY]
    return {"alarm level": round(float(reference.mean() + 4 * reference.std()), 1),
            "first alarm (day)": int(after.min()) if len(after) else None,
            "delay (days)": int(after.min()) - DRIFT_DAY if len(after) else None,
            "false alarms before the drift": int(((alarms >= DEPLOY_DAY) & (alarms < DRIFT_DAY)).sum())}


monitor_rows = []
for s in range(4):                    # the worlds of seeds 0-3 (no model needed: counts only)
    s_tx = tx if s == SEED else make_fraud_world(n_transactions=N_TRANSACTIONS, n_days=N_DAYS, base_rate=BASE_RATE,
                                                label_delay_days=LABEL_DELAY_DAYS, drift_day=DRIFT_DAY, seed=s).transactions
    monitor_rows += [{"seed": s, "window (days)": w} | segment_monitor(tiny_foreign_online(s_tx), w) for w in (1, 7)]
monitors = pd.DataFrame(monitor_rows).set_index(["window (days)", "seed"]).sort_index()
weekly_monitor = monitors.loc[7]
first_alarm = weekly_monitor.loc[SEED, "first alarm (day)"] if SEED in weekly_monitor.index else None
first_alarm = None if pd.isna(first_alarm) else int(first_alarm)
worst_delay = weekly_monitor["delay (days)"].max()                # NaN if a seed never alarms
daily_noisy_seeds = int((monitors.loc[1, "false alarms before the drift"] > 0).sum())
median_delay = monitors.groupby(level=0)["delay (days)"].median()
print(f"seeds 0-3: the 7-day window alarms at most {worst_delay} days after the drift; "
      f"the daily window raises false alarms at {daily_noisy_seeds} of 4 seeds; median delay: daily "
      f"{median_delay[1]:.1f}, 7-day {median_delay[7]:.1f} days")
# Seeds 4-23 at the default knobs, PRECOMPUTED (20 more worlds cost ~20 s): the same monitor, run by
# `python -m tests.benchmarks.bench_fraud monitor`. Fixed numbers: they do not follow the knobs.
MONITOR_SEEDS_4_23 = pd.DataFrame(
    {"seeds with a false alarm (of 20)": [0, 1, 6, 1], "median delay (days)": [2, 4, 0, 3],
     "longest delay (days)": [9, 9, 3, 9], "seeds with delay > 7": [2, 2, 0, 1]},
    index=pd.MultiIndex.from_tuples([(4, 1), (4, 7), (3, 1), (3, 7)], names=["alarm at mean + k sd", "window (days)"]))
display(MONITOR_SEEDS_4_23)
monitors


# %%
def psi(reference, current, bins=10):
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    ref = np.bincount(np.searchsorted(edges, reference, "right"), minlength=len(edges) + 1) / len(reference)
    cur = np.bincount(np.searchsorted(edges, current, "right"), minlength=len(edges) + 1) / len(current)
    ref, cur = np.clip(ref, 1e-4, None), np.clip(cur, 1e-4, None)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


train_scores = lgbm.predict(X_train)
drift_week = (day >= DRIFT_DAY) & (day < DRIFT_DAY + 7)
first_week_psi = round(psi(train_scores, lgbm.predict(features.loc[drift_week])), 3)
print(f"global score PSI in the first week of the drift: {first_week_psi:.3f} (alarm at 0.2)")

# %% [markdown]
# Now the money, and the retraining. On day `131` the model is retrained on the nine weeks before
# it, with the labels known then: chargebacks that have arrived, plus the review team's verdicts
# on the cards it investigated (the deployed model chose them). Payments the deployed policy
# declined or stepped up never produce a chargeback; unless their card was reviewed they are left
# out rather than trained as genuine. The second table makes these changes one at a time.

# %%
recent = (day >= RETRAIN_DAY - 63) & (day < RETRAIN_DAY)
acted_live = np.zeros(len(tx), bool)
acted_live[live] = deployed_scores >= t_deployed
reviewed_live = np.zeros(len(tx), bool)
review_window = live & (day < RETRAIN_DAY - 1)
reviewed_live[review_window] = reviewed_cards(lgbm.predict(features.loc[review_window]), review_window)
y_retrain = np.where(reviewed_live, y_true, labels_known_at(tx, RETRAIN_DAY))
keep_rows = recent & (~acted_live | reviewed_live)
lgbm_retrained = fit_lgbm(features.loc[keep_rows], y_retrain[keep_rows])
retrained_scores = lgbm_retrained.predict(features.loc[live])
daily["retrained cost"] = pd.Series(policy_cost(retrained_scores, live, t_deployed)).groupby(day[live]).sum().to_numpy()
periods = {f"days {DEPLOY_DAY}-{DRIFT_DAY - 1} (before drift)": (daily.index < DRIFT_DAY),
           f"days {DRIFT_DAY}-{RETRAIN_DAY - 1} (drift)": (daily.index >= DRIFT_DAY) & (daily.index < RETRAIN_DAY),
           f"days {RETRAIN_DAY}-{N_DAYS - 1} (after retraining)": daily.index >= RETRAIN_DAY}
money = pd.DataFrame({name: {"deployed model, cost per day": daily.loc[m, "deployed cost"].mean(),
                             "retrained model, cost per day": daily.loc[m, "retrained cost"].mean() if "after" in name else np.nan,
                             "of which testing + cash-out losses (deployed)": daily.loc[m, "testing + cash-out loss"].mean()}
                      for name, m in periods.items()}).T.round(1)
# The retrain changes three things at once; change them one at a time (cost per day after day RETRAIN_DAY).
after_rt = day >= RETRAIN_DAY
cb_only = recent & ~acted_live                     # newer window, chargebacks only, acted-on payments left out
n_after_days = N_DAYS - RETRAIN_DAY
retrain_steps = {f"deployed (days {TRAIN_START}-{TRAIN_END - 1}, chargebacks)": lgbm,
                 f"+ newer window (days {RETRAIN_DAY - 63}-{RETRAIN_DAY - 1}), chargebacks only, acted-on left out":
                     fit_lgbm(features.loc[cb_only], labels_known_at(tx, RETRAIN_DAY)[cb_only]),
                 "+ investigator labels on the reviewed cards (the retrain above)": lgbm_retrained}
retrain_table = pd.DataFrame({"cost per day after retraining": [
    round(float(policy_cost(m.predict(features.loc[after_rt]), after_rt, t_deployed).sum() / n_after_days), 1)
    for m in retrain_steps.values()]}, index=list(retrain_steps))
display(money)
retrain_table

# %%
week_of = (daily.index - DEPLOY_DAY) // 7
weekly = daily.groupby(week_of).mean()
weekly.index = DEPLOY_DAY + 7 * weekly.index
weekly_live = (day[live] - DEPLOY_DAY) // 7
pr_by_week = pd.Series(y_true[live]).groupby(weekly_live).apply(lambda s: pr_auc(s, deployed_scores[s.index]))
calibration = pd.Series(deployed_scores).groupby(weekly_live).sum() / pd.Series(y_true[live]).groupby(weekly_live).sum()
pre = weekly.index + 7 <= DRIFT_DAY                                 # whole weeks before the drift
band = (weekly.loc[pre, "deployed cost"].mean() - 2 * weekly.loc[pre, "deployed cost"].std(),
        weekly.loc[pre, "deployed cost"].mean() + 2 * weekly.loc[pre, "deployed cost"].std())
weekly_table = pd.DataFrame({"deployed cost per day": weekly["deployed cost"].round(1),
                             "weekly PR-AUC (deployed)": pr_by_week.to_numpy(),
                             "predicted / actual frauds": calibration.round(3).to_numpy()}, index=weekly.index.rename("first day"))
drift_weeks = (weekly.index >= DRIFT_DAY) & (weekly.index < RETRAIN_DAY)
weeks_above = int((weekly.loc[drift_weeks, "deployed cost"] > band[1]).sum())
print(f"noise band of the weekly cost per day before the drift (mean +- 2 sd): [{band[0]:.1f}, {band[1]:.1f}]; "
      f"drift weeks above it: {weeks_above} of {int(drift_weeks.sum())}")
print(f"predicted / actual frauds: weeks before the drift {calibration[pre].min():.3f}-{calibration[pre].max():.3f}, "
      f"drift weeks {', '.join(f'{v:.3f}' for v in calibration[drift_weeks])}")
weekly_table

# %%
# Figure helper: weekly cost per day with the pre-drift noise band, deployed vs retrained.
fig, ax = plt.subplots()
ax.fill_between([weekly.index.min(), weekly.index.max()], *band, color="0.85", label="noise band before the drift")
ax.plot(weekly.index, weekly["deployed cost"], "o-", label=f"deployed model (trained to day {TRAIN_END})")
after = weekly.index >= RETRAIN_DAY
ax.plot(weekly.index[after], weekly.loc[after, "retrained cost"], "s-", label=f"retrained on day {RETRAIN_DAY}")
ax.axvline(DRIFT_DAY, color="tab:red", ls=":", label=f"card testing starts (day {DRIFT_DAY})")
if first_alarm is not None:
    ax.plot([first_alarm], [band[0]], "^", color="tab:green", ms=12, label=f"segment monitor alarm (day {first_alarm})")
ax.set(xlabel=f"first day of the week (weeks counted from day {DEPLOY_DAY})", ylabel="expected cost per day (currency units)",
       title="Card testing and cash-out cost money; the segment monitor sees it first")
ax.legend(loc="upper left", fontsize=8)
plt.show()

# %% [markdown]
# Card testing costs money through what follows it: the cash-out. During the drift the deployed
# model's expected cost rises from 739.7 to 1183.3 per day; 330.6 a day of it is testing and
# cash-out losses the model lets through; 3 of the 3 drift weeks clear the noise band here (not
# at every seed: try `SEED = 2`). The **segment monitor**, over seeds 4–23: the seven-day window
# alarms a median 4 days after the drift starts, the daily window 2 (worst 9 for both); at `4` sd
# both rarely cry wolf (daily 0 of 20 seeds, 2 of seeds 0–3; seven-day 1 of 20), at `3` sd the
# daily window does at 6 of 20. The global score PSI stays at 0.016: a pattern this rare does not move a global
# distribution. Calibration is no monitor here: predicted / actual already wanders from 0.887 to
# 1.362 before the drift; the drift weeks fall below that here, but not at every seed.
#
# The retrain costs 713.0 a day after day `131` against 941.0 for the deployed model. One change
# at a time: the newer window with chargebacks only gets to 889.8; here the investigators'
# verdicts bring the rest — fast labels that a two-week-old attack's chargebacks cannot yet
# provide. At `SEED = 3` the newer window does it all: the newer window helps at every seed (the
# scorecard), the verdicts' worth varies.
#
# > **Say it in the interview:** "I monitor in money per day with a noise band, plus segment
# > counts for the attacks I know (card testing, a merchant's sudden volume); global PSI is a
# > health check, not a fraud detector."

# %% [markdown]
# ## Your turn
#
# Two numeric exercises and two judgment ones. For the numeric ones, replace `TODO` with your
# answer and run the cell: the check tells you whether you are right, and gives a hint if not. For
# the judgment ones, write your answer in the markdown cell, then compare it with the model answer
# and the self-check list at the end.

# %% jupyter={"source_hidden": true} tags=["answer-key"]
# Answer key for the self-checks below, computed from the notebook's state (so it follows the
# knobs). Collapsed so that it does not spoil the exercises: try them first.
_key = {}
_probe = np.linspace(0, 1, 1_000_001)
_key["Exercise 1"] = float(_probe[np.argmax(act_cost(_probe, 200.0, False) <= approve_cost(_probe, 200.0))])
_alone = ~(features["secs_since_prev"] <= HOUR)
_key["Exercise 2"] = tuple(_alone.groupby([tx["scenario"], tx["is_fraud"]]).agg(["sum", "mean"]).loc[(1, 1)].astype(float))

# %% [markdown]
# ### Exercise 1 · Break-even probability
#
# Declining a card-present payment costs `15 × (1 - p)`; approving it costs `p × A` (the
# functions `act_cost` and `approve_cost` of section 6). Above what fraud probability $p$ is
# declining a card-present payment of `200` cheaper? Solve it on paper; give three decimals.

# %%
answer_1 = TODO
_ = check_answer("Exercise 1", answer_1, _key["Exercise 1"],
                 rel_tol=0.01, hint="write both costs as functions of p, set them equal, collect the p terms")

# %% [markdown]
# ### Exercise 2 · What velocity cannot see
#
# How many stolen-card frauds (scenario 1 *and* actually fraud) have an empty one-hour card
# window in `features`, and what share of all stolen-card frauds is that? Give `(count, share)`.

# %%
answer_2 = TODO
_ = check_answer("Exercise 2", answer_2, _key["Exercise 2"], abs_tol=0.002, rel_tol=0.0,
                 hint="two conditions select the rows (which mechanism, and was it fraud?); which feature counts "
                      "the card's payments in the last hour?")

# %% [markdown]
# ### Exercise 3 (judgment) · Which metric goes on the champion–challenger dashboard?
#
# You route a random half of the cards to a new model for four weeks. The product manager wants
# one number on the dashboard to decide the winner. Which metric do you choose, which do you
# refuse (ROC-AUC? per-payment recall? PR-AUC?), and when can you read it? Write your answer here:
#
# *Your answer:*

# %% [markdown]
# ### Exercise 4 (judgment) · The segment monitor fires: what now?
#
# On a Tuesday the tiny-foreign-online count is three times its alarm level. Chargebacks for
# these payments will not arrive for a week or more. What do you do today, this week, and at the
# next retraining — and what do you *not* do? Write your answer here:
#
# *Your answer:*

# %% [markdown]
# ## Scorecard
#
# Every claim this notebook made, recomputed from the values above. With the default parameters
# the cell asserts that each holds (and `make claims` checks them at seeds 1-3); with other
# parameters it reports which hold and why the others do not. Timings are judged on the p50 only.

# %% tags=["scorecard"]
from utils.scorecard import build, enforce

lgbm_pr = ladder.loc["LightGBM, all features", "PR-AUC"]
card_prec = budget_table["card precision top-k"]
rows = [
    # calibration of the world: realism targets it was built to meet (checks of the world, not lessons)
    ("calibration of the world: fraud base rate", round(float(fraud.mean()), 4), "0.002 - 0.01", 0.002 <= fraud.mean() <= 0.01),
    ("calibration of the world: LightGBM precision at 80 % recall, highest of seeds 0-3",
     by_seed["LightGBM precision at 80 % recall"].max(), "< 0.5", by_seed["LightGBM precision at 80 % recall"].max() < 0.5),
    ("calibration of the world: LightGBM / oracle PR-AUC, lowest of seeds 0-3", by_seed["oracle ratio"].min(), ">= 0.35",
     by_seed["oracle ratio"].min() >= 0.35),
    ("calibration of the world: cost-optimal threshold at seeds 0-3 (lowest, highest)",
     f"{thresholds.min():.2f}, {thresholds.max():.2f}", "all in [0.05, 0.30]", bool(thresholds.between(0.05, 0.30).all())),
    # lessons

    ("LightGBM minus logistic regression PR-AUC, 95 % interval over seeds 0-3", f"[{gap_lr.mean() - gap_half:.3f}, {gap_lr.mean() + gap_half:.3f}]",
     "lower end > 0", gap_lr.mean() - gap_half > 0),
    ("learned model beats the 3-flag rule (PR-AUC)", lgbm_pr, f"> rule {ladder['PR-AUC'].iloc[0]:.3f}", lgbm_pr > ladder["PR-AUC"].iloc[0]),
    ("ablation: without card velocity, PR-AUC", ladder.loc["LightGBM without card velocity", "PR-AUC"], f"< all features {lgbm_pr:.3f}",
     ladder.loc["LightGBM without card velocity", "PR-AUC"] < lgbm_pr),
    ("ablation: without terminal risk, PR-AUC", ladder.loc["LightGBM without terminal risk", "PR-AUC"], f"< all features {lgbm_pr:.3f}",
     ladder.loc["LightGBM without terminal risk", "PR-AUC"] < lgbm_pr),
    ("leaky terminal risk, time-split backtest PR-AUC", leak_table.loc["leaky", "time-split backtest"],
     f"> honest {leak_table.loc['honest', 'time-split backtest']:.3f}", leak_table.loc["leaky", "time-split backtest"] > leak_table.loc["honest", "time-split backtest"]),
    ("leaky terminal risk, PR-AUC on the future", leak_table.loc["leaky", "the future (production features)"],
     f"< honest {leak_table.loc['honest', 'the future (production features)']:.3f}",
     leak_table.loc["leaky", "the future (production features)"] < leak_table.loc["honest", "the future (production features)"]),
    ("as-of audit: share of rows changed, honest / leaky", f"{audit['honest']:.3f} / {audit['leaky']:.3f}", "0 / > 0",
     audit["honest"] == 0 and audit["leaky"] > 0),
    ("card precision top-k at the daily budget: LightGBM", card_prec["LightGBM, all features"], f"> rule {card_prec['rule (3 red flags)']:.3f}",
     card_prec["LightGBM, all features"] > card_prec["rule (3 red flags)"]),
    ("cost-optimal threshold: cost saved, as a share of the cost at 0.5", saving_share, ">= 0.10", saving_share >= 0.10),
    ("threshold picked on the first half of the test weeks: share saved on the second half", later_saving_share, ">= 0.10",
     later_saving_share >= 0.10),
    ("counterfactual: true cost per day of the new threshold inside the IPS 95 % interval", round(true_new, 1),
     f"[{ips_low:.1f}, {ips_high:.1f}]", bool(ips_low <= true_new <= ips_high)),
    ("counterfactual: new minus deployed cost per day, IPS 95 % interval", f"[{diff_low:.1f}, {diff_high:.1f}]",
     "contains 0: the logs cannot tell which is cheaper", bool(diff_low <= 0 <= diff_high)),
    ("online vs offline features and scores identical (3,000 payments)", bool(parity_exact), "True", bool(parity_exact)),
    ("nightly chargeback batch: features the parity check names", len(skewed), "> 0", SKEW_CAUGHT),
    ("alert-volume guardrail: fires on the update-first bug, silent on the healthy service", GUARDRAIL_CAUGHT, "True", GUARDRAIL_CAUGHT),
    ("one payment scored online within the 10 ms budget (CPU p50, best of 5 repeats)", scoring_latency.p50 <= 10.0, "True",
     scoring_latency.p50 <= 10.0, f"CPU p50 {scoring_latency.p50:.3f} ms"),
    ("drift: weeks of the drift whose deployed cost per day is above the pre-drift band", f"{weeks_above} of {int(drift_weeks.sum())}",
     ">= 1", weeks_above >= 1),
    ("segment monitor at 4 sd, both windows, seeds 0-3: longest delay to the first alarm, days",
     float(monitors["delay (days)"].astype(float).max()), "<= 9 (the worst of seeds 4-23, precomputed)",
     bool(monitors["delay (days)"].notna().all() and monitors["delay (days)"].astype(float).max() <= 9)),
    ("segment monitor, median delay at seeds 0-3: daily vs 7-day window", f"{median_delay[1]:.1f} vs {median_delay[7]:.1f}",
     "daily <= 7-day (seeds 4-23: 2 vs 4)", bool(median_delay[1] <= median_delay[7])),
    ("global score PSI in the first week of the drift", first_week_psi, "< 0.2 (it misses the drift)", first_week_psi < 0.2),
    ("after retraining: retrained cost per day", money.iloc[2, 1], f"< deployed {money.iloc[2, 0]:.1f}", money.iloc[2, 1] < money.iloc[2, 0]),
    ("retrain, one change at a time: newer window, chargebacks only, cost per day", retrain_table.iloc[1, 0],
     f"< deployed {retrain_table.iloc[0, 0]:.1f}", retrain_table.iloc[1, 0] < retrain_table.iloc[0, 0]),
]
scorecard = build(rows)
with pd.option_context("display.max_colwidth", 80):
    display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)   # asserts at defaults (and in make claims), else reports

# %% [markdown]
# ## In 60 seconds
#
# "Fraud is a cost problem with four answers — approve, step-up, decline, or approve and review —
# so I price each and pick the threshold from costs: 0.17 here, between 0.08 and 0.17 over four
# seeds, never 0.5. Labels come from two feeds: investigators within a day for the cards they
# review, chargebacks weeks later and noisy for the rest. Features are per-card, per-device and
# per-terminal windows computed as of the payment; label-derived ones get an as-of audit before
# launch, because a time-split backtest still rewards a leak. Real alert lists are mostly false
# alarms, so I report card precision at the team's daily budget and recall up to the alert. To
# move a threshold I estimate its cost from logs with known exploration propensities. In
# production I watch money per day with a noise band, segment monitors for known attacks, an
# alert-volume guardrail and a replay parity test, and I retrain on both label feeds."

# %% [markdown]
# ## Solutions

# %% [markdown]
# **Exercise 1.** Set the costs equal, `15 × (1 - p) = 200 p`, so `p = 15 / (200 + 15)`. The
# break-even falls as the amount grows, which is why the per-payment break-even rule of section 6
# prices the amount, and why declining a tiny payment never pays.

# %%
answer_1 = 15 / (200 + 15)
print(f"break-even fraud probability for declining a 200 payment: {answer_1:.4f}")
_ = check_answer("Exercise 1", answer_1, _key["Exercise 1"], rel_tol=0.01)

# %% [markdown]
# **Exercise 2.** The first payment of every burst — and every payment of a slow burst — has an
# empty window: the part of the stolen-card fraud that velocity cannot see.

# %%
burst_frauds = (tx["scenario"] == 1) & fraud
empty_window = features.loc[burst_frauds, "card_n_1h"] == 0
answer_2 = (int(empty_window.sum()), float(empty_window.mean()))
print(f"stolen-card frauds with an empty 1-hour window: {answer_2[0]:,}, a share of {answer_2[1]:.3f}")
_ = check_answer("Exercise 2", answer_2, _key["Exercise 2"], abs_tol=0.002, rel_tol=0.0)

# %% [markdown]
# **Exercise 3 (judgment).**
#
# **Model answer:** The decision metric is money per day per arm — fraud losses plus decline and
# step-up friction plus review time — with a confidence interval, randomised by card so one
# customer sees one policy. It can only be read once the arms' chargebacks have arrived, two to
# three weeks after the test (section 2's delays); until then the dashboard shows what needs no
# labels: actions per day against the team's capacity, decline and step-up rates, complaints,
# p99 latency, and card precision from the investigators' fast verdicts. I refuse ROC-AUC (it
# looks respectable for every model in section 6) and per-payment recall (it counts frauds a
# blocked card would never have made). Declined payments have no label in either arm, so both
# arms keep the same small exploration with logged propensities.
#
# **Self-check:**
# - money per day (losses + friction + review), with an interval, as the primary number;
# - says when it can be read, and what is shown until then;
# - rejects ROC-AUC and per-payment recall, with the reasons;
# - the randomisation unit is the card;
# - handles the missing labels of declined payments (exploration, propensities).

# %% [markdown]
# **Exercise 4 (judgment).**
#
# **Model answer:** Today: look at the payments behind the count (which merchants, which BINs,
# which countries) and send the cards with tiny foreign online payments to the review queue —
# investigators give labels within a day, long before chargebacks. Add a rule with a short expiry
# (step up tiny foreign online payments, or the next large online payment of a card that just
# made one) and watch its volume with the guardrail. This week: retrain or fine-tune with the
# investigators' labels, checking cost per day against the noise band, and price the rule's
# friction. At the next retraining: keep the feature that carries the pattern (tiny payments in
# the last week) and the segment monitor. What not to do: wait for the chargebacks, retrain on
# labels that say "genuine" only because the chargebacks have not arrived, or raise the global
# threshold for everyone.
#
# **Self-check:**
# - uses the fast label feed (review queue) instead of waiting for chargebacks;
# - a targeted, expiring rule with its friction measured;
# - a retrain that does not treat unlabelled recent payments as genuine;
# - a check of the result in money per day against the noise band;
# - does not react with a global threshold change.

# %% [markdown]
# *Navigation:* ← [09 · Recommendations](09_case_recommendations.ipynb) · [Course map](00_course_map.ipynb) · [11 · Search ranking](11_case_search_ranking.ipynb) →
