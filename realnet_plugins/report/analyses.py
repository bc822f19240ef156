"""The paper's analyses over stored scores and layer RDMs, as tidy tables (one row per plotted number).

Each function takes the scores (:class:`ReportData`) and returns pandas DataFrames; the figures
(:mod:`.figures`) plot exactly these tables and the report writes them as CSV. The arithmetic and
statistics come from :mod:`realnet_plugins.analysis` and :mod:`realnet_plugins.stats`.

Pairing (SPEC.md, "EEG temporal RSA"): a personalised model (``realnet_s03``) is compared with its
own subject's EEG; a single model (the base model, a Brain-Score baseline, ``realnet_acrosssub``)
with every subject's. Two groups are compared at the subjects they share (paired t-tests across
subjects); a personalised group against a single model on fMRI (other subjects, other images) by a
one-sample t-test of the personalised models' values against the single model's value.

Functions raise :class:`AnalysisSkipped` with a reason when the data cannot support an analysis.
"""
from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from realnet_plugins.analysis.dimensions import dimension_rdms, partial_spearman, top_dimensions
from realnet_plugins.analysis.eeg import (
    baseline_subtracted,
    column_normalised,
    compare_time_courses,
    cross_subject_matrix,
    matched_vs_unmatched_test,
    max_over_layers,
    mean_sem,
    peak_improvement,
    summary_scalar,
)
from realnet_plugins.analysis.variability import individual_variability
from realnet_plugins.errors import DataFormatError
from realnet_plugins.report.rdms import LayerRDMs
from realnet_plugins.report.selection import BETA_FAMILIES, ModelGroup, ReportModel
from realnet_plugins.stats import TTestResult, bonferroni, ttest_one_sample, ttest_paired

#: Image set of the fMRI summaries of Fig. 5 and the β sweep (the paper's natural images).
FMRI_SUMMARY_IMAGE_SET = "natural"
#: Shen ROIs of the human individual variability (paper Fig. 2D: V1, V2, V4, LOC).
VARIABILITY_ROIS: tuple[str, ...] = ("V1", "V2", "V4", "LOC")


class AnalysisSkipped(Exception):
    """An analysis the data cannot support; the message says why (shown in the report)."""


@dataclass
class ReportData:
    """Everything the analyses read.

    Attributes:
        main: the ReAlnets (a personalised group).
        base: the base model (a single model), or None.
        controls: control groups (personalised or single).
        extra_baselines: further single models (Fig. 1B).
        eeg: model name → THINGS-EEG2 temporal RSA ``raw`` (subject × region × time_ms).
        fmri: model name → image set → Shen ``raw`` (subject × roi × region).
        behaviour: model name → behavioural benchmark id → score.
        rdms: model name → layer RDMs on the THINGS-EEG2 test images.
    """

    main: ModelGroup
    base: ModelGroup | None
    controls: list[ModelGroup] = field(default_factory=list)
    extra_baselines: list[ModelGroup] = field(default_factory=list)
    eeg: dict[str, xr.DataArray] = field(default_factory=dict)
    fmri: dict[str, dict[str, xr.DataArray]] = field(default_factory=dict)
    behaviour: dict[str, dict[str, float]] = field(default_factory=dict)
    rdms: dict[str, LayerRDMs] = field(default_factory=dict)

    @property
    def comparison_groups(self) -> list[ModelGroup]:
        """The base model first, then the controls."""
        return ([self.base] if self.base is not None else []) + list(self.controls)


def subject_name(subject: int) -> str:
    """THINGS-EEG2 package subject name: 3 → ``'sub-03'``."""
    return f"sub-{subject:02d}"


@dataclass(frozen=True)
class EEGRows:
    """A group's EEG RSA as rows of subjects.

    Attributes:
        values: (n_rows, n_regions, n_times) Spearman ρ.
        subjects: the subject of each row (``'sub-03'``).
        models: the model of each row.
        regions: region names.
        times_ms: sample times, ms.
    """

    values: np.ndarray
    subjects: tuple[str, ...]
    models: tuple[str, ...]
    regions: tuple[str, ...]
    times_ms: np.ndarray

    @property
    def times_s(self) -> np.ndarray:
        return self.times_ms / 1000.0

    def at(self, subjects: Sequence[str]) -> np.ndarray:
        """Rows of the given subjects, in that order."""
        index = {s: i for i, s in enumerate(self.subjects)}
        return self.values[[index[s] for s in subjects]]


