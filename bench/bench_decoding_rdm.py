"""Benchmark the decoding-RDM engine against scikit-learn on a full-size synthetic subject.

Builds a seeded synthetic subject shaped like THINGS-EEG2 test data (200 images x 80 trials x 17
channels x 20 time points; pairs range from indistinguishable to easy), times
``decoding_rdm`` on the whole subject, times scikit-learn ``SVC(kernel='linear')`` (and
``LinearSVC``) on a random sample of pairs with the same folds, extrapolates them to all pairs, and
prints the agreement between the engine and ``SVC``.

    python bench/bench_decoding_rdm.py [--pairs-sample 60] [--backend auto|numba|numpy|torch|triton]
        [--device cuda] [--threads N] [--compare-backend numpy [--compare-images 40]]
        [--subjects 10 [--max-seconds 120]] [--triton-warps 4 8]

``--subjects N`` times N synthetic subjects (seeds seed, seed + 1, ...) back to back, as long as the
projected total stays under ``--max-seconds``, and reports the total (the ten-subject goal).
``--triton-warps W [W ...]`` first times the Triton kernel with each number of warps per program on
the first 60 images, compares each with the batched torch back end on the same device, and runs
the rest with the fastest that agrees.

The engine is first run on a tiny problem (numba: compiling the kernels or loading them from its
cache; torch: CUDA start-up), reported separately, then timed on the whole subject.
"""
from __future__ import annotations

import argparse
import logging
import pathlib
import sys
import time
import warnings

import numpy as np
from scipy.stats import spearmanr

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from realnet_plugins.rsa import (  # noqa: E402
    BACKENDS,
    DecodingSettings,
    decoding_plan,
    decoding_rdm,
    resolve_backend,
)


def synthetic_subject(seed: int = 0, n_images: int = 200, n_trials: int = 80, n_channels: int = 17,
                      n_times: int = 20, signal: float = 1.0) -> np.ndarray:
    """Trials (n_images, n_trials, n_channels, n_times): unit noise plus an image-specific pattern
    whose strength varies by image and follows an evoked time course peaking at 100 ms, scaled by
    ``signal`` (0: pure noise, every pair indistinguishable)."""
    rng = np.random.default_rng(seed)
    times = np.arange(n_times)
    envelope = np.exp(-0.5 * ((times - 10) / 4.0) ** 2)
    pattern = rng.standard_normal((n_images, n_channels, 1)) + 0.5 * rng.standard_normal(
        (n_images, n_channels, n_times))
    strength = rng.uniform(0.0, 0.9, size=(n_images, 1, 1)) ** 2
    evoked = signal * strength * pattern * envelope
    return evoked[:, None] + rng.standard_normal((n_images, n_trials, n_channels, n_times))


def reference_accuracies(trials: np.ndarray, settings: DecodingSettings, pairs: np.ndarray,
                         estimator: str) -> tuple[np.ndarray, float]:
    """Per-pair accuracies (len(pairs), n_times) with scikit-learn on the engine's folds, and the
    seconds it took."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import SVC, LinearSVC

    n_images, n_trials, _, n_times = trials.shape
    plan = decoding_plan(n_images, n_trials, n_times, settings)
    accuracy = np.zeros((len(pairs), n_times))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for row, pair in enumerate(pairs):
            i, j = plan.pair_images[pair]
            x = np.concatenate([trials[i], trials[j]])  # single trials: (2 * n_trials, C, T)
            y = np.repeat([0, 1], n_trials)
            for t in range(n_times):
                folds = plan.test_fold[0, t, pair].reshape(-1)
                for fold in range(settings.n_folds):
                    test = folds == fold
                    if estimator == "svc":
                        model = SVC(kernel="linear", C=settings.C, tol=settings.tol)
                    else:
                        model = LinearSVC(C=settings.C, dual=True)
                    model.fit(x[~test, :, t], y[~test])
                    accuracy[row, t] += model.score(x[test, :, t], y[test]) / settings.n_folds
    return accuracy, time.perf_counter() - start


class _UnsolvedCounter(logging.Handler):
    """Counts the SVMs that the engine reports as stopped at the iteration limit."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "iteration limit" in message:
            self.count += int(message.split(" of ")[0])


