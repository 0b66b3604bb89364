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
# # 04 · Model choice
# *Climb from a rule to gradient boosting one rung at a time, and stop where the next rung stops paying.* · about 35 min · needs: [01 · Clarify the problem](01_clarify_the_problem.ipynb), a little scikit-learn
#
# *Navigation:* ← [03 · Data and features](03_data_and_features.ipynb) · [Course map](00_course_map.ipynb) · [05 · Training](05_training.ipynb) →
#
# **You will be able to:**
# - build the baseline ladder (rule → logistic regression → gradient boosting) with the same features, each rung tuned;
# - report each rung's gain with an interval over seeds, its training time and latency, against the oracle ceiling;
# - show where the next rung stops paying, and say why;
# - read a capacity curve (trees, leaves) for the point where a model starts to overfit;
# - defend a model choice in two sentences, citing what published benchmarks found.

# %% [markdown]
# Interviewers ask "why this one, and what did the simpler one get?". This notebook answers on two
# worlds whose true probabilities are known, so every model meets the best score any model could reach. Numbers in the text are for the default parameters;
# numbers in `code font` are inputs someone chose.

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
SEED = 0                    # seed block: blocks 0, 1, 2 ... share no world
N_SEEDS = 4                 # worlds per churn ladder; fraud, with rarer positives, gets twice as many
CHURN_CUSTOMERS = 10_000    # customers in the churn world
FRAUD_TRANSACTIONS = 100_000  # payments in the fraud world
SMALL_CUSTOMERS = 2_000     # the churn world again, small (section 3)

# %% tags=["knobs"]
from utils.knobs import Knob, check_knobs, knob_table

KNOBS = [
    Knob("SEED", 0, 0, 2**28, "seed block: blocks share no world"),
    Knob("N_SEEDS", 4, 3, 8, "worlds per churn ladder (fraud: twice as many)"),
    Knob("CHURN_CUSTOMERS", 10_000, 5_000, 40_000, "customers in the churn world"),
    Knob("FRAUD_TRANSACTIONS", 100_000, 60_000, 300_000, "payments in the fraud world"),
    Knob("SMALL_CUSTOMERS", 2_000, 1_000, 4_000, "customers in the small churn world (section 3)"),
]
AT_DEFAULTS = check_knobs(KNOBS, globals())   # ValueError names the knob, its value and its range
knob_table(KNOBS, globals())

# %%
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # LightGBM threads sleep, not spin, on a busy machine
import time

import ipywidgets as widgets
import lightgbm as lgb
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from utils import check_answer, use_course_style
from utils.checks import TODO
from utils.ladder import churn_tables, fraud_tables, ladder_table, pr_auc, t_interval
from utils.timing import measure

for module, minimum in [(np, (2, 0)), (pd, (2, 2)), (lgb, (4, 0)), (sklearn, (1, 4))]:
    have = tuple(int(part) for part in module.__version__.split(".")[:2])
    assert have >= minimum, f"{module.__name__} {module.__version__} < {minimum}: run `make lab` to rebuild the environment"
use_course_style()
threadpool_limits(1, user_api="blas")   # one BLAS thread: small solves, no CPU burnt spinning
print("numpy", np.__version__, "· pandas", pd.__version__, "· lightgbm", lgb.__version__, "· scikit-learn", sklearn.__version__)

# %% [markdown]
# ## 1. Two worlds, the same columns for every rung
#
# - **Churn** (`datasets/churn.md`): cancels within `8` weeks? The true weekly hazard is a *sum* on the
#   log-odds scale (disengagement as a capped hinge, tickets, a price rise, tenure, plan); engagement
#   is hidden behind noisy session counts.
# - **Fraud** (`datasets/fraud.md`): fraud comes in *episodes* (a stolen card's burst, a skimmed
#   terminal, a takeover): the signal sits in combinations.
#
# `utils/ladder.py` builds each world's feature table as of decision time, split by time (train,
# validation to choose settings, test to report), counts and amounts log-scaled (a tree ignores this; a
# line needs it). The metric is PR-AUC: rare positives, ranked. Fraud models train on the true fraud
# flag, not on late chargebacks: one change at a time.

