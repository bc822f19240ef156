"""Read the 49 THINGS object dimensions (SPoSE embedding, Hebart et al. 2020).

``spose_embedding_49d_sorted.txt`` holds one row per THINGS concept (1854 rows, THINGS concept
order) of 49 whitespace-separated non-negative floats, no header. The row of a THINGS-EEG2 image
is ``int(concept_THINGS[:5]) - 1`` (``'00001_aardvark'`` → row 0). Dimension labels come in
``labels.mat`` / ``labels_short.mat`` or any plain-text file with one label per line.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np

from realnet_plugins.errors import DataFormatError, MissingFileError

#: Dimensions of the SPoSE embedding.
N_DIMENSIONS: int = 49
#: Concepts of THINGS (rows of the published embedding).
N_THINGS_CONCEPTS: int = 1854

_CONCEPT = re.compile(r"^(\d{5})_")


def load_spose_embedding(path: str | Path) -> np.ndarray:
    """Read the SPoSE embedding.

    Args:
        path: ``spose_embedding_49d_sorted.txt``.

    Returns:
        (n_concepts, 49) float64, non-negative; 1854 rows for the published file.

    Raises:
        MissingFileError: when the file does not exist.
        DataFormatError: when it is not a numeric table of 49 columns of finite, non-negative values.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"SPoSE embedding not found: {path} (expected spose_embedding_49d_sorted.txt)")
    try:
        embedding = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise DataFormatError(
            f"{path}: expected rows of {N_DIMENSIONS} whitespace-separated numbers, could not parse ({error})"
        ) from None
    if embedding.shape[0] == 0 or embedding.shape[1] != N_DIMENSIONS:
        raise DataFormatError(
            f"{path}: expected (n_concepts, {N_DIMENSIONS}) values (one row per THINGS concept), "
            f"found shape {embedding.shape}"
        )
    if not np.all(np.isfinite(embedding)):
        rows = np.flatnonzero(~np.all(np.isfinite(embedding), axis=1))
        raise DataFormatError(f"{path}: expected finite values; NaN/inf in rows {rows[:10].tolist()}")
    if np.any(embedding < 0):
        rows = np.flatnonzero(np.any(embedding < 0, axis=1))
        raise DataFormatError(
            f"{path}: expected non-negative SPoSE weights; negative values in rows {rows[:10].tolist()}"
        )
    return embedding


def dimension_rows_for_things_concepts(concepts_things: Sequence[str],
                                       n_embedding_rows: int = N_THINGS_CONCEPTS) -> np.ndarray:
    """Embedding row of each THINGS concept id (``'00001_aardvark'`` → 0).

    Args:
        concepts_things: THINGS-1854 concept ids, e.g. ``test_img_concepts_THINGS`` of
            THINGS-EEG2's ``image_metadata.npy`` (not ``test_img_concepts``, whose numbers count
            the EEG release's own concepts).
        n_embedding_rows: rows of the embedding the rows will index (``embedding.shape[0]``).

    Returns:
        (n_concepts,) int64 rows in ``[0, n_embedding_rows)``.

    Raises:
        DataFormatError: for an id not starting with five digits and ``_``, or one outside the
            embedding.
    """
    malformed = [c for c in concepts_things if _CONCEPT.match(str(c)) is None]
    if malformed:
        raise DataFormatError(
            f"expected THINGS concept ids like '00001_aardvark' (5-digit 1-based index, '_', name); "
            f"found {malformed[:5]} ({len(malformed)} malformed)"
        )
    rows = np.array([int(str(c)[:5]) - 1 for c in concepts_things], dtype=np.int64)
    outside = [c for c, r in zip(concepts_things, rows) if not 0 <= r < n_embedding_rows]
    if outside:
        raise DataFormatError(
            f"expected concept numbers 1..{n_embedding_rows} (rows of the embedding); found {outside[:5]} "
            f"({len(outside)} outside). Use the THINGS-1854 ids (`*_concepts_THINGS`) with the full embedding."
        )
    return rows


def _mat_labels(path: Path) -> list[str]:
    from scipy.io import loadmat

    try:
        contents = loadmat(path)
    except NotImplementedError:
        raise DataFormatError(
            f"{path}: a MATLAB v7.3 file, which scipy cannot read; save the labels as text, one per line"
        ) from None
    variables = {k: v for k, v in contents.items() if not k.startswith("__")}
    if len(variables) != 1:
        raise DataFormatError(f"{path}: expected one variable holding the labels, found {sorted(variables)}")
    array = np.asarray(next(iter(variables.values())))
    labels = []
    for item in array.ravel():
        while isinstance(item, np.ndarray) and item.dtype == object and item.size == 1:
            item = item.ravel()[0]
        if isinstance(item, np.ndarray):
            item = "".join(str(part) for part in item.ravel())
        labels.append(str(item).strip())
    return labels


def load_dimension_labels(path: str | Path) -> list[str]:
    """Read the 49 dimension labels: ``.mat`` (a cell array or char matrix) or text, one per line.

    Returns:
        49 labels in dimension order.

    Raises:
        MissingFileError: when the file does not exist.
        DataFormatError: when it does not hold exactly 49 non-empty labels.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"dimension labels not found: {path}")
    if path.suffix.lower() == ".mat":
        labels = _mat_labels(path)
    else:
        labels = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(labels) != N_DIMENSIONS or not all(labels):
        raise DataFormatError(
            f"{path}: expected {N_DIMENSIONS} non-empty labels (one per dimension), found {len(labels)}"
        )
    return labels