def _choose_triton_warps(subset: np.ndarray, options: dict, warps_options: list[int]) -> None:
    """Time the Triton kernel with each number of warps per program on ``subset``, compare its RDM
    with the batched torch back end's on the same device, and make the fastest that agrees the
    module default."""
    from realnet_plugins.rsa import _triton_svm

    counter = _UnsolvedCounter()
    logging.getLogger("realnet_plugins.rsa.decoding").addHandler(counter)
    torch_options = dict(options, backend="torch")
    decoding_rdm(subset[:3, :, :, :2], progress=False, **torch_options)
    start = time.perf_counter()
    reference = decoding_rdm(subset, progress=False, **torch_options)
    print(f"torch back end on {len(subset)} images: {time.perf_counter() - start:.2f} s "
          f"(reference for the kernel runs)", flush=True)
    rows, cols = np.triu_indices(len(subset), 1)
    one_sample = 1.0 / (2 * subset.shape[1])
    timings, agreeing = {}, {}
    for variant in warps_options:
        _triton_svm.NUM_WARPS = variant
        try:
            start = time.perf_counter()
            decoding_rdm(subset[:3, :, :, :2], progress=False, **options)
            compile_seconds = time.perf_counter() - start
            counter.count = 0
            start = time.perf_counter()
            rdm = decoding_rdm(subset, progress=False, **options)
            timings[variant] = time.perf_counter() - start
        except Exception as error:  # a variant that does not compile on this GPU is skipped
            print(f"triton, {variant} warps: failed ({type(error).__name__}: {error})"[:600], flush=True)
            continue
        difference = np.abs(rdm - reference)[:, rows, cols]
        agreeing[variant] = float(np.mean(difference <= one_sample + 1e-9))
        print(f"triton, {variant} warps: {timings[variant]:.2f} s on {len(subset)} images "
              f"(compile {compile_seconds:.1f} s); {counter.count} SVMs at the iteration limit; vs "
              f"torch: {np.mean(difference < 1e-9):.4f} of RDM entries equal, {agreeing[variant]:.4f} "
              f"within one sample, largest difference {difference.max():.3g}", flush=True)
    logging.getLogger("realnet_plugins.rsa.decoding").removeHandler(counter)
    if timings:
        good = [v for v in timings if agreeing[v] >= 0.999] or list(timings)
        best = min(good, key=timings.get)
        _triton_svm.NUM_WARPS = best
        print(f"using {best} warps per program", flush=True)


