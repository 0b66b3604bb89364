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
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Frame it as ML
# *Choose the target, the label and the training window before the model: they decide what the system does.* · about 35 min · needs: [01 · Clarify the problem](01_clarify_the_problem.ipynb), some pandas
#
# *Navigation:* ← [01 · Clarify the problem](01_clarify_the_problem.ipynb) · [Course map](00_course_map.ipynb) · [03 · Data and features](03_data_and_features.ipynb) →
#
# **You will be able to:**
# - frame one goal as classification, regression or ranking, and score each on the business outcome;
# - show that the label, not the model, decides what a recommender promotes;
# - measure what label delay and censoring do to a training window and to an evaluation;
# - test whether a two-line rule is as good as a model, against a margin fixed in advance.

# %% [markdown]
# Step 2 turns a business number into a learning problem: *what is one row, what is the target, where
# does the label come from, and when does it arrive?* Each section changes one of these and nothing else,
# then scores the result on what the world knows is true. Numbers in the text are for the
# default parameters; numbers in `code font` are inputs someone chose.

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
# Parameters (tagged `parameters`): change them and re-run from the top.
SEED = 0                  # seed of every world, model and bootstrap below
N_TRANSACTIONS = 100_000  # size of the fraud world (sections 1, 3, 4)
REVIEWS_PER_DAY = 15      # payments the fraud team can review a day: the business budget

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**32 - 5, "seed of every world, model and bootstrap (recsys uses SEED..SEED+3)"),
    Knob("N_TRANSACTIONS", 100_000, 60_000, 300_000, "payments in the fraud world"),
    Knob("REVIEWS_PER_DAY", 15, 5, 60, "payments reviewed a day (the top of each day's scores)"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())   # ValueError names the knob, its value and its range
knob_table(KNOBS, globals())

# %%
import os

os.environ.setdefault("OMP_WAIT_POLICY", "passive")   # idle OpenMP threads sleep, not spin: same results, less CPU on a busy machine
import lightgbm as lgb  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from utils import check_answer, recsys, use_course_style  # noqa: E402
from utils.checks import TODO  # noqa: E402
from utils.churn import make_churn_world  # noqa: E402
from utils.fraud import START, make_fraud_world  # noqa: E402
from utils.recsys import make_world  # noqa: E402

use_course_style()
print("numpy", np.__version__, "· pandas", pd.__version__, "· lightgbm", lgb.__version__)

# %% [markdown]
# ## 1. One goal, three framings
#
# The goal: **lose less money to fraud**, with `REVIEWS_PER_DAY` payments reviewed a day. Three
# framings, same features and LightGBM, only the target changed:
#
# - **classification**: P(chargeback) per payment, review the top of the day;
# - **regression**: the *loss*, chargeback × amount, review the largest predicted losses;
# - **ranking** (LambdaRank): order each day's payments so chargebacks come first (one query = one day).
#
# Features: per-card history from earlier payments only (notebook 03 does this properly). Labels are
# chargebacks; the score is the money of *true* fraud in the reviewed payments.

# %%
def card_features(tx: pd.DataFrame) -> pd.DataFrame:
    """Per-payment features from the card's earlier payments (rows are in time order)."""
    by_card = tx.groupby("customer_id", sort=False)
    seconds_since = lambda k: (tx["timestamp"] - by_card["timestamp"].shift(k)).dt.total_seconds().fillna(1e7)  # noqa: E731
    n_before = by_card.cumcount()
    mean_before = (by_card["amount"].cumsum() - tx["amount"]) / n_before.clip(lower=1)
    return pd.DataFrame({
        "log_amount": np.log1p(tx["amount"]),
        "amount_vs_card_mean": np.where(n_before > 0, tx["amount"] / mean_before.where(mean_before > 0), 1.0),
        "log_gap_1": np.log1p(seconds_since(1)), "log_gap_2": np.log1p(seconds_since(2)),
        "foreign": (tx["country"].astype(str) != tx["card_country"].astype(str)).astype(int),
        "channel": tx["channel"].cat.codes, "hour": tx["hour"], "n_before": n_before,
        "new_device": ((tx["device_id"] >= 0) & ~tx.duplicated(["customer_id", "device_id"])).astype(int),
    })


fraud = make_fraud_world(n_transactions=N_TRANSACTIONS, seed=SEED)
tx = fraud.transactions
X = card_features(tx)
day, amount = tx["day"].to_numpy(), tx["amount"].to_numpy()
is_fraud, chargeback = tx["is_fraud"].to_numpy(), tx["chargeback"].to_numpy()
LGB = dict(n_estimators=80, learning_rate=0.1, num_leaves=15, min_child_samples=50,
           deterministic=True, force_row_wise=True, num_threads=2, seed=SEED, verbose=-1)
print(f"{len(tx):,} payments over {day.max() + 1} days; true fraud {is_fraud.mean():.4f}, chargebacks {chargeback.mean():.4f}")

