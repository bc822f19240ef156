"""Weights files behind a URL: record their digests, download them, keep them only when they match.

A submitted Brain-Score plugin downloads each checkpoint from ``<base URL>/<identifier>.pt`` and
checks it against the size, sha256 and sha1 recorded when the plugin was generated
(:func:`fetch_verified`). A file that differs is deleted, never loaded. This module is carried into
generated plugins unchanged (see :mod:`realnet_plugins.submission.codegen`), so it uses the
standard library only.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from realnet_plugins.errors import CheckpointError, MissingFileError, UsageError

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
_PROGRESS_EVERY = 64 << 20
#: Seconds without progress after which a download is abandoned.
DOWNLOAD_TIMEOUT_S = 120


@dataclass(frozen=True)
class FileDigests:
    """Size and digests of a file's bytes.

    Attributes:
        size: bytes.
        sha256: 64 hex digits.
        sha1: 40 hex digits (the digest Brain-Score's own ``weights.json`` files record).
    """

    size: int
    sha256: str
    sha1: str

    def describe(self) -> str:
        return f"{self.size} bytes, sha256 {self.sha256}, sha1 {self.sha1}"


def file_digests(path: str | os.PathLike) -> FileDigests:
    """:class:`FileDigests` of the file at ``path`` (read once)."""
    h256, h1, size = hashlib.sha256(), hashlib.sha1(), 0
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h256.update(block)
            h1.update(block)
            size += len(block)
    return FileDigests(size, h256.hexdigest(), h1.hexdigest())


def _is_http_url(url: str) -> bool:
    parsed = urllib.parse.urlsplit(url)
    return parsed.scheme in ("http", "https") and bool(parsed.hostname) and not parsed.query and not parsed.fragment


def check_weights_url(url: str) -> str:
    """Validate the base URL of a folder of weights files; return it without a trailing ``/``.

    Raises:
        UsageError: not an ``http://`` or ``https://`` URL with a host, or it has a query or fragment.
    """
    if not _is_http_url(url):
        raise UsageError(
            f"the weights URL must be the http(s) address of the folder that will hold the <identifier>.pt files, "
            f"like https://example.org/realnet-weights; got {url!r}"
        )
    return url.rstrip("/")


def weights_file_url(base_url: str, file_name: str) -> str:
    """``<base_url>/<file_name>``, the file name percent-encoded."""
    return f"{check_weights_url(base_url)}/{urllib.parse.quote(file_name)}"


def structure_digest(state_dict: Mapping[str, Any]) -> str:
    """sha256 over every tensor's name, dtype and shape in sorted name order (not its values).

    Two state dicts with the same digest fit the same module; a plugin's test compares the digest of
    a freshly built network with the one recorded from the checkpoint.
    """
    h = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name]
        h.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)};".encode())
    return h.hexdigest()


def fetch_verified(url: str, destination: str | os.PathLike, expected: FileDigests, *,
                   timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Return ``destination`` holding the file at ``url``, downloaded unless a matching copy is there.

    A copy already at ``destination`` is used when its size, sha256 and sha1 equal ``expected``
    (otherwise it is deleted and downloaded again). A download goes to a temporary file beside
    ``destination``; it is renamed into place only when all three match, else deleted.

    Args:
        url: where the file is, ``http(s)://``.
        destination: local path to keep it at (its folder is created).
        expected: the size and digests recorded when the plugin was made.
        timeout: seconds without progress before giving up.

    Raises:
        CheckpointError: the file behind ``url`` is not the recorded one (nothing is kept).
        MissingFileError: the URL cannot be reached or answers with an HTTP error.
        UsageError: ``url`` is not an http(s) URL.
    """
    if not _is_http_url(url):
        raise UsageError(f"weights are downloaded over http(s) only; got {url!r}")
    destination = Path(destination)
    if destination.is_file():
        found = file_digests(destination)
        if found == expected:
            return destination
        log.warning("%s differs from the recorded file (%s); downloading it again", destination, found.describe())
        destination.unlink()
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        log.info("downloading %s (%d bytes)", url, expected.size)
        found = _download(url, fd, expected.size, timeout)
        if found != expected:
            what = (f"more than {expected.size} bytes" if found.size > expected.size else found.describe())
            raise CheckpointError(
                f"{url} was refused and deleted, nothing was kept: expected {expected.describe()}; found {what}. "
                "The file at that URL is not the checkpoint this plugin was made for (a wrong or damaged upload, "
                "or a changed file); upload the exact file named in the plugin's README.md, or regenerate the "
                "plugin with `realnet submission`."
            )
        os.replace(tmp, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return destination


def _download(url: str, fd: int, expected_size: int, timeout: float) -> FileDigests:
    """Stream ``url`` into the open file ``fd`` (closed on return), hashing as it goes.

    Stops reading one byte past ``expected_size``: a longer answer cannot match anyway.
    """
    h256, h1, size = hashlib.sha256(), hashlib.sha1(), 0
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            while size <= expected_size and (block := response.read(min(_CHUNK, expected_size + 1 - size))):
                h256.update(block)
                h1.update(block)
                out.write(block)
                size += len(block)
                if size % _PROGRESS_EVERY < len(block):
                    log.info("%s: %d of %d MB", url, size >> 20, expected_size >> 20)
            out.flush()
            os.fsync(out.fileno())
    except urllib.error.HTTPError as e:
        raise MissingFileError(
            f"{url} answered HTTP {e.code} {e.reason}; the weights file must be downloadable at that address "
            "(see the plugin's README.md)"
        ) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        reason = getattr(e, "reason", e)
        raise MissingFileError(f"could not download {url}: {reason}; check the address and the network") from None
    return FileDigests(size, h256.hexdigest(), h1.hexdigest())
