"""Reader of the THINGS-EEG2 preprocessed release (Gifford et al. 2022) and EEG normalisation.

Layout read (shared FORMATS.md)::

    <root>/preprocessed_data/sub-XX/preprocessed_eeg_training.npy   (images, reps, channels, times)
    <root>/preprocessed_data/sub-XX/preprocessed_eeg_test.npy
    <root>/image_set/image_metadata.npy
    <root>/image_set/training_images/<concept>/<file>
    <root>/image_set/test_images/<concept>/<file>

Every ``.npy`` of the release is a pickled dict; it is read with
:func:`realnet_plugins.safe_pickle.load_npy_dict`, which runs no code from the file. Channels are
selected by name (in :data:`~realnet_plugins.constants.EEG_CHANNELS` order) and samples by their
time value rounded to whole milliseconds, never by position.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import re
from pathlib import Path
from typing import Any, Sequence, TypeVar

import numpy as np

from realnet_plugins.constants import (
    EEG_CHANNELS,
    EEG_TIMES_S,
    N_EEG_CHANNELS,
    N_EEG_OUTPUTS,
    N_EEG_TIMES,
    RELEASE_TIMES_S,
)
from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.safe_pickle import load_npy_dict
from realnet_plugins.storage import cached_sha256, fingerprint

__all__ = [
    "SPLITS",
    "METADATA_KEYS",
    "N_THINGS_CONCEPTS",
    "ThingsEEG2Release",
    "EEGNormalisation",
    "eeg_window_indices",
    "cached_sha256",
]

logger = logging.getLogger(__name__)

#: The two splits of the release, as spelled in its file names.
SPLITS: tuple[str, ...] = ("training", "test")
#: Key prefix of each split in ``image_metadata.npy``.
_METADATA_PREFIX: dict[str, str] = {"training": "train", "test": "test"}
#: The six lists of ``image_metadata.npy``.
METADATA_KEYS: tuple[str, ...] = (
    "train_img_files",
    "train_img_concepts",
    "train_img_concepts_THINGS",
    "test_img_files",
    "test_img_concepts",
    "test_img_concepts_THINGS",
)
#: Number of concepts in THINGS; ``concept_THINGS[:5]`` is a 1-based index into them.
N_THINGS_CONCEPTS: int = 1854
_EEG_KEYS: tuple[str, ...] = ("preprocessed_eeg_data", "ch_names", "times")
_CONCEPT_PATTERN = re.compile(r"^(\d{5})_\S+$")
_SUBJECT_PATTERN = re.compile(r"^sub-(\d+)$")
#: Images per block when scanning or reducing the (large) EEG arrays, to bound temporary memory.
_BLOCK_IMAGES = 1024
_N_LISTED = 5


def _check_split(split: str) -> str:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}.")
    return split


def _window_ms() -> np.ndarray:
    """The head's sample times in whole milliseconds, shape (20,): 0, 10, ..., 190."""
    return np.round(EEG_TIMES_S * 1000).astype(np.int64)


