"""Training variants (SPEC.md, Variants): what each one does to β, the loss and the training EEG.

The EEG manipulations of the controls act on the repetition-averaged training EEG of shape
(n_images, 17, 20) and never on held-out (validation or test) EEG:

* ``unpaired``: a seeded derangement of the images: image i receives the whole 17 × 20 matrix of
  image ``perm[i] != i``. Uniform over derangements (rejection sampling of permutations).
* ``scrambled``: for each image and each channel, an independent permutation of the 20 time
  points, drawn once (not per epoch), seeded.

Both draw from ``numpy.random.default_rng([seed, VARIANT_STREAM[variant], subject])``, so a
subject's manipulation is fixed by (seed, variant, subject) and differs between subjects.
"""
from __future__ import annotations

import numpy as np

from realnet_plugins.constants import N_EEG_CHANNELS, N_EEG_TIMES
from realnet_plugins.errors import DataFormatError
from realnet_plugins.identifiers import DEFAULT_BETA, VARIANTS

__all__ = [
    "VARIANTS", "VARIANT_STREAM", "MAX_DERANGEMENT_DRAWS", "check_variant", "resolve_beta", "derangement",
    "scramble_times", "unpair", "manipulate_training_eeg",
]

#: Second word of the manipulation's random-generator seed, one per manipulating variant.
VARIANT_STREAM: dict[str, int] = {"unpaired": 1, "scrambled": 2}
#: A random permutation is a derangement with probability ≈ 1/e; 200 failures in a row have
#: probability ≈ 1e-40, so hitting this bound means a broken generator.
MAX_DERANGEMENT_DRAWS = 200


def check_variant(variant: str) -> str:
    """Return ``variant`` if it is one of :data:`VARIANTS`.

    Raises:
        ValueError: naming the valid variants (β values are set with ``beta``, not a variant name).
    """
    if variant not in VARIANTS:
        raise ValueError(
            f"unknown training variant {variant!r}; valid variants are {', '.join(VARIANTS)} "
            "(the β sweep is variant 'realnet' with --beta 1, 10 or 1000)"
        )
    return variant


def resolve_beta(variant: str, beta: float | None) -> float:
    """β of a run: ``beta`` if given, else 100; always 0 for ``beta0``.

    Raises:
        ValueError: an unknown variant, a negative β, or a non-zero β given with ``beta0``.
    """
    check_variant(variant)
    if variant == "beta0":
        if beta not in (None, 0, 0.0):
            raise ValueError(f"variant 'beta0' trains without the EEG head (β = 0); do not also give beta={beta:g}")
        return 0.0
    value = DEFAULT_BETA if beta is None else float(beta)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    if value == 0:
        raise ValueError("beta=0 means no EEG alignment: use variant 'beta0' (which also drops the EEG head)")
    return value


def _rng(seed: int, variant: str, subject: int | None) -> np.random.Generator:
    return np.random.default_rng([int(seed), VARIANT_STREAM[variant], int(subject or 0)])


def derangement(n: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of ``range(n)`` with no fixed point.

    Args:
        n: length, ≥ 2.
        rng: the random generator (consumed).

    Returns:
        int64 (n,) ``perm`` with ``perm[i] != i`` for every i.

    Raises:
        ValueError: n < 2 (no derangement exists).
    """
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 items, got {n}")
    identity = np.arange(n)
    for _ in range(MAX_DERANGEMENT_DRAWS):
        perm = rng.permutation(n)
        if not np.any(perm == identity):
            return perm.astype(np.int64)
    raise RuntimeError(f"no derangement of {n} items in {MAX_DERANGEMENT_DRAWS} draws; the generator is broken")


def _check_eeg(eeg: np.ndarray) -> np.ndarray:
    eeg = np.asarray(eeg)
    if eeg.ndim != 3 or eeg.shape[1:] != (N_EEG_CHANNELS, N_EEG_TIMES):
        raise DataFormatError(
            f"training EEG must have shape (n_images, {N_EEG_CHANNELS}, {N_EEG_TIMES}); got {eeg.shape}"
        )
    return eeg


def unpair(eeg: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Move each image's whole EEG matrix to another image.

    Args:
        eeg: (n_images, 17, 20).
        rng: the random generator.

    Returns:
        ``(eeg[perm], perm)``: the reassigned EEG (image i gets image ``perm[i]``'s matrix) and the
        derangement (n_images,).
    """
    eeg = _check_eeg(eeg)
    perm = derangement(eeg.shape[0], rng)
    return eeg[perm], perm


def scramble_times(eeg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Permute the 20 time points of every (image, channel) independently.

    Args:
        eeg: (n_images, 17, 20).
        rng: the random generator.

    Returns:
        (n_images, 17, 20): ``out[i, c] = eeg[i, c, p_ic]`` for a random permutation ``p_ic``.
    """
    eeg = _check_eeg(eeg)
    order = np.argsort(rng.random(eeg.shape), axis=-1, kind="stable")
    return np.take_along_axis(eeg, order, axis=-1)


def manipulate_training_eeg(eeg: np.ndarray, variant: str, *, seed: int, subject: int | None) -> np.ndarray:
    """The training EEG a variant trains on.

    Args:
        eeg: (n_images, 17, 20) repetition-averaged training EEG of one subject.
        variant: the training variant.
        seed: the run's seed.
        subject: the subject (part of the manipulation's seed).

    Returns:
        ``eeg`` itself for variants that do not alter EEG; a new array for ``unpaired`` and
        ``scrambled``.
    """
    check_variant(variant)
    if variant == "unpaired":
        return unpair(eeg, _rng(seed, variant, subject))[0]
    if variant == "scrambled":
        return scramble_times(eeg, _rng(seed, variant, subject))
    return _check_eeg(eeg)
