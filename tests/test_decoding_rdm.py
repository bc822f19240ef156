"""Decoding-RDM engine: agreement with scikit-learn's SVC on the same folds, NeuroRA 1.x preset,
plan, settings and input validation."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from realnet_plugins.errors import DataFormatError
from realnet_plugins.rsa import (
    DecodingSettings,
    ceiling,
    decoding_plan,
    decoding_rdm,
    linear_svm,
    split_half_decoding_rdms,
)


def _trials(n_images=12, n_trials=20, n_channels=5, n_times=3, seed=0):
    """Unit-noise trials plus image patterns of varied strength: some pairs easy, some hard."""
    rng = np.random.default_rng(seed)
    strength = np.linspace(0.0, 1.2, n_images)[rng.permutation(n_images)]
    pattern = rng.standard_normal((n_images, n_channels, n_times)) * strength[:, None, None]
    return pattern[:, None] + rng.standard_normal((n_images, n_trials, n_channels, n_times))


def _pairs(rdm):
    rows, cols = np.triu_indices(rdm.shape[-1], 1)
    return rdm[:, rows, cols]  # (n_times, n_pairs)


@pytest.fixture
def torch_one_thread():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("backend", ["numba", "numpy", "torch"])
def test_svm_accuracies_match_sklearn_svc_on_the_same_folds(backend, request):
    if backend == "torch":
        request.getfixturevalue("torch_one_thread")
    if backend == "numba":
        pytest.importorskip("numba")
    trials = _trials()
    settings = DecodingSettings.paper(seed=3)
    fast = _pairs(decoding_rdm(trials, settings=settings, backend=backend, progress=False))
    reference = _pairs(decoding_rdm(trials, settings=DecodingSettings.paper(
        seed=3, classifier="sklearn-svc"), progress=False))
    one_sample = 1.0 / (2 * trials.shape[1])
    assert reference.min() < 0.65 and reference.max() > 0.9  # hard and easy pairs present
    assert np.mean(np.abs(fast - reference) <= one_sample + 1e-12) >= 0.95
    assert spearmanr(fast.ravel(), reference.ravel())[0] >= 0.99


def test_sklearn_reference_equals_a_direct_loop_over_the_plan():
    trials = _trials(n_images=5, n_trials=10, n_times=2)
    settings = DecodingSettings.paper(seed=1, classifier="sklearn-svc")
    rdm = decoding_rdm(trials, settings=settings, progress=False)
    plan = decoding_plan(5, 10, 2, settings)
    for pair, (i, j) in enumerate(plan.pair_images):
        x = np.concatenate([trials[i], trials[j]])
        y = np.repeat([0, 1], 10)
        for t in range(2):
            folds = plan.test_fold[0, t, pair].reshape(-1)
            accuracy = np.mean([SVC(kernel="linear", C=1.0, tol=1e-3)
                                .fit(x[folds != f, :, t], y[folds != f])
                                .score(x[folds == f, :, t], y[folds == f]) for f in range(5)])
            assert rdm[t, i, j] == pytest.approx(accuracy, abs=1e-12)


def _numba_linear_svm(x, y, *, C):
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    theta, iterations = kernels.fit_linear_svms(x, y, C)
    assert (iterations < kernels.MAX_ITER).all()
    return theta[:, :-1], theta[:, -1]


@pytest.mark.parametrize("solver", [linear_svm, _numba_linear_svm], ids=["batched", "numba"])
@pytest.mark.parametrize("scale", [1e-3, 1.0, 20.0])
def test_linear_svm_is_at_least_as_optimal_as_libsvm_and_decides_alike(scale, solver):
    rng = np.random.default_rng(int(scale * 1000))
    n_problems, n, d = 40, 60, 6
    y = np.repeat([-1.0, 1.0], n // 2)
    separation = rng.uniform(0, 2, (n_problems, 1, 1))
    x = scale * (rng.standard_normal((n_problems, n, d))
                 + separation * y[None, :, None] * rng.standard_normal((n_problems, 1, d)) / 2)
    test = scale * rng.standard_normal((n_problems, 30, d))
    w, b = solver(x, np.broadcast_to(y, (n_problems, n)).copy(), C=1.0)

    def primal(k, weights, intercept):
        return 0.5 * weights @ weights + np.maximum(0, 1 - y * (x[k] @ weights + intercept)).sum()

    for k in range(n_problems):
        model = SVC(kernel="linear", C=1.0, tol=1e-9).fit(x[k], y)
        reference = primal(k, model.coef_[0], model.intercept_[0])
        assert primal(k, w[k], b[k]) <= reference + 1e-7 * (1 + reference)
        expected = model.decision_function(test[k])
        np.testing.assert_allclose(test[k] @ w[k] + b[k], expected,
                                   atol=2e-3 * (1 + np.abs(expected).max()))


def test_linear_svm_refuses_problems_without_both_classes():
    x = np.zeros((2, 4, 3))
    with pytest.raises(ValueError, match="both classes"):
        linear_svm(x, np.array([[-1.0, -1, 1, 1], [1.0, 1, 1, 1]]), C=1.0)
    with pytest.raises(ValueError, match="both classes"):
        linear_svm(x, np.array([[0.0, 0, 1, 1], [-1.0, 1, -1, 1]]), C=1.0)


@pytest.mark.parametrize("solver", [linear_svm, _numba_linear_svm], ids=["batched", "numba"])
def test_degenerate_intercept_is_the_midpoint_libsvm_picks(solver):
    # all samples identical: w = 0 and every b in [-1, 1] is optimal for balanced classes
    x = np.zeros((1, 10, 3))
    y = np.repeat([-1.0, 1.0], 5)[None]
    w, b = solver(x, y, C=1.0)
    model = SVC(kernel="linear", C=1.0).fit(x[0], y[0])
    np.testing.assert_allclose(w[0], model.coef_[0], atol=1e-8)
    assert b[0] == pytest.approx(model.intercept_[0], abs=1e-8)


def test_rdm_is_symmetric_with_zero_diagonal_and_accuracies_in_range():
    trials = _trials(n_images=6, n_trials=10)
    rdm = decoding_rdm(trials, progress=False)
    assert rdm.shape == (3, 6, 6) and rdm.dtype == np.float64
    np.testing.assert_array_equal(rdm, rdm.transpose(0, 2, 1))
    np.testing.assert_array_equal(rdm[:, range(6), range(6)], 0.0)
    assert _pairs(rdm).min() >= 0.0 and _pairs(rdm).max() <= 1.0


def test_same_seed_reproduces_and_another_seed_redraws_the_folds():
    trials = _trials(n_images=6, n_trials=10)
    first = decoding_rdm(trials, settings=DecodingSettings(seed=5), progress=False)
    again = decoding_rdm(trials, settings=DecodingSettings(seed=5), progress=False)
    other = decoding_rdm(trials, settings=DecodingSettings(seed=6), progress=False)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    plan_a, plan_b = (decoding_plan(6, 10, 3, DecodingSettings(seed=s)) for s in (5, 6))
    assert not np.array_equal(plan_a.test_fold, plan_b.test_fold)


def test_threads_do_not_change_the_result():
    trials = _trials(n_images=8, n_trials=10)
    one = decoding_rdm(trials, progress=False, n_threads=1)
    two = decoding_rdm(trials, progress=False, n_threads=2)
    np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("n_per_image", [16, 20, 7])
def test_plan_folds_have_stratified_kfold_sizes_and_fresh_draws(n_per_image):
    settings = DecodingSettings(n_folds=5, n_repeats=2)
    plan = decoding_plan(4, n_per_image, 3, settings)
    labels = np.repeat([0, 1], n_per_image)
    splitter = StratifiedKFold(5, shuffle=True, random_state=0)
    expected = [np.bincount(labels[test], minlength=2)
                for _, test in splitter.split(labels, labels)]
    folds = plan.test_fold.reshape(-1, 2, n_per_image)
    for assignment in folds:
        got = [[int((assignment[c] == f).sum()) for c in range(2)] for f in range(5)]
        assert got == [list(e) for e in expected]
    # different time points and repeats get different assignments
    assert not np.array_equal(plan.test_fold[0, 0], plan.test_fold[0, 1])
    assert not np.array_equal(plan.test_fold[0], plan.test_fold[1])


def test_plan_draws_the_folds_of_each_pair_independently():
    """Every pair gets its own stratified fold assignment (not one assignment shared by all pairs)."""
    settings = DecodingSettings(n_folds=5, n_repeats=2, seed=3)
    n_images, n_per_image = 6, 10
    plan = decoding_plan(n_images, n_per_image, 2, settings)
    n_pairs = n_images * (n_images - 1) // 2
    for repeat in range(2):
        for t in range(2):
            folds = plan.test_fold[repeat, t]  # (n_pairs, 2, m)
            assert len({f.tobytes() for f in folds}) == n_pairs  # 15 distinct assignments
            for image_folds in folds.reshape(-1, n_per_image):  # each pair and class: 2 per fold
                np.testing.assert_array_equal(np.bincount(image_folds, minlength=5), [2] * 5)


def test_split_halves_decode_disjoint_trials_of_each_image(monkeypatch):
    """Each image's trials go to one half or the other, never both, and each half gets n_trials // 2."""
    n_images, n_trials = 4, 9
    trial_ids = np.arange(n_images * n_trials, dtype=float).reshape(n_images, n_trials, 1, 1)
    decoded = []

    def record(trials, **options):
        decoded.append(np.asarray(trials)[..., 0, 0])
        return np.zeros((1, n_images, n_images))

    monkeypatch.setattr(ceiling, "decoding_rdm", record)
    split_half_decoding_rdms(np.broadcast_to(trial_ids, (n_images, n_trials, 2, 3)).copy(), seed=4)
    first, second = decoded
    assert first.shape == second.shape == (n_images, n_trials // 2)
    for image in range(n_images):
        own = set(trial_ids[image].ravel())
        a, b = set(first[image]), set(second[image])
        assert len(a) == len(b) == n_trials // 2 and a <= own and b <= own
        assert not a & b, f"image {image}: trials {sorted(a & b)} are in both halves"


def test_pseudo_trials_use_disjoint_trials_and_drop_the_remainder():
    settings = DecodingSettings(n_pseudo=5, n_repeats=2, seed=2, n_folds=4)
    plan = decoding_plan(3, 22, 2, settings)
    assert plan.pseudo_trials.shape == (2, 3, 2, 4, 5)
    for groups in plan.pseudo_trials.reshape(-1, 20):
        assert len(np.unique(groups)) == 20 and groups.max() < 22
    rdm = decoding_rdm(_trials(n_images=3, n_trials=22), settings=settings, progress=False)
    assert rdm.shape == (3, 3, 3)
    assert not np.array_equal(plan.pseudo_trials[0], plan.pseudo_trials[1])


def _neurora_smooth(acc):
    """NeuroRA 1.x smooth_1d with n = 5, as written there (loop over time points)."""
    n_times = acc.shape[-1]
    out = np.zeros_like(acc)
    for t in range(n_times):
        if 2 <= t < n_times - 2:
            out[..., t] = np.average(acc[..., t - 2:t + 3], axis=-1)
        elif t < 2:
            out[..., t] = np.average(acc[..., :t + 3], axis=-1)
        else:
            out[..., t] = np.average(acc[..., t - 2:], axis=-1)
    return out


def _neurora_reference(trials, settings):
    """NeuroRA 1.x tbyt_decoding_kfold per pair (loops + scikit-learn) on the engine's plan:
    pseudo-trials of n_pseudo, per-time-point stratified folds, SVC(tol), mean over folds and
    repeats, then 5-sample smoothing."""
    n_images, n_trials, _, n_times = trials.shape
    plan = decoding_plan(n_images, n_trials, n_times, settings)
    rdm = np.zeros((n_times, n_images, n_images))
    for pair, (i, j) in enumerate(plan.pair_images):
        accuracy = np.zeros((settings.n_repeats, n_times, settings.n_folds))
        for repeat in range(settings.n_repeats):
            groups = plan.pseudo_trials[repeat, pair]
            x = np.concatenate([trials[i][groups[0]].mean(axis=1),
                                trials[j][groups[1]].mean(axis=1)])
            y = np.repeat([0, 1], groups.shape[1])
            for t in range(n_times):
                folds = plan.test_fold[repeat, t, pair].reshape(-1)
                for f in range(settings.n_folds):
                    svm = SVC(kernel="linear", tol=settings.tol, C=settings.C)
                    svm.fit(x[folds != f, :, t], y[folds != f])
                    accuracy[repeat, t, f] = svm.score(x[folds == f, :, t], y[folds == f])
        smoothed = _neurora_smooth(np.average(accuracy, axis=(0, 2))[None])[0]
        rdm[:, i, j] = rdm[:, j, i] = smoothed
    return rdm


def test_neurora_preset_matches_a_straightforward_neurora_implementation():
    trials = _trials(n_images=6, n_trials=32, n_channels=3, n_times=7, seed=4)
    settings = DecodingSettings.neurora_1x(seed=7)
    assert (settings.n_pseudo, settings.n_repeats, settings.smoothing, settings.tol,
            settings.n_folds) == (5, 2, 5, 1e-4, 5)
    expected = _neurora_reference(trials, settings)
    reference_path = decoding_rdm(trials, settings=DecodingSettings.neurora_1x(
        seed=7, classifier="sklearn-svc"), progress=False)
    np.testing.assert_allclose(reference_path, expected, atol=1e-12)
    fast = decoding_rdm(trials, settings=settings, progress=False)
    # 6 pseudo-trials per image, test folds of 3, 3, 2, 2, 2: one flip moves a fold mean <= 1/10,
    # then halved by the 2 repeats and at most kept by the smoothing
    assert np.mean(np.abs(_pairs(fast) - _pairs(expected)) <= 0.05 + 1e-12) >= 0.95
    assert spearmanr(_pairs(fast).ravel(), _pairs(expected).ravel())[0] >= 0.99


def test_smoothing_and_a_custom_batched_classifier():
    def first_channel(train_x, train_y, test_x, *, C, tol):
        return test_x[:, :, 0]

    trials = _trials(n_images=4, n_trials=10, n_times=6)
    raw = decoding_rdm(trials, settings=DecodingSettings(classifier=first_channel), progress=False)
    plan = decoding_plan(4, 10, 6, DecodingSettings())
    for pair, (i, j) in enumerate(plan.pair_images):
        x = np.concatenate([trials[i], trials[j]])[:, 0]  # (20, n_times)
        y = np.repeat([-1, 1], 10)
        for t in range(6):
            folds = plan.test_fold[0, t, pair].reshape(-1)
            expected = np.mean([np.mean(np.where(x[folds == f, t] > 0, 1, -1) == y[folds == f])
                                for f in range(5)])
            assert raw[t, i, j] == pytest.approx(expected, abs=1e-12)
    for width in (3, 5):
        smoothed = decoding_rdm(trials, settings=DecodingSettings(
            classifier=first_channel, smoothing=width), progress=False)
        for t in range(6):
            low, high = max(t - width // 2, 0), min(t + width - width // 2, 6)
            np.testing.assert_allclose(smoothed[t], raw[low:high].mean(axis=0), atol=1e-12)
    np.testing.assert_allclose(decoding_rdm(trials, settings=DecodingSettings(
        classifier=first_channel, smoothing=5), progress=False), _neurora_smooth(
        raw.transpose(1, 2, 0)).transpose(2, 0, 1), atol=1e-12)


@pytest.mark.parametrize("changes", [
    dict(n_folds=1), dict(n_pseudo=0), dict(n_repeats=0), dict(smoothing=-1), dict(tol=0.0),
    dict(C=-1.0), dict(C=float("nan")), dict(seed=-1), dict(n_folds=2.5), dict(classifier="svc"),
    dict(classifier=3),
])
def test_invalid_settings_are_refused(changes):
    with pytest.raises(ValueError):
        DecodingSettings(**changes)


def test_unknown_classifier_error_lists_the_known_names():
    with pytest.raises(ValueError, match="sklearn-svc"):
        DecodingSettings(classifier="libsvm")


def test_trials_must_be_four_dimensional_and_finite():
    with pytest.raises(DataFormatError, match="n_images, n_trials, n_channels, n_times"):
        decoding_rdm(np.zeros((4, 10, 3)), progress=False)
    trials = _trials(n_images=4, n_trials=10)
    trials[2, 7, 1, 0] = np.nan
    with pytest.raises(DataFormatError, match=r"\(2, 7, 1, 0\)"):
        decoding_rdm(trials, progress=False)
    trials[2, 7, 1, 0] = np.inf
    with pytest.raises(DataFormatError, match="non-finite"):
        decoding_rdm(trials, progress=False)


def test_too_few_trials_for_the_folds_is_a_clear_error():
    with pytest.raises(DataFormatError, match="fewer than n_folds=5"):
        decoding_rdm(_trials(n_images=3, n_trials=4), progress=False)
    with pytest.raises(DataFormatError, match="pseudo-trials of 5"):
        decoding_rdm(_trials(n_images=3, n_trials=20),
                     settings=DecodingSettings(n_pseudo=5), progress=False)


def test_backend_arguments_are_checked():
    trials = _trials(n_images=3, n_trials=10)
    with pytest.raises(ValueError, match="backend"):
        decoding_rdm(trials, backend="jax", progress=False)
    with pytest.raises(ValueError, match="device"):
        decoding_rdm(trials, backend="numpy", device="cuda", progress=False)
    with pytest.raises(ValueError, match="numpy"):
        decoding_rdm(trials, settings=DecodingSettings(classifier="sklearn-svc"), backend="torch",
                     progress=False)


@pytest.mark.parametrize("preset, C", [("paper", 1.0), ("paper", 0.05), ("neurora_1x", 1.0)])
def test_numba_kernels_and_the_numpy_solver_give_the_same_rdms(preset, C):
    pytest.importorskip("numba")
    trials = _trials(n_images=10, n_trials=30, n_channels=6, n_times=3, seed=2)
    settings = getattr(DecodingSettings, preset)(seed=4, C=C)
    compiled = decoding_rdm(trials, settings=settings, backend="numba", progress=False)
    batched = decoding_rdm(trials, settings=settings, backend="numpy", progress=False)
    # the same SVMs: numba ends at the exact optimum, numpy within a relative duality gap of 1e-8 of
    # it; no held-out sample of these seeded problems is close enough to the boundary to tell
    np.testing.assert_allclose(compiled, batched, atol=1e-12)


def test_numba_kernel_converges_on_every_small_pseudo_trial_problem(caplog):
    # NeuroRA-sized problems (2 x 16 pseudo-trials, 4/5 for training) are the least regular ones:
    # none may stop at the iteration limit (a cycling Mehrotra corrector is detected and damped)
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    trials = _trials(n_images=16, n_trials=80, n_channels=17, n_times=8, seed=9)
    settings = DecodingSettings.neurora_1x(seed=2)
    plan = decoding_plan(16, 80, 8, settings)
    data = np.ascontiguousarray(trials.transpose(0, 3, 1, 2))
    for repeat in range(settings.n_repeats):
        _, iterations = kernels.pair_fold_accuracies(
            data, plan.pair_images, np.ascontiguousarray(plan.pseudo_trials[repeat]),
            np.ascontiguousarray(plan.test_fold[repeat]), plan.n_folds, 1.0)
        assert iterations.shape == (len(plan.pair_images) * 8, 5)
        assert iterations.max() < kernels.MAX_ITER
        assert iterations.min() >= 3  # a real interior-point solve happened


def _fold_problems(seed, n_problems=60, n=80, d=8):
    rng = np.random.default_rng(seed)
    y = np.repeat([-1.0, 1.0], n // 2)
    separation = rng.uniform(0, 1.5, (n_problems, 1, 1))
    x = rng.standard_normal((n_problems, n, d)) + separation * y[None, :, None] * rng.standard_normal(
        (n_problems, 1, d)) / 2
    return x, np.broadcast_to(y, (n_problems, n)).copy()


def test_numba_crossover_stops_earlier_at_the_exact_optimum():
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    x, y = _fold_problems(seed=11)
    crossed, crossed_iterations = kernels.fit_linear_svms(x, y, 1.0)
    plain, plain_iterations = kernels.fit_linear_svms(x, y, 1.0, False)
    # the crossover ends most solves before the plain method's stopping rule does
    assert (crossed_iterations <= plain_iterations).all()
    assert np.mean(crossed_iterations < plain_iterations) >= 0.8
    assert crossed_iterations.mean() <= plain_iterations.mean() - 1.5

    def primal(k, theta):
        return 0.5 * theta[:-1] @ theta[:-1] + np.maximum(0, 1 - y[k] * (x[k] @ theta[:-1] + theta[-1])).sum()

    for k in range(len(x)):
        # the optimum itself, up to rounding: never worse than the plain method's iterate (within its
        # duality gap of the optimum) nor than libsvm run to a KKT tolerance of 1e-12
        model = SVC(kernel="linear", C=1.0, tol=1e-12).fit(x[k], y[k])
        tight = primal(k, np.append(model.coef_[0], model.intercept_[0]))
        assert primal(k, crossed[k]) <= primal(k, plain[k]) + 1e-13 * (1 + tight)
        assert primal(k, crossed[k]) <= tight + 1e-13 * (1 + tight)


def test_numba_warm_started_folds_keep_the_accuracies_of_the_plain_method():
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    trials = _trials(n_images=12, n_trials=40, n_channels=8, n_times=4, seed=5)
    settings = DecodingSettings.paper(seed=6)
    plan = decoding_plan(12, 40, 4, settings)
    arguments = (np.ascontiguousarray(trials.transpose(0, 3, 1, 2)), plan.pair_images,
                 np.ascontiguousarray(plan.pseudo_trials[0]), np.ascontiguousarray(plan.test_fold[0]), 5, 1.0)
    accelerated, fast_iterations = kernels.pair_fold_accuracies(*arguments)
    plain, plain_iterations = kernels.pair_fold_accuracies(*arguments, False)
    # every SVM but a pair's first starts warm: fewer iterations on average; the first SVM of each
    # pair (time 0, fold 0) starts cold like the plain method and can only stop earlier
    assert fast_iterations.mean() <= plain_iterations.mean() - 2
    first = np.arange(len(plan.pair_images)) * 4  # rows are pair * n_times + time
    assert (fast_iterations[first, 0] <= plain_iterations[first, 0]).all()
    assert np.mean(fast_iterations[first, 0] < plain_iterations[first, 0]) >= 0.8
    assert fast_iterations.max() < kernels.MAX_ITER
    # the same optimum: equal accuracies, up to a held-out sample on the boundary (one of 16 in a fold)
    difference = np.abs(accelerated - plain)
    assert np.mean(difference == 0) >= 0.99
    assert difference.max() <= 1 / (5 * 16) + 1e-12


def test_numba_quickselect_returns_the_order_statistic_of_a_sort():
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    rng = np.random.default_rng(0)
    for trial in range(300):
        n = int(rng.integers(2, 50))
        values = rng.integers(0, 5, n).astype(float) if trial % 2 else rng.standard_normal(n)  # with ties
        k = int(rng.integers(0, n))
        work = values.copy()
        ordered = np.sort(values)
        assert kernels._select(work, n, k) == ordered[k] == work[k]
        assert (work[:k] <= ordered[k]).all() and (work[k + 1:] >= ordered[k]).all()
        np.testing.assert_array_equal(np.sort(work), ordered)


def test_numba_cholesky_factor_and_solve_match_numpy():
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    rng = np.random.default_rng(3)
    for p in range(1, 21):  # odd and even sizes: the loops take two rows / unknowns per pass
        root = rng.standard_normal((p, p + 3))
        matrix = root @ root.T + 0.1 * np.eye(p)
        factor = np.full((p + 2, p + 2), np.nan)  # only [:p, :p] may be read
        factor[:p, :p] = matrix
        inverse_diagonal = np.empty(p + 2)
        assert kernels._cholesky(factor, p, inverse_diagonal)
        expected = np.linalg.cholesky(matrix)
        np.testing.assert_allclose(np.tril(factor[:p, :p]), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(inverse_diagonal[:p], 1 / np.diag(expected), rtol=1e-13)
        rhs = rng.standard_normal(p)
        out = np.empty(p)
        kernels._cholesky_solve(factor, inverse_diagonal, p, rhs, out)
        np.testing.assert_allclose(out, np.linalg.solve(matrix, rhs), rtol=1e-10, atol=1e-12)
        indefinite = matrix.copy()
        indefinite[-1, -1] = -1.0
        assert not kernels._cholesky(indefinite, p, inverse_diagonal)


def test_numba_fused_kernel_scores_each_fold_like_fit_linear_svms_on_its_training_set():
    # the plain fused kernel must solve exactly the SVMs that fit_linear_svms solves on the training
    # sets of the other back ends (samples in a stable sort by held-out fold) and score the held-out
    # block with them: bit-identical accuracies
    kernels = pytest.importorskip("realnet_plugins.rsa._numba_svm")
    trials = _trials(n_images=5, n_trials=20, n_channels=6, n_times=3, seed=8)
    settings = DecodingSettings.paper(seed=1)
    plan = decoding_plan(5, 20, 3, settings)
    data = np.ascontiguousarray(trials.transpose(0, 3, 1, 2))  # (images, times, trials, channels)
    fused, _ = kernels.pair_fold_accuracies(data, plan.pair_images, np.ascontiguousarray(plan.pseudo_trials[0]),
                                            np.ascontiguousarray(plan.test_fold[0]), 5, 1.0, False)
    expected = np.zeros_like(fused)
    for pair, (i, j) in enumerate(plan.pair_images):
        for t in range(3):
            x = np.concatenate([data[i, t, plan.pseudo_trials[0, pair, 0, :, 0]],
                                data[j, t, plan.pseudo_trials[0, pair, 1, :, 0]]])
            y = np.repeat([-1.0, 1.0], 20)
            folds = plan.test_fold[0, t, pair].reshape(-1)
            order = np.argsort(folds, kind="stable")
            for fold in range(5):
                train = order[folds[order] != fold]
                theta, _ = kernels.fit_linear_svms(x[train][None], y[train][None], 1.0, False)
                test = folds == fold
                decision = x[test] @ theta[0, :-1] + theta[0, -1]
                expected[pair, t] += np.mean((decision > 0) == (y[test] > 0)) / 5
    np.testing.assert_allclose(fused, expected, rtol=0, atol=1e-15)


def test_auto_backend_uses_numba_when_installed_and_numpy_otherwise(monkeypatch):
    from realnet_plugins.rsa import decoding

    has_numba = decoding._numba_kernels() is not None
    assert decoding.resolve_backend("auto") == ("numba" if has_numba else "numpy")
    monkeypatch.setattr(decoding, "_numba_kernels", lambda: None)
    assert decoding.resolve_backend("auto") == "numpy"
    with pytest.raises(ImportError, match="pip install numba"):
        decoding_rdm(_trials(n_images=3, n_trials=10), backend="numba", progress=False)
    with pytest.raises(ValueError, match="numba"):
        decoding.resolve_backend("cupy")


def test_numpy_solver_runs_its_first_phase_in_float32(monkeypatch):
    """The float32 phase must stay float32 (a float64 leak once made it a float64 phase in disguise)
    and do most of the interior-point iterations; the float64 phase only finishes."""
    from realnet_plugins.rsa import decoding

    rows = {"float32": 0, "float64": 0}
    factor = decoding._NumpyOps.factor

    def counting_factor(k):
        rows[str(k.dtype)] += k.shape[0]
        return factor(k)

    monkeypatch.setattr(decoding._NumpyOps, "factor", staticmethod(counting_factor))
    rng = np.random.default_rng(0)
    y = np.repeat([-1.0, 1.0], 32)[None].repeat(50, 0)
    x = rng.standard_normal((50, 64, 6)) + 0.4 * y[:, :, None]
    w, b = linear_svm(x, y, C=1.0)
    assert w.dtype == np.float64
    assert rows["float32"] / 50 >= 5  # iterations per problem in float32
    assert rows["float32"] > 2 * rows["float64"]
