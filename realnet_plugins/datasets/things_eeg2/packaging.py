"""Package the THINGS-EEG2 test split: EEG assemblies, the stimulus table, and decoding RDMs.

``package_things_eeg2(source)`` reads a local copy of the release (:class:`ThingsEEG2Release`) and
writes one package folder ``$REALNET_HOME/assemblies/things_eeg2/<fingerprint>/``::

    manifest.json          subjects, settings, times, source files and their digests
    stimulus_set.csv       one row per test image: stimulus_id (file stem), image_file_name,
                           concept, concept_things, image_path (absolute, the user's file), sha256
    sub-01.nc              EEG assembly (netCDF): presentation × neuroid × time_bin
    sub-01_<kind>_rdms.npz rdm (n_times, n, n), split_half (2, n_times, n, n), stimulus_ids, times_ms,
                           one file per EEG RDM kind (decoding, crossnobis: realnet_plugins.rsa.kinds)

The images are never copied (THINGS may not be redistributed): the stimulus table points at the
user's files and records their sha256, which is part of the fingerprint and is checked again when
a benchmark loads the package.

The assembly is plain xarray (no Brain-Score needed); the bridge wraps it as a ``NeuroidAssembly``:

* ``presentation``: image × repetition, coords ``stimulus_id`` and ``repetition`` (0-based);
* ``neuroid``: the 17 channels, coords ``subject`` (``'sub-01'``), ``channel`` and ``neuroid_id``
  (``'sub-01.Pz'``, unique across subjects);
* ``time_bin``: the 20 samples of 0-190 ms, coords ``time_bin_start`` (the sample time, ms) and
  ``time_bin_end`` (start + 10 ms), Brain-Score's names.

Values are float32 in the release's units (MVNN-whitened, not z-scored again).

EEG RDMs (SPEC.md, Evaluation; and crossnobis distances, Guggenmos et al. 2018) are cached per subject
and kind under ``$REALNET_HOME/cache/eeg_rdms/<kind>/<key>.npz``, keyed by the subject's release
fingerprint, the kind's settings, the split seed and the package version, so packaging again (other
subjects, a lost package folder, another preset) recomputes only what is new. Decoding RDMs are the
expensive part (minutes per subject on 2 cores); crossnobis RDMs take about a second. The split-half
RDMs (trials split in two random halves, one RDM per half) give the single-subject ceiling.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from realnet_plugins import __version__
from realnet_plugins.constants import EEG_CHANNELS, EEG_TIMES_S, N_EEG_CHANNELS, N_EEG_TIMES
from realnet_plugins.datasets.store import (
    MANIFEST_NAME,
    PACKAGE_FORMAT_VERSION,
    PackagedDataset,
    PackageResult,
    dataset_dir,
    remove_stale_partials,
    set_current,
    staged_directory,
    subject_name,
    verify_image_files,
    write_json,
)
from realnet_plugins.datasets.targets import RDMTargets, Stimuli, check_stimulus_ids
from realnet_plugins.datasets.things_eeg2.reader import ThingsEEG2Release
from realnet_plugins.errors import DataFormatError, MissingFileError, RealnetError
from realnet_plugins.paths import cache_dir
from realnet_plugins.rsa import DecodingSettings
from realnet_plugins.rsa.decoding import choose_backend
from realnet_plugins.rsa.kinds import EEGRDMKind, eeg_rdm_kind
from realnet_plugins.storage import atomic_path, cached_sha256, fingerprint

logger = logging.getLogger(__name__)

DATASET = "things_eeg2"
PACKAGE_COMMAND = "realnet package things-eeg2 --source DIR"
#: Decoding presets by their command-line name.
PRESETS: tuple[str, ...] = ("paper", "neurora-1.x")
#: EEG RDM kinds packaged by default, with their presets (:data:`realnet_plugins.rsa.kinds.EEG_RDM_KINDS`).
DEFAULT_RDM_KINDS: dict[str, str] = {"decoding": "paper", "crossnobis": "epoch"}
#: Seed of the random split of trials into halves (single-subject ceiling).
SPLIT_HALF_SEED = 0
#: Registered stimulus-set identifier of the test images.
STIMULUS_SET = "ThingsEEG2.test"
#: Width of one EEG sample's time bin (100 Hz), ms.
SAMPLE_MS = 10
_RDM_CACHE_VERSION = 2


def preset_settings(preset: str) -> DecodingSettings:
    """The decoding settings of a named preset: ``'paper'`` or ``'neurora-1.x'`` (SPEC.md)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown decoding preset {preset!r}; expected one of {list(PRESETS)}")
    return eeg_rdm_kind("decoding").settings(preset)


