"""Statistics used by the paper's analyses: t-tests with Cohen's d, Bonferroni, cluster permutation.

Every test is two-sided unless a ``tail`` says otherwise. t, p and degrees of freedom come from
:mod:`scipy.stats`; this module adds the effect sizes the paper reports (SPEC.md, "Analyses"):

* paired and one-sample tests: Cohen's d_z = mean(diff) / sd(diff), sd with ddof = 1;
* independent groups (Student's t, equal variances): d = (mean_a - mean_b) / pooled sd, pooled
  sd = sqrt(((n_a - 1) var_a + (n_b - 1) var_b) / (n_a + n_b - 2)), variances with ddof = 1.

NaN values are refused unless ``nan_policy="omit"`` is asked for, in which case each test uses the
observations that are present (pairs are dropped together in the paired test).

:func:`cluster_permutation_test` is this project's addition: the paper marks time points at
uncorrected p < 0.05 (:func:`uncorrected_marks`).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as scipy_stats

from realnet_plugins.errors import DataFormatError

NanPolicy = Literal["raise", "omit"]

#: Permutations evaluated per batch in :func:`cluster_permutation_test` (bounds memory).
_PERMUTATION_BATCH = 1024


@dataclass(frozen=True)
class TTestResult:
    """Result of a t-test; arrays are shaped like the inputs without the tested axis.

    Attributes:
        t: t statistic.
        p: two-sided p-value.
        df: degrees of freedom.
        d: Cohen's d (d_z for paired and one-sample tests, pooled-SD d for independent groups).
        n: observations used per test: pairs (paired), values (one-sample), both groups together
            (independent).
    """

    t: float | np.ndarray
    p: float | np.ndarray
    df: float | np.ndarray
    d: float | np.ndarray
    n: int | np.ndarray


@dataclass(frozen=True)
class ClusterTestResult:
    """Result of :func:`cluster_permutation_test` over ``n_times`` time points.

    Attributes:
        t_obs: observed t statistic per time point, shape (n_times,).
        threshold: cluster-forming |t| (positive; for ``tail=-1`` clusters are t < -threshold).
        clusters: each cluster as a slice of time indices, ordered by start.
        cluster_mass: sum of t over each cluster, shape (n_clusters,).
        cluster_p: permutation p-value of each cluster, shape (n_clusters,).
        significant: time points inside a cluster with p < alpha, shape (n_times,), bool.
        null_distribution: the maximum cluster mass of every permutation, the observed labelling
            included (|mass| for ``tail=0``, 0 where a permutation forms no cluster), shape
            (n_permutations,).
        exact: True when every distinct relabelling was enumerated instead of sampled.
        tail: 0 (two-sided), 1 (x > y) or -1 (x < y).
    """

    t_obs: np.ndarray
    threshold: float
    clusters: tuple[slice, ...]
    cluster_mass: np.ndarray
    cluster_p: np.ndarray
    significant: np.ndarray
    null_distribution: np.ndarray
    exact: bool
    tail: int


def _as_float_array(values: np.ndarray, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim == 0:
        raise DataFormatError(f"{name}: expected an array of observations, found a scalar.")
    return array


def _check_nan_policy(nan_policy: str, *arrays: tuple[str, np.ndarray]) -> None:
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"nan_policy: expected 'raise' or 'omit', found {nan_policy!r}.")
    if nan_policy == "raise":
        for name, array in arrays:
            n_nan = int(np.isnan(array).sum())
            if n_nan:
                raise DataFormatError(
                    f"{name}: expected no NaN, found {n_nan} NaN value(s); remove them or pass "
                    "nan_policy='omit' to test the observations that are present."
                )


def _scalar_or_array(values: np.ndarray) -> float | np.ndarray:
    values = np.asarray(values)
    return values.item() if values.ndim == 0 else values


def _count_present(array: np.ndarray, axis: int) -> np.ndarray:
    return np.sum(~np.isnan(array), axis=axis)


def _d_z(diff: np.ndarray, axis: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.nanmean(diff, axis=axis) / np.nanstd(diff, axis=axis, ddof=1)


def ttest_paired(
    a: np.ndarray, b: np.ndarray, axis: int = 0, nan_policy: NanPolicy = "raise"
) -> TTestResult:
    """Two-sided paired t-test of ``a`` against ``b`` with Cohen's d_z.

    Args:
        a: observations, any shape; ``axis`` indexes the pairs (e.g. (n_models, n_times)).
        b: observations paired with ``a``, same shape.
        axis: the axis of the pairs; the test is vectorised over the others.
        nan_policy: "raise" (default) refuses NaN; "omit" drops the pairs where either is NaN.

    Returns:
        :class:`TTestResult` with d = mean(a - b) / sd(a - b, ddof=1).
    """
    a = _as_float_array(a, "a")
    b = _as_float_array(b, "b")
    if a.shape != b.shape:
        raise DataFormatError(
            f"ttest_paired: expected a and b of the same shape, found {a.shape} and {b.shape}."
        )
    _check_nan_policy(nan_policy, ("a", a), ("b", b))
    result = scipy_stats.ttest_rel(a, b, axis=axis, nan_policy=nan_policy)
    diff = a - b
    return TTestResult(
        t=_scalar_or_array(result.statistic),
        p=_scalar_or_array(result.pvalue),
        df=_scalar_or_array(result.df),
        d=_scalar_or_array(_d_z(diff, axis)),
        n=_scalar_or_array(_count_present(diff, axis)),
    )


def ttest_one_sample(
    a: np.ndarray, popmean: float = 0.0, axis: int = 0, nan_policy: NanPolicy = "raise"
) -> TTestResult:
    """Two-sided one-sample t-test of ``a`` against ``popmean`` with Cohen's d_z.

    Args:
        a: observations, any shape; ``axis`` indexes them (e.g. improvements of 10 models).
        popmean: the mean under the null hypothesis.
        axis: the axis of the observations; the test is vectorised over the others.
        nan_policy: "raise" (default) refuses NaN; "omit" drops NaN values.

    Returns:
        :class:`TTestResult` with d = mean(a - popmean) / sd(a, ddof=1).
    """
    a = _as_float_array(a, "a")
    _check_nan_policy(nan_policy, ("a", a))
    result = scipy_stats.ttest_1samp(a, popmean, axis=axis, nan_policy=nan_policy)
    return TTestResult(
        t=_scalar_or_array(result.statistic),
        p=_scalar_or_array(result.pvalue),
        df=_scalar_or_array(result.df),
        d=_scalar_or_array(_d_z(a - popmean, axis)),
        n=_scalar_or_array(_count_present(a, axis)),
    )


def ttest_independent(
    a: np.ndarray, b: np.ndarray, axis: int = 0, nan_policy: NanPolicy = "raise"
) -> TTestResult:
    """Two-sided Student's t-test for independent groups (equal variances) with pooled-SD d.

    Args:
        a: first group's observations along ``axis``.
        b: second group's observations along ``axis``; other axes as in ``a``.
        axis: the axis of the observations; the test is vectorised over the others.
        nan_policy: "raise" (default) refuses NaN; "omit" drops NaN values in each group.

    Returns:
        :class:`TTestResult` with d = (mean_a - mean_b) / pooled sd and n = n_a + n_b.
    """
    a = _as_float_array(a, "a")
    b = _as_float_array(b, "b")
    _check_nan_policy(nan_policy, ("a", a), ("b", b))
    result = scipy_stats.ttest_ind(a, b, axis=axis, equal_var=True, nan_policy=nan_policy)
    n_a = _count_present(a, axis)
    n_b = _count_present(b, axis)
    pooled_var = (
        (n_a - 1) * np.nanvar(a, axis=axis, ddof=1) + (n_b - 1) * np.nanvar(b, axis=axis, ddof=1)
    ) / (n_a + n_b - 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (np.nanmean(a, axis=axis) - np.nanmean(b, axis=axis)) / np.sqrt(pooled_var)
    return TTestResult(
        t=_scalar_or_array(result.statistic),
        p=_scalar_or_array(result.pvalue),
        df=_scalar_or_array(result.df),
        d=_scalar_or_array(d),
        n=_scalar_or_array(n_a + n_b),
    )


def bonferroni(p: np.ndarray, n_tests: int | None = None) -> np.ndarray:
    """Bonferroni-adjusted p-values: min(p * n_tests, 1).

    Args:
        p: p-values, any shape, in [0, 1]; NaN entries stay NaN.
        n_tests: the size of the family; default = the number of non-NaN p-values given. Pass it
            when ``p`` holds only part of the family.

    Returns:
        Adjusted p-values, same shape as ``p``.
    """
    p = np.asarray(p, dtype=float)
    present = p[~np.isnan(p)]
    if np.any((present < 0) | (present > 1)):
        raise DataFormatError(
            f"bonferroni: expected p-values in [0, 1], found values from {present.min()} to "
            f"{present.max()}."
        )
    if n_tests is None:
        n_tests = present.size
    if n_tests < present.size:
        raise ValueError(
            f"bonferroni: n_tests={n_tests} is smaller than the {present.size} p-values given; "
            "pass the size of the whole family of tests."
        )
    return np.minimum(p * n_tests, 1.0)


def uncorrected_marks(p: np.ndarray, alpha: float = 0.05) -> np.ndarray:
    """The paper's significance marks: p < alpha without correction (NaN counts as not marked).

    Args:
        p: p-values, any shape (e.g. one per time point).
        alpha: significance level.

    Returns:
        Boolean array shaped like ``p``.
    """
    return np.asarray(p, dtype=float) < alpha


def _sign_flips(n_subjects: int, n_permutations: int, tail: int, rng: np.random.Generator
                ) -> tuple[np.ndarray, bool]:
    """Sign patterns, shape (n_patterns, n_subjects), the identity first."""
    n_free = n_subjects - (tail == 0)
    if n_permutations >= 2**n_free:
        # Every distinct pattern; for a two-sided test flipping all signs only negates t, so the
        # first subject keeps its sign (as MNE does) and the null distribution is unchanged.
        codes = np.arange(2**n_free)[:, None]
        bits = (codes >> np.arange(n_free)[::-1]) & 1
        flips = np.ones((codes.shape[0], n_subjects))
        flips[:, n_subjects - n_free:] = 1 - 2 * bits
        return flips, True
    random_flips = rng.choice(np.array([-1.0, 1.0]), size=(n_permutations - 1, n_subjects))
    return np.concatenate([np.ones((1, n_subjects)), random_flips]), False


def _group_splits(n_a: int, n_b: int, n_permutations: int, rng: np.random.Generator
                  ) -> tuple[np.ndarray, bool]:
    """Orders of the pooled observations, shape (n_orders, n_a + n_b), the identity first."""
    n_total = n_a + n_b
    if n_permutations >= math.comb(n_total, n_a):
        orders = []
        for first_group in itertools.combinations(range(n_total), n_a):
            second_group = sorted(set(range(n_total)) - set(first_group))
            orders.append(list(first_group) + second_group)
        return np.asarray(orders), True
    random_orders = [rng.permutation(n_total) for _ in range(n_permutations - 1)]
    return np.asarray([np.arange(n_total)] + random_orders), False


def _max_cluster_mass(t: np.ndarray, threshold: float, tail: int) -> np.ndarray:
    """Per row of ``t`` (n_rows, n_times): the null statistic of its largest cluster (0 if none)."""
    n_rows, n_times = t.shape

    def signed_masses(inside: np.ndarray) -> np.ndarray:
        starts = inside & ~np.concatenate([np.zeros((n_rows, 1), bool), inside[:, :-1]], axis=1)
        labels = np.cumsum(starts, axis=1) * inside
        flat = (np.arange(n_rows)[:, None] * (n_times + 1) + labels).ravel()
        sums = np.bincount(flat, weights=np.where(inside, t, 0.0).ravel(),
                           minlength=n_rows * (n_times + 1))
        return sums.reshape(n_rows, n_times + 1)[:, 1:]

    above = t > threshold
    below = t < -threshold
    if tail == 1:
        return np.maximum(signed_masses(above).max(axis=1), 0.0)
    if tail == -1:
        return np.minimum(signed_masses(below).min(axis=1), 0.0)
    return np.maximum(signed_masses(above).max(axis=1), -signed_masses(below).min(axis=1))


def _observed_clusters(t_obs: np.ndarray, threshold: float, tail: int
                       ) -> tuple[tuple[slice, ...], np.ndarray]:
    masks = {1: [t_obs > threshold], -1: [t_obs < -threshold]}.get(
        tail, [t_obs > threshold, t_obs < -threshold])
    clusters = []
    for inside in masks:
        edges = np.diff(np.concatenate([[0], inside.astype(int), [0]]))
        starts = np.flatnonzero(edges == 1)
        stops = np.flatnonzero(edges == -1)
        clusters += [slice(int(s), int(e)) for s, e in zip(starts, stops, strict=True)]
    clusters.sort(key=lambda cluster: cluster.start)
    return tuple(clusters), np.array([t_obs[c].sum() for c in clusters])


def cluster_permutation_test(
    x: np.ndarray,
    *,
    y: np.ndarray | None = None,
    paired: bool = True,
    tail: Literal[0, 1, -1] = 0,
    n_permutations: int = 10_000,
    threshold: float | None = None,
    alpha: float = 0.05,
    seed: int = 0,
) -> ClusterTestResult:
    """Cluster-based permutation test over time points (Maris & Oostenveld 2007).

    This project's addition: the paper marks time points at uncorrected p < 0.05.

    Clusters are runs of adjacent time points whose t exceeds the threshold (t > threshold, and for
    a two-sided test also t < -threshold, each sign forming its own clusters); a cluster's mass is
    the sum of its t values. The null distribution holds, for every relabelling, the largest
    cluster mass (|mass| for ``tail=0``; 0 if no cluster forms); a cluster's p-value is the share
    of the null distribution at least as extreme as its mass. The observed labelling is part of
    the null distribution, so p is never 0.

    Designs:

    * one-sample (``y`` None): t-test of x against 0; relabelling = flipping the signs of subjects.
    * paired (``y`` given, ``paired=True``): the one-sample test of x - y.
    * independent groups (``y`` given, ``paired=False``): Student's t of x against y;
      relabelling = reassigning observations to the two groups.

    When ``n_permutations`` covers every distinct relabelling, all of them are enumerated and the
    result is exact and independent of ``seed`` (sign flips: 2**n_subjects patterns, or
    2**(n_subjects - 1) for a two-sided test, as MNE's ``permutation_cluster_1samp_test`` does;
    for one-sided exact tests MNE 1.12 counts the observed labelling twice and leaves out the
    all-flipped one, here every pattern counts once).
    Otherwise ``n_permutations - 1`` relabellings are drawn at random (with replacement) next to
    the observed one.

    Args:
        x: observations, shape (n_subjects, n_times).
        y: second condition, shape (n_subjects, n_times) when paired, (n_other, n_times) when not.
        paired: with ``y``, whether rows of x and y are paired.
        tail: 0 two-sided, 1 tests x > y (or > 0), -1 tests x < y (or < 0).
        n_permutations: relabellings in the null distribution, the observed one included.
        threshold: cluster-forming |t|; default the t quantile of p < 0.05 for the test's degrees
            of freedom (two-sided for ``tail=0``, i.e. t_{0.975, df}; one-sided otherwise).
        alpha: cluster p below which its time points are marked significant.
        seed: seed of the random relabellings.

    Returns:
        :class:`ClusterTestResult`.
    """
    if tail not in (0, 1, -1):
        raise ValueError(f"tail: expected 0, 1 or -1, found {tail!r}.")
    if n_permutations < 1:
        raise ValueError(f"n_permutations: expected at least 1, found {n_permutations}.")
    x = _as_float_array(x, "x")
    arrays = [("x", x)] if y is None else [("x", x), ("y", _as_float_array(y, "y"))]
    for name, array in arrays:
        if array.ndim != 2 or array.shape[0] < 2:
            raise DataFormatError(
                f"cluster_permutation_test: expected {name} shaped (n_subjects >= 2, n_times), "
                f"found shape {array.shape}."
            )
    _check_nan_policy("raise", *arrays)
    rng = np.random.default_rng(seed)
    independent = y is not None and not paired
    if y is not None and (x.shape[1] != y.shape[1] or (paired and x.shape != y.shape)):
        raise DataFormatError(
            f"cluster_permutation_test: x and y do not fit together ({x.shape} vs {y.shape}); "
            "paired data need equal shapes, independent groups an equal number of time points."
        )

    if independent:
        pooled = np.concatenate([x, np.asarray(y, dtype=float)])
        n_a = x.shape[0]
        orders, exact = _group_splits(n_a, pooled.shape[0] - n_a, n_permutations, rng)
        df = pooled.shape[0] - 2

        def t_statistics(batch: np.ndarray) -> np.ndarray:
            relabelled = pooled[batch]
            return scipy_stats.ttest_ind(relabelled[:, :n_a], relabelled[:, n_a:], axis=1).statistic
    else:
        diff = x if y is None else x - np.asarray(y, dtype=float)
        orders, exact = _sign_flips(diff.shape[0], n_permutations, tail, rng)
        df = diff.shape[0] - 1

        def t_statistics(batch: np.ndarray) -> np.ndarray:
            return scipy_stats.ttest_1samp(batch[:, :, None] * diff[None], 0.0, axis=1).statistic

    if threshold is None:
        threshold = float(scipy_stats.t.ppf(1 - 0.05 / (2 if tail == 0 else 1), df))
    if not threshold > 0:
        raise ValueError(f"threshold: expected a positive |t|, found {threshold}.")

    null_batches = []
    t_obs = None
    for start in range(0, orders.shape[0], _PERMUTATION_BATCH):
        t_batch = t_statistics(orders[start:start + _PERMUTATION_BATCH])
        if t_obs is None:
            t_obs = t_batch[0]
        null_batches.append(_max_cluster_mass(t_batch, threshold, tail))
    null = np.concatenate(null_batches)

    clusters, masses = _observed_clusters(t_obs, threshold, tail)
    if tail == 1:
        cluster_p = np.array([np.mean(null >= mass) for mass in masses])
    elif tail == -1:
        cluster_p = np.array([np.mean(null <= mass) for mass in masses])
    else:
        cluster_p = np.array([np.mean(null >= abs(mass)) for mass in masses])
    significant = np.zeros(t_obs.shape, bool)
    for cluster, p in zip(clusters, cluster_p, strict=True):
        significant[cluster] = p < alpha
    return ClusterTestResult(
        t_obs=t_obs, threshold=threshold, clusters=clusters,
        cluster_mass=masses.astype(float), cluster_p=cluster_p.astype(float),
        significant=significant, null_distribution=null, exact=exact, tail=int(tail),
    )
