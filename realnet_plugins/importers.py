"""Import weight files users already have into realnet checkpoints.

Supported sources (FORMATS.md, Weights):

- ``imagenet-cornet-s``: the DiCarlo lab release ``cornet_s-1d3f7974.pth``, a dict whose
  ``state_dict`` has ``module.``-prefixed CORnet-S keys.
- ``torchvision-resnet18``: torchvision's ``resnet18-f37072fd.pth``, a plain state dict.
- ``published-realnet``: the authors' ``ReAlnetNN_best_model_params.pt``, a state dict of the
  whole training module: backbone under ``realnet.`` and the EEG head ``fc_v1 fc_v2 fc_v4 fc_it fc``;
  ``module.`` may appear as a prefix and inside keys (DataParallel).

The source is detected from the keys. Every key must be used and every shape must fit, else the
error lists the mismatches. Files are read with ``torch.load(weights_only=True)``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch

from realnet_plugins.architectures import HEAD_SLOTS, ReAlnet
from realnet_plugins.checkpoints import (
    CheckpointMeta,
    checkpoint_path,
    load_state_strict,
    safe_torch_load,
    save_checkpoint,
)
from realnet_plugins.errors import CheckpointError
from realnet_plugins.identifiers import parse_identifier
from realnet_plugins.storage import sha256_file

SOURCES = ("imagenet-cornet-s", "torchvision-resnet18", "published-realnet")
_HEAD_KEYS = set(HEAD_SLOTS) | {"fc"}


@dataclass
class ImportedWeights:
    """The result of reading a foreign weight file, before it is saved as a checkpoint."""

    model: ReAlnet
    source: str
    backbone: str
    sha256: str


def _strip_module(key: str) -> str:
    """Drop every ``module`` component that DataParallel inserted (``a.module.b`` → ``a.b``)."""
    return ".".join(part for part in key.split(".") if part != "module")


def _tensor_state(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path}: expected a state dict (name → tensor), found {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path}: expected only tensors in the state dict; non-tensors under {bad[:5]}")
    return {_strip_module(str(k)): v for k, v in obj.items()}


def detect_source(state: Mapping[str, torch.Tensor]) -> tuple[str, str]:
    """(source kind, backbone) of a ``module.``-stripped state dict.

    Raises:
        CheckpointError: when the keys match no supported layout.
    """
    keys = set(state)
    if any(k.startswith("realnet.") for k in keys):
        backbone = "resnet18" if any(k.startswith("realnet.layer1.") for k in keys) else "cornet_s"
        return "published-realnet", backbone
    if "V1.conv1.weight" in keys and "decoder.linear.weight" in keys:
        return "imagenet-cornet-s", "cornet_s"
    if "conv1.weight" in keys and "layer1.0.conv1.weight" in keys and "fc.weight" in keys:
        return "torchvision-resnet18", "resnet18"
    raise CheckpointError(
        "unrecognised weight file: expected the CORnet-S ImageNet release (V1.conv1.weight … decoder.linear.weight), "
        "torchvision's ResNet18 (conv1.weight, layer1.0.conv1.weight, fc.weight) or a published ReAlnet file "
        f"(realnet.* + fc_v1/fc_v2/fc_v4/fc_it/fc); first keys found: {sorted(keys)[:6]}"
    )


def _image_size_from_head(state: Mapping[str, torch.Tensor]) -> int:
    """The input size implied by the V1 head slot: 64 channels × (S/4)² features."""
    n = state["fc_v1.weight"].shape[1]
    side = math.isqrt(n // 64)
    if side * side * 64 != n:
        raise CheckpointError(f"fc_v1 takes {n} inputs, which is not 64·h·h for any image size")
    return 4 * side


def read_foreign_weights(path: str | Path, *, expected_backbone: str | None = None) -> ImportedWeights:
    """Read a supported foreign weight file into a :class:`ReAlnet` module (strictly).

    Args:
        path: the weight file.
        expected_backbone: refuse files of another backbone (e.g. ResNet18 weights for a CORnet-S id).

    Raises:
        CheckpointError: unreadable, unrecognised, wrong backbone, or any key/shape mismatch.
    """
    path = Path(path)
    state = _tensor_state(safe_torch_load(path), path)
    source, backbone = detect_source(state)
    if expected_backbone is not None and backbone != expected_backbone:
        raise CheckpointError(
            f"{path} holds {backbone} weights ({source}), but the target needs {expected_backbone}"
        )
    if source == "published-realnet":
        mapped: dict[str, torch.Tensor] = {}
        for k, v in state.items():
            head = k.split(".", 1)[0]
            if k.startswith("realnet."):
                mapped["backbone." + k[len("realnet."):]] = v
            elif head in _HEAD_KEYS:
                mapped["eeg_head." + k] = v
            else:
                mapped[k] = v
        has_head = "fc_v1.weight" in state
        image_size = _image_size_from_head(state) if has_head else 224
        model = ReAlnet(backbone, image_size=image_size, eeg_head=has_head)
    else:
        mapped = {"backbone." + k: v for k, v in state.items()}
        model = ReAlnet(backbone, image_size=224, eeg_head=False)
    # Releases made before PyTorch 0.4.1 have no BatchNorm step counters; they carry no information.
    for key, value in model.state_dict().items():
        if key.endswith(".num_batches_tracked") and key not in mapped:
            mapped[key] = torch.zeros_like(value)
    load_state_strict(model, mapped, what=f"{backbone} ({source})")
    return ImportedWeights(model=model.eval(), source=source, backbone=backbone, sha256=sha256_file(path))


def import_weights(path: str | Path, identifier: str, *, overwrite: bool = False,
                   out: str | Path | None = None) -> Path:
    """Import a foreign weight file as the checkpoint of a Brain-Score identifier.

    ``realnet_base_cornet_s`` / ``realnet_base_resnet18`` take ImageNet files; subject identifiers
    take published ReAlnet files. The checkpoint records the source file's sha256.

    Returns:
        The written checkpoint path (``$REALNET_HOME/checkpoints/<identifier>.pt`` unless ``out``).
    """
    spec = parse_identifier(identifier)
    imported = read_foreign_weights(path, expected_backbone=spec.backbone)
    if spec.variant == "base" and imported.source == "published-realnet":
        raise CheckpointError(f"{identifier} is an unaligned ImageNet baseline; {path} is a ReAlnet file")
    if spec.variant != "base" and imported.source != "published-realnet":
        raise CheckpointError(
            f"{identifier} is an EEG-aligned model; {path} is an ImageNet file ({imported.source}). Train it with "
            f"`realnet train ... --init-weights {path}` or import it as realnet_base_{spec.backbone}."
        )
    meta = CheckpointMeta(
        backbone=imported.backbone, variant=spec.variant, subject=spec.subject, beta=spec.beta,
        identifier=identifier, source=f"imported:{imported.source}:{imported.sha256}",
    )
    target = Path(out) if out is not None else checkpoint_path(identifier)
    save_checkpoint(imported.model, meta, target, overwrite=overwrite)
    return target
