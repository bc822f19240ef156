"""A store of Brain-Score scores: each (model, benchmark) is scored once and kept as JSON.

A score is computed by a :class:`Scorer` (by default Brain-Score's ``brainscore_vision.score`` run
in this process, through :mod:`realnet_plugins.brainscore_bridge.scoring`) and written to::

    $REALNET_HOME/scores/<benchmark id>/<model id>--<key>.json

``key`` is a fingerprint of everything the score depends on: the model identifier, the sha256 of
its checkpoint (``brainscore-registry`` for models Brain-Score provides), the benchmark identifier
and version, and the fingerprint of the data the benchmark reads. The version and the data
fingerprint of this package's benchmarks come from their descriptors
(:mod:`realnet_plugins.datasets`; reading them constructs no benchmark, so stored scores stay
readable offline); other benchmarks get Brain-Score's release and ``brainscore-storage``. A
retrained checkpoint, a new package or a new benchmark version therefore gives a new key, and a
report never mixes them.

The JSON file holds the score value, the scalar attributes (``raw``, ``ceiling``, ``error``,
``flags``, ...) and the ``detail`` values as a labelled array::

    {"format": "realnet-score", "format_version": 2, "key": "...", "key_parts": {...},
     "model_identifier": "...", "benchmark_identifier": "...", "value": 0.41,
     "attrs": {"raw": 0.25, "ceiling": 0.6, "error": 0.03, "flags": [], ...},
     "detail": {"dims": ["subject", "region", "time_ms"], "coords": {...}, "values": [[[...]]]}}

NaN is written as ``null``.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np
import xarray as xr
from tqdm.auto import tqdm

from realnet_plugins.datasets import BRAINSCORE_STORAGE, benchmark_descriptor
from realnet_plugins.errors import DataFormatError, UsageError
from realnet_plugins.paths import realnet_home
from realnet_plugins.report.selection import ReportModel
from realnet_plugins.storage import atomic_write, fingerprint

logger = logging.getLogger(__name__)

FORMAT = "realnet-score"
#: 2: ``detail`` holds the per-subject values, ``attrs["raw"]`` the scalar unceiled summary.
FORMAT_VERSION = 2
#: All-subject THINGS-EEG2 temporal RSA; its ``detail`` keeps every subject (subject × region × time_ms).
EEG_BENCHMARK = "ThingsEEG2-temporal_rsa"
#: Shen 2019 fMRI RSA per image set; ``detail`` is subject × roi × region.
FMRI_BENCHMARKS: dict[str, str] = {
    "natural": "Shen2019.natural-rsa", "shape": "Shen2019.shape-rsa", "letter": "Shen2019.letter-rsa",
}
#: The paper's behavioural benchmarks (Fig. 4A); their mean is the behavioural score.
BEHAVIOUR_BENCHMARKS: tuple[str, ...] = ("Rajalingham2018public-i2n", "Geirhos2021-error_consistency")
#: Checkpoint identity of models whose weights Brain-Score provides.
BRAINSCORE_REGISTRY = "brainscore-registry"


class Scorer(Protocol):
    """Computes Brain-Score scores (see :class:`realnet_plugins.brainscore_bridge.scoring.BrainScoreScorer`)."""

    def benchmark_version(self, benchmark_identifier: str) -> str:
        """The benchmark's version, part of the cache key."""

    def __call__(self, model_identifier: str, benchmark_identifier: str) -> Any:
        """Score a model; returns a Brain-Score ``Score`` (a scalar DataArray with ``attrs``)."""


def default_scorer() -> Scorer:
    """Brain-Score's ``score`` in this process (needs brainscore-vision and the installed plugins)."""
    from realnet_plugins.brainscore_bridge.scoring import BrainScoreScorer

    return BrainScoreScorer()


def data_fingerprint(benchmark_identifier: str) -> str:
    """Fingerprint of the data a benchmark reads: its descriptor's (the current package; raises
    MissingFileError without one), or :data:`BRAINSCORE_STORAGE` for benchmarks of other packages."""
    descriptor = benchmark_descriptor(benchmark_identifier)
    return BRAINSCORE_STORAGE if descriptor is None else descriptor.data_fingerprint()


