"""Unit tests of the search world (utils/search.py): shapes, determinism, knobs, planted signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.search import (
    INTENTS,
    PAGE_SIZE,
    SearchWorld,
    click_curve,
    examination_curve,
    make_search_world,
)
from utils.search_clicks import USER_SHARES, simulate_clicks, success_probability

SMALL = dict(n_documents=2_000, n_queries=300, n_impressions=20_000)


@pytest.fixture(scope="module")
def world() -> SearchWorld:
    return make_search_world(seed=7, **SMALL)


def test_shapes_and_columns(world: SearchWorld) -> None:
    assert len(world.documents) == SMALL["n_documents"]
    assert len(world.queries) == SMALL["n_queries"]
    assert len(world.clicks) == SMALL["n_impressions"] * PAGE_SIZE
    assert list(world.documents.columns) == ["doc_id", "topic", "quality", "age_days", "freshness", "length", "text"]
    assert list(world.queries.columns) == ["query_id", "text", "n_terms", "topic", "intent", "target_doc", "frequency"]
    assert list(world.clicks.columns) == [
        "impression_id", "day", "query_id", "randomised", "swap_rank", "position", "doc_id", "clicked", "examined",
        "true_grade",
    ]
    assert world.examination.shape == (PAGE_SIZE,)
    assert click_curve().shape == (5,)


def test_text_matches_lengths(world: SearchWorld) -> None:
    docs, queries = world.documents, world.queries
    assert (docs["text"].str.split().str.len() == docs["length"]).all()
    assert (queries["text"].str.split().str.len() == queries["n_terms"]).all()
    assert set(queries["intent"]) == set(INTENTS)
    assert queries["frequency"].sum() == pytest.approx(1.0)


def test_each_page_has_ten_distinct_documents(world: SearchWorld) -> None:
    pages = world.clicks["doc_id"].to_numpy().reshape(-1, PAGE_SIZE)
    assert (np.sort(pages, axis=1)[:, 1:] != np.sort(pages, axis=1)[:, :-1]).all()
    assert (world.clicks["position"].to_numpy().reshape(-1, PAGE_SIZE) == np.arange(1, 11)).all()


def test_deterministic_per_seed() -> None:
    a = make_search_world(seed=3, **SMALL)
    b = make_search_world(seed=3, **SMALL)
    c = make_search_world(seed=4, **SMALL)
    pd.testing.assert_frame_equal(a.documents, b.documents)
    pd.testing.assert_frame_equal(a.queries, b.queries)
    pd.testing.assert_frame_equal(a.clicks, b.clicks)
    assert not a.clicks["clicked"].equals(c.clicks["clicked"])
    q = np.arange(50)
    np.testing.assert_array_equal(a.relevance(q, q), b.relevance(q, q))


def test_base_rates(world: SearchWorld) -> None:
    log = world.clicks
    assert 0.05 < log["clicked"].mean() < 0.25
    assert log["randomised"].mean() == pytest.approx(0.05, abs=0.01)
    # A clicked result was always examined (examination comes first in the click model).
    assert not (log["clicked"] & ~log["examined"]).any()
    rng = np.random.default_rng(0)
    grades = world.relevance(rng.integers(0, 300, 20_000), rng.integers(0, 2_000, 20_000))
    assert grades.min() >= 0 and grades.max() <= 4
    assert 0.7 < np.mean(grades == 0) < 0.98  # most random pairs are irrelevant


def test_relevance_matches_logged_grades(world: SearchWorld) -> None:
    log = world.clicks.iloc[:5_000]
    np.testing.assert_array_equal(
        world.relevance(log["query_id"].to_numpy(), log["doc_id"].to_numpy()), log["true_grade"].to_numpy()
    )


def test_navigational_target_is_perfect(world: SearchWorld) -> None:
    nav = world.queries[world.queries["intent"] == "navigational"]
    assert len(nav) > 0
    assert (world.relevance(nav["query_id"].to_numpy(), nav["target_doc"].to_numpy()) == 4).all()


def test_query_traffic_is_heavy_tailed(world: SearchWorld) -> None:
    freq = np.sort(world.queries["frequency"].to_numpy())[::-1]
    assert freq[: len(freq) // 20].sum() > 0.3  # the top 5 % of queries carry a large share


def test_planted_curves() -> None:
    np.testing.assert_allclose(examination_curve(1.0), 1 / np.arange(1, 11))
    np.testing.assert_allclose(examination_curve(0.0), np.ones(10))
    curve = click_curve()
    assert 0.02 < curve[0] < 0.08 and 0.5 < curve[-1] < 0.7  # a grade-4 result is not a sure click
    assert np.all(np.diff(curve) > 0)


def test_estimated_examination_recovers_planted_only_without_trust_and_cascade() -> None:
    # Planted signal: with pure position-based users (no trust bias, no cascade) the click rate by
    # position in the randomised slice, relative to position 1, recovers the planted curve within
    # 0.03; with the default trust bias and cascade the same estimator is off by more than 0.05
    # (a check that can fail: it sees the planted departure from the position-based model).
    w = make_search_world(seed=11, n_documents=2_000, n_queries=300, n_impressions=1_000, trust_bias=0.0, cascade_stop=0.0)
    log = w.click_log(400_000, random_share=0.5, seed=5)
    ctr = log[log["randomised"]].groupby("position")["clicked"].mean().to_numpy()
    np.testing.assert_allclose(ctr / ctr[0], w.examination, atol=0.03)
    prod = log[~log["randomised"]].groupby("position")["examined"].mean().to_numpy()
    np.testing.assert_allclose(prod, w.examination, atol=0.02)
    biased = make_search_world(seed=11, n_documents=2_000, n_queries=300, n_impressions=1_000)
    log = biased.click_log(400_000, random_share=0.5, seed=5)
    ctr = log[log["randomised"]].groupby("position")["clicked"].mean().to_numpy()
    assert np.abs(ctr / ctr[0] - biased.examination).max() > 0.05


def test_cascade_and_trust_bias_act() -> None:
    # Cascade: after a click on a grade-4 result, a user leaves with probability cascade_stop, so
    # fewer later slots are examined; trust bias: more clicks at rank 1 on unattractive results.
    grades = np.full((200_000, 10), 4)
    logit = np.zeros(grades.shape)
    valid = np.ones(grades.shape, dtype=bool)
    exam = np.ones(10)
    stay, _ = simulate_clicks(grades, logit, valid, exam, 0.0, 0.0, np.random.default_rng(0))
    leave, examined = simulate_clicks(grades, logit, valid, exam, 0.0, 1.0, np.random.default_rng(0))
    assert leave[:, 1:].mean() < 0.7 * stay[:, 1:].mean()
    assert examined[:, -1].mean() < 0.2
    zero = np.zeros((200_000, 10), dtype=int)
    plain, _ = simulate_clicks(zero, logit, valid, exam, 0.0, 0.0, np.random.default_rng(1))
    trusting, _ = simulate_clicks(zero, logit, valid, exam, 0.3, 0.0, np.random.default_rng(1))
    assert trusting[:, 0].mean() > plain[:, 0].mean() + 0.2
    assert USER_SHARES.sum() == pytest.approx(1.0)


def test_success_probability_matches_simulation(world: SearchWorld) -> None:
    q = world.sample_queries(60_000, seed=4)
    ranks = world._pool[q][:, :PAGE_SIZE]
    exact = world.success_probability(q, ranks).mean()
    simulated = world.simulate(q, ranks, seed=5).any(axis=1).mean()
    assert simulated == pytest.approx(exact, abs=0.01)
    # The exact formula itself, for one page and no trust bias: 1 - prod(1 - exam * attract), averaged over users.
    g, lg, v = np.array([[4, 0]]), np.zeros((1, 2)), np.ones((1, 2), dtype=bool)
    p = success_probability(g, lg, v, np.array([1.0, 0.5]), 0.0)
    assert 0.0 < p[0] < 1.0


def test_swap_interventions(world: SearchWorld) -> None:
    log = world.click_log(20_000, seed=3, intervention="swap", random_share=0.2)
    swapped = log[log["randomised"]]
    assert set(swapped["swap_rank"].unique()) == set(range(2, 11))
    assert (log.loc[~log["randomised"], "swap_rank"] == 0).all()
    # Same query and seed, no intervention: the swapped page is the production page with two slots exchanged.
    plain = world.click_log(20_000, seed=3, intervention="swap", random_share=0.0)
    pages = log["doc_id"].to_numpy().reshape(-1, PAGE_SIZE)
    assert (np.sort(pages, axis=1)[:, 1:] != np.sort(pages, axis=1)[:, :-1]).all()
    assert len(plain) == len(log)


def test_logging_ranker_is_decent(world: SearchWorld) -> None:
    # The production order puts better results on top than the randomised slice does.
    log = world.click_log(40_000, seed=6, random_share=0.5)
    top = log[log["position"] == 1].groupby("randomised")["true_grade"].mean()
    assert top[False] > top[True] + 0.2


def test_position_bias_knob_changes_examination(world: SearchWorld) -> None:
    flat = world.click_log(20_000, position_bias=0.0, seed=1)
    steep = world.click_log(20_000, position_bias=2.0, seed=1)
    by_position = flat.groupby("position")["examined"].mean()
    assert by_position.iloc[0] == 1.0 and by_position.iloc[-1] > 0.3  # only the cascade stops users
    assert steep[steep["position"] == 10]["examined"].mean() < 0.03


def test_production_ranker_favours_old_pages(world: SearchWorld) -> None:
    # Planted confounder: the production order pushes old pages up, while relevance rewards fresh.
    shown = world.clicks[~world.clicks["randomised"]]
    age = world.documents["age_days"].to_numpy()[shown["doc_id"].to_numpy()]
    by_position = pd.Series(age).groupby(shown["position"].to_numpy()).mean()
    assert by_position.iloc[0] > by_position.iloc[-1]
    rng = np.random.default_rng(1)
    q = rng.integers(0, 300, 50_000)
    same_topic = world.documents.groupby("topic")["doc_id"].apply(np.array)
    d = np.array([rng.choice(same_topic[t]) for t in world.queries["topic"].to_numpy()[q[:2_000]]])
    grades = world.relevance(q[:2_000], d)
    fresh = world.documents["freshness"].to_numpy()[d]
    assert np.corrcoef(grades, fresh)[0, 1] > 0.1


def test_authority_weight_controls_the_confounder(world: SearchWorld) -> None:
    # authority_weight=0: the page is ordered by keyword match alone, so age no longer falls with position.
    age = world.documents["age_days"].to_numpy()

    def age_gap(log: pd.DataFrame) -> float:
        shown = log[~log["randomised"]]
        by_position = pd.Series(age[shown["doc_id"].to_numpy()]).groupby(shown["position"].to_numpy()).mean()
        return float(by_position.iloc[0] - by_position.iloc[-1])

    legacy = world.click_log(20_000, seed=1)
    keyword_only = world.click_log(20_000, seed=1, authority_weight=0.0)
    assert age_gap(legacy) > 50
    assert abs(age_gap(keyword_only)) < 0.25 * age_gap(legacy)
    # Same pages, same clicks model: only the order within the page changes.
    pages = legacy["doc_id"].to_numpy().reshape(-1, PAGE_SIZE)
    pages0 = keyword_only["doc_id"].to_numpy().reshape(-1, PAGE_SIZE)
    np.testing.assert_array_equal(np.sort(pages, axis=1), np.sort(pages0, axis=1))
    pd.testing.assert_frame_equal(world.click_log(5_000, seed=2), world.click_log(5_000, seed=2, authority_weight=1.0))


def test_simulate(world: SearchWorld) -> None:
    q = world.sample_queries(5_000, seed=2)
    ranks = world.clicks["doc_id"].to_numpy().reshape(-1, PAGE_SIZE)[:5_000]
    ranks = np.where(np.arange(PAGE_SIZE) < 9, ranks, -1)  # last slot empty
    clicks = world.simulate(q, ranks, seed=3)
    assert clicks.shape == ranks.shape and clicks.dtype == bool
    assert not clicks[:, -1].any()
    np.testing.assert_array_equal(clicks, world.simulate(q, ranks, seed=3))
    assert clicks[:, 0].mean() > clicks[:, 8].mean()


def test_simulate_rejects_bad_shapes(world: SearchWorld) -> None:
    with pytest.raises(ValueError, match="rankings"):
        world.simulate(np.arange(3), np.zeros((3, 11), dtype=int))
    with pytest.raises(ValueError, match="rankings"):
        world.simulate(np.arange(3), np.zeros((4, 10), dtype=int))
    with pytest.raises(ValueError, match="doc_ids"):
        world.relevance(np.array([0]), np.array([10**6]))
    with pytest.raises(ValueError, match="same shape"):
        world.relevance(np.array([0, 1]), np.array([0]))


@pytest.mark.parametrize(
    ("knob", "value"),
    [
        ("seed", -1),
        ("n_documents", 10),
        ("n_queries", 5),
        ("n_impressions", 10),
        ("n_topics", 1),
        ("position_bias", -0.5),
        ("position_bias", 3.5),
        ("random_share", 0.9),
        ("attract_noise", 2.5),
        ("trust_bias", 0.6),
        ("cascade_stop", 1.5),
        ("user_taste", 2.5),
        ("query_zipf", -1.0),
        ("n_days", 0),
        ("position_bias", float("nan")),
        ("n_queries", 2.5),
    ],
)
def test_bad_knobs_raise(knob: str, value: object) -> None:
    with pytest.raises(ValueError, match=knob):
        make_search_world(**{knob: value})


def test_bad_click_log_knobs(world: SearchWorld) -> None:
    with pytest.raises(ValueError, match="position_bias"):
        world.click_log(1_000, position_bias=4.0)
    with pytest.raises(ValueError, match="random_share"):
        world.click_log(1_000, random_share=-0.1)
    with pytest.raises(ValueError, match="n_impressions"):
        world.click_log(0)
    with pytest.raises(ValueError, match="authority_weight"):
        world.click_log(1_000, authority_weight=-1.0)
    with pytest.raises(ValueError, match="intervention"):
        world.click_log(1_000, intervention="flip")
    with pytest.raises(ValueError, match="n"):
        world.sample_queries(0)


def test_too_few_documents_per_topic_raises() -> None:
    with pytest.raises(ValueError, match="n_documents"):
        make_search_world(n_documents=500, n_topics=200, n_queries=50, n_impressions=1_000)


def test_ipw_weights_guard_zero_propensity() -> None:
    from utils.search import ipw_weights

    prop = np.array([1.0, 0.5, 0.0])
    assert np.allclose(ipw_weights(np.array([1, 2, 2]), prop), [1.0, 2.0, 2.0])
    assert np.allclose(ipw_weights(np.array([3]), prop, floor=0.1), [10.0])
    with pytest.raises(ValueError, match=r"rank\(s\) \[3\]"):
        ipw_weights(np.array([1, 3]), prop)              # a zero estimate: never a silent infinity
    with pytest.raises(ValueError, match="rank"):
        ipw_weights(np.array([2]), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="positions"):
        ipw_weights(np.array([4]), prop, floor=0.1)
    with pytest.raises(ValueError, match="floor"):
        ipw_weights(np.array([1]), prop, floor=1.5)


def test_user_taste_moves_clicks_to_short_pages() -> None:
    w0 = make_search_world(seed=1, n_documents=2_000, n_queries=200, n_impressions=20_000, user_taste=0.0)
    w2 = make_search_world(seed=1, n_documents=2_000, n_queries=200, n_impressions=20_000, user_taste=2.0)
    lengths = w0.documents["length"].to_numpy()
    short = lambda log: log.loc[log["clicked"], "doc_id"].map(lambda d: lengths[d]).mean()  # noqa: E731
    assert short(w2.clicks) < short(w0.clicks) - 2          # clicks favour short pages
    assert (w2.clicks["true_grade"] == w0.clicks["true_grade"]).all()   # judges do not care
