"""Shen 2019 BData reader, stimulus lists, release discovery and the fixture writer."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
from realnet_plugins.datasets.shen2019.reader import (
    ShenRelease,
    load_roi_responses,
    read_bdata,
    read_stimulus_list,
    stimulus_id_to_wordnet_id,
    wordnet_id_to_stimulus_id,
)
from realnet_plugins.errors import DataFormatError, MissingFileError

SESSIONS = {"natural": "perceptionNaturalImageTest", "shape": "perceptionArtificialImage",
            "letter": "perceptionLetterImage"}
SMALL = dict(n_subjects=2, n_natural=6, n_shape=5, n_letter=3, reps=(3, 2, 2), voxels_per_roi=4, image_size=32)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_shen2019_release(tmp_path_factory.mktemp("shen"), **SMALL)


@pytest.fixture(scope="module")
def legacy_release(tmp_path_factory) -> Path:
    return write_shen2019_release(tmp_path_factory.mktemp("shen_legacy"), legacy_layout=True, **SMALL)


def h5_name(subject: int, image_set: str) -> str:
    return f"sub-{subject:02d}_{SESSIONS[image_set]}_original_VC.h5"


def direct_h5_read(path: Path) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(dataset, keys, value) with plain h5py, whichever group spelling the file uses."""
    with h5py.File(path, "r") as handle:
        data = handle["dataset"][()] if "dataset" in handle else handle["dataSet"][()]
        meta = handle["metadata"] if "metadata" in handle else handle["metaData"]
        keys = [k.decode() for k in meta["key"][()]]
        value = meta["value"][()]
    return data, keys, value


def rename_metadata_keys(path: Path, renames: dict[str, str]) -> None:
    """Rename metadata keys in place (same byte width), e.g. to hide a label column."""
    with h5py.File(path, "r+") as handle:
        keys = [k.decode() for k in handle["metadata/key"][()]]
        new = np.array([renames.get(k, k).encode() for k in keys])
        del handle["metadata/key"]
        handle.create_dataset("metadata/key", data=new)


@pytest.mark.parametrize("code, expected", [
    (1443537.022563, "n01443537_22563"),
    (1443537.02256, "n01443537_22560"),  # a trailing zero lost in printing belongs to the image number
    (4572121.003262, "n04572121_3262"),
    (3767745.000109, "n03767745_109"),
    (1518878.005958, "n01518878_5958"),
    (2139199.1, "n02139199_100000"),
])
def test_stimulus_id_converts_to_wordnet_stem_with_six_decimal_image_number(code, expected):
    assert stimulus_id_to_wordnet_id(code) == expected


@pytest.mark.parametrize("stem", ["n01443537_22563", "n04572121_3262", "n03767745_109", "n02139199_10398"])
def test_wordnet_stem_round_trips_through_stimulus_id(stem):
    assert stimulus_id_to_wordnet_id(wordnet_id_to_stimulus_id(stem)) == stem


@pytest.mark.parametrize("code", [float("nan"), -1.5, 0.0, 1e9])
def test_invalid_stimulus_id_codes_are_refused(code):
    with pytest.raises(DataFormatError, match="stimulus_id code"):
        stimulus_id_to_wordnet_id(code)


@pytest.mark.parametrize("layout", ["release", "legacy_release"])
def test_select_matches_plain_h5py_column_mask_in_both_layouts(layout, request):
    root = request.getfixturevalue(layout)
    path = root / h5_name(1, "natural")
    data, keys, value = direct_h5_read(path)
    bdata = read_bdata(path)
    assert bdata.keys() == keys
    assert (bdata.n_samples, bdata.n_columns) == data.shape
    for key in keys:
        np.testing.assert_array_equal(bdata.select(key), data[:, value[keys.index(key)] == 1])


def test_roi_names_are_enumerated_from_the_file(tmp_path):
    write_shen2019_release(tmp_path, n_subjects=1, n_natural=3, n_shape=2, n_letter=2, rois=("V1", "LOC", "FFA", "HVC"),
                           voxels_per_roi=3, image_size=16)
    bdata = read_bdata(tmp_path / h5_name(1, "shape"))
    assert bdata.roi_names() == ["V1", "LOC", "FFA", "HVC"]
    np.testing.assert_array_equal(bdata.column_indices("ROI_HVC"),
                                  np.union1d(bdata.column_indices("ROI_LOC"), bdata.column_indices("ROI_FFA")))


