"""The training loop on a miniature release: checkpoints, logs, reproducibility, resume, errors."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from realnet_plugins.checkpoints import checkpoint_path, load_checkpoint, load_model_checkpoint
from realnet_plugins.cli import main
from realnet_plugins.datasets.things_eeg2.reader import EEGNormalisation, ThingsEEG2Release
from realnet_plugins.paths import realnet_home
from realnet_plugins.training import (
    CheckpointExistsError,
    ResumeMismatchError,
    train,
)
from realnet_plugins.training.loop import batch_bounds, epoch_permutation

from training_setup import run_log, tiny_config, tiny_release

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return tiny_release(tmp_path_factory.mktemp("release"))


_config = tiny_config


def _state(path):
    return load_checkpoint(path).model.state_dict()


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_tiny_cornet_s_trains_end_to_end_into_a_complete_checkpoint(release):
    path = train(_config(release, backbone="cornet_s", epochs=2, batch_size=8, max_steps=1, log_every=1,
                         identifier="realnet_s01"), progress=False)
    assert path == checkpoint_path("realnet_s01")
    loaded = load_model_checkpoint("realnet_s01")
    meta = loaded.meta
    assert meta.deviations == {"epochs": [30, 2], "batch_size": [16, 8], "lr": [2e-5, 1e-3], "image_size": [224, 32],
                               "max_steps": [None, 1], "init_weights": [
                                   "the backbone's ImageNet release, verified by its published hash",
                                   "random (seed 2023)"]}
    assert (meta.backbone, meta.variant, meta.subject, meta.beta, meta.seed) == ("cornet_s", "realnet", 1, 100.0, 2023)
    assert meta.identifier == "realnet_s01" and meta.has_eeg_head and meta.image_size == 32
    expected = EEGNormalisation.fit(ThingsEEG2Release(release).alignment_eeg(1))
    assert EEGNormalisation.from_dict(meta.eeg_normalisation) == expected
    assert meta.data_fingerprint and len(meta.init_sha256) == 64
    assert meta.training["steps"] == 1 and meta.training["truncated"] and meta.training["lr"] == 1e-3
    assert meta.training["init_weights"] == {"kind": "random", "seed": 2023}
    for key in ("test", "test_initial"):
        assert set(meta.metrics[key]) == {"spearman", "pearson_mean_feature", "n_images"}
    log = run_log("realnet_s01")
    assert [r["event"] for r in log] == ["start", "train", "end"]
    assert log[1]["step"] == 1 and {"loss", "classification", "mse", "contrastive", "lr", "images_per_s"} <= set(log[1])
    assert log[-1]["metrics"]["test"] == meta.metrics["test"]
    assert not (realnet_home() / "runs" / "realnet_s01" / "resume.pt").exists()


def test_same_seed_and_data_give_bit_identical_weights(release, tmp_path):
    a = train(_config(release), out=tmp_path / "a.pt", progress=False)
    b = train(_config(release), out=tmp_path / "b.pt", progress=False)
    c = train(_config(release, seed=5, max_steps=2), out=tmp_path / "c.pt", progress=False)
    _assert_identical(_state(a), _state(b))
    assert not torch.equal(_state(a)["eeg_head.fc.weight"], _state(c)["eeg_head.fc.weight"])


def test_run_killed_mid_epoch_resumes_to_the_uninterrupted_result(release, tmp_path):
    reference = train(_config(release), out=tmp_path / "ref.pt", progress=False)

    class Crash(Exception):
        pass

    def crash_at_step_5(info):
        if info.global_step == 5:  # epoch 1, step 2 of 3; the last resume state is from step 4
            raise Crash

    config = _config(release, checkpoint_every_steps=2)
    with pytest.raises(Crash):
        train(config, out=tmp_path / "run.pt", on_step=crash_at_step_5, progress=False)
    state = torch.load(realnet_home() / "runs" / "run" / "resume.pt", weights_only=True)
    assert (state["epoch"], state["step_in_epoch"], state["global_step"]) == (1, 1, 4)
    np.testing.assert_array_equal(state["permutation"].numpy(), epoch_permutation(2023, 1, 16))
    resumed = train(config, out=tmp_path / "run.pt", progress=False)
    _assert_identical(_state(reference), _state(resumed))
    steps = [r["step"] for r in run_log("run") if r["event"] == "train"]
    assert steps == [2, 3, 5, 6, 8, 9]  # every 2 steps and at epoch ends; nothing lost, nothing repeated


def test_resuming_with_other_settings_is_refused(release, tmp_path):
    def crash(info):
        if info.global_step == 3:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        train(_config(release, checkpoint_every_steps=2), out=tmp_path / "x.pt", on_step=crash, progress=False)
    with pytest.raises(ResumeMismatchError, match="lr"):
        train(_config(release, checkpoint_every_steps=2, lr=0.01), out=tmp_path / "x.pt", progress=False)
    fresh = train(_config(release, lr=0.01, max_steps=1), out=tmp_path / "x.pt", overwrite=True, progress=False)
    assert load_checkpoint(fresh).meta.training["lr"] == 0.01


def test_batches_cover_each_pair_once_and_never_leave_a_batch_of_one():
    assert batch_bounds(16540, 16)[-1] == (16528, 16540)  # the paper's last batch of 12 is kept
    assert batch_bounds(16, 5) == [(0, 5), (5, 10), (10, 16)]
    assert batch_bounds(17, 4) == [(0, 4), (4, 8), (8, 12), (12, 17)]
    assert batch_bounds(1, 16) == [(0, 1)]
    for n, b in [(16, 3), (33, 16), (40, 8)]:
        covered = [i for lo, hi in batch_bounds(n, b) for i in range(lo, hi)]
        assert covered == list(range(n)) and min(hi - lo for lo, hi in batch_bounds(n, b)) >= 2


def test_remainder_of_one_pair_trains_without_crashing(release, tmp_path):
    path = train(_config(release, batch_size=3, epochs=1), out=tmp_path / "r.pt", progress=False)
    assert load_checkpoint(path).meta.training["steps_per_epoch"] == 5  # 3, 3, 3, 3, 4


def test_finished_checkpoint_is_kept_unless_overwrite(release, tmp_path):
    out = tmp_path / "m.pt"
    train(_config(release, max_steps=1), out=out, progress=False)
    before = out.read_bytes()
    with pytest.raises(CheckpointExistsError, match="overwrite"):
        train(_config(release, max_steps=1), out=out, progress=False)
    assert out.read_bytes() == before
    train(_config(release, max_steps=2), out=out, overwrite=True, progress=False)
    assert load_checkpoint(out).meta.training["steps"] == 2


def _digests(root):
    """sha256 of every file under ``root``: {relative path: hex digest}."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_failing_command_never_touches_the_run_folder(release, tmp_path, capsys, monkeypatch):
    config = _config(release, identifier="realnet_r_s01", checkpoint_every_steps=2)

    def crash(info):
        if info.global_step == 3:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        train(config, on_step=crash, progress=False)
    folder = realnet_home() / "runs" / "realnet_r_s01"
    assert {p.name for p in folder.iterdir()} == {"log.jsonl", "resume.pt"}
    before = _digests(realnet_home())
    (tmp_path / "corrupt.pth").write_bytes(b"not a torch file")
    monkeypatch.chdir(tmp_path)
    same = ["--run-name", "realnet_r_s01", "--backbone", "resnet18", "--image-size", "32", "--epochs", "3",
            "--batch-size", "5", "--lr", "1e-3", "--checkpoint-every-steps", "2", "--no-progress", "--overwrite"]
    bad = {
        "expected the THINGS-EEG2 release folder, found nothing at /nonexistent": [
            "--release", "/nonexistent", "--subject", "1"],
        "subject 9 is not in the release": ["--release", str(release), "--subject", "9"],
        "checkpoint file not found: missing.pth": [
            "--release", str(release), "--subject", "1", "--init-weights", "missing.pth"],
        "corrupt.pth: expected a torch checkpoint": [
            "--release", str(release), "--subject", "1", "--init-weights", "corrupt.pth"],
        "identifier 'realnet_r_s01' stands for backbone resnet18, variant realnet, subject 1": [
            "--release", str(release), "--subject", "2", "--as", "realnet_r_s01"],
        "pools every subject": ["--release", str(release), "--variant", "across_subject", "--subject", "1"],
    }
    def run(argv: list[str]) -> int:
        try:
            return main(argv)
        except SystemExit as exit_:  # argparse refuses a bad value while parsing
            return int(exit_.code)

    for expected, args in bad.items():
        status = run(["train", *args, *same])
        err = capsys.readouterr().err
        assert status == 2 and expected in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        assert _digests(realnet_home()) == before, expected
    assert run(["train", "--overwrite", "--release", "/nonexistent", "--subject", "1"]) == 2  # the issue's
    assert _digests(realnet_home()) == before
    train(config, progress=False)  # the interrupted run is still there to resume
    assert [r["event"] for r in run_log("realnet_r_s01")].count("resume") == 1
