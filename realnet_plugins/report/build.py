"""``build_report``: every figure and table of the paper that the available data allow, as PNG, CSV and HTML.

Scores come from the :class:`~.scores.ScoreStore` (Brain-Score scores, computed once), layer RDMs
from the :class:`~.rdms.RDMStore`; a second run on the same models, checkpoints and packages
recomputes nothing. The figures are the rows of :data:`.sections.FIGURES` (one function each);
figures whose data are missing are listed with the reason instead. Every score used is listed in
``scores.csv`` with the flags its benchmark set (``attrs['flags']``), which the page also shows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from realnet_plugins.errors import MissingFileError, RealnetError
from realnet_plugins.progress import Progress
from realnet_plugins.report import analyses as an
from realnet_plugins.report import figures as fg
from realnet_plugins.report.rdms import RDMStore, StimulusImages, things_eeg2_test_images
from realnet_plugins.report.scores import (
    BEHAVIOUR_BENCHMARKS,
    EEG_BENCHMARK,
    FMRI_BENCHMARKS,
    ScoreFailure,
    ScoreRecord,
    ScoreStore,
)
from realnet_plugins.report.sections import (
    FIGURES,
    FigureSkipped,
    FigureSpec,
    ReportContext,
    ReportOptions,
    need,
)
from realnet_plugins.report.selection import FAMILY_LABELS, ModelGroup, ReportModel, group_models, resolve_models
from realnet_plugins.storage import atomic_path, atomic_write


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
        score_table: ``scores.csv``: every score used, with its benchmark's flags.
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
    score_table: Path | None = None


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
        records: every score fetched, by (model name, benchmark id).
    """

    data: an.ReportData
    failures: list[ScoreFailure]
    seeds: list[ReportModel]
    images: StimulusImages | None
    rdm_reason: str
    notes: list[str]
    records: dict[tuple[str, str], ScoreRecord] = field(default_factory=dict)


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
    return CollectedData(data, failures, seeds, images, rdm_reason, notes, records)


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
    data_label: str | None = None,
    figures: Sequence[FigureSpec] = FIGURES,
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
        progress: progress bars on a terminal, a line every few seconds otherwise (False: nothing).
        data_label: what the data are when they are not the real data (the demo passes
            ``"synthetic fixture data, random-init 32 px nets"``): added to every figure's title (the
            heading, the PNG's drawn title and its ``Title`` metadata) and to the page header.
        figures: the figures to make, in page order (default :data:`.sections.FIGURES`).

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
    options = ReportOptions(spose_embedding=spose_embedding, dimension_labels=dimension_labels,
                            imagenet_val=imagenet_val, behaviour=behaviour, n_permutations=n_permutations,
                            fmri_rdms=fmri_rdms, progress=progress, data_label=data_label)

    with Progress("report: scores and layer RDMs", enabled=progress is not False):
        collected = collect_report_data(
            models, base=base, controls=controls, extra_baselines=extra_baselines, seed_models=seed_models,
            behaviour=behaviour, score_store=scores, rdm_store=rdm_cache, test_images=test_images,
            retry_failed=retry_failed, progress=progress)
    context = ReportContext(collected.data, options, collected.failures, collected.seeds, collected.images,
                            collected.rdm_reason)
    result = ReportResult(out_dir=out_dir, html=out_dir / "report.html", notes=list(collected.notes))
    written: list[tuple[FigureOutput, dict[str, pd.DataFrame]]] = []
    with Progress("report: figures", total=len(figures), unit="figure", enabled=progress is not False) as bar:
        for spec in figures:
            bar.set_postfix(spec.name)
            made = _write_figure(spec, context, out_dir, result)
            if made is not None:
                written.append(made)
            bar.update()
    result.score_table = _write_score_table(collected.records, out_dir / "scores.csv")

    result.scores_computed = scores.computed - scores_computed
    result.scores_cached = scores.loaded - scores_loaded
    result.rdms_computed = rdm_cache.computed - rdms_computed
    result.rdms_cached = rdm_cache.loaded - rdms_loaded
    from realnet_plugins.report.html import render_report

    provenance = _provenance(collected.data, collected.seeds, scores, collected.images)
    provenance.append(("score table", f"{result.score_table.name} ({len(collected.records)} scores)"))
    result.seconds = time.perf_counter() - started
    with atomic_write(result.html, "w") as f:
        f.write(render_report(result, written, provenance, score_flags=score_flags(collected.records),
                              data_label=data_label))
    return result


