"""A test-only Brain-Score benchmark plugin, installed into the test environment by a regular install.

It reaches Brain-Score the same way the real plugins do: a leaf package
``brainscore_vision.benchmarks.realnet_testbench`` whose ``__init__.py`` carries a literal
registration line. Install with ``pip install tests/bs_test_plugin`` (never editable).
"""
from setuptools import setup

setup(
    name="realnet-testbench",
    version="0.1.0",
    description="test-only Brain-Score benchmark for realnet-plugins",
    packages=["brainscore_vision.benchmarks.realnet_testbench"],
    package_dir={"brainscore_vision.benchmarks.realnet_testbench": "realnet_testbench"},
)
