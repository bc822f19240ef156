"""Read the Shen et al. (2019) "Deep image reconstruction" fMRI release (figshare 7033577).

The preprocessed files are bdpy "BData" HDF5 files, read here with h5py alone (bdpy is not a
dependency)::

    /dataset               float64 (n_samples, n_columns)   voxel and label columns side by side
    /metadata/key          bytes (n_keys,)                  b'VoxelData', b'ROI_V1', b'image_index', ...
    /metadata/description  bytes (n_keys,)
    /metadata/value        float64 (n_keys, n_columns)      1 = the column belongs to the key

Older files spell the groups ``/dataSet`` and ``/metaData``; both spellings are read. A key
*selects* the columns where its metadata row equals 1 (NaN and 0 select nothing), as bdpy's
``select('KEY = 1')`` does.

Image labels of the samples come from the first of these keys the file has:

1. ``image_index``: one column of integers 1..N, the second column of the session's stimulus list;
2. ``stimulus_id``: one column of float WordNet codes, ``1443537.022563`` → ``n01443537_22563``
   (integer part = synset offset, the six decimals = image number; see
   :func:`stimulus_id_to_wordnet_id`);
3. ``Label``: the second column it selects (the oldest files). Values with a fractional part are
   read as stimulus_id codes; integer values as image indices (unverified on a real file).

:func:`load_roi_responses` averages the repetitions of each image in one ROI; :class:`ShenRelease`
finds a download's files and checks that nothing is missing.
"""
from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import h5py
import numpy as np

from realnet_plugins.errors import DataFormatError, MissingFileError

logger = logging.getLogger(__name__)

#: Label keys in order of preference.
LABEL_KEYS: tuple[str, ...] = ("image_index", "stimulus_id", "Label")
#: Subjects of the published release.
SHEN_SUBJECTS: tuple[int, ...] = (1, 2, 3)
#: Image sets and the session name of their files and stimulus lists.
IMAGE_SET_SESSIONS: dict[str, str] = {
    "natural": "perceptionNaturalImageTest",
    "shape": "perceptionArtificialImage",
    "letter": "perceptionLetterImage",
}
#: Ways to treat non-finite voxel values in :func:`load_roi_responses`.
NAN_POLICIES: tuple[str, ...] = ("raise", "drop-voxels")
#: Image file extensions tried by :meth:`ShenRelease.image_path`, in order.
IMAGE_EXTENSIONS: tuple[str, ...] = (
    ".JPEG", ".jpeg", ".jpg", ".JPG", ".tiff", ".tif", ".TIFF", ".TIF", ".png", ".PNG", ".bmp",
)

_DATASET_NAMES = ("dataset", "dataSet")
_METADATA_NAMES = ("metadata", "metaData")
_ROI_PREFIX = "ROI_"
_H5_NAME = re.compile(
    r"^sub-(?P<subject>\d+)_(?P<session>perception(?:NaturalImageTest|ArtificialImage|LetterImage))"
    r"(?:_original)?_VC(?:_v(?P<version>\d+))?\.h5$"
)


def _as_text(item: object) -> str:
    if isinstance(item, (bytes, np.bytes_)):
        return bytes(item).decode("utf-8")
    return str(item)


def stimulus_id_to_wordnet_id(code: float) -> str:
    """Convert a float stimulus_id code to the ImageNet file stem.

    The integer part is the WordNet synset offset (8 digits with leading zeros), the fractional
    part the image number written with exactly six decimals. Trailing zeros that were dropped
    when the code was printed belong to the image number: ``1443537.02256`` is image 22560.

    Args:
        code: e.g. ``1443537.022563``.

    Returns:
        e.g. ``'n01443537_22563'``.

    Raises:
        DataFormatError: for a non-finite, non-positive or too large code.
    """
    value = float(code)
    if not math.isfinite(value) or value <= 0 or value >= 1e8:
        raise DataFormatError(
            f"expected a stimulus_id code 0 < code < 1e8 (synset offset + image number / 1e6), found {code!r}"
        )
    synset, image = f"{value:.6f}".split(".")
    return f"n{int(synset):08d}_{int(image)}"


