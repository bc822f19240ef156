"""EEG-generation fidelity of each checkpoint on the THINGS-EEG2 test set (SPEC.md, Objective).

Two numbers per checkpoint (paper: 0.7785 and 0.3081): the Spearman correlation between generated
and real EEG over the whole images × channels × times array, and the mean over the 340 channel ×
time features of the Pearson correlation across images. They come from the checkpoint's training
record (``meta.metrics['test']``, measured at the end of training) or, when the record has none
(imported published checkpoints), are recomputed on the packaged test set: the model's predicted
EEG against the subject's EEG averaged over repetitions (a model of no single subject: the mean over
the packaged subjects). Results are cached per checkpoint sha256 (and package fingerprint) under
``$REALNET_HOME/cache/fidelity/``.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np
import pandas as pd

from realnet_plugins.paths import cache_dir
from realnet_plugins.report.selection import ReportModel
from realnet_plugins.storage import atomic_write, fingerprint

#: Where a fidelity value comes from.
SOURCE_RECORD = "training record (meta.metrics.test)"
SOURCE_RECOMPUTED = "recomputed on the packaged test set"
_CACHE_VERSION = 1


def _real_eeg(package: Any, subject: str, stimulus_ids: Sequence[str], channels: Sequence[str]) -> np.ndarray:
    """A subject's test EEG averaged over repetitions, (n_images, n_channels, n_times), channels as asked."""
    assembly = package.assembly(subject)
    ids = np.asarray(assembly["stimulus_id"].values).astype(str)
    order = [list(np.asarray(assembly["channel"].values).astype(str)).index(c) for c in channels]
    values = np.asarray(assembly.values, dtype=np.float64)[:, order]
    return np.stack([values[ids == s].mean(axis=0) for s in stimulus_ids])


def recompute_fidelity(model: ReportModel, *, progress: bool | None = None) -> dict[str, Any] | None:
    """The two metrics of a checkpoint's generated EEG on the current THINGS-EEG2 package (None: no EEG head)."""
    from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package
    from realnet_plugins.extraction import extract, load_realnet
    from realnet_plugins.training.metrics import eeg_generation_metrics

    net = load_realnet(str(model.checkpoint))
    if not net.meta.has_eeg_head:
        return None
    package = ThingsEEG2Package()
    table = package.stimulus_table()
    ids = list(table["stimulus_id"].astype(str))
    extraction = extract(net, list(table["image_path"].astype(str)), names=ids, progress=progress)
    subjects = [f"sub-{model.subject:02d}"] if model.subject is not None else package.subjects
    per_subject = {s: eeg_generation_metrics(extraction.eeg, _real_eeg(package, s, ids, extraction.channels))
                   for s in subjects if s in package.subjects}
    if not per_subject:
        return None
    return {
        "spearman": float(np.mean([m["spearman"] for m in per_subject.values()])),
        "pearson_mean_feature": float(np.mean([m["pearson_mean_feature"] for m in per_subject.values()])),
        "n_images": len(ids), "subjects": list(per_subject), "source": SOURCE_RECOMPUTED,
        "package_fingerprint": package.fingerprint,
    }


def checkpoint_fidelity(model: ReportModel, *, recompute: bool = True, progress: bool | None = None
                        ) -> dict[str, Any] | None:
    """Fidelity of one checkpoint: its training record, else recomputed (cached); None without an EEG head.

    Returns:
        ``{"spearman", "pearson_mean_feature", "n_images", "source", ...}`` or None.
    """
    from realnet_plugins.checkpoints import read_checkpoint
    from realnet_plugins.storage import cached_sha256

    if model.checkpoint is None:
        return None
    digest = cached_sha256(model.checkpoint)
    record_path = cache_dir("fidelity") / f"{fingerprint('fidelity-record', _CACHE_VERSION, digest)}.json"
    if record_path.is_file():
        record = json.loads(record_path.read_text(encoding="utf-8"))
    else:
        _, meta, _ = read_checkpoint(model.checkpoint, verify=False)
        test = (meta.metrics or {}).get("test") or {}
        record = {"has_eeg_head": bool(meta.has_eeg_head), "test": test if "spearman" in test else None}
        with atomic_write(record_path, "w") as f:
            json.dump(record, f)
    if not record["has_eeg_head"]:
        return None
    if record["test"] is not None:
        return {**record["test"], "source": SOURCE_RECORD}
    if not recompute:
        return None
    from realnet_plugins.datasets.things_eeg2.packaging import ThingsEEG2Package

    package_key = ThingsEEG2Package().fingerprint
    recomputed_path = (cache_dir("fidelity")
                       / f"{fingerprint('fidelity-test', _CACHE_VERSION, digest, package_key)}.json")
    if recomputed_path.is_file():
        return json.loads(recomputed_path.read_text(encoding="utf-8"))
    result = recompute_fidelity(model, progress=progress)
    if result is not None:
        with atomic_write(recomputed_path, "w") as f:
            json.dump(result, f)
    return result


def fidelity_table(groups: Sequence[tuple[str, Sequence[ReportModel]]], *, progress: bool | None = None
                   ) -> pd.DataFrame:
    """One row per checkpoint with an EEG head: group, model, subject, spearman, pearson_mean_feature, n_images,
    source."""
    rows = []
    for label, models in groups:
        for model in models:
            result = checkpoint_fidelity(model, progress=progress)
            if result is None:
                continue
            rows.append({"group": label, "model": model.short_name, "subject": model.subject,
                         "spearman": float(result["spearman"]),
                         "pearson_mean_feature": float(result["pearson_mean_feature"]),
                         "n_images": int(result.get("n_images", 0)), "source": result["source"]})
    return pd.DataFrame(rows, columns=["group", "model", "subject", "spearman", "pearson_mean_feature", "n_images",
                                       "source"])
