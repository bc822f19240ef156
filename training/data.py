"""Training data of one run: images, (manipulated) EEG targets, pseudo-labels, held-out sets.

Everything here is computed once per run, before the first step:

* the training and test images, decoded and resized once into the on-disk uint8 image cache
  (:func:`realnet_plugins.image_cache.build_image_cache`); no epoch decodes a JPEG;
* the repetition-averaged training EEG of the run's subject (or of every subject, pooled, for
  ``across_subject``), normalised with each subject's own training statistics, then altered as the
  variant says (:mod:`realnet_plugins.variants`); validation and test EEG are never altered;
* the pseudo-labels: the argmax of the frozen, eval-mode initial backbone's logits for every
  training image, cached under ``$REALNET_HOME/cache/pseudo_labels/<fingerprint>.npy``, keyed by
  the initial backbone weights, the image cache and the image size/normalisation.

The optional validation split holds out whole training **concepts** (all their images), drawn with
``numpy.random.default_rng([seed, 3])``; it is never the test split.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from realnet_plugins.architectures import ReAlnet
from realnet_plugins.checkpoints import weights_digest
from realnet_plugins.constants import N_EEG_OUTPUTS
from realnet_plugins.datasets.things_eeg2.reader import EEGNormalisation, ThingsEEG2Release
from realnet_plugins.errors import DataFormatError
from realnet_plugins.image_cache import build_image_cache, image_cache_key, normalise_batch
from realnet_plugins.paths import cache_dir
from realnet_plugins.storage import atomic_path, fingerprint
from realnet_plugins.variants import manipulate_training_eeg, variant_spec

__all__ = [
    "VALIDATION_STREAM", "HeldOutSet", "AlignmentData", "validation_concepts", "load_alignment_data",
    "backbone_digest", "predict", "pseudo_labels", "run_subjects",
]

log = logging.getLogger(__name__)

#: Second word of the validation split's random-generator seed.
VALIDATION_STREAM = 3
#: Images per forward pass when computing pseudo-labels and held-out predictions.
INFERENCE_BATCH = 128


@dataclass
class HeldOutSet:
    """Images and real EEG never trained on, for metrics only.

    Attributes:
        name: ``"test"`` or ``"validation"``.
        images: uint8 (M, S, S, 3).
        eeg: subject → float32 (M, 340) repetition-averaged EEG, normalised with that subject's
            training statistics (channel-major, index c · 20 + t). Never manipulated.
    """

    name: str
    images: np.ndarray
    eeg: dict[int, np.ndarray]


@dataclass
class AlignmentData:
    """What one run trains on.

    Attributes:
        subjects: the subject (one) or every pooled subject (``across_subject``).
        images: uint8 (n_images, S, S, 3) training image cache (read-only memmap), all training
            images of the release, validation ones included (they are simply never indexed).
        image_key: fingerprint of the image cache (:func:`image_cache_key`).
        pair_image: int64 (P,) row of ``images`` of each training pair.
        pair_eeg: float32 (P, 340) normalised (and, for the controls, manipulated) EEG target of
            each pair. For ``across_subject`` P = n_subjects × n_train_images, subject-major.
        normalisation: subject → the statistics its EEG was normalised with.
        test: the release's test split.
        validation: held-out training concepts, or None.
        validation_concepts: the held-out concept folder names (sorted).
        fingerprint: 16 hex digits of everything the training data depends on (release contents,
            subjects, variant, seed, normalisation, validation split, image size).
    """

    subjects: list[int]
    images: np.ndarray
    image_key: str
    pair_image: np.ndarray
    pair_eeg: np.ndarray
    normalisation: dict[int, EEGNormalisation]
    test: HeldOutSet
    validation: HeldOutSet | None
    validation_concepts: list[str]
    fingerprint: str

    @property
    def n_pairs(self) -> int:
        """Number of training (image, EEG) pairs P."""
        return int(self.pair_image.shape[0])

    def normalisation_record(self) -> dict:
        """The checkpoint's ``eeg_normalisation``.

        One subject: :meth:`EEGNormalisation.to_dict` (``{"mode", "mean", "std"}``). Pooled
        subjects: the model's outputs live in the pooled normalised space; ``per_subject`` holds
        each subject's statistics (``{"1": {...}, ...}``) and the top-level ``mean``/``std`` are
        their averages over subjects, an approximate common map back to the release's units (so
        readers of single-subject records, e.g. :func:`EEGNormalisation.from_dict`, still work).
        """
        if len(self.subjects) == 1:
            return self.normalisation[self.subjects[0]].to_dict()
        stats = [self.normalisation[s] for s in self.subjects]
        average = EEGNormalisation(
            stats[0].mode,
            np.mean([np.asarray(n.mean, dtype=np.float64) for n in stats], axis=0),
            np.mean([np.asarray(n.std, dtype=np.float64) for n in stats], axis=0),
        )
        return {**average.to_dict(), "per_subject": {str(s): n.to_dict() for s, n in self.normalisation.items()}}


def run_subjects(release: ThingsEEG2Release, variant: str, subject: int | None) -> list[int]:
    """The subjects whose EEG a run uses: ``[subject]``, or every subject for a variant that pools them.

    Raises:
        ValueError: a pooling variant with a subject, another variant without one, or a subject
            the release does not have (the message lists those it has).
    """
    pooled = variant_spec(variant).pooled_subjects
    available = release.subjects()
    if pooled:
        if subject is not None:
            raise ValueError(
                f"variant {variant!r} pools every subject of the release ({available}); do not give a subject"
            )
        if len(available) < 2:
            raise ValueError(f"variant {variant!r} needs at least 2 subjects; the release has {available}")
        return available
    if subject is None:
        raise ValueError(f"variant {variant!r} trains on one subject: give a subject (one of {available})")
    if int(subject) not in available:
        raise ValueError(f"subject {subject} is not in the release at {release.root}; it has subjects {available}")
    return [int(subject)]


def validation_concepts(concepts: Sequence[str], fraction: float, seed: int) -> list[str]:
    """Draw the held-out training concepts.

    Args:
        concepts: concept of each training image (``train_img_concepts``), repeats allowed.
        fraction: share of distinct concepts to hold out, 0 ≤ fraction < 1; when > 0 at least one
            concept is held out and at least one kept.
        seed: the run's seed.

    Returns:
        Sorted held-out concept names (empty for fraction 0).
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation fraction must be in [0, 1), got {fraction}")
    distinct = sorted(set(concepts))
    if fraction == 0.0:
        return []
    if len(distinct) < 2:
        raise ValueError(f"a validation split needs at least 2 training concepts; found {len(distinct)}")
    n_held = min(max(1, round(fraction * len(distinct))), len(distinct) - 1)
    rng = np.random.default_rng([int(seed), VALIDATION_STREAM])
    chosen = rng.choice(len(distinct), size=n_held, replace=False)
    return sorted(distinct[i] for i in chosen)