def checkpoint_identity(model: ReportModel) -> str:
    """The sha256 of the model's checkpoint file, or :data:`BRAINSCORE_REGISTRY`."""
    from realnet_plugins.storage import cached_sha256

    if model.checkpoint is None:
        return BRAINSCORE_REGISTRY
    return cached_sha256(model.checkpoint)


def _json_number(value: Any) -> Any:
    number = float(value)
    return number if np.isfinite(number) else None


def _nan_to_none(nested: Any) -> Any:
    """Nested lists of floats with NaN/inf replaced by None (JSON ``null``)."""
    if isinstance(nested, list):
        return [_nan_to_none(item) for item in nested]
    return None if isinstance(nested, float) and not np.isfinite(nested) else nested


def array_record(array: Any) -> dict[str, Any]:
    """A labelled array (xarray / Brain-Score assembly) as JSON-able dims, coords and values.

    Coordinates of each dimension are kept as strings or numbers; a dimension without a coordinate
    gets 0..n-1. Non-dimension coordinates are dropped.
    """
    dims = [str(d) for d in array.dims]
    coords: dict[str, list[Any]] = {}
    for dim, size in zip(dims, np.shape(array.values)):
        if dim in array.coords:
            values = np.asarray(array[dim].values)
            coords[dim] = values.tolist() if values.dtype.kind in "iuf" else [str(v) for v in values]
        else:
            coords[dim] = list(range(size))
    return {"dims": dims, "coords": coords, "values": _nan_to_none(np.asarray(array.values, dtype=np.float64).tolist())}


def array_from_record(record: Mapping[str, Any]) -> xr.DataArray:
    """The inverse of :func:`array_record` (``null`` → NaN)."""
    values = np.array(record["values"], dtype=np.float64)
    return xr.DataArray(values, dims=tuple(record["dims"]), coords={d: list(v) for d, v in record["coords"].items()})


@dataclass(frozen=True)
class ScoreRecord:
    """One stored score.

    Attributes:
        model_identifier: the Brain-Score model identifier.
        benchmark_identifier: the benchmark identifier.
        value: the (ceiled) score; NaN when undefined.
        detail: per-subject values (EEG: subject × region × time_ms; Shen: subject × roi × region;
            Geirhos mean: benchmark × value), or None when the benchmark keeps none.
        attrs: scalar attributes (``raw``, ``ceiling``, ``error``, ``unbounded``, ``nan_reason``,
            lists such as ``subjects`` and ``flags``), JSON values.
        key: the cache key; ``key_parts`` what it was made of.
    """

    model_identifier: str
    benchmark_identifier: str
    value: float
    detail: xr.DataArray | None
    attrs: dict[str, Any]
    key: str
    key_parts: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "format_version": FORMAT_VERSION, "key": self.key, "key_parts": self.key_parts,
            "model_identifier": self.model_identifier, "benchmark_identifier": self.benchmark_identifier,
            "value": _json_number(self.value), "attrs": self.attrs,
            "detail": None if self.detail is None else array_record(self.detail),
        }

    @classmethod
    def from_json(cls, record: Mapping[str, Any], path: Path | str = "<record>") -> "ScoreRecord":
        if record.get("format") != FORMAT or record.get("format_version") != FORMAT_VERSION:
            raise DataFormatError(
                f"{path}: expected a {FORMAT} record of version {FORMAT_VERSION}, found "
                f"{record.get('format')!r} version {record.get('format_version')!r}; delete the file to rescore"
            )
        value = record.get("value")
        return cls(
            model_identifier=str(record["model_identifier"]), benchmark_identifier=str(record["benchmark_identifier"]),
            value=float("nan") if value is None else float(value),
            detail=None if record.get("detail") is None else array_from_record(record["detail"]),
            attrs=dict(record.get("attrs") or {}), key=str(record["key"]),
            key_parts=dict(record.get("key_parts") or {}),
        )


