"""Brain-Score ``metadata.yml`` of the benchmark plugins, generated from the dataset descriptors.

Upstream Brain-Score expects a ``metadata.yml`` beside every benchmark plugin, keyed by benchmark
identifier, each with ``stimulus_set``, ``data`` and ``metric`` blocks (the keys of
``brainscore_core.plugin_management.handle_metadata.ALLOWED_KEYS_BY_TYPE['benchmarks']``). The
blocks are declared once, in each :class:`~realnet_plugins.datasets.BenchmarkDescriptor`'s
``metadata``; this module writes them, and a test checks that the committed files are what it
writes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from realnet_plugins.datasets import BenchmarkDescriptor
from realnet_plugins.storage import atomic_write

#: Block order and key order of upstream's files.
_BLOCKS: dict[str, tuple[str, ...]] = {
    "stimulus_set": ("num_stimuli", "datatype", "stimuli_subtype", "total_size_mb", "brainscore_link", "extra_notes"),
    "data": ("benchmark_type", "task", "region", "hemisphere", "num_recording_sites", "duration_ms", "species",
             "datatype", "num_subjects", "pre_processing", "brainscore_link", "extra_notes",
             "data_publicly_available"),
    "metric": ("type", "reference", "public", "brainscore_link", "extra_notes"),
}


def benchmark_metadata(benchmarks: Iterable[BenchmarkDescriptor]) -> dict[str, Any]:
    """``{"benchmarks": {identifier: {block: {key: value}}}}`` with every upstream key, in upstream's order.

    Raises:
        ValueError: a descriptor's metadata has a block or key upstream does not allow.
    """
    out: dict[str, Any] = {}
    for benchmark in benchmarks:
        extra_blocks = set(benchmark.metadata) - set(_BLOCKS)
        if extra_blocks:
            raise ValueError(f"{benchmark.identifier}: metadata blocks {sorted(extra_blocks)} are not Brain-Score's "
                             f"{list(_BLOCKS)}")
        entry = {}
        for block, keys in _BLOCKS.items():
            given = dict(benchmark.metadata.get(block, {}))
            extra = set(given) - set(keys)
            if extra:
                raise ValueError(f"{benchmark.identifier}: {block} keys {sorted(extra)} are not Brain-Score's {keys}")
            entry[block] = {key: given.get(key) for key in keys}
        out[benchmark.identifier] = entry
    return {"benchmarks": out}


def metadata_text(benchmarks: Iterable[BenchmarkDescriptor]) -> str:
    """The YAML text of :func:`benchmark_metadata` (keys in upstream's order)."""
    import yaml

    header = "# Generated from the dataset descriptors (realnet_plugins.datasets); do not edit by hand.\n"
    return header + yaml.safe_dump(benchmark_metadata(benchmarks), sort_keys=False, allow_unicode=True, width=100)


def write_benchmark_metadata(folder: str | Path, benchmarks: Iterable[BenchmarkDescriptor]) -> Path:
    """Write ``<folder>/metadata.yml`` for ``benchmarks`` (atomically); returns its path."""
    path = Path(folder) / "metadata.yml"
    with atomic_write(path, "w") as handle:
        handle.write(metadata_text(benchmarks))
    return path


def plugin_folder_name(dataset: str) -> str:
    """The benchmark/data plugin folder of a dataset: ``realnet_<dataset>``."""
    return f"realnet_{dataset}"


def main(argv: list[str] | None = None) -> int:
    """``python -m realnet_plugins.datasets.metadata BENCHMARKS_DIR``: (re)write every dataset's ``metadata.yml``."""
    import sys

    from realnet_plugins.datasets import dataset_descriptors

    root = Path((argv if argv is not None else sys.argv[1:] or ["benchmarks"])[0])
    for descriptor in dataset_descriptors().values():
        folder = root / plugin_folder_name(descriptor.name)
        if descriptor.benchmarks and folder.is_dir():
            print(write_benchmark_metadata(folder, descriptor.benchmarks))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
