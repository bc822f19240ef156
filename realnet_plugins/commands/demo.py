"""Verb ``demo``: the whole pipeline on a generated miniature world (see :mod:`realnet_plugins.demo`).

    realnet demo [--out DIR] [--quick]
"""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from realnet_plugins.commands.argtypes import output_folder


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    p.description = (
        "Generate a miniature THINGS-EEG2 release (six subjects) and Shen 2019 files, keep a random-init CORnet-S "
        "baseline, train a ReAlnet from it for each subject, package the data, score the baseline and realnet_s01 "
        "with brainscore_vision.score on ThingsEEG2-temporal_rsa, ThingsEEG2.sub-01-temporal_rsa and "
        "Shen2019.natural-rsa, write a table and a figure, and run `realnet report` on every ReAlnet. The data are "
        "synthetic and the nets random-init at 32 px: every title says so. Runs in its own $REALNET_HOME "
        "(DIR/home), never the user's. About 4 minutes on 2 idle CPU cores and 1.6 GB of disk; needs a regular "
        "`pip install .`. "
        "Progress: bars on a terminal, a line at least every 20 s in a log."
    )
    p.add_argument("--out", type=output_folder("a demo folder"), default=Path("realnet-demo"),
                   help="demo folder (default: ./realnet-demo)")
    p.add_argument("--quick", action="store_true",
                   help="two EEG subjects and 10 training steps each (what CI runs; the report's tests have n = 2)")
    p.add_argument("--quiet", action="store_true", help="no progress bars or progress lines")
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
    print(f"To use the demo's models ({', '.join(result.models)}) with realnet or brainscore_vision.score:\n"
          f"  export REALNET_HOME={shlex.quote(str(result.home))}")
    return 0
