"""Brain-Score benchmarks of this package, built from the dataset descriptors.

Every benchmark is declared once, by its dataset (:mod:`realnet_plugins.datasets`): identifier,
version, the data it selects, how it summarises. :func:`realnet_benchmark` builds the Brain-Score
benchmark of an identifier from its descriptor; the plugin folders' registration lines call it.

:class:`RDMBenchmark` is the one bridge class of every RSA benchmark (THINGS-EEG2 temporal RSA,
Shen 2019 ROI RSA, and any dataset whose package implements
:class:`~realnet_plugins.datasets.targets.RDMSource`). It is model-agnostic: it records the
standard regions V1, V2, V4 and IT through ``candidate.start_recording(region, time_bins=[(70,
170)])`` and shows the images with ``candidate.look_at(stimulus_set, number_of_trials=1)``,
**full-field**, as the paper did (the stimulus set is passed as is, without ``place_on_screen``
rescaling to the model's visual degrees). Per region the model RDM is 1 − Pearson r between the
images' flattened activations; RSA is the Spearman correlation of RDM upper triangles (SPEC.md).

The score (Brain-Score's leaderboard contract; ``brainscore_core.submission.database.update_score``
calls ``.item()`` on the score and on ``attrs['raw']``):

``attrs['detail']``
    every RSA value: subject × region × time (``('subject', 'region', 'time_ms')``, EEG) or
    subject × ROI × region (``('subject', 'roi', 'region')``, fMRI).
``attrs['raw']``
    the unceiled scalar summary (SPEC.md): EEG — the mean over subjects, the four regions and the
    samples at 50…190 ms (times rounded to whole ms); fMRI — the maximum over regions per subject
    and ROI, averaged over ROIs and subjects. Undefined values (a constant RDM) are left out;
    ``attrs['n_undefined']`` counts them.
``attrs['ceiling']``
    the scalar summary ceiling: the mean over the same targets of the per-target ceiling — with
    every subject, the inter-subject consistency (leave one subject out, the subjects' RDMs pooled
    as rsatoolbox pools them; the upper bound is kept too); with one subject, the split-half
    reliability of its RDM (Spearman–Brown corrected). Its attrs keep the per-target values.
the score
    ``raw / ceiling`` bounded to [0, 1] (the unbounded ratio in ``attrs['unbounded']``); NaN with
    ``attrs['nan_reason']`` when the ceiling is ≤ 0 or undefined.
``attrs['error']``
    with several subjects, the standard error over subjects of the per-subject ceiled scores; with
    one subject, the bootstrap standard error over images (1000 resamplings of the stimulus set, as
    rsatoolbox resamples patterns) of the raw summary, divided by the ceiling
    (``attrs['error_method']`` says which; ``attrs['raw_interval']`` keeps the 95 % interval).
``attrs['flags']``
    reasons not to trust the score (raw above the ceiling; too few images for a stable RSA; negative
    split-half reliabilities left out of the ceiling); empty when there are none.

Every attr is picklable (Brain-Score pickles the Score).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score
from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly

from realnet_plugins.brainscore_bridge.assemblies import stimulus_set_for
from realnet_plugins.constants import REGIONS
from realnet_plugins.datasets import benchmark_descriptor, benchmark_descriptors, resolve
from realnet_plugins.datasets.targets import RDMTargets
from realnet_plugins.errors import DataFormatError, UsageError
from realnet_plugins.rsa.bootstrap import rsa_image_bootstrap
from realnet_plugins.rsa.ceiling import inter_subject_ceiling, split_half_ceiling
from realnet_plugins.rsa.rdm import compare_rdms, model_rdm

if TYPE_CHECKING:  # annotations only: a submitted benchmark plugin carries RDMBenchmark without the registry
    from realnet_plugins.datasets import BenchmarkDescriptor

#: The single recording time bin requested from models, ms (static models ignore it).
RECORDING_TIME_BIN: tuple[int, int] = (70, 170)
PRESENTATION = "full-field: stimuli passed unchanged, no place_on_screen rescaling (as in the paper)"
#: RSA over fewer images is flagged: a Spearman correlation over m = n(n-1)/2 pairs has a Fisher-z
#: standard error of about sqrt(1.06 / (m - 3)) (Fieller, Hartley & Pearson 1957), above 0.2 for
#: fewer than 9 images (36 pairs).
MIN_STABLE_IMAGES = 9
#: Image resamplings of the single-subject bootstrap error.
N_BOOTSTRAP = 1000


def realnet_benchmark(identifier: str, **kwargs: Any) -> BenchmarkBase:
    """The Brain-Score benchmark of one of this package's identifiers, built from its descriptor.

    Args:
        identifier: e.g. ``'ThingsEEG2-temporal_rsa'``.
        **kwargs: passed to the bridge class (e.g. ``package=`` to read a given package).

    Raises:
        UsageError: no dataset declares ``identifier`` (with the closest ones).
    """
    descriptor = benchmark_descriptor(identifier)
    if descriptor is None:
        import difflib

        close = difflib.get_close_matches(identifier, list(benchmark_descriptors()), n=3, cutoff=0.6)
        raise UsageError(f"no realnet-plugins benchmark {identifier!r}"
                         + (f"; did you mean {', '.join(close)}?" if close else ""))
    return resolve(descriptor.build)(descriptor, **kwargs)


def region_rdms(candidate: Any, stimulus_set: Any, stimulus_ids: Sequence[str],
                regions: Sequence[str] = REGIONS) -> dict[str, np.ndarray]:
    """Record each region of ``candidate`` on the stimuli and return its RDM (1 − Pearson r).

    Args:
        candidate: a Brain-Score ``BrainModel``.
        stimulus_set: the ``StimulusSet`` shown full-field.
        stimulus_ids: the order of the RDM rows.
        regions: recorded regions.

    Returns:
        region → float64 (n, n) RDM, rows and columns in ``stimulus_ids`` order.
    """
    rdms = {}
    for region in regions:
        candidate.start_recording(region, time_bins=[RECORDING_TIME_BIN])
        activations = candidate.look_at(stimulus_set, number_of_trials=1)
        rdms[region] = model_rdm(ordered_features(activations, stimulus_ids, region))
    return rdms


def ordered_features(activations: Any, stimulus_ids: Sequence[str], region: str = "") -> np.ndarray:
    """Model activations as (n_images, n_features), rows in ``stimulus_ids`` order.

    Every dimension other than ``presentation`` (neuroids, and time bins if a model reports
    several) is flattened into features.

    Raises:
        DataFormatError: when the model's stimulus ids are not exactly ``stimulus_ids``.
    """
    got = [str(s) for s in activations["stimulus_id"].values]
    if sorted(got) != sorted(str(s) for s in stimulus_ids) or len(set(got)) != len(got):
        missing = sorted(set(stimulus_ids) - set(got))[:5]
        extra = sorted(set(got) - set(stimulus_ids))[:5]
        raise DataFormatError(
            f"the model's {region} activations cover other stimuli than the benchmark showed: "
            f"{len(got)} presentations for {len(stimulus_ids)} stimuli; missing {missing}, unexpected {extra}"
        )
    other_dims = [d for d in activations.dims if d != "presentation"]
    values = np.asarray(activations.transpose("presentation", *other_dims).values, dtype=np.float64)
    position = {s: i for i, s in enumerate(got)}
    return values.reshape(values.shape[0], -1)[[position[str(s)] for s in stimulus_ids]]


def summary_window(times_ms: np.ndarray, window_ms: tuple[int, int]) -> np.ndarray:
    """Boolean mask of the samples within ``window_ms`` (inclusive; times rounded to whole ms)."""
    rounded = np.round(np.asarray(times_ms, dtype=np.float64)).astype(np.int64)
    return (rounded >= window_ms[0]) & (rounded <= window_ms[1])


def ceiled_value(raw_summary: float, ceiling: float) -> tuple[float, float, str | None]:
    """Divide a raw summary by its ceiling and bound the result to [0, 1].

    Returns:
        ``(score, unbounded, nan_reason)``: ``score`` is NaN (and ``nan_reason`` says why) when the
        ceiling is ≤ 0 or not finite, or the raw summary is not finite.
    """
    if not np.isfinite(ceiling):
        return float("nan"), float("nan"), "the ceiling is undefined (NaN): the data's RDMs are not reliable here"
    if ceiling <= 0:
        return float("nan"), float("nan"), f"the ceiling is {ceiling:.4g} <= 0: the data carry no reliable structure"
    if not np.isfinite(raw_summary):
        return float("nan"), float("nan"), "the model's RSA is undefined (NaN): e.g. a constant model RDM"
    unbounded = float(raw_summary / ceiling)
    return float(np.clip(unbounded, 0.0, 1.0)), unbounded, None


def mean_finite(values: np.ndarray) -> float:
    """Mean of the finite entries; NaN when there are none."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else float("nan")


