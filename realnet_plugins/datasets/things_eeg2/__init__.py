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
#: rsatoolbox-pooled inter-subject ceilings).
TEMPORAL_RSA_VERSION = 2
_BRIDGE = "realnet_plugins.brainscore_bridge.benchmarks:RDMBenchmark"
#: How every temporal RSA benchmark summarises (SPEC.md, Evaluation: EEG temporal RSA).
_TEMPORAL_OPTIONS = {
    "region_reduction": "mean",
    "summary_window_ms": (50, 190),
    "detail_dims": ("subject", "region", "time_ms"),
}


def _temporal_rsa(rdm_kind: str, suffix: str, description: str) -> tuple[BenchmarkDescriptor, ...]:
    everyone = BenchmarkDescriptor(
        identifier=f"ThingsEEG2-temporal_rsa{suffix}", version=TEMPORAL_RSA_VERSION, build=_BRIDGE,
        selection={"subject": None, "rdm_kind": rdm_kind}, options=_TEMPORAL_OPTIONS, parent="ThingsEEG2",
        description=f"RSA of V1/V2/V4/IT RDMs with every subject's EEG {description} per 10 ms (0-190 ms); "
                    "inter-subject ceiling")
    single = tuple(BenchmarkDescriptor(
        identifier=f"ThingsEEG2.sub-{s:02d}-temporal_rsa{suffix}", version=TEMPORAL_RSA_VERSION, build=_BRIDGE,
        selection={"subject": s, "rdm_kind": rdm_kind}, options=_TEMPORAL_OPTIONS, parent="ThingsEEG2",
        description=f"the same against subject {s} alone; split-half ceiling") for s in SUBJECTS)
    return (everyone,) + single


DESCRIPTOR = DatasetDescriptor(
    name="things_eeg2",
    title="THINGS-EEG2 (Gifford et al. 2022), test split: 200 images x 80 trials, 17 occipito-parietal channels",
    package_class="realnet_plugins.datasets.things_eeg2.packaging:ThingsEEG2Package",
    command="things-eeg2",
    cli="realnet_plugins.datasets.things_eeg2.cli",
    benchmarks=_temporal_rsa("decoding", "", "decoding RDM"),
    bibtex=BIBTEX,
    sources=(
        Source("preprocessed EEG (per subject) and the image set", "https://osf.io/3jk45/",
               "Gifford et al. 2022, NeuroImage 264:119754, doi:10.1016/j.neuroimage.2022.119754"),
    ),
)
