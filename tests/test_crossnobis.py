"""Crossnobis / cross-validated Euclidean EEG RDMs against rsatoolbox's calc_rdm(method='crossnobis').

rsatoolbox is the oracle: these tests fail (never skip) without it; scripts/install.sh installs it.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa import (
    NOISE_ESTIMATORS,
    RSATOOLBOX_REQUIREMENT,
    CrossnobisSettings,
    crossnobis_plan,
    crossnobis_rdm,
    noise_covariance,
    noise_precision,
    split_half_crossnobis_rdms,
    split_trial_halves,
)

try:
    from rsatoolbox.data import Dataset
    from rsatoolbox.data.noise import cov_from_residuals, prec_from_residuals
    from rsatoolbox.rdm import calc_rdm
except ImportError as error:  # the oracle tests must fail, not skip
    raise ImportError(f"the RSA oracle tests need rsatoolbox ({RSATOOLBOX_REQUIREMENT}); install it with "
                      f"pip install '{RSATOOLBOX_REQUIREMENT}' (scripts/install.sh does): {error}") from error

N_IMAGES, N_TRIALS, N_CHANNELS, N_TIMES = 6, 14, 4, 3


def _trials(seed: int = 0, signal: float = 1.0) -> np.ndarray:
    """Seeded trials (images, trials, channels, times) with image patterns and correlated channel noise."""
    rng = np.random.default_rng(seed)
    mixing = np.eye(N_CHANNELS) + 0.5 * rng.standard_normal((N_CHANNELS, N_CHANNELS))
    noise = np.einsum("cd,iktd->iktc", mixing, rng.standard_normal((N_IMAGES, N_TRIALS, N_TIMES, N_CHANNELS)))
    patterns = signal * rng.standard_normal((N_IMAGES, 1, N_CHANNELS, N_TIMES))
    return (patterns + noise.transpose(0, 1, 3, 2)).astype(np.float32)


def _residuals(trials: np.ndarray) -> np.ndarray:
    """(times, images * trials, channels): each trial minus its image's mean."""
    x = trials.astype(np.float64)
    return (x - x.mean(axis=1, keepdims=True)).transpose(3, 0, 1, 2).reshape(N_TIMES, -1, N_CHANNELS)


def _oracle(trials: np.ndarray, settings: CrossnobisSettings, precision: np.ndarray | None) -> np.ndarray:
    """rsatoolbox's calc_rdm(method='crossnobis') on the plan's pseudo-trials and folds, per time point."""
    x = trials.astype(np.float64)
    plan = crossnobis_plan(N_IMAGES, N_TRIALS, settings)
    rdm = np.zeros((N_TIMES, N_IMAGES, N_IMAGES))
    for repeat in range(settings.n_repeats):
        pseudo = np.stack([x[i, plan.pseudo_trials[repeat, i]].mean(axis=1) for i in range(N_IMAGES)])
        m = pseudo.shape[1]
        for t in range(N_TIMES):
            dataset = Dataset(pseudo[..., t].reshape(N_IMAGES * m, N_CHANNELS),
                              obs_descriptors={"image": np.repeat(np.arange(N_IMAGES), m),
                                               "fold": plan.test_fold[repeat].ravel()})
            with warnings.catch_warnings():  # rsatoolbox casts a NaN placeholder to int (harmless)
                warnings.filterwarnings("ignore", "invalid value encountered in cast", RuntimeWarning)
                rdm[t] += calc_rdm(dataset, method="crossnobis", descriptor="image", cv_descriptor="fold",
                                   noise=None if precision is None else precision[t]).get_matrices()[0]
    return rdm / settings.n_repeats


SETTINGS = [
    CrossnobisSettings(noise="epoch"),
    CrossnobisSettings(noise="time", noise_estimator="shrinkage_diag", n_folds=3),
    CrossnobisSettings(noise="epoch", noise_estimator="full", n_pseudo=2, n_repeats=2, n_folds=3, seed=4),
    CrossnobisSettings(noise="time", noise_estimator="diag", n_pseudo=3, n_folds=4, seed=9),
    CrossnobisSettings(noise="none", n_folds=4, n_repeats=2, seed=2),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: f"{s.noise}-{s.noise_estimator}-p{s.n_pseudo}")
