"""The training step: one backbone pass, the objective, backward, Adam - for one model or K at once.

Both step kinds read their batch from tensors already on the device (:class:`DeviceData`): the
uint8 image cache, each run's pair → image table, normalised EEG targets and pseudo-labels. A
step receives only the batch's pair indices (K, B) (a slice of the epoch's permutation, also on
the device), gathers images, EEG and labels by index, normalises the images, runs the model(s)
under bf16 autocast (CUDA only), evaluates the objective in float32, and updates the weights. It
returns the loss parts as a (K, 4) device tensor (total, classification, MSE, contrastive; NaN
where a model has no EEG head) and never synchronises with the host.

* :class:`SingleModelStep` trains one :class:`ReAlnet` module (optionally channels_last).
* :class:`StackedModelsStep` trains K models of the same architecture in lock-step:
  ``torch.func.stack_module_state`` stacks their weights and buffers along a new leading
  dimension and ``vmap`` runs the K forward passes as one batched computation (each convolution
  becomes a K-group convolution), which fills a GPU that one batch of 16 leaves idle. Each model
  sees only its own batch, its own BatchNorm statistics and its own loss; the backward pass of
  the summed losses gives every model exactly its own gradient; Adam is elementwise, so Adam on
  the stacked tensors is K independent Adams. Results equal separate runs up to floating-point
  reassociation.

``torch.compile`` (``compile_mode`` "default", "reduce-overhead" or "max-autotune") compiles the
gather + forward + loss function for full batches with static shapes (``dynamic=False``); the
epoch's last, partial batch runs the same function uncompiled, so no epoch triggers a
recompilation and the loss of that batch stays exact (no padding). "reduce-overhead" and
"max-autotune" replay CUDA graphs ("max-autotune" also benchmarks Triton templates against the
library kernels for every matrix product and forward convolution, which makes its first step take
minutes): each step first calls ``torch.compiler.cudagraph_mark_step_begin()``, the step's outputs
are copied out before the next replay, and the data tables (and a stacked model's weights) are
marked as static addresses so that replays do not copy them.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
from torch.func import functional_call, stack_module_state, vmap

from realnet_plugins.architectures import ReAlnet
from realnet_plugins.training.objective import LossParts, Objective, loss_parts

__all__ = ["COMPILE_MODES", "LOSS_COLUMNS", "DeviceData", "SingleModelStep", "StackedModelsStep", "make_step"]

#: Accepted values of ``compile_mode``.
COMPILE_MODES: tuple[str, ...] = ("off", "default", "reduce-overhead", "max-autotune")
#: The modes that replay CUDA graphs (on CUDA devices).
CUDA_GRAPH_MODES: frozenset[str] = frozenset({"reduce-overhead", "max-autotune"})
#: Columns of a step's (K, 4) loss tensor.
LOSS_COLUMNS: tuple[str, ...] = ("loss", "classification", "mse", "contrastive")

ModelState = dict[str, torch.Tensor]
AdamState = dict[str, dict[str, torch.Tensor]]


@dataclass
class DeviceData:
    """The training data of K lock-step runs, resident on one device.

    Attributes:
        images: uint8 (n_images, S, S, 3) training images (shared by the K runs).
        pair_image: int64 (K, P) image row of each run's training pairs.
        pair_eeg: (K, P, 340) normalised EEG targets, in the models' parameter dtype.
        labels: int64 (K, n_images) pseudo-labels of each run's initial model.
        mean, std: float32 (1, 3, 1, 1) image normalisation (RGB) on the device.
        run_index: int64 (K, 1) = 0..K-1, for gathering each run's rows.
    """

    images: torch.Tensor
    pair_image: torch.Tensor
    pair_eeg: torch.Tensor
    labels: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor
    run_index: torch.Tensor = field(init=False, repr=False)

    @classmethod
    def from_arrays(cls, images: np.ndarray, pair_image: Sequence[np.ndarray], pair_eeg: Sequence[np.ndarray],
                    labels: Sequence[np.ndarray], *, mean: Sequence[float], std: Sequence[float],
                    device: torch.device, dtype: torch.dtype) -> "DeviceData":
        """Copy host arrays to the device once (see the attributes for shapes)."""
        if len({len(p) for p in pair_image}) != 1:
            raise ValueError(
                f"runs trained in lock-step need the same number of training pairs; got {[len(p) for p in pair_image]}"
            )
        return cls(
            images=torch.from_numpy(np.array(images, copy=True)).to(device),
            pair_image=torch.from_numpy(np.stack(pair_image).astype(np.int64)).to(device),
            pair_eeg=torch.from_numpy(np.stack(pair_eeg)).to(device=device, dtype=dtype),
            labels=torch.from_numpy(np.stack(labels).astype(np.int64)).to(device),
            mean=torch.tensor(list(mean), dtype=torch.float32, device=device).view(1, 3, 1, 1),
            std=torch.tensor(list(std), dtype=torch.float32, device=device).view(1, 3, 1, 1),
        )

    def __post_init__(self) -> None:
        self.run_index = torch.arange(self.pair_image.shape[0], device=self.pair_image.device).unsqueeze(1)

    @property
    def n_runs(self) -> int:
        return int(self.pair_image.shape[0])

    @property
    def n_pairs(self) -> int:
        return int(self.pair_image.shape[1])

    def gather(self, index: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Batch of pair indices ``index`` (K, B) → images (K, B, 3, S, S), EEG (K, B, 340), labels (K, B).

        The images are normalised as :func:`realnet_plugins.image_cache.normalise_batch` does
        (``(pixels / 255 - mean) / std`` in float32, same operations, contiguous NCHW), then cast to
        ``dtype``. The statistics already live on the device: no host → device copy per step.
        """
        rows = self.pair_image[self.run_index, index]
        k, b = index.shape
        pixels = self.images[rows.reshape(-1)]
        x = pixels.permute(0, 3, 1, 2).to(torch.float32).div_(255.0).sub_(self.mean).div_(self.std)
        x = x.contiguous().to(dtype)
        return x.reshape(k, b, *x.shape[1:]), self.pair_eeg[self.run_index, index], self.labels[self.run_index, rows]


