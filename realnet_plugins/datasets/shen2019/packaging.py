"""Package the Shen et al. (2019) fMRI test sessions: ROI assemblies, stimulus tables and fMRI RDMs.

``package_shen2019(source)`` reads the BData files and stimulus lists (:class:`ShenRelease`) and
writes one package folder ``$REALNET_HOME/assemblies/shen2019/<fingerprint>/``::

    manifest.json                      subjects, image sets, ROIs per file, source digests
    stimulus_set_<image set>.csv       stimulus_id (file stem), image_file_name, image_index,
                                       image_set, image_path (absolute, the user's file), sha256
    sub-01/<image set>/<ROI>.nc        responses: presentation (image) × neuroid (voxel)
    sub-01/<image set>_rdms.npz        rdm_<ROI> (n, n) for every ROI, rois, stimulus_ids

ROIs are discovered from each file (every ``ROI_*`` key), repetitions are averaged per image
(:func:`~realnet_plugins.datasets.shen2019.reader.load_roi_responses`), and each RDM is 1 − Pearson r between the
images' voxel patterns (SPEC.md, Evaluation). Assemblies are plain xarray: ``presentation`` with
coords ``stimulus_id``, ``image_index``, ``n_repetitions``; ``neuroid`` with coords ``subject``
(``'sub-01'``), ``roi``, ``voxel`` (column position within the ROI) and ``neuroid_id``
(``'sub-01.V1.17'``, unique across subjects and ROIs). Images are referenced, never copied.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr
from tqdm.auto import tqdm

from realnet_plugins import __version__
from realnet_plugins.datasets.shen2019.reader import (
    IMAGE_SET_SESSIONS,
    NAN_POLICIES,
    SHEN_SUBJECTS,
    ShenRelease,
    read_bdata,
)
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
from realnet_plugins.datasets.targets import RDMTargets, Stimuli
from realnet_plugins.errors import DataFormatError, MissingFileError, RealnetError
from realnet_plugins.rsa.rdm import model_rdm
from realnet_plugins.storage import cached_sha256, fingerprint

DATASET = "shen2019"
PACKAGE_COMMAND = "realnet package shen2019 --source DIR [--images DIR]"
IMAGE_SETS: tuple[str, ...] = tuple(IMAGE_SET_SESSIONS)
#: ROIs the fMRI benchmarks score (SPEC.md): every packaged file must have them.
BENCHMARK_ROIS: tuple[str, ...] = ("V1", "V2", "V3", "V4", "LOC")
#: Registered stimulus-set identifiers are ``Shen2019.<image set>``.
STIMULUS_SET_PREFIX = "Shen2019"


def roi_assembly(responses: np.ndarray, stimulus_ids: Sequence[str], n_repetitions: np.ndarray, subject: int,
                 roi: str) -> xr.DataArray:
    """One ROI's repetition-averaged responses as a plain xarray assembly (module docstring).

    Args:
        responses: float (n_images, n_voxels).
        stimulus_ids: n_images ids (stimulus-list stems) in row order.
        n_repetitions: (n_images,) samples averaged per image.
        subject: subject number.
        roi: ROI name without the ``ROI_`` prefix.

    Returns:
        float64 DataArray with dims ``('presentation', 'neuroid')``.
    """
    name = subject_name(subject)
    n_images, n_voxels = responses.shape
    return xr.DataArray(
        np.asarray(responses, dtype=np.float64),
        dims=("presentation", "neuroid"),
        coords={
            "stimulus_id": ("presentation", np.asarray(stimulus_ids, dtype=object)),
            "image_index": ("presentation", np.arange(1, n_images + 1, dtype=np.int64)),
            "n_repetitions": ("presentation", np.asarray(n_repetitions, dtype=np.int64)),
            "subject": ("neuroid", np.array([name] * n_voxels, dtype=object)),
            "roi": ("neuroid", np.array([roi] * n_voxels, dtype=object)),
            "voxel": ("neuroid", np.arange(n_voxels, dtype=np.int64)),
            "neuroid_id": ("neuroid", np.array([f"{name}.{roi}.{v}" for v in range(n_voxels)], dtype=object)),
        },
        attrs={"subject": name, "roi": roi, "units": "as released (preprocessed fMRI voxel amplitude)",
               "source": "Shen et al. 2019, repetitions averaged"},
        name="fmri",
    )


def _stimulus_table(release: ShenRelease, image_set: str) -> pd.DataFrame:
    entries = release.stimulus_list(image_set)
    paths, missing = [], []
    for stem, _ in entries:
        try:
            paths.append(release.image_path(image_set, stem).resolve())
        except MissingFileError:
            missing.append(stem)
    if missing:
        note = " Natural images are ImageNet photos and are not part of the release." if image_set == "natural" else ""
        raise MissingFileError(
            f"{len(missing)} of {len(entries)} {image_set} images are missing from {release.images_dir} "
            f"(looked in {release.images_dir / image_set} and {release.images_dir}), e.g. {missing[:5]}. "
            f"Pass --images DIR pointing at the folder that holds them, "
            f"or leave '{image_set}' out with --image-sets.{note}"
        )
    return pd.DataFrame({
        "stimulus_id": [stem for stem, _ in entries],
        "image_file_name": [path.name for path in paths],
        "image_index": [index for _, index in entries],
        "image_set": image_set,
        "image_path": [str(path) for path in paths],
        "sha256": [cached_sha256(path) for path in paths],
    })


def package_shen2019(source: str | Path, *, images: str | Path | None = None,
                     subjects: Sequence[int] = SHEN_SUBJECTS, image_sets: Sequence[str] = IMAGE_SETS,
                     nan_policy: str = "raise", progress: bool = True) -> PackageResult:
    """Package the Shen 2019 test sessions for the ``Shen2019.*-rsa`` benchmarks and data plugins.

    Args:
        source: the download folder (BData ``.h5`` files and stimulus ``.tsv`` lists, searched
            with subfolders).
        images: folder of the stimulus images (``<images>/<image set>/<stem>.<ext>`` or
            ``<images>/<stem>.<ext>``); default ``<source>/images``.
        subjects: subjects to package (default 1, 2, 3).
        image_sets: among ``'natural'``, ``'shape'``, ``'letter'``.
        nan_policy: ``'raise'`` or ``'drop-voxels'`` for non-finite voxel values.
        progress: show a progress bar.

    Returns:
        :class:`~realnet_plugins.datasets.things_eeg2.packaging.PackageResult`; the package becomes current.

    Raises:
        MissingFileError: missing BData files, stimulus lists or images (each named).
        DataFormatError: a file without ROI or label columns, or whose images do not match its
            stimulus list.
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"unknown nan_policy {nan_policy!r}; expected one of {list(NAN_POLICIES)}")
    release = ShenRelease(source, subjects=subjects, image_sets=image_sets, images_dir=images)
    tables = {image_set: _stimulus_table(release, image_set) for image_set in release.image_sets()}
    files = {f"{subject_name(s)}/{image_set}": release.path(s, image_set)
             for s in release.subjects() for image_set in release.image_sets()}
    inputs = {
        "h5": {slot: cached_sha256(path) for slot, path in files.items()},
        "tsv": {image_set: cached_sha256(release.stimulus_list_path(image_set)) for image_set in release.image_sets()},
        "images": {image_set: list(zip(t["stimulus_id"], t["sha256"])) for image_set, t in tables.items()},
    }
    package_fingerprint = fingerprint("shen2019-package", PACKAGE_FORMAT_VERSION, inputs, nan_policy)
    folder = dataset_dir(DATASET) / package_fingerprint
    remove_stale_partials(dataset_dir(DATASET))
    if (folder / MANIFEST_NAME).is_file():
        set_current(DATASET, package_fingerprint)
        return PackageResult(folder, package_fingerprint, reused=True)

    rois: dict[str, list[str]] = {}
    with staged_directory(folder) as staging:
        for image_set, table in tables.items():
            table.to_csv(staging / f"stimulus_set_{image_set}.csv", index=False)
        for slot in tqdm(list(files), desc="Shen2019 files", unit="file", disable=None if progress else True):
            subject_dir, image_set = slot.split("/")
            subject = int(subject_dir[len("sub-"):])
            found = read_bdata(files[slot]).roi_names()
            absent = [roi for roi in BENCHMARK_ROIS if roi not in found]
            if absent:
                raise DataFormatError(
                    f"{files[slot]}: no ROI column(s) {['ROI_' + roi for roi in absent]} (found the ROIs {found}); "
                    f"the fMRI benchmarks need {['ROI_' + roi for roi in BENCHMARK_ROIS]}. Use the preprocessed "
                    "'_original_VC' files of figshare 7033577."
                )
            rois[slot] = found
            rdms: dict[str, np.ndarray] = {}
            expected_ids = tables[image_set]["stimulus_id"].tolist()
            for roi in found:
                loaded = release.load_roi_responses(subject, image_set, roi, nan_policy=nan_policy)
                if list(loaded.stimulus_ids) != expected_ids:
                    raise DataFormatError(
                        f"{files[slot]}: images {loaded.stimulus_ids[:5]}... do not match the stimulus list "
                        f"{expected_ids[:5]}...; use the list of the same session"
                    )
                roi_assembly(loaded.responses, loaded.stimulus_ids, loaded.n_repetitions, subject, roi).to_netcdf(
                    _ensure_parent(staging / subject_dir / image_set / f"{roi}.nc"))
                rdms[f"rdm_{roi}"] = model_rdm(loaded.responses)
            np.savez(staging / subject_dir / f"{image_set}_rdms.npz", rois=np.asarray(found, dtype=str),
                     stimulus_ids=np.asarray(expected_ids, dtype=str), **rdms)
        write_json(staging / MANIFEST_NAME, {
            "format": "realnet-shen2019-package", "format_version": PACKAGE_FORMAT_VERSION,
            "fingerprint": package_fingerprint, "source": str(release.root.resolve()),
            "images": str(release.images_dir.resolve()), "subjects": [subject_name(s) for s in release.subjects()],
            "image_sets": list(release.image_sets()), "rois": rois, "nan_policy": nan_policy,
            "inputs": {"h5": {slot: str(path.resolve()) for slot, path in files.items()}, **inputs},
            "package_version": __version__,
        })
    set_current(DATASET, package_fingerprint)
    return PackageResult(folder, package_fingerprint, reused=False)


