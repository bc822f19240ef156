"""Time ``realnet --help`` and every ``realnet VERB --help`` against ``python -c pass``, in fresh interpreters.

Each command runs as the installed ``realnet`` entry point does (``from realnet_plugins.cli import main``)
in a new interpreter from a temporary working directory, ``--repeats`` times; the median wall time is
reported beside the median of ``python -c pass`` measured in the same run, and their ratio.

    python bench/bench_cli_help.py [--repeats 5] [--compare OLD_SITE_DIR]

``--compare DIR`` also times another copy of the package: ``DIR`` must hold a ``realnet_plugins``
folder (for example a copy of an older install's ``site-packages/realnet_plugins``); it is put first
on ``PYTHONPATH`` so that copy is the one imported. Run against the regular install (``pip install .``):
the checkout is never on the path.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

LAUNCH = "import sys; from realnet_plugins.cli import main; sys.exit(main())"


def median_seconds(argv: list[str], *, repeats: int, cwd: str, env: dict[str, str],
                   missing_ok: bool = False) -> float | None:
    """Median wall time of ``argv`` over ``repeats`` runs (its output discarded; it must exit 0).

    With ``missing_ok``, a command that fails (a verb the compared copy does not have) gives None.
    """
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            if missing_ok:
                return None
            raise SystemExit(f"{' '.join(argv)} exited with {done.returncode}: {done.stderr[-2000:]}")
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command (median reported; default 5)")
    parser.add_argument("--compare", metavar="DIR", help="folder holding another copy of realnet_plugins to time")
    args = parser.parse_args()

    from realnet_plugins.cli import VERBS, build_parser

    verbs = [v for v in VERBS if v in build_parser([]).verb_parsers]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["BS_INSTALL_DEPENDENCIES"] = "no"
    old_env = {**env, "PYTHONPATH": os.path.abspath(args.compare)} if args.compare else None
    with tempfile.TemporaryDirectory() as cwd:
        baseline = median_seconds([sys.executable, "-c", "pass"], repeats=args.repeats, cwd=cwd, env=env)
        print(f"python -c pass: {baseline:.3f} s (median of {args.repeats}; {sys.executable})")
        header = f"{'command':28s} {'seconds':>8s} {'x pass':>7s}"
        if old_env:
            header += f" {'old s':>8s} {'x pass':>7s} {'old/new':>8s}"
        print(header)
        rows: list[tuple[float, float | None]] = []
        for verb in [None, *verbs]:
            cli_args = [verb, "--help"] if verb else ["--help"]
            argv = [sys.executable, "-c", LAUNCH, *cli_args]
            new = median_seconds(argv, repeats=args.repeats, cwd=cwd, env=env)
            line = f"{'realnet ' + ' '.join(cli_args):28s} {new:8.3f} {new / baseline:7.1f}"
            old = None
            if old_env:
                old = median_seconds(argv, repeats=args.repeats, cwd=cwd, env=old_env, missing_ok=True)
                line += (f" {old:8.3f} {old / baseline:7.1f} {old / new:8.1f}" if old is not None
                         else f" {'(no such verb)':>25s}")
            rows.append((new, old))
            print(line, flush=True)
    slowest = max(new for new, _ in rows)
    print(f"slowest --help: {slowest:.3f} s ({slowest / baseline:.1f} x python -c pass)")
    if old_env:
        print(f"old slowest --help: {max(old for _, old in rows if old is not None):.3f} s")


if __name__ == "__main__":
    main()
