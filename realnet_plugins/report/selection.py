"""Which models a report compares: names and groups (``realnet_s*``) → :class:`ReportModel` groups.

A name is one of:

* a paper identifier (``realnet_s03``, ``realnet_base_cornet_s``; DESIGN.md): scored through
  Brain-Score, its checkpoint under ``$REALNET_HOME/checkpoints`` gives its layer RDMs;
* a group pattern with ``*``/``?`` (``realnet_s*``, ``realnet_scrambled_s0?``): every paper identifier
  it matches whose checkpoint exists (``<family>_s<pattern>`` matches that family's subjects only);
* a realnet checkpoint file (``runs/seed1.pt``): not a Brain-Score model, so only its layer RDMs,
  fidelity and ImageNet accuracy are used (e.g. the seed-variability models);
* any other Brain-Score model identifier (``resnet101``): scored through Brain-Score only.

Models of one paper family (``realnet_scrambled_s01`` … ``_s10``) form one :class:`ModelGroup`;
a personalised group's models are each compared with their own subject's EEG, a single model
(the base model, ``realnet_acrosssub``, a Brain-Score baseline) with every subject's.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from realnet_plugins.errors import MissingFileError
from realnet_plugins.identifiers import all_identifiers, parse_identifier
from realnet_plugins.paths import checkpoints_dir

#: Display label of each paper family (the paper's names).
FAMILY_LABELS: dict[str, str] = {
    "realnet": "ReAlnet",
    "realnet_r": "ReAlnet-R",
    "realnet_nocont": "W/o ContLoss",
    "realnet_nomse": "W/o MSELoss",
    "realnet_unpaired": "Unpaired",
    "realnet_scrambled": "Scrambled",
    "realnet_beta0": "ReAlnet β=0",
    "realnet_beta1": "ReAlnet β=1",
    "realnet_beta10": "ReAlnet β=10",
    "realnet_beta1000": "ReAlnet β=1000",
    "realnet_acrosssub": "ReAlnet-AcrossSub",
    "realnet_base_cornet_s": "CORnet-S",
    "realnet_base_resnet18": "ResNet18",
}
#: β of the families of the β sweep (``realnet`` itself is β = 100).
BETA_FAMILIES: dict[str, float] = {
    "realnet_beta0": 0.0, "realnet_beta1": 1.0, "realnet_beta10": 10.0, "realnet": 100.0, "realnet_beta1000": 1000.0,
}


@dataclass(frozen=True)
class ReportModel:
    """One model of a report.

    Attributes:
        name: the identifier or checkpoint path as given.
        brainscore_id: the identifier Brain-Score scores, or None for a checkpoint file.
        checkpoint: the realnet checkpoint file, or None for other Brain-Score models.
        family: the paper family (``realnet``, ``realnet_scrambled``, ``realnet_base_cornet_s``),
            ``checkpoint`` for checkpoint files, or the identifier itself for other models.
        subject: the THINGS-EEG2 subject the model was trained on (None: not personalised).
        seed: the training seed recorded in the checkpoint (None when unknown).
    """

    name: str
    brainscore_id: str | None
    checkpoint: Path | None
    family: str
    subject: int | None
    seed: int | None = None

    @property
    def short_name(self) -> str:
        """A name for tables and legends: the identifier, or the checkpoint file's stem."""
        return self.brainscore_id or (self.checkpoint.stem if self.checkpoint else self.name)


@dataclass(frozen=True)
class ModelGroup:
    """Models plotted as one line or bar.

    Attributes:
        label: legend label (``ReAlnet``, ``Scrambled``, ``CORnet-S``).
        family: the family shared by the models.
        models: the models, personalised ones sorted by subject.
        personalised: every model has its own subject (compared with that subject's EEG).
    """

    label: str
    family: str
    models: tuple[ReportModel, ...]
    personalised: bool

    @property
    def subjects(self) -> list[int]:
        """Training subjects of a personalised group, in model order."""
        return [m.subject for m in self.models if m.subject is not None]


