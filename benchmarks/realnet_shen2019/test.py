"""Tests of the Shen 2019 fMRI benchmark plugin, on miniature fixture files (no real data, offline)."""
import numpy as np
import pytest
from brainscore_core.supported_data_standards.brainio.assemblies import NeuroidAssembly
from brainscore_vision import load_benchmark

from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import package_shen2019
from realnet_plugins.errors import MissingFileError


class PixelModel:
    """A candidate whose every region responds with the image's 8 × 8 thumbnail."""

    def start_recording(self, region, time_bins):
        self.region = region

    def look_at(self, stimuli, number_of_trials=1):
        from PIL import Image

        ids = list(stimuli["stimulus_id"])
        features = np.stack([np.asarray(Image.open(stimuli.get_stimulus(s)).convert("RGB").resize((8, 8)),
                                        dtype=float).ravel() for s in ids])
        return NeuroidAssembly(features, dims=("presentation", "neuroid"), coords={
            "stimulus_id": ("presentation", ids), "stimulus_path": ("presentation", ids),
            "neuroid_id": ("neuroid", np.arange(features.shape[1]))})


@pytest.mark.parametrize("image_set", ["natural", "shape", "letter"])
def test_identifier_loads_with_version_and_bibtex(image_set):
    benchmark = load_benchmark(f"Shen2019.{image_set}-rsa")
    assert benchmark.identifier == f"Shen2019.{image_set}-rsa" and benchmark.version == 2
    assert "Shen" in benchmark.bibtex


def test_missing_package_says_which_command_makes_it(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path))
    with pytest.raises(MissingFileError, match="realnet package shen2019"):
        load_benchmark("Shen2019.shape-rsa")(PixelModel())


def test_scores_a_model_on_packaged_fixture_files(tmp_path, monkeypatch):
    monkeypatch.setenv("REALNET_HOME", str(tmp_path / "home"))
    release = write_shen2019_release(tmp_path / "release", n_natural=6, n_shape=5, n_letter=4, reps=(2, 2, 2),
                                     voxels_per_roi=5, image_size=32)
    package_shen2019(release, progress=False)
    score = load_benchmark("Shen2019.shape-rsa")(PixelModel())
    assert 0 <= float(score) <= 1
    assert score.attrs["detail"].dims == ("subject", "roi", "region")
    assert score.attrs["rois"] == ["V1", "V2", "V3", "V4", "LOC"]