def _parts_tensor(parts: LossParts) -> torch.Tensor:
    """LossParts of shape (K,) → one new (K, 4) float32 tensor (NaN for absent terms)."""
    columns = [parts.total, parts.classification]
    for term in (parts.mse, parts.contrastive):
        columns.append(torch.full_like(parts.total, float("nan")) if term is None else term)
    return torch.stack([c.detach().float() for c in columns], dim=1)


def _adam_to_named(optimizer: torch.optim.Adam, names: Sequence[str], index: int | None) -> AdamState:
    """Adam moments and step counts by parameter name (slice ``index`` of stacked tensors), on the CPU."""
    params = optimizer.param_groups[0]["params"]
    out: AdamState = {}
    for name, param in zip(names, params):
        state = optimizer.state.get(param)
        if not state:
            continue
        entry = {"step": torch.as_tensor(state["step"]).detach().to("cpu", torch.float32).clone().reshape(())}
        for key in ("exp_avg", "exp_avg_sq"):
            value = state[key] if index is None else state[key][index]
            entry[key] = value.detach().cpu().clone()
        out[name] = entry
    return out


def _load_named_adam(optimizer: torch.optim.Adam, names: Sequence[str], states: Sequence[AdamState | None]) -> None:
    """Load per-run named Adam states (one per model; stacked along dim 0 when several)."""
    if all(s is None for s in states):
        return
    if any(s is None for s in states):
        raise ValueError("either every run or none has an optimiser state to resume from")
    full = optimizer.state_dict()
    restored = {}
    for position, name in enumerate(names):
        entries = [s[name] for s in states]  # type: ignore[index]
        steps = {float(e["step"]) for e in entries}
        if len(steps) != 1:
            raise ValueError(f"runs resumed together must be at the same step; {name} has steps {sorted(steps)}")
        stack = len(states) > 1
        restored[position] = {
            "step": entries[0]["step"].clone(),
            "exp_avg": torch.stack([e["exp_avg"] for e in entries]) if stack else entries[0]["exp_avg"],
            "exp_avg_sq": torch.stack([e["exp_avg_sq"] for e in entries]) if stack else entries[0]["exp_avg_sq"],
        }
    full["state"] = restored
    optimizer.load_state_dict(full)


