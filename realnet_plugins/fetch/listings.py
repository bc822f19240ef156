"""File listings, with hashes, read at run time from the repositories that publish the data.

- OSF (https://osf.io): the public JSON:API at ``$REALNET_OSF_API`` (default ``https://api.osf.io/v2``).
  ``GET {api}/nodes/{node}/files/osfstorage/`` answers ``{"data": [...], "links": {"next": URL|null}}``;
  each entry has ``attributes.kind`` (``file``/``folder``), ``attributes.name``,
  ``attributes.materialized_path``, ``attributes.size``, ``attributes.extra.hashes.{md5,sha256}`` and,
  for files, ``links.download``; a folder lists its contents at
  ``relationships.files.links.related.href``. (Shape as read by osfclient, the OSF's Python client.)
- figshare (https://figshare.com): ``GET {api}/articles/{id}/files?page=N&page_size=1000`` at
  ``$REALNET_FIGSHARE_API`` (default ``https://api.figshare.com/v2``) answers a JSON array of
  ``{"id", "name", "size", "download_url", "computed_md5", "supplied_md5", "is_link_only"}``; pages run
  until one comes back empty (figshare's API v2 PublicFile record; the paging MOABB uses).
- A mirror (``--mirror URL``) serves each source's listing as ``URL/<source>/listing.json`` in the form
  :func:`listing_to_json` writes, which ``realnet fetch`` records at every API read under
  ``$REALNET_HOME/downloads/listings/<source>.json``.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from realnet_plugins.errors import DataFormatError
from realnet_plugins.fetch.download import DownloadError
from realnet_plugins.fetch.records import downloads_home, utc_now
from realnet_plugins.storage import atomic_write

OSF_API = "https://api.osf.io/v2"
FIGSHARE_API = "https://api.figshare.com/v2"
#: At most this many listing pages are followed (a guard against a server that loops).
MAX_PAGES = 1000


@dataclass(frozen=True)
class ListedFile:
    """One file of a repository listing.

    Attributes:
        path: its path in the release (OSF: the materialized path without the leading ``/``; figshare: the name).
        size: bytes, or ``None`` when not listed.
        url: where to download it.
        md5, sha256: the hashes the repository lists (hex), or ``None``.
    """

    path: str
    size: int | None
    url: str
    md5: str | None = None
    sha256: str | None = None

    @property
    def known_hash(self) -> str | None:
        """The strongest listed hash as ``alg:hex``, or ``None``."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        return f"md5:{self.md5}" if self.md5 else None


def osf_api() -> str:
    """OSF's API root, ``$REALNET_OSF_API`` or ``https://api.osf.io/v2``."""
    return os.environ.get("REALNET_OSF_API", OSF_API).rstrip("/")


def figshare_api() -> str:
    """figshare's API root, ``$REALNET_FIGSHARE_API`` or ``https://api.figshare.com/v2``."""
    return os.environ.get("REALNET_FIGSHARE_API", FIGSHARE_API).rstrip("/")


def _get_json(url: str, retries: int) -> Any:
    import requests

    last: Exception | None = None
    for attempt in range(retries + 1):
        try:
            response = requests.get(url, timeout=60, headers={"Accept": "application/json"})
            if response.status_code in (408, 429) or response.status_code >= 500:
                raise requests.exceptions.HTTPError(f"HTTP {response.status_code} {response.reason}")
            if response.status_code != 200:
                raise DownloadError(f"{url} answered HTTP {response.status_code} {response.reason}; "
                                    "the listing could not be read")
            return response.json()
        except requests.exceptions.JSONDecodeError:
            raise DataFormatError(f"{url} did not answer JSON; is it the repository's API?") from None
        except requests.exceptions.RequestException as error:
            last = error
            if attempt < retries:
                time.sleep(min(attempt + 1, 10))
    raise DownloadError(f"could not read {url} ({retries + 1} tries): {last}")


def _nested(entry: Any, *keys: str) -> Any:
    for key in keys:
        entry = entry.get(key) if isinstance(entry, dict) else None
    return entry


