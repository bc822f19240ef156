"""Model RDMs and RDM comparison (SPEC.md, Evaluation: Model RDM, RSA).

Conventions: an RDM is a square (n, n) array of dissimilarities; stacks carry leading axes, e.g.
(n_times, n, n) for EEG RDMs or (n_layers, n, n). Comparisons use the upper triangle without the
diagonal, in the row-major order of ``np.triu_indices(n, 1)`` (the order of
``scipy.spatial.distance.squareform`` and of rsatoolbox's RDM vectors).

The comparisons are those of rsatoolbox's ``rsatoolbox.rdm.compare`` under rsatoolbox's names
(:data:`COMPARISONS`), computed here without rsatoolbox and batched over leading axes; the tests check
each against rsatoolbox. Two deliberate differences: where a comparison is undefined (a triangle that is
constant, or zero for ``'cosine'``, so that a norm is zero) the result is NaN where rsatoolbox returns 0;
and a NaN anywhere in a triangle gives NaN where rsatoolbox drops the NaN entries.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from realnet_plugins.errors import DataFormatError

__all__ = [
    "COMPARISONS",
    "COMPARISON_ALIASES",
    "POOLING",
    "average_ranks",
    "canonical_comparison",
    "compare_rdms",
    "model_rdm",
    "upper_triangle",
]


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


def canonical_comparison(method: str) -> str:
    """The canonical (rsatoolbox) name of an RDM comparison, resolving :data:`COMPARISON_ALIASES`.

    Args:
        method: a key of :data:`COMPARISONS` or :data:`COMPARISON_ALIASES`.

    Raises:
        ValueError: an unknown name; the message lists the valid ones.
    """
    name = COMPARISON_ALIASES.get(method, method)
    if not isinstance(name, str) or name not in COMPARISONS:
        raise ValueError(f"unknown RDM comparison {method!r}; expected one of {sorted(COMPARISONS)} "
                         f"(or the aliases {sorted(COMPARISON_ALIASES)}).")
    return name


def compare_rdms(a: np.ndarray, b: np.ndarray, method: str = "spearman", *,
                 sigma_k: np.ndarray | None = None) -> np.ndarray | float:
    """Similarity between the upper triangles of RDMs (the RSA score).

    Args:
        a: RDMs, shape (..., n, n).
        b: RDMs broadcastable against ``a``, e.g. (n, n) against a stack (T, n, n) of ``a``.
        method: one of :data:`COMPARISONS` (rsatoolbox's names) or an alias:

            * ``'spearman'``: Spearman rho (ranks with ties averaged, as ``scipy.stats.spearmanr``);
            * ``'corr'`` (alias ``'pearson'``): Pearson r;
            * ``'cosine'``: cosine similarity of the dissimilarity vectors;
            * ``'rho-a'``: Spearman rho without tie correction, 12 sum(r_x r_y) / (m^3 - m) for
              centred ranks of m dissimilarities;
            * ``'tau-a'`` (alias ``'kendall_tau_a'``): Kendall's tau-a, (concordant - discordant)
              pairs / (m (m - 1) / 2), the choice when a model predicts tied dissimilarities;
            * ``'cosine_cov'`` / ``'corr_cov'``: whitened unbiased RDM cosine similarity / correlation
              (Diedrichsen et al. 2021): the dissimilarities (mean-centred first for ``'corr_cov'``)
              become the double-centred second-moment matrix G = -H D H / 2, which is whitened by the
              pattern covariance ``sigma_k``, and G's entries are compared by cosine (each
              off-diagonal pair counted twice) - rsatoolbox's fast path; with ``sigma_k=None`` the
              patterns are assumed independent with equal variance.
        sigma_k: for ``'cosine_cov'`` / ``'corr_cov'`` only: variances of the n pattern estimates,
            shape (n,) (None = all equal). A full (n, n) covariance is refused: rsatoolbox solves that
            case iteratively on an (m, m) system.

    Returns:
        Similarities, shape of the broadcast leading axes (a float for two single RDMs). NaN where a
        triangle holds NaN or where the comparison is undefined (a constant triangle; for
        ``'cosine'`` an all-zero one).

    Raises:
        ValueError: unknown method (the message lists the valid ones), or ``sigma_k`` given for a
            method that does not use it.
        DataFormatError: RDMs that are not square or differ in size, or a ``sigma_k`` of the wrong
            shape or with non-positive variances.
    """
    name = canonical_comparison(method)
    ta, tb = upper_triangle(a).astype(np.float64), upper_triangle(b).astype(np.float64)
    if ta.shape[-1] != tb.shape[-1]:
        raise DataFormatError(f"RDMs of different sizes: {np.shape(a)[-1]} and {np.shape(b)[-1]} "
                              "conditions.")
    ta, tb = np.broadcast_arrays(ta, tb)
    if name in _COVARIANCE_WEIGHTED:
        result = COMPARISONS[name](ta, tb, sigma_k=_checked_sigma_k(sigma_k, np.shape(a)[-1]))
    elif sigma_k is not None:
        raise ValueError(f"sigma_k applies to 'cosine_cov' and 'corr_cov' only, not to {method!r}.")
    else:
        result = COMPARISONS[name](ta, tb)
    return float(result) if result.ndim == 0 else result


def _checked_sigma_k(sigma_k: np.ndarray | None, n: int) -> np.ndarray | None:
    if sigma_k is None:
        return None
    values = np.asarray(sigma_k, dtype=np.float64)
    if values.shape != (n,):
        raise DataFormatError(f"sigma_k must hold the variances of the {n} patterns, shape ({n},); found shape "
                              f"{values.shape}. A full pattern covariance is not supported here; use rsatoolbox's "
                              "compare(..., sigma_k=...) for it.")
    if not (np.all(np.isfinite(values)) and np.all(values > 0)):
        raise DataFormatError("sigma_k must hold finite positive variances.")
    return values


def _undefined(*norms: np.ndarray) -> np.ndarray:
    """Where any of the norms is zero or NaN."""
    bad = np.zeros(np.shape(norms[0]), dtype=bool)
    for norm in norms:
        bad |= ~(norm > 0)
    return bad


def _cosine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cosine similarity along the last axis; NaN for a zero or NaN-holding vector."""
    xx, yy = (x * x).sum(-1), (y * y).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (x * y).sum(-1) / np.sqrt(xx * yy)
    return np.where(_undefined(xx, yy), np.nan, np.clip(r, -1.0, 1.0))


