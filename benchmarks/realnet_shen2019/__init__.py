"""Brain-Score benchmark plugin: Shen et al. 2019 fMRI RSA (realnet-plugins).

One literal registration line per identifier.
"""
from brainscore_vision import benchmark_registry

from .benchmark import rsa_benchmark

benchmark_registry['Shen2019.natural-rsa'] = lambda: rsa_benchmark('natural')
benchmark_registry['Shen2019.shape-rsa'] = lambda: rsa_benchmark('shape')
benchmark_registry['Shen2019.letter-rsa'] = lambda: rsa_benchmark('letter')
