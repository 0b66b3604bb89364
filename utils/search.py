"""The search world: documents, queries, graded relevance and position-biased click logs.

One call, :func:`make_search_world`, builds everything from a ``seed`` and a few knobs:

- ``documents``: one row per document, with a topic, a quality and an age (freshness), and token
  text made of pseudo-words, so keyword scoring (BM25) works on it for real;
- ``queries``: one row per distinct query, with a topic, an intent (informational, navigational,
  fresh) and a heavy-tailed (Zipf-like) share of traffic;
- graded relevance 0-4 for *every* query-document pair, as ground truth
  (:meth:`SearchWorld.relevance`);
- ``clicks``: the click log of a decent production ranker's top-10 lists (the ten best keyword
  matches, ordered by match, quality and "authority", which favours old pages and ignores
  freshness) under the click model of :mod:`utils.search_clicks` (position bias, noisy
  attractiveness with query and user variation, trust bias, a cascade). A small share of traffic
  (``random_share``) gets an intervention — the same ten results in a random order, or the top
  result swapped with one lower down — which is what makes position bias estimable from the log;
- a simulator (:meth:`SearchWorld.simulate`) and the exact success probability of any ranking
  (:meth:`SearchWorld.success_probability`), so interleaving and A/B tests run against known truth.

Everything is vectorised numpy/pandas and deterministic per seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from utils.search_clicks import click_curve, examination_curve, simulate_clicks, success_probability
from utils.validate import check_choice, check_float, check_int, check_seed

__all__ = ["INTENTS", "PAGE_SIZE", "SearchWorld", "click_curve", "examination_curve", "ipw_weights", "make_search_world"]

INTENTS: tuple[str, ...] = ("informational", "navigational", "fresh")
#: Number of result slots on a page; the planted examination curve covers these ranks.
PAGE_SIZE = 10
#: Size of the production ranker's candidate pool per query (the top of its legacy score).
POOL_SIZE = 20
#: Grade thresholds on the latent relevance utility: below 0.7 is grade 0, above 2.2 grade 4.
GRADE_CUTS = np.array([0.7, 1.2, 1.7, 2.2])
# The production (legacy) ranker: weights of quality, age ("authority") and its own quirks, and
# the per-impression jitter of its order. It is a decent ranker: it rewards quality (which relevance
# rewards most) but also old pages, and ignores freshness.
_LEGACY_QUALITY = 0.5
_LEGACY_AGE = 0.2
#: Logit bonus of a result whose snippet shows every query word (bold terms attract clicks).
ATTRACT_MATCH = 1.0
# Spread (sd, logits) of the per-query clickiness.
_QUERY_CLICKINESS = 0.5
_LEGACY_NOISE = 0.1
_JITTER = 0.1
# Relevance: how much freshness matters for every query, and extra for fresh-intent queries.
_FRESH_ALL = 1.0
_FRESH_INTENT = 2.2
_GENERAL_WORDS = 400
_TOPIC_WORDS = 60
_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _vocabulary(rng: np.random.Generator, size: int) -> np.ndarray:
    """``size`` distinct pseudo-words of two or three syllables ("kalo", "mipedu", ...)."""
    n = len(_SYLLABLES)
    two = np.array([a + b for a in _SYLLABLES for b in _SYLLABLES])
    three_idx = rng.choice(n**3, size=size, replace=False)
    three = np.array(
        [_SYLLABLES[i // n**2] + _SYLLABLES[(i // n) % n] + _SYLLABLES[i % n] for i in three_idx]
    )
    words = np.concatenate([rng.permutation(two), three])
    return words[:size]


def _zipf_probs(n: int, exponent: float) -> np.ndarray:
    weights = np.arange(1, n + 1, dtype=float) ** -exponent
    return weights / weights.sum()


def _pair_noise(query_ids: np.ndarray, doc_ids: np.ndarray, n_docs: int, seed: int) -> np.ndarray:
    """Deterministic logistic noise per (query, document) pair, from a splitmix64 hash."""
    x = query_ids.astype(np.uint64) * np.uint64(n_docs) + doc_ids.astype(np.uint64)
    x = x + np.uint64((seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) % 2**64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    x = x ^ (x >> np.uint64(31))
    u = ((x >> np.uint64(11)).astype(float) + 0.5) / 2.0**53
    return np.log(u / (1.0 - u))


def _join_words(words: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Join ``words`` into one space-separated string per group (``groups`` sorted, none empty)."""
    ends = np.searchsorted(groups, np.arange(n_groups), side="right")
    if np.any(np.diff(np.concatenate([[0], ends])) == 0):
        raise ValueError("every group needs at least one word")
    with_breaks = np.insert(words.astype(object), ends, "\n")
    return np.array((" ".join(with_breaks.tolist()) + " ").split(" \n ")[:n_groups], dtype=object)