def _write_figure(spec: FigureSpec, context: ReportContext, out_dir: Path, result: ReportResult
                  ) -> tuple[FigureOutput, dict[str, pd.DataFrame]] | None:
    """Make one figure of the table: PNG and CSVs written, or the reason it was skipped added to ``result``."""
    label = context.options.data_label
    try:
        for requirement in spec.requires:
            reason = context.missing(requirement)
            need(not reason, reason)
        made = spec.make(context)
    except (FigureSkipped, an.AnalysisSkipped) as reason:
        result.skipped.append(SkippedFigure(spec.name, spec.title, str(reason)))
        return None
    except RealnetError as error:
        result.skipped.append(SkippedFigure(spec.name, spec.title, f"{type(error).__name__}: {error}"))
        return None
    if label:
        fg.add_data_label(made.figure, label)
    png = out_dir / f"{spec.name}.png"
    drawn_title = made.figure.get_suptitle()
    with atomic_path(png) as tmp:
        made.figure.savefig(tmp, format="png", dpi=150, bbox_inches="tight", pad_inches=0.12,
                            metadata={"Title": drawn_title} if drawn_title else None)
    tables = []
    for table_name, table in made.tables.items():
        if table is None or table.empty:
            continue
        path = out_dir / f"{spec.name}__{table_name}.csv"
        with atomic_write(path, "w") as f:
            table.to_csv(f, index=False)
        tables.append(path)
    title = f"{spec.title} ({label})" if label else spec.title
    output = FigureOutput(spec.name, title, made.caption, png, tuple(tables))
    result.figures.append(output)
    return output, made.tables


#: Columns of the report's ``scores.csv``.
SCORE_TABLE_COLUMNS: tuple[str, ...] = ("model", "benchmark", "score", "ceiling", "raw_summary", "flags")


def _attr_float(attrs: Mapping[str, Any], name: str) -> float:
    value = attrs.get(name)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def flags_of(attrs: Mapping[str, Any]) -> list[str]:
    """The flags a benchmark set on a score (``attrs['flags']``: "raw above ceiling", ...); [] when none.

    Works on a Brain-Score ``Score``'s ``attrs`` and on a stored :class:`ScoreRecord`'s.
    """
    flags = attrs.get("flags", [])
    return [flags] if isinstance(flags, str) else [str(flag) for flag in flags or []]


def score_flags(records: dict[tuple[str, str], ScoreRecord]) -> list[tuple[str, str, list[str]]]:
    """(model, benchmark, flags) of every flagged score, in the records' order."""
    return [(model, benchmark, flags_of(record.attrs)) for (model, benchmark), record in records.items()
            if flags_of(record.attrs)]


def _write_score_table(records: dict[tuple[str, str], ScoreRecord], path: Path) -> Path:
    """Every score the report used: one row per (model, benchmark), flags joined by "; "."""
    rows = [{"model": model, "benchmark": benchmark, "score": record.value,
             "ceiling": _attr_float(record.attrs, "ceiling"), "raw_summary": _attr_float(record.attrs, "raw_summary"),
             "flags": "; ".join(flags_of(record.attrs))} for (model, benchmark), record in records.items()]
    with atomic_write(path, "w") as f:
        pd.DataFrame(rows, columns=list(SCORE_TABLE_COLUMNS)).to_csv(f, index=False)
    return path


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
