"""THINGS-EEG2 reader, EEG normalisation and the miniature-release fixture writer."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from scipy.spatial.distance import pdist
from scipy.stats import spearmanr

import realnet_plugins.storage as storage
from realnet_plugins.constants import EEG_CHANNELS, RELEASE_TIMES_S
from realnet_plugins.datasets.things_eeg2.fixtures import write_spose_embedding, write_things_eeg2_release
from realnet_plugins.datasets.things_eeg2.reader import METADATA_KEYS, EEGNormalisation, ThingsEEG2Release
from realnet_plugins.errors import DataFormatError, MissingFileError, UnsafePickleError

N_TRAIN_CONCEPTS, PER_CONCEPT, N_TEST, TRAIN_REPS, TEST_REPS, SIZE = 8, 2, 8, 4, 8, 48


@pytest.fixture(scope="module")
def release_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("things_eeg2") / "release"
    return write_things_eeg2_release(
        root, n_subjects=2, n_train_concepts=N_TRAIN_CONCEPTS, images_per_concept=PER_CONCEPT,
        n_test_images=N_TEST, n_train_reps=TRAIN_REPS, n_test_reps=TEST_REPS, image_size=SIZE, seed=3,
    )


@pytest.fixture()
def copied_root(release_root, tmp_path):
    """A private copy of the release that a test may tamper with."""
    return shutil.copytree(release_root, tmp_path / "copy")


def _plain_load(path):
    return np.load(path, allow_pickle=True).item()


def _eeg_file(root, subject=1, split="training"):
    return root / "preprocessed_data" / f"sub-{subject:02d}" / f"preprocessed_eeg_{split}.npy"


def _rewrite(path, **changes):
    record = _plain_load(path)
    record.update(changes)
    np.save(path, record, allow_pickle=True)


# ---------------------------------------------------------------- fixture files, read plainly


def test_fixture_eeg_files_have_the_release_keys_dtypes_shapes_and_channel_order(release_root):
    for subject in (1, 2):
        for split, n_images, n_reps in (("training", N_TRAIN_CONCEPTS * PER_CONCEPT, TRAIN_REPS),
                                        ("test", N_TEST, TEST_REPS)):
            record = _plain_load(_eeg_file(release_root, subject, split))
            assert list(record) == ["preprocessed_eeg_data", "ch_names", "times"]
            data = record["preprocessed_eeg_data"]
            assert data.dtype == np.float64 and data.shape == (n_images, n_reps, 17, 100)
            assert np.all(np.isfinite(data))
            assert isinstance(record["ch_names"], list) and record["ch_names"] == list(EEG_CHANNELS)
            assert record["times"].dtype == np.float64
            np.testing.assert_array_equal(record["times"], np.arange(100) / 100 - 0.2)
            assert record["times"][20] == 0.0


def test_fixture_metadata_has_six_consistent_lists_with_disjoint_concepts(release_root):
    metadata = _plain_load(release_root / "image_set" / "image_metadata.npy")
    assert sorted(metadata) == sorted(METADATA_KEYS)
    assert all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in metadata.values())
    n_train = N_TRAIN_CONCEPTS * PER_CONCEPT
    assert [len(metadata[k]) for k in METADATA_KEYS] == [n_train] * 3 + [N_TEST] * 3
    train_concepts = metadata["train_img_concepts"]
    assert train_concepts[0].startswith("00001_") and len(set(train_concepts)) == N_TRAIN_CONCEPTS
    assert [c[:5] for c in metadata["test_img_concepts"]] == [f"{i:05d}" for i in range(1, N_TEST + 1)]
    for local, things, name in zip(train_concepts, metadata["train_img_concepts_THINGS"], metadata["train_img_files"]):
        assert local[6:] == things[6:] and name.startswith(local[6:] + "_") and name.endswith(".jpg")
        assert 1 <= int(things[:5]) <= 1854
    assert not set(metadata["train_img_concepts_THINGS"]) & set(metadata["test_img_concepts_THINGS"])
    image = Image.open(release_root / "image_set" / "training_images" / train_concepts[0]
                       / metadata["train_img_files"][0])
    assert image.format == "JPEG" and image.mode == "RGB" and image.size == (SIZE, SIZE)


def test_fixture_images_differ_within_and_between_concepts(release_root):
    paths = ThingsEEG2Release(release_root).image_paths("training")
    pixels = np.stack([np.asarray(Image.open(p), dtype=np.float64) for p in paths]).reshape(len(paths), -1)
    distances = pdist(pixels, "euclidean").min()
    assert distances > 0  # no two images are identical
    concept = np.repeat(np.arange(N_TRAIN_CONCEPTS), PER_CONCEPT)
    d = np.linalg.norm(pixels[:, None] - pixels[None], axis=-1)
    same = d[(concept[:, None] == concept[None]) & ~np.eye(len(paths), dtype=bool)].mean()
    different = d[concept[:, None] != concept[None]].mean()
    assert same < different


def test_fixture_is_deterministic_given_seed(tmp_path):
    kwargs = dict(n_subjects=1, n_train_concepts=3, images_per_concept=1, n_test_images=2, image_size=32)
    a = write_things_eeg2_release(tmp_path / "a", seed=7, **kwargs)
    b = write_things_eeg2_release(tmp_path / "b", seed=7, **kwargs)
    c = write_things_eeg2_release(tmp_path / "c", seed=8, **kwargs)
    for relative in ("image_set/image_metadata.npy", "preprocessed_data/sub-01/preprocessed_eeg_training.npy"):
        assert (a / relative).read_bytes() == (b / relative).read_bytes()
        assert (a / relative).read_bytes() != (c / relative).read_bytes()


def _split_half_reliability(data: np.ndarray, time_index) -> float:
    """Correlation across images × channels between the means of even and odd repetitions."""
    first = data[:, 0::2][..., time_index].mean(axis=1)
    second = data[:, 1::2][..., time_index].mean(axis=1)
    first = first - first.mean(axis=0)
    second = second - second.mean(axis=0)
    return float(np.corrcoef(first.ravel(), second.ravel())[0, 1])


def test_fixture_eeg_is_image_specific_after_50_ms_only(release_root):
    data = _plain_load(_eeg_file(release_root, 1, "test"))["preprocessed_eeg_data"]
    baseline = np.flatnonzero(RELEASE_TIMES_S < 0.0)
    evoked = np.flatnonzero((RELEASE_TIMES_S >= 0.08) & (RELEASE_TIMES_S < 0.2))
    assert _split_half_reliability(data, evoked) > 0.5
    assert abs(_split_half_reliability(data, baseline)) < 0.15


def test_fixture_repetitions_of_one_image_correlate_more_than_different_images(release_root):
    data = _plain_load(_eeg_file(release_root, 2, "training"))["preprocessed_eeg_data"][..., 20:40]
    n = data.shape[0]
    rep0 = data[:, 0].reshape(n, -1)
    rep1 = data[:, 1].reshape(n, -1)
    rep0, rep1 = rep0 - rep0.mean(0), rep1 - rep1.mean(0)
    r = np.corrcoef(rep0, rep1)[:n, n:]
    assert np.diag(r).mean() > r[~np.eye(n, dtype=bool)].mean() + 0.2


def test_fixture_subjects_share_related_but_different_mappings(release_root):
    release = ThingsEEG2Release(release_root)
    one, two = (release.alignment_eeg(s, "training").reshape(N_TRAIN_CONCEPTS * PER_CONCEPT, -1) for s in (1, 2))
    assert spearmanr(pdist(one, "correlation"), pdist(two, "correlation"))[0] > 0.3
    assert not np.allclose(one, two, atol=0.1)


def test_spose_embedding_is_non_negative_49d_and_rows_do_not_depend_on_count(tmp_path):
    full = np.loadtxt(write_spose_embedding(tmp_path / "spose_embedding_49d_sorted.txt", seed=3))
    short = np.loadtxt(write_spose_embedding(tmp_path / "short.txt", n_concepts=40, seed=3))
    other_seed = np.loadtxt(write_spose_embedding(tmp_path / "other.txt", n_concepts=40, seed=4))
    assert full.shape == (1854, 49) and short.shape == (40, 49)
    assert np.all(full >= 0)
    np.testing.assert_array_equal(full[:40], short)
    assert not np.allclose(short, other_seed)


# ---------------------------------------------------------------- reader


def test_reader_lists_subjects_metadata_and_image_paths(release_root):
    release = ThingsEEG2Release(release_root)
    assert release.subjects() == [1, 2]
    metadata = release.image_metadata()
    assert metadata == _plain_load(release_root / "image_set" / "image_metadata.npy")
    paths = release.image_paths("test")
    assert paths == [release_root / "image_set" / "test_images" / c / f
                     for c, f in zip(metadata["test_img_concepts"], metadata["test_img_files"])]
    assert release.stimulus_ids("training") == [f[:-4] for f in metadata["train_img_files"]]
    assert release.n_images("training") == N_TRAIN_CONCEPTS * PER_CONCEPT


def test_alignment_eeg_equals_plain_numpy_average(release_root):
    record = _plain_load(_eeg_file(release_root, 2, "training"))
    channels = [record["ch_names"].index(name) for name in EEG_CHANNELS]
    window = np.flatnonzero((record["times"] >= -1e-9) & (record["times"] < 0.2 - 1e-9))
    expected = record["preprocessed_eeg_data"][:, :, channels][..., window].mean(axis=1)
    got = ThingsEEG2Release(release_root).alignment_eeg(2)
    assert got.dtype == np.float32 and got.shape == (N_TRAIN_CONCEPTS * PER_CONCEPT, 17, 20)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_test_trials_keep_repetitions(release_root):
    record = _plain_load(_eeg_file(release_root, 1, "test"))
    got = ThingsEEG2Release(release_root).test_trials(1)
    assert got.dtype == np.float32 and got.shape == (N_TEST, TEST_REPS, 17, 20)
    np.testing.assert_allclose(got, record["preprocessed_eeg_data"][..., 20:40], rtol=1e-6, atol=1e-6)


def test_channels_are_selected_by_name_and_extra_channels_ignored(copied_root):
    path = _eeg_file(copied_root)
    original = _plain_load(path)
    order = np.random.default_rng(0).permutation(17)
    extra = np.random.default_rng(1).normal(size=original["preprocessed_eeg_data"].shape[:2] + (1, 100))
    data = np.concatenate([original["preprocessed_eeg_data"][:, :, order], extra], axis=2)
    _rewrite(path, preprocessed_eeg_data=data, ch_names=[EEG_CHANNELS[i] for i in order] + ["Fz"])
    expected = original["preprocessed_eeg_data"][..., 20:40].mean(axis=1)
    np.testing.assert_allclose(ThingsEEG2Release(copied_root).alignment_eeg(1), expected, rtol=1e-6, atol=1e-6)


def test_samples_are_selected_by_time_value_not_position(copied_root):
    path = _eeg_file(copied_root)
    original = _plain_load(path)
    shifted_times = np.arange(120) / 100 - 0.1 + 1e-9  # t = 0 is now sample 10
    data = np.zeros(original["preprocessed_eeg_data"].shape[:3] + (120,))
    data[..., 10:30] = original["preprocessed_eeg_data"][..., 20:40]
    _rewrite(path, preprocessed_eeg_data=data, times=shifted_times)
    expected = original["preprocessed_eeg_data"][..., 20:40].mean(axis=1)
    np.testing.assert_allclose(ThingsEEG2Release(copied_root).alignment_eeg(1), expected, rtol=1e-6, atol=1e-6)


def test_missing_channel_is_reported_by_name(copied_root):
    path = _eeg_file(copied_root)
    record = _plain_load(path)
    keep = [i for i, name in enumerate(EEG_CHANNELS) if name not in ("Oz", "P8")]
    _rewrite(path, preprocessed_eeg_data=record["preprocessed_eeg_data"][:, :, keep],
             ch_names=[EEG_CHANNELS[i] for i in keep])
    with pytest.raises(DataFormatError, match=r"lacks channel\(s\) \['Oz', 'P8'\]"):
        ThingsEEG2Release(copied_root).raw_eeg(1, "training")


def test_nan_is_reported_with_count_and_first_index(copied_root):
    path = _eeg_file(copied_root)
    data = _plain_load(path)["preprocessed_eeg_data"].copy()
    data[3, 1, 5, 7] = np.nan
    data[9, 0, 0, 0] = np.inf
    _rewrite(path, preprocessed_eeg_data=data)
    with pytest.raises(DataFormatError, match=r"2 non-finite value\(s\).*index \(3, 1, 5, 7\)"):
        ThingsEEG2Release(copied_root).alignment_eeg(1)


def test_wrong_shape_is_reported(copied_root):
    path = _eeg_file(copied_root)
    data = _plain_load(path)["preprocessed_eeg_data"]
    _rewrite(path, preprocessed_eeg_data=data.mean(axis=1))
    with pytest.raises(DataFormatError, match="4-D float array"):
        ThingsEEG2Release(copied_root).raw_eeg(1, "training")


def test_image_count_mismatch_with_metadata_is_reported(copied_root):
    path = _eeg_file(copied_root, 2, "test")
    data = _plain_load(path)["preprocessed_eeg_data"]
    _rewrite(path, preprocessed_eeg_data=data[:-1])
    with pytest.raises(DataFormatError, match=f"{N_TEST - 1} images on axis 0.*lists {N_TEST} test images"):
        ThingsEEG2Release(copied_root).test_trials(2)


def test_time_axis_without_the_window_is_reported(copied_root):
    path = _eeg_file(copied_root)
    _rewrite(path, times=np.arange(100) / 100 + 0.5)
    with pytest.raises(DataFormatError, match="lacks a unique sample"):
        ThingsEEG2Release(copied_root).raw_eeg(1, "training")


def test_missing_key_is_reported(copied_root):
    path = _eeg_file(copied_root)
    record = _plain_load(path)
    del record["times"]
    np.save(path, record, allow_pickle=True)
    with pytest.raises(DataFormatError, match=r"lacks key\(s\) \['times'\]"):
        ThingsEEG2Release(copied_root).raw_eeg(1, "training")


def test_missing_image_files_are_listed_with_count(copied_root):
    release = ThingsEEG2Release(copied_root)
    paths = release.image_paths("training")
    for path in paths[2:5]:
        path.unlink()
    with pytest.raises(MissingFileError, match=f"3 of {len(paths)} training images are missing") as err:
        release.image_paths("training")
    assert str(paths[2]) in str(err.value)


def test_metadata_with_unequal_list_lengths_is_refused(copied_root):
    path = copied_root / "image_set" / "image_metadata.npy"
    metadata = _plain_load(path)
    metadata["train_img_concepts"] = metadata["train_img_concepts"][:-1]
    np.save(path, metadata, allow_pickle=True)
    with pytest.raises(DataFormatError, match="equally long"):
        ThingsEEG2Release(copied_root).image_metadata()


def test_metadata_with_shared_train_and_test_concepts_is_refused(copied_root):
    path = copied_root / "image_set" / "image_metadata.npy"
    metadata = _plain_load(path)
    metadata["test_img_concepts_THINGS"][0] = metadata["train_img_concepts_THINGS"][0]
    np.save(path, metadata, allow_pickle=True)
    with pytest.raises(DataFormatError, match="disjoint"):
        ThingsEEG2Release(copied_root).image_metadata()


def test_tampered_eeg_pickle_is_refused_without_running_it(copied_root, tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.mkdir, (str(marker),)

    _rewrite(_eeg_file(copied_root), ch_names=Payload())
    with pytest.raises(UnsafePickleError, match="mkdir"):
        ThingsEEG2Release(copied_root).alignment_eeg(1)
    assert not marker.exists()


def test_missing_subject_file_names_available_subjects(release_root):
    with pytest.raises(MissingFileError, match=r"subjects with a folder here: \[1, 2\]"):
        ThingsEEG2Release(release_root).raw_eeg(5, "training")


def test_unknown_split_is_refused(release_root):
    with pytest.raises(ValueError, match="split must be one of"):
        ThingsEEG2Release(release_root).image_paths("validation")


def test_release_fingerprint_is_stable_content_based_and_cached(copied_root, monkeypatch):
    release = ThingsEEG2Release(copied_root)
    calls = []
    real_sha = storage.sha256_file
    monkeypatch.setattr(storage, "sha256_file", lambda path: calls.append(path) or real_sha(path))
    monkeypatch.setattr(storage, "_SHA256_MEMO", {})
    first = release.release_fingerprint(1, "training")
    assert len(calls) == 2
    assert release.release_fingerprint(1, "training") == first and len(calls) == 2
    monkeypatch.setattr(storage, "_SHA256_MEMO", {})  # a new process: the side files answer
    assert release.release_fingerprint(1, "training") == first and len(calls) == 2
    assert release.release_fingerprint(2, "training") != first
    assert release.release_fingerprint(1, "test") != first

    path = _eeg_file(copied_root)
    data = _plain_load(path)["preprocessed_eeg_data"].copy()
    data[0, 0, 0, 0] += 1.0
    _rewrite(path, preprocessed_eeg_data=data)
    assert release.release_fingerprint(1, "training") != first


# ---------------------------------------------------------------- normalisation


def _eeg(seed=0, n=30):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 17, 20)) * rng.uniform(0.5, 3.0, size=(17, 20)) + 2.0).astype(np.float32)


def test_scalar_normalisation_uses_one_mean_and_std():
    eeg = _eeg()
    norm = EEGNormalisation.fit(eeg)
    assert norm.mode == "scalar"
    assert norm.mean == pytest.approx(float(np.mean(eeg.astype(np.float64))))
    assert norm.std == pytest.approx(float(np.std(eeg.astype(np.float64))))
    z = norm.apply(eeg)
    assert z.dtype == np.float32 and z.shape == eeg.shape
    assert float(z.mean()) == pytest.approx(0.0, abs=1e-5) and float(z.std()) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(norm.invert(z), eeg, rtol=1e-5, atol=1e-5)


def test_feature_normalisation_standardises_each_of_340_features():
    eeg = _eeg(1)
    norm = EEGNormalisation.fit(eeg, mode="feature")
    z = norm.apply(eeg)
    np.testing.assert_allclose(z.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(z.std(axis=0), 1.0, atol=1e-4)
    flat = norm.apply(eeg.reshape(len(eeg), 340))
    np.testing.assert_allclose(flat, z.reshape(len(eeg), 340), rtol=1e-6)
    np.testing.assert_allclose(norm.invert(z), eeg, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["scalar", "feature"])
def test_normalisation_dict_round_trip_is_plain_json(mode):
    norm = EEGNormalisation.fit(_eeg(2), mode=mode)
    record = json.loads(json.dumps(norm.to_dict()))
    assert EEGNormalisation.from_dict(record) == norm


@pytest.mark.parametrize("mode", ["scalar", "feature"])
def test_normalisation_applies_to_torch_tensors_like_numpy(mode):
    eeg = _eeg(3)
    norm = EEGNormalisation.fit(eeg, mode=mode)
    tensor = torch.from_numpy(eeg.reshape(len(eeg), 340))
    out = norm.apply(tensor)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), norm.apply(eeg).reshape(len(eeg), 340), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(norm.invert(out).numpy(), tensor.numpy(), rtol=1e-5, atol=1e-5)


def test_normalisation_refuses_constant_data_and_unknown_mode():
    with pytest.raises(DataFormatError, match="std > 0"):
        EEGNormalisation.fit(np.ones((4, 17, 20)))
    with pytest.raises(ValueError, match="mode"):
        EEGNormalisation.fit(_eeg(), mode="channel")
    with pytest.raises(DataFormatError, match=r"\(17, 20\) or \(340,\)"):
        EEGNormalisation.fit(_eeg()).apply(np.zeros((3, 17)))
