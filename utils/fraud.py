"""A synthetic card-transaction world with planted fraud, noisy late labels and known ground truth.

One call builds it::

    from utils.fraud import make_fraud_world
    world = make_fraud_world(n_transactions=300_000, base_rate=0.008, seed=0)
    tx = world.transactions          # one row per card payment, sorted by time

The world is built to be hard in the ways real card data is hard (see ``datasets/fraud.md``):
genuine behaviour overlaps fraud (sprees and trips abroad minutes apart, large purchases, new
devices, night payments), part of the fraud leaves no trace in any feature, and the label the
issuer receives is a late, noisy chargeback (not every fraud is disputed; some genuine payments
are). The generator's stages live in ``utils.fraud_world``. Fraud mechanisms (``scenario``):

0. **ordinary** — the cardholder's own payments, with a small invisible background fraud risk;
1. **stolen card** — 2-12 card-present uses, usually minutes apart, some slowly (per-card velocity);
2. **skimmed terminal** — for 3-8 weeks a share of a terminal's payments is fraud (terminal risk
   from chargebacks already received);
3. **account takeover** — 1-3 large online payments, half from a new device (device novelty, amount
   against the card's history);
4. **card testing** — from ``drift_day`` on, 1-3 tiny foreign online payments;
5. **cash-out** — 6-72 h after card testing, 1-3 large online purchases on the same card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from utils import fraud_world as stages
from utils.validate import check_float, check_int, check_seed

#: The first timestamp of every world (a Monday, so "week" boundaries are calendar weeks).
START = pd.Timestamp("2026-01-05")
SCENARIOS: dict[int, str] = {0: "ordinary", 1: "stolen card", 2: "skimmed terminal", 3: "account takeover",
                             4: "card testing", 5: "cash-out"}
PATTERNS = stages.PATTERNS
CHANNELS: tuple[str, ...] = ("pos", "online", "atm")
COUNTRIES: tuple[str, ...] = ("GB", "FR", "DE", "ES", "IT", "NL", "PL", "US")
#: Share of the (pre-drift) expected fraud that each mechanism contributes.
SHARE = {"ordinary": 0.10, "burst": 0.40, "terminal": 0.20, "takeover": 0.30}
#: After ``drift_day``, card testing and cash-out add this much on top of the daily fraud.
DRIFT_INTENSITY = 0.4


@dataclass(frozen=True)
class FraudWorld:
    """The world: transactions (with ground truth), the cards behind them, and the knobs used."""

    transactions: pd.DataFrame
    cards: pd.DataFrame
    config: dict[str, float | int] = field(default_factory=dict)

    @property
    def oracle_columns(self) -> list[str]:
        """Columns a model must never see: the truth, the future label and how it arrives."""
        return ["is_fraud", "scenario", "pattern", "true_prob", "chargeback", "label_available_at"]


def fraud_budgets(n_transactions: int, n_days: int, base_rate: float, drift_day: int) -> dict[str, float]:
    """Expected fraudulent rows per mechanism, so that the whole history's fraud share is ``base_rate``."""
    daily = base_rate * n_transactions / (n_days + DRIFT_INTENSITY * (n_days - drift_day))
    budgets = {name: share * daily * n_days for name, share in SHARE.items()}
    budgets["cashout"] = DRIFT_INTENSITY * daily * (n_days - drift_day)
    return budgets


