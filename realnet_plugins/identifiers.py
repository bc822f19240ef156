"""The Brain-Score identifiers of the paper's models and the training recipe each stands for.

See DESIGN.md. One identifier = one checkpoint file ``$REALNET_HOME/checkpoints/<identifier>.pt``.
The identifiers are not listed here: they come from the registries, the variants' identifier
families (:data:`realnet_plugins.variants.VARIANTS`) and the backbones' unaligned baselines
(:data:`realnet_plugins.backbones.BACKBONES`). Their order (:func:`all_identifiers`): each
variant's per-subject families at the variant's own β, then the β-sweep families, then the models
that pool subjects, then the unaligned baselines.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from realnet_plugins.backbones import BACKBONES
from realnet_plugins.constants import SUBJECTS
from realnet_plugins.errors import UsageError
from realnet_plugins.variants import DEFAULT_BETA, VARIANTS, variant_spec

__all__ = ["BASE_VARIANT", "DEFAULT_BETA", "VARIANTS", "ModelSpec", "parse_identifier", "is_paper_identifier",
           "identifier_for", "all_identifiers"]

#: ``ModelSpec.variant`` (and ``meta.variant``) of an unaligned, imported ImageNet backbone; not a
#: training variant.
BASE_VARIANT = "base"


@dataclass(frozen=True)
class ModelSpec:
    """What an identifier stands for.

    Attributes:
        identifier: the Brain-Score model identifier.
        backbone: a key of :data:`~realnet_plugins.backbones.BACKBONES`.
        variant: a key of :data:`~realnet_plugins.variants.VARIANTS`, or :data:`BASE_VARIANT`.
        subject: THINGS-EEG2 subject 1-10; None for pooled models and baselines.
        beta: weight of the EEG generation loss (0 without an EEG head).
        published_file: the authors' published file of this model, if there is one.
    """

    identifier: str
    backbone: str
    variant: str
    subject: int | None
    beta: float
    published_file: str | None = None

    @property
    def is_baseline(self) -> bool:
        """An unaligned ImageNet backbone (imported, never trained here)."""
        return self.variant == BASE_VARIANT

    @property
    def has_eeg_head(self) -> bool:
        return not self.is_baseline and variant_spec(self.variant).has_eeg_head


def _tables() -> tuple[dict[str, tuple[str, str, float, str | None]], dict[str, ModelSpec]]:
    """(per-subject stem → (backbone, variant, β, published file pattern), single identifier → spec)."""
    own_beta, sweep, single = {}, {}, {}
    for variant in VARIANTS.values():
        for family in variant.families:
            beta = variant.family_beta(family)
            if variant.pooled_subjects:
                single[family.stem] = ModelSpec(family.stem, family.backbone, variant.name, None, beta)
            else:
                table = own_beta if family.beta is None else sweep
                table[family.stem] = (family.backbone, variant.name, beta, family.published_file)
    for backbone in BACKBONES.values():
        if backbone.base_identifier:
            single[backbone.base_identifier] = ModelSpec(backbone.base_identifier, backbone.name, BASE_VARIANT, None,
                                                         0.0)
    return {**own_beta, **sweep}, single


_SUBJECT_FAMILIES, _SINGLE = _tables()
_SUBJECT_RE = re.compile(r"^(?P<stem>[a-z0-9_]+)_s(?P<subject>\d\d)$")


def parse_identifier(identifier: str) -> ModelSpec:
    """The :class:`ModelSpec` of a paper identifier, e.g. ``'realnet_r_s03'``.

    Raises:
        UsageError: (a ``ValueError``) for an unknown identifier, naming the closest valid ones and the
            valid forms.
    """
    if identifier in _SINGLE:
        return _SINGLE[identifier]
    m = _SUBJECT_RE.match(str(identifier))
    if m and m["stem"] in _SUBJECT_FAMILIES and int(m["subject"]) in SUBJECTS:
        backbone, variant, beta, published = _SUBJECT_FAMILIES[m["stem"]]
        subject = int(m["subject"])
        return ModelSpec(identifier, backbone, variant, subject, beta,
                         published.format(subject=subject) if published else None)
    close = difflib.get_close_matches(str(identifier), all_identifiers(), n=3, cutoff=0.6)
    raise UsageError(
        f"unknown ReAlnet identifier {identifier!r}"
        + (f" (did you mean {' or '.join(close)}?)" if close else "")
        + f"; expected <family>_sNN with NN in 01..10 and family one of {sorted(_SUBJECT_FAMILIES)}, "
        f"or one of {sorted(_SINGLE)}; `realnet list` shows them all"
    )


def is_paper_identifier(text: str) -> bool:
    """Whether ``text`` is one of the paper's identifiers."""
    try:
        parse_identifier(text)
    except ValueError:
        return False
    return True


def identifier_for(backbone: str, variant: str, subject: int | None, beta: float) -> str | None:
    """The paper identifier of a (backbone, variant, subject, β), or None when the paper has no name for it."""
    for ident in all_identifiers():
        spec = parse_identifier(ident)
        if (spec.backbone, spec.variant, spec.subject, float(spec.beta)) == (backbone, variant, subject, float(beta)):
            return ident
    return None


def all_identifiers() -> list[str]:
    """Every identifier of DESIGN.md (103), in a stable order."""
    ids = [f"{stem}_s{s:02d}" for stem in _SUBJECT_FAMILIES for s in SUBJECTS]
    return ids + list(_SINGLE)