@pytest.mark.parametrize("backend", ["numpy", "rsatoolbox"])
def test_crossnobis_rdm_equals_rsatoolbox_calc_rdm(settings, backend):
    trials = _trials(seed=1)
    precision = None
    if settings.noise != "none":
        residuals = _residuals(trials)
        dof = N_IMAGES * (N_TRIALS - 1)
        if settings.noise == "time":
            precision = np.stack([prec_from_residuals(r, dof=dof, method=settings.noise_estimator)
                                  for r in residuals])
        else:
            pooled = prec_from_residuals(residuals.reshape(-1, N_CHANNELS), dof=N_TIMES * dof,
                                         method=settings.noise_estimator)
            precision = np.broadcast_to(pooled, (N_TIMES, N_CHANNELS, N_CHANNELS))
    got = crossnobis_rdm(trials, settings=settings, backend=backend, progress=False)
    expected = _oracle(trials, settings, precision)
    assert got.shape == (N_TIMES, N_IMAGES, N_IMAGES) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-8 * np.abs(expected).max())
    np.testing.assert_array_equal(got, got.transpose(0, 2, 1))
    assert np.all(np.diagonal(got, axis1=1, axis2=2) == 0)


def test_without_noise_normalisation_it_is_the_cross_validated_euclidean_distance():
    trials = _trials(seed=2).astype(np.float64)
    settings = CrossnobisSettings(noise="none", n_folds=3, seed=3)
    plan = crossnobis_plan(N_IMAGES, N_TRIALS, settings)
    folds = plan.test_fold[0]
    expected = np.zeros((N_TIMES, N_IMAGES, N_IMAGES))
    for t in range(N_TIMES):
        for i in range(N_IMAGES):
            for j in range(N_IMAGES):
                for f in range(3):
                    a = [trials[k, folds[k] != f, :, t].mean(axis=0) for k in (i, j)]
                    b = [trials[k, folds[k] == f, :, t].mean(axis=0) for k in (i, j)]
                    expected[t, i, j] += (a[0] - a[1]) @ (b[0] - b[1]) / N_CHANNELS / 3
    got = crossnobis_rdm(trials, settings=settings, progress=False)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    # = rsatoolbox's crossnobis with its default (identity) noise, and an explicit identity precision
    np.testing.assert_allclose(got, _oracle(trials, settings, None), rtol=0, atol=1e-12)
    identity = crossnobis_rdm(trials, settings=dataclasses.replace(settings, noise="epoch"),
                              precision=np.eye(N_CHANNELS), progress=False)
    np.testing.assert_allclose(identity, got, rtol=0, atol=1e-12)


@pytest.mark.parametrize("estimator", NOISE_ESTIMATORS)
def test_noise_estimates_equal_rsatoolbox(estimator):
    trials = _trials(seed=3)
    residuals = _residuals(trials)
    dof = N_IMAGES * (N_TRIALS - 1)
    per_time = noise_precision(trials, "time", estimator)
    expected = np.stack([prec_from_residuals(r, dof=dof, method=estimator) for r in residuals])
    np.testing.assert_allclose(per_time, expected, rtol=1e-10, atol=0)
    pooled = noise_covariance(trials, "epoch", estimator)
    expected = cov_from_residuals(residuals.reshape(-1, N_CHANNELS), dof=N_TIMES * dof, method=estimator)
    assert pooled.shape == (N_TIMES, N_CHANNELS, N_CHANNELS)
    for t in range(N_TIMES):
        np.testing.assert_allclose(pooled[t], expected, rtol=1e-10, atol=0)


def test_plan_is_seeded_and_every_image_fills_every_fold():
    settings = CrossnobisSettings(n_folds=4, n_pseudo=3, n_repeats=2, seed=5)
    plan = crossnobis_plan(N_IMAGES, N_TRIALS, settings)
    m = N_TRIALS // 3
    assert plan.pseudo_trials.shape == (2, N_IMAGES, m, 3) and plan.test_fold.shape == (2, N_IMAGES, m)
    for repeat in range(2):
        for image in range(N_IMAGES):
            used = plan.pseudo_trials[repeat, image].ravel()
            assert len(set(used.tolist())) == m * 3 and used.max() < N_TRIALS  # disjoint groups
            np.testing.assert_array_equal(np.sort(plan.test_fold[repeat, image]), np.sort(np.arange(m) % 4))
    assert not np.array_equal(plan.test_fold[0], plan.test_fold[1])  # fresh folds per repeat
    again = crossnobis_plan(N_IMAGES, N_TRIALS, settings)
    np.testing.assert_array_equal(again.test_fold, plan.test_fold)
    np.testing.assert_array_equal(again.pseudo_trials, plan.pseudo_trials)
    other = crossnobis_plan(N_IMAGES, N_TRIALS, dataclasses.replace(settings, seed=6))
    assert not np.array_equal(other.test_fold, plan.test_fold)
    single = crossnobis_plan(N_IMAGES, N_TRIALS, CrossnobisSettings())
    np.testing.assert_array_equal(single.pseudo_trials[0, 0, :, 0], np.arange(N_TRIALS))


