"""The core (everything but brainscore_bridge) imports and trains on a machine without Brain-Score (DESIGN.md)."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
import textwrap

import realnet_plugins


def _core_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(realnet_plugins.__path__, "realnet_plugins.")]
    return sorted(n for n in names if ".brainscore_bridge" not in n) + ["realnet_plugins.training.loop"]


def test_every_core_module_imports_with_brainscore_unavailable():
    code = textwrap.dedent(f"""
        import importlib, sys
        sys.modules['brainscore_vision'] = None   # any import of it now fails
        sys.modules['brainscore_core'] = None
        for name in {_core_modules()!r}:
            importlib.import_module(name)
        from realnet_plugins.cli import main
        try:
            main(['train', '--help'])
        except SystemExit as e:
            assert e.code == 0
        print('ok')
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.strip().endswith("ok")
