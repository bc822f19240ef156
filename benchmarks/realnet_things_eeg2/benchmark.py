"""Factories of the THINGS-EEG2 benchmark plugin: thin calls into realnet_plugins."""
from realnet_plugins.brainscore_bridge.benchmarks import ThingsEEG2TemporalRSA


def temporal_rsa_benchmark(subject):
    """``ThingsEEG2-temporal_rsa`` (subject None) or ``ThingsEEG2.sub-NN-temporal_rsa``."""
    return ThingsEEG2TemporalRSA(subject)
