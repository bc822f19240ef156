"""Geirhos et al. 2021 (model-vs-human), as Brain-Score keeps it: descriptor of the mean benchmark.

Upstream Brain-Score registers 17 ``Geirhos2021<condition>-error_consistency`` benchmarks (its data
plugin downloads their assemblies and images from Brain-Score's storage) and no benchmark that
averages them; the leaderboard does. ``Geirhos2021-error_consistency`` is that average, as the paper
used it. The data stay in Brain-Score's storage (``$BRAINIO_HOME``), so there is no package here.
"""
from realnet_plugins.datasets import BenchmarkDescriptor, DatasetDescriptor, Source

#: Upstream's 17 Geirhos2021 data sets with an error-consistency benchmark, in upstream's order and
#: spelling (data ids ``Geirhos2021_<data set>``; benchmark ids drop the hyphens).
DATASETS: tuple[str, ...] = (
    "colour", "contrast", "cue-conflict", "edge", "eidolonI", "eidolonII", "eidolonIII", "false-colour",
    "high-pass", "low-pass", "phase-scrambling", "power-equalisation", "rotation", "silhouette", "sketch",
    "stylized", "uniform-noise",
)
#: Version of the mean benchmark (2: score = mean ceiled, raw = mean raw, ceiling = mean ceiling, error = SEM).
MEAN_VERSION = 2
BIBTEX = """@inproceedings{geirhos2021partial,
  title={Partial success in closing the gap between human and machine vision},
  author={Geirhos, Robert and Narayanappa, Kantharaju and Mitzkus, Benjamin and Thieringer, Tizian and Bethge, Matthias and Wichmann, Felix A. and Brendel, Wieland},
  booktitle={Advances in Neural Information Processing Systems},
  volume={34},
  pages={23885--23899},
  year={2021},
  url={https://openreview.net/forum?id=QkljT4mrfs}
}"""  # noqa: E501


def upstream_identifiers() -> list[str]:
    """The 17 upstream ids ``Geirhos2021<data set>-error_consistency``, in :data:`DATASETS` order."""
    return [f"Geirhos2021{dataset.replace('-', '')}-error_consistency" for dataset in DATASETS]


DESCRIPTOR = DatasetDescriptor(
    name="geirhos2021",
    title="Geirhos et al. 2021 out-of-distribution image classification (Brain-Score's 17 error-consistency sets)",
    brainscore_data=True,
    bibtex=BIBTEX,
    benchmarks=(BenchmarkDescriptor(
        identifier="Geirhos2021-error_consistency", version=MEAN_VERSION,
        build="realnet_plugins.brainscore_bridge.benchmarks:geirhos2021_error_consistency_mean",
        parent="behavior",
        description="mean of Brain-Score's 17 Geirhos2021 error-consistency benchmarks (the leaderboard's average)",
        metadata={
            "stimulus_set": {"num_stimuli": None, "datatype": "image", "stimuli_subtype": None, "total_size_mb": None,
                             "brainscore_link": "https://github.com/brain-score/vision/tree/master/brainscore_vision/"
                                                "data/geirhos2021",
                             "extra_notes": "the 17 upstream Geirhos2021 stimulus sets"},
            "data": {"benchmark_type": "behavioral", "task": "16-way object categorisation", "region": None,
                     "hemisphere": None, "num_recording_sites": None, "duration_ms": None, "species": "human",
                     "datatype": "behavioral", "num_subjects": None, "pre_processing": None,
                     "brainscore_link": "https://github.com/brain-score/vision/tree/master/brainscore_vision/data/"
                                        "geirhos2021",
                     "extra_notes": "upstream's data; this benchmark only averages", "data_publicly_available": True},
            "metric": {"type": "error_consistency", "reference": "Geirhos et al. 2020, NeurIPS", "public": True,
                       "brainscore_link": "https://github.com/brain-score/vision/tree/master/brainscore_vision/"
                                          "metrics/error_consistency",
                       "extra_notes": "mean of the 17 ceiled scores; raw = mean raw, ceiling = mean ceiling, so "
                                      "score != raw / ceiling"},
        }),),
    sources=(Source("assemblies and images, downloaded by Brain-Score at first use", "https://www.brain-score.org",
                    "Geirhos et al. 2021, NeurIPS 34, arXiv:2106.07411"),),
)
