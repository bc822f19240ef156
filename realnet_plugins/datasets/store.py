"""Where packaged data live, how a package folder is written atomically, and how it is found again.

Every packaged dataset has one folder under ``$REALNET_HOME/assemblies/<dataset>/``::

    <dataset>/<fingerprint>/manifest.json   what the package holds and what it was built from
    <dataset>/<fingerprint>/...             assemblies (netCDF), stimulus tables (CSV), RDMs (npz)
    <dataset>/current.json                  {"fingerprint": ...}: the package benchmarks read

A package folder is built under a hidden temporary name (``.<fingerprint>.<pid>.partial``) and
renamed into place only when every file in it is complete, so an error or Ctrl-C never leaves a
half-written package under a fingerprint. Leftovers of killed runs (whose process is gone) are
removed by the next packaging run.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.paths import assemblies_dir
from realnet_plugins.storage import atomic_write, cached_sha256, process_alive

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

#: Version of the package layout; part of every package fingerprint.
PACKAGE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
CURRENT_NAME = "current.json"
_PARTIAL = re.compile(r"^\.(?P<name>[^.]+)\.(?P<pid>\d+)\.[^.]+\.partial$")


def dataset_dir(dataset: str) -> Path:
    """``$REALNET_HOME/assemblies/<dataset>``: every package of one dataset."""
    return assemblies_dir() / dataset


def write_json(path: Path, record: Any) -> None:
    """Write ``record`` as indented JSON, atomically."""
    with atomic_write(path, "w") as handle:
        json.dump(record, handle, indent=2, sort_keys=True, default=str)
        handle.write("\n")


def read_json(path: Path) -> Any:
    """Read a JSON file the package wrote; a damaged file raises :class:`DataFormatError`."""
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise DataFormatError(
            f"{path} is not valid JSON ({error}); delete it and run `realnet package` again"
        ) from None


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete temporary package folders left by packaging runs whose process no longer exists.

    Returns:
        The folders removed.
    """
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _PARTIAL.match(entry.name)
        if match and entry.is_dir() and not process_alive(int(match.group("pid"))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
            logger.info("removed the unfinished package folder %s", entry)
    return removed


@contextlib.contextmanager
def staged_directory(final: Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``final``; rename it to ``final`` when the block succeeds.

    On any exception (KeyboardInterrupt included) the temporary folder is deleted and ``final`` is
    untouched. When ``final`` already exists at the end (another run finished the same package),
    the new copy is discarded: packages are immutable and named by their inputs.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{final.name}.{os.getpid()}.", suffix=".partial", dir=final.parent))
    try:
        yield temporary
        if final.exists():
            shutil.rmtree(temporary)
        else:
            os.replace(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def set_current(dataset: str, fingerprint: str) -> Path:
    """Point ``<dataset>/current.json`` at the package ``fingerprint``; returns the package folder."""
    folder = dataset_dir(dataset) / fingerprint
    if not (folder / MANIFEST_NAME).is_file():
        raise MissingFileError(f"no complete package at {folder} (its {MANIFEST_NAME} is missing)")
    write_json(dataset_dir(dataset) / CURRENT_NAME, {"fingerprint": fingerprint})
    return folder


def current_package_dir(dataset: str, package_command: str) -> Path:
    """The folder of the current package of ``dataset``.

    Args:
        dataset: ``"things_eeg2"`` or ``"shen2019"``.
        package_command: the command that makes the package, quoted in the error.

    Raises:
        MissingFileError: no package yet, or the current one was deleted.
    """
    pointer = dataset_dir(dataset) / CURRENT_NAME
    if not pointer.is_file():
        raise MissingFileError(
            f"no packaged {dataset} data under {dataset_dir(dataset)} ($REALNET_HOME={assemblies_dir().parent}); "
            f"run `{package_command}` first (it writes the assemblies and RDMs the benchmarks read)"
        )
    record = read_json(pointer)
    fingerprint = record.get("fingerprint") if isinstance(record, dict) else None
    folder = dataset_dir(dataset) / str(fingerprint)
    if not fingerprint or not (folder / MANIFEST_NAME).is_file():
        raise MissingFileError(
            f"{pointer} points at the package {fingerprint!r}, but {folder / MANIFEST_NAME} does not exist; "
            f"run `{package_command}` again"
        )
    return folder


def current_package_fingerprint(dataset: str, package_command: str) -> str:
    """The fingerprint of the current package of ``dataset`` (the name of :func:`current_package_dir`).

    Raises:
        MissingFileError: no package yet, or the current one was deleted.
    """
    return current_package_dir(dataset, package_command).name


class PackagedDataset:
    """A packaged data set read back from its folder: the manifest and what every package has.

    Subclasses set :attr:`dataset` (folder name under ``$REALNET_HOME/assemblies``) and
    :attr:`package_command` (the command that makes a package, quoted in errors).

    Args:
        folder: a package folder; default: the current package under ``$REALNET_HOME``.

    Raises:
        MissingFileError: no package (the message says which command makes one).
    """

    dataset: str
    package_command: str

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else current_package_dir(self.dataset, self.package_command)
        manifest_path = self.folder / MANIFEST_NAME
        if not manifest_path.is_file():
            raise MissingFileError(f"{manifest_path} does not exist; run `{self.package_command}`")
        self.manifest: dict[str, Any] = read_json(manifest_path)

    @property
    def fingerprint(self) -> str:
        return str(self.manifest["fingerprint"])

    @property
    def subjects(self) -> list[str]:
        """Packaged subjects, e.g. ``['sub-01', 'sub-02']``."""
        return list(self.manifest["subjects"])


def subject_name(subject: int) -> str:
    """``'sub-01'`` for subject 1."""
    return f"sub-{int(subject):02d}"


@dataclass(frozen=True)
class PackageResult:
    """What a packaging run produced.

    Attributes:
        folder: the package folder.
        fingerprint: its name, a digest of every input and setting.
        reused: True when an identical package already existed and nothing was written.
    """

    folder: Path
    fingerprint: str
    reused: bool


def verify_image_files(table: "pd.DataFrame", package_command: str) -> None:
    """Check that the image files a stimulus table points at exist and still have their sha256.

    Raises:
        MissingFileError: naming the missing files.
        DataFormatError: naming the changed files.
    """
    missing = [path for path in table["image_path"] if not Path(path).is_file()]
    if missing:
        raise MissingFileError(
            f"{len(missing)} of {len(table)} packaged image files are gone, e.g. {missing[:3]}; the package "
            f"references the images where they were when it was made: restore them or run `{package_command}` again"
        )
    changed = [path for path, digest in zip(table["image_path"], table["sha256"]) if cached_sha256(path) != digest]
    if changed:
        raise DataFormatError(
            f"{len(changed)} packaged image files changed since packaging, e.g. {changed[:3]}; "
            f"run `{package_command}` again"
        )