# %%
SEEDS = {"churn": list(range(N_SEEDS * SEED, N_SEEDS * (SEED + 1))), "fraud": list(range(2 * N_SEEDS * SEED, 2 * N_SEEDS * (SEED + 1)))}
churn_0, fraud_0 = churn_tables(SEEDS["churn"][0], CHURN_CUSTOMERS), fraud_tables(SEEDS["fraud"][0], FRAUD_TRANSACTIONS)
pd.DataFrame({name: {"columns": d["train"][0].shape[1], "train rows": len(d["train"][1]), "train positives": d["train"][1].sum(),
                     "test rows": len(d["test"][1]), "test positives": d["test"][1].sum()} for name, d in [("churn", churn_0), ("fraud", fraud_0)]}).T

# %% [markdown]
# ## 2. The ladder, each rung tuned on validation
#
# A rule (the best of three one-column rules on validation); logistic regression (`C` from `0.01`,
# `0.1`, `1`); a **curve per column** — on churn a *spline logistic regression* (each number column
# cut into a smooth curve, still one readable curve per column), on fraud *additive-only LightGBM*
# (each tree may split on one column only, so no interactions); LightGBM (`num_leaves` from `3`, `7`,
# `15`, trees by early stopping, up to `400`); and the **oracle**, the world's true probability: the
# ceiling. Each rung is tuned and adds one thing: curves, then interactions.

# %%
RULES = {"churn": {"activity dropped": lambda X: X["log_sessions_prev_12w"] - X["log_sessions_last_4w"],
                   "recent tickets": lambda X: X["tickets_last_4w"], "price rise": lambda X: X["recent_price_rise"]},
         "fraud": {"burst on the card": lambda X: X["log_card_payments_1h"], "risky terminal": lambda X: X["terminal_chargeback_rate_28d"],
                   "large for this card": lambda X: X["log_amount_vs_card_30d"]}}
LGB_BASE = dict(objective="binary", learning_rate=0.1, min_child_samples=50, deterministic=True, force_row_wise=True, num_threads=2, verbose=-1)
CURVE_RUNG = {"churn": "spline logistic", "fraud": "additive trees"}


def logistic(X: np.ndarray, y: np.ndarray, Xv: np.ndarray, yv: np.ndarray, curves: bool = False):
    """Logistic regression, C tuned on validation; with ``curves``, each non-0/1 column becomes a cubic spline (5 knots)."""
    numeric = [j for j in range(X.shape[1]) if not np.isin(X[:, j], (0, 1)).all()]
    steps = [ColumnTransformer([("curve", SplineTransformer(n_knots=5), numeric)], remainder="passthrough")] if curves else []
    prepare = make_pipeline(*steps, StandardScaler()).fit(X)   # the same for every C: fitted once
    Z, Zv = prepare.transform(X), prepare.transform(Xv)
    models = [LogisticRegression(C=C, solver="newton-cholesky", max_iter=200).fit(Z, y) for C in (0.01, 0.1, 1.0)]
    return make_pipeline(prepare, max(models, key=lambda m: pr_auc(yv, m.predict_proba(Zv)[:, 1])))


def boosted(data: tuple, seed: int, additive: bool = False):
    """LightGBM, leaves tuned and trees early-stopped on validation log-loss; ``additive``: one column per tree.

    ``data`` is a world's (train, validation) pair of ``lgb.Dataset``: binned once, by the first booster, and reused by the rest."""
    train, valid = data
    only_one = {"interaction_constraints": [[j] for j in range(train.data.shape[1])]} if additive else {}
    boosters = [lgb.train({**LGB_BASE, **only_one, "num_leaves": leaves, "seed": seed}, train, 400,
                          valid_sets=[valid], callbacks=[lgb.early_stopping(30, verbose=False)]) for leaves in (3, 7, 15)]
    return min(boosters, key=lambda b: b.best_score["valid_0"]["binary_logloss"])


