"""Architectures: CORnet-S, ResNet18 with taps, and the ReAlnet module (backbone + EEG head)."""
from realnet_plugins.architectures.cornet_s import CORblockS, CORnetS
from realnet_plugins.architectures.realnet import (
    BACKBONES,
    HEAD_SLOTS,
    REGIONS,
    BackboneSpec,
    EEGHead,
    ReAlnet,
    ReAlnetOutput,
    backbone_spec,
    tap_shapes,
)
from realnet_plugins.architectures.resnet import ResNet18

__all__ = [
    "BACKBONES", "HEAD_SLOTS", "REGIONS", "BackboneSpec", "CORblockS", "CORnetS", "EEGHead", "ReAlnet",
    "ReAlnetOutput", "ResNet18", "backbone_spec", "tap_shapes",
]
