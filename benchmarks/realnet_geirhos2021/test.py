"""Tests of the Geirhos2021 mean benchmark plugin (offline: the upstream data are not needed)."""
from brainscore_vision import load_benchmark

from realnet_plugins.datasets.geirhos2021 import CONDITIONS as GEIRHOS2021_CONDITIONS


def test_identifier_loads_and_names_the_17_upstream_benchmarks():
    benchmark = load_benchmark("Geirhos2021-error_consistency")
    assert benchmark.identifier == "Geirhos2021-error_consistency" and benchmark.version == 2
    assert len(set(GEIRHOS2021_CONDITIONS)) == 17


def test_sub_benchmarks_resolve_to_the_upstream_error_consistency_ids():
    benchmark = load_benchmark("Geirhos2021-error_consistency")
    identifiers = [sub.identifier for sub in benchmark.sub_benchmarks()]
    assert identifiers == [f"Geirhos2021{c}-error_consistency" for c in GEIRHOS2021_CONDITIONS]
