"""Benchmark and data plugin folders for a Brain-Score submission of this package's RSA benchmarks.

``realnet submission --benchmarks 'ThingsEEG2*' 'Shen2019.*'`` turns the selected benchmarks of the
dataset descriptors (:mod:`realnet_plugins.datasets`) and the data of the current packages under
``$REALNET_HOME`` into, per dataset, two plugin folders that need no realnet-plugins:

    benchmarks/<dataset>_rsa/__init__.py      one literal benchmark_registry line per identifier
    benchmarks/<dataset>_rsa/benchmark.py     RDMBenchmark over the data plugin's files and the stimulus set
    benchmarks/<dataset>_rsa/benchmarks.json  per identifier: version, selection, options, data ids, ceiling
    benchmarks/<dataset>_rsa/realnet_lib/...  the RSA code, copied from this package (see :mod:`.codegen`)
    benchmarks/<dataset>_rsa/test.py, metadata.yml, requirements.txt, README.md
    data/<dataset>_rsa/__init__.py            upstream-style load_assembly_from_s3 / load_stimulus_set_from_s3
                                              lines, one per file and stimulus set
    data/<dataset>_rsa/loaders.py             those loaders, refusing values not filled in after the upload
    data/<dataset>_rsa/data_files.json        every file: sha1, size, class, dims, shape
    data/<dataset>_rsa/test.py, README.md     (+ stimuli/<set>.csv and data_packaging/ for unregistered images)

and the data files themselves, which the Brain-Score team uploads to its storage
(``brainscore-storage/brainscore-vision/benchmarks/<Name>``, upstream's convention). They are not
put into the zip (a zip for brain-score.org holds code that gets installed; the full data are
100-250 MB) but into a folder beside it, ``<zip name>_upload/<Name>/<file>``, with ``UPLOAD.md``
and ``upload.json`` listing where each goes and which placeholder its S3 version id replaces.

What the data files hold (written with brainscore_core's ``write_netcdf``, sha1 recorded):

* per subject and selection, the target RDMs a benchmark compares models with — THINGS-EEG2:
  the decoding RDM of every time point and its two split halves (one file per subject and RDM
  kind); Shen 2019: the fMRI RDM of every ROI (one file per subject and image set). Layout:
  :mod:`realnet_plugins.brainscore_bridge.data_files`;
* the measured responses where Brain-Score does not have them yet: the Shen 2019 ROI assemblies
  (every subject's and ROI's voxels, per image set). THINGS-EEG2's test EEG is upstream's
  ``Gifford2022_test`` already.

Images are never written anywhere (THINGS and ImageNet images may not be redistributed).
THINGS-EEG2's benchmarks use upstream's registered ``Gifford2022_stim_test`` (the same 200 test
images; stimulus_id = file stem, as upstream's ``package_gifford2022.py`` makes them); the ids
are checked against upstream's ``image_metadata.npy``. Other image sets (Shen 2019) are
registered in the data plugin with placeholders; ``stimuli/<set>.csv`` lists every image file with
its sha256 and where to obtain it, and ``data_packaging/package_stimuli.py`` packages the team's
copies with brainscore_core's writers.

``Geirhos2021-error_consistency`` is refused: it averages upstream's 17 Geirhos2021 benchmarks on
upstream's own data, so there is no data or RSA code of this package to submit.
"""
from __future__ import annotations

import ast
import fnmatch
import importlib.util
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from tqdm.auto import tqdm

from realnet_plugins import __version__
from realnet_plugins.datasets import BenchmarkDescriptor, DatasetDescriptor, benchmark_descriptors
from realnet_plugins.datasets.metadata import metadata_text
from realnet_plugins.errors import DataFormatError, RealnetError, UsageError
from realnet_plugins.storage import fingerprint
from realnet_plugins.submission.archive import PluginFolder
from realnet_plugins.submission.codegen import (
    LIBRARY_NAME,
    ROOT,
    CarriedCodeError,
    generate_library,
    module_file,
    requirements,
)
from realnet_plugins.submission.weights import file_digests

log = logging.getLogger(__name__)

#: Template files copied into the generated plugins (beside the model plugin's).
TEMPLATE_DIR = Path(__file__).resolve().parent / "plugin_template"
#: The bridge class of every benchmark this module can submit.
RDM_BUILD = "realnet_plugins.brainscore_bridge.benchmarks:RDMBenchmark"
#: Upstream's storage convention for benchmark data: ``<bucket>/<folder>`` with one folder per benchmark family.
BUCKET_ROOT = "brainscore-storage/brainscore-vision/benchmarks"
#: Prefix of every value known only after the upload (the data plugin's loaders refuse it).
PLACEHOLDER = "FILL-IN"
#: The RDM of every trial, then the split halves (``rdm_trials`` coordinate of an RDM file).
RDM_TRIALS = ("all", "half_1", "half_2")


@dataclass(frozen=True)
class UpstreamStimulusSet:
    """A stimulus set Brain-Score registers already, and where its image ids are recorded.

    Attributes:
        registry_id: its ``stimulus_set_registry`` key.
        plugin: upstream's data plugin folder registering it.
        metadata_file: file in that folder listing the images (an ``image_metadata.npy`` dict).
        metadata_key: the key of the list of image file names.
        note: why it is the same image set.
    """

    registry_id: str
    plugin: str
    metadata_file: str
    metadata_key: str
    note: str


