"""THINGS 49-dimension embedding, concept rows and dimension labels."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from realnet_plugins.datasets.things_dimensions.reader import (
    N_DIMENSIONS,
    dimension_rows_for_things_concepts,
    load_dimension_labels,
    load_spose_embedding,
)
from realnet_plugins.errors import DataFormatError, MissingFileError


@pytest.fixture
def embedding_values() -> np.ndarray:
    return np.random.default_rng(0).gamma(0.5, 1.0, size=(7, N_DIMENSIONS))


def test_embedding_reads_a_whitespace_table_as_float64(tmp_path, embedding_values):
    path = tmp_path / "spose_embedding_49d_sorted.txt"
    np.savetxt(path, embedding_values, fmt="%.8f", delimiter=" ")
    embedding = load_spose_embedding(path)
    assert embedding.shape == (7, N_DIMENSIONS) and embedding.dtype == np.float64
    np.testing.assert_allclose(embedding, embedding_values, atol=5e-9)


def test_single_row_embedding_keeps_two_dimensions(tmp_path, embedding_values):
    path = tmp_path / "one.txt"
    np.savetxt(path, embedding_values[:1])
    assert load_spose_embedding(path).shape == (1, N_DIMENSIONS)


@pytest.mark.parametrize("change, message", [
    (lambda a: a[:, :48], r"\(n_concepts, 49\).*shape \(7, 48\)"),
    (lambda a: np.where(np.arange(a.size).reshape(a.shape) == 60, -0.5, a), r"non-negative.*rows \[1\]"),
    (lambda a: np.where(np.arange(a.size).reshape(a.shape) == 200, np.nan, a), r"finite.*rows \[4\]"),
])
def test_embedding_validation_says_what_is_wrong(tmp_path, embedding_values, change, message):
    path = tmp_path / "bad.txt"
    np.savetxt(path, change(embedding_values))
    with pytest.raises(DataFormatError, match=message):
        load_spose_embedding(path)


def test_embedding_errors_for_text_and_missing_file(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("aardvark " * N_DIMENSIONS + "\n")
    with pytest.raises(DataFormatError, match="could not parse"):
        load_spose_embedding(path)
    with pytest.raises(MissingFileError, match="absent.txt"):
        load_spose_embedding(tmp_path / "absent.txt")


def test_concept_rows_are_the_one_based_things_number_minus_one():
    concepts = ["00001_aardvark", "00010_aircraft_carrier", "01854_zucchini", "00010_aircraft_carrier"]
    rows = dimension_rows_for_things_concepts(concepts)
    np.testing.assert_array_equal(rows, [0, 9, 1853, 9])
    assert rows.dtype == np.int64


def test_concept_rows_select_the_matching_embedding_rows(embedding_values):
    rows = dimension_rows_for_things_concepts(["00007_g", "00002_b"], n_embedding_rows=embedding_values.shape[0])
    np.testing.assert_array_equal(embedding_values[rows], embedding_values[[6, 1]])


@pytest.mark.parametrize("concepts, n_rows, message", [
    (["aardvark"], 1854, "malformed"),
    (["1_aardvark"], 1854, "malformed"),
    (["00000_nothing"], 1854, "outside"),
    (["01855_beyond"], 1854, "outside"),
    (["00008_h"], 7, r"1\.\.7"),
])
def test_concept_rows_reject_malformed_or_out_of_range_ids(concepts, n_rows, message):
    with pytest.raises(DataFormatError, match=message):
        dimension_rows_for_things_concepts(concepts, n_embedding_rows=n_rows)


def test_labels_from_text_one_per_line(tmp_path):
    labels = [f"dimension {i}" for i in range(N_DIMENSIONS)]
    path = tmp_path / "labels.txt"
    path.write_text("\n".join(labels) + "\n\n")
    assert load_dimension_labels(path) == labels


def test_labels_from_mat_cell_array_and_char_matrix(tmp_path):
    labels = [f"label_{i}" for i in range(N_DIMENSIONS)]
    cell = np.empty((N_DIMENSIONS, 1), dtype=object)
    for i, label in enumerate(labels):
        cell[i, 0] = label
    scipy.io.savemat(tmp_path / "labels.mat", {"labels": cell})
    assert load_dimension_labels(tmp_path / "labels.mat") == labels
    scipy.io.savemat(tmp_path / "labels_short.mat", {"labels_short": np.array(labels)})
    assert load_dimension_labels(tmp_path / "labels_short.mat") == labels


def test_labels_must_number_49(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("\n".join(["x"] * 48))
    with pytest.raises(DataFormatError, match="expected 49 non-empty labels.*found 48"):
        load_dimension_labels(path)
    with pytest.raises(MissingFileError):
        load_dimension_labels(tmp_path / "absent.txt")
