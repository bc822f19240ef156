"""Verb ``demo``: the whole pipeline on a generated miniature world (see :mod:`realnet_plugins.demo`).

    realnet demo [--out DIR] [--quick]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from realnet_plugins.commands.argtypes import output_folder


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    p.description = (
        "Generate a miniature THINGS-EEG2 release and Shen 2019 files, keep a random-init CORnet-S baseline, train a "
        "ReAlnet from it, package the data, score both models with brainscore_vision.score on ThingsEEG2-temporal_rsa, "
        "ThingsEEG2.sub-01-temporal_rsa and Shen2019.natural-rsa, and write a table and a figure. Runs in its own "
        "$REALNET_HOME (DIR/home), never the user's. A few minutes on 2 CPU cores; needs a regular `pip install .`."
    )
    p.add_argument("--out", type=output_folder("a demo folder"), default=Path("realnet-demo"),
                   help="demo folder (default: ./realnet-demo)")
    p.add_argument("--quick", action="store_true", help="two EEG subjects and one training epoch (about half the time)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--no-report", action="store_true", help="skip `realnet report` on the demo's models")


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.demo import run_demo

    result = run_demo(args.out, quick=args.quick, progress=not args.quiet, report=not args.no_report)
    print(result.markdown.read_text())
    print(f"demo finished in {result.seconds:.0f} s")
    print(f"  table:   {result.csv}\n           {result.markdown}")
    print(f"  figure:  {result.figure}")
    if result.report is not None:
        print(f"  report:  {result.report / 'report.html'}  (figures, CSV tables; skipped figures say why)")
    print(f"  home:    {result.home}  (checkpoints/, assemblies/, runs/ of this demo; "
          "your own $REALNET_HOME is untouched)")
    return 0
