"""utils/training.py: point-in-time features for notebook 05."""

import numpy as np
import pytest

from utils.churn import make_churn_world
from utils.fraud import make_fraud_world
from utils.training import churn_snapshot, fraud_features


@pytest.fixture(scope="module")
def tx():
    return make_fraud_world(n_transactions=20_000, seed=3).transactions


def test_fraud_features_shape_and_determinism(tx):
    f = fraud_features(tx)
    assert len(f) == len(tx) and f.shape[1] == 17
    assert f.equals(fraud_features(tx))


def test_fraud_features_use_only_the_past(tx):
    """A row's features do not change when every later payment is removed."""
    cut = len(tx) // 2
    full, head = fraud_features(tx), fraud_features(tx.iloc[:cut])
    np.testing.assert_array_equal(full.iloc[:cut].to_numpy(), head.to_numpy())


def test_terminal_chargebacks_count_only_arrived_labels(tx):
    """Delaying every label past the end of the data empties the terminal chargeback counts."""
    late = tx.assign(label_available_at=tx["timestamp"].max() + np.timedelta64(1, "D"))
    assert fraud_features(late)["term_cb_28d"].sum() == 0
    assert fraud_features(tx)["term_cb_28d"].sum() > 0


def test_churn_snapshot_label_and_window():
    world = make_churn_world(seed=1, n_customers=2_000)
    snap = churn_snapshot(world, 20)
    assert set(snap["customer_id"]) == set(world.eligible(20))
    assert 0.02 < snap["label"].mean() < 0.3
    assert not snap.drop(columns=["customer_id", "snapshot", "label"]).isna().any().any()
    with pytest.raises(ValueError, match="week"):
        churn_snapshot(world, 50)


def test_day_bootstrap_matches_sklearn_with_all_days_once():
    """With every day drawn exactly once the weighted formula is sklearn's average precision."""
    from sklearn.metrics import average_precision_score

    from utils.training import day_bootstrap_pr_auc

    rng = np.random.default_rng(0)
    y, s, day = (rng.random(3_000) < 0.05).astype(int), rng.random((3_000, 2)), rng.integers(0, 10, 3_000)
    s[:, 1] += y   # a better model
    boot = day_bootstrap_pr_auc(y, s, day, 50, seed=1)
    assert boot.shape == (50, 2) and (boot[:, 1] > boot[:, 0]).all()
    ones = np.ones((1, len(y)))
    order = np.argsort(-s[:, 1], kind="stable")
    precision = np.cumsum(ones * y[order], axis=1) / np.cumsum(ones, axis=1)
    assert np.isclose((precision * y[order]).sum() / y.sum(), average_precision_score(y, s[:, 1]))


def test_t_interval_and_reliability():
    from utils.training import reliability_table, t_interval

    iv = t_interval(np.array([1.0, 2.0, 3.0]))
    assert iv["low"] < 2.0 < iv["high"] and iv["above zero"] == 3
    with pytest.raises(ValueError, match="values"):
        t_interval(np.array([1.0]))
    table = reliability_table(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.2, 0.8]), np.array([0, 0.5, 1.0]))
    assert table["count"].tolist() == [2, 2] and table["observed"].tolist() == [0.0, 1.0]
