"""Checkpoint format: atomic save, sha256 verification, strict loading, clear refusals."""
from __future__ import annotations

import os

import pytest
import torch

from realnet_plugins.checkpoints import (
    CheckpointMeta,
    checkpoint_path,
    load_checkpoint,
    load_file_or_identifier,
    load_model_checkpoint,
    read_checkpoint_meta,
    resolve_file_or_identifier,
    save_checkpoint,
)
from realnet_plugins.errors import CheckpointError, MissingFileError, UsageError
from realnet_plugins.fixtures.weights import random_realnet, write_fixture_checkpoint
from realnet_plugins.storage import sha256_file


def _meta(**kw):
    base = dict(backbone="cornet_s", variant="realnet", subject=1, beta=100.0, seed=3,
                eeg_normalisation={"mode": "scalar", "mean": 0.5, "std": 2.0}, metrics={"test_spearman": 0.42})
    base.update(kw)
    return CheckpointMeta(**base)


def test_save_load_round_trip_restores_weights_meta_and_outputs(tmp_path):
    model = random_realnet("cornet_s", 32, seed=1)
    path = tmp_path / "m.pt"
    digest = save_checkpoint(model, _meta(), path)
    assert digest == sha256_file(path)
    assert (tmp_path / "m.pt.sha256").read_text().split()[0] == digest
    loaded = load_checkpoint(path)
    assert loaded.sha256 == digest
    assert loaded.meta.subject == 1 and loaded.meta.metrics == {"test_spearman": 0.42}
    assert loaded.meta.eeg_normalisation["std"] == 2.0
    assert loaded.meta.image_size == 32 and loaded.meta.has_eeg_head
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        a, b = model(x), loaded.model(x)
    torch.testing.assert_close(a.logits, b.logits, rtol=0, atol=0)
    torch.testing.assert_close(a.eeg, b.eeg, rtol=0, atol=0)


