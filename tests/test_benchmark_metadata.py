"""Every benchmark plugin carries the metadata.yml Brain-Score expects, generated from the descriptors."""
from __future__ import annotations

from pathlib import Path

import pytest
from brainscore_core.plugin_management.handle_metadata import validate_metadata_file

from realnet_plugins.datasets import dataset_descriptors
from realnet_plugins.datasets.metadata import benchmark_metadata, metadata_text, plugin_folder_name

REPO = Path(__file__).resolve().parents[1]
DATASETS = [d for d in dataset_descriptors().values() if d.benchmarks and (
    REPO / "benchmarks" / plugin_folder_name(d.name)).is_dir()]


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_committed_metadata_is_what_the_descriptors_generate_and_brainscore_accepts_it(dataset):
    path = REPO / "benchmarks" / plugin_folder_name(dataset.name) / "metadata.yml"
    assert path.read_text() == metadata_text(dataset.benchmarks), \
        f"{path} is stale: run `python -m realnet_plugins.datasets.metadata benchmarks`"
    errors, data = validate_metadata_file(str(path))
    assert errors == []
    assert list(data["benchmarks"]) == [b.identifier for b in dataset.benchmarks]


def test_every_benchmark_plugin_folder_of_the_package_has_metadata_installed():
    import brainscore_vision

    names = {plugin_folder_name(d.name) for d in DATASETS}
    assert {"realnet_things_eeg2", "realnet_shen2019", "realnet_geirhos2021"} <= names
    for name in names:
        assert (Path(brainscore_vision.__file__).parent / "benchmarks" / name / "metadata.yml").is_file(), \
            "setup.py must ship metadata.yml (package_data)"


def test_metadata_refuses_keys_brainscore_does_not_allow():
    from dataclasses import replace

    benchmark = DATASETS[0].benchmarks[0]
    with pytest.raises(ValueError, match="not Brain-Score's"):
        benchmark_metadata([replace(benchmark, metadata={"data": {"colour": "blue"}})])
