"""Verb ``package``: turn downloaded THINGS-EEG2 / Shen 2019 files into assemblies and RDMs.

    realnet package things-eeg2 --source DIR [--subjects 1 2 ...] [--preset paper|neurora-1.x]
        [--backend auto|numba|numpy|torch]
    realnet package shen2019 --source DIR [--images DIR] [--subjects 1 2 3] [--image-sets natural shape letter]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from realnet_plugins.rsa.decoding import BACKENDS

DATASETS = ("things-eeg2", "shen2019")


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    p.description = (
        "Read a local copy of THINGS-EEG2 (preprocessed_data/ + image_set/) or of the Shen 2019 fMRI files, write "
        "netCDF assemblies, stimulus tables and RDMs under $REALNET_HOME/assemblies/<dataset>/<fingerprint>/, and make "
        "that package the one the benchmarks read. Results are cached: packaging the same inputs again is instant. "
        "Images are referenced where they are (by absolute path and sha256), never copied."
    )
    p.add_argument("dataset", choices=DATASETS, help="which download to package")
    p.add_argument("--source", type=Path, required=True,
                   help="THINGS-EEG2: the release root; shen2019: the folder with the .h5 files and .tsv "
                        "stimulus lists")
    p.add_argument("--subjects", type=int, nargs="+", metavar="N",
                   help="subject numbers (default: every subject of THINGS-EEG2; 1 2 3 for shen2019)")
    p.add_argument("--preset", choices=("paper", "neurora-1.x"), default="paper",
                   help="THINGS-EEG2 decoding settings: paper = single trials, 5-fold linear SVM, no smoothing "
                        "(default); neurora-1.x = what the authors' NeuroRA 1.x ran")
    p.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="THINGS-EEG2 decoding back end: auto (default: the fused Triton kernel on a GPU when one is "
                        "present, else numba's compiled CPU kernels when numba is installed, else numpy), numba, "
                        "numpy, torch (batched; uses a GPU when present) or triton (GPU only)")
    p.add_argument("--images", type=Path, help="shen2019: folder of the stimulus images (default: SOURCE/images)")
    p.add_argument("--image-sets", nargs="+", choices=("natural", "shape", "letter"),
                   default=["natural", "shape", "letter"], help="shen2019: image sets to package (default: all)")
    p.add_argument("--nan-policy", choices=("raise", "drop-voxels"), default="raise",
                   help="shen2019: refuse non-finite voxel values (default) or drop those voxels")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.datasets.shen2019.packaging import package_shen2019
    from realnet_plugins.datasets.things_eeg2.packaging import decoding_backend, package_things_eeg2

    if args.dataset == "things-eeg2":
        if not args.quiet:
            backend, device = decoding_backend(args.backend)
            print(f"decoding back end: {backend}{f' on {device}' if device else ''} (used for RDMs not yet cached)")
        result = package_things_eeg2(args.source, subjects=args.subjects, preset=args.preset, backend=args.backend,
                                     progress=not args.quiet)
    else:
        extra = {"subjects": args.subjects} if args.subjects else {}
        result = package_shen2019(args.source, images=args.images, image_sets=args.image_sets,
                                  nan_policy=args.nan_policy, progress=not args.quiet, **extra)
    state = "already packaged, reused" if result.reused else "packaged"
    print(f"{args.dataset}: {state} {result.folder} (now the current package)")
    return 0