def test_checkpoint_loads_with_plain_weights_only_torch_load(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(random_realnet("resnet18", 32, eeg_head=False), _meta(backbone="resnet18", variant="base"), path)
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "realnet-checkpoint" and payload["meta"]["backbone"] == "resnet18"


def test_finished_checkpoint_is_not_overwritten_unless_asked(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(random_realnet(seed=1), _meta(), path)
    before = sha256_file(path)
    with pytest.raises(FileExistsError, match="overwrite"):
        save_checkpoint(random_realnet(seed=2), _meta(), path)
    assert sha256_file(path) == before
    save_checkpoint(random_realnet(seed=2), _meta(), path, overwrite=True)
    assert sha256_file(path) != before


def test_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "m.pt"

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        save_checkpoint(random_realnet(), _meta(), path)
    assert list(tmp_path.iterdir()) == []


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(random_realnet(), _meta(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    (tmp_path / "m.pt.sha256").unlink()
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path)


def test_changed_bytes_fail_the_recorded_sha256(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(random_realnet(), _meta(), path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["backbone.V1.conv1.weight"] += 1.0
    torch.save(payload, path)
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path)
    (tmp_path / "m.pt.sha256").unlink()  # even without the sidecar, the weights digest catches it
    with pytest.raises(CheckpointError, match="recorded digest"):
        load_checkpoint(path)


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("touch /tmp/realnet_pwned_by_checkpoint",))


def test_pickle_that_would_run_code_is_refused_unexecuted(tmp_path):
    marker = "/tmp/realnet_pwned_by_checkpoint"
    if os.path.exists(marker):
        os.unlink(marker)
    path = tmp_path / "evil.pt"
    torch.save({"format": "realnet-checkpoint", "payload": _RunsCode()}, path)
    with pytest.raises(CheckpointError, match="nothing in it was run"):
        load_checkpoint(path)
    assert not os.path.exists(marker)


def test_foreign_file_is_refused_with_advice(tmp_path):
    path = tmp_path / "x.pt"
    torch.save({"V1.conv1.weight": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="import-weights"):
        load_checkpoint(path)


def test_checkpoint_of_other_backbone_is_refused_for_an_identifier(tmp_path):
    write_fixture_checkpoint("realnet_base_resnet18")
    os.replace(checkpoint_path("realnet_base_resnet18"), checkpoint_path("realnet_base_cornet_s"))
    os.replace(str(checkpoint_path("realnet_base_resnet18")) + ".sha256",
               str(checkpoint_path("realnet_base_cornet_s")) + ".sha256")
    with pytest.raises(CheckpointError, match="backbone 'resnet18'.*'cornet_s' was expected"):
        load_model_checkpoint("realnet_base_cornet_s")


def test_missing_and_extra_and_misshaped_tensors_are_listed(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(random_realnet(), _meta(), path)
    payload = torch.load(path, weights_only=True)
    sd = payload["state_dict"]
    del sd["backbone.V2.conv1.weight"]
    sd["backbone.V9.conv1.weight"] = torch.zeros(1)
    sd["eeg_head.fc.bias"] = torch.zeros(7)
    from realnet_plugins.checkpoints import weights_digest

    payload["meta"]["weights_sha256"] = weights_digest(sd)
    torch.save(payload, path)
    (tmp_path / "m.pt.sha256").unlink()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    msg = str(err.value)
    assert "1 missing: backbone.V2.conv1.weight" in msg
    assert "1 unexpected: backbone.V9.conv1.weight" in msg
    assert "eeg_head.fc.bias: file (7,) vs model (340,)" in msg


def test_missing_identifier_checkpoint_says_where_and_how():
    with pytest.raises(MissingFileError) as err:
        load_model_checkpoint("realnet_s03")
    msg = str(err.value)
    assert str(checkpoint_path("realnet_s03")) in msg
    assert "realnet train" in msg and "--subject 3" in msg
    assert "realnet import-weights ReAlnet03_best_model_params.pt --as realnet_s03" in msg


def test_two_loads_are_independent_models():
    write_fixture_checkpoint("realnet_s01", seed=1)
    write_fixture_checkpoint("realnet_s02", seed=2)
    a, b = load_model_checkpoint("realnet_s01").model, load_model_checkpoint("realnet_s02").model
    assert a is not b
    assert not torch.equal(a.backbone.V1.conv1.weight, b.backbone.V1.conv1.weight)
    a2 = load_model_checkpoint("realnet_s01").model
    with torch.no_grad():
        a2.backbone.V1.conv1.weight.zero_()
    assert load_model_checkpoint("realnet_s01").model.backbone.V1.conv1.weight.abs().sum() > 0
    assert a.backbone.V1.conv1.weight.abs().sum() > 0


def test_a_file_and_an_identifier_are_loaded_by_separate_functions(tmp_path, monkeypatch):
    written = write_fixture_checkpoint("realnet_r_s01", seed=1)
    assert load_model_checkpoint("realnet_r_s01").path == written
    assert load_checkpoint(written).path == written
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingFileError, match="is a model identifier: load it with load_model_checkpoint"):
        load_checkpoint("realnet_r_s01")  # a string is a path here, never guessed to be an identifier
    with pytest.raises(ValueError, match="unknown ReAlnet identifier"):
        load_model_checkpoint(str(written))


def test_names_typed_by_users_resolve_by_one_rule(tmp_path, monkeypatch):
    written = write_fixture_checkpoint("realnet_r_s01", seed=1)
    monkeypatch.chdir(tmp_path)
    assert resolve_file_or_identifier("realnet_r_s01") == (None, "realnet_r_s01")
    assert resolve_file_or_identifier(str(written)) == (written, None)
    assert load_file_or_identifier("realnet_r_s01").path == written
    (tmp_path / "realnet_r_s01").write_bytes(written.read_bytes())  # a file named like an identifier
    with pytest.raises(UsageError, match="both a model identifier and a file.*./realnet_r_s01"):
        resolve_file_or_identifier("realnet_r_s01")
    path, identifier = resolve_file_or_identifier("./realnet_r_s01")
    assert (path.resolve(), identifier) == (tmp_path / "realnet_r_s01", None)
    with pytest.raises(MissingFileError, match="checkpoint file not found: nothing.pt"):
        resolve_file_or_identifier("nothing.pt")  # meant as a file (its suffix): the message names the missing file
    with pytest.raises(MissingFileError, match="'nothing' is neither an existing file nor a model identifier"):
        resolve_file_or_identifier("nothing")


def test_meta_is_read_without_the_weights(tmp_path):
    path = tmp_path / "m.pt"
    save_checkpoint(random_realnet("resnet18", 32), _meta(backbone="resnet18", deviations={"epochs": [30, 2]}), path)
    meta = read_checkpoint_meta(path)
    assert (meta.subject, meta.deviations) == (1, {"epochs": [30, 2]})
    assert load_checkpoint(path).meta.to_dict() == meta.to_dict()