def wordnet_id_to_stimulus_id(stem: str) -> float:
    """Inverse of :func:`stimulus_id_to_wordnet_id`: ``'n01443537_22563'`` → ``1443537.022563``.

    Raises:
        DataFormatError: when ``stem`` is not ``n<8 digits>_<image number below 1e6>``.
    """
    match = re.fullmatch(r"n(\d{8})_(\d{1,6})", stem)
    if match is None:
        raise DataFormatError(f"expected an ImageNet stem like 'n01443537_22563', found {stem!r}")
    return int(match.group(1)) + int(match.group(2)) / 1e6


@dataclass(frozen=True)
class SampleLabels:
    """The image label of every sample of a BData file.

    Attributes:
        source_key: the metadata key the labels were read from (one of :data:`LABEL_KEYS`).
        image_index: (n_samples,) int, 1-based image indices; ``None`` when the file labels
            samples by stimulus_id.
        stimulus_ids: per-sample ImageNet stems; ``None`` when the file labels by image index.
    """

    source_key: str
    image_index: np.ndarray | None
    stimulus_ids: list[str] | None


class BDataFile:
    """A bdpy BData HDF5 file: metadata read at once, data columns read on demand.

    Use :func:`read_bdata` to open one.

    Attributes:
        path: the file.
        n_samples: rows of the data matrix.
        n_columns: columns of the data matrix (voxels and labels).
    """

    def __init__(self, path: Path, dataset_name: str, keys: list[str], descriptions: list[str],
                 values: np.ndarray, n_samples: int) -> None:
        self.path = path
        self._dataset_name = dataset_name
        self._keys = keys
        self._descriptions = descriptions
        self._values = values
        self._row_of_key: dict[str, int] = {}
        for row, key in enumerate(keys):
            self._row_of_key.setdefault(key, row)
        self.n_samples = n_samples
        self.n_columns = values.shape[1]

    def keys(self) -> list[str]:
        """Metadata keys in file order."""
        return list(self._keys)

    def description(self, key: str) -> str:
        """The description stored with ``key``."""
        return self._descriptions[self._row(key)]

    def metadata(self, key: str) -> np.ndarray:
        """The metadata row of ``key``: (n_columns,) float64, NaN where the key says nothing."""
        return self._values[self._row(key)].copy()

    def column_indices(self, key: str) -> np.ndarray:
        """Indices (ascending) of the columns whose metadata row for ``key`` equals 1."""
        return np.flatnonzero(self._values[self._row(key)] == 1)

    def select(self, key: str) -> np.ndarray:
        """The data columns selected by ``key``: (n_samples, n_selected) float64.

        Raises:
            DataFormatError: when the file has no such key.
        """
        return self._read_columns(self.column_indices(key))

    def roi_names(self) -> list[str]:
        """ROI names (``ROI_`` prefix removed) of every ``ROI_*`` key, in file order."""
        return [key[len(_ROI_PREFIX):] for key in self._keys if key.startswith(_ROI_PREFIX)]

    def sample_labels(self) -> SampleLabels:
        """The image label of each sample, from the first key of :data:`LABEL_KEYS` present.

        Raises:
            DataFormatError: when no label key is present, or its columns are not as documented.
        """
        source = next((key for key in LABEL_KEYS if key in self._row_of_key), None)
        if source is None:
            raise DataFormatError(
                f"{self.path}: no image label column; looked for the keys {list(LABEL_KEYS)} "
                f"(in that order) but the file has {self._keys}"
            )
        columns = self.select(source)
        if source == "Label":
            if columns.shape[1] < 2:
                raise DataFormatError(
                    f"{self.path}: expected 'Label' to select at least 2 columns (the second holds the stimulus), "
                    f"found {columns.shape[1]}"
                )
            values = columns[:, 1]
        else:
            if columns.shape[1] != 1:
                raise DataFormatError(
                    f"{self.path}: expected '{source}' to select exactly one column, found {columns.shape[1]}"
                )
            values = columns[:, 0]
        if not np.all(np.isfinite(values)):
            bad = np.flatnonzero(~np.isfinite(values))
            raise DataFormatError(
                f"{self.path}: the '{source}' label is not finite for {bad.size} samples "
                f"(first rows {bad[:5].tolist()}); "
                "every sample needs an image label"
            )
        is_integral = bool(np.all(values == np.round(values)))
        if source == "image_index" or (source == "Label" and is_integral):
            if not is_integral or np.any(values < 1):
                raise DataFormatError(
                    f"{self.path}: expected '{source}' image indices to be integers >= 1, "
                    f"found values such as {values[:5].tolist()}"
                )
            return SampleLabels(source, values.astype(np.int64), None)
        return SampleLabels(source, None, [stimulus_id_to_wordnet_id(v) for v in values])

    def _row(self, key: str) -> int:
        try:
            return self._row_of_key[key]
        except KeyError:
            raise DataFormatError(f"{self.path}: no metadata key {key!r}; the file has {self._keys}") from None

    def _read_columns(self, columns: np.ndarray) -> np.ndarray:
        if columns.size == 0:
            return np.empty((self.n_samples, 0), dtype=np.float64)
        first, last = int(columns[0]), int(columns[-1])
        with h5py.File(self.path, "r") as handle:
            block = np.asarray(handle[self._dataset_name][:, first:last + 1], dtype=np.float64)
        return block[:, columns - first]