def eeg_rows(group: ModelGroup, data: ReportData) -> EEGRows:
    """A personalised group's models against their own subjects, a single model against every subject."""
    rows, subjects, models = [], [], []
    regions: tuple[str, ...] | None = None
    times: np.ndarray | None = None
    for model in group.models:
        raw = data.eeg.get(model.name)
        if raw is None:
            continue
        raw = raw.transpose("subject", "region", "time_ms")
        if regions is None:
            regions = tuple(str(r) for r in raw["region"].values)
            times = np.asarray(raw["time_ms"].values, dtype=np.float64)
        packaged = [str(s) for s in raw["subject"].values]
        wanted = [subject_name(model.subject)] if group.personalised else packaged
        for subject in wanted:
            if subject in packaged:
                rows.append(np.asarray(raw.sel(subject=subject).values, dtype=np.float64))
                subjects.append(subject)
                models.append(model.name)
    if not rows or regions is None or times is None:
        raise AnalysisSkipped(f"no THINGS-EEG2 scores of {group.label} for the packaged subjects")
    return EEGRows(np.stack(rows), tuple(subjects), tuple(models), regions, times)


def _shared_subjects(a: EEGRows, b: EEGRows) -> list[str]:
    return [s for s in a.subjects if s in set(b.subjects)]


def _eeg_rows_of(groups: Sequence[ModelGroup], data: ReportData) -> list[tuple[ModelGroup, EEGRows]]:
    out = []
    for group in groups:
        try:
            out.append((group, eeg_rows(group, data)))
        except AnalysisSkipped:
            continue
    return out


def _ttest_columns(result: TTestResult) -> dict[str, float]:
    return {"t": float(result.t), "p": float(result.p), "df": float(result.df), "cohens_d": float(result.d),
            "n": int(result.n)}


@dataclass(frozen=True)
class TimeCourses:
    """Mean ± SEM time courses and the time points where the ReAlnets differ (Fig. 1B, 2A, 2C).

    Attributes:
        curves: group, layer, time_ms, mean, sem, n.
        marks: comparison (the other group), layer, time_ms, t, p, uncorrected_significant (the
            paper's p < 0.05 marks), cluster_p, cluster_significant (cluster-based permutation
            test over time, this project's addition), n_pairs.
    """

    curves: pd.DataFrame
    marks: pd.DataFrame


def _curve_rows(label: str, layer: str, values: np.ndarray, times_ms: np.ndarray) -> list[dict]:
    mean, sem = mean_sem(values, axis=0) if values.shape[0] > 1 else (values[0], np.full(values.shape[1], np.nan))
    return [{"group": label, "layer": layer, "time_ms": float(t), "mean": float(m), "sem": float(s),
             "n": int(values.shape[0])} for t, m, s in zip(times_ms, mean, sem)]


def _mark_rows(main: np.ndarray, other: np.ndarray, comparison: str, layer: str, times_ms: np.ndarray,
               n_permutations: int) -> list[dict]:
    result = compare_time_courses(main, other, paired=True, n_permutations=n_permutations)
    cluster_p = np.full(times_ms.shape, np.nan)
    for cluster, p in zip(result.cluster.clusters, result.cluster.cluster_p):
        cluster_p[cluster] = p
    return [{"comparison": comparison, "layer": layer, "time_ms": float(times_ms[i]),
             "t": float(result.ttest.t[i]), "p": float(result.ttest.p[i]),
             "uncorrected_significant": bool(result.uncorrected[i]), "cluster_p": float(cluster_p[i]),
             "cluster_significant": bool(result.cluster.significant[i]), "n_pairs": int(main.shape[0])}
            for i in range(times_ms.size)]


def _time_courses(data: ReportData, groups: Sequence[ModelGroup], layer_values, n_permutations: int,
                  compare_with: Sequence[ModelGroup]) -> TimeCourses:
    """``layer_values(rows) → {layer: (n_rows, n_times)}`` for each group; marks main vs ``compare_with``."""
    main_rows = eeg_rows(data.main, data)
    curves: list[dict] = []
    for group, rows in _eeg_rows_of(groups, data):
        for layer, values in layer_values(rows).items():
            curves += _curve_rows(group.label, layer, values, rows.times_ms)
    marks: list[dict] = []
    for group, rows in _eeg_rows_of(compare_with, data):
        shared = _shared_subjects(main_rows, rows)
        if len(shared) < 2:
            continue
        main_layers = layer_values(_subset(main_rows, shared))
        other_layers = layer_values(_subset(rows, shared))
        for layer in main_layers:
            marks += _mark_rows(main_layers[layer], other_layers[layer], group.label, layer, main_rows.times_ms,
                                n_permutations)
    return TimeCourses(pd.DataFrame(curves), pd.DataFrame(marks, columns=[
        "comparison", "layer", "time_ms", "t", "p", "uncorrected_significant", "cluster_p", "cluster_significant",
        "n_pairs"]))


