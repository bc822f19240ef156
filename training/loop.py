"""The training loop: configuration, resumable runs, checkpoints, held-out metrics.

    >>> from realnet_plugins.training import TrainConfig, train
    >>> path = train(TrainConfig(release="THINGS_EEG2", subject=1, init_weights="cornet_s-1d3f7974.pth"))
    >>> path = train(TrainConfig(release="THINGS_EEG2", subject=2, init_from="realnet_base_cornet_s"))

One run = one (subject, variant, backbone, β, seed). Its defaults are the paper's recipe
(:data:`realnet_plugins.recipe.PAPER_RECIPE`, SPEC.md): Adam, lr 2e-5, 30 epochs, batch 16 (the
last partial batch kept; a remainder of one pair joins the batch before it, see
:func:`batch_bounds`), seed 2023, 224 px images, scalar EEG normalisation, BatchNorm in train
mode, model selection = the last epoch (never the test data; optionally the best epoch on
held-out training concepts). Real training starts from the backbone's ImageNet release: a file
(``init_weights``, checked against the release's published hash) or the checkpoint it was
imported into (``init_from``, e.g. ``realnet_base_cornet_s``); without either the backbone is
randomly initialised from the seed, which only tests and demos should do.

**Where the checkpoint goes** (:func:`default_checkpoint_path`): a run of the paper's recipe is
saved under its paper identifier (``checkpoints/realnet_s01.pt``). A run that differs from the
recipe in any way (epochs, batch, lr, image size, seed, initial weights, ``max_steps`` ...) is
saved under its run name, ``checkpoints/custom/<run name>.pt``, unless ``identifier`` names the
paper identifier explicitly; its checkpoint records the differences (``meta.deviations``) either
way. Every input (configuration, release, subject, initial weights, a resume state) is read and
checked before anything under ``$REALNET_HOME`` is deleted or overwritten.

**Run folder** ``$REALNET_HOME/runs/<name>/`` (name = the checkpoint's file stem):

* ``log.jsonl``: one JSON object per line: ``{"event": "start" | "resume", ...}``, then one
  ``"train"`` line per ``log_every`` steps (epoch, step, loss parts averaged over the interval, lr,
  images/s), ``"validation"`` lines at epoch ends when a validation split exists, and a final
  ``"end"`` line with the held-out metrics and the checkpoint path.
* ``resume.pt``: the resume state (model, Adam moments, RNG states, epoch, step within the epoch,
  the epoch's permutation, the running loss sums), written atomically every
  ``checkpoint_every_steps`` steps, at epoch ends once ``checkpoint_every_s`` seconds have passed
  since the last save (every epoch end with 0), and on a first Ctrl-C. A rerun with the same
  configuration resumes from it with no lost or repeated step; on CPU the result is
  bit-identical to an uninterrupted run. It is deleted once the checkpoint is written. (A
  CORnet-S state at 224 px is ~1.2 GB, hence the time-based default rather than every epoch.)

The shuffling of epoch e is ``numpy.random.default_rng([seed, 4, e]).permutation(P)``; nothing in
a step draws random numbers, so a run is a pure function of its configuration and data.

:func:`train_many` trains several runs in lock-step on one device
(:class:`~realnet_plugins.training.step.StackedModelsStep`); each run keeps its own data,
permutation, run folder, resume state and checkpoint. :func:`train_parallel` trains runs in
several worker processes at once, each run on its own with :func:`train`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import multiprocessing
import os
import shutil
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from realnet_plugins.architectures import ReAlnet, backbone_spec
from realnet_plugins.checkpoints import (
    CheckpointMeta,
    checkpoint_path,
    is_checkpoint_payload,
    load_checkpoint,
    load_model_checkpoint,
    missing_checkpoint_message,
    read_checkpoint_meta,
    safe_torch_load,
    save_checkpoint,
    weights_digest,
)
from realnet_plugins.constants import IMAGENET_MEAN, IMAGENET_STD
from realnet_plugins.datasets.things_eeg2.reader import NORMALISATION_MODES, ThingsEEG2Release
from realnet_plugins.errors import CheckpointError, MissingFileError, RealnetError
from realnet_plugins.identifiers import identifier_for, is_paper_identifier, parse_identifier
from realnet_plugins.importers import (
    PUBLISHED_REALNET,
    check_release,
    detect_source,
    read_foreign_weights,
    tensor_state,
)
from realnet_plugins.paths import checkpoints_dir, realnet_home
from realnet_plugins.recipe import PAPER_RECIPE, checkpoint_deviations, describe_deviations, recipe_deviations
from realnet_plugins.storage import atomic_write, cached_sha256
from realnet_plugins.training.data import AlignmentData, HeldOutSet, load_alignment_data, predict, pseudo_labels
from realnet_plugins.training.metrics import eeg_generation_metrics
from realnet_plugins.training.objective import Objective
from realnet_plugins.training.step import COMPILE_MODES, LOSS_COLUMNS, DeviceData, make_step
from realnet_plugins.variants import DEFAULT_VARIANT, resolve_beta, variant_spec

__all__ = [
    "SELECTIONS", "SHUFFLE_STREAM", "TrainConfig", "StepInfo", "CheckpointExistsError", "ResumeMismatchError",
    "RunsFailedError", "train", "train_many", "train_parallel", "default_checkpoint_path", "run_deviations",
    "init_weights_origin", "run_dir", "batch_bounds", "epoch_permutation", "build_initial_model",
]

log = logging.getLogger(__name__)

#: Model selection rules: the last epoch (default), or the epoch with the best validation
#: ``pearson_mean_feature`` (needs ``validation_fraction`` > 0).
SELECTIONS: tuple[str, ...] = ("last", "validation")
#: Second word of the shuffling generator's seed.
SHUFFLE_STREAM = 4
RESUME_FORMAT = "realnet-resume"
RESUME_VERSION = 1


class CheckpointExistsError(RealnetError, FileExistsError):
    """The run's checkpoint exists already and overwriting was not asked for."""


class ResumeMismatchError(RealnetError):
    """A run folder holds a resume state of a different configuration."""


class RunsFailedError(RealnetError):
    """Some runs of :func:`train_parallel` failed; the others were trained.

    Attributes:
        failures: run name (the checkpoint's stem) → ``"ErrorType: message"``, in the runs' order.
        finished: checkpoint paths of the runs that were trained, in the runs' order.
    """

    def __init__(self, failures: dict[str, str], finished: list[Path]) -> None:
        self.failures = failures
        self.finished = finished
        listed = "; ".join(f"{name}: {error}" for name, error in failures.items())
        super().__init__(
            f"{len(failures)} of {len(failures) + len(finished)} runs failed ({listed}); the other {len(finished)} "
            "finished. Fix the cause and train the failed runs again (realnet sweep skips finished checkpoints)."
        )


