"""The ReAlnet training objective (SPEC.md, Objective).

    L = L_C + β · (w_MSE · L_MSE + w_Cont · L_Cont)

* ``L_C``: cross-entropy of the logits against fixed pseudo-labels, mean over the batch.
* ``L_MSE``: mean squared error over all N × 340 predicted EEG values.
* ``L_Cont = 1 + mean_i(1 − r(S_i, Ŝ_i)) − mean_{i≠j}(1 − r(S_i, Ŝ_j))``, r = Pearson correlation
  over the 340 values of a real (S) and a generated (Ŝ) EEG pattern, over all N² in-batch pairs,
  vectorised and with gradient.

The variants set the weights: ``realnet`` (1, 1), ``no_contrastive`` (1, 0), ``no_mse`` (0, 1);
``beta0`` has no EEG head and L = L_C. ``legacy_detached_contrastive`` adds the contrastive term's
value but no gradient, as the published code did.

Every function accepts leading "model" dimensions, so K models trained in lock-step
(:mod:`realnet_plugins.training.step`) evaluate their K objectives in one call: logits (..., N,
1000), labels (..., N), EEG (..., N, 340) → loss parts of shape (...). Loss parts stay tensors on
the device; nothing here synchronises with the host.

**Batches of one.** The contrastive term needs N ≥ 2 (there are no i ≠ j pairs otherwise). For
N = 1 it is defined as 0 with no gradient; the MSE and classification terms still apply. (With the
paper's 16540 images and batch 16 the last batch has 12 images, so this never happens there.)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F

from realnet_plugins.variants import DEFAULT_BETA, variant_spec

__all__ = ["PEARSON_EPS", "LossParts", "Objective", "pearson_matrix", "contrastive_loss", "loss_parts"]

#: Floor on the centred norm of a 340-vector in the Pearson correlation, so a constant pattern
#: gives r = 0 instead of a division by zero (as in the reference code).
PEARSON_EPS = 1e-8


class LossParts(NamedTuple):
    """Loss terms of one step, each a detached-or-not float32 tensor of shape (...) (one per model).

    ``mse`` and ``contrastive`` are None for models without an EEG head (``beta0``). They are
    always computed for logging, also when their weight is 0 (e.g. ``contrastive`` of
    ``no_contrastive``); only ``total`` carries the weights.
    """

    total: torch.Tensor
    classification: torch.Tensor
    mse: torch.Tensor | None
    contrastive: torch.Tensor | None

    def detach(self) -> "LossParts":
        """The same parts without autograd history."""
        return LossParts(*(None if p is None else p.detach() for p in self))


def _at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32, or kept in its dtype when wider (float64 runs in tests)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def pearson_matrix(real: torch.Tensor, generated: torch.Tensor, eps: float = PEARSON_EPS) -> torch.Tensor:
    """All pairwise Pearson correlations between real and generated EEG patterns.

    Args:
        real: (..., N, D) real patterns S (D = 340 for the head).
        generated: (..., N, D) generated patterns Ŝ.
        eps: floor on each centred vector's Euclidean norm.

    Returns:
        (..., N, N) with ``[..., i, j] = r(S_i, Ŝ_j)``, computed in float32 or wider.
    """
    dtype = torch.promote_types(real.dtype, generated.dtype)
    a = _at_least_float32(real.to(dtype))
    b = _at_least_float32(generated.to(dtype))
    a = a - a.mean(dim=-1, keepdim=True)
    b = b - b.mean(dim=-1, keepdim=True)
    a = a / a.norm(dim=-1, keepdim=True).clamp_min(eps)
    b = b / b.norm(dim=-1, keepdim=True).clamp_min(eps)
    return a @ b.transpose(-1, -2)


def contrastive_loss(real: torch.Tensor, generated: torch.Tensor) -> torch.Tensor:
    """``1 + mean_i(1 − r_ii) − mean_{i≠j}(1 − r_ij)`` over a batch (see the module docstring).

    Args:
        real: (..., N, D) real EEG S.
        generated: (..., N, D) generated EEG Ŝ.

    Returns:
        (...) loss, with gradient; zeros without gradient when N < 2.
    """
    n = real.shape[-2]
    if n < 2:
        dtype = torch.promote_types(torch.promote_types(real.dtype, generated.dtype), torch.float32)
        return torch.zeros(real.shape[:-2], dtype=dtype, device=real.device)
    dissimilarity = 1.0 - pearson_matrix(real, generated)
    matched = dissimilarity.diagonal(dim1=-2, dim2=-1).sum(dim=-1)
    unmatched = dissimilarity.sum(dim=(-2, -1)) - matched
    return 1.0 + matched / n - unmatched / (n * (n - 1))


def loss_parts(
    logits: torch.Tensor,
    labels: torch.Tensor,
    generated: torch.Tensor | None,
    real: torch.Tensor | None,
    *,
    beta: float | torch.Tensor,
    mse_weight: float | torch.Tensor = 1.0,
    contrastive_weight: float | torch.Tensor = 1.0,
    detach_contrastive: bool | torch.Tensor = False,
) -> LossParts:
    """Evaluate the objective for one batch (of one or several models).

    Args:
        logits: (..., N, 1000) class scores (any float dtype; computed in float32).
        labels: (..., N) int64 pseudo-labels.
        generated: (..., N, 340) predicted EEG, or None for a model without a head.
        real: (..., N, 340) normalised training EEG (None iff ``generated`` is None).
        beta: β, a float or a (...) tensor of one β per model.
        mse_weight: weight of L_MSE inside L_G (1 or 0), float or (...) tensor.
        contrastive_weight: weight of L_Cont inside L_G (1 or 0), float or (...) tensor.
        detach_contrastive: add L_Cont's value without its gradient (the published code's
            behaviour); bool or (...) bool tensor.

    Returns:
        :class:`LossParts` of shape (...), float32 or wider, with gradient.
    """
    n_classes = logits.shape[-1]
    lead = logits.shape[:-1]  # (..., N)
    ce = F.cross_entropy(_at_least_float32(logits).reshape(-1, n_classes), labels.reshape(-1), reduction="none")
    classification = ce.reshape(lead).mean(dim=-1)
    if generated is None:
        if real is not None:
            raise ValueError("real EEG was given for a model without an EEG head")
        return LossParts(classification, classification, None, None)
    if real is None:
        raise ValueError("the model predicts EEG but no real EEG was given")
    pred = _at_least_float32(generated)
    target = real.to(pred.dtype)
    mse = (pred - target).square().mean(dim=(-2, -1))
    contrastive = contrastive_loss(target, pred)
    if isinstance(detach_contrastive, torch.Tensor):
        keep = (~detach_contrastive).to(contrastive.dtype)
        contrastive_for_grad = keep * contrastive + (1.0 - keep) * contrastive.detach()
    else:
        contrastive_for_grad = contrastive.detach() if detach_contrastive else contrastive
    generation = mse * mse_weight + contrastive_for_grad * contrastive_weight
    total = classification + generation * beta
    return LossParts(total, classification, mse, contrastive)


@dataclass(frozen=True)
class Objective:
    """The loss of one training run: β and which generation terms are on.

    Attributes:
        beta: weight of L_G (100 in the paper; 0 for ``beta0``).
        mse_weight: 1.0 or 0.0 (``no_mse``).
        contrastive_weight: 1.0 or 0.0 (``no_contrastive``).
        detach_contrastive: the published code's detached contrastive term.
        has_eeg_head: False only for ``beta0``: the loss is L_C alone.
    """

    beta: float = DEFAULT_BETA
    mse_weight: float = 1.0
    contrastive_weight: float = 1.0
    detach_contrastive: bool = False
    has_eeg_head: bool = True

    @classmethod
    def for_variant(cls, variant: str, beta: float, *, legacy_detached_contrastive: bool = False) -> "Objective":
        """The objective of a training variant: its registry entry's head and loss weights.

        Args:
            variant: a key of :data:`realnet_plugins.variants.VARIANTS`.
            beta: β (a variant without an EEG head trains with β = 0).
            legacy_detached_contrastive: reproduce the published code's detached contrastive term.

        Raises:
            ValueError: unknown variant (the message lists the valid ones).
        """
        spec = variant_spec(variant)
        if not spec.has_eeg_head:
            return cls(beta=0.0, mse_weight=0.0, contrastive_weight=0.0, has_eeg_head=False)
        return cls(
            beta=float(beta),
            mse_weight=float(spec.mse_weight),
            contrastive_weight=float(spec.contrastive_weight),
            detach_contrastive=bool(legacy_detached_contrastive),
        )

    def __call__(self, logits: torch.Tensor, labels: torch.Tensor, generated: torch.Tensor | None,
                 real: torch.Tensor | None) -> LossParts:
        """Loss parts of one batch: logits (N, 1000), labels (N,), EEG (N, 340) or None → scalars."""
        return loss_parts(logits, labels, generated, real, beta=self.beta, mse_weight=self.mse_weight,
                          contrastive_weight=self.contrastive_weight, detach_contrastive=self.detach_contrastive)

    @staticmethod
    def stacked(objectives: list["Objective"], device: torch.device | str) -> dict[str, torch.Tensor]:
        """Per-model weights of K objectives as (K,) tensors, the keyword arguments of :func:`loss_parts`.

        Raises:
            ValueError: the objectives mix models with and without an EEG head.
        """
        if len({o.has_eeg_head for o in objectives}) != 1:
            raise ValueError("models trained together must all have an EEG head, or all lack one (beta0)")
        return {
            "beta": torch.tensor([o.beta for o in objectives], dtype=torch.float32, device=device),
            "mse_weight": torch.tensor([o.mse_weight for o in objectives], dtype=torch.float32, device=device),
            "contrastive_weight": torch.tensor([o.contrastive_weight for o in objectives], dtype=torch.float32,
                                               device=device),
            "detach_contrastive": torch.tensor([o.detach_contrastive for o in objectives], dtype=torch.bool,
                                               device=device),
        }
