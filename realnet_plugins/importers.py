"""Import weight files users already have into realnet checkpoints.

Supported sources (FORMATS.md, Weights):

- each backbone's ImageNet release (:attr:`~realnet_plugins.backbones.BackboneSpec.imagenet`):
  ``imagenet-cornet-s``, the DiCarlo lab's ``cornet_s-1d3f7974.pth`` (a dict whose ``state_dict``
  has ``module.``-prefixed CORnet-S keys); ``torchvision-resnet18``, torchvision's ResNet18 file
  (a plain state dict);
- ``published-realnet``: the authors' ``ReAlnetNN_best_model_params.pt``, a state dict of the
  whole training module: backbone under ``realnet.`` and the EEG head ``fc_v1 fc_v2 fc_v4 fc_it fc``;
  ``module.`` may appear as a prefix and inside keys (DataParallel).

The source is detected from the keys. Every key must be used and every shape must fit, else the
error lists the mismatches. Files are read with ``torch.load(weights_only=True)``.

An ImageNet file named like one of its backbone's published release files
(:meth:`~realnet_plugins.backbones.BackboneSpec.release_files`) must have that release's published
digest, or it is refused; a file under another name is imported as *unverified*, and the
checkpoint's ``weights_release`` and ``deviations`` say so.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from realnet_plugins.architectures import HEAD_SLOTS, ReAlnet
from realnet_plugins.backbones import BACKBONES, BackboneSpec, backbone_spec
from realnet_plugins.checkpoints import (
    CheckpointMeta,
    checkpoint_path,
    load_state_strict,
    safe_torch_load,
    save_checkpoint,
)
from realnet_plugins.errors import CheckpointError
from realnet_plugins.identifiers import parse_identifier
from realnet_plugins.recipe import PAPER_WEIGHTS
from realnet_plugins.storage import cached_sha256

PUBLISHED_REALNET = "published-realnet"
_PUBLISHED_PREFIX = "realnet."
_HEAD_KEYS = set(HEAD_SLOTS) | {"fc"}


@dataclass
class ImportedWeights:
    """The result of reading a foreign weight file, before it is saved as a checkpoint.

    Attributes:
        model: the module holding the file's weights (eval mode).
        source: ``published-realnet`` or the backbone's ImageNet layout (``imagenet-cornet-s`` ...).
        backbone: the backbone.
        sha256: the file's sha256.
        release: for an ImageNet file, :func:`check_release`'s record; None for a published ReAlnet file.
    """

    model: ReAlnet
    source: str
    backbone: str
    sha256: str
    release: dict[str, Any] | None = None


def _strip_module(key: str) -> str:
    """Drop every ``module`` component that DataParallel inserted (``a.module.b`` → ``a.b``)."""
    return ".".join(part for part in key.split(".") if part != "module")


def tensor_state(obj: object, path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a loaded foreign file: a ``state_dict`` entry opened, ``module.`` components dropped.

    Raises:
        CheckpointError: not a mapping of names to tensors.
    """
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path}: expected a state dict (name → tensor), found {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{path}: expected only tensors in the state dict; non-tensors under {bad[:5]}")
    return {_strip_module(str(k)): v for k, v in obj.items()}


def _fits_exactly(spec: BackboneSpec, names: set[str]) -> bool:
    """Whether the backbone's module has exactly these parameter names (BatchNorm step counters aside)."""
    def weights(keys: Iterable[str]) -> set[str]:
        return {k for k in keys if not k.endswith(".num_batches_tracked")}

    return weights(spec.builder().state_dict()) == weights(spec.imagenet.module_names(dict.fromkeys(names)))


def detect_source(state: Mapping[str, torch.Tensor]) -> tuple[str, str]:
    """(source kind, backbone) of a ``module.``-stripped state dict, from the backbones' layouts.

    A backbone matches when its layout's signature names are all present (under ``realnet.`` in a
    published ReAlnet file). When several match (one backbone extends another), the one whose
    module has exactly the file's names wins.

    Raises:
        CheckpointError: when the keys match no supported layout.
    """
    keys = set(state)
    published = {k[len(_PUBLISHED_PREFIX):] for k in keys if k.startswith(_PUBLISHED_PREFIX)}
    names = published or keys
    matches = [spec for spec in BACKBONES.values() if set(spec.imagenet.signature) <= names]
    if len(matches) > 1:
        matches = [spec for spec in matches if _fits_exactly(spec, names)] or matches
    if matches:
        spec = matches[0]
        return (PUBLISHED_REALNET if published else spec.imagenet.source), spec.name
    layouts = "; ".join(spec.imagenet.description for spec in BACKBONES.values())
    raise CheckpointError(
        f"unrecognised weight file: expected an ImageNet release ({layouts}) or a published ReAlnet file "
        f"(realnet.* + fc_v1/fc_v2/fc_v4/fc_it/fc); first keys found: {sorted(keys)[:6]}"
    )


def check_release(path: str | Path, backbone: str) -> dict[str, Any]:
    """Check an ImageNet weight file against its backbone's published release files.

    A file whose name is that of a release file must have the release's published digest. A
    file with another name is not checked: it is *unverified* (it may hold any weights).

    Args:
        path: the weight file.
        backbone: its backbone.

    Returns:
        ``{"file", "sha256", "release", "verified", ...}``: ``release`` is the release file's
        name (None for an unverified file); a verified record also holds the ``algorithm``, the
        published ``digest`` and its ``origin``.

    Raises:
        CheckpointError: the name claims a release, but the digest differs (expected and found).
    """
    path = Path(path)
    record: dict[str, Any] = {"file": path.name, "sha256": cached_sha256(path), "release": None, "verified": False}
    for release in backbone_spec(backbone).release_files():
        if path.name != release.name:
            continue
        found = release.digest_of(path)
        if not found.startswith(release.digest):
            raise CheckpointError(
                f"{path} is named like the {backbone_spec(backbone).label} ImageNet release {release.name}, but its "
                f"{release.algorithm} is {found[:max(len(release.digest), 16)]}…, not the published "
                f"{release.digest} (from {release.origin}): it is damaged or holds other weights. Download the "
                "release again; or, for other weights, rename the file (it is then imported as unverified weights, "
                "and models trained from it are not the paper's recipe)."
            )
        record.update(release=release.name, verified=True, algorithm=release.algorithm, digest=release.digest,
                      origin=release.origin)
    return record


def _image_size_from_head(state: Mapping[str, torch.Tensor]) -> int:
    """The input size implied by the V1 head slot: 64 channels × (S/4)² features."""
    n = state["fc_v1.weight"].shape[1]
    side = math.isqrt(n // 64)
    if side * side * 64 != n:
        raise CheckpointError(f"fc_v1 takes {n} inputs, which is not 64·h·h for any image size")
    return 4 * side


def read_foreign_weights(path: str | Path, *, expected_backbone: str | None = None) -> ImportedWeights:
    """Read a supported foreign weight file into a :class:`ReAlnet` module (strictly).

    An ImageNet file is checked with :func:`check_release` first.

    Args:
        path: the weight file.
        expected_backbone: refuse files of another backbone (e.g. ResNet18 weights for a CORnet-S id).

    Raises:
        CheckpointError: unreadable, unrecognised, wrong backbone, a release name with another
            digest, or any key/shape mismatch.
    """
    path = Path(path)
    state = tensor_state(safe_torch_load(path), path)
    source, backbone = detect_source(state)
    if expected_backbone is not None and backbone != expected_backbone:
        raise CheckpointError(
            f"{path} holds {backbone} weights ({source}), but the target needs {expected_backbone}"
        )
    layout = backbone_spec(backbone).imagenet
    release = None
    if source == PUBLISHED_REALNET:
        backbone_state = {k[len(_PUBLISHED_PREFIX):]: v for k, v in state.items() if k.startswith(_PUBLISHED_PREFIX)}
        mapped = {"backbone." + k: v for k, v in layout.module_names(backbone_state).items()}
        for k, v in state.items():
            if not k.startswith(_PUBLISHED_PREFIX):
                mapped["eeg_head." + k if k.split(".", 1)[0] in _HEAD_KEYS else k] = v
        has_head = "fc_v1.weight" in state
        image_size = _image_size_from_head(state) if has_head else 224
        model = ReAlnet(backbone, image_size=image_size, eeg_head=has_head)
    else:
        release = check_release(path, backbone)
        mapped = {"backbone." + k: v for k, v in layout.module_names(state).items()}
        model = ReAlnet(backbone, image_size=224, eeg_head=False)
    # Releases made before PyTorch 0.4.1 have no BatchNorm step counters; they carry no information.
    for key, value in model.state_dict().items():
        if key.endswith(".num_batches_tracked") and key not in mapped:
            mapped[key] = torch.zeros_like(value)
    load_state_strict(model, mapped, what=f"{backbone} ({source})")
    sha256 = release["sha256"] if release else cached_sha256(path)
    return ImportedWeights(model=model.eval(), source=source, backbone=backbone, sha256=sha256, release=release)


def release_deviation(release: Mapping[str, Any] | None) -> dict[str, list]:
    """The ``deviations`` entry of weights imported from an ImageNet file: none for a verified release."""
    if release is None or release.get("verified"):
        return {}
    return {"weights": [PAPER_WEIGHTS, f"unverified file {release['file']} (sha256 {release['sha256'][:12]}…)"]}


def import_weights(path: str | Path, identifier: str, *, overwrite: bool = False,
                   out: str | Path | None = None) -> Path:
    """Import a foreign weight file as the checkpoint of a Brain-Score identifier.

    Unaligned baselines (``realnet_base_cornet_s`` ...) take ImageNet files; subject identifiers
    take published ReAlnet files. The checkpoint records the source file's sha256, and for an
    ImageNet file whether it is the verified release (``weights_release``, ``deviations``).

    Returns:
        The written checkpoint path (``$REALNET_HOME/checkpoints/<identifier>.pt`` unless ``out``).
    """
    spec = parse_identifier(identifier)
    imported = read_foreign_weights(path, expected_backbone=spec.backbone)
    published = imported.source == PUBLISHED_REALNET
    if spec.is_baseline and published:
        raise CheckpointError(f"{identifier} is an unaligned ImageNet baseline; {path} is a ReAlnet file")
    if not spec.is_baseline and not published:
        raise CheckpointError(
            f"{identifier} is an EEG-aligned model; {path} is an ImageNet file ({imported.source}). Train it with "
            f"`realnet train ... --init-weights {path}` or import it as {backbone_spec(spec.backbone).base_identifier}."
        )
    meta = CheckpointMeta(
        backbone=imported.backbone, variant=spec.variant, subject=spec.subject, beta=spec.beta,
        identifier=identifier, source=f"imported:{imported.source}:{imported.sha256}",
        weights_release=imported.release, deviations=release_deviation(imported.release),
    )
    target = Path(out) if out is not None else checkpoint_path(identifier)
    save_checkpoint(imported.model, meta, target, overwrite=overwrite)
    return target
