"""A toy dataset added the way ARCHITECTURE.md's recipe says: one descriptor, one package class, plugin lines.

Installed by ``tests/bs_test_plugin/setup.py`` (a regular install), which registers
:data:`DESCRIPTOR` through the ``realnet_plugins.datasets`` entry point and installs the plugin folder
``brainscore_vision.benchmarks.realnet_toy_benchmark`` with one literal registration line. Nothing
in realnet_plugins names it.

The "release" is a folder of PNG photos (scikit-image's public-domain images) and ``responses.npy``
(subjects × images × features); packaging writes each subject's RDM (1 − Pearson r) under
``$REALNET_HOME/assemblies/toy/<fingerprint>/`` with the package store's atomic staging.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from realnet_plugins.datasets import BenchmarkDescriptor, DatasetDescriptor

DESCRIPTOR = DatasetDescriptor(
    name="toy",
    title="Toy dataset: scikit-image photos, synthetic responses of three subjects",
    package_class="realnet_toy.package:ToyPackage",
    command="toy",
    cli="realnet_toy",
    benchmarks=(BenchmarkDescriptor(
        identifier="RealnetToy-rsa", version=1, build="realnet_plugins.brainscore_bridge.benchmarks:RDMBenchmark",
        selection={}, options={"region_reduction": "max", "summary_window_ms": None,
                               "detail_dims": ("subject", "roi", "region")},
        parent="RealnetToy", description="toy RSA: max over model regions against each subject's RDM"),),
    bibtex="@misc{toy2026, title={A toy dataset}, author={Nobody}, year={2026}, url={https://example.org/toy}}",
)


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", type=Path, required=True, help="folder written by realnet_toy.package.write_release")


def run(args: argparse.Namespace) -> int:
    from realnet_toy.package import package_toy

    result = package_toy(args.source)
    print(f"toy: packaged {result.folder}")
    return 0
