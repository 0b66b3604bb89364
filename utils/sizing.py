"""Back-of-envelope sizing: the arithmetic of step 1 ("clarify the problem"), small and tested.

Every function validates its inputs up front: a bad value raises ``ValueError`` naming the
parameter, the value and the valid range (see :mod:`utils.validate`). Units are in the names:
``_rps`` requests per second, ``_bytes``, ``_ms``.

- :func:`requests_per_second` — daily users x sessions x requests, spread over the day, times a peak factor;
- :func:`rps_per_server` and :func:`servers_needed` — a server's throughput from its CPU cost per
  request, and a fleet for a peak at a target utilisation;
- :func:`storage_bytes` and :func:`hnsw_bytes_per_vector` — embeddings and features, with
  replication and index overhead;
- :func:`kv_store_bytes` — a key-value store's memory, with its per-key overhead;
- :func:`log_storage_bytes` — training logs kept for a retention period;
- :func:`bandwidth_bytes_per_second` — what the responses weigh on the wire;
- :func:`split_budget` — a latency budget split across stages, with the slack left over;
- :func:`all_within` and :func:`per_call_quantile_needed` — the tail of a fan-out;
- :func:`hedged` — per-call latencies when a backup copy is sent after a delay;
- :func:`excess_share` — the share of the load that arrives above a capacity;
- :func:`read_constants` — the numeric assignments of a notebook's source, read without running it;
- :func:`printed_number` — a number an executed notebook printed (its text outputs);
- :func:`label_gaps` — what a delayed fraud label misses (step 1 measures proxy gaps with it);
- :func:`human_bytes` — "1.2 GB" for a table.
"""

from __future__ import annotations

import ast
import json
import math
import operator
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from utils.validate import check_float, check_int

SECONDS_PER_DAY = 86_400
#: Bytes of one float32 value (IEEE 754 single precision), the usual storage type of an embedding.
FLOAT32_BYTES = 4


def requests_per_second(
    daily_users: float,
    sessions_per_user: float,
    requests_per_session: float = 1.0,
    peak_factor: float = 1.0,
    active_seconds: float = SECONDS_PER_DAY,
) -> float:
    """Requests per second: ``daily_users x sessions_per_user x requests_per_session`` spread
    evenly over ``active_seconds`` (a day by default), times ``peak_factor`` (1 = the average).

    Ranges: ``daily_users`` [0, 1e10], ``sessions_per_user`` and ``requests_per_session``
    [0, 1e4], ``peak_factor`` [1, 100], ``active_seconds`` [1, 86,400].
    """
    daily_users = check_float("daily_users", daily_users, 0.0, 1e10)
    sessions_per_user = check_float("sessions_per_user", sessions_per_user, 0.0, 1e4)
    requests_per_session = check_float("requests_per_session", requests_per_session, 0.0, 1e4)
    peak_factor = check_float("peak_factor", peak_factor, 1.0, 100.0)
    active_seconds = check_float("active_seconds", active_seconds, 1.0, float(SECONDS_PER_DAY))
    return daily_users * sessions_per_user * requests_per_session / active_seconds * peak_factor


def rps_per_server(cpu_ms_per_request: float, cores: int) -> float:
    """Requests per second one server completes when each request costs ``cpu_ms_per_request``
    of CPU and ``cores`` cores work in parallel: ``cores x 1000 / cpu_ms_per_request``.

    Ranges: ``cpu_ms_per_request`` [0.001, 1e6], ``cores`` [1, 1,024].
    """
    cpu_ms_per_request = check_float("cpu_ms_per_request", cpu_ms_per_request, 1e-3, 1e6)
    cores = check_int("cores", cores, 1, 1_024)
    return cores * 1_000.0 / cpu_ms_per_request


def servers_needed(peak_rps: float, rps_per_server: float, target_utilisation: float = 0.7) -> int:
    """Servers to serve ``peak_rps`` when each handles ``rps_per_server`` and runs at most at
    ``target_utilisation`` of that (headroom for bursts and a failed machine). At least 1.

    Ranges: ``peak_rps`` [0, 1e9], ``rps_per_server`` [0.001, 1e7], ``target_utilisation`` [0.05, 1].
    """
    peak_rps = check_float("peak_rps", peak_rps, 0.0, 1e9)
    rps_per_server = check_float("rps_per_server", rps_per_server, 1e-3, 1e7)
    target_utilisation = check_float("target_utilisation", target_utilisation, 0.05, 1.0)
    return max(1, math.ceil(peak_rps / (rps_per_server * target_utilisation) - 1e-9))


