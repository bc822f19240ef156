"""Benchmark plugin of the toy dataset (tests/bs_test_plugin/realnet_toy): its plugin line, nothing else."""
from brainscore_vision import benchmark_registry

from realnet_plugins.brainscore_bridge.benchmarks import realnet_benchmark

benchmark_registry['RealnetToy-rsa'] = lambda: realnet_benchmark('RealnetToy-rsa')
