"""The Brain-Score identifiers of the paper's models and the training recipe each stands for.

See DESIGN.md. One identifier = one checkpoint file ``$REALNET_HOME/checkpoints/<identifier>.pt``.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from realnet_plugins.constants import SUBJECTS
from realnet_plugins.errors import UsageError

#: Training variants (SPEC.md, Variants). ``base`` marks an unaligned, imported ImageNet backbone.
VARIANTS: tuple[str, ...] = (
    "realnet", "no_contrastive", "no_mse", "unpaired", "scrambled", "beta0", "across_subject",
)
DEFAULT_BETA = 100.0


@dataclass(frozen=True)
class ModelSpec:
    """What an identifier stands for.

    Attributes:
        identifier: the Brain-Score model identifier.
        backbone: ``'cornet_s'`` or ``'resnet18'``.
        variant: one of :data:`VARIANTS`, or ``'base'`` for an unaligned backbone.
        subject: THINGS-EEG2 subject 1-10; None for ``across_subject`` and ``base``.
        beta: weight of the EEG generation loss (0 for ``beta0`` and ``base``).
    """

    identifier: str
    backbone: str
    variant: str
    subject: int | None
    beta: float

    @property
    def has_eeg_head(self) -> bool:
        return self.variant not in ("base", "beta0")


# identifier stem → (backbone, variant, beta)
_SUBJECT_FAMILIES: dict[str, tuple[str, str, float]] = {
    "realnet": ("cornet_s", "realnet", DEFAULT_BETA),
    "realnet_r": ("resnet18", "realnet", DEFAULT_BETA),
    "realnet_nocont": ("cornet_s", "no_contrastive", DEFAULT_BETA),
    "realnet_nomse": ("cornet_s", "no_mse", DEFAULT_BETA),
    "realnet_unpaired": ("cornet_s", "unpaired", DEFAULT_BETA),
    "realnet_scrambled": ("cornet_s", "scrambled", DEFAULT_BETA),
    "realnet_beta0": ("cornet_s", "beta0", 0.0),
    "realnet_beta1": ("cornet_s", "realnet", 1.0),
    "realnet_beta10": ("cornet_s", "realnet", 10.0),
    "realnet_beta1000": ("cornet_s", "realnet", 1000.0),
}
_SINGLE: dict[str, ModelSpec] = {
    "realnet_acrosssub": ModelSpec("realnet_acrosssub", "cornet_s", "across_subject", None, DEFAULT_BETA),
    "realnet_base_cornet_s": ModelSpec("realnet_base_cornet_s", "cornet_s", "base", None, 0.0),
    "realnet_base_resnet18": ModelSpec("realnet_base_resnet18", "resnet18", "base", None, 0.0),
}
_SUBJECT_RE = re.compile(r"^(?P<stem>[a-z0-9_]+)_s(?P<subject>\d\d)$")


def parse_identifier(identifier: str) -> ModelSpec:
    """The :class:`ModelSpec` of a paper identifier, e.g. ``'realnet_r_s03'``.

    Raises:
        UsageError: (a ``ValueError``) for an unknown identifier, naming the closest valid ones and the
            valid forms.
    """
    if identifier in _SINGLE:
        return _SINGLE[identifier]
    m = _SUBJECT_RE.match(identifier)
    if m and m["stem"] in _SUBJECT_FAMILIES and int(m["subject"]) in SUBJECTS:
        backbone, variant, beta = _SUBJECT_FAMILIES[m["stem"]]
        return ModelSpec(identifier, backbone, variant, int(m["subject"]), beta)
    close = difflib.get_close_matches(str(identifier), all_identifiers(), n=3, cutoff=0.6)
    raise UsageError(
        f"unknown ReAlnet identifier {identifier!r}"
        + (f" (did you mean {' or '.join(close)}?)" if close else "")
        + f"; expected <family>_sNN with NN in 01..10 and family one of {sorted(_SUBJECT_FAMILIES)}, "
        f"or one of {sorted(_SINGLE)}; `realnet list` shows them all"
    )


def identifier_for(backbone: str, variant: str, subject: int | None, beta: float) -> str | None:
    """The paper identifier of a training recipe, or None when the paper has no name for it."""
    for ident in all_identifiers():
        spec = parse_identifier(ident)
        if (spec.backbone, spec.variant, spec.subject, float(spec.beta)) == (backbone, variant, subject, float(beta)):
            return ident
    return None


def all_identifiers() -> list[str]:
    """Every identifier of DESIGN.md (103), in a stable order."""
    ids = [f"{stem}_s{s:02d}" for stem in _SUBJECT_FAMILIES for s in SUBJECTS]
    return ids + list(_SINGLE)