# %% [markdown]
# Train on days from `14` up to `96` (old enough for complete chargebacks), test from `110` up to `140`.
# `review` scores a model the way the business would: per test day, take the top `REVIEWS_PER_DAY`
# scores, and add up the true fraud money and the true frauds among them. `bootstrap_days` resamples
# test days (paired: every model on the same days) for an interval.
#
# **Predict, then run:** which target catches the most fraud *money* at this budget, and which the
# most *frauds*? Do they agree?

# %%
TRAIN, TEST = (day >= 14) & (day < 96), (day >= 110) & (day < 140)


def review(score: np.ndarray, test: np.ndarray = TEST, k: int = REVIEWS_PER_DAY) -> pd.DataFrame:
    d = pd.DataFrame({"day": day[test], "score": score, "money": amount[test] * is_fraud[test], "fraud": is_fraud[test]})
    top = d.sort_values(["day", "score"], ascending=[True, False], kind="stable").groupby("day").head(k)
    return pd.concat([top.groupby("day")[["money", "fraud"]].sum().add_prefix("caught_"), d.groupby("day")[["money", "fraud"]].sum().add_prefix("all_")], axis=1).fillna(0.0)


def share(per_day: pd.DataFrame, what: str = "money") -> float:   # share of the test period's fraud caught
    return per_day[f"caught_{what}"].sum() / per_day[f"all_{what}"].sum()


def bootstrap_days(a: pd.DataFrame, b: pd.DataFrame, what: str = "money", n: int = 2_000) -> tuple[float, float, float]:
    """Share caught by a minus by b, and its 95 % interval over resampled test days."""
    idx = np.random.default_rng(SEED).integers(0, len(a), size=(n, len(a)))
    ca, cb, tot = (df.to_numpy()[idx].sum(axis=1) for df in (a[f"caught_{what}"], b[f"caught_{what}"], a[f"all_{what}"]))
    lo, hi = np.quantile((ca - cb) / tot, [0.025, 0.975])
    return share(a, what) - share(b, what), float(lo), float(hi)


def compare(runs: dict[str, pd.DataFrame], reference: str) -> pd.DataFrame:
    vs = lambda r, what: "{:+.3f} [{:+.3f}, {:+.3f}]".format(*bootstrap_days(r, runs[reference], what))  # noqa: E731
    return pd.DataFrame({name: {"fraud money caught": f"{share(r):.3f}", "frauds caught": f"{share(r, 'fraud'):.3f}", "money vs reference": vs(r, "money"), "frauds vs reference": vs(r, "fraud")} for name, r in runs.items()}).T


groups = np.bincount(day[TRAIN] - 14)   # one query per training day, for the ranker
framings = {
    "classification: P(chargeback)": lgb.LGBMClassifier(**LGB).fit(X[TRAIN], chargeback[TRAIN]).predict_proba(X[TEST])[:, 1],
    "regression: chargeback x amount": lgb.LGBMRegressor(**LGB).fit(X[TRAIN], chargeback[TRAIN] * amount[TRAIN]).predict(X[TEST]),
    "ranking: LambdaRank per day": lgb.LGBMRanker(**LGB).fit(X[TRAIN], chargeback[TRAIN], group=groups[groups > 0]).predict(X[TEST]),
}
reviewed = {name: review(score) for name, score in framings.items()}
base = reviewed["classification: P(chargeback)"]
compare(reviewed, reference="classification: P(chargeback)")

# %% [markdown]
# The loss target catches more fraud *money* than classification while the count of frauds barely moves:
# it swaps small frauds for large ones (at seeds `0`–`3` the money gain was positive each time, its
# interval above zero at three). Ranking, whose label is still blind to the amount, sits between the two
# at the default seed, its gain inside the noise. What each costs:
#
# | framing | makes easy | costs |
# |---|---|---|
# | classification | a calibrated probability; any budget later | blind to the amount unless multiplied in (exercise 1) |
# | regression on the loss | scores in money | heavy-tailed target; no probability to calibrate |
# | ranking | optimises the order the budget consumes | scores are not probabilities; groups fixed up front |
#
# > **Say it in the interview:** "The goal is money under a review budget, so I score framings by money
# > caught in each day's top, not by AUC."
#
# ## 2. The label decides the system
#
# ### Clicks or satisfaction: what the recommendation world plants
#
# How the generator makes clicks and satisfaction (`utils/recsys.py`, `datasets/recsys.md`); the constants
# are **generator parameters read back**: they illustrate, they measure nothing.