def _subset(rows: EEGRows, subjects: Sequence[str]) -> EEGRows:
    index = {s: i for i, s in enumerate(rows.subjects)}
    picked = [index[s] for s in subjects]
    return EEGRows(rows.values[picked], tuple(subjects), tuple(rows.models[i] for i in picked), rows.regions,
                   rows.times_ms)


def layer_time_courses(data: ReportData, n_permutations: int = 10_000) -> TimeCourses:
    """Fig. 2A: per-layer RSA time courses of the ReAlnets, the base model and the controls."""
    groups = [data.main, *data.comparison_groups]
    return _time_courses(data, groups, lambda rows: {r: rows.values[:, i] for i, r in enumerate(rows.regions)},
                         n_permutations, data.comparison_groups)


def max_layer_time_courses(data: ReportData, n_permutations: int = 10_000) -> TimeCourses:
    """Fig. 2C: at each time point the largest RSA over layers."""
    groups = [data.main, *data.comparison_groups]
    return _time_courses(data, groups, lambda rows: {"max over layers": max_over_layers(rows.values)},
                         n_permutations, data.comparison_groups)


def early_late_time_courses(data: ReportData, n_permutations: int = 10_000) -> TimeCourses:
    """Fig. 1B: the first (early) and last (late) recorded layer of the ReAlnets, the base and extra baselines.

    For every model the early layer is its first region (V1) and the late layer its last (IT), the
    regions Brain-Score records; the region each maps to in a baseline is that model's commitment.
    """
    groups = [data.main, *([data.base] if data.base else []), *data.extra_baselines]

    def early_late(rows: EEGRows) -> dict[str, np.ndarray]:
        return {f"early ({rows.regions[0]})": rows.values[:, 0], f"late ({rows.regions[-1]})": rows.values[:, -1]}

    return _time_courses(data, groups, early_late, n_permutations,
                         [*([data.base] if data.base else []), *data.extra_baselines])


@dataclass(frozen=True)
class PeakImprovements:
    """Fig. 2B: improvement and ratio at each layer's peak.

    Attributes:
        values: model, subject, layer, peak_time_ms, realnet, base, improvement, ratio.
        stats: layer, measure (improvement / ratio), mean, sem, t, p, df, cohens_d, n (one-sample
            t-test against 0 across models).
    """

    values: pd.DataFrame
    stats: pd.DataFrame


def peak_improvements(data: ReportData) -> PeakImprovements:
    """Fig. 2B: ReAlnet − base at the peak of the mean ReAlnet curve, per layer, each ReAlnet vs its subject."""
    if data.base is None:
        raise AnalysisSkipped("the improvement needs a base model (--base)")
    main = eeg_rows(data.main, data)
    base = eeg_rows(data.base, data)
    shared = _shared_subjects(main, base)
    if not shared:
        raise AnalysisSkipped(f"{data.base.label} has no THINGS-EEG2 scores for the ReAlnets' subjects")
    main, base = _subset(main, shared), _subset(base, shared)
    result = peak_improvement(main.values, base.values, main.times_s)
    rows = []
    for i, (model, subject) in enumerate(zip(main.models, main.subjects)):
        for j, layer in enumerate(main.regions):
            peak = int(result.peak_index[j])
            rows.append({"model": model, "subject": subject, "layer": layer, "peak_time_ms": float(main.times_ms[peak]),
                         "realnet": float(main.values[i, j, peak]), "base": float(base.values[i, j, peak]),
                         "improvement": float(result.improvement[i, j]), "ratio": float(result.ratio[i, j])})
    values = pd.DataFrame(rows)
    stats = []
    for layer in main.regions:
        for measure in ("improvement", "ratio"):
            column = values.loc[values["layer"] == layer, measure].to_numpy()
            stats.append({"layer": layer, "measure": measure, **_summary(column)})
    return PeakImprovements(values, pd.DataFrame(stats))