def times_ms() -> np.ndarray:
    """Sample times of the packaged window in whole ms, int64 (20,): 0, 10, ..., 190."""
    return np.round(EEG_TIMES_S * 1000).astype(np.int64)


def eeg_assembly(trials: np.ndarray, stimulus_ids: Sequence[str], subject: int) -> xr.DataArray:
    """One subject's single-trial EEG as a plain xarray assembly (module docstring).

    Args:
        trials: float (n_images, n_repetitions, 17, 20), channels in
            :data:`~realnet_plugins.constants.EEG_CHANNELS` order, t = 0 ... 190 ms.
        stimulus_ids: n_images ids in the order of axis 0.
        subject: subject number.

    Returns:
        float32 DataArray (n_images * n_repetitions, 17, 20) with dims
        ``('presentation', 'neuroid', 'time_bin')``; presentations ordered image-major.
    """
    n_images, n_repetitions = trials.shape[:2]
    if trials.shape[2:] != (N_EEG_CHANNELS, N_EEG_TIMES) or len(stimulus_ids) != n_images:
        raise DataFormatError(
            f"expected trials (n_images, n_repetitions, {N_EEG_CHANNELS}, {N_EEG_TIMES}) and one stimulus id per "
            f"image; found trials {trials.shape} and {len(stimulus_ids)} ids"
        )
    name = subject_name(subject)
    start = times_ms()
    return xr.DataArray(
        np.asarray(trials, dtype=np.float32).reshape(n_images * n_repetitions, N_EEG_CHANNELS, N_EEG_TIMES),
        dims=("presentation", "neuroid", "time_bin"),
        coords={
            "stimulus_id": ("presentation", np.repeat(np.asarray(stimulus_ids, dtype=object), n_repetitions)),
            "repetition": ("presentation", np.tile(np.arange(n_repetitions, dtype=np.int64), n_images)),
            "subject": ("neuroid", np.array([name] * N_EEG_CHANNELS, dtype=object)),
            "channel": ("neuroid", np.array(EEG_CHANNELS, dtype=object)),
            "neuroid_id": ("neuroid", np.array([f"{name}.{c}" for c in EEG_CHANNELS], dtype=object)),
            "time_bin_start": ("time_bin", start),
            "time_bin_end": ("time_bin", start + SAMPLE_MS),
        },
        attrs={"subject": name, "units": "as released (MVNN-whitened EEG)", "source": "THINGS-EEG2 test split"},
        name="eeg",
    )


def _rdm_cache_path(release_fingerprint: str, kind: EEGRDMKind, settings: Any) -> Path:
    key = fingerprint("eeg-rdms", _RDM_CACHE_VERSION, kind.name, __version__, release_fingerprint,
                      kind.record(settings), SPLIT_HALF_SEED)
    return cache_dir("eeg_rdms") / kind.name / f"{key}.npz"


def _check_trials_for_splits(trials: np.ndarray, kind: EEGRDMKind, settings: Any, subject: int) -> None:
    """Refuse a trial count the split-half ceiling cannot use, before any RDM is computed."""
    n_folds, group = settings.n_folds, settings.n_pseudo
    half = trials.shape[1] // 2
    if half // group < n_folds:
        raise DataFormatError(
            f"{subject_name(subject)} has {trials.shape[1]} test trials per image; the single-subject ceiling splits "
            f"them into halves of {half}, and {n_folds}-fold {kind.name}"
            + (f" of pseudo-trials averaging {group} trials" if group > 1 else "")
            + f" needs at least {n_folds * group} per half, i.e. {2 * n_folds * group} trials per image. "
            "Use the full release (80 trials per image) or fewer folds."
        )


