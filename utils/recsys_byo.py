"""Bring-your-own-data helpers for notebook 09: a burst-style ratings log and a temporal split.

- :func:`make_burst_log` writes the kind of log a public ratings data set gives you: users who
  rate in bursts (a few active days each, most ratings on the first) spread over many years,
  half-star ratings, a power-law item popularity, items released over the years. Realism targets
  and sources are in ``datasets/recsys.md``.
- :func:`split_periods` turns a log into the notebook's three periods (features, labels, test):
  a global time split when it leaves enough users to evaluate, else a per-user temporal holdout
  (each user's last quarter of rows is their test, the quarter before it their labels).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from utils.recsys import on_grid
from utils.validate import check_float, check_int, check_seed

__all__ = ["EPOCH_1996", "make_burst_log", "split_periods"]

EPOCH_1996 = 820_454_400  # 1996-01-01 00:00 UTC in seconds: the log starts here
SECONDS_PER_DAY = 86_400


def make_burst_log(
    seed: int = 0,
    *,
    n_users: int = 1_500,
    n_items: int = 2_000,
    years: float = 20.0,
    min_ratings: int = 20,
    milliseconds: bool = False,
) -> pd.DataFrame:
    """A ratings log in which users rate in short bursts spread over ``years``.

    Knobs: ``n_users`` [20, 200,000], ``n_items`` [20, 100,000], ``years`` [0.1, 50],
    ``min_ratings`` per user [1, 200] (MovieLens keeps users with >= 20). Returns
    ``user_id, item_id, timestamp, rating`` sorted by time: integer ids, timestamps in seconds
    since the epoch (milliseconds when ``milliseconds=True``), ratings in half stars 0.5-5.
    Deterministic for a given ``seed``.
    """
    seed = check_seed(seed)
    n_users = check_int("n_users", n_users, 20, 200_000)
    n_items = check_int("n_items", n_items, 20, 100_000)
    years = check_float("years", years, 0.1, 50.0)
    min_ratings = check_int("min_ratings", min_ratings, 1, 200)
    rng = np.random.default_rng([seed, 909])
    span_days = years * 365.25
    items = _burst_items(rng, n_items, span_days)
    users = _burst_users(rng, n_users, span_days, min_ratings, n_items)
    return _burst_ratings(rng, items, users, milliseconds)


def _burst_items(rng: np.random.Generator, n_items: int, span_days: float) -> dict[str, np.ndarray]:
    """Stage 1: taste vectors, a Zipf popularity, a quality and a release day per item."""
    vec = on_grid(rng.normal(scale=0.5, size=(n_items, 8)))
    popularity = (rng.permutation(n_items) + 1.0) ** -0.9
    release = np.where(rng.random(n_items) < 0.3, -1.0, rng.uniform(0, span_days, n_items))  # 30 % back catalogue
    return {"vec": vec, "log_pop": np.log(popularity / popularity.sum()),
            "quality": rng.normal(0.0, 0.4, n_items), "release": release}


def _burst_users(rng: np.random.Generator, n_users: int, span_days: float, min_ratings: int,
                 n_items: int) -> dict[str, np.ndarray]:
    """Stage 2: taste, an arrival day spread over the years, a heavy-tailed number of ratings."""
    vec = on_grid(rng.normal(scale=0.5, size=(n_users, 8)))
    n_ratings = np.minimum(min_ratings + np.floor(rng.lognormal(3.0, 1.0, n_users)), n_items // 2).astype(int)
    return {"vec": vec, "arrival": rng.uniform(0, span_days, n_users),
            "n_ratings": np.maximum(n_ratings, 1), "n_days": 1 + rng.geometric(0.5, n_users)}


def _burst_ratings(rng: np.random.Generator, items: dict[str, np.ndarray], users: dict[str, np.ndarray],
                   milliseconds: bool) -> pd.DataFrame:
    """Stage 3: each user rates items already released, by popularity x taste, in a burst of days."""
    n_users, n_items = len(users["arrival"]), len(items["release"])
    rows_user, rows_item = [], []
    for start in range(0, n_users, 500):  # users x items in chunks: memory stays small
        u = np.arange(start, min(start + 500, n_users))
        aff = users["vec"][u] @ items["vec"].T  # exact: both on the dyadic grid
        score = items["log_pop"][None, :] + 1.5 * aff + rng.gumbel(size=(len(u), n_items))
        released = items["release"][None, :] <= users["arrival"][u, None] + users["n_days"][u, None]
        score = np.where(released, score, -np.inf)
        order = np.argsort(-score, axis=1, kind="stable")
        take = np.minimum(users["n_ratings"][u], released.sum(axis=1))
        keep = np.arange(n_items)[None, :] < take[:, None]
        rows_user.append(np.broadcast_to(u[:, None], order.shape)[keep])
        rows_item.append(order[keep])
    user, item = np.concatenate(rows_user), np.concatenate(rows_item)
    aff = np.einsum("nd,nd->n", users["vec"][user], items["vec"][item])
    latent = 3.1 + 1.2 * aff + items["quality"][item] + rng.normal(0.0, 0.8, len(user))
    rating = np.clip(np.round(latent * 2) / 2, 0.5, 5.0)
    day = np.floor(rng.random(len(user)) ** 3 * users["n_days"][user])  # most ratings on the first day
    release_day = np.maximum(items["release"][item] - users["arrival"][user], 0.0)
    offset = np.maximum(day, np.ceil(release_day))  # never before the item exists
    seconds = EPOCH_1996 + np.floor((users["arrival"][user] + offset) * SECONDS_PER_DAY
                                    + rng.integers(0, 4 * 3_600, len(user)))
    log = pd.DataFrame({"user_id": user, "item_id": item, "timestamp": seconds.astype(np.int64), "rating": rating})
    log = log.sort_values(["timestamp", "user_id", "item_id"], kind="stable").reset_index(drop=True)
    if milliseconds:
        log["timestamp"] = log["timestamp"] * 1_000
    return log


def split_periods(user: np.ndarray, t: np.ndarray, positive: np.ndarray, *, min_users: int = 100
                  ) -> tuple[np.ndarray, str]:
    """Assign each row to period 0 (features), 1 (ranker labels) or 2 (test).

    First try a global time split at 50 % and 75 % of the log's time span. A user can be
    evaluated when they have a positive in the test period and at least one earlier row. If
    fewer than ``min_users`` [1, 1,000,000] can, switch to a per-user temporal holdout: each
    user's rows in time order, the first half features, the next quarter labels, the last
    quarter test (leave-last-out). Returns the period per row and a one-line description.
    """
    min_users = check_int("min_users", min_users, 1, 1_000_000)
    user, t, positive = np.asarray(user), np.asarray(t, dtype=float), np.asarray(positive, dtype=bool)
    if not len(user) == len(t) == len(positive) or len(user) == 0:
        raise ValueError(f"split_periods: user, t and positive must be non-empty and of one length; "
                         f"got {len(user)}, {len(t)}, {len(positive)}")
    t0, t1 = t.min(), t.max()
    period = np.select([t >= t0 + 0.75 * (t1 - t0), t >= t0 + 0.5 * (t1 - t0)], [2, 1], 0)
    if _evaluable(user, period, positive) >= min_users:
        return period, "global time split at 50 % and 75 % of the time span"
    order = np.lexsort((t, user))
    sorted_user = user[order]
    first = np.searchsorted(sorted_user, sorted_user, side="left")
    count = np.searchsorted(sorted_user, sorted_user, side="right") - first
    share = (np.arange(len(order)) - first) / count  # position of the row within its user, 0 ... < 1
    period = np.empty(len(order), dtype=np.int64)
    period[order] = np.select([share >= 0.75, share >= 0.5], [2, 1], 0)
    if _evaluable(user, period, positive) == 0:
        raise ValueError("split_periods: no user can be evaluated: none has a positive in their last quarter of "
                         "rows and an earlier row (users need several rows each, and positives)")
    return period, "per-user holdout: each user's first half features, next quarter labels, last quarter test"


def _evaluable(user: np.ndarray, period: np.ndarray, positive: np.ndarray) -> int:
    with_test = np.unique(user[(period == 2) & positive])
    with_history = np.unique(user[period < 2])
    return int(len(np.intersect1d(with_test, with_history)))