def storage_bytes(
    n_rows: float,
    values_per_row: float,
    bytes_per_value: float = FLOAT32_BYTES,
    replication: int = 1,
    index_overhead: float = 0.0,
) -> float:
    """Bytes to store ``n_rows`` rows of ``values_per_row`` values (an embedding's dimensions, a
    feature vector's length), ``replication`` copies, plus ``index_overhead`` as a share of the
    raw size (0.5 = the index adds half again).

    Ranges: ``n_rows`` [0, 1e12], ``values_per_row`` [1, 1e6], ``bytes_per_value`` [0.125, 16]
    (a bit to a complex double), ``replication`` [1, 10], ``index_overhead`` [0, 10].
    """
    n_rows = check_float("n_rows", n_rows, 0.0, 1e12)
    values_per_row = check_float("values_per_row", values_per_row, 1.0, 1e6)
    bytes_per_value = check_float("bytes_per_value", bytes_per_value, 0.125, 16.0)
    replication = check_int("replication", replication, 1, 10)
    index_overhead = check_float("index_overhead", index_overhead, 0.0, 10.0)
    return n_rows * values_per_row * bytes_per_value * replication * (1.0 + index_overhead)


def hnsw_bytes_per_vector(dim: int, m: int = 16, bytes_per_value: float = FLOAT32_BYTES) -> float:
    """Memory per vector of an HNSW index: the vector plus ``2 x m`` neighbour links of 4 bytes
    each on the base layer, ``dim * bytes_per_value + m * 8`` (hnswlib's ALGO_PARAMS.md puts the
    graph at "roughly M * 8-10 bytes per stored element"; this is the low end).

    Ranges: ``dim`` [1, 100,000], ``m`` [2, 256], ``bytes_per_value`` [0.125, 16].
    """
    dim = check_int("dim", dim, 1, 100_000)
    m = check_int("m", m, 2, 256)
    bytes_per_value = check_float("bytes_per_value", bytes_per_value, 0.125, 16.0)
    return dim * bytes_per_value + 2 * m * 4


def kv_store_bytes(
    n_keys: float, value_bytes: float, key_bytes: float = 16, per_key_overhead: float = 64, replication: int = 1
) -> float:
    """Memory of a key-value store holding ``n_keys`` values of ``value_bytes``: each entry also
    stores its key and ``per_key_overhead`` bytes of bookkeeping (hash-table entry, object
    headers, allocator rounding), times ``replication``.

    Ranges: ``n_keys`` [0, 1e12], ``value_bytes``, ``key_bytes`` and ``per_key_overhead`` [0, 1e9],
    ``replication`` [1, 10].
    """
    n_keys = check_float("n_keys", n_keys, 0.0, 1e12)
    value_bytes = check_float("value_bytes", value_bytes, 0.0, 1e9)
    key_bytes = check_float("key_bytes", key_bytes, 0.0, 1e9)
    per_key_overhead = check_float("per_key_overhead", per_key_overhead, 0.0, 1e9)
    replication = check_int("replication", replication, 1, 10)
    return n_keys * (value_bytes + key_bytes + per_key_overhead) * replication


def log_storage_bytes(events_per_day: float, bytes_per_event: float, retention_days: float, replication: int = 1) -> float:
    """Bytes of logs (impressions, clicks: tomorrow's training data) kept ``retention_days`` days:
    ``events_per_day x bytes_per_event x retention_days x replication``.

    Ranges: ``events_per_day`` [0, 1e15], ``bytes_per_event`` [0, 1e9], ``retention_days``
    [0, 36,500], ``replication`` [1, 10].
    """
    events_per_day = check_float("events_per_day", events_per_day, 0.0, 1e15)
    bytes_per_event = check_float("bytes_per_event", bytes_per_event, 0.0, 1e9)
    retention_days = check_float("retention_days", retention_days, 0.0, 36_500.0)
    replication = check_int("replication", replication, 1, 10)
    return events_per_day * bytes_per_event * retention_days * replication


def bandwidth_bytes_per_second(rps: float, bytes_per_response: float) -> float:
    """Bytes per second on the wire: ``rps x bytes_per_response``.

    Ranges: ``rps`` [0, 1e9], ``bytes_per_response`` [0, 1e9].
    """
    rps = check_float("rps", rps, 0.0, 1e9)
    bytes_per_response = check_float("bytes_per_response", bytes_per_response, 0.0, 1e9)
    return rps * bytes_per_response


