"""What ``realnet fetch`` remembers between runs: ``$REALNET_HOME/downloads/fetch-record.json``.

Two tables, keyed by ``<source>/<path in the release>`` (the same key whatever the mirror):

- ``files``: every file that landed, with its size and sha256, the published hash it was checked
  against (or none), and the basis of the check: ``published``, ``recorded`` (no hash is published:
  size and sha256 were recorded on the first fetch and later fetches are checked against them) or
  ``accepted`` (the user accepted a file whose published hash did not match, with
  ``--accept-sha256``).
- ``refused``: files whose hash did not match, with the sha256 and size of what arrived. Nothing of
  a refused file is kept; this record is what lets ``--accept-sha256 HASH`` name exactly one
  received content.

Listings read from OSF's or figshare's API are kept beside it, in ``listings/<source>.json``.
"""
from __future__ import annotations

import datetime as _dt
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from realnet_plugins.errors import DataFormatError
from realnet_plugins.paths import realnet_home
from realnet_plugins.storage import atomic_write

BASES = ("published", "recorded", "accepted")


def downloads_home() -> Path:
    """``$REALNET_HOME/downloads``: the default destination and the home of the fetch record."""
    return realnet_home() / "downloads"


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class LandedRecord:
    """A file that landed: its bytes, where they came from and what they were checked against."""

    sha256: str
    size: int
    url: str
    published: str | None
    basis: str
    fetched_utc: str


@dataclass
class RefusedRecord:
    """A file that was refused because its hash did not match; nothing of it was kept."""

    sha256: str
    size: int
    url: str
    expected: str
    refused_utc: str


class FetchRecord:
    """The fetch record file (loaded on creation, written atomically by :meth:`save`).

    Args:
        path: the JSON file (default ``$REALNET_HOME/downloads/fetch-record.json``).

    Raises:
        DataFormatError: when the file exists but is not a record.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or downloads_home() / "fetch-record.json"
        self.files: dict[str, LandedRecord] = {}
        self.refused: dict[str, RefusedRecord] = {}
        if self.path.is_file():
            try:
                raw: dict[str, Any] = json.loads(self.path.read_text(encoding="utf-8"))
                self.files = {k: LandedRecord(**v) for k, v in raw.get("files", {}).items()}
                self.refused = {k: RefusedRecord(**v) for k, v in raw.get("refused", {}).items()}
            except (ValueError, TypeError, AttributeError) as error:
                raise DataFormatError(
                    f"{self.path} is not a realnet fetch record ({error}); move it away and fetch again"
                ) from None

    def landed(self, key: str, record: LandedRecord) -> None:
        """Note a file that landed (and forget an earlier refusal of it)."""
        if record.basis not in BASES:
            raise ValueError(f"basis must be one of {BASES}, got {record.basis!r}")
        self.files[key] = record
        self.refused.pop(key, None)

    def refuse(self, key: str, record: RefusedRecord) -> None:
        """Note a refused file."""
        self.refused[key] = record

    def save(self) -> None:
        """Write the record atomically."""
        payload = {"files": {k: asdict(v) for k, v in sorted(self.files.items())},
                   "refused": {k: asdict(v) for k, v in sorted(self.refused.items())}}
        with atomic_write(self.path, "w") as handle:
            json.dump(payload, handle, indent=1)
