"""``metadata.yml`` of the model plugins, with every count computed from the networks themselves.

Brain-Score reads a plugin's ``metadata.yml`` (or ``.yaml``) in one of two schemas:

* schema 2.0 (``schema_version: '2.0'``), which the installed validator prefers: per model, typed
  fields (``model``, ``training``, ``data``, ``lineage`` ...) with ``sources`` and ``assertions``
  saying where each value comes from, plus a ``legacy`` block of the older counts. It holds at most
  :data:`V2_MAX_MODELS` models per file;
* the older flat schema (``models: {id: {architecture, total_parameter_count, ...}}``), with no limit.

:func:`metadata_document` writes schema 2.0 when the models fit, else the flat schema (the
in-tree plugin registers 103 identifiers). The counts describe what Brain-Score runs, the backbone
with its readout, measured on a freshly built network with Brain-Score's own definitions (those of
``brainscore_vision.plugin_management.vision_domain_plugin``, so the numbers compare with every other
plugin's):

* parameters: ``sum(p.numel())`` over all parameters (all trainable);
* ``total_layers``: every ``torch.nn.Module`` in the network, containers included;
* ``trainable_layers``: parameter tensors with two or more dimensions, i.e. the weights of the
  convolution and linear layers (BatchNorm scales and biases are not counted);
* ``model_size_mb``: parameter bytes (float32) / 10⁶.

The EEG generation head is trained with the network but never run by Brain-Score; its parameter
count is reported separately in ``extra_notes``.
"""
from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from realnet_plugins import __version__
from realnet_plugins.constants import DEFAULT_IMAGE_SIZE
from realnet_plugins.identifiers import ModelSpec, all_identifiers, parse_identifier
from realnet_plugins.storage import atomic_write

#: Most models one schema 2.0 file may hold (``brainscore_core.metadata.contract.validate``).
V2_MAX_MODELS = 100
PAPER_URL = "https://doi.org/10.1038/s42003-026-09685-w"
PAPER_CITATION = ("Lu, Wang & Golomb (2026). Achieving more human brain-like vision via human EEG "
                  "representational alignment. Communications Biology 9:463.")
BRAINSCORE_TREE = "https://github.com/brain-score/vision/tree/master/brainscore_vision/models"


@dataclass(frozen=True)
class NetworkCounts:
    """Counts of one network, with Brain-Score's definitions (module docstring).

    Attributes:
        total_parameters: parameters of the part Brain-Score runs (backbone and readout).
        trainable_parameters: those with ``requires_grad``.
        total_layers: modules of that part, containers included.
        trainable_layers: its parameter tensors with ≥ 2 dimensions (conv and linear weights).
        size_mb: its float32 parameter bytes / 10⁶, rounded to 0.01.
        eeg_head_parameters: parameters of the EEG generation head (None without one).
    """

    total_parameters: int
    trainable_parameters: int
    total_layers: int
    trainable_layers: int
    size_mb: float
    eeg_head_parameters: int | None


@functools.lru_cache(maxsize=None)
def network_counts(backbone: str, image_size: int = DEFAULT_IMAGE_SIZE, eeg_head: bool = True) -> NetworkCounts:
    """Build the ReAlnet for ``backbone`` at ``image_size`` px and count it.

    The network is built on PyTorch's ``meta`` device (shapes without storage), so counting the
    224 px CORnet-S and its 48-million-parameter head takes no memory and no initialisation time. The
    head's input sizes follow from the taps at ``image_size`` (at 224 px its V1 slot alone has
    200704 × 128 weights); the backbone's counts do not depend on it.
    """
    import torch

    from realnet_plugins.architectures import EEGHead, ReAlnet, tap_shapes

    with torch.device("meta"):
        run = ReAlnet(backbone, image_size=image_size, eeg_head=False).backbone
        head = EEGHead([math.prod(shape) for shape in tap_shapes(run, image_size)]) if eeg_head else None
    params = list(run.parameters())
    return NetworkCounts(
        total_parameters=sum(p.numel() for p in params),
        trainable_parameters=sum(p.numel() for p in params if p.requires_grad),
        total_layers=sum(1 for _ in run.modules()),
        trainable_layers=sum(1 for p in params if p.requires_grad and p.dim() > 1),
        size_mb=round(sum(p.element_size() * p.numel() for p in params) / 1e6, 2),
        eeg_head_parameters=sum(p.numel() for p in head.parameters()) if head is not None else None,
    )


