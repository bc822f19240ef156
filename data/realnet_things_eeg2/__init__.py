"""Brain-Score data plugin: the packaged THINGS-EEG2 test split (realnet-plugins).

One literal registration line per identifier (Brain-Score finds plugins by grepping this file).
Data are read from $REALNET_HOME; make them with `realnet package things-eeg2 --source DIR`.
"""
from brainscore_vision import data_registry, stimulus_set_registry

from realnet_plugins.brainscore_bridge.assemblies import load_assembly, load_stimulus_set

data_registry['ThingsEEG2.sub-01'] = lambda: load_assembly('things_eeg2', subject=1)
data_registry['ThingsEEG2.sub-02'] = lambda: load_assembly('things_eeg2', subject=2)
data_registry['ThingsEEG2.sub-03'] = lambda: load_assembly('things_eeg2', subject=3)
data_registry['ThingsEEG2.sub-04'] = lambda: load_assembly('things_eeg2', subject=4)
data_registry['ThingsEEG2.sub-05'] = lambda: load_assembly('things_eeg2', subject=5)
data_registry['ThingsEEG2.sub-06'] = lambda: load_assembly('things_eeg2', subject=6)
data_registry['ThingsEEG2.sub-07'] = lambda: load_assembly('things_eeg2', subject=7)
data_registry['ThingsEEG2.sub-08'] = lambda: load_assembly('things_eeg2', subject=8)
data_registry['ThingsEEG2.sub-09'] = lambda: load_assembly('things_eeg2', subject=9)
data_registry['ThingsEEG2.sub-10'] = lambda: load_assembly('things_eeg2', subject=10)
stimulus_set_registry['ThingsEEG2.test'] = lambda: load_stimulus_set('things_eeg2')
