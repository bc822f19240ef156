"""``realnet train`` and ``realnet sweep``: train ReAlnets from the command line.

    realnet train --release THINGS_EEG2 --subject 1 --init-weights cornet_s-1d3f7974.pth
    realnet train --release THINGS_EEG2 --subject 3 --variant unpaired --init-weights realnet_base_cornet_s
    realnet train --release THINGS_EEG2 --subject 1 --epochs 2 --as realnet_s01   # off-recipe, named explicitly
    realnet sweep --release THINGS_EEG2 --subjects 1-10 --variants realnet,unpaired,beta10 \\
        --init-weights realnet_base_cornet_s --processes 4

``sweep`` trains every subject × variant of its lists (``betaX`` = variant ``realnet`` with β = X;
a variant that pools subjects, ``across_subject``, runs once), skips runs whose checkpoint exists and
resumes interrupted ones. A run of the paper's recipe is saved as its paper identifier; any other run
(``--max-steps``, other epochs, initial weights that are not the verified ImageNet release ...) under
its run name in ``checkpoints/custom/``, unless ``train --as IDENTIFIER`` names the identifier.

``--processes K`` trains K runs at once in K worker processes on the same device
(:func:`~realnet_plugins.training.loop.train_parallel`; on a GPU their kernels overlap under NVIDIA
MPS); ``--concurrent K`` trains K compatible runs in lock-step in one process
(:func:`~realnet_plugins.training.loop.train_many`); ``--executor slurm|local`` submits one job per run
through submitit instead (:mod:`realnet_plugins.executors`; ``realnet jobs`` lists them).
"""
from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from realnet_plugins.backbones import BACKBONES
from realnet_plugins.commands.argtypes import existing_folder, output_file, positive_int
from realnet_plugins.commands.jobs import add_executor_arguments, executor_options, run_sweep_jobs
from realnet_plugins.commands.options import COMPILE_MODES, NORMALISATION_MODES, SELECTIONS, TRAIN_DEFAULTS
from realnet_plugins.errors import RealnetError
from realnet_plugins.variants import DEFAULT_VARIANT, VARIANTS, variant_spec

if TYPE_CHECKING:
    from realnet_plugins.training.loop import TrainConfig

__all__ = ["configure", "run", "parse_subjects", "parse_sweep_variants"]

