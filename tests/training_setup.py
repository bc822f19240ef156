"""The tiny training setup shared by the training tests: a fixture release, configurations, run logs, and a
registered stand-in for an ImageNet release file."""
from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from realnet_plugins.backbones import BACKBONES, ReleaseFile
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.fixtures.weights import random_realnet, write_torchvision_resnet18_file
from realnet_plugins.paths import realnet_home
from realnet_plugins.training.loop import TrainConfig


def tiny_release(folder: Path) -> Path:
    """16 training pairs per subject: with batch 5 an epoch is 3 steps (5, 5, 6: a remainder of one
    joins the last batch)."""
    return write_things_eeg2_release(folder, n_subjects=2, n_train_concepts=8, images_per_concept=2,
                                     n_test_images=6, image_size=32)


def tiny_config(release: Path, **changes) -> TrainConfig:
    """A 3-epoch ResNet18 run at 32 px on ``release`` (subject 1), with ``changes`` applied."""
    settings = dict(release=release, subject=1, backbone="resnet18", image_size=32, epochs=3, batch_size=5, lr=1e-3,
                    log_every=2)
    settings.update(changes)
    return TrainConfig(**settings)


def run_log(name: str) -> list[dict]:
    """The records of ``$REALNET_HOME/runs/<name>/log.jsonl``, in order."""
    return [json.loads(line) for line in (realnet_home() / "runs" / name / "log.jsonl").read_text().splitlines()]


def register_resnet18_release(folder: Path, monkeypatch: pytest.MonkeyPatch, seed: int = 7) -> Path:
    """A random ResNet18 file named ``resnet18-<sha256[:8]>.pth``, registered as the backbone's only release.

    Stands in for torchvision's release (which tests cannot download) so that verified imports and
    on-recipe runs can be exercised; returns the file.
    """
    staged = write_torchvision_resnet18_file(folder / "staged.pth", random_realnet("resnet18", 32, False, seed))
    digest = hashlib.sha256(staged.read_bytes()).hexdigest()
    path = staged.rename(folder / f"resnet18-{digest[:8]}.pth")
    release = ReleaseFile(path.name, "sha256", digest[:8], "a test release")
    monkeypatch.setitem(BACKBONES, "resnet18", dataclasses.replace(BACKBONES["resnet18"], releases=(release,)))
    return path
