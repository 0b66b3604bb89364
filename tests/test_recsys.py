"""Unit tests of the recommendations world (utils/recsys.py) and its bring-your-own-data loader."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from utils.recsys import (
    FACTOR_GRID_BITS,
    GRID_BITS,
    RecsysWorld,
    gini,
    load_interactions,
    make_world,
    on_grid,
)
from utils.recsys_byo import make_burst_log, split_periods

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "09_case_recommendations.ipynb"
SMALL = dict(n_users=600, n_items=800, days=14)


@pytest.fixture(scope="module")
def world() -> RecsysWorld:
    return make_world(3, **SMALL)


@pytest.fixture(scope="module")
def default_world() -> RecsysWorld:
    return make_world(0)


# ----- shapes, sizes, determinism ---------------------------------------------------------------
def test_default_sizes_and_columns(default_world: RecsysWorld) -> None:
    w = default_world
    assert len(w.users) == 5_000 and len(w.items) == 10_000
    assert w.user_vectors.shape == (5_000, 16) and w.item_vectors.shape == (10_000, 16)
    assert list(w.log.columns) == [
        "user_id", "item_id", "day", "timestamp", "position", "clicked", "watch_fraction", "satisfied"
    ]
    assert w.log["day"].between(0, 27).all()
    assert w.log["timestamp"].is_monotonic_increasing
    assert w.log["user_id"].between(0, 4_999).all() and w.log["item_id"].between(0, 9_999).all()


def test_same_seed_same_world_other_seed_differs(world: RecsysWorld) -> None:
    again = make_world(3, **SMALL)
    pd.testing.assert_frame_equal(world.log, again.log)
    pd.testing.assert_frame_equal(world.items, again.items)
    other = make_world(4, **SMALL)
    assert not world.log["item_id"].equals(other.log["item_id"])


def test_base_rates(default_world: RecsysWorld) -> None:
    log = default_world.log
    assert 0.04 <= log["clicked"].mean() <= 0.12  # organic CTR
    assert 0.5 <= log.loc[log["clicked"], "satisfied"].mean() <= 0.9  # most clicks satisfy
    assert not (log["watch_fraction"][~log["clicked"]] > 0).any()  # watch only after a click
    assert 0.05 <= default_world.items["clickbait"].mean() <= 0.11


# ----- planted signals ----------------------------------------------------------------------
def test_clickbait_wins_clicks_and_loses_watch(default_world: RecsysWorld) -> None:
    log, items = default_world.log, default_world.items
    bait = items["clickbait"].to_numpy()[log["item_id"].to_numpy()]
    assert log["clicked"][bait].mean() > 2 * log["clicked"][~bait].mean()
    clicked = log["clicked"].to_numpy()
    assert log["watch_fraction"][bait & clicked].mean() < 0.5 * log["watch_fraction"][~bait & clicked].mean()


def test_popularity_is_a_power_law(default_world: RecsysWorld) -> None:
    counts = np.sort(np.bincount(default_world.log["item_id"], minlength=10_000))[::-1]
    assert counts[:100].sum() / counts.sum() > 0.3  # top 1 % of items get > 30 % of impressions
    assert gini(counts) > 0.6


def test_taste_drives_clicks(default_world: RecsysWorld) -> None:
    log = default_world.log
    aff = default_world.affinity(log["user_id"].to_numpy(), log["item_id"].to_numpy())
    high = aff > np.quantile(aff, 0.8)
    low = aff < np.quantile(aff, 0.2)
    assert log["clicked"][high].mean() > 2 * log["clicked"][low].mean()


def test_position_bias(default_world: RecsysWorld) -> None:
    ctr = default_world.log.groupby("position")["clicked"].mean()
    assert ctr.iloc[0] > 2 * ctr.iloc[-1]


def test_oracle_matches_the_log(default_world: RecsysWorld) -> None:
    log = default_world.log.iloc[:200_000]
    u, i = log["user_id"].to_numpy(), log["item_id"].to_numpy()
    exam = 1 / (1 + log["position"].to_numpy()) ** 0.5
    predicted = (default_world.click_probability(u, i) * exam).mean()
    assert abs(predicted - log["clicked"].mean()) < 0.005
    sat = default_world.satisfied_click_probability(u, i) * exam
    assert abs(sat.mean() - log["satisfied"].mean()) < 0.005
    # matrix form equals pairwise form
    users, items = np.arange(5), np.arange(7)
    grid = default_world.expected_satisfaction(users[:, None], items[None, :])
    assert grid.shape == (5, 7)
    assert np.allclose(grid[2, 3], default_world.expected_satisfaction(np.array([2]), np.array([3]))[0])


def test_logged_positive_rate_ranks_test_positives(default_world: RecsysWorld) -> None:
    log = default_world.log
    pos = log[log["satisfied"]].iloc[:2_000]
    rng = np.random.default_rng(0)
    random_items = rng.integers(0, 10_000, len(pos))
    users = pos["user_id"].to_numpy()
    assert (
        default_world.logged_positive_rate(users, pos["item_id"].to_numpy()).mean()
        > 5 * default_world.logged_positive_rate(users, random_items).mean()
    )


# ----- simulator -----------------------------------------------------------------------------
def test_simulator_shapes_and_determinism(world: RecsysWorld) -> None:
    n = len(world.users)
    policy = np.tile(np.arange(30), (n, 1))
    a = world.simulate(policy, days=3, seed=1)
    b = world.simulate(policy, days=3, seed=1)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
    pd.testing.assert_frame_equal(a.impressions, b.impressions)
    assert len(a.sessions) == 3 * n
    assert (a.sessions["impressions"][a.sessions["active"] == 1] == 10).all()
    assert a.impressions["item_id"].between(0, 29).all()
    per_user = a.per_user()
    assert len(per_user) == n and (per_user["clicks"] <= per_user["impressions"]).all()


def test_simulator_does_not_repeat_clicked_items(world: RecsysWorld) -> None:
    n = len(world.users)
    res = world.simulate(np.tile(np.arange(40), (n, 1)), days=6, seed=2)
    clicks = res.impressions[res.impressions["clicked"]]
    assert not clicks.duplicated(["user_id", "item_id"]).any()


def test_simulator_function_policy_and_subset(world: RecsysWorld) -> None:
    users = np.arange(50)
    seen_days = []

    def policy(active: np.ndarray, day: int) -> np.ndarray:
        seen_days.append(day)
        return np.tile(np.arange(day % 5, day % 5 + 10), (len(active), 1))

    res = world.simulate(policy, days=2, user_ids=users, seed=0, start_day=100)
    assert seen_days == [100, 101]
    assert set(res.sessions["user_id"]) == set(users)


def test_satisfying_policy_brings_users_back(default_world: RecsysWorld) -> None:
    """The planted online signal: good lists raise return visits; clickbait lists lower them."""
    w = default_world
    users = np.arange(2_000)
    bait_items = np.flatnonzero(w.items["clickbait"].to_numpy())
    good = np.argsort(-w.expected_satisfaction(users[:, None], np.arange(len(w.items))[None, :]), axis=1)[:, :30]
    bait = np.tile(bait_items[:30], (len(users), 1))
    good_res = w.simulate(good, days=10, user_ids=users, seed=0).per_user()
    bait_res = w.simulate(bait, days=10, user_ids=users, seed=0).per_user()
    assert good_res["active"].mean() > bait_res["active"].mean() + 0.3
    assert good_res["watch"].mean() > 2 * bait_res["watch"].mean()


def test_simulator_rejects_bad_policies(world: RecsysWorld) -> None:
    n = len(world.users)
    with pytest.raises(ValueError, match="policy must be an integer array of shape"):
        world.simulate(np.zeros((n - 1, 5), dtype=int), days=1)
    with pytest.raises(ValueError, match="policy must be an integer array"):
        world.simulate(np.zeros((n, 5)), days=1)
    with pytest.raises(ValueError, match="policy item ids must lie in"):
        world.simulate(np.full((n, 5), 10**6), days=1)
    with pytest.raises(ValueError, match="days=0 is out of range"):
        world.simulate(np.zeros((n, 5), dtype=int), days=0)
    with pytest.raises(ValueError, match="n_slots"):
        world.simulate(np.zeros((n, 5), dtype=int), days=1, n_slots=0)
    with pytest.raises(ValueError, match="policy item ids must lie in"):
        world.simulate(lambda users, day: np.full((len(users), 5), 10**6), days=1)
    with pytest.raises(ValueError, match="policy function must return shape"):
        world.simulate(lambda users, day: np.zeros((1, 5, 2), dtype=int), days=1)
    with pytest.raises(ValueError, match="user_ids must lie in"):
        world.simulate(np.zeros((1, 5), dtype=int), days=1, user_ids=np.array([n]))


# ----- knobs -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("knob", "value", "message"),
    [
        ("seed", -1, "seed=-1 is out of range"),
        ("n_users", 10, "n_users=10 is out of range; valid range is"),
        ("n_items", 2_000_000, "n_items=2,000,000 is out of range"),
        ("n_categories", 1, "n_categories=1 is out of range"),
        ("days", 3, "days=3 is out of range"),
        ("dim", 0, "dim=0 is out of range"),
        ("popularity_exponent", 3.0, "popularity_exponent=3 is out of range"),
        ("clickbait_share", -0.1, "clickbait_share=-0.1 is out of range"),
        ("slate_size", 1, "slate_size=1 is out of range"),
        ("popular_slots", 50, r"popular_slots=50 is out of range; valid range is \[0, 20\]"),
        ("n_users", 1.5, "n_users must be an integer"),
    ],
)
def test_bad_knobs_raise(knob: str, value: object, message: str) -> None:
    kwargs = dict(SMALL)
    if knob == "seed":
        with pytest.raises(ValueError, match=message):
            make_world(value, **kwargs)  # type: ignore[arg-type]
        return
    kwargs[knob] = value
    with pytest.raises(ValueError, match=message):
        make_world(0, **kwargs)  # type: ignore[arg-type]


def test_gini() -> None:
    assert gini(np.ones(100)) == pytest.approx(0.0)
    assert gini(np.r_[np.zeros(99), 1.0]) == pytest.approx(0.99)
    assert gini(np.zeros(5)) == 0.0


# ----- bring your own data ---------------------------------------------------------------------
def _write_csv(path: Path, world: RecsysWorld, **renames: str) -> Path:
    pos = world.log[world.log["satisfied"]]
    frame = pd.DataFrame(
        {
            "user_id": "u" + pos["user_id"].astype(str),
            "item_id": "i" + pos["item_id"].astype(str),
            "timestamp": pos["timestamp"],
            "rating": (pos["watch_fraction"] * 5).round(1),
        }
    ).rename(columns=renames)
    frame.to_csv(path, index=False)
    return path


def test_load_interactions_valid(tmp_path: Path, world: RecsysWorld) -> None:
    data = load_interactions(_write_csv(tmp_path / "ok.csv", world))
    assert list(data.columns) == ["user_id", "item_id", "timestamp", "weight", "positive", "user", "item"]
    assert data["timestamp"].is_monotonic_increasing
    assert data["user"].max() + 1 == data["user_id"].nunique()
    assert data.attrs["timestamp_unit"] == "seconds"
    assert (data["positive"] == (data["weight"] > 0)).all()  # default rule: a rating above 0


def test_load_interactions_dates_and_no_weight(tmp_path: Path) -> None:
    path = tmp_path / "dates.csv"
    rows = [f"u{i % 12},i{i % 60},2024-01-{1 + i % 28:02d}" for i in range(120)]
    path.write_text("user_id,item_id,timestamp\n" + "\n".join(rows) + "\n", encoding="utf-8")
    data = load_interactions(path)
    assert data.attrs["timestamp_unit"] == "dates" and (data["weight"] == 1.0).all() and data["positive"].all()
    assert data["timestamp"].is_monotonic_increasing


def test_positive_threshold_and_milliseconds(tmp_path: Path) -> None:
    seconds = make_burst_log(1, n_users=60, n_items=80)
    path_s, path_ms = tmp_path / "s.csv", tmp_path / "ms.csv"
    seconds.to_csv(path_s, index=False)
    make_burst_log(1, n_users=60, n_items=80, milliseconds=True).to_csv(path_ms, index=False)
    a, b = load_interactions(path_s, positive_at=4.0), load_interactions(path_ms, positive_at=4.0)
    assert b.attrs["timestamp_unit"] == "milliseconds" and a.attrs["timestamp_unit"] == "seconds"
    np.testing.assert_array_equal(a["timestamp"], b["timestamp"])  # milliseconds detected and converted
    assert a["positive"].sum() == (seconds["rating"] >= 4.0).sum() < len(a)  # a 1-star rating is no positive
    assert load_interactions(path_s)["positive"].all()  # every rating of this log is above 0


def test_load_interactions_errors(tmp_path: Path, world: RecsysWorld) -> None:
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_interactions(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['timestamp'\]"):
        load_interactions(_write_csv(tmp_path / "a.csv", world, timestamp="time"))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['item_id'\]"):
        load_interactions(_write_csv(tmp_path / "b.csv", world, item_id="item"))
    bad_time = tmp_path / "c.csv"
    bad_time.write_text("user_id,item_id,timestamp\na,x,yesterday\n", encoding="utf-8")
    with pytest.raises(ValueError, match="column 'timestamp'"):
        load_interactions(bad_time)
    bad_rating = tmp_path / "d.csv"
    bad_rating.write_text("user_id,item_id,timestamp,rating\na,x,1,good\n", encoding="utf-8")
    with pytest.raises(ValueError, match="column 'rating' must be numeric"):
        load_interactions(bad_rating)
    empty_user = tmp_path / "e.csv"
    empty_user.write_text("user_id,item_id,timestamp\n,x,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="column 'user_id' has 1 empty"):
        load_interactions(empty_user)


def _ratings(path: Path, n_rows: int, n_users: int, n_items: int, rating: float = 4.0) -> Path:
    rows = [f"u{i % n_users},i{(i * 7) % n_items},{1_000_000 + 3_600 * i},{rating}" for i in range(n_rows)]
    path.write_text("user_id,item_id,timestamp,rating\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_unusable_files_name_the_problem(tmp_path: Path) -> None:
    """The cases that used to fail deep inside numpy or scipy: each now says what is wrong."""
    with pytest.raises(ValueError, match="only 12 rows; the notebook needs at least 100"):
        load_interactions(_ratings(tmp_path / "tiny.csv", 12, 5, 10))
    with pytest.raises(ValueError, match="only 20 distinct items; the notebook needs at least 50"):
        load_interactions(_ratings(tmp_path / "few_items.csv", 500, 50, 20))
    with pytest.raises(ValueError, match="only 4 distinct users"):
        load_interactions(_ratings(tmp_path / "few_users.csv", 500, 4, 100))
    with pytest.raises(ValueError, match=r"no positive interaction: no row has rating > 0 \(largest rating: 0\)"):
        load_interactions(_ratings(tmp_path / "zero.csv", 500, 50, 100, rating=0.0))
    with pytest.raises(ValueError, match=r"no row has rating >= 4.5 \(POSITIVE_AT\).*lower POSITIVE_AT"):
        load_interactions(_ratings(tmp_path / "low.csv", 500, 50, 100, rating=4.0), positive_at=4.5)
    with pytest.raises(ValueError, match=r"every user has exactly one row \(900 users\)"):
        load_interactions(_ratings(tmp_path / "one_each.csv", 900, 900, 100))  # used to crash: unary ~ on csr_matrix
    same_time = _ratings(tmp_path / "same_time.csv", 500, 50, 100)
    same_time.write_text("\n".join(",".join([*line.split(",")[:2], "1000000", line.split(",")[3]]) if i else line
                                   for i, line in enumerate(same_time.read_text().splitlines())) + "\n")
    with pytest.raises(ValueError, match="every row has the same timestamp"):
        load_interactions(same_time)  # used to run silently, the split following the file's order
    assert len(load_interactions(_ratings(tmp_path / "ok.csv", 500, 50, 100))) == 500  # the same shape, usable


# ----- the burst-style log and the temporal split ------------------------------------------------------
def test_burst_log_is_bursty_and_spread_over_years() -> None:
    log = make_burst_log(0)
    assert list(log.columns) == ["user_id", "item_id", "timestamp", "rating"]
    assert log["timestamp"].is_monotonic_increasing
    years = (log["timestamp"].max() - log["timestamp"].min()) / 86_400 / 365.25
    assert 15 <= years <= 20
    per_user = log.groupby("user_id")
    days_active = per_user["timestamp"].agg(lambda t: (t.max() - t.min()) / 86_400)
    assert days_active.median() < 7  # each user active for a few days only
    assert per_user.size().min() >= 20 and per_user.size().max() > 5 * per_user.size().median() / 2  # heavy tail
    assert set(np.unique(log["rating"] * 2)) <= set(range(1, 11))  # half stars 0.5-5
    assert 3.2 <= log["rating"].mean() <= 3.9 and 0.3 <= (log["rating"] >= 4).mean() <= 0.65
    assert not log.duplicated(["user_id", "item_id"]).any()
    pd.testing.assert_frame_equal(log, make_burst_log(0))
    assert not log.equals(make_burst_log(1))
    with pytest.raises(ValueError, match="n_users=5 is out of range"):
        make_burst_log(0, n_users=5)
    with pytest.raises(ValueError, match="years=0 is out of range"):
        make_burst_log(0, years=0)


def test_split_periods_falls_back_to_a_per_user_holdout(world: RecsysWorld) -> None:
    log = make_burst_log(0)
    user, t, pos = log["user_id"].to_numpy(), log["timestamp"].to_numpy() / 86_400, (log["rating"] >= 4).to_numpy()
    glob = np.select([t >= t.min() + 0.75 * np.ptp(t), t >= t.min() + 0.5 * np.ptp(t)], [2, 1], 0)
    with_history = np.intersect1d(user[(glob == 2) & pos], user[glob < 2])
    assert len(with_history) < 100  # the global split leaves too few users: the reason for the fallback
    period, rule = split_periods(user, t, pos, min_users=100)
    assert rule.startswith("per-user holdout")
    frame = pd.DataFrame({"user": user, "t": t, "period": period})
    assert (frame.groupby("user")["period"].max() == 2).all()  # every user has a test period ...
    assert (frame.groupby("user")["period"].min() == 0).all()  # ... and a history
    last_train = frame[frame["period"] < 2].groupby("user")["t"].max()
    first_test = frame[frame["period"] == 2].groupby("user")["t"].min()
    assert (last_train <= first_test).all()  # within a user, the test is the future
    w = world.log  # users who return day after day: the global split leaves enough of them
    wt = w["timestamp"].to_numpy() / 86_400
    same, rule = split_periods(w["user_id"], wt, w["satisfied"], min_users=100)
    assert rule.startswith("global")
    assert np.array_equal(same, np.select([wt >= wt.max() * 0.75 + wt.min() * 0.25, wt >= (wt.max() + wt.min()) / 2], [2, 1], 0))
    with pytest.raises(ValueError, match="one length"):
        split_periods(user[:5], t, pos)
    with pytest.raises(ValueError, match="no user can be evaluated"):
        split_periods(np.arange(300), np.arange(300.0), np.ones(300, bool))  # one row per user


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="notebook not built yet")
def test_notebook_runs_on_a_burst_style_ratings_log(tmp_path: Path) -> None:
    """The DATA_PATH path on a real-like log: users rating in bursts over 20 years, in milliseconds.

    The global time split would leave too few users, so the notebook holds out each user's last
    quarter; at least 100 users are evaluated and the ranker is compared with popularity.
    """
    import re

    from nbclient import NotebookClient

    csv = tmp_path / "ratings.csv"
    make_burst_log(0, milliseconds=True).to_csv(csv, index=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source += f"\nDATA_PATH = {str(csv)!r}\n"
        if cell.cell_type == "code" and "widgets.interact" in cell.source:
            cell.source = "pass  # widget not needed here"
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    text = "\n".join(
        out.get("text", "") + "".join(out.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
    )
    assert not any(out.get("output_type") == "error" for cell in notebook.cells for out in cell.get("outputs", []))
    assert "timestamps read as milliseconds" in text
    assert "per-user holdout" in text
    assert int(re.search(r"([\d,]+) evaluation users", text).group(1).replace(",", "")) >= 100
    assert "Skipped: the A/B test needs the simulator" in text
    assert "Skipped: the feedback loop needs the simulator" in text
    assert re.search(r"most popular\s+0\.\d{3}", text) and re.search(r"ranker, k = \d+\s+0\.\d{3}", text)
    print(text[text.index("timestamps read as"):][:200])
    print(re.findall(r"(?:most popular|ranker, k = \d+|stage 1 alone|co-occurrence)\s+0\.\d{3}", text))


def test_satisfied_share_matches_the_beta_model() -> None:
    """The fast uniform-grid interpolation behind the oracle equals np.interp and the Beta model."""
    from scipy.special import betainc

    from utils.recsys import _SHARE_GRID, SATISFIED_AT, WATCH_PRECISION, _satisfied_share

    mean = np.linspace(-0.1, 1.1, 5_001)  # includes values outside the grid (clipped)
    fast = _satisfied_share(mean)
    table = 1.0 - betainc(_SHARE_GRID * WATCH_PRECISION, (1 - _SHARE_GRID) * WATCH_PRECISION, SATISFIED_AT)
    assert np.allclose(fast, np.interp(mean, _SHARE_GRID, table), rtol=0, atol=1e-12)
    inside = np.clip(mean, _SHARE_GRID[0], _SHARE_GRID[-1])
    exact = 1.0 - betainc(inside * WATCH_PRECISION, (1 - inside) * WATCH_PRECISION, SATISFIED_AT)
    assert np.abs(fast - exact).max() < 1e-4


# ----- kernel independence: vectors on a dyadic grid ------------------------------------------------
def test_on_grid_makes_dot_products_exact_in_any_order() -> None:
    rng = np.random.default_rng(5)
    a, b = on_grid(rng.normal(size=(50, 32))), on_grid(rng.normal(size=(60, 32)))
    assert a.dtype == np.float64 and np.array_equal(a, np.round(a * 2**GRID_BITS) / 2**GRID_BITS)
    by_blas = a @ b.T
    terms = a[:, None, :] * b[None, :, :]
    for order in (np.arange(32), np.arange(32)[::-1], rng.permutation(32)):
        in_order = np.zeros((50, 60))
        for d in order:  # one summation order after another: the sums must agree to the last bit
            in_order += terms[:, :, d]
        assert np.array_equal(in_order, by_blas)
    assert not np.signbit(on_grid(np.array([-1e-9]))).any()  # no -0.0: same bytes everywhere


def test_factor_grid_absorbs_last_bit_noise() -> None:
    """Factors from BLAS go on the coarser grid: noise far below its step does not move them."""
    assert FACTOR_GRID_BITS < GRID_BITS
    rng = np.random.default_rng(6)
    x = rng.normal(scale=0.05, size=(200, 32))
    step = 2.0**-FACTOR_GRID_BITS
    scaled = x / step
    x = x[np.abs(np.abs(scaled - np.floor(scaled)) - 0.5).min(axis=1) * step > 1e-9]  # no entry near a midpoint
    noisy = x + rng.uniform(-5e-13, 5e-13, size=x.shape)  # kernel-sized differences
    assert np.array_equal(on_grid(x, bits=FACTOR_GRID_BITS), on_grid(noisy, bits=FACTOR_GRID_BITS))
    assert np.array_equal(on_grid(x, bits=FACTOR_GRID_BITS) / step, np.round(x / step))


def test_on_grid_refuses_values_too_large_to_stay_exact() -> None:
    with pytest.raises(ValueError, match="too large"):
        on_grid(np.full((2, 32), 1e4))


def test_world_vectors_lie_on_the_grid(world: RecsysWorld) -> None:
    for vectors in (world.user_vectors, world.item_vectors):
        assert np.array_equal(vectors, on_grid(vectors))
    users, items = np.arange(5), np.arange(7)
    matrix = world.affinity(users[:, None], items[None, :])  # matrix product (BLAS)
    pairs = world.affinity(np.repeat(users, 7).reshape(5, 7), np.tile(items, (5, 1)))  # einsum
    assert np.array_equal(matrix, pairs)
