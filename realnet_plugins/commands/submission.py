"""Verb ``submission``: write the zip brain-score.org accepts, holding a self-contained model plugin.

    realnet submission --models 'realnet_s*' realnet_r_s01 --weights-url https://example.org/realnet \\
        --out realnet_submission.zip [--plugin-name realnet_eeg_aligned] [--overwrite]

Everything is checked before anything is read or written: the URL, the output path, the plugin
name, then every checkpoint (file sha256 and tensor digest). The checkpoints themselves are not in
the zip; the command lists where each must be uploaded (also in the plugin's README.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from realnet_plugins.submission import DEFAULT_PLUGIN_NAME


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    p.description = (
        "Write a zip for brain-score.org with one model plugin for the given checkpoints: an __init__.py with one "
        "registration line per identifier, a model.py that downloads <weights URL>/<identifier>.pt and checks its "
        "size, sha256 and sha1 before building the model, the code it runs (copied from this package, which the "
        "plugin does not need), test.py, requirements.txt, metadata.yml and a README saying where to upload the "
        "weights files. Quote patterns such as 'realnet_s*'."
    )
    p.add_argument("--models", nargs="+", required=True, metavar="PATTERN",
                   help="identifiers (realnet_s01) or patterns ('realnet_s*': those with a checkpoint under "
                        "$REALNET_HOME)")
    p.add_argument("--weights-url", required=True, metavar="URL",
                   help="http(s) URL of the folder you will upload the <identifier>.pt files to")
    p.add_argument("--out", required=True, type=Path, metavar="FILE.zip", help="the zip file to write")
    p.add_argument("--plugin-name", default=DEFAULT_PLUGIN_NAME, metavar="NAME",
                   help=f"folder name of the plugin in brainscore_vision/models (default {DEFAULT_PLUGIN_NAME})")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")


def run(args: argparse.Namespace) -> int:
    from realnet_plugins.submission.archive import DEFAULT_TOP_FOLDER, check_output_path, write_submission_zip
    from realnet_plugins.submission.models import (
        build_model_plugin,
        check_plugin_name,
        read_records,
        select_identifiers,
    )
    from realnet_plugins.submission.weights import check_weights_url, weights_file_url

    base_url = check_weights_url(args.weights_url)
    check_output_path(args.out, overwrite=args.overwrite)
    check_plugin_name(args.plugin_name)
    identifiers = select_identifiers(args.models)
    print(f"verifying {len(identifiers)} checkpoint(s): {' '.join(identifiers)}", flush=True)
    records = read_records(identifiers)
    folder = build_model_plugin(records, base_url, args.plugin_name)
    out = write_submission_zip([folder], args.out, overwrite=args.overwrite)
    print(f"wrote {out}: {DEFAULT_TOP_FOLDER}/models/{folder.name}/ with {len(records)} model(s)")
    print(f"before submitting, upload these files unchanged to {base_url}/ (also listed in the plugin's README.md):")
    for record in records:
        print(f"  {record.path}  ->  {weights_file_url(base_url, record.path.name)}  "
              f"({record.digests.size} bytes, sha256 {record.digests.sha256})")
    return 0
