"""Turn downloaded THINGS-EEG2 and Shen 2019 files into packaged assemblies, stimulus tables and RDMs.

``realnet package things-eeg2|shen2019 --source DIR`` calls :func:`package_things_eeg2` and
:func:`package_shen2019`; benchmarks and data plugins read the result through
:class:`ThingsEEG2Package` and :class:`Shen2019Package`. Everything is plain xarray / numpy /
netCDF / CSV (no Brain-Score needed); :mod:`realnet_plugins.brainscore_bridge.assemblies` wraps it
in Brain-Score's classes. Layout, atomicity and caching: :mod:`.store`.
"""
from .shen2019 import BENCHMARK_ROIS, IMAGE_SETS, Shen2019Package, package_shen2019
from .store import current_package_dir, dataset_dir
from .things_eeg2 import (
    PRESETS,
    PackageResult,
    ThingsEEG2Package,
    decoding_backend,
    package_things_eeg2,
    preset_settings,
)

__all__ = [
    "BENCHMARK_ROIS",
    "IMAGE_SETS",
    "PRESETS",
    "PackageResult",
    "Shen2019Package",
    "ThingsEEG2Package",
    "current_package_dir",
    "dataset_dir",
    "decoding_backend",
    "package_shen2019",
    "package_things_eeg2",
    "preset_settings",
]