def ipw_weights(positions: np.ndarray, propensity: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Inverse-propensity weight 1 / max(propensity, floor) of each logged position (1-based).

    ``propensity`` holds one estimate per rank (rank 1 first); ``floor`` [0, 1] clips it from
    below. A rank whose floored propensity is 0 or not finite (a small log with no click there)
    would give an infinite weight, so it raises ``ValueError`` naming the ranks: raise the floor.
    """
    floor = check_float("floor", floor, 0.0, 1.0)
    pos = np.asarray(positions, dtype=np.int64)
    prop = np.maximum(np.asarray(propensity, dtype=float), floor)
    if pos.size and (pos.min() < 1 or pos.max() > len(prop)):
        raise ValueError(f"positions must lie in [1, {len(prop)}]; got values from {pos.min()} to {pos.max()}")
    used = np.unique(pos) - 1
    bad = used[~(np.isfinite(prop[used]) & (prop[used] > 0))]
    if bad.size:
        raise ValueError(
            f"propensity is 0 or not finite at rank(s) {(bad + 1).tolist()} with floor={floor}: "
            "the weight 1 / propensity would be infinite; set floor > 0 (e.g. 0.05) or log more clicks"
        )
    return 1.0 / prop[pos - 1]


@dataclass(frozen=True)
class SearchWorld:
    """A built search world. DataFrames plus the planted ground truth and a click simulator."""

    documents: pd.DataFrame
    queries: pd.DataFrame
    clicks: pd.DataFrame
    examination: np.ndarray
    position_bias: float
    random_share: float
    attract_noise: float
    trust_bias: float
    cascade_stop: float
    seed: int
    user_taste: float
    _doc_terms: sparse.csr_matrix = field(repr=False)
    _query_terms: np.ndarray = field(repr=False)
    _pool: np.ndarray = field(repr=False)
    _pool_score: np.ndarray = field(repr=False)
    _pool_authority: np.ndarray = field(repr=False)
    _pool_grade: np.ndarray = field(repr=False)
    _query_clickiness: np.ndarray = field(repr=False)

    # ---------------------------------------------------------------- ground truth
    def relevance(self, query_ids: np.ndarray, doc_ids: np.ndarray) -> np.ndarray:
        """True relevance grade 0-4 for each (query, document) pair (arrays of equal shape)."""
        q = np.asarray(query_ids, dtype=np.int64)
        d = np.asarray(doc_ids, dtype=np.int64)
        if q.shape != d.shape:
            raise ValueError(f"query_ids and doc_ids must have the same shape; got {q.shape} and {d.shape}")
        shape = q.shape
        q, d = q.ravel(), d.ravel()
        for name, ids, n in (("query_ids", q, len(self.queries)), ("doc_ids", d, len(self.documents))):
            if ids.size and (ids.min() < 0 or ids.max() >= n):
                raise ValueError(f"{name} must lie in [0, {n - 1:,}]; got values from {ids.min()} to {ids.max()}")
        docs, queries = self.documents, self.queries
        overlap = self._overlap(q, d)
        on_topic = (docs["topic"].to_numpy()[d] == queries["topic"].to_numpy()[q]).astype(float)
        quality = docs["quality"].to_numpy()[d]
        freshness = docs["freshness"].to_numpy()[d]
        wants_fresh = (queries["intent"].to_numpy()[q] == "fresh").astype(float)
        utility = (
            on_topic * (
                0.1 + 1.1 * overlap + 2.6 * (quality - 0.5)
                + (_FRESH_ALL + wants_fresh * _FRESH_INTENT) * (freshness - 0.4)
            )
            + (1.0 - on_topic) * 0.4 * overlap
            + 0.25 * _pair_noise(q, d, len(docs), self.seed)
        )
        grade = np.digitize(utility, GRADE_CUTS).astype(np.int8)
        target = queries["target_doc"].to_numpy()[q]
        grade[target == d] = 4
        return grade.reshape(shape)

    def _overlap(self, q: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Share of the query's words that the document contains (1-D arrays of equal length)."""
        terms = self._query_terms[q]  # (n, 3), -1 padded
        valid = terms >= 0
        present = np.zeros(terms.shape, dtype=float)
        rows, cols = np.nonzero(valid)
        present[rows, cols] = np.asarray(self._doc_terms[d[rows], terms[rows, cols]]).ravel()
        return present.sum(axis=1) / valid.sum(axis=1)

    # ---------------------------------------------------------------- traffic and clicks
    def sample_queries(self, n: int, seed: int = 0, query_ids: np.ndarray | None = None) -> np.ndarray:
        """``n`` query ids drawn from the Zipf-like traffic (optionally restricted to ``query_ids``)."""
        n = check_int("n", n, 1, 100_000_000)
        rng = np.random.default_rng(check_seed(seed))
        freq = self.queries["frequency"].to_numpy()
        ids = np.arange(len(freq)) if query_ids is None else np.asarray(query_ids, dtype=np.int64)
        p = freq[ids] / freq[ids].sum()
        return ids[rng.choice(len(ids), size=n, p=p)]

    def pair_logit(self, query_ids: np.ndarray, doc_ids: np.ndarray) -> np.ndarray:
        """Logit terms of attractiveness beside the grade: what makes clicks disagree with judges.

        A snippet term per pair (noise, sd ``attract_noise``), the query's clickiness, the
        share of query words in the document (shown in bold in the snippet, which draws clicks
        whatever the page's quality: Yue et al. 2010), and users' taste for short pages:
        ``-user_taste`` logits per sd of document length. Judges do not reward length, but a ranker
        sees it as a feature, so clicks systematically teach it something judges disagree with.
        """
        q = np.asarray(query_ids, dtype=np.int64)
        d = np.asarray(doc_ids, dtype=np.int64)
        snippet = _pair_noise(q.ravel(), d.ravel(), len(self.documents), self.seed + 2).reshape(q.shape)
        bold = self._overlap(q.ravel(), d.ravel()).reshape(q.shape) - 0.5
        length = self.documents["length"].to_numpy()
        short = -(length[d] - length.mean()) / length.std()
        return (self.attract_noise * snippet / (np.pi / np.sqrt(3.0)) + self._query_clickiness[q]
                + ATTRACT_MATCH * bold + self.user_taste * short)

    def _check_rankings(self, query_ids: np.ndarray, rankings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(query_ids, dtype=np.int64)
        ranked = np.asarray(rankings, dtype=np.int64)
        if ranked.ndim != 2 or ranked.shape[0] != q.shape[0] or not 1 <= ranked.shape[1] <= PAGE_SIZE:
            raise ValueError(
                f"rankings must be an (n, k) array with n = len(query_ids) = {q.shape[0]} and "
                f"k in [1, {PAGE_SIZE}]; got shape {ranked.shape}"
            )
        return q, ranked

    def _page_terms(self, q: np.ndarray, ranked: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        valid = ranked >= 0
        qq = np.broadcast_to(q[:, None], ranked.shape)
        docs = np.where(valid, ranked, 0)
        return self.relevance(qq, docs) * valid, self.pair_logit(qq, docs), valid

    def simulate(self, query_ids: np.ndarray, rankings: np.ndarray, seed: int = 0) -> np.ndarray:
        """Clicks (bool, same shape as ``rankings``) of users shown ``rankings`` for ``query_ids``.

        ``rankings`` is an (n, k) array of document ids, k <= 10, best first; -1 marks an empty
        slot (never clicked). Users follow the world's click model (:mod:`utils.search_clicks`).
        """
        q, ranked = self._check_rankings(query_ids, rankings)
        grades, logit, valid = self._page_terms(q, ranked)
        rng = np.random.default_rng(check_seed(seed))
        return simulate_clicks(grades, logit, valid, self.examination, self.trust_bias, self.cascade_stop, rng)[0]

    def success_probability(self, query_ids: np.ndarray, rankings: np.ndarray) -> np.ndarray:
        """Exact P(at least one click) of each page (shape (n,)), from the planted click model."""
        q, ranked = self._check_rankings(query_ids, rankings)
        grades, logit, valid = self._page_terms(q, ranked)
        return success_probability(grades, logit, valid, self.examination, self.trust_bias)

    def click_log(
        self,
        n_impressions: int,
        position_bias: float | None = None,
        random_share: float | None = None,
        seed: int = 0,
        n_days: int = 28,
        authority_weight: float = 1.0,
        intervention: str = "shuffle",
    ) -> pd.DataFrame:
        """A fresh click log from the production ranker (same world, optionally another bias).

        ``authority_weight`` [0, 5] scales the quality-and-age term in the production ranker's page
        order: 1.0 is the world's legacy ranker, 0.0 orders the page by keyword match alone.
        ``intervention`` says what the ``random_share`` slice sees: ``"shuffle"`` (the top ten by
        match in a uniformly random order) or ``"swap"`` (the production page with its first result
        swapped with the one at a uniformly drawn rank 2-10, logged in ``swap_rank``).

        One row per shown result: ``impression_id, day, query_id, randomised, swap_rank, position,
        doc_id, clicked``, plus the ground-truth columns ``examined`` and ``true_grade`` (never features).
        """
        n_impressions = check_int("n_impressions", n_impressions, 1, 20_000_000)
        bias = self.position_bias if position_bias is None else check_float("position_bias", position_bias, 0.0, 3.0)
        share = self.random_share if random_share is None else check_float("random_share", random_share, 0.0, 0.5)
        n_days = check_int("n_days", n_days, 1, 3650)
        authority_weight = check_float("authority_weight", authority_weight, 0.0, 5.0)
        check_choice("intervention", intervention, ("shuffle", "swap"))
        rng = np.random.default_rng(check_seed(seed))
        q = np.sort(self.sample_queries(n_impressions, seed=int(rng.integers(2**32))))
        q = rng.permutation(q)
        day = np.sort(rng.integers(0, n_days, size=n_impressions))
        randomised = rng.random(n_impressions) < share
        # Production: top 10 of the pool by keyword match plus per-impression noise (Gumbel),
        # shown in order of match plus quality and authority.
        noisy = self._pool_score[q] + _JITTER * rng.gumbel(size=(n_impressions, POOL_SIZE))
        slots = np.argsort(-noisy, axis=1, kind="stable")[:, :PAGE_SIZE]
        key = np.take_along_axis(noisy + authority_weight * self._pool_authority[q], slots, axis=1)
        slots = np.take_along_axis(slots, np.argsort(-key, axis=1, kind="stable"), axis=1)
        swap_rank = np.zeros(n_impressions, dtype=np.int8)
        if intervention == "shuffle":  # the deterministic top 10, in a uniformly random order
            shuffle = np.argsort(rng.random((n_impressions, PAGE_SIZE)), axis=1)
            slots[randomised] = shuffle[randomised]
        else:  # swap the first result with the one at rank k (k uniform in 2..10)
            k = rng.integers(2, PAGE_SIZE + 1, size=n_impressions)
            rows = np.nonzero(randomised)[0]
            first, other = slots[rows, 0].copy(), slots[rows, k[rows] - 1].copy()
            slots[rows, 0], slots[rows, k[rows] - 1] = other, first
            swap_rank[rows] = k[rows]
        shown = np.take_along_axis(self._pool[q], slots, axis=1)
        grades = np.take_along_axis(self._pool_grade[q], slots, axis=1)
        logit = self.pair_logit(np.broadcast_to(q[:, None], shown.shape), shown)
        clicked, examined = simulate_clicks(
            grades, logit, np.ones(shown.shape, dtype=bool), examination_curve(bias),
            self.trust_bias, self.cascade_stop, rng,
        )
        return pd.DataFrame(
            {
                "impression_id": np.repeat(np.arange(n_impressions), PAGE_SIZE),
                "day": np.repeat(day, PAGE_SIZE).astype(np.int16),
                "query_id": np.repeat(q, PAGE_SIZE),
                "randomised": np.repeat(randomised, PAGE_SIZE),
                "swap_rank": np.repeat(swap_rank, PAGE_SIZE),
                "position": np.tile(np.arange(1, PAGE_SIZE + 1, dtype=np.int8), n_impressions),
                "doc_id": shown.ravel(),
                "clicked": clicked.ravel(),
                "examined": examined.ravel(),
                "true_grade": grades.ravel(),
            }
        )


def make_search_world(
    seed: int = 0,
    n_documents: int = 8_000,
    n_queries: int = 1_500,
    n_impressions: int = 300_000,
    n_topics: int = 20,
    position_bias: float = 1.0,
    random_share: float = 0.05,
    attract_noise: float = 0.8,
    trust_bias: float = 0.15,
    cascade_stop: float = 0.5,
    user_taste: float = 0.5,
    query_zipf: float = 1.0,
    n_days: int = 28,
) -> SearchWorld:
    """Build the search world.

    Knobs (a bad value raises ``ValueError`` naming the knob, the value and the valid range):
    ``n_documents`` [500, 1,000,000], ``n_queries`` [50, 1,000,000], ``n_impressions``
    [1,000, 20,000,000] (impressions in the click log, 10 rows each), ``n_topics`` [2, 200],
    ``position_bias`` [0, 3] (examination at rank r is ``r ** -position_bias``), ``random_share``
    [0, 0.5] (share of impressions with an intervention), ``attract_noise`` [0, 2] (sd, in logits, of
    the snippet term that makes clicks disagree with grades), ``trust_bias`` [0, 0.5] (extra click
    probability of an examined, unattractive result at rank 1; it falls like examination),
    ``cascade_stop`` [0, 1] (P(leave) after clicking a grade-4 result), ``user_taste`` [0, 2]
    (logits of click appeal per sd of shortness: a preference judges do not share), ``query_zipf`` [0, 3] (exponent of the query
    frequency law), ``n_days`` [1, 3650] (days the log spans).
    """
    seed = check_seed(seed)
    n_docs = check_int("n_documents", n_documents, 500, 1_000_000)
    n_q = check_int("n_queries", n_queries, 50, 1_000_000)
    n_impressions = check_int("n_impressions", n_impressions, 1_000, 20_000_000)
    n_topics = check_int("n_topics", n_topics, 2, 200)
    position_bias = check_float("position_bias", position_bias, 0.0, 3.0)
    random_share = check_float("random_share", random_share, 0.0, 0.5)
    attract_noise = check_float("attract_noise", attract_noise, 0.0, 2.0)
    trust_bias = check_float("trust_bias", trust_bias, 0.0, 0.5)
    cascade_stop = check_float("cascade_stop", cascade_stop, 0.0, 1.0)
    user_taste = check_float("user_taste", user_taste, 0.0, 2.0)
    query_zipf = check_float("query_zipf", query_zipf, 0.0, 3.0)
    n_days = check_int("n_days", n_days, 1, 3650)
    rng = np.random.default_rng(seed)

    # Vocabulary: general words shared by all topics, then a block of words per topic.
    n_vocab = _GENERAL_WORDS + n_topics * _TOPIC_WORDS
    vocab = _vocabulary(rng, n_vocab)
    general_p = _zipf_probs(_GENERAL_WORDS, 1.0)
    topic_p = _zipf_probs(_TOPIC_WORDS, 0.8)

    # Documents.
    doc_topic = rng.integers(0, n_topics, size=n_docs)
    quality = rng.beta(2.0, 2.0, size=n_docs)
    age_days = np.round(rng.exponential(120.0, size=n_docs)).astype(np.int64)
    freshness = np.exp(-age_days / 60.0)
    length = 20 + rng.poisson(40, size=n_docs)
    tok_doc = np.repeat(np.arange(n_docs), length)
    is_topic = rng.random(tok_doc.size) < 0.4
    tokens = np.where(
        is_topic,
        _GENERAL_WORDS + doc_topic[tok_doc] * _TOPIC_WORDS + rng.choice(_TOPIC_WORDS, tok_doc.size, p=topic_p),
        rng.choice(_GENERAL_WORDS, tok_doc.size, p=general_p),
    )

    # Queries: one to three topic words; navigational queries name a target document.
    q_topic = rng.integers(0, n_topics, size=n_q)
    intent = rng.choice(len(INTENTS), size=n_q, p=[0.6, 0.2, 0.2])
    n_terms = rng.choice([1, 2, 3], size=n_q, p=[0.3, 0.45, 0.25])
    n_terms = np.where(intent == 1, np.maximum(n_terms, 2), n_terms)
    # Pick distinct words within the topic block: a random ranking of the block, biased to common words.
    keys = rng.random((n_q, _TOPIC_WORDS)) ** (1.0 / (topic_p * _TOPIC_WORDS))
    picks = np.argsort(-keys, axis=1)[:, :3]
    q_terms = _GENERAL_WORDS + q_topic[:, None] * _TOPIC_WORDS + picks
    q_terms = np.where(np.arange(3)[None, :] < n_terms[:, None], q_terms, -1)
    docs_by_topic = np.argsort(doc_topic, kind="stable")
    topic_start = np.searchsorted(doc_topic[docs_by_topic], np.arange(n_topics))
    topic_count = np.bincount(doc_topic, minlength=n_topics)
    nav = intent == 1
    target = np.full(n_q, -1, dtype=np.int64)
    slot = topic_start[q_topic[nav]] + (rng.random(nav.sum()) * topic_count[q_topic[nav]]).astype(np.int64)
    target[nav] = docs_by_topic[slot]
    # The target document repeats the navigational query's words (its title, say) three times.
    nav_terms = q_terms[nav]
    extra_doc = np.repeat(target[nav], 3 * 3)
    extra_tok = np.repeat(nav_terms, 3, axis=0).ravel()
    keep = extra_tok >= 0
    tok_doc = np.concatenate([tok_doc, extra_doc[keep]])
    tokens = np.concatenate([tokens, extra_tok[keep]])
    order = np.argsort(tok_doc, kind="stable")
    tok_doc, tokens = tok_doc[order], tokens[order]
    length = np.bincount(tok_doc, minlength=n_docs)
    doc_terms = sparse.csr_matrix(
        (np.ones(tok_doc.size, dtype=np.float32), (tok_doc, tokens)), shape=(n_docs, n_vocab)
    )
    doc_terms.sum_duplicates()
    counts = doc_terms.copy()
    doc_terms.data[:] = 1.0

    frequency = _zipf_probs(n_q, query_zipf)[rng.permutation(n_q)]
    q_rows, q_cols = np.nonzero(q_terms >= 0)
    documents = pd.DataFrame(
        {
            "doc_id": np.arange(n_docs),
            "topic": doc_topic,
            "quality": quality.round(4),
            "age_days": age_days,
            "freshness": freshness.round(4),
            "length": length,
            "text": _join_words(vocab[tokens], tok_doc, n_docs),
        }
    )
    documents["quality"] = documents["quality"].astype(float)
    queries = pd.DataFrame(
        {
            "query_id": np.arange(n_q),
            "text": _join_words(vocab[q_terms[q_rows, q_cols]], q_rows, n_q),
            "n_terms": n_terms,
            "topic": q_topic,
            "intent": np.array(INTENTS, dtype=object)[intent],
            "target_doc": target,
            "frequency": frequency,
        }
    )
    queries["intent"] = queries["intent"].astype(str)

    # The production ("legacy") ranker has two steps. It picks the page's ten results by keyword
    # match (idf-weighted term counts, plus quirks of its own: fixed noise per pair), then orders
    # them by match plus "authority": old pages up, a little quality. It never rewards freshness.
    # Pool = its 20 best keyword matches per query, best first.
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
    q_matrix = sparse.csr_matrix(
        (idf[q_terms[q_rows, q_cols]], (q_rows, q_terms[q_rows, q_cols])), shape=(n_q, n_vocab)
    )
    match = (q_matrix @ counts.T).tocoo()
    legacy = pd.DataFrame({"q": match.row, "d": match.col, "s": match.data})
    legacy["s"] = legacy["s"] / legacy.groupby("q")["s"].transform("max") + _LEGACY_NOISE * _pair_noise(
        legacy["q"].to_numpy(), legacy["d"].to_numpy(), n_docs, seed + 1
    )
    # Queries matching fewer than 20 documents: pad with same-topic documents (score below any match).
    short = np.nonzero(np.bincount(legacy["q"].to_numpy(), minlength=n_q) < POOL_SIZE)[0]
    if short.size:
        counts_short = topic_count[q_topic[short]]
        pad_q = np.repeat(short, counts_short)
        offsets = np.arange(pad_q.size) - np.repeat(np.cumsum(counts_short) - counts_short, counts_short)
        pad_d = docs_by_topic[np.repeat(topic_start[q_topic[short]], counts_short) + offsets]
        pad = pd.DataFrame({"q": pad_q, "d": pad_d, "s": -1.0 + 0.01 * rng.random(pad_q.size)})
        legacy = pd.concat([legacy, pad], ignore_index=True)
    legacy = legacy.sort_values(["q", "s"], ascending=[True, False], kind="stable")
    legacy = legacy.drop_duplicates(["q", "d"], keep="first")
    legacy["rank"] = legacy.groupby("q").cumcount()
    legacy = legacy[legacy["rank"] < POOL_SIZE]
    pool = np.full((n_q, POOL_SIZE), -1, dtype=np.int64)
    pool_score = np.full((n_q, POOL_SIZE), -np.inf)
    pool[legacy["q"].to_numpy(), legacy["rank"].to_numpy()] = legacy["d"].to_numpy()
    pool_score[legacy["q"].to_numpy(), legacy["rank"].to_numpy()] = legacy["s"].to_numpy()
    if (pool < 0).any():
        raise ValueError(
            f"n_documents={n_docs:,} is too small for n_topics={n_topics}: every query needs "
            f"{POOL_SIZE} documents on its topic; raise n_documents or lower n_topics"
        )
    authority = _LEGACY_AGE * (1.0 - freshness[pool]) + _LEGACY_QUALITY * quality[pool]
    clickiness = _QUERY_CLICKINESS * rng.standard_normal(n_q)

    world = SearchWorld(
        documents=documents,
        queries=queries,
        clicks=pd.DataFrame(),
        examination=examination_curve(position_bias),
        position_bias=position_bias,
        random_share=random_share,
        attract_noise=attract_noise,
        trust_bias=trust_bias,
        cascade_stop=cascade_stop,
        seed=seed,
        user_taste=user_taste,
        _doc_terms=doc_terms.tocsr(),
        _query_terms=q_terms,
        _pool=pool,
        _pool_score=pool_score,
        _pool_authority=authority,
        _pool_grade=np.zeros_like(pool, dtype=np.int8),
        _query_clickiness=clickiness,
    )
    object.__setattr__(world, "_pool_grade", world.relevance(np.repeat(np.arange(n_q)[:, None], POOL_SIZE, axis=1), pool))
    log = world.click_log(n_impressions, seed=int(rng.integers(2**32)), n_days=n_days)
    object.__setattr__(world, "clicks", log)
    return world