def ladder_at(world: str, d: dict, seed: int, curve_rung: bool = True) -> dict:
    """Each rung tuned on validation, scored on test; with its training + search CPU seconds."""
    (X, y), (Xv, yv), (Xt, yt, oracle) = d["train"], d["valid"], d["test"]
    clock = [time.process_time()]
    rule = max(RULES[world].values(), key=lambda r: pr_auc(yv, r(Xv)))
    X, Xv, Xt, clock = X.to_numpy(), Xv.to_numpy(), Xt.to_numpy(), clock + [time.process_time()]
    logit, clock = logistic(X, y, Xv, yv), clock + [time.process_time()]
    data = lgb.Dataset(X, y, free_raw_data=False), lgb.Dataset(Xv, yv)   # one binning per world, shared by its boosters
    booster, clock = boosted(data, seed), clock + [time.process_time()]
    scores = {"rule": rule(d["test"][0]).to_numpy(), "logistic": logit.predict_proba(Xt)[:, 1],
              "LightGBM": booster.predict(Xt, num_iteration=booster.best_iteration), "oracle": oracle}
    if curve_rung:
        curve = logistic(X, y, Xv, yv, curves=True) if world == "churn" else boosted(data, seed, additive=True)
        scores[CURVE_RUNG[world]] = curve.predict_proba(Xt)[:, 1] if world == "churn" else curve.predict(Xt, num_iteration=curve.best_iteration)
    return {rung: pr_auc(yt, score) for rung, score in scores.items()} | {"fit s": np.diff(clock), "models": (rule, logit, booster),
                                                                          "scores": scores, "y test": yt}


runs = {"churn": [ladder_at("churn", churn_0 if s == SEEDS["churn"][0] else churn_tables(s, CHURN_CUSTOMERS), s) for s in SEEDS["churn"]],
        "fraud": [ladder_at("fraud", fraud_0 if s == SEEDS["fraud"][0] else fraud_tables(s, FRAUD_TRANSACTIONS), s) for s in SEEDS["fraud"]]}
print("LightGBM leaves chosen per seed:", {w: [r["models"][2].params["num_leaves"] for r in rs] for w, rs in runs.items()})

# %% [markdown]
# **Predict, then run:** on which world will boosting's gain over logistic regression be larger —
# churn, whose true log-odds are a sum, or fraud, whose signal sits in episodes?

# %%
RUNGS = {world: ["rule", "logistic", CURVE_RUNG[world], "LightGBM", "oracle"] for world in runs}
tables = {world: ladder_table(rs, RUNGS[world]) for world, rs in runs.items()}   # utils/ladder.py: mean, t-interval, paired gains
print(f"mean and {0.95:.0%} t-interval over worlds (seeds) " + ", ".join(f"{w} {s[0]}-{s[-1]}" for w, s in SEEDS.items()) + "; gains paired by seed, over the rung below")
pd.concat(tables, names=["world", "rung"]).round(3).astype(object).fillna("")


# %%
def paired_gain(rs: list, upper: str, lower: str, plant: float = 0.0) -> dict:
    """Mean and 95 % t-interval of upper - lower over seeds, and seeds won; ``plant`` adds a fake gain (to test a check)."""
    gains = np.array([r[upper] - r[lower] + plant for r in rs])
    mean, low, high = t_interval(gains)
    return {"gain": mean, "95 % low": low, "95 % high": high, "seeds won": int((gains > 0).sum())}


boost_gain = {world: paired_gain(rs, "LightGBM", "logistic") for world, rs in runs.items()}
pd.DataFrame(boost_gain).T.round(3).rename_axis("LightGBM - logistic")

# %%
CONTACT_SHARE = 0.10   # the retention team calls the riskiest tenth of each snapshot (a choice, as in notebook 12)


def churners_reached(r: dict, rung: str) -> int:
    """Churners among the CONTACT_SHARE of test customers that ``rung`` ranks riskiest."""
    top = np.argsort(-r["scores"][rung], kind="stable")[:int(CONTACT_SHARE * len(r["y test"]))]
    return int(r["y test"][top].sum())


reach = pd.DataFrame([{rung: churners_reached(r, rung) for rung in RUNGS["churn"][1:]} for r in runs["churn"]], index=SEEDS["churn"])
print(f"churners among the riskiest {CONTACT_SHARE:.0%} of ~{len(runs['churn'][0]['y test']):,} customers, per seed; "
      f"of {np.mean([r['y test'].sum() for r in runs['churn']]):.0f} churners on average")
