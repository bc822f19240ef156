"""The ``realnet`` command. ``realnet --help`` lists the verbs; ``realnet VERB --help`` explains one.

Verbs are defined by modules that expose ``configure(parser, verb)`` and ``run(args) -> int``; the table
below maps each verb to its module. ``configure`` imports nothing heavy (no torch, numpy, xarray or
brainscore), and only the module of the verb being run is imported, so ``--help`` answers at once;
``run`` imports what the work needs.

The error contract: a user's mistake (any :class:`~realnet_plugins.errors.RealnetError`, and argparse's
usage errors) prints ONE line ``realnet VERB: error: ...`` on stderr and exits with status 2, without a
traceback. Anything else is a bug: its traceback is kept, a line asks to report it, and the status is 1.
An interrupt exits with 130.
"""
from __future__ import annotations

import argparse
import difflib
import errno
import importlib
import importlib.util
import logging
import os
import sys
import traceback
import warnings
from typing import Iterable, NoReturn

from realnet_plugins import __version__
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
    "submission": ("realnet_plugins.commands.submission",
                   "write a brain-score.org submission zip: model and/or benchmark plugins"),
    "verify-paper": ("realnet_plugins.commands.report",
                     "recompute the paper's headline numbers from the scores and print them beside the paper's"),
}

#: OSErrors that come from the user's surroundings (permissions, a full or read-only disk), not from a bug.
_ENVIRONMENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}


class RealnetArgumentParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr and exit status 2.

    The line is ``<prog>: error: <argparse's message>; see <prog> --help``, where ``prog`` is
    ``realnet`` or ``realnet VERB``. Sub-parsers made by :meth:`add_subparsers` are of this class too.

    Attributes:
        verb_parsers: verb → its sub-parser (filled by :func:`build_parser`).
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.verb_parsers: dict[str, argparse.ArgumentParser] = {}

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)}; see {self.prog} --help\n")


def one_line(message: object) -> str:
    """``message`` as a single line: its lines joined, with ``;`` where a line ends without punctuation."""
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    text = lines[0] if lines else ""
    for line in lines[1:]:
        text += (" " if text.endswith((".", ":", ";", ",")) else "; ") + line
    return text


def _verb_available(module_name: str) -> bool:
    """Whether the verb's module is part of this installation (``training`` may be absent)."""
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:
        return False


def build_parser(verbs: Iterable[str] | None = None) -> RealnetArgumentParser:
    """The ``realnet`` parser with one sub-parser per available verb.

    Args:
        verbs: the verbs whose options are added (their modules are imported); None: every verb. The
            others are listed with their one-line help only, so ``realnet --help`` imports no verb module.
    """
    configured = set(VERBS) if verbs is None else set(verbs)
    parser = RealnetArgumentParser(
        prog="realnet",
        description="ReAlnet: human EEG-aligned vision models - train, import, extract, package, score, report.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        if verb not in configured:
            if _verb_available(module_name):
                parser.verb_parsers[verb] = sub.add_parser(verb, help=help_text, description=help_text)
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name and (module_name == e.name or module_name.startswith(e.name + ".")):
                continue  # verb not available in this installation
            raise
        p = parser.verb_parsers[verb] = sub.add_parser(verb, help=help_text, description=help_text)
        module.configure(p, verb)
        p.set_defaults(_run=module.run)
    return parser


def _requested_verb(parser: RealnetArgumentParser, argv: list[str]) -> str | None:
    """The verb ``argv`` asks for (its first word that is not an option), refused with advice if unknown."""
    word = next((a for a in argv if not a.startswith("-")), None)
    if word is None or word in VERBS:
        return word
    close = difflib.get_close_matches(word, VERBS, n=3, cutoff=0.6)
    parser.error(f"unknown verb {word!r}; expected one of {', '.join(VERBS)}"
                 + (f"; did you mean {' or '.join(close)}" if close else ""))


def main(argv: list[str] | None = None) -> int:
    """Run the ``realnet`` command line ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    os.environ.setdefault("BS_INSTALL_DEPENDENCIES", "no")
    # Brain-Score's data classes warn on import under the xarray it pins; the warning is about their code.
    warnings.filterwarnings("ignore", message=r"xarray subclass \w+ should explicitly define __slots__",
                            category=FutureWarning)
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser([])
    verb = _requested_verb(parser, argv)
    if verb is not None:
        parser = build_parser([verb])
    args, extras = parser.parse_known_args(argv)
    if extras:
        parser.verb_parsers.get(args.verb, parser).error(f"unrecognized arguments: {' '.join(extras)}")
    if not getattr(args, "_run", None):
        parser.error(f"expected a verb ({', '.join(VERBS)}), found none")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    prog = f"realnet {args.verb}"
    try:
        return int(args._run(args) or 0)
    except RealnetError as e:
        print(f"{prog}: error: {one_line(e) or type(e).__name__}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; finished files are kept, a rerun resumes.", file=sys.stderr)
        return 130
    except OSError as e:
        if e.errno not in _ENVIRONMENT_ERRNOS:
            return _report_bug(prog)
        where = f" {e.filename}" if e.filename else ""
        print(f"{prog}: error: cannot use{where}: {e.strerror}; check the path, its permissions and the free "
              "space", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - anything else is a bug: keep its traceback and ask for a report
        return _report_bug(prog)


def _report_bug(prog: str) -> int:
    """Print the current exception's traceback and a request to report it; return status 1."""
    traceback.print_exc()
    print(f"{prog}: internal error (a bug in realnet-plugins {__version__}, not a mistake in your command); "
          "please report it with the command line and the traceback above", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
