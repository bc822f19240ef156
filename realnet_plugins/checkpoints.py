"""The realnet checkpoint format: weights plus everything needed to rebuild and audit a model.

A checkpoint is a ``torch.save`` of a plain dict (loadable with ``weights_only=True``)::

    {
      "format": "realnet-checkpoint",
      "format_version": 1,
      "state_dict": {name: tensor},        # ReAlnet module: backbone.* and eeg_head.*
      "meta": {
        "backbone": "cornet_s" | "resnet18",
        "variant": "realnet" | "no_contrastive" | ... | "base",   # realnet_plugins.variants; base: unaligned
        "subject": int | None,             # THINGS-EEG2 subject; None: pooled or unaligned
        "beta": float,
        "seed": int | None,
        "identifier": str | None,          # Brain-Score identifier it was made for, if any
        "image_size": int,                 # px, square input
        "image_mean": [r, g, b], "image_std": [r, g, b],
        "eeg_channels": [17 names], "eeg_times_s": [20 floats],   # order of the 340 outputs
        "eeg_normalisation": dict | None,  # how the predicted EEG maps back to the release's units
        "has_eeg_head": bool,
        "data_fingerprint": str | None,    # of the training data
        "init_sha256": str | None,         # of the initial weights
        "deviations": dict | None,         # {field: [paper recipe's value, this model's]}; {}: the recipe
        "weights_release": dict | None,    # imported ImageNet file: which release, verified or not
        "training": dict,                  # hyper-parameters (lr, epochs, batch size, ...)
        "metrics": dict,                   # held-out metrics measured at the end of training
        "source": str,                     # "trained", "imported:<kind>:<sha256 of the source file>"
        "package_version": str,
        "created_utc": str,
        "weights_sha256": str,             # digest of state_dict (names, dtypes, shapes, bytes)
      },
    }

Beside each file, ``<file>.sha256`` holds the file's sha256. Loading verifies both: the sidecar
against the file's bytes (when present) and ``weights_sha256`` against the loaded tensors, so a
truncated, corrupted or edited file is refused. The file's sha256 prefix goes into Brain-Score's
activations identifier, so activation caches never mix two checkpoints.

Loading is explicit: :func:`load_checkpoint` takes a file, :func:`load_model_checkpoint` a
Brain-Score identifier (its file under ``$REALNET_HOME``). Where people may type either (the
command line, :func:`realnet_plugins.extraction.load_realnet`), :func:`resolve_file_or_identifier`
decides by a stated rule and refuses an ambiguous name.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import io
import logging
import os
import pickle
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from realnet_plugins import __version__
from realnet_plugins.architectures import ReAlnet, backbone_spec
from realnet_plugins.checkpoint_files import require_torch_file
from realnet_plugins.constants import DEFAULT_IMAGE_SIZE, EEG_CHANNELS, EEG_TIMES_S, IMAGENET_MEAN, IMAGENET_STD
from realnet_plugins.errors import CheckpointError, MissingFileError, OutputExistsError, UsageError
from realnet_plugins.identifiers import is_paper_identifier, parse_identifier
from realnet_plugins.paths import checkpoints_dir
from realnet_plugins.storage import atomic_write, sha256_file

FORMAT = "realnet-checkpoint"
FORMAT_VERSION = 1
log = logging.getLogger(__name__)

_META_REQUIRED = ("backbone", "variant", "image_size", "image_mean", "image_std", "has_eeg_head", "weights_sha256")


@dataclass
class CheckpointMeta:
    """The ``meta`` record of a checkpoint (see the module docstring for each field)."""

    backbone: str
    variant: str
    subject: int | None = None
    beta: float = 0.0
    seed: int | None = None
    identifier: str | None = None
    image_size: int = DEFAULT_IMAGE_SIZE
    image_mean: list[float] = field(default_factory=lambda: list(IMAGENET_MEAN))
    image_std: list[float] = field(default_factory=lambda: list(IMAGENET_STD))
    eeg_channels: list[str] = field(default_factory=lambda: list(EEG_CHANNELS))
    eeg_times_s: list[float] = field(default_factory=lambda: [float(t) for t in EEG_TIMES_S])
    eeg_normalisation: dict | None = None
    has_eeg_head: bool = True
    data_fingerprint: str | None = None
    init_sha256: str | None = None
    deviations: dict | None = None
    weights_release: dict | None = None
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    source: str = "trained"
    package_version: str = __version__
    created_utc: str = ""
    weights_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CheckpointMeta":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class LoadedCheckpoint:
    """A verified checkpoint: the rebuilt module (eval mode, CPU unless asked), its meta, its file."""

    model: ReAlnet
    meta: CheckpointMeta
    path: Path
    sha256: str


def weights_digest(state_dict: Mapping[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in sorted name order."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def checkpoint_path(identifier: str) -> Path:
    """Where the checkpoint of a Brain-Score identifier lives: ``$REALNET_HOME/checkpoints/<id>.pt``."""
    parse_identifier(identifier)
    return checkpoints_dir() / f"{identifier}.pt"


def missing_checkpoint_message(identifier: str) -> str:
    """The help text for an identifier whose checkpoint is not there yet."""
    spec = parse_identifier(identifier)
    path = checkpoint_path(identifier)
    lines = [f"no checkpoint for {identifier!r}: expected {path} (set $REALNET_HOME to use another root)."]
    backbone = backbone_spec(spec.backbone)
    releases = backbone.release_files()
    if spec.is_baseline:
        lines.append(f"Make it with: realnet import-weights {releases[0].name} --as {identifier}   # file: "
                     f"{backbone.label} ImageNet release from {releases[0].origin}")
    else:
        subj = f" --subject {spec.subject}" if spec.subject else ""
        lines.append(
            f"Train it with: realnet train --release THINGS_EEG2_DIR{subj} --variant {spec.variant} "
            f"--backbone {spec.backbone} --beta {spec.beta:g} --init-weights {releases[0].name}"
        )
        if spec.published_file:
            lines.append(f"or import the published file: realnet import-weights {spec.published_file} "
                         f"--as {identifier}")
    return "\n".join(lines)


def save_checkpoint(model: ReAlnet, meta: CheckpointMeta, path: str | Path, *, overwrite: bool = False) -> str:
    """Write ``model`` and ``meta`` atomically to ``path`` (+ ``.sha256`` sidecar); return the file's sha256.

    Raises:
        OutputExistsError: (a ``FileExistsError``) when ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"a checkpoint exists already at {path}; pass overwrite=True (CLI: --overwrite) to "
                                "replace it")
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    meta.backbone = model.backbone_name
    meta.image_size = model.image_size
    meta.has_eeg_head = model.eeg_head is not None
    meta.package_version = __version__
    meta.created_utc = meta.created_utc or _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    meta.weights_sha256 = weights_digest(state)
    payload = {"format": FORMAT, "format_version": FORMAT_VERSION, "state_dict": state, "meta": meta.to_dict()}
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    with atomic_write(path) as f:
        f.write(data)
    with atomic_write(path.with_name(path.name + ".sha256"), "w") as f:
        f.write(f"{digest}  {path.name}\n")
    return digest


