"""The self-contained Brain-Score model plugin folder for a set of ReAlnet checkpoints.

:func:`build_model_plugin` turns verified checkpoints into a :class:`~.archive.PluginFolder`:

    <plugin>/__init__.py        one literal ``model_registry['<id>'] = lambda: get_model('<id>')`` line per id
    <plugin>/model.py           downloads <weights URL>/<id>.pt, checks size, sha256 and sha1, builds the model
    <plugin>/realnet_lib/...    this package's code the plugin runs (see :mod:`.codegen`)
    <plugin>/weights.json       base URL and, per id, file name, size, sha256, sha1, backbone, image size ...
    <plugin>/test.py            Brain-Score runs ``pytest -m "not slow" test.py``
    <plugin>/requirements.txt   pip-installable dependencies of the carried code (never realnet-plugins)
    <plugin>/metadata.yml       computed from the checkpoints' networks (see :mod:`.metadata`)
    <plugin>/README.md          where to upload the weights files

The checkpoint files are not in the plugin: they are uploaded to the weights URL, each under its own
file name ``<id>.pt``.
"""
from __future__ import annotations

import fnmatch
import importlib.util
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from realnet_plugins import __version__
from realnet_plugins.checkpoints import CheckpointMeta, checkpoint_path, read_checkpoint
from realnet_plugins.errors import CheckpointError, MissingFileError, UsageError
from realnet_plugins.identifiers import all_identifiers, parse_identifier
from realnet_plugins.paths import checkpoints_dir
from realnet_plugins.submission import DEFAULT_PLUGIN_NAME
from realnet_plugins.submission.archive import PluginFolder
from realnet_plugins.submission.codegen import LIBRARY_NAME, generate_library, requirements
from realnet_plugins.submission.metadata import ModelFacts, metadata_document, to_yaml
from realnet_plugins.submission.weights import (
    FileDigests,
    check_weights_url,
    file_digests,
    structure_digest,
    weights_file_url,
)

log = logging.getLogger(__name__)

#: Names a generated plugin may never take: this package installs its own plugin there.
RESERVED_PLUGIN_NAMES = frozenset({"realnet"})
TEMPLATE_DIR = Path(__file__).resolve().parent / "plugin_template"
_PLUGIN_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class CheckpointRecord:
    """A verified checkpoint to submit.

    Attributes:
        identifier: its Brain-Score identifier.
        path: the local file (``$REALNET_HOME/checkpoints/<identifier>.pt``).
        meta: its record.
        digests: size, sha256 and sha1 of the file's bytes.
        structure_sha256: digest of its tensors' names, dtypes and shapes.
    """

    identifier: str
    path: Path
    meta: CheckpointMeta
    digests: FileDigests
    structure_sha256: str


def select_identifiers(patterns: Sequence[str]) -> list[str]:
    """Identifiers named by ``patterns`` whose checkpoints exist, in registration order.

    A pattern with ``*``, ``?`` or ``[`` selects the matching paper identifiers that have a checkpoint
    under ``$REALNET_HOME``; a plain identifier must have one.

    Raises:
        UsageError: a pattern matches no paper identifier, or none of its identifiers has a checkpoint.
        MissingFileError: a plain identifier has no checkpoint.
    """
    known = all_identifiers()
    selected: set[str] = set()
    for pattern in patterns:
        matched = [identifier for identifier in known if fnmatch.fnmatchcase(identifier, pattern)]
        if not matched:
            raise UsageError(f"{pattern!r} matches no ReAlnet identifier; use e.g. realnet_s01, 'realnet_s*' or "
                             "'realnet_r_s0[1-3]' (`realnet list` shows every identifier)")
        present = [identifier for identifier in matched if checkpoint_path(identifier).is_file()]
        if not present and not any(ch in pattern for ch in "*?["):
            raise MissingFileError(f"no checkpoint for {pattern!r}: expected {checkpoint_path(pattern)}; train or "
                                   "import it first (`realnet list` shows which checkpoints exist)")
        if not present:
            raise UsageError(f"{pattern!r} matches {len(matched)} identifiers, but none has a checkpoint under "
                             f"{checkpoints_dir()}; train or import them first (`realnet list` shows which exist)")
        selected.update(present)
    return [identifier for identifier in known if identifier in selected]


