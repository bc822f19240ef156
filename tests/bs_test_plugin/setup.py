"""Test-only plugins, installed into the test environment by a regular install (never editable).

- ``brainscore_vision.benchmarks.realnet_testbench``: a small benchmark that reaches Brain-Score the
  way any upstream plugin does (a literal registration line).
- ``realnet_toy`` + ``brainscore_vision.benchmarks.realnet_toy_benchmark``: a toy dataset added
  through realnet-plugins' dataset registry (ARCHITECTURE.md, "add a dataset and its benchmark"):
  its descriptor is registered by the ``realnet_plugins.datasets`` entry point below.
"""
from setuptools import setup

setup(
    name="realnet-testbench",
    version="0.2.0",
    description="test-only Brain-Score benchmarks for realnet-plugins",
    packages=["brainscore_vision.benchmarks.realnet_testbench", "brainscore_vision.benchmarks.realnet_toy_benchmark",
              "realnet_toy"],
    package_dir={"brainscore_vision.benchmarks.realnet_testbench": "realnet_testbench",
                 "brainscore_vision.benchmarks.realnet_toy_benchmark": "realnet_toy_benchmark",
                 "realnet_toy": "realnet_toy"},
    entry_points={"realnet_plugins.datasets": ["toy = realnet_toy:DESCRIPTOR"]},
)
