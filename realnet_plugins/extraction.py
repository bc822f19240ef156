"""Use a ReAlnet outside Brain-Score: load it with its preprocessing, extract features and EEG.

    >>> from realnet_plugins.extraction import load_realnet, extract
    >>> net = load_realnet("realnet_s01")             # or a checkpoint path
    >>> result = extract(net, ["a.jpg", "b.jpg"])      # taps, logits, predicted EEG
    >>> result.eeg.shape                                # (2, 17, 20): images × channels × times
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from realnet_plugins.architectures import REGIONS, ReAlnet
from realnet_plugins.checkpoints import CheckpointMeta, LoadedCheckpoint, load_file_or_identifier
from realnet_plugins.errors import MissingFileError
from realnet_plugins.image_cache import decode_image, normalise_batch

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp")


@dataclass(frozen=True)
class ImagePreprocessing:
    """RGB → square resize (PIL bilinear) → [0, 1] → ImageNet normalisation, as in training.

    Attributes:
        image_size: output side in px.
        mean, std: per-channel normalisation (RGB).
    """

    image_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def from_meta(cls, meta: CheckpointMeta) -> "ImagePreprocessing":
        return cls(int(meta.image_size), tuple(meta.image_mean), tuple(meta.image_std))  # type: ignore[arg-type]

    def load(self, image: str | os.PathLike | Image.Image) -> np.ndarray:
        """One image (path or PIL image) → uint8 (S, S, 3), resized exactly as the training image cache does."""
        if isinstance(image, Image.Image):
            resized = image.convert("RGB").resize((self.image_size, self.image_size), Image.Resampling.BILINEAR)
            return np.asarray(resized, dtype=np.uint8)
        return decode_image(image, self.image_size)

    def __call__(self, images: Sequence[str | os.PathLike | Image.Image]) -> torch.Tensor:
        """Images → float32 tensor (N, 3, S, S), normalised as in training."""
        return normalise_batch(np.stack([self.load(im) for im in images]), self.mean, self.std)


@dataclass
class RealnetModel:
    """A loaded model with what is needed to use it.

    Attributes:
        model: the :class:`ReAlnet` module, eval mode.
        preprocess: :class:`ImagePreprocessing` read from the checkpoint.
        meta: the checkpoint's record.
        sha256: sha256 of the checkpoint file.
    """

    model: ReAlnet
    preprocess: ImagePreprocessing
    meta: CheckpointMeta
    sha256: str
    path: Path

    @classmethod
    def from_checkpoint(cls, loaded: LoadedCheckpoint) -> "RealnetModel":
        return cls(loaded.model, ImagePreprocessing.from_meta(loaded.meta), loaded.meta, loaded.sha256, loaded.path)


def load_realnet(identifier_or_path: str | os.PathLike, device: str | torch.device = "cpu") -> RealnetModel:
    """Load a ReAlnet by Brain-Score identifier (``$REALNET_HOME``) or checkpoint file, verified.

    A path object is a file; a string is resolved by
    :func:`~realnet_plugins.checkpoints.resolve_file_or_identifier` (an identifier of the paper, or
    an existing file; a name that is both is refused). Each call builds a fresh module.

    Raises:
        MissingFileError, CheckpointError, UsageError: with instructions.
    """
    loaded = load_file_or_identifier(identifier_or_path)
    loaded.model.to(device)
    return RealnetModel.from_checkpoint(loaded)


@dataclass
class Extraction:
    """Outputs for N images.

    Attributes:
        stimuli: N image names (file names relative to the folder, or given paths).
        taps: region → array (N, C, h, w), float32 (regions V1, V2, V4, IT; for ResNet18 layer1..4).
        tap_layers: region → the backbone layer it comes from.
        logits: (N, 1000) float32 ImageNet logits.
        eeg: (N, 17, 20) predicted EEG (channels × 0..190 ms), in the release's units when the
            checkpoint stores its EEG normalisation, else in normalised units; None without a head.
        eeg_units: ``'release'`` or ``'normalised'`` (or None).
    """

    stimuli: list[str]
    taps: dict[str, np.ndarray]
    tap_layers: dict[str, str]
    logits: np.ndarray
    eeg: np.ndarray | None
    eeg_units: str | None
    channels: list[str]
    times_s: list[float]

    def to_netcdf(self, path: str | os.PathLike) -> None:
        """Write every array to one netCDF file (xarray); dims are named, coords carry channel names and times."""
        import xarray as xr

        from realnet_plugins.storage import atomic_path

        data = {"logits": (("stimulus", "imagenet_class"), self.logits)}
        for region, arr in self.taps.items():
            data[f"features_{region}"] = ((
                "stimulus", f"{region}_channel", f"{region}_y", f"{region}_x"), arr)
        if self.eeg is not None:
            data["predicted_eeg"] = (("stimulus", "channel", "time"), self.eeg)
        ds = xr.Dataset(data, coords={"stimulus": self.stimuli, "channel": self.channels, "time": self.times_s})
        ds["time"].attrs["units"] = "s"
        ds.attrs.update({"tap_layers": str(self.tap_layers), "eeg_units": str(self.eeg_units)})
        with atomic_path(path) as tmp:
            ds.to_netcdf(tmp)

    def to_npz(self, path: str | os.PathLike) -> None:
        """Write every array to one ``.npz`` (keys: stimuli, logits, features_<region>, predicted_eeg, channels,
        times_s)."""
        from realnet_plugins.storage import atomic_write

        arrays = {"stimuli": np.array(self.stimuli), "logits": self.logits, "channels": np.array(self.channels),
                  "times_s": np.array(self.times_s)}
        arrays.update({f"features_{r}": a for r, a in self.taps.items()})
        if self.eeg is not None:
            arrays["predicted_eeg"] = self.eeg
        with atomic_write(path) as f:
            np.savez(f, **arrays)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Every image file under ``folder`` (recursive), sorted by relative path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"image folder not found: {folder}")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise MissingFileError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}")
    return files


@torch.no_grad()
def extract(net: RealnetModel, images: Sequence[str | os.PathLike], *, batch_size: int = 32,
            names: Sequence[str] | None = None, progress: bool | None = None) -> Extraction:
    """Run ``net`` on images (paths) and collect taps, logits and predicted EEG.

    Args:
        net: from :func:`load_realnet`.
        images: image file paths.
        batch_size: images per forward pass.
        names: stimulus names (default: the paths as given).
        progress: show a progress bar (None: only on a terminal).
    """
    from realnet_plugins.constants import EEG_CHANNELS

    model = net.model.eval()
    device = next(model.parameters()).device
    taps: dict[str, list[np.ndarray]] = {r: [] for r in REGIONS}
    logits, eeg = [], []
    for start in tqdm(range(0, len(images), batch_size), desc="extract", unit="batch",
                      disable=progress is False if progress is not None else None):
        x = net.preprocess(images[start:start + batch_size]).to(device)
        out = model(x)
        logits.append(out.logits.float().cpu().numpy())
        for r, t in zip(REGIONS, out.taps):
            taps[r].append(t.float().cpu().numpy())
        if out.eeg is not None:
            eeg.append(out.eeg.float().cpu().numpy())
    n_ch, n_t = len(net.meta.eeg_channels), len(net.meta.eeg_times_s)
    eeg_arr, units = None, None
    if eeg:
        eeg_arr = np.concatenate(eeg).reshape(-1, n_ch, n_t)
        units = "normalised"
        if net.meta.eeg_normalisation:
            from realnet_plugins.datasets.things_eeg2.reader import EEGNormalisation

            eeg_arr = EEGNormalisation.from_dict(net.meta.eeg_normalisation).invert(eeg_arr)
            units = "release"
    return Extraction(
        stimuli=[str(n) for n in (names if names is not None else images)],
        taps={r: np.concatenate(v) for r, v in taps.items()},
        tap_layers=net.model.spec.region_layer_map,
        logits=np.concatenate(logits),
        eeg=eeg_arr, eeg_units=units,
        channels=list(net.meta.eeg_channels or EEG_CHANNELS), times_s=[float(t) for t in net.meta.eeg_times_s],
    )
