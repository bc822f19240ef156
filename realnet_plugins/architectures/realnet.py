"""The ReAlnet module: a vision backbone plus the EEG generation head (SPEC.md, Models).

One forward pass gives the ImageNet logits, the four tapped feature maps and the predicted EEG.
The head's input sizes follow from the image size, so small images work (tests use 32-64 px).
"""
from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from realnet_plugins.backbones import BACKBONES, BackboneSpec, backbone_spec
from realnet_plugins.constants import N_EEG_OUTPUTS, REGIONS

__all__ = ["BACKBONES", "HEAD_SLOTS", "REGIONS", "BackboneSpec", "EEGHead", "ReAlnet", "ReAlnetOutput", "backbone_spec",
           "tap_shapes"]

#: Head slot names, one per tapped region (:data:`REGIONS`), as in the published ReAlnet files.
HEAD_SLOTS: tuple[str, ...] = ("fc_v1", "fc_v2", "fc_v4", "fc_it")


def tap_shapes(backbone: nn.Module, image_size: int) -> list[tuple[int, ...]]:
    """Shapes (C, h, w) of the four tapped outputs for square images of ``image_size`` px.

    Runs one dry forward pass on zeros in eval mode (no statistics are updated).
    """
    was_training = backbone.training
    backbone.eval()
    try:
        param = next(backbone.parameters())
        with torch.no_grad():
            x = torch.zeros(1, 3, image_size, image_size, device=param.device, dtype=param.dtype)
            _, taps = backbone.forward_taps(x)
    finally:
        backbone.train(was_training)
    return [tuple(t.shape[1:]) for t in taps]


class EEGHead(nn.Module):
    """Flattened taps → Linear(·, 128) → ReLU each; concatenated (512) → Linear(512, 340).

    The 340 outputs are channel-major: index = channel · 20 + time (constants.EEG_CHANNELS order,
    t = 0 … 190 ms), in the units of the normalised EEG the model was trained on.
    """

    def __init__(self, tap_features: list[int], hidden: int = 128, n_outputs: int = N_EEG_OUTPUTS) -> None:
        super().__init__()
        if len(tap_features) != len(HEAD_SLOTS):
            raise ValueError(f"EEGHead needs {len(HEAD_SLOTS)} taps, got {len(tap_features)}")
        for slot, n_in in zip(HEAD_SLOTS, tap_features):
            setattr(self, slot, nn.Linear(n_in, hidden))
        self.fc = nn.Linear(hidden * len(HEAD_SLOTS), n_outputs)
        self.relu = nn.ReLU()

    @property
    def tap_features(self) -> list[int]:
        """Input size of each slot (flattened C·h·w of the tap)."""
        return [getattr(self, slot).in_features for slot in HEAD_SLOTS]

    def forward(self, taps: list[torch.Tensor]) -> torch.Tensor:
        """taps: four tensors (N, C, h, w) → predicted EEG (N, 340)."""
        hidden = [self.relu(getattr(self, slot)(t.flatten(1))) for slot, t in zip(HEAD_SLOTS, taps)]
        return self.fc(torch.cat(hidden, dim=1))


class ReAlnetOutput(NamedTuple):
    """One forward pass: logits (N, 1000); taps: four (N, C, h, w); eeg: (N, 340) or None."""

    logits: torch.Tensor
    taps: list[torch.Tensor]
    eeg: torch.Tensor | None


class ReAlnet(nn.Module):
    """Backbone + optional EEG head, with one backbone pass per forward.

    Args:
        backbone: a key of :data:`~realnet_plugins.backbones.BACKBONES` (``'cornet_s'``, ``'resnet18'``).
        image_size: side of the square input in px; sets the head's input sizes.
        eeg_head: build the EEG head (False for unaligned baselines and the β = 0 control).

    ``state_dict`` keys: ``backbone.<release names>`` and ``eeg_head.{fc_v1,fc_v2,fc_v4,fc_it,fc}.*``.
    """

    def __init__(self, backbone: str = "cornet_s", image_size: int = 224, eeg_head: bool = True) -> None:
        super().__init__()
        self.spec = backbone_spec(backbone)
        self.image_size = int(image_size)
        self.backbone = self.spec.builder()
        self.eeg_head: EEGHead | None = None
        if eeg_head:
            sizes = [int(torch.tensor(s).prod()) for s in tap_shapes(self.backbone, self.image_size)]
            self.eeg_head = EEGHead(sizes)

    @property
    def backbone_name(self) -> str:
        return self.spec.name

    def forward(self, images: torch.Tensor) -> ReAlnetOutput:
        """images (N, 3, S, S), ImageNet-normalised → :class:`ReAlnetOutput`."""
        logits, taps = self.backbone.forward_taps(images)
        eeg = self.eeg_head(taps) if self.eeg_head is not None else None
        return ReAlnetOutput(logits, taps, eeg)
