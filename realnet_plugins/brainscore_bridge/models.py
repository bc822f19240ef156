"""Brain-Score model commitments for ReAlnet checkpoints.

Each call builds a fresh model from its own checkpoint: no module-level model is shared between
identifiers. The activations model's identifier is ``<identifier>-<sha256[:12]>`` of the
checkpoint file, so Brain-Score's activation cache never serves one checkpoint's activations for
another.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from brainscore_vision.model_helpers.activations.pytorch import PytorchWrapper
from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

from realnet_plugins.checkpoints import load_checkpoint, load_model_checkpoint
from realnet_plugins.extraction import ImagePreprocessing, RealnetModel

#: Images per forward pass inside Brain-Score (it pads every batch to this size).
DEFAULT_BATCH_SIZE = int(os.environ.get("REALNET_BS_BATCH_SIZE", "16"))
#: Degrees of visual angle the model's input spans (Brain-Score's default).
VISUAL_DEGREES = 8


class _FilePreprocessing:
    """Brain-Score preprocessing: image file paths → float32 array (N, 3, S, S), normalised."""

    def __init__(self, preprocess: ImagePreprocessing) -> None:
        self.preprocess = preprocess

    def __call__(self, image_filepaths: list[str]) -> np.ndarray:
        return self.preprocess(image_filepaths).numpy()


def activations_model(net: RealnetModel, identifier: str, *, batch_size: int = DEFAULT_BATCH_SIZE) -> PytorchWrapper:
    """Wrap the backbone of ``net`` (logits = its last module) as a Brain-Score activations model."""
    return PytorchWrapper(
        identifier=f"{identifier}-{net.sha256[:12]}",
        model=net.model.backbone,
        preprocessing=_FilePreprocessing(net.preprocess),
        batch_size=batch_size,
    )


def model_commitment(identifier: str, checkpoint: str | Path | None = None, *,
                     batch_size: int = DEFAULT_BATCH_SIZE) -> ModelCommitment:
    """A Brain-Score ``ModelCommitment`` for a ReAlnet identifier (or any realnet checkpoint file).

    Regions V1, V2, V4 and IT map to the four tapped layers (CORnet-S: V1, V2, V4, IT; ResNet18:
    layer1..layer4); the pooled penultimate layer is the behavioural readout; the 1000-way ImageNet
    layer is the model's last module, so label tasks work.

    Args:
        identifier: Brain-Score identifier (``realnet_s01`` …); resolves the checkpoint under
            ``$REALNET_HOME`` unless ``checkpoint`` is given.
        checkpoint: an explicit checkpoint file.
        batch_size: images per forward pass.

    Raises:
        MissingFileError: no checkpoint; the message names the path and how to make it.
        CheckpointError: a corrupt, tampered or foreign checkpoint.
    """
    loaded = load_checkpoint(Path(checkpoint)) if checkpoint is not None else load_model_checkpoint(identifier)
    net = RealnetModel.from_checkpoint(loaded)
    spec = net.model.spec
    return ModelCommitment(
        identifier=identifier,
        activations_model=activations_model(net, identifier, batch_size=batch_size),
        layers=list(spec.taps) + [spec.penultimate],
        behavioral_readout_layer=spec.penultimate,
        region_layer_map=spec.region_layer_map,
        visual_degrees=VISUAL_DEGREES,
    )