class _StepBase:
    """What both step kinds share: compile dispatch and the optimiser update."""

    def __init__(self, data: DeviceData, *, batch_size: int, lr: float, amp: bool, compile_mode: str) -> None:
        if compile_mode not in COMPILE_MODES:
            raise ValueError(f"compile mode must be one of {COMPILE_MODES}, got {compile_mode!r}")
        self.data = data
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.amp = bool(amp)
        self.compile_mode = compile_mode
        self.device = data.images.device
        if self.amp and self.device.type != "cuda":
            raise ValueError("bf16 autocast is used on CUDA only; set amp off on other devices")
        self._compiled = None
        if compile_mode != "off":
            self._compiled = torch.compile(self._forward_loss, mode=compile_mode, dynamic=False)
        self.optimizer: torch.optim.Adam

    def _mark_static(self, tensors: Sequence[torch.Tensor]) -> None:
        """Tell CUDA graphs that these tensors keep their address: without this, every replay would
        first copy them (the whole image cache, a stacked model's weights) into the graph's inputs."""
        if self.compile_mode in CUDA_GRAPH_MODES:
            for tensor in tensors:
                torch._dynamo.mark_static_address(tensor)

    def _data_tensors(self) -> list[torch.Tensor]:
        d = self.data
        return [d.images, d.pair_image, d.pair_eeg, d.labels, d.mean, d.std, d.run_index]

    def _make_optimizer(self, params: list[torch.Tensor]) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=self.lr, fused=self.device.type == "cuda" or None)

    def _forward_loss(self, index: torch.Tensor) -> LossParts:
        raise NotImplementedError

    def __call__(self, index: torch.Tensor) -> torch.Tensor:
        """One optimisation step on the pairs ``index`` (K, B) → loss parts (K, 4), on the device."""
        full = index.shape[1] == self.batch_size
        if full and self._compiled is not None:
            if self.compile_mode in CUDA_GRAPH_MODES:
                torch.compiler.cudagraph_mark_step_begin()
            parts = self._compiled(index)
        else:
            parts = self._forward_loss(index)
        self.optimizer.zero_grad(set_to_none=True)
        parts.total.sum().backward()
        self.optimizer.step()
        return _parts_tensor(parts)


class SingleModelStep(_StepBase):
    """Training step of one model (K = 1).

    Args:
        model: the model, on the data's device, in train mode (BatchNorm statistics update).
        objective: its loss.
        data: the run's data on the device (K = 1).
        batch_size: the full batch size (smaller batches run uncompiled).
        lr: Adam learning rate.
        amp: bf16 autocast (CUDA only).
        channels_last: NHWC memory format for weights and inputs (faster convolutions on GPUs).
        compile_mode: one of :data:`COMPILE_MODES`.
        adam_state: named Adam state to resume from, or None.
    """

    def __init__(self, model: ReAlnet, objective: Objective, data: DeviceData, *, batch_size: int, lr: float,
                 amp: bool = False, channels_last: bool = False, compile_mode: str = "off",
                 adam_state: AdamState | None = None) -> None:
        if data.n_runs != 1:
            raise ValueError(f"SingleModelStep trains one run; the data holds {data.n_runs}")
        self.model = model.train()
        self.objective = objective
        self.channels_last = bool(channels_last)
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.dtype = next(model.parameters()).dtype
        self.names = [n for n, _ in model.named_parameters()]
        super().__init__(data, batch_size=batch_size, lr=lr, amp=amp, compile_mode=compile_mode)
        self._mark_static(self._data_tensors())
        self.optimizer = self._make_optimizer(list(model.parameters()))
        _load_named_adam(self.optimizer, self.names, [adam_state])

    def _forward_loss(self, index: torch.Tensor) -> LossParts:
        images, eeg, labels = self.data.gather(index, self.dtype)
        x = images[0]
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            out = self.model(x)
        parts = self.objective(out.logits, labels[0], out.eeg, eeg[0] if out.eeg is not None else None)
        return LossParts(*(None if p is None else p.unsqueeze(0) for p in parts))

    def model_states(self) -> list[ModelState]:
        """The model's state dict (CPU copies), as a one-element list."""
        return [{k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}]

    def adam_states(self) -> list[AdamState]:
        """The optimiser state by parameter name (CPU copies), as a one-element list."""
        return [_adam_to_named(self.optimizer, self.names, None)]


