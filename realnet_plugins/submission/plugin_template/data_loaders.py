"""Loaders of this data plugin: Brain-Score's own S3 loaders, refusing values that are not filled in yet.

The registration lines in ``__init__.py`` pass upstream's arguments (identifier, bucket, sha1s,
S3 version ids) to :func:`assembly_from_s3` and :func:`stimulus_set_from_s3`. Values only known
after the Brain-Score team has uploaded the files start with :data:`PLACEHOLDER` (README.md says
which to fill in). Upstream's loaders read ``$BRAINIO_HOME/<sha1>/<file>`` when it is there and
download it otherwise, so:

* a placeholder version id is accepted when the file is already in ``$BRAINIO_HOME/<sha1>/`` (to
  test the plugin before the upload);
* otherwise any placeholder raises :class:`NotUploadedError`, which says what to do, instead of
  an S3 error about a version id that does not exist.

Once every value is filled in, both functions only call ``load_assembly_from_s3`` /
``load_stimulus_set_from_s3`` with the same arguments.

This file is a template of realnet-plugins (``realnet_plugins/submission/plugin_template``), copied
unchanged into each generated data plugin as ``loaders.py``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from brainscore_core.supported_data_standards.brainio.fetch import get_local_data_path
from brainscore_core.supported_data_standards.brainio.s3 import load_assembly_from_s3, load_stimulus_set_from_s3

PLACEHOLDER = "FILL-IN"
PLUGIN_DIR = Path(__file__).resolve().parent


class NotUploadedError(FileNotFoundError):
    """A registration still holds a placeholder and the file is not in ``$BRAINIO_HOME``."""


def store_file_name(identifier: str, prefix: str, extension: str) -> str:
    """The file name upstream's loaders derive from an identifier (``assy_``/``stimulus_`` + dots as ``_``)."""
    return f"{prefix}{identifier.replace('.', '_')}.{extension}"


def _unfilled(arguments: dict[str, Any]) -> list[str]:
    return [name for name, value in arguments.items() if isinstance(value, str) and value.startswith(PLACEHOLDER)]


def _cached(sha1: str, file_name: str) -> Path:
    return Path(get_local_data_path()) / sha1 / file_name


def _refuse(identifier: str, unfilled: list[str], files: list[str], bucket: str, local: list[Path]) -> None:
    where = " and ".join(str(path) for path in local) if local else "$BRAINIO_HOME/<sha1>/<file>"
    raise NotUploadedError(
        f"{identifier}: {', '.join(unfilled)} in {PLUGIN_DIR / '__init__.py'} still start with {PLACEHOLDER!r}: "
        f"{' and '.join(files)} {'is' if len(files) == 1 else 'are'} not uploaded to {bucket} yet and not in {where}. "
        "Upload the files and fill in the values (README.md in that folder lists them), or place the files there "
        "to test before the upload")


def assembly_from_s3(**arguments: Any) -> Any:
    """``load_assembly_from_s3(**arguments)``, once the file is uploaded or in ``$BRAINIO_HOME`` (module docstring).

    Raises:
        NotUploadedError: a placeholder is left and the file is not in ``$BRAINIO_HOME/<sha1>/``.
    """
    unfilled = _unfilled(arguments)
    file_name = store_file_name(arguments["identifier"], "assy_", "nc")
    if unfilled:
        local = [] if "sha1" in unfilled else [_cached(arguments["sha1"], file_name)]
        if unfilled != ["version_id"] or not local[0].is_file():
            _refuse(arguments["identifier"], unfilled, [file_name], arguments["bucket"], local)
    return load_assembly_from_s3(**arguments)


def stimulus_set_from_s3(**arguments: Any) -> Any:
    """``load_stimulus_set_from_s3(**arguments)``, once the csv and zip are uploaded or in ``$BRAINIO_HOME``.

    Raises:
        NotUploadedError: a placeholder is left and the files are not in ``$BRAINIO_HOME/<sha1>/``.
    """
    unfilled = _unfilled(arguments)
    prefix = arguments.get("filename_prefix") or "stimulus_"
    names = {kind: store_file_name(arguments["identifier"], prefix, kind) for kind in ("csv", "zip")}
    if unfilled:
        sha1s_known = not {"csv_sha1", "zip_sha1"} & set(unfilled)
        local = [_cached(arguments[f"{kind}_sha1"], name) for kind, name in names.items()] if sha1s_known else []
        if not sha1s_known or not all(path.is_file() for path in local):
            _refuse(arguments["identifier"], unfilled, list(names.values()), arguments["bucket"], local)
    return load_stimulus_set_from_s3(**arguments)
