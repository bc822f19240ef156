"""Verb ``submission``: write the zip brain-score.org accepts, with model and/or benchmark plugins.

    realnet submission --models 'realnet_s*' realnet_r_s01 --weights-url https://example.org/realnet \\
        --out realnet_submission.zip [--plugin-name realnet_eeg_aligned] [--overwrite]
    realnet submission --benchmarks 'ThingsEEG2*' 'Shen2019.*' --out realnet_submission.zip [--overwrite]

Both may be given together: one zip. Everything is checked before anything is read or written:
the URL, the output paths, the plugin name, the patterns, then every checkpoint (file sha256 and
tensor digest) and package. Neither the checkpoints nor the data files are in the zip: the
command lists where each must be uploaded (also in the plugins' README.md). The benchmarks' data
files are written beside the zip, into ``<zip name>_upload/``; images are never written.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from realnet_plugins.submission import DEFAULT_PLUGIN_NAME


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    p.description = (
        "Write a zip for brain-score.org. With --models: one model plugin for the given checkpoints (an __init__.py "
        "with one registration line per identifier, a model.py that downloads <weights URL>/<identifier>.pt and "
        "checks its size, sha256 and sha1 before building the model, the code it runs, copied from this package, "
        "test.py, requirements.txt, metadata.yml and a README saying where to upload the weights files). With "
        "--benchmarks: per dataset, a benchmark plugin and a data plugin for the given RSA benchmarks, built from "
        "the current packages (`realnet package ...`); the data files (target RDMs, fMRI assemblies) go into "
        "<zip name>_upload/ beside the zip, for the Brain-Score team to upload. Images are never written. Quote "
        "patterns such as 'realnet_s*' or 'ThingsEEG2*'."
    )
    p.add_argument("--models", nargs="+", metavar="PATTERN",
                   help="identifiers (realnet_s01) or patterns ('realnet_s*': those with a checkpoint under "
                        "$REALNET_HOME)")
    p.add_argument("--weights-url", metavar="URL",
                   help="with --models: http(s) URL of the folder you will upload the <identifier>.pt files to")
    p.add_argument("--benchmarks", nargs="+", metavar="PATTERN",
                   help="benchmark identifiers or patterns ('ThingsEEG2*', 'Shen2019.*'): RSA benchmarks whose data "
                        "the current packages hold")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.zip", help="the zip file to write")
    p.add_argument("--plugin-name", default=DEFAULT_PLUGIN_NAME, metavar="NAME",
                   help=f"folder name of the model plugin in brainscore_vision/models (default {DEFAULT_PLUGIN_NAME}); "
                        "benchmark and data plugins are named <dataset>_rsa")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file (and its _upload folder)")


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.errors import UsageError
    from realnet_plugins.submission.archive import check_output_path

    if not args.models and not args.benchmarks:
        raise UsageError("nothing to submit: give --models PATTERN ... and/or --benchmarks PATTERN ...")
    if args.models and not args.weights_url:
        raise UsageError("--models needs --weights-url: the http(s) address of the folder the weights files will be "
                         "uploaded to")
    if args.weights_url and not args.models:
        raise UsageError("--weights-url is only used with --models")
    if args.models:
        from realnet_plugins.submission.weights import check_weights_url

        check_weights_url(args.weights_url)
    check_output_path(args.out, overwrite=args.overwrite)
    folders, benchmark_selection = [], None
    if args.benchmarks:
        from realnet_plugins.submission.benchmarks import check_upload_folder, select_benchmarks

        check_upload_folder(args.out, overwrite=args.overwrite)
    if args.models:
        from realnet_plugins.submission.models import check_plugin_name, select_identifiers

        check_plugin_name(args.plugin_name)
        identifiers = select_identifiers(args.models)
    if args.benchmarks:
        benchmark_selection = select_benchmarks(args.benchmarks)
    records = _model_records(identifiers) if args.models else []
    if records:
        from realnet_plugins.submission.models import build_model_plugin

        folders.append(build_model_plugin(records, args.weights_url, args.plugin_name))
    if benchmark_selection is None:
        return _write(args, folders, records, None)
    return _with_benchmarks(args, folders, records, benchmark_selection)


def _model_records(identifiers: list[str]) -> list:
    from realnet_plugins.submission.models import read_records

    print(f"verifying {len(identifiers)} checkpoint(s): {' '.join(identifiers)}", flush=True)
    return read_records(identifiers)


def _with_benchmarks(args: argparse.Namespace, folders: list, records: list, selection: list) -> int:
    import shutil
    import tempfile

    from realnet_plugins.submission.benchmarks import build_benchmark_submission, upload_folder_for

    upload = upload_folder_for(args.out)
    upload.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{upload.name}.", suffix=".partial", dir=upload.parent))
    try:
        print(f"building {len(selection)} benchmark(s) from the current packages", flush=True)
        submission = build_benchmark_submission(selection, staging)
        if upload.exists():  # --overwrite: everything is built; replace the earlier folder now
            shutil.rmtree(upload)
        staging.rename(upload)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _write(args, folders + submission.folders, records, (submission, upload))


def _write(args: argparse.Namespace, folders: list, records: list, benchmarks: tuple | None) -> int:
    from realnet_plugins.submission.archive import DEFAULT_TOP_FOLDER, write_submission_zip

    out = write_submission_zip(folders, args.out, overwrite=args.overwrite)
    print(f"wrote {out}: " + ", ".join(f"{DEFAULT_TOP_FOLDER}/{f.kind}/{f.name}/" for f in folders))
    if records:
        from realnet_plugins.submission.weights import check_weights_url, weights_file_url

        base_url = check_weights_url(args.weights_url)
        print(f"before submitting, upload these files unchanged to {base_url}/ (also listed in the plugin's "
              "README.md):")
        for record in records:
            print(f"  {record.path}  ->  {weights_file_url(base_url, record.path.name)}  "
                  f"({record.digests.size} bytes, sha256 {record.digests.sha256})")
    if benchmarks is not None:
        _report_benchmarks(*benchmarks)
    return 0


def _report_benchmarks(submission, upload: Path) -> None:
    for dataset in submission.datasets:
        print(f"{dataset.plugin_name}: " + ", ".join(
            f"{identifier} ({len(spec['subjects'])} subject(s))" for identifier, spec in dataset.specs.items()))
    total = sum(f.size for f in submission.files)
    print(f"wrote {len(submission.files)} data file(s), {total / 1e6:.1f} MB, to {upload}/ for the Brain-Score team to "
          "upload (UPLOAD.md there says where each goes and which version id to fill in):")
    for dataset in submission.datasets:
        for f in dataset.files:
            print(f"  {dataset.family}/{f.file_name}  ->  {f.bucket}/  ({f.size} bytes, sha1 {f.sha1})")
        for plan in dataset.stimulus_sets.values():
            if plan.upstream is not None:
                print(f"  images: Brain-Score's {plan.registry_id} (not redistributed, nothing to upload)")
            else:
                print(f"  images: {plan.registry_id} is listed in data/{dataset.plugin_name}/{plan.listing_path} "
                      f"({len(plan.listing)} files); the team packages them (not redistributed)")
    if submission.skipped:
        print(f"skipped {len(submission.skipped)} matched benchmark(s) whose data the current packages lack: "
              + ", ".join(identifier for identifier, _ in submission.skipped))
        print(f"  e.g. {submission.skipped[0][1]}")
    for note in submission.notes:
        print(f"note: {note}")