def eeg_window_indices(ch_names: Sequence[str], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the 17 head channels and the 20 samples of 0 <= t < 200 ms.

    Args:
        ch_names: channel names of the file, in file order.
        times: sample times of the file in seconds, shape (n_times,).

    Returns:
        ``(channel_index, time_index)``: int arrays of shape (17,) in
        :data:`~realnet_plugins.constants.EEG_CHANNELS` order and (20,) for t = 0, 10, ..., 190 ms
        (times compared after rounding to whole milliseconds).

    Raises:
        DataFormatError: a head channel is missing or duplicated, or a window sample is missing.
    """
    names = [str(name) for name in ch_names]
    missing = [name for name in EEG_CHANNELS if name not in names]
    if missing:
        raise DataFormatError(
            f"EEG file lacks channel(s) {missing}; the 17 channels {list(EEG_CHANNELS)} are needed "
            f"(found {names}). Use the THINGS-EEG2 preprocessed release, which has all of them."
        )
    duplicated = sorted({name for name in EEG_CHANNELS if names.count(name) > 1})
    if duplicated:
        raise DataFormatError(f"EEG file lists channel(s) {duplicated} more than once: {names}.")
    channel_index = np.array([names.index(name) for name in EEG_CHANNELS], dtype=np.int64)

    times_ms = np.round(np.asarray(times, dtype=np.float64) * 1000).astype(np.int64)
    time_index = []
    absent = []
    for target in _window_ms():
        hits = np.flatnonzero(times_ms == target)
        if hits.size != 1:
            absent.append(int(target))
        else:
            time_index.append(int(hits[0]))
    if absent:
        raise DataFormatError(
            f"EEG time axis lacks a unique sample at {absent} ms; expected one sample at each of "
            f"0, 10, ..., 190 ms (the release's axis is i/100 - 0.2 s). Found {times_ms.size} "
            f"samples from {times_ms.min()} to {times_ms.max()} ms."
        )
    return channel_index, np.array(time_index, dtype=np.int64)


def _first_nonfinite(data: np.ndarray) -> tuple[int, tuple[int, ...] | None]:
    """Count of NaN/inf values in ``data`` and the index of the first, scanning in blocks."""
    count = 0
    first: tuple[int, ...] | None = None
    for start in range(0, data.shape[0], _BLOCK_IMAGES):
        bad = ~np.isfinite(data[start:start + _BLOCK_IMAGES])
        n_bad = int(bad.sum())
        if n_bad and first is None:
            local = np.unravel_index(int(np.argmax(bad)), bad.shape)
            first = (int(local[0]) + start,) + tuple(int(i) for i in local[1:])
        count += n_bad
    return count, first


class ThingsEEG2Release:
    """A local copy of the THINGS-EEG2 preprocessed release.

    Args:
        root: folder holding ``preprocessed_data/`` and ``image_set/``.

    Raises:
        MissingFileError: ``root`` is not a folder.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise MissingFileError(
                f"THINGS-EEG2 root {self.root} is not a folder; expected one holding "
                "preprocessed_data/ and image_set/ (download them from OSF project 3jk45)."
            )
        self._metadata: dict[str, list[str]] | None = None

    def __repr__(self) -> str:
        return f"ThingsEEG2Release({str(self.root)!r})"

    @property
    def metadata_path(self) -> Path:
        """``<root>/image_set/image_metadata.npy``."""
        return self.root / "image_set" / "image_metadata.npy"

    def eeg_path(self, subject: int, split: str) -> Path:
        """``<root>/preprocessed_data/sub-XX/preprocessed_eeg_<split>.npy`` (not checked)."""
        _check_split(split)
        return self.root / "preprocessed_data" / f"sub-{int(subject):02d}" / f"preprocessed_eeg_{split}.npy"

    def subjects(self) -> list[int]:
        """Subject numbers with a ``preprocessed_data/sub-XX`` folder, ascending."""
        folder = self.root / "preprocessed_data"
        if not folder.is_dir():
            raise MissingFileError(f"{folder} does not exist; the release's EEG lives there.")
        numbers = []
        for entry in folder.iterdir():
            match = _SUBJECT_PATTERN.match(entry.name)
            if match and entry.is_dir():
                numbers.append(int(match.group(1)))
        return sorted(numbers)

    def image_metadata(self) -> dict[str, list[str]]:
        """The six lists of ``image_metadata.npy``, validated.

        Returns:
            dict with :data:`METADATA_KEYS`, each a list of str; the three ``train_*`` lists share
            one length (16540 in the real release), the three ``test_*`` lists another (200).

        Raises:
            MissingFileError, DataFormatError, UnsafePickleError.
        """
        if self._metadata is None:
            self._metadata = self._read_metadata()
        return self._metadata

    def _read_metadata(self) -> dict[str, list[str]]:
        path = self.metadata_path
        raw = load_npy_dict(path)
        missing = [key for key in METADATA_KEYS if key not in raw]
        if missing:
            raise DataFormatError(f"{path} lacks key(s) {missing}; found {sorted(raw)}.")
        metadata: dict[str, list[str]] = {}
        for key in METADATA_KEYS:
            values = raw[key]
            if isinstance(values, np.ndarray):
                if values.ndim != 1:
                    raise DataFormatError(f"{path}: {key} has shape {values.shape}, expected a 1-D list of str.")
                values = values.tolist()
            if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
                raise DataFormatError(f"{path}: {key} must be a list of str, found {type(values).__name__}.")
            metadata[key] = list(values)
        for prefix in _METADATA_PREFIX.values():
            keys = [key for key in METADATA_KEYS if key.startswith(prefix + "_")]
            lengths = {key: len(metadata[key]) for key in keys}
            if len(set(lengths.values())) != 1 or not lengths[keys[0]]:
                raise DataFormatError(
                    f"{path}: the {prefix}_* lists must be non-empty and equally long, found {lengths}."
                )
            for key in keys[1:]:
                bad = [value for value in metadata[key] if not _CONCEPT_PATTERN.match(value)]
                if bad:
                    raise DataFormatError(
                        f"{path}: {key} entries must look like '00001_aardvark'; "
                        f"{len(bad)} do not, e.g. {bad[:_N_LISTED]}."
                    )
            out_of_range = [v for v in metadata[f"{prefix}_img_concepts_THINGS"]
                            if not 1 <= int(v[:5]) <= N_THINGS_CONCEPTS]
            if out_of_range:
                raise DataFormatError(
                    f"{path}: THINGS indices must lie in 1..{N_THINGS_CONCEPTS}; found {out_of_range[:_N_LISTED]}."
                )
        shared = set(metadata["train_img_concepts_THINGS"]) & set(metadata["test_img_concepts_THINGS"])
        if shared:
            raise DataFormatError(
                f"{path}: training and test concepts must be disjoint; {len(shared)} are in both, "
                f"e.g. {sorted(shared)[:_N_LISTED]}."
            )
        return metadata

    def _split_lists(self, split: str) -> tuple[list[str], list[str], list[str]]:
        prefix = _METADATA_PREFIX[_check_split(split)]
        metadata = self.image_metadata()
        return (
            metadata[f"{prefix}_img_files"],
            metadata[f"{prefix}_img_concepts"],
            metadata[f"{prefix}_img_concepts_THINGS"],
        )

    def n_images(self, split: str) -> int:
        """Number of image conditions of a split (16540 training / 200 test in the real release)."""
        return len(self._split_lists(split)[0])

    def stimulus_ids(self, split: str) -> list[str]:
        """Image file stems in image-condition order (``aardvark_01b``), Brain-Score's stimulus_id."""
        return [Path(name).stem for name in self._split_lists(split)[0]]

    def image_paths(self, split: str) -> list[Path]:
        """Image files of a split in image-condition order (= the EEG's image axis).

        Returns:
            ``<root>/image_set/<split>_images/<concept>/<file>`` for every image.

        Raises:
            MissingFileError: some files do not exist (lists the first few and the count).
        """
        files, concepts, _ = self._split_lists(split)
        folder = self.root / "image_set" / f"{split}_images"
        paths = [folder / concept / name for concept, name in zip(concepts, files)]
        missing = [path for path in paths if not path.is_file()]
        if missing:
            shown = ", ".join(str(path) for path in missing[:_N_LISTED])
            raise MissingFileError(
                f"{len(missing)} of {len(paths)} {split} images are missing, e.g. {shown}. "
                "Download and unpack the THINGS-EEG2 image_set into the release root."
            )
        return paths

    def raw_eeg(self, subject: int, split: str) -> dict[str, Any]:
        """One subject's preprocessed EEG file, validated.

        Args:
            subject: subject number (1..10 in the real release).
            split: ``"training"`` or ``"test"``.

        Returns:
            dict with ``preprocessed_eeg_data`` (float array (images, repetitions, channels,
            times), volts as preprocessed; dtype as stored), ``ch_names`` (list of str, file order)
            and ``times`` (float64 (times,), seconds).

        Raises:
            MissingFileError: the file is absent.
            UnsafePickleError: the file carries a pickle that would run code.
            DataFormatError: wrong keys, shape, dtype, channels, time axis, image count, or
                non-finite values.
        """
        path = self.eeg_path(subject, split)
        if not path.is_file():
            available = self.subjects() if (self.root / "preprocessed_data").is_dir() else []
            raise MissingFileError(
                f"{path} does not exist (subjects with a folder here: {available}). "
                "Download the subject's preprocessed EEG from the THINGS-EEG2 release."
            )
        raw = load_npy_dict(path)
        missing = [key for key in _EEG_KEYS if key not in raw]
        if missing:
            raise DataFormatError(f"{path} lacks key(s) {missing}; found {sorted(raw)}.")
        data = raw["preprocessed_eeg_data"]
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.ndim != 4:
            found = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
            raise DataFormatError(
                f"{path}: preprocessed_eeg_data must be a 4-D float array (images, repetitions, "
                f"channels, times); found {found}."
            )
        ch_names = raw["ch_names"]
        if isinstance(ch_names, np.ndarray):
            ch_names = ch_names.tolist()
        if not isinstance(ch_names, (list, tuple)) or not all(isinstance(n, str) for n in ch_names):
            raise DataFormatError(f"{path}: ch_names must be a list of str, found {type(ch_names).__name__}.")
        ch_names = list(ch_names)
        if len(ch_names) != data.shape[2]:
            raise DataFormatError(
                f"{path}: {len(ch_names)} channel names for {data.shape[2]} channels on axis 2 of "
                f"preprocessed_eeg_data (shape {data.shape})."
            )
        times = np.asarray(raw["times"], dtype=np.float64)
        if times.ndim != 1 or times.size != data.shape[3]:
            raise DataFormatError(
                f"{path}: times has shape {times.shape}, expected ({data.shape[3]},) to match axis 3 "
                f"of preprocessed_eeg_data (shape {data.shape})."
            )
        if not np.all(np.isfinite(times)) or not np.all(np.diff(times) > 0):
            raise DataFormatError(f"{path}: times must be finite and strictly increasing.")
        eeg_window_indices(ch_names, times)
        if times.shape != RELEASE_TIMES_S.shape or not np.allclose(times, RELEASE_TIMES_S, atol=1e-6):
            logger.info("%s: time axis differs from the release's i/100 - 0.2 s; using its 0-190 ms samples.", path)
        expected = self.n_images(split)
        if data.shape[0] != expected:
            raise DataFormatError(
                f"{path}: {data.shape[0]} images on axis 0, but image_metadata.npy lists {expected} "
                f"{split} images. The EEG file and the image set come from different releases."
            )
        n_bad, first = _first_nonfinite(data)
        if n_bad:
            raise DataFormatError(
                f"{path}: {n_bad} non-finite value(s) (NaN/inf) in preprocessed_eeg_data, the first at "
                f"index {first} (image, repetition, channel, time). Re-download the file."
            )
        return {"preprocessed_eeg_data": data, "ch_names": ch_names, "times": times}

    def _window(self, subject: int, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raw = self.raw_eeg(subject, split)
        channel_index, time_index = eeg_window_indices(raw["ch_names"], raw["times"])
        return raw["preprocessed_eeg_data"], channel_index, time_index

    def alignment_eeg(self, subject: int, split: str = "training") -> np.ndarray:
        """Repetition-averaged EEG of the head's 17 channels and 0-190 ms samples.

        Args:
            subject: subject number.
            split: ``"training"`` (default) or ``"test"``.

        Returns:
            float32 (n_images, 17, 20): channels in
            :data:`~realnet_plugins.constants.EEG_CHANNELS` order, t = 0, 10, ..., 190 ms; the mean
            over repetitions (computed in float64). Flattened row-major it is the head's 340-vector
            (index c * 20 + t).
        """
        data, channel_index, time_index = self._window(subject, split)
        out = np.empty((data.shape[0], N_EEG_CHANNELS, N_EEG_TIMES), dtype=np.float32)
        for start in range(0, data.shape[0], _BLOCK_IMAGES):
            block = data[start:start + _BLOCK_IMAGES]
            window = block[:, :, channel_index[:, None], time_index[None, :]]  # (images, reps, 17, 20)
            out[start:start + _BLOCK_IMAGES] = window.mean(axis=1, dtype=np.float64)
        return out

    def test_trials(self, subject: int) -> np.ndarray:
        """Single-trial test EEG of the head's channels and window, for RSA benchmarks.

        Returns:
            float32 (n_images, n_repetitions, 17, 20) (200 × 80 × 17 × 20 in the real release),
            channels in :data:`~realnet_plugins.constants.EEG_CHANNELS` order, t = 0 ... 190 ms.
        """
        data, channel_index, time_index = self._window(subject, "test")
        window = data[:, :, channel_index[:, None], time_index[None, :]]
        return window.astype(np.float32)

    def release_fingerprint(self, subject: int, split: str) -> str:
        """A reproducibility key of the files one subject's split is read from.

        Built from the sha256 of the EEG file and of ``image_metadata.npy`` (cached per path, size
        and mtime by :func:`cached_sha256`, so repeated calls do not re-read the files).

        Returns:
            16 hex digits.
        """
        eeg = self.eeg_path(subject, split)
        for path in (eeg, self.metadata_path):
            if not path.is_file():
                raise MissingFileError(f"{path} does not exist; cannot fingerprint the release.")
        return fingerprint("things-eeg2", int(subject), split, cached_sha256(eeg), cached_sha256(self.metadata_path))


ArrayT = TypeVar("ArrayT")
NORMALISATION_MODES: tuple[str, ...] = ("scalar", "feature")


@dataclasses.dataclass(frozen=True)
class EEGNormalisation:
    """z-scoring of the 340 EEG targets, with statistics that travel with a checkpoint.

    ``mode="scalar"`` (default, ref.): one mean and one standard deviation over the whole
    (images × 17 × 20) training array of a subject. ``mode="feature"``: one mean and standard
    deviation per channel×time feature, over images. Standard deviations use ddof=0.

    Attributes:
        mode: ``"scalar"`` or ``"feature"``.
        mean: a float (scalar) or 340 floats, channel-major (index c * 20 + t).
        std: same form as ``mean``; every value > 0.
    """

    mode: str = "scalar"
    mean: float | tuple[float, ...] = 0.0
    std: float | tuple[float, ...] = 1.0

    def __post_init__(self) -> None:
        if self.mode not in NORMALISATION_MODES:
            raise ValueError(f"normalisation mode must be one of {NORMALISATION_MODES}, got {self.mode!r}.")
        if self.mode == "scalar":
            object.__setattr__(self, "mean", float(self.mean))
            object.__setattr__(self, "std", float(self.std))
        else:
            object.__setattr__(self, "mean", tuple(float(v) for v in np.ravel(self.mean)))
            object.__setattr__(self, "std", tuple(float(v) for v in np.ravel(self.std)))
            if len(self.mean) != N_EEG_OUTPUTS or len(self.std) != N_EEG_OUTPUTS:
                raise ValueError(
                    f"feature normalisation needs {N_EEG_OUTPUTS} means and stds, got "
                    f"{len(self.mean)} and {len(self.std)}."
                )
        std = np.asarray(self.std, dtype=np.float64)
        if not np.all(np.isfinite(std)) or np.any(std <= 0) or not np.all(np.isfinite(self.mean)):
            raise DataFormatError(
                "EEG normalisation statistics must be finite with std > 0; the training EEG is "
                "constant (or non-finite) in at least one feature."
            )

    @classmethod
    def fit(cls, eeg: np.ndarray, mode: str = "scalar") -> "EEGNormalisation":
        """Statistics of a subject's training EEG.

        Args:
            eeg: (n_images, 17, 20) or (n_images, 340), e.g. from
                :meth:`ThingsEEG2Release.alignment_eeg`.
            mode: ``"scalar"`` or ``"feature"``.

        Returns:
            The fitted normalisation (statistics computed in float64).
        """
        values = np.asarray(eeg)
        if values.ndim < 2 or values[0].size != N_EEG_OUTPUTS:
            raise DataFormatError(
                f"EEG to fit must have shape (n_images, 17, 20) or (n_images, 340); got {values.shape}."
            )
        flat = values.reshape(values.shape[0], N_EEG_OUTPUTS)
        if mode == "scalar":
            return cls(mode, float(flat.mean(dtype=np.float64)), float(flat.std(dtype=np.float64)))
        if mode == "feature":
            return cls(mode, tuple(flat.mean(axis=0, dtype=np.float64)), tuple(flat.std(axis=0, dtype=np.float64)))
        raise ValueError(f"normalisation mode must be one of {NORMALISATION_MODES}, got {mode!r}.")

    def _statistics_like(self, x: ArrayT) -> tuple[Any, Any]:
        """mean and std shaped and typed to broadcast against ``x`` ((..., 17, 20) or (..., 340))."""
        shape = tuple(x.shape)
        if shape[-2:] == (N_EEG_CHANNELS, N_EEG_TIMES):
            stat_shape: tuple[int, ...] = (N_EEG_CHANNELS, N_EEG_TIMES)
        elif shape[-1:] == (N_EEG_OUTPUTS,):
            stat_shape = (N_EEG_OUTPUTS,)
        else:
            raise DataFormatError(f"EEG must end in (17, 20) or (340,); got shape {shape}.")
        mean = np.asarray(self.mean, dtype=np.float64)
        std = np.asarray(self.std, dtype=np.float64)
        if self.mode == "feature":
            mean, std = mean.reshape(stat_shape), std.reshape(stat_shape)
        if isinstance(x, np.ndarray):
            dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
            return mean.astype(dtype), std.astype(dtype)
        import torch

        dtype = x.dtype if x.is_floating_point() else torch.float32
        return (torch.as_tensor(mean, dtype=dtype, device=x.device),
                torch.as_tensor(std, dtype=dtype, device=x.device))

    def apply(self, eeg: ArrayT) -> ArrayT:
        """``(eeg - mean) / std``; numpy array or torch tensor of shape (..., 17, 20) or (..., 340)."""
        mean, std = self._statistics_like(eeg)
        return (eeg - mean) / std

    def invert(self, pred: ArrayT) -> ArrayT:
        """``pred * std + mean``: normalised predictions back in the release's units."""
        mean, std = self._statistics_like(pred)
        return pred * std + mean

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form for checkpoints: ``{"mode": str, "mean": float | list, "std": float | list}``."""
        if self.mode == "scalar":
            return {"mode": self.mode, "mean": self.mean, "std": self.std}
        return {"mode": self.mode, "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> "EEGNormalisation":
        """Inverse of :meth:`to_dict`."""
        missing = [key for key in ("mode", "mean", "std") if key not in record]
        if missing:
            raise DataFormatError(f"EEG normalisation record lacks {missing}; found keys {sorted(record)}.")
        return cls(str(record["mode"]), record["mean"], record["std"])
