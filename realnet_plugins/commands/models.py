"""Verbs about models: ``list``, ``info``, ``import-weights``, ``extract``."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from realnet_plugins.commands.argtypes import existing_file, existing_folder, output_file, positive_int
from realnet_plugins.errors import OutputExistsError
from realnet_plugins.paths import checkpoints_dir

#: Output formats of ``realnet extract --out``: suffix → what is written.
EXTRACT_FORMATS = {".nc": "netCDF", ".npz": "numpy .npz"}


def configure(p: argparse.ArgumentParser, verb: str) -> None:
    if verb == "list":
        p.add_argument("--present", action="store_true", help="only identifiers whose checkpoint exists")
    elif verb == "info":
        p.add_argument("model", help="identifier (e.g. realnet_s01) or checkpoint path")
        p.add_argument("--json", action="store_true", help="print the whole record as JSON")
    elif verb == "import-weights":
        p.add_argument("file", type=existing_file("a weight file"),
                       help="cornet_s-1d3f7974.pth, resnet18-f37072fd.pth or ReAlnetNN_best_model_params.pt")
        p.add_argument("--as", dest="identifier", required=True,
                       help="target identifier: realnet_base_cornet_s, realnet_base_resnet18, "
                            "or realnet_sNN for published files")
        p.add_argument("--out", type=output_file(".pt", ".pth", what="a checkpoint file"),
                       help="write here instead of $REALNET_HOME/checkpoints/<identifier>.pt")
        p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    elif verb == "extract":
        p.add_argument("--model", required=True, help="identifier or checkpoint path")
        p.add_argument("--images", required=True, type=existing_folder("a folder of images"),
                       help="folder of images (searched recursively)")
        p.add_argument("--out", required=True, type=output_file(*EXTRACT_FORMATS, what="a features file"),
                       help="output file: " + " or ".join(f"{k} ({v})" for k, v in EXTRACT_FORMATS.items()))
        p.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass (default 32)")
        p.add_argument("--device", default="cpu", help="torch device (default cpu)")


def run(args: argparse.Namespace) -> int:
    return {"list": _list, "info": _info, "import-weights": _import, "extract": _extract}[args.verb](args)


def _list(args: argparse.Namespace) -> int:
    from realnet_plugins.identifiers import all_identifiers, parse_identifier

    root = checkpoints_dir()
    print(f"checkpoints folder: {root}")
    print(f"{'identifier':26s} {'backbone':9s} {'variant':15s} {'subject':>7s} {'beta':>6s}  checkpoint")
    for ident in all_identifiers():
        present = (root / f"{ident}.pt").is_file()
        if args.present and not present:
            continue
        s = parse_identifier(ident)
        print(f"{ident:26s} {s.backbone:9s} {s.variant:15s} {s.subject or '-':>7} {s.beta:6g}  "
              f"{_recipe_note(root / f'{ident}.pt') if present else '-'}")
    return 0


def _check_model(text: str) -> None:
    """Refuse a typo'd identifier, or a file that is no torch checkpoint, before torch is imported (at once)."""
    from realnet_plugins.checkpoint_files import require_torch_file
    from realnet_plugins.identifiers import parse_identifier

    if Path(text).is_file():
        require_torch_file(text)
    elif "/" not in text and not text.endswith((".pt", ".pth")):
        parse_identifier(text)


def _recipe_note(path: Path) -> str:
    """``yes``, or ``yes, NOT the paper's recipe: ...`` for a checkpoint that departs from it."""
    from realnet_plugins.checkpoints import read_checkpoint_meta
    from realnet_plugins.errors import RealnetError
    from realnet_plugins.recipe import checkpoint_deviations, describe_deviations

    try:
        deviations = checkpoint_deviations(read_checkpoint_meta(path))
    except RealnetError as error:
        return f"unreadable ({error})"
    return f"yes, NOT the paper's recipe: {describe_deviations(deviations)}" if deviations else "yes"


def _info(args: argparse.Namespace) -> int:
    _check_model(args.model)
    from realnet_plugins.checkpoints import load_file_or_identifier
    from realnet_plugins.recipe import checkpoint_deviations

    loaded = load_file_or_identifier(args.model)
    meta = loaded.meta.to_dict()
    if args.json:
        print(json.dumps({"path": str(loaded.path), "sha256": loaded.sha256, "meta": meta}, indent=2, default=str))
        return 0
    print(f"path      {loaded.path}\nsha256    {loaded.sha256}")
    for key in ("identifier", "backbone", "variant", "subject", "beta", "seed", "image_size", "has_eeg_head",
                "source", "data_fingerprint", "package_version", "created_utc"):
        print(f"{key:<17s} {meta.get(key)}")
    deviations = checkpoint_deviations(loaded.meta)
    print(f"{'paper recipe':<17s} {'NO: differs in ' + ', '.join(deviations) if deviations else 'yes'}")
    for name, (paper, this) in deviations.items():
        print(f"  {name:<15s} {this} (paper: {paper})")
    if meta.get("metrics"):
        print("metrics:")
        for k, v in meta["metrics"].items():
            print(f"  {k:<15s} {v}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from realnet_plugins.checkpoint_files import require_torch_file
    from realnet_plugins.identifiers import parse_identifier

    parse_identifier(args.identifier)
    target = args.out if args.out is not None else checkpoints_dir() / f"{args.identifier}.pt"
    if target.exists() and not args.overwrite:
        raise OutputExistsError(f"a checkpoint exists already at {target}; pass --overwrite to replace it "
                                "(or --out FILE to write elsewhere)")
    require_torch_file(args.file)
    from realnet_plugins.importers import import_weights

    path = import_weights(args.file, args.identifier, overwrite=args.overwrite, out=args.out)
    print(f"wrote {path}")
    return 0


def _extract(args: argparse.Namespace) -> int:
    _check_model(args.model)
    from realnet_plugins.commands.checks import torch_device
    from realnet_plugins.extraction import extract, list_images, load_realnet

    device = torch_device(args.device)
    files = list_images(args.images)
    net = load_realnet(args.model, device=device)
    result = extract(net, files, batch_size=args.batch_size, names=[str(f.relative_to(args.images)) for f in files])
    if args.out.suffix.lower() == ".npz":
        result.to_npz(args.out)
    else:
        result.to_netcdf(args.out)
    print(f"wrote {args.out}: {len(files)} images, regions {list(result.taps)}, "
          "predicted EEG "
          + ('(' + ', '.join(map(str, result.eeg.shape)) + ') ' + str(result.eeg_units)
             if result.eeg is not None else 'none'))
    return 0
