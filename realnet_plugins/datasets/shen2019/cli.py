"""``realnet package shen2019``: options and run (imports nothing heavy until it runs)."""
from __future__ import annotations

import argparse
from pathlib import Path

IMAGE_SET_CHOICES: tuple[str, ...] = ("natural", "shape", "letter")


def configure(p: argparse.ArgumentParser) -> None:
    p.description = (
        "Read the Shen 2019 fMRI test-session files (BData .h5 and .tsv stimulus lists) and the stimulus images, "
        "write ROI assemblies (netCDF), stimulus tables and fMRI RDMs under $REALNET_HOME/assemblies/shen2019/"
        "<fingerprint>/, and make that package the one the benchmarks read. Images are referenced where they are "
        "(absolute path and sha256), never copied."
    )
    p.add_argument("--source", type=Path, required=True, help="the folder with the .h5 files and .tsv stimulus lists")
    p.add_argument("--images", type=Path, help="folder of the stimulus images (default: SOURCE/images)")
    p.add_argument("--subjects", type=int, nargs="+", metavar="N", help="subject numbers (default: 1 2 3)")
    p.add_argument("--image-sets", nargs="+", choices=IMAGE_SET_CHOICES, default=list(IMAGE_SET_CHOICES),
                   help="image sets to package (default: all)")
    p.add_argument("--nan-policy", choices=("raise", "drop-voxels"), default="raise",
                   help="refuse non-finite voxel values (default) or drop those voxels")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.datasets.shen2019.packaging import package_shen2019

    extra = {"subjects": args.subjects} if args.subjects else {}
    result = package_shen2019(args.source, images=args.images, image_sets=args.image_sets,
                              nan_policy=args.nan_policy, progress=not args.quiet, **extra)
    state = "already packaged, reused" if result.reused else "packaged"
    print(f"shen2019: {state} {result.folder} (now the current package)")
    return 0
