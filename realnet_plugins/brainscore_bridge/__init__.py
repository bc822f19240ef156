"""The bridge to Brain-Score vision: model commitments, data loaders and benchmarks.

This is the only part of the package that imports ``brainscore_vision``.
"""
