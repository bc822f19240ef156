"""Model RDMs, RDM comparison and noise ceilings against straightforward scipy computations."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import pearsonr, rankdata, spearmanr

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa import (
    DecodingSettings,
    compare_rdms,
    inter_subject_ceiling,
    model_rdm,
    split_half_ceiling,
    split_half_decoding_rdms,
    upper_triangle,
)


def test_model_rdm_equals_pdist_correlation():
    features = np.random.default_rng(0).standard_normal((9, 40))
    np.testing.assert_allclose(model_rdm(features), squareform(pdist(features, "correlation")),
                               atol=1e-12)


def test_model_rdm_is_batched_over_leading_axes():
    features = np.random.default_rng(1).standard_normal((2, 3, 7, 11))
    rdms = model_rdm(features)
    assert rdms.shape == (2, 3, 7, 7)
    for i in range(2):
        for j in range(3):
            np.testing.assert_allclose(rdms[i, j], squareform(pdist(features[i, j], "correlation")),
                                       atol=1e-12)


def test_model_rdm_of_a_constant_image_is_nan_like_pdist():
    features = np.random.default_rng(2).standard_normal((4, 6))
    features[1] = 3.0
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = squareform(pdist(features, "correlation"), checks=False)
    rdm = model_rdm(features)
    assert np.isnan(rdm[1]).all() and np.isnan(rdm[:, 1]).all()
    keep = [0, 2, 3]
    np.testing.assert_allclose(rdm[np.ix_(keep, keep)], expected[np.ix_(keep, keep)], atol=1e-12)


def test_upper_triangle_follows_squareform_order():
    rdm = squareform(np.arange(1.0, 11.0))
    np.testing.assert_array_equal(upper_triangle(rdm), np.arange(1.0, 11.0))
    np.testing.assert_array_equal(upper_triangle(np.stack([rdm, 2 * rdm])),
                                  [np.arange(1.0, 11.0), 2 * np.arange(1.0, 11.0)])
    with pytest.raises(DataFormatError):
        upper_triangle(np.zeros((3, 4)))


def test_compare_rdms_spearman_equals_scipy_with_ties():
    rng = np.random.default_rng(3)
    a = squareform(rng.integers(0, 4, 28).astype(float))  # many ties
    b = squareform(rng.integers(0, 6, 28).astype(float))
    expected = spearmanr(squareform(a), squareform(b))[0]
    assert compare_rdms(a, b) == pytest.approx(expected, abs=1e-12)


def test_compare_rdms_stack_against_one_rdm():
    rng = np.random.default_rng(4)
    stack = np.stack([squareform(rng.random(21)) for _ in range(5)])  # (T, 7, 7)
    single = squareform(rng.integers(0, 5, 21).astype(float))
    got = compare_rdms(stack, single)
    assert got.shape == (5,)
    expected = [spearmanr(squareform(s), squareform(single))[0] for s in stack]
    np.testing.assert_allclose(got, expected, atol=1e-12)
    pearson = compare_rdms(stack, single, method="pearson")
    np.testing.assert_allclose(pearson, [pearsonr(squareform(s), squareform(single))[0]
                                         for s in stack], atol=1e-12)


def test_compare_rdms_unknown_method_and_nan_handling():
    rdm = squareform(np.arange(1.0, 7.0))
    with pytest.raises(ValueError, match="spearman"):
        compare_rdms(rdm, rdm, method="kendall")
    broken = rdm.copy()
    broken[0, 1] = broken[1, 0] = np.nan
    assert np.isnan(compare_rdms(broken, rdm))
    assert np.isnan(compare_rdms(np.zeros((4, 4)), rdm[:4, :4]))  # constant triangle
    with pytest.raises(DataFormatError, match="different sizes"):
        compare_rdms(rdm, rdm[:3, :3])


def _random_rdms(shape, n, seed):
    rng = np.random.default_rng(seed)
    shared = rng.random(n * (n - 1) // 2)
    triangles = shared + 0.7 * rng.random(shape + (len(shared),))
    return np.vectorize(squareform, signature="(m)->(n,n)")(triangles)


def test_inter_subject_ceiling_equals_loops_over_subjects_with_rank_pooling():
    # rsatoolbox's pooling for Spearman: the mean of the subjects' rank-transformed RDMs
    rdms = _random_rdms((4, 3), 8, seed=5)  # (subjects, times, n, n)
    rdms[2] *= 40.0  # a subject of larger scale: raw averaging would let it dominate the pool
    ceiling = inter_subject_ceiling(rdms)
    for t in range(3):
        ranks = np.stack([rankdata(squareform(rdms[s, t])) for s in range(4)])
        lower = [spearmanr(ranks[s], np.delete(ranks, s, axis=0).mean(axis=0))[0] for s in range(4)]
        upper = [spearmanr(ranks[s], ranks.mean(axis=0))[0] for s in range(4)]
        assert ceiling.lower[t] == pytest.approx(np.mean(lower), abs=1e-12)
        assert ceiling.upper[t] == pytest.approx(np.mean(upper), abs=1e-12)
        np.testing.assert_allclose(ceiling.lower_per_subject[:, t], lower, atol=1e-12)
        np.testing.assert_allclose(ceiling.upper_per_subject[:, t], upper, atol=1e-12)
    assert np.all(ceiling.upper >= ceiling.lower)
    assert ceiling.method == "spearman"
    with pytest.raises(DataFormatError, match="at least 2 subjects"):
        inter_subject_ceiling(rdms[:1])


def test_split_half_ceiling_is_spearman_brown_of_the_half_correlation():
    halves = _random_rdms((2, 3), 7, seed=6)
    ceiling = split_half_ceiling(halves[0], halves[1])
    for t in range(3):
        r = spearmanr(squareform(halves[0, t]), squareform(halves[1, t]))[0]
        assert ceiling.half_correlation[t] == pytest.approx(r, abs=1e-12)
        assert ceiling.ceiling[t] == pytest.approx(2 * r / (1 + r), abs=1e-12)
    assert not ceiling.negative.any() and ceiling.nan_reason is None
    with pytest.raises(DataFormatError):
        split_half_ceiling(halves[0], halves[1, :2])


def test_split_half_decoding_rdms_are_reliable_only_for_structured_data():
    rng = np.random.default_rng(7)
    n_images, n_trials, n_channels, n_times = 8, 20, 4, 2
    noise = rng.standard_normal((n_images, n_trials, n_channels, n_times))
    pattern = 1.5 * rng.standard_normal((n_images, 1, n_channels, 1)) * np.array([0.0, 1.0])
    structured = noise + pattern
    settings = DecodingSettings(n_folds=2)
    half_a, half_b = split_half_decoding_rdms(structured, settings, seed=1, progress=False)
    assert half_a.shape == half_b.shape == (n_times, n_images, n_images)
    ceiling = split_half_ceiling(half_a, half_b)
    assert ceiling.ceiling[1] > 0.5  # time point with image information
    assert abs(ceiling.half_correlation[0]) < ceiling.half_correlation[1]
    again = split_half_decoding_rdms(structured, settings, seed=1, progress=False)
    np.testing.assert_array_equal(again[0], half_a)