# %%
rec0 = make_world(SEED, n_users=2_000, n_items=4_000, days=14)
corr = lambda items: np.corrcoef(items["appeal"], items["quality"])[0, 1]  # noqa: E731
print(f"correlation of appeal and quality over items: all {corr(rec0.items):.3f}, without clickbait {corr(rec0.items[~rec0.items['clickbait']]):.3f}")
pd.Series({"click logit: weight of the user-item taste match (CLICK_TASTE)": recsys.CLICK_TASTE,
           "watch logit: weight of the same taste match (WATCH_TASTE)": recsys.WATCH_TASTE,
           "satisfied = watch fraction at least (SATISFIED_AT)": recsys.SATISFIED_AT,
           "clickbait: added to appeal (click logit) / to quality (watch logit)": "+1.4 / -2.2 (make_world)"},
          name="generator parameter, read back").to_frame()

# %% [markdown]
# Clicks and watch share the user's **taste match**; an item's click *appeal* and watch *quality* are
# independent except for clickbait, which buys clicks with quality (correlations above).
#
# Two **rate tables** (no model, no features), identical except for the label: each item's smoothed rate
# of the label per impression among users of the same favourite category. Each user gets the top `30`; the
# simulator plays `14` days; four worlds, interval over seeds. The satisfaction table is scored on the
# rate it tabulates, so its satisfaction win is expected; the question is what clicks cost.
#
# **Predict, then run:** the click-trained ranker will win CTR. Will it also win satisfied clicks per
# impression, lose them, or tie?

# %%
def label_rate_lists(world: recsys.RecsysWorld, label: str, top: int = 30, prior: float = 50.0) -> np.ndarray:
    """Each user's list: items by their smoothed rate of `label` per impression among users of the same favourite category."""
    log, n_items, fav = world.log, len(world.items), world.users["favourite_category"].to_numpy()
    y, item, key = log[label].to_numpy(float), log["item_id"].to_numpy(), fav[log["user_id"].to_numpy()] * n_items + log["item_id"].to_numpy()
    item_rate = (np.bincount(item, y, n_items) + prior * y.mean()) / (np.bincount(item, minlength=n_items) + prior)
    hits, shown = (np.bincount(key, w, (fav.max() + 1) * n_items).reshape(-1, n_items) for w in (y, np.ones_like(y)))
    return np.argsort(-(hits + prior * item_rate) / (shown + prior), axis=1, kind="stable")[:, :top][fav]


def play(world: recsys.RecsysWorld, lists: np.ndarray, days: int = 14) -> dict:
    s = world.simulate(lists, days=days, seed=world.seed).sessions.sum()
    return {"CTR": s["clicks"] / s["impressions"], "satisfied clicks / impression": s["satisfied_clicks"] / s["impressions"], "satisfied clicks / user": s["satisfied_clicks"] / len(world.users), "active days / user": s["active"] / len(world.users)}


worlds = [rec0] + [make_world(SEED + k, n_users=2_000, n_items=4_000, days=14) for k in (1, 2, 3)]
personal_runs = pd.DataFrame([{"seed": w.seed, "label": label, **play(w, label_rate_lists(w, label))} for w in worlds for label in ("clicked", "satisfied")]).set_index(["label", "seed"])