#: Stimulus sets of this package's packages (``Stimuli.identifier``) that Brain-Score registers already.
UPSTREAM_STIMULUS_SETS: dict[str, UpstreamStimulusSet] = {
    "ThingsEEG2.test": UpstreamStimulusSet(
        "Gifford2022_stim_test", "gifford2022", "data_packaging/image_metadata.npy", "test_img_files",
        "upstream's data plugin gifford2022 registers the 200 THINGS-EEG2 test images (its package_gifford2022.py "
        "names each by its file stem, e.g. aircraft_carrier_06s, as this package does). They are THINGS "
        "photographs resized to 500 x 500 px, the size shown in the experiment; should their pixels differ from "
        "the release's image_set files this package's scores were computed with, a model's scores differ as much"),
}
#: Datasets whose measured responses Brain-Score has already (no assembly file is submitted for them).
MEASUREMENTS_IN_BRAINSCORE: dict[str, str] = {
    "things_eeg2": "upstream's Gifford2022_test (data plugin gifford2022) holds every subject's test-split EEG",
}
#: Where the images of a stimulus set that is not in Brain-Score come from (by ``Stimuli.identifier``).
IMAGE_SOURCES: dict[str, str] = {
    "Shen2019.natural": "ImageNet photograph (the file stem is its ImageNet id, synset_number); the Kamitani lab "
                        "shares the Deep Image Reconstruction stimuli on request "
                        "(https://github.com/KamitaniLab/DeepImageReconstruction)",
    "Shen2019.shape": "artificial shape image of Shen et al. 2019; shared by the Kamitani lab on request "
                      "(https://github.com/KamitaniLab/DeepImageReconstruction)",
    "Shen2019.letter": "alphabetical letter image of Shen et al. 2019; shared by the Kamitani lab on request "
                       "(https://github.com/KamitaniLab/DeepImageReconstruction)",
}
_IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]+")


# ------------------------------------------------------------------------------------------ carried code


def _module_index(module: str) -> tuple[dict[str, ast.stmt], dict[str, str]]:
    """A module's top-level definitions (name → statement) and top-level imports of this package (name → module)."""
    tree = ast.parse(module_file(module)[0].read_text(encoding="utf-8"))
    defined: dict[str, ast.stmt] = {}
    imported: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined[node.name] = node
        elif isinstance(node, ast.Assign):
            defined.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            defined[node.target.id] = node
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == ROOT:
            imported.update({alias.asname or alias.name: node.module for alias in node.names})
    return defined, imported