def _summary(values: np.ndarray) -> dict[str, float]:
    """Mean, SEM and the one-sample t-test against 0 (NaN where n < 2)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size < 2:
        return {"mean": float(values.mean()) if values.size else float("nan"), "sem": float("nan"), "t": float("nan"),
                "p": float("nan"), "df": float("nan"), "cohens_d": float("nan"), "n": int(values.size)}
    mean, sem = mean_sem(values)
    return {"mean": float(mean), "sem": float(sem), **_ttest_columns(ttest_one_sample(values))}


@dataclass(frozen=True)
class CrossSubject:
    """Fig. 2E–G: every personalised model against every subject.

    Attributes:
        cells: model, model_subject, subject, similarity (mean over layers and 50–190 ms),
            base_similarity, baseline_subtracted, normalised (column-normalised baseline-subtracted,
            NaN when a column has no positive value).
        matched: model, matched, unmatched (mean of the other subjects) per model.
        test: t, p, df, cohens_d, n of the paired test matched vs unmatched (empty when < 3 models).
        normalised_reason: why the column normalisation was not possible ("" when it was).
    """

    cells: pd.DataFrame
    matched: pd.DataFrame
    test: pd.DataFrame
    normalised_reason: str


def cross_subject(data: ReportData) -> CrossSubject:
    """Fig. 2E–G from the all-subject benchmark's per-subject raw values."""
    if data.base is None:
        raise AnalysisSkipped("the baseline-subtracted matrix needs a base model (--base)")
    base_model = data.base.models[0]
    if base_model.name not in data.eeg:
        raise AnalysisSkipped(f"no THINGS-EEG2 scores of {data.base.label}")
    base_raw = data.eeg[base_model.name].transpose("subject", "region", "time_ms")
    packaged = [str(s) for s in base_raw["subject"].values]
    models = [m for m in data.main.models if m.name in data.eeg and m.subject is not None
              and subject_name(m.subject) in packaged]
    if len(models) < 2:
        raise AnalysisSkipped(
            f"the cross-subject matrix needs ≥ 2 personalised models whose subjects are packaged; found {len(models)}"
        )
    subjects = [subject_name(m.subject) for m in models]  # type: ignore[arg-type]
    times_s = np.asarray(base_raw["time_ms"].values, dtype=np.float64) / 1000.0
    rsa = np.stack([data.eeg[m.name].transpose("subject", "region", "time_ms").sel(subject=subjects).values
                    for m in models])
    matrix = cross_subject_matrix(rsa, times_s)
    base_row = summary_scalar(base_raw.sel(subject=subjects).values, times_s)
    subtracted = baseline_subtracted(matrix, base_row)
    reason = ""
    try:
        normalised = column_normalised(subtracted)
    except DataFormatError as error:
        normalised = np.full(subtracted.shape, np.nan)
        reason = (f"column normalisation needs a positive baseline-subtracted value in every column "
                  f"(no model beats {data.base.label} on some subject's EEG): {error}")
    cells = [{"model": m.name, "model_subject": subject_name(m.subject), "subject": s,  # type: ignore[arg-type]
              "similarity": float(matrix[i, j]), "base_similarity": float(base_row[j]),
              "baseline_subtracted": float(subtracted[i, j]), "normalised": float(normalised[i, j])}
             for i, m in enumerate(models) for j, s in enumerate(subjects)]
    source = normalised if not reason else subtracted
    matched_rows, test_rows = [], []
    if len(models) >= 3:
        result = matched_vs_unmatched_test(source)
        matched_rows = [{"model": m.name, "matched": float(a), "unmatched": float(b), "values": "normalised"
                         if not reason else "baseline_subtracted"}
                        for m, a, b in zip(models, result.matched, result.unmatched)]
        test_rows = [_ttest_columns(result.ttest)]
    return CrossSubject(pd.DataFrame(cells), pd.DataFrame(matched_rows), pd.DataFrame(test_rows), reason)


def _fmri_values(model: ReportModel, data: ReportData, image_set: str) -> xr.DataArray | None:
    """(subject, roi) max over regions, or None."""
    raw = data.fmri.get(model.name, {}).get(image_set)
    if raw is None:
        return None
    return raw.transpose("subject", "roi", "region").max("region")


@dataclass(frozen=True)
class FMRIComparison:
    """Fig. 3: RSA with each Shen ROI (max over layers), per image set.

    Attributes:
        values: group, model, training_subject, image_set, roi, similarity (mean over the Shen
            subjects), and one column per Shen subject.
        stats: image_set, roi, comparison, kind (one-sample vs a single model / paired by subject),
            t, p, p_bonferroni (family: every ROI × comparison of the image set), cohens_d, n,
            higher (ReAlnets higher), significant (p_bonferroni < 0.05).
    """

    values: pd.DataFrame
    stats: pd.DataFrame