def standard_error(values: Sequence[float]) -> float:
    """Standard error of the mean of the finite values (sample SD / √n); NaN for fewer than two."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        return float("nan")
    return float(finite.std(ddof=1) / math.sqrt(finite.size))


def _target_name(target_dim: str) -> str:
    """``'time_ms'`` → ``'time'``, ``'roi'`` → ``'roi'`` (attr names such as ``per_time``)."""
    return target_dim[:-3] if target_dim.endswith("_ms") else target_dim


class RDMBenchmark(BenchmarkBase):
    """RSA of a model's region RDMs with a dataset's target RDMs (module docstring).

    Args:
        descriptor: the benchmark's descriptor: ``selection`` names the data in the dataset's
            package, ``options`` how the score is summarised: ``region_reduction`` (``'mean'`` over
            regions, or ``'max'``), ``summary_window_ms`` (inclusive ms window of the targets that
            enter the summary, or None for every target), ``detail_dims`` (the order of the detail
            array's dims).
        package: the package to read (default: the dataset's current package, at first use).

    Attributes:
        data_fingerprint: the fingerprint of the data it reads (a cache key of stored scores).
    """

    def __init__(self, descriptor: BenchmarkDescriptor, package: Any = None) -> None:
        self.descriptor = descriptor
        self.selection: dict[str, Any] = dict(descriptor.selection)
        self.options: dict[str, Any] = dict(descriptor.options)
        if self.options.get("region_reduction", "mean") not in ("mean", "max"):
            raise ValueError(f"{descriptor.identifier}: region_reduction must be 'mean' or 'max'")
        self._package = package
        self._targets: RDMTargets | None = None
        self._ceiling_cache: Score | None = None
        super().__init__(identifier=descriptor.identifier, ceiling=None, version=descriptor.version,
                         parent=descriptor.parent, bibtex=descriptor.dataset_descriptor().bibtex)

    @property
    def package(self) -> Any:
        if self._package is None:
            self._package = self.descriptor.dataset_descriptor().package()
        return self._package

    @property
    def data_fingerprint(self) -> str:
        return str(self.package.fingerprint)

    @property
    def targets(self) -> RDMTargets:
        """The target RDMs (read once)."""
        if self._targets is None:
            self._targets = self.package.rdm_targets(**self.selection)
        return self._targets

    @property
    def single_subject(self) -> bool:
        """True when the benchmark compares with one named subject (split-half ceiling)."""
        return self.selection.get("subject") is not None

    def _summary_mask(self, targets: RDMTargets) -> np.ndarray:
        window = self.options.get("summary_window_ms")
        if window is None:
            return np.ones(len(targets.targets), dtype=bool)
        return summary_window(np.asarray(targets.targets), tuple(window))

    def _per_target(self, values: np.ndarray, targets: RDMTargets) -> DataAssembly:
        dim = targets.target_dim
        return DataAssembly(np.asarray(values, dtype=np.float64), dims=(dim,), coords={dim: list(targets.targets)})

    @property
    def ceiling(self) -> Score:
        """The summary ceiling (scalar); its attrs keep the per-target values (``per_time`` / ``per_roi``)."""
        if self._ceiling_cache is None:
            self._ceiling_cache = self._compute_ceiling()
        return self._ceiling_cache

    def _compute_ceiling(self) -> Score:
        targets = self.targets
        name = _target_name(targets.target_dim)
        attrs: dict[str, Any] = {"subjects": list(targets.subjects)}
        if self.options.get("summary_window_ms") is not None:
            attrs["summary_window_ms"] = tuple(self.options["summary_window_ms"])
        if self.single_subject:
            if targets.split_halves is None:
                raise DataFormatError(f"{self.identifier}: the package keeps no split-half RDMs for the ceiling")
            halves = targets.split_halves[0]
            reliability = split_half_ceiling(halves[0], halves[1])
            per_target = np.asarray(reliability.ceiling, dtype=np.float64)
            attrs[f"half_correlation_per_{name}"] = self._per_target(reliability.half_correlation, targets)
            attrs["method"] = (f"split-half reliability of the subject's RDM, Spearman-Brown corrected, per {name}")
            negative = np.asarray(reliability.negative, dtype=bool) & self._summary_mask(targets)
            if negative.any():
                attrs["negative_half_correlation"] = [targets.targets[i] for i in np.flatnonzero(negative)]
        else:
            if len(targets.subjects) < 2:
                per_target = np.full(len(targets.targets), np.nan)
                attrs["nan_reason"] = (f"an inter-subject ceiling needs at least 2 subjects; the package has "
                                       f"{targets.subjects}")
            else:
                bounds = inter_subject_ceiling(targets.rdms)
                per_target = np.asarray(bounds.lower, dtype=np.float64)
                attrs[f"upper_bound_per_{name}"] = self._per_target(bounds.upper, targets)
            attrs["method"] = f"inter-subject consistency, leave one subject out (lower bound), per {name}"
        ceiling = Score(np.float64(mean_finite(per_target[self._summary_mask(targets)])))
        attrs[f"per_{name}"] = self._per_target(per_target, targets)
        ceiling.attrs.update(attrs)
        return ceiling

    def __call__(self, candidate: Any) -> Score:
        targets = self.targets
        stimulus_set = stimulus_set_for(targets.stimuli, self.data_fingerprint)
        model_rdms = region_rdms(candidate, stimulus_set, targets.stimuli.stimulus_ids)
        regions = list(model_rdms)
        rsa = np.stack([np.stack([np.atleast_1d(np.asarray(compare_rdms(subject_rdms, rdm, method="spearman"),
                                                           dtype=np.float64)) for rdm in model_rdms.values()])
                        for subject_rdms in targets.rdms])  # (S, R, T)
        per_subject = np.array([self._summarise(subject_rsa, targets) for subject_rsa in rsa])
        values = self._summary_values(rsa, targets)
        raw = mean_finite(values)
        ceiling = self.ceiling
        score_value, unbounded, reason = ceiled_value(raw, float(ceiling.values))
        subject_scores = [ceiled_value(v, float(ceiling.values))[0] for v in per_subject]

        dim = targets.target_dim
        coords = {"subject": list(targets.subjects), "region": regions, dim: list(targets.targets)}
        detail = DataAssembly(rsa, dims=("subject", "region", dim), coords=coords)
        detail = detail.transpose(*self.options.get("detail_dims", ("subject", "region", dim)))
        score = Score(np.float64(score_value))
        score.attrs["raw"] = Score(np.float64(raw))
        score.attrs["ceiling"] = ceiling
        if len(per_subject) > 1:
            score.attrs["error"] = standard_error(subject_scores)
            score.attrs["error_method"] = "standard error over subjects of the per-subject ceiled scores"
        else:
            interval = rsa_image_bootstrap(np.stack(list(model_rdms.values())), targets.rdms[0],
                                           summary=lambda subject_rsa: self._summarise(subject_rsa, targets),
                                           n_bootstrap=int(self.options.get("n_bootstrap", N_BOOTSTRAP)))
            ceiling_value = float(ceiling.values)
            score.attrs["error"] = float(interval.se / ceiling_value) if ceiling_value > 0 else float("nan")
            score.attrs["error_method"] = (f"bootstrap over images ({len(interval.samples)} resamplings): standard "
                                           "error of the raw summary divided by the ceiling")
            score.attrs["raw_interval"] = (float(interval.low), float(interval.high), interval.confidence)
        score.attrs.update({
            "detail": detail,
            "max_over_regions": DataAssembly(rsa.max(axis=1), dims=("subject", dim),
                                             coords={"subject": list(targets.subjects), dim: list(targets.targets)}),
            "per_subject_raw": DataAssembly(per_subject, dims=("subject",), coords={"subject": list(targets.subjects)}),
            "raw_summary": float(raw), "unbounded": unbounded, "n_undefined": int(np.sum(~np.isfinite(values))),
            "subjects": list(targets.subjects), "regions": regions, f"{_target_name(dim)}s": list(targets.targets),
            "dissimilarity": targets.kind, "n_images": targets.n_images,
            "recording_time_bin_ms": RECORDING_TIME_BIN, "presentation": PRESENTATION,
            "package_fingerprint": self.data_fingerprint,
            "flags": self._flags(raw, float(ceiling.values), unbounded, targets),
        })
        if self.options.get("summary_window_ms") is not None:
            score.attrs["summary_window_ms"] = tuple(self.options["summary_window_ms"])
        score.attrs.update({key: value for key, value in self.selection.items() if value is not None})
        if reason is not None:
            score.attrs["nan_reason"] = reason
        return score

    def _summary_values(self, rsa: np.ndarray, targets: RDMTargets) -> np.ndarray:
        """The RSA values the summary averages: (..., R, T') for 'mean', (..., T') best region for 'max'.

        ``rsa`` is (..., n_regions, n_targets)."""
        mask = self._summary_mask(targets)
        if self.options.get("region_reduction", "mean") == "max":
            return np.max(rsa, axis=-2)[..., mask]
        return rsa[..., mask]

    def _summarise(self, subject_rsa: np.ndarray, targets: RDMTargets) -> float:
        """One subject's raw summary from its RSA values (n_regions, n_targets)."""
        return mean_finite(self._summary_values(subject_rsa, targets))

    def _flags(self, raw: float, ceiling: float, unbounded: float, targets: RDMTargets) -> list[str]:
        flags = []
        negative = self.ceiling.attrs.get("negative_half_correlation")
        if negative:
            flags.append(f"negative split-half reliability at {_target_name(targets.target_dim)} {negative}: left out "
                         "of the ceiling (the subject's RDM is not reliable there)")
        if np.isfinite(unbounded) and unbounded > 1:
            flags.append(f"raw above ceiling: the model's RSA ({raw:.3f}) exceeds the data's ceiling ({ceiling:.3f}), "
                         "so the score is clipped to 1; the ceiling underestimates the data's reliability here")
        if targets.n_images < MIN_STABLE_IMAGES:
            pairs = targets.n_images * (targets.n_images - 1) // 2
            flags.append(f"too few images for a stable RSA: {targets.n_images} images ({pairs} pairs; at least "
                         f"{MIN_STABLE_IMAGES} are needed for a Spearman standard error below 0.2)")
        return flags


def geirhos2021_error_consistency_mean(descriptor: BenchmarkDescriptor, **kwargs: Any) -> BenchmarkBase:
    """``Geirhos2021-error_consistency``: the mean of Brain-Score's 17 Geirhos2021 error-consistency benchmarks."""
    from realnet_plugins.brainscore_bridge.geirhos2021 import Geirhos2021ErrorConsistencyMean

    return Geirhos2021ErrorConsistencyMean(descriptor=descriptor, **kwargs)

