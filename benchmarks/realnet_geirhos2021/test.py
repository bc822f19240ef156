"""Tests of the Geirhos2021 mean benchmark plugin (offline: the upstream data are not needed)."""
from brainscore_vision import load_benchmark

from realnet_plugins.brainscore_bridge.geirhos2021 import GEIRHOS2021_DATASETS, Geirhos2021ErrorConsistencyMean


def test_identifier_loads_the_documented_mean_benchmark():
    benchmark = load_benchmark("Geirhos2021-error_consistency")
    assert isinstance(benchmark, Geirhos2021ErrorConsistencyMean)
    assert (benchmark.identifier, benchmark.version, benchmark.parent) == ("Geirhos2021-error_consistency", 2,
                                                                            "behavior")
    assert len(set(GEIRHOS2021_DATASETS)) == 17


def test_sub_benchmarks_resolve_to_the_upstream_error_consistency_ids():
    benchmark = load_benchmark("Geirhos2021-error_consistency")
    identifiers = [sub.identifier for sub in benchmark.sub_benchmarks()]
    assert identifiers == [f"Geirhos2021{d.replace('-', '')}-error_consistency" for d in GEIRHOS2021_DATASETS]
