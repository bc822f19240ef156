"""``Geirhos2021-error_consistency``: the mean of Brain-Score's 17 Geirhos2021 error-consistency benchmarks.

Interim version (the upstream-fixture work replaces it).
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score
from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly

from realnet_plugins.datasets import BenchmarkDescriptor
from realnet_plugins.datasets.geirhos2021 import upstream_identifiers
from realnet_plugins.errors import RealnetError


def _load_upstream_benchmark(identifier: str) -> Any:
    from brainscore_vision import load_benchmark

    return load_benchmark(identifier)


def _center(score: Any) -> float:
    return float(np.asarray(score).item())


class Geirhos2021ErrorConsistencyMean(BenchmarkBase):
    """Score = mean of the 17 ceiled scores; raw = mean raw; ceiling = mean ceiling; error = SEM of the 17."""

    def __init__(self, descriptor: BenchmarkDescriptor, load: Callable[[str], Any] = _load_upstream_benchmark) -> None:
        self._load = load
        self._benchmarks: list[Any] | None = None
        super().__init__(identifier=descriptor.identifier, ceiling=None, version=descriptor.version,
                         parent=descriptor.parent, bibtex=None)

    def sub_benchmarks(self) -> list[Any]:
        if self._benchmarks is None:
            self._benchmarks = [self._load(identifier) for identifier in upstream_identifiers()]
        return self._benchmarks

    @property
    def bibtex(self) -> str | None:
        return getattr(self.sub_benchmarks()[0], "bibtex", None)

    def _run(self, benchmark: Any, what: str, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except RealnetError:
            raise
        except Exception as error:
            raise RealnetError(
                f"{benchmark.identifier} failed while {what}: {type(error).__name__}: {error}. "
                "Geirhos2021-error_consistency averages Brain-Score's Geirhos2021 benchmarks, whose data Brain-Score "
                "downloads from its storage at first use: run with network access once, or place the files in "
                "$BRAINIO_HOME."
            ) from error

    @property
    def ceiling(self) -> Score:
        values = [_center(self._run(b, "computing its ceiling", lambda b=b: b.ceiling)) for b in self.sub_benchmarks()]
        return Score(np.float64(np.mean(values)))

    def __call__(self, candidate: Any) -> Score:
        scores, raws, ceilings = [], [], []
        for benchmark in self.sub_benchmarks():
            sub = self._run(benchmark, "scoring the model", lambda b=benchmark: b(candidate))
            scores.append(_center(sub))
            raws.append(_center(sub.attrs["raw"]) if "raw" in getattr(sub, "attrs", {}) else float("nan"))
            ceilings.append(_center(sub.attrs["ceiling"]) if "ceiling" in getattr(sub, "attrs", {}) else float("nan"))
        detail = DataAssembly(np.array([scores, raws, ceilings]).T, dims=("benchmark", "value"),
                              coords={"benchmark": upstream_identifiers(), "value": ["score", "raw", "ceiling"]})
        score = Score(np.float64(np.mean(scores)))
        score.attrs["raw"] = Score(np.float64(np.mean(raws)))
        score.attrs["ceiling"] = Score(np.float64(np.mean(ceilings)))
        score.attrs["error"] = float(np.std(scores, ddof=1) / np.sqrt(len(scores)))
        score.attrs["detail"] = detail
        score.attrs["flags"] = []
        return score
