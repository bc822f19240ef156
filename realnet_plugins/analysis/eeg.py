"""Summaries and comparisons of EEG temporal RSA (SPEC.md "EEG temporal RSA", paper Figs. 2, 5).

Inputs are RSA values (Spearman between a model layer's RDM and the EEG RDM at one time point)
arranged with layers on the second-to-last axis and time points on the last axis, e.g.
(n_models, n_layers, n_times) with ``times`` in seconds (the model grid is 0, 0.01, ..., 0.19 s).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from realnet_plugins.errors import DataFormatError
from realnet_plugins.stats import (
    ClusterTestResult,
    TTestResult,
    cluster_permutation_test,
    ttest_independent,
    ttest_paired,
    uncorrected_marks,
)

#: The summary window in whole milliseconds, [start, stop): the samples at 50, 60, ..., 190 ms on
#: the 100 Hz grid, i.e. the paper's "50-200 ms" (its last sample is 190 ms).
SUMMARY_WINDOW_MS: tuple[int, int] = (50, 200)


@dataclass(frozen=True)
class PeakImprovement:
    """ReAlnet - base at each layer's peak (paper Fig. 2B).

    Attributes:
        peak_index: per layer, the time index of the maximum of the mean ReAlnet curve, (n_layers,).
        peak_time_s: the same peaks in seconds, (n_layers,).
        improvement: ReAlnet - base at the peak, (n_models, n_layers).
        ratio: (ReAlnet - base) / base at the peak, (n_models, n_layers).
    """

    peak_index: np.ndarray
    peak_time_s: np.ndarray
    improvement: np.ndarray
    ratio: np.ndarray


@dataclass(frozen=True)
class TimeCourseComparison:
    """Per-time-point comparison of two sets of time courses (paper Fig. 2A/C marks).

    Attributes:
        ttest: t-test at every time point (arrays of shape (n_times,)).
        uncorrected: p < alpha without correction, the paper's marks, (n_times,) bool.
        cluster: cluster-based permutation test over time (this project's addition).
    """

    ttest: TTestResult
    uncorrected: np.ndarray
    cluster: ClusterTestResult


@dataclass(frozen=True)
class MatchedVsUnmatched:
    """Matched (diagonal) against unmatched (mean off-diagonal) cells, per model (paper Fig. 2G).

    Attributes:
        matched: each model's cell for its own subject, (n_models,).
        unmatched: each model's mean over the other subjects, (n_models,).
        ttest: paired t-test of matched against unmatched across models.
    """

    matched: np.ndarray
    unmatched: np.ndarray
    ttest: TTestResult


def _check_layers_times(rsa: np.ndarray, times: np.ndarray | None = None) -> np.ndarray:
    rsa = np.asarray(rsa, dtype=float)
    if rsa.ndim < 2:
        raise DataFormatError(
            f"expected RSA values shaped (..., n_layers, n_times), found shape {rsa.shape}."
        )
    if times is not None and np.shape(times) != (rsa.shape[-1],):
        raise DataFormatError(
            f"expected times of shape ({rsa.shape[-1]},) to match the last axis of the RSA "
            f"values, found shape {np.shape(times)}."
        )
    return rsa


def summary_window_mask(times: np.ndarray) -> np.ndarray:
    """The time points of the summary window (:data:`SUMMARY_WINDOW_MS`).

    Times are rounded to whole milliseconds first, so floating error in ``times`` (e.g.
    ``np.arange(20) / 100``) cannot drop or add a sample.

    Args:
        times: time of each sample in seconds, shape (n_times,).

    Returns:
        Boolean mask of shape (n_times,).
    """
    milliseconds = np.rint(np.asarray(times, dtype=float) * 1000.0)
    start, stop = SUMMARY_WINDOW_MS
    mask = (milliseconds >= start) & (milliseconds < stop)
    if not mask.any():
        raise DataFormatError(
            f"expected samples between {start} and {stop} ms, found times from "
            f"{milliseconds.min():.0f} to {milliseconds.max():.0f} ms; pass times in seconds."
        )
    return mask


def summary_scalar(rsa: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The paper's scalar summary: mean over layers and the samples at 50, 60, ..., 190 ms.

    Args:
        rsa: RSA values, shape (..., n_layers, n_times), e.g. (n_models, n_layers, n_times).
        times: time of each sample in seconds, shape (n_times,).

    Returns:
        Array of shape (...), e.g. (n_models,).
    """
    rsa = _check_layers_times(rsa, times)
    return rsa[..., summary_window_mask(times)].mean(axis=(-2, -1))


def max_over_layers(rsa: np.ndarray) -> np.ndarray:
    """At each time point the largest RSA over layers (paper Fig. 2C).

    Args:
        rsa: RSA values, shape (..., n_layers, n_times).

    Returns:
        Array of shape (..., n_times).
    """
    return _check_layers_times(rsa).max(axis=-2)


def peak_improvement(realnet: np.ndarray, base: np.ndarray, times: np.ndarray) -> PeakImprovement:
    """Improvement and improvement ratio of ReAlnets over a base model at each layer's peak.

    For each layer the peak is the time of the maximum of the ReAlnet curve averaged over models.
    Each model's improvement is its RSA at that time minus the base model's.

    Args:
        realnet: RSA of the ReAlnets, shape (n_models, n_layers, n_times); row i is ReAlnet i
            against its own subject's EEG.
        base: RSA of the base model, either (n_models, n_layers, n_times) with row i against the
            same subject as ReAlnet i (subtracted row by row), or (n_layers, n_times), one curve
            subtracted from every row (e.g. the base model's mean over subjects).
        times: time of each sample in seconds, shape (n_times,).

    Returns:
        :class:`PeakImprovement`. The ratio is not meaningful where the base RSA at the peak is
        near or below 0.
    """
    realnet = _check_layers_times(realnet, times)
    base = np.asarray(base, dtype=float)
    if realnet.ndim != 3 or base.shape not in (realnet.shape, realnet.shape[1:]):
        raise DataFormatError(
            "peak_improvement: expected realnet (n_models, n_layers, n_times) and base of the "
            f"same shape or (n_layers, n_times), found {realnet.shape} and {base.shape}; to "
            "compare with a base model scored on other subjects, pass its mean over subjects."
        )
    if base.ndim == 2:
        base = np.broadcast_to(base, realnet.shape)
    peak_index = realnet.mean(axis=0).argmax(axis=-1)
    layers = np.arange(realnet.shape[1])
    realnet_at_peak = realnet[:, layers, peak_index]
    base_at_peak = base[:, layers, peak_index]
    improvement = realnet_at_peak - base_at_peak
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = improvement / base_at_peak
    return PeakImprovement(
        peak_index=peak_index,
        peak_time_s=np.asarray(times, dtype=float)[peak_index],
        improvement=improvement,
        ratio=ratio,
    )


def mean_sem(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean (sd with ddof = 1 over sqrt(n)) along ``axis``.

    Args:
        values: any shape, e.g. (n_models, n_times).
        axis: the axis of the observations.

    Returns:
        (mean, sem), each shaped like ``values`` without ``axis``.
    """
    values = np.asarray(values, dtype=float)
    return values.mean(axis=axis), scipy_stats.sem(values, axis=axis, ddof=1)


def compare_time_courses(
    a: np.ndarray,
    b: np.ndarray,
    *,
    paired: bool,
    alpha: float = 0.05,
    n_permutations: int = 10_000,
    seed: int = 0,
) -> TimeCourseComparison:
    """Two-sided t-test at each time point, the paper's uncorrected marks and a cluster test.

    Args:
        a: time courses of the first set, shape (n_a, n_times) (e.g. ReAlnets, one per subject).
        b: time courses of the second set, shape (n_a, n_times) when paired (e.g. the base model
            against the same subjects), (n_b, n_times) otherwise.
        paired: paired t-tests (rows of a and b belong together) or independent groups.
        alpha: significance level of the marks and of the clusters.
        n_permutations: relabellings for the cluster test (exact when they cover all).
        seed: seed of the cluster test's random relabellings.

    Returns:
        :class:`TimeCourseComparison`.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ttest = ttest_paired(a, b, axis=0) if paired else ttest_independent(a, b, axis=0)
    cluster = cluster_permutation_test(
        a, y=b, paired=paired, tail=0, n_permutations=n_permutations, alpha=alpha, seed=seed
    )
    return TimeCourseComparison(
        ttest=ttest, uncorrected=uncorrected_marks(ttest.p, alpha), cluster=cluster
    )


def cross_subject_matrix(rsa_model_by_subject: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The model x subject matrix of paper Fig. 2E: mean over layers and 50-200 ms.

    Args:
        rsa_model_by_subject: RSA of every model against every subject's EEG, shape
            (n_models, n_subjects, n_layers, n_times); model i was trained on subject i.
        times: time of each sample in seconds, shape (n_times,).

    Returns:
        Array of shape (n_models, n_subjects).
    """
    rsa = np.asarray(rsa_model_by_subject, dtype=float)
    if rsa.ndim != 4:
        raise DataFormatError(
            "cross_subject_matrix: expected RSA shaped (n_models, n_subjects, n_layers, n_times), "
            f"found shape {rsa.shape}."
        )
    return summary_scalar(rsa, times)


def baseline_subtracted(matrix: np.ndarray, base_per_subject: np.ndarray) -> np.ndarray:
    """Subtract the base model's value for each subject from that subject's column (Fig. 2F).

    Args:
        matrix: model x subject values, shape (n_models, n_subjects).
        base_per_subject: the base model's value for each subject (same summary), (n_subjects,).

    Returns:
        Array of shape (n_models, n_subjects); positive = better than the base model.
    """
    matrix = np.asarray(matrix, dtype=float)
    base_per_subject = np.asarray(base_per_subject, dtype=float)
    if matrix.ndim != 2 or base_per_subject.shape != (matrix.shape[1],):
        raise DataFormatError(
            f"baseline_subtracted: expected matrix (n_models, n_subjects) and base (n_subjects,), "
            f"found {matrix.shape} and {base_per_subject.shape}."
        )
    return matrix - base_per_subject[None, :]


def column_normalised(matrix: np.ndarray) -> np.ndarray:
    """Divide each column (subject) by its largest value, so that each column's maximum is 1.

    Our reading of paper Fig. 2G ("column-wise normalized similarity matrix based on
    baseline-subtracted similarity matrix, where each column is scaled such that the highest
    similarity value is 1"): a scaling, not a z-score or min-max; it removes differences in signal
    quality between subjects. It needs a positive maximum in every column.

    Args:
        matrix: model x subject values, shape (n_models, n_subjects), usually baseline-subtracted.

    Returns:
        Array of shape (n_models, n_subjects).
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2:
        raise DataFormatError(
            "column_normalised: expected a matrix (n_models, n_subjects), found shape "
            f"{matrix.shape}."
        )
    column_max = matrix.max(axis=0)
    bad = np.flatnonzero(~(column_max > 0))
    if bad.size:
        raise DataFormatError(
            f"column_normalised: expected a positive maximum in every column, found maxima "
            f"{column_max[bad].tolist()} in columns {bad.tolist()}; scaling by a non-positive "
            "maximum would reverse or break the order of the models."
        )
    return matrix / column_max[None, :]


def matched_vs_unmatched_test(matrix: np.ndarray) -> MatchedVsUnmatched:
    """Paired t-test across models of matched (diagonal) against mean unmatched (off-diagonal).

    Args:
        matrix: model x subject values, shape (n, n), model i trained on subject i.

    Returns:
        :class:`MatchedVsUnmatched`; each model's unmatched value is the mean of its row without
        the diagonal.
    """
    matrix = np.asarray(matrix, dtype=float)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 3:
        raise DataFormatError(
            "matched_vs_unmatched_test: expected a square model x subject matrix with model i "
            f"trained on subject i (at least 3 x 3), found shape {matrix.shape}."
        )
    n = matrix.shape[0]
    matched = np.diag(matrix).copy()
    unmatched = matrix[~np.eye(n, dtype=bool)].reshape(n, n - 1).mean(axis=1)
    return MatchedVsUnmatched(
        matched=matched, unmatched=unmatched, ttest=ttest_paired(matched, unmatched)
    )