def carried_closure(roots: dict[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """What :func:`.codegen.generate_library` must carry for ``roots`` (module → names), and nothing more.

    Follows every name a picked definition uses: definitions of the same module, this package's
    names it imports at the top of its module, and this package's names it imports inside itself,
    across modules; every package above a picked module is carried as an empty package (so names
    must be imported from the module defining them, not through a package's re-export). Picking
    the closure instead of a fixed list keeps the carried code right when a helper is added, split
    off or moved to another module (e.g. the RSA ceilings' bootstrap helpers), and never drags in
    unused code with its imports (decoding engines, registries, packaging).

    Raises:
        CarriedCodeError: a followed name is defined nowhere in the module it is looked up in.
    """
    indexes: dict[str, tuple[dict[str, ast.stmt], dict[str, str]]] = {}
    needed: dict[str, set[str]] = {}
    pending = [(module, name) for module, names in roots.items() for name in names]
    while pending:
        module, name = pending.pop()
        if name in needed.get(module, set()):
            continue
        if module not in indexes:
            indexes[module] = _module_index(module)
        defined, imported = indexes[module]
        if name not in defined:
            where = f" (it only re-exports it from {imported[name]}: import it from there)" if name in imported else ""
            raise CarriedCodeError(f"{module} defines no top-level {name}, which the carried code needs{where}")
        needed.setdefault(module, set()).add(name)
        for node in ast.walk(defined[name]):
            if isinstance(node, ast.Name) and node.id in defined:
                pending.append((module, node.id))
            elif isinstance(node, ast.Name) and node.id in imported:
                pending.append((imported[node.id], node.id))
            elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == ROOT:
                pending.extend((node.module, alias.name) for alias in node.names)
    carried: dict[str, tuple[str, ...]] = {}
    for module in sorted(needed, key=lambda m: (m.count("."), m)):
        parts = module.split(".")
        for depth in range(1, len(parts)):
            carried.setdefault(".".join(parts[:depth]), ())
        order = list(indexes[module][0])
        carried[module] = tuple(sorted(needed[module], key=order.index))
    return dict(sorted(carried.items(), key=lambda item: (item[0].count("."), item[0])))


def benchmark_carried() -> dict[str, tuple[str, ...]]:
    """What a benchmark plugin carries (:func:`.codegen.generate_library`): ``RDMBenchmark`` and exactly the
    code it uses (the RDM comparisons and ceilings, the targets' dataclasses, the stimulus-set builder)."""
    return carried_closure({f"{ROOT}.brainscore_bridge.benchmarks": ("RDMBenchmark",),
                            f"{ROOT}.rsa.rdm": ("model_rdm", "compare_rdms")})  # the plugin's test.py checks these


# ---------------------------------------------------------------------------------------------- selection


def submittable(descriptor: BenchmarkDescriptor) -> str | None:
    """None when ``descriptor`` can be submitted, else why not (one sentence)."""
    dataset = descriptor.dataset_descriptor()
    if dataset.brainscore_data:
        return (f"{descriptor.identifier} cannot be submitted: it is computed from Brain-Score's own data by "
                "upstream's code (e.g. the mean of upstream's 17 Geirhos2021 error-consistency benchmarks), so there "
                "are no data or RSA code of this package to submit")
    if descriptor.build != RDM_BUILD or not dataset.package_class:
        return (f"{descriptor.identifier} cannot be submitted: only RSA benchmarks on data this package packages "
                f"are ({RDM_BUILD}); it is built by {descriptor.build}")
    return None


def select_benchmarks(patterns: Sequence[str]) -> list[tuple[BenchmarkDescriptor, bool]]:
    """The benchmarks ``patterns`` name, in registration order, each with whether it was named exactly.

    A pattern with ``*``, ``?`` or ``[`` selects the matching benchmarks that can be submitted; an
    exact identifier must be one.

    Raises:
        UsageError: a pattern matches no benchmark of this package, or only ones that cannot be
            submitted (the message says why).
    """
    known = benchmark_descriptors()
    chosen: dict[str, bool] = {}
    for pattern in patterns:
        matched = [identifier for identifier in known if fnmatch.fnmatchcase(identifier, pattern)]
        if not matched:
            examples = ", ".join(i for i in known if submittable(known[i]) is None)
            raise UsageError(f"{pattern!r} matches no benchmark of realnet-plugins; use identifiers or patterns such "
                             f"as 'ThingsEEG2*' or 'Shen2019.*' (the benchmarks: {examples})")
        usable = [identifier for identifier in matched if submittable(known[identifier]) is None]
        if not usable:
            raise UsageError(submittable(known[matched[0]]))
        exact = not any(ch in pattern for ch in "*?[")
        for identifier in usable:
            chosen[identifier] = chosen.get(identifier, False) or exact
    return [(known[identifier], chosen[identifier]) for identifier in known if identifier in chosen]


def upload_folder_for(out: str | Path) -> Path:
    """The folder beside the zip that receives the data files: ``<zip stem>_upload``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_upload")


def check_upload_folder(out: str | Path, *, overwrite: bool) -> Path:
    """Validate the upload folder of ``out`` before anything is built.

    Raises:
        UsageError: it exists (as a file, or as a folder without ``overwrite``).
    """
    folder = upload_folder_for(out)
    if folder.exists() and (not folder.is_dir() or not overwrite):
        raise UsageError(f"{folder} exists already (the data files of a submission go there); pass --overwrite to "
                         "replace it, or choose another --out")
    return folder


def plugin_folder_name(dataset: DatasetDescriptor) -> str:
    """The benchmark and data plugin folder name of a dataset: ``<dataset>_rsa``.

    Raises:
        UsageError: Brain-Score has a benchmark or data plugin of that name already (ignoring case).
    """
    name = f"{dataset.name.lower()}_rsa"
    spec = importlib.util.find_spec("brainscore_vision")
    for location in (spec.submodule_search_locations or []) if spec else []:
        for kind in ("benchmarks", "data"):
            folder = Path(location) / kind
            if folder.is_dir() and name in {p.name.lower() for p in folder.iterdir() if p.is_dir()}:
                raise UsageError(f"Brain-Score has a {kind} plugin folder named {name!r} already; the submission "
                                 f"of {dataset.name} would replace it")
    return name


# ------------------------------------------------------------------------------------------ the build


@dataclass(frozen=True)
class DataFile:
    """One file of a data plugin, to be uploaded to Brain-Score's storage.

    Attributes:
        registry_id: its ``data_registry`` key.
        kind: ``'rdms'`` (one subject's target RDMs) or ``'assembly'`` (measured responses).
        file_name: upstream's file name for the id (``assy_`` + the id with dots as ``_`` + ``.nc``).
        bucket: ``<bucket>/<folder>`` it is uploaded to.
        sha1, size: of the file's bytes.
        assembly_class: ``'DataAssembly'`` or ``'NeuroidAssembly'``.
        dims, shape: of the stored assembly.
        description: one line for the README.
        stimulus_set: the stimulus set its loader attaches (assemblies), or None.
        subject: whose RDMs (rdms), or None.
    """

    registry_id: str
    kind: str
    file_name: str
    bucket: str
    sha1: str
    size: int
    assembly_class: str
    dims: list[str]
    shape: list[int]
    description: str
    stimulus_set: str | None = None
    subject: str | None = None

    @property
    def placeholder(self) -> str:
        return f"{PLACEHOLDER}: S3 version id of {self.file_name}"

    def record(self) -> dict[str, Any]:
        return {"registry_id": self.registry_id, "kind": self.kind, "file": self.file_name, "bucket": self.bucket,
                "sha1": self.sha1, "size": self.size, "class": self.assembly_class, "dims": self.dims,
                "shape": self.shape, "subject": self.subject, "stimulus_set": self.stimulus_set,
                "description": self.description}


@dataclass(frozen=True)
class StimulusSetPlan:
    """The images of a benchmark: upstream's registered set, or one this data plugin registers.

    Attributes:
        registry_id: the ``stimulus_set_registry`` key the benchmark loads.
        upstream: upstream's set, or None when the data plugin registers it.
        listing: (own sets) the image files: stimulus_id, image_file_name, metadata, sha256,
            size_bytes, source.
        bucket: (own sets) where the team uploads its csv and zip.
        warning: (upstream sets) the package's image ids that upstream's set lacks, if any.
    """

    registry_id: str
    upstream: UpstreamStimulusSet | None = None
    listing: Any = None
    bucket: str = ""
    warning: str = ""

    @property
    def csv(self) -> str:
        return f"stimulus_{self.registry_id.replace('.', '_')}.csv"

    @property
    def zip(self) -> str:
        return f"stimulus_{self.registry_id.replace('.', '_')}.zip"

    @property
    def listing_path(self) -> str:
        return f"stimuli/{self.registry_id}.csv"


@dataclass
class DatasetSubmission:
    """Everything submitted for one dataset."""

    dataset: DatasetDescriptor
    plugin_name: str
    family: str
    package_fingerprint: str
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[DataFile] = field(default_factory=list)
    stimulus_sets: dict[str, StimulusSetPlan] = field(default_factory=dict)
    folders: list[PluginFolder] = field(default_factory=list)

    @property
    def bucket(self) -> str:
        return f"{BUCKET_ROOT}/{self.family}"


@dataclass
class BenchmarkSubmission:
    """The plugin folders and data files of ``realnet submission --benchmarks``.

    Attributes:
        datasets: one entry per dataset.
        staging: the folder holding the written data files (``<family>/<file>``, ``UPLOAD.md``,
            ``upload.json``), to be moved beside the zip.
        skipped: (identifier, reason) of benchmarks a pattern matched whose data the package lacks.
        notes: things the user should know (e.g. image ids that differ from upstream's).
    """

    datasets: list[DatasetSubmission]
    staging: Path
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def folders(self) -> list[PluginFolder]:
        return [folder for dataset in self.datasets for folder in dataset.folders]

    @property
    def files(self) -> list[DataFile]:
        return [f for dataset in self.datasets for f in dataset.files]


def compact(values: np.ndarray) -> np.ndarray:
    """``values`` as float32 when that keeps every value exactly (RDMs packaged as float32), else float64."""
    values = np.asarray(values, dtype=np.float64)
    single = values.astype(np.float32)
    return single if np.array_equal(single.astype(np.float64), values, equal_nan=True) else values


def _identifier(*parts: Any) -> str:
    identifier = ".".join(str(p) for p in parts if p is not None and str(p) != "")
    if not _IDENTIFIER.fullmatch(identifier):
        raise DataFormatError(f"cannot name a data file {identifier!r}: use only letters, digits, '_', '.', '-'")
    return identifier


def _family(dataset: DatasetDescriptor) -> str:
    parents = {b.parent for b in dataset.benchmarks if b.parent}
    if len(parents) == 1:
        return parents.pop()
    return "".join(part.capitalize() for part in dataset.name.split("_"))


def upstream_image_ids(upstream: UpstreamStimulusSet) -> list[str] | None:
    """Stimulus ids of upstream's registered set (file stems), or None when upstream does not register it here."""
    from realnet_plugins.safe_pickle import load_npy_dict

    spec = importlib.util.find_spec("brainscore_vision")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "data" / upstream.plugin
        init = folder / "__init__.py"
        if not init.is_file() or f"stimulus_set_registry['{upstream.registry_id}']" not in init.read_text().replace(
                '"', "'"):
            continue
        metadata = folder / upstream.metadata_file
        if metadata.is_file():
            return [Path(str(name)).stem for name in load_npy_dict(metadata)[upstream.metadata_key]]
        return []
    return None


def _stimulus_plan(stimuli: Any, dataset: DatasetDescriptor, bucket: str, notes: list[str]) -> StimulusSetPlan:
    import pandas as pd

    upstream = UPSTREAM_STIMULUS_SETS.get(stimuli.identifier)
    ids = stimuli.stimulus_ids
    if upstream is not None:
        upstream_ids = upstream_image_ids(upstream)
        if upstream_ids is not None:
            absent = [s for s in ids if s not in set(upstream_ids)]
            warning = ""
            if upstream_ids and absent:
                warning = (f"{len(absent)} of the package's {len(ids)} image ids are not among the {len(upstream_ids)} "
                           f"of upstream's {upstream.registry_id}, e.g. {absent[:3]}: the benchmarks refuse to run "
                           "until the data and the stimulus set match (expected with fixture data, not with the real "
                           "release)")
                notes.append(warning)
            return StimulusSetPlan(upstream.registry_id, upstream=upstream, warning=warning)
        notes.append(f"the installed Brain-Score does not register {upstream.registry_id}; {stimuli.identifier} is "
                     "registered by the data plugin instead")
    table = stimuli.table
    listing = pd.DataFrame({"stimulus_id": ids})
    listing["image_file_name"] = [Path(p).name for p in table["image_path"]]
    for column in table.columns:
        if column not in ("stimulus_id", "image_file_name", "image_path", "sha256"):
            listing[column] = table[column].to_numpy()
    listing["sha256"] = table["sha256"].to_numpy()
    listing["size_bytes"] = [Path(p).stat().st_size for p in table["image_path"]]
    source = IMAGE_SOURCES.get(stimuli.identifier) or "; ".join(
        f"{s.what}: {s.url}" for s in dataset.sources) or dataset.title
    listing["source"] = source
    return StimulusSetPlan(stimuli.identifier, listing=listing, bucket=bucket)


def _rdm_files(submission: DatasetSubmission, package: Any, descriptor: BenchmarkDescriptor, targets: Any,
               staging: Path, written: dict[str, tuple[np.ndarray, DataFile]]) -> list[str]:
    """Write (or reuse) one file per subject of ``targets``; return their data ids."""
    from realnet_plugins.brainscore_bridge.data_files import rdm_assembly

    group = {k: v for k, v in descriptor.selection.items() if k != "subject" and v is not None}
    ids = []
    for index, subject in enumerate(targets.subjects):
        data_id = _identifier(submission.family, *group.values(), subject, "rdms")
        stack = [targets.rdms[index]]
        if targets.split_halves is not None:
            stack += list(targets.split_halves[index])
        values = compact(np.stack(stack))
        if data_id in written:
            if not np.array_equal(written[data_id][0], values, equal_nan=True):
                raise DataFormatError(f"{descriptor.identifier}: {subject}'s RDMs differ from those another benchmark "
                                      f"of the same selection read; the package {package.fingerprint} is damaged")
            ids.append(data_id)
            continue
        attrs = {"subject": subject, "rdm_kind": targets.kind, "target_dim": targets.target_dim,
                 "selection": json.dumps(group, sort_keys=True), "dataset": submission.dataset.title,
                 "package_fingerprint": str(package.fingerprint), "generated_by": f"realnet-plugins {__version__}",
                 "rdm_trials": "all: every trial; half_1, half_2: two disjoint halves of the trials (split-half "
                               "ceiling)" if len(stack) > 1 else "all: every trial"}
        assembly = rdm_assembly(values, rdm_trials=RDM_TRIALS[:len(stack)], target_dim=targets.target_dim,
                                targets=targets.targets, stimulus_ids=targets.stimuli.stimulus_ids, attrs=attrs)
        data_file = _write(submission, staging, data_id, "rdms", assembly, subject=subject,
                           description=f"{subject}'s {targets.kind} RDMs, {len(targets.targets)} {targets.target_dim} "
                                       f"x {targets.n_images} x {targets.n_images}"
                                       + (", with split halves" if len(stack) > 1 else ""))
        written[data_id] = (values, data_file)
        ids.append(data_id)
    return ids


def _write(submission: DatasetSubmission, staging: Path, data_id: str, kind: str, assembly: Any, *,
           description: str, subject: str | None = None, stimulus_set: str | None = None) -> DataFile:
    """Write one assembly under ``<staging>/<family>/`` with upstream's file name for ``data_id``; record it."""
    from realnet_plugins.brainscore_bridge.data_files import write_assembly

    file_name = f"assy_{data_id.replace('.', '_')}.nc"
    path = staging / submission.family / file_name
    sha1 = write_assembly(assembly, path)
    digests = file_digests(path)
    if digests.sha1 != sha1:
        raise DataFormatError(f"{path} changed while it was written; run the command again")
    data_file = DataFile(data_id, kind, file_name, submission.bucket, sha1, digests.size, type(assembly).__name__,
                         [str(d) for d in assembly.dims], [int(n) for n in assembly.shape], description,
                         stimulus_set=stimulus_set, subject=subject)
    submission.files.append(data_file)
    log.info("wrote %s (%d bytes, sha1 %s)", path, digests.size, sha1)
    return data_file


def _measurement_files(submission: DatasetSubmission, package: Any, groups: dict[str, dict[str, Any]],
                       staging: Path) -> None:
    """The measured responses of each selection (Shen 2019's ROI assemblies), when Brain-Score lacks them."""
    from realnet_plugins.brainscore_bridge.data_files import neuroid_assembly

    if submission.dataset.name in MEASUREMENTS_IN_BRAINSCORE:
        return
    for key, group in groups.items():
        stimulus_set = submission.stimulus_sets[key].registry_id
        data_id = _identifier(submission.family, *group.values())
        assembly = neuroid_assembly(package.data_assembly(**group), stimulus_set)
        _write(submission, staging, data_id, "assembly", assembly, stimulus_set=stimulus_set,
               description=f"measured responses, {' x '.join(f'{n} {d}' for d, n in assembly.sizes.items())}")


def _dataset_submission(dataset: DatasetDescriptor, chosen: list[tuple[BenchmarkDescriptor, bool]], staging: Path,
                        skipped: list[tuple[str, str]], notes: list[str]) -> DatasetSubmission | None:
    from realnet_plugins.brainscore_bridge.data_files import benchmark_ceiling

    package = dataset.package()
    submission = DatasetSubmission(dataset, plugin_folder_name(dataset), _family(dataset), str(package.fingerprint))
    written: dict[str, tuple[np.ndarray, DataFile]] = {}
    groups: dict[str, dict[str, Any]] = {}
    for descriptor, exact in tqdm(chosen, desc=f"{dataset.name} benchmarks", unit="benchmark", disable=None):
        try:
            targets = package.rdm_targets(**descriptor.selection)
        except RealnetError as error:
            if exact:
                raise
            skipped.append((descriptor.identifier, str(error)))
            continue
        group = {k: v for k, v in descriptor.selection.items() if k != "subject" and v is not None}
        key = json.dumps(group, sort_keys=True)
        groups.setdefault(key, group)
        if key not in submission.stimulus_sets:
            submission.stimulus_sets[key] = _stimulus_plan(targets.stimuli, dataset, submission.bucket, notes)
        data = _rdm_files(submission, package, descriptor, targets, staging, written)
        data_fingerprint = fingerprint("realnet-submission-data", [written[i][1].sha1 for i in data],
                                       submission.stimulus_sets[key].registry_id)
        ceiling = benchmark_ceiling(descriptor, package)
        submission.specs[descriptor.identifier] = {
            "identifier": descriptor.identifier, "version": descriptor.version, "parent": descriptor.parent,
            "description": descriptor.description, "bibtex": dataset.bibtex, "selection": dict(descriptor.selection),
            "options": dict(descriptor.options), "data_plugin": submission.plugin_name, "data": data,
            "subjects": list(targets.subjects), "target_dim": targets.target_dim, "n_images": targets.n_images,
            "stimulus_set": submission.stimulus_sets[key].registry_id, "data_fingerprint": data_fingerprint,
            "expected_ceiling": ceiling if np.isfinite(ceiling) else None,
        }
    if not submission.specs:
        return None
    _measurement_files(submission, package, groups, staging)
    submission.folders = [_benchmark_folder(submission), _data_folder(submission)]
    return submission


def build_benchmark_submission(selected: Sequence[tuple[BenchmarkDescriptor, bool]],
                               staging: str | Path) -> BenchmarkSubmission:
    """Write the data files of ``selected`` into ``staging`` and build the plugin folders.

    Args:
        selected: :func:`select_benchmarks` output.
        staging: an empty folder (the data files and ``UPLOAD.md`` go there).

    Raises:
        MissingFileError: a dataset has no package (the message names the command that makes one).
        RealnetError: an exactly named benchmark needs data its package lacks.
        UsageError: Brain-Score is not installed, or nothing is left to submit (every matched
            benchmark lacks its data).
    """
    if importlib.util.find_spec("brainscore_core") is None:
        raise UsageError("writing benchmark and data plugins needs Brain-Score (its netCDF writer and loaders): "
                         "pip install 'realnet-plugins[brainscore]'")
    staging = Path(staging)
    by_dataset: dict[str, list[tuple[BenchmarkDescriptor, bool]]] = {}
    for descriptor, exact in selected:
        by_dataset.setdefault(descriptor.dataset, []).append((descriptor, exact))
    result = BenchmarkSubmission([], staging)
    for chosen in by_dataset.values():
        submission = _dataset_submission(chosen[0][0].dataset_descriptor(), chosen, staging, result.skipped,
                                         result.notes)
        if submission is not None:
            result.datasets.append(submission)
    if not result.datasets:
        raise UsageError("none of the selected benchmarks has its data in the current packages: "
                         + "; ".join(reason for _, reason in result.skipped[:2]))
    _write_upload_notes(result)
    return result


# ------------------------------------------------------------------------------------------ plugin files


def _registration(registry: str, identifier: str, call: str) -> str:
    if not _IDENTIFIER.fullmatch(identifier):
        raise ValueError(f"identifier {identifier!r} cannot be written on a registration line")
    return f"{registry}['{identifier}'] = lambda: {call}"


def _benchmark_folder(submission: DatasetSubmission) -> PluginFolder:
    dataset, name = submission.dataset, submission.plugin_name
    library = generate_library(carried=benchmark_carried())
    benchmark_py = (TEMPLATE_DIR / "benchmark.py").read_text(encoding="utf-8")
    ids = list(submission.specs)
    lines = [_registration("benchmark_registry", i, f"load_benchmark('{i}')") for i in ids]
    init = (f'"""Brain-Score benchmark plugin {name}: RSA benchmarks of realnet-plugins (Lu, Wang & Golomb 2026).\n\n'
            f"{dataset.title}.\n"
            f"Generated by realnet-plugins {__version__}. One literal registration line per identifier; benchmark.py\n"
            f"builds each from benchmarks.json with the data plugin data/{name} and its stimulus set.\n"
            '"""\n'
            "from brainscore_vision import benchmark_registry\n\n"
            "from .benchmark import load_benchmark\n\n" + "\n".join(lines) + "\n")
    descriptors = [b for b in dataset.benchmarks if b.identifier in submission.specs]
    specs = {"generated_by": f"realnet-plugins {__version__}", "package_fingerprint": submission.package_fingerprint,
             "benchmarks": submission.specs}
    files: dict[str, str | bytes] = {
        "__init__.py": init,
        "benchmark.py": benchmark_py,
        "benchmarks.json": json.dumps(specs, indent=2) + "\n",
        "test.py": (TEMPLATE_DIR / "benchmark_test.py").read_text(encoding="utf-8"),
        "metadata.yml": metadata_text(descriptors),
        "requirements.txt": "\n".join(requirements({**library, "benchmark.py": benchmark_py})) + "\n",
        "README.md": _benchmark_readme(submission),
    }
    files.update(library)
    return PluginFolder("benchmarks", name, files)


def _data_init(submission: DatasetSubmission) -> str:
    name, bucket = submission.plugin_name, submission.bucket
    classes = sorted({f.assembly_class for f in submission.files})
    own_sets = [s for s in submission.stimulus_sets.values() if s.upstream is None]
    blocks = []
    for f in submission.files:
        loader = (f",\n    stimulus_set_loader=lambda: load_stimulus_set('{f.stimulus_set}')" if f.stimulus_set else "")
        blocks.append(_registration("data_registry", f.registry_id, "assembly_from_s3(") + "\n"
                      f'    identifier="{f.registry_id}", version_id="{f.placeholder}",\n'
                      f'    sha1="{f.sha1}", bucket=BUCKET, cls={f.assembly_class}{loader})')
    for s in own_sets:
        blocks.append(_registration("stimulus_set_registry", s.registry_id, "stimulus_set_from_s3(") + "\n"
                      f'    identifier="{s.registry_id}", bucket=BUCKET, filename_prefix="stimulus_",\n'
                      f'    csv_sha1="{PLACEHOLDER}: sha1 of {s.csv}",\n'
                      f'    csv_version_id="{PLACEHOLDER}: S3 version id of {s.csv}",\n'
                      f'    zip_sha1="{PLACEHOLDER}: sha1 of {s.zip}",\n'
                      f'    zip_version_id="{PLACEHOLDER}: S3 version id of {s.zip}")')
    registries = ["data_registry"] + (["load_stimulus_set"] if any(f.stimulus_set for f in submission.files) else [])
    registries += ["stimulus_set_registry"] if own_sets else []
    loaders = ["assembly_from_s3"] + (["stimulus_set_from_s3"] if own_sets else [])
    return (f'"""Brain-Score data plugin {name}: data of RSA benchmarks of realnet-plugins.\n\n'
            f"{submission.dataset.title}.\n"
            f"Generated by realnet-plugins {__version__} from its package {submission.package_fingerprint}. The files\n"
            f"live in Brain-Score's storage, {bucket}; values starting with\n"
            f"{PLACEHOLDER} are known only after the upload (README.md lists them; loaders.py refuses them unless\n"
            "the file is already in $BRAINIO_HOME/<sha1>/).\n"
            '"""\n'
            f"from brainscore_core.supported_data_standards.brainio.assemblies import {', '.join(classes)}\n"
            f"from brainscore_vision import {', '.join(sorted(registries))}\n\n"
            f"from .loaders import {', '.join(loaders)}\n\n"
            f'BUCKET = "{bucket}"\n'
            f'BIBTEX = """{submission.dataset.bibtex}"""\n\n'
            + "\n".join(blocks) + "\n")


def _data_folder(submission: DatasetSubmission) -> PluginFolder:
    own_sets = [s for s in submission.stimulus_sets.values() if s.upstream is None]
    record = {
        "generated_by": f"realnet-plugins {__version__}", "package_fingerprint": submission.package_fingerprint,
        "bucket": submission.bucket, "placeholder": PLACEHOLDER,
        "files": [f.record() for f in submission.files],
        "stimulus_sets": [{"registry_id": s.registry_id, "bucket": s.bucket, "csv": s.csv, "zip": s.zip,
                           "listing": s.listing_path, "n_images": len(s.listing)} for s in own_sets],
        "upstream_stimulus_sets": [{"registry_id": s.registry_id, "plugin": s.upstream.plugin}
                                   for s in submission.stimulus_sets.values() if s.upstream is not None],
    }
    files: dict[str, str | bytes] = {
        "__init__.py": _data_init(submission),
        "loaders.py": (TEMPLATE_DIR / "data_loaders.py").read_text(encoding="utf-8"),
        "test.py": (TEMPLATE_DIR / "data_test.py").read_text(encoding="utf-8"),
        "data_files.json": json.dumps(record, indent=2) + "\n",
        "README.md": _data_readme(submission),
    }
    for s in own_sets:
        files[s.listing_path] = s.listing.to_csv(index=False, lineterminator="\n")
    if own_sets:
        files["data_packaging/package_stimuli.py"] = (TEMPLATE_DIR / "data_package_stimuli.py").read_text(
            encoding="utf-8")
    return PluginFolder("data", submission.plugin_name, files)


def _file_table(files: Sequence[DataFile]) -> str:
    rows = "\n".join(f"| `{f.file_name}` | {f.size} | `{f.sha1}` | `{f.bucket}/` | `{f.registry_id}` |"
                     for f in files)
    return ("| file | bytes | sha1 | upload to | data id |\n|---|---|---|---|---|\n" + rows)


def _stimulus_text(submission: DatasetSubmission) -> str:
    parts = []
    for s in submission.stimulus_sets.values():
        if s.upstream is not None:
            parts.append(f"- `{s.registry_id}` is Brain-Score's own (data plugin `{s.upstream.plugin}`): "
                         f"{s.upstream.note}. Nothing to upload." + (f" Warning: {s.warning}." if s.warning else ""))
        else:
            parts.append(
                f"- `{s.registry_id}` ({len(s.listing)} images) is registered here. The images are not in this "
                f"plugin (they may not be redistributed): `{s.listing_path}` lists every file with its sha256 and "
                f"where to obtain it ({s.listing['source'].iloc[0]}). With the images in a folder, "
                "`python data_packaging/package_stimuli.py --images DIR --out UPLOAD_DIR` checks them, writes "
                f"`{s.csv}` and `{s.zip}` with brainscore_core's writers and fills their sha1s into `__init__.py`; "
                f"upload both to `{s.bucket}/` and fill in their S3 version ids.")
    return "\n".join(parts)


def _data_readme(submission: DatasetSubmission) -> str:
    dataset = submission.dataset
    measured = MEASUREMENTS_IN_BRAINSCORE.get(dataset.name)
    responses = (f"Measured responses: {measured}; no assembly is submitted for them." if measured else
                 "Assemblies (`NeuroidAssembly`, presentation × neuroid): every subject's and ROI's responses to one "
                 "image set.")
    return f"""# {submission.plugin_name}: data of the RSA benchmarks on {dataset.title}

Generated by realnet-plugins {__version__} from its package `{submission.package_fingerprint}`
(Lu, Wang & Golomb 2026, Communications Biology 9:463). The benchmarks are in
`benchmarks/{submission.plugin_name}`.

## Files to upload (Brain-Score team)

The files are not in this zip; `realnet submission` wrote them beside it, in
`<zip name>_upload/{submission.family}/`. Upload each unchanged to the folder given, then replace
in `__init__.py` the value `"{PLACEHOLDER}: S3 version id of <file>"` with the file's S3 version id.
Upstream's loader checks each file's sha1 after the download.

{_file_table(submission.files)}

Until a version id is filled in, `loaders.py` refuses to download the file with a clear error, but
reads it from `$BRAINIO_HOME/<sha1>/<file>` when it is there, so the plugins can be tested before
the upload. `pytest test.py` fails while any value is left to fill in.

RDM files (`DataAssembly`, dims `rdm` × `target` × `presentation` × `presentation_column`): one
subject's target RDMs of one selection; `rdm_trials` says which trials each RDM comes from (`all`,
or the two split halves of the single-subject ceiling), the target coordinate is the EEG sample time
in ms (`time_ms`) or the fMRI ROI (`roi`). {responses}

## Stimulus sets

{_stimulus_text(submission)}

## Citation

```
{dataset.bibtex}
```
"""


def _benchmark_readme(submission: DatasetSubmission) -> str:
    rows = "\n".join(f"| `{i}` | {s['version']} | {len(s['subjects'])} | {s['n_images']} | `{s['stimulus_set']}` | "
                     f"{s['description']} |" for i, s in submission.specs.items())
    return f"""# {submission.plugin_name}: RSA benchmarks on {submission.dataset.title}

Generated by realnet-plugins {__version__} (Lu, Wang & Golomb 2026, Communications Biology 9:463,
https://doi.org/10.1038/s42003-026-09685-w) from its package `{submission.package_fingerprint}`.

| benchmark | version | subjects | images | stimulus set | what |
|---|---|---|---|---|---|
{rows}

Each benchmark records V1, V2, V4 and IT of a model on the images, shown full-field, computes one
RDM per region (1 − Pearson r) and compares it with each subject's target RDMs (Spearman
correlation of the upper triangles). The score is the summary RSA over the ceiling, bounded to
[0, 1]; `score.attrs['raw']`, `['ceiling']`, `['error']` and `['detail']` (every subject × region
× target) are set as realnet-plugins sets them. `benchmark.py` runs realnet-plugins' own
`RDMBenchmark` (copied into `{LIBRARY_NAME}/`) on the data plugin's files, so a model gets the score
realnet-plugins gives it on the same data and images. `benchmarks.json` records each benchmark's
selection, options, data files and the ceiling realnet-plugins computed (`test.py` checks it).

## Before merging

Upload the data files and fill in their version ids (`data/{submission.plugin_name}/README.md`).
Images are never part of the submission.

{_stimulus_text(submission)}
"""


def _write_upload_notes(result: BenchmarkSubmission) -> None:
    from realnet_plugins.storage import atomic_write

    records = [{**f.record(), "path": f"{dataset.family}/{f.file_name}", "key": f"{f.bucket.split('/', 1)[1]}/"
                f"{f.file_name}", "plugin": f"data/{dataset.plugin_name}/__init__.py", "fill_in": f.placeholder}
               for dataset in result.datasets for f in dataset.files]
    stimulus = [{"registry_id": s.registry_id, "plugin": f"data/{d.plugin_name}", "listing": s.listing_path,
                 "bucket": s.bucket, "files": [s.csv, s.zip]}
                for d in result.datasets for s in d.stimulus_sets.values() if s.upstream is None]
    with atomic_write(result.staging / "upload.json", "w") as f:
        json.dump({"generated_by": f"realnet-plugins {__version__}", "files": records, "stimulus_sets": stimulus}, f,
                  indent=2)
        f.write("\n")
    sections = "\n\n".join(f"## data/{d.plugin_name}\n\n{_file_table(d.files)}\n\n{_stimulus_text(d)}"
                           for d in result.datasets)
    text = f"""# Data files of a Brain-Score benchmark submission

Generated by realnet-plugins {__version__}. Each file below goes, unchanged, into the folder named
(bucket `brainscore-storage`); after the upload, replace `"{PLACEHOLDER}: S3 version id of <file>"`
in the data plugin's `__init__.py` with the file's version id. `upload.json` holds the same list.
No image is here or in the zip.

{sections}
"""
    with atomic_write(result.staging / "UPLOAD.md", "w") as f:
        f.write(text)
