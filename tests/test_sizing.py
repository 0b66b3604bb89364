"""Unit tests of utils.sizing: the back-of-envelope functions of notebook 01."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from utils import sizing


def test_requests_per_second_reproduces_the_case_studies() -> None:
    # 09: 2 M daily users x 3 visits, 3x peak; 11: 5 M searches, 3x peak; 13: 800 people x 2/week in 8 h days
    assert sizing.requests_per_second(2_000_000, 3, 1, 3) == pytest.approx(208.333, rel=1e-4)
    assert sizing.requests_per_second(5_000_000, 1, 1, 3) == pytest.approx(173.611, rel=1e-4)
    assert sizing.requests_per_second(800, 2 / 5, 1, 10, active_seconds=8 * 3_600) == pytest.approx(0.1111, rel=1e-3)
    assert sizing.requests_per_second(0, 3) == 0.0


def test_requests_per_second_scales_linearly() -> None:
    base = sizing.requests_per_second(1_000_000, 2, 5, 1)
    assert sizing.requests_per_second(1_000_000, 2, 5, 4) == pytest.approx(4 * base)
    assert sizing.requests_per_second(1_000_000, 4, 5, 1) == pytest.approx(2 * base)
    assert base == pytest.approx(1_000_000 * 2 * 5 / 86_400)


def test_servers_needed_rounds_up_with_headroom() -> None:
    assert sizing.servers_needed(70, 100, 0.7) == 1
    assert sizing.servers_needed(70.5, 100, 0.7) == 2
    assert sizing.servers_needed(0, 100) == 1  # never zero machines
    assert sizing.servers_needed(1_000, 100, 1.0) == 10
    assert sizing.servers_needed(1_000, 100, 0.5) == 20


def test_storage_bytes_matches_numpy() -> None:
    array = np.zeros((1_234, 37), dtype=np.float32)
    assert sizing.storage_bytes(1_234, 37) == array.nbytes
    assert sizing.storage_bytes(1_234, 37, bytes_per_value=8) == array.astype(np.float64).nbytes
    assert sizing.storage_bytes(10, 4, replication=3, index_overhead=0.5) == 10 * 4 * 4 * 3 * 1.5


def test_hnsw_bytes_per_vector_follows_hnswlib() -> None:
    assert sizing.hnsw_bytes_per_vector(768, m=16) == 768 * 4 + 16 * 2 * 4
    assert sizing.hnsw_bytes_per_vector(64, m=8, bytes_per_value=1) == 64 + 64


def test_bandwidth() -> None:
    assert sizing.bandwidth_bytes_per_second(200, 1_000) == 200_000
    assert sizing.bandwidth_bytes_per_second(0, 1_000) == 0


def test_split_budget_reports_slack_and_rejects_overruns() -> None:
    out = sizing.split_budget(100, {"retrieval": 20, "ranking": 50})
    assert out == {"retrieval": 20.0, "ranking": 50.0, "slack": 30.0}
    with pytest.raises(ValueError, match=r"add up to 110 ms; valid range is \[0, total_ms=100\]"):
        sizing.split_budget(100, {"retrieval": 60, "ranking": 50})
    with pytest.raises(ValueError, match="at least one stage"):
        sizing.split_budget(100, {})
    with pytest.raises(ValueError, match=r"stages_ms\['ranking'\]=120 is out of range"):
        sizing.split_budget(100, {"ranking": 120})


def test_fan_out_tail() -> None:
    # "The Tail at Scale" (Dean and Barroso 2013): 1 % slow calls, fan-out 100 -> 63 % of requests slow
    assert 1 - sizing.all_within(0.99, 100) == pytest.approx(0.634, abs=1e-3)
    assert sizing.all_within(0.99, 1) == pytest.approx(0.99)
    needed = sizing.per_call_quantile_needed(0.99, 50)
    assert sizing.all_within(needed, 50) == pytest.approx(0.99)
    assert needed == pytest.approx(0.99980, abs=1e-5)


def test_fan_out_matches_a_simulation() -> None:
    rng = np.random.default_rng(0)
    calls = rng.lognormal(0.0, 0.5, size=(40_000, 20))
    p99 = np.quantile(calls, 0.99)
    share = float((calls.max(axis=1) <= p99).mean())
    assert share == pytest.approx(sizing.all_within(0.99, 20), abs=0.01)


def test_rps_per_server_and_kv_and_logs() -> None:
    assert sizing.rps_per_server(10, 8) == 800
    assert sizing.rps_per_server(0.5, 1) == 2_000
    assert sizing.kv_store_bytes(1_000, 256, key_bytes=16, per_key_overhead=64, replication=3) == 1_000 * 336 * 3
    assert sizing.kv_store_bytes(10, 4, per_key_overhead=0, key_bytes=0) == sizing.storage_bytes(10, 1)
    # the review's figure: 2 M users x 3 sessions x 20 impressions x 1 kB = 120 GB a day
    assert sizing.log_storage_bytes(2e6 * 3 * 20, 1_000, 1) == 120e9
    assert sizing.log_storage_bytes(10, 100, 30, replication=2) == 60_000


def test_hedged_takes_the_backup_only_after_the_delay() -> None:
    first, backup = np.array([1.0, 9.0, 30.0, 12.0]), np.array([50.0, 1.0, 2.0, 50.0])
    np.testing.assert_allclose(sizing.hedged(first, backup, 10.0), [1.0, 9.0, 12.0, 12.0])
    np.testing.assert_allclose(sizing.hedged(first, backup, 1e6), first)  # never hedges
    assert (sizing.hedged(first, backup, 0.0) <= first).all()


def test_excess_share_counts_load_not_bins() -> None:
    day = np.array([1.0, 1.0, 4.0, 4.0])
    assert sizing.excess_share(day, 3.0) == pytest.approx(2 / 10)  # two bins over, by 1 each
    assert sizing.excess_share(day, 4.0) == 0.0
    assert sizing.excess_share(day, 0.0) == 1.0


def test_read_constants_reads_without_running(tmp_path: Any) -> None:
    source = tmp_path / "nb.py"
    source.write_text("import os\na, b = 2_000_000, 3\nrate = a * b / 86_400 * 3\nd = {'x': 1}\n"
                      "skip = os.getcwd()\nc = a * undefined\n", encoding="utf-8")
    out = sizing.read_constants(source)
    assert out == {"a": 2_000_000, "b": 3, "rate": pytest.approx(208.333, rel=1e-5), "d": {"x": 1}}
    with pytest.raises(ValueError, match="is not a file"):
        sizing.read_constants(tmp_path / "missing.py")
    assert sizing.read_constants(text="x = 2\ny = x * 3") == {"x": 2, "y": 6}
    with pytest.raises(ValueError, match="exactly one of path and text"):
        sizing.read_constants()


def test_read_constants_names_a_missing_constant_and_its_file(tmp_path: Any) -> None:
    source = tmp_path / "13_case.py"
    source.write_text("employees, per_week = 800, 2\nload = employees * per_week\n", encoding="utf-8")
    assert sizing.read_constants(source, require=("employees", "per_week"))["load"] == 1_600
    with pytest.raises(ValueError, match=r"'per_second_avg' not assigned .* of .*13_case\.py") as caught:
        sizing.read_constants(source, require=("employees", "per_second_avg"))
    assert not isinstance(caught.value, KeyError)
    with pytest.raises(ValueError, match=r"'x' not assigned .* the given text"):
        sizing.read_constants(text="y = 1", require=["x"])


def test_printed_number_reads_an_executed_notebooks_output(tmp_path: Any) -> None:
    import json

    notebook = tmp_path / "13.ipynb"
    cells = [{"cell_type": "markdown", "source": "0.5 per second on average"},
             {"cell_type": "code", "outputs": [{"output_type": "stream", "text": ["load: 73,600 a year, ", "0.011 per second on average\n"]}]},
             {"cell_type": "code", "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1,234.5 per day"}}]}]
    notebook.write_text(json.dumps({"cells": cells}), encoding="utf-8")
    assert sizing.printed_number(notebook, r"([\d.,]+) per second on average") == (0.011, pytest.approx(0.0005))
    assert sizing.printed_number(notebook, r"([\d.,]+) per day") == (1234.5, pytest.approx(0.05))
    with pytest.raises(ValueError, match=r"no output of .*13\.ipynb matches"):
        sizing.printed_number(notebook, r"([\d.]+) per hour")
    with pytest.raises(ValueError, match="is not a file"):
        sizing.printed_number(tmp_path / "missing.ipynb", r"(\d+)")
    (tmp_path / "bad.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a Jupyter notebook"):
        sizing.printed_number(tmp_path / "bad.ipynb", r"(\d+)")


def test_label_gaps_adds_chargeback_rows_only_when_the_column_exists() -> None:
    import pandas as pd

    stamp = pd.Timestamp("2026-01-01")
    planted = pd.DataFrame({"is_fraud": [1, 1, 1, 1, 0], "chargeback": [1, 1, 1, 0, 1], "timestamp": stamp,
                            "label_available_at": [stamp + pd.Timedelta(days=1)] + [stamp] * 4})
    assert sizing.label_gaps(planted).tolist() == [0.5, 0.25, 0.25]   # row 0 not yet labelled; row 3 never
    without = sizing.label_gaps(planted.drop(columns="chargeback"))
    assert without.tolist() == [0.25]   # every fraud disputed: only the not-yet-labelled row counts
    with pytest.raises(ValueError, match="no fraud in the last"):
        sizing.label_gaps(planted.assign(is_fraud=0))


def test_human_bytes() -> None:
    assert sizing.human_bytes(512) == "512 B"
    assert sizing.human_bytes(1_536_000) == "1.54 MB"
    assert sizing.human_bytes(48e9) == "48 GB"


BAD_INPUTS: list[tuple[Callable[..., Any], dict[str, Any], str]] = [
    (sizing.requests_per_second, {"daily_users": -1, "sessions_per_user": 1}, r"daily_users=-1 is out of range; valid range is \[0, 1e\+10\]"),
    (sizing.requests_per_second, {"daily_users": 10, "sessions_per_user": 1, "peak_factor": 0.5}, r"peak_factor=0.5 is out of range; valid range is \[1, 100\]"),
    (sizing.requests_per_second, {"daily_users": 10, "sessions_per_user": 1, "active_seconds": 0}, r"active_seconds=0 is out of range"),
    (sizing.requests_per_second, {"daily_users": "many", "sessions_per_user": 1}, r"daily_users must be a number"),
    (sizing.servers_needed, {"peak_rps": 10, "rps_per_server": 0}, r"rps_per_server=0 is out of range"),
    (sizing.servers_needed, {"peak_rps": 10, "rps_per_server": 5, "target_utilisation": 1.5}, r"target_utilisation=1.5 is out of range; valid range is \[0.05, 1\]"),
    (sizing.storage_bytes, {"n_rows": 10, "values_per_row": 0}, r"values_per_row=0 is out of range"),
    (sizing.storage_bytes, {"n_rows": 10, "values_per_row": 4, "replication": 0}, r"replication=0 is out of range; valid range is \[1, 10\]"),
    (sizing.storage_bytes, {"n_rows": 10, "values_per_row": 4, "replication": 2.5}, r"replication must be an integer"),
    (sizing.storage_bytes, {"n_rows": math.nan, "values_per_row": 4}, r"n_rows=nan is out of range"),
    (sizing.hnsw_bytes_per_vector, {"dim": 0}, r"dim=0 is out of range"),
    (sizing.hnsw_bytes_per_vector, {"dim": 8, "m": 1}, r"m=1 is out of range; valid range is \[2, 256\]"),
    (sizing.bandwidth_bytes_per_second, {"rps": -5, "bytes_per_response": 10}, r"rps=-5 is out of range"),
    (sizing.split_budget, {"total_ms": 0, "stages_ms": {"a": 0}}, r"total_ms=0 is out of range"),
    (sizing.all_within, {"per_call_quantile": 1.2, "fan_out": 3}, r"per_call_quantile=1.2 is out of range; valid range is \[0, 1\]"),
    (sizing.all_within, {"per_call_quantile": 0.9, "fan_out": 0}, r"fan_out=0 is out of range"),
    (sizing.per_call_quantile_needed, {"request_quantile": -0.1, "fan_out": 3}, r"request_quantile=-0.1 is out of range"),
    (sizing.rps_per_server, {"cpu_ms_per_request": 0, "cores": 8}, r"cpu_ms_per_request=0 is out of range"),
    (sizing.rps_per_server, {"cpu_ms_per_request": 1, "cores": 0}, r"cores=0 is out of range; valid range is \[1, 1,024\]"),
    (sizing.kv_store_bytes, {"n_keys": -1, "value_bytes": 8}, r"n_keys=-1 is out of range"),
    (sizing.kv_store_bytes, {"n_keys": 1, "value_bytes": 8, "replication": 0}, r"replication=0 is out of range"),
    (sizing.log_storage_bytes, {"events_per_day": 1, "bytes_per_event": 8, "retention_days": -1}, r"retention_days=-1 is out of range"),
    (sizing.hedged, {"first_ms": np.ones(3), "backup_ms": np.ones(2), "hedge_after_ms": 1}, r"must have one shape"),
    (sizing.hedged, {"first_ms": -np.ones(2), "backup_ms": np.ones(2), "hedge_after_ms": 1}, r"latencies must be finite and >= 0"),
    (sizing.hedged, {"first_ms": np.ones(2), "backup_ms": np.ones(2), "hedge_after_ms": -1}, r"hedge_after_ms=-1 is out of range"),
    (sizing.excess_share, {"arrivals": np.zeros(3), "capacity": 1}, r"not all zero"),
    (sizing.excess_share, {"arrivals": np.ones(3), "capacity": -1}, r"capacity=-1 is out of range"),
    (sizing.human_bytes, {"n_bytes": -1}, r"n_bytes=-1 is out of range"),
]


@pytest.mark.parametrize(("function", "kwargs", "message"), BAD_INPUTS,
                         ids=[f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(BAD_INPUTS)])
def test_bad_inputs_name_the_parameter_value_and_range(function: Callable[..., Any], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        function(**kwargs)
