"""A/B test engine: sizing, analysis, SRM, peeking, CUPED, ratio metrics and a ship rule.

Normal-approximation maths on numpy/scipy only; ``tests/test_abtest.py`` cross-checks every
formula against statsmodels or scipy. Bad input raises ``ValueError`` naming the parameter, the
value and the valid range (:mod:`utils.validate`). Conventions: *control* is arm A, *treatment*
arm B, ``ratio = n_treatment / n_control``, effects are treatment minus control.

Stages: 1 sizing · 2 analysis and simulation · 3 sample-ratio mismatch · 4 peeking and the
mSPRT · 5 CUPED · 6 ratio metrics (delta method) · 7 the ship / don't-ship rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import optimize, stats

from utils.validate import check_choice, check_float, check_int, check_seed

ALTERNATIVES = ("two-sided", "one-sided")


class ArmSizes(NamedTuple):
    """Units needed in each arm."""

    control: int
    treatment: int


@dataclass(frozen=True)
class Result:
    """A treatment-minus-control estimate with its standard error, ``1 - alpha`` CI and p-value."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    alpha: float


# ---------------------------------------------------------------- checks
def _common(alpha: float, power: float | None, alternative: str, ratio: float) -> float:
    check_float("alpha", alpha, 1e-6, 0.5)
    if power is not None:
        check_float("power", power, 0.5, 0.9999)
    check_choice("alternative", alternative, ALTERNATIVES)
    check_float("ratio", ratio, 0.01, 100.0)
    return stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha)


def _check_mde_prop(baseline: float, mde: float, relative: bool = False,
                    name: str = "mde") -> tuple[float, float]:
    """Validate a change in a rate (non-zero unless ``name`` is a true lift); return
    ``(baseline, absolute change)``."""
    p = check_float("baseline", baseline, 1e-6, 1 - 1e-6)
    d = check_float(name, mde, -1e6, 1e6) * (p if relative else 1.0)
    if (d == 0 and name == "mde") or not 0 < p + d < 1:
        low, high = (-1.0, (1 - p) / p) if relative else (-p, 1 - p)
        raise ValueError(f"{name}={mde:g} is out of range; valid range is ({low:g}, {high:g})"
                         f"{', not 0' if name == 'mde' else ''}, so the treatment rate stays in (0, 1)")
    return p, d


def _array(name: str, x: object, min_len: int = 2) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or a.size < min_len or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a 1-D array of finite numbers with at least {min_len} "
                         f"values; got shape {a.shape}")
    return a


# ---------------------------------------------------------------- 1. sizing
def _prop_sds(p: float, d: float, ratio: float) -> tuple[float, float]:
    """Per-unit-of-control SDs of the difference under the null (pooled) and the alternative."""
    pt = p + d
    pooled = (p + ratio * pt) / (1 + ratio)
    return (math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio)),
            math.sqrt(p * (1 - p) + pt * (1 - pt) / ratio))


def _power(d: float, n: float, sd0: float, sd1: float, z: float, alternative: str) -> float:
    """Power of a z-test with null SD ``sd0`` and alternative SD ``sd1`` (Chow et al. 2008, 4.2)."""
    shift = abs(d) * math.sqrt(n) / sd1
    far = stats.norm.cdf(-z * sd0 / sd1 - shift) if alternative == "two-sided" else 0.0
    return float(stats.norm.sf(z * sd0 / sd1 - shift) + far)


def _arms(n_control: float, ratio: float) -> ArmSizes:
    nc = math.ceil(n_control - 1e-9)
    return ArmSizes(nc, math.ceil(nc * ratio - 1e-9))


