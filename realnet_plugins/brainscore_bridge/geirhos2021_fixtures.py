"""Miniature Geirhos et al. (2021) data in Brain-Score's real format, for tests and demos.

:func:`write_geirhos2021_fixture` writes, for any of the 17 data sets, the three files upstream's
data plugin fetches, under upstream's file names (``assy_brendel_Geirhos2021_<dataset>.nc``,
``stimulus_Geirhos2021_<dataset>.csv`` / ``.zip``), with brainscore_core's own writers
(``write_netcdf``, ``create_stimulus_zip``, ``create_stimulus_csv``) and the layout of the real
2021 files:

- the assembly: a ``BehavioralAssembly`` whose values are the human choices, dimension
  ``presentation`` with upstream's coords ``image_id, image_id_long, truth, choice, category,
  condition, response_time, trial, subject, session`` (no ``stimulus_id``: Brain-Score's loader
  derives it from ``image_id``, as for the real files). ``condition`` has the real levels and
  types, including every level upstream's benchmark excludes (it asserts they are present):
  e.g. strings ``'cr', 'bw'`` (colour), floats ``inf, 3.0, …, 0.4`` (high-pass), integers
  ``0, 1, …, 40`` (low-pass), ``'0', 'pow'`` (power-equalisation);
- the stimulus set: PNG images in a flat zip (``<image_id>.png``) and a CSV with the per-family
  columns of upstream's packaging scripts (``image_id, image_id_long, image_number,
  experiment_code, condition, truth, category_ground_truth, random_number, wordnet_a, wordnet_b``
  for most sets; ``image_category, image_variation`` for edge and silhouette; ``original_image,
  conflict_image, …`` for cue-conflict) plus ``filename``. Image ids follow the real schemes
  (``bw_oven_10_n03862676_3``, ``bear4``, ``airplane1-bicycle2``, ``0_chair_00_chair-0003-sketch-0``).

Images are crops of scikit-image's public-domain photos (one photo per category), transformed per
condition in a simple way standing in for Geirhos' manipulations (greyscale, contrast reduction,
Gaussian low/high-pass, phase noise, spectrum equalisation, colour opponent inversion, rotation,
smooth pixel displacement for eidolons, uniform noise, edge maps, silhouettes, sketches,
posterised "styles", texture blends for cue conflict). Human choices are simulated: every subject
sees every image once; a shared per-image difficulty plus per-subject noise decides correct or
wrong (wrong → another category at random), so subjects' errors are consistent and every
subject has both correct and wrong trials in every condition (error consistency is then defined
for any model). Everything follows from ``seed``.

:func:`serve_geirhos2021_fixture` (tests and demos only) puts the files into
``$BRAINIO_HOME/<sha1>/`` and points ``brainscore_vision.data_registry['Geirhos2021_<dataset>']``
and ``stimulus_set_registry[...]`` at upstream's own S3 loaders with the fixture's sha1s, so
upstream's loading code (sha1 check, unzip, CSV + netCDF loaders, stimulus merge) runs unchanged.
The one difference: the fixture's stimulus sets are named ``Geirhos2021_<dataset>.fixture-<zip sha1[:12]>``,
because Brain-Score caches images placed on screen by that name alone.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from realnet_plugins.brainscore_bridge.geirhos2021 import (
    GEIRHOS2021_CATEGORIES,
    GEIRHOS2021_DATASETS,
    brainio_home,
    data_identifier,
    excluded_conditions,
    upstream_data_files,
    validate_geirhos2021_assembly,
)
from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.storage import atomic_write

MANIFEST = "geirhos2021_fixture.json"
FORMAT = 1

#: Condition levels of each data set, typed as in the real data (model-vs-human's levels).
CONDITION_LEVELS: dict[str, tuple[Any, ...]] = {
    "colour": ("cr", "bw"),
    "contrast": ("c100", "c50", "c30", "c15", "c10", "c05", "c03", "c01"),
    "cue-conflict": (0,),
    "edge": (0,),
    "eidolonI": tuple(f"{2 ** k}-10-10" for k in range(8)),
    "eidolonII": tuple(f"{2 ** k}-3-10" for k in range(8)),
    "eidolonIII": tuple(f"{2 ** k}-0-10" for k in range(8)),
    "false-colour": ("True-Colour", "False-Colour"),
    "high-pass": (np.inf, 3.0, 1.5, 1.0, 0.7, 0.55, 0.45, 0.4),
    "low-pass": (0, 1, 3, 5, 7, 10, 15, 40),
    "phase-scrambling": (0, 30, 60, 90, 120, 150, 180),
    "power-equalisation": ("0", "pow"),
    "rotation": (0, 90, 180, 270),
    "silhouette": (0,),
    "sketch": (0,),
    "stylized": (0,),
    "uniform-noise": (0.0, 0.03, 0.05, 0.1, 0.2, 0.35, 0.6, 0.9),
}
#: Experiment codes in the file names.
EXPERIMENT_CODES: dict[str, str] = {
    "colour": "cl", "contrast": "con", "cue-conflict": "cue", "edge": "edg", "eidolonI": "eid", "eidolonII": "eid",
    "eidolonIII": "eid", "false-colour": "fc", "high-pass": "hp", "low-pass": "lp", "phase-scrambling": "ps",
    "power-equalisation": "pow", "rotation": "rot", "silhouette": "sil", "sketch": "ske", "stylized": "sty",
    "uniform-noise": "nse",
}
_PHOTOS: tuple[str, ...] = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "brick", "grass",
                            "gravel", "moon", "cell", "clock", "hubble_deep_field", "immunohistochemistry", "retina",
                            "page")


@dataclass(frozen=True)
class FixtureFile:
    """One written file: upstream's file name, its sha1 and upstream's S3 arguments for it."""

    filename: str
    sha1: str
    identifier: str
    bucket: str
    version_id: str


@dataclass(frozen=True)
class Geirhos2021Fixture:
    """A written fixture: ``folder/<dataset>/<files>`` and the manifest ``folder/geirhos2021_fixture.json``."""

    folder: Path
    datasets: dict[str, dict[str, Any]]

    def files(self, dataset: str) -> dict[str, FixtureFile]:
        """``{'assembly'|'csv'|'zip': FixtureFile}`` of a data set."""
        return {role: FixtureFile(**record) for role, record in self.datasets[dataset]["files"].items()}

    def path(self, dataset: str, role: str) -> Path:
        """The written file of a data set (role ``'assembly'``, ``'csv'`` or ``'zip'``)."""
        return self.folder / dataset / self.datasets[dataset]["files"][role]["filename"]


# ------------------------------------------------------------------------------------------------------ images


@functools.lru_cache(maxsize=1)
def _category_photos() -> tuple[np.ndarray, ...]:
    """One scikit-image photo per category, uint8 RGB, longest side ≤ 256."""
    import skimage.data

    photos = []
    for name in _PHOTOS:
        array = np.asarray(getattr(skimage.data, name)())
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        image = Image.fromarray(np.ascontiguousarray(array[..., :3]).astype(np.uint8))
        image.thumbnail((256, 256), Image.Resampling.BILINEAR)
        photos.append(np.asarray(image))
    return tuple(photos)


def _photo_crop(category: str, variation: int, size: int) -> np.ndarray:
    """A square crop of the category's photo, float (size, size, 3) in [0, 1]; position set by ``variation``."""
    photo = _category_photos()[GEIRHOS2021_CATEGORIES.index(category)]
    rng = np.random.default_rng([GEIRHOS2021_CATEGORIES.index(category), variation])
    height, width = photo.shape[:2]
    side = int(min(height, width) * rng.uniform(0.55, 0.9))
    top, left = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    crop = Image.fromarray(photo[top:top + side, left:left + side]).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(crop, dtype=np.float64) / 255.0


