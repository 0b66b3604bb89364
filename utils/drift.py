"""Drift statistics and alert bookkeeping for notebook 08 (monitoring).

Small, typed and tested (``tests/test_drift.py``): the population stability index on the
reference's quantile bins, a two-sample Kolmogorov-Smirnov statistic (cross-checked against
``scipy.stats.ks_2samp``), and the detection delay and false-alarm rate of a threshold rule.
"""

from __future__ import annotations

import numpy as np

__all__ = ["psi", "psi_by_group", "chi2_pvalue_by_group", "ks_statistic", "alarm_stats"]


def _as_1d(name: str, values: np.ndarray) -> np.ndarray:
    arr = np.asarray(values, dtype=float).ravel()
    if arr.size == 0:
        raise ValueError(f"{name} is empty: need at least 1 value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values: drop or impute them first")
    return arr


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of ``current`` against ``reference``.

    Bins are the reference's quantiles (``bins`` of them, each closed on the right; ties merge
    bins, so a 0/1 feature gets two). PSI = sum over bins of (cur - ref) * ln(cur / ref), shares clipped below at ``eps``.
    """
    if not isinstance(bins, (int, np.integer)) or not 2 <= bins <= 100:
        raise ValueError(f"bins = {bins!r}: must be an integer in [2, 100]")
    if not 0 < eps < 0.01:
        raise ValueError(f"eps = {eps!r}: must be in (0, 0.01)")
    ref, cur = _as_1d("reference", reference), _as_1d("current", current)
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    p = np.bincount(np.searchsorted(edges, ref, "left"), minlength=len(edges) + 1) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, "left"), minlength=len(edges) + 1) / len(cur)
    p, q = np.clip(p, eps, None), np.clip(q, eps, None)
    return float(np.sum((q - p) * np.log(q / p)))


def _grouped_bins(reference: np.ndarray, current: np.ndarray, groups: np.ndarray, n_groups: int,
                  bins: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference's share in each of its quantile bins, and each group's counts in those bins
    (shape ``n_groups x bins``); validates the inputs for the ``*_by_group`` functions."""
    if not isinstance(bins, (int, np.integer)) or not 2 <= bins <= 100:
        raise ValueError(f"bins = {bins!r}: must be an integer in [2, 100]")
    ref, cur = _as_1d("reference", reference), _as_1d("current", current)
    g = np.asarray(groups).ravel()
    if g.shape != cur.shape or (g.size and (g.min() < 0 or g.max() >= n_groups)):
        raise ValueError(f"groups must match current's shape and lie in [0, {n_groups - 1}]")
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    k = len(edges) + 1
    p = np.bincount(np.searchsorted(edges, ref, "left"), minlength=k) / len(ref)
    counts = np.bincount(g * k + np.searchsorted(edges, cur, "left"), minlength=n_groups * k).reshape(n_groups, k)
    return p, counts


def psi_by_group(reference: np.ndarray, current: np.ndarray, groups: np.ndarray, n_groups: int,
                 bins: int = 10, eps: float = 1e-4) -> np.ndarray:
    """:func:`psi` of each group of ``current`` (``groups`` in 0..n_groups-1) at once; NaN for an
    empty group. Same bins and clipping as :func:`psi`, so each entry equals ``psi(reference, group)``."""
    p, counts = _grouped_bins(reference, current, groups, n_groups, bins)
    p = np.clip(p, eps, None)
    n = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.clip(counts / n, eps, None)
        out = np.sum((q - p) * np.log(q / p), axis=1)
    return np.where(n[:, 0] > 0, out, np.nan)


def chi2_pvalue_by_group(reference: np.ndarray, current: np.ndarray, groups: np.ndarray, n_groups: int,
                         bins: int = 10) -> np.ndarray:
    """Pearson chi-square goodness-of-fit p-value of each group of ``current`` on the reference's
    quantile bins (the bins of :func:`psi`), expected counts = reference shares x group size; NaN
    for an empty group. Unlike PSI, the test knows the group's size: a small sample needs a bigger gap."""
    from scipy.stats import chi2

    p, counts = _grouped_bins(reference, current, groups, n_groups, bins)
    keep = p > 0
    n = counts.sum(axis=1, keepdims=True)
    expected = n * p[keep]
    with np.errstate(invalid="ignore", divide="ignore"):
        stat = np.sum((counts[:, keep] - expected) ** 2 / expected, axis=1)
    return np.where(n[:, 0] > 0, chi2.sf(stat, keep.sum() - 1), np.nan)


def ks_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    ref, cur = np.sort(_as_1d("reference", reference)), np.sort(_as_1d("current", current))
    grid = np.concatenate([ref, cur])
    gap = np.searchsorted(ref, grid, "right") / len(ref) - np.searchsorted(cur, grid, "right") / len(cur)
    return float(np.abs(gap).max())


def alarm_stats(values: np.ndarray, days: np.ndarray, threshold: float, change_day: int,
                null_days: tuple[int, int], horizon: int = 20) -> tuple[int | None, float]:
    """Detection delay and false-alarm rate of the rule "alarm when a day's value > threshold".

    ``values[i]`` is the monitor on ``days[i]``. The delay is the first alarm day in
    [change_day, change_day + horizon) minus ``change_day`` (``None`` if no alarm); the false-alarm
    rate is the share of days in ``null_days = (first, last + 1)`` (before the change) that alarm.
    """
    v, d = np.asarray(values, dtype=float), np.asarray(days)
    if v.shape != d.shape:
        raise ValueError(f"values and days must have the same shape, got {v.shape} and {d.shape}")
    first, stop = null_days
    if not first < stop <= change_day:
        raise ValueError(f"null_days = {null_days!r}: need first < stop <= change_day = {change_day}")
    if horizon < 1:
        raise ValueError(f"horizon = {horizon!r}: must be >= 1 day")
    null = (d >= first) & (d < stop)
    if not null.any():
        raise ValueError(f"null_days = {null_days!r}: no monitored day falls in it")
    after = d[(d >= change_day) & (d < change_day + horizon) & (v > threshold)]
    delay = int(after.min()) - change_day if after.size else None
    return delay, float((v[null] > threshold).mean())
