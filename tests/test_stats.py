"""Statistics of realnet_plugins.stats against scipy, hand formulas, MNE and a loop oracle."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats as scipy_stats

from realnet_plugins.errors import DataFormatError
from realnet_plugins.stats import (
    bonferroni,
    cluster_permutation_test,
    ttest_independent,
    ttest_one_sample,
    ttest_paired,
    uncorrected_marks,
)


def _hand_d_z(diff: np.ndarray) -> np.ndarray:
    """Cohen's d_z per column from sums: mean / sqrt(sum of squared deviations / (n - 1))."""
    n = diff.shape[0]
    mean = diff.sum(axis=0) / n
    sd = np.sqrt(((diff - mean) ** 2).sum(axis=0) / (n - 1))
    return mean / sd


def _hand_pooled_d(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    n_a, n_b = a.shape[0], b.shape[0]
    ss_a = ((a - a.sum(axis=0) / n_a) ** 2).sum(axis=0)
    ss_b = ((b - b.sum(axis=0) / n_b) ** 2).sum(axis=0)
    pooled_sd = np.sqrt((ss_a + ss_b) / (n_a + n_b - 2))
    return (a.sum(axis=0) / n_a - b.sum(axis=0) / n_b) / pooled_sd


def test_paired_ttest_matches_scipy_and_hand_d_z():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(10, 20))
    b = a + rng.normal(0.3, 1.0, size=(10, 20))
    result = ttest_paired(a, b)
    reference = scipy_stats.ttest_rel(a, b)
    np.testing.assert_allclose(result.t, reference.statistic, rtol=1e-12)
    np.testing.assert_allclose(result.p, reference.pvalue, rtol=1e-12)
    np.testing.assert_array_equal(result.df, np.full(20, 9))
    np.testing.assert_allclose(result.d, _hand_d_z(a - b), rtol=1e-12)
    np.testing.assert_array_equal(result.n, np.full(20, 10))


def test_one_sample_ttest_matches_scipy_and_hand_d_z():
    rng = np.random.default_rng(1)
    a = rng.normal(0.2, 1.0, size=(12, 7))
    result = ttest_one_sample(a, popmean=0.1)
    reference = scipy_stats.ttest_1samp(a, 0.1)
    np.testing.assert_allclose(result.t, reference.statistic, rtol=1e-12)
    np.testing.assert_allclose(result.p, reference.pvalue, rtol=1e-12)
    np.testing.assert_array_equal(result.df, np.full(7, 11))
    np.testing.assert_allclose(result.d, _hand_d_z(a - 0.1), rtol=1e-12)


def test_independent_ttest_matches_scipy_student_and_hand_pooled_d():
    rng = np.random.default_rng(2)
    a = rng.normal(0.5, 1.0, size=(9, 6))
    b = rng.normal(0.0, 2.0, size=(13, 6))
    result = ttest_independent(a, b)
    reference = scipy_stats.ttest_ind(a, b, equal_var=True)
    np.testing.assert_allclose(result.t, reference.statistic, rtol=1e-12)
    np.testing.assert_allclose(result.p, reference.pvalue, rtol=1e-12)
    np.testing.assert_array_equal(result.df, np.full(6, 20))
    np.testing.assert_allclose(result.d, _hand_pooled_d(a, b), rtol=1e-12)
    np.testing.assert_array_equal(result.n, np.full(6, 22))


def test_ttests_are_vectorised_along_the_chosen_axis():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(5, 10))
    b = rng.normal(size=(5, 10))
    along_columns = ttest_paired(a.T, b.T, axis=0)
    along_rows = ttest_paired(a, b, axis=1)
    np.testing.assert_allclose(along_rows.t, along_columns.t, rtol=1e-12)
    np.testing.assert_allclose(along_rows.d, along_columns.d, rtol=1e-12)


def test_one_dimensional_inputs_give_python_floats():
    rng = np.random.default_rng(4)
    result = ttest_one_sample(rng.normal(size=10))
    assert all(isinstance(value, float) for value in (result.t, result.p, result.d))
    assert result.df == 9 and result.n == 10


