"""The stages of the card-fraud world generator (``utils.fraud.make_fraud_world`` chains them).

1. :func:`population` — cards (activity, typical amount, country) and terminals;
2. :func:`ordinary_payments` — the cardholders' own payments, including the legitimate look-alikes
   of fraud: shopping sprees and trips abroad (several payments minutes apart), large purchases,
   logins from a new device, night-time payments;
3. :func:`compromised_terminals` — marks episodes of skimmed terminals on the ordinary rows;
4. :func:`fraud_episodes` — stolen-card bursts, account takeovers, and after ``drift_day`` card
   testing followed by a cash-out on the same cards;
5. :func:`labels` — the truth (``is_fraud`` drawn from ``true_prob``) and the label the issuer
   actually receives: a chargeback, late, for most frauds but not all, plus disputes of genuine
   payments ("friendly fraud").

Every stage takes the shared ``numpy.random.Generator`` and returns plain arrays, so the order of
the calls fixes the world for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86_400
N_COUNTRIES = 8
COUNTRY_WEIGHTS = np.array([0.30, 0.18, 0.16, 0.11, 0.09, 0.07, 0.05, 0.04])
#: Legitimate behaviour patterns (the ``pattern`` column), codes 0-5; fraud patterns follow.
PATTERNS: dict[int, str] = {
    0: "everyday", 1: "spree or trip", 2: "large purchase", 3: "new device", 4: "night",
    5: "skimmed terminal", 6: "stolen card", 7: "account takeover", 8: "card testing", 9: "cash-out",
}


@dataclass
class Population:
    """Cards and terminals."""

    activity: np.ndarray       # share of all ordinary payments made by each card
    card_mu: np.ndarray        # log of each card's typical amount
    card_country: np.ndarray   # issuing country (index)
    has_laptop: np.ndarray     # second online device
    terminal_pop: np.ndarray   # popularity of each terminal
    terminal_country: np.ndarray

    @property
    def n_cards(self) -> int:
        return self.activity.shape[0]

    @property
    def n_terminals(self) -> int:
        return self.terminal_pop.shape[0]


def population(rng: np.random.Generator, n_transactions: int) -> Population:
    """About one card per 70 payments and one terminal per 400."""
    n_cards, n_terminals = max(100, n_transactions // 70), max(40, n_transactions // 400)
    activity = rng.lognormal(0.0, 0.6, size=n_cards)
    terminal_pop = rng.pareto(2.0, size=n_terminals) + 1.0
    return Population(activity=activity / activity.sum(), card_mu=rng.normal(3.2, 0.45, size=n_cards),
                      card_country=rng.choice(N_COUNTRIES, size=n_cards, p=COUNTRY_WEIGHTS),
                      has_laptop=rng.random(n_cards) < 0.35,
                      terminal_pop=terminal_pop / terminal_pop.sum(),
                      terminal_country=rng.choice(N_COUNTRIES, size=n_terminals, p=COUNTRY_WEIGHTS))


def hour_seconds(rng: np.random.Generator, n: int, night_share: float) -> np.ndarray:
    """Seconds into the day: a daytime bump (6-24 h) plus a ``night_share`` of 0-6 h traffic."""
    day = rng.normal(14.5, 3.6, size=n).clip(6.0, 23.99)
    hours = np.where(rng.random(n) < night_share, rng.uniform(0.0, 6.0, size=n), day)
    return (hours * 3600).astype(np.int64)


def amount_cents(rng: np.random.Generator, mu: np.ndarray, sigma: float) -> np.ndarray:
    """Lognormal amounts around ``exp(mu)``, whole cents, at least 1.00."""
    cents = np.round(np.exp(mu + sigma * rng.standard_normal(mu.shape[0])) * 100)
    return np.maximum(cents, 100).astype(np.int64)


def other_country(rng: np.random.Generator, home: np.ndarray) -> np.ndarray:
    """A country different from ``home``, uniformly among the others."""
    return (home + rng.integers(1, N_COUNTRIES, size=home.shape[0])) % N_COUNTRIES


def episodes(rng: np.random.Generator, cards: np.ndarray, length: np.ndarray, gap_seconds: np.ndarray,
             start_day: np.ndarray, night_share: float, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Episode index and timestamp of every row of episodes on ``cards`` (one per episode).

    Payments inside an episode are an exponential gap apart, with each episode's own mean gap.
    """
    ep = np.repeat(np.arange(cards.shape[0]), length)
    start = start_day * DAY + hour_seconds(rng, cards.shape[0], night_share)
    gaps = (rng.exponential(1.0, size=ep.shape[0]) * gap_seconds[ep]).astype(np.int64) + 30
    first = np.r_[0, np.cumsum(length)[:-1]]
    gaps[first] = 0
    offset = np.cumsum(gaps)
    offset -= np.repeat(offset[first], length)
    return ep, np.minimum(start[ep] + offset, horizon - 1)


