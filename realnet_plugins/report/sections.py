"""The report's figures: one small function per figure, listed in one table (:data:`FIGURES`).

A figure function takes the :class:`ReportContext` (the collected scores and RDMs, the models, the
report's options) and returns a :class:`Section`: the drawn figure, its caption and the tables of
every plotted number. When the data do not allow the figure it raises :class:`FigureSkipped` (or
:class:`~.analyses.AnalysisSkipped`) with the reason, which the report lists instead.

Each :class:`FigureSpec` names the figure (the file stem of its PNG and CSVs), its title, its
function and the inputs it requires (:data:`REQUIREMENTS`), which :func:`.build.build_report`
checks, in order, before calling the function. A new figure is one function and one row of
:data:`FIGURES`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from realnet_plugins.errors import RealnetError
from realnet_plugins.report import analyses as an
from realnet_plugins.report import figures as fg
from realnet_plugins.report.rdms import StimulusImages
from realnet_plugins.report.scores import BEHAVIOUR_BENCHMARKS, ScoreFailure
from realnet_plugins.report.selection import ModelGroup, ReportModel

_IMAGE_SET_TITLES = {"natural": "Natural images", "shape": "Artificial shapes", "letter": "Letters"}


class FigureSkipped(Exception):
    """The data do not allow a figure; the message says why (listed in the report)."""


def need(condition: bool, reason: str) -> None:
    """Skip the figure with ``reason`` unless ``condition`` holds."""
    if not condition:
        raise FigureSkipped(reason)


@dataclass(frozen=True)
class ReportOptions:
    """The options of a report that figures read (see :func:`.build.build_report`).

    Attributes:
        spose_embedding: the SPoSE embedding file (Fig. 4B), or None.
        dimension_labels: the 49 dimension labels file, or None.
        imagenet_val: a labelled ImageNet validation folder, or None.
        behaviour: the behavioural benchmarks were requested.
        n_permutations: relabellings of the cluster permutation tests.
        fmri_rdms: subject → ROI → fMRI RDM of the natural images (None: the Shen 2019 package).
        progress: progress bars (None: only on a terminal).
        data_label: what the data are, shown in every figure title and the page header when they
            are not the real data (``"synthetic fixture data, random-init 32 px nets"``); None.
    """

    spose_embedding: str | Path | None = None
    dimension_labels: str | Path | None = None
    imagenet_val: str | Path | None = None
    behaviour: bool = True
    n_permutations: int = 10_000
    fmri_rdms: Callable[[], dict[str, dict[str, np.ndarray]]] | None = None
    progress: bool | None = None
    data_label: str | None = None


@dataclass(frozen=True)
class ReportContext:
    """Everything a figure function reads.

    Attributes:
        data: scores and layer RDMs of the model groups.
        options: the report's options.
        failures: scores that could not be computed.
        seeds: the seed-variability models.
        images: the image set of the layer RDMs (None when it could not be read).
        rdm_reason: why layer RDMs are missing ("" when they are there).
    """

    data: an.ReportData
    options: ReportOptions
    failures: Sequence[ScoreFailure] = ()
    seeds: Sequence[ReportModel] = ()
    images: StimulusImages | None = None
    rdm_reason: str = ""

    @property
    def main(self) -> ModelGroup:
        return self.data.main

    @property
    def base_label(self) -> str:
        return self.data.base.label if self.data.base else "base"

    def missing(self, requirement: str) -> str:
        """Why an input of :data:`REQUIREMENTS` is unavailable ("" when it is there)."""
        return REQUIREMENTS[requirement](self)


@dataclass
class Section:
    """What a figure function returns.

    Attributes:
        caption: what is plotted and how it was tested.
        figure: the drawn :class:`matplotlib.figure.Figure`.
        tables: table name → every plotted number (written as ``<figure>__<table>.csv``; empty
            tables are left out).
    """

    caption: str
    figure: Any
    tables: dict[str, pd.DataFrame]


def _behaviour_failures(context: ReportContext) -> list[ScoreFailure]:
    return [f for f in context.failures if f.benchmark_identifier in BEHAVIOUR_BENCHMARKS]


def behaviour_missing_message(failures: Sequence[ScoreFailure]) -> str:
    """Why the behavioural scores are missing: Brain-Score's data, with each benchmark's error."""
    reasons = {f.benchmark_identifier: f.reason for f in failures if f.benchmark_identifier in BEHAVIOUR_BENCHMARKS}
    details = "; ".join(f"{b}: {r[:300]}" for b, r in reasons.items())
    return ("the behavioural benchmarks (Rajalingham2018public-i2n and the 17 Geirhos2021 error-consistency "
            "benchmarks) need Brain-Score's data, which Brain-Score downloads from its storage at first use; "
            "run once with network access, or place the files in $BRAINIO_HOME. " + details)


def _missing_eeg(context: ReportContext) -> str:
    if any(m.name in context.data.eeg for m in context.main.models):
        return ""
    return f"no THINGS-EEG2 scores of {context.main.label} for the packaged subjects"


def _missing_fmri(context: ReportContext) -> str:
    if any(context.data.fmri.get(m.name) for m in context.main.models):
        return ""
    return "no Shen 2019 scores of the ReAlnets (package shen2019 and score Shen2019.*-rsa)"


def _missing_behaviour(context: ReportContext) -> str:
    if not context.options.behaviour:
        return "behaviour not requested (--no-behaviour)"
    failed = _behaviour_failures(context)
    return behaviour_missing_message(failed) if failed and not context.data.behaviour else ""


def _missing_spose(context: ReportContext) -> str:
    if context.options.spose_embedding is not None:
        return ""
    return ("THINGS dimensions need the SPoSE embedding: pass --spose spose_embedding_49d_sorted.txt "
            "(Hebart et al. 2020, OSF; see FORMATS.md)")


def _missing_imagenet(context: ReportContext) -> str:
    if context.options.imagenet_val is not None:
        return ""
    return ("ImageNet accuracy needs a labelled validation folder: pass --imagenet-val DIR "
            "(class-index sub-folders, the 1000 WordNet-id sub-folders, or DIR/labels.txt)")


#: Inputs a figure can require: name → (context → why it is unavailable, "" when it is there).
REQUIREMENTS: dict[str, Callable[[ReportContext], str]] = {
    "eeg_scores": _missing_eeg,
    "fmri_scores": _missing_fmri,
    "behaviour_scores": _missing_behaviour,
    "layer_rdms": lambda context: context.rdm_reason,
    "spose_embedding": _missing_spose,
    "imagenet_val": _missing_imagenet,
}


def _sample_note(courses: an.TimeCourses, main_label: str, n_permutations: int) -> str:
    """What the number of subjects allows the time-course tests to show ("" when p < .05 is reachable)."""
    if courses.marks.empty:
        n_main = int(courses.curves.loc[courses.curves["group"] == main_label, "n"].max())
        if n_main >= 2:
            return ""
        return (f" No squares or bars: the paired tests need ≥ 2 subjects with a {main_label}; found {n_main} "
                "(the t-tests need ≥ 2, the cluster test ≥ 6 for p < .05).")
    n = int(courses.marks["n_pairs"].max())
    smallest_p = 1.0 / min(2 ** (n - 1), n_permutations)
    if smallest_p < 0.05:
        return ""
    return (f" With n = {n} subjects the t-tests have {n - 1} degree{'s' if n > 2 else ''} of freedom and the "
            f"sign-flip cluster test cannot give p below {smallest_p:.3g}, so no cluster bar can appear "
            "(p < .05 needs ≥ 6 subjects).")


# ---------------------------------------------------------------------------------------- figures


def _time_course_section(context: ReportContext, analysis: Callable[[an.ReportData, int], an.TimeCourses],
                         title: str, caption: str) -> Section:
    """A time-course figure (Fig. 1B, 2A, 2C): curves, the paper's marks, cluster bars, what the sample allows."""
    main, n_permutations = context.main, context.options.n_permutations
    courses = analysis(context.data, n_permutations)
    figure = fg.plot_time_courses(courses.curves, courses.marks, main_label=main.label, title=title)
    return Section(caption + _sample_note(courses, main.label, n_permutations), figure,
                   {"curves": courses.curves, "marks": courses.marks})


