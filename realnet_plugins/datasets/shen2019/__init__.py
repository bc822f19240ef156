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
_IMAGE_SETS = {"natural": 50, "shape": 40, "letter": 10}
#: Brain-Score links are set by the Brain-Score team when the plugin is merged upstream.
_LINK = None


def _metadata(image_set: str, n_images: int) -> dict:
    """Brain-Score metadata blocks of one image set's ROI RSA benchmark (facts of the real files)."""
    return {
        "stimulus_set": {"num_stimuli": n_images, "datatype": "image", "stimuli_subtype": {
            "natural": "ImageNet photographs", "shape": "coloured geometric shapes", "letter": "alphabetical letters"}[
            image_set], "total_size_mb": None, "brainscore_link": _LINK,
            "extra_notes": "Shen et al. 2019 test stimuli; not redistributed"},
        "data": {"benchmark_type": "neural", "task": "passive viewing (fixation)", "region": "V1,V2,V3,V4,LOC",
                 "hemisphere": "both", "num_recording_sites": None, "duration_ms": 8000, "species": "human",
                 "datatype": "fMRI", "num_subjects": 3,
                 "pre_processing": "the release's preprocessed BData volumes; repetitions averaged per image; "
                                   "RDM = 1 - Pearson r between voxel patterns per ROI",
                 "brainscore_link": _LINK, "extra_notes": None, "data_publicly_available": True},
        "metric": {"type": "rdm", "reference": "Spearman correlation of RDM upper triangles", "public": True,
                   "brainscore_link": _LINK,
                   "extra_notes": "max over model regions per ROI, mean over ROIs and subjects; inter-subject "
                                  "ceiling (leave one subject out)"},
    }


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
        description=f"fMRI ROI RSA on the {image_set} images (V1, V2, V3, V4, LOC; max over model regions)",
        metadata=_metadata(image_set, n_images))
        for image_set, n_images in _IMAGE_SETS.items()),
    bibtex=BIBTEX,
    sources=(
        Source("preprocessed fMRI (BData .h5) of the test sessions", "https://doi.org/10.6084/m9.figshare.7033577",
               "Shen et al. 2019, PLoS Comput Biol 15:e1006633, doi:10.1371/journal.pcbi.1006633"),
        Source("raw data and stimulus lists", "https://openneuro.org/datasets/ds001506", ""),
    ),
)