def subject_rdms(trials: np.ndarray, release_fingerprint: str, kind: EEGRDMKind, settings: Any, *,
                 backend: str = "auto", progress: bool = True) -> dict[str, np.ndarray]:
    """A subject's RDMs of one kind and its split-half RDMs, from the cache or computed (then cached).

    Args:
        trials: float (n_images, n_trials, 17, 20) test EEG of the subject.
        release_fingerprint: :meth:`ThingsEEG2Release.release_fingerprint` of those trials (cache key).
        kind: the RDM kind (:data:`realnet_plugins.rsa.kinds.EEG_RDM_KINDS`).
        settings: the kind's settings.
        backend: a decoding back end (:data:`realnet_plugins.rsa.decoding.BACKENDS`; decoding only).
        progress: show the engine's progress bar.

    Returns:
        ``{"rdm": float32 (20, n, n), "split_half": float32 (2, 20, n, n)}``: diagonal 0; decoding:
        held-out pairwise accuracy (0.5 = indistinguishable); crossnobis: distance (0 = identical).
    """
    path = _rdm_cache_path(release_fingerprint, kind, settings)
    if path.is_file():
        with np.load(path, allow_pickle=False) as stored:
            return {"rdm": stored["rdm"], "split_half": stored["split_half"]}
    options: dict[str, Any] = {"progress": progress}
    if kind.uses_backend:
        options["backend"], options["device"] = choose_backend(backend)
    rdm = kind.compute(trials, settings, **options)
    halves = kind.split_halves(trials, settings, SPLIT_HALF_SEED, **options)
    result = {"rdm": np.asarray(rdm, dtype=np.float32), "split_half": np.asarray(np.stack(halves), dtype=np.float32)}
    with atomic_path(path) as temporary:
        np.savez(temporary, **result)
    return result


def _stimulus_table(release: ThingsEEG2Release) -> pd.DataFrame:
    metadata = release.image_metadata()
    paths = [path.resolve() for path in release.image_paths("test")]
    return pd.DataFrame({
        "stimulus_id": release.stimulus_ids("test"),
        "image_file_name": metadata["test_img_files"],
        "concept": metadata["test_img_concepts"],
        "concept_things": metadata["test_img_concepts_THINGS"],
        "image_path": [str(path) for path in paths],
        "sha256": [cached_sha256(path) for path in paths],
    })