pd.concat([reach, reach.mean().to_frame("mean").T]).round(1).rename_axis("seed")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, (world, table) in zip(axes, tables.items(), strict=True):
    ladder = RUNGS[world][:4]
    for r in runs[world]:   # one grey line per seed: the comparison is paired within a world
        ax.plot(range(4), [r[rung] for rung in ladder], color="grey", lw=0.8, marker=".")
    ax.plot(range(4), table.loc[ladder, "PR-AUC"], "o-", color="C0", lw=2, label="mean over seeds")
    ax.axhline(table.loc["oracle", "PR-AUC"], color="C2", ls="--", label="oracle (true probability)")
    ax.set(xticks=range(4), xticklabels=[rung.replace(" ", "\n") for rung in ladder], ylabel="test PR-AUC", ylim=(0, None), title=world)
fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2, fontsize=8)
fig.suptitle("Each seed's ladder (grey): on churn the curves pay, interactions add nothing measurable")
fig.subplots_adjust(bottom=0.27)
plt.show()

# %% [markdown]
# With the default parameters:
#
# - **Rule → logistic pays in both worlds**, at every seed: +0.060 PR-AUC on churn (95 % interval
#   0.036 to 0.083), +0.224 on fraud (0.171 to 0.276).
# - **Churn: a curve per column pays, interactions do not.** Spline − logistic +0.026 (0.018 to
#   0.035, 4 of 4 seeds); LightGBM − spline +0.002 (−0.004 to 0.007): all of boosting's +0.028 over
#   the line is the spline's, as a generator that sums shaped terms predicts. In the retention team's terms: calling the riskiest `10 %`, the spline
#   reaches about 197 churners a week against the line's 174, and LightGBM the same 197.
# - **Fraud: not settled.** LightGBM − logistic −0.002 (−0.021 to 0.017), ahead at 3 of 8 seeds; but
#   at another block of eight worlds (`SEED` = `2`) the interval lies wholly above zero: with a few
#   hundred training frauds, eight worlds do not settle a gain this small. Two effects nearly cancel: additive-only trees score below the line, −0.032 (−0.054 to −0.009, 0 of 8;
#   at other blocks a smaller loss, inside the noise) — with a few hundred training frauds, step
#   functions fit each column's shape no better than a weight on a log-scaled column — and letting
#   trees combine columns wins it back, +0.029 (0.013 to 0.045, 7 of 8), at every block.
# - **The ceilings are far.** The fraud oracle knows each payment's episode, which no column shows: its
#   gap measures what the features miss, not what a better model could win.

# %% [markdown]
# ## 3. What each rung costs
#
# Training time (measured above) and one-row latency (`utils.timing.measure`, CPU); the text quotes
# none: they differ by machine.

# %%
# NBVAL_IGNORE_OUTPUT
def cost_table(world: str, d: dict) -> pd.DataFrame:
    rule, logit, booster = runs[world][0]["models"]
    rows = [d["test"][0].iloc[[i]] for i in range(200)]
    p50 = [measure(rule, rows).p50, measure(logit.predict_proba, [r.to_numpy() for r in rows]).p50,
           measure(lambda x: booster.predict(x, num_iteration=booster.best_iteration), [r.to_numpy() for r in rows]).p50]
    return pd.DataFrame({"train + search, CPU s": np.mean([r["fit s"] for r in runs[world]], axis=0), "one row, CPU p50 ms": p50}, index=["rule", "logistic", "LightGBM"])


latency = {world: cost_table(world, d) for world, d in [("churn", churn_0), ("fraud", fraud_0)]}
pd.concat(latency, names=["world", "rung"]).round(3)

