"""Facts of the THINGS-EEG2 release and of the ReAlnet EEG head (see shared FORMATS.md, SPEC.md)."""
from __future__ import annotations

import numpy as np

#: The 17 occipital/parietal channels of the preprocessed release, in the release's file order.
#: The EEG head's 340 outputs are channel-major in this order: index = c * 20 + t.
EEG_CHANNELS: tuple[str, ...] = (
    "Pz", "P3", "P7", "O1", "Oz", "O2", "P4", "P8", "P1",
    "P5", "PO7", "PO3", "POz", "PO4", "PO8", "P6", "P2",
)
#: Samples of the 0-200 ms window at 100 Hz (t = 0, 10, ..., 190 ms).
N_EEG_TIMES: int = 20
N_EEG_CHANNELS: int = len(EEG_CHANNELS)
N_EEG_OUTPUTS: int = N_EEG_CHANNELS * N_EEG_TIMES  # 340
#: Times of the head's outputs in seconds, shape (20,).
EEG_TIMES_S: np.ndarray = np.arange(N_EEG_TIMES) / 100.0

#: Release time axis: 100 samples, i/100 - 0.2 s.
RELEASE_TIMES_S: np.ndarray = np.arange(100) / 100.0 - 0.2

#: ImageNet preprocessing used by both backbones.
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
DEFAULT_IMAGE_SIZE: int = 224

#: THINGS-EEG2 subjects.
SUBJECTS: tuple[int, ...] = tuple(range(1, 11))

#: Brain-Score regions the models commit and the RSA benchmarks record, in the order of the backbone
#: taps and the EEG head's slots.
REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT")
