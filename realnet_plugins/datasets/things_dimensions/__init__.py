"""The THINGS 49 object dimensions (Hebart et al. 2020, SPoSE embedding): reader and descriptor.

Used by the report's Fig. 3 analysis (partial correlations of the IT RDM with each dimension's RDM);
no benchmark is built on it. Its fixture embedding comes with the THINGS-EEG2 fixture world
(:func:`realnet_plugins.datasets.things_eeg2.fixtures.write_spose_embedding`), whose images it describes.
"""
from realnet_plugins.datasets import DatasetDescriptor, Source

DESCRIPTOR = DatasetDescriptor(
    name="things_dimensions",
    title="THINGS 49 object dimensions (Hebart et al. 2020, SPoSE embedding)",
    sources=(Source("spose_embedding_49d_sorted.txt", "https://doi.org/10.1038/s41562-020-00951-3",
                    "Hebart et al. 2020, Nature Human Behaviour 4:1173, doi:10.1038/s41562-020-00951-3"),),
)
