"""The whole pipeline on a generated miniature world: ``realnet demo [--out DIR] [--quick]``.

1. Writes a miniature THINGS-EEG2 release (six subjects) and miniature Shen 2019 files in the real
   formats (the fixture writers of :mod:`realnet_plugins.datasets`): synthetic EEG and fMRI generated
   from a hidden visual system, images from scikit-image's public-domain photos.
2. Keeps an unaligned baseline: a randomly initialised CORnet-S saved as ``realnet_base_cornet_s``
   (no ImageNet weights exist offline; with real data one imports them with
   ``realnet import-weights cornet_s-1d3f7974.pth --as realnet_base_cornet_s``).
3. Trains a ReAlnet from that baseline for each subject, ``realnet_s01`` … ``realnet_s06``, on that
   subject's training EEG (:mod:`realnet_plugins.training`), so that the report's statistics across
   subjects (t-tests, cluster tests, individual variability, the cross-subject matrix) have a sample.
4. Packages both datasets (``realnet package``), which computes the EEG decoding RDMs.
5. Scores the baseline and ``realnet_s01`` with ``brainscore_vision.score`` on ``ThingsEEG2-temporal_rsa``,
   ``ThingsEEG2.sub-01-temporal_rsa`` and ``Shen2019.natural-rsa``, through Brain-Score's own plugin
   discovery (this needs a regular ``pip install .``).
6. Writes ``scores.csv``, ``scores.md`` and ``rsa_time_courses.png``, then ``realnet report`` on every
   ReAlnet under ``report/`` (without the behavioural benchmarks, whose data Brain-Score would
   download); every title there says :data:`DATA_LABEL`.

Everything lives under ``<out>/home``, used as ``$REALNET_HOME`` for the run, so the demo never
touches a user's checkpoints or packages. Brain-Score's activation cache goes to ``<out>/home/resultcaching``.
Progress: bars on a terminal, otherwise a line at least every 20 s (:mod:`realnet_plugins.progress`).
The miniature world is small enough for a few minutes on 2 CPU cores; its numbers illustrate the
pipeline and are not results about the human brain.
"""
from __future__ import annotations

import contextlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pandas as pd

from realnet_plugins.constants import REGIONS
from realnet_plugins.errors import RealnetError
from realnet_plugins.progress import Progress

logger = logging.getLogger(__name__)

BASELINE = "realnet_base_cornet_s"
ALIGNED = "realnet_s01"
BENCHMARKS: tuple[str, ...] = ("ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa",
                               "ThingsEEG2-temporal_rsa_crossnobis", "Shen2019.natural-rsa")
#: Input side of the demo models, px (small, so that CPU training takes minutes).
IMAGE_SIZE = 32
#: What the demo's data and models are: said in every title of its figures and report.
DATA_LABEL = f"synthetic fixture data, random-init {IMAGE_SIZE} px nets"


@dataclass(frozen=True)
class DemoSize:
    """How big the miniature world is and how long each ReAlnet trains.

    Attributes:
        eeg_subjects: THINGS-EEG2 subjects (at least 2: the all-subject ceiling needs them); a
            ReAlnet is trained for each.
        train_concepts, images_per_concept: training images = their product.
        test_images, test_reps: THINGS-EEG2 test images and repetitions (≥ 10: the split-half
            ceiling needs 5 trials per half for 5-fold decoding).
        natural_images: Shen natural test images.
        epochs, lr: training of each ReAlnet.
    """

    eeg_subjects: int
    train_concepts: int
    images_per_concept: int
    test_images: int
    test_reps: int
    natural_images: int
    epochs: int
    lr: float

    @property
    def subjects(self) -> tuple[int, ...]:
        """The subjects a ReAlnet is trained for: every subject of the world."""
        return tuple(range(1, self.eeg_subjects + 1))


#: The default world: six subjects (the fewest for which a two-sided sign-flip cluster test can
#: reach p < .05), one epoch of 19 steps each.
FULL = DemoSize(eeg_subjects=6, train_concepts=100, images_per_concept=3, test_images=30, test_reps=12,
                natural_images=16, epochs=1, lr=1e-3)
#: ``--quick``: two subjects (t-tests with one degree of freedom, no cluster test), one epoch of 10 steps each.
QUICK = DemoSize(eeg_subjects=2, train_concepts=50, images_per_concept=3, test_images=30, test_reps=12,
                 natural_images=12, epochs=1, lr=1e-3)


