"""Atomic writes and content fingerprints.

Every file the package writes goes through :func:`atomic_write`: the content is written to a
temporary file in the destination folder, flushed to disk, and renamed over the destination, so an
interrupted run never leaves a half-written file under the final name.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from realnet_plugins.paths import cache_dir


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Mode of files this package writes: what ``open()`` would give (mkstemp alone gives 0600).
_FILE_MODE = 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[Any]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    Use as ``with atomic_write(p) as f: f.write(...)``. On an exception the temporary file is
    removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.chmod(tmp, _FILE_MODE)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for writers that take a file name (netCDF, np.save).

    The temporary file is renamed to ``path`` when the block ends without error, else removed.
    The temporary name keeps ``path``'s suffix so that suffix-sniffing writers behave.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".part" + path.suffix, dir=path.parent)
    os.close(fd)
    os.chmod(tmp, _FILE_MODE)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fingerprint(*parts: Any) -> str:
    """A stable 16-hex-digit key for cached artefacts, from JSON-serialisable parts.

    Dicts are serialised with sorted keys; anything else falls back to ``repr``. Use it with
    everything a cached artefact depends on (input file digests, settings, code version).
    """
    blob = json.dumps(parts, sort_keys=True, default=repr, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


_SHA256_MEMO: dict[tuple[str, int, int], str] = {}


def cached_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, remembered per (resolved path, size, mtime) in memory and on disk.

    The first call for a file version hashes its bytes; later calls (also in later processes,
    through ``$REALNET_HOME/cache/sha256/<key>.json``) return the stored digest while the file's
    size and modification time are unchanged.

    Args:
        path: the file.

    Returns:
        64 hex digits.
    """
    resolved = Path(path).resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns)
    if key in _SHA256_MEMO:
        return _SHA256_MEMO[key]
    side_file = cache_dir("sha256") / f"{fingerprint(str(resolved))}.json"
    digest = None
    if side_file.is_file():
        try:
            stored = json.loads(side_file.read_text())
            if (stored["path"], stored["size"], stored["mtime_ns"]) == key:
                digest = str(stored["sha256"])
        except (ValueError, KeyError, TypeError):
            digest = None
    if digest is None:
        digest = sha256_file(resolved)
        record = {"path": key[0], "size": key[1], "mtime_ns": key[2], "sha256": digest}
        with atomic_write(side_file, "w") as f:
            json.dump(record, f)
    _SHA256_MEMO[key] = digest
    return digest


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (one of another user counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