def _hex_or_none(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and value else None


def list_osf_files(node: str, *, retries: int = 3) -> list[ListedFile]:
    """Every file in an OSF node's ``osfstorage``, recursively, with sizes and hashes.

    Args:
        node: the OSF node (project or component) id, e.g. ``anp5v``.
        retries: further tries per page after a failed one.

    Raises:
        DownloadError: the API cannot be reached.
        DataFormatError: an answer does not have the API's shape.
    """
    start = f"{osf_api()}/nodes/{node}/files/osfstorage/"
    pending, seen, files = [start], set(), []
    pages = 0
    while pending:
        url: str | None = pending.pop(0)
        while url is not None:
            if url in seen or pages >= MAX_PAGES:
                raise DataFormatError(f"OSF listing of {node}: page {url} repeats or there are over {MAX_PAGES} pages")
            seen.add(url)
            pages += 1
            page = _get_json(url, retries)
            if not isinstance(page, dict) or not isinstance(page.get("data"), list):
                raise DataFormatError(f"{url}: expected an OSF API page {{'data': [...], 'links': {{...}}}}")
            for entry in page["data"]:
                kind = _nested(entry, "attributes", "kind")
                if kind == "folder":
                    href = _nested(entry, "relationships", "files", "links", "related", "href")
                    if not isinstance(href, str):
                        raise DataFormatError(f"{url}: a folder entry has no relationships.files.links.related.href")
                    pending.append(href)
                elif kind == "file":
                    path = _nested(entry, "attributes", "materialized_path") or _nested(entry, "attributes", "name")
                    download = _nested(entry, "links", "download")
                    if not isinstance(path, str) or not isinstance(download, str):
                        raise DataFormatError(f"{url}: a file entry lacks attributes.materialized_path/name or "
                                              "links.download")
                    size = _nested(entry, "attributes", "size")
                    hashes = _nested(entry, "attributes", "extra", "hashes") or {}
                    files.append(ListedFile(path=path.lstrip("/"), size=size if isinstance(size, int) else None,
                                            url=download, md5=_hex_or_none(hashes.get("md5")),
                                            sha256=_hex_or_none(hashes.get("sha256"))))
                else:
                    raise DataFormatError(f"{url}: an entry has attributes.kind {kind!r}, expected 'file' or 'folder'")
            url = _nested(page, "links", "next")
    return sorted(files, key=lambda f: f.path)


def list_figshare_files(article: int, *, retries: int = 3) -> list[ListedFile]:
    """Every file of a public figshare article, with sizes and md5s.

    Raises:
        DownloadError, DataFormatError: as :func:`list_osf_files`.
    """
    files: list[ListedFile] = []
    seen: set[Any] = set()
    for page_number in range(1, MAX_PAGES + 1):
        url = f"{figshare_api()}/articles/{article}/files?page={page_number}&page_size=1000"
        page = _get_json(url, retries)
        if not isinstance(page, list):
            raise DataFormatError(f"{url}: expected a JSON array of files")
        fresh = [entry for entry in page if isinstance(entry, dict) and entry.get("id") not in seen]
        if not fresh:
            return sorted(files, key=lambda f: f.path)
        for entry in fresh:
            seen.add(entry.get("id"))
            name, download = entry.get("name"), entry.get("download_url")
            if not isinstance(name, str) or not isinstance(download, str):
                raise DataFormatError(f"{url}: a file entry lacks 'name' or 'download_url'")
            size = entry.get("size")
            md5 = None if entry.get("is_link_only") else (
                _hex_or_none(entry.get("computed_md5")) or _hex_or_none(entry.get("supplied_md5")))
            files.append(ListedFile(path=name, size=size if isinstance(size, int) else None, url=download, md5=md5))
    raise DataFormatError(f"figshare article {article}: over {MAX_PAGES} pages of files")


def listing_path(source: str) -> Path:
    """``$REALNET_HOME/downloads/listings/<source>.json``."""
    return downloads_home() / "listings" / f"{source}.json"


def listing_to_json(source: str, origin: str, files: list[ListedFile]) -> str:
    """The listing as a mirror serves it (``<mirror>/<source>/listing.json``)."""
    return json.dumps({"source": source, "origin": origin, "listed_utc": utc_now(),
                       "files": [asdict(f) for f in files]}, indent=1)


def record_listing(source: str, origin: str, files: list[ListedFile]) -> Path:
    """Keep a listing read from an API at :func:`listing_path` (copy it to a mirror as ``listing.json``)."""
    path = listing_path(source)
    with atomic_write(path, "w") as handle:
        handle.write(listing_to_json(source, origin, files))
    return path


def listing_from_json(text: str, where: str) -> list[ListedFile]:
    """Parse a listing written by :func:`listing_to_json`.

    Raises:
        DataFormatError: when ``text`` is not such a listing.
    """
    try:
        raw = json.loads(text)
        return [ListedFile(path=str(f["path"]), size=f.get("size"), url=str(f["url"]), md5=f.get("md5"),
                           sha256=f.get("sha256")) for f in raw["files"]]
    except (ValueError, KeyError, TypeError) as error:
        raise DataFormatError(f"{where}: expected a realnet listing {{'files': [{{'path', 'size', 'url', "
                              f"'md5', 'sha256'}}]}} ({error})") from None


def mirror_listing(mirror: str, source: str, *, retries: int = 3) -> list[ListedFile]:
    """The listing a mirror serves at ``<mirror>/<source>/listing.json``."""
    url = f"{mirror.rstrip('/')}/{source}/listing.json"
    payload = _get_json(url, retries)
    return listing_from_json(json.dumps(payload), url)
