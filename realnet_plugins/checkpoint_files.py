"""What a file given as a checkpoint is, told without torch (standard library only).

A text file, an empty file, a foreign zip archive or a plain pickle handed to ``torch.load`` fails with
messages about unpickling (and torch's advice to retry unsafely); these are recognised first, so the
user hears what the file is instead, and so the command line answers before importing torch.
"""
from __future__ import annotations

import zipfile
from pathlib import Path

from realnet_plugins.errors import CheckpointError

#: What torch.save writes: a zip archive holding ``<name>/data.pkl``, or (before PyTorch 1.6) a protocol-2
#: pickle stream that starts with torch's magic number.
_TORCH_FORMATS = "a torch.save file: a zip archive with <name>/data.pkl, or the legacy pickle format"
_LEGACY_TORCH_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")  # pickled LONG1 magic


def not_a_torch_file(path: Path) -> str | None:
    """What ``path`` looks like when it cannot be a torch.save file (``"an empty file"``, ...); None if it may be."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head:
        return "an empty file (0 bytes)"
    if head[:1] == b"\x80" and _LEGACY_TORCH_MAGIC in head[:32]:
        return None
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            return "a truncated or corrupt zip archive (the torch format is a zip archive)"
        if any(name.endswith("/data.pkl") for name in names):
            return None
        if names and all(name.endswith(".npy") for name in names):
            return "a numpy .npz archive"
        return f"a zip archive without a torch checkpoint inside (entries: {', '.join(names[:4]) or 'none'})"
    if head.startswith(b"\x93NUMPY"):
        return "a numpy .npy array file"
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return "an HDF5 file (netCDF-4, .h5, .mat v7.3)"
    if head.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file (decompress it first?)"
    if head[:1] == b"\x80":
        return f"a Python pickle of protocol {head[1]} that is not a torch checkpoint (nothing in it was run)"
    try:
        text = (head if len(head) < 4096 else head[:-3]).decode("utf-8")  # not cut inside a character
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:
        if "<html" in text[:512].lower() or text.lstrip().lower().startswith("<!doctype html"):
            return "an HTML page (a download that saved a web page instead of the file?)"
        first = text.strip().splitlines()[0][:40] if text.strip() else ""
        return f"a text file (it starts {first!r})"
    return f"binary data of an unknown kind (first bytes {head[:8].hex(' ')})"


def require_torch_file(path: str | Path) -> None:
    """Raise :class:`CheckpointError` saying what ``path`` is when it cannot be a torch.save file.

    A file that passes may still be damaged or hold disallowed objects; ``torch.load`` decides that.
    """
    found = not_a_torch_file(Path(path))
    if found is not None:
        raise CheckpointError(
            f"{path}: expected a torch checkpoint ({_TORCH_FORMATS}), found {found}; give the weight or checkpoint "
            "file itself, re-downloaded or re-created if it is damaged"
        )
