"""A synthetic card-transaction world with planted fraud scenarios and known ground truth.

One call builds it::

    from utils.fraud import make_fraud_world
    world = make_fraud_world(n_transactions=300_000, base_rate=0.009, seed=0)
    tx = world.transactions          # one row per card transaction, sorted by time

Ordinary customers pay at terminals (shops, ATMs, websites). On top of that, four fraud
scenarios are planted, each reachable through a different feature family:

1. **burst** — a stolen card is used 3-15 times, minutes apart, at unrelated terminals: visible
   only through *per-card velocity* (counts and sums over recent windows, time since the
   previous payment). Ordinary payments of one card are rarely within an hour of each other.
2. **compromised terminal** — for three to twelve weeks most payments at one terminal are
   fraudulent, then the device is swapped (a new ``terminal_id``): visible only through
   *per-terminal risk* built from chargebacks already received (labels arrive late, so only
   labels known at the time may be used).
3. **account takeover** — someone logs in from a device the card has never used, at an odd hour,
   and spends several times the card's usual amount: visible through *device novelty* and
   *amount relative to the card's own history*.
4. **drift pattern** — from ``drift_day`` on, card-testing on foreign websites: tiny online
   amounts in a country other than the card's. Nothing like it exists before ``drift_day``.

Every row carries the ground truth: ``scenario`` (the mechanism that produced the row),
``true_prob`` (the probability of fraud that mechanism used — the oracle), ``is_fraud`` (drawn
from ``true_prob``) and ``label_available_at`` (when the chargeback would arrive). See
``datasets/fraud.md`` for the data card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from utils.validate import check_float, check_int, check_seed

#: The first timestamp of every world (a Monday, so "week" boundaries are calendar weeks).
START = pd.Timestamp("2026-01-05")
SCENARIOS: dict[int, str] = {
    0: "ordinary",
    1: "burst",
    2: "compromised terminal",
    3: "account takeover",
    4: "drift pattern",
}
CHANNELS: tuple[str, ...] = ("pos", "online", "atm")
COUNTRIES: tuple[str, ...] = ("GB", "FR", "DE", "ES", "IT", "NL", "PL", "US")
_COUNTRY_WEIGHTS = np.array([0.30, 0.18, 0.16, 0.11, 0.09, 0.07, 0.05, 0.04])
_DAY = 86_400
# Share of the (pre-drift) expected fraud that each mechanism contributes.
_SHARE = {"ordinary": 0.08, "burst": 0.42, "terminal": 0.18, "takeover": 0.32}
_DRIFT_INTENSITY = 0.5  # after drift_day, the drift pattern adds this much on top of the daily fraud


@dataclass(frozen=True)
class FraudWorld:
    """The world: transactions (with ground truth), the cards behind them, and the knobs used."""

    transactions: pd.DataFrame
    cards: pd.DataFrame
    config: dict[str, float | int] = field(default_factory=dict)

    @property
    def oracle_columns(self) -> list[str]:
        """Columns a model must never see: the ground truth and the label's arrival time."""
        return ["is_fraud", "scenario", "true_prob", "label_available_at"]


def _hour_of_day_seconds(rng: np.random.Generator, n: int, night_share: float) -> np.ndarray:
    """Seconds into the day: a daytime bump (8-22 h) plus a ``night_share`` of 0-6 h traffic."""
    day = rng.normal(14.5, 3.6, size=n).clip(6.0, 23.99)
    night = rng.uniform(0.0, 6.0, size=n)
    hours = np.where(rng.random(n) < night_share, night, day)
    return (hours * 3600).astype(np.int64)


def _lognormal_amount_cents(rng: np.random.Generator, mu: np.ndarray, sigma: float) -> np.ndarray:
    cents = np.round(np.exp(mu + sigma * rng.standard_normal(mu.shape[0])) * 100)
    return np.maximum(cents, 100).astype(np.int64)


