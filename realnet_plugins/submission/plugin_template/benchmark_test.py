"""Tests of this benchmark plugin; Brain-Score runs them as ``pytest -m "not slow" test.py``.

Fast, no data needed: the registration lines are exactly the benchmarks of ``benchmarks.json``,
each names data ids its data plugin registers, and the carried RDM code agrees with numpy and
scipy. Slow (downloads the data and images): each benchmark's ceiling is the one realnet-plugins
computed from the same data when the plugin was generated.

This file is a template of realnet-plugins (``realnet_plugins/submission/plugin_template``), copied
unchanged into each generated benchmark plugin.
"""
from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import numpy as np
import pytest
from brainscore_core.plugin_management.parse_plugin_changes import get_plugin_ids
from scipy.stats import spearmanr

PLUGIN_DIR = Path(__file__).resolve().parent
SPECS = json.loads((PLUGIN_DIR / "benchmarks.json").read_text(encoding="utf-8"))
ROOT = str(PLUGIN_DIR.parent.parent)


def test_registrations_are_the_benchmarks_of_the_specs():
    assert get_plugin_ids("benchmarks", [PLUGIN_DIR.name], ROOT) == list(SPECS["benchmarks"])


def test_every_benchmark_reads_data_its_data_plugin_registers():
    for identifier, spec in SPECS["benchmarks"].items():
        registered = get_plugin_ids("data", [spec["data_plugin"]], ROOT)
        assert spec["data"] and set(spec["data"]) <= set(registered), identifier


def test_carried_rdm_code_agrees_with_numpy_and_scipy():
    rdm = importlib.import_module(f"brainscore_vision.benchmarks.{PLUGIN_DIR.name}.realnet_lib.rsa.rdm")
    rng = np.random.default_rng(0)
    features = rng.standard_normal((12, 40))
    expected = 1 - np.corrcoef(features)
    np.fill_diagonal(expected, 0)
    assert np.allclose(rdm.model_rdm(features), expected)
    other = rdm.model_rdm(rng.standard_normal((12, 40)))
    rows, columns = np.triu_indices(12, k=1)
    reference = spearmanr(expected[rows, columns], other[rows, columns]).correlation
    assert math.isclose(float(rdm.compare_rdms(expected, other, method="spearman")), reference, abs_tol=1e-12)


@pytest.mark.slow
@pytest.mark.private_access
@pytest.mark.parametrize("identifier", list(SPECS["benchmarks"]))
def test_ceiling_is_the_one_realnet_plugins_computed(identifier):
    from brainscore_vision import load_benchmark

    expected = SPECS["benchmarks"][identifier]["expected_ceiling"]
    benchmark = load_benchmark(identifier)
    assert benchmark.identifier == identifier
    ceiling = float(benchmark.ceiling)
    assert (math.isnan(ceiling) and expected is None) or ceiling == pytest.approx(expected, rel=1e-9, abs=1e-12)
