"""Hand RDM stacks to rsatoolbox and take them back, with their descriptors.

rsatoolbox (https://rsatoolbox.readthedocs.io) is optional: it is imported only inside these functions,
and a clear :class:`~realnet_plugins.errors.MissingDependencyError` says how to install it. Supported
range: :data:`RSATOOLBOX_REQUIREMENT` - rsatoolbox 0.3.x needs scikit-learn >= 1.6 at import, which
Brain-Score's pins exclude; 0.2.0 imports under numpy 1.26 and 2.x alike.

Descriptor names: ``pattern_descriptors['stimulus_id']`` (one per image, in RDM order),
``rdm_descriptors['subject']`` and ``rdm_descriptors['time_ms']`` (one per RDM), and
``dissimilarity_measure`` (e.g. ``'crossnobis'``, ``'decoding accuracy'``).
"""
from __future__ import annotations

import dataclasses
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from realnet_plugins.errors import DataFormatError, MissingDependencyError

__all__ = ["RSATOOLBOX_REQUIREMENT", "RDMStack", "from_rsatoolbox", "require_rsatoolbox", "to_rsatoolbox"]

#: The rsatoolbox versions this package declares (extra ``rsa``) and is tested with.
RSATOOLBOX_REQUIREMENT = "rsatoolbox>=0.2,<0.3"


@dataclasses.dataclass(frozen=True)
class RDMStack:
    """RDMs with their descriptors, as :func:`from_rsatoolbox` returns them.

    Attributes:
        rdms: float64 (n_subjects, n_times, n, n), (n_subjects, n, n), (n_times, n, n) or (n_rdms, n, n),
            depending on which of ``subjects`` / ``times_ms`` are present.
        stimulus_ids: the n images' ids in RDM order (rsatoolbox's ``'index'`` when no ``'stimulus_id'``).
        times_ms: time of each RDM along the time axis, or None.
        subjects: subject of each RDM along the subject axis, or None.
        method: the dissimilarity measure, or None.
    """

    rdms: np.ndarray
    stimulus_ids: list[str]
    times_ms: np.ndarray | None
    subjects: list[str] | None
    method: str | None


def require_rsatoolbox(purpose: str) -> ModuleType:
    """Import rsatoolbox or raise a :class:`MissingDependencyError` naming ``purpose`` and the fix.

    Args:
        purpose: what needs it, e.g. ``"to_rsatoolbox"``.
    """
    try:
        import rsatoolbox
        import rsatoolbox.rdm  # noqa: F401  (0.3.x fails here under scikit-learn < 1.6)
    except ImportError as error:
        raise MissingDependencyError(
            f"{purpose} needs rsatoolbox, which could not be imported ({type(error).__name__}: {error}). "
            f"Install a supported version: pip install '{RSATOOLBOX_REQUIREMENT}' "
            "(or pip install 'realnet-plugins[rsa]').") from error
    return rsatoolbox


