"""Training runs of each kind on a miniature release: variants, init weights, pseudo-labels, selection, errors."""
from __future__ import annotations

import dataclasses

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
from realnet_plugins.importers import import_weights
from realnet_plugins.paths import cache_dir, realnet_home
from realnet_plugins.recipe import PAPER_INIT_WEIGHTS, PAPER_RECIPE
from realnet_plugins.training import TrainConfig, default_checkpoint_path, train
from realnet_plugins.training.loop import _saved_settings, build_initial_model, init_weights_origin, run_deviations

from training_setup import register_resnet18_release, run_log, tiny_config, tiny_release

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return tiny_release(tmp_path_factory.mktemp("release"))


_config = tiny_config


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
    assert all(r.get("mse", None) is None for r in run_log(path.stem) if r["event"] == "train")


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
    verified = {"kind": "torchvision-resnet18", "path": "imagenet.pth", "sha256": "0" * 64, "verified": True}
    cases = {("cornet_s", "realnet", 3, None): "realnet_s03", ("resnet18", "realnet", 10, None): "realnet_r_s10",
             ("cornet_s", "no_mse", 2, None): "realnet_nomse_s02",
             ("cornet_s", "realnet", 1, 1000.0): "realnet_beta1000_s01",
             ("cornet_s", "beta0", 4, None): "realnet_beta0_s04",
             ("cornet_s", "across_subject", None, None): "realnet_acrosssub"}
    for (backbone, variant, subject, beta), identifier in cases.items():
        paper = TrainConfig(release=release, backbone=backbone, variant=variant, subject=subject, beta=beta).resolved()
        assert run_deviations(paper, verified) == {}
        assert default_checkpoint_path(paper, verified) == checkpoint_path(identifier)


def test_runs_off_the_papers_recipe_never_take_its_identifier_unless_named(release):
    verified = {"kind": "torchvision-resnet18", "path": "imagenet.pth", "sha256": "0" * 64, "verified": True}
    paper = TrainConfig(release=release, subject=2, backbone="resnet18").resolved()
    custom = realnet_home() / "checkpoints" / "custom" / "resnet18_realnet_beta100_s02_seed2023.pt"
    for change in [dict(max_steps=2), dict(epochs=29), dict(batch_size=8), dict(lr=1e-3), dict(image_size=128),
                   dict(seed=1), dict(normalisation="feature"), dict(legacy_detached_contrastive=True),
                   dict(validation_fraction=0.25)]:
        config = dataclasses.replace(paper, **change)
        (name, value), = change.items()
        assert run_deviations(config, verified) == {name: [PAPER_RECIPE[name], value]}
        assert default_checkpoint_path(config, verified) == custom.with_name(
            f"resnet18_realnet_beta100_s02_seed{config.seed}.pt")
        assert default_checkpoint_path(dataclasses.replace(config, run_name="mine"), verified) == custom.with_name(
            "mine.pt")
        named = dataclasses.replace(config, identifier="realnet_r_s02").resolved()
        assert default_checkpoint_path(named, verified) == checkpoint_path("realnet_r_s02")
    random = {"kind": "random", "seed": 2023}
    assert run_deviations(paper, random) == {"init_weights": [PAPER_INIT_WEIGHTS, "random (seed 2023)"]}
    assert default_checkpoint_path(paper, random) == custom
    with pytest.raises(ValueError, match="'realnet_s02' stands for backbone cornet_s.*this run is backbone resnet18"):
        dataclasses.replace(paper, identifier="realnet_s02").resolved()


def test_validation_selection_keeps_the_best_validation_epoch(release, tmp_path):
    path = train(_config(release, validation_fraction=0.25, selection="validation", epochs=3), out=tmp_path / "v.pt",
                 progress=False)
    meta = load_checkpoint(path).meta
    history = [r for r in run_log("v") if r["event"] == "validation"]
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
        init, kind = {"init_from": "realnet_base_resnet18"}, "realnet-checkpoint"
    else:
        init, kind = {"init_weights": str(tmp_path / "resnet18-imagenet.pth")}, "torchvision-resnet18"
        torch.save(base.backbone.state_dict(), init["init_weights"])
    config = _config(release, **init).resolved()
    model, info = build_initial_model(config)
    assert info["kind"] == kind and not info.get("verified")  # neither is the verified ImageNet release
    for name, tensor in base.backbone.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[name], tensor)
    with pytest.raises(Exception, match="cornet_s|resnet18"):
        build_initial_model(_config(release, backbone="cornet_s", **init).resolved())


def test_initial_weights_are_a_file_or_an_identifier_never_guessed(release, tmp_path):
    with pytest.raises(ValueError, match="'realnet_base_cornet_s' is a model identifier: pass init_from"):
        _config(release, init_weights="realnet_base_cornet_s").resolved()
    with pytest.raises(ValueError, match="init_from must be a model identifier"):
        _config(release, init_from=str(tmp_path / "weights.pth")).resolved()
    with pytest.raises(ValueError, match="not both"):
        _config(release, init_weights="a.pth", init_from="realnet_base_resnet18").resolved()
    with pytest.raises(FileNotFoundError, match="no checkpoint for 'realnet_base_resnet18'"):
        train(_config(release, init_from="realnet_base_resnet18"), progress=False)


def test_resume_states_from_before_init_from_still_match(release):
    """A resume state written when ``init_weights`` also took identifiers is read in today's fields."""
    config = _config(release, init_from="realnet_base_resnet18").resolved()
    saved = {**config.math_dict(), "init_weights": "realnet_base_resnet18"}
    del saved["init_from"]
    assert _saved_settings(saved) == config.math_dict()
    assert _saved_settings(config.math_dict()) == config.math_dict()


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
    with pytest.raises(FileNotFoundError, match="init weights file not found: no_such_weights.pth"):
        train(_config(release, init_weights="no_such_weights.pth"), progress=False)


def test_starting_from_the_verified_release_is_the_papers_recipe(release, tmp_path, monkeypatch):
    path = register_resnet18_release(tmp_path, monkeypatch)
    import_weights(path, "realnet_base_resnet18")
    for init in ({"init_weights": str(path)}, {"init_from": "realnet_base_resnet18"}):
        config = TrainConfig(release=release, subject=4, backbone="resnet18", **init).resolved()
        origin = init_weights_origin(config)
        assert origin["verified"] and origin["release"] == path.name
        assert default_checkpoint_path(config) == checkpoint_path("realnet_r_s04")
        other_backbone = TrainConfig(release=release, subject=4, backbone="cornet_s", **init).resolved()
        assert not init_weights_origin(other_backbone).get("verified")
    unverified = tmp_path / "resnet18-copy.pth"
    unverified.write_bytes(path.read_bytes())
    config = TrainConfig(release=release, subject=4, backbone="resnet18", init_weights=str(unverified)).resolved()
    assert run_deviations(config)["init_weights"][1].startswith("unverified file resnet18-copy.pth (sha256 ")
    assert default_checkpoint_path(config).parent.name == "custom"
