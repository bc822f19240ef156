"""Brain-Score benchmark plugin: THINGS-EEG2 temporal RSA (realnet-plugins).

One literal registration line per identifier; each builds the benchmark its dataset descriptor
declares (realnet_plugins.datasets.things_eeg2). ThingsEEG2-temporal_rsa compares a model with every
packaged subject's decoding RDMs (the paper's); ThingsEEG2.sub-NN-temporal_rsa with one subject
(split-half ceiling); the *_crossnobis ids do the same with crossnobis RDMs.
"""
from brainscore_vision import benchmark_registry

from realnet_plugins.brainscore_bridge.benchmarks import realnet_benchmark

benchmark_registry['ThingsEEG2-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-01-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-01-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-02-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-02-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-03-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-03-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-04-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-04-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-05-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-05-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-06-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-06-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-07-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-07-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-08-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-08-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-09-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-09-temporal_rsa')
benchmark_registry['ThingsEEG2.sub-10-temporal_rsa'] = lambda: realnet_benchmark('ThingsEEG2.sub-10-temporal_rsa')
benchmark_registry['ThingsEEG2-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-01-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-01-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-02-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-02-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-03-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-03-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-04-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-04-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-05-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-05-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-06-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-06-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-07-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-07-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-08-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-08-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-09-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-09-temporal_rsa_crossnobis')
benchmark_registry['ThingsEEG2.sub-10-temporal_rsa_crossnobis'] = lambda: realnet_benchmark('ThingsEEG2.sub-10-temporal_rsa_crossnobis')
