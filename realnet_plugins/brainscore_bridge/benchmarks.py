"""Brain-Score benchmarks of ReAlnet's paper: THINGS-EEG2 temporal RSA, Shen 2019 fMRI RSA, Geirhos2021 mean.

All benchmarks are model-agnostic: they record the standard regions V1, V2, V4 and IT through
``candidate.start_recording(region, time_bins=[(70, 170)])`` and show the images with
``candidate.look_at(stimulus_set, number_of_trials=1)``, so any Brain-Score model can be scored.
The RSA benchmarks present the images **full-field**, as the paper did: the stimulus set is passed
as is, without ``place_on_screen`` rescaling to the model's visual degrees.

Per region the model RDM is 1 − Pearson r between the images' flattened activations; RSA is the
Spearman correlation of RDM upper triangles (SPEC.md, Evaluation).

``ThingsEEG2-temporal_rsa`` / ``ThingsEEG2.sub-NN-temporal_rsa``
    RSA of each region's RDM with each subject's EEG decoding RDM at each time point 0…190 ms.
    Scalar summary (SPEC.md): the mean over the four regions and the samples at 50…190 ms (times
    rounded to whole ms), averaged over subjects. Ceiling per time point: all subjects — the
    inter-subject leave-one-subject-out consistency (each subject's RDM against the mean of the
    others, averaged over subjects; the upper bound, against the mean of all, is kept too); one
    subject — the split-half reliability of that subject's RDM (trials split in two random halves,
    Spearman of the halves' RDMs, Spearman–Brown corrected). The summary ceiling is the mean of the
    per-time ceiling over the same samples, and the score is summary / summary ceiling.
``Shen2019.{natural,shape,letter}-rsa``
    Per subject and ROI (V1, V2, V3, V4, LOC) the maximum RSA over the four regions; summary = mean
    over ROIs and subjects. Ceiling per ROI: inter-subject leave-one-subject-out consistency of the
    Shen subjects' fMRI RDMs; summary ceiling = mean over ROIs.
``Geirhos2021-error_consistency``
    The mean of Brain-Score's 17 ``Geirhos2021<condition>-error_consistency`` scores.

Summaries average the finite values only (an RDM that is constant, e.g. every pair decoded
perfectly, has no defined Spearman correlation); ``attrs['n_undefined']`` counts the values left
out. Scores are bounded to [0, 1]; the unbounded ratio is kept in ``attrs['unbounded']``. A
summary ceiling that is ≤ 0 or undefined gives a NaN score with the reason in
``attrs['nan_reason']``. Every attr is picklable (Brain-Score may pickle the Score).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
from brainscore_core.benchmarks import BenchmarkBase
from brainscore_core.metrics import Score
from brainscore_core.supported_data_standards.brainio.assemblies import DataAssembly

from realnet_plugins.brainscore_bridge.assemblies import shen2019_stimulus_set, things_eeg2_stimulus_set
from realnet_plugins.datasets.shen2019.packaging import BENCHMARK_ROIS, Shen2019Package
from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package
from realnet_plugins.errors import DataFormatError, RealnetError
from realnet_plugins.rsa.ceiling import inter_subject_ceiling, split_half_ceiling
from realnet_plugins.rsa.rdm import compare_rdms, model_rdm

#: Regions every RSA benchmark records.
REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT")
#: The single recording time bin requested from models, ms (static models ignore it).
RECORDING_TIME_BIN: tuple[int, int] = (70, 170)
#: Samples of the EEG scalar summary, ms, inclusive (SPEC.md: 50…190 ms).
SUMMARY_WINDOW_MS: tuple[int, int] = (50, 190)
PRESENTATION = "full-field: stimuli passed unchanged, no place_on_screen rescaling (as in the paper)"
VERSION = 1

GIFFORD2022_BIBTEX = """@article{gifford2022large,
  title={A large and rich EEG dataset for modeling human visual object recognition},
  author={Gifford, Alessandro T. and Dwivedi, Kshitij and Roig, Gemma and Cichy, Radoslaw M.},
  journal={NeuroImage},
  volume={264},
  pages={119754},
  year={2022},
  url={https://doi.org/10.1016/j.neuroimage.2022.119754}
}"""
SHEN2019_BIBTEX = """@article{shen2019deep,
  title={Deep image reconstruction from human brain activity},
  author={Shen, Guohua and Horikawa, Tomoyasu and Majima, Kei and Kamitani, Yukiyasu},
  journal={PLoS Computational Biology},
  volume={15},
  number={1},
  pages={e1006633},
  year={2019},
  url={https://doi.org/10.1371/journal.pcbi.1006633}
}"""
#: The 17 upstream Geirhos2021 conditions with an error-consistency benchmark.
GEIRHOS2021_CONDITIONS: tuple[str, ...] = (
    "colour", "contrast", "cueconflict", "edge", "eidolonI", "eidolonII", "eidolonIII", "falsecolour",
    "highpass", "lowpass", "phasescrambling", "powerequalisation", "rotation", "silhouette", "sketch",
    "stylized", "uniformnoise",
)


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


def temporal_rsa(model_rdms: Mapping[str, np.ndarray], eeg_rdms: np.ndarray) -> np.ndarray:
    """RSA of every region's RDM with the EEG RDM of every time point.

    Args:
        model_rdms: region → (n, n).
        eeg_rdms: (n_times, n, n).

    Returns:
        (n_regions, n_times) Spearman correlations, regions in ``model_rdms`` order.
    """
    return np.stack([np.asarray(compare_rdms(eeg_rdms, rdm, method="spearman"), dtype=np.float64)
                     for rdm in model_rdms.values()])


def summary_window(times_ms: np.ndarray) -> np.ndarray:
    """Boolean mask of the samples at 50…190 ms (times rounded to whole ms), shape like ``times_ms``."""
    rounded = np.round(np.asarray(times_ms, dtype=np.float64)).astype(np.int64)
    return (rounded >= SUMMARY_WINDOW_MS[0]) & (rounded <= SUMMARY_WINDOW_MS[1])


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


def _mean_finite(values: np.ndarray) -> float:
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else float("nan")


def _final_score(raw_summary: float, ceiling: Score, attrs: dict[str, Any]) -> Score:
    value, unbounded, reason = ceiled_value(raw_summary, float(ceiling.values))
    score = Score(np.float64(value))
    score.attrs.update(attrs)
    score.attrs["ceiling"] = ceiling
    score.attrs["raw_summary"] = float(raw_summary)
    score.attrs["unbounded"] = unbounded
    if reason is not None:
        score.attrs["nan_reason"] = reason
    return score


class ThingsEEG2TemporalRSA(BenchmarkBase):
    """THINGS-EEG2 temporal RSA: all packaged subjects (``subject=None``) or one subject.

    See the module docstring for the score, the ceilings and the full-field presentation (no
    ``place_on_screen``). Data come from the current package (``realnet package things-eeg2``).

    Args:
        subject: subject number for the single-subject benchmark; None for all subjects.
        package: a package to read (default: the current one, loaded at first use).
    """

    def __init__(self, subject: int | None = None, package: ThingsEEG2Package | None = None) -> None:
        self.subject = subject
        self._package = package
        self._ceiling_cache: Score | None = None
        identifier = "ThingsEEG2-temporal_rsa" if subject is None else f"ThingsEEG2.sub-{subject:02d}-temporal_rsa"
        super().__init__(identifier=identifier, ceiling=None, version=VERSION, parent="ThingsEEG2",
                         bibtex=GIFFORD2022_BIBTEX)

    @property
    def package(self) -> ThingsEEG2Package:
        if self._package is None:
            self._package = ThingsEEG2Package()
        return self._package

    def subjects(self) -> list[str]:
        """Subjects this benchmark compares with, e.g. ``['sub-01', 'sub-02']``."""
        if self.subject is None:
            return self.package.subjects
        name = f"sub-{self.subject:02d}"
        if name not in self.package.subjects:
            raise RealnetError(
                f"{self.identifier} needs {name}, but the current THINGS-EEG2 package ({self.package.folder}) holds "
                f"{self.package.subjects}; run `realnet package things-eeg2 --source DIR` including that subject"
            )
        return [name]

    @property
    def ceiling(self) -> Score:
        """Summary ceiling (scalar); ``attrs['per_time']`` holds the per-time ceiling (time_ms)."""
        if self._ceiling_cache is None:
            self._ceiling_cache = self._compute_ceiling()
        return self._ceiling_cache

    def _compute_ceiling(self) -> Score:
        times = self.package.times_ms
        window = summary_window(times)
        subjects = self.subjects()
        attrs: dict[str, Any] = {"summary_window_ms": SUMMARY_WINDOW_MS, "subjects": subjects}
        if self.subject is None:
            stacked = np.stack([self.package.rdms(s)[0] for s in subjects])  # (S, T, n, n)
            if len(subjects) < 2:
                per_time = np.full(times.shape, np.nan)
                attrs["nan_reason"] = f"an inter-subject ceiling needs at least 2 subjects; the package has {subjects}"
            else:
                bounds = inter_subject_ceiling(stacked)
                per_time = np.asarray(bounds.lower, dtype=np.float64)
                attrs["upper_bound_per_time"] = _time_course(np.asarray(bounds.upper, dtype=np.float64), times)
            attrs["method"] = "inter-subject consistency, leave one subject out (lower bound), per time point"
        else:
            halves = self.package.rdms(subjects[0])[1]
            reliability = split_half_ceiling(halves[0], halves[1])
            per_time = np.asarray(reliability.ceiling, dtype=np.float64)
            attrs["half_correlation_per_time"] = _time_course(reliability.half_correlation, times)
            attrs["method"] = "split-half reliability of the subject's RDM, Spearman-Brown corrected, per time point"
        ceiling = Score(np.float64(_mean_finite(per_time[window])))
        attrs["per_time"] = _time_course(per_time, times)
        ceiling.attrs.update(attrs)
        return ceiling

    def __call__(self, candidate: Any) -> Score:
        package = self.package
        subjects = self.subjects()
        stimulus_set = things_eeg2_stimulus_set(package)
        stimulus_ids = list(stimulus_set["stimulus_id"])
        model_rdms = region_rdms(candidate, stimulus_set, stimulus_ids)
        times = package.times_ms
        rsa = np.stack([temporal_rsa(model_rdms, package.rdms(s)[0]) for s in subjects])  # (S, R, T)
        raw = Score(rsa, dims=("subject", "region", "time_ms"),
                    coords={"subject": subjects, "region": list(model_rdms), "time_ms": times})
        max_over_regions = DataAssembly(rsa.max(axis=1), dims=("subject", "time_ms"),
                                        coords={"subject": subjects, "time_ms": times})
        window = summary_window(times)
        in_window = rsa[:, :, window]
        return _final_score(_mean_finite(in_window), self.ceiling, {
            "n_undefined": int(np.sum(~np.isfinite(in_window))),
            "raw": raw, "max_over_regions": max_over_regions, "subjects": subjects, "regions": list(model_rdms),
            "summary_window_ms": SUMMARY_WINDOW_MS, "recording_time_bin_ms": RECORDING_TIME_BIN,
            "presentation": PRESENTATION, "package_fingerprint": package.fingerprint,
        })


def _time_course(values: np.ndarray, times: np.ndarray) -> DataAssembly:
    return DataAssembly(np.asarray(values, dtype=np.float64), dims=("time_ms",), coords={"time_ms": times})


class Shen2019RSA(BenchmarkBase):
    """Shen 2019 fMRI RSA on one image set (``'natural'``, ``'shape'`` or ``'letter'``).

    See the module docstring for the score and the ceiling; images are shown full-field (no
    ``place_on_screen``). Data come from the current package (``realnet package shen2019``).

    Args:
        image_set: the image set.
        package: a package to read (default: the current one, loaded at first use).
        rois: ROIs scored (default V1, V2, V3, V4, LOC).
    """

    def __init__(self, image_set: str, package: Shen2019Package | None = None,
                 rois: Sequence[str] = BENCHMARK_ROIS) -> None:
        self.image_set = image_set
        self.rois = tuple(rois)
        self._package = package
        self._ceiling_cache: Score | None = None
        super().__init__(identifier=f"Shen2019.{image_set}-rsa", ceiling=None, version=VERSION, parent="Shen2019",
                         bibtex=SHEN2019_BIBTEX)

    @property
    def package(self) -> Shen2019Package:
        if self._package is None:
            self._package = Shen2019Package()
        return self._package

    def _fmri_rdms(self) -> dict[str, dict[str, np.ndarray]]:
        """subject → ROI → (n, n) fMRI RDM."""
        out = {}
        for subject in self.package.subjects:
            rdms = self.package.rdms(subject, self.image_set)
            absent = [roi for roi in self.rois if roi not in rdms]
            if absent:
                raise RealnetError(f"{subject}'s {self.image_set} package lacks the ROIs {absent}; found {list(rdms)}")
            out[subject] = {roi: rdms[roi] for roi in self.rois}
        return out

    @property
    def ceiling(self) -> Score:
        """Summary ceiling (scalar); ``attrs['per_roi']`` holds the per-ROI ceiling."""
        if self._ceiling_cache is None:
            rdms = self._fmri_rdms()
            subjects = list(rdms)
            attrs: dict[str, Any] = {"subjects": subjects,
                                     "method": "inter-subject consistency, leave one subject out (lower bound), "
                                               "per ROI"}
            if len(subjects) < 2:
                per_roi = np.full(len(self.rois), np.nan)
                attrs["nan_reason"] = f"an inter-subject ceiling needs at least 2 subjects; the package has {subjects}"
            else:
                per_roi = np.array([inter_subject_ceiling(np.stack([rdms[s][roi] for s in subjects])[:, None]).lower[0]
                                    for roi in self.rois], dtype=np.float64)
            ceiling = Score(np.float64(_mean_finite(per_roi)))
            attrs["per_roi"] = DataAssembly(per_roi, dims=("roi",), coords={"roi": list(self.rois)})
            ceiling.attrs.update(attrs)
            self._ceiling_cache = ceiling
        return self._ceiling_cache

    def __call__(self, candidate: Any) -> Score:
        stimulus_set = shen2019_stimulus_set(self.image_set, self.package)
        stimulus_ids = list(stimulus_set["stimulus_id"])
        model_rdms = region_rdms(candidate, stimulus_set, stimulus_ids)
        fmri = self._fmri_rdms()
        subjects = list(fmri)
        rsa = np.array([[[float(compare_rdms(fmri[s][roi], model_rdms[region], method="spearman"))
                          for region in model_rdms] for roi in self.rois] for s in subjects])  # (S, ROI, R)
        raw = Score(rsa, dims=("subject", "roi", "region"),
                    coords={"subject": subjects, "roi": list(self.rois), "region": list(model_rdms)})
        max_over_regions = DataAssembly(rsa.max(axis=2), dims=("subject", "roi"),
                                        coords={"subject": subjects, "roi": list(self.rois)})
        best = rsa.max(axis=2)
        return _final_score(_mean_finite(best), self.ceiling, {
            "n_undefined": int(np.sum(~np.isfinite(best))),
            "raw": raw, "max_over_regions": max_over_regions, "subjects": subjects, "rois": list(self.rois),
            "regions": list(model_rdms), "image_set": self.image_set, "recording_time_bin_ms": RECORDING_TIME_BIN,
            "presentation": PRESENTATION, "package_fingerprint": self.package.fingerprint,
        })


def geirhos2021_identifiers() -> list[str]:
    """The 17 upstream ids ``Geirhos2021<condition>-error_consistency``."""
    return [f"Geirhos2021{condition}-error_consistency" for condition in GEIRHOS2021_CONDITIONS]


def _load_upstream_benchmark(identifier: str) -> Any:
    from brainscore_vision import load_benchmark

    return load_benchmark(identifier)


class Geirhos2021ErrorConsistencyMean(BenchmarkBase):
    """The mean of Brain-Score's 17 Geirhos2021 error-consistency benchmarks (upstream has no such id).

    The sub-benchmarks are loaded with ``brainscore_vision.load_benchmark`` at first use; their
    data come from Brain-Score's storage (downloaded on first use, or placed in ``$BRAINIO_HOME``).

    Args:
        load: ``identifier → benchmark`` (default ``brainscore_vision.load_benchmark``).
    """

    def __init__(self, load: Callable[[str], Any] = _load_upstream_benchmark) -> None:
        self._load = load
        self._benchmarks: list[Any] | None = None
        self._ceiling_cache: Score | None = None
        super().__init__(identifier="Geirhos2021-error_consistency", ceiling=None, version=VERSION,
                         parent="Geirhos2021", bibtex=None)

    def sub_benchmarks(self) -> list[Any]:
        """The 17 upstream benchmarks, in :data:`GEIRHOS2021_CONDITIONS` order."""
        if self._benchmarks is None:
            self._benchmarks = [self._load(identifier) for identifier in geirhos2021_identifiers()]
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
        """Mean of the 17 sub-benchmark ceilings; ``attrs['per_benchmark']`` keeps each."""
        if self._ceiling_cache is None:
            values = [float(self._run(b, "computing its ceiling", lambda b=b: b.ceiling))
                      for b in self.sub_benchmarks()]
            ceiling = Score(np.float64(np.mean(values)))
            ceiling.attrs["per_benchmark"] = DataAssembly(np.array(values), dims=("benchmark",),
                                                          coords={"benchmark": geirhos2021_identifiers()})
            self._ceiling_cache = ceiling
        return self._ceiling_cache

    def __call__(self, candidate: Any) -> Score:
        values = []
        for benchmark in self.sub_benchmarks():
            sub_score = self._run(benchmark, "scoring the model", lambda b=benchmark: b(candidate))
            values.append(float(np.asarray(sub_score).item()))
        per_benchmark = Score(np.array(values), dims=("benchmark",), coords={"benchmark": geirhos2021_identifiers()})
        score = Score(np.float64(np.mean(values)))
        score.attrs["raw"] = per_benchmark
        score.attrs["benchmarks"] = geirhos2021_identifiers()
        score.attrs["aggregation"] = "mean of the 17 ceiled sub-benchmark scores"
        return score