@dataclass(frozen=True)
class _Backbone:
    name: str
    family: str
    description: str
    legacy_architecture: str
    model_family: str
    recurrent: bool
    base_model: str


_BACKBONES = {
    "cornet_s": _Backbone(
        "CORnet-S", "recurrent_convolutional_neural_network",
        "CORnet-S (Kubilius et al. 2019): areas V1, V2, V4, IT (V2-IT recurrent CORblock-S with skip "
        "connections), decoder avgpool + Linear(512, 1000)",
        "DCNN, RNN, SKIP_CONNECTIONS", "cornet", True, "CORnet-S trained on ImageNet-1k (DiCarlo lab release)"),
    "resnet18": _Backbone(
        "ResNet18", "convolutional_neural_network",
        "ResNet18 (He et al. 2016, torchvision): conv1, layer1-layer4 of basic residual blocks, avgpool + "
        "Linear(512, 1000)",
        "DCNN, SKIP_CONNECTIONS", "resnet", False, "ResNet18 trained on ImageNet-1k (torchvision release)"),
}

_EEG_LOSS = "β·(MSE + contrastive) loss of an EEG generation head predicting the subject's EEG from four layers"
_OBJECTIVES = {
    "realnet": f"cross-entropy on the pretrained network's own pseudo-labels + {_EEG_LOSS}",
    "no_contrastive": "ablation: as ReAlnet with the MSE term only in the EEG loss",
    "no_mse": "ablation: as ReAlnet with the contrastive term only in the EEG loss",
    "unpaired": "control: as ReAlnet, each image trained against another image's EEG",
    "scrambled": "control: as ReAlnet, each channel's EEG time points permuted per image",
    "beta0": "control: fine-tuned on the THINGS images with pseudo-labels only (β = 0, no EEG head)",
    "across_subject": "as ReAlnet, one model for all ten subjects' EEG pooled",
    "base": "ImageNet classification only (the unaligned backbone the ReAlnets start from)",
}


def _display_name(spec: ModelSpec) -> str:
    backbone = _BACKBONES[spec.backbone].name
    if spec.variant == "base":
        return f"{backbone} (ImageNet), unaligned baseline"
    who = f"subject {spec.subject:02d}" if spec.subject else "all subjects pooled"
    variant = "" if spec.variant == "realnet" else f" {spec.variant.replace('_', ' ')}"
    return f"ReAlnet{variant} ({backbone}), {who}, β = {spec.beta:g}"


def _training_data(spec: ModelSpec) -> str:
    if spec.variant == "base":
        return "ImageNet-1k"
    who = f"sub-{spec.subject:02d}" if spec.subject else "all 10 subjects"
    return f"ImageNet-1k; THINGS-EEG2 {who} (fine-tuning)"


def _extra_notes(counts: NetworkCounts) -> str:
    head = (f"The EEG generation head (4 × Linear(·, 128) + Linear(512, 340)) has {counts.eeg_head_parameters} "
            "parameters at this input size; Brain-Score does not run it, so it is not in these counts."
            if counts.eeg_head_parameters is not None else "This model has no EEG head.")
    return ("Counts are of the backbone with its ImageNet readout, the part Brain-Score runs: total_layers = every "
            "torch module, trainable_layers = weight tensors with 2+ dims (conv and linear), model_size_mb = float32 "
            f"parameter bytes / 1e6. {head} Computed by realnet-plugins {__version__}.")


