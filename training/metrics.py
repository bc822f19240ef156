"""Held-out EEG-generation metrics (SPEC.md, Objective: "Training also reports").

Both compare generated EEG Ŝ with real EEG S of the same images, never used for training or model
selection unless they are computed on a validation split:

* ``spearman``: Spearman rank correlation between Ŝ and S over the whole images × channels ×
  times array (paper, test set: 0.7785);
* ``pearson_mean_feature``: for each of the 340 channel × time features, the Pearson correlation
  across images; then the mean over features (paper: 0.3081).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["eeg_generation_metrics", "feature_pearson"]


def feature_pearson(generated: np.ndarray, real: np.ndarray) -> np.ndarray:
    """Pearson r across images of every feature.

    Args:
        generated: (M, F) generated EEG, M ≥ 2 images.
        real: (M, F) real EEG.

    Returns:
        float64 (F,); NaN for a feature constant over images in either array.
    """
    a = np.asarray(generated, dtype=np.float64)
    b = np.asarray(real, dtype=np.float64)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denominator = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (a * b).sum(axis=0) / np.where(denominator > 0, denominator, 1.0), np.nan)


def eeg_generation_metrics(generated: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """Spearman over the whole array and mean per-feature Pearson of generated vs real EEG.

    Args:
        generated: (M, 340) (or (M, 17, 20)) generated EEG, same units as ``real``.
        real: the real EEG of the same M images, same shape.

    Returns:
        ``{"spearman": float, "pearson_mean_feature": float, "n_images": M}``; the mean skips
        features that are constant over images (NaN if all are).
    """
    generated = np.asarray(generated)
    real = np.asarray(real)
    if generated.shape != real.shape or generated.ndim < 2 or generated.shape[0] < 2:
        raise ValueError(
            f"generated and real EEG must share a shape (M, ...) with M >= 2; got {generated.shape} and {real.shape}"
        )
    m = generated.shape[0]
    rho = stats.spearmanr(generated.reshape(-1), real.reshape(-1))[0]
    per_feature = feature_pearson(generated.reshape(m, -1), real.reshape(m, -1))
    finite = per_feature[np.isfinite(per_feature)]
    return {
        "spearman": float(rho),
        "pearson_mean_feature": float(finite.mean()) if finite.size else float("nan"),
        "n_images": int(m),
    }
