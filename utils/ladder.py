"""Feature tables and bookkeeping for the baseline ladder of notebook 04 (model choice).

The notebook teaches the ladder itself (rule → logistic regression → gradient boosting, each tuned
on validation); this module holds what it needs and a learner need not read first:

- :func:`churn_tables` and :func:`fraud_tables`: one feature table per world, computed as of the
  decision time, split by time into train / validation / test, with the world's true probability
  for the test rows (the oracle);
- :func:`t_interval` and :func:`ladder_table`: mean and 95 % t-interval over seeds, and the gain of
  each rung over the one below, paired by seed.

Counts and amounts enter on a log scale, so a linear model is not handicapped by a skewed column
(a tree is unaffected by any monotone transform).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import average_precision_score

from utils.churn import make_churn_world
from utils.fraud import make_fraud_world
from utils.validate import check_int

HOUR, DAY = 3_600, 86_400
CHURN_TRAIN_WEEKS, CHURN_VALID_WEEK, CHURN_TEST_WEEK = (16, 20, 24, 28), 32, 40
FRAUD_DAYS = 90  # train days 7-55, validation 56-69, test 70-89; no drift (drift_day = 90)


def pr_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision (PR-AUC) of ``score`` for the 0/1 labels ``y``."""
    return float(average_precision_score(y, score))


