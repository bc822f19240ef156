"""``build_report``: every figure and table of the paper that the available data allow, as PNG, CSV and HTML.

Scores come from the :class:`~.scores.ScoreStore` (Brain-Score scores, computed once), layer RDMs
from the :class:`~.rdms.RDMStore`; a second run on the same models, checkpoints and packages
recomputes nothing. Figures whose data are missing are listed with the reason instead.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from realnet_plugins.errors import MissingFileError, RealnetError
from realnet_plugins.report import analyses as an
from realnet_plugins.report import figures as fg
from realnet_plugins.report.rdms import RDMStore, StimulusImages, things_eeg2_test_images
from realnet_plugins.report.scores import BEHAVIOUR_BENCHMARKS, EEG_BENCHMARK, FMRI_BENCHMARKS, ScoreFailure, ScoreStore
from realnet_plugins.report.selection import FAMILY_LABELS, ModelGroup, ReportModel, group_models, resolve_models
from realnet_plugins.storage import atomic_path, atomic_write

_IMAGE_SET_TITLES = {"natural": "Natural images", "shape": "Artificial shapes", "letter": "Letters"}


@dataclass(frozen=True)
class FigureOutput:
    """A written figure.

    Attributes:
        name: file stem (``fig2a_layer_time_courses``).
        title: heading in the HTML page.
        caption: what is plotted and how it was tested.
        png: the PNG file.
        tables: the CSV files of every number plotted (and the statistics).
    """

    name: str
    title: str
    caption: str
    png: Path
    tables: tuple[Path, ...]


@dataclass(frozen=True)
class SkippedFigure:
    """A figure the data did not allow, and why."""

    name: str
    title: str
    reason: str


@dataclass
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes:
        out_dir: the output folder.
        html: the self-contained HTML page.
        figures: written figures, in page order.
        skipped: figures not made, with the reason.
        notes: remarks on the model selection and the scoring (missing checkpoints, failed scores).
        scores_computed, scores_cached: Brain-Score scores computed in this run / read from the store.
        rdms_computed, rdms_cached: layer RDMs computed / read from the cache.
        seconds: wall-clock time of the run.
    """

    out_dir: Path
    html: Path
    figures: list[FigureOutput] = field(default_factory=list)
    skipped: list[SkippedFigure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    scores_computed: int = 0
    scores_cached: int = 0
    rdms_computed: int = 0
    rdms_cached: int = 0
    seconds: float = 0.0


@dataclass
class _Section:
    caption: str
    figure: Any
    tables: dict[str, pd.DataFrame]


class _Skip(Exception):
    pass


def _single_group(models: Sequence[ReportModel]) -> ModelGroup:
    return ModelGroup(label=FAMILY_LABELS.get(models[0].family, models[0].short_name), family=models[0].family,
                      models=tuple(models), personalised=False)


def _on_score_error(benchmark: str, error: Exception) -> str:
    """Missing packages and Brain-Score's own data (behaviour) fail for every model; other errors per model."""
    if isinstance(error, MissingFileError) or benchmark in BEHAVIOUR_BENCHMARKS:
        return "benchmark"
    return "model"


def _describe_failures(failures: Sequence[ScoreFailure]) -> list[str]:
    by_reason: dict[tuple[str, str], list[str]] = {}
    for failure in failures:
        by_reason.setdefault((failure.benchmark_identifier, failure.reason), []).append(failure.model_identifier)
    return [f"{benchmark}: not scored for {', '.join(models[:4])}{' …' if len(models) > 4 else ''}: {reason}"
            for (benchmark, reason), models in by_reason.items()]


def _behaviour_missing_message(failures: Sequence[ScoreFailure]) -> str:
    reasons = {f.benchmark_identifier: f.reason for f in failures if f.benchmark_identifier in BEHAVIOUR_BENCHMARKS}
    details = "; ".join(f"{b}: {r[:300]}" for b, r in reasons.items())
    return ("the behavioural benchmarks (Rajalingham2018public-i2n and the 17 Geirhos2021 error-consistency "
            "benchmarks) need Brain-Score's data, which Brain-Score downloads from its storage at first use; "
            "run once with network access, or place the files in $BRAINIO_HOME. " + details)


@dataclass
class CollectedData:
    """Scores and RDMs of a model selection (what :func:`build_report` and ``verify-paper`` analyse).

    Attributes:
        data: the analyses' input.
        failures: scores that could not be computed.
        seeds: the seed-variability models.
        images: the image set of the layer RDMs (None when it could not be read).
        rdm_reason: why layer RDMs are missing ("" when they are there).
        notes: remarks on the selection and the scoring.
    """

    data: an.ReportData
    failures: list[ScoreFailure]
    seeds: list[ReportModel]
    images: StimulusImages | None
    rdm_reason: str
    notes: list[str]


def collect_report_data(
    models: Sequence[str],
    *,
    base: str | None = "realnet_base_cornet_s",
    controls: Sequence[str] = (),
    extra_baselines: Sequence[str] = (),
    seed_models: Sequence[str] = (),
    behaviour: bool = True,
    score_store: ScoreStore | None = None,
    rdm_store: RDMStore | None = None,
    test_images: Callable[[], StimulusImages] = things_eeg2_test_images,
    with_rdms: bool = True,
    retry_failed: bool = False,
    progress: bool | None = None,
) -> CollectedData:
    """Resolve the models, fetch (or compute once) their scores and layer RDMs.

    Arguments as in :func:`build_report`; ``with_rdms=False`` skips the layer RDMs.
    """
    scores = score_store or ScoreStore()
    notes: list[str] = []
    main_models, found = resolve_models(models)
    notes += found
    if not main_models:
        raise MissingFileError(f"none of the models {list(models)} has a checkpoint or is a Brain-Score model; "
                               "train or import them first (realnet list shows what exists)")
    main_groups = group_models(main_models)
    main = main_groups[0]
    if len(main_groups) > 1:
        notes.append(f"--models holds several families; {main.label} is the main group, "
                     f"{[g.label for g in main_groups[1:]]} are treated as controls")
    base_group = None
    if base:
        base_models, found = resolve_models([base])
        notes += found
        base_group = _single_group(base_models) if base_models else None
    control_models, found = resolve_models(controls)
    notes += found
    control_groups = main_groups[1:] + group_models(control_models)
    extra_groups = []
    for name in extra_baselines:
        resolved, found = resolve_models([name])
        notes += found
        extra_groups += [_single_group([m]) for m in resolved]
    seeds, found = resolve_models(seed_models)
    notes += found

    data = an.ReportData(main=main, base=base_group, controls=control_groups, extra_baselines=extra_groups)
    scored_groups = [main, *data.comparison_groups]
    requests = [(m, EEG_BENCHMARK) for g in [*scored_groups, *extra_groups] for m in g.models if m.brainscore_id]
    requests += [(m, b) for g in scored_groups for m in g.models if m.brainscore_id for b in FMRI_BENCHMARKS.values()]
    if behaviour:
        requests += [(m, b) for g in scored_groups for m in g.models if m.brainscore_id for b in BEHAVIOUR_BENCHMARKS]
    records, failures = scores.get_many(requests, progress=progress, on_error=_on_score_error,
                                        retry_failed=retry_failed)
    notes += _describe_failures([f for f in failures if f.benchmark_identifier not in BEHAVIOUR_BENCHMARKS])
    image_set_of = {b: s for s, b in FMRI_BENCHMARKS.items()}
    for (model_name, benchmark), record in records.items():
        if record.detail is None and benchmark not in BEHAVIOUR_BENCHMARKS:
            notes.append(f"{model_name} on {benchmark}: the score keeps no per-subject values; left out")
        elif benchmark == EEG_BENCHMARK:
            data.eeg[model_name] = record.detail
        elif benchmark in image_set_of:
            data.fmri.setdefault(model_name, {})[image_set_of[benchmark]] = record.detail
        else:
            data.behaviour.setdefault(model_name, {})[benchmark] = record.value

    rdm_reason = "layer RDMs not requested"
    images: StimulusImages | None = None
    if with_rdms:
        rdm_cache = rdm_store or RDMStore()
        rdm_models = [m for g in [main, *data.comparison_groups] for m in g.models if m.checkpoint is not None]
        rdm_models += [m for m in seeds if m.checkpoint is not None]
        rdm_reason = ""
        try:
            images = test_images()
            data.rdms.update(rdm_cache.get_many(list(dict.fromkeys(rdm_models)), images, progress=progress))
        except RealnetError as error:
            rdm_reason = f"layer RDMs need the packaged THINGS-EEG2 test images and the checkpoints: {error}"
    return CollectedData(data, failures, seeds, images, rdm_reason, notes)


def build_report(
    models: Sequence[str],
    out_dir: str | Path,
    *,
    base: str | None = "realnet_base_cornet_s",
    controls: Sequence[str] = (),
    extra_baselines: Sequence[str] = (),
    seed_models: Sequence[str] = (),
    spose_embedding: str | Path | None = None,
    dimension_labels: str | Path | None = None,
    imagenet_val: str | Path | None = None,
    behaviour: bool = True,
    n_permutations: int = 10_000,
    score_store: ScoreStore | None = None,
    rdm_store: RDMStore | None = None,
    test_images: Callable[[], StimulusImages] = things_eeg2_test_images,
    fmri_rdms: Callable[[], dict[str, dict[str, np.ndarray]]] | None = None,
    retry_failed: bool = False,
    progress: bool | None = None,
) -> ReportResult:
    """Write the paper's figures (PNG), their numbers (CSV) and one HTML page into ``out_dir``.

    Args:
        models: the ReAlnets: identifiers or groups (``realnet_s*``); one personalised family.
        out_dir: output folder (created).
        base: the base model (``realnet_base_cornet_s``; ``realnet_base_resnet18`` for ReAlnet-R), or None.
        controls: control models or groups (``realnet_scrambled_s*``, ``realnet_beta0_s*``, ``realnet_acrosssub``).
        extra_baselines: further Brain-Score model identifiers for Fig. 1B (e.g. ``resnet101``).
        seed_models: checkpoints (paths or identifiers) of one subject trained with several seeds.
        spose_embedding: ``spose_embedding_49d_sorted.txt`` for the THINGS dimensions (Fig. 4B).
        dimension_labels: the 49 dimension labels (``labels.mat`` or text, one per line).
        imagenet_val: a labelled ImageNet validation folder (:mod:`.imagenet`).
        behaviour: score the behavioural benchmarks (needs Brain-Score's data).
        n_permutations: relabellings of the cluster permutation tests.
        score_store: where scores are kept (default: ``$REALNET_HOME/scores`` with Brain-Score).
        rdm_store: where layer RDMs are kept (default: ``$REALNET_HOME/cache/model_rdms``).
        test_images: the image set of the layer RDMs (default: the packaged THINGS-EEG2 test images).
        fmri_rdms: subject → ROI → fMRI RDM of the natural images (default: the Shen 2019 package).
        retry_failed: score again what failed in an earlier run (failures are stored, e.g. missing
            Brain-Score data for the behavioural benchmarks, and otherwise reported without retrying).
        progress: progress bars (None: only on a terminal).

    Returns:
        :class:`ReportResult`.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = score_store or ScoreStore()
    rdm_cache = rdm_store or RDMStore()
    scores_computed, scores_loaded = scores.computed, scores.loaded
    rdms_computed, rdms_loaded = rdm_cache.computed, rdm_cache.loaded
    notes: list[str] = []

    collected = collect_report_data(
        models, base=base, controls=controls, extra_baselines=extra_baselines, seed_models=seed_models,
        behaviour=behaviour, score_store=scores, rdm_store=rdm_cache, test_images=test_images,
        retry_failed=retry_failed, progress=progress)
    data, failures, seeds, images, rdm_reason = (collected.data, collected.failures, collected.seeds,
                                                  collected.images, collected.rdm_reason)
    main, base_group, extra_groups = data.main, data.base, data.extra_baselines
    notes += collected.notes

    builders: list[tuple[str, str, Callable[[], _Section]]] = []

    def section(name: str, title: str):
        def register(function: Callable[[], _Section]) -> Callable[[], _Section]:
            builders.append((name, title, function))
            return function
        return register

    def need(condition: bool, reason: str) -> None:
        if not condition:
            raise _Skip(reason)

    base_label = base_group.label if base_group else "base"

    @section("fig1b_early_late", "Fig. 1B — early and late layers against EEG, with extra baselines")
    def _fig1b() -> _Section:
        courses = an.early_late_time_courses(data, n_permutations)
        figure = fg.plot_time_courses(courses.curves, courses.marks, main_label=main.label,
                                      title="RSA with THINGS-EEG2 over time: early and late layers")
        return _Section((
            f"Early layer = each model's first recorded region, late layer = its last. {main.label}: mean ± SEM over "
            "its models, each against its own subject's EEG; single models: mean ± SEM over subjects. Extra "
            f"baselines: {', '.join(g.label for g in extra_groups) or 'none given (--extra-baselines)'}."),
            figure, {"curves": courses.curves, "marks": courses.marks})

    @section("fig2a_layer_time_courses", "Fig. 2A — RSA time courses per layer")
    def _fig2a() -> _Section:
        courses = an.layer_time_courses(data, n_permutations)
        figure = fg.plot_time_courses(courses.curves, courses.marks, main_label=main.label,
                                      title="RSA between model layers and THINGS-EEG2 over time")
        return _Section((
            "Lines and shading: mean ± SEM over subjects. Squares: time points where the ReAlnets differ from the "
            "model of that colour (paired two-sided t-test across subjects, p < .05 uncorrected, as in the paper). "
            f"Bars: cluster-based permutation test over time ({n_permutations} relabellings or all; this project's "
            "addition)."), figure, {"curves": courses.curves, "marks": courses.marks})

    @section("fig2b_peak_improvement", "Fig. 2B — improvement at the similarity peak")
    def _fig2b() -> _Section:
        peaks = an.peak_improvements(data)
        figure = fg.plot_peak_improvements(peaks.values, peaks.stats, main_label=main.label, base_label=base_label)
        return _Section((
            f"Per layer, the peak is the time of the maximum of the mean {main.label} curve; improvement = "
            f"{main.label} − {base_label} on the same subject's EEG at that time, ratio = improvement / {base_label}. "
            "Dots: individual models; bars: mean ± SEM."), figure, {"values": peaks.values, "stats": peaks.stats})

    @section("fig2c_max_over_layers", "Fig. 2C — maximum over layers")
    def _fig2c() -> _Section:
        courses = an.max_layer_time_courses(data, n_permutations)
        figure = fg.plot_time_courses(courses.curves, courses.marks, main_label=main.label,
                                      title="Largest RSA over layers at each time point")
        return _Section("As Fig. 2A, for the maximum over the four layers.", figure,
                        {"curves": courses.curves, "marks": courses.marks})

    @section("fig2d_individual_variability", "Fig. 2D — individual variability")
    def _fig2d() -> _Section:
        need(not rdm_reason, rdm_reason)
        need(main.personalised, f"individual variability needs personalised models; {main.label} are not")
        variability = an.model_variability(main.label, main.models, data)
        pairs, summary = [variability.pairs], [variability.summary]
        human_note = ""
        try:
            human = an.human_variability(fmri_rdms() if fmri_rdms else _shen_natural_rdms())
            pairs.append(human.pairs)
            summary.append(human.summary)
        except (an.AnalysisSkipped, RealnetError) as error:
            human_note = f" Human fMRI variability not shown: {error}"
        figure = fg.plot_variability(pd.concat(pairs), pd.concat(summary), matrix_set=main.label,
                                     title="Individual variability (mean over pairs of 1 − Spearman ρ between RDMs)")
        return _Section((
            f"Top: 1 − Spearman ρ between the RDMs of every pair of {main.label}s (THINGS-EEG2 test images), per "
            "layer, including the output (ImageNet logits) layer. Bottom: mean ± SEM over pairs; dots: pairs. "
            "Human: pairs of Shen 2019 subjects, natural images, ROIs V1, V2, V4, LOC." + human_note), figure,
            {"pairs": pd.concat(pairs), "summary": pd.concat(summary)})

    @section("fig2efg_cross_subject", "Fig. 2E–G — cross-subject similarity")
    def _fig2efg() -> _Section:
        result = an.cross_subject(data)
        figure = fg.plot_cross_subject(result.cells, result.matched, result.test, base_label=base_label,
                                       normalised_reason=result.normalised_reason)
        caption = ("Each cell: mean RSA over the layers and 50–190 ms of a personalised model (row) against a "
                   "subject's EEG (column); white squares: matched pairs. Matched vs unmatched: paired t-test "
                   "across models of the diagonal against the mean of the row's other cells.")
        if result.matched.empty:
            caption += " Matched vs unmatched not tested: it needs ≥ 3 personalised models."
        if result.normalised_reason:
            caption += " Column-normalised matrix not shown: " + result.normalised_reason
        return _Section(caption, figure,
                        {"cells": result.cells, "matched": result.matched, "test": result.test})

    @section("fig3_fmri", "Fig. 3 — RSA with human fMRI (Shen 2019)")
    def _fig3() -> _Section:
        result = an.fmri_comparison(data)
        significance = None if result.stats.empty else pd.DataFrame({
            "panel": result.stats["image_set"], "x": result.stats["roi"], "comparison": result.stats["comparison"],
            "p": result.stats["p_bonferroni"], "higher": result.stats["higher"]})
        figure = fg.plot_grouped_bars(
            result.values, panel_column="image_set", x_column="roi", value_column="similarity",
            group_order=[main.label, *[g.label for g in data.comparison_groups]],
            ylabel=f"RSA with fMRI\n({fg.RHO}, max over layers)", title="Similarity to human fMRI per ROI",
            significance=significance, panel_titles=_IMAGE_SET_TITLES)
        return _Section((
            "Per ROI the largest RSA over the four layers, averaged over the Shen subjects. Bars: mean ± SEM over "
            f"models; dots: models. Asterisks above a group: {main.label}s differ from it (paired t-test by training "
            "subject for personalised controls, one-sample t-test against a single model), Bonferroni-corrected "
            "over every ROI × comparison of the image set; black = higher, grey = lower."), figure,
            {"values": result.values, "stats": result.stats})

    @section("fig4a_behaviour", "Fig. 4A — behaviour (Brain-Score)")
    def _fig4a() -> _Section:
        need(behaviour, "behaviour not requested (--no-behaviour)")
        missing = [f for f in failures if f.benchmark_identifier in BEHAVIOUR_BENCHMARKS]
        need(not missing or bool(data.behaviour), _behaviour_missing_message(missing))
        result = an.behaviour(data, BEHAVIOUR_BENCHMARKS)
        significance = result.stats.rename(columns={"benchmark": "panel"}).assign(
            x="score", higher=lambda frame: frame["t"] > 0) if not result.stats.empty else None
        figure = fg.plot_grouped_bars(
            result.values.assign(x="score"), panel_column="benchmark", x_column="x", value_column="score",
            group_order=[main.label, *[g.label for g in data.comparison_groups]], ylabel="Brain-Score",
            title="Behavioural similarity", significance=significance, panel_width=3.0)
        caption = "Brain-Score behavioural scores; mean = the paper's average of the two benchmarks."
        if missing:
            caption += " Missing: " + _behaviour_missing_message(missing)
        return _Section(caption, figure, {"values": result.values, "stats": result.stats})

    @section("fig4b_things_dimensions", "Fig. 4B — THINGS object dimensions in layer IT")
    def _fig4b() -> _Section:
        need(not rdm_reason, rdm_reason)
        need(spose_embedding is not None,
             "THINGS dimensions need the SPoSE embedding: pass --spose spose_embedding_49d_sorted.txt "
             "(Hebart et al. 2020, OSF; see FORMATS.md)")
        need(images is not None and images.concepts_things is not None,
             "the packaged THINGS-EEG2 stimulus table has no THINGS concept ids")
        from realnet_plugins.datasets.things_dimensions.reader import (
            dimension_rows_for_things_concepts,
            load_dimension_labels,
            load_spose_embedding,
        )

        embedding = load_spose_embedding(spose_embedding)  # type: ignore[arg-type]
        rows = dimension_rows_for_things_concepts(images.concepts_things, embedding.shape[0])  # type: ignore[union-attr]
        labels = load_dimension_labels(dimension_labels) if dimension_labels else [
            f"dimension {d + 1}" for d in range(embedding.shape[1])]
        by_family = {g.family: g for g in data.controls}
        result = an.dimension_scores(data, embedding[rows], labels, beta0=by_family.get("realnet_beta0"),
                                     scrambled=by_family.get("realnet_scrambled"))
        need(not result.enhanced.empty, "no model to compare with the base model's dimensions")
        top = result.enhanced.assign(x=lambda frame: frame["label"])
        figure = fg.plot_grouped_bars(
            top, panel_column="reference", x_column="x", value_column="improvement",
            group_order=[main.label, "Scrambled", "ReAlnet β=0"], ylabel="Δ partial Spearman²\n(variance explained)",
            title="Top enhanced THINGS dimensions in layer IT", zero_line=True, panel_width=5.0,
            panel_titles={r: f"compared with {r}" for r in top["reference"].unique()})
        return _Section((
            "Partial Spearman correlation between the IT RDM and each dimension's RDM (|difference| of the dimension "
            "value), controlling for the other dimensions, squared; shown: improvement over the reference model "
            f"(personalised references paired by subject) of the top {result.top['rank'].max()} dimensions by the "
            f"{main.label}s' mean improvement."), figure,
            {"values": result.values, "enhanced": result.enhanced, "top": result.top})

    @section("fig5_controls", "Fig. 5 — control experiments: improvement over the base model")
    def _fig5() -> _Section:
        result = an.improvements(data)
        long = result.values.melt(id_vars=["group", "model", "training_subject", "subject"],
                                  value_vars=["eeg_improvement", "fmri_improvement"], var_name="measure",
                                  value_name="improvement").dropna(subset=["improvement"]).assign(x="improvement")
        one_sample = result.stats[result.stats["measure"].isin(["eeg_improvement", "fmri_improvement"])]
        significance = one_sample.rename(columns={"measure": "panel", "group": "comparison"}).assign(
            x="improvement", higher=lambda frame: frame["t"] > 0)
        figure = fg.plot_grouped_bars(
            long, panel_column="measure", x_column="x", value_column="improvement",
            group_order=[main.label, *[g.label for g in data.controls]], ylabel=f"Improvement over {base_label}\n"
            f"(Δ {fg.RHO})", title="Improvement over the base model", significance=significance, zero_line=True,
            significance_labels=("improvement > 0 (p < .05)", "improvement < 0 (p < .05)"),
            panel_titles={"eeg_improvement": "A  EEG (mean over layers, 50–190 ms)",
                          "fmri_improvement": "B  fMRI (natural images, mean over subjects and ROIs)"},
            panel_width=4.4)
        return _Section((
            "Each model minus the base model on the same subject's EEG (A) and on the Shen fMRI (B). Asterisks: "
            "one-sample two-sided t-test against 0 across models (* p < .05); the table also compares each control "
            f"with the {main.label}s (paired by subject)."), figure,
            {"values": result.values, "stats": result.stats, "correlation": result.correlation})

    @section("supp3_eeg_fmri_correlation", "Supplementary Fig. 3 — EEG vs fMRI improvement")
    def _supp3() -> _Section:
        result = an.improvements(data, [main])
        need(not result.correlation.empty,
             f"the correlation needs ≥ 3 {main.label}s with both EEG and fMRI scores; found "
             f"{int(result.values.dropna(subset=['eeg_improvement', 'fmri_improvement']).shape[0])}")
        figure = fg.plot_improvement_correlation(result.values, result.correlation, main_label=main.label)
        return _Section("Pearson correlation across models of the EEG and fMRI "
                        "improvements over the base model.", figure,
                        {"values": result.values, "correlation": result.correlation})

    @section("beta_sweep", "β sweep")
    def _beta() -> _Section:
        result = an.beta_sweep(data)
        figure = fg.plot_beta_sweep(result.values, base_label=base_label)
        return _Section("Improvement over the base model of ReAlnets trained with each β "
                        "(β = 100 is ReAlnet). Bars: mean ± SEM; dots: models.", figure,
                        {"values": result.values, "stats": result.stats})

    @section("seed_variability", "Individual variability vs training noise (this project's addition)")
    def _seeds() -> _Section:
        need(not rdm_reason, rdm_reason)
        seed_subjects = sorted({m.subject for m in seeds if m.subject is not None})
        need(len(seeds) >= 2, f"the seed baseline needs ≥ 2 checkpoints of one subject trained with different seeds "
             f"(--seed-models); found {len(seeds)}")
        need(len(seed_subjects) <= 1, f"the seed models must share one subject; found subjects {seed_subjects}")
        across = an.model_variability(f"{main.label}: across subjects", main.models, data)
        label = f"one subject, {len(seeds)} seeds" + (f" (sub-{seed_subjects[0]:02d})" if seed_subjects else "")
        within = an.model_variability(label, seeds, data)
        pairs = pd.concat([across.pairs, within.pairs])
        summary = pd.concat([across.summary, within.summary])
        for group in data.controls:
            if group.personalised and sum(m.name in data.rdms for m in group.models) >= 2:
                extra = an.model_variability(f"{group.label}: across subjects", group.models, data)
                pairs, summary = pd.concat([pairs, extra.pairs]), pd.concat([summary, extra.summary])
        figure = fg.plot_grouped_bars(
            pairs.rename(columns={"set": "group"}).assign(panel="variability"), panel_column="panel",
            x_column="layer", value_column="variability", group_order=list(dict.fromkeys(summary["set"])),
            ylabel="1 − Spearman ρ between RDMs", title="Variability across subjects vs across training seeds",
            panel_width=7.0, panel_titles={"variability": ""})
        return _Section((
            "Mean over pairs of models of 1 − Spearman ρ between their layer RDMs: across the personalised models "
            "(different subjects, same seed) and across models of one subject trained with different seeds "
            "(training noise). Variability across subjects beyond the seed baseline reflects the subjects' EEG."),
            figure, {"pairs": pairs, "summary": summary})

    @section("fidelity", "EEG-generation fidelity")
    def _fidelity() -> _Section:
        from realnet_plugins.report.fidelity import fidelity_table

        groups = [(g.label, [m for m in g.models if m.checkpoint is not None])
                  for g in [main, *data.controls]]
        if seeds:
            groups.append(("seed models", [m for m in seeds if m.checkpoint is not None]))
        try:
            table = fidelity_table(groups, progress=progress)
        except RealnetError as error:
            raise _Skip(f"fidelity needs the checkpoints (and, without a training record, the packaged "
                        f"THINGS-EEG2 test set): {error}") from None
        need(not table.empty, "no checkpoint with an EEG head among the models")
        figure = fg.plot_fidelity(table)
        return _Section((
            "Generated vs real EEG of the model's subject on the test images: Spearman over the whole images × "
            "channels × times array (paper: 0.7785) and the mean over the 340 channel × time features of the "
            "Pearson correlation across images (paper: 0.3081). Source per checkpoint in the table."), figure,
            {"values": table})

    @section("imagenet", "ImageNet accuracy")
    def _imagenet() -> _Section:
        need(imagenet_val is not None, "ImageNet accuracy needs a labelled validation folder: pass --imagenet-val DIR "
             "(class-index sub-folders, the 1000 WordNet-id sub-folders, or DIR/labels.txt)")
        from realnet_plugins.report.imagenet import imagenet_accuracy, read_labelled_folder

        labelled = read_labelled_folder(imagenet_val)  # type: ignore[arg-type]
        rows = []
        for group in [main, *data.comparison_groups]:
            rows += [{"group": group.label, **row}
                     for row in imagenet_accuracy(group.models, labelled, progress=progress)]
        need(bool(rows), "no model with a realnet checkpoint")
        table = pd.DataFrame(rows)
        return _Section(f"Top-1 and top-5 accuracy on {len(labelled.paths)} images "
                        f"({labelled.layout}).", fg.plot_imagenet(table), {"values": table})

    result = ReportResult(out_dir=out_dir, html=out_dir / "report.html", notes=notes)
    written: list[tuple[FigureOutput, dict[str, pd.DataFrame]]] = []
    for name, title, build in builders:
        try:
            made = build()
        except (_Skip, an.AnalysisSkipped) as reason:
            result.skipped.append(SkippedFigure(name, title, str(reason)))
            continue
        except RealnetError as error:
            result.skipped.append(SkippedFigure(name, title, f"{type(error).__name__}: {error}"))
            continue
        png = out_dir / f"{name}.png"
        with atomic_path(png) as tmp:
            made.figure.savefig(tmp, format="png", dpi=150, bbox_inches="tight", pad_inches=0.12)
        tables = []
        for table_name, table in made.tables.items():
            if table is None or table.empty:
                continue
            path = out_dir / f"{name}__{table_name}.csv"
            with atomic_write(path, "w") as f:
                table.to_csv(f, index=False)
            tables.append(path)
        output = FigureOutput(name, title, made.caption, png, tuple(tables))
        result.figures.append(output)
        written.append((output, made.tables))

    result.scores_computed = scores.computed - scores_computed
    result.scores_cached = scores.loaded - scores_loaded
    result.rdms_computed = rdm_cache.computed - rdms_computed
    result.rdms_cached = rdm_cache.loaded - rdms_loaded
    from realnet_plugins.report.html import render_report

    provenance = _provenance(data, seeds, scores, images)
    result.seconds = time.perf_counter() - started
    with atomic_write(result.html, "w") as f:
        f.write(render_report(result, written, provenance))
    return result


def _shen_natural_rdms() -> dict[str, dict[str, np.ndarray]]:
    from realnet_plugins.datasets.shen2019.packaging import Shen2019Package

    package = Shen2019Package()
    return {subject: package.rdms(subject, "natural") for subject in package.subjects}


def _provenance(data: an.ReportData, seeds: Sequence[ReportModel], scores: ScoreStore,
                images: StimulusImages | None) -> list[tuple[str, str]]:
    """(field, value) lines describing what the report was made from."""
    groups = [data.main, *data.comparison_groups, *data.extra_baselines]
    lines = [(g.label, ", ".join(m.short_name for m in g.models)) for g in groups]
    if seeds:
        lines.append(("seed models", ", ".join(m.short_name for m in seeds)))
    lines.append(("score store", str(scores.root)))
    if images is not None:
        lines.append(("layer RDM images", f"{len(images.stimulus_ids)} THINGS-EEG2 test images ({images.fingerprint})"))
    return lines