def _pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson r along the last axis; NaN for constant or NaN-holding vectors."""
    return _cosine(x - x.mean(axis=-1, keepdims=True), y - y.mean(axis=-1, keepdims=True))


def _spearman(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho along the last axis: Pearson r of ranks (ties averaged); NaN rows stay NaN."""
    missing = np.isnan(x).any(-1) | np.isnan(y).any(-1)
    r = _pearson(average_ranks(x), average_ranks(y))
    return np.where(missing, np.nan, r)


def _rho_a(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman rho-a along the last axis: 12 sum(rx ry) / (m^3 - m) for centred average ranks."""
    m = x.shape[-1]
    rx, ry = average_ranks(x), average_ranks(y)
    rx -= rx.mean(axis=-1, keepdims=True)
    ry -= ry.mean(axis=-1, keepdims=True)
    rho = 12.0 * (rx * ry).sum(-1) / (float(m) ** 3 - m)
    missing = np.isnan(x).any(-1) | np.isnan(y).any(-1)
    return np.where(missing | _undefined((rx * rx).sum(-1), (ry * ry).sum(-1)), np.nan, rho)


def _tau_a(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Kendall tau-a along the last axis, from scipy's O(m log m) tau-b:
    (concordant - discordant) = tau_b sqrt((P - X)(P - Y)), with P the m (m - 1) / 2 pairs and X, Y
    the pairs tied in x, in y."""
    from scipy.stats import kendalltau

    m = x.shape[-1]
    pairs = m * (m - 1) / 2.0
    flat_x, flat_y = x.reshape(-1, m), y.reshape(-1, m)
    tau = np.full(len(flat_x), np.nan)
    for k, (u, v) in enumerate(zip(flat_x, flat_y)):
        if np.isnan(u).any() or np.isnan(v).any():
            continue
        untied_u, untied_v = pairs - _tied_pairs(u), pairs - _tied_pairs(v)
        if untied_u <= 0 or untied_v <= 0:
            continue
        tau_b = kendalltau(u, v, method="asymptotic").statistic
        tau[k] = np.clip(tau_b * np.sqrt(untied_u) * np.sqrt(untied_v) / pairs, -1.0, 1.0)
    return tau.reshape(x.shape[:-1])


def _tied_pairs(values: np.ndarray) -> float:
    counts = np.unique(values, return_counts=True)[1].astype(np.float64)
    return float((counts * (counts - 1.0) / 2.0).sum())


def _whitened_second_moments(d: np.ndarray, sigma_k: np.ndarray | None) -> np.ndarray:
    """G = -H D H / 2 for dissimilarity triangles d (..., m), whitened by the pattern variances:
    G_ij / sqrt(s_i s_j); shape (..., n, n)."""
    m = d.shape[-1]
    n = int(round((1 + np.sqrt(1 + 8 * m)) / 2))
    rows, cols = np.triu_indices(n, 1)
    g = np.zeros(d.shape[:-1] + (n, n))
    g[..., rows, cols] = -0.5 * d
    g[..., cols, rows] = -0.5 * d
    row_means = g.mean(axis=-1, keepdims=True)
    g = g - row_means - np.swapaxes(row_means, -1, -2) + row_means.mean(axis=-2, keepdims=True)
    if sigma_k is not None:
        scale = 1.0 / np.sqrt(sigma_k)
        g = g * scale[:, None] * scale[None, :]
    return g


def _cosine_cov(x: np.ndarray, y: np.ndarray, sigma_k: np.ndarray | None = None) -> np.ndarray:
    """Whitened unbiased RDM cosine: cosine of the whitened double-centred second moments."""
    shape = x.shape[:-1]
    gx = _whitened_second_moments(x, sigma_k).reshape(shape + (-1,))
    gy = _whitened_second_moments(y, sigma_k).reshape(shape + (-1,))
    return _cosine(gx, gy)


def _corr_cov(x: np.ndarray, y: np.ndarray, sigma_k: np.ndarray | None = None) -> np.ndarray:
    """Whitened unbiased RDM correlation: :func:`_cosine_cov` of the mean-centred dissimilarities."""
    return _cosine_cov(x - x.mean(axis=-1, keepdims=True), y - y.mean(axis=-1, keepdims=True), sigma_k)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..m along the last axis, ties sharing their mean rank (``scipy.stats.rankdata``).

    Args:
        values: float array (..., m); a NaN ranks above every number (its row's result is then
            meaningless: callers mask NaN rows).

    Returns:
        float64 ranks, same shape.
    """
    values = np.asarray(values, dtype=np.float64)
    shape = values.shape
    flat = values.reshape(-1, shape[-1])
    n_rows, m = flat.shape
    order = np.argsort(flat, axis=1)  # any order within ties: tied entries share their mean rank
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


#: RDM comparisons selectable by name in :func:`compare_rdms`, under rsatoolbox's names; each maps two
#: arrays of upper triangles (..., m) to similarities (...).
COMPARISONS: dict[str, Callable[..., np.ndarray]] = {
    "spearman": _spearman,
    "corr": _pearson,
    "cosine": _cosine,
    "rho-a": _rho_a,
    "tau-a": _tau_a,
    "corr_cov": _corr_cov,
    "cosine_cov": _cosine_cov,
}

#: Other accepted names: alias -> the canonical name in :data:`COMPARISONS`.
COMPARISON_ALIASES: dict[str, str] = {"pearson": "corr", "kendall_tau_a": "tau-a"}

_COVARIANCE_WEIGHTED = frozenset({"corr_cov", "cosine_cov"})

#: How rsatoolbox pools subject RDMs for a noise ceiling under each comparison
#: (``rsatoolbox.util.inference_util.pool_rdm``): ``'rank'`` (rank-transform, then average),
#: ``'zscore'`` (z-score, average, shift the minimum to 0), ``'rms'`` (divide by the root mean square,
#: then average).
POOLING: dict[str, str] = {
    "spearman": "rank", "rho-a": "rank", "tau-a": "rank",
    "corr": "zscore", "corr_cov": "zscore",
    "cosine": "rms", "cosine_cov": "rms",
}