def seed_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 95 % t-interval over the four world seeds (t(0.975, 3 df) = 3.182)."""
    return values.mean(), 3.182 * values.std(ddof=1) / np.sqrt(len(values))


def seed_interval(values: np.ndarray) -> str:
    return "{:+.3f} [{:+.3f}, {:+.3f}]".format(values.mean(), *(values.mean() + np.array([-1, 1]) * seed_ci(values)[1]))


label_gap = personal_runs.loc["clicked"] - personal_runs.loc["satisfied"]   # click-trained minus satisfaction-trained, per seed
label_table = personal_runs.groupby(level="label").mean().T.round(3)
label_table["click - satisfied, 4 seeds"] = [seed_interval(label_gap[c].to_numpy()) for c in label_table.index]
no_bait = [make_world(SEED + k, n_users=2_000, n_items=4_000, days=14, clickbait_share=0.0) for k in (0, 1, 2, 3)]
gap_no_bait = pd.DataFrame([{k: a - b for (k, a), b in zip(play(w, label_rate_lists(w, "clicked")).items(), play(w, label_rate_lists(w, "satisfied")).values(), strict=True)} for w in no_bait])
label_table["same, no clickbait (clickbait_share 0)"] = [seed_interval(gap_no_bait[c].to_numpy()) for c in label_table.index]
label_table

# %% [markdown]
# With clickbait (the world's default `8` % of items), the click table wins CTR and loses everything the
# business wants: satisfied clicks, return visits. Same log, same table: the label alone moved the system
# towards clickbait. Without clickbait (last column) the CTR gain is gone (intervals at or just below zero
# at seeds `0`–`3`) and the satisfaction loss shrinks to under a point: when clicks and quality agree, clicks are a
# nearly safe, plentiful label. Covington, Adams and Sargin (*Deep Neural Networks for YouTube
# Recommendations*, RecSys 2016) met this on real traffic: ranking by click probability promotes clickbait
# users do not finish, so YouTube's ranker predicts expected watch time.

# %%
fig, ax = plt.subplots(figsize=(7, 3))
for j, (name, gaps) in enumerate({"clickbait 8 % (default)": label_gap, "no clickbait": gap_no_bait}.items()):
    cis = np.array([seed_ci(gaps[c].to_numpy()) for c in ("CTR", "satisfied clicks / impression")])
    ax.barh(np.arange(2) + 0.38 * j, cis[:, 0], 0.36, xerr=cis[:, 1], capsize=4, label=name)
ax.axvline(0, color="black", lw=0.8), ax.set_yticks(np.arange(2) + 0.19, ["CTR", "satisfied clicks / impression"]), ax.legend(fontsize=8)
ax.set(xlabel="click table minus satisfaction table (mean, 95 % interval over 4 seeds)",
       title="Clicks buy CTR only through clickbait; satisfaction pays in both worlds")
plt.show()

# %% [markdown]
# ### The fraud label: late and noisy in both directions
#
# The chargeback is the label the issuer gets. How it differs from the truth, in this world (each share
# follows a generator setting: `label_delay_days`, a nine-in-ten chance that a fraud is disputed, and a small
# dispute rate for genuine payments: friendly fraud).

# %%
delay_days = (tx["label_available_at"] - tx["timestamp"]).dt.total_seconds().to_numpy() / 86_400
cb = chargeback == 1
label_noise = pd.Series({"fraud never charged back (label says genuine)": 1 - chargeback[is_fraud == 1].mean(), "chargebacks on genuine payments (friendly fraud)": 1 - is_fraud[cb].mean(),
                         "chargeback delay, median (days)": np.median(delay_days[cb]), "chargebacks arriving after 14 days": (delay_days[cb] > 14).mean()}, name="measured (follows generator settings)")
label_noise.round(3).to_frame()

# %% [markdown]
# Some fraud never becomes a positive and some positives are not fraud (shares that follow generator
# settings). Dal Pozzolo et al. (*Credit card fraud detection: a
# realistic modeling and a novel learning strategy*, IEEE TNNLS 2017) describe two feeds on real card
# data: a few investigator-checked alerts within a day, and the bulk labelled days later by disputes.
#
# ## 3. Label delay and censoring
#
# ### Fraud: the newest labels have not matured
#
# Today is day `124`; a chargeback is known only from its `label_available_at`. **Predict, then run:** of
# the chargebacks the last `14` days will eventually get, what share is known today: nine in ten, about
# half, or under a fifth?

# %%
TODAY, WINDOW, GAP = 124, 56, 14
known_today = cb & (tx["label_available_at"] <= START + pd.Timedelta(days=TODAY)).to_numpy()
last_weeks = (day >= TODAY - GAP) & (day < TODAY)
missing = 1 - known_today[last_weeks].sum() / cb[last_weeks].sum()
print(f"chargebacks of the last {GAP} days not yet known today: {missing:.3f} "
      f"({cb[last_weeks].sum() - known_today[last_weeks].sum()} of {cb[last_weeks].sum()})")

# %% [markdown]
# Training on the last `56` days today counts those payments as genuine; section 5 measures the cost.
#
# ### Evaluating too early
#
# Immaturity bites evaluation too: a model (the `56` days ending `14` days ago) scored on the next `21`
# days with the chargebacks known the day they end, vs final labels.

# %%
def precision_at_budget(score: np.ndarray, labels: np.ndarray, rows: np.ndarray, k: int = REVIEWS_PER_DAY) -> float:
    d = pd.DataFrame({"day": day[rows], "score": score, "y": labels[rows]})
    return d.sort_values(["day", "score"], ascending=[True, False], kind="stable").groupby("day").head(k)["y"].mean()


NEXT, gap_rows = (day >= TODAY) & (day < TODAY + 21), (day >= TODAY - WINDOW - GAP) & (day < TODAY - GAP)
next_score = lgb.LGBMClassifier(**LGB).fit(X[gap_rows], known_today[gap_rows]).predict_proba(X[NEXT])[:, 1]
early = cb & (tx["label_available_at"] <= START + pd.Timedelta(days=TODAY + 21)).to_numpy()
too_early = pd.Series({"chargebacks known the day the test ends": precision_at_budget(next_score, early, NEXT),
                       "chargebacks, final": precision_at_budget(next_score, cb, NEXT),
                       "true fraud (the world's truth)": precision_at_budget(next_score, is_fraud, NEXT)},
                      name=f"precision of the top {REVIEWS_PER_DAY} a day")
too_early.round(3).to_frame()

# %% [markdown]
# Measured the day the test ends, the model looks worse than it is (the direction is certain, labels are
# only added; the size is the lesson): a regression that is not there. Evaluate on matured windows.
#
# ### Churn: the horizon censors the newest snapshots
#
# A churn label is "cancels within `H` weeks of the snapshot"; the data ends at week `n_weeks`, so newer
# snapshots have incomplete labels. The world's true churn probabilities count what each label misses.

# %%
churn = make_churn_world(seed=SEED, n_customers=10_000)
H, END = churn.horizon_weeks, churn.n_weeks
churn_week = churn.customers.set_index("customer_id")["churn_week"].astype("float").fillna(np.inf)


def observed_vs_expected(s: int) -> tuple[float, float]:
    ids = churn.eligible(s)
    weeks = churn_week.loc[ids].to_numpy()
    return float(((weeks >= s) & (weeks < s + H)).sum()), float(churn.true_churn_probability(ids, s).sum())


censoring = pd.DataFrame({s: dict(zip(["churners observed", "churners expected (oracle)"], observed_vs_expected(s), strict=True))
                          for s in range(END - H - 2, END, 2)}).T.rename_axis("snapshot week")
censoring["share missing"] = 1 - censoring.iloc[:, 0] / censoring.iloc[:, 1]
censoring.round(3)

# %% [markdown]
# Snapshots at least `H` weeks old see about as many churners as the oracle expects; newer ones miss a
# growing share, so the last usable snapshot is `H` weeks before the data ends (survival models use the
# censored rows as partial information).
#
# ## 4. When a rule is the right answer
#
# A model earns its place against a two-line rule. **Churn**: contact the `1,000` customers with the
# fewest sessions in the last `4` weeks, vs LightGBM on seven snapshot features trained on snapshots whose
# labels end before week `38`; churners among the contacted at weeks `38`–`44` (mature), pooled, with an
# oracle (the true churn probability) as ceiling. **Fraud**: review the largest amounts, vs section 1's
# regression. Fixed before running: the rule is **equivalent** if the whole interval of rule minus model
# lies within ±`0.03` churners per contact. An interval that merely covers zero is no evidence of equivalence.

# %%
def churn_snapshot(s: int) -> tuple[pd.DataFrame, np.ndarray]:
    ids, act = churn.eligible(s), churn.activity
    per = lambda df, lo, col: df[(df["week"] < s) & (df["week"] >= s - lo)].groupby("customer_id")[col].sum().reindex(ids, fill_value=0).to_numpy()  # noqa: E731
    rise = churn.price_changes.set_index("customer_id").reindex(ids)
    recent_rise = ((rise["week"] < s) & (rise["week"] >= s - 16)).to_numpy()
    cust = churn.customers.set_index("customer_id").loc[ids]
    X = pd.DataFrame({"sessions_4w": per(act, 4, "sessions"), "sessions_5_12w": per(act, 12, "sessions") - per(act, 4, "sessions"), "tickets_4w": per(churn.tickets, 4, "n_tickets"),
                      "price_rise_16w": recent_rise.astype(int), "rise_size": np.where(recent_rise, rise["new_price"] / rise["old_price"], 1.0),
                      "tenure": s - cust["signup_week"].to_numpy(), "plan": pd.Categorical(cust["plan"], categories=["basic", "standard", "premium"]).codes})
    return X, ((churn_week.loc[ids] >= s) & (churn_week.loc[ids] < s + H)).to_numpy()


train_snaps = [churn_snapshot(s) for s in range(12, 32, 4)]   # labels of snapshot 28 end at week 36
churn_model = lgb.LGBMClassifier(**LGB).fit(pd.concat([x for x, _ in train_snaps]), np.concatenate([y for _, y in train_snaps]))
CONTACTS, MARGIN, SNAPS = 1_000, 0.03, (38, 40, 42, 44)


def churners_contacted(score: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Churners per contact in the top CONTACTS by score, per row of bootstrap weights (copies of each customer)."""
    order = np.argsort(-score, kind="stable")
    w = weights[:, order]
    return (np.clip(CONTACTS - (np.cumsum(w, axis=1) - w), 0, w) * y[order]).sum(axis=1) / CONTACTS


