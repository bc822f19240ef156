"""Verb ``fetch``: download the data and weights the paper uses, hash-checked and resumable.

    realnet fetch NAME... [--subjects 1-10] [--dest DIR] [--mirror URL] [--accept-sha256 HASH]
        [--overwrite] [--no-import] [--retries N] [--quiet]
    realnet fetch --list [NAME...]
"""
from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from realnet_plugins.fetch.sources import SOURCES

_DESCRIPTION = (
    "Download the files the paper uses into $REALNET_HOME/downloads/<folder>/ (or --dest), check each against its "
    "published hash, and import weight files as checkpoints. NAME is one or more of: "
    + "; ".join(f"{s.name} = {s.title}" for s in SOURCES.values())
    + ". Addresses and hashes come from authoritative places at run time: Brain-Score's installed ReAlnet and "
    "cornet_s plugins, torchvision's weights record, OSF's API ($REALNET_OSF_API, default https://api.osf.io/v2) and "
    "figshare's API ($REALNET_FIGSHARE_API). Where no hash is published, size and sha256 are recorded at the first "
    "fetch (in $REALNET_HOME/downloads/fetch-record.json) and later fetches are checked against them. A file whose "
    "hash differs is refused and nothing of it is kept; an interrupted download resumes (HTTP Range) on the next try "
    "or run."
)
_MIRROR_HELP = (
    "read every file from URL/<NAME>/<path of the file in its release> instead of the origin (e.g. "
    "URL/realnet-weights/ReAlnet/ReAlnet01_best_model_params.pt, URL/resnet18/resnet18-f37072fd.pth, "
    "URL/things-eeg2/sub-01.zip); for OSF and figshare sources the mirror also serves URL/<NAME>/listing.json, the "
    "listing that `realnet fetch` keeps in $REALNET_HOME/downloads/listings/<NAME>.json. Default: $REALNET_MIRROR"
)


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    p.description = _DESCRIPTION
    p.add_argument("names", nargs="*", metavar="NAME", help=f"what to fetch: {', '.join(SOURCES)}")
    p.add_argument("--subjects", metavar="LIST",
                   help="subjects, e.g. 1-10 or 1,3,5 (things-eeg2, realnet-weights: 1-10; shen2019: 1-3; "
                        "default: all)")
    p.add_argument("--dest", type=Path, metavar="DIR", help="destination root (default: $REALNET_HOME/downloads)")
    p.add_argument("--mirror", default=os.environ.get("REALNET_MIRROR") or None, metavar="URL", help=_MIRROR_HELP)
    p.add_argument("--accept-sha256", action="append", default=[], metavar="HASH",
                   help="accept the refused file whose sha256 is HASH (as the refusal reported it) in place of its "
                        "published hash; repeat for several files")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files, unpacked folders and checkpoints that an earlier fetch did not make")
    p.add_argument("--no-import", action="store_true", help="download weight files without importing them")
    p.add_argument("--retries", type=int, default=3, metavar="N",
                   help="further tries per file after a failed one, each resuming (default 3)")
    p.add_argument("--list", action="store_true",
                   help="without NAME: list what can be fetched; with NAME: list its files and hashes; no download")
    p.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")


def _size(n: int | None) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{n} B"


def _list_sources() -> int:
    print(f"{'name':20s} {'what':90s} origin")
    for source in SOURCES.values():
        subjects = f" [subjects {source.subjects[0]}-{source.subjects[-1]}]" if source.subjects else ""
        print(f"{source.name:20s} {source.title + subjects:90s} {source.origin}")
    return 0


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.errors import UsageError
    from realnet_plugins.fetch.download import require_pooch
    from realnet_plugins.fetch.fetcher import fetch_sources, plan

    if args.list and not args.names:
        return _list_sources()
    if args.retries < 0:
        raise UsageError(f"--retries: expected 0 or more, got {args.retries}")
    subjects = None
    if args.subjects:
        from realnet_plugins.training.cli import parse_subjects

        try:
            subjects = tuple(parse_subjects(args.subjects))
        except ValueError as error:
            raise UsageError(f"--subjects: {error}") from None
    require_pooch()
    if args.list:
        items, notes = plan(args.names, subjects=subjects, mirror=args.mirror, retries=args.retries)
        for note in notes:
            print(note)
        for item in items:
            check = item.published or (f"sha256 starts with {item.sha256_prefix}" if item.sha256_prefix
                                       else "none published (size and sha256 recorded at the first fetch)")
            print(f"{item.key}  {_size(item.size)}  {check}  {item.url}")
        return 0
    if not args.quiet:
        logging.getLogger("realnet_plugins.fetch").setLevel(logging.INFO)
    report = fetch_sources(args.names, subjects=subjects, dest=args.dest, mirror=args.mirror,
                           accept_sha256=args.accept_sha256, overwrite=args.overwrite,
                           import_weights=not args.no_import, retries=args.retries,
                           progress=False if args.quiet else None)
    several_refused = len(report.refused) > 1
    for outcome in report.outcomes:
        item, landed = outcome.item, outcome.landed
        if outcome.status == "refused":
            if several_refused:  # one refusal is the error line itself
                print(f"REFUSED {item.key}: {outcome.refusal}")
            continue
        if landed is None:
            print(f"{item.key}: {outcome.status} {outcome.result}")
            continue
        algorithm = (item.published or "").split(":")[0]
        how = {"published": f"its {algorithm} matches {outcome.checked_against}",
               "accepted": f"matches {outcome.checked_against} (the published {item.published} did not)",
               "recorded": f"matches {outcome.checked_against}",
               "first-fetch": ("no full hash is published"
                               + (f"; its sha256 starts with {item.sha256_prefix}, {item.published_from}"
                                  if item.sha256_prefix else "")
                               + f"; size and sha256 recorded on this first fetch in {report.record_path}, "
                                 "later fetches are checked against them")}[outcome.basis]
        resumed = f" (resumed at byte {landed.resumed_at})" if landed.resumed_at else ""
        print(f"{item.key}: {outcome.status}{resumed}, {_size(landed.size)}, sha256 {landed.sha256}; {how}")
        print(f"    → {outcome.result}")
    for note in report.notes:
        print(f"note: {note}")
    report.raise_for_refusals()
    return 0
