"""The backbones: one registry entry each says how to build it, where its taps are, how its ImageNet
release file is read and which files are that release.

Everything that depends on the backbone reads its :class:`BackboneSpec`: the model
(:class:`~realnet_plugins.architectures.ReAlnet`), the Brain-Score layer map, the importers
(:mod:`realnet_plugins.importers`), the release check, the CLI's ``--backbone`` choices and the help
for a missing checkpoint. Recipe, adding a backbone:

1. Write the module in ``realnet_plugins/architectures/<name>.py``: a class whose constructor takes
   no argument, whose ``state_dict`` names are those of the ImageNet release file, and with a
   method ``forward_taps(images) -> (logits (N, 1000), [four tapped outputs (N, C, h, w)])``.
2. Add one :class:`BackboneSpec` to :data:`BACKBONES`: a builder that imports the class lazily,
   the dotted names of the four taps (regions V1, V2, V4, IT), of the pooled penultimate layer and
   of the logits, the :class:`WeightLayout` of its ImageNet release, and the release file(s) with
   their published digest.
3. Only if the paper has Brain-Score identifiers for it: add an
   :class:`~realnet_plugins.variants.IdentifierFamily` to the variants it was trained with (and a
   ``base_identifier`` here), plus their literal lines in ``models/realnet/__init__.py``.

This module does not import torch (the builders import their class when called), so the CLI can
list the backbones cheaply.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from realnet_plugins.constants import REGIONS

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "HASH_IN_NAME", "ReleaseFile", "TorchvisionRelease", "WeightLayout", "BackboneSpec", "BACKBONES",
    "backbone_spec",
]

#: torch.hub's convention: ``<name>-<first hex digits of the file's sha256>.<ext>``.
HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")


@dataclass(frozen=True)
class ReleaseFile:
    """A published weight file and the digest its publisher gives for it.

    Attributes:
        name: the file name as published.
        algorithm: a :mod:`hashlib` name (``"sha256"``, ``"sha1"``).
        digest: the published hex digest, or its leading digits (torch.hub names carry 8).
        origin: who publishes it and where, for messages.
    """

    name: str
    algorithm: str
    digest: str
    origin: str

    def digest_of(self, path: str | Path) -> str:
        """The hex digest of ``path`` with this release's algorithm."""
        if self.algorithm == "sha256":
            from realnet_plugins.storage import cached_sha256

            return cached_sha256(path)
        h = hashlib.new(self.algorithm)
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                h.update(block)
        return h.hexdigest()

    def resolve(self) -> "ReleaseFile":
        return self


@dataclass(frozen=True)
class TorchvisionRelease:
    """A torchvision weights entry, read from the installed torchvision when needed (never typed in).

    Attributes:
        weights: ``"<WeightsEnum>.<member>"`` of ``torchvision.models``, e.g.
            ``"ResNet18_Weights.IMAGENET1K_V1"``.
    """

    weights: str

    def resolve(self) -> ReleaseFile:
        """The release file named by torchvision's URL; its digest is the name's sha256 prefix."""
        import torchvision
        import torchvision.models as tv_models

        enum_name, member = self.weights.split(".")
        url = getattr(getattr(tv_models, enum_name), member).url
        name = url.rsplit("/", 1)[-1]
        match = HASH_IN_NAME.search(name)
        if match is None:
            raise ValueError(f"torchvision's {self.weights} file {name} carries no sha256 prefix in its name")
        return ReleaseFile(name, "sha256", match[1], f"torchvision {torchvision.__version__} ({url})")


@dataclass(frozen=True)
class WeightLayout:
    """How a backbone's ImageNet release file is laid out and read.

    Files are unwrapped the same way for every backbone (a ``state_dict`` entry is opened and every
    ``module.`` component that DataParallel inserted is dropped); then ``rename`` maps each
    release name to the backbone module's name.

    Attributes:
        source: the kind recorded in checkpoints (``imported:<source>:<sha256>``).
        signature: release names that identify the layout (all present after unwrapping; also, under
            ``realnet.``, in the published ReAlnet files of this backbone).
        description: what the file is, for messages.
        rename: release name → module name; None: the names are the module's.
    """

    source: str
    signature: tuple[str, ...]
    description: str
    rename: Callable[[str], str] | None = None

    def module_names(self, state: dict) -> dict:
        """``state`` with its keys renamed to the backbone module's names."""
        if self.rename is None:
            return dict(state)
        return {self.rename(k): v for k, v in state.items()}


