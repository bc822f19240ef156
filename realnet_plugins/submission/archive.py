"""Write Brain-Score plugin folders into the zip layout brain-score.org accepts.

The website unpacks a submission and uses its single top-level folder (hidden ``.x`` and ``_x``
entries aside); inside it, plugin folders sit under ``models/``, ``benchmarks/``, ``data/`` or
``metrics/``, and each plugin folder needs an ``__init__.py`` and a ``test.py``. The website's check
looks for the folders' own entries (``top/models/``, ``top/models/<name>/``), so every folder is
written as an entry too. Entries are sorted and time-stamped 1980-01-01, so the same folders give
the same bytes.

    submission.zip
    └── <top>/
        └── models/<plugin>/__init__.py, model.py, test.py, ...   (+ benchmarks/<plugin>/, data/<plugin>/)
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable

from realnet_plugins.errors import UsageError
from realnet_plugins.storage import atomic_write

#: Plugin kinds brain-score.org accepts in a submission.
PLUGIN_KINDS = ("models", "benchmarks", "data", "metrics")
#: Default top-level folder of a submission zip.
DEFAULT_TOP_FOLDER = "realnet_submission"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass
class PluginFolder:
    """One Brain-Score plugin folder, in memory.

    Attributes:
        kind: ``'models'``, ``'benchmarks'``, ``'data'`` or ``'metrics'``.
        name: the folder name (a Python identifier: it is imported as ``brainscore_vision.<kind>.<name>``).
        files: path inside the folder (``'model.py'``, ``'realnet_lib/checkpoints.py'``) → content.
    """

    kind: str
    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)

    def check(self) -> None:
        """Raise ``ValueError`` when the folder could not be a Brain-Score plugin."""
        if self.kind not in PLUGIN_KINDS:
            raise ValueError(f"plugin kind must be one of {PLUGIN_KINDS}, got {self.kind!r}")
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"plugin folder name must be a Python identifier, got {self.name!r}")
        for required in ("__init__.py", "test.py"):
            if required not in self.files:
                raise ValueError(f"plugin folder {self.kind}/{self.name} lacks {required}")
        for path in self.files:
            pure = PurePosixPath(path)
            if pure.is_absolute() or ".." in pure.parts or not pure.parts:
                raise ValueError(f"{path!r} is not a path inside the plugin folder")


def submission_bytes(folders: Iterable[PluginFolder], top: str = DEFAULT_TOP_FOLDER) -> bytes:
    """The zip archive of ``folders`` under one top-level folder ``top``, as bytes.

    Raises:
        ValueError: an invalid folder, or two folders with the same kind and name.
    """
    folders = list(folders)
    if not _NAME.fullmatch(top):
        raise ValueError(f"top-level folder name must be a plain name, got {top!r}")
    entries: dict[str, bytes | None] = {f"{top}/": None}
    for folder in folders:
        folder.check()
        root = f"{top}/{folder.kind}/{folder.name}/"
        if root in entries:
            raise ValueError(f"two plugin folders named {folder.kind}/{folder.name}")
        entries[f"{top}/{folder.kind}/"] = None
        entries[root] = None
        for path, content in folder.files.items():
            parts = PurePosixPath(path).parts
            for depth in range(1, len(parts)):
                entries[root + "/".join(parts[:depth]) + "/"] = None
            entries[root + path] = content.encode("utf-8") if isinstance(content, str) else content
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            content = entries[name]
            if content is None:
                info.external_attr = (0o40755 << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, content)
    return buffer.getvalue()


def check_output_path(out: str | Path, *, overwrite: bool) -> Path:
    """Validate where a submission zip goes, before anything is built.

    Raises:
        UsageError: the name does not end in ``.zip``, it is a folder, or it exists and ``overwrite``
            is False.
    """
    out = Path(out)
    if out.suffix.lower() != ".zip":
        raise UsageError(f"the submission file must end in .zip (brain-score.org takes a zip file); got {out}")
    if out.is_dir():
        raise UsageError(f"{out} is a folder; give the path of the .zip file to write")
    if out.exists() and not overwrite:
        raise UsageError(f"{out} exists already; pass --overwrite to replace it, or choose another --out")
    return out


def write_submission_zip(folders: Iterable[PluginFolder], out: str | Path, *, top: str = DEFAULT_TOP_FOLDER,
                         overwrite: bool = False) -> Path:
    """Write the submission zip atomically (an interrupted write leaves no partial file); return its path.

    Raises:
        UsageError: see :func:`check_output_path`.
    """
    out = check_output_path(out, overwrite=overwrite)
    data = submission_bytes(folders, top)
    with atomic_write(out) as f:
        f.write(data)
    return out
