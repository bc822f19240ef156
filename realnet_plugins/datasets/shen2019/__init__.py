"""Shen et al. 2019 fMRI ("Deep image reconstruction"): reader, packaging, fixture writer, descriptor.

- :mod:`.reader`: bdpy "BData" HDF5 files and stimulus lists, read with h5py.
- :mod:`.packaging`: ``realnet package shen2019``: ROI assemblies, stimulus tables and fMRI RDMs;
  :class:`~.packaging.Shen2019Package` reads it.
- :mod:`.fixtures`: miniature files in the exact layout (tests, demo).
- :data:`DESCRIPTOR`: the benchmarks built on it.
"""
from realnet_plugins.datasets import BenchmarkDescriptor, DatasetDescriptor, Source

BIBTEX = """@article{shen2019deep,
  title={Deep image reconstruction from human brain activity},
  author={Shen, Guohua and Horikawa, Tomoyasu and Majima, Kei and Kamitani, Yukiyasu},
  journal={PLoS Computational Biology},
  volume={15},
  number={1},
  pages={e1006633},
  year={2019},
  url={https://doi.org/10.1371/journal.pcbi.1006633}
}"""

#: Version of the ROI RSA benchmarks (2: scalar raw/ceiling/error, detail in attrs['detail'],
#: rsatoolbox-pooled inter-subject ceilings).
ROI_RSA_VERSION = 2
#: How every ROI RSA benchmark summarises (SPEC.md, Evaluation: fMRI RSA).
_ROI_OPTIONS = {
    "region_reduction": "max",
    "summary_window_ms": None,
    "detail_dims": ("subject", "roi", "region"),
}
_IMAGE_SETS = ("natural", "shape", "letter")

DESCRIPTOR = DatasetDescriptor(
    name="shen2019",
    title="Shen et al. 2019 fMRI test sessions: 3 subjects, natural images (50), shapes (40), letters (10)",
    package_class="realnet_plugins.datasets.shen2019.packaging:Shen2019Package",
    command="shen2019",
    cli="realnet_plugins.datasets.shen2019.cli",
    benchmarks=tuple(BenchmarkDescriptor(
        identifier=f"Shen2019.{image_set}-rsa", version=ROI_RSA_VERSION,
        build="realnet_plugins.brainscore_bridge.benchmarks:RDMBenchmark",
        selection={"image_set": image_set}, options=_ROI_OPTIONS, parent="Shen2019",
        description=f"fMRI ROI RSA on the {image_set} images (V1, V2, V3, V4, LOC; max over model regions)")
        for image_set in _IMAGE_SETS),
    bibtex=BIBTEX,
    sources=(
        Source("preprocessed fMRI (BData .h5) of the test sessions", "https://doi.org/10.6084/m9.figshare.7033577",
               "Shen et al. 2019, PLoS Comput Biol 15:e1006633, doi:10.1371/journal.pcbi.1006633"),
        Source("raw data and stimulus lists", "https://openneuro.org/datasets/ds001506", ""),
    ),
)