def _refused_global(error: Exception) -> str:
    """The object a refused pickle asked for, as torch names it (``numpy.core.multiarray._reconstruct``)."""
    found = re.search(r"unsupported global:? (?:GLOBAL )?(\S+)", str(error), re.IGNORECASE)
    return found[1] if found else "an object outside the allowed set"


def safe_torch_load(path: str | Path, *, mmap: bool = False) -> Any:
    """``torch.load(path, weights_only=True)`` with every failure turned into a :class:`CheckpointError`.

    A file that cannot be a torch checkpoint (text, an empty file, a truncated or foreign zip, a plain
    pickle, ...) is refused before torch reads it, saying what it looks like. A pickle that asks for
    anything beyond tensors and plain containers is refused unexecuted; truncated files are refused
    with the reason.

    Args:
        path: the file.
        mmap: map the tensors' storage instead of reading it (cheap when only the record or the
            key names are needed); files in torch's legacy (pre-1.6) format are read whole.
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"checkpoint file not found: {path}")
    require_torch_file(path)
    try:
        if mmap and zipfile.is_zipfile(path):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:  # require_torch_file refused what is no torch file at all
        raise CheckpointError(
            f"{path} was refused: it asks to build objects other than tensors and plain containers "
            f"({_refused_global(e)}), so it was not loaded and nothing in it was run. Use a checkpoint from a "
            "trusted source, saved as a plain dict of tensors."
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, IndexError, KeyError, TypeError,
            AttributeError) as e:
        raise CheckpointError(
            f"{path} is not a readable torch checkpoint (truncated or corrupt?): {type(e).__name__}: "
            f"{str(e).splitlines()[0].rstrip('.') if str(e) else ''}. Re-download or re-create it."
        ) from None


def _checkpoint_record(payload: Any, path: Path) -> tuple[dict, CheckpointMeta]:
    """The state dict and meta of a loaded realnet checkpoint payload, its format checked."""
    if not is_checkpoint_payload(payload):
        found = sorted(payload)[:8] if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointError(
            f"{path} is not a realnet checkpoint (expected a dict with format={FORMAT!r}; found {found}). "
            "For weight files from elsewhere use `realnet import-weights FILE --as IDENTIFIER`."
        )
    if payload.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} has checkpoint format version {payload.get('format_version')!r}; this package reads "
            f"version {FORMAT_VERSION}. Upgrade realnet-plugins."
        )
    meta_d = payload.get("meta")
    state = payload.get("state_dict")
    if not isinstance(meta_d, dict) or not isinstance(state, dict):
        raise CheckpointError(f"{path} lacks its 'meta' or 'state_dict' record")
    missing = [k for k in _META_REQUIRED if k not in meta_d]
    if missing:
        raise CheckpointError(f"{path}: meta lacks {missing}")
    return state, CheckpointMeta.from_dict(meta_d)


def is_checkpoint_payload(payload: Any) -> bool:
    """Whether a loaded file is in the realnet checkpoint format (rather than a foreign weight file)."""
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def read_checkpoint_meta(path: str | Path) -> CheckpointMeta:
    """The ``meta`` record of a realnet checkpoint file, without reading or verifying its weights.

    For listings and decisions about a file (``realnet list``, where a training run's initial
    weights come from); loading the model goes through :func:`load_checkpoint`, which verifies.

    Raises:
        MissingFileError: no such file.
        CheckpointError: not a realnet checkpoint.
    """
    path = Path(path)
    return _checkpoint_record(safe_torch_load(path, mmap=True), path)[1]


def read_checkpoint(path: str | Path, *, verify: bool = True) -> tuple[dict[str, torch.Tensor], CheckpointMeta, str]:
    """Read and verify a realnet checkpoint file; return (state_dict, meta, file sha256).

    Raises:
        CheckpointError: not a realnet checkpoint, sha256 mismatch, or incomplete meta.
    """
    path = Path(path)
    digest = sha256_file(path) if path.is_file() else ""
    state, meta = _checkpoint_record(safe_torch_load(path), path)
    if verify:
        sidecar = path.with_name(path.name + ".sha256")
        if sidecar.is_file():
            recorded = sidecar.read_text().split()[0] if sidecar.read_text().strip() else ""
            if recorded != digest:
                raise CheckpointError(
                    f"{path}: sha256 {digest[:16]}… does not match the recorded {recorded[:16]}… in {sidecar.name}; "
                    "the file was changed or damaged after it was written. Re-create or re-import it."
                )
        actual = weights_digest(state)
        if actual != meta.weights_sha256:
            raise CheckpointError(
                f"{path}: the weights do not match their recorded digest (expected {meta.weights_sha256[:16]}…, "
                f"found {actual[:16]}…); the file was edited or damaged. Re-create or re-import it."
            )
    return state, meta, digest


def build_model_from_state(state: Mapping[str, torch.Tensor], meta: CheckpointMeta, *,
                           expected_backbone: str | None = None) -> ReAlnet:
    """Rebuild the :class:`ReAlnet` module described by ``meta`` and load ``state`` strictly.

    Raises:
        CheckpointError: wrong backbone, or any missing, unexpected or mis-shaped tensor (all listed).
    """
    if expected_backbone is not None and meta.backbone != expected_backbone:
        raise CheckpointError(
            f"checkpoint is for backbone {meta.backbone!r}, but {expected_backbone!r} was expected"
        )
    backbone_spec(meta.backbone)
    model = ReAlnet(meta.backbone, image_size=meta.image_size, eeg_head=meta.has_eeg_head)
    load_state_strict(model, state,
                      what=f"{meta.backbone} ReAlnet (image_size={meta.image_size}, eeg_head={meta.has_eeg_head})")
    return model.eval()


def load_state_strict(module: torch.nn.Module, state: Mapping[str, torch.Tensor], *, what: str) -> None:
    """Load ``state`` into ``module``, requiring every key consumed and every shape equal.

    Raises:
        CheckpointError: listing missing keys, unexpected keys and shape mismatches.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    mism = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
            for k in sorted(set(own) & set(state)) if tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or mism:
        def fmt(items: list[str]) -> str:
            return ", ".join(items[:12]) + (f" … (+{len(items) - 12} more)" if len(items) > 12 else "")
        parts = [f"the weights do not fit {what}:"]
        if missing:
            parts.append(f"{len(missing)} missing: {fmt(missing)}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected: {fmt(unexpected)}")
        if mism:
            parts.append(f"{len(mism)} shape mismatches: {fmt(mism)}")
        raise CheckpointError("\n  ".join(parts))
    module.load_state_dict(dict(state), strict=True)


