"""Using a model outside Brain-Score: loader, preprocessing, feature/EEG extraction, the `realnet` CLI."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from realnet_plugins.cli import VERBS, build_parser, main
from realnet_plugins.datasets.things_eeg2.reader import EEGNormalisation
from realnet_plugins.extraction import ImagePreprocessing, extract, list_images, load_realnet
from realnet_plugins.fixtures.weights import write_fixture_checkpoint


@pytest.fixture
def photo_folder(tmp_path):
    from skimage import data

    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(folder / "astronaut.jpg")
    Image.fromarray(data.chelsea()).save(folder / "sub" / "chelsea.png")
    Image.fromarray(data.coffee()).save(folder / "coffee.jpg")
    return folder


def test_preprocessing_matches_torchvision_resize_and_normalise(photo_folder):
    from torchvision import transforms

    pre = ImagePreprocessing(40, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    path = photo_folder / "astronaut.jpg"
    ours = pre([path])[0]
    with Image.open(path) as im:
        ref = transforms.Compose([transforms.Resize((40, 40)), transforms.ToTensor(),
                                  transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
                                  ])(im.convert("RGB"))
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=0)


def test_extract_returns_taps_logits_and_eeg_in_release_units(photo_folder):
    path = write_fixture_checkpoint("realnet_s01", image_size=32, seed=1)
    # give the checkpoint an EEG normalisation so the output is mapped back to release units
    ckpt = torch.load(path, weights_only=True)
    ckpt["meta"]["eeg_normalisation"] = EEGNormalisation(mode="scalar", mean=2.0, std=3.0).to_dict()
    torch.save(ckpt, path)
    (path.parent / (path.name + ".sha256")).unlink()
    net = load_realnet(path)
    files = list_images(photo_folder)
    assert [f.name for f in files] == ["astronaut.jpg", "coffee.jpg", "chelsea.png"]
    res = extract(net, files, batch_size=2, progress=False)
    assert res.logits.shape == (3, 1000)
    assert [res.taps[r].shape[1:] for r in ("V1", "V2", "V4", "IT")] == [(64, 8, 8), (128, 4, 4), (256, 2, 2),
                                                                         (512, 1, 1)]
    assert res.eeg.shape == (3, 17, 20) and res.eeg_units == "release"
    with torch.no_grad():
        out = net.model(net.preprocess(files))
    np.testing.assert_allclose(res.eeg, out.eeg.numpy().reshape(3, 17, 20) * 3.0 + 2.0, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(res.logits, out.logits.numpy(), rtol=1e-5, atol=1e-5)


def test_cli_extract_writes_netcdf_a_scientist_can_open(photo_folder, tmp_path):
    import xarray as xr

    write_fixture_checkpoint("realnet_r_s02", image_size=32, seed=2)
    out = tmp_path / "features.nc"
    assert main(["extract", "--model", "realnet_r_s02", "--images", str(photo_folder), "--out", str(out)]) == 0
    ds = xr.open_dataset(out)
    assert list(ds["predicted_eeg"].dims) == ["stimulus", "channel", "time"]
    assert list(ds["channel"].values[:3]) == ["Pz", "P3", "P7"]
    np.testing.assert_allclose(ds["time"].values, np.arange(20) / 100)
    assert ds["features_V1"].shape == (3, 64, 8, 8)
    assert set(ds["stimulus"].values) == {"astronaut.jpg", "coffee.jpg", "sub/chelsea.png"}
    ds.close()
    npz = tmp_path / "features.npz"
    assert main(["extract", "--model", "realnet_r_s02", "--images", str(photo_folder), "--out", str(npz)]) == 0
    with np.load(npz) as z:
        assert z["predicted_eeg"].shape == (3, 17, 20) and z["features_IT"].shape[0] == 3


def test_cli_every_verb_has_help(capsys):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "verb")
    assert set(sub.choices) <= set(VERBS)
    assert {"list", "info", "import-weights", "extract"} <= set(sub.choices)
    for verb in sub.choices:
        with pytest.raises(SystemExit) as e:
            main([verb, "--help"])
        assert e.value.code == 0
        assert f"usage: realnet {verb}" in capsys.readouterr().out


def test_cli_reports_missing_checkpoint_as_an_error_not_a_traceback(capsys):
    assert main(["info", "realnet_s05"]) == 2
    err = capsys.readouterr().err
    assert "realnet info: error: no checkpoint for 'realnet_s05'" in err


def test_cli_info_and_list_show_present_checkpoints(capsys):
    write_fixture_checkpoint("realnet_beta10_s03", image_size=32)
    assert main(["list", "--present"]) == 0
    out = capsys.readouterr().out
    assert "realnet_beta10_s03" in out and "realnet_s01 " not in out
    assert main(["info", "realnet_beta10_s03"]) == 0
    out = capsys.readouterr().out
    assert "variant" in out and "realnet" in out and "beta" in out


def test_loading_an_identifier_twice_gives_separate_modules():
    write_fixture_checkpoint("realnet_s01", image_size=32)
    a, b = load_realnet("realnet_s01"), load_realnet("realnet_s01")
    assert a.model is not b.model and a.sha256 == b.sha256
