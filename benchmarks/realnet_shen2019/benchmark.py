"""Factories of the Shen 2019 benchmark plugin: thin calls into realnet_plugins."""
from realnet_plugins.brainscore_bridge.benchmarks import Shen2019RSA


def rsa_benchmark(image_set):
    """``Shen2019.<image_set>-rsa``."""
    return Shen2019RSA(image_set)
