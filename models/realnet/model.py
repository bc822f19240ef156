"""Factories of the ReAlnet model plugin: thin calls into realnet_plugins."""
from realnet_plugins.brainscore_bridge.models import model_commitment


def get_model(identifier: str):
    """A fresh ``ModelCommitment`` for ``identifier``, from ``$REALNET_HOME/checkpoints/<identifier>.pt``."""
    return model_commitment(identifier)