churn_rows, boot = [], {}
for s in SNAPS:
    Xs, ys = churn_snapshot(s)
    scores = {"model": churn_model.predict_proba(Xs)[:, 1], "rule": -Xs["sessions_4w"].to_numpy() - 1e-6 * np.arange(len(Xs)),
              "oracle": churn.true_churn_probability(churn.eligible(s), s)}
    w = np.vstack([np.ones(len(ys)), np.random.default_rng([SEED, s]).poisson(1.0, size=(1_000, len(ys)))])   # row 0: the data itself
    hits = {k: churners_contacted(v, ys, w) for k, v in scores.items()}
    churn_rows.append({"snapshot week": s, **{k: v[0] for k, v in hits.items()}}), boot.update({s: {k: v[1:] for k, v in hits.items()}})
pooled = {k: np.mean([boot[s][k] for s in SNAPS], axis=0) for k in ("model", "rule", "oracle")}   # per bootstrap draw
churn_table = pd.DataFrame(churn_rows).set_index("snapshot week")
churn_table.loc["pooled"] = churn_table.mean()
churn_point = churn_table.loc["pooled", "rule"] - churn_table.loc["pooled", "model"]
(churn_lo, churn_hi), (oracle_lo, oracle_hi) = (np.quantile(pooled[k] - pooled["model"], [0.025, 0.975]) for k in ("rule", "oracle"))
equivalent = -MARGIN <= churn_lo and churn_hi <= MARGIN
fraud_rule, fraud_model = review(amount[TEST]), reviewed["regression: chargeback x amount"]
fraud_gap = bootstrap_days(fraud_rule, fraud_model)
print(f"churn, pooled over weeks {SNAPS}: rule - model {churn_point:+.3f} [{churn_lo:+.3f}, {churn_hi:+.3f}]; "
      f"within ±{MARGIN}: {equivalent}; oracle - model [{oracle_lo:+.3f}, {oracle_hi:+.3f}]")