def _pick_other_country(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    """A country different from ``home`` (indices into COUNTRIES), uniformly among the others."""
    shift = rng.integers(1, len(COUNTRIES), size=home.shape[0])
    return (home + shift) % len(COUNTRIES)


def make_fraud_world(
    n_transactions: int = 300_000,
    n_days: int = 150,
    base_rate: float = 0.01,
    label_delay_days: float = 7.0,
    drift_day: int = 110,
    seed: int = 0,
) -> FraudWorld:
    """Build the transaction world.

    Parameters
    ----------
    n_transactions:
        Total rows, in [5,000, 5,000,000]. Cards and terminals scale with it
        (about one card per 70 transactions, one terminal per 400).
    n_days:
        Length of the history in days, in [90, 180].
    base_rate:
        Expected share of fraudulent transactions over the whole history, in [0.001, 0.01].
        After ``drift_day`` the drift pattern adds half as much fraud again on top of the
        other mechanisms, so the rate before ``drift_day`` is somewhat lower than this.
    label_delay_days:
        Mean delay until a chargeback (the fraud label) arrives, in [1, 30] days
        (gamma distributed, shape 2: a few days for most, weeks for some).
    drift_day:
        Day on which the new fraud pattern (scenario 4) starts, in [30, n_days];
        ``drift_day == n_days`` means no drift.
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

    # ---- cards (customers) and terminals --------------------------------------------------
    n_cards = max(100, n_transactions // 70)
    n_terminals = max(40, n_transactions // 400)
    activity = rng.lognormal(0.0, 0.6, size=n_cards)
    activity /= activity.sum()
    card_mu = rng.normal(3.2, 0.45, size=n_cards)  # log of the card's typical amount (~25)
    card_country = rng.choice(len(COUNTRIES), size=n_cards, p=_COUNTRY_WEIGHTS)
    has_second_device = rng.random(n_cards) < 0.35
    # device ids: 2*card is the card's phone, 2*card+1 its laptop; new devices get ids above.
    next_device = 2 * n_cards
    terminal_pop = rng.pareto(2.0, size=n_terminals) + 1.0
    terminal_pop /= terminal_pop.sum()
    terminal_country = rng.choice(len(COUNTRIES), size=n_terminals, p=_COUNTRY_WEIGHTS)
    horizon = n_days * _DAY

    # ---- expected fraud budget ------------------------------------------------------------
    # base_rate is the overall expected share; after drift_day the drift pattern adds
    # _DRIFT_INTENSITY x the daily fraud of the other mechanisms on top.
    daily_fraud = base_rate * n_transactions / (n_days + _DRIFT_INTENSITY * (n_days - drift_day))
    budget = {name: share * daily_fraud * n_days for name, share in _SHARE.items()}
    drift_budget = _DRIFT_INTENSITY * daily_fraud * (n_days - drift_day)

    # scenario 1: bursts of a stolen physical card (pos/atm), 3-15 uses (mean 8), minutes apart
    burst_p_mean = 0.85
    burst_len_mean = 8.0
    n_burst = rng.poisson(budget["burst"] / (burst_p_mean * burst_len_mean))
    burst_len = 3 + np.minimum(rng.poisson(burst_len_mean - 3, size=n_burst), 12)
    # scenario 3: account takeovers, 1-3 online purchases from one new device
    ato_p_mean = 0.85
    n_ato = rng.poisson(budget["takeover"] / (ato_p_mean * 1.6))
    ato_len = 1 + rng.binomial(2, 0.3, size=n_ato)
    # scenario 4: card testing abroad after drift_day, 1-2 tiny online payments per card
    drift_p_mean = 0.75
    n_drift = rng.poisson(drift_budget / (drift_p_mean * 1.4)) if drift_day < n_days else 0
    drift_len = 1 + rng.binomial(1, 0.4, size=n_drift)
    n_special = int(burst_len.sum() + ato_len.sum() + drift_len.sum())
    n_ordinary = n_transactions - n_special
    if n_ordinary < n_transactions // 2:
        raise ValueError("base_rate is too high for this size; valid range is [0.001, 0.01]")

    # ---- ordinary transactions ------------------------------------------------------------
    card = rng.permutation(np.repeat(np.arange(n_cards), rng.multinomial(n_ordinary, activity)))
    day = rng.integers(0, n_days, size=n_ordinary)
    ts = day * _DAY + _hour_of_day_seconds(rng, n_ordinary, night_share=0.04)
    # People rarely pay at two different shops within the hour: move 90 % of the ordinary
    # payments that follow the same card's previous one within 60 minutes to 1-4 hours later.
    for _ in range(3):
        order = np.argsort(card * horizon + ts, kind="stable")
        close = np.zeros(n_ordinary, dtype=bool)
        close[order[1:]] = (card[order][1:] == card[order][:-1]) & (np.diff(ts[order]) < 3600)
        close &= rng.random(n_ordinary) < 0.9
        ts[close] = np.minimum(ts[close] + rng.integers(3600, 4 * 3600, size=int(close.sum())),
                               n_days * _DAY - 1)
    channel = rng.choice(3, size=n_ordinary, p=[0.60, 0.33, 0.07])
    online = channel == 1
    terminal = rng.choice(n_terminals, size=n_ordinary, p=terminal_pop)
    foreign = rng.random(n_ordinary) < np.where(online, 0.12, 0.03)
    country = np.where(foreign, _pick_other_country(rng, card_country[card]), card_country[card])
    amount = _lognormal_amount_cents(rng, card_mu[card], 0.75)
    atm = channel == 2
    amount[atm] = np.maximum(np.round(amount[atm] / 2000) * 2000, 2000)
    device = np.full(n_ordinary, -1, dtype=np.int64)
    second = has_second_device[card] & (rng.random(n_ordinary) < 0.3)
    device[online] = 2 * card[online] + second[online]
    new_phone = online & (rng.random(n_ordinary) < 0.005)
    device[new_phone] = next_device + np.arange(int(new_phone.sum()))
    next_device += int(new_phone.sum())
    # background fraud: small, mildly higher online, at night and for large amounts
    hour = ts % _DAY // 3600
    risk = (1.0 + 1.5 * online) * np.where(hour < 6, 2.5, 1.0) * np.where(amount > 20_000, 2.0, 1.0)
    prob = risk * budget["ordinary"] / risk.sum()
    scenario = np.zeros(n_ordinary, dtype=np.int8)

    # scenario 2: compromised terminals, 3-12 weeks, 75-95 % of their transactions fraudulent
    order = np.argsort(terminal * horizon + ts, kind="stable")
    key = terminal[order] * horizon + ts[order]
    expected_terminal, guard = 0.0, 0
    candidates = rng.permutation(n_terminals)  # each terminal is compromised at most once
    cap = int(max(60, budget["terminal"] / 6))
    n_swapped = 0  # rows per episode: no single episode dominates
    while expected_terminal < budget["terminal"] and guard < n_terminals:
        term = int(candidates[guard])
        guard += 1
        start = int(rng.integers(-21 * _DAY, max(1, horizon - 28 * _DAY)))
        stop = start + int(rng.integers(42, 85)) * _DAY
        lo, hi = np.searchsorted(key, [term * horizon + start, term * horizon + stop])
        rows = order[lo:hi]
        rows = rows[scenario[rows] == 0][:cap]  # a busy terminal's episode ends sooner
        if rows.size < 15 or ts[rows[-1]] - ts[rows[0]] < 21 * _DAY:
            continue
        p_episode = rng.uniform(0.75, 0.95)
        prob[rows] = p_episode
        scenario[rows] = 2
        expected_terminal += p_episode * rows.size
        # once the compromise is over, the acquirer swaps the device: later payments at this
        # merchant go through a new terminal id
        after = order[np.searchsorted(key, term * horizon + ts[rows[-1]], side="right"):
                      np.searchsorted(key, (term + 1) * horizon)]
        terminal[after] = n_terminals + n_swapped
        n_swapped += 1

    # ---- the planted episodes (scenarios 1, 3, 4) -------------------------------------------
    def episode_rows(n_ep: int, length: np.ndarray, gap_minutes: float, start_lo: int,
                     start_hi: int, night_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Episode index, card and timestamp for every row of ``n_ep`` episodes."""
        ep_card = rng.choice(n_cards, size=n_ep, p=activity)
        ep_day = rng.integers(start_lo, start_hi, size=n_ep)
        ep_start = ep_day * _DAY + _hour_of_day_seconds(rng, n_ep, night_share)
        ep = np.repeat(np.arange(n_ep), length)
        gaps = rng.exponential(gap_minutes * 60, size=ep.shape[0]).astype(np.int64) + 30
        first = np.r_[0, np.cumsum(length)[:-1]]
        gaps[first] = 0
        offset = np.cumsum(gaps)
        offset -= np.repeat(offset[first], length)
        return ep, ep_card[ep], np.minimum(ep_start[ep] + offset, horizon - 1)

    parts = []
    # 1. burst: physical card, pos/atm at random terminals, amounts ~2x the card's usual
    ep, c, t = episode_rows(n_burst, burst_len, 3.0, 0, n_days, night_share=0.10)
    n1 = ep.shape[0]
    ch = np.where(rng.random(n1) < 0.8, 0, 2)
    amt = _lognormal_amount_cents(rng, card_mu[c] + 0.7, 0.6)
    amt[ch == 2] = np.maximum(np.round(amt[ch == 2] / 2000) * 2000, 2000)
    term = rng.choice(n_terminals, size=n1, p=terminal_pop)
    abroad = np.repeat(rng.random(n_burst) < 0.3, burst_len)
    ctry = np.where(abroad, terminal_country[term], card_country[c])
    parts.append(dict(card=c, ts=t, channel=ch, terminal=term, country=ctry,
                      amount=amt, device=np.full(n1, -1), prob=rng.uniform(0.72, 0.98, size=n_burst)[ep],
                      scenario=np.full(n1, 1)))
    # 3. account takeover: online, one new device per episode, often at night, 3-8x the amount
    ep, c, t = episode_rows(n_ato, ato_len, 20.0, 0, n_days, night_share=0.7)
    n3 = ep.shape[0]
    amt = _lognormal_amount_cents(rng, card_mu[c] + np.log(rng.uniform(4.0, 10.0, size=n3)), 0.3)
    dev = next_device + ep
    next_device += n_ato
    home = card_country[c]
    ctry = np.where(rng.random(n3) < 0.2, _pick_other_country(rng, home), home)
    parts.append(dict(card=c, ts=t, channel=np.ones(n3, dtype=np.int64),
                      terminal=rng.choice(n_terminals, size=n3, p=terminal_pop), country=ctry,
                      amount=amt, device=dev, prob=rng.uniform(0.72, 0.98, size=n_ato)[ep],
                      scenario=np.full(n3, 3)))
    # 4. drift pattern: tiny online payments abroad, the card's own (spoofed) device
    if n_drift:
        ep, c, t = episode_rows(n_drift, drift_len, 180.0, drift_day, n_days, night_share=0.04)
        n4 = ep.shape[0]
        amt = rng.integers(100, 600, size=n4)
        parts.append(dict(card=c, ts=t, channel=np.ones(n4, dtype=np.int64),
                          terminal=rng.choice(n_terminals, size=n4, p=terminal_pop),
                          country=_pick_other_country(rng, card_country[c]), amount=amt,
                          device=2 * c, prob=rng.uniform(0.6, 0.9, size=n_drift)[ep],
                          scenario=np.full(n4, 4)))

    cols = dict(card=card, ts=ts, channel=channel, terminal=terminal, country=country,
                amount=amount, device=device, prob=prob, scenario=scenario)
    data = {k: np.concatenate([cols[k]] + [p[k] for p in parts]) for k in cols}
    order = np.argsort(data["ts"], kind="stable")  # time order; ties keep generation order
    data = {k: v[order] for k, v in data.items()}
    n = data["ts"].shape[0]

    is_fraud = rng.random(n) < data["prob"]
    delay = rng.gamma(2.0, label_delay_days / 2.0, size=n) * _DAY
    label_at = data["ts"] + np.maximum(delay, 3600).astype(np.int64)
    timestamp = START + pd.to_timedelta(data["ts"], unit="s")
    transactions = pd.DataFrame({
        "tx_id": np.arange(n, dtype=np.int64),
        "timestamp": timestamp,
        "day": (data["ts"] // _DAY).astype(np.int64),
        "hour": (data["ts"] % _DAY // 3600).astype(np.int64),
        "customer_id": data["card"].astype(np.int64),
        "terminal_id": data["terminal"].astype(np.int64),
        "device_id": data["device"].astype(np.int64),
        "channel": pd.Categorical.from_codes(data["channel"], categories=list(CHANNELS)),
        "country": pd.Categorical.from_codes(data["country"], categories=list(COUNTRIES)),
        "card_country": pd.Categorical.from_codes(card_country[data["card"]], categories=list(COUNTRIES)),
        "amount": data["amount"] / 100.0,
        "is_fraud": is_fraud.astype(np.int8),
        "scenario": data["scenario"].astype(np.int8),
        "label_available_at": START + pd.to_timedelta(label_at, unit="s"),
        "true_prob": data["prob"].astype(np.float64),
    })
    cards = pd.DataFrame({
        "customer_id": np.arange(n_cards, dtype=np.int64),
        "card_country": pd.Categorical.from_codes(card_country, categories=list(COUNTRIES)),
        "typical_amount": np.round(np.exp(card_mu), 2),
        "activity_share": activity,
    })
    config = dict(n_transactions=n_transactions, n_days=n_days, base_rate=base_rate,
                  label_delay_days=label_delay_days, drift_day=drift_day, seed=seed,
                  n_cards=n_cards, n_terminals=n_terminals + n_swapped)
    return FraudWorld(transactions=transactions, cards=cards, config=config)
