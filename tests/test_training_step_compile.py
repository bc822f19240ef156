"""The compiled training step (torch.compile, the GPU fast path) computes what the eager step computes.

CI has no GPU, so the CUDA-graph parts cannot run here; this pins what can: inductor's compiled
gather + forward + loss on full batches, the uncompiled fallback for the epoch's partial batch,
and the accepted compile modes.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from realnet_plugins.architectures import ReAlnet
from realnet_plugins.constants import IMAGENET_MEAN, IMAGENET_STD
from realnet_plugins.training import TrainConfig
from realnet_plugins.training.objective import Objective
from realnet_plugins.training.step import COMPILE_MODES, CUDA_GRAPH_MODES, DeviceData, make_step

pytestmark = pytest.mark.usefixtures("one_torch_thread")

N_IMAGES, SIZE, BATCH = 28, 32, 8


def _train(compile_mode: str, initial: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Three full batches and one partial batch (4 pairs) → loss parts (4, 4) and the final weights."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(N_IMAGES, SIZE, SIZE, 3), dtype=np.uint8)
    eeg = rng.normal(size=(N_IMAGES, 340)).astype(np.float32)
    labels = rng.integers(0, 1000, size=N_IMAGES)
    data = DeviceData.from_arrays(images, [np.arange(N_IMAGES)], [eeg], [labels], mean=IMAGENET_MEAN,
                                  std=IMAGENET_STD, device=torch.device("cpu"), dtype=torch.float32)
    model = ReAlnet("resnet18", image_size=SIZE)
    model.load_state_dict(initial)
    step = make_step([model], [Objective.for_variant("realnet", 100.0)], data, batch_size=BATCH, lr=2e-5,
                     amp=False, channels_last=False, compile_mode=compile_mode)
    order = torch.randperm(N_IMAGES, generator=torch.Generator().manual_seed(3))
    parts = [step(order[lo:lo + BATCH].view(1, -1)) for lo in range(0, N_IMAGES, BATCH)]
    return torch.cat(parts), step.model_states()[0]


def test_compiled_step_trains_like_the_eager_step():
    torch.manual_seed(0)
    initial = {k: v.clone() for k, v in ReAlnet("resnet18", image_size=SIZE).state_dict().items()}
    eager_parts, eager_weights = _train("off", initial)
    compiled_parts, compiled_weights = _train("default", initial)
    assert eager_parts.shape == (4, 4) and torch.isfinite(eager_parts).all()
    # every loss part of every step, the partial last batch (run uncompiled) included: float32 reassociation only
    torch.testing.assert_close(compiled_parts, eager_parts, rtol=1e-3, atol=1e-5)
    names = [n for n, _ in ReAlnet("resnet18", image_size=SIZE).named_parameters()]
    eager_update = torch.cat([(eager_weights[n] - initial[n]).flatten() for n in names])
    compiled_update = torch.cat([(compiled_weights[n] - initial[n]).flatten() for n in names])
    assert eager_update.abs().mean() > 1e-6  # four Adam steps of lr 2e-5 moved the weights
    # Adam's first steps move each weight by about ±lr whatever the gradient's size, so a weight whose
    # gradient is ~0 may move either way under reassociation: compare the updates as a whole
    assert (compiled_update - eager_update).abs().mean() < 0.05 * eager_update.abs().mean()
    assert torch.corrcoef(torch.stack([eager_update, compiled_update]))[0, 1] > 0.99
    for name in ("layer4.0.bn1.running_mean", "layer4.0.bn1.running_var"):  # BatchNorm statistics updated alike
        key = next(k for k in eager_weights if k.endswith(name))
        torch.testing.assert_close(compiled_weights[key], eager_weights[key], rtol=1e-4, atol=1e-6)


def test_compile_modes_are_checked_by_name():
    assert set(CUDA_GRAPH_MODES) < set(COMPILE_MODES) and "max-autotune" in COMPILE_MODES
    assert TrainConfig(release=".", subject=1, compile="max-autotune").resolved().compile == "max-autotune"
    with pytest.raises(ValueError, match=r"compile must be one of .*'max-autotune'.*got 'fast'"):
        TrainConfig(release=".", subject=1, compile="fast").resolved()
    model = ReAlnet("resnet18", image_size=SIZE)
    data = DeviceData.from_arrays(np.zeros((2, SIZE, SIZE, 3), np.uint8), [np.arange(2)],
                                  [np.zeros((2, 340), np.float32)], [np.zeros(2, int)], mean=IMAGENET_MEAN,
                                  std=IMAGENET_STD, device=torch.device("cpu"), dtype=torch.float32)
    with pytest.raises(ValueError, match="compile mode must be one of"):
        make_step([model], [Objective.for_variant("realnet", 100.0)], data, batch_size=2, lr=1e-3, amp=False,
                  channels_last=False, compile_mode="fast")
