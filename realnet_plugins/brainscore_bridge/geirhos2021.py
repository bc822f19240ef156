"""Geirhos et al. (2021) through Brain-Score's own benchmarks: the 17-benchmark mean and clear data errors.

Upstream Brain-Score registers 17 benchmarks ``Geirhos2021<dataset>-error_consistency`` (one per
out-of-distribution image set: colour, contrast, cue-conflict, ...), each loading its human data
``Geirhos2021_<dataset>`` from Brain-Score's S3 storage on first use. This module adds

- :class:`Geirhos2021ErrorConsistencyMean`, the benchmark ``Geirhos2021-error_consistency``: the
  mean of the 17 upstream benchmarks, computed by running upstream's benchmark code itself;
- :func:`upstream_data_files`: the files upstream's data plugin fetches for a data set (ids,
  sha1s, file names, where they go under ``$BRAINIO_HOME``), read from the installed plugin;
- :func:`validate_geirhos2021_assembly`: checks that a loaded data set has what upstream's
  benchmark and ``error_consistency`` metric read, raising :class:`DataFormatError` where
  upstream would fail on a bare ``assert``;
- :func:`explain_data_failure`: turns an upstream failure to download or verify the data into one
  :class:`MissingFileError` / :class:`DataFormatError` that says what is missing and where it goes.

Score contract of ``Geirhos2021-error_consistency`` (Brain-Score's leaderboard averages the
17 *ceiled* scores of its ``Geirhos2021`` node, so this benchmark does the same):

- the score is the mean of the 17 ceiled sub-benchmark scores;
- ``attrs['raw']`` is ``Score(mean of the 17 raw values)`` and ``attrs['ceiling']`` is
  ``Score(mean of the 17 ceilings)``;
- ``attrs['error']`` is the standard error of the mean of the 17 ceiled scores
  (``std(ddof=1) / sqrt(17)``), a float;
- ``attrs['detail']`` is a ``DataAssembly`` benchmark × quantity, quantity ∈
  ``('ceiled', 'raw', 'ceiling')``: each sub-benchmark's score, ``attrs['raw']`` and
  ``attrs['ceiling']`` centre (an upstream value with an ``aggregation`` dimension contributes its
  ``'center'``).

Because each sub-score is bounded to [0, 1] and the means are taken separately, the score is in
general **not** ``raw / ceiling``. A NaN sub-score makes the mean NaN; ``attrs['nan_reason']``
then names the benchmarks.
"""
from __future__ import annotations

import ast
import functools
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score
from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly

from realnet_plugins.datasets import BenchmarkDescriptor
from realnet_plugins.datasets.geirhos2021 import BIBTEX as GEIRHOS2021_BIBTEX
from realnet_plugins.datasets.geirhos2021 import DATASETS as GEIRHOS2021_DATASETS
from realnet_plugins.datasets.geirhos2021 import DESCRIPTOR, upstream_identifiers
from realnet_plugins.errors import DataFormatError, MissingFileError, RealnetError

#: The 16 categories of the Geirhos images (upstream maps ImageNet's 1000 logits onto them).
GEIRHOS2021_CATEGORIES: tuple[str, ...] = (
    "airplane", "bear", "bicycle", "bird", "boat", "bottle", "car", "cat", "chair", "clock", "dog", "elephant",
    "keyboard", "knife", "oven", "truck",
)
#: The mean benchmark's descriptor (identifier, version, parent) and the dataset's bibtex.
MEAN = DESCRIPTOR.benchmarks[0]
MEAN_IDENTIFIER, VERSION, PARENT = MEAN.identifier, MEAN.version, MEAN.parent
#: What upstream's benchmark and ``error_consistency`` metric read from each presentation.
REQUIRED_ASSEMBLY_COORDS: tuple[str, ...] = ("stimulus_id", "image_id", "truth", "condition", "subject")
#: What upstream's benchmark reads from the stimulus set (``stimulus_id`` is derived from ``image_id`` on load).
REQUIRED_STIMULUS_COLUMNS: tuple[str, ...] = ("stimulus_id", "image_id", "truth", "condition")


