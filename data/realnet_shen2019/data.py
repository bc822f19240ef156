"""Loaders of the Shen 2019 data plugin: thin calls into realnet_plugins."""
from realnet_plugins.brainscore_bridge.assemblies import shen2019_assembly, shen2019_stimulus_set


def load_assembly(image_set: str):
    """Every subject's and ROI's repetition-averaged responses to ``image_set`` (NeuroidAssembly)."""
    return shen2019_assembly(image_set)


def load_stimulus_set(image_set: str):
    """The images of ``image_set`` (StimulusSet pointing at the user's files)."""
    return shen2019_stimulus_set(image_set)