def _ensure_parent(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class Shen2019Package(PackagedDataset):
    """A finished Shen 2019 package (read-only).

    Args:
        folder: a package folder; default: the current package under ``$REALNET_HOME``.
    """

    dataset = DATASET
    package_command = PACKAGE_COMMAND

    def _check_image_set(self, image_set: str) -> None:
        if image_set not in self.manifest["image_sets"]:
            raise MissingFileError(
                f"the current Shen 2019 package ({self.folder}) holds the image sets {self.manifest['image_sets']}, "
                f"not {image_set!r}; run `{PACKAGE_COMMAND}` with its files and images"
            )

    def rois(self, subject: str, image_set: str) -> list[str]:
        """ROIs found in one subject's file of ``image_set``, in file order."""
        self._check_image_set(image_set)
        return list(self.manifest["rois"][f"{subject}/{image_set}"])

    def stimulus_table(self, image_set: str, *, verify: bool = True) -> pd.DataFrame:
        """The images of ``image_set``: stimulus_id, image_file_name, image_index, image_set, image_path, sha256."""
        self._check_image_set(image_set)
        table = pd.read_csv(self.folder / f"stimulus_set_{image_set}.csv", dtype={"stimulus_id": str})
        if verify:
            verify_image_files(table, PACKAGE_COMMAND)
        return table

    def assembly(self, subject: str, image_set: str, roi: str) -> xr.DataArray:
        """One subject × image set × ROI assembly (presentation × neuroid), loaded into memory."""
        if roi not in self.rois(subject, image_set):
            raise MissingFileError(
                f"{subject}'s {image_set} file has the ROIs {self.rois(subject, image_set)}, not {roi!r}"
            )
        with xr.open_dataarray(self.folder / subject / image_set / f"{roi}.nc") as stored:
            return stored.load()

    def rdms(self, subject: str, image_set: str) -> dict[str, np.ndarray]:
        """One subject's fMRI RDMs of ``image_set``: ROI → float64 (n, n), images in stimulus-table order."""
        self._check_image_set(image_set)
        if subject not in self.subjects:
            raise MissingFileError(f"the current Shen 2019 package holds {self.subjects}, not {subject}")
        with np.load(self.folder / subject / f"{image_set}_rdms.npz", allow_pickle=False) as stored:
            return {str(roi): stored[f"rdm_{roi}"] for roi in stored["rois"].tolist()}

    def stimuli(self, image_set: str, **_: object) -> Stimuli:
        """The images of ``image_set`` as :class:`~realnet_plugins.datasets.targets.Stimuli`
        (registered id ``Shen2019.<image set>``)."""
        return Stimuli(f"{STIMULUS_SET_PREFIX}.{image_set}", self.stimulus_table(image_set))

    def rdm_targets(self, image_set: str, rois: Sequence[str] = BENCHMARK_ROIS) -> RDMTargets:
        """Every subject's fMRI RDM of each ROI of ``image_set``: targets along ``roi``.

        Raises:
            RealnetError: a subject's file lacks one of ``rois``.
        """
        stimuli = self.stimuli(image_set)
        stacked = []
        for subject in self.subjects:
            rdms = self.rdms(subject, image_set)
            absent = [roi for roi in rois if roi not in rdms]
            if absent:
                raise RealnetError(f"{subject}'s {image_set} package lacks the ROIs {absent}; found {list(rdms)}")
            stacked.append(np.stack([rdms[roi] for roi in rois]))
        return RDMTargets(rdms=np.stack(stacked).astype(np.float64), subjects=list(self.subjects), target_dim="roi",
                          targets=list(rois), stimuli=stimuli, kind="1 - Pearson r between voxel patterns")

    def data_assembly(self, image_set: str, **_: object) -> xr.DataArray:
        """Every subject's and ROI's responses to ``image_set``, side by side along ``neuroid``.

        ROIs overlap (e.g. VC contains V1): select one with ``assembly.sel(roi='V1')``.
        """
        parts = [self.assembly(subject, image_set, roi)
                 for subject in self.subjects for roi in self.rois(subject, image_set)]
        return xr.concat(parts, dim="neuroid", combine_attrs="drop")