def package_things_eeg2(source: str | Path, *, subjects: Sequence[int] | None = None, preset: str = "paper",
                        crossnobis: str | None = DEFAULT_RDM_KINDS["crossnobis"], backend: str = "auto",
                        progress: bool = True) -> PackageResult:
    """Package the THINGS-EEG2 test split for the ``ThingsEEG2*`` benchmarks and data plugins.

    Args:
        source: the release root (holding ``preprocessed_data/`` and ``image_set/``).
        subjects: subject numbers (default: every ``sub-XX`` folder of the release).
        preset: decoding settings, ``'paper'`` (single trials, 5 folds, no smoothing) or
            ``'neurora-1.x'``.
        crossnobis: the noise normalisation of the crossnobis RDMs also packaged: ``'epoch'``
            (default: one shrinkage covariance over the epoch's residuals), ``'time'`` (one per time
            point) or ``'none'`` (cross-validated Euclidean distance); None packages decoding RDMs only.
        backend: decoding back end, ``'auto'`` (the fused Triton kernel when torch sees a GPU and
            triton is installed, else the compiled CPU kernels when numba is installed, else
            numpy), ``'numba'``, ``'numpy'``, ``'torch'`` (GPU when available) or ``'triton'``
            (GPU only); the results are the same, so the back end is recorded but not part of the
            fingerprint.
        progress: show progress bars.

    Returns:
        :class:`PackageResult`; the package becomes the current one (``current.json``).

    Raises:
        MissingFileError: missing EEG files, metadata or images (each named).
        DataFormatError: malformed files (wrong channels, image counts, too few trials, ...).
    """
    kinds = {"decoding": preset_settings(preset)}
    if crossnobis is not None:
        kinds["crossnobis"] = eeg_rdm_kind("crossnobis").settings(crossnobis)
    backend, _ = choose_backend(backend)
    release = ThingsEEG2Release(source)
    available = release.subjects()
    chosen = sorted({int(s) for s in subjects}) if subjects else available
    if not chosen:
        raise MissingFileError(f"no subject folders (sub-XX) under {release.root / 'preprocessed_data'}")
    absent = [subject_name(s) for s in chosen if not release.eeg_path(s, "test").is_file()]
    if absent:
        raise MissingFileError(
            f"the THINGS-EEG2 release at {release.root} lacks the test EEG of {absent} "
            f"(expected preprocessed_data/<subject>/preprocessed_eeg_test.npy); subjects with a folder: "
            f"{[subject_name(s) for s in available]}. Download them or pass --subjects."
        )
    table = _stimulus_table(release)
    release_fingerprints = {subject_name(s): release.release_fingerprint(s, "test") for s in chosen}
    kind_records = {name: eeg_rdm_kind(name).record(settings) for name, settings in kinds.items()}
    package_fingerprint = fingerprint("things-eeg2-package", PACKAGE_FORMAT_VERSION, release_fingerprints,
                                      list(zip(table["stimulus_id"], table["sha256"])), kind_records,
                                      SPLIT_HALF_SEED)
    folder = dataset_dir(DATASET) / package_fingerprint
    remove_stale_partials(dataset_dir(DATASET))
    if (folder / MANIFEST_NAME).is_file():
        set_current(DATASET, package_fingerprint)
        return PackageResult(folder, package_fingerprint, reused=True)

    # Read and validate every subject's file before the long RDM computations start.
    trials_of = {}
    for subject in chosen:
        trials_of[subject] = release.test_trials(subject)
        for name, settings in kinds.items():
            _check_trials_for_splits(trials_of[subject], eeg_rdm_kind(name), settings, subject)
    with staged_directory(folder) as staging:
        table.to_csv(staging / "stimulus_set.csv", index=False)
        stimulus_ids = table["stimulus_id"].tolist()
        for subject in tqdm(chosen, desc="THINGS-EEG2 subjects", unit="subject", disable=None if progress else True):
            name = subject_name(subject)
            trials = trials_of[subject]
            logger.info("%s: %d images × %d trials", name, *trials.shape[:2])
            eeg_assembly(trials, stimulus_ids, subject).to_netcdf(staging / f"{name}.nc")
            for kind, settings in kinds.items():
                rdms = subject_rdms(trials, release_fingerprints[name], eeg_rdm_kind(kind), settings,
                                    backend=backend, progress=progress)
                np.savez(staging / f"{name}_{kind}_rdms.npz", rdm=rdms["rdm"], split_half=rdms["split_half"],
                         stimulus_ids=np.asarray(stimulus_ids, dtype=str), times_ms=times_ms())
        write_json(staging / MANIFEST_NAME, {
            "format": "realnet-things-eeg2-package", "format_version": PACKAGE_FORMAT_VERSION,
            "fingerprint": package_fingerprint, "source": str(release.root.resolve()),
            "subjects": [subject_name(s) for s in chosen],
            "trial_shapes": {subject_name(s): list(trials_of[s].shape) for s in chosen},
            "release_fingerprints": release_fingerprints, "preset": preset, "rdm_kinds": kind_records,
            "crossnobis_noise": crossnobis, "backend": backend,
            "split_half_seed": SPLIT_HALF_SEED, "times_ms": times_ms().tolist(), "n_images": len(table),
            "package_version": __version__,
        })
    set_current(DATASET, package_fingerprint)
    return PackageResult(folder, package_fingerprint, reused=False)