def fmri_comparison(data: ReportData, image_sets: Sequence[str] = ("natural", "shape", "letter")) -> FMRIComparison:
    """Fig. 3: per ROI and image set the ReAlnets against the base model and the controls, Bonferroni-corrected."""
    rows = []
    for group in [data.main, *data.comparison_groups]:
        for model in group.models:
            for image_set in image_sets:
                values = _fmri_values(model, data, image_set)
                if values is None:
                    continue
                for roi in values["roi"].values:
                    per_subject = values.sel(roi=roi)
                    row = {"group": group.label, "model": model.name, "training_subject": model.subject,
                           "image_set": image_set, "roi": str(roi), "similarity": float(per_subject.mean())}
                    row.update({str(s): float(per_subject.sel(subject=s)) for s in per_subject["subject"].values})
                    rows.append(row)
    values = pd.DataFrame(rows)
    if values.empty or not (values["group"] == data.main.label).any():
        raise AnalysisSkipped("no Shen 2019 scores of the ReAlnets (package shen2019 and score Shen2019.*-rsa)")
    stats = []
    for image_set in [s for s in image_sets if (values["image_set"] == s).any()]:
        family = []
        subset = values[values["image_set"] == image_set]
        rois = list(dict.fromkeys(subset["roi"]))
        for group in data.comparison_groups:
            for roi in rois:
                main = subset[(subset["group"] == data.main.label) & (subset["roi"] == roi)]
                other = subset[(subset["group"] == group.label) & (subset["roi"] == roi)]
                result = _compare_groups(main, other, group, "similarity")
                if result is not None:
                    family.append({"image_set": image_set, "roi": roi, "comparison": group.label, **result})
        if family:
            corrected = bonferroni(np.array([r["p"] for r in family]))
            for record, p_corrected in zip(family, corrected):
                record["p_bonferroni"] = float(p_corrected)
                record["significant"] = bool(p_corrected < 0.05)
                record["higher"] = bool(record["t"] > 0)
            stats += family
    return FMRIComparison(values, pd.DataFrame(stats))


def _compare_groups(main: pd.DataFrame, other: pd.DataFrame, group: ModelGroup, column: str) -> dict | None:
    """The main group's values against another group's (rows: one per model; ``training_subject``)."""
    if group.personalised:
        merged = main.merge(other, on="training_subject", suffixes=("_main", "_other"))
        if len(merged) < 2:
            return None
        return {"kind": "paired by training subject", **_ttest_columns(
            ttest_paired(merged[f"{column}_main"].to_numpy(), merged[f"{column}_other"].to_numpy()))}
    if len(other) != 1 or len(main) < 2:
        return None
    return {"kind": f"one-sample against {group.label}", **_ttest_columns(
        ttest_one_sample(main[column].to_numpy(), popmean=float(other[column].iloc[0])))}


@dataclass(frozen=True)
class Improvements:
    """Fig. 5 (and the β sweep): improvement over the base model, EEG and fMRI.

    Attributes:
        values: group, model, training_subject, subject (EEG subject compared), eeg_improvement
            (mean over layers and 50–190 ms, the model minus the base model on the same subject's EEG),
            fmri_improvement (mean over Shen subjects and ROIs of max-over-layers RSA, natural images,
            the model minus the base model; NaN without Shen scores), beta (β of the family, if any).
        stats: group, measure, mean, sem, t, p, df, cohens_d, n (one-sample t-test against 0), and
            rows comparing the ReAlnets with each control (``measure`` = ``eeg vs ReAlnet`` …,
            paired by subject).
        correlation: r, p, n of the ReAlnets' EEG and fMRI improvements (Supplementary Fig. 3);
            empty when fewer than 3 ReAlnets have both.
    """

    values: pd.DataFrame
    stats: pd.DataFrame
    correlation: pd.DataFrame