def ordinary_payments(rng: np.random.Generator, pop: Population, n_rows: int, n_days: int,
                      first_device: int) -> tuple[dict[str, np.ndarray], int]:
    """The cardholders' own payments (``prob`` is the small background fraud risk).

    Returns the columns and the next unused device id.
    """
    horizon = n_days * DAY
    # 4 % of rows come in sessions of 2-6 payments minutes apart: sprees at home, trips abroad
    n_session_rows = int(0.04 * n_rows)
    n_sessions = n_session_rows // 4
    s_len = rng.integers(2, 7, size=n_sessions)
    s_len = s_len[np.cumsum(s_len) <= n_session_rows]
    n_sessions = s_len.shape[0]
    s_card = rng.choice(pop.n_cards, size=n_sessions, p=pop.activity)
    ep, s_ts = episodes(rng, s_card, s_len, rng.lognormal(np.log(1500), 0.6, size=n_sessions),
                        rng.integers(0, n_days, size=n_sessions), 0.03, horizon)
    abroad = np.repeat(rng.random(n_sessions) < 0.4, s_len)
    n_single = n_rows - ep.shape[0]
    card = np.r_[rng.choice(pop.n_cards, size=n_single, p=pop.activity), s_card[ep]]
    ts = np.r_[rng.integers(0, n_days, size=n_single) * DAY + hour_seconds(rng, n_single, 0.04), s_ts]
    in_session = np.r_[np.zeros(n_single, bool), np.ones(ep.shape[0], bool)]
    # single payments of one card are rarely within the hour: move 60 % of those that are
    for _ in range(2):
        order = np.argsort(card * horizon + ts, kind="stable")
        close = np.zeros(n_rows, dtype=bool)
        close[order[1:]] = (card[order][1:] == card[order][:-1]) & (np.diff(ts[order]) < 3600)
        close &= ~in_session & (rng.random(n_rows) < 0.6)
        ts[close] = np.minimum(ts[close] + rng.integers(3600, 4 * 3600, size=int(close.sum())), horizon - 1)
    channel = rng.choice(3, size=n_rows, p=[0.60, 0.33, 0.07])
    channel[in_session] = np.where(rng.random(int(in_session.sum())) < 0.85, 0, 2)
    online = channel == 1
    terminal = rng.choice(pop.n_terminals, size=n_rows, p=pop.terminal_pop)
    home = pop.card_country[card]
    foreign = rng.random(n_rows) < np.where(online, 0.12, 0.03)
    country = np.where(foreign, other_country(rng, home), home)
    country[in_session] = np.where(abroad, other_country(rng, home[in_session]), home[in_session])
    amount = amount_cents(rng, pop.card_mu[card], 0.75)
    pattern = np.where(in_session, 1, 0)
    large = rng.random(n_rows) < np.where(online, 0.03, 0.01)        # flights, electronics, furniture
    amount[large] = amount_cents(rng, pop.card_mu[card[large]] + np.log(rng.uniform(3, 12, int(large.sum()))), 0.3)
    pattern[large] = 2
    atm = channel == 2
    amount[atm] = np.maximum(np.round(amount[atm] / 2000) * 2000, 2000)
    device = np.full(n_rows, -1, dtype=np.int64)
    second = pop.has_laptop[card] & (rng.random(n_rows) < 0.3)
    device[online] = 2 * card[online] + second[online]
    new = online & (rng.random(n_rows) < 0.03)                        # a new phone, a work laptop
    device[new] = first_device + np.arange(int(new.sum()))
    pattern[new] = 3
    night = ts % DAY < 6 * 3600
    pattern[night & (pattern == 0)] = 4
    # background fraud nobody can see: a little higher online, at night and for large amounts
    risk = (1.0 + 1.5 * online) * np.where(night, 2.5, 1.0) * np.where(large, 2.0, 1.0)
    cols = dict(card=card, ts=ts, channel=channel, terminal=terminal, country=country, amount=amount,
                device=device, prob=risk, scenario=np.zeros(n_rows, np.int8), pattern=pattern)
    return cols, first_device + int(new.sum())