def load_alignment_data(
    release: ThingsEEG2Release,
    subject: int | None,
    variant: str,
    *,
    image_size: int,
    seed: int,
    normalisation_mode: str = "scalar",
    validation_fraction: float = 0.0,
) -> AlignmentData:
    """Read, normalise and manipulate a run's training EEG; build its image caches.

    Args:
        release: the THINGS-EEG2 release.
        subject: the subject (None for ``across_subject``).
        variant: the training variant.
        image_size: side of the resized images in px.
        seed: the run's seed (manipulations and the validation split derive from it).
        normalisation_mode: ``"scalar"`` (default) or ``"feature"`` z-scoring per subject.
        validation_fraction: share of training concepts held out for validation (0: none).

    Returns:
        The run's :class:`AlignmentData`. The normalisation statistics are fitted on the
        subject's whole unaltered training EEG (so every variant of a subject shares them and the
        test EEG is normalised identically); the variant's manipulation is applied to the
        training pairs only, after removing the validation concepts.
    """
    subjects = run_subjects(release, variant, subject)
    metadata = release.image_metadata()
    train_paths = release.image_paths("training")
    test_paths = release.image_paths("test")
    images = build_image_cache(train_paths, image_size)
    test_images = build_image_cache(test_paths, image_size)
    image_key = image_cache_key(train_paths, image_size)

    concepts = metadata["train_img_concepts"]
    held_concepts = validation_concepts(concepts, validation_fraction, seed)
    held = np.isin(np.asarray(concepts), np.asarray(held_concepts)) if held_concepts else np.zeros(len(concepts), bool)
    train_rows = np.flatnonzero(~held).astype(np.int64)
    val_rows = np.flatnonzero(held).astype(np.int64)

    normalisation: dict[int, EEGNormalisation] = {}
    pair_eeg_parts, pair_image_parts = [], []
    val_eeg: dict[int, np.ndarray] = {}
    test_eeg: dict[int, np.ndarray] = {}
    for s in subjects:
        eeg = release.alignment_eeg(s, "training")
        if eeg.shape[0] != len(concepts):
            raise DataFormatError(
                f"subject {s}: {eeg.shape[0]} training EEG images, but the metadata lists {len(concepts)} images"
            )
        norm = EEGNormalisation.fit(eeg, normalisation_mode)
        normalisation[s] = norm
        altered = manipulate_training_eeg(eeg[train_rows], variant, seed=seed, subject=s)
        pair_eeg_parts.append(norm.apply(altered).reshape(-1, N_EEG_OUTPUTS).astype(np.float32))
        pair_image_parts.append(train_rows)
        if val_rows.size:
            val_eeg[s] = norm.apply(eeg[val_rows]).reshape(-1, N_EEG_OUTPUTS).astype(np.float32)
        test_eeg[s] = norm.apply(release.alignment_eeg(s, "test")).reshape(-1, N_EEG_OUTPUTS).astype(np.float32)

    validation = HeldOutSet("validation", np.asarray(images[val_rows]), val_eeg) if val_rows.size else None
    data_fingerprint = fingerprint(
        "realnet-training-data",
        {str(s): [release.release_fingerprint(s, "training"), release.release_fingerprint(s, "test")]
         for s in subjects},
        variant, int(seed), normalisation_mode, float(validation_fraction), int(image_size),
    )
    return AlignmentData(
        subjects=subjects,
        images=images,
        image_key=image_key,
        pair_image=np.concatenate(pair_image_parts),
        pair_eeg=np.ascontiguousarray(np.concatenate(pair_eeg_parts)),
        normalisation=normalisation,
        test=HeldOutSet("test", np.asarray(test_images), test_eeg),
        validation=validation,
        validation_concepts=held_concepts,
        fingerprint=data_fingerprint,
    )


