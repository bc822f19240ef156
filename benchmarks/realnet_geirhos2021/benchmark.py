"""Factory of the Geirhos2021 mean benchmark plugin: a thin call into realnet_plugins."""
from realnet_plugins.brainscore_bridge.geirhos2021 import Geirhos2021ErrorConsistencyMean


def error_consistency_mean():
    """``Geirhos2021-error_consistency``: the mean of the 17 upstream error-consistency scores."""
    return Geirhos2021ErrorConsistencyMean()
