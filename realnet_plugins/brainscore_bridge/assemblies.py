"""Packaged data as Brain-Score ``NeuroidAssembly`` and ``StimulusSet`` objects, for any dataset.

The data plugins (``data/realnet_*``) call :func:`load_assembly` and :func:`load_stimulus_set`
with a dataset name and the selection of one registered id (``subject=1``, ``image_set='shape'``);
the benchmarks call :func:`stimulus_set_for`. Everything is read from the dataset's current package
under ``$REALNET_HOME`` (made by ``realnet package ...``); a missing package raises an error that
names the command.

Stimulus sets point at the user's image files (never copied). A set built at run time is named
after the registered set it derives from, ``<registered id>--<package fingerprint>`` (Brain-Score's
cache contract, ``benchmark_helpers/cache_contract.py``): its activation cache then resolves the
registered plugin and keeps two packagings apart.
"""
from __future__ import annotations

from typing import Any

import pandas as pd
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

from realnet_plugins.datasets import dataset_descriptor
from realnet_plugins.datasets.targets import Stimuli

_STIMULUS_TABLE_COLUMNS_DROPPED = ("image_path", "sha256")


def stimulus_set_from_table(table: pd.DataFrame, identifier: str) -> StimulusSet:
    """A ``StimulusSet`` from a packaged stimulus table (columns stimulus_id, image_path, ...).

    The ``image_path`` and ``sha256`` columns become ``stimulus_paths`` (stimulus_id → Path); the
    other columns are kept as metadata.
    """
    dropped = [column for column in _STIMULUS_TABLE_COLUMNS_DROPPED if column in table.columns]
    stimulus_set = StimulusSet(table.drop(columns=dropped).reset_index(drop=True))
    stimulus_set.stimulus_paths = dict(zip(table["stimulus_id"], table["image_path"]))
    stimulus_set.identifier = identifier
    return stimulus_set


def stimulus_set_for(stimuli: Stimuli, fingerprint: str) -> StimulusSet:
    """The ``StimulusSet`` of packaged stimuli, named ``<registered id>--<fingerprint>``."""
    return stimulus_set_from_table(stimuli.table, f"{stimuli.identifier}--{fingerprint}")


def load_stimulus_set(dataset: str, **selection: Any) -> StimulusSet:
    """The images of ``selection`` in ``dataset``'s current package (files verified by sha256).

    Args:
        dataset: a dataset name (``'things_eeg2'``, ``'shen2019'``).
        **selection: what the package's ``stimuli`` takes (e.g. ``image_set='letter'``).
    """
    package = dataset_descriptor(dataset).package()
    return stimulus_set_for(package.stimuli(**selection), package.fingerprint)


def load_assembly(dataset: str, **selection: Any) -> NeuroidAssembly:
    """The measured responses of ``selection`` in ``dataset``'s current package.

    Returns:
        ``NeuroidAssembly`` (THINGS-EEG2: presentation × neuroid × time_bin, one subject's single
        trials; Shen 2019: presentation × neuroid, every subject's and ROI's voxels side by side);
        ``attrs['stimulus_set']`` holds its images, ``attrs['stimulus_set_identifier']`` their
        registered id.
    """
    package = dataset_descriptor(dataset).package()
    stimuli = package.stimuli(**selection)
    assembly = NeuroidAssembly(package.data_assembly(**selection))
    assembly.attrs["stimulus_set_identifier"] = stimuli.identifier
    assembly.attrs["stimulus_set"] = stimulus_set_for(stimuli, package.fingerprint)
    return assembly