_BETA_TOKEN = re.compile(r"^beta(?P<value>\d+(\.\d+)?)$")


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = argparse.Namespace(**TRAIN_DEFAULTS)
    parser.add_argument("--release", required=True, type=existing_folder("the THINGS-EEG2 release folder"),
                        help="folder of the THINGS-EEG2 release (preprocessed_data/, image_set/)")
    parser.add_argument("--backbone", default=defaults.backbone, choices=tuple(BACKBONES),
                        help="default: %(default)s")
    parser.add_argument("--init-weights", metavar="FILE|ID",
                        help="the backbone's ImageNet weight file (cornet_s-1d3f7974.pth, torchvision's "
                             "resnet18-<sha256>.pth: checked against the release's published hash), a published "
                             "ReAlnet file, a realnet checkpoint, or an identifier such as realnet_base_cornet_s; "
                             "without it the backbone is random (tests and demos only)")
    parser.add_argument("--epochs", type=positive_int, default=defaults.epochs, help="default: %(default)s")
    parser.add_argument("--batch-size", type=positive_int, default=defaults.batch_size, help="default: %(default)s")
    parser.add_argument("--lr", type=float, default=defaults.lr, help="Adam learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="default: %(default)s")
    parser.add_argument("--image-size", type=positive_int, default=defaults.image_size,
                        help="input side in px (default: %(default)s)")
    parser.add_argument("--normalisation", default=defaults.normalisation, choices=NORMALISATION_MODES,
                        help="EEG z-scoring per subject: one scalar mean/std, or per channel x time "
                             "(default: %(default)s)")
    parser.add_argument("--legacy-detached-contrastive", action="store_true",
                        help="add the contrastive term without its gradient, as the published code did")
    parser.add_argument("--validation-fraction", type=float, default=defaults.validation_fraction,
                        help="share of training concepts held out for validation (default: %(default)s)")
    parser.add_argument("--selection", default=defaults.selection, choices=SELECTIONS,
                        help="keep the last epoch, or the best validation epoch (default: %(default)s); "
                             "never test data")
    parser.add_argument("--device", help="cuda, cuda:N or cpu (default: cuda if available)")
    parser.add_argument("--amp", action=argparse.BooleanOptionalAction, default=None,
                        help="bf16 autocast (default: on for CUDA; CUDA only)")
    parser.add_argument("--channels-last", action=argparse.BooleanOptionalAction, default=None,
                        help="NHWC memory format (default: on for CUDA)")
    parser.add_argument("--compile", default=defaults.compile, choices=COMPILE_MODES,
                        help="torch.compile mode (default: %(default)s). On a GPU: reduce-overhead = CUDA graphs "
                             "(the measured fast path); max-autotune = CUDA graphs + kernels benchmarked at the "
                             "first step (minutes of compiling)")
    parser.add_argument("--max-steps", type=positive_int, help="stop after this many steps (tests, benchmarks)")
    parser.add_argument("--log-every", type=positive_int, default=defaults.log_every,
                        help="steps per log line (default: %(default)s)")
    parser.add_argument("--checkpoint-every-steps", type=int, default=defaults.checkpoint_every_steps,
                        help="also save the resume state every N steps (default: off)")
    parser.add_argument("--checkpoint-every-s", type=float, default=defaults.checkpoint_every_s,
                        help="save the resume state at an epoch end after this many seconds (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="retrain runs whose checkpoint exists")
    parser.add_argument("--no-progress", action="store_true", help="hide progress bars")


def configure(parser: argparse.ArgumentParser, verb: str) -> None:
    """Add the options of ``verb`` (``train`` or ``sweep``) to ``parser``."""
    _common_arguments(parser)
    if verb == "train":
        parser.add_argument("--subject", type=int, help="THINGS-EEG2 subject (not with --variant across_subject)")
        parser.add_argument("--variant", default=DEFAULT_VARIANT, choices=tuple(VARIANTS),
                            help="; ".join(f"{v.name}: {v.description}" for v in VARIANTS.values())
                                 + " (default: %(default)s)")
        parser.add_argument("--beta", type=float, help="weight of the EEG loss (default 100; beta0 variant: 0)")
        parser.add_argument("--out", type=output_file(".pt", ".pth", what="a checkpoint file"),
                            help="checkpoint path (default: $REALNET_HOME/checkpoints/<identifier>.pt)")
        parser.add_argument("--run-name",
                            help="run folder name under $REALNET_HOME/runs (default: the checkpoint's stem); an "
                                 "off-recipe run's checkpoint is checkpoints/custom/<run name>.pt")
        parser.add_argument("--as", dest="identifier", metavar="IDENTIFIER",
                            help="save as this paper identifier although the run differs from the paper's recipe "
                                 "(the checkpoint records how; realnet list and info show it)")
    elif verb == "sweep":
        parser.add_argument("--subjects", help="e.g. 1-10 or 1,3,5 (default: every subject of the release)")
        parser.add_argument("--variants", default=DEFAULT_VARIANT,
                            help=f"comma-separated: {', '.join(VARIANTS)}, or betaX for {DEFAULT_VARIANT} with beta X "
                                 "(default: %(default)s)")
        parser.add_argument("--concurrent", type=int, default=1,
                            help="train up to K compatible runs at once on one device, in lock-step in one process "
                                 "(default: %(default)s)")
        parser.add_argument("--processes", type=int, default=1,
                            help="train K runs at once in K worker processes on the same device (on a GPU their "
                                 "kernels overlap under NVIDIA MPS: nvidia-cuda-mps-control -d) (default: %(default)s)")
        parser.add_argument("--retry-failed", action="store_true",
                            help="with --executor local|slurm: submit again the runs whose job failed or was killed "
                                 "(they continue from their last saved state)")
        add_executor_arguments(parser)
    else:
        raise ValueError(f"training.cli has no verb {verb!r}")


def parse_subjects(text: str) -> list[int]:
    """``"1-3,5"`` → ``[1, 2, 3, 5]``.

    Raises:
        ValueError: malformed text.
    """
    subjects: list[int] = []
    for part in text.split(","):
        part = part.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ValueError(f"cannot read subjects {text!r}: use numbers and ranges such as 1-10 or 1,3,5")
        lo, hi = int(match[1]), int(match[2] or match[1])
        if hi < lo:
            raise ValueError(f"empty subject range {part!r}")
        subjects.extend(s for s in range(lo, hi + 1) if s not in subjects)
    return subjects


def parse_sweep_variants(text: str) -> list[tuple[str, float | None]]:
    """``"realnet,unpaired,beta10"`` → ``[("realnet", None), ("unpaired", None), ("realnet", 10.0)]``.

    Raises:
        ValueError: an unknown token (the message lists the valid forms).
    """
    out: list[tuple[str, float | None]] = []
    for token in (t.strip() for t in text.split(",") if t.strip()):
        match = _BETA_TOKEN.match(token)
        if token in VARIANTS:
            out.append((token, None))
        elif match and float(match["value"]) > 0:
            out.append((DEFAULT_VARIANT, float(match["value"])))
        else:
            raise ValueError(f"unknown sweep variant {token!r}; use {', '.join(VARIANTS)} or betaX (X > 0)")
    if not out:
        raise ValueError("no variants given")
    return out


def _config(args: argparse.Namespace, *, subject: int | None, variant: str, beta: float | None,
            run_name: str | None = None, identifier: str | None = None) -> TrainConfig:
    from realnet_plugins.checkpoints import resolve_file_or_identifier
    from realnet_plugins.training.loop import TrainConfig

    init_file, init_identifier = (None, None) if args.init_weights is None else resolve_file_or_identifier(
        args.init_weights, what="--init-weights")
    return TrainConfig(
        release=args.release, subject=subject, variant=variant, backbone=args.backbone, beta=beta,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed, image_size=args.image_size,
        normalisation=args.normalisation, init_weights=None if init_file is None else str(init_file),
        init_from=init_identifier, identifier=identifier,
        legacy_detached_contrastive=args.legacy_detached_contrastive,
        validation_fraction=args.validation_fraction, selection=args.selection, device=args.device, amp=args.amp,
        channels_last=args.channels_last, compile=args.compile, max_steps=args.max_steps, log_every=args.log_every,
        checkpoint_every_steps=args.checkpoint_every_steps, checkpoint_every_s=args.checkpoint_every_s,
        run_name=run_name,
    )


def _sweep(args: argparse.Namespace) -> int:
    from realnet_plugins.datasets.things_eeg2.reader import ThingsEEG2Release
    from realnet_plugins.training.loop import default_checkpoint_path, train_many

    if args.concurrent < 1 or args.processes < 1:
        raise ValueError(f"--concurrent and --processes must be at least 1, got {args.concurrent} and {args.processes}")
    if args.concurrent > 1 and args.processes > 1:
        raise ValueError(
            f"--concurrent {args.concurrent} (runs in lock-step in one process) and --processes {args.processes} "
            "(runs in separate processes) are two ways to train runs at once; choose one of them"
        )
    release = ThingsEEG2Release(args.release)
    subjects = parse_subjects(args.subjects) if args.subjects else release.subjects()
    configs: list[TrainConfig] = []
    for variant, beta in parse_sweep_variants(args.variants):
        for subject in ([None] if variant_spec(variant).pooled_subjects else subjects):
            configs.append(_config(args, subject=subject, variant=variant, beta=beta))
    if executor_options(args) is not None:  # jobs through submitit: each resolves its run where it runs
        return run_sweep_jobs(configs, args)
    if args.retry_failed:
        raise ValueError("--retry-failed resubmits failed jobs: it needs --executor local or slurm (without jobs, "
                         "a plain rerun of the sweep trains the unfinished runs)")
    configs = [config.resolved() for config in configs]
    pending, skipped = [], []
    for config in configs:
        target = default_checkpoint_path(config)
        (skipped if target.exists() and not args.overwrite else pending).append(config)
    for config in skipped:
        print(f"skip (finished): {default_checkpoint_path(config)}")
    if args.processes > 1:
        return _sweep_in_processes(pending, args)
    # Runs that can share a device step: same pair count (pooled subjects change it) and head or not (beta0).
    groups: dict[tuple[bool, bool], list[TrainConfig]] = {}
    for config in pending:
        spec = variant_spec(config.variant)
        groups.setdefault((spec.pooled_subjects, spec.has_eeg_head), []).append(config)
    for members in groups.values():
        for start in range(0, len(members), args.concurrent):
            chunk = members[start:start + args.concurrent]
            for path in train_many(chunk, overwrite=args.overwrite, progress=not args.no_progress):
                print(f"trained: {path}")
    return 0


def _sweep_in_processes(pending: list[TrainConfig], args: argparse.Namespace) -> int:
    """Train the pending runs with ``args.processes`` worker processes; report every trained checkpoint."""
    from realnet_plugins.training.loop import RunsFailedError, train_parallel

    try:
        trained = train_parallel(pending, processes=args.processes, overwrite=args.overwrite,
                                 progress=not args.no_progress)
    except RunsFailedError as e:
        for path in e.finished:
            print(f"trained: {path}")
        raise
    for path in trained:
        print(f"trained: {path}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run ``realnet train`` or ``realnet sweep``; return the exit status."""
    from realnet_plugins.commands.checks import torch_device
    from realnet_plugins.training.loop import train

    if args.device is not None:
        torch_device(args.device)
    try:
        if args.verb == "sweep":
            return _sweep(args)
        config = _config(args, subject=args.subject, variant=args.variant, beta=args.beta, run_name=args.run_name,
                         identifier=args.identifier)
        path = train(config, out=args.out, overwrite=args.overwrite, progress=not args.no_progress)
    except RealnetError:  # DataFormatError is also a ValueError: keep its own class
        raise
    except ValueError as e:
        raise RealnetError(str(e)) from None
    print(f"trained: {path}")
    return 0