def improvements(data: ReportData, groups: Sequence[ModelGroup] | None = None) -> Improvements:
    """Improvement over the base model of each model of ``groups`` (default: the ReAlnets and the controls)."""
    from scipy import stats as scipy_stats

    if data.base is None:
        raise AnalysisSkipped("improvements need a base model (--base)")
    groups = [data.main, *data.controls] if groups is None else list(groups)
    base_rows = eeg_rows(data.base, data)
    base_times_s = base_rows.times_s
    base_eeg = dict(zip(base_rows.subjects, summary_scalar(base_rows.values, base_times_s)))
    base_fmri = _fmri_values(data.base.models[0], data, FMRI_SUMMARY_IMAGE_SET)
    rows = []
    for group, group_rows in _eeg_rows_of(groups, data):
        summary = summary_scalar(group_rows.values, group_rows.times_s)
        by_model = {m.name: m for m in group.models}
        for model_name, subject, value in zip(group_rows.models, group_rows.subjects, summary):
            if subject not in base_eeg:
                continue
            model = by_model[model_name]
            fmri = _fmri_values(model, data, FMRI_SUMMARY_IMAGE_SET)
            fmri_improvement = float("nan")
            if fmri is not None and base_fmri is not None:
                fmri_improvement = float((fmri - base_fmri.sel(subject=fmri["subject"], roi=fmri["roi"])).mean())
            rows.append({"group": group.label, "model": model_name, "training_subject": model.subject,
                         "subject": subject, "eeg_improvement": float(value - base_eeg[subject]),
                         "fmri_improvement": fmri_improvement if group.personalised or subject == group_rows.subjects[0]
                         else float("nan"),
                         "beta": BETA_FAMILIES.get(group.family, float("nan"))})
    values = pd.DataFrame(rows)
    if values.empty:
        raise AnalysisSkipped("no THINGS-EEG2 scores shared by the models and the base model")
    stats = []
    for group in groups:
        subset = values[values["group"] == group.label]
        if subset.empty:
            continue
        for measure in ("eeg_improvement", "fmri_improvement"):
            column = subset[measure].dropna().to_numpy()
            if column.size:
                stats.append({"group": group.label, "measure": measure, **_summary(column)})
    main = values[values["group"] == data.main.label]
    for group in groups:
        if group is data.main or not group.personalised:
            continue
        other = values[values["group"] == group.label]
        for measure in ("eeg_improvement", "fmri_improvement"):
            merged = main.merge(other, on="training_subject", suffixes=("_main", "_other")).dropna(
                subset=[f"{measure}_main", f"{measure}_other"])
            if len(merged) >= 2:
                result = ttest_paired(merged[f"{measure}_other"].to_numpy(), merged[f"{measure}_main"].to_numpy())
                stats.append({"group": group.label, "measure": f"{measure} vs {data.main.label}",
                              "mean": float((merged[f"{measure}_other"] - merged[f"{measure}_main"]).mean()),
                              "sem": float("nan"), **_ttest_columns(result)})
    both = main.dropna(subset=["eeg_improvement", "fmri_improvement"])
    correlation = pd.DataFrame()
    if len(both) >= 3:
        r, p = scipy_stats.pearsonr(both["eeg_improvement"], both["fmri_improvement"])
        correlation = pd.DataFrame([{"r": float(r), "p": float(p), "n": int(len(both))}])
    return Improvements(values, pd.DataFrame(stats), correlation)


def beta_sweep(data: ReportData) -> Improvements:
    """The β sweep: improvements of the ReAlnets trained with β = 0, 1, 10, 100 (ReAlnet) and 1000."""
    groups = [g for g in [data.main, *data.controls] if g.family in BETA_FAMILIES and g.personalised]
    if len(groups) < 2:
        raise AnalysisSkipped(
            "the β sweep needs ReAlnets of ≥ 2 β values (realnet_beta0/1/10/1000_s*, realnet_s*); found "
            f"{[g.label for g in groups]}"
        )
    groups.sort(key=lambda g: BETA_FAMILIES[g.family])
    return improvements(data, groups)


@dataclass(frozen=True)
class Behaviour:
    """Fig. 4A: Brain-Score behavioural scores and their mean.

    Attributes:
        values: group, model, training_subject, benchmark, score (``mean`` = the paper's average of
            the two benchmarks, only where both exist).
        stats: benchmark, comparison, kind, t, p, df, cohens_d, n.
    """

    values: pd.DataFrame
    stats: pd.DataFrame