def _scalar_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of a Score that are plain values (the ceiling as its value)."""
    kept: dict[str, Any] = {}
    for name, value in attrs.items():
        if name == "detail":
            continue
        if isinstance(value, (str, bool, int)) or value is None:
            kept[name] = value
        elif isinstance(value, float) or (isinstance(value, np.generic) and np.ndim(value) == 0):
            kept[name] = _json_number(value) if not isinstance(value, (bool, np.bool_)) else bool(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value):
            kept[name] = [v if isinstance(v, str) else _json_number(v) for v in value]
        elif hasattr(value, "values") and np.ndim(getattr(value, "values")) == 0:
            kept[name] = _json_number(np.asarray(value.values))
    return kept


def record_from_score(score: Any, model_identifier: str, benchmark_identifier: str, key: str,
                      key_parts: Mapping[str, str]) -> ScoreRecord:
    """Turn a Brain-Score ``Score`` into a :class:`ScoreRecord` (``detail`` kept when it is labelled)."""
    attrs = dict(getattr(score, "attrs", {}) or {})
    detail = attrs.get("detail")
    detail_array = None
    if detail is not None and hasattr(detail, "dims"):
        try:
            detail_array = array_from_record(array_record(detail))
        except (TypeError, ValueError) as error:
            logger.info("%s on %s: detail values not kept (%s)", model_identifier, benchmark_identifier, error)
    return ScoreRecord(
        model_identifier=model_identifier, benchmark_identifier=benchmark_identifier,
        value=float(np.asarray(getattr(score, "values", score), dtype=np.float64).reshape(-1)[0]),
        detail=detail_array, attrs=_scalar_attrs(attrs), key=key, key_parts=dict(key_parts),
    )


@dataclass(frozen=True)
class ScoreFailure:
    """A score that could not be computed, with the reason."""

    model_identifier: str
    benchmark_identifier: str
    reason: str


class ScoreStore:
    """Scores on disk; computes (through the scorer) only what is not stored yet.

    Args:
        root: folder of the records (default ``$REALNET_HOME/scores``).
        scorer: computes missing scores (default :func:`default_scorer`, created at first need).
        data_fingerprint: benchmark id → fingerprint of its data (default :func:`data_fingerprint`).
    """

    def __init__(self, root: str | Path | None = None, scorer: Scorer | None = None,
                 data_fingerprint: Callable[[str], str] = data_fingerprint) -> None:
        self.root = Path(root) if root is not None else realnet_home() / "scores"
        self._scorer = scorer
        self._data_fingerprint = data_fingerprint
        self._fingerprints: dict[str, str] = {}
        self._versions: dict[str, str] = {}
        self.computed = 0
        self.loaded = 0
        #: keys of the records this store computed (not read back)
        self.computed_keys: set[str] = set()

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            self._scorer = default_scorer()
        return self._scorer

    def key_parts(self, model: ReportModel, benchmark_identifier: str) -> dict[str, str]:
        """What a record's key is made of (see the module docstring)."""
        if model.brainscore_id is None:
            raise DataFormatError(
                f"{model.name} is a checkpoint file, not a Brain-Score model identifier: it cannot be scored on "
                f"{benchmark_identifier}; pass a paper identifier (e.g. realnet_s01) or a Brain-Score model id"
            )
        if benchmark_identifier not in self._fingerprints:
            self._fingerprints[benchmark_identifier] = self._data_fingerprint(benchmark_identifier)
        if benchmark_identifier not in self._versions:
            self._versions[benchmark_identifier] = str(self.scorer.benchmark_version(benchmark_identifier))
        return {
            "model_identifier": model.brainscore_id, "checkpoint_sha256": checkpoint_identity(model),
            "benchmark_identifier": benchmark_identifier, "benchmark_version": self._versions[benchmark_identifier],
            "data_fingerprint": self._fingerprints[benchmark_identifier],
        }

    def path(self, model_identifier: str, benchmark_identifier: str, key: str) -> Path:
        return self.root / benchmark_identifier / f"{model_identifier}--{key}.json"

    def cached(self, model: ReportModel, benchmark_identifier: str) -> ScoreRecord | None:
        """The stored record, or None when this (model, checkpoint, benchmark, data) was never scored."""
        parts = self.key_parts(model, benchmark_identifier)
        key = fingerprint("score", parts)
        path = self.path(parts["model_identifier"], benchmark_identifier, key)
        if not path.is_file():
            return None
        return ScoreRecord.from_json(json.loads(path.read_text(encoding="utf-8")), path)

    def get(self, model: ReportModel, benchmark_identifier: str) -> ScoreRecord:
        """The stored record, scoring and storing it first when needed."""
        record = self.cached(model, benchmark_identifier)
        if record is not None:
            self.loaded += 1
            return record
        parts = self.key_parts(model, benchmark_identifier)
        key = fingerprint("score", parts)
        logger.info("scoring %s on %s", parts["model_identifier"], benchmark_identifier)
        score = self.scorer(parts["model_identifier"], benchmark_identifier)
        record = record_from_score(score, parts["model_identifier"], benchmark_identifier, key, parts)
        with atomic_write(self.path(parts["model_identifier"], benchmark_identifier, key), "w") as f:
            json.dump(record.to_json(), f, indent=1)
        self.computed += 1
        self.computed_keys.add(key)
        return record

    def _failure_paths(self, parts: Mapping[str, str]) -> tuple[Path, Path]:
        """(benchmark-wide, model) failure records of a key (see :meth:`get_many`)."""
        benchmark = parts["benchmark_identifier"]
        data_key = fingerprint("benchmark-failure", parts["benchmark_version"], parts["data_fingerprint"])
        model_path = self.path(parts["model_identifier"], benchmark, fingerprint("score", dict(parts)))
        return self.root / benchmark / f"_unavailable--{data_key}.failed.json", model_path.with_suffix(".failed.json")

    def _stored_failure(self, parts: Mapping[str, str]) -> tuple[str, str] | None:
        """(policy, reason) of a stored failure of this key, or None."""
        for policy, path in zip(("benchmark", "model"), self._failure_paths(parts)):
            if path.is_file():
                record = json.loads(path.read_text(encoding="utf-8"))
                return policy, (f"{record['reason']} (stored failure of {record['when']}; rerun with --retry-failed "
                                "once the cause is fixed)")
        return None

    def _store_failure(self, parts: Mapping[str, str], policy: str, reason: str) -> None:
        import datetime

        path = self._failure_paths(parts)[0 if policy == "benchmark" else 1]
        when = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with atomic_write(path, "w") as f:
            json.dump({"reason": reason, "when": when, "key_parts": dict(parts)}, f)

    def get_many(self, requests: Sequence[tuple[ReportModel, str]], *, progress: bool | None = None,
                 on_error: Callable[[str, Exception], str] = lambda benchmark, error: "raise",
                 retry_failed: bool = False,
                 ) -> tuple[dict[tuple[str, str], ScoreRecord], list[ScoreFailure]]:
        """Records of many (model, benchmark) pairs, with a progress bar over the ones to compute.

        A scoring failure that ``on_error`` tolerates is stored beside the scores (``*.failed.json``,
        keyed like the score; benchmark-wide for ``"benchmark"``) and reported again by later runs
        without scoring, so that a report whose behavioural data are missing stays fast; pass
        ``retry_failed`` to try them again.

        Args:
            requests: (model, benchmark id) pairs; duplicates are fetched once.
            progress: show a progress bar (None: only on a terminal).
            on_error: ``(benchmark id, error) →`` ``"raise"``, ``"model"`` (record the failure, go on)
                or ``"benchmark"`` (record it and do not try this benchmark for the other models).
            retry_failed: score pairs whose stored failure says they failed before.

        Returns:
            ``({(model name, benchmark id): record}, failures)``.
        """
        unique = list(dict.fromkeys((model, benchmark) for model, benchmark in requests))
        records: dict[tuple[str, str], ScoreRecord] = {}
        failures: list[ScoreFailure] = []
        failed_benchmarks: dict[str, str] = {}

        def failed(model: ReportModel, benchmark: str, error: Exception) -> str:
            policy = on_error(benchmark, error)
            if policy not in ("model", "benchmark"):
                raise error
            reason = f"{type(error).__name__}: {error}"
            logger.info("%s on %s failed", model.name, benchmark, exc_info=error)
            if policy == "benchmark":
                failed_benchmarks[benchmark] = reason
            failures.append(ScoreFailure(model.name, benchmark, reason))
            return policy

        to_compute = []
        for model, benchmark in unique:
            if benchmark in failed_benchmarks:
                failures.append(ScoreFailure(model.name, benchmark, failed_benchmarks[benchmark]))
                continue
            try:
                record = self.cached(model, benchmark)
                stored = None if record is not None or retry_failed else self._stored_failure(
                    self.key_parts(model, benchmark))
            except Exception as error:  # noqa: BLE001 - the caller decides which failures to tolerate
                failed(model, benchmark, error)
                continue
            if stored is not None:
                policy, reason = stored
                if policy == "benchmark":
                    failed_benchmarks[benchmark] = reason
                failures.append(ScoreFailure(model.name, benchmark, reason))
            elif record is None:
                to_compute.append((model, benchmark))
            else:
                self.loaded += 1
                records[(model.name, benchmark)] = record
        bar = tqdm(to_compute, desc="scoring", unit="score", disable=None if progress is None else not progress)
        for model, benchmark in bar:
            bar.set_postfix_str(f"{model.short_name} on {benchmark}", refresh=False)
            if benchmark in failed_benchmarks:
                failures.append(ScoreFailure(model.name, benchmark, failed_benchmarks[benchmark]))
                continue
            try:
                records[(model.name, benchmark)] = self.get(model, benchmark)
            except Exception as error:  # noqa: BLE001 - the caller decides which failures to tolerate
                policy = failed(model, benchmark, error)
                self._store_failure(self.key_parts(model, benchmark), policy, failures[-1].reason)
                continue
            for stale in self._failure_paths(self.key_parts(model, benchmark)):
                stale.unlink(missing_ok=True)
        return records, failures


