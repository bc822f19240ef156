"""Packaged data as BrainIO netCDF files, for the data plugins of a Brain-Score submission.

``realnet submission --benchmarks`` (:mod:`realnet_plugins.submission.benchmarks`) turns the
current packages into the files the Brain-Score team uploads to its storage. They are written
with brainscore_core's own writer (``write_netcdf``), so upstream's ``load_assembly_from_s3``
reads them back unchanged; each writer returns the file's sha1, which upstream's loader checks.

An RDM file holds one subject's target RDMs of one selection as a ``DataAssembly`` with dims
:data:`RDM_DIMS`:

``rdm``
    coords ``rdm_trials`` (``'all'``: every trial; ``'half_1'``, ``'half_2'``: the split halves
    of the single-subject ceiling, when the package has them) and ``rdm_number`` (0, 1, 2);
``target``
    coords ``<target dim>`` (``time_ms``: EEG sample times in ms; ``roi``: fMRI ROI names) and
    ``target_number``;
``presentation`` and ``presentation_column``
    the rows and columns, coords ``stimulus_id`` / ``row_number`` and ``column_stimulus_id`` /
    ``column_number``.

Two coords per dim keep each dim a named MultiIndex (BrainIO renames a dim's only coord to the
dim's name). Attributes say what the dissimilarity is, whose RDMs these are, and where they come from.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import xarray as xr
from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly, NeuroidAssembly
from brainscore_core.supported_data_standards.brainio.packaging import write_netcdf

from realnet_plugins.storage import atomic_path

RDM_DIMS: tuple[str, ...] = ("rdm", "target", "presentation", "presentation_column")


def rdm_assembly(rdms: np.ndarray, *, rdm_trials: Sequence[str], target_dim: str, targets: Sequence[Any],
                 stimulus_ids: Sequence[str], attrs: Mapping[str, Any]) -> DataAssembly:
    """One subject's target RDMs as a BrainIO ``DataAssembly`` (module docstring).

    Args:
        rdms: float (n_rdms, n_targets, n, n): the RDM of every trial, then the split halves if any.
        rdm_trials: n_rdms names (``'all'``, ``'half_1'``, ``'half_2'``).
        target_dim: the target coordinate's name (``'time_ms'``, ``'roi'``).
        targets: n_targets coordinate values.
        stimulus_ids: n ids of the rows and columns.
        attrs: netCDF attributes (str, numbers or lists of them).
    """
    n_rdms, n_targets, n = np.shape(rdms)[:3]
    return DataAssembly(
        np.asarray(rdms), dims=RDM_DIMS,
        coords={
            "rdm_trials": ("rdm", list(rdm_trials)), "rdm_number": ("rdm", np.arange(n_rdms)),
            target_dim: ("target", list(targets)), "target_number": ("target", np.arange(n_targets)),
            "stimulus_id": ("presentation", [str(s) for s in stimulus_ids]),
            "row_number": ("presentation", np.arange(n)),
            "column_stimulus_id": ("presentation_column", [str(s) for s in stimulus_ids]),
            "column_number": ("presentation_column", np.arange(n)),
        },
        attrs=dict(attrs),
    )


def neuroid_assembly(data: xr.DataArray, stimulus_set_identifier: str) -> NeuroidAssembly:
    """Measured responses (``presentation × neuroid``) as a ``NeuroidAssembly`` referring to its stimulus set."""
    assembly = NeuroidAssembly(data)
    assembly.attrs["stimulus_set_identifier"] = stimulus_set_identifier
    return assembly


def write_assembly(assembly: DataAssembly, path: str | Path) -> str:
    """Write ``assembly`` with brainscore_core's ``write_netcdf`` (zlib-compressed), atomically; return its sha1."""
    with atomic_path(path) as temporary:
        sha1 = write_netcdf(assembly, temporary)
    return sha1


def benchmark_ceiling(descriptor: Any, package: Any) -> float:
    """The summary ceiling this package's benchmark computes from ``package`` (NaN when undefined)."""
    from realnet_plugins.brainscore_bridge.benchmarks import RDMBenchmark

    return float(RDMBenchmark(descriptor, package=package).ceiling)
