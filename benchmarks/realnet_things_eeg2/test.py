"""Tests of the THINGS-EEG2 benchmark plugin, on a miniature fixture release (no real data, offline)."""
import numpy as np
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_vision import load_benchmark

from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2
from realnet_plugins.errors import MissingFileError

IDENTIFIERS = [f"ThingsEEG2{who}-temporal_rsa{kind}" for kind in ("", "_crossnobis")
               for who in [""] + [f".sub-{s:02d}" for s in range(1, 11)]]


class FeatureModel:
    """A candidate whose every region responds with the image's mean colour and brightness."""

    def start_recording(self, region, time_bins):
        self.region = region

    def look_at(self, stimuli, number_of_trials=1):
        from PIL import Image

        ids = list(stimuli["stimulus_id"])
        features = np.stack([np.asarray(Image.open(stimuli.get_stimulus(s)).convert("RGB"), dtype=float)
                             .reshape(-1, 3).mean(axis=0) for s in ids])
        features = np.concatenate([features, features ** 2], axis=1)
        return NeuroidAssembly(features, dims=("presentation", "neuroid"), coords={
            "stimulus_id": ("presentation", ids), "stimulus_path": ("presentation", ids),
            "neuroid_id": ("neuroid", np.arange(features.shape[1]))})


@pytest.mark.parametrize("identifier", IDENTIFIERS)
def test_identifier_loads_with_version_and_bibtex(identifier):
    benchmark = load_benchmark(identifier)
    assert benchmark.identifier == identifier and benchmark.version == 2
    assert "Gifford" in benchmark.bibtex


def test_missing_package_says_which_command_makes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path))
    with pytest.raises(MissingFileError, match="realnet package things-eeg2"):
        load_benchmark("ThingsEEG2.sub-01-temporal_rsa")(FeatureModel())


def test_scores_a_model_on_a_packaged_fixture(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path / "home"))
    release = write_things_eeg2_release(tmp_path / "release", n_subjects=2, n_train_concepts=2, images_per_concept=1,
                                        n_test_images=6, n_test_reps=10, image_size=32, snr=0.5)
    package_things_eeg2(release, progress=False)
    for identifier in ("ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-02-temporal_rsa",
                       "ThingsEEG2-temporal_rsa_crossnobis"):
        score = load_benchmark(identifier)(FeatureModel())
        assert 0 <= float(score) <= 1
        assert score.attrs["detail"].dims == ("subject", "region", "time_ms")
        assert score.attrs["detail"].sizes["time_ms"] == 20
        assert score.attrs["ceiling"].attrs["per_time"].sizes["time_ms"] == 20
