"""Model RDMs and RDM comparison (SPEC.md, Evaluation: Model RDM, RSA).

Conventions: an RDM is a square (n, n) array of dissimilarities; stacks carry leading axes, e.g.
(n_times, n, n) for EEG RDMs or (n_layers, n, n). Comparisons use the upper triangle without the
diagonal, in the row-major order of ``np.triu_indices(n, 1)`` (the order of
``scipy.spatial.distance.squareform``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from realnet_plugins.errors import DataFormatError

__all__ = ["COMPARISONS", "compare_rdms", "model_rdm", "upper_triangle"]


def model_rdm(features: np.ndarray) -> np.ndarray:
    """Correlation-distance RDM: 1 - Pearson r between the feature vectors of every two images.

    Args:
        features: activations, shape (..., n_images, n_features) (flatten each image's activation
            first); leading axes are independent stacks (e.g. layers).

    Returns:
        RDMs, shape (..., n_images, n_images), float64, values in [0, 2], zero diagonal. An image
        whose features are constant has an undefined correlation: its row and column are NaN
        (as with ``scipy.spatial.distance.pdist(metric='correlation')``), diagonal included.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.ndim < 2:
        raise DataFormatError(f"expected features shaped (..., n_images, n_features); found shape "
                              f"{x.shape}. Flatten each image's activation into one vector.")
    centred = x - x.mean(axis=-1, keepdims=True)
    norms = np.sqrt(np.einsum("...ij,...ij->...i", centred, centred))
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = centred / norms[..., None]
    correlation = unit @ np.swapaxes(unit, -1, -2)
    rdm = np.clip(1.0 - correlation, 0.0, 2.0)
    n = x.shape[-2]
    diagonal = np.where(norms > 0, 0.0, np.nan)
    rdm[..., np.arange(n), np.arange(n)] = diagonal
    return rdm


def upper_triangle(rdm: np.ndarray) -> np.ndarray:
    """Entries above the diagonal, shape (..., n * (n - 1) // 2), row-major order.

    Args:
        rdm: RDMs, shape (..., n, n).
    """
    rdm = np.asarray(rdm)
    if rdm.ndim < 2 or rdm.shape[-1] != rdm.shape[-2]:
        raise DataFormatError(f"expected square RDMs shaped (..., n, n); found shape {rdm.shape}.")
    rows, cols = np.triu_indices(rdm.shape[-1], 1)
    return rdm[..., rows, cols]


def compare_rdms(a: np.ndarray, b: np.ndarray, method: str = "spearman") -> np.ndarray | float:
    """Correlation between the upper triangles of RDMs (the RSA score).

    Args:
        a: RDMs, shape (..., n, n).
        b: RDMs broadcastable against ``a``, e.g. (n, n) against a stack (T, n, n) of ``a``.
        method: ``'spearman'`` (ranks with ties averaged, as ``scipy.stats.spearmanr``) or
            ``'pearson'``; see :data:`COMPARISONS`.

    Returns:
        Correlations, shape of the broadcast leading axes (a float for two single RDMs). NaN where
        a triangle holds NaN or is constant.
    """
    if method not in COMPARISONS:
        raise ValueError(f"unknown RDM comparison {method!r}; expected one of "
                         f"{sorted(COMPARISONS)}.")
    ta, tb = upper_triangle(a).astype(np.float64), upper_triangle(b).astype(np.float64)
    if ta.shape[-1] != tb.shape[-1]:
        raise DataFormatError(f"RDMs of different sizes: {np.shape(a)[-1]} and {np.shape(b)[-1]} "
                              "conditions.")
    ta, tb = np.broadcast_arrays(ta, tb)
    result = COMPARISONS[method](ta, tb)
    return float(result) if result.ndim == 0 else result


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r along the last axis; NaN for constant or NaN-holding vectors."""
    xc = x - x.mean(axis=-1, keepdims=True)
    yc = y - y.mean(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (xc * yc).sum(-1) / np.sqrt((xc * xc).sum(-1) * (yc * yc).sum(-1))
    return np.clip(r, -1.0, 1.0)


def _spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho along the last axis: Pearson r of ranks (ties averaged); NaN rows stay NaN."""
    missing = np.isnan(x).any(-1) | np.isnan(y).any(-1)
    r = _pearson(_average_ranks(x), _average_ranks(y))
    return np.where(missing, np.nan, r)


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..m along the last axis, ties sharing their mean rank (scipy.stats.rankdata)."""
    shape = values.shape
    flat = values.reshape(-1, shape[-1])
    n_rows, m = flat.shape
    order = np.argsort(flat, axis=1, kind="stable")
    ordered = np.take_along_axis(flat, order, axis=1)
    starts = np.ones((n_rows, m), dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    group = np.cumsum(starts, axis=1) - 1 + (np.arange(n_rows) * m)[:, None]  # global tie-group ids
    positions = np.broadcast_to(np.arange(1, m + 1, dtype=np.float64), (n_rows, m))
    sums = np.bincount(group.ravel(), weights=positions.ravel(), minlength=n_rows * m)
    counts = np.bincount(group.ravel(), minlength=n_rows * m)
    ranks = np.empty((n_rows, m))
    np.put_along_axis(ranks, order, (sums / np.maximum(counts, 1))[group], axis=1)
    return ranks.reshape(shape)


#: RDM comparisons selectable by name in :func:`compare_rdms`; each maps two arrays of upper
#: triangles (..., m) to correlations (...).
COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "spearman": _spearman,
    "pearson": _pearson,
}