print("fraud money caught: model {:.3f}, largest amounts {:.3f}; rule - model {:+.3f} [{:+.3f}, {:+.3f}]".format(share(fraud_model), share(fraud_rule), *fraud_gap))
churn_table.round(3)

# %% [markdown]
# For churn the model is ahead of the rule by one to two churners per hundred contacts (printed line;
# the interval below zero at three of seeds `0`–`3`, touching zero at the fourth). The whole interval lay inside ±`0.03` at three
# seeds and just beyond it at seed `1`: the rule is *nearly* equivalent, not proven so, and the decision
# is a business one (exercise 4). The weekly rows swing about as much as the gap: one week's test decides
# nothing; the oracle, about nine points above, shows what neither sees. For fraud the rule loses far more.
#
# ## 5. When the usual advice is wrong? "Always train on the most recent data"
#
# The advice is usually right: fraud drifts (card testing starts at the generator's `drift_day`, day
# `110`, a read-back). But *the newest data has the least mature labels*. Three `56`-day windows, the same
# model, tested on the next `21` days: the **newest** with labels as of today; the same with **final**
# labels (impossible today); a **gap** window ending `14` days ago. One day picked as today is noise, and
# a gap window ending at `110` holds no post-drift data, so we pool four days (`110`, `117`, `124`, `129`)
# and change one thing at a time: newest vs final labels is maturity alone.
#
# **Predict, then run:** do immature labels cost money once the day picked as today is averaged out?

# %%
TODAYS = (110, 117, 124, 129)


def window_run(today: int, rows_end: int, labels: np.ndarray) -> pd.DataFrame:
    rows, test = (day >= rows_end - WINDOW) & (day < rows_end), (day >= today) & (day < today + 21)
    return review(lgb.LGBMClassifier(**LGB).fit(X[rows], labels[rows]).predict_proba(X[test])[:, 1], test)


pooled_runs = {"immature": [], "final": [], "gap": []}
for t in TODAYS:
    known_t = cb & (tx["label_available_at"] <= START + pd.Timedelta(days=t)).to_numpy()
    for name, end, labels in (("immature", t, known_t), ("final", t, cb), ("gap", t - GAP, known_t)):
        pooled_runs[name].append(window_run(t, end, labels))
pooled_runs = {k: pd.concat(v, ignore_index=True) for k, v in pooled_runs.items()}   # one row per (today, test day)
advice_rows = {f"{a} minus {b}": {what: "{:+.3f} [{:+.3f}, {:+.3f}]".format(*bootstrap_days(pooled_runs[a], pooled_runs[b], what)) for what in ("money", "fraud")}
               for a, b in (("immature", "final"), ("immature", "gap"), ("final", "gap"))}
maturity, advice = bootstrap_days(pooled_runs["immature"], pooled_runs["final"]), bootstrap_days(pooled_runs["immature"], pooled_runs["gap"])
pd.DataFrame(advice_rows).T.rename(columns={"money": "fraud money caught [95 %]", "fraud": "frauds caught [95 %]"})

# %% [markdown]
# First row, the one change: on the same window, today's labels catch less money and fewer frauds than
# the final labels would (at seeds `0`–`3`, runs of this notebook, the money interval was below zero at
# three, the point never above zero). Third row, the advice's reason: with final labels the newest window
# catches more frauds than the gap window (drift; above zero at three seeds). Second row, the advice as
# practised: the two cancel, and **with today's labels the newest window shows no reliable gain** over the
# gap window (every interval covered zero at the four seeds). So "always train on the newest data" is
# wrong here: immature labels eat the gain it promises (one day alone, as in an earlier draft, gave a
# twelve-point loss: luck). Overlapping test periods make the intervals if anything too narrow. The advice
# holds with mature labels or a short delay: buy investigator labels within a day.
#
# ## How this step sounds in the interview
#
# 1. *"One row is a payment at authorisation; the label is a chargeback, which arrives in days to weeks,
#    misses some fraud (a tenth in our simulator, by its dispute setting) and includes friendly fraud. I'll train on windows whose labels have
#    matured, and get investigator labels for the freshest fraud."*
# 2. *"The goal is money with a fixed review budget, so I'd frame it as expected loss: P(fraud) × amount,
#    or regression on the loss, and compare framings on money caught at the budget."*
# 3. *"For the feed I won't train on clicks: they reward clickbait. The label is a satisfied view, with CTR
#    as a guardrail. And I'd first check a two-line rule against a margin agreed in advance."*
#