#: The paper's neural benchmarks: what ``realnet score`` scores when no benchmark is named.
PAPER_NEURAL_BENCHMARKS: tuple[str, ...] = (EEG_BENCHMARK, *FMRI_BENCHMARKS.values())
#: Columns of :attr:`ScoreTable.table`.
SCORE_COLUMNS: tuple[str, ...] = ("model", "benchmark", "score", "ceiling", "raw", "source", "error")


@dataclass
class ScoreTable:
    """Scores of models on benchmarks (see :func:`score_table`).

    Attributes:
        table: one row per (model, benchmark), in request order, columns :data:`SCORE_COLUMNS`:
            ``score`` the (ceiling-normalised) score, ``ceiling`` and ``raw`` (the unnormalised
            summary) where the benchmark reports them (NaN otherwise), ``source`` ``"computed"``,
            ``"stored"`` or ``"failed"``, ``error`` the failure's reason ("" otherwise).
        notes: names that matched no checkpoint and were left out.
        computed, stored, failed: how many rows were scored now, read from the store, or failed.
        flags: ``"<model> on <benchmark>: <reason>"`` for every score its benchmark flagged as not
            to be trusted (raw above the ceiling, too few images, ...).
    """

    table: Any
    notes: list[str]
    computed: int
    stored: int
    failed: int
    flags: list[str] = field(default_factory=list)

    def format(self) -> str:
        """The table as aligned text (scores to four decimals; failures with their reason)."""
        if not len(self.table):
            return "no scores"
        shown = self.table.assign(**{
            column: [("—" if not np.isfinite(v) else f"{v:.4f}") for v in self.table[column]]
            for column in ("score", "ceiling", "raw")
        })
        widths = {column: max(len(column), *(len(str(v)) for v in shown[column]))
                  for column in ("model", "benchmark", "score", "ceiling", "raw", "source")}
        lines = ["  ".join(f"{column:<{widths[column]}}" for column in widths) + "  error"]
        for _, row in shown.iterrows():
            lines.append("  ".join(f"{str(row[column]):<{widths[column]}}" for column in widths)
                         + (f"  {row['error']}" if row["error"] else ""))
        lines += [f"flag: {flag}" for flag in self.flags]
        return "\n".join(line.rstrip() for line in lines)