def _find_member(group: h5py.Group, names: Sequence[str], path: Path, what: str) -> str:
    for name in names:
        if name in group:
            return name
    raise DataFormatError(
        f"{path}: not a BData file; expected {what} named one of {list(names)}, found {sorted(group.keys())}"
    )


def read_bdata(path: str | Path) -> BDataFile:
    """Open a bdpy BData HDF5 file (either group spelling) and read its metadata.

    Args:
        path: a ``.h5`` file.

    Raises:
        MissingFileError: when the file does not exist.
        DataFormatError: when the file is not HDF5 or lacks the BData layout.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"BData file not found: {path}")
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise DataFormatError(f"{path}: expected an HDF5 file, could not open it ({error})") from None
    with handle:
        dataset_name = _find_member(handle, _DATASET_NAMES, path, "a data matrix")
        metadata = handle[_find_member(handle, _METADATA_NAMES, path, "a metadata group")]
        for field in ("key", "value"):
            if field not in metadata:
                raise DataFormatError(
                    f"{path}: expected '{metadata.name}/{field}', found {sorted(metadata.keys())}"
                )
        keys = [_as_text(k) for k in np.asarray(metadata["key"]).ravel()]
        values = np.asarray(metadata["value"], dtype=np.float64)
        if "description" in metadata:
            descriptions = [_as_text(d) for d in np.asarray(metadata["description"]).ravel()]
        else:
            descriptions = [""] * len(keys)
        data_shape = handle[dataset_name].shape
    if len(data_shape) != 2:
        raise DataFormatError(f"{path}: expected a 2-D data matrix (samples, columns), found shape {data_shape}")
    if values.shape != (len(keys), data_shape[1]) or len(descriptions) != len(keys):
        raise DataFormatError(
            f"{path}: expected metadata value of shape (n_keys, n_columns) = ({len(keys)}, {data_shape[1]}) "
            f"and {len(keys)} descriptions; found value {values.shape} and {len(descriptions)} descriptions"
        )
    return BDataFile(path, dataset_name, keys, descriptions, values, int(data_shape[0]))


def read_stimulus_list(path: str | Path) -> list[tuple[str, int]]:
    """Read a session's stimulus list: tab-separated, no header, (file stem, image_index).

    Only the first two columns are read; blank lines are skipped.

    Returns:
        ``[(stem, image_index), ...]`` in file order.

    Raises:
        MissingFileError: when the file does not exist.
        DataFormatError: for a line with fewer than two columns, a non-integer index, or a
            repeated stem or index.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"stimulus list not found: {path}")
    entries: list[tuple[str, int]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataFormatError(f"{path}:{number}: expected 'stem<TAB>image_index', found {line!r}")
        try:
            index = int(float(fields[1]))
        except ValueError:
            raise DataFormatError(f"{path}:{number}: expected an integer image_index, found {fields[1]!r}") from None
        if index != float(fields[1]):
            raise DataFormatError(f"{path}:{number}: expected an integer image_index, found {fields[1]!r}")
        entries.append((fields[0].strip(), index))
    for position, what in ((0, "stem"), (1, "image_index")):
        seen = [entry[position] for entry in entries]
        repeated = sorted({v for v in seen if seen.count(v) > 1}, key=str)
        if repeated:
            raise DataFormatError(f"{path}: each {what} must appear once; repeated: {repeated[:10]}")
    return entries


class RoiResponses(NamedTuple):
    """Repetition-averaged responses of one ROI.

    Attributes:
        responses: (n_images, n_voxels) float64, the mean over repetitions, rows in image_index
            order (by stimulus id when the file has no image indices and no list is given).
        stimulus_ids: n_images ids: stems from the stimulus list when one is given, else the
            file's ImageNet stems (stimulus_id labels) or image indices as decimal strings.
        n_repetitions: (n_images,) int, samples averaged per image.
    """

    responses: np.ndarray
    stimulus_ids: list[str]
    n_repetitions: np.ndarray


def _roi_key(bdata: BDataFile, roi: str) -> str:
    name = roi[len(_ROI_PREFIX):] if roi.startswith(_ROI_PREFIX) else roi
    key = _ROI_PREFIX + name
    if key not in bdata.keys():
        raise DataFormatError(
            f"{bdata.path}: no ROI {name!r} (key {key!r}); the file has the ROIs {bdata.roi_names()}"
        )
    return key


def _image_order(bdata: BDataFile, labels: SampleLabels,
                 stimulus_list: list[tuple[str, int]] | None) -> tuple[list[str], np.ndarray]:
    """(stimulus ids in image order, (n_samples,) image position of each sample)."""
    if labels.image_index is not None:
        sample_keys: list = labels.image_index.tolist()
    else:
        sample_keys = list(labels.stimulus_ids)
    present = set(sample_keys)
    if stimulus_list is None:
        ordered = sorted(present)
        ids = [str(k) for k in ordered]
    else:
        listed = sorted(stimulus_list, key=lambda entry: entry[1])
        if labels.image_index is not None:
            ordered = [index for _, index in listed]
            in_list = {index: f"image_index {index}" for index in ordered}
        else:
            ordered = [stem for stem, _ in listed]
            in_list = {stem: stem for stem in ordered}
        missing_from_list = sorted(present - set(ordered), key=str)
        missing_from_file = [in_list[k] for k in ordered if k not in present]
        if missing_from_list or missing_from_file:
            raise DataFormatError(
                f"{bdata.path}: the stimulus list and the file disagree (labels from '{labels.source_key}'). "
                f"In the file but not the list: {missing_from_list[:20]}; in the list but not the file: "
                f"{missing_from_file[:20]}. Use the list of the same session as the file."
            )
        ids = [stem for stem, _ in listed]
    position = {key: i for i, key in enumerate(ordered)}
    return ids, np.array([position[k] for k in sample_keys], dtype=np.int64)


def load_roi_responses(h5_path: str | Path, roi: str, stimulus_tsv: str | Path | None = None,
                       nan_policy: str = "raise") -> RoiResponses:
    """Average the repetitions of every image in one ROI of a Shen 2019 BData file.

    Args:
        h5_path: a ``sub-0N_perception*_VC.h5`` file.
        roi: ROI name with or without the ``ROI_`` prefix (``'V1'`` or ``'ROI_V1'``).
        stimulus_tsv: the session's stimulus list; when given, ``stimulus_ids`` are its stems and
            the file's images must be exactly the list's images.
        nan_policy: ``'raise'`` (default) refuses non-finite voxel values; ``'drop-voxels'`` drops
            every voxel column that is non-finite in any sample, with a logged warning.

    Returns:
        :class:`RoiResponses` (responses (n_images, n_voxels) float64, stimulus ids, repetitions).

    Raises:
        DataFormatError: for an unknown ROI or nan_policy, missing labels, non-finite voxels under
            ``'raise'``, or a stimulus list that does not match the file.
    """
    if nan_policy not in NAN_POLICIES:
        raise DataFormatError(f"expected nan_policy in {list(NAN_POLICIES)}, found {nan_policy!r}")
    bdata = read_bdata(h5_path)
    key = _roi_key(bdata, roi)
    labels = bdata.sample_labels()
    stimulus_list = None if stimulus_tsv is None else read_stimulus_list(stimulus_tsv)
    ids, image_of_sample = _image_order(bdata, labels, stimulus_list)
    logger.info("%s: image labels read from the '%s' key", bdata.path.name, labels.source_key)
    voxels = bdata.select(key)
    if voxels.shape[1] == 0:
        raise DataFormatError(f"{bdata.path}: ROI key {key!r} selects no voxel columns")
    finite_columns = np.all(np.isfinite(voxels), axis=0)
    if not finite_columns.all():
        n_bad = int((~finite_columns).sum())
        if nan_policy == "raise":
            raise DataFormatError(
                f"{bdata.path}: {n_bad} of {voxels.shape[1]} voxels of {key} have NaN/inf values; "
                "pass nan_policy='drop-voxels' to drop those voxels"
            )
        if n_bad == voxels.shape[1]:
            raise DataFormatError(f"{bdata.path}: every voxel of {key} has NaN/inf values; nothing to keep")
        logger.warning("%s: dropped %d of %d voxels of %s with NaN/inf values",
                       bdata.path.name, n_bad, voxels.shape[1], key)
        voxels = voxels[:, finite_columns]
    n_images = len(ids)
    n_repetitions = np.bincount(image_of_sample, minlength=n_images)
    sums = np.zeros((n_images, voxels.shape[1]), dtype=np.float64)
    np.add.at(sums, image_of_sample, voxels)
    return RoiResponses(sums / n_repetitions[:, None], ids, n_repetitions)


class ShenRelease:
    """A local copy of the Shen 2019 files: BData files, stimulus lists and (optionally) images.

    Files are found anywhere below ``root`` by their published names
    ``sub-0N_perception{NaturalImageTest,ArtificialImage,LetterImage}_original_VC.h5`` (also
    ``..._VC_v2.h5`` and ``..._original_VC_v2.h5``; where several versions of one file exist the
    highest version is used and the choice logged) and the stimulus lists
    ``perception{NaturalImageTest,ArtificialImage,LetterImage}.tsv``.

    Args:
        root: the download folder.
        subjects: subjects that must be present (default: the three published subjects).
        image_sets: image sets that must be present, among ``'natural' | 'shape' | 'letter'``.
        images_dir: folder of the stimulus images (``<images_dir>/<image set>/<stem>.<ext>`` or
            ``<images_dir>/<stem>.<ext>``); default ``<root>/images``. Natural images are
            ImageNet photos (``<stem>.JPEG``), not redistributed with the release.

    Raises:
        MissingFileError: naming every expected file that was not found, and where.
        DataFormatError: for an unknown image set, or two different stimulus lists of one session.
    """

    def __init__(self, root: str | Path, subjects: Sequence[int] = SHEN_SUBJECTS,
                 image_sets: Sequence[str] = tuple(IMAGE_SET_SESSIONS), images_dir: str | Path | None = None) -> None:
        self.root = Path(root)
        unknown = [s for s in image_sets if s not in IMAGE_SET_SESSIONS]
        if unknown:
            raise DataFormatError(f"unknown image sets {unknown}; expected some of {list(IMAGE_SET_SESSIONS)}")
        if not self.root.is_dir():
            raise MissingFileError(f"Shen 2019 release folder not found: {self.root}")
        self._subjects = tuple(int(s) for s in subjects)
        self._image_sets = tuple(image_sets)
        self.images_dir = self.root / "images" if images_dir is None else Path(images_dir)
        found_h5: dict[tuple[int, str], tuple[int, Path]] = {}
        for path in sorted(self.root.rglob("*.h5")):
            match = _H5_NAME.match(path.name)
            if match is None:
                continue
            slot = (int(match.group("subject")), match.group("session"))
            version = int(match.group("version") or 1)
            if slot in found_h5:
                kept = max(found_h5[slot], (version, path))
                logger.info("several files for sub-%02d %s; using %s", slot[0], slot[1], kept[1])
                found_h5[slot] = kept
            else:
                found_h5[slot] = (version, path)
        missing: list[str] = []
        self._h5: dict[tuple[int, str], Path] = {}
        for subject in self._subjects:
            for image_set in self._image_sets:
                session = IMAGE_SET_SESSIONS[image_set]
                if (subject, session) in found_h5:
                    self._h5[(subject, image_set)] = found_h5[(subject, session)][1]
                else:
                    missing.append(f"sub-{subject:02d}_{session}_original_VC.h5 (or a _v2 variant)")
        self._tsv: dict[str, Path] = {}
        for image_set in self._image_sets:
            name = f"{IMAGE_SET_SESSIONS[image_set]}.tsv"
            candidates = sorted(self.root.rglob(name))
            if not candidates:
                missing.append(name)
                continue
            contents = {tuple(read_stimulus_list(c)) for c in candidates}
            if len(contents) > 1:
                raise DataFormatError(
                    f"found {len(candidates)} different copies of {name}: {[str(c) for c in candidates]}; keep one"
                )
            self._tsv[image_set] = candidates[0]
        if missing:
            raise MissingFileError(
                f"the Shen 2019 release under {self.root} (searched with subfolders) is incomplete; missing: "
                + "; ".join(missing)
                + ". Download the preprocessed files from figshare 7033577 and the stimulus lists from "
                "OpenNeuro ds001506, or ask only for the subjects and image sets you have."
            )

    def subjects(self) -> tuple[int, ...]:
        """Subjects of this release (1-based)."""
        return self._subjects

    def image_sets(self) -> tuple[str, ...]:
        """Image sets of this release."""
        return self._image_sets

    def path(self, subject: int, image_set: str) -> Path:
        """The BData file of one subject and image set.

        Raises:
            DataFormatError: for a subject or image set this release was not opened with.
        """
        try:
            return self._h5[(int(subject), image_set)]
        except KeyError:
            raise DataFormatError(
                f"no file for subject {subject!r}, image set {image_set!r}; this release has subjects "
                f"{list(self._subjects)} and image sets {list(self._image_sets)}"
            ) from None

    def stimulus_list_path(self, image_set: str) -> Path:
        """The stimulus list (``.tsv``) of one image set."""
        self._check_image_set(image_set)
        return self._tsv[image_set]

    def stimulus_list(self, image_set: str) -> list[tuple[str, int]]:
        """``[(stem, image_index), ...]`` of one image set, sorted by image_index."""
        return sorted(read_stimulus_list(self.stimulus_list_path(image_set)), key=lambda entry: entry[1])

    def load_roi_responses(self, subject: int, image_set: str, roi: str, nan_policy: str = "raise") -> RoiResponses:
        """:func:`load_roi_responses` for one subject and image set, matched to its stimulus list."""
        return load_roi_responses(self.path(subject, image_set), roi, self.stimulus_list_path(image_set), nan_policy)

    def image_path(self, image_set: str, stem: str) -> Path:
        """The image file of ``stem`` under :attr:`images_dir`, trying :data:`IMAGE_EXTENSIONS`.

        Raises:
            MissingFileError: naming the folders and extensions tried.
        """
        self._check_image_set(image_set)
        folders = (self.images_dir / image_set, self.images_dir)
        for folder in folders:
            for extension in IMAGE_EXTENSIONS:
                candidate = folder / f"{stem}{extension}"
                if candidate.is_file():
                    return candidate
        note = " Natural images are ImageNet photos, not part of the release: obtain them separately." \
            if image_set == "natural" else ""
        raise MissingFileError(
            f"image {stem!r} ({image_set}) not found in {[str(f) for f in folders]} with any of the extensions "
            f"{list(IMAGE_EXTENSIONS)}; pass images_dir= pointing at the folder that holds the images.{note}"
        )

    def _check_image_set(self, image_set: str) -> None:
        if image_set not in self._image_sets:
            raise DataFormatError(f"unknown image set {image_set!r}; this release has {list(self._image_sets)}")
