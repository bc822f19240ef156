"""Noise ceilings of EEG RDMs (DESIGN.md, Benchmarks: ceilings).

Two ceilings, both per time point:

* inter-subject (all-subject benchmarks), as rsatoolbox's ``inference.boot_noise_ceiling``: each subject's
  RDM is compared with the pooled RDM of the other subjects (lower bound, leave-one-subject-out) and with
  the pooled RDM of all subjects including itself (upper bound); each bound is the mean over subjects.
  Subject RDMs are pooled as rsatoolbox's ``pool_rdm`` pools them for the comparison used
  (:data:`~realnet_plugins.rsa.rdm.POOLING`): rank-transformed then averaged for ``'spearman'``,
  ``'rho-a'``, ``'tau-a'`` (the mean rank RDM is the one that bounds an average rank correlation);
  z-scored then averaged for ``'corr'``, ``'corr_cov'``; divided by their root mean square then averaged
  for ``'cosine'``, ``'cosine_cov'``. Averaging the raw RDMs instead lets a subject with a larger
  dissimilarity scale dominate the pool. Bootstrap intervals over subjects or images:
  :func:`inter_subject_ceiling_bootstrap`.
* split-half (single-subject benchmarks): the correlation r between RDMs computed from two disjoint halves
  of one subject's trials, Spearman-Brown corrected to the full trial count, 2r / (1 + r). A negative r
  (halves less alike than chance) has no meaningful correction (it falls below -1 for r < -1/3): such
  time points get NaN, flagged in :attr:`SplitHalfCeiling.negative` with :attr:`SplitHalfCeiling.nan_reason`.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa.bootstrap import (
    BOOTSTRAP_COMPARISONS,
    WEIGHTED_COMPARISONS,
    BootstrapInterval,
    WeightedRanks,
    pair_multiplicities,
    resample_indices,
    resampled_pairs,
    weighted_compare,
)
from realnet_plugins.rsa.decoding import DecodingSettings, decoding_rdm
from realnet_plugins.rsa.rdm import (
    COMPARISONS,
    POOLING,
    average_ranks,
    canonical_comparison,
    compare_rdms,
    upper_triangle,
)

__all__ = [
    "InterSubjectCeiling",
    "InterSubjectCeilingInterval",
    "SplitHalfCeiling",
    "inter_subject_ceiling",
    "inter_subject_ceiling_bootstrap",
    "pool_rdms",
    "split_half_ceiling",
    "split_half_decoding_rdms",
    "split_trial_halves",
]


@dataclasses.dataclass(frozen=True)
class InterSubjectCeiling:
    """Inter-subject noise ceiling per time point (rsatoolbox's ``boot_noise_ceiling`` per time point).

    Attributes:
        lower: mean over subjects of compare(pooled RDM of the other subjects, subject RDM), (n_times,).
        upper: mean over subjects of compare(pooled RDM of all subjects, subject RDM), (n_times,).
        lower_per_subject: the terms of ``lower``, (n_subjects, n_times).
        upper_per_subject: the terms of ``upper``, (n_subjects, n_times).
        method: the RDM comparison used, canonical name (see :func:`realnet_plugins.rsa.compare_rdms`).
    """

    lower: np.ndarray
    upper: np.ndarray
    lower_per_subject: np.ndarray
    upper_per_subject: np.ndarray
    method: str


@dataclasses.dataclass(frozen=True)
class InterSubjectCeilingInterval:
    """Bootstrap intervals of both inter-subject bounds, each per time point (n_times,).

    Attributes:
        lower: the lower bound's :class:`~realnet_plugins.rsa.bootstrap.BootstrapInterval`.
        upper: the upper bound's interval.
        method: the RDM comparison, canonical name.
    """

    lower: BootstrapInterval
    upper: BootstrapInterval
    method: str


@dataclasses.dataclass(frozen=True)
class SplitHalfCeiling:
    """Split-half noise ceiling of one subject per time point.

    Attributes:
        half_correlation: corr(RDM of half A, RDM of half B), (n_times,).
        ceiling: Spearman-Brown corrected reliability 2r / (1 + r), (n_times,); NaN where r < 0 (see
            ``negative``) or r is NaN.
        negative: bool (n_times,), True where the half correlation is negative (its ceiling is NaN).
        method: the RDM comparison used, canonical name.
    """

    half_correlation: np.ndarray
    ceiling: np.ndarray
    negative: np.ndarray
    method: str

    @property
    def nan_reason(self) -> str | None:
        """Why some ceiling values are NaN, for a Score's attrs; None when every value is defined."""
        reasons = []
        if self.negative.any():
            where = np.flatnonzero(self.negative).tolist()
            reasons.append(f"the split-half RDM correlation is negative at {len(where)} of {self.negative.size} "
                           f"time points (indices {where}); the Spearman-Brown correction is undefined there")
        undefined = np.isnan(self.half_correlation)
        if undefined.any():
            where = np.flatnonzero(undefined).tolist()
            reasons.append(f"the split-half RDM correlation is undefined (NaN: a constant or NaN-holding RDM) at "
                           f"{len(where)} time points (indices {where})")
        return "; ".join(reasons) if reasons else None


def pool_rdms(rdms: np.ndarray, method: str = "spearman") -> np.ndarray:
    """Pool RDMs into the one that best represents them under a comparison, as rsatoolbox's ``pool_rdm``.

    Args:
        rdms: RDMs to pool along axis 0, shape (n_rdms, ..., n, n), e.g. (n_subjects, n_times, n, n).
        method: the comparison the pool is for (see :data:`~realnet_plugins.rsa.rdm.POOLING`).

    Returns:
        Pooled RDMs (..., n, n), zero diagonal: the mean of the rank-transformed triangles (rank
        comparisons), of the z-scored triangles minus their minimum (correlation comparisons), or of the
        triangles divided by their root mean square (cosine comparisons).
    """
    name = canonical_comparison(method)
    data = np.asarray(rdms, dtype=np.float64)
    if data.ndim < 3:
        raise DataFormatError(f"expected RDMs shaped (n_rdms, ..., n, n) to pool along axis 0; found {data.shape}.")
    triangles = upper_triangle(data)
    pooled = _pool_transform(triangles, POOLING[name]).mean(axis=0)
    if POOLING[name] == "zscore":
        pooled = pooled - pooled.min(axis=-1, keepdims=True)
    n = data.shape[-1]
    rows, cols = np.triu_indices(n, 1)
    out = np.zeros(pooled.shape[:-1] + (n, n))
    out[..., rows, cols] = pooled
    out[..., cols, rows] = pooled
    return out


def inter_subject_ceiling(rdms: np.ndarray, method: str = "spearman") -> InterSubjectCeiling:
    """Leave-one-subject-out (lower) and all-subject (upper) ceilings, subject RDMs pooled as rsatoolbox does.

    Per time point this equals ``rsatoolbox.inference.boot_noise_ceiling(RDMs of the subjects, method)``.

    Args:
        rdms: RDMs, shape (n_subjects, n_times, n, n), n_subjects >= 2.
        method: RDM comparison (:data:`~realnet_plugins.rsa.rdm.COMPARISONS` or an alias), default
            ``'spearman'``.
    """
    triangles = _checked_subject_triangles(rdms)
    name = canonical_comparison(method)
    lower, upper = _ceiling_terms(triangles, name, ranks=_subject_ranks(triangles, name))
    return InterSubjectCeiling(lower=lower.mean(axis=0), upper=upper.mean(axis=0), lower_per_subject=lower,
                               upper_per_subject=upper, method=name)


def inter_subject_ceiling_bootstrap(rdms: np.ndarray, method: str = "spearman", *, over: str = "subjects",
                                    n_bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95,
                                    progress: bool = False) -> InterSubjectCeilingInterval:
    """Bootstrap intervals of the inter-subject ceiling's bounds, per time point.

    ``over='subjects'``: each sample draws n_subjects subjects with replacement and computes the ceiling
    as rsatoolbox's ``boot_noise_ceiling`` does on such a sample (the leave-one-out pool leaves out every
    copy of a subject; each bound is the mean over the distinct subjects drawn). ``over='images'``: each
    sample draws the n images with replacement for every subject alike (rsatoolbox's
    ``subsample_pattern``, pairs of two copies of one image left out; see
    :mod:`realnet_plugins.rsa.bootstrap`).

    Args:
        rdms: RDMs, shape (n_subjects, n_times, n, n), n_subjects >= 2.
        method: RDM comparison; for ``over='images'`` one of
            :data:`~realnet_plugins.rsa.bootstrap.BOOTSTRAP_COMPARISONS`.
        over: ``'subjects'`` or ``'images'``.
        n_bootstrap: samples. Each costs about one ceiling computation, dominated for the rank comparisons
            by sorting the n_subjects * n_times pooled triangles: about 0.7 s of CPU for 10 subjects x 20
            time points x 200 images (pass only the time points you summarise, and cache the result).
        seed: seed of the draws (:func:`~realnet_plugins.rsa.bootstrap.resample_indices`).
        confidence: interval coverage.
        progress: show a tqdm bar.

    Returns:
        Both bounds' intervals; ``estimate`` is :func:`inter_subject_ceiling`'s value. A sample in which a
        bound is undefined (one distinct subject drawn) holds NaN there and is left out of the interval.
    """
    triangles = _checked_subject_triangles(rdms)
    name = canonical_comparison(method)
    if over not in ("subjects", "images"):
        raise ValueError(f"over must be 'subjects' or 'images'; found {over!r}.")
    if over == "images" and name not in BOOTSTRAP_COMPARISONS:
        raise ValueError(f"an image bootstrap is available for {list(BOOTSTRAP_COMPARISONS)}; found {method!r}.")
    n_subjects, n_times = triangles.shape[:2]
    n_images = np.shape(rdms)[-1]
    # fixed for every sample: the subjects' sort orders (rank comparisons) and, over subjects, their pooling
    ranks = _subject_ranks(triangles, name)
    pooled_inputs = _pool_transform(triangles, POOLING[name], ranks=ranks)
    lower, upper = _ceiling_terms(triangles, name, ranks=ranks, pooled_inputs=pooled_inputs)
    draws = resample_indices(n_subjects if over == "subjects" else n_images, n_bootstrap, seed)
    samples = np.empty((2, n_bootstrap, n_times))
    for b in tqdm(range(n_bootstrap), desc="ceiling bootstrap", unit="sample",
                  disable=None if progress else True):
        if over == "subjects":
            multiplicity = np.bincount(draws[b], minlength=n_subjects)
            low, high = _ceiling_terms(triangles, name, multiplicity=multiplicity, ranks=ranks,
                                       pooled_inputs=pooled_inputs)
            drawn = multiplicity > 0
            low, high = low[drawn], high[drawn]
        elif name == "tau-a":
            low, high = _ceiling_terms(triangles[..., resampled_pairs(draws[b], n_images)], name)
        else:
            low, high = _ceiling_terms(triangles, name, weights=pair_multiplicities(draws[b], n_images),
                                       ranks=ranks)
        samples[0, b], samples[1, b] = _mean_over_subjects(low), _mean_over_subjects(high)
    return InterSubjectCeilingInterval(
        lower=BootstrapInterval.from_samples(lower.mean(axis=0), samples[0], confidence=confidence, over=over),
        upper=BootstrapInterval.from_samples(upper.mean(axis=0), samples[1], confidence=confidence, over=over),
        method=name)


def split_half_ceiling(rdm_half_a: np.ndarray, rdm_half_b: np.ndarray,
                       method: str = "spearman") -> SplitHalfCeiling:
    """Spearman-Brown corrected split-half reliability; NaN (flagged) where the halves correlate negatively.

    Args:
        rdm_half_a: RDMs from one half of the trials, shape (n_times, n, n).
        rdm_half_b: RDMs from the other half, same shape.
        method: RDM comparison, default ``'spearman'``.
    """
    if np.shape(rdm_half_a) != np.shape(rdm_half_b):
        raise DataFormatError(f"the two halves' RDMs differ in shape: {np.shape(rdm_half_a)} and "
                              f"{np.shape(rdm_half_b)}.")
    name = canonical_comparison(method)
    r = np.atleast_1d(np.asarray(compare_rdms(rdm_half_a, rdm_half_b, name), dtype=np.float64))
    negative = r < 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        corrected = np.where(r >= 0.0, 2.0 * r / (1.0 + r), np.nan)
    return SplitHalfCeiling(half_correlation=r, ceiling=corrected, negative=negative, method=name)


def split_trial_halves(trials: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random halves of each image's trials.

    Args:
        trials: EEG trials, shape (n_images, n_trials, n_channels, n_times); with an odd trial count the
            left-over trial is unused.
        seed: seed of the split (each image's trials are shuffled independently).

    Returns:
        ``(first, second)``, each (n_images, n_trials // 2, n_channels, n_times).
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
    return data[rows, order[:, :half]], data[rows, order[:, half:2 * half]]


def split_half_decoding_rdms(trials: np.ndarray, settings: DecodingSettings | None = None,
                             seed: int = 0,
                             **decoding_options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Decode RDMs from two disjoint random halves of each image's trials (:func:`split_trial_halves`).

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
    first, second = split_trial_halves(trials, seed)
    return (decoding_rdm(first, settings=settings, **decoding_options),
            decoding_rdm(second, settings=settings, **decoding_options))


# --------------------------------------------------------------------------------------------
# internals


def _checked_subject_triangles(rdms: np.ndarray) -> np.ndarray:
    data = np.asarray(rdms, dtype=np.float64)
    if data.ndim != 4 or data.shape[-1] != data.shape[-2]:
        raise DataFormatError(f"expected RDMs shaped (n_subjects, n_times, n, n); found shape {data.shape}.")
    if data.shape[0] < 2:
        raise DataFormatError(f"an inter-subject ceiling needs at least 2 subjects; found {data.shape[0]}.")
    return upper_triangle(data)


def _subject_ranks(triangles: np.ndarray, name: str) -> WeightedRanks | None:
    """Sort orders of the subject triangles, for comparisons on ranks (each subject is sorted once)."""
    return WeightedRanks(triangles) if name in ("spearman", "rho-a") else None


def _pool_transform(x: np.ndarray, pooling: str, weights: np.ndarray | None = None,
                    ranks: WeightedRanks | None = None) -> np.ndarray:
    """Each triangle (..., m) transformed as rsatoolbox transforms it before averaging (see
    :data:`POOLING`); ``weights`` (m,) = entry multiplicities of an image bootstrap."""
    if weights is None:
        if pooling == "rank":
            return ranks.ranks(np.ones(x.shape[-1])) if ranks is not None else average_ranks(x)
        if pooling == "zscore":
            centred = x - x.mean(axis=-1, keepdims=True)
            return centred / np.sqrt((centred * centred).mean(axis=-1, keepdims=True))
        return x / np.sqrt((x * x).mean(axis=-1, keepdims=True))
    if pooling == "rank":
        return (ranks or WeightedRanks(x)).ranks(weights)
    total = weights.sum()
    if pooling == "zscore":
        centred = x - (x * weights).sum(-1, keepdims=True) / total
        return centred / np.sqrt((weights * centred * centred).sum(-1, keepdims=True) / total)
    return x / np.sqrt((weights * x * x).sum(-1, keepdims=True) / total)


def _ceiling_terms(x: np.ndarray, name: str, *, multiplicity: np.ndarray | None = None,
                   weights: np.ndarray | None = None, ranks: WeightedRanks | None = None,
                   pooled_inputs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-subject lower and upper ceiling terms, (n_subjects, n_times) each.

    Args:
        x: subject triangles (n_subjects, n_times, m).
        name: canonical comparison.
        multiplicity: copies of each subject in a subject bootstrap (n_subjects,); None = one each. The
            leave-one-out pool of subject u leaves out all its copies.
        weights: entry multiplicities (m,) of an image bootstrap; None = every entry once.
        ranks: :class:`WeightedRanks` of ``x`` (saves re-sorting ``x`` in rank comparisons).
        pooled_inputs: ``x`` transformed for pooling, when already computed (unweighted only).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        z = pooled_inputs if pooled_inputs is not None else _pool_transform(x, POOLING[name], weights, ranks)
        copies = np.ones(len(x)) if multiplicity is None else np.asarray(multiplicity, dtype=np.float64)
        total = np.tensordot(copies, z, axes=(0, 0))  # (T, m)
        n_drawn = copies.sum()
        others = (total[None] - copies[:, None, None] * z) / (n_drawn - copies)[:, None, None]
        everyone = (total / n_drawn)[None]
        if weights is None and (ranks is None or name not in WEIGHTED_COMPARISONS):
            lower = COMPARISONS[name](*np.broadcast_arrays(others, x))
            upper = COMPARISONS[name](*np.broadcast_arrays(everyone, x))
        else:
            unit = np.ones(x.shape[-1]) if weights is None else weights
            lower = weighted_compare(others, x, name, unit, y_ranks=ranks)
            upper = weighted_compare(everyone, x, name, unit, y_ranks=ranks)
    return lower, upper


def _mean_over_subjects(values: np.ndarray) -> np.ndarray:
    return values.mean(axis=0) if len(values) else np.full(values.shape[1:], np.nan)
