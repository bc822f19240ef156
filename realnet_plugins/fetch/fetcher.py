"""``fetch_sources``: plan, check, download, import and unpack what the user named.

Everything a user could get wrong is checked before the first byte is downloaded: the names, the
subjects, the mirror address, each ``--accept-sha256`` value (it must be the sha256 of a file this
request covers that an earlier fetch refused), and existing checkpoints or folders that a fetch
would replace.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlparse

from realnet_plugins.errors import RealnetError, UsageError
from realnet_plugins.fetch.archives import content_folder, files_by_name, unpack_zip
from realnet_plugins.fetch.download import IntegrityError, Landed, land_file
from realnet_plugins.fetch.records import FetchRecord, LandedRecord, RefusedRecord, downloads_home, utc_now
from realnet_plugins.fetch.sources import SOURCES, THINGS_EEG2_FILES, Item, PlanContext
from realnet_plugins.storage import atomic_write

#: The file in each source folder that remembers which archives were unpacked where.
UNPACKED_MANIFEST = ".realnet-unpacked.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHECKPOINT_SOURCES: dict[tuple[str, int, int], str] = {}


@dataclass
class Outcome:
    """What happened to one file.

    Attributes:
        item: the planned file.
        landed: where it is, its sha256 and size (``None`` when skipped or refused).
        basis: ``published`` | ``recorded`` | ``accepted`` | ``first-fetch`` (size and sha256 recorded now).
        checked_against: the hash the file was checked against, in words.
        result: where the file's content ended (the file, a checkpoint, an unpacked folder).
        status: ``downloaded`` | ``resumed`` | ``present`` | ``already unpacked`` | ``refused``.
        refusal: the refusal message when refused.
    """

    item: Item
    landed: Landed | None = None
    basis: str = ""
    checked_against: str = ""
    result: str = ""
    status: str = ""
    refusal: str = ""


@dataclass
class FetchReport:
    """Everything :func:`fetch_sources` did, in order."""

    outcomes: list[Outcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    record_path: Path | None = None

    @property
    def refused(self) -> list[Outcome]:
        """Outcomes of refused files."""
        return [o for o in self.outcomes if o.status == "refused"]

    def raise_for_refusals(self) -> None:
        """Raise one :class:`IntegrityError` naming the refused files, if any.

        Raises:
            IntegrityError: when at least one file was refused.
        """
        refused = self.refused
        if len(refused) == 1:
            raise IntegrityError(refused[0].refusal)
        if refused:
            raise IntegrityError(
                f"refused {len(refused)} files whose hash did not match ({', '.join(o.item.path for o in refused)}); "
                "nothing of them was kept; each is listed above with the --accept-sha256 value that would accept it")


def check_names(names: list[str]) -> list[str]:
    """The names, validated and deduplicated in order.

    Raises:
        UsageError: an unknown name (with the closest known one).
    """
    if not names:
        raise UsageError(f"name what to fetch: one or more of {', '.join(SOURCES)} (realnet fetch --list)")
    for name in names:
        if name not in SOURCES:
            close = difflib.get_close_matches(name, list(SOURCES), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise UsageError(f"unknown source {name!r}: expected one of {', '.join(SOURCES)}{hint}")
    return list(dict.fromkeys(names))


def check_mirror(mirror: str | None) -> str | None:
    """The mirror's base URL without a trailing slash, or ``None``.

    Raises:
        UsageError: when it is not an http(s) URL.
    """
    if not mirror:
        return None
    parsed = urlparse(mirror)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"--mirror / REALNET_MIRROR: expected an http(s) URL like https://host/path, got {mirror!r}")
    return mirror.rstrip("/")


def mirror_url(mirror: str, item: Item) -> str:
    """``<mirror>/<source>/<path in the release>``."""
    return f"{mirror}/{item.source}/{quote(item.path)}"


def plan(names: list[str], *, subjects: tuple[int, ...] | None = None, mirror: str | None = None,
         retries: int = 3) -> tuple[list[Item], list[str]]:
    """The files that ``names`` cover, with mirror addresses applied; and notes on the listings read.

    Raises:
        UsageError: bad names or subjects.
        DownloadError, DataFormatError: a listing could not be read.
    """
    names = check_names(names)
    mirror = check_mirror(mirror)
    if subjects is not None:
        with_subjects = [n for n in names if SOURCES[n].subjects is not None]
        if not with_subjects:
            raise UsageError(f"--subjects applies to {', '.join(n for n, s in SOURCES.items() if s.subjects)}; "
                             f"none of {', '.join(names)} has subjects")
        available = sorted({s for name in with_subjects for s in SOURCES[name].subjects or ()})
        outside = [s for s in subjects if s not in available]
        if outside:
            raise UsageError(f"--subjects: {', '.join(with_subjects)} has subjects {available[0]}-{available[-1]}; "
                             f"not {outside}")
    ctx = PlanContext(subjects=subjects, mirror=mirror, retries=retries)
    items: list[Item] = []
    for name in names:
        items += SOURCES[name].plan(ctx)
    if mirror:
        items = [replace(item, url=mirror_url(mirror, item)) for item in items]
    return items, ctx.listing_notes


def _accepted(items: list[Item], record: FetchRecord, accept_sha256: list[str]) -> dict[str, str]:
    """Item key → accepted sha256, for each ``--accept-sha256`` value.

    Raises:
        UsageError: a malformed value, or one that is not the sha256 of a refused file of this request.
    """
    accepted: dict[str, str] = {}
    for value in accept_sha256:
        value = value.strip().lower()
        if not _SHA256.match(value):
            raise UsageError(f"--accept-sha256: expected 64 hex digits (the sha256 a refusal reported), got {value!r}")
        keys = [i.key for i in items if i.key in record.refused and record.refused[i.key].sha256 == value]
        if not keys:
            on_record = [f"{i.key} ({record.refused[i.key].sha256})" for i in items if i.key in record.refused]
            raise UsageError(
                f"--accept-sha256 {value} is not the sha256 of a refused file of this request; it only accepts a file "
                "that `realnet fetch` refused and reported. Refusals on record for this request: "
                + ("; ".join(on_record) if on_record else "none")
            )
        accepted.update(dict.fromkeys(keys, value))
    return accepted


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / UNPACKED_MANIFEST
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return {}


def _unpacked_already(item: Item, folder: Path) -> bool:
    entry = _manifest(folder).get(item.target)
    return bool((folder / item.target).is_dir() and entry and entry.get("key") == item.key
                and entry.get("published") == item.published)


def _checkpoint_source(identifier: str) -> str | None:
    """The ``source`` recorded in an existing checkpoint of ``identifier``, or ``None`` when there is none.

    Remembered per (path, size, mtime): reading a checkpoint loads all its tensors.
    """
    from realnet_plugins.checkpoints import checkpoint_path, read_checkpoint

    path = checkpoint_path(identifier)
    if not path.is_file():
        return None
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKPOINT_SOURCES:
        try:
            _CHECKPOINT_SOURCES[key] = read_checkpoint(path, verify=False)[1].source
        except RealnetError:
            _CHECKPOINT_SOURCES[key] = "unreadable"
    return _CHECKPOINT_SOURCES[key]


def _check_replacements(items: list[Item], dest: Path, record: FetchRecord, *, overwrite: bool,
                        import_weights: bool) -> None:
    """Refuse, before downloading, to replace checkpoints or folders that a previous fetch did not make."""
    blocked = []
    for item in items:
        if item.action == "import" and import_weights and not overwrite:
            source = _checkpoint_source(item.identifier or "")
            known = record.files.get(item.key)
            if source is not None and not (known and source.startswith("imported:")
                                           and source.endswith(f":{known.sha256}")):
                blocked.append(f"checkpoint {item.identifier} (source {source})")
        elif item.action.startswith("unpack") and not overwrite:
            folder = dest / SOURCES[item.source].folder
            if (folder / item.target).exists() and not _unpacked_already(item, folder):
                blocked.append(f"folder {folder / item.target}")
    if blocked:
        raise UsageError(f"fetching would replace {'; '.join(blocked)}, which an earlier fetch of these files did not "
                         "make; pass --overwrite to replace, or --no-import to only download")


def _expectation(item: Item, record: FetchRecord, accepted: dict[str, str]) -> tuple[str | None, str, str, str | None]:
    """(expected hash, basis, in words, sha256 prefix still to check) for one item."""
    known = record.files.get(item.key)
    if item.key in accepted:
        return f"sha256:{accepted[item.key]}", "accepted", "the sha256 accepted with --accept-sha256", None
    if known and known.basis == "accepted" and known.published == _published(item):
        return f"sha256:{known.sha256}", "accepted", "the sha256 accepted earlier with --accept-sha256", None
    if item.published:
        return item.published, "published", item.published_from, None
    if known:
        return (f"sha256:{known.sha256}", "recorded",
                f"the sha256 recorded at its first fetch ({known.fetched_utc})", item.sha256_prefix)
    return None, "first-fetch", item.published_from, item.sha256_prefix


def _published(item: Item) -> str | None:
    if item.published:
        return item.published
    return f"sha256-prefix:{item.sha256_prefix}" if item.sha256_prefix else None


def _finish(item: Item, landed: Landed, folder: Path, *, overwrite: bool, import_weights: bool) -> str:
    """Import or unpack a file that is in place; return where its content ended."""
    if item.action == "import":
        if not import_weights:
            return str(landed.path)
        from realnet_plugins.checkpoints import checkpoint_path
        from realnet_plugins.importers import import_weights as import_file

        identifier = item.identifier or ""
        source = _checkpoint_source(identifier)
        if source is not None and source.startswith("imported:") and source.endswith(f":{landed.sha256}"):
            return f"{landed.path}; already imported as {identifier} ({checkpoint_path(identifier)})"
        written = import_file(landed.path, identifier, overwrite=True)
        return f"{landed.path}; imported as {identifier} → {written}"
    if item.action.startswith("unpack"):
        target = folder / item.target
        arrange = (content_folder(item.unpack_name or target.name) if item.action == "unpack-folder"
                   else files_by_name(THINGS_EEG2_FILES))
        unpack_zip(landed.path, target, arrange, overwrite=overwrite)
        manifest = _manifest(folder)
        manifest[item.target] = {"key": item.key, "published": item.published, "sha256": landed.sha256,
                                 "unpacked_utc": utc_now()}
        with atomic_write(folder / UNPACKED_MANIFEST, "w") as handle:
            json.dump(manifest, handle, indent=1)
        landed.path.unlink()
        return f"unpacked into {target}"
    return str(landed.path)


def fetch_sources(names: list[str], *, subjects: tuple[int, ...] | None = None, dest: Path | None = None,
                  mirror: str | None = None, accept_sha256: list[str] | None = None, overwrite: bool = False,
                  import_weights: bool = True, retries: int = 3, progress: bool | None = None) -> FetchReport:
    """Download, check and put in place the named sources; import weights; unpack archives.

    Args:
        names: catalogue names (:data:`~realnet_plugins.fetch.sources.SOURCES`).
        subjects: subject numbers for the sources that have subjects (default: all).
        dest: destination root (default ``$REALNET_HOME/downloads``); each source lands in its own folder.
        mirror: read every file from ``<mirror>/<source>/<path in the release>`` (and listings from
            ``<mirror>/<source>/listing.json``) instead of the origin.
        accept_sha256: sha256 values of refused files to accept in place of their published hash.
        overwrite: replace existing files, folders and checkpoints that differ.
        import_weights: import weight files as checkpoints (identifiers ``realnet_sNN``,
            ``realnet_base_cornet_s``, ``realnet_base_resnet18``).
        retries: further tries per file after a failed one; each resumes where the last stopped.
        progress: ``None`` = bars on a terminal, log lines otherwise; ``False`` = silent.

    Returns:
        A :class:`FetchReport`; refused files are in ``report.refused`` (call ``raise_for_refusals``).

    Raises:
        UsageError: a user mistake, found before anything is downloaded.
        DownloadError: a file could not be downloaded (partial bytes are kept; a rerun resumes).
        DataFormatError: a listing or an archive does not have the expected form.
    """
    dest = Path(dest) if dest is not None else downloads_home()
    items, notes = plan(names, subjects=subjects, mirror=mirror, retries=retries)
    record = FetchRecord()
    accepted = _accepted(items, record, accept_sha256 or [])
    _check_replacements(items, dest, record, overwrite=overwrite, import_weights=import_weights)
    report = FetchReport(notes=notes, record_path=record.path)
    for item in items:
        folder = dest / SOURCES[item.source].folder
        outcome = Outcome(item=item)
        report.outcomes.append(outcome)
        if item.action.startswith("unpack") and _unpacked_already(item, folder):
            outcome.status, outcome.result = "already unpacked", f"in {folder / item.target}"
            continue
        expected, basis, in_words, prefix = _expectation(item, record, accepted)
        target = folder / (f".archives/{item.path}" if item.action.startswith("unpack") else item.target)
        size = None if basis == "accepted" else item.size if item.size is not None else (
            record.files[item.key].size if basis == "recorded" else None)
        try:
            landed = land_file(item.url, target, root=dest, expected=expected, expected_from=in_words,
                               sha256_prefix=prefix, size=size, overwrite=overwrite, retries=retries,
                               progress=progress)
        except IntegrityError as refusal:
            record.refuse(item.key, RefusedRecord(sha256=refusal.sha256, size=refusal.size, url=item.url,
                                                  expected=refusal.expected, refused_utc=utc_now()))
            record.save()
            outcome.status, outcome.refusal = "refused", str(refusal)
            continue
        outcome.landed = landed
        outcome.basis, outcome.checked_against = basis, in_words
        outcome.status = ("resumed" if landed.resumed_at else "downloaded") if landed.downloaded else "present"
        record.landed(item.key, LandedRecord(
            sha256=landed.sha256, size=landed.size, url=item.url, published=_published(item),
            basis="recorded" if basis == "first-fetch" else basis, fetched_utc=utc_now()))
        record.save()
        outcome.result = _finish(item, landed, folder, overwrite=overwrite, import_weights=import_weights)
    for name in dict.fromkeys(i.source for i in items):
        if SOURCES[name].note:
            report.notes.append(f"{name}: {SOURCES[name].note.format(folder=dest / SOURCES[name].folder)}")
    return report
