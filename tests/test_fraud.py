"""Unit tests of the fraud world (utils/fraud.py): shape, determinism, rates, knobs, planted signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.fraud import COUNTRIES, SCENARIOS, START, FraudWorld, make_fraud_world

SMALL = dict(n_transactions=60_000, n_days=120, base_rate=0.01, drift_day=80, seed=3)


@pytest.fixture(scope="module")
def world() -> FraudWorld:
    return make_fraud_world(**SMALL)


@pytest.fixture(scope="module")
def tx(world: FraudWorld) -> pd.DataFrame:
    return world.transactions


def test_shape_columns_and_order(world: FraudWorld, tx: pd.DataFrame) -> None:
    assert len(tx) == SMALL["n_transactions"]
    expected = ["tx_id", "timestamp", "day", "hour", "customer_id", "terminal_id", "device_id",
                "channel", "country", "card_country", "amount", "is_fraud", "scenario",
                "label_available_at", "true_prob"]
    assert list(tx.columns) == expected
    assert tx["timestamp"].is_monotonic_increasing
    assert (tx["tx_id"].to_numpy() == np.arange(len(tx))).all()
    assert tx["day"].between(0, SMALL["n_days"] - 1).all()
    assert tx["hour"].between(0, 23).all()
    assert (tx["timestamp"] >= START).all()
    assert set(tx["country"].cat.categories) == set(COUNTRIES)
    assert (tx["amount"] >= 1.0).all()
    assert set(world.oracle_columns) <= set(tx.columns)
    assert len(world.cards) == world.config["n_cards"]


def test_same_seed_same_world_other_seed_differs() -> None:
    a = make_fraud_world(n_transactions=20_000, seed=11).transactions
    b = make_fraud_world(n_transactions=20_000, seed=11).transactions
    c = make_fraud_world(n_transactions=20_000, seed=12).transactions
    pd.testing.assert_frame_equal(a, b)
    assert not a["amount"].equals(c["amount"])


@pytest.mark.parametrize("base_rate", [0.002, 0.005, 0.01])
def test_base_rate_within_tolerance(base_rate: float) -> None:
    tx = make_fraud_world(n_transactions=100_000, base_rate=base_rate, seed=1).transactions
    # expected share is base_rate; allow sampling noise plus episode granularity
    assert tx["is_fraud"].mean() == pytest.approx(base_rate, rel=0.25)
    assert tx["true_prob"].mean() == pytest.approx(base_rate, rel=0.25)


def test_ground_truth_is_consistent(tx: pd.DataFrame) -> None:
    assert tx["true_prob"].between(0, 1).all()
    assert (tx["label_available_at"] > tx["timestamp"]).all()
    delay = (tx["label_available_at"] - tx["timestamp"]) / pd.Timedelta(days=1)
    assert delay.mean() == pytest.approx(7.0, rel=0.1)          # the default label_delay_days
    assert set(tx["scenario"].unique()) == set(SCENARIOS)
    # frauds are drawn from true_prob: the episodes are mostly fraud, ordinary rows rarely
    by_scenario = tx.groupby("scenario")["is_fraud"].mean()
    assert by_scenario[0] < 0.01
    assert (by_scenario.drop(0) > 0.5).all()


def test_burst_is_visible_through_card_velocity(tx: pd.DataFrame) -> None:
    # seconds since the same card's previous payment: bursts are minutes apart, ordinary hours
    gap = tx.groupby("customer_id")["timestamp"].diff() / pd.Timedelta(seconds=1)
    burst = tx["scenario"] == 1
    assert gap[burst].median() < 600
    assert (gap[~burst & (tx["scenario"] == 0)] < 600).mean() < 0.01
    assert burst.sum() / tx.loc[burst].groupby("customer_id").ngroups > 3   # several uses per card


def test_compromised_terminal_is_concentrated(tx: pd.DataFrame) -> None:
    terminal_rows = tx[tx["scenario"] == 2]
    assert terminal_rows["terminal_id"].nunique() >= 2
    # inside an episode most payments at that terminal are fraud; elsewhere almost none
    assert terminal_rows["is_fraud"].mean() > 0.7
    span = terminal_rows.groupby("terminal_id")["day"].agg(lambda d: d.max() - d.min())
    assert (span >= 20).all()
    # after the episode the device is swapped: no ordinary payment uses that terminal id again
    last = terminal_rows.groupby("terminal_id")["timestamp"].max()
    later = tx[(tx["scenario"] == 0) & tx["terminal_id"].isin(last.index)]
    assert (later["timestamp"].to_numpy() <= last.loc[later["terminal_id"]].to_numpy()).all()


def test_account_takeover_uses_new_device_big_amount_at_night(world: FraudWorld, tx: pd.DataFrame) -> None:
    ato = tx[tx["scenario"] == 3]
    assert (ato["channel"] == "online").all()
    assert (ato["device_id"] >= 2 * world.config["n_cards"]).all()      # never the card's own devices
    typical = world.cards.set_index("customer_id")["typical_amount"]
    ratio = ato["amount"].to_numpy() / typical.loc[ato["customer_id"]].to_numpy()
    assert np.median(ratio) > 3
    assert (ato["hour"] < 6).mean() > 0.5
    ordinary_online = tx[(tx["scenario"] == 0) & (tx["channel"] == "online")]
    assert (ordinary_online["hour"] < 6).mean() < 0.1


def test_drift_pattern_starts_on_drift_day(tx: pd.DataFrame) -> None:
    drift = tx[tx["scenario"] == 4]
    assert len(drift) > 0
    assert drift["day"].min() >= SMALL["drift_day"]
    assert (drift["country"] != drift["card_country"]).all()
    assert (drift["amount"] < 6).all()
    no_drift = make_fraud_world(n_transactions=20_000, n_days=90, drift_day=90, seed=2).transactions
    assert (no_drift["scenario"] != 4).all()


@pytest.mark.parametrize(
    ("knob", "value", "message"),
    [
        ("n_transactions", 10, r"n_transactions=10 is out of range; valid range is \[5,000, 5,000,000\]"),
        ("n_transactions", 2.5, "n_transactions must be an integer"),
        ("n_days", 30, r"n_days=30 is out of range; valid range is \[90, 180\]"),
        ("base_rate", 0.05, r"base_rate=0.05 is out of range; valid range is \[0.001, 0.01\]"),
        ("base_rate", float("nan"), "base_rate=nan"),
        ("label_delay_days", 0.0, r"label_delay_days=0 is out of range; valid range is \[1, 30\]"),
        ("drift_day", 10, r"drift_day=10 is out of range; valid range is \[30, 150\]"),
        ("drift_day", 151, r"drift_day=151 is out of range; valid range is \[30, 150\]"),
        ("seed", -1, "seed=-1 is out of range"),
    ],
)
def test_bad_knobs_raise_with_knob_value_and_range(knob: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_fraud_world(**{knob: value})