def _paper_model(identifier: str) -> ReportModel:
    spec = parse_identifier(identifier)
    family = identifier if spec.subject is None else identifier.rsplit("_s", 1)[0]
    return ReportModel(name=identifier, brainscore_id=identifier, checkpoint=checkpoints_dir() / f"{identifier}.pt",
                       family=family, subject=spec.subject)


def _checkpoint_model(path: Path) -> ReportModel:
    from realnet_plugins.checkpoints import read_checkpoint

    if not path.is_file():
        raise MissingFileError(f"checkpoint file not found: {path} (expected a realnet checkpoint, .pt)")
    _, meta, _ = read_checkpoint(path, verify=False)
    return ReportModel(name=str(path), brainscore_id=None, checkpoint=path, family="checkpoint",
                       subject=meta.subject, seed=meta.seed)


def _matches(identifier: str, pattern: str) -> bool:
    """Whether a paper identifier matches a group pattern.

    A pattern ``<family>_s<subjects>`` with a plain family (``realnet_s*``, ``realnet_r_s0?``) matches
    that family's subjects only (``realnet_s*`` is not ``realnet_scrambled_s01``); any other pattern
    is an ordinary shell-style pattern over the whole identifier.
    """
    family_pattern = re.fullmatch(r"(?P<family>[a-z0-9_]+)_s(?P<subjects>[0-9*?\[\]!-]*)", pattern)
    if family_pattern is None:
        return fnmatch.fnmatchcase(identifier, pattern)
    family, subject = identifier.rsplit("_s", 1) if "_s" in identifier else (identifier, "")
    return family == family_pattern["family"] and subject.isdigit() \
        and fnmatch.fnmatchcase(subject, family_pattern["subjects"])


def resolve_models(names: Sequence[str]) -> tuple[list[ReportModel], list[str]]:
    """Expand names and group patterns into models.

    Args:
        names: identifiers, group patterns with ``*``/``?``, checkpoint paths, other Brain-Score ids.

    Returns:
        ``(models, notes)``: models in the given order without duplicates; notes say which names
        matched nothing and which paper identifiers have no checkpoint (those are left out).
    """
    known = set(all_identifiers())
    models: list[ReportModel] = []
    notes: list[str] = []
    for name in names:
        if any(c in name for c in "*?["):
            matched = [i for i in all_identifiers() if _matches(i, name)]
            present = [i for i in matched if (checkpoints_dir() / f"{i}.pt").is_file()]
            if not present:
                notes.append(f"{name!r} matches no checkpoint under {checkpoints_dir()}"
                             + (f" ({len(matched)} identifiers match, none trained or imported)" if matched else ""))
            models += [_paper_model(i) for i in present]
        elif name in known:
            if not (checkpoints_dir() / f"{name}.pt").is_file():
                notes.append(f"{name}: no checkpoint at {checkpoints_dir() / (name + '.pt')}; left out")
                continue
            models.append(_paper_model(name))
        elif name.endswith((".pt", ".pth")) or "/" in name:
            models.append(_checkpoint_model(Path(name)))
        else:
            models.append(ReportModel(name=name, brainscore_id=name, checkpoint=None, family=name, subject=None))
    unique: dict[str, ReportModel] = {}
    for model in models:
        unique.setdefault(model.name, model)
    return list(unique.values()), notes


def group_models(models: Sequence[ReportModel]) -> list[ModelGroup]:
    """Group models by family, in order of first appearance; personalised groups sorted by subject.

    A family with one model per subject (all subjects distinct) is personalised; checkpoint files
    form one group per file (their family says nothing about what they are).
    """
    families: dict[str, list[ReportModel]] = {}
    for model in models:
        key = model.name if model.family == "checkpoint" else model.family
        families.setdefault(key, []).append(model)
    groups = []
    for key, members in families.items():
        subjects = [m.subject for m in members]
        personalised = all(s is not None for s in subjects) and len(set(subjects)) == len(subjects) \
            and members[0].family != "checkpoint"
        if personalised:
            members = sorted(members, key=lambda m: m.subject)  # type: ignore[arg-type, return-value]
        label = FAMILY_LABELS.get(members[0].family, members[0].short_name)
        groups.append(ModelGroup(label=label, family=members[0].family, models=tuple(members),
                                 personalised=personalised))
    return groups
