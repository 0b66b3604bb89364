"""The recommendations world: users, items, an interaction log, an oracle and a simulator.

One call, :func:`make_world`, builds everything from a ``seed`` and a few named knobs:

- **users** with a latent taste vector, a home category mix and an activity level (heavy-tailed);
- **items** with a latent vector, a category, a power-law popularity, a *click appeal* and a
  *quality* (satisfaction) that are separate: clickbait items are clicked often and watched little;
- **log**: ``days`` of impressions from a legacy "logging" policy (part popular items, part the
  user's favourite categories), with clicks (position-biased) and a watch fraction for each click;
- the **oracle**: the true click probability, the true watch fraction and the true expected
  satisfaction of any user-item pair (:meth:`RecsysWorld.expected_satisfaction`), and the true
  probability that a pair shows up as a satisfied click in the log (:meth:`RecsysWorld.logged_positive_rate`);
- a **simulator** (:meth:`RecsysWorld.simulate`): give it a ranked list per user (an array) or a
  function, and a number of days; it returns impressions, clicks, watch time and return visits.

A bring-your-own-data loader, :func:`load_interactions`, validates a CSV of interactions so a
notebook can run its offline steps on real data.

Everything is vectorised numpy; cost is linear in users x days x slate size (the oracle functions
are linear in the number of pairs asked for).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from utils.validate import check_float, check_int, check_seed

__all__ = [
    "FACTOR_GRID_BITS",
    "GRID_BITS",
    "RecsysWorld",
    "SimulationResult",
    "gini",
    "load_interactions",
    "make_world",
    "on_grid",
]

# Fixed shape of the generating process (documented in datasets/recsys.md).
CLICK_BIAS = -2.6  # click logit intercept: organic CTR ~ 8-10 %
CLICK_TASTE = 0.9  # weight of the user-item affinity on the click logit
WATCH_BIAS = 0.2  # watch-fraction logit intercept
WATCH_TASTE = 0.9  # weight of the affinity on the watch fraction
WATCH_PRECISION = 6.0  # Beta precision of the observed watch fraction around its mean
SATISFIED_AT = 0.5  # a click with watch fraction >= this counts as "satisfied"
POSITION_DECAY = 0.5  # examination probability at slot p is 1 / (1 + p) ** POSITION_DECAY
DISAPPOINT_AT = 0.35  # a click watched less than this lowers the user's mood (return rate)
RETURN_SENSITIVITY = 1.2  # how strongly session satisfaction moves tomorrow's return probability
MOOD_MEMORY = 0.7  # exponential memory of the mood across days
GRID_BITS = 16  # latent vectors are multiples of 2**-GRID_BITS (see on_grid)
FACTOR_GRID_BITS = 10  # grid for factors a BLAS/LAPACK routine computed (SVD embeddings): see on_grid


def on_grid(x: np.ndarray, bits: int = GRID_BITS) -> np.ndarray:
    """Round ``x`` to the nearest multiple of ``2**-bits`` and return it as float64.

    Why: a dot product of two vectors on this grid is *exact* in float64 (each product is an
    integer times ``2**(-2 * bits)`` and every partial sum stays below ``2**53``), so it is the same
    whatever order a BLAS kernel or thread count sums it in, and a near-tie in a top-k or a random
    threshold cannot flip from one machine to the next. Raises ValueError when an entry is too
    large for that guarantee: ``|x| * 2**bits`` must stay below ``2**((53 - ceil(log2(dim))) / 2)``.

    The guarantee covers what happens *after* the rounding. When ``x`` itself came out of BLAS or
    LAPACK (an SVD), its last bits differ between kernels, and an entry lying almost exactly half
    way between two grid points could round to a different one. So such factors use the coarser
    ``FACTOR_GRID_BITS`` (10): notebook 09's four ``randomized_svd`` fits (5,000 x 10,000, rank 32)
    at seeds 0-3, run with OpenBLAS 0.3.31 as SkylakeX (default here), ``OPENBLAS_CORETYPE=Haswell``,
    ``OPENBLAS_CORETYPE=Sandybridge`` and ``OPENBLAS_NUM_THREADS=1``, differed by at most 4.9e-13
    per entry (threads: 0; they run single-threaded), while the entry closest to a rounding midpoint
    of the 2**-10 grid was 1.4e-10 away (seed 3): a margin of at least 355x at every seed (1,429x,
    1,249x, 1,449x, 355x). At 2**-16 that margin was 1-21x, at 2**-12 it fell to 76x at seed 2.
    A margin is evidence, not a proof: another BLAS build or seed could still land closer.
    """
    x = np.asarray(x, dtype=np.float64)
    scaled = np.round(x * 2.0**bits)
    dim = x.shape[-1] if x.ndim else 1
    limit = 2.0 ** ((53 - np.ceil(np.log2(max(dim, 1)))) / 2)
    if scaled.size and not np.abs(scaled).max() < limit:
        raise ValueError(f"on_grid: entries up to {np.abs(x).max():.3g} are too large for exact dot products "
                         f"in {dim} dimensions at bits={bits}; need |x| < {limit / 2.0**bits:.3g}")
    return scaled / 2.0**bits + 0.0  # + 0.0 turns -0.0 into 0.0: same bytes on every machine


@dataclass
class SimulationResult:
    """What users did under a policy.

    ``sessions``: one row per user and day (``user_id, day, active, impressions, clicks,
    watch, satisfied_clicks``). ``impressions``: one row per shown item (``user_id, item_id,
    day, position, clicked, watch_fraction``), the log a retrained model would learn from.
    """

    sessions: pd.DataFrame
    impressions: pd.DataFrame

    def per_user(self) -> pd.DataFrame:
        """Totals per user over the simulated days (active days, clicks, watch, CTR)."""
        totals = self.sessions.groupby("user_id", sort=True)[
            ["active", "impressions", "clicks", "watch", "satisfied_clicks"]
        ].sum()
        totals["ctr"] = totals["clicks"] / totals["impressions"].where(totals["impressions"] > 0)
        return totals


@dataclass
class RecsysWorld:
    """A synthetic user-item world with known ground truth. Build it with :func:`make_world`."""

    users: pd.DataFrame
    items: pd.DataFrame
    log: pd.DataFrame
    user_vectors: np.ndarray
    item_vectors: np.ndarray
    seed: int
    slate_size: int
    popular_slots: int
    _category_pref: np.ndarray = field(repr=False)
    _category_pop_total: np.ndarray = field(repr=False)

    # ----- the oracle -------------------------------------------------------------------------
    def affinity(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Standardised taste match of each (user, item) pair (broadcasts like numpy).

        Pass ``users[:, None]`` and ``items[None, :]`` to get a whole user x item matrix
        (computed as one matrix product). The vectors lie on the grid of :func:`on_grid`, so
        both paths give exactly the same numbers on any BLAS kernel.
        """
        u = np.asarray(user_ids)
        i = np.asarray(item_ids)
        if u.ndim == 2 and i.ndim == 2 and u.shape[1] == 1 and i.shape[0] == 1:
            return self.user_vectors[u[:, 0]] @ self.item_vectors[i[0]].T
        return np.einsum("...d,...d->...", self.user_vectors[u], self.item_vectors[i])

    def _click(self, aff: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        return _sigmoid(CLICK_BIAS + CLICK_TASTE * aff + self.items["appeal"].to_numpy()[item_ids])

    def _watch(self, aff: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        return _sigmoid(WATCH_BIAS + WATCH_TASTE * aff + self.items["quality"].to_numpy()[item_ids])

    def click_probability(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """True probability of a click when the item is examined (top slot, no position bias)."""
        return self._click(self.affinity(user_ids, item_ids), np.asarray(item_ids))

    def watch_fraction(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """True expected watch fraction (0-1) given a click."""
        return self._watch(self.affinity(user_ids, item_ids), np.asarray(item_ids))

    def expected_satisfaction(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """True expected watch per impression in the top slot: P(click) x E[watch | click]."""
        aff, items = self.affinity(user_ids, item_ids), np.asarray(item_ids)
        return self._click(aff, items) * self._watch(aff, items)

    def satisfied_click_probability(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """True P(click and watch fraction >= 0.5) per impression in the top slot."""
        aff, items = self.affinity(user_ids, item_ids), np.asarray(item_ids)
        return self._click(aff, items) * _satisfied_share(self._watch(aff, items))

    def exposure_probability(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Expected number of times the logging policy shows the item to the user in one session."""
        user_ids = np.asarray(user_ids)
        item_ids = np.asarray(item_ids)
        pop = self.items["popularity"].to_numpy()[item_ids]
        cat = self.items["category"].to_numpy()[item_ids]
        personal = self._category_pref[user_ids, cat] * pop / self._category_pop_total[cat]
        return self.popular_slots * pop + (self.slate_size - self.popular_slots) * personal

    def logged_positive_rate(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """True expected satisfied clicks per session under the logging policy.

        The best possible score for an *offline* metric computed on held-out logged positives:
        it mixes taste with exposure, which is exactly why offline and online metrics differ.
        The position bias is averaged over the slate.
        """
        positions = np.arange(self.slate_size)
        mean_exam = float(np.mean(1.0 / (1.0 + positions) ** POSITION_DECAY))
        return (
            self.exposure_probability(user_ids, item_ids)
            * mean_exam
            * self.satisfied_click_probability(user_ids, item_ids)
        )

    # ----- the simulator ----------------------------------------------------------------------
    def simulate(
        self,
        policy: np.ndarray | Callable[[np.ndarray, int], np.ndarray],
        days: int,
        *,
        n_slots: int = 10,
        user_ids: np.ndarray | None = None,
        seed: int = 0,
        start_day: int | None = None,
    ) -> SimulationResult:
        """Run ``policy`` for ``days`` days and return what users did.

        ``policy`` is either an int array of shape (n_users, L) holding a ranked list of item ids
        per user (row i for ``user_ids[i]``; -1 pads short lists), or a function
        ``policy(active_user_ids, day) -> (n_active, L) array`` called once per day. Each day every
        user returns with a probability that grows with how satisfied their recent sessions were;
        a returning user is shown the first ``n_slots`` items of their list that they have not
        clicked yet during the run (a function policy decides itself what to show). Clicks follow
        the true click model with position bias; clicked items get a watch fraction.
        Deterministic for a given ``seed``.
        """
        days = check_int("days", days, 1, 365)
        n_slots = check_int("n_slots", n_slots, 1, 100)
        seed = check_seed(seed)
        all_users = np.arange(len(self.users)) if user_ids is None else np.asarray(user_ids, dtype=np.int64)
        if all_users.ndim != 1 or len(all_users) == 0:
            raise ValueError("user_ids must be a non-empty 1-D array of user ids")
        if all_users.min() < 0 or all_users.max() >= len(self.users):
            raise ValueError(f"user_ids must lie in [0, {len(self.users) - 1:,}]")
        fixed = None
        if not callable(policy):
            fixed = np.asarray(policy)
            if fixed.ndim != 2 or fixed.shape[0] != len(all_users) or not np.issubdtype(fixed.dtype, np.integer):
                raise ValueError(
                    f"policy must be an integer array of shape ({len(all_users)}, L) or a function; "
                    f"got shape {fixed.shape} and dtype {fixed.dtype}"
                )
            if fixed.max() >= len(self.items) or fixed.min() < -1:
                raise ValueError(f"policy item ids must lie in [0, {len(self.items) - 1:,}] (-1 pads)")
        rng = np.random.default_rng([seed, self.seed, 7])
        first_day = int(self.log["day"].max()) + 1 if start_day is None else int(start_day)
        base_logit = _logit(self.users["activity"].to_numpy()[all_users])
        mood = np.zeros(len(all_users))
        clicked_mask = None if fixed is None else np.zeros(fixed.shape, dtype=bool)
        exam = 1.0 / (1.0 + np.arange(n_slots)) ** POSITION_DECAY
        session_frames, impression_frames = [], []
        for offset in range(days):
            day = first_day + offset
            p_active = _sigmoid(base_logit + RETURN_SENSITIVITY * mood)
            active = rng.random(len(all_users)) < p_active
            rows = np.flatnonzero(active)
            if fixed is not None:
                lists = fixed[rows]
                usable = (lists >= 0) & ~clicked_mask[rows]
            else:
                lists = np.asarray(policy(all_users[rows], day))
                if lists.ndim != 2 or lists.shape[0] != len(rows):
                    raise ValueError(f"policy function must return shape ({len(rows)}, L); got {lists.shape}")
                if lists.size and (lists.max() >= len(self.items) or lists.min() < -1):
                    raise ValueError(f"policy item ids must lie in [0, {len(self.items) - 1:,}] (-1 pads)")
                usable = lists >= 0
            # first n_slots usable entries of each list, in list order
            order = np.argsort(~usable, axis=1, kind="stable")[:, :n_slots]
            shown = np.take_along_axis(lists, order, axis=1)
            shown_ok = np.take_along_axis(usable, order, axis=1)
            user_rep = np.repeat(all_users[rows], shown.shape[1]).reshape(shown.shape)
            safe_items = np.where(shown_ok, shown, 0)
            aff = self.affinity(user_rep, safe_items)  # once per day, for clicks and watch alike
            p_click = self._click(aff, safe_items) * exam[: shown.shape[1]]
            clicks = (rng.random(shown.shape) < p_click) & shown_ok
            mean_watch = self._watch(aff, safe_items)
            watch = np.where(clicks, _beta_draw(rng, mean_watch), 0.0)
            if fixed is not None:
                col = np.take_along_axis(np.broadcast_to(np.arange(lists.shape[1]), lists.shape), order, axis=1)
                hit_rows = np.repeat(rows, shown.shape[1]).reshape(shown.shape)[clicks]
                clicked_mask[hit_rows, col[clicks]] = True
            session_score = np.sum(np.where(clicks, watch - DISAPPOINT_AT, 0.0), axis=1)
            new_mood = mood.copy()
            new_mood[rows] = MOOD_MEMORY * mood[rows] + session_score
            mood = np.where(active, new_mood, MOOD_MEMORY * mood)
            n_shown = shown_ok.sum(axis=1)
            session_frames.append(
                pd.DataFrame(
                    {
                        "user_id": all_users,
                        "day": day,
                        "active": active,
                        "impressions": _scatter(len(all_users), rows, n_shown),
                        "clicks": _scatter(len(all_users), rows, clicks.sum(axis=1)),
                        "watch": _scatter(len(all_users), rows, watch.sum(axis=1)),
                        "satisfied_clicks": _scatter(len(all_users), rows, (watch >= SATISFIED_AT).sum(axis=1)),
                    }
                )
            )
            pos = np.broadcast_to(np.arange(shown.shape[1]), shown.shape)
            impression_frames.append(
                pd.DataFrame(
                    {
                        "user_id": user_rep[shown_ok],
                        "item_id": shown[shown_ok],
                        "day": day,
                        "position": pos[shown_ok],
                        "clicked": clicks[shown_ok],
                        "watch_fraction": watch[shown_ok],
                    }
                )
            )
        sessions = pd.concat(session_frames, ignore_index=True)
        sessions["active"] = sessions["active"].astype(np.int64)
        impressions = pd.concat(impression_frames, ignore_index=True)
        return SimulationResult(sessions=sessions, impressions=impressions)


def make_world(
    seed: int = 0,
    *,
    n_users: int = 5_000,
    n_items: int = 10_000,
    n_categories: int = 20,
    days: int = 28,
    dim: int = 16,
    popularity_exponent: float = 1.0,
    clickbait_share: float = 0.08,
    slate_size: int = 20,
    popular_slots: int = 6,
) -> RecsysWorld:
    """Build the recommendations world.

    Knobs: ``n_users`` [100, 1,000,000], ``n_items`` [100, 1,000,000], ``n_categories`` [2, 200],
    ``days`` of logged history [7, 365], latent ``dim`` [2, 128], ``popularity_exponent`` of the
    power law [0, 2] (0 = flat), ``clickbait_share`` of items [0, 0.5], ``slate_size`` of the
    logging policy [2, 100] and how many of those slots go to globally ``popular_slots``
    [0, slate_size]. Returns a :class:`RecsysWorld`; the log holds one row per impression.
    """
    seed = check_seed(seed)
    n_users = check_int("n_users", n_users, 100, 1_000_000)
    n_items = check_int("n_items", n_items, 100, 1_000_000)
    n_categories = check_int("n_categories", n_categories, 2, 200)
    days = check_int("days", days, 7, 365)
    dim = check_int("dim", dim, 2, 128)
    popularity_exponent = check_float("popularity_exponent", popularity_exponent, 0.0, 2.0)
    clickbait_share = check_float("clickbait_share", clickbait_share, 0.0, 0.5)
    slate_size = check_int("slate_size", slate_size, 2, 100)
    popular_slots = check_int("popular_slots", popular_slots, 0, slate_size)
    rng = np.random.default_rng(seed)

    # Items: a category centre plus noise; power-law popularity; appeal and quality.
    centres = rng.normal(size=(n_categories, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    centres = on_grid(centres)  # every dot product below is exact: no BLAS-dependent near-ties
    category = rng.integers(0, n_categories, size=n_items)
    item_vec = on_grid(0.8 * centres[category] + rng.normal(scale=0.6 / np.sqrt(dim), size=(n_items, dim)))
    rank = rng.permutation(n_items) + 1
    popularity = rank.astype(float) ** -popularity_exponent
    popularity /= popularity.sum()
    clickbait = rng.random(n_items) < clickbait_share
    appeal = rng.normal(0.0, 0.3, n_items) + np.where(clickbait, 1.4, 0.0)
    quality = rng.normal(0.0, 0.5, n_items) - np.where(clickbait, 2.2, 0.0)
    release_day = np.where(rng.random(n_items) < 0.15, rng.integers(0, days, n_items), -1)

    # Users: a mix of one or two favourite categories; heavy-tailed activity.
    fav1 = rng.integers(0, n_categories, size=n_users)
    fav2 = rng.integers(0, n_categories, size=n_users)
    mix = rng.uniform(0.5, 1.0, size=(n_users, 1))
    user_vec = mix * centres[fav1] + (1 - mix) * centres[fav2]
    user_vec = user_vec + rng.normal(scale=0.5 / np.sqrt(dim), size=(n_users, dim))
    user_vec = on_grid(user_vec * (2.2 / np.linalg.norm(user_vec, axis=1, keepdims=True)))
    activity = np.clip(rng.beta(0.9, 2.2, size=n_users), 0.02, 0.95)

    # The logging policy's category preference per user: softmax of taste towards category centres.
    cat_logit = 2.5 * (user_vec @ centres.T)  # exact product of grid vectors, then one rounding
    cat_pref = np.exp(cat_logit - cat_logit.max(axis=1, keepdims=True))
    cat_pref /= cat_pref.sum(axis=1, keepdims=True)
    cat_pop_total = np.bincount(category, weights=popularity, minlength=n_categories)

    users = pd.DataFrame(
        {"user_id": np.arange(n_users), "favourite_category": fav1, "activity": activity}
    )
    items = pd.DataFrame(
        {
            "item_id": np.arange(n_items),
            "category": category,
            "popularity": popularity,
            "appeal": appeal,
            "quality": quality,
            "clickbait": clickbait,
            "release_day": release_day,
        }
    )
    world = RecsysWorld(
        users=users,
        items=items,
        log=pd.DataFrame(),
        user_vectors=user_vec,
        item_vectors=item_vec,
        seed=seed,
        slate_size=slate_size,
        popular_slots=popular_slots,
        _category_pref=cat_pref,
        _category_pop_total=cat_pop_total,
    )
    world.log = _logging_policy_log(world, rng, days, release_day)
    return world


def _logging_policy_log(world: RecsysWorld, rng: np.random.Generator, days: int, release_day: np.ndarray) -> pd.DataFrame:
    """Impressions of the legacy policy: popular slots + favourite-category slots, then clicks."""
    n_users = len(world.users)
    activity = world.users["activity"].to_numpy()
    active = rng.random((days, n_users)) < activity  # (day, user)
    day_idx, user_idx = np.nonzero(active)
    n_sessions = len(user_idx)
    slots = world.slate_size
    pop = world.items["popularity"].to_numpy()
    category = world.items["category"].to_numpy()
    # popular slots: draw from the global popularity distribution
    cdf = np.cumsum(pop)
    popular = np.searchsorted(cdf, rng.random((n_sessions, world.popular_slots)) * cdf[-1])
    # personal slots: a category from the user's preference, then an item of it by popularity
    n_personal = slots - world.popular_slots
    pref_cdf = np.cumsum(world._category_pref[user_idx], axis=1)
    draws = rng.random((n_sessions, n_personal))
    cats = (draws[:, :, None] > pref_cdf[:, None, :]).sum(axis=2)
    cats = np.minimum(cats, pref_cdf.shape[1] - 1)
    order = np.argsort(category, kind="stable")
    cat_sorted = category[order]
    within_cdf = np.cumsum(pop[order])
    start = np.searchsorted(cat_sorted, np.arange(pref_cdf.shape[1]), side="left")
    end = np.searchsorted(cat_sorted, np.arange(pref_cdf.shape[1]), side="right")
    lo = np.where(start > 0, within_cdf[np.maximum(start - 1, 0)], 0.0)
    hi = within_cdf[end - 1]
    target = lo[cats] + rng.random(cats.shape) * (hi[cats] - lo[cats])
    personal = order[np.minimum(np.searchsorted(within_cdf, target), len(order) - 1)]
    shown = np.concatenate([popular, personal], axis=1)
    shown = np.take_along_axis(shown, rng.permuted(np.tile(np.arange(slots), (n_sessions, 1)), axis=1), axis=1)
    users_rep = np.repeat(user_idx, slots).reshape(n_sessions, slots)
    exam = 1.0 / (1.0 + np.arange(slots)) ** POSITION_DECAY
    aff = world.affinity(users_rep, shown)  # one taste match per impression, for clicks and watch
    p_click = world._click(aff, shown) * exam
    clicked = rng.random(shown.shape) < p_click
    watch = np.where(clicked, _beta_draw(rng, world._watch(aff, shown)), 0.0)
    seconds = rng.integers(0, 86_400, size=n_sessions)
    log = pd.DataFrame(
        {
            "user_id": users_rep.ravel(),
            "item_id": shown.ravel(),
            "day": np.repeat(day_idx, slots),
            "timestamp": np.repeat(day_idx * 86_400 + seconds, slots),
            "position": np.tile(np.arange(slots), n_sessions),
            "clicked": clicked.ravel(),
            "watch_fraction": watch.ravel(),
        }
    )
    # items released during the window cannot be shown before their release day
    released = release_day[log["item_id"].to_numpy()] <= log["day"].to_numpy()
    log = log[released].sort_values(["timestamp", "user_id", "position"], kind="stable")
    log["satisfied"] = log["watch_fraction"] >= SATISFIED_AT
    return log.reset_index(drop=True)


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (0 = equal exposure, ~1 = one item gets all)."""
    x = np.sort(np.asarray(counts, dtype=float))
    if x.size == 0 or x.sum() == 0:
        return 0.0
    n = x.size
    cum = np.cumsum(x)
    return float((n + 1 - 2 * np.sum(cum) / cum[-1]) / n)


REQUIRED_COLUMNS = ("user_id", "item_id", "timestamp")
MIN_ROWS, MIN_USERS, MIN_ITEMS = 100, 10, 50  # below these the notebook's steps have nothing to learn from


def load_interactions(path: str | Path, *, positive_at: float | None = None) -> pd.DataFrame:
    """Load and validate a CSV of interactions for the bring-your-own-data path.

    Required columns: ``user_id``, ``item_id`` (any hashable ids), ``timestamp`` (seconds since
    the epoch, or anything :func:`pandas.to_datetime` parses; numeric timestamps beyond the year
    5138 in seconds are read as milliseconds, beyond that as microseconds). Optional: ``rating``
    or ``weight`` (a number; higher means a stronger positive). A row is a **positive** when its
    rating is at least ``positive_at`` (default: above 0); without a rating column every row is.
    Returns ``user_id, item_id, timestamp`` (float seconds), ``weight`` (1.0 when absent),
    ``positive``, and integer codes ``user`` and ``item``, sorted by time; ``.attrs`` records the
    timestamp unit found. Raises FileNotFoundError naming the file, or ValueError naming the
    missing or bad column, or the problem (fewer than 100 rows, 10 users or 50 items; no positive).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"DATA_PATH: no such file: {path}")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name}: not a readable CSV ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(
            f"{path.name}: missing column(s) {missing}; need {list(REQUIRED_COLUMNS)} "
            f"(optional: rating or weight); found {list(raw.columns)}"
        )
    if len(raw) == 0:
        raise ValueError(f"{path.name}: no rows")
    for col in ("user_id", "item_id"):
        if raw[col].isna().any():
            raise ValueError(f"{path.name}: column {col!r} has {int(raw[col].isna().sum())} empty value(s)")
    seconds, unit = _seconds(raw["timestamp"], path.name)
    weight_col = "weight" if "weight" in raw.columns else ("rating" if "rating" in raw.columns else None)
    if weight_col is None:
        weight = pd.Series(1.0, index=raw.index)
    else:
        weight = pd.to_numeric(raw[weight_col], errors="coerce")
        if weight.isna().any():
            raise ValueError(f"{path.name}: column {weight_col!r} must be numeric; {int(weight.isna().sum())} bad value(s)")
    if weight_col is None:
        positive = np.ones(len(raw), dtype=bool)
    elif positive_at is None:
        positive = weight.to_numpy(dtype=float) > 0
    else:
        positive = weight.to_numpy(dtype=float) >= float(positive_at)
    out = pd.DataFrame(
        {
            "user_id": raw["user_id"].astype(str),
            "item_id": raw["item_id"].astype(str),
            "timestamp": seconds,
            "weight": weight.to_numpy(dtype=float),
            "positive": positive,
        }
    )
    _check_usable(out, path.name, weight_col, positive_at)
    out["user"] = pd.factorize(out["user_id"], sort=True)[0]
    out["item"] = pd.factorize(out["item_id"], sort=True)[0]
    out = out.sort_values("timestamp", kind="stable").reset_index(drop=True)
    out.attrs["timestamp_unit"] = unit
    return out


def _seconds(ts: pd.Series, name: str) -> tuple[np.ndarray, str]:
    """Timestamps as float seconds since the epoch, and the unit they were given in."""
    unit = "seconds"
    if pd.api.types.is_numeric_dtype(ts):
        seconds = ts.astype(float)
        top = float(np.nanmax(np.abs(seconds.to_numpy()))) if seconds.notna().any() else 0.0
        for limit, divisor, name_ in ((1e17, 1e9, "nanoseconds"), (1e14, 1e6, "microseconds"), (1e11, 1e3, "milliseconds")):
            if top >= limit:  # 1e11 s is the year 5138: such values are finer units
                seconds, unit = seconds / divisor, name_
                break
    else:
        parsed = pd.to_datetime(ts, errors="coerce", utc=True, format="mixed")
        seconds = (parsed - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()
        unit = "dates"
    if seconds.isna().any() or not np.isfinite(seconds.to_numpy()).all():
        bad = int(seconds.isna().sum())
        raise ValueError(f"{name}: column 'timestamp' has {bad} value(s) that are not numbers or dates")
    return seconds.to_numpy(dtype=float), unit


def _check_usable(data: pd.DataFrame, name: str, weight_col: str | None, positive_at: float | None) -> None:
    """Clear errors for logs too small to split, embed and rank, or without a single positive."""
    n_users, n_items = data["user_id"].nunique(), data["item_id"].nunique()
    if len(data) < MIN_ROWS:
        raise ValueError(f"{name}: only {len(data)} rows; the notebook needs at least {MIN_ROWS} interactions "
                         "to split them in time and still learn something")
    if n_items < MIN_ITEMS:
        raise ValueError(f"{name}: only {n_items} distinct items; the notebook needs at least {MIN_ITEMS} "
                         "(it retrieves candidates and ranks the top 10 of them)")
    if n_users < MIN_USERS:
        raise ValueError(f"{name}: only {n_users} distinct users; the notebook needs at least {MIN_USERS}")
    if data["timestamp"].nunique() < 2:
        raise ValueError(f"{name}: every row has the same timestamp ({data['timestamp'].iloc[0]:g}); "
                         "the notebook splits the log in time and needs the time of each interaction")
    per_user = data.groupby("user_id").size()
    if per_user.max() < 2:
        raise ValueError(f"{name}: every user has exactly one row ({n_users} users); the notebook needs users "
                         "with a history before their test period (at least two rows each)")
    if not data["positive"].any():
        rule = "every row" if weight_col is None else (
            f"{weight_col} > 0" if positive_at is None else f"{weight_col} >= {positive_at} (POSITIVE_AT)")
        top = data["weight"].max()
        raise ValueError(f"{name}: no positive interaction: no row has {rule} (largest {weight_col}: {top:g}); "
                         "lower POSITIVE_AT or check the column")


# ----- small numeric helpers ------------------------------------------------------------------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p / (1.0 - p))


def _beta_draw(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(mean * WATCH_PRECISION, (1 - mean) * WATCH_PRECISION)


_SHARE_GRID = np.linspace(1e-3, 1 - 1e-3, 2001)
_SHARE_TABLE: np.ndarray | None = None


def _satisfied_share(mean: np.ndarray) -> np.ndarray:
    """P(watch >= 0.5) under the Beta watch model with this mean (tabulated, then interpolated)."""
    global _SHARE_TABLE
    if _SHARE_TABLE is None:
        from scipy.special import betainc  # scipy ships with scikit-learn

        g = _SHARE_GRID
        _SHARE_TABLE = 1.0 - betainc(g * WATCH_PRECISION, (1 - g) * WATCH_PRECISION, SATISFIED_AT)
    # linear interpolation on the uniform grid by direct indexing (np.interp's binary search is
    # ~5x slower, and the oracle asks for millions of values at once)
    lo, step = _SHARE_GRID[0], (_SHARE_GRID[-1] - _SHARE_GRID[0]) / (len(_SHARE_GRID) - 1)
    pos = (np.clip(mean, lo, _SHARE_GRID[-1]) - lo) / step
    j = np.minimum(pos.astype(np.intp), len(_SHARE_GRID) - 2)
    return _SHARE_TABLE[j] + (pos - j) * (_SHARE_TABLE[j + 1] - _SHARE_TABLE[j])


def _scatter(n: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.zeros(n, dtype=np.asarray(values).dtype if len(values) else float)
    out[rows] = values
    return out
