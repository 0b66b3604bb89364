"""A small real model service for notebook 07: FastAPI app, uvicorn in a thread, an SQLite store.

The model-specific parts (which features, which SQL, which model) live in the notebook and are
passed in; this module holds only the plumbing a learner should not have to retype::

    from utils.serving import SQLiteStore, create_app, serve
    app = create_app(score=my_score, version="v1")      # my_score(Payment) -> float
    with serve(app) as url:                              # http://127.0.0.1:<free port>
        httpx.post(f"{url}/score", json={...})
    # here the server has stopped, its thread is joined and the port is closed

``serve`` binds 127.0.0.1 only, waits until ``/health`` answers, and on exit stops uvicorn,
joins its thread and checks that the port no longer accepts connections.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import httpx
import numpy as np
import uvicorn
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

HOST = "127.0.0.1"
MAX_ID = 2**63 - 1   # SQLite's largest integer: a larger id would overflow the store's query (500)


class Payment(BaseModel):
    """One card payment to score, as the authorisation system sends it (strict types, no extras)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    tx_id: int = Field(ge=0, le=MAX_ID, description="payment id (fits SQLite's signed 64-bit integer)")
    customer_id: int = Field(ge=0, le=MAX_ID, description="the card (fits SQLite's signed 64-bit integer)")
    t: int = Field(ge=0, le=400 * 86_400, description="seconds since the world's start")
    amount: float = Field(ge=0.01, le=100_000, allow_inf_nan=False, description="amount in currency units (a finite number, one cent or more)")
    hour: int = Field(ge=0, le=23, description="hour of day")
    channel: Literal["pos", "online", "atm"]
    is_foreign: bool


class Score(BaseModel):
    """The service's answer: the fraud score and the model version that produced it."""

    tx_id: int
    score: float
    model_version: str


class UnknownEntity(KeyError):
    """Raised by a score function when the online store does not know the entity (answered 404)."""


