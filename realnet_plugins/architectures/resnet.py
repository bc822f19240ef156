"""ResNet18 (torchvision's architecture and parameter names) with taps at layer1..layer4.

The taps are the outputs of torchvision's ``layer1`` … ``layer4``: the paper's ReAlnet-R "layers
5, 9, 13, 17" under an 18-layer count (conv1 = 1, two convs per basic block, fc = 18). At 224 px
they give (64, 56, 56), (128, 28, 28), (256, 14, 14) and (512, 7, 7).
"""
from __future__ import annotations

import torch
from torchvision.models.resnet import BasicBlock, ResNet

RESNET18_TAPS: tuple[str, ...] = ("layer1", "layer2", "layer3", "layer4")


class ResNet18(ResNet):
    """torchvision ResNet18; ``state_dict`` keys identical to ``resnet18-f37072fd.pth``."""

    taps = RESNET18_TAPS

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__(BasicBlock, [2, 2, 2, 2], num_classes=num_classes)

    def forward_taps(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One pass: (logits (N, 1000), [layer1..layer4] outputs, each (N, C, h, w))."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        taps = []
        for name in RESNET18_TAPS:
            x = getattr(self, name)(x)
            taps.append(x)
        logits = self.fc(torch.flatten(self.avgpool(x), 1))
        return logits, taps
