"""Brain-Score's ``score`` for the report's score store (:mod:`realnet_plugins.report.scores`).

Scores run in this process through ``brainscore_vision.score(model, benchmark)``, which finds the
model and benchmark plugins installed in site-packages (a regular ``pip install .`` of this
project), with ``BS_INSTALL_DEPENDENCIES=no`` so that no plugin requirements are pip-installed.
"""
from __future__ import annotations

import difflib
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from realnet_plugins.datasets import benchmark_descriptor
from realnet_plugins.errors import UsageError


def registered_identifiers(kind: str) -> list[str]:
    """Identifiers the installed Brain-Score plugins of ``kind`` (``"models"``, ``"benchmarks"``) register.

    Read as Brain-Score itself finds plugins: every ``brainscore_vision/<kind>/*/__init__.py`` is
    searched for ``<kind>_registry['<identifier>']`` (singular kind).
    """
    import brainscore_vision

    registry = kind.rstrip("s") + "_registry"
    pattern = re.compile(re.escape(registry) + r"\[['\"]([^'\"]+)['\"]\]")
    found: list[str] = []
    for init in sorted((Path(brainscore_vision.__file__).parent / kind).glob("*/__init__.py")):
        if not init.parent.name.startswith((".", "_")):
            found += pattern.findall(init.read_text(encoding="utf-8", errors="replace"))
    return found


def check_registered(kind: str, identifier: str) -> None:
    """Raise :class:`UsageError` (with the closest registered identifiers) unless Brain-Score finds ``identifier``.

    Whether it is found is Brain-Score's own plugin lookup (``ImportPlugin``), whose failure is a
    bare ``AssertionError``; the suggestions come from :func:`registered_identifiers`.
    """
    from brainscore_core.plugin_management.import_plugin import ImportPlugin

    try:
        ImportPlugin("brainscore_vision", kind, identifier)
        return
    except AssertionError as error:
        reason = str(error)
    close = difflib.get_close_matches(identifier, registered_identifiers(kind), n=5, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else f"see brainscore_vision/{kind} for the registered ones"
    raise UsageError(f"{identifier!r} is not a Brain-Score {kind.rstrip('s')} identifier of this installation "
                     f"(Brain-Score: {reason}); {hint}")


class BrainScoreScorer:
    """Scores with ``brainscore_vision.score``; versions for the store's cache keys."""

    def benchmark_version(self, benchmark_identifier: str) -> str:
        """The version of one of this package's benchmarks (from its descriptor, without building it),
        or Brain-Score's release for other benchmarks.

        Raises:
            UsageError: no installed plugin registers the benchmark.
        """
        check_registered("benchmarks", benchmark_identifier)
        descriptor = benchmark_descriptor(benchmark_identifier)
        if descriptor is not None:
            return descriptor.cache_version()
        return f"brainscore-vision-{metadata.version('brainscore-vision')}"

    def __call__(self, model_identifier: str, benchmark_identifier: str) -> Any:
        os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
        from brainscore_vision import score

        check_registered("models", model_identifier)
        try:
            return score(model_identifier, benchmark_identifier)
        except Exception as error:
            # upstream benchmarks whose data Brain-Score could not download or verify: one clear message
            from realnet_plugins.brainscore_bridge.geirhos2021 import explain_data_failure

            clear = explain_data_failure(benchmark_identifier, error)
            if clear is None:
                raise
            raise clear from None