def legacy_values(identifier: str, counts: NetworkCounts, *, brainscore_link: str | None) -> dict[str, Any]:
    """The flat-schema values of one model (schema 2.0 keeps them as its ``legacy`` block)."""
    spec = parse_identifier(identifier)
    backbone = _BACKBONES[spec.backbone]
    return {
        "architecture": backbone.legacy_architecture,
        "model_family": backbone.model_family,
        "total_parameter_count": counts.total_parameters,
        "trainable_parameter_count": counts.trainable_parameters,
        "total_layers": counts.total_layers,
        "trainable_layers": counts.trainable_layers,
        "model_size_mb": counts.size_mb,
        "training_dataset": _training_data(spec),
        "task_specialization": None,
        "brainscore_link": brainscore_link,
        "huggingface_link": None,
        "extra_notes": _extra_notes(counts),
        "runnable": True,
    }


@dataclass(frozen=True)
class ModelFacts:
    """What the metadata of one model is computed from.

    Attributes:
        identifier: Brain-Score identifier.
        image_size: input side in px (of the checkpoint; 224 for the paper's models).
        has_eeg_head: whether the checkpoint carries the EEG head.
        checkpoint: ``"<file> (sha256 <hex>)"`` when a real checkpoint is described, else None.
        source: the checkpoint's ``meta.source`` (``"trained"``, ``"imported:<kind>:<sha256>"`` ...), if any.
        package_version: the realnet-plugins version that wrote the checkpoint, if known.
    """

    identifier: str
    image_size: int = DEFAULT_IMAGE_SIZE
    has_eeg_head: bool | None = None
    checkpoint: str | None = None
    source: str | None = None
    package_version: str | None = None

    @property
    def counts(self) -> NetworkCounts:
        spec = parse_identifier(self.identifier)
        head = spec.has_eeg_head if self.has_eeg_head is None else self.has_eeg_head
        return network_counts(spec.backbone, self.image_size, head)


def _weights_provider(source: str, package_version: str | None) -> str:
    """Who made the weights, from a checkpoint's ``meta.source``."""
    version = f" {package_version}" if package_version else ""
    if source == "trained":
        return f"trained with realnet-plugins{version}"
    if source.startswith("imported:"):
        _, kind, digest = (source.split(":", 2) + ["", ""])[:3]
        return f"imported with realnet-plugins{version} from a {kind} weights file (sha256 {digest})"
    return f"realnet-plugins{version} ({source})"


def v2_entry(facts: ModelFacts, *, brainscore_link: str | None) -> dict[str, Any]:
    """One model's schema 2.0 entry: typed fields, their sources and assertions, and the legacy block."""
    spec = parse_identifier(facts.identifier)
    backbone = _BACKBONES[spec.backbone]
    counts = facts.counts
    entry: dict[str, Any] = {
        "model": {
            "display_name": _display_name(spec),
            "architecture": {"family": backbone.family, "description": backbone.description},
            "parameter_count": counts.total_parameters,
            "parameter_count_exact": True,
            "trainable_layers": str(counts.trainable_layers),
            "recurrent": backbone.recurrent,
            "input_resolution": {"channels": 3, "height": facts.image_size, "width": facts.image_size},
            "supervision": {"type": "supervised", "description": _OBJECTIVES[spec.variant]},
        },
        "training": {"objective": _OBJECTIVES[spec.variant]},
        "data": {
            "summary": _training_data(spec),
            "training_datasets": [{"identifier": "imagenet-1k", "name": "ImageNet-1k (ILSVRC-2012)",
                                   "role": "pretraining" if spec.variant != "base" else "training"}],
        },
    }
    if spec.variant != "base":
        who = f"subject {spec.subject:02d}" if spec.subject else "subjects 01-10 pooled"
        entry["data"]["training_datasets"].append(
            {"identifier": "other", "name": f"THINGS-EEG2 (Gifford et al. 2022), {who}", "role": "fine_tuning"})
        entry["lineage"] = {"base_models": [{"name": backbone.base_model, "relationship": "fine_tuned_from"}]}
    provenance = {"weights_provider": _weights_provider(facts.source, facts.package_version) if facts.source else None,
                  "checkpoint": facts.checkpoint, "source_url": brainscore_link}
    provenance = {key: value for key, value in provenance.items() if value}
    if provenance:
        entry["provenance"] = provenance
    computed = ["/model/display_name", "/model/parameter_count", "/model/parameter_count_exact",
                "/model/trainable_layers", "/model/input_resolution"] + (["/provenance"] if provenance else [])
    from_paper = ["/model/architecture", "/model/recurrent", "/model/supervision", "/training/objective", "/data"]
    if "lineage" in entry:
        from_paper.append("/lineage/base_models")
    entry["sources"] = {
        "paper": {"kind": "paper", "url": PAPER_URL, "citation": PAPER_CITATION},
        "realnet_plugins": {"kind": "other", "citation": f"Computed by realnet-plugins {__version__} from the "
                                                         "checkpoint and the network it builds."},
    }
    entry["assertions"] = ([{"path": p, "status": "verified", "sources": ["realnet_plugins"]} for p in computed]
                           + [{"path": p, "status": "verified", "sources": ["paper"]} for p in from_paper])
    entry["legacy"] = legacy_values(facts.identifier, counts, brainscore_link=brainscore_link)
    return entry


