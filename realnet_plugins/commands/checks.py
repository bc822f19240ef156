"""Checks that verbs run on their arguments before any work (heavy imports inside: call them in ``run``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

from realnet_plugins.errors import UsageError

if TYPE_CHECKING:
    import torch


def refuse_unknown_models(names: Iterable[str]) -> None:
    """Refuse, before any work, a model name that is no paper identifier, pattern, checkpoint or Brain-Score model.

    Raises:
        UsageError: naming the closest registered identifiers (a typo would otherwise be scored as a
            Brain-Score identifier, fail, and be stored as a failure).
    """
    from realnet_plugins.brainscore_bridge.scoring import check_registered
    from realnet_plugins.identifiers import all_identifiers

    known = set(all_identifiers())
    for name in names:
        if name in known or any(c in name for c in "*?[") or name.endswith((".pt", ".pth")) or "/" in name:
            continue
        check_registered("models", name)


def torch_device(text: str) -> torch.device:
    """The torch device named ``text``, refused with advice when it is malformed or absent here."""
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise UsageError(f"expected a torch device such as cpu, cuda or cuda:1, found --device {text!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {text} asks for a CUDA GPU, found none on this machine; use --device cpu")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UsageError(f"--device {text}: found only {torch.cuda.device_count()} CUDA GPU(s); "
                         f"use cuda:0 to cuda:{torch.cuda.device_count() - 1}")
    return device
