"""Unpack downloaded zip archives atomically.

An archive is extracted into a temporary folder beside its destination; the folder that results is
renamed into place in one step. A broken archive, a member that would land outside the folder, or
contents that do not have the expected layout leave nothing behind.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import Callable

from realnet_plugins.errors import DataFormatError, UsageError

#: Names that archivers add and that are never content.
_JUNK = ("__MACOSX", ".DS_Store")

#: Builds the folder to put in place from the extracted tree: (extracted root, scratch folder) → folder.
Arrange = Callable[[Path, Path], Path]


def _is_junk(path: Path) -> bool:
    return any(part in _JUNK or part.startswith("._") for part in path.parts)


def _check_members(archive: Path, names: list[str]) -> None:
    for name in names:
        member = PurePosixPath(name.replace("\\", "/"))
        if member.is_absolute() or ".." in member.parts:
            raise DataFormatError(
                f"{archive}: member {name!r} would be written outside the destination; refused, nothing unpacked"
            )


def unpack_zip(archive: Path, target: Path, arrange: Arrange, *, overwrite: bool = False) -> Path:
    """Extract ``archive`` and put the folder ``arrange`` makes of it at ``target``, atomically.

    Args:
        archive: a zip file.
        target: the folder to create.
        arrange: given the extracted tree and a scratch folder (both inside the temporary folder), returns
            the folder to rename to ``target``; raises :class:`DataFormatError` when the layout is wrong.
        overwrite: replace an existing ``target`` (the old one is removed only after the new one is in place).

    Returns:
        ``target``.

    Raises:
        UsageError: ``target`` exists and ``overwrite`` is off.
        DataFormatError: a broken archive, an unsafe member name, or an unexpected layout (nothing is left).
    """
    if target.exists() and not overwrite:
        raise UsageError(f"{target} exists; move it away or pass --overwrite to replace it with {archive.name}")
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.unpack-", dir=target.parent))
    unpacked = False
    try:
        extracted = scratch / "extracted"
        try:
            with zipfile.ZipFile(archive) as bundle:
                _check_members(archive, bundle.namelist())
                bundle.extractall(extracted)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
            raise DataFormatError(f"{archive} is not a readable zip archive ({error}); nothing was unpacked") from None
        ready = arrange(extracted, scratch)
        previous = scratch / "previous"
        if target.exists():
            os.replace(target, previous)
        try:
            os.replace(ready, target)
        except OSError:
            if previous.exists():
                os.replace(previous, target)
            raise
        unpacked = True
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for folder in created if not unpacked else ():
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()
    return target


def content_folder(name: str) -> Arrange:
    """An :data:`Arrange` for archives of one folder: ``name/`` at the top, or its contents directly.

    The folder must contain at least one subfolder (THINGS image sets: one folder per concept).
    """

    def arrange(extracted: Path, scratch: Path) -> Path:
        entries = [e for e in extracted.iterdir() if not _is_junk(Path(e.name))]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() and entries[0].name == name else extracted
        if not any(e.is_dir() and not _is_junk(Path(e.name)) for e in root.iterdir()):
            found = sorted(e.name for e in root.iterdir())[:8]
            raise DataFormatError(f"expected the archive to hold {name}/ with one folder per concept; found {found}")
        return root

    return arrange


def files_by_name(names: tuple[str, ...]) -> Arrange:
    """An :data:`Arrange` that gathers exactly one file of each name (anywhere in the archive) into one folder."""

    def arrange(extracted: Path, scratch: Path) -> Path:
        folder = scratch / "gathered"
        folder.mkdir()
        for name in names:
            hits = [p for p in extracted.rglob(name) if p.is_file() and not _is_junk(p.relative_to(extracted))]
            if len(hits) != 1:
                listing = sorted(str(p.relative_to(extracted)) for p in extracted.rglob("*") if p.is_file())[:8]
                raise DataFormatError(
                    f"expected exactly one {name} in the archive, found {len(hits)}; its files: {listing}"
                )
            os.replace(hits[0], folder / name)
        return folder

    return arrange