def benchmark_identifier(dataset: str) -> str:
    """Upstream's error-consistency benchmark id of a data set: ``'high-pass'`` → ``'Geirhos2021highpass-…'``."""
    return f"Geirhos2021{dataset.replace('-', '')}-error_consistency"


def data_identifier(dataset: str) -> str:
    """Upstream's data registry key of a data set, e.g. ``'Geirhos2021_high-pass'``."""
    return f"Geirhos2021_{dataset}"


def geirhos2021_identifiers() -> list[str]:
    """The 17 upstream ids ``Geirhos2021<dataset>-error_consistency``, in :data:`GEIRHOS2021_DATASETS` order."""
    return upstream_identifiers()


def excluded_conditions(dataset: str) -> list[Any]:
    """The conditions upstream's benchmark drops from a data set (and asserts are present), as upstream types them."""
    from brainscore_vision.benchmarks.geirhos2021.benchmark import EXCLUDE_CONDITIONS

    return list(EXCLUDE_CONDITIONS.get(dataset, []))


# --------------------------------------------------------------------------------------------- upstream files


def brainio_home() -> Path:
    """Where Brain-Score keeps downloaded data: ``$BRAINIO_HOME`` (default ``~/.brainio``), as upstream resolves it."""
    from brainscore_core.supported_data_standards.brainio.fetch import get_local_data_path

    return Path(get_local_data_path())


@dataclass(frozen=True)
class UpstreamFile:
    """One file upstream's data plugin fetches from S3.

    Attributes:
        data_id: the registry key, e.g. ``'Geirhos2021_colour'``.
        role: ``'assembly'``, ``'stimulus_set csv'`` or ``'stimulus_set zip'``.
        identifier: the id upstream passes to its S3 loader (``'brendel.Geirhos2021_colour'`` …).
        sha1: the file's sha1, also the name of its folder under ``$BRAINIO_HOME``.
        filename: the file name, e.g. ``'assy_brendel_Geirhos2021_colour.nc'``.
        bucket: S3 bucket and folder, e.g. ``'brainscore-storage/brainio-brainscore'``.
        version_id: the S3 version id.
    """

    data_id: str
    role: str
    identifier: str
    sha1: str
    filename: str
    bucket: str
    version_id: str

    @property
    def url(self) -> str:
        """The address upstream downloads the file from."""
        bucket, _, folder = self.bucket.partition("/")
        return f"https://{bucket}.s3.amazonaws.com/{folder + '/' if folder else ''}{self.filename}"

    @property
    def local_path(self) -> Path:
        """Where upstream looks for the file: ``$BRAINIO_HOME/<sha1>/<filename>``."""
        return brainio_home() / self.sha1 / self.filename


def _store_filename(identifier: str, extension: str) -> str:
    # as brainscore_core's s3.get_path names files: 'assy_' for netCDF, 'stimulus_' for csv/zip, dots → underscores
    prefix = "assy_" if extension == "nc" else "stimulus_"
    return f"{prefix}{identifier.replace('.', '_')}.{extension}"


@functools.lru_cache(maxsize=1)
def _plugin_registrations() -> dict[tuple[str, str], dict[str, Any]]:
    """(registry name, key) → literal keyword arguments of the S3 loader call, from the installed data plugin."""
    from brainscore_core.plugin_management.import_plugin import ImportPlugin

    importer = ImportPlugin("brainscore_vision", "data", data_identifier(GEIRHOS2021_DATASETS[0]))
    source = importer.plugins_dir / importer.plugin_dirname / "__init__.py"
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript)
                and isinstance(node.targets[0].value, ast.Name) and isinstance(node.value, ast.Lambda)
                and isinstance(node.value.body, ast.Call)):
            continue
        try:
            key = ast.literal_eval(node.targets[0].slice)
        except ValueError:
            continue
        found[(node.targets[0].value.id, key)] = {
            keyword.arg: keyword.value.value for keyword in node.value.body.keywords
            if keyword.arg and isinstance(keyword.value, ast.Constant)}
    return found


