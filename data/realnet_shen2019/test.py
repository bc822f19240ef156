"""Tests of the Shen 2019 data plugin, on miniature fixture files (no real data, offline)."""
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_vision import load_dataset, load_stimulus_set

from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import package_shen2019
from realnet_plugins.errors import MissingFileError


def test_missing_package_says_which_command_makes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path))
    with pytest.raises(MissingFileError, match="realnet package shen2019"):
        load_stimulus_set("Shen2019.letter")


def test_loads_every_subject_and_roi_of_an_image_set(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path / "home"))
    release = write_shen2019_release(tmp_path / "release", n_natural=4, n_shape=3, n_letter=3, reps=(2, 2, 2),
                                     voxels_per_roi=3, image_size=32)
    package_shen2019(release, progress=False)
    assembly = load_dataset("Shen2019.letter")
    assert isinstance(assembly, NeuroidAssembly)
    assert sorted(set(assembly["subject"].values)) == ["sub-01", "sub-02", "sub-03"]
    assert assembly.sel(roi="V1").sizes["neuroid"] == 3 * 3
    assert list(load_stimulus_set("Shen2019.letter")["stimulus_id"]) == list(assembly["stimulus_id"].values)