def behaviour(data: ReportData, benchmarks: Sequence[str]) -> Behaviour:
    """Fig. 4A: each model's behavioural scores, their mean, and the ReAlnets against the others."""
    rows = []
    for group in [data.main, *data.comparison_groups]:
        for model in group.models:
            scores = data.behaviour.get(model.name, {})
            present = {b: scores[b] for b in benchmarks if b in scores}
            for benchmark, value in present.items():
                rows.append({"group": group.label, "model": model.name, "training_subject": model.subject,
                             "benchmark": benchmark, "score": float(value)})
            if len(present) == len(benchmarks) and len(benchmarks) > 1:
                rows.append({"group": group.label, "model": model.name, "training_subject": model.subject,
                             "benchmark": "mean", "score": float(np.mean(list(present.values())))})
    values = pd.DataFrame(rows)
    if values.empty or not (values["group"] == data.main.label).any():
        raise AnalysisSkipped("no behavioural scores of the ReAlnets")
    stats = []
    for benchmark in dict.fromkeys(values["benchmark"]):
        subset = values[values["benchmark"] == benchmark]
        main = subset[subset["group"] == data.main.label]
        for group in data.comparison_groups:
            result = _compare_groups(main, subset[subset["group"] == group.label], group, "score")
            if result is not None:
                stats.append({"benchmark": benchmark, "comparison": group.label, **result})
    return Behaviour(values, pd.DataFrame(stats))


@dataclass(frozen=True)
class Variability:
    """Fig. 2D: individual variability (mean over pairs of 1 − Spearman between RDMs).

    Attributes:
        pairs: set, layer, model_a, model_b, variability (one row per pair of models or subjects).
        summary: set, layer, mean, sem, n_pairs.
    """

    pairs: pd.DataFrame
    summary: pd.DataFrame


def _variability_tables(label: str, names: Sequence[str], layers: Sequence[str], rdms: np.ndarray
                        ) -> tuple[list[dict], list[dict]]:
    """rdms: (n_members, n_layers, n, n)."""
    result = individual_variability(rdms)
    pairs, summary = [], []
    member_pairs = list(itertools.combinations(range(len(names)), 2))
    for j, layer in enumerate(layers):
        values = np.asarray(result.pair_values[j])
        for (a, b), value in zip(member_pairs, values):
            pairs.append({"set": label, "layer": layer, "model_a": names[a], "model_b": names[b],
                          "variability": float(value)})
        sem = float(np.std(values, ddof=1) / np.sqrt(values.size)) if values.size > 1 else float("nan")
        summary.append({"set": label, "layer": layer, "mean": float(values.mean()), "sem": sem,
                        "n_pairs": int(values.size)})
    return pairs, summary


def model_variability(label: str, models: Sequence[ReportModel], data: ReportData) -> Variability:
    """Variability per layer (V1, V2, V4, IT, output) among models, from their cached layer RDMs."""
    present = [m for m in models if m.name in data.rdms]
    if len(present) < 2:
        raise AnalysisSkipped(
            f"individual variability needs ≥ 2 personalised models with layer RDMs; found {len(present)} ({label})"
        )
    layers = data.rdms[present[0].name].layers
    stacked = np.stack([data.rdms[m.name].rdms for m in present])
    pairs, summary = _variability_tables(label, [m.short_name for m in present], layers, stacked)
    return Variability(pd.DataFrame(pairs), pd.DataFrame(summary))


def human_variability(fmri_rdms: dict[str, dict[str, np.ndarray]], label: str = "human fMRI (Shen 2019)"
                      ) -> Variability:
    """Variability along the visual cortex between fMRI subjects.

    Args:
        fmri_rdms: subject → ROI → (n, n) RDM (natural images); ROIs of :data:`VARIABILITY_ROIS` present
            in every subject are used.
        label: the ``set`` column.
    """
    subjects = list(fmri_rdms)
    if len(subjects) < 2:
        raise AnalysisSkipped(f"human individual variability needs ≥ 2 fMRI subjects; found {len(subjects)}")
    rois = [r for r in VARIABILITY_ROIS if all(r in fmri_rdms[s] for s in subjects)]
    if not rois:
        raise AnalysisSkipped(f"the fMRI subjects share none of the ROIs {list(VARIABILITY_ROIS)}")
    stacked = np.stack([np.stack([fmri_rdms[s][r] for r in rois]) for s in subjects])
    pairs, summary = _variability_tables(label, subjects, rois, stacked)
    return Variability(pd.DataFrame(pairs), pd.DataFrame(summary))


@dataclass(frozen=True)
class DimensionScores:
    """Fig. 4B: THINGS dimensions in the IT layer (partial Spearman², the other 48 controlled).

    Attributes:
        values: group, model, training_subject, dimension (0-based), label, r, r_squared.
        enhanced: reference (base label / β=0 label), group, model, dimension, label, improvement
            (r² of the model − r² of the reference; paired by subject for a personalised reference),
            for the top dimensions.
        top: reference, rank, dimension, label, mean_improvement (ReAlnets' mean, which sets the order).
    """

    values: pd.DataFrame
    enhanced: pd.DataFrame
    top: pd.DataFrame