def early_late(context: ReportContext) -> Section:
    """Fig. 1B: the early and late layers of the ReAlnets, the base model and extra baselines against EEG."""
    main = context.main
    extra = ", ".join(g.label for g in context.data.extra_baselines) or "none given (--extra-baselines)"
    return _time_course_section(
        context, an.early_late_time_courses, "RSA with THINGS-EEG2 over time: early and late layers",
        f"Early layer = each model's first recorded region, late layer = its last. {main.label}: mean ± SEM over "
        "its models, each against its own subject's EEG; single models: mean ± SEM over subjects. Extra "
        f"baselines: {extra}.")


def layer_time_courses(context: ReportContext) -> Section:
    """Fig. 2A: RSA time courses per layer with the paper's t-test marks and cluster bars."""
    return _time_course_section(
        context, an.layer_time_courses, "RSA between model layers and THINGS-EEG2 over time",
        "Lines and shading: mean ± SEM over subjects. Squares: time points where the ReAlnets differ from the "
        "model of that colour (paired two-sided t-test across subjects, p < .05 uncorrected, as in the paper). "
        f"Bars: cluster-based permutation test over time ({context.options.n_permutations} relabellings or all; "
        "this project's addition).")


def peak_improvement(context: ReportContext) -> Section:
    """Fig. 2B: improvement over the base model at each layer's similarity peak."""
    main, base_label = context.main, context.base_label
    peaks = an.peak_improvements(context.data)
    figure = fg.plot_peak_improvements(peaks.values, peaks.stats, main_label=main.label, base_label=base_label)
    return Section((
        f"Per layer, the peak is the time of the maximum of the mean {main.label} curve; improvement = "
        f"{main.label} − {base_label} on the same subject's EEG at that time, ratio = improvement / {base_label}. "
        "Dots: individual models; bars: mean ± SEM."), figure, {"values": peaks.values, "stats": peaks.stats})