@pytest.mark.parametrize("layout", ["release", "legacy_release"])
@pytest.mark.parametrize("image_set", ["natural", "shape", "letter"])
def test_roi_responses_equal_a_plain_average_over_repetitions(layout, image_set, request):
    root = request.getfixturevalue(layout)
    path = root / h5_name(2, image_set)
    tsv = root / f"{SESSIONS[image_set]}.tsv"
    data, keys, value = direct_h5_read(path)
    voxels = data[:, value[keys.index("ROI_V4")] == 1]
    image_index = data[:, value[keys.index("image_index")] == 1][:, 0]
    stems = {}
    for line in tsv.read_text().splitlines():
        stem, index = line.split("\t")[:2]
        stems[int(index)] = stem
    expected = np.stack([voxels[image_index == i].mean(axis=0) for i in sorted(stems)])

    result = load_roi_responses(path, "V4", tsv)

    np.testing.assert_allclose(result.responses, expected, rtol=0, atol=1e-12)
    assert result.responses.dtype == np.float64
    assert result.stimulus_ids == [stems[i] for i in sorted(stems)]
    reps = SMALL["reps"][list(SESSIONS).index(image_set)]
    np.testing.assert_array_equal(result.n_repetitions, np.full(len(stems), reps))
    np.testing.assert_array_equal(load_roi_responses(path, "ROI_V4", tsv).responses, result.responses)


def test_labels_fall_back_to_stimulus_id_then_label(release, tmp_path):
    path = tmp_path / "natural.h5"
    shutil.copy(release / h5_name(1, "natural"), path)
    expected = load_roi_responses(path, "V1", release / f"{SESSIONS['natural']}.tsv")
    natural_stems = [stem for stem, _ in read_stimulus_list(release / f"{SESSIONS['natural']}.tsv")]

    rename_metadata_keys(path, {"image_index": "image_indeX"})
    labels = read_bdata(path).sample_labels()
    assert labels.source_key == "stimulus_id" and labels.image_index is None
    by_stimulus_id = load_roi_responses(path, "V1")
    assert by_stimulus_id.stimulus_ids == sorted(natural_stems)  # sorted stems = image_index order
    np.testing.assert_allclose(by_stimulus_id.responses, expected.responses, atol=1e-12)

    rename_metadata_keys(path, {"stimulus_id": "stimulus_iD"})
    assert read_bdata(path).sample_labels().source_key == "Label"
    by_label = load_roi_responses(path, "V1", release / f"{SESSIONS['natural']}.tsv")
    assert by_label.stimulus_ids == expected.stimulus_ids
    np.testing.assert_allclose(by_label.responses, expected.responses, atol=1e-12)


def test_integer_label_column_is_read_as_image_index(release, tmp_path):
    path = tmp_path / "shape.h5"
    shutil.copy(release / h5_name(1, "shape"), path)
    rename_metadata_keys(path, {"image_index": "image_indeX"})
    labels = read_bdata(path).sample_labels()
    assert labels.source_key == "Label"
    data, keys, value = direct_h5_read(path)
    np.testing.assert_array_equal(labels.image_index, data[:, value[keys.index("image_indeX")] == 1][:, 0])


def test_missing_label_column_names_keys_looked_for_and_present(release, tmp_path):
    path = tmp_path / "nolabel.h5"
    shutil.copy(release / h5_name(1, "natural"), path)
    rename_metadata_keys(path, {"image_index": "image_indeX", "stimulus_id": "stimulus_iD", "Label": "LabeL"})
    with pytest.raises(DataFormatError) as error:
        load_roi_responses(path, "V1")
    message = str(error.value)
    assert "['image_index', 'stimulus_id', 'Label']" in message and "LabeL" in message and "ROI_V1" in message


def test_missing_roi_lists_the_rois_the_file_has(release):
    with pytest.raises(DataFormatError) as error:
        load_roi_responses(release / h5_name(1, "natural"), "MT")
    assert "'MT'" in str(error.value)
    assert "['V1', 'V2', 'V3', 'V4', 'LOC', 'FFA', 'PPA', 'HVC', 'VC']" in str(error.value)


def test_stimulus_list_mismatch_lists_images_missing_on_each_side(release, tmp_path):
    entries = read_stimulus_list(release / f"{SESSIONS['shape']}.tsv")
    bad = tmp_path / "perceptionArtificialImage.tsv"
    bad.write_text("".join(f"{stem}\t{index}\n" for stem, index in entries[1:]) + "extra_image\t99\n")
    with pytest.raises(DataFormatError) as error:
        load_roi_responses(release / h5_name(1, "shape"), "V1", bad)
    message = str(error.value)
    assert f"In the file but not the list: [{entries[0][1]}]" in message
    assert "image_index 99" in message


