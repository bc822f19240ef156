"""Hash-checked, resumable downloads through pooch.

:func:`land_file` puts one remote file at a local path. pooch does the fetching (its retry loop,
its temporary file beside the destination, its hash check before the file is moved into place);
:class:`ResumingDownloader` is the downloader pooch calls. It keeps the bytes received so far in
``.<name>.download`` beside the destination, asks for the rest with an HTTP ``Range: bytes=N-``
request when a partial file exists, appends on ``206 Partial Content`` and starts over on a plain
``200``. A connection that closes early raises a ``requests`` error, so pooch's retry resumes where
it stopped; an interrupted run leaves the partial file for the next run to resume. Before handing
the file to pooch it checks the size and the hash; a mismatch deletes everything of the file and
raises :class:`IntegrityError` (not a ``ValueError``: pooch would retry those, downloading the
same wrong file again).

pooch and requests are imported inside the functions: the core imports without them.
"""
from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from realnet_plugins.errors import MissingFileError, RealnetError, UsageError
from realnet_plugins.storage import cached_sha256

logger = logging.getLogger(__name__)

#: Seconds between progress log lines when the output is not a terminal.
LOG_EVERY_S = 10.0
#: Bytes read from the network per chunk.
CHUNK_BYTES = 1 << 20
#: Hash algorithms a published hash may name.
ALGORITHMS = ("md5", "sha1", "sha256")
_CONTENT_RANGE = re.compile(r"^bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)$")


class DownloadError(RealnetError):
    """A file could not be downloaded (network, server, disk); what arrived is kept for a rerun to resume."""


class IntegrityError(RealnetError):
    """A downloaded file does not match its published (or recorded) hash or size; nothing of it was kept.

    Attributes:
        sha256: sha256 of the bytes that arrived.
        size: their length in bytes.
        expected: the hash (``alg:hex``) or description the file failed.
    """

    def __init__(self, message: str, *, sha256: str = "", size: int = 0, expected: str = "") -> None:
        super().__init__(message)
        self.sha256, self.size, self.expected = sha256, size, expected


def require_pooch() -> Any:
    """The pooch module.

    Raises:
        MissingFileError: when pooch is not installed.
    """
    try:
        import pooch
    except ImportError:
        raise MissingFileError(
            "`realnet fetch` needs pooch (and requests), which are not installed here: pip install 'pooch>=1.6'"
        ) from None
    return pooch