def _load(path: Path, *, expected_backbone: str | None, verify: bool) -> LoadedCheckpoint:
    state, meta, digest = read_checkpoint(path, verify=verify)
    try:
        model = build_model_from_state(state, meta, expected_backbone=expected_backbone)
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}") from None
    return LoadedCheckpoint(model=model, meta=meta, path=path, sha256=digest)


def load_checkpoint(path: str | os.PathLike, *, verify: bool = True) -> LoadedCheckpoint:
    """Load the realnet checkpoint file ``path`` (for an identifier use :func:`load_model_checkpoint`).

    Returns a fresh module each call: two loads never share parameters.

    Raises:
        MissingFileError: no such file.
        CheckpointError: a corrupt, tampered or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        hint = (f" ({str(path)!r} is a model identifier: load it with load_model_checkpoint)"
                if is_paper_identifier(str(path)) else "")
        raise MissingFileError(f"checkpoint file not found: {path}{hint}")
    return _load(path, expected_backbone=None, verify=verify)


def load_model_checkpoint(identifier: str, *, verify: bool = True) -> LoadedCheckpoint:
    """Load the checkpoint of a Brain-Score identifier from ``$REALNET_HOME/checkpoints/<identifier>.pt``.

    Returns a fresh module each call: two loads never share parameters.

    Raises:
        ValueError: not an identifier of the paper (the message lists the valid forms).
        MissingFileError: no checkpoint yet (the message says how to make one).
        CheckpointError: a corrupt or tampered file, or one of another backbone.
    """
    path = checkpoint_path(identifier)
    if not path.is_file():
        raise MissingFileError(missing_checkpoint_message(identifier))
    return _load(path, expected_backbone=parse_identifier(identifier).backbone, verify=verify)


def resolve_file_or_identifier(text: str | os.PathLike, *, what: str = "model") -> tuple[Path | None, str | None]:
    """Decide whether a name typed by a user is a file or a Brain-Score identifier.

    The rule: a path object is a file; a string that is one of the paper's identifiers (and not
    also an existing file) is that identifier; an existing file is that file. A string that is
    both, or neither, is refused with the forms that work.

    Args:
        text: what the user gave.
        what: what it should name, for messages (``"model"``, ``"init weights"``).

    Returns:
        ``(file, None)`` or ``(None, identifier)``.

    Raises:
        UsageError: both an identifier and an existing file (ambiguous).
        MissingFileError: neither an identifier nor an existing file.
    """
    if isinstance(text, os.PathLike):
        return Path(text), None
    path = Path(text).expanduser()
    identifier = is_paper_identifier(text)
    if identifier and path.is_file():
        raise UsageError(f"{what} {text!r} is both a model identifier and a file in this folder; write ./{text} for "
                         "the file, or run from another folder for the identifier")
    if identifier:
        return None, str(text)
    if path.is_file():
        return path, None
    if os.sep in str(text) or path.suffix in (".pt", ".pth"):  # meant as a file: say which one is missing
        raise MissingFileError(f"checkpoint file not found: {path} (the {what} given); check the path, or give a "
                               "model identifier such as realnet_s01 (`realnet list` shows them all)")
    raise MissingFileError(
        f"{what} {text!r} is neither an existing file nor a model identifier: give a file path, or an identifier "
        "such as realnet_s01 or realnet_base_cornet_s (`realnet list` shows them all)"
    )


def load_file_or_identifier(text: str | os.PathLike, *, verify: bool = True) -> LoadedCheckpoint:
    """Load a checkpoint named by a user: a file or an identifier, per :func:`resolve_file_or_identifier`."""
    path, identifier = resolve_file_or_identifier(text)
    if identifier is not None:
        return load_model_checkpoint(identifier, verify=verify)
    return load_checkpoint(path, verify=verify)