def read_records(identifiers: Iterable[str]) -> list[CheckpointRecord]:
    """Read and verify each identifier's checkpoint (file sha256 sidecar, tensor digest, backbone).

    Raises:
        CheckpointError: a damaged or edited file, or one made for another backbone than its name says.
    """
    records = []
    for identifier in identifiers:
        path = checkpoint_path(identifier)
        state, meta, sha256 = read_checkpoint(path)
        expected = parse_identifier(identifier).backbone
        if meta.backbone != expected:
            raise CheckpointError(f"{path} holds a {meta.backbone} network, but {identifier} is a {expected} "
                                  "identifier; re-import it under the right identifier")
        digests = file_digests(path)
        if digests.sha256 != sha256:
            raise CheckpointError(f"{path} changed while it was being read; run the command again")
        records.append(CheckpointRecord(identifier, path, meta, digests, structure_digest(state)))
        log.info("verified %s (sha256 %s)", path, sha256)
    return records


def _installed_model_folders() -> set[str]:
    """Lower-cased folder names under the installed ``brainscore_vision/models`` (empty without Brain-Score)."""
    spec = importlib.util.find_spec("brainscore_vision")
    if spec is None or not spec.submodule_search_locations:
        return set()
    folders = set()
    for location in spec.submodule_search_locations:
        models = Path(location) / "models"
        if models.is_dir():
            folders.update(p.name.lower() for p in models.iterdir() if p.is_dir())
    return folders


def check_plugin_name(name: str) -> str:
    """Validate the plugin folder name of a submission.

    Raises:
        UsageError: not a lower-case Python identifier, or the name (ignoring case) of this package's own
            plugin or of a folder already in the installed ``brainscore_vision/models``.
    """
    if not _PLUGIN_NAME.fullmatch(name):
        raise UsageError(f"the plugin name must be lower-case letters, digits and _ starting with a letter "
                         f"(it becomes the folder brainscore_vision/models/<name>); got {name!r}")
    if name.lower() in RESERVED_PLUGIN_NAMES or name.lower() in _installed_model_folders():
        raise UsageError(f"a model plugin folder named {name!r} exists already in Brain-Score or in realnet-plugins "
                         f"(names are compared ignoring case); choose another, e.g. {DEFAULT_PLUGIN_NAME}")
    return name


def _weights_record(record: CheckpointRecord) -> dict:
    meta = record.meta
    return {
        "file": record.path.name,
        "size": record.digests.size,
        "sha256": record.digests.sha256,
        "sha1": record.digests.sha1,
        "backbone": meta.backbone,
        "variant": meta.variant,
        "subject": meta.subject,
        "beta": float(meta.beta),
        "image_size": int(meta.image_size),
        "has_eeg_head": bool(meta.has_eeg_head),
        "weights_sha256": meta.weights_sha256,
        "structure_sha256": record.structure_sha256,
    }


def registration_lines(identifiers: Iterable[str]) -> list[str]:
    """One literal registration line per identifier.

    Brain-Score finds identifiers by taking what lies between the first ``[`` and the last ``]`` of
    such a line, so nothing else on it may hold brackets.
    """
    lines = []
    for identifier in identifiers:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", identifier):
            raise ValueError(f"identifier {identifier!r} cannot be written on a registration line")
        lines.append(f"model_registry['{identifier}'] = lambda: get_model('{identifier}')")
    return lines


def _init_text(identifiers: list[str], plugin_name: str) -> str:
    return (
        f'"""Brain-Score model plugin {plugin_name}: {len(identifiers)} ReAlnet models (Lu, Wang & Golomb 2026).\n\n'
        f"Generated by realnet-plugins {__version__}. One literal registration line per identifier (Brain-Score\n"
        "finds plugins by reading these lines); model.py downloads and verifies each model's weights.\n"
        '"""\n'
        "from brainscore_vision import model_registry\n\n"
        "from .model import get_model\n\n"
        + "\n".join(registration_lines(identifiers)) + "\n"
    )


