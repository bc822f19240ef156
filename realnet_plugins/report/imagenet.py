"""ImageNet top-1 / top-5 accuracy of realnet checkpoints on a user-provided labelled folder.

ImageNet images cannot be shipped; point ``realnet report --imagenet-val DIR`` at a validation set
laid out in one of three ways (class index = position of the class among the model's 1000 logits,
the standard ImageNet-1k order = sorted WordNet ids, 0-based):

1. ``DIR/labels.txt``: one line per image, ``<image path relative to DIR> <class index>``
   (whitespace-separated; lines starting with ``#`` ignored). Used whenever the file exists.
2. ``DIR/<class index>/<images>``: sub-folders named by the integer class index (``0`` … ``999``,
   leading zeros allowed).
3. ``DIR/<wnid>/<images>``: the usual "val in class folders" layout, all 1000 WordNet-id folders
   (``n01440764`` …); the index is the folder's position in sorted order.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.extraction import IMAGE_SUFFIXES
from realnet_plugins.report.selection import ReportModel

N_CLASSES = 1000
LABELS_FILE = "labels.txt"
_WNID = re.compile(r"^n\d{8}$")


@dataclass(frozen=True)
class LabelledImages:
    """Images with their class index.

    Attributes:
        paths: image files, (n,).
        labels: 0-based class indices, int64 (n,).
        layout: which layout was read (``labels.txt``, ``class-index folders``, ``wnid folders``).
    """

    paths: tuple[Path, ...]
    labels: np.ndarray
    layout: str


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def read_labelled_folder(folder: str | Path) -> LabelledImages:
    """Read a labelled ImageNet folder (module docstring for the layouts).

    Raises:
        MissingFileError: no folder, or no images.
        DataFormatError: a layout that is none of the three, a bad line, or an index outside 0..999.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"ImageNet folder not found: {folder}")
    labels_file = folder / LABELS_FILE
    if labels_file.is_file():
        paths, labels = [], []
        for number, line in enumerate(labels_file.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
                raise DataFormatError(
                    f"{labels_file}:{number}: expected '<relative image path> <class index>', found {line!r}"
                )
            path = folder / parts[0].strip()
            if not path.is_file():
                raise MissingFileError(f"{labels_file}:{number}: image {path} does not exist")
            paths.append(path)
            labels.append(int(parts[1]))
        layout = LABELS_FILE
    else:
        subfolders = sorted(p for p in folder.iterdir() if p.is_dir())
        names = [p.name for p in subfolders]
        if subfolders and all(n.isdigit() for n in names):
            index = {p: int(p.name) for p in subfolders}
            layout = "class-index folders"
        elif len(subfolders) == N_CLASSES and all(_WNID.match(n) for n in names):
            index = {p: i for i, p in enumerate(subfolders)}
            layout = "wnid folders"
        else:
            raise DataFormatError(
                f"{folder}: expected {LABELS_FILE}, sub-folders named by class index (0..999), or the 1000 WordNet-id "
                f"sub-folders; found {len(subfolders)} sub-folders, e.g. {names[:5]}"
            )
        paths, labels = [], []
        for sub in subfolders:
            for path in _images_in(sub):
                paths.append(path)
                labels.append(index[sub])
    if not paths:
        raise MissingFileError(f"no images ({', '.join(IMAGE_SUFFIXES)}) found in {folder}")
    labels_array = np.asarray(labels, dtype=np.int64)
    outside = labels_array[(labels_array < 0) | (labels_array >= N_CLASSES)]
    if outside.size:
        raise DataFormatError(f"{folder}: class indices must be 0..{N_CLASSES - 1}; found {sorted(set(outside))[:5]}")
    return LabelledImages(tuple(paths), labels_array, layout)


def top_k_accuracy(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Share of images whose label is among the k largest logits.

    Args:
        logits: (n_images, n_classes).
        labels: (n_images,) class indices.
        k: how many top classes count.
    """
    logits = np.asarray(logits)
    top = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == np.asarray(labels)[:, None], axis=1)))


def imagenet_accuracy(models: Sequence[ReportModel], images: LabelledImages, *, batch_size: int = 32,
                      progress: bool | None = None) -> list[dict]:
    """Top-1 and top-5 accuracy (%) of each checkpoint: rows model, subject, n_images, top1, top5.

    Results are cached under ``$REALNET_HOME/cache/imagenet/`` by checkpoint sha256 and the image
    set's identity (paths, labels, file sizes and modification times).
    """
    import json

    from realnet_plugins.extraction import extract, load_realnet
    from realnet_plugins.paths import cache_dir
    from realnet_plugins.storage import atomic_write, cached_sha256, fingerprint

    image_set = fingerprint([(str(p), int(label), p.stat().st_size, p.stat().st_mtime_ns)
                             for p, label in zip(images.paths, images.labels)])
    rows = []
    for model in models:
        if model.checkpoint is None:
            continue
        cached = (cache_dir("imagenet")
                  / f"{fingerprint('imagenet-accuracy', cached_sha256(model.checkpoint), image_set)}.json")
        if cached.is_file():
            accuracy = json.loads(cached.read_text(encoding="utf-8"))
        else:
            net = load_realnet(str(model.checkpoint))
            logits = extract(net, list(images.paths), batch_size=batch_size, progress=progress).logits
            accuracy = {"top1": 100.0 * top_k_accuracy(logits, images.labels, 1),
                        "top5": 100.0 * top_k_accuracy(logits, images.labels, 5)}
            with atomic_write(cached, "w") as f:
                json.dump(accuracy, f)
        rows.append({"model": model.short_name, "subject": model.subject, "n_images": len(images.paths), **accuracy})
    return rows
