"""Runs trained in separate worker processes (``train_parallel``, ``realnet sweep --processes``)."""
from __future__ import annotations

import pytest
import torch

from realnet_plugins.checkpoints import checkpoint_path, load_checkpoint
from realnet_plugins.cli import main
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.paths import checkpoints_dir
from realnet_plugins.training import (
    CheckpointExistsError,
    TrainConfig,
    train,
    train_parallel,
)
from realnet_plugins.training.loop import _threads_per_worker, build_initial_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = ["--backbone", "resnet18", "--image-size", "32", "--epochs", "1", "--batch-size", "4", "--max-steps", "1",
        "--no-progress"]


def _custom(subject: int):
    """Where a tiny run of subject ``subject`` goes (``TINY`` is not the paper's recipe)."""
    return checkpoints_dir() / "custom" / f"resnet18_realnet_beta100_s{subject:02d}_seed2023.pt"


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return str(write_things_eeg2_release(tmp_path_factory.mktemp("release"), n_subjects=2, n_train_concepts=4,
                                         images_per_concept=2, n_test_images=4, image_size=32))


@pytest.fixture
def two_worker_threads():
    """This process uses as many torch threads as each of two workers, so that CPU results are bit-identical."""
    before = torch.get_num_threads()
    torch.set_num_threads(_threads_per_worker(2))
    yield
    torch.set_num_threads(before)


def _configs(release) -> list[TrainConfig]:
    common = {"release": release, "backbone": "resnet18", "image_size": 32, "epochs": 1, "batch_size": 4, "lr": 1e-3,
              "device": "cpu"}
    return [TrainConfig(subject=1, variant="realnet", seed=1, **common),
            TrainConfig(subject=2, variant="no_mse", beta=10.0, seed=2, **common)]


def test_runs_in_two_processes_are_bit_identical_to_the_runs_trained_one_by_one(release, tmp_path,
                                                                                  two_worker_threads):
    configs = _configs(release)
    alone = [train(c, out=tmp_path / f"alone{i}.pt", progress=False) for i, c in enumerate(configs)]
    outs = [tmp_path / "parallel0.pt", tmp_path / "parallel1.pt"]
    assert train_parallel(configs, outs, processes=2, progress=False) == outs
    for config, a, b in zip(configs, alone, outs):
        wa, wb = load_checkpoint(a).model.state_dict(), load_checkpoint(b).model.state_dict()
        initial = build_initial_model(config.resolved())[0].state_dict()
        assert max((wa[k] - initial[k]).abs().max().item() for k in wa if wa[k].is_floating_point()) > 1e-4
        assert wa.keys() == wb.keys()
        for name in wa:
            assert torch.equal(wa[name], wb[name]), name
        meta = load_checkpoint(b).meta
        assert (meta.subject, meta.variant, meta.training["trained_with"]) == (config.subject, config.variant, 1)
        assert meta.metrics["test"] == load_checkpoint(a).meta.metrics["test"]


def test_parallel_runs_refuse_shared_targets_and_finished_checkpoints_before_starting(release, tmp_path):
    configs = _configs(release)
    with pytest.raises(ValueError, match="share a checkpoint"):
        train_parallel(configs, [tmp_path / "same.pt", tmp_path / "same.pt"], processes=2, progress=False)
    (tmp_path / "done.pt").write_bytes(b"")
    with pytest.raises(CheckpointExistsError, match="overwrite"):
        train_parallel(configs, [tmp_path / "done.pt", tmp_path / "new.pt"], processes=2, progress=False)
    assert not (tmp_path / "new.pt").exists()
    with pytest.raises(ValueError, match="at least 1"):
        train_parallel(configs, processes=0, progress=False)


def test_sweep_in_processes_trains_the_runs_and_reports_a_failing_run_by_name(release, capsys):
    status = main(["sweep", "--release", release, "--subjects", "1-2,5", "--processes", "2", *TINY])
    captured = capsys.readouterr()
    assert status == 2  # a run asked for a subject the release lacks: the user's mistake
    trained = [_custom(s) for s in (1, 2)]  # tiny runs are not the paper's recipe: never realnet_r_sNN
    assert all(p.is_file() for p in trained)
    assert all(f"trained: {p}" in captured.out for p in trained)
    assert (load_checkpoint(trained[1]).meta.subject, load_checkpoint(trained[1]).meta.training["steps"]) == (2, 1)
    assert _custom(5).stem in captured.err and "subject 5 is not in the release" in captured.err
    assert "1 of 3 runs failed" in captured.err
    assert not _custom(5).exists() and not list(checkpoints_dir().glob("*.pt"))


def test_sweep_refuses_processes_together_with_lock_step_runs(release, capsys):
    status = main(["sweep", "--release", release, "--subjects", "1-2", "--processes", "2", "--concurrent", "2", *TINY])
    assert status == 2
    assert "choose one" in capsys.readouterr().err
    assert not _custom(1).exists() and not checkpoint_path("realnet_r_s01").exists()
