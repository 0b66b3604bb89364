"""Unit tests of the churn world: shapes, determinism, base rates, bad knobs, planted signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from utils.churn import OFFER_RESPONSES, ChurnWorld, make_churn_world

SMALL = dict(n_customers=6_000)


@pytest.fixture(scope="module")
def world() -> ChurnWorld:
    return make_churn_world(seed=1, **SMALL)


def _label(world: ChurnWorld, ids: np.ndarray, week: int) -> np.ndarray:
    churn = world.customers["churn_week"].to_numpy(dtype=float, na_value=np.inf)[ids]
    return (churn >= week) & (churn < week + world.horizon_weeks)


def test_shapes_and_columns(world: ChurnWorld) -> None:
    n = 6_000
    assert list(world.customers.columns) == [
        "customer_id", "plan", "signup_week", "start_price", "churn_week", "cancel_page_visited"]
    assert len(world.customers) == n and len(world.truth) == n
    assert world.hazard.shape == (n, world.n_weeks + world.horizon_weeks)
    assert set(world.activity.columns) == {"customer_id", "week", "sessions"}
    assert world.activity["week"].between(0, world.n_weeks - 1).all()
    assert set(world.campaign_log.columns) == {"customer_id", "campaign_week", "treated", "churned"}
    assert world.decision_week == world.n_weeks == 52
    assert set(world.truth["offer_response"].cat.categories) == set(OFFER_RESPONSES)


def test_observed_tables_stop_at_cancellation(world: ChurnWorld) -> None:
    churn = world.customers["churn_week"].to_numpy(dtype=float, na_value=np.inf)
    signup = world.customers["signup_week"].to_numpy()
    act = world.activity
    ids, weeks = act["customer_id"].to_numpy(), act["week"].to_numpy()
    assert (weeks < churn[ids]).all() and (weeks >= np.maximum(signup[ids], 0)).all()
    assert (world.customers["churn_week"].dropna() < world.n_weeks).all()


def test_same_seed_same_world_and_different_seed_differs() -> None:
    a, b = make_churn_world(seed=3, n_customers=2_000), make_churn_world(seed=3, n_customers=2_000)
    pd.testing.assert_frame_equal(a.customers, b.customers)
    pd.testing.assert_frame_equal(a.activity, b.activity)
    pd.testing.assert_frame_equal(a.campaign_log, b.campaign_log)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    c = make_churn_world(seed=4, n_customers=2_000)
    assert not a.activity.equals(c.activity)


def test_base_rate_and_eligibility(world: ChurnWorld) -> None:
    ids = world.eligible(32)
    rate = _label(world, ids, 32).mean()
    assert 0.05 <= rate <= 0.2, rate
    # the true probability is calibrated against the labels it generated
    assert abs(world.true_churn_probability(ids, 32).mean() - rate) < 0.02
    assert world.truth["eligible"].sum() == len(world.eligible(world.decision_week))


@pytest.mark.parametrize(
    ("knob", "value", "message"),
    [
        ("seed", -1, "seed=-1 is out of range"),
        ("n_customers", 10, r"n_customers=10 is out of range; valid range is \[1,000, 2,000,000\]"),
        ("n_weeks", 200, r"n_weeks=200 is out of range; valid range is \[30, 104\]"),
        ("horizon_weeks", 1, r"horizon_weeks=1 is out of range; valid range is \[2, 13\]"),
        ("campaign_week", 50, r"campaign_week=50 is out of range; valid range is \[8, 44\]"),
        ("base_hazard", 0.5, r"base_hazard=0.5 is out of range; valid range is \[0.0005, 0.05\]"),
        ("decline_share", 1.5, r"decline_share=1.5 is out of range"),
        ("price_rise_share", -0.1, r"price_rise_share=-0.1 is out of range"),
        ("service_issue_share", float("nan"), r"service_issue_share=nan is out of range"),
        ("leak_strength", 2, r"leak_strength=2 is out of range"),
        ("treat_share", 0.95, r"treat_share=0.95 is out of range; valid range is \[0.1, 0.9\]"),
        ("n_customers", 2.5, "n_customers must be an integer"),
    ],
)
def test_bad_knobs_raise_with_knob_value_and_range(knob: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_churn_world(**{knob: value})


def test_bad_simulator_inputs_raise(world: ChurnWorld) -> None:
    ids = world.eligible(world.decision_week)[:10]
    with pytest.raises(ValueError, match="offer_cost=-1 is out of range"):
        world.run_campaign(ids, -1.0, 100.0)
    with pytest.raises(ValueError, match="customer_value"):
        world.run_campaign(ids, 1.0, float("inf"))
    not_eligible = np.setdiff1d(np.arange(len(world.customers)), world.eligible(world.decision_week))
    with pytest.raises(ValueError, match="eligible at the decision week"):
        world.run_campaign(not_eligible[:5], 1.0, 100.0)
    with pytest.raises(ValueError, match="eligible at the decision week"):
        world.run_campaign(np.array([10**9]), 1.0, 100.0)
    with pytest.raises(ValueError, match="snapshot_week=3 is out of range"):
        world.eligible(3)


def test_leak_is_recorded_after_the_snapshot(world: ChurnWorld) -> None:
    """The exported flag is far more predictive than the same flag rebuilt point-in-time."""
    ids = world.eligible(32)
    y = _label(world, ids, 32)
    exported = world.customers["cancel_page_visited"].to_numpy()[ids]
    visits = world.cancel_page_visits
    before = np.isin(ids, visits.loc[visits["week"] < 32, "customer_id"].to_numpy())
    assert y[exported].mean() > 3 * y[~exported].mean()
    assert exported.mean() > 4 * before.mean()
    assert exported[y].mean() > 0.8  # nearly every canceller is flagged in the export


def test_engagement_tickets_and_price_rises_drive_churn(world: ChurnWorld) -> None:
    week, ids = 32, world.eligible(32)
    y = _label(world, ids, week)
    act = world.activity
    sessions = act.pivot(index="customer_id", columns="week", values="sessions").reindex(ids)
    trend = (sessions.loc[:, week - 4:week - 1].mean(axis=1) + 0.5) / (
        sessions.loc[:, week - 12:week - 5].mean(axis=1) + 0.5)
    dropped = trend.to_numpy() < 0.5
    assert y[dropped].mean() > 1.5 * y[~dropped].mean()
    tk = world.tickets[world.tickets["week"].between(week - 4, week - 1)]
    many = np.isin(ids, tk.groupby("customer_id")["n_tickets"].sum().loc[lambda s: s >= 2].index)
    assert y[many].mean() > 1.5 * y[~many].mean()
    pc = world.price_changes
    rose = np.isin(ids, pc.loc[pc["week"].between(week - 8, week - 1), "customer_id"].to_numpy())
    assert y[rose].mean() > 1.5 * y[~rose].mean()


def test_offer_effect_sizes_match_the_realism_targets(world: ChurnWorld) -> None:
    """Targets from the data card (published retention experiments): a few points on average."""
    t = world.truth[world.truth["eligible"]]
    uplift = np.sort(t["true_uplift"].to_numpy())
    tenth = len(uplift) // 10
    assert 0.005 <= uplift.mean() <= 0.025  # average effect: about one to two points of churn
    assert 0.10 <= (uplift < 0).mean() <= 0.35  # a minority is pushed out by the contact
    assert 0.05 <= uplift[-tenth:].mean() <= 0.15  # the best tenth: several points
    assert -0.08 <= uplift[:tenth].mean() <= -0.01  # the worst tenth: a few points worse
    risk_rank = t["p_churn_without_offer"].rank().to_numpy()
    corr = np.corrcoef(risk_rank, t["true_uplift"].rank().to_numpy())[0, 1]
    assert -0.2 <= corr <= 0.45  # risk is not uplift (Ascarza 2018)


def test_offer_effect_depends_on_several_features(world: ChurnWorld) -> None:
    t = world.truth[world.truth["eligible"]]
    log_mult = np.log(t["offer_multiplier"].to_numpy())
    plan = world.customers["plan"].to_numpy()[t.index]
    assert log_mult[plan == "basic"].mean() < log_mult[plan != "basic"].mean() - 0.05
    assert log_mult[t["service_issue"].to_numpy()].mean() > log_mult[~t["service_issue"].to_numpy()].mean()
    dormant = t["engagement"].to_numpy() < -1.5
    assert log_mult[dormant].mean() > log_mult[~dormant].mean() + 0.05
    pc = world.price_changes
    hit = np.isin(t.index, pc.loc[pc["week"] >= world.decision_week - 12, "customer_id"].to_numpy())
    assert log_mult[hit].mean() < log_mult[~hit].mean() - 0.2


def test_outcome_types_come_from_the_paired_outcomes(world: ChurnWorld) -> None:
    t = world.truth[world.truth["eligible"]]
    without, with_ = t["churns_without_offer"], t["churns_with_offer"]
    types = t["offer_response"].astype(str)
    assert (types[without & ~with_] == "persuadable").all()
    assert (types[~without & with_] == "sleeping dog").all()
    assert (types[without & with_] == "lost cause").all()
    assert (types[~without & ~with_] == "sure thing").all()
    assert (t.groupby("offer_response", observed=True).size() > 10).all()
    # common random numbers: an offer that lowers the hazard never turns a stayer into a leaver
    helps = t["offer_multiplier"] < 1
    assert not (types[helps] == "sleeping dog").any() and not (types[~helps] == "persuadable").any()


def test_campaign_log_is_randomised_and_shows_the_average_effect(world: ChurnWorld) -> None:
    log = world.campaign_log
    assert 0.4 < log["treated"].mean() < 0.6
    assert log["campaign_week"].nunique() == 1
    assert (log["campaign_week"] + world.horizon_weeks <= world.n_weeks).all()
    rates = log.groupby("treated")["churned"].mean()
    assert abs(rates[True] - rates[False]) < 0.05  # small on average; the heterogeneity is the story


def test_simulator_is_consistent_with_the_truth(world: ChurnWorld) -> None:
    t = world.truth
    ids = world.eligible(world.decision_week)
    everyone = world.run_campaign(ids, 2.0, 100.0)
    assert everyone.contacted == len(ids)
    assert everyone.cost == pytest.approx(2.0 * len(ids))
    assert everyone.saved == int(t["churns_without_offer"].sum() - t["churns_with_offer"].sum())
    assert everyone.expected_saved == pytest.approx(t.loc[ids, "true_uplift"].sum())
    assert everyone.net_value == pytest.approx(everyone.value_saved - everyone.cost)
    best = ids[np.argsort(-t.loc[ids, "true_uplift"].to_numpy())[:300]]
    risky = ids[np.argsort(-t.loc[ids, "p_churn_without_offer"].to_numpy())[:300]]
    assert world.run_campaign(best, 0, 0).saved > world.run_campaign(risky, 0, 0).saved + 20
    empty = world.run_campaign(np.array([], dtype=int), 5.0, 100.0)
    assert empty.contacted == 0 and empty.net_value == 0
    # duplicates are contacted once
    assert world.run_campaign(np.concatenate([best, best]), 1.0, 1.0).contacted == 300

