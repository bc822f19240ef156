"""Brain-Score data plugin: the packaged Shen et al. 2019 fMRI test sessions (realnet-plugins).

One literal registration line per identifier (Brain-Score finds plugins by grepping this file).
Data are read from $REALNET_HOME; make them with `realnet package shen2019 --source DIR`.
"""
from brainscore_vision import data_registry, stimulus_set_registry

from realnet_plugins.brainscore_bridge.assemblies import load_assembly, load_stimulus_set

data_registry['Shen2019.natural'] = lambda: load_assembly('shen2019', image_set='natural')
data_registry['Shen2019.shape'] = lambda: load_assembly('shen2019', image_set='shape')
data_registry['Shen2019.letter'] = lambda: load_assembly('shen2019', image_set='letter')
stimulus_set_registry['Shen2019.natural'] = lambda: load_stimulus_set('shen2019', image_set='natural')
stimulus_set_registry['Shen2019.shape'] = lambda: load_stimulus_set('shen2019', image_set='shape')
stimulus_set_registry['Shen2019.letter'] = lambda: load_stimulus_set('shen2019', image_set='letter')
