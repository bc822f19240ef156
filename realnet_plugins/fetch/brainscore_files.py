"""Where published weight files live, read from the installed Brain-Score plugins' own files.

Brain-Score's in-tree plugins record the S3 location of the weights they load:

- ``brainscore_vision/models/ReAlnet/weights.json`` holds one S3 version id and one sha1 per published
  ReAlnet (``ReAlnet01`` … ``ReAlnet10``); its ``model.py`` calls
  ``load_weight_file(bucket=..., folder_name=..., relative_path=f"ReAlnet/{identifier}_best_model_params.pt",
  version_id=..., sha1=...)``.
- ``brainscore_vision/models/cornet_s/model.py`` calls ``load_weight_file`` with the CORnet-S ImageNet
  file's bucket, folder, path, version id and sha1 as literals.

``brainscore_core.supported_data_standards.brainio.s3.load_weight_file`` fetches
``s3://<bucket>/<folder_name>/<relative_path>`` at ``VersionId=<version_id>`` through boto3 and does
not check the sha1 (its docstring marks it deprecated). The same object is public over HTTPS at
``https://<bucket>.s3.amazonaws.com/<folder_name>/<relative_path>?versionId=<version_id>`` (S3's
GET Object with a ``versionId`` query parameter; ``null`` names the version stored before
versioning was enabled).

The plugin files are located with :func:`importlib.util.find_spec` and parsed with :mod:`ast`;
nothing of Brain-Score is imported or run.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from realnet_plugins.errors import DataFormatError, MissingFileError

#: Brain-Score's identifiers of the published ReAlnets: ``ReAlnet01`` … ``ReAlnet10``.
_REALNET_ID = re.compile(r"^ReAlnet(\d{2})$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class S3WeightFile:
    """One weight file as a Brain-Score plugin records it.

    Attributes:
        bucket: S3 bucket (``brainscore-storage``).
        folder_name: key prefix inside the bucket (``brainscore-vision/models``).
        relative_path: key below ``folder_name`` (``ReAlnet/ReAlnet01_best_model_params.pt``).
        version_id: S3 object version (``null`` for objects stored before versioning).
        sha1: the sha1 the plugin records (Brain-Score itself never checks it).
        recorded_in: the plugin file(s) these values were read from.
    """

    bucket: str
    folder_name: str
    relative_path: str
    version_id: str
    sha1: str
    recorded_in: str

    @property
    def url(self) -> str:
        """Public HTTPS address of this object version."""
        key = quote(f"{self.folder_name}/{self.relative_path}")
        return f"https://{self.bucket}.s3.amazonaws.com/{key}?versionId={quote(self.version_id, safe='')}"


def brainscore_models_dir() -> Path:
    """The installed ``brainscore_vision/models`` folder (located, not imported).

    Raises:
        MissingFileError: when brainscore-vision is not installed.
    """
    try:
        spec = importlib.util.find_spec("brainscore_vision")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise MissingFileError(
            "brainscore-vision is not installed: the published ReAlnet and CORnet-S weight locations are read from "
            "its plugin files (models/ReAlnet/weights.json, models/cornet_s/model.py). "
            "Install it with `pip install brainscore-vision==2.4.2`."
        )
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def _load_weight_file_call(path: Path) -> ast.Call:
    """The single ``load_weight_file(...)`` call in a plugin's ``model.py``."""
    if not path.is_file():
        raise MissingFileError(f"Brain-Score plugin file not found: {path}")
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == "load_weight_file")
        or (isinstance(node.func, ast.Attribute) and node.func.attr == "load_weight_file"))]
    if len(calls) != 1:
        raise DataFormatError(
            f"{path}: expected one load_weight_file(...) call, found {len(calls)}; this realnet-plugins reads the "
            "weight locations of brainscore-vision 2.4.x"
        )
    return calls[0]


def _literal(call: ast.Call, name: str, path: Path) -> str:
    for keyword in call.keywords:
        if keyword.arg == name and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str):
            return keyword.value.value
    raise DataFormatError(f"{path}: load_weight_file(...) has no literal string argument {name}=")


