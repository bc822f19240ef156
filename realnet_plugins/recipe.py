"""The paper's training recipe (SPEC.md, Objective), in one place, and how a model departs from it.

A run that differs from the recipe never takes a paper identifier by default
(:func:`realnet_plugins.training.default_checkpoint_path`): it is saved under its run name in
``checkpoints/custom/``. A user may still name the identifier (``realnet train --as realnet_s01``);
the checkpoint then records its ``deviations`` (``{field: [paper value, this model's value]}``),
and ``realnet list`` / ``realnet info`` show them.
"""
from __future__ import annotations

from typing import Any, Mapping

__all__ = ["PAPER_RECIPE", "INIT_WEIGHTS", "PAPER_INIT_WEIGHTS", "PAPER_WEIGHTS", "recipe_deviations",
           "checkpoint_deviations", "describe_deviations"]

#: The paper's settings of every training field that changes the result (TrainConfig's defaults).
PAPER_RECIPE: dict[str, Any] = {
    "epochs": 30,
    "batch_size": 16,
    "lr": 2e-5,
    "image_size": 224,
    "seed": 2023,
    "normalisation": "scalar",
    "legacy_detached_contrastive": False,
    "validation_fraction": 0.0,
    "selection": "last",
    "max_steps": None,
}
#: The deviations key of a run's initial weights.
INIT_WEIGHTS = "init_weights"
#: What the recipe starts from.
PAPER_INIT_WEIGHTS = "the backbone's ImageNet release, verified by its published hash"
#: What an unaligned baseline (or a checkpoint not trained here) should hold.
PAPER_WEIGHTS = "the published weights, verified by their hash"


def recipe_deviations(settings: Mapping[str, Any], init_weights: str | None) -> dict[str, list]:
    """How a run's settings differ from :data:`PAPER_RECIPE`.

    Args:
        settings: the run's value of each recipe field (missing fields count as the recipe's).
        init_weights: None when the run starts from the verified ImageNet release; otherwise a
            description of what it starts from.

    Returns:
        ``{field: [paper value, run value]}`` in the recipe's order (empty: the paper's recipe).
    """
    differ = {name: [paper, settings[name]] for name, paper in PAPER_RECIPE.items()
              if name in settings and settings[name] != paper}
    if init_weights is not None:
        differ[INIT_WEIGHTS] = [PAPER_INIT_WEIGHTS, init_weights]
    return differ


def checkpoint_deviations(meta: Any) -> dict[str, list]:
    """A checkpoint's departures from the paper's recipe.

    The recorded ``meta.deviations`` when there is one; for checkpoints written before it was
    recorded, what the rest of the record shows: a trained model's ``training`` settings against
    the recipe (and whether it started from random weights), an imported ImageNet file whose
    release was never checked, or weights that are neither trained nor imported (fixtures, demos).

    Args:
        meta: a :class:`realnet_plugins.checkpoints.CheckpointMeta`.
    """
    if meta.deviations is not None:
        return dict(meta.deviations)
    source = str(meta.source)
    if source == "trained":
        training = dict(meta.training or {})
        init = training.get(INIT_WEIGHTS) or {}
        unchecked = "random" if init.get("kind") == "random" else "not checked against the release"
        return recipe_deviations(training, unchecked)
    if source.startswith("imported:published-realnet:"):
        return {}
    if source.startswith("imported:"):
        return {"weights": [PAPER_WEIGHTS, "imported before releases were checked"]}
    return {"weights": [PAPER_WEIGHTS, source]}


def describe_deviations(deviations: Mapping[str, list]) -> str:
    """One line, e.g. ``"epochs 2 (paper 30); max_steps 5 (paper None); init_weights: random"``; ``""`` for none."""
    parts = []
    for name, (paper, run) in deviations.items():
        described = name in (INIT_WEIGHTS, "weights")  # the paper's side is a sentence: show this model's
        parts.append(f"{name}: {run}" if described else f"{name} {run} (paper {paper})")
    return "; ".join(parts)
