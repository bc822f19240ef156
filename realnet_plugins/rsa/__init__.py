"""Representational similarity analysis: decoding RDMs from EEG, model RDMs, RDM comparison and
noise ceilings (SPEC.md, Evaluation). Core library: numpy, scipy, scikit-learn, torch;
numba (optional) for the compiled CPU decoding kernels."""
from realnet_plugins.rsa.ceiling import (
    InterSubjectCeiling,
    SplitHalfCeiling,
    inter_subject_ceiling,
    split_half_ceiling,
    split_half_decoding_rdms,
)
from realnet_plugins.rsa.decoding import (
    BACKENDS,
    CLASSIFIERS,
    BatchedClassifier,
    DecodingPlan,
    DecodingSettings,
    decoding_plan,
    decoding_rdm,
    linear_svm,
    resolve_backend,
)
from realnet_plugins.rsa.rdm import COMPARISONS, compare_rdms, model_rdm, upper_triangle

__all__ = [
    "BACKENDS",
    "CLASSIFIERS",
    "COMPARISONS",
    "BatchedClassifier",
    "DecodingPlan",
    "DecodingSettings",
    "InterSubjectCeiling",
    "SplitHalfCeiling",
    "compare_rdms",
    "decoding_plan",
    "decoding_rdm",
    "inter_subject_ceiling",
    "linear_svm",
    "model_rdm",
    "resolve_backend",
    "split_half_ceiling",
    "split_half_decoding_rdms",
    "upper_triangle",
]