@dataclass
class TrainConfig:
    """Everything that defines one training run (defaults: the paper's recipe, :data:`PAPER_RECIPE`).

    Attributes:
        release: folder of the THINGS-EEG2 release.
        subject: THINGS-EEG2 subject (None only for a variant that pools subjects, ``across_subject``).
        variant: a key of :data:`realnet_plugins.variants.VARIANTS`.
        backbone: a key of :data:`realnet_plugins.backbones.BACKBONES` (``"cornet_s"``, ``"resnet18"``).
        beta: β; None → 100, or the variant's fixed β (``beta0``: 0; giving another one is an error).
        epochs: passes over the training pairs.
        batch_size: pairs per step (the contrastive term uses all in-batch pairs).
        lr: Adam learning rate.
        seed: seeds the EEG head (and a random backbone), shuffling, manipulations, validation split.
        image_size: side of the square input in px.
        normalisation: ``"scalar"`` (one mean/std per subject) or ``"feature"`` (per channel × time).
        init_weights: a weight file to start the backbone from: the ImageNet release
            (``cornet_s-1d3f7974.pth``, torchvision's ResNet18 file), a published ReAlnet file or a
            realnet checkpoint file.
        init_from: a model identifier whose checkpoint gives the initial backbone (e.g.
            ``realnet_base_cornet_s``). With neither: a random backbone (tests and demos only).
        legacy_detached_contrastive: the published code's contrastive term (value without gradient).
        validation_fraction: share of training concepts held out for validation (0: none).
        selection: ``"last"`` or ``"validation"`` (see :data:`SELECTIONS`).
        device: ``"cuda"``, ``"cuda:1"``, ``"cpu"``...; None: CUDA if available.
        amp: bf16 autocast; None: on for CUDA (CUDA only).
        channels_last: NHWC memory format; None: on for CUDA.
        compile: ``"off"``, ``"default"``, ``"reduce-overhead"`` or ``"max-autotune"`` (torch.compile
            mode; the last two replay CUDA graphs).
        max_steps: stop after this many optimisation steps in total (tests, benchmarks); the
            checkpoint records it.
        log_every: steps per ``log.jsonl`` line (the only host synchronisation of the loop).
        checkpoint_every_steps: also save the resume state every this many steps (0: off).
        checkpoint_every_s: save the resume state at an epoch end when this many seconds passed
            since the last save.
        run_name: the run folder's name; None: the checkpoint file's stem. An off-recipe run's
            checkpoint is ``checkpoints/custom/<run_name>.pt``.
        identifier: save under this paper identifier although the run differs from the paper's
            recipe (the checkpoint records how, ``meta.deviations``); it must stand for the run's
            backbone, variant, subject and β.
    """

    release: str | Path
    subject: int | None = None
    variant: str = DEFAULT_VARIANT
    backbone: str = "cornet_s"
    beta: float | None = None
    epochs: int = PAPER_RECIPE["epochs"]
    batch_size: int = PAPER_RECIPE["batch_size"]
    lr: float = PAPER_RECIPE["lr"]
    seed: int = PAPER_RECIPE["seed"]
    image_size: int = PAPER_RECIPE["image_size"]
    normalisation: str = PAPER_RECIPE["normalisation"]
    init_weights: str | Path | None = None
    init_from: str | None = None
    legacy_detached_contrastive: bool = PAPER_RECIPE["legacy_detached_contrastive"]
    validation_fraction: float = PAPER_RECIPE["validation_fraction"]
    selection: str = PAPER_RECIPE["selection"]
    device: str | None = None
    amp: bool | None = None
    channels_last: bool | None = None
    compile: str = "off"
    max_steps: int | None = PAPER_RECIPE["max_steps"]
    log_every: int = 50
    checkpoint_every_steps: int = 0
    checkpoint_every_s: float = 300.0
    run_name: str | None = None
    identifier: str | None = None

    #: Fields that change what is computed; a resume state must agree on them.
    MATH_FIELDS = ("subject", "variant", "backbone", "beta", "epochs", "batch_size", "lr", "seed", "image_size",
                   "normalisation", "init_weights", "init_from", "legacy_detached_contrastive", "validation_fraction",
                   "selection")

    def resolved(self) -> "TrainConfig":
        """A validated copy with β, device, amp and channels_last filled in.

        Raises:
            ValueError: any invalid field (the message names it and the valid values).
        """
        spec = variant_spec(self.variant)
        backbone_spec(self.backbone)
        beta = resolve_beta(self.variant, self.beta)
        if spec.pooled_subjects and self.subject is not None:
            raise ValueError(f"variant {self.variant!r} pools every subject; do not give a subject")
        if not spec.pooled_subjects and self.subject is None:
            raise ValueError(f"variant {self.variant!r} needs a subject")
        self._check_init()
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "image_size": self.image_size,
                    "log_every": self.log_every}
        bad = {k: v for k, v in positive.items() if int(v) < 1}
        if bad:
            raise ValueError(f"these settings must be at least 1: {bad}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, got {self.lr}")
        if self.normalisation not in NORMALISATION_MODES:
            raise ValueError(f"normalisation must be one of {NORMALISATION_MODES}, got {self.normalisation!r}")
        if self.compile not in COMPILE_MODES:
            raise ValueError(f"compile must be one of {COMPILE_MODES}, got {self.compile!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if self.selection == "validation" and (self.validation_fraction <= 0 or not spec.has_eeg_head):
            raise ValueError("selection 'validation' needs validation_fraction > 0 and a model with an EEG head")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be at least 1 (or None), got {self.max_steps}")
        if self.checkpoint_every_steps < 0 or self.checkpoint_every_s < 0:
            raise ValueError("checkpoint_every_steps and checkpoint_every_s must be >= 0")
        device = torch.device(self.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {device} was asked for, but CUDA is not available here")
        amp = device.type == "cuda" if self.amp is None else bool(self.amp)
        if amp and device.type != "cuda":
            raise ValueError("amp (bf16 autocast) is for CUDA devices only")
        channels_last = device.type == "cuda" if self.channels_last is None else bool(self.channels_last)
        resolved = dataclasses.replace(self, beta=beta, device=str(device), amp=amp, channels_last=channels_last,
                                       subject=None if self.subject is None else int(self.subject),
                                       release=str(self.release),
                                       init_weights=None if self.init_weights is None else str(self.init_weights))
        resolved._check_identifier()
        return resolved

    def _check_init(self) -> None:
        """``init_weights`` is a file and ``init_from`` an identifier; at most one of them is given."""
        if self.init_weights is not None and self.init_from is not None:
            raise ValueError(f"give the initial weights once: init_weights={str(self.init_weights)!r} (a file) or "
                             f"init_from={self.init_from!r} (an identifier), not both")
        if self.init_from is not None and not is_paper_identifier(self.init_from):
            raise ValueError(f"init_from must be a model identifier such as realnet_base_cornet_s, got "
                             f"{self.init_from!r}; a weight file goes in init_weights")
        text = None if self.init_weights is None else str(self.init_weights)
        if text is not None and is_paper_identifier(text) and not Path(text).expanduser().is_file():
            raise ValueError(f"init_weights names a weight file, but {text!r} is a model identifier: pass "
                             f"init_from={text!r} (on the command line, --init-weights takes either)")

    def _check_identifier(self) -> None:
        """An explicit ``identifier`` must stand for this run's backbone, variant, subject and β."""
        if self.identifier is None:
            return
        spec = parse_identifier(self.identifier)
        named = (spec.backbone, spec.variant, spec.subject, float(spec.beta))
        run = (self.backbone, self.variant, self.subject, float(self.beta or 0.0))
        if named != run:
            raise ValueError(
                f"identifier {self.identifier!r} stands for backbone {named[0]}, variant {named[1]}, subject "
                f"{named[2]}, beta {named[3]:g}; this run is backbone {run[0]}, variant {run[1]}, subject {run[2]}, "
                f"beta {run[3]:g}"
            )

    def math_dict(self) -> dict[str, Any]:
        """The fields of :attr:`MATH_FIELDS` (a resumed run must match them)."""
        return {name: getattr(self, name) for name in self.MATH_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        """All fields, JSON-serialisable."""
        record = dataclasses.asdict(self)
        record["release"] = str(self.release)
        record["init_weights"] = None if self.init_weights is None else str(self.init_weights)
        return record


@dataclass(frozen=True)
class StepInfo:
    """Where a run is, passed to ``on_step`` callbacks after every step (and any resume save)."""

    epoch: int
    step_in_epoch: int
    global_step: int
    steps_per_epoch: int


def default_checkpoint_path(config: TrainConfig, origin: dict[str, Any] | None = None) -> Path:
    """Where a run's checkpoint goes unless told otherwise.

    The paper identifier's path (``checkpoints/<identifier>.pt``) for a run of the paper's recipe
    (:func:`run_deviations` is empty) that the paper names, or for a run whose ``identifier`` is
    given; otherwise ``checkpoints/custom/<name>.pt``, name = ``run_name`` or
    ``<backbone>_<variant>_beta<β>_s<NN|all>_seed<seed>``.

    Args:
        config: a resolved configuration.
        origin: its :func:`init_weights_origin`, if already known.

    Raises:
        MissingFileError, CheckpointError: the initial weights cannot be read (see
            :func:`init_weights_origin`).
    """
    identifier = _checkpoint_identifier(config, run_deviations(config, origin))
    if identifier is not None:
        return checkpoint_path(identifier)
    subject = "all" if config.subject is None else f"{config.subject:02d}"
    name = config.run_name or f"{config.backbone}_{config.variant}_beta{float(config.beta or 0.0):g}_s{subject}" \
                              f"_seed{config.seed}"
    return checkpoints_dir() / "custom" / f"{name}.pt"


def _checkpoint_identifier(config: TrainConfig, deviations: dict[str, list]) -> str | None:
    """The paper identifier a run is saved as: the named one, else the paper's name for an on-recipe run."""
    if config.identifier is not None:
        return config.identifier
    if deviations:
        return None
    return identifier_for(config.backbone, config.variant, config.subject, float(config.beta or 0.0))


def run_deviations(config: TrainConfig, origin: dict[str, Any] | None = None) -> dict[str, list]:
    """How a resolved run differs from the paper's recipe: ``{field: [paper value, run value]}`` (empty: none).

    Args:
        config: a resolved configuration.
        origin: its :func:`init_weights_origin`, if already known.
    """
    origin = init_weights_origin(config) if origin is None else origin
    settings = {name: getattr(config, name) for name in PAPER_RECIPE}
    return recipe_deviations(settings, None if origin.get("verified") else _describe_origin(origin))


def _checkpoint_origin(path: Path, identifier: str | None, backbone: str) -> dict[str, Any]:
    """Origin of initial weights in a realnet checkpoint: verified iff it holds ``backbone``'s verified release."""
    meta = read_checkpoint_meta(path)
    release = meta.weights_release or {}
    info: dict[str, Any] = {"kind": "realnet-checkpoint", "path": str(path), "sha256": cached_sha256(path),
                            "identifier": identifier if identifier is not None else meta.identifier}
    if release.get("verified") and meta.backbone == backbone and not checkpoint_deviations(meta):
        info.update(release=release.get("release"), verified=True)
    return info


def init_weights_origin(config: TrainConfig) -> dict[str, Any]:
    """Where a run's initial backbone comes from, and whether it is its backbone's verified ImageNet release.

    Reads records, key names and file hashes only (tensor storage is mapped, not read). An
    ImageNet file is checked with :func:`realnet_plugins.importers.check_release`; a realnet
    checkpoint counts as the release when it was imported from the verified release file.

    Returns:
        ``{"kind": "random", "seed"}`` without initial weights; else ``{"kind", "path", "sha256",
        ...}`` where kind is ``realnet-checkpoint``, ``published-realnet`` or the backbone's ImageNet
        layout, plus ``"release"`` and ``"verified": True`` for the verified release of the run's
        backbone.

    Raises:
        MissingFileError: the file, or the identifier's checkpoint, does not exist.
        CheckpointError: an unreadable or unrecognised file, or a release name with another digest.
    """
    if config.init_from is not None:
        path = checkpoint_path(config.init_from)
        if not path.is_file():
            raise MissingFileError(f"init weights: {missing_checkpoint_message(config.init_from)}")
        return _checkpoint_origin(path, config.init_from, config.backbone)
    if config.init_weights is None:
        return {"kind": "random", "seed": config.seed}
    path = Path(config.init_weights).expanduser()
    if not path.is_file():
        raise MissingFileError(
            f"init weights file not found: {config.init_weights}. Give the ImageNet weight file of the backbone "
            f"({', '.join(r.name for r in backbone_spec(config.backbone).release_files())}), or import it first "
            "(`realnet import-weights FILE --as realnet_base_<backbone>`) and start from that identifier."
        )
    payload = safe_torch_load(path, mmap=True)
    if is_checkpoint_payload(payload):
        return _checkpoint_origin(path, None, config.backbone)
    source, backbone = detect_source(tensor_state(payload, path))
    if source == PUBLISHED_REALNET:
        return {"kind": source, "path": str(path), "sha256": cached_sha256(path)}
    release = check_release(path, backbone)
    info = {"kind": source, "path": str(path), "sha256": release["sha256"]}
    if release["verified"] and backbone == config.backbone:
        info.update(release=release["release"], verified=True)
    return info


def _describe_origin(origin: dict[str, Any]) -> str:
    """What a run starts from, in words (for ``deviations``)."""
    if origin["kind"] == "random":
        return f"random (seed {origin['seed']})"
    name = origin.get("identifier") or Path(origin["path"]).name
    if origin["kind"] == "realnet-checkpoint":
        return f"checkpoint {name} (not the verified ImageNet release)"
    if origin["kind"] == PUBLISHED_REALNET:
        return f"published ReAlnet file {name}"
    return f"unverified file {name} (sha256 {origin['sha256'][:12]}…)"


def run_dir(name: str) -> Path:
    """``$REALNET_HOME/runs/<name>``."""
    return realnet_home() / "runs" / name


def batch_bounds(n_pairs: int, batch_size: int) -> list[tuple[int, int]]:
    """Start and end of each batch of an epoch, in the order of the epoch's permutation.

    Full batches of ``batch_size``, then the remainder as a last, smaller batch (kept, SPEC.md) -
    except a remainder of exactly one pair, which joins the batch before it: a batch of one has no
    contrastive pairs and, for small images, BatchNorm statistics of a single value. (The paper's
    16540 images in batches of 16 end with a batch of 12, so this rule does not touch it.)

    Returns:
        ``[(lo, hi), ...]`` covering 0..n_pairs exactly once.
    """
    bounds = [(lo, min(lo + batch_size, n_pairs)) for lo in range(0, n_pairs, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2:] = [(bounds[-2][0], n_pairs)]
    return bounds


def epoch_permutation(seed: int, epoch: int, n_pairs: int) -> np.ndarray:
    """The order of the training pairs in ``epoch``: int64 (n_pairs,)."""
    return np.random.default_rng([int(seed), SHUFFLE_STREAM, int(epoch)]).permutation(n_pairs).astype(np.int64)


def _read_init_backbone(config: TrainConfig, origin: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The initial backbone weights (``backbone.*`` keys stripped), loaded and verified.

    Raises:
        CheckpointError: the weights are for another backbone, or do not fit it.
    """
    if config.init_from is not None:
        model, found = load_model_checkpoint(config.init_from).model, parse_identifier(config.init_from).backbone
    elif origin["kind"] == "realnet-checkpoint":
        loaded = load_checkpoint(origin["path"])
        model, found = loaded.model, loaded.meta.backbone
    else:
        imported = read_foreign_weights(origin["path"], expected_backbone=config.backbone)
        model, found = imported.model, imported.backbone
    if found != config.backbone:
        named = config.init_from or config.init_weights
        raise CheckpointError(f"init weights {named!r} are for backbone {found!r}, but this run trains "
                              f"{config.backbone!r}")
    return {k: v for k, v in model.backbone.state_dict().items()}


def build_initial_model(config: TrainConfig, origin: dict[str, Any] | None = None
                        ) -> tuple[ReAlnet, dict[str, Any]]:
    """The run's initial model (on the CPU, parameters in torch's default dtype) and its origin.

    The EEG head (and, without initial weights, the backbone) is initialised from ``config.seed``
    in a forked RNG, so every subject of a variant starts from the same weights. With
    ``init_weights`` or ``init_from`` the backbone (weights and BatchNorm statistics) comes from
    there; a head in the file is not used.

    Args:
        config: a resolved configuration.
        origin: its :func:`init_weights_origin`, if already known.

    Returns:
        ``(model, origin)``: the origin describes the initial weights (``{"kind": "random", "seed"}``
        without them).
    """
    origin = init_weights_origin(config) if origin is None else origin
    objective = Objective.for_variant(config.variant, config.beta or 0.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = ReAlnet(config.backbone, image_size=config.image_size, eeg_head=objective.has_eeg_head)
    if origin["kind"] == "random":
        log.warning("no init weights given: the %s backbone is randomly initialised (seed %d); this is for tests and "
                    "demos only - the paper's models start from ImageNet weights", config.backbone, config.seed)
        return model, origin
    model.backbone.load_state_dict(_read_init_backbone(config, origin), strict=True)
    return model, origin


@dataclass
class _Run:
    """One run's prepared inputs and bookkeeping."""

    config: TrainConfig
    target: Path
    folder: Path
    objective: Objective
    data: AlignmentData
    model: ReAlnet
    init_info: dict[str, Any]
    init_sha256: str
    labels: np.ndarray
    initial_metrics: dict[str, Any]
    deviations: dict[str, list]
    resume: dict[str, Any] | None = None
    best: dict[str, Any] | None = None
    validation_history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.folder / "log.jsonl"

    @property
    def resume_path(self) -> Path:
        return self.folder / "resume.pt"

    @property
    def position(self) -> tuple[int, int]:
        """(epoch, step within the epoch) the run continues from."""
        if self.resume is None:
            return 0, 0
        return int(self.resume["epoch"]), int(self.resume["step_in_epoch"])


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return _json_safe(value.item())
    return value


def _append_log(run: _Run, record: dict[str, Any]) -> None:
    run.folder.mkdir(parents=True, exist_ok=True)
    with open(run.log_path, "a", encoding="utf-8") as f:
        f.write(json.dumps(_json_safe(record), allow_nan=False) + "\n")
        f.flush()


def _truncate_log(run: _Run, global_step: int) -> None:
    """Drop log lines written after the resume point (they will be written again)."""
    if not run.log_path.is_file():
        return
    kept = []
    for line in run.log_path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut short by the interruption
        if int(record.get("step", 0) or 0) <= global_step and record.get("event") != "end":
            kept.append(line)
    with atomic_write(run.log_path, "w") as f:
        f.write("".join(k + "\n" for k in kept))


def _heldout_metrics(model: ReAlnet, held: HeldOutSet, config: TrainConfig) -> dict[str, Any]:
    """Metrics of the model's generated EEG against each subject's held-out EEG (normalised units).

    With scalar normalisation these equal the values in the release's units (both metrics are
    invariant to one positive affine map). Several subjects: per-subject values and their mean.
    """
    _, generated = predict(model, held.images, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                           device=torch.device(config.device or "cpu"), desc=f"{held.name} EEG")
    if generated is None:
        return {}
    per_subject = {s: eeg_generation_metrics(generated, real) for s, real in held.eeg.items()}
    if len(per_subject) == 1:
        return next(iter(per_subject.values()))
    keys = ("spearman", "pearson_mean_feature")
    summary: dict[str, Any] = {k: float(np.mean([m[k] for m in per_subject.values()])) for k in keys}
    summary["n_images"] = int(len(held.images))
    summary["per_subject"] = {str(s): m for s, m in per_subject.items()}
    return summary


def _saved_settings(saved: dict[str, Any]) -> dict[str, Any]:
    """A resume state's settings in today's fields.

    Resume states written before ``init_from`` existed kept an identifier in ``init_weights``.
    """
    if "init_from" in saved:
        return saved
    upgraded = dict(saved, init_from=None)
    value = saved.get("init_weights")
    if value is not None and is_paper_identifier(str(value)) and not Path(str(value)).expanduser().is_file():
        upgraded.update(init_weights=None, init_from=str(value))
    return upgraded


def _read_resume(config: TrainConfig, folder: Path) -> dict[str, Any] | None:
    """The run folder's resume state, if any, checked against the configuration (nothing is written).

    Raises:
        ResumeMismatchError: a state of another version or of other settings.
    """
    resume_file = folder / "resume.pt"
    if not resume_file.is_file():
        return None
    resume = safe_torch_load(resume_file)
    if not isinstance(resume, dict) or resume.get("format") != RESUME_FORMAT or resume.get(
            "format_version") != RESUME_VERSION:
        raise ResumeMismatchError(f"{resume_file} is not a resume state of this version; delete {folder} to restart")
    saved, now = _saved_settings(resume["config"]), config.math_dict()
    differ = {k: (saved.get(k), now[k]) for k in now if saved.get(k) != now[k]}
    if differ:
        raise ResumeMismatchError(
            f"{folder} holds an interrupted run with other settings (saved, now): {differ}. Rerun with the "
            f"saved settings to resume it, or pass overwrite=True (CLI: --overwrite) to start over."
        )
    return resume


def _prepare(config: TrainConfig, target: Path, folder: Path, origin: dict[str, Any], overwrite: bool,
             progress: bool) -> _Run:
    """Read and check every input of a run: its resume state (unless it starts over), release, data, initial weights.

    Deletes and overwrites nothing under ``$REALNET_HOME`` (it may add cache files: the image cache
    and the pseudo-labels); :func:`_start` begins writing once every run has been prepared.
    """
    resume = None if overwrite else _read_resume(config, folder)
    release = ThingsEEG2Release(config.release)
    data = load_alignment_data(release, config.subject, config.variant, image_size=config.image_size,
                               seed=config.seed, normalisation_mode=config.normalisation,
                               validation_fraction=config.validation_fraction)
    if data.n_pairs < 2:
        raise ValueError(f"training needs at least 2 (image, EEG) pairs; found {data.n_pairs}")
    model, init_info = build_initial_model(config, origin)
    init_sha256 = weights_digest(model.state_dict())
    device = torch.device(config.device or "cpu")
    model.to(device)
    labels = pseudo_labels(model, data.images, data.image_key, mean=IMAGENET_MEAN, std=IMAGENET_STD,
                           device=device, progress=progress)
    objective = Objective.for_variant(config.variant, config.beta or 0.0,
                                      legacy_detached_contrastive=config.legacy_detached_contrastive)
    initial_metrics = {}
    if objective.has_eeg_head and resume is None:
        initial_metrics = _heldout_metrics(model, data.test, config)
    elif resume is not None:
        initial_metrics = dict(resume.get("initial_metrics", {}))
    if resume is not None:
        saved = {"init_sha256": resume.get("init_sha256"), "data_fingerprint": resume.get("data_fingerprint")}
        now = {"init_sha256": init_sha256, "data_fingerprint": data.fingerprint}
        if saved != now:
            raise ResumeMismatchError(
                f"{folder} holds an interrupted run made from other initial weights or data (saved {saved}, now "
                f"{now}); pass overwrite=True (CLI: --overwrite) to start over."
            )
    run = _Run(config=config, target=target, folder=folder, objective=objective, data=data, model=model,
               init_info=init_info, init_sha256=init_sha256, labels=labels, initial_metrics=initial_metrics,
               deviations=run_deviations(config, origin), resume=resume)
    if resume is not None:
        model.load_state_dict(resume["model"])
        run.best = resume.get("best")
        run.validation_history = list(resume.get("validation_history", []))
    return run


def _start(run: _Run, overwrite: bool) -> None:
    """Begin writing a prepared run: clear its folder when starting over, then its first log line."""
    if overwrite and run.folder.exists():
        shutil.rmtree(run.folder)
    if run.resume is not None:
        _truncate_log(run, int(run.resume["global_step"]))
        _append_log(run, {"event": "resume", "epoch": run.position[0], "step": int(run.resume["global_step"]),
                          "step_in_epoch": run.position[1]})
        return
    run.folder.mkdir(parents=True, exist_ok=True)
    run.log_path.unlink(missing_ok=True)
    _append_log(run, {"event": "start", "step": 0, "config": run.config.to_dict(), "n_pairs": run.data.n_pairs,
                      "subjects": run.data.subjects, "data_fingerprint": run.data.fingerprint,
                      "init_weights": run.init_info, "deviations": run.deviations,
                      "test_initial": run.initial_metrics})


@contextlib.contextmanager
def _runtime(device: torch.device) -> Iterator[None]:
    """Deterministic algorithms on the CPU; cuDNN autotuning on CUDA (restored afterwards)."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    benchmark = torch.backends.cudnn.benchmark
    try:
        if device.type == "cpu":
            torch.use_deterministic_algorithms(True)
        elif device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        yield
    finally:
        torch.use_deterministic_algorithms(deterministic)
        torch.backends.cudnn.benchmark = benchmark


class _DeferredInterrupt:
    """Turn the first Ctrl-C into a request honoured at the next step boundary (main thread only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        log.warning("interrupted: saving the resume state after this step (press Ctrl-C again to stop at once)")

    def __enter__(self) -> "_DeferredInterrupt":
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _rng_states(device: torch.device) -> dict[str, Any]:
    states: dict[str, Any] = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        states["cuda"] = torch.cuda.get_rng_state(device)
    return states


def _restore_rng(states: dict[str, Any], device: torch.device) -> None:
    torch.set_rng_state(states["torch"])
    if device.type == "cuda" and "cuda" in states:
        torch.cuda.set_rng_state(states["cuda"], device)


class _GroupTrainer:
    """Trains runs that share every hyper-parameter but their data, β and loss terms, in lock-step."""

    def __init__(self, runs: list[_Run], progress: bool, on_step: Callable[[StepInfo], None] | None) -> None:
        self.runs = runs
        self.progress = progress
        self.on_step = on_step
        first = runs[0].config
        self.config = first
        self.device = torch.device(first.device or "cpu")
        self.n_pairs = runs[0].data.n_pairs
        self.bounds = batch_bounds(self.n_pairs, first.batch_size)
        self.steps_per_epoch = len(self.bounds)
        self.total_steps = self.steps_per_epoch * first.epochs
        if first.max_steps is not None:
            self.total_steps = min(self.total_steps, first.max_steps)
        dtype = next(runs[0].model.parameters()).dtype
        self.data = DeviceData.from_arrays(
            runs[0].data.images, [r.data.pair_image for r in runs], [r.data.pair_eeg for r in runs],
            [r.labels for r in runs], mean=IMAGENET_MEAN, std=IMAGENET_STD, device=self.device, dtype=dtype)
        adam = [r.resume["adam"] if r.resume else None for r in runs]
        self.step = make_step([r.model for r in runs], [r.objective for r in runs], self.data,
                              batch_size=first.batch_size, lr=first.lr, amp=bool(first.amp),
                              channels_last=bool(first.channels_last), compile_mode=first.compile, adam_states=adam)
        epoch, step_in_epoch = runs[0].position
        self.epoch = epoch
        self.step_in_epoch = step_in_epoch
        self.global_step = int(runs[0].resume["global_step"]) if runs[0].resume else 0
        k = len(runs)
        self.loss_sum = torch.zeros(k, len(LOSS_COLUMNS), dtype=torch.float64, device=self.device)
        self.loss_count = 0
        self.permutation: torch.Tensor | None = None
        if runs[0].resume:
            self.loss_sum += torch.stack([r.resume["loss_sum"] for r in runs]).to(self.device)
            self.loss_count = int(runs[0].resume["loss_count"])
            if runs[0].resume.get("permutation") is not None:
                self.permutation = torch.stack([r.resume["permutation"] for r in runs]).to(self.device)
            _restore_rng(runs[0].resume["rng"], self.device)
        self.last_save = time.monotonic()
        self._interval_start, self._interval_images = time.perf_counter(), 0

    # ----------------------------------------------------------------------------------------- state
    def _save_resume(self) -> None:
        """Write every run's resume state atomically (at a step boundary)."""
        model_states = self.step.model_states()
        adam_states = self.step.adam_states()
        rng = _rng_states(self.device)
        loss_sum = self.loss_sum.cpu()
        for i, run in enumerate(self.runs):
            state = {
                "format": RESUME_FORMAT, "format_version": RESUME_VERSION, "config": run.config.math_dict(),
                "epoch": self.epoch, "step_in_epoch": self.step_in_epoch, "global_step": self.global_step,
                "steps_per_epoch": self.steps_per_epoch,
                "permutation": (None if self.permutation is None or self.step_in_epoch == 0
                                else self.permutation[i].cpu()),
                "model": model_states[i], "adam": adam_states[i], "rng": rng,
                "loss_sum": loss_sum[i].clone(), "loss_count": self.loss_count,
                "best": run.best, "validation_history": run.validation_history,
                "initial_metrics": run.initial_metrics, "init_sha256": run.init_sha256,
                "data_fingerprint": run.data.fingerprint,
            }
            with atomic_write(run.resume_path) as f:
                torch.save(state, f)
        self.last_save = time.monotonic()

    def _permutation_for(self, epoch: int) -> torch.Tensor:
        perms = [epoch_permutation(r.config.seed, epoch, self.n_pairs) for r in self.runs]
        return torch.from_numpy(np.stack(perms)).to(self.device)

    # ------------------------------------------------------------------------------------- logging
    def _log_interval(self, bar: Any) -> None:
        """Write one ``train`` line per run (means since the last line); the loop's one host sync."""
        means = (self.loss_sum / max(self.loss_count, 1)).tolist()
        elapsed = max(time.perf_counter() - self._interval_start, 1e-9)
        rate = self._interval_images / elapsed
        for run, row in zip(self.runs, means):
            record = {"event": "train", "epoch": self.epoch, "step": self.global_step,
                      "step_in_epoch": self.step_in_epoch, "lr": run.config.lr,
                      "images_per_s": rate / len(self.runs), "steps_averaged": self.loss_count}
            record.update(dict(zip(LOSS_COLUMNS, row)))
            _append_log(run, record)
        if bar is not None:
            bar.set_postfix(loss=f"{float(np.mean([row[0] for row in means])):.4g}", img_s=f"{rate:.1f}")
        self.loss_sum.zero_()
        self.loss_count = 0
        self._interval_start, self._interval_images = time.perf_counter(), 0

    def _validate(self) -> None:
        """Validation metrics of every run at an epoch end; track the best epoch."""
        if self.runs[0].data.validation is None:
            return
        states = self.step.model_states()
        for run, state in zip(self.runs, states):
            model = _materialise(run, state)
            metrics = _heldout_metrics(model, run.data.validation, run.config)  # type: ignore[arg-type]
            entry = {"epoch": self.epoch, **metrics}
            run.validation_history.append(entry)
            _append_log(run, {"event": "validation", "step": self.global_step, **entry})
            score = metrics.get("pearson_mean_feature", float("nan"))
            if run.config.selection == "validation" and math.isfinite(score) and (
                    run.best is None or score > run.best["score"]):
                run.best = {"epoch": self.epoch, "score": float(score), "model": state}

    # -------------------------------------------------------------------------------------- train
    def train(self) -> list[dict[str, torch.Tensor]]:
        """Run the remaining steps; return each run's final model state (after selection)."""
        first = self.config
        disable = None if self.progress else True
        with _DeferredInterrupt() as interrupt, tqdm(total=first.epochs, initial=self.epoch, desc=self._label(),
                                                      unit="epoch", disable=disable) as epoch_bar:
            while self.epoch < first.epochs and self.global_step < self.total_steps:
                if self.permutation is None or self.step_in_epoch == 0:
                    self.permutation = self._permutation_for(self.epoch)
                with tqdm(total=self.steps_per_epoch, initial=self.step_in_epoch, desc=f"epoch {self.epoch + 1}",
                          unit="step", leave=False, disable=disable) as bar:
                    for lo, hi in self.bounds[self.step_in_epoch:]:
                        if self.global_step >= self.total_steps:
                            break
                        index = self.permutation[:, lo:hi]
                        self.loss_sum += self.step(index)
                        self.loss_count += 1
                        self._interval_images += int(index.numel())
                        self.step_in_epoch += 1
                        self.global_step += 1
                        bar.update(1)
                        epoch_done = self.step_in_epoch == self.steps_per_epoch
                        if self.loss_count >= first.log_every or (epoch_done and self.loss_count):
                            self._log_interval(bar)
                        if epoch_done:
                            self._validate()
                            self.epoch += 1
                            self.step_in_epoch = 0
                            epoch_bar.update(1)
                        due = (first.checkpoint_every_steps
                               and self.global_step % first.checkpoint_every_steps == 0) or (
                            epoch_done and time.monotonic() - self.last_save >= first.checkpoint_every_s)
                        if due or interrupt.requested:
                            self._save_resume()
                        if interrupt.requested:
                            raise KeyboardInterrupt
                        if self.on_step is not None:
                            self.on_step(StepInfo(self.epoch, self.step_in_epoch, self.global_step,
                                                  self.steps_per_epoch))
            if self.loss_count:  # stopped by max_steps within a log interval
                self._log_interval(None)
        final = self.step.model_states()
        for i, run in enumerate(self.runs):
            if run.config.selection == "validation" and run.best is not None:
                final[i] = run.best["model"]
        return final

    def _label(self) -> str:
        names = [r.target.stem for r in self.runs]
        return names[0] if len(names) == 1 else f"{len(names)} runs ({names[0]}, ...)"


def _materialise(run: _Run, state: dict[str, torch.Tensor]) -> ReAlnet:
    """A fresh module of the run's architecture holding ``state``, on the run's device."""
    model = ReAlnet(run.config.backbone, image_size=run.config.image_size, eeg_head=run.objective.has_eeg_head)
    model.to(next(run.model.parameters()).dtype)
    model.load_state_dict(state, strict=True)
    return model.to(torch.device(run.config.device or "cpu"))


def _finish(run: _Run, state: dict[str, torch.Tensor], steps_done: int, group_size: int, overwrite: bool) -> Path:
    """Held-out metrics, the checkpoint, the log's end line; remove the resume state."""
    config = run.config
    model = _materialise(run, state)
    metrics: dict[str, Any] = {}
    if run.objective.has_eeg_head:
        metrics["test"] = _heldout_metrics(model, run.data.test, config)
        metrics["test_initial"] = run.initial_metrics
        if run.data.validation is not None:
            metrics["validation"] = _heldout_metrics(model, run.data.validation, config)
    steps_per_epoch = len(batch_bounds(run.data.n_pairs, config.batch_size))
    training = {
        "optimizer": "adam", "lr": config.lr, "epochs": config.epochs, "batch_size": config.batch_size,
        "seed": config.seed, "normalisation": config.normalisation, "image_size": config.image_size,
        "legacy_detached_contrastive": config.legacy_detached_contrastive,
        "validation_fraction": config.validation_fraction, "validation_concepts": run.data.validation_concepts,
        "selection": config.selection,
        "selected_epoch": run.best["epoch"] if run.best else None,
        "max_steps": config.max_steps, "steps": steps_done, "steps_per_epoch": steps_per_epoch,
        "truncated": steps_done < steps_per_epoch * config.epochs,
        "n_pairs": run.data.n_pairs, "subjects": run.data.subjects, "init_weights": run.init_info,
        "device": str(config.device), "amp": config.amp, "channels_last": config.channels_last,
        "compile": config.compile, "trained_with": group_size,
    }
    meta = CheckpointMeta(
        backbone=config.backbone, variant=config.variant, subject=config.subject, beta=float(config.beta or 0.0),
        seed=config.seed, identifier=_checkpoint_identifier(config, run.deviations),
        image_size=config.image_size, image_mean=list(IMAGENET_MEAN), image_std=list(IMAGENET_STD),
        eeg_normalisation=run.data.normalisation_record() if run.objective.has_eeg_head else None,
        data_fingerprint=run.data.fingerprint, init_sha256=run.init_sha256, deviations=run.deviations,
        training=training, metrics=_json_safe(metrics), source="trained",
    )
    save_checkpoint(model.cpu().float(), meta, run.target, overwrite=overwrite)
    _append_log(run, {"event": "end", "step": steps_done, "metrics": metrics, "checkpoint": str(run.target)})
    run.resume_path.unlink(missing_ok=True)
    return run.target


def _without_stacked_autocast(config: TrainConfig) -> TrainConfig:
    """Eager runs trained in lock-step use float32: bf16 autocast does not compose with eager ``vmap`` BatchNorm.

    Measured on an H200 with torch 2.11: the eager stacked backward fails with "Expected
    running_mean to have type BFloat16 but got Float", while the compiled step (inductor) runs
    bf16 fine. So with ``compile='off'``, ``amp=None`` resolves to off for K > 1 runs and an
    explicit ``amp=True`` is refused with this explanation; compiled runs keep their setting.
    """
    if config.compile != "off":
        return config
    if config.amp:
        raise ValueError(
            "bf16 autocast (amp=True) needs a compiled step when several runs train in lock-step: eager vmap "
            "BatchNorm rejects bf16 activations with float32 running statistics. Add --compile reduce-overhead, "
            "leave amp unset (float32), or train the runs one by one."
        )
    return dataclasses.replace(config, amp=False)


#: Settings that runs trained in lock-step must share.
_SHARED_SETTINGS = ("backbone", "image_size", "epochs", "batch_size", "lr", "device", "amp", "channels_last", "compile",
                    "max_steps", "log_every", "checkpoint_every_steps", "checkpoint_every_s")


def _check_compatible_configs(configs: Sequence[TrainConfig]) -> None:
    """Runs trained in lock-step must share :data:`_SHARED_SETTINGS` and have an EEG head, or all lack one."""
    first = configs[0]
    for config in configs[1:]:
        differ = {k: (getattr(first, k), getattr(config, k)) for k in _SHARED_SETTINGS
                  if getattr(first, k) != getattr(config, k)}
        if differ:
            raise ValueError(f"runs trained together must share {_SHARED_SETTINGS}; these differ: {differ}")
    if len({variant_spec(c.variant).has_eeg_head for c in configs}) > 1:
        raise ValueError("runs without an EEG head (beta0) cannot be trained together with runs that have one")


def _check_compatible_data(runs: Sequence[_Run]) -> None:
    """Runs trained in lock-step must share the training images and the number of pairs."""
    first = runs[0]
    for run in runs[1:]:
        if run.data.n_pairs != first.data.n_pairs or run.data.image_key != first.data.image_key:
            raise ValueError(
                f"runs trained together need the same training images and pair count; {run.target.stem} has "
                f"{run.data.n_pairs} pairs vs {first.data.n_pairs} (across_subject and validation splits change it)"
            )


def _run_locations(resolved: Sequence[TrainConfig], outs: Sequence[str | Path | None] | None,
                   overwrite: bool) -> tuple[list[Path], list[Path], list[dict[str, Any]]]:
    """Each run's checkpoint path, run folder and initial-weights origin.

    Refuses shared paths and (without overwrite) finished checkpoints; reads no tensors and writes
    nothing.

    Args:
        resolved: resolved configurations.
        outs: checkpoint paths (None, or None entries: :func:`default_checkpoint_path`).
        overwrite: whether existing checkpoints may be replaced.

    Raises:
        ValueError: ``outs`` has another length, or two runs would share a checkpoint or run folder.
        CheckpointExistsError: a checkpoint exists and ``overwrite`` is False.
        MissingFileError, CheckpointError: initial weights that cannot be read.
    """
    outs = list(outs) if outs is not None else [None] * len(resolved)
    if len(outs) != len(resolved):
        raise ValueError(f"{len(outs)} output paths for {len(resolved)} configurations")
    origins = [init_weights_origin(c) for c in resolved]
    targets = [Path(o) if o is not None else default_checkpoint_path(c, origin)
               for c, o, origin in zip(resolved, outs, origins)]
    folders = [run_dir(c.run_name or t.stem) for c, t in zip(resolved, targets)]
    if len(set(targets)) != len(targets) or len(set(folders)) != len(folders):
        raise ValueError(f"two runs would share a checkpoint or run folder: {[str(t) for t in targets]}")
    finished = [str(t) for t in targets if t.exists()]
    if finished and not overwrite:
        raise CheckpointExistsError(
            f"finished checkpoint(s) exist: {finished}; pass overwrite=True (CLI: --overwrite) to train again"
        )
    for config, origin, out in zip(resolved, origins, outs):
        paper = identifier_for(config.backbone, config.variant, config.subject, float(config.beta or 0.0))
        deviations = run_deviations(config, origin)
        if out is None and config.identifier is None and paper is not None and deviations:
            log.warning("this run differs from the paper's recipe (%s), so it is not saved as %s; name it with "
                        "identifier=%r (CLI: --as %s) to save it there anyway, with these differences recorded",
                        describe_deviations(deviations), paper, paper, paper)
    return targets, folders, origins


def train_many(
    configs: Sequence[TrainConfig],
    outs: Sequence[str | Path | None] | None = None,
    *,
    overwrite: bool = False,
    progress: bool = True,
    on_step: Callable[[StepInfo], None] | None = None,
) -> list[Path]:
    """Train several runs concurrently on one device, in lock-step.

    Each run keeps its own data, β, loss terms, seed (permutations), run folder, resume state and
    checkpoint; their models are trained as one batched computation (see
    :class:`~realnet_plugins.training.step.StackedModelsStep`). They must share the backbone, the
    image size, the number of training pairs and every optimisation setting (epochs, batch size,
    lr, device, amp, compile, max_steps). Runs interrupted at different points are resumed in
    groups of equal position, one group after another.

    Args:
        configs: the runs.
        outs: checkpoint paths (None entries: :func:`default_checkpoint_path`).
        overwrite: retrain runs whose checkpoint exists (their run folders are cleared once every input of
            every run has been read and checked).
        progress: show progress bars.
        on_step: called after every step (tests use it to simulate a crash).

    Returns:
        The checkpoint path of each run, in order.

    Raises:
        CheckpointExistsError: a checkpoint exists and ``overwrite`` is False.
        ResumeMismatchError: a run folder holds an interrupted run with other settings.
        ValueError: invalid or incompatible configurations.
    """
    if len(configs) > 1:
        configs = [_without_stacked_autocast(c) for c in configs]
    resolved = [c.resolved() for c in configs]
    if not resolved:
        return []
    targets, folders, origins = _run_locations(resolved, outs, overwrite)
    _check_compatible_configs(resolved)
    device = torch.device(resolved[0].device or "cpu")
    if device.type == "cuda" and len(resolved) > 1:
        log.warning("training %d runs in lock-step on CUDA batches them through vmap; measured on an H200 this is "
                    "slower than one run at a time with compile='reduce-overhead' (K=4: 1740 images/s in all, bf16, "
                    "compiled; 331 in float32; one run: 2640). Train them one by one, or in separate processes "
                    "(train_parallel, CLI: realnet sweep --processes K)", len(resolved))
    with _runtime(device):
        runs = [_prepare(c, t, f, o, overwrite, progress) for c, t, f, o in zip(resolved, targets, folders, origins)]
        _check_compatible_data(runs)
        for run in runs:
            _start(run, overwrite)
        groups: dict[tuple[int, int], list[_Run]] = {}
        for run in runs:
            groups.setdefault(run.position, []).append(run)
        for members in groups.values():
            trainer = _GroupTrainer(members, progress, on_step)
            states = trainer.train()
            for run, state in zip(members, states):
                _finish(run, state, trainer.global_step, len(members), overwrite)
    return targets


def train(config: TrainConfig, out: str | Path | None = None, overwrite: bool = False, progress: bool = True,
          on_step: Callable[[StepInfo], None] | None = None) -> Path:
    """Train one run (resuming it if its run folder holds an interrupted state).

    Args:
        config: the run.
        out: checkpoint path; None: the identifier's path (:func:`default_checkpoint_path`).
        overwrite: retrain although the checkpoint exists (the run folder is cleared once every input has
            been read and checked).
        progress: show progress bars.
        on_step: called after every step with a :class:`StepInfo`.

    Returns:
        The checkpoint path.

    Raises:
        CheckpointExistsError: the checkpoint exists and ``overwrite`` is False.
        ResumeMismatchError: the run folder holds an interrupted run with other settings.
        ValueError: an invalid configuration (unknown variant, subject not in the release, ...).
    """
    return train_many([config], [out], overwrite=overwrite, progress=progress, on_step=on_step)[0]


#: The stop event of the pool this worker process belongs to (set by :func:`_init_worker`).
_worker_stop: Any = None


def _init_worker(stop: Any) -> None:
    """Worker initialiser: keep the pool's stop event; ignore Ctrl-C while idle (a run in progress handles it)."""
    global _worker_stop
    _worker_stop = stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _train_in_worker(config: TrainConfig, out: Path, overwrite: bool, threads: int) -> Path:
    """One run of :func:`train_parallel`, in a worker process: :func:`train` without progress bars.

    Ctrl-C interrupts the run as it would in the main process (a training loop saves its resume
    state first); a run queued after the pool was stopped does not start.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if _worker_stop is not None and _worker_stop.is_set():
            raise KeyboardInterrupt
        if torch.device(config.device or "cpu").type == "cpu":
            torch.set_num_threads(threads)
        return train(config, out, overwrite=overwrite, progress=False)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _threads_per_worker(workers: int) -> int:
    """Torch CPU threads of each of ``workers`` processes: the CPU count shared out, at least 1."""
    return max(1, (os.cpu_count() or 1) // workers)


def train_parallel(
    configs: Sequence[TrainConfig],
    outs: Sequence[str | Path | None] | None = None,
    *,
    processes: int,
    overwrite: bool = False,
    progress: bool = True,
) -> list[Path]:
    """Train runs in up to ``processes`` worker processes at once, each run on its own with :func:`train`.

    Unlike :func:`train_many` the runs need share nothing. Workers start with the ``spawn`` method
    (safe with CUDA), train one run at a time on the run's device and, on the CPU, use
    ``cpu_count // workers`` torch threads each; results equal :func:`train` run with that many
    threads. On one GPU each process has its own CUDA context (and CUDA graphs): their kernels
    overlap only under NVIDIA MPS (``nvidia-cuda-mps-control -d``), otherwise the GPU time-slices
    between them. One progress bar counts finished runs; workers show none. A failing run does
    not stop the others: its error is logged at once with the run's name, and all failures are
    raised together at the end. On Ctrl-C, runs in progress save their resume state (as
    :func:`train` does) and queued runs do not start. In a script, call it under
    ``if __name__ == "__main__":`` (spawned workers import the main module).

    Args:
        configs: the runs.
        outs: checkpoint paths (None entries: :func:`default_checkpoint_path`).
        processes: the most worker processes at once (1: one after another, in one worker).
        overwrite: retrain runs whose checkpoint exists (their run folders are cleared once every input of
            every run has been read and checked).
        progress: show the progress bar over runs.

    Returns:
        The checkpoint path of each run, in order.

    Raises:
        RunsFailedError: one or more runs failed; the others were trained (see its ``failures``
            and ``finished``).
        CheckpointExistsError: a checkpoint exists and ``overwrite`` is False (nothing is trained).
        ValueError: an invalid configuration, ``processes`` < 1, or two runs sharing a checkpoint
            or run folder (nothing is trained).
    """
    if processes < 1:
        raise ValueError(f"processes must be at least 1, got {processes}")
    resolved = [c.resolved() for c in configs]
    if not resolved:
        return []
    targets, _, _ = _run_locations(resolved, outs, overwrite)
    workers = min(processes, len(resolved))
    if workers > 1 and any(torch.device(c.device or "cpu").type == "cuda" for c in resolved):
        log.warning("%d training processes share the GPU: their kernels run concurrently only under NVIDIA MPS "
                    "(start it with `nvidia-cuda-mps-control -d`); without it the GPU time-slices between them",
                    workers)
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    threads = _threads_per_worker(workers)
    finished: dict[int, Path] = {}
    failures: dict[int, str] = {}
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(stop,))
    try:
        futures = {pool.submit(_train_in_worker, config, target, overwrite, threads): i
                   for i, (config, target) in enumerate(zip(resolved, targets))}
        with tqdm(total=len(futures), desc=f"{len(futures)} runs, {workers} processes", unit="run",
                  disable=None if progress else True) as bar:
            for future in as_completed(futures):
                i = futures[future]
                try:
                    finished[i] = future.result()
                except Exception as e:  # noqa: BLE001 - a failed run must not stop the others
                    failures[i] = f"{type(e).__name__}: {e}"
                    log.error("run %s failed: %s", targets[i].stem, failures[i])
                bar.update(1)
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failures:
        raise RunsFailedError({targets[i].stem: failures[i] for i in sorted(failures)},
                              [finished[i] for i in sorted(finished)])
    return [finished[i] for i in range(len(targets))]