def split_budget(total_ms: float, stages_ms: Mapping[str, float]) -> dict[str, float]:
    """Check that the stages fit in ``total_ms`` and return them with the ``"slack"`` left over.

    Raises ValueError naming the budget when the stages add up to more than it.
    Ranges: ``total_ms`` [0.001, 1e6]; each stage [0, total_ms].
    """
    total_ms = check_float("total_ms", total_ms, 1e-3, 1e6)
    if not stages_ms:
        raise ValueError("stages_ms must name at least one stage")
    out = {name: check_float(f"stages_ms[{name!r}]", ms, 0.0, total_ms) for name, ms in stages_ms.items()}
    used = sum(out.values())
    if used > total_ms + 1e-9:
        raise ValueError(f"stages_ms add up to {used:g} ms; valid range is [0, total_ms={total_ms:g}]")
    out["slack"] = total_ms - used
    return out


def all_within(per_call_quantile: float, fan_out: int) -> float:
    """Probability that a request fanning out to ``fan_out`` independent calls sees every call
    finish within the per-call ``per_call_quantile`` latency (e.g. each call's p99 -> 0.99):
    ``per_call_quantile ** fan_out``. The request waits for the slowest call.

    Ranges: ``per_call_quantile`` [0, 1], ``fan_out`` [1, 100,000].
    """
    per_call_quantile = check_float("per_call_quantile", per_call_quantile, 0.0, 1.0)
    fan_out = check_int("fan_out", fan_out, 1, 100_000)
    return per_call_quantile**fan_out


def per_call_quantile_needed(request_quantile: float, fan_out: int) -> float:
    """The quantile each of ``fan_out`` independent calls must meet so that the request meets
    ``request_quantile``: ``request_quantile ** (1 / fan_out)`` (the inverse of :func:`all_within`).

    Ranges: ``request_quantile`` [0, 1], ``fan_out`` [1, 100,000].
    """
    request_quantile = check_float("request_quantile", request_quantile, 0.0, 1.0)
    fan_out = check_int("fan_out", fan_out, 1, 100_000)
    return request_quantile ** (1.0 / fan_out)


def hedged(first_ms: np.ndarray, backup_ms: np.ndarray, hedge_after_ms: float) -> np.ndarray:
    """Latency of each call when a backup copy is sent if the first has not answered after
    ``hedge_after_ms`` and the caller takes whichever answers first ("hedged requests", Dean and
    Barroso 2013): ``first`` if it is within the delay, else ``min(first, delay + backup)``.

    Ranges: ``first_ms`` and ``backup_ms`` arrays of one shape, finite and >= 0; ``hedge_after_ms`` [0, 1e9].
    """
    first, backup = np.asarray(first_ms, dtype=float), np.asarray(backup_ms, dtype=float)
    if first.shape != backup.shape:
        raise ValueError(f"first_ms and backup_ms must have one shape; got {first.shape} and {backup.shape}")
    if not (np.isfinite(first).all() and np.isfinite(backup).all()) or (first < 0).any() or (backup < 0).any():
        raise ValueError("latencies must be finite and >= 0; valid range is [0, inf)")
    hedge_after_ms = check_float("hedge_after_ms", hedge_after_ms, 0.0, 1e9)
    return np.where(first <= hedge_after_ms, first, np.minimum(first, hedge_after_ms + backup))


def excess_share(arrivals: np.ndarray, capacity: float) -> float:
    """Share of all arrivals that come above ``capacity`` in their time bin:
    ``sum(max(0, arrivals - capacity)) / sum(arrivals)`` (the load a fleet of that size cannot serve
    on time), not the share of arrivals in over-capacity bins.

    Ranges: ``arrivals`` a non-empty array of finite values >= 0 with a positive sum; ``capacity`` [0, 1e12].
    """
    a = np.asarray(arrivals, dtype=float)
    if a.size == 0 or not np.isfinite(a).all() or (a < 0).any() or a.sum() <= 0:
        raise ValueError("arrivals must be non-empty, finite, >= 0 and not all zero")
    capacity = check_float("capacity", capacity, 0.0, 1e12)
    return float(np.maximum(a - capacity, 0.0).sum() / a.sum())


_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arithmetic(node: ast.AST, names: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_arithmetic(node.left, names), _arithmetic(node.right, names))
    return ast.literal_eval(node)  # a dict or list of literals; anything else raises ValueError