def max_over_layers(context: ReportContext) -> Section:
    """Fig. 2C: the largest RSA over layers at each time point."""
    return _time_course_section(context, an.max_layer_time_courses, "Largest RSA over layers at each time point",
                                "As Fig. 2A, for the maximum over the four layers.")


def _shen_natural_rdms() -> dict[str, dict[str, np.ndarray]]:
    from realnet_plugins.datasets.shen2019.packaging import Shen2019Package

    package = Shen2019Package()
    return {subject: package.rdms(subject, "natural") for subject in package.subjects}


def individual_variability(context: ReportContext) -> Section:
    """Fig. 2D: 1 − Spearman ρ between the layer RDMs of every pair of ReAlnets, beside the human fMRI's."""
    main, data = context.main, context.data
    need(main.personalised, f"individual variability needs personalised models; {main.label} are not")
    variability = an.model_variability(main.label, main.models, data)
    pairs, summary = [variability.pairs], [variability.summary]
    human_note = ""
    try:
        fmri_rdms = context.options.fmri_rdms
        human = an.human_variability(fmri_rdms() if fmri_rdms else _shen_natural_rdms())
        pairs.append(human.pairs)
        summary.append(human.summary)
    except (an.AnalysisSkipped, RealnetError) as error:
        human_note = f" Human fMRI variability not shown: {error}"
    figure = fg.plot_variability(pd.concat(pairs), pd.concat(summary), matrix_set=main.label,
                                 title="Individual variability (mean over pairs of 1 − Spearman ρ between RDMs)")
    return Section((
        f"Top: 1 − Spearman ρ between the RDMs of every pair of {main.label}s (THINGS-EEG2 test images), per "
        "layer, including the output (ImageNet logits) layer. Bottom: mean ± SEM over pairs; dots: pairs. "
        "Human: pairs of Shen 2019 subjects, natural images, ROIs V1, V2, V4, LOC." + human_note), figure,
        {"pairs": pd.concat(pairs), "summary": pd.concat(summary)})