def _grey(image: np.ndarray) -> np.ndarray:
    return np.repeat((image @ np.array([0.299, 0.587, 0.114]))[..., None], 3, axis=-1)


def _gradient(image: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    grey = _grey(image)[..., 0]
    magnitude = np.hypot(ndimage.sobel(grey, axis=0), ndimage.sobel(grey, axis=1))
    return magnitude / max(float(magnitude.max()), 1e-9)


def _transform(dataset: str, condition: Any, image: np.ndarray, rng: np.random.Generator,
               other: np.ndarray) -> np.ndarray:
    """One image under one condition, float (S, S, 3) in [0, 1]; ``other`` is a second photo (cue conflict)."""
    from scipy import ndimage

    size = image.shape[0]
    scale = size / 224.0  # the real images are 224 px; spatial parameters are scaled to the fixture's size
    if dataset == "colour":
        return image if condition == "cr" else _grey(image)
    if dataset == "contrast":
        grey = _grey(image)
        return 0.5 + (grey - 0.5) * int(condition[1:]) / 100.0
    if dataset in ("high-pass", "low-pass"):
        grey = _grey(image)
        if dataset == "high-pass":
            if not np.isfinite(condition):
                return grey
            sigma = condition * scale * 4
            return np.clip(grey - ndimage.gaussian_filter(grey, (sigma, sigma, 0)) + 0.5, 0, 1)
        return ndimage.gaussian_filter(grey, (condition * scale, condition * scale, 0)) if condition else grey
    if dataset in ("phase-scrambling", "power-equalisation"):
        grey = _grey(image)[..., 0]
        spectrum = np.fft.fft2(grey - grey.mean())
        if dataset == "phase-scrambling":
            noise = rng.uniform(-1, 1, spectrum.shape) * np.deg2rad(condition)
            out = np.real(np.fft.ifft2(spectrum * np.exp(1j * noise))) + grey.mean()
        elif condition == "0":
            out = grey
        else:
            fy, fx = np.meshgrid(np.fft.fftfreq(size), np.fft.fftfreq(size), indexing="ij")
            pink = 1.0 / np.maximum(np.hypot(fx, fy), 1.0 / size)
            pink *= np.abs(spectrum).sum() / pink.sum()
            out = np.real(np.fft.ifft2(pink * np.exp(1j * np.angle(spectrum)))) + grey.mean()
        return np.repeat(np.clip(out, 0, 1)[..., None], 3, axis=-1)
    if dataset == "false-colour":
        if condition == "True-Colour":
            return image
        luminance = _grey(image)
        return np.clip(2 * luminance - image, 0, 1)  # same luminance, opponent colours
    if dataset == "rotation":
        return np.rot90(image, k=int(condition) // 90)
    if dataset.startswith("eidolon"):
        reach, coherence, _ = (int(part) for part in condition.split("-"))
        grey = _grey(image)[..., 0]
        smooth = 1.0 + coherence / 2.0
        shifts = [ndimage.gaussian_filter(rng.standard_normal((size, size)), smooth) for _ in range(2)]
        shifts = [s / max(float(np.abs(s).max()), 1e-9) * reach * scale for s in shifts]
        rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        out = ndimage.map_coordinates(grey, [rows + shifts[0], cols + shifts[1]], order=1, mode="reflect")
        return np.repeat(out[..., None], 3, axis=-1)
    if dataset == "uniform-noise":
        grey = _grey(image)
        return np.clip(grey + rng.uniform(-condition, condition, grey.shape[:2])[..., None], 0, 1)
    if dataset == "cue-conflict":
        return np.clip(0.55 * _grey(image) + 0.45 * other, 0, 1)
    if dataset == "edge":
        edges = _gradient(image) > 0.25
        return np.repeat(np.where(edges, 0.0, 1.0)[..., None], 3, axis=-1)
    if dataset == "silhouette":
        grey = ndimage.gaussian_filter(_grey(image)[..., 0], 2 * scale + 0.5)
        return np.repeat(np.where(grey < grey.mean(), 0.0, 1.0)[..., None], 3, axis=-1)
    if dataset == "sketch":
        return np.repeat((1.0 - np.clip(_gradient(image) * 2.0, 0, 1))[..., None], 3, axis=-1)
    if dataset == "stylized":
        posterised = np.floor(image * 4) / 3
        return np.clip(posterised[..., rng.permutation(3)], 0, 1)
    raise DataFormatError(f"unknown Geirhos2021 data set {dataset!r}; expected one of {list(GEIRHOS2021_DATASETS)}")


def _save_png(image: np.ndarray, path: Path) -> None:
    Image.fromarray(np.round(np.clip(image, 0, 1) * 255).astype(np.uint8), mode="RGB").save(path, format="PNG")


# ------------------------------------------------------------------------------------------------- stimuli


@functools.lru_cache(maxsize=1)
def _wordnet_ids() -> dict[str, str]:
    """Category → the ImageNet synset of its first ImageNet class in upstream's 16-category mapping."""
    import brainscore_vision.model_helpers.brain_transformation.behavior as behavior

    synsets = (Path(behavior.__file__).parent / "imagenet_classes.txt").read_text().split()
    return {c: synsets[behavior.LabelToImagenetIndices.label_to_indices(c)[0]] for c in GEIRHOS2021_CATEGORIES}


def _stimulus_rows(dataset: str, condition: Any, categories: Sequence[str], start: int) -> list[dict[str, Any]]:
    """The stimulus-set rows of one condition (upstream's per-family columns), image ids in the real schemes."""
    rows = []
    code = EXPERIMENT_CODES[dataset]
    for k, category in enumerate(categories):
        number = start + k
        variation = number + 1
        if dataset in ("edge", "silhouette"):
            image_id = f"{category}{variation}"
            rows.append({"image_id": image_id, "image_category": category, "truth": category,
                         "image_variation": variation, "condition": condition})
        elif dataset == "cue-conflict":
            conflict = GEIRHOS2021_CATEGORIES[(GEIRHOS2021_CATEGORIES.index(category) + 1 + k % 15) % 16]
            original, conflicting = f"{category}{variation}", f"{conflict}{variation % 10 + 1}"
            rows.append({"image_id": f"{original}-{conflicting}", "original_image": original,
                         "conflict_image": conflicting, "truth": category, "category": category,
                         "original_image_category": category, "original_image_variation": variation,
                         "conflict_image_category": conflict, "conflict_image_variation": variation % 10 + 1,
                         "condition": condition})
        elif dataset in ("sketch", "stylized"):
            kind = "sketch" if dataset == "sketch" else "ILSVRC2012"
            tail = f"{category}-{variation:04d}-{kind}-0"
            image_id = f"{condition}_{category}_00_{tail}"
            rows.append({"image_id": image_id, "image_id_long": f"{number:04d}_{code}_dnn_{image_id}",
                         "image_number": f"{number:04d}", "experiment_code": code, "condition": condition,
                         "truth": category, "category_ground_truth": category, "random_number": "00"})
        else:
            wordnet_a, wordnet_b = _wordnet_ids()[category], str(1000 + number)
            random_number = str(10 + number % 40)
            image_id = f"{condition}_{category}_{random_number}_{wordnet_a}_{wordnet_b}"
            rows.append({"image_id": image_id, "image_id_long": f"{number:04d}_{code}_dnn_{image_id}",
                         "image_number": f"{number:04d}", "experiment_code": code, "condition": condition,
                         "truth": category, "category_ground_truth": category, "random_number": random_number,
                         "wordnet_a": wordnet_a, "wordnet_b": wordnet_b})
    return rows


def _session_name(dataset: str, trial: int, subject: int, row: Mapping[str, Any]) -> str:
    """A subject's image file name as the raw tables log it (upstream's ``image_id_long`` of the assembly)."""
    code = EXPERIMENT_CODES[dataset]
    if dataset in ("edge", "silhouette", "cue-conflict"):
        return f"{trial:04d}_{code}_s{subject:02d}_0_{row['truth']}_0_{row['image_id']}.png"
    return f"{trial:04d}_{code}_s{subject:02d}_{row['image_id']}.png"


def _choices(correct_probability_shift: float, n_images: int, n_subjects: int, rng: np.random.Generator) -> np.ndarray:
    """Correct (True) / wrong per subject × image: shared difficulty + subject noise; each row mixes both."""
    difficulty = rng.standard_normal(n_images)
    correct = difficulty[None, :] + 0.7 * rng.standard_normal((n_subjects, n_images)) + correct_probability_shift > 0
    for row in correct:
        if row.all():
            row[int(np.argmin(difficulty))] = False
        elif not row.any():
            row[int(np.argmax(difficulty))] = True
    return correct


# -------------------------------------------------------------------------------------------------- writing


def write_geirhos2021_fixture(folder: str | os.PathLike, datasets: Sequence[str] = GEIRHOS2021_DATASETS, *,
                              n_subjects: int = 3, images_per_condition: int = 16, kept_conditions: int | None = None,
                              image_size: int = 64, seed: int = 0) -> Geirhos2021Fixture:
    """Write miniature Geirhos2021 data sets in Brain-Score's format (see the module docstring).

    Args:
        folder: output folder; each data set goes to ``folder/<dataset>/`` and the manifest to
            ``folder/geirhos2021_fixture.json`` (data sets already there are replaced).
        datasets: any of :data:`GEIRHOS2021_DATASETS`.
        n_subjects: human subjects (≥ 2: the ceiling compares pairs).
        images_per_condition: images per condition (≥ 2), cycling through the 16 categories.
        kept_conditions: keep only the first N levels that upstream scores (every excluded level
            is always written); None for all real levels.
        image_size: side of the square PNG images, pixels.
        seed: everything (crops, noise, choices) follows from it.

    Returns:
        The written :class:`Geirhos2021Fixture`.

    Raises:
        DataFormatError: an unknown data set or an out-of-range parameter.
    """
    unknown = [d for d in datasets if d not in GEIRHOS2021_DATASETS]
    if unknown or not datasets:
        raise DataFormatError(f"expected Geirhos2021 data sets among {list(GEIRHOS2021_DATASETS)}; "
                              f"got {list(datasets)}")
    if n_subjects < 2 or images_per_condition < 2 or image_size < 16 or (kept_conditions is not None
                                                                        and kept_conditions < 1):
        raise DataFormatError(f"expected n_subjects >= 2, images_per_condition >= 2, image_size >= 16 and "
                              f"kept_conditions None or >= 1; got {n_subjects}, {images_per_condition}, {image_size}, "
                              f"{kept_conditions}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / MANIFEST
    records = json.loads(manifest_path.read_text())["datasets"] if manifest_path.is_file() else {}
    for index, dataset in enumerate(datasets):
        records[dataset] = _write_dataset(folder, dataset, n_subjects=n_subjects, n_images=images_per_condition,
                                          kept_conditions=kept_conditions, image_size=image_size,
                                          rng=np.random.default_rng([seed, GEIRHOS2021_DATASETS.index(dataset)]))
    with atomic_write(manifest_path, "w") as f:
        json.dump({"format": FORMAT, "datasets": records}, f, indent=1)
    return Geirhos2021Fixture(folder, records)


def _levels(dataset: str, kept_conditions: int | None) -> list[Any]:
    excluded = excluded_conditions(dataset)
    kept = [c for c in CONDITION_LEVELS[dataset] if not any(c == e for e in excluded)]
    kept = kept if kept_conditions is None else kept[:kept_conditions]
    return [c for c in CONDITION_LEVELS[dataset] if c in kept or any(c == e for e in excluded)]


def _write_dataset(folder: Path, dataset: str, *, n_subjects: int, n_images: int, kept_conditions: int | None,
                   image_size: int, rng: np.random.Generator) -> dict[str, Any]:
    from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly
    from brainscore_core.supported_data_standards.brainio.packaging import (
        create_stimulus_csv,
        create_stimulus_zip,
        write_netcdf,
    )
    from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

    upstream = {f.role: f for f in upstream_data_files(dataset)}
    levels = _levels(dataset, kept_conditions)
    rows: list[dict[str, Any]] = []
    for c_index, condition in enumerate(levels):
        order = rng.permutation(16)
        categories = [GEIRHOS2021_CATEGORIES[order[k % 16]] for k in range(n_images)]
        rows += _stimulus_rows(dataset, condition, categories, start=len(rows))

    target = folder / dataset
    staging = Path(tempfile.mkdtemp(prefix=f".{dataset}.", dir=folder))
    try:
        images = staging / "images"
        images.mkdir()
        paths = {}
        for k, row in enumerate(rows):
            variation = k + 1
            photo = _photo_crop(row["truth"], variation, image_size)
            other = _photo_crop(row.get("conflict_image_category", row["truth"]), variation + 7, image_size)
            paths[row["image_id"]] = images / f"{row['image_id']}.png"
            _save_png(_transform(dataset, row["condition"], photo, rng, other), paths[row["image_id"]])

        stimulus_set = StimulusSet([{**row, "stimulus_id": row["image_id"]} for row in rows])
        stimulus_set.stimulus_paths = paths
        zip_sha1, arcnames = create_stimulus_zip(stimulus_set, str(staging / upstream["stimulus_set zip"].filename))
        # the 2021 files predate 'stimulus_id': image_id + filename, as upstream's loader expects for them
        on_disk = StimulusSet(stimulus_set.drop(columns=["stimulus_id"]).assign(filename=arcnames))
        csv_sha1 = create_stimulus_csv(on_disk, str(staging / upstream["stimulus_set csv"].filename))

        assembly = _human_assembly(dataset, rows, levels, n_subjects, rng, BehavioralAssembly)
        check = assembly.assign_coords(stimulus_id=("presentation", assembly["image_id"].values))
        check.attrs["stimulus_set"] = stimulus_set
        validate_geirhos2021_assembly(dataset, check)
        assembly_sha1 = write_netcdf(assembly, staging / upstream["assembly"].filename)
        shutil.rmtree(images)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    sha1s = {"assembly": assembly_sha1, "csv": csv_sha1, "zip": zip_sha1}
    roles = {"assembly": "assembly", "csv": "stimulus_set csv", "zip": "stimulus_set zip"}
    return {
        "data_id": data_identifier(dataset),
        "conditions": [c if not isinstance(c, float) or np.isfinite(c) else "inf" for c in levels],
        "n_subjects": n_subjects, "images_per_condition": n_images, "image_size": image_size,
        "files": {role: {"filename": upstream[roles[role]].filename, "sha1": sha1s[role],
                         "identifier": upstream[roles[role]].identifier, "bucket": upstream[roles[role]].bucket,
                         "version_id": upstream[roles[role]].version_id} for role in roles},
    }


def _human_assembly(dataset: str, rows: list[dict[str, Any]], levels: list[Any], n_subjects: int,
                    rng: np.random.Generator, assembly_class: type) -> Any:
    """Simulated human trials: every subject sees every image once, in a shuffled order."""
    excluded = excluded_conditions(dataset)
    by_condition: dict[int, list[int]] = {}
    for k, row in enumerate(rows):
        by_condition.setdefault(levels.index(row["condition"]), []).append(k)
    correct = np.zeros((n_subjects, len(rows)), dtype=bool)
    for c_index, members in by_condition.items():
        # excluded levels are the control or too hard; scored levels get easier-than-chance mixed behaviour
        shift = -0.8 if any(levels[c_index] == e for e in excluded) else 0.3
        correct[:, members] = _choices(shift, len(members), n_subjects, rng)
    records = []
    for subject in range(1, n_subjects + 1):
        order = rng.permutation(len(rows))
        for trial, k in enumerate(order, start=1):
            row = rows[k]
            truth = row["truth"]
            wrong = [c for c in GEIRHOS2021_CATEGORIES if c != truth]
            choice = truth if correct[subject - 1, k] else wrong[int(rng.integers(len(wrong)))]
            records.append((row["image_id"], _session_name(dataset, trial, subject, row), truth, choice,
                            row["condition"], float(rng.uniform(400, 1500)), trial, f"subject-{subject:02d}", 1))
    columns = list(zip(*records))
    condition = np.asarray(columns[4], dtype=np.asarray(levels).dtype if not isinstance(levels[0], str) else object)
    coords = {
        "image_id": ("presentation", np.asarray(columns[0], dtype=object)),
        "image_id_long": ("presentation", np.asarray(columns[1], dtype=object)),
        "truth": ("presentation", np.asarray(columns[2], dtype=object)),
        "choice": ("presentation", np.asarray(columns[3], dtype=object)),
        "category": ("presentation", np.asarray(columns[2], dtype=object)),
        "condition": ("presentation", condition),
        "response_time": ("presentation", np.asarray(columns[5], dtype=np.float64)),
        "trial": ("presentation", np.asarray(columns[6], dtype=np.int64)),
        "subject": ("presentation", np.asarray(columns[7], dtype=object)),
        "session": ("presentation", np.asarray(columns[8], dtype=np.int64)),
    }
    assembly = assembly_class(np.asarray(columns[3], dtype=object), coords=coords, dims=["presentation"])
    assembly.name = upstream_data_files(dataset)[0].identifier
    return assembly


# -------------------------------------------------------------------------------------------------- serving


def read_fixture(folder: str | os.PathLike) -> Geirhos2021Fixture:
    """The fixture written to ``folder``.

    Raises:
        MissingFileError: no manifest there.
    """
    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise MissingFileError(f"no Geirhos2021 fixture in {folder}: expected {manifest}; write one with "
                               "write_geirhos2021_fixture(folder)")
    return Geirhos2021Fixture(folder, json.loads(manifest.read_text())["datasets"])


def fixture_loaders(fixture: Geirhos2021Fixture, *, validate: bool = True
                    ) -> tuple[dict[str, Callable[[], Any]], dict[str, Callable[[], Any]]]:
    """Registry entries that load the fixture through upstream's own S3 loaders, and place its files.

    Each file is copied to ``$BRAINIO_HOME/<its sha1>/<upstream's file name>``, where upstream's
    ``fetch_file`` finds it without downloading and verifies its sha1. The assembly loaders call
    :func:`validate_geirhos2021_assembly` after loading unless ``validate`` is False.

    Returns:
        ``(data_registry entries, stimulus_set_registry entries)``, keyed ``Geirhos2021_<dataset>``.
    """
    from brainscore_core.supported_data_standards.brainio.assemblies import BehavioralAssembly
    from brainscore_core.supported_data_standards.brainio.s3 import load_assembly_from_s3, load_stimulus_set_from_s3
    from brainscore_vision import load_stimulus_set

    home = brainio_home()
    data: dict[str, Callable[[], Any]] = {}
    stimulus_sets: dict[str, Callable[[], Any]] = {}
    for dataset in fixture.datasets:
        files = fixture.files(dataset)
        for role, record in files.items():
            destination = home / record.sha1 / record.filename
            if not destination.is_file():
                destination.parent.mkdir(parents=True, exist_ok=True)
                with atomic_write(destination) as out, open(fixture.path(dataset, role), "rb") as source:
                    shutil.copyfileobj(source, out)
        data_id = data_identifier(dataset)

        def load_assembly(dataset: str = dataset, data_id: str = data_id, record: FixtureFile = files["assembly"]):
            assembly = load_assembly_from_s3(identifier=record.identifier, version_id=record.version_id,
                                             sha1=record.sha1, bucket=record.bucket, cls=BehavioralAssembly,
                                             stimulus_set_loader=lambda: load_stimulus_set(data_id))
            if validate:
                validate_geirhos2021_assembly(dataset, assembly)
            return assembly

        def load_stimuli(csv: FixtureFile = files["csv"], archive: FixtureFile = files["zip"]):
            stimulus_set = load_stimulus_set_from_s3(identifier=csv.identifier, bucket=csv.bucket, csv_sha1=csv.sha1,
                                                     zip_sha1=archive.sha1, csv_version_id=csv.version_id,
                                                     zip_version_id=archive.version_id)
            # Brain-Score caches images placed on screen (and activations) by stimulus-set identifier only:
            # a distinct identifier keeps fixture images from ever standing in for the real ones
            stimulus_set.identifier = f"{csv.identifier}.fixture-{archive.sha1[:12]}"
            return stimulus_set

        data[data_id] = load_assembly
        stimulus_sets[data_id] = load_stimuli
    return data, stimulus_sets


def serve_geirhos2021_fixture(folder: str | os.PathLike, *, validate: bool = True) -> list[str]:
    """Serve a fixture through Brain-Score's data registry in this process (tests and demos only).

    Imports upstream's Geirhos2021 data plugin first (so its later import cannot undo this), then
    replaces its ``data_registry`` / ``stimulus_set_registry`` entries for the fixture's data sets
    with :func:`fixture_loaders`. Upstream's benchmarks then load the fixture unchanged.

    Returns:
        The replaced data ids.
    """
    import brainscore_vision
    from brainscore_core.plugin_management.import_plugin import ImportPlugin

    fixture = read_fixture(folder)
    plugin = ImportPlugin("brainscore_vision", "data", data_identifier(GEIRHOS2021_DATASETS[0])).plugin_dirname
    __import__(f"brainscore_vision.data.{plugin}")
    data, stimulus_sets = fixture_loaders(fixture, validate=validate)
    brainscore_vision.data_registry.update(data)
    brainscore_vision.stimulus_set_registry.update(stimulus_sets)
    return sorted(data)
