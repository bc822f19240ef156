"""Training runs of each kind on a miniature release: variants, init weights, pseudo-labels, selection, errors."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from realnet_plugins.architectures import ReAlnet
from realnet_plugins.checkpoints import (
    CheckpointMeta,
    checkpoint_path,
    load_checkpoint,
    save_checkpoint,
)
from realnet_plugins.datasets.things_eeg2.reader import EEGNormalisation, ThingsEEG2Release
from realnet_plugins.image_cache import decode_image, normalise_batch
from realnet_plugins.paths import cache_dir, realnet_home
from realnet_plugins.training import default_checkpoint_path, train
from realnet_plugins.training.loop import build_initial_model

from training_setup import tiny_config, tiny_release

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return tiny_release(tmp_path_factory.mktemp("release"))


_config = tiny_config


def _log(name):
    return [json.loads(line) for line in (realnet_home() / "runs" / name / "log.jsonl").read_text().splitlines()]


def test_every_subject_starts_from_the_same_weights_and_pseudo_labels_are_computed_once(release):
    a = train(_config(release, subject=1, max_steps=1), progress=False)
    b = train(_config(release, subject=2, max_steps=1), progress=False)
    assert load_checkpoint(a).meta.init_sha256 == load_checkpoint(b).meta.init_sha256
    assert len(list(cache_dir("pseudo_labels").glob("*.npy"))) == 1


def test_pseudo_labels_are_the_frozen_eval_mode_initial_model_predictions(release):
    config = _config(release).resolved()
    model, _ = build_initial_model(config)
    train(config, progress=False)
    labels = np.load(next(cache_dir("pseudo_labels").glob("*.npy")))
    pixels = np.stack([decode_image(p, 32) for p in ThingsEEG2Release(release).image_paths("training")])
    with torch.no_grad():
        expected = model.eval()(normalise_batch(pixels)).logits.argmax(1).numpy()
    np.testing.assert_array_equal(labels, expected)


def test_beta0_trains_without_eeg_head(release):
    path = train(_config(release, variant="beta0", max_steps=2), progress=False)
    meta = load_checkpoint(path).meta
    assert path == realnet_home() / "checkpoints" / "custom" / "resnet18_beta0_beta0_s01_seed2023.pt"  # no paper id
    assert not meta.has_eeg_head and meta.beta == 0.0 and meta.metrics == {} and meta.eeg_normalisation is None
    assert all(r.get("mse", None) is None for r in _log(path.stem) if r["event"] == "train")


def test_across_subject_pools_subjects_into_one_model(release):
    path = train(_config(release, variant="across_subject", subject=None, batch_size=16, max_steps=1), progress=False)
    meta = load_checkpoint(path).meta
    assert path.name == "resnet18_across_subject_beta100_sall_seed2023.pt" and meta.subject is None
    assert meta.training["n_pairs"] == 32 and meta.training["subjects"] == [1, 2]
    assert set(meta.metrics["test"]["per_subject"]) == {"1", "2"}
    record = meta.eeg_normalisation
    assert set(record["per_subject"]) == {"1", "2"}
    assert record["std"] == pytest.approx((record["per_subject"]["1"]["std"] + record["per_subject"]["2"]["std"]) / 2)
    assert EEGNormalisation.from_dict(record).mode == "scalar"


def test_paper_recipes_write_to_their_identifiers_checkpoint(release):
    cases = {("cornet_s", "realnet", 3, None): "realnet_s03", ("resnet18", "realnet", 10, None): "realnet_r_s10",
             ("cornet_s", "no_mse", 2, None): "realnet_nomse_s02",
             ("cornet_s", "realnet", 1, 1000.0): "realnet_beta1000_s01",
             ("cornet_s", "beta0", 4, None): "realnet_beta0_s04",
             ("cornet_s", "across_subject", None, None): "realnet_acrosssub"}
    for (backbone, variant, subject, beta), identifier in cases.items():
        config = _config(release, backbone=backbone, variant=variant, subject=subject, beta=beta).resolved()
        assert default_checkpoint_path(config) == checkpoint_path(identifier)


def test_validation_selection_keeps_the_best_validation_epoch(release, tmp_path):
    path = train(_config(release, validation_fraction=0.25, selection="validation", epochs=3), out=tmp_path / "v.pt",
                 progress=False)
    meta = load_checkpoint(path).meta
    history = [r for r in _log("v") if r["event"] == "validation"]
    assert [r["epoch"] for r in history] == [0, 1, 2]
    best = max(history, key=lambda r: r["pearson_mean_feature"])
    assert meta.training["selected_epoch"] == best["epoch"]
    assert meta.metrics["validation"]["pearson_mean_feature"] == pytest.approx(best["pearson_mean_feature"], abs=1e-6)
    assert len(meta.training["validation_concepts"]) == 2 and meta.training["n_pairs"] == 12


@pytest.mark.parametrize("source", ["identifier", "imagenet-file"])
def test_init_weights_from_a_checkpoint_identifier_or_an_imagenet_file(release, tmp_path, source):
    torch.manual_seed(0)
    base = ReAlnet("resnet18", image_size=224, eeg_head=False)
    if source == "identifier":
        save_checkpoint(base, CheckpointMeta(backbone="resnet18", variant="base", identifier="realnet_base_resnet18"),
                        checkpoint_path("realnet_base_resnet18"))
        spec, kind = "realnet_base_resnet18", "realnet-checkpoint"
    else:
        spec, kind = str(tmp_path / "resnet18-imagenet.pth"), "torchvision-resnet18"
        torch.save(base.backbone.state_dict(), spec)
    config = _config(release, init_weights=spec).resolved()
    model, info = build_initial_model(config)
    assert info["kind"] == kind
    for name, tensor in base.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[name], tensor)
    with pytest.raises(Exception, match="cornet_s|resnet18"):
        build_initial_model(_config(release, backbone="cornet_s", init_weights=spec).resolved())


def test_invalid_configurations_name_the_problem(release):
    with pytest.raises(ValueError, match="valid variants"):
        train(_config(release, variant="shuffled"), progress=False)
    with pytest.raises(ValueError, match="do not also give"):
        train(_config(release, variant="beta0", beta=10.0), progress=False)
    with pytest.raises(ValueError, match="pools every subject"):
        train(_config(release, variant="across_subject", subject=1), progress=False)
    with pytest.raises(ValueError, match=r"subject 9 is not in the release.*\[1, 2\]"):
        train(_config(release, subject=9), progress=False)
    with pytest.raises(ValueError, match="amp"):
        train(_config(release, device="cpu", amp=True), progress=False)
    with pytest.raises(FileNotFoundError, match="neither an existing file nor a model identifier"):
        train(_config(release, init_weights="no_such_weights.pth"), progress=False)
