"""Unit tests of utils.abtest, every formula cross-checked against statsmodels or scipy.

Tolerances are stated next to each check: closed-form formulas agree to ~1e-9 (float rounding),
statsmodels' root finders to 1e-5, Monte-Carlo checks to 3 standard errors of the simulation.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.regression.linear_model import OLS
from statsmodels.stats import proportion as smp
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    power_proportions_2indep,
    proportion_effectsize,
    samplesize_proportions_2indep_onetail,
)

from utils import abtest as ab

CASES = [  # baseline, absolute mde, ratio = n_treatment / n_control, alternative
    (0.02, 0.004, 1.0, "two-sided"), (0.1, 0.01, 1.0, "two-sided"), (0.1, -0.01, 2.0, "two-sided"),
    (0.3, 0.03, 0.5, "one-sided"), (0.5, -0.05, 1.0, "one-sided"), (0.9, 0.02, 3.0, "two-sided"),
]


def _sm_alt(alternative: str, d: float) -> str:
    return "two-sided" if alternative == "two-sided" else ("larger" if d > 0 else "smaller")


# ---------------------------------------------------------------- 1. sizing
@pytest.mark.parametrize(("p", "d", "r", "alt"), CASES)
def test_sample_size_proportion_is_the_ceiling_of_statsmodels(p: float, d: float, r: float, alt: str) -> None:
    # statsmodels: nobs1 is the arm with rate p + d, ratio = nobs2 / nobs1; here ratio = n_t / n_c.
    n_t = samplesize_proportions_2indep_onetail(d, p, 0.8, ratio=1 / r, alpha=0.05, alternative=_sm_alt(alt, d))
    sizes = ab.sample_size_proportion(p, d, alternative=alt, ratio=r)
    assert n_t / r - 1e-6 <= sizes.control < n_t / r + 1  # exactly its ceiling (float slack 1e-6)
    assert sizes.treatment == math.ceil(sizes.control * r - 1e-9)
    # ... and its power, counted by statsmodels, reaches the target (at most 1e-9 short)
    power = power_proportions_2indep(d, p, sizes.control * r, ratio=1 / r, alternative=_sm_alt(alt, d)).power
    assert 0.8 - 1e-9 <= power < 0.81


def test_relative_mde_and_cohens_h() -> None:
    assert ab.sample_size_proportion(0.1, 0.05, relative=True) == ab.sample_size_proportion(0.1, 0.005)
    # Cohen's h (arcsine) is another normal approximation: it agrees within 1 % here.
    for p, d in [(0.02, 0.004), (0.1, 0.01), (0.5, 0.05), (0.1, -0.01)]:
        h = abs(proportion_effectsize(p + d, p))
        n = NormalIndPower().solve_power(effect_size=h, alpha=0.05, power=0.8)
        assert ab.sample_size_proportion(p, d).control == pytest.approx(n, rel=0.01)


@pytest.mark.parametrize(("sd", "mde", "r", "alt"), [(2.0, 0.1, 1.0, "two-sided"), (1.0, 0.05, 2.0, "one-sided"),
                                                     (30.0, -1.5, 0.5, "two-sided")])
def test_mean_sizing_power_and_mde_match_normal_ind_power(sd: float, mde: float, r: float, alt: str) -> None:
    sm_alt = _sm_alt(alt, 1.0)  # statsmodels takes |effect| with "larger" for a one-sided test
    es = abs(mde) / sd
    n = NormalIndPower().solve_power(effect_size=es, alpha=0.05, power=0.8, ratio=r, alternative=sm_alt)
    sizes = ab.sample_size_mean(sd, mde, alternative=alt, ratio=r)
    assert n - 1e-3 <= sizes.control < n + 1  # the far tail and the root finder: within 1e-3 units
    for n_c in (50, 1_000, sizes.control):
        sm_power = NormalIndPower().power(es, n_c, 0.05, ratio=r, alternative=sm_alt)
        assert ab.power_mean(sd, mde, n_c, alternative=alt, ratio=r) == pytest.approx(sm_power, abs=1e-10)
    es_sm = NormalIndPower().solve_power(nobs1=2_000, alpha=0.05, power=0.8, ratio=r, alternative=sm_alt)
    assert ab.mde_mean(sd, 2_000, alternative=alt, ratio=r) == pytest.approx(es_sm * sd, rel=1e-5)


@pytest.mark.parametrize(("sd", "mde", "alt"), [(0.9, 0.02, "two-sided"), (1.0, -0.05, "one-sided"),
                                              (30.0, 1.5, "two-sided")])
def test_paired_sizing_is_the_ceiling_of_one_sample_normal_ind_power(sd: float, mde: float, alt: str) -> None:
    # statsmodels: ratio=0 is the one-sample test; it counts the far tail, which adds < 1e-3 units here
    n = NormalIndPower().solve_power(effect_size=abs(mde) / sd, alpha=0.05, power=0.8, ratio=0,
                                     alternative=_sm_alt(alt, 1.0))
    got = ab.sample_size_paired(sd, mde, alternative=alt)
    assert n - 1e-3 <= got < n + 1
    # a paired sample needs half the units of one arm of a two-arm test with the same SD (1 + 1/ratio = 2)
    assert got == pytest.approx(ab.sample_size_mean(sd, mde, alternative=alt).control / 2, abs=1)
    with pytest.raises(ValueError, match=r"mde=0 is out of range"):
        ab.sample_size_paired(1.0, 0.0)


@pytest.mark.parametrize(("p", "d", "r", "alt"), CASES)
def test_power_and_mde_proportion_match_statsmodels(p: float, d: float, r: float, alt: str) -> None:
    for n_c in (200, 5_000):
        sm = power_proportions_2indep(d, p, n_c * r, ratio=1 / r, alternative=_sm_alt(alt, d)).power
        assert ab.power_proportion(p, d, n_c, alternative=alt, ratio=r) == pytest.approx(sm, abs=1e-10)
    mde = ab.mde_proportion(p, 5_000, alternative=alt, ratio=r)
    sm = power_proportions_2indep(mde, p, 5_000 * r, ratio=1 / r, alternative=_sm_alt(alt, 1.0)).power
    assert sm == pytest.approx(0.8, abs=1e-8)
    # round trip: the sample size for that MDE is 5,000 (within the ceiling)
    assert ab.sample_size_proportion(p, mde, alternative=alt, ratio=r).control in (5_000, 5_001)


def test_days_needed() -> None:
    sizes = ab.sample_size_proportion(0.1, 0.01)  # 14,751 per arm
    assert ab.days_needed(sum(sizes), 2_000) == math.ceil(29_502 / 2_000) == 15
    assert ab.days_needed(sum(sizes), 2_000, traffic_share=0.5) == 30
    assert ab.days_needed(4_000, 2_000) == 2


# ---------------------------------------------------------------- 2. analysis and simulation
def test_analyze_proportion_matches_statsmodels_wald() -> None:
    for cc, nc, ct, nt in [(1_000, 10_000, 1_090, 10_000), (30, 400, 52, 650), (500, 1_000, 470, 1_000)]:
        res = ab.analyze_proportion(cc, nc, ct, nt)
        sm = smp.test_proportions_2indep(ct, nt, cc, nc, method="wald", correction=False)
        lo, hi = confint_proportions_2indep(ct, nt, cc, nc, method="wald", alpha=0.05)
        assert res.estimate == pytest.approx(sm.diff, abs=1e-15)
        assert res.p_value == pytest.approx(sm.pvalue, rel=1e-9)
        assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), abs=1e-12)
        assert (res.p_value < 0.05) == (res.ci_low > 0 or res.ci_high < 0)


def test_analyze_mean_matches_scipy_welch() -> None:
    rng = np.random.default_rng(0)
    for nc, nt in [(50, 50), (300, 120)]:
        c, t = rng.normal(10, 3, nc), rng.normal(10.8, 5, nt)
        res, sp = ab.analyze_mean(c, t, alpha=0.1), stats.ttest_ind(t, c, equal_var=False)
        assert res.p_value == pytest.approx(sp.pvalue, rel=1e-9)
        ci = sp.confidence_interval(0.9)
        assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high), abs=1e-10)


@pytest.mark.parametrize(("metric", "baseline", "lift", "sd"), [("proportion", 0.1, 0.01, 1.0), ("mean", 5.0, 0.2, 2.0)])
def test_simulated_experiments_are_seeded_unbiased_and_covered(metric: str, baseline: float, lift: float, sd: float) -> None:
    one = ab.simulate_experiment(metric, 4_000, baseline, lift, sd=sd, seed=7)
    assert one == ab.simulate_experiment(metric, 4_000, baseline, lift, sd=sd, seed=7)
    runs = [ab.simulate_experiment(metric, 4_000, baseline, lift, sd=sd, seed=s) for s in range(400)]
    est = np.array([r.estimate for r in runs])
    covered = np.mean([r.ci_low <= lift <= r.ci_high for r in runs])
    assert abs(est.mean() - lift) < 3 * est.std() / math.sqrt(400)  # unbiased within 3 MC SE
    assert abs(covered - 0.95) < 3 * math.sqrt(0.95 * 0.05 / 400)  # 95 % CI covers the truth
    assert np.mean([r.se for r in runs]) == pytest.approx(est.std(), rel=0.1)  # the SE is honest


# ---------------------------------------------------------------- 3. SRM
def test_srm_matches_scipy_chisquare_and_catches_a_planted_mismatch() -> None:
    for counts, planned in [([50_600, 49_400], [1, 1]), ([33_000, 33_500, 33_100], [1, 1, 1]), ([9_100, 900], [0.9, 0.1])]:
        res = ab.srm_check(counts, planned)
        sp = stats.chisquare(counts, np.sum(counts) * np.array(planned) / np.sum(planned))
        assert (res.statistic, res.p_value) == pytest.approx((sp.statistic, sp.pvalue), rel=1e-12)
    assert ab.srm_check([50_600, 49_400], [0.5, 0.5]).mismatch  # a 1.2 % imbalance on 100k users
    rng = np.random.default_rng(1)  # planted: a bot filter drops 2 % of treatment users
    n_t = rng.binomial(200_000, 0.5)
    assert ab.srm_check([200_000 - n_t, round(n_t * 0.98)], [0.5, 0.5]).mismatch
    clean = [ab.srm_check(rng.multinomial(100_000, [0.5, 0.5]), [0.5, 0.5]).mismatch for _ in range(300)]
    assert sum(clean) <= 2  # false alarms at 0.001: expect 0.3 in 300


# ---------------------------------------------------------------- 4. peeking
def test_msprt_matches_the_mixture_likelihood_ratio_by_quadrature() -> None:
    for diff, var, tau in [(0.01, 2e-5, 0.01), (-0.003, 1e-5, 0.005), (0.0, 4e-6, 0.02)]:
        def integrand(theta: float, d: float = diff, v: float = var, t: float = tau) -> float:
            return stats.norm.pdf(d, theta, math.sqrt(v)) * stats.norm.pdf(theta, 0, t)
        lr = integrate.quad(integrand, -30 * tau, 30 * tau, points=[0, diff], limit=200)[0]
        lr /= stats.norm.pdf(diff, 0, math.sqrt(var))
        assert ab.msprt_p_values(np.array([diff]), np.array([var]), tau)[0] == pytest.approx(min(1, 1 / lr), rel=1e-7)
    p = ab.msprt_p_values(np.array([0.01, 0.0, 0.02]), np.array([1e-4, 5e-5, 3e-5]), 0.01)
    assert np.all(np.diff(p) <= 0)  # always-valid p-values never go back up


def test_peeking_inflates_false_positives_and_the_msprt_fixes_it() -> None:
    start = time.perf_counter()
    aa = ab.simulate_peeking(n_experiments=2_000, n_looks=14, per_look=1_000, baseline=0.1, seed=0)
    assert time.perf_counter() - start < 2.0
    # Normal-theory FPR of 14 equally spaced two-sided looks: 1 - P(all |Z_k| < 1.96), corr sqrt(j/k)
    k = np.arange(1, 15)
    corr = np.sqrt(np.minimum.outer(k, k) / np.maximum.outer(k, k))
    z = stats.norm.isf(0.025)
    mvn = stats.multivariate_normal(np.zeros(14), corr, maxpts=100_000, abseps=1e-3, releps=0, seed=0)
    exact = 1 - mvn.cdf(np.full(14, z), lower_limit=np.full(14, -z))  # 0.220
    se_naive = math.sqrt(exact * (1 - exact) / 2_000)
    assert abs(aa.naive_peeking - exact) < 3 * se_naive + 0.005  # 0.209 vs 0.220
    assert abs(aa.fixed_horizon - 0.05) < 3 * aa.mc_se  # one look: 0.049
    assert aa.sequential <= 0.05 + 2 * aa.mc_se  # mSPRT: 0.010, conservative with daily looks
    assert aa.mc_se == pytest.approx(0.00487, abs=1e-5)


def test_the_msprt_costs_power_at_a_fixed_horizon() -> None:
    lift = ab.mde_proportion(0.1, 14_000)  # 80 % power for the fixed-horizon test
    ab_ = ab.simulate_peeking(n_experiments=2_000, n_looks=14, per_look=1_000, baseline=0.1, lift=lift, seed=1)
    se = math.sqrt(0.8 * 0.2 / 2_000)
    assert abs(ab_.fixed_horizon - 0.8) < 3 * se  # 0.80: the sizing formula holds
    assert 0.4 < ab_.sequential < 0.6  # mSPRT with tau = MDE: 0.48, a cost of ~0.32
    assert ab_.mean_stop_look < 12  # ... but a rejection comes early (11.6 looks of 14 on average)
    longer = ab.simulate_peeking(n_experiments=2_000, n_looks=28, per_look=1_000, lift=lift, tau=lift, seed=1)
    assert longer.sequential > 0.8  # twice the horizon buys the power back (0.86)


# ---------------------------------------------------------------- 5. CUPED
def _pre_post(rng: np.random.Generator, n: int, lift: float, rho: float = 0.7) -> tuple[np.ndarray, ...]:
    x = rng.normal(10, 2, (2, n))
    y = 10 + rho * (x - 10) + math.sqrt(1 - rho**2) * rng.normal(0, 2, (2, n))
    return y[0], x[0], y[1] + lift, x[1]


def test_cuped_theta_matches_ols_and_variance_drops_by_rho_squared() -> None:
    yc, xc, yt, xt = _pre_post(np.random.default_rng(0), 5_000, 0.1)
    res = ab.cuped(yc, xc, yt, xt)
    x, y = np.concatenate([xc, xt]), np.concatenate([yc, yt])
    assert res.theta == pytest.approx(OLS(y, np.column_stack([np.ones_like(x), x])).fit().params[1], rel=1e-10)
    assert res.variance_reduction == pytest.approx(np.corrcoef(y, x)[0, 1] ** 2, abs=0.01)  # ~0.49
    ancova = OLS(y, np.column_stack([np.ones_like(x), np.repeat([0.0, 1.0], 5_000), x])).fit()
    assert res.result.estimate == pytest.approx(ancova.params[1], abs=0.05 * res.result.se)


def test_cuped_is_unbiased_and_tighter_by_simulation() -> None:
    rng = np.random.default_rng(3)
    plain, adj = [], []
    for _ in range(300):
        yc, xc, yt, xt = _pre_post(rng, 1_000, 0.1)
        plain.append(ab.analyze_mean(yc, yt).estimate)
        adj.append(ab.cuped(yc, xc, yt, xt).result.estimate)
    adj_a = np.array(adj)
    assert abs(adj_a.mean() - 0.1) < 3 * adj_a.std() / math.sqrt(300)
    assert adj_a.std() / np.std(plain) == pytest.approx(math.sqrt(1 - 0.7**2), rel=0.1)


# ---------------------------------------------------------------- 6. ratio metrics
def _sessions(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    sessions = 1 + rng.poisson(5, shape)  # sessions per user
    clicks = rng.binomial(sessions, rng.beta(0.5, 2, shape))  # each user has their own click rate
    return clicks.astype(float), sessions.astype(float)


def test_delta_method_matches_the_true_variance_and_a_bootstrap() -> None:
    rng = np.random.default_rng(5)
    clicks, sessions = _sessions(rng, (300, 2_000))  # 300 simulated arms of 2,000 users
    ratios = clicks.sum(1) / sessions.sum(1)
    delta_se = np.array([ab.ratio_and_se(c, s)[1] for c, s in zip(clicks, sessions, strict=True)])
    assert delta_se.mean() == pytest.approx(ratios.std(ddof=1), rel=0.1)  # vs the true spread
    c, s = clicks[0], sessions[0]
    idx = rng.integers(0, c.size, (500, c.size))  # bootstrap users, not sessions
    boot = c[idx].sum(1) / s[idx].sum(1)
    assert ab.ratio_and_se(c, s)[1] == pytest.approx(boot.std(ddof=1), rel=0.1)
    r = ratios[0]
    naive = math.sqrt(r * (1 - r) / s.sum())  # sessions treated as independent
    assert naive < 0.8 * ratios.std(ddof=1)  # ... understates the SE


def test_analyze_ratio_has_the_nominal_false_positive_rate() -> None:
    rng = np.random.default_rng(6)
    c_clicks, c_sess = _sessions(rng, (400, 1_000))
    t_clicks, t_sess = _sessions(rng, (400, 1_000))
    p = np.array([ab.analyze_ratio(c_clicks[i], c_sess[i], t_clicks[i], t_sess[i]).p_value for i in range(400)])
    assert abs((p < 0.05).mean() - 0.05) < 3 * math.sqrt(0.05 * 0.95 / 400)


# ---------------------------------------------------------------- 7. ship / don't ship
def _res(est: float, half: float) -> ab.Result:
    return ab.Result(est, half / 1.96, est - half, est + half, 0.0, 0.05)


def test_decide_follows_the_documented_rule() -> None:
    win, flat = _res(0.01, 0.005), _res(0.002, 0.005)
    latency_ok = ab.Guardrail("latency_ms", _res(1.0, 2.0), margin=5.0, higher_is_better=False)
    latency_bad = ab.Guardrail("latency_ms", _res(6.0, 2.0), margin=5.0, higher_is_better=False)
    latency_unsure = ab.Guardrail("latency_ms", _res(2.0, 4.0), margin=5.0, higher_is_better=False)
    revenue_ok = ab.Guardrail("revenue", _res(-0.1, 0.5), margin=1.0)
    assert ab.decide(win, [latency_ok, revenue_ok]).ship
    assert not ab.decide(flat, [latency_ok]).ship
    assert not ab.decide(win, [latency_bad]).ship
    bad = ab.decide(win, [latency_unsure, revenue_ok])  # CI reaches 6 ms > 5 ms: inconclusive blocks
    assert not bad.ship and "latency_ms" in bad.reasons[1] and "possible harm" in bad.reasons[1]
    assert not ab.decide(win, srm=ab.srm_check([50_600, 49_400], [1, 1])).ship
    assert ab.decide(win, srm=ab.srm_check([50_000, 50_010], [1, 1])).ship
    assert ab.decide(_res(-0.01, 0.005), higher_is_better=False).ship  # e.g. churn went down


# ---------------------------------------------------------------- bad input
BAD = [
    (lambda: ab.sample_size_proportion(0.1, 0.01, alpha=0.7), r"alpha=0\.7 is out of range; valid range is \[1e-06, 0\.5\]"),
    (lambda: ab.sample_size_proportion(0.1, 0.01, power=0.3), r"power=0\.3 is out of range; valid range is \[0\.5, 0\.9999\]"),
    (lambda: ab.sample_size_proportion(1.2, 0.01), r"baseline=1\.2 is out of range; valid range is \[1e-06, 0\.999999\]"),
    (lambda: ab.sample_size_proportion(0.1, 0), r"mde=0 is out of range; valid range is \(-0\.1, 0\.9\), not 0"),
    (lambda: ab.sample_size_proportion(0.5, 1.5, relative=True), r"mde=1\.5 is out of range; valid range is \(-1, 1\)"),
    (lambda: ab.sample_size_proportion(0.1, 0.01, ratio=0), r"ratio=0 is out of range; valid range is \[0\.01, 100\]"),
    (lambda: ab.sample_size_proportion(0.1, 0.01, alternative="both"), r"alternative='both' is not valid; choose one of"),
    (lambda: ab.sample_size_mean(-1, 0.1), r"sd=-1 is out of range; valid range is \[1e-12, 1e\+12\]"),
    (lambda: ab.sample_size_mean(1, 0), r"mde=0 is out of range; valid range is any non-zero number"),
    (lambda: ab.power_proportion(0.1, 0.01, 1), r"n_control=1 is out of range; valid range is \[2, "),
    (lambda: ab.mde_proportion(0.5, 2, power=0.99), r"n_control=2 is too small"),
    (lambda: ab.days_needed(1_000, 0), r"daily_units=0 is out of range; valid range is \[1, 1e\+12\]"),
    (lambda: ab.analyze_proportion(11, 10, 5, 10), r"conv_control=11 is out of range; valid range is \[0, 10\]"),
    (lambda: ab.analyze_mean([1.0, np.nan], [1.0, 2.0]), r"control must be a 1-D array of finite numbers"),
    (lambda: ab.simulate_experiment("median", 100, 0.1, 0.0), r"metric='median' is not valid"),
    (lambda: ab.simulate_experiment("proportion", 100, 0.1, 0.95), r"true_lift=0\.95 is out of range; valid range is \(-0\.1, 0\.9\)"),
    (lambda: ab.srm_check([10, -1], [1, 1]), r"counts must be >= 2 non-negative integers"),
    (lambda: ab.srm_check([10, 10], [1, 0]), r"planned must be 2 positive shares"),
    (lambda: ab.simulate_peeking(n_experiments=5), r"n_experiments=5 is out of range; valid range is \[10, "),
    (lambda: ab.msprt_p_values(np.ones(2), np.ones(2), 0.0), r"tau=0 is out of range"),
    (lambda: ab.msprt_p_values(np.ones(2), np.zeros(2), 0.1), r"var must match diff's shape \(2,\) and be > 0"),
    (lambda: ab.cuped([1.0, 2.0], [3.0, 3.0], [1.0, 2.0], [3.0, 3.0]), r"x \(the pre-period covariate\) is constant"),
    (lambda: ab.cuped([1.0, 2.0], [3.0, 4.0, 5.0], [1.0, 2.0], [3.0, 4.0]), r"equal lengths per arm"),
    (lambda: ab.ratio_and_se([1.0, 2.0], [0.0, 0.0]), r"denominator mean=0 is out of range; valid range is \(0, inf\)"),
    (lambda: ab.decide(_res(0.01, 0.005), [ab.Guardrail("latency", _res(0, 1), margin=-1)]),
     r"margin of latency=-1 is out of range; valid range is \[0, 1e\+12\]"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_input_raises_a_clear_value_error(call, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        call()