# %% jupyter={"source_hidden": true} tags=["answer-key"]
_d = pd.DataFrame({"day": day[TEST], "s": np.log(framings["classification: P(chargeback)"]) + np.log(amount[TEST]), "m": amount[TEST] * is_fraud[TEST]})
_top = _d["s"].groupby(_d["day"]).rank(ascending=False, method="first") <= REVIEWS_PER_DAY
_recent = tx[last_weeks & cb]
_pending = _recent["label_available_at"] > START + pd.Timedelta(days=TODAY)
EXPECTED = {1: float(_d["m"][_top].sum() / _d["m"].sum()),
            2: float(_pending.groupby(_recent["channel"].astype(str)).sum()["online"])}

# %% [markdown]
# ## Your turn
#
# Two numeric exercises with self-checks, then two judgment questions; solutions at the end.

# %%
# Exercise 1: a fourth framing. Multiply the classifier's P(chargeback) by the amount (the expected
# loss) and review the top REVIEWS_PER_DAY a day, as in section 1. What share of the fraud money does it catch?
answer_1 = TODO
correct_1 = check_answer("Exercise 1", answer_1, EXPECTED[1], rel_tol=0.005,
                         hint="section 1 already holds every piece you need")

# %%
# Exercise 2: of the chargebacks on *online* payments in the last 14 days before TODAY, how many are not
# yet known on day TODAY? (a count)
answer_2 = TODO
correct_2 = check_answer("Exercise 2", answer_2, EXPECTED[2], rel_tol=0.0, abs_tol=0.5,
                         hint="re-read how section 3 decides what is known on TODAY")

# %% [markdown]
# ### Exercise 3 (judgment) · "Predict ad conversions"
#
# An ad platform bills per click but advertisers care about purchases, which arrive up to `30` days after
# the click (and some never get reported). Frame the model: the row, the label, the training window, and
# how you evaluate last week's model.
#
# ### Exercise 4 (judgment) · "Is the model worth it?"
#
# Your churn model beats the team's rule ("fewest logins in the last month") by one point of precision in
# the top three hundred, with an interval from minus three to plus five points. The PM asks whether to ship the model. What do you
# answer, and what would change your mind?

# %% [markdown]
# ## Scorecard
#
# Every claim above, recomputed; asserted at the defaults, reported otherwise; bars hold at seeds
# `0`–`3`. Generator settings read back (delay, dispute rate, clickbait share) are not claims and are not here.

# %% tags=["scorecard"]
from utils.scorecard import build, enforce

reg_money = bootstrap_days(reviewed["regression: chargeback x amount"], base)
click_ctr, click_sat = label_gap["CTR"].to_numpy(), label_gap["satisfied clicks / impression"].to_numpy()
bait_ctr_m, bait_ctr_h = seed_ci(gap_no_bait["CTR"].to_numpy())
fresh = bootstrap_days(pooled_runs["final"], pooled_runs["gap"], "fraud")
scorecard = build([
    ("regression on the loss minus classification: money caught", reg_money[0], "> 0", reg_money[0] > 0),
    ("click minus satisfaction table, CTR (clickbait 8 %), worst of 4 seeds", click_ctr.min(), "> 0", click_ctr.min() > 0),
    ("click minus satisfaction table, satisfied clicks / impression, best of 4 seeds", click_sat.max(), "< 0", click_sat.max() < 0),
    ("same, no clickbait: CTR, upper end of 95 % over 4 seeds", bait_ctr_m + bait_ctr_h, "< 0.005", bait_ctr_m + bait_ctr_h < 0.005),
    ("same, no clickbait: satisfied clicks / impression, best of 4 seeds", gap_no_bait["satisfied clicks / impression"].max(), "< 0", gap_no_bait["satisfied clicks / impression"].max() < 0),
    ("churn: share of churners missing at the last snapshot", censoring["share missing"].iloc[-1], ">= 0.5", censoring["share missing"].iloc[-1] >= 0.5),
    ("churn rule minus model, 1,000 contacts, 4 snapshots (point)", churn_point, "-0.03 to 0", -0.03 < churn_point < 0),
    ("churn oracle minus model: lower end of 95 %", oracle_lo, "> 0.03", oracle_lo > 0.03),
    ("fraud largest-amounts rule minus model, money caught (upper end of 95 %)", fraud_gap[2], "< 0", fraud_gap[2] < 0),
    ("immature minus final labels, 4 todays: money, upper end of 95 % (no reliable 3-point gain)", maturity[2], "< 0.03", maturity[2] < 0.03),
    ("newest window, today's labels, minus gap window: money, lower end of 95 %", advice[1], "< 0", advice[1] < 0),
    ("newest window, final labels, minus gap window: frauds caught (point)", fresh[0], "> 0", fresh[0] > 0),
])
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)