def compromised_terminals(rng: np.random.Generator, cols: dict[str, np.ndarray], n_terminals: int,
                          budget: float, horizon: int) -> int:
    """Skim terminals for 3-8 weeks each until ``budget`` expected frauds; edits ``cols`` in place.

    Inside an episode each payment is fraud with a probability around the episode's level
    (0.25-0.75); afterwards the device is swapped (a new terminal id). Returns the swap count.
    """
    terminal, ts, scenario, prob = cols["terminal"], cols["ts"], cols["scenario"], cols["prob"]
    order = np.argsort(terminal * horizon + ts, kind="stable")
    key = terminal[order] * horizon + ts[order]
    expected, guard, n_swapped = 0.0, 0, 0
    candidates = rng.permutation(n_terminals)
    cap = int(max(60, budget / 5))
    while expected < budget and guard < n_terminals:
        term = int(candidates[guard])
        guard += 1
        start = int(rng.integers(-14 * DAY, max(1, horizon - 28 * DAY)))
        stop = start + int(rng.integers(21, 57)) * DAY
        lo, hi = np.searchsorted(key, [term * horizon + start, term * horizon + stop])
        rows = order[lo:hi]
        rows = rows[scenario[rows] == 0][:cap]
        if rows.size < 15 or ts[rows[-1]] - ts[rows[0]] < 14 * DAY:
            continue
        level = rng.uniform(0.25, 0.75)
        p = np.clip(level + rng.normal(0, 0.08, size=rows.size), 0.02, 0.98)
        prob[rows], scenario[rows], cols["pattern"][rows] = p, 2, 5
        expected += float(p.sum())
        after = order[np.searchsorted(key, term * horizon + ts[rows[-1]], side="right"):
                      np.searchsorted(key, (term + 1) * horizon)]
        terminal[after] = n_terminals + n_swapped
        n_swapped += 1
    return n_swapped


def _episode_prob(rng: np.random.Generator, ep: np.ndarray, n_ep: int, lo: float, hi: float) -> np.ndarray:
    """Per-row fraud probability: an episode level in [lo, hi] plus row noise, so no two tie."""
    return np.clip(rng.uniform(lo, hi, size=n_ep)[ep] + rng.normal(0, 0.05, size=ep.shape[0]), 0.05, 0.99)