def _readme_text(records: list[CheckpointRecord], base_url: str, plugin_name: str) -> str:
    rows = "\n".join(
        f"| `{r.path.name}` | {r.digests.size} | `{r.digests.sha256}` | {weights_file_url(base_url, r.path.name)} |"
        for r in records)
    return f"""# {plugin_name}: ReAlnet models for Brain-Score

Generated by realnet-plugins {__version__} for {len(records)} model(s): {", ".join(r.identifier for r in records)}.
ReAlnets are CORnet-S / ResNet18 networks aligned to human EEG (Lu, Wang & Golomb 2026,
Communications Biology 9:463, https://doi.org/10.1038/s42003-026-09685-w).

## Before submitting: upload the weights files

The plugin downloads each model's weights from `{base_url}/<identifier>.pt`. Upload these files,
unchanged and under these names, into that one folder, so that each is publicly downloadable at
the address in the last column:

| file | bytes | sha256 | downloaded from |
|---|---|---|---|
{rows}

Each download is checked against the size, sha256 and sha1 recorded in `weights.json`; any other
file is refused and deleted, never loaded. A re-trained or re-saved checkpoint needs a new plugin
(`realnet submission`).

## Submitting

Upload the zip file on brain-score.org (vision, submit a model, zip file). It unpacks to one
folder holding `models/{plugin_name}/`. Brain-Score installs `requirements.txt`, runs its generic
plugin tests on every identifier and `pytest -m "not slow" test.py`, then scores the models.

## Contents

- `__init__.py`: one registration line per identifier.
- `model.py`: downloads and verifies the weights, builds the model.
- `{LIBRARY_NAME}/`: the code of realnet-plugins the plugin runs, copied from the package (do not edit).
- `weights.json`: the weights files' URL folder, sizes and digests, and what each checkpoint holds.
- `metadata.yml`: Brain-Score metadata, computed from the networks.
- `requirements.txt`, `test.py`.
"""


def build_model_plugin(records: Sequence[CheckpointRecord], weights_url: str,
                       plugin_name: str = DEFAULT_PLUGIN_NAME) -> PluginFolder:
    """The model plugin folder for ``records``, downloading weights from ``weights_url``.

    Args:
        records: verified checkpoints (:func:`read_records`), registered in this order.
        weights_url: http(s) URL of the folder that will hold ``<identifier>.pt`` for each record.
        plugin_name: the folder name (:func:`check_plugin_name`).

    Raises:
        UsageError: no records, a bad URL or a bad plugin name.
    """
    if not records:
        raise UsageError("no models to submit")
    base_url = check_weights_url(weights_url)
    check_plugin_name(plugin_name)
    identifiers = [r.identifier for r in records]
    library = generate_library()
    model_py = (TEMPLATE_DIR / "model.py").read_text(encoding="utf-8")
    weights = {
        "generated_by": f"realnet-plugins {__version__}",
        "base_url": base_url,
        "files": {r.identifier: _weights_record(r) for r in records},
    }
    facts = [ModelFacts(r.identifier, int(r.meta.image_size), bool(r.meta.has_eeg_head),
                        f"{r.path.name} (sha256 {r.digests.sha256})", r.meta.source, r.meta.package_version)
             for r in records]
    files: dict[str, str | bytes] = {
        "__init__.py": _init_text(identifiers, plugin_name),
        "model.py": model_py,
        "test.py": (TEMPLATE_DIR / "test.py").read_text(encoding="utf-8"),
        "weights.json": json.dumps(weights, indent=2) + "\n",
        "requirements.txt": "\n".join(requirements({**library, "model.py": model_py})) + "\n",
        "metadata.yml": to_yaml(metadata_document(facts, plugin_name=plugin_name)),
        "README.md": _readme_text(list(records), base_url, plugin_name),
    }
    files.update(library)
    return PluginFolder("models", plugin_name, files)
