"""THINGS object dimensions in model representations (SPEC.md "Analyses", paper Fig. 4B).

Each of the 49 THINGS dimensions gives an RDM: the |difference| of the images' values on that
dimension. The partial Spearman correlation between a model's IT RDM and one dimension's RDM,
controlling for the other 48, squared, is the variance the model explains of that dimension.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from realnet_plugins.errors import DataFormatError

#: Correlation matrices of ranked RDMs with a larger condition number are refused as collinear.
_MAX_CONDITION_NUMBER = 1e10


@dataclass(frozen=True)
class PartialSpearman:
    """Partial Spearman correlation of a target RDM with each predictor RDM.

    Attributes:
        r: partial Spearman correlation with each predictor, the others controlled, (k,).
        r_squared: its square, the variance explained, (k,).
    """

    r: np.ndarray
    r_squared: np.ndarray


@dataclass(frozen=True)
class TopDimensions:
    """The dimensions with the largest mean score, best first.

    Attributes:
        indices: dimension indices, (n_top,).
        names: their names ("" when no names were given), (n_top,).
        mean: mean score over models of each, (n_top,).
    """

    indices: np.ndarray
    names: tuple[str, ...]
    mean: np.ndarray


def dimension_rdms(embedding: np.ndarray) -> np.ndarray:
    """One RDM per dimension: |value_i - value_j| of images i and j on that dimension.

    Args:
        embedding: dimension values of each image, shape (n_images, n_dimensions), e.g. the 49
            THINGS dimensions of the 200 test images (rows in the images' order).

    Returns:
        Array of shape (n_dimensions, n_images, n_images), symmetric with a zero diagonal.
    """
    embedding = np.asarray(embedding, dtype=float)
    if embedding.ndim != 2:
        raise DataFormatError(
            f"dimension_rdms: expected an embedding shaped (n_images, n_dimensions), found shape "
            f"{embedding.shape}."
        )
    if np.isnan(embedding).any():
        raise DataFormatError("dimension_rdms: expected an embedding without NaN, found NaN.")
    columns = embedding.T
    return np.abs(columns[:, :, None] - columns[:, None, :])


def _upper_triangles(rdms: np.ndarray) -> np.ndarray:
    rows, columns = np.triu_indices(rdms.shape[-1], k=1)
    return rdms[..., rows, columns]


def partial_spearman(target_rdm: np.ndarray, predictor_rdms: np.ndarray) -> PartialSpearman:
    """Partial Spearman correlation of the target RDM with each predictor, controlling the rest.

    The upper triangles (diagonal excluded) are rank-transformed (average ranks for ties); the
    partial correlation of the target with predictor j given the other k - 1 predictors is then
    -P[0, j] / sqrt(P[0, 0] P[j, j]), with P the inverse of the (k + 1) x (k + 1) Pearson
    correlation matrix of the ranks (target first). This equals the correlation of the residuals
    of target and predictor j after regressing both on the other predictors' ranks.

    Args:
        target_rdm: shape (n_images, n_images), e.g. a model's IT RDM.
        predictor_rdms: shape (k, n_images, n_images), e.g. from :func:`dimension_rdms`.

    Returns:
        :class:`PartialSpearman` with arrays of shape (k,).
    """
    target_rdm = np.asarray(target_rdm, dtype=float)
    predictor_rdms = np.asarray(predictor_rdms, dtype=float)
    n = target_rdm.shape[-1]
    if target_rdm.shape != (n, n) or predictor_rdms.ndim != 3 \
            or predictor_rdms.shape[1:] != (n, n) or n < 3:
        raise DataFormatError(
            "partial_spearman: expected target (n_images, n_images) and predictors "
            f"(k, n_images, n_images) with n_images >= 3, found {target_rdm.shape} and "
            f"{predictor_rdms.shape}."
        )
    if np.isnan(target_rdm).any() or np.isnan(predictor_rdms).any():
        raise DataFormatError("partial_spearman: expected RDMs without NaN, found NaN.")
    vectors = np.concatenate([_upper_triangles(target_rdm)[None], _upper_triangles(predictor_rdms)])
    if vectors.shape[0] > vectors.shape[1] - 2:
        raise DataFormatError(
            f"partial_spearman: {vectors.shape[0] - 1} predictors need more than "
            f"{vectors.shape[0] + 1} image pairs, found {vectors.shape[1]}; use more images."
        )
    ranks = scipy_stats.rankdata(vectors, axis=1)
    constant = np.flatnonzero(ranks.std(axis=1) == 0)
    if constant.size:
        raise DataFormatError(
            f"partial_spearman: RDMs {constant.tolist()} (0 = target, j = predictor j - 1) have "
            "all dissimilarities equal; their correlation is undefined."
        )
    correlation = np.corrcoef(ranks)
    condition = np.linalg.cond(correlation)
    if not condition < _MAX_CONDITION_NUMBER:
        raise DataFormatError(
            f"partial_spearman: the ranked RDMs are (nearly) collinear (condition number "
            f"{condition:.3g}); drop predictors that duplicate others."
        )
    precision = np.linalg.inv(correlation)
    r = -precision[0, 1:] / np.sqrt(precision[0, 0] * np.diag(precision)[1:])
    return PartialSpearman(r=r, r_squared=r**2)


def top_dimensions(
    scores: np.ndarray, n_top: int = 5, names: Sequence[str] | None = None
) -> TopDimensions:
    """The dimensions with the largest mean score over models (ties: lower index first).

    Args:
        scores: per model and dimension, shape (n_models, n_dimensions), or (n_dimensions,); e.g.
            the improvement in squared partial Spearman of each ReAlnet over the base model.
        n_top: how many to return (the paper shows 5).
        names: optional name of each dimension, length n_dimensions.

    Returns:
        :class:`TopDimensions`, best first.
    """
    scores = np.asarray(scores, dtype=float)
    if scores.ndim not in (1, 2) or np.isnan(scores).any():
        raise DataFormatError(
            "top_dimensions: expected scores shaped (n_models, n_dimensions) or (n_dimensions,) "
            f"without NaN, found shape {scores.shape}."
        )
    mean = scores if scores.ndim == 1 else scores.mean(axis=0)
    if names is not None and len(names) != mean.size:
        raise DataFormatError(
            f"top_dimensions: expected {mean.size} names, one per dimension, found {len(names)}."
        )
    if not 1 <= n_top <= mean.size:
        raise ValueError(f"n_top: expected 1 to {mean.size}, found {n_top}.")
    indices = np.argsort(-mean, kind="stable")[:n_top]
    return TopDimensions(
        indices=indices,
        names=tuple("" if names is None else names[i] for i in indices),
        mean=mean[indices],
    )