def sample_size_proportion(baseline: float, mde: float, *, relative: bool = False,
                           alpha: float = 0.05, power: float = 0.8,
                           alternative: str = "two-sided", ratio: float = 1.0) -> ArmSizes:
    """Units per arm to detect a change ``mde`` in a conversion rate ``baseline``.

    ``n_c = ((z_a sd_null + z_b sd_alt) / mde)^2`` with the pooled rate under the null (the
    far tail of a two-sided test ignored), as in statsmodels' ``samplesize_proportions_2indep_
    onetail`` and Chow, Shao & Wang (2008), *Sample Size Calculations in Clinical Research*, 4.2.
    ``relative=True`` reads ``mde`` as a share of ``baseline`` (0.05 = +5 %).
    Ranges: ``baseline`` [1e-6, 1-1e-6], ``alpha`` [1e-6, 0.5], ``power`` [0.5, 0.9999],
    ``ratio`` = n_treatment / n_control [0.01, 100].
    """
    z_a = _common(alpha, power, alternative, ratio)
    p, d = _check_mde_prop(baseline, mde, relative)
    sd0, sd1 = _prop_sds(p, d, ratio)
    return _arms(((z_a * sd0 + stats.norm.ppf(power) * sd1) / d) ** 2, ratio)


def sample_size_mean(sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                     alternative: str = "two-sided", ratio: float = 1.0) -> ArmSizes:
    """Units per arm to detect a change ``mde`` in a mean with per-unit SD ``sd``:
    ``n_c = (z_a + z_b)^2 sd^2 (1 + 1/ratio) / mde^2`` (normal approximation).
    Ranges: ``sd`` (0, 1e12], ``mde`` non-zero; others as :func:`sample_size_proportion`."""
    z_a = _common(alpha, power, alternative, ratio)
    sd = check_float("sd", sd, 1e-12, 1e12)
    if check_float("mde", mde, -1e12, 1e12) == 0:
        raise ValueError("mde=0 is out of range; valid range is any non-zero number")
    return _arms((z_a + stats.norm.ppf(power)) ** 2 * sd**2 * (1 + 1 / ratio) / mde**2, ratio)


def sample_size_paired(sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                       alternative: str = "two-sided") -> int:
    """Units to detect a mean ``mde`` in one sample of per-unit differences or credits with SD
    ``sd`` (paired designs; interleaving, where each search credits one ranker):
    ``n = (z_a + z_b)^2 sd^2 / mde^2`` (normal approximation, the far tail ignored; statsmodels'
    ``NormalIndPower`` with ``ratio=0``). Ranges as :func:`sample_size_mean`."""
    z_a = _common(alpha, power, alternative, 1.0)
    sd = check_float("sd", sd, 1e-12, 1e12)
    if check_float("mde", mde, -1e12, 1e12) == 0:
        raise ValueError("mde=0 is out of range; valid range is any non-zero number")
    return math.ceil((z_a + stats.norm.ppf(power)) ** 2 * sd**2 / mde**2 - 1e-9)


def power_proportion(baseline: float, mde: float, n_control: int, *, relative: bool = False,
                     alpha: float = 0.05, alternative: str = "two-sided",
                     ratio: float = 1.0) -> float:
    """Power to detect ``mde`` with ``n_control`` units in control (both tails counted when
    two-sided); ``n_control`` [2, 1e12]."""
    z_a = _common(alpha, None, alternative, ratio)
    p, d = _check_mde_prop(baseline, mde, relative)
    n = check_int("n_control", n_control, 2, 10**12)
    return _power(d, n, *_prop_sds(p, d, ratio), z_a, alternative)


def power_mean(sd: float, mde: float, n_control: int, *, alpha: float = 0.05,
               alternative: str = "two-sided", ratio: float = 1.0) -> float:
    """Power of the z-test on a mean difference ``mde`` with ``n_control`` units in control."""
    z_a = _common(alpha, None, alternative, ratio)
    sd = check_float("sd", sd, 1e-12, 1e12)
    n = check_int("n_control", n_control, 2, 10**12)
    s = sd * math.sqrt(1 + 1 / ratio)
    return _power(check_float("mde", mde, -1e12, 1e12), n, s, s, z_a, alternative)


def mde_proportion(baseline: float, n_control: int, *, alpha: float = 0.05, power: float = 0.8,
                   alternative: str = "two-sided", ratio: float = 1.0) -> float:
    """Smallest absolute increase over ``baseline`` detected with ``power`` (root of
    :func:`power_proportion`; divide by ``baseline`` for the relative MDE)."""
    check_float("power", power, 0.5, 0.9999)
    p = check_float("baseline", baseline, 1e-6, 1 - 1e-6)
    n = check_int("n_control", n_control, 2, 10**12)
    f = lambda d: power_proportion(p, d, n, alpha=alpha, alternative=alternative,  # noqa: E731
                                   ratio=ratio) - power
    high = (1 - p) * (1 - 1e-9)
    if f(high) < 0:
        raise ValueError(f"n_control={n:,} is too small to reach power={power:g} from "
                         f"baseline={p:g}; valid range needs a larger n_control")
    return float(optimize.brentq(f, 1e-12, high, xtol=1e-14, rtol=1e-12))