def test_nan_is_refused_with_a_message_naming_nan_policy():
    a = np.array([1.0, 2.0, np.nan, 4.0])
    with pytest.raises(DataFormatError, match="nan_policy='omit'"):
        ttest_one_sample(a)
    with pytest.raises(DataFormatError, match="NaN"):
        ttest_paired(a, a + 1.0)
    with pytest.raises(ValueError, match="nan_policy"):
        ttest_one_sample(a, nan_policy="propagate")


def test_paired_omit_drops_the_whole_pair():
    rng = np.random.default_rng(5)
    a = rng.normal(size=10)
    b = a + rng.normal(0.5, 1.0, size=10)
    a_with_nan = a.copy()
    a_with_nan[3] = np.nan
    result = ttest_paired(a_with_nan, b, nan_policy="omit")
    keep = np.arange(10) != 3
    reference = ttest_paired(a[keep], b[keep])
    assert result.t == pytest.approx(reference.t, rel=1e-12)
    assert result.p == pytest.approx(reference.p, rel=1e-12)
    assert result.d == pytest.approx(reference.d, rel=1e-12)
    assert result.df == 8 and result.n == 9


def test_independent_omit_uses_present_values_of_each_group():
    rng = np.random.default_rng(6)
    a = rng.normal(size=8)
    b = rng.normal(1.0, 1.0, size=7)
    b_with_nan = np.append(b, np.nan)
    result = ttest_independent(a, b_with_nan, nan_policy="omit")
    reference = ttest_independent(a, b)
    assert result.t == pytest.approx(reference.t, rel=1e-12)
    assert result.d == pytest.approx(reference.d, rel=1e-12)
    assert result.n == 15


def test_bonferroni_multiplies_by_family_size_and_clips_at_one():
    p = np.array([0.001, 0.01, 0.2, np.nan])
    np.testing.assert_allclose(bonferroni(p), [0.003, 0.03, 0.6, np.nan])
    np.testing.assert_allclose(bonferroni(p[:2], n_tests=15), [0.015, 0.15])
    np.testing.assert_array_equal(bonferroni(np.array([0.25, 0.5, 0.9])), [0.75, 1.0, 1.0])


def test_bonferroni_refuses_invalid_p_and_a_too_small_family():
    with pytest.raises(DataFormatError, match=r"\[0, 1\]"):
        bonferroni(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match="n_tests"):
        bonferroni(np.array([0.1, 0.2, 0.3]), n_tests=2)


def test_uncorrected_marks_are_p_below_alpha_and_nan_unmarked():
    marks = uncorrected_marks(np.array([0.049, 0.05, 0.2, np.nan, 0.0001]))
    np.testing.assert_array_equal(marks, [True, False, False, False, True])
    np.testing.assert_array_equal(uncorrected_marks(np.array([0.02, 0.005]), alpha=0.01),
                                  [False, True])


# ---------------------------------------------------------------- cluster permutation test


def _loop_clusters(t: np.ndarray, threshold: float, tail: int) -> list[tuple[int, int, float]]:
    """(start, stop, mass) of every run of supra-threshold t, found one time point at a time."""
    signs = {0: (1, -1), 1: (1,), -1: (-1,)}[tail]
    found = []
    for sign in signs:
        start = None
        for index, value in enumerate(list(t) + [0.0]):
            inside = sign * value > threshold
            if inside and start is None:
                start = index
            if not inside and start is not None:
                found.append((start, index, float(sum(t[start:index]))))
                start = None
    return sorted(found)


def _loop_null_statistic(t: np.ndarray, threshold: float, tail: int) -> float:
    masses = [mass for _, _, mass in _loop_clusters(t, threshold, tail)]
    if not masses:
        return 0.0
    return {0: max(abs(m) for m in masses), 1: max(masses), -1: min(masses)}[tail]


