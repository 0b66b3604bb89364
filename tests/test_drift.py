"""Unit tests of utils/drift.py: PSI, the KS statistic against scipy, alarm bookkeeping."""

import numpy as np
import pytest
from scipy.stats import chisquare, ks_2samp

from utils.drift import alarm_stats, chi2_pvalue_by_group, ks_statistic, psi, psi_by_group


def test_psi_zero_for_same_sample_and_grows_with_shift():
    x = np.random.default_rng(0).normal(size=20_000)
    assert psi(x, x) == pytest.approx(0.0, abs=1e-12)
    small, big = psi(x, x + 0.1), psi(x, x + 0.5)
    assert 0 < small < big


@pytest.mark.parametrize("ones", [20, 5])   # a rare 1 puts every reference quantile at 0
def test_psi_matches_hand_computation_on_two_categories(ones):
    ref, cur = np.r_[np.zeros(100 - ones), np.ones(ones)], np.r_[np.zeros(50), np.ones(50)]
    p1 = ones / 100
    expected = (0.5 - (1 - p1)) * np.log(0.5 / (1 - p1)) + (0.5 - p1) * np.log(0.5 / p1)
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_ks_statistic_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=300), rng.normal(0.2, 1.1, size=170)
    b[:20] = np.round(b[:20], 1)   # ties
    assert ks_statistic(a, b) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)


def test_alarm_stats_delay_and_false_alarm_rate():
    days = np.arange(100)
    values = np.where(days >= 60, 1.0, 0.0)
    values[[10, 30]] = 1.0                   # two false alarms among 50 null days
    values[60:63] = 0.0                      # the change is seen on day 63
    delay, rate = alarm_stats(values, days, 0.5, change_day=60, null_days=(10, 60))
    assert delay == 3 and rate == pytest.approx(2 / 50)
    assert alarm_stats(np.zeros(100), days, 0.5, 60, (10, 60))[0] is None


@pytest.mark.parametrize("call, word", [
    (lambda: psi([], [1.0]), "reference"),
    (lambda: psi([1.0, np.nan], [1.0]), "reference"),
    (lambda: psi([1.0, 2.0], [1.0], bins=1), "bins"),
    (lambda: ks_statistic([1.0], []), "current"),
    (lambda: alarm_stats(np.zeros(5), np.arange(5), 0.1, 3, (3, 2)), "null_days"),
    (lambda: alarm_stats(np.zeros(5), np.arange(4), 0.1, 3, (0, 2)), "shape"),
])
def test_bad_input_raises_named_value_error(call, word):
    with pytest.raises(ValueError, match=word):
        call()


def test_psi_by_group_equals_psi_per_group():
    rng = np.random.default_rng(1)
    ref, cur, groups = rng.normal(size=5_000), rng.normal(0.3, 1, size=900), rng.integers(0, 4, 900)
    groups[groups == 2] = 3                  # group 2 empty -> NaN
    got = psi_by_group(ref, cur, groups, 4)
    assert np.isnan(got[2])
    for g in (0, 1, 3):
        assert got[g] == pytest.approx(psi(ref, cur[groups == g]), rel=1e-12)
    with pytest.raises(ValueError, match="groups"):
        psi_by_group(ref, cur, groups + 5, 4)


def test_chi2_pvalue_by_group_matches_scipy_and_detects_a_shift():
    rng = np.random.default_rng(3)
    ref, cur = rng.lognormal(3, 1, 3_000), rng.lognormal(3, 1, 400)
    cur[200:] *= 2.0                                     # group 1 shifted, group 0 not
    groups = np.r_[np.zeros(200, int), np.ones(200, int)]
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 11)[1:-1]))
    share = np.bincount(np.searchsorted(edges, ref, "left"), minlength=10) / len(ref)
    want = [chisquare(np.bincount(np.searchsorted(edges, cur[groups == g], "left"), minlength=10), share * 200).pvalue
            for g in (0, 1)]
    got = chi2_pvalue_by_group(ref, cur, groups, 3)
    assert got[:2] == pytest.approx(want, rel=1e-9)
    assert np.isnan(got[2]) and got[1] < 0.001 < got[0]