def _time_subjects(args: argparse.Namespace, options: dict, first_seconds: float) -> None:
    """Time further synthetic subjects back to back while the projected total fits."""
    total, done = first_seconds, 1
    while done < args.subjects and total / done * (done + 1) <= args.max_seconds:
        trials = synthetic_subject(args.seed + done, signal=args.signal)
        start = time.perf_counter()
        decoding_rdm(trials, progress=False, **options)
        total += time.perf_counter() - start
        done += 1
    print(f"{done} subjects back to back: {total:.1f} s ({total / done:.2f} s per subject); "
          f"projected for {args.subjects}: {total / done * args.subjects:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs-sample", type=int, default=60,
                        help="pairs decoded with scikit-learn (default 60)")
    parser.add_argument("--backend", default="auto", choices=BACKENDS)
    parser.add_argument("--compare-backend", choices=BACKENDS, default=None,
                        help="also time this back end against the engine's on the first --compare-images images")
    parser.add_argument("--compare-images", type=int, default=40,
                        help="images of the back-end comparison (default 40 = 780 pairs)")
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads of the engine (default: every CPU)")
    parser.add_argument("--device", default=None, help="torch device (backend torch)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--signal", type=float, default=1.0,
                        help="scale of the image-specific pattern (default 1: mean accuracy ~0.65; 0: pure noise)")
    parser.add_argument("--subjects", type=int, default=1,
                        help="synthetic subjects timed back to back (default 1)")
    parser.add_argument("--max-seconds", type=float, default=600.0,
                        help="stop adding subjects when the projected total passes this (default 600)")
    parser.add_argument("--triton-warps", nargs="+", type=int, default=[], metavar="W",
                        help="warps per program to try on 60 images first (backend triton)")
    args = parser.parse_args()

    trials = synthetic_subject(args.seed, signal=args.signal)
    n_images, n_trials, n_channels, n_times = trials.shape
    settings = DecodingSettings.paper(seed=args.seed)
    n_pairs = n_images * (n_images - 1) // 2
    print(f"synthetic subject {trials.shape}: {n_pairs} pairs x {n_times} times x "
          f"{settings.n_folds} folds = {n_pairs * n_times * settings.n_folds} SVMs")

    backend = resolve_backend(args.backend, args.device)
    options = dict(settings=settings, backend=backend, device=args.device, n_threads=args.threads)
    if backend == "triton" and args.triton_warps:
        _choose_triton_warps(trials[:60], options, args.triton_warps)
    start = time.perf_counter()
    decoding_rdm(trials[:3, :, :, :2], progress=False, **options)
    print(f"warm-up on 3 images x 2 times (kernel compile / cache load): "
          f"{time.perf_counter() - start:.1f} s", flush=True)
    start = time.perf_counter()
    decoding_plan(n_images, n_trials, n_times, settings)
    print(f"decoding plan alone (folds drawn on the CPU; part of every engine run): "
          f"{time.perf_counter() - start:.2f} s", flush=True)
    start = time.perf_counter()
    rdm = decoding_rdm(trials, **options)
    engine_seconds = time.perf_counter() - start
    print(f"engine ({backend}{'' if args.device is None else ' ' + args.device}): "
          f"{engine_seconds:.1f} s for the whole subject "
          f"({engine_seconds / (n_pairs * n_times * settings.n_folds) * 1e6:.1f} us per SVM)",
          flush=True)
    if args.subjects > 1:
        _time_subjects(args, options, engine_seconds)

    rng = np.random.default_rng(args.seed + 1)
    sample = np.sort(rng.choice(n_pairs, size=min(args.pairs_sample, n_pairs), replace=False))
    svc_accuracy, svc_seconds = reference_accuracies(trials, settings, sample, "svc")
    svc_total = svc_seconds / len(sample) * n_pairs
    print(f"sklearn SVC(kernel='linear'): {svc_seconds:.1f} s for {len(sample)} pairs = "
          f"{svc_seconds / len(sample):.3f} s per pair -> {svc_total:.0f} s "
          f"({svc_total / 3600:.2f} h) for all pairs; engine speed-up "
          f"{svc_total / engine_seconds:.0f}x")
    n_linear = max(1, len(sample) // 3)
    _, linear_seconds = reference_accuracies(trials, settings, sample[:n_linear], "linearsvc")
    linear_total = linear_seconds / n_linear * n_pairs
    print(f"sklearn LinearSVC: {linear_seconds / n_linear:.3f} s per pair -> {linear_total:.0f} s "
          f"for all pairs; engine speed-up {linear_total / engine_seconds:.0f}x")

    if args.compare_backend:
        subset = trials[:args.compare_images]
        other = resolve_backend(args.compare_backend)
        timings = {}
        for name in (backend, other):
            device = args.device if name in ("torch", "triton") else None
            decoding_rdm(trials[:3, :, :, :2], settings=settings, backend=name, device=device,
                         progress=False)
            start = time.perf_counter()
            timings[name] = (decoding_rdm(subset, settings=settings, backend=name, device=device,
                                          progress=False),
                             time.perf_counter() - start)
        same = np.abs(timings[backend][0] - timings[other][0]).max()
        print(f"back ends on {len(subset)} images: {backend} {timings[backend][1]:.1f} s, {other} "
              f"{timings[other][1]:.1f} s = {timings[other][1] / timings[backend][1]:.1f}x; largest RDM "
              f"difference {same:.2g}")

    rows, cols = np.triu_indices(n_images, 1)
    engine_accuracy = rdm[:, rows[sample], cols[sample]].T  # (n_sample, n_times)
    one_sample = 1.0 / (2 * n_trials)
    difference = np.abs(engine_accuracy - svc_accuracy)
    within_one = np.mean(difference <= one_sample + 1e-9)
    per_time = [spearmanr(engine_accuracy[:, t], svc_accuracy[:, t])[0] for t in range(n_times)]
    overall = spearmanr(engine_accuracy.ravel(), svc_accuracy.ravel())[0]
    print(f"agreement with SVC on {len(sample)} pairs x {n_times} times: "
          f"{within_one:.4f} of (pair, time) accuracies within one held-out sample "
          f"(max difference {difference.max() / one_sample:.0f} samples); exactly equal "
          f"{np.mean(difference < 1e-9):.4f}")
    print(f"Spearman(engine, SVC) over the sampled RDM entries: all {overall:.4f}; per time point "
          f"min {np.nanmin(per_time):.4f}, median {np.nanmedian(per_time):.4f}")
    print(f"mean accuracy: engine {engine_accuracy.mean():.4f}, SVC {svc_accuracy.mean():.4f}")


if __name__ == "__main__":
    main()