# %% [markdown]
# Every rung trains in seconds and predicts a row in well under a millisecond (the scorecard holds
# LightGBM to a `5` ms budget): cost does not decide. Logistic regression's higher latency is
# scikit-learn's per-call overhead (a pipeline checking one row), not its arithmetic: a dozen
# multiplications. The real price is upkeep: a rule anyone can read; a logistic model is one weight per column;
# a boosted model needs a retraining pipeline, drift monitoring and SHAP to explain a decline.
#
# ## 4. Where the next rung stops paying
#
# A shape learned from data needs data. The churn world again with `SMALL_CUSTOMERS` customers instead
# of `CHURN_CUSTOMERS`, same columns, same tuning.
#
# **Predict, then run:** with a fifth of the customers, does LightGBM still beat logistic regression?

# %%
small_runs = [ladder_at("churn", churn_tables(s, SMALL_CUSTOMERS), s, curve_rung=False) for s in SEEDS["churn"]]
small = ladder_table(small_runs, ["rule", "logistic", "LightGBM", "oracle"])
gain_columns = ["PR-AUC", "gain over rung below", "gain 95 % low", "gain 95 % high", "seeds with a gain"]
pd.DataFrame({"churn, full size": tables["churn"].loc["LightGBM"], "churn, small": small.loc["LightGBM"],
              "fraud": tables["fraud"].loc["LightGBM"]}).T[gain_columns].round(3)

# %% [markdown]
# Small churn: LightGBM − logistic +0.011 (−0.054 to 0.076), ahead at 1 of 4 seeds: cannot tell. What
# counts is the *positives*: a few hundred cancellations here. (Its PR-AUC above full size's is not
# a better model: its test snapshots are other, smaller draws; compare gains within a size.)
#
# **Why notebook 10 finds the opposite.** On the same fraud world, notebook 10 finds LightGBM ahead
# of logistic regression at every seed, its interval well above zero. Its setup differs in ways that
# all favour trees: `300,000` payments over `150` days (about three times the frauds), raw
# `amount` and `hour` (a line cannot express "night" from the hour; this notebook hands it a night
# flag and log scales), and device-use counts. Feature work the line needs, a tree does for free, and
# the gain grows with labels. Try `FRAUD_TRANSACTIONS` at its upper end.
#
# ## 5. When deep models earn their cost
#
# No neural network here, on purpose. The published evidence on tables:
#
# - **Grinsztajn, Oyallon & Varoquaux (NeurIPS 2022)**, *Why do tree-based models still outperform
#   deep learning on typical tabular data?*: on a benchmark of 45 datasets, with a large hyperparameter
#   search for every learner, tree ensembles stayed ahead on "medium-sized" data — training sets cut
#   to about ten thousand rows; on their larger sets the gap narrowed. Why: networks suffer from
#   uninformative columns and prefer overly smooth functions.
# - **Shwartz-Ziv & Armon (Information Fusion 2022)**, *Tabular data: deep learning is not all you
#   need*: four deep tabular models against XGBoost, on datasets including the deep models' own:
#   XGBoost won on most, with far less tuning.
# - **Fraud at network scale is the counterexample.** *How we built it: Stripe Radar* (Drapeau 2023,
#   Stripe's blog): from logistic regression to XGBoost plus a neural network (wide and deep), then in
#   mid-2022 to a neural network alone, scoring over 1,000 signals per payment across Stripe's network.
# - **Where deep models win**: text, images, and interaction logs at scale, where learned embeddings
#   are the product (YouTube recommendations, Covington et al. 2016; notebook 09).
#
# ## 6. Capacity: more trees, bigger trees
#
# The churn world at the first seed, one booster per leaf count (the ladder's settings: learning rate
# `0.1`, at least `50` rows a leaf), scored after each number of trees on train and validation.

# %%
GRID_LEAVES, GRID_TREES = (2, 4, 8, 16, 32, 64), (10, 25, 50, 100, 200)
(Xg, yg), (Xgv, ygv) = churn_0["train"], churn_0["valid"]
grid_data = lgb.Dataset(Xg.to_numpy(), yg)   # binned once, shared by the six boosters
boosters = {k: lgb.train({**LGB_BASE, "num_leaves": k, "seed": SEEDS["churn"][0]}, grid_data, max(GRID_TREES)) for k in GRID_LEAVES}
GRID = pd.DataFrame([{"leaves": k, "trees": n, "train PR-AUC": pr_auc(yg, b.predict(Xg.to_numpy(), num_iteration=n)),
                      "validation PR-AUC": pr_auc(ygv, b.predict(Xgv.to_numpy(), num_iteration=n))}
                     for k, b in boosters.items() for n in GRID_TREES]).set_index(["leaves", "trees"])
