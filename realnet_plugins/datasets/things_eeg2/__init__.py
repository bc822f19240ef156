"""THINGS-EEG2 (Gifford et al. 2022): reader, packaging, fixture writer and descriptor.

- :mod:`.reader`: :class:`~.reader.ThingsEEG2Release`, the preprocessed release as published
  (restricted unpickler for its .npy dicts, channels by name, the 0-190 ms window).
- :mod:`.packaging`: ``realnet package things-eeg2``: test-split EEG assemblies, the stimulus
  table and the EEG RDMs (cached by fingerprint); :class:`~.packaging.ThingsEEG2Package` reads it.
- :mod:`.fixtures`: a miniature release in the exact layout (tests, demo).
- :data:`DESCRIPTOR`: the benchmarks built on it.
"""
from realnet_plugins.constants import SUBJECTS
from realnet_plugins.datasets import BenchmarkDescriptor, DatasetDescriptor, Source

BIBTEX = """@article{gifford2022large,
  title={A large and rich EEG dataset for modeling human visual object recognition},
  author={Gifford, Alessandro T. and Dwivedi, Kshitij and Roig, Gemma and Cichy, Radoslaw M.},
  journal={NeuroImage},
  volume={264},
  pages={119754},
  year={2022},
  url={https://doi.org/10.1016/j.neuroimage.2022.119754}
}"""

#: Version of the temporal RSA benchmarks (2: scalar raw/ceiling/error, detail in attrs['detail'],
#: rsatoolbox-pooled inter-subject ceilings, image-bootstrap error for one subject). The crossnobis
#: benchmarks are new at version 2 too, so that one number describes the family.
TEMPORAL_RSA_VERSION = 2
_BRIDGE = "realnet_plugins.brainscore_bridge.benchmarks:RDMBenchmark"
#: How every temporal RSA benchmark summarises (SPEC.md, Evaluation: EEG temporal RSA).
_TEMPORAL_OPTIONS = {
    "region_reduction": "mean",
    "summary_window_ms": (50, 190),
    "detail_dims": ("subject", "region", "time_ms"),
}


#: Brain-Score links are set by the Brain-Score team when the plugin is merged upstream.
_LINK = None


def _metadata(n_subjects: int, rdm_kind: str) -> dict:
    """Brain-Score metadata blocks of a temporal RSA benchmark (facts of the real release)."""
    return {
        "stimulus_set": {"num_stimuli": 200, "datatype": "image", "stimuli_subtype": "THINGS object photographs",
                         "total_size_mb": None, "brainscore_link": _LINK,
                         "extra_notes": "the THINGS-EEG2 test images (200 concepts x 1 image); not redistributed"},
        "data": {"benchmark_type": "neural", "task": "passive viewing, rapid serial visual presentation",
                 "region": "occipito-parietal EEG", "hemisphere": "both", "num_recording_sites": 17,
                 "duration_ms": 200, "species": "human", "datatype": "EEG", "num_subjects": n_subjects,
                 "pre_processing": "the release's preprocessed EEG (MVNN-whitened), 17 O/P channels, 0-190 ms at "
                                   "100 Hz, 80 trials per image; RDMs: " + _KIND_NOTES[rdm_kind],
                 "brainscore_link": _LINK, "extra_notes": None, "data_publicly_available": True},
        "metric": {"type": "rdm", "reference": "Spearman correlation of RDM upper triangles per time point",
                   "public": True, "brainscore_link": _LINK,
                   "extra_notes": "mean over V1/V2/V4/IT and 50-190 ms; ceiling: " + (
                       "inter-subject (leave one subject out)" if n_subjects > 1 else "split-half, Spearman-Brown")},
    }


_KIND_NOTES = {"decoding": "pairwise linear-SVM decoding accuracy, 5-fold cross-validated",
               "crossnobis": "crossnobis distance (5-fold cross-validated, noise-normalised with a shrinkage "
                             "covariance of the epoch's residuals; Guggenmos et al. 2018)"}


def _temporal_rsa(rdm_kind: str, suffix: str, description: str) -> tuple[BenchmarkDescriptor, ...]:
    everyone = BenchmarkDescriptor(
        identifier=f"ThingsEEG2-temporal_rsa{suffix}", version=TEMPORAL_RSA_VERSION, build=_BRIDGE,
        selection={"subject": None, "rdm_kind": rdm_kind}, options=_TEMPORAL_OPTIONS, parent="ThingsEEG2",
        description=f"RSA of V1/V2/V4/IT RDMs with every subject's EEG {description} per 10 ms (0-190 ms); "
                    "inter-subject ceiling", metadata=_metadata(len(SUBJECTS), rdm_kind))
    single = tuple(BenchmarkDescriptor(
        identifier=f"ThingsEEG2.sub-{s:02d}-temporal_rsa{suffix}", version=TEMPORAL_RSA_VERSION, build=_BRIDGE,
        selection={"subject": s, "rdm_kind": rdm_kind}, options=_TEMPORAL_OPTIONS, parent="ThingsEEG2",
        description=f"the same against subject {s} alone; split-half ceiling", metadata=_metadata(1, rdm_kind))
        for s in SUBJECTS)
    return (everyone,) + single


DESCRIPTOR = DatasetDescriptor(
    name="things_eeg2",
    title="THINGS-EEG2 (Gifford et al. 2022), test split: 200 images x 80 trials, 17 occipito-parietal channels",
    package_class="realnet_plugins.datasets.things_eeg2.packaging:ThingsEEG2Package",
    command="things-eeg2",
    cli="realnet_plugins.datasets.things_eeg2.cli",
    benchmarks=_temporal_rsa("decoding", "", "decoding RDM")
    + _temporal_rsa("crossnobis", "_crossnobis", "crossnobis RDM (cross-validated Mahalanobis distance)"),
    bibtex=BIBTEX,
    sources=(
        Source("preprocessed EEG (per subject) and the image set", "https://osf.io/3jk45/",
               "Gifford et al. 2022, NeuroImage 264:119754, doi:10.1016/j.neuroimage.2022.119754"),
    ),
)
