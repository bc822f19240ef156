"""Pairwise-decoding RDMs from EEG trials (SPEC.md, Evaluation: EEG RDM).

For every image pair and time point, the trials of the two images are the samples, the channels
the features; a linear SVM (C-SVC with an unregularised intercept, as libsvm's
``SVC(kernel='linear')``) is trained and tested with stratified k-fold cross-validation, and the
dissimilarity is the mean held-out accuracy over folds (0.5 = indistinguishable). The result is one
RDM per time point, symmetric with a zero diagonal.

The default classifier, ``'svm'``, solves every small SVM with a primal-dual interior-point method
(Mehrotra predictor-corrector on the dual QP, Newton systems reduced to the ``n_channels + 1``
primal variables), then sets each intercept to the midpoint of its interval of optimal values,
which is libsvm's rule when no support vector is free. Back ends: ``'numba'`` (compiled CPU
kernels, :mod:`realnet_plugins.rsa._numba_svm`, parallel over problems: the fast CPU path),
``'numpy'`` (the same method batched over problems in numpy: no compiler needed), ``'torch'``
(batched, any torch device), ``'triton'`` (one fused GPU program per SVM,
:mod:`realnet_plugins.rsa._triton_svm`: the fast GPU path); ``'auto'`` picks ``'numba'`` when numba
is installed, else ``'numpy'`` (given a CUDA ``device``: ``'triton'`` when triton is installed, else
``'torch'``). The classifier ``'sklearn-svc'`` fits scikit-learn's ``SVC`` per problem and is the
slow reference.

Random choices (pseudo-trial groups, fold assignment) come from :func:`decoding_plan`, which any
reference implementation can reuse to decode on exactly the same folds.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import logging
import math
import os
from typing import Any, Callable, Iterator, Protocol

import numpy as np
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from realnet_plugins.errors import DataFormatError

__all__ = [
    "BACKENDS",
    "BatchedClassifier",
    "CLASSIFIERS",
    "DecodingPlan",
    "DecodingSettings",
    "decoding_plan",
    "decoding_rdm",
    "linear_svm",
    "pseudo_trial_groups",
    "shuffled_folds",
    "sklearn_svc_decisions",
    "svm_decisions",
    "choose_backend",
    "resolve_backend",
]

#: Back ends of :func:`decoding_rdm` (``'auto'``: see :func:`resolve_backend`).
BACKENDS: tuple[str, ...] = ("auto", "numba", "numpy", "torch", "triton")

logger = logging.getLogger(__name__)


class BatchedClassifier(Protocol):
    """A classifier that trains and tests a batch of independent binary problems at once.

    Arrays are numpy arrays for ``backend='numpy'`` and torch tensors (on the chosen device) for
    ``backend='torch'``; all are float64.

    Args:
        train_x: training samples, shape (n_problems, n_train, n_features).
        train_y: training labels in {-1, +1}, shape (n_problems, n_train).
        test_x: held-out samples, shape (n_problems, n_test, n_features).
        C: soft-margin penalty.
        tol: stopping tolerance of the underlying solver (libsvm's ``tol`` for ``'sklearn-svc'``).

    Returns:
        Decision values, shape (n_problems, n_test); a value > 0 predicts label +1, else -1.
    """

    def __call__(self, train_x: Any, train_y: Any, test_x: Any, *, C: float, tol: float) -> Any: ...


@dataclasses.dataclass(frozen=True)
class DecodingSettings:
    """How decoding RDMs are computed. Use :meth:`paper` or :meth:`neurora_1x` for the presets.

    Attributes:
        n_folds: folds of the stratified cross-validation (each image of a pair is one class).
        n_pseudo: trials averaged into one pseudo-trial (1 = single trials). As in NeuroRA, each
            image keeps ``n_trials // n_pseudo`` pseudo-trials built from randomly chosen trials;
            the ``n_trials % n_pseudo`` left-over trials are left out of that repeat.
        n_repeats: repetitions with fresh pseudo-trial groups and folds; accuracies are averaged.
        smoothing: width in samples of the moving average applied to each pair's accuracy time
            course (0 or 1 = none). NeuroRA 1.x uses 5, with windows cut short at the edges
            (``[t - w // 2, t + w - w // 2)`` clipped to the time axis).
        tol: stopping tolerance handed to the classifier. libsvm (``'sklearn-svc'``) stops when its
            optimality violation is below ``tol``; the batched ``'svm'`` solver always converges to
            a relative duality gap of 1e-8, i.e. further than libsvm at any ``tol``.
        C: soft-margin penalty of the linear SVM.
        seed: seed of every random choice (see :func:`decoding_plan`).
        classifier: ``'svm'`` (batched solver), ``'sklearn-svc'`` (scikit-learn reference, slow),
            or a callable following :class:`BatchedClassifier`.
    """

    n_folds: int = 5
    n_pseudo: int = 1
    n_repeats: int = 1
    smoothing: int = 0
    tol: float = 1e-3
    C: float = 1.0
    seed: int = 0
    classifier: str | Callable[..., Any] = "svm"

    def __post_init__(self) -> None:
        for name, minimum in (("n_folds", 2), ("n_pseudo", 1), ("n_repeats", 1), ("smoothing", 0),
                              ("seed", 0)):
            value = getattr(self, name)
            is_integer = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
            if not is_integer or value < minimum:
                raise ValueError(f"DecodingSettings.{name} must be an integer >= {minimum}; "
                                 f"found {value!r}.")
        for name in ("tol", "C"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and value > 0):
                raise ValueError(f"DecodingSettings.{name} must be a finite number > 0; "
                                 f"found {value!r}.")
        if isinstance(self.classifier, str):
            if self.classifier not in CLASSIFIERS:
                raise ValueError(f"unknown classifier {self.classifier!r}; expected one of "
                                 f"{sorted(CLASSIFIERS)} or a callable (see BatchedClassifier).")
        elif not callable(self.classifier):
            raise ValueError("DecodingSettings.classifier must be a name in "
                             f"{sorted(CLASSIFIERS)} or a callable; found {self.classifier!r}.")

    @classmethod
    def paper(cls, **changes: Any) -> DecodingSettings:
        """The paper's plain setting (the default): single trials, 5 folds, 1 repeat, no
        smoothing."""
        return cls(**changes)

    @classmethod
    def neurora_1x(cls, **changes: Any) -> DecodingSettings:
        """NeuroRA 1.x ``eegRDM_bydecoding`` with ``time_win=1, time_step=1``: pseudo-trials of 5,
        2 repeats, 5 folds, libsvm ``tol=1e-4``, 5-sample smoothing of each accuracy time course."""
        preset: dict[str, Any] = dict(n_folds=5, n_pseudo=5, n_repeats=2, smoothing=5, tol=1e-4)
        preset.update(changes)
        return cls(**preset)


@dataclasses.dataclass(frozen=True)
class DecodingPlan:
    """Every random choice of one decoding run (see :func:`decoding_plan`).

    Attributes:
        pair_images: image indices ``(i, j)``, ``i < j``, shape (n_pairs, 2), in the row-major order
            of the upper triangle (``np.triu_indices(n_images, 1)``). Image ``i`` has label -1,
            image ``j`` label +1.
        pseudo_trials: trial indices averaged into each pseudo-trial, shape
            (n_repeats, n_pairs, 2, n_pseudo_trials, n_pseudo); axis 2 is the image of the pair.
        test_fold: fold in which each pseudo-trial is held out, shape
            (n_repeats, n_times, n_pairs, 2, n_pseudo_trials), int8. Folds are drawn afresh for
            every repeat, time point and pair, as NeuroRA does.
        n_folds: number of folds.
    """

    pair_images: np.ndarray
    pseudo_trials: np.ndarray
    test_fold: np.ndarray
    n_folds: int


def decoding_plan(n_images: int, n_trials: int, n_times: int,
                  settings: DecodingSettings) -> DecodingPlan:
    """Draw the pseudo-trial groups and fold assignment of a decoding run from ``settings.seed``.

    Pseudo-trials: for each repeat, pair and image, the trials are shuffled and the first
    ``n_pseudo_trials * n_pseudo`` are averaged in consecutive groups of ``n_pseudo`` (single trials
    keep their order: the folds are random anyway). Folds: stratified like scikit-learn's
    ``StratifiedKFold(shuffle=True)`` - the per-class fold sizes are those scikit-learn allocates
    (image ``i`` gets folds ``k % n_folds`` for ``k < m``, image ``j`` for ``m <= k < 2m``), in a
    random order per class.

    Args:
        n_images: number of images (conditions).
        n_trials: trials per image.
        n_times: time points.
        settings: decoding settings (``n_folds``, ``n_pseudo``, ``n_repeats``, ``seed`` are used).

    Returns:
        The plan; the same arguments always give the same plan.
    """
    n_pseudo_trials = _pseudo_trials_per_image(n_trials, settings)
    rows, cols = np.triu_indices(n_images, 1)
    pair_images = np.stack([rows, cols], axis=1)
    n_pairs = len(pair_images)
    rng = np.random.default_rng(settings.seed)
    pseudo_trials = pseudo_trial_groups(rng, (settings.n_repeats, n_pairs, 2), n_trials, n_pseudo_trials,
                                        settings.n_pseudo)
    m, k = n_pseudo_trials, settings.n_folds
    class_folds = np.stack([np.arange(m) % k, np.arange(m, 2 * m) % k]).astype(np.int8)  # (2, m)
    test_fold = np.empty((settings.n_repeats, n_times, n_pairs, 2, m), dtype=np.int8)

    def assign(repeat: int, t: int, keys: np.ndarray) -> None:
        test_fold[repeat, t] = shuffled_folds(class_folds, keys)

    # the keys come from the one random stream in order; the sorts (which release the GIL) run on
    # every CPU, with a bounded number of key arrays in flight
    workers = min(_cpu_threads(None), settings.n_repeats * n_times)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        pending: list[concurrent.futures.Future] = []
        for repeat in range(settings.n_repeats):
            for t in range(n_times):
                if len(pending) >= 2 * workers:
                    pending.pop(0).result()
                pending.append(pool.submit(assign, repeat, t,
                                           rng.random((n_pairs, 2, m), dtype=np.float32)))
        for future in pending:
            future.result()
    return DecodingPlan(pair_images=pair_images, pseudo_trials=pseudo_trials, test_fold=test_fold,
                        n_folds=k)


def pseudo_trial_groups(rng: np.random.Generator, shape: tuple[int, ...], n_trials: int,
                        n_pseudo_trials: int, n_pseudo: int) -> np.ndarray:
    """Trial indices averaged into each pseudo-trial, for every entry of ``shape`` (the plan convention).

    With ``n_pseudo == 1`` every trial is its own pseudo-trial, in order, and nothing is drawn. Otherwise
    one float32 key per trial is drawn from ``rng`` for every entry of ``shape`` (one array, C order),
    the trials are sorted by key and the first ``n_pseudo_trials * n_pseudo`` grouped consecutively.

    Args:
        rng: the plan's random stream (advanced only when ``n_pseudo > 1``).
        shape: leading shape, e.g. (n_repeats, n_pairs, 2) for decoding, (n_repeats, n_images) for
            crossnobis.
        n_trials: trials per image.
        n_pseudo_trials: pseudo-trials per image (``n_trials // n_pseudo``).
        n_pseudo: trials per pseudo-trial.

    Returns:
        int32 (*shape, n_pseudo_trials, n_pseudo) (a read-only broadcast view when ``n_pseudo == 1``).
    """
    shape = tuple(shape)
    if n_pseudo == 1:
        return np.broadcast_to(np.arange(n_trials, dtype=np.int32)[:, None], shape + (n_trials, 1))
    keys = rng.random(shape + (n_trials,), dtype=np.float32)
    order = np.argsort(keys, axis=-1, kind="stable")[..., :n_pseudo_trials * n_pseudo]
    return order.astype(np.int32).reshape(shape + (n_pseudo_trials, n_pseudo))


def shuffled_folds(class_folds: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Fold labels in a random order per class: ``class_folds`` (..., m) permuted along the last axis by
    the stable argsort of ``keys`` (broadcast against it), as :func:`decoding_plan` assigns folds."""
    return np.take_along_axis(np.broadcast_to(class_folds, keys.shape),
                              np.argsort(keys, axis=-1, kind="stable"), axis=-1)


def decoding_rdm(trials: np.ndarray, *, settings: DecodingSettings | None = None,
                 backend: str = "auto", device: Any = None, progress: bool = True,
                 n_threads: int | None = None) -> np.ndarray:
    """Pairwise-decoding RDMs, one per time point.

    Args:
        trials: EEG trials, shape (n_images, n_trials, n_channels, n_times), any real dtype (the
            computation is float64); for THINGS-EEG2 test data (200, 80, 17, 20).
        settings: decoding settings; None means :meth:`DecodingSettings.paper`.
        backend: one of :data:`BACKENDS`: ``'numba'`` (compiled CPU kernels), ``'numpy'``,
            ``'torch'``, ``'triton'`` (fused GPU kernel, built-in SVM only), or ``'auto'`` (see
            :func:`resolve_backend`). A custom classifier or ``'sklearn-svc'`` receives numpy
            arrays on the CPU back ends and tensors on ``'torch'`` (``'sklearn-svc'`` needs a CPU
            back end). All back ends give the same RDMs up to the solver tolerance: ``'numba'``
            warm-starts and ends each SVM at the exact optimum, the others stop within a relative
            duality gap of 1e-8, so about 5 in 10 000 accuracies differ by one held-out sample
            (one on the decision boundary).
        device: torch device for ``backend='torch'`` or ``'triton'`` (the CPU only under
            ``TRITON_INTERPRET=1``); None chooses (:func:`choose_backend`: the GPU when torch sees
            one); must be None for the CPU back ends.
        progress: show a tqdm progress bar (only where the output is a terminal).
        n_threads: CPU threads of the ``'numba'`` and ``'numpy'`` back ends (default: the number
            of CPUs); results do not depend on it.

    Returns:
        RDMs, shape (n_times, n_images, n_images), float64: dissimilarity = mean held-out accuracy
        (0.5 = chance), symmetric, zero diagonal.

    Raises:
        DataFormatError: ``trials`` is not 4-D, holds NaN/inf, has fewer than 2 images, or too few
            trials for ``n_folds`` pseudo-trials per image.
        ValueError: unknown backend, or a device given with a CPU backend.
        ImportError: ``backend='numba'`` without numba, ``'triton'`` without triton installed.
    """
    settings = DecodingSettings.paper() if settings is None else settings
    data = _checked_trials(trials)
    n_images, n_trials, _, n_times = data.shape
    _pseudo_trials_per_image(n_trials, settings)
    if settings.classifier == "svm":  # the built-in solver runs on every back end: let the machine choose
        backend, device = choose_backend(backend, device)
    runner = _Runner(settings, backend, device)
    plan = decoding_plan(n_images, n_trials, n_times, settings)
    n_pairs = len(plan.pair_images)
    accuracy = np.zeros((n_pairs, n_times))
    pairs_per_chunk = max(1, runner.problems_per_chunk // (n_times * settings.n_folds))
    chunks = [(repeat, slice(start, min(start + pairs_per_chunk, n_pairs)))
              for repeat in range(settings.n_repeats)
              for start in range(0, n_pairs, pairs_per_chunk)]
    bar = tqdm(total=n_pairs * settings.n_repeats, unit="pair", desc="decoding RDM",
               disable=None if progress else True)

    data_on_backend = runner.prepare(data)

    def work(chunk: tuple[int, slice]) -> tuple[slice, np.ndarray]:
        repeat, pairs = chunk
        return pairs, runner.pair_accuracies(data_on_backend, plan, repeat, pairs)

    workers = runner.n_workers(n_threads)
    try:
        with runner.threads(n_threads):
            if workers > 1:
                # BLAS stays single-threaded while our own threads run (no oversubscription)
                with threadpool_limits(limits=1, user_api="blas"), \
                        concurrent.futures.ThreadPoolExecutor(workers) as pool:
                    for pairs, acc in pool.map(work, chunks):
                        accuracy[pairs] += acc
                        bar.update(pairs.stop - pairs.start)
            else:
                for chunk in chunks:
                    pairs, acc = work(chunk)
                    accuracy[pairs] += acc
                    bar.update(pairs.stop - pairs.start)
    finally:
        bar.close()
    if runner.unsolved:
        logger.warning("%d of %d SVMs stopped at the interior-point iteration limit; their last "
                       "iterate was used.", runner.unsolved,
                       n_pairs * n_times * settings.n_folds * settings.n_repeats)
    accuracy /= settings.n_repeats
    accuracy = _smooth_time_courses(accuracy, settings.smoothing)
    rdm = np.zeros((n_times, n_images, n_images))
    i, j = plan.pair_images.T
    rdm[:, i, j] = accuracy.T
    rdm[:, j, i] = accuracy.T
    return rdm


def linear_svm(x: Any, y: Any, *, C: float) -> tuple[Any, Any]:
    """Solve a batch of soft-margin linear SVMs with unregularised intercepts.

    Minimises ``0.5 |w|^2 + C * sum_i max(0, 1 - y_i (x_i . w + b))`` for each problem, the problem
    libsvm's ``SVC(kernel='linear')`` solves. Primal-dual interior point (Mehrotra
    predictor-corrector) on the dual, all problems at once; each stops at a relative duality gap
    of 1e-8. The intercept is then set to the midpoint of the interval of ``b`` minimising the
    hinge loss for the found ``w`` (a single point unless the problem is degenerate; then it is
    libsvm's choice too).

    Args:
        x: samples, shape (n_problems, n_samples, n_features), float64 numpy array or torch tensor
            (any device).
        y: labels in {-1, +1}, shape (n_problems, n_samples), same type; every problem needs both.
        C: soft-margin penalty.

    Returns:
        ``(w, b)``: weights (n_problems, n_features) and intercepts (n_problems,), same type as x.

    Raises:
        ValueError: a problem whose labels are not both -1 and +1.
    """
    ops = _ops_for(x)
    n_positive = (y > 0).sum(1)
    if bool(((n_positive == 0) | (n_positive == y.shape[1]) | ((y != 1) & (y != -1)).any(1)).any()):
        raise ValueError("linear_svm needs labels in {-1, +1} with both classes in every problem.")
    w = _interior_point_weights(x, y, float(C), ops)
    return w, _optimal_intercept(x, y, w, ops)


def svm_decisions(train_x: Any, train_y: Any, test_x: Any, *, C: float, tol: float) -> Any:
    """:class:`BatchedClassifier` ``'svm'``: :func:`linear_svm` on the training samples, decision
    values ``x . w + b`` of the held-out ones. ``tol`` is not needed (see DecodingSettings.tol)."""
    w, b = linear_svm(train_x, train_y, C=C)
    return (test_x @ w[:, :, None])[:, :, 0] + b[:, None]


def sklearn_svc_decisions(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray, *,
                          C: float, tol: float) -> np.ndarray:
    """:class:`BatchedClassifier` ``'sklearn-svc'``: one scikit-learn ``SVC(kernel='linear', C,
    tol)`` per problem (the reference the batched solver is checked against; slow)."""
    from sklearn.svm import SVC

    if not isinstance(train_x, np.ndarray):
        raise ValueError("classifier 'sklearn-svc' works on numpy arrays; use backend='numpy'.")
    decisions = np.empty(test_x.shape[:2])
    for k in range(len(train_x)):
        model = SVC(kernel="linear", C=C, tol=tol).fit(train_x[k], train_y[k])
        decisions[k] = model.decision_function(test_x[k])
    return decisions


#: Classifiers selectable by name in :class:`DecodingSettings`.
CLASSIFIERS: dict[str, BatchedClassifier] = {
    "svm": svm_decisions,
    "sklearn-svc": sklearn_svc_decisions,
}


# --------------------------------------------------------------------------------------------
# Engine internals


def choose_backend(backend: str = "auto", device: Any = None) -> tuple[str, Any]:
    """The concrete back end and torch device that ``backend`` selects on this machine.

    The one place where the decoding engine picks its hardware: :func:`decoding_rdm` and
    ``realnet package`` both call it. Without a ``device``, ``'auto'`` and ``'triton'`` use the GPU
    when torch sees one, ``'torch'`` uses the GPU or else the CPU; the CPU back ends take no device.

    Args:
        backend: one of :data:`BACKENDS`.
        device: an explicit torch device, or None to choose as above.

    Returns:
        ``(backend, device)``, e.g. ``('triton', 'cuda')`` on a GPU machine, ``('numba', None)``
        without one.
    """
    if device is None and backend in ("auto", "torch", "triton"):
        try:
            import torch
        except ImportError:
            torch = None
        if torch is not None and torch.cuda.is_available():
            device = "cuda"
        elif backend == "torch":
            device = "cpu"
    return resolve_backend(backend, device), device


def resolve_backend(backend: str, device: Any = None) -> str:
    """The concrete back end that ``backend`` names.

    Args:
        backend: one of :data:`BACKENDS`.
        device: the torch device that will be used, if any. With ``'auto'``, a CUDA device picks
            ``'triton'`` (when triton is installed) or ``'torch'``.

    Returns:
        ``'numba'``, ``'numpy'``, ``'torch'`` or ``'triton'``; ``'auto'`` gives ``'numba'`` when
        numba is installed, else ``'numpy'``, unless ``device`` is a CUDA device.

    Raises:
        ValueError: not one of :data:`BACKENDS`.
        ImportError: ``'numba'`` without numba, or ``'triton'`` without triton installed.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {list(BACKENDS)}.")
    if backend == "auto":
        if device is not None and str(device).startswith("cuda"):
            return "triton" if _triton_kernels() is not None else "torch"
        if device is not None:
            return "torch"
        return "numba" if _numba_kernels() is not None else "numpy"
    if backend == "numba" and _numba_kernels() is None:
        raise ImportError("backend='numba' needs the numba package (pip install numba); "
                          "backend='numpy' runs the same solver without it, more slowly.")
    if backend == "triton" and _triton_kernels() is None:
        raise ImportError("backend='triton' needs the triton package (installed with the CUDA "
                          "builds of torch); backend='torch' runs the same solver without it.")
    return backend


@functools.lru_cache(maxsize=1)
def _numba_kernels() -> Any:
    """The compiled kernels module, or None where numba is not installed."""
    try:
        from realnet_plugins.rsa import _numba_svm
    except ImportError:
        return None
    return _numba_svm


@functools.lru_cache(maxsize=1)
def _triton_kernels() -> Any:
    """The Triton kernel module, or None where torch or triton is not installed."""
    try:
        from realnet_plugins.rsa import _triton_svm
    except ImportError:
        return None
    return _triton_svm


class _Runner:
    """Decodes chunks of pairs with one classifier on one backend."""

    def __init__(self, settings: DecodingSettings, backend: str, device: Any) -> None:
        backend = resolve_backend(backend, device)
        if backend not in ("torch", "triton") and device is not None:
            raise ValueError(f"device={device!r} needs backend='torch' or 'triton'; the {backend} "
                             "backend runs on the CPU.")
        classifier = settings.classifier
        if isinstance(classifier, str):
            if classifier == "sklearn-svc" and backend in ("torch", "triton"):
                raise ValueError("classifier 'sklearn-svc' works on numpy arrays; use a CPU "
                                 "backend ('numba' or 'numpy').")
            classifier = CLASSIFIERS[classifier]
        if backend == "triton":
            if classifier is not svm_decisions:
                raise ValueError("backend='triton' runs the built-in SVM only; use backend='torch' "
                                 "for a custom classifier on the GPU.")
            device = "cuda" if device is None else device
            interpreted = os.environ.get("TRITON_INTERPRET") == "1"
            if not interpreted and not str(device).startswith("cuda"):
                raise ValueError(f"backend='triton' needs a CUDA device; found device={device!r} "
                                 "(TRITON_INTERPRET=1 runs it on the CPU, slowly, for testing).")
            import torch

            if not interpreted and not torch.cuda.is_available():
                raise ValueError("backend='triton' needs a CUDA GPU and torch sees none; use "
                                 "backend='auto' (the CPU kernels) or 'torch'.")
        self.classifier = classifier
        self.settings = settings
        self.backend = backend
        self.ops = _TorchOps(device) if backend in ("torch", "triton") else _NumpyOps
        # numba with the built-in SVM: one fused kernel per chunk, parallel inside
        self.fused = backend == "numba" and classifier is svm_decisions
        self.unsolved = 0
        # SVMs per call: large batches amortise per-call overhead on a GPU; on CPUs ~1000 keep
        # the numpy solver's working arrays in cache; the fused kernel needs only enough work per
        # call to keep every thread busy between progress-bar updates
        self.problems_per_chunk = {"torch": 50000, "numpy": 1000, "triton": 400000}.get(backend, 10000)

    def n_workers(self, n_threads: int | None) -> int:
        """Python worker threads (the fused numba kernel and torch use one)."""
        if self.backend in ("torch", "triton") or self.fused:
            return 1
        return _cpu_threads(n_threads)

    @contextlib.contextmanager
    def threads(self, n_threads: int | None) -> Iterator[None]:
        """Run the fused kernel on ``n_threads`` numba threads (default: every CPU)."""
        if not self.fused:
            yield
            return
        import numba

        previous = numba.get_num_threads()
        numba.set_num_threads(min(_cpu_threads(n_threads), numba.config.NUMBA_NUM_THREADS))
        try:
            yield
        finally:
            numba.set_num_threads(previous)

    def prepare(self, data: np.ndarray) -> Any:
        """The trials on the backend; (n_images, n_times, n_trials, n_channels) for the fused
        kernel, else unchanged."""
        if self.fused:
            return np.ascontiguousarray(data.transpose(0, 3, 1, 2))
        return self.ops.asarray(data)

    def fused_pair_accuracies(self, data: np.ndarray, plan: DecodingPlan, repeat: int,
                              pairs: slice) -> np.ndarray:
        """:meth:`pair_accuracies` with the fused numba kernel."""
        kernels = _numba_kernels()
        accuracy, iterations = kernels.pair_fold_accuracies(
            data, np.ascontiguousarray(plan.pair_images[pairs]),
            np.ascontiguousarray(plan.pseudo_trials[repeat, pairs]),
            np.ascontiguousarray(plan.test_fold[repeat, :, pairs]), plan.n_folds,
            float(self.settings.C))
        self.unsolved += int((iterations >= kernels.MAX_ITER).sum())
        return accuracy

    def fold_samples(self, data: Any, plan: DecodingPlan, repeat: int,
                     pairs: slice) -> tuple[Any, np.ndarray, np.ndarray]:
        """The (pseudo-)trials of a chunk of pairs and their held-out folds.

        Returns:
            ``(samples, folds, bounds)``: samples (P, T, 2m, C) on the backend, the first m of each
            row from the pair's first image; folds (P, T, 2m) int8, the held-out fold of each
            sample; bounds (n_folds + 1,): after a stable sort by fold, fold f holds the positions
            ``bounds[f]:bounds[f + 1]`` of every (pair, time point).
        """
        ops = self.ops
        folds = plan.test_fold[repeat, :, pairs].transpose(1, 0, 2, 3)  # (P, T, 2, m)
        n_pairs, n_times, _, m = folds.shape
        folds = folds.reshape(n_pairs, n_times, 2 * m)
        bounds = np.concatenate([[0], np.cumsum(np.bincount(folds[0, 0], minlength=plan.n_folds))])
        images = ops.asarray(plan.pair_images[pairs])  # (P, 2)
        groups = ops.asarray(np.ascontiguousarray(plan.pseudo_trials[repeat, pairs]))  # (P, 2, m, g)
        # (P, 2, m, g, C, T) -> pseudo-trials (P, 2, m, C, T) -> samples (P, T, 2m, C)
        samples = data[images[:, :, None, None], groups]
        samples = samples[:, :, :, 0] if samples.shape[3] == 1 else samples.mean(3)
        samples = ops.permute(samples, (0, 4, 1, 2, 3)).reshape(n_pairs, n_times, 2 * m, -1)
        return samples, folds, bounds

    def triton_pair_accuracies(self, data: Any, plan: DecodingPlan, repeat: int,
                               pairs: slice) -> np.ndarray:
        """:meth:`pair_accuracies` with the fused Triton kernel (one program per SVM)."""
        kernels = _triton_kernels()
        ops = self.ops
        samples, folds, bounds = self.fold_samples(data, plan, repeat, pairs)
        # positions sorted by fold, on the device
        order = ops.torch.sort(ops.asarray(folds), dim=-1, stable=True).indices.to(ops.torch.int32)
        accuracy, iterations = kernels.pair_fold_accuracies(samples, order, bounds,
                                                            float(self.settings.C))
        self.unsolved += int((iterations >= kernels.MAX_ITER).sum())
        return ops.to_numpy(accuracy.mean(-1))

    def pair_accuracies(self, data: Any, plan: DecodingPlan, repeat: int,
                        pairs: slice) -> np.ndarray:
        """Mean held-out accuracy over folds, shape (n_pairs_in_chunk, n_times).

        ``data`` is the trial array prepared by :meth:`prepare`.
        """
        if self.fused:
            return self.fused_pair_accuracies(data, plan, repeat, pairs)
        if self.backend == "triton":
            return self.triton_pair_accuracies(data, plan, repeat, pairs)
        ops = self.ops
        samples, folds, bounds = self.fold_samples(data, plan, repeat, pairs)
        n_pairs, n_times, two_m = folds.shape
        m = two_m // 2
        # sort every (pair, time) by fold: fold f then holds positions [bounds[f], bounds[f + 1])
        order = ops.asarray(np.argsort(folds, axis=-1, kind="stable"))
        x = ops.take_along(samples, order[..., None], 2)
        y = ops.asarray(np.repeat([-1.0, 1.0], m))[order]
        accuracy = np.zeros((n_pairs, n_times))
        # folds with equal test-set sizes are decoded in one classifier call
        for n_test in np.unique(np.diff(bounds)):
            same_size = [f for f in range(plan.n_folds) if bounds[f + 1] - bounds[f] == n_test]

            def stacked(values: Any, part: str) -> Any:
                blocks = []
                for f in same_size:
                    lo, hi = bounds[f], bounds[f + 1]
                    if part == "test":
                        blocks.append(values[:, :, lo:hi])
                    else:
                        blocks.append(ops.cat([values[:, :, :lo], values[:, :, hi:]], 2))
                stack = ops.stack(blocks)  # (F, P, T, n_part, ...)
                return stack.reshape((-1,) + tuple(stack.shape[3:]))

            test_y = stacked(y, "test")
            decisions = self.classifier(stacked(x, "train"), stacked(y, "train"),
                                        stacked(x, "test"), C=float(self.settings.C),
                                        tol=float(self.settings.tol))
            if tuple(decisions.shape) != tuple(test_y.shape):
                raise ValueError(f"the classifier returned decisions of shape "
                                 f"{tuple(decisions.shape)}; expected {tuple(test_y.shape)} "
                                 "(see BatchedClassifier).")
            correct = ((decisions > 0) == (test_y > 0)) * 1.0
            fold_accuracy = ops.to_numpy(correct.mean(1)).reshape(len(same_size), n_pairs, n_times)
            accuracy += fold_accuracy.sum(axis=0)
        return accuracy / plan.n_folds


def _cpu_threads(n_threads: int | None) -> int:
    return max(1, n_threads if n_threads is not None else (os.cpu_count() or 1))


def _checked_trials(trials: Any) -> np.ndarray:
    data = np.asarray(trials)
    if data.ndim != 4:
        raise DataFormatError(
            f"expected trials shaped (n_images, n_trials, n_channels, n_times); found an array of "
            f"shape {data.shape}. Reshape the EEG data to that order first.")
    if not (np.issubdtype(data.dtype, np.floating) or np.issubdtype(data.dtype, np.integer)):
        raise DataFormatError(f"expected real-valued trials; found dtype {data.dtype}.")
    data = data.astype(np.float64, copy=False)
    finite = np.isfinite(data)
    if not finite.all():
        bad = np.argwhere(~finite)
        first = tuple(int(v) for v in bad[0])
        raise DataFormatError(
            f"trials hold {len(bad)} non-finite values (NaN/inf); the first at (image, trial, "
            f"channel, time) = {first}, value {data[first]}. Remove or interpolate them first.")
    if data.shape[0] < 2:
        raise DataFormatError(f"decoding needs at least 2 images; found {data.shape[0]}.")
    return data


def _pseudo_trials_per_image(n_trials: int, settings: DecodingSettings) -> int:
    n_pseudo_trials = n_trials // settings.n_pseudo
    if n_pseudo_trials < settings.n_folds:
        raise DataFormatError(
            f"{n_trials} trials per image give {n_pseudo_trials} pseudo-trials of "
            f"{settings.n_pseudo}, fewer than n_folds={settings.n_folds}; each fold needs at least "
            f"one held-out sample per image. Use fewer folds or a smaller n_pseudo.")
    return n_pseudo_trials


def _smooth_time_courses(accuracy: np.ndarray, width: int) -> np.ndarray:
    """NeuroRA 1.x moving average along the last axis: mean over [t - w//2, t + w - w//2)."""
    if width <= 1:
        return accuracy
    n_times = accuracy.shape[-1]
    t = np.arange(n_times)
    low = np.clip(t - width // 2, 0, n_times)
    high = np.clip(t + width - width // 2, 0, n_times)
    cumulative = np.concatenate(
        [np.zeros(accuracy.shape[:-1] + (1,)), np.cumsum(accuracy, axis=-1)], axis=-1)
    return (cumulative[..., high] - cumulative[..., low]) / (high - low)


# --------------------------------------------------------------------------------------------
# Batched linear SVM


#: (precision, relative duality gap, relative residual of y'a = 0, iteration limit) per phase
_PHASES = (("single", 1e-4, 1e-4, 25), ("double", 1e-8, 1e-8, 40))
_MU_FLOOR = 1e-14  # relative complementarity at which float64 Newton systems stop informing
_STEP_FRACTION = 0.995  # fraction of the step to the boundary of the feasible region
_START_DUAL = 0.1  # starting point: a <= 0.1 C (see _interior_point_phase)


class _NumpyOps:
    """Array operations of the numpy backend (the torch backend mirrors them)."""

    single, double = np.float32, np.float64

    @staticmethod
    def asarray(x: np.ndarray) -> np.ndarray:
        return x

    @staticmethod
    def to_numpy(x: np.ndarray) -> np.ndarray:
        return x

    @staticmethod
    def permute(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        return x.transpose(axes)

    @staticmethod
    def take_along(x: np.ndarray, index: np.ndarray, axis: int) -> np.ndarray:
        return np.take_along_axis(x, index, axis=axis)

    @staticmethod
    def cat(arrays: list[np.ndarray], axis: int) -> np.ndarray:
        return np.concatenate(arrays, axis=axis)

    stack = staticmethod(np.stack)

    @staticmethod
    def cast(x: np.ndarray, dtype: Any) -> np.ndarray:
        return x.astype(dtype, copy=False)

    @staticmethod
    def zeros(shape: tuple[int, ...], like: np.ndarray) -> np.ndarray:
        return np.zeros(shape, dtype=like.dtype)

    @staticmethod
    def full(shape: tuple[int, ...], value: float, like: np.ndarray) -> np.ndarray:
        return np.full(shape, value, dtype=like.dtype)

    @staticmethod
    def transpose(x: np.ndarray) -> np.ndarray:
        return x.transpose(0, 2, 1)

    @staticmethod
    def amax(x: np.ndarray, axis: int) -> np.ndarray:
        return x.max(axis=axis)

    @staticmethod
    def clamp_min(x: np.ndarray, value: float) -> np.ndarray:
        return np.maximum(x, value)

    maximum = staticmethod(np.maximum)
    where = staticmethod(np.where)

    @staticmethod
    def flatnonzero(mask: np.ndarray) -> np.ndarray:
        return np.flatnonzero(mask)

    @staticmethod
    def factor(k: np.ndarray) -> np.ndarray:
        """Inverse Cholesky factor M = L^-1 of each SPD matrix, in float64; k (B, p, p)."""
        k64 = k.astype(np.float64)
        try:
            low = np.linalg.cholesky(k64)
        except np.linalg.LinAlgError:
            low = np.linalg.cholesky(_with_jitter(k64, 10 * np.finfo(k.dtype).eps))
        p = low.shape[-1]
        inverse = np.zeros_like(low)
        for j in range(p):
            row = -(low[:, j:j + 1, :j] @ inverse[:, :j, :])[:, 0]
            row[:, j] += 1.0
            inverse[:, j] = row / low[:, j, j:j + 1]
        return inverse

    @staticmethod
    def solve(factor: np.ndarray, rhs: np.ndarray) -> np.ndarray:
        """Solve ``K x = rhs`` given ``factor(K)``; rhs (B, p)."""
        half = factor @ rhs.astype(np.float64)[:, :, None]
        return (factor.transpose(0, 2, 1) @ half)[:, :, 0].astype(rhs.dtype, copy=False)

    @staticmethod
    def sort(x: np.ndarray) -> np.ndarray:
        return np.sort(x, axis=1)

    @staticmethod
    def arange(n: int, like: np.ndarray) -> np.ndarray:
        return np.arange(n)


class _TorchOps:
    """Array operations of the torch backend on ``device`` (default: the CPU)."""

    def __init__(self, device: Any = None) -> None:
        import torch

        self.torch = torch
        self.device = torch.device(device if device is not None else "cpu")
        self.single, self.double = torch.float32, torch.float64

    def asarray(self, x: np.ndarray) -> Any:
        return self.torch.from_numpy(np.ascontiguousarray(x)).to(self.device)

    @staticmethod
    def to_numpy(x: Any) -> np.ndarray:
        return x.detach().cpu().numpy()

    @staticmethod
    def permute(x: Any, axes: tuple[int, ...]) -> Any:
        return x.permute(axes)

    def take_along(self, x: Any, index: Any, axis: int) -> Any:
        return self.torch.take_along_dim(x, index, dim=axis)

    def cat(self, arrays: list[Any], axis: int) -> Any:
        return self.torch.cat(arrays, dim=axis)

    def stack(self, arrays: list[Any]) -> Any:
        return self.torch.stack(arrays)

    @staticmethod
    def cast(x: Any, dtype: Any) -> Any:
        return x.to(dtype)

    def zeros(self, shape: tuple[int, ...], like: Any) -> Any:
        return self.torch.zeros(shape, dtype=like.dtype, device=like.device)

    def full(self, shape: tuple[int, ...], value: float, like: Any) -> Any:
        return self.torch.full(shape, value, dtype=like.dtype, device=like.device)

    @staticmethod
    def transpose(x: Any) -> Any:
        return x.transpose(1, 2)

    @staticmethod
    def amax(x: Any, axis: int) -> Any:
        return x.amax(dim=axis)

    @staticmethod
    def clamp_min(x: Any, value: float) -> Any:
        return x.clamp(min=value)

    def maximum(self, a: Any, b: Any) -> Any:
        return self.torch.maximum(a, b)

    def where(self, condition: Any, a: Any, b: Any) -> Any:
        return self.torch.where(condition, a, b)

    def flatnonzero(self, mask: Any) -> Any:
        return self.torch.nonzero(mask).flatten()

    def factor(self, k: Any) -> Any:
        """Cholesky factor of each SPD matrix, in float64; k (B, p, p)."""
        k64 = k.to(self.double)
        low, info = self.torch.linalg.cholesky_ex(k64)
        if bool((info != 0).any()):
            low = self.torch.linalg.cholesky(_with_jitter(k64, 10 * self.torch.finfo(k.dtype).eps))
        return low

    def solve(self, factor: Any, rhs: Any) -> Any:
        """Solve ``K x = rhs`` given ``factor(K)``; rhs (B, p)."""
        solution = self.torch.cholesky_solve(rhs.to(self.double)[:, :, None], factor)
        return solution[:, :, 0].to(rhs.dtype)

    def sort(self, x: Any) -> Any:
        return self.torch.sort(x, dim=1).values

    def arange(self, n: int, like: Any) -> Any:
        return self.torch.arange(n, device=like.device)


def _ops_for(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return _NumpyOps
    return _TorchOps(x.device)


def _with_jitter(k: Any, relative: float) -> Any:
    """Add ``relative`` times the largest diagonal entry to the diagonal (rescues rounding-level
    indefiniteness of ill-conditioned late interior-point systems)."""
    index = list(range(k.shape[-1]))
    k = k.clone() if not isinstance(k, np.ndarray) else k.copy()
    diagonal = k[:, index, index]
    scale = diagonal.max(1) if isinstance(k, np.ndarray) else diagonal.amax(1)
    k[:, index, index] = diagonal + (relative * scale + 1e-30)[:, None]
    return k


def _interior_point_weights(x: Any, y: Any, c: float, ops: Any) -> Any:
    """Weights of the batched soft-margin SVMs (see :func:`linear_svm`).

    Dual: min 0.5 a'Qa - sum(a) s.t. y'a = 0, 0 <= a <= C, with Q = Z Z', Z = diag(y) X. With the
    multipliers s >= 0 (of a >= 0), xi >= 0 (of a <= C; the primal slacks) and b (of y'a = 0),
    each Newton system reduces to a (n_features + 1)-square system in theta = (w, b):
    (E + Zh' D Zh) dtheta = rhs, with Zh = [Z, y], D = 1 / (s/a + xi/u), u = C - a and
    E = diag(1, ..., 1, 0).
    A float32 phase brings every problem to a relative duality gap of 1e-4, a float64 phase
    finishes at 1e-8.
    """
    state = None
    for precision, gap_tol, feasibility_tol, max_iter in _PHASES:
        dtype = getattr(ops, precision)
        state, unsolved = _interior_point_phase(ops.cast(x, dtype), ops.cast(y, dtype), c, ops,
                                                state, gap_tol, feasibility_tol, max_iter)
    if unsolved:
        logger.warning("%d of %d SVMs did not reach a relative duality gap of %g in %d "
                       "interior-point iterations; their last iterate is used.",
                       unsolved, x.shape[0], _PHASES[-1][1], _PHASES[-1][3])
    return state[-1][:, :-1]


def _interior_point_phase(x: Any, y: Any, c: float, ops: Any, state: Any, gap_tol: float,
                          feasibility_tol: float, max_iter: int) -> Any:
    """Iterate until each problem's duality gap P(w, b) - D(a) is below ``gap_tol`` (1 + |D|) and
    |y'a| below ``feasibility_tol`` (1 + C n), or its Newton systems break down, or ``max_iter``.

    Returns:
        ``([a, u, s, xi, theta], n_unsolved)``: the final iterate of every problem (theta = (w, b),
        shape (B, d + 1)) and how many problems stopped only at ``max_iter``.
    """
    n_problems, n, d = x.shape
    p = d + 1
    zh = ops.zeros((n_problems, n, p), like=x)
    zh[:, :, :d] = x * y[:, :, None]
    zh[:, :, d] = y
    e_top = ops.zeros((p, p), like=x)
    e_top[list(range(d)), list(range(d))] = 1.0
    if state is None:
        # all a equal, small enough that every starting margin is within [-1, 1] whatever the
        # data scale; slacks s, xi = margin violations + 1 (so the dual residual starts at 0)
        ones = ops.full((n_problems, n), 1.0, like=x)
        theta = (ones[:, None, :] @ zh)[:, 0]
        theta[:, d] = 0.0
        unit_margins = (zh @ theta[:, :, None])[:, :, 0]
        start = 1.0 / ops.clamp_min(ops.amax(abs(unit_margins), 1), 1.0 / (_START_DUAL * c))
        a = start[:, None] * ones
        u = c - a
        b = ops.zeros((n_problems,), like=x)
        margins = start[:, None] * unit_margins
        s = ops.clamp_min(margins - 1.0, 0.0) + 1.0
        xi = ops.clamp_min(1.0 - margins, 0.0) + 1.0
    else:
        a, u, s, xi, theta = (ops.cast(v, x.dtype) for v in state)
        b = theta[:, d] * 1.0
        smaller_a = a < u  # keep the smaller of a, C - a at full relative precision
        a = ops.where(smaller_a, a, c - u)
        u = ops.where(smaller_a, c - a, u)
    out = [v * 1.0 for v in (a, u, s, xi)] + [ops.zeros((n_problems, p), like=x)]
    rows_left = None  # batch indices of the problems still iterating; None = all of them
    complementarity_floor = gap_tol if x.dtype == ops.single else _MU_FLOOR
    unsolved = 0
    previous = None
    previous_feasibility = previous_gap = None
    stalled = ops.zeros((n_problems,), like=x) > 0.0
    for iteration in range(max_iter):
        theta = (a[:, None, :] @ zh)[:, 0]  # (w, y'a)
        r_eq = theta[:, d] * 1.0
        theta[:, d] = b
        margins = (zh @ theta[:, :, None])[:, :, 0]
        gap = (s * a).sum(1) + (xi * u).sum(1)
        r_dual = margins - 1.0 - s + xi
        feasibility = ops.amax(abs(r_dual), 1) / (1.0 + ops.amax(abs(margins), 1))
        w_squared = (theta[:, :d] * theta[:, :d]).sum(1)
        dual_objective = a.sum(1) - 0.5 * w_squared
        duality_gap = w_squared + c * ops.clamp_min(1.0 - margins, 0.0).sum(1) - a.sum(1)
        scale = 1.0 + abs(dual_objective)
        # done: duality gap reached; or complementarity so small that this precision's Newton
        # systems cannot improve the iterate further (the next phase takes over); or NaN
        converged = ((duality_gap <= gap_tol * scale)
                     & (abs(r_eq) <= feasibility_tol * (1.0 + c * n)))
        solved = converged | (gap <= complementarity_floor * scale) | ~(gap == gap)
        current = (a, u, s, xi, theta)
        if previous is not None:
            # an infeasible interior-point step shrinks the residual by (1 - step): growth means
            # the Newton systems have become too ill-conditioned; keep the previous iterate
            broke = (feasibility > 1e-6) & (feasibility > 1e3 * previous_feasibility)
            if bool(broke.any()):
                current = tuple(ops.where(broke[:, None], old, new)
                                for old, new in zip(previous, current))
                solved = solved | broke
        if iteration == max_iter - 1:
            unsolved = int((~solved).sum())
            solved[:] = True
        if bool(solved.any()):
            done = ops.flatnonzero(solved)
            target = done if rows_left is None else rows_left[done]
            for full, value in zip(out, current):
                full[target] = value[done]
            if len(done) == len(solved):
                break
            keep = ops.flatnonzero(~solved)
            rows_left = keep if rows_left is None else rows_left[keep]
            zh, a, u, b, s, xi, margins, r_dual, r_eq, gap, feasibility = (
                v[keep] for v in (zh, a, u, b, s, xi, margins, r_dual, r_eq, gap, feasibility))
            stalled = stalled[keep]
            if previous_gap is not None:
                previous_gap = previous_gap[keep]
            theta = theta[keep]
        # in the float64 phase Mehrotra's corrector can stall (the gap stops shrinking): such
        # problems take plain centred steps (sigma = 0.3, no second-order term) from then on
        if previous_gap is not None and x.dtype == ops.double:
            stalled = stalled | (gap > 0.9 * previous_gap)
        previous = (a, u, s, xi, theta)
        previous_feasibility, previous_gap = feasibility, gap
        mu = gap / (2 * n)
        inv_a = 1.0 / a
        inv_u = 1.0 / u
        s_over_a = s * inv_a
        xi_over_u = xi * inv_u
        dd = 1.0 / (s_over_a + xi_over_u)
        factor = ops.factor(ops.transpose(zh * dd[:, :, None]) @ zh + e_top)

        def newton(v: Any) -> tuple[Any, Any]:
            rhs = ((dd * v)[:, None, :] @ zh)[:, 0]
            rhs[:, d] += r_eq
            step_theta = ops.solve(factor, rhs)
            return dd * (v - (zh @ step_theta[:, :, None])[:, :, 0]), step_theta[:, d]

        def step_to_boundary(worst: Any) -> Any:
            # largest step <= 1 keeping a, u, s, xi > 0; worst = max over -d(v)/v
            return 1.0 / ops.clamp_min(ops.amax(worst, 1), 1.0)

        # predictor (affine-scaling) direction; here -ds/s = 1 + da/a and -dxi/xi = 1 - da/u
        da, _ = newton(xi - s - r_dual)
        da_over_a = da * inv_a
        da_over_u = da * inv_u
        ds = -s - s * da_over_a
        dxi = xi * da_over_u - xi
        step = step_to_boundary(ops.maximum(ops.maximum(-da_over_a, 1.0 + da_over_a),
                                            ops.maximum(da_over_u, 1.0 - da_over_u)))
        mu_affine = ((1.0 - step) * gap + step * step * (da * (ds - dxi)).sum(1)) / (2 * n)
        sigma_mu = ops.where(stalled, 0.3 * mu, (mu_affine / mu) ** 3 * mu)[:, None]
        # (cast, not `* 1.0`: a bool array times a Python float is float64 in numpy, which turned
        # the whole float32 phase into float64 after its first iteration)
        second_order = ops.cast(~stalled, x.dtype)[:, None] * da
        # corrector direction
        r_a = s * a + second_order * ds - sigma_mu
        r_u = xi * u - second_order * dxi - sigma_mu
        da, db = newton(r_u * inv_u - r_a * inv_a - r_dual)
        ds = -(r_a + s * da) * inv_a
        dxi = (xi * da - r_u) * inv_u
        step = _STEP_FRACTION * step_to_boundary(ops.maximum(
            ops.maximum(-da * inv_a, da * inv_u), ops.maximum(-ds / s, -dxi / xi)))
        a = a + step[:, None] * da
        u = u - step[:, None] * da
        b = b + step * db
        s = s + step[:, None] * ds
        xi = xi + step[:, None] * dxi
    return out, unsolved


def _optimal_intercept(x: Any, y: Any, w: Any, ops: Any) -> Any:
    """Midpoint of the interval of b minimising sum_i max(0, 1 - y_i (x_i . w + b)).

    Each sample has the breakpoint b_i = y_i - x_i . w; the hinge sum's slope is -n_pos plus the
    number of breakpoints below b, so the minimisers are the b between the n_pos-th and the
    (n_pos + 1)-th smallest breakpoints.
    """
    breakpoints = y - (x @ w[:, :, None])[:, :, 0]
    n_positive = (y > 0).sum(1)
    ordered = ops.sort(breakpoints)
    rows = ops.arange(len(breakpoints), like=n_positive)
    return 0.5 * (ordered[rows, n_positive - 1] + ordered[rows, n_positive])
