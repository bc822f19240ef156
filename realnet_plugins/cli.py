"""The ``realnet`` command. ``realnet --help`` lists the verbs; ``realnet VERB --help`` explains one.

Verbs are defined by modules that expose ``configure(parser)`` and ``run(args) -> int``; the table
below maps each verb to its module, imported only when the verb (or the full help) needs it.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from realnet_plugins.errors import RealnetError

#: verb → (module, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "list": ("realnet_plugins.commands.models", "list the paper's model identifiers and which checkpoints exist"),
    "info": ("realnet_plugins.commands.models", "show a checkpoint's record (backbone, variant, metrics, sha256)"),
    "import-weights": ("realnet_plugins.commands.models", "import an ImageNet or published ReAlnet weight file"),
    "fetch": ("realnet_plugins.commands.fetch", "download the paper's data and weights, hash-checked and resumable"),
    "extract": ("realnet_plugins.commands.models", "write layer features and predicted EEG for a folder of images"),
    "train": ("realnet_plugins.training.cli", "train a ReAlnet (one subject, one variant) on THINGS-EEG2"),
    "sweep": ("realnet_plugins.training.cli", "train every subject × variant of a list, resuming finished ones"),
    "package": ("realnet_plugins.commands.package",
                "turn downloaded THINGS-EEG2 / Shen2019 files into assemblies and RDMs"),
    "demo": ("realnet_plugins.commands.demo", "run the whole pipeline on a generated miniature world"),
    "score": ("realnet_plugins.commands.score", "score models on benchmarks through Brain-Score, once (cached)"),
    "jobs": ("realnet_plugins.commands.jobs",
             "list the jobs of sweeps and scorings run with --executor: state, log, error"),
    "report": ("realnet_plugins.commands.report", "reproduce the paper's analyses and figures from scores"),
    "verify-paper": ("realnet_plugins.commands.report",
                     "recompute the paper's headline numbers from the scores and print them beside the paper's"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="realnet",
        description="ReAlnet: human EEG-aligned vision models - train, import, extract, package, score, report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
                continue  # verb not available in this installation
            raise
        p = sub.add_parser(verb, help=help_text, description=help_text)
        getattr(module, "configure")(p, verb)
        p.set_defaults(_run=getattr(module, "run"))
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except RealnetError as e:
        print(f"realnet {args.verb}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"realnet {args.verb}: interrupted; finished files are kept, a rerun resumes.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
