"""The registry of EEG RDM kinds: how a subject's trials become one RDM per time point.

Each :class:`EEGRDMKind` names its settings (with presets), how to compute the RDMs and the
split-half RDMs of the single-subject ceiling, and the record of its settings that keys cached RDMs.
Packaging (``realnet package things-eeg2``) computes every kind it is asked for; a benchmark selects
one by name (``selection={"rdm_kind": "crossnobis"}`` in its descriptor).

To add a kind: write its engine (``(trials (images, trials, channels, times), settings) → (times,
images, images)``), add one :class:`EEGRDMKind` to :data:`EEG_RDM_KINDS`, and declare benchmarks on it
in the dataset's descriptor.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from realnet_plugins.errors import UsageError

__all__ = ["EEG_RDM_KINDS", "EEGRDMKind", "eeg_rdm_kind"]


@dataclass(frozen=True)
class EEGRDMKind:
    """One kind of EEG RDM.

    Attributes:
        name: its name in descriptors, packages and caches (``'decoding'``).
        description: what the dissimilarity is, for score attrs and metadata.
        presets: preset name → ``() → settings``; the first is the default.
        compute: ``(trials, settings, **options) → (n_times, n, n)`` RDMs.
        split_halves: ``(trials, settings, seed, **options) → (half_a, half_b)`` RDMs of two disjoint
            halves of each image's trials.
        uses_backend: whether ``compute`` takes the decoding engine's ``backend``/``device`` options.
    """

    name: str
    description: str
    presets: dict[str, Callable[[], Any]]
    compute: Callable[..., np.ndarray]
    split_halves: Callable[..., tuple[np.ndarray, np.ndarray]]
    uses_backend: bool = False

    def settings(self, preset: str | None = None) -> Any:
        """The settings of ``preset`` (default: the first preset).

        Raises:
            UsageError: an unknown preset (the message lists them).
        """
        name = preset or next(iter(self.presets))
        if name not in self.presets:
            raise UsageError(f"unknown {self.name} preset {name!r}; expected one of {list(self.presets)}")
        return self.presets[name]()

    @staticmethod
    def record(settings: Any) -> dict[str, Any]:
        """The settings as a JSON-able record (a cache key part)."""
        if dataclasses.is_dataclass(settings):
            return dataclasses.asdict(settings)
        return dict(vars(settings))


def _decoding(trials: np.ndarray, settings: Any, **options: Any) -> np.ndarray:
    from realnet_plugins.rsa.decoding import decoding_rdm

    return decoding_rdm(trials, settings=settings, **options)


def _decoding_halves(trials: np.ndarray, settings: Any, seed: int, **options: Any) -> tuple[np.ndarray, np.ndarray]:
    from realnet_plugins.rsa.ceiling import split_half_decoding_rdms

    return split_half_decoding_rdms(trials, settings, seed, **options)


def _crossnobis(trials: np.ndarray, settings: Any, **options: Any) -> np.ndarray:
    from realnet_plugins.rsa.crossnobis import crossnobis_rdm

    return crossnobis_rdm(trials, settings=settings, progress=options.get("progress", True))


def _crossnobis_halves(trials: np.ndarray, settings: Any, seed: int,
                       **options: Any) -> tuple[np.ndarray, np.ndarray]:
    from realnet_plugins.rsa.crossnobis import split_half_crossnobis_rdms

    return split_half_crossnobis_rdms(trials, settings, seed, progress=options.get("progress", True))


def _decoding_presets() -> dict[str, Callable[[], Any]]:
    from realnet_plugins.rsa.decoding import DecodingSettings

    return {"paper": DecodingSettings.paper, "neurora-1.x": DecodingSettings.neurora_1x}


def _crossnobis_presets() -> dict[str, Callable[[], Any]]:
    from realnet_plugins.rsa.crossnobis import CrossnobisSettings

    return {"epoch": CrossnobisSettings, "time": lambda: CrossnobisSettings(noise="time"),
            "none": lambda: CrossnobisSettings(noise="none")}


#: Every EEG RDM kind, by name.
EEG_RDM_KINDS: dict[str, EEGRDMKind] = {
    "decoding": EEGRDMKind(
        name="decoding",
        description="pairwise decoding accuracy (linear SVM, cross-validated)",
        presets=_decoding_presets(), compute=_decoding, split_halves=_decoding_halves, uses_backend=True),
    "crossnobis": EEGRDMKind(
        name="crossnobis",
        description="crossnobis distance (cross-validated Mahalanobis, noise-normalised)",
        presets=_crossnobis_presets(), compute=_crossnobis, split_halves=_crossnobis_halves),
}


def eeg_rdm_kind(name: str) -> EEGRDMKind:
    """The kind called ``name``.

    Raises:
        UsageError: an unknown kind (the message lists them).
    """
    if name not in EEG_RDM_KINDS:
        raise UsageError(f"unknown EEG RDM kind {name!r}; expected one of {list(EEG_RDM_KINDS)}")
    return EEG_RDM_KINDS[name]
