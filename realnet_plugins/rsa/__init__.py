"""Representational similarity analysis (SPEC.md, Evaluation): EEG RDMs (pairwise decoding accuracy,
crossnobis / cross-validated Euclidean distance), model RDMs, RDM comparisons (rsatoolbox's methods),
noise ceilings pooled as rsatoolbox pools them, bootstrap intervals, and rsatoolbox interop.

Core library: numpy, scipy, scikit-learn, torch; numba (optional) for the compiled CPU decoding kernels;
rsatoolbox (optional, ``pip install 'rsatoolbox>=0.2,<0.3'``) for the crossnobis ``'rsatoolbox'`` back end
and :func:`to_rsatoolbox` / :func:`from_rsatoolbox`. Everything else runs without it.
"""
from realnet_plugins.rsa.bootstrap import (
    BOOTSTRAP_COMPARISONS,
    BootstrapInterval,
    resample_indices,
    rsa_image_bootstrap,
)
from realnet_plugins.rsa.ceiling import (
    InterSubjectCeiling,
    InterSubjectCeilingInterval,
    SplitHalfCeiling,
    inter_subject_ceiling,
    inter_subject_ceiling_bootstrap,
    pool_rdms,
    split_half_ceiling,
    split_half_decoding_rdms,
    split_trial_halves,
)
from realnet_plugins.rsa.crossnobis import (
    CROSSNOBIS_BACKENDS,
    NOISE_ESTIMATORS,
    NOISE_MODELS,
    CrossnobisPlan,
    CrossnobisSettings,
    crossnobis_plan,
    crossnobis_rdm,
    noise_covariance,
    noise_precision,
    split_half_crossnobis_rdms,
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
from realnet_plugins.rsa.interop import RSATOOLBOX_REQUIREMENT, RDMStack, from_rsatoolbox, to_rsatoolbox
from realnet_plugins.rsa.rdm import (
    COMPARISON_ALIASES,
    COMPARISONS,
    POOLING,
    canonical_comparison,
    compare_rdms,
    model_rdm,
    upper_triangle,
)

__all__ = [
    "BACKENDS",
    "BOOTSTRAP_COMPARISONS",
    "CLASSIFIERS",
    "COMPARISONS",
    "COMPARISON_ALIASES",
    "CROSSNOBIS_BACKENDS",
    "NOISE_ESTIMATORS",
    "NOISE_MODELS",
    "POOLING",
    "RSATOOLBOX_REQUIREMENT",
    "BatchedClassifier",
    "BootstrapInterval",
    "CrossnobisPlan",
    "CrossnobisSettings",
    "DecodingPlan",
    "DecodingSettings",
    "InterSubjectCeiling",
    "InterSubjectCeilingInterval",
    "RDMStack",
    "SplitHalfCeiling",
    "canonical_comparison",
    "compare_rdms",
    "crossnobis_plan",
    "crossnobis_rdm",
    "decoding_plan",
    "decoding_rdm",
    "from_rsatoolbox",
    "inter_subject_ceiling",
    "inter_subject_ceiling_bootstrap",
    "linear_svm",
    "model_rdm",
    "noise_covariance",
    "noise_precision",
    "pool_rdms",
    "resample_indices",
    "resolve_backend",
    "rsa_image_bootstrap",
    "split_half_ceiling",
    "split_half_crossnobis_rdms",
    "split_half_decoding_rdms",
    "split_trial_halves",
    "to_rsatoolbox",
    "upper_triangle",
]