def dimension_scores(data: ReportData, embedding: np.ndarray, labels: Sequence[str], *, layer: str = "IT",
                     beta0: ModelGroup | None = None, scrambled: ModelGroup | None = None,
                     n_top: int = 5) -> DimensionScores:
    """Fig. 4B: which THINGS dimensions the ReAlnets' IT layer represents better than the base model / β = 0.

    Dimensions with the same value on every test image (possible on small image sets) explain
    nothing; they are left out of the partial correlations and reported as NaN.

    Args:
        data: scores and layer RDMs.
        embedding: dimension values of each test image, (n_images, n_dimensions), RDM row order.
        labels: a label per dimension.
        layer: the layer compared (the paper: IT).
        beta0: the β = 0 group (visual-diet control), if present.
        scrambled: the Scrambled group, if present.
        n_top: dimensions shown per reference.
    """
    if data.base is None or data.base.models[0].name not in data.rdms:
        raise AnalysisSkipped("THINGS dimensions need the base model's layer RDMs (--base with a checkpoint)")
    n_images, n_dims = embedding.shape
    varying = np.flatnonzero(np.ptp(embedding, axis=0) > 0)
    if varying.size == 0:
        raise AnalysisSkipped("every THINGS dimension has the same value on all test images")
    if n_images * (n_images - 1) // 2 <= varying.size + 2:
        raise AnalysisSkipped(
            f"partial Spearman with {varying.size} dimension RDMs needs more than {varying.size + 2} image pairs; "
            f"the packaged test set has {n_images} images ({n_images * (n_images - 1) // 2} pairs)"
        )
    predictors = dimension_rdms(embedding[:, varying])
    groups = [g for g in (data.main, data.base, scrambled, beta0) if g is not None]
    rows = []
    r2: dict[str, np.ndarray] = {}
    for group in groups:
        for model in group.models:
            if model.name not in data.rdms:
                continue
            result = partial_spearman(data.rdms[model.name].layer(layer), predictors)
            r = np.full(n_dims, np.nan)
            r[varying] = result.r
            r2[model.name] = r**2
            rows += [{"group": group.label, "model": model.name, "training_subject": model.subject, "dimension": d,
                      "label": labels[d], "r": float(r[d]), "r_squared": float(r[d] ** 2)} for d in range(n_dims)]
    main_models = [m for m in data.main.models if m.name in r2]
    if not main_models:
        raise AnalysisSkipped("no layer RDMs of the ReAlnets")
    references: list[tuple[str, ModelGroup]] = [(data.base.label, data.base)]
    if beta0 is not None:
        references.append((beta0.label, beta0))
    enhanced, top_rows = [], []
    for reference_label, reference in references:
        reference_by_subject = {m.subject: r2[m.name] for m in reference.models if m.name in r2}
        if not reference_by_subject:
            continue

        def difference(model: ReportModel) -> np.ndarray | None:
            key = model.subject if reference.personalised else next(iter(reference_by_subject))
            return r2[model.name] - reference_by_subject[key] if key in reference_by_subject else None

        main_differences = [(m, difference(m)) for m in main_models]
        main_differences = [(m, d) for m, d in main_differences if d is not None]
        if not main_differences:
            continue
        differences = np.stack([d for _, d in main_differences])[:, varying]
        top = top_dimensions(differences, n_top=min(n_top, varying.size), names=[labels[d] for d in varying])
        top = dataclasses.replace(top, indices=varying[top.indices])
        top_rows += [{"reference": reference_label, "rank": k + 1, "dimension": int(d), "label": name,
                      "mean_improvement": float(mean)}
                     for k, (d, name, mean) in enumerate(zip(top.indices, top.names, top.mean))]
        for group in [g for g in groups if g is not reference and g is not data.base]:
            for model in group.models:
                if model.name not in r2:
                    continue
                diff = difference(model)
                if diff is None:
                    continue
                enhanced += [{"reference": reference_label, "group": group.label, "model": model.name,
                              "dimension": int(d), "label": labels[int(d)], "improvement": float(diff[int(d)])}
                             for d in top.indices]
    return DimensionScores(pd.DataFrame(rows), pd.DataFrame(enhanced), pd.DataFrame(top_rows))
