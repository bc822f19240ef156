"""What a packaged dataset hands to the benchmarks: its stimuli and its target RDMs.

A dataset whose benchmarks compare model RDMs with measured RDMs implements :class:`RDMSource`
on its package class; the bridge's generic ``RDMBenchmark`` (and a new dataset's benchmark with it)
needs nothing else. Plain numpy / pandas: no Brain-Score here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Sequence

import numpy as np

from realnet_plugins.errors import DataFormatError

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["RDMSource", "RDMTargets", "Stimuli"]


@dataclass(frozen=True)
class Stimuli:
    """The images a benchmark shows, as a table.

    Attributes:
        identifier: the registered Brain-Score stimulus-set identifier (``ThingsEEG2.test``); a
            runtime-built set is named ``<identifier>--<package fingerprint>`` (Brain-Score's cache
            contract).
        table: one row per image: ``stimulus_id``, ``image_path`` (the user's file), ``sha256`` and
            any metadata columns.
    """

    identifier: str
    table: "pd.DataFrame"

    @property
    def stimulus_ids(self) -> list[str]:
        return [str(s) for s in self.table["stimulus_id"]]


@dataclass(frozen=True)
class RDMTargets:
    """Measured RDMs that model RDMs are compared with: one per subject and target.

    A target is a time point (EEG) or a region of interest (fMRI).

    Attributes:
        rdms: float (n_subjects, n_targets, n, n) dissimilarities; rows and columns in
            ``stimuli.stimulus_ids`` order; symmetric, zero diagonal.
        subjects: the n_subjects names (``'sub-01'``).
        target_dim: the name of the target axis, ``'time_ms'`` or ``'roi'``.
        targets: the n_targets coordinates (ms as int, or ROI names).
        stimuli: the images, in RDM order.
        split_halves: float (n_subjects, 2, n_targets, n, n) RDMs of two disjoint halves of each
            subject's trials (for the split-half ceiling), or None.
        kind: what the dissimilarity is (``"decoding accuracy"``, ``"crossnobis distance"``,
            ``"1 - Pearson r"``).
    """

    rdms: np.ndarray
    subjects: list[str]
    target_dim: str
    targets: list[Any]
    stimuli: Stimuli
    split_halves: np.ndarray | None = None
    kind: str = ""

    def __post_init__(self) -> None:
        n = len(self.stimuli.table)
        expected = (len(self.subjects), len(self.targets), n, n)
        if np.shape(self.rdms) != expected:
            raise DataFormatError(f"target RDMs shaped (subjects, {self.target_dim}, images, images) = {expected} "
                                  f"expected; found {np.shape(self.rdms)}")
        if self.split_halves is not None and np.shape(self.split_halves) != (expected[0], 2) + expected[1:]:
            raise DataFormatError(f"split-half RDMs shaped {(expected[0], 2) + expected[1:]} expected; found "
                                  f"{np.shape(self.split_halves)}")

    @property
    def n_images(self) -> int:
        return int(np.shape(self.rdms)[-1])


class RDMSource(Protocol):
    """A package whose data can be compared with model RDMs (see the module docstring)."""

    @property
    def fingerprint(self) -> str:
        """The package's fingerprint (a digest of every input and setting)."""

    def rdm_targets(self, **selection: Any) -> RDMTargets:
        """The target RDMs that ``selection`` (a benchmark descriptor's ``selection``) names."""

    def stimuli(self, **selection: Any) -> Stimuli:
        """The images of ``selection`` (verified: present and unchanged)."""

    def data_assembly(self, **selection: Any) -> "xr.DataArray":
        """The measured responses of ``selection`` as a plain xarray assembly (the data plugin's)."""


def check_stimulus_ids(ids: Sequence[str], expected: Sequence[str], where: str, package_command: str) -> None:
    """Refuse RDMs stored with another image order than the package's stimulus table."""
    if list(ids) != list(expected):
        raise DataFormatError(
            f"{where}: the stored RDMs list other stimulus ids than the package's stimulus table; the package is "
            f"damaged: run `{package_command}` again"
        )