def test_nan_voxels_are_refused_unless_dropped(release, tmp_path, caplog):
    path = tmp_path / "nan.h5"
    shutil.copy(release / h5_name(1, "letter"), path)
    bdata = read_bdata(path)
    roi_columns = bdata.column_indices("ROI_V2")
    with h5py.File(path, "r+") as handle:
        handle["dataset"][2, roi_columns[1]] = np.nan
        handle["dataset"][0, roi_columns[3]] = np.inf
    with pytest.raises(DataFormatError, match="2 of 4 voxels of ROI_V2.*drop-voxels"):
        load_roi_responses(path, "V2")
    with caplog.at_level(logging.WARNING, logger="realnet_plugins.datasets.shen2019.reader"):
        dropped = load_roi_responses(path, "V2", nan_policy="drop-voxels")
    assert "dropped 2 of 4 voxels" in caplog.text
    data, keys, value = direct_h5_read(path)
    index = data[:, value[keys.index("image_index")] == 1][:, 0]
    kept = data[:, roi_columns[[0, 2]]]
    expected = np.stack([kept[index == i].mean(axis=0) for i in np.unique(index)])
    np.testing.assert_allclose(dropped.responses, expected, atol=1e-12)
    with pytest.raises(DataFormatError, match="nan_policy"):
        load_roi_responses(path, "V2", nan_policy="zero")


def test_stimulus_list_reads_first_two_columns_and_rejects_malformed_lines(release, tmp_path):
    entries = read_stimulus_list(release / f"{SESSIONS['natural']}.tsv")
    assert [index for _, index in entries] == list(range(1, SMALL["n_natural"] + 1))
    assert all(stem.startswith("n") and "\t" not in stem for stem, _ in entries)
    bad = tmp_path / "bad.tsv"
    bad.write_text("a\t1\nb 2\n")
    with pytest.raises(DataFormatError, match="bad.tsv:2"):
        read_stimulus_list(bad)
    bad.write_text("a\t1\nb\t1\n")
    with pytest.raises(DataFormatError, match="repeated"):
        read_stimulus_list(bad)


