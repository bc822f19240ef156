"""Verbs ``report`` and ``verify-paper``: the paper's figures and headline numbers from cached scores.

    realnet report --models 'realnet_s*' --out report/ [--base realnet_base_cornet_s]
        [--controls 'realnet_scrambled_s*' 'realnet_beta0_s*' ...] [--extra-baselines resnet101 ...]
        [--seed-models runs/s01_seed1.pt runs/s01_seed2.pt ...] [--spose spose_embedding_49d_sorted.txt]
        [--dimension-labels labels_short.txt] [--imagenet-val DIR] [--no-behaviour] [--retry-failed]
    realnet verify-paper [--models 'realnet_s*'] [--base realnet_base_cornet_s] [--imagenet-val DIR] [--csv FILE]
"""
from __future__ import annotations

import argparse

from realnet_plugins.commands.argtypes import existing_file, existing_folder, output_file, output_folder, positive_int


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    if verb == "report":
        p.description = (
            "Score the models on the THINGS-EEG2 and Shen 2019 benchmarks (and Brain-Score's behavioural ones) "
            "through Brain-Score, once: scores are kept under $REALNET_HOME/scores and reused. Then write the "
            "paper's figures (PNG), the numbers behind every figure (CSV) and one self-contained HTML page into "
            "--out, listing the figures the data do not allow and why. Quote patterns such as 'realnet_s*'."
        )
        p.add_argument("--models", nargs="+", required=True, metavar="ID",
                       help="the ReAlnets: identifiers or groups, e.g. 'realnet_s*' or 'realnet_r_s*'")
        p.add_argument("--out", type=output_folder("an output folder"), required=True,
                       help="output folder (created)")
        p.add_argument("--base", default="realnet_base_cornet_s",
                       help="the unaligned base model (default: %(default)s; realnet_base_resnet18 for ReAlnet-R)")
        p.add_argument("--controls", nargs="+", default=[], metavar="ID",
                       help="control models or groups, e.g. 'realnet_scrambled_s*' 'realnet_beta0_s*' "
                            "realnet_acrosssub; β groups (realnet_beta1/10/1000_s*) give the β sweep")
        p.add_argument("--extra-baselines", nargs="+", default=[], metavar="ID",
                       help="further Brain-Score model identifiers for the early/late-layer figure (e.g. resnet101)")
        p.add_argument("--seed-models", nargs="+", default=[], metavar="CKPT",
                       help="checkpoints of one subject trained with several seeds (the seed-variability baseline)")
        p.add_argument("--spose", type=existing_file("the SPoSE embedding file"), metavar="FILE",
                       help="spose_embedding_49d_sorted.txt (THINGS 49 dimensions, Fig. 4B)")
        p.add_argument("--dimension-labels", type=existing_file("the dimension labels file"), metavar="FILE",
                       help="the 49 dimension labels: labels.mat / labels_short.mat or text, one per line")
        p.add_argument("--imagenet-val", type=existing_folder("a folder of ImageNet validation images"), metavar="DIR",
                       help="labelled ImageNet validation images: DIR/labels.txt ('<relative path> <class index>' "
                            "per line), DIR/<class index 0-999>/..., or the 1000 DIR/<wnid>/... folders")
        p.add_argument("--no-behaviour", action="store_true",
                       help="skip the behavioural benchmarks (they need Brain-Score's data)")
        p.add_argument("--retry-failed", action="store_true",
                       help="score again what failed before (failures are stored and otherwise only reported)")
        p.add_argument("--permutations", type=positive_int, default=10_000,
                       help="relabellings of the cluster permutation tests (default: %(default)s; exact when fewer "
                            "relabellings exist)")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
    else:
        p.description = (
            "Recompute the paper's headline numbers (EEG-generation fidelity, significant time windows, peak "
            "improvements, matched vs unmatched, EEG-fMRI correlation, behaviour, control experiments) from the "
            "stored scores of the published checkpoints and print them beside the paper's values, with where the "
            "paper states each. Import the published files first (realnet import-weights ... --as realnet_sNN)."
        )
        p.add_argument("--models", nargs="+", default=["realnet_s*"], metavar="ID",
                       help="the ReAlnets (default: %(default)s)")
        p.add_argument("--base", default="realnet_base_cornet_s", help="the base model (default: %(default)s)")
        p.add_argument("--imagenet-val", type=existing_folder("a folder of ImageNet validation images"), metavar="DIR",
                       help="labelled ImageNet validation images for top-1/top-5 (layouts as for `realnet report`)")
        p.add_argument("--no-behaviour", action="store_true", help="skip the behavioural benchmarks")
        p.add_argument("--retry-failed", action="store_true", help="score again what failed before")
        p.add_argument("--csv", type=output_file(".csv", what="a CSV file"), metavar="FILE",
                       help="also write the table as CSV")
        p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    return _report(args) if args.verb == "report" else _verify(args)


def _report(args: argparse.Namespace) -> int:
    from realnet_plugins.commands.checks import refuse_unknown_models
    from realnet_plugins.report import build_report

    refuse_unknown_models([*args.models, *([args.base] if args.base else []), *args.controls,
                            *args.extra_baselines])
    result = build_report(
        args.models, args.out, base=args.base or None, controls=args.controls, extra_baselines=args.extra_baselines,
        seed_models=args.seed_models, spose_embedding=args.spose, dimension_labels=args.dimension_labels,
        imagenet_val=args.imagenet_val, behaviour=not args.no_behaviour, n_permutations=args.permutations,
        retry_failed=args.retry_failed, progress=False if args.quiet else None,
    )
    print(f"wrote {len(result.figures)} figures to {result.out_dir}; open {result.html}")
    print(f"scores: {result.scores_computed} computed, {result.scores_cached} from the store; layer RDMs: "
          f"{result.rdms_computed} computed, {result.rdms_cached} cached; {result.seconds:.1f} s")
    for skipped in result.skipped:
        print(f"skipped {skipped.name}: {skipped.reason}")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from realnet_plugins.commands.checks import refuse_unknown_models
    from realnet_plugins.report.verify_paper import verify_paper
    from realnet_plugins.storage import atomic_write

    refuse_unknown_models([*args.models, *([args.base] if args.base else [])])
    verification = verify_paper(models=args.models, base=args.base, behaviour=not args.no_behaviour,
                                imagenet_val=str(args.imagenet_val) if args.imagenet_val else None,
                                retry_failed=args.retry_failed, progress=False if args.quiet else None)
    print(verification.format())
    if args.csv:
        with atomic_write(args.csv, "w") as f:
            verification.table.to_csv(f, index=False)
        print(f"wrote {args.csv}")
    return 0