def aligned_identifier(subject: int) -> str:
    """The demo ReAlnet of a subject: ``realnet_s03``."""
    return f"realnet_s{subject:02d}"


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put things.

    Attributes:
        out: the demo folder.
        home: the ``$REALNET_HOME`` it used (``export REALNET_HOME=…`` to use its models).
        table: one row per model × benchmark (model, benchmark, score, raw_summary, ceiling, unbounded,
            flags: the benchmark's flags joined by "; ").
        csv, markdown, figure: the written files.
        seconds: wall time of the whole run.
        report: the report folder, or None without a report.
        models: the demo's model identifiers (the baseline, then the ReAlnets).
    """

    out: Path
    home: Path
    table: pd.DataFrame
    csv: Path
    markdown: Path
    figure: Path
    seconds: float
    report: Path | None = None
    models: tuple[str, ...] = ()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _write_world(data: Path, size: DemoSize) -> tuple[Path, Path]:
    from realnet_plugins.datasets.shen2019.fixtures import write_shen2019_release
    from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release

    eeg = write_things_eeg2_release(data / "things_eeg2", n_subjects=size.eeg_subjects,
                                    n_train_concepts=size.train_concepts, images_per_concept=size.images_per_concept,
                                    n_test_images=size.test_images, n_test_reps=size.test_reps, image_size=64, seed=0)
    shen = write_shen2019_release(data / "shen2019", n_natural=size.natural_images, seed=0)
    return eeg, shen


def _write_baseline() -> Path:
    import torch

    from realnet_plugins.architectures import ReAlnet
    from realnet_plugins.checkpoints import CheckpointMeta, checkpoint_path, save_checkpoint

    torch.manual_seed(0)
    model = ReAlnet("cornet_s", image_size=IMAGE_SIZE, eeg_head=False).eval()
    meta = CheckpointMeta(backbone="cornet_s", variant="base", identifier=BASELINE, image_size=IMAGE_SIZE, seed=0,
                          source="demo:random-init (no ImageNet weights offline)")
    path = checkpoint_path(BASELINE)
    save_checkpoint(model, meta, path, overwrite=True)
    return path


def _train_aligned(release: Path, subject: int, size: DemoSize, on_step: Callable[[Any], None]) -> Path:
    from realnet_plugins.training import TrainConfig, train

    config = TrainConfig(release=release, subject=subject, init_from=BASELINE, image_size=IMAGE_SIZE,
                         epochs=size.epochs, lr=size.lr, seed=0, identifier=aligned_identifier(subject))
    return train(config, overwrite=True, progress=False, on_step=on_step)


def _train_all(release: Path, size: DemoSize, progress: bool) -> list[Path]:
    """A ReAlnet per subject, one after another, each with its own progress (bar or log lines)."""
    from realnet_plugins.training.loop import TrainConfig, batch_bounds

    steps = size.epochs * len(batch_bounds(size.train_concepts * size.images_per_concept, TrainConfig.batch_size))
    paths = []
    for k, subject in enumerate(size.subjects, start=1):
        desc = f"demo: training {aligned_identifier(subject)} ({k}/{len(size.subjects)})"
        with Progress(desc, total=steps, unit="step", enabled=progress) as bar:
            paths.append(_train_aligned(release, subject, size, lambda info: bar.update()))
    return paths


def _score_all(progress: bool) -> dict[tuple[str, str], Any]:
    from realnet_plugins.brainscore_bridge.scoring import BrainScoreScorer, check_registered

    for benchmark in BENCHMARKS:
        try:
            check_registered("benchmarks", benchmark)
        except RealnetError as error:
            raise RealnetError(
                f"Brain-Score cannot find the benchmark {benchmark} ({error}). The demo scores through Brain-Score's "
                "plugin discovery, which reads site-packages: install this project with a regular `pip install .` "
                "(not an editable install) and run the demo again."
            ) from error
    pairs = [(model, benchmark) for model in (BASELINE, ALIGNED) for benchmark in BENCHMARKS]
    score = BrainScoreScorer()  # brainscore_vision.score, with one clear error for upstream data failures
    scores = {}
    with Progress("demo: scoring with brainscore_vision.score", total=len(pairs), unit="score",
                  enabled=progress) as bar:
        for model, benchmark in pairs:
            bar.set_postfix(f"{model} on {benchmark}")
            scores[(model, benchmark)] = score(model, benchmark)
            bar.update()
    return scores


def _table(scores: dict[tuple[str, str], Any]) -> pd.DataFrame:
    from realnet_plugins.report.build import flags_of

    rows = []
    for (model, benchmark), result in scores.items():
        rows.append({
            "model": model, "benchmark": benchmark, "score": float(result.values),
            "raw_summary": float(result.attrs["raw_summary"]), "ceiling": float(result.attrs["ceiling"].values),
            "unbounded": float(result.attrs["unbounded"]), "flags": "; ".join(flags_of(result.attrs)),
        })
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame) -> str:
    lines = [
        f"Scores on {DATA_LABEL}: they show the pipeline at work, not results about the human brain.",
        "",
        "| benchmark | model | score (ceiled, [0, 1]) | raw RSA summary | ceiling | flags |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in table.sort_values(["benchmark", "model"]).itertuples():
        lines.append(f"| {row.benchmark} | {row.model} | {row.score:.3f} | {row.raw_summary:.3f} | {row.ceiling:.3f} "
                     f"| {row.flags or '—'} |")
    return "\n".join(lines) + "\n"


def plot_time_courses(scores: dict[tuple[str, str], Any], path: Path,
                      benchmark: str = "ThingsEEG2-temporal_rsa") -> Path:
    """Draw the EEG temporal RSA of both models and a bar chart of every benchmark score.

    Five panels show the RSA time course per region (V1, V2, V4, IT) and its maximum over regions:
    means over subjects (shaded: ± SEM when there are several), the dashed black line is the
    inter-subject noise ceiling (lower bound), the grey band the 50-190 ms summary window. The
    sixth panel shows the ceiling-normalised scores of every benchmark.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from realnet_plugins.storage import atomic_path

    colours = {BASELINE: "#7f7f7f", ALIGNED: "#d62728"}
    labels = {BASELINE: "unaligned CORnet-S (random init)", ALIGNED: "ReAlnet, aligned to subject 1"}
    panels = list(REGIONS) + ["max over regions"]
    figure, grid = plt.subplots(2, 3, figsize=(13, 7.6), constrained_layout=True)
    axes = grid.ravel()
    ceiling = scores[(BASELINE, benchmark)].attrs["ceiling"].attrs["per_time"]
    for axis, panel in zip(axes, panels):
        axis.axvspan(50, 190, color="0.93", zorder=0)
        axis.axhline(0, color="0.6", lw=0.8)
        axis.plot(ceiling["time_ms"].values, ceiling.values, ls="--", color="black", lw=1.2,
                  label="noise ceiling (inter-subject, lower bound)")
        for model in (BASELINE, ALIGNED):
            result = scores[(model, benchmark)]
            curves = (result.attrs["max_over_regions"] if panel == "max over regions"
                      else result.attrs["detail"].sel(region=panel))
            curves = curves.transpose("subject", "time_ms")
            times = curves["time_ms"].values
            values = np.asarray(curves.values, dtype=np.float64)
            mean = values.mean(axis=0)
            axis.plot(times, mean, color=colours[model], lw=2, label=labels[model])
            if values.shape[0] > 1:
                sem = values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
                axis.fill_between(times, mean - sem, mean + sem, color=colours[model], alpha=0.2, lw=0)
        axis.set_title(f"model region {panel}" if panel in REGIONS else panel)
        axis.set_xlabel("time after image onset (ms)")
        axis.set_ylabel("model–EEG RSA (Spearman ρ)")
        axis.set_xlim(times.min(), times.max())
        axis.grid(alpha=0.3)
    low = min(axis.get_ylim()[0] for axis in axes[:len(panels)])
    high = max(axis.get_ylim()[1] for axis in axes[:len(panels)])
    for axis in axes[:len(panels)]:
        axis.set_ylim(low, high)

    bars = axes[len(panels)]
    positions = np.arange(len(BENCHMARKS))
    for offset, model in zip((-0.2, 0.2), (BASELINE, ALIGNED)):
        values = [float(scores[(model, name)].values) for name in BENCHMARKS]
        bars.bar(positions + offset, values, width=0.4, color=colours[model], label=labels[model])
        for x, value in zip(positions + offset, values):
            bars.text(x, value + 0.01, f"{value:.2f}", ha="center", va="bottom", fontsize=8)
    bars.set_xticks(positions, ["\n".join(name.rsplit("-", 1)) for name in BENCHMARKS], fontsize=8)
    bars.set_ylabel("score (RSA / noise ceiling, bounded to [0, 1])")
    bars.set_ylim(0, 1.05)
    bars.set_title("Brain-Score scores")
    bars.grid(axis="y", alpha=0.3)

    subjects = len(scores[(BASELINE, benchmark)].attrs["subjects"])
    figure.suptitle(f"realnet demo, {DATA_LABEL}: {benchmark} time courses (mean ± SEM over {subjects} subjects; "
                    "grey band = 50–190 ms summary window) and scores")
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="lower center", ncol=3, bbox_to_anchor=(0.5, -0.05), frameon=False)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=120, bbox_inches="tight", format="png")
    plt.close(figure)
    return path


