"""``realnet package``: THINGS-EEG2 and Shen 2019 packages, their caches, atomicity and input errors."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest
import xarray as xr
from scipy.spatial.distance import pdist, squareform

import realnet_plugins.datasets.things_eeg2.packaging as eeg_packaging
from realnet_plugins.constants import EEG_CHANNELS
from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.packaging import Shen2019Package, package_shen2019
from realnet_plugins.datasets.shen2019.reader import load_roi_responses, read_bdata
from realnet_plugins.datasets.store import dataset_dir
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package, package_things_eeg2
from realnet_plugins.datasets.things_eeg2.reader import ThingsEEG2Release
from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.rsa import DecodingSettings, crossnobis, decoding, decoding_rdm
from realnet_plugins.rsa.ceiling import split_half_decoding_rdms
from realnet_plugins.storage import sha256_file

EEG_SMALL = dict(n_subjects=2, n_train_concepts=2, images_per_concept=1, n_test_images=6, n_test_reps=10,
                 image_size=32, seed=3)
SHEN_SMALL = dict(n_subjects=3, n_natural=5, n_shape=4, n_letter=3, reps=(3, 2, 2), voxels_per_roi=4, image_size=32)


@pytest.fixture(scope="module")
def eeg_release(tmp_path_factory) -> Path:
    return write_things_eeg2_release(tmp_path_factory.mktemp("eeg"), **EEG_SMALL)


@pytest.fixture(scope="module")
def shen_release(tmp_path_factory) -> Path:
    return write_shen2019_release(tmp_path_factory.mktemp("shen"), **SHEN_SMALL)


def copy_release(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(source, target)
    return target


def leftovers(home: Path) -> list[Path]:
    """Temporary files or folders anywhere under ``home``."""
    return [p for p in home.rglob("*") if p.name.endswith((".partial", ".part")) or ".part." in p.name]


# ---------------------------------------------------------------- THINGS-EEG2


def test_things_eeg2_package_holds_the_trials_coords_and_engine_rdms(eeg_release, realnet_home):
    result = package_things_eeg2(eeg_release, progress=False)
    assert not result.reused
    assert result.folder == realnet_home / "assemblies" / "things_eeg2" / result.fingerprint
    package = ThingsEEG2Package()
    assert package.folder == result.folder and package.subjects == ["sub-01", "sub-02"]

    release = ThingsEEG2Release(eeg_release)
    trials = release.test_trials(2)
    assembly = package.assembly(2)
    assert assembly.dims == ("presentation", "neuroid", "time_bin")
    np.testing.assert_array_equal(assembly.values, trials.reshape(-1, 17, 20))
    ids = release.stimulus_ids("test")
    assert assembly["stimulus_id"].values.tolist() == [s for s in ids for _ in range(10)]
    assert assembly["repetition"].values.tolist() == list(range(10)) * len(ids)
    assert assembly["channel"].values.tolist() == list(EEG_CHANNELS)
    assert assembly["neuroid_id"].values.tolist() == [f"sub-02.{c}" for c in EEG_CHANNELS]
    assert set(assembly["subject"].values) == {"sub-02"}
    assert assembly["time_bin_start"].values.tolist() == list(range(0, 200, 10))
    assert assembly["time_bin_end"].values.tolist() == list(range(10, 210, 10))

    rdm, halves = package.rdms("sub-02")
    np.testing.assert_allclose(rdm, decoding_rdm(trials, settings=DecodingSettings.paper(), progress=False), atol=1e-6)
    first, second = split_half_decoding_rdms(trials, DecodingSettings.paper(), 0)
    np.testing.assert_allclose(halves, np.stack([first, second]), atol=1e-6)
    assert rdm.shape == (20, 6, 6) and halves.shape == (2, 20, 6, 6)

    table = package.stimulus_table()
    assert table["stimulus_id"].tolist() == ids
    paths = [Path(p) for p in table["image_path"]]
    assert paths == [p.resolve() for p in release.image_paths("test")]
    assert table["sha256"].tolist() == [sha256_file(p) for p in paths]
    assert not any(result.folder.rglob("*.jpg")), "images are referenced, never copied"
    manifest = json.loads((result.folder / "manifest.json").read_text())
    assert manifest["preset"] == "paper" and manifest["times_ms"] == list(range(0, 200, 10))
    assert json.loads((dataset_dir("things_eeg2") / "current.json").read_text()) == {"fingerprint": result.fingerprint}


def test_package_holds_crossnobis_rdms_of_the_chosen_noise_normalisation(eeg_release):
    release = ThingsEEG2Release(eeg_release)
    trials = release.test_trials(1)
    package = ThingsEEG2Package(package_things_eeg2(eeg_release, subjects=[1], progress=False).folder)
    assert sorted(package.rdm_kinds) == ["crossnobis", "decoding"]
    rdm, halves = package.rdms(1, "crossnobis")
    settings = crossnobis.CrossnobisSettings()  # noise "epoch": shrinkage covariance of the epoch's residuals
    np.testing.assert_allclose(rdm, crossnobis.crossnobis_rdm(trials, settings=settings, progress=False), rtol=1e-5,
                               atol=1e-6)
    first, second = crossnobis.split_half_crossnobis_rdms(trials, settings, 0, progress=False)
    np.testing.assert_allclose(halves, np.stack([first, second]), rtol=1e-5, atol=1e-6)

    euclidean = package_things_eeg2(eeg_release, subjects=[1], crossnobis="none", progress=False)
    assert euclidean.fingerprint != package.fingerprint
    plain = crossnobis.crossnobis_rdm(trials, settings=crossnobis.CrossnobisSettings(noise="none"), progress=False)
    np.testing.assert_allclose(ThingsEEG2Package(euclidean.folder).rdms(1, "crossnobis")[0], plain, rtol=1e-5,
                               atol=1e-6)
    decoding_only = ThingsEEG2Package(package_things_eeg2(eeg_release, subjects=[1], crossnobis=None,
                                                          progress=False).folder)
    assert decoding_only.rdm_kinds == ["decoding"]
    with pytest.raises(MissingFileError, match="holds \\['decoding'\\] RDMs, not 'crossnobis'"):
        decoding_only.rdms(1, "crossnobis")


def test_packaging_the_same_inputs_again_reuses_the_package(eeg_release, monkeypatch):
    first = package_things_eeg2(eeg_release, progress=False)

    def must_not_run(*args, **kwargs):
        raise AssertionError("RDMs recomputed")

    monkeypatch.setattr(decoding, "decoding_rdm", must_not_run)
    monkeypatch.setattr(crossnobis, "crossnobis_rdm", must_not_run)
    again = package_things_eeg2(eeg_release, progress=False)
    assert again.reused and again.folder == first.folder


def test_rdm_cache_lets_a_new_package_reuse_computed_subjects(eeg_release, monkeypatch):
    only_first = package_things_eeg2(eeg_release, subjects=[1], progress=False)
    calls = []
    real = decoding.decoding_rdm
    monkeypatch.setattr(decoding, "decoding_rdm", lambda trials, **kw: calls.append(trials.shape) or real(trials, **kw))
    both = package_things_eeg2(eeg_release, subjects=[1, 2], progress=False)
    assert both.fingerprint != only_first.fingerprint
    assert len(calls) == 1, "only subject 2's full RDM is new"
    np.testing.assert_array_equal(ThingsEEG2Package(only_first.folder).rdms(1)[0], ThingsEEG2Package().rdms(1)[0])


def test_presets_name_the_engine_settings_and_unknown_ones_are_refused(eeg_release):
    assert eeg_packaging.preset_settings("paper") == DecodingSettings.paper()
    assert eeg_packaging.preset_settings("neurora-1.x") == DecodingSettings.neurora_1x()
    with pytest.raises(ValueError, match="unknown decoding preset"):
        package_things_eeg2(eeg_release, subjects=[1], preset="fast", progress=False)


def test_interrupted_packaging_leaves_no_package_and_no_partial_files(eeg_release, realnet_home, monkeypatch):
    real = decoding.decoding_rdm
    calls = []

    def interrupt_on_second_subject(trials, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(trials, **kwargs)

    monkeypatch.setattr(decoding, "decoding_rdm", interrupt_on_second_subject)
    with pytest.raises(KeyboardInterrupt):
        package_things_eeg2(eeg_release, progress=False)
    folder = dataset_dir("things_eeg2")
    assert [p.name for p in folder.iterdir()] == []
    assert leftovers(realnet_home) == []
    cached = list((realnet_home / "cache" / "eeg_rdms" / "decoding").glob("*.npz"))
    assert len(cached) == 1, "the finished subject's RDMs stay cached, complete"
    with np.load(cached[0]) as stored:
        assert stored["rdm"].shape == (20, 6, 6)
    with pytest.raises(MissingFileError, match="realnet package things-eeg2"):
        ThingsEEG2Package()


def test_unfinished_folder_of_a_dead_process_is_removed(eeg_release):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = dataset_dir("things_eeg2") / f".0123456789abcdef.{dead.pid}.x1y2z3.partial"
    stale.mkdir(parents=True)
    (stale / "sub-01.nc").write_bytes(b"half")
    package_things_eeg2(eeg_release, subjects=[1], progress=False)
    assert not stale.exists()


def test_missing_package_error_names_the_command():
    with pytest.raises(MissingFileError, match=r"realnet package things-eeg2 --source DIR"):
        ThingsEEG2Package()
    with pytest.raises(MissingFileError, match=r"realnet package shen2019 --source DIR"):
        Shen2019Package()


def test_a_wrong_channel_set_is_refused_before_anything_is_written(eeg_release, tmp_path, realnet_home):
    release = copy_release(eeg_release, tmp_path)
    path = release / "preprocessed_data" / "sub-02" / "preprocessed_eeg_test.npy"
    record = np.load(path, allow_pickle=True).item()
    record["ch_names"] = [("Cz" if name == "POz" else name) for name in record["ch_names"]]
    np.save(path, record, allow_pickle=True)
    with pytest.raises(DataFormatError, match=r"POz"):
        package_things_eeg2(release, progress=False)
    assert not dataset_dir("things_eeg2").exists() or not any(dataset_dir("things_eeg2").iterdir())
    assert not (realnet_home / "cache" / "eeg_rdms").exists()


def test_fewer_trials_than_folds_are_refused_with_the_numbers(tmp_path, realnet_home):
    release = write_things_eeg2_release(tmp_path / "few", **{**EEG_SMALL, "n_test_reps": 4})
    with pytest.raises(DataFormatError, match=r"4 test trials per image.*5-fold"):
        package_things_eeg2(release, progress=False)
    assert not dataset_dir("things_eeg2").exists() or not any(dataset_dir("things_eeg2").iterdir())


def test_missing_subject_file_and_missing_image_are_named(eeg_release, tmp_path):
    release = copy_release(eeg_release, tmp_path)
    (release / "preprocessed_data" / "sub-02" / "preprocessed_eeg_test.npy").unlink()
    with pytest.raises(MissingFileError, match=r"lacks the test EEG of \['sub-02'\]"):
        package_things_eeg2(release, progress=False)
    image = sorted((release / "image_set" / "test_images").rglob("*.jpg"))[0]
    image.unlink()
    with pytest.raises(MissingFileError, match=image.name):
        package_things_eeg2(release, subjects=[1], progress=False)


def test_an_image_changed_after_packaging_is_detected(eeg_release, tmp_path):
    release = copy_release(eeg_release, tmp_path)
    package_things_eeg2(release, subjects=[1], progress=False)
    image = sorted((release / "image_set" / "test_images").rglob("*.jpg"))[0]
    image.write_bytes(image.read_bytes() + b"\0")
    with pytest.raises(DataFormatError, match="changed since packaging"):
        ThingsEEG2Package().stimulus_table()


# ---------------------------------------------------------------- Shen 2019


def test_shen_package_averages_repetitions_discovers_rois_and_stores_correlation_rdms(shen_release):
    result = package_shen2019(shen_release, progress=False)
    package = Shen2019Package()
    assert package.folder == result.folder and package.subjects == ["sub-01", "sub-02", "sub-03"]
    h5 = shen_release / "sub-02_perceptionArtificialImage_original_VC.h5"
    tsv = shen_release / "perceptionArtificialImage.tsv"
    assert package.rois("sub-02", "shape") == read_bdata(h5).roi_names()
    expected = load_roi_responses(h5, "V4", tsv)
    assembly = package.assembly("sub-02", "shape", "V4")
    np.testing.assert_allclose(assembly.values, expected.responses)
    assert assembly["stimulus_id"].values.tolist() == expected.stimulus_ids
    assert assembly["n_repetitions"].values.tolist() == expected.n_repetitions.tolist()
    assert len(set(assembly["neuroid_id"].values)) == assembly.sizes["neuroid"]
    assert assembly["neuroid_id"].values[0] == "sub-02.V4.0"
    rdms = package.rdms("sub-02", "shape")
    np.testing.assert_allclose(rdms["V4"], squareform(pdist(expected.responses, "correlation")), atol=1e-12)
    table = package.stimulus_table("natural")
    assert table["stimulus_id"].tolist() == [line.split("\t")[0] for line in
                                             (shen_release / "perceptionNaturalImageTest.tsv").read_text().splitlines()]
    assert all(Path(p).is_file() for p in table["image_path"])


def _rewrite_keys(path: Path, rename: dict[str, str]) -> None:
    with h5py.File(path, "r+") as handle:
        keys = [k.decode() for k in handle["metadata/key"][()]]
        del handle["metadata/key"]
        handle.create_dataset("metadata/key", data=np.array([rename.get(k, k).encode() for k in keys]))


def test_h5_without_a_benchmark_roi_is_refused_naming_it(shen_release, tmp_path, realnet_home):
    release = copy_release(shen_release, tmp_path)
    _rewrite_keys(release / "sub-02_perceptionLetterImage_original_VC.h5", {"ROI_LOC": "ROI_LOX"})
    with pytest.raises(DataFormatError, match=r"ROI_LOC.*found the ROIs"):
        package_shen2019(release, progress=False)
    assert not any(dataset_dir("shen2019").iterdir())
    assert leftovers(realnet_home) == []


def test_h5_without_label_columns_is_refused(shen_release, tmp_path):
    release = copy_release(shen_release, tmp_path)
    _rewrite_keys(release / "sub-01_perceptionNaturalImageTest_original_VC.h5",
                  {"image_index": "x_index", "stimulus_id": "x_id", "Label": "x_label"})
    with pytest.raises(DataFormatError, match=r"no image label column"):
        package_shen2019(release, progress=False)
    assert not any(dataset_dir("shen2019").iterdir())


def test_stimulus_list_that_does_not_match_the_file_is_refused(shen_release, tmp_path):
    release = copy_release(shen_release, tmp_path)
    tsv = release / "perceptionLetterImage.tsv"
    tsv.write_text("".join(tsv.read_text().splitlines(keepends=True)[:-1]))
    with pytest.raises(DataFormatError, match=r"stimulus list and the file disagree"):
        package_shen2019(release, progress=False)
    assert not any(dataset_dir("shen2019").iterdir())


def test_missing_images_and_files_are_named_and_image_sets_can_be_left_out(shen_release, tmp_path):
    release = copy_release(shen_release, tmp_path)
    natural = sorted((release / "images" / "natural").iterdir())[0]
    natural.unlink()
    with pytest.raises(MissingFileError, match=natural.stem):
        package_shen2019(release, progress=False)
    package_shen2019(release, image_sets=("shape", "letter"), progress=False)
    with pytest.raises(MissingFileError, match="not 'natural'"):
        Shen2019Package().stimulus_table("natural")
    (release / "sub-02_perceptionLetterImage_original_VC.h5").unlink()
    with pytest.raises(MissingFileError, match=r"sub-02_perceptionLetterImage_original_VC\.h5"):
        package_shen2019(release, image_sets=("shape", "letter"), progress=False)


def test_package_netcdf_round_trips_through_xarray(shen_release, eeg_release):
    package_shen2019(shen_release, image_sets=("letter",), progress=False)
    package_things_eeg2(eeg_release, subjects=[1], progress=False)
    stored = Shen2019Package().folder / "sub-01" / "letter" / "V1.nc"
    with xr.open_dataarray(stored) as loaded:
        assert loaded.dims == ("presentation", "neuroid")
        assert set(loaded.coords) == {"stimulus_id", "image_index", "n_repetitions", "subject", "roi", "voxel",
                                      "neuroid_id"}
    eeg = ThingsEEG2Package().assembly(1)
    assert eeg.dtype == np.float32 and eeg.attrs["subject"] == "sub-01"
