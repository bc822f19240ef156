"""Brain-Score benchmark plugin: the mean of the 17 Geirhos2021 error-consistency benchmarks (realnet-plugins).

Upstream Brain-Score has no benchmark with this id: its leaderboard node ``Geirhos2021`` averages the 17
``Geirhos2021<dataset>-error_consistency`` scores, and this benchmark computes that mean by running them.
"""
from brainscore_vision import benchmark_registry

from .benchmark import error_consistency_mean

benchmark_registry['Geirhos2021-error_consistency'] = lambda: error_consistency_mean()