def mde_mean(sd: float, n_control: int, *, alpha: float = 0.05, power: float = 0.8,
             alternative: str = "two-sided", ratio: float = 1.0) -> float:
    """Smallest mean difference detected with ``power`` (root of :func:`power_mean`)."""
    check_float("power", power, 0.5, 0.9999)
    f = lambda d: power_mean(sd, d, n_control, alpha=alpha, alternative=alternative,  # noqa: E731
                             ratio=ratio) - power
    return float(optimize.brentq(f, 1e-15 * sd, 100 * sd, xtol=1e-15 * sd, rtol=1e-12))


def days_needed(n_total: int, daily_units: float, traffic_share: float = 1.0) -> int:
    """Whole days to enrol ``n_total`` units (both arms) at ``daily_units`` new eligible units a
    day, ``traffic_share`` (0, 1] of them in the test. Assumes new units each day: with returning
    users, unique users grow slower than this. ``n_total`` [1, 1e12], ``daily_units`` [1, 1e12]."""
    n = check_int("n_total", n_total, 1, 10**12)
    per_day = check_float("daily_units", daily_units, 1, 1e12)
    per_day *= check_float("traffic_share", traffic_share, 1e-6, 1.0)
    return math.ceil(n / per_day - 1e-9)


# ---------------------------------------------------------------- 2. analysis and simulation
def _z_result(est: float, se: float, alpha: float) -> Result:
    z, h = est / se if se > 0 else 0.0, float(stats.norm.isf(alpha / 2)) * se
    return Result(est, se, est - h, est + h, float(2 * stats.norm.sf(abs(z))), alpha)


def analyze_proportion(conv_control: int, n_control: int, conv_treatment: int,
                       n_treatment: int, alpha: float = 0.05) -> Result:
    """Difference of two rates: Wald z-test and CI with the unpooled SE
    ``sqrt(p_c q_c / n_c + p_t q_t / n_t)`` (two-sided; the CI excludes 0 iff p < alpha)."""
    check_float("alpha", alpha, 1e-6, 0.5)
    nc, nt = check_int("n_control", n_control, 1, 10**12), check_int("n_treatment", n_treatment, 1, 10**12)
    pc = check_int("conv_control", conv_control, 0, nc) / nc
    pt = check_int("conv_treatment", conv_treatment, 0, nt) / nt
    return _z_result(pt - pc, math.sqrt(pc * (1 - pc) / nc + pt * (1 - pt) / nt), alpha)


def analyze_mean(control: Sequence[float], treatment: Sequence[float],
                 alpha: float = 0.05) -> Result:
    """Difference of means: Welch's t-test and CI (Welch 1947; scipy's ``ttest_ind(equal_var=False)``)."""
    check_float("alpha", alpha, 1e-6, 0.5)
    c, t = _array("control", control), _array("treatment", treatment)
    vc, vt = c.var(ddof=1) / c.size, t.var(ddof=1) / t.size
    se, est = math.sqrt(vc + vt), float(t.mean() - c.mean())
    dof = (vc + vt) ** 2 / (vc**2 / (c.size - 1) + vt**2 / (t.size - 1)) if se > 0 else 1.0
    h = float(stats.t.isf(alpha / 2, dof)) * se
    p = 2 * stats.t.sf(abs(est / se), dof) if se > 0 else 1.0
    return Result(est, se, est - h, est + h, float(p), alpha)