best = GRID["validation PR-AUC"].idxmax()
print(f"best validation PR-AUC {GRID['validation PR-AUC'].max():.3f} at {best[0]} leaves, {best[1]} trees; at 64 leaves, 200 trees: "
      f"train {GRID.loc[(64, 200), 'train PR-AUC']:.3f}, validation {GRID.loc[(64, 200), 'validation PR-AUC']:.3f} "
      f"({GRID['validation PR-AUC'].max() - GRID.loc[(64, 200), 'validation PR-AUC']:.3f} below the best)")

# %%
# NBVAL_IGNORE_OUTPUT
rows_1 = [Xgv.iloc[[i]].to_numpy() for i in range(30)]
GRID_MS = {(k, n): measure(lambda x, b=boosters[k], n=n: b.predict(x, num_iteration=n), rows_1, repeats=3).p50 for k in GRID_LEAVES for n in GRID_TREES}


# %%
def capacity(trees: int = 100, leaves: int = 8) -> dict:
    """Train and validation PR-AUC, their gap, and one-row latency at a grid setting; off-grid raises."""
    if trees not in GRID_TREES:
        raise ValueError(f"trees={trees!r} is not on the grid; valid values are {GRID_TREES}")
    if leaves not in GRID_LEAVES:
        raise ValueError(f"leaves={leaves!r} is not on the grid; valid values are {GRID_LEAVES}")
    train, valid = GRID.loc[(leaves, trees)]
    return {"train PR-AUC": train, "validation PR-AUC": valid, "gap": train - valid, "latency ms": GRID_MS[(leaves, trees)]}


def show_capacity(trees: int = 100, leaves: int = 8) -> None:   # figure helper: plots capacity() along the tree axis
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot(GRID_TREES, GRID.loc[leaves], "o-", label=list(GRID.columns))
    left.axvline(trees, color="grey", ls=":")
    left.set(xscale="log", xlabel="trees", ylabel="PR-AUC", title=f"{leaves} leaves: train climbs, validation peaks")
    left.legend(fontsize=8)
    right.plot(GRID_TREES, [GRID_MS[(leaves, n)] for n in GRID_TREES], "o-", color="C3")
    right.set(xscale="log", xlabel="trees", ylabel="one-row CPU p50 (ms)", title="latency grows with trees")
    plt.show()
    print(", ".join(f"{k} {v:.3f}" for k, v in capacity(trees, leaves).items()))


# %% [markdown]
# ### Explore the trade-off
#
# Move the trees, then the leaves: where does validation stop rising while train keeps climbing?

# %%
# NBVAL_IGNORE_OUTPUT
explore = widgets.interact(show_capacity, trees=widgets.SelectionSlider(options=GRID_TREES, value=100, description="trees"),
                           leaves=widgets.SelectionSlider(options=GRID_LEAVES, value=8, description="leaves"))

# %%
# Static fallback: capacity() at a few settings (latency left out: it differs by machine); then an off-grid value.
fallback = pd.DataFrame({f"{n} trees x {k} leaves": capacity(n, k) for n, k in [(25, 4), (100, 4), (200, 4), (25, 64), (200, 64)]}).T
try:
    capacity(trees=150)
except ValueError as error:
    print("off-grid:", error)
fallback.drop(columns="latency ms").round(3)