def churn_tables(seed: int, n_customers: int) -> dict:
    """Churn world: train (snapshots at weeks 16-28), validation (32) and test (40) tables.

    Returns ``{"train": (X, y), "valid": (X, y), "test": (X, y, true_probability)}``; the label is
    "cancels within 8 weeks of the snapshot"; features use weeks before the snapshot only.
    """
    n_customers = check_int("n_customers", n_customers, 1_000, 2_000_000)
    w = make_churn_world(seed=seed, n_customers=n_customers)
    n, weeks = len(w.customers), w.n_weeks
    sessions = (w.activity.pivot(index="customer_id", columns="week", values="sessions")
                .reindex(index=range(n), columns=range(weeks)).to_numpy(float))
    tickets = np.zeros((n, weeks))
    np.add.at(tickets, (w.tickets["customer_id"].to_numpy(), w.tickets["week"].to_numpy()),
              w.tickets["n_tickets"].to_numpy())
    rise_week, rise_pct = np.full(n, 10_000), np.zeros(n)
    rise_week[w.price_changes["customer_id"].to_numpy()] = w.price_changes["week"].to_numpy()
    rise_pct[w.price_changes["customer_id"].to_numpy()] = w.price_changes.eval("new_price / old_price - 1").to_numpy()
    plan, signup = w.customers["plan"].cat.codes.to_numpy(), w.customers["signup_week"].to_numpy()
    churn_week = w.customers["churn_week"].to_numpy(dtype=float, na_value=np.inf)

    def snapshot(week: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        ids = w.eligible(week)
        since_rise = week - rise_week[ids]
        X = pd.DataFrame({
            "log_sessions_last_4w": np.log(np.nanmean(sessions[ids, week - 4:week], axis=1) + 0.5),
            "log_sessions_prev_12w": np.log(np.nanmean(sessions[ids, week - 16:week - 4], axis=1) + 0.5),
            "tickets_last_4w": tickets[ids, week - 4:week].sum(axis=1),
            "tickets_last_12w": tickets[ids, week - 12:week].sum(axis=1),
            "recent_price_rise": np.where((since_rise >= 1) & (since_rise <= 16), rise_pct[ids], 0.0),
            "log_tenure_weeks": np.log(week - signup[ids]),
            "plan_basic": (plan[ids] == 0).astype(float),
            "plan_premium": (plan[ids] == 2).astype(float),
        })
        y = ((churn_week[ids] >= week) & (churn_week[ids] < week + w.horizon_weeks)).astype(int)
        return X, y, w.true_churn_probability(ids, week)

    parts = [snapshot(week) for week in CHURN_TRAIN_WEEKS]
    train = (pd.concat([p[0] for p in parts], ignore_index=True), np.concatenate([p[1] for p in parts]))
    return {"train": train, "valid": snapshot(CHURN_VALID_WEEK)[:2], "test": snapshot(CHURN_TEST_WEEK)}


def past_window(entity: np.ndarray, t: np.ndarray, values: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Count and sum of ``values`` over the same entity's earlier rows with time in [t - window, t)."""
    order = np.lexsort((np.arange(len(t)), t, entity))
    key = entity[order] * 10**9 + t[order]
    first, pos = np.searchsorted(key, key - window, side="left"), np.arange(len(key))
    csum = np.concatenate([[0.0], np.cumsum(values[order])])
    count, total = np.empty(len(t)), np.empty(len(t))
    count[order], total[order] = pos - first, csum[pos] - csum[first]
    return count, total


def fraud_tables(seed: int, n_transactions: int) -> dict:
    """Fraud world (90 days, no drift): train (days 7-55), validation (56-69), test (70-89) tables.

    Returns ``{"train": (X, y), "valid": (X, y), "test": (X, y, true_prob)}``; the label is the
    true fraud flag (not the late, noisy chargeback); terminal risk counts only chargebacks that had
    arrived before the payment.
    """
    n_transactions = check_int("n_transactions", n_transactions, 5_000, 5_000_000)
    tx = make_fraud_world(n_transactions=n_transactions, n_days=FRAUD_DAYS, drift_day=FRAUD_DAYS, seed=seed).transactions
    start = tx["timestamp"].min()
    t = ((tx["timestamp"] - start) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    card, term, amount = tx["customer_id"].to_numpy(), tx["terminal_id"].to_numpy(), tx["amount"].to_numpy()
    X = pd.DataFrame({
        "log_amount": np.log(amount), "night": (tx["hour"] < 6).to_numpy(float),
        "online": (tx["channel"] == "online").to_numpy(float), "atm": (tx["channel"] == "atm").to_numpy(float),
        "foreign": (tx["country"] != tx["card_country"]).to_numpy(float),
    })
    for name, window in [("1h", HOUR), ("24h", DAY), ("7d", 7 * DAY)]:
        X[f"log_card_payments_{name}"] = np.log1p(past_window(card, t, amount, window)[0])
    n30, s30 = past_window(card, t, amount, 30 * DAY)
    X["log_amount_vs_card_30d"] = np.where(n30 > 0, np.log(amount * np.maximum(n30, 1) / np.maximum(s30, 0.01)), 0.0)
    gap = (tx["timestamp"] - tx.groupby("customer_id")["timestamp"].shift()) / pd.Timedelta(seconds=1)
    X["log_secs_since_prev"] = np.log1p(gap.fillna(30 * DAY).to_numpy())
    first_use = tx.groupby(["customer_id", "device_id"]).cumcount().to_numpy() == 0
    X["new_device"] = ((tx["device_id"].to_numpy() >= 0) & first_use).astype(float)
    disputed = tx["chargeback"].to_numpy() == 1
    arrival = ((tx["label_available_at"] - start) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    arrived, now = np.sort(term[disputed] * 10**9 + arrival[disputed]), term * 10**9 + t
    received = np.searchsorted(arrived, now, "right") - np.searchsorted(arrived, now - 28 * DAY, "right")
    X["terminal_chargeback_rate_28d"] = received / (past_window(term, t, amount, 28 * DAY)[0] + 1)
    day, y, p = tx["day"].to_numpy(), tx["is_fraud"].to_numpy(), tx["true_prob"].to_numpy()
    train, valid, test = (day >= 7) & (day < 56), (day >= 56) & (day < 70), day >= 70
    return {"train": (X[train].reset_index(drop=True), y[train]), "valid": (X[valid].reset_index(drop=True), y[valid]),
            "test": (X[test].reset_index(drop=True), y[test], p[test])}


def t_interval(values: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95 % t-interval of the mean over seeds (needs at least two values)."""
    values = np.asarray(values, float)
    if values.size < 2:
        raise ValueError(f"values has {values.size} element(s); a t-interval needs at least 2")
    half = stats.t.ppf(0.975, values.size - 1) * values.std(ddof=1) / np.sqrt(values.size)
    return float(values.mean()), float(values.mean() - half), float(values.mean() + half)


def ladder_table(runs: Sequence[dict], rungs: Sequence[str], ceiling: str = "oracle") -> pd.DataFrame:
    """One row per rung: mean test score, its 95 % interval over seeds, share of the ceiling, and
    (for every rung but the first and the ceiling) the gain over the rung below, paired by seed."""
    if len(runs) < 2:
        raise ValueError(f"runs has {len(runs)} seed(s); intervals need at least 2")
    top = np.mean([r[ceiling] for r in runs])
    rows = {}
    for i, rung in enumerate(rungs):
        scores = np.array([r[rung] for r in runs])
        mean, low, high = t_interval(scores)
        row = {"PR-AUC": mean, "95 % low": low, "95 % high": high, "share of oracle": mean / top}
        if 0 < i and rung != ceiling:
            gains = scores - np.array([r[rungs[i - 1]] for r in runs])
            g, g_low, g_high = t_interval(gains)
            row |= {"gain over rung below": g, "gain 95 % low": g_low, "gain 95 % high": g_high,
                    "seeds with a gain": float((gains > 0).sum())}
        rows[rung] = row
    return pd.DataFrame(rows).T.astype(float)