@dataclass(frozen=True)
class BackboneSpec:
    """What the rest of the package needs to know about a backbone.

    Attributes:
        name: ``'cornet_s'``, ``'resnet18'``, ...
        label: the name people use (``'CORnet-S'``).
        builder: returns a fresh, randomly initialised backbone with ``forward_taps``.
        taps: dotted module names of the four tapped layers, in region order V1, V2, V4, IT.
        penultimate: dotted name of the pooled 512-d layer (the behavioural readout).
        logits: dotted name of the 1000-way ImageNet layer.
        imagenet: the layout of its ImageNet release file.
        releases: the published ImageNet release files (:class:`ReleaseFile`, or
            :class:`TorchvisionRelease` read from torchvision).
        base_identifier: the paper's Brain-Score identifier of the unaligned backbone, if any.
    """

    name: str
    label: str
    builder: Callable[[], "nn.Module"]
    taps: tuple[str, ...]
    penultimate: str
    logits: str
    imagenet: WeightLayout
    releases: tuple[ReleaseFile | TorchvisionRelease, ...]
    base_identifier: str | None = None

    @property
    def region_layer_map(self) -> dict[str, str]:
        """Brain-Score region → layer name, e.g. ``{'V1': 'V1', ...}`` or ``{'V1': 'layer1', ...}``."""
        return dict(zip(REGIONS, self.taps))

    def release_files(self) -> tuple[ReleaseFile, ...]:
        """The release files with their digests (torchvision entries read from the installed torchvision)."""
        return tuple(r.resolve() for r in self.releases)


def _cornet_s() -> "nn.Module":
    from realnet_plugins.architectures.cornet_s import CORnetS

    return CORnetS()


def _resnet18() -> "nn.Module":
    from realnet_plugins.architectures.resnet import ResNet18

    return ResNet18()


#: Every backbone. The CORnet-S digest is the sha256 prefix in the DiCarlo lab's file name: the
#: CORnet code loads it with ``torch.utils.model_zoo.load_url``, which in the PyTorch of its
#: release (0.4) checked that prefix on every download. Brain-Score's own copy of the same
#: checkpoint (``cornet_s_epoch43.pth.tar``) is listed with the sha1 Brain-Score records for it.
BACKBONES: dict[str, BackboneSpec] = {b.name: b for b in (
    BackboneSpec(
        "cornet_s", "CORnet-S", _cornet_s, ("V1", "V2", "V4", "IT"), "decoder.avgpool", "decoder.linear",
        imagenet=WeightLayout("imagenet-cornet-s", ("V1.conv1.weight", "decoder.linear.weight"),
                              "the DiCarlo lab's CORnet-S ImageNet release (V1.conv1.weight ... "
                              "decoder.linear.weight)"),
        releases=(
            ReleaseFile("cornet_s-1d3f7974.pth", "sha256", "1d3f7974",
                        "DiCarlo lab (https://s3.amazonaws.com/cornet-models/cornet_s-1d3f7974.pth)"),
            ReleaseFile("cornet_s_epoch43.pth.tar", "sha1", "a4bfd8eda33b45fd945da1b972ab0b7cad38d60f",
                        "Brain-Score (brainscore-storage/brainscore-vision/models/cornet_s/)"),
        ),
        base_identifier="realnet_base_cornet_s",
    ),
    BackboneSpec(
        "resnet18", "ResNet18", _resnet18, ("layer1", "layer2", "layer3", "layer4"), "avgpool", "fc",
        imagenet=WeightLayout("torchvision-resnet18", ("conv1.weight", "layer1.0.conv1.weight", "fc.weight"),
                              "torchvision's ResNet18 (conv1.weight, layer1.0.conv1.weight, fc.weight)"),
        releases=(TorchvisionRelease("ResNet18_Weights.IMAGENET1K_V1"),),
        base_identifier="realnet_base_resnet18",
    ),
)}


def backbone_spec(name: str) -> BackboneSpec:
    """The :class:`BackboneSpec` for ``name``; a clear ``ValueError`` lists the valid names."""
    try:
        return BACKBONES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown backbone {name!r}; expected one of {sorted(BACKBONES)}") from None