# %% [markdown]
# Validation peaks at 0.273 (`8` leaves, `50` trees); `64` leaves and `200` trees fit the training
# rows far better (0.701) and score 0.244 on validation, 0.029 below the best. Small-to-medium trees,
# stopped early, win; latency grows with trees, slowly: capacity costs accuracy first.
#
# > **Failure mode:** choosing trees and leaves on the test period, or never stopping early.
#
# ## 7. When the usual advice is wrong
#
# **"Gradient boosting always beats logistic regression on tabular data."** On fraud at the default
# size, tuned LightGBM minus tuned logistic regression on the same columns is −0.002 PR-AUC (−0.021 to
# 0.017, 8 seeds; small and positive at another seed block); on churn a spline logistic regression takes all of boosting's gain (LightGBM −
# spline +0.002, −0.004 to 0.007). And "more trees never hurt" fails in the grid.
#
# **Where the advice is right:** with more labels and raw columns — notebook 10's fraud setup —
# boosting is the better default, as the benchmarks of section 5 find.
#
# ## How this step sounds in the interview
#
# 1. *"Rule first, then logistic regression on the same features, then boosting; each rung must beat
#    the one below on a time split, with an interval over seeds or folds."*
# 2. *"I stop where the gain falls inside the noise: on churn a curve per column paid and
#    interactions did not, so a spline logistic regression ships; on fraud with a few hundred labels
#    boosting's gain was small and unsettled across seed blocks."*
# 3. *"On tabular features at this scale, boosted trees; a deep model for text, images, or fraud at
#    network scale — Stripe moved Radar from logistic regression to boosting plus a network, then a
#    network alone."*
#
# The weak candidate names the most complex model first and never says what the simpler one scored.

# %% jupyter={"source_hidden": true} tags=["answer-key"]
EXPECTED = {1: min(log_loss(ygv, boosters[32].predict(Xgv.to_numpy(), num_iteration=n)) for n in GRID_TREES)}

# %% [markdown]
# ## Your turn
#
# One numeric exercise with a self-check, then two judgment questions; solutions at the end.
#
# ### Exercise 1 · What early stopping watches
# Early stopping watches validation *log-loss*, not the PR-AUC the widget shows. For the `32`-leaf
# booster (`boosters[32]`), what is the lowest validation log-loss over the grid's tree counts?

# %%
answer_1 = TODO
correct_1 = check_answer("Exercise 1", answer_1, EXPECTED[1], rel_tol=0.002, hint="sklearn.metrics.log_loss(ygv, boosters[32].predict(Xgv.to_numpy(), num_iteration=n)) for n in GRID_TREES")

# %% [markdown]
# ### Exercise 2 (judgment) · Defend the choice in two sentences
#
# *"Your team wants gradient boosting for churn; the retention team wants a model they can read.
# Which ships?"* Two sentences, with numbers from this notebook.
#
# ### Exercise 3 (judgment) · The deep-learning question
#
# *"Why not a neural network for fraud?"* Three or four sentences: when would you change your mind?

# %% [markdown]
# ## Scorecard
#
# Each claim above, recomputed; asserted at the defaults (and by the claims tier at seeds 1–3).

# %% tags=["scorecard"]
from utils.scorecard import build, enforce

c, f, sm = tables["churn"], tables["fraud"], small.loc["LightGBM"]   # gains over the rung below, with 95 % ends
lgbm_p50 = max(latency[w].loc["LightGBM", "one row, CPU p50 ms"] for w in latency)
overfit_loss = GRID["validation PR-AUC"].max() - GRID.loc[(64, 200), "validation PR-AUC"]
share = max(t.loc["LightGBM", "share of oracle"] for t in (c, f))
spans = {name: (f"[{g['gain 95 % low']:.3f}, {g['gain 95 % high']:.3f}]", g["gain 95 % low"] < 0 < g["gain 95 % high"])
         for name, g in [("churn", c.loc["LightGBM"]), ("small", sm)]}
