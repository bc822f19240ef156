"""Image cache: decode-once memmap, cache keys, clear errors, and batch normalisation."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

import realnet_plugins.image_cache as image_cache
from realnet_plugins.constants import IMAGENET_MEAN, IMAGENET_STD
from realnet_plugins.errors import DataFormatError, MissingFileError
from realnet_plugins.image_cache import build_image_cache, decode_image, image_cache_key, normalise_batch


@pytest.fixture()
def image_files(tmp_path):
    """Five small images of different sizes and modes (RGB JPEG, grey PNG, RGBA PNG)."""
    rng = np.random.default_rng(0)
    paths = []
    for i, (size, mode, ext) in enumerate([((40, 30), "RGB", "jpg"), ((25, 25), "L", "png"), ((50, 20), "RGBA", "png"),
                                           ((32, 32), "RGB", "png"), ((17, 23), "RGB", "jpg")]):
        channels = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
        pixels = rng.integers(0, 256, size=(size[1], size[0], channels), dtype=np.uint8)
        path = tmp_path / "images" / f"img{i}.{ext}"
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(pixels.squeeze(-1) if channels == 1 else pixels).save(path)
        paths.append(path)
    return paths


def _reference_pixels(path, size):
    """Independent reference: Pillow RGB conversion then bilinear resize."""
    return np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR))


def test_cache_holds_rgb_resized_pixels_in_input_order(image_files, tmp_path):
    pixels = build_image_cache(image_files, 16, cache_dir=tmp_path / "cache")
    assert isinstance(pixels, np.memmap) and pixels.dtype == np.uint8 and pixels.shape == (5, 16, 16, 3)
    for row, path in zip(pixels, image_files):
        np.testing.assert_array_equal(row, _reference_pixels(path, 16))
    assert not pixels.flags.writeable


def test_second_call_decodes_nothing(image_files, tmp_path, monkeypatch):
    decoded = []
    real_decode = image_cache.decode_image
    monkeypatch.setattr(image_cache, "decode_image", lambda path, size: decoded.append(path) or real_decode(path, size))
    first = build_image_cache(image_files, 12, cache_dir=tmp_path / "cache")
    assert len(decoded) == len(image_files)
    second = build_image_cache(image_files, 12, cache_dir=tmp_path / "cache")
    assert len(decoded) == len(image_files)
    np.testing.assert_array_equal(first, second)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{image_cache_key(image_files, 12)}.npy"]


def test_default_location_is_under_realnet_home(image_files, realnet_home):
    build_image_cache(image_files, 8)
    assert (realnet_home / "cache" / "images" / f"{image_cache_key(image_files, 8)}.npy").is_file()


def test_key_changes_with_size_order_and_file_modification(image_files):
    key = image_cache_key(image_files, 16)
    assert image_cache_key(image_files, 16) == key
    assert image_cache_key(image_files, 32) != key
    assert image_cache_key(image_files[::-1], 16) != key
    stat = image_files[0].stat()
    os.utime(image_files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert image_cache_key(image_files, 16) != key


def test_modified_image_is_decoded_again(image_files, tmp_path):
    build_image_cache(image_files, 10, cache_dir=tmp_path / "cache")
    Image.fromarray(np.full((10, 10, 3), 200, dtype=np.uint8)).save(image_files[3])
    stat = image_files[3].stat()
    os.utime(image_files[3], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    pixels = build_image_cache(image_files, 10, cache_dir=tmp_path / "cache")
    assert np.all(pixels[3] == 200)


def test_corrupt_cache_file_is_rebuilt(image_files, tmp_path):
    cache = tmp_path / "cache"
    build_image_cache(image_files, 9, cache_dir=cache)
    target = cache / f"{image_cache_key(image_files, 9)}.npy"
    np.save(target, np.zeros((2, 9, 9, 3), dtype=np.uint8))
    pixels = build_image_cache(image_files, 9, cache_dir=cache)
    np.testing.assert_array_equal(pixels[0], _reference_pixels(image_files[0], 9))


def test_corrupt_image_error_names_the_file_and_leaves_no_cache(image_files, tmp_path):
    image_files[2].write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    with pytest.raises(DataFormatError, match=image_files[2].name):
        build_image_cache(image_files, 8, cache_dir=tmp_path / "cache")
    assert not any((tmp_path / "cache").iterdir())


def test_truncated_jpeg_is_a_clear_error(image_files):
    data = image_files[0].read_bytes()
    image_files[0].write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFormatError, match="cannot be decoded"):
        decode_image(image_files[0], 8)


def test_missing_image_is_reported_before_decoding(image_files, tmp_path):
    image_files[1].unlink()
    with pytest.raises(MissingFileError, match=f"1 of 5 images do not exist, e.g. {image_files[1]}"):
        build_image_cache(image_files, 8, cache_dir=tmp_path / "cache")


def test_normalise_batch_matches_manual_imagenet_normalisation():
    images = np.random.default_rng(1).integers(0, 256, size=(4, 6, 5, 3), dtype=np.uint8)
    out = normalise_batch(images)
    assert out.dtype == torch.float32 and tuple(out.shape) == (4, 3, 6, 5)
    expected = (images / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(out.numpy(), expected.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-6)
    same = normalise_batch(torch.from_numpy(images), mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    np.testing.assert_allclose(same.numpy(), (images.transpose(0, 3, 1, 2) / 255.0 - 0.5) / 0.5, rtol=1e-5, atol=1e-6)


def test_normalise_batch_accepts_cache_rows_and_refuses_floats(image_files, tmp_path):
    pixels = build_image_cache(image_files, 8, cache_dir=tmp_path / "cache")
    assert tuple(normalise_batch(pixels[1:3]).shape) == (2, 3, 8, 8)
    with pytest.raises(DataFormatError, match="uint8"):
        normalise_batch(np.zeros((1, 8, 8, 3), dtype=np.float32))
