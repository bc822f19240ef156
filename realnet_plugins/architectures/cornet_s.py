"""CORnet-S (Kubilius et al. 2019), written here with the public release's parameter names.

Parameter names are those of the DiCarlo lab's ``cornet_s-1d3f7974.pth`` once its ``module.``
prefix is removed (``V1.conv1.weight``, ``V2.conv_input.weight``, ``V2.norm1_0.weight``, ...,
``decoder.linear.weight``), so that release and the published ReAlnet files load without renaming.

Unlike the original code, the recurrent block never mutates ``conv2.stride`` during the forward
pass: the stride is an argument of a functional convolution. The maths is the same, and the module
stays safe to trace, compile and capture in CUDA graphs.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

#: Tapped regions, in processing order.
CORNET_S_TAPS: tuple[str, ...] = ("V1", "V2", "V4", "IT")


class Flatten(nn.Module):
    """(N, C, 1, 1) → (N, C)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class CORblockS(nn.Module):
    """One recurrent CORnet-S area: 1×1 input conv, then ``times`` bottleneck steps.

    Step t: 1×1 conv (×4 channels) → BN_t → ReLU → 3×3 conv (stride 2 on step 0, else 1, weights
    shared across steps) → BN_t → ReLU → 1×1 conv → BN_t, plus a skip (1×1 stride-2 conv + BN on
    step 0, identity after), ReLU. Input (N, C_in, H, W) → output (N, C_out, ⌈H/2⌉, ⌈W/2⌉).
    """

    scale = 4

    def __init__(self, in_channels: int, out_channels: int, times: int) -> None:
        super().__init__()
        self.times = times
        wide = out_channels * self.scale
        self.conv_input = nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)
        self.skip = nn.Conv2d(out_channels, out_channels, kernel_size=1, stride=2, bias=False)
        self.norm_skip = nn.BatchNorm2d(out_channels)
        self.conv1 = nn.Conv2d(out_channels, wide, kernel_size=1, bias=False)
        self.nonlin1 = nn.ReLU()
        self.conv2 = nn.Conv2d(wide, wide, kernel_size=3, stride=2, padding=1, bias=False)
        self.nonlin2 = nn.ReLU()
        self.conv3 = nn.Conv2d(wide, out_channels, kernel_size=1, bias=False)
        self.nonlin3 = nn.ReLU()
        self.output = nn.Identity()
        for t in range(times):
            setattr(self, f"norm1_{t}", nn.BatchNorm2d(wide))
            setattr(self, f"norm2_{t}", nn.BatchNorm2d(wide))
            setattr(self, f"norm3_{t}", nn.BatchNorm2d(out_channels))

    def forward(self, inp: torch.Tensor) -> torch.Tensor:
        x = self.conv_input(inp)
        for t in range(self.times):
            skip = self.norm_skip(self.skip(x)) if t == 0 else x
            y = self.nonlin1(getattr(self, f"norm1_{t}")(self.conv1(x)))
            y = F.conv2d(y, self.conv2.weight, stride=2 if t == 0 else 1, padding=1)
            y = self.nonlin2(getattr(self, f"norm2_{t}")(y))
            y = getattr(self, f"norm3_{t}")(self.conv3(y))
            x = self.nonlin3(y + skip)
        return self.output(x)


class CORnetS(nn.Sequential):
    """CORnet-S: V1 → V2 → V4 → IT → decoder (avgpool → flatten → Linear(512, 1000)).

    ``forward`` maps images (N, 3, H, W) to ImageNet logits (N, 1000); :meth:`forward_taps` also
    returns the four area outputs. At 224 px the areas give (64, 56, 56), (128, 28, 28),
    (256, 14, 14) and (512, 7, 7).
    """

    taps = CORNET_S_TAPS

    def __init__(self, num_classes: int = 1000) -> None:
        v1 = nn.Sequential(OrderedDict([
            ("conv1", nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)),
            ("norm1", nn.BatchNorm2d(64)),
            ("nonlin1", nn.ReLU()),
            ("pool", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
            ("conv2", nn.Conv2d(64, 64, kernel_size=3, stride=1, padding=1, bias=False)),
            ("norm2", nn.BatchNorm2d(64)),
            ("nonlin2", nn.ReLU()),
            ("output", nn.Identity()),
        ]))
        decoder = nn.Sequential(OrderedDict([
            ("avgpool", nn.AdaptiveAvgPool2d(1)),
            ("flatten", Flatten()),
            ("linear", nn.Linear(512, num_classes)),
            ("output", nn.Identity()),
        ]))
        super().__init__(OrderedDict([
            ("V1", v1),
            ("V2", CORblockS(64, 128, times=2)),
            ("V4", CORblockS(128, 256, times=4)),
            ("IT", CORblockS(256, 512, times=2)),
            ("decoder", decoder),
        ]))
        _init_weights(self)

    def forward_taps(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One pass: (logits (N, 1000), [V1, V2, V4, IT] outputs, each (N, C, h, w))."""
        taps = []
        for name in CORNET_S_TAPS:
            x = getattr(self, name)(x)
            taps.append(x)
        return self.decoder(x), taps


def _init_weights(model: nn.Module) -> None:
    """The release's initialisation: Xavier-uniform convs and linears, BN weight 1 / bias 0."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