def make_fraud_world(
    n_transactions: int = 300_000,
    n_days: int = 150,
    base_rate: float = 0.008,
    label_delay_days: float = 7.0,
    drift_day: int = 110,
    seed: int = 0,
) -> FraudWorld:
    """Build the transaction world.

    Parameters
    ----------
    n_transactions:
        Total rows, in [5,000, 5,000,000]; about one card per 70 rows, one terminal per 400.
    n_days:
        Length of the history in days, in [90, 180].
    base_rate:
        Expected share of fraudulent rows over the whole history, in [0.001, 0.01]. After
        ``drift_day`` card testing and cash-out add 40 % more fraud on top.
    label_delay_days:
        Mean delay of a chargeback, in [1, 30] days (gamma, shape 2).
    drift_day:
        First day of card testing and cash-out, in [30, n_days]; ``n_days`` means no drift.
    seed:
        Seed for ``numpy.random.default_rng``; the same seed gives the same world.
    """
    n_transactions = check_int("n_transactions", n_transactions, 5_000, 5_000_000)
    n_days = check_int("n_days", n_days, 90, 180)
    base_rate = check_float("base_rate", base_rate, 0.001, 0.01)
    label_delay_days = check_float("label_delay_days", label_delay_days, 1.0, 30.0)
    drift_day = check_int("drift_day", drift_day, 30, n_days)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    horizon = n_days * stages.DAY

    pop = stages.population(rng, n_transactions)
    budgets = fraud_budgets(n_transactions, n_days, base_rate, drift_day)
    parts = stages.fraud_episodes(rng, pop, budgets, n_days, drift_day, first_device=10 * pop.n_cards)
    n_ordinary = n_transactions - sum(p["card"].shape[0] for p in parts)
    if n_ordinary < n_transactions // 2:
        raise ValueError("base_rate is too high for this size; valid range is [0.001, 0.01]")
    cols, _ = stages.ordinary_payments(rng, pop, n_ordinary, n_days, first_device=2 * pop.n_cards)
    cols["prob"] = cols["prob"] * budgets["ordinary"] / cols["prob"].sum()
    n_swapped = stages.compromised_terminals(rng, cols, pop.n_terminals, budgets["terminal"], horizon)

    data = {k: np.concatenate([cols[k]] + [p[k] for p in parts]) for k in cols}
    order = np.argsort(data["ts"], kind="stable")            # time order; ties keep generation order
    data = {k: v[order] for k, v in data.items()}
    is_fraud, chargeback, label_at = stages.labels(rng, data["prob"], data["channel"], data["ts"], label_delay_days)
    n = data["ts"].shape[0]
    card_country = pop.card_country[data["card"]]
    transactions = pd.DataFrame({
        "tx_id": np.arange(n, dtype=np.int64),
        "timestamp": START + pd.to_timedelta(data["ts"], unit="s"),
        "day": (data["ts"] // stages.DAY).astype(np.int64),
        "hour": (data["ts"] % stages.DAY // 3600).astype(np.int64),
        "customer_id": data["card"].astype(np.int64),
        "terminal_id": data["terminal"].astype(np.int64),
        "device_id": data["device"].astype(np.int64),
        "channel": pd.Categorical.from_codes(data["channel"], categories=list(CHANNELS)),
        "country": pd.Categorical.from_codes(data["country"], categories=list(COUNTRIES)),
        "card_country": pd.Categorical.from_codes(card_country, categories=list(COUNTRIES)),
        "amount": data["amount"] / 100.0,
        "is_fraud": is_fraud.astype(np.int8),
        "scenario": data["scenario"].astype(np.int8),
        "pattern": pd.Categorical.from_codes(data["pattern"], categories=list(PATTERNS.values())),
        "chargeback": chargeback.astype(np.int8),
        "label_available_at": START + pd.to_timedelta(label_at, unit="s"),
        "true_prob": data["prob"].astype(np.float64),
    })
    cards = pd.DataFrame({
        "customer_id": np.arange(pop.n_cards, dtype=np.int64),
        "card_country": pd.Categorical.from_codes(pop.card_country, categories=list(COUNTRIES)),
        "typical_amount": np.round(np.exp(pop.card_mu), 2),
        "activity_share": pop.activity,
    })
    config = dict(n_transactions=n_transactions, n_days=n_days, base_rate=base_rate,
                  label_delay_days=label_delay_days, drift_day=drift_day, seed=seed,
                  n_cards=pop.n_cards, n_terminals=pop.n_terminals + n_swapped)
    return FraudWorld(transactions=transactions, cards=cards, config=config)