def upstream_data_files(dataset: str) -> tuple[UpstreamFile, ...]:
    """The three files upstream fetches for a data set: assembly netCDF, stimulus CSV and stimulus zip.

    Read from the installed ``brainscore_vision/data/geirhos2021/__init__.py`` (its literal S3
    arguments), so they follow the installed Brain-Score release.

    Raises:
        RealnetError: the installed data plugin does not register the data set with literal arguments.
    """
    data_id = data_identifier(dataset)
    registrations = _plugin_registrations()
    assembly = registrations.get(("data_registry", data_id))
    stimuli = registrations.get(("stimulus_set_registry", data_id))
    needed = {"identifier", "sha1", "bucket"}, {"identifier", "csv_sha1", "zip_sha1", "bucket"}
    if assembly is None or stimuli is None or not needed[0] <= set(assembly) or not needed[1] <= set(stimuli):
        raise RealnetError(
            f"the installed Brain-Score data plugin does not register {data_id} as expected (data_registry and "
            f"stimulus_set_registry entries calling the S3 loaders with literal identifier, sha1 and bucket); "
            f"found {assembly!r} and {stimuli!r}. Is brainscore-vision 2.4.2 installed?")
    return (
        UpstreamFile(data_id, "assembly", assembly["identifier"], assembly["sha1"],
                     _store_filename(assembly["identifier"], "nc"), assembly["bucket"],
                     str(assembly.get("version_id", ""))),
        UpstreamFile(data_id, "stimulus_set csv", stimuli["identifier"], stimuli["csv_sha1"],
                     _store_filename(stimuli["identifier"], "csv"), stimuli["bucket"],
                     str(stimuli.get("csv_version_id", ""))),
        UpstreamFile(data_id, "stimulus_set zip", stimuli["identifier"], stimuli["zip_sha1"],
                     _store_filename(stimuli["identifier"], "zip"), stimuli["bucket"],
                     str(stimuli.get("zip_version_id", ""))),
    )


def missing_data_error(datasets: Sequence[str], cause: BaseException | None = None) -> MissingFileError:
    """One error naming every upstream file of ``datasets`` absent from ``$BRAINIO_HOME`` and where it goes."""
    files = [f for dataset in datasets for f in upstream_data_files(dataset)]
    missing = [f for f in files if not f.local_path.is_file()] or files
    by_id: dict[str, list[str]] = {}
    for f in missing:
        by_id.setdefault(f.data_id, []).append(f"{f.filename} (sha1 {f.sha1})")
    listed = "; ".join(f"{data_id}: {', '.join(names)}" for data_id, names in by_id.items())
    why = f" ({_short(cause)})" if cause is not None else ""
    origin = missing[0].url.rsplit("/", 1)[0]
    return MissingFileError(
        f"Brain-Score's Geirhos2021 data are not on this machine and could not be downloaded{why}. "
        f"Missing {len(missing)} of the {len(files)} files of {len(datasets)} data set(s), each expected at "
        f"$BRAINIO_HOME/<sha1>/<file name> with BRAINIO_HOME={brainio_home()}: {listed}. "
        f"Run once with network access and Brain-Score downloads them from {origin}/<file name>; or copy the "
        f"files to those paths (set BRAINIO_HOME to keep them elsewhere).")


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text[:300]}{'…' if len(text) > 300 else ''}"


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    while error is not None and error not in seen:
        seen.append(error)
        error = error.__cause__ or error.__context__
    return seen


def _raised_in(error: BaseException, module_suffix: str, functions: set[str]) -> bool:
    for link in _chain(error):
        tb = link.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename.replace(os.sep, "/").endswith(module_suffix) and code.co_name in functions:
                return True
            tb = tb.tb_next
    return False


