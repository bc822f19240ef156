"""Cross-validated Mahalanobis ("crossnobis") and cross-validated Euclidean EEG RDMs.

Guggenmos, Sterzer & Cichy (2018, NeuroImage 173) found continuous cross-validated distances after
multivariate noise normalisation markedly more reliable than decoding-accuracy RDMs. This is the second EEG
RDM kind beside :func:`~realnet_plugins.rsa.decoding.decoding_rdm`, from the same trials array.

Computation (per repeat and time point), exactly rsatoolbox's ``calc_rdm(dataset, method='crossnobis',
descriptor='image', cv_descriptor='fold', noise=precision)``: every image's pseudo-trials are split into
``n_folds`` folds; for each fold f, ``a_i`` is the mean of image i's pseudo-trials outside f and ``b_i``
the mean of those in f, and

    d_ij(f) = (a_i - a_j)' P (b_i - b_j) / n_channels,

averaged over folds (then over repeats). P is the noise precision (identity without noise normalisation:
the cross-validated squared Euclidean distance). Units: with P = inverse noise covariance, squared
Mahalanobis distance per channel in units of the single-trial noise (1 = a pattern difference as large as
the noise, on average per channel); without, squared data units (e.g. uV^2) per channel. The estimate is
unbiased: images with the same true pattern have expected distance 0, so values can be negative.

Pseudo-trials and folds (:func:`crossnobis_plan`): drawn like the decoding plan (same random stream
conventions, :func:`~realnet_plugins.rsa.decoding.pseudo_trial_groups` and
:func:`~realnet_plugins.rsa.decoding.shuffled_folds`), but per image rather than per image pair, because
a cross-validated distance needs each image's pseudo-trials in the same folds for every pair (rsatoolbox's
``cv_descriptor`` labels observations): each image gets folds ``k % n_folds`` for its pseudo-trials
``k = 0 .. m - 1`` in a random order, so every fold holds pseudo-trials of every image.

Noise normalisation (:func:`noise_precision`): the residuals are the single trials minus their image's mean
(all trials, also those a pseudo-trial grouping leaves out), per time point (``noise='time'``) or stacked
over the epoch's time points (``noise='epoch'``); the covariance estimators are rsatoolbox's
(``rsatoolbox.data.noise.cov_from_residuals`` methods ``'shrinkage_eye'`` (Ledoit-Wolf towards a multiple
of the identity, as Guggenmos et al. used), ``'shrinkage_diag'`` (Schaefer-Strimmer towards the diagonal),
``'diag'``, ``'full'``) with degrees of freedom n_images * (n_trials - 1) per time point. The same precision
serves every fold (rsatoolbox's single-noise crossnobis); with Gaussian noise the residuals are independent
of the image means, so the distances stay unbiased. Guggenmos et al.'s ``'epoch'`` averaged per-time-point
covariances; here the residuals are pooled before the (shrinkage) estimate.

Back ends: ``'rsatoolbox'`` calls rsatoolbox (``calc_rdm`` per time point and repeat, ``prec_from_residuals``);
``'numpy'`` computes the same in batched numpy (the bare GPU box has no rsatoolbox); both agree to rounding
(about 1e-14 on a full subject; the tests require 1e-8 of the largest distance against rsatoolbox's
``calc_rdm`` given the same pseudo-trials, folds and precision). ``'auto'`` = ``'numpy'``:
bench/bench_rdm_kinds.py times both on a full THINGS-EEG2-sized subject on 2 shared cores, where the numpy
path took 0.2-2.5 s and the rsatoolbox path 3.4-27 s (11-18 times slower, at or over the 5 s goal
depending on the machine's load); rsatoolbox serves as the oracle.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa.ceiling import split_trial_halves
from realnet_plugins.rsa.decoding import (
    _checked_trials,
    _pseudo_trials_per_image,
    pseudo_trial_groups,
    shuffled_folds,
)
from realnet_plugins.rsa.interop import require_rsatoolbox

__all__ = [
    "CROSSNOBIS_BACKENDS",
    "NOISE_ESTIMATORS",
    "NOISE_MODELS",
    "CrossnobisPlan",
    "CrossnobisSettings",
    "crossnobis_plan",
    "crossnobis_rdm",
    "noise_covariance",
    "noise_precision",
    "split_half_crossnobis_rdms",
]

#: Noise normalisations: none (cross-validated Euclidean), per time point, pooled over the epoch.
NOISE_MODELS: tuple[str, ...] = ("none", "time", "epoch")
#: Covariance estimators (rsatoolbox's names).
NOISE_ESTIMATORS: tuple[str, ...] = ("shrinkage_eye", "shrinkage_diag", "diag", "full")
#: Back ends of :func:`crossnobis_rdm`.
CROSSNOBIS_BACKENDS: tuple[str, ...] = ("auto", "numpy", "rsatoolbox")

_MAX_CONDITION = 1e12


@dataclasses.dataclass(frozen=True)
class CrossnobisSettings:
    """How crossnobis RDMs are computed (module docstring). ``dataclasses.asdict`` of it is a complete
    cache record; :meth:`record` adds the RDM kind.

    Attributes:
        n_folds: cross-validation folds (each image's pseudo-trials spread over all of them).
        n_pseudo: trials averaged into one pseudo-trial (1 = single trials); the
            ``n_trials % n_pseudo`` left-over trials are left out of that repeat's distances.
        n_repeats: repetitions with fresh pseudo-trials and folds; distances are averaged.
        noise: ``'epoch'`` (one precision from the residuals of every time point), ``'time'`` (one per
            time point) or ``'none'`` (cross-validated Euclidean distance).
        noise_estimator: covariance estimator, one of :data:`NOISE_ESTIMATORS` (ignored for
            ``noise='none'``).
        seed: seed of the pseudo-trials and folds (:func:`crossnobis_plan`).
    """

    n_folds: int = 5
    n_pseudo: int = 1
    n_repeats: int = 1
    noise: str = "epoch"
    noise_estimator: str = "shrinkage_eye"
    seed: int = 0

    def __post_init__(self) -> None:
        for name, minimum in (("n_folds", 2), ("n_pseudo", 1), ("n_repeats", 1), ("seed", 0)):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
                raise ValueError(f"CrossnobisSettings.{name} must be an integer >= {minimum}; found {value!r}.")
        if self.noise not in NOISE_MODELS:
            raise ValueError(f"CrossnobisSettings.noise must be one of {list(NOISE_MODELS)}; found {self.noise!r}.")
        if self.noise_estimator not in NOISE_ESTIMATORS:
            raise ValueError(f"CrossnobisSettings.noise_estimator must be one of {list(NOISE_ESTIMATORS)}; "
                             f"found {self.noise_estimator!r}.")

    def record(self) -> dict[str, Any]:
        """Everything the RDMs depend on besides the trials, JSON-serialisable (for a cache fingerprint)."""
        return {"kind": "crossnobis", **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class CrossnobisPlan:
    """Every random choice of a crossnobis run (see :func:`crossnobis_plan`).

    Attributes:
        pseudo_trials: trial indices averaged into each pseudo-trial, int32
            (n_repeats, n_images, n_pseudo_trials, n_pseudo).
        test_fold: fold of each pseudo-trial, int8 (n_repeats, n_images, n_pseudo_trials); the same for
            every time point and image pair.
        n_folds: number of folds.
    """

    pseudo_trials: np.ndarray
    test_fold: np.ndarray
    n_folds: int


def crossnobis_plan(n_images: int, n_trials: int, settings: CrossnobisSettings) -> CrossnobisPlan:
    """Draw the pseudo-trials and folds of a crossnobis run from ``settings.seed``.

    One stream ``numpy.random.default_rng(seed)``, used as :func:`~realnet_plugins.rsa.decoding.decoding_plan`
    uses it: first the pseudo-trial keys of every repeat and image (only when ``n_pseudo > 1``), then one
    float32 fold key per pseudo-trial and image for each repeat in turn; image i's pseudo-trial k gets fold
    ``k % n_folds`` permuted by the stable argsort of its keys.

    Args:
        n_images: images.
        n_trials: trials per image.
        settings: ``n_folds``, ``n_pseudo``, ``n_repeats`` and ``seed`` are used.

    Returns:
        The plan; the same arguments always give the same plan.
    """
    m = _pseudo_trials_per_image(n_trials, settings)
    rng = np.random.default_rng(settings.seed)
    pseudo_trials = pseudo_trial_groups(rng, (settings.n_repeats, n_images), n_trials, m, settings.n_pseudo)
    class_folds = (np.arange(m) % settings.n_folds).astype(np.int8)
    test_fold = np.stack([shuffled_folds(class_folds, rng.random((n_images, m), dtype=np.float32))
                          for _ in range(settings.n_repeats)])
    return CrossnobisPlan(pseudo_trials=np.ascontiguousarray(pseudo_trials), test_fold=test_fold,
                          n_folds=settings.n_folds)


def noise_covariance(trials: np.ndarray, noise: str = "epoch", estimator: str = "shrinkage_eye") -> np.ndarray:
    """Noise covariance of the channels from the residuals of the single trials about their image's mean.

    Equals ``rsatoolbox.data.noise.cov_from_residuals(residuals, dof, method=estimator)`` with the residuals
    of one time point (``noise='time'``) or of all time points stacked (``noise='epoch'``) and
    dof = n_images * (n_trials - 1) per time point.

    Args:
        trials: (n_images, n_trials, n_channels, n_times), n_trials >= 2, n_channels >= 2.
        noise: ``'time'`` or ``'epoch'``.
        estimator: one of :data:`NOISE_ESTIMATORS`.

    Returns:
        float64 (n_times, n_channels, n_channels), in squared data units; for ``'epoch'`` the one matrix
        repeated for every time point.
    """
    data = _checked_trials(trials)
    return _broadcast_epoch(_covariances(_residuals(data, noise, estimator), _dof(data, noise), estimator),
                            data.shape[-1])


def noise_precision(trials: np.ndarray, noise: str = "epoch", estimator: str = "shrinkage_eye") -> np.ndarray:
    """Inverse of :func:`noise_covariance` (``rsatoolbox.data.noise.prec_from_residuals``), same shape.

    Raises:
        DataFormatError: a singular covariance (e.g. ``'full'`` with fewer residuals than channels); the
            message suggests a shrinkage estimator.
    """
    data = _checked_trials(trials)
    covariances = _covariances(_residuals(data, noise, estimator), _dof(data, noise), estimator)
    return _broadcast_epoch(_inverse(covariances, estimator), data.shape[-1])


def crossnobis_rdm(trials: np.ndarray, *, settings: CrossnobisSettings | None = None,
                   precision: np.ndarray | None = None, backend: str = "auto",
                   progress: bool = True) -> np.ndarray:
    """Crossnobis (cross-validated Mahalanobis) RDMs, one per time point (module docstring).

    Args:
        trials: EEG trials, shape (n_images, n_trials, n_channels, n_times), any real dtype (computed in
            float64); for THINGS-EEG2 test data (200, 80, 17, 20).
        settings: crossnobis settings; None means ``CrossnobisSettings()`` (5 folds, single trials,
            epoch-pooled Ledoit-Wolf noise normalisation).
        precision: a noise precision to use instead of the one ``settings.noise`` estimates: (n_channels,
            n_channels) for every time point or (n_times, n_channels, n_channels). It is not part of
            ``settings`` (a cache keyed by the settings must key it separately).
        backend: ``'auto'`` (= ``'numpy'``), ``'numpy'`` or ``'rsatoolbox'`` (needs rsatoolbox).
        progress: show a tqdm progress bar (only where the output is a terminal).

    Returns:
        RDMs, float64 (n_times, n_images, n_images): symmetric, zero diagonal, in the units of the module
        docstring (can be negative).

    Raises:
        DataFormatError: ``trials`` not 4-D, non-finite, fewer than 2 images, too few trials for
            ``n_folds`` pseudo-trials per image, or (with noise normalisation) fewer than 2 trials or
            channels, a singular covariance, or a ``precision`` of the wrong shape.
        ValueError: unknown backend.
        MissingDependencyError: ``backend='rsatoolbox'`` without rsatoolbox installed.
    """
    settings = CrossnobisSettings() if settings is None else settings
    if backend not in CROSSNOBIS_BACKENDS:
        raise ValueError(f"unknown crossnobis backend {backend!r}; expected one of {list(CROSSNOBIS_BACKENDS)}.")
    data = _checked_trials(trials)
    n_images, n_trials, n_channels, n_times = data.shape
    plan = crossnobis_plan(n_images, n_trials, settings)
    use_rsatoolbox = backend == "rsatoolbox"
    if use_rsatoolbox:
        require_rsatoolbox("crossnobis_rdm(backend='rsatoolbox')")
    if precision is not None:
        precision = _checked_precision(precision, n_channels, n_times)
    elif settings.noise != "none":
        precision = (_rsatoolbox_precision if use_rsatoolbox else noise_precision)(
            data, settings.noise, settings.noise_estimator)
    if use_rsatoolbox:
        return _rsatoolbox_rdms(data, plan, precision, progress)
    return _numpy_rdms(data, plan, precision, progress)


def split_half_crossnobis_rdms(trials: np.ndarray, settings: CrossnobisSettings | None = None, seed: int = 0,
                               **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """Crossnobis RDMs of two disjoint random halves of each image's trials (for the split-half ceiling).

    The halves are those of :func:`~realnet_plugins.rsa.ceiling.split_trial_halves` (the same as for
    decoding RDMs with the same seed); each half estimates its own noise precision.

    Args:
        trials: (n_images, n_trials, n_channels, n_times).
        settings: crossnobis settings for both halves (None = ``CrossnobisSettings()``).
        seed: seed of the split.
        **options: passed to :func:`crossnobis_rdm` (``backend``, ``progress``).

    Returns:
        ``(rdm_half_a, rdm_half_b)``, each (n_times, n_images, n_images).
    """
    first, second = split_trial_halves(trials, seed)
    return (crossnobis_rdm(first, settings=settings, **options),
            crossnobis_rdm(second, settings=settings, **options))


# --------------------------------------------------------------------------------------------
# numpy back end


def _numpy_rdms(data: np.ndarray, plan: CrossnobisPlan, precision: np.ndarray | None,
                progress: bool) -> np.ndarray:
    n_images, _, n_channels, n_times = data.shape
    n_repeats, _, m = plan.test_fold.shape
    k = plan.n_folds
    flat = data.reshape(n_images, data.shape[1], n_channels * n_times)
    rdm = np.zeros((n_times, n_images, n_images))
    bar = tqdm(total=n_repeats * k, unit="fold", desc="crossnobis RDM", disable=None if progress else True)
    try:
        for repeat in range(n_repeats):
            groups = plan.pseudo_trials[repeat]  # (n, m, g)
            if groups.shape[-1] == 1:
                pseudo = np.take_along_axis(flat, groups[:, :, 0, None].astype(np.intp), axis=1)
            else:
                pseudo = flat[np.arange(n_images)[:, None, None], groups].mean(axis=2)  # (n, m, C * T)
            one_hot = (plan.test_fold[repeat][:, None, :] == np.arange(k)[None, :, None]).astype(np.float64)
            count = one_hot.sum(axis=2)  # (n, k)
            fold_sum = one_hot @ pseudo  # (n, k, C * T)
            test = fold_sum / count[:, :, None]
            train = (pseudo.sum(axis=1)[:, None] - fold_sum) / (m - count)[:, :, None]
            # (n, k, C, T) -> (k, T, n, C)
            test, train = (a.reshape(n_images, k, n_channels, n_times).transpose(1, 3, 0, 2) for a in (test, train))
            for fold in range(k):
                whitened = train[fold] if precision is None else train[fold] @ precision  # precision symmetric
                kernel = whitened @ test[fold].transpose(0, 2, 1)  # (T, n, n)
                diagonal = np.diagonal(kernel, axis1=1, axis2=2)
                rdm += diagonal[:, :, None] + diagonal[:, None, :] - kernel - kernel.transpose(0, 2, 1)
                bar.update(1)
    finally:
        bar.close()
    rdm /= n_repeats * k * n_channels
    rdm = 0.5 * (rdm + rdm.transpose(0, 2, 1))  # exactly symmetric (the sums above differ in rounding)
    index = np.arange(n_images)
    rdm[:, index, index] = 0.0
    return rdm


def _residuals(data: np.ndarray, noise: str, estimator: str) -> np.ndarray:
    """Residuals about each image's mean: (n_times, n_images * n_trials, C) for ``'time'``,
    (1, n_times * n_images * n_trials, C) for ``'epoch'``."""
    if noise not in ("time", "epoch"):
        raise ValueError(f"noise must be 'time' or 'epoch' for a noise estimate; found {noise!r}.")
    if estimator not in NOISE_ESTIMATORS:
        raise ValueError(f"unknown noise estimator {estimator!r}; expected one of {list(NOISE_ESTIMATORS)}.")
    n_images, n_trials, n_channels, n_times = data.shape
    if n_trials < 2 or n_channels < 2:
        raise DataFormatError(f"noise normalisation needs at least 2 trials per image and 2 channels; found "
                              f"{n_trials} trials and {n_channels} channels. Use noise='none'.")
    residuals = (data - data.mean(axis=1, keepdims=True)).transpose(3, 0, 1, 2)
    residuals = np.ascontiguousarray(residuals.reshape(n_times, n_images * n_trials, n_channels))
    return residuals.reshape(1, -1, n_channels) if noise == "epoch" else residuals


def _dof(data: np.ndarray, noise: str) -> int:
    n_images, n_trials, _, n_times = data.shape
    return n_images * (n_trials - 1) * (n_times if noise == "epoch" else 1)


def _covariances(residuals: np.ndarray, dof: int, estimator: str) -> np.ndarray:
    """rsatoolbox's covariance estimators (``rsatoolbox.data.noise``), batched: residuals (B, N, C)."""
    x = residuals - residuals.mean(axis=1, keepdims=True)
    n_rows, n_channels = x.shape[1:]
    eye = np.eye(n_channels)
    s_sum = x.transpose(0, 2, 1) @ x
    if estimator == "full":
        return s_sum / dof
    if estimator == "diag":
        return eye * (np.diagonal(s_sum, axis1=1, axis2=2) / dof)[:, None, :]
    squares = x * x
    s2_sum = squares.transpose(0, 2, 1) @ squares
    if estimator == "shrinkage_eye":  # Ledoit & Wolf (2004)
        s = s_sum / n_rows
        b2 = (s2_sum / n_rows - s * s).sum(axis=(1, 2)) / n_rows
        mu = np.trace(s, axis1=1, axis2=2) / n_channels
        d2 = ((s - mu[:, None, None] * eye) ** 2).sum(axis=(1, 2))
        b2 = np.minimum(d2, b2)
        shrunk = (b2 / d2 * mu)[:, None, None] * eye + ((d2 - b2) / d2)[:, None, None] * s
        return shrunk * n_rows / dof
    # shrinkage_diag: Schaefer & Strimmer (2005), with rsatoolbox's normalisations
    s = s_sum / dof
    variance = np.diagonal(s, axis1=1, axis2=2)
    std = np.sqrt(variance)
    s_mean = s_sum / std[:, None, :] / std[:, :, None] / (n_rows - 1)
    s2_mean = s2_sum / variance[:, None, :] / variance[:, :, None] / (n_rows - 1)
    var_hat = n_rows / dof ** 2 * (s2_mean - s_mean ** 2)
    off = ~np.eye(n_channels, dtype=bool)
    shrinkage = np.clip(var_hat[:, off].sum(axis=1) / (s_mean[:, off] ** 2).sum(axis=1), 0.0, 1.0)
    return s * (eye + (1.0 - shrinkage)[:, None, None] * off)


def _inverse(covariance: np.ndarray, estimator: str) -> np.ndarray:
    try:
        precision = np.linalg.inv(covariance)
    except np.linalg.LinAlgError:
        precision = np.full(covariance.shape, np.nan)
    return _checked_conditioning(precision, estimator)


def _checked_conditioning(precision: np.ndarray, estimator: str) -> np.ndarray:
    """Refuse a precision that is not finite or whose condition number exceeds 1e12 (a covariance that is
    singular up to rounding, e.g. ``'full'`` from fewer residuals than channels)."""
    if not np.all(np.isfinite(precision)) or np.any(np.linalg.cond(precision) > _MAX_CONDITION):
        raise DataFormatError(f"the '{estimator}' noise covariance is singular (too few residuals for the channels, "
                              "or a constant channel); use noise_estimator='shrinkage_eye' or 'shrinkage_diag', "
                              "or noise='none'.")
    return precision


def _broadcast_epoch(matrices: np.ndarray, n_times: int) -> np.ndarray:
    return np.broadcast_to(matrices, (n_times,) + matrices.shape[1:]).copy() if len(matrices) == 1 else matrices


def _checked_precision(precision: Any, n_channels: int, n_times: int) -> np.ndarray:
    values = np.asarray(precision, dtype=np.float64)
    if values.shape == (n_channels, n_channels):
        values = np.broadcast_to(values, (n_times, n_channels, n_channels))
    if values.shape != (n_times, n_channels, n_channels) or not np.all(np.isfinite(values)):
        raise DataFormatError(f"precision must be a finite ({n_channels}, {n_channels}) or ({n_times}, {n_channels}, "
                              f"{n_channels}) array; found shape {np.shape(precision)}.")
    if not np.allclose(values, values.transpose(0, 2, 1), rtol=1e-10, atol=0.0):
        raise DataFormatError("precision must be symmetric (the inverse of a covariance matrix).")
    return np.ascontiguousarray(values)


# --------------------------------------------------------------------------------------------
# rsatoolbox back end


def _rsatoolbox_precision(data: np.ndarray, noise: str, estimator: str) -> np.ndarray:
    from rsatoolbox.data.noise import prec_from_residuals

    residuals = _residuals(data, noise, estimator)
    dof = _dof(data, noise)
    try:
        matrices = np.stack([prec_from_residuals(r, dof=dof, method=estimator) for r in residuals])
    except np.linalg.LinAlgError:
        matrices = np.full((len(residuals),) + residuals.shape[-1:] * 2, np.nan)
    return _broadcast_epoch(_checked_conditioning(matrices, estimator), data.shape[-1])


def _rsatoolbox_rdms(data: np.ndarray, plan: CrossnobisPlan, precision: np.ndarray | None,
                     progress: bool) -> np.ndarray:
    from rsatoolbox.data import Dataset
    from rsatoolbox.rdm import calc_rdm

    n_images, _, _, n_times = data.shape
    n_repeats, _, m = plan.test_fold.shape
    images = np.repeat(np.arange(n_images), m)
    rdm = np.zeros((n_times, n_images, n_images))
    bar = tqdm(total=n_repeats * n_times, unit="time point", desc="crossnobis RDM (rsatoolbox)",
               disable=None if progress else True)
    try:
        for repeat in range(n_repeats):
            groups = plan.pseudo_trials[repeat]
            pseudo = data[np.arange(n_images)[:, None, None], groups].mean(axis=2)  # (n, m, C, T)
            folds = plan.test_fold[repeat].ravel()
            for t in range(n_times):
                dataset = Dataset(pseudo[:, :, :, t].reshape(n_images * m, -1),
                                  obs_descriptors={"image": images, "fold": folds})
                with warnings.catch_warnings():  # rsatoolbox casts a NaN placeholder to int (harmless)
                    warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
                    result = calc_rdm(dataset, method="crossnobis", descriptor="image", cv_descriptor="fold",
                                      noise=None if precision is None else precision[t])
                order = np.argsort(np.asarray(result.pattern_descriptors["image"]))
                rdm[t] += result.get_matrices()[0][np.ix_(order, order)]
                bar.update(1)
    finally:
        bar.close()
    return rdm / n_repeats
