"""Unit tests of the fraud world (utils/fraud.py and its stages in utils/fraud_world.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils import fraud_world as stages
from utils.fraud import COUNTRIES, PATTERNS, SCENARIOS, START, FraudWorld, make_fraud_world

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
                "channel", "country", "card_country", "amount", "is_fraud", "scenario", "pattern",
                "chargeback", "label_available_at", "true_prob"]
    assert list(tx.columns) == expected
    assert tx["timestamp"].is_monotonic_increasing
    assert (tx["tx_id"].to_numpy() == np.arange(len(tx))).all()
    assert tx["day"].between(0, SMALL["n_days"] - 1).all()
    assert tx["hour"].between(0, 23).all()
    assert (tx["timestamp"] >= START).all()
    assert set(tx["country"].cat.categories) == set(COUNTRIES)
    assert set(tx["pattern"].cat.categories) == set(PATTERNS.values())
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
    assert tx["is_fraud"].mean() == pytest.approx(base_rate, rel=0.25)
    assert tx["true_prob"].mean() == pytest.approx(base_rate, rel=0.25)


def test_ground_truth_and_noisy_labels(tx: pd.DataFrame) -> None:
    assert tx["true_prob"].between(0, 1).all()
    assert (tx["label_available_at"] > tx["timestamp"]).all()
    disputed = tx["chargeback"] == 1
    delay = (tx.loc[disputed, "label_available_at"] - tx.loc[disputed, "timestamp"]) / pd.Timedelta(days=1)
    assert delay.mean() == pytest.approx(7.0, rel=0.1)          # the default label_delay_days
    assert set(tx["scenario"].unique()) == set(SCENARIOS)
    fraud = tx["is_fraud"] == 1
    # about 90 % of frauds are disputed; some disputes are not fraud ("friendly fraud")
    assert 0.85 < disputed[fraud].mean() < 0.95
    assert 0.05 < (disputed & ~fraud).sum() / disputed.sum() < 0.35
    by_scenario = tx.groupby("scenario")["is_fraud"].mean()
    assert by_scenario[0] < 0.01
    assert (by_scenario.drop(0) > 0.3).all()


def test_true_prob_is_continuous_inside_episodes(tx: pd.DataFrame) -> None:
    # no two rows of the planted fraud share a probability level: the oracle's ranking has no big ties
    planted = tx.loc[tx["scenario"] > 0, "true_prob"]
    assert planted.nunique() > 0.95 * len(planted)


def test_genuine_lookalikes_overlap_fraud(tx: pd.DataFrame) -> None:
    gap = tx.groupby("customer_id")["timestamp"].diff() / pd.Timedelta(seconds=1)
    spree = (tx["pattern"] == "spree or trip") & (tx["is_fraud"] == 0)
    burst = tx["scenario"] == 1
    assert gap[burst].median() < 900                                # stolen cards: minutes apart
    assert (gap[spree] < 3600).mean() > 0.3                         # and so are genuine sprees and trips
    assert (tx.loc[spree, "country"] != tx.loc[spree, "card_country"]).mean() > 0.2
    assert tx.loc[(tx["pattern"] == "large purchase"), "is_fraud"].mean() < 0.02
    assert (tx["pattern"] == "new device").sum() > 100


def test_skimmed_terminal_is_concentrated_and_swapped(tx: pd.DataFrame) -> None:
    terminal_rows = tx[tx["scenario"] == 2]
    assert terminal_rows["terminal_id"].nunique() >= 2
    assert 0.25 < terminal_rows["is_fraud"].mean() < 0.75
    span = terminal_rows.groupby("terminal_id")["day"].agg(lambda d: d.max() - d.min())
    assert (span >= 13).all()
    last = terminal_rows.groupby("terminal_id")["timestamp"].max()
    later = tx[(tx["scenario"] == 0) & tx["terminal_id"].isin(last.index)]
    assert (later["timestamp"].to_numpy() <= last.loc[later["terminal_id"]].to_numpy()).all()


def test_account_takeover_is_online_large_half_new_device(world: FraudWorld, tx: pd.DataFrame) -> None:
    ato = tx[tx["scenario"] == 3]
    assert (ato["channel"] == "online").all()
    new_device = ato["device_id"] >= 10 * world.config["n_cards"]
    assert 0.3 < new_device.mean() < 0.7                            # the rest come through the card's own device
    typical = world.cards.set_index("customer_id")["typical_amount"]
    ratio = ato["amount"].to_numpy() / typical.loc[ato["customer_id"]].to_numpy()
    assert np.median(ratio) > 2


def test_card_testing_then_cash_out_on_the_same_cards(tx: pd.DataFrame) -> None:
    testing, cashout = tx[tx["scenario"] == 4], tx[tx["scenario"] == 5]
    assert len(testing) > 0 and len(cashout) > 0
    assert testing["day"].min() >= SMALL["drift_day"] and cashout["day"].min() >= SMALL["drift_day"]
    assert (testing["country"] != testing["card_country"]).all()
    assert (testing["amount"] < 5).all()
    assert set(cashout["customer_id"]) <= set(testing["customer_id"])
    first_test = testing.groupby("customer_id")["timestamp"].min()
    assert (cashout["timestamp"].to_numpy() > first_test.loc[cashout["customer_id"]].to_numpy()).all()
    assert cashout["amount"].median() > 10 * testing["amount"].median()
    no_drift = make_fraud_world(n_transactions=20_000, n_days=90, drift_day=90, seed=2).transactions
    assert not no_drift["scenario"].isin([4, 5]).any()


def test_stage_episodes_and_labels() -> None:
    rng = np.random.default_rng(0)
    ep, ts = stages.episodes(rng, np.array([5, 9]), np.array([3, 2]), np.array([60.0, 600.0]),
                             np.array([1, 2]), 0.0, 10 * stages.DAY)
    assert ep.tolist() == [0, 0, 0, 1, 1]
    assert (np.diff(ts[:3]) >= 30).all() and ts[0] // stages.DAY == 1 and ts[3] // stages.DAY == 2
    prob = np.r_[np.ones(20_000), np.zeros(20_000)]
    is_fraud, disputed, label_t = stages.labels(rng, prob, np.zeros(40_000, np.int64), np.zeros(40_000, np.int64), 7.0)
    assert is_fraud[:20_000].all() and not is_fraud[20_000:].any()
    assert disputed[:20_000].mean() == pytest.approx(0.9, abs=0.01)
    assert disputed[20_000:].mean() == pytest.approx(0.0012 * 0.7, abs=0.0005)
    assert (label_t >= 3600).all()


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


def test_notebook_10_precomputed_monitor_table_is_what_the_script_computes() -> None:
    """Notebook 10 types in the segment monitor's summary over seeds 4-23 (20 worlds cost ~20 s in the
    notebook). The typed numbers must be what tests/benchmarks/bench_fraud.py computes today."""
    import ast
    from pathlib import Path

    import pandas as pd

    from tests.benchmarks.bench_fraud import segment_monitor_seeds

    source = (Path(__file__).resolve().parents[1] / "notebooks" / "10_case_fraud_detection.py").read_text(encoding="utf-8")
    start = source.index("MONITOR_SEEDS_4_23 = pd.DataFrame(")
    tree = ast.parse(source[start:source.index("display(MONITOR_SEEDS_4_23)")])
    call = tree.body[0].value  # pd.DataFrame({...}, index=pd.MultiIndex.from_tuples([...], ...))
    typed = ast.literal_eval(call.args[0])
    keys = ast.literal_eval(call.keywords[0].value.args[0])  # [(sd, window), ...]
    table = pd.DataFrame(segment_monitor_seeds(range(4, 24)))
    computed: dict[str, list[int]] = {name: [] for name in typed}
    for sd, window in keys:
        part = table[(table["sd"] == sd) & (table["window"] == window)]
        computed["seeds with a false alarm (of 20)"].append(int((part["false alarms"] > 0).sum()))
        computed["median delay (days)"].append(int(round(part["delay"].median())))
        computed["longest delay (days)"].append(int(part["delay"].max()))
        computed["seeds with delay > 7"].append(int((part["delay"] > 7).sum()))
    assert computed == typed
