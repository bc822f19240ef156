"""Brain-Score's ``score`` for the report's score store (:mod:`realnet_plugins.report.scores`).

Scores run in this process through ``brainscore_vision.score(model, benchmark)``, which finds the
model and benchmark plugins installed in site-packages (a regular ``pip install .`` of this
project), with ``BS_INSTALL_DEPENDENCIES=no`` so that no plugin requirements are pip-installed.
"""
from __future__ import annotations

import os
from importlib import metadata
from typing import Any

from .benchmarks import VERSION as REALNET_BENCHMARK_VERSION

#: Prefixes of the benchmarks this project defines (their version is :data:`REALNET_BENCHMARK_VERSION`).
REALNET_BENCHMARK_PREFIXES: tuple[str, ...] = ("ThingsEEG2", "Shen2019.", "Geirhos2021-error_consistency")


class BrainScoreScorer:
    """Scores with ``brainscore_vision.score``; versions for the store's cache keys."""

    def benchmark_version(self, benchmark_identifier: str) -> str:
        """This project's benchmark version, or Brain-Score's release for upstream benchmarks."""
        if benchmark_identifier.startswith(REALNET_BENCHMARK_PREFIXES):
            return f"realnet-{REALNET_BENCHMARK_VERSION}"
        return f"brainscore-vision-{metadata.version('brainscore-vision')}"

    def __call__(self, model_identifier: str, benchmark_identifier: str) -> Any:
        os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
        from brainscore_vision import score

        return score(model_identifier, benchmark_identifier)
