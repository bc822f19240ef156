"""Brain-Score benchmark plugin: THINGS-EEG2 temporal RSA (realnet-plugins).

One literal registration line per identifier. ThingsEEG2-temporal_rsa compares a model with every
packaged subject; ThingsEEG2.sub-NN-temporal_rsa with one subject (split-half ceiling).
"""
from brainscore_vision import benchmark_registry

from .benchmark import temporal_rsa_benchmark

benchmark_registry['ThingsEEG2-temporal_rsa'] = lambda: temporal_rsa_benchmark(None)
benchmark_registry['ThingsEEG2.sub-01-temporal_rsa'] = lambda: temporal_rsa_benchmark(1)
benchmark_registry['ThingsEEG2.sub-02-temporal_rsa'] = lambda: temporal_rsa_benchmark(2)
benchmark_registry['ThingsEEG2.sub-03-temporal_rsa'] = lambda: temporal_rsa_benchmark(3)
benchmark_registry['ThingsEEG2.sub-04-temporal_rsa'] = lambda: temporal_rsa_benchmark(4)
benchmark_registry['ThingsEEG2.sub-05-temporal_rsa'] = lambda: temporal_rsa_benchmark(5)
benchmark_registry['ThingsEEG2.sub-06-temporal_rsa'] = lambda: temporal_rsa_benchmark(6)
benchmark_registry['ThingsEEG2.sub-07-temporal_rsa'] = lambda: temporal_rsa_benchmark(7)
benchmark_registry['ThingsEEG2.sub-08-temporal_rsa'] = lambda: temporal_rsa_benchmark(8)
benchmark_registry['ThingsEEG2.sub-09-temporal_rsa'] = lambda: temporal_rsa_benchmark(9)
benchmark_registry['ThingsEEG2.sub-10-temporal_rsa'] = lambda: temporal_rsa_benchmark(10)