def split_hash(known_hash: str) -> tuple[str, str]:
    """``'sha1:ABC'`` → ``('sha1', 'abc')``.

    Raises:
        ValueError: for an algorithm outside :data:`ALGORITHMS` or a malformed digest.
    """
    algorithm, _, digest = known_hash.partition(":")
    width = {"md5": 32, "sha1": 40, "sha256": 64}.get(algorithm)
    if width is None or not re.fullmatch(rf"[0-9a-fA-F]{{{width}}}", digest):
        raise ValueError(f"expected a hash 'md5|sha1|sha256:<hex>', got {known_hash!r}")
    return algorithm, digest.lower()


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total length) of a ``Content-Range`` header; ``None`` where unknown."""
    match = _CONTENT_RANGE.match((value or "").strip())
    if match is None:
        return None, None
    first = int(match.group(1)) if match.group(1) is not None else None
    total = int(match.group(3)) if match.group(3) != "*" else None
    return first, total


class _Progress:
    """A tqdm bar on a terminal, a log line every :data:`LOG_EVERY_S` seconds otherwise, or nothing."""

    def __init__(self, label: str, total: int | None, initial: int, enabled: bool | None) -> None:
        self.label, self.total, self.done = label, total, initial
        terminal = sys.stderr.isatty()
        self.bar = None
        self.log = enabled is not False and not terminal
        if enabled is not False and terminal:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                            desc=label, leave=False, file=sys.stderr)
        self.next_log = time.monotonic() + LOG_EVERY_S
        if self.log and initial:
            logger.info("%s: resuming after %s", label, _human(initial))

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.log and time.monotonic() >= self.next_log:
            self.next_log = time.monotonic() + LOG_EVERY_S
            share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
            logger.info("%s: %s of %s%s", self.label, _human(self.done),
                        _human(self.total) if self.total else "?", share)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _chunks(response: Any) -> Iterator[bytes]:
    """The body as it arrives, each piece written before the next read.

    ``iter_content`` gathers a whole chunk before yielding it, so a connection that drops loses the
    bytes of the unfinished chunk; ``read1`` returns whatever one read brought. Errors of the
    connection become ``requests`` errors (pooch retries those).
    """
    import requests
    import urllib3

    raw = response.raw
    if not hasattr(raw, "read1"):  # urllib3 1.x
        yield from response.iter_content(64 * 1024)
        return
    try:
        while chunk := raw.read1(CHUNK_BYTES, decode_content=False):
            yield chunk
    except (urllib3.exceptions.HTTPError, OSError) as error:
        raise requests.exceptions.ConnectionError(f"the connection broke: {error}") from None


class ResumingDownloader:
    """A pooch downloader that resumes through HTTP ``Range`` and checks what arrived.

    Args:
        part: where the bytes received so far are kept between tries and runs.
        label: the file's name in messages and progress output.
        expected: the published (or recorded, or accepted) hash ``alg:hex``, or ``None``.
        expected_from: where ``expected`` comes from, for messages.
        sha256_prefix: a leading part of the sha256 that the file name publishes (torchvision style).
        size: the size in bytes a listing states, or ``None``.
        progress: ``None`` = bar on a terminal, log lines otherwise; ``False`` = silent.
        timeout: seconds to wait for the server before a try fails.

    After a successful call, :attr:`received` holds ``(sha256, size)`` of the file handed to pooch and
    :attr:`resumed_at` the byte offset of the last resumed request (``0`` when none).
    """

    def __init__(self, part: Path, *, label: str, expected: str | None = None, expected_from: str = "",
                 sha256_prefix: str | None = None, size: int | None = None, progress: bool | None = None,
                 timeout: float = 60.0) -> None:
        self.part, self.label = Path(part), label
        self.expected = split_hash(expected) if expected else None
        self.expected_from = expected_from
        self.sha256_prefix = sha256_prefix.lower() if sha256_prefix else None
        self.size, self.progress, self.timeout = size, progress, timeout
        self.received: tuple[str, int] | None = None
        self.resumed_at = 0

    def __call__(self, url: str, output_file: Any, pooch: Any, check_only: bool = False) -> bool | None:
        import requests

        if check_only:
            response = requests.head(url, allow_redirects=True, timeout=self.timeout)
            return response.status_code == 200
        self.part.parent.mkdir(parents=True, exist_ok=True)
        offset = self.part.stat().st_size if self.part.is_file() else 0
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        with requests.get(url, headers=headers, stream=True, timeout=self.timeout, allow_redirects=True) as response:
            status = response.status_code
            total: int | None
            if offset and status == 416:
                _, total = _content_range(response.headers.get("Content-Range"))
                if total != offset:  # the partial file is not a prefix of this file: start over
                    self.part.unlink()
                    raise requests.exceptions.ConnectionError(
                        f"{self.label}: the server refused to resume at byte {offset}; starting over")
                mode, body = "ab", False
            elif offset and status == 206:
                first, total = _content_range(response.headers.get("Content-Range"))
                if first != offset:
                    self.part.unlink()
                    raise requests.exceptions.ConnectionError(
                        f"{self.label}: asked to resume at byte {offset}, the server sent from byte {first}")
                mode, body = "ab", True
                self.resumed_at = offset
            elif status == 200:
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                mode, body, offset = "wb", True, 0
            else:
                self._raise_for(response, url)
            hashers = self._hashers()
            if mode == "ab":
                with open(self.part, "rb") as existing:
                    while block := existing.read(CHUNK_BYTES):
                        for h in hashers.values():
                            h.update(block)
            bar = _Progress(self.label, total, offset, self.progress)
            try:
                with open(self.part, mode) as handle:
                    for chunk in _chunks(response) if body else ():
                        handle.write(chunk)
                        for h in hashers.values():
                            h.update(chunk)
                        bar.update(len(chunk))
            finally:
                bar.close()
        received = self.part.stat().st_size
        if total is not None and received < total:
            raise requests.exceptions.ConnectionError(
                f"{self.label}: the connection closed after {received} of {total} bytes")
        self._verify(received, {name: h.hexdigest() for name, h in hashers.items()}, url)
        os.replace(self.part, output_file)
        self.received = (hashers["sha256"].hexdigest(), received)
        return None

    def _hashers(self) -> dict[str, Any]:
        hashers = {"sha256": hashlib.sha256()}
        if self.expected and self.expected[0] != "sha256":
            hashers[self.expected[0]] = hashlib.new(self.expected[0])
        return hashers

    def _raise_for(self, response: Any, url: str) -> None:
        import requests

        status = response.status_code
        if status in (408, 429) or status >= 500:
            raise requests.exceptions.HTTPError(f"{url} answered HTTP {status} {response.reason}", response=response)
        raise DownloadError(
            f"{url} answered HTTP {status} {response.reason} for {self.label}; check the address "
            "(--mirror, REALNET_MIRROR) or whether the file moved"
        )

    def _refuse(self, message: str, sha256: str, size: int, expected: str) -> None:
        self.part.unlink(missing_ok=True)
        raise IntegrityError(message, sha256=sha256, size=size, expected=expected)

    def _verify(self, received: int, digests: dict[str, str], url: str) -> None:
        sha256 = digests["sha256"]
        where = f" ({self.expected_from})" if self.expected_from else ""
        if self.size is not None and received != self.size:
            self._refuse(f"refused {self.label} from {url}: {received} bytes arrived, the listing{where} states "
                         f"{self.size}; nothing was kept. If you trust this file, rerun with --accept-sha256 {sha256}",
                         sha256, received, f"size:{self.size}")
        if self.expected is not None:
            algorithm, digest = self.expected
            if digests[algorithm] != digest:
                self._refuse(f"refused {self.label} from {url}: its {algorithm} is {digests[algorithm]}, expected "
                             f"{digest}{where}; nothing was kept. If you trust this file, rerun with "
                             f"--accept-sha256 {sha256}", sha256, received, f"{algorithm}:{digest}")
        if self.sha256_prefix is not None and not sha256.startswith(self.sha256_prefix):
            self._refuse(f"refused {self.label} from {url}: its sha256 {sha256} does not start with "
                         f"{self.sha256_prefix}{', ' + self.expected_from if self.expected_from else ''}; nothing was "
                         "kept. If you trust this file, rerun with "
                         f"--accept-sha256 {sha256}", sha256, received, f"sha256-prefix:{self.sha256_prefix}")


@contextlib.contextmanager
def _quiet_pooch(pooch: Any) -> Iterator[None]:
    """Silence pooch's own INFO lines for the duration (this package reports what landed itself)."""
    pooch_logger = pooch.get_logger()
    level = pooch_logger.level
    pooch_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        pooch_logger.setLevel(level)