# %% [markdown]
# ## In 60 seconds
#
# *"Before the model I fix the row, the target, the label and its timing. For fraud with a review budget,
# the goal is money, so I compare framings by money caught at the budget: a loss target caught more than
# plain P(chargeback). The label decides the system: the same rate table built on clicks wins CTR and loses
# satisfaction and return visits when clickbait exists; where clicks and quality agree, clicks are nearly
# safe. Labels arrive late: about half of the last two weeks' chargebacks are missing, which costs the
# newest window the gain recency should bring, so I evaluate only on mature labels, cut churn snapshots
# `H` weeks before the data ends, and pay for fast labels. And I put a two-line rule beside the model,
# with a margin agreed in advance: for churn the model's small edge sat at the margin; for fraud the rule lost."*
#
# ## Solutions

# %%
expected_loss = framings["classification: P(chargeback)"] * amount[TEST]   # the same classifier, scored in money
answer_1 = share(review(expected_loss))
ok_1 = check_answer("Exercise 1", answer_1, EXPECTED[1], rel_tol=0.005)
online = last_weeks & (tx["channel"] == "online").to_numpy()
answer_2 = int(cb[online].sum() - known_today[online].sum())
ok_2 = check_answer("Exercise 2", answer_2, EXPECTED[2], rel_tol=0.0, abs_tol=0.5)
print(f"(1) expected loss catches {answer_1:.3f} of the money (classification {share(base):.3f}); "
      f"(2) {answer_2} online chargebacks missing")

# %%
# Do the checks reject the answers a hurried reader gives? (1: plain classification; 2: all channels, or
# the known count instead of the missing one)
near_misses = {
    "Exercise 1": [(share(base), 0.005), (share(reviewed["regression: chargeback x amount"]), 0.005)],
    "Exercise 2": [(float(cb[last_weeks].sum() - known_today[last_weeks].sum()), 0.5), (float(known_today[online].sum()), 0.5)],
}
for name, misses in near_misses.items():
    n = int(name[-1])
    tol = dict(rtol=0.0, atol=0.5) if n == 2 else dict(rtol=misses[0][1], atol=0.0)
    rejected = [not np.isclose(wrong, EXPECTED[n], **tol) for wrong, _ in misses]
    print(f"{name}: {sum(rejected)} of {len(misses)} plausible wrong answers rejected")

# %% [markdown]
# (1) The expected loss ranks by money like the regression, but keeps a probability you can calibrate
# and explain; compare its share with both rows of section 1's table. (2) Online payments carry most of
# the chargebacks; all of them are subject to the same delay.
#
# *Exercise 3.* **Model answer:** One row is a click (or an impression, if the model also decides what to
# show). Billing per click suggests P(click) × P(purchase | click): a click model on impressions and a
# conversion model on clicks, each with its own label. The conversion label is "a purchase reported within seven days of the click", a fixed attribution window
# chosen so that most conversions have arrived (measure the delay distribution first: if most arrive in
# days, seven catch most; the rest are censored). Train only on clicks at least seven days old; for fresher
# signal, model the delay (Chapelle 2014: *Modeling delayed feedback in display advertising*, KDD; a
# conversion model times a delay model, trained jointly, so recent clicks count as "not yet" rather than
# "no"). Unreported purchases are label noise that no window fixes: calibrate against an advertiser with
# complete reporting. Evaluate last week's model on clicks whose windows have closed, never on last week's
# clicks as of today.
#
# **Self-check:**
# - defines the row and a label with an explicit attribution window;
# - trains on matured rows only, or models the delay (names the censoring);
# - evaluates only on closed windows;
# - names unreported conversions as noise and a way to measure it.
#
# *Exercise 4.* **Model answer:** "Not yet. One point of precision on three hundred contacts is three more churners
# reached a campaign, and the interval allows three fewer. Whether that pays depends on value: a saved
# churner's margin times the chance the offer saves them, against the contact cost and the model's running
# cost. The rule has no pipeline, no retraining and no drift to monitor. I'd ship the rule, log the model's
# scores in shadow over several weeks, and revisit when the interval clears a margin agreed in money. And
# precision on churners is the wrong target anyway: what pays is customers the contact *changes*, so the
# real comparison is an uplift model against the rule, judged in an A/B test."
#
# **Self-check:**
# - reads the interval, not the point estimate;
# - counts the model's costs (pipeline, monitoring, explanation), not only its metric;
# - converts the gap into money: value of a saved churner vs contact and running cost;
# - proposes more evidence (shadow scoring over several weeks, an A/B test) and names uplift.

# %% [markdown]
# *Navigation:* ← [01 · Clarify the problem](01_clarify_the_problem.ipynb) · [Course map](00_course_map.ipynb) · [03 · Data and features](03_data_and_features.ipynb) →