def run_demo(out: str | Path = Path("realnet-demo"), *, quick: bool = False, progress: bool = True,
             report: bool = True) -> DemoResult:
    """Run the whole pipeline on a generated miniature world (module docstring).

    Args:
        out: the demo folder (created); ``<out>/home`` is the run's ``$REALNET_HOME``.
        quick: two EEG subjects and shorter training (:data:`QUICK`) instead of six (:data:`FULL`).
        progress: progress bars on a terminal, a line at least every 20 s otherwise (False: nothing).
        report: also run ``realnet report`` on the demo's models (figures, tables, HTML under ``<out>/report``),
            every title saying :data:`DATA_LABEL`.

    Returns:
        :class:`DemoResult`.

    Raises:
        RealnetError: when Brain-Score cannot find this project's plugins (no regular install).
    """
    start = time.perf_counter()
    out = Path(out).resolve()
    home = out / "home"
    size = QUICK if quick else FULL
    environment = {"REALNET_HOME": str(home), "BS_INSTALL_DEPENDENCIES": "no",
                   "RESULTCACHING_HOME": str(home / "resultcaching"),
                   "REALNET_BS_BATCH_SIZE": str(max(size.test_images, size.natural_images))}
    with _environment(environment):
        from realnet_plugins.datasets.shen2019.packaging import package_shen2019
        from realnet_plugins.datasets.things_eeg2.packaging import package_things_eeg2

        with Progress("demo: writing the miniature world", enabled=progress):
            eeg_root, shen_root = _write_world(out / "data", size)
        logger.info("demo: miniature world written under %s (%.0f s)", out / "data", time.perf_counter() - start)
        with Progress(f"demo: saving the random-init baseline {BASELINE}", enabled=progress):
            logger.info("demo: baseline %s", _write_baseline())
        trained = _train_all(eeg_root, size, progress)
        logger.info("demo: trained %s (%.0f s)", ", ".join(map(str, trained)), time.perf_counter() - start)
        with Progress(f"demo: packaging THINGS-EEG2 ({size.eeg_subjects} subjects' decoding RDMs)",
                      enabled=progress):
            package_things_eeg2(eeg_root, progress=progress)
        with Progress("demo: packaging Shen 2019", enabled=progress):
            package_shen2019(shen_root, image_sets=("natural",), progress=progress)
        logger.info("demo: packaged (%.0f s)", time.perf_counter() - start)
        scores = _score_all(progress)
        logger.info("demo: scored (%.0f s)", time.perf_counter() - start)
        report_dir = None
        if report:
            from realnet_plugins.datasets.things_eeg2.fixtures import write_spose_embedding
            from realnet_plugins.report import build_report

            report_dir = out / "report"
            spose = write_spose_embedding(out / "data" / "spose_embedding_49d_sorted.txt", seed=0)
            # behaviour=False: Brain-Score's behavioural benchmarks would download their data (and score
            # seven models on 18 benchmarks); the demo stays offline and bounded in time.
            build_report(["realnet_s*"], report_dir, spose_embedding=spose, behaviour=False,
                         progress=None if progress else False, data_label=DATA_LABEL)
            logger.info("demo: report written (%.0f s)", time.perf_counter() - start)
    table = _table(scores)
    csv_path, markdown_path = out / "scores.csv", out / "scores.md"
    from realnet_plugins.storage import atomic_write

    with atomic_write(csv_path, "w") as handle:
        table.to_csv(handle, index=False)
    with atomic_write(markdown_path, "w") as handle:
        handle.write(_markdown(table))
    figure = plot_time_courses(scores, out / "rsa_time_courses.png")
    models = (BASELINE, *(aligned_identifier(subject) for subject in size.subjects))
    return DemoResult(out, home, table, csv_path, markdown_path, figure, time.perf_counter() - start, report_dir,
                      models)
