"""Brain-Score benchmark plugin: Shen et al. 2019 fMRI ROI RSA (realnet-plugins).

One literal registration line per identifier; each builds the benchmark its dataset descriptor
declares (realnet_plugins.datasets.shen2019).
"""
from brainscore_vision import benchmark_registry

from realnet_plugins.brainscore_bridge.benchmarks import realnet_benchmark

benchmark_registry['Shen2019.natural-rsa'] = lambda: realnet_benchmark('Shen2019.natural-rsa')
benchmark_registry['Shen2019.shape-rsa'] = lambda: realnet_benchmark('Shen2019.shape-rsa')
benchmark_registry['Shen2019.letter-rsa'] = lambda: realnet_benchmark('Shen2019.letter-rsa')
