"""Noise ceilings of EEG RDMs (DESIGN.md, Benchmarks: ceilings).

Two ceilings, both per time point:

* inter-subject (all-subject benchmarks): how well one subject's RDM is predicted by the others'
  mean (lower bound, leave-one-subject-out) and by the mean of all subjects including itself
  (upper bound), averaged over subjects;
* split-half (single-subject benchmarks): the correlation between RDMs decoded from two disjoint
  halves of one subject's trials, Spearman-Brown corrected to the full trial count, 2r / (1 + r).
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa.decoding import DecodingSettings, decoding_rdm
from realnet_plugins.rsa.rdm import compare_rdms

__all__ = [
    "InterSubjectCeiling",
    "SplitHalfCeiling",
    "inter_subject_ceiling",
    "split_half_ceiling",
    "split_half_decoding_rdms",
]


@dataclasses.dataclass(frozen=True)
class InterSubjectCeiling:
    """Inter-subject noise ceiling per time point.

    Attributes:
        lower: mean over subjects of corr(subject RDM, mean RDM of the other subjects), (n_times,).
        upper: mean over subjects of corr(subject RDM, mean RDM of all subjects), (n_times,).
        lower_per_subject: the terms of ``lower``, (n_subjects, n_times).
        upper_per_subject: the terms of ``upper``, (n_subjects, n_times).
        method: the RDM comparison used (see :func:`realnet_plugins.rsa.compare_rdms`).
    """

    lower: np.ndarray
    upper: np.ndarray
    lower_per_subject: np.ndarray
    upper_per_subject: np.ndarray
    method: str


@dataclasses.dataclass(frozen=True)
class SplitHalfCeiling:
    """Split-half noise ceiling of one subject per time point.

    Attributes:
        half_correlation: corr(RDM of half A, RDM of half B), (n_times,).
        ceiling: Spearman-Brown corrected reliability 2r / (1 + r), (n_times,); NaN where r = -1.
        method: the RDM comparison used.
    """

    half_correlation: np.ndarray
    ceiling: np.ndarray
    method: str


def inter_subject_ceiling(rdms: np.ndarray, method: str = "spearman") -> InterSubjectCeiling:
    """Leave-one-subject-out (lower) and all-subject (upper) ceilings.

    Args:
        rdms: RDMs, shape (n_subjects, n_times, n, n), n_subjects >= 2.
        method: RDM comparison, ``'spearman'`` (default) or ``'pearson'``.
    """
    rdms = np.asarray(rdms, dtype=np.float64)
    if rdms.ndim != 4 or rdms.shape[-1] != rdms.shape[-2]:
        raise DataFormatError(f"expected RDMs shaped (n_subjects, n_times, n, n); found shape "
                              f"{rdms.shape}.")
    n_subjects = rdms.shape[0]
    if n_subjects < 2:
        raise DataFormatError(f"an inter-subject ceiling needs at least 2 subjects; found "
                              f"{n_subjects}.")
    total = rdms.sum(axis=0)
    others = (total[None] - rdms) / (n_subjects - 1)
    lower = np.asarray(compare_rdms(rdms, others, method))
    upper = np.asarray(compare_rdms(rdms, total[None] / n_subjects, method))
    return InterSubjectCeiling(lower=lower.mean(axis=0), upper=upper.mean(axis=0),
                               lower_per_subject=lower, upper_per_subject=upper, method=method)


def split_half_ceiling(rdm_half_a: np.ndarray, rdm_half_b: np.ndarray,
                       method: str = "spearman") -> SplitHalfCeiling:
    """Spearman-Brown corrected split-half reliability.

    Args:
        rdm_half_a: RDMs from one half of the trials, shape (n_times, n, n).
        rdm_half_b: RDMs from the other half, same shape.
        method: RDM comparison, ``'spearman'`` (default) or ``'pearson'``.
    """
    if np.shape(rdm_half_a) != np.shape(rdm_half_b):
        raise DataFormatError(f"the two halves' RDMs differ in shape: {np.shape(rdm_half_a)} and "
                              f"{np.shape(rdm_half_b)}.")
    r = np.atleast_1d(np.asarray(compare_rdms(rdm_half_a, rdm_half_b, method), dtype=np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        corrected = np.where(r > -1.0, 2.0 * r / (1.0 + r), np.nan)
    return SplitHalfCeiling(half_correlation=r, ceiling=corrected, method=method)


def split_half_decoding_rdms(trials: np.ndarray, settings: DecodingSettings | None = None,
                             seed: int = 0,
                             **decoding_options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Decode RDMs from two disjoint random halves of each image's trials.

    Args:
        trials: EEG trials, shape (n_images, n_trials, n_channels, n_times); with an odd trial
            count the left-over trial is unused.
        settings: decoding settings for both halves (None = :meth:`DecodingSettings.paper`).
        seed: seed of the split (each image's trials are shuffled independently).
        **decoding_options: passed to :func:`decoding_rdm` (``backend``, ``device``, ``progress``,
            ``n_threads``).

    Returns:
        ``(rdm_half_a, rdm_half_b)``, each (n_times, n_images, n_images).
    """
    data = np.asarray(trials)
    if data.ndim != 4:
        raise DataFormatError(f"expected trials shaped (n_images, n_trials, n_channels, n_times); "
                              f"found shape {data.shape}.")
    n_images, n_trials = data.shape[:2]
    half = n_trials // 2
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((n_images, n_trials)), axis=1)
    rows = np.arange(n_images)[:, None]
    first = data[rows, order[:, :half]]
    second = data[rows, order[:, half:2 * half]]
    return (decoding_rdm(first, settings=settings, **decoding_options),
            decoding_rdm(second, settings=settings, **decoding_options))