def is_download_failure(error: BaseException) -> bool:
    """Whether ``error`` comes from Brain-Score failing to download a data file (no network, no access)."""
    if any(type(link).__module__.startswith(("botocore", "boto3", "s3transfer")) for link in _chain(error)):
        return True
    return _raised_in(error, "brainio/fetch.py", {"download_boto", "download_boto_config"})


def is_checksum_failure(error: BaseException) -> bool:
    """Whether ``error`` is Brain-Score rejecting a local data file whose sha1 differs from the registered one."""
    return _raised_in(error, "brainio/fetch.py", {"verify_sha1"})


def datasets_of(identifier: str) -> list[str]:
    """The Geirhos2021 data sets a benchmark id reads (all 17 for the mean; none for other ids)."""
    if identifier == MEAN_IDENTIFIER:
        return list(GEIRHOS2021_DATASETS)
    for dataset in GEIRHOS2021_DATASETS:
        stem = f"Geirhos2021{dataset.replace('-', '')}-"
        if identifier.startswith(stem) and identifier[len(stem):] in ("error_consistency", "top1"):
            return [dataset]
    return []


def explain_data_failure(identifier: str, error: BaseException) -> RealnetError | None:
    """A clear error for a Geirhos2021 benchmark that failed on its data, else None.

    Args:
        identifier: the benchmark id (``Geirhos2021-error_consistency`` or one of upstream's
            ``Geirhos2021<dataset>-error_consistency`` / ``-top1``).
        error: what the benchmark raised.

    Returns:
        :class:`MissingFileError` when the data could not be downloaded (it lists every missing file
        and where it goes), :class:`DataFormatError` when a local file fails upstream's sha1 check,
        None for any other failure (and for other benchmarks).
    """
    datasets = datasets_of(identifier)
    if not datasets or isinstance(error, RealnetError):
        return None
    if is_download_failure(error):
        return missing_data_error(datasets, error)
    if is_checksum_failure(error):
        files = [f for dataset in datasets for f in upstream_data_files(dataset)]
        present = ", ".join(str(f.local_path) for f in files if f.local_path.is_file())
        return DataFormatError(
            f"{identifier}: a Geirhos2021 file under $BRAINIO_HOME ({brainio_home()}) is not the file Brain-Score "
            f"registered ({_short(error)}); files present: {present}. Delete the damaged file (a partial download "
            "or a different release) and run again with network access.")
    return None


# ------------------------------------------------------------------------------------------------ validation


def _present(values: Sequence[Any], item: Any) -> bool:
    # upstream asserts `item in assembly['condition'].values` (element-wise ==); a plain-Python == per distinct value
    return any(value == item for value in set(values))


