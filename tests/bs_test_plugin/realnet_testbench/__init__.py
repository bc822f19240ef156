"""Test-only benchmark: IT-region RSA against a fixed pixel-feature RDM on scikit-image photos."""
from brainscore_vision import benchmark_registry

from .benchmark import TinyPixelRSA

benchmark_registry['RealnetTest.tiny-rsa'] = lambda: TinyPixelRSA()