def _template(call: ast.Call, name: str, path: Path) -> tuple[str, str]:
    """(template with one ``{}`` field, the f-string's variable name) of an f-string argument."""
    for keyword in call.keywords:
        if keyword.arg != name:
            continue
        value = keyword.value
        if isinstance(value, ast.JoinedStr):
            parts, names = [], []
            for piece in value.values:
                if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                    parts.append(piece.value.replace("{", "{{").replace("}", "}}"))
                elif (isinstance(piece, ast.FormattedValue) and isinstance(piece.value, ast.Name)
                      and piece.format_spec is None and piece.conversion == -1):
                    parts.append("{}")
                    names.append(piece.value.id)
                else:
                    break
            else:
                if len(names) == 1:
                    return "".join(parts), names[0]
        raise DataFormatError(
            f"{path}: expected {name}= to be an f-string with one variable (f\"ReAlnet/{{identifier}}_...\"); "
            f"found {ast.unparse(value)}"
        )
    raise DataFormatError(f"{path}: load_weight_file(...) has no {name}= argument")


def published_realnet_weights(models_dir: Path | None = None) -> dict[int, S3WeightFile]:
    """The published ReAlnet checkpoints, by subject, as Brain-Score's ReAlnet plugin records them.

    Args:
        models_dir: a ``brainscore_vision/models`` folder (default: the installed one).

    Returns:
        subject number (1..10) → :class:`S3WeightFile` with the version id and sha1 of ``weights.json``
        and the path built from ``model.py``'s f-string.

    Raises:
        MissingFileError: brainscore-vision or the plugin files are missing.
        DataFormatError: the files no longer have the layout read here.
    """
    folder = (models_dir or brainscore_models_dir()) / "ReAlnet"
    weights_json, model_py = folder / "weights.json", folder / "model.py"
    if not weights_json.is_file():
        raise MissingFileError(f"Brain-Score's ReAlnet plugin has no weights.json at {weights_json}")
    try:
        record = json.loads(weights_json.read_text(encoding="utf-8"))
        version_ids, sha1s = dict(record["version_ids"]), dict(record["sha1s"])
    except (ValueError, KeyError, TypeError) as error:
        raise DataFormatError(
            f"{weights_json}: expected a JSON object with 'version_ids' and 'sha1s' maps ({error})"
        ) from None
    call = _load_weight_file_call(model_py)
    template, _ = _template(call, "relative_path", model_py)
    bucket, folder_name = _literal(call, "bucket", model_py), _literal(call, "folder_name", model_py)
    files: dict[int, S3WeightFile] = {}
    for identifier in sorted(version_ids):
        match = _REALNET_ID.match(identifier)
        sha1 = str(sha1s.get(identifier, "")).lower()
        if match is None or not _HEX40.match(sha1):
            raise DataFormatError(
                f"{weights_json}: expected ReAlnetNN entries with a 40-hex sha1; found {identifier!r} with sha1 "
                f"{sha1s.get(identifier)!r}"
            )
        files[int(match.group(1))] = S3WeightFile(
            bucket=bucket, folder_name=folder_name, relative_path=template.format(identifier),
            version_id=str(version_ids[identifier]), sha1=sha1,
            recorded_in=f"{weights_json} and {model_py}",
        )
    if not files:
        raise DataFormatError(f"{weights_json}: no ReAlnet entries")
    return files


def cornet_s_weights(models_dir: Path | None = None) -> S3WeightFile:
    """The CORnet-S ImageNet weight file as Brain-Score's ``models/cornet_s/model.py`` records it.

    Raises:
        MissingFileError, DataFormatError: as :func:`published_realnet_weights`.
    """
    model_py = (models_dir or brainscore_models_dir()) / "cornet_s" / "model.py"
    call = _load_weight_file_call(model_py)
    sha1 = _literal(call, "sha1", model_py).lower()
    if not _HEX40.match(sha1):
        raise DataFormatError(f"{model_py}: expected a 40-hex sha1, found {sha1!r}")
    return S3WeightFile(
        bucket=_literal(call, "bucket", model_py), folder_name=_literal(call, "folder_name", model_py),
        relative_path=_literal(call, "relative_path", model_py), version_id=_literal(call, "version_id", model_py),
        sha1=sha1, recorded_in=str(model_py),
    )