def validate_geirhos2021_assembly(dataset: str, assembly: Any) -> None:
    """Check a loaded ``Geirhos2021_<dataset>`` assembly for everything upstream's benchmark and metric read.

    Upstream fails on bare ``assert``s (or xarray ``KeyError``s) deep in scoring when these do not
    hold; this raises one :class:`DataFormatError` saying what was expected and found:

    - a ``presentation`` dimension with coords :data:`REQUIRED_ASSEMBLY_COORDS`;
    - every condition upstream excludes for this data set is present (upstream asserts it), and at
      least one other condition remains;
    - ``truth`` values are among :data:`GEIRHOS2021_CATEGORIES` (ignoring case and spaces, as upstream);
    - ``attrs['stimulus_set']`` has columns :data:`REQUIRED_STIMULUS_COLUMNS`, every image id of the
      assembly (and no other where upstream excludes no condition: it would show those to the model
      too), and per image the same ``condition`` (as text) and ``truth``;
    - in every remaining condition, every subject saw every image of that condition exactly once
      (the metric compares subjects and the model image by image).

    Args:
        dataset: one of :data:`GEIRHOS2021_DATASETS`.
        assembly: the ``BehavioralAssembly`` as ``brainscore_vision.load_dataset`` returns it.

    Raises:
        DataFormatError: the first problem found.
    """
    import pandas as pd
    from brainscore_core.supported_data_standards.brainio.assemblies import get_metadata

    name = data_identifier(dataset)

    def fail(problem: str) -> DataFormatError:
        return DataFormatError(f"{name}: {problem}. Upstream's {benchmark_identifier(dataset)} cannot score with "
                               "these data; use Brain-Score's release of them (brainscore_vision/data/geirhos2021)")

    if "presentation" not in getattr(assembly, "dims", ()):
        raise fail(f"expected a BehavioralAssembly with a 'presentation' dimension; found dims "
                   f"{tuple(getattr(assembly, 'dims', ()))}")
    coords = list(get_metadata(assembly, dims=("presentation",), names_only=True))
    absent = [c for c in REQUIRED_ASSEMBLY_COORDS if c not in coords]
    if absent:
        raise fail(f"expected presentation coords {list(REQUIRED_ASSEMBLY_COORDS)}; missing {absent} (found {coords})")
    table = pd.DataFrame({c: np.asarray(assembly[c].values) for c in REQUIRED_ASSEMBLY_COORDS})
    conditions = list(table["condition"])
    excluded = excluded_conditions(dataset)
    missing_conditions = [c for c in excluded if not _present(conditions, c)]
    distinct = sorted({str(c) for c in conditions})
    if missing_conditions:
        raise fail(f"upstream excludes the conditions {excluded} and asserts they are present; missing "
                   f"{missing_conditions} among the conditions found {distinct} "
                   f"(dtype {np.asarray(assembly['condition'].values).dtype})")
    kept = table[~table["condition"].map(lambda c: _present(excluded, c))]
    if kept.empty:
        raise fail(f"no condition is left after upstream excludes {excluded}; found only {distinct}")
    # upstream's label mapping lower-cases and drops spaces before looking a label up
    unknown = sorted(t for t in set(table["truth"].astype(str))
                     if t.lower().replace(" ", "") not in GEIRHOS2021_CATEGORIES)
    if unknown:
        raise fail(f"truth labels must be among the 16 categories {list(GEIRHOS2021_CATEGORIES)}; found {unknown}")

    stimulus_set = assembly.attrs.get("stimulus_set")
    if stimulus_set is None:
        raise fail("expected attrs['stimulus_set'] (the images); found none")
    absent = [c for c in REQUIRED_STIMULUS_COLUMNS if c not in stimulus_set.columns]
    if absent:
        raise fail(f"expected stimulus set columns {list(REQUIRED_STIMULUS_COLUMNS)}; missing {absent} "
                   f"(found {list(stimulus_set.columns)})")
    stimuli = pd.DataFrame({"image_id": stimulus_set["image_id"].astype(str).values,
                            "condition": stimulus_set["condition"].astype(str).values,
                            "truth": stimulus_set["truth"].astype(str).values})
    if stimuli["image_id"].duplicated().any():
        raise fail(f"stimulus set image ids must be unique; repeated: "
                   f"{sorted(stimuli.loc[stimuli['image_id'].duplicated(), 'image_id'])[:5]}")
    in_assembly, in_stimuli = set(table["image_id"].astype(str)), set(stimuli["image_id"])
    # upstream drops stimuli the assembly lacks only when it excludes conditions; otherwise the model sees them all
    if not in_assembly <= in_stimuli or (not excluded and in_assembly != in_stimuli):
        raise fail(f"the assembly and its stimulus set must hold the same image ids; only in the assembly: "
                   f"{sorted(in_assembly - in_stimuli)[:5]} ({len(in_assembly - in_stimuli)}), only in the stimulus "
                   f"set: {sorted(in_stimuli - in_assembly)[:5]} ({len(in_stimuli - in_assembly)})")
    per_image = table.assign(image_id=table["image_id"].astype(str), condition=table["condition"].astype(str),
                             truth=table["truth"].astype(str)).merge(stimuli, on="image_id", suffixes=("", "_stimuli"))
    for column in ("condition", "truth"):
        differ = per_image[per_image[column] != per_image[f"{column}_stimuli"]]
        if not differ.empty:
            row = differ.iloc[0]
            raise fail(f"{column} of image {row['image_id']} is {row[column]!r} in the assembly but "
                       f"{row[column + '_stimuli']!r} in the stimulus set ({len(differ)} presentations differ)")
    kept = kept.assign(image_id=kept["image_id"].astype(str), condition=kept["condition"].astype(str))
    images = stimuli[stimuli["image_id"].isin(in_assembly)].groupby("condition")["image_id"].apply(sorted).to_dict()
    for (subject, condition), seen in kept.groupby(["subject", "condition"])["image_id"]:
        if sorted(seen) != images.get(condition, []):
            raise fail(f"subject {subject} must see each of the {len(images.get(condition, []))} images of condition "
                       f"{condition} exactly once; found {len(seen)} presentations of {seen.nunique()} images")
    subjects = set(kept["subject"])
    for condition in set(kept["condition"]):
        seen_by = set(kept.loc[kept["condition"] == condition, "subject"])
        if seen_by != subjects:
            raise fail(f"every subject must see condition {condition}; missing for {sorted(subjects - seen_by)}")