def metadata_document(models: Iterable[ModelFacts], *, plugin_name: str | None = None) -> dict[str, Any]:
    """The ``metadata.yml`` document for a model plugin folder.

    Args:
        models: the plugin's registered models, in registration order.
        plugin_name: the folder name it will have in brain-score/vision (sets ``brainscore_link``);
            None for a plugin that is not submitted (the in-tree ``models/realnet``).

    Returns:
        Schema 2.0 when at most :data:`V2_MAX_MODELS` models, else the flat schema.
    """
    models = list(models)
    link = f"{BRAINSCORE_TREE}/{plugin_name}" if plugin_name else None
    if len(models) <= V2_MAX_MODELS:
        return {"schema_version": "2.0", "domain": "vision",
                "models": {m.identifier: v2_entry(m, brainscore_link=link) for m in models}}
    return {"models": {m.identifier: legacy_values(m.identifier, m.counts, brainscore_link=link) for m in models}}


def intree_metadata_document() -> dict[str, Any]:
    """The document of the in-tree plugin ``models/realnet``: every paper identifier at 224 px."""
    return metadata_document(ModelFacts(identifier) for identifier in all_identifiers())


def write_intree_metadata(path: str | Path) -> None:
    """Regenerate ``models/realnet/metadata.yml`` (the test ``test_submission_metadata`` compares it)."""
    with atomic_write(path, "w") as f:
        f.write(to_yaml(intree_metadata_document()))


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"metadata values must be finite numbers, got {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar
    raise TypeError(f"cannot write {type(value).__name__} to metadata.yml")


def _key(key: str) -> str:
    return key if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML11_WORDS else json.dumps(key)


def _emit(value: Mapping | list, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, (Mapping, list)) and item:
                lines.append(f"{pad}{_key(key)}:")
                _emit(item, indent + 1, lines)
            else:
                empty = "{}" if isinstance(item, Mapping) else "[]" if isinstance(item, list) else None
                lines.append(f"{pad}{_key(key)}: {empty or _scalar(item)}")
        return
    for item in value:
        if isinstance(item, (Mapping, list)) and item:
            block: list[str] = []
            _emit(item, 0, block)
            lines.append(f"{pad}- {block[0]}")
            lines.extend(f"{pad}  {line}" for line in block[1:])
        else:
            lines.append(f"{pad}- {_scalar(item)}")


def to_yaml(document: Mapping[str, Any]) -> str:
    """Block-style YAML of nested dicts, lists and scalars; strings double-quoted, so nothing is re-typed."""
    lines: list[str] = []
    _emit(document, 0, lines)
    return "\n".join(lines) + "\n"