def _attr_number(attrs: Mapping[str, Any], name: str) -> float:
    value = attrs.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def score_table(names: Sequence[str], benchmarks: Sequence[str] = PAPER_NEURAL_BENCHMARKS, *,
                store: ScoreStore | None = None, keep_going: bool = False, retry_failed: bool = False,
                progress: bool | None = None) -> ScoreTable:
    """Score models on benchmarks through Brain-Score, each (model, checkpoint, benchmark, data) once.

    Scores already in the store (``$REALNET_HOME/scores``, keyed by the checkpoint's sha256, the
    benchmark's version and the packaged data's fingerprint) are read back, not recomputed.

    Args:
        names: paper identifiers (``realnet_s01``), groups (``realnet_s*``: the trained or imported
            ones) or other Brain-Score model identifiers (``alexnet``).
        benchmarks: benchmark identifiers (default: :data:`PAPER_NEURAL_BENCHMARKS`).
        store: where scores are kept and how missing ones are computed (default: a
            :class:`ScoreStore` over Brain-Score's ``score`` in this process).
        keep_going: record a failing score (row ``source == "failed"``, stored beside the scores so
            that later calls report it without retrying) and go on; otherwise raise the first failure.
        retry_failed: score again the pairs whose stored failure says they failed before.
        progress: progress bar over the scores to compute (None: only on a terminal).

    Returns:
        a :class:`ScoreTable`.

    Raises:
        UsageError: no model or no benchmark to score.
        Exception: the first scoring failure, unless ``keep_going``.
    """
    import pandas as pd

    from realnet_plugins.report.selection import resolve_models

    if not benchmarks:
        raise UsageError("no benchmark to score: name at least one benchmark identifier")
    models, notes = resolve_models(names)
    if not models:
        raise UsageError("no model to score: " + ("; ".join(notes) if notes else "name at least one model"))
    store = store if store is not None else ScoreStore()
    requests = [(model, benchmark) for model in models for benchmark in dict.fromkeys(benchmarks)]
    computed_before = set(store.computed_keys)
    records, failures = store.get_many(requests, progress=progress, retry_failed=retry_failed,
                                       on_error=lambda benchmark, error: "model" if keep_going else "raise")
    reasons = {(f.model_identifier, f.benchmark_identifier): f.reason for f in failures}
    rows, flags = [], []
    for model, benchmark in requests:
        record = records.get((model.name, benchmark))
        if record is not None:
            flags += [f"{model.short_name} on {benchmark}: {flag}" for flag in record.attrs.get("flags") or []]
        if record is None:
            rows.append({"model": model.short_name, "benchmark": benchmark, "score": float("nan"),
                         "ceiling": float("nan"), "raw": float("nan"), "source": "failed",
                         "error": reasons.get((model.name, benchmark), "not scored")})
            continue
        rows.append({"model": model.short_name, "benchmark": benchmark, "score": float(record.value),
                     "ceiling": _attr_number(record.attrs, "ceiling"), "raw": _attr_number(record.attrs, "raw"),
                     "source": "computed" if record.key in store.computed_keys - computed_before else "stored",
                     "error": ""})
    table = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    counts = table["source"].value_counts()
    return ScoreTable(table=table, notes=notes, computed=int(counts.get("computed", 0)),
                      stored=int(counts.get("stored", 0)), failed=int(counts.get("failed", 0)), flags=flags)