def _loop_p_values(observed_t: np.ndarray, null_ts: list[np.ndarray], threshold: float, tail: int
                   ) -> tuple[list[tuple[int, int, float]], list[float]]:
    null = [_loop_null_statistic(t, threshold, tail) for t in null_ts]
    clusters = _loop_clusters(observed_t, threshold, tail)
    p_values = []
    for _, _, mass in clusters:
        if tail == 0:
            p_values.append(sum(abs(m) >= abs(mass) for m in null) / len(null))
        elif tail == 1:
            p_values.append(sum(m >= mass for m in null) / len(null))
        else:
            p_values.append(sum(m <= mass for m in null) / len(null))
    return clusters, p_values


def _effect_data(seed: int, n_subjects: int, n_times: int = 25) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_subjects, n_times))
    x[:, 4:10] += 0.9
    x[:, 15:18] -= 0.7
    return x


@pytest.mark.parametrize("tail", [0, 1, -1])
def test_sign_flip_cluster_test_matches_exhaustive_loop_oracle(tail):
    x = _effect_data(seed=10 + tail, n_subjects=7)
    result = cluster_permutation_test(x, tail=tail, n_permutations=10_000)
    threshold = scipy_stats.t.ppf(1 - 0.05 / (2 if tail == 0 else 1), 6)
    observed = x.mean(axis=0) / (x.std(axis=0, ddof=1) / np.sqrt(7))
    null_ts = []
    for signs in itertools.product([1.0, -1.0], repeat=7):
        flipped = np.asarray(signs)[:, None] * x
        null_ts.append(flipped.mean(axis=0) / (flipped.std(axis=0, ddof=1) / np.sqrt(7)))
    clusters, p_values = _loop_p_values(observed, null_ts, threshold, tail)
    assert result.exact
    assert result.threshold == pytest.approx(threshold, rel=1e-12)
    np.testing.assert_allclose(result.t_obs, observed, rtol=1e-10)
    assert [(c.start, c.stop) for c in result.clusters] == [(s, e) for s, e, _ in clusters]
    np.testing.assert_allclose(result.cluster_mass, [m for _, _, m in clusters], rtol=1e-10)
    np.testing.assert_allclose(result.cluster_p, p_values, rtol=1e-12)
    assert len(result.clusters) > 0


def test_independent_groups_cluster_test_matches_exhaustive_loop_oracle():
    rng = np.random.default_rng(20)
    x = rng.normal(size=(5, 15))
    x[:, 3:8] += 1.5
    y = rng.normal(size=(4, 15))
    result = cluster_permutation_test(x, y=y, paired=False, n_permutations=1000)
    pooled = np.concatenate([x, y])
    threshold = scipy_stats.t.ppf(0.975, 7)
    null_ts = []
    for first in itertools.combinations(range(9), 5):
        second = [i for i in range(9) if i not in first]
        null_ts.append(scipy_stats.ttest_ind(pooled[list(first)], pooled[second]).statistic)
    clusters, p_values = _loop_p_values(null_ts[0], null_ts, threshold, 0)
    assert result.exact and result.null_distribution.size == 126
    assert [(c.start, c.stop) for c in result.clusters] == [(s, e) for s, e, _ in clusters]
    np.testing.assert_allclose(result.cluster_p, p_values, rtol=1e-12)


def _mne_exact_1samp(x: np.ndarray, tail: int):
    mne = pytest.importorskip("mne")
    mne.set_log_level("ERROR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mne, clusters, p_mne, null_mne = mne.stats.permutation_cluster_1samp_test(
            x, tail=tail, n_permutations=10_000, out_type="indices", seed=0)
    order = np.argsort([c[0][0] for c in clusters])
    spans = [(int(clusters[i][0][0]), int(clusters[i][0][-1]) + 1) for i in order]
    return t_mne, spans, np.asarray(p_mne)[order], null_mne


