"""Noise ceilings pooled as rsatoolbox pools them, their bootstrap intervals, the image bootstrap of RSA
scores, and the split-half ceiling's handling of negative half-correlations.

rsatoolbox is the oracle: these tests fail (never skip) without it; scripts/install.sh installs it.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa import (
    BOOTSTRAP_COMPARISONS,
    COMPARISONS,
    RSATOOLBOX_REQUIREMENT,
    BootstrapInterval,
    compare_rdms,
    inter_subject_ceiling,
    inter_subject_ceiling_bootstrap,
    pool_rdms,
    resample_indices,
    rsa_image_bootstrap,
    split_half_ceiling,
    upper_triangle,
)
from realnet_plugins.rsa.bootstrap import pair_multiplicities, resampled_pairs, weighted_compare

try:
    from rsatoolbox.inference import boot_noise_ceiling
    from rsatoolbox.rdm import RDMs, compare
    from rsatoolbox.util.inference_util import pool_rdm
except ImportError as error:  # the oracle tests must fail, not skip
    raise ImportError(f"the RSA oracle tests need rsatoolbox ({RSATOOLBOX_REQUIREMENT}); install it with "
                      f"pip install '{RSATOOLBOX_REQUIREMENT}' (scripts/install.sh does): {error}") from error

N_SUBJECTS, N_TIMES, N = 4, 2, 8
SCALES = np.array([1.0, 6.0, 0.15, 40.0])  # subjects of unequal scale: raw pooling differs


def _subject_rdms(seed: int = 0) -> np.ndarray:
    """(subjects, times, n, n): a shared structure plus subject noise, at unequal scales; subject 1 tied."""
    rng = np.random.default_rng(seed)
    m = N * (N - 1) // 2
    triangles = rng.random(m) + 0.8 * rng.random((N_SUBJECTS, N_TIMES, m))
    triangles[1] = np.round(triangles[1] * 3) / 3
    triangles *= SCALES[:, None, None]
    return np.vectorize(squareform, signature="(m)->(n,n)")(triangles)


def _rsatoolbox_ceiling(rdms_at_t: np.ndarray, method: str, **options) -> tuple[float, float]:
    with warnings.catch_warnings():  # rsatoolbox warns that tau ceilings use averaged ranks
        warnings.simplefilter("ignore", UserWarning)
        return boot_noise_ceiling(rdms_at_t, method=method, **options)


@pytest.mark.parametrize("method", sorted(COMPARISONS))
def test_inter_subject_ceiling_equals_boot_noise_ceiling(method):
    rdms = _subject_rdms()
    ceiling = inter_subject_ceiling(rdms, method)
    for t in range(N_TIMES):
        lower, upper = _rsatoolbox_ceiling(RDMs(upper_triangle(rdms[:, t])), method)
        assert ceiling.lower[t] == pytest.approx(lower, abs=1e-12)
        assert ceiling.upper[t] == pytest.approx(upper, abs=1e-12)
    assert ceiling.lower_per_subject.shape == ceiling.upper_per_subject.shape == (N_SUBJECTS, N_TIMES)
    np.testing.assert_allclose(ceiling.lower, ceiling.lower_per_subject.mean(axis=0), atol=1e-15)


@pytest.mark.parametrize("method", ["spearman", "corr", "cosine"])
def test_raw_averaging_would_differ_on_these_subjects(method):
    # the oracle test above has teeth: the old pooling (mean of the raw RDMs) gives other values here
    rdms = _subject_rdms()
    raw_lower = np.mean([compare_rdms(rdms[s], np.delete(rdms, s, axis=0).mean(axis=0), method)
                         for s in range(N_SUBJECTS)], axis=0)
    assert np.abs(raw_lower - inter_subject_ceiling(rdms, method).lower).max() > 1e-3


@pytest.mark.parametrize("method", sorted(COMPARISONS))
def test_pool_rdms_equals_rsatoolbox_pool_rdm(method):
    rdms = _subject_rdms(seed=1)
    pooled = pool_rdms(rdms, method)
    assert pooled.shape == (N_TIMES, N, N)
    for t in range(N_TIMES):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            expected = pool_rdm(RDMs(upper_triangle(rdms[:, t])), method=method).get_vectors()[0]
        np.testing.assert_allclose(upper_triangle(pooled[t]), expected, rtol=0, atol=1e-12)
        assert np.all(np.diagonal(pooled[t]) == 0)


@pytest.mark.parametrize("method", BOOTSTRAP_COMPARISONS)
def test_image_bootstrap_samples_equal_boot_noise_ceiling_of_resampled_rdms(method):
    rdms = _subject_rdms(seed=2)
    interval = inter_subject_ceiling_bootstrap(rdms, method, over="images", n_bootstrap=3, seed=5)
    draws = resample_indices(N, 3, seed=5)
    for b in range(3):
        for t in range(N_TIMES):
            resampled = RDMs(upper_triangle(rdms[:, t])).subsample_pattern("index", draws[b])
            lower, upper = _rsatoolbox_ceiling(resampled, method)
            assert interval.lower.samples[b, t] == pytest.approx(lower, abs=1e-12)
            assert interval.upper.samples[b, t] == pytest.approx(upper, abs=1e-12)
    point = inter_subject_ceiling(rdms, method)
    np.testing.assert_array_equal(interval.lower.estimate, point.lower)
    np.testing.assert_array_equal(interval.upper.estimate, point.upper)
    assert interval.lower.over == "images" and interval.method == method


@pytest.mark.parametrize("method", ["spearman", "corr", "tau-a", "cosine_cov"])
def test_subject_bootstrap_samples_equal_boot_noise_ceiling_of_resampled_subjects(method):
    rdms = _subject_rdms(seed=3)
    interval = inter_subject_ceiling_bootstrap(rdms, method, over="subjects", n_bootstrap=4, seed=7)
    draws = resample_indices(N_SUBJECTS, 4, seed=7)
    for b in range(4):
        for t in range(N_TIMES):
            resampled = RDMs(upper_triangle(rdms[draws[b], t]), rdm_descriptors={"subject": list(draws[b])})
            if len(set(draws[b])) < 2:
                continue
            lower, upper = _rsatoolbox_ceiling(resampled, method, rdm_descriptor="subject")
            assert interval.lower.samples[b, t] == pytest.approx(lower, abs=1e-12)
            assert interval.upper.samples[b, t] == pytest.approx(upper, abs=1e-12)


def test_bootstrap_interval_summarises_its_samples_and_is_seeded():
    rdms = _subject_rdms(seed=4)
    interval = inter_subject_ceiling_bootstrap(rdms, "spearman", over="images", n_bootstrap=40, seed=1,
                                               confidence=0.9)
    lower = interval.lower
    assert lower.samples.shape == (40, N_TIMES)
    np.testing.assert_allclose(lower.low, np.percentile(lower.samples, 5.0, axis=0))
    np.testing.assert_allclose(lower.high, np.percentile(lower.samples, 95.0, axis=0))
    np.testing.assert_allclose(lower.se, lower.samples.std(axis=0, ddof=1))
    assert np.all(lower.low <= lower.high) and lower.confidence == 0.9
    again = inter_subject_ceiling_bootstrap(rdms, "spearman", over="images", n_bootstrap=40, seed=1,
                                            confidence=0.9)
    np.testing.assert_array_equal(again.upper.samples, interval.upper.samples)
    other = inter_subject_ceiling_bootstrap(rdms, "spearman", over="images", n_bootstrap=40, seed=2)
    assert not np.array_equal(other.upper.samples, interval.upper.samples)
    window = BootstrapInterval.from_samples(lower.estimate.mean(), lower.samples.mean(axis=1), over="images")
    assert window.estimate.shape == window.se.shape == ()


def test_bootstrap_refuses_what_it_cannot_do():
    rdms = _subject_rdms()
    with pytest.raises(ValueError, match="image bootstrap"):
        inter_subject_ceiling_bootstrap(rdms, "corr_cov", over="images", n_bootstrap=2)
    with pytest.raises(ValueError, match="over must be"):
        inter_subject_ceiling_bootstrap(rdms, over="trials", n_bootstrap=2)
    with pytest.raises(ValueError, match="n_bootstrap"):
        inter_subject_ceiling_bootstrap(rdms, n_bootstrap=0)
    with pytest.raises(DataFormatError, match="at least 2 subjects"):
        inter_subject_ceiling_bootstrap(rdms[:1], n_bootstrap=2)


@pytest.mark.parametrize("method", ["spearman", "corr", "cosine", "rho-a"])
def test_weighted_comparison_equals_comparing_the_expanded_resampled_triangles(method):
    rng = np.random.default_rng(8)
    x = np.round(rng.random((3, N * (N - 1) // 2)) * 4)  # ties
    y = rng.random(N * (N - 1) // 2)
    draw = rng.integers(0, N, size=N)
    pairs = resampled_pairs(draw, N)
    assert len(pairs) == pair_multiplicities(draw, N).sum()
    expected = compare(RDMs(x[:, pairs]), RDMs(y[None, pairs]), method=method)[:, 0]
    got = weighted_compare(x, y, method, pair_multiplicities(draw, N))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", BOOTSTRAP_COMPARISONS)
def test_rsa_image_bootstrap_equals_rsatoolbox_on_each_resample(method):
    rng = np.random.default_rng(9)
    m = N * (N - 1) // 2
    model = rng.random((2, m))  # two model regions
    target = model[0] + rng.random((3, m))  # three time points
    models = np.vectorize(squareform, signature="(m)->(n,n)")(model)
    targets = np.vectorize(squareform, signature="(m)->(n,n)")(target)
    summary = lambda rsa: float(np.nanmax(rsa, axis=0).mean())  # noqa: E731  (max over regions, mean over time)
    result = rsa_image_bootstrap(models, targets, method, summary=summary, n_bootstrap=3, seed=4)
    assert result.estimate == pytest.approx(summary(compare_rdms(models[:, None], targets[None], method)), abs=1e-12)
    draws = resample_indices(N, 3, seed=4)
    for b in range(3):
        model_b = RDMs(model).subsample_pattern("index", draws[b])
        target_b = RDMs(target).subsample_pattern("index", draws[b])
        assert result.samples[b] == pytest.approx(summary(compare(model_b, target_b, method=method)), abs=1e-12)
    assert result.se == pytest.approx(np.std(result.samples, ddof=1))
    assert result.over == "images"
    with pytest.raises(ValueError, match="image bootstrap"):
        rsa_image_bootstrap(models, targets, "cosine_cov", n_bootstrap=2)


def test_split_half_ceiling_refuses_negative_half_correlations():
    rng = np.random.default_rng(10)
    m = N * (N - 1) // 2
    base = rng.random(m)
    half_a = np.stack([squareform(base), squareform(base), squareform(base)])
    half_b = np.stack([squareform(base + 0.3 * rng.random(m)),   # positive correlation
                       squareform(-base + 0.1 * rng.random(m)),  # strongly negative: 2r/(1+r) < -1
                       squareform(np.full(m, 0.5))])              # constant: undefined
    ceiling = split_half_ceiling(half_a, half_b)
    r = ceiling.half_correlation
    assert r[0] > 0 and r[1] < -1 / 3 and np.isnan(r[2])
    assert ceiling.ceiling[0] == pytest.approx(2 * r[0] / (1 + r[0]), abs=1e-12)
    assert np.isnan(ceiling.ceiling[1]) and np.isnan(ceiling.ceiling[2])
    np.testing.assert_array_equal(ceiling.negative, [False, True, False])
    assert "negative at 1 of 3 time points (indices [1])" in ceiling.nan_reason
    assert "undefined" in ceiling.nan_reason and "[2]" in ceiling.nan_reason
    assert not np.any(ceiling.ceiling < -1)


def test_weighted_mid_ranks_equal_ranks_of_the_expanded_vector():
    from scipy.stats import rankdata

    from realnet_plugins.rsa.bootstrap import WeightedRanks

    rng = np.random.default_rng(11)
    for values in (np.round(rng.random((3, 200)) * 15), rng.random((3, 200))):  # with and without ties
        weights = rng.integers(0, 4, 200).astype(np.float64)
        ranks = WeightedRanks(values).ranks(weights)
        kept = weights > 0
        for row in range(3):
            expanded = np.repeat(values[row], weights.astype(int))
            by_value = dict(zip(expanded, rankdata(expanded)))
            np.testing.assert_allclose(ranks[row, kept], [by_value[v] for v in values[row, kept]], atol=1e-12)
        np.testing.assert_allclose(WeightedRanks(values).ranks(np.ones(200)), rankdata(values, axis=1), atol=1e-12)
