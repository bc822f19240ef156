"""Loaders of the THINGS-EEG2 data plugin: thin calls into realnet_plugins."""
from realnet_plugins.brainscore_bridge.assemblies import things_eeg2_assembly, things_eeg2_stimulus_set


def load_assembly(subject: int):
    """Subject ``subject``'s single-trial test EEG (NeuroidAssembly presentation × neuroid × time_bin)."""
    return things_eeg2_assembly(subject)


def load_stimulus_set():
    """The THINGS-EEG2 test images (StimulusSet pointing at the user's files)."""
    return things_eeg2_stimulus_set()
