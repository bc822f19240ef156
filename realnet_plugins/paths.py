"""Where realnet-plugins keeps its files.

Everything the package writes (checkpoints, image caches, packaged assemblies, RDM caches, scores)
lives under one root, ``$REALNET_HOME``; by default the user's cache directory
(``$XDG_CACHE_HOME/realnet`` or ``~/.cache/realnet``).
"""
from __future__ import annotations

import os
from pathlib import Path


def realnet_home() -> Path:
    """The root folder of every artefact; ``$REALNET_HOME`` if set (created on demand)."""
    env = os.environ.get("REALNET_HOME")
    if env:
        root = Path(env).expanduser()
    else:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(cache) / "realnet"
    return root


def checkpoints_dir() -> Path:
    """``$REALNET_HOME/checkpoints``: one ``<identifier>.pt`` file per Brain-Score identifier."""
    return realnet_home() / "checkpoints"


def cache_dir(kind: str) -> Path:
    """``$REALNET_HOME/cache/<kind>``: fingerprint-keyed caches (images, pseudo-labels, RDMs...)."""
    return realnet_home() / "cache" / kind


def assemblies_dir() -> Path:
    """``$REALNET_HOME/assemblies``: packaged netCDF assemblies and stimulus sets."""
    return realnet_home() / "assemblies"
