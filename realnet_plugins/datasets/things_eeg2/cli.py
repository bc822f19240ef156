"""``realnet package things-eeg2``: options and run (imports nothing heavy until it runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

from realnet_plugins.commands.options import CROSSNOBIS_NOISE, DECODING_BACKENDS, DECODING_PRESETS


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Read a local copy of the THINGS-EEG2 release (preprocessed_data/ + image_set/), write each subject's "
        "test-split EEG assembly (netCDF), the stimulus table and the EEG RDMs under "
        "$REALNET_HOME/assemblies/things_eeg2/<fingerprint>/, and make that package the one the benchmarks read. "
        "RDMs are cached by fingerprint: packaging the same inputs again is instant. Images are referenced where "
        "they are (absolute path and sha256), never copied."
    )
    p.add_argument("--source", type=Path, required=True, help="the release root (preprocessed_data/, image_set/)")
    p.add_argument("--subjects", type=int, nargs="+", metavar="N", help="subject numbers (default: every subject)")
    p.add_argument("--preset", choices=DECODING_PRESETS, default="paper",
                   help="decoding settings: paper = single trials, 5-fold linear SVM, no smoothing (default); "
                        "neurora-1.x = what the authors' NeuroRA 1.x ran")
    p.add_argument("--backend", choices=DECODING_BACKENDS, default="auto",
                   help="decoding back end: auto (default: the fused Triton kernel on a GPU when one is present, "
                        "else numba's compiled CPU kernels when numba is installed, else numpy), numba, numpy, "
                        "torch (batched; uses a GPU when present) or triton (GPU only)")
    p.add_argument("--crossnobis-noise", choices=CROSSNOBIS_NOISE + ("off",), default=CROSSNOBIS_NOISE[0],
                   help="noise normalisation of the crossnobis RDMs also packaged (the *-temporal_rsa_crossnobis "
                        "benchmarks): epoch = one shrinkage covariance over the epoch's residuals (default), time = "
                        "one per time point, none = cross-validated Euclidean distance, off = no crossnobis RDMs")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2
    from realnet_plugins.rsa.decoding import choose_backend

    if not args.quiet:
        backend, device = choose_backend(args.backend)
        print(f"decoding back end: {backend}{f' on {device}' if device else ''} (used for RDMs not yet cached)")
    crossnobis = None if args.crossnobis_noise == "off" else args.crossnobis_noise
    result = package_things_eeg2(args.source, subjects=args.subjects, preset=args.preset, crossnobis=crossnobis,
                                 backend=args.backend, progress=not args.quiet)
    state = "already packaged, reused" if result.reused else "packaged"
    print(f"things-eeg2: {state} {result.folder} (now the current package)")
    return 0