def backbone_digest(model: ReAlnet) -> str:
    """sha256 of the backbone's weights and buffers (what the pseudo-labels depend on)."""
    return weights_digest({k: v for k, v in model.state_dict().items() if k.startswith("backbone.")})


@torch.no_grad()
def predict(model: ReAlnet, images: np.ndarray, *, mean: Sequence[float], std: Sequence[float],
            device: torch.device, progress: bool = False, desc: str = "predicting"
            ) -> tuple[np.ndarray, np.ndarray | None]:
    """Eval-mode forward passes over uint8 images, in float32 (no autocast).

    Args:
        model: the model (put in eval mode for the call, its mode restored after).
        images: uint8 (M, S, S, 3).
        mean, std: image normalisation.
        device: where the model lives.
        progress: show a progress bar.
        desc: the bar's label.

    Returns:
        ``(logits argmax int64 (M,), predicted EEG float32 (M, 340) or None)``.
    """
    was_training = model.training
    model.eval()
    dtype = next(model.parameters()).dtype
    labels, eeg = [], []
    try:
        for start in tqdm(range(0, len(images), INFERENCE_BATCH), desc=desc, unit="batch", leave=False,
                          disable=None if progress else True):
            batch = torch.from_numpy(np.array(images[start:start + INFERENCE_BATCH])).to(device)
            out = model(normalise_batch(batch, mean, std).to(dtype))
            labels.append(out.logits.argmax(dim=1).cpu().numpy())
            if out.eeg is not None:
                eeg.append(out.eeg.float().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(labels).astype(np.int64), (np.concatenate(eeg) if eeg else None)


def pseudo_labels(model: ReAlnet, images: np.ndarray, image_key: str, *, mean: Sequence[float],
                  std: Sequence[float], device: torch.device, progress: bool = False) -> np.ndarray:
    """Pseudo-labels of the training images: argmax of the frozen eval-mode initial model's logits.

    Computed once per (initial backbone weights, image cache, normalisation) and cached at
    ``$REALNET_HOME/cache/pseudo_labels/<fingerprint>.npy`` (written atomically).

    Args:
        model: the initial model, before any training step.
        images: uint8 (n_images, S, S, 3), the training image cache.
        image_key: the cache's fingerprint.
        mean, std: image normalisation.
        device: the model's device.
        progress: show a progress bar.

    Returns:
        int64 (n_images,) class indices in 0..999.
    """
    key = fingerprint("pseudo-labels", backbone_digest(model), image_key, model.image_size,
                      [float(m) for m in mean], [float(s) for s in std])
    path = cache_dir("pseudo_labels") / f"{key}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as e:
            log.warning("ignoring unreadable pseudo-label cache %s (%s)", path, e)
        else:
            if cached.shape == (len(images),) and cached.dtype == np.int64:
                return cached
            log.warning("ignoring pseudo-label cache %s of %s %s", path, cached.dtype, cached.shape)
    labels, _ = predict(model, images, mean=mean, std=std, device=device, progress=progress, desc="pseudo-labels")
    with atomic_path(path) as tmp:
        np.save(tmp, labels, allow_pickle=False)
    return labels
