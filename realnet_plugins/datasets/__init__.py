"""Datasets: one folder each, and the registry of them and of the benchmarks built on them.

A dataset lives in ``realnet_plugins/datasets/<name>/``: its reader (``reader.py``), its packaging
(``packaging.py``: downloaded files → assemblies, stimulus tables and RDMs under
``$REALNET_HOME/assemblies/<name>/<fingerprint>/``), its fixture writer (``fixtures.py``, miniature
files in the exact real layout) and, in ``__init__.py``, a small :class:`DatasetDescriptor` named
``DESCRIPTOR``. The descriptor says where the package class is, which ``realnet package`` subcommand
makes a package, and which Brain-Score benchmarks are built on it (:class:`BenchmarkDescriptor`:
identifier, version, how to build it). Everything that needs to know about a benchmark — the
Brain-Score plugin lines, the scorer's cache keys, ``realnet package`` — reads these descriptors; no
other table keys benchmarks by name.

Descriptors are plain data: reading them imports nothing heavy and constructs no benchmark, so the
score store can key cached scores (version, data fingerprint) offline. Modules are named by dotted
``"module:attribute"`` strings and imported only when used.

Where descriptors come from, in this order:

1. every subpackage of :mod:`realnet_plugins.datasets` that defines ``DESCRIPTOR``;
2. entry points of the group ``realnet_plugins.datasets`` (another distribution adds a dataset by
   declaring ``entry_points={"realnet_plugins.datasets": ["name = pkg.module:DESCRIPTOR"]}``);
3. :func:`register_dataset` calls in this process.

ARCHITECTURE.md walks through adding a dataset and its benchmark.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Mapping

from realnet_plugins.errors import UsageError

__all__ = [
    "BRAINSCORE_STORAGE",
    "BenchmarkDescriptor",
    "DatasetDescriptor",
    "Source",
    "benchmark_descriptor",
    "benchmark_descriptors",
    "dataset_descriptor",
    "dataset_descriptors",
    "register_dataset",
    "resolve",
]

#: ``entry_points`` group through which other distributions register datasets.
ENTRY_POINT_GROUP = "realnet_plugins.datasets"
#: Data fingerprint of benchmarks whose data come from Brain-Score's own storage (checked there by sha1).
BRAINSCORE_STORAGE = "brainscore-storage"


def resolve(target: str) -> Any:
    """Import ``"package.module:attribute"`` and return the attribute."""
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise ValueError(f"expected 'module:attribute', found {target!r}")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass(frozen=True)
class Source:
    """Where a dataset's files come from (shown by ``realnet package --help`` and the README).

    Attributes:
        what: which files (``"preprocessed EEG, per subject"``).
        url: the authoritative page.
        citation: the paper to cite, with its DOI.
    """

    what: str
    url: str
    citation: str = ""


@dataclass(frozen=True)
class BenchmarkDescriptor:
    """A Brain-Score benchmark of this package, described without constructing it.

    Attributes:
        identifier: the Brain-Score benchmark identifier (one literal plugin line each).
        version: the benchmark's version; a new version gives new cache keys, so stored scores of
            an older version are never served as this one's.
        build: ``"module:callable"`` taking this descriptor and returning the Brain-Score benchmark
            (a bridge class, e.g. ``realnet_plugins.brainscore_bridge.benchmarks:RDMBenchmark``).
        dataset: the dataset it reads (filled in by the dataset's descriptor).
        selection: keyword arguments selecting the data in the dataset's package (e.g.
            ``{"subject": 1, "rdm_kind": "decoding"}``).
        options: keyword arguments of the bridge class (how the score is summarised).
        parent: the leaderboard parent.
        description: one line for listings and docs.
        metadata: the ``stimulus_set``, ``data`` and ``metric`` blocks of Brain-Score's benchmark
            ``metadata.yml`` (upstream's keys; facts of the real data, not of a fixture), written by
            :func:`realnet_plugins.datasets.metadata.write_benchmark_metadata`.
    """

    identifier: str
    version: int
    build: str
    dataset: str = ""
    selection: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    parent: str = ""
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def dataset_descriptor(self) -> "DatasetDescriptor":
        return dataset_descriptor(self.dataset)

    def data_fingerprint(self) -> str:
        """Fingerprint of the data this benchmark reads now: the current package's, or
        :data:`BRAINSCORE_STORAGE` for data kept in Brain-Score's storage.

        Raises:
            MissingFileError: the dataset has not been packaged (the message names the command).
        """
        return self.dataset_descriptor().current_fingerprint()

    def cache_version(self) -> str:
        """The version string of the score store's cache keys: ``realnet-<version>``."""
        return f"realnet-{self.version}"


@dataclass(frozen=True)
class DatasetDescriptor:
    """One dataset: its package, its ``realnet package`` subcommand and its benchmarks.

    Attributes:
        name: folder name under ``$REALNET_HOME/assemblies`` and in this package (``things_eeg2``).
        title: a human-readable name with the reference.
        package_class: ``"module:Class"`` reading a finished package (a
            :class:`~realnet_plugins.datasets.store.PackagedDataset`), or ``""``.
        brainscore_data: the benchmarks read Brain-Score's own data (kept in its storage, checked
            there by sha1) rather than a package of this project.
        command: the ``realnet package`` subcommand (``things-eeg2``), or ``""``.
        cli: ``"module"`` with ``configure(parser)`` and ``run(args) -> int`` of that subcommand; its
            top level must import nothing heavy (``realnet package --help`` imports it).
        benchmarks: the benchmarks built on this dataset.
        bibtex: one BibTeX entry of the data's paper.
        sources: where the files come from.
    """

    name: str
    title: str
    package_class: str = ""
    brainscore_data: bool = False
    command: str = ""
    cli: str = ""
    benchmarks: tuple[BenchmarkDescriptor, ...] = ()
    bibtex: str = ""
    sources: tuple[Source, ...] = ()

    def __post_init__(self) -> None:
        # each benchmark knows its dataset; a frozen dataclass is rebuilt with the name filled in
        from dataclasses import replace

        object.__setattr__(self, "benchmarks", tuple(
            b if b.dataset == self.name else replace(b, dataset=self.name) for b in self.benchmarks))

    def package(self, folder: Any = None) -> Any:
        """The current package (or the one in ``folder``).

        Raises:
            MissingFileError: no package yet (the message names the command that makes one).
            UsageError: this dataset makes no packages.
        """
        if not self.package_class:
            raise UsageError(f"{self.title} has no local package")
        return resolve(self.package_class)(folder)

    def current_fingerprint(self) -> str:
        """The fingerprint of the data the benchmarks read now: the current package's (read from
        ``current.json``; nothing else is loaded), or :data:`BRAINSCORE_STORAGE`.

        Raises:
            MissingFileError: no package yet (the message names the command that makes one).
        """
        if self.brainscore_data:
            return BRAINSCORE_STORAGE
        if not self.package_class:
            raise UsageError(f"{self.title} has no benchmark data")
        from realnet_plugins.datasets.store import current_package_fingerprint

        return current_package_fingerprint(self.name, self.package_command())

    def package_command(self) -> str:
        return f"realnet package {self.command} --source DIR" if self.command else ""


_REGISTERED: dict[str, DatasetDescriptor] = {}
_DISCOVERED: dict[str, DatasetDescriptor] | None = None


def _discover() -> dict[str, DatasetDescriptor]:
    global _DISCOVERED
    if _DISCOVERED is None:
        found: dict[str, DatasetDescriptor] = {}
        for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if not module.ispkg:
                continue
            descriptor = getattr(importlib.import_module(f"{__name__}.{module.name}"), "DESCRIPTOR", None)
            if isinstance(descriptor, DatasetDescriptor):
                found[descriptor.name] = descriptor
        from importlib.metadata import entry_points

        for entry in entry_points(group=ENTRY_POINT_GROUP):
            descriptor = entry.load()
            if not isinstance(descriptor, DatasetDescriptor):
                raise TypeError(f"entry point {entry.name} = {entry.value} ({ENTRY_POINT_GROUP}) is not a "
                                f"DatasetDescriptor but {type(descriptor).__name__}")
            found.setdefault(descriptor.name, descriptor)
        _DISCOVERED = found
    return _DISCOVERED


def register_dataset(descriptor: DatasetDescriptor) -> DatasetDescriptor:
    """Add a dataset to this process's registry (replacing one of the same name); returns it."""
    _REGISTERED[descriptor.name] = descriptor
    return descriptor


def dataset_descriptors() -> dict[str, DatasetDescriptor]:
    """Every registered dataset, by name."""
    return {**_discover(), **_REGISTERED}


def dataset_descriptor(name: str) -> DatasetDescriptor:
    """The dataset called ``name``.

    Raises:
        UsageError: no such dataset (with the closest names).
    """
    registry = dataset_descriptors()
    if name in registry:
        return registry[name]
    close = difflib.get_close_matches(name, list(registry), n=3, cutoff=0.5)
    raise UsageError(f"no dataset {name!r}; registered: {sorted(registry)}"
                     + (f"; did you mean {', '.join(close)}?" if close else ""))


def benchmark_descriptors() -> dict[str, BenchmarkDescriptor]:
    """Every benchmark of every registered dataset, by identifier.

    Raises:
        ValueError: two datasets declare the same benchmark identifier.
    """
    found: dict[str, BenchmarkDescriptor] = {}
    for dataset in dataset_descriptors().values():
        for benchmark in dataset.benchmarks:
            if benchmark.identifier in found:
                raise ValueError(f"benchmark {benchmark.identifier!r} is declared by both "
                                 f"{found[benchmark.identifier].dataset!r} and {dataset.name!r}")
            found[benchmark.identifier] = benchmark
    return found


def benchmark_descriptor(identifier: str) -> BenchmarkDescriptor | None:
    """The descriptor of one of this package's benchmarks, or None for any other (e.g. upstream's)."""
    return benchmark_descriptors().get(identifier)