def read_constants(
    path: str | Path | None = None, *, text: str | None = None, require: Iterable[str] = ()
) -> dict[str, Any]:
    """The top-level assignments of a Python source (a jupytext notebook) whose values are numbers,
    arithmetic of numbers and earlier such names, or literal dicts and lists: ``a, b = 2_000_000, 3``
    and ``rate = a * b / 86_400`` give ``{"a": 2000000, "b": 3, "rate": 69.4...}``. Nothing is run;
    any other assignment is skipped. Pass the file's ``path`` or its source ``text`` (not both).

    Raises ValueError if the file does not exist, and, for each name in ``require`` the source does
    not assign a readable value, a ValueError naming the constant and the file (a case study that
    renamed or dropped an input fails here, loudly, not later with a bare ``KeyError``).
    """
    if (path is None) == (text is None):
        raise ValueError("pass exactly one of path and text")
    if text is None:
        if not Path(path).is_file():  # type: ignore[arg-type]
            raise ValueError(f"path={str(path)!r} is not a file")
        text = Path(path).read_text(encoding="utf-8")  # type: ignore[arg-type]
    names: dict[str, Any] = {}
    for node in ast.parse(text).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
            continue
        target, value = node.targets[0], node.value
        pairs = (list(zip(target.elts, value.elts, strict=False)) if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple)
                 else [(target, value)])
        for name, expression in pairs:
            if isinstance(name, ast.Name):
                try:
                    names[name.id] = _arithmetic(expression, names)
                except (ValueError, TypeError, SyntaxError, ZeroDivisionError):
                    continue
    missing = [name for name in require if name not in names]
    if missing:
        source = str(path) if path is not None else "the given text"
        raise ValueError(f"constant(s) {', '.join(map(repr, missing))} not assigned a number, dict or list "
                         f"at the top level of {source}; the cross-check needs them: read that file's inputs again")
    return names


def printed_number(notebook: str | Path, pattern: str) -> tuple[float, float]:
    """A number an executed notebook *printed*: the first match of the regular expression
    ``pattern`` (one group, the number; thousands commas allowed) in the text outputs of its code
    cells. Returns the number and half a unit of its last printed digit (``"0.011"`` gives
    ``(0.011, 0.0005)``), the tolerance within which a recomputation agrees with it.

    Raises ValueError naming the file if it does not exist, is not a notebook, or has no output
    matching ``pattern`` (not executed, or the case study no longer prints that line).
    """
    path = Path(notebook)
    if not path.is_file():
        raise ValueError(f"notebook={str(path)!r} is not a file")
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ValueError(f"notebook={str(path)!r} is not a Jupyter notebook: {error}") from None
    regex = re.compile(pattern)
    for cell in cells:
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            match = regex.search("".join(text) if isinstance(text, list) else text)
            if match:
                digits = match.group(1).replace(",", "")
                decimals = len(digits.partition(".")[2])
                return float(digits), 0.5 * 10.0**-decimals
    raise ValueError(f"no output of {path} matches {pattern!r}: execute it, or read the line it prints now")


def label_gaps(transactions: Any, window_days: int = 14) -> Any:
    """Shares of fraud a chargeback label misses in a fraud world's ``transactions`` (columns
    ``is_fraud``, ``timestamp``, ``label_available_at``; optional ``chargeback``): fraud of the last
    ``window_days`` without a label yet, and, only where the world has a ``chargeback`` column (it
    models fraud never disputed and chargebacks on non-fraud), the share of fraud never charged back
    and the share of chargebacks that are not fraud. Returns a pandas Series.

    Ranges: ``window_days`` [1, 3,650]; ``transactions`` must hold fraud in the window.
    """
    import pandas as pd

    window_days = check_int("window_days", window_days, 1, 3_650)
    tx = transactions
    fraud, now = tx["is_fraud"] == 1, tx["timestamp"].max()
    disputed = tx["chargeback"] == 1 if "chargeback" in tx.columns else fraud
    recent = tx["timestamp"] > now - pd.Timedelta(days=window_days)
    if not (fraud & recent).any():
        raise ValueError(f"no fraud in the last window_days={window_days} days; valid range needs some")
    known = disputed & (tx["label_available_at"] <= now)
    gaps = {f"fraud of the last {window_days} days without a chargeback yet":
            1 - (known & fraud & recent).sum() / (fraud & recent).sum()}
    if "chargeback" in tx.columns:
        gaps |= {"fraud never charged back": 1 - (disputed & fraud).sum() / fraud.sum(),
                 "chargebacks on payments that were not fraud": 1 - (disputed & fraud).sum() / disputed.sum()}
    return pd.Series(gaps, dtype=float)


def human_bytes(n_bytes: float) -> str:
    """``1.2 GB`` style, decimal units (1 kB = 1,000 bytes), 3 significant digits."""
    n_bytes = check_float("n_bytes", n_bytes, 0.0, 1e24)
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB"):
        if n_bytes < 1000 or unit == "ZB":
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1000
    raise AssertionError("unreachable")  # pragma: no cover
