"""Packaged THINGS-EEG2 and Shen 2019 data as Brain-Score ``NeuroidAssembly`` and ``StimulusSet`` objects.

The data plugins ``data/realnet_things_eeg2`` and ``data/realnet_shen2019`` and the benchmarks call
these. Everything is read from the current packages under ``$REALNET_HOME`` (made by
``realnet package ...``); a missing package raises an error that names the command.

Stimulus sets point at the user's image files (never copied) and carry an ``identifier`` that
includes the package fingerprint, so Brain-Score's activation cache cannot mix two packagings.
"""
from __future__ import annotations

import pandas as pd
import xarray as xr
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

from realnet_plugins.datasets.shen2019.packaging import Shen2019Package
from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package

#: Registry id of the THINGS-EEG2 test images.
THINGS_EEG2_STIMULUS_SET = "ThingsEEG2.test"
#: Registry id prefix of the Shen image sets (``Shen2019.natural`` ...).
SHEN2019_PREFIX = "Shen2019"

_STIMULUS_TABLE_COLUMNS_DROPPED = ("image_path", "sha256")


def stimulus_set_from_table(table: pd.DataFrame, identifier: str) -> StimulusSet:
    """A ``StimulusSet`` from a packaged stimulus table (columns stimulus_id, image_path, ...).

    The ``image_path`` and ``sha256`` columns become ``stimulus_paths`` (stimulus_id → Path); the
    other columns are kept as metadata.
    """
    stimulus_set = StimulusSet(table.drop(columns=list(_STIMULUS_TABLE_COLUMNS_DROPPED)).reset_index(drop=True))
    stimulus_set.stimulus_paths = dict(zip(table["stimulus_id"], table["image_path"]))
    stimulus_set.identifier = identifier
    return stimulus_set


def things_eeg2_stimulus_set(package: ThingsEEG2Package | None = None) -> StimulusSet:
    """The THINGS-EEG2 test images of the current package (image files verified by sha256)."""
    package = package or ThingsEEG2Package()
    return stimulus_set_from_table(package.stimulus_table(), f"{THINGS_EEG2_STIMULUS_SET}.{package.fingerprint}")


def things_eeg2_assembly(subject: int | str, package: ThingsEEG2Package | None = None) -> NeuroidAssembly:
    """One subject's single-trial test EEG: ``NeuroidAssembly`` presentation × neuroid × time_bin.

    ``attrs['stimulus_set']`` holds the test images, ``attrs['stimulus_set_identifier']`` their id.
    """
    package = package or ThingsEEG2Package()
    assembly = NeuroidAssembly(package.assembly(subject))
    assembly.attrs["stimulus_set_identifier"] = THINGS_EEG2_STIMULUS_SET
    assembly.attrs["stimulus_set"] = things_eeg2_stimulus_set(package)
    return assembly


def shen2019_stimulus_set(image_set: str, package: Shen2019Package | None = None) -> StimulusSet:
    """The images of one Shen 2019 image set (``'natural'``, ``'shape'`` or ``'letter'``)."""
    package = package or Shen2019Package()
    return stimulus_set_from_table(package.stimulus_table(image_set),
                                   f"{SHEN2019_PREFIX}.{image_set}.{package.fingerprint}")


def shen2019_assembly(image_set: str, package: Shen2019Package | None = None) -> NeuroidAssembly:
    """Every subject's and ROI's repetition-averaged responses to one image set.

    Returns:
        ``NeuroidAssembly`` presentation (image) × neuroid, the neuroids of all subjects and ROIs
        side by side (coords ``subject``, ``roi``, ``voxel``, ``neuroid_id``). ROIs overlap (e.g.
        VC contains V1), so select one ROI with ``assembly.sel(roi='V1')`` style indexing.
    """
    package = package or Shen2019Package()
    parts = [package.assembly(subject, image_set, roi)
             for subject in package.subjects for roi in package.rois(subject, image_set)]
    combined = xr.concat(parts, dim="neuroid", combine_attrs="drop")
    assembly = NeuroidAssembly(combined)
    assembly.attrs["stimulus_set_identifier"] = f"{SHEN2019_PREFIX}.{image_set}"
    assembly.attrs["stimulus_set"] = shen2019_stimulus_set(image_set, package)
    return assembly
