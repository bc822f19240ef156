"""Verb ``score``: score models on benchmarks through Brain-Score, once, and print the table.

    realnet score --models realnet_s01 'realnet_scrambled_s*' [--benchmarks ThingsEEG2-temporal_rsa ...]
        [--csv scores.csv] [--keep-going] [--retry-failed] [--quiet]
"""
from __future__ import annotations

import argparse

from realnet_plugins.commands.argtypes import output_file
from realnet_plugins.commands.options import PAPER_NEURAL_BENCHMARKS


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    from realnet_plugins.commands.jobs import add_executor_arguments

    p.description = (
        "Score models on benchmarks with brainscore_vision.score, in this process. Each (model, checkpoint, "
        "benchmark, packaged data) is scored once: scores are kept under $REALNET_HOME/scores, keyed by the "
        "checkpoint's sha256, the benchmark's version and the data's fingerprint, and read back afterwards "
        "(the same store `realnet report` uses). Quote patterns such as 'realnet_s*'."
    )
    p.add_argument("--models", nargs="+", required=True, metavar="ID",
                   help="paper identifiers (realnet_s01), groups ('realnet_s*': the trained or imported ones) or other "
                        "Brain-Score model identifiers")
    p.add_argument("--benchmarks", nargs="+", default=list(PAPER_NEURAL_BENCHMARKS), metavar="ID",
                   help="benchmark identifiers, e.g. ThingsEEG2.sub-01-temporal_rsa Geirhos2021-error_consistency "
                        "(default: the paper's neural ones, " + " ".join(PAPER_NEURAL_BENCHMARKS) + ")")
    p.add_argument("--csv", type=output_file(".csv", what="a CSV file"), metavar="FILE",
                   help="also write the table as CSV")
    p.add_argument("--keep-going", action="store_true",
                   help="record a failing score and go on (default: stop at the first failure; scores finished "
                        "before it are kept)")
    p.add_argument("--retry-failed", action="store_true", help="score again what failed before")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_executor_arguments(p)


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.commands.checks import refuse_unknown_models
    from realnet_plugins.commands.jobs import executor_options, run_score_jobs
    from realnet_plugins.report.scores import score_table
    from realnet_plugins.storage import atomic_write

    refuse_unknown_models(args.models)
    if executor_options(args) is not None:  # one job per (model, benchmark) through submitit
        return run_score_jobs(args)
    result = score_table(args.models, args.benchmarks, keep_going=args.keep_going, retry_failed=args.retry_failed,
                         progress=False if args.quiet else None)
    for note in result.notes:
        print(f"note: {note}")
    print(result.format())
    print(f"{result.computed} computed, {result.stored} from the store, {result.failed} failed")
    if args.csv:
        with atomic_write(args.csv, "w") as f:
            result.table.to_csv(f, index=False)
        print(f"wrote {args.csv}")
    return 1 if result.failed else 0