class ThingsEEG2Package(PackagedDataset):
    """A finished THINGS-EEG2 package (read-only).

    Args:
        folder: a package folder; default: the current package under ``$REALNET_HOME``.

    Raises:
        MissingFileError: no package (the message says which command makes one).
    """

    dataset = DATASET
    package_command = PACKAGE_COMMAND

    @property
    def times_ms(self) -> np.ndarray:
        """Sample times of the RDMs and assemblies, int64 (n_times,), ms."""
        return np.asarray(self.manifest["times_ms"], dtype=np.int64)

    def stimulus_table(self, *, verify: bool = True) -> pd.DataFrame:
        """The test images: stimulus_id, image_file_name, concept, concept_things, image_path, sha256.

        Args:
            verify: check that every image file still exists with the packaged sha256.

        Raises:
            MissingFileError: an image was moved or deleted.
            DataFormatError: an image changed since packaging.
        """
        table = pd.read_csv(self.folder / "stimulus_set.csv", dtype=str)
        if verify:
            verify_image_files(table, PACKAGE_COMMAND)
        return table

    def _subject_file(self, subject: int | str, suffix: str) -> Path:
        name = subject if isinstance(subject, str) else subject_name(subject)
        if name not in self.subjects:
            raise MissingFileError(
                f"the current THINGS-EEG2 package ({self.folder}) holds {self.subjects}, not {name}; "
                f"run `{PACKAGE_COMMAND} --subjects ...` including it"
            )
        return self.folder / f"{name}{suffix}"

    def assembly(self, subject: int | str) -> xr.DataArray:
        """A subject's EEG assembly (module docstring), loaded into memory."""
        with xr.open_dataarray(self._subject_file(subject, ".nc")) as stored:
            return stored.load()

    @property
    def rdm_kinds(self) -> list[str]:
        """The EEG RDM kinds this package holds (``['decoding', 'crossnobis']``)."""
        return list(self.manifest.get("rdm_kinds", {}))

    def rdms(self, subject: int | str, kind: str = "decoding") -> tuple[np.ndarray, np.ndarray]:
        """A subject's RDMs of one kind.

        Returns:
            ``(rdm, split_half)``: float32 (n_times, n, n) and (2, n_times, n, n), images in
            :meth:`stimulus_table` order.

        Raises:
            MissingFileError: the package holds no RDMs of ``kind`` (the message says how to make them).
        """
        if kind not in self.rdm_kinds:
            raise MissingFileError(
                f"the current THINGS-EEG2 package ({self.folder}) holds {self.rdm_kinds} RDMs, not {kind!r}; run "
                f"`{PACKAGE_COMMAND}`" + (" without --crossnobis-noise off" if kind == "crossnobis" else ""))
        with np.load(self._subject_file(subject, f"_{kind}_rdms.npz"), allow_pickle=False) as stored:
            expected = pd.read_csv(self.folder / "stimulus_set.csv", dtype=str)["stimulus_id"].tolist()
            check_stimulus_ids(stored["stimulus_ids"].tolist(), expected, f"{self.folder}: {subject}",
                               PACKAGE_COMMAND)
            return stored["rdm"], stored["split_half"]

    def stimuli(self, **_: object) -> Stimuli:
        """The test images as :class:`~realnet_plugins.datasets.targets.Stimuli` (registered id
        ``ThingsEEG2.test``)."""
        return Stimuli(STIMULUS_SET, self.stimulus_table())

    def rdm_targets(self, subject: int | None = None, rdm_kind: str = "decoding") -> RDMTargets:
        """EEG RDMs per subject and time point: every packaged subject (``subject=None``) or one.

        Raises:
            RealnetError: ``subject`` is not in the package (the message says how to package it).
        """
        kind = eeg_rdm_kind(rdm_kind)
        if subject is None:
            subjects = self.subjects
        else:
            name = subject_name(subject)
            if name not in self.subjects:
                raise RealnetError(
                    f"this benchmark needs {name}, but the current THINGS-EEG2 package ({self.folder}) holds "
                    f"{self.subjects}; run `{PACKAGE_COMMAND}` including that subject"
                )
            subjects = [name]
        stored = [self.rdms(s, rdm_kind) for s in subjects]
        return RDMTargets(
            rdms=np.stack([rdm for rdm, _ in stored]).astype(np.float64), subjects=list(subjects),
            target_dim="time_ms", targets=self.times_ms.tolist(), stimuli=self.stimuli(),
            split_halves=np.stack([halves for _, halves in stored]).astype(np.float64),
            kind=kind.description,
        )

    def data_assembly(self, subject: int | str, **_: object) -> xr.DataArray:
        """One subject's single-trial test EEG (:meth:`assembly`)."""
        return self.assembly(subject)