class StackedModelsStep(_StepBase):
    """Training step of K models of one architecture in lock-step (``stack_module_state`` + ``vmap``).

    Args:
        models: K models with identical structure (backbone, image size, head or not), on the
            data's device, their weights already loaded (they are copied into stacked tensors;
            the modules themselves are not updated).
        objectives: one per model (β and the generation terms may differ).
        data: the K runs' data on the device.
        batch_size, lr, amp, compile_mode: as for :class:`SingleModelStep` (no channels_last: the
            batched convolutions run on (B, K·C, H, W) grouped tensors).
        adam_states: one named Adam state per model to resume from, or None.
    """

    def __init__(self, models: Sequence[ReAlnet], objectives: Sequence[Objective], data: DeviceData, *,
                 batch_size: int, lr: float, amp: bool = False, compile_mode: str = "off",
                 adam_states: Sequence[AdamState | None] | None = None) -> None:
        if len(models) != data.n_runs or len(objectives) != data.n_runs:
            raise ValueError(
                f"need one model and one objective per run: {len(models)}, {len(objectives)}, {data.n_runs}")
        for m in models:
            m.train()
        self.has_eeg_head = models[0].eeg_head is not None
        self.weights = Objective.stacked(list(objectives), data.images.device)
        params, buffers = stack_module_state(list(models))
        self.params: dict[str, torch.Tensor] = params
        self.buffers: dict[str, torch.Tensor] = buffers
        self.dtype = next(iter(params.values())).dtype
        self.names = list(params)
        self._template = copy.deepcopy(models[0]).to("meta")
        self._batched_forward = vmap(self._one_model_forward, in_dims=(0, 0, 0))
        super().__init__(data, batch_size=batch_size, lr=lr, amp=amp, compile_mode=compile_mode)
        self._mark_static(self._data_tensors() + list(params.values()) + list(buffers.values()))
        self.optimizer = self._make_optimizer(list(params.values()))
        _load_named_adam(self.optimizer, self.names, list(adam_states) if adam_states else [None] * len(models))

    def _one_model_forward(self, params: Mapping[str, torch.Tensor], buffers: Mapping[str, torch.Tensor],
                           x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = functional_call(self._template, (dict(params), dict(buffers)), (x,))
        return (out.logits, out.eeg) if self.has_eeg_head else (out.logits,)

    def _forward_loss(self, index: torch.Tensor) -> LossParts:
        images, eeg, labels = self.data.gather(index, self.dtype)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.amp):
            outputs = self._batched_forward(self.params, self.buffers, images)
        generated = outputs[1] if self.has_eeg_head else None
        return loss_parts(outputs[0], labels, generated, eeg if self.has_eeg_head else None, **self.weights)

    def model_states(self) -> list[ModelState]:
        """Each model's state dict (CPU copies of its slice of the stacked tensors)."""
        merged = {**self.params, **self.buffers}
        return [{k: v[i].detach().cpu().clone() for k, v in merged.items()} for i in range(self.data.n_runs)]

    def adam_states(self) -> list[AdamState]:
        """Each model's named optimiser state (CPU copies)."""
        return [_adam_to_named(self.optimizer, self.names, i) for i in range(self.data.n_runs)]


def make_step(models: Sequence[ReAlnet], objectives: Sequence[Objective], data: DeviceData, *, batch_size: int,
              lr: float, amp: bool, channels_last: bool, compile_mode: str,
              adam_states: Sequence[AdamState | None] | None = None) -> SingleModelStep | StackedModelsStep:
    """A :class:`SingleModelStep` for one model, a :class:`StackedModelsStep` for several."""
    if len(models) == 1:
        return SingleModelStep(models[0], objectives[0], data, batch_size=batch_size, lr=lr, amp=amp,
                               channels_last=channels_last, compile_mode=compile_mode,
                               adam_state=adam_states[0] if adam_states else None)
    return StackedModelsStep(models, objectives, data, batch_size=batch_size, lr=lr, amp=amp,
                             compile_mode=compile_mode, adam_states=adam_states)
