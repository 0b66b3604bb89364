"""The churn world: subscribers, weekly activity, a leaky CRM flag, and a retention-offer simulator.

One call, :func:`make_churn_world`, builds a subscription business observed for ``n_weeks`` weeks:

- ``customers``: plan, starting price, sign-up week, cancellation week (if observed) and the CRM
  flag ``cancel_page_visited`` -- a *current-state* column exported at the end of the data, which
  is the planted leak (most visits happen in the very week a customer cancels);
- ``activity``: sessions per customer and week while subscribed;
- ``tickets``, ``price_changes`` and ``cancel_page_visits``: timestamped event logs;
- ``campaign_log``: a past randomised retention campaign (treated vs control, churn within the
  horizon), for learning who the offer changes;
- ground truth: the weekly churn hazard behind every label, each customer's paired potential
  outcomes at the decision week (churns with / without the offer, on the same random draws), the
  outcome type they imply (persuadable, sure thing, lost cause, sleeping dog), and a campaign
  simulator, :meth:`ChurnWorld.run_campaign`, with common random numbers so that "contacted" and
  "not contacted" are compared on the same future.

Everything is vectorised over customers (the only loops run over weeks or are inside numpy),
deterministic per ``seed``, and every knob is validated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from utils.validate import check_float, check_int, check_seed

PLANS = ("basic", "standard", "premium")
PLAN_PRICE = np.array([8.0, 13.0, 20.0])  # monthly price per plan, in euros
PLAN_SHARE = np.array([0.45, 0.35, 0.20])
PLAN_HAZARD = np.array([0.3, 0.0, -0.4])  # log-odds shift of the weekly hazard per plan
MIN_HISTORY_WEEKS = 8  # a customer needs this much history to be eligible at a snapshot
OFFER_RESPONSES = ("persuadable", "sure thing", "lost cause", "sleeping dog")
PRICE_WINDOW_WEEKS = 12  # a price rise this recent makes a discount answer the customer's grievance
#: The offer multiplies the weekly hazard by exp(log-multiplier); the log-multiplier is a sum of
#: these terms (see :func:`offer_log_multiplier` and the data card for the realism targets).
OFFER_EFFECT = {
    "base": -0.10,          # everyone: a small goodwill effect of a discount
    "price_hit": -0.45,     # per unit of (recent rise / 20 %): the discount undoes the grievance
    "basic_plan": -0.15,    # basic-plan customers are more price-sensitive
    "new_customer": -0.15,  # tenure under 26 weeks: still forming the habit
    "dormancy": 0.20,       # per unit of dormancy (latent engagement below -1, capped at 1.5)
    "service": 0.10,        # a discount to someone whose service is broken irritates
    "noise_sd": 0.25,       # unobservable individual differences
}


@dataclass(frozen=True)
class CampaignResult:
    """What a retention campaign did, measured against the same future without it."""

    contacted: int
    saved: int  # customers who stay because of the offer, minus those it pushed out
    expected_saved: float  # the same in expectation (from the true probabilities)
    cost: float  # offer cost x contacted
    value_saved: float  # value of the customers saved
    net_value: float  # value_saved - cost

    def as_dict(self) -> dict[str, float]:
        return {
            "contacted": self.contacted, "saved": self.saved,
            "expected_saved": self.expected_saved, "cost": self.cost,
            "value_saved": self.value_saved, "net_value": self.net_value,
        }


@dataclass(frozen=True)
class ChurnWorld:
    """A generated churn world. Observed tables first, ground truth after them."""

    customers: pd.DataFrame
    activity: pd.DataFrame
    tickets: pd.DataFrame
    price_changes: pd.DataFrame
    cancel_page_visits: pd.DataFrame
    campaign_log: pd.DataFrame
    truth: pd.DataFrame  # per customer at the decision week (see the data card)
    hazard: np.ndarray = field(repr=False)  # (n_customers, n_weeks + horizon) true weekly hazard
    params: dict[str, int | float] = field(default_factory=dict)

    @property
    def n_weeks(self) -> int:
        return int(self.params["n_weeks"])

    @property
    def horizon_weeks(self) -> int:
        return int(self.params["horizon_weeks"])

    @property
    def decision_week(self) -> int:
        """The week the next campaign is decided: the first week not yet observed."""
        return self.n_weeks

    def eligible(self, snapshot_week: int) -> np.ndarray:
        """Customer ids subscribed at ``snapshot_week`` with at least 8 weeks of history."""
        snapshot_week = check_int("snapshot_week", snapshot_week, MIN_HISTORY_WEEKS, self.n_weeks)
        c = self.customers
        churn = c["churn_week"].to_numpy(dtype=float, na_value=np.inf)
        ok = (c["signup_week"].to_numpy() <= snapshot_week - MIN_HISTORY_WEEKS) & (churn >= snapshot_week)
        return c["customer_id"].to_numpy()[ok]

    def true_churn_probability(self, customer_ids: np.ndarray, snapshot_week: int) -> np.ndarray:
        """P(cancel within the horizon after ``snapshot_week``) from the true hazard (the oracle)."""
        snapshot_week = check_int("snapshot_week", snapshot_week, MIN_HISTORY_WEEKS, self.n_weeks)
        h = self.hazard[np.asarray(customer_ids), snapshot_week:snapshot_week + self.horizon_weeks]
        return 1.0 - np.prod(1.0 - h, axis=1)

    def run_campaign(
        self, contact_ids: np.ndarray, offer_cost: float, customer_value: float
    ) -> CampaignResult:
        """Send the retention offer to ``contact_ids`` at the decision week; return what happened.

        ``offer_cost`` is paid per contacted customer; a saved customer is worth
        ``customer_value`` scaled by their price relative to the average price (premium customers
        are worth more). "Saved" counts customers who would have cancelled within the horizon
        without the offer and stay with it, minus those whom the offer pushed to cancel.
        """
        offer_cost = check_float("offer_cost", offer_cost, 0.0, 10_000.0)
        customer_value = check_float("customer_value", customer_value, 0.0, 100_000.0)
        ids = np.unique(np.asarray(contact_ids, dtype=np.int64))
        truth = self.truth
        if ids.size and (
            ids.min() < 0 or ids.max() >= len(truth) or not truth["eligible"].to_numpy()[ids].all()
        ):
            raise ValueError(
                "contact_ids must be customers eligible at the decision week "
                f"(see world.eligible({self.decision_week}))"
            )
        rows = truth.iloc[ids]
        delta = rows["churns_without_offer"].to_numpy(int) - rows["churns_with_offer"].to_numpy(int)
        value = customer_value * rows["value_weight"].to_numpy()
        saved = int(delta.sum())
        cost = offer_cost * ids.size
        value_saved = float((delta * value).sum())
        return CampaignResult(
            contacted=int(ids.size), saved=saved,
            expected_saved=float(rows["true_uplift"].sum()), cost=float(cost),
            value_saved=value_saved, net_value=value_saved - float(cost),
        )


def offer_log_multiplier(
    price_hit: np.ndarray, basic_plan: np.ndarray, new_customer: np.ndarray,
    engagement: np.ndarray, service: np.ndarray, noise: np.ndarray,
) -> np.ndarray:
    """Log of the factor by which the retention offer multiplies a customer's weekly hazard.

    Negative: the offer lowers the hazard. ``price_hit`` is the size of a price rise in the last
    ``PRICE_WINDOW_WEEKS`` weeks in units of 20 % (0 if none); ``engagement`` is the latent
    engagement the week before; ``noise`` is the customer's unobservable term (standard normal).
    """
    e = OFFER_EFFECT
    dormancy = np.clip(-(engagement + 1.0), 0.0, 1.5)
    return (e["base"] + e["price_hit"] * price_hit + e["basic_plan"] * basic_plan
            + e["new_customer"] * new_customer + e["dormancy"] * dormancy
            + e["service"] * service + e["noise_sd"] * noise)


def outcome_types(churns_without: np.ndarray, churns_with: np.ndarray) -> np.ndarray:
    """Codes into OFFER_RESPONSES from paired potential outcomes (same future, offer or not)."""
    without, with_ = np.asarray(churns_without, bool), np.asarray(churns_with, bool)
    return np.select([without & ~with_, ~without & ~with_, without & with_], [0, 1, 2], default=3)


def make_churn_world(
    seed: int = 0,
    n_customers: int = 20_000,
    n_weeks: int = 52,
    horizon_weeks: int = 8,
    campaign_week: int | None = None,
    base_hazard: float = 0.004,
    decline_share: float = 0.35,
    price_rise_share: float = 0.6,
    service_issue_share: float = 0.12,
    leak_strength: float = 0.9,
    treat_share: float = 0.5,
) -> ChurnWorld:
    """Build a churn world.

    Parameters
    ----------
    seed: random seed (same seed, same world).
    n_customers: customers ever subscribed, in [1,000, 2,000,000].
    n_weeks: weeks observed, in [30, 104]; the decision week is ``n_weeks``.
    horizon_weeks: churn horizon H (weeks after a snapshot), in [2, 13].
    campaign_week: week of the past randomised campaign; default ``n_weeks - horizon - 4``.
    base_hazard: weekly cancellation hazard of an engaged, happy customer, in [0.0005, 0.05].
    decline_share: share of customers whose engagement starts to decline at some week, in [0, 1].
    price_rise_share: share of customers who get one price rise, in [0, 1].
    service_issue_share: share of customers with recurring service problems, in [0, 1].
    leak_strength: probability that a cancelling customer visits the cancel page in the week
        they cancel (the leak), in [0, 1].
    treat_share: share of the past campaign's eligible customers who got the offer, in [0.1, 0.9].
    """
    seed = check_seed(seed)
    n = check_int("n_customers", n_customers, 1_000, 2_000_000)
    n_weeks = check_int("n_weeks", n_weeks, 30, 104)
    horizon = check_int("horizon_weeks", horizon_weeks, 2, 13)
    if campaign_week is None:
        campaign_week = n_weeks - horizon - 4
    campaign_week = check_int("campaign_week", campaign_week, MIN_HISTORY_WEEKS, n_weeks - horizon)
    base_hazard = check_float("base_hazard", base_hazard, 0.0005, 0.05)
    decline_share = check_float("decline_share", decline_share, 0.0, 1.0)
    price_rise_share = check_float("price_rise_share", price_rise_share, 0.0, 1.0)
    service_issue_share = check_float("service_issue_share", service_issue_share, 0.0, 1.0)
    leak_strength = check_float("leak_strength", leak_strength, 0.0, 1.0)
    treat_share = check_float("treat_share", treat_share, 0.1, 0.9)

    rng = np.random.default_rng(seed)
    n_total = n_weeks + horizon  # the simulated future reaches one horizon past the decision week
    weeks = np.arange(n_total)

    # --- who they are -------------------------------------------------------------------------
    plan = rng.choice(len(PLANS), size=n, p=PLAN_SHARE)
    joins_late = rng.random(n) < 0.15
    signup = np.where(
        joins_late,
        rng.integers(1, n_weeks, size=n),
        -np.ceil(rng.exponential(80.0, size=n)).astype(np.int64),
    )
    baseline = np.exp(rng.normal(1.5, 0.6, size=n))  # typical sessions per week
    service = rng.random(n) < service_issue_share

    # --- latent engagement z: AR(1) wobble plus, for some, a decline from a random week ----------
    noise = rng.normal(0.0, 0.25, size=(n, n_total))
    wobble = lfilter([1.0], [1.0, -0.85], noise, axis=1)
    declines = rng.random(n) < decline_share
    decline_start = rng.integers(0, n_total, size=n)
    decline_slope = rng.uniform(0.06, 0.25, size=n)
    since = np.clip(weeks[None, :] - decline_start[:, None], 0, None)
    decline = np.where(declines[:, None], -np.minimum(decline_slope[:, None] * since, 3.0), 0.0)
    z = decline + wobble

    # --- observed behaviour ----------------------------------------------------------------------
    sessions = rng.poisson(baseline[:, None] * np.exp(z))
    ticket_rate = np.where(service, 0.4, 0.03)[:, None] + 0.06 * np.clip(-z, 0.0, None)
    tickets = rng.poisson(ticket_rate)
    kernel = np.ones(4)
    tickets_4w = lfilter(kernel, [1.0], tickets, axis=1)  # tickets in this week and the 3 before

    rises = rng.random(n) < price_rise_share
    rise_week = np.where(rises, rng.integers(4, n_total, size=n), n_total + 100)
    rise_pct = np.round(rng.uniform(0.10, 0.30, size=n), 2)
    start_price = PLAN_PRICE[plan]
    weeks_since_rise = weeks[None, :] - rise_week[:, None]
    recent_rise = (weeks_since_rise >= 0) & (weeks_since_rise < 16)

    tenure = weeks[None, :] - signup[:, None]
    logit = (
        np.log(base_hazard / (1.0 - base_hazard))
        + 0.9 * np.clip(-z, 0.0, 2.5)
        + 0.45 * np.minimum(tickets_4w, 4.0)
        + 1.5 * recent_rise * (rise_pct[:, None] / 0.2)
        + 0.8 * (tenure < 12)
        + PLAN_HAZARD[plan][:, None]
    )
    hazard = 1.0 / (1.0 + np.exp(-logit))

    # --- the offer's effect, as a function of the state at a given week ----------------------------
    offer_noise = rng.standard_normal(n)

    def multiplier_at(week: int) -> np.ndarray:
        hit = (week - rise_week > 0) & (week - rise_week <= PRICE_WINDOW_WEEKS)
        return np.exp(offer_log_multiplier(
            hit * rise_pct / 0.2, plan == 0, (week - signup) < 26, z[:, week - 1], service,
            offer_noise))

    # --- churn with common random numbers; the past campaign changes the hazard of the treated ---
    u = rng.random((n, n_total))
    subscribed_from = np.maximum(signup, 0)
    can_churn = weeks[None, :] >= subscribed_from[:, None]

    def first_churn(h: np.ndarray) -> np.ndarray:
        hit = (u < h) & can_churn
        return np.where(hit.any(axis=1), hit.argmax(axis=1), np.iinfo(np.int64).max)

    churn_untreated = first_churn(hazard)
    in_campaign = (signup <= campaign_week - MIN_HISTORY_WEEKS) & (churn_untreated >= campaign_week)
    treated = in_campaign & (rng.random(n) < treat_share)
    effective = hazard.copy()
    window = slice(campaign_week, campaign_week + horizon)
    campaign_multiplier = multiplier_at(campaign_week)
    effective[treated, window] = np.minimum(
        hazard[treated, window] * campaign_multiplier[treated, None], 1.0
    )
    churn = first_churn(effective)
    alive = (weeks[None, :] >= subscribed_from[:, None]) & (weeks[None, :] < churn[:, None])

    # cancel-page visits: most cancellers open it in the week they cancel; some browse and stay
    browse = (rng.random((n, n_total)) < np.minimum(0.15 * effective, 1.0)) & alive
    at_cancel = (weeks[None, :] == churn[:, None]) & (rng.random((n, n_total)) < leak_strength)
    visits = (browse | at_cancel)[:, :n_weeks]

    # --- observed tables (weeks < n_weeks only) --------------------------------------------------
    observed = alive[:, :n_weeks]
    cid, wk = np.nonzero(observed)
    activity = pd.DataFrame({
        "customer_id": cid.astype(np.int64), "week": wk.astype(np.int64),
        "sessions": sessions[cid, wk].astype(np.int64),
    })
    tickets_obs = tickets[:, :n_weeks] * observed
    cid_t, wk_t = np.nonzero(tickets_obs)
    tickets_df = pd.DataFrame({
        "customer_id": cid_t.astype(np.int64), "week": wk_t.astype(np.int64),
        "n_tickets": tickets_obs[cid_t, wk_t].astype(np.int64),
    })
    ids = np.arange(n, dtype=np.int64)
    rise_seen = rises & (rise_week < n_weeks) & (rise_week < churn) & (rise_week >= subscribed_from)
    price_changes = pd.DataFrame({
        "customer_id": ids[rise_seen], "week": rise_week[rise_seen].astype(np.int64),
        "old_price": start_price[rise_seen],
        "new_price": np.round(start_price[rise_seen] * (1 + rise_pct[rise_seen]), 2),
    })
    cid_v, wk_v = np.nonzero(visits)
    cancel_page_visits = pd.DataFrame({"customer_id": cid_v.astype(np.int64), "week": wk_v.astype(np.int64)})
    churn_seen = churn < n_weeks
    customers = pd.DataFrame({
        "customer_id": ids,
        "plan": pd.Categorical.from_codes(plan, categories=list(PLANS)),
        "signup_week": signup.astype(np.int64),
        "start_price": start_price,
        "churn_week": pd.Series(np.where(churn_seen, churn, np.nan)).astype("Int64"),
        "cancel_page_visited": visits.any(axis=1),  # CRM flag as exported today: the leak
    })
    camp = np.nonzero(in_campaign)[0]
    campaign_log = pd.DataFrame({
        "customer_id": camp.astype(np.int64),
        "campaign_week": np.full(camp.size, campaign_week, dtype=np.int64),
        "treated": treated[camp],
        "churned": churn[camp] < campaign_week + horizon,
    })

    # --- ground truth at the decision week -----------------------------------------------------
    d = n_weeks
    eligible = (signup <= d - MIN_HISTORY_WEEKS) & (churn >= d)
    multiplier = multiplier_at(d)
    future = slice(d, d + horizon)
    h0 = effective[:, future]
    h1 = np.minimum(h0 * multiplier[:, None], 1.0)
    p0 = 1.0 - np.prod(1.0 - h0, axis=1)
    p1 = 1.0 - np.prod(1.0 - h1, axis=1)
    u_future = u[:, future]
    churns_without = (u_future < h0).any(axis=1) & eligible
    churns_with = (u_future < h1).any(axis=1) & eligible
    response = outcome_types(churns_without, churns_with)
    current_price = np.where(rise_week < d, np.round(start_price * (1 + rise_pct), 2), start_price)
    truth = pd.DataFrame({
        "customer_id": ids,
        "eligible": eligible,
        "offer_response": pd.Categorical.from_codes(response, categories=list(OFFER_RESPONSES)),
        "offer_multiplier": multiplier,
        "p_churn_without_offer": p0,
        "p_churn_with_offer": p1,
        "true_uplift": p0 - p1,  # reduction in churn probability caused by the offer
        "churns_without_offer": churns_without,
        "churns_with_offer": churns_with,
        "value_weight": current_price / current_price[eligible].mean() if eligible.any() else 1.0,
        "engagement": z[:, d - 1],
        "service_issue": service,
        "churn_week_untreated": np.where(churn_untreated < n_total, churn_untreated, -1),
    })
    params = {
        "seed": seed, "n_customers": n, "n_weeks": n_weeks, "horizon_weeks": horizon,
        "campaign_week": campaign_week, "base_hazard": base_hazard, "decline_share": decline_share,
        "price_rise_share": price_rise_share, "service_issue_share": service_issue_share,
        "leak_strength": leak_strength, "treat_share": treat_share,
    }
    return ChurnWorld(
        customers=customers, activity=activity, tickets=tickets_df, price_changes=price_changes,
        cancel_page_visits=cancel_page_visits, campaign_log=campaign_log, truth=truth,
        hazard=effective, params=params,
    )
