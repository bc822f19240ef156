"""Analyses of realnet_plugins.analysis against loops, scipy and (where installed) pingouin."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as scipy_stats

from realnet_plugins.analysis.dimensions import dimension_rdms, partial_spearman, top_dimensions
from realnet_plugins.analysis.eeg import (
    baseline_subtracted,
    column_normalised,
    compare_time_courses,
    cross_subject_matrix,
    matched_vs_unmatched_test,
    max_over_layers,
    mean_sem,
    peak_improvement,
    summary_scalar,
    summary_window_mask,
)
from realnet_plugins.analysis.variability import individual_variability
from realnet_plugins.constants import EEG_TIMES_S, RELEASE_TIMES_S
from realnet_plugins.errors import DataFormatError
from realnet_plugins.stats import cluster_permutation_test, ttest_independent


def _random_rdms(rng: np.random.Generator, n_rdms: int, n_images: int) -> np.ndarray:
    upper = rng.random((n_rdms, n_images * (n_images - 1) // 2))
    rdms = np.zeros((n_rdms, n_images, n_images))
    rows, columns = np.triu_indices(n_images, k=1)
    rdms[:, rows, columns] = upper
    return rdms + rdms.transpose(0, 2, 1)


# ---------------------------------------------------------------- EEG summaries


@pytest.mark.parametrize("times", [
    np.arange(20) / 100,
    np.arange(20) * 0.01,
    np.linspace(0.0, 0.19, 20),
    EEG_TIMES_S + np.random.default_rng(0).uniform(-1e-9, 1e-9, 20),
])
def test_summary_window_picks_exactly_50_to_190_ms(times):
    selected_ms = np.rint(times[summary_window_mask(times)] * 1000).astype(int)
    np.testing.assert_array_equal(selected_ms, np.arange(50, 200, 10))


def test_summary_window_on_the_release_time_axis_excludes_200_ms():
    selected = RELEASE_TIMES_S[summary_window_mask(RELEASE_TIMES_S)]
    np.testing.assert_array_equal(np.rint(selected * 1000).astype(int), np.arange(50, 200, 10))


def test_summary_window_refuses_times_in_milliseconds():
    with pytest.raises(DataFormatError, match="seconds"):
        summary_window_mask(np.arange(20) * 10.0 + 1000.0)


def test_summary_scalar_is_mean_over_layers_and_window_samples():
    rng = np.random.default_rng(1)
    rsa = rng.normal(size=(3, 4, 20))
    expected = [np.mean([rsa[m, layer, t] for layer in range(4) for t in range(5, 20)])
                for m in range(3)]
    np.testing.assert_allclose(summary_scalar(rsa, EEG_TIMES_S), expected, rtol=1e-12)
    with pytest.raises(DataFormatError, match="times"):
        summary_scalar(rsa, EEG_TIMES_S[:19])


def test_max_over_layers_takes_the_best_layer_at_each_time():
    rng = np.random.default_rng(2)
    rsa = rng.normal(size=(3, 4, 20))
    expected = [[max(rsa[m, :, t]) for t in range(20)] for m in range(3)]
    np.testing.assert_array_equal(max_over_layers(rsa), expected)


@pytest.mark.parametrize("paired_base", [True, False])
def test_peak_improvement_at_peak_of_mean_realnet_curve(paired_base):
    rng = np.random.default_rng(3)
    realnet = rng.normal(0.3, 0.05, size=(10, 4, 20))
    base = rng.normal(0.2, 0.05, size=(10, 4, 20) if paired_base else (4, 20))
    result = peak_improvement(realnet, base, EEG_TIMES_S)
    for layer in range(4):
        mean_curve = [realnet[:, layer, t].mean() for t in range(20)]
        peak = int(np.argmax(mean_curve))
        assert result.peak_index[layer] == peak
        assert result.peak_time_s[layer] == EEG_TIMES_S[peak]
        for model in range(10):
            base_value = base[model, layer, peak] if paired_base else base[layer, peak]
            difference = realnet[model, layer, peak] - base_value
            assert result.improvement[model, layer] == pytest.approx(difference, rel=1e-12)
            assert result.ratio[model, layer] == pytest.approx(difference / base_value, rel=1e-12)


def test_peak_improvement_refuses_a_base_with_other_rows():
    with pytest.raises(DataFormatError, match="mean over subjects"):
        peak_improvement(np.zeros((10, 4, 20)), np.zeros((3, 4, 20)), EEG_TIMES_S)


def test_mean_sem_uses_ddof_1():
    rng = np.random.default_rng(4)
    values = rng.normal(size=(10, 6))
    mean, sem = mean_sem(values, axis=0)
    np.testing.assert_allclose(mean, values.sum(axis=0) / 10, rtol=1e-12)
    hand_sem = np.sqrt(((values - mean) ** 2).sum(axis=0) / 9 / 10)
    np.testing.assert_allclose(sem, hand_sem, rtol=1e-12)


@pytest.mark.parametrize("paired", [True, False])
def test_compare_time_courses_combines_ttests_marks_and_cluster_test(paired):
    rng = np.random.default_rng(5)
    base = rng.normal(size=(8, 20))
    realnet = base + rng.normal(size=(8, 20))
    realnet[:, 6:14] += 1.5
    result = compare_time_courses(realnet, base, paired=paired, n_permutations=500, seed=3)
    scipy_test = scipy_stats.ttest_rel if paired else scipy_stats.ttest_ind
    reference = scipy_test(realnet, base)
    np.testing.assert_allclose(result.ttest.t, reference.statistic, rtol=1e-12)
    np.testing.assert_array_equal(result.uncorrected, reference.pvalue < 0.05)
    cluster = cluster_permutation_test(realnet, y=base, paired=paired, n_permutations=500, seed=3)
    np.testing.assert_array_equal(result.cluster.significant, cluster.significant)
    np.testing.assert_array_equal(result.cluster.cluster_p, cluster.cluster_p)
    if not paired:
        np.testing.assert_allclose(result.ttest.d, ttest_independent(realnet, base).d)


# ---------------------------------------------------------------- cross-subject matrix


def test_cross_subject_matrix_averages_layers_and_window_per_cell():
    rng = np.random.default_rng(6)
    rsa = rng.normal(size=(5, 5, 4, 20))
    matrix = cross_subject_matrix(rsa, EEG_TIMES_S)
    assert matrix.shape == (5, 5)
    assert matrix[2, 3] == pytest.approx(rsa[2, 3][:, 5:].mean(), rel=1e-12)
    with pytest.raises(DataFormatError, match="n_subjects"):
        cross_subject_matrix(rsa[0], EEG_TIMES_S)


def test_baseline_subtracted_subtracts_each_subjects_base_from_its_column():
    matrix = np.arange(12.0).reshape(3, 4)
    base = np.array([1.0, 2.0, 3.0, 4.0])
    expected = [[matrix[m, s] - base[s] for s in range(4)] for m in range(3)]
    np.testing.assert_array_equal(baseline_subtracted(matrix, base), expected)
    with pytest.raises(DataFormatError, match="n_subjects"):
        baseline_subtracted(matrix, base[:3])


def test_column_normalised_scales_each_column_to_maximum_one():
    rng = np.random.default_rng(7)
    matrix = rng.normal(0.02, 0.01, size=(6, 6))
    matrix[:, 2] = [0.5, -0.1, 0.25, 0.0, 0.1, 0.2]
    normalised = column_normalised(matrix)
    np.testing.assert_allclose(normalised.max(axis=0), np.ones(6), rtol=1e-12)
    np.testing.assert_allclose(normalised[:, 2], [1.0, -0.2, 0.5, 0.0, 0.2, 0.4], rtol=1e-12)
    np.testing.assert_array_equal(np.argsort(normalised, axis=0), np.argsort(matrix, axis=0))


def test_column_normalised_refuses_a_column_without_positive_maximum():
    matrix = np.ones((3, 3))
    matrix[:, 1] = [-0.2, -0.1, -0.3]
    with pytest.raises(DataFormatError, match=r"columns \[1\]"):
        column_normalised(matrix)


def test_matched_vs_unmatched_is_paired_ttest_of_diagonal_against_row_mean_off_diagonal():
    rng = np.random.default_rng(8)
    matrix = rng.normal(size=(10, 10)) + 0.8 * np.eye(10)
    result = matched_vs_unmatched_test(matrix)
    matched = [matrix[i, i] for i in range(10)]
    unmatched = [np.mean([matrix[i, j] for j in range(10) if j != i]) for i in range(10)]
    np.testing.assert_allclose(result.matched, matched)
    np.testing.assert_allclose(result.unmatched, unmatched, rtol=1e-12)
    reference = scipy_stats.ttest_rel(matched, unmatched)
    assert result.ttest.t == pytest.approx(reference.statistic, rel=1e-10)
    assert result.ttest.p == pytest.approx(reference.pvalue, rel=1e-10)
    with pytest.raises(DataFormatError, match="square"):
        matched_vs_unmatched_test(matrix[:, :9])


# ---------------------------------------------------------------- individual variability


def test_variability_of_identical_models_is_exactly_zero():
    rdm = _random_rdms(np.random.default_rng(9), 1, 30)[0]
    result = individual_variability(np.stack([rdm] * 5))
    assert result.mean == 0.0
    np.testing.assert_array_equal(result.pairwise, np.zeros((5, 5)))


def test_variability_of_independent_random_rdms_is_about_one():
    result = individual_variability(_random_rdms(np.random.default_rng(10), 10, 40))
    assert result.pair_values.shape == (45,)
    assert abs(result.mean - 1.0) < 0.02


def test_variability_pairs_equal_one_minus_scipy_spearman():
    rng = np.random.default_rng(11)
    shared = _random_rdms(rng, 1, 25)
    rdms = shared + 0.5 * _random_rdms(rng, 6, 25)
    rdms[2, 0, 1] = rdms[2, 1, 0] = rdms[2, 0, 2]  # a tie among the ranks
    result = individual_variability(rdms)
    rows, columns = np.triu_indices(25, k=1)
    for i in range(6):
        for j in range(6):
            rho = scipy_stats.spearmanr(rdms[i][rows, columns], rdms[j][rows, columns]).statistic
            assert result.pairwise[i, j] == pytest.approx(1 - rho, abs=1e-12)
    np.testing.assert_allclose(result.mean, result.pairwise[np.triu_indices(6, k=1)].mean())


def test_variability_per_layer_equals_separate_calls():
    rng = np.random.default_rng(12)
    rdms = np.stack([_random_rdms(rng, 4, 15) for _ in range(3)], axis=1)  # (4 models, 3 layers)
    result = individual_variability(rdms)
    assert result.pairwise.shape == (3, 4, 4) and result.mean.shape == (3,)
    for layer in range(3):
        single = individual_variability(rdms[:, layer])
        np.testing.assert_array_equal(result.pairwise[layer], single.pairwise)
        assert result.mean[layer] == single.mean


def test_variability_refuses_constant_rdm():
    rdms = _random_rdms(np.random.default_rng(13), 3, 10)
    rdms[1] = 1.0
    with pytest.raises(DataFormatError, match=r"models \[1\]"):
        individual_variability(rdms)


# ---------------------------------------------------------------- THINGS dimensions


def test_dimension_rdms_are_absolute_differences_per_dimension():
    embedding = np.random.default_rng(14).random((6, 4))
    rdms = dimension_rdms(embedding)
    assert rdms.shape == (4, 6, 6)
    for d in range(4):
        for i in range(6):
            for j in range(6):
                assert rdms[d, i, j] == abs(embedding[i, d] - embedding[j, d])


def _dimension_problem(seed: int, n_images: int = 30, n_dimensions: int = 5):
    rng = np.random.default_rng(seed)
    predictors = dimension_rdms(rng.random((n_images, n_dimensions)))
    weights = np.linspace(1.0, 0.0, n_dimensions)
    target = np.tensordot(weights, predictors, axes=1) + 0.3 * _random_rdms(rng, 1, n_images)[0]
    return target, predictors


def _regression_residual(values: np.ndarray, design: np.ndarray) -> np.ndarray:
    """What least squares on the columns of ``design`` leaves of ``values``."""
    return values - design @ np.linalg.lstsq(design, values, rcond=None)[0]


def test_partial_spearman_matches_rank_residual_regression():
    target, predictors = _dimension_problem(seed=15)
    result = partial_spearman(target, predictors)
    rows, columns = np.triu_indices(target.shape[0], k=1)
    target_ranks = scipy_stats.rankdata(target[rows, columns])
    predictor_ranks = np.stack([scipy_stats.rankdata(p[rows, columns]) for p in predictors])
    for j in range(predictors.shape[0]):
        others = np.delete(predictor_ranks, j, axis=0).T
        design = np.column_stack([np.ones(others.shape[0]), others])
        residual_target = _regression_residual(target_ranks, design)
        residual_j = _regression_residual(predictor_ranks[j], design)
        expected = scipy_stats.pearsonr(residual_target, residual_j).statistic
        assert result.r[j] == pytest.approx(expected, abs=1e-10)
        assert result.r_squared[j] == pytest.approx(expected**2, abs=1e-10)
    assert result.r[0] > result.r[-1]


def test_partial_spearman_matches_pingouin():
    pingouin = pytest.importorskip("pingouin")
    import pandas as pd

    target, predictors = _dimension_problem(seed=16, n_dimensions=4)
    result = partial_spearman(target, predictors)
    rows, columns = np.triu_indices(target.shape[0], k=1)
    frame = pd.DataFrame({"target": target[rows, columns],
                          **{f"d{j}": p[rows, columns] for j, p in enumerate(predictors)}})
    for j in range(4):
        covariates = [f"d{k}" for k in range(4) if k != j]
        reference = pingouin.partial_corr(frame, x="target", y=f"d{j}", covar=covariates,
                                          method="spearman")
        assert result.r[j] == pytest.approx(reference["r"].iloc[0], abs=1e-10)


def test_partial_spearman_with_one_predictor_is_plain_spearman():
    target, predictors = _dimension_problem(seed=17)
    rows, columns = np.triu_indices(target.shape[0], k=1)
    expected = scipy_stats.spearmanr(target[rows, columns], predictors[1][rows, columns]).statistic
    assert partial_spearman(target, predictors[1:2]).r[0] == pytest.approx(expected, abs=1e-12)


def test_partial_spearman_refuses_collinear_predictors():
    target, predictors = _dimension_problem(seed=18)
    duplicated = np.concatenate([predictors, 2.0 * predictors[:1]])
    with pytest.raises(DataFormatError, match="collinear"):
        partial_spearman(target, duplicated)


def test_top_dimensions_ranks_mean_score_with_names_and_stable_ties():
    scores = np.array([[0.0, 0.5, 0.25, 0.75, 0.5], [0.25, 0.0, 0.25, -0.25, 0.5]])
    top = top_dimensions(scores, n_top=3, names=["food", "animal", "tool", "metal", "plant"])
    np.testing.assert_array_equal(top.indices, [4, 1, 2])
    assert top.names == ("plant", "animal", "tool")
    np.testing.assert_array_equal(top.mean, [0.5, 0.25, 0.25])
    single_model = top_dimensions(np.array([0.2, 0.9, 0.5]), n_top=2)
    np.testing.assert_array_equal(single_model.indices, [1, 2])
    with pytest.raises(DataFormatError, match="names"):
        top_dimensions(scores, names=["a"])
