"""Importers of the public weight layouts: published ReAlnet files, CORnet-S ImageNet, torchvision ResNet18."""
from __future__ import annotations

import hashlib

import pytest
import torch

from realnet_plugins.architectures import ReAlnet
from realnet_plugins.backbones import BACKBONES
from realnet_plugins.checkpoints import checkpoint_path, load_model_checkpoint
from realnet_plugins.errors import CheckpointError
from realnet_plugins.fixtures.weights import (
    published_realnet_state,
    random_realnet,
    write_imagenet_cornet_s_file,
    write_published_realnet_file,
    write_torchvision_resnet18_file,
)
from realnet_plugins.importers import check_release, import_weights, read_foreign_weights
from realnet_plugins.recipe import checkpoint_deviations

from training_setup import register_resnet18_release


def _published_keys_from_documentation(image_size: int) -> dict[str, tuple[int, ...]]:
    """The published layout as FORMATS.md documents it, built from names, not from our module."""
    s = image_size // 4
    head = {"fc_v1": 64 * s * s, "fc_v2": 128 * (s // 2) ** 2, "fc_v4": 256 * (s // 4) ** 2,
            "fc_it": 512 * (s // 8) ** 2}
    keys = {f"module.{k}.weight": (128, n) for k, n in head.items()}
    keys.update({f"module.{k}.bias": (128,) for k in head})
    keys.update({"module.fc.weight": (340, 512), "module.fc.bias": (340,)})
    return keys


def test_published_file_built_from_documented_names_gives_identical_activations(tmp_path):
    """A file in the published layout, filled by hand, imports to exactly the same outputs as a by-hand load."""
    size = 32
    torch.manual_seed(7)
    reference = ReAlnet("cornet_s", image_size=size).eval()
    hand = {}
    for k, v in reference.backbone.state_dict().items():
        hand[f"realnet.module.{k}"] = torch.randn_like(v) * 0.1 if v.is_floating_point() else v.clone()
        if k.endswith("running_var"):
            hand[f"realnet.module.{k}"] = hand[f"realnet.module.{k}"].abs() + 0.5
    for k, shape in _published_keys_from_documentation(size).items():
        hand[k] = torch.randn(shape) * 0.01
    path = tmp_path / "ReAlnet01_best_model_params.pt"
    torch.save(hand, path)

    # by hand: strip the DataParallel and training-module prefixes, load the backbone and head
    with torch.no_grad():
        for k, v in hand.items():
            name = k.replace("realnet.module.", "backbone.").replace("module.", "eeg_head.")
            reference.state_dict()[name].copy_(v)

    target = import_weights(path, "realnet_s01")
    loaded = load_model_checkpoint("realnet_s01")
    assert loaded.path == target and loaded.meta.subject == 1 and loaded.meta.image_size == size
    assert loaded.meta.source.startswith("imported:published-realnet:")
    x = torch.randn(4, 3, size, size)
    with torch.no_grad():
        a, b = reference(x), loaded.model(x)
    torch.testing.assert_close(b.logits, a.logits, rtol=0, atol=0)
    for ta, tb in zip(a.taps, b.taps):
        torch.testing.assert_close(tb, ta, rtol=0, atol=0)
    torch.testing.assert_close(b.eeg, a.eeg, rtol=0, atol=0)


@pytest.mark.parametrize("dataparallel", [True, False])
def test_published_layout_with_and_without_module_prefixes(tmp_path, dataparallel):
    model = random_realnet("cornet_s", 32, seed=3)
    path = write_published_realnet_file(tmp_path / "r.pt", model, dataparallel=dataparallel)
    imported = read_foreign_weights(path)
    assert imported.source == "published-realnet" and imported.backbone == "cornet_s"
    for k, v in model.state_dict().items():
        assert torch.equal(imported.model.state_dict()[k], v), k


def test_imagenet_files_under_other_names_import_as_unverified_baselines(tmp_path):
    cornet = random_realnet("cornet_s", 224, eeg_head=False, seed=4)
    import_weights(write_imagenet_cornet_s_file(tmp_path / "cornet_s-imagenet.pth", cornet), "realnet_base_cornet_s")
    resnet = random_realnet("resnet18", 224, eeg_head=False, seed=5)
    import_weights(write_torchvision_resnet18_file(tmp_path / "resnet18.pth", resnet), "realnet_base_resnet18")
    for ident, model, name in [("realnet_base_cornet_s", cornet, "cornet_s-imagenet.pth"),
                               ("realnet_base_resnet18", resnet, "resnet18.pth")]:
        loaded = load_model_checkpoint(ident)
        assert loaded.meta.variant == "base" and not loaded.meta.has_eeg_head
        for k, v in model.state_dict().items():
            assert torch.equal(loaded.model.state_dict()[k], v), k
        assert loaded.meta.weights_release["verified"] is False and loaded.meta.weights_release["file"] == name
        assert loaded.meta.deviations["weights"][1].startswith(f"unverified file {name}")
        assert checkpoint_deviations(loaded.meta) == loaded.meta.deviations


def test_the_release_names_and_digests_come_from_the_registry_and_torchvision():
    resnet = BACKBONES["resnet18"].release_files()
    assert [(r.name, r.algorithm, r.digest) for r in resnet] == [("resnet18-f37072fd.pth", "sha256", "f37072fd")]
    assert "download.pytorch.org/models/resnet18-f37072fd.pth" in resnet[0].origin
    cornet = BACKBONES["cornet_s"].release_files()
    assert [(r.name, r.algorithm, r.digest) for r in cornet] == [
        ("cornet_s-1d3f7974.pth", "sha256", "1d3f7974"),
        ("cornet_s_epoch43.pth.tar", "sha1", "a4bfd8eda33b45fd945da1b972ab0b7cad38d60f")]


@pytest.mark.parametrize("backbone, name, algorithm", [("resnet18", "resnet18-f37072fd.pth", "sha256"),
                                                       ("cornet_s", "cornet_s-1d3f7974.pth", "sha256"),
                                                       ("cornet_s", "cornet_s_epoch43.pth.tar", "sha1")])
def test_random_weights_under_a_release_name_are_refused(tmp_path, backbone, name, algorithm):
    model = random_realnet(backbone, 32, eeg_head=False, seed=6)
    writer = write_imagenet_cornet_s_file if backbone == "cornet_s" else write_torchvision_resnet18_file
    path = writer(tmp_path / name, model)
    found = hashlib.new(algorithm, path.read_bytes()).hexdigest()
    with pytest.raises(CheckpointError) as err:
        import_weights(path, f"realnet_base_{backbone}")
    message = str(err.value)
    assert f"named like the {BACKBONES[backbone].label} ImageNet release {name}" in message
    assert f"its {algorithm} is {found[:16]}" in message and "not the published" in message
    assert "Download the release again" in message and "rename the file" in message
    assert not checkpoint_path(f"realnet_base_{backbone}").exists()
    with pytest.raises(CheckpointError, match="not the published"):
        read_foreign_weights(path)  # training from it is refused too


def test_a_file_with_the_release_digest_imports_as_the_verified_release(tmp_path, monkeypatch):
    path = register_resnet18_release(tmp_path, monkeypatch)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert check_release(path, "resnet18") == {"file": path.name, "sha256": digest, "release": path.name,
                                               "verified": True, "algorithm": "sha256", "digest": digest[:8],
                                               "origin": "a test release"}
    import_weights(path, "realnet_base_resnet18")
    meta = load_model_checkpoint("realnet_base_resnet18").meta
    assert meta.weights_release["verified"] and meta.weights_release["release"] == path.name
    assert meta.deviations == {} and meta.source == f"imported:torchvision-resnet18:{digest}"


def test_old_release_without_batchnorm_counters_imports(tmp_path):
    cornet = random_realnet("cornet_s", 224, eeg_head=False)
    path = write_imagenet_cornet_s_file(tmp_path / "old.pth", cornet)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"] = {k: v for k, v in payload["state_dict"].items() if "num_batches_tracked" not in k}
    torch.save(payload, path)
    assert read_foreign_weights(path).backbone == "cornet_s"


def test_wrong_backbone_for_target_is_refused(tmp_path):
    resnet = random_realnet("resnet18", 224, eeg_head=False)
    path = write_torchvision_resnet18_file(tmp_path / "resnet18.pth", resnet)
    with pytest.raises(CheckpointError, match="holds resnet18 weights.*needs cornet_s"):
        import_weights(path, "realnet_base_cornet_s")


def test_imagenet_file_cannot_pose_as_an_aligned_model(tmp_path):
    cornet = random_realnet("cornet_s", 224, eeg_head=False)
    path = write_imagenet_cornet_s_file(tmp_path / "c.pth", cornet)
    with pytest.raises(CheckpointError, match="EEG-aligned"):
        import_weights(path, "realnet_s02")


def test_missing_extra_and_misshaped_keys_are_listed(tmp_path):
    model = random_realnet("cornet_s", 32)
    state = published_realnet_state(model)
    del state["realnet.module.V4.norm2_3.weight"]
    state["realnet.module.V4.extra.weight"] = torch.zeros(3)
    state["module.fc.weight"] = torch.zeros(340, 256)
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as err:
        read_foreign_weights(path)
    msg = str(err.value)
    assert "backbone.V4.norm2_3.weight" in msg and "backbone.V4.extra.weight" in msg
    assert "eeg_head.fc.weight: file (340, 256) vs model (340, 512)" in msg


def test_unrecognised_file_is_refused(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"encoder.weight": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError, match="unrecognised weight file"):
        read_foreign_weights(path)


def test_code_running_pickle_in_foreign_file_is_refused(tmp_path):
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch /tmp/realnet_pwned_by_import",))

    marker = "/tmp/realnet_pwned_by_import"
    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": Evil()}, path)
    with pytest.raises(CheckpointError):
        read_foreign_weights(path)
    assert not os.path.exists(marker)
