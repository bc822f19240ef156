"""The toy dataset's release writer, packaging and package class (see :mod:`realnet_toy`)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
from PIL import Image

from realnet_plugins.datasets.store import (
    MANIFEST_NAME,
    PackagedDataset,
    PackageResult,
    dataset_dir,
    set_current,
    staged_directory,
    verify_image_files,
    write_json,
)
from realnet_plugins.datasets.targets import RDMTargets, Stimuli
from realnet_plugins.rsa.rdm import model_rdm
from realnet_plugins.storage import cached_sha256, fingerprint

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon", "brick", "grass", "gravel")
SUBJECTS = ("sub-01", "sub-02", "sub-03")


def write_release(folder: Path, seed: int = 0) -> Path:
    """Ten photos (64 px PNG) and responses = seeded projections of their pixels plus subject noise."""
    from skimage import data

    folder.mkdir(parents=True, exist_ok=True)
    pixels = []
    for name in PHOTOS:
        image = Image.fromarray(getattr(data, name)()).convert("RGB").resize((64, 64))
        image.save(folder / f"{name}.png")
        pixels.append(np.asarray(image.convert("L").resize((16, 16)), dtype=float).ravel())
    rng = np.random.default_rng(seed)
    signal = np.stack(pixels) @ rng.standard_normal((256, 40))
    responses = np.stack([signal + rng.normal(0, signal.std() * 0.5, signal.shape) for _ in SUBJECTS])
    np.save(folder / "responses.npy", responses)
    return folder


def package_toy(source: Path) -> PackageResult:
    source = Path(source)
    responses = np.load(source / "responses.npy")
    paths = [(source / f"{name}.png").resolve() for name in PHOTOS]
    table = pd.DataFrame({"stimulus_id": list(PHOTOS), "image_path": [str(p) for p in paths],
                          "sha256": [cached_sha256(p) for p in paths]})
    key = fingerprint("toy-package", 1, cached_sha256(source / "responses.npy"), table["sha256"].tolist())
    folder = dataset_dir("toy") / key
    if not (folder / MANIFEST_NAME).is_file():
        with staged_directory(folder) as staging:
            table.to_csv(staging / "stimulus_set.csv", index=False)
            np.save(staging / "rdms.npy", np.stack([model_rdm(r) for r in responses]))
            np.save(staging / "responses.npy", responses)
            write_json(staging / MANIFEST_NAME, {"fingerprint": key, "subjects": list(SUBJECTS)})
    set_current("toy", key)
    return PackageResult(folder, key, reused=False)


class ToyPackage(PackagedDataset):
    dataset = "toy"
    package_command = "realnet package toy --source DIR"

    def stimuli(self, **_: object) -> Stimuli:
        table = pd.read_csv(self.folder / "stimulus_set.csv", dtype=str)
        verify_image_files(table, self.package_command)
        return Stimuli("RealnetToy.photos", table)

    def rdm_targets(self, **_: object) -> RDMTargets:
        rdms = np.load(self.folder / "rdms.npy")
        return RDMTargets(rdms=rdms[:, None], subjects=self.subjects, target_dim="roi", targets=["all"],
                          stimuli=self.stimuli(), kind="1 - Pearson r of synthetic responses")

    def data_assembly(self, **_: object) -> xr.DataArray:
        responses = np.load(self.folder / "responses.npy")
        return xr.DataArray(responses, dims=("subject", "presentation", "neuroid"))
