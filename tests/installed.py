"""Helpers for tests that must run against the regular install in a fresh process.

Brain-Score discovers plugins by grepping ``site-packages/brainscore_vision/<kind>/*/__init__.py``,
so these tests run code in a new interpreter (``sys.executable``) whose working directory is a
temporary folder: the checkout is never on its ``sys.path``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def site_plugin_dir(kind: str, name: str) -> Path:
    """The installed plugin folder ``brainscore_vision/<kind>/<name>``; fails the test with advice if absent."""
    out = subprocess.run(
        [sys.executable, "-c", "import brainscore_vision, os; print(os.path.dirname(brainscore_vision.__file__))"],
        capture_output=True, text=True, cwd="/", check=True,
    )
    folder = Path(out.stdout.strip()) / kind / name
    if not (folder / "__init__.py").is_file():
        pytest.fail(f"{folder} is not installed: run `pip install .` (a regular, non-editable install) first")
    return folder


def run_fresh(code: str, *, home: Path, cwd: Path, timeout: int = 900,
              extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``code`` in a new interpreter with $REALNET_HOME=home, no dependency installs, no result caching."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update({
        "REALNET_HOME": str(home), "BS_INSTALL_DEPENDENCIES": "no", "RESULTCACHING_DISABLE": "1",
        "RESULTCACHING_HOME": str(cwd / "resultcaching"), "BRAINIO_HOME": str(cwd / "brainio"),
        "BRAINSCORE_HOME": str(cwd / "brainscore"), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "2",
    })
    env.update(extra_env or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)