def test_two_sided_sign_flip_cluster_test_matches_mne_exact():
    x = _effect_data(seed=30, n_subjects=9)
    result = cluster_permutation_test(x, tail=0, n_permutations=10_000)
    t_mne, spans, p_mne, null_mne = _mne_exact_1samp(x, tail=0)
    np.testing.assert_allclose(result.t_obs, t_mne, rtol=1e-10)
    assert [(c.start, c.stop) for c in result.clusters] == spans
    assert len(spans) == 2
    np.testing.assert_allclose(result.cluster_p, p_mne, rtol=1e-12)
    np.testing.assert_allclose(np.sort(result.null_distribution), np.sort(np.abs(null_mne)),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("tail", [1, -1])
def test_one_sided_sign_flip_cluster_test_matches_mne_exact_up_to_its_duplicate(tail):
    # MNE's one-sided exact enumeration holds the observed labelling twice and not the
    # all-flipped one; swapping that one entry makes the null distributions identical.
    x = _effect_data(seed=31, n_subjects=9)
    result = cluster_permutation_test(x, tail=tail, n_permutations=10_000)
    t_mne, spans, _, null_mne = _mne_exact_1samp(x, tail=tail)
    np.testing.assert_allclose(result.t_obs, t_mne, rtol=1e-10)
    assert [(c.start, c.stop) for c in result.clusters] == spans
    flipped = cluster_permutation_test(-x, tail=tail, n_permutations=10_000)
    all_flipped = flipped.null_distribution[0]
    observed = result.null_distribution[0]
    null_ours = list(result.null_distribution)
    null_ours.remove(all_flipped)
    np.testing.assert_allclose(np.sort(null_ours + [observed]), np.sort(null_mne),
                               rtol=1e-10, atol=1e-12)


def test_paired_cluster_test_matches_mne_on_differences():
    mne = pytest.importorskip("mne")
    mne.set_log_level("ERROR")
    rng = np.random.default_rng(40)
    y = rng.normal(size=(8, 20))
    x = y + _effect_data(seed=41, n_subjects=8, n_times=20)
    result = cluster_permutation_test(x, y=y)
    _, clusters_mne, p_mne, _ = mne.stats.permutation_cluster_1samp_test(
        x - y, n_permutations=10_000, out_type="indices", seed=0)
    order = np.argsort([c[0][0] for c in clusters_mne])
    np.testing.assert_allclose(result.cluster_p, np.asarray(p_mne)[order], rtol=1e-12)


def test_random_relabelling_is_seeded_and_close_to_the_exact_test():
    x = _effect_data(seed=50, n_subjects=12)
    exact = cluster_permutation_test(x, n_permutations=10_000)
    sampled = cluster_permutation_test(x, n_permutations=1000, seed=7)
    again = cluster_permutation_test(x, n_permutations=1000, seed=7)
    assert exact.exact and not sampled.exact
    assert sampled.null_distribution.size == 1000
    np.testing.assert_array_equal(sampled.null_distribution, again.null_distribution)
    np.testing.assert_allclose(sampled.cluster_p, exact.cluster_p, atol=0.03)


def test_significant_mask_covers_significant_clusters_only():
    x = _effect_data(seed=60, n_subjects=10)
    result = cluster_permutation_test(x, n_permutations=10_000)
    expected = np.zeros(x.shape[1], bool)
    for cluster, p in zip(result.clusters, result.cluster_p, strict=True):
        expected[cluster] = p < 0.05
    np.testing.assert_array_equal(result.significant, expected)
    assert result.significant[4:10].all()


def test_custom_threshold_changes_cluster_formation():
    x = _effect_data(seed=61, n_subjects=10)
    high = cluster_permutation_test(x, threshold=6.0, n_permutations=2000)
    assert high.threshold == 6.0
    assert all(abs(high.t_obs[c]).min() > 6.0 for c in high.clusters)
    assert sum(c.stop - c.start for c in high.clusters) == int((abs(high.t_obs) > 6.0).sum())


def test_cluster_test_refuses_nan_and_misshapen_input():
    x = _effect_data(seed=62, n_subjects=6)
    x[2, 3] = np.nan
    with pytest.raises(DataFormatError, match="NaN"):
        cluster_permutation_test(x)
    with pytest.raises(DataFormatError, match="n_subjects"):
        cluster_permutation_test(np.zeros(10))
    with pytest.raises(DataFormatError, match="paired"):
        cluster_permutation_test(np.ones((5, 10)), y=np.ones((4, 10)))
    with pytest.raises(ValueError, match="tail"):
        cluster_permutation_test(np.ones((5, 10)), tail=2)
