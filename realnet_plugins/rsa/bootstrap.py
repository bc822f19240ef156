"""Bootstrap intervals of RSA results over images (stimuli) and over subjects.

Resampling images with replacement follows rsatoolbox (``bootstrap_sample_pattern`` then
``RDMs.subsample_pattern``): the resampled RDM holds a pair for every two drawn positions, and pairs of two
copies of one image (a trivially zero dissimilarity) are left out. Each dissimilarity (a, b) of the
original RDM therefore enters a resampled triangle ``c_a * c_b`` times, where ``c`` counts how often each
image was drawn. The comparisons ``'spearman'``, ``'corr'``, ``'cosine'`` and ``'rho-a'`` are computed here
directly from the original triangle with those multiplicities as weights (tied ranks become weighted
mid-ranks), which equals comparing the expanded resampled triangles but needs no re-sorting of fixed RDMs;
``'tau-a'`` is computed on the expanded triangles. The whitened comparisons (``'corr_cov'``,
``'cosine_cov'``) need the whole matrix of a resampled RDM with missing pairs and are not offered.

Resampling subjects follows rsatoolbox's bootstrap of a noise ceiling: subjects are drawn with replacement
and the leave-one-out ceiling leaves out every copy of a subject (see :mod:`realnet_plugins.rsa.ceiling`).

Random draws: ``numpy.random.default_rng(seed)``; sample b draws ``rng.integers(0, n, size=n)`` after the
samples before it (:func:`resample_indices`), so the same seed gives the same samples.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa.rdm import COMPARISONS, canonical_comparison, upper_triangle

__all__ = [
    "BOOTSTRAP_COMPARISONS",
    "BootstrapInterval",
    "WEIGHTED_COMPARISONS",
    "WeightedRanks",
    "pair_multiplicities",
    "resample_indices",
    "resampled_pairs",
    "rsa_image_bootstrap",
    "weighted_compare",
]

#: Comparisons available in image bootstraps (every one but the whitened ``'corr_cov'``/``'cosine_cov'``).
BOOTSTRAP_COMPARISONS: tuple[str, ...] = ("spearman", "corr", "cosine", "rho-a", "tau-a")

#: Comparisons computed with entry weights (:func:`weighted_compare`); the rest of
#: :data:`BOOTSTRAP_COMPARISONS` is computed on expanded triangles.
WEIGHTED_COMPARISONS = frozenset({"spearman", "corr", "cosine", "rho-a"})


@dataclasses.dataclass(frozen=True)
class BootstrapInterval:
    """A bootstrap distribution summarised: point estimate, percentile interval and standard error.

    Arrays share the shape of the statistic (a scalar statistic gives 0-d arrays).

    Attributes:
        estimate: the statistic on the full data.
        low: the (1 - confidence) / 2 percentile of the bootstrap samples (NaN samples ignored).
        high: the (1 + confidence) / 2 percentile.
        se: bootstrap standard error: standard deviation of the samples (ddof=1, NaN samples ignored).
        samples: the statistic on each bootstrap sample, shape (n_bootstrap, *statistic shape).
        confidence: the interval's coverage, e.g. 0.95.
        over: what was resampled, ``'images'`` or ``'subjects'``.
    """

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    se: np.ndarray
    samples: np.ndarray
    confidence: float
    over: str

    @classmethod
    def from_samples(cls, estimate: np.ndarray | float, samples: np.ndarray, *, confidence: float = 0.95,
                     over: str) -> BootstrapInterval:
        """Summarise bootstrap samples (e.g. after reducing both over a time window).

        Args:
            estimate: the statistic on the full data, any shape.
            samples: (n_bootstrap, *estimate's shape).
            confidence: interval coverage in (0, 1).
            over: ``'images'`` or ``'subjects'``.
        """
        if not 0.0 < confidence < 1.0:
            raise ValueError(f"confidence must lie in (0, 1); found {confidence!r}.")
        samples = np.asarray(samples, dtype=np.float64)
        tail = 50.0 * (1.0 - confidence)
        with warnings.catch_warnings():  # an all-NaN slice gives NaN, as documented
            warnings.simplefilter("ignore", RuntimeWarning)
            low, high = np.nanpercentile(samples, [tail, 100.0 - tail], axis=0)
            se = np.nanstd(samples, axis=0, ddof=1)
        return cls(estimate=np.asarray(estimate, dtype=np.float64), low=np.asarray(low), high=np.asarray(high),
                   se=np.asarray(se), samples=samples, confidence=float(confidence), over=over)


def resample_indices(n: int, n_bootstrap: int, seed: int) -> np.ndarray:
    """Indices drawn with replacement for each bootstrap sample.

    Args:
        n: number of items (images or subjects), >= 2.
        n_bootstrap: number of samples, >= 1.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        int64 (n_bootstrap, n); row b is ``rng.integers(0, n, size=n)`` drawn after rows 0..b-1.
    """
    if not isinstance(n_bootstrap, (int, np.integer)) or isinstance(n_bootstrap, bool) or n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be an integer >= 1; found {n_bootstrap!r}.")
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, n, size=n) for _ in range(n_bootstrap)])


def pair_multiplicities(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each dissimilarity of an n-image RDM enters the RDM of the resampled images.

    Args:
        indices: drawn image indices, shape (k,).
        n: images of the original RDM.

    Returns:
        float64 (n * (n - 1) // 2,) in upper-triangle order: ``c_a * c_b`` for the pair (a, b), where ``c``
        counts the draws of each image (pairs of two copies of one image are left out).
    """
    counts = np.bincount(np.asarray(indices), minlength=n).astype(np.float64)
    rows, cols = np.triu_indices(n, 1)
    return counts[rows] * counts[cols]


def resampled_pairs(indices: np.ndarray, n: int) -> np.ndarray:
    """Upper-triangle positions (into the original RDM's triangle) of every pair of the resampled RDM.

    The resampled RDM is rsatoolbox's ``subsample_pattern`` of the drawn images (drawn positions sorted),
    without the pairs of two copies of one image.

    Args:
        indices: drawn image indices, shape (k,).
        n: images of the original RDM.

    Returns:
        int64 positions, shape (number of kept pairs,); ``triangle[..., positions]`` is the resampled
        triangle.
    """
    drawn = np.sort(np.asarray(indices))
    rows, cols = np.triu_indices(len(drawn), 1)
    a, b = drawn[rows], drawn[cols]
    keep = a != b
    low, high = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    return low * n - low * (low + 1) // 2 + (high - low - 1)


class WeightedRanks:
    """Sort order and tie groups of fixed vectors, giving their mid-ranks under changing entry weights.

    With weight w_k for entry k (entry k repeated w_k times), the mid-rank of entry k is the number of
    (weighted) entries below its value plus (weight of its tie group + 1) / 2; with unit weights these
    are ``scipy.stats.rankdata``'s average ranks.

    Args:
        values: (..., m); NaN sorts last (rows holding NaN at a positive weight are flagged by the
            callers).
    """

    def __init__(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        self.shape = values.shape
        flat = values.reshape(-1, values.shape[-1])
        self.order = np.argsort(flat, axis=1)  # any order within ties: a tie group shares its mid-rank
        ordered = np.take_along_axis(flat, self.order, axis=1)
        tied = ordered[:, 1:] == ordered[:, :-1]
        if tied.any():
            # sorted positions of the first and last entry of each entry's tie group, per row
            positions = np.broadcast_to(np.arange(flat.shape[1]), flat.shape)
            starts = np.ones(flat.shape, dtype=bool)
            starts[:, 1:] = ~tied
            ends = np.ones(flat.shape, dtype=bool)
            ends[:, :-1] = ~tied
            self.group_first = np.maximum.accumulate(np.where(starts, positions, 0), axis=1)
            self.group_last = np.flip(np.minimum.accumulate(
                np.flip(np.where(ends, positions, flat.shape[1]), axis=1), axis=1), axis=1)
        else:
            self.group_first = self.group_last = None

    def ranks(self, weights: np.ndarray) -> np.ndarray:
        """Mid-ranks under ``weights`` (m,), shape of the values."""
        sorted_weights = np.asarray(weights, dtype=np.float64)[self.order]
        through = np.cumsum(sorted_weights, axis=1)  # weight up to and including each sorted entry
        if self.group_first is None:
            mid = through - (sorted_weights - 1.0) / 2.0
        else:
            before = np.take_along_axis(through - sorted_weights, self.group_first, axis=1)
            group_weight = np.take_along_axis(through, self.group_last, axis=1) - before
            mid = before + (group_weight + 1.0) / 2.0
        ranks = np.empty(self.order.shape)
        np.put_along_axis(ranks, self.order, mid, axis=1)
        return ranks.reshape(self.shape)


def weighted_compare(x: np.ndarray, y: np.ndarray, method: str, weights: np.ndarray, *,
                     x_ranks: WeightedRanks | None = None,
                     y_ranks: WeightedRanks | None = None) -> np.ndarray:
    """Compare triangles whose entries are repeated ``weights`` times (see the module docstring).

    Args:
        x: triangles (..., m).
        y: triangles broadcastable against ``x``.
        method: ``'spearman'``, ``'corr'`` (alias ``'pearson'``), ``'cosine'`` or ``'rho-a'``.
        weights: non-negative entry multiplicities, shape (m,) (integers for ``'rho-a'``).
        x_ranks: precomputed :class:`WeightedRanks` of ``x`` (rank methods; saves a sort).
        y_ranks: the same for ``y``.

    Returns:
        Similarities, the broadcast leading shape; equal to :func:`compare_rdms`'s comparison of the
        expanded triangles. NaN where a NaN entry has positive weight or the comparison is undefined.
    """
    name = canonical_comparison(method)
    if name not in WEIGHTED_COMPARISONS:
        raise ValueError(f"weighted comparison supports {sorted(WEIGHTED_COMPARISONS)}; found {method!r}.")
    w = np.asarray(weights, dtype=np.float64)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    counted = w > 0
    missing = (np.isnan(x) & counted).any(-1) | (np.isnan(y) & counted).any(-1)
    if name in ("spearman", "rho-a"):
        x = (x_ranks or WeightedRanks(x)).ranks(w)
        y = (y_ranks or WeightedRanks(y)).ranks(w)
    x, y = np.where(counted, x, 0.0), np.where(counted, y, 0.0)
    total = w.sum()
    if name != "cosine":
        x = x - (x @ w)[..., None] / total
        y = y - (y @ w)[..., None] / total
    xw = x * w
    # weighted inner products as broadcast matrix products: no (..., m) temporary of the broadcast shape
    xy = (xw[..., None, :] @ y[..., :, None])[..., 0, 0]
    xx, yy = (xw * x).sum(-1), (y * w * y).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if name == "rho-a":
            r = 12.0 * xy / (total ** 3 - total)
        else:
            r = np.clip(xy / np.sqrt(xx * yy), -1.0, 1.0)
    undefined = ~(xx > 0) | ~(yy > 0)
    return np.where(missing | undefined, np.nan, r)


def rsa_image_bootstrap(model_rdms: np.ndarray, target_rdms: np.ndarray, method: str = "spearman", *,
                        summary: Callable[[np.ndarray], float] | None = None, n_bootstrap: int = 1000,
                        seed: int = 0, confidence: float = 0.95, progress: bool = False) -> BootstrapInterval:
    """Bootstrap over images of an RSA summary: the spread of a model-vs-target score across stimulus sets.

    The RSA array is ``compare_rdms(model_rdms[m], target_rdms[...])`` for every model RDM m and every
    target RDM, shape (n_models, *target leading shape), e.g. (n_regions, n_times) for a single subject's
    EEG RDMs (n_times, n, n); ``summary`` reduces it to a number (default: the mean of its finite values).
    Each sample redraws the n images with replacement (module docstring) for model and target alike.

    Args:
        model_rdms: (n_models, n, n), e.g. one RDM per model region.
        target_rdms: (..., n, n), e.g. (n_times, n, n) or (n_subjects, n_times, n, n); same images in
            the same order.
        method: one of :data:`BOOTSTRAP_COMPARISONS` (or an alias).
        summary: maps the RSA array (n_models, ...) to a float; None = ``np.nanmean`` of the finite
            values (NaN when none).
        n_bootstrap: samples (no sorting per sample for the weighted comparisons: about 25 ms of CPU each
            for 4 model RDMs x 20 time points x 200 images).
        seed: seed of the image draws (:func:`resample_indices`).
        confidence: interval coverage.
        progress: show a tqdm bar.

    Returns:
        A scalar :class:`BootstrapInterval` (``over='images'``): ``estimate`` is the summary on all images,
        ``se`` the bootstrap standard error (the benchmark's ``attrs['error']``).

    Raises:
        ValueError: a method without an image bootstrap (the whitened ones).
        DataFormatError: RDMs that are not square stacks of one size.
    """
    name = canonical_comparison(method)
    if name not in BOOTSTRAP_COMPARISONS:
        raise ValueError(f"an image bootstrap is available for {list(BOOTSTRAP_COMPARISONS)}; found {method!r} "
                         "(the whitened comparisons need every pair of a resampled RDM).")
    model = upper_triangle(np.asarray(model_rdms, dtype=np.float64))
    target = upper_triangle(np.asarray(target_rdms, dtype=np.float64))
    if model.ndim != 2 or model.shape[-1] != target.shape[-1]:
        raise DataFormatError(f"expected model RDMs (n_models, n, n) and target RDMs (..., n, n) of one size; "
                              f"found {np.shape(model_rdms)} and {np.shape(target_rdms)}.")
    n = np.shape(model_rdms)[-1]
    reduce = summary if summary is not None else _finite_mean
    model = model.reshape(model.shape[:1] + (1,) * (target.ndim - 1) + model.shape[-1:])
    estimate = float(reduce(np.asarray(COMPARISONS[name](*np.broadcast_arrays(model, target[None])))))
    samples = np.empty(n_bootstrap)
    draws = resample_indices(n, n_bootstrap, seed)
    if name in WEIGHTED_COMPARISONS:
        model_ranks, target_ranks = (WeightedRanks(model), WeightedRanks(target[None])) \
            if name in ("spearman", "rho-a") else (None, None)
    for b in tqdm(range(n_bootstrap), desc="image bootstrap", unit="sample", disable=None if progress else True):
        if name in WEIGHTED_COMPARISONS:
            rsa = weighted_compare(model, target[None], name, pair_multiplicities(draws[b], n),
                                   x_ranks=model_ranks, y_ranks=target_ranks)
        else:
            pairs = resampled_pairs(draws[b], n)
            rsa = COMPARISONS[name](*np.broadcast_arrays(model[..., pairs], target[None][..., pairs]))
        samples[b] = reduce(np.asarray(rsa))
    return BootstrapInterval.from_samples(estimate, samples, confidence=confidence, over="images")


def _finite_mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")