overfit_gap = GRID.loc[(64, 200), "train PR-AUC"] - GRID.loc[(64, 200), "validation PR-AUC"]
scorecard = build([
    ("churn: logistic - rule, gain's 95 % low end", c.loc["logistic", "gain 95 % low"], "> 0", c.loc["logistic", "gain 95 % low"] > 0),
    ("fraud: logistic - rule, gain's 95 % low end", f.loc["logistic", "gain 95 % low"], "> 0", f.loc["logistic", "gain 95 % low"] > 0),
    ("churn: spline - logistic (curves), gain's 95 % low end", c.loc["spline logistic", "gain 95 % low"], "> 0", c.loc["spline logistic", "gain 95 % low"] > 0),
    ("churn: LightGBM - spline (interactions), 95 % interval spans 0: cannot tell", spans["churn"][0], "low < 0 < high", spans["churn"][1]),
    ("fraud: LightGBM - additive trees (interactions), gain's 95 % low end", f.loc["LightGBM", "gain 95 % low"], "> 0", f.loc["LightGBM", "gain 95 % low"] > 0),
    ("small churn: LightGBM - logistic, 95 % interval spans 0: cannot tell", spans["small"][0], "low < 0 < high", spans["small"][1]),
    ("best model's share of the oracle (the ceiling is far)", share, "<= 0.8", share <= 0.8),
    ("64 leaves x 200 trees: train - validation PR-AUC (overfitting)", overfit_gap, ">= 0.2", overfit_gap >= 0.2),
    ("LightGBM one-row CPU p50 within a generous 5 ms budget (timing: shown as True/False)", lgbm_p50 <= 5, "True", lgbm_p50 <= 5),
])
display(scorecard)
enforce(scorecard, at_defaults=AT_DEFAULTS)

# %% [markdown]
# ## In 60 seconds
#
# *"I climb a ladder — a rule, logistic regression, a curve per column, gradient boosting — on the
# same features and time split, each rung tuned on validation, each reported with its gain, an
# interval over seeds, its cost, and a ceiling. On churn the curves paid (+0.026 PR-AUC, 23 more
# churners a week at the team's capacity) and interactions added nothing, so the readable spline
# model ships. On fraud with a few hundred labelled frauds, boosting's gain was small and unsettled;
# I'd revisit as labels accumulate. I pick capacity by early stopping on a validation period. Deep learning I keep
# for text, images and network-scale data."*#
# ## Solutions

# %%
losses_32 = {n: log_loss(ygv, boosters[32].predict(Xgv.to_numpy(), num_iteration=n)) for n in GRID_TREES}
answer_1 = min(losses_32.values())
ok_1 = check_answer("Exercise 1", answer_1, EXPECTED[1], rel_tol=0.002)
print("validation log-loss by trees:", {n: round(v, 4) for n, v in losses_32.items()})
print("lowest at", min(losses_32, key=losses_32.get), "trees; rejects the loss at the last grid value:", abs(losses_32[GRID_TREES[-1]] / EXPECTED[1] - 1) > 0.002)

# %% [markdown]
# (1) Log-loss bottoms out after a few dozen `32`-leaf trees and then rises: big trees overfit fast,
# which is why early stopping, not a fixed tree count, sets the ladder's trees.
#
# *Exercise 2.* **Model answer:** "I wouldn't: a spline logistic regression — one readable curve
# per column — scored the same as LightGBM (+0.002 PR-AUC, interval −0.004 to 0.007) and beat the
# plain line by 0.026 at every seed: about 197 churners reached in the riskiest tenth against 174.
# I'd switch to boosting if, with more customers or new columns, it beat the spline outside the seed
# noise."
#
# **Self-check:**
# - names the gain *with* its uncertainty (an interval, or "k of n seeds");
# - names the cost of the complex rung (latency, retraining, explanation);
# - says when the choice would flip;
# - fits in two sentences.
#
# *Exercise 3.* **Model answer:** "The features are a few dozen engineered columns per payment, where
# published benchmarks (Grinsztajn et al. 2022, on training sets of about ten thousand rows;
# Shwartz-Ziv & Armon 2022) find boosted trees as good or better — and here boosting barely beat
# logistic regression, if at all. I'd change my mind at Stripe's scale: Radar went from logistic regression to
# XGBoost plus a network to a network alone, on over 1,000 signals and a whole network's payments;
# or with raw sequences (a card's history) or shared embeddings. The boosted model stays the baseline
# it must beat online."
#
# **Self-check:**
# - cites evidence (a benchmark or a measured baseline), not taste;
# - names conditions for a deep model: unstructured or sequential input, label scale, learned embeddings;
# - keeps the simpler model as the baseline, measured the same way;
# - names a cost of the deep model (infrastructure, latency, explanation).
#
# *Navigation:* ← [03 · Data and features](03_data_and_features.ipynb) · [Course map](00_course_map.ipynb) · [05 · Training](05_training.ipynb) →