def simulate_experiment(metric: str, n_control: int, baseline: float, true_lift: float, *,
                        sd: float = 1.0, ratio: float = 1.0, alpha: float = 0.05,
                        seed: int = 0) -> Result:
    """One simulated test with a known absolute ``true_lift``: ``"proportion"`` draws Bernoulli
    conversions at ``baseline`` and ``baseline + true_lift``; ``"mean"`` draws normal values with
    means ``baseline``, ``baseline + true_lift`` and SD ``sd``. Analysed as above."""
    check_choice("metric", metric, ("proportion", "mean"))
    nc = check_int("n_control", n_control, 2, 10**9)
    nt = max(2, round(nc * check_float("ratio", ratio, 0.01, 100.0)))
    rng = np.random.default_rng(check_seed(seed))
    if metric == "proportion":
        p, d = _check_mde_prop(baseline, true_lift, name="true_lift")
        return analyze_proportion(int(rng.binomial(nc, p)), nc, int(rng.binomial(nt, p + d)), nt, alpha)
    b, s = check_float("baseline", baseline, -1e12, 1e12), check_float("sd", sd, 1e-12, 1e12)
    lift = check_float("true_lift", true_lift, -1e12, 1e12)
    return analyze_mean(rng.normal(b, s, nc), rng.normal(b + lift, s, nt), alpha)


# ---------------------------------------------------------------- 3. sample-ratio mismatch
@dataclass(frozen=True)
class SRM:
    """Chi-square goodness of fit of the arm counts to the planned split."""

    statistic: float
    p_value: float
    mismatch: bool


def srm_check(counts: Sequence[int], planned: Sequence[float], threshold: float = 0.001) -> SRM:
    """Flag a sample-ratio mismatch when the chi-square p-value is below ``threshold`` (0.001 is
    the usual bar: Fabijan et al. 2019, "Diagnosing sample ratio mismatch in online controlled
    experiments", KDD). ``planned`` shares are normalised; ``threshold`` [1e-12, 0.5]."""
    c, w = np.asarray(counts, dtype=float), np.asarray(planned, dtype=float)
    if c.ndim != 1 or c.size < 2 or np.any(c < 0) or c.sum() <= 0 or np.any(c != np.round(c)):
        raise ValueError(f"counts must be >= 2 non-negative integers with a positive sum; got {counts!r}")
    if w.shape != c.shape or np.any(~np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"planned must be {c.size} positive shares (valid range (0, 1]); got {planned!r}")
    check_float("threshold", threshold, 1e-12, 0.5)
    expected = c.sum() * w / w.sum()
    stat = float(((c - expected) ** 2 / expected).sum())
    p = float(stats.chi2.sf(stat, c.size - 1))
    return SRM(stat, p, p < threshold)


# ---------------------------------------------------------------- 4. peeking and the mSPRT
def msprt_p_values(diff: np.ndarray, var: np.ndarray, tau: float) -> np.ndarray:
    """Always-valid p-values of the normal mixture SPRT (Johari, Koomen, Pekelis & Walsh 2017,
    "Peeking at A/B tests", KDD; Robbins 1970), along the last axis (the looks).

    With ``diff`` the running difference estimate, ``var`` its variance and a ``N(0, tau^2)``
    mixing prior on the effect: ``L = sqrt(var / (var + tau^2)) exp(diff^2 tau^2 / (2 var
    (var + tau^2)))`` and ``p_n = min(1, min_{k<=n} 1 / L_k)``. Rejecting when ``p_n < alpha`` at
    any look keeps the false-positive rate <= alpha however often one looks."""
    v, d = np.asarray(var, dtype=float), np.asarray(diff, dtype=float)
    tau2 = check_float("tau", tau, 1e-12, 1e12) ** 2
    if v.shape != d.shape or not np.all(v > 0):
        raise ValueError(f"var must match diff's shape {d.shape} and be > 0 (valid range (0, inf))")
    log_l = 0.5 * np.log(v / (v + tau2)) + d**2 * tau2 / (2 * v * (v + tau2))
    return np.minimum(1.0, np.exp(-np.maximum.accumulate(log_l, axis=-1)))


@dataclass(frozen=True)
class Peeking:
    """Rejection rates over simulated experiments (false-positive rates when ``lift == 0``)."""

    fixed_horizon: float  # one test at the planned end
    naive_peeking: float  # z-test after every look, stop at the first p < alpha
    sequential: float  # mSPRT after every look
    mc_se: float  # Monte-Carlo SE of a rate near alpha: sqrt(alpha (1 - alpha) / n_experiments)
    n_experiments: int
    mean_stop_look: float  # mSPRT looks used on average (a rejection stops the test early)


