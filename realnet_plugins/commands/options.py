"""Choices and defaults that the verbs' options show in ``--help``, importable without torch or numpy.

``realnet --help`` and ``realnet VERB --help`` must answer at once, so a verb's ``configure`` may not
import the modules that own these values (they import torch, numpy or xarray). The values are
restated here; ``tests/test_cli_contract.py`` checks that each equals its owner's.
"""
from __future__ import annotations

#: EEG z-scoring modes (owner: ``realnet_plugins.datasets.things_eeg2.reader.NORMALISATION_MODES``).
NORMALISATION_MODES: tuple[str, ...] = ("scalar", "feature")
#: Model selection rules (owner: ``realnet_plugins.training.loop.SELECTIONS``).
SELECTIONS: tuple[str, ...] = ("last", "validation")
#: torch.compile modes (owner: ``realnet_plugins.training.step.COMPILE_MODES``).
COMPILE_MODES: tuple[str, ...] = ("off", "default", "reduce-overhead", "max-autotune")
#: RDM decoding back ends (owner: ``realnet_plugins.rsa.decoding.BACKENDS``).
DECODING_BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy", "torch", "triton")
#: Decoding presets of ``realnet package things-eeg2`` (owner:
#: ``realnet_plugins.datasets.things_eeg2.packaging.PRESETS``).
DECODING_PRESETS: tuple[str, ...] = ("paper", "neurora-1.x")
#: Crossnobis noise normalisations of ``realnet package things-eeg2`` (owner:
#: ``realnet_plugins.rsa.kinds.EEG_RDM_KINDS['crossnobis'].presets``).
CROSSNOBIS_NOISE: tuple[str, ...] = ("epoch", "time", "none")
#: What ``realnet score`` scores when no benchmark is named (owner:
#: ``realnet_plugins.report.scores.PAPER_NEURAL_BENCHMARKS``).
PAPER_NEURAL_BENCHMARKS: tuple[str, ...] = (
    "ThingsEEG2-temporal_rsa", "Shen2019.natural-rsa", "Shen2019.shape-rsa", "Shen2019.letter-rsa",
)
#: Defaults of the ``realnet train`` / ``realnet sweep`` options (owner: the fields of
#: ``realnet_plugins.training.loop.TrainConfig`` of the same names).
TRAIN_DEFAULTS: dict[str, object] = {
    "backbone": "cornet_s",
    "epochs": 30,
    "batch_size": 16,
    "lr": 2e-5,
    "seed": 2023,
    "image_size": 224,
    "normalisation": "scalar",
    "validation_fraction": 0.0,
    "selection": "last",
    "compile": "off",
    "log_every": 50,
    "checkpoint_every_steps": 0,
    "checkpoint_every_s": 300.0,
}
