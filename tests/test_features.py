"""Tests of utils.features: the SQLite online store, the batch-refresh simulation, the contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.features import OnlineStore, contracts, count_at_last_run, count_sql, replay


def brute_count(entity, t, window, at):
    return np.array([((entity == e) & (t >= a - window) & (t < a)).sum() for e, a in zip(entity, at, strict=True)], float)


@pytest.fixture()
def events():
    rng = np.random.default_rng(0)
    t = np.sort(rng.integers(0, 20_000, 400))
    return rng.integers(0, 5, 400), t


def test_streaming_count_matches_brute_force(events):
    entity, t = events
    assert np.array_equal(count_at_last_run(entity, t, 3_600, 0), brute_count(entity, t, 3_600, t))


def test_batch_count_uses_the_last_run(events):
    entity, t = events
    run = t // 900 * 900
    assert np.array_equal(count_at_last_run(entity, t, 3_600, 900), brute_count(entity, t, 3_600, run))


def test_bad_windows_raise():
    with pytest.raises(ValueError, match="cadence"):
        count_at_last_run(np.zeros(2, int), np.arange(2), 10, -1)
    with pytest.raises(ValueError, match="closed"):
        count_sql("customer_id", 10, closed="both")


def test_replay_clean_matches_offline_and_skews_do_not(tmp_path, events):
    entity, t = events
    store = OnlineStore(tmp_path / "s.sqlite")
    offline = brute_count(entity, t, 3_600, t)
    rows, clean = replay(store, count_sql("customer_id", 3_600), entity, t, 200, 150)
    assert np.array_equal(clean, offline[rows])
    _, self_counted = replay(store, count_sql("customer_id", 3_600, "right"), entity, t, 200, 150, write_first=True)
    assert (self_counted != offline[rows]).all()
    _, shifted = replay(store, count_sql("customer_id", 3_600), entity, t, 200, 150, writer_offset=3_600)
    assert (shifted != offline[rows]).any()
    store.close()
    with pytest.raises(ValueError, match="start"):
        replay(OnlineStore(tmp_path / "t.sqlite"), count_sql("customer_id", 1), entity, t, 10_000, 1)


def test_contracts_pass_clean_and_catch_defects():
    days = pd.date_range("2026-01-01", periods=14 * 24, freq="h")
    ref = pd.DataFrame({"tx_id": np.arange(len(days)), "timestamp": days, "amount": np.tile(np.linspace(1, 100, 24), 14)})
    batch = ref.iloc[: 7 * 24].reset_index(drop=True)
    assert not any(contracts(batch, ref).values())
    assert contracts(batch.assign(amount=batch["amount"] * 100), ref)["amount median vs reference"]
    assert contracts(batch.assign(amount=batch["amount"].mask(batch.index < 10)), ref)["missing values"]
    assert contracts(batch.rename(columns={"amount": "value"}), ref)["schema"]
    assert contracts(pd.concat([batch, batch.iloc[:5]]), ref)["unique ids"]
    assert contracts(batch.iloc[: 6 * 24], ref)["rows per day"]


def test_average_precision_matches_sklearn_with_ties():
    from sklearn.metrics import average_precision_score

    from utils.features import _average_precision
    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.1).astype(int)
    score = np.round(rng.random(500) + y * 0.3, 1)          # many ties, as tree models give
    assert _average_precision(np.ones((1, 500)), y, score)[0] == pytest.approx(average_precision_score(y, score))


def test_gap_interval_brackets_a_real_gap_and_rejects_bad_input():
    from utils.features import pr_auc_gap_interval
    rng = np.random.default_rng(2)
    y = (rng.random(2_000) < 0.1).astype(int)
    good, noise = y + rng.normal(0, 0.5, 2_000), rng.random(2_000)
    low, high = pr_auc_gap_interval(y, good, noise)
    assert 0 < low < high
    low, high = pr_auc_gap_interval(y, noise, noise)
    assert low == high == 0
    with pytest.raises(ValueError, match="n_boot"):
        pr_auc_gap_interval(y, good, noise, n_boot=1)
    with pytest.raises(ValueError, match="lengths"):
        pr_auc_gap_interval(y[:5], good, noise)
