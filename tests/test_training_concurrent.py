"""Several runs trained in lock-step on one device give each run's own result."""
from __future__ import annotations

import pytest
import torch

from realnet_plugins.checkpoints import load_checkpoint
from realnet_plugins.datasets.things_eeg2.fixtures import write_things_eeg2_release
from realnet_plugins.paths import realnet_home
from realnet_plugins.training import TrainConfig, train, train_many
from realnet_plugins.training.loop import build_initial_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def float64():
    """float64 everywhere, so that batched (vmap) and separate runs agree to ~1e-12, not float32 noise."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_things_eeg2_release(tmp_path_factory.mktemp("release"), n_subjects=2, n_train_concepts=8,
                                     images_per_concept=2, n_test_images=6, image_size=32)


def _configs(release, **changes) -> list[TrainConfig]:
    common = dict(release=release, backbone="resnet18", image_size=32, epochs=2, batch_size=5, lr=1e-3, log_every=3)
    common.update(changes)
    return [TrainConfig(subject=1, variant="realnet", seed=1, **common),
            TrainConfig(subject=2, variant="no_mse", beta=10.0, seed=2, **common)]


def _weights(path):
    return load_checkpoint(path).model.state_dict()


def test_two_runs_trained_together_equal_each_run_trained_alone(release, tmp_path, float64):
    configs = _configs(release, epochs=1)
    alone = [train(c, out=tmp_path / f"alone{i}.pt", progress=False) for i, c in enumerate(configs)]
    together = train_many(configs, [tmp_path / "together0.pt", tmp_path / "together1.pt"], progress=False)
    for config, a, b in zip(configs, alone, together):
        initial = build_initial_model(config.resolved())[0].state_dict()
        wa, wb = _weights(a), _weights(b)
        moved = max((wa[k].double() - initial[k].double()).abs().max().item() for k in wa if wa[k].is_floating_point())
        assert moved > 1e-3  # training changed the weights, so the comparison means something
        for name in wa:
            torch.testing.assert_close(wb[name], wa[name], rtol=1e-6, atol=1e-6, msg=name)
        assert load_checkpoint(b).meta.training["trained_with"] == 2
        assert load_checkpoint(b).meta.metrics["test"] == pytest.approx(load_checkpoint(a).meta.metrics["test"],
                                                                         abs=1e-6)
    assert not torch.allclose(_weights(together[0])["eeg_head.fc.weight"],
                              _weights(together[1])["eeg_head.fc.weight"])


def test_interrupted_group_resumes_to_the_uninterrupted_group_result(release, tmp_path):
    configs = _configs(release, checkpoint_every_steps=4)
    reference = train_many(configs, [tmp_path / "r0.pt", tmp_path / "r1.pt"], progress=False)

    def crash(info):
        if info.global_step == 5:  # epoch 1, step 2 of 3; the resume state is from step 4 (epoch 1, step 1)
            raise KeyboardInterrupt

    outs = [tmp_path / "g0.pt", tmp_path / "g1.pt"]
    with pytest.raises(KeyboardInterrupt):
        train_many(configs, outs, progress=False, on_step=crash)
    assert all((realnet_home() / "runs" / name / "resume.pt").is_file() for name in ("g0", "g1"))
    resumed = train_many(configs, outs, progress=False)
    for a, b in zip(reference, resumed):
        wa, wb = _weights(a), _weights(b)
        for name in wa:
            assert torch.equal(wa[name], wb[name]), name


def test_incompatible_runs_are_refused_with_the_reason(release, tmp_path):
    first, second = _configs(release)
    second.batch_size = 4
    with pytest.raises(ValueError, match="batch_size"):
        train_many([first, second], [tmp_path / "a.pt", tmp_path / "b.pt"], progress=False)
    second = TrainConfig(release=release, subject=2, variant="beta0", backbone="resnet18", image_size=32, epochs=2,
                         batch_size=5, lr=1e-3, log_every=3)
    with pytest.raises(ValueError, match="beta0"):
        train_many([first, second], [tmp_path / "c.pt", tmp_path / "d.pt"], progress=False)
    pooled = TrainConfig(release=release, variant="across_subject", backbone="resnet18", image_size=32, epochs=2,
                         batch_size=5, lr=1e-3, log_every=3)
    with pytest.raises(ValueError, match="pair count"):
        train_many([first, pooled], [tmp_path / "e.pt", tmp_path / "f.pt"], progress=False)


def test_eager_lock_step_runs_refuse_bf16_autocast_with_the_reason(release, tmp_path):
    with pytest.raises(ValueError, match="needs a compiled step when several runs train in lock-step"):
        train_many(_configs(release, amp=True), [tmp_path / "a.pt", tmp_path / "b.pt"], progress=False)
    assert not (tmp_path / "a.pt").exists() and not (tmp_path / "b.pt").exists()
