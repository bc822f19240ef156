"""Package the images of this data plugin's stimulus sets for Brain-Score's storage (for the Brain-Score team).

The images are not in the plugin: they may not be redistributed. ``stimuli/<identifier>.csv`` lists
every image file with its sha256 and where to obtain it. With the images in one folder (any
subfolders)::

    python data_packaging/package_stimuli.py --images DIR --out UPLOAD_DIR [--brainio-home DIR]

checks every image against its sha256, writes ``stimulus_<identifier>.csv`` and ``.zip`` of each
stimulus set into ``UPLOAD_DIR`` with brainscore_core's own writers (``create_stimulus_zip``,
``create_stimulus_csv``, as ``package_stimulus_set`` does), and fills their sha1s into
``__init__.py``. With ``--brainio-home`` it also copies them to ``<home>/<sha1>/``, where the
loaders find them without a download (to test before the upload). Then upload both files of each
set to the bucket folder named in ``__init__.py`` and fill in their S3 version ids.

This file is a template of realnet-plugins (``realnet_plugins/submission/plugin_template``), copied
unchanged into each generated data plugin that registers stimulus sets.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import pandas as pd
from brainscore_core.supported_data_standards.brainio.packaging import create_stimulus_csv, create_stimulus_zip
from brainscore_core.supported_data_standards.brainio.stimuli import StimulusSet

PLUGIN_DIR = Path(__file__).resolve().parents[1]
#: Columns of the listing that describe the file rather than the stimulus.
LISTING_ONLY = ("sha256", "size_bytes", "source")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_images(listing: pd.DataFrame, images: Path) -> dict[str, Path]:
    """stimulus_id → the image file under ``images`` with the listed name and sha256.

    Raises:
        SystemExit: an image is missing, found twice, or differs from the listed one.
    """
    by_name: dict[str, list[Path]] = {}
    for path in images.rglob("*"):
        if path.is_file():
            by_name.setdefault(path.name, []).append(path)
    found, problems = {}, []
    for row in listing.itertuples():
        candidates = by_name.get(row.image_file_name, [])
        matching = [path for path in candidates if _sha256(path) == row.sha256]
        if not matching:
            problems.append(f"{row.image_file_name}: " + ("not under " + str(images) if not candidates else
                                                         f"found {len(candidates)} file(s), none with sha256 "
                                                         f"{row.sha256}"))
        else:
            found[row.stimulus_id] = matching[0]
    if problems:
        raise SystemExit(f"{len(problems)} of {len(listing)} images are missing or differ from the listing: "
                         + "; ".join(problems[:5]))
    return found


def package(record: dict, images: Path, out: Path) -> dict:
    """Write one stimulus set's csv and zip into ``out``; return their names and sha1s."""
    listing = pd.read_csv(PLUGIN_DIR / record["listing"], dtype={"stimulus_id": str})
    paths = find_images(listing, images)
    stimulus_set = StimulusSet(listing.drop(columns=[c for c in LISTING_ONLY if c in listing.columns]))
    stimulus_set.stimulus_paths = paths
    out.mkdir(parents=True, exist_ok=True)
    zip_sha1, arcnames = create_stimulus_zip(stimulus_set, str(out / record["zip"]))
    stimulus_set["filename"] = arcnames
    csv_sha1 = create_stimulus_csv(stimulus_set, str(out / record["csv"]))
    return {"identifier": record["registry_id"], "csv": record["csv"], "csv_sha1": csv_sha1,
            "zip": record["zip"], "zip_sha1": zip_sha1}


def fill_in(result: dict) -> list[str]:
    """Put the sha1s into ``__init__.py`` in place of their placeholders; return the names it could not fill."""
    init = PLUGIN_DIR / "__init__.py"
    text = init.read_text(encoding="utf-8")
    missed = []
    for kind in ("csv", "zip"):
        placeholder = f'"FILL-IN: sha1 of {result[kind]}"'
        if placeholder in text:
            text = text.replace(placeholder, f'"{result[kind + "_sha1"]}"')
        else:
            missed.append(result[kind])
    init.write_text(text, encoding="utf-8")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", required=True, type=Path, help="folder holding the image files (any subfolders)")
    parser.add_argument("--out", required=True, type=Path, help="folder to write the csv and zip files to upload")
    parser.add_argument("--brainio-home", type=Path, help="also place the files in <this>/<sha1>/ (local testing)")
    args = parser.parse_args(argv)
    records = json.loads((PLUGIN_DIR / "data_files.json").read_text(encoding="utf-8"))["stimulus_sets"]
    results = []
    for record in records:
        result = package(record, args.images, args.out)
        missed = fill_in(result)
        if missed:
            print(f"{', '.join(missed)}: no placeholder left in __init__.py; put the sha1s below in by hand",
                  file=sys.stderr)
        if args.brainio_home:
            for kind in ("csv", "zip"):
                target = args.brainio_home / result[kind + "_sha1"] / result[kind]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(args.out / result[kind], target)
        results.append(result)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
