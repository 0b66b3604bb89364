"""Unit tests of utils/ladder.py: shapes, time splits, determinism, intervals, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from utils.ladder import churn_tables, fraud_tables, ladder_table, past_window, pr_auc, t_interval


@pytest.fixture(scope="module")
def churn():
    return churn_tables(0, 2_000)


@pytest.fixture(scope="module")
def fraud():
    return fraud_tables(0, 20_000)


def test_churn_tables_shapes_and_oracle(churn) -> None:
    (X, y), (Xv, _), (Xt, yt, p) = churn["train"], churn["valid"], churn["test"]
    assert list(X.columns) == list(Xv.columns) == list(Xt.columns)
    assert len(X) == len(y) and len(Xt) == len(yt) == len(p)
    assert 0.03 < y.mean() < 0.25 and np.all((p >= 0) & (p <= 1))
    assert not X.isna().any().any()
    # the oracle ranks better than chance and better than any single column
    assert pr_auc(yt, p) > max(pr_auc(yt, Xt[c]) for c in Xt.columns)


def test_fraud_tables_shapes_and_split(fraud) -> None:
    (X, y), (Xt, yt, p) = fraud["train"], fraud["test"]
    assert list(X.columns) == list(Xt.columns) and not X.isna().any().any()
    assert y.sum() > 0 and yt.sum() > 0 and len(p) == len(yt)


def test_tables_are_deterministic() -> None:
    a, b = churn_tables(3, 1_000), churn_tables(3, 1_000)
    assert a["train"][0].equals(b["train"][0]) and np.array_equal(a["test"][2], b["test"][2])


def test_past_window_counts_only_earlier_rows() -> None:
    entity, t = np.array([1, 1, 1, 2]), np.array([0, 10, 100, 5])
    count, total = past_window(entity, t, np.array([1.0, 2.0, 4.0, 8.0]), window=50)
    assert count.tolist() == [0, 1, 0, 0] and total.tolist() == [0.0, 1.0, 0.0, 0.0]


def test_intervals_and_ladder_table() -> None:
    mean, low, high = t_interval([1.0, 2.0, 3.0])
    assert mean == 2.0 and low < 2.0 < high
    runs = [{"a": 0.1, "b": 0.2 + s / 100, "oracle": 0.5} for s in range(4)]
    table = ladder_table(runs, ["a", "b", "oracle"])
    assert table.loc["b", "seeds with a gain"] == 4 and table.loc["b", "gain 95 % low"] > 0
    assert np.isnan(table.loc["oracle", "gain over rung below"]) and table.loc["oracle", "share of oracle"] == 1


def test_bad_inputs_name_the_parameter() -> None:
    with pytest.raises(ValueError, match="n_customers"):
        churn_tables(0, 10)
    with pytest.raises(ValueError, match="n_transactions"):
        fraud_tables(0, 10)
    with pytest.raises(ValueError, match="at least 2"):
        t_interval([1.0])
    with pytest.raises(ValueError, match="at least 2"):
        ladder_table([{"a": 1.0, "oracle": 1.0}], ["a", "oracle"])