@dataclass(frozen=True)
class Landed:
    """A file in place: its path, sha256, size, and whether this call downloaded it.

    ``resumed_at`` is the byte offset a download resumed from (``0`` when it did not resume).
    """

    path: Path
    sha256: str
    size: int
    downloaded: bool
    resumed_at: int = 0


def _prune_empty_dirs(folder: Path, stop: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``stop`` while they are empty."""
    folder, stop = folder.resolve(), stop.resolve()
    while folder != stop and stop in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _existing_matches(path: Path, expected: str | None, sha256_prefix: str | None, size: int | None) -> bool:
    pooch = require_pooch()
    if size is not None and path.stat().st_size != size:
        return False
    if expected is not None:
        algorithm, digest = split_hash(expected)
        actual = cached_sha256(path) if algorithm == "sha256" else pooch.file_hash(str(path), alg=algorithm)
        if actual != digest:
            return False
    return sha256_prefix is None or cached_sha256(path).startswith(sha256_prefix.lower())


def land_file(url: str, target: Path, *, root: Path, expected: str | None = None, expected_from: str = "",
              sha256_prefix: str | None = None, size: int | None = None, overwrite: bool = False,
              retries: int = 3, progress: bool | None = None) -> Landed:
    """Put the file at ``url`` at ``target``, checked; reuse a matching file already there.

    Args:
        url: where to download from.
        target: the destination file.
        root: the destination folder; empty folders this call created are removed on refusal.
        expected: the hash the file must have (``alg:hex``), or ``None`` when none is known.
        expected_from: where ``expected`` comes from, for messages.
        sha256_prefix: a published leading part of the sha256 (torchvision's file names).
        size: the size in bytes a listing states.
        overwrite: replace a file at ``target`` that does not match.
        retries: further tries after a failed one (pooch's ``retry_if_failed``); each resumes.
        progress: ``None`` = bar on a terminal, log lines otherwise; ``False`` = silent.

    Returns:
        :class:`Landed`.

    Raises:
        IntegrityError: the download does not match (nothing of it was kept).
        DownloadError: the download failed ``retries + 1`` times (the partial file is kept).
        UsageError: ``target`` exists, does not match, and ``overwrite`` is off.
    """
    pooch = require_pooch()
    import requests

    if target.is_file():
        if _existing_matches(target, expected, sha256_prefix, size):
            return Landed(target, cached_sha256(target), target.stat().st_size, downloaded=False)
        if not overwrite:
            raise UsageError(
                f"{target} exists but does not match {expected or 'the published file'}"
                f"{f' ({expected_from})' if expected_from else ''}; move it away or pass --overwrite to replace it"
            )
        target.unlink()
    part = target.with_name(f".{target.name}.download")
    downloader = ResumingDownloader(part, label=target.name, expected=expected, expected_from=expected_from,
                                    sha256_prefix=sha256_prefix, size=size, progress=progress)
    store = pooch.create(path=target.parent, base_url="", registry={target.name: expected},
                         urls={target.name: url}, retry_if_failed=retries)
    try:
        with _quiet_pooch(pooch):
            store.fetch(target.name, downloader=downloader)
    except IntegrityError:
        _prune_empty_dirs(target.parent, root)
        raise
    except requests.exceptions.RequestException as error:
        kept = part.stat().st_size if part.is_file() else 0
        raise DownloadError(
            f"could not download {target.name} from {url} ({retries + 1} tries): {error}; "
            + (f"the {kept} bytes received are kept and a rerun resumes from there" if kept else "rerun to retry")
        ) from None
    except OSError as error:
        raise DownloadError(f"could not write {target}: {error}; a rerun resumes") from None
    if downloader.received is None:  # pooch found the file in place (written by a concurrent run)
        return Landed(target, cached_sha256(target), target.stat().st_size, downloaded=False)
    sha256, received = downloader.received
    return Landed(target, sha256, received, downloaded=True, resumed_at=downloader.resumed_at)
