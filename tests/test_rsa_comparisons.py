"""RDM comparisons beside Spearman and Pearson, each against rsatoolbox's compare(method=...).

rsatoolbox is the oracle: these tests fail (never skip) without it; scripts/install.sh installs it.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import squareform

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa import COMPARISON_ALIASES, COMPARISONS, RSATOOLBOX_REQUIREMENT, compare_rdms

try:
    from rsatoolbox.rdm import RDMs, compare
except ImportError as error:  # the oracle tests must fail, not skip
    raise ImportError(f"the RSA oracle tests need rsatoolbox ({RSATOOLBOX_REQUIREMENT}); install it with "
                      f"pip install '{RSATOOLBOX_REQUIREMENT}' (scripts/install.sh does): {error}") from error

N = 9
M = N * (N - 1) // 2


def _triangles(kind: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.random(shape + (M,))
    return rng.integers(0, 4, shape + (M,)).astype(np.float64)  # many ties


def _square(triangles: np.ndarray) -> np.ndarray:
    return np.vectorize(squareform, signature="(m)->(n,n)")(triangles)


@pytest.mark.parametrize("method", sorted(COMPARISONS))
@pytest.mark.parametrize("kind", ["random", "tied"])
def test_every_comparison_equals_rsatoolbox(method, kind):
    stack = _triangles(kind, (2, 3), seed=1)  # (2, 3, m): batched over two leading axes
    single = _triangles(kind, (), seed=2)
    got = compare_rdms(_square(stack), squareform(single), method)
    assert got.shape == (2, 3)
    expected = compare(RDMs(stack.reshape(-1, M)), RDMs(single[None]), method=method)[:, 0].reshape(2, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    # stack against stack, element-wise
    other = _triangles(kind, (2, 3), seed=3)
    pairwise = compare_rdms(_square(stack), _square(other), method)
    for i, j in itertools.product(range(2), range(3)):
        oracle = compare(RDMs(stack[i, j][None]), RDMs(other[i, j][None]), method=method)[0, 0]
        assert pairwise[i, j] == pytest.approx(oracle, abs=1e-12)


@pytest.mark.parametrize("alias", sorted(COMPARISON_ALIASES))
def test_aliases_name_the_same_comparison(alias):
    a, b = _square(_triangles("tied", (4,), seed=4)), squareform(_triangles("random", (), seed=5))
    np.testing.assert_array_equal(compare_rdms(a, b, alias), compare_rdms(a, b, COMPARISON_ALIASES[alias]))


def test_tau_a_counts_concordant_minus_discordant_pairs():
    x, y = _triangles("tied", (), seed=6), _triangles("tied", (), seed=7)
    signs = np.sign(x[:, None] - x[None, :]) * np.sign(y[:, None] - y[None, :])
    brute_force = signs[np.triu_indices(M, 1)].sum() / (M * (M - 1) / 2)
    assert compare_rdms(squareform(x), squareform(y), "tau-a") == pytest.approx(brute_force, abs=1e-12)


@pytest.mark.parametrize("method", ["corr_cov", "cosine_cov"])
def test_whitened_comparisons_with_pattern_variances_equal_rsatoolbox(method):
    stack, single = _triangles("random", (3,), seed=8), _triangles("tied", (), seed=9)
    sigma_k = np.random.default_rng(10).random(N) + 0.2
    got = compare_rdms(_square(stack), squareform(single), method, sigma_k=sigma_k)
    expected = compare(RDMs(stack), RDMs(single[None]), method=method, sigma_k=sigma_k)[:, 0]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    # unequal variances change the result (the weighting is applied)
    assert np.abs(got - compare_rdms(_square(stack), squareform(single), method)).max() > 1e-3


def test_sigma_k_is_checked():
    a = squareform(_triangles("random", (), seed=11))
    with pytest.raises(DataFormatError, match="full pattern covariance"):
        compare_rdms(a, a, "cosine_cov", sigma_k=np.eye(N))
    with pytest.raises(DataFormatError, match="positive"):
        compare_rdms(a, a, "corr_cov", sigma_k=np.zeros(N))
    with pytest.raises(ValueError, match="sigma_k applies"):
        compare_rdms(a, a, "spearman", sigma_k=np.ones(N))


def test_unknown_method_lists_the_valid_names():
    a = squareform(_triangles("random", (), seed=12))
    with pytest.raises(ValueError) as raised:
        compare_rdms(a, a, "kendall")
    for name in list(COMPARISONS) + list(COMPARISON_ALIASES):
        assert repr(name) in str(raised.value)


@pytest.mark.parametrize("method", sorted(COMPARISONS))
def test_undefined_comparisons_are_nan_where_rsatoolbox_reports_zero(method):
    # documented difference: an RDM whose norm the method divides by is zero (a constant one; for the
    # cosine comparisons an all-zero one) -> NaN, where rsatoolbox returns 0
    constant = np.zeros(M) if method in ("cosine", "cosine_cov") else np.full(M, 0.5)
    other = _triangles("random", (), seed=13)
    assert np.isnan(compare_rdms(squareform(constant), squareform(other), method))
    assert compare(RDMs(constant[None]), RDMs(other[None]), method=method)[0, 0] == 0.0
    with_nan = other.copy()
    with_nan[3] = np.nan
    assert np.isnan(compare_rdms(squareform(with_nan), squareform(other), method))
