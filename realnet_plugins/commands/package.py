"""Verb ``package``: turn downloaded files of a dataset into assemblies, stimulus tables and RDMs.

    realnet package things-eeg2 --source DIR [--subjects 1 2 ...] [--preset paper|neurora-1.x] [--backend ...]
    realnet package shen2019 --source DIR [--images DIR] [--subjects 1 2 3] [--image-sets natural shape letter]

One subcommand per dataset that makes packages: each dataset's descriptor
(:mod:`realnet_plugins.datasets`) names its subcommand and the module with its options and run.
"""
from __future__ import annotations

import argparse
import importlib


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    from realnet_plugins.datasets import dataset_descriptors

    p.description = (
        "Read a local copy of a dataset, write netCDF assemblies, stimulus tables and RDMs under "
        "$REALNET_HOME/assemblies/<dataset>/<fingerprint>/, and make that package the one the benchmarks read. "
        "Packaging the same inputs again is instant; images are referenced, never copied."
    )
    sub = p.add_subparsers(dest="dataset", metavar="DATASET", required=True)
    for descriptor in dataset_descriptors().values():
        if not descriptor.command:
            continue
        module = importlib.import_module(descriptor.cli)
        benchmarks = ", ".join(b.identifier for b in descriptor.benchmarks[:2])
        more = len(descriptor.benchmarks) - 2
        help_text = f"{descriptor.title} (benchmarks: {benchmarks}{f' and {more} more' if more > 0 else ''})"
        child = sub.add_parser(descriptor.command, help=help_text, description=help_text)
        module.configure(child)
        child.set_defaults(_package_run=module.run)


def run(args: argparse.Namespace) -> int:
    return int(args._package_run(args) or 0)
