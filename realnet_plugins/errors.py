"""Exceptions raised by realnet-plugins.

Every message says what was expected, what was found, and what to do about it. Each class also
derives from the matching built-in (``ValueError``, ``FileNotFoundError``) so callers that catch
those keep working.
"""
from __future__ import annotations


class RealnetError(Exception):
    """Base class of every error this package raises on purpose."""


class DataFormatError(RealnetError, ValueError):
    """An input file or array does not have the documented layout (shape, dtype, keys, names)."""


class MissingFileError(RealnetError, FileNotFoundError):
    """A file the operation needs is not where it should be."""


class OutputExistsError(RealnetError, FileExistsError):
    """An output exists already and replacing it was not asked for."""


class CheckpointError(RealnetError, ValueError):
    """A checkpoint is corrupt, foreign, tampered with, or does not fit the architecture."""


class UnsafePickleError(DataFormatError):
    """A pickled file asks to build an object outside the small allowed set; nothing was run."""


class UsageError(RealnetError, ValueError):
    """A request names nothing to work on, or something that does not exist (a model, a benchmark)."""


class MissingDependencyError(RealnetError, ImportError):
    """An optional package a requested feature needs is not installed (or cannot be imported)."""
