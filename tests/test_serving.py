"""Tests of the model service plumbing (utils/serving.py): startup, parity, bad payloads, shutdown."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from utils import serving
from utils.fraud import make_fraud_world
from utils.serving import (
    Payment,
    Running,
    SQLiteStore,
    UnknownEntity,
    create_app,
    load_test,
    port_is_open,
    serve,
)

HOUR = 3_600


@pytest.fixture(scope="module")
def world() -> pd.DataFrame:
    tx = make_fraud_world(n_transactions=5_000, n_days=90, drift_day=90, seed=1).transactions
    t = ((tx["timestamp"] - tx["timestamp"].iloc[0].normalize()) // pd.Timedelta(seconds=1)).to_numpy(np.int64)
    card = tx["customer_id"].to_numpy(np.int64)
    order = np.lexsort((t, card))
    key = card[order] * 10**8 + t[order]
    query = card * 10**8 + t
    n_1h = np.searchsorted(key, query, "left") - np.searchsorted(key, query - HOUR, "left")
    return pd.DataFrame({"tx_id": tx["tx_id"], "card": card, "t": t, "cents": np.round(tx["amount"] * 100).astype(np.int64),
                         "amount": tx["amount"], "hour": tx["hour"], "channel": tx["channel"].astype(str),
                         "is_foreign": tx["country"].astype(str) != tx["card_country"].astype(str),
                         "card_n_1h": n_1h, "y": tx["chargeback"]})


@pytest.fixture(scope="module")
def model(world: pd.DataFrame) -> lgb.Booster:
    params = dict(objective="binary", num_leaves=4, verbose=-1, deterministic=True, force_row_wise=True, num_threads=1, seed=0)
    return lgb.train(params, lgb.Dataset(world[["amount", "card_n_1h"]].to_numpy(float), world["y"]), 20)


@pytest.fixture(scope="module")
def store(world: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SQLiteStore]:
    st = SQLiteStore(str(tmp_path_factory.mktemp("store") / "online.sqlite"))
    st.load("payments", ["card", "t", "cents"], world[["card", "t", "cents"]].to_numpy().tolist(), index=["card", "t"])
    yield st
    st.close()


@pytest.fixture(scope="module")
def running(model: lgb.Booster, store: SQLiteStore) -> Iterator[Running]:
    def score(p: Payment) -> float:
        if p.amount > 50_000:
            raise ValueError("amount: above the card limit this model was trained for")
        n_1h, known = store.query("SELECT SUM(t >= :t - 3600 AND t < :t), COUNT(*) FROM payments WHERE card = :c",
                                  {"c": p.customer_id, "t": p.t})[0]
        if not known:
            raise UnknownEntity(p.customer_id)
        return float(model.predict(np.array([[p.amount, float(n_1h)]]), num_threads=1)[0])

    with serve(create_app(score=score, version="test-v1")) as server:
        yield server


def payload(world: pd.DataFrame, i: int) -> dict:
    row = world.iloc[i]
    return {"tx_id": int(row["tx_id"]), "customer_id": int(row["card"]), "t": int(row["t"]), "amount": float(row["amount"]),
            "hour": int(row["hour"]), "channel": str(row["channel"]), "is_foreign": bool(row["is_foreign"])}


def test_startup_and_health(running: Running) -> None:
    assert running.url.startswith("http://127.0.0.1:")
    assert running.thread.is_alive() and port_is_open(running.port)
    answer = httpx.get(f"{running.url}/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "model_version": "test-v1"}


def test_prediction_equals_offline_score(running: Running, world: pd.DataFrame, model: lgb.Booster) -> None:
    rows = np.random.default_rng(0).choice(len(world), 60, replace=False)
    offline = model.predict(world[["amount", "card_n_1h"]].to_numpy(float)[rows], num_threads=1)
    with httpx.Client(base_url=running.url) as client:
        served = [client.post("/score", json=payload(world, int(i))).json() for i in rows]
    assert [s["tx_id"] for s in served] == world["tx_id"].to_numpy()[rows].tolist()
    assert all(s["model_version"] == "test-v1" for s in served)
    np.testing.assert_allclose([s["score"] for s in served], offline, rtol=0, atol=1e-12)
    assert world["card_n_1h"].to_numpy()[rows].max() >= 1, "the sample should include a card with recent payments"


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"amount": None}, 422, "amount"),            # missing (None = drop the field)
    ({"amount": "twelve"}, 422, "amount"),        # wrong type
    ({"hour": "3"}, 422, "hour"),                 # a string is not an int (strict)
    ({"hour": 25}, 422, "hour"),                  # out of range
    ({"amount": -5.0}, 422, "amount"),            # out of range
    ({"channel": "fax"}, 422, "channel"),         # not one of the choices
    ({"velocity": 3}, 422, "velocity"),           # unknown field
    ({"customer_id": 10**9}, 404, "customer_id"),  # unknown card
    ({"customer_id": 10**20}, 422, "customer_id"),  # would overflow SQLite's 64-bit integer (was a 500)
    ({"tx_id": 2**63}, 422, "tx_id"),              # one past SQLite's largest integer
    ({"amount": 1e-300}, 422, "amount"),          # below one cent
    ({"amount": 0.0}, 422, "amount"),             # zero
    ({"amount": 60_000.0}, 400, "amount"),        # valid type, refused by the score function
])
def test_bad_payloads_get_clear_errors(running: Running, world: pd.DataFrame, change: dict, status: int, field: str) -> None:
    body = {**payload(world, 100), **change}
    body = {k: v for k, v in body.items() if v is not None}
    answer = httpx.post(f"{running.url}/score", json=body)
    assert answer.status_code == status
    assert field in str(answer.json()["detail"]), answer.json()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_amount_is_rejected_with_a_clear_message(running: Running, world: pd.DataFrame, literal: str) -> None:
    raw = dict(payload(world, 100))
    raw.pop("amount")
    text = json.dumps(raw)[:-1] + f', "amount": {literal}}}'
    answer = httpx.post(f"{running.url}/score", content=text, headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert "amount" in str(answer.json()["detail"]) and "finite" in str(answer.json()["detail"]), answer.json()
    # the connection stays usable after a rejected request
    assert httpx.get(f"{running.url}/health").status_code == 200


def test_huge_id_does_not_break_the_next_keep_alive_request(running: Running, world: pd.DataFrame) -> None:
    with httpx.Client(base_url=running.url, timeout=5.0) as client:
        assert client.post("/score", json={**payload(world, 100), "customer_id": 10**20}).status_code == 422
        assert client.post("/score", json=payload(world, 100)).status_code == 200


def test_shutdown_closes_the_port_and_joins_the_thread() -> None:
    with serve(create_app(score=lambda p: 0.5, version="tmp")) as server:
        port, thread = server.port, server.thread
        assert httpx.post(f"{server.url}/score", json={"tx_id": 1, "customer_id": 2, "t": 3, "amount": 4.0, "hour": 5,
                                                       "channel": "pos", "is_foreign": False}).json()["score"] == 0.5
    assert not thread.is_alive()
    assert not port_is_open(port)
    assert not any(t.name == f"uvicorn-{port}" for t in threading.enumerate())
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0)


def test_load_test_reports_latency_and_throughput(running: Running, world: pd.DataFrame) -> None:
    result = load_test(running.url, [payload(world, i) for i in range(40)], concurrency=4)
    assert result["requests"] == 40
    assert 0 < result["p50 (ms)"] <= result["p99 (ms)"] <= result["ms"].max()
    assert result["ms"].size == 40   # every request timed, pooled over the client threads
    assert result["throughput (req/s)"] > 0


def test_bad_arguments_raise_named_errors(tmp_path: Path) -> None:
    app = create_app(score=lambda p: 0.0, version="x")
    with pytest.raises(ValueError, match="startup_timeout"), serve(app, startup_timeout=0):
        pass
    with pytest.raises(ValueError, match="port"), serve(app, port=80):
        pass
    with pytest.raises(ValueError, match="version"):
        create_app(score=lambda p: 0.0, version="")
    with pytest.raises(ValueError, match="concurrency"):
        load_test("http://127.0.0.1:1", [{}], concurrency=0)
    with pytest.raises(ValueError, match="url"):
        load_test("http://example.com", [{}], concurrency=1)
    st = SQLiteStore(str(tmp_path / "s.sqlite"))
    with pytest.raises(ValueError, match="identifier"):
        st.load("payments; DROP", ["a"], [(1,)], index=["a"])
    with pytest.raises(ValueError, match="index"):
        st.load("payments", ["a"], [(1,)], index=["b"])


def test_store_reads_from_many_threads(store: SQLiteStore) -> None:
    results: list[int] = []

    def count() -> None:
        results.append(store.query("SELECT COUNT(*) FROM payments")[0][0])

    threads = [threading.Thread(target=count) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [5_000] * 8


def test_card_velocity_counts_only_earlier_payments() -> None:
    card, t = np.array([1, 1, 1, 2]), np.array([0, 100, 4_000, 50])
    cents = np.array([100, 200, 300, 400])
    out = serving.card_velocity(card, t, cents, t, {"1h": 3_600, "7d": 7 * 86_400})
    assert out["card_n_1h"].tolist() == [0, 1, 0, 0]          # 4,000 s is more than an hour after 100 s
    assert out["card_n_7d"].tolist() == [0, 1, 2, 0]
    assert out["card_sum_7d"].tolist() == [0.0, 1.0, 3.0, 0.0]
    assert np.isnan(out["secs_since_prev"][0]) and out["secs_since_prev"][2] == 3_900
    with pytest.raises(ValueError, match="7d"):
        serving.card_velocity(card, t, cents, t, {"1h": 3_600})


def test_ratio_guardrail_unpooled_equals_analyze_ratio() -> None:
    from utils.abtest import analyze_ratio

    rng = np.random.default_rng(0)
    den = rng.integers(0, 20, (1, 400)).astype(float)
    num_c, num_t = rng.binomial(den.astype(int), 0.05).astype(float), rng.binomial(den.astype(int), 0.08).astype(float)
    split = rng.random(400) < 0.3
    z = serving.ratio_guardrail(split[None, :], num_t, num_c, den, min_units=10, pooled=False)[0, 0]
    a = den[0] > 0
    r = analyze_ratio(num_c[0][a & ~split], den[0][a & ~split], num_t[0][a & split], den[0][a & split])
    assert z == pytest.approx(r.estimate / r.se, rel=1e-9)
    silent = serving.ratio_guardrail(split[None, :], np.zeros_like(num_t), num_c, den, min_units=10)[0, 0]
    assert silent < -2   # pooled variance: a canary with no events still gets a finite, negative z


def test_read_through_hits_and_hedge_draw() -> None:
    card, t = np.array([5, 5, 5, 6]), np.array([0, 30, 200, 10])
    hit, source = serving.read_through_hits(np.array([0, 1, 2, 3]), card, t, ttl=60)
    assert hit.tolist() == [False, True, False, False] and source.tolist() == [0, 0, 2, 3]
    with pytest.raises(ValueError, match="ttl"):
        serving.read_through_hits(np.array([0]), card, t, ttl=-1)
    d = serving.hedge_draw(0, 2_000, 10, 0.01, 15.0)
    assert d["p99 hedged (ms)"] <= d["p99 no fix (ms)"]
    with pytest.raises(ValueError, match="shared"):
        serving.hedge_draw(0, 10, 2, 0.01, 15.0, shared=2)