def _field(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 with one line per problem, each naming the field: ``amount: Input should be greater than 0``."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [f"{_field(e['loc'])}: {e['msg']}" for e in errors]
    return JSONResponse(status_code=422, content={"detail": detail})


def create_app(score: Callable[[Payment], float], version: str) -> FastAPI:
    """The service: ``GET /health`` and ``POST /score`` (a :class:`Payment` in, a :class:`Score` out).

    ``score`` turns a validated payment into a probability; it raises :class:`UnknownEntity` for a
    card the online store has never seen (answered 404) and ``ValueError`` for a payload that is
    well-typed but unusable (answered 400). ``score`` runs in uvicorn's thread pool (a plain ``def``
    endpoint), so it may block on SQLite.
    """
    if not version:
        raise ValueError("version must be a non-empty string, e.g. 'v1'")
    app = FastAPI(title="fraud scorer", version=version)
    app.add_exception_handler(RequestValidationError, _validation_error)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model_version": version}

    @app.post("/score", response_model=Score)
    def score_payment(payment: Payment) -> Score:
        try:
            value = score(payment)
        except UnknownEntity as err:
            raise HTTPException(status_code=404, detail=f"customer_id: {payment.customer_id} is not in the online store") from err
        except ValueError as err:
            raise HTTPException(status_code=400, detail=str(err)) from err
        return Score(tx_id=payment.tx_id, score=float(value), model_version=version)

    return app


def free_port(host: str = HOST) -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Running:
    """A started server: its ``url``, ``port`` and ``thread`` (for checks after it stopped)."""

    def __init__(self, url: str, port: int, thread: threading.Thread) -> None:
        self.url, self.port, self.thread = url, port, thread


@contextmanager
def serve(app: FastAPI, port: int | None = None, startup_timeout: float = 10.0) -> Iterator[Running]:
    """Run ``app`` with uvicorn in a background thread on 127.0.0.1; stop it on exit.

    Waits until ``GET /health`` answers 200 (or raises ``RuntimeError`` after ``startup_timeout``
    seconds). On exit: asks uvicorn to exit, joins the thread, and raises ``RuntimeError`` if the
    thread is still alive or the port still accepts connections.
    """
    if not 0.1 <= startup_timeout <= 60:
        raise ValueError(f"startup_timeout={startup_timeout} is out of range; valid range is [0.1, 60] seconds")
    port = free_port() if port is None else port
    if not 1024 <= port <= 65_535:
        raise ValueError(f"port={port} is out of range; valid range is [1024, 65535]")
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    url = f"http://{HOST}:{port}"
    deadline = time.monotonic() + startup_timeout
    try:
        while True:
            if not thread.is_alive():
                raise RuntimeError(f"the server thread died during startup (port {port} taken?)")
            try:
                if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /health within {startup_timeout} s")
            time.sleep(0.02)
        yield Running(url, port, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        if thread.is_alive():
            raise RuntimeError(f"the server thread on port {port} did not stop within 10 s")
    if port_is_open(port):
        raise RuntimeError(f"port {port} still accepts connections after the server stopped")


class SQLiteStore:
    """An online feature store in one SQLite file: one connection per thread, reads only after loading.

    ``load(table, columns, rows, index)`` creates and fills a table (and an index on ``index``);
    ``query(sql, params)`` runs a read from any thread (uvicorn's pool threads each get their own
    connection, opened read-only).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with sqlite3.connect(path) as con:
            con.execute("PRAGMA journal_mode=WAL")

    def load(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], index: Sequence[str]) -> int:
        """Create ``table`` with integer ``columns``, insert ``rows``, index ``index``; return the row count."""
        for name in (table, *columns):
            if not name.isidentifier():
                raise ValueError(f"table/column name {name!r} must be a plain identifier")
        if not set(index) <= set(columns):
            raise ValueError(f"index={list(index)} must be a subset of columns={list(columns)}")
        with sqlite3.connect(self.path) as con:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"CREATE TABLE {table} ({', '.join(f'{c} INTEGER NOT NULL' for c in columns)})")
            con.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", rows)
            con.execute(f"CREATE INDEX {table}_idx ON {table} ({', '.join(index)})")
            (count,) = con.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        return int(count)

    def _connection(self) -> sqlite3.Connection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
            self._local.con = con
            with self._lock:
                self._all.append(con)
        return con

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read query, on this thread's connection."""
        return self._connection().execute(sql, params).fetchall()

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            for con in self._all:
                con.close()
            self._all.clear()
        self._local = threading.local()


_CLIENT = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
import httpx
url, concurrency = sys.argv[1], int(sys.argv[2])
payloads = json.load(sys.stdin)
parts = [payloads[i::concurrency] for i in range(concurrency)]
def client(part):
    times = []
    with httpx.Client(base_url=url, timeout=10.0) as c:
        for body in part:
            t0 = time.perf_counter()
            c.post("/score", json=body).raise_for_status()
            times.append((time.perf_counter() - t0) * 1e3)
    return times
start = time.perf_counter()
with ThreadPoolExecutor(concurrency) as pool:
    per_thread = list(pool.map(client, parts))
print(json.dumps({"ms": [t for ts in per_thread for t in ts], "seconds": time.perf_counter() - start}))
"""


def load_test(url: str, payloads: Sequence[dict[str, Any]], concurrency: int, timeout: float = 120.0) -> dict[str, Any]:
    """POST every payload to ``url + '/score'`` from ``concurrency`` client threads (keep-alive),
    run in a **separate Python process** so the client does not share the server's GIL.

    Returns the requests sent, the pooled median and p99 of every request's latency (ms), the
    throughput (requests a second over the whole run) and ``"ms"``, the per-request latencies.
    Every response must be 2xx; the client process is killed if it outlives ``timeout`` seconds.
    """
    if not 1 <= concurrency <= 64:
        raise ValueError(f"concurrency={concurrency} is out of range; valid range is [1, 64]")
    if len(payloads) < concurrency:
        raise ValueError(f"payloads holds {len(payloads)} requests; it needs at least concurrency={concurrency}")
    if not url.startswith(f"http://{HOST}:"):
        raise ValueError(f"url={url!r} must be a local service on http://{HOST}:<port>")
    proc = subprocess.Popen([sys.executable, "-c", _CLIENT, url, str(concurrency)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(json.dumps(list(payloads)), timeout=timeout)
    finally:
        if proc.poll() is None:   # still running (timeout or interrupt): stop the client we started
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"the load client failed (exit {proc.returncode}): {err.strip()[-300:]}")
    result = json.loads(out)
    ms = np.array(result["ms"])
    return {"requests": float(ms.size), "p50 (ms)": float(np.percentile(ms, 50)), "p99 (ms)": float(np.percentile(ms, 99)),
            "throughput (req/s)": ms.size / result["seconds"], "ms": ms}


# ---------------------------------------------------------------- offline helpers of notebook 07 (no HTTP)
def card_velocity(card: np.ndarray, t: np.ndarray, cents: np.ndarray, asof: np.ndarray, windows: dict[str, int],
                  tiny_cents: int = 500) -> dict[str, np.ndarray]:
    """Each row's card state from its card's payments strictly before ``asof[i]`` (numpy, whole table).

    Per window name ``w``: ``card_n_w`` (payments) and ``card_sum_w`` (amount, currency units); plus
    ``card_tiny_7d`` (payments under ``tiny_cents`` in the last 7 days, needs a ``"7d"`` window) and
    ``secs_since_prev`` (``t[i]`` minus the card's last payment before ``asof[i]``; NaN if none).
    """
    if not len(card) == len(t) == len(cents) == len(asof):
        raise ValueError(f"card, t, cents and asof need equal lengths; got {len(card)}, {len(t)}, {len(cents)}, {len(asof)}")
    if "7d" not in windows:
        raise ValueError(f"windows={list(windows)} must include '7d' (card_tiny_7d uses it)")
    order = np.lexsort((t, card))   # payments by card, then time; one sorted key card * 1e8 + t
    key, t_sorted, query = card[order] * 10**8 + t[order], t[order], card * 10**8 + asof
    csum, ctiny = (np.concatenate([[0], np.cumsum(v)]) for v in (cents[order], cents[order] < tiny_cents))
    hi, out = np.searchsorted(key, query, "left"), {}
    for name, window in windows.items():
        lo = np.searchsorted(key, query - window, "left")
        out[f"card_n_{name}"], out[f"card_sum_{name}"] = hi - lo, (csum[hi] - csum[lo]) / 100
    out["card_tiny_7d"] = ctiny[hi] - ctiny[np.searchsorted(key, query - windows["7d"], "left")]
    has_prev = (hi > 0) & (key[np.maximum(hi - 1, 0)] // 10**8 == card)
    out["secs_since_prev"] = np.where(has_prev, t - t_sorted[np.maximum(hi - 1, 0)], np.nan)
    return out


def hedge_draw(seed: int, n_sim: int, n: int, hiccup_p: float, hedge_after: float, shared: float = 0.0) -> dict[str, float]:
    """One simulated draw of a fan-out to ``n`` backends (lognormal body, median 8 ms, plus a 100–300 ms
    hiccup with probability ``hiccup_p``): p99 of the slowest call without and with a hedge sent after
    ``hedge_after`` ms, and the share of requests where some call's two copies both hiccup. ``shared``
    is the probability that the hedge copy meets the *same* hiccup (shared slowness)."""
    if not 0 <= shared <= 1 or not 0 <= hiccup_p <= 1:
        raise ValueError(f"shared={shared}, hiccup_p={hiccup_p}: both must be probabilities in [0, 1]")
    r = np.random.default_rng(seed)
    body1, body2 = r.lognormal(np.log(8), 0.35, (2, n_sim, n))
    hic1 = np.where(r.random((n_sim, n)) < hiccup_p, r.uniform(100, 300, (n_sim, n)), 0.0)
    hic2 = np.where(r.random((n_sim, n)) < shared, hic1, np.where(r.random((n_sim, n)) < hiccup_p, r.uniform(100, 300, (n_sim, n)), 0.0))
    slowest, hedged = (body1 + hic1).max(axis=1), np.minimum(body1 + hic1, hedge_after + body2 + hic2).max(axis=1)
    return {"p99 no fix (ms)": float(np.quantile(slowest, 0.99)), "p99 hedged (ms)": float(np.quantile(hedged, 0.99)),
            "requests where both copies hiccup": float(((hic1 > 0) & (hic2 > 0)).any(axis=1).mean())}


def read_through_hits(order: np.ndarray, card: np.ndarray, t: np.ndarray, ttl: int) -> tuple[np.ndarray, np.ndarray]:
    """Replay a read-through cache of each card's state over the payments ``order`` (by card, then time):
    a payment is a hit if its card's entry was filled less than ``ttl`` s ago; a miss refills the entry.
    Returns ``hit`` (bool per row) and ``source`` (the row whose state a hit reuses; itself on a miss)."""
    if ttl < 0:
        raise ValueError(f"ttl={ttl} is out of range; valid range is [0, inf) seconds")
    hit, source = np.zeros(len(card), bool), np.arange(len(card))
    fill, fill_card, cards, times = -1, -1, card.tolist(), t.tolist()
    for i in order.tolist():
        if cards[i] == fill_card and times[i] - times[fill] < ttl:
            hit[i], source[i] = True, fill
        else:
            fill, fill_card = i, cards[i]
    return hit, source


def _moments(arm: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.stack([arm.sum(axis=1), arm @ x, arm @ y, arm @ x**2, arm @ y**2, arm @ (x * y)])


def _ratio_var(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:   # sum(y)/sum(x) and one unit's delta-method variance
    k, sx, sy, sxx, syy, sxy = m
    mx, my = sx / k, sy / k
    vxx, vyy, vxy = (sxx - k * mx**2) / (k - 1), (syy - k * my**2) / (k - 1), (sxy - k * mx * my) / (k - 1)
    return my / mx, vyy / mx**2 - 2 * my * vxy / mx**3 + my**2 * vxx / mx**4


def ratio_guardrail(splits: np.ndarray, num_canary: np.ndarray, num_control: np.ndarray, den: np.ndarray,
                    min_units: int = 30, pooled: bool = True) -> np.ndarray:
    """z of (canary minus control) in a ratio metric per randomisation unit, for many splits and looks at once.

    ``splits``: splits x units (True = canary); ``num_canary``, ``num_control``, ``den``: looks x units
    (cumulative per unit: e.g. flags under each model, payments). Units with ``den == 0`` at a look are
    left out. The SE is the delta method of ``utils.abtest.ratio_and_se`` (Deng, Knoblich & Lu 2018);
    ``pooled=True`` estimates the per-unit variance from both arms together, as the pooled two-proportion
    z-test does (an early canary with no event yet has zero variance of its own); ``pooled=False`` equals
    ``utils.abtest.analyze_ratio``. Returns z, splits x looks (0 where the canary has < ``min_units``)."""
    splits = np.atleast_2d(np.asarray(splits, bool))
    if not num_canary.shape == num_control.shape == den.shape or den.shape[1] != splits.shape[1]:
        raise ValueError(f"num_canary, num_control, den must be looks x units with units = {splits.shape[1]}; got {num_canary.shape}, {num_control.shape}, {den.shape}")
    z = np.zeros((len(splits), len(den)))
    for j in range(len(den)):
        active = den[j] > 0
        m1 = _moments((splits & active).astype(float), num_canary[j], den[j])
        m0 = _moments((~splits & active).astype(float), num_control[j], den[j])
        (r1, u1), (r0, u0), k1, k0 = _ratio_var(m1), _ratio_var(m0), m1[0], m0[0]
        if pooled:
            u1 = u0 = _ratio_var(m1 + m0)[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            z[:, j] = np.where(k1 >= min_units, (r1 - r0) / np.sqrt(np.maximum(u1 / k1 + u0 / k0, 1e-18)), 0.0)
    return z