def cross_subject(context: ReportContext) -> Section:
    """Fig. 2E–G: every personalised model against every subject's EEG; matched vs unmatched."""
    result = an.cross_subject(context.data)
    figure = fg.plot_cross_subject(result.cells, result.matched, result.test, base_label=context.base_label,
                                   normalised_reason=result.normalised_reason)
    caption = ("Each cell: mean RSA over the layers and 50–190 ms of a personalised model (row) against a "
               "subject's EEG (column); white squares: matched pairs. Matched vs unmatched: paired t-test "
               "across models of the diagonal against the mean of the row's other cells.")
    if result.matched.empty:
        caption += " Matched vs unmatched not tested: it needs ≥ 3 personalised models."
    if result.normalised_reason:
        caption += " Column-normalised matrix not shown: " + result.normalised_reason
    return Section(caption, figure, {"cells": result.cells, "matched": result.matched, "test": result.test})


def fmri(context: ReportContext) -> Section:
    """Fig. 3: RSA with each Shen 2019 ROI per image set, Bonferroni-corrected comparisons."""
    main, data = context.main, context.data
    result = an.fmri_comparison(data)
    significance = None if result.stats.empty else pd.DataFrame({
        "panel": result.stats["image_set"], "x": result.stats["roi"], "comparison": result.stats["comparison"],
        "p": result.stats["p_bonferroni"], "higher": result.stats["higher"]})
    figure = fg.plot_grouped_bars(
        result.values, panel_column="image_set", x_column="roi", value_column="similarity",
        group_order=[main.label, *[g.label for g in data.comparison_groups]],
        ylabel=f"RSA with fMRI\n({fg.RHO}, max over layers)", title="Similarity to human fMRI per ROI",
        significance=significance, panel_titles=_IMAGE_SET_TITLES)
    return Section((
        "Per ROI the largest RSA over the four layers, averaged over the Shen subjects. Bars: mean ± SEM over "
        f"models; dots: models. Asterisks above a group: {main.label}s differ from it (paired t-test by training "
        "subject for personalised controls, one-sample t-test against a single model), Bonferroni-corrected "
        "over every ROI × comparison of the image set; black = higher, grey = lower."), figure,
        {"values": result.values, "stats": result.stats})


def behaviour(context: ReportContext) -> Section:
    """Fig. 4A: Brain-Score's behavioural benchmarks and their mean."""
    main, data = context.main, context.data
    missing = _behaviour_failures(context)
    result = an.behaviour(data, BEHAVIOUR_BENCHMARKS)
    significance = result.stats.rename(columns={"benchmark": "panel"}).assign(
        x="score", higher=lambda frame: frame["t"] > 0) if not result.stats.empty else None
    figure = fg.plot_grouped_bars(
        result.values.assign(x="score"), panel_column="benchmark", x_column="x", value_column="score",
        group_order=[main.label, *[g.label for g in data.comparison_groups]], ylabel="Brain-Score",
        title="Behavioural similarity", significance=significance, panel_width=3.0)
    caption = "Brain-Score behavioural scores; mean = the paper's average of the two benchmarks."
    if missing:
        caption += " Missing: " + behaviour_missing_message(missing)
    return Section(caption, figure, {"values": result.values, "stats": result.stats})