def to_rsatoolbox(rdms: np.ndarray, *, stimulus_ids: Sequence[str], times_ms: Sequence[float] | None = None,
                  subjects: Sequence[str] | None = None, method: str | None = None) -> Any:
    """An ``rsatoolbox.rdm.RDMs`` holding a stack of RDMs and its descriptors.

    Args:
        rdms: symmetric RDMs; leading axes (subject, then time) as the descriptors given: (n, n),
            (n_times, n, n) with ``times_ms``, (n_subjects, n, n) with ``subjects``, (n_subjects, n_times,
            n, n) with both.
        stimulus_ids: the n images' ids, in RDM order.
        times_ms: one time per RDM along the time axis.
        subjects: one subject name per RDM along the subject axis.
        method: the dissimilarity measure to record.

    Returns:
        ``rsatoolbox.rdm.RDMs`` with n_subjects * n_times RDMs (subject-major), ``rdm_descriptors``
        ``'subject'`` / ``'time_ms'``, ``pattern_descriptors['stimulus_id']``.

    Raises:
        DataFormatError: shapes that do not match the descriptors, or asymmetric RDMs.
        MissingDependencyError: rsatoolbox is not installed.
    """
    require_rsatoolbox("to_rsatoolbox")
    from rsatoolbox.rdm import RDMs

    data = np.asarray(rdms, dtype=np.float64)
    leading = ([len(subjects)] if subjects is not None else []) + ([len(times_ms)] if times_ms is not None else [])
    expected = "(" + ", ".join(
        (["n_subjects"] if subjects is not None else []) + (["n_times"] if times_ms is not None else [])
        + ["n", "n"]) + ")"
    n = len(stimulus_ids)
    if data.shape != tuple(leading) + (n, n):
        raise DataFormatError(f"expected RDMs shaped {expected} = {tuple(leading) + (n, n)} for the descriptors "
                              f"given ({n} stimulus ids); found {data.shape}.")
    if not np.allclose(data, np.swapaxes(data, -1, -2), rtol=1e-12, atol=0.0, equal_nan=True):
        raise DataFormatError("RDMs must be symmetric (rsatoolbox stores the upper triangle only).")
    matrices = data.reshape((-1, n, n))
    rdm_descriptors: dict[str, list[Any]] = {}
    n_times = len(times_ms) if times_ms is not None else 1
    n_subjects = len(subjects) if subjects is not None else 1
    if subjects is not None:
        rdm_descriptors["subject"] = [str(s) for s in subjects for _ in range(n_times)]
    if times_ms is not None:
        rdm_descriptors["time_ms"] = [t.item() if hasattr(t, "item") else t for t in times_ms] * n_subjects
    return RDMs(matrices, dissimilarity_measure=method, rdm_descriptors=rdm_descriptors,
                pattern_descriptors={"stimulus_id": [str(s) for s in stimulus_ids]})


def from_rsatoolbox(rdms: Any) -> RDMStack:
    """Numpy RDMs and descriptors from an ``rsatoolbox.rdm.RDMs`` (the inverse of :func:`to_rsatoolbox`).

    RDMs described by ``'subject'`` and ``'time_ms'`` (or rsatoolbox's ``'time'``, as ``calc_rdm_movie``
    writes it) are arranged on a (subject, time) grid in order of first appearance; every pair must occur
    exactly once.

    Args:
        rdms: an ``rsatoolbox.rdm.RDMs``.

    Returns:
        :class:`RDMStack`.

    Raises:
        DataFormatError: not an RDMs object, or descriptors that do not form a complete grid.
        MissingDependencyError: rsatoolbox is not installed.
    """
    require_rsatoolbox("from_rsatoolbox")
    from rsatoolbox.rdm import RDMs

    if not isinstance(rdms, RDMs):
        raise DataFormatError(f"expected an rsatoolbox.rdm.RDMs; found {type(rdms).__name__}.")
    matrices = np.asarray(rdms.get_matrices(), dtype=np.float64)
    patterns = rdms.pattern_descriptors
    stimulus_ids = [str(s) for s in patterns.get("stimulus_id", patterns.get("index", range(rdms.n_cond)))]
    descriptors = rdms.rdm_descriptors
    subject_values = descriptors.get("subject")
    time_values = descriptors.get("time_ms", descriptors.get("time"))
    axes = [values for values in (subject_values, time_values) if values is not None]
    levels = [_first_appearance(values) for values in axes]
    if axes:
        positions = list(zip(*[[level.index(v) for v in values] for level, values in zip(levels, axes)]))
        shape = tuple(len(level) for level in levels)
        if len(set(positions)) != len(positions) or len(positions) != int(np.prod(shape)):
            raise DataFormatError(f"the RDMs' subject/time descriptors do not form a complete grid: {len(positions)} "
                                  f"RDMs for {' x '.join(str(s) for s in shape)} (subject, time) combinations.")
        grid = np.empty(shape + matrices.shape[1:])
        for matrix, position in zip(matrices, positions):
            grid[position] = matrix
        matrices = grid
    subjects = [str(s) for s in levels[0]] if subject_values is not None else None
    times = np.asarray(levels[-1]) if time_values is not None else None
    return RDMStack(rdms=matrices, stimulus_ids=stimulus_ids, times_ms=times, subjects=subjects,
                    method=rdms.dissimilarity_measure)


def _first_appearance(values: Sequence[Any]) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return seen
