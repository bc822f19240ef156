"""The training variants (SPEC.md, Variants): one registry entry each says what the variant changes.

Every part of the package that behaves differently per variant reads an attribute of its
:class:`TrainingVariant` (loss weights, EEG head, fixed β, pooled subjects, EEG manipulation,
paper identifiers); nothing compares variant names. Recipe, adding a variant:

1. If it alters the training EEG, write the manipulation here: a function
   ``(eeg (n_images, 17, 20), rng) -> eeg`` that only ever sees training EEG.
2. Add one :class:`TrainingVariant` to :data:`VARIANTS` (a new ``manipulation_stream`` number if
   it draws random numbers). The CLI (``--variant``, ``realnet sweep --variants``), the objective,
   the data loader and :mod:`realnet_plugins.identifiers` read it from there.
3. Only if the paper has Brain-Score identifiers for it: give it ``families``, and add their
   literal registration lines to ``models/realnet/__init__.py`` (Brain-Score finds models by
   grepping that file).

The EEG manipulations of the controls act on the repetition-averaged training EEG of shape
(n_images, 17, 20) and never on held-out (validation or test) EEG:

* ``unpaired``: a seeded derangement of the images: image i receives the whole 17 × 20 matrix of
  image ``perm[i] != i``. Uniform over derangements (rejection sampling of permutations).
* ``scrambled``: for each image and each channel, an independent permutation of the 20 time
  points, drawn once (not per epoch), seeded.

Both draw from ``numpy.random.default_rng([seed, manipulation_stream, subject])``, so a subject's
manipulation is fixed by (seed, variant, subject) and differs between subjects.

This module needs numpy only (no torch), so the CLI can list the variants cheaply.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from realnet_plugins.constants import N_EEG_CHANNELS, N_EEG_TIMES
from realnet_plugins.errors import DataFormatError

__all__ = [
    "DEFAULT_BETA", "DEFAULT_VARIANT", "MAX_DERANGEMENT_DRAWS", "IdentifierFamily", "TrainingVariant", "VARIANTS",
    "variant_spec", "check_variant", "resolve_beta", "derangement", "unpair", "scramble_times",
    "manipulate_training_eeg",
]

#: β of the paper's models (weight of the EEG generation loss).
DEFAULT_BETA = 100.0
#: The method itself; the β sweep (``realnet sweep --variants beta10``) is this variant with another β.
DEFAULT_VARIANT = "realnet"
#: A random permutation is a derangement with probability ≈ 1/e; 200 failures in a row have
#: probability ≈ 1e-40, so hitting this bound means a broken generator.
MAX_DERANGEMENT_DRAWS = 200

Manipulation = Callable[[np.ndarray, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class IdentifierFamily:
    """Brain-Score identifiers of the paper for one (backbone, β) of a variant.

    Attributes:
        stem: identifiers are ``<stem>_sNN`` (one per subject), or ``<stem>`` itself for a
            variant that pools subjects.
        backbone: the backbone (a key of :data:`realnet_plugins.backbones.BACKBONES`).
        beta: β of these models; None: the variant's (its ``fixed_beta``, else 100). A family
            with its own β is part of the β sweep.
        published_file: name pattern (``{subject:02d}``) of the authors' published files of these
            models, if any (``realnet import-weights`` reads them).
    """

    stem: str
    backbone: str
    beta: float | None = None
    published_file: str | None = None


@dataclass(frozen=True)
class TrainingVariant:
    """What one training variant changes relative to the method (SPEC.md, Variants).

    Attributes:
        name: the name on the command line and in checkpoints (``meta.variant``).
        description: one line for ``--help``.
        families: the paper's Brain-Score identifiers of this variant (may be empty).
        fixed_beta: β forced by the variant (0 for ``beta0``); None: the run's β (default 100).
        has_eeg_head: the model has the EEG head (False: L = L_C alone).
        mse_weight: weight of L_MSE inside L_G.
        contrastive_weight: weight of L_Cont inside L_G.
        manipulation: how the training EEG is altered, or None.
        manipulation_stream: second word of the manipulation's random-generator seed.
        pooled_subjects: one model on every subject of the release pooled (no subject).
    """

    name: str
    description: str
    families: tuple[IdentifierFamily, ...] = ()
    fixed_beta: float | None = None
    has_eeg_head: bool = True
    mse_weight: float = 1.0
    contrastive_weight: float = 1.0
    manipulation: Manipulation | None = None
    manipulation_stream: int | None = None
    pooled_subjects: bool = False

    def __post_init__(self) -> None:
        if (self.manipulation is None) != (self.manipulation_stream is None):
            raise ValueError(f"variant {self.name!r}: a manipulation needs its own manipulation_stream, and only then")

    def family_beta(self, family: IdentifierFamily) -> float:
        """β of the models of ``family``."""
        if family.beta is not None:
            return float(family.beta)
        return DEFAULT_BETA if self.fixed_beta is None else float(self.fixed_beta)


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


def _unpaired_eeg(eeg: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return unpair(eeg, rng)[0]


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


#: Every training variant, in the order of SPEC.md (and of ``--help``).
VARIANTS: dict[str, TrainingVariant] = {v.name: v for v in (
    TrainingVariant(
        "realnet", "the method: L = L_C + beta (L_MSE + L_Cont)",
        families=(IdentifierFamily("realnet", "cornet_s", published_file="ReAlnet{subject:02d}_best_model_params.pt"),
                  IdentifierFamily("realnet_r", "resnet18"),
                  IdentifierFamily("realnet_beta1", "cornet_s", beta=1.0),
                  IdentifierFamily("realnet_beta10", "cornet_s", beta=10.0),
                  IdentifierFamily("realnet_beta1000", "cornet_s", beta=1000.0))),
    TrainingVariant("no_contrastive", "ablation: L_G = L_MSE (no contrastive term)",
                    families=(IdentifierFamily("realnet_nocont", "cornet_s"),), contrastive_weight=0.0),
    TrainingVariant("no_mse", "ablation: L_G = L_Cont (no MSE term)",
                    families=(IdentifierFamily("realnet_nomse", "cornet_s"),), mse_weight=0.0),
    TrainingVariant("unpaired", "control: each image's whole EEG matrix moved to another image (derangement)",
                    families=(IdentifierFamily("realnet_unpaired", "cornet_s"),),
                    manipulation=_unpaired_eeg, manipulation_stream=1),
    TrainingVariant("scrambled", "control: the 20 time points of each image and channel permuted",
                    families=(IdentifierFamily("realnet_scrambled", "cornet_s"),),
                    manipulation=scramble_times, manipulation_stream=2),
    TrainingVariant("beta0", "visual-diet control: beta = 0, no EEG head, pseudo-labels only",
                    families=(IdentifierFamily("realnet_beta0", "cornet_s"),), fixed_beta=0.0, has_eeg_head=False,
                    mse_weight=0.0, contrastive_weight=0.0),
    TrainingVariant("across_subject", "one model on every subject's EEG pooled (no subject)",
                    families=(IdentifierFamily("realnet_acrosssub", "cornet_s"),), pooled_subjects=True),
)}


def variant_spec(variant: str) -> TrainingVariant:
    """The registry entry of ``variant``.

    Raises:
        ValueError: an unknown name, listing the valid ones (β values are set with ``beta``).
    """
    try:
        return VARIANTS[variant]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown training variant {variant!r}; valid variants are {', '.join(VARIANTS)} "
            f"(the β sweep is variant {DEFAULT_VARIANT!r} with --beta 1, 10 or 1000)"
        ) from None


def check_variant(variant: str) -> str:
    """Return ``variant`` if it names an entry of :data:`VARIANTS` (else :func:`variant_spec`'s error)."""
    variant_spec(variant)
    return variant


def resolve_beta(variant: str, beta: float | None) -> float:
    """β of a run: ``beta`` if given, else 100; the variant's fixed β if it has one.

    Raises:
        ValueError: an unknown variant, a negative β, another β given with a fixed-β variant, or
            β = 0 for a variant that has an EEG head.
    """
    spec = variant_spec(variant)
    if spec.fixed_beta is not None:
        if beta is not None and float(beta) != spec.fixed_beta:
            raise ValueError(f"variant {variant!r} trains with β = {spec.fixed_beta:g}; do not also give beta={beta:g}")
        return float(spec.fixed_beta)
    value = DEFAULT_BETA if beta is None else float(beta)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"beta must be a finite number >= 0, got {beta!r}")
    if value == 0:
        without_head = [v.name for v in VARIANTS.values() if v.fixed_beta == 0]
        raise ValueError(f"beta=0 means no EEG alignment: use variant {without_head[0]!r} (which also drops the EEG "
                         "head)")
    return value


def manipulate_training_eeg(eeg: np.ndarray, variant: str, *, seed: int, subject: int | None) -> np.ndarray:
    """The training EEG a variant trains on.

    Args:
        eeg: (n_images, 17, 20) repetition-averaged training EEG of one subject.
        variant: the training variant.
        seed: the run's seed.
        subject: the subject (part of the manipulation's seed).

    Returns:
        ``eeg`` itself for variants that do not alter EEG; a new array for the others.
    """
    spec = variant_spec(variant)
    if spec.manipulation is None:
        return _check_eeg(eeg)
    rng = np.random.default_rng([int(seed), int(spec.manipulation_stream or 0), int(subject or 0)])
    return spec.manipulation(_check_eeg(eeg), rng)
