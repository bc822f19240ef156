"""CORnet-S / ResNet18 / ReAlnet architecture: names, shapes, one pass, equivalence with the original formulation;
the backbone registry."""
from __future__ import annotations

import argparse
import dataclasses

import pytest
import torch
import torch.nn.functional as F

from realnet_plugins.architectures import CORnetS, ReAlnet, ResNet18, tap_shapes
from realnet_plugins.architectures.cornet_s import CORblockS
from realnet_plugins.backbones import BACKBONES, ReleaseFile, WeightLayout
from realnet_plugins.importers import detect_source
from realnet_plugins.training.cli import configure

# A sample of the public CORnet-S release's parameter names (module. prefix removed).
RELEASE_KEYS = [
    "V1.conv1.weight", "V1.norm1.weight", "V1.norm1.running_var", "V1.conv2.weight", "V1.norm2.bias",
    "V2.conv_input.weight", "V2.skip.weight", "V2.norm_skip.weight", "V2.conv1.weight", "V2.conv2.weight",
    "V2.conv3.weight", "V2.norm1_0.weight", "V2.norm1_1.weight", "V2.norm3_1.running_mean",
    "V4.norm2_3.weight", "IT.norm3_1.bias", "decoder.linear.weight", "decoder.linear.bias",
]


def test_cornet_s_parameter_names_match_the_public_release():
    keys = set(CORnetS().state_dict())
    assert set(RELEASE_KEYS) <= keys
    assert not any(k.startswith("V4.norm1_4") for k in keys), "V4 has exactly 4 time steps"
    assert sum(1 for k in keys if k.startswith("V4.norm1_") and k.endswith(".weight")) == 4


def test_resnet18_state_dict_equals_torchvision():
    from torchvision.models import resnet18

    ours = ResNet18().state_dict()
    theirs = resnet18(weights=None).state_dict()
    assert {k: tuple(v.shape) for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


@pytest.mark.parametrize("size,expected", [(224, [200704, 100352, 50176, 25088]), (64, [16384, 8192, 4096, 2048])])
def test_head_input_sizes_follow_the_image_size(size, expected):
    model = ReAlnet("cornet_s", image_size=size)
    assert model.eeg_head.tap_features == expected


def _reference_corblock_forward(block: CORblockS, inp: torch.Tensor) -> torch.Tensor:
    """The original CORnet-S formulation, which sets conv2.stride per time step."""
    x = block.conv_input(inp)
    for t in range(block.times):
        if t == 0:
            skip = block.norm_skip(block.skip(x))
            block.conv2.stride = (2, 2)
        else:
            skip = x
            block.conv2.stride = (1, 1)
        x2 = F.relu(getattr(block, f"norm1_{t}")(block.conv1(x)))
        x2 = F.relu(getattr(block, f"norm2_{t}")(block.conv2(x2)))
        x2 = getattr(block, f"norm3_{t}")(block.conv3(x2))
        x = F.relu(x2 + skip)
    block.conv2.stride = (2, 2)
    return x


def test_corblock_matches_the_original_stride_mutating_formulation():
    torch.manual_seed(0)
    block = CORblockS(8, 16, times=3).eval()
    x = torch.randn(2, 8, 12, 12)
    torch.testing.assert_close(block(x), _reference_corblock_forward(block, x))


@pytest.mark.parametrize("backbone", ["cornet_s", "resnet18"])
def test_one_forward_gives_logits_taps_and_eeg_consistent_with_backbone(backbone):
    torch.manual_seed(0)
    model = ReAlnet(backbone, image_size=32).eval()
    x = torch.randn(3, 3, 32, 32)
    out = model(x)
    assert out.logits.shape == (3, 1000)
    assert out.eeg.shape == (3, 340)
    assert [tuple(t.shape[1:]) for t in out.taps] == tap_shapes(model.backbone, 32)
    torch.testing.assert_close(out.logits, model.backbone(x))


def test_one_backbone_pass_per_forward():
    model = ReAlnet("cornet_s", image_size=32)
    calls = []
    model.backbone.V1.register_forward_hook(lambda *a: calls.append(1))
    model(torch.randn(2, 3, 32, 32))
    assert len(calls) == 1


def test_no_head_for_baselines():
    model = ReAlnet("resnet18", image_size=32, eeg_head=False)
    assert model.eeg_head is None
    assert model(torch.randn(2, 3, 32, 32)).eeg is None
    assert not any(k.startswith("eeg_head") for k in model.state_dict())


def test_unknown_backbone_lists_valid_names():
    with pytest.raises(ValueError, match="cornet_s"):
        ReAlnet("alexnet")


@pytest.mark.parametrize("name", list(BACKBONES))
def test_registry_taps_are_the_modules_the_backbone_taps(name):
    spec = BACKBONES[name]
    backbone = spec.builder()
    assert tuple(spec.taps) == tuple(backbone.taps)
    modules = dict(backbone.named_modules())
    assert {spec.penultimate, spec.logits, *spec.taps} <= set(modules)
    assert modules[spec.logits].out_features == 1000


def test_a_new_backbone_is_one_registry_entry(monkeypatch, tmp_path):
    """Registering a backbone makes the model, the importer, the release check and the CLI accept it."""
    def wide():
        from torchvision.models.resnet import BasicBlock

        net = ResNet18()
        net.layer1.add_module("2", BasicBlock(64, 64))
        return net

    spec = dataclasses.replace(BACKBONES["resnet18"], name="resnet18_wide", label="ResNet18-wide", builder=wide,
                               imagenet=WeightLayout("imagenet-resnet18-wide", ("layer1.2.conv1.weight",), "wide"),
                               releases=(ReleaseFile("wide-00000000.pth", "sha256", "00000000", "nowhere"),),
                               base_identifier=None)
    monkeypatch.setitem(BACKBONES, "resnet18_wide", spec)
    model = ReAlnet("resnet18_wide", image_size=32).eval()
    assert "backbone.layer1.2.conv1.weight" in model.state_dict()
    assert model(torch.randn(1, 3, 32, 32)).eeg.shape == (1, 340)
    state = {k[len("backbone."):]: v for k, v in model.state_dict().items() if k.startswith("backbone.")}
    assert detect_source(state) == ("imagenet-resnet18-wide", "resnet18_wide")
    assert detect_source(ResNet18().state_dict()) == ("torchvision-resnet18", "resnet18")  # the narrower one still
    parser = argparse.ArgumentParser()
    configure(parser, "train")
    assert parser.parse_args(["--release", str(tmp_path), "--backbone", "resnet18_wide"]).backbone == "resnet18_wide"
