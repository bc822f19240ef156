"""Individual variability between individualised models (SPEC.md "Analyses", paper Fig. 2D).

The variability of a set of models at one layer is the mean, over all pairs of models, of
1 - Spearman correlation between the upper triangles (diagonal excluded) of their RDMs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats
from scipy.spatial.distance import pdist, squareform

from realnet_plugins.errors import DataFormatError


@dataclass(frozen=True)
class IndividualVariability:
    """Pairwise 1 - Spearman between models' RDMs; leading shape () or (n_layers,).

    Attributes:
        pairwise: the full matrix, shape (..., n_models, n_models), 0 on the diagonal.
        pair_values: one value per pair of models (i < j, row-major), shape (..., n_pairs).
        mean: mean over pairs, the variability index, shape (...).
    """

    pairwise: np.ndarray
    pair_values: np.ndarray
    mean: float | np.ndarray


def _spearman_distances(upper: np.ndarray) -> np.ndarray:
    """1 - Spearman between rows of ``upper`` (n_models, n_values), condensed (n_pairs,).

    With ranks standardised to unit population variance (z), 1 - r = |z_i - z_j|^2 / (2 n_values):
    exactly 0 for identical RDMs and accurate near 0.
    """
    ranks = scipy_stats.rankdata(upper, axis=1)
    spread = ranks.std(axis=1, keepdims=True)
    constant = np.flatnonzero(spread[:, 0] == 0)
    if constant.size:
        raise DataFormatError(
            f"individual_variability: the RDMs of models {constant.tolist()} have all "
            "dissimilarities equal; Spearman correlation is undefined for them."
        )
    standardised = (ranks - ranks.mean(axis=1, keepdims=True)) / spread
    return pdist(standardised, "sqeuclidean") / (2 * upper.shape[1])


def individual_variability(rdms: np.ndarray) -> IndividualVariability:
    """Mean over pairs of models of 1 - Spearman between their RDMs, per layer when given layers.

    Args:
        rdms: RDMs of each model, shape (n_models, n_images, n_images) or
            (n_models, n_layers, n_images, n_images); only the upper triangles (diagonal excluded)
            are compared.

    Returns:
        :class:`IndividualVariability` with leading shape () or (n_layers,).
    """
    rdms = np.asarray(rdms, dtype=float)
    if rdms.ndim not in (3, 4) or rdms.shape[-1] != rdms.shape[-2] or rdms.shape[0] < 2 \
            or rdms.shape[-1] < 3:
        raise DataFormatError(
            "individual_variability: expected RDMs shaped (n_models >= 2, [n_layers,] n_images, "
            f"n_images) with n_images >= 3, found shape {rdms.shape}."
        )
    if np.isnan(rdms).any():
        raise DataFormatError("individual_variability: expected RDMs without NaN, found NaN.")
    rows, columns = np.triu_indices(rdms.shape[-1], k=1)
    upper = rdms[..., rows, columns]
    by_layer = upper[:, None] if rdms.ndim == 3 else upper
    pair_values = np.stack(
        [_spearman_distances(by_layer[:, layer]) for layer in range(by_layer.shape[1])]
    )
    pairwise = np.stack([squareform(values) for values in pair_values])
    if rdms.ndim == 3:
        return IndividualVariability(
            pairwise=pairwise[0], pair_values=pair_values[0], mean=float(pair_values[0].mean())
        )
    return IndividualVariability(
        pairwise=pairwise, pair_values=pair_values, mean=pair_values.mean(axis=1)
    )