def fraud_episodes(rng: np.random.Generator, pop: Population, budgets: dict[str, float], n_days: int,
                   drift_day: int, first_device: int) -> list[dict[str, np.ndarray]]:
    """Rows of the planted fraud: stolen-card bursts, account takeovers, card testing, cash-out."""
    horizon, parts = n_days * DAY, []
    # stolen card: 2-12 card-present uses; most minutes apart, some slow (an hour or more)
    n_burst = rng.poisson(budgets["burst"] / (0.8 * 5.5))
    length = 2 + np.minimum(rng.poisson(3.5, size=n_burst), 10)
    card = rng.choice(pop.n_cards, size=n_burst, p=pop.activity)
    gap = rng.lognormal(np.log(300), 1.2, size=n_burst)              # median 5 min, 10 % > 23 min
    ep, ts = episodes(rng, card, length, gap, rng.integers(0, n_days, size=n_burst), 0.10, horizon)
    c, n = card[ep], ep.shape[0]
    ch = np.where(rng.random(n) < 0.8, 0, 2)
    amt = amount_cents(rng, pop.card_mu[c] + 0.6, 0.7)
    amt[ch == 2] = np.maximum(np.round(amt[ch == 2] / 2000) * 2000, 2000)
    term = rng.choice(pop.n_terminals, size=n, p=pop.terminal_pop)
    abroad = np.repeat(rng.random(n_burst) < 0.4, length)
    parts.append(dict(card=c, ts=ts, channel=ch, terminal=term,
                      country=np.where(abroad, pop.terminal_country[term], pop.card_country[c]), amount=amt,
                      device=np.full(n, -1), prob=_episode_prob(rng, ep, n_burst, 0.65, 0.95),
                      scenario=np.full(n, 1), pattern=np.full(n, 6)))
    # account takeover: 1-3 online payments, half from a new device, half through the card's own
    n_ato = rng.poisson(budgets["takeover"] / (0.8 * 1.6))
    length = 1 + rng.binomial(2, 0.3, size=n_ato)
    card = rng.choice(pop.n_cards, size=n_ato, p=pop.activity)
    ep, ts = episodes(rng, card, length, np.full(n_ato, 1200.0), rng.integers(0, n_days, size=n_ato), 0.5, horizon)
    c, n = card[ep], ep.shape[0]
    new_device = np.repeat(rng.random(n_ato) < 0.5, length)
    dev = np.where(new_device, first_device + ep, 2 * c)
    home = pop.card_country[c]
    parts.append(dict(card=c, ts=ts, channel=np.ones(n, np.int64), terminal=rng.choice(pop.n_terminals, size=n, p=pop.terminal_pop),
                      country=np.where(rng.random(n) < 0.2, other_country(rng, home), home),
                      amount=amount_cents(rng, pop.card_mu[c] + np.log(rng.uniform(2.0, 8.0, size=n)), 0.3),
                      device=dev, prob=_episode_prob(rng, ep, n_ato, 0.65, 0.95),
                      scenario=np.full(n, 3), pattern=np.full(n, 7)))
    first_device += n_ato
    if drift_day < n_days and budgets["cashout"] > 0:
        # card testing: 1-3 tiny foreign online payments; then, 6-72 h later, a cash-out of 1-3
        # large online purchases on the same card (the loss the testing was for)
        n_test = rng.poisson(budgets["cashout"] / (0.75 * 1.6 + 0.8 * 1.8))
        length = 1 + rng.binomial(2, 0.3, size=n_test)
        card = rng.choice(pop.n_cards, size=n_test, p=pop.activity)
        start = rng.integers(drift_day, n_days, size=n_test)
        ep, ts = episodes(rng, card, length, np.full(n_test, 300.0), start, 0.2, horizon)
        c, n = card[ep], ep.shape[0]
        parts.append(dict(card=c, ts=ts, channel=np.ones(n, np.int64), terminal=rng.choice(pop.n_terminals, size=n, p=pop.terminal_pop),
                          country=other_country(rng, pop.card_country[c]), amount=rng.integers(100, 500, size=n),
                          device=2 * c, prob=_episode_prob(rng, ep, n_test, 0.6, 0.9),
                          scenario=np.full(n, 4), pattern=np.full(n, 8)))
        last = np.maximum.reduceat(ts, np.r_[0, np.cumsum(length)[:-1]])
        c_len = 1 + rng.binomial(2, 0.4, size=n_test)
        ep2, ts2 = episodes(rng, card, c_len, np.full(n_test, 1800.0), np.zeros(n_test, np.int64), 0.2, horizon)
        first2 = np.r_[0, np.cumsum(c_len)[:-1]]
        within = ts2 - np.repeat(ts2[first2], c_len)                  # offsets inside the cash-out
        begin = last + rng.integers(6 * 3600, 72 * 3600, size=n_test)
        ts2 = np.minimum(begin[ep2] + within, horizon - 1)
        c, n = card[ep2], ep2.shape[0]
        new_device = np.repeat(rng.random(n_test) < 0.5, c_len)
        home = pop.card_country[c]
        parts.append(dict(card=c, ts=ts2, channel=np.ones(n, np.int64),
                          terminal=rng.choice(pop.n_terminals, size=n, p=pop.terminal_pop),
                          country=np.where(rng.random(n) < 0.3, other_country(rng, home), home),
                          amount=amount_cents(rng, pop.card_mu[c] + np.log(rng.uniform(3.0, 10.0, size=n)), 0.3),
                          device=np.where(new_device, first_device + ep2, 2 * c),
                          prob=_episode_prob(rng, ep2, n_test, 0.65, 0.95),
                          scenario=np.full(n, 5), pattern=np.full(n, 9)))
    return parts


def labels(rng: np.random.Generator, prob: np.ndarray, channel: np.ndarray, ts: np.ndarray,
           label_delay_days: float, report_rate: float = 0.9,
           dispute_rate: float = 0.0012) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The truth and the label the issuer receives.

    ``is_fraud`` is drawn from ``prob``. A fraud is disputed (a chargeback) with probability
    ``report_rate``; a genuine payment is disputed anyway with probability ``dispute_rate``
    (twice that online): "friendly fraud", a label that says fraud when it was not. A chargeback
    arrives a gamma(2) delay with mean ``label_delay_days`` after the payment (at least an hour).
    Returns ``is_fraud``, ``chargeback`` and the arrival time in seconds.
    """
    n = prob.shape[0]
    is_fraud = rng.random(n) < prob
    disputed = np.where(is_fraud, rng.random(n) < report_rate,
                        rng.random(n) < dispute_rate * np.where(channel == 1, 2.0, 0.7))
    delay = rng.gamma(2.0, label_delay_days / 2.0, size=n) * DAY
    return is_fraud, disputed, ts + np.maximum(delay, 3600).astype(np.int64)