def things_dimensions(context: ReportContext) -> Section:
    """Fig. 4B: the THINGS object dimensions best explained by layer IT, relative to the reference models."""
    main, data, images, options = context.main, context.data, context.images, context.options
    need(images is not None and images.concepts_things is not None,
         "the packaged THINGS-EEG2 stimulus table has no THINGS concept ids")
    from realnet_plugins.datasets.things_dimensions.reader import (
        dimension_rows_for_things_concepts,
        load_dimension_labels,
        load_spose_embedding,
    )

    embedding = load_spose_embedding(options.spose_embedding)  # type: ignore[arg-type]
    rows = dimension_rows_for_things_concepts(images.concepts_things, embedding.shape[0])  # type: ignore[union-attr]
    labels = load_dimension_labels(options.dimension_labels) if options.dimension_labels else [
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
    return Section((
        "Partial Spearman correlation between the IT RDM and each dimension's RDM (|difference| of the dimension "
        "value), controlling for the other dimensions, squared; shown: improvement over the reference model "
        f"(personalised references paired by subject) of the top {result.top['rank'].max()} dimensions by the "
        f"{main.label}s' mean improvement."), figure,
        {"values": result.values, "enhanced": result.enhanced, "top": result.top})


def controls(context: ReportContext) -> Section:
    """Fig. 5: each model's EEG and fMRI improvement over the base model, ReAlnets beside the controls."""
    main, data = context.main, context.data
    result = an.improvements(data)
    long = result.values.melt(id_vars=["group", "model", "training_subject", "subject"],
                              value_vars=["eeg_improvement", "fmri_improvement"], var_name="measure",
                              value_name="improvement").dropna(subset=["improvement"]).assign(x="improvement")
    one_sample = result.stats[result.stats["measure"].isin(["eeg_improvement", "fmri_improvement"])]
    significance = one_sample.rename(columns={"measure": "panel", "group": "comparison"}).assign(
        x="improvement", higher=lambda frame: frame["t"] > 0)
    figure = fg.plot_grouped_bars(
        long, panel_column="measure", x_column="x", value_column="improvement",
        group_order=[main.label, *[g.label for g in data.controls]], ylabel=f"Improvement over {context.base_label}\n"
        f"(Δ {fg.RHO})", title="Improvement over the base model", significance=significance, zero_line=True,
        significance_labels=("improvement > 0 (p < .05)", "improvement < 0 (p < .05)"),
        panel_titles={"eeg_improvement": "A  EEG (mean over layers, 50–190 ms)",
                      "fmri_improvement": "B  fMRI (natural images, mean over subjects and ROIs)"},
        panel_width=4.4)
    return Section((
        "Each model minus the base model on the same subject's EEG (A) and on the Shen fMRI (B). Asterisks: "
        "one-sample two-sided t-test against 0 across models (* p < .05); the table also compares each control "
        f"with the {main.label}s (paired by subject)."), figure,
        {"values": result.values, "stats": result.stats, "correlation": result.correlation})


def eeg_fmri_correlation(context: ReportContext) -> Section:
    """Supplementary Fig. 3: the ReAlnets' EEG improvement against their fMRI improvement."""
    main = context.main
    result = an.improvements(context.data, [main])
    need(not result.correlation.empty,
         f"the correlation needs ≥ 3 {main.label}s with both EEG and fMRI scores; found "
         f"{int(result.values.dropna(subset=['eeg_improvement', 'fmri_improvement']).shape[0])}")
    figure = fg.plot_improvement_correlation(result.values, result.correlation, main_label=main.label)
    return Section("Pearson correlation across models of the EEG and fMRI "
                   "improvements over the base model.", figure,
                   {"values": result.values, "correlation": result.correlation})


def beta_sweep(context: ReportContext) -> Section:
    """The β sweep: improvement over the base model of ReAlnets trained with each β."""
    result = an.beta_sweep(context.data)
    figure = fg.plot_beta_sweep(result.values, base_label=context.base_label)
    return Section("Improvement over the base model of ReAlnets trained with each β "
                   "(β = 100 is ReAlnet). Bars: mean ± SEM; dots: models.", figure,
                   {"values": result.values, "stats": result.stats})


def seed_variability(context: ReportContext) -> Section:
    """Variability across subjects beside the variability across training seeds of one subject."""
    main, data, seeds = context.main, context.data, context.seeds
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
    return Section((
        "Mean over pairs of models of 1 − Spearman ρ between their layer RDMs: across the personalised models "
        "(different subjects, same seed) and across models of one subject trained with different seeds "
        "(training noise). Variability across subjects beyond the seed baseline reflects the subjects' EEG."),
        figure, {"pairs": pairs, "summary": summary})


def fidelity(context: ReportContext) -> Section:
    """How well each checkpoint's EEG head generates its subject's EEG on the test images."""
    from realnet_plugins.report.fidelity import fidelity_table

    groups = [(g.label, [m for m in g.models if m.checkpoint is not None])
              for g in [context.main, *context.data.controls]]
    if context.seeds:
        groups.append(("seed models", [m for m in context.seeds if m.checkpoint is not None]))
    try:
        table = fidelity_table(groups, progress=context.options.progress)
    except RealnetError as error:
        raise FigureSkipped(f"fidelity needs the checkpoints (and, without a training record, the packaged "
                            f"THINGS-EEG2 test set): {error}") from None
    need(not table.empty, "no checkpoint with an EEG head among the models")
    figure = fg.plot_fidelity(table)
    return Section((
        "Generated vs real EEG of the model's subject on the test images: Spearman over the whole images × "
        "channels × times array (paper: 0.7785) and the mean over the 340 channel × time features of the "
        "Pearson correlation across images (paper: 0.3081). Source per checkpoint in the table."), figure,
        {"values": table})


def imagenet(context: ReportContext) -> Section:
    """Top-1 and top-5 ImageNet accuracy of every checkpoint on a labelled validation folder."""
    from realnet_plugins.report.imagenet import imagenet_accuracy, read_labelled_folder

    labelled = read_labelled_folder(context.options.imagenet_val)  # type: ignore[arg-type]
    rows = []
    for group in [context.main, *context.data.comparison_groups]:
        rows += [{"group": group.label, **row}
                 for row in imagenet_accuracy(group.models, labelled, progress=context.options.progress)]
    need(bool(rows), "no model with a realnet checkpoint")
    table = pd.DataFrame(rows)
    return Section(f"Top-1 and top-5 accuracy on {len(labelled.paths)} images "
                   f"({labelled.layout}).", fg.plot_imagenet(table), {"values": table})


@dataclass(frozen=True)
class FigureSpec:
    """One row of :data:`FIGURES`.

    Attributes:
        name: file stem of the PNG and its CSVs (``fig2a_layer_time_courses``).
        title: heading in the HTML page.
        make: context → :class:`Section` (raises :class:`FigureSkipped` with a reason).
        requires: names of :data:`REQUIREMENTS` checked, in order, before ``make`` runs; the first
            missing one skips the figure with its reason.
    """

    name: str
    title: str
    make: Callable[[ReportContext], Section]
    requires: tuple[str, ...] = ()


#: The report's figures, in page order.
FIGURES: tuple[FigureSpec, ...] = (
    FigureSpec("fig1b_early_late", "Fig. 1B — early and late layers against EEG, with extra baselines", early_late,
               ("eeg_scores",)),
    FigureSpec("fig2a_layer_time_courses", "Fig. 2A — RSA time courses per layer", layer_time_courses,
               ("eeg_scores",)),
    FigureSpec("fig2b_peak_improvement", "Fig. 2B — improvement at the similarity peak", peak_improvement),
    FigureSpec("fig2c_max_over_layers", "Fig. 2C — maximum over layers", max_over_layers, ("eeg_scores",)),
    FigureSpec("fig2d_individual_variability", "Fig. 2D — individual variability", individual_variability,
               ("layer_rdms",)),
    FigureSpec("fig2efg_cross_subject", "Fig. 2E–G — cross-subject similarity", cross_subject),
    FigureSpec("fig3_fmri", "Fig. 3 — RSA with human fMRI (Shen 2019)", fmri, ("fmri_scores",)),
    FigureSpec("fig4a_behaviour", "Fig. 4A — behaviour (Brain-Score)", behaviour, ("behaviour_scores",)),
    FigureSpec("fig4b_things_dimensions", "Fig. 4B — THINGS object dimensions in layer IT", things_dimensions,
               ("layer_rdms", "spose_embedding")),
    FigureSpec("fig5_controls", "Fig. 5 — control experiments: improvement over the base model", controls),
    FigureSpec("supp3_eeg_fmri_correlation", "Supplementary Fig. 3 — EEG vs fMRI improvement", eeg_fmri_correlation),
    FigureSpec("beta_sweep", "β sweep", beta_sweep),
    FigureSpec("seed_variability", "Individual variability vs training noise (this project's addition)",
               seed_variability, ("layer_rdms",)),
    FigureSpec("fidelity", "EEG-generation fidelity", fidelity),
    FigureSpec("imagenet", "ImageNet accuracy", imagenet, ("imagenet_val",)),
)
