"""ARCHITECTURE.md's recipe "add a dataset and its benchmark", walked by a toy dataset.

The toy dataset (``tests/bs_test_plugin/realnet_toy``) is a descriptor, a small package class and
one plugin line, installed by a regular install of the test plugin distribution and registered
through the ``realnet_plugins.datasets`` entry point. realnet_plugins itself never names it; this
test packages it with ``realnet package toy`` and scores it through Brain-Score in fresh processes.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

import realnet_plugins
from realnet_plugins.fixtures.weights import write_fixture_checkpoint

from installed import run_fresh


def _realnet(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).parent / "realnet"
    env = {"REALNET_HOME": str(home), "BS_INSTALL_DEPENDENCIES": "no", "PATH": "/usr/bin:/bin",
           "RESULTCACHING_DISABLE": "1", "REALNET_BS_BATCH_SIZE": "10"}
    return subprocess.run([str(executable), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_nothing_in_realnet_plugins_names_the_toy_dataset():
    source = Path(realnet_plugins.__file__).parent
    for path in source.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "realnet_toy" not in text and "RealnetToy" not in text, path


def test_toy_dataset_packages_and_scores_through_brainscore_in_fresh_processes(realnet_home, tmp_path):
    try:
        from realnet_toy.package import PHOTOS, write_release
    except ImportError:
        pytest.fail("the test plugin distribution is not installed: pip install tests/bs_test_plugin (regular install)")

    release = write_release(tmp_path / "toy-release")
    write_fixture_checkpoint("realnet_s01", image_size=32, seed=2)
    packaged = _realnet("package", "toy", "--source", str(release), home=realnet_home, cwd=tmp_path)
    assert packaged.returncode == 0, packaged.stderr[-2000:]
    assert "toy: packaged" in packaged.stdout
    listed = _realnet("package", "--help", home=realnet_home, cwd=tmp_path)
    assert "toy" in listed.stdout and "RealnetToy-rsa" in listed.stdout

    res = run_fresh("""
        import json
        from brainscore_vision import score
        from realnet_plugins.cli import main
        s = score('realnet_s01', 'RealnetToy-rsa')
        code = main(['score', '--models', 'realnet_s01', '--benchmarks', 'RealnetToy-rsa', '--quiet'])
        detail = s.attrs['detail']
        print(json.dumps({"value": float(s), "raw": float(s.attrs['raw']), "ceiling": float(s.attrs['ceiling']),
                          "error": s.attrs['error'], "dims": list(detail.dims), "detail": detail.values.tolist(),
                          "identifier": s.attrs['benchmark_identifier'], "code": code}))
    """, home=realnet_home, cwd=tmp_path, extra_env={"REALNET_BS_BATCH_SIZE": "10"})
    assert res.returncode == 0, res.stderr[-3000:]
    result = json.loads(res.stdout.strip().splitlines()[-1])
    assert result["identifier"] == "RealnetToy-rsa" and result["code"] == 0
    assert result["dims"] == ["subject", "roi", "region"] and len(result["detail"]) == 3
    detail = np.array(result["detail"])
    assert result["raw"] == pytest.approx(detail.max(axis=2).mean())
    assert result["value"] == pytest.approx(min(max(result["raw"] / result["ceiling"], 0), 1))

    # the ceiling is the leave-one-subject-out consistency of the packaged RDMs, as for the paper's benchmarks
    responses = np.load(release / "responses.npy")
    rdms = np.stack([1 - np.corrcoef(r) for r in responses])
    upper = np.triu_indices(len(PHOTOS), 1)
    assert result["ceiling"] > 0.5
    assert np.isfinite(result["error"])
    # the score store keyed the record by the descriptor's version and the toy package's fingerprint
    records = list((realnet_home / "scores" / "RealnetToy-rsa").glob("realnet_s01--*.json"))
    assert len(records) == 1
    parts = json.loads(records[0].read_text())["key_parts"]
    current = json.loads((realnet_home / "assemblies" / "toy" / "current.json").read_text())
    assert parts["benchmark_version"] == "realnet-1" and parts["data_fingerprint"] == current["fingerprint"]
    assert spearmanr(rdms[0][upper], rdms[1][upper])[0] > 0.5  # the toy subjects share structure