# ----------------------------------------------------------------------------------------------- the benchmark


def score_center(value: Any, what: str) -> float:
    """The scalar centre of a Score as Brain-Score's database reads it (``aggregation='center'`` if present).

    Raises:
        DataFormatError: an array with more than one value and no ``aggregation`` centre.
    """
    if hasattr(value, "dims"):
        if "aggregation" in getattr(value, "coords", {}):
            return float(value.sel(aggregation="center").values)
        if np.size(value.values) != 1:
            raise DataFormatError(f"{what} is an array of shape {tuple(value.shape)} {tuple(value.dims)}, not a scalar "
                                  "and without an aggregation='center' value")
        return float(np.asarray(value.values).reshape(()))
    return float(value)


def _load_upstream_benchmark(identifier: str) -> Any:
    from brainscore_vision import load_benchmark

    return load_benchmark(identifier)


def _load_upstream_dataset(data_id: str) -> Any:
    from brainscore_vision import load_dataset

    return load_dataset(data_id)


class Geirhos2021ErrorConsistencyMean(BenchmarkBase):
    """``Geirhos2021-error_consistency``: the mean of Brain-Score's 17 Geirhos2021 error-consistency benchmarks.

    Each sub-benchmark is upstream's own (``brainscore_vision.load_benchmark``): it asks the model
    for labels (``start_task(BrainModel.Task.label, <the 16 categories present>)``), shows the
    images at 3 degrees of visual angle (``place_on_screen``) and compares the model's correct /
    wrong pattern with each human's (Cohen's kappa, Geirhos et al. 2020), ceiled by the
    inter-subject consistency. Score contract: see the module docstring (score ≠ raw / ceiling).

    Before scoring, every data set is loaded once and checked with
    :func:`validate_geirhos2021_assembly`; data Brain-Score cannot download raise one
    :class:`MissingFileError` naming every missing file and where it goes (``$BRAINIO_HOME``).

    Args:
        load: ``benchmark id → benchmark`` (default ``brainscore_vision.load_benchmark``).
        load_data: ``data id → assembly`` (default ``brainscore_vision.load_dataset``).
        descriptor: its descriptor (default: the one ``realnet_plugins.datasets.geirhos2021`` declares).
    """

    def __init__(self, load: Callable[[str], Any] = _load_upstream_benchmark,
                 load_data: Callable[[str], Any] = _load_upstream_dataset,
                 descriptor: BenchmarkDescriptor = MEAN) -> None:
        self.descriptor = descriptor
        self._load = load
        self._load_data = load_data
        self._benchmarks: list[Any] | None = None
        self._data_checked = False
        self._ceiling_cache: Score | None = None
        super().__init__(identifier=descriptor.identifier, ceiling=None, version=descriptor.version,
                         parent=descriptor.parent, bibtex=GEIRHOS2021_BIBTEX)

    def sub_benchmarks(self) -> list[Any]:
        """The 17 upstream benchmarks, in :data:`GEIRHOS2021_DATASETS` order (built at first use)."""
        if self._benchmarks is None:
            self._benchmarks = [self._load(identifier) for identifier in geirhos2021_identifiers()]
        return self._benchmarks

    def _guarded(self, identifier: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except RealnetError:
            raise
        except Exception as error:
            clear = explain_data_failure(identifier, error)
            if clear is None:
                raise
            raise clear from None

    def check_data(self) -> None:
        """Load every data set once and validate it (downloads on first use, as upstream does).

        Raises:
            MissingFileError: data that could not be downloaded (every missing file is listed).
            DataFormatError: data upstream's benchmark cannot score.
        """
        if self._data_checked:
            return
        for dataset in GEIRHOS2021_DATASETS:
            assembly = self._guarded(self.identifier, lambda d=dataset: self._load_data(data_identifier(d)))
            validate_geirhos2021_assembly(dataset, assembly)
        self._data_checked = True

    @property
    def ceiling(self) -> Score:
        """Mean of the 17 sub-benchmark ceilings; ``attrs['per_benchmark']`` keeps each."""
        if self._ceiling_cache is None:
            self.check_data()
            values = [score_center(self._guarded(b.identifier, lambda b=b: b.ceiling), f"{b.identifier}'s ceiling")
                      for b in self.sub_benchmarks()]
            ceiling = Score(np.float64(np.mean(values)))
            ceiling.attrs["per_benchmark"] = DataAssembly(np.array(values), dims=("benchmark",),
                                                          coords={"benchmark": geirhos2021_identifiers()})
            self._ceiling_cache = ceiling
        return self._ceiling_cache

    def __call__(self, candidate: Any) -> Score:
        self.check_data()
        rows = []
        for benchmark in self.sub_benchmarks():
            sub = self._guarded(benchmark.identifier, lambda b=benchmark: b(candidate))
            rows.append([score_center(sub, f"{benchmark.identifier}'s score"),
                         score_center(sub.attrs["raw"], f"{benchmark.identifier}'s attrs['raw']"),
                         score_center(sub.attrs["ceiling"], f"{benchmark.identifier}'s attrs['ceiling']")])
        return summarize(np.asarray(rows, dtype=np.float64), [b.identifier for b in self.sub_benchmarks()])


def summarize(values: np.ndarray, identifiers: Sequence[str]) -> Score:
    """The mean benchmark's Score from per-benchmark (ceiled, raw, ceiling) rows, shape (n_benchmarks, 3)."""
    ceiled, raw, ceiling = values[:, 0], values[:, 1], values[:, 2]
    n = len(ceiled)
    score = Score(np.float64(np.mean(ceiled)))
    score.attrs["raw"] = Score(np.float64(np.mean(raw)))
    score.attrs["ceiling"] = Score(np.float64(np.mean(ceiling)))
    score.attrs["error"] = float(np.std(ceiled, ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
    score.attrs["detail"] = DataAssembly(values, dims=("benchmark", "quantity"),
                                         coords={"benchmark": list(identifiers),
                                                 "quantity": ["ceiled", "raw", "ceiling"]})
    score.attrs["benchmarks"] = list(identifiers)
    # not 'aggregation': Brain-Score's database takes any Score with an `aggregation` attribute for a centre/error array
    score.attrs["summary"] = ("score: mean of the ceiled sub-scores; raw: mean of their raw values; ceiling: mean "
                              "of their ceilings; error: SEM of the ceiled sub-scores (score != raw / ceiling)")
    undefined = [identifier for identifier, row in zip(identifiers, values) if not np.isfinite(row).all()]
    if undefined:
        score.attrs["nan_reason"] = f"undefined (NaN) values from {undefined}"
    return score
