"""Decode and resize a list of images once; reuse the pixels as a memory-mapped uint8 array.

:func:`build_image_cache` writes ``<cache_dir>/<key>.npy`` (default
``$REALNET_HOME/cache/images``), an ``.npy`` of uint8 (N, size, size, 3) RGB, and returns it
memory-mapped read-only. The key is a fingerprint of:

* for every file, in order: its resolved path, size in bytes and modification time (ns);
* the output size, the resize method, the cache format version, and the versions of this package
  and of Pillow (whose resampling code produces the pixels).

``stat`` data rather than content hashes keep the key cheap for 16540 files (a content hash would
read ~1.5 GB at every call); any ordinary edit, copy or re-download of an image changes its
mtime, so the key changes and the cache is rebuilt. Reproducibility keys of training runs use the
release's content digests (:meth:`ThingsEEG2Release.release_fingerprint`), not this key.

:func:`normalise_batch` turns a uint8 NHWC batch from the cache into the float NCHW tensor the
backbones take.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import PIL
import torch
from PIL import Image, UnidentifiedImageError
from tqdm.auto import tqdm

from realnet_plugins import __version__
from realnet_plugins.constants import IMAGENET_MEAN, IMAGENET_STD
from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.paths import cache_dir as default_cache_dir
from realnet_plugins.storage import atomic_path, fingerprint

__all__ = ["RESIZE_METHOD", "decode_image", "image_cache_key", "build_image_cache", "normalise_batch"]

logger = logging.getLogger(__name__)

#: How images are resized: Pillow bilinear with antialiasing (Pillow's resize widens the filter
#: when downscaling), straight to a square (aspect ratio not kept), as torchvision's
#: ``Resize((size, size))`` does for PIL images.
RESIZE_METHOD = "pil-bilinear-antialias-square"
_CACHE_FORMAT = 1


def decode_image(path: str | os.PathLike, image_size: int) -> np.ndarray:
    """Read an image file as RGB and resize it to ``image_size`` × ``image_size``.

    Args:
        path: any format Pillow reads (JPEG, PNG, TIFF, ...); grey, palette and RGBA images are
            converted to RGB.
        image_size: output side in pixels.

    Returns:
        uint8 (image_size, image_size, 3).

    Raises:
        MissingFileError: the file does not exist.
        DataFormatError: the file is not a readable image.
    """
    path = Path(path)
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
            resized = rgb.resize((image_size, image_size), Image.Resampling.BILINEAR)
            return np.asarray(resized, dtype=np.uint8)
    except FileNotFoundError as err:
        raise MissingFileError(f"image {path} does not exist.") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise DataFormatError(
            f"image {path} cannot be decoded ({type(err).__name__}: {err}); the file is corrupt or "
            "not an image. Replace it with an intact copy."
        ) from err


def image_cache_key(paths: Sequence[str | os.PathLike], image_size: int) -> str:
    """Fingerprint of the cache content for ``paths`` at ``image_size`` (see the module docstring).

    Raises:
        MissingFileError: some files do not exist (lists the first few and the count).
    """
    entries = []
    missing = []
    for path in paths:
        resolved = Path(path).resolve()
        try:
            stat = resolved.stat()
        except FileNotFoundError:
            missing.append(str(path))
            continue
        entries.append((str(resolved), stat.st_size, stat.st_mtime_ns))
    if missing:
        raise MissingFileError(
            f"{len(missing)} of {len(paths)} images do not exist, e.g. {', '.join(missing[:5])}."
        )
    return fingerprint("image-cache", _CACHE_FORMAT, __version__, PIL.__version__, RESIZE_METHOD,
                       int(image_size), entries)


def _open_cached(path: Path, expected_shape: tuple[int, ...]) -> np.ndarray | None:
    """The cached memmap if ``path`` holds a uint8 array of ``expected_shape``, else None."""
    if not path.is_file():
        return None
    try:
        cached = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as err:
        logger.warning("ignoring unreadable image cache %s (%s); rebuilding it", path, err)
        return None
    if cached.dtype != np.uint8 or cached.shape != expected_shape:
        logger.warning("ignoring image cache %s of %s %s (expected uint8 %s); rebuilding it",
                       path, cached.dtype, cached.shape, expected_shape)
        return None
    return cached


def build_image_cache(
    paths: Sequence[str | os.PathLike],
    image_size: int,
    cache_dir: str | os.PathLike | None = None,
) -> np.ndarray:
    """Pixels of ``paths``, decoded and resized once, as a read-only memory-mapped array.

    The first call for a set of files decodes every image (with a progress bar) into
    ``<cache_dir>/<image_cache_key>.npy``, written atomically; later calls only open that file.

    Args:
        paths: image files; row ``i`` of the result is ``paths[i]``.
        image_size: side of the resized square images in pixels (224 for the paper's models).
        cache_dir: folder of the cache files; default ``$REALNET_HOME/cache/images``.

    Returns:
        uint8 memmap (N, image_size, image_size, 3), RGB.

    Raises:
        MissingFileError: an image does not exist.
        DataFormatError: an image cannot be decoded (the message names the file).
    """
    if image_size < 1:
        raise ValueError(f"image_size must be positive, got {image_size}.")
    paths = list(paths)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir("images")
    target = folder / f"{image_cache_key(paths, image_size)}.npy"
    shape = (len(paths), image_size, image_size, 3)
    cached = _open_cached(target, shape)
    if cached is not None:
        return cached
    with atomic_path(target) as tmp:
        pixels = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=shape)
        for index, path in enumerate(tqdm(paths, desc=f"decoding images to {image_size} px", unit="img", disable=None)):
            pixels[index] = decode_image(path, image_size)
        pixels.flush()
        del pixels
    return np.load(target, mmap_mode="r", allow_pickle=False)


def normalise_batch(
    images: np.ndarray | torch.Tensor,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """uint8 RGB images (N, H, W, 3) -> float32 (N, 3, H, W), scaled to [0, 1] then standardised.

    Args:
        images: uint8 NHWC numpy array (e.g. rows of :func:`build_image_cache`) or tensor on any
            device; the result stays on that device.
        mean: per-channel mean of the [0, 1] pixels (ImageNet by default).
        std: per-channel standard deviation (ImageNet by default).

    Returns:
        float32 tensor (N, 3, H, W): ``(pixels / 255 - mean) / std``.
    """
    batch = torch.from_numpy(np.array(images)) if isinstance(images, np.ndarray) else images
    if batch.dtype != torch.uint8 or batch.ndim != 4 or batch.shape[-1] != 3:
        raise DataFormatError(
            f"expected uint8 images of shape (N, H, W, 3); got {batch.dtype} {tuple(batch.shape)}."
        )
    mean_t = torch.as_tensor(mean, dtype=torch.float32, device=batch.device).view(1, 3, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32, device=batch.device).view(1, 3, 1, 1)
    floats = batch.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)
    return floats.sub_(mean_t).div_(std_t).contiguous()
