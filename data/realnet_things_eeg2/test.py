"""Tests of the THINGS-EEG2 data plugin, on a miniature fixture release (no real data, offline)."""
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_vision import load_dataset, load_stimulus_set

from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2
from realnet_plugins.errors import MissingFileError


def test_missing_package_says_which_command_makes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path))
    with pytest.raises(MissingFileError, match="realnet package things-eeg2"):
        load_dataset("ThingsEEG2.sub-01")


def test_loads_the_packaged_assembly_and_stimulus_set(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path / "home"))
    release = write_things_eeg2_release(tmp_path / "release", n_subjects=1, n_train_concepts=2, images_per_concept=1,
                                        n_test_images=4, n_test_reps=10, image_size=32)
    package_things_eeg2(release, progress=False)
    assembly = load_dataset("ThingsEEG2.sub-01")
    assert isinstance(assembly, NeuroidAssembly)
    assert dict(assembly.sizes) == {"presentation": 40, "neuroid": 17, "time_bin": 20}
    stimuli = load_stimulus_set("ThingsEEG2.test")
    assert sorted(stimuli["stimulus_id"]) == sorted(set(assembly["stimulus_id"].values))
    with pytest.raises(MissingFileError, match="sub-02"):
        load_dataset("ThingsEEG2.sub-02")
