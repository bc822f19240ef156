"""Training ReAlnets (SPEC.md: Data for alignment, Objective, Variants), installed as realnet_plugins.training.

* :mod:`.objective`: L = L_C + β (L_MSE + L_Cont), vectorised, with gradient.
* :mod:`realnet_plugins.variants` (the variant registry): β, loss terms and EEG manipulations of each variant.
* :mod:`.data`: a run's images, EEG targets, pseudo-labels and held-out sets.
* :mod:`.step`: the training step for one model or K models in lock-step.
* :mod:`.loop`: :class:`TrainConfig`, :func:`train`, :func:`train_many` (lock-step), :func:`train_parallel`
  (worker processes): resumable runs, checkpoints.
* :mod:`.metrics`: held-out EEG-generation metrics.
* :mod:`.cli`: the ``realnet train`` and ``realnet sweep`` commands.

The names below are imported from their modules on first use, so that importing
:mod:`realnet_plugins.training.cli` (for ``realnet train --help``) does not import torch.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from realnet_plugins.training.loop import (
        CheckpointExistsError,
        ResumeMismatchError,
        RunsFailedError,
        StepInfo,
        TrainConfig,
        default_checkpoint_path,
        train,
        train_many,
        train_parallel,
    )
    from realnet_plugins.training.metrics import eeg_generation_metrics
    from realnet_plugins.training.objective import (
        LossParts,
        Objective,
        contrastive_loss,
        loss_parts,
        pearson_matrix,
    )

#: exported name → the submodule that defines it
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("CheckpointExistsError", "ResumeMismatchError", "RunsFailedError", "StepInfo", "TrainConfig",
                     "default_checkpoint_path", "train", "train_many", "train_parallel"), "loop"),
    "eeg_generation_metrics": "metrics",
    **dict.fromkeys(("LossParts", "Objective", "contrastive_loss", "loss_parts", "pearson_matrix"), "objective"),
}

__all__ = [
    "CheckpointExistsError", "LossParts", "Objective", "ResumeMismatchError", "RunsFailedError", "StepInfo",
    "TrainConfig", "contrastive_loss", "default_checkpoint_path", "eeg_generation_metrics", "loss_parts",
    "pearson_matrix", "train", "train_many", "train_parallel",
]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