def simulate_peeking(n_experiments: int = 2_000, n_looks: int = 14, per_look: int = 1_000,
                     baseline: float = 0.1, lift: float = 0.0, alpha: float = 0.05,
                     tau: float | None = None, seed: int = 0) -> Peeking:
    """Simulate ``n_experiments`` conversion tests of ``n_looks`` daily looks, ``per_look`` new
    users per arm per look, vectorised over experiments x looks. ``tau`` (the mSPRT prior SD)
    defaults to the fixed-horizon MDE at 80 % power. ``lift=0`` gives A/A tests."""
    ne = check_int("n_experiments", n_experiments, 10, 10**6)
    k = check_int("n_looks", n_looks, 1, 1_000)
    m = check_int("per_look", per_look, 10, 10**8)
    check_float("alpha", alpha, 1e-6, 0.5)
    p, d = _check_mde_prop(baseline, lift, name="lift")
    tau = mde_proportion(p, k * m, alpha=alpha) if tau is None else tau
    rng = np.random.default_rng(check_seed(seed))
    n = m * np.arange(1, k + 1)
    pc = rng.binomial(m, p, (ne, k)).cumsum(axis=1) / n
    pt = rng.binomial(m, p + d, (ne, k)).cumsum(axis=1) / n
    var = np.maximum(pc * (1 - pc) / n + pt * (1 - pt) / n, 1e-12)
    pz = 2 * stats.norm.sf(np.abs(pt - pc) / np.sqrt(var))
    seq = msprt_p_values(pt - pc, var, tau) < alpha
    stop = np.where(seq.any(axis=1), seq.argmax(axis=1) + 1, k)
    return Peeking(float((pz[:, -1] < alpha).mean()), float((pz < alpha).any(axis=1).mean()),
                   float(seq.any(axis=1).mean()), math.sqrt(alpha * (1 - alpha) / ne), ne,
                   float(stop.mean()))


# ---------------------------------------------------------------- 5. CUPED
@dataclass(frozen=True)
class Cuped:
    """CUPED-adjusted result, the ``theta`` used and the variance reduction ``1 - se_adj^2 / se^2``."""

    result: Result
    theta: float
    variance_reduction: float


def _cov(a: np.ndarray, b: np.ndarray) -> float:
    """Sample covariance (ddof 1) by an element-wise product and numpy's pairwise sum: unlike
    ``np.cov`` it calls no BLAS kernel, so printed digits do not depend on the machine's BLAS."""
    return float(np.sum((a - a.mean()) * (b - b.mean())) / (a.size - 1))


def cuped(y_control: Sequence[float], x_control: Sequence[float], y_treatment: Sequence[float],
          x_treatment: Sequence[float], alpha: float = 0.05) -> Cuped:
    """CUPED (Deng, Xu, Kohavi & Walker 2013, "Improving the sensitivity of online controlled
    experiments by utilizing pre-experiment data", WSDM): ``y_adj = y - theta (x - mean(x))`` with
    ``theta = cov(y, x) / var(x)`` pooled over both arms and ``x`` a pre-period covariate (unaffected
    by treatment). Variance shrinks by ``corr(y, x)^2``; the estimate stays unbiased."""
    yc, xc = _array("y_control", y_control), _array("x_control", x_control)
    yt, xt = _array("y_treatment", y_treatment), _array("x_treatment", x_treatment)
    if yc.size != xc.size or yt.size != xt.size:
        raise ValueError(f"x and y must have equal lengths per arm; got control {yc.size} vs "
                         f"{xc.size}, treatment {yt.size} vs {xt.size}")
    y, x = np.concatenate([yc, yt]), np.concatenate([xc, xt])
    vx = x.var(ddof=1)
    if vx == 0:
        raise ValueError("x (the pre-period covariate) is constant; it needs variance > 0")
    theta = _cov(y, x) / vx
    mx = x.mean()
    plain = analyze_mean(yc, yt, alpha)
    adj = analyze_mean(yc - theta * (xc - mx), yt - theta * (xt - mx), alpha)
    return Cuped(adj, theta, 1 - adj.se**2 / plain.se**2 if plain.se > 0 else 0.0)


