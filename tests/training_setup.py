"""The tiny training setup shared by the loop and run tests: a fixture release and configurations."""
from __future__ import annotations

from pathlib import Path

from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
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
