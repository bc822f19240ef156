"""Brain-Score benchmark plugin: the mean of the 17 Geirhos2021 error-consistency benchmarks (realnet-plugins).

Upstream Brain-Score has no benchmark with this id (only a leaderboard parent of 17 ids); the
descriptor is realnet_plugins.datasets.geirhos2021.
"""
from brainscore_vision import benchmark_registry

from realnet_plugins.brainscore_bridge.benchmarks import realnet_benchmark

benchmark_registry['Geirhos2021-error_consistency'] = lambda: realnet_benchmark('Geirhos2021-error_consistency')
