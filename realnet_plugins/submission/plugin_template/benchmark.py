"""Brain-Score benchmark plugin: RSA benchmarks of realnet-plugins (Lu, Wang & Golomb 2026), generated.

``load_benchmark(identifier)`` builds the benchmark that ``benchmarks.json`` describes with
``RDMBenchmark``, the class realnet-plugins scores these benchmarks with (copied into
``realnet_lib`` when the plugin was generated). Its data come through Brain-Score's registries:
each subject's target RDMs from the data plugin (``load_dataset``), the images from the
registered stimulus set (``load_stimulus_set``). :class:`UploadedRDMs` hands them to
``RDMBenchmark`` in the form realnet-plugins' packages do, so the scores are the package's scores.

This file is a template of realnet-plugins (``realnet_plugins/submission/plugin_template``), copied
unchanged into each generated benchmark plugin.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from brainscore_vision import load_dataset, load_stimulus_set

from .realnet_lib.brainscore_bridge.benchmarks import RDMBenchmark
from .realnet_lib.datasets.targets import RDMTargets, Stimuli
from .realnet_lib.errors import DataFormatError

PLUGIN_DIR = Path(__file__).resolve().parent
SPECS = json.loads((PLUGIN_DIR / "benchmarks.json").read_text(encoding="utf-8"))
#: The RDM of every trial; the split halves follow it when a file has them.
ALL_TRIALS = "all"


@dataclass(frozen=True)
class SubmittedDescriptor:
    """What ``RDMBenchmark`` reads of a realnet-plugins benchmark descriptor (from ``benchmarks.json``)."""

    identifier: str
    version: int
    parent: str
    bibtex: str
    selection: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def dataset_descriptor(self) -> "SubmittedDescriptor":
        return self  # the bibtex is the dataset's


def _values(assembly: Any, coord: str) -> list[Any]:
    return np.asarray(assembly[coord].values).tolist()


class UploadedRDMs:
    """The target RDMs and images of one benchmark, read through Brain-Score's registries.

    Args:
        spec: the benchmark's entry in ``benchmarks.json``: ``data`` (one data id per subject),
            ``stimulus_set`` (a registered stimulus-set id), ``target_dim``, ``data_fingerprint``.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    @property
    def fingerprint(self) -> str:
        return self.spec["data_fingerprint"]

    def stimuli(self, stimulus_ids: list[str] | None = None, **_: Any) -> Stimuli:
        """The registered stimulus set's images, rows in ``stimulus_ids`` order (default: all).

        Raises:
            DataFormatError: the stimulus set lacks some of ``stimulus_ids``.
        """
        stimulus_set = load_stimulus_set(self.spec["stimulus_set"])
        raw = {str(s): s for s in stimulus_set["stimulus_id"]}
        wanted = list(raw) if stimulus_ids is None else [str(s) for s in stimulus_ids]
        missing = [s for s in wanted if s not in raw]
        if missing:
            raise DataFormatError(
                f"the stimulus set {self.spec['stimulus_set']!r} lacks {len(missing)} of the {len(wanted)} images of "
                f"{self.spec['identifier']}'s RDMs, e.g. {missing[:5]}; the data and the stimulus set do not belong "
                "together")
        rows = stimulus_set.set_index(stimulus_set["stimulus_id"].map(str)).loc[wanted]
        table = pd.DataFrame({"stimulus_id": wanted})
        for column in stimulus_set.columns:
            if column not in ("stimulus_id", "image_path", "sha256"):
                table[column] = rows[column].to_numpy()
        table["image_path"] = [str(stimulus_set.get_stimulus(raw[s])) for s in wanted]
        return Stimuli(self.spec["stimulus_set"], table)

    def rdm_targets(self, **_: Any) -> RDMTargets:
        """Every subject's target RDMs from the data plugin, stacked as realnet-plugins' packages stack them.

        Raises:
            DataFormatError: the subjects' files disagree on images, targets or split halves.
        """
        target_dim = self.spec["target_dim"]
        rdms, halves, subjects, first = [], [], [], None
        for data_id in self.spec["data"]:
            assembly = load_dataset(data_id).transpose("rdm", "target", "presentation", "presentation_column")
            layout = (_values(assembly, "stimulus_id"), _values(assembly, "column_stimulus_id"),
                      _values(assembly, target_dim), _values(assembly, "rdm_trials"))
            if layout[0] != layout[1] or (first is not None and layout != first):
                raise DataFormatError(f"{data_id}: its rows, columns, {target_dim} or RDMs differ from those of "
                                      f"{self.spec['data'][0]}; the data plugin's files do not belong together")
            first = layout
            values = np.asarray(assembly.values, dtype=np.float64)
            rdms.append(values[layout[3].index(ALL_TRIALS)])
            if len(layout[3]) > 1:
                halves.append(values[[i for i, name in enumerate(layout[3]) if name != ALL_TRIALS]])
            subjects.append(str(assembly.attrs["subject"]))
            kind = str(assembly.attrs.get("rdm_kind", ""))
        return RDMTargets(rdms=np.stack(rdms), subjects=subjects, target_dim=target_dim, targets=first[2],
                          stimuli=self.stimuli(first[0]), split_halves=np.stack(halves) if halves else None,
                          kind=kind)


def load_benchmark(identifier: str) -> RDMBenchmark:
    """A fresh benchmark for ``identifier`` (one of ``benchmarks.json``)."""
    spec = SPECS["benchmarks"][identifier]
    descriptor = SubmittedDescriptor(identifier=spec["identifier"], version=spec["version"], parent=spec["parent"],
                                     bibtex=spec["bibtex"], selection=spec["selection"], options=spec["options"])
    return RDMBenchmark(descriptor, package=UploadedRDMs(spec))
