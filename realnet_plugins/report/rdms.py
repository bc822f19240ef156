"""Layer RDMs of realnet checkpoints on a packaged image set, computed once and cached.

The individual-variability and THINGS-dimension analyses compare the models' own RDMs (not scores),
including the output layer, which Brain-Score's regions do not cover. For a checkpoint and an
image set the RDMs of V1, V2, V4, IT (the four taps; ResNet18: layer1..layer4) and ``output`` (the
1000 ImageNet logits) are computed with :func:`realnet_plugins.extraction.extract` and
:func:`realnet_plugins.rsa.rdm.model_rdm` (1 − Pearson r) and cached as::

    $REALNET_HOME/cache/model_rdms/<key>.npz    rdms (n_layers, n, n) float64, layers, stimulus_ids

``key`` = fingerprint of the checkpoint's sha256 and the image set's fingerprint (its stimulus ids and
image sha256s), so a retrained checkpoint or other images never reuse RDMs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from realnet_plugins.errors import DataFormatError
from realnet_plugins.paths import cache_dir
from realnet_plugins.report.selection import ReportModel
from realnet_plugins.storage import atomic_path, fingerprint

#: Layers of the cached RDMs: the four taps (:data:`realnet_plugins.architectures.REGIONS`) and the ImageNet output.
RDM_LAYERS: tuple[str, ...] = ("V1", "V2", "V4", "IT", "output")
_RDM_CACHE_VERSION = 1


@dataclass(frozen=True)
class StimulusImages:
    """An image set the RDMs are computed on.

    Attributes:
        stimulus_ids: RDM row order, (n,).
        paths: image files in the same order.
        fingerprint: identity of the images (ids and content digests).
        concepts_things: THINGS-1854 concept id of each image (``'00010_aircraft_carrier'``), or None.
    """

    stimulus_ids: tuple[str, ...]
    paths: tuple[str, ...]
    fingerprint: str
    concepts_things: tuple[str, ...] | None = None


def things_eeg2_test_images() -> StimulusImages:
    """The test images of the current THINGS-EEG2 package (raises MissingFileError without one)."""
    from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package

    table = ThingsEEG2Package().stimulus_table()
    ids = tuple(table["stimulus_id"].astype(str))
    return StimulusImages(
        stimulus_ids=ids, paths=tuple(table["image_path"].astype(str)),
        fingerprint=fingerprint("things-eeg2-test-images", list(ids), list(table["sha256"].astype(str))),
        concepts_things=tuple(table["concept_things"].astype(str)) if "concept_things" in table else None,
    )


@dataclass(frozen=True)
class LayerRDMs:
    """RDMs of one model's layers on one image set.

    Attributes:
        layers: layer names, (n_layers,).
        rdms: (n_layers, n_images, n_images) float64, 1 − Pearson r.
        stimulus_ids: row order, (n_images,).
    """

    layers: tuple[str, ...]
    rdms: np.ndarray
    stimulus_ids: tuple[str, ...]

    def layer(self, name: str) -> np.ndarray:
        """The (n_images, n_images) RDM of one layer."""
        if name not in self.layers:
            raise DataFormatError(f"no RDM of layer {name!r}; the cached layers are {list(self.layers)}")
        return self.rdms[self.layers.index(name)]


def compute_layer_rdms(checkpoint: Path, images: StimulusImages, *, progress: bool | None = None) -> LayerRDMs:
    """Run a checkpoint on the images and compute the RDM of each of :data:`RDM_LAYERS`."""
    from realnet_plugins.extraction import extract, load_realnet
    from realnet_plugins.rsa.rdm import model_rdm

    net = load_realnet(checkpoint)
    extraction = extract(net, list(images.paths), names=list(images.stimulus_ids), progress=progress)
    n = len(images.stimulus_ids)
    features = [extraction.taps[region].reshape(n, -1) for region in RDM_LAYERS[:-1]]
    features.append(extraction.logits.reshape(n, -1))
    rdms = np.stack([np.asarray(model_rdm(f.astype(np.float64)), dtype=np.float64) for f in features])
    return LayerRDMs(layers=RDM_LAYERS, rdms=rdms, stimulus_ids=images.stimulus_ids)


class RDMStore:
    """Cached layer RDMs of checkpoints.

    Args:
        root: cache folder (default ``$REALNET_HOME/cache/model_rdms``).
        compute: ``(checkpoint, images) → LayerRDMs`` for what is not cached (default
            :func:`compute_layer_rdms`).
    """

    def __init__(self, root: str | Path | None = None,
                 compute: Callable[[Path, StimulusImages], LayerRDMs] | None = None) -> None:
        self.root = Path(root) if root is not None else cache_dir("model_rdms")
        self._compute = compute
        self.computed = 0
        self.loaded = 0

    def path(self, model: ReportModel, images: StimulusImages) -> Path:
        from realnet_plugins.storage import cached_sha256

        if model.checkpoint is None:
            raise DataFormatError(
                f"{model.name} has no realnet checkpoint, so its layer RDMs cannot be computed here "
                "(only Brain-Score scores are available for it)"
            )
        key = fingerprint("layer-rdms", _RDM_CACHE_VERSION, cached_sha256(model.checkpoint), images.fingerprint,
                          list(RDM_LAYERS))
        return self.root / f"{key}.npz"

    def get(self, model: ReportModel, images: StimulusImages, *, progress: bool | None = None) -> LayerRDMs:
        """The model's layer RDMs on ``images``, computed and cached at first need."""
        path = self.path(model, images)
        if path.is_file():
            with np.load(path, allow_pickle=False) as stored:
                self.loaded += 1
                return LayerRDMs(layers=tuple(stored["layers"].tolist()), rdms=stored["rdms"].astype(np.float64),
                                 stimulus_ids=tuple(stored["stimulus_ids"].tolist()))
        checkpoint = Path(str(model.checkpoint))  # path() refused models without one
        if self._compute is None:
            result = compute_layer_rdms(checkpoint, images, progress=progress)
        else:
            result = self._compute(checkpoint, images)
        if tuple(result.stimulus_ids) != tuple(images.stimulus_ids):
            raise DataFormatError(f"{model.name}: RDM rows follow other stimuli than the image set")
        with atomic_path(path) as tmp:
            np.savez(tmp, rdms=np.asarray(result.rdms, dtype=np.float64), layers=np.array(result.layers),
                     stimulus_ids=np.array(result.stimulus_ids))
        self.computed += 1
        return result

    def get_many(self, models: Sequence[ReportModel], images: StimulusImages, *,
                 progress: bool | None = None) -> dict[str, LayerRDMs]:
        """RDMs of several models (by model name), with a progress bar."""
        from tqdm.auto import tqdm

        out = {}
        for model in tqdm(models, desc="layer RDMs", unit="model", disable=None if progress is None else not progress):
            out[model.name] = self.get(model, images, progress=False)
        return out