def test_distances_are_unbiased_for_identical_patterns_and_grow_with_pattern_differences():
    rng = np.random.default_rng(4)
    n_images, n_trials = 8, 40
    patterns = np.zeros((n_images, 1, N_CHANNELS, 1))
    patterns[4:] = 1.5 * rng.standard_normal((4, 1, N_CHANNELS, 1))  # images 0-3 share the zero pattern
    trials = patterns + rng.standard_normal((n_images, n_trials, N_CHANNELS, 2))
    rdm = crossnobis_rdm(trials, progress=False).mean(axis=0)
    same = rdm[np.triu_indices(4, 1)]
    assert abs(same.mean()) < 0.05 and (same < 0).any()  # unbiased: centred on 0, can be negative
    true = ((patterns[:, 0, :, 0, None] - patterns[:, 0, :, 0].T[None]) ** 2).sum(1) / N_CHANNELS
    different = np.triu_indices(n_images, 1)
    assert np.corrcoef(rdm[different], true[different])[0, 1] > 0.95


def test_split_half_crossnobis_uses_the_split_trial_halves():
    trials = _trials(seed=5)
    settings = CrossnobisSettings(n_folds=3)
    half_a, half_b = split_half_crossnobis_rdms(trials, settings, seed=2, progress=False)
    first, second = split_trial_halves(trials, seed=2)
    np.testing.assert_array_equal(half_a, crossnobis_rdm(first, settings=settings, progress=False))
    np.testing.assert_array_equal(half_b, crossnobis_rdm(second, settings=settings, progress=False))


def test_settings_are_validated_and_recordable():
    record = CrossnobisSettings().record()
    assert record == {"kind": "crossnobis", "n_folds": 5, "n_pseudo": 1, "n_repeats": 1, "noise": "epoch",
                      "noise_estimator": "shrinkage_eye", "seed": 0}
    for bad in (dict(n_folds=1), dict(n_pseudo=0), dict(seed=-1), dict(n_repeats=True), dict(noise="trial"),
                dict(noise_estimator="ledoit")):
        with pytest.raises(ValueError, match="CrossnobisSettings"):
            CrossnobisSettings(**bad)
    with pytest.raises(dataclasses.FrozenInstanceError):
        CrossnobisSettings().noise = "none"


def test_bad_input_gets_a_clear_error():
    trials = _trials()
    with pytest.raises(DataFormatError, match="n_images, n_trials, n_channels, n_times"):
        crossnobis_rdm(trials[0], progress=False)
    with pytest.raises(DataFormatError, match="fewer than n_folds"):
        crossnobis_rdm(trials[:, :3], progress=False)
    broken = trials.copy()
    broken[0, 0, 0, 0] = np.nan
    with pytest.raises(DataFormatError, match="non-finite"):
        crossnobis_rdm(broken, progress=False)
    few = np.random.default_rng(0).standard_normal((2, 5, 30, 1))  # 10 residuals for 30 channels
    with pytest.raises(DataFormatError, match="singular"):
        crossnobis_rdm(few, settings=CrossnobisSettings(noise_estimator="full"), progress=False)
    with pytest.raises(DataFormatError, match="singular"):
        crossnobis_rdm(few, settings=CrossnobisSettings(noise_estimator="full"), backend="rsatoolbox",
                       progress=False)
    with pytest.raises(DataFormatError, match="precision must be"):
        crossnobis_rdm(trials, precision=np.eye(N_CHANNELS + 1), progress=False)
    with pytest.raises(ValueError, match="unknown crossnobis backend"):
        crossnobis_rdm(trials, backend="torch", progress=False)
