"""Argument types that check paths while the command line is parsed, before any work starts.

Each is an ``argparse`` ``type=``: a wrong path becomes one ``realnet VERB: error: argument --x: ...``
line (exit status 2) instead of a failure minutes later, and an output suffix the verb cannot write
is refused instead of silently ignored. Standard library only (``--help`` stays fast).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Callable

#: Suffixes that name a file, not a folder: refused where an output folder is expected.
_FILE_SUFFIXES = (".html", ".htm", ".pdf", ".png", ".svg", ".csv", ".json", ".nc", ".npz", ".pt", ".pth", ".zip",
                  ".txt", ".md")


def _check_writable_place(path: Path, text: str) -> None:
    """Refuse ``path`` when the nearest existing folder above it is a file or not writable."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"expected a folder at {ancestor} to write {text} into, found a file there")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(
            f"expected a folder you can write {text} into, found {ancestor} without write permission; choose another "
            "place"
        )


def existing_file(what: str) -> Callable[[str], Path]:
    """A ``type=`` accepting a path to an existing file; ``what`` describes it in the error message."""
    def check(text: str) -> Path:
        path = Path(text).expanduser()
        if path.is_file():
            return path
        found = "a folder" if path.is_dir() else "nothing"
        raise argparse.ArgumentTypeError(f"expected {what}, found {found} at {text}; check the path")
    return check


def existing_folder(what: str) -> Callable[[str], Path]:
    """A ``type=`` accepting a path to an existing folder; ``what`` describes it in the error message."""
    def check(text: str) -> Path:
        path = Path(text).expanduser()
        if path.is_dir():
            return path
        found = "a file" if path.exists() else "nothing"
        raise argparse.ArgumentTypeError(f"expected {what}, found {found} at {text}; check the path")
    return check


def output_file(*suffixes: str, what: str) -> Callable[[str], Path]:
    """A ``type=`` accepting a file path ending in one of ``suffixes`` (case-insensitive) that is not a folder."""
    def check(text: str) -> Path:
        path = Path(text).expanduser()
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(
                f"expected {what} (a name ending in {' or '.join(suffixes)}), found {text!r}; "
                f"name the file with one of those suffixes"
            )
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"expected {what}, found a folder at {text}; give a file name")
        _check_writable_place(path, text)
        return path
    return check


def output_folder(what: str) -> Callable[[str], Path]:
    """A ``type=`` accepting a folder path (existing or to be created) that is not a file or a file name."""
    def check(text: str) -> Path:
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            raise argparse.ArgumentTypeError(f"expected {what}, found a file at {text}; give a folder")
        if not path.exists() and path.suffix.lower() in _FILE_SUFFIXES:
            raise argparse.ArgumentTypeError(
                f"expected {what}, found the file name {text!r}; give a folder (the files are written into it)"
            )
        _check_writable_place(path / "x", text)
        return path
    return check


def positive_int(text: str) -> int:
    """A ``type=`` accepting a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found {value}")
    return value