def test_not_a_bdata_file_is_reported(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("x", data=np.zeros(3))
    with pytest.raises(DataFormatError, match="not a BData file"):
        read_bdata(path)
    with pytest.raises(MissingFileError):
        read_bdata(tmp_path / "absent.h5")


def test_release_maps_subjects_and_image_sets_to_files(release):
    shen = ShenRelease(release, subjects=(1, 2))
    assert shen.subjects() == (1, 2)
    assert shen.image_sets() == ("natural", "shape", "letter")
    assert shen.path(2, "letter") == release / h5_name(2, "letter")
    assert shen.stimulus_list_path("shape") == release / "perceptionArtificialImage.tsv"
    for image_set in shen.image_sets():
        stems = [stem for stem, _ in shen.stimulus_list(image_set)]
        result = shen.load_roi_responses(1, image_set, "VC")
        assert result.stimulus_ids == stems
        for stem in stems:
            assert Image.open(shen.image_path(image_set, stem)).size == (SMALL["image_size"],) * 2


def test_release_names_every_missing_file(release, tmp_path):
    root = tmp_path / "partial"
    shutil.copytree(release, root)
    (root / h5_name(2, "shape")).unlink()
    (root / "perceptionLetterImage.tsv").unlink()
    with pytest.raises(MissingFileError) as error:
        ShenRelease(root)  # default: subjects 1-3, of which the fixture wrote two
    message = str(error.value)
    for missing in ("sub-02_perceptionArtificialImage_original_VC.h5",
                    "sub-03_perceptionNaturalImageTest_original_VC.h5",
                    "sub-03_perceptionLetterImage_original_VC.h5", "perceptionLetterImage.tsv"):
        assert missing in message
    assert "sub-01_" not in message and str(root) in message
    assert ShenRelease(root, subjects=(1,), image_sets=("natural",)).path(1, "natural").exists()


def test_release_prefers_the_v2_file_in_subfolders(release, tmp_path):
    root = tmp_path / "v2"
    shutil.copytree(release, root)
    (root / "fmri").mkdir()
    v2 = root / "fmri" / "sub-01_perceptionNaturalImageTest_VC_v2.h5"
    shutil.move(root / h5_name(1, "letter"), root / "fmri" / h5_name(1, "letter"))
    shutil.copy(release / h5_name(2, "natural"), v2)
    shen = ShenRelease(root, subjects=(1, 2))
    assert shen.path(1, "natural") == v2
    assert shen.path(1, "letter") == root / "fmri" / h5_name(1, "letter")


def test_missing_image_error_says_where_it_looked(release):
    shen = ShenRelease(release, subjects=(1,))
    with pytest.raises(MissingFileError) as error:
        shen.image_path("natural", "n09999999_1")
    assert str(release / "images" / "natural") in str(error.value) and "ImageNet" in str(error.value)
    with pytest.raises(DataFormatError, match="unknown image set"):
        shen.image_path("faces", "x")


def test_fixture_metadata_follows_bdpy_conventions(release):
    path = release / h5_name(1, "natural")
    with h5py.File(path, "r") as handle:
        assert handle["metadata/key"].dtype.kind == "S" and handle["metadata/description"].dtype.kind == "S"
        assert handle["dataset"].dtype == np.float64 and handle["metadata/value"].dtype == np.float64
    data, keys, value = direct_h5_read(path)
    voxel_columns = value[keys.index("VoxelData")] == 1
    assert np.isnan(value[keys.index("VoxelData")][~voxel_columns]).all()
    for key in ("Run", "Block", "Label", "image_index", "stimulus_id"):
        row = value[keys.index(key)]
        assert set(np.unique(row[~np.isnan(row)])) == {1.0} and not (row[voxel_columns] == 1).any()
    for roi in ("ROI_V1", "ROI_HVC", "ROI_VC"):
        row = value[keys.index(roi)]
        assert np.isnan(row[~voxel_columns]).all() and set(np.unique(row[voxel_columns])) <= {0.0, 1.0}
    np.testing.assert_array_equal(value[keys.index("ROI_VC")] == 1, voxel_columns)
    hvc = np.logical_or.reduce([value[keys.index(f"ROI_{r}")] == 1 for r in ("LOC", "FFA", "PPA")])
    np.testing.assert_array_equal(value[keys.index("ROI_HVC")] == 1, hvc)
    stimulus_ids = data[:, value[keys.index("stimulus_id")] == 1][:, 0]
    labels = data[:, value[keys.index("Label")] == 1][:, 1]
    np.testing.assert_array_equal(stimulus_ids, labels)


def test_fixture_is_deterministic_and_seeded(tmp_path):
    kwargs = dict(n_subjects=1, n_natural=3, n_shape=2, n_letter=2, voxels_per_roi=2, image_size=16)
    first = write_shen2019_release(tmp_path / "a", seed=3, **kwargs)
    again = write_shen2019_release(tmp_path / "b", seed=3, **kwargs)
    other = write_shen2019_release(tmp_path / "c", seed=4, **kwargs)
    name = h5_name(1, "natural")
    np.testing.assert_array_equal(direct_h5_read(first / name)[0], direct_h5_read(again / name)[0])
    assert ((first / "perceptionNaturalImageTest.tsv").read_text()
            == (again / "perceptionNaturalImageTest.tsv").read_text())
    assert direct_h5_read(first / name)[0].shape == direct_h5_read(other / name)[0].shape
    assert not np.allclose(direct_h5_read(first / name)[0], direct_h5_read(other / name)[0])


def test_fixture_responses_carry_image_specific_signal(tmp_path):
    root = write_shen2019_release(tmp_path, n_subjects=1, n_natural=8, n_shape=2, n_letter=2, reps=(6, 2, 2),
                                  voxels_per_roi=20, image_size=32)
    data, keys, value = direct_h5_read(root / h5_name(1, "natural"))
    voxels = data[:, value[keys.index("ROI_V1")] == 1]
    index = data[:, value[keys.index("image_index")] == 1][:, 0]
    run = data[:, value[keys.index("Run")] == 1][:, 0]
    odd = np.stack([voxels[(index == i) & (run % 2 == 1)].mean(axis=0) for i in range(1, 9)])
    even = np.stack([voxels[(index == i) & (run % 2 == 0)].mean(axis=0) for i in range(1, 9)])
    odd -= odd.mean(axis=0)
    even -= even.mean(axis=0)
    correlation = np.corrcoef(odd, even)[:8, 8:]
    assert np.diag(correlation).mean() > correlation[~np.eye(8, dtype=bool)].mean() + 0.5
