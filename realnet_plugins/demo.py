"""The whole pipeline on a generated miniature world: ``realnet demo [--out DIR] [--quick]``.

1. Writes a miniature THINGS-EEG2 release and miniature Shen 2019 files in the real formats
   (:mod:`realnet_plugins.fixtures`): synthetic EEG and fMRI generated from a hidden visual system,
   images from scikit-image's public-domain photos.
2. Keeps an unaligned baseline: a randomly initialised CORnet-S saved as ``realnet_base_cornet_s``
   (no ImageNet weights exist offline; with real data one imports them with
   ``realnet import-weights cornet_s-1d3f7974.pth --as realnet_base_cornet_s``).
3. Trains ``realnet_s01`` from that baseline on subject 1's training EEG (:mod:`realnet_plugins.training`).
4. Packages both datasets (``realnet package``), which computes the EEG decoding RDMs.
5. Scores both models with ``brainscore_vision.score`` on ``ThingsEEG2-temporal_rsa``,
   ``ThingsEEG2.sub-01-temporal_rsa`` and ``Shen2019.natural-rsa``, through Brain-Score's own plugin
   discovery (this needs a regular ``pip install .``).
6. Writes ``scores.csv``, ``scores.md`` and ``rsa_time_courses.png``.

Everything lives under ``<out>/home``, used as ``$REALNET_HOME`` for the run, so the demo never
touches a user's checkpoints or packages. Brain-Score's activation cache goes to ``<out>/home/resultcaching``.
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
from typing import Any, Iterator

import numpy as np
import pandas as pd

from realnet_plugins.errors import RealnetError

logger = logging.getLogger(__name__)

BASELINE = "realnet_base_cornet_s"
ALIGNED = "realnet_s01"
BENCHMARKS: tuple[str, ...] = ("ThingsEEG2-temporal_rsa", "ThingsEEG2.sub-01-temporal_rsa", "Shen2019.natural-rsa")
#: Input side of the demo models, px (small, so that CPU training takes minutes).
IMAGE_SIZE = 32
REGIONS: tuple[str, ...] = ("V1", "V2", "V4", "IT")


@dataclass(frozen=True)
class DemoSize:
    """How big the miniature world is and how long the realnet trains.

    Attributes:
        eeg_subjects: THINGS-EEG2 subjects (at least 2: the all-subject ceiling needs them).
        train_concepts, images_per_concept: training images = their product.
        test_images, test_reps: THINGS-EEG2 test images and repetitions (≥ 10: the split-half
            ceiling needs 5 trials per half for 5-fold decoding).
        natural_images: Shen natural test images.
        epochs, lr: training of the realnet.
    """

    eeg_subjects: int
    train_concepts: int
    images_per_concept: int
    test_images: int
    test_reps: int
    natural_images: int
    epochs: int
    lr: float


#: The default world: about 60 training steps.
FULL = DemoSize(eeg_subjects=3, train_concepts=100, images_per_concept=3, test_images=30, test_reps=12,
                natural_images=16, epochs=3, lr=1e-3)
#: ``--quick``: one epoch over the same training images (about 20 steps), two EEG subjects.
QUICK = DemoSize(eeg_subjects=2, train_concepts=100, images_per_concept=3, test_images=30, test_reps=12,
                 natural_images=12, epochs=1, lr=1e-3)


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put things.

    Attributes:
        out: the demo folder.
        home: the ``$REALNET_HOME`` it used.
        table: one row per model × benchmark (model, benchmark, score, raw_summary, ceiling, unbounded).
        csv, markdown, figure: the written files.
        seconds: wall time of the whole run.
    """

    out: Path
    home: Path
    table: pd.DataFrame
    csv: Path
    markdown: Path
    figure: Path
    seconds: float
    report: Path | None = None


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


def _train_aligned(release: Path, size: DemoSize, progress: bool) -> Path:
    from realnet_plugins.training import TrainConfig, train

    config = TrainConfig(release=release, subject=1, init_from=BASELINE, image_size=IMAGE_SIZE,
                         epochs=size.epochs, lr=size.lr, seed=0, identifier=ALIGNED)
    return train(config, overwrite=True, progress=progress)


def _score_all() -> dict[tuple[str, str], Any]:
    from brainscore_vision import score

    from realnet_plugins.brainscore_bridge.scoring import check_registered

    for benchmark in BENCHMARKS:
        try:
            check_registered("benchmarks", benchmark)
        except RealnetError as error:
            raise RealnetError(
                f"Brain-Score cannot find the benchmark {benchmark} ({error}). The demo scores through Brain-Score's "
                "plugin discovery, which reads site-packages: install this project with a regular `pip install .` "
                "(not an editable install) and run the demo again."
            ) from error
    return {(model, benchmark): score(model, benchmark) for model in (BASELINE, ALIGNED) for benchmark in BENCHMARKS}


def _table(scores: dict[tuple[str, str], Any]) -> pd.DataFrame:
    rows = []
    for (model, benchmark), result in scores.items():
        rows.append({
            "model": model, "benchmark": benchmark, "score": float(result.values),
            "raw_summary": float(result.attrs["raw_summary"]), "ceiling": float(result.attrs["ceiling"].values),
            "unbounded": float(result.attrs["unbounded"]),
        })
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame) -> str:
    lines = [
        "| benchmark | model | score (ceiled, [0, 1]) | raw RSA summary | ceiling |",
        "|---|---|---:|---:|---:|",
    ]
    for row in table.sort_values(["benchmark", "model"]).itertuples():
        lines.append(f"| {row.benchmark} | {row.model} | {row.score:.3f} | {row.raw_summary:.3f} | {row.ceiling:.3f} |")
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
    figure.suptitle(f"realnet demo on synthetic data: {benchmark} time courses (mean ± SEM over {subjects} subjects; "
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
        quick: two EEG subjects and one training epoch instead of three (about half the time).
        progress: show progress bars.
        report: also run ``realnet report`` on the demo's models (figures, tables, HTML under ``<out>/report``).

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

        eeg_root, shen_root = _write_world(out / "data", size)
        logger.info("demo: miniature world written under %s (%.0f s)", out / "data", time.perf_counter() - start)
        logger.info("demo: baseline %s", _write_baseline())
        logger.info("demo: trained %s (%.0f s)", _train_aligned(eeg_root, size, progress), time.perf_counter() - start)
        package_things_eeg2(eeg_root, progress=progress)
        package_shen2019(shen_root, image_sets=("natural",), progress=progress)
        logger.info("demo: packaged (%.0f s)", time.perf_counter() - start)
        scores = _score_all()
        logger.info("demo: scored (%.0f s)", time.perf_counter() - start)
        report_dir = None
        if report:
            from realnet_plugins.datasets.things_eeg2.fixtures import write_spose_embedding
            from realnet_plugins.report import build_report

            report_dir = out / "report"
            spose = write_spose_embedding(out / "data" / "spose_embedding_49d_sorted.txt", seed=0)
            build_report(["realnet_s*"], report_dir, spose_embedding=spose, progress=progress)
            logger.info("demo: report written (%.0f s)", time.perf_counter() - start)
    table = _table(scores)
    csv_path, markdown_path = out / "scores.csv", out / "scores.md"
    from realnet_plugins.storage import atomic_write

    with atomic_write(csv_path, "w") as handle:
        table.to_csv(handle, index=False)
    with atomic_write(markdown_path, "w") as handle:
        handle.write(_markdown(table))
    figure = plot_time_courses(scores, out / "rsa_time_courses.png")
    return DemoResult(out, home, table, csv_path, markdown_path, figure, time.perf_counter() - start, report_dir)
