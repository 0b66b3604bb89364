"""Point-in-time features for notebook 05 (training), as notebooks 10 and 12 build them.

Notebook 05 is about splits, imbalance, search and retraining, not features, so the feature code
it needs lives here, typed and tested: every feature of a row uses only what was known before it
(earlier payments; chargebacks that had *arrived*; weeks before the snapshot).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.churn import ChurnWorld
from utils.validate import check_int

HOUR, DAY = 3_600, 86_400


def _past_window(entity: np.ndarray, t: np.ndarray, values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of ``values`` over the same entity's earlier rows with time in [t - window, t)."""
    order = np.lexsort((np.arange(len(t)), t, entity))
    key = entity[order].astype(np.int64) * 10**9 + t[order]
    first = np.searchsorted(key, key - window, side="left")
    pos = np.arange(len(key))
    csum = np.concatenate([[0], np.cumsum(values[order])])
    count, total = np.empty_like(pos), np.empty(len(pos), dtype=csum.dtype)
    count[order], total[order] = pos - first, csum[pos] - csum[first]
    return count, total


def fraud_features(tx: pd.DataFrame) -> pd.DataFrame:
    """Payment, card-velocity, device and terminal-chargeback features, each as of the payment.

    Terminal chargebacks count only disputes that had *arrived* (``label_available_at``) in the 28
    days before the payment. ``tx`` is a fraud world's ``transactions`` (sorted by time).
    """
    start = tx["timestamp"].iloc[0].normalize()
    t = ((tx["timestamp"] - start) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    card, term = tx["customer_id"].to_numpy(), tx["terminal_id"].to_numpy()
    cents = np.round(tx["amount"].to_numpy() * 100).astype(np.int64)
    f = pd.DataFrame({"amount": tx["amount"].to_numpy(), "hour": tx["hour"].to_numpy(),
                      "is_online": (tx["channel"] == "online").to_numpy(np.int64),
                      "is_atm": (tx["channel"] == "atm").to_numpy(np.int64),
                      "is_foreign": (tx["country"].astype(str) != tx["card_country"].astype(str)).to_numpy(np.int64)})
    for name, window in [("1h", HOUR), ("24h", DAY), ("7d", 7 * DAY)]:
        f[f"card_n_{name}"], total = _past_window(card, t, cents, window)
        f[f"card_sum_{name}"] = total / 100
    f["card_tiny_7d"] = _past_window(card, t, (cents < 500).astype(np.int64), 7 * DAY)[1]
    n30, s30 = _past_window(card, t, cents, 30 * DAY)
    f["amount_vs_card_30d"] = np.where(n30 > 0, cents * n30 / np.maximum(s30, 1), np.nan)
    previous = tx.groupby("customer_id")["timestamp"].shift()
    f["secs_since_prev"] = ((tx["timestamp"] - previous) / pd.Timedelta(seconds=1)).to_numpy()
    uses = tx.groupby(["customer_id", "device_id"]).cumcount().to_numpy()
    f["device_prior_uses"] = np.where(tx["device_id"].to_numpy() >= 0, uses, np.nan)
    disputed = tx["chargeback"].to_numpy() == 1
    arrival = ((tx["label_available_at"] - start) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    arrived = np.sort(term[disputed].astype(np.int64) * 10**9 + arrival[disputed])
    now = term.astype(np.int64) * 10**9 + t
    received = np.searchsorted(arrived, now, "right") - np.searchsorted(arrived, now - 28 * DAY, "right")
    f["term_cb_28d"] = received
    f["term_cb_rate_28d"] = received / (_past_window(term, t, cents, 28 * DAY)[0] + 1)
    return f


def churn_snapshot(world: ChurnWorld, week: int) -> pd.DataFrame:
    """Eligible customers at ``week``: features from weeks < ``week`` only, and the label
    "cancels in [week, week + H)". Columns: the features, ``customer_id``, ``snapshot``, ``label``."""
    week = check_int("week", week, 12, world.n_weeks - world.horizon_weeks)
    ids = world.eligible(week)
    n, weeks = len(world.customers), world.n_weeks
    sessions = world.activity.pivot(index="customer_id", columns="week", values="sessions")
    sessions = sessions.reindex(index=range(n), columns=range(weeks)).to_numpy(dtype=float)[ids]
    tickets = np.zeros((n, weeks))
    np.add.at(tickets, (world.tickets["customer_id"].to_numpy(), world.tickets["week"].to_numpy()),
              world.tickets["n_tickets"].to_numpy(dtype=float))
    rise_week, rise_pct = np.full(n, 10_000), np.zeros(n)
    pc = world.price_changes
    rise_week[pc["customer_id"].to_numpy()] = pc["week"].to_numpy()
    rise_pct[pc["customer_id"].to_numpy()] = (pc["new_price"] / pc["old_price"] - 1).to_numpy()
    recent, earlier = sessions[:, week - 4:week], sessions[:, week - 12:week - 4]
    last_4w, prev_8w = np.nanmean(recent, axis=1), np.nanmean(earlier, axis=1)
    risen = rise_week[ids] < week
    churn = world.customers["churn_week"].to_numpy(dtype=float, na_value=np.inf)[ids]
    return pd.DataFrame({
        "sessions_last_4w": last_4w, "sessions_prev_8w": prev_8w,
        "activity_trend": (last_4w + 0.5) / (prev_8w + 0.5),
        "idle_weeks_last_4w": (recent == 0).sum(axis=1),
        "tickets_last_12w": tickets[ids, week - 12:week].sum(axis=1),
        "weeks_since_price_rise": np.where(risen, week - rise_week[ids], 99),
        "price_rise_pct": np.where(risen, rise_pct[ids], 0.0),
        "tenure_weeks": week - world.customers["signup_week"].to_numpy()[ids],
        "plan": world.customers["plan"].cat.codes.to_numpy()[ids],
        "customer_id": ids, "snapshot": week,
        "label": ((churn >= week) & (churn < week + world.horizon_weeks)).astype(int),
    })


def t_interval(values: pd.Series | np.ndarray, level: float = 0.95) -> dict[str, float]:
    """Mean, ends of the t-interval at ``level`` over independent replicates (worlds), and how many are > 0."""
    from scipy import stats

    v = np.asarray(values, dtype=float)
    if v.size < 2:
        raise ValueError(f"values has {v.size} replicate(s); at least 2 are needed for an interval")
    half = stats.t.ppf(0.5 + level / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size)
    return {"mean": float(v.mean()), "low": float(v.mean() - half), "high": float(v.mean() + half), "above zero": int((v > 0).sum())}


def day_bootstrap_pr_auc(y: np.ndarray, scores: np.ndarray, day: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """PR-AUC (average precision) of each column of ``scores`` on ``n_boot`` resamples of whole days.

    Returns an array (n_boot, n_models). Resampling days, not rows, keeps a day's correlated payments
    together. Ties are broken by row order (a stable sort), as the weights would be in sklearn.
    """
    n_boot = check_int("n_boot", n_boot, 1, 10_000)
    days = np.unique(day)
    counts = np.stack([np.bincount(np.random.default_rng([seed, b]).choice(len(days), len(days)), minlength=len(days))
                       for b in range(n_boot)])
    weight = counts[:, np.searchsorted(days, day)]          # (n_boot, rows): how often each row's day was drawn
    out = np.empty((n_boot, scores.shape[1]))
    for j in range(scores.shape[1]):
        order = np.argsort(-scores[:, j], kind="stable")
        w, pos = weight[:, order], y[order]
        precision = np.cumsum(w * pos, axis=1) / np.maximum(np.cumsum(w, axis=1), 1)
        out[:, j] = (precision * w * pos).sum(axis=1) / np.maximum((w * pos).sum(axis=1), 1)
    return out


def reliability_table(y: np.ndarray, p: np.ndarray, edges: np.ndarray) -> pd.DataFrame:
    """Mean predicted probability, observed rate and count per bin of ``p`` (empty bins dropped)."""
    b = np.clip(np.digitize(p, edges) - 1, 0, len(edges) - 2)
    frame = pd.DataFrame({"bin": b, "p": p, "y": y}).groupby("bin").agg(
        predicted=("p", "mean"), observed=("y", "mean"), count=("y", "size"))
    return frame[frame["count"] > 0]


def plot_folds(folds: pd.DataFrame, drift_day: int) -> None:
    """Figure helper: each rolling-origin fold's PR-AUC (labelled with its frauds), their mean ± sd, the drift."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    mean, sd = folds["PR-AUC"].mean(), folds["PR-AUC"].std()
    ax.plot(folds["test from day"], folds["PR-AUC"], "o-", label="one rolling-origin fold (7 test days)")
    ax.axhspan(mean - sd, mean + sd, color="tab:blue", alpha=0.12, label="mean ± one standard deviation")
    ax.axvline(drift_day, color="grey", ls=":", label="card testing starts (the drift)")
    for x, v, n in zip(folds["test from day"], folds["PR-AUC"], folds["frauds in test"], strict=True):
        ax.annotate(f"{int(n)}", (x, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=7)
    ax.set(xlabel="first day of the test week", ylabel="PR-AUC on the test week", ylim=(0, 1),
           title="Rolling origin: a spread of honest scores, not one number (labels: frauds per fold)")
    ax.legend(fontsize=8)
    plt.show()


def plot_reliability(tables: dict[str, pd.DataFrame]) -> None:
    """Figure helper: reliability curves on log axes (an empty bin's rate drawn at 1e-4), each point
    labelled with its bin's count in the curve's colour."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2))
    for i, ((name, r), style) in enumerate(zip(tables.items(), ["o-", "s--", "^-", "v-", "d-"], strict=False)):
        (line,) = ax.plot(r["predicted"], r["observed"].clip(lower=1e-4), style, label=f"{name} (n per bin)")
        for x, v, n in zip(r["predicted"], r["observed"].clip(lower=1e-4), r["count"], strict=True):
            ax.annotate(f"{int(n):,}", (x, v), textcoords="offset points", xytext=(4, -10 + 9 * i), fontsize=6, color=line.get_color())
    ax.plot([1e-4, 1], [1e-4, 1], color="grey", lw=1, label="perfect calibration")
    ax.set(xscale="log", yscale="log", xlabel="mean predicted probability in the bin", ylabel="observed fraud rate in the bin",
           title="Downsampling inflates every probability; the prior correction puts it back")
    ax.legend(fontsize=8)
    plt.show()


def plot_age(by_age: pd.DataFrame, band: pd.DataFrame) -> None:
    """Figure helper: share caught by model age (rows) in each world (columns), their mean, and the 95 %
    interval of the change against a fresh model (``band``'s low/high) drawn around the fresh mean."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(by_age.index, by_age.values, color="grey", lw=0.8, alpha=0.6)
    ax.plot(by_age.index, by_age.mean(axis=1), "o-", color="tab:blue", label=f"mean of {by_age.shape[1]} worlds (grey: each world)")
    fresh = by_age.iloc[0].mean()
    ax.fill_between(band.index, fresh + band["low"], fresh + band["high"], alpha=0.2, label="95 % interval of the change vs a fresh model")
    ax.set(xlabel="model age when scoring (days since its last retrain, up to 2 more)", ylabel="share of frauds caught",
           title="The same post-drift payments scored by older and older models (alert budget 1 %)")
    ax.legend(fontsize=8)
    plt.show()


def plot_cadence(grid: pd.DataFrame, every: int) -> None:
    """Figure helper: share caught (all days, after the drift) against the number of retrains, a star at ``every``."""
    import matplotlib.pyplot as plt

    row = grid.loc[every]
    fig, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(grid["fits"], grid[["caught, all days", "caught, after the drift"]], "o-", label=["all days", "after the drift"])
    ax.plot([row["fits"]] * 2, [row["caught, all days"], row["caught, after the drift"]], "k*", ms=14, label=f"every {every} days")
    ax.set(xscale="log", xlabel="retrains (log)", ylabel="share of frauds caught", title="What each extra retrain buys (mean over worlds)")
    ax.legend(fontsize=8)
    plt.show()