# ---------------------------------------------------------------- 6. ratio metrics
def ratio_and_se(numerator: Sequence[float], denominator: Sequence[float]) -> tuple[float, float]:
    """``sum(num) / sum(den)`` over randomisation units and its delta-method SE (Deng, Knoblich &
    Lu 2018, "Applying the delta method in metric analytics", KDD, eq. 3):
    ``var = (s_y^2 / mu_x^2 - 2 mu_y s_xy / mu_x^3 + mu_y^2 s_x^2 / mu_x^4) / n``."""
    y, x = _array("numerator", numerator), _array("denominator", denominator)
    if y.size != x.size:
        raise ValueError(f"numerator and denominator need one value per unit; got {y.size} vs {x.size}")
    if x.mean() <= 0:
        raise ValueError(f"denominator mean={x.mean():g} is out of range; valid range is (0, inf)")
    n, mx, my = y.size, x.mean(), y.mean()
    var = (_cov(y, y) / mx**2 - 2 * my * _cov(y, x) / mx**3 + my**2 * _cov(x, x) / mx**4) / n
    return float(my / mx), math.sqrt(max(var, 0.0))


def analyze_ratio(num_control: Sequence[float], den_control: Sequence[float],
                  num_treatment: Sequence[float], den_treatment: Sequence[float],
                  alpha: float = 0.05) -> Result:
    """Difference of two ratio metrics (e.g. clicks per session, randomised by user), z-test with
    delta-method SEs. Treating sessions as independent would understate the SE."""
    check_float("alpha", alpha, 1e-6, 0.5)
    rc, sc = ratio_and_se(num_control, den_control)
    rt, st = ratio_and_se(num_treatment, den_treatment)
    return _z_result(rt - rc, math.hypot(sc, st), alpha)


# ---------------------------------------------------------------- 7. ship / don't ship
@dataclass(frozen=True)
class Guardrail:
    """A metric that must not get worse by more than ``margin`` (absolute, in its units, >= 0)."""

    name: str
    result: Result
    margin: float
    higher_is_better: bool = True


@dataclass(frozen=True)
class Decision:
    ship: bool
    reasons: list[str]


def decide(primary: Result, guardrails: Sequence[Guardrail] = (), *,
           higher_is_better: bool = True, srm: SRM | None = None) -> Decision:
    """Ship only if all three hold (Kohavi, Tang & Xu 2020, *Trustworthy Online Controlled
    Experiments*, ch. 7 and 21):

    1. no sample-ratio mismatch (if ``srm`` is given): otherwise no result can be trusted;
    2. the primary metric improved significantly: its CI lies wholly on the good side of 0;
    3. every guardrail is non-inferior: the CI bound on its bad side is within ``margin``
       (``ci_low > -margin`` if higher is better, ``ci_high < margin`` otherwise). A CI at level
       ``1 - alpha`` makes this a one-sided non-inferiority test at ``alpha / 2``.
    An inconclusive guardrail (CI crossing the margin) blocks shipping: absence of evidence of
    harm is not evidence of no harm."""
    reasons, ok = [], True
    if srm is not None and srm.mismatch:
        ok = False
        reasons.append(f"SRM: p={srm.p_value:.2g}; the split is broken, fix it before reading results")
    good = primary.ci_low > 0 if higher_is_better else primary.ci_high < 0
    ok &= good
    reasons.append(f"primary {primary.estimate:+.4g} CI [{primary.ci_low:.4g}, {primary.ci_high:.4g}]: "
                   + ("significant improvement" if good else "no significant improvement"))
    for g in guardrails:
        margin = check_float(f"margin of {g.name}", g.margin, 0.0, 1e12)
        safe = g.result.ci_low > -margin if g.higher_is_better else g.result.ci_high < margin
        ok &= safe
        reasons.append(f"guardrail {g.name} {g.result.estimate:+.4g} CI [{g.result.ci_low:.4g}, "
                       f"{g.result.ci_high:.4g}] vs margin {margin:g}: "
                       + ("non-inferior" if safe else "possible harm beyond the margin"))
    return Decision(bool(ok), reasons)
