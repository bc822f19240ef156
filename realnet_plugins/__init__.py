"""realnet-plugins: ReAlnet (Lu, Wang & Golomb 2026) as reusable research software.

The core (this package without :mod:`realnet_plugins.brainscore_bridge`, and
:mod:`realnet_plugins.training`) needs only torch, torchvision, numpy, scipy and scikit-learn, so it
runs on a bare GPU machine from the source tree (``PYTHONPATH=.``).
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

__version__ = "0.2.0"


class _SourceTreeTraining(importlib.abc.MetaPathFinder):
    """Serve ``realnet_plugins.training`` from ``<repo>/training`` when running from the source tree.

    An installed distribution maps ``training/`` to ``realnet_plugins/training`` (setup.py); a
    checkout used with ``PYTHONPATH=.`` has it beside the package instead.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 - importlib protocol
        if fullname != f"{__name__}.training":
            return None
        return importlib.util.spec_from_file_location(
            fullname, self.folder / "__init__.py", submodule_search_locations=[str(self.folder)]
        )


_here = Path(__file__).resolve().parent
if not (_here / "training").is_dir() and (_here.parent / "training" / "__init__.py").is_file():
    sys.meta_path.append(_SourceTreeTraining(_here.parent / "training"))
